"""The language server never fails on a policy text: every handler, every position.

A property test drives the server's handlers directly (no client process: one Hypothesis
example is one text) with the texts the rest of the suite fuzzes with: the hostile policies of
`test_fuzz_inputs.py` (lone surrogates, 5,000-digit numbers, deep parentheses, NULs, a
truncated file, a 200,000-character line), whole policies generated from `csdsl.testing`'s AST
strategy, and the bundled policies cut at any point (a file as it is being typed).  For each
text it checks the document, then asks for hover, definition, references, completion, code
actions and lenses at positions spread over the text, and for the outline, folding ranges and
formatting; a handler that raised would log at ERROR (`guarded`), so the test asserts that
nothing was logged and that each answer has the protocol's type.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

pytest.importorskip("pygls", reason="the lsp extra (pygls) is not installed")

from lsprotocol import types
from test_fuzz_inputs import _HOSTILE_POLICY_EDITS, SEED_TEXT

from csdsl import testing
from csdsl.lsp.server import CsdslServer
from csdsl.syntax.format import format_module

ROOT = Path(__file__).resolve().parents[1]
BUNDLED = [
    (ROOT / "policies" / name).read_text(encoding="utf-8")
    for name in ("complaint_validity.csp", "complaint_handling.csp", "hotline.csp")
]
FUZZ = settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _hostile() -> st.SearchStrategy[str]:
    def apply(edits: list[int]) -> str:
        text = SEED_TEXT
        for i in edits:
            text = _HOSTILE_POLICY_EDITS[i](text)
        return text

    picks = st.lists(st.integers(0, len(_HOSTILE_POLICY_EDITS) - 1), min_size=1, max_size=3)
    return picks.map(apply)


def _generated() -> st.SearchStrategy[str]:
    return testing.modules().map(format_module)


def _typed() -> st.SearchStrategy[str]:
    return st.tuples(st.sampled_from(BUNDLED), st.floats(0, 1)).map(
        lambda p: p[0][: int(len(p[0]) * p[1])]
    )


def _positions(text: str, n: int = 12) -> list[types.Position]:
    lines = text.split("\n")
    out = [types.Position(0, 0), types.Position(len(lines), 0), types.Position(0, 10_000)]
    step = max(1, len(text) // n)
    for i in range(0, len(text), step):
        line = text.count("\n", 0, i)
        start = text.rfind("\n", 0, i) + 1
        out.append(
            types.Position(line, len(text[start:i].encode("utf-16-le", "surrogatepass")) // 2)
        )
    return out[: n + 3]


@pytest.fixture
def server(tmp_path: Path) -> CsdslServer:
    s = CsdslServer(debounce=0)
    published: list[types.PublishDiagnosticsParams] = []
    s.ls.text_document_publish_diagnostics = published.append  # type: ignore[method-assign]
    return s


@FUZZ
@given(text=st.one_of(_hostile(), _generated(), _typed()))
def test_no_handler_fails_on_any_text(
    server: CsdslServer, tmp_path: Path, caplog: pytest.LogCaptureFixture, text: str
) -> None:
    caplog.set_level(logging.ERROR, logger="csdsl.lsp")
    caplog.clear()
    path = tmp_path / "fuzzed.csp"
    uri = path.as_uri()
    doc = types.TextDocumentIdentifier(uri=uri)
    server.session.set_text(str(path.resolve()), text)
    server.check(str(path.resolve()))
    assert str(path.resolve()) in server.session.builds
    for pos in _positions(text):
        hover = server.on_hover(types.HoverParams(text_document=doc, position=pos))
        assert hover is None or isinstance(hover, types.Hover)
        found = server.definition(types.DefinitionParams(text_document=doc, position=pos))
        assert found is None or isinstance(found, types.Location)
        refs = server.references(
            types.ReferenceParams(
                text_document=doc,
                position=pos,
                context=types.ReferenceContext(include_declaration=True),
            )
        )
        assert isinstance(refs, list)
        items = server.completion(types.CompletionParams(text_document=doc, position=pos))
        assert isinstance(items, list)
        acts = server.code_action(
            types.CodeActionParams(
                text_document=doc,
                range=types.Range(pos, pos),
                context=types.CodeActionContext(diagnostics=[]),
            )
        )
        assert isinstance(acts, list)
    assert isinstance(server.document_symbols(types.DocumentSymbolParams(text_document=doc)), list)
    assert isinstance(server.folding(types.FoldingRangeParams(text_document=doc)), list)
    assert isinstance(server.code_lens(types.CodeLensParams(text_document=doc)), list)
    edits = server.formatting(
        types.DocumentFormattingParams(
            text_document=doc, options=types.FormattingOptions(tab_size=2, insert_spaces=True)
        )
    )
    assert isinstance(edits, list)
    failures = [r for r in caplog.records if r.name.startswith("csdsl.lsp")]
    assert not failures, failures[0].getMessage() + "\n" + (failures[0].exc_text or "")


def test_edits_in_quick_succession_are_checked_once(tmp_path: Path) -> None:
    """The debounce: three edits within the pause compile the document once, with the last
    text, and publish its diagnostics."""
    server = CsdslServer(debounce=0.1)
    published: list[types.PublishDiagnosticsParams] = []
    server.ls.text_document_publish_diagnostics = published.append  # type: ignore[method-assign]
    compiled: list[str] = []
    real = server.session.compile

    def counting(path: str) -> object:
        compiled.append(server.session.texts[path])
        return real(path)

    server.session.compile = counting  # type: ignore[assignment,method-assign]
    uri = (tmp_path / "typed.csp").as_uri()
    texts = [BUNDLED[0].replace(": agent_rude\n", f": agent_rud{'e' * i}\n", 1) for i in (0, 2, 1)]

    async def type_three() -> None:
        for text in texts:
            server.changed(uri, text, server.debounce)
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.5)

    asyncio.run(type_three())
    assert compiled == [texts[-1]]
    assert published and not published[-1].diagnostics


def test_answers_about_positions_come_from_the_text_as_it_stands(
    server: CsdslServer, tmp_path: Path
) -> None:
    """A hover right after an edit (before the debounced check) reads the edited text; while
    the text does not parse, there is no answer rather than one from an older text."""
    path = tmp_path / "moving.csp"
    uri = path.as_uri()
    key = str(path.resolve())
    text = BUNDLED[0]
    server.session.set_text(key, text)
    server.check(key)
    target = text.index("data_lost and loss_amount")
    line = text.count("\n", 0, target)
    pos = types.Position(line, target - text.rfind("\n", 0, target) - 1)
    doc = types.TextDocumentIdentifier(uri=uri)
    before = server.on_hover(types.HoverParams(text_document=doc, position=pos))
    assert before is not None and "data_lost" in str(before.contents)
    server.session.set_text(key, "# a new first line\n" + text)  # no check has run since
    moved = server.on_hover(types.HoverParams(text_document=doc, position=pos))
    assert moved is None or "data_lost" not in str(moved.contents)
    below = types.Position(line + 1, pos.character)
    again = server.on_hover(types.HoverParams(text_document=doc, position=below))
    assert again is not None and "data_lost" in str(again.contents)
    server.session.set_text(key, text + "\nrecord {\n")  # does not parse
    assert server.on_hover(types.HoverParams(text_document=doc, position=pos)) is None
    assert server.document_symbols(types.DocumentSymbolParams(text_document=doc)) == []

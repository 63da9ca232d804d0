"""`csdsl lsp` end to end: pytest-lsp starts `python -m csdsl lsp` and talks to it as an editor.

One server for the module; each test opens its own documents (bundled policies, or copies of
them in a temporary directory when a test edits them) and checks one feature: diagnostics on
open and on change (an unsaved edit that breaks an included file shows on it and on the
including file), hover, definition and references across files, completion, outline, folding,
formatting, code actions and lenses; a Chinese identifier; a character outside the BMP before a
diagnostic (UTF-16 columns).  Nothing is ever saved: every edit lives in the server's overlay.
"""

from __future__ import annotations

import asyncio
import shutil
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

pytest.importorskip("pygls", reason="the lsp extra (pygls) is not installed")
pytest.importorskip("pytest_lsp", reason="pytest-lsp is not installed (the test extra)")

import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

from csdsl.source import SourceFile
from csdsl.syntax.parse import format_source

ROOT = Path(__file__).resolve().parents[1]
POLICIES = ROOT / "policies"

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_lsp.fixture(
    config=ClientServerConfig(server_command=[sys.executable, "-m", "csdsl", "lsp"]),
    scope="module",
)
async def client(lsp_client: LanguageClient) -> None:
    await lsp_client.initialize_session(
        types.InitializeParams(
            capabilities=types.ClientCapabilities(
                workspace=types.WorkspaceClientCapabilities(
                    code_lens=types.CodeLensWorkspaceClientCapabilities(refresh_support=False)
                )
            ),
            root_uri=ROOT.as_uri(),
        )
    )
    yield
    await lsp_client.shutdown_session()


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the bundled policies, for the tests that edit them."""
    out = tmp_path_factory.mktemp("lsp") / "policies"
    shutil.copytree(POLICIES, out)
    return out


# ---- helpers -----------------------------------------------------------------------------------

_versions: dict[str, int] = {}


def open_doc(client: LanguageClient, path: Path, text: str | None = None) -> str:
    uri = path.as_uri()
    _versions[uri] = 1
    body = path.read_text(encoding="utf-8") if text is None else text
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(types.TextDocumentItem(uri, "csp", 1, body))
    )
    return uri


def change(client: LanguageClient, uri: str, text: str) -> None:
    _versions[uri] += 1
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            types.VersionedTextDocumentIdentifier(uri=uri, version=_versions[uri]),
            [types.TextDocumentContentChangeWholeDocument(text=text)],
        )
    )


async def diagnostics(
    client: LanguageClient,
    uri: str,
    ready: Callable[[Sequence[types.Diagnostic]], bool],
    timeout: float = 30,
) -> Sequence[types.Diagnostic]:
    """The diagnostics of `uri` once they satisfy `ready` (waiting for publications)."""
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while True:
        got = client.diagnostics.get(uri)
        if got is not None and ready(got):
            return got
        if loop.time() > end:
            raise AssertionError(f"no such diagnostics for {uri}: {got}")
        await asyncio.sleep(0.02)


def at(text: str, needle: str, offset: int = 0, nth: int = 0) -> types.Position:
    """The LSP position (UTF-16) of the `nth` occurrence of `needle` in `text`, plus `offset`
    code points."""
    i = -1
    for _ in range(nth + 1):
        i = text.index(needle, i + 1)
    i += offset
    line = text.count("\n", 0, i)
    start = text.rfind("\n", 0, i) + 1
    return types.Position(line, len(text[start:i].encode("utf-16-le")) // 2)


def doc(uri: str) -> types.TextDocumentIdentifier:
    return types.TextDocumentIdentifier(uri=uri)


def hover_text(result: types.Hover | None) -> str:
    assert result is not None
    contents = result.contents
    assert isinstance(contents, types.MarkupContent)
    return contents.value


# ---- diagnostics ---------------------------------------------------------------------------


async def test_a_clean_policy_publishes_no_diagnostics(client: LanguageClient) -> None:
    uri = open_doc(client, POLICIES / "complaint_validity.csp")
    assert list(await diagnostics(client, uri, lambda d: True)) == []


async def test_an_edit_gets_a_diagnostic_with_code_severity_and_hint(
    client: LanguageClient, work: Path
) -> None:
    path = work / "complaint_validity.csp"
    text = path.read_text(encoding="utf-8")
    uri = open_doc(client, path)
    await diagnostics(client, uri, lambda d: not d)
    broken = text.replace(
        'rude_attitude "对客户态度不好而影响公司形象": agent_rude',
        'rude_attitude "对客户态度不好而影响公司形象": agent_rud',
        1,
    )
    change(client, uri, broken)
    found = await diagnostics(client, uri, lambda d: bool(d))
    d = found[0]
    assert d.severity == types.DiagnosticSeverity.Error
    assert d.code and str(d.code).startswith("E")
    assert "agent_rud" in d.message and "did you mean `agent_rude`" in d.message
    assert d.range.start == at(broken, "agent_rud\n")
    # its structured fix is a quick fix
    actions = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=doc(uri),
            range=d.range,
            context=types.CodeActionContext(diagnostics=[d]),
        )
    )
    assert actions is not None
    fixes = [a for a in actions if isinstance(a, types.CodeAction) and a.kind == "quickfix"]
    assert [f.title for f in fixes] == ["replace `agent_rud` with `agent_rude`"]
    assert fixes[0].edit is not None and fixes[0].edit.changes is not None
    (edit,) = fixes[0].edit.changes[uri]
    assert edit.range == d.range and edit.new_text == "agent_rude"
    change(client, uri, text)  # fixed again: the diagnostics go away
    assert not await diagnostics(client, uri, lambda d: not d)


async def test_an_unsaved_edit_that_breaks_an_included_file_shows_on_both(
    client: LanguageClient, work: Path
) -> None:
    root_uri = open_doc(client, work / "hotline.csp")
    await diagnostics(client, root_uri, lambda d: not d)
    part = work / "complaint_handling.csp"
    text = part.read_text(encoding="utf-8")
    part_uri = open_doc(client, part)
    change(client, part_uri, text.replace("stops on replied", "stops on", 1))  # unsaved
    on_part = await diagnostics(client, part_uri, lambda d: bool(d))
    assert on_part[0].severity == types.DiagnosticSeverity.Error
    on_root = await diagnostics(client, root_uri, lambda d: bool(d))
    root_text = (work / "hotline.csp").read_text(encoding="utf-8")
    assert on_root[0].range.start.line == at(root_text, 'include "complaint_handling.csp"').line
    assert "complaint_handling.csp" in on_root[0].message
    assert on_root[0].related_information
    assert on_root[0].related_information[0].location.uri == part_uri
    assert part.read_text(encoding="utf-8") == text  # the disk was never touched
    change(client, part_uri, text)
    await diagnostics(client, root_uri, lambda d: not d)
    await diagnostics(client, part_uri, lambda d: not d)


NON_BMP = """policy "p" version "1" effective 2024-01-01 timezone "UTC"

record Case {
  rude: bool
}

valid Case when any {
  r "𠀀𠀀 wording": rudee
}
"""


async def test_a_character_outside_the_bmp_shifts_utf16_columns(
    client: LanguageClient, tmp_path: Path
) -> None:
    uri = open_doc(client, tmp_path / "wide.csp", NON_BMP)
    found = await diagnostics(client, uri, lambda d: bool(d))
    start = found[0].range.start
    line = NON_BMP.splitlines()[start.line]
    assert line.index("rudee") + 2 == start.character  # two surrogate pairs before it
    assert start == at(NON_BMP, "rudee")
    assert found[0].range.end.character == start.character + len("rudee")


@pytest_lsp.fixture(
    config=ClientServerConfig(server_command=[sys.executable, "-m", "csdsl", "lsp"]),
    scope="module",
)
async def utf8_client(lsp_client: LanguageClient) -> None:
    """An editor that counts columns in UTF-8 bytes (as Neovim prefers)."""
    await lsp_client.initialize_session(
        types.InitializeParams(
            capabilities=types.ClientCapabilities(
                general=types.GeneralClientCapabilities(
                    position_encodings=[types.PositionEncodingKind.Utf8]
                )
            )
        )
    )
    yield
    await lsp_client.shutdown_session()


async def test_columns_in_the_encoding_the_editor_asked_for(
    utf8_client: LanguageClient, tmp_path: Path
) -> None:
    uri = open_doc(utf8_client, tmp_path / "wide8.csp", NON_BMP)
    found = await diagnostics(utf8_client, uri, lambda d: bool(d))
    line = NON_BMP.splitlines()[found[0].range.start.line]
    assert found[0].range.start.character == len(line[: line.index("rudee")].encode("utf-8"))


async def test_a_document_that_is_not_a_file_is_checked(client: LanguageClient) -> None:
    uri = "untitled:Untitled-1"
    _versions[uri] = 1
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(types.TextDocumentItem(uri, "csp", 1, NON_BMP))
    )
    found = await diagnostics(client, uri, lambda d: bool(d))
    assert found[0].code == "E201"


CHINESE = """policy "中文" version "1" effective 2024-01-01 timezone "Asia/Shanghai"

record 投诉 {
  态度差: bool
  金额: number
}

valid 投诉 when any {
  态度 "态度不好": 态度差 and 金额 > 0
}
"""


async def test_a_chinese_identifier_has_hover_definition_and_references(
    client: LanguageClient, tmp_path: Path
) -> None:
    uri = open_doc(client, tmp_path / "zh.csp", CHINESE)
    await diagnostics(client, uri, lambda d: not d)
    use = at(CHINESE, "金额 > 0", 1)
    text = hover_text(
        await client.text_document_hover_async(
            types.HoverParams(text_document=doc(uri), position=use)
        )
    )
    assert "投诉.金额" in text and "number" in text
    found = await client.text_document_definition_async(
        types.DefinitionParams(text_document=doc(uri), position=use)
    )
    assert isinstance(found, types.Location)
    assert found.range.start == at(CHINESE, "金额: number")
    refs = await client.text_document_references_async(
        types.ReferenceParams(
            text_document=doc(uri),
            position=use,
            context=types.ReferenceContext(include_declaration=True),
        )
    )
    assert refs is not None
    assert sorted(r.range.start.line for r in refs) == [4, 8]


# ---- hover ---------------------------------------------------------------------------------


async def test_hover_on_a_condition_gives_wording_citation_and_plain_words(
    client: LanguageClient,
) -> None:
    path = POLICIES / "complaint_validity.csp"
    text = path.read_text(encoding="utf-8")
    uri = open_doc(client, path)
    await diagnostics(client, uri, lambda d: True)
    shown = hover_text(
        await client.text_document_hover_async(
            types.HoverParams(text_document=doc(uri), position=at(text, 'data_loss "', 2))
        )
    )
    assert "丢失客户数据，使客户造成损失而不满" in shown  # the wording
    assert "000 二" in shown  # the section it cites
    assert "loss_amount" in shown and "more than 0" in shown  # csdsl doc's plain words


async def test_hover_on_a_deadline_field_phrase_set_and_calendar(
    client: LanguageClient,
) -> None:
    handling = POLICIES / "complaint_handling.csp"
    text = handling.read_text(encoding="utf-8")
    uri = open_doc(client, handling)
    await diagnostics(client, uri, lambda d: True)

    async def show(pos: types.Position) -> str:
        return hover_text(
            await client.text_document_hover_async(
                types.HoverParams(text_document=doc(uri), position=pos)
            )
        )

    deadline = await show(at(text, "deadline reply ", len("deadline ")))
    assert "2小时之内（简单投诉）" in deadline and "2 hours" in deadline
    calendar = await show(at(text, "calendar office", len("calendar ")))
    assert "09:00" in calendar and "holidays" in calendar and "调休" in calendar
    field = await show(at(text, "starts at received_at", len("starts at ")))
    assert "received_at" in field and "datetime" in field

    qa = POLICIES / "hotline_qa.csp"
    qa_text = qa.read_text(encoding="utf-8")
    qa_uri = open_doc(client, qa)
    await diagnostics(client, qa_uri, lambda d: True)
    phrases = hover_text(
        await client.text_document_hover_async(
            types.HoverParams(
                text_document=doc(qa_uri), position=at(qa_text, "phrases silent_greeting", 9)
            )
        )
    )
    assert "您好，请问有什么可以帮助您" in phrases


# ---- definitions and references ------------------------------------------------------------


async def test_definition_across_files_and_of_an_include_path(client: LanguageClient) -> None:
    root = POLICIES / "hotline.csp"
    text = root.read_text(encoding="utf-8")
    uri = open_doc(client, root)
    await diagnostics(client, uri, lambda d: True)
    field = await client.text_document_definition_async(
        types.DefinitionParams(text_document=doc(uri), position=at(text, "received_at <= 48h"))
    )
    assert isinstance(field, types.Location)
    assert field.uri == (POLICIES / "complaint_validity.csp").as_uri()
    validity = (POLICIES / "complaint_validity.csp").read_text(encoding="utf-8")
    assert field.range.start == at(validity, "received_at: datetime")
    path = await client.text_document_definition_async(
        types.DefinitionParams(
            text_document=doc(uri), position=at(text, '"complaint_handling.csp"', 3)
        )
    )
    assert isinstance(path, types.Location)
    assert path.uri == (POLICIES / "complaint_handling.csp").as_uri()


async def test_references_of_a_field_and_a_calendar(client: LanguageClient) -> None:
    handling = POLICIES / "complaint_handling.csp"
    text = handling.read_text(encoding="utf-8")
    uri = open_doc(client, handling)
    await diagnostics(client, uri, lambda d: True)
    refs = await client.text_document_references_async(
        types.ReferenceParams(
            text_document=doc(uri),
            position=at(text, "calendar office", len("calendar ")),
            context=types.ReferenceContext(include_declaration=False),
        )
    )
    assert refs is not None
    uses = [n for n, line in enumerate(text.splitlines()) if "on office" in line.split("#")[0]]
    assert uses and {r.range.start.line for r in refs} >= set(uses)
    assert all(r.uri == uri for r in refs)


# ---- completion ----------------------------------------------------------------------------


async def _labels(client: LanguageClient, uri: str, pos: types.Position) -> list[str]:
    result = await client.text_document_completion_async(
        types.CompletionParams(text_document=doc(uri), position=pos)
    )
    items = result.items if isinstance(result, types.CompletionList) else (result or [])
    return [i.label for i in items]


async def test_completion_in_context(client: LanguageClient, work: Path) -> None:
    path = work / "complaint_handling.csp"
    text = path.read_text(encoding="utf-8")
    uri = open_doc(client, path)
    await diagnostics(client, uri, lambda d: True)
    line = next(t for t in text.split("\n") if "within 2h when complexity = simple" in t)

    def typed(new: str) -> str:
        return text.replace(line, new, 1)

    typing = typed("  within 2h when complexity = ")
    change(client, uri, typing)
    await diagnostics(client, uri, lambda d: bool(d))
    enum = await _labels(client, uri, at(typing, "complexity = ", len("complexity = ")))
    assert enum == ["simple", "complex"]
    for new, label in [
        ("  within 2", "2 working hours"),
        ("  within 2", "2h"),
        ("  calendar ", "office"),
        ("  within 2h when ", "received_at"),
        ("  within 2h when ", "complexity"),
    ]:
        change(client, uri, typed(new))
        labels = await _labels(client, uri, at(typed(new), new + "\n", len(new)))
        assert label in labels, (new, labels)
    given = text.replace("    complexity: simple\n", "    complexity: \n", 1)  # an example's record
    change(client, uri, given)
    values = await _labels(client, uri, at(given, "complexity: \n", len("complexity: ")))
    assert values == ["simple", "complex"]
    change(client, uri, text)

    qa = work / "hotline_qa.csp"
    qa_text = qa.read_text(encoding="utf-8")
    qa_uri = open_doc(client, qa)
    await diagnostics(client, qa_uri, lambda d: True)
    says = qa_text.replace("when customer says abuse {", "when customer says ", 1)
    change(client, qa_uri, says)
    names = await _labels(client, qa_uri, at(says, "customer says \n", len("customer says ")))
    assert "abuse" in names and "silent_greeting" in names
    change(client, qa_uri, qa_text)


# ---- outline, folding, formatting ----------------------------------------------------------


async def test_document_symbols_and_folding(client: LanguageClient) -> None:
    path = POLICIES / "complaint_handling.csp"
    text = path.read_text(encoding="utf-8")
    uri = open_doc(client, path)
    await diagnostics(client, uri, lambda d: True)
    symbols = await client.text_document_document_symbol_async(types.DocumentSymbolParams(doc(uri)))
    assert symbols is not None
    names = [s.name for s in symbols if isinstance(s, types.DocumentSymbol)]
    assert "office" in names and "reply" in names and "reply_48h" in names
    folds = await client.text_document_folding_range_async(types.FoldingRangeParams(doc(uri)))
    assert folds is not None
    reply = at(text, "deadline reply ").line
    assert any(f.start_line == reply and f.end_line > reply for f in folds)
    assert any(f.kind == types.FoldingRangeKind.Comment for f in folds)


async def test_formatting_is_csdsl_fmt_and_nothing_when_formatted_or_broken(
    client: LanguageClient, tmp_path: Path
) -> None:
    messy = (
        'policy "p" version "1" effective 2024-01-01 timezone "UTC"\nrecord Case {  rude : bool }\n'
    )
    uri = open_doc(client, tmp_path / "messy.csp", messy)
    opts = types.FormattingOptions(tab_size=2, insert_spaces=True)
    edits = await client.text_document_formatting_async(
        types.DocumentFormattingParams(text_document=doc(uri), options=opts)
    )
    expected, _ = format_source(SourceFile("messy.csp", messy))
    assert edits is not None and len(edits) == 1 and edits[0].new_text == expected
    change(client, uri, expected or "")
    await asyncio.sleep(0.2)
    assert not await client.text_document_formatting_async(
        types.DocumentFormattingParams(text_document=doc(uri), options=opts)
    )
    change(client, uri, messy + "record {\n")
    await asyncio.sleep(0.2)
    assert not await client.text_document_formatting_async(
        types.DocumentFormattingParams(text_document=doc(uri), options=opts)
    )


# ---- code actions and lenses ---------------------------------------------------------------


async def test_add_an_example_for_a_condition(client: LanguageClient, work: Path) -> None:
    path = work / "complaint_validity.csp"
    text = path.read_text(encoding="utf-8")
    uri = open_doc(client, path, text)
    await diagnostics(client, uri, lambda d: not d)
    pos = at(text, 'data_loss "', 1)
    result = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=doc(uri),
            range=types.Range(pos, pos),
            context=types.CodeActionContext(diagnostics=[]),
        )
    )
    assert result is not None
    add = [a for a in result if isinstance(a, types.CodeAction) and "example" in a.title]
    assert add and add[0].edit is not None and add[0].edit.changes is not None
    (edit,) = add[0].edit.changes[uri]
    assert 'example "data_loss at its boundary"' in edit.new_text
    assert "loss_amount: 0.01" in edit.new_text  # just above the boundary `loss_amount > 0`
    assert "expect valid because data_loss" in edit.new_text
    lines = text.split("\n")
    line = edit.range.start.line
    edited = "\n".join([*lines[:line], edit.new_text.rstrip("\n"), *lines[line:]])
    change(client, uri, edited)
    await diagnostics(client, uri, lambda d: not d)
    start = edited.split("\n").index('example "data_loss at its boundary" {')
    ran = await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="csdsl.run", arguments=[uri, start + 1])
    )
    assert ran == {"passed": True, "message": ran["message"]}
    change(client, uri, text)


async def test_lenses_run_examples_and_invariants_and_show_the_result(
    client: LanguageClient, work: Path
) -> None:
    path = work / "complaint_validity.csp"
    text = path.read_text(encoding="utf-8")
    uri = open_doc(client, path, text)
    change(client, uri, text)
    await diagnostics(client, uri, lambda d: not d)
    lenses = await client.text_document_code_lens_async(types.CodeLensParams(doc(uri)))
    assert lenses is not None
    lines = text.split("\n")
    examples = [n for n, t in enumerate(lines) if t.startswith("example ")]
    invariants = [n for n, t in enumerate(lines) if t.startswith("invariant ")]
    assert sorted(lens.range.start.line for lens in lenses) == sorted(examples + invariants)
    first = next(lens for lens in lenses if lens.range.start.line == examples[0])
    assert first.command is not None and first.command.title == "▶ run example"
    ran = await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command=first.command.command, arguments=first.command.arguments)
    )
    assert ran["passed"] is True
    again = await client.text_document_code_lens_async(types.CodeLensParams(doc(uri)))
    assert again is not None
    shown = next(lens for lens in again if lens.range.start.line == examples[0])
    assert shown.command is not None and shown.command.title.startswith("✔ passed")
    inv = next(lens for lens in lenses if lens.range.start.line == invariants[0])
    assert inv.command is not None
    held = await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command=inv.command.command, arguments=inv.command.arguments)
    )
    assert held["passed"] is True and "holds" in held["message"]
    # an example that no longer passes says so
    failing = text.replace("expect valid because rude_attitude", "expect invalid", 1)
    assert failing != text
    change(client, uri, failing)
    await asyncio.sleep(0.3)
    target = next(
        n
        for n, (a, b) in enumerate(zip(text.split("\n"), failing.split("\n"), strict=True))
        if a != b
    )
    start = max(n for n in examples if n < target)
    ran = await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="csdsl.run", arguments=[uri, start + 1])
    )
    assert ran["passed"] is False
    change(client, uri, text)

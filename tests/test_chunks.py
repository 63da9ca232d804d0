"""Parsing clause by clause (`syntax.chunks`) gives exactly what parsing the whole file gives.

For the bundled policies, the suite's hostile policy texts, generated policies and policies cut
anywhere (as they are being typed): whenever the pieces parse, the module (items, header,
comments), every span in it and the warnings equal the whole file's parse; and an edit inside
one clause parses only that clause again.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from test_fuzz_inputs import _HOSTILE_POLICY_EDITS, SEED_TEXT

from csdsl import testing
from csdsl.source import SourceFile, Span
from csdsl.syntax import chunks
from csdsl.syntax.format import format_module
from csdsl.syntax.parse import parse

ROOT = Path(__file__).resolve().parents[1]
BUNDLED = sorted((ROOT / "policies").glob("*.csp"))


def _spans(node: Any, out: list[tuple[str, str, Span]]) -> list[tuple[str, str, Span]]:
    if isinstance(node, tuple):
        for x in node:
            _spans(x, out)
    elif attrs.has(type(node)) and not isinstance(node, Span):
        for a in attrs.fields(type(node)):
            value = getattr(node, a.name)
            if isinstance(value, Span):
                out.append((type(node).__name__, a.name, value))
            else:
                _spans(value, out)
    return out


def _same_as_whole(text: str) -> bool:
    """Whether the clause-by-clause parse (when there is one) is the whole file's."""
    source = SourceFile("p.csp", text)
    got = chunks.Chunks().parse(source)
    if got is None:
        return False
    module, diags = got
    whole, whole_diags = parse(source)
    assert whole is not None
    assert module == whole and module.comments == whole.comments
    assert module.span == whole.span
    assert _spans(module, []) == _spans(whole, [])
    assert [d.to_json() for d in diags] == [d.to_json() for d in whole_diags]
    return True


@pytest.mark.parametrize("path", BUNDLED, ids=lambda p: p.name)
def test_bundled_policies_parse_the_same_in_pieces(path: Path) -> None:
    assert _same_as_whole(path.read_text(encoding="utf-8"))


FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(
    text=st.one_of(
        st.lists(st.sampled_from(_HOSTILE_POLICY_EDITS), min_size=1, max_size=3).map(
            lambda edits: _apply(edits)
        ),
        testing.modules().map(format_module),
        st.tuples(st.sampled_from(BUNDLED), st.floats(0, 1)).map(
            lambda p: (t := p[0].read_text(encoding="utf-8"))[: int(len(t) * p[1])]
        ),
    )
)
def test_any_text_parses_the_same_in_pieces_or_whole(text: str) -> None:
    _same_as_whole(text)  # asserts equality whenever the pieces parse


def _apply(edits: list[Any]) -> str:
    text = SEED_TEXT
    for edit in edits:
        text = edit(text)
    return text


def test_an_edit_in_one_clause_parses_only_that_clause(monkeypatch: pytest.MonkeyPatch) -> None:
    text = (ROOT / "policies" / "complaint_validity.csp").read_text(encoding="utf-8")
    cache = chunks.Chunks()
    assert cache.parse(SourceFile("p.csp", text)) is not None
    parsed: list[str] = []
    real = chunks.parse

    def counting(source: SourceFile) -> Any:
        parsed.append(source.text)
        return real(source)

    monkeypatch.setattr(chunks, "parse", counting)
    edited = text.replace("loss_amount > 0", "loss_amount > 1", 1)
    got = cache.parse(SourceFile("p.csp", edited))
    assert got is not None and got[0] is not None
    assert len(parsed) == 1 and "loss_amount > 1" in parsed[0]
    assert got[0] == parse(SourceFile("p.csp", edited))[0]

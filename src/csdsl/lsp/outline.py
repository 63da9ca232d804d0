"""The outline of a document (document symbols) and its folding ranges.

In: the items of one parsed file, the index's declarations in it and its source.  Out: a
`DocumentSymbol` per top-level clause, with the names declared inside it (fields, conditions,
rules, roles, ...) as children; and a folding range per clause or nested block spanning several
lines, and per run of two or more comment lines.
"""

from __future__ import annotations

from collections.abc import Sequence

from lsprotocol import types

from csdsl.lsp.index import Index
from csdsl.lsp.positions import span_range
from csdsl.source import SourceFile, Span
from csdsl.syntax import ast

_KIND = types.SymbolKind
_SYMBOL_KIND = {
    "record": _KIND.Struct,
    "field": _KIND.Field,
    "enum_value": _KIND.EnumMember,
    "condition": _KIND.Boolean,
    "calendar": _KIND.Module,
    "deadline": _KIND.Event,
    "escalation": _KIND.Class,
    "role": _KIND.Constant,
    "phrases": _KIND.Array,
    "rule": _KIND.Method,
    "situation": _KIND.Namespace,
    "metric": _KIND.Number,
    "invariant": _KIND.Interface,
    "example": _KIND.Object,
}


def _title(item: ast.Item) -> str:
    """A name for a clause that declares none."""
    if isinstance(item, ast.Import):
        return ("include " if item.include else "import ") + item.path
    if isinstance(item, ast.Validity):
        return f"valid {item.record.name} when {item.quantifier}"
    if isinstance(item, ast.TranscriptRules):
        return "transcript rules"
    if isinstance(item, ast.CitesDecl):
        return "cites"
    if isinstance(item, ast.Example | ast.TranscriptExample):
        return item.title or "example"
    if isinstance(item, ast.InvariantDecl):
        return item.wording
    return type(item).__name__


def _inside(inner: Span, outer: Span) -> bool:
    return (outer.line, outer.column) <= (inner.line, inner.column) and (
        inner.end_line,
        inner.end_column,
    ) <= (outer.end_line, outer.end_column)


def symbols(
    items: Sequence[ast.Item], index: Index, path: str, source: SourceFile | None
) -> list[types.DocumentSymbol]:
    declared = [s for s in index.symbols if s.file == path]
    out = []
    for item in items:
        own = next((s for s in declared if s.node is item), None)
        whole = span_range(item.span, source)
        children = [
            types.DocumentSymbol(
                name=s.name,
                kind=_SYMBOL_KIND.get(s.kind, _KIND.Variable),
                range=span_range(s.span, source),
                selection_range=span_range(s.span, source),
                detail=s.kind,
            )
            for s in declared
            if s is not own and s.node is not item and _inside(s.span, item.span)
        ]
        out.append(
            types.DocumentSymbol(
                name=own.name if own is not None else _title(item),
                kind=_SYMBOL_KIND.get(own.kind, _KIND.Variable) if own else _KIND.Package,
                range=whole,
                selection_range=span_range(own.span, source) if own else whole,
                detail=own.kind if own is not None else None,
                children=children or None,
            )
        )
    return out


def _blocks(node: object) -> list[Span]:
    """The spans of a clause's nested blocks (situations, conditions spanning lines)."""
    out: list[Span] = []
    if isinstance(node, ast.TranscriptRules):
        out += [s.span for s in node.stmts if isinstance(s, ast.Situation)]
    if isinstance(node, ast.Validity):
        out += [c.span for c in (*node.conditions, *(node.exceptions or ()))]
    return out


def folding(items: Sequence[ast.Item], comments: Sequence[ast.Comment]) -> list[types.FoldingRange]:
    out = []
    for item in items:
        for span in (item.span, *_blocks(item)):
            if span.end_line > span.line:
                out.append(types.FoldingRange(span.line - 1, span.end_line - 1))
    run: list[int] = []
    lines = sorted({c.span.line for c in comments})
    for line in [*lines, -1]:
        if run and line == run[-1] + 1:
            run.append(line)
            continue
        if len(run) > 1:
            out.append(
                types.FoldingRange(run[0] - 1, run[-1] - 1, kind=types.FoldingRangeKind.Comment)
            )
        run = [line]
    return out

"""Definitions and references of a policy and the files it imports and includes.

In: the parsed modules of one compilation (`Compiled.modules`, by resolved path) and the
resolved path of each source name (`Compiled.paths`).  Out: an `Index`: every name written in
the policy as an `Occurrence` (where, what kind of thing it names, and whether it is the
declaration), the `Symbol` each declaration makes, and the lookups an editor asks for: what is
at a position, where its declaration is, where it is used.

Kinds: record, field, enum_value, condition, calendar, deadline, escalation, role, phrases,
rule (a record-level or transcript rule), situation, metric, invariant, example, import (the
path of an `import` or `include`).  A name in an expression is of kind `name` and resolves, in
order, to a field of the record in scope, an enum value of it, a condition, a deadline, or any
declaration of that name.
"""

from __future__ import annotations

import functools
from collections.abc import Hashable, Iterator, Mapping
from pathlib import Path
from typing import Any, cast

import attrs

from csdsl.check.modules import resolved
from csdsl.lsp.positions import contains
from csdsl.source import Span
from csdsl.syntax import ast


@attrs.frozen
class Symbol:
    kind: str
    name: str
    file: str  # resolved path
    span: Span  # the declared name
    node: object = attrs.field(eq=False, repr=False)  # the declaring AST node
    container: str | None = None  # a field's or enum value's record, a rule's situation


@attrs.frozen
class Occurrence:
    kind: str
    name: str
    file: str  # resolved path
    span: Span
    container: str | None = None  # the record in scope (fields, names in expressions)
    symbol: Symbol | None = None  # set on a declaration
    target: str | None = None  # an import's resolved file


# the Ident-valued attributes that name something declared elsewhere: (node type, attribute)
_REFS: dict[tuple[type, str], str] = {
    (ast.Validity, "record"): "record",
    (ast.DeadlineDecl, "record"): "record",
    (ast.EscalationDecl, "record"): "record",
    (ast.InvariantDecl, "record"): "record",
    (ast.RuleDecl, "record"): "record",
    (ast.Call, "record"): "record",
    (ast.Call, "field"): "field",
    (ast.FieldValue, "name"): "field",
    (ast.DlStart, "field"): "field",
    (ast.FieldDue, "field"): "field",
    (ast.Group, "field"): "field",
    (ast.Example, "because"): "condition",
    (ast.ExEvent, "role"): "role",
    (ast.TimeSpec, "calendar"): "calendar",
    (ast.DlCalendar, "name"): "calendar",
    (ast.EsStep, "source"): "role",
    (ast.EsStep, "target"): "role",
    (ast.PhraseRef, "set"): "phrases",
    (ast.Situation, "unless"): "situation",
    (ast.RuleRef, "name"): "clause",
}
# the attributes that declare a name
_DEFS: dict[tuple[type, str], str] = {
    (ast.RecordDecl, "name"): "record",
    (ast.FieldDecl, "name"): "field",
    (ast.EnumType, "values"): "enum_value",
    (ast.Condition, "id"): "condition",
    (ast.CalendarDecl, "name"): "calendar",
    (ast.DeadlineDecl, "name"): "deadline",
    (ast.EscalationDecl, "name"): "escalation",
    (ast.EsRoles, "roles"): "role",
    (ast.PhrasesDecl, "name"): "phrases",
    (ast.TrRule, "name"): "rule",
    (ast.Situation, "name"): "situation",
    (ast.MetricDecl, "name"): "metric",
    (ast.InvariantDecl, "id"): "invariant",
    (ast.RuleDecl, "name"): "rule",
    (ast.Example, "id"): "example",
    (ast.TranscriptExample, "id"): "example",
}
_NAMED = _DEFS.keys() | _REFS.keys()
# what a name in an expression, or a clause in `cites`, may name, in the order tried
_CLAUSES = ("condition", "deadline", "escalation", "metric", "invariant", "rule", "situation")
_NAMES = ("field", "enum_value", "condition", "deadline", *_CLAUSES[2:], "phrases", "calendar")


def _scope(node: object) -> str | None:
    """The record a node's names are fields of, if the node says."""
    if isinstance(
        node, ast.Validity | ast.DeadlineDecl | ast.EscalationDecl | ast.RuleDecl | ast.Call
    ):
        return node.record.name
    if isinstance(node, ast.InvariantDecl) and node.record is not None:
        return node.record.name
    if isinstance(node, ast.Example | ast.ExGiven) and not node.base:
        return node.given.name
    if isinstance(node, ast.RecordDecl):
        return node.name.name
    return None


class Index:
    def __init__(self, modules: Mapping[str, ast.Module], paths: Mapping[str, str]) -> None:
        self.paths = dict(paths)  # source name -> resolved path
        self.occurrences: list[Occurrence] = []
        self.symbols: list[Symbol] = []
        self.items: dict[str, tuple[ast.Item, ...]] = {}  # resolved path -> its items
        self._defs: dict[tuple[str, str | None, str], Symbol] = {}
        self._by_name: dict[str, list[Symbol]] = {}
        for file, module in modules.items():
            self.items[file] = module.items
            for item in module.items:
                self._walk(file, item, _scope(item), None)

    # ---- building ------------------------------------------------------------------------
    def _file(self, span: Span, default: str) -> str:
        return self.paths.get(span.file, default)

    def _declare(
        self, kind: str, ident: ast.Ident, file: str, node: object, container: str | None
    ) -> None:
        sym = Symbol(kind, ident.name, self._file(ident.span, file), ident.span, node, container)
        self.symbols.append(sym)
        self._defs.setdefault((kind, container, ident.name), sym)
        self._by_name.setdefault(ident.name, []).append(sym)
        self.occurrences.append(
            Occurrence(kind, ident.name, sym.file, ident.span, container, symbol=sym)
        )

    def _walk(self, file: str, node: object, scope: str | None, situation: str | None) -> None:
        if isinstance(node, ast.Import):
            target = import_target(file, node.path)
            self.occurrences.append(
                Occurrence(
                    "import", node.path, self._file(node.span, file), node.span, target=target
                )
            )
            return
        if isinstance(node, ast.Name):
            self.occurrences.append(
                Occurrence("name", node.id, self._file(node.span, file), node.span, scope)
            )
            return
        names = _attributes(cast(Hashable, type(node)))
        if not names:
            return
        scope = _scope(node) or scope
        if isinstance(node, ast.Situation):
            situation = node.name.name
        for name in names:
            value = getattr(node, name)
            key = (type(node), name)
            idents = (
                [value]
                if isinstance(value, ast.Ident)
                else [v for v in value if isinstance(v, ast.Ident)]
                if isinstance(value, tuple) and key in _NAMED
                else []
            )
            if key in _DEFS:
                kind = _DEFS[key]
                container = (
                    situation
                    if kind == "rule" and isinstance(node, ast.TrRule)
                    else scope
                    if kind in ("field", "enum_value")
                    else None
                )
                for ident in idents:
                    self._declare(kind, ident, file, node, container)
                continue
            if key in _REFS:
                kind = _REFS[key]
                container = scope if kind == "field" else None
                for ident in idents:
                    self.occurrences.append(
                        Occurrence(
                            kind, ident.name, self._file(ident.span, file), ident.span, container
                        )
                    )
                continue
            if isinstance(node, ast.Example | ast.ExGiven) and name == "given":
                kind = "example" if node.base else "record"
                self.occurrences.append(
                    Occurrence(kind, value.name, self._file(value.span, file), value.span)
                )
                continue
            if isinstance(node, ast.EsStep) and name == "ref" and node.kind == "breach":
                self.occurrences.append(
                    Occurrence("deadline", value.name, self._file(value.span, file), value.span)
                )
                continue
            if isinstance(node, ast.ExpectClock) and name == "clock":
                kind = "role" if node.escalation else "deadline"
                self.occurrences.append(
                    Occurrence(kind, value.name, self._file(value.span, file), value.span)
                )
                continue
            if isinstance(node, ast.RuleRef) and name == "member" and value is not None:
                self.occurrences.append(
                    Occurrence(
                        "rule", value.name, self._file(value.span, file), value.span, node.name.name
                    )
                )
                continue
            for child in value if isinstance(value, tuple) else (value,):
                self._walk(file, child, scope, situation)

    # ---- lookups -------------------------------------------------------------------------
    def at(self, file: str, line: int, column: int) -> Occurrence | None:
        """The innermost name at a 1-based (line, column) of a resolved file."""
        hits = [o for o in self.occurrences if o.file == file and contains(o.span, line, column)]
        if not hits:
            return None
        return min(
            hits, key=lambda o: (o.span.end_line - o.span.line, o.span.end_column - o.span.column)
        )

    def lookup(
        self, kinds: tuple[str, ...], name: str, container: str | None = None
    ) -> Symbol | None:
        for kind in kinds:
            sym = self._defs.get((kind, container, name))
            if sym is None and container is not None and kind in ("field", "enum_value"):
                continue
            if sym is None:
                sym = next((s for s in self._by_name.get(name, ()) if s.kind == kind), None)
            if sym is not None:
                return sym
        return None

    def resolve(self, occ: Occurrence) -> Symbol | None:
        """The declaration an occurrence names (itself, for a declaration)."""
        if occ.symbol is not None:
            return occ.symbol
        if occ.kind == "name":
            return self.lookup(_NAMES, occ.name, occ.container) or self.lookup(_NAMES, occ.name)
        if occ.kind == "clause":
            return self.lookup(_CLAUSES, occ.name)
        if occ.kind == "field":
            return self.lookup(("field",), occ.name, occ.container) or self.lookup(
                ("field",), occ.name
            )
        if occ.kind == "rule" and occ.container is not None:
            return self.lookup(("rule",), occ.name, occ.container)
        found = self.lookup((occ.kind,), occ.name)
        if found is None:  # `due(reply)`, `expect rate met`: a record's or a clock's place
            others = self._by_name.get(occ.name, ())
            found = others[0] if others else None
        return found

    def references(self, sym: Symbol, declaration: bool = True) -> Iterator[Occurrence]:
        for occ in self.occurrences:
            if occ.symbol is not None and not declaration:
                continue
            if self.resolve(occ) == sym:
                yield occ

    def names(self, kind: str, container: str | None = None) -> list[Symbol]:
        """The declared names of a kind (of a record, for fields), without repeats."""
        seen: dict[str, Symbol] = {}
        for s in self.symbols:
            if s.kind == kind and (container is None or s.container == container):
                seen.setdefault(s.name, s)
        return list(seen.values())


@functools.cache
def _attributes(cls: Any) -> tuple[str, ...]:
    """The attributes of an AST node type that may hold names (not spans, texts, numbers)."""
    if not attrs.has(cls) or cls is Span:
        return ()
    return tuple(
        a.name
        for a in attrs.fields(cls)
        if (not a.name.endswith("span") and a.name not in ("text", "wording", "title", "value"))
        or cls is ast.FieldValue
    )


def import_target(file: str, path: str) -> str:
    """The resolved path an `import`/`include` of `path` in `file` names."""
    return resolved(Path(file).parent / path)

"""Invariants: the record they are about, their terms, their type.  AST -> IR.

In: the root module's `invariant` declarations, with the records, validity blocks, deadlines and
ladders already lowered.  Out: `ir.Invariant`s and diagnostics: no record given and none to
infer (E270), a `due(...)` that names no deadline or ladder of the record (E271), a ladder role
the ladder never escalates to (E272), a `where` that is not `FIELD = VALUE and ...` (E273),
`valid` for a record without a validity block (E274), another call (E275), an expression that is
not yes/no (E276), an unknown record after `for` (E203).  `valid` or `due(...)` outside an
invariant is E277, reported where conditions are lowered (`check/lower.py`).

The terms become fields: the expression is lowered against the record extended with one field
per term (`valid: bool`, `due(reply): datetime?`), so the interpreter evaluates it unchanged
once `csdsl.assure.verify` has put the terms' values among the record's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import attrs

from csdsl import ir
from csdsl.diagnostics import did_you_mean, rename
from csdsl.source import Span
from csdsl.syntax import ast
from csdsl.syntax.format import expr_text

if TYPE_CHECKING:
    from csdsl.check.lower import Lowering

Kind = ir.Kind
_HINT_TERMS = (
    "an invariant reads one record: its fields, `valid`, `due(DEADLINE)` and `due(LADDER.ROLE)`"
)


class _Invariant:
    def __init__(
        self, o: Lowering, decl: ast.InvariantDecl, record: ir.Record, declared: set[str]
    ) -> None:
        self.o = o
        self.declared = declared  # the clocks declared, lowered or not
        self.decl = decl
        self.record = record
        self.probes: dict[str, ir.Probe] = {}
        self.bad: set[str] = set()  # terms already reported: read as errors, not unknown fields

    def rewrite(self, e: Any) -> Any:
        """The expression with each term replaced by a `Name` of its pseudo-field."""
        if isinstance(e, ast.Name) and e.id == "valid":
            self.valid(e)
            return e
        if isinstance(e, ast.Call):
            return self.call(e)
        if not attrs.has(type(e)):
            return e
        changes: dict[str, Any] = {}
        for a in attrs.fields(type(e)):
            v = getattr(e, a.name)
            if isinstance(v, tuple):
                new: Any = tuple(self.rewrite(x) for x in v)
            elif attrs.has(type(v)) and not isinstance(v, ast.Ident):
                new = self.rewrite(v)
            else:
                continue
            if new is not v:
                changes[a.name] = new
        return attrs.evolve(e, **changes) if changes else e

    def valid(self, e: ast.Name) -> None:
        if self.o.validities.get(self.record.name) is None:
            self.o.err(
                "E274",
                f"`valid` needs a validity block for `{self.record.name}`, and there is none",
                e.span,
                f"write `valid {self.record.name} when any {{ ... }}`, or drop `valid`",
            )
            self.bad.add("valid")
            return
        self.probes.setdefault("valid", ir.Probe("valid", "valid", span=e.span))

    def call(self, e: ast.Call) -> ast.Expr:
        text = expr_text(e)
        bad = ast.Name(text, span=e.span)
        self.bad.add(text)
        if e.func.name != "due" or e.arg is not None or e.inner is not None:
            self.o.err(
                "E275",
                f"`{e.func.name}(...)` is not a term of an invariant",
                e.span,
                _HINT_TERMS
                + (
                    "; aggregates belong in a `metric`"
                    if e.func.name in ("count", "sum", "mean", "min", "max", "percentile")
                    else ""
                ),
            )
            return bad
        name = e.record.name
        rec = self.record.name
        deadline = next(
            (d for d in self.o.deadlines.values() if d.name == name and d.record == rec), None
        )
        ladder = next((x for x in self.o.escalations if x.name == name and x.record == rec), None)
        if deadline is None and ladder is None and name in self.declared:
            return bad  # a clock with errors of its own, reported there
        if deadline is None and ladder is None:
            clocks = [d.name for d in self.o.deadlines.values() if d.record == rec] + [
                x.name for x in self.o.escalations if x.record == rec
            ]
            self.o.err(
                "E271",
                f"`{name}` is no deadline or escalation ladder of `{rec}`",
                e.record.span,
                did_you_mean(name, clocks)
                or (
                    "the clocks of `" + rec + "` are " + ", ".join(f"`{c}`" for c in clocks)
                    if clocks
                    else f"declare `deadline {name} for {rec} {{ ... }}`"
                ),
                fixes=rename(e.record.span, name, clocks),
            )
            return bad
        role: str | None = None
        if ladder is not None:
            targets = [s.target for s in ladder.steps]
            if e.field is None or e.field.name not in targets:
                where = e.field.span if e.field is not None else e.record.span
                self.o.err(
                    "E272",
                    f"`due({name}...)` needs a role the ladder escalates to"
                    if e.field is None
                    else f"ladder `{name}` never escalates to `{e.field.name}`",
                    where,
                    f"write `due({name}.{targets[0] if targets else 'ROLE'})`; the roles it "
                    "escalates to are " + ", ".join(f"`{t}`" for t in targets),
                )
                return bad
            role = e.field.name
        elif e.field is not None:
            self.o.err(
                "E272",
                f"deadline `{name}` has no roles: `.{e.field.name}` is for escalation ladders",
                e.field.span,
                f"write `due({name})`",
            )
            return bad
        overrides = self.overrides(e.where) if e.where is not None else ()
        if overrides is None:
            return bad
        kind: Any = "escalation" if ladder is not None else "deadline"
        self.probes.setdefault(
            text, ir.Probe(text, kind, name, role, overrides, e.span, ir.DATETIME)
        )
        return ast.Name(text, span=e.span)

    def overrides(self, where: ast.Expr) -> tuple[tuple[str, ir.Value], ...] | None:
        from csdsl.check.lower import Exprs

        parts: list[ast.Expr] = []
        stack = [where]
        while stack:
            node = stack.pop()
            if isinstance(node, ast.And):
                stack += [node.right, node.left]
            else:
                parts.append(node)
        out: dict[str, ir.Value] = {}
        exprs = Exprs(self.o, self.record)
        for p in parts:
            if not (isinstance(p, ast.Compare) and p.op == "=" and isinstance(p.left, ast.Name)):
                self.o.err(
                    "E273",
                    "in `due(... where ...)`, say which fields change: `FIELD = VALUE`",
                    p.span,
                    "e.g. `due(reply where tier = regular and vip = false)`: the same record "
                    "with those values",
                )
                return None
            left, right = exprs.pair(p.left, p.right)
            if left.type.kind is Kind.ERROR or right.type.kind is Kind.ERROR:
                return None
            if not isinstance(left, ir.FieldRef) or not isinstance(right, ir.Const):
                self.o.err(
                    "E273",
                    f"`{expr_text(p.right)}` is not a value: `where` sets a field to a constant",
                    p.right.span,
                    "write a literal or an enum value, e.g. `tier = regular`, `amount = 0`",
                )
                return None
            if left.type != right.type and not (
                left.type.kind in (Kind.INT, Kind.NUMBER) and right.type.kind in (Kind.INT,)
            ):
                self.o.err(
                    "E273",
                    f"`{left.name}` is {left.type}, but `{expr_text(p.right)}` is {right.type}",
                    p.right.span,
                    f"give `{left.name}` a value of its type",
                )
                return None
            out[left.name] = right.value
        return tuple(out.items())


def _record_of(o: Lowering, decl: ast.InvariantDecl) -> ir.Record | None:
    if decl.record is not None:
        return o.record_named(decl.record)
    judged = [
        r
        for r in o.records
        if r in o.validities
        or any(d.record == r for d in o.deadlines.values())
        or any(x.record == r for x in o.escalations)
    ]
    if len(judged) == 1:
        return o.records[judged[0]]
    head = decl.span
    o.err(
        "E270",
        "which record is this invariant about?",
        Span(head.file, head.line, head.column, head.line, head.column + len("invariant")),
        "write `for RECORD` after the wording"
        + (": this policy judges " + ", ".join(f"`{r}`" for r in judged) if judged else ""),
    )
    return None


def lower_invariants(
    o: Lowering, decls: list[ast.InvariantDecl], declared: set[str]
) -> list[ir.Invariant]:
    """`declared`: the names of the deadlines and ladders declared, lowered or not."""
    from csdsl.check.lower import Exprs

    o.unique((d.id for d in decls if d.id is not None), "invariant")
    out: list[ir.Invariant] = []
    for decl in decls:
        if decl.id is not None:
            o.not_a_keyword(decl.id, "invariant")
        record = _record_of(o, decl)
        if record is None:
            continue
        inv = _Invariant(o, decl, record, declared)
        body = inv.rewrite(decl.expr)
        extra = tuple(
            ir.Field(p.name, p.type, p.kind != "valid", p.span) for p in inv.probes.values()
        ) + tuple(ir.Field(name, ir.ERROR, True) for name in sorted(inv.bad))
        extended = attrs.evolve(record, fields=record.fields + extra)
        expr = Exprs(o, extended).lower(body)
        if expr.type.kind not in (Kind.BOOL, Kind.ERROR):
            o.err(
                "E276",
                f"an invariant must be true or false, but this is {expr.type.kind.value}",
                decl.expr.span,
                "compare it, e.g. `due(reply) - received_at <= 48h`",
            )
        out.append(
            ir.Invariant(
                decl.id.name if decl.id is not None else None,
                decl.wording,
                record.name,
                expr,
                tuple(inv.probes.values()),
                decl.span,
            )
        )
    return out

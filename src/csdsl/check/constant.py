"""Consistency rules: conditions that can never match, always match, or repeat another.

In: an `ir.Policy`.  Out: warnings.  Decided by enumeration where that is exact and cheap: each
bool and enum field ranges over its values (plus "missing" when optional), every other field
over "set"/"missing", and each comparison that involves such other fields is an independent
yes/no atom.  Treating those atoms as independent can only miss a constant condition, never
invent one, so every warning is true.  Conditions needing more than 4,096 cases are skipped.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from typing import Any

from csdsl import ir
from csdsl.diagnostics import Diagnostic, Related, warning
from csdsl.interpreter import compile_expr

LIMIT = 4096
_SET = object()  # a value of a field whose domain is not enumerated


def _atoms(e: ir.Expr, fields: dict[str, ir.FieldRef], opaque: list[ir.Expr]) -> None:
    if isinstance(e, ir.And | ir.Or):
        _atoms(e.left, fields, opaque)
        _atoms(e.right, fields, opaque)
    elif isinstance(e, ir.Not):
        _atoms(e.operand, fields, opaque)
    else:
        for name in ir.fields_used(e):
            fields.setdefault(name, _find(e, name))
        if not _finite_leaf(e) and ir.fields_used(e) and not _presence(e):
            opaque.append(e)


def _find(e: ir.Expr, name: str) -> ir.FieldRef:
    stack = [e]
    while stack:
        node = stack.pop()
        if isinstance(node, ir.FieldRef) and node.name == name:
            return node
        stack.extend(ir.children(node))
    raise AssertionError(name)  # pragma: no cover


def _finite(t: ir.Type) -> bool:
    return t.kind in (ir.Kind.BOOL, ir.Kind.ENUM)


def _presence(e: ir.Expr) -> bool:
    return isinstance(e, ir.IsSet) and isinstance(e.operand, ir.FieldRef)


def _finite_leaf(e: ir.Expr) -> bool:
    """A leaf whose value follows from bool/enum field values and constants alone."""
    if isinstance(e, ir.FieldRef):
        return _finite(e.type)
    if isinstance(e, ir.Const):
        return True
    if isinstance(e, ir.Cmp | ir.In | ir.Not):
        return all(_finite_leaf(c) for c in ir.children(e))
    return False


def _domain(f: ir.FieldRef) -> list[Any]:
    if f.type.kind is ir.Kind.BOOL:
        base: list[Any] = [True, False]
    elif f.type.kind is ir.Kind.ENUM:
        base = list(f.type.values)
    else:
        base = [_SET]
    return [*base, None] if f.optional else base


def outcomes(e: ir.Expr) -> set[bool | None] | None:
    """Every value the condition can take, or None when there are too many cases to try."""
    fields: dict[str, ir.FieldRef] = {}
    opaque: list[ir.Expr] = []
    _atoms(e, fields, opaque)
    names = list(fields)
    domains = [_domain(fields[n]) for n in names]
    size = 1
    for d in domains:
        size *= len(d)
    size *= 2 ** len(opaque)
    if size > LIMIT:
        return None
    seen: set[bool | None] = set()
    evaluate = _abstract(e, {id(x): i for i, x in enumerate(opaque)})
    for combo in itertools.product(*domains):
        record = dict(zip(names, combo, strict=True))
        for bits in itertools.product((True, False), repeat=len(opaque)):
            seen.add(evaluate(record, bits))
            if len(seen) == 3:
                return seen
    return seen


Abstract = Callable[[dict[str, Any], tuple[bool, ...]], "bool | None"]


def _abstract(e: ir.Expr, opaque: dict[int, int]) -> Abstract:
    """`e` compiled once into a function of (field values, the opaque atoms' yes/no bits)."""
    if isinstance(e, ir.And | ir.Or):
        fa, fb = _abstract(e.left, opaque), _abstract(e.right, opaque)
        stop = isinstance(e, ir.Or)  # the value that decides: True for `or`, False for `and`

        def junction(r: dict[str, Any], bits: tuple[bool, ...]) -> bool | None:
            a, b = fa(r, bits), fb(r, bits)
            if a is stop or b is stop:
                return stop
            return None if a is None or b is None else not stop

        return junction
    if isinstance(e, ir.Not):
        f = _abstract(e.operand, opaque)
        return lambda r, bits: None if (x := f(r, bits)) is None else not x
    if id(e) in opaque:
        index, names = opaque[id(e)], ir.fields_used(e)
        return lambda r, bits: None if any(r.get(n) is None for n in names) else bits[index]
    concrete = compile_expr(e)
    return lambda r, bits: concrete(r)


def _conditions(policy: ir.Policy) -> Iterator[tuple[ir.Validity, ir.Condition, bool]]:
    for v in policy.validities:
        for c in v.conditions:
            yield v, c, False
        for c in v.exceptions:
            yield v, c, True


def check_constant_conditions(policy: ir.Policy) -> Iterator[Diagnostic]:
    for v, c, is_exception in _conditions(policy):
        seen = outcomes(c.expr)
        if seen is None:
            continue
        if True not in seen:
            what = "exception" if is_exception else "condition"
            yield warning(
                "W401",
                f"{what} `{c.id}` can never match",
                c.expr.span,
                "check the logic: no record makes it true",
            )
        elif seen == {True}:
            if is_exception:
                yield warning(
                    "W403",
                    f"exception `{c.id}` always applies, so no `{v.record}` is ever valid",
                    c.expr.span,
                    "check the logic of the exception",
                )
            else:
                yield warning(
                    "W402",
                    f"condition `{c.id}` matches every record",
                    c.expr.span,
                    "check the logic: it does not depend on the record"
                    + (", so every record is valid" if v.quantifier == "any" else ""),
                )


def check_same_conditions(policy: ir.Policy) -> Iterator[Diagnostic]:
    for v in policy.validities:
        seen: dict[ir.Expr, ir.Condition] = {}
        for c in (*v.conditions, *v.exceptions):
            first = seen.get(c.expr)
            if first is not None:
                yield warning(
                    "W404",
                    f"condition `{c.id}` tests exactly what `{first.id}` tests",
                    c.expr.span,
                    "remove one, or say what tells them apart",
                    [Related(f"`{first.id}` is here", first.expr.span)],
                )
            else:
                seen[c.expr] = c

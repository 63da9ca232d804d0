"""Hypothesis strategies for well-typed conditions and the records they judge
(`csdsl.testing`).

In: a checked record type (`ir.Record`) and a time zone.  Out:
- `typed_conditions(record)`: well-typed boolean conditions over the record's fields, as ASTs;
- `record_values(record, tz, near=...)`: values for the record type (missing ones as None), as
  coercion produces them, optionally drawn often from given values such as `boundaries(expr)`
  (the constants a field is compared with, and their neighbours);
- `plain_value(field, tz)`: a field's plainest value, what shrinking aims for; `on_clock` and
  `ANCHOR` place the datetimes drawn.
`SAMPLE_RECORD` is the text of a record type with a field of every type, required and optional,
for policies built from generated conditions.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from hypothesis import strategies as st

from csdsl import ir, values
from csdsl.syntax import ast

SAMPLE_RECORD = """record R {
  flag: bool
  opt: bool?
  n: int?
  m: int
  x: number?
  note: text?
  day: date?
  start: datetime
  finish: datetime?
  wait: duration?
  tier: enum(regular, key_account)?
}"""


def _by_kind(record: ir.Record, *kinds: ir.Kind) -> list[ir.Field]:
    return [f for f in record.fields if f.type.kind in kinds]


def typed_conditions(record: ir.Record, max_depth: int = 3) -> st.SearchStrategy[ast.Expr]:
    """Well-typed boolean conditions over `record` (ints, numbers, durations, datetimes, text,
    bools and enums), using every operator the type rules allow."""

    def field(f: ir.Field) -> ast.Expr:
        return ast.Name(f.name)

    def numeric(depth: int) -> st.SearchStrategy[ast.Expr]:
        base: list[st.SearchStrategy[ast.Expr]] = [
            st.integers(0, 50).map(ast.Number),
            st.sampled_from([0.5, 1.25, 2.0, 10.0]).map(ast.Number),
            st.integers(0, 200).map(ast.Percent),
        ]
        fs = _by_kind(record, ir.Kind.INT, ir.Kind.NUMBER)
        if fs:
            base.append(st.sampled_from(fs).map(field))
        leaf = st.one_of(*base)
        if depth <= 0:
            return leaf
        sub = numeric(depth - 1)
        shapes = {
            "leaf": leaf,
            "neg": st.builds(ast.Neg, sub),
            "op": st.builds(ast.BinOp, st.sampled_from(["+", "-", "*", "/"]), sub, sub),
        }
        return st.sampled_from(sorted(shapes)).flatmap(shapes.__getitem__)

    def duration(depth: int) -> st.SearchStrategy[ast.Expr]:
        base: list[st.SearchStrategy[ast.Expr]] = [st.integers(0, 3 * 86400).map(ast.Duration)]
        fs = _by_kind(record, ir.Kind.DURATION)
        if fs:
            base.append(st.sampled_from(fs).map(field))
        dts = _by_kind(record, ir.Kind.DATETIME)
        if dts:
            base.append(
                st.builds(
                    lambda a, b: ast.BinOp("-", field(a), field(b)),
                    st.sampled_from(dts),
                    st.sampled_from(dts),
                )
            )
        leaf = st.one_of(*base)
        if depth <= 0:
            return leaf
        sub = duration(depth - 1)
        shapes = {
            "leaf": leaf,
            "op": st.builds(ast.BinOp, st.sampled_from(["+", "-"]), sub, sub),
            "scale": st.builds(
                lambda d, n: ast.BinOp("*", d, ast.Number(n)), sub, st.integers(0, 5)
            ),
        }
        return st.sampled_from(sorted(shapes)).flatmap(shapes.__getitem__)

    def datetime(depth: int) -> st.SearchStrategy[ast.Expr] | None:
        dts = _by_kind(record, ir.Kind.DATETIME)
        if not dts:
            return None
        leaf = st.one_of(
            st.sampled_from(dts).map(field),
            st.datetimes(dt.datetime(2024, 1, 1), dt.datetime(2025, 1, 1)).map(
                lambda d: ast.DateTimeLit(d.replace(microsecond=0))
            ),
        )
        return st.one_of(leaf, st.builds(lambda a, b: ast.BinOp("+", a, b), leaf, duration(0)))

    def atom() -> st.SearchStrategy[ast.Expr]:
        ops = st.sampled_from(["=", "!=", "<", "<=", ">", ">="])
        options: list[st.SearchStrategy[ast.Expr]] = [
            st.booleans().map(ast.Bool),
            st.builds(ast.Compare, ops, numeric(1), numeric(1)),
            st.builds(ast.Compare, ops, duration(1), duration(1)),
            st.builds(
                ast.InList, numeric(0), st.lists(numeric(0), max_size=3).map(tuple), st.booleans()
            ),
        ]
        d = datetime(1)
        if d is not None:
            options.append(st.builds(ast.Compare, ops, d, d))
        for f in _by_kind(record, ir.Kind.BOOL):
            options.append(st.just(field(f)))
        for f in _by_kind(record, ir.Kind.ENUM):
            values = st.sampled_from(f.type.values).map(ast.Name)
            options.append(
                st.builds(ast.Compare, st.sampled_from(["=", "!="]), st.just(field(f)), values)
            )
            options.append(
                st.builds(
                    ast.InList,
                    st.just(field(f)),
                    st.lists(values, max_size=3).map(tuple),
                    st.booleans(),
                )
            )
        for f in _by_kind(record, ir.Kind.TEXT):
            words = st.sampled_from(["", "退款", "a", "ab", "投诉"]).map(ast.String)
            options.append(st.builds(ast.Contains, st.just(field(f)), words))
            options.append(
                st.builds(ast.Compare, st.sampled_from(["=", "!="]), st.just(field(f)), words)
            )
        for f in record.fields:
            options.append(st.builds(ast.IsSet, st.just(field(f))))
            options.append(st.builds(ast.IsMissing, st.just(field(f))))
        return st.one_of(*options)

    def boolean(depth: int) -> st.SearchStrategy[ast.Expr]:
        if depth <= 0:
            return atom()
        sub = boolean(depth - 1)
        # choose the node kind first: a flat one_of would drown and/or/not among the atoms
        shapes: dict[str, st.SearchStrategy[ast.Expr]] = {
            "atom": atom(),
            "and": st.builds(ast.And, sub, sub),
            "or": st.builds(ast.Or, sub, sub),
            "not": st.builds(ast.Not, sub),
        }
        return st.sampled_from(sorted(shapes)).flatmap(shapes.__getitem__)

    return boolean(max_depth)


def record_values(
    record: ir.Record,
    tz: dt.tzinfo = dt.UTC,
    missing: bool = True,
    near: Mapping[str, Sequence[Any]] | None = None,
) -> st.SearchStrategy[dict[str, Any]]:
    """Values for every field of `record`; optional ones are sometimes missing (None).  With
    `near` (field -> values, e.g. from `boundaries`), a field draws one of its values about half
    the time: where a comparison flips, which uniform values rarely hit."""

    def for_field(f: ir.Field) -> st.SearchStrategy[Any]:
        k = f.type.kind
        s: st.SearchStrategy[Any]
        if k is ir.Kind.BOOL:
            s = st.booleans()
        elif k is ir.Kind.INT:
            s = st.integers(-5, 50)
        elif k is ir.Kind.NUMBER:
            s = st.one_of(st.integers(-5, 50), st.sampled_from([0.0, 0.5, 1.25, 24.0, 100.5]))
        elif k is ir.Kind.TEXT:
            s = st.sampled_from(["", "退款", "a", "ab", "客户投诉退款", "xyz"])
        elif k is ir.Kind.DATE:
            s = st.dates(dt.date(2024, 1, 1), dt.date(2025, 1, 1))
        elif k is ir.Kind.DATETIME:
            s = st.datetimes(dt.datetime(2024, 1, 1), dt.datetime(2025, 1, 1)).map(
                lambda d: on_clock(d.replace(microsecond=0), tz)
            )
        elif k is ir.Kind.DURATION:
            s = st.integers(0, 3 * 86400).map(lambda n: dt.timedelta(seconds=n))
        else:
            s = st.sampled_from(f.type.values)
        close = [v for v in (near or {}).get(f.name, ()) if _fits(v, f.type)]
        if close:
            s = st.one_of(s, st.sampled_from(close))  # the plain values first: they shrink
        return st.one_of(st.none(), s) if f.optional and missing else s

    return st.fixed_dictionaries({f.name: for_field(f) for f in record.fields})


ANCHOR = dt.datetime(2024, 10, 29, 9, 0)  # a plain working-day morning, naive


def on_clock(wall: dt.datetime, tz: dt.tzinfo) -> dt.datetime:
    """The instant a naive wall time shows in `tz`, as data is read (`values.instant`: a fixed
    offset, so two values subtract as instants, never as wall times); a time the clocks skip
    moves on by the hour they skip."""
    try:
        return values.instant(wall, tz)
    except ValueError:
        return values.instant(wall + dt.timedelta(hours=1), tz)


def plain_value(f: ir.Field, tz: dt.tzinfo = dt.UTC) -> Any:
    """The plainest value of a field (missing, false, 0, "", the first enum value, ANCHOR):
    what a searched record gets for a field nothing reads, and what shrinking aims for."""
    if f.optional:
        return None
    plain: dict[ir.Kind, Any] = {
        ir.Kind.BOOL: False,
        ir.Kind.INT: 0,
        ir.Kind.NUMBER: 0,
        ir.Kind.TEXT: "",
        ir.Kind.DATE: ANCHOR.date(),
        ir.Kind.DATETIME: on_clock(ANCHOR, tz),
        ir.Kind.DURATION: dt.timedelta(0),
    }
    return plain.get(f.type.kind, f.type.values[0] if f.type.values else None)


def boundaries(e: ir.Expr | None, out: dict[str, list[Any]] | None = None) -> dict[str, list[Any]]:
    """Field -> the constants it is compared with in `e`, each with its neighbours (24h, 24h
    and a second, ...): where a comparison flips.  Adds to `out` when given."""
    out = {} if out is None else out
    if e is None:
        return out
    if isinstance(e, ir.Cmp):
        for f, c in ((e.left, e.right), (e.right, e.left)):
            if isinstance(f, ir.FieldRef) and isinstance(c, ir.Const):
                out.setdefault(f.name, []).extend(_neighbours(c.value))
    for child in ir.children(e):
        boundaries(child, out)
    return out


def _neighbours(c: Any) -> list[Any]:
    if isinstance(c, bool) or c is None:
        return []
    if isinstance(c, dt.timedelta):
        s = dt.timedelta(seconds=1)
        return [c - s, c, c + s] if c > s else [c, c + s]
    if isinstance(c, dt.datetime):
        s = dt.timedelta(seconds=1)
        return [c - s, c, c + s]
    if isinstance(c, int):
        return [c - 1, c, c + 1]
    if isinstance(c, float):
        return [c - 0.5, c, c + 0.5]
    return [c]


def _fits(v: Any, t: ir.Type) -> bool:
    k = t.kind
    if k is ir.Kind.DURATION:
        return isinstance(v, dt.timedelta) and v >= dt.timedelta(0)
    if k is ir.Kind.DATETIME:
        return isinstance(v, dt.datetime)
    if k is ir.Kind.INT:
        return isinstance(v, int) and not isinstance(v, bool)
    if k is ir.Kind.NUMBER:
        return isinstance(v, int | float) and not isinstance(v, bool)
    if k is ir.Kind.ENUM:
        return v in t.values
    return k is ir.Kind.TEXT and isinstance(v, str)

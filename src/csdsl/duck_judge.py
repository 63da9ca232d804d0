"""Validity in SQL, for the DuckDB engine (`csdsl.duck`): the policy's expressions over the
typed columns.

In: the policy, the `Zone` its datetimes are held in (`csdsl.sql.zones`); a record type, a
condition or a `where`, a window.  Out: a validity block translated (`Judge`: outcome SQL per
condition and exception, the guard that sends a row to Python, or why the block runs in Python),
the SELECT adding the outcomes to the typed rows (`judged`), what a row's outcomes mean (`Mask`),
its evidence and people as JSON in SQL, and `in_window` in SQL (`window`).  The translation is
the SQL backend's (`csdsl.sql.exprs.SqlExprs` with the `Doubles` dialect); see `csdsl.duck`'s
docstring ("Values in SQL").
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import TYPE_CHECKING

import attrs
from sqlglot import exp

from csdsl import ir
from csdsl.duck_types import TypedFields, value_col
from csdsl.engine_rows import Window, first_day as _first_day, instant_us as _instant_us
from csdsl.sql.build import (
    US,
    abs_ as _abs,
    alias as _alias,
    and_ as _and,
    binary as _bin,
    case as _case,
    cast as _cast,
    column as _c,
    double as _d,
    fn as _fn,
    integer as _i,
    is_null as _is_null,
    is_true as _is_true,
    not_ as _not,
    or_ as _or,
    select as _select,
    string as _s,
    table as _table,
)
from csdsl.sql.dialects import Doubles
from csdsl.sql.exprs import SqlExprs, SqlUnsupported
from csdsl.sql.zones import Zone

if TYPE_CHECKING:
    from csdsl.api import Policy

Kind = ir.Kind

_EPOCH_DATE = dt.date(1970, 1, 1)


class Mask:
    """What a mask of outcomes means: per condition `1` true, `0` false, `?` unknown; then per
    exception `1` or `0`.  Gives (valid, matched, unknown) as `Verdict` has them."""

    def __init__(self, validity: ir.Validity) -> None:
        self.ids = [c.id for c in validity.conditions]
        self.n = len(self.ids)
        self.all = validity.quantifier == "all"
        self.cache: dict[str, tuple[bool, tuple[str, ...], bool]] = {}

    def __call__(self, mask: str) -> tuple[bool, tuple[str, ...], bool]:
        hit = self.cache.get(mask)
        if hit is None:
            matched = tuple(i for i, bit in zip(self.ids, mask, strict=False) if bit == "1")
            holds = len(matched) == self.n if self.all else bool(matched)
            valid = holds and "1" not in mask[self.n :]
            unknown = not valid and not matched and "?" in mask[: self.n]
            hit = self.cache[mask] = (valid, matched, unknown)
        return hit


@attrs.frozen
class Judge:
    """A validity block translated: outcome SQL per condition and exception, and the guard."""

    validity: ir.Validity
    conditions: tuple[exp.Expr, ...]
    exceptions: tuple[exp.Expr, ...]
    unsafe: exp.Expr
    problem: str | None  # why it runs in Python instead


class Judging:
    """The policy's validity blocks and windows in SQL over the typed columns, each block
    translated once (see the module doc)."""

    def __init__(self, policy: Policy, zone: Zone) -> None:
        self.policy = policy
        self.tz = policy.tz
        self.zone = zone
        self._doubles = Doubles(zone.lo_us, zone.hi_us)
        self._judges: dict[str, Judge] = {}

    def sql(self, e: ir.Expr, at: ir.Condition | ir.Aggregate, guards: list[exp.Expr]) -> exp.Expr:
        """A condition or a `where` over the typed columns (`Doubles`), its guards added to
        `guards`.  Raises `SqlUnsupported` for what SQL cannot compute as Python does."""
        clause = f"condition `{at.id}`" if isinstance(at, ir.Condition) else f"`{at.text}`"
        tr = SqlExprs(self.policy, self._doubles, value_col, clause, at.span)
        sql = tr(e)
        guards += tr.guards
        return sql

    def judge(self, record: str) -> Judge:
        """The validity block of `record` translated (once; `problem` says why it cannot be)."""
        if record in self._judges:
            return self._judges[record]
        validity = self.policy.ir.validity(record)
        assert validity is not None
        guards: list[exp.Expr] = []
        problem = None
        try:
            conds = tuple(self.sql(c.expr, c, guards) for c in validity.conditions)
            excs = tuple(self.sql(c.expr, c, guards) for c in validity.exceptions)
        except SqlUnsupported as exc:
            problem = str(exc)
            conds, excs = (), ()
        unsafe = _fn("coalesce", _or(*guards), exp.false()) if guards else exp.false()
        judge = Judge(validity, conds, excs, unsafe, problem)
        self._judges[record] = judge
        return judge

    def judged(self, judge: Judge, table: str | None = None) -> exp.Select:
        """The typed rows (of the CTE `typed`, or of a loaded `table` with its rowid) with their
        outcomes: `c:<id>` per condition, `x:<id>` per exception, and `unsafe` (a guard)."""
        v = judge.validity
        cols: list[exp.Expr] = [exp.Star()]
        for c, sql in zip(v.conditions, judge.conditions, strict=True):
            cols.append(_alias(sql, "c:" + c.id, quoted=True))
        for c, sql in zip(v.exceptions, judge.exceptions, strict=True):
            cols.append(_alias(sql, "x:" + c.id, quoted=True))
        cols.append(_alias(judge.unsafe, "unsafe", quoted=True))
        if table is None:
            return _select(*cols).from_("typed", copy=False)
        cols.insert(1, exp.column("rowid"))
        return _select(*cols).from_(_table(table), copy=False)

    @staticmethod
    def valid(v: ir.Validity) -> exp.Expr:
        """A judged row's verdict from its outcome columns."""
        conds = [_is_true(_c("c:" + c.id)) for c in v.conditions]
        holds = _and(*conds) if v.quantifier == "all" else _or(*conds)
        if not v.exceptions:
            return holds
        return _and(holds, _not(_or(*(_is_true(_c("x:" + c.id)) for c in v.exceptions))))

    def _evidence_value(self, f: ir.Field, typed: TypedFields) -> exp.Expr:
        """A typed field's value as evidence JSON expects it."""
        v = value_col(f.name)
        k = f.type.kind
        if k is Kind.INT:
            return _cast(v, "BIGINT")
        if k is Kind.NUMBER:
            return _cast(_c("t:" + f.name), "JSON")
        if k is Kind.DATE:
            day = _bin(exp.Add, exp.cast(_s("1970-01-01"), "DATE"), _cast(v, "INTEGER"))
            return _fn("strftime", day, _s("%Y-%m-%d"))
        if k is Kind.DATETIME:
            local = _bin(exp.Add, v, _d(self.zone.offset_us))
            stamp = _fn("make_timestamp", _cast(local, "BIGINT"))
            micros = _bin(exp.Mod, _cast(local, "BIGINT"), _i(US))
            frac = _case(
                (_bin(exp.EQ, micros, _i(0)), _s("")),
                default=exp.DPipe(
                    this=_s("."), expression=_fn("lpad", _cast(micros, "VARCHAR"), _i(6), _s("0"))
                ),
            )
            text: exp.Expr = exp.DPipe(
                this=exp.DPipe(
                    this=_fn("strftime", stamp, _s("%Y-%m-%dT%H:%M:%S")), expression=frac
                ),
                expression=_s(self.zone.suffix),
            )
            return _case((exp.Not(this=_is_null(v)), text))
        if k is Kind.DURATION:
            total = _cast(_bin(exp.Div, v, _d(US)), "BIGINT")
            mag = _abs(total)
            h = _bin(exp.IntDiv, mag, _i(3600))
            m = _bin(exp.IntDiv, _bin(exp.Mod, mag, _i(3600)), _i(60))
            s = _bin(exp.Mod, mag, _i(60))
            part_h = _case(
                (_bin(exp.GT, h, _i(0)), exp.DPipe(this=_cast(h, "VARCHAR"), expression=_s("H"))),
                default=_s(""),
            )
            part_m = _case(
                (_bin(exp.GT, m, _i(0)), exp.DPipe(this=_cast(m, "VARCHAR"), expression=_s("M"))),
                default=_s(""),
            )
            part_s = _case(
                (
                    _or(_bin(exp.GT, s, _i(0)), _bin(exp.EQ, mag, _i(0))),
                    exp.DPipe(this=_cast(s, "VARCHAR"), expression=_s("S")),
                ),
                default=_s(""),
            )
            sign = _case((_bin(exp.LT, total, _i(0)), _s("-")), default=_s(""))
            text = _fn("concat", sign, _s("PT"), part_h, part_m, part_s)
            return _case((exp.Not(this=_is_null(v)), text))
        return v

    def evidence(self, judge: Judge, typed: TypedFields) -> exp.Expr:
        """A judged row's evidence JSON (VARCHAR): per matched condition, the values it read."""
        record = {f.name: f for f in typed.fields}
        pieces: list[exp.Expr] = []
        for c in judge.validity.conditions:
            args: list[exp.Expr] = []
            for name in c.fields:
                args += [_s(name), self._evidence_value(record[name], typed)]
            obj = _cast(_fn("json_object", *args), "VARCHAR")
            key = json.dumps(c.id, ensure_ascii=False) + ":"
            pieces.append(
                _case((_is_true(_c("c:" + c.id)), exp.DPipe(this=_s(key), expression=obj)))
            )
        body = _fn("concat_ws", _s(","), *pieces)
        return exp.DPipe(this=exp.DPipe(this=_s("{"), expression=body), expression=_s("}"))

    def people(self, people: Sequence[str], typed: TypedFields) -> exp.Expr:
        """A row's `people` fields as a JSON object (VARCHAR), valued as evidence is."""
        record = {f.name: f for f in typed.fields}
        args: list[exp.Expr] = []
        for name in people:
            args += [_s(name), self._evidence_value(record[name], typed)]
        return _cast(_fn("json_object", *args), "VARCHAR")

    def window(self, record: ir.Record, window: Window | None) -> exp.Expr:
        """SQL for `in_window` (a record without the window's field is never inside)."""
        if window is None:
            return exp.true()
        name, start, end = window
        f = record.field(name)
        if f is None:
            return exp.false()
        if f.type.kind not in (Kind.DATE, Kind.DATETIME):
            raise ValueError(f"the window's field `{name}` is not a date or datetime")
        v = value_col(name)
        tests: list[exp.Expr] = [exp.Not(this=_is_null(v))]
        if f.type.kind is Kind.DATETIME:
            if start is not None:
                tests.append(_bin(exp.GTE, v, _d(_instant_us(start, self.tz))))
            if end is not None:
                tests.append(_bin(exp.LT, v, _d(_instant_us(end, self.tz))))
        else:
            if start is not None:
                tests.append(_bin(exp.GTE, v, _d((_first_day(start, self.tz) - _EPOCH_DATE).days)))
            if end is not None:
                tests.append(_bin(exp.LT, v, _d((_first_day(end, self.tz) - _EPOCH_DATE).days)))
        return _fn("coalesce", _and(*tests), exp.false())

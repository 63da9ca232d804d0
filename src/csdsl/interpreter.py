"""The reference interpreter: checked IR + a record -> a verdict that says why.

In: an `ir.Validity` and a record as a dict of Python values (already coerced: missing fields are
None).  Out: `Verdict`.  Missing values follow SQL's three-valued logic: a comparison or
arithmetic with a missing operand is unknown (None), `false and unknown` is false, `true or
unknown` is true, and a condition matches only when it is definitely true.  Division by zero and
results out of range are unknown too.  Each expression is compiled once into nested closures.
"""

from __future__ import annotations

import datetime as dt
import math
import operator
import zoneinfo
from collections.abc import Callable, Mapping
from typing import Any

import attrs

from csdsl import ir

Fn = Callable[[Mapping[str, Any]], Any]

COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "=": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
_ARITH: dict[str, Callable[[Any, Any], Any]] = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": operator.truediv,
}


def compile_expr(e: ir.Expr) -> Fn:
    if isinstance(e, ir.Const):
        value = e.value
        return lambda r: value
    if isinstance(e, ir.FieldRef):
        name = e.name
        return lambda r: r.get(name)
    if isinstance(e, ir.Judged | ir.EventRef):
        # a metric's judgements (`MetricEngine.feed`), a rule's event terms (`csdsl.rules`):
        # handed over with the record
        key = e.key
        return lambda r: r.get(key)
    if isinstance(e, ir.DatePart):
        return _date_part(e)
    if isinstance(e, ir.Neg):
        f = compile_expr(e.operand)

        def neg(r: Mapping[str, Any]) -> Any:
            x = f(r)
            if x is None:
                return None
            try:
                return -x
            except OverflowError:  # -timedelta.max: out of range, so unknown
                return None

        return neg
    if isinstance(e, ir.Arith):
        fa, fb, op = compile_expr(e.left), compile_expr(e.right), _ARITH[e.op]

        def arith(r: Mapping[str, Any]) -> Any:
            a = fa(r)
            if a is None:
                return None
            b = fb(r)
            if b is None:
                return None
            try:
                result = op(a, b)
            except (ZeroDivisionError, OverflowError):
                return None
            # a number out of range is unknown, like a datetime out of range
            return None if type(result) is float and not math.isfinite(result) else result

        return arith
    if isinstance(e, ir.Cmp):
        fa, fb, cmp = compile_expr(e.left), compile_expr(e.right), COMPARE[e.op]

        def compare(r: Mapping[str, Any]) -> bool | None:
            a = fa(r)
            if a is None:
                return None
            b = fb(r)
            return None if b is None else cmp(a, b)

        return compare
    if isinstance(e, ir.And | ir.Or):
        fa, fb = compile_expr(e.left), compile_expr(e.right)
        decider = isinstance(e, ir.Or)  # the value that settles it: True for `or`, False for `and`
        settled: bool | None = decider
        open_: bool | None = not decider

        def junction(r: Mapping[str, Any]) -> bool | None:
            a = fa(r)
            if a is decider:
                return settled  # short-circuit: the right side is not evaluated
            b = fb(r)
            if b is decider:
                return settled
            return None if a is None or b is None else open_

        return junction
    if isinstance(e, ir.Not):
        f = compile_expr(e.operand)
        return lambda r: None if (x := f(r)) is None else not x
    if isinstance(e, ir.IsSet):
        f, negated = compile_expr(e.operand), e.negated
        return lambda r: (f(r) is None) if negated else (f(r) is not None)
    if isinstance(e, ir.In):
        f = compile_expr(e.operand)
        items = [compile_expr(i) for i in e.items]
        negated = e.negated

        def in_(r: Mapping[str, Any]) -> bool | None:
            x = f(r)
            if x is None:
                return None
            unknown = False
            for g in items:
                y = g(r)
                if y is None:
                    unknown = True
                elif x == y:
                    return not negated
            return None if unknown else negated

        return in_
    if isinstance(e, ir.Contains):
        fa, fb = compile_expr(e.left), compile_expr(e.right)

        def contains(r: Mapping[str, Any]) -> bool | None:
            a, b = fa(r), fb(r)
            return None if a is None or b is None else b in a

        return contains
    raise AssertionError(f"unexpected IR node {e!r}")  # pragma: no cover


def _date_part(e: ir.DatePart) -> Fn:
    f, part = compile_expr(e.operand), e.part
    zone = dt.UTC if e.timezone == "UTC" else zoneinfo.ZoneInfo(e.timezone)

    def date_part(r: Mapping[str, Any]) -> Any:
        x = f(r)
        if x is None:
            return None
        try:
            local = x.astimezone(zone)
        except (OverflowError, ValueError):  # within a day of the ends of the calendar
            return None
        if part == "date":
            return local.date()
        if part == "weekday":
            return local.isoweekday()
        return dt.timedelta(
            hours=local.hour,
            minutes=local.minute,
            seconds=local.second,
            microseconds=local.microsecond,
        )

    return date_part


@attrs.frozen
class ConditionResult:
    """One condition's outcome and the values it looked at (the "why")."""

    id: str
    wording: str | None
    outcome: bool | None  # None: unknown because a value it needs is missing
    values: tuple[tuple[str, Any], ...]
    file: str
    line: int

    @property
    def matched(self) -> bool:
        return self.outcome is True


@attrs.frozen
class Verdict:
    record_id: Any
    valid: bool
    matched: tuple[str, ...]
    excepted: tuple[str, ...]
    conditions: tuple[ConditionResult, ...]
    exceptions: tuple[ConditionResult, ...]

    @property
    def unknown(self) -> bool:
        """Invalid only for want of data: no condition matched, and one could not be decided
        because a value it needs is missing."""
        return (
            not self.valid and not self.matched and any(c.outcome is None for c in self.conditions)
        )

    def explain(self) -> str:
        """A few lines a person can read: the verdict, then each condition with its values."""
        from csdsl.records import show_value

        head = "valid" if self.valid else "invalid"
        if self.matched:
            head += " because " + ", ".join(self.matched)
        if self.excepted:
            head += " (exception: " + ", ".join(self.excepted) + ")"
        lines = [head]
        for c in (*self.conditions, *self.exceptions):
            mark = {True: "yes", False: "no", None: "unknown"}[c.outcome]
            vals = ", ".join(f"{k}={show_value(v)}" for k, v in c.values)
            lines.append(f"  {mark:<7} {c.id} ({c.file}:{c.line}): {vals}")
        return "\n".join(lines)


@attrs.frozen
class _Compiled:
    cond: ir.Condition
    fn: Fn


class Validator:
    """A compiled validity block: `validator(record)` gives the `Verdict`."""

    def __init__(self, validity: ir.Validity) -> None:
        self.validity = validity
        self._conds = [_Compiled(c, compile_expr(c.expr)) for c in validity.conditions]
        self._excs = [_Compiled(c, compile_expr(c.expr)) for c in validity.exceptions]
        self._all = validity.quantifier == "all"

    @staticmethod
    def _results(compiled: list[_Compiled], record: Mapping[str, Any]) -> list[ConditionResult]:
        return [
            ConditionResult(
                c.cond.id,
                c.cond.wording,
                c.fn(record),
                tuple((f, record.get(f)) for f in c.cond.fields),
                c.cond.span.file,
                c.cond.span.line,
            )
            for c in compiled
        ]

    def __call__(self, record: Mapping[str, Any], record_id: Any = None) -> Verdict:
        conds = self._results(self._conds, record)
        excs = self._results(self._excs, record)
        matched = tuple(c.id for c in conds if c.outcome is True)
        excepted = tuple(c.id for c in excs if c.outcome is True)
        holds = len(matched) == len(conds) if self._all else bool(matched)
        return Verdict(
            record_id, holds and not excepted, matched, excepted, tuple(conds), tuple(excs)
        )

    def matched_ids(self, record: Mapping[str, Any]) -> list[str]:
        """Only the ids of the matched conditions: the fast path for bulk runs."""
        return [c.cond.id for c in self._conds if c.fn(record) is True]

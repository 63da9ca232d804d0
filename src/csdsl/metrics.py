"""Metrics at run time: records in, one value per metric and group out, against its threshold.

In: the checked `ir.Metric`s of a policy, and records fed one at a time (already coerced, as
`RecordReader` gives them: missing fields are None), so that any number of records can stream
through in bounded memory (percentiles keep their values).  Out: `MetricResult`s.

Meaning:
- `count(R where C)` counts the records of type R for which C is definitely true (SQL's
  three-valued logic: an unknown C does not count); `sum`/`mean`/`min`/`max`/`percentile` of
  `R.f` leave out records whose `f` is missing, like SQL's aggregates.  `percentile(q, R.f)` is
  the linear interpolation between closest ranks (numpy's default, SQL's `percentile_cont`).
- A group is the values of the `by` fields (a period of a datetime field is its day
  `2024-10-29`, ISO week `2024-W44` or month `2024-10`, in the policy's time zone); every group
  that any record of the metric falls in is reported.
- A value that cannot be computed is *not applicable*, never 0 or 100%: a division by zero
  (no call wanted a human this month), a mean, minimum or percentile of nothing, a sum or a
  product too large for a number (an aggregate or a value that overflows to infinity, or
  is not a number, in any engine: it would compare as passing `>= 85%` and is no JSON).  Its
  status is `not_applicable` with the reason; otherwise `pass` or `fail` against the threshold.
- A `where` may count what the policy made of a record (`ir.Judged`): its verdict and the
  outcome of each condition are computed here from the record (a verdict that is unknown for
  want of data counts as neither valid nor invalid), and a deadline's status is handed in by
  the caller, who computed the record's timeline from the event log (`feed(..., clocks=...)`:
  the status of each deadline over its cycles, the worst of breached, pending, met,
  not_applicable).  A metric that counts a deadline's status, fed without clocks (no event
  log), is not applicable in every group, with that reason.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import attrs

from csdsl import ir
from csdsl.interpreter import COMPARE, Validator, compile_expr
from csdsl.values import format_duration


def period_key(value: Any, period: str, tz: dt.tzinfo) -> str | None:
    if value is None:
        return None
    day = value.astimezone(tz).date() if isinstance(value, dt.datetime) else value
    if period == "day":
        return day.isoformat()
    if period == "week":
        year, week, _ = day.isocalendar()
        return f"{year}-W{week:02d}"
    return f"{day.year}-{day.month:02d}"


def percentile(values: list[Any], q: float) -> Any:
    """Linear interpolation between closest ranks; durations too."""
    ordered = sorted(values)
    if not ordered:
        return None
    pos, lo, hi = percentile_ranks(len(ordered), q)
    return interpolate(ordered[lo], ordered[hi], pos, lo, hi)


def percentile_ranks(n: int, q: float) -> tuple[float, int, int]:
    """Where the `q`th percentile of `n` sorted values lies: (position, rank below, rank above),
    ranks counted from 0.  Shared with engines that pick the two values themselves (SQL)."""
    pos = (n - 1) * q / 100
    return pos, math.floor(pos), math.ceil(pos)


def interpolate(low: Any, high: Any, pos: float, lo: int, hi: int) -> Any:
    """The percentile from the values at ranks `lo` and `hi` (see `percentile_ranks`)."""
    if lo == hi:
        return low
    return low + (high - low) * (pos - lo)


class _Acc:
    """The running state of one aggregate in one group."""

    __slots__ = ("count", "max", "min", "total", "values")

    def __init__(self) -> None:
        self.count = 0
        self.total: Any = None
        self.min: Any = None
        self.max: Any = None
        self.values: list[Any] = []

    def add(self, func: str, x: Any) -> None:
        self.count += 1
        if func in ("sum", "mean"):
            try:
                self.total = x if self.total is None else self.total + x
            except OverflowError:  # durations past timedelta's range: no finite total
                self.total = math.inf
        elif func == "min":
            self.min = x if self.min is None or x < self.min else self.min
        elif func == "max":
            self.max = x if self.max is None or x > self.max else self.max
        elif func == "percentile":
            self.values.append(x)

    def result(self, agg: ir.Aggregate) -> Any:
        f = agg.func
        if f == "count":
            return self.count
        if f == "sum":
            if self.total is None:
                return dt.timedelta(0) if agg.type.kind is ir.Kind.DURATION else 0
            return self.total
        if f == "mean":
            if self.count == 0:
                return None
            try:
                return self.total / self.count
            except OverflowError:  # an int total too large for a float
                return math.inf
        if f == "min":
            return self.min
        if f == "max":
            return self.max
        return percentile(self.values, agg.q or 0.0)


@attrs.frozen
class Part:
    """One aggregate's value in a group: the evidence a metric's value is computed from."""

    text: str
    value: Any


@attrs.frozen
class MetricResult:
    metric: ir.Metric
    group: tuple[tuple[str, str | None], ...]  # (field or "month of field", value)
    value: Any  # None: not applicable
    status: str  # pass | fail | not_applicable
    parts: tuple[Part, ...]
    reason: str | None = None  # why it is not applicable

    def to_json(self) -> dict[str, Any]:
        m = self.metric
        return {
            "metric": m.name,
            "wording": m.wording,
            "group": dict(self.group),
            "value": _json(self.value),
            "op": m.op,
            "threshold": _json(m.threshold),
            "status": self.status,
            "reason": self.reason,
            "parts": [{"expr": p.text, "value": _json(p.value)} for p in self.parts],
            "clause": {"file": m.span.file, "line": m.span.line},
        }


def _json(x: Any) -> Any:
    if isinstance(x, dt.timedelta):
        return format_duration(x)
    if isinstance(x, float):
        return round(x, 6) if math.isfinite(x) else None  # JSON has no infinity
    return x


def _finite(x: Any) -> bool:
    return not isinstance(x, float) or math.isfinite(x)


def _unusable(text: str, x: Any) -> str:
    """Why a value that is not a finite number is not applicable."""
    return f"`{text}` is not a number" if x != x else f"`{text}` overflowed: too large to compute"


NO_VERDICT = "the verdicts of `{record}` are not computed here (no validity block given)"
NO_CLOCKS = "no event log: `{clocks}` is a clock, computed from the events (give --events)"
WORST = ("breached", "pending", "met", "not_applicable")  # a deadline over its cycles


def clock_statuses(milestones: Iterable[Any]) -> dict[str, str]:
    """Each deadline's status over its cycles, as a metric counts it (`ir.Judged`): the worst of
    its cycles' statuses.  `milestones` are a timeline's (`timeline.Milestone`); warnings,
    updates and escalation steps are not the deadline's own status."""
    found: dict[str, str] = {}
    for m in milestones:
        if m.kind != "deadline":
            continue
        was = found.get(m.clause)
        if was is None or WORST.index(m.status) < WORST.index(was):
            found[m.clause] = m.status
    return found


class MetricEngine:
    """Feed records; ask for the results at the end.  `validities` are the policy's validity
    blocks: a metric that counts a verdict or a condition computes it with them."""

    def __init__(
        self,
        metrics: Iterable[ir.Metric],
        tz: dt.tzinfo,
        validities: Iterable[ir.Validity] = (),
    ) -> None:
        self.metrics = tuple(metrics)
        self.tz = tz
        wanted = {
            a.record
            for m in self.metrics
            for a in ir.aggregates(m.value)
            if a.where is not None and any(j.kind != "deadline" for j in ir.judged(a.where))
        }
        self._validators = {v.record: Validator(v) for v in validities if v.record in wanted}
        self._verdicts = {  # (metric, aggregate) that count a verdict or a condition
            (mi, ai)
            for mi, m in enumerate(self.metrics)
            for ai, a in enumerate(ir.aggregates(m.value))
            if a.where is not None and any(j.kind != "deadline" for j in ir.judged(a.where))
        }
        self._judging = {a.record for m in self.metrics if m.judged for a in ir.aggregates(m.value)}
        # per metric: why it cannot be computed (it counts clocks, and a record came without)
        self._no_clocks: dict[int, str] = {}
        self._clocked = {  # (metric, aggregate) that count a deadline's status
            (mi, ai)
            for mi, m in enumerate(self.metrics)
            for ai, a in enumerate(ir.aggregates(m.value))
            if a.where is not None and any(j.kind == "deadline" for j in ir.judged(a.where))
        }
        # per record type: (metric index, aggregate index, aggregate, compiled where)
        self._by_record: dict[str, list[tuple[int, int, ir.Aggregate, Any]]] = {}
        self._aggs: list[list[ir.Aggregate]] = []
        for mi, m in enumerate(self.metrics):
            aggs = ir.aggregates(m.value)
            self._aggs.append(aggs)
            for ai, a in enumerate(aggs):
                where = compile_expr(a.where) if a.where is not None else None
                self._by_record.setdefault(a.record, []).append((mi, ai, a, where))
        self._state: dict[tuple[int, int, tuple[Any, ...]], _Acc] = {}
        self._groups: list[dict[tuple[Any, ...], None]] = [{} for _ in self.metrics]

    @property
    def record_types(self) -> tuple[str, ...]:
        return tuple(self._by_record)

    def group_of(self, m: ir.Metric, values: Mapping[str, Any]) -> tuple[Any, ...]:
        return tuple(
            period_key(values.get(g.field), g.period, self.tz)
            if g.period is not None
            else values.get(g.field)
            for g in m.groups
        )

    @property
    def judges(self) -> frozenset[str]:
        """The record types some metric counts the verdict, a condition or a clock of."""
        return frozenset(self._judging)

    def judged(
        self, record: str, values: Mapping[str, Any], clocks: Mapping[str, str] | None
    ) -> Mapping[str, Any]:
        """The record's values, with what the policy made of it under `ir.Judged.key`s."""
        if record not in self._judging:
            return values
        out = dict(values)
        validator = self._validators.get(record)
        if validator is not None:
            verdict = validator(values)
            out["valid:valid"] = None if verdict.unknown else verdict.valid
            for c in (*verdict.conditions, *verdict.exceptions):
                out["condition:" + c.id] = c.outcome
        for name, status in (clocks or {}).items():
            out["deadline:" + name] = status
        return out

    def feed(
        self, record: str, values: Mapping[str, Any], clocks: Mapping[str, str] | None = None
    ) -> None:
        """One record.  `clocks`: the status of each of its deadlines (`clock_statuses` of its
        timeline), or None when there is no event log to compute them from."""
        keys: dict[int, tuple[Any, ...]] = {}  # per metric: the group this record falls in
        values = self.judged(record, values, clocks)
        for mi, ai, agg, where in self._by_record.get(record, ()):
            key = keys.get(mi)
            if key is None:
                key = keys[mi] = self.group_of(self.metrics[mi], values)
                self._groups[mi].setdefault(key, None)
            if clocks is None and (mi, ai) in self._clocked:
                names = ", ".join(self.metrics[mi].clocks)
                self._no_clocks.setdefault(mi, NO_CLOCKS.format(clocks=names))
                continue
            if (mi, ai) in self._verdicts and record not in self._validators:
                self._no_clocks.setdefault(mi, NO_VERDICT.format(record=record))
                continue
            if where is not None and where(values) is not True:
                continue
            x = None
            if agg.field is not None:
                x = values.get(agg.field)
                if x is None:
                    continue
            acc = self._state.get((mi, ai, key))
            if acc is None:
                acc = self._state[(mi, ai, key)] = _Acc()
            acc.add(agg.func, x)

    def results(self) -> list[MetricResult]:
        out = []
        for mi, m in enumerate(self.metrics):
            groups = list(self._groups[mi]) or ([()] if not m.groups else [])
            for key in sorted(groups, key=group_order):
                out.append(self.result(mi, key))
        return out

    def result(self, mi: int, key: tuple[Any, ...]) -> MetricResult:
        if mi in self._no_clocks:
            m = self.metrics[mi]
            group = tuple(
                (f"{g.period} of {g.field}" if g.period else g.field, None if v is None else str(v))
                for g, v in zip(m.groups, key, strict=True)
            )
            return MetricResult(m, group, None, "not_applicable", (), self._no_clocks[mi])
        values = [
            (self._state.get((mi, ai, key)) or _Acc()).result(agg)
            for ai, agg in enumerate(self._aggs[mi])
        ]
        return metric_result(self.metrics[mi], key, values)


def group_order(key: tuple[Any, ...]) -> tuple[str, ...]:
    """How the groups of a metric are ordered in its results (ties keep the order first seen)."""
    return tuple("" if v is None else str(v) for v in key)


def empty_value(agg: ir.Aggregate) -> Any:
    """An aggregate's value over no records: 0 for `count` and `sum`, None (not applicable) for
    the others."""
    return _Acc().result(agg)


def metric_result(m: ir.Metric, key: tuple[Any, ...], values: Sequence[Any]) -> MetricResult:
    """A metric's result in one group: `key` holds the group's values (one per `by`), `values`
    the aggregates' values in `ir.aggregates(m.value)` order.  The arithmetic of the metric's
    value and its threshold comparison happen here, for every engine."""
    aggs = ir.aggregates(m.value)
    by_agg = {id(a): v for a, v in zip(aggs, values, strict=True)}
    parts = tuple(Part(a.text, by_agg[id(a)]) for a in aggs)
    value, reason = _evaluate(m.value, by_agg)
    group = tuple(
        (f"{g.period} of {g.field}" if g.period else g.field, None if v is None else str(v))
        for g, v in zip(m.groups, key, strict=True)
    )
    if value is None:
        return MetricResult(m, group, None, "not_applicable", parts, reason)
    ok = COMPARE[m.op](value, m.threshold)
    return MetricResult(m, group, value, "pass" if ok else "fail", parts)


def _evaluate(e: ir.MExpr, values: Mapping[int, Any]) -> tuple[Any, str | None]:
    if isinstance(e, ir.MConst):
        return e.value, None
    if isinstance(e, ir.Aggregate):
        v = values[id(e)]
        if v is None:
            return None, f"`{e.text}` has no values"
        return (v, None) if _finite(v) else (None, _unusable(e.text, v))
    a, why = _evaluate(e.left, values)
    if a is None:
        return None, why
    b, why = _evaluate(e.right, values)
    if b is None:
        return None, why
    if e.op == "/" and not b:
        return None, f"division by zero: `{metric_text(e.right)}` is 0"
    try:
        if e.op == "+":
            v = a + b
        elif e.op == "-":
            v = a - b
        elif e.op == "*":
            v = a * b
        else:
            v = a / b
    except OverflowError:  # an int too large for a float, a duration past timedelta's range
        return None, f"`{metric_text(e)}` overflowed: too large to compute"
    return (v, None) if _finite(v) else (None, _unusable(metric_text(e), v))


def metric_text(e: ir.MExpr) -> str:
    if isinstance(e, ir.Aggregate):
        return e.text
    if isinstance(e, ir.MConst):
        return str(e.value)
    return f"{metric_text(e.left)} {e.op} {metric_text(e.right)}"

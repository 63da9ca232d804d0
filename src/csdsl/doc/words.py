"""Plain words for the checked policy: what `csdsl doc` prints next to each clause.

In: IR nodes (expressions, time specs, transcript rules).  Out: one-line English text, the same
for the same node.  The rendering follows the expression tree faithfully, never simplifies it:
`not a and not (b and c)` reads "a is false, and not (b and c)".  A bool field alone reads as
its name, `x = y` reads "x is y", `is set`/`is missing`/`in [..]` keep their keywords, and the
time between two datetimes reads "the time from a to b".
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import attrs

from csdsl import ir

__all__ = [
    "condition",
    "duration",
    "expr",
    "metric_value",
    "phrase_use",
    "position",
    "require",
    "rule",
    "time_spec",
    "trigger",
    "value",
]

_CMP = {
    "=": "is",
    "!=": "is not",
    "<": "is less than",
    "<=": "is at most",
    ">": "is more than",
    ">=": "is at least",
}
_CMP_TIME = {
    "=": "is",
    "!=": "is not",
    "<": "is before",
    "<=": "is at or before",
    ">": "is after",
    ">=": "is at or after",
}
_ARITH = {"+": "+", "-": "-", "*": "×", "/": "÷"}

_UNITS = (("hour", 3600), ("minute", 60), ("second", 1))


def _plural(n: int | float, unit: str) -> str:
    return f"{_num(n)} {unit}" + ("" if n == 1 else "s")


def _num(v: int | float) -> str:
    if isinstance(v, float):
        if math.isfinite(v) and v == int(v) and abs(v) < 1e15:
            return str(int(v))
        return repr(v)
    return str(v)


def duration(d: dt.timedelta) -> str:
    """`timedelta(hours=24, minutes=1)` -> "24 hours 1 minute"; hours are not folded into days
    (a policy's 48h reads "48 hours", as the standards say it)."""
    seconds = d.total_seconds()
    sign = "minus " if seconds < 0 else ""
    seconds = abs(seconds)
    whole = int(seconds)
    frac = seconds - whole
    if whole == 0 and not frac:
        return "0 seconds"
    parts: list[str] = []
    for unit, size in _UNITS:
        n, whole = divmod(whole, size)
        if n:
            parts.append(_plural(n, unit))
    if frac:
        parts.append(f"{frac:.6f}".rstrip("0").rstrip(".").lstrip("0") + " seconds")
    return sign + " ".join(parts)


def value(v: ir.Value, type: ir.Type | None = None) -> str:
    """A constant as a policy owner reads it (an enum value of `type` by its bare name)."""
    if type is not None and type.kind is ir.Kind.ENUM and isinstance(v, str):
        return v
    if v is None:
        return "missing"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return _num(v)
    if isinstance(v, dt.timedelta):
        return duration(v)
    if isinstance(v, dt.datetime):
        return v.isoformat(sep=" ", timespec="minutes" if not v.second else "seconds")
    if isinstance(v, dt.date):
        return v.isoformat()
    return f"“{v}”"


def _is_time(e: ir.Expr) -> bool:
    return e.type.kind in (ir.Kind.DATETIME, ir.Kind.DATE)


def _connective(e: ir.Expr) -> str | None:
    if isinstance(e, ir.And):
        return "and"
    if isinstance(e, ir.Or):
        return "or"
    return None


def _time_between(e: ir.Expr) -> bool:
    return isinstance(e, ir.Arith) and e.op == "-" and _is_time(e.left) and _is_time(e.right)


def _operand(e: ir.Expr, in_arith: bool = False) -> str:
    """A value inside arithmetic is parenthesised when it is itself arithmetic (the tree's
    grouping stays visible); a comparison binds looser than arithmetic, so needs none."""
    text = _expr(e, top=False)
    return f"({text})" if in_arith and isinstance(e, ir.Arith) else text


def _expr(e: ir.Expr, top: bool) -> str:
    if isinstance(e, ir.Const):
        return value(e.value, e.type)
    if isinstance(e, ir.FieldRef):
        return e.name
    if isinstance(e, ir.Judged):  # a metric's: the verdict, a condition, a deadline's status
        return f"the status of {e.name}" if e.kind == "deadline" else e.name
    if isinstance(e, ir.EventRef):  # a rule's: the record's event log
        if e.which == "count":
            return f"the number of `{e.event}` events"
        return f"the time of the {e.which} `{e.event}` event"
    if isinstance(e, ir.DatePart):  # a rule's: a calendar part, on the policy's clock
        of = _operand(e.operand)
        if e.part == "weekday":
            return f"the weekday of {of} (1 = Monday … 7 = Sunday)"
        return f"the {'date' if e.part == 'date' else 'time of day'} of {of}"
    if isinstance(e, ir.Neg):
        return "minus " + _operand(e.operand, True)
    if isinstance(e, ir.Arith):
        if _time_between(e):
            return f"the time from {_operand(e.right, True)} to {_operand(e.left, True)}"
        return f"{_operand(e.left, True)} {_ARITH[e.op]} {_operand(e.right, True)}"
    if isinstance(e, ir.Cmp):
        words = _CMP_TIME if _is_time(e.left) or _is_time(e.right) else _CMP
        if _is_time_of_day(e.left) and isinstance(e.right, ir.Const):
            return f"{_operand(e.left)} {_CMP_TIME[e.op]} {_clock(e.right.value)}"
        return f"{_operand(e.left)} {words[e.op]} {_operand(e.right)}"
    if isinstance(e, ir.IsSet):
        return f"{_operand(e.operand)} {'is missing' if e.negated else 'is set'}"
    if isinstance(e, ir.In):
        items = ", ".join(_operand(i) for i in e.items)
        return f"{_operand(e.operand)} {'is not in' if e.negated else 'is in'} [{items}]"
    if isinstance(e, ir.Contains):
        return f"{_operand(e.left)} contains {_operand(e.right)}"
    if isinstance(e, ir.Not):
        inner = e.operand
        if isinstance(inner, ir.FieldRef) and inner.type.kind is ir.Kind.BOOL:
            return f"{inner.name} is false"
        text = _expr(inner, top=False)
        simple = isinstance(inner, ir.FieldRef | ir.Const)
        return f"not {text}" if simple else f"not ({text})"
    if isinstance(e, ir.And | ir.Or):
        word = "and" if isinstance(e, ir.And) else "or"
        parts = []
        for part in ir.chain(e):
            text = _expr(part, top=False)
            # a chain of the other connective inside this one keeps its grouping visible
            parts.append(f"({text})" if _connective(part) not in (None, word) else text)
        return (f", {word} " if top else f" {word} ").join(parts)
    raise AssertionError(f"unexpected node {e!r}")  # pragma: no cover


def _is_time_of_day(e: ir.Expr) -> bool:
    return isinstance(e, ir.DatePart) and e.part == "time_of_day"


def _clock(v: ir.Value) -> str:
    """A duration since midnight as a time of day (`12h` -> 12:00)."""
    if isinstance(v, dt.timedelta) and dt.timedelta(0) <= v <= dt.timedelta(days=1):
        minutes = int(v.total_seconds()) // 60
        return f"{minutes // 60:02d}:{minutes % 60:02d}"
    return value(v)


def require(q: ir.Require) -> str:
    """A rule's `require` in plain words: its expression, or a count per day or week."""
    if q.expr is not None:
        return expr(q.expr)
    per = q.per
    assert per is not None
    events = f"{per.count} `{per.event}` event{'' if per.count == 1 else 's'}"
    hours = ""
    if per.hours is not None:
        lo, hi = per.hours
        hours = f" between {lo:%H:%M} and {'24:00' if hi == dt.time(0) else f'{hi:%H:%M}'}"
    if per.period == "day":
        every = "every calendar day"
        ends = "the first and the last day are partial and not counted"
    else:
        every = "every calendar week (Monday to Sunday)"
        ends = "only whole weeks are counted"
    return (
        f"at least {events}{hours} on {every} between the date of {_operand(per.start)} and "
        f"the date of {_operand(per.end)} ({ends}; while {_operand(per.end)} is missing, up to "
        "the time of the audit)"
    )


def expr(e: ir.Expr) -> str:
    """An expression in plain words, e.g. "feedback_form_delay is more than 24 hours"."""
    return _expr(e, top=True)


def condition(e: ir.Expr) -> str:
    """A condition in plain words (the same as `expr`)."""
    return expr(e)


def invariant(inv: ir.Invariant, record: ir.Record | None = None) -> str:
    """An invariant in plain words, its terms named: "the due time of reply", "when
    complaint_ladder must reach team_lead", "the due time of reply if tier were regular"."""
    names: dict[str, str] = {}
    for p in inv.probes:
        if p.kind == "valid":
            continue
        if p.kind == "deadline":
            text = f"the due time of {p.clause}"
        else:
            text = f"when {p.clause} must reach {p.role}"
        if p.overrides:
            types = {f.name: f.type for f in record.fields} if record is not None else {}
            text += " if " + " and ".join(
                f"{k} were {value(v, types.get(k))}" for k, v in p.overrides
            )
        names[p.name] = text

    def rename(e: ir.Expr) -> ir.Expr:
        if isinstance(e, ir.FieldRef):
            return attrs.evolve(e, name=names.get(e.name, e.name))
        changes: dict[str, Any] = {
            a.name: rename(getattr(e, a.name))
            for a in attrs.fields(type(e))
            if isinstance(getattr(e, a.name), _EXPR_TYPES)
        }
        if isinstance(e, ir.In):
            changes["items"] = tuple(rename(i) for i in e.items)
        return attrs.evolve(e, **changes) if changes else e

    return "always: " + expr(rename(inv.expr))


_EXPR_TYPES = (
    ir.Const,
    ir.FieldRef,
    ir.Neg,
    ir.Arith,
    ir.Cmp,
    ir.And,
    ir.Or,
    ir.Not,
    ir.IsSet,
    ir.In,
    ir.Contains,
)


# ---- time ----------------------------------------------------------------------------------


def time_spec(t: ir.TimeSpec) -> str:
    """`2h` -> "2 hours"; `4 working hours on office` -> "4 hours of working time on calendar
    office"."""
    on = f" on calendar {t.calendar}" if t.calendar else ""
    if t.kind == "natural" and isinstance(t.amount, dt.timedelta):
        return duration(t.amount) + on
    if t.kind == "working" and isinstance(t.amount, dt.timedelta):
        return duration(t.amount) + " of working time" + on
    if t.kind == "days" and isinstance(t.amount, int):
        return _plural(t.amount, "working day") + on
    if t.kind == "next_day" and isinstance(t.amount, dt.time):
        return f"by {t.amount.strftime('%H:%M')} the next working day{on}"
    if t.kind == "field_at":
        return f"by the time in `{t.text}`" + (f", {t.about}" if t.about else "")
    if t.kind == "field_for":
        return f"the duration in `{t.text}`" + (f", {t.about}" if t.about else "")
    return t.text  # pragma: no cover


def due(t: ir.TimeSpec) -> str:
    """A deadline's target as a due time: "due within 2 hours", "due by the time in
    `promised_at`, the time promised to the customer" (a target read from the record: where
    the due time comes from); a target whose field is missing does not apply."""
    if t.kind == "field_at":
        return f"due {time_spec(t)} (when it is set)"
    if t.kind == "field_for":
        return f"due within {time_spec(t)} (when it is set)"
    return f"due within {time_spec(t)}"


# ---- transcript rules ------------------------------------------------------------------------


def phrase_use(use: ir.PhraseUse) -> str:
    """A named set by its name, a list written in the rule by its phrases."""
    if use.named:
        return f"a phrase of `{use.key}`"
    return " or ".join(f"“{p}”" for p in use.phrases)


def _turns(n: int, role: str) -> str:
    return f"{n} {role} turn" + ("" if n == 1 else "s")


def trigger(t: ir.TrTrigger | None) -> str:
    if t is None:
        return "the situation's trigger"
    if t.kind == "says":
        said = phrase_use(t.phrases) if t.phrases is not None else "something"
        return f"the {t.role or 'customer'} says {said}"
    if t.kind == "event":
        return f"event `{t.event}`"
    if t.kind == "call":
        return f"an {t.direction} call"
    return f"the {t.role or 'customer'} is silent"


def position(p: ir.TrPosition) -> str:
    if p.kind in ("first", "last"):
        turns = f"{p.role} turn" if p.count == 1 else _turns(p.count, p.role)
        return f"in the {p.kind} {turns}"
    if p.kind == "any":
        return f"in any {p.role} turn"
    if p.kind == "after":
        return f"within {_turns(p.count, p.role)} after {trigger(p.trigger)}"
    if p.kind == "before":
        return f"within {_turns(p.count, p.role)} before {trigger(p.trigger)}"
    if p.kind == "before_hold":
        return "before putting the customer on hold"
    return "after taking the customer off hold"


def _seconds(s: float | None) -> str:
    return duration(dt.timedelta(seconds=s or 0))


def rule(r: ir.TrRule) -> str:
    """What a transcript rule asks, e.g. "the agent must say a phrase of `greeting` in the first
    agent turn"."""
    who = f"the {r.scope}"
    if r.kind == "require" and r.phrases is not None:
        where = f" {position(r.position)}" if r.position is not None else ""
        role = r.position.role if r.position is not None else "agent"
        return f"the {role} must say {phrase_use(r.phrases)}{where}"
    if r.kind == "forbid" and r.phrases is not None:
        text = f"{who} must never say {phrase_use(r.phrases)}"
        if r.except_ is not None:
            text += f" (except within {phrase_use(r.except_)})"
        return text
    if r.kind == "prefer" and r.phrases is not None and r.other is not None:
        text = f"{who} should say {phrase_use(r.phrases)} rather than {phrase_use(r.other)}"
        if r.except_ is not None:
            text += f" (except within {phrase_use(r.except_)})"
        return text
    if r.kind == "hold":
        text = f"a hold lasts at most {_seconds(r.seconds)}"
        if r.other is not None:
            text += f", unless the {r.unless_role or 'customer'} says {phrase_use(r.other)}"
        return text
    if r.kind == "checkin":
        return (
            f"while the customer is on hold, the agent speaks at least every {_seconds(r.seconds)}"
        )
    if r.kind == "rate":
        low, high = _num(r.low or 0), _num(r.high or 0)
        return f"the agent speaks between {low} and {high} characters per minute"
    if r.kind == "call":
        return f"the call lasts at most {_seconds(r.seconds)}"
    if r.kind == "interrupt":
        return "the agent never starts speaking while the customer is still speaking" + (
            f" (an overlap of up to {_seconds(r.seconds)} is not counted)" if r.seconds else ""
        )
    if r.kind == "sentiment" and r.position is not None:
        last = "the last turn" if r.position.count == 1 else f"the last {r.position.count} turns"
        wanted = f"{'not ' if r.negated else ''}{r.sentiment}"
        return (
            f"the {r.position.role}'s sentiment (as the ASR vendor gives it) is {wanted} in "
            f"each of {last} of the {r.position.role}"
        )
    if r.kind == "interruptions":
        vendor = "(the ASR vendor's interruption count)"
        if r.seconds is not None:
            return f"{who} talks over the other side for at most {_seconds(r.seconds)} {vendor}"
        if r.most:
            return f"{who} talks over the other side at most {r.most} times {vendor}"
        return f"{who} never talks over the other side {vendor}"
    if r.kind == "steps":
        steps = []
        for s in r.steps:
            if s.kind == "say" and s.phrases is not None:
                steps.append(f"say {phrase_use(s.phrases)}")
            elif s.kind == "wait":
                steps.append(f"wait {_seconds(s.wait)}")
            else:
                steps.append(f"the event `{s.event}`")
        return "the agent, in this order: " + "; then ".join(steps)
    return r.kind  # pragma: no cover


# ---- metrics -------------------------------------------------------------------------------

_AGG = {"sum": "the total", "mean": "the average", "min": "the smallest", "max": "the largest"}


def _records(a: ir.Aggregate) -> str:
    if a.where is None:
        return f"all {a.record} records"
    return f"{a.record} records where {_expr(a.where, top=False)}"


def _aggregate(a: ir.Aggregate) -> str:
    if a.func == "count":
        return f"the number of {_records(a)}"
    if a.func == "percentile":
        q = _num(a.q if a.q is not None else 0)
        return f"the {q}th percentile of {a.field} over {_records(a)}"
    return f"{_AGG.get(a.func, a.func)} {a.field} over {_records(a)}"


def metric_value(e: ir.MExpr) -> str:
    """What a metric computes: "the share of Call records where connected among all Call
    records" for a ratio of counts."""
    if (
        isinstance(e, ir.MArith)
        and e.op == "/"
        and isinstance(e.left, ir.Aggregate)
        and isinstance(e.right, ir.Aggregate)
        and e.left.func == e.right.func == "count"
    ):
        return f"the share of {_records(e.left)} among {_records(e.right)}"
    if isinstance(e, ir.Aggregate):
        return _aggregate(e)
    if isinstance(e, ir.MConst):
        return value(e.value)

    def part(x: ir.MExpr) -> str:
        text = metric_value(x)
        return f"({text})" if isinstance(x, ir.MArith) else text

    return f"{part(e.left)} {_ARITH.get(e.op, e.op)} {part(e.right)}"

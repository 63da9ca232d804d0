"""Record-level rules: checked IR + a record + its events -> one result per rule, saying why.

In: the `ir.Rule`s of one record type, a record as a dict of Python values (missing fields are
None), its events (sorted by time) and optionally `now`.  Out: `RuleResult`s: `kept`, `broken`,
`unknown` (a value a `require` or the `when` needs is missing: never a finding) or
`not_applicable` (the rule's `when` is false).

The event terms of a rule (`first(E)`, `last(E)`, `count(E)`) are put among the record's values
under their `ir.EventRef.key`, so the interpreter's compiled expressions read them like fields.
`require at least N EVENT per day|week ... from A to B` counts events per local calendar day (or
Monday-Sunday week) lying wholly between the dates of A and B; B missing means "still open": the
periods up to `now` count, and without `now` the count is unknown.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from csdsl import ir
from csdsl.interpreter import Fn, compile_expr
from csdsl.timeline import Event
from csdsl.values import fixed_offset

_DAY = dt.timedelta(days=1)


@attrs.frozen
class RuleResult:
    """One rule's outcome for one record and the values it looked at (the "why")."""

    rule: str
    wording: str | None
    status: str  # one of `ir.RULE_STATUSES`
    severity: str
    points: int | float | None
    failed: tuple[str, ...]  # the `require`s that are false (broken) or unknown, as written
    values: tuple[tuple[str, Any], ...]  # fields and event terms read, with their values
    detail: str | None  # for a count per period: the first period short of it
    file: str
    line: int

    @property
    def broken(self) -> bool:
        return self.status == "broken"

    def explain(self) -> str:
        from csdsl.records import show_value

        head = f"{self.rule} ({self.file}:{self.line}): {self.status}"
        if self.failed:
            head += " (" + "; ".join(self.failed) + ")"
        lines = [head]
        if self.detail:
            lines.append(f"  {self.detail}")
        if self.values:
            lines.append("  " + ", ".join(f"{k}={show_value(v)}" for k, v in self.values))
        return "\n".join(lines)


@attrs.frozen
class _Require:
    require: ir.Require
    fn: Fn | None
    start: Fn | None
    end: Fn | None


@attrs.frozen
class _Compiled:
    rule: ir.Rule
    when: Fn | None
    requires: tuple[_Require, ...]
    events: tuple[str, ...]


class RuleChecker:
    """The compiled rules of one record type: `checker(values, events, now)` gives a
    `RuleResult` per rule, in the order they are declared."""

    def __init__(self, rules: Sequence[ir.Rule]) -> None:
        self.rules = tuple(rules)
        self._zone: dt.tzinfo = dt.UTC
        if rules and rules[0].timezone != "UTC":
            self._zone = zoneinfo.ZoneInfo(rules[0].timezone)
        self._compiled = [
            _Compiled(
                r,
                compile_expr(r.when) if r.when is not None else None,
                tuple(
                    _Require(
                        q,
                        compile_expr(q.expr) if q.expr is not None else None,
                        compile_expr(q.per.start) if q.per is not None else None,
                        compile_expr(q.per.end) if q.per is not None else None,
                    )
                    for q in r.requires
                ),
                r.events,
            )
            for r in rules
        ]
        self.events = tuple(dict.fromkeys(n for r in rules for n in r.events))

    def __call__(
        self,
        values: Mapping[str, Any],
        events: Sequence[Event] | None = (),
        now: dt.datetime | None = None,
        unreadable: int | None = None,
    ) -> list[RuleResult]:
        """`events` None: there is no event log, so a rule that reads one is unknown (its
        events are not known to be absent).  `unreadable`: the line of an event of this record
        that could not be read; a rule that reads events is unknown then too."""
        if events is not None and unreadable is not None:
            why = f"event line {unreadable} of this case could not be read"
            return [
                _no_log(c.rule, why) if c.events else self._one(c, dict(values), {}, now)
                for c in self._compiled
            ]
        env = dict(values)
        by_name: dict[str, list[Event]] = {}
        for ev in events or ():
            by_name.setdefault(ev.name, []).append(ev)
        if events is not None:
            for name in self.events:
                mine = by_name.get(name, [])
                env[f"first({name})"] = self._local(mine[0].at) if mine else None
                env[f"last({name})"] = self._local(mine[-1].at) if mine else None
                env[f"count({name})"] = len(mine)
        return [
            self._one(c, env, by_name, now)
            if events is not None or not c.events
            else _no_log(c.rule, "no event log: it reads " + ", ".join(f"`{e}`" for e in c.events))
            for c in self._compiled
        ]

    def _local(self, at: dt.datetime) -> dt.datetime:
        """An event's time on the policy's clock, as a fixed offset (an instant, as a record's
        datetimes are): the "why" shows it as the data shows its fields."""
        try:
            local = at.astimezone(self._zone)
        except (OverflowError, ValueError):
            return at
        offset = local.utcoffset()
        return local if offset is None else local.replace(tzinfo=fixed_offset(offset))

    def _one(
        self,
        c: _Compiled,
        env: Mapping[str, Any],
        by_name: Mapping[str, list[Event]],
        now: dt.datetime | None,
    ) -> RuleResult:
        r = c.rule
        read: dict[str, None] = {}
        if r.when is not None:
            read.update(dict.fromkeys(ir.terms_used(r.when)))
        failed: list[str] = []
        unknown: list[str] = []
        detail = None
        applies = c.when(env) if c.when is not None else True
        if applies is True:
            for q in c.requires:
                read.update(dict.fromkeys(q.require.fields))
                if q.fn is not None:
                    outcome = q.fn(env)
                else:
                    outcome, why = self._per(q, env, by_name, now)
                    if why is not None and detail is None:
                        detail = why
                if outcome is False:
                    failed.append(q.require.text)
                elif outcome is None:
                    unknown.append(q.require.text)
        if applies is False:
            status = "not_applicable"
        elif applies is None:
            status = "unknown"
        elif failed:
            status = "broken"
        elif unknown:
            status = "unknown"
        else:
            status = "kept"
        return RuleResult(
            r.name,
            r.wording,
            status,
            r.severity,
            r.points,
            tuple(failed) if failed else tuple(unknown) if status == "unknown" else (),
            tuple((k, env.get(k)) for k in read),
            detail if status == "broken" else None,
            r.span.file,
            r.span.line,
        )

    def _per(
        self,
        q: _Require,
        env: Mapping[str, Any],
        by_name: Mapping[str, list[Event]],
        now: dt.datetime | None,
    ) -> tuple[bool | None, str | None]:
        per = q.require.per
        assert per is not None and q.start is not None and q.end is not None
        start, end = q.start(env), q.end(env)
        if end is None:
            end = now
        if start is None or end is None or end < start:
            return None, None  # an end before the start (bad data, `--now` too early): unknown
        try:
            first = start.astimezone(self._zone).date() + _DAY
            last = end.astimezone(self._zone).date() - _DAY
            if per.period == "week":
                first += dt.timedelta(days=(7 - first.weekday()) % 7)  # first whole week's Monday
                last -= dt.timedelta(days=(last.weekday() + 1) % 7)  # last whole week's Sunday
        except (OverflowError, ValueError):  # within a week of the ends of the calendar
            return None, None
        if last < first:
            return True, None  # no whole day (week) between them
        counts: Counter[dt.date] = Counter()
        for ev in by_name.get(per.event, ()):
            local = ev.at.astimezone(self._zone)
            if per.hours is not None:
                lo, hi = per.hours
                t = local.time()
                if t < lo or (hi != dt.time(0) and t >= hi):
                    continue
            day = local.date()
            if first <= day <= last:
                counts[day - dt.timedelta(days=day.weekday()) if per.period == "week" else day] += 1
        step = dt.timedelta(days=7 if per.period == "week" else 1)
        periods = (last - first).days // step.days + 1
        enough = sum(1 for n in counts.values() if n >= per.count)
        if enough == periods:
            return True, None
        day = first
        while counts[day] >= per.count:  # the first period short of the count
            day += step
        word = "week of " if per.period == "week" else ""
        hours = ""
        if per.hours is not None:
            hours = f" in {per.hours[0]:%H:%M}-{per.hours[1]:%H:%M}".replace("-00:00", "-24:00")
        return False, (
            f"{periods - enough} of {periods} {per.period}s short of {per.count} "
            f"`{per.event}`{hours}; the first: {word}{day.isoformat()} "
            f"({counts[day]})"
        )


def _no_log(r: ir.Rule, why: str) -> RuleResult:
    return RuleResult(
        r.name,
        r.wording,
        "unknown",
        r.severity,
        r.points,
        (why,),
        (),
        None,
        r.span.file,
        r.span.line,
    )


def checkers(policy: ir.Policy) -> dict[str, RuleChecker]:
    """A checker per record type that has rules."""
    by_record: dict[str, list[ir.Rule]] = {}
    for r in policy.rules:
        by_record.setdefault(r.record, []).append(r)
    return {name: RuleChecker(rules) for name, rules in by_record.items()}

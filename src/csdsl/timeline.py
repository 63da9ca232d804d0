"""Timelines: the due times a policy sets for one record, checked against its event log.

In: the checked policy (`ir.Deadline`s, `ir.Escalation`s, calendars), one record's values, its
events (sorted by time), and optionally `now`.  Out: `Timeline` with one `Milestone` per due
time: deadlines per cycle, their warnings and periodic updates, and escalation steps; each says
met / breached / pending / not_applicable, the deciding event, how late, and its provenance
(where the clock started, which rule set the target, the pauses and their reasons, the closed
time skipped, the calendar and holiday dataset).

Clock rules, in short: a clock starts at a record field or the first start event; it stops at
the first stop event after its start; pause/resume pairs stop it in between (a pause still open
at the end keeps it paused); after a stop, a reopen event starts a new cycle (or, with
`continue`, resumes the same clock) until the `until` event.  Targets are tried in order and the
first whose condition holds applies; a cap (`at most`) wins when it falls earlier.  Pauses hold
the target and the cap alike.
"""

from __future__ import annotations

import datetime as dt
from array import array
from collections.abc import Iterable, Iterator, Mapping, Sequence, Set
from typing import Any, Protocol, runtime_checkable

import attrs

from csdsl import ir
from csdsl.calendar import CalendarError, WorkCalendar
from csdsl.interpreter import compile_expr
from csdsl.values import in_range

UTC = dt.UTC
ESCALATED = ir.ESCALATED
MAX_UPDATES = 200
Pause = tuple[dt.datetime, dt.datetime, str | None]  # [from, to) and the reason


@attrs.frozen
class Event:
    at: dt.datetime
    name: str
    role: str | None = None
    line: int = 0


_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_US = dt.timedelta(microseconds=1)


class EventLog(Mapping[str, list[Event]]):
    """An event log grouped by case, held compactly: a million cases with a few events each take
    about a third of the memory of `Event` objects.  Each case is one `array` of 64-bit ints:
    its latest time so far, then per event (microseconds since the epoch in UTC, name, role,
    line), with names and roles as indexes into one shared table.  `log[case]` builds that case's
    `Event`s, sorted by time (ties keep the log's order)."""

    def __init__(self) -> None:
        self._cases: dict[str, array[int]] = {}
        self._words: list[str | None] = [None]
        self._index: dict[str | None, int] = {None: 0}
        self.events = 0  # events added
        # cases with an event line that could not be read (case -> its first such line): a rule
        # that reads their events cannot tell what that line said (`csdsl.rules`)
        self.unreadable: dict[str, int] = {}
        self.latest: dt.datetime | None = None  # the latest event of the whole log

    def _word(self, word: str | None) -> int:
        i = self._index.get(word)
        if i is None:
            i = self._index[word] = len(self._words)
            self._words.append(word)
        return i

    def add(self, case: str, event: Event) -> bool:
        """Add an event (`at` timezone-aware); True if it is earlier than an event of the same
        case added before it."""
        us = (event.at - _EPOCH) // _US
        cell = self._cases.get(case)
        if cell is None:
            cell = self._cases[case] = array("q", (us,))
        earlier = us < cell[0]
        if not earlier:
            cell[0] = us
        cell.extend((us, self._word(event.name), self._word(event.role), event.line))
        self.events += 1
        if self.latest is None or event.at > self.latest:
            self.latest = event.at.astimezone(dt.UTC)
        return earlier

    def __getitem__(self, case: str) -> list[Event]:
        cell = self._cases[case]
        words = self._words
        events = [
            Event(_EPOCH + cell[i] * _US, words[cell[i + 1]] or "", words[cell[i + 2]], cell[i + 3])
            for i in range(1, len(cell), 4)
        ]
        events.sort(key=lambda e: e.at)
        return events

    def __iter__(self) -> Iterator[str]:
        return iter(self._cases)

    def __len__(self) -> int:
        return len(self._cases)

    def __contains__(self, case: object) -> bool:
        return case in self._cases

    def only(self, cases: Iterable[str]) -> EventLog:
        """The log of `cases` (this log: it holds them all already; an event log held
        elsewhere, `csdsl.duck_events.DuckEvents`, builds one of just those)."""
        return self


@runtime_checkable
class CaseEvents(Protocol):
    """An event log that gives an `EventLog` of just some of its cases: `EventLog` itself, and
    the duckdb engine's `csdsl.duck_events.DuckEvents`, held in DuckDB."""

    def only(self, cases: Iterable[str]) -> EventLog: ...


@attrs.frozen
class Milestone:
    clause: str
    kind: str  # deadline | warning | update | escalation
    owner: str | None
    due: dt.datetime | None
    status: str  # met | breached | pending | not_applicable
    at: dt.datetime | None = None  # the event that decided it
    late_by: dt.timedelta | None = None
    cycle: int = 1
    message: str = ""
    provenance: Mapping[str, Any] = attrs.field(factory=dict)
    file: str = ""
    line: int = 0


@attrs.frozen
class Timeline:
    record_id: Any
    milestones: tuple[Milestone, ...]
    errors: tuple[str, ...] = ()


def _aware(t: dt.datetime) -> dt.datetime:
    return t.astimezone(UTC)


_OVERFLOW = "a time it needs falls outside the datetimes csdsl can show (0001-01-02 to 9999-12-30)"


def _beyond(rule: str, start: dt.datetime) -> str:
    return (
        f"`{rule}` from {start.astimezone(UTC).isoformat()} falls outside the datetimes csdsl "
        "can show (0001-01-02 to 9999-12-30)"
    )


def _shown(t: dt.datetime, rule: str, start: dt.datetime) -> dt.datetime:
    """`t` if every time zone can show it, else the `CalendarError` of `_beyond`."""
    if t.year in (1, 9999) and not in_range(t):
        raise CalendarError(_beyond(rule, start))
    return t


@attrs.frozen
class _Cycle:
    number: int
    start: dt.datetime
    start_source: str
    stop: Event | None
    pauses: tuple[Pause, ...]
    open_pause: tuple[dt.datetime, str | None] | None  # paused and never resumed


def target_rule(spec: ir.TimeSpec) -> str:
    """A target as the provenance names it: `within 24h`, or for a target read from a field,
    where its due time comes from (`by promised_at, the time promised to the customer`)."""
    if spec.kind in ("field_at", "field_for"):
        word = "by" if spec.kind == "field_at" else "within"
        what = (
            "the datetime in the record's field"
            if spec.kind == "field_at"
            else "the duration in the record's field"
        )
        return f"{word} {spec.text}, {spec.about or what}"
    return f"within {spec.text}"


class TimelineBuilder:
    """Compiled deadlines and ladders of a policy for one record type."""

    def __init__(self, policy: ir.Policy, record: str, tz: dt.tzinfo) -> None:
        self.policy = policy
        self.tz = tz
        self.calendars: dict[str, WorkCalendar] = dict(policy.calendars)
        self.natural = WorkCalendar.always_open("natural time", tz)
        self.deadlines = [d for d in policy.deadlines if d.record == record]
        self.escalations = [e for e in policy.escalations if e.record == record]
        self._when = {
            id(t): compile_expr(t.when)
            for d in self.deadlines
            for t in d.targets
            if t.when is not None
        }

    def event_names(self) -> set[str]:
        return ir.clock_events(self.deadlines, self.escalations)

    # ---- time arithmetic ------------------------------------------------------------------
    def _calendar(self, spec: ir.TimeSpec) -> WorkCalendar:
        return self.natural if spec.calendar is None else self.calendars[spec.calendar]

    def due(
        self, spec: ir.TimeSpec, start: dt.datetime, pauses: Sequence[Pause], fraction: float = 1.0
    ) -> dt.datetime:
        """When `spec` falls due after `start`; `CalendarError` if that is past the datetimes
        csdsl can show (`values.in_range`): the record's timeline gets an error, not a crash."""
        try:
            return _shown(self._due(spec, start, pauses, fraction), spec.text, start)
        except OverflowError:
            raise CalendarError(_beyond(spec.text, start)) from None

    def _due(
        self, spec: ir.TimeSpec, start: dt.datetime, pauses: Sequence[Pause], fraction: float
    ) -> dt.datetime:
        cal = self._calendar(spec)
        spans = [(a, b) for a, b, _ in pauses]
        if isinstance(spec.amount, dt.timedelta):
            return cal.add(start, spec.amount * fraction, spans)
        if spec.kind == "days":
            assert isinstance(spec.amount, int)
            base = cal.end_of_working_day(start, spec.amount)
        else:
            assert isinstance(spec.amount, dt.time)
            base = cal.next_working_day_at(start, spec.amount)
        held = sum(
            (
                cal.open_between(max(a, start), min(b, base))
                for a, b in spans
                if b > start and a < base
            ),
            dt.timedelta(0),
        )
        base = cal.add(base, held) if held else base
        if fraction < 1.0:
            return cal.add(start, cal.open_between(start, base) * fraction)
        return base

    # ---- one record -----------------------------------------------------------------------
    def build(
        self,
        record_id: Any,
        values: Mapping[str, Any],
        events: Sequence[Event],
        now: dt.datetime | None,
    ) -> Timeline:
        milestones: list[Milestone] = []
        errors: list[str] = []
        first_breach: dict[str, Milestone] = {}
        running: set[str] = set()
        fulfilled: dict[str, dt.datetime] = {}
        for d in self.deadlines:
            try:
                ms = self._deadline(d, values, events, now)
            except CalendarError as exc:
                errors.append(f"deadline `{d.name}`: {exc}")
                continue
            except OverflowError:
                errors.append(f"deadline `{d.name}`: {_OVERFLOW}")
                continue
            milestones += ms
            for m in ms:
                if m.kind == "deadline" and m.status == "breached" and d.name not in first_breach:
                    first_breach[d.name] = m
                if m.kind == "deadline" and m.status == "pending":
                    running.add(d.name)
                if m.kind == "deadline" and m.cycle == 1 and m.at is not None:
                    fulfilled.setdefault(d.name, m.at)  # the clock stopped, in time or late
        for e in self.escalations:
            try:
                milestones += self._ladder(e, events, now, first_breach, fulfilled, running)
            except CalendarError as exc:
                errors.append(f"escalation `{e.name}`: {exc}")
            except OverflowError:
                errors.append(f"escalation `{e.name}`: {_OVERFLOW}")
        return Timeline(record_id, tuple(milestones), tuple(errors))

    def untouched(
        self, values: Mapping[str, Any], deadlines: Set[str], ladders: Set[str]
    ) -> list[Milestone]:
        """The clocks of a record nothing has happened to yet (`invariant` terms): the first
        cycle of each named deadline, and the steps of each named ladder as they fall due if
        every clock is missed and nobody acts.  Raises `CalendarError` like `build`."""
        out: list[Milestone] = []
        missed: dict[str, Milestone] = {}
        wanted = set(deadlines) | {
            s.ref for e in self.escalations if e.name in ladders for s in e.steps if s.ref
        }
        for d in self.deadlines:
            if d.name not in wanted:
                continue
            first = self._deadline(d, values, (), None)[0]
            out.append(first)
            if first.due is not None:
                missed[d.name] = attrs.evolve(first, status="breached")
        for e in self.escalations:
            if e.name in ladders:
                out += self._ladder(e, (), None, missed, {})
        return out

    def _target(self, d: ir.Deadline, values: Mapping[str, Any]) -> ir.Target | None:
        """The first target that applies: its `when` holds, and the field it reads, if any
        (`by promised_at`), is set."""
        for t in d.targets:
            if t.time.field is not None and values.get(t.time.field) is None:
                continue
            if t.when is None or self._when[id(t)](values) is True:
                return t
        return None

    @staticmethod
    def _resolved(
        spec: ir.TimeSpec, values: Mapping[str, Any], start: dt.datetime, pauses: list[Pause]
    ) -> tuple[ir.TimeSpec, list[Pause]]:
        """A target read from a field as natural time from the clock's start: `by FIELD` is
        the field's value, which pauses do not move (a promised time stays promised);
        `within FIELD` is the field's duration, paused like any other target."""
        if spec.kind == "field_at" and spec.field is not None:
            at = _aware(values[spec.field])
            return attrs.evolve(spec, kind="natural", amount=at - start), []
        if spec.kind == "field_for" and spec.field is not None:
            return attrs.evolve(spec, kind="natural", amount=values[spec.field]), pauses
        return spec, pauses

    def _cycles(
        self, d: ir.Deadline, values: Mapping[str, Any], events: Sequence[Event]
    ) -> list[_Cycle] | str:
        if d.start_field is not None:
            start = values.get(d.start_field)
            if start is None:
                return f"`{d.start_field}` is missing, so the clock never started"
            start, source = _aware(start), f"field `{d.start_field}`"
        else:
            first = next((e for e in events if e.name == d.start_event), None)
            if first is None:
                return f"no `{d.start_event}` event, so the clock never started"
            start, source = first.at, f"event `{d.start_event}` (line {first.line})"
        pause_names = {p.pause: p for p in d.pauses}
        cycles: list[_Cycle] = []
        number = 1
        pauses: list[Pause] = []
        paused: tuple[dt.datetime, str | None, str] | None = None  # since, reason, resume event
        stop: Event | None = None
        for ev in events:
            if ev.at < start:
                continue
            if stop is None:
                if paused is None and ev.name in pause_names:
                    p = pause_names[ev.name]
                    paused = (ev.at, p.reason, p.resume)
                elif paused is not None and ev.name == paused[2]:
                    pauses.append((paused[0], ev.at, paused[1]))
                    paused = None
                elif ev.name == d.stop_event:
                    if paused is not None:
                        pauses.append((paused[0], ev.at, paused[1]))
                        paused = None
                    stop = ev
                continue
            if d.until_event is not None and ev.name == d.until_event:
                break
            if d.reopen_event is not None and ev.name == d.reopen_event:
                cycles.append(_Cycle(number, start, source, stop, tuple(pauses), None))
                number += 1
                if d.reopen_mode == "continue":
                    pauses.append((stop.at, ev.at, "reopened: the clock continues"))
                    source = f"{source}; continued at `{d.reopen_event}` (line {ev.line})"
                else:
                    start, pauses = ev.at, []
                    source = f"event `{d.reopen_event}` (line {ev.line})"
                stop = None
        open_pause = (paused[0], paused[1]) if paused is not None else None
        cycles.append(_Cycle(number, start, source, stop, tuple(pauses), open_pause))
        return cycles

    def _deadline(
        self,
        d: ir.Deadline,
        values: Mapping[str, Any],
        events: Sequence[Event],
        now: dt.datetime | None,
    ) -> list[Milestone]:
        where: dict[str, Any] = {"file": d.span.file, "line": d.span.line}
        target = self._target(d, values)
        cycles = self._cycles(d, values, events)
        if target is None or isinstance(cycles, str):
            why = cycles if isinstance(cycles, str) else "no target applies to this record"
            return [
                Milestone(
                    d.name,
                    "deadline",
                    None,
                    None,
                    "not_applicable",
                    message=why,
                    file=where["file"],
                    line=where["line"],
                )
            ]
        out = []
        for c in cycles:
            pauses = list(c.pauses)
            if c.open_pause is not None:
                until = max(now, c.open_pause[0]) if now is not None else c.open_pause[0]
                pauses.append((c.open_pause[0], until, c.open_pause[1]))
            own, own_pauses = self._resolved(target.time, values, c.start, pauses)
            due = self.due(own, c.start, own_pauses)
            rule = target_rule(target.time) + (" (default)" if target.default else "")
            applied = "target"
            if d.cap is not None:
                cap_due = self.due(d.cap, c.start, pauses)
                if cap_due < due:
                    due, applied = cap_due, "cap"
            spec = d.cap if applied == "cap" and d.cap is not None else own
            held = pauses if applied == "cap" else own_pauses
            cal = self._calendar(spec)
            prov = {
                "start": {"source": c.start_source, "at": c.start},
                "rule": f"at most {d.cap.text}" if applied == "cap" and d.cap else rule,
                "rule_line": (d.cap.span.line if applied == "cap" and d.cap else target.span.line),
                "calendar": cal.name,
                "dataset": cal.dataset,
                "pauses": [{"from": a, "to": b, "reason": r} for a, b, r in c.pauses if held],
                # the calendar's closed time between start and due (pauses are listed apart)
                "closed_skipped": (due - c.start) - cal.open_between(c.start, due)
                if spec.kind != "natural"
                else dt.timedelta(0),
            }
            status, at, late_by, message = self._judge(due, c, now)
            out.append(
                Milestone(
                    d.name,
                    "deadline",
                    None,
                    due,
                    status,
                    at,
                    late_by,
                    c.number,
                    message,
                    prov,
                    where["file"],
                    where["line"],
                )
            )
            out += self._warning(d, target, spec, c, held, due, now, where)
            out += self._updates(d, c, pauses, events, now, where)
        return out

    @staticmethod
    def _judge(
        due: dt.datetime, c: _Cycle, now: dt.datetime | None
    ) -> tuple[str, dt.datetime | None, dt.timedelta | None, str]:
        if c.stop is not None:
            if c.stop.at <= due:
                return "met", c.stop.at, None, f"`{c.stop.name}` at line {c.stop.line}"
            return (
                "breached",
                c.stop.at,
                c.stop.at - due,
                f"`{c.stop.name}` at line {c.stop.line}, after the due time",
            )
        if c.open_pause is not None and c.open_pause[0] < due:
            reason = f" ({c.open_pause[1]})" if c.open_pause[1] else ""
            return "pending", None, None, f"the clock is paused{reason}"
        if c.open_pause is not None:  # paused only after the due time had passed
            late = (now or c.open_pause[0]) - due
            return "breached", None, late, "the due time passed before the clock was paused"
        if now is not None and now > due:
            return "breached", None, now - due, "no stop event by now"
        return "pending", None, None, "no stop event yet"

    def _warning(
        self,
        d: ir.Deadline,
        target: ir.Target,
        spec: ir.TimeSpec,
        c: _Cycle,
        pauses: list[Pause],
        due: dt.datetime,
        now: dt.datetime | None,
        where: dict[str, Any],
    ) -> list[Milestone]:
        out = []
        points = []
        if d.warn_percent is not None:
            points.append(
                (self.due(spec, c.start, pauses, d.warn_percent), f"warn at {d.warn_percent:.0%}")
            )
        if d.warn_lead is not None:
            rule = f"warn {d.warn_lead} before"
            try:
                points.append((_shown(due - d.warn_lead, rule, due), rule))
            except OverflowError:
                raise CalendarError(_beyond(rule, due)) from None
        for when, rule in points:
            done = c.stop.at if c.stop is not None else None
            if done is not None and done <= when:
                status, msg = "met", "done before the warning point"
            elif (done is not None and done > when) or (now is not None and now > when):
                status, msg = "breached", "still open at the warning point: warn the owner"
            else:
                status, msg = "pending", "the warning point has not been reached"
            out.append(
                Milestone(
                    f"{d.name}.warning",
                    "warning",
                    None,
                    when,
                    status,
                    done,
                    None,
                    c.number,
                    msg,
                    {"rule": rule, "deadline_due": due},
                    where["file"],
                    where["line"],
                )
            )
        return out

    def _updates(
        self,
        d: ir.Deadline,
        c: _Cycle,
        pauses: list[Pause],
        events: Sequence[Event],
        now: dt.datetime | None,
        where: dict[str, Any],
    ) -> list[Milestone]:
        if d.update is None:
            return []
        every, name = d.update
        end = c.stop.at if c.stop is not None else now
        sent = [e for e in events if e.name == name and e.at >= c.start]
        out, prev = [], c.start
        for k in range(1, MAX_UPDATES + 1):
            spec = (
                attrs.evolve(every, amount=every.amount * k)
                if isinstance(every.amount, dt.timedelta | int)
                else every
            )
            point = self.due(spec, c.start, pauses)
            open_now = c.stop is None and now is not None
            if end is not None and point >= end and not open_now:
                break  # the clock stopped before this update fell due
            hit = next((e for e in sent if prev < e.at <= point), None)
            if hit is not None:
                status, at, late, msg = "met", hit.at, None, f"`{name}` at line {hit.line}"
            elif end is not None and point < end:
                # late by the time until the next update, or until the clock stopped / now
                nxt = next((e for e in sent if e.at > point), None)
                until = nxt.at if nxt is not None and nxt.at < end else end
                status, at, late, msg = "breached", None, until - point, f"no `{name}` in time"
            else:
                status, at, late, msg = "pending", None, None, f"waiting for `{name}`"
            out.append(
                Milestone(
                    f"{d.name}.update",
                    "update",
                    None,
                    point,
                    status,
                    at,
                    late,
                    c.number,
                    msg,
                    {"rule": f"update every {every.text}"},
                    where["file"],
                    where["line"],
                )
            )
            prev = point
            if end is None or point >= end or isinstance(every.amount, dt.time):
                break
        return out

    def _ladder(
        self,
        e: ir.Escalation,
        events: Sequence[Event],
        now: dt.datetime | None,
        breaches: Mapping[str, Milestone],
        fulfilled: Mapping[str, dt.datetime],
        running: Set[str] = frozenset(),
    ) -> list[Milestone]:
        out: list[Milestone] = []
        escalations = [ev for ev in events if ev.name == ESCALATED]
        clock = next((s.ref for s in e.steps if s.kind == "breach" and s.ref), None)
        done_at = fulfilled.get(clock) if clock else None
        previous: dt.datetime | None = None
        for step in e.steps:
            where = (step.span.file, step.span.line)
            clause = f"{e.name}: {step.source} -> {step.target}"
            trigger, why = None, ""
            if step.kind == "breach":
                m = breaches.get(step.ref or "")
                if m is not None and m.due is not None:
                    trigger, why = m.due, f"`{step.ref}` breached"
            elif step.kind == "event":
                hit = next((ev for ev in events if ev.name == step.ref), None)
                if hit is not None:
                    trigger, why = hit.at, f"`{step.ref}` at line {hit.line}"
            elif previous is not None and step.after is not None:
                trigger = self.due(step.after, previous, [])
                why = f"{step.after.text} after the previous step"
            # a time-driven step is moot once the clock has stopped by the step's due time;
            # a step triggered by an event (an unsatisfied customer) still counts
            step_due = None
            if trigger is not None:
                step_due = self.due(step.within, trigger, []) if step.within else trigger
            fulfilled_first = (
                step.kind != "event"
                and step_due is not None
                and done_at is not None
                and done_at <= step_due
            )
            if trigger is None or fulfilled_first:
                if trigger is None and step.kind == "breach" and step.ref in running:
                    # the clock is still running: this step may yet be needed
                    status, msg = "pending", f"`{step.ref}` is still running"
                elif trigger is None:
                    status, msg = "not_applicable", "not triggered"
                else:
                    status, msg = "not_applicable", "the clock was fulfilled first"
                out.append(
                    Milestone(
                        clause,
                        "escalation",
                        step.target,
                        None,
                        status,
                        message=msg,
                        file=where[0],
                        line=where[1],
                    )
                )
                previous = None
                continue
            due = step_due
            assert due is not None
            prov = {
                "trigger": why,
                "triggered_at": trigger,
                "rule": f"within {step.within.text}" if step.within else "at once",
            }
            if step.kind == "after":
                prov["previous_step_at"] = previous
            idx = e.roles.index(step.target)
            # an escalation to the role counts whenever it happened: early is not late
            hit = next((ev for ev in escalations if ev.role == step.target), None)
            higher = next(
                (
                    ev
                    for ev in escalations
                    if ev.role in e.roles
                    and e.roles.index(ev.role) > idx
                    and (hit is None or ev.at < hit.at)
                ),
                None,
            )
            if higher is not None:
                status, at, late, msg = (
                    "breached",
                    higher.at,
                    None,
                    f"skipped a level: escalated straight to `{higher.role}` at line {higher.line}",
                )
            elif hit is not None and hit.at <= due:
                status, at, late, msg = "met", hit.at, None, f"escalated at line {hit.line}"
            elif hit is not None:
                status, at, late, msg = (
                    "breached",
                    hit.at,
                    hit.at - due,
                    f"escalated late, at line {hit.line}",
                )
            elif now is not None and now > due:
                status, at, late, msg = "breached", None, now - due, "never escalated"
            else:
                status, at, late, msg = "pending", None, None, "not escalated yet"
            out.append(
                Milestone(
                    clause,
                    "escalation",
                    step.target,
                    due,
                    status,
                    at,
                    late,
                    1,
                    msg,
                    prov,
                    where[0],
                    where[1],
                )
            )
            previous = hit.at if hit is not None else due
        return out

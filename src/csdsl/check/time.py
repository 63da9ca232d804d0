"""Names, types and consistency of calendars, deadlines and escalation ladders: AST -> IR.

In: the root module's `calendar`, `deadline` and `escalation` blocks and the `Lowering` (records,
time zone, diagnostics).  Out: `ir` calendars, deadlines and escalations, plus diagnostics:
unknown names with "did you mean", bad opening hours, a calendar with no open time, working
time without a calendar, a deadline without start/stop/target, targets that leave some records
without a deadline, a warning at or after its deadline, a cap shorter than a target, undeclared
roles, steps that go back down the ladder (a cycle) or skip a level.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
import zoneinfo
from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal, Protocol

from csdsl import ir
from csdsl.calendar import WEEKDAYS, WorkCalendar
from csdsl.check.constant import outcomes
from csdsl.diagnostics import Related, did_you_mean, rename, warning
from csdsl.source import Span
from csdsl.syntax import ast
from csdsl.syntax.format import stmt_text, time_text
from csdsl.values import MAX_SECONDS

if TYPE_CHECKING:
    from csdsl.check.lower import Lowering

Kind = ir.Kind


class HasSpan(Protocol):
    @property
    def span(self) -> Span: ...


UNITS = {"hours": 3600, "hour": 3600, "minutes": 60, "minute": 60, "days": None, "day": None}
_HOURS = re.compile(r"(\d{2}):(\d{2})-(\d{2}):(\d{2})")


def lower_time(o: Lowering, module: ast.Module) -> None:
    """Lower the time blocks of `module` into `o.calendars`, `o.deadlines`, `o.escalations`."""
    cals = [i for i in module.items if isinstance(i, ast.CalendarDecl)]
    o.unique((c.name for c in cals), "calendar")
    o.calendars = {c.name.name: _calendar(o, c) for c in reversed(cals)}
    dls = [i for i in module.items if isinstance(i, ast.DeadlineDecl)]
    o.unique((d.name for d in dls), "deadline")
    o.deadlines = {}
    for d in dls:
        lowered = _deadline(o, d)
        if lowered is not None:
            o.deadlines.setdefault(lowered.name, lowered)
    escs = [i for i in module.items if isinstance(i, ast.EscalationDecl)]
    o.unique((e.name for e in escs), "escalation")
    o.escalations = [e for e in (_escalation(o, x) for x in escs) if e is not None]


def _once(o: Lowering, stmts: Sequence[HasSpan], what: str) -> None:
    for extra in stmts[1:]:
        o.err(
            "E230",
            f"`{what}` is given twice",
            extra.span,
            f"keep one `{what}` line",
            [Related("the first one", stmts[0].span)],
        )


# ---- calendars -----------------------------------------------------------------------------


def _calendar(o: Lowering, c: ast.CalendarDecl) -> WorkCalendar:
    o.not_a_keyword(c.name, "calendar")
    tz = o.tz
    zones = [s for s in c.stmts if isinstance(s, ast.CalTimezone)]
    _once(o, zones, "timezone")
    if zones:
        try:
            tz = zoneinfo.ZoneInfo(zones[0].name)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            o.err(
                "E207",
                f"unknown time zone `{zones[0].name}`",
                zones[0].span,
                did_you_mean(zones[0].name, zoneinfo.available_timezones())
                or "use an IANA name such as `Asia/Shanghai`",
                fixes=rename(
                    zones[0].span, zones[0].name, zoneinfo.available_timezones(), 'timezone "{}"'
                ),
            )
    weekly: list[list[tuple[dt.time, dt.time | None]]] = [[] for _ in range(7)]
    errors_before = len(o.diags)
    last_open: list[ast.CalOpen | ast.CalAlways | None] = [None] * 7
    for s in c.stmts:
        if isinstance(s, ast.CalAlways):
            for i, day in enumerate(weekly):
                day.append((dt.time(0), None))
                last_open[i] = s
        elif isinstance(s, ast.CalOpen):
            days = [d for r in s.days for d in _days(o, r)]
            for text in s.hours:
                interval = _interval(o, text, s.span)
                if interval is not None:
                    for d in days:
                        weekly[d].append(interval)
                        last_open[d] = s
    overlapping = []
    for i, day in enumerate(weekly):
        day.sort(key=lambda iv: iv[0])
        if any(a1 is None or a1 > b0 for (_, a1), (b0, _) in itertools.pairwise(day)):
            overlapping.append(WEEKDAYS[i])
    if overlapping:
        culprit = last_open[WEEKDAYS.index(overlapping[0])]  # the line that added the overlap
        o.err(
            "E212",
            f"opening hours overlap on {', '.join(overlapping)} in calendar `{c.name.name}`",
            culprit.span if culprit is not None else c.name.span,
            "list each stretch of opening time once",
        )
    statutory = None
    sets = [s for s in c.stmts if isinstance(s, ast.CalHolidays)]
    _once(o, sets, "holidays")
    if sets:
        if sets[0].dataset.name == "china":
            statutory = "china"
        else:
            o.err(
                "E213",
                f"unknown holiday dataset `{sets[0].dataset.name}`",
                sets[0].dataset.span,
                "the dataset available is `china` (statutory holidays "
                "and make-up working days); list other dates with `closed` / `working`",
            )
    closed = frozenset(
        d for s in c.stmts if isinstance(s, ast.CalDates) and not s.working for d in s.dates
    )
    working = frozenset(
        d for s in c.stmts if isinstance(s, ast.CalDates) and s.working for d in s.dates
    )
    cal = WorkCalendar(c.name.name, tz, tuple(tuple(d) for d in weekly), statutory, closed, working)
    rejected = len(o.diags) > errors_before  # a bad `open` line: do not pile on
    if not cal.has_open_time() and not rejected:
        o.err(
            "E214",
            f"calendar `{c.name.name}` has no open time",
            c.name.span,
            "add `open mon-fri 09:00-18:00` (or `open 24x7`)",
        )
    return cal


def _days(o: Lowering, r: ast.DayRange) -> list[int]:
    def index(ident: ast.Ident) -> int | None:
        name = ident.name.lower()[:3]
        if name in WEEKDAYS and ident.name.lower() in (name, _FULL[name]):
            return WEEKDAYS.index(name)
        o.err(
            "E211",
            f"unknown day `{ident.name}`",
            ident.span,
            did_you_mean(ident.name.lower(), [*WEEKDAYS, *_FULL.values()])
            or "days are mon, tue, wed, thu, fri, sat, sun",
            fixes=rename(ident.span, ident.name, [*WEEKDAYS, *_FULL.values()]),
        )
        return None

    first = index(r.first)
    last = index(r.last) if r.last is not None else first
    if first is None or last is None:
        return []
    if last < first:
        o.err(
            "E211",
            f"the day range `{r.first.name}-{r.last.name if r.last else ''}` runs backwards",
            r.first.span,
            "write ranges from Monday towards Sunday, e.g. `mon-fri`, or list the days: `sat, sun`",
        )
        return []
    return list(range(first, last + 1))


_FULL = {
    "mon": "monday",
    "tue": "tuesday",
    "wed": "wednesday",
    "thu": "thursday",
    "fri": "friday",
    "sat": "saturday",
    "sun": "sunday",
}


def _interval(o: Lowering, text: str, span: Span) -> tuple[dt.time, dt.time | None] | None:
    m = _HOURS.fullmatch(text)
    assert m is not None  # the grammar's HOURS token
    h0, m0, h1, m1 = (int(g) for g in m.groups())
    if h0 > 23 or m0 > 59 or h1 > 24 or m1 > 59 or (h1 == 24 and m1):
        o.err(
            "E212",
            f"`{text}` is not a time range of one day",
            span,
            "write hours as HH:MM-HH:MM between 00:00 and 24:00",
        )
        return None
    start = dt.time(h0, m0)
    end = None if h1 == 24 else dt.time(h1, m1)
    if end is not None and end <= start:
        o.err(
            "E212",
            f"`{text}` ends before it starts",
            span,
            "opening hours cannot cross midnight: split them, e.g. `22:00-24:00` on one day "
            "and `00:00-02:00` on the next",
        )
        return None
    return (start, end)


# ---- time specs ----------------------------------------------------------------------------


def _time(
    o: Lowering, t: ast.TimeSpec, default_cal: str | None, in_deadline: bool = True
) -> ir.TimeSpec | None:
    a, text = t.amount, time_text(t)
    # the grammar allows a field only as a deadline's target, which `_field_time` lowers
    assert not isinstance(a, ast.FieldDue)
    cal = t.calendar.name if t.calendar is not None else default_cal
    if t.calendar is not None and t.calendar.name not in o.calendars:
        o.err(
            "E226",
            f"unknown calendar `{t.calendar.name}`",
            t.calendar.span,
            did_you_mean(t.calendar.name, o.calendars)
            or "declare it with `calendar NAME { open mon-fri 09:00-18:00 }`",
            fixes=rename(t.calendar.span, t.calendar.name, o.calendars),
        )
        return None
    if isinstance(a, ast.Natural):
        if t.calendar is not None:
            o.err(
                "E227",
                f"`{time_text(t)}`: natural time does not depend on a calendar",
                t.span,
                f"for working time write `{_as_working(a.duration.seconds)} on "
                f"{t.calendar.name}`; for elapsed time drop `on {t.calendar.name}`",
            )
            return None
        return ir.TimeSpec("natural", dt.timedelta(seconds=a.duration.seconds), None, text, t.span)
    if cal is None:
        o.err(
            "E225",
            f"`{text}` needs a calendar",
            t.span,
            f"say which: `{text} on {_one(o)}`"
            + (f", or `calendar {_one(o)}` in the deadline" if in_deadline else ""),
        )
        return None
    if isinstance(a, ast.ByNextDay):
        h, m = (int(x) for x in a.clock.split(":"))
        if h > 23 or m > 59:
            o.err("E212", f"`{a.clock}` is not a time of day", t.span, "write HH:MM, e.g. 18:00")
            return None
        return ir.TimeSpec("next_day", dt.time(h, m), cal, text, t.span)
    unit = a.unit.name
    if unit not in UNITS:
        o.err(
            "E224",
            f"unknown unit `{unit}`",
            a.unit.span,
            did_you_mean(unit, UNITS)
            or "write `working hours`, `working minutes` or `working days`",
            fixes=rename(a.unit.span, unit, UNITS),
        )
        return None
    size = UNITS[unit]
    if size is None:
        if a.amount < 1:
            o.err(
                "E224",
                "a number of working days must be at least 1",
                t.span,
                "write `1 working day` for the end of the next working day",
            )
            return None
        return ir.TimeSpec("days", a.amount, cal, text, t.span)
    if a.amount * size > MAX_SECONDS:
        o.err(
            "E224",
            f"`{text}` is too long a working time",
            t.span,
            "durations are at most 999999999 days",
        )
        return None
    return ir.TimeSpec("working", dt.timedelta(seconds=a.amount * size), cal, text, t.span)


def _field_time(
    o: Lowering, t: ast.TimeSpec, a: ast.FieldDue, record: ir.Record
) -> ir.TimeSpec | None:
    """`by FIELD` (a datetime field: the due time) or `within FIELD` (a duration field)."""
    want = Kind.DATETIME if a.by else Kind.DURATION
    word = "datetime" if a.by else "duration"
    f = record.field(a.field.name)
    names = [x.name for x in record.fields if x.type.kind is want]
    others = (
        f"its {word} fields are " + ", ".join(f"`{n}`" for n in names)
        if names
        else f"declare one, e.g. `{'promised_at: datetime?' if a.by else 'agreed_wait: duration?'}`"
    )
    if f is None:
        o.err(
            "E235",
            f"`{a.field.name}` is not a field of `{record.name}`",
            a.field.span,
            did_you_mean(a.field.name, names) or others,
            fixes=rename(a.field.span, a.field.name, names),
        )
        return None
    if f.type.kind is not want:
        swap = (
            f"for a duration write `within {a.field.name}` (elapsed time from the start)"
            if a.by
            else f"for a datetime write `by {a.field.name}` (the due time itself)"
        )
        o.err(
            "E236",
            f"`{'by' if a.by else 'within'} {a.field.name}`: `{a.field.name}` is "
            f"{_article(str(f.type))}, not a {word}",
            a.field.span,
            swap
            if f.type.kind in (Kind.DATETIME, Kind.DURATION)
            else (did_you_mean(a.field.name, names) or others),
            fixes=[]
            if f.type.kind in (Kind.DATETIME, Kind.DURATION)
            else rename(a.field.span, a.field.name, names),
        )
        return None
    kind: Literal["field_at", "field_for"] = "field_at" if a.by else "field_for"
    return ir.TimeSpec(kind, a.field.name, None, a.field.name, t.span, a.about)


def _one(o: Lowering) -> str:
    """The policy's calendar when it has exactly one, else a placeholder."""
    return next(iter(o.calendars)) if len(o.calendars) == 1 else "CALENDAR"


def _as_working(seconds: int) -> str:
    if seconds % 3600 == 0:
        return f"{seconds // 3600} working hours"
    return f"{seconds // 60} working minutes"


def _article(word: str) -> str:
    return ("an " if word[:1] in "aeiou" else "a ") + word


def _lower_bound(t: ir.TimeSpec) -> dt.timedelta | None:
    """The least natural time a spec can take (working time never runs faster than natural)."""
    if isinstance(t.amount, dt.timedelta):
        return t.amount
    return None


# ---- deadlines -----------------------------------------------------------------------------


def _deadline(o: Lowering, d: ast.DeadlineDecl) -> ir.Deadline | None:
    o.not_a_keyword(d.name, "deadline")
    record = o.record_named(d.record)
    if record is None:
        return None

    def of(kind: type) -> list:  # type: ignore[type-arg]
        return [s for s in d.stmts if isinstance(s, kind)]

    starts, stops, caps, warns, updates, reopens, cals = (
        of(ast.DlStart),
        of(ast.DlStop),
        of(ast.DlCap),
        of(ast.DlWarn),
        of(ast.DlUpdate),
        of(ast.DlReopen),
        of(ast.DlCalendar),
    )
    for group, word in (
        (starts, "starts"),
        (stops, "stops on"),
        (caps, "at most"),
        (updates, "update every"),
        (reopens, "reopens on"),
        (cals, "calendar"),
    ):
        _once(o, group, word)
    pct = [w for w in warns if w.percent is not None]
    lead = [w for w in warns if w.lead is not None]
    _once(o, pct, "warn at")
    _once(o, lead, "warn ... before")
    default_cal = None
    if cals:
        if cals[0].name.name in o.calendars:
            default_cal = cals[0].name.name
        else:
            o.err(
                "E226",
                f"unknown calendar `{cals[0].name.name}`",
                cals[0].name.span,
                did_you_mean(cals[0].name.name, o.calendars) or "declare it with `calendar`",
                fixes=rename(cals[0].name.span, cals[0].name.name, o.calendars),
            )
    ok = True
    start_field = start_event = None
    if not starts:
        o.err(
            "E220",
            f"deadline `{d.name.name}` has no start",
            d.name.span,
            "add `starts at <datetime field>` or `starts on <event>`",
        )
        ok = False
    elif starts[0].field is not None:
        f = record.field(starts[0].field.name)
        if f is None or f.type.kind is not Kind.DATETIME:
            names = [x.name for x in record.fields if x.type.kind is Kind.DATETIME]
            what = "not a field" if f is None else f"{_article(str(f.type))}, not a datetime"
            o.err(
                "E221",
                f"`{starts[0].field.name}` is {what} of `{record.name}`",
                starts[0].field.span,
                did_you_mean(starts[0].field.name, names)
                or (
                    "its datetime fields are " + ", ".join(f"`{n}`" for n in names)
                    if names
                    else "the clock starts at a datetime field, or `starts on <event>`"
                ),
                fixes=rename(starts[0].field.span, starts[0].field.name, names),
            )
            ok = False
        start_field = starts[0].field.name
    else:
        start_event = starts[0].event.name
    if not stops:
        o.err(
            "E222",
            f"deadline `{d.name.name}` has no stop event",
            d.name.span,
            "add `stops on <event>`, e.g. `stops on replied`",
        )
        ok = False
    targets: list[ir.Target] = []
    rules = [s for s in d.stmts if isinstance(s, ast.DlTarget)]
    if not rules:
        o.err(
            "E223",
            f"deadline `{d.name.name}` has no target",
            d.name.span,
            "add `within 24h` (or `within 2 working hours on office when ...`)",
        )
        ok = False
    from csdsl.check.lower import Exprs, _bool_hint  # lower imports this module

    for r in rules:
        t = (
            _field_time(o, r.time, r.time.amount, record)
            if isinstance(r.time.amount, ast.FieldDue)
            else _time(o, r.time, default_cal)
        )
        when = None
        if r.when is not None:
            when = Exprs(o, record).lower(r.when)
            if when.type.kind not in (Kind.BOOL, Kind.ERROR):
                o.err(
                    "E302",
                    f"the condition of `{stmt_text(r)}` is not a yes/no test",
                    r.when.span,
                    _bool_hint(when),
                )
        if t is None:
            ok = False
        else:
            targets.append(ir.Target(t, when, r.default, r.span))
    defaults = [r for r in rules if r.default]
    _once(o, defaults, "otherwise within")
    if defaults and rules[-1] is not defaults[0]:
        o.err(
            "E230",
            "`otherwise within` must be the last target",
            defaults[0].span,
            "targets are tried in order; move the default after the others",
        )
    cap = _time(o, caps[0].time, default_cal) if caps else None
    if caps and cap is None:
        ok = False
    if not ok:
        return None
    # coverage: a record whose conditions all fail gets no deadline
    conditional = [t.when for t in targets if t.when is not None]
    if not defaults and len(conditional) == len(targets) and conditional:
        union = conditional[0]
        for c in conditional[1:]:
            union = ir.Or(union, c)
        seen = outcomes(union)
        from csdsl.check.coverage import covered, no_target_hint

        if seen is not None and seen != {True} and not covered(targets):
            witness = no_target_hint(targets, o.tz_name)
            o.diags.append(
                warning(
                    "W510",
                    f"some `{record.name}` records match no target of `{d.name.name}`",
                    d.name.span,
                    (f"{witness}; " if witness else "")
                    + "add `otherwise within ...` as the last target, or cover every "
                    "case (missing values included)",
                )
            )
    if cap is not None:
        cap_len = _lower_bound(cap)
        for target in targets:
            low = _lower_bound(target.time)
            if cap_len is not None and cap.kind == "natural" and low is not None and low > cap_len:
                o.diags.append(
                    warning(
                        "W511",
                        f"the cap `at most {cap.text}` is shorter than the target "
                        f"`{target.time.text}`, so the target never applies",
                        target.span,
                        "lengthen the cap or shorten the target",
                        [Related("the cap", cap.span)],
                    )
                )
    warn_pct = None
    if pct:
        value = pct[0].percent.value
        if not 0 < value < 100:
            o.err(
                "E228",
                f"a warning at {value}% is {'at or after' if value >= 100 else 'at'} "
                "the " + ("deadline" if value >= 100 else "start"),
                pct[0].span,
                "warn part-way through, e.g. `warn at 75%`",
            )
        warn_pct = value / 100
    warn_lead = None
    if lead:
        assert lead[0].lead is not None
        warn_lead = dt.timedelta(seconds=lead[0].lead.seconds)
        shortest = [x for x in (_lower_bound(g.time) for g in targets) if x is not None]
        if warn_lead <= dt.timedelta(0):
            o.err(
                "E228",
                f"`warn {lead[0].lead.text} before` falls at the deadline itself",
                lead[0].span,
                "warn some time before it, e.g. `warn 30m before`",
            )
        elif shortest and warn_lead >= min(shortest):
            o.err(
                "E228",
                f"`warn {lead[0].lead.text} before` falls at or before the start of the clock",
                lead[0].span,
                "warn closer to the deadline than its length",
            )
    update = None
    if updates:
        every = _time(o, updates[0].every, default_cal)
        if every is not None:
            if isinstance(every.amount, dt.timedelta) and every.amount <= dt.timedelta(0):
                o.err(
                    "E228",
                    f"`update every {every.text}`: the period has no length",
                    updates[0].span,
                    "give it a length, e.g. `update every 24h with ...`",
                )
            update = (every, updates[0].event.name)
    reopen = reopens[0] if reopens else None
    return ir.Deadline(
        d.name.name,
        record.name,
        start_field,
        start_event,
        stops[0].event.name,
        tuple(
            ir.Pause(p.pause.name, p.resume.name, p.reason)
            for p in d.stmts
            if isinstance(p, ast.DlPause)
        ),
        tuple(targets),
        cap,
        warn_pct,
        warn_lead,
        update,
        reopen.event.name if reopen else None,
        reopen.mode if reopen else "new",
        reopen.until.name if reopen and reopen.until else None,
        d.span,
        d.wording,
    )


# ---- escalation ----------------------------------------------------------------------------


def _escalation(o: Lowering, e: ast.EscalationDecl) -> ir.Escalation | None:
    o.not_a_keyword(e.name, "escalation")
    record = o.record_named(e.record)
    if record is None:
        return None
    ladders = [s for s in e.stmts if isinstance(s, ast.EsRoles)]
    _once(o, ladders, "roles")
    if not ladders:
        o.err(
            "E231",
            f"escalation `{e.name.name}` declares no roles",
            e.name.span,
            "add the ladder first, e.g. `roles agent -> team_lead -> supervisor`",
        )
        return None
    o.unique(ladders[0].roles, "role")
    roles = [r.name for r in ladders[0].roles]
    steps = []
    for s in (x for x in e.stmts if isinstance(x, ast.EsStep)):
        bad = False
        for r in (s.source, s.target):
            if r.name not in roles:
                o.err(
                    "E232",
                    f"undeclared role `{r.name}`",
                    r.span,
                    did_you_mean(r.name, roles) or "add it to the `roles` ladder",
                    fixes=rename(r.span, r.name, roles),
                )
                bad = True
        if bad:
            continue
        i, j = roles.index(s.source.name), roles.index(s.target.name)
        if j <= i:
            o.err(
                "E233",
                f"`{s.source.name} -> {s.target.name}` goes back down the ladder",
                s.span,
                "escalation only moves up: a step back would make a cycle",
            )
            continue
        if j > i + 1:
            skipped = ", ".join(f"`{r}`" for r in roles[i + 1 : j])
            o.diags.append(
                warning(
                    "W512",
                    f"`{s.source.name} -> {s.target.name}` skips {skipped}",
                    s.span,
                    "escalate one level at a time, or reorder the `roles` ladder",
                )
            )
        if s.kind == "breach":
            assert s.ref is not None
            target = o.deadlines.get(s.ref.name)
            if target is not None and target.record != record.name:
                o.err(
                    "E234",
                    f"`{s.ref.name}` is a deadline for `{target.record}`, not `{record.name}`",
                    s.ref.span,
                    "escalate on a deadline of the same record",
                )
                continue
            if target is None:
                own = [k for k, v in o.deadlines.items() if v.record == record.name]
                o.err(
                    "E234",
                    f"no deadline `{s.ref.name}` for `{record.name}`",
                    s.ref.span,
                    did_you_mean(s.ref.name, own) or "declare it with `deadline NAME for RECORD`",
                    fixes=rename(s.ref.span, s.ref.name, own),
                )
                continue
        after = _time(o, s.after, None, False) if s.after is not None else None
        within = _time(o, s.within, None, False) if s.within is not None else None
        if (s.after is not None and after is None) or (s.within is not None and within is None):
            continue
        steps.append(
            ir.Step(
                s.source.name,
                s.target.name,
                s.kind,
                s.ref.name if s.ref else None,
                after,
                within,
                s.span,
            )
        )
    return ir.Escalation(e.name.name, record.name, tuple(roles), tuple(steps), e.span)

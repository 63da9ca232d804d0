"""Hypothesis strategies for whole timeline cases: a generated policy (one record type, one or
two deadlines, a calendar or two, an optional escalation ladder), a few records and an event log
per case, and `now`; plus the helpers that turn a case into what `TimelineBuilder.build` and
the SQL timelines (`csdsl.sql.timelines`) read.

The policies mix every clock feature of the language: starts at a field or on an event, stops,
zero to two pause kinds, targets in natural time, working hours / minutes / days, `by HH:MM next
working day`, `by FIELD` and `within FIELD`, `when` conditions on an enum, a default, caps,
warnings at a percentage and before the due time, periodic updates, reopening (`new cycle` or
`continue`, with or without `until`) and ladders (on breach, on an event, after a time).  The
calendars have lunch breaks, weekends, China's holidays and make-up days, and explicit closed and
working dates, around dates China has published (2024-2025).  With `family=True` only the
clauses the SQL timelines compute themselves are drawn (see `cases`).

Event times are drawn around each record's received time, and some exactly at (or a second or
a microsecond from) the due times the policy gives the record, so `<=` against `<` shows.
"""

from __future__ import annotations

import atexit
import datetime as dt
import shutil
import tempfile
import zoneinfo
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs
from hypothesis import strategies as st

import csdsl
from csdsl.records import id_key
from csdsl.timeline import ESCALATED, Event, Timeline, TimelineBuilder

RECORD = "Complaint"
SH = zoneinfo.ZoneInfo("Asia/Shanghai")
UTC = dt.UTC
ROLES = ("agent", "team_lead", "supervisor", "manager")

# a day or two before China's holidays and make-up days of 2024-2025 (Spring Festival, Qingming,
# May Day, Dragon Boat, Mid-Autumn, National Day, New Year) and Europe's clock changes
ANCHORS = [
    dt.date(2024, 1, 1),
    dt.date(2024, 2, 4),
    dt.date(2024, 2, 9),
    dt.date(2024, 4, 3),
    dt.date(2024, 4, 28),
    dt.date(2024, 5, 11),
    dt.date(2024, 6, 9),
    dt.date(2024, 9, 13),
    dt.date(2024, 9, 29),
    dt.date(2024, 10, 12),
    dt.date(2024, 10, 27),
    dt.date(2024, 12, 31),
    dt.date(2025, 1, 26),
    dt.date(2025, 2, 8),
    dt.date(2025, 3, 30),
    dt.date(2025, 4, 27),
    dt.date(2025, 5, 30),
    dt.date(2025, 9, 28),
    dt.date(2025, 10, 1),
    dt.date(2025, 10, 11),
]


@attrs.frozen
class TimelineCase:
    """A generated case: the policy's text, the records as JSON-like objects (missing fields
    left out), the event log in log order (case id, time, event, role; line = position + 1) and
    `now`."""

    text: str
    records: tuple[Mapping[str, Any], ...]
    log: tuple[tuple[Any, dt.datetime, str, str | None], ...]
    now: dt.datetime | None
    family: bool

    def __repr__(self) -> str:  # shrunk examples read as what to paste into a .csp and a log
        lines = [f"TimelineCase(family={self.family}, now={_iso(self.now)})", self.text]
        lines += [f"record {dict(r)!r}" for r in self.records]
        lines += [
            f"event line {i}: case={c!r} at={_iso(at)} {name}" + (f" role={role}" if role else "")
            for i, (c, at, name, role) in enumerate(self.log, 1)
        ]
        return "\n".join(lines)


def _iso(t: dt.datetime | None) -> str:
    return "None" if t is None else t.astimezone(SH).isoformat()


# ---- compiling ----------------------------------------------------------------------------------
_DIR = Path(tempfile.mkdtemp(prefix="csdsl-tlgen-"))
atexit.register(shutil.rmtree, _DIR, ignore_errors=True)
_COMPILED: dict[str, csdsl.Policy] = {}


def compiled(text: str) -> csdsl.Policy:
    """The policy of a generated text (compiled once per text; `PolicyError` if it has errors,
    which is a bug of the strategies)."""
    policy = _COMPILED.get(text)
    if policy is None:
        path = _DIR / f"p{len(_COMPILED)}.csp"
        path.write_text(text, encoding="utf-8")
        policy = _COMPILED[text] = csdsl.load(path)
    return policy


def builder(policy: csdsl.Policy) -> TimelineBuilder:
    return TimelineBuilder(policy.ir, RECORD, policy.tz)


def rows_of(policy: csdsl.Policy, case: TimelineCase) -> list[tuple[Any, dict[str, Any]]]:
    """(record id, typed values) of each record, as the Python engine reads them."""
    reader = policy.reader(RECORD)
    return [reader.coerce(dict(r)) for r in case.records]


def events_of(case: TimelineCase) -> dict[str, list[Event]]:
    """The log grouped by `id_key` of the case, each case's events sorted by time (ties in log
    order), as `EventLog` gives them."""
    out: dict[str, list[Event]] = {}
    for line, (cid, at, name, role) in enumerate(case.log, 1):
        out.setdefault(id_key(cid), []).append(Event(at.astimezone(UTC), name, role, line))
    for evs in out.values():
        evs.sort(key=lambda e: e.at)
    return out


def expected(
    policy: csdsl.Policy,
    rows: Sequence[tuple[Any, Mapping[str, Any]]],
    events: Mapping[str, Sequence[Event]],
    now: dt.datetime | None,
) -> dict[str, Timeline]:
    """The reference: `TimelineBuilder.build` per record, keyed by `id_key`."""
    b = builder(policy)
    return {
        id_key(rid): b.build(rid, values, events.get(id_key(rid), []), now) for rid, values in rows
    }


# ---- policies -----------------------------------------------------------------------------------
@attrs.frozen
class _Names:
    """The events and roles a generated policy reads, by what they do."""

    starts: tuple[str, ...] = ()
    stops: tuple[str, ...] = ()
    pauses: tuple[str, ...] = ()
    resumes: tuple[str, ...] = ()
    reopens: tuple[str, ...] = ()
    untils: tuple[str, ...] = ()
    updates: tuple[str, ...] = ()
    ladder: tuple[str, ...] = ()
    roles: tuple[str, ...] = ()

    def all(self) -> list[str]:
        seen: dict[str, None] = {}
        for group in (
            self.starts,
            self.stops,
            self.pauses,
            self.resumes,
            self.reopens,
            self.untils,
            self.updates,
            self.ladder,
        ):
            seen.update(dict.fromkeys(group))
        return list(seen)


@attrs.frozen
class _Policy:
    text: str
    names: _Names
    base: dt.date


NATURAL = ["15m", "30m", "45m", "1h", "90m", "2h", "2h30m", "3h", "4h", "8h", "24h", "30h", "48h"]
PAUSE_KINDS = [
    ("awaiting_customer", "customer_replied", "等待客户补充信息"),
    ("on_hold", "off_hold", "on hold for a part"),
]


def _natural(draw: st.DrawFn) -> str:
    if draw(st.booleans()):
        return draw(st.sampled_from(NATURAL))
    return f"{draw(st.integers(1, 72))}h"


def _on(draw: st.DrawFn, cals: Sequence[str], implicit: bool) -> str:
    """` on CAL`, or nothing when the deadline's `calendar` line names it (`implicit`)."""
    if implicit and draw(st.booleans()):
        return ""
    return f" on {draw(st.sampled_from(cals))}"


def _time(
    draw: st.DrawFn,
    family: bool,
    cals: Sequence[str],
    implicit: bool = False,
) -> tuple[str, dt.timedelta | None]:
    """A time spec's text and, for natural time and working hours or minutes, its length (the
    checker's least length of a target, which a `warn ... before` must stay under)."""
    kinds = ["natural", "natural", "hours", "minutes"]
    if not family:
        kinds += ["days", "next_day"]
    kind = draw(st.sampled_from(kinds))
    if kind == "natural":
        text = _natural(draw)
        return text, _length(text)
    if kind == "hours":
        n = draw(st.integers(1, 16))
        unit = draw(
            st.sampled_from(["working hours", "working hour"] if n == 1 else ["working hours"])
        )
        return f"{n} {unit}{_on(draw, cals, implicit)}", dt.timedelta(hours=n)
    if kind == "minutes":
        n = draw(st.sampled_from([1, 30, 45, 90, 150, 270, 600]))
        return f"{n} working minutes{_on(draw, cals, implicit)}", dt.timedelta(minutes=n)
    if kind == "days":
        n = draw(st.integers(1, 5))
        return f"{n} working {'day' if n == 1 else 'days'}{_on(draw, cals, implicit)}", None
    clock = draw(st.sampled_from(["08:00", "09:00", "10:00", "12:00", "17:30", "20:00"]))
    return f"by {clock} next working day{_on(draw, cals, implicit)}", None


def _length(text: str) -> dt.timedelta:
    total, num = dt.timedelta(0), ""
    for ch in text:
        if ch.isdigit():
            num += ch
        else:
            unit = {"d": "days", "h": "hours", "m": "minutes", "s": "seconds"}[ch]
            total += dt.timedelta(**{unit: int(num)})
            num = ""
    return total


def _dates_near(draw: st.DrawFn, base: dt.date, most: int) -> list[dt.date]:
    return draw(
        st.lists(
            st.integers(-2, 16).map(lambda k: base + dt.timedelta(days=k)),
            max_size=most,
            unique=True,
        )
    )


def _hours(draw: st.DrawFn) -> str:
    """One to three ordered, disjoint stretches of a day, to the quarter hour; with two or more,
    a break between them (lunch)."""
    cuts = sorted(draw(st.sets(st.integers(0, 96), min_size=2, max_size=6)))
    if len(cuts) % 2:
        cuts = cuts[:-1]

    def hhmm(q: int) -> str:
        return f"{q // 4:02d}:{q % 4 * 15:02d}"

    return ", ".join(f"{hhmm(a)}-{hhmm(b)}" for a, b in zip(cuts[::2], cuts[1::2], strict=True))


def _calendar(draw: st.DrawFn, name: str, base: dt.date, family: bool) -> str:
    shape = draw(st.sampled_from(["office", "office", "long", "saturdays", "generated", "24x7"]))
    if shape == "office":
        opens = ["open mon-fri 09:00-12:00, 13:30-18:00"]
    elif shape == "long":
        opens = ["open mon-sat 08:30-12:00, 13:00-20:00"]
    elif shape == "saturdays":
        opens = ["open mon-fri 09:00-18:00", "open sat 10:00-12:00, 14:00-16:00"]
    elif shape == "24x7":
        opens = ["open 24x7"]
    else:
        weekdays = draw(st.sampled_from(["mon-fri", "mon-thu", "tue-sat", "mon, wed, fri"]))
        opens = [f"open {weekdays} {_hours(draw)}"]
        if weekdays == "mon-fri" and draw(st.booleans()):
            opens.append(f"open sat, sun {_hours(draw)}")
    lines = list(opens)
    if draw(st.integers(0, 3)):
        lines.append("holidays china")
    closed = _dates_near(draw, base, 3)
    working = [d for d in _dates_near(draw, base, 3) if d not in closed]
    if closed:
        lines.append("closed " + ", ".join(d.isoformat() for d in closed))
    if working:
        lines.append("working " + ", ".join(d.isoformat() for d in working))
    zone = draw(
        st.sampled_from(
            [None, "Asia/Shanghai"]
            if family
            else [None, None, "Asia/Shanghai", "UTC", "Europe/Berlin"]
        )
    )
    if zone is not None:
        lines.append(f'timezone "{zone}"')
    lines = draw(st.permutations(lines))
    body = "\n".join(f"  {line}" for line in lines)
    return f"calendar {name} {{\n{body}\n}}\n"


CONDITIONS = [
    "complexity = simple",
    "complexity = complex",
    "complexity != simple",
    "complexity in [simple, urgent]",
    "complexity is missing",
    "complexity = urgent",
]


def _deadline(
    draw: st.DrawFn, name: str, family: bool, cals: Sequence[str], stop: str
) -> tuple[str, _Names]:
    lines: list[str] = []
    names = _Names(stops=(stop,))
    if draw(st.integers(0, 3)):
        lines.append("starts at received_at")
    else:
        ev = draw(st.sampled_from(["written_report", "opened"]))
        lines.append(f"starts on {ev}")
        names = attrs.evolve(names, starts=(ev,))
    lines.append(f"stops on {stop}")
    kinds = draw(st.sampled_from([0, 1, 1] if family else [0, 1, 1, 2]))
    for pause, resume, reason in draw(st.permutations(PAUSE_KINDS))[:kinds]:
        because = f' because "{reason}"' if draw(st.booleans()) else ""
        lines.append(f"pauses on {pause} resumes on {resume}{because}")
        names = attrs.evolve(names, pauses=(*names.pauses, pause), resumes=(*names.resumes, resume))
    implicit = draw(st.booleans())
    if implicit:
        lines.append(f"calendar {draw(st.sampled_from(cals))}")
    lengths: list[dt.timedelta] = []
    targets: list[str] = []  # in order: the first that applies wins, the default comes last
    for _ in range(draw(st.integers(1, 3))):
        form = draw(st.sampled_from(["time", "time", "time", "by", "for"]))
        if form == "time":
            text, length = _time(draw, family, cals, implicit)
            if length is not None:
                lengths.append(length)
        elif form == "by":
            words = draw(st.sampled_from(["", ' "the time promised to the customer"']))
            text = f"promised_at{words}"
        else:
            words = draw(st.sampled_from(["", ' "the wait agreed with the customer"']))
            text = f"agreed_wait{words}"
        when = draw(st.none() | st.sampled_from(CONDITIONS))
        cond = f" when {when}" if when else ""
        targets.append(f"{'by' if form == 'by' else 'within'} {text}{cond}")
    if draw(st.integers(0, 3)):
        text, length = _time(draw, family, cals, implicit)
        if length is not None:
            lengths.append(length)
        targets.append(f"otherwise within {text}")
    if draw(st.booleans()):
        lines.append(f"at most {_time(draw, family, cals, implicit)[0]}")
    if draw(st.booleans()):
        lines.append(f"warn at {draw(st.sampled_from([10, 25, 50, 75, 90, 99]))}%")
    if draw(st.booleans()):
        leads = [
            x
            for x in ["1m", "5m", "15m", "30m", "1h", "2h"]
            if all(_length(x) < n for n in lengths)
        ]
        if leads:
            lines.append(f"warn {draw(st.sampled_from(leads))} before")
    if draw(st.booleans()):
        every, length = _time(draw, family, cals, implicit)
        if length is not None and length < dt.timedelta(hours=1) and draw(st.booleans()):
            every = "2h"
        ev = draw(st.sampled_from(["progress_update", "update_sent"]))
        lines.append(f"update every {every} with {ev}")
        names = attrs.evolve(names, updates=(ev,))
    if draw(st.booleans()):
        ev = draw(st.sampled_from(["customer_unsatisfied", "reopened"]))
        mode = draw(
            st.sampled_from(["", " new cycle"] if family else ["", " new cycle", " continue"])
        )
        until = ""
        if draw(st.booleans()):
            u = draw(st.sampled_from(["customer_satisfied", "closed"]))
            until = f" until {u}"
            names = attrs.evolve(names, untils=(u,))
        lines.append(f"reopens on {ev}{mode}{until}")
        names = attrs.evolve(names, reopens=(ev,))
    # the start and the stop first, for the reader's sake; the rest in any order, the targets
    # together somewhere among them
    rest = draw(st.permutations(lines[2:]))
    at = draw(st.integers(0, len(rest)))
    body = "\n".join(f"  {line}" for line in [*lines[:2], *rest[:at], *targets, *rest[at:]])
    wording = draw(st.sampled_from(["", ' "答复时限"']))
    return f"deadline {name}{wording} for {RECORD} {{\n{body}\n}}\n", names


def _ladder(
    draw: st.DrawFn, family: bool, cals: Sequence[str], deadlines: Sequence[str]
) -> tuple[str, _Names]:
    roles = ROLES[: draw(st.integers(2, 4))]
    events: list[str] = []
    steps = []
    level = 0
    for _ in range(draw(st.integers(1, len(roles) - 1))):
        if level >= len(roles) - 1:
            break
        up = draw(st.sampled_from([1, 1, 1, 2]))
        to = min(level + up, len(roles) - 1)
        kind = draw(st.sampled_from(["breach", "breach", "event", "after"]))
        if kind == "breach":
            trigger = f"on breach of {draw(st.sampled_from(deadlines))}"
        elif kind == "event":
            ev = draw(st.sampled_from(["media_inquiry", "customer_unsatisfied", "customer_angry"]))
            events.append(ev)
            trigger = f"on {ev}"
        else:
            trigger = f"after {_time(draw, family, cals)[0]}"
        within = ""
        if draw(st.integers(0, 2)):
            within = f" within {_time(draw, family, cals)[0]}"
        steps.append(f"{roles[level]} -> {roles[to]} {trigger}{within}")
        level = to
    body = "\n".join(f"  {s}" for s in ["roles " + " -> ".join(roles), *steps])
    return f"escalation ladder for {RECORD} {{\n{body}\n}}\n", _Names(
        ladder=tuple(dict.fromkeys(events)), roles=roles
    )


RECORD_DECL = f"""record {RECORD} {{
  received_at: datetime?
  complexity: enum(simple, complex, urgent)?
  promised_at: datetime?
  agreed_wait: duration?
}}
"""


@st.composite
def policies(draw: st.DrawFn, family: bool = False) -> _Policy:
    if draw(st.integers(0, 2)):
        base = draw(st.sampled_from(ANCHORS)) + dt.timedelta(days=draw(st.integers(-3, 3)))
    else:
        base = draw(st.dates(dt.date(2024, 1, 2), dt.date(2025, 12, 10)))
    cal_names = ["office"] if draw(st.integers(0, 2)) else ["office", "desk"]
    parts = [
        'policy "generated clocks" timezone "Asia/Shanghai"\n',
        RECORD_DECL,
        *(_calendar(draw, c, base, family) for c in cal_names),
    ]
    names = _Names()
    deadlines = ["reply"] if draw(st.booleans()) else ["reply", "resolve"]
    for i, d in enumerate(deadlines):
        stop = "replied" if i == 0 or draw(st.booleans()) else "resolved"
        text, more = _deadline(draw, d, family, cal_names, stop)
        parts.append(text)
        names = _merge(names, more)
    if draw(st.integers(0, 2)):
        text, more = _ladder(draw, family, cal_names, deadlines)
        parts.append(text)
        names = _merge(names, more)
    return _Policy("\n".join(parts), names, base)


def _merge(a: _Names, b: _Names) -> _Names:
    return _Names(
        **{
            f.name: tuple(dict.fromkeys((*getattr(a, f.name), *getattr(b, f.name))))
            for f in attrs.fields(_Names)
        }
    )


# ---- records, events, now -----------------------------------------------------------------------
def _record(draw: st.DrawFn, rid: Any, base: dt.date) -> dict[str, Any]:
    day = base + dt.timedelta(days=draw(st.integers(0, 2)))
    if draw(st.booleans()):
        clock = draw(st.sampled_from([dt.time(9), dt.time(12), dt.time(13, 30), dt.time(18)]))
    else:
        clock = dt.time(draw(st.integers(0, 23)), draw(st.sampled_from([0, 15, 30, 45, 7])))
    received = dt.datetime.combine(day, clock, SH)
    out: dict[str, Any] = {"id": rid}
    if draw(st.integers(0, 14)):
        # an offset, UTC, or no offset at all (read in the policy's zone)
        form = draw(st.sampled_from(["offset", "utc", "naive"]))
        if form == "offset":
            out["received_at"] = received.isoformat()
        elif form == "utc":
            out["received_at"] = received.astimezone(UTC).isoformat().replace("+00:00", "Z")
        else:
            out["received_at"] = received.replace(tzinfo=None).isoformat()
    complexity = draw(st.sampled_from(["simple", "complex", "urgent", None]))
    if complexity is not None:
        out["complexity"] = complexity
    if draw(st.booleans()):
        promised = received + dt.timedelta(minutes=draw(st.integers(-120, 3 * 24 * 60)))
        out["promised_at"] = promised.isoformat()
    if draw(st.booleans()):
        minutes = draw(st.sampled_from([0, 30, 90, 240, 1440, 2000]))
        out["agreed_wait"] = draw(st.sampled_from([f"PT{minutes}M", f"{minutes}m"]))
    return out


Due = tuple[dt.datetime, str, str | None]  # a due time and the event it is about


def _boundaries(
    policy: csdsl.Policy,
    record: Mapping[str, Any],
    events: Sequence[tuple[dt.datetime, str, str | None]],
) -> list[Due]:
    """The due times the policy gives a record with these events, judged long after them (so
    that a clock still open breaches and the escalation steps it triggers fall due), each with
    the event that would decide it: the stop of a deadline or warning, the update event of an
    update point, the escalation to the step's role."""
    rid, values = policy.reader(RECORD).coerce(dict(record))
    evs = sorted(
        (Event(at.astimezone(UTC), name, role, i) for i, (at, name, role) in enumerate(events)),
        key=lambda e: e.at,
    )
    later = max((e.at for e in evs), default=dt.datetime(2024, 1, 1, tzinfo=UTC))
    b = builder(policy)
    timeline = b.build(rid, values, evs, later + dt.timedelta(days=30))
    stops = {d.name: d.stop_event for d in b.deadlines}
    sent = {d.name: d.update[1] for d in b.deadlines if d.update is not None}
    out: list[Due] = []
    updates: dict[tuple[str, int], int] = {}
    for m in timeline.milestones:
        if m.due is None:
            continue
        name = m.clause.split(".")[0]
        if m.kind == "update":  # only the first few of the points up to that distant `now`
            n = updates[(m.clause, m.cycle)] = updates.get((m.clause, m.cycle), 0) + 1
            if n <= 3:
                out.append((m.due, sent[name], None))
        elif m.kind == "escalation":
            out.append((m.due, ESCALATED, m.owner))
        else:
            out.append((m.due, stops[name], None))
    return out


JITTER = [
    dt.timedelta(0),
    dt.timedelta(0),
    dt.timedelta(0),
    dt.timedelta(seconds=1),
    dt.timedelta(seconds=-1),
    dt.timedelta(microseconds=1),
    dt.timedelta(minutes=-1),
    dt.timedelta(minutes=20),
]


def _name(draw: st.DrawFn, names: _Names, at_due: bool = False) -> tuple[str, str | None]:
    """An event the policy reads, an escalation (to a role of the ladder, another role or
    none), or one no clause reads; at a due time (`at_due`) mostly stops, updates and
    escalations, the events a due time is about."""
    kinds = ["stop", "update", "escalated"] * 2 if at_due else ["stop"]
    what = draw(st.sampled_from([*kinds, "policy", "policy", "policy", "escalated", "noise"]))
    pool = names.all()
    if what == "escalated" or (what == "noise" and draw(st.booleans())):
        role = draw(st.sampled_from([*(names.roles or ROLES[:2]), *names.roles, "director", None]))
        return "escalated", role
    if what == "noise" or not pool:
        return draw(st.sampled_from(["noted", "replied", "resolved"])), None
    if what == "stop" and names.stops:
        return draw(st.sampled_from(names.stops)), None
    if what == "update" and names.updates:
        return draw(st.sampled_from(names.updates)), None
    return draw(st.sampled_from(pool)), None


def _events(
    draw: st.DrawFn, names: _Names, start: dt.datetime, most: int
) -> list[tuple[dt.datetime, str, str | None]]:
    """Up to `most` events around `start`: minutes to days after it, some before it, some at
    the same instant as another; the clocks' start events, when they start on one, usually
    come first."""
    out: list[tuple[dt.datetime, str, str | None]] = []
    for ev in names.starts:
        if draw(st.integers(0, 4)):
            out.append((start + dt.timedelta(minutes=draw(st.integers(-30, 120))), ev, None))
    for _ in range(draw(st.integers(0, most))):
        how = draw(st.sampled_from(["soon", "soon", "later", "days", "before", "tie"]))
        if how == "tie" and out:
            at = draw(st.sampled_from(out))[0]
        elif how == "before":
            at = start - dt.timedelta(minutes=draw(st.integers(1, 600)))
        elif how == "days":
            at = start + dt.timedelta(minutes=draw(st.integers(0, 6 * 24 * 60)))
        elif how == "later":
            at = start + dt.timedelta(minutes=draw(st.integers(0, 36 * 60)))
        else:
            at = start + dt.timedelta(minutes=draw(st.integers(0, 300)))
        if draw(st.integers(0, 5)) == 0:
            at += dt.timedelta(seconds=draw(st.integers(1, 59)))
        out.append((at, *_name(draw, names)))
    return out


def _at_boundaries(
    draw: st.DrawFn, names: _Names, boundaries: Sequence[Due], most: int
) -> list[tuple[dt.datetime, str, str | None]]:
    """Up to `most` events at (or a tick from) the given due times: mostly the event each is
    about, sometimes another."""
    out: list[tuple[dt.datetime, str, str | None]] = []
    if not boundaries:
        return out
    for _ in range(draw(st.integers(0, most))):
        due, name, role = draw(st.sampled_from(list(boundaries)))
        at = due + draw(st.sampled_from(JITTER))
        out.append((at, name, role) if draw(st.integers(0, 2)) else (at, *_name(draw, names, True)))
    return out


IDS: list[Any] = ["C-1", 2, "案件-3", "C-4", 5.0, "C-6"]


@st.composite
def cases(draw: st.DrawFn, family: bool = False) -> TimelineCase:
    """A whole case: a generated policy, up to four records, up to twelve events per record
    (and sometimes events of a case no record has), and `now`.

    `family=True`: only what the SQL timelines compute themselves: starts at a field or on an
    event, a stop, at most one pause kind, targets in natural time or working hours / minutes,
    `by FIELD` / `within FIELD`, caps, warnings, updates, `new cycle` reopening and ladders
    (no working days, no `by HH:MM next working day`, no `continue`, calendars in the policy's
    zone)."""
    p = draw(policies(family))
    policy = compiled(p.text)
    ids = draw(st.lists(st.sampled_from(IDS), min_size=1, max_size=4, unique_by=id_key))
    records = [_record(draw, rid, p.base) for rid in ids]
    per_case: list[tuple[Any, list[tuple[dt.datetime, str, str | None]]]] = []
    for r in records:
        start = (
            dt.datetime.fromisoformat(r["received_at"])
            if "received_at" in r
            else dt.datetime.combine(p.base, dt.time(9))
        )
        if start.tzinfo is None:
            start = start.replace(tzinfo=SH)
        # first events around the start, then a few at the due times they lead to
        evs = _events(draw, p.names, start, 8)
        evs += _at_boundaries(draw, p.names, _boundaries(policy, r, evs), 12 - len(evs))
        per_case.append((r["id"], draw(st.permutations(evs))))
    if draw(st.integers(0, 9)) == 0:
        start = dt.datetime.combine(p.base, dt.time(10), SH)
        per_case.append(("nobody", _events(draw, p.names, start, 3)))
    log = [(cid, at, name, role) for cid, evs in per_case for at, name, role in evs]
    if draw(st.booleans()):
        log.sort(key=lambda e: e[1])  # a log written as things happened, cases interleaved
    now: dt.datetime | None = None
    how = draw(st.sampled_from(["none", "none", "event", "event", "later", "far"]))
    if how == "event" and log:
        now = draw(st.sampled_from(log))[1] + draw(st.sampled_from(JITTER))
    elif how in ("event", "later"):
        now = dt.datetime.combine(p.base, dt.time(9), SH) + dt.timedelta(
            minutes=draw(st.integers(0, 4 * 24 * 60))
        )
    elif how == "far":
        now = dt.datetime.combine(p.base, dt.time(0), SH) + dt.timedelta(
            days=draw(st.integers(5, 12))
        )
    if now is not None:
        now = now.astimezone(UTC)
    return TimelineCase(p.text, tuple(records), tuple(log), now, family)

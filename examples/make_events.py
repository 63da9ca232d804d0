"""Generate an example event log for the complaints, for ``csdsl timeline``.

Run from the repository root::

    python examples/make_events.py

It reads ``complaints.jsonl`` next to this script (lines that are not JSON objects with an
``id`` and a parseable ``received_at`` are skipped) and writes, next to this script:

* ``complaint_events.jsonl`` - the event log, one ``{"case", "at", "event", "role"?}`` object
  a line (``shared/spec/IO.md``, "Events"), plus 8 deliberately bad or notable lines;
* ``complaint_events.csv``   - the first 200 lines of the log as CSV (``case,at,event,role``);
* ``now.txt``                - the moment the log was extracted, to pass as ``--now``.

The events follow ``policies/complaint_handling.csp``: the desk acknowledges a complaint
(``acknowledged``, 1 working hour on the office calendar), the hotline replies (``replied``,
2h for simple and 24h for complex complaints, paused between ``awaiting_customer`` and
``customer_replied``, with a ``progress_update`` every 24h on long ones), valid-looking
complaints get a ``written_report`` and a ``manager_replied`` (48h), unhappy customers send
``customer_unsatisfied`` (a new cycle of both clocks) until ``customer_satisfied``, and
``escalated`` events (``role`` = the new owner) walk the ladder agent -> team_lead ->
supervisor -> department_manager, on time, late, never, early or skipping a level.  The story
of each complaint is cut at ``NOW``, so the most recent ones are still open.

Events are written in time order, except that about 5% arrive late (a delayed sync), so some
are out of order within their case.  Times are mostly ``+08:00``, some naive (the policy's
zone, Asia/Shanghai) and some UTC with ``Z``.  The bad and notable lines (malformed times, a
line that is not JSON, a missing case, unknown cases, misspelt event names) are printed with
their line numbers at the end, and listed in ``examples/README.md``.

The output is deterministic: a fixed-seed ``random.Random`` drives everything, so re-running
the script reproduces the files byte for byte.  Standard library only.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, timezone
from pathlib import Path
from random import Random
from typing import Any

SEED = 20241220
OUT_DIR = Path(__file__).resolve().parent
RECORDS = OUT_DIR / "complaints.jsonl"
EVENTS_JSONL = OUT_DIR / "complaint_events.jsonl"
EVENTS_CSV = OUT_DIR / "complaint_events.csv"
NOW_TXT = OUT_DIR / "now.txt"
CSV_LINES = 200

SHANGHAI = timezone(timedelta(hours=8))  # Asia/Shanghai has had no DST since 1991
NOW = datetime(2024, 12, 20, 18, 0, tzinfo=SHANGHAI)  # a Friday, at the desk's closing time

H = timedelta(hours=1)
M = timedelta(minutes=1)

# The desk's calendar `office`: 09:00-12:00 and 13:30-18:00 on working days, China's statutory
# holidays and make-up working days (调休).  Only the days near the period are listed: none of
# them fall between 2024-10-29 and 2024-12-20, so there only weekends are closed.
OPEN_SPANS = ((time(9, 0), time(12, 0)), (time(13, 30), time(18, 0)))
HOLIDAYS = frozenset(
    [date(2024, 10, d) for d in range(1, 8)]
    + [date(2025, 1, 1)]
    + [date(2025, 1, d) for d in range(28, 32)]
    + [date(2025, 2, d) for d in range(1, 5)]
)
MAKEUP_DAYS = frozenset({date(2024, 9, 29), date(2024, 10, 12), date(2025, 1, 26)})

ROLES = ("agent", "team_lead", "supervisor", "department_manager")


# ---- time ------------------------------------------------------------------------------------


def is_working_day(day: date) -> bool:
    return (day.weekday() < 5 or day in MAKEUP_DAYS) and day not in HOLIDAYS


def open_spans(day: date) -> list[tuple[datetime, datetime]]:
    if not is_working_day(day):
        return []
    return [
        (datetime.combine(day, a, SHANGHAI), datetime.combine(day, b, SHANGHAI))
        for a, b in OPEN_SPANS
    ]


def add_working(start: datetime, amount: timedelta) -> datetime:
    """`start` plus `amount` of the desk's open time (closed time is skipped)."""
    t = start.astimezone(SHANGHAI)
    remaining = amount
    day = t.date()
    while True:
        for a, b in open_spans(day):
            if b <= t:
                continue
            s = max(a, t)
            if s + remaining <= b:
                return s + remaining
            remaining -= b - s
        day += timedelta(days=1)


def is_open(t: datetime) -> bool:
    local = t.astimezone(SHANGHAI)
    return any(a <= local < b for a, b in open_spans(local.date()))


Pause = tuple[datetime, datetime]


def clock_due(start: datetime, amount: timedelta, pauses: Sequence[Pause]) -> datetime:
    """When a natural-time clock started at `start` has run `amount`, not counting pauses."""
    t, remaining = start, amount
    for a, b in sorted(pauses):
        if b <= t:
            continue
        a = max(a, t)
        if t + remaining <= a:
            return t + remaining
        remaining -= a - t
        t = b
    return t + remaining


def whole(t: datetime) -> datetime:
    return t.replace(microsecond=0)


# ---- events ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Event:
    case: str
    at: datetime
    name: str
    role: str | None = None
    seq: int = 0  # order within the case's story, to break ties


@dataclass
class Story:
    """The events of one complaint, in the order they happened."""

    case: str
    events: list[Event] = field(default_factory=list)

    def add(self, at: datetime, name: str, role: str | None = None) -> datetime:
        at = whole(at)
        self.events.append(Event(self.case, at, name, role, len(self.events)))
        return at


def span(rng: Random, lo: timedelta, hi: timedelta) -> timedelta:
    """A random duration in [lo, hi], to the second."""
    return timedelta(seconds=rng.randint(int(lo.total_seconds()), int(hi.total_seconds())))


def skewed(rng: Random, lo: timedelta, hi: timedelta) -> timedelta:
    """A random duration in [lo, hi], most of them near `lo`."""
    return lo + (hi - lo) * (rng.random() ** 2)


# ---- records ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Complaint:
    id: str
    received_at: datetime
    complex: bool
    valid_looking: bool

    @property
    def target(self) -> timedelta:
        return 24 * H if self.complex else 2 * H


def parse_time(text: Any) -> datetime | None:
    if not isinstance(text, str) or len(text.strip()) <= 10:
        return None
    try:
        t = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    return t if t.tzinfo is not None else t.replace(tzinfo=SHANGHAI)


_DURATION = re.compile(r"^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")
_ISO_DURATION = re.compile(r"^PT(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?$")


def parse_duration(v: Any) -> timedelta | None:
    if isinstance(v, bool):
        return None
    if isinstance(v, int | float):
        return timedelta(seconds=v)
    if not isinstance(v, str) or not v:
        return None
    m = _ISO_DURATION.match(v) or _DURATION.match(v)
    if m is None or not any(m.groups()):
        return None
    h, mi, s = (int(g or 0) for g in m.groups())
    return timedelta(hours=h, minutes=mi, seconds=s)


def looks_valid(rec: dict[str, Any]) -> bool:
    """The six conditions of `complaint_validity.csp`, roughly (enough to pick the cases that
    get a written report)."""
    if rec.get("agent_rude") is True:
        return True
    if rec.get("task_completed_same_day") is False and not (
        rec.get("customer_contacted") is True and rec.get("rescheduled") is True
    ):
        return True
    loss = rec.get("loss_amount")
    if rec.get("data_lost") is True and isinstance(loss, int | float) and loss > 0:
        return True
    if rec.get("issue_recorded") is False:
        return True
    delay = parse_duration(rec.get("feedback_form_delay"))
    if rec.get("feedback_form_delay") is None or (delay is not None and delay > 24 * H):
        return True
    asked = parse_time(rec.get("ignition_requested_at"))
    done = parse_time(rec.get("ignition_completed_at"))
    return (
        asked is not None
        and (done is None or done - asked > 4 * H)
        and rec.get("explained") is not True
    )


def read_complaints(path: Path) -> list[Complaint]:
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            rec = json.loads(line)
        except json.JSONDecodeError:
            continue
        if not isinstance(rec, dict) or not isinstance(rec.get("id"), str | int):
            continue
        received = parse_time(rec.get("received_at"))
        if received is None:
            continue
        out.append(
            Complaint(
                str(rec["id"]),
                received.astimezone(SHANGHAI),
                rec.get("complexity") == "complex",
                looks_valid(rec),
            )
        )
    return out


# ---- the story of one complaint --------------------------------------------------------------


def acknowledge(s: Story, c: Complaint, rng: Random, before: datetime | None) -> None:
    """The desk acknowledges within 1 working hour, mostly; the night shift sometimes does it
    at once, outside office hours; a few are late or never acknowledged."""
    due = add_working(c.received_at, H)
    r = rng.random()
    if r < 0.015:
        return  # never acknowledged
    if not is_open(c.received_at) and r < 0.35:
        at = c.received_at + span(rng, 3 * M, 40 * M)  # the night shift, outside office hours
    elif r < 0.86:
        opened = add_working(c.received_at, timedelta(0))
        at = opened + span(rng, 2 * M, max(due - opened - 2 * M, 3 * M))
        at = min(at, due)
    else:
        at = add_working(due, span(rng, 5 * M, 5 * H))  # late
    if before is not None and at >= before:
        at = max(c.received_at + M, before - span(rng, 1 * M, 6 * M))
    s.add(at, "acknowledged", "agent")


def updates(
    s: Story,
    rng: Random,
    start: datetime,
    end: datetime | None,
    pauses: Sequence[Pause],
    diligence: float,
) -> None:
    """`progress_update` before each 24h point of the clock, mostly (some late, some missed)."""
    end = NOW if end is None else end
    prev = start
    for k in range(1, 60):
        point = clock_due(start, 24 * H * k, pauses)
        if point >= end:
            return
        r = rng.random()
        if r < diligence:
            at = point - span(rng, 30 * M, min(8 * H, point - prev - M))
            s.add(at, "progress_update", "agent")
        elif r < diligence + 0.1:
            at = point + span(rng, 10 * M, 5 * H)
            if at < end:
                s.add(at, "progress_update", "agent")
        prev = point


@dataclass
class Counts:
    tally: Counter[str] = field(default_factory=Counter)
    exact_boundary_done: bool = False
    paused: int = 0


def story(c: Complaint, rng: Random, counts: Counts) -> Story:
    s = Story(c.id)
    start, target = c.received_at, c.target
    tally = counts.tally

    # -- the reply, with a pause for the customer's information on ~10% -------------------
    pauses: list[Pause] = []
    open_pause: datetime | None = None
    r = rng.random()
    never = c.received_at.date() >= date(2024, 12, 5) and rng.random() < 0.09
    if not never and r < 0.10:
        pause_at = start + skewed(rng, 10 * M, target * 0.6)
        counts.paused += 1
        if counts.paused % 9 == 4:
            open_pause = pause_at  # the customer never sent the information
            tally["pause never resumed"] += 1
        else:
            gap = skewed(rng, 25 * M, 80 * H)
            pauses.append((whole(pause_at), whole(pause_at + gap)))
            tally["paused and resumed"] += 1
    due = clock_due(start, target, pauses)
    late = not never and open_pause is None and rng.random() < 0.15
    reply: datetime | None = None
    if never:
        tally["never replied"] += 1
    elif open_pause is None:
        if late:
            extra = skewed(rng, 5 * M, 10 * H) if not c.complex else skewed(rng, 10 * M, 30 * H)
            reply = clock_due(start, target + extra, pauses)
            tally["replied late"] += 1
        elif not counts.exact_boundary_done and not c.complex and not pauses and start.day >= 12:
            reply = due  # exactly at the due time: met
            counts.exact_boundary_done = True
            tally["replied exactly at the due time"] += 1
        else:
            reply = clock_due(start, target * (0.12 + 0.86 * rng.random()), pauses)
            tally["replied on time"] += 1
        reply = whole(reply)

    # -- escalations on a breach of `reply` -------------------------------------------------
    esc: list[tuple[datetime, str]] = []
    breached = open_pause is None and (reply is None or reply > due)
    if breached:
        mode = rng.choices(
            ["on time", "late", "never", "skip", "early"], [0.45, 0.2, 0.12, 0.1, 0.13]
        )[0]
        tally[f"team_lead escalation: {mode}"] += 1
        tl_due = due + 30 * M
        tl: datetime | None = None
        if mode == "on time":
            tl = due + span(rng, 1 * M, 29 * M)
        elif mode == "late":
            tl = due + skewed(rng, 35 * M, 6 * H)
        elif mode == "early":
            tl = clock_due(start, target * (0.5 + 0.4 * rng.random()), pauses)
        if tl is not None:
            esc.append((tl, "team_lead"))
        if mode == "skip":
            esc.append((due + span(rng, 5 * M, 50 * M), "supervisor"))
        elif mode != "never":
            trigger = tl if tl is not None else tl_due
            sup_due = add_working(trigger, 4 * H)
            if reply is None or reply > sup_due:  # still open after 4 working hours
                how = rng.choices(["on time", "late", "never"], [0.6, 0.25, 0.15])[0]
                tally[f"supervisor escalation: {how}"] += 1
                if how == "on time":
                    esc.append(
                        (add_working(trigger, span(rng, 20 * M, 3 * H + 50 * M)), "supervisor")
                    )
                elif how == "late":
                    esc.append(
                        (add_working(trigger, span(rng, 4 * H + 20 * M, 9 * H)), "supervisor")
                    )
    elif reply is not None and c.complex and rng.random() < 0.07:
        at = clock_due(start, target * (0.4 + 0.5 * rng.random()), pauses)
        if at < reply:
            esc.append((at, "team_lead"))  # escalated early, and then replied in time
            tally["team_lead escalation: early, reply met"] += 1

    def owner(at: datetime) -> str:
        roles = [role for t, role in esc if t <= at]
        return max(roles, key=ROLES.index) if roles else "agent"

    # -- the events of the first cycle -------------------------------------------------------
    acknowledge(s, c, rng, reply)
    if pauses:
        s.add(pauses[0][0], "awaiting_customer", "agent")
        s.add(pauses[0][1], "customer_replied")
    if open_pause is not None:
        s.add(open_pause, "awaiting_customer", "agent")
        pauses.append((open_pause, NOW))
    updates(s, rng, start, reply, pauses, 0.45 if never else 0.8)
    if reply is not None:
        s.add(reply, "replied", owner(reply))

    # -- the manager's written reply, for valid-looking complaints ---------------------------
    manager: datetime | None = None
    report: datetime | None = None
    if c.valid_looking and rng.random() < 0.85:
        report = start + (skewed(rng, 1 * H, 30 * H) if rng.random() < 0.92 else 3 * 24 * H)
        report = s.add(report, "written_report", "agent")
        draw = rng.random()
        if draw < 0.84:
            manager = report + span(rng, 3 * H, 47 * H + 30 * M)
        elif draw < 0.96:
            manager = report + skewed(rng, 49 * H, 100 * H)
            tally["manager replied late"] += 1
        else:
            tally["manager never replied"] += 1
        if manager is not None:
            manager = s.add(manager, "manager_replied", "department_manager")

    # -- an unsatisfied customer reopens both clocks -----------------------------------------
    if reply is not None and rng.random() < (0.3 if reply > due else 0.05):
        last = max(reply, manager or reply)
        unsat = s.add(last + skewed(rng, 1 * H, 48 * H), "customer_unsatisfied")
        tally["customer unsatisfied"] += 1
        dm = rng.choices(["on time", "late", "never"], [0.5, 0.2, 0.3])[0]
        tally[f"department_manager escalation: {dm}"] += 1
        if dm == "on time":
            esc.append((add_working(unsat, span(rng, 5 * M, 55 * M)), "department_manager"))
        elif dm == "late":
            esc.append((add_working(unsat, span(rng, 70 * M, 6 * H)), "department_manager"))
        rounds = 2 if rng.random() < 0.3 else 1
        again = reply
        for n in range(rounds):
            on_time = rng.random() < 0.8
            took = (
                target * (0.2 + 0.75 * rng.random())
                if on_time
                else target + skewed(rng, 10 * M, 12 * H)
            )
            if c.complex and not on_time:
                updates(s, rng, unsat, unsat + took, [], 0.8)
            again = s.add(unsat + took, "replied", owner(unsat + took))
            if manager is not None and manager < unsat and rng.random() < 0.8:
                manager = s.add(
                    unsat + span(rng, 4 * H, 40 * H), "manager_replied", "department_manager"
                )
            if n + 1 < rounds:
                unsat = s.add(again + skewed(rng, 2 * H, 30 * H), "customer_unsatisfied")
                tally["customer unsatisfied twice"] += 1
        if rng.random() < 0.9:
            s.add(max(again, manager or again) + skewed(rng, 1 * H, 36 * H), "customer_satisfied")

    for at, role in esc:
        s.add(at, "escalated", role)
    return s


# ---- hand-written stories at the end of the period: still open at NOW ------------------------


def resumed_for_due(c: Complaint, due: datetime, done: float = 0.3) -> list[Pause]:
    """A pause after `done` of the target, resumed so that the reply falls due at `due`."""
    pause_at = whole(c.received_at + c.target * done)
    return [(pause_at, whole(due - c.target * (1 - done)))]


def open_story(c: Complaint, rng: Random, plot: str) -> Story:
    s = Story(c.id)
    acknowledge(s, c, rng, None)
    if plot == "team_lead pending":
        # the reply fell due at 17:45 today: the 30 minutes to escalate have not run out
        (p,) = resumed_for_due(c, NOW - 15 * M)
        s.add(p[0], "awaiting_customer", "agent")
        s.add(p[1], "customer_replied")
    elif plot == "supervisor pending":
        # breached at 14:10, escalated to the team lead at 14:25; 4 working hours end Monday
        (p,) = resumed_for_due(c, NOW - 3 * H - 50 * M)
        s.add(p[0], "awaiting_customer", "agent")
        s.add(p[1], "customer_replied")
        s.add(NOW - 3 * H - 35 * M, "escalated", "team_lead")
    elif plot == "department_manager pending":
        # replied late yesterday, unhappy at 17:20 today: 1 working hour ends Monday 09:20
        due = NOW - 26 * H
        (p,) = resumed_for_due(c, due)
        s.add(p[0], "awaiting_customer", "agent")
        s.add(p[1], "customer_replied")
        s.add(due + 12 * M, "escalated", "team_lead")
        s.add(due + 2 * H + 5 * M, "replied", "team_lead")
        s.add(NOW - 40 * M, "customer_unsatisfied")
    elif plot == "reply pending":
        # the customer answered a while ago; the reply falls due after NOW
        (p,) = resumed_for_due(c, NOW + c.target * 0.55, 0.2)
        s.add(p[0], "awaiting_customer", "agent")
        s.add(p[1], "customer_replied")
    elif plot == "manager pending":
        s.add(c.received_at + c.target * 0.6, "replied", "agent")
        s.add(NOW - 27 * H, "written_report", "agent")
    else:
        raise ValueError(plot)
    return s


OPEN_PLOTS = (
    "team_lead pending",
    "supervisor pending",
    "department_manager pending",
    "reply pending",
    "manager pending",
)


# ---- writing ---------------------------------------------------------------------------------


def stamp(t: datetime, rng: Random) -> str:
    """Mostly `+08:00`; some naive (the policy's zone); some UTC with `Z`."""
    r = rng.random()
    if r < 0.84:
        return t.astimezone(SHANGHAI).isoformat()
    if r < 0.94:
        return t.astimezone(SHANGHAI).replace(tzinfo=None).isoformat()
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def dump(obj: dict[str, Any]) -> str:
    return json.dumps(obj, ensure_ascii=False)


@dataclass
class Line:
    text: str
    event: Event | None = None  # the event the line records (None: no usable event)
    note: str = ""  # why the line is notable
    code: str = ""  # what csdsl should say about it
    case: str = ""  # the case a bad line was meant for


@dataclass(frozen=True)
class Notable:
    name: str
    at_fraction: float  # where in the file, roughly
    wants: Callable[[Event], bool]
    make: Callable[[Event, str], tuple[str, str, str, Event | None]]  # text, note, code, kept


def _obj(case: str | None, at: str, ev: Event) -> dict[str, Any]:
    obj: dict[str, Any] = {} if case is None else {"case": case}
    obj |= {"at": at, "event": ev.name}
    if ev.role is not None:
        obj["role"] = ev.role
    return obj


def _bad_month_day(ev: Event, at: str) -> tuple[str, str, str, Event | None]:
    bad = "2024-11-31" + ev.at.astimezone(SHANGHAI).isoformat()[10:]
    text = dump(_obj(ev.case, bad, ev))
    return text, f"`at` {bad}: November has 30 days; the `{ev.name}` is lost", "R005", None


def _yesterday(ev: Event, at: str) -> tuple[str, str, str, Event | None]:
    text = dump(_obj(ev.case, "yesterday", ev))
    return text, f'`at` is "yesterday"; the `{ev.name}` is lost', "R005", None


def _not_json(ev: Event, at: str) -> tuple[str, str, str, Event | None]:
    text = dump({"case": ev.case, "at": at, "event": ev.name})[:-14]
    return text, f"truncated object, not valid JSON; the `{ev.name}` is lost", "R001", None


def _no_case(ev: Event, at: str) -> tuple[str, str, str, Event | None]:
    text = dump(_obj(None, at, ev))
    return text, f"no `case` (meant for {ev.case}); the `{ev.name}` is lost", "R008", None


def _typo(name: str) -> Callable[[Event, str], tuple[str, str, str, Event | None]]:
    def make(ev: Event, at: str) -> tuple[str, str, str, Event | None]:
        obj: dict[str, Any] = {"case": ev.case, "at": at, "event": name}
        if ev.role is not None:
            obj["role"] = ev.role
        kept = Event(ev.case, ev.at, name, ev.role, ev.seq)
        note = f"unknown event `{name}` (meant `{ev.name}`); kept but no clause uses it"
        return dump(obj), note, "V001", kept

    return make


def _stranger(case: str) -> Callable[[Event, str], tuple[str, str, str, Event | None]]:
    def make(ev: Event, at: str) -> tuple[str, str, str, Event | None]:
        kept = Event(case, ev.at + 3 * M, "acknowledged", "agent")
        text = dump(
            {"case": case, "at": kept.at.isoformat(), "event": "acknowledged", "role": "agent"}
        )
        return text, f"case {case} is not in the records", "V003", kept

    return make


NOTABLES = (
    Notable("missing case", 0.04, lambda e: e.name == "acknowledged", _no_case),
    Notable("yesterday", 0.13, lambda e: e.name == "progress_update", _yesterday),
    Notable("replyed", 0.24, lambda e: e.name == "replied", _typo("replyed")),
    Notable("stranger 1", 0.33, lambda e: True, _stranger("C-20250101-0001")),
    Notable(
        "2024-11-31",
        -1.0,
        lambda e: (
            e.at.astimezone(SHANGHAI).date() == date(2024, 11, 30) and e.name == "acknowledged"
        ),
        _bad_month_day,
    ),
    Notable("not JSON", 0.55, lambda e: e.name == "progress_update", _not_json),
    Notable(
        "escalate",
        0.66,
        lambda e: e.name == "escalated" and e.role == "team_lead",
        _typo("escalate"),
    ),
    Notable("stranger 2", 0.97, lambda e: True, _stranger("C-20241216-0001")),
)


def build(complaints: list[Complaint], rng: Random) -> tuple[list[Line], Counts]:
    counts = Counts()
    late_ones = sorted(complaints, key=lambda c: c.received_at)[-12:]
    plots = dict(zip((c.id for c in late_ones[1::2]), OPEN_PLOTS, strict=False))
    events: list[Event] = []
    for c in complaints:
        s = open_story(c, rng, plots[c.id]) if c.id in plots else story(c, rng, counts)
        if c.id in plots:
            counts.tally[f"open at NOW: {plots[c.id]}"] += 1
        events += [e for e in s.events if e.at <= NOW]
    events.sort(key=lambda e: (e.at, e.case, e.seq))

    # ~5% arrive late: a delayed sync writes them further down the log
    n = len(events)
    late_ids = set(rng.sample(range(n - 1), round(n * 0.05)))
    moved = [(i, e) for i, e in enumerate(events) if i in late_ids]
    order: list[tuple[float, Event]] = [
        (float(i), e) for i, e in enumerate(events) if i not in late_ids
    ]
    order += [(i + rng.randint(3, 90) + 0.5, e) for i, e in moved]
    order.sort(key=lambda p: p[0])
    delayed = {id(e) for _, e in moved}
    lines = [Line(dump(_event_json(e, rng)), e) for _, e in order]

    # the notable lines replace an ordinary line (or, for unknown cases, join one)
    protected = set(plots)
    for nb in NOTABLES:
        if nb.at_fraction < 0:
            start = next(i for i, ln in enumerate(lines) if ln.event and nb.wants(ln.event))
        else:
            start = round(nb.at_fraction * len(lines))
        i = next(
            i
            for i in range(start, len(lines))
            if (ev := lines[i].event) is not None
            and not lines[i].note
            and id(ev) not in delayed
            and ev.case not in protected
            and nb.wants(ev)
        )
        ev = lines[i].event
        assert ev is not None
        at = json.loads(lines[i].text)["at"]
        text, note, code, kept = nb.make(ev, at)
        notable = Line(text, kept, note, code, ev.case)
        if code == "V003":
            lines.insert(i + 1, notable)
        else:
            lines[i] = notable
    return lines, counts


def _event_json(e: Event, rng: Random) -> dict[str, Any]:
    obj: dict[str, Any] = {"case": e.case, "at": stamp(e.at, rng), "event": e.name}
    if e.role is not None:
        obj["role"] = e.role
    return obj


def out_of_order(lines: list[Line]) -> list[tuple[int, Event]]:
    """The lines csdsl reports as V002: earlier than an event of the case read before."""
    last: dict[str, datetime] = {}
    out = []
    for n, ln in enumerate(lines, 1):
        e = ln.event
        if e is None or ln.code.startswith("R"):
            continue
        if e.case in last and e.at < last[e.case]:
            out.append((n, e))
        last[e.case] = max(e.at, last.get(e.case, e.at))
    return out


def to_csv(lines: list[Line]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["case", "at", "event", "role"])
    for ln in lines:
        try:
            obj = json.loads(ln.text)
        except json.JSONDecodeError:
            continue  # a CSV row cannot be "not JSON"
        w.writerow(
            [obj.get("case", ""), obj.get("at", ""), obj.get("event", ""), obj.get("role") or ""]
        )
    return buf.getvalue()


def main() -> None:
    rng = Random(SEED)
    complaints = read_complaints(RECORDS)
    lines, counts = build(complaints, rng)
    EVENTS_JSONL.write_text("".join(ln.text + "\n" for ln in lines), encoding="utf-8")
    EVENTS_CSV.write_text(to_csv(lines[:CSV_LINES]), encoding="utf-8")
    NOW_TXT.write_text(NOW.isoformat() + "\n", encoding="utf-8")

    print(f"{len(complaints)} complaints -> {len(lines)} lines in {EVENTS_JSONL.name}")
    for name, k in sorted(counts.tally.items()):
        print(f"  {k:4d}  {name}")
    print("notable lines (line, code, case, why):")
    for n, ln in enumerate(lines, 1):
        if ln.note:
            case = ln.event.case if ln.event else ln.case
            print(f"  {n:5d}  {ln.code}  {case}  {ln.note}")
    ooo = out_of_order(lines)
    print(f"out of order within their case (V002), {len(ooo)} lines:")
    print("  " + ", ".join(str(n) for n, _ in ooo))
    print(
        f"--now {NOW.isoformat()} (in {NOW_TXT.name}); {EVENTS_CSV.name}: first {CSV_LINES} lines"
    )


if __name__ == "__main__":
    main()

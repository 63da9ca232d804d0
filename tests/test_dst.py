"""Daylight saving time (issue 14, item 11): every datetime is an instant.  A naive datetime is
read on the wall clock of the policy's zone (the first of two readings when the clocks go back;
a time the clocks skip is a bad row), and arithmetic, comparison, due times and KPIs are the
same whichever way an instant is spelled, on the Python and the DuckDB engine alike."""

from __future__ import annotations

import datetime as dt
import functools
import json
import zoneinfo
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import csdsl
from csdsl import values
from csdsl.api import Policy
from csdsl.calendar import WorkCalendar
from csdsl.cli import main
from csdsl.duck import DuckEngine

UTC = dt.UTC
ZONES = ("America/New_York", "Europe/London", "Australia/Sydney", "Asia/Shanghai")

POLICY = """policy "dst" version "1" effective 1980-01-01 timezone "{zone}"

record Complaint {{
  received_at: datetime
  replied_at: datetime
}}

calendar office {{
  open mon-fri 09:00-18:00
  open sun 01:30-03:30
}}

valid Complaint when any {{
  slow "reply took more than an hour": replied_at - received_at > 1h
  overnight "replied a day later": replied_at >= received_at + 24h
}}

deadline reply for Complaint {{
  starts at received_at
  stops on replied
  within 2h
}}

deadline day for Complaint {{
  starts at received_at
  stops on replied
  within 24h
}}

deadline office for Complaint {{
  starts at received_at
  stops on replied
  within 3 working hours on office
}}

metric slow_share "slow replies":
  count(Complaint where replied_at - received_at > 1h) / count(Complaint) <= 50%
  by day of received_at
"""


@functools.cache
def policy_in(zone: str) -> Policy:
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix="csdsl-dst-"))
    path = folder / f"{zone.replace('/', '_')}.csp"
    path.write_text(POLICY.format(zone=zone), encoding="utf-8")
    return csdsl.load(path)


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def naive(moment: dt.datetime, zone: str) -> str:
    """`moment` on the zone's wall clock, without an offset."""
    return moment.astimezone(zoneinfo.ZoneInfo(zone)).replace(tzinfo=None).isoformat()


def offset(moment: dt.datetime, zone: str) -> str:
    """`moment` with the zone's offset at that instant."""
    return moment.astimezone(zoneinfo.ZoneInfo(zone)).isoformat()


def verdicts(policy: Policy, path: Path) -> list[tuple[Any, ...]]:
    out: list[tuple[Any, ...]] = []
    for r in policy.validate_file(path):
        if r.verdict is None:
            assert r.error is not None
            out.append((r.id, r.error.code, r.error.message))
        else:
            out.append((r.id, r.verdict.valid, r.verdict.matched))
    return out


def duck_verdicts(engine: DuckEngine, path: Path) -> list[tuple[Any, ...]]:
    out: list[tuple[Any, ...]] = []
    for v in engine.validate_file(path):
        if v.error is not None:
            out.append((v.id, v.error.code, v.error.message))
        else:
            out.append((v.id, v.valid, v.matched))
    return out


def timelines(policy: Policy, records: Path, events: Path) -> list[tuple[Any, ...]]:
    rows, problems = policy.timeline_file(records, events)
    assert not problems
    out = []
    for row in rows:
        assert row.timeline is not None and not row.timeline.errors
        out.append(
            (
                row.id,
                [
                    (m.clause, m.status, m.due.astimezone(UTC) if m.due else None, m.late_by)
                    for m in row.timeline.milestones
                ],
            )
        )
    return out


# ---- the example -----------------------------------------------------------------------


def test_spring_forward_counts_real_time(tmp_path: Path) -> None:
    """01:30 EST to 03:15 EDT is 45 minutes, however it is written, on both engines."""
    policy = policy_in("America/New_York")
    path = write_jsonl(
        tmp_path / "r.jsonl",
        [
            {"id": 1, "received_at": "2024-03-10T01:30", "replied_at": "2024-03-10T03:15"},
            {
                "id": 2,
                "received_at": "2024-03-10T01:30-05:00",
                "replied_at": "2024-03-10T03:15-04:00",
            },
            {"id": 3, "received_at": "2024-03-10T06:30Z", "replied_at": "2024-03-10T07:15Z"},
        ],
    )
    want = [(1, False, ()), (2, False, ()), (3, False, ())]
    assert verdicts(policy, path) == want
    with DuckEngine(policy) as engine:
        assert duck_verdicts(engine, path) == want
    # a day later by the wall clock, 23 hours later in fact: not `overnight` (>= 24h)
    later = write_jsonl(
        tmp_path / "later.jsonl",
        [{"id": 4, "received_at": "2024-03-09T12:00", "replied_at": "2024-03-10T12:00"}],
    )
    assert verdicts(policy, later) == [(4, True, ("slow",))]


def test_a_time_the_clocks_skip_is_a_bad_row(tmp_path: Path) -> None:
    policy = policy_in("America/New_York")
    path = write_jsonl(
        tmp_path / "r.jsonl",
        [
            {"id": 1, "received_at": "2024-03-10T02:30", "replied_at": "2024-03-10T03:15"},
            {"id": 2, "received_at": "2024-03-10T01:59:59", "replied_at": "2024-03-10T03:00"},
        ],
    )
    message = (
        "`received_at`: 2024-03-10T02:30 does not exist in America/New_York "
        "(clocks jumped forward); write it with its UTC offset"
    )
    want = [(1, "R005", message), (2, False, ())]
    assert verdicts(policy, path) == want
    with DuckEngine(policy) as engine:
        assert duck_verdicts(engine, path) == want


def test_an_event_or_now_the_clocks_skip_is_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    policy = policy_in("America/New_York")
    records = write_jsonl(
        tmp_path / "r.jsonl",
        [{"id": 1, "received_at": "2024-03-10T01:00", "replied_at": "2024-03-10T04:00"}],
    )
    events = write_jsonl(
        tmp_path / "e.jsonl",
        [
            {"case": 1, "event": "replied", "at": "2024-03-10T02:15"},
            {"case": 1, "event": "replied", "at": "2024-03-10T03:15"},
        ],
    )
    rows, problems = policy.timeline_file(records, events)
    assert [(p.line, p.code) for p in problems] == [(1, "R005")]
    assert "2024-03-10T02:15 does not exist in America/New_York" in problems[0].message
    (row,) = list(rows)
    assert row.timeline is not None
    reply = row.timeline.milestones[0]
    # 01:00 EST + 2h = 04:00 EDT; replied 03:15 EDT: met, 1h15m after the start
    assert (reply.clause, reply.status) == ("reply", "met")
    assert reply.due == dt.datetime(2024, 3, 10, 8, 0, tzinfo=UTC)


def test_fall_back_reads_the_first_of_two_times() -> None:
    ny = zoneinfo.ZoneInfo("America/New_York")
    first = values.instant(dt.datetime(2024, 11, 3, 1, 30), ny)
    assert first.isoformat() == "2024-11-03T01:30:00-04:00"
    second = values.instant(dt.datetime(2024, 11, 3, 1, 30, fold=1), ny)
    assert second - first == dt.timedelta(hours=1)
    # arithmetic on the instant: an hour after the first 01:30 is the second one
    assert (first + dt.timedelta(hours=1)).astimezone(ny).isoformat() == (
        "2024-11-03T01:30:00-05:00"
    )


def test_naive_datetimes_of_one_zone_subtract_as_instants() -> None:
    """The root of the bug: two aware datetimes sharing one `ZoneInfo` subtract on the wall
    clock.  `instant` gives each its own fixed offset."""
    ny = zoneinfo.ZoneInfo("America/New_York")
    a = values.instant(dt.datetime(2024, 3, 10, 1, 30), ny)
    b = values.instant(dt.datetime(2024, 3, 10, 3, 15), ny)
    assert b - a == dt.timedelta(minutes=45)
    assert type(a.tzinfo) is dt.timezone and type(b.tzinfo) is dt.timezone


def test_policy_literals_and_examples_are_instants(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """An example's `given` datetimes and a condition's literal are read as data is: 01:30 to
    03:15 on the spring-forward night is 45 minutes, and 01:30 + 1h is 03:30 EDT."""
    policy = tmp_path / "ex.csp"
    policy.write_text(
        POLICY.format(zone="America/New_York").replace(
            '  overnight "replied a day later"',
            '  early "received an hour before 03:15": received_at + 1h > 2024-03-10T03:15\n'
            '  overnight "replied a day later"',
        )
        + """
example "spring forward: 45 minutes" {
  given Complaint { received_at: 2024-03-10T01:30, replied_at: 2024-03-10T03:15 }
  expect valid because early
}

example "the same instants with offsets" {
  given Complaint { received_at: 2024-03-10T01:30-05:00, replied_at: 2024-03-10T03:15-04:00 }
  expect valid because early
}

example "a day by the wall clock is 23 hours" {
  given Complaint { received_at: 2024-03-09T12:00, replied_at: 2024-03-10T12:00 }
  expect valid because slow
}
""",
        encoding="utf-8",
    )
    assert main(["test", str(policy)]) == 0, capsys.readouterr().out


# ---- calendars ----------------------------------------------------------------------------------


def test_office_hours_on_the_days_the_clocks_change() -> None:
    ny = zoneinfo.ZoneInfo("America/New_York")
    week = tuple(((dt.time(9), dt.time(18)),) for _ in range(7))
    office = WorkCalendar("office", ny, week)
    for day in (dt.date(2024, 3, 10), dt.date(2024, 11, 3)):
        ((a, b),) = office.day_intervals(day)
        assert b - a == dt.timedelta(hours=9)
    # a day open around the clock but not a 24x7 calendar (a closed date elsewhere): the
    # spring-forward day has 23 real hours, the fall-back day 25
    allday = WorkCalendar(
        "allday",
        ny,
        tuple(((dt.time(0), None),) for _ in range(7)),
        closed=frozenset({dt.date(2024, 1, 1)}),
    )
    assert sum((b - a for a, b in allday.day_intervals(dt.date(2024, 3, 10))), dt.timedelta()) == (
        dt.timedelta(hours=23)
    )
    assert sum((b - a for a, b in allday.day_intervals(dt.date(2024, 11, 3))), dt.timedelta()) == (
        dt.timedelta(hours=25)
    )


def test_an_opening_time_the_clocks_skip_is_the_moment_they_jump() -> None:
    ny = zoneinfo.ZoneInfo("America/New_York")
    sunday = tuple(((dt.time(2, 30), dt.time(4)),) if i == 6 else () for i in range(7))
    cal = WorkCalendar("night", ny, sunday)
    ((a, b),) = cal.day_intervals(dt.date(2024, 3, 10))
    assert a.astimezone(ny).isoformat() == "2024-03-10T03:00:00-04:00"
    assert b - a == dt.timedelta(hours=1)
    # on the fall-back day an opening at 01:30 is the first 01:30
    fall = WorkCalendar(
        "fall", ny, tuple(((dt.time(1, 30), dt.time(3)),) if i == 6 else () for i in range(7))
    )
    ((a, b),) = fall.day_intervals(dt.date(2024, 11, 3))
    assert a.astimezone(ny).isoformat() == "2024-11-03T01:30:00-04:00"
    assert b - a == dt.timedelta(hours=2, minutes=30)


def test_within_24h_is_24_real_hours_across_the_change(tmp_path: Path) -> None:
    policy = policy_in("America/New_York")
    tl = policy.timeline(
        {"id": 1, "received_at": "2024-03-09T12:00", "replied_at": "2024-03-10T12:30"},
        [{"event": "replied", "at": "2024-03-10T12:30"}],
    )
    day = next(m for m in tl.milestones if m.clause == "day")
    assert day.due is not None
    assert day.due.astimezone(zoneinfo.ZoneInfo("America/New_York")).isoformat() == (
        "2024-03-10T13:00:00-04:00"
    )
    assert day.status == "met"


def test_the_cli_reads_now_on_the_zones_clock(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    policy = tmp_path / "ny.csp"
    policy.write_text(POLICY.format(zone="America/New_York"), encoding="utf-8")
    records = write_jsonl(
        tmp_path / "r.jsonl",
        [{"id": 1, "received_at": "2024-03-10T01:30", "replied_at": "2024-03-10T03:15"}],
    )
    # due 04:30 EDT (01:30 EST + 2h); at 04:31 EDT, one minute late
    argv = ["timeline", str(policy), str(records), "--now", "2024-03-10T04:31", "--format", "json"]
    assert main(argv) == 0
    (row,) = (json.loads(x) for x in capsys.readouterr().out.splitlines())
    reply = next(m for m in row["milestones"] if m["clause"] == "reply")
    assert (reply["due"], reply["status"], reply["late_by"]) == (
        "2024-03-10T04:30:00-04:00",
        "breached",
        "PT1M",
    )


# ---- the property -------------------------------------------------------------------------------


@functools.cache
def transitions(zone: str) -> tuple[dt.datetime, ...]:
    """The instants (UTC) at which `zone` changed its offset in 1986-2030 (Shanghai: its DST
    of 1986-1991), found hour by hour."""
    tz = zoneinfo.ZoneInfo(zone)
    out = []
    t = dt.datetime(1986, 1, 1, tzinfo=UTC)
    end = dt.datetime(2030, 1, 1, tzinfo=UTC)
    hour = dt.timedelta(hours=1)
    before = t.astimezone(tz).utcoffset()
    while t < end:
        t += hour
        now = t.astimezone(tz).utcoffset()
        if now != before:
            out.append(t)
            before = now
    return tuple(out)


@st.composite
def instants(draw: st.DrawFn, zone: str) -> dt.datetime:
    """Instants near a change of the zone's offset (or in the quiet middle of a year), to the
    minute."""
    near = draw(st.sampled_from(transitions(zone)))
    spread = draw(st.sampled_from([6 * 60, 3 * 24 * 60, 60 * 24 * 60]))
    minutes = draw(st.integers(-spread, spread))
    return near + dt.timedelta(minutes=minutes)


@st.composite
def cases(draw: st.DrawFn) -> tuple[str, list[tuple[dt.datetime, dt.datetime]]]:
    zone = draw(st.sampled_from(ZONES))
    pairs = []
    for _ in range(draw(st.integers(1, 6))):
        start = draw(instants(zone))
        gap = dt.timedelta(minutes=draw(st.sampled_from([0, 30, 45, 60, 61, 90, 119, 120, 121])))
        gap += dt.timedelta(hours=draw(st.sampled_from([0, 0, 0, 1, 22, 23, 24, 25])))
        pairs.append((start, start + gap))
    return zone, pairs


def spelled(moment: dt.datetime, zone: str, with_offset: bool) -> str:
    """Naive when that reads back as the same instant (not the second of two readings), else
    with the offset."""
    if not with_offset:
        text = naive(moment, zone)
        first = dt.datetime.fromisoformat(text).replace(tzinfo=zoneinfo.ZoneInfo(zone), fold=0)
        if first.astimezone(UTC) == moment:
            return text
    return offset(moment, zone)


_engines: dict[str, DuckEngine] = {}


def engine_for(zone: str) -> DuckEngine:
    if zone not in _engines:
        _engines[zone] = DuckEngine(policy_in(zone), threads=1)
    return _engines[zone]


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(case=cases())
def test_naive_and_offset_spellings_agree(
    tmp_path: Path, case: tuple[str, list[tuple[dt.datetime, dt.datetime]]]
) -> None:
    zone, pairs = case
    policy = policy_in(zone)
    results = []
    for with_offset in (False, True):
        tag = "offset" if with_offset else "naive"
        rows = [
            {
                "id": i,
                "received_at": spelled(a, zone, with_offset),
                "replied_at": spelled(b, zone, with_offset),
            }
            for i, (a, b) in enumerate(pairs)
        ]
        records = write_jsonl(tmp_path / f"{tag}.jsonl", rows)
        events = write_jsonl(
            tmp_path / f"{tag}-events.jsonl",
            [{"case": r["id"], "event": "replied", "at": r["replied_at"]} for r in rows],
        )
        python = verdicts(policy, records)
        duck = duck_verdicts(engine_for(zone), records)
        assert python == duck
        # the verdict is the instants' verdict
        for (a, b), (_, valid, matched) in zip(pairs, python, strict=True):
            want = tuple(
                c
                for c, holds in (
                    ("slow", b - a > dt.timedelta(hours=1)),
                    ("overnight", b >= a + dt.timedelta(hours=24)),
                )
                if holds
            )
            assert (valid, matched) == (bool(want), want)
        kpis = policy.measure_files({"Complaint": records})[0]
        duck_kpis = engine_for(zone).measure_files({"Complaint": records})[0]
        assert [k.to_json() for k in kpis] == [k.to_json() for k in duck_kpis]
        results.append((python, [k.to_json() for k in kpis], timelines(policy, records, events)))
    assert results[0] == results[1]
    # and the due times are the instants': 2h and 24h of elapsed time
    for (a, _), (_, milestones) in zip(pairs, results[0][2], strict=True):
        due = {clause: d for clause, _, d, _ in milestones}
        assert due["reply"] == a + dt.timedelta(hours=2)
        assert due["day"] == a + dt.timedelta(hours=24)


def teardown_module() -> None:
    for engine in _engines.values():
        engine.close()

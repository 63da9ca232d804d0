"""Working-time calendars: China's holidays and make-up days, and the laws of the arithmetic."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from pathlib import Path

import pytest
from hypothesis import given, strategies as st

from csdsl.calendar import CalendarError, WorkCalendar, china_published_years

SH = zoneinfo.ZoneInfo("Asia/Shanghai")
BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")
SPLIT = ((dt.time(9), dt.time(12)), (dt.time(13, 30), dt.time(18)))
OFFICE = WorkCalendar("office", SH, (SPLIT,) * 5 + ((), ()), "china")
HOTLINE = WorkCalendar.always_open("hotline", SH)
# odd hours in a zone with daylight saving, one extra closed and one extra working date
ODD = WorkCalendar(
    "odd",
    BERLIN,
    (
        ((dt.time(7), dt.time(7, 45)), (dt.time(22), None)),
        (),
        ((dt.time(0), dt.time(3)),),
        (),
        ((dt.time(10), dt.time(16)),),
        (),
        (),
    ),
    closed=frozenset({dt.date(2025, 3, 31)}),
    working=frozenset({dt.date(2025, 10, 26)}),
)
CALENDARS = [OFFICE, HOTLINE, ODD]


def test_friday_evening_plus_two_working_hours_is_due_on_a_make_up_sunday() -> None:
    due = OFFICE.add(dt.datetime(2025, 9, 26, 17, tzinfo=SH), dt.timedelta(hours=2))
    assert due == dt.datetime(2025, 9, 28, 10, tzinfo=SH)
    assert due.astimezone(SH).weekday() == 6


def test_golden_week_is_closed_and_its_make_up_saturday_open() -> None:
    assert not OFFICE.is_working_day(dt.date(2025, 10, 1))
    assert OFFICE.is_working_day(dt.date(2025, 10, 11))  # Saturday, 调休
    assert OFFICE.end_of_working_day(dt.datetime(2025, 9, 30, 10, tzinfo=SH), 1) == dt.datetime(
        2025, 10, 9, 18, tzinfo=SH
    )
    assert OFFICE.next_working_day_at(
        dt.datetime(2025, 10, 10, 20, tzinfo=SH), dt.time(18)
    ) == dt.datetime(2025, 10, 11, 18, tzinfo=SH)


def test_an_unpublished_year_is_an_error_not_a_guess() -> None:
    first, last = china_published_years()
    assert first <= 2004 and last >= 2025
    with pytest.raises(CalendarError, match=f"{last + 1}-03-01 is outside the years"):
        OFFICE.add(dt.datetime(last + 1, 3, 1, 9, tzinfo=SH), dt.timedelta(hours=2))
    explicit = WorkCalendar("x", SH, (SPLIT,) * 5 + ((), ()))  # no statutory data: no limit
    assert explicit.add(dt.datetime(2040, 3, 1, 9, tzinfo=SH), dt.timedelta(hours=1))


def test_holidays_agrees_with_chinesecalendar() -> None:
    chinese_calendar = pytest.importorskip("chinese_calendar")
    first, last = china_published_years()
    day, disagree = dt.date(max(first, 2004), 1, 1), []
    while day.year <= min(last, 2026):
        try:
            theirs = chinese_calendar.is_workday(day)
        except NotImplementedError:
            break
        if OFFICE.is_working_day(day) != theirs:
            disagree.append(day)
        day += dt.timedelta(days=1)
    # 2005-12-31, a Saturday make-up day set by the 2006 notice, is in `holidays` only
    assert disagree in ([], [dt.date(2005, 12, 31)])


starts = st.datetimes(dt.datetime(2024, 1, 1), dt.datetime(2026, 6, 1), timezones=st.just(SH))
amounts = st.integers(0, 200 * 60).map(lambda m: dt.timedelta(minutes=m))
calendars = st.sampled_from(CALENDARS)


def _is_open(cal: WorkCalendar, t: dt.datetime) -> bool:
    day = t.astimezone(cal.tz).date()
    spans = [s for d in (day - dt.timedelta(days=1), day) for s in cal.day_intervals(d)]
    return any(a <= t <= b for a, b in spans)


@given(calendars, starts, amounts, amounts)
def test_adding_a_then_b_is_adding_a_plus_b(
    cal: WorkCalendar, s: dt.datetime, a: dt.timedelta, b: dt.timedelta
) -> None:
    assert cal.add(cal.add(s, a), b) == cal.add(s, a + b)


@given(calendars, starts, amounts)
def test_due_times_are_in_open_time_and_not_before_the_start(
    cal: WorkCalendar, s: dt.datetime, a: dt.timedelta
) -> None:
    due = cal.add(s, a)
    assert due >= s
    assert _is_open(cal, due)
    assert cal.open_between(s, due) == a


@given(calendars, starts, st.integers(0, 72 * 60), amounts)
def test_later_starts_never_give_earlier_due_times(
    cal: WorkCalendar, s: dt.datetime, later: int, a: dt.timedelta
) -> None:
    assert cal.add(s + dt.timedelta(minutes=later), a) >= cal.add(s, a)


@given(starts, amounts, st.integers(0, 100 * 60), st.integers(1, 48 * 60))
def test_a_pause_moves_a_natural_due_time_by_its_length(
    s: dt.datetime, a: dt.timedelta, offset: int, length: int
) -> None:
    due = HOTLINE.add(s, a)
    p0 = s + dt.timedelta(minutes=offset)
    pause = (p0, p0 + dt.timedelta(minutes=length))
    moved = HOTLINE.add(s, a, [pause])
    if p0 < due or p0 == s:  # a pause from the very start holds even a zero-length clock
        assert moved == due + (pause[1] - pause[0])
    else:
        assert moved == due


def test_explicit_closed_and_working_dates_override_the_week() -> None:
    assert not ODD.is_working_day(dt.date(2025, 3, 31))  # a Monday, closed by the policy
    assert ODD.is_working_day(dt.date(2025, 10, 26))  # a Sunday, opened by the policy
    # an extra working day works the usual weekday hours (Monday's, the most common here)
    hours = ODD.day_intervals(dt.date(2025, 10, 26))
    assert [a.astimezone(BERLIN).time() for a, _ in hours] == [dt.time(7), dt.time(22)]


def test_overlapping_hours_point_at_the_line_that_adds_the_overlap(tmp_path: Path) -> None:
    from csdsl.check import compile_file

    path = tmp_path / "c.csp"
    path.write_text(
        "calendar c {\n  open mon-fri 09:00-18:00\n  open sat 09:00-12:00\n"
        "  open sat 11:00-13:00\n}\n",
        "utf-8",
    )
    (d,) = compile_file(path).diagnostics
    assert (d.code, d.span.line) == ("E212", 4) and "overlap on sat" in d.message


_ZONES = st.sampled_from(
    [dt.UTC, zoneinfo.ZoneInfo("Asia/Shanghai"), zoneinfo.ZoneInfo("America/New_York")]
)
_INSTANTS = st.datetimes(
    min_value=dt.datetime(2020, 1, 1), max_value=dt.datetime(2030, 1, 1), timezones=st.just(dt.UTC)
)
_SPANS = st.lists(
    st.tuples(_INSTANTS, st.timedeltas(min_value=dt.timedelta(0), max_value=dt.timedelta(days=3))),
    max_size=5,
).map(lambda xs: [(a, a + d) for a, d in xs])


@given(
    _ZONES,
    _INSTANTS,
    st.timedeltas(min_value=dt.timedelta(0), max_value=dt.timedelta(days=40)),
    _SPANS,
)
def test_round_the_clock_shortcut_agrees_with_walking_the_days(
    tz: dt.tzinfo,
    start: dt.datetime,
    amount: dt.timedelta,
    paused: list[tuple[dt.datetime, dt.datetime]],
) -> None:
    """A 24x7 calendar adds time by plain arithmetic around the pauses; a calendar that is open
    around the clock in two halves a day is not recognised as 24x7 and walks its intervals: both
    must give the same due time and the same open time between two instants."""
    fast = WorkCalendar.always_open("24x7", tz)
    halves = ((dt.time(0), dt.time(12)), (dt.time(12), None))
    slow = WorkCalendar("halves", tz, tuple(halves for _ in range(7)))
    assert fast._always and not slow._always
    due = fast.add(start, amount, paused)
    assert due == slow.add(start, amount, paused)
    end = start + amount
    assert fast.open_between(start, end, paused) == slow.open_between(start, end, paused)
    assert fast.open_between(start, due, paused) == amount

"""The interval table behind `WorkCalendar.add` and `open_between` gives the answers (and the
errors) of the day-by-day walk it replaced; that walk is kept below, as it was, as the reference."""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
import pickle
import zoneinfo
from collections.abc import Iterator, Sequence
from unittest.mock import patch

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from csdsl import intervals
from csdsl.calendar import CalendarError, WorkCalendar, china_published_years
from csdsl.intervals import IntervalRow, intervals_table, to_us

Span = tuple[dt.datetime, dt.datetime]
UTC = dt.UTC
DAY = dt.timedelta(days=1)
SH = zoneinfo.ZoneInfo("Asia/Shanghai")
SPLIT = ((dt.time(9), dt.time(12)), (dt.time(13, 30), dt.time(18)))
OFFICE = WorkCalendar("office", SH, (SPLIT,) * 5 + ((), ()), "china")


# ---- the reference: `WorkCalendar.add` / `open_between` before the interval table ----------
def _ref_intervals_from(
    cal: WorkCalendar, t: dt.datetime, limit_days: int = 3660
) -> Iterator[Span]:
    day = t.astimezone(cal.tz).date()
    for _ in range(limit_days):
        for a, b in cal.day_intervals(day):
            if b > t:
                yield (max(a, t), b)
        day += DAY
    raise CalendarError(
        f"calendar `{cal.name}` has no open time within {limit_days} days after {t.isoformat()}"
    )


def _ref_merged(paused: Sequence[Span], a: dt.datetime, b: dt.datetime | None = None) -> list[Span]:
    out: list[Span] = []
    for p, q in sorted(paused):
        if q <= a or (b is not None and p >= b) or q <= p:
            continue
        if out and p <= out[-1][1]:
            if q > out[-1][1]:
                out[-1] = (out[-1][0], q)
        else:
            out.append((p, q))
    return out


def _ref_add_unpaused(
    start: dt.datetime, amount: dt.timedelta, paused: Sequence[Span]
) -> dt.datetime:
    t, left = start, amount
    for p, q in _ref_merged(paused, start):
        if p > t:
            if p - t >= left:
                return t + left
            left -= p - t
        t = max(t, q)
    return t + left


def _ref_subtract(intervals: Iterator[Span], paused: Sequence[Span]) -> Iterator[Span]:
    cuts = sorted(paused)
    for a, b in intervals:
        pieces = [(a, b)]
        for p, q in cuts:
            if q <= a or p >= b:
                continue
            nxt = []
            for x, y in pieces:
                if q <= x or p >= y:
                    nxt.append((x, y))
                    continue
                if p > x:
                    nxt.append((x, p))
                if q < y:
                    nxt.append((q, y))
            pieces = nxt
        yield from pieces


def ref_add(
    cal: WorkCalendar, start: dt.datetime, amount: dt.timedelta, paused: Sequence[Span] = ()
) -> dt.datetime:
    start = start.astimezone(UTC)
    if cal.is_24x7:
        return _ref_add_unpaused(start, amount, paused)
    left = amount
    for a, b in _ref_subtract(_ref_intervals_from(cal, start), paused):
        if left <= b - a:
            return a + left
        left -= b - a
    raise AssertionError("unreachable")


def ref_open_between(
    cal: WorkCalendar, a: dt.datetime, b: dt.datetime, paused: Sequence[Span] = ()
) -> dt.timedelta:
    a, b = a.astimezone(UTC), b.astimezone(UTC)
    total = dt.timedelta(0)
    if b <= a:
        return total
    if cal.is_24x7:
        return b - a - sum((min(q, b) - max(p, a) for p, q in _ref_merged(paused, a, b)), total)
    for x, y in _ref_subtract(_ref_intervals_from(cal, a), paused):
        if x >= b:
            break
        total += min(y, b) - x
    return total


def _outcome(f: object, *args: object) -> object:
    """The answer, or the error's type and message."""
    assert callable(f)
    try:
        return f(*args)
    except (CalendarError, OverflowError) as exc:
        return (type(exc).__name__, str(exc))


# ---- generated calendars ---------------------------------------------------------------------
ZONES = [
    UTC,
    SH,
    zoneinfo.ZoneInfo("Europe/Berlin"),  # daylight saving at 02:00/03:00
    zoneinfo.ZoneInfo("America/Santiago"),  # daylight saving at midnight
    zoneinfo.ZoneInfo("Australia/Lord_Howe"),  # a half-hour shift
]
_, LAST = china_published_years()
DATES = st.dates(dt.date(LAST - 1, 1, 1), dt.date(LAST + 1, 3, 1))


@st.composite
def day_hours(draw: st.DrawFn) -> tuple[tuple[dt.time, dt.time | None], ...]:
    """0-3 ordered, disjoint opening intervals of one day, to the minute (a few to 24:00)."""
    cuts = sorted(draw(st.sets(st.integers(0, 24 * 60), min_size=0, max_size=6)))
    if len(cuts) % 2:
        cuts = cuts[:-1]
    out: list[tuple[dt.time, dt.time | None]] = []
    for a, b in zip(cuts[::2], cuts[1::2], strict=True):
        end = None if b == 24 * 60 else dt.time(b // 60, b % 60)
        out.append((dt.time(a // 60, a % 60), end))
    return tuple(out)


@st.composite
def calendars(draw: st.DrawFn) -> WorkCalendar:
    tz = draw(st.sampled_from(ZONES))
    kind = draw(st.sampled_from(["office", "24x7", "split-24x7", "generated"]))
    if kind == "24x7":
        weekly: tuple[tuple[tuple[dt.time, dt.time | None], ...], ...] = (
            ((dt.time(0), None),),
        ) * 7
    elif kind == "split-24x7":  # open around the clock, but not recognised as such
        weekly = (((dt.time(0), dt.time(12)), (dt.time(12), None)),) * 7
    elif kind == "office":
        weekly = (SPLIT,) * 5 + ((), ())
    else:
        weekly = tuple(draw(day_hours()) for _ in range(7))
    statutory = draw(st.sampled_from([None, "china"]))
    closed = frozenset(draw(st.lists(DATES, max_size=4)))
    working = frozenset(draw(st.lists(DATES, max_size=4))) - closed
    return WorkCalendar("g", tz, weekly, statutory, closed, working)


INSTANTS = st.datetimes(
    dt.datetime(LAST - 1, 1, 1), dt.datetime(LAST + 1, 2, 1), timezones=st.just(UTC)
)
JITTER = st.sampled_from([0, 0, 0, 1, -1, 10**6, -(10**6), 60 * 10**6]).map(
    lambda us: dt.timedelta(microseconds=us)
)


def _boundaries(cal: WorkCalendar, base: dt.datetime) -> list[dt.datetime]:
    """The openings and closings of the days around `base` (as far as the calendar knows)."""
    out = [base]
    day = base.astimezone(cal.tz).date() - DAY
    for _ in range(9):
        with contextlib.suppress(CalendarError):
            out.extend(t for span in cal.day_intervals(day) for t in span)
        day += DAY
    return out


@st.composite
def asks(draw: st.DrawFn, cal: WorkCalendar) -> tuple[dt.datetime, dt.timedelta, list[Span]]:
    """A start, an amount and pauses, often exactly at (or a tick from) an opening or closing,
    amounts often exactly the open time to one, and pauses often starting there."""
    base = draw(INSTANTS)
    points = _boundaries(cal, base)

    def point() -> dt.datetime:
        return draw(st.sampled_from(points)) + draw(JITTER)

    start, target = point(), point()
    how = draw(st.sampled_from(["to a point", "minutes", "microseconds", "negative"]))
    if how == "to a point":
        try:
            amount = ref_open_between(cal, start, target)
        except CalendarError:
            amount = dt.timedelta(0)
    elif how == "minutes":
        amount = dt.timedelta(minutes=draw(st.integers(0, 120 * 60)))
    elif how == "microseconds":
        amount = dt.timedelta(microseconds=draw(st.integers(0, 10**12)))
    else:
        amount = dt.timedelta(minutes=draw(st.integers(-120, 0)))
    pauses = []
    for _ in range(draw(st.integers(0, 4))):
        p = target if draw(st.booleans()) else point()
        if draw(st.booleans()):
            q = point()
        else:
            q = p + dt.timedelta(minutes=draw(st.integers(0, 5 * 24 * 60)))
        pauses.append((p, q) if q >= p else (q, p))
    return start, amount, pauses


Scenario = tuple[WorkCalendar, int, int, list[tuple[dt.datetime, dt.timedelta, list[Span]]]]


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    """A calendar, the table's chunk and era (small ones make it grow, in both directions, and
    split often), and several questions."""
    cal = draw(calendars())
    chunk = draw(st.sampled_from([1, 2, 5, intervals.CHUNK]))
    era = draw(st.sampled_from([3, 40, intervals.ERA]))
    return cal, chunk, era, draw(st.lists(asks(cal), min_size=1, max_size=6))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_the_table_adds_as_the_walk_did(scenario: Scenario) -> None:
    cal, chunk, era, questions = scenario
    with patch.object(intervals, "CHUNK", chunk), patch.object(intervals, "ERA", era):
        for start, amount, pauses in questions:  # the table grows between them
            for paused in ([], pauses):
                assert _outcome(cal.add, start, amount, paused) == _outcome(
                    ref_add, cal, start, amount, paused
                ), (start, amount, paused)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_the_table_measures_open_time_as_the_walk_did(scenario: Scenario) -> None:
    cal, chunk, era, questions = scenario
    with patch.object(intervals, "CHUNK", chunk), patch.object(intervals, "ERA", era):
        for a, amount, pauses in questions:
            # the end: where the amount is used up (often a closing), or elapsed time
            b = a + abs(amount) * 2 if amount <= dt.timedelta(0) else ref_add_or(cal, a, amount)
            for paused in ([], pauses):
                assert _outcome(cal.open_between, a, b, paused) == _outcome(
                    ref_open_between, cal, a, b, paused
                ), (a, b, paused)
                assert cal.open_between(b, a, paused) == dt.timedelta(0)


def ref_add_or(cal: WorkCalendar, a: dt.datetime, amount: dt.timedelta) -> dt.datetime:
    """The reference due time (an instant where open time ends or goes on), else elapsed."""
    try:
        return ref_add(cal, a, amount)
    except CalendarError:
        return a + amount


# ---- examples --------------------------------------------------------------------------------
def test_the_last_published_day_closes_without_the_next_year() -> None:
    """An answer on 31 December of the last published year is given; one that needs the next
    year is refused with the walk's own message."""
    cal = WorkCalendar("office", SH, (SPLIT,) * 5 + ((), ()), "china")
    dec31 = dt.date(LAST, 12, 31)
    while not cal.is_working_day(dec31):
        dec31 -= DAY
    morning = dt.datetime.combine(dec31, dt.time(9), SH)
    assert cal.add(morning, dt.timedelta(hours=2)) == morning + dt.timedelta(hours=2)
    with pytest.raises(CalendarError, match=f"{LAST + 1}-01-01 is outside the years"):
        cal.add(morning, dt.timedelta(hours=8))
    # the open time up to the close of that day: the walk looks at the next piece, so it too
    # asks about the next year
    with pytest.raises(CalendarError, match=f"{LAST + 1}-01-01 is outside the years"):
        cal.open_between(morning, morning + dt.timedelta(hours=12))
    assert cal.open_between(morning, morning + dt.timedelta(hours=1)) == dt.timedelta(hours=1)


def test_open_time_up_to_inside_the_last_published_interval_needs_the_next_year() -> None:
    """The walk measured open time up to the first piece of open time after the end: an end
    inside the last interval before an unpublished year was refused, and still is."""
    cal = WorkCalendar("office", SH, (SPLIT,) * 5 + ((), ()), "china")
    last = dt.date(LAST, 12, 31)
    while not cal.is_working_day(last):
        last -= DAY
    start = dt.datetime.combine(last, dt.time(10), SH)
    inside = dt.datetime.combine(last, dt.time(17), SH)
    assert cal.open_between(start, dt.datetime.combine(last, dt.time(11), SH)) == dt.timedelta(
        hours=1
    )
    with pytest.raises(CalendarError, match=f"{LAST + 1}-01-01 is outside the years"):
        cal.open_between(start, inside)
    # so does an end inside a pause that lasts to the close of that day; a pause that ends
    # before the close leaves open time on that day to stop at
    end = dt.datetime.combine(last, dt.time(11, 45), SH)
    for until, fails in ((dt.time(18), True), (dt.time(17), False)):
        pause = [
            (dt.datetime.combine(last, dt.time(11, 30), SH), dt.datetime.combine(last, until, SH))
        ]
        got = _outcome(cal.open_between, start, end, pause)
        assert got == _outcome(ref_open_between, cal, start, end, pause)
        assert isinstance(got, tuple) == fails, got


def test_the_first_published_year_begins_the_table() -> None:
    first, _ = china_published_years()
    cal = WorkCalendar("office", SH, (SPLIT,) * 5 + ((), ()), "china")
    monday = dt.date(first, 1, 8)
    while monday.weekday() or not cal.is_working_day(monday):
        monday += DAY
    assert cal.add(dt.datetime.combine(monday, dt.time(9), SH), dt.timedelta(hours=1))
    with pytest.raises(CalendarError, match=f"{first - 1}-12-31 is outside the years"):
        cal.add(dt.datetime(first - 1, 12, 31, 9, tzinfo=SH), dt.timedelta(hours=1))
    with pytest.raises(CalendarError, match=f"{first - 1}-12-31 is outside the years"):
        cal.add(dt.datetime(first - 1, 12, 31, 9, tzinfo=SH), dt.timedelta(hours=1))


def test_a_due_time_at_the_start_of_a_pause_is_that_instant() -> None:
    """Two working hours from 10:00 end at the lunch break, 12:00, where a pause begins: due at
    12:00, not after the pause."""
    start = dt.datetime(2025, 6, 3, 10, tzinfo=SH)
    noon = dt.datetime(2025, 6, 3, 12, tzinfo=SH)
    for pause in ([(noon, noon + dt.timedelta(hours=3))], [(noon, noon)]):
        assert OFFICE.add(start, dt.timedelta(hours=2), pause) == noon
        assert ref_add(OFFICE, start, dt.timedelta(hours=2), pause) == noon
    # a pause from the start of the afternoon: the second hour is spent after it
    afternoon = dt.datetime(2025, 6, 3, 13, 30, tzinfo=SH)
    pause = [(afternoon, afternoon + dt.timedelta(hours=1))]
    assert OFFICE.add(start, dt.timedelta(hours=3), pause) == dt.datetime(
        2025, 6, 3, 15, 30, tzinfo=SH
    )
    # with no time to add, a start inside a pause waits for its end
    assert OFFICE.add(afternoon, dt.timedelta(0), pause) == afternoon + dt.timedelta(hours=1)


def test_no_answer_beyond_3660_days_even_from_a_table_that_reaches_it() -> None:
    """One working date, 3,700 days after the start: the walk gave up after 3,660 days, and so
    does the table, even when an earlier question grew it that far."""
    start = dt.date(2000, 1, 1)
    era = start.toordinal() // intervals.ERA * intervals.ERA
    start = dt.date.fromordinal(era)
    only = start + dt.timedelta(days=3700)
    cal = WorkCalendar("once", UTC, ((),) * 7, working=frozenset({only}))
    later = dt.datetime.combine(start + dt.timedelta(days=1000), dt.time(0), UTC)
    assert cal.add(later, dt.timedelta(hours=1)) == dt.datetime.combine(only, dt.time(1), UTC)
    first = dt.datetime.combine(start, dt.time(0), UTC)
    assert _outcome(cal.add, first, dt.timedelta(hours=1)) == _outcome(
        ref_add, cal, first, dt.timedelta(hours=1)
    )
    assert "no open time within 3660 days" in str(_outcome(cal.add, first, dt.timedelta(0)))


def test_a_start_in_an_unpublished_year_names_that_date() -> None:
    cal = WorkCalendar("office", SH, (SPLIT,) * 5 + ((), ()), "china")
    cal.add(dt.datetime(LAST, 6, 3, 9, tzinfo=SH), dt.timedelta(hours=1))  # a table exists
    with pytest.raises(CalendarError, match=f"{LAST + 1}-06-01 is outside the years"):
        cal.add(dt.datetime(LAST + 1, 6, 1, 9, tzinfo=SH), dt.timedelta(hours=1))
    # and the table still answers inside the published years afterwards
    assert cal.add(dt.datetime(LAST, 6, 3, 9, tzinfo=SH), dt.timedelta(hours=4)) == dt.datetime(
        LAST, 6, 3, 14, 30, tzinfo=SH
    ) or not cal.is_working_day(dt.date(LAST, 6, 3))


def test_starts_decades_apart_each_get_a_table_near_them() -> None:
    cal = WorkCalendar("x", SH, (SPLIT,) * 5 + ((), ()))  # no holidays: any year
    for year in (1990, 2040, 2010, 2090, 1990):
        start = dt.datetime(year, 3, 1, 8, tzinfo=SH)
        assert cal.add(start, dt.timedelta(hours=7)) == ref_add(cal, start, dt.timedelta(hours=7))
    tables = cal._tables.eras.values()
    assert len(tables) == 4 and max(len(t) for t in tables) < 2 * 128 * 2 + 10


def test_a_calendar_that_never_opens_is_refused_as_before() -> None:
    never = WorkCalendar("never", UTC, ((),) * 7)
    start = dt.datetime(2030, 1, 1, tzinfo=UTC)
    assert _outcome(never.add, start, dt.timedelta(hours=1)) == _outcome(
        ref_add, never, start, dt.timedelta(hours=1)
    )
    assert "no open time within 3660 days" in str(_outcome(never.add, start, dt.timedelta(0)))


@pytest.mark.parametrize("chunk", [1, 3, intervals.CHUNK])
def test_hours_out_of_order_are_walked_as_before(chunk: int) -> None:
    """A calendar built by hand with Wednesday's hours out of order: the table declines that
    day, whether it grows forwards or backwards, and the walk answers as it always did."""
    wednesday = ((dt.time(14), dt.time(16)), (dt.time(9), dt.time(10)))
    odd = WorkCalendar("odd", UTC, (SPLIT, SPLIT, wednesday, SPLIT, SPLIT, SPLIT, SPLIT))
    with patch.object(intervals, "CHUNK", chunk):
        for day, minute in itertools.product((11, 10, 3, 8, 9, 20, 1, 17, 16, 14, 15), (0, 90)):
            start = dt.datetime(2030, 1, day, 8, tzinfo=UTC) + dt.timedelta(minutes=minute)
            for minutes in (0, 30, 90, 150, 200, 600, 2000):
                amount = dt.timedelta(minutes=minutes)
                assert odd.add(start, amount) == ref_add(odd, start, amount)
                end = start + amount
                assert odd.open_between(start, end) == ref_open_between(odd, start, end)


def test_a_pause_that_ends_before_it_starts_is_cut_as_before() -> None:
    start = dt.datetime(2025, 6, 3, 9, tzinfo=SH)
    backwards = [(start + dt.timedelta(hours=2), start + dt.timedelta(hours=1))]
    for hours in (1, 3, 10):
        amount = dt.timedelta(hours=hours)
        assert OFFICE.add(start, amount, backwards) == ref_add(OFFICE, start, amount, backwards)


def test_the_exported_rows_are_the_calendars_open_intervals() -> None:
    rows = intervals_table(OFFICE, dt.date(2025, 9, 26), dt.date(2025, 10, 12))
    assert rows == OFFICE.intervals_table(dt.date(2025, 9, 26), dt.date(2025, 10, 12))
    assert all(isinstance(r, IntervalRow) for r in rows)
    days = sorted({r.day for r in rows})
    # Friday, the make-up Sunday 28 Sep, Mon-Tue, the week after Golden Week, make-up Sat 11 Oct
    assert days == [
        dt.date(2025, 9, 26),
        dt.date(2025, 9, 28),
        dt.date(2025, 9, 29),
        dt.date(2025, 9, 30),
        dt.date(2025, 10, 9),
        dt.date(2025, 10, 10),
        dt.date(2025, 10, 11),
    ]
    assert [r.n for r in rows] == list(range(len(rows)))
    assert rows[0].open_before_us == 0 and rows[0].start == dt.datetime(2025, 9, 26, 1, tzinfo=UTC)
    for r, nxt in itertools.pairwise(rows):
        assert nxt.open_before_us == r.open_before_us + to_us(r.end) - to_us(r.start)
        assert nxt.start >= r.end
    # due time = start + (open(t) + amount - open_before) of the first row reaching it
    t, amount = dt.datetime(2025, 9, 26, 17, tzinfo=SH), dt.timedelta(hours=2)
    row = next(r for r in rows if r.end > t)
    target = (
        row.open_before_us
        + max(0, to_us(t) - to_us(row.start))
        + amount // dt.timedelta(microseconds=1)
    )
    hit = next(r for r in rows if r.open_before_us + to_us(r.end) - to_us(r.start) >= target)
    due = hit.start + dt.timedelta(microseconds=target - hit.open_before_us)
    assert due == OFFICE.add(t, amount) == dt.datetime(2025, 9, 28, 10, tzinfo=SH)
    with pytest.raises(CalendarError, match="outside the years"):
        intervals_table(OFFICE, dt.date(LAST, 12, 30), dt.date(LAST + 1, 1, 2))


def test_a_calendar_pickles_without_its_table() -> None:
    cal = WorkCalendar("office", SH, (SPLIT,) * 5 + ((), ()), "china")
    start = dt.datetime(2025, 6, 3, 9, tzinfo=SH)
    due = cal.add(start, dt.timedelta(hours=30))
    assert cal._tables.eras
    copy = pickle.loads(pickle.dumps(cal))
    assert copy == cal and not copy._tables.eras
    assert copy.add(start, dt.timedelta(hours=30)) == due

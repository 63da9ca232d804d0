"""Working-time calendars: when a service centre is open, and arithmetic on open time.

In: weekly opening hours (several intervals a day), an IANA time zone, optionally China's
statutory holidays *and* make-up working days (调休) from the `holidays` package, and explicit
extra closed or working dates.  Out: `WorkCalendar` with
- `add(start, amount, paused)`: the instant at which `amount` of open time has passed since
  `start`, not counting the `paused` spans (a working-time due date);
- `open_between(a, b, paused)`: how much open time lies between two instants;
- `end_of_working_day(start, n)` and `next_working_day_at(start, clock)`: day-based due dates;
- `intervals_table(first, last)`: its open intervals with the open time before each, for a SQL
  engine to load (`csdsl.intervals` describes the columns).
`add` and `open_between` search an interval table (`csdsl.intervals`): the open intervals of the
dates asked about with the cumulative open time before each, built lazily from the calendar's
days; where the table cannot answer (a year beyond the published holidays, say) they walk the
open intervals day by day, which gives the same answers and the same errors.
All arithmetic is done on UTC instants; local wall-clock hours become UTC intervals per day, so
time zones with daylight saving are handled: an office open 09:00-18:00 is open 9 hours on the
day the clocks change, a calendar open around the clock adds elapsed time (a spring-forward day
has 23 hours of it), and an opening or closing time the clocks skip is the moment they jump
(`values.wall_instant`; one they show twice is the first).  A date outside the years the
holiday dataset has published raises `CalendarError`: a due date is never a guess.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterator, Sequence
from typing import Any

import attrs

from csdsl.intervals import IntervalRow, IntervalTables, intervals_table
from csdsl.values import wall_instant

UTC = dt.UTC
Span = tuple[dt.datetime, dt.datetime]  # [start, end) in UTC
DAY = dt.timedelta(days=1)
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class CalendarError(ValueError):
    """A date the calendar cannot decide (beyond the published holiday data)."""


@functools.cache
def _china() -> tuple[Any, int, int, str]:
    """China's holidays, the first and last year whose official notice the dataset encodes."""
    from importlib.metadata import version

    import holidays

    cn = holidays.country_holidays("CN", years=range(1999, 2101))
    # a year is published when its State Council notice is in the data: every notice since
    # 2001 sets make-up working days, and the dataset only invents holidays after the last one
    years = sorted({d.year for d in cn.weekend_workdays})
    last = years[-1]
    first = last
    while first - 1 in years:
        first -= 1
    return cn, first, last, f"holidays {version('holidays')}"


def china_published_years() -> tuple[int, int]:
    _, first, last, _ = _china()
    return first, last


@attrs.frozen
class WorkCalendar:
    name: str
    tz: dt.tzinfo
    # per weekday (Monday first), the local opening intervals as (start, end) times of day;
    # an end of `None` means midnight at the end of the day (24:00)
    weekly: tuple[tuple[tuple[dt.time, dt.time | None], ...], ...]
    statutory: str | None = None  # "china" or None
    closed: frozenset[dt.date] = frozenset()
    working: frozenset[dt.date] = frozenset()
    # each local date's open intervals, computed once: an audit asks for the same few hundred
    # days millions of times
    _days: dict[dt.date, tuple[Span, ...]] = attrs.field(
        factory=dict, init=False, eq=False, repr=False
    )
    # the open intervals with the open time before each, grown as dates are asked about: what
    # `add` and `open_between` search
    _tables: IntervalTables = attrs.field(factory=IntervalTables, init=False, eq=False, repr=False)
    # open around the clock: time arithmetic is plain addition around the pauses
    _always: bool = attrs.field(
        default=attrs.Factory(lambda self: self.is_24x7, takes_self=True),
        init=False,
        eq=False,
        repr=False,
    )

    @classmethod
    def always_open(cls, name: str = "24x7", tz: dt.tzinfo = UTC) -> WorkCalendar:
        return cls(name, tz, tuple(((dt.time(0), None),) for _ in range(7)))

    @property
    def dataset(self) -> str | None:
        return _china()[3] if self.statutory == "china" else None

    @property
    def is_24x7(self) -> bool:
        return (
            all(day == ((dt.time(0), None),) for day in self.weekly)
            and self.statutory is None
            and not self.closed
        )

    def has_open_time(self) -> bool:
        return any(self.weekly) or bool(self.working)

    # ---- days ------------------------------------------------------------------------------
    def _statutory(self, day: dt.date) -> bool | None:
        """True: a make-up working day; False: a statutory holiday; None: an ordinary day."""
        if self.statutory != "china":
            return None
        cn, first, last, version = _china()
        if not first <= day.year <= last:
            raise CalendarError(
                f"{day.isoformat()} is outside the years of China's published holiday notices in "
                f"{version} ({first}-{last}); list the dates with `closed`/`working` or update "
                "the `holidays` package"
            )
        if day in cn.weekend_workdays:
            return True
        if day in cn:
            return False
        return None

    def is_working_day(self, day: dt.date) -> bool:
        if day in self.closed:
            return False
        if day in self.working:
            return True
        statutory = self._statutory(day)
        if statutory is not None:
            return statutory
        return bool(self.weekly[day.weekday()])

    def _hours(self, day: dt.date) -> tuple[tuple[dt.time, dt.time | None], ...]:
        if not self.is_working_day(day):
            return ()
        own = self.weekly[day.weekday()]
        if own:
            return own
        # a make-up or extra working day on a day that is normally closed works the hours of
        # an ordinary working day: the most common schedule among Monday to Friday
        schedules = [h for h in self.weekly[:5] if h] or [h for h in self.weekly if h]
        if not schedules:
            return ((dt.time(0), None),)
        return max(schedules, key=schedules.count)

    def day_intervals(self, day: dt.date) -> tuple[Span, ...]:
        """The open intervals of one local date, as UTC instants."""
        known = self._days.get(day)
        if known is None:
            known = self._days[day] = self._day_intervals(day)
        return known

    def _day_intervals(self, day: dt.date) -> tuple[Span, ...]:
        out = []
        for start, end in self._hours(day):
            a = wall_instant(day, start, self.tz)
            b = (
                wall_instant(day + DAY, dt.time(0), self.tz)
                if end is None
                else wall_instant(day, end, self.tz)
            )
            if b > a:
                out.append((a, b))
        return tuple(out)

    def _local_date(self, t: dt.datetime) -> dt.date:
        return t.astimezone(self.tz).date()

    def intervals_from(self, t: dt.datetime, limit_days: int = 3660) -> Iterator[Span]:
        """Open intervals that end after `t`, in order, clipped to start no earlier than `t`."""
        day = self._local_date(t)  # a day's intervals end by its local midnight
        for _ in range(limit_days):
            for a, b in self.day_intervals(day):
                if b > t:
                    yield (max(a, t), b)
            day += DAY
        raise CalendarError(
            f"calendar `{self.name}` has no open time within {limit_days} days "
            f"after {t.isoformat()}"
        )

    # ---- arithmetic -----------------------------------------------------------------------
    def add(
        self, start: dt.datetime, amount: dt.timedelta, paused: Sequence[Span] = ()
    ) -> dt.datetime:
        """The instant at which `amount` of open, unpaused time has passed since `start`.

        With `amount` zero: `start` itself if it is open time, else the next open instant."""
        start = start.astimezone(UTC)
        if self._always:
            return _add_unpaused(start, amount, paused)
        due = self._tables.add(self, start, amount, paused)
        return self._add_open(start, amount, paused) if due is None else due

    def _add_open(
        self, start: dt.datetime, amount: dt.timedelta, paused: Sequence[Span]
    ) -> dt.datetime:
        """`add` by walking the open intervals day by day: any calendar, any date (where the
        interval table cannot answer)."""
        left = amount
        for a, b in _subtract(self.intervals_from(start), paused):
            if left <= b - a:
                return a + left
            left -= b - a
        raise AssertionError("unreachable: intervals_from never ends")  # pragma: no cover

    def open_between(
        self, a: dt.datetime, b: dt.datetime, paused: Sequence[Span] = ()
    ) -> dt.timedelta:
        a, b = a.astimezone(UTC), b.astimezone(UTC)
        total = dt.timedelta(0)
        if b <= a:
            return total
        if self._always:
            return b - a - sum((min(q, b) - max(p, a) for p, q in _merged(paused, a, b)), total)
        known = self._tables.open_between(self, a, b, paused)
        if known is not None:
            return known
        for x, y in _subtract(self.intervals_from(a), paused):
            if x >= b:
                break
            total += min(y, b) - x
        return total

    def intervals_table(self, first: dt.date, last: dt.date) -> list[IntervalRow]:
        """The open intervals of the local dates `first..last` with the open time before each
        (`csdsl.intervals`); `CalendarError` for a date the calendar cannot decide."""
        return intervals_table(self, first, last)

    def end_of_working_day(self, start: dt.datetime, n: int) -> dt.datetime:
        """The closing time of the n-th working day after the date of `start` (n >= 1)."""
        day = self._local_date(start.astimezone(UTC))
        count = 0
        for _ in range(3660):
            day += DAY
            if self.day_intervals(day):
                count += 1
                if count == n:
                    return self.day_intervals(day)[-1][1]
        raise CalendarError(f"calendar `{self.name}` has no {n} working days after {day}")

    def next_working_day_at(self, start: dt.datetime, clock: dt.time) -> dt.datetime:
        """`clock` (local) on the first working day after the date of `start`."""
        day = self._local_date(start.astimezone(UTC))
        for _ in range(3660):
            day += DAY
            if self.day_intervals(day):
                return wall_instant(day, clock, self.tz)
        raise CalendarError(f"calendar `{self.name}` has no working day after {day}")


def _merged(paused: Sequence[Span], a: dt.datetime, b: dt.datetime | None = None) -> list[Span]:
    """The `paused` spans that end after `a` (and start before `b`), sorted, overlaps merged."""
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


def _add_unpaused(start: dt.datetime, amount: dt.timedelta, paused: Sequence[Span]) -> dt.datetime:
    """`add` on a calendar open around the clock: `amount` after `start`, skipping pauses."""
    t, left = start, amount
    for p, q in _merged(paused, start):
        if p > t:
            if p - t >= left:
                return t + left
            left -= p - t
        t = max(t, q)
    return t + left


def _subtract(intervals: Iterator[Span], paused: Sequence[Span]) -> Iterator[Span]:
    """`intervals` (ordered, disjoint) with the `paused` spans cut out."""
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

"""The interval table of a working calendar: its open intervals with the open time before each.

In: a `WorkCalendar` (anything with `tz` and `day_intervals(date)`: the UTC open intervals of
one local date, holidays, make-up days and closed/working dates already applied).  Out:
- `IntervalTable`: the open intervals of a span of local dates, in order, as integer
  microseconds since 1970-01-01 UTC, with the cumulative open time before each; working-time
  addition and the open time between two instants are binary searches over that column.  The
  span grows lazily (by `CHUNK` dates, backwards or forwards) when an instant outside it is
  asked about.  `IntervalTables` keeps one table per era of `ERA` dates in which a start falls,
  so starts decades apart build no table for the years between them.  Where a table cannot
  answer (a date it cannot compute, such as a year beyond the published holiday notices; an
  answer more than `LIMIT_DAYS` dates on; a pause that ends before it starts; hours out of
  order) it answers `None` and the calendar walks its days instead, which gives the same
  answers and raises the same `CalendarError`s as it always has.
- `intervals_table(calendar, first, last)`: the rows for the local dates `first..last`, for a
  SQL engine to load as a table (`CalendarError` for a date the calendar cannot decide).
  Columns, one row per open interval, in time order:
  - `calendar` (text): the calendar's name;
  - `n` (integer): the row's number, from 0;
  - `day` (date): the local date whose opening hours the interval is (an interval that ends at
    24:00 ends at the next local midnight);
  - `start`, `end` (timestamp, UTC, timezone-aware): the interval `[start, end)`; `end > start`,
    and each row starts no earlier than the previous one ends (rows may touch);
  - `open_before_us` (integer): open time, in microseconds, from the start of the first row to
    the start of this one (0 on the first row; divide by 1,000,000 for seconds).
  The due time of `amount` of open time after an instant `t` inside the span: `c = open(t) +
  amount` where `open(t)` is `open_before_us + clamp(t - start, 0, end - start)` of the last
  row starting before `t`; for an amount above zero the due time is `start + (c -
  open_before_us)` of the first row whose `open_before_us + (end - start)` reaches `c` (an ASOF
  join on each side); for zero it is `t` if a row holds it, else the next row's `start`.
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from typing import NamedTuple, Protocol

Span = tuple[dt.datetime, dt.datetime]  # [start, end) in UTC
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
US = dt.timedelta(microseconds=1)
DAY = dt.timedelta(days=1)
CHUNK = 128  # local dates computed at a time when the span grows
LIMIT_DAYS = 3660  # as `WorkCalendar.intervals_from`: no answer further than this from the start
ERA = 1830  # local dates per table (`IntervalTables`)


class Days(Protocol):
    """What the table reads of a calendar."""

    @property
    def name(self) -> str: ...

    @property
    def tz(self) -> dt.tzinfo: ...

    def day_intervals(self, day: dt.date) -> tuple[Span, ...]: ...


class IntervalRow(NamedTuple):
    """One open interval of `intervals_table` (the module docstring describes the columns)."""

    calendar: str
    n: int
    day: dt.date
    start: dt.datetime
    end: dt.datetime
    open_before_us: int


def to_us(t: dt.datetime) -> int:
    """An aware instant as microseconds since 1970-01-01 UTC."""
    return (t - EPOCH) // US


def from_us(us: int) -> dt.datetime:
    return EPOCH + dt.timedelta(microseconds=us)


def intervals_table(calendar: Days, first: dt.date, last: dt.date) -> list[IntervalRow]:
    """The open intervals of the local dates `first..last` (both included), in order, with the
    open time before each; `CalendarError` for a date the calendar cannot decide."""
    rows: list[IntervalRow] = []
    before, day = 0, first
    while day <= last:
        for a, b in calendar.day_intervals(day):
            rows.append(IntervalRow(calendar.name, len(rows), day, a, b, before))
            before += to_us(b) - to_us(a)
        if day == dt.date.max:
            break
        day += DAY
    return rows


def _compute(calendar: Days, day: int) -> list[tuple[int, int, int]] | None:
    """One local date's intervals as (start, end, day) in microseconds, or None where the
    calendar cannot say (the walk reports why)."""
    try:
        spans = calendar.day_intervals(dt.date.fromordinal(day))
        return [(to_us(a), to_us(b), day) for a, b in spans]
    except (ArithmeticError, ValueError):  # CalendarError (a ValueError), dates out of range
        return None


def _ordered(rows: list[tuple[int, int, int]], after: int | None) -> bool:
    """Whether each row starts no earlier than the previous one (or `after`) ends."""
    for a, b, _ in rows:
        if after is not None and a < after:
            return False
        after = b
    return True


class IntervalTable:
    """The open intervals of the local dates `lo..hi-1` (ordinals) of one calendar.

    Lists, one entry per interval, in time order: `starts`, `ends`, `before` (open time before
    it), `after` (open time to its end), `days` (its local date's ordinal).  `stuck_lo` /
    `stuck_hi`: the span met a date it cannot compute (or hours out of order) on that side and
    grows no further there.  The table keeps no reference to its calendar: every method is
    given it."""

    __slots__ = ("after", "before", "days", "ends", "hi", "lo", "starts", "stuck_hi", "stuck_lo")

    def __init__(self) -> None:
        self.lo = self.hi = 0
        self.starts: list[int] = []
        self.ends: list[int] = []
        self.before: list[int] = []
        self.after: list[int] = []
        self.days: list[int] = []
        self.stuck_lo = self.stuck_hi = False

    def __len__(self) -> int:
        return len(self.starts)

    # ---- the span --------------------------------------------------------------------------
    def _extend(self, rows: list[tuple[int, int, int]]) -> None:
        total = self.after[-1] if self.after else 0
        for a, b, d in rows:
            self.starts.append(a)
            self.ends.append(b)
            self.days.append(d)
            self.before.append(total)
            total += b - a
            self.after.append(total)

    def _grow_forward(self, calendar: Days) -> bool:
        """Add up to `CHUNK` dates after the span; whether it grew."""
        if self.stuck_hi:
            return False
        rows: list[tuple[int, int, int]] = []
        day = self.hi
        while day < self.hi + CHUNK:
            got = _compute(calendar, day)
            if got is None:
                self.stuck_hi = True
                break
            rows.extend(got)
            day += 1
        if not _ordered(rows, self.ends[-1] if self.ends else None):
            self.stuck_hi = True
            return False
        self._extend(rows)
        grew, self.hi = day > self.hi, day
        return grew

    def _grow_backward(self, calendar: Days, to: int) -> bool:
        """Add the dates from `to` (or a chunk earlier) up to the span; whether it holds `to`."""
        if self.stuck_lo:
            return False
        blocks: list[list[tuple[int, int, int]]] = []
        day = self.lo - 1
        low = min(to, self.lo - CHUNK)
        while day >= low:
            got = _compute(calendar, day)
            if got is None:
                self.stuck_lo = True
                break
            blocks.append(got)
            day -= 1
        rows = [row for block in reversed(blocks) for row in block]
        if not _ordered(rows, None) or (rows and self.starts and self.starts[0] < rows[-1][1]):
            self.stuck_lo = True
            return False
        old = list(zip(self.starts, self.ends, self.days, strict=True))
        self.starts, self.ends, self.days, self.before, self.after = [], [], [], [], []
        self._extend(rows)
        self._extend(old)
        self.lo = day + 1
        return self.lo <= to

    def cover(self, calendar: Days, day: int) -> bool:
        """Grow the span to hold the local date `day`; False if it cannot."""
        if self.lo <= day < self.hi:
            return True
        if self.lo == self.hi:  # nothing yet (or nothing that could be computed): start at day
            self.lo = self.hi = day
            self.stuck_lo = self.stuck_hi = False
        if day < self.lo:
            return self._grow_backward(calendar, day)
        while self.hi <= day:
            if not self._grow_forward(calendar):
                return False
        return True

    def _row_after(self, calendar: Days, t: int, limit: int) -> int | None:
        """The first row that ends after `t`, growing forwards up to the date `limit`."""
        k = bisect_right(self.ends, t)
        while k == len(self.ends):
            if self.hi >= limit or not self._grow_forward(calendar):
                return None
            k = bisect_right(self.ends, t, k)
        return k

    def _row_reaching(self, calendar: Days, target: int, limit: int) -> int | None:
        """The first row whose `after` reaches `target`, growing forwards up to `limit`."""
        while not self.after or self.after[-1] < target:
            if self.hi >= limit or not self._grow_forward(calendar):
                return None
        return bisect_left(self.after, target)

    def _open_before(self, k: int, t: int) -> int:
        """Open time from the table's start to `t`, where row `k` is the first ending after t."""
        return self.before[k] + max(0, t - self.starts[k])

    # ---- arithmetic ------------------------------------------------------------------------
    def add(
        self, calendar: Days, first: int, s: int, left: int, paused: Sequence[Span]
    ) -> int | None:
        """`WorkCalendar.add` from the table, in microseconds: `left` of open time after `s`
        (whose local date is `first`); None where the table cannot say."""
        if not self.cover(calendar, first):
            return None
        limit = first + LIMIT_DAYS
        if not paused:
            got = self._add(calendar, s, left, limit)
        else:
            pauses = _pauses(paused, s)
            if pauses is None:
                return None
            got = self._add_paused(calendar, s, left, pauses, limit)
        if got is None or self.days[got[1]] >= limit:
            return None
        return got[0]

    def _add(self, calendar: Days, s: int, left: int, limit: int) -> tuple[int, int] | None:
        """The instant `left` of open time after `s`, and its row."""
        k = self._row_after(calendar, s, limit)
        if k is None:
            return None
        if left <= 0:  # the next open instant (moved back by a negative amount, as the walk)
            return max(self.starts[k], s) + left, k
        target = self._open_before(k, s) + left
        j = self._row_reaching(calendar, target, limit)
        if j is None:
            return None
        return self.starts[j] + (target - self.before[j]), j

    def _free(
        self, calendar: Days, t: int, pauses: list[tuple[int, int]], limit: int
    ) -> tuple[int, int] | None:
        """The first open instant at or after `t` outside the pauses, and its row."""
        for p, q in pauses:
            if q <= t:
                continue
            if p > t:
                k = self._row_after(calendar, t, limit)
                if k is None:
                    return None
                x = max(self.starts[k], t)
                if x < p:
                    return x, k
            t = max(t, q)
        k = self._row_after(calendar, t, limit)
        return None if k is None else (max(self.starts[k], t), k)

    def _add_paused(
        self, calendar: Days, s: int, left: int, pauses: list[tuple[int, int]], limit: int
    ) -> tuple[int, int] | None:
        if left <= 0:
            got = self._free(calendar, s, pauses, limit)
            return None if got is None else (got[0] + left, got[1])
        t = s
        for p, q in pauses:
            if p > t:
                got = self._add(calendar, t, left, limit)
                if got is None:
                    return None
                if got[0] <= p:
                    return got
                # less than `left` is open before the pause: spend it, go on after the pause
                # (the table reaches past p: the answer without the pause lies beyond it)
                k, kp = bisect_right(self.ends, t), bisect_right(self.ends, p)
                left -= self._open_before(kp, p) - self._open_before(k, t)
            t = max(t, q)
        return self._add(calendar, t, left, limit)

    def open_between(
        self, calendar: Days, first: int, x: int, y: int, paused: Sequence[Span]
    ) -> int | None:
        """`WorkCalendar.open_between` from the table, in microseconds, for `x < y` (the
        local date of `x` is `first`); None where the table cannot say.  Like the walk it
        replaces, it needs the calendar up to the first piece of open time from `y` on: a date
        there that cannot be computed is the walk's to report."""
        if not self.cover(calendar, first):
            return None
        limit = first + LIMIT_DAYS
        pauses = _pauses(paused, x) if paused else []
        if pauses is None:
            return None
        # the walk stops at the first piece of open time starting at or after y: no later than
        # the first free instant from the end of the interval that holds y
        kb = self._row_after(calendar, y, limit)
        if kb is None:
            return None
        since = self.ends[kb] if self.starts[kb] < y else y
        witness = self._free(calendar, since, pauses, limit)
        if witness is None or self.days[witness[1]] >= limit:
            return None
        total = self._open(x, y)
        for p, q in pauses:
            if p >= y:
                break
            total -= self._open(max(p, x), min(q, y))
        return total

    def _open(self, x: int, y: int) -> int:
        """Open time between x and y (x <= y, the table holding a row that ends after y)."""
        return self._open_before(bisect_right(self.ends, y), y) - self._open_before(
            bisect_right(self.ends, x), x
        )


class IntervalTables:
    """The tables of one calendar, one per era of `ERA` local dates in which a start falls
    (each grows past its era as needed): a log spanning decades builds no table across the
    years between its dates.  Pickles empty."""

    __slots__ = ("eras",)

    def __init__(self) -> None:
        self.eras: dict[int, IntervalTable] = {}

    def __reduce__(self) -> tuple[type[IntervalTables], tuple[()]]:
        return (IntervalTables, ())

    def table(self, day: int) -> IntervalTable:
        era = day // ERA
        got = self.eras.get(era)
        if got is None:
            got = self.eras[era] = IntervalTable()
        return got

    def add(
        self, calendar: Days, start: dt.datetime, amount: dt.timedelta, paused: Sequence[Span]
    ) -> dt.datetime | None:
        """`WorkCalendar.add` for `start` in UTC; None where the tables cannot say."""
        first = start.astimezone(calendar.tz).toordinal()
        table = self.eras.get(first // ERA) or self.table(first)
        s, left = (start - EPOCH) // US, amount // US
        if not paused and left > 0 and table.lo <= first < table.hi:
            # the common case, inline: the start's row, the row reaching its target
            ends, after = table.ends, table.after
            k = bisect_right(ends, s)
            if k < len(ends):
                target = table.before[k] + max(0, s - table.starts[k]) + left
                if after[-1] >= target:
                    j = bisect_left(after, target, k)
                    if table.days[j] >= first + LIMIT_DAYS:
                        return None
                    return EPOCH + dt.timedelta(
                        microseconds=table.starts[j] + target - table.before[j]
                    )
        got = table.add(calendar, first, s, left, paused)
        return None if got is None else from_us(got)

    def open_between(
        self, calendar: Days, a: dt.datetime, b: dt.datetime, paused: Sequence[Span]
    ) -> dt.timedelta | None:
        """`WorkCalendar.open_between` for `a < b` in UTC; None where the tables cannot say."""
        first = a.astimezone(calendar.tz).toordinal()
        got = self.table(first).open_between(calendar, first, to_us(a), to_us(b), paused)
        return None if got is None else dt.timedelta(microseconds=got)


def _pauses(paused: Sequence[Span], s: int) -> list[tuple[int, int]] | None:
    """The pauses ending after `s`, sorted, overlapping or touching ones merged; None if one
    ends before it starts (the walk cuts such a span its own way)."""
    spans = sorted((to_us(p), to_us(q)) for p, q in paused)
    out: list[tuple[int, int]] = []
    for p, q in spans:
        if q < p:
            return None
        if q <= s or q == p:
            continue
        if out and p <= out[-1][1]:
            if q > out[-1][1]:
                out[-1] = (out[-1][0], q)
        else:
            out.append((p, q))
    return out


__all__ = [
    "CHUNK",
    "ERA",
    "LIMIT_DAYS",
    "IntervalRow",
    "IntervalTable",
    "IntervalTables",
    "intervals_table",
]

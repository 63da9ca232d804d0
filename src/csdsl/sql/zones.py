"""Time zones for SQL: the stretch of time around a date where a zone keeps one UTC offset.

In: a `tzinfo` and a date.  Out: `Zone`: the offset in microseconds and the span of instants
(microseconds since the epoch) where SQL may add it as a constant; an instant outside is sent to
Python, which knows the zone's rules.
"""

from __future__ import annotations

import datetime as dt
import functools

import attrs

US = 1_000_000
DAY_US = 86_400 * US
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)

_PROBE_FROM = dt.datetime(1900, 1, 1, tzinfo=dt.UTC)
_PROBE_DAYS = (dt.datetime(2200, 1, 1, tzinfo=dt.UTC) - _PROBE_FROM).days


@attrs.frozen
class Zone:
    offset_us: int  # the zone's offset from UTC in [lo_us, hi_us)
    lo_us: int
    hi_us: int
    suffix: str  # the offset as isoformat writes it: `+08:00`


@functools.lru_cache(maxsize=16)
def zone_span(tz: dt.tzinfo, anchor: dt.date) -> Zone:
    """The longest stretch around `anchor` (within 1900-2200) where `tz` has one offset, less a
    day at each end (so no wall time in it is ambiguous).  Probed day by day."""
    day = dt.timedelta(days=1)

    def offset(i: int) -> dt.timedelta | None:
        return (_PROBE_FROM + i * day).astimezone(tz).utcoffset()

    a = min(
        max((dt.datetime.combine(anchor, dt.time(), dt.UTC) - _PROBE_FROM).days, 0), _PROBE_DAYS
    )
    here = offset(a)
    assert here is not None
    lo = a
    while lo > 0 and offset(lo - 1) == here:
        lo -= 1
    hi = a
    while hi < _PROBE_DAYS and offset(hi + 1) == here:
        hi += 1
    off_us = here // dt.timedelta(microseconds=1)
    start = (lo + 1) * DAY_US + (_PROBE_FROM - _EPOCH) // dt.timedelta(microseconds=1)
    end = (hi - 1) * DAY_US + (_PROBE_FROM - _EPOCH) // dt.timedelta(microseconds=1)
    sample = dt.datetime(2000, 1, 1, tzinfo=dt.timezone(here)).isoformat()
    return Zone(off_us, start, max(start, end), sample[19:])

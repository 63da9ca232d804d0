"""Parsing and printing of the value forms shared by policy text and data files.

In: text such as `2h30m`, `PT4H`, `2024-10-29T09:00:00+08:00`.  Out: `timedelta`, `datetime`,
`date`, or a `ValueError` whose message says what is wrong.  Used by the parser (literals) and by
record loading, so that `4h` means the same thing in a policy and in a CSV cell.
"""

from __future__ import annotations

import datetime as dt
import functools
import re

MAX_SECONDS = 999_999_999 * 86400  # timedelta's own limit
_UNIT_SECONDS = {"d": 86400, "h": 3600, "m": 60, "s": 1}
_COMPACT = re.compile(r"(\d+)([dhms])")
_COMPACT_FULL = re.compile(r"(?:\d+[dhms])+")
_ISO = re.compile(
    r"P(?:(?P<y>\d+(?:\.\d+)?)Y)?(?:(?P<mo>\d+(?:\.\d+)?)M)?(?:(?P<w>\d+(?:\.\d+)?)W)?"
    r"(?:(?P<d>\d+(?:\.\d+)?)D)?"
    r"(?:T(?:(?P<h>\d+(?:\.\d+)?)H)?(?:(?P<mi>\d+(?:\.\d+)?)M)?(?:(?P<s>\d+(?:\.\d+)?)S)?)?"
)


def compact_duration_seconds(text: str) -> int:
    """`2h30m` -> 9000.  Units: d (24 h), h, m (minutes), s."""
    if not _COMPACT_FULL.fullmatch(text):
        raise ValueError(f"`{text}` is not a duration such as `4h`, `2h30m` or `90s`")
    return sum(int(n) * _UNIT_SECONDS[u] for n, u in _COMPACT.findall(text))


def parse_duration(text: str) -> dt.timedelta:
    """A duration in ISO 8601 (`PT4H`, `P1DT2H`), compact (`4h`, `2h30m`) or seconds (`90`)."""
    s = text.strip()
    if not s:
        raise ValueError("empty duration")
    if s[0] == "-" and s[1:2] not in ("", "-", "+") and not s[1:2].isspace():
        return -parse_duration(s[1:])  # `-PT5M`, `-4h`, `-300`: a negative duration
    try:
        if _COMPACT_FULL.fullmatch(s):
            return dt.timedelta(seconds=compact_duration_seconds(s))
        seconds = float(s)
    except OverflowError:
        raise ValueError(f"`{text}` is too long a duration") from None
    except ValueError:
        pass
    else:
        return _seconds(seconds, text)
    m = _ISO.fullmatch(s.upper())
    if m is None or s.upper() in ("P", "PT") or s.upper().endswith("T"):
        raise ValueError(
            f"`{text}` is not a duration (use ISO 8601 `PT4H`, `4h`, `2h30m` "
            "or a number of seconds)"
        )
    if m.group("y") or m.group("mo"):
        raise ValueError(f"`{text}` uses years or months, which are not a fixed length of time")
    parts = {k: float(v) for k, v in m.groupdict().items() if v is not None}
    try:
        return dt.timedelta(
            weeks=parts.get("w", 0),
            days=parts.get("d", 0),
            hours=parts.get("h", 0),
            minutes=parts.get("mi", 0),
            seconds=parts.get("s", 0),
        )
    except OverflowError:
        raise ValueError(f"`{text}` is too long a duration") from None


def _seconds(seconds: float, text: str) -> dt.timedelta:
    try:
        return dt.timedelta(seconds=seconds)
    except (OverflowError, ValueError):
        raise ValueError(f"`{text}` is not a duration of a representable length") from None


def format_duration(value: dt.timedelta) -> str:
    """ISO 8601, as IO.md asks for output: `PT2H30M`, `-PT5M`, `PT0S`."""
    total = value.total_seconds()
    sign = "-" if total < 0 else ""
    total = abs(total)
    hours, rest = divmod(total, 3600)
    minutes, seconds = divmod(rest, 60)
    out = "PT"
    if hours:
        out += f"{int(hours)}H"
    if minutes:
        out += f"{int(minutes)}M"
    if seconds or out == "PT":
        # fixed point to the microsecond: `:g` wrote `PT1e-06S` (not ISO 8601) and cut
        # `59.123456` to `59.1235`
        exact = f"{seconds:.6f}".rstrip("0").rstrip(".")
        out += f"{exact}S" if seconds != int(seconds) else f"{int(seconds)}S"
    return sign + out


def canonical_compact(seconds: int) -> str:
    """9000 -> `2h30m`; hours are not folded into days (48h stays `48h`)."""
    if seconds == 0:
        return "0s"
    out = ""
    for unit, size in (("h", 3600), ("m", 60), ("s", 1)):
        n, seconds = divmod(seconds, size)
        if n:
            out += f"{n}{unit}"
    return out


_DATETIME_CHARS = re.compile(r"[0-9T:+\-.,Z tz]+")  # what ISO 8601 spells a datetime with


def parse_datetime(text: str) -> dt.datetime:
    """ISO 8601 date and time, with or without an offset (`Z` allowed).  A bare date is refused,
    and so is a datetime within a day of the ends of the calendar (`in_range`)."""
    s = text.strip()
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", s):
        raise ValueError(f"`{text}` is a date without a time; a datetime needs a time of day")
    if _DATETIME_CHARS.fullmatch(s) is None or s != text.strip(" \t\r\n"):
        # fromisoformat lets a NUL, a control character or an ideographic space slip through
        raise ValueError(f"`{text}` is not an ISO 8601 datetime (e.g. `2024-10-29T09:00:00+08:00`)")
    try:
        moment = dt.datetime.fromisoformat(s)
    except ValueError:
        raise ValueError(
            f"`{text}` is not an ISO 8601 datetime (e.g. `2024-10-29T09:00:00+08:00`)"
        ) from None
    if moment.year in (1, 9999) and not in_range(moment):
        raise ValueError(_out_of_range(text))
    return moment


# ---- instants --------------------------------------------------------------------------------
#
# Every datetime csdsl holds is an instant: timezone-aware, with a *fixed* UTC offset
# (`datetime.timezone`), never a zone with rules such as `ZoneInfo("America/New_York")`.
# Python subtracts and compares two datetimes that share one tzinfo object on their wall
# clocks, which across a daylight-saving change is not the time that passed; with fixed
# offsets, arithmetic and comparison are on instants everywhere.  A naive datetime is read on
# the wall clock of the policy's zone (`instant`): one that clocks skip (spring forward) is
# refused; one they show twice (fall back) is the first of the two (PEP 495 `fold=0`).

FIRST = dt.datetime(1, 1, 2)  # the earliest datetime csdsl reads (UTC, or the wall clock)
LAST = dt.datetime(9999, 12, 30, 23, 59, 59, 999999)  # the latest


def _out_of_range(text: str) -> str:
    return (
        f"`{text}` is too close to the ends of the calendar (csdsl reads datetimes from "
        "0001-01-02 to 9999-12-30, so that every time zone can show them)"
    )


def in_range(moment: dt.datetime) -> bool:
    """Whether `moment` lies in FIRST..LAST: its UTC instant if aware, its wall clock if naive.
    (UTC offsets are less than a day, so such an instant has a wall clock in every zone.)"""
    if moment.tzinfo is None or moment.utcoffset() is None:
        return FIRST <= moment.replace(tzinfo=None) <= LAST
    try:
        utc = moment.astimezone(dt.UTC).replace(tzinfo=None)
    except OverflowError:
        return False
    return FIRST <= utc <= LAST


@functools.lru_cache(maxsize=256)
def fixed_offset(offset: dt.timedelta) -> dt.tzinfo:
    """The fixed-offset tzinfo of `offset` (UTC for zero), one object per offset."""
    return dt.UTC if not offset else dt.timezone(offset)


def _zone_name(tz: dt.tzinfo) -> str:
    return str(getattr(tz, "key", None) or tz)


def _spelled(moment: dt.datetime) -> str:
    """`2024-03-10T02:30`: seconds only when there are any."""
    if not moment.second and not moment.microsecond:
        return moment.isoformat(timespec="minutes")
    return moment.isoformat()


_HOURS: dict[tuple[dt.tzinfo, int, int, int, int], dt.tzinfo | None] = {}


def _hour_offset(moment: dt.datetime, tz: dt.tzinfo) -> dt.tzinfo | None:
    """The fixed offset of `tz` for the whole wall-clock hour of naive `moment`, or None if
    the offset changes in that hour (a data file's times crowd into few hours: asked once)."""
    key = (tz, moment.year, moment.month, moment.day, moment.hour)
    try:
        return _HOURS[key]
    except KeyError:
        pass
    start = moment.replace(minute=0, second=0, microsecond=0, tzinfo=tz, fold=0)
    end = start.replace(minute=59, second=59, microsecond=999999)
    offsets = {
        start.utcoffset(),
        start.replace(fold=1).utcoffset(),
        end.utcoffset(),
        end.replace(fold=1).utcoffset(),
    }
    only = next(iter(offsets))
    fixed = fixed_offset(only) if len(offsets) == 1 and only is not None else None
    if len(_HOURS) >= 1 << 16:
        _HOURS.clear()
    _HOURS[key] = fixed
    return fixed


def instant(moment: dt.datetime, tz: dt.tzinfo) -> dt.datetime:
    """`moment` as an instant with a fixed offset; a naive one read on the wall clock of `tz`.

    Raises `ValueError` for a naive time that does not exist in `tz` (the clocks jumped over
    it) and for one outside `in_range`.  A wall time that occurs twice (the clocks went back)
    is the first of the two, unless `moment.fold` is 1 (PEP 495)."""
    edge = moment.year in (1, 9999)  # only there can an instant leave the range
    if moment.tzinfo is None:
        if not edge:
            known = _hour_offset(moment, tz)
            if known is not None:
                return moment.replace(tzinfo=known, fold=0)
        elif not in_range(moment):
            raise ValueError(_out_of_range(_spelled(moment)))
        local = moment.replace(tzinfo=tz)
        before = local.replace(fold=0).utcoffset()
        after = local.replace(fold=1).utcoffset()
        if before is None or after is None:
            raise ValueError(f"the time zone `{_zone_name(tz)}` gives no UTC offset")
        if before < after:
            raise ValueError(
                f"{_spelled(moment)} does not exist in {_zone_name(tz)} (clocks jumped forward); "
                "write it with its UTC offset"
            )
        offset = after if moment.fold else before
    else:
        own = moment.utcoffset()
        if own is None:  # an aware datetime whose tzinfo knows no offset: read as naive
            return instant(moment.replace(tzinfo=None), tz)
        offset = own
        if type(moment.tzinfo) is dt.timezone and not edge:
            return moment
    fixed = moment.replace(tzinfo=fixed_offset(offset), fold=0)
    if edge and not in_range(fixed):
        raise ValueError(_out_of_range(_spelled(moment)))
    return fixed


def wall_instant(day: dt.date, clock: dt.time, tz: dt.tzinfo) -> dt.datetime:
    """The instant (UTC) at which the wall clock of `tz` shows `clock` on `day`: for a time the
    clocks skip (spring forward), the moment they jump; for one they show twice (fall back),
    the first.  Working calendars open and close at such instants."""
    local = dt.datetime.combine(day, clock, tz)
    before = local.replace(fold=0).utcoffset()
    after = local.replace(fold=1).utcoffset()
    if before is None or after is None or before >= after:
        return local.replace(fold=0).astimezone(dt.UTC)
    # in a gap: the jump lies between the two readings; find it to the microsecond
    naive = local.replace(tzinfo=None)
    lo = (naive - after).replace(tzinfo=dt.UTC)  # still before the jump
    hi = (naive - before).replace(tzinfo=dt.UTC)  # already after it
    step = dt.timedelta(microseconds=1)
    while hi - lo > step:
        mid = lo + (hi - lo) // 2
        if mid.astimezone(tz).utcoffset() == before:
            lo = mid
        else:
            hi = mid
    return hi


def parse_date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"`{text}` is not an ISO 8601 date (e.g. `2024-10-29`)") from None

"""Parsing and printing of the value forms shared by policy text and data files.

In: text such as `2h30m`, `PT4H`, `2024-10-29T09:00:00+08:00`.  Out: `timedelta`, `datetime`,
`date`, or a `ValueError` whose message says what is wrong.  Used by the parser (literals) and by
record loading, so that `4h` means the same thing in a policy and in a CSV cell.
"""

from __future__ import annotations

import datetime as dt
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
        out += f"{seconds:g}S" if seconds != int(seconds) else f"{int(seconds)}S"
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


def parse_datetime(text: str) -> dt.datetime:
    """ISO 8601 date and time, with or without an offset (`Z` allowed).  A bare date is refused."""
    s = text.strip()
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", s):
        raise ValueError(f"`{text}` is a date without a time; a datetime needs a time of day")
    try:
        return dt.datetime.fromisoformat(s)
    except ValueError:
        raise ValueError(
            f"`{text}` is not an ISO 8601 datetime (e.g. `2024-10-29T09:00:00+08:00`)"
        ) from None


def parse_date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"`{text}` is not an ISO 8601 date (e.g. `2024-10-29`)") from None

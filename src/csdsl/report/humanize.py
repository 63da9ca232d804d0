"""Durations, times and evidence as a person reads them (report.html and report.md).

In: the JSON values of report.json (ISO 8601 durations `PT988H15M3S`, datetimes with their
offset `2024-10-29T16:12:18+08:00`, evidence objects).  Out: short text.  report.json itself
keeps ISO 8601; only what a person reads goes through here.

- `duration`: the two largest units that are not zero, adjacent, truncated (`41 d 4 h`,
  `2 h 35 min`, `17 min 40 s`, `45 s`); a negative duration has a leading minus.
- `moment`: a datetime's wall time in the offset it was written with (the policy's time zone:
  the audit writes every time in it), to the minute (`2024-10-29 16:12`); `moment_pair` drops
  the second one's date when it is the first one's (`2024-10-29 16:12`, `13:37`).
- `clock`: a clock finding's evidence (`due`, `at`, `late_by`) as one sentence
  (`replied 2024-10-29 16:12, due 13:37: 2 h 35 min late`).
- `finding_text`: a clock finding's sentence and its message, the message's `at line N` (a
  line of the event log) written `<event log>:N`.
- `evidence`: any other evidence as `(label, value)` pairs: field names with spaces, times and
  durations as above, booleans `yes`/`no`, null `—`.
Text that is not a duration or a datetime is returned as given: never an invented value.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Mapping
from typing import Any

from csdsl.values import parse_duration

__all__ = ["cite_event_log", "clock", "duration", "evidence", "finding_text", "moment"]

_UNITS = (("d", 86400), ("h", 3600), ("min", 60), ("s", 1))
_ISO_DURATION = re.compile(r"-?P(?=\d|T\d)[0-9WDTHMS.]*", re.IGNORECASE)
_ISO_MOMENT = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:?\d\d)?")
_EVENT = re.compile(r"^`([^`]+)`")
_FIELD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_AT_LINE = re.compile(r"\bat line (\d+)")
DASH = "—"


def duration(value: Any) -> str | None:
    """`value` (a `timedelta` or an ISO 8601 duration) in human units; None if it is neither."""
    if isinstance(value, dt.timedelta):
        delta = value
    elif isinstance(value, str) and _ISO_DURATION.fullmatch(value.strip()):
        try:
            delta = parse_duration(value)
        except ValueError:
            return None
    else:
        return None
    total = int(delta.total_seconds())  # whole seconds, towards zero
    sign, total = ("-" if total < 0 else ""), abs(total)
    if total == 0:
        return "0 s"
    for i, (unit, size) in enumerate(_UNITS):
        if total >= size:
            first, rest = divmod(total, size)
            out = f"{first} {unit}"
            if i + 1 < len(_UNITS):
                unit2, size2 = _UNITS[i + 1]
                second = rest // size2
                if second:
                    out += f" {second} {unit2}"
            return sign + out
    raise AssertionError("unreachable: total >= 1 second")


def parse_moment(value: Any) -> dt.datetime | None:
    """An ISO 8601 datetime string as a `datetime` (naive when written without an offset)."""
    if not isinstance(value, str) or not _ISO_MOMENT.fullmatch(value.strip()):
        return None
    try:
        return dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None


def moment(value: Any) -> str | None:
    """An ISO 8601 datetime as `YYYY-MM-DD HH:MM` in its own offset; None if it is not one."""
    m = parse_moment(value)
    return None if m is None else m.strftime("%Y-%m-%d %H:%M")


def moment_pair(first: Any, second: Any) -> tuple[str | None, str | None]:
    """Both moments; the second without its date when it falls on the first one's date."""
    a, b = parse_moment(first), parse_moment(second)
    a_text = None if a is None else a.strftime("%Y-%m-%d %H:%M")
    if b is None:
        return a_text, None
    if a is not None and a.date() == b.date() and a.utcoffset() == b.utcoffset():
        return a_text, b.strftime("%H:%M")
    return a_text, b.strftime("%Y-%m-%d %H:%M")


def clock(ev: Mapping[str, Any], message: str = "") -> str | None:
    """A deadline, update or escalation finding (evidence with `due`) as one sentence: what
    happened and when, the due time, how late.  `message` names the event (`\\`replied\\` at
    line 16`).  None when the evidence has no due time."""
    if "due" not in ev:
        return None
    due, at, late = ev.get("due"), ev.get("at"), duration(ev.get("late_by"))
    m = _EVENT.match(message)
    what = m.group(1) if m else ("escalated" if ev.get("kind") == "escalation" else "done")
    if at is not None:
        at_text, due_text = moment_pair(at, due)
        out = f"{what} {at_text or at}, due {due_text or due or DASH}"
        return out + (f": {late} late" if late else "")
    due_text = moment(due) or (DASH if due is None else str(due))
    out = f"not done, due {due_text}"
    return out + (f": {late} overdue when judged" if late else "")


def value(v: Any) -> str:
    """One evidence value for a person: a time, a duration, yes/no, a number, the text."""
    if v is None:
        return DASH
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, str):
        return moment(v) or duration(v) or v
    if isinstance(v, float) and v == int(v) and abs(v) < 1e15:
        return str(int(v))
    if isinstance(v, int | float):
        return str(v)
    return json.dumps(v, ensure_ascii=False, default=str)


def label(key: str) -> str:
    """An evidence key for a person: a field name with spaces (`ignition requested at`); an
    expression (`first(transfer_approved)`) as written, so it still reads as the policy's."""
    return key.replace("_", " ") if _FIELD.fullmatch(key) else key


def evidence(ev: Any) -> list[tuple[str, str]]:
    """Evidence as `(label, value)` pairs for a person (a label `""` for evidence that is no
    object)."""
    if isinstance(ev, Mapping):
        return [(label(str(k)), value(v)) for k, v in ev.items()]
    if ev is None:
        return []
    return [("", value(ev))]


def cite_event_log(message: str, events_input: str | None) -> str:
    """`at line 142` in a clock finding's message is a line of the event log: say which file
    (`at complaint_events.jsonl:142`), so it is not read as the record's line."""
    if not events_input:
        return message
    return _AT_LINE.sub(lambda m: f"at {events_input}:{m.group(1)}", message)


def finding_text(f: Mapping[str, Any], events_input: str | None) -> tuple[str, str]:
    """A finding's (clock sentence or "", message) for a person: a deadline's or an
    escalation's message cites the event log's file."""
    kind, message = f.get("kind"), str(f.get("message") or "")
    if kind not in ("deadline", "escalation"):
        return "", message
    ev = f.get("evidence")
    when = clock(ev, message) if isinstance(ev, Mapping) else None
    return when or "", cite_event_log(message, events_input)

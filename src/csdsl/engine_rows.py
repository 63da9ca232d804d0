"""What the SQL engines (DuckDB, Spark) give back per row, and share with the interpreter's
callers: `DuckVerdict` (a row's verdict or error), the canonical evidence JSON of record values
(`json_of`, `evidence_of`), who handled a row (`people_of`: its `agent` and `team` fields), and
record windows (`Window`, `in_window`).

In: record values, the interpreter's `Verdict`s.  Out: JSON-ready values, row verdicts.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from typing import Any, TypeAlias

import attrs

from csdsl import values
from csdsl.interpreter import Verdict
from csdsl.records import RowError
from csdsl.values import format_duration

Window: TypeAlias = tuple[str, dt.datetime | None, dt.datetime | None]

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def json_of(value: Any, tz: dt.tzinfo) -> Any:
    """A record value as evidence JSON: datetimes ISO 8601 with the offset of `tz`, dates ISO,
    durations ISO 8601 (`PT2H30M`), missing as null, the rest as is."""
    if isinstance(value, dt.datetime):
        return value.astimezone(tz).isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return format_duration(value)
    return value


def evidence_of(verdict: Verdict, tz: dt.tzinfo) -> dict[str, dict[str, Any]]:
    """For each matched condition, the values it read (`ConditionResult.values` order)."""
    return {
        c.id: {name: json_of(v, tz) for name, v in c.values}
        for c in verdict.conditions
        if c.outcome is True
    }


def instant_us(moment: dt.datetime, tz: dt.tzinfo) -> int:
    aware = moment if moment.tzinfo is not None else values.instant(moment, tz)
    return (aware - _EPOCH) // dt.timedelta(microseconds=1)


def first_day(moment: dt.datetime, tz: dt.tzinfo) -> dt.date:
    """The first date whose midnight is not before `moment` (in `tz`)."""
    local = moment.astimezone(tz) if moment.tzinfo is not None else moment
    day = local.date()
    return day if local.time() == dt.time(0) else day + dt.timedelta(days=1)


def in_window(values: Mapping[str, Any], window: Window | None, tz: dt.tzinfo = dt.UTC) -> bool:
    """Whether a record's values fall in `window` = (field, start inclusive, end exclusive).

    A datetime field is compared as an instant (naive bounds are read in `tz`, pass the policy's
    `Policy.tz`); a date field as its midnight in `tz`.  A missing field is outside.  Without a
    window every record is inside."""
    if window is None:
        return True
    name, start, end = window
    v = values.get(name)
    if v is None:
        return False
    if isinstance(v, dt.datetime):
        at = instant_us(v, tz)
        return (start is None or at >= instant_us(start, tz)) and (
            end is None or at < instant_us(end, tz)
        )
    if isinstance(v, dt.date):
        return (start is None or v >= first_day(start, tz)) and (
            end is None or v < first_day(end, tz)
        )
    raise ValueError(f"the window's field `{name}` is not a date or datetime")


@attrs.frozen
class DuckVerdict:
    """One row: its verdict, or its error (then `valid` is None).  `evidence` is parsed from
    `evidence_json` when asked for: bulk runs that only count never pay for it."""

    line: int
    id: Any
    valid: bool | None
    matched: tuple[str, ...]
    evidence_json: str | None = attrs.field(default=None, repr=False)
    error: RowError | None = None
    unknown: bool = False  # as `Verdict.unknown`: invalid only for want of data
    # a valid row's `people` fields (`validate_file(people=...)`) as a JSON object
    people_json: str | None = attrs.field(default=None, repr=False)

    @property
    def evidence(self) -> dict[str, dict[str, Any]]:
        """{matched condition id: {field: JSON value}}, fields in the condition's order."""
        if self.evidence_json is None:
            return {}
        parsed: dict[str, dict[str, Any]] = json.loads(self.evidence_json)
        return parsed

    @property
    def people(self) -> dict[str, Any]:
        """{field: JSON value} of the fields asked for as `people` (a valid row only)."""
        if self.people_json is None:
            return {}
        parsed: dict[str, Any] = json.loads(self.people_json)
        return parsed


def people_of(values: Mapping[str, Any], people: Sequence[str], tz: dt.tzinfo) -> str | None:
    """The `people` fields of a row's values (who handled it: `agent`, `team`) as JSON."""
    if not people:
        return None
    return json.dumps({n: json_of(values.get(n), tz) for n in people}, ensure_ascii=False)

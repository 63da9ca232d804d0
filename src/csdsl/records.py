"""Reading records from files and checking them against a record type.

In: a path (`.jsonl`, `.json`, `.csv`, or `-` for JSONL on standard input) and an `ir.Record`.
Out: a stream of `Row`s, each either the record's values (coerced to Python: `datetime` with a
time zone, `timedelta`, ...) or a `RowError` with its code, message and field.  A bad row never
stops the others; a file that cannot be read at all raises `InputError`.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
import sys
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import attrs

from csdsl import ir, values
from csdsl.diagnostics import did_you_mean

Kind = ir.Kind


class InputError(Exception):
    """A data file that cannot be read at all (missing, not UTF-8, unknown type)."""


@attrs.frozen
class RowError(Exception):
    code: str
    message: str
    field: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "field": self.field}


@attrs.frozen
class Row:
    line: int
    id: Any
    values: dict[str, Any] | None
    error: RowError | None = None
    version: int = 0  # which version of the policy judges it (an audit over several versions)


_TRUE = {"true", "t", "yes", "y", "1", "是", "对"}
_FALSE = {"false", "f", "no", "n", "0", "否", "错"}

Coercer = Callable[[Any, bool], Any]
_TEMPORAL = (Kind.DATE, Kind.DATETIME, Kind.DURATION)


def _bool(v: Any, text: bool) -> bool:
    if isinstance(v, bool):
        return v
    if text and isinstance(v, str):
        s = v.strip().lower()
        if s in _TRUE:
            return True
        if s in _FALSE:
            return False
    raise ValueError(f"expected true or false, got {_show_raw(v)}")


def _int(v: Any, text: bool) -> int:
    if isinstance(v, bool):
        raise ValueError(f"expected a whole number, got {_show_raw(v)}")
    if isinstance(v, int):
        return v
    if isinstance(v, float) and v.is_integer():
        return int(v)
    if text and isinstance(v, str):
        try:
            f = float(v.strip())
        except ValueError:
            pass
        else:
            if f.is_integer():
                return int(f)
    raise ValueError(f"expected a whole number, got {_show_raw(v)}")


def _number(v: Any, text: bool) -> float | int:
    if isinstance(v, bool):
        raise ValueError(f"expected a number, got {_show_raw(v)}")
    if isinstance(v, int | float):
        if isinstance(v, float) and not math.isfinite(v):
            raise ValueError(f"expected a finite number, got {v}")
        return v
    if text and isinstance(v, str):
        try:
            f = float(v.strip())
        except ValueError:
            pass
        else:
            if math.isfinite(f):
                return f
    raise ValueError(f"expected a number, got {_show_raw(v)}")


def _text(v: Any, text: bool) -> str:
    if isinstance(v, str):
        return v
    raise ValueError(f"expected text, got {_show_raw(v)}")


def _date(v: Any, text: bool) -> dt.date:
    if isinstance(v, dt.date) and not isinstance(v, dt.datetime):
        return v
    if isinstance(v, str):
        return values.parse_date(v)
    raise ValueError(f"expected a date such as 2024-10-29, got {_show_raw(v)}")


def _duration(v: Any, text: bool) -> dt.timedelta:
    if isinstance(v, dt.timedelta):
        return v
    if isinstance(v, int | float) and not isinstance(v, bool):
        if not math.isfinite(v):
            raise ValueError(f"expected a finite number of seconds, got {v}")
        return values._seconds(v, str(v))
    if isinstance(v, str):
        return values.parse_duration(v)
    raise ValueError(
        f"expected a duration such as PT4H, 4h or a number of seconds, got {_show_raw(v)}"
    )


def _show_raw(v: Any) -> str:
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, list | dict):
        return "a JSON " + ("array" if isinstance(v, list) else "object")
    return str(v)


def _json_problem(exc: json.JSONDecodeError, lines: bool = False) -> str:
    """`Expecting value at column 5`, `Unterminated string starting at line 3, column 7`."""
    where = f"line {exc.lineno}, column {exc.colno}" if lines else f"column {exc.colno}"
    return f"{exc.msg} {where}" if exc.msg.endswith(" at") else f"{exc.msg} at {where}"


def _unreadable_rest(line: int, problem: str) -> Row:
    """The row at which a JSON array stops being readable (no way to find the next record)."""
    return Row(
        line, None, None, RowError("R001", f"{problem}; the rest of the file cannot be read")
    )


def show_value(v: Any) -> str:
    """A value as a person reads it in output: ISO datetimes, ISO durations, `missing`."""
    if v is None:
        return "missing"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, dt.timedelta):
        return values.format_duration(v)
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    return str(v)


def json_value(v: Any) -> Any:
    """A value in JSON output (IO.md): datetimes ISO 8601 with offset, durations ISO 8601."""
    if isinstance(v, dt.timedelta):
        return values.format_duration(v)
    if isinstance(v, dt.date):
        return v.isoformat()
    return v


@attrs.define
class RecordReader:
    """Coerces raw objects (from JSON, CSV or Python) into a record type's values."""

    record: ir.Record
    tz: dt.tzinfo
    _plan: list[tuple[str, Coercer, bool, ir.Type]] = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        self._plan = [
            (f.name, self._coercer(f.type), f.optional, f.type) for f in self.record.fields
        ]

    def _coercer(self, t: ir.Type) -> Coercer:
        if t.kind is Kind.ENUM:
            allowed = t.values

            def enum(v: Any, text: bool) -> str:
                if isinstance(v, str):
                    s = v.strip() if text else v
                    if s in allowed:
                        return s
                    hint = did_you_mean(s, allowed)
                    raise ValueError(
                        f"{_show_raw(v)} is not one of "
                        + ", ".join(allowed)
                        + (f"; {hint}" if hint else "")
                    )
                raise ValueError(f"expected one of {', '.join(allowed)}, got {_show_raw(v)}")

            return enum
        if t.kind is Kind.DATETIME:
            tz = self.tz

            def datetime(v: Any, text: bool) -> dt.datetime:
                if isinstance(v, dt.datetime):
                    d = v
                elif isinstance(v, str):
                    d = values.parse_datetime(v)
                else:
                    raise ValueError(f"expected an ISO 8601 datetime, got {_show_raw(v)}")
                return values.instant(d, tz)  # an instant: naive is read on the zone's clock

            return datetime
        return {
            Kind.BOOL: _bool,
            Kind.INT: _int,
            Kind.NUMBER: _number,
            Kind.TEXT: _text,
            Kind.DATE: _date,
            Kind.DURATION: _duration,
        }[t.kind]

    def coerce(self, obj: Any, text: bool = False) -> tuple[Any, dict[str, Any]]:
        """(id, values) of one raw object; raises `RowError` when it does not fit."""
        if not isinstance(obj, Mapping):
            raise RowError(
                "R002",
                f"expected an object with the fields of `{self.record.name}`, "
                f"got {_show_raw(obj) if not isinstance(obj, str) else 'text'}",
            )
        rid = obj.get("id")
        if rid is None or (isinstance(rid, str) and not rid.strip()):
            raise RowError("R008", "the record has no `id`", "id")
        if isinstance(rid, bool) or not isinstance(rid, str | int | float):
            raise RowError("R004", f"`id` must be text or a number, got {_show_raw(rid)}", "id")
        out: dict[str, Any] = {}
        for name, fn, optional, t in self._plan:
            raw = obj.get(name)
            if raw is None or (text and isinstance(raw, str) and raw.strip() == ""):
                if not optional:
                    raise RowError("R003", f"missing required field `{name}` ({t})", name)
                out[name] = None
                continue
            try:
                out[name] = fn(raw, text)
            except ValueError as exc:
                if t.kind is Kind.ENUM and isinstance(raw, str):
                    code = "R006"  # text, but not one of the enum's values
                elif isinstance(raw, str) and t.kind in _TEMPORAL:
                    code = "R005"  # text that is not a date, datetime or duration
                else:
                    code = "R004"  # a value of the wrong kind
                raise RowError(code, f"`{name}`: {exc}", name) from None
        return rid, out

    # ---- files ----------------------------------------------------------------------------
    def read(self, path: str) -> Iterator[Row]:
        if path == "-":
            yield from self._jsonl(sys.stdin)
            return
        p = Path(path)
        suffix = p.suffix.lower()
        if suffix not in (".jsonl", ".json", ".csv", ".ndjson"):
            raise InputError(
                f"{path}: unknown file type `{p.suffix or '(none)'}`; records are "
                "read from .jsonl, .json or .csv files, or `-` for JSONL on stdin"
            )
        try:
            handle = p.open(encoding="utf-8-sig", newline="")
        except FileNotFoundError:
            raise InputError(f"{path}: no such file") from None
        except OSError as exc:
            raise InputError(f"{path}: cannot read: {exc.strerror or exc}") from None
        with handle:
            try:
                if suffix in (".jsonl", ".ndjson"):
                    yield from self._jsonl(handle)
                elif suffix == ".json":
                    yield from self._json_array(handle.read(), path)
                else:
                    yield from self._csv(handle)
            except UnicodeDecodeError as exc:
                raise InputError(
                    f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})"
                ) from None

    def _row(self, line: int, obj: Any, text: bool = False) -> Row:
        try:
            rid, vals = self.coerce(obj, text)
        except RowError as exc:
            rid = obj.get("id") if isinstance(obj, Mapping) else None
            usable = isinstance(rid, str | int | float) and not isinstance(rid, bool)
            usable = usable and not (isinstance(rid, str) and not rid.strip())
            return Row(line, rid if usable else None, None, exc)
        return Row(line, rid, vals)

    def _jsonl(self, handle: io.TextIOBase | Any) -> Iterator[Row]:
        for n, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line.rstrip("\r\n"))
            except json.JSONDecodeError as exc:
                yield Row(
                    n,
                    None,
                    None,
                    RowError("R001", f"not valid JSON: {_json_problem(exc)}"),
                )
                continue
            yield self._row(n, obj)

    def _json_array(self, text: str, path: str) -> Iterator[Row]:
        decoder = json.JSONDecoder()
        i, n = 0, len(text)
        line = 1

        def skip(i: int) -> int:
            while i < n and text[i] in " \t\r\n":
                i += 1
            return i

        i = skip(i)
        if i >= n or text[i] != "[":
            raise InputError(
                f"{path}: a .json file must hold a JSON array of records "
                "(use .jsonl for one object a line)"
            )
        pos = i + 1
        while True:
            j = skip(pos)
            line += text.count("\n", pos, j)
            if j < n and text[j] == "]":
                return
            try:
                obj, end = decoder.raw_decode(text, j)
            except json.JSONDecodeError as exc:
                yield _unreadable_rest(line, f"not valid JSON: {_json_problem(exc, lines=True)}")
                return
            yield self._row(line, obj)
            line += text.count("\n", j, end)
            k = skip(end)
            line += text.count("\n", end, k)
            if k < n and text[k] == ",":
                pos = k + 1
                continue
            if k < n and text[k] == "]":
                return
            yield _unreadable_rest(line, "expected `,` or `]` between records")
            return

    def _csv(self, handle: Any) -> Iterator[Row]:
        reader = csv.reader(handle)
        try:
            header = next(reader)
        except StopIteration:
            return
        header = [h.strip() for h in header]
        prev_end = reader.line_num
        for row in reader:
            start = prev_end + 1
            prev_end = reader.line_num
            if not row or all(not c.strip() for c in row):
                continue
            if len(row) != len(header):
                rid = row[0] if header and header[0] == "id" and row else None
                yield Row(
                    start,
                    rid or None,
                    None,
                    RowError(
                        "R007", f"expected {len(header)} columns as in the header, got {len(row)}"
                    ),
                )
                continue
            yield self._row(start, dict(zip(header, row, strict=True)), text=True)


EVENT = ir.Record(
    "Event",
    (
        ir.Field("at", ir.DATETIME, False),
        ir.Field("event", ir.TEXT, False),
        ir.Field("role", ir.TEXT, True),
    ),
)


class EventReader(RecordReader):
    """Reads event logs (IO.md): `{"case", "at", "event", "role"?}`; the case is the row's id."""

    def __init__(self, tz: dt.tzinfo) -> None:
        super().__init__(EVENT, tz)

    def coerce(self, obj: Any, text: bool = False) -> tuple[Any, dict[str, Any]]:
        if not text and type(obj) is dict:
            # the common JSON line, in one step (an audit reads millions); anything unusual, and
            # every error, takes the general path below, which words the problem
            case, at, name, role = obj.get("case"), obj.get("at"), obj.get("event"), obj.get("role")
            if (
                ((isinstance(case, str) and case.strip()) or type(case) in (int, float))
                and type(at) is str
                and type(name) is str
                and name.strip()
                and (role is None or type(role) is str)
            ):
                try:
                    d = values.instant(values.parse_datetime(at), self.tz)
                except ValueError:
                    pass
                else:
                    return case, {"at": d, "event": name, "role": role}
        if isinstance(obj, Mapping):
            case = obj.get("case")
            if case is None or (isinstance(case, str) and not case.strip()):
                raise RowError("R008", "the event has no `case`", "case")
            obj = {**obj, "id": case}
        rid, vals = super().coerce(obj, text)
        if not str(vals["event"]).strip():
            raise RowError("R003", "the event has no name", "event")
        return rid, vals

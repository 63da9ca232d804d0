"""Reading records from files and checking them against a record type.

In: a path (`.jsonl`, `.json`, `.csv`, or `-` for JSONL on standard input) and an `ir.Record`.
Out: a stream of `Row`s, each either the record's values (coerced to Python: `datetime` with a
time zone, `timedelta`, ...) or a `RowError` with its code, message and field.  A bad row never
stops the others; a file that cannot be read at all raises `InputError`.

No content makes a reader raise anything else, and no row is dropped without a word: every
non-blank line of JSONL, every item of a JSON array and every CSV row after the header is one
`Row`, good or bad, and data after a JSON array's closing `]` is a bad row too.  JSON is read
strictly (RFC 8259): `NaN` and `Infinity`, an integer of more digits than Python converts
(`sys.get_int_max_str_digits()`), nesting deeper than the parser's recursion limit and a lone
surrogate escape (`"\\ud800"`, not a character, so it could never be written out again) are each
a bad row, never a crash later.  A CSV quote that is never closed is reported at the line where
it opened (`R009`), with the number of lines it took, and the lines after that one are read again
as rows.  Standard input is read as bytes and decoded as strictly as a file (UTF-8, a BOM
accepted).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
import os
import re
import stat
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, ClassVar

import attrs

from csdsl import ir, values
from csdsl.diagnostics import did_you_mean

Kind = ir.Kind


class InputError(Exception):
    """A data file that cannot be read at all (missing, not UTF-8, unknown type)."""


MAX_LINE = 64 * 1024 * 1024  # characters in one JSONL line: a record is never near this


class Overlong(str):
    """The start of a line longer than `MAX_LINE` (the rest was read past, not kept)."""

    length: int  # the line's whole length, in characters

    def __new__(cls, head: str, length: int) -> Overlong:
        self = super().__new__(cls, head)
        self.length = length
        return self


def bounded_lines(handle: Iterable[str]) -> Iterator[str]:
    """The lines of a text stream, none held longer than `MAX_LINE`: a longer one (a device
    such as /dev/zero, a stream with no line breaks) is read past in pieces and given as an
    `Overlong`, so memory stays bounded whatever the input."""
    readline = getattr(handle, "readline", None)
    if readline is None:  # a list of lines (tests, the DuckDB engine's hand-over)
        yield from handle
        return
    while line := readline(MAX_LINE + 1):
        if len(line) <= MAX_LINE or line.endswith(("\n", "\r")):
            yield line
            continue
        length = len(line)
        while more := readline(MAX_LINE):
            length += len(more)
            if more.endswith(("\n", "\r")):
                break
        yield Overlong(line[:80], length)


def refuse_device(path: str | Path) -> None:
    """`InputError` for a data file that is a device (`/dev/zero` has no end) or a directory;
    regular files, FIFOs and process substitutions (`<(zcat x.gz)`) are read."""
    try:
        mode = os.stat(path).st_mode
    except (OSError, ValueError):
        return  # opening it says what is wrong
    if stat.S_ISDIR(mode):
        raise InputError(f"{path}: is a directory; give one exported file")
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        raise InputError(f"{path}: is a device, not a data file")


def read_whole(path: str | Path) -> str:
    """A whole exported file's text (UTF-8, a byte-order mark dropped), for the readers of
    vendor exports that are one JSON document: a device or directory refused, an unreadable
    file one `InputError` line."""
    p = Path(path)
    refuse_device(p)
    try:
        return p.read_bytes().decode("utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise unreadable(p, exc) from None


def unreadable(path: str | Path, exc: OSError | UnicodeDecodeError) -> InputError:
    """The one-line `InputError` for a data file that cannot be read at all."""
    if isinstance(exc, UnicodeDecodeError):
        return InputError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})")
    if isinstance(exc, FileNotFoundError):
        return InputError(f"{path}: no such file")
    if isinstance(exc, IsADirectoryError):
        return InputError(f"{path}: is a directory; give one exported file")
    return InputError(f"{path}: cannot read: {exc.strerror or exc}")


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


class JsonProblem(ValueError):
    """JSON the readers refuse, worded for a person (`Expecting value at column 5`,
    `nested too deeply to read`, ...); `field` names the top-level key holding it, if any."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def _no_constant(name: str) -> Any:
    raise JsonProblem(f"`{name}` is not a JSON value (RFC 8259); write null or a number")


JSON_DECODER = json.JSONDecoder(parse_constant=_no_constant)
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_SHOWN_CHARS = 80  # a value shown in a message is cut after this many characters


def decode_problem(exc: ValueError | RecursionError, lines: bool = False) -> JsonProblem:
    """The reason a JSON text cannot be decoded, as a `JsonProblem`."""
    if isinstance(exc, JsonProblem):
        return exc
    if isinstance(exc, json.JSONDecodeError):
        return JsonProblem(_json_problem(exc, lines))
    if isinstance(exc, RecursionError):
        return JsonProblem("nested too deeply to read (arrays or objects inside each other)")
    if "integer string conversion" in str(exc):
        return JsonProblem(
            f"a number of more than {sys.get_int_max_str_digits()} digits, too long to read"
        )
    return JsonProblem(str(exc))  # pragma: no cover - json raises nothing else


def _lone_surrogate(obj: Any) -> JsonProblem | None:
    """A `JsonProblem` naming a text (key or value) of a decoded JSON value that holds a lone
    surrogate, else None.  Iterative: the value may be nested as deep as json allows."""
    stack: list[tuple[Any, str, str | None]] = [(obj, "", None)]
    while stack:
        value, where, field = stack.pop()
        if isinstance(value, str):
            found = _SURROGATE.search(value)
            if found is not None:
                what = f"`{_cut(where)}` holds" if where else "the text holds"
                return JsonProblem(
                    f"{what} a lone surrogate \\u{ord(found.group()):04x}, which is not a "
                    "character",
                    field,
                )
        elif isinstance(value, dict):
            for key, item in reversed(value.items()):
                if _SURROGATE.search(key) is not None:
                    inside = f" inside `{_cut(where)}`" if where else ""
                    return JsonProblem(
                        f"a key{inside} holds a lone surrogate "
                        f"\\u{ord(_SURROGATE.findall(key)[0]):04x}, which is not a character",
                        field,
                    )
                name = f"{where}.{key}" if where else key
                stack.append((item, name, field if field is not None or where else key))
        elif isinstance(value, list):
            for i in reversed(range(len(value))):
                stack.append((value[i], f"{where}[{i}]", field))
    return None


def _cut(where: str) -> str:
    """A path into a JSON value, cut to a readable length (nesting may make it long)."""
    return where if len(where) <= _SHOWN_CHARS else where[: _SHOWN_CHARS - 3] + "..."


def loads_json(text: str) -> Any:
    """One JSON text, read strictly (see the module docstring); raises `JsonProblem`."""
    try:
        obj = JSON_DECODER.decode(text)
    except (ValueError, RecursionError) as exc:
        raise decode_problem(exc) from exc  # the cause: json's own error, if any
    if "\\u" in text:
        problem = _lone_surrogate(obj)
        if problem is not None:
            raise problem
    return obj


def where_in_document(problem: JsonProblem) -> str:
    """`problem` for a whole JSON document (an export, not one line of JSONL): json's own
    message with its line and column, else the problem as worded."""
    cause = problem.__cause__
    if isinstance(cause, json.JSONDecodeError):
        return f"{cause.msg} at line {cause.lineno} column {cause.colno}"
    return str(problem)


def id_key(rid: Any) -> str:
    """The text an id is matched by (a record's `id`, an event's `case`): a number that is a
    whole number is the same id as its integer and its decimal text (`1`, `1.0` and `"1"`);
    any other id is its text (`"1.0"` is not `1`)."""
    if isinstance(rid, float) and rid.is_integer():
        return str(int(rid))
    return str(rid)


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
    raise ValueError(f"expected true or false, got {show_raw(v)}")


def _usable_int(v: int) -> int:
    """`v`, if it is small enough to compute with (it converts to a float)."""
    try:
        float(v)
    except OverflowError:
        raise ValueError(
            f"a number of {len(str(abs(v)))} digits is too large (at most about 1.8e308)"
        ) from None
    return v


def _int(v: Any, text: bool) -> int:
    if isinstance(v, bool):
        raise ValueError(f"expected a whole number, got {show_raw(v)}")
    if isinstance(v, int):
        return _usable_int(v)
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
    raise ValueError(f"expected a whole number, got {show_raw(v)}")


def _number(v: Any, text: bool) -> float | int:
    if isinstance(v, bool):
        raise ValueError(f"expected a number, got {show_raw(v)}")
    if isinstance(v, int):
        return _usable_int(v)
    if isinstance(v, float):
        if not math.isfinite(v):
            raise ValueError(f"expected a finite number, got {show_raw(v)}")
        return v
    if text and isinstance(v, str):
        try:
            f = float(v.strip())
        except ValueError:
            pass
        else:
            if math.isfinite(f):
                return f
    raise ValueError(f"expected a number, got {show_raw(v)}")


def _text(v: Any, text: bool) -> str:
    if isinstance(v, str):
        return v
    raise ValueError(f"expected text, got {show_raw(v)}")


def _date(v: Any, text: bool) -> dt.date:
    if isinstance(v, dt.date) and not isinstance(v, dt.datetime):
        return v
    if isinstance(v, str):
        return values.parse_date(v)
    raise ValueError(f"expected a date such as 2024-10-29, got {show_raw(v)}")


def _duration(v: Any, text: bool) -> dt.timedelta:
    if isinstance(v, dt.timedelta):
        return v
    if isinstance(v, int | float) and not isinstance(v, bool):
        if isinstance(v, float) and not math.isfinite(v):
            raise ValueError(f"expected a finite number of seconds, got {show_raw(v)}")
        if isinstance(v, int):
            _usable_int(v)
        return values._seconds(v, str(v))
    if isinstance(v, str):
        return values.parse_duration(v)
    raise ValueError(
        f"expected a duration such as PT4H, 4h or a number of seconds, got {show_raw(v)}"
    )


def show_raw(v: Any) -> str:
    """A raw value as JSON spells it (`null`, `true`, `"text"`), for a message; a long text or
    number is cut, saying how long it is."""
    if v is None:
        return "null"
    if isinstance(v, str):
        if len(v) > _SHOWN_CHARS:
            cut = json.dumps(v[:_SHOWN_CHARS], ensure_ascii=False)[:-1]
            return f'{cut}..." ({len(v):,} characters)'
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, list | dict):
        return "a JSON " + ("array" if isinstance(v, list) else "object")
    if isinstance(v, float) and not math.isfinite(v):
        return "NaN" if math.isnan(v) else ("-Infinity" if v < 0 else "Infinity")
    if isinstance(v, int) and abs(v) >= 10**_SHOWN_CHARS:
        return f"a number of {len(str(abs(v))):,} digits"
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


def _value_end(text: str, start: int) -> int | None:
    """Where the JSON value at `start` of a JSON array ends (the `,` or `]` after it), found
    by counting brackets outside strings: for an item the decoder refused whole (nested too
    deeply, `NaN`, a number too long), so that the items after it are still read."""
    depth, i, n = 0, start, len(text)
    in_string = False
    while i < n:
        c = text[i]
        if in_string:
            if c == "\\":
                i += 1
            elif c == '"':
                in_string = False
        elif c == '"':
            in_string = True
        elif c in "[{":
            depth += 1
        elif c in "]}" or c == ",":
            if depth == 0:
                return i
            if c != ",":
                depth -= 1
        i += 1
    return None


# A CSV cell may be as long as a file (csv's own limit is 131,072 characters); the limit is
# the same for every reader in the process, and raised, never lowered.
_CSV_FIELD_LIMIT = min(sys.maxsize, 2**31 - 1)


class _Tape:
    """Lines with their numbers for `csv.reader`, keeping the lines of the row being read (to
    give back the ones an unterminated quote took) and noting the end of the input."""

    def __init__(self, lines: Iterable[str]) -> None:
        self._source = iter(lines)
        self._number = 0
        self._again: list[tuple[int, str]] = []  # given back, the last first
        self.taken: list[tuple[int, str]] = []
        self.ended = False

    def __iter__(self) -> _Tape:
        return self

    def __next__(self) -> str:
        if self._again:
            item = self._again.pop()
        else:
            try:
                text = next(self._source)
            except StopIteration:
                self.ended = True
                raise
            self._number += 1
            item = (self._number, text)
        self.taken.append(item)
        return item[1]

    def give_back(self, items: list[tuple[int, str]]) -> None:
        self._again.extend(reversed(items))
        self.ended = False


def _quote_line(taken: list[tuple[int, str]], cell: str) -> int:
    """The index in `taken` of the line where the last cell's quote opened, for a row whose
    last cell ran to the end of the input: after that quote, every quote in the text is
    doubled, so the cell's text spelled in CSV is the end of the input."""
    spelled = len(cell) + cell.count('"')
    remaining = sum(len(text) for _, text in taken) - spelled - 1  # offset of the quote
    for i, (_, text) in enumerate(taken):
        if remaining < len(text):
            return i
        remaining -= len(text)
    return len(taken) - 1


def csv_rows(lines: Iterable[str]) -> Iterator[tuple[int, list[str] | RowError]]:
    """The rows of CSV text (the header first), each with the line where it starts: its cells,
    or an `R009` error for a row that cannot be split into cells.  A quote that is never closed
    takes the rest of the input into one cell: that row is reported at its line with how many
    lines the quote took, and the lines after the quote's line are read again as rows (in
    them, every quote is doubled, so this happens once: reading stays linear)."""
    if csv.field_size_limit() < _CSV_FIELD_LIMIT:
        csv.field_size_limit(_CSV_FIELD_LIMIT)
    tape = _Tape(lines)
    reader = csv.reader(tape)
    while True:
        tape.taken = []
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            if not tape.taken:  # pragma: no cover - csv fails only on a line it was given
                return
            yield tape.taken[0][0], RowError("R009", f"cannot split the row into cells: {exc}")
            reader = csv.reader(tape)
            continue
        if not tape.ended:
            yield tape.taken[0][0], row
            continue
        # the input ended inside the row: its last cell opened a quote that never closed
        taken = tape.taken
        q = _quote_line(taken, row[-1])
        opened, last = taken[q][0], taken[-1][0]
        eaten = last - opened + 1
        yield (
            taken[0][0],
            RowError(
                "R009",
                f"unterminated quote opened on line {opened} runs to the end of the file "
                f"({eaten} line{'s' * (eaten != 1)}); the lines after line {opened} are read "
                "again as rows",
            ),
        )
        tape.give_back(taken[q + 1 :])
        reader = csv.reader(tape)


def _stdin_lines() -> Iterator[str]:
    """Standard input's lines, decoded as a file is: strict UTF-8, a BOM accepted, lines ended
    by `\\n`, `\\r\\n` or `\\r`; `InputError` for bytes that are not UTF-8."""
    if sys.stdin is None:  # pythonw, or a daemon: there is no standard input
        raise InputError("standard input: there is none to read; give a file instead of `-`")
    buffer = getattr(sys.stdin, "buffer", None)
    if buffer is None:  # a text stream put in place of stdin (tests, embedding): as it is
        for n, line in enumerate(sys.stdin):
            yield line.removeprefix("\ufeff") if n == 0 else line
        return
    text = io.TextIOWrapper(buffer, encoding="utf-8-sig", errors="strict", newline="")
    try:
        yield from bounded_lines(text)
    except UnicodeDecodeError as exc:
        raise InputError(
            f"standard input: not UTF-8 text ({exc.reason} at byte {exc.start})"
        ) from None
    finally:
        text.detach()  # standard input stays open


def count_rows(path: str) -> int:
    """The rows a reader gives for a file, good and bad (JSONL: non-blank lines; CSV: rows
    after the header that are not blank, an unterminated quote's row and the lines read again
    after it; JSON: array items and data after the array), without coercing any.  Raises
    `InputError` as `RecordReader.read` does."""
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix == ".json":
        return sum(1 for _ in RecordReader(ir.Record("Any", ()), dt.UTC).read(path))
    refuse_device(p)
    try:
        with p.open(encoding="utf-8-sig", newline="") as handle:
            if suffix != ".csv":
                return sum(
                    1
                    for line in bounded_lines(handle)
                    if isinstance(line, Overlong) or line.strip()
                )
            rows = csv_rows(handle)
            next(rows, None)
            return sum(
                1 for _, r in rows if isinstance(r, RowError) or (r and any(c.strip() for c in r))
            )
    except (OSError, UnicodeDecodeError) as exc:
        raise unreadable(path, exc) from None


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
    id_field: ClassVar[str] = "id"  # the key a bad row is still named by, when it can be read

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
                        f"{show_raw(v)} is not one of "
                        + ", ".join(allowed)
                        + (f"; {hint}" if hint else "")
                    )
                raise ValueError(f"expected one of {', '.join(allowed)}, got {show_raw(v)}")

            return enum
        if t.kind is Kind.DATETIME:
            tz = self.tz

            def datetime(v: Any, text: bool) -> dt.datetime:
                if isinstance(v, dt.datetime):
                    d = v
                elif isinstance(v, str):
                    d = values.parse_datetime(v)
                else:
                    raise ValueError(f"expected an ISO 8601 datetime, got {show_raw(v)}")
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
                f"got {show_raw(obj) if not isinstance(obj, str) else 'text'}",
            )
        rid = obj.get("id")
        if rid is None or (isinstance(rid, str) and not rid.strip()):
            raise RowError("R008", "the record has no `id`", "id")
        if isinstance(rid, bool) or not isinstance(rid, str | int | float):
            raise RowError("R004", f"`id` must be text or a number, got {show_raw(rid)}", "id")
        if isinstance(rid, float) and not math.isfinite(rid):  # 1e400: no float holds it
            raise RowError("R004", "`id` is a number too large for any float to hold", "id")
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
            yield from self.read_jsonl_lines(_stdin_lines())
            return
        p = Path(path)
        suffix = p.suffix.lower()
        refuse_device(p)
        if suffix not in (".jsonl", ".json", ".csv", ".ndjson"):
            raise InputError(
                f"{path}: unknown file type `{p.suffix or '(none)'}`; records are "
                "read from .jsonl, .json or .csv files, or `-` for JSONL on stdin"
            )
        try:
            handle = p.open(encoding="utf-8-sig", newline="")
        except OSError as exc:
            raise unreadable(path, exc) from None
        with handle:
            try:
                if suffix in (".jsonl", ".ndjson"):
                    yield from self.read_jsonl_lines(handle)
                elif suffix == ".json":
                    yield from self._json_array(handle.read(), path)
                else:
                    yield from self.read_csv_lines(handle, path)
            except UnicodeDecodeError as exc:
                raise unreadable(path, exc) from None

    def _row(self, line: int, obj: Any, text: bool = False) -> Row:
        try:
            rid, vals = self.coerce(obj, text)
        except RowError as exc:
            rid = obj.get(self.id_field) if isinstance(obj, Mapping) else None
            usable = isinstance(rid, str | int | float) and not isinstance(rid, bool)
            usable = usable and not (isinstance(rid, str) and not rid.strip())
            usable = usable and not (isinstance(rid, float) and not math.isfinite(rid))
            return Row(line, rid if usable else None, None, exc)
        return Row(line, rid, vals)

    def _decoded(self, line: int, obj: Any, text: str) -> Row:
        """The row of one decoded JSON value (`text` its source), refusing lone surrogates."""
        if "\\u" in text:
            problem = _lone_surrogate(obj)
            if problem is not None:
                return self._refused(line, obj, problem)
        return self._row(line, obj)

    def _refused(self, line: int, obj: Any, problem: JsonProblem) -> Row:
        """A bad row for JSON that was decoded but cannot be used: `R004` naming the field that
        holds the problem, or `R001` when no field does."""
        rid = obj.get("id") if isinstance(obj, Mapping) else None
        usable = isinstance(rid, str | int | float) and not isinstance(rid, bool)
        usable = usable and problem.field != "id" and not (isinstance(rid, str) and not rid.strip())
        if problem.field is None:  # in a key, or in a row that is not an object
            error = RowError("R001", f"not valid JSON: {problem}")
        else:
            error = RowError("R004", str(problem), problem.field)
        return Row(line, rid if usable else None, None, error)

    def read_jsonl_lines(self, handle: io.TextIOBase | Iterable[str]) -> Iterator[Row]:
        decode = JSON_DECODER.decode
        for n, line in enumerate(bounded_lines(handle), 1):
            if isinstance(line, Overlong):
                too_long = f"the line is {line.length} characters long, over the {MAX_LINE}"
                yield Row(n, None, None, RowError("R001", f"{too_long} a line may hold; not read"))
                continue
            if not line.strip():
                continue
            text = line.rstrip("\r\n")
            try:
                obj = decode(text)
            except (ValueError, RecursionError) as exc:
                problem = decode_problem(exc)
                yield Row(n, None, None, RowError("R001", f"not valid JSON: {problem}"))
                continue
            yield self._decoded(n, obj, text) if "\\u" in text else self._row(n, obj)

    def _json_array(self, text: str, path: str) -> Iterator[Row]:
        decoder = JSON_DECODER
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
        after_comma = False
        while True:
            j = skip(pos)
            line += text.count("\n", pos, j)
            if j < n and text[j] == "]":
                if after_comma:  # `[R,]`: strict JSON has no trailing comma; R is read
                    yield Row(line, None, None, RowError("R001", "a `,` before the closing `]`"))
                yield from self._after_array(text, j + 1, line)
                return
            if j < n and text[j] == ",":  # `[R,,R2]`: an empty item, and R2 is still read
                yield Row(line, None, None, RowError("R001", "an empty item (two `,` in a row)"))
                pos, after_comma = j + 1, True
                continue
            try:
                obj, end = decoder.raw_decode(text, j)
            except (ValueError, RecursionError) as exc:
                problem = decode_problem(exc, lines=True)
                skipped = None if isinstance(exc, json.JSONDecodeError) else _value_end(text, j)
                if skipped is None:  # no way to tell where the item ends
                    yield _unreadable_rest(line, f"not valid JSON: {problem}")
                    return
                yield Row(line, None, None, RowError("R001", f"not valid JSON: {problem}"))
                end = skipped
            else:
                yield self._decoded(line, obj, text[j:end])
            line += text.count("\n", j, end)
            k = skip(end)
            line += text.count("\n", end, k)
            if k < n and text[k] == ",":
                pos, after_comma = k + 1, True
                continue
            if k < n and text[k] == "]":
                yield from self._after_array(text, k + 1, line)
                return
            yield _unreadable_rest(line, "expected `,` or `]` between records")
            return

    @staticmethod
    def _after_array(text: str, start: int, line: int, closing: str = "]") -> Iterator[Row]:
        """A bad row for anything but white space after the array's closing `]` (a second
        array, a stray record), or the closing `}` of a file's one object: it is not read,
        but never dropped without a word."""
        rest = text[start:]
        if not rest.strip(" \t\r\n"):
            return
        k = len(rest) - len(rest.lstrip(" \t\r\n"))
        at = line + rest.count("\n", 0, k)
        lines = rest.count("\n", k) + (not rest.endswith("\n"))
        yield Row(
            at,
            None,
            None,
            RowError(
                "R001",
                f"data after the closing `{closing}` on line {line}: a .json file holds one "
                + ("array" if closing == "]" else "object")
                + f", so the rest of the file ({lines} line{'s' * (lines != 1)}) is not read; "
                "put every record in the one array, or use .jsonl",
            ),
        )

    def read_csv_lines(self, handle: Iterable[str], path: str = "the CSV text") -> Iterator[Row]:
        rows = csv_rows(handle)
        first = next(rows, None)
        if first is None:
            return
        if isinstance(first[1], RowError):
            why = (
                "opens a quote that is never closed"
                if first[1].message.startswith("unterminated")
                else "cannot be split into cells"
            )
            raise InputError(f"{path}: the header row {why}, so no row can be read")
        header = [h.strip() for h in first[1]]
        seen: dict[str, int] = {}
        for column, name in enumerate(header, 1):
            if name and name in seen:  # which of the two cells is the field's? neither, silently
                raise InputError(
                    f"{path}: the header names `{name}` twice (columns {seen[name]} and "
                    f"{column}); rename or drop one"
                )
            seen[name] = column
        for start, row in rows:
            if isinstance(row, RowError):
                yield Row(start, None, None, row)
                continue
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

    id_field: ClassVar[str] = "case"

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


@attrs.define
class RepeatedIds:
    """The good rows of one file whose id (by `id_key`) an earlier good row already had: both
    are judged, and an event log's events for that case attach to each, so a repeat is worth a
    warning naming both lines.  Holds one entry per distinct id and the first `shown` repeats."""

    shown: int = 5
    first: dict[str, int] = attrs.Factory(dict)
    repeats: list[tuple[int, Any, int]] = attrs.Factory(list)  # (line, id, line first seen)
    count: int = 0

    def see(self, line: int, rid: Any) -> int | None:
        """The line that first had this id, when this row repeats it."""
        key = id_key(rid)
        before = self.first.setdefault(key, line)
        if before == line:
            return None
        self.count += 1
        if len(self.repeats) < self.shown:
            self.repeats.append((line, rid, before))
        return before

    def warning(self, path: str) -> str | None:
        """One line for a summary: how many rows repeat an id, and the first few."""
        if not self.count:
            return None
        listed = "; ".join(
            f"line {line} repeats `{rid}` of line {before}" for line, rid, before in self.repeats
        )
        more = (
            f"; and {self.count - len(self.repeats)} more" if self.count > len(self.repeats) else ""
        )
        rows = "row repeats an id" if self.count == 1 else "rows repeat an id"
        return (
            f"{path}: {self.count} {rows} of an earlier row ({listed}{more}); each is judged, "
            "and events of such a case apply to every record with its id"
        )

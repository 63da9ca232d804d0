"""`csdsl compile --target json`: the checked policy as JSON, and back.

In: a loaded policy (`csdsl.Policy`: its IR and the source files it was compiled from).  Out:
JSON-compatible data (`to_json`, `dumps`) described by the JSON Schema `docs/ir.schema.json`
(`schema()` builds it), and the IR rebuilt from that data (`from_json`, `loads`), so that
`from_json(to_json(p)) == p.ir`.

The encoding is driven by the IR's own attrs classes and type hints, not written per class:
- every IR node is an object tagged `"node": "<ClassName>"` with one key per attrs field (all
  keys always present; a trailing `_` of a field name is dropped: `except_` -> `except`);
  `type` is the name of a field of many nodes (an expression's `Type`), hence the `node` tag;
- a `Span` is an untagged `{file, line, column, end_line, end_column}`;
- tuples are arrays (declaration order kept), frozensets sorted arrays, enums their value;
- a field typed as one of `datetime`, `date`, `time`, `timedelta` is an ISO 8601 string
  (`2024-10-29T09:15:00+08:00`, `2024-10-29`, `09:00:00`, `PT2H30M`); where a field may hold
  several kinds of value (a constant, an example's field value) a datetime, date, time or
  duration is wrapped as `{"datetime": ...}`, `{"date": ...}`, `{"time": ...}` or
  `{"duration": ...}`, and booleans, numbers, strings and null stand for themselves;
- a calendar's time zone is its IANA name, or `+HH:MM` for a fixed offset.
`docs/ir.md` describes the document for people.
"""

from __future__ import annotations

import datetime as dt
import enum
import functools
import hashlib
import json
import os
import re
import sys
import types
import typing
import zoneinfo
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from csdsl import ir
from csdsl.calendar import WorkCalendar
from csdsl.source import Span
from csdsl.transcripts import DIRECTIONS, EVENTS, SENTIMENTS

if TYPE_CHECKING:
    from csdsl.api import Policy

SCHEMA_URI = "https://csdsl.dev/ir/1"  # the `schema` of every document; 1 is the major version
SCHEMA_ID = "https://csdsl.dev/ir/1/ir.schema.json"  # the `$id` of docs/ir.schema.json
TAG = "node"

_ROLES = ("agent", "customer")
_CMP_OPS = ("=", "!=", "<", "<=", ">", ">=")
# fields the IR types as `str` (or a tuple of them) whose values the checker restricts to a
# closed set: the schema lists them as enums
CLOSED: dict[tuple[str, str], tuple[str, ...]] = {
    ("ClockExpectation", "status"): ("met", "breached", "pending", "not_applicable"),
    ("TrRule", "severity"): tuple(ir.SEVERITIES),
    ("TrRule", "scope"): _ROLES,
    ("TrRule", "unless_role"): _ROLES,
    ("TrPosition", "role"): _ROLES,
    ("TrTrigger", "role"): _ROLES,
    ("TrTrigger", "event"): EVENTS,
    ("TrTrigger", "direction"): DIRECTIONS,
    ("TranscriptExample", "direction"): DIRECTIONS,
    ("TrStep", "event"): EVENTS,
    ("ExTurn", "speaker"): (*_ROLES, "system"),
    ("ExTurn", "event"): EVENTS,
    ("ExTurn", "sentiment"): SENTIMENTS,
    ("TrRule", "sentiment"): SENTIMENTS,
    ("ExInterruptions", "role"): _ROLES,
    ("TranscriptRules", "folding"): ir.FOLDINGS,
    ("Aggregate", "func"): ir.AGGREGATES,
    ("GroupBy", "period"): ir.PERIODS,
    ("MArith", "op"): ("+", "-", "*", "/"),
    ("Metric", "op"): _CMP_OPS,
    ("WorkCalendar", "statutory"): ("china",),
}
# what a field means where its name does not say it
_FIELD_DOCS: dict[tuple[str, str], str] = {
    ("WorkCalendar", "weekly"): (
        "opening intervals per weekday, Monday first: [start, end] local times of day, "
        "an end of null meaning midnight at the end of the day (24:00)"
    ),
    ("WorkCalendar", "statutory"): "statutory holidays and make-up working days applied",
    ("WorkCalendar", "dataset"): (
        "informational: the holiday data the compiler used (package and version); "
        "ignored when the IR is read back"
    ),
    ("WorkCalendar", "tz"): "an IANA time zone name, or a fixed offset +HH:MM",
    ("Example", "values"): "every field of the record as [name, value], missing ones null",
    ("Example", "events"): "[at, event, role] in the order written",
    ("Policy", "file"): "the root file as the compiler named it",
    ("Policy", "calendars"): "[name, calendar] in declaration order",
    ("Policy", "phrase_sets"): "[name, phrases] in declaration order",
    ("TimeSpec", "amount"): (
        "natural/working: a duration; days: a number of working days; "
        "next_day: the local time of day; field_at/field_for: the record field read"
    ),
    ("TimeSpec", "about"): "field_at/field_for: what the field holds, in words; else null",
}

# what the schema says beyond a field's type: array sizes, and how one field depends on another
_FIELD_SCHEMA: dict[tuple[str, str], dict[str, Any]] = {
    ("WorkCalendar", "weekly"): {"minItems": 7, "maxItems": 7},
}


def _when_kind(kinds: list[str], then: dict[str, Any]) -> dict[str, Any]:
    return {"if": {"properties": {"kind": {"enum": kinds}}}, "then": {"properties": then}}


_NODE_SCHEMA: dict[str, list[dict[str, Any]]] = {
    "TimeSpec": [
        _when_kind(
            ["natural"],
            {"amount": {"$ref": "#/$defs/TaggedDuration"}, "calendar": {"type": "null"}},
        ),
        _when_kind(
            ["working"],
            {"amount": {"$ref": "#/$defs/TaggedDuration"}, "calendar": {"type": "string"}},
        ),
        _when_kind(
            ["days"], {"amount": {"type": "integer", "minimum": 0}, "calendar": {"type": "string"}}
        ),
        _when_kind(
            ["next_day"], {"amount": {"$ref": "#/$defs/TaggedTime"}, "calendar": {"type": "string"}}
        ),
        _when_kind(
            ["field_at", "field_for"], {"amount": {"type": "string"}, "calendar": {"type": "null"}}
        ),
    ],
}


class IRFormatError(ValueError):
    """A document that is not the JSON form of a checked policy."""


# ---- scalars --------------------------------------------------------------------------------

_DURATION = re.compile(r"(-?)PT(?=\d)(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)(?:\.(\d{1,6}))?S)?")
_OFFSET = re.compile(r"([+-])(\d{2}):(\d{2})")


def duration_text(value: dt.timedelta) -> str:
    """ISO 8601 as IO.md asks for (`PT2H30M`, `-PT5M`, `PT0S`), exact to the microsecond."""
    sign = "-" if value < dt.timedelta(0) else ""
    size = abs(value)
    seconds = size.days * 86400 + size.seconds
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    out = "PT" + (f"{hours}H" if hours else "") + (f"{minutes}M" if minutes else "")
    if secs or size.microseconds or out == "PT":
        frac = f".{size.microseconds:06d}".rstrip("0") if size.microseconds else ""
        out += f"{secs}{frac}S"
    return sign + out


def parse_duration_text(text: str) -> dt.timedelta:
    """The inverse of `duration_text` (hours, minutes, seconds; no days)."""
    m = _DURATION.fullmatch(text)
    if m is None:
        raise ValueError(f"`{text}` is not a duration such as `PT2H30M`")
    sign, h, mi, s, frac = m.groups()
    value = dt.timedelta(
        hours=int(h or 0),
        minutes=int(mi or 0),
        seconds=int(s or 0),
        microseconds=int((frac or "").ljust(6, "0")),
    )
    return -value if sign else value


def _tz_name(tz: dt.tzinfo) -> str:
    if isinstance(tz, zoneinfo.ZoneInfo):
        return tz.key
    if isinstance(tz, dt.timezone):
        offset = tz.utcoffset(None)
        sign = "-" if offset < dt.timedelta(0) else "+"
        minutes = abs(offset) // dt.timedelta(minutes=1)
        if abs(offset) != dt.timedelta(minutes=minutes):
            raise TypeError(f"time zone offset {offset} is not whole minutes")
        return f"{sign}{minutes // 60:02d}:{minutes % 60:02d}"
    raise TypeError(f"time zone {tz!r} has no name to write")


def _tz(name: str) -> dt.tzinfo:
    m = _OFFSET.fullmatch(name)
    if m is not None:
        delta = dt.timedelta(hours=int(m[2]), minutes=int(m[3]))
        return dt.timezone(-delta if m[1] == "-" else delta)
    return zoneinfo.ZoneInfo(name)


def _datetime(value: dt.datetime) -> str:
    if value.tzinfo is None or value.utcoffset() is None:
        raise TypeError(f"datetime {value!r} has no offset")
    return value.isoformat()


def _parse_datetime(text: str) -> dt.datetime:
    value = dt.datetime.fromisoformat(text)
    if value.tzinfo is None:
        raise ValueError(f"`{text}` has no offset")
    return value


# a value whose kind the field's type does not fix: (python type, tag, write, read, $defs name)
_Scalar = tuple[type, str, Callable[[Any], str], Callable[[str], Any], str]
_TAGGED: tuple[_Scalar, ...] = (
    (dt.datetime, "datetime", _datetime, _parse_datetime, "DateTime"),
    (dt.date, "date", dt.date.isoformat, dt.date.fromisoformat, "Date"),
    (dt.time, "time", dt.time.isoformat, dt.time.fromisoformat, "Time"),
    (dt.timedelta, "duration", duration_text, parse_duration_text, "Duration"),
)
_BY_TYPE = {t[0]: t for t in _TAGGED}
_NATIVE = (bool, int, float, str)


# ---- type hints -----------------------------------------------------------------------------


@functools.cache
def _fields(cls: type) -> tuple[tuple[str, str, str, Any], ...]:
    """(attribute, init argument, JSON key, type hint) of every field `cls.__init__` takes."""
    hints = typing.get_type_hints(cls, vars(sys.modules[cls.__module__]))
    return tuple(
        (a.name, a.alias or a.name, a.name.rstrip("_"), hints[a.name])
        for a in attrs.fields(cls)
        if a.init
    )


def _union(hint: Any) -> tuple[tuple[Any, ...], bool]:
    """The members of a hint other than None, and whether None is allowed."""
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        members = typing.get_args(hint)
        rest = tuple(m for m in members if m is not type(None))
        return rest, len(rest) < len(members)
    return (hint,), False


def _is_node(hint: Any) -> bool:
    return isinstance(hint, type) and attrs.has(hint) and hint is not Span


# ---- encoding -------------------------------------------------------------------------------


def _encode(value: Any, hint: Any, at: str) -> Any:
    members, nullable = _union(hint)
    if value is None:
        if nullable:
            return None
        raise TypeError(f"{at}: None where {hint} is expected")
    if len(members) > 1:
        if all(_is_node(m) for m in members):
            if type(value) not in members:
                raise TypeError(f"{at}: {type(value).__name__} is not one of {members}")
            return _node(value, at)
        return _tagged(value, members, at)
    return _encode_one(value, members[0], at)


def _encode_one(value: Any, hint: Any, at: str) -> Any:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is typing.Literal:
        if value not in args:
            raise TypeError(f"{at}: {value!r} is not one of {args}")
        return value
    if origin is tuple:
        if not isinstance(value, tuple):
            raise TypeError(f"{at}: {type(value).__name__} where a tuple is expected")
        if len(args) == 2 and args[1] is Ellipsis:
            return [_encode(x, args[0], f"{at}[{i}]") for i, x in enumerate(value)]
        if len(args) != len(value):
            raise TypeError(f"{at}: {len(value)} items where {len(args)} are expected")
        pairs = enumerate(zip(value, args, strict=True))
        return [_encode(x, h, f"{at}[{i}]") for i, (x, h) in pairs]
    if origin is frozenset:
        return [_encode(x, args[0], f"{at}[]") for x in sorted(value)]
    if hint is Span:
        return {k: getattr(value, k) for k in ("file", "line", "column", "end_line", "end_column")}
    if _is_node(hint):
        if type(value) is not hint:
            raise TypeError(f"{at}: {type(value).__name__} where {hint.__name__} is expected")
        return _node(value, at)
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return hint(value).value
    if hint is dt.tzinfo:
        return _tz_name(value)
    if hint in _BY_TYPE:
        kind = _BY_TYPE[hint]
        if type(value) is not hint:
            raise TypeError(f"{at}: {type(value).__name__} where {hint.__name__} is expected")
        return kind[2](value)
    if hint in _NATIVE:
        ok = type(value) is hint or (hint is float and type(value) is int)
        if not ok:
            raise TypeError(f"{at}: {type(value).__name__} where {hint.__name__} is expected")
        return value
    raise TypeError(f"{at}: no JSON form for {hint}")  # pragma: no cover - a new IR field type


def _tagged(value: Any, members: tuple[Any, ...], at: str) -> Any:
    kind = type(value)
    if kind in _NATIVE and (kind in members or (kind is int and float in members)):
        return value
    if kind in _BY_TYPE and kind in members:
        _, tag, write, _, _ = _BY_TYPE[kind]
        return {tag: write(value)}
    raise TypeError(f"{at}: {kind.__name__} is not one of {members}")


def _node(value: Any, at: str) -> dict[str, Any]:
    cls: type = type(value)
    out: dict[str, Any] = {TAG: cls.__name__}
    for name, _, key, hint in _fields(cls):
        out[key] = _encode(getattr(value, name), hint, f"{at}.{key}")
    for key, (read, _) in _EXTRA.get(cls, {}).items():
        out[key] = read(value)
    return out


# output-only keys: what a consumer wants to know that the IR computes rather than stores
_EXTRA: dict[type, dict[str, tuple[Callable[[Any], Any], dict[str, Any]]]] = {
    WorkCalendar: {
        "dataset": (lambda c: c.dataset, {"type": ["string", "null"]}),
    },
}


def encode_ir(policy: ir.Policy) -> dict[str, Any]:
    """The `policy` part of the document: the IR alone."""
    return _node(policy, "policy")


# ---- sources and the content hash ---------------------------------------------------------------


def source_manifest(policy: Policy) -> list[tuple[str, str]]:
    """(path, sha256 hex of its bytes) of every source file, sorted by path.

    A path is relative to the directory of the root file, with `/` separators (`../x.csp` for
    an import from outside it).  The bytes are the UTF-8 text the compiler read: a leading BOM
    dropped and CRLF/CR line ends read as LF, so for an ordinary UTF-8 file with LF line ends
    they are exactly the bytes on disk."""
    root = os.path.dirname(policy.ir.file) or "."
    out = []
    for name, source in policy.sources.items():
        rel = Path(os.path.relpath(name, root)).as_posix()
        out.append((rel, hashlib.sha256(source.text.encode("utf-8")).hexdigest()))
    return sorted(out)


def content_hash(policy: Policy) -> str:
    """`sha256:` and the SHA-256 of the manifest, one line per source file in path order:
    `<sha256 hex of the file>  <path>\\n` (the layout of `sha256sum`)."""
    manifest = "".join(f"{digest}  {path}\n" for path, digest in source_manifest(policy))
    return "sha256:" + hashlib.sha256(manifest.encode("utf-8")).hexdigest()


def to_json(policy: Policy) -> dict[str, Any]:
    """The JSON document of a loaded policy (see `docs/ir.md`)."""
    import csdsl

    return {
        "schema": SCHEMA_URI,
        "csdsl_version": csdsl.__version__,
        "content_hash": content_hash(policy),
        "sources": [{"path": p, "sha256": h} for p, h in source_manifest(policy)],
        "policy": encode_ir(policy.ir),
    }


_SURROGATE = re.compile("[\ud800-\udfff]")


def dumps(policy: Policy) -> str:
    """`to_json` as text: indent 2, UTF-8 characters as they are, a final newline.  Keys come in
    the IR's field order (the tag first); arrays keep declaration order."""
    text = json.dumps(to_json(policy), ensure_ascii=False, indent=2, allow_nan=False)
    # a lone surrogate (written `\\ud800` in a policy string) cannot be UTF-8: escape it
    return _SURROGATE.sub(lambda m: f"\\u{ord(m[0]):04x}", text) + "\n"


# ---- decoding -------------------------------------------------------------------------------


def _fail(at: str, message: str) -> IRFormatError:
    return IRFormatError(f"{at}: {message}")


def _decode(data: Any, hint: Any, at: str) -> Any:
    members, nullable = _union(hint)
    if data is None:
        if nullable:
            return None
        raise _fail(at, "null is not allowed here")
    if len(members) > 1:
        if all(_is_node(m) for m in members):
            by_tag = {m.__name__: m for m in members}
            tag = data.get(TAG) if isinstance(data, dict) else None
            if tag not in by_tag:
                raise _fail(at, f"expected a node of kind {', '.join(by_tag)}")
            return _read_node(data, by_tag[tag], at)
        return _untag(data, members, at)
    return _decode_one(data, members[0], at)


def _decode_one(data: Any, hint: Any, at: str) -> Any:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is typing.Literal:
        if data not in args or not isinstance(data, str):
            raise _fail(at, f"{data!r} is not one of {', '.join(map(repr, args))}")
        return data
    if origin in (tuple, frozenset):
        if not isinstance(data, list):
            raise _fail(at, "expected an array")
        if origin is frozenset:
            return frozenset(_decode(x, args[0], f"{at}[{i}]") for i, x in enumerate(data))
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_decode(x, args[0], f"{at}[{i}]") for i, x in enumerate(data))
        if len(args) != len(data):
            raise _fail(at, f"expected {len(args)} items, not {len(data)}")
        pairs = enumerate(zip(data, args, strict=True))
        return tuple(_decode(x, h, f"{at}[{i}]") for i, (x, h) in pairs)
    if hint is Span:
        keys = ("file", "line", "column", "end_line", "end_column")
        _keys(data, set(keys), at)
        return Span(*(_decode(data[k], str if k == "file" else int, f"{at}.{k}") for k in keys))
    if _is_node(hint):
        return _read_node(data, hint, at)
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        try:
            return hint(data)
        except ValueError:
            raise _fail(at, f"{data!r} is not a {hint.__name__}") from None
    if hint is dt.tzinfo or hint in _BY_TYPE:
        if not isinstance(data, str):
            raise _fail(at, "expected a string")
        try:
            return _tz(data) if hint is dt.tzinfo else _BY_TYPE[hint][3](data)
        except (ValueError, zoneinfo.ZoneInfoNotFoundError) as exc:
            raise _fail(at, str(exc)) from None
    if hint in _NATIVE:
        if type(data) is hint or (hint is float and type(data) is int):
            return data
        raise _fail(at, f"expected {hint.__name__}, not {type(data).__name__}")
    raise _fail(at, f"no JSON form for {hint}")  # pragma: no cover - a new IR field type


def _untag(data: Any, members: tuple[Any, ...], at: str) -> Any:
    kind = type(data)
    if kind in _NATIVE and (kind in members or (kind is int and float in members)):
        return data
    if isinstance(data, dict) and len(data) == 1:
        ((tag, text),) = data.items()
        for pytype, name, _, read, _ in _TAGGED:
            if name == tag and pytype in members and isinstance(text, str):
                try:
                    return read(text)
                except ValueError as exc:
                    raise _fail(at, str(exc)) from None
    raise _fail(at, f"{data!r} is not a value of {members}")


def _keys(data: Any, expected: set[str], at: str) -> None:
    if not isinstance(data, dict):
        raise _fail(at, "expected an object")
    missing, extra = sorted(expected - set(data)), sorted(set(data) - expected)
    if missing:
        raise _fail(at, "missing " + ", ".join(f"`{k}`" for k in missing))
    if extra:
        raise _fail(at, "unknown " + ", ".join(f"`{k}`" for k in extra))


def _read_node(data: Any, cls: type, at: str) -> Any:
    fields = _fields(cls)
    _keys(data, {TAG, *(k for _, _, k, _ in fields), *_EXTRA.get(cls, {})}, at)
    if data[TAG] != cls.__name__:
        raise _fail(at, f"expected a {cls.__name__} node, not {data[TAG]!r}")
    kwargs = {alias: _decode(data[key], hint, f"{at}.{key}") for _, alias, key, hint in fields}
    return cls(**kwargs)


def decode_ir(data: Mapping[str, Any]) -> ir.Policy:
    """The IR from the `policy` part of a document."""
    policy: ir.Policy = _read_node(dict(data), ir.Policy, "policy")
    return policy


def from_json(data: Mapping[str, Any]) -> ir.Policy:
    """The IR from a document made by `to_json` (or read from `dumps`' text).  Raises
    `IRFormatError` on a document of another schema version or of the wrong shape."""
    if not isinstance(data, Mapping):
        raise IRFormatError("document: expected an object")
    if data.get("schema") != SCHEMA_URI:
        raise IRFormatError(
            f"document: schema {data.get('schema')!r} is not {SCHEMA_URI!r}; "
            "this csdsl reads version 1 of the IR"
        )
    if not isinstance(data.get("policy"), Mapping):
        raise IRFormatError("document: no `policy` object")
    return decode_ir(data["policy"])


def loads(text: str) -> ir.Policy:
    """`from_json` of a document's text."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise IRFormatError(f"document: not JSON ({exc})") from None
    return from_json(data)


# ---- the schema -----------------------------------------------------------------------------

_DRAFT = "https://json-schema.org/draft/2020-12/schema"
_FORMATS: dict[str, dict[str, Any]] = {
    "DateTime": {
        "description": "ISO 8601 date and time with a UTC offset",
        "type": "string",
        "format": "date-time",
        "pattern": (
            r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{6})?"
            r"[+-]\d{2}:\d{2}(:\d{2}(\.\d{6})?)?$"
        ),
    },
    "Date": {
        "description": "ISO 8601 calendar date",
        "type": "string",
        "format": "date",
        "pattern": r"^\d{4}-\d{2}-\d{2}$",
    },
    "Time": {
        "description": "ISO 8601 local time of day",
        "type": "string",
        "pattern": r"^\d{2}:\d{2}:\d{2}(\.\d{6})?$",
    },
    "Duration": {
        "description": "ISO 8601 duration in hours, minutes and seconds (`PT2H30M`, `-PT5M`)",
        "type": "string",
        "pattern": r"^-?PT(?=\d)(\d+H)?(\d+M)?(\d+(\.\d{1,6})?S)?$",
    },
    "TimeZone": {
        "description": "an IANA time zone name, or a fixed UTC offset +HH:MM",
        "type": "string",
        "pattern": r"^([+-]\d{2}:\d{2}|[A-Za-z][A-Za-z0-9_+\-]*(/[A-Za-z0-9_+\-]+)*)$",
    },
    "Span": {
        "description": "where a clause stands: 1-based lines and columns, the end exclusive",
        "type": "object",
        "properties": {
            "file": {"type": "string"},
            "line": {"type": "integer", "minimum": 1},
            "column": {"type": "integer", "minimum": 1},
            "end_line": {"type": "integer", "minimum": 1},
            "end_column": {"type": "integer", "minimum": 1},
        },
        "required": ["file", "line", "column", "end_line", "end_column"],
        "additionalProperties": False,
    },
}
# unions the IR names (type aliases are plain unions at run time): one `$defs` entry each
_NAMED_UNIONS = {"Expr": ir.Expr, "MExpr": ir.MExpr, "Value": ir.Value}


class _SchemaBuilder:
    def __init__(self) -> None:
        self.defs: dict[str, Any] = {}
        self.union_names = {frozenset(_union(u)[0]): n for n, u in _NAMED_UNIONS.items()}

    def ref(self, name: str) -> dict[str, Any]:
        if name in _FORMATS:
            self.defs.setdefault(name, _FORMATS[name])
        return {"$ref": f"#/$defs/{name}"}

    def of(self, hint: Any, owner: tuple[str, str]) -> dict[str, Any]:
        members, nullable = _union(hint)
        inner = self.union(members) if len(members) > 1 else self.one(members[0], owner)
        return {"anyOf": [inner, {"type": "null"}]} if nullable else inner

    def union(self, members: tuple[Any, ...]) -> dict[str, Any]:
        name = self.union_names.get(frozenset(members))
        if name is None:
            return self.union_body(members)
        if name not in self.defs:
            self.defs[name] = {}  # claimed first: expressions nest
            self.defs[name] = self.union_body(members)
        return {"$ref": f"#/$defs/{name}"}

    def union_body(self, members: tuple[Any, ...]) -> dict[str, Any]:
        if all(_is_node(m) for m in members):
            # discriminated by the node's name: a validator checks only the branch named, where
            # `oneOf` would try every branch at every level (expressions share `left`/`right`,
            # so a deep `and`/`or` chain took exponential time to validate)
            refs = {m.__name__: self.node(m) for m in members}
            return {
                "type": "object",
                "required": [TAG],
                "properties": {TAG: {"enum": list(refs)}},
                "allOf": [
                    {"if": {"properties": {TAG: {"const": name}}}, "then": ref}
                    for name, ref in refs.items()
                ],
            }
        # int and float are both JSON numbers; bool is never a number in JSON Schema
        natives = [t for t in _NATIVE if t in members]
        if int in natives and float in natives:
            natives.remove(int)
        names = {bool: "boolean", int: "integer", float: "number", str: "string"}
        return {
            "anyOf": [{"type": names[t]} for t in natives]
            + [self.tagged(_BY_TYPE[t]) for t in members if t in _BY_TYPE]
        }

    def tagged(self, kind: _Scalar) -> dict[str, Any]:
        _, tag, _, _, fmt = kind
        name = "Tagged" + fmt
        self.defs.setdefault(
            name,
            {
                "description": f"a {tag} where the field may hold several kinds of value",
                "type": "object",
                "properties": {tag: self.ref(fmt)},
                "required": [tag],
                "additionalProperties": False,
            },
        )
        return {"$ref": f"#/$defs/{name}"}

    def one(self, hint: Any, owner: tuple[str, str]) -> dict[str, Any]:
        origin, args = typing.get_origin(hint), typing.get_args(hint)
        if origin is typing.Literal:
            return {"enum": list(args)}
        if origin is tuple:
            if len(args) == 2 and args[1] is Ellipsis:
                return {"type": "array", "items": self.of(args[0], owner)}
            return {
                "type": "array",
                "prefixItems": [self.of(a, owner) for a in args],
                "items": False,
                "minItems": len(args),
            }
        if origin is frozenset:
            return {"type": "array", "items": self.of(args[0], owner), "uniqueItems": True}
        if hint is Span:
            return self.ref("Span")
        if _is_node(hint):
            return self.node(hint)
        if isinstance(hint, type) and issubclass(hint, enum.Enum):
            return {"enum": [m.value for m in hint]}
        if hint is dt.tzinfo:
            return self.ref("TimeZone")
        if hint in _BY_TYPE:
            return self.ref(_BY_TYPE[hint][4])
        if hint is str:
            closed = CLOSED.get(owner)
            return {"enum": list(closed)} if closed else {"type": "string"}
        names = {bool: "boolean", int: "integer", float: "number"}
        if hint in names:
            return {"type": names[hint]}
        raise TypeError(f"no schema for {hint}")  # pragma: no cover - a new IR field type

    def node(self, cls: type) -> dict[str, Any]:
        name = cls.__name__
        if name not in self.defs:
            self.defs[name] = {}  # claimed before the fields: nodes nest recursively
            props: dict[str, Any] = {TAG: {"const": name}}
            for _, _, key, hint in _fields(cls):
                props[key] = self.of(hint, (name, key)) | _FIELD_SCHEMA.get((name, key), {})
                self.describe(props[key], (name, key))
            for key, (_, sub) in _EXTRA.get(cls, {}).items():
                props[key] = dict(sub)
                self.describe(props[key], (name, key))
            body: dict[str, Any] = {"title": name}
            doc = (cls.__doc__ or "").strip()
            if doc and not doc.startswith(f"{name}("):  # attrs' generated signature is no help
                body["description"] = " ".join(doc.split())
            body |= {
                "type": "object",
                "properties": props,
                "required": list(props),
                "additionalProperties": False,
            }
            if name in _NODE_SCHEMA:
                body["allOf"] = _NODE_SCHEMA[name]
            self.defs[name] = body
        return {"$ref": f"#/$defs/{name}"}

    @staticmethod
    def describe(prop: dict[str, Any], owner: tuple[str, str]) -> None:
        doc = _FIELD_DOCS.get(owner)
        if doc is None:
            return
        if "$ref" in prop:  # siblings of `$ref` are fine in 2020-12, but keep refs bare
            prop["allOf"] = [{"$ref": prop.pop("$ref")}]
        prop["description"] = doc


def schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of `to_json`'s documents: `docs/ir.schema.json`."""
    b = _SchemaBuilder()
    policy = b.node(ir.Policy)
    return {
        "$schema": _DRAFT,
        "$id": SCHEMA_ID,
        "title": "csdsl checked policy (IR), version 1",
        "description": (
            "The checked form of a csdsl policy as written by `csdsl compile --target json`; "
            "see docs/ir.md"
        ),
        "type": "object",
        "properties": {
            "schema": {"const": SCHEMA_URI},
            "csdsl_version": {"type": "string"},
            "content_hash": {"type": "string", "pattern": "^sha256:[0-9a-f]{64}$"},
            "sources": {
                "description": "every source file, by path relative to the root file's directory",
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "path": {"type": "string"},
                        "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
                    },
                    "required": ["path", "sha256"],
                    "additionalProperties": False,
                },
            },
            "policy": policy,
        },
        "required": ["schema", "csdsl_version", "content_hash", "sources", "policy"],
        "additionalProperties": False,
        "$defs": dict(sorted(b.defs.items())),
    }


def schema_text() -> str:
    """`schema()` as the text of `docs/ir.schema.json`."""
    return json.dumps(schema(), ensure_ascii=False, indent=2) + "\n"


if __name__ == "__main__":  # python -m csdsl.codegen.jsonir > docs/ir.schema.json
    sys.stdout.write(schema_text())

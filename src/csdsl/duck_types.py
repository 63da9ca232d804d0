"""Strict typing of raw values in SQL, for the DuckDB engine (`csdsl.duck`).

In: a record type's fields and the columns a file's lines become (JSON values, CSV cells, Parquet
columns).  Out: sqlglot expressions that type each value exactly as the Python `RecordReader`
would, or decline (NULL plus a flag that sends the line to Python): `Typer`, the `Source` a file
is read as, and the regular expressions of the plainest spellings SQL accepts.  See `csdsl.duck`'s
docstring for what SQL accepts and what it leaves to Python.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import attrs
from sqlglot import exp

from csdsl import ir
from csdsl.sql.build import (
    NUMERIC as _NUMERIC,
    and_ as _and,
    binary as _bin,
    case as _case,
    column as _c,
    double as _d,
    fn as _fn,
    integer as _i,
    is_null as _is_null,
    not_ as _not,
    or_ as _or,
    paren as _p,
    string as _s,
)
from csdsl.sql.zones import Zone as _Zone

if TYPE_CHECKING:
    pass

from csdsl.sql.build import (
    US,
    abs_ as _abs,
    below_exact as _below_exact,
    cast as _cast,
    finite as _finite,
    in_text as _in_text,
    regexp as _rx,
    try_cast as _try_cast,
)

Kind = ir.Kind


MAX_DURATION_S = 9_000_000_000  # seconds; keeps microseconds below 2^53

# ---- typing raw values in SQL ------------------------------------------------------------------

VISIBLE = r"[\pL\pN\pP\pS]"  # a character that is neither whitespace nor invisible
_NUMBER_TEXT = r"^[-+]?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$"
_DATE_TEXT = r"^[1-9][0-9]{3}-[0-9]{2}-[0-9]{2}$"
_DATETIME_TEXT = (
    r"^[1-9][0-9]{3}-[0-9]{2}-[0-9]{2}[T ]([01][0-9]|2[0-3]):[0-5][0-9]"
    r"(:[0-5][0-9](\.[0-9]{1,6})?)?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])?$"
)
# durations: seconds, `1d2h3m4s` in that order, or `P1DT2H3M4S` (at least one part, none empty),
# each part short enough that the total stays far from overflow
_CLOCK = r"([0-9]{1,8}H([0-9]{1,9}M)?([0-9]{1,10}S)?|[0-9]{1,9}M([0-9]{1,10}S)?|[0-9]{1,10}S)"
_DURATION_TEXT = (
    r"^-?([0-9]{1,10}"
    r"|[0-9]{1,5}d([0-9]{1,8}h)?([0-9]{1,9}m)?([0-9]{1,10}s)?"
    r"|[0-9]{1,8}h([0-9]{1,9}m)?([0-9]{1,10}s)?|[0-9]{1,9}m([0-9]{1,10}s)?|[0-9]{1,10}s"
    rf"|P([0-9]{{1,5}}D(T{_CLOCK})?|T{_CLOCK}))$"
)
_JSON_SCALARS = ["true", "false"]
_TRUE_WORDS = ["true", "t", "yes", "y", "1"]
_FALSE_WORDS = ["false", "f", "no", "n", "0"]


def _date_days(s: exp.Expr) -> exp.Expr:
    """Days since 1970-01-01 of an ISO date `YYYY-MM-DD` (checked by the caller), or NULL."""
    days = _fn("date_diff", _s("day"), exp.cast(_s("1970-01-01"), "DATE"), _try_cast(s, "DATE"))
    return _cast(days, "DOUBLE")


def _datetime_us(s: exp.Expr, quoted: exp.Expr, zone: _Zone) -> exp.Expr:
    """UTC microseconds of an ISO datetime in the plain spellings (checked by the caller), or
    NULL.  DuckDB's casts do the arithmetic: TIMESTAMPTZ for a written offset, TIMESTAMP (the
    wall clock) less the zone's offset for none.  `quoted`: the text as matched (maybe in
    JSON quotes)."""
    with_offset = _fn("epoch_us", _try_cast(s, "TIMESTAMPTZ"))
    wall = _bin(exp.Sub, _fn("epoch_us", _try_cast(s, "TIMESTAMP")), _i(zone.offset_us))
    # with an offset the text ends `Z` or `±HH:MM` (its sixth character from the end is a sign;
    # a spelling without one has a `T`, a space, a colon or a digit there)
    sign = _fn("substr", quoted, _i(-7 if quoted is not s else -6), _i(1))
    offset = _or(
        _fn("ends_with", quoted, _s('Z"' if quoted is not s else "Z")), _in_text(sign, ["+", "-"])
    )
    return _cast(_case((offset, with_offset), default=wall), "DOUBLE")


def _duration_us(s: exp.Expr) -> exp.Expr:
    """Microseconds of a duration in the plain spellings (checked by the caller, with its sign),
    or NULL: ISO becomes the compact spelling, which DuckDB's INTERVAL cast reads."""
    body = _fn("ltrim", s, _s("-"))
    iso = _fn("lower", _fn("replace", _fn("replace", body, _s("P"), _s("")), _s("T"), _s("")))
    compact = _case((_fn("starts_with", body, _s("P")), iso), default=body)  # P1DT2H: 1d2h
    us = _cast(_fn("epoch_us", _try_cast(compact, "INTERVAL")), "DOUBLE")
    return _case((_fn("starts_with", s, _s("-")), exp.Neg(this=_p(us))), default=us)


def _spelled(pattern: str, quoted: bool) -> str:
    """A whole-text pattern, inside JSON quotes when `quoted`."""
    assert pattern.startswith("^") and pattern.endswith("$")
    return '^"' + pattern[1:-1] + '"$' if quoted else pattern


@attrs.frozen
class _Typed:
    """One field typed in SQL: its value (NULL when missing or unreadable), whether SQL read it
    as Python would (`ok`; a missing value counts as read), the JSON spelling of a number (for
    evidence and for telling ints from floats) and whether Python holds an int."""

    value: exp.Expr
    ok: exp.Expr
    token: exp.Expr | None = None
    isint: exp.Expr | None = None


class Typer:
    """Types raw values in SQL, in three stages over columns of field `n`: `prims` (from `e<n>`,
    the value's JSON as `json_extract` writes it, or `s<n>`, a CSV cell) gives `s<n>`, the text,
    and `d<n>`, the number; `candidate` gives the value `r<n>` and whether it reads, `g<n>`;
    `field` the typed value and `ok`."""

    def __init__(self, zone: _Zone) -> None:
        self.zone = zone

    @staticmethod
    def prims(f: ir.Field, n: int, text: bool) -> list[tuple[str, exp.Expr]]:
        k = f.type.kind
        out: list[tuple[str, exp.Expr]] = []
        if text:
            s = _c(f"s{n}")
            if k in _NUMERIC:
                out.append((f"d{n}", _case((_rx(s, _NUMBER_TEXT), _try_cast(s, "DOUBLE")))))
            return out
        e = _c(f"e{n}")
        if k is Kind.TEXT:
            out.append((f"s{n}", json_text(e)))
        elif k in (Kind.DATE, Kind.DATETIME, Kind.DURATION):
            # the plain spellings have no escapes: the text is what is between the quotes
            out.append((f"s{n}", _fn("trim", e, _s('"'))))
        if k in (*_NUMERIC, Kind.DURATION):  # a string is no number: do not even try
            out.append((f"d{n}", json_number(e)))
        return out

    def missing(self, n: int, text: bool) -> exp.Expr:
        if text:
            s = _c(f"s{n}")
            return _or(_is_null(s), _bin(exp.EQ, s, _s("")))
        e = _c(f"e{n}")
        return _or(_is_null(e), _bin(exp.EQ, e, _s("null")))

    def candidate(self, f: ir.Field, n: int, text: bool) -> exp.Expr:
        """Field `n`'s value, NULL unless it reads exactly as Python reads it (datetimes and
        durations: before the range check of `field`)."""
        k = f.type.kind
        s, d = _c(f"s{n}"), _c(f"d{n}")
        e = _c(f"e{n}")
        q = not text  # JSON: a string is matched with its quotes
        raw_text = s if text else e
        if k is Kind.BOOL:
            if text:
                lower = _fn("lower", s)
                words = _and(
                    _rx(s, "^[A-Za-z0-9]{1,5}$"), _in_text(lower, _TRUE_WORDS + _FALSE_WORDS)
                )
                good = _or(words, _in_text(s, ["是", "对", "否", "错"]))
                value = _or(_in_text(lower, _TRUE_WORDS), _in_text(s, ["是", "对"]))
                return _case((good, value))
            return _case(
                (_bin(exp.EQ, e, _s("true")), exp.true()),
                (_bin(exp.EQ, e, _s("false")), exp.false()),
            )
        if k is Kind.INT:
            return _case((_and(_finite(d), _bin(exp.EQ, d, _fn("trunc", d)), _below_exact(d)), d))
        if k is Kind.NUMBER:
            return _case((_finite(d) if text else _and(_finite(d), _below_exact(d)), d))
        if k is Kind.TEXT:
            return _case((_rx(s, VISIBLE), s)) if text else s
        if k is Kind.ENUM:
            names = exp.Array(expressions=[_s(v) for v in f.type.values])
            spelled = [json.dumps(v, ensure_ascii=False) if q else v for v in f.type.values]
            at = _fn("list_position", exp.Array(expressions=[_s(v) for v in spelled]), raw_text)
            return _fn("list_extract", names, at)
        if k is Kind.DATE:
            return _case((_rx(raw_text, _spelled(_DATE_TEXT, q)), _date_days(s)))
        if k is Kind.DATETIME:
            pattern = _spelled(_DATETIME_TEXT, q)
            return _case((_rx(raw_text, pattern), _datetime_us(s, raw_text, self.zone)))
        if k is Kind.DURATION:
            from_text = _case((_rx(raw_text, _spelled(_DURATION_TEXT, q)), _duration_us(s)))
            if text:
                return from_text
            whole = _and(_finite(d), _bin(exp.EQ, d, _fn("trunc", d)))
            return _case(
                (exp.Not(this=_is_null(d)), _case((whole, _bin(exp.Mul, d, _d(US))))),
                default=from_text,
            )
        raise AssertionError(f"field `{f.name}` has no type")  # pragma: no cover

    def field(self, f: ir.Field, n: int, text: bool) -> _Typed:
        """The typed field from its candidate `r<n>`: the value, whether the row may have it
        (`ok`), and for numbers their JSON spelling and whether Python holds an int."""
        r, k = _c(f"r{n}"), f.type.kind
        value = r
        if k is Kind.DATETIME:
            inside = _and(
                _bin(exp.GTE, r, _d(self.zone.lo_us)), _bin(exp.LT, r, _d(self.zone.hi_us))
            )
            value = _case((inside, r))
        elif k is Kind.DURATION:
            value = _case((_bin(exp.LT, _abs(r), _d(MAX_DURATION_S * US)), r))
        got = exp.Not(this=_is_null(_c(f"v:{f.name}")))
        ok = _or(self.missing(n, text), got) if f.optional else got
        token: exp.Expr | None = None
        isint: exp.Expr | None = None
        if k is Kind.NUMBER:
            if text:
                token, isint = _cast(r, "VARCHAR"), exp.false()
            else:
                token, isint = _case((got, _c(f"e{n}"))), _not(_rx(_c(f"e{n}"), "[.eE]"))
        return _Typed(value, ok, token, isint)


def json_number(e: exp.Expr) -> exp.Expr:
    """The value of a JSON number (NULL for any other value): `e` starts with `-` or a digit."""
    first = _fn("left", e, _i(1))
    numeric = _or(
        _bin(exp.EQ, first, _s("-")),
        _and(_bin(exp.GTE, first, _s("0")), _bin(exp.LTE, first, _s("9"))),
    )
    return _case((numeric, _try_cast(e, "DOUBLE")))


def json_text(e: exp.Expr) -> exp.Expr:
    """The text of a JSON string (NULL for any other value): what is between the quotes, or
    with escapes, decoded."""
    decoded = exp.JSONExtractScalar(this=e, expression=_s("$"))
    inner = _case((_fn("contains", e, _s("\\")), decoded), default=_fn("trim", e, _s('"')))
    return _case((_fn("starts_with", e, _s('"')), inner))


# ---- sources: how a file becomes typed rows -----------------------------------------------------

BLANK = r"^[ \t]*$"
# What DuckDB's JSON reader accepts and Python's does not: NaN and infinities in any case (Python
# takes `NaN`, `Infinity` only), and trailing commas.  In a line whose keys are all record keys
# only the object's own trailing comma needs looking for: any other such value would be a field's,
# and no field accepts it.  Other lines are searched all through (slower).
TRAILING_COMMA = r",[ \t\r\n]*\}[ \t\r\n]*$"
LENIENT_JSON = r"[:,\[][ \t\r\n]*[-+]?([Nn][Aa][Nn]|[Ii][Nn][Ff])|,[ \t\r\n]*[}\]]"


def json_pointer(key: str) -> str:
    return "/" + key.replace("~", "~0").replace("/", "~1")


@attrs.frozen
class Source:
    mode: str  # jsonl | csv | parquet | python
    reason: str = ""
    header: tuple[str, ...] = ()
    header_line: str = ""
    parquet_columns: tuple[tuple[str, str], ...] = ()
    suspect: tuple[int, ...] = ()  # lines (from 1) the Python reader reads, not SQL


@attrs.frozen
class TypedFields:
    fields: tuple[ir.Field, ...]
    token: frozenset[str]  # NUMBER fields carrying their JSON spelling `t:<name>`


def value_col(name: str) -> exp.Expr:
    return _c("v:" + name)

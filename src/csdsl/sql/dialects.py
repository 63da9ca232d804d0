"""SQL dialects: what differs between the SQL the backend writes for each engine.

In: a dialect's name (`duckdb`, `spark`, `postgres`) for `dialect_of`, or `Doubles`, the DuckDB
engine's own representation of values.  Out: a `Dialect`, which `csdsl.sql.exprs.SqlExprs` and
`csdsl.codegen.sql` ask for types, casts, constants and the few functions whose spelling or
meaning differs; everything else is sqlglot's transpiling (`sql(dialect=d.name)`).

Two representations of values:
- exact (`DuckDB`, `Postgres`, `Spark`: `compile --target sql`): bool BOOLEAN, int BIGINT,
  number DOUBLE, text and enum text, date DATE, datetime BIGINT epoch microseconds (a column is
  TIMESTAMPTZ, or TIMESTAMP in Spark, read with `epoch_us`), duration BIGINT microseconds.
- `Doubles` (the DuckDB engine's typed columns `v:<field>`): int, number, date (days since
  1970-01-01), datetime (UTC microseconds) and duration (microseconds) are all DOUBLE, exact
  because every integer stays below 2^53, and datetimes lie in `[lo_us, hi_us)`, where the
  policy's zone keeps one UTC offset.  Where DOUBLE arithmetic could differ from Python's the
  translator adds a guard (`SqlExprs.guards`: TRUE sends the row to Python) instead of refusing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import ClassVar

from sqlglot import exp

from csdsl import ir
from csdsl.sql.build import (
    binary as _bin,
    double as _d,
    fn as _fn,
    integer as _int,
    paren as _p,
    string as _s,
)

Kind = ir.Kind

DIALECTS = ("duckdb", "spark", "postgres")
DAY_US = 86_400_000_000


class Dialect:
    """What differs between the target dialects; everything else is sqlglot's transpiling."""

    name: ClassVar[str]
    wide: ClassVar[str]  # an exact integer type holding at least 126 bits
    iso_year: ClassVar[str] = "ISOYEAR"  # EXTRACT's field for the ISO 8601 week-numbering year
    collation: ClassVar[str | None] = None  # for ordering text by code point
    checks: ClassVar[bool] = True  # CHECK constraints in CREATE TABLE
    long_in: ClassVar[bool] = False  # an IN list of 4 or more constants as `list_contains`
    types: ClassVar[Mapping[Kind, str]] = {
        Kind.BOOL: "BOOLEAN",
        Kind.INT: "BIGINT",
        Kind.NUMBER: "DOUBLE",
        Kind.TEXT: "TEXT",
        Kind.ENUM: "TEXT",
        Kind.DATE: "DATE",
        Kind.DATETIME: "TIMESTAMPTZ",
        Kind.DURATION: "BIGINT",
    }
    # the representation of values (see the module's docstring)
    doubles: ClassVar[bool] = False
    # a scaling factor's exact ratio must stay below this, so that a duration (any BIGINT)
    # times it fits the wide type (2^63 * 2^62 < 10^38, Spark's DECIMAL(38, 0))
    factor_limit: ClassVar[int] = 2**62
    instants: tuple[int, int] | None = None  # where every datetime lies, if bounded

    def type(self, kind: Kind) -> exp.DataType:
        return exp.DataType.build(self.types[kind], dialect=self.name)

    def null(self, kind: Kind) -> exp.Expr:
        """A NULL of a column's type."""
        return exp.Cast(this=exp.Null(), to=self.type(kind))

    def value_null(self, kind: Kind) -> exp.Expr:
        """A NULL of the type that holds a value of `kind` in an expression."""
        return self.null(Kind.DURATION if kind is Kind.DATETIME else kind)

    def to_double(self, x: exp.Expr) -> exp.Expr:
        return exp.Cast(this=_p(x), to=exp.DataType.build("DOUBLE", dialect=self.name))

    def to_bigint(self, x: exp.Expr) -> exp.Expr:
        return exp.Cast(this=_p(x), to=exp.DataType.build("BIGINT"))

    def to_wide(self, x: exp.Expr) -> exp.Expr:
        return exp.Cast(this=_p(x), to=exp.DataType.build(self.wide, dialect=self.name))

    def to_text(self, x: exp.Expr) -> exp.Expr:
        return exp.Cast(this=_p(x), to=self.type(Kind.TEXT))

    def epoch_us(self, ts: exp.Expr) -> exp.Expr:
        """Microseconds since 1970-01-01T00:00Z of a datetime column."""
        return exp.UnixMicros(this=ts)

    def day_diff(self, a: exp.Expr, b: exp.Expr) -> exp.Expr:
        """Days from date `b` to date `a`."""
        return exp.DateDiff(this=a, expression=b, unit=exp.var("DAY"))

    def compact(self, items: Sequence[exp.Expr]) -> exp.Expr:
        """The array of the non-NULL `items`, in order."""
        return exp.ArrayCompact(this=exp.Array(expressions=list(items)))

    def local_date(self, ts: exp.Expr, zone: str) -> exp.Expr:
        """The date of an instant on the wall clock of `zone`."""
        local = exp.AtTimeZone(this=_p(ts), zone=_s(zone))
        return exp.Cast(this=local, to=exp.DataType.build("DATE"))

    def text_order(self, x: exp.Expr) -> exp.Expr:
        if self.collation is None:
            return x
        return exp.Collate(this=_p(x), expression=exp.to_identifier(self.collation, quoted=True))

    def contains(self, text: exp.Expr, part: exp.Expr) -> exp.Expr:
        """`part` occurs in `text` (NULL when either is)."""
        return _bin(exp.GT, exp.StrPosition(this=text, substr=part), _int(0))

    # ---- values: constants and columns in the representation --------------------------------
    def integer(self, value: int) -> exp.Expr:
        """An integer value (an int, microseconds): exact below 2^53."""
        return _int(value)

    def date(self, value: dt.date) -> exp.Expr:
        return exp.Cast(this=_s(value.isoformat()), to=exp.DataType.build("DATE"))

    def field(self, column: exp.Expr, kind: Kind) -> exp.Expr:
        """A field's value from its column."""
        return self.epoch_us(column) if kind is Kind.DATETIME else column

    def date_diff_us(self, a: exp.Expr, b: exp.Expr) -> exp.Expr:
        """Microseconds from date `b` to date `a`."""
        return _bin(exp.Mul, self.to_bigint(self.day_diff(a, b)), _int(DAY_US))

    def exact(self, x: exp.Expr) -> exp.Expr:
        """An integer value as an exact integer, for DIV and MOD."""
        return x

    def rounded(self, x: exp.Expr) -> exp.Expr:
        """An exact integer result (maybe wide) as a value."""
        return self.to_bigint(x)


class DuckDB(Dialect):
    name = "duckdb"
    wide = "HUGEINT"
    long_in = True  # DuckDB runs an IN list of five or more as a join; a list literal does not

    def contains(self, text: exp.Expr, part: exp.Expr) -> exp.Expr:
        return _fn("contains", text, part)


class Doubles(DuckDB):
    """The DuckDB engine's typed columns: every number, date (days), datetime (UTC microseconds)
    and duration (microseconds) a DOUBLE, datetimes in `[lo_us, hi_us)`."""

    doubles = True
    # a duration in DOUBLE is below 2^53 (else a guard has tripped): 2^53 * 2^64 fits HUGEINT
    factor_limit = 2**64

    def __init__(self, lo_us: int, hi_us: int) -> None:
        self.instants = (lo_us, hi_us)

    def value_null(self, kind: Kind) -> exp.Expr:
        sql_type = {Kind.BOOL: "BOOLEAN", Kind.TEXT: "VARCHAR", Kind.ENUM: "VARCHAR"}
        return exp.cast(exp.Null(), sql_type.get(kind, "DOUBLE"))

    def integer(self, value: int) -> exp.Expr:
        return _d(value)

    def date(self, value: dt.date) -> exp.Expr:
        return _d((value - dt.date(1970, 1, 1)).days)

    def field(self, column: exp.Expr, kind: Kind) -> exp.Expr:
        return column

    def date_diff_us(self, a: exp.Expr, b: exp.Expr) -> exp.Expr:
        return _bin(exp.Mul, _bin(exp.Sub, a, b), _d(DAY_US))

    def exact(self, x: exp.Expr) -> exp.Expr:
        # TRY_CAST: DuckDB may compute a CASE's branch for rows it does not suit
        return exp.TryCast(this=x, to=exp.DataType.build("BIGINT"))

    def rounded(self, x: exp.Expr) -> exp.Expr:
        # `try`: never fails, even on the rows a guard sends to Python
        return _fn("try", exp.cast(_p(x), "DOUBLE", copy=False))


class Postgres(Dialect):
    name = "postgres"
    wide = "NUMERIC"
    collation = "C"

    def epoch_us(self, ts: exp.Expr) -> exp.Expr:
        # EXTRACT(EPOCH ...) is NUMERIC from PostgreSQL 14 on: exact
        seconds = exp.Extract(this=exp.var("EPOCH"), expression=ts)
        return self.to_bigint(_bin(exp.Mul, seconds, _int(1_000_000)))

    def day_diff(self, a: exp.Expr, b: exp.Expr) -> exp.Expr:
        return _bin(exp.Sub, a, b)  # date - date: an integer number of days

    def compact(self, items: Sequence[exp.Expr]) -> exp.Expr:
        return exp.Anonymous(
            this="ARRAY_REMOVE", expressions=[exp.Array(expressions=list(items)), exp.Null()]
        )


class Spark(Dialect):
    name = "spark"
    wide = "DECIMAL(38, 0)"
    iso_year = "YEAROFWEEK"
    checks = False
    types: ClassVar[Mapping[Kind, str]] = {**Dialect.types, Kind.DATETIME: "TIMESTAMP"}

    def day_diff(self, a: exp.Expr, b: exp.Expr) -> exp.Expr:
        return exp.Anonymous(this="DATEDIFF", expressions=[a, b])


_DIALECTS: dict[str, type[Dialect]] = {"duckdb": DuckDB, "postgres": Postgres, "spark": Spark}


def dialect_of(name: str) -> Dialect:
    try:
        return _DIALECTS[name]()
    except KeyError:
        raise ValueError(
            f"unknown SQL dialect `{name}`; choose one of {', '.join(DIALECTS)}"
        ) from None

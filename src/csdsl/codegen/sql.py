"""`csdsl compile --target sql`: a policy's validity conditions and metrics as SQL views.

In: a loaded `csdsl.Policy`, a dialect (`duckdb`, the default, `spark` or `postgres`) and
optionally the table that holds each record type (`tables`, by record name; a dotted name is
`schema.table` or `catalog.schema.table`).  Out: `compile_sql` gives a SQL script, statements
separated by `;` and a line break, each after `--` comments that name its clause (`file:line`);
`table_ddl` gives the `CREATE TABLE` a record type's rows are expected in.  Every expression is
built with sqlglot's expression builders: names are quoted identifiers and policy text appears
only as string literals or in comments with every line break and control character escaped.
Conditions and `where`s are translated by the SQL backend's one translator,
`csdsl.sql.exprs.SqlExprs` (the DuckDB engine's too); this module builds the views around them.

The input: one table per record type (by default named as the record), one column per field,
and `id`, the record's id (a field named `id` is that column).

| field type | duckdb | postgres | spark |
|---|---|---|---|
| bool | BOOLEAN | BOOLEAN | BOOLEAN |
| int | BIGINT | BIGINT | BIGINT |
| number | DOUBLE | DOUBLE PRECISION | DOUBLE |
| text, enum | TEXT | TEXT | STRING |
| date | DATE | DATE | DATE |
| datetime | TIMESTAMPTZ | TIMESTAMPTZ | TIMESTAMP (an instant; session time zone UTC) |
| duration | BIGINT, microseconds | BIGINT, microseconds | BIGINT, microseconds |

The output: `CREATE OR REPLACE VIEW` statements, so that the script is run once and the views
are queried (`SELECT * FROM "Complaint_validity"`).

- `"<Record>_validity"`, per record type with a validity block: `id`; one column per condition
  and per exception, named by its id, TRUE, FALSE or NULL (unknown: a value it needs is missing,
  or its arithmetic failed) exactly as the interpreter decides it; `valid` (TRUE only when the
  rule holds definitely and no exception definitely matches, as `Verdict.valid`); `unknown`
  (`Verdict.unknown`: invalid only for want of data); `matched`, the array of the ids of the
  conditions that definitely matched, in declaration order (DuckDB `LIST_FILTER`, PostgreSQL
  `ARRAY_REMOVE`, Spark 3.4+ `ARRAY_COMPACT`).
- `"<metric>_metric"`, per metric: one row per group, ordered as `csdsl.metrics` orders them;
  a column per `by` (named as `MetricResult.group` names it, `team` or `month of received_at`,
  prefixed with `by ` if that name is taken by a column below; a period is text such as
  `2024-10-29`, `2024-W44` or `2024-10`), `part_1`, `part_2`, ... (each aggregate's value, in
  the order the metric's value names them), `value`, `status` (`pass`, `fail` or
  `not_applicable`) and `reason` (why it is not applicable), as `metrics.metric_result` gives
  them.  Durations are microseconds (BIGINT).

Meaning: the interpreter's.  Conditions use SQL's three-valued logic, which is the
interpreter's; division by zero and non-finite numbers are NULL (unknown; in a metric, not
applicable); datetimes are compared and subtracted as instants (epoch microseconds), as the
interpreter does, with a datetime without an offset read at the zone's one UTC offset: so only
where the policy's time zone keeps one (checked for 2000-2100; Asia/Shanghai has one from
1991-09 on); a duration scaled by a number is
rounded half to even to the microsecond, as `timedelta` does, in exact integer arithmetic
(DuckDB HUGEINT, PostgreSQL NUMERIC, Spark DECIMAL(38, 0)).  Percentiles are the linear
interpolation between closest ranks that `csdsl.metrics` computes (numpy's default, SQL's
`percentile_cont`), written out with `ROW_NUMBER()` so that the rank position is computed exactly
as Python computes it; a duration percentile is rounded as `timedelta * float` rounds.

Limits, by design: numbers are DOUBLE, so integers beyond 2^53 in a `number` field lose
exactness, and `sum`/`mean` of a `number` field with fractions add in the engine's order, not
the file's (the last bits may differ); integer arithmetic beyond 64 bits is an error in DuckDB
and PostgreSQL (run Spark with `spark.sql.ansi.enabled`, the default from Spark 4, so that it
is one there too, not a wrapped value); groups whose values print alike (a missing value and
empty text) come missing first, where Python keeps the order it met them in; PostgreSQL 14 or
later (exact `EXTRACT(EPOCH ...)`), Spark 3.4 or later (`ARRAY_COMPACT`) with
`spark.sql.session.timeZone=UTC` (periods of a datetime use `FROM_UTC_TIMESTAMP`).

Shape: a value SQL needs more than once (a rounded quotient, a range check) is computed once,
as a column `#l<n>` of a layer `SELECT *, ... AS "#l0" FROM (...)` under the query, so that
nested arithmetic stays linear in size; internal columns all start with `#`, which no csdsl
name can.

What has no SQL form raises `SqlUnsupported`, naming the clause: comparing or subtracting
datetimes in a time zone with daylight saving time (`is set` and periods are fine); a duration
scaled by a `number` that is not a constant (Python rounds the exact product; SQL cannot); a
constant integer beyond 2^53 or a constant factor whose exact ratio needs more than 64 bits; a
duration percentile below rank 100/1024 (about 0.098); grouping a metric by a number, a duration
or a datetime without a period, or by fields of different types; names SQL cannot tell apart
(DuckDB and Spark ignore case), or that clash with the output's own columns.  Deadlines and
escalations become the timeline views of `csdsl.sql.timeline_views` (DuckDB and Spark; over an
events table per record type, with calendar tables for a span of dates; PostgreSQL has none,
and the script says why).  Transcript rules are not part of the SQL target (they read
transcripts): the script says so at the top, and `csdsl` runs them; so are record-level rules
(`rule`: the script names them at the top, and `csdsl compile` says so on standard error), and
the metrics that
count a verdict, a condition or a deadline's status (`ir.Metric.judged`), each named at the top
with the reason (`metric()` on one raises `SqlUnsupported`).
"""

from __future__ import annotations

import datetime as dt
import json
import math
import unicodedata
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs
from sqlglot import exp

from csdsl import ir
from csdsl.metrics import metric_text
from csdsl.source import Span
from csdsl.sql.build import (
    CMP as _CMP,
    EXACT,
    NUMERIC as _NUMERIC,
    and_ as _and,
    binary as _bin,
    case as _case,
    integer as _i,
    not_ as _not,
    or_ as _or,
    paren as _p,
    string as _s,
)
from csdsl.sql.dialects import dialect_of
from csdsl.sql.exprs import (
    US,
    Let,
    Lets,
    SqlExprs,
    SqlUnsupported as SqlUnsupported,  # raised by compile_sql
    divround,
    policy_zone,
    scale_by_constant,
    scale_by_integer,
)
from csdsl.sql.timeline_views import (
    DIALECTS as CLOCK_DIALECTS,
    NO_VIEWS,
    ClockViews,
    Span as Span_,
    SpanError as SpanError,  # raised by compile_sql
    check_span,
    clock_records,
    default_span,
    no_views_line,
)

if TYPE_CHECKING:
    from csdsl.api import Policy

Kind = ir.Kind


# ---- small builders ------------------------------------------------------------------------


def _ident(name: str) -> exp.Identifier:
    return exp.to_identifier(name, quoted=True)


def _col(name: str) -> exp.Expr:
    return exp.column(name, quoted=True)


def _alias(x: exp.Expr, name: str) -> exp.Expr:
    aliased: exp.Expr = exp.alias_(x, name, quoted=True, copy=False)
    return aliased


def _coalesce(*xs: exp.Expr) -> exp.Expr:
    return exp.Coalesce(this=xs[0], expressions=list(xs[1:]))


def _definitely(x: exp.Expr) -> exp.Expr:
    """TRUE when `x` is TRUE, FALSE when it is FALSE or NULL."""
    return _coalesce(x, exp.false())


def _is_null(x: exp.Expr) -> exp.Expr:
    return exp.Is(this=_p(x), expression=exp.Null())


def _not_null(x: exp.Expr) -> exp.Expr:
    return exp.Not(this=_is_null(x))


def _int(value: int) -> exp.Expr:
    return _i(value)


def _eq(a: exp.Expr, b: exp.Expr) -> exp.Expr:
    return _bin(exp.EQ, a, b)


def _comment(text: str) -> str:
    """Text that stays inside one `--` comment: line breaks, control and format characters
    (everything that could end a comment or hide text) become `\\uXXXX`."""
    out = []
    for ch in text:
        if unicodedata.category(ch)[0] in "CZ" and ch != " ":
            out.append(f"\\u{ord(ch):04x}" if ord(ch) <= 0xFFFF else f"\\U{ord(ch):08x}")
        else:
            out.append(ch)
    return "".join(out)


def _quoted(text: str | None) -> str:
    return "" if text is None else " " + json.dumps(text, ensure_ascii=False)


def _where(span: Span) -> str:
    return f"{span.file}:{span.line}"


# ---- names ---------------------------------------------------------------------------------------


def _distinct(names: Sequence[str], span: Span, clause: str, what: str) -> None:
    """SQL names that DuckDB and Spark would confuse (they ignore case) are refused."""
    seen: dict[str, str] = {}
    for n in names:
        key = n.casefold()
        if key in seen:
            raise SqlUnsupported(
                span,
                clause,
                f"{what} `{seen[key]}` and `{n}` are one name to SQL (DuckDB and Spark ignore "
                "case); rename one",
            )
        seen[key] = n


def _table(name: str) -> exp.Table:
    """A table name; dots separate catalog, schema and table, each quoted."""
    parts = name.split(".")
    if len(parts) > 3 or not all(parts):
        raise ValueError(f"`{name}` is not a table name (`table`, `schema.table` or `c.s.table`)")
    table = exp.Table(this=_ident(parts[-1]))
    if len(parts) > 1:
        table.set("db", _ident(parts[-2]))
    if len(parts) > 2:
        table.set("catalog", _ident(parts[-3]))
    return table


def _record_columns(record: ir.Record, span: Span, clause: str) -> list[tuple[str, Kind | None]]:
    """The columns of a record's table: `id` (None: any type), then the fields."""
    cols: list[tuple[str, Kind | None]] = [(f.name, f.type.kind) for f in record.fields]
    if record.field("id") is None:
        cols.insert(0, ("id", None))
    _distinct([c for c, _ in cols], span, clause, "the columns")
    return cols


# ---- the script ------------------------------------------------------------------------------


@attrs.frozen
class _Statement:
    comments: tuple[str, ...]
    sql: exp.Expr


class _Compiler:
    def __init__(
        self,
        policy: Policy,
        dialect: str,
        tables: Mapping[str, str] | None,
        span: Span_ | None = None,
        clocks: bool = True,
    ) -> None:
        self.policy = policy
        self.ir = policy.ir
        self.d = dialect_of(dialect)
        self.zone = policy_zone(policy)
        self.tables = dict(tables or {})
        unknown = sorted(set(self.tables) - {r.name for r in self.ir.records})
        if unknown:
            raise ValueError(f"`tables` names no record type `{unknown[0]}`")
        self.clocks: ClockViews | None = None
        if clocks and self.d.name in CLOCK_DIALECTS and clock_records(self.ir):
            span = span or default_span(policy)
            check_span(policy, span)
            tabled = {r.name: self.table(r.name) for r in self.ir.records}
            self.clocks = ClockViews(policy, self.d, tabled, span)

    def table(self, record: str) -> exp.Table:
        return _table(self.tables.get(record, record))

    def record(self, name: str) -> ir.Record:
        r = self.ir.record(name)
        assert r is not None, name
        return r

    # ---- validity --------------------------------------------------------------------------
    def validity(self, v: ir.Validity) -> _Statement:
        clause = f"the validity of `{v.record}`"
        record = self.record(v.record)
        _record_columns(record, v.span, clause)
        conds = [*v.conditions, *v.exceptions]
        names = [c.id for c in conds]
        _distinct([*names, "id", "valid", "unknown", "matched"], v.span, clause, "the columns")
        inner_cols: list[exp.Expr] = [_alias(_col("id"), "id")]
        lets = Lets("l")
        for c in conds:
            tr = SqlExprs(self.ir, self.d.name, _col, f"condition `{c.id}`", c.span, let=lets)
            inner_cols.append(_alias(tr(c.expr), c.id))
        inner = exp.select(*inner_cols).from_(lets.under(self.table(v.record), "let"), copy=False)
        assert v.conditions, "the checker refuses a validity block without conditions"
        matched = [_definitely(_col(c.id)) for c in v.conditions]
        holds = (_or if v.quantifier == "any" else _and)(*matched)
        excepted = [_definitely(_col(c.id)) for c in v.exceptions]
        valid = _and(holds, _not(_or(*excepted))) if excepted else holds
        # `Verdict.unknown`: invalid, nothing matched, and a condition could not be decided
        unknown = _and(
            _not(valid.copy()),
            _not(_or(*(m.copy() for m in matched))),
            _or(*(_is_null(_col(c.id)) for c in v.conditions)),
        )
        ids = [_case((_definitely(_col(c.id)), exp.Literal.string(c.id))) for c in v.conditions]
        outer = exp.select(
            _col("id"),
            *(_col(c.id) for c in conds),
            _alias(valid, "valid"),
            _alias(unknown, "unknown"),
            _alias(self.d.compact(ids), "matched"),
        ).from_(
            exp.Subquery(this=inner, alias=exp.TableAlias(this=_ident("conditions"))), copy=False
        )
        comments = [f"validity of {v.record} ({_where(v.span)}): valid when {v.quantifier} of"]
        for c in v.conditions:
            comments.append(f"  {c.id} ({_where(c.span)}){_quoted(c.wording)}")
        if v.exceptions:
            comments.append("unless any of")
            for c in v.exceptions:
                comments.append(f"  {c.id} ({_where(c.span)}){_quoted(c.wording)}")
        return _Statement(tuple(comments), self.view(f"{v.record}_validity", outer))

    def view(self, name: str, query: exp.Expr) -> exp.Expr:
        return exp.Create(
            this=exp.Table(this=_ident(name)), kind="VIEW", replace=True, expression=query
        )

    # ---- metrics -----------------------------------------------------------------------------
    def group_kind(self, m: ir.Metric, g: ir.GroupBy, clause: str) -> Kind | None:
        """How a group key is held: None for a period (text), else the field's kind."""
        if g.period is not None:
            return None
        kinds = set()
        for r in m.records:
            f = self.record(r).field(g.field)
            assert f is not None
            kinds.add(Kind.TEXT if f.type.kind is Kind.ENUM else f.type.kind)
        if len(kinds) > 1:
            raise SqlUnsupported(
                m.span, clause, f"`{g.field}` has different types in the records it groups"
            )
        (kind,) = kinds
        if kind not in (Kind.BOOL, Kind.INT, Kind.TEXT, Kind.DATE):
            raise SqlUnsupported(
                m.span,
                clause,
                f"it groups by `{g.field}`, a {kind.value}: Python groups equal values whose "
                "text differs (1 and 1.0) under the first one it meets; group by a bool, int, "
                "text, enum or date field, or by a period of a date or datetime",
            )
        return kind

    def group_key(self, record: ir.Record, g: ir.GroupBy) -> exp.Expr:
        col = _col(g.field)
        if g.period is None:
            return col
        f = record.field(g.field)
        assert f is not None
        day = col if f.type.kind is Kind.DATE else self.d.local_date(col, self.zone.name)

        def part(field: str, width: int | None) -> exp.Expr:
            value = exp.Extract(this=exp.var(field), expression=day.copy())
            text = self.d.to_text(exp.Cast(this=value, to=exp.DataType.build("INT")))
            if width is None:
                return text
            return exp.Pad(this=text, expression=_int(width), fill_pattern=_s("0"), is_left=True)

        pieces: list[exp.Expr]
        if g.period == "day":
            pieces = [part("YEAR", 4), _s("-"), part("MONTH", 2), _s("-"), part("DAY", 2)]
        elif g.period == "week":
            pieces = [part(self.d.iso_year, None), _s("-W"), part("WEEK", 2)]
        else:
            pieces = [part("YEAR", None), _s("-"), part("MONTH", 2)]
        out = pieces[0]
        for p in pieces[1:]:
            out = exp.DPipe(this=out, expression=p, safe=True)
        return out

    def metric(self, m: ir.Metric) -> _Statement:
        clause = f"metric `{m.name}`"
        aggs = ir.aggregates(m.value)
        if m.judged:
            raise SqlUnsupported(m.judged[0].span, clause, _judged_why(m))
        for r in m.records:
            _record_columns(self.record(r), m.span, clause)
        kinds = [self.group_kind(m, g, clause) for g in m.groups]
        fixed = ["value", "status", "reason", *(f"part_{i + 1}" for i in range(len(aggs)))]
        taken = {n.casefold() for n in fixed}
        labels = []
        for g in m.groups:
            label = f"{g.period} of {g.field}" if g.period else g.field
            if label.casefold() in taken:
                label = "by " + label
            labels.append(label)
            taken.add(label.casefold())
        _distinct([*labels, *fixed], m.span, clause, "the columns")

        keys = [f"#k{j}" for j in range(len(m.groups))]
        # the rows: every record of the metric's types, with its group and, per aggregate,
        # whether it counts ("#a") and the value it adds ("#v")
        branches: list[exp.Select] = []
        for rname in m.records:
            record = self.record(rname)
            cols = [
                _alias(self.group_key(record, g), k) for g, k in zip(m.groups, keys, strict=True)
            ]
            lets = Lets("l")
            for i, a in enumerate(aggs):
                mine = a.record == rname
                flags: list[exp.Expr] = []
                if mine and a.where is not None:
                    where = SqlExprs(
                        self.ir,
                        self.d.name,
                        _col,
                        f"the `where` of `{a.text}` in {clause}",
                        a.span,
                        let=lets,
                    )
                    flags.append(_definitely(where(a.where)))
                if mine and a.field is not None:
                    flags.append(_not_null(_col(a.field)))
                counted = (_and(*flags) if flags else exp.true()) if mine else exp.false()
                cols.append(_alias(counted, f"#a{i}"))
                if a.func != "count":
                    assert a.field is not None
                    f = self.record(a.record).field(a.field)
                    assert f is not None
                    value = _col(a.field) if mine else self.d.null(f.type.kind)
                    cols.append(_alias(value, f"#v{i}"))
            branches.append(
                exp.select(*cols).from_(lets.under(self.table(rname), "let"), copy=False)
            )
        rows: exp.Expr = branches[0]
        for b in branches[1:]:
            rows = exp.union(rows, b, distinct=False)
        source: exp.Expr = exp.Subquery(this=rows, alias=exp.TableAlias(this=_ident("rows")))

        percentiles = [i for i, a in enumerate(aggs) if a.func == "percentile"]
        if percentiles:
            ranks: list[exp.Expr] = [exp.Star()]
            for i in percentiles:
                part = [*(_col(k) for k in keys), _col(f"#a{i}")]
                order = exp.Order(expressions=[exp.Ordered(this=_col(f"#v{i}"), nulls_first=False)])
                rank = exp.Window(this=exp.RowNumber(), partition_by=part, order=order)
                count = exp.Window(
                    this=exp.Count(this=exp.Star()), partition_by=[p.copy() for p in part]
                )
                ranks.append(_alias(_bin(exp.Sub, rank, _int(1)), f"#r{i}"))
                ranks.append(_alias(count, f"#n{i}"))
            ranked = exp.select(*ranks).from_(source, copy=False)
            source = exp.Subquery(this=ranked, alias=exp.TableAlias(this=_ident("ranked")))

        # per group: each aggregate's pieces
        grouped_cols: list[exp.Expr] = [_col(k) for k in keys]
        for i, a in enumerate(aggs):
            counted = _col(f"#a{i}")
            value = _col(f"#v{i}")
            grouped_cols.append(_alias(exp.Count(this=_case((counted, _int(1)))), f"#c{i}"))
            if a.func in ("sum", "mean"):
                grouped_cols.append(_alias(exp.Sum(this=_case((counted.copy(), value))), f"#s{i}"))
            elif a.func in ("min", "max"):
                agg = exp.Min if a.func == "min" else exp.Max
                grouped_cols.append(_alias(agg(this=_case((counted.copy(), value))), f"#s{i}"))
            elif a.func == "percentile":
                pos = self.rank_position(_col(f"#n{i}"), a)
                for label, edge in (("lo", exp.Floor), ("hi", exp.Ceil)):
                    at = _and(counted.copy(), _eq(_col(f"#r{i}"), edge(this=pos.copy())))
                    grouped_cols.append(
                        _alias(exp.Max(this=_case((at, value.copy()))), f"#{label}{i}")
                    )
        grouped = exp.select(*grouped_cols).from_(source, copy=False)
        if keys:
            grouped = grouped.group_by(*(_col(k) for k in keys), copy=False)

        # per group: each aggregate's value, as `csdsl.metrics` computes it
        part_cols: list[exp.Expr] = [_col(k) for k in keys]
        lets = Lets("l")
        for i, a in enumerate(aggs):
            part_cols.append(_alias(self.aggregate_value(i, a, clause, lets), f"#p{i}"))
        groups = exp.Subquery(this=grouped, alias=exp.TableAlias(this=_ident("groups")))
        parts = exp.select(*part_cols).from_(lets.under(groups, "let"), copy=False)

        lets = Lets("l")
        index = {id(a): i for i, a in enumerate(aggs)}
        value, reasons, _ = self.mvalue(m.value, index, m, clause, lets)
        value = lets(value)
        threshold, _, _ = self.mvalue(ir.MConst(m.threshold, ir.NUMBER), {}, m, clause, lets)
        reason: exp.Expr
        if not reasons:
            reason = self.d.null(Kind.TEXT)
        elif len(reasons) == 1:
            reason = reasons[0]
        else:
            reason = _coalesce(*reasons)
        status = _case(
            (_is_null(value), exp.Literal.string("not_applicable")),
            (_bin(_CMP[m.op], value.copy(), threshold), exp.Literal.string("pass")),
            default=exp.Literal.string("fail"),
        )
        final_cols: list[exp.Expr] = [
            _alias(_col(k), label) for k, label in zip(keys, labels, strict=True)
        ]
        final_cols += [_alias(_col(f"#p{i}"), f"part_{i + 1}") for i in range(len(aggs))]
        final_cols += [
            _alias(value.copy(), "value"),
            _alias(status, "status"),
            _alias(reason, "reason"),
        ]
        parts_from = exp.Subquery(this=parts, alias=exp.TableAlias(this=_ident("parts")))
        final = exp.select(*final_cols).from_(lets.under(parts_from, "let"), copy=False)
        ordering: list[exp.Expr] = []
        for k, kind in zip(keys, kinds, strict=True):
            ordering.append(exp.Ordered(this=_case((_is_null(_col(k)), _int(0)), default=_int(1))))
            form = _col(k)
            if kind is None or kind is Kind.TEXT:
                form = self.d.text_order(form)
            elif kind is Kind.INT:
                form = self.d.text_order(self.d.to_text(form))
            ordering.append(exp.Ordered(this=form, nulls_first=True))
        if ordering:
            final = final.order_by(*ordering, copy=False)

        comments = [f"metric {m.name} ({_where(m.span)}){_quoted(m.wording)}"]
        comments.append(f"  {m.text} {m.op} {_show(m.threshold)}")
        for i, a in enumerate(aggs):
            comments.append(f"  part_{i + 1}: {a.text}")
        if any(a.type.kind is Kind.DURATION for a in aggs):
            comments.append("  durations in microseconds")
        return _Statement(tuple(comments), self.view(f"{m.name}_metric", final))

    def rank_position(self, n: exp.Expr, a: ir.Aggregate) -> exp.Expr:
        """`(n - 1) * q / 100`, in the same DOUBLE operations as `metrics.percentile_ranks`."""
        q = self.d.to_double(_s(repr(float(a.q or 0.0))))
        scaled = _bin(exp.Mul, self.d.to_double(_bin(exp.Sub, n, _int(1))), q)
        return _bin(exp.Div, scaled, self.d.to_double(_s("100.0")))

    def aggregate_value(self, i: int, a: ir.Aggregate, clause: str, let: Let) -> exp.Expr:
        c, s = _col(f"#c{i}"), _col(f"#s{i}")
        duration = a.type.kind is Kind.DURATION
        if a.func == "count":
            return c
        if a.func == "sum":
            return _coalesce(s, _int(0))
        if a.func == "mean":
            if duration:
                return self.d.to_bigint(divround(s, exp.Nullif(this=c, expression=_int(0)), let))
            zero = self.d.to_double(_s("0.0"))
            return _bin(
                exp.Div, self.d.to_double(s), exp.Nullif(this=self.d.to_double(c), expression=zero)
            )
        if a.func in ("min", "max"):
            return s
        low, high = _col(f"#lo{i}"), _col(f"#hi{i}")
        pos = self.rank_position(c.copy(), a)
        frac = _bin(exp.Sub, pos, exp.Floor(this=pos.copy()))
        same = _eq(exp.Floor(this=pos.copy()), exp.Ceil(this=pos.copy()))
        if not duration:
            step = _bin(exp.Mul, self.d.to_double(_bin(exp.Sub, high, low)), frac)
            return _case(
                (same, low.copy()), default=_bin(exp.Add, self.d.to_double(low.copy()), step)
            )
        # `low + (high - low) * frac` as timedelta computes it: the exact product rounded half
        # to even; frac is a multiple of 2^-bits (bits from the smallest position, q/100)
        first = float(a.q or 0.0) / 100
        bits = 0 if first == 0 else 53 - math.frexp(first)[1]
        if bits > 62:
            raise SqlUnsupported(
                a.span,
                clause,
                f"`{a.text}`: a duration percentile below rank 100/1024 (about 0.098) is not "
                "exact in SQL",
            )
        unit = self.d.to_double(_s(repr(float(2**bits))))
        steps = self.d.to_bigint(_bin(exp.Mul, frac.copy(), unit))
        diff = _bin(exp.Sub, high.copy(), low.copy())
        product = _bin(exp.Mul, self.d.to_wide(diff), self.d.to_wide(steps))
        step_us = self.d.to_bigint(divround(product, self.d.to_wide(_int(2**bits)), let))
        return _case((same.copy(), low.copy()), default=_bin(exp.Add, low.copy(), step_us))

    def mvalue(
        self, e: ir.MExpr, index: Mapping[int, int], m: ir.Metric, clause: str, let: Let
    ) -> tuple[exp.Expr, list[exp.Expr], bool]:
        """A metric's value over the aggregates' columns: (SQL, the reasons it may be not
        applicable in `metrics._evaluate`'s order, whether it is always a whole number)."""

        def unsupported(why: str) -> SqlUnsupported:
            return SqlUnsupported(m.span, clause, why)

        if isinstance(e, ir.MConst):
            v = e.value
            if isinstance(v, dt.timedelta):
                return _int(v // US), [], True
            if isinstance(v, int):
                if abs(v) >= EXACT:
                    raise unsupported(f"the number {v} is beyond 2^53, not exact in SQL")
                return _int(v), [], True
            return self.d.to_double(_s(repr(float(v)))), [], False
        if isinstance(e, ir.Aggregate):
            col = _col(f"#p{index[id(e)]}")
            why = exp.Literal.string(f"`{e.text}` has no values")
            whole = e.func == "count" or (
                e.func in ("sum", "min", "max") and e.type.kind is Kind.INT
            )
            return col, [_case((_is_null(col.copy()), why))], whole
        a, ra, wa = self.mvalue(e.left, index, m, clause, let)
        b, rb, wb = self.mvalue(e.right, index, m, clause, let)
        reasons = [*ra, *rb]
        if e.op == "/":
            why = exp.Literal.string(f"division by zero: `{metric_text(e.right)}` is 0")
            reasons.append(_case((_eq(b.copy(), _int(0)), why)))
        lk, rk = e.left.type.kind, e.right.type.kind
        if (lk in _NUMERIC and rk in _NUMERIC) or (lk is rk is Kind.DURATION):
            if e.op == "/":
                zero = self.d.to_double(_s("0.0"))
                quotient = _bin(
                    exp.Div,
                    self.d.to_double(a),
                    exp.Nullif(this=self.d.to_double(b), expression=zero),
                )
                return quotient, reasons, False
            cls = {"+": exp.Add, "-": exp.Sub, "*": exp.Mul}[e.op]
            return _bin(cls, a, b), reasons, wa and wb
        if lk is Kind.DURATION:
            us, factor, factor_e, whole = a, b, e.right, wb
        else:
            us, factor, factor_e, whole = b, a, e.left, wa
        if isinstance(factor_e, ir.MConst):
            return (
                scale_by_constant(self.d, us, factor_e.value, e.op, let, unsupported),
                reasons,
                True,
            )
        if not whole:
            raise unsupported(
                f"it scales a duration by `{metric_text(factor_e)}`, which may have a fraction: "
                "Python rounds the exact product to the microsecond, which SQL cannot compute"
            )
        return scale_by_integer(self.d, us, factor, e.op, let), reasons, True

    # ---- the whole script -----------------------------------------------------------------
    def script(self) -> str:
        p = self.ir
        statements = [self.validity(v) for v in p.validities]
        statements += [self.metric(m) for m in p.metrics if not m.judged]
        views = [f"{v.record}_validity" for v in p.validities] + [
            f"{m.name}_metric" for m in p.metrics if not m.judged
        ]
        tables = [self.tables.get(r.name, r.name) for r in p.records]
        if self.clocks is not None:
            views += self.clocks.names()
            # the events tables the timeline views read
            tables += [f"{r}_events" for r in self.clocks.records]
        _distinct([*views, *tables], Span(p.file, 1, 1, 1, 1), "the policy", "the views and tables")
        head = [
            f"csdsl compile --target sql ({self.d.name}): policy{_quoted(p.name)}"
            + (f" version{_quoted(p.version)}" if p.version else "")
            + f" ({p.file})",
            f"time zone{_quoted(p.timezone)}; datetimes are instants, durations microseconds",
            "input: a table per record type, a column per field and `id` (csdsl.codegen.sql."
            "table_ddl)",
        ]
        left_out = [
            what
            for what, present in (
                ("deadlines", p.deadlines),
                ("escalations", p.escalations),
                ("transcript rules", p.transcript_rules),
            )
            if present
        ]
        if self.clocks is None:
            head.append(
                "not part of the SQL target: deadlines, escalations and transcript rules (they "
                "read event logs and transcripts; run them with csdsl)"
                + (f"; this policy has {', '.join(left_out)}" if left_out else "")
            )
            if self.d.name in NO_VIEWS and clock_records(p):
                head.append(no_views_line(self.d.name))
        else:
            head += self.clocks.head()
            head.append(
                "not part of the SQL target: transcript rules (they read transcripts; run them "
                "with csdsl)" + ("; this policy has transcript rules" if p.transcript_rules else "")
            )
        if p.rules:
            head.append(rules_left_out(p))
        head += [f"left out: metric `{m.name}`: {_judged_why(m)}" for m in p.metrics if m.judged]
        if not statements and self.clocks is None:
            head.append("this policy has no validity block and no metric: nothing to compute")
        out = ["\n".join("-- " + _comment(line) for line in head)]
        for st in statements:
            text = "\n".join("-- " + _comment(line) for line in st.comments)
            out.append(text + "\n" + st.sql.sql(dialect=self.d.name, pretty=True) + ";")
        if self.clocks is not None:
            for clock in self.clocks.statements():
                lines = [*("-- " + _comment(line) for line in clock.comments), clock.sql + ";"]
                out.append("\n".join(lines))
        return "\n\n".join(out) + "\n"


def rules_left_out(p: ir.Policy) -> str:
    """The line that says a policy's record-level rules are not in the SQL (empty: none)."""
    if not p.rules:
        return ""
    names = ", ".join(f"`{r.name}`" for r in p.rules)
    return (
        f"not in the SQL: the record-level rules ({names}); `csdsl rules` and `csdsl audit` "
        "judge them, on the records and their event log"
    )


def _judged_why(m: ir.Metric) -> str:
    """Why a metric that counts a verdict, a condition or a clock has no SQL form."""
    j = m.judged[0]
    what = {
        "valid": "the verdict `valid`",
        "condition": f"whether condition `{j.name}` matched",
        "deadline": f"the status of deadline `{j.name}`",
    }[j.kind]
    source = "the event log" if j.kind == "deadline" else "the validity block"
    return (
        f"it counts {what}, judged per record from {source}, not read from a table's "
        "columns; `csdsl audit` computes it"
    )


def _show(value: Any) -> str:
    if isinstance(value, dt.timedelta):
        from csdsl.values import format_duration

        return format_duration(value)
    return repr(value)


def compile_sql(
    policy: Policy,
    dialect: str = "duckdb",
    tables: Mapping[str, str] | None = None,
    *,
    span: Span_ | None = None,
    clocks: bool = True,
) -> str:
    """The policy's validity blocks and metrics as a SQL script of `CREATE OR REPLACE VIEW`s
    (see the module's docstring), and with `clocks` (DuckDB and Spark) the timeline views of
    `csdsl.sql.timeline_views`, their calendar tables covering `span` (by default
    `default_span`).  Raises `SqlUnsupported` for a clause with no exact SQL form, `SpanError`
    for a span the calendars cannot decide, `ValueError` for an unknown dialect or a `tables`
    entry that names no record type."""
    return _Compiler(policy, dialect, tables, span, clocks).script()


def table_ddl(
    policy: Policy, record: str, dialect: str = "duckdb", table: str | None = None
) -> str:
    """`CREATE TABLE` for the rows of a record type, as the views of `compile_sql` read them:
    `id` as text (any type will do: it is only passed through), one column per field, NOT NULL
    for required fields, and for an enum a CHECK of its values (not in Spark)."""
    d = dialect_of(dialect)
    rec = policy.ir.record(record)
    if rec is None:
        raise ValueError(f"the policy has no record type `{record}`")
    columns = _record_columns(rec, rec.span, f"record `{record}`")
    defs: list[exp.Expr] = []
    for name, kind in columns:
        field = rec.field(name)
        constraints: list[exp.Expr] = []
        if kind is None or (field is not None and not field.optional):
            constraints.append(exp.ColumnConstraint(kind=exp.NotNullColumnConstraint()))
        if field is not None and kind is Kind.ENUM and d.checks:
            allowed = exp.In(
                this=_col(name), expressions=[exp.Literal.string(v) for v in field.type.values]
            )
            constraints.append(exp.ColumnConstraint(kind=exp.CheckColumnConstraint(this=allowed)))
        defs.append(
            exp.ColumnDef(
                this=_ident(name),
                kind=d.type(kind or Kind.TEXT),
                constraints=constraints,
            )
        )
    create = exp.Create(
        this=exp.Schema(this=_table(table or record), expressions=defs), kind="TABLE"
    )
    notes = [
        f"rows of record {record} ({_where(rec.span)}) for csdsl compile --target sql",
        "datetimes: instants"
        + (" (TIMESTAMP: run with spark.sql.session.timeZone=UTC)" if d.name == "spark" else "")
        + "; durations: BIGINT microseconds; missing values: NULL",
    ]
    head = "\n".join("-- " + _comment(n) for n in notes)
    return head + "\n" + create.sql(dialect=d.name, pretty=True) + ";\n"

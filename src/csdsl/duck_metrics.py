"""Metrics in SQL, for the DuckDB engine (`DuckEngine.measure_files`).

In: the engine's typed tables (`csdsl.duck_tables`) and translations (`csdsl.duck_judge`), the
files by record type, an optional window.  Out: the `MetricResult`s and the bad rows, exactly as
`MetricEngine` computes them: groups and parts in SQL, the arithmetic and the threshold in
`csdsl.metrics.metric_result`; metrics SQL cannot compute go to the Python `MetricEngine`.  See
`csdsl.duck`'s docstring ("Metrics").
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, TypeAlias

import attrs
import duckdb
from sqlglot import exp

from csdsl import ir
from csdsl.duck_judge import Judging
from csdsl.duck_tables import DuckTables
from csdsl.duck_types import value_col
from csdsl.engine_rows import Window, in_window
from csdsl.interpreter import compile_expr
from csdsl.metrics import (
    MetricEngine,
    MetricResult,
    empty_value,
    group_order,
    interpolate,
    metric_result,
    percentile_ranks,
    period_key,
)
from csdsl.records import Row
from csdsl.sql.build import (
    DAY_US,
    EXACT,
    alias as _alias,
    and_ as _and,
    binary as _bin,
    case as _case,
    cast as _cast,
    column as _c,
    double as _d,
    fn as _fn,
    integer as _i,
    is_null as _is_null,
    is_true as _is_true,
    not_ as _not,
    or_ as _or,
    select as _select,
    string as _s,
    table as _table,
    try_cast as _try_cast,
    typed_null as _null,
)
from csdsl.sql.exprs import SqlUnsupported

Kind = ir.Kind


# ---- metrics in SQL ----------------------------------------------------------------------------


@attrs.frozen
class _Agg:
    metric: int  # index in the policy's metrics
    index: int  # index among the metric's aggregates
    agg: ir.Aggregate
    col: str  # suffix of its base-table columns: a (counted), w (value), q (int?), r (JSON)


_SQL_GROUP_KINDS = (Kind.TEXT, Kind.ENUM, Kind.BOOL, Kind.INT, Kind.DATE)
_COLUMN_TYPES = {"g": "VARCHAR", "a": "BOOLEAN", "w": "DOUBLE", "q": "BOOLEAN", "r": "VARCHAR"}
GroupKey: TypeAlias = tuple[str | None, ...]


class _NeedPython(Exception):
    """A metric SQL cannot compute exactly after all (a value Python read is beyond 2^53)."""

    def __init__(self, metric: int) -> None:
        super().__init__(metric)
        self.metric = metric


class Measure:
    """One `measure_files` run: per file, a base table (one row per record in the window: the
    groups it falls in, and per aggregate whether it counts and its value), then one GROUP BY
    per distinct grouping."""

    def __init__(
        self,
        tables: DuckTables,
        judging: Judging,
        files: Mapping[str, str | Path],
        window: Window | None,
        judged: bool = True,
    ) -> None:
        self.tables = tables
        self.judging = judging
        self.policy = tables.policy
        self.tz = judging.tz
        self.files = [(name, str(path)) for name, path in files.items()]
        self.window = window
        self.metrics = tuple(m for m in tables.policy.ir.metrics if judged or not m.judged)
        self.python_metrics: set[int] = set()
        self.groups: list[dict[GroupKey, tuple[tuple[int, int], dict[int, Any]]]] = []
        self.bad: list[tuple[str, Row]] = []

    def run(self) -> tuple[list[MetricResult], list[tuple[str, Row]]]:
        for name, _ in self.files:
            self.policy.reader(name)  # an unknown record type fails as in the Python engine
        self.python_metrics = {mi for mi, m in enumerate(self.metrics) if not self.in_sql(m)}
        while True:
            self.groups = [{} for _ in self.metrics]
            self.bad = []
            try:
                for fi, (name, path) in enumerate(self.files):
                    self.measure_file(fi, name, path)
            except _NeedPython as need:
                self.python_metrics.add(need.metric)
                continue
            break
        from_python = self.python_results()
        out: list[MetricResult] = []
        for mi, m in enumerate(self.metrics):
            if mi in self.python_metrics:
                out += [r for r in from_python if r.metric is m]
                continue
            groups = self.groups[mi]
            keys: list[GroupKey] = list(groups) or ([()] if not m.groups else [])
            keys.sort(key=lambda k: (group_order(k), groups[k][0] if k in groups else (0, 0)))
            aggs = ir.aggregates(m.value)
            for key in keys:
                values = groups[key][1] if key in groups else {}
                parts = [values.get(ai, empty_value(a)) for ai, a in enumerate(aggs)]
                out.append(metric_result(m, key, parts))
        return out, self.bad

    def in_sql(self, m: ir.Metric) -> bool:
        if m.judged:  # what the policy made of a record is judged in Python
            return False
        for record_name in m.records:
            record = self.tables.record(record_name)
            for g in m.groups:
                f = record.field(g.field)
                if f is None or (g.period is None and f.type.kind not in _SQL_GROUP_KINDS):
                    return False
        try:
            for a in ir.aggregates(m.value):
                if a.where is not None:
                    self.judging.sql(a.where, a, [])
        except SqlUnsupported:
            return False
        return True

    def python_results(self) -> list[MetricResult]:
        if not self.python_metrics:
            return []
        metrics = [m for mi, m in enumerate(self.metrics) if mi in self.python_metrics]
        engine = MetricEngine(metrics, self.tz, self.policy.ir.validities)
        wanted = set(engine.record_types)
        for name, path in self.files:
            if name in wanted:
                for row in self.policy.reader(name).read(path):
                    if row.values is not None and self.inside(row.values):
                        engine.feed(name, row.values)
        return engine.results()

    def inside(self, values: Mapping[str, Any]) -> bool:
        return in_window(values, self.window, self.tz)

    def measure_file(self, fi: int, name: str, path: str) -> None:
        tables = self.tables
        rec = tables.record(name)
        source = tables.source(Path(path))
        sql = [mi for mi in range(len(self.metrics)) if mi not in self.python_metrics]
        found = [
            (mi, ai, a)
            for mi in sql
            for ai, a in enumerate(ir.aggregates(self.metrics[mi].value))
            if a.record == name
        ]
        aggs = [_Agg(mi, ai, a, str(n)) for n, (mi, ai, a) in enumerate(found)]
        metrics = [mi for mi in sql if name in self.metrics[mi].records]
        cols, unsafe, key_cols = self.base_columns(rec, aggs, metrics)
        loaded = None
        if source.mode != "python":
            try:
                loaded = tables.load(rec, Path(path), source)
            except duckdb.Error:  # e.g. not UTF-8: Python reads it, and raises what it raises
                loaded = None
        guard = _fn("coalesce", _or(*unsafe), exp.false()) if unsafe else exp.false()
        rows: list[Row]
        if loaded is None:
            rows = list(self.policy.reader(name).read(path))
            tables.fallback_rows += len(rows)
        else:
            guarded: list[int] = []
            if unsafe:
                query = _select(_bin(exp.Add, exp.column("rowid"), _i(1)))
                query = query.from_(_table(loaded.table), copy=False)
                query = query.where(_and(_c("ok"), guard), copy=False)
                guarded = [n for (n,) in tables.con.execute(query.sql("duckdb")).fetchall()]
            python = {**loaded.python, **tables.reread(loaded, rec, Path(path), guarded)}
            rows = [row for line in sorted(python) for row in python[line]]
        good = []
        for row in rows:
            if row.values is None:
                self.bad.append((path, row))
            elif self.inside(row.values):
                good.append(row)
        if not metrics:
            return
        table = tables.temp_name()
        self.create(table, cols)
        try:
            if good:
                injected = [self.injected(row, aggs, metrics, list(cols), key_cols) for row in good]
                insert = exp.insert(
                    exp.values([tuple(exp.Placeholder() for _ in range(len(cols) + 1))]),
                    _table(table),
                )
                tables.con.executemany(insert.sql("duckdb"), injected)
            # the rows to aggregate: SQL's (their line is their position) and Python's
            names = [_c(c) for c in cols]
            relation: exp.Expr = _select(_c("line"), *names).from_(_table(table))
            if loaded is not None:
                line = _alias(_bin(exp.Add, exp.column("rowid"), _i(1)), "line")
                keep = _and(
                    _c("ok"),
                    _not(_c("blank")),
                    _bin(exp.GTE, exp.column("rowid"), _i(loaded.first)),
                    _not(guard),
                    self.judging.window(rec, self.window),
                )
                from_sql = (
                    _select(line, *(_alias(x, n) for n, x in cols.items()))
                    .from_(_table(loaded.table), copy=False)
                    .where(keep, copy=False)
                )
                relation = exp.union(from_sql, relation, distinct=False)
            rows_sql = exp.Subquery(
                this=relation, alias=exp.TableAlias(this=exp.to_identifier("src"))
            )
            by_keys: dict[tuple[str, ...], list[int]] = {}
            for mi in metrics:
                kc = tuple(key_cols[(mi, gi)] for gi in range(len(self.metrics[mi].groups)))
                by_keys.setdefault(kc, []).append(mi)
            for kc, mis in by_keys.items():
                self.group_query(fi, rows_sql, kc, [a for a in aggs if a.metric in mis], mis)
        finally:
            tables.drop(table)

    def base_columns(
        self, rec: ir.Record, aggs: Sequence[_Agg], metrics: Sequence[int]
    ) -> tuple[dict[str, exp.Expr], list[exp.Expr], dict[tuple[int, int], str]]:
        """The base table's columns: group keys (g<n>, shared by metrics grouping alike), and
        per aggregate whether a row counts (a), its value (w), whether Python holds an int (q)
        and its JSON spelling (r, numbers only)."""
        guards: list[exp.Expr] = []
        cols: dict[str, exp.Expr] = {}
        key_cols: dict[tuple[int, int], str] = {}
        seen: dict[str, str] = {}
        for mi in metrics:
            for gi, g in enumerate(self.metrics[mi].groups):
                sql = self.group_sql(rec, g)
                text = sql.sql("duckdb")
                if text not in seen:
                    seen[text] = f"g{len(seen)}"
                    cols[seen[text]] = sql
                key_cols[(mi, gi)] = seen[text]
        for a in aggs:
            agg = a.agg
            counts: list[exp.Expr] = []
            if agg.where is not None:
                counts.append(_is_true(self.judging.sql(agg.where, agg, guards)))
            if agg.field is not None:
                counts.append(exp.Not(this=_is_null(value_col(agg.field))))
            cols["a" + a.col] = (
                _fn("coalesce", _and(*counts), exp.false()) if counts else exp.true()
            )
            if agg.field is not None:
                f = rec.field(agg.field)
                assert f is not None
                cols["w" + a.col] = value_col(agg.field)
                if f.type.kind is Kind.NUMBER:
                    cols["q" + a.col] = _c("i:" + f.name)
                    cols["r" + a.col] = _c("t:" + f.name)
                else:
                    cols["q" + a.col] = exp.true()
                    cols["r" + a.col] = _null("VARCHAR")
        return cols, guards, key_cols

    def group_sql(self, rec: ir.Record, g: ir.GroupBy) -> exp.Expr:
        """A group's key as the Python engine prints it (`str` of the value, or the period)."""
        f = rec.field(g.field)
        assert f is not None
        v = value_col(g.field)
        k = f.type.kind
        if g.period is not None:
            days = v
            if k is Kind.DATETIME:
                local = _bin(exp.Add, v, _d(self.judging.zone.offset_us))
                days = _fn("floor", _bin(exp.Div, local, _d(DAY_US)))
            day = _bin(exp.Add, exp.cast(_s("1970-01-01"), "DATE"), _cast(days, "INTEGER"))
            fmt = {"day": "%Y-%m-%d", "week": "%G-W%V", "month": "%Y-%m"}[g.period]
            return _case((exp.Not(this=_is_null(v)), _fn("strftime", day, _s(fmt))))
        if k is Kind.BOOL:
            return _case((_is_true(v), _s("True")), (_is_true(_not(v)), _s("False")))
        if k is Kind.INT:
            return _cast(_cast(v, "BIGINT"), "VARCHAR")
        if k is Kind.DATE:
            day = _bin(exp.Add, exp.cast(_s("1970-01-01"), "DATE"), _cast(v, "INTEGER"))
            return _fn("strftime", day, _s("%Y-%m-%d"))
        return v

    def create(self, table: str, cols: Mapping[str, exp.Expr]) -> None:
        """CREATE an empty table for the rows Python read, with their line number."""
        defs = [("line", "BIGINT")]
        defs += [(c, _COLUMN_TYPES[c[0]]) for c in cols]
        schema = exp.Schema(
            this=_table(table),
            expressions=[
                exp.ColumnDef(this=exp.to_identifier(c, quoted=True), kind=exp.DataType.build(t))
                for c, t in defs
            ],
        )
        create = exp.Create(
            this=schema,
            kind="TABLE",
            properties=exp.Properties(expressions=[exp.TemporaryProperty()]),
        )
        self.tables.con.execute(create.sql("duckdb"))

    def injected(
        self,
        row: Row,
        aggs: Sequence[_Agg],
        metrics: Sequence[int],
        columns: Sequence[str],
        key_cols: Mapping[tuple[int, int], str],
    ) -> tuple[Any, ...]:
        """A row read by Python, as a row of the base table."""
        values = row.values
        assert values is not None
        out: dict[str, Any] = {}
        for mi in metrics:
            for gi, g in enumerate(self.metrics[mi].groups):
                v = values.get(g.field)
                if g.period is not None:
                    key = period_key(v, g.period, self.tz)
                else:
                    key = None if v is None else str(v)
                out[key_cols[(mi, gi)]] = key
        for a in aggs:
            agg = a.agg
            counted = agg.where is None or compile_expr(agg.where)(values) is True
            x = values.get(agg.field) if agg.field is not None else None
            if agg.field is not None and x is None:
                counted = False
            out["a" + a.col] = counted
            if agg.field is None or not counted:
                continue
            if isinstance(x, dt.timedelta):
                us = x // dt.timedelta(microseconds=1)
                if abs(us) >= EXACT:
                    raise _NeedPython(a.metric)
                out["w" + a.col], out["q" + a.col] = float(us), True
            else:
                if isinstance(x, int) and abs(x) >= EXACT:
                    raise _NeedPython(a.metric)
                assert isinstance(x, int | float)
                out["w" + a.col], out["q" + a.col] = float(x), isinstance(x, int)
                out["r" + a.col] = json.dumps(x)
        return (row.line, *(out.get(c) for c in columns))

    def group_query(
        self,
        fi: int,
        table: exp.Expr,
        key_cols: tuple[str, ...],
        aggs: Sequence[_Agg],
        metrics: Sequence[int],
    ) -> None:
        """The groups of `metrics` (which group alike) and their aggregates' values."""
        keys = [_c(k) for k in key_cols]
        cols: list[exp.Expr] = [*keys, _alias(exp.Min(this=_c("line")), "first")]
        names: list[list[str]] = []
        for a in aggs:
            counted = _c("a" + a.col)
            w, q, r = _c("w" + a.col), _c("q" + a.col), _c("r" + a.col)
            mine: list[tuple[str, exp.Expr, exp.Expr]] = [
                ("n", exp.Count(this=exp.Star()), counted)
            ]
            func, duration = a.agg.func, a.agg.type.kind is Kind.DURATION
            if func in ("sum", "mean"):
                # integers add exactly in SQL; numbers with a fraction are added in Python, in
                # file order, as the Python engine adds them
                mine.append(("s", exp.Sum(this=_try_cast(w, "BIGINT")), _and(counted, q)))
                if not duration:
                    mine.append(("b", _fn("bool_and", q), counted))
                    for label, x in (("w", w), ("q", q)):
                        ordered = exp.Order(this=x, expressions=[exp.Ordered(this=_c("line"))])
                        mine.append(("l" + label, exp.ArrayAgg(this=ordered), counted))
            elif func in ("min", "max"):
                line = _c("line") if func == "min" else exp.Neg(this=_c("line"))
                order = _fn(
                    "struct_pack",
                    exp.PropertyEQ(this=exp.to_identifier("v"), expression=w),
                    exp.PropertyEQ(this=exp.to_identifier("l"), expression=line),
                )
                pick = "arg_min" if func == "min" else "arg_max"
                # the value and its JSON spelling from one row (arg_min skips a NULL argument)
                both = _fn(
                    "struct_pack",
                    exp.PropertyEQ(this=exp.to_identifier("w"), expression=w),
                    exp.PropertyEQ(this=exp.to_identifier("r"), expression=r),
                )
                mine.append(("m", _fn(pick, both, order), counted))
            labels = []
            for label, x, where in mine:
                alias = f"{label}{a.col}"
                labels.append(alias)
                filtered = exp.Filter(this=x, expression=exp.Where(this=where))
                cols.append(_alias(filtered, alias, quoted=True))
            names.append(labels)
        query = _select(*cols).from_(table.copy(), copy=False)
        if keys:
            query = query.group_by(*keys, copy=False)
        result = self.tables.con.execute(query.sql("duckdb")).fetchall()
        ranked = self.percentiles(table, key_cols, [a for a in aggs if a.agg.func == "percentile"])
        nkeys = len(keys)
        for row in result:
            if row[nkeys] is None:
                continue  # no group by, and no record: the metric's one result comes later
            key: GroupKey = tuple(row[:nkeys])
            first = (fi, int(row[nkeys]))
            at = nkeys + 1
            values: dict[int, dict[int, Any]] = {mi: {} for mi in metrics}
            for a, labels in zip(aggs, names, strict=True):
                got = dict(zip(labels, row[at : at + len(labels)], strict=True))
                at += len(labels)
                values[a.metric][a.index] = self.value_of(a, got, ranked.get((a.col, key)))
            for mi in metrics:
                groups = self.groups[mi]
                seen, have = groups.get(key, (first, {}))
                groups[key] = (min(seen, first), {**have, **values[mi]})

    @staticmethod
    def value_of(a: _Agg, got: Mapping[str, Any], picked: tuple[Any, Any] | None) -> Any:
        """An aggregate's value in one group, as `csdsl.metrics` computes it."""
        agg, c = a.agg, a.col
        n = int(got["n" + c] or 0)
        duration = agg.type.kind is Kind.DURATION
        if agg.func == "count":
            return n
        if n == 0:
            return empty_value(agg)
        if agg.func in ("sum", "mean"):
            total: Any
            if duration:
                total = dt.timedelta(microseconds=int(got["s" + c]))
            elif got["b" + c]:
                total = int(got["s" + c])
            else:
                total = None
                for x, isint in zip(got["lw" + c], got["lq" + c], strict=True):
                    y = int(x) if isint else x
                    total = y if total is None else total + y
            return total if agg.func == "sum" else total / n
        if agg.func in ("min", "max"):
            first: dict[str, Any] = got["m" + c]
            return _python_value(first["w"], first["r"], duration)
        assert picked is not None
        low, high = picked
        pos, lo, hi = percentile_ranks(n, agg.q or 0.0)
        return interpolate(low, high, pos, lo, hi)

    def percentiles(
        self, table: exp.Expr, key_cols: tuple[str, ...], aggs: Sequence[_Agg]
    ) -> dict[tuple[str, GroupKey], tuple[Any, Any]]:
        """For each percentile and group, the values at the two ranks it interpolates between
        (ties in file order, as Python's stable sort leaves them)."""
        out: dict[tuple[str, GroupKey], tuple[Any, Any]] = {}
        keys = [_c(k) for k in key_cols]
        for a in aggs:
            q = a.agg.q or 0.0
            w, r = _c("w" + a.col), _c("r" + a.col)
            order = exp.Order(expressions=[exp.Ordered(this=w), exp.Ordered(this=_c("line"))])
            rank = exp.Window(this=exp.RowNumber(), partition_by=keys, order=order)
            count = exp.Window(this=exp.Count(this=exp.Star()), partition_by=keys)
            inner = (
                _select(
                    *keys,
                    w,
                    r,
                    _alias(_bin(exp.Sub, rank, _i(1)), "rk"),
                    _alias(count, "cnt"),
                )
                .from_(table.copy(), copy=False)
                .where(_c("a" + a.col), copy=False)
            )
            # the position exactly as `percentile_ranks` computes it: (n - 1) * q / 100
            pos = _bin(
                exp.Div,
                _bin(exp.Mul, _cast(_bin(exp.Sub, _c("cnt"), _i(1)), "DOUBLE"), _d(q)),
                _d(100),
            )
            outer = (
                _select(*keys, w, r, _c("rk"), _c("cnt"))
                .from_(
                    exp.Subquery(this=inner, alias=exp.TableAlias(this=exp.to_identifier("ranked")))
                )
                .where(
                    _or(
                        _bin(exp.EQ, _c("rk"), _fn("floor", pos)),
                        _bin(exp.EQ, _c("rk"), _fn("ceil", pos)),
                    )
                )
            )
            picked: dict[GroupKey, dict[int, Any]] = {}
            counts: dict[GroupKey, int] = {}
            duration = a.agg.type.kind is Kind.DURATION
            for row in self.tables.con.execute(outer.sql("duckdb")).fetchall():
                key: GroupKey = tuple(row[: len(keys)])
                w_v, r_v, rk, cnt = row[len(keys) :]
                picked.setdefault(key, {})[int(rk)] = _python_value(w_v, r_v, duration)
                counts[key] = int(cnt)
            for key, by_rank in picked.items():
                _, lo, hi = percentile_ranks(counts[key], q)
                out[(a.col, key)] = (by_rank[lo], by_rank[hi])
        return out


def _python_value(w: Any, r: str | None, duration: bool) -> Any:
    """A value of the base table as Python holds it: a duration, an int or float by its JSON
    spelling, or an int."""
    if duration:
        return dt.timedelta(microseconds=round(w))
    if r is not None:
        return json.loads(r)
    return int(w)

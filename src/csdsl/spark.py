"""The Spark engine (`--engine spark`): validity verdicts and metrics computed on Apache Spark.

In: a loaded `csdsl.api.Policy`, a `SparkSession` (`spark_session`: `local[*]` by default, a
master URL, or Spark Connect through `SPARK_REMOTE`) and records: JSONL (`.jsonl`, `.ndjson`),
CSV with a header row (`.csv`), Parquet (`.parquet`), a JSON array (`.json`), or a table already
in the catalog (`table:db.name`); optionally a `Window` (as `csdsl.engine_rows.in_window`).
Out: `SparkEngine.validate_file` yields one `csdsl.engine_rows.DuckVerdict` per row in line
order, and `SparkEngine.measure_files` the `MetricResult`s with the bad rows, as
`csdsl.duck.DuckEngine` does: the audit plugs either engine in the same way.

Meaning: the Python engine's.  Where the work is done:

- **Typing, on the executors.**  Spark reads the file as lines, numbers them (each block's
  first line from a per-block count, so no sort of the file), and `mapInArrow` runs the Python
  `RecordReader` of the record type on every line: the row's typed values, or its `RowError`
  with the same code, message and line number as the Python engine gives (it is the same
  code).  A CSV line with an odd number of quotes (a quoted cell spanning lines), a line
  Spark decoded with a replacement character (maybe not UTF-8), a `.json` array and standard
  input are read by the Python reader on the driver instead, whole; its rows are then sent to
  Spark, so the SQL below is the same.  Parquet rows and catalog tables become JSON objects
  (`to_json`; timestamps as UTC ISO text), numbered from 1 in the order Spark reads them.
- **Validity and KPIs, in Spark SQL**: the views of `compile_sql(policy, dialect="spark")`
  over the typed rows (each view made a temporary view), with the session's time zone UTC and
  ANSI mode on.  Evidence is the values each matched condition read, as JSON, written per row
  by the typing step.  A metric's parts come from its view; `csdsl.metrics.metric_result`
  does the arithmetic and the threshold comparison, as for every engine.
- **Not here**: deadlines, escalations, record-level rules, transcripts and the metrics that
  count a verdict, a condition or a clock run in the audit's Python pass, as for the DuckDB
  engine (they need a file the Python reader reads: `.jsonl`, `.json` or `.csv`).

A policy `compile_sql` cannot translate (`SqlUnsupported`) or with a field named `id` is judged
by the Python reader and interpreter on the driver, and `SparkEngine.problem` says why.
Limits: a `sum`, `min` or `max` of a `number` field whose values are all whole comes back as a
float (`7.0` where Python keeps `7`), and a `sum`/`mean` of fractions adds in Spark's order.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from csdsl import ir
from csdsl.codegen.sql import SqlUnsupported, compile_sql
from csdsl.engine_rows import DuckVerdict, Window, in_window, json_of, people_of
from csdsl.interpreter import Validator
from csdsl.metrics import MetricEngine, MetricResult, metric_result
from csdsl.records import InputError, RecordReader, Row, RowError, json_value

if TYPE_CHECKING:
    from csdsl.api import Policy

Kind = ir.Kind
MISSING = "--engine spark needs the spark extra: pip install 'csdsl[spark]'"
TABLE_PREFIX = "table:"
_US = dt.timedelta(microseconds=1)
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_INTERNAL = ("#line", "#rid", "#values", "#code", "#message", "#field")
_SPARK_SUFFIXES = (".jsonl", ".ndjson", ".csv", ".parquet")
PAGE = 200_000  # lines fetched to the driver at a time


class SparkUnavailable(Exception):
    """pyspark is not installed, or no Java runtime to start Spark with."""


_SESSIONS: dict[str, Any] = {}


def spark_session(master: str | None = None) -> Any:
    """The run's `SparkSession` (one per master, reused): `master` (default `local[*]`), or,
    without one and with `SPARK_REMOTE` set, Spark Connect at that address.  Session time
    zone UTC, ANSI mode, no UI.  Raises `SparkUnavailable` without pyspark or Java."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise SparkUnavailable(MISSING) from None
    remote = os.environ.get("SPARK_REMOTE") if master is None else None
    key = f"remote:{remote}" if remote else master or "local[*]"
    if key in _SESSIONS:
        return _SESSIONS[key]
    if not remote and not (shutil.which("java") or os.environ.get("JAVA_HOME")):
        raise SparkUnavailable(MISSING + " (and a Java runtime, 17 or later)")
    builder: Any = SparkSession.builder.appName("csdsl")
    builder = builder.remote(remote) if remote else builder.master(key)
    for k, v in {
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.ansi.enabled": "true",
        "spark.ui.enabled": "false",
        "spark.sql.shuffle.partitions": "8",
        "spark.ui.showConsoleProgress": "false",
    }.items():
        builder = builder.config(k, v)
    try:
        session = builder.getOrCreate()
    except Exception as exc:  # the JVM did not start, the server is not there
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise SparkUnavailable(f"cannot start Spark ({key}): {first}") from None
    if not remote:
        session.sparkContext.setLogLevel("ERROR")  # the report says what matters
    _SESSIONS[key] = session
    return session


# ---- typing rows: the same code on the executors and on the driver ----------------------------


def _spark_type(kind: Kind) -> Any:
    from pyspark.sql import types as T

    return {
        Kind.BOOL: T.BooleanType(),
        Kind.INT: T.LongType(),
        Kind.NUMBER: T.DoubleType(),
        Kind.TEXT: T.StringType(),
        Kind.ENUM: T.StringType(),
        Kind.DATE: T.DateType(),
        Kind.DATETIME: T.TimestampType(),
        Kind.DURATION: T.LongType(),
    }[kind]


def _schema(record: ir.Record) -> Any:
    from pyspark.sql import types as T

    fields = [
        T.StructField("#line", T.LongType(), False),
        T.StructField("#rid", T.StringType()),
        T.StructField("#values", T.StringType()),
        T.StructField("#code", T.StringType()),
        T.StructField("#message", T.StringType()),
        T.StructField("#field", T.StringType()),
        T.StructField("id", T.LongType(), False),  # the line: the views pass it through
    ]
    fields += [T.StructField(f.name, _spark_type(f.type.kind)) for f in record.fields]
    return T.StructType(fields)


def _arrow_types(record: ir.Record) -> list[Any]:
    import pyarrow as pa

    kinds = {
        Kind.BOOL: pa.bool_(),
        Kind.INT: pa.int64(),
        Kind.NUMBER: pa.float64(),
        Kind.TEXT: pa.string(),
        Kind.ENUM: pa.string(),
        Kind.DATE: pa.date32(),
        Kind.DATETIME: pa.timestamp("us", tz="UTC"),
        Kind.DURATION: pa.int64(),
    }
    return [pa.int64(), *(pa.string() for _ in range(5)), pa.int64()] + [
        kinds[f.type.kind] for f in record.fields
    ]


def _cell(value: Any, kind: Kind) -> Any:
    if value is None:
        return None
    if kind is Kind.DURATION:
        return value // _US
    if kind is Kind.DATETIME:
        return value.astimezone(dt.UTC)
    if kind is Kind.NUMBER:
        return float(value)
    return value


def typed_batch(record: ir.Record, tz: dt.tzinfo, rows: Iterable[Row]) -> Any:
    """An Arrow record batch of rows read by the Python reader, in the columns of `_schema`."""
    import pyarrow as pa

    cols: list[list[Any]] = [[] for _ in range(7 + len(record.fields))]
    for row in rows:
        cols[0].append(row.line)
        cols[1].append(json.dumps(json_value(row.id)) if row.id is not None else None)
        cols[6].append(row.line)
        if row.values is None:
            err = row.error or RowError("R001", "not read")
            cols[2].append(None)
            cols[3].append(err.code)
            cols[4].append(err.message)
            cols[5].append(err.field)
            for i in range(len(record.fields)):
                cols[7 + i].append(None)
            continue
        values = {f.name: json_of(row.values.get(f.name), tz) for f in record.fields}
        cols[2].append(json.dumps(values, ensure_ascii=False))
        for i in (3, 4, 5):
            cols[i].append(None)
        for i, f in enumerate(record.fields):
            cols[7 + i].append(_cell(row.values.get(f.name), f.type.kind))
    names = [*_INTERNAL, "id", *(f.name for f in record.fields)]
    arrays = [pa.array(c, type=t) for c, t in zip(cols, _arrow_types(record), strict=True)]
    return pa.RecordBatch.from_arrays(arrays, names=names)


def _line_reader(
    record: ir.Record, tz: dt.tzinfo, header: str | None
) -> Callable[[Iterator[Any]], Iterator[Any]]:
    """The function `mapInArrow` runs: batches of (line, text) in, typed batches out."""

    def run(batches: Iterator[Any]) -> Iterator[Any]:
        reader = RecordReader(record, tz)
        for batch in batches:
            lines = batch.column(0).to_pylist()
            texts = batch.column(1).to_pylist()
            rows: list[Row] = []
            if lines and lines[0] > 1 and lines[-1] - lines[0] == len(lines) - 1:
                # consecutive lines (the usual batch): one call of the reader, renumbered
                if header is not None:
                    found = reader.read_csv_lines([header + "\n", *(t + "\n" for t in texts)])
                    shift = lines[0] - 2
                else:
                    found = reader.read_jsonl_lines([t + "\n" for t in texts])
                    shift = lines[0] - 1
                rows = [attrs.evolve(r, line=r.line + shift) for r in found]
                yield typed_batch(record, tz, rows)
                continue
            for n, text in zip(lines, texts, strict=True):
                if n == 1 and text.startswith("\ufeff"):
                    text = text[1:]  # the reader opens files as utf-8-sig
                if header is not None:
                    if n == 1:
                        continue
                    one = list(reader.read_csv_lines([header + "\n", text + "\n"]))
                else:
                    one = list(reader.read_jsonl_lines([text + "\n"]))
                rows += [attrs.evolve(r, line=n) for r in one]
            yield typed_batch(record, tz, rows)

    return run


# ---- the engine -----------------------------------------------------------------------------


@attrs.define
class _Loaded:
    view: str  # every row, typed or with its error
    key: tuple[Any, ...]
    frame: Any  # the cached DataFrame behind the view


class SparkEngine:
    """Validity and metrics of one policy on Spark (see the module's docstring)."""

    def __init__(self, policy: Policy, spark: Any) -> None:
        self.policy = policy
        self.spark = spark
        self.tz: dt.tzinfo = policy.tz
        self.driver_reads: list[str] = []  # inputs the Python reader read on the driver
        self._loaded: dict[tuple[str, str], _Loaded] = {}
        self._counter = 0
        self._token = f"csdsl_{id(self):x}"
        self.problem: str | None = None
        self.statements: list[str] = []
        p = policy.ir
        if any(r.field("id") is not None for r in p.records):
            self.problem = "a record type has a field named `id`"
            return
        tables = {r.name: self._good(r.name) for r in p.records}
        try:
            script = compile_sql(policy, "spark", tables, clocks=False)  # clocks: the Python pass
        except SqlUnsupported as exc:
            self.problem = str(exc)
            return
        for st in re.split(r";\n(?:\n|$)", script):
            body = "\n".join(ln for ln in st.splitlines() if not ln.startswith("--")).strip()
            if body:
                self.statements.append(
                    re.sub(r"^CREATE OR REPLACE VIEW", "CREATE OR REPLACE TEMPORARY VIEW", body)
                )

    def _good(self, record: str) -> str:
        return f"{self._token}_good_{record}"

    def close(self) -> None:
        """Drop this engine's temporary views (the session stays, for the next run)."""
        for loaded in self._loaded.values():
            self._forget(loaded)
        self._loaded.clear()
        for r in self.policy.ir.records:
            self.spark.catalog.dropTempView(self._good(r.name))

    def _forget(self, loaded: _Loaded) -> None:
        self.spark.catalog.dropTempView(loaded.view)
        loaded.frame.unpersist()

    # ---- reading ----------------------------------------------------------------------------
    def _record(self, name: str) -> ir.Record:
        r = self.policy.ir.record(name)
        if r is None:
            raise ValueError(f"the policy has no record `{name}`")
        assert isinstance(r, ir.Record)
        return r

    @staticmethod
    def _signature(path: str) -> tuple[Any, ...]:
        try:
            st = os.stat(path)
        except (OSError, ValueError):
            return (path,)
        return (path, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)

    def load(self, path: str, record: str) -> str:
        """The name of a temporary view of every row of `path` as `record`s: `#line`, `#rid`
        (the id as JSON), `#values` (JSON), `#code`/`#message`/`#field` (a bad row's error),
        `id` (the line) and a column per field.  Cached per unchanged input."""
        rec = self._record(record)
        key = self._signature(path)
        known = self._loaded.get((record, path))
        if known is not None and known.key == key:
            return known.view
        df = self._typed(rec, path)
        self._counter += 1
        view = f"{self._token}_rows_{self._counter}"
        df.persist()
        df.count()  # typed once, here: the queries that read it twice (a join) reuse the cache
        df.createOrReplaceTempView(view)
        if known is not None:
            self._forget(known)
        self._loaded[(record, path)] = _Loaded(view, key, df)
        return view

    def _typed(self, rec: ir.Record, path: str) -> Any:
        from pyspark.sql import functions as F

        schema = _schema(rec)
        if path.startswith(TABLE_PREFIX):
            source = self.spark.table(path[len(TABLE_PREFIX) :])
            return self._as_json_lines(source, rec, schema)
        suffix = Path(path).suffix.lower()
        remote = "://" in path
        if path == "-" or suffix not in _SPARK_SUFFIXES or not (remote or Path(path).is_file()):
            return self._on_driver(rec, path, schema)
        if suffix == ".parquet":
            return self._as_json_lines(self.spark.read.parquet(path), rec, schema)
        # a line Spark decoded with a replacement character (not UTF-8?), or, in a CSV file,
        # with an odd number of quotes (a cell spanning lines): the Python reader's, whole
        suspect = F.col("value").contains("\ufffd")
        if suffix == ".csv":
            suspect = suspect | (F.size(F.split(F.col("value"), '"', -1)) % 2 == 0)
        lines, suspects = self._numbered(self.spark.read.text(path), suspect)
        if suspects:
            return self._on_driver(rec, path, schema)
        header: str | None = None
        if suffix == ".csv":
            first = lines.where(F.col("line") == 1).select("text").collect()
            header = first[0][0].removeprefix("\ufeff") if first else None
            if header is None or not header.strip():
                return self._on_driver(rec, path, schema)
            list(
                RecordReader(rec, self.tz).read_csv_lines(iter([header + "\n"]), path)
            )  # its InputError
        return lines.mapInArrow(_line_reader(rec, self.tz, header), schema)

    def _numbered(self, text: Any, suspect: Any = None) -> tuple[Any, int]:
        """(line, text) of a text DataFrame (column `value`), lines numbered from 1 in file
        order, and how many lines the column expression `suspect` holds for (same pass)."""
        from pyspark.sql import Window as W, functions as F

        flag = F.when(suspect, 1).otherwise(0) if suspect is not None else F.lit(0)
        df = text.select(
            F.col("value").alias("text"),
            F.input_file_block_start().alias("b"),
            F.monotonically_increasing_id().alias("m"),
            flag.alias("s"),
        )
        blocks = (
            df.groupBy("b")
            .agg(
                F.count("*").alias("n"),
                F.min("m").alias("lo"),
                F.max("m").alias("hi"),
                F.sum("s").alias("s"),
            )
            .orderBy("b")
            .collect()
        )
        suspects = sum(int(r["s"] or 0) for r in blocks)
        df = df.drop("s")
        if all(r["hi"] - r["lo"] + 1 == r["n"] for r in blocks):
            # one block a partition: a row's place in its block is its id's distance from
            # the block's first
            firsts, total = [], 0
            for r in blocks:
                firsts.append((r["b"], total - r["lo"] + 1))
                total += r["n"]
            shift = self.spark.createDataFrame(firsts, "b bigint, shift bigint")
            numbered = df.join(F.broadcast(shift), "b").select(
                (F.col("m") + F.col("shift")).alias("line"), "text"
            )
            return numbered, suspects
        order = W.orderBy("b", "m")
        line = F.row_number().over(order).cast("bigint").alias("line")
        return df.select(line, "text"), suspects

    def _as_json_lines(self, source: Any, rec: ir.Record, schema: Any) -> Any:
        from pyspark.sql import functions as F

        text = source.select(F.to_json(F.struct(*source.columns)).alias("value"))
        lines, _ = self._numbered(text)
        return lines.mapInArrow(_line_reader(rec, self.tz, None), schema)

    def _on_driver(self, rec: ir.Record, path: str, schema: Any) -> Any:
        """Rows the Python reader reads on the driver (raises its `InputError`), sent to Spark."""
        self.driver_reads.append(path)
        reader = self.policy.reader(rec.name)
        batch = typed_batch(rec, self.tz, reader.read(path))
        import pyarrow as pa

        table = pa.Table.from_batches([batch])
        return self.spark.createDataFrame(table.to_pylist(), schema)

    # ---- windows ------------------------------------------------------------------------------
    def _window_sql(self, rec: ir.Record, window: Window | None) -> str:
        if window is None:
            return "TRUE"
        name, start, end = window
        f = rec.field(name)
        if f is None:
            return "TRUE"
        col = f"`{name}`"
        parts = [f"{col} IS NOT NULL"]
        for bound, op in ((start, ">="), (end, "<")):
            if bound is None:
                continue
            if f.type.kind is Kind.DATETIME:
                aware = bound if bound.tzinfo is not None else bound.replace(tzinfo=self.tz)
                us = (aware - _EPOCH) // _US
                parts.append(f"{col} {op} timestamp_micros({us})")
            elif f.type.kind is Kind.DATE:
                local = bound.astimezone(self.tz) if bound.tzinfo is not None else bound
                day = local.date() + dt.timedelta(days=local.time() != dt.time(0))
                parts.append(f"{col} {op} DATE '{day.isoformat()}'")
            else:
                raise ValueError(f"the window's field `{name}` is not a date or datetime")
        return " AND ".join(parts)

    def _views(self, record_views: Mapping[str, str], where: Mapping[str, str]) -> None:
        """The good rows of each record type as the compiled views' input tables, then the
        compiled views over them."""
        for r in self.policy.ir.records:
            table = self._good(r.name)
            if r.name in record_views:
                cond = where.get(r.name, "TRUE")
                self.spark.sql(
                    f"CREATE OR REPLACE TEMPORARY VIEW `{table}` AS SELECT * FROM "
                    f"`{record_views[r.name]}` WHERE `#code` IS NULL AND ({cond})"
                )
            else:  # no file for it: no rows (the audit says its metrics are not applicable)
                self.spark.createDataFrame([], _schema(r)).createOrReplaceTempView(table)
        for st in self.statements:
            self.spark.sql(st)

    # ---- validity -----------------------------------------------------------------------------
    def validate_file(
        self,
        path: str | Path,
        record: str | None = None,
        *,
        window: Window | None = None,
        people: Sequence[str] = (),
    ) -> Iterator[DuckVerdict]:
        """Every row of a records input, with its verdict or its error, in line order; rows
        outside `window` are left out, bad rows never are.  A valid row carries its `people`
        fields as `DuckEngine.validate_file` does.  Raises `InputError`."""
        name = self.policy.record_type(record)
        rec = self._record(name)
        validity = self.policy.ir.validity(name)
        assert validity is not None
        where = self._window_sql(rec, window)
        if self.problem is not None:
            yield from self._validate_python(str(path), name, window, people)
            return
        view = self.load(str(path), name)
        self._views({name: view}, {})
        conds = {c.id: c.fields for c in validity.conditions}
        query = (
            f"SELECT r.`#line`, r.`#rid`, r.`#code`, r.`#message`, r.`#field`, "
            f"CASE WHEN v.valid THEN r.`#values` END AS `#values`, v.valid, v.unknown, "
            f"v.matched FROM `{view}` r LEFT JOIN `{name}_validity` v ON v.id = r.id "
            f"WHERE (r.`#code` IS NOT NULL OR ({where}))"
        )
        for r in self._stream(view, query):
            rid = json.loads(r[1]) if r[1] is not None else None
            if r[2] is not None:
                yield DuckVerdict(r[0], rid, None, (), None, RowError(r[2], r[3], r[4]))
                continue
            matched = tuple(r[8] or ())
            evidence = who = None
            if r[6] and matched:
                values = json.loads(r[5])
                evidence = json.dumps(
                    {c: {f: values[f] for f in conds[c]} for c in matched}, ensure_ascii=False
                )
                who = people_of(values, people, self.tz)
            yield DuckVerdict(r[0], rid, bool(r[6]), matched, evidence, None, bool(r[7]), who)

    def _stream(self, view: str, query: str) -> Iterator[tuple[Any, ...]]:
        """The rows of `query` (over `view`, selecting its `#line` first) in line order, fetched
        a page of lines at a time as Arrow (memory stays bounded by the page; no
        `toLocalIterator`, which can stall on a local master)."""
        top = self.spark.sql(f"SELECT max(`#line`) FROM `{view}`").collect()[0][0]
        if top is None:
            return
        for lo in range(1, int(top) + 1, PAGE):
            page = self.spark.sql(
                f"SELECT * FROM ({query}) AS q WHERE q.`#line` >= {lo} AND q.`#line` < "
                f"{lo + PAGE} ORDER BY q.`#line`"
            ).toArrow()
            columns = [page.column(i).to_pylist() for i in range(page.num_columns)]
            yield from zip(*columns, strict=True)

    def _validate_python(
        self, path: str, record: str, window: Window | None, people: Sequence[str] = ()
    ) -> Iterator[DuckVerdict]:
        if path.startswith(TABLE_PREFIX) or Path(path).suffix.lower() == ".parquet":
            raise InputError(
                f"{path}: the policy has no Spark SQL form ({self.problem}), and the Python "
                "reader reads only .jsonl, .json and .csv files"
            )
        validity = self.policy.ir.validity(record)
        assert validity is not None
        validator = Validator(validity)
        for row in self.policy.reader(record).read(path):
            if row.values is None:
                yield DuckVerdict(row.line, row.id, None, (), None, row.error)
                continue
            if not in_window(row.values, window, self.tz):
                continue
            v = validator(row.values, row.id)
            evidence = {
                c.id: {n: json_of(x, self.tz) for n, x in c.values}
                for c in v.conditions
                if c.outcome is True
            }
            text = json.dumps(evidence, ensure_ascii=False) if evidence else None
            who = people_of(row.values, people, self.tz) if v.matched else None
            yield DuckVerdict(row.line, row.id, v.valid, v.matched, text, None, v.unknown, who)

    # ---- counting -----------------------------------------------------------------------------
    def count_in_window(self, path: str | Path, record: str, window: Window) -> int:
        """How many rows of `path` can be read and fall in `window`."""
        rec = self._record(record)
        view = self.load(str(path), record)
        where = self._window_sql(rec, window)
        found = self.spark.sql(
            f"SELECT count(*) FROM `{view}` WHERE `#code` IS NULL AND ({where})"
        ).collect()
        return int(found[0][0])

    def count_rows(self, path: str, record: str) -> int:
        """The rows of an input the readers number, good and bad."""
        view = self.load(path, record)
        return int(self.spark.sql(f"SELECT count(*) FROM `{view}`").collect()[0][0])

    def rows(self, path: str, record: str) -> Iterator[Row]:
        """Every row of an input as Spark typed it, in line order: the Python reader's values
        (read again from their JSON form, which it reads exactly) or its error.  For the
        audit's Python pass over inputs only Spark reads (Parquet, catalog tables)."""
        view = self.load(path, record)
        reader = RecordReader(self._record(record), self.tz)
        query = f"SELECT `#line`, `#rid`, `#values`, `#code`, `#message`, `#field` FROM `{view}`"
        for r in self._stream(view, query):
            rid = json.loads(r[1]) if r[1] is not None else None
            if r[3] is not None:
                yield Row(r[0], rid, None, RowError(r[3], r[4], r[5]))
                continue
            yield Row(r[0], rid, reader.coerce({**json.loads(r[2]), "id": rid})[1])

    # ---- metrics ------------------------------------------------------------------------------
    def measure_files(
        self,
        files: Mapping[str, str | Path],
        *,
        window: Window | None = None,
        judged: bool = True,
    ) -> tuple[list[MetricResult], list[tuple[str, Row]]]:
        """The metrics over record inputs by type, and the bad rows with their input.  Rows
        outside `window` are not counted (a record type without its field is not filtered).
        Metrics that count a verdict, a condition or a clock are left out (the audit computes
        them in its Python pass); `judged` is accepted for `DuckEngine`'s signature."""
        del judged
        metrics = [m for m in self.policy.ir.metrics if not m.judged]
        if self.problem is not None:
            return self._measure_python(files, window, metrics)
        views = {name: self.load(str(p), name) for name, p in files.items()}
        where = {name: self._window_sql(self._record(name), window) for name in files}
        self._views(views, where)
        results: list[MetricResult] = []
        for m in metrics:
            if not set(m.records) & set(files):
                continue
            aggs = ir.aggregates(m.value)
            for r in self.spark.sql(f"SELECT * FROM `{m.name}_metric`").collect():
                key = tuple(r[: len(m.groups)])
                parts = [self._part(a, r[len(m.groups) + i]) for i, a in enumerate(aggs)]
                results.append(metric_result(m, key, parts))
        bad: list[tuple[str, Row]] = []
        for name, p in files.items():
            rows = self.spark.sql(
                f"SELECT `#line`, `#rid`, `#code`, `#message`, `#field` FROM `{views[name]}` "
                "WHERE `#code` IS NOT NULL ORDER BY `#line`"
            ).collect()
            for r in rows:
                rid = json.loads(r[1]) if r[1] is not None else None
                bad.append((str(p), Row(r[0], rid, None, RowError(r[2], r[3], r[4]))))
        return results, bad

    def _part(self, a: ir.Aggregate, value: Any) -> Any:
        if a.func == "count" or value is None:
            return value
        kind = a.type.kind
        if kind is Kind.DURATION:
            return dt.timedelta(microseconds=int(value))
        if kind is Kind.INT and a.func in ("sum", "min", "max"):
            return int(value)
        if kind is Kind.DATETIME and isinstance(value, dt.datetime):
            aware = value.astimezone() if value.tzinfo is None else value
            return aware.astimezone(self.tz)
        return value

    def _measure_python(
        self, files: Mapping[str, str | Path], window: Window | None, metrics: list[ir.Metric]
    ) -> tuple[list[MetricResult], list[tuple[str, Row]]]:
        engine = MetricEngine(metrics, self.tz, self.policy.ir.validities)
        bad: list[tuple[str, Row]] = []
        for name, p in files.items():
            if str(p).startswith(TABLE_PREFIX) or Path(p).suffix.lower() == ".parquet":
                raise InputError(
                    f"{p}: the policy has no Spark SQL form ({self.problem}), and the Python "
                    "reader reads only .jsonl, .json and .csv files"
                )
            rec = self._record(name)
            for row in self.policy.reader(name).read(str(p)):
                if row.values is None:
                    bad.append((str(p), row))
                elif rec.field(window[0] if window else "") is None or in_window(
                    row.values, window, self.tz
                ):
                    engine.feed(name, row.values, None)
        return engine.results(), bad

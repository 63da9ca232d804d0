"""The DuckDB engine (`--engine duckdb`): validity verdicts and metrics computed in SQL.

In: a loaded `csdsl.api.Policy` and record files: JSONL (`.jsonl`, `.ndjson`), a JSON array
(`.json`), CSV with a header row (`.csv`) or Parquet (`.parquet`); optionally a `Window`, a
(field, start, end) that keeps only the rows whose date or datetime field falls in [start, end)
(`in_window` says what that means; bad rows are reported whatever the window).
Out: `DuckEngine.validate_file` yields one `DuckVerdict` per row, in line order (line, id,
valid, matched condition ids, the values each matched condition read, or the row's `RowError`);
`DuckEngine.measure_files` returns the `MetricResult`s and the bad rows, with their file.

Here: the engine (its connection, the validity pass row by row, Parquet rows, counts).  Its
parts: `duck_scan` (the byte pre-scan), `duck_tables` (how a file is read, its typed table and
the rows Python read), `duck_plan` (the SQL of typed rows), `duck_types` (typing raw values in
SQL), `duck_judge` (conditions, evidence and windows in SQL), `duck_metrics` (metrics in SQL).

Meaning: exactly the Python engine's (`Policy.validate_file`, `Policy.measure_files`): the same
rows, line numbers, ids, verdicts, error codes and messages, metric values (ints stay ints),
groups and their order.  SQL is only a faster way to the same answers; where it cannot be sure,
Python decides.  `evidence_of` gives the same evidence JSON for the interpreter's `Verdict`.

Reading.  A Python pre-scan sends to the Python reader, whole, a file with a lone carriage return
(Python starts a line there), a NUL byte or a line over 2 MB (DuckDB reads none); a `.json` array
(no line numbers in SQL), standard input, a missing file or an unknown suffix; a CSV whose header
is not exactly its first line, or whose quoted cell spans lines.  The same scan finds, in bytes,
the lines DuckDB would read where Python's `json` or `csv` stops: more than 100 opening brackets
(nesting beyond Python's recursion limit), a run of 1,000 digits (an integer beyond
`sys.get_int_max_str_digits()`), a CSV line longer than the `csv` field limit; each of them goes,
alone, to the Python reader (a false alarm costs only speed).  Otherwise DuckDB reads every
physical line as text (`read_csv` without delimiter or quoting), in parallel and in file order: a
row's place is its line number (`preserve_insertion_order`; numbering the rows in SQL would make
the scan serial).  JSON is parsed once a line (`json_extract` of the whole object and every record
key: the object's compact text must be exactly as long as its record keys' pairs, else its keys are
counted, which catches repeated keys, where DuckDB keeps the first and Python the last).  CSV cells
come from `string_split`.  Each field is typed strictly: JSON types by their spelling; booleans,
numbers, enum names, ISO dates, datetimes (`2024-10-29T09:15[:00[.f]]`, `T` or a space, `Z`,
`±HH:MM` or no offset), durations (seconds, `1d2h3m4s` in that order, `P1DT2H3M4S`) only in the
plainest spellings, checked with regular expressions, then cast (TRY_CAST, never a CAST that could
fail on a row it does not suit: DuckDB may compute a subexpression for every row).  A line SQL is
not certain about goes, alone, to the Python `RecordReader` (`read_jsonl_lines` or
`read_csv_lines` of that one line):
not JSON for Python or DuckDB (trailing commas, `nan`, lone surrogates, a cut line), not an object,
a repeated key, a number beyond 2^53, whitespace around a value, `30m2h`, `pt4h`, fractional
seconds of a duration, a basic-format date, a quoted CSV cell, a wrong cell count, a missing
required field, ...  The reader gives the exact `RowError`, or the values, which the interpreter
judges.  SQL never accepts a value Python would read differently; it only declines.
`engine.fallback_rows` counts the lines Python read.  If DuckDB fails mid-file (not UTF-8), Python
goes on from there and raises the same `InputError`.  Parquet has no Python reader: each row
becomes a JSON object (`to_json`; timestamps with a time zone as UTC ISO text, intervals as
seconds) read as a JSONL line; its line number is its row number, from 1, and a bad row is reported
as its JSON form would be.

The typed rows of the last file read are kept in a DuckDB table (about 150 bytes a row),
with the rows Python read for the lines SQL left to it: `measure_files` after `validate_file`
of the same unchanged file (same path, inode, size, modification and change times) neither
parses it nor calls Python for it again.  `close()` (or `with`) frees them.

Values in SQL: numbers, dates (days), datetimes (UTC microseconds) and durations (microseconds)
are DOUBLE, exact because every integer SQL holds stays below 2^53.  Datetimes are accepted only
inside the stretch of time where the policy's zone keeps one UTC offset (for Asia/Shanghai from
1991-09-16 on, for UTC 1900-2200; for a zone with daylight saving time only the current half
year): there every datetime is an instant at that one offset, as the Python reader makes it
(`values.instant`), and a naive datetime is its wall clock less that offset (computed here, not
by DuckDB's ICU).  Each arithmetic step that could leave exact ground adds a guard: an integer
result of 2^53 or more (a difference of datetimes too), a datetime outside that stretch, a
duration scaled or divided by a number of the record that is not whole (Python rounds
`timedelta * float` exactly; a constant factor is rounded exactly in SQL, with HUGEINT); a row
whose guard trips is read again and judged by Python.  The translation is the SQL backend's one
(`csdsl.sql.exprs.SqlExprs`, with the `csdsl.sql.dialects.Doubles` dialect of these columns),
and these guards its `guards`.  Division by zero and non-finite results are missing, as in the
interpreter; `and`/`or`/`not`, `in` and comparisons are SQL's three-valued logic, which is the
interpreter's; `contains` is a substring test on both sides.  Constant subexpressions are
computed by the interpreter before translation.  A condition that still cannot be translated (a
datetime literal outside that stretch, an integer literal beyond 2^53, a scaling factor with a
huge denominator) makes the whole validity block run in Python; `validity_sql` raises
`ValueError` for it.

Metrics: per file, SQL computes each metric's groups (text, enum, bool, int and date fields;
day, ISO week or month of a date or datetime in the policy's zone) and each aggregate's parts
over the rows SQL typed and, added to the same query, the rows Python read: counts, exact
integer sums, numbers with a fraction handed to Python in file order (Python adds them one by
one, and so does this), the first minimum or maximum with its JSON spelling (an int stays an
int), and for a percentile the two values at its interpolation ranks (ties in file order, as a
stable sort leaves them).  `csdsl.metrics.metric_result` does the arithmetic between aggregates
and the threshold comparison.  Metrics grouped by a number, a duration or a datetime without a
period, or whose `where` cannot be translated, are computed by the Python `MetricEngine` over
the files.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
from sqlglot import exp

from csdsl.duck_judge import Judging, Mask
from csdsl.duck_metrics import Measure
from csdsl.duck_plan import parquet_lines, typed_rows, with_ctes
from csdsl.duck_tables import BATCH, DuckTables
from csdsl.duck_types import Source, Typer
from csdsl.engine_rows import DuckVerdict, Window, evidence_of, in_window, people_of
from csdsl.interpreter import Validator
from csdsl.metrics import MetricResult
from csdsl.records import InputError, Row
from csdsl.sql.build import (
    alias as _alias,
    and_ as _and,
    binary as _bin,
    case as _case,
    column as _c,
    fn as _fn,
    integer as _i,
    is_true as _is_true,
    not_ as _not,
    or_ as _or,
    select as _select,
    string as _s,
    table as _table,
    typed_null as _null,
)
from csdsl.sql.zones import zone_span as _zone

if TYPE_CHECKING:
    from csdsl.api import Policy


class DuckEngine:
    """Validity and metrics of a policy over record files, in DuckDB (see the module doc)."""

    def __init__(
        self, policy: Policy, *, threads: int | None = None, memory_limit: str = "768MB"
    ) -> None:
        self.policy = policy
        self.tz = policy.tz
        anchor = policy.ir.effective or dt.date.today()
        self.zone = _zone(self.tz, anchor)
        config: dict[str, str | bool | int | float | list[str]] = {
            "memory_limit": memory_limit,
            "temp_directory": str(Path(tempfile.gettempdir()) / "csdsl-duckdb"),
            "preserve_insertion_order": True,  # results in file order: a row's place is its line
            "autoinstall_known_extensions": False,  # never the network
            "autoload_known_extensions": False,
        }
        if threads is not None:
            config["threads"] = threads
        self.con = duckdb.connect(":memory:", config=config)
        # DuckDB's own bar would print on the terminal mid-report; the audit has its own
        self.con.execute("SET enable_progress_bar = false")
        try:  # naive timestamps DuckDB shows are in the policy's zone (ICU is built in)
            self.con.execute("LOAD icu")
            self.con.execute("SET TimeZone = " + _s(policy.ir.timezone).sql("duckdb"))
        except duckdb.Error:  # without ICU nothing here depends on the session's zone
            pass
        self.tables = DuckTables(self.con, policy, Typer(self.zone))
        self.judging = Judging(policy, self.zone)

    @property
    def fallback_rows(self) -> int:
        """How many lines the Python reader read (see the module doc)."""
        return self.tables.fallback_rows

    def close(self) -> None:
        """Close the DuckDB connection (and with it every table it kept)."""
        self.tables.close()

    def _source(self, path: str | Path) -> Source:
        """How the file is read (`DuckTables.source`)."""
        return self.tables.source(Path(path))

    def __enter__(self) -> DuckEngine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- validity -------------------------------------------------------------------------------
    def validity_sql(self, record: str) -> str:
        """The SELECT that judges every line of a JSONL file (`$path`): line, id, one column per
        condition and exception (TRUE/FALSE/NULL) and valid (NULL for a row SQL leaves to the
        Python reader: a bad row, an unusual spelling, an arithmetic guard)."""
        name = self.policy.record_type(record)
        judge = self.judging.judge(name)
        if judge.problem is not None:
            raise ValueError(
                f"the validity block for `{name}` cannot be run in SQL: {judge.problem}"
            )
        ctes, _ = typed_rows(
            self.tables.typer, self.tables.record(name), Source("jsonl"), numbered=True
        )
        judged = self.judging.judged(judge)
        ctes.append(("judged", judged))
        v = judge.validity
        cols: list[exp.Expr] = [
            _c("line"),
            _alias(_fn("coalesce", _c("rid_s"), _c("rid_j")), "id", quoted=True),
        ]
        for c in v.conditions:
            cols.append(_alias(_c("c:" + c.id), c.id, quoted=True))
        for c in v.exceptions:
            cols.append(_alias(_c("x:" + c.id), "unless " + c.id, quoted=True))
        verdict = _case((_and(_c("ok"), _not(_c("unsafe"))), self.judging.valid(v)))
        cols.append(_alias(verdict, "valid", quoted=True))
        final = _select(*cols).from_("judged", copy=False).where(_not(_c("blank")), copy=False)
        return with_ctes(ctes, final).sql("duckdb", pretty=True)

    def validate_file(
        self,
        path: str | Path,
        record: str | None = None,
        *,
        window: Window | None = None,
        people: Sequence[str] = (),
    ) -> Iterator[DuckVerdict]:
        """Every row of a records file, with its verdict or its error, in line order.  Rows
        outside `window` are left out; bad rows never are.  A valid row carries the values of
        its `people` fields (declared fields of the record: who handled it) as `people_json`.
        Raises `InputError`."""
        name = self.policy.record_type(record)
        rec = self.tables.record(name)
        judge = self.judging.judge(name)
        p = Path(path)
        source = self._source(p)
        validator = Validator(judge.validity)
        in_sql = self.judging.window(rec, window)  # a field that is no date or datetime: ValueError
        if source.mode == "python" or judge.problem is not None:
            yield from self._validate_python(str(path), name, validator, window, 0, people)
            return
        try:
            loaded = self.tables.load(rec, p, source)
        except duckdb.Error:  # e.g. not UTF-8: Python reads the file and raises what it raises
            yield from self._validate_python(str(path), name, validator, window, 0, people)
            return
        v = judge.validity
        judged = self.judging.judged(judge, loaded.table)
        # lines SQL typed whose arithmetic a guard sends to Python
        guarded = _select(_bin(exp.Add, exp.column("rowid"), _i(1))).from_(
            _table(loaded.table), copy=False
        )
        guarded = guarded.where(_and(_c("ok"), judge.unsafe), copy=False)
        unsafe = (
            [n for (n,) in self.con.execute(guarded.sql("duckdb")).fetchall()]
            if judge.unsafe != exp.false()
            else []
        )
        python = {**loaded.python, **self.tables.reread(loaded, rec, p, unsafe)}
        sql_ok = _and(_c("ok"), _not(_c("unsafe")))
        bits = [
            _case(
                (_is_true(_c("c:" + c.id)), _s("1")),
                (exp.Is(this=_c("c:" + c.id), expression=exp.Null()), _s("?")),
                default=_s("0"),
            )
            for c in v.conditions
        ]
        bits += [_case((_is_true(_c("x:" + c.id)), _s("1")), default=_s("0")) for c in v.exceptions]
        matched = [_is_true(_c("c:" + c.id)) for c in v.conditions]
        # one row a line, in file order, its `mask` saying what to do: NULL skip it (empty,
        # outside the window, a CSV header), `P` read by Python, else the outcomes judged in SQL
        # (`1` or `0` for each condition, then each exception)
        skip = _or(_c("blank"), _bin(exp.LT, exp.column("rowid"), _i(loaded.first)))
        ok = _and(_not(skip), sql_ok, in_sql)
        evidence = self.judging.evidence(judge, loaded.typed) if matched else _null("VARCHAR")
        who = self.judging.people(people, loaded.typed) if matched and people else _null("VARCHAR")
        final = _select(
            _alias(
                _case(
                    (skip, _null("VARCHAR")),
                    (_not(sql_ok), _s("P")),
                    (in_sql, _fn("concat", *bits)),
                ),
                "mask",
            ),
            _alias(_case((ok, _c("rid_s"))), "rid_s"),
            _alias(_case((ok, _c("rid_j"))), "rid_j"),
            _alias(
                _case((_and(ok, _or(*matched) if matched else exp.false()), evidence)), "evidence"
            ),
            _alias(_case((_and(ok, _or(*matched) if matched else exp.false()), who)), "who"),
        ).from_("judged", copy=False)
        sql = with_ctes([("judged", judged)], final).sql("duckdb")
        masks = Mask(v)
        cache = masks.cache
        line = 0
        new = DuckVerdict
        self.tables.hold(loaded.table)
        try:
            cur = self.con.execute(sql)
            while batch := cur.fetchmany(BATCH):
                for mask, rid_s, rid_j, evidence_json, who_json in batch:
                    line += 1
                    if mask is None:
                        continue
                    hit = cache.get(mask)
                    if hit is not None:
                        rid = rid_s if rid_s is not None else json.loads(rid_j)
                        yield new(line, rid, hit[0], hit[1], evidence_json, None, hit[2], who_json)
                    elif mask == "P":
                        for row in python.get(line, ()):
                            verdict = self._verdict_of(row, validator, window, people)
                            if verdict is not None:
                                yield verdict
                    else:
                        hit = masks(mask)
                        rid = rid_s if rid_s is not None else json.loads(rid_j)
                        yield new(line, rid, hit[0], hit[1], evidence_json, None, hit[2], who_json)
        finally:
            self.tables.release(loaded.table)

    def _verdict_of(
        self, row: Row, validator: Validator, window: Window | None, people: Sequence[str] = ()
    ) -> DuckVerdict | None:
        if row.values is None:
            return DuckVerdict(row.line, row.id, None, (), None, row.error)
        if not in_window(row.values, window, self.tz):
            return None
        verdict = validator(row.values, row.id)
        evidence = evidence_of(verdict, self.tz)
        text = json.dumps(evidence, ensure_ascii=False) if evidence else None
        who = people_of(row.values, people, self.tz) if verdict.matched else None
        return DuckVerdict(
            row.line, row.id, verdict.valid, verdict.matched, text, None, verdict.unknown, who
        )

    def _validate_python(
        self,
        path: str,
        record: str,
        validator: Validator,
        window: Window | None,
        after: int,
        people: Sequence[str] = (),
    ) -> Iterator[DuckVerdict]:
        for row in self.policy.reader(record).read(path):
            if row.line <= after:
                continue
            self.tables.fallback_rows += 1
            verdict = self._verdict_of(row, validator, window, people)
            if verdict is not None:
                yield verdict

    # ---- counting -------------------------------------------------------------------------------
    def rows(self, path: str | Path, record: str) -> Iterator[Row]:
        """Every row of a Parquet file as the Python reader reads its JSON form (each row an
        object, numbered from 1 in file order, as the SQL pass numbers it): the audit's Python
        pass over an input only DuckDB reads.  Raises `InputError` for a file DuckDB cannot
        read as Parquet."""
        source = self._source(path)
        if source.mode != "parquet":
            why = source.reason or "not a Parquet file"
            raise InputError(
                f"{path}: cannot be read as Parquet ({why}); check the file, or export it as "
                ".jsonl or .csv"
            )
        query = parquet_lines(source, numbered=False).sql("duckdb")
        reader = self.policy.reader(record)
        cursor = self.con.cursor()  # its own stream: the engine's connection stays free
        try:
            cursor.execute(query, {"path": str(path)})

            def lines() -> Iterator[str]:
                while batch := cursor.fetchmany(10_000):
                    for (text,) in batch:
                        yield text

            yield from reader.read_jsonl_lines(lines())
        finally:
            cursor.close()

    def count_in_window(self, path: str | Path, record: str, window: Window) -> int:
        """How many rows of a file of `record`s can be read and fall in `window` (as
        `in_window`): e.g. those received before a policy's first version took effect, which
        the audit counts.  The file's table is the one `validate_file` or `measure_files`
        loaded."""
        name = record
        rec = self.tables.record(name)
        in_sql = self.judging.window(rec, window)
        p = Path(path)
        source = self._source(p)
        loaded = None
        if source.mode != "python":
            with contextlib.suppress(duckdb.Error):  # as validate_file: Python reads it
                loaded = self.tables.load(rec, p, source)
        if loaded is None:
            rows: Iterator[Row] = self.policy.reader(name).read(str(path))
            return sum(r.values is not None and in_window(r.values, window, self.tz) for r in rows)
        first = _bin(exp.GTE, exp.column("rowid"), _i(loaded.first))
        query = (
            _select(_alias(exp.Count(this=exp.Star()), "n"))
            .from_(_table(loaded.table), copy=False)
            .where(_and(_c("ok"), _not(_c("blank")), first, in_sql), copy=False)
        )
        found = self.con.execute(query.sql("duckdb")).fetchone()
        n = int(found[0]) if found else 0
        return n + sum(
            r.values is not None and in_window(r.values, window, self.tz)
            for rows in loaded.python.values()
            for r in rows
        )

    # ---- metrics --------------------------------------------------------------------------------
    def measure_files(
        self,
        files: Mapping[str, str | Path],
        *,
        window: Window | None = None,
        judged: bool = True,
    ) -> tuple[list[MetricResult], list[tuple[str, Row]]]:
        """Every metric over record files by type (as `Policy.measure_files`), and the rows that
        could not be read, with their file.  Rows outside `window` are not counted (a record
        type without the window's field is not filtered).  A metric that counts a verdict, a
        condition or a clock (`ir.Metric.judged`) is computed in Python, as the interpreter
        does (one counting a clock is not applicable: no event log here); with `judged=False`
        it is left out, for a caller that computes it from its own timelines (the audit).
        Raises `InputError`."""
        return Measure(self.tables, self.judging, files, window, judged).run()

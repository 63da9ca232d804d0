"""The DuckDB engine (`--engine duckdb`): validity verdicts and metrics computed in SQL.

In: a loaded `csdsl.api.Policy` and record files: JSONL (`.jsonl`, `.ndjson`), a JSON array
(`.json`), CSV with a header row (`.csv`) or Parquet (`.parquet`); optionally a `Window`, a
(field, start, end) that keeps only the rows whose date or datetime field falls in [start, end)
(`in_window` says what that means; bad rows are reported whatever the window).
Out: `DuckEngine.validate_file` yields one `DuckVerdict` per row, in line order (line, id,
valid, matched condition ids, the values each matched condition read, or the row's `RowError`);
`DuckEngine.measure_files` returns the `MetricResult`s and the bad rows, with their file.

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
import csv
import datetime as dt
import json
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs
import duckdb
from sqlglot import exp

from csdsl import ir
from csdsl.interpreter import Validator
from csdsl.metrics import (
    MetricResult,
)
from csdsl.records import InputError, RecordReader, Row
from csdsl.sql.build import (
    alias as _alias,
    and_ as _and,
    binary as _bin,
    boolean as _bool,
    case as _case,
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
)
from csdsl.sql.dialects import Doubles
from csdsl.sql.exprs import SqlExprs, SqlUnsupported
from csdsl.sql.zones import zone_span as _zone

if TYPE_CHECKING:
    from csdsl.api import Policy

from csdsl.duck_scan import csv_line_closed, prescan
from csdsl.duck_types import (
    BLANK,
    LENIENT_JSON,
    TRAILING_COMMA,
    VISIBLE,
    Source,
    TypedFields,
    Typer,
    json_number,
    json_pointer,
    json_text,
    value_col,
)
from csdsl.engine_rows import (
    DuckVerdict,
    Window,
    evidence_of,
    first_day as _first_day,
    in_window,
    instant_us as _instant_us,
    people_of,
)
from csdsl.sql.build import (
    US,
    abs_ as _abs,
    below_exact as _below_exact,
    cast as _cast,
    finite as _finite,
    in_list as _in,
    regexp as _rx,
    typed_null as _null,
)

Kind = ir.Kind

_EPOCH_DATE = dt.date(1970, 1, 1)
_BATCH = 32768


class _Mask:
    """What a mask of outcomes means: per condition `1` true, `0` false, `?` unknown; then per
    exception `1` or `0`.  Gives (valid, matched, unknown) as `Verdict` has them."""

    def __init__(self, validity: ir.Validity) -> None:
        self.ids = [c.id for c in validity.conditions]
        self.n = len(self.ids)
        self.all = validity.quantifier == "all"
        self.cache: dict[str, tuple[bool, tuple[str, ...], bool]] = {}

    def __call__(self, mask: str) -> tuple[bool, tuple[str, ...], bool]:
        hit = self.cache.get(mask)
        if hit is None:
            matched = tuple(i for i, bit in zip(self.ids, mask, strict=False) if bit == "1")
            holds = len(matched) == self.n if self.all else bool(matched)
            valid = holds and "1" not in mask[self.n :]
            unknown = not valid and not matched and "?" in mask[: self.n]
            hit = self.cache[mask] = (valid, matched, unknown)
        return hit


@attrs.frozen
class _Loaded:
    """A file loaded: its key (record, path, source, file status), typed table, the rows
    Python read by line, and the first line that holds a record (2 after a CSV header)."""

    key: tuple[Any, ...]
    table: str
    source: Source
    typed: TypedFields
    python: dict[int, list[Row]]
    first: int


@attrs.frozen
class _Judge:
    """A validity block translated: outcome SQL per condition and exception, and the guard."""

    validity: ir.Validity
    conditions: tuple[exp.Expr, ...]
    exceptions: tuple[exp.Expr, ...]
    unsafe: exp.Expr
    problem: str | None  # why it runs in Python instead


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
        self.fallback_rows = 0
        self._typer = Typer(self.zone)
        self._doubles = Doubles(self.zone.lo_us, self.zone.hi_us)
        self._judges: dict[str, _Judge] = {}
        self._counter = 0
        self._loaded: _Loaded | None = None
        self._busy: dict[str, int] = {}  # tables `validate_file` iterators are reading
        self._stale: set[str] = set()  # tables to drop when they are no longer read

    def close(self) -> None:
        """Close the DuckDB connection (and with it every table it kept)."""
        self._loaded = None
        self.con.close()

    def __enter__(self) -> DuckEngine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- plans ----------------------------------------------------------------------------------
    def _sql(self, e: ir.Expr, at: ir.Condition | ir.Aggregate, guards: list[exp.Expr]) -> exp.Expr:
        """A condition or a `where` over the typed columns (`Doubles`), its guards added to
        `guards`.  Raises `SqlUnsupported` for what SQL cannot compute as Python does."""
        clause = f"condition `{at.id}`" if isinstance(at, ir.Condition) else f"`{at.text}`"
        tr = SqlExprs(self.policy, self._doubles, value_col, clause, at.span)
        sql = tr(e)
        guards += tr.guards
        return sql

    def _record(self, name: str) -> ir.Record:
        return self.policy.reader(name).record

    def _judge(self, record: str) -> _Judge:
        if record in self._judges:
            return self._judges[record]
        validity = self.policy.ir.validity(record)
        assert validity is not None
        guards: list[exp.Expr] = []
        problem = None
        try:
            conds = tuple(self._sql(c.expr, c, guards) for c in validity.conditions)
            excs = tuple(self._sql(c.expr, c, guards) for c in validity.exceptions)
        except SqlUnsupported as exc:
            problem = str(exc)
            conds, excs = (), ()
        unsafe = _fn("coalesce", _or(*guards), exp.false()) if guards else exp.false()
        judge = _Judge(validity, conds, excs, unsafe, problem)
        self._judges[record] = judge
        return judge

    def _source(self, path: Path) -> Source:
        suffix = path.suffix.lower()
        if str(path) == "-" or not path.is_file():
            return Source("python", "standard input or not a file")
        if suffix == ".parquet":
            query = _select(exp.Star()).from_(
                _fn("read_parquet", exp.Placeholder(this="path")), copy=False
            )
            try:
                described = self.con.execute(
                    "DESCRIBE " + query.sql("duckdb"), {"path": str(path)}
                ).fetchall()
            except duckdb.Error as exc:
                first = str(exc).strip().splitlines()[0] if str(exc).strip() else "no reason"
                return Source("python", f"unreadable parquet: {first}")
            return Source(
                "parquet", parquet_columns=tuple((str(r[0]), str(r[1])) for r in described)
            )
        if suffix in (".jsonl", ".ndjson", ".csv"):
            try:
                scan = prescan(path, suffix == ".csv")
            except OSError as exc:
                return Source("python", str(exc))
            if scan.why is not None:
                return Source("python", scan.why)
            if suffix != ".csv":
                return Source("jsonl", suspect=scan.suspect)
            if scan.suspect[:1] == (1,):
                return Source("python", "the header row is too long")
            try:
                with path.open(encoding="utf-8-sig", newline="") as handle:
                    first = handle.readline()
                    reader = csv.reader([first])
                    header = next(reader, None)
            except (OSError, UnicodeDecodeError, csv.Error) as exc:
                return Source("python", str(exc))
            if header is None or not header or not csv_line_closed(first.rstrip("\r\n")):
                return Source("python", "the header row is empty or spans lines")
            names = [h.strip() for h in header if h.strip()]
            if len(set(names)) != len(names):  # the Python reader refuses the file, naming it
                return Source("python", "the header names a column twice")
            source = Source(
                "csv",
                header=tuple(h.strip() for h in header),
                header_line=first.rstrip("\r\n"),
                suspect=scan.suspect,
            )
            try:
                closed = not scan.quoted or self._quotes_closed(path)
            except duckdb.Error:  # e.g. not UTF-8: Python reads it, and says what is wrong
                return Source("python", "DuckDB cannot read it")
            return source if closed else Source("python", "a quoted cell spans lines")
        return Source("python", f"`{suffix}` files are read by Python")

    def _quotes_closed(self, path: Path) -> bool:
        lines = (
            _select(_c("l"))
            .from_(self._raw_lines(), copy=False)
            .where(_fn("contains", _c("l"), _s('"')), copy=False)
        )
        cur = self.con.execute(lines.sql("duckdb"), {"path": str(path)})
        while batch := cur.fetchmany(_BATCH):
            if not all(csv_line_closed(text) for (text,) in batch):
                return False
        return True

    @staticmethod
    def _raw_lines(numbered: bool = False) -> exp.Expr:
        """Every physical line (`l`, NULL when empty), in order; `numbered` adds its number
        (`ordinality`), which costs DuckDB its parallelism (the engine counts rows instead)."""
        options = {
            "columns": exp.Struct(
                expressions=[exp.PropertyEQ(this=_s("l"), expression=_s("VARCHAR"))]
            ),
            "delim": _fn("chr", _i(0)),
            "quote": _s(""),
            "escape": _s(""),
            "header": exp.false(),
            "auto_detect": exp.false(),
            "strict_mode": exp.false(),
            "new_line": _s("\\r\\n"),
        }
        args: list[exp.Expr] = [exp.Placeholder(this="path")]
        args += [exp.EQ(this=exp.column(k), expression=v) for k, v in options.items()]
        return exp.Table(this=_fn("read_csv", *args), ordinality=numbered or None)

    def _plan(
        self, record: ir.Record, source: Source, numbered: bool = False
    ) -> tuple[list[tuple[str, exp.Expr]], TypedFields]:
        """The CTEs that turn the file at `$path` into typed rows, one per physical line in
        file order: `typed([line,] blank, l, ok, rid_s, rid_j, v:<field>..., t:<field>...,
        i:<field>...)`; `blank` marks a line Python skips as empty, `ok` a row SQL read exactly
        as the Python reader would.  For CSV the first row is the header."""
        fields = record.fields
        ctes: list[tuple[str, exp.Expr]] = []
        text = source.mode == "csv"
        line = [_alias(_c("ordinality"), "line")] if numbered else []
        if text:
            raw = _select(*line, _c("l")).from_(self._raw_lines(numbered), copy=False)
            x = _case(
                (_not(_fn("contains", _c("l"), _s('"'))), _fn("string_split", _c("l"), _s(",")))
            )
        else:
            if source.mode == "jsonl":
                raw = _select(*line, _c("l")).from_(self._raw_lines(numbered), copy=False)
            else:
                raw = self._parquet_lines(source, numbered)
            keys = ["$", "id", *(f.name for f in fields)]
            paths = exp.Array(expressions=[_s("$" if k == "$" else json_pointer(k)) for k in keys])
            lexical = _and(
                exp.Not(this=_is_null(_c("l"))),
                _not(_fn("contains", _c("l"), _s("\\u0000"))),
                _not(_rx(_c("l"), TRAILING_COMMA)),
            )
            x = _case((lexical, _fn("try", exp.JSONExtract(this=_c("l"), expression=paths))))
        ctes.append(("lines", raw))
        blank = _rx(_fn("coalesce", _c("l"), _s("")), BLANK)
        parsed = _select(
            *([_c("line")] if numbered else []),
            _c("l"),
            _alias(blank, "blank"),
            _alias(_case((_not(_c("blank")), x)), "x", quoted=True),
        )
        ctes.append(("parsed", parsed.from_("lines", copy=False)))
        # primitive columns: each field's JSON (e<n>), text (s<n>), number (d<n>)
        pieces: list[exp.Expr] = [exp.Star()]
        prims: list[exp.Expr] = [exp.Star()]
        if text:
            header = source.header

            def cell(name: str) -> exp.Expr:
                idx = max((i for i, h in enumerate(header) if h == name), default=-1)
                return _null("VARCHAR") if idx < 0 else _fn("list_extract", _c("x"), _i(idx + 1))

            pieces.append(_alias(cell("id"), "s_id", quoted=True))
            for n, f in enumerate(fields, 1):
                pieces.append(_alias(cell(f.name), f"s{n}", quoted=True))
        else:
            names = ["_doc", "_id", *(str(n) for n in range(1, len(fields) + 1))]
            for at, name in enumerate(names, 1):
                # as text: JSON-typed values compare and cast by JSON's rules (`true` = 1.0)
                pieces.append(
                    _alias(_cast(_fn("list_extract", _c("x"), _i(at)), "VARCHAR"), f"e{name}")
                )
            prims.append(_alias(json_text(_c("e_id")), "s_id"))
            prims.append(_alias(json_number(_c("e_id")), "d_id"))
        for n, f in enumerate(fields, 1):
            for name, sql in self._typer.prims(f, n, text):
                prims.append(_alias(sql, name))
        ctes.append(("pieces", _select(*pieces).from_("parsed", copy=False)))
        ctes.append(("prims", _select(*prims).from_("pieces", copy=False)))
        raws: list[exp.Expr] = [exp.Star()]
        for n, f in enumerate(fields, 1):
            raws.append(_alias(self._typer.candidate(f, n, text), f"r{n}"))
        ctes.append(("raws", _select(*raws).from_("prims", copy=False)))
        typed = [(f, self._typer.field(f, n, text)) for n, f in enumerate(fields, 1)]
        values = [exp.Star(), *(_alias(t.value, "v:" + f.name) for f, t in typed)]
        ctes.append(("vals", _select(*values).from_("raws", copy=False)))
        # the id, and the row's shape
        s_id = _c("s_id")
        if text:
            id_ok = _rx(s_id, VISIBLE)
            rid_s, rid_j = s_id, _null("VARCHAR")
            structure = _and(
                exp.Not(this=_is_null(_c("x"))),
                _bin(exp.EQ, _fn("len", _c("x")), _i(len(source.header))),
            )
        else:
            e_id, d_id = _c("e_id"), _c("d_id")
            # text with a visible character, an integer (any size: its digits are exact), or
            # a finite number below 2^53
            id_ok = _or(
                _rx(s_id, VISIBLE),
                _rx(e_id, "^-?[0-9]+$"),
                _and(_finite(d_id), _below_exact(d_id)),
            )
            rid_s = s_id
            rid_j = _case((_is_null(s_id), _cast(e_id, "VARCHAR")))
            structure = self._one_object(["id", *(f.name for f in fields)])
        oks = [_fn("coalesce", t.ok, exp.false()) for _, t in typed]
        ok = _and(
            _fn("coalesce", structure, exp.false()), _fn("coalesce", id_ok, exp.false()), *oks
        )
        cols: list[exp.Expr] = [
            *([_c("line")] if numbered else []),
            _c("blank"),
            _c("l"),
            _alias(ok, "ok", quoted=True),
            _alias(_case((_c("ok"), rid_s)), "rid_s", quoted=True),
            _alias(_case((_c("ok"), rid_j)), "rid_j", quoted=True),
        ]
        tokens = set()
        for f, t in typed:
            cols.append(_c("v:" + f.name))
            if t.token is not None:
                assert t.isint is not None
                tokens.add(f.name)
                cols.append(_alias(t.token, "t:" + f.name, quoted=True))
                cols.append(_alias(t.isint, "i:" + f.name, quoted=True))
        ctes.append(("typed", _select(*cols).from_("vals", copy=False)))
        return ctes, TypedFields(fields, frozenset(tokens))

    @staticmethod
    def _one_object(keys: Sequence[str]) -> exp.Expr:
        """The line is one JSON object with each record key at most once.  Cheap test: the
        object's compact text (`e_doc`) is exactly as long as its record keys' pairs (then it
        has no other key and no repeated one); otherwise count the record keys among all keys."""
        present = [_c("e_id"), *(_c(f"e{n}") for n in range(1, len(keys)))]
        # `{` + each present `"key":value,` (the last comma is the `}`)
        length: exp.Expr = _i(1)
        count: exp.Expr = _i(0)
        for key, e in zip(keys, present, strict=True):
            pair = len(json.dumps(key, ensure_ascii=False).encode()) + 2
            length = _bin(
                exp.Add, length, _fn("coalesce", _bin(exp.Add, _fn("strlen", e), _i(pair)), _i(0))
            )
            count = _bin(exp.Add, count, _cast(exp.Not(this=_is_null(e)), "INTEGER"))
        var = exp.to_identifier("k")
        counted = _fn(
            "len",
            _fn(
                "list_filter",
                _fn("try", _fn("json_keys", _c("l"))),
                exp.Lambda(this=_in(var, [_s(k) for k in keys]), expressions=[var]),
            ),
        )
        return _case(
            (_is_null(_c("x")), exp.false()),
            (_not(_fn("starts_with", _c("e_doc"), _s("{"))), exp.false()),
            (_bin(exp.EQ, _fn("strlen", _c("e_doc")), length), exp.true()),
            default=_and(_bin(exp.EQ, counted, count), _not(_rx(_c("l"), LENIENT_JSON))),
        )

    def _parquet_lines(self, source: Source, numbered: bool) -> exp.Select:
        """Each Parquet row as the text of a JSON object, in order (`numbered`: with its row
        number from 1)."""
        pairs: list[exp.Expr] = []
        for name, sql_type in source.parquet_columns:
            col = exp.column(name, table="p", quoted=True)
            upper = sql_type.upper()
            value: exp.Expr
            if upper.startswith("TIMESTAMP WITH TIME ZONE") or upper == "TIMESTAMPTZ":
                utc = exp.AtTimeZone(this=col, zone=_s("UTC"))
                value = exp.DPipe(
                    this=_fn("strftime", utc, _s("%Y-%m-%dT%H:%M:%S.%f")), expression=_s("Z")
                )
            elif upper == "INTERVAL":  # seconds, unless it counts months
                months = _fn("datepart", _s("month"), col)
                years = _fn("datepart", _s("year"), col)
                fixed = _and(_bin(exp.EQ, months, _i(0)), _bin(exp.EQ, years, _i(0)))
                value = _case(
                    (_is_null(col), _null("JSON")),
                    (fixed, _fn("to_json", _fn("epoch", col))),
                    default=_fn("to_json", _cast(col, "VARCHAR")),
                )
            else:
                value = col
            pairs.append(
                exp.PropertyEQ(this=exp.to_identifier(name, quoted=True), expression=value)
            )
        struct = _fn("struct_pack", *pairs)
        reader = exp.Table(
            this=_fn(
                "read_parquet",
                exp.Placeholder(this="path"),
                exp.EQ(this=exp.column("file_row_number"), expression=_bool(numbered)),
            ),
            alias=exp.TableAlias(this=exp.to_identifier("p")),
        )
        line = _bin(exp.Add, exp.column("file_row_number", table="p"), _i(1))
        return _select(
            *([_alias(line, "line")] if numbered else []),
            _alias(_cast(_fn("to_json", struct), "VARCHAR"), "l"),
        ).from_(reader, copy=False)

    @staticmethod
    def _query(ctes: list[tuple[str, exp.Expr]], final: exp.Select) -> exp.Select:
        for name, body in ctes:
            final = final.with_(name, as_=body, copy=False)
        return final

    # ---- validity -------------------------------------------------------------------------------
    def validity_sql(self, record: str) -> str:
        """The SELECT that judges every line of a JSONL file (`$path`): line, id, one column per
        condition and exception (TRUE/FALSE/NULL) and valid (NULL for a row SQL leaves to the
        Python reader: a bad row, an unusual spelling, an arithmetic guard)."""
        name = self.policy.record_type(record)
        judge = self._judge(name)
        if judge.problem is not None:
            raise ValueError(
                f"the validity block for `{name}` cannot be run in SQL: {judge.problem}"
            )
        ctes, _ = self._plan(self._record(name), Source("jsonl"), numbered=True)
        judged = self._judged(judge)
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
        verdict = _case((_and(_c("ok"), _not(_c("unsafe"))), self._valid(v)))
        cols.append(_alias(verdict, "valid", quoted=True))
        final = _select(*cols).from_("judged", copy=False).where(_not(_c("blank")), copy=False)
        return self._query(ctes, final).sql("duckdb", pretty=True)

    def _judged(self, judge: _Judge, table: str | None = None) -> exp.Select:
        v = judge.validity
        cols: list[exp.Expr] = [exp.Star()]
        for c, sql in zip(v.conditions, judge.conditions, strict=True):
            cols.append(_alias(sql, "c:" + c.id, quoted=True))
        for c, sql in zip(v.exceptions, judge.exceptions, strict=True):
            cols.append(_alias(sql, "x:" + c.id, quoted=True))
        cols.append(_alias(judge.unsafe, "unsafe", quoted=True))
        if table is None:
            return _select(*cols).from_("typed", copy=False)
        cols.insert(1, exp.column("rowid"))
        return _select(*cols).from_(_table(table), copy=False)

    @staticmethod
    def _valid(v: ir.Validity) -> exp.Expr:
        conds = [_is_true(_c("c:" + c.id)) for c in v.conditions]
        holds = _and(*conds) if v.quantifier == "all" else _or(*conds)
        if not v.exceptions:
            return holds
        return _and(holds, _not(_or(*(_is_true(_c("x:" + c.id)) for c in v.exceptions))))

    def _evidence_value(self, f: ir.Field, typed: TypedFields) -> exp.Expr:
        """A typed field's value as evidence JSON expects it."""
        v = value_col(f.name)
        k = f.type.kind
        if k is Kind.INT:
            return _cast(v, "BIGINT")
        if k is Kind.NUMBER:
            return _cast(_c("t:" + f.name), "JSON")
        if k is Kind.DATE:
            day = _bin(exp.Add, exp.cast(_s("1970-01-01"), "DATE"), _cast(v, "INTEGER"))
            return _fn("strftime", day, _s("%Y-%m-%d"))
        if k is Kind.DATETIME:
            local = _bin(exp.Add, v, _d(self.zone.offset_us))
            stamp = _fn("make_timestamp", _cast(local, "BIGINT"))
            micros = _bin(exp.Mod, _cast(local, "BIGINT"), _i(US))
            frac = _case(
                (_bin(exp.EQ, micros, _i(0)), _s("")),
                default=exp.DPipe(
                    this=_s("."), expression=_fn("lpad", _cast(micros, "VARCHAR"), _i(6), _s("0"))
                ),
            )
            text: exp.Expr = exp.DPipe(
                this=exp.DPipe(
                    this=_fn("strftime", stamp, _s("%Y-%m-%dT%H:%M:%S")), expression=frac
                ),
                expression=_s(self.zone.suffix),
            )
            return _case((exp.Not(this=_is_null(v)), text))
        if k is Kind.DURATION:
            total = _cast(_bin(exp.Div, v, _d(US)), "BIGINT")
            mag = _abs(total)
            h = _bin(exp.IntDiv, mag, _i(3600))
            m = _bin(exp.IntDiv, _bin(exp.Mod, mag, _i(3600)), _i(60))
            s = _bin(exp.Mod, mag, _i(60))
            part_h = _case(
                (_bin(exp.GT, h, _i(0)), exp.DPipe(this=_cast(h, "VARCHAR"), expression=_s("H"))),
                default=_s(""),
            )
            part_m = _case(
                (_bin(exp.GT, m, _i(0)), exp.DPipe(this=_cast(m, "VARCHAR"), expression=_s("M"))),
                default=_s(""),
            )
            part_s = _case(
                (
                    _or(_bin(exp.GT, s, _i(0)), _bin(exp.EQ, mag, _i(0))),
                    exp.DPipe(this=_cast(s, "VARCHAR"), expression=_s("S")),
                ),
                default=_s(""),
            )
            sign = _case((_bin(exp.LT, total, _i(0)), _s("-")), default=_s(""))
            text = _fn("concat", sign, _s("PT"), part_h, part_m, part_s)
            return _case((exp.Not(this=_is_null(v)), text))
        return v

    def _evidence(self, judge: _Judge, typed: TypedFields) -> exp.Expr:
        record = {f.name: f for f in typed.fields}
        pieces: list[exp.Expr] = []
        for c in judge.validity.conditions:
            args: list[exp.Expr] = []
            for name in c.fields:
                args += [_s(name), self._evidence_value(record[name], typed)]
            obj = _cast(_fn("json_object", *args), "VARCHAR")
            key = json.dumps(c.id, ensure_ascii=False) + ":"
            pieces.append(
                _case((_is_true(_c("c:" + c.id)), exp.DPipe(this=_s(key), expression=obj)))
            )
        body = _fn("concat_ws", _s(","), *pieces)
        return exp.DPipe(this=exp.DPipe(this=_s("{"), expression=body), expression=_s("}"))

    def _people(self, people: Sequence[str], typed: TypedFields) -> exp.Expr:
        """A row's `people` fields as a JSON object (VARCHAR), valued as evidence is."""
        record = {f.name: f for f in typed.fields}
        args: list[exp.Expr] = []
        for name in people:
            args += [_s(name), self._evidence_value(record[name], typed)]
        return _cast(_fn("json_object", *args), "VARCHAR")

    def _window_sql(self, record: ir.Record, window: Window | None) -> exp.Expr:
        """SQL for `in_window` (a record without the window's field is never inside)."""
        if window is None:
            return exp.true()
        name, start, end = window
        f = record.field(name)
        if f is None:
            return exp.false()
        if f.type.kind not in (Kind.DATE, Kind.DATETIME):
            raise ValueError(f"the window's field `{name}` is not a date or datetime")
        v = value_col(name)
        tests: list[exp.Expr] = [exp.Not(this=_is_null(v))]
        if f.type.kind is Kind.DATETIME:
            if start is not None:
                tests.append(_bin(exp.GTE, v, _d(_instant_us(start, self.tz))))
            if end is not None:
                tests.append(_bin(exp.LT, v, _d(_instant_us(end, self.tz))))
        else:
            if start is not None:
                tests.append(_bin(exp.GTE, v, _d((_first_day(start, self.tz) - _EPOCH_DATE).days)))
            if end is not None:
                tests.append(_bin(exp.LT, v, _d((_first_day(end, self.tz) - _EPOCH_DATE).days)))
        return _fn("coalesce", _and(*tests), exp.false())

    # ---- loading a file -----------------------------------------------------------------------
    def _load(self, record: ir.Record, path: Path, source: Source) -> _Loaded:
        """The file's typed rows as a table (one row a line, in file order: line = rowid + 1),
        and the rows Python read for the lines SQL left to it.  The last file loaded is kept:
        `measure_files` after `validate_file` of the same, unchanged file reads it once."""
        st = path.stat()
        key = (
            record.name,
            str(path.resolve()),
            source,
            st.st_dev,
            st.st_ino,
            st.st_size,
            st.st_mtime_ns,
            st.st_ctime_ns,
        )
        if self._loaded is not None and self._loaded.key == key:
            return self._loaded
        self._forget()
        ctes, typed = self._plan(record, source)
        table = self._temp_name()
        cols = [
            _c("blank"),
            _c("ok"),
            _alias(_case((_and(_not(_c("ok")), _not(_c("blank"))), _c("l"))), "l"),
            _c("rid_s"),
            _c("rid_j"),
        ]
        for f in record.fields:
            cols.append(_c("v:" + f.name))
            if f.name in typed.token:
                cols += [_c("t:" + f.name), _c("i:" + f.name)]
        create = exp.Create(
            this=_table(table),
            kind="TABLE",
            expression=self._query(ctes, _select(*cols).from_("typed", copy=False)),
            properties=exp.Properties(expressions=[exp.TemporaryProperty()]),
        )
        self.con.execute(create.sql("duckdb"), {"path": str(path)})
        first = 1 if source.mode == "csv" else 0  # a CSV's first line is its header
        fetch = (
            _select(_bin(exp.Add, exp.column("rowid"), _i(1)), _c("l"))
            .from_(_table(table), copy=False)
            .where(
                _and(
                    exp.Not(this=_is_null(_c("l"))), _bin(exp.GTE, exp.column("rowid"), _i(first))
                ),
                copy=False,
            )
            .order_by(exp.column("rowid"), copy=False)
        )
        reader = self.policy.reader(record.name)
        python: dict[int, list[Row]] = {}
        cur = self.con.execute(fetch.sql("duckdb"))
        while batch := cur.fetchmany(_BATCH):
            for line, text in batch:
                python[line] = self._python_rows(reader, source, line, text)
        loaded = _Loaded(key, table, source, typed, python, first)
        if source.suspect:
            # lines the pre-scan found that SQL typed: Python reads them instead
            rowids = exp.Array(expressions=[_i(n - 1) for n in source.suspect])
            where = _and(_c("ok"), _fn("list_contains", rowids, exp.column("rowid")))
            typed_sql = (
                _select(_bin(exp.Add, exp.column("rowid"), _i(1)))
                .from_(_table(table), copy=False)
                .where(where, copy=False)
            )
            lines = [n for (n,) in self.con.execute(typed_sql.sql("duckdb")).fetchall()]
            if lines:
                update = exp.Update(
                    this=_table(table),
                    expressions=[exp.EQ(this=_c("ok"), expression=exp.false())],
                    where=exp.Where(this=where),
                )
                self.con.execute(update.sql("duckdb"))
                python.update(self._reread(loaded, record, path, lines))
        self._loaded = loaded
        return loaded

    def _forget(self) -> None:
        """Drop the kept table of the last file loaded (once no `validate_file` reads it)."""
        if self._loaded is not None:
            if self._busy.get(self._loaded.table):
                self._stale.add(self._loaded.table)
            else:
                self._drop(self._loaded.table)
            self._loaded = None

    def _release(self, table: str) -> None:
        self._busy[table] -= 1
        if not self._busy[table] and table in self._stale:
            self._stale.discard(table)
            self._drop(table)

    def _reread(
        self, loaded: _Loaded, record: ir.Record, path: Path, lines: Sequence[int]
    ) -> dict[int, list[Row]]:
        """The Python reader's rows for some lines SQL typed but cannot compute with (a guard
        tripped): their text is read again."""
        if not lines:
            return {}
        numbered, _ = self._plan(record, loaded.source, numbered=True)
        wanted = exp.Array(expressions=[_i(n) for n in lines])
        query = self._query(
            numbered[:1],
            _select(_c("line"), _c("l"))
            .from_("lines", copy=False)
            .where(_fn("list_contains", wanted, _c("line")), copy=False),
        )
        reader = self.policy.reader(record.name)
        out: dict[int, list[Row]] = {}
        for line, text in self.con.execute(query.sql("duckdb"), {"path": str(path)}).fetchall():
            out[line] = self._python_rows(reader, loaded.source, line, text)
        return out

    # ---- validity -------------------------------------------------------------------------------
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
        rec = self._record(name)
        judge = self._judge(name)
        p = Path(path)
        source = self._source(p) if str(path) != "-" else Source("python", "standard input")
        validator = Validator(judge.validity)
        in_sql = self._window_sql(rec, window)  # a field that is no date or datetime: ValueError
        if source.mode == "python" or judge.problem is not None:
            yield from self._validate_python(str(path), name, validator, window, 0, people)
            return
        try:
            loaded = self._load(rec, p, source)
        except duckdb.Error:  # e.g. not UTF-8: Python reads the file and raises what it raises
            yield from self._validate_python(str(path), name, validator, window, 0, people)
            return
        v = judge.validity
        judged = self._judged(judge, loaded.table)
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
        python = {**loaded.python, **self._reread(loaded, rec, p, unsafe)}
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
        evidence = self._evidence(judge, loaded.typed) if matched else _null("VARCHAR")
        who = self._people(people, loaded.typed) if matched and people else _null("VARCHAR")
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
        sql = self._query([("judged", judged)], final).sql("duckdb")
        masks = _Mask(v)
        cache = masks.cache
        line = 0
        new = DuckVerdict
        self._busy[loaded.table] = self._busy.get(loaded.table, 0) + 1
        try:
            cur = self.con.execute(sql)
            while batch := cur.fetchmany(_BATCH):
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
            self._release(loaded.table)

    def _python_rows(self, reader: RecordReader, source: Source, line: int, text: str) -> list[Row]:
        """The Python reader's rows (none or one) for one line SQL left to it."""
        self.fallback_rows += 1
        if source.mode == "csv":
            rows = list(reader.read_csv_lines(iter([source.header_line, text])))
        else:
            rows = list(reader.read_jsonl_lines(iter([text])))
        return [Row(line, r.id, r.values, r.error, r.version) for r in rows]

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
            self.fallback_rows += 1
            verdict = self._verdict_of(row, validator, window, people)
            if verdict is not None:
                yield verdict

    def _temp_name(self) -> str:
        self._counter += 1
        return f"csdsl_base_{self._counter}"

    def _drop(self, table: str) -> None:
        drop = exp.Drop(tables=[_table(table)], kind="TABLE", exists=True)
        self.con.execute(drop.sql("duckdb"))

    # ---- counting -------------------------------------------------------------------------------
    def rows(self, path: str | Path, record: str) -> Iterator[Row]:
        """Every row of a Parquet file as the Python reader reads its JSON form (each row an
        object, numbered from 1 in file order, as the SQL pass numbers it): the audit's Python
        pass over an input only DuckDB reads.  Raises `InputError` for a file DuckDB cannot
        read as Parquet."""
        source = self._source(Path(path))
        if source.mode != "parquet":
            why = source.reason or "not a Parquet file"
            raise InputError(
                f"{path}: cannot be read as Parquet ({why}); check the file, or export it as "
                ".jsonl or .csv"
            )
        query = self._parquet_lines(source, numbered=False).sql("duckdb")
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
        rec = self._record(name)
        in_sql = self._window_sql(rec, window)
        p = Path(path)
        source = self._source(p) if str(path) != "-" else Source("python", "standard input")
        loaded = None
        if source.mode != "python":
            with contextlib.suppress(duckdb.Error):  # as validate_file: Python reads it
                loaded = self._load(rec, p, source)
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
        from csdsl.duck_metrics import Measure

        return Measure(self, files, window, judged).run()

"""The typed tables of record files, for the DuckDB engine (`csdsl.duck`): loading and keeping.

In: a DuckDB connection, the policy, the `Typer` of its zone; a record type and a file.  Out:
how the file is read (`source`: by SQL as JSONL, CSV or Parquet, or whole by Python, and why),
and the file loaded (`load`): its typed rows as a temporary table, one row a physical line in
file order (line = rowid + 1), with the rows the Python `RecordReader` read for the lines SQL left
to it; `reread` reads more lines in Python (those a guard sends there).  `fallback_rows` counts
the lines Python read.  The last file loaded is kept until another one is: `measure_files` after
`validate_file` of the same unchanged file (same path, inode, size, modification and change
times) reads it once; a table a `validate_file` iterator still reads (`hold`, `release`) is
dropped once it is done.  See `csdsl.duck`'s docstring ("Reading").
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs
import duckdb
from sqlglot import exp

from csdsl import ir
from csdsl.duck_plan import raw_lines, typed_rows, with_ctes
from csdsl.duck_scan import csv_line_closed, prescan
from csdsl.duck_types import Source, TypedFields, Typer
from csdsl.records import RecordReader, Row
from csdsl.sql.build import (
    alias as _alias,
    and_ as _and,
    binary as _bin,
    case as _case,
    column as _c,
    fn as _fn,
    integer as _i,
    is_null as _is_null,
    not_ as _not,
    select as _select,
    string as _s,
    table as _table,
)

if TYPE_CHECKING:
    from csdsl.api import Policy

BATCH = 32768  # rows fetched from DuckDB at a time


@attrs.frozen
class Loaded:
    """A file loaded: its key (record, path, source, file status), typed table, the rows
    Python read by line, and the first line that holds a record (2 after a CSV header)."""

    key: tuple[Any, ...]
    table: str
    source: Source
    typed: TypedFields
    python: dict[int, list[Row]]
    first: int


class DuckTables:
    """The typed tables of the files one engine reads, in its DuckDB connection (see the
    module doc)."""

    def __init__(self, con: duckdb.DuckDBPyConnection, policy: Policy, typer: Typer) -> None:
        self.con = con
        self.policy = policy
        self.typer = typer
        self.fallback_rows = 0
        self._counter = 0
        self._loaded: Loaded | None = None
        self._busy: dict[str, int] = {}  # tables `validate_file` iterators are reading
        self._stale: set[str] = set()  # tables to drop when they are no longer read

    def close(self) -> None:
        """Close the DuckDB connection (and with it every table it kept)."""
        self._loaded = None
        self.con.close()

    def record(self, name: str) -> ir.Record:
        """The record type `name` as the policy's reader reads it."""
        return self.policy.reader(name).record

    def hold(self, table: str) -> None:
        """A reader starts on `table`: it is kept until `release`d, even once forgotten."""
        self._busy[table] = self._busy.get(table, 0) + 1

    def source(self, path: Path) -> Source:
        """How the file is read: by SQL (JSONL, CSV with its header, Parquet with its columns,
        and the lines the pre-scan found Python must read), or whole by Python, and why."""
        suffix = path.suffix.lower()
        if str(path) == "-":
            return Source("python", "standard input")
        if not path.is_file():
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
        """Every line of the CSV file that has a quote closes its quoted cells."""
        lines = (
            _select(_c("l"))
            .from_(raw_lines(), copy=False)
            .where(_fn("contains", _c("l"), _s('"')), copy=False)
        )
        cur = self.con.execute(lines.sql("duckdb"), {"path": str(path)})
        while batch := cur.fetchmany(BATCH):
            if not all(csv_line_closed(text) for (text,) in batch):
                return False
        return True

    def load(self, record: ir.Record, path: Path, source: Source) -> Loaded:
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
        self.forget()
        ctes, typed = typed_rows(self.typer, record, source)
        table = self.temp_name()
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
            expression=with_ctes(ctes, _select(*cols).from_("typed", copy=False)),
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
        while batch := cur.fetchmany(BATCH):
            for line, text in batch:
                python[line] = self.python_rows(reader, source, line, text)
        loaded = Loaded(key, table, source, typed, python, first)
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
                python.update(self.reread(loaded, record, path, lines))
        self._loaded = loaded
        return loaded

    def forget(self) -> None:
        """Drop the kept table of the last file loaded (once no `validate_file` reads it)."""
        if self._loaded is not None:
            if self._busy.get(self._loaded.table):
                self._stale.add(self._loaded.table)
            else:
                self.drop(self._loaded.table)
            self._loaded = None

    def release(self, table: str) -> None:
        """A reader of `table` is done (see `hold`)."""
        self._busy[table] -= 1
        if not self._busy[table] and table in self._stale:
            self._stale.discard(table)
            self.drop(table)

    def reread(
        self, loaded: Loaded, record: ir.Record, path: Path, lines: Sequence[int]
    ) -> dict[int, list[Row]]:
        """The Python reader's rows for some lines SQL typed but cannot compute with (a guard
        tripped): their text is read again."""
        if not lines:
            return {}
        numbered, _ = typed_rows(self.typer, record, loaded.source, numbered=True)
        wanted = exp.Array(expressions=[_i(n) for n in lines])
        query = with_ctes(
            numbered[:1],
            _select(_c("line"), _c("l"))
            .from_("lines", copy=False)
            .where(_fn("list_contains", wanted, _c("line")), copy=False),
        )
        reader = self.policy.reader(record.name)
        out: dict[int, list[Row]] = {}
        for line, text in self.con.execute(query.sql("duckdb"), {"path": str(path)}).fetchall():
            out[line] = self.python_rows(reader, loaded.source, line, text)
        return out

    def python_rows(self, reader: RecordReader, source: Source, line: int, text: str) -> list[Row]:
        """The Python reader's rows (none or one) for one line SQL left to it."""
        self.fallback_rows += 1
        if source.mode == "csv":
            rows = list(reader.read_csv_lines(iter([source.header_line, text])))
        else:
            rows = list(reader.read_jsonl_lines(iter([text])))
        return [Row(line, r.id, r.values, r.error, r.version) for r in rows]

    def temp_name(self) -> str:
        """A fresh name for a temporary table of this connection."""
        self._counter += 1
        return f"csdsl_base_{self._counter}"

    def drop(self, table: str) -> None:
        """Drop a temporary table (if it is there)."""
        drop = exp.Drop(tables=[_table(table)], kind="TABLE", exists=True)
        self.con.execute(drop.sql("duckdb"))

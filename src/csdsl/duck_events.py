"""The event log read by DuckDB, for the duckdb engine's audit (`csdsl.auditor`).

In: the engine's DuckDB connection and `DuckTables` (how a file is read, the `Typer` of the
policy's zone), the event names the clauses read and the roles of their ladders
(`Policy.event_vocabulary`); an event log file.  Out: `DuckEvents`, or None when the file is not
JSONL that SQL reads (the caller then reads it with `Policy.read_events`, as before): the log's
good events as a temporary table `<table>(k, ts, name, role, line, num)` in that connection
(`k` the case's `records.id_key`, `ts` its UTC microseconds, `num` whether the case was written
as a number), its problems as `Policy.read_events` gives them (codes, messages, lines, in line
order), and, with an `EventLog`'s interface, the events of the cases Python asks for (`only`
builds an `EventLog` of just those; `log[case]` reads one).

Reading is a record file's (`csdsl.duck_tables`, `csdsl.duck_plan`), with `case` as the id:
every line typed strictly in SQL; a line SQL is not sure of goes, alone, to the Python
`EventReader`, so a bad line keeps its code, message and line, and rows in = good + bad.  Beyond
the records' rules SQL also declines a case that is neither text with a visible character nor a
plain integer of at most 15 digits, and an event name with no visible character at either end
(Python strips it).  V001 (a name no clause reads), V004 (`escalated` to a role of no ladder)
and V002 (earlier than an earlier line of the same case) are flags computed in SQL; only the
problems a report shows are worded in Python.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Mapping, Sequence, Set
from pathlib import Path
from typing import Any

import duckdb
from sqlglot import exp

from csdsl.api import EARLIER, EventProblem, event_notices, event_of, unmatched_case
from csdsl.duck_plan import raw_lines, typed_rows, with_ctes
from csdsl.duck_tables import BATCH, DuckTables
from csdsl.duck_types import Source
from csdsl.records import EVENT, EventReader, Row, id_key
from csdsl.sql.build import (
    alias as _alias,
    and_ as _and,
    case as _case,
    column as _c,
    fn as _fn,
    integer as _i,
    is_null as _is_null,
    not_ as _not,
    or_ as _or,
    regexp as _rx,
    select as _select,
    table as _table,
)
from csdsl.timeline import Event, EventLog

# a name Python keeps as it is: a visible character at both ends (`str.strip` removes none)
NAME_TEXT = r"(?s)^[\pL\pN\pP\pS](.*[\pL\pN\pP\pS])?$"
# a case written as a JSON integer whose text is its `id_key`
INT_CASE = r"^(0|-?[1-9][0-9]{0,14})$"
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


class DuckEvents(Mapping[str, list[Event]]):
    """An event log held in DuckDB (see the module doc)."""

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        table: str,
        known: Sequence[str],
        roles: Set[str],
        python: dict[int, Row],
    ) -> None:
        self.con = con
        self.table = table
        self.known = tuple(known)
        self.roles = set(roles)
        self._python = python  # the lines the Python reader read, good and bad
        # cases with an event line that could not be read (case -> its first such line)
        self.unreadable: dict[str, int] = {}
        for line in sorted(python):
            row = python[line]
            if row.values is None and row.id is not None:
                self.unreadable.setdefault(id_key(row.id), line)
        found = con.execute(f"SELECT count(*), max(ts) FROM {table}").fetchone()
        assert found is not None
        self.events: int = found[0]
        self.latest = None if found[1] is None else _EPOCH + dt.timedelta(microseconds=found[1])

    # ---- the Mapping of cases to events ----------------------------------------------------------
    def __getitem__(self, case: str) -> list[Event]:
        got = self.only([case])
        if case not in got:
            raise KeyError(case)
        return got[case]

    def __iter__(self) -> Iterator[str]:
        found = self.con.execute(f"SELECT DISTINCT k FROM {self.table} ORDER BY k").fetchall()
        return iter([k for (k,) in found])

    def __len__(self) -> int:
        found = self.con.execute(f"SELECT count(DISTINCT k) FROM {self.table}").fetchone()
        return 0 if found is None else int(found[0])

    def __contains__(self, case: object) -> bool:
        if not isinstance(case, str):
            return False
        found = self.con.execute(
            f"SELECT 1 FROM {self.table} WHERE k = ? LIMIT 1", [case]
        ).fetchone()
        return found is not None

    def only(self, cases: Iterable[str]) -> EventLog:
        """An `EventLog` of the events of `cases` (with the whole log's `unreadable`)."""
        log = EventLog()
        log.unreadable = self.unreadable
        wanted = list(dict.fromkeys(cases))
        if not wanted:
            return log
        cur = self.con.execute(
            f"SELECT k, ts, name, role, line FROM {self.table} "
            "WHERE k IN (SELECT unnest(?::VARCHAR[])) ORDER BY line",
            [wanted],
        )
        while batch := cur.fetchmany(BATCH):
            for k, ts, name, role, line in batch:
                log.add(k, Event(_EPOCH + dt.timedelta(microseconds=ts), name, role, line))
        return log

    # ---- problems ------------------------------------------------------------------------------
    def problems(self, shown: int) -> tuple[list[EventProblem], int]:
        """The log's problems in line order as `Policy.read_events` gives them: every line
        that was skipped (R codes) and the first `shown` notices (V codes), so the first
        `shown` problems are the whole list's; and how many problems there are in all."""
        flags = self._flags()
        count = self.con.execute(
            f"SELECT count_if(v1) + count_if(v4) + count_if(v2) FROM ({flags})",
            self._flag_args(),
        ).fetchone()
        total = 0 if count is None or count[0] is None else int(count[0])
        listed = self.con.execute(
            f"SELECT line, k, num, name, role, v2 FROM ({flags}) WHERE v1 OR v4 OR v2 "
            f"ORDER BY line LIMIT {int(shown)}",
            self._flag_args(),
        ).fetchall()
        out: list[tuple[int, EventProblem]] = []
        for line, k, num, name, role, v2 in listed:
            case = self._case(line, k, num)
            ev = Event(_EPOCH, name, role, line)
            mine = event_notices(line, case, ev, self.known, self.roles)
            if v2:
                mine.append(EventProblem(line, case, "V002", EARLIER))
            out += [(line, p) for p in mine]
        for line, row in self._python.items():
            if row.values is None:
                assert row.error is not None
                error = EventProblem(line, row.id, row.error.code, row.error.message)
                out.append((line, error))
                total += 1
        out.sort(key=lambda lp: lp[0])  # stable: a line's own notices keep their order
        return [p for _, p in out], total

    def _flags(self) -> str:
        return (
            "SELECT line, k, num, name, role, NOT list_contains($known::VARCHAR[], name) AS v1, "
            "coalesce(name = 'escalated' AND (role IS NULL OR NOT "
            "list_contains($roles::VARCHAR[], role)), false) AS v4, "
            "coalesce(ts < max(ts) OVER (PARTITION BY k ORDER BY line ROWS "
            f"BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), false) AS v2 FROM {self.table}"
        )

    def _flag_args(self) -> dict[str, Any]:
        return {"known": list(self.known), "roles": sorted(self.roles)}

    def _case(self, line: int, k: str, num: bool | None) -> Any:
        """The case as the line wrote it (a number stays a number)."""
        row = self._python.get(line)
        if row is not None:
            return row.id
        return int(k) if num else k

    def unmatched(self, seen: Set[str]) -> list[EventProblem]:
        """V003 for each case of the log that no readable record has (`unmatched_cases`)."""
        cur = self.con.execute(
            f"SELECT k, first(line ORDER BY ts, line) FROM {self.table} GROUP BY k"
        )
        firsts: dict[str, int] = {}
        while batch := cur.fetchmany(BATCH):
            for k, line in batch:
                if k not in seen:
                    firsts[k] = line
        return [unmatched_case(k, firsts[k]) for k in sorted(firsts)]

    def close(self) -> None:
        """Drop the events table (the connection stays the engine's)."""
        self.con.execute(f"DROP TABLE IF EXISTS {self.table}")


def read_duck_events(
    tables: DuckTables, tz: dt.tzinfo, path: str, known: Sequence[str], roles: Set[str]
) -> DuckEvents | None:
    """The event log at `path` read by DuckDB into the connection of `tables`, or None when
    SQL does not read it (not a JSONL file, a line DuckDB cannot read, text that is not
    UTF-8): `Policy.read_events` reads it then, and raises what it raises."""
    p = Path(path)
    source = tables.source(p)
    if source.mode != "jsonl":
        return None
    con = tables.con
    raw = tables.temp_name()
    table = tables.temp_name()
    try:
        python = _load(tables, tz, p, raw, table, source.suspect)
    except duckdb.Error:
        for name in (raw, table):
            tables.drop(name)
        return None
    return DuckEvents(con, table, known, roles, python)


def _load(
    tables: DuckTables, tz: dt.tzinfo, path: Path, raw: str, table: str, suspect: Sequence[int]
) -> dict[int, Row]:
    """Type every line into `raw`, read the lines SQL declines with the Python `EventReader`,
    and keep the good events in `table`.  Returns the rows Python read, by line."""
    con = tables.con
    ctes, _ = typed_rows(tables.typer, EVENT, Source("jsonl"), id_field="case")
    sure = _and(
        _c("ok"),
        _fn("coalesce", _rx(_c("v:event"), NAME_TEXT), exp.false()),
        _or(
            exp.Not(this=_is_null(_c("rid_s"))),
            _fn("coalesce", _rx(_c("rid_j"), INT_CASE), exp.false()),
        ),
    )
    cols: list[exp.Expr] = [
        _c("blank"),
        _alias(sure, "ok"),
        _alias(_case((_and(_not(sure), _not(_c("blank"))), _c("l"))), "l"),
        _alias(_case((sure, _fn("coalesce", _c("rid_s"), _c("rid_j")))), "k"),
        _alias(_is_null(_c("rid_s")), "num"),
        _alias(_c("v:at"), "t"),
        _alias(_c("v:event"), "name"),
        _alias(_c("v:role"), "role"),
    ]
    create = exp.Create(
        this=_table(raw),
        kind="TABLE",
        expression=with_ctes(ctes, _select(*cols).from_("typed", copy=False)),
        properties=exp.Properties(expressions=[exp.TemporaryProperty()]),
    )
    con.execute(create.sql("duckdb"), {"path": str(path)})
    texts: dict[int, str] = dict(
        con.execute(f"SELECT rowid + 1, l FROM {raw} WHERE NOT ok AND l IS NOT NULL").fetchall()
    )
    if suspect:
        # lines the pre-scan found that SQL typed: Python reads them instead
        rowids = [n - 1 for n in suspect]
        con.execute(
            f"UPDATE {raw} SET ok = false WHERE ok AND list_contains(?::BIGINT[], rowid)",
            [rowids],
        )
        wanted = exp.Array(expressions=[_i(n) for n in suspect])
        query = _select(_alias(_c("ordinality"), "line"), _c("l")).from_(
            raw_lines(numbered=True), copy=False
        )
        query = query.where(_fn("list_contains", wanted, _c("ordinality")), copy=False)
        for line, text in con.execute(query.sql("duckdb"), {"path": str(path)}).fetchall():
            if text is not None:
                texts[line] = text
    reader = EventReader(tz)
    python: dict[int, Row] = {}
    for line in sorted(texts):
        tables.fallback_rows += 1
        for r in reader.read_jsonl_lines(iter([texts[line]])):
            python[line] = Row(line, r.id, r.values, r.error, r.version)
    con.execute(
        f"CREATE TEMP TABLE {table} AS SELECT k, CAST(t AS BIGINT) AS ts, name, role, "
        f"CAST(rowid + 1 AS BIGINT) AS line, num FROM {raw} WHERE ok"
    )
    tables.drop(raw)
    good: list[tuple[str, int, str, str | None, int]] = []
    for line, row in python.items():
        if row.values is not None:
            ev = event_of(row.values, line)
            us = (ev.at - _EPOCH) // dt.timedelta(microseconds=1)
            good.append((id_key(row.id), us, ev.name, ev.role, line))
    if good:
        k, ts, name, role, line_ = (list(c) for c in zip(*good, strict=True))
        con.execute(
            f"INSERT INTO {table} SELECT unnest(?::VARCHAR[]), unnest(?::BIGINT[]), "
            "unnest(?::VARCHAR[]), unnest(?::VARCHAR[]), unnest(?::BIGINT[]), NULL",
            [k, ts, name, role, line_],
        )
    return python

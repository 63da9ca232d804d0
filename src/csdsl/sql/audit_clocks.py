"""The audit's clocks on the duckdb engine: chunks of records judged in SQL.

In: the policy versions, one record type's rows in chunks of `CLOCK_CHUNK` with their cases'
events.  Out: `ChunkClocks` per chunk (each version's `ClockResults`, which cases SQL judged, the
counts per clause and status) and, for the report, `SqlClocks.computed_by` (which clauses ran in
SQL and which in Python, and why).  The SQL is `csdsl.sql.timelines`'; ids repeated inside a
chunk, and cases SQL hands back, are left to the caller's `TimelineBuilder`.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs

from csdsl.api import Policy
from csdsl.records import Row, id_key
from csdsl.timeline import Event

if TYPE_CHECKING:
    from csdsl.audit_versions import Version
    from csdsl.sql.timelines import ClockResults, SqlTimelines


# records whose clocks one SQL query judges (50,000 took 740 MiB at 100k, not faster)
CLOCK_CHUNK = 20_000


@attrs.define
class ChunkClocks:
    """The clocks of one chunk of records, judged in SQL per policy version."""

    results: list[ClockResults]
    keys: set[tuple[int, str]]  # (version, case) judged in SQL (ids repeated in it: Python)
    counts: Counter[tuple[str, str, str, int, str]]

    def has(self, row: Row) -> bool:
        return (row.version, id_key(row.id)) in self.keys


class SqlClocks:
    """The audit's clocks on the duckdb engine: each chunk of records is judged by
    `csdsl.sql.timelines` in a private in-memory DuckDB."""

    def __init__(
        self,
        versions: Sequence[Version],
        name: str,
        tz: dt.tzinfo,
        now: dt.datetime | None,
        statuses: bool,
        con: Any = None,
        event_table: str | None = None,
    ) -> None:
        """With `con` and `event_table` (the engine's connection and the event log it read,
        `csdsl.duck_events`) the clocks run there, reading the events from that table;
        otherwise in a private connection, from the events given to `judge`."""
        import duckdb

        from csdsl.sql.timelines import ClockResults, SqlTimelines

        self.empty = ClockResults
        self.clocks = [
            SqlTimelines(v.policy.ir, name, tz)
            if clock_builder(v.policy, name) is not None
            else None
            for v in versions
        ]
        self.now = now
        self.statuses = statuses
        self.event_table = event_table
        self.shared = con is not None
        # a chunk's tables are small: the engine's own connection keeps most of the memory
        self.con = (
            con
            if con is not None
            else duckdb.connect(config={"memory_limit": "384MB", "preserve_insertion_order": False})
        )
        self.handed = 0

    def computed_by(self) -> dict[str, Any]:
        """Where the clocks ran, for the report: the clauses SQL judged, those Python judged
        and why, and how many cases SQL handed to Python whole."""
        sql: list[str] = []
        python: dict[str, str] = {}
        for clocks in self.clocks:
            if clocks is None:
                continue
            for clause in clocks.clauses:
                why = clocks.python.get(clause)
                if why is None and clause not in sql:
                    sql.append(clause)
                elif why is not None:
                    python[clause] = why
        return {"sql": sql, "python": python, "cases_handed_to_python": self.handed}

    def judge(self, batch: Sequence[Row], events: Mapping[str, Sequence[Event]]) -> ChunkClocks:
        """The clocks of a chunk of rows (those of a version with clocks whose id is not
        repeated in the chunk), with their cases' events: `events[case]`, or, with an event
        table, that table (and `events.only` for the cases Python judges)."""
        by_version: dict[int, dict[str, Row]] = {}
        repeated: set[tuple[int, str]] = set()
        for row in batch:
            if row.values is None:
                continue
            key = id_key(row.id)
            mine = by_version.setdefault(row.version, {})
            if key in mine:
                repeated.add((row.version, key))
            mine[key] = row
        results = [self.empty() for _ in self.clocks]
        keys: set[tuple[int, str]] = set()
        counts: Counter[tuple[str, str, str, int, str]] = Counter()
        for v, mine in by_version.items():
            clocks = self.clocks[v]
            if clocks is None:
                continue
            unique = [
                (r.id, r.values)
                for k, r in mine.items()
                if (v, k) not in repeated and r.values is not None
            ]
            evs: Mapping[str, Sequence[Event]] = events
            if self.event_table is None:
                evs = {k: events[k] for k in mine if (v, k) not in repeated and k in events}
            result = self._judge(clocks, unique, evs)
            results[v] = result
            counts.update(result.counts)
            keys |= {(v, k) for k in mine if (v, k) not in repeated}
        self.handed += sum(r.handed for r in results)
        return ChunkClocks(results, keys, counts)

    def _judge(
        self,
        clocks: SqlTimelines,
        rows: Sequence[tuple[Any, Mapping[str, Any]]],
        events: Mapping[str, Sequence[Event]],
    ) -> ClockResults:
        if not self.shared:
            return clocks.judge_duckdb(self.con, rows, events, self.now, self.statuses)
        # the engine's connection keeps its files' rows in order; the clocks need no order
        self.con.execute("SET preserve_insertion_order = false")
        try:
            return clocks.judge_duckdb(
                self.con, rows, events, self.now, self.statuses, self.event_table
            )
        finally:
            self.con.execute("SET preserve_insertion_order = true")

    def close(self) -> None:
        """Close the private connection, or drop the clocks' tables from the engine's."""
        if not self.shared:
            self.con.close()
            return
        names = self.con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE temporary AND "
            "regexp_matches(table_name, '^tl_[a-z0-9_]+$')"
        ).fetchall()
        for (name,) in names:
            self.con.execute(f"DROP TABLE IF EXISTS {name}")


def clock_builder(policy: Policy, name: str) -> Any:
    """The timeline builder of record `name`, or None when it has no clocks."""
    p = policy.ir
    if any(d.record == name for d in p.deadlines) or any(e.record == name for e in p.escalations):
        return policy._builder(name)
    return None

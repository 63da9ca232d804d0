"""Timelines in SQL: the milestones `csdsl.timeline.TimelineBuilder` gives, computed set-based.

In: the checked policy (`ir.Deadline`s and `ir.Escalation`s of one record type, its calendars),
a table of records and a table of events, `now`.  Out: one row per milestone, exactly as
`TimelineBuilder.build` gives it (clause, kind, owner, cycle, due, status, deciding event,
`late_by`, message), and the cases SQL hands back to Python.

Tables (every instant and duration in BIGINT microseconds since 1970-01-01 UTC):
- `tl_r(k, f0, f1, ...)`: one row per record, `k` its case key (`records.id_key`), `fN` the
  fields the clocks read, typed as `csdsl.sql.exprs` types them;
- `tl_e(k, ts, o, name, role, line)`: the events, `o` their order within the case (time, then
  the log's order);
- `tl_b_N(b, n, st, en, ob)` and `tl_v_N(v, n, st, ob, len)`: calendar N's open intervals
  (`csdsl.intervals`), keyed by the UTC day they touch (plus the next interval) and by the
  hour of cumulative open time they cover: the open time up to an instant and the instant a
  given open time is reached are equi-joins on those keys, so DuckDB and Spark run them alike.

How the clock rules become SQL:
- start: the record's field, or the first start event; events from the start on are the
  clock's;
- cycles: the stop, reopen and until events alternate as a two-state machine (running /
  stopped) whose state after each event is that event's own kind, so the state changes are the
  events whose kind differs from the previous one's; a change to `until` ends the log;
- pauses (one pause/resume pair): the same two-state reading within each running stretch; a
  pause still open at the stop ends there, one still open at the end is held until `now`;
- working time with pauses: the free open time before each pause `F`; an amount `a` falls due
  where the open time reaches `O(start) + a` plus the open time of every pause with `F < a`
  (or `F = 0`): the binary search of `csdsl.intervals`, as a join;
- warnings, progress updates (at most `MAX_UPDATES` per cycle), escalation steps (unrolled in
  the ladder's order, each reading the previous one) as the builder defines them.

What SQL does not compute, Python does, per clause or per case (`SqlTimelines.python` names the
clauses and why; a case is handed back when a value falls outside the calendar tables or the
datetimes csdsl can show, so its errors read exactly as the builder's): targets in working
days or at a time of the next working day, several pause kinds, `reopens ... continue`, event
names that play two parts in one clock, a `when` with no SQL form.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from csdsl import ir
from csdsl.calendar import CalendarError, WorkCalendar
from csdsl.intervals import intervals_table, to_us
from csdsl.records import id_key
from csdsl.sql.timeline_query import (
    DAY_US,
    EPOCH,
    HOUR_US,
    MARGIN_DAYS,
    SAFE_US,
    US,
    TimelinePlan,
    TimelineQuery,
    reused_steps,
    with_steps,
)
from csdsl.timeline import Event, Milestone, Timeline, TimelineBuilder


def _value_us(v: Any) -> Any:
    if isinstance(v, dt.datetime):
        return to_us(v.astimezone(dt.UTC))
    if isinstance(v, dt.timedelta):
        return v // US
    return v


def _sql_type(t: ir.Type) -> str:
    kind = t.kind.value
    return {
        "bool": "BOOLEAN",
        "int": "BIGINT",
        "number": "DOUBLE",
        "date": "DATE",
        "datetime": "BIGINT",
        "duration": "BIGINT",
    }.get(kind, "TEXT")


def _from_us(v: int | None) -> dt.datetime | None:
    return None if v is None else EPOCH + dt.timedelta(microseconds=v)


class SqlTimelines:
    """The clocks of one record type, in SQL (module docstring).  `python` names the deadlines
    and ladders computed by Python per case, and why."""

    def __init__(
        self, policy: ir.Policy, record: str, tz: dt.tzinfo, dialect: str = "duckdb"
    ) -> None:
        self.plan = TimelinePlan(policy, record, tz, dialect)
        self._plans = {dialect: self.plan}
        self.ir = policy
        self.record = record
        self.tz = tz

    @property
    def python(self) -> dict[str, str]:
        return dict(self.plan.python)

    @property
    def builder(self) -> TimelineBuilder:
        return self.plan.builder

    def sql(self, now: dt.datetime | None, dialect: str | None = None) -> tuple[str, str]:
        """The milestones query and the query of cases handed to Python, over the tables of
        the module docstring, in `dialect` (`duckdb` or `spark`; by default this object's)."""
        ctes, ms, flags = self.steps(now, dialect)
        return with_steps(ctes, ms), with_steps(ctes, flags)

    def steps(
        self, now: dt.datetime | None, dialect: str | None = None
    ) -> tuple[list[tuple[str, str]], str, str]:
        """`sql` as named steps (CTEs) and the two final queries over them."""
        now_us = None if now is None else to_us(now.astimezone(dt.UTC))
        name = dialect or self.plan.dialect
        plan = self._plans.get(name)
        if plan is None:
            plan = self._plans[name] = TimelinePlan(self.ir, self.record, self.tz, name)
        return TimelineQuery(plan, now_us).steps()

    # ---- calendar tables ----------------------------------------------------------------------
    def calendar_rows(
        self, lo_us: int, hi_us: int
    ) -> dict[int, tuple[list[tuple[int, ...]], list[tuple[int, ...]]]]:
        """Per working calendar the SQL reads: the rows of `tl_b_N` and `tl_v_N` for the local
        dates from a day before `lo_us` to `MARGIN_DAYS` after `hi_us` (stopping at the first
        date the calendar cannot decide: a due time beyond goes to Python)."""
        out = {}
        for name, n in self.plan.calendars.items():
            cal = self.plan.builder.calendars[name]
            first = (_from_us(lo_us) or EPOCH).astimezone(cal.tz).date() - dt.timedelta(days=1)
            last = (_from_us(hi_us) or EPOCH).astimezone(cal.tz).date() + dt.timedelta(
                days=MARGIN_DAYS
            )
            rows = _rows_until_unknown(cal, first, last)
            b_rows: list[tuple[int, ...]] = []
            v_rows: list[tuple[int, ...]] = []
            spans = [(to_us(r.start), to_us(r.end), r.open_before_us) for r in rows]
            for k, (st, en, ob) in enumerate(spans):
                # the first interval ending after an instant t in [end of the previous, en)
                # (the first one: from the data's first instant, whose local date's eve the
                # table starts at)
                since = min(st, lo_us) if k == 0 else spans[k - 1][1]
                for b in range(since // DAY_US, (en - 1) // DAY_US + 1):
                    b_rows.append((b, k, st, en, ob))
                length = en - st
                for v in range(ob // HOUR_US, (ob + length) // HOUR_US + 1):
                    v_rows.append((v, k, st, ob, length))
            out[n] = (b_rows, v_rows)
        return out

    # ---- the tables -----------------------------------------------------------------------------
    def tables(
        self,
        rows: Iterable[tuple[Any, Mapping[str, Any]]],
        events: Mapping[str, Sequence[Event]],
    ) -> tuple[set[str], dict[str, tuple[list[tuple[str, str]], list[tuple[Any, ...]]]]]:
        """The tables of the module docstring from Python values (name -> columns with their
        SQL types, rows), and the cases whose values SQL cannot hold (their fields are NULL in
        `tl_r`: Python judges them)."""
        fields = self.plan.fields
        r_cols = [("k", "TEXT")] + [(c, _sql_type(self.plan.types[f])) for f, c in fields.items()]
        r_rows: list[tuple[Any, ...]] = []
        lo: int | None = None
        hi: int | None = None
        huge: set[str] = set()
        kinds = [self.plan.types[f].kind.value for f in fields]
        for rid, values in rows:
            vals = [_value_us(values.get(f)) for f in fields]
            for n, kind in enumerate(kinds):
                v = vals[n]
                if v is None or kind not in ("datetime", "duration"):
                    continue
                if abs(v) > SAFE_US:
                    huge.add(id_key(rid))
                    vals[n] = None
                elif kind == "datetime":
                    lo = v if lo is None or v < lo else lo
                    hi = v if hi is None or v > hi else hi
            r_rows.append((id_key(rid), *vals))
        e_rows: list[tuple[Any, ...]] = []
        for key, evs in events.items():
            for o, ev in enumerate(evs, 1):
                us = to_us(ev.at.astimezone(dt.UTC))
                lo = us if lo is None or us < lo else lo
                hi = us if hi is None or us > hi else hi
                e_rows.append((key, us, o, ev.name, ev.role, ev.line))
        e_cols = [
            ("k", "TEXT"),
            ("ts", "BIGINT"),
            ("o", "BIGINT"),
            ("name", "TEXT"),
            ("role", "TEXT"),
            ("line", "BIGINT"),
        ]
        out = {"tl_r": (r_cols, r_rows), "tl_e": (e_cols, e_rows)}
        cal_rows = self.calendar_rows(lo or 0, hi or 0)
        for n, (b_rows, v_rows) in cal_rows.items():
            out[f"tl_b_{n}"] = ([(c, "BIGINT") for c in ("b", "n", "st", "en", "ob")], b_rows)
            out[f"tl_v_{n}"] = ([(c, "BIGINT") for c in ("v", "n", "st", "ob", "len")], v_rows)
        return huge, out

    # ---- DuckDB -------------------------------------------------------------------------------
    def load_duckdb(
        self,
        con: Any,
        rows: Iterable[tuple[Any, Mapping[str, Any]]],
        events: Mapping[str, Sequence[Event]],
    ) -> set[str]:
        """Create the tables in `con` (temporary); the cases SQL cannot hold (`tables`)."""
        huge, tables = self.tables(rows, events)
        for name, (cols, data) in tables.items():
            spec = ", ".join(f"{c} {'VARCHAR' if t == 'TEXT' else t}" for c, t in cols)
            con.execute(f"CREATE OR REPLACE TEMP TABLE {name} ({spec})")
            if data:
                marks = ", ".join("?" for _ in cols)
                con.executemany(f"INSERT INTO {name} VALUES ({marks})", data)
        return huge

    def run_duckdb(
        self,
        con: Any,
        rows: Sequence[tuple[Any, Mapping[str, Any]]],
        events: Mapping[str, Sequence[Event]],
        now: dt.datetime | None,
    ) -> dict[str, Timeline]:
        """Every record's timeline: the SQL's milestones, and the builder's for the clauses
        and cases SQL hands to Python (keyed by `id_key` of the record's id)."""
        huge = self.load_duckdb(con, rows, events)
        ms_sql, flag_sql = self.sql(now)
        found = con.execute(ms_sql).fetchall()
        flagged = huge | {r[0] for r in con.execute(flag_sql).fetchall()}
        return self.assemble(rows, events, now, found, flagged)

    # ---- Spark --------------------------------------------------------------------------------
    def run_spark(
        self,
        spark: Any,
        rows: Sequence[tuple[Any, Mapping[str, Any]]],
        events: Mapping[str, Sequence[Event]],
        now: dt.datetime | None,
    ) -> dict[str, Timeline]:
        """`run_duckdb` on a `SparkSession`: the tables become temporary views of DataFrames
        made from the values."""
        from pyspark.sql import types as T

        types = {
            "TEXT": T.StringType(),
            "BIGINT": T.LongType(),
            "BOOLEAN": T.BooleanType(),
            "DOUBLE": T.DoubleType(),
            "DATE": T.DateType(),
            "VARCHAR": T.StringType(),
        }
        huge, tables = self.tables(rows, events)
        for name, (cols, data) in tables.items():
            schema = T.StructType([T.StructField(c, types[t], True) for c, t in cols])
            spark.createDataFrame(data, schema).createOrReplaceTempView(name)
        # Spark inlines every CTE where it is read: the steps read more than once are
        # computed once (checkpointed) instead, or the plan grows past the driver's memory
        ctes, ms_sql, flag_sql = self.steps(now, "spark")
        reused = reused_steps(ctes, [ms_sql, flag_sql])
        for name, query in ctes:
            df = spark.sql(query)
            if name in reused:
                df = df.localCheckpoint(eager=True)
            df.createOrReplaceTempView(name)
        found = [tuple(r) for r in spark.sql(ms_sql).collect()]
        flagged = huge | {r[0] for r in spark.sql(flag_sql).collect()}
        return self.assemble(rows, events, now, found, flagged)

    # ---- assembling -----------------------------------------------------------------------------
    def assemble(
        self,
        rows: Sequence[tuple[Any, Mapping[str, Any]]],
        events: Mapping[str, Sequence[Event]],
        now: dt.datetime | None,
        found: Iterable[Sequence[Any]],
        flagged: set[str],
    ) -> dict[str, Timeline]:
        """Timelines from the milestone rows (`MILESTONE_COLUMNS`, ordered), with the
        builder's for the cases in `flagged` and the clauses in `python`."""
        by_case: dict[str, list[tuple[tuple[int, int, int], Milestone]]] = {}
        n = len(self.plan.deadlines)
        for k, ci, cy, sub, clause, kind, owner, due, status, at, late, msg in found:
            if ci < n:
                span = self.plan.deadlines[ci].span
            else:
                span = self.plan.escalations[ci - n].steps[sub].span
            file, line = span.file, span.line
            m = Milestone(
                clause,
                kind,
                owner,
                _from_us(due),
                status,
                _from_us(at),
                None if late is None else dt.timedelta(microseconds=late),
                cy,
                msg,
                {},
                file,
                line,
            )
            by_case.setdefault(k, []).append(((ci, cy, sub), m))
        python = set(self.plan.python)
        order = {
            name: i
            for i, name in enumerate(
                [d.name for d in self.plan.deadlines] + [e.name for e in self.plan.escalations]
            )
        }
        out: dict[str, Timeline] = {}
        for rid, values in rows:
            key = id_key(rid)
            if key in flagged or python:
                built = self.builder.build(rid, values, events.get(key, []), now)
            if key in flagged:
                out[key] = built
                continue
            mine = by_case.get(key, [])
            if python:
                kept = [m for m in built.milestones if _owner_clause(m) in python]
                errors = built.errors
                merged = [(order[_owner_clause(m)], j, m) for j, m in enumerate(kept)]
                merged += [(ci, j, m) for j, ((ci, _cy, _sub), m) in enumerate(mine)]
                merged.sort(key=lambda x: (x[0], x[1]))
                out[key] = Timeline(rid, tuple(m for _, _, m in merged), errors)
            else:
                out[key] = Timeline(rid, tuple(m for _, m in mine))
        return out


def _owner_clause(m: Milestone) -> str:
    """The deadline or ladder a milestone belongs to."""
    if m.kind == "escalation":
        return m.clause.split(":", 1)[0]
    return m.clause.split(".", 1)[0]


def _rows_until_unknown(cal: WorkCalendar, first: dt.date, last: dt.date) -> list[Any]:
    """`intervals_table(cal, first, last)`, cut at the first date it cannot decide."""
    try:
        return intervals_table(cal, first, last)
    except CalendarError:
        pass
    lo, hi = first, last
    best: list[Any] = []
    while lo <= hi:  # the longest prefix of dates the calendar can decide
        mid = lo + (hi - lo) // 2
        try:
            best = intervals_table(cal, first, mid)
            lo = mid + dt.timedelta(days=1)
        except CalendarError:
            hi = mid - dt.timedelta(days=1)
    return best


__all__ = ["SqlTimelines"]

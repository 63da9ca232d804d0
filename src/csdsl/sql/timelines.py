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

import csv
import datetime as dt
import tempfile
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

from csdsl import ir
from csdsl.calendar import CalendarError, WorkCalendar
from csdsl.intervals import intervals_table, to_us
from csdsl.metrics import WORST, clock_statuses
from csdsl.records import id_key
from csdsl.sql.timeline_plan import (
    DAY_US,
    EPOCH,
    HOUR_US,
    MARGIN_DAYS,
    MILESTONE_COLUMNS,
    SAFE_US,
    US,
    TimelinePlan,
    reused_steps,
    with_steps,
)
from csdsl.sql.timeline_query import TimelineQuery
from csdsl.timeline import CaseEvents, Event, Milestone, Timeline, TimelineBuilder

# the calendar tables cover the data's instants at most this far either side of their median
SPAN_US = 3 * 366 * DAY_US


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


@attrs.define
class ClockResults:
    """What an audit keeps of many records' timelines (`SqlTimelines.judge_duckdb`)."""

    # (clause, kind, file, line, status) -> milestones
    counts: Counter[tuple[str, str, str, int, str]] = attrs.field(factory=Counter)
    breached: dict[str, list[Milestone]] = attrs.field(factory=dict)  # case -> in order
    statuses: dict[str, dict[str, str]] = attrs.field(factory=dict)  # case -> deadline -> worst
    errors: dict[str, tuple[str, ...]] = attrs.field(factory=dict)  # case -> the builder's
    handed: int = 0  # cases SQL handed to Python whole (a value beyond its tables or range)

    def add_python(
        self, key: str, milestones: Sequence[Milestone], errors: Sequence[str], statuses: bool
    ) -> None:
        """Add the builder's milestones of one case (those SQL did not judge)."""
        for m in milestones:
            self.counts[(m.clause, m.kind, m.file, m.line, m.status)] += 1
        mine = [m for m in milestones if m.status == "breached" and m.kind != "warning"]
        if mine:
            merged = self.breached.get(key, []) + mine
            self.breached[key] = merged
        if errors:
            self.errors[key] = tuple(errors)
        if statuses:
            self.statuses.setdefault(key, {}).update(clock_statuses(milestones))


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
    def clauses(self) -> list[str]:
        """The deadlines and ladders of the record type, in the policy's order."""
        return [d.name for d in self.plan.deadlines] + [e.name for e in self.plan.escalations]

    @property
    def builder(self) -> TimelineBuilder:
        return self.plan.builder

    def sql(self, now: dt.datetime | None, dialect: str | None = None) -> tuple[str, str]:
        """The milestones query and the query of cases handed to Python, over the tables of
        the module docstring, in `dialect` (`duckdb` or `spark`; by default this object's)."""
        ctes, ms, flags, _ = self.steps(now, dialect)
        return with_steps(ctes, ms), with_steps(ctes, flags)

    def steps(
        self, now: dt.datetime | None, dialect: str | None = None, now_sql: str | None = None
    ) -> tuple[list[tuple[str, str]], str, str, str]:
        """`sql` as named steps (CTEs) and final queries over them (`TimelineQuery.steps`);
        with `now_sql`, `now` is that SQL text (a BIGINT of epoch microseconds) instead."""
        now_us: int | str | None = None if now is None else to_us(now.astimezone(dt.UTC))
        if now_sql is not None:
            now_us = now_sql
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
            # (within the dates Python has: data at the end of year 9999 has no margin)
            first = _days_after((_from_us(lo_us) or EPOCH).astimezone(cal.tz).date(), -1)
            last = _days_after((_from_us(hi_us) or EPOCH).astimezone(cal.tz).date(), MARGIN_DAYS)
            # (from the first date itself where the calendar cannot decide the day before: the
            # first year of the published holidays)
            rows = _rows_until_unknown(cal, first, last) or _rows_until_unknown(
                cal, _days_after(first, 1), last
            )
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
        event_instants: Sequence[int] = (),
    ) -> tuple[set[str], dict[str, tuple[list[tuple[str, str]], list[tuple[Any, ...]]]]]:
        """The tables of the module docstring from Python values (name -> columns with their
        SQL types, rows), and the cases whose values SQL cannot hold (they have no row in
        `tl_r`, so SQL gives them no milestones: Python judges them).  `event_instants`: the
        times of events already in a `tl_e` made elsewhere, for the calendar tables' span."""
        fields = self.plan.fields
        r_cols = [("k", "TEXT")] + [(c, _sql_type(self.plan.types[f])) for f, c in fields.items()]
        r_rows: list[tuple[Any, ...]] = []
        lo: int | None = None
        hi: int | None = None
        huge: set[str] = set()
        instants: list[int] = list(event_instants)  # every datetime of the data, for the span
        if instants:
            lo, hi = min(instants), max(instants)
        kinds = [self.plan.types[f].kind.value for f in fields]
        for rid, values in rows:
            vals = [_value_us(values.get(f)) for f in fields]
            for n, kind in enumerate(kinds):
                v = vals[n]
                if v is None or kind not in ("datetime", "duration"):
                    continue
                if abs(v) > SAFE_US:
                    huge.add(id_key(rid))
                elif kind == "datetime":
                    lo = v if lo is None or v < lo else lo
                    hi = v if hi is None or v > hi else hi
                    instants.append(v)
            if id_key(rid) not in huge:
                r_rows.append((id_key(rid), *vals))
        e_rows: list[tuple[Any, ...]] = []
        for key, evs in events.items():
            for o, ev in enumerate(evs, 1):
                us = to_us(ev.at.astimezone(dt.UTC))
                lo = us if lo is None or us < lo else lo
                hi = us if hi is None or us > hi else hi
                instants.append(us)
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
        if instants:
            # the tables span the bulk of the data: one stray year (9999, say) would make them
            # thousands of years long; a case reaching past them goes to Python
            mid = sorted(instants)[len(instants) // 2]
            lo = max(lo or 0, mid - SPAN_US)
            hi = min(hi or 0, mid + SPAN_US)
        cal_rows = self.calendar_rows(lo or 0, hi or 0)
        for n, (b_rows, v_rows) in cal_rows.items():
            out[f"tl_b_{n}"] = ([(c, "BIGINT") for c in ("b", "n", "st", "en", "ob")], b_rows)
            out[f"tl_v_{n}"] = ([(c, "BIGINT") for c in ("v", "n", "st", "ob", "len")], v_rows)
        return huge, out

    # ---- DuckDB -------------------------------------------------------------------------------
    def load_duckdb(
        self,
        con: Any,
        rows: Sequence[tuple[Any, Mapping[str, Any]]],
        events: Mapping[str, Sequence[Event]],
        event_table: str | None = None,
    ) -> set[str]:
        """Create the tables in `con` (temporary); the cases SQL cannot hold (`tables`).
        The rows reach DuckDB as CSV in a private temporary directory (DuckDB's CSV reader
        takes them several times faster than inserts from Python); a text is written with a
        leading `.` so that an empty text and a missing one stay apart.  With `event_table`
        (a table of `con` with columns `k, ts, name, role, line`, `csdsl.duck_events`) `tl_e`
        is made from its events of the rows' cases, in SQL, and `events` is not read."""
        if event_table is None:
            huge, tables = self.tables(rows, events)
        else:
            con.execute(
                "CREATE OR REPLACE TEMP TABLE tl_e AS SELECT k, ts, row_number() OVER "
                "(PARTITION BY k ORDER BY ts, line) AS o, name, role, line "
                f"FROM {event_table} WHERE k IN (SELECT unnest(?::VARCHAR[]))",
                [[id_key(rid) for rid, _ in rows]],
            )
            found = con.execute("SELECT ts FROM tl_e").fetchall()
            huge, tables = self.tables(rows, {}, [us for (us,) in found])
            del tables["tl_e"]
        with tempfile.TemporaryDirectory(prefix="csdsl-clocks-") as tmp:
            for name, (cols, data) in tables.items():
                spec = ", ".join(f"{c} {'VARCHAR' if t == 'TEXT' else t}" for c, t in cols)
                con.execute(f"CREATE OR REPLACE TEMP TABLE {name} ({spec})")
                if not data:
                    continue
                path = Path(tmp) / f"{name}.csv"
                texts = [i for i, (_, t) in enumerate(cols) if t == "TEXT"]
                with path.open("w", encoding="utf-8", newline="") as fh:
                    out = csv.writer(fh)
                    if texts:
                        for row in data:
                            cells = list(row)
                            for i in texts:
                                if cells[i] is not None:
                                    cells[i] = "." + cells[i]
                            out.writerow(cells)
                    else:
                        out.writerows(data)
                raw = ", ".join(f"{c}: '{'VARCHAR' if t == 'TEXT' else t}'" for c, t in cols)
                picked = ", ".join(f"substr({c}, 2)" if t == "TEXT" else c for c, t in cols)
                con.execute(
                    f"INSERT INTO {name} SELECT {picked} FROM read_csv(?, header = false, "
                    f"columns = {{{raw}}}, quote = '\"', escape = '\"', "
                    "auto_detect = false)",
                    [str(path)],
                )
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
        ctes, _, _, both = self.steps(now)
        # one query: the milestones, and the cases handed to Python as rows with `ci` -1
        every = con.execute(f"{with_steps(ctes, both)} ORDER BY k, ci, cy, sub").fetchall()
        flagged = huge | {r[0] for r in every if r[1] < 0}
        found = [r for r in every if r[1] >= 0]
        return self.assemble(rows, events, now, found, flagged)

    def judge_duckdb(
        self,
        con: Any,
        rows: Sequence[tuple[Any, Mapping[str, Any]]],
        events: Mapping[str, Sequence[Event]],
        now: dt.datetime | None,
        statuses: bool = False,
        event_table: str | None = None,
    ) -> ClockResults:
        """What an audit keeps of the records' timelines, with the milestones left in DuckDB:
        the count per clause and status, the breached milestones (not warnings) per case, and
        with `statuses` each deadline's status per case (`metrics.clock_statuses`).  The
        builder judges the clauses and cases SQL hands to Python, as `run_duckdb`: with
        `event_table` (`load_duckdb`) the events of just those cases are read from it
        (`events.only`, an `EventLog` or `csdsl.duck_events.DuckEvents`)."""
        huge = self.load_duckdb(con, rows, events, event_table)
        ctes, _, _, both = self.steps(now)
        con.execute(f"CREATE OR REPLACE TEMP TABLE tl_m AS {with_steps(ctes, both)}")
        flagged = huge | {r[0] for r in con.execute("SELECT k FROM tl_m WHERE ci < 0").fetchall()}
        con.execute(
            "CREATE OR REPLACE TEMP TABLE tl_g AS SELECT * FROM tl_m WHERE ci >= 0 AND k NOT IN "
            "(SELECT k FROM tl_m WHERE ci < 0)"
        )
        n = len(self.plan.deadlines)
        out = ClockResults()
        for ci, sub, clause, kind, status, count in con.execute(
            "SELECT ci, CASE WHEN kind = 'escalation' THEN sub ELSE 0 END, clause, kind, "
            "status, count(*) FROM tl_g GROUP BY ALL"
        ).fetchall():
            span = self._span(ci, sub, n)
            out.counts[(clause, kind, span.file, span.line, status)] += count
        found = con.execute(
            f"SELECT {MILESTONE_COLUMNS} FROM tl_g WHERE status = 'breached' AND "
            "kind <> 'warning' ORDER BY k, ci, cy, sub"
        ).fetchall()
        for row in found:
            out.breached.setdefault(row[0], []).append(self._milestone(row, n))
        if statuses:
            for k, clause, status in con.execute(
                "SELECT k, clause, status FROM tl_g WHERE kind = 'deadline'"
            ).fetchall():
                mine = out.statuses.setdefault(k, {})
                was = mine.get(clause)
                if was is None or WORST.index(status) < WORST.index(was):
                    mine[clause] = status
        con.execute("DROP TABLE tl_m")
        con.execute("DROP TABLE tl_g")
        python = set(self.plan.python)
        out.handed = len(flagged)
        if flagged or python:
            if event_table is not None:
                wanted = [id_key(rid) for rid, _ in rows if python or id_key(rid) in flagged]
                assert isinstance(events, CaseEvents), "an event table comes with its log"
                events = events.only(wanted)
            for rid, values in rows:
                key = id_key(rid)
                if key not in flagged and not python:
                    continue
                built = self.builder.build(rid, values, events.get(key, []), now)
                kept = [m for m in built.milestones if key in flagged or _owner_clause(m) in python]
                out.add_python(key, kept, built.errors, statuses)
                if key not in flagged and key in out.breached:
                    # SQL's clauses and Python's in the policy's order, as the builder gives
                    # them (the audit writes a record's findings in this order)
                    out.breached[key].sort(key=lambda m: self.clauses.index(_owner_clause(m)))
        return out

    def _span(self, ci: int, sub: int, n: int) -> Any:
        if ci < n:
            return self.plan.deadlines[ci].span
        return self.plan.escalations[ci - n].steps[sub].span

    def _milestone(self, row: Sequence[Any], n: int) -> Milestone:
        _k, ci, cy, sub, clause, kind, owner, due, status, at, late, msg = row
        span = self._span(ci, sub, n)
        return Milestone(
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
            span.file,
            span.line,
        )

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
        ctes, ms_sql, flag_sql, _ = self.steps(now, "spark")
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
        for row in found:
            m = self._milestone(row, n)
            by_case.setdefault(row[0], []).append(((row[1], row[2], row[3]), m))
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


def _days_after(day: dt.date, days: int) -> dt.date:
    """`day` moved by `days`, held within the dates Python has."""
    try:
        return day + dt.timedelta(days=days)
    except OverflowError:
        return dt.date.max if days > 0 else dt.date.min


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

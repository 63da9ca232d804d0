"""The timeline views of `csdsl compile --target sql`: a record type's clocks as views over the
warehouse's own tables, for DuckDB and Spark.

In: the loaded policy, the dialect, the table of each record type (as `csdsl.codegen.sql` reads
it) and the span of dates the calendar tables cover (`Span`; `default_span`, `check_span`).
Out (`ClockViews.statements`), per record type with deadlines or escalation ladders, over its
record table and an events table `"<Record>_events"(case_id, at, name, role, line)` (`at` an
instant: TIMESTAMPTZ, TIMESTAMP in UTC on Spark; `line` the event's line in the log, which
orders events at the same instant):
- `"<Record>_clock_now"(now_us)`: `now`, the warehouse's current time in epoch microseconds
  (replace the view to judge at another instant);
- `"<Record>_clock_records"(k, f0, f1, ...)` and `"<Record>_clock_events"(k, ts, o, name, role,
  line)`: the tables `tl_r` and `tl_e` of `csdsl.sql.timelines`, read from the user's tables
  (datetimes as epoch microseconds by the dialect's `epoch_us`, as `csdsl.sql.exprs` reads them;
  a value beyond what SQL's arithmetic holds is NULL and its case is handed to Python);
- per working calendar the clocks read, the tables `"<calendar>_open_by_day"` (`tl_b_N`) and
  `"<calendar>_open_by_hour"` (`tl_v_N`) as data, for the span;
- `"<Record>_milestones"`: one row per milestone, as `TimelineBuilder` gives it, for the cases
  SQL judges; `"<Record>_handed_to_python"`: the cases it does not (a value outside the calendar
  tables or the datetimes csdsl can show): `csdsl timelines` judges them.

PostgreSQL has no timeline views: the clocks' SQL picks a row's value per group with `min_by`
and counts with `//`, `range` and `HUGEINT` (DuckDB) or `explode(sequence(...))` and `DECIMAL`
(Spark); the script says so and `csdsl compile` says so on standard error.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import attrs
from sqlglot import exp

from csdsl import ir
from csdsl.calendar import CalendarError, WorkCalendar, china_published_years
from csdsl.intervals import intervals_table, to_us
from csdsl.source import Span as SourceSpan
from csdsl.sql.dialects import Dialect
from csdsl.sql.timeline_plan import MARGIN_DAYS, SAFE_US, reused_steps, with_steps
from csdsl.sql.timelines import SqlTimelines

if TYPE_CHECKING:
    from csdsl.api import Policy

DIALECTS = ("duckdb", "spark")  # the dialects the timeline views are written for
NO_VIEWS = {
    "postgres": "PostgreSQL has no `min_by`, which the clocks' SQL picks each deciding event "
    "with; use --dialect duckdb or spark, or `csdsl timelines` / `csdsl audit`",
}
ROWS_PER_INSERT = 1000
# the dates a span may cover: the calendar tables start a day before the first and reach
# `MARGIN_DAYS` past the last, inside the datetimes csdsl can show; at most about a century
FIRST_DATE = dt.date(1, 1, 4)
LAST_DATE = dt.date(9999, 12, 28) - dt.timedelta(days=MARGIN_DAYS)
MAX_SPAN_DAYS = 100 * 365
MILESTONE_VIEW_COLUMNS = (
    "record_id, clause, kind, owner, cycle, due, status, at, late_by_us, message, file, line"
)


class SpanError(ValueError):
    """A span of dates the calendars cannot decide, or that is empty."""


@attrs.frozen
class Span:
    """The local dates the calendar tables cover (both included)."""

    first: dt.date
    last: dt.date


def clock_records(policy: ir.Policy) -> list[str]:
    """The record types with deadlines or escalation ladders, in the policy's order."""
    with_clocks = {d.record for d in policy.deadlines} | {e.record for e in policy.escalations}
    return [r.name for r in policy.records if r.name in with_clocks]


def _working_calendars(policy: Policy) -> dict[str, WorkCalendar]:
    """The working calendars the SQL of the clocks reads (not 24x7), by name."""
    out: dict[str, WorkCalendar] = {}
    for record in clock_records(policy.ir):
        st = SqlTimelines(policy.ir, record, policy.tz)
        for name in st.plan.calendars:
            out[name] = st.builder.calendars[name]
    return out


def default_span(policy: Policy, today: dt.date | None = None) -> Span:
    """The current year, the one before and the one after; where a calendar the clocks read
    keeps China's holidays, moved inside the years its holiday data publishes (all of those
    years made the hotline's script 5.4 MB)."""
    year = (today or dt.date.today()).year
    first, last = year - 1, year + 1
    cals = _working_calendars(policy)
    if any(c.statutory == "china" for c in cals.values()):
        lo, hi = china_published_years()
        if last > hi:
            first, last = max(lo, hi - 2), hi
        if first < lo:
            first, last = lo, min(hi, lo + 2)
    return Span(dt.date(first, 1, 1), dt.date(last, 12, 31))


def check_span(policy: Policy, span: Span) -> None:
    """Raise `SpanError` when the span is empty or a calendar the clocks read cannot decide one
    of its dates."""
    if span.first > span.last:
        raise SpanError(
            f"--from {span.first.isoformat()} is after --to {span.last.isoformat()}; "
            "give the first date, then the last"
        )
    if span.first < FIRST_DATE:
        raise SpanError(
            f"--from {span.first.isoformat()} is too early: the calendar tables start the day "
            f"before; choose {FIRST_DATE.isoformat()} or later"
        )
    if span.last > LAST_DATE:
        raise SpanError(
            f"--to {span.last.isoformat()} is too late: the calendar tables reach "
            f"{MARGIN_DAYS} days past it; choose {LAST_DATE.isoformat()} or earlier"
        )
    if (span.last - span.first).days >= MAX_SPAN_DAYS:
        raise SpanError(
            f"--from {span.first.isoformat()} to --to {span.last.isoformat()} is longer than "
            f"the {MAX_SPAN_DAYS // 365} years a calendar table holds; choose a shorter span"
        )
    for name, cal in _working_calendars(policy).items():
        try:
            intervals_table(cal, span.first, span.last)
        except CalendarError as exc:
            raise SpanError(f"calendar `{name}` cannot cover --from/--to: {exc}") from None


def _ident(name: str, d: Dialect) -> str:
    return exp.to_identifier(name, quoted=True).sql(dialect=d.name)


def _text(value: str, d: Dialect) -> str:
    return exp.Literal.string(value).sql(dialect=d.name)


@attrs.frozen
class Statement:
    """One statement of the script: its `--` comment lines and its SQL (no `;`)."""

    comments: tuple[str, ...]
    sql: str


class ClockViews:
    """The timeline views of a policy (module docstring)."""

    def __init__(
        self, policy: Policy, d: Dialect, tables: Mapping[str, exp.Table], span: Span
    ) -> None:
        self.policy = policy
        self.d = d
        self.tables = tables
        self.span = span
        self.records = clock_records(policy.ir)
        self.timelines = {r: SqlTimelines(policy.ir, r, policy.tz, d.name) for r in self.records}
        self.spark_tables: list[str] = []  # the clock steps Spark computes as tables
        self._made: list[Statement] | None = None

    # ---- names ---------------------------------------------------------------------------------
    def names(self) -> list[str]:
        """Every view and table the statements make (for the script's check of names)."""
        out = []
        for r in self.records:
            out += [f"{r}_{s}" for s in ("clock_now", "clock_records", "clock_events")]
            out += [f"{r}_milestones", f"{r}_handed_to_python"]
        for cal in self.calendars():
            out += [f"{cal}_open_by_day", f"{cal}_open_by_hour"]
        self.statements()
        return out + self.spark_tables

    def calendars(self) -> list[str]:
        seen: list[str] = []
        for st in self.timelines.values():
            seen += [c for c in st.plan.calendars if c not in seen]
        return seen

    def head(self) -> list[str]:
        """The lines of the script's first comment about the clocks."""
        if not self.records:
            return []
        views = ", ".join(f"{r}_milestones" for r in self.records)
        lines = [
            f"deadlines and escalations: the timeline views at the end ({views}), over an "
            "events table per record type (<Record>_events: see there)",
        ]
        if self.calendars():
            lines.append(
                f"calendar tables for {self.span.first.isoformat()} to "
                f"{self.span.last.isoformat()} (csdsl compile --from/--to); a clock beyond them "
                "is handed to Python"
            )
        for r in self.records:
            for clause, why in self.timelines[r].python.items():
                lines.append(
                    f"left to Python: `{clause}` of {r}: {why}; `csdsl timelines` judges it"
                )
        return lines

    # ---- the statements ------------------------------------------------------------------------
    def statements(self) -> list[Statement]:
        if self._made is None:
            self._made = self._statements()
        return self._made

    def _statements(self) -> list[Statement]:
        out: list[Statement] = []
        done: set[str] = set()
        for r in self.records:
            st = self.timelines[r]
            for cal in st.plan.calendars:
                if cal not in done:
                    done.add(cal)
                    out += self.calendar(st, cal)
            out += self.record(r, st)
        return out

    def calendar(self, st: SqlTimelines, cal: str) -> list[Statement]:
        tz = st.builder.calendars[cal].tz
        lo = dt.datetime.combine(self.span.first, dt.time(0), tz)
        hi = dt.datetime.combine(self.span.last + dt.timedelta(days=1), dt.time(0), tz)
        n = st.plan.calendars[cal]
        b_rows, v_rows = st.calendar_rows(to_us(lo), to_us(hi))[n]
        out = []
        for suffix, cols, rows, what in (
            (
                "open_by_day",
                ("b", "n", "st", "en", "ob"),
                b_rows,
                "interval n (from st to en, open time ob before it) by the UTC day b it touches",
            ),
            (
                "open_by_hour",
                ("v", "n", "st", "ob", "len"),
                v_rows,
                "interval n (from st, len long, open time ob before it) by the hour v of open "
                "time it covers",
            ),
        ):
            name = _ident(f"{cal}_{suffix}", self.d)
            comments = (
                f"calendar {cal}: its open intervals, {what} (instants and durations in "
                "microseconds since 1970-01-01 UTC)",
                f"  from {self.span.first.isoformat()} to {self.span.last.isoformat()}, "
                f"{len(rows)} rows",
            )
            out.append(Statement(comments, f"DROP TABLE IF EXISTS {name}"))
            spec = ", ".join(f"{c} BIGINT" for c in cols)
            out.append(Statement((), f"CREATE TABLE {name} ({spec})"))
            for i in range(0, len(rows), ROWS_PER_INSERT):
                chunk = rows[i : i + ROWS_PER_INSERT]
                values = ",\n".join("(" + ", ".join(map(str, row)) + ")" for row in chunk)
                out.append(Statement((), f"INSERT INTO {name} VALUES\n{values}"))
        return out

    def record(self, r: str, st: SqlTimelines) -> list[Statement]:
        d = self.d

        def q(name: str) -> str:
            return _ident(name, d)

        rec = self.policy.ir.record(r)
        assert rec is not None
        table = self.tables[r].sql(dialect=d.name)
        out = []
        now_sql = d.epoch_us(exp.CurrentTimestamp()).sql(dialect=d.name)
        out.append(
            Statement(
                (
                    f"{r}: now, the warehouse's current time in microseconds since 1970-01-01 UTC "
                    "(replace this view to judge the clocks at another instant)",
                ),
                f"CREATE OR REPLACE VIEW {q(r + '_clock_now')} AS\nSELECT {now_sql} AS now_us",
            )
        )
        # the records: the fields the clocks read, as `tl_r` holds them
        cols = [f"CAST({q('id')} AS {st.plan.d.text}) AS k"]
        huge = []
        notes = []
        for field, col in st.plan.fields.items():
            kind = st.plan.types[field].kind
            value = d.field(exp.column(field, quoted=True), kind).sql(dialect=d.name)
            if kind in (ir.Kind.DATETIME, ir.Kind.DURATION):
                too_big = f"ABS({value}) > {SAFE_US}"
                huge.append(too_big)
                value = f"CASE WHEN {too_big} THEN NULL ELSE {value} END"
            cols.append(f"{value} AS {col}")
            notes.append(
                f"  {col}: {field}" + (" (epoch microseconds)" if kind is ir.Kind.DATETIME else "")
            )
        out.append(
            Statement(
                (f"{r}: the fields the clocks read, from {table} (k: id as text)", *notes),
                f"CREATE OR REPLACE VIEW {q(r + '_clock_records')} AS\nSELECT "
                + ", ".join(cols)
                + f" FROM {table}",
            )
        )
        events = q(f"{r}_events")
        ts = d.epoch_us(exp.column("at", quoted=True)).sql(dialect=d.name)
        out.append(
            Statement(
                (
                    f"{r}: the event log, from the table {r}_events, one row per event:",
                    "  case_id (the record's id), at (the instant: TIMESTAMPTZ; TIMESTAMP in "
                    "UTC on Spark), name (the event), role (who; NULL if none), line (BIGINT: "
                    "its line in the log, which orders events at the same instant)",
                    "  numbered per case by (at, line) as o",
                ),
                f"CREATE OR REPLACE VIEW {q(r + '_clock_events')} AS\nSELECT "
                f"CAST({q('case_id')} AS {st.plan.d.text}) AS k, {ts} AS ts, "
                f"ROW_NUMBER() OVER (PARTITION BY {q('case_id')} ORDER BY {q('at')}, "
                f"{q('line')}) AS o, CAST({q('name')} AS {st.plan.d.text}) AS name, "
                f"CAST({q('role')} AS {st.plan.d.text}) AS role, "
                f"CAST({q('line')} AS BIGINT) AS line FROM {events}",
            )
        )
        ctes, _ms, flags, both = st.steps(
            None, d.name, now_sql=f"SELECT now_us FROM {q(r + '_clock_now')}"
        )
        inputs = [
            ("tl_r", f"SELECT * FROM {q(r + '_clock_records')}"),
            ("tl_e", f"SELECT k, ts, o, name, role, line FROM {q(r + '_clock_events')}"),
        ]
        for cal, n in st.plan.calendars.items():
            inputs.append((f"tl_b_{n}", f"SELECT b, n, st, en, ob FROM {q(cal + '_open_by_day')}"))
            inputs.append(
                (f"tl_v_{n}", f"SELECT v, n, st, ob, len FROM {q(cal + '_open_by_hour')}")
            )
        huge_q = (
            f"SELECT CAST({q('id')} AS {st.plan.d.text}) AS k FROM {table} WHERE "
            + " OR ".join(huge)
            if huge
            else None
        )
        handed_all = "SELECT k FROM tl_all WHERE ci < 0" + (
            f" UNION ALL {huge_q}" if huge_q else ""
        )
        steps = [*inputs, *ctes, ("tl_all", both)]
        final = (
            f"SELECT k AS record_id, clause, kind, owner, CAST(cy AS BIGINT) AS {q('cycle')}, "
            f"{self.instant('due')} AS due, status, {self.instant('ts')} AS {q('at')}, "
            f"CAST(late AS BIGINT) AS late_by_us, msg AS message, {self.spans(st, 0)} AS file, "
            f"{self.spans(st, 1)} AS line FROM tl_all WHERE ci >= 0 AND k NOT IN "
            f"({handed_all}) ORDER BY k, ci, cy, sub"
        )
        handed_q = flags + (f" UNION {huge_q}" if huge_q else "")
        handed_final = f"SELECT DISTINCT k AS record_id FROM ({handed_q}) h"
        kept = self.materialized(r, steps, [final, handed_final])
        note: tuple[str, ...] = (
            f"{r}: on Spark, the steps the clocks read more than once are tables, computed "
            "when this script runs (Spark would compute a view's shared steps once per reader, "
            "and the plan outgrows the driver): run the script again to judge the clocks anew",
            "  " + ", ".join(f"{r}_clock_{name}" for name in kept),
        )
        for name in kept:
            self.spark_tables.append(f"{r}_clock_{name}")
            table_name = q(f"{r}_clock_{name}")
            out.append(Statement(note, f"DROP TABLE IF EXISTS {table_name}"))
            note = ()
            body = self.needed(r, steps, kept, dict(steps)[name])
            out.append(Statement((), f"CREATE TABLE {table_name} AS\n{body}"))
        python = ", ".join(f"`{c}`" for c in st.python)
        out.append(
            Statement(
                (
                    f"{r}: the milestones of its deadlines and escalation ladders, as "
                    "`csdsl timelines` gives them: due and at instants, late_by_us microseconds, "
                    "now from " + f"{r}_clock_now",
                    f"  every case but those in {r}_handed_to_python"
                    + (f"; not the clauses left to Python ({python})" if python else ""),
                ),
                f"CREATE OR REPLACE VIEW {q(r + '_milestones')} AS\n"
                + self.needed(r, steps, kept, final),
            )
        )
        out.append(
            Statement(
                (
                    f"{r}: the cases SQL cannot judge (a value outside the calendar tables, or "
                    "beyond the datetimes csdsl can show or SQL's arithmetic holds): their "
                    "milestones need the Python engine (`csdsl timelines`, `csdsl audit`)",
                ),
                f"CREATE OR REPLACE VIEW {q(r + '_handed_to_python')} AS\n"
                + self.needed(r, steps, kept, handed_final),
            )
        )
        return out

    def materialized(
        self, r: str, steps: Sequence[tuple[str, str]], finals: Sequence[str]
    ) -> list[str]:
        """On Spark, the clock steps read more than once (`reused_steps`), in order; none on
        DuckDB, which computes a view's shared steps once."""
        if self.d.name != "spark":
            return []
        inputs = {"tl_r", "tl_e"} | {n for n, _ in steps if n.startswith(("tl_b_", "tl_v_"))}
        reused = reused_steps(steps, finals)
        return [n for n, _ in steps if n in reused and n not in inputs]

    def needed(
        self, r: str, steps: Sequence[tuple[str, str]], kept: Sequence[str], sql: str
    ) -> str:
        """`sql` with the steps it reads, directly or through others, as CTEs: a step in
        `kept` read from its table."""
        words = {n: re.compile(rf"\b{re.escape(n)}\b") for n, _ in steps}
        bodies = dict(steps)
        want: set[str] = set()
        todo = [sql]
        while todo:
            text = todo.pop()
            for n, word in words.items():
                if n not in want and word.search(text):
                    want.add(n)
                    if n not in kept:
                        todo.append(bodies[n])
        ctes = [
            (n, f"SELECT * FROM {_ident(f'{r}_clock_{n}', self.d)}" if n in kept else body)
            for n, body in steps
            if n in want
        ]
        return with_steps(ctes, sql)

    def instant(self, col: str) -> str:
        """A column of epoch microseconds as the dialect's instant (TIMESTAMPTZ; Spark's
        TIMESTAMP in the session's time zone)."""
        us = self.d.to_bigint(exp.column(col))
        ts = exp.UnixToTime(this=us, scale=exp.UnixToTime.MICROS)
        if self.d.name == "duckdb":
            return exp.AtTimeZone(this=ts, zone=exp.Literal.string("UTC")).sql(dialect="duckdb")
        return ts.sql(dialect=self.d.name)

    def spans(self, st: SqlTimelines, part: int) -> str:
        """The file (`part` 0) or line (1) of a milestone's clause, from its `ci` and `sub`."""
        n = len(st.plan.deadlines)
        whens = []

        def value(span: SourceSpan) -> str:
            return _text(span.file, self.d) if part == 0 else str(span.line)

        for i, dl in enumerate(st.plan.deadlines):
            whens.append(f"WHEN ci = {i} THEN {value(dl.span)}")
        for li, e in enumerate(st.plan.escalations):
            for si, step in enumerate(e.steps):
                whens.append(f"WHEN ci = {n + li} AND sub = {si} THEN {value(step.span)}")
        return f"CASE {' '.join(whens)} END"


def no_views_line(dialect: str) -> str:
    """Why a dialect has no timeline views."""
    return f"no timeline views for {dialect}: {NO_VIEWS[dialect]}"


__all__ = [
    "DIALECTS",
    "ClockViews",
    "Span",
    "SpanError",
    "Statement",
    "check_span",
    "clock_records",
    "default_span",
    "no_views_line",
]

"""What the SQL of timelines is written from: the plan of one record type's clocks (which
deadlines and ladders SQL can say, the calendar lookups, the dialect) and `StepWriter`, the
base of the query parts (`timeline_deadlines`, `timeline_ladders`), which collects the named
steps (CTEs), the milestone rows and the cases handed back to Python.  `timeline_query` puts the
parts together.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence

import attrs
from sqlglot import exp

from csdsl import ir
from csdsl.calendar import WorkCalendar
from csdsl.sql.dialects import Dialect, dialect_of
from csdsl.sql.exprs import SqlExprs, SqlUnsupported
from csdsl.timeline import TimelineBuilder

US = dt.timedelta(microseconds=1)
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
DAY_US = 86_400_000_000
HOUR_US = 3_600_000_000
# the instants csdsl can show (`values.in_range`, a day inside each end): beyond, Python says why
LO_US = (dt.datetime(1, 1, 3, tzinfo=dt.UTC) - EPOCH) // US
HI_US = (dt.datetime(9999, 12, 29, tzinfo=dt.UTC) - EPOCH) // US
# a record's datetime or duration SQL reads: a larger one sends its case to Python, so that no
# sum of instants, amounts and pauses overflows a BIGINT
SAFE_US = 2**60
LITERAL_US = 2**52  # a policy's durations SQL counts with (times `MAX_UPDATES` still safe)
REACH_US = 3600 * DAY_US  # a due time further than this from its start: Python (`LIMIT_DAYS`)
MARGIN_DAYS = 120  # calendar dates built past the data's last instant


@attrs.frozen
class _Dialect:
    name: str
    text: str
    wide: str  # an integer type holding a BIGINT times a BIGINT

    def div(self, a: str, b: str) -> str:
        """a / b rounded down, for integers."""
        m = f"((({a}) % ({b})) + ({b})) % ({b})"
        op = "//" if self.name == "duckdb" else "div"
        return f"((({a}) - {m}) {op} ({b}))"


DIALECTS = {
    "duckdb": _Dialect("duckdb", "VARCHAR", "HUGEINT"),
    "spark": _Dialect("spark", "STRING", "DECIMAL(38,0)"),
}


def _as_held(name: str) -> Dialect:
    """The exact dialect `name`, reading a field's column as `tl_r` holds it: a datetime is
    already epoch microseconds there (not a TIMESTAMP to read with `epoch_us`)."""

    class Held(type(dialect_of(name))):  # type: ignore[misc]
        def field(self, column: exp.Expr, kind: ir.Kind) -> exp.Expr:
            return column

    held: Dialect = Held()
    return held


def literal(text: str) -> str:
    return exp.Literal.string(text).sql()


def _natural(cal: WorkCalendar | None) -> bool:
    return cal is None or cal.is_24x7


class TimelinePlan:
    """The SQL of one record type's clocks, and what is left to Python."""

    def __init__(self, policy: ir.Policy, record: str, tz: dt.tzinfo, dialect: str) -> None:
        self.policy = policy
        self.tz = tz
        self.d = DIALECTS[dialect]
        self.dialect = dialect
        self.builder = TimelineBuilder(policy, record, tz)
        self.deadlines = self.builder.deadlines
        self.escalations = self.builder.escalations
        self.fields: dict[str, str] = {}  # field -> column
        self.calendars: dict[str, int] = {}  # working calendars the SQL reads -> table number
        self.python: dict[str, str] = {}
        rec = policy.record(record)
        self.types = {f.name: f.type for f in rec.fields} if rec is not None else {}
        self.whens: dict[int, str] = {}  # id(target) -> SQL
        for d in self.deadlines:
            why = self._deadline_why(d)
            if why is not None:
                self.python[d.name] = why
        for e in self.escalations:
            why = self._ladder_why(e)
            if why is not None:
                self.python[e.name] = why

    # ---- what SQL cannot say ----------------------------------------------------------------
    def _spec_why(self, spec: ir.TimeSpec, what: str) -> str | None:
        if spec.kind in ("days", "next_day"):
            return f"{what} `{spec.text}` counts working days or a time of day"
        if isinstance(spec.amount, dt.timedelta) and abs(spec.amount // US) > LITERAL_US:
            return f"{what} `{spec.text}` is longer than SQL's arithmetic holds"
        if spec.calendar is not None:
            cal = self.builder.calendars[spec.calendar]
            if not _natural(cal):
                self.calendars.setdefault(spec.calendar, len(self.calendars))
        return None

    def _deadline_why(self, d: ir.Deadline) -> str | None:
        if len(d.pauses) > 1:
            return "it has several pause kinds"
        if d.reopen_event is not None and d.reopen_mode == "continue":
            return "its clock continues on reopening"
        roles = [d.stop_event, d.reopen_event, d.until_event]
        roles += [n for p in d.pauses for n in (p.pause, p.resume)]
        names = [n for n in roles if n is not None]
        if len(set(names)) < len(names):
            return "one event name plays two parts in its clock"
        specs = [(t.time, "target") for t in d.targets]
        if d.cap is not None:
            specs.append((d.cap, "cap"))
        if d.update is not None:
            specs.append((d.update[0], "update"))
        for spec, what in specs:
            why = self._spec_why(spec, what)
            if why is not None:
                return why
        if d.start_field is not None:
            self._column(d.start_field)
        for t in d.targets:
            if t.time.field is not None:
                self._column(t.time.field)
            if t.when is not None:
                try:
                    tr = SqlExprs(
                        self.policy, _as_held(self.dialect), self._col_expr, d.name, t.span
                    )
                    self.whens[id(t)] = tr(t.when).sql(dialect=self.dialect)
                except SqlUnsupported as exc:
                    return f"a target's condition has no SQL form ({exc.why})"
        return None

    def _ladder_why(self, e: ir.Escalation) -> str | None:
        for s in e.steps:
            if s.kind == "breach" and s.ref in self.python:
                return f"the deadline `{s.ref}` it follows is computed by Python"
            for spec, what in ((s.after, "step"), (s.within, "step")):
                if spec is not None:
                    why = self._spec_why(spec, what)
                    if why is not None:
                        return why
        clock = next((s.ref for s in e.steps if s.kind == "breach" and s.ref), None)
        if clock is not None and clock in self.python:
            return f"the deadline `{clock}` it follows is computed by Python"
        return None

    def _column(self, field: str) -> str:
        col = self.fields.get(field)
        if col is None:
            col = self.fields[field] = f"f{len(self.fields)}"
        return col

    def _col_expr(self, field: str) -> exp.Expr:
        return exp.column(self._column(field), table="r")

    # ---- calendar lookups -------------------------------------------------------------------
    def open_at(self, cal: int, t: str, keys: Sequence[str], src: str) -> str:
        """A query over `src` adding column `o_val`: the open time of calendar `cal` up to the
        instant `t` (a column of `src`); NULL outside its table."""
        key = ", ".join(f"x.{k}" for k in keys)
        b = self.d.div(f"x.{t}", str(DAY_US))
        return (
            f"SELECT {key}, min_by(c.ob + GREATEST(0, x.{t} - c.st), c.n) AS o_val "
            f"FROM {src} x LEFT JOIN tl_b_{cal} c ON c.b = {b} AND c.en > x.{t} "
            f"GROUP BY {key}"
        )

    def reach(self, cal: int, c: str, keys: Sequence[str], src: str) -> str:
        """A query over `src` adding `r_val`: the first instant at which calendar `cal`'s open
        time reaches `c` (a column of `src`, above zero); NULL outside its table."""
        key = ", ".join(f"x.{k}" for k in keys)
        v = self.d.div(f"x.{c}", str(HOUR_US))
        return (
            f"SELECT {key}, min_by(c.st + (x.{c} - c.ob), c.n) AS r_val "
            f"FROM {src} x LEFT JOIN tl_v_{cal} c ON c.v = {v} AND c.ob + c.len >= x.{c} "
            f"GROUP BY {key}"
        )


def spec_calendar(plan: TimelinePlan, spec: ir.TimeSpec) -> int | None:
    """The calendar table a spec's working time is counted on; None for natural time."""
    if spec.calendar is None or spec.kind in ("field_at", "field_for"):
        return None
    cal = plan.builder.calendars[spec.calendar]
    return None if _natural(cal) else plan.calendars[spec.calendar]


def amount_us(spec: ir.TimeSpec) -> int:
    assert isinstance(spec.amount, dt.timedelta)
    return spec.amount // US


def scaled_sql(d: _Dialect, amt: str, fraction: float) -> str:
    """`amt` (microseconds) times `fraction`, rounded half to even as `timedelta * float`."""
    num, den = fraction.as_integer_ratio()
    x = f"(CAST({amt} AS {d.wide}) * CAST({num} AS {d.wide}))"
    if den == 1:
        return f"CAST({x} AS BIGINT)"
    # the remainder is taken from the product itself: the quotient times `den` overflows the
    # BIGINT Spark's `div` gives
    r = f"((({x}) % {den} + {den}) % {den})"
    q = f"CAST({d.div(x, str(den))} AS BIGINT)"
    up = f"CASE WHEN 2 * {r} > {den} OR (2 * {r} = {den} AND {q} % 2 <> 0) THEN 1 ELSE 0 END"
    return f"({q} + {up})"


class _Ctes:
    def __init__(self) -> None:
        self.items: list[tuple[str, str]] = []

    def add(self, name: str, sql: str) -> str:
        self.items.append((name, sql))
        return name


def with_steps(ctes: Sequence[tuple[str, str]], final: str) -> str:
    body = ",\n".join(f"{n} AS (\n{s}\n)" for n, s in ctes)
    return f"WITH {body}\n{final}" if ctes else final


def reused_steps(ctes: Sequence[tuple[str, str]], finals: Sequence[str]) -> set[str]:
    """The steps read by more than one other step or final query."""
    texts = [s for _, s in ctes] + list(finals)
    out = set()
    for name, _ in ctes:
        word = re.compile(rf"\b{name}\b")
        if sum(len(word.findall(t)) for t in texts) > 1:
            out.add(name)
    return out


MILESTONE_COLUMNS = "k, ci, cy, sub, clause, kind, owner, due, status, ts, late, msg"


class StepWriter:
    """The steps, milestone rows and hand-backs one query collects; the due-time step every
    clock uses."""

    def __init__(self, plan: TimelinePlan, now_us: int | str | None) -> None:
        """`now_us`: `now` in microseconds since 1970-01-01 UTC, or SQL text that gives it (a
        BIGINT, the same all through one query: `current_timestamp` as epoch microseconds)."""
        self.p = plan
        self.d = plan.d
        if isinstance(now_us, str):
            self.now = f"({now_us})"
        else:
            self.now = "CAST(NULL AS BIGINT)" if now_us is None else str(now_us)
        self.ctes = _Ctes()
        self.parts: list[str] = []  # queries of milestone rows (`MILESTONE_COLUMNS`)
        self.flags: list[str] = []  # queries of `k`: cases to hand to Python
        self.summary: dict[str, str] = {}  # deadline -> CTE (k, fb_due, running, done_at)

    def text(self, s: str) -> str:
        return f"CAST({s} AS {self.d.text})"

    def ms(
        self,
        src: str,
        ci: int,
        cy: str,
        sub: str,
        clause: str,
        kind: str,
        owner: str | None,
        due: str,
        status: str,
        at: str,
        late: str,
        msg: str,
        where: str = "",
    ) -> None:
        own = "CAST(NULL AS " + self.d.text + ")" if owner is None else literal(owner)
        self.parts.append(
            f"SELECT k, {ci} AS ci, {cy} AS cy, {sub} AS sub, {literal(clause)} AS clause, "
            f"{literal(kind)} AS kind, {own} AS owner, {due} AS due, {status} AS status, "
            f"{at} AS ts, {late} AS late, {msg} AS msg FROM {src}"
            + (f" WHERE {where}" if where else "")
        )

    def bad(self, src: str, cond: str) -> None:
        self.flags.append(f"SELECT k FROM {src} WHERE {cond}")

    # ---- add: the due time of an amount after a start, on a calendar, around pauses ------------
    def add_due(
        self, name: str, req: str, keys: Sequence[str], cal: int | None, pz: str | None
    ) -> str:
        """CTE `name` (keys..., due) from `req` (keys..., cs, amt, use_pz): `amt` of the
        calendar's time after `cs`, skipping the pauses of `pz` (k, cy, p, q, f, po: the pauses
        with their free open time before them and their own open time, for this calendar)
        where `use_pz`.  `due` is NULL where the tables cannot say (the case goes to Python)."""
        key = ", ".join(f"x.{k}" for k in keys)
        if pz is None:
            held = f"SELECT {key}, x.cs, x.amt, 0 AS held FROM {req} x"
        else:
            held = (
                f"SELECT {key}, x.cs, x.amt, COALESCE(SUM(CASE WHEN x.use_pz AND "
                f"(z.f < x.amt OR z.f = 0) THEN z.po ELSE 0 END), 0) AS held FROM {req} x "
                f"LEFT JOIN {pz} z ON z.k = x.k AND z.cy = x.cy GROUP BY {key}, x.cs, x.amt"
            )
        h = self.ctes.add(f"{name}_h", held)
        plain = ", ".join(keys)
        if cal is None:
            return self.ctes.add(name, f"SELECT {plain}, cs + amt + held AS due, cs, amt FROM {h}")
        o = self.ctes.add(f"{name}_o", self.p.open_at(cal, "cs", [*keys], h))
        c = self.ctes.add(
            f"{name}_c",
            f"SELECT {key}, x.cs, x.amt, CASE WHEN x.amt > 0 THEN o.o_val + x.amt + x.held END "
            f"AS tgt FROM {h} x JOIN {o} o ON " + " AND ".join(f"o.{k} = x.{k}" for k in keys),
        )
        r = self.ctes.add(f"{name}_r", self.p.reach(cal, "tgt", [*keys], c))
        return self.ctes.add(
            name,
            f"SELECT {key}, r.r_val AS due, x.cs, x.amt FROM {c} x JOIN {r} r ON "
            + " AND ".join(f"r.{k} = x.{k}" for k in keys),
        )

    def check(self, src: str, due: str = "due", start: str = "cs") -> None:
        """Hand to Python the cases whose due time SQL could not find or csdsl cannot show."""
        self.bad(
            src,
            f"{due} IS NULL OR {due} < {LO_US} OR {due} > {HI_US} OR {due} - {start} > {REACH_US}",
        )

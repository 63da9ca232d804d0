"""The SQL of timelines: `TimelineQuery` writes, for one record type, the queries whose rows are
the milestones `csdsl.timeline.TimelineBuilder` gives (and the cases to hand back to Python).
`csdsl.sql.timelines` makes the tables they read and runs them; its docstring says what the
tables hold and how the clock rules become SQL.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence

import attrs
from sqlglot import exp

from csdsl import ir
from csdsl.calendar import WorkCalendar
from csdsl.sql.dialects import Dialect, dialect_of
from csdsl.sql.exprs import SqlExprs, SqlUnsupported
from csdsl.timeline import ESCALATED, MAX_UPDATES, TimelineBuilder

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


def _lit(text: str) -> str:
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


def _spec_cal(plan: TimelinePlan, spec: ir.TimeSpec) -> int | None:
    """The calendar table a spec's working time is counted on; None for natural time."""
    if spec.calendar is None or spec.kind in ("field_at", "field_for"):
        return None
    cal = plan.builder.calendars[spec.calendar]
    return None if _natural(cal) else plan.calendars[spec.calendar]


def _amount_us(spec: ir.TimeSpec) -> int:
    assert isinstance(spec.amount, dt.timedelta)
    return spec.amount // US


def _scaled_sql(d: _Dialect, amt: str, fraction: float) -> str:
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


class TimelineQuery:
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
        own = "CAST(NULL AS " + self.d.text + ")" if owner is None else _lit(owner)
        self.parts.append(
            f"SELECT k, {ci} AS ci, {cy} AS cy, {sub} AS sub, {_lit(clause)} AS clause, "
            f"{_lit(kind)} AS kind, {own} AS owner, {due} AS due, {status} AS status, "
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

    # ---- one deadline -------------------------------------------------------------------------
    def deadline(self, i: int, d: ir.Deadline) -> None:
        p = self.p
        pre = f"d{i}"
        names = {d.stop_event}
        if d.reopen_event:
            names.add(d.reopen_event)
        if d.until_event:
            names.add(d.until_event)
        pause = d.pauses[0] if d.pauses else None
        if pause is not None:
            names |= {pause.pause, pause.resume}
        # the start
        if d.start_field is not None:
            col = p._column(d.start_field)
            s = self.ctes.add(f"{pre}_s", f"SELECT k, {col} AS s FROM tl_r WHERE {col} IS NOT NULL")
            self.bad("tl_r", f"{col} IS NOT NULL AND ({col} < {LO_US} OR {col} > {HI_US})")
            why_none = f"`{d.start_field}` is missing, so the clock never started"
        else:
            assert d.start_event is not None
            s = self.ctes.add(
                f"{pre}_s",
                f"SELECT k, min_by(ts, o) AS s FROM tl_e WHERE name = {_lit(d.start_event)} "
                "GROUP BY k",
            )
            why_none = f"no `{d.start_event}` event, so the clock never started"
        # the target that applies
        whens = []
        for j, t in enumerate(d.targets):
            conds = []
            if t.time.field is not None:
                conds.append(f"r.{p._column(t.time.field)} IS NOT NULL")
            if t.when is not None:
                conds.append(f"COALESCE(({p.whens[id(t)]}), FALSE)")
            whens.append(f"WHEN {' AND '.join(conds) or 'TRUE'} THEN {j}")
        t_sql = f"CASE {' '.join(whens)} END" if whens else "CAST(NULL AS BIGINT)"
        tg = self.ctes.add(f"{pre}_t", f"SELECT r.k, {t_sql} AS t FROM tl_r r")
        # not applicable: no start, or no target
        na = self.ctes.add(
            f"{pre}_na",
            f"SELECT t.k, CASE WHEN s.k IS NULL THEN {_lit(why_none)} ELSE "
            f"{_lit('no target applies to this record')} END AS msg FROM {tg} t "
            f"LEFT JOIN {s} s ON s.k = t.k WHERE s.k IS NULL OR t.t IS NULL",
        )
        null = "CAST(NULL AS BIGINT)"
        self.ms(
            na,
            i,
            "1",
            "0",
            d.name,
            "deadline",
            None,
            null,
            _lit("not_applicable"),
            null,
            null,
            "msg",
        )
        # the clock's events, in order
        inlist = ", ".join(_lit(n) for n in sorted(names))
        ev = self.ctes.add(
            f"{pre}_e",
            f"SELECT e.k, e.ts, e.o, e.name, e.line FROM tl_e e JOIN {s} s ON s.k = e.k "
            f"JOIN {tg} t ON t.k = e.k WHERE t.t IS NOT NULL AND e.ts >= s.s "
            f"AND e.name IN ({inlist})",
        )
        live = self.ctes.add(
            f"{pre}_l",
            f"SELECT s.k, s.s FROM {s} s JOIN {tg} t ON t.k = s.k WHERE t.t IS NOT NULL",
        )
        cyc = self._cycles(pre, d, live, ev)
        pz, openp = self._pauses(pre, d, pause, cyc, ev)
        self._clock(i, pre, d, cyc, pz, openp, tg)

    def _cycles(self, pre: str, d: ir.Deadline, live: str, ev: str) -> str:
        """(k, cy, cs, start_o, stop_at, stop_line, stop_o) per cycle."""
        if d.reopen_event is None:
            st = self.ctes.add(
                f"{pre}_st",
                f"SELECT k, min_by(ts, o) AS ts, min_by(line, o) AS line, min(o) AS o "
                f"FROM {ev} WHERE name = {_lit(d.stop_event)} GROUP BY k",
            )
            return self.ctes.add(
                f"{pre}_cy",
                f"SELECT l.k, 1 AS cy, l.s AS cs, -1 AS start_o, st.ts AS stop_at, "
                f"st.line AS stop_line, st.o AS stop_o FROM {live} l LEFT JOIN {st} st "
                "ON st.k = l.k",
            )
        kinds = [d.stop_event, d.reopen_event] + ([d.until_event] if d.until_event else [])
        inlist = ", ".join(_lit(n) for n in kinds)
        sr = self.ctes.add(
            f"{pre}_sr",
            f"SELECT k, ts, o, line, name, CASE WHEN name = {_lit(d.stop_event)} THEN 'S' "
            f"ELSE 'R' END AS ty FROM {ev} WHERE name IN ({inlist})",
        )
        ch = self.ctes.add(
            f"{pre}_ch",
            f"SELECT k, ts, o, line, name, ty, ROW_NUMBER() OVER (PARTITION BY k ORDER BY o) "
            f"AS tn FROM (SELECT *, LAG(ty) OVER (PARTITION BY k ORDER BY o) AS prev FROM "
            f"{sr}) x WHERE ty <> COALESCE(prev, 'R')",
        )
        if d.until_event is not None:
            cut = (
                f"SELECT k, min(tn) AS tn FROM {ch} WHERE ty = 'R' AND "
                f"name = {_lit(d.until_event)} GROUP BY k"
            )
            ct = self.ctes.add(f"{pre}_ct", cut)
            tr = self.ctes.add(
                f"{pre}_tr",
                f"SELECT c.* FROM {ch} c LEFT JOIN {ct} u ON u.k = c.k "
                "WHERE u.tn IS NULL OR c.tn < u.tn",
            )
        else:
            tr = ch
        starts = self.ctes.add(
            f"{pre}_cs",
            f"SELECT k, 1 AS cy, s AS cs, -1 AS start_o FROM {live} UNION ALL "
            f"SELECT k, {self.d.div('tn', '2')} + 1 AS cy, ts AS cs, o AS start_o FROM {tr} "
            "WHERE tn % 2 = 0",
        )
        return self.ctes.add(
            f"{pre}_cy",
            f"SELECT c.k, c.cy, c.cs, c.start_o, t.ts AS stop_at, t.line AS stop_line, "
            f"t.o AS stop_o FROM {starts} c LEFT JOIN {tr} t ON t.k = c.k AND t.tn % 2 = 1 "
            f"AND {self.d.div('t.tn + 1', '2')} = c.cy",
        )

    def _pauses(
        self, pre: str, d: ir.Deadline, pause: ir.Pause | None, cyc: str, ev: str
    ) -> tuple[str | None, str]:
        """The pauses per cycle (k, cy, p, q; the open one held to `now`) and the open pause
        of each cycle (k, cy, op_at)."""
        if pause is None:
            return None, self.ctes.add(
                f"{pre}_op", f"SELECT k, cy, CAST(NULL AS BIGINT) AS op_at FROM {cyc}"
            )
        pe = self.ctes.add(
            f"{pre}_pe",
            f"SELECT c.k, c.cy, e.ts, e.o, CASE WHEN e.name = {_lit(pause.pause)} THEN 'P' "
            f"ELSE 'Q' END AS ty FROM {cyc} c JOIN {ev} e ON e.k = c.k AND e.o > c.start_o "
            f"AND (c.stop_o IS NULL OR e.o < c.stop_o) WHERE e.name IN "
            f"({_lit(pause.pause)}, {_lit(pause.resume)})",
        )
        pc = self.ctes.add(
            f"{pre}_pc",
            f"SELECT k, cy, ts, ty, ROW_NUMBER() OVER (PARTITION BY k, cy ORDER BY o) AS pn "
            f"FROM (SELECT *, LAG(ty) OVER (PARTITION BY k, cy ORDER BY o) AS prev FROM {pe}) x "
            "WHERE ty <> COALESCE(prev, 'Q')",
        )
        hold = f"GREATEST({self.now}, a.ts)" if self.now != "CAST(NULL AS BIGINT)" else "a.ts"
        pz = self.ctes.add(
            f"{pre}_pz",
            f"SELECT a.k, a.cy, a.ts AS p, COALESCE(b.ts, c.stop_at, {hold}) AS q, "
            f"CASE WHEN b.ts IS NULL AND c.stop_at IS NULL THEN 1 ELSE 0 END AS open "
            f"FROM {pc} a JOIN {cyc} c ON c.k = a.k AND c.cy = a.cy LEFT JOIN {pc} b "
            f"ON b.k = a.k AND b.cy = a.cy AND b.pn = a.pn + 1 WHERE a.ty = 'P'",
        )
        op = self.ctes.add(
            f"{pre}_op",
            f"SELECT c.k, c.cy, z.p AS op_at FROM {cyc} c LEFT JOIN {pz} z ON z.k = c.k "
            "AND z.cy = c.cy AND z.open = 1",
        )
        return pz, op

    def _pz_for(self, pre: str, pz: str, cyc: str, cal: int | None) -> str:
        """The pauses (q > p) with `f` (free open time from the cycle's start to the pause)
        and `po` (the pause's own open time) on calendar `cal`."""
        name = f"{pre}_pz{'n' if cal is None else cal}"
        if cal is None:
            return self.ctes.add(
                name,
                f"SELECT k, cy, p, q, (p - cs) - COALESCE(SUM(q - p) OVER (PARTITION BY k, cy "
                f"ORDER BY p ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS f, "
                f"q - p AS po FROM (SELECT z.*, c.cs FROM {pz} z JOIN {cyc} c ON c.k = z.k "
                f"AND c.cy = z.cy WHERE z.q > z.p) x",
            )
        pts = self.ctes.add(
            f"{name}_t",
            f"SELECT z.k, z.cy, 'p' AS w, z.p AS p, z.p AS t FROM {pz} z WHERE z.q > z.p "
            f"UNION ALL SELECT z.k, z.cy, 'q' AS w, z.p AS p, z.q AS t FROM {pz} z "
            f"WHERE z.q > z.p UNION ALL SELECT c.k, c.cy, 's' AS w, "
            f"CAST(NULL AS BIGINT) AS p, c.cs AS t FROM {cyc} c",
        )
        o = self.ctes.add(f"{name}_o", self.p.open_at(cal, "t", ["k", "cy", "w", "p", "t"], pts))
        self.bad(o, "o_val IS NULL")
        return self.ctes.add(
            name,
            f"SELECT k, cy, p, q, (op - os) - COALESCE(SUM(oq - op) OVER (PARTITION BY k, cy "
            f"ORDER BY p ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS f, "
            f"oq - op AS po FROM (SELECT a.k, a.cy, a.p, a.t AS q, b.o_val AS op, "
            f"a.o_val AS oq, s.o_val AS os FROM {o} a JOIN {o} b ON b.k = a.k AND b.cy = a.cy "
            f"AND b.w = 'p' AND b.p = a.p JOIN {o} s ON s.k = a.k AND s.cy = a.cy "
            f"AND s.w = 's' WHERE a.w = 'q') x",
        )

    def _clock(
        self, i: int, pre: str, d: ir.Deadline, cyc: str, pz: str | None, op: str, tg: str
    ) -> None:
        p = self.p
        null = "CAST(NULL AS BIGINT)"
        pzs: dict[int | None, str | None] = {}

        def pauses_on(cal: int | None) -> str | None:
            if pz is None:
                return None
            if cal not in pzs:
                pzs[cal] = self._pz_for(pre, pz, cyc, cal)
            return pzs[cal]

        # the target's due time, per target (each may count on its own calendar)
        dues = []
        for j, t in enumerate(d.targets):
            spec = t.time
            if spec.kind == "field_at":
                amt, use = f"r.{p._column(spec.amount)} - c.cs", "FALSE"  # type: ignore[arg-type]
            elif spec.kind == "field_for":
                amt, use = f"r.{p._column(spec.amount)}", "TRUE"  # type: ignore[arg-type]
            else:
                amt, use = str(_amount_us(spec)), "TRUE"
            req = self.ctes.add(
                f"{pre}_q{j}",
                f"SELECT c.k, c.cy, c.cs, {amt} AS amt, {use} AS use_pz FROM {cyc} c "
                f"JOIN {tg} t ON t.k = c.k JOIN tl_r r ON r.k = c.k WHERE t.t = {j}",
            )
            cal = _spec_cal(p, spec)
            if cal is not None:
                self.bad(req, "amt <= 0")
            due = self.add_due(f"{pre}_d{j}", req, ["k", "cy"], cal, pauses_on(cal))
            dues.append((j, due, spec))
        union = " UNION ALL ".join(
            f"SELECT k, cy, due, amt, {j} AS t FROM {due}" for j, due, _ in dues
        )
        td = self.ctes.add(f"{pre}_td", union)
        self.check(
            self.ctes.add(
                f"{pre}_tdc",
                f"SELECT x.*, c.cs FROM {td} x JOIN {cyc} c ON c.k = x.k AND c.cy = x.cy",
            )
        )
        # the cap
        if d.cap is not None:
            req = self.ctes.add(
                f"{pre}_qc",
                f"SELECT k, cy, cs, {_amount_us(d.cap)} AS amt, TRUE AS use_pz FROM {cyc}",
            )
            cal = _spec_cal(p, d.cap)
            cd = self.add_due(f"{pre}_dc", req, ["k", "cy"], cal, pauses_on(cal))
            self.check(cd)
            cap_join = f"LEFT JOIN {cd} cd ON cd.k = c.k AND cd.cy = c.cy"
            cap_due = "cd.due"
        else:
            cap_join, cap_due = "", null
        # the cycle judged
        stop = _lit(d.stop_event)
        reason = d.pauses[0].reason if d.pauses else None
        paused = "the clock is paused" + (f" ({reason})" if reason else "")
        line = self.text("stop_line")
        due_expr = f"CASE WHEN {cap_due} < td.due THEN {cap_due} ELSE td.due END"
        judged = self.ctes.add(
            f"{pre}_j",
            f"SELECT c.k, c.cy, c.cs, c.stop_at, c.stop_line, op.op_at, td.t, td.amt, "
            f"td.due AS tdue, CASE WHEN {cap_due} < td.due THEN 1 ELSE 0 END AS capped, "
            f"{due_expr} AS due FROM {cyc} c JOIN {td} td ON td.k = c.k AND td.cy = c.cy "
            f"JOIN {op} op ON op.k = c.k AND op.cy = c.cy {cap_join}",
        )
        now = self.now
        status = (
            "CASE WHEN stop_at IS NOT NULL THEN CASE WHEN stop_at <= due THEN 'met' ELSE "
            "'breached' END WHEN op_at IS NOT NULL AND op_at < due THEN 'pending' "
            f"WHEN op_at IS NOT NULL THEN 'breached' WHEN {now} > due THEN 'breached' "
            "ELSE 'pending' END"
        )
        late = (
            "CASE WHEN stop_at IS NOT NULL THEN CASE WHEN stop_at <= due THEN NULL ELSE "
            f"stop_at - due END WHEN op_at IS NOT NULL AND op_at < due THEN NULL "
            f"WHEN op_at IS NOT NULL THEN COALESCE({now}, op_at) - due "
            f"WHEN {now} > due THEN {now} - due ELSE NULL END"
        )
        msg = (
            f"CASE WHEN stop_at IS NOT NULL THEN CASE WHEN stop_at <= due THEN "
            f"concat('`', {stop}, '` at line ', {line}) ELSE "
            f"concat('`', {stop}, '` at line ', {line}, ', after the due time') "
            f"END WHEN op_at IS NOT NULL AND op_at < due THEN {_lit(paused)} "
            f"WHEN op_at IS NOT NULL THEN 'the due time passed before the clock was paused' "
            f"WHEN {now} > due THEN 'no stop event by now' ELSE 'no stop event yet' END"
        )
        jd = self.ctes.add(
            f"{pre}_jd",
            f"SELECT k, cy, due, stop_at AS ts, {status} AS status, {late} AS late, "
            f"{msg} AS msg FROM {judged}",
        )
        self.ms(jd, i, "cy", "0", d.name, "deadline", None, "due", "status", "ts", "late", "msg")
        self.summary[d.name] = self.ctes.add(
            f"{pre}_sum",
            f"SELECT k, min_by(due, cy) FILTER (WHERE status = 'breached') AS fb_due, "
            f"max(CASE WHEN status = 'breached' THEN 1 ELSE 0 END) AS fb, "
            f"max(CASE WHEN status = 'pending' THEN 1 ELSE 0 END) AS running, "
            f"max(CASE WHEN cy = 1 THEN ts END) AS done_at FROM {jd} GROUP BY k",
        )
        self._warnings(i, pre, d, judged, pauses_on)
        self._updates(i, pre, d, cyc, pauses_on)

    def _warnings(
        self,
        i: int,
        pre: str,
        d: ir.Deadline,
        j: str,
        pauses_on: Callable[[int | None], str | None],
    ) -> None:
        p = self.p
        points: list[tuple[str, str, str]] = []  # (CTE with k, cy, wdue, done), rule, sub
        if d.warn_percent is not None:
            pct = d.warn_percent
            # which spec and pauses: the cap's when it applied, else the target's own
            variants: list[tuple[str, ir.TimeSpec, str, str]] = []  # (where, spec, amt, use)
            for t_i, t in enumerate(d.targets):
                spec = t.time
                if spec.kind == "field_at":
                    amt, use = _scaled_sql(self.d, "amt", pct), "FALSE"
                elif spec.kind == "field_for":
                    amt, use = _scaled_sql(self.d, "amt", pct), "TRUE"
                else:
                    amt, use = str((spec.amount * pct) // US), "TRUE"  # type: ignore[operator]
                variants.append((f"capped = 0 AND t = {t_i}", spec, amt, use))
            if d.cap is not None:
                amt = str((d.cap.amount * pct) // US)  # type: ignore[operator]
                variants.append(("capped = 1", d.cap, amt, "TRUE"))
            parts = []
            for n, (where, spec, amt, use) in enumerate(variants):
                req = self.ctes.add(
                    f"{pre}_wq{n}",
                    f"SELECT k, cy, cs, {amt} AS amt, {use} AS use_pz FROM {j} WHERE {where}",
                )
                cal = _spec_cal(p, spec)
                if cal is not None:
                    self.bad(req, "amt <= 0")
                wd = self.add_due(f"{pre}_w{n}", req, ["k", "cy"], cal, pauses_on(cal))
                self.check(wd)
                parts.append(f"SELECT k, cy, due AS wdue FROM {wd}")
            wu = self.ctes.add(f"{pre}_wp", " UNION ALL ".join(parts))
            w = self.ctes.add(
                f"{pre}_wpj",
                f"SELECT j.k, j.cy, w.wdue, j.stop_at AS done FROM {j} j JOIN {wu} w "
                "ON w.k = j.k AND w.cy = j.cy",
            )
            points.append((w, f"warn at {pct:.0%}", "1"))
        if d.warn_lead is not None:
            lead = d.warn_lead // US
            w = self.ctes.add(
                f"{pre}_wl",
                f"SELECT k, cy, due - {lead} AS wdue, stop_at AS done, cs FROM {j}",
            )
            self.bad(w, f"wdue < {LO_US}")
            points.append((w, f"warn {d.warn_lead} before", "2"))
        now = self.now
        for w, _rule, sub in points:
            status = (
                "CASE WHEN done IS NOT NULL AND done <= wdue THEN 'met' WHEN done IS NOT NULL "
                f"OR {now} > wdue THEN 'breached' ELSE 'pending' END"
            )
            msg = (
                "CASE WHEN done IS NOT NULL AND done <= wdue THEN 'done before the warning "
                f"point' WHEN done IS NOT NULL OR {now} > wdue THEN 'still open at the warning "
                "point: warn the owner' ELSE 'the warning point has not been reached' END"
            )
            self.ms(
                w,
                i,
                "cy",
                sub,
                f"{d.name}.warning",
                "warning",
                None,
                "wdue",
                status,
                "done",
                "CAST(NULL AS BIGINT)",
                msg,
            )

    def _updates(
        self,
        i: int,
        pre: str,
        d: ir.Deadline,
        cyc: str,
        pauses_on: Callable[[int | None], str | None],
    ) -> None:
        if d.update is None:
            return
        every, name = d.update
        step = _amount_us(every)
        now = self.now
        end = f"COALESCE(c.stop_at, {now})"
        cal = _spec_cal(self.p, every)
        # how many points to compute: a point k falls at least k steps after the start (in
        # natural time; on a calendar, in its open time), so those up to the first at or past
        # the end are enough
        natural = self.d.div(f"{end} - c.cs", str(max(step, 1)))
        bound = f"{natural} + 1"
        if cal is not None:
            ends = self.ctes.add(f"{pre}_ue", f"SELECT c.k, c.cy, c.cs, {end} AS ends FROM {cyc} c")
            oe = self.ctes.add(f"{pre}_uoe", self.p.open_at(cal, "ends", ["k", "cy"], ends))
            os_ = self.ctes.add(f"{pre}_uos", self.p.open_at(cal, "cs", ["k", "cy"], ends))
            cyc = self.ctes.add(
                f"{pre}_ucy",
                f"SELECT c.*, a.o_val AS oe, b.o_val AS os FROM {cyc} c LEFT JOIN {oe} a "
                f"ON a.k = c.k AND a.cy = c.cy LEFT JOIN {os_} b ON b.k = c.k AND b.cy = c.cy",
            )
            open_bound = self.d.div("c.oe - c.os", str(max(step, 1)))
            bound = (
                f"CASE WHEN c.oe IS NOT NULL AND c.os IS NOT NULL THEN {open_bound} + 2 "
                f"ELSE {natural} + 1 END"
            )
        count = (
            f"CASE WHEN {end} IS NULL THEN 1 ELSE GREATEST(1, LEAST({MAX_UPDATES}, {bound})) END"
        )
        nums = self.ctes.add(
            f"{pre}_un",
            f"SELECT explode(sequence(1, {MAX_UPDATES})) AS n"
            if self.d.name == "spark"
            else f"SELECT range AS n FROM range(1, {MAX_UPDATES + 1})",
        )
        req = self.ctes.add(
            f"{pre}_uq",
            f"SELECT c.k, c.cy, CAST(n.n AS BIGINT) AS un, c.cs, CAST({step} AS BIGINT) * "
            "CAST(n.n AS BIGINT) AS amt, TRUE AS use_pz, "
            f"c.stop_at, {end} AS ends FROM {cyc} c JOIN {nums} n ON n.n <= {count}",
        )
        ud = self.add_due(f"{pre}_ud", req, ["k", "cy", "un"], cal, pauses_on(cal))
        pts = self.ctes.add(
            f"{pre}_up",
            f"SELECT u.k, u.cy, u.un, u.due AS pt, CASE WHEN u.un = 1 THEN u.cs ELSE "
            f"LAG(u.due) OVER (PARTITION BY u.k, u.cy ORDER BY u.un) END AS prev, q.stop_at, "
            f"q.ends, u.cs FROM {ud} u JOIN {req} q ON q.k = u.k AND q.cy = u.cy "
            "AND q.un = u.un",
        )
        # a point SQL could not place is Python's to judge when it may be shown: the first,
        # or one after a point before the end
        self.bad(pts, "pt IS NULL AND (un = 1 OR prev < ends)")
        open_now = f"(stop_at IS NULL AND {now} IS NOT NULL)"
        kept = self.ctes.add(
            f"{pre}_uk",
            f"SELECT * FROM {pts} WHERE (ends IS NULL AND un = 1) OR pt < ends OR "
            f"({open_now} AND (un = 1 OR prev < ends))",
        )
        self.check(kept, "pt")
        sent = f"SELECT k, ts, o, line FROM tl_e WHERE name = {_lit(name)}"
        hit = self.ctes.add(
            f"{pre}_uh",
            f"SELECT u.k, u.cy, u.un, min_by(e.ts, e.o) AS hat, min_by(e.line, e.o) AS hline "
            f"FROM {kept} u JOIN ({sent}) e ON e.k = u.k AND e.ts >= u.cs AND e.ts > u.prev "
            f"AND e.ts <= u.pt GROUP BY u.k, u.cy, u.un",
        )
        nxt = self.ctes.add(
            f"{pre}_ux",
            f"SELECT u.k, u.cy, u.un, min(e.ts) AS nat FROM {kept} u JOIN ({sent}) e "
            f"ON e.k = u.k AND e.ts >= u.cs AND e.ts > u.pt GROUP BY u.k, u.cy, u.un",
        )
        lit = _lit(name)
        res = self.ctes.add(
            f"{pre}_ur",
            f"SELECT u.k, u.cy, u.un, u.pt, "
            f"CASE WHEN h.hat IS NOT NULL THEN 'met' WHEN u.ends IS NOT NULL AND u.pt < u.ends "
            f"THEN 'breached' ELSE 'pending' END AS status, h.hat AS ts, "
            f"CASE WHEN h.hat IS NULL AND u.ends IS NOT NULL AND u.pt < u.ends THEN "
            f"CASE WHEN x.nat IS NOT NULL AND x.nat < u.ends THEN x.nat ELSE u.ends END - u.pt "
            f"END AS late, "
            f"CASE WHEN h.hat IS NOT NULL THEN concat('`', {lit}, '` at line ', "
            f"{self.text('h.hline')}) WHEN u.ends IS NOT NULL AND u.pt < u.ends THEN "
            f"concat('no `', {lit}, '` in time') ELSE concat('waiting for `', {lit}, '`') END "
            f"AS msg FROM {kept} u LEFT JOIN {hit} h ON h.k = u.k AND h.cy = u.cy "
            f"AND h.un = u.un LEFT JOIN {nxt} x ON x.k = u.k AND x.cy = u.cy AND x.un = u.un",
        )
        self.ms(
            res,
            i,
            "cy",
            "10 + un",
            f"{d.name}.update",
            "update",
            None,
            "pt",
            "status",
            "ts",
            "late",
            "msg",
        )

    # ---- one ladder ---------------------------------------------------------------------------
    def ladder(self, ci: int, li: int, e: ir.Escalation) -> None:
        pre = f"l{li}"
        clock = next((s.ref for s in e.steps if s.kind == "breach" and s.ref), None)
        done = f"LEFT JOIN {self.summary[clock]} dn ON dn.k = r.k" if clock in self.summary else ""
        done_at = "dn.done_at" if clock in self.summary else "CAST(NULL AS BIGINT)"
        esc = f"SELECT k, ts, o, line, role FROM tl_e WHERE name = {_lit(ESCALATED)}"
        prev_src = self.ctes.add(
            f"{pre}_p0",
            f"SELECT r.k, CAST(NULL AS BIGINT) AS prev, {done_at} AS done_at FROM tl_r r {done}",
        )
        for si, step in enumerate(e.steps):
            sp = f"{pre}_s{si}"
            clause = f"{e.name}: {step.source} -> {step.target}"
            # the trigger
            if step.kind == "breach":
                summ = self.summary.get(step.ref or "")
                if summ is not None:
                    trig = self.ctes.add(
                        f"{sp}_g",
                        f"SELECT x.k, x.prev, x.done_at, CASE WHEN s.fb = 1 THEN s.fb_due END "
                        f"AS trig, COALESCE(s.running, 0) AS running FROM {prev_src} x "
                        f"LEFT JOIN {summ} s ON s.k = x.k",
                    )
                else:
                    trig = self.ctes.add(
                        f"{sp}_g",
                        f"SELECT k, prev, done_at, CAST(NULL AS BIGINT) AS trig, 0 AS running "
                        f"FROM {prev_src}",
                    )
            elif step.kind == "event":
                trig = self.ctes.add(
                    f"{sp}_g",
                    f"SELECT x.k, x.prev, x.done_at, h.ts AS trig, 0 AS running FROM "
                    f"{prev_src} x LEFT JOIN (SELECT k, min_by(ts, o) AS ts FROM tl_e WHERE "
                    f"name = {_lit(step.ref or '')} GROUP BY k) h ON h.k = x.k",
                )
            else:
                assert step.after is not None
                req = self.ctes.add(
                    f"{sp}_aq",
                    f"SELECT k, prev AS cs, {_amount_us(step.after)} AS amt FROM {prev_src} "
                    "WHERE prev IS NOT NULL",
                )
                cal = _spec_cal(self.p, step.after)
                ad = self.add_due(f"{sp}_a", req, ["k"], cal, None)
                self.check(ad)
                trig = self.ctes.add(
                    f"{sp}_g",
                    f"SELECT x.k, x.prev, x.done_at, a.due AS trig, 0 AS running FROM "
                    f"{prev_src} x LEFT JOIN {ad} a ON a.k = x.k",
                )
            # the step's due time
            if step.within is not None:
                req = self.ctes.add(
                    f"{sp}_wq",
                    f"SELECT k, trig AS cs, {_amount_us(step.within)} AS amt FROM {trig} "
                    "WHERE trig IS NOT NULL",
                )
                cal = _spec_cal(self.p, step.within)
                if cal is not None:
                    self.bad(req, "amt <= 0")
                wd = self.add_due(f"{sp}_w", req, ["k"], cal, None)
                self.check(wd)
                sd = self.ctes.add(
                    f"{sp}_d",
                    f"SELECT x.*, w.due AS sdue FROM {trig} x LEFT JOIN {wd} w ON w.k = x.k",
                )
            else:
                sd = self.ctes.add(f"{sp}_d", f"SELECT x.*, x.trig AS sdue FROM {trig} x")
            idx = e.roles.index(step.target)
            higher = [r for r in e.roles[idx + 1 :]]
            hit = self.ctes.add(
                f"{sp}_h",
                f"SELECT x.*, h.ts AS hat, h.line AS hline FROM {sd} x LEFT JOIN (SELECT k, "
                f"min_by(ts, o) AS ts, min_by(line, o) AS line FROM ({esc}) y WHERE role = "
                f"{_lit(step.target)} GROUP BY k) h ON h.k = x.k",
            )
            if higher:
                roles = ", ".join(_lit(r) for r in higher)
                hg = self.ctes.add(
                    f"{sp}_x",
                    f"SELECT x.*, g.ts AS gat, g.line AS gline, g.role AS grole FROM {hit} x "
                    f"LEFT JOIN (SELECT x2.k, min_by(y.ts, y.o) AS ts, min_by(y.line, y.o) AS "
                    f"line, min_by(y.role, y.o) AS role FROM {hit} x2 JOIN ({esc}) y ON "
                    f"y.k = x2.k WHERE y.role IN ({roles}) AND (x2.hat IS NULL OR y.ts < x2.hat) "
                    f"GROUP BY x2.k) g ON g.k = x.k",
                )
            else:
                hg = self.ctes.add(
                    f"{sp}_x",
                    f"SELECT x.*, CAST(NULL AS BIGINT) AS gat, CAST(NULL AS BIGINT) AS gline, "
                    f"CAST(NULL AS {self.d.text}) AS grole FROM {hit} x",
                )
            ff = (
                "FALSE"
                if step.kind == "event"
                else "(sdue IS NOT NULL AND done_at IS NOT NULL AND done_at <= sdue)"
            )
            now = self.now
            off = f"(trig IS NULL OR {ff})"
            pending_ref = "trig IS NULL AND running = 1" if step.kind == "breach" else "FALSE"
            status = (
                f"CASE WHEN {off} THEN CASE WHEN {pending_ref} THEN 'pending' ELSE "
                f"'not_applicable' END WHEN gat IS NOT NULL THEN 'breached' WHEN hat IS NOT NULL "
                f"AND hat <= sdue THEN 'met' WHEN hat IS NOT NULL THEN 'breached' WHEN {now} > "
                f"sdue THEN 'breached' ELSE 'pending' END"
            )
            at = f"CASE WHEN {off} THEN NULL WHEN gat IS NOT NULL THEN gat ELSE hat END"
            late = (
                f"CASE WHEN {off} OR gat IS NOT NULL THEN NULL WHEN hat IS NOT NULL AND hat <= "
                f"sdue THEN NULL WHEN hat IS NOT NULL THEN hat - sdue WHEN {now} > sdue THEN "
                f"{now} - sdue END"
            )
            ref = _lit(step.ref or "")
            msg = (
                f"CASE WHEN {off} THEN CASE WHEN {pending_ref} THEN concat('`', {ref}, "
                f"'` is still running') WHEN trig IS NULL THEN 'not triggered' ELSE "
                f"'the clock was fulfilled first' END WHEN gat IS NOT NULL THEN concat("
                f"'skipped a level: escalated straight to `', grole, '` at line ', "
                f"{self.text('gline')}) WHEN hat IS NOT NULL AND hat <= sdue THEN concat("
                f"'escalated at line ', {self.text('hline')}) WHEN hat IS NOT NULL THEN concat("
                f"'escalated late, at line ', {self.text('hline')}) WHEN {now} > sdue THEN "
                f"'never escalated' ELSE 'not escalated yet' END"
            )
            res = self.ctes.add(
                f"{sp}_r",
                f"SELECT k, CASE WHEN {off} THEN NULL ELSE sdue END AS due, {status} AS status, "
                f"{at} AS ts, {late} AS late, {msg} AS msg, CASE WHEN {off} THEN NULL "
                f"ELSE COALESCE(hat, sdue) END AS nprev, done_at FROM {hg}",
            )
            self.ms(
                res,
                ci,
                "1",
                str(si),
                clause,
                "escalation",
                step.target,
                "due",
                "status",
                "ts",
                "late",
                "msg",
            )
            prev_src = self.ctes.add(f"{sp}_n", f"SELECT k, nprev AS prev, done_at FROM {res}")

    def steps(self) -> tuple[list[tuple[str, str]], str, str, str]:
        """The named steps (CTEs) and three final queries over them: the milestones (ordered),
        the cases to hand to Python, and both in one (the cases as rows with `ci` -1)."""
        for i, d in enumerate(self.p.deadlines):
            if d.name not in self.p.python:
                self.deadline(i, d)
        n = len(self.p.deadlines)
        for li, e in enumerate(self.p.escalations):
            if e.name not in self.p.python:
                self.ladder(n + li, li, e)
        t, b = self.d.text, "BIGINT"

        def empty(k: str, ci: str, where: str) -> str:
            return (
                f"SELECT {k} AS k, {ci} AS ci, 0 AS cy, 0 AS sub, CAST(NULL AS {t}) AS clause, "
                f"CAST(NULL AS {t}) AS kind, CAST(NULL AS {t}) AS owner, CAST(NULL AS {b}) AS "
                f"due, CAST(NULL AS {t}) AS status, CAST(NULL AS {b}) AS ts, CAST(NULL AS {b}) "
                f"AS late, CAST(NULL AS {t}) AS msg{where}"
            )

        union = " UNION ALL ".join(self.parts) or empty(f"CAST(NULL AS {t})", "0", " WHERE FALSE")
        flags = " UNION ALL ".join(self.flags) or f"SELECT CAST(NULL AS {t}) AS k WHERE FALSE"
        handed = empty("k", "-1", f" FROM (SELECT DISTINCT k FROM ({flags}) g)")
        both = f"{union} UNION ALL {handed}"
        return (
            self.ctes.items,
            f"SELECT {MILESTONE_COLUMNS} FROM ({union}) m ORDER BY k, ci, cy, sub",
            f"SELECT DISTINCT k FROM ({flags}) f",
            f"SELECT {MILESTONE_COLUMNS} FROM ({both}) m",
        )

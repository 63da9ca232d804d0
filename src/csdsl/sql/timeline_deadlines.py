"""The SQL of one deadline's timeline: its cycles, pauses, clock, warnings and updates, as
named steps (CTEs) and milestone rows; a part of `timeline_query.TimelineQuery`.
"""

from __future__ import annotations

from collections.abc import Callable

from csdsl import ir
from csdsl.sql.timeline_plan import (
    HI_US,
    LO_US,
    US,
    StepWriter,
    amount_us,
    literal,
    scaled_sql,
    spec_calendar,
)
from csdsl.timeline import MAX_UPDATES


class DeadlineSteps(StepWriter):
    """The steps of one deadline (`deadline`)."""

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
                f"SELECT k, min_by(ts, o) AS s FROM tl_e WHERE name = {literal(d.start_event)} "
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
            f"SELECT t.k, CASE WHEN s.k IS NULL THEN {literal(why_none)} ELSE "
            f"{literal('no target applies to this record')} END AS msg FROM {tg} t "
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
            literal("not_applicable"),
            null,
            null,
            "msg",
        )
        # the clock's events, in order
        inlist = ", ".join(literal(n) for n in sorted(names))
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
                f"FROM {ev} WHERE name = {literal(d.stop_event)} GROUP BY k",
            )
            return self.ctes.add(
                f"{pre}_cy",
                f"SELECT l.k, 1 AS cy, l.s AS cs, -1 AS start_o, st.ts AS stop_at, "
                f"st.line AS stop_line, st.o AS stop_o FROM {live} l LEFT JOIN {st} st "
                "ON st.k = l.k",
            )
        kinds = [d.stop_event, d.reopen_event] + ([d.until_event] if d.until_event else [])
        inlist = ", ".join(literal(n) for n in kinds)
        sr = self.ctes.add(
            f"{pre}_sr",
            f"SELECT k, ts, o, line, name, CASE WHEN name = {literal(d.stop_event)} THEN 'S' "
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
                f"name = {literal(d.until_event)} GROUP BY k"
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
            f"SELECT c.k, c.cy, e.ts, e.o, CASE WHEN e.name = {literal(pause.pause)} THEN 'P' "
            f"ELSE 'Q' END AS ty FROM {cyc} c JOIN {ev} e ON e.k = c.k AND e.o > c.start_o "
            f"AND (c.stop_o IS NULL OR e.o < c.stop_o) WHERE e.name IN "
            f"({literal(pause.pause)}, {literal(pause.resume)})",
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
                amt, use = str(amount_us(spec)), "TRUE"
            req = self.ctes.add(
                f"{pre}_q{j}",
                f"SELECT c.k, c.cy, c.cs, {amt} AS amt, {use} AS use_pz FROM {cyc} c "
                f"JOIN {tg} t ON t.k = c.k JOIN tl_r r ON r.k = c.k WHERE t.t = {j}",
            )
            cal = spec_calendar(p, spec)
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
                f"SELECT k, cy, cs, {amount_us(d.cap)} AS amt, TRUE AS use_pz FROM {cyc}",
            )
            cal = spec_calendar(p, d.cap)
            cd = self.add_due(f"{pre}_dc", req, ["k", "cy"], cal, pauses_on(cal))
            self.check(cd)
            cap_join = f"LEFT JOIN {cd} cd ON cd.k = c.k AND cd.cy = c.cy"
            cap_due = "cd.due"
        else:
            cap_join, cap_due = "", null
        # the cycle judged
        stop = literal(d.stop_event)
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
            f"END WHEN op_at IS NOT NULL AND op_at < due THEN {literal(paused)} "
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
                    amt, use = scaled_sql(self.d, "amt", pct), "FALSE"
                elif spec.kind == "field_for":
                    amt, use = scaled_sql(self.d, "amt", pct), "TRUE"
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
                cal = spec_calendar(p, spec)
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
        step = amount_us(every)
        now = self.now
        end = f"COALESCE(c.stop_at, {now})"
        cal = spec_calendar(self.p, every)
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
        sent = f"SELECT k, ts, o, line FROM tl_e WHERE name = {literal(name)}"
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
        lit = literal(name)
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

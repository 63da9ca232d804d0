"""The SQL of one escalation ladder's timeline, as named steps (CTEs) and milestone rows; a part
of `timeline_query.TimelineQuery`.
"""

from __future__ import annotations

from csdsl import ir
from csdsl.sql.timeline_plan import (
    StepWriter,
    amount_us,
    literal,
    spec_calendar,
)
from csdsl.timeline import ESCALATED


class LadderSteps(StepWriter):
    """The steps of one escalation ladder (`ladder`)."""

    # ---- one ladder ---------------------------------------------------------------------------
    def ladder(self, ci: int, li: int, e: ir.Escalation) -> None:
        pre = f"l{li}"
        clock = next((s.ref for s in e.steps if s.kind == "breach" and s.ref), None)
        done = f"LEFT JOIN {self.summary[clock]} dn ON dn.k = r.k" if clock in self.summary else ""
        done_at = "dn.done_at" if clock in self.summary else "CAST(NULL AS BIGINT)"
        esc = f"SELECT k, ts, o, line, role FROM tl_e WHERE name = {literal(ESCALATED)}"
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
                    f"name = {literal(step.ref or '')} GROUP BY k) h ON h.k = x.k",
                )
            else:
                assert step.after is not None
                req = self.ctes.add(
                    f"{sp}_aq",
                    f"SELECT k, prev AS cs, {amount_us(step.after)} AS amt FROM {prev_src} "
                    "WHERE prev IS NOT NULL",
                )
                cal = spec_calendar(self.p, step.after)
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
                    f"SELECT k, trig AS cs, {amount_us(step.within)} AS amt FROM {trig} "
                    "WHERE trig IS NOT NULL",
                )
                cal = spec_calendar(self.p, step.within)
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
                f"{literal(step.target)} GROUP BY k) h ON h.k = x.k",
            )
            if higher:
                roles = ", ".join(literal(r) for r in higher)
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
            ref = literal(step.ref or "")
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

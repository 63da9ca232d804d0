"""The state of an audit run, and the findings and report parts it makes of what the passes find.

In: the policy versions, the engine, `now`, where the findings go, the standards' words; then,
from the passes over the inputs (`csdsl.auditor` for records, `csdsl.audit_transcripts`,
`csdsl.audit_sql`), each verdict, clock milestone and rule outcome of a record.  Out: the
findings (`csdsl.audit_output.Findings`, each citing its clause and the standards' sections),
the bad rows, the counts per version, warnings, the rules' summary and the KPIs (`kpis`).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Mapping
from typing import IO, Any

from csdsl import ir
from csdsl.audit_output import (
    BadRows,
    Findings,
    people,
    people_fields,
    valid_message,
    value_out,
)
from csdsl.audit_sql import SqlEngines
from csdsl.audit_versions import Version
from csdsl.importers.reconcile import Reconciler
from csdsl.metrics import MetricEngine, MetricResult
from csdsl.records import Row
from csdsl.rules import RuleResult
from csdsl.timeline import Milestone

SQL_ENGINES = ("duckdb", "spark")  # validity and KPIs in SQL; clocks, rules and judged KPIs not
Progress = Callable[[str, int], None]  # (input path, rows done since the last call)


class AuditRun:
    """One audit run: what it was asked, and what its passes found so far (see the module
    doc)."""

    def __init__(
        self,
        versions: list[Version],
        engine: str,
        now: dt.datetime | None,
        sink: IO[str] | None,
        progress: Progress | None,
        quotes: Mapping[str, str] | None = None,
        spark: Any = None,
    ) -> None:
        self.versions = versions
        self.engine = engine
        self.tz = versions[-1].policy.tz
        self.progress = progress
        self.findings = Findings(sink, keep_all=sink is None)
        self.bad = BadRows()
        self.reconciler: Reconciler | None = None  # `--vendor-sla`: fed each case's statuses
        self.reconciled: str | None = None  # the record type it reconciles
        self.inputs: list[dict[str, Any]] = []
        self.judged: list[Counter[str]] = [Counter() for _ in versions]
        # python: every metric; duckdb: only those that count a verdict, a condition or a clock,
        # which need the record's judgements and timeline, from the Python pass (the rest run
        # in SQL)
        self.metric_engines = [
            MetricEngine(
                [m for m in v.policy.ir.metrics if engine == "python" or m.judged],
                v.policy.tz,
                v.policy.ir.validities,
            )
            for v in versions
        ]
        self.metric_results: list[list[MetricResult]] = [[] for _ in versions]
        self.validity: dict[str, Any] | None = None
        self.timelines: dict[str, Any] | None = None
        self.rules: dict[str, Any] | None = None  # record-level rules' outcomes, by record type
        self.rule_points: dict[tuple[str, str, int], int | float] = {}  # points lost, by rule
        self.transcripts: dict[str, Any] | None = None
        self.as_of: dt.datetime | None = now
        self.early = 0  # records and transcripts from before the first version took effect
        self.given: set[str] = set()  # record types with an input file
        # duckdb: inputs whose records the Python pass counted per version (`judged`)
        self.judged_by_pass: set[tuple[str, str]] = set()
        self.warnings: list[str] = []
        # the SQL engines (`--engine duckdb` or `spark`)
        self.sql = (
            SqlEngines(
                versions,
                engine,
                spark,
                self.findings,
                self.bad,
                self.judged,
                self.clause,
                self.warnings,
            )
            if engine in SQL_ENGINES
            else None
        )
        # the sections of the standards each clause cites (`cites` blocks), and their words
        # when the run was given the standards' index (`--standards`)
        self.cites = {c.clause: c.refs for v in versions for c in v.policy.ir.citations}
        # the standard's words of each deadline that gives them (`deadline NAME "words" for R`),
        # and of each transcript rule (a situation's rule without its own: the situation's)
        self.wordings: dict[str, str] = {}
        for v in versions:
            p = v.policy.ir
            self.wordings.update({d.name: d.wording for d in p.deadlines if d.wording})
            if p.transcript_rules is not None:
                situations = {s.name: s.wording for s in p.transcript_rules.situations}
                for r in p.transcript_rules.rules:
                    words = r.wording or (situations.get(r.situation) if r.situation else None)
                    if words:
                        self.wordings[r.id] = words
        self.quotes: Mapping[str, str] = quotes or {}

    def verdict(
        self,
        name: str,
        path: str,
        row: Row,
        verdict: Any,
        counts: Counter[str],
        by_condition: Counter[tuple[str, int, str | None, str | None]],
    ) -> None:
        counts["judged"] += 1
        if not verdict.valid:
            counts["unknown" if verdict.unknown else "invalid"] += 1
            return
        counts["valid"] += 1
        for c in verdict.conditions:
            if c.id not in verdict.matched:
                continue
            cond = self._condition(row.version, name, c.id)
            text = cond.wording if cond is not None else None
            by_condition[(c.file, c.line, c.id, text)] += 1
            self.findings.add(
                {
                    "kind": "valid_complaint",
                    "clause": self.clause(c.id, c.file, c.line, text),
                    "severity": None,
                    "record": row.id,
                    "input": path,
                    "line": row.line,
                    "message": valid_message(name, c.id, text),
                    "evidence": {k: value_out(v, self.tz) for k, v in c.values},
                    "version": self.versions[row.version].label,
                    **self._people(row, name),
                }
            )

    def _people(self, row: Row, name: str) -> dict[str, Any]:
        """A record's finding's `agent` and `team`: the fields its version's record declares."""
        declared = people_fields(self.versions[row.version].policy.ir.record(name))
        return people(row.values, declared)

    def _condition(self, version: int, name: str, cid: str) -> ir.Condition | None:
        validity = self.versions[version].policy.ir.validity(name)
        if validity is None:
            return None
        return next((c for c in validity.conditions if c.id == cid), None)

    def milestone(
        self,
        name: str,
        path: str,
        row: Row,
        m: Milestone,
        clock_counts: dict[tuple[str, str, str, int], Counter[str]],
        breaches: Counter[str],
        count: bool = True,
    ) -> None:
        if count:  # (SQL counts its milestones itself)
            clock_counts.setdefault((m.clause, m.kind, m.file, m.line), Counter())[m.status] += 1
        if m.status != "breached" or m.kind == "warning":
            return
        if m.due is not None:
            breaches[m.due.astimezone(self.tz).date().isoformat()] += 1
        kind = "escalation" if m.kind == "escalation" else "deadline"
        self.findings.add(
            {
                "kind": kind,
                "clause": self.clause(m.clause, m.file, m.line, self.wordings.get(m.clause)),
                "severity": None,
                "record": row.id,
                "input": path,
                "line": row.line,
                "message": m.message or f"`{m.clause}` breached",
                "evidence": {
                    "kind": m.kind,
                    "owner": m.owner,
                    "cycle": m.cycle,
                    "due": value_out(m.due, self.tz),
                    "at": value_out(m.at, self.tz),
                    "late_by": value_out(m.late_by, self.tz),
                },
                "version": self.versions[row.version].label,
                **self._people(row, name),
            }
        )

    def rule(
        self,
        name: str,
        path: str,
        row: Row,
        result: RuleResult,
        rule_counts: dict[tuple[str, str, int], Counter[str]],
    ) -> None:
        counts = rule_counts.setdefault((result.rule, result.file, result.line), Counter())
        counts[result.status] += 1
        if not result.broken:
            return
        key = (result.rule, result.file, result.line)
        self.rule_points[key] = self.rule_points.get(key, 0) + (result.points or 0)
        self.findings.add(
            {
                "kind": "rule",
                "clause": self.clause(result.rule, result.file, result.line, result.wording),
                "severity": result.severity,
                "record": row.id,
                "input": path,
                "line": row.line,
                "message": f"{name} breaks `{result.rule}`"
                + (f": {result.wording}" if result.wording else "")
                + f" ({'; '.join(result.failed)})",
                "evidence": {
                    **{k: value_out(v, self.tz) for k, v in result.values},
                    **({"detail": result.detail} if result.detail else {}),
                    **({"points": result.points} if result.points is not None else {}),
                },
                "version": self.versions[row.version].label,
                **self._people(row, name),
            }
        )

    def rules_summary(
        self, name: str, with_log: bool, rule_counts: dict[tuple[str, str, int], Counter[str]]
    ) -> None:
        by_rule = []
        for (rule, file, line), c in rule_counts.items():
            found = next(
                (r for v in reversed(self.versions) for r in v.policy.ir.rules if r.name == rule),
                None,
            )
            by_rule.append(
                {
                    "clause": self.clause(rule, file, line, found.wording if found else None),
                    "severity": found.severity if found else None,
                    **{s: c[s] for s in ir.RULE_STATUSES},
                    "points": self.rule_points.get((rule, file, line), 0),
                }
            )
        no_log = sorted(
            {
                r.name
                for v in self.versions
                for r in v.policy.ir.rules
                if r.record == name and r.events
            }
        )
        if no_log and not with_log:
            self.warnings.append(
                f"`{name}`: no --events given, so the rules that read the event log were not "
                "judged (unknown): " + ", ".join(f"`{r}`" for r in no_log)
            )
        entry = {"record": name, "by_rule": by_rule}
        if self.rules is None:
            self.rules = {"records": [entry]}
        else:
            self.rules["records"].append(entry)

    def reconciles(self, name: str) -> bool:
        return self.reconciler is not None and self.reconciled == name

    def now_utc(self) -> dt.datetime | None:
        return self.as_of.astimezone(dt.UTC) if self.as_of is not None else None

    def worded_clause(self, cid: str, file: str, line: int) -> dict[str, Any]:
        """`clause` with the standard's words the policy gives for it (`wordings`)."""
        return self.clause(cid, file, line, self.wordings.get(cid))

    def clause(self, cid: str | None, file: str, line: int, text: str | None) -> dict[str, Any]:
        """A finding's clause, with the sections of the standards it cites (and their words,
        when the index was given)."""
        out: dict[str, Any] = {"id": cid, "file": file, "line": line, "text": text}
        if cid is not None and (cited := self._cited(cid)):
            out["cites"] = cited
        return out

    def _cited(self, clause: str) -> list[dict[str, str | None]]:
        """The sections a clause cites, each with its words when the index was given."""
        return [{"id": r, "quote": self.quotes.get(r)} for r in self.cites.get(clause, ())]

    def _kpi(self, kpi: dict[str, Any]) -> dict[str, Any]:
        name = kpi.get("metric")
        cited = self._cited(name) if isinstance(name, str) else []
        if cited and isinstance(kpi.get("clause"), dict):
            kpi["clause"] = {**kpi["clause"], "cites": cited}
        return kpi

    def kpis(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for i, v in enumerate(self.versions):
            # python: every metric; duckdb: SQL's, and those the Python pass counted
            found = self.metric_results[i] + self.metric_engines[i].results()
            # a metric over a record type no file was given for is not applicable, never a
            # count of 0 (`count(Survey) >= 1` would fail on a survey file left out)
            found = [r for r in found if all(t in self.given for t in r.metric.records)]
            order = {m.name: k for k, m in enumerate(v.policy.ir.metrics)}
            self.metric_results[i] = sorted(found, key=lambda r: order[r.metric.name])
            seen = set()
            for r in self.metric_results[i]:
                seen.add(r.metric.name)
                out.append(
                    self._kpi({**r.to_json(), "version": v.label, "percent": r.metric.percent})
                )
            for m in v.policy.ir.metrics:  # nothing to compute it from: say so, never skip it
                if m.name in seen:
                    continue
                absent = [t for t in m.records if t not in self.given]
                reason = (
                    "no --records for " + ", ".join(f"`{t}`" for t in absent)
                    if absent
                    else "no records of " + ", ".join(f"`{t}`" for t in m.records)
                )
                empty = MetricResult(m, (), None, "not_applicable", (), reason)
                kpi = {**empty.to_json(), "version": v.label, "percent": m.percent}
                out.append(self._kpi(kpi))
        return out

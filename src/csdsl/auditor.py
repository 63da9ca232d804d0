"""The audit: a policy (or several versions of it) over a period's exports, as one report.

In: one or more `Policy` versions; record files by record type, an event log, a transcript file;
the engine (`python`, the reference, `duckdb` or `spark`: see docs/scale.md).  Out:
`AuditReport`, whose `data` is the report (schema 1, docs/audit.md) and which writes
`report.json`, `report.md`, `report.html` and `findings.jsonl` to a directory.

Meaning:
- **Versions.**  Given several versions of a policy, each record is judged by the version in
  force on the day it was received: the day, in the policy's time zone, of its record type's
  first required datetime field (`received_at`, `started_at`), or of a transcript's
  `started_at`.  A version is in force from its `effective` date until the next version's.  A
  record received before the first version took effect is judged by the first version and
  counted (`summary.before_first_version`); a record with no such date (a transcript without
  `started_at`) is judged by the newest version.
- **Findings** are what an auditor must act on: a complaint that counts (one finding per
  condition that made it valid), a deadline, progress update or escalation step that was
  breached, and every transcript finding.  Warnings before a deadline and pending clocks are
  counted, not reported.  KPIs are computed per version over the records that version judges.
- **Clocks** are judged at `now`; without it, at the time of the last event in the log (the
  moment the export was taken) and, without an event log, at the time of the run.
- **Bad rows** never stop the run and are never dropped silently: every one is counted, and the
  first `BAD_SHOWN` are listed with their file, line and reason.
- **Memory**: records and transcripts are streamed, findings go to `findings.jsonl` as they
  are found (the report keeps the first `SHOWN_PER_CLAUSE` of each clause).  Two things grow
  with the inputs: the event log, held in memory grouped by case, and the tally of the cases
  with a finding (`csdsl.tally`: one small entry a case, for the counts by team and agent and
  the worst cases; not the findings themselves).
"""

from __future__ import annotations

import datetime as dt
import itertools
import os
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import attrs

from csdsl import __version__, ir, pool, records
from csdsl.api import Policy, unmatched_cases
from csdsl.audit_imports import VendorInputs, prepare as prepare_vendor
from csdsl.audit_output import (
    BAD_SHOWN as BAD_SHOWN,
    SHOWN_PER_CLAUSE as SHOWN_PER_CLAUSE,  # re-exported: part of csdsl.auditor's interface
    AuditReport as AuditReport,
    BadRows,
    Findings,
    iter_findings as iter_findings,
    people,
    people_fields,
    private_part,
    transcript_people,
)
from csdsl.audit_versions import (
    AuditError as AuditError,  # re-exported: part of csdsl.auditor's interface
    Version,
    VersionRouter,
    order_versions,
    receipt_field,
    version_on,
)
from csdsl.diagnostics import did_you_mean
from csdsl.importers.reconcile import Reconciler
from csdsl.metrics import MetricEngine, MetricResult, clock_statuses
from csdsl.provenance import hash_inputs, provenance
from csdsl.qa import TranscriptResult
from csdsl.records import (
    RepeatedIds,
    Row,
    RowError,
    id_key,
    json_value,
)
from csdsl.rules import RuleResult
from csdsl.sql.audit_clocks import CLOCK_CHUNK, ChunkClocks, SqlClocks, clock_builder
from csdsl.tally import CASES_SHOWN, worst_cases
from csdsl.timeline import EventLog, Milestone
from csdsl.transcripts import TranscriptReader
from csdsl.values import instant

if TYPE_CHECKING:
    from csdsl.duck import DuckEngine
    from csdsl.spark import SparkEngine

ENGINES = ("python", "duckdb", "spark")
SQL_ENGINES = ("duckdb", "spark")  # validity and KPIs in SQL; clocks, rules and judged KPIs not
PARALLEL_BYTES = 4 << 20  # a transcripts file from this size is checked on every core (duckdb)
FINDING_KINDS = ("valid_complaint", "deadline", "escalation", "rule", "transcript")
Progress = Callable[[str, int], None]  # (input path, rows done since the last call)


def main_record(policy: Policy) -> str:
    """The record type a bare `--records FILE` holds: the one with a validity block, else the
    one with deadlines, else the only record type."""
    p = policy.ir
    for names in (
        {v.record for v in p.validities},
        {d.record for d in p.deadlines} | {e.record for e in p.escalations},
        {r.name for r in p.records},
    ):
        if len(names) == 1:
            return next(iter(names))
        if len(names) > 1:
            raise AuditError(
                "say which record type the file holds: --records TYPE=FILE (types: "
                + ", ".join(sorted(names))
                + ")"
            )
    raise AuditError("the policy declares no record type")


def _valid_message(record: str, cid: str, wording: str | None) -> str:
    return f"{record} valid because {cid}" + (f": {wording}" if wording else "")


def _clause(cid: str | None, file: str, line: int, text: str | None) -> dict[str, Any]:
    return {"id": cid, "file": file, "line": line, "text": text}


def _out(v: Any, tz: dt.tzinfo) -> Any:
    if isinstance(v, dt.datetime):
        return v.astimezone(tz).isoformat()
    return json_value(v)


class _Run:
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
        self.spark = spark  # the SparkSession of `--engine spark`
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
        self.count_later: list[tuple[str, str]] = []  # duckdb: inputs read by the KPIs only
        # duckdb: inputs whose records the Python pass counted per version (`judged`)
        self.judged_by_pass: set[tuple[str, str]] = set()
        self.warnings: list[str] = []
        self.duck_repeated: dict[str, RepeatedIds] = {}  # ids repeated, as the SQL pass sees them
        self.engines: dict[int, DuckEngine | SparkEngine] = {}
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

    # ---- records ----------------------------------------------------------------------------
    def records(self, name: str, path: str, events: EventLog | None) -> tuple[int, int, set[str]]:
        has_validity = any(v.policy.ir.validity(name) for v in self.versions)
        builders = [clock_builder(v.policy, name) for v in self.versions]
        clocks = events is not None and any(builders)
        rule_checkers = [
            v.policy.rule_checker(name)
            if any(r.record == name for r in v.policy.ir.rules)
            else None
            for v in self.versions
        ]
        judge_rules = any(rule_checkers)
        receipts = [
            receipt_field(v.policy.ir.record(name) or _no_record(name)) for v in self.versions
        ]
        rule_counts: dict[tuple[str, str, int], Counter[str]] = {}
        counts: Counter[str] = Counter()
        by_condition: Counter[tuple[str, int, str | None, str | None]] = Counter()
        clock_counts: dict[tuple[str, str, str, int], Counter[str]] = {}
        breaches: Counter[str] = Counter()
        seen: set[str] = set()
        read = 0
        sql = None
        if self.engine in SQL_ENGINES:
            sql = self._duck_records(name, path, counts, by_condition)
        router = VersionRouter(name, self.versions, self.tz)
        validators = [v.policy._validators.get(name) for v in self.versions]
        rows = 0
        repeated = RepeatedIds()
        timeline_errors = 0  # records whose clocks could not all be computed
        timeline_errors_shown: list[dict[str, Any]] = []
        # the duckdb engine reads the file in Python too for the clocks, and for the KPIs that
        # count a verdict, a condition or a clock
        judging = sql is not None and any(name in e.judges for e in self.metric_engines)
        # with the duckdb engine the clocks run in SQL (`csdsl.sql.timelines`), a chunk of
        # records at a time; the rows are still read here, for the judged KPIs and the rules
        sql_clocks = (
            SqlClocks(
                self.versions, name, self.tz, self._now_utc(), judging or self._reconciles(name)
            )
            if clocks and self.engine == "duckdb"
            else None
        )
        if sql is None or clocks or judging or judge_rules:

            def one(row: Row, chunk: ChunkClocks | None) -> None:
                nonlocal rows, read, timeline_errors
                rows += 1
                if self.progress is not None and rows % 1000 == 0:
                    self.progress(path, 1000)
                if row.values is None:
                    assert row.error is not None
                    self.bad.add(path, row.line, row.id, row.error)
                    return
                read += 1
                repeated.see(row.line, row.id)
                if events is not None:
                    seen.add(id_key(row.id))  # for V003: events of cases with no readable record
                v = row.version
                if sql is not None and validators[v] is None:
                    # the SQL pass counts the records of the versions with a validity block;
                    # this pass knows each row's version, so it counts the others
                    self.judged[v][name] += 1
                    self.judged_by_pass.add((name, path))
                if sql is None:
                    self.judged[v][name] += 1
                    validator = validators[v]
                    if validator is not None:
                        self._verdict(
                            name, path, row, validator(row.values, row.id), counts, by_condition
                        )
                builder = builders[v]
                statuses: dict[str, str] | None = None  # None: no event log to run clocks on
                sql_done = chunk is not None and chunk.has(row)
                if clocks and builder is not None and sql_done:
                    assert chunk is not None
                    key = id_key(row.id)
                    errors = chunk.results[v].errors.get(key)
                    if errors:
                        timeline_errors += 1
                        if len(timeline_errors_shown) < BAD_SHOWN:
                            timeline_errors_shown.append(
                                {"line": row.line, "id": row.id, "errors": list(errors)}
                            )
                    for m in chunk.results[v].breached.get(key, ()):
                        self._milestone(name, path, row, m, clock_counts, breaches, False)
                    statuses = chunk.results[v].statuses.get(key, {})
                elif clocks and builder is not None:
                    assert events is not None
                    tl = builder.build(
                        row.id, row.values, events.get(id_key(row.id), []), self._now_utc()
                    )
                    if tl.errors:  # e.g. no holiday data for its year, a due time past 9999
                        timeline_errors += 1
                        if len(timeline_errors_shown) < BAD_SHOWN:
                            timeline_errors_shown.append(
                                {"line": row.line, "id": row.id, "errors": list(tl.errors)}
                            )
                    for m in tl.milestones:
                        self._milestone(name, path, row, m, clock_counts, breaches)
                    statuses = clock_statuses(tl.milestones)
                if statuses is not None and self.reconciler is not None and self._reconciles(name):
                    self.reconciler.see(row.id, row.values, v, (path, row.line), statuses)
                checker = rule_checkers[v]
                if checker is not None:
                    key = id_key(row.id)
                    mine = events.get(key, []) if events is not None else None
                    unreadable = events.unreadable.get(key) if events is not None else None
                    for result in checker(row.values, mine, self._now_utc(), unreadable):
                        self._rule(name, path, row, result, rule_counts)
                if sql is None or judging:
                    self.metric_engines[v].feed(name, row.values, statuses)
                receipt = receipts[v]
                if receipt is not None:
                    when = _out(row.values.get(receipt), self.tz)
                    self.findings.tally.opened((path, row.line), receipt, when)

            source = self._python_rows(router, name, path)
            if sql_clocks is None:
                for row in source:
                    one(row, None)
            else:
                assert events is not None
                try:
                    while batch := list(itertools.islice(source, CLOCK_CHUNK)):
                        chunk = sql_clocks.judge(batch, events)
                        for (cid, kind, f, ln, status), n in chunk.counts.items():
                            clock_counts.setdefault((cid, kind, f, ln), Counter())[status] += n
                        for row in batch:
                            one(row, chunk)
                finally:
                    sql_clocks.close()
            if self.progress is not None:
                self.progress(path, rows % 1000)
            if sql is None or clocks or judge_rules:
                self.early += router.early
        cases = read  # the records the Python pass judged clocks on (all it read)
        if sql is not None:
            rows, read = sql
            if not clocks:  # no Python pass: SQL counts the rows from before the first version
                self.early += self._duck_early(name, path)
        if has_validity:
            self.validity = {
                "record": name,
                "judged": counts["judged"],
                "valid": counts["valid"],
                "invalid": counts["invalid"],
                "unknown": counts["unknown"],
                "by_condition": [
                    {"clause": self.clause(cid, f, ln, text), "count": n}
                    for (f, ln, cid, text), n in sorted(
                        by_condition.items(), key=lambda kv: (-kv[1], kv[0][0], kv[0][1])
                    )
                ],
            }
        if clocks:
            self.timelines = {
                "record": name,
                "cases": cases,
                "by_clause": [
                    {
                        "clause": self.clause(cid, f, ln, self.wordings.get(cid)),
                        "kind": kind,
                        **{s: c[s] for s in ("met", "breached", "pending", "not_applicable")},
                    }
                    for (cid, kind, f, ln), c in sorted(
                        clock_counts.items(), key=lambda kv: _clock_order(kv[0])
                    )
                ],
                "breaches_by_day": [
                    {"day": day, "count": n} for day, n in sorted(breaches.items())
                ],
                "record_errors": {"total": timeline_errors, "items": timeline_errors_shown},
                "computed_by": {"engine": "python"}
                if sql_clocks is None
                else {"engine": "duckdb", **sql_clocks.computed_by()},
            }
            if timeline_errors:
                first = timeline_errors_shown[0]
                self.warnings.append(
                    f"{path}: {timeline_errors} record(s) whose clocks could not all be "
                    f"computed, not judged on those clocks (first: line {first['line']}, "
                    f"`{first['id']}`: {first['errors'][0]})"
                )
        if judge_rules:
            self._rules_summary(name, events is not None, rule_counts)
        in_sql = self.duck_repeated.pop(path, None)
        if (
            in_sql is not None and not clocks and not judge_rules
        ):  # no row went through Python: the SQL pass saw them
            repeated = in_sql
        if (warning := repeated.warning(path)) is not None:
            self.warnings.append(warning)
        return rows, read, seen

    def _python_rows(self, router: VersionRouter, name: str, path: str) -> Iterator[Row]:
        """The rows of the Python pass: read by `router`, or, for a Parquet file (or a catalog
        table on `--engine spark`), the rows the SQL engine read, each given the version in
        force on the day it was received."""
        if self.engine not in SQL_ENGINES or not _not_python_readable(path):
            yield from router.read(path)
            return
        engine = self.duck(len(self.versions) - 1)
        for row in engine.rows(path, name):
            if row.values is None:
                yield row
                continue
            when = row.values.get(router.field) if router.field else None
            if isinstance(when, dt.datetime):
                when = when.astimezone(self.tz).date()
            index, early = version_on(self.versions, when)
            router.early += early
            yield attrs.evolve(row, version=index)

    def _verdict(
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
                    "message": _valid_message(name, c.id, text),
                    "evidence": {k: _out(v, self.tz) for k, v in c.values},
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

    def _milestone(
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
                    "due": _out(m.due, self.tz),
                    "at": _out(m.at, self.tz),
                    "late_by": _out(m.late_by, self.tz),
                },
                "version": self.versions[row.version].label,
                **self._people(row, name),
            }
        )

    def _rule(
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
                    **{k: _out(v, self.tz) for k, v in result.values},
                    **({"detail": result.detail} if result.detail else {}),
                    **({"points": result.points} if result.points is not None else {}),
                },
                "version": self.versions[row.version].label,
                **self._people(row, name),
            }
        )

    def _rules_summary(
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

    def _reconciles(self, name: str) -> bool:
        return self.reconciler is not None and self.reconciled == name

    def _now_utc(self) -> dt.datetime | None:
        return self.as_of.astimezone(dt.UTC) if self.as_of is not None else None

    # ---- the DuckDB engine: validity and metrics in SQL -----------------------------------
    def duck(self, version: int) -> DuckEngine | SparkEngine:
        """One engine per version for the whole run (DuckDB, or Spark for `--engine spark`):
        the KPIs reuse the rows its validity pass parsed from the same file."""
        if version not in self.engines:
            policy = self.versions[version].policy
            if self.engine == "spark":
                from csdsl.spark import SparkEngine

                spark = SparkEngine(policy, self.spark)
                if spark.problem is not None:
                    self.warnings.append(
                        f"--engine spark: version {self.versions[version].label} runs on the "
                        f"Python reader and interpreter: {spark.problem}"
                    )
                self.engines[version] = spark
            else:
                from csdsl.duck import DuckEngine

                self.engines[version] = DuckEngine(policy)
        return self.engines[version]

    def count_rows(self, name: str, path: str) -> int:
        """The rows of an input read only by the KPIs, good and bad."""
        if self.engine == "spark":
            from csdsl.spark import SparkEngine

            engine = self.duck(0)
            assert isinstance(engine, SparkEngine)
            return engine.count_rows(path, name)
        return count_rows(path)

    def spark_notes(self) -> None:
        """Say which inputs `--engine spark` read with the Python reader on the driver."""
        from csdsl.spark import SparkEngine

        for engine in self.engines.values():
            if not isinstance(engine, SparkEngine):
                continue
            for path in dict.fromkeys(engine.driver_reads):
                self.warnings.append(
                    f"--engine spark: {path} was read by the Python reader on the driver, not on "
                    "the executors (standard input, a .json array, a CSV cell spanning lines, "
                    "or text that may not be UTF-8)"
                )

    def _duck_early(self, name: str, path: str) -> int:
        """The readable rows of `path` received before the first version took effect."""
        first = self.versions[0].start
        field = receipt_field(self.versions[-1].policy.ir.record(name) or _no_record(name))
        if first is None or field is None or path == "-":
            return 0
        return self.duck(0).count_in_window(path, name, (field, None, _start(first, self.tz)))

    def _duck_records(
        self,
        name: str,
        path: str,
        counts: Counter[str],
        by_condition: Counter[tuple[str, int, str | None, str | None]],
    ) -> tuple[int, int]:
        rows = read = 0
        field = receipt_field(self.versions[-1].policy.ir.record(name) or _no_record(name))
        for i, v in enumerate(self.versions):
            window = None
            if len(self.versions) > 1 and field is not None:
                window = (field, _start(v.start if i else None, self.tz), _start(v.until, self.tz))
            engine = self.duck(i)
            if v.policy.ir.validity(name) is not None:
                validity = v.policy.ir.validity(name)
                assert validity is not None
                texts = {c.id: c.wording for c in validity.conditions}
                spans = {c.id: c.span for c in validity.conditions}
                who = people_fields(v.policy.ir.record(name))
                for r in engine.validate_file(path, name, window=window, people=who):
                    if r.error is not None:
                        # every version's pass meets the bad rows: count each once
                        rows += self.bad.add(path, r.line, r.id, r.error)
                        continue
                    rows += 1
                    read += 1
                    self.duck_repeated.setdefault(path, RepeatedIds()).see(r.line, r.id)
                    self.judged[i][name] += 1
                    counts["judged"] += 1
                    if not r.valid:
                        counts["unknown" if r.unknown else "invalid"] += 1
                        continue
                    counts["valid"] += 1
                    for cid in r.matched:
                        span = spans[cid]
                        by_condition[(span.file, span.line, cid, texts[cid])] += 1
                        self.findings.add(
                            {
                                "kind": "valid_complaint",
                                "clause": self.clause(cid, span.file, span.line, texts[cid]),
                                "severity": None,
                                "record": r.id,
                                "input": path,
                                "line": r.line,
                                "message": _valid_message(name, cid, texts[cid]),
                                "evidence": r.evidence.get(cid, {}),
                                "version": v.label,
                                **people(r.people, who),
                            }
                        )
            elif (name, path) not in self.count_later:
                self.count_later.append((name, path))  # counted once its KPIs have run
        return rows, read

    def duck_metrics(self, files: Mapping[str, str]) -> None:
        """Every metric of every version over the record files, in SQL."""
        for i, v in enumerate(self.versions):
            wanted = {
                n: p for n, p in files.items() if any(n in m.records for m in v.policy.ir.metrics)
            }
            if not wanted:
                continue
            # one window per receipt field: with several versions, each type's records are
            # split by the day they were received, as the python engine's router does
            by_field: dict[str | None, dict[str, str]] = {}
            for n, path in wanted.items():
                field = receipt_field(v.policy.ir.record(n) or _no_record(n))
                by_field.setdefault(field if len(self.versions) > 1 else None, {})[n] = path
            for m in v.policy.ir.metrics:
                groups = {f for f, names in by_field.items() if set(m.records) & set(names)}
                if len(groups) > 1:
                    raise AuditError(
                        f"metric `{m.name}` reads records received on different fields; with "
                        "several versions run it with --engine python"
                    )
            results: list[MetricResult] = []
            engine = self.duck(i)
            for field, names in by_field.items():
                window = None
                if field is not None:
                    window = (
                        field,
                        _start(v.start if i else None, self.tz),
                        _start(v.until, self.tz),
                    )
                found, bad = engine.measure_files(names, window=window, judged=False)
                results += found
                for p, row in bad:
                    assert row.error is not None
                    self.bad.add(p, row.line, row.id, row.error)
            self.metric_results[i] = results

    # ---- transcripts ------------------------------------------------------------------------
    def transcript_file(self, path: str) -> tuple[int, int]:
        checkers = [
            v.policy.transcript_checker() if v.policy.ir.transcript_rules else None
            for v in self.versions
        ]
        if not any(checkers):
            raise AuditError("--transcripts given, but the policy has no `transcript rules`")
        scores: list[float] = []
        histogram = [0] * 10
        by_rule: Counter[tuple[str, int, str, str, str]] = Counter()
        count = Counter[str]()

        def judged() -> Iterator[tuple[Row, int]]:
            """The transcripts to check, with their version; bad rows counted on the way."""
            for row in TranscriptReader(self.tz).read(path):
                count["rows"] += 1
                if self.progress is not None and count["rows"] % 100 == 0:
                    self.progress(path, 100)
                if row.values is None:
                    assert row.error is not None
                    self.bad.add(path, row.line, row.id, row.error)
                    continue
                started = row.values["transcript"].started_at
                index, early = version_on(
                    self.versions, started.astimezone(self.tz).date() if started else None
                )
                self.early += early
                if checkers[index] is None:
                    continue
                count["read"] += 1
                self.judged[index]["transcripts"] += 1
                yield row, index

        def check(item: tuple[Row, int]) -> TranscriptResult:
            row, index = item
            checker = checkers[index]
            assert checker is not None and row.values is not None
            return checker.check(row.values["transcript"])

        # each transcript is checked on its own: the duckdb engine uses every core for a file
        # large enough to pay for the workers (`csdsl.pool`)
        big = Path(path).is_file() and Path(path).stat().st_size >= PARALLEL_BYTES
        processes = pool.workers() if self.engine == "duckdb" and big else 1
        for (row, index), result in pool.in_order(judged(), check, processes):
            scores.append(result.score)
            histogram[min(int(result.score // 10), 9) if result.score > 0 else 0] += 1
            assert row.values is not None
            who = transcript_people(row.values["transcript"])
            for f in result.findings:
                by_rule[(f.clause.file, f.clause.line, f.rule, f.kind, f.severity)] += 1
                self.findings.add(
                    {
                        "kind": "transcript",
                        "clause": self.clause(
                            f.rule, f.clause.file, f.clause.line, self.wordings.get(f.rule)
                        ),
                        "severity": f.severity,
                        "record": row.id,
                        "input": path,
                        "line": row.line,
                        "message": f.message,
                        "evidence": {
                            "turn": f.turn,
                            "span": list(f.span) if f.span is not None else None,
                            "text": f.text,
                            "points": f.points,
                            "score": result.score,
                        },
                        "version": self.versions[index].label,
                        **people(who),
                    }
                )
        rows, read = count["rows"], count["read"]
        if self.progress is not None:
            self.progress(path, rows % 100)
        self.transcripts = {
            "checked": read,
            "mean_score": round(sum(scores) / len(scores), 2) if scores else None,
            "min_score": min(scores) if scores else None,
            "score_histogram": [
                {"from": i * 10, "to": i * 10 + 10, "count": n} for i, n in enumerate(histogram)
            ],
            "by_rule": [
                {
                    "clause": self.clause(rule, f, ln, self.wordings.get(rule)),
                    "kind": kind,
                    "severity": sev,
                    "count": n,
                }
                for (f, ln, rule, kind, sev), n in sorted(
                    by_rule.items(), key=lambda kv: (-kv[1], kv[0][0], kv[0][1])
                )
            ],
        }
        return rows, read

    def clause(self, cid: str | None, file: str, line: int, text: str | None) -> dict[str, Any]:
        """A finding's clause, with the sections of the standards it cites (and their words,
        when the index was given)."""
        out = _clause(cid, file, line, text)
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


_KIND_ORDER = {"deadline": 0, "warning": 1, "update": 2, "escalation": 3}


def _clock_order(key: tuple[str, str, str, int]) -> tuple[str, int, int, str]:
    """Clocks in the policy's order (file, line; a deadline before its warnings and updates),
    whichever record met them first and whichever engine counted them."""
    cid, kind, file, line = key
    return (file, line, _KIND_ORDER.get(kind, 4), cid)


def _reads_events(policy: Policy, name: str) -> bool:
    p = policy.ir
    return (
        any(d.record == name for d in p.deadlines)
        or any(e.record == name for e in p.escalations)
        or any(r.record == name for r in p.rules)
    )


def _one_event_record(policy: Policy) -> bool:
    p = policy.ir
    names = {d.record for d in p.deadlines} | {e.record for e in p.escalations}
    return len(names | {r.record for r in p.rules}) == 1


def _not_python_readable(path: str) -> bool:
    """A catalog table or a Parquet file: inputs the Python reader cannot read."""
    return path.startswith("table:") or Path(path).suffix.lower() == ".parquet"


def count_rows(path: str) -> int:
    """The records in a file, good and bad, as the readers number them (`records.count_rows`;
    Parquet: rows)."""
    if Path(path).suffix.lower() == ".parquet":
        import duckdb

        found = duckdb.execute("select count(*) from read_parquet($path)", {"path": path})
        one = found.fetchone()
        return int(one[0]) if one is not None else 0
    return records.count_rows(path)


def _no_record(name: str) -> ir.Record:
    raise AuditError(f"the policy has no record `{name}`")


def _start(day: dt.date | None, tz: dt.tzinfo) -> dt.datetime | None:
    if day is None:
        return None
    return dt.datetime.combine(day, dt.time(), tzinfo=tz)


def audit(
    policy: Policy | Sequence[Policy],
    *,
    records: Mapping[str, str | Path] | str | Path | None = None,
    events: str | Path | None = None,
    transcripts: str | Path | None = None,
    engine: str = "python",
    now: dt.datetime | None = None,
    out: str | Path | None = None,
    progress: Progress | None = None,
    command: str | None = None,
    standards: str | Path | None = None,
    spark_master: str | None = None,
    quarantine: bool = False,
    events_from: str | None = None,
    vendor_sla: str | Path | None = None,
    vendor_sla_from: str | None = None,
    mapping: str | Path | None = None,
    cases: int = CASES_SHOWN,
) -> AuditReport:
    """Run the whole policy over the inputs.  `records` maps record types to files (a single
    path is the policy's main record type).  With `out`, every finding is streamed to
    `out/findings.jsonl` and the three reports are written there too.  With `standards` (an
    index of the standards' sentences, `csdsl.trace`), every clause that cites a section
    quotes the standard's words in the findings and reports.  With `events_from` (`zendesk`,
    `jira`) `events` is that vendor's export, converted by `mapping` (docs/importers.md); with
    `vendor_sla` (read as `vendor_sla_from`: `zendesk-metrics`, `jsm-sla`) the report
    reconciles the vendor's SLA verdicts with the policy's deadlines.  `cases`: how many of the
    cases with the most findings the report shows (`csdsl.tally`).  Raises `AuditError` for
    a run that cannot be done as asked and `InputError` for a file that cannot be read."""
    if isinstance(policy, str | Path):
        raise TypeError(
            f"csdsl.audit takes a loaded policy: call csdsl.load({str(policy)!r}) first "
            "and pass what it returns"
        )
    policies = [policy] if isinstance(policy, Policy) else list(policy)
    if not policies or not all(isinstance(p, Policy) for p in policies):
        raise TypeError("csdsl.audit takes a Policy from csdsl.load, or a list of them")
    versions = order_versions(policies)
    newest = versions[-1].policy
    if quarantine and out is None:
        raise AuditError("the quarantine is written into the output directory: give --out")
    if engine not in ENGINES:
        raise AuditError(f"unknown engine `{engine}` (engines: {', '.join(ENGINES)})")
    spark = None
    if engine == "spark":  # `spark_master`: a master URL; default `local[*]`, or SPARK_REMOTE
        from csdsl.spark import SparkUnavailable, spark_session

        try:
            spark = spark_session(spark_master)
        except SparkUnavailable as exc:
            raise AuditError(str(exc)) from None
    if now is not None:
        try:  # a naive `now` is on the policy's clock, never the machine's
            now = instant(now, newest.tz)
        except ValueError as exc:
            raise AuditError(f"`now`: {exc}") from None
    files: dict[str, str] = {}
    if isinstance(records, str | Path):
        files[main_record(newest)] = str(records)
    elif records is not None:
        for name, path in records.items():
            if not any(v.policy.ir.record(name) for v in versions):
                names = {r.name for v in versions for r in v.policy.ir.records}
                hint = did_you_mean(name, names)
                raise AuditError(
                    f"the policy has no record type `{name}` (types: {', '.join(sorted(names))})"
                    + (f"; {hint}" if hint else "")
                )
            files[name] = str(path)
    if not files and transcripts is None:
        raise AuditError("nothing to audit: give --records and/or --transcripts")
    if events is not None and not any(
        v.policy.ir.deadlines or v.policy.ir.escalations or v.policy.ir.rules for v in versions
    ):
        raise AuditError("--events given, but the policy has no deadlines, escalations or rules")

    quotes: dict[str, str] = {}
    if standards is not None:
        from csdsl.trace import read_index

        quotes = {e.id: e.quote for e in read_index(standards)}
    sink: IO[str] | None = None
    if out is not None:
        Path(out).mkdir(parents=True, exist_ok=True)
        # written under a fresh temporary name: a run that stops half-way leaves no partial
        # file, and no link left in the directory can aim the write elsewhere
        sink = private_part(Path(out), "findings.jsonl").open("w", encoding="utf-8")
    done = False
    run = _Run(versions, engine, now, sink, progress, quotes, spark)
    vendor: VendorInputs | None = None
    try:
        vendor = prepare_vendor(
            newest,
            events=events,
            events_from=events_from,
            vendor_sla=vendor_sla,
            vendor_sla_from=vendor_sla_from,
            mapping=mapping,
            out=out,
        )
        events = vendor.events
        run.reconciler, run.reconciled = vendor.reconciler, vendor.record
        run.given = set(files)
        by_case: EventLog | None = None
        event_problems: list[Any] = []
        # the record types an event log is about: those with clocks or rules
        event_records = [n for n in files if _reads_events(newest, n)]
        if events is not None:
            if not event_records:
                wanted = newest.event_record(None) if _one_event_record(newest) else None
                raise AuditError(
                    f"--events given, but no --records for `{wanted}`, whose clocks or rules "
                    "they drive"
                    if wanted
                    else "--events given, but no --records for a record type with clocks or rules"
                )
            by_case, event_problems = newest.read_events(events, event_records)
            n_events = by_case.events
            if now is None and by_case.latest is not None:
                run.as_of = by_case.latest.astimezone(run.tz)
        seen_cases: set[str] = set()
        for name, path in files.items():
            rows, read, seen = run.records(name, path, by_case if name in event_records else None)
            if rows and not read:
                run.warnings.append(
                    f"{path}: none of its {rows} rows could be read as `{name}`; is it the "
                    "right file for that record type?"
                )
            run.inputs.append(
                {
                    "kind": "records",
                    "type": name,
                    "path": path,
                    "rows": rows,
                    "read": read,
                    "bad": rows - read,
                }
            )
            if name in event_records:
                seen_cases |= seen
        if by_case is not None:
            event_problems.extend(unmatched_cases(by_case, seen_cases))
        if events is not None and by_case is not None:
            skipped = sum(1 for p in event_problems if p.code.startswith("R"))
            run.inputs.append(
                {
                    "kind": "events",
                    "type": None,
                    "path": str(events),
                    "rows": n_events + skipped,
                    "read": n_events,
                    "bad": skipped,
                }
            )
            for p in event_problems:
                if p.code.startswith("R"):
                    run.bad.add(str(events), p.line, p.case, RowError(p.code, p.message))
            notices = [
                {"line": p.line, "case": p.case, "code": p.code, "message": p.message}
                for p in event_problems[:BAD_SHOWN]
                if not p.code.startswith("R")
            ]
            if run.rules is not None:
                run.rules["events"] = n_events
                run.rules["event_problems"] = len(event_problems)
                run.rules["notices"] = notices
            if run.timelines is not None:
                run.timelines["events"] = n_events
                run.timelines["event_problems"] = len(event_problems)
                run.timelines["notices"] = [
                    {"line": p.line, "case": p.case, "code": p.code, "message": p.message}
                    for p in event_problems[:BAD_SHOWN]
                    if not p.code.startswith("R")
                ]
        run.inputs.extend(vendor.inputs())
        run.warnings.extend(vendor.warnings())
        for _, conv in vendor.converted:
            for b in conv.bad:
                run.bad.add(conv.path, b.line, b.case, RowError("X001", b.message()), b.where)
        reconciliation = vendor.reconciliation(
            run.versions,
            by_case,
            run._now_utc(),
            lambda cid, file, line: run.clause(cid, file, line, run.wordings.get(cid)),
            run.tz,
        )
        if engine in SQL_ENGINES:
            run.duck_metrics(files)
            for name, path in run.count_later:
                entry = next(i for i in run.inputs if i["kind"] == "records" and i["path"] == path)
                entry["rows"] = run.count_rows(name, path)
                entry["bad"] = run.bad.by_path[path]
                entry["read"] = entry["rows"] - entry["bad"]
                if len(versions) == 1 and (name, path) not in run.judged_by_pass:
                    run.judged[0][name] += entry["read"]
        if engine == "spark":
            run.spark_notes()
        if transcripts is not None:
            rows, read = run.transcript_file(str(transcripts))
            run.inputs.append(
                {
                    "kind": "transcripts",
                    "type": None,
                    "path": str(transcripts),
                    "rows": rows,
                    "read": read,
                    "bad": rows - read,
                }
            )
            if rows and not read:
                run.warnings.append(f"{transcripts}: none of its {rows} rows is a transcript")
        done = True
    finally:
        if vendor is not None:
            vendor.close()
        for duck in run.engines.values():
            duck.close()
        if sink is not None:
            sink.close()
            part = Path(sink.name)
            if done:
                os.replace(part, part.with_name("findings.jsonl"))
            else:
                part.unlink(missing_ok=True)

    # the report lists findings by input, line and kind, whatever order the engine found them in
    order = {k: i for i, k in enumerate(FINDING_KINDS)}
    kept = sorted(run.findings.kept, key=lambda f: (f["input"], f["line"], order[f["kind"]]))
    kpis = run.kpis()
    kpi_status = Counter(k["status"] for k in kpis)
    event_inputs = {files[n] for n in event_records} if by_case is not None else set()

    # what each event does to the clocks, by the policy's own deadlines (the case view marks
    # pauses and escalations by this, never by the event's name)
    clock_role: dict[str, str] = {ir.ESCALATED: "escalation"}
    for d in newest.ir.deadlines:
        if d.record in event_records:
            clock_role.update({p.pause: "pause" for p in d.pauses})
            clock_role.update({p.resume: "resume" for p in d.pauses})

    def events_of(path: str, record: Any) -> list[dict[str, Any]]:
        if by_case is None or path not in event_inputs:
            return []
        return [
            {
                "at": _out(e.at, run.tz),
                "event": e.name,
                "role": e.role,
                "line": e.line,
                "clock": clock_role.get(e.name),
            }
            for e in by_case.get(id_key(record), [])
        ]

    every = iter_findings(Path(out) / "findings.jsonl") if out is not None else kept
    tally = run.findings.tally
    shown_cases = worst_cases(tally, cases, every, events_of)
    by_agent, agents = tally.by_agent()
    failed = run.findings.total > 0 or kpi_status["fail"] > 0
    p = newest.ir
    hash_inputs(run.inputs)  # each file's size and SHA-256, for `csdsl verify-report`
    data: dict[str, Any] = {
        "schema": 1,
        "tool": {"name": "csdsl", "version": __version__},
        "generated_at": dt.datetime.now(run.tz).replace(microsecond=0).isoformat(),
        "engine": engine,
        "as_of": run.as_of.isoformat() if run.as_of else None,
        "command": command,
        "policy": {
            "name": p.name,
            "version": p.version,
            "effective": p.effective.isoformat() if p.effective else None,
            "file": p.file,
            "timezone": p.timezone,
        },
        "versions": [
            {
                "file": v.policy.ir.file,
                "name": v.policy.ir.name,
                "version": v.policy.ir.version,
                "effective": v.policy.ir.effective.isoformat() if v.policy.ir.effective else None,
                "from": v.start.isoformat() if v.start else None,
                "until": v.until.isoformat() if v.until else None,
                "judged": dict(run.judged[i]),
            }
            for i, v in enumerate(versions)
        ],
        "inputs": run.inputs,
        "warnings": run.warnings,
        "summary": {
            "verdict": "fail" if failed else "pass",
            "records": sum(
                i["read"] for i in run.inputs if i["kind"] in ("records", "transcripts")
            ),
            "bad_rows": run.bad.total,
            "before_first_version": run.early,
            "findings": run.findings.total,
            "kpis": {s: kpi_status[s] for s in ("pass", "fail", "not_applicable")},
            "by_kind": {k: run.findings.by_kind[k] for k in FINDING_KINDS},
        },
        "kpis": kpis,
        "validity": run.validity,
        "timelines": run.timelines,
        "rules": run.rules,
        "transcripts": run.transcripts,
        "findings": {
            "total": run.findings.total,
            "shown": len(run.findings.kept),
            "file": "findings.jsonl" if out is not None else None,
            "items": kept,
            "by_clause": tally.by_clause(),
            "by_team": tally.by_team(),
            "by_agent": by_agent,
            "agents": agents,
        },
        "cases": {
            "total": len(tally.cases),
            "shown": len(shown_cases),
            "events_input": str(events) if by_case is not None else None,
            "items": shown_cases,
        },
        "bad_rows": {"total": run.bad.total, "shown": len(run.bad.items), "items": run.bad.items},
        "provenance": provenance(
            [v.policy for v in versions], {"mapping": mapping} if mapping else {}
        ),
    }
    if reconciliation is not None:
        data["reconciliation"] = reconciliation
    report = AuditReport(data, tuple(kept))
    if out is not None:
        report.write(out)
        if quarantine:  # each clause's findings as a Parquet file, for pipelines
            from csdsl.quarantine import QuarantineError, write_quarantine

            try:
                write_quarantine(out)
            except QuarantineError as exc:
                raise AuditError(str(exc)) from None
    return report

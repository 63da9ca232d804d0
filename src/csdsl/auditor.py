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

Here: `audit` in steps (the arguments checked, the event log, the records pass over each file,
the vendor's exports, the KPIs in SQL, the transcripts, the report).  The run's state and the
findings it makes: `csdsl.audit_run`; the SQL engines: `csdsl.audit_sql`; the transcripts pass:
`csdsl.audit_transcripts`; what is written: `csdsl.audit_output`.
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

from csdsl import __version__, ir, pool
from csdsl.api import EventProblem, Policy, unmatched_cases
from csdsl.audit_imports import VendorInputs, prepare as prepare_vendor
from csdsl.audit_output import (
    BAD_SHOWN as BAD_SHOWN,
    SHOWN_PER_CLAUSE as SHOWN_PER_CLAUSE,  # re-exported: part of csdsl.auditor's interface
    AuditReport as AuditReport,
    iter_findings as iter_findings,
    private_part,
    value_out,
)
from csdsl.audit_run import AuditRun, Progress
from csdsl.audit_sql import sql_only
from csdsl.audit_transcripts import transcript_file
from csdsl.audit_versions import (
    AuditError as AuditError,  # re-exported: part of csdsl.auditor's interface
    Version,
    VersionRouter,
    order_versions,
    receipt_of,
    version_on,
)
from csdsl.diagnostics import did_you_mean
from csdsl.metrics import clock_statuses
from csdsl.provenance import hash_inputs, provenance
from csdsl.records import RepeatedIds, Row, RowError, id_key
from csdsl.sql.audit_clocks import CLOCK_CHUNK, ChunkClocks, SqlClocks, clock_builder
from csdsl.tally import CASES_SHOWN, worst_cases
from csdsl.timeline import EventLog
from csdsl.values import instant

if TYPE_CHECKING:  # (duckdb is imported only by a run that uses it)
    from csdsl.duck_events import DuckEvents

ENGINES = ("python", "duckdb", "spark")
PARALLEL_BYTES = 4 << 20  # a transcripts file from this size is checked on every core (duckdb)
FINDING_KINDS = ("valid_complaint", "deadline", "escalation", "rule", "transcript")


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


def _records(
    run: AuditRun, name: str, path: str, events: EventLog | DuckEvents | None
) -> tuple[int, int, set[str]]:
    """The records pass over one file of `name` records (with the event log of their cases,
    when they have clocks or rules): in Python, every verdict, clock and rule, and the KPIs;
    with a SQL engine, validity in SQL and in Python only what SQL leaves (clocks, rules, the
    KPIs that count a verdict, a condition or a clock).  Sets the report's `validity`,
    `timelines` and `rules` sections.  Returns the rows, the rows read and the cases seen."""
    has_validity = any(v.policy.ir.validity(name) for v in run.versions)
    builders = [clock_builder(v.policy, name) for v in run.versions]
    clocks = events is not None and any(builders)
    rule_checkers = [
        v.policy.rule_checker(name) if any(r.record == name for r in v.policy.ir.rules) else None
        for v in run.versions
    ]
    judge_rules = any(rule_checkers)
    receipts = [receipt_of(v.policy, name) for v in run.versions]
    rule_counts: dict[tuple[str, str, int], Counter[str]] = {}
    counts: Counter[str] = Counter()
    by_condition: Counter[tuple[str, int, str | None, str | None]] = Counter()
    clock_counts: dict[tuple[str, str, str, int], Counter[str]] = {}
    breaches: Counter[str] = Counter()
    seen: set[str] = set()
    read = 0
    sql = None
    if run.sql is not None:
        sql = run.sql.validity(name, path, counts, by_condition)
    router = VersionRouter(name, run.versions, run.tz)
    validators = [v.policy._validators.get(name) for v in run.versions]
    rows = 0
    repeated = RepeatedIds()
    timeline_errors = 0  # records whose clocks could not all be computed
    timeline_errors_shown: list[dict[str, Any]] = []
    # the duckdb engine reads the file in Python too for the clocks, and for the KPIs that
    # count a verdict, a condition or a clock
    judging = sql is not None and any(name in e.judges for e in run.metric_engines)
    # with the duckdb engine the clocks run in SQL (`csdsl.sql.timelines`), a chunk of
    # records at a time; the rows are still read here, for the judged KPIs and the rules
    # the event log is a table of the duckdb engine's (`csdsl.duck_events`)
    duck = None if events is None or isinstance(events, EventLog) else events
    sql_clocks = (
        SqlClocks(
            run.versions,
            name,
            run.tz,
            run.now_utc(),
            judging or run.reconciles(name),
            None if duck is None else duck.con,
            None if duck is None else duck.table,
        )
        if clocks and run.engine == "duckdb"
        else None
    )
    if sql is None or clocks or judging or judge_rules:

        def one(row: Row, chunk: ChunkClocks | None, log: EventLog | None) -> None:
            nonlocal rows, read, timeline_errors
            rows += 1
            if run.progress is not None and rows % 1000 == 0:
                run.progress(path, 1000)
            if row.values is None:
                assert row.error is not None
                run.bad.add(path, row.line, row.id, row.error)
                return
            read += 1
            repeated.see(row.line, row.id)
            if log is not None:
                seen.add(id_key(row.id))  # for V003: events of cases with no readable record
            v = row.version
            if sql is not None and validators[v] is None:
                # the SQL pass counts the records of the versions with a validity block;
                # this pass knows each row's version, so it counts the others
                run.judged[v][name] += 1
                run.judged_by_pass.add((name, path))
            if sql is None:
                run.judged[v][name] += 1
                validator = validators[v]
                if validator is not None:
                    run.verdict(
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
                    run.milestone(name, path, row, m, clock_counts, breaches, False)
                statuses = chunk.results[v].statuses.get(key, {})
            elif clocks and builder is not None:
                assert log is not None
                tl = builder.build(row.id, row.values, log.get(id_key(row.id), []), run.now_utc())
                if tl.errors:  # e.g. no holiday data for its year, a due time past 9999
                    timeline_errors += 1
                    if len(timeline_errors_shown) < BAD_SHOWN:
                        timeline_errors_shown.append(
                            {"line": row.line, "id": row.id, "errors": list(tl.errors)}
                        )
                for m in tl.milestones:
                    run.milestone(name, path, row, m, clock_counts, breaches)
                statuses = clock_statuses(tl.milestones)
            if statuses is not None and run.reconciler is not None and run.reconciles(name):
                run.reconciler.see(row.id, row.values, v, (path, row.line), statuses)
            checker = rule_checkers[v]
            if checker is not None:
                key = id_key(row.id)
                mine = log.get(key, []) if log is not None else None
                unreadable = log.unreadable.get(key) if log is not None else None
                for result in checker(row.values, mine, run.now_utc(), unreadable):
                    run.rule(name, path, row, result, rule_counts)
            if sql is None or judging:
                run.metric_engines[v].feed(name, row.values, statuses)
            receipt = receipts[v]
            if receipt is not None:
                when = value_out(row.values.get(receipt), run.tz)
                run.findings.tally.opened((path, row.line), receipt, when)

        source = _python_rows(run, router, name, path)
        if sql_clocks is None and duck is None:
            log = events if isinstance(events, EventLog) else None
            for row in source:
                one(row, None, log)
        else:
            assert events is not None
            try:
                while batch := list(itertools.islice(source, CLOCK_CHUNK)):
                    chunk = sql_clocks.judge(batch, events) if sql_clocks is not None else None
                    if chunk is not None:
                        for (cid, kind, f, ln, status), n in chunk.counts.items():
                            clock_counts.setdefault((cid, kind, f, ln), Counter())[status] += n
                    # the events Python reads: the cases it judges the clocks of, and those
                    # of a record type with rules
                    wanted = [
                        id_key(r.id)
                        for r in batch
                        if r.values is not None
                        and (
                            rule_checkers[r.version] is not None
                            or (builders[r.version] is not None and not (chunk and chunk.has(r)))
                        )
                    ]
                    log = events.only(wanted)
                    for row in batch:
                        one(row, chunk, log)
            finally:
                if sql_clocks is not None:
                    sql_clocks.close()
        if run.progress is not None:
            run.progress(path, rows % 1000)
        if sql is None or clocks or judge_rules:
            run.early += router.early
    cases = read  # the records the Python pass judged clocks on (all it read)
    if sql is not None:
        rows, read = sql
        if not clocks:  # no Python pass: SQL counts the rows from before the first version
            assert run.sql is not None
            run.early += run.sql.early(name, path)
    if has_validity:
        run.validity = {
            "record": name,
            "judged": counts["judged"],
            "valid": counts["valid"],
            "invalid": counts["invalid"],
            "unknown": counts["unknown"],
            "by_condition": [
                {"clause": run.clause(cid, f, ln, text), "count": n}
                for (f, ln, cid, text), n in sorted(
                    by_condition.items(), key=lambda kv: (-kv[1], kv[0][0], kv[0][1])
                )
            ],
        }
    if clocks:
        run.timelines = {
            "record": name,
            "cases": cases,
            "by_clause": [
                {
                    "clause": run.worded_clause(cid, f, ln),
                    "kind": kind,
                    **{s: c[s] for s in ("met", "breached", "pending", "not_applicable")},
                }
                for (cid, kind, f, ln), c in sorted(
                    clock_counts.items(), key=lambda kv: _clock_order(kv[0])
                )
            ],
            "breaches_by_day": [{"day": day, "count": n} for day, n in sorted(breaches.items())],
            "record_errors": {"total": timeline_errors, "items": timeline_errors_shown},
            "computed_by": {"engine": "python"}
            if sql_clocks is None
            else {"engine": "duckdb", **sql_clocks.computed_by()},
        }
        if timeline_errors:
            first = timeline_errors_shown[0]
            run.warnings.append(
                f"{path}: {timeline_errors} record(s) whose clocks could not all be "
                f"computed, not judged on those clocks (first: line {first['line']}, "
                f"`{first['id']}`: {first['errors'][0]})"
            )
    if judge_rules:
        run.rules_summary(name, events is not None, rule_counts)
    in_sql = run.sql.repeated.pop(path, None) if run.sql is not None else None
    if (
        in_sql is not None and not clocks and not judge_rules
    ):  # no row went through Python: the SQL pass saw them
        repeated = in_sql
    if (warning := repeated.warning(path)) is not None:
        run.warnings.append(warning)
    return rows, read, seen


def _python_rows(run: AuditRun, router: VersionRouter, name: str, path: str) -> Iterator[Row]:
    """The rows of the Python pass: read by `router`, or, for a Parquet file (or a catalog
    table on `--engine spark`), the rows the SQL engine read, each given the version in
    force on the day it was received."""
    if run.sql is None or not sql_only(path):
        yield from router.read(path)
        return
    for row in run.sql.rows(path, name):
        if row.values is None:
            yield row
            continue
        when = row.values.get(router.field) if router.field else None
        if isinstance(when, dt.datetime):
            when = when.astimezone(run.tz).date()
        index, early = version_on(run.versions, when)
        router.early += early
        yield attrs.evolve(row, version=index)


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


@attrs.frozen
class _Asked:
    """What `audit` was asked, checked: the versions in order, the record files by type, `now`
    on the policy's clock, the Spark session of `--engine spark`."""

    versions: list[Version]
    files: dict[str, str]
    now: dt.datetime | None
    spark: Any


def _check_arguments(
    policy: Policy | Sequence[Policy],
    records: Mapping[str, str | Path] | str | Path | None,
    *,
    events: str | Path | None,
    transcripts: str | Path | None,
    engine: str,
    now: dt.datetime | None,
    out: str | Path | None,
    quarantine: bool,
    spark_master: str | None,
) -> _Asked:
    """The arguments of `audit` checked before any input is read, and the inputs by record type
    (a single path is the main record type's).  Raises `TypeError` for a policy not loaded and
    `AuditError` for a run that cannot be done as asked."""
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
    return _Asked(versions, files, now, spark)


def _input(kind: str, type_: str | None, path: str, rows: int, read: int) -> dict[str, Any]:
    """An input's entry in the report: its rows, those read and the bad ones."""
    return {
        "kind": kind,
        "type": type_,
        "path": path,
        "rows": rows,
        "read": read,
        "bad": rows - read,
    }


def _read_events(
    run: AuditRun, files: Mapping[str, str], events: str | Path | None
) -> tuple[EventLog | DuckEvents | None, list[EventProblem], int, list[str]]:
    """The event log (None without one) grouped by case, its problems (with the duckdb
    engine, every skipped line and the first notices: `DuckEvents.problems`) and how many
    there are, and the record types it is about (those with clocks or rules).  Without `now`,
    the run's clocks are judged at its last event.  The duckdb engine reads a JSONL log into
    a table of its own connection (`csdsl.duck_events`), unless the run reconciles a vendor's
    SLA verdicts (that reads the log in Python)."""
    newest = run.versions[-1].policy
    event_records = [n for n in files if _reads_events(newest, n)]
    if events is None:
        return None, [], 0, event_records
    if not event_records:
        wanted = newest.event_record(None) if _one_event_record(newest) else None
        raise AuditError(
            f"--events given, but no --records for `{wanted}`, whose clocks or rules they drive"
            if wanted
            else "--events given, but no --records for a record type with clocks or rules"
        )
    duck: DuckEvents | None = None
    if run.engine == "duckdb" and run.sql is not None and run.reconciler is None:
        from csdsl.duck import DuckEngine
        from csdsl.duck_events import read_duck_events

        engine = run.sql.of(len(run.versions) - 1)
        assert isinstance(engine, DuckEngine)
        known, roles = newest.event_vocabulary([newest.event_record(n) for n in event_records])
        duck = read_duck_events(engine.tables, newest.tz, str(events), known, roles)
    by_case: EventLog | DuckEvents
    if duck is not None:
        by_case = duck
        problems, total = duck.problems(BAD_SHOWN)
    else:
        by_case, problems = newest.read_events(events, event_records)
        total = len(problems)
    if run.as_of is None and by_case.latest is not None:
        run.as_of = by_case.latest.astimezone(run.tz)
    return by_case, problems, total, event_records


def _record_files(
    run: AuditRun,
    files: Mapping[str, str],
    by_case: EventLog | DuckEvents | None,
    event_records: list[str],
) -> set[str]:
    """The records pass over every record file, and each file's entry in the report's inputs.
    Returns the cases that have a readable record, among the types the event log is about."""
    seen_cases: set[str] = set()
    for name, path in files.items():
        rows, read, seen = _records(run, name, path, by_case if name in event_records else None)
        if rows and not read:
            run.warnings.append(
                f"{path}: none of its {rows} rows could be read as `{name}`; is it the "
                "right file for that record type?"
            )
        run.inputs.append(_input("records", name, path, rows, read))
        if name in event_records:
            seen_cases |= seen
    return seen_cases


def _event_input(
    run: AuditRun,
    events: str,
    by_case: EventLog | DuckEvents,
    problems: list[EventProblem],
    total: int,
) -> None:
    """The event log's entry in the report's inputs, its unreadable lines as bad rows, and its
    other problems as the notices of the `rules` and `timelines` sections.  `problems`: every
    skipped line and at least the first `BAD_SHOWN` problems, of `total`."""
    n_events = by_case.events
    skipped = sum(1 for p in problems if p.code.startswith("R"))
    run.inputs.append(_input("events", None, events, n_events + skipped, n_events))
    for p in problems:
        if p.code.startswith("R"):
            run.bad.add(events, p.line, p.case, RowError(p.code, p.message))
    notices = [
        {"line": p.line, "case": p.case, "code": p.code, "message": p.message}
        for p in problems[:BAD_SHOWN]
        if not p.code.startswith("R")
    ]
    for section in (run.rules, run.timelines):
        if section is not None:
            section["events"] = n_events
            section["event_problems"] = total
            section["notices"] = list(notices)


def _vendor_inputs(
    run: AuditRun, vendor: VendorInputs, by_case: EventLog | DuckEvents | None
) -> dict[str, Any] | None:
    """The vendor's exports in the report (inputs, warnings, the rows they could not convert),
    and the reconciliation of its SLA verdicts with the policy's deadlines (None unless asked
    for)."""
    run.inputs.extend(vendor.inputs())
    run.warnings.extend(vendor.warnings())
    for _, conv in vendor.converted:
        for b in conv.bad:
            run.bad.add(conv.path, b.line, b.case, RowError("X001", b.message()), b.where)
    # (a reconciling run reads the event log in Python: `_read_events`)
    log = by_case if isinstance(by_case, EventLog) else None
    return vendor.reconciliation(run.versions, log, run.now_utc(), run.worded_clause, run.tz)


def _sql_kpis(run: AuditRun, files: Mapping[str, str]) -> None:
    """With a SQL engine: the KPIs in SQL, then the rows of each input only the KPIs read (and,
    with one version, the records it judged), and what Spark read on its driver."""
    if run.sql is None:
        return
    for i, results in run.sql.metrics(files).items():
        run.metric_results[i] = results
    for name, path in run.sql.count_later:
        entry = next(i for i in run.inputs if i["kind"] == "records" and i["path"] == path)
        entry["rows"] = run.sql.count_rows(name, path)
        entry["bad"] = run.bad.by_path[path]
        entry["read"] = entry["rows"] - entry["bad"]
        if len(run.versions) == 1 and (name, path) not in run.judged_by_pass:
            run.judged[0][name] += entry["read"]
    if run.engine == "spark":
        run.sql.spark_notes()


def _transcripts(run: AuditRun, path: str) -> None:
    """The transcripts pass (`csdsl.audit_transcripts`) and the file's entry in the report's
    inputs.  Each transcript is checked on its own: the duckdb engine uses every core for a
    file large enough to pay for the workers (`csdsl.pool`)."""
    big = Path(path).is_file() and Path(path).stat().st_size >= PARALLEL_BYTES
    processes = pool.workers() if run.engine == "duckdb" and big else 1
    rows, read = transcript_file(run, path, processes)
    run.inputs.append(_input("transcripts", None, path, rows, read))
    if rows and not read:
        run.warnings.append(f"{path}: none of its {rows} rows is a transcript")


def _close(
    run: AuditRun,
    vendor: VendorInputs | None,
    sink: IO[str] | None,
    done: bool,
    keep_engines: bool = False,
) -> None:
    """Close the vendor's files, the engines and `findings.jsonl`: put in place after a whole
    run, removed after one that stopped half-way.  With `keep_engines` (the report reads the
    event log the duckdb engine holds) the engines only drop the files' tables they kept."""
    if vendor is not None:
        vendor.close()
    if run.sql is not None:
        if keep_engines and done:
            run.sql.forget()
        else:
            run.sql.close()
    if sink is not None:
        sink.close()
        part = Path(sink.name)
        if done:
            os.replace(part, part.with_name("findings.jsonl"))
        else:
            part.unlink(missing_ok=True)


def _case_events(
    run: AuditRun,
    by_case: EventLog | DuckEvents | None,
    event_records: list[str],
    files: Mapping[str, str],
) -> Callable[[str, Any], list[dict[str, Any]]]:
    """The events of a case (by its input and record id) as the report's case view shows them,
    each with what it does to the clocks by the policy's own deadlines (the view marks pauses
    and escalations by this, never by the event's name)."""
    event_inputs = {files[n] for n in event_records} if by_case is not None else set()
    clock_role: dict[str, str] = {ir.ESCALATED: "escalation"}
    for d in run.versions[-1].policy.ir.deadlines:
        if d.record in event_records:
            clock_role.update({p.pause: "pause" for p in d.pauses})
            clock_role.update({p.resume: "resume" for p in d.pauses})

    def events_of(path: str, record: Any) -> list[dict[str, Any]]:
        if by_case is None or path not in event_inputs:
            return []
        return [
            {
                "at": value_out(e.at, run.tz),
                "event": e.name,
                "role": e.role,
                "line": e.line,
                "clock": clock_role.get(e.name),
            }
            for e in by_case.get(id_key(record), [])
        ]

    return events_of


def _report(
    run: AuditRun,
    files: Mapping[str, str],
    by_case: EventLog | DuckEvents | None,
    event_records: list[str],
    reconciliation: dict[str, Any] | None,
    *,
    events: str | Path | None,
    out: str | Path | None,
    command: str | None,
    mapping: str | Path | None,
    cases: int,
) -> AuditReport:
    """The report of a finished run (schema 1, docs/audit.md): findings listed by input, line
    and kind, whatever order the engine found them in; the KPIs; the worst cases."""
    order = {k: i for i, k in enumerate(FINDING_KINDS)}
    kept = sorted(run.findings.kept, key=lambda f: (f["input"], f["line"], order[f["kind"]]))
    kpis = run.kpis()
    kpi_status = Counter(k["status"] for k in kpis)
    events_of = _case_events(run, by_case, event_records, files)
    every = iter_findings(Path(out) / "findings.jsonl") if out is not None else kept
    tally = run.findings.tally
    shown_cases = worst_cases(tally, cases, every, events_of)
    by_agent, agents = tally.by_agent()
    failed = run.findings.total > 0 or kpi_status["fail"] > 0
    versions = run.versions
    p = versions[-1].policy.ir
    hash_inputs(run.inputs)  # each file's size and SHA-256, for `csdsl verify-report`
    data: dict[str, Any] = {
        "schema": 1,
        "tool": {"name": "csdsl", "version": __version__},
        "generated_at": dt.datetime.now(run.tz).replace(microsecond=0).isoformat(),
        "engine": run.engine,
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
    return AuditReport(data, tuple(kept))


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
    asked = _check_arguments(
        policy,
        records,
        events=events,
        transcripts=transcripts,
        engine=engine,
        now=now,
        out=out,
        quarantine=quarantine,
        spark_master=spark_master,
    )
    files = asked.files
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
    run = AuditRun(asked.versions, engine, asked.now, sink, progress, quotes, asked.spark)
    vendor: VendorInputs | None = None
    by_case: EventLog | DuckEvents | None = None
    try:
        vendor = prepare_vendor(
            asked.versions[-1].policy,
            events=events,
            events_from=events_from,
            vendor_sla=vendor_sla,
            vendor_sla_from=vendor_sla_from,
            mapping=mapping,
            out=out,
        )
        events = vendor.events  # a vendor's export, converted
        run.reconciler, run.reconciled = vendor.reconciler, vendor.record
        run.given = set(files)
        by_case, event_problems, total, event_records = _read_events(run, files, events)
        seen_cases = _record_files(run, files, by_case, event_records)
        if by_case is not None:
            unmatched = (
                unmatched_cases(by_case, seen_cases)
                if isinstance(by_case, EventLog)
                else by_case.unmatched(seen_cases)
            )
            event_problems.extend(unmatched)
            _event_input(run, str(events), by_case, event_problems, total + len(unmatched))
        reconciliation = _vendor_inputs(run, vendor, by_case)
        _sql_kpis(run, files)
        if transcripts is not None:
            _transcripts(run, str(transcripts))
        done = True
    finally:
        in_duck = by_case is not None and not isinstance(by_case, EventLog)
        _close(run, vendor, sink, done, keep_engines=in_duck)
    try:
        report = _report(
            run,
            files,
            by_case,
            event_records,
            reconciliation,
            events=events,
            out=out,
            command=command,
            mapping=mapping,
            cases=cases,
        )
    finally:
        if in_duck and run.sql is not None:
            run.sql.close()
    if out is not None:
        report.write(out)
        if quarantine:  # each clause's findings as a Parquet file, for pipelines
            from csdsl.quarantine import QuarantineError, write_quarantine

            try:
                write_quarantine(out)
            except QuarantineError as exc:
                raise AuditError(str(exc)) from None
    return report

"""The verbs that run a policy over data: `validate`, `timeline`, `rules`, `transcripts` and
`audit`."""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import shlex
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from csdsl import ir
from csdsl.api import Policy, RecordError, TranscriptRow
from csdsl.records import InputError, RepeatedIds, RowError, json_value, loads_json
from csdsl.report import dumps, one_line
from csdsl.rules import RuleResult
from csdsl.timeline import Milestone
from csdsl.values import instant, parse_datetime

if TYPE_CHECKING:
    from csdsl.qa import Finding as TrFinding

from csdsl.cli.console import (
    FAILED,
    OK,
    USAGE,
    counted,
    load_policy,
    make_out_dir,
    print_bad_row,
    records_args,
    unwritable_reason,
    write_err,
    write_json_line,
    write_out,
)
from csdsl.cli.report_verbs import extras_problem, sample_json, sample_line, write_extras

# ---- validate ----------------------------------------------------------------------------


def _why(verdict: Any) -> list[dict[str, Any]]:
    return [
        {
            "condition": c.id,
            "outcome": c.outcome,
            "clause": {"file": c.file, "line": c.line},
            "values": {k: json_value(v) for k, v in c.values},
        }
        for c in (*verdict.conditions, *verdict.exceptions)
    ]


def cmd_validate(args: argparse.Namespace) -> int:
    policy = load_policy(args.policy, args.format)
    if policy is None:
        return USAGE
    try:
        record_type = policy.record_type(args.record)
    except KeyError as exc:
        several = "several" in exc.args[0]
        write_err(
            f"csdsl: {args.policy}: {exc.args[0]}" + (" with --record NAME" if several else "")
        )
        return USAGE
    good = bad = valid = 0
    repeated = RepeatedIds()
    try:
        for row in policy.validate_file(args.records, record_type):
            if row.verdict is None:
                bad += 1
                assert row.error is not None
                print_bad_row(row.line, row.id, row.error, args.format)
                continue
            good += 1
            repeated.see(row.line, row.id)
            v = row.verdict
            valid += v.valid
            if args.format == "json":
                obj: dict[str, Any] = {
                    "id": row.id,
                    "valid": v.valid,
                    "matched": list(v.matched),
                    "line": row.line,
                }
                if v.excepted:
                    obj["excepted"] = list(v.excepted)
                if args.explain:
                    obj["why"] = _why(v)
                write_json_line(obj)
            else:
                word = "valid" if v.valid else "invalid"
                because = ", ".join(v.matched) + (
                    f" (exception: {', '.join(v.excepted)})" if v.excepted else ""
                )
                write_out(one_line(f"line {row.line}  {row.id}  {word}  {because}".rstrip()))
                if args.explain:
                    for line in v.explain().splitlines()[1:]:  # the verdict line is above
                        write_out("  " + line)
    except InputError as exc:
        write_err(f"csdsl: {exc}")
        return USAGE
    write_err(
        f"{counted(good + bad, 'row')} read: {good} good, {bad} bad; "
        f"{valid} valid, {good - valid} invalid"
    )
    if (warning := repeated.warning(args.records)) is not None:
        write_err(one_line(f"csdsl: warning: {warning}"))
    return OK


# ---- timeline ----------------------------------------------------------------------------


def _iso(v: Any, tz: dt.tzinfo) -> Any:
    """Datetimes in output are ISO 8601 with offset (in the policy's zone); durations ISO."""
    if isinstance(v, dt.datetime):
        return v.astimezone(tz).isoformat()
    if isinstance(v, dict):
        return {k: _iso(x, tz) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_iso(x, tz) for x in v]
    return json_value(v)


def _milestone_json(m: Milestone, tz: dt.tzinfo) -> dict[str, Any]:
    return {
        "clause": m.clause,
        "kind": m.kind,
        "owner": m.owner,
        "due": _iso(m.due, tz),
        "status": m.status,
        "at": _iso(m.at, tz),
        "late_by": _iso(m.late_by, tz),
        "cycle": m.cycle,
        "message": m.message,
        "source": {"file": m.file, "line": m.line},
        "provenance": _iso(dict(m.provenance), tz),
    }


def _milestone_text(m: Milestone, tz: dt.tzinfo) -> list[str]:
    due = _iso(m.due, tz) if m.due is not None else "-"
    late = f"  late by {_iso(m.late_by, tz)}" if m.late_by else ""
    cycle = f" #{m.cycle}" if m.cycle > 1 else ""
    owner = f" ({m.owner})" if m.owner else ""
    head = f"  {m.status:<14} {m.kind:<10} {m.clause}{cycle}{owner}"
    lines = [one_line(f"{head}  due {due}{late}  - {m.message}")]
    p = m.provenance
    if "start" in p:
        start = p["start"]
        why = [
            f"started by {start['source']} at {_iso(start['at'], tz)}",
            f"{p['rule']} ({m.file}:{p.get('rule_line', m.line)})",
        ]
        if p.get("calendar"):
            why.append(
                f"calendar {p['calendar']}" + (f" ({p['dataset']})" if p.get("dataset") else "")
            )
        why += [
            f"paused {_iso(x['from'], tz)} to {_iso(x['to'], tz)}"
            + (f" ({x['reason']})" if x["reason"] else "")
            for x in p.get("pauses", [])
        ]
        if p.get("closed_skipped"):
            why.append(f"closed time skipped {_iso(p['closed_skipped'], tz)}")
        lines.append("      why: " + "; ".join(why))
    elif "trigger" in p:
        previous = (
            f" (previous step {_iso(p['previous_step_at'], tz)})" if "previous_step_at" in p else ""
        )
        lines.append(
            f"      why: {p['trigger']}{previous}; triggered {_iso(p['triggered_at'], tz)}; "
            f"{p['rule']}"
        )
    return lines


def _now(text: str | None, tz: dt.tzinfo) -> dt.datetime | None:
    """`--now` as an instant: a naive time is read on the policy zone's clock, as data is (a
    time the clocks skip, or one at the ends of the calendar, is a `ValueError`)."""
    return instant(parse_datetime(text), tz) if text is not None else None


def _policy_and_now(args: argparse.Namespace) -> tuple[Policy, dt.datetime | None] | None:
    """The policy and `--now` of a verb over records and events; None after saying why not."""
    policy = load_policy(args.policy, args.format)
    if policy is None:
        return None
    try:
        return policy, _now(args.now, policy.tz)
    except ValueError as exc:
        write_err(f"csdsl: --now: {exc}")
        return None


def cmd_timeline(args: argparse.Namespace) -> int:
    loaded = _policy_and_now(args)
    if loaded is None:
        return USAGE
    policy, now = loaded
    try:
        rows, problems = policy.timeline_file(args.records, args.events, now, args.record)
        counts: dict[str, int] = {}
        good = bad = failed = 0
        for row in rows:
            if row.timeline is None:
                bad += 1
                assert row.error is not None
                print_bad_row(row.line, row.id, row.error, args.format)
                continue
            good += 1
            t = row.timeline
            for m in t.milestones:
                counts[m.status] = counts.get(m.status, 0) + 1
            failed += bool(t.errors)
            if args.format == "json":
                write_json_line(
                    {
                        "id": t.record_id,
                        "line": row.line,
                        "milestones": [_milestone_json(m, policy.tz) for m in t.milestones],
                        "errors": list(t.errors),
                    }
                )
            else:
                write_out(one_line(f"{t.record_id} (line {row.line})"))
                for m in t.milestones:
                    for line in _milestone_text(m, policy.tz):
                        write_out(line)
                for e in t.errors:
                    write_out(one_line(f"  error: {e}"))
    except (InputError, KeyError) as exc:
        write_err(f"csdsl: {exc.args[0] if isinstance(exc, KeyError) else exc}")
        return USAGE
    for p in sorted(problems, key=lambda p: p.line):
        write_err(one_line(f"{args.events}:{p.line}: {p.code} {p.message}"))
    summary = ", ".join(
        f"{counts[k]} {k}" for k in ("met", "breached", "pending", "not_applicable") if k in counts
    )
    write_err(
        f"{counted(good + bad, 'row')} read: {good} good, {bad} bad; milestones: "
        f"{summary or 'none'}; {counted(len(problems), 'event line')} with a problem"
        + (f"; {counted(failed, 'record')} with timeline errors" if failed else "")
    )
    return OK


# ---- rules --------------------------------------------------------------------------------


def _rule_json(r: RuleResult, tz: dt.tzinfo) -> dict[str, Any]:
    return {
        "rule": r.rule,
        "status": r.status,
        "severity": r.severity,
        "points": r.points,
        "failed": list(r.failed),
        "detail": r.detail,
        "values": {k: _iso(v, tz) for k, v in r.values},
        "clause": {"file": r.file, "line": r.line, "text": r.wording},
    }


def _show(v: Any, tz: dt.tzinfo) -> str:
    shown = _iso(v, tz)
    return "missing" if shown is None else dumps(shown) if not isinstance(shown, str) else shown


def _rule_text(r: RuleResult, tz: dt.tzinfo) -> list[str]:
    points = f"-{_num(r.points)}" if r.points and r.broken else ""
    words = f": {r.wording}" if r.wording else ""
    lines = [
        one_line(
            f"  {r.status:<14} {r.severity:<8} {points:>4}  {r.rule}{words}  [{r.file}:{r.line}]"
        )
    ]
    for f in r.failed:
        lines.append(one_line(f"      {'unknown' if r.status == 'unknown' else 'false'}: {f}"))
    if r.detail:
        lines.append(one_line(f"      {r.detail}"))
    if r.values and r.status in ("broken", "unknown"):
        read = ", ".join(f"{k}={_show(v, tz)}" for k, v in r.values)
        lines.append(one_line(f"      read: {read}"))
    return lines


def cmd_rules(args: argparse.Namespace) -> int:
    loaded = _policy_and_now(args)
    if loaded is None:
        return USAGE
    policy, now = loaded
    counts: dict[str, int] = {}
    points: float = 0
    good = bad = 0
    repeated = RepeatedIds()
    try:
        record_type = policy.rule_record(args.record)
        rows, problems = policy.rules_file(args.records, args.events, now, record_type)
        for row in rows:
            if row.results is None:
                bad += 1
                assert row.error is not None
                print_bad_row(row.line, row.id, row.error, args.format)
                continue
            good += 1
            repeated.see(row.line, row.id)
            for r in row.results:
                counts[r.status] = counts.get(r.status, 0) + 1
                points += (r.points or 0) if r.broken else 0
            if args.format == "json":
                write_json_line(
                    {
                        "id": row.id,
                        "line": row.line,
                        "rules": [_rule_json(r, policy.tz) for r in row.results],
                    }
                )
            else:
                write_out(one_line(f"{row.id} (line {row.line})"))
                for r in row.results:
                    for line in _rule_text(r, policy.tz):
                        write_out(line)
    except (InputError, KeyError) as exc:
        write_err(f"csdsl: {exc.args[0] if isinstance(exc, KeyError) else exc}")
        return USAGE
    for p in sorted(problems, key=lambda p: p.line):
        write_err(one_line(f"{args.events}:{p.line}: {p.code} {p.message}"))
    reading = [r.name for r in policy.ir.rules if r.record == record_type and r.events]
    if args.events is None and reading:
        write_err(
            "csdsl: warning: no --events given, so the rules that read the event log are "
            "unknown: " + ", ".join(f"`{n}`" for n in reading)
        )
    summary = ", ".join(f"{counts[k]} {k}" for k in ir.RULE_STATUSES if k in counts)
    write_err(
        f"{counted(good + bad, 'row')} read: {good} good, {bad} bad; rules: "
        f"{summary or 'none'}; {_num(points)} point{'' if points == 1 else 's'} lost"
        + (
            f"; {counted(len(problems), 'event line')} with a problem"
            if args.events is not None
            else ""
        )
    )
    if (warning := repeated.warning(args.records)) is not None:
        write_err(one_line(f"csdsl: warning: {warning}"))
    return OK


# ---- transcripts -------------------------------------------------------------------------


def _finding_text(f: TrFinding) -> str:
    turn = f"turn {f.turn}" if f.turn is not None else "call"
    points = f"-{_num(f.points)}" if f.points else "0"
    evidence = f"  «{f.text}»" if f.text and f.kind != "missing" else ""
    return one_line(
        f"  {turn:<8} {f.kind:<10} {f.severity:<8} {points:>4}  {f.rule}: {f.message}{evidence}"
        f"  [{f.clause.file}:{f.clause.line}]"
    )


def _num(x: float) -> str:
    return f"{x:g}"


def _transcript_rows(policy: Policy, args: argparse.Namespace) -> Iterator[TranscriptRow]:
    """The transcripts of every input file: IO.md JSONL/JSON, or exports imported one per file."""
    from csdsl.asr import RolesNeeded, import_export, parse_roles

    try:
        roles = parse_roles(args.roles) if args.roles else None
    except ValueError as exc:
        raise ValueError(f"--roles: {exc}") from None
    for path in args.transcripts:
        fmt = args.source
        suffix = Path(path).suffix.lower()
        if fmt is None and suffix in (".vtt", ".srt"):
            fmt = suffix[1:]
        single = _one_object(path) if fmt is None and suffix == ".json" else None
        if single is not None and "turns" in single:  # one transcript in the IO.md shape
            try:
                yield TranscriptRow(1, single.get("id"), policy.check_transcript(single), None)
            except RecordError as exc:
                error = RowError(exc.code, str(exc), exc.field)
                yield TranscriptRow(1, single.get("id"), None, error)
            continue
        if fmt is None and single is None:
            yield from policy.check_transcript_file(path)
            continue
        # one exported call: ASR formats are told apart by their content.  One that cannot be
        # imported is that file's bad row (T006), and the files after it are still judged
        try:
            transcript = import_export(path, fmt, roles)
        except RolesNeeded:
            raise  # the command needs --roles: a usage error, for every file alike
        except InputError as exc:
            yield TranscriptRow(0, path, None, RowError("T006", str(exc)))
            continue
        yield TranscriptRow(0, transcript.id, policy.check_transcript(transcript), None)


def _one_object(path: str) -> dict[str, Any] | None:
    """The object a .json file holds, if it holds one (one transcript, or an ASR export)
    rather than an array of transcripts."""
    try:
        with open(path, encoding="utf-8-sig") as f:
            if not f.read(4096).lstrip().startswith("{"):
                return None
        obj = loads_json(Path(path).read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, ValueError):  # the transcript reader says why
        return None
    return obj if isinstance(obj, dict) else None


def cmd_transcripts(args: argparse.Namespace) -> int:
    policy = load_policy(args.policy, args.format)
    if policy is None:
        return USAGE
    for path in args.transcripts:
        if path != "-" and not Path(path).exists():
            write_err(f"csdsl: {path}: no such file")
            return USAGE  # a device or a directory: the reader says so; a FIFO is read
    good = bad = 0
    total = 0.0
    kinds: dict[str, int] = {}
    unchecked = 0
    try:
        for row in _transcript_rows(policy, args):
            if row.result is None:
                bad += 1
                assert row.error is not None
                print_bad_row(row.line, row.id, row.error, args.format)
                continue
            good += 1
            r = row.result
            total += r.score
            unchecked += bool(r.unchecked)
            for f in r.findings:
                kinds[f.kind] = kinds.get(f.kind, 0) + 1
            if args.format == "json":
                write_json_line({**r.to_json(), "line": row.line} if row.line else r.to_json())
                continue
            where = f" (line {row.line})" if row.line else ""
            write_out(
                one_line(
                    f"{r.id}{where}  score {_num(r.score)}  {counted(len(r.findings), 'finding')}"
                )
            )
            for f in r.findings:
                write_out(_finding_text(f))
            for u in r.unchecked:
                write_out(
                    f"  not checkable: {u.rule}: {u.reason}  [{u.clause.file}:{u.clause.line}]"
                )
    except KeyError as exc:
        write_err(f"csdsl: {args.policy}: {exc.args[0]}")
        return USAGE
    except (InputError, ValueError) as exc:
        write_err(f"csdsl: {exc}")
        return USAGE
    mean = f"; mean score {_num(round(total / good, 2))}" if good else ""
    order = ("missing", "forbidden", "preference", "timing", "signal")
    found = ", ".join(f"{kinds[k]} {k}" for k in order if k in kinds)
    write_err(
        f"{counted(good + bad, 'transcript')} read: {good} good, {bad} bad{mean}; "
        f"findings: {found or 'none'}"
        + (f"; {counted(unchecked, 'transcript')} with rules not checkable" if unchecked else "")
    )
    return OK


# ---- audit -------------------------------------------------------------------------------


def cmd_audit(args: argparse.Namespace) -> int:
    from csdsl.auditor import AuditError, audit, main_record

    policies = []
    for path in args.policy:
        policy = load_policy(path, args.format)
        if policy is None:
            return USAGE
        policies.append(policy)
    try:
        now = _now(args.now, policies[-1].tz)
    except ValueError as exc:
        write_err(f"csdsl: --now: {exc}")
        return USAGE
    try:
        records = records_args(args.records, lambda: main_record(policies[-1]))
    except (ValueError, AuditError) as exc:
        write_err(f"csdsl: {exc}")
        return USAGE
    if (problem := extras_problem(args)) is not None:
        write_err(f"csdsl: {problem}")
        return USAGE
    if not make_out_dir("--out", args.out):
        return USAGE
    command = "csdsl " + " ".join(shlex.quote(a) for a in args.argv)
    try:
        with _progress(args.progress) as progress:
            report = audit(
                policies,
                records=records,
                events=args.events,
                transcripts=args.transcripts,
                engine=args.engine,
                now=now,
                out=args.out,
                progress=progress,
                command=command,
                standards=args.standards,
                spark_master=args.spark_master,
                quarantine=args.quarantine,
                cases=args.cases,
                events_from=args.events_from,
                vendor_sla=args.vendor_sla,
                vendor_sla_from=args.vendor_sla_from,
                mapping=args.map,
            )
            extras, sample = write_extras(args, report)
    except (AuditError, InputError) as exc:
        write_err(f"csdsl: {exc}")
        return USAGE
    except OSError as exc:  # the report files: the directory went away, a disk filled up...
        where = exc.filename or args.out
        write_err(
            f"csdsl: --out {args.out}: cannot write {where}: {unwritable_reason(exc, str(where))}"
        )
        return USAGE
    data = report.data
    for warning in data["warnings"]:
        write_err(one_line(f"csdsl: warning: {warning}"))
    s = data["summary"]
    if args.format == "json":
        shown = {k: data[k] for k in ("summary", "inputs")}
        write_out(dumps(shown | ({"sample": sample_json(sample)} if sample else {})))
    else:
        kinds = ", ".join(f"{n} {k}" for k, n in s["by_kind"].items() if n)
        k = s["kpis"]
        write_out(
            f"{s['records']} records read, {s['bad_rows']} bad rows; "
            f"{s['findings']} findings" + (f" ({kinds})" if kinds else "") + "; "
            f"KPIs: {k['pass']} pass, {k['fail']} fail, {k['not_applicable']} not applicable"
        )
        if (r := data.get("reconciliation")) is not None:
            c = r["counts"]
            write_out(
                f"reconciliation with {r['vendor']}: {c['agree']} agree, {c['disagree']} "
                f"disagree; {c['only_in_vendor']} only in its export, "
                f"{c['only_in_policy']} only in the policy's judgement"
            )
        out = Path(args.out)
        write_out(
            f"{s['verdict'].upper()}: wrote {out / 'report.html'}, {out / 'report.md'}, "
            f"{out / 'report.json'}, {out / 'findings.jsonl'}"
            + (f", {out / 'quarantine'}/" if args.quarantine else "")
            + "".join(f", {p}" for p in extras)
        )
        if sample is not None:
            write_out(one_line(sample_line(sample, out)))
    if args.fail_on == "violation" and report.failed_violation:
        return FAILED
    if args.fail_on == "error" and report.failed_error:
        return FAILED
    return OK


@contextlib.contextmanager
def _progress(mode: str) -> Iterator[Callable[[str, int], None] | None]:
    """A progress bar on standard error when it is a terminal (or with --progress always)."""
    if mode == "never" or (mode == "auto" and not sys.stderr.isatty()):
        yield None
        return
    from rich.console import Console
    from rich.progress import (
        MofNCompleteColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
    )

    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        MofNCompleteColumn(),
        TextColumn("rows"),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=False,
    ) as bar:
        tasks: dict[str, Any] = {}

        def advance(path: str, n: int) -> None:
            if path not in tasks:
                tasks[path] = bar.add_task(path, total=_count_rows(path))
            bar.advance(tasks[path], n)

        yield advance


def _count_rows(path: str) -> int | None:
    """The rows of a file, for the bar's total (None for stdin or an unreadable file)."""
    from csdsl.audit_sql import count_rows

    try:
        return count_rows(path)
    except (OSError, UnicodeDecodeError, InputError):
        return None

"""The `csdsl` command line (verbs and exit codes as in IO.md).

In: argv.  Out: text for people (default) or JSON (`--format json`) on stdout, messages on
stderr, and the exit code: 0 ran, 1 the check asked for failed, 2 usage error / a policy that
does not compile / an unreadable input / an output path that cannot be written.  Bad input
never ends in a traceback.

Every line printed goes through `report.printable` (a record id or a transcript's text cannot
act on the terminal, and a lone surrogate cannot fail to encode) and every JSON document
through `report.dumps` (strict RFC 8259: never `NaN` or `Infinity`).  With `--format json`, a
policy that does not compile (or does not exist) is reported as a JSON array of diagnostics on
standard output, as `check --format json` prints them, besides the text on standard error.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import errno
import os
import shlex
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from csdsl import __version__
from csdsl.api import Policy, RecordError, TranscriptRow, load
from csdsl.diagnostics import Diagnostic, PolicyError, render
from csdsl.records import InputError, RepeatedIds, RowError, json_value, loads_json
from csdsl.report import dumps, one_line, printable
from csdsl.source import SourceFile, UnreadableSource, read_policy_text
from csdsl.timeline import Milestone
from csdsl.values import instant, parse_datetime

if TYPE_CHECKING:
    from csdsl.qa import Finding as TrFinding

OK, FAILED, USAGE = 0, 1, 2


def _out(text: str, stream: TextIO | None = None) -> None:
    print(printable(text), file=stream or sys.stdout)


def _err(text: str) -> None:
    print(printable(text), file=sys.stderr)


def _json_line(obj: Any) -> None:
    sys.stdout.write(dumps(obj) + "\n")


def _robust_streams() -> None:
    """Standard output and error never fail to encode (a lone surrogate, a narrow locale):
    what cannot be encoded is written as a backslash escape."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            with contextlib.suppress(Exception):  # a stream that cannot change: left as it is
                reconfigure(errors="backslashreplace")


def _unwritable(exc: OSError, path: str) -> str:
    """Why `path` cannot be written (or made a directory), for a one-line message."""
    if exc.errno in (errno.EEXIST, errno.ENOTDIR):
        for p in (Path(path), *Path(path).parents):
            if p.exists() and not p.is_dir():
                return f"`{p}` is a file, not a directory"
    if exc.errno == errno.EISDIR:
        return "it is a directory"
    return str(exc.strerror or exc).lower()


def _out_dir(option: str, path: str) -> bool:
    """Make `path` the output directory (created if need be), or say why it cannot be."""
    if not path.strip():
        _err(f"csdsl: {option}: give a directory (an empty name would be the current one)")
        return False
    p = Path(path)
    try:
        p.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        _err(f"csdsl: {option} {path}: cannot create the directory: {_unwritable(exc, path)}")
        return False
    if not os.access(p, os.W_OK | os.X_OK):
        _err(f"csdsl: {option} {path}: cannot write there: permission denied")
        return False
    return True


def _diagnostics_json(diags: Sequence[Diagnostic | dict[str, Any]]) -> list[dict[str, Any]]:
    return [d if isinstance(d, dict) else d.to_json() for d in diags]


def _missing_diagnostic(path: str) -> dict[str, Any]:
    """A policy file that cannot be read, as a diagnostic object (`check --format json`)."""
    return {
        "file": path,
        "line": None,
        "column": None,
        "end_line": None,
        "end_column": None,
        "severity": "error",
        "code": "E204",
        "message": f"cannot read `{path}`: {_missing(path)}",
        "hint": "check the path; a policy is read from a .csp file",
    }


def _missing(path: str) -> str:
    p = Path(path)
    if p.is_dir():
        return "is a directory, not a policy file"
    if p.exists():
        return "is not a regular file (a device, FIFO or socket); a policy is read from a file"
    return "no such file"


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _print_diagnostics(
    diags: Sequence[Diagnostic], sources: dict[str, SourceFile], stream: TextIO
) -> None:
    for d in diags:
        print(printable(render(d, sources)) + "\n", file=stream)


# ---- check -------------------------------------------------------------------------------


def cmd_check(args: argparse.Namespace) -> int:
    from csdsl.check import compile_file  # the parser is imported only by verbs that parse

    all_diags: list[Diagnostic | dict[str, Any]] = []
    status = OK
    checked = 0
    for path in args.files:
        if not Path(path).is_file():
            _err(f"csdsl: {path}: {_missing(path)}")
            all_diags.append(_missing_diagnostic(path))  # in JSON too: `[]` would read "fine"
            status = USAGE
            continue
        checked += 1
        compiled = compile_file(path)
        all_diags += compiled.diagnostics
        if args.format == "text":
            _print_diagnostics(compiled.diagnostics, compiled.sources, sys.stdout)
        if any(d.is_error for d in compiled.diagnostics) and status == OK:
            status = FAILED
    if args.format == "json":
        _out(dumps(_diagnostics_json(all_diags), indent=2))
    else:
        found = [d for d in all_diags if isinstance(d, Diagnostic)]  # a missing file: on stderr
        errors = sum(d.is_error for d in found)
        warnings = len(found) - errors
        _out(
            f"{_count(checked, 'file')} checked: {_count(errors, 'error')}, "
            f"{_count(warnings, 'warning')}"
        )
    return status


# ---- fmt ---------------------------------------------------------------------------------


def cmd_fmt(args: argparse.Namespace) -> int:
    from csdsl.syntax.parse import format_source

    changed: list[str] = []
    status = OK
    for path in args.files:
        try:
            text = sys.stdin.read() if path == "-" else read_policy_text(path)
        except (OSError, UnicodeDecodeError) as exc:
            reason = (
                exc.reason
                if isinstance(exc, UnreadableSource)
                else "not UTF-8 text"
                if isinstance(exc, UnicodeDecodeError)
                else (exc.strerror or str(exc)).lower()
            )
            _err(f"csdsl: {path}: cannot read: {reason}")
            status = USAGE
            continue
        source = SourceFile("<stdin>" if path == "-" else path, text)
        formatted, diags = format_source(source)
        if formatted is None:
            _print_diagnostics(diags, {source.name: source}, sys.stderr)
            status = USAGE
            continue
        if path == "-" and not args.check:
            sys.stdout.write(formatted)
            continue
        if formatted != text:
            if not args.check:
                try:
                    Path(path).write_text(formatted, encoding="utf-8")
                except OSError as exc:
                    _err(f"csdsl: {path}: cannot write: {_unwritable(exc, path)}")
                    status = USAGE
                    continue
            changed.append(path)
    for path in changed:
        shown = "<stdin>" if path == "-" else path
        _out(f"would reformat {shown}" if args.check else f"reformatted {shown}")
    if args.check and changed and status == OK:
        status = FAILED
    return status


# ---- validate ----------------------------------------------------------------------------


def _load(path: str, fmt: str = "text", into: list[dict[str, Any]] | None = None) -> Policy | None:
    """The policy, or None once its diagnostics are printed on standard error (and, with
    `fmt` json, added to `into`, or printed on standard output as one JSON array)."""
    found: list[dict[str, Any]] = []
    if not Path(path).is_file():
        _err(f"csdsl: {path}: {_missing(path)}")
        found.append(_missing_diagnostic(path))
    else:
        try:
            return load(path, cache=True)
        except PolicyError as exc:
            _print_diagnostics(exc.diagnostics, exc.sources, sys.stderr)
            _err(f"csdsl: {path} does not compile")
            found += _diagnostics_json(exc.diagnostics)
    if fmt == "json":
        if into is not None:
            into += found
        else:
            _json_line(found)
    return None


def _bad_row(line: int, rid: Any, error: RowError, fmt: str) -> None:
    """A record row that does not fit its type: one JSON line, or one line of text."""
    if fmt == "json":
        _json_line({"id": rid, "line": line, "error": error.to_json()})
    else:
        shown = rid if rid is not None else "-"
        where = f"line {line}" if line else "file"  # 0: an exported call, one to a file
        _out(one_line(f"{where}  {shown}  error  {error.code} {error.message}"))


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
    policy = _load(args.policy, args.format)
    if policy is None:
        return USAGE
    try:
        record_type = policy.record_type(args.record)
    except KeyError as exc:
        several = "several" in exc.args[0]
        _err(f"csdsl: {args.policy}: {exc.args[0]}" + (" with --record NAME" if several else ""))
        return USAGE
    good = bad = valid = 0
    repeated = RepeatedIds()
    try:
        for row in policy.validate_file(args.records, record_type):
            if row.verdict is None:
                bad += 1
                assert row.error is not None
                _bad_row(row.line, row.id, row.error, args.format)
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
                _json_line(obj)
            else:
                word = "valid" if v.valid else "invalid"
                because = ", ".join(v.matched) + (
                    f" (exception: {', '.join(v.excepted)})" if v.excepted else ""
                )
                _out(one_line(f"line {row.line}  {row.id}  {word}  {because}".rstrip()))
                if args.explain:
                    for line in v.explain().splitlines()[1:]:  # the verdict line is above
                        _out("  " + line)
    except InputError as exc:
        _err(f"csdsl: {exc}")
        return USAGE
    _err(
        f"{_count(good + bad, 'row')} read: {good} good, {bad} bad; "
        f"{valid} valid, {good - valid} invalid"
    )
    if (warning := repeated.warning(args.records)) is not None:
        _err(one_line(f"csdsl: warning: {warning}"))
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


def cmd_timeline(args: argparse.Namespace) -> int:
    policy = _load(args.policy, args.format)
    if policy is None:
        return USAGE
    try:
        now = _now(args.now, policy.tz)
    except ValueError as exc:
        _err(f"csdsl: --now: {exc}")
        return USAGE
    try:
        rows, problems = policy.timeline_file(args.records, args.events, now, args.record)
        counts: dict[str, int] = {}
        good = bad = failed = 0
        for row in rows:
            if row.timeline is None:
                bad += 1
                assert row.error is not None
                _bad_row(row.line, row.id, row.error, args.format)
                continue
            good += 1
            t = row.timeline
            for m in t.milestones:
                counts[m.status] = counts.get(m.status, 0) + 1
            failed += bool(t.errors)
            if args.format == "json":
                _json_line(
                    {
                        "id": t.record_id,
                        "line": row.line,
                        "milestones": [_milestone_json(m, policy.tz) for m in t.milestones],
                        "errors": list(t.errors),
                    }
                )
            else:
                _out(one_line(f"{t.record_id} (line {row.line})"))
                for m in t.milestones:
                    for line in _milestone_text(m, policy.tz):
                        _out(line)
                for e in t.errors:
                    _out(one_line(f"  error: {e}"))
    except (InputError, KeyError) as exc:
        _err(f"csdsl: {exc.args[0] if isinstance(exc, KeyError) else exc}")
        return USAGE
    for p in sorted(problems, key=lambda p: p.line):
        _err(one_line(f"{args.events}:{p.line}: {p.code} {p.message}"))
    summary = ", ".join(
        f"{counts[k]} {k}" for k in ("met", "breached", "pending", "not_applicable") if k in counts
    )
    _err(
        f"{_count(good + bad, 'row')} read: {good} good, {bad} bad; milestones: "
        f"{summary or 'none'}; {_count(len(problems), 'event line')} with a problem"
        + (f"; {_count(failed, 'record')} with timeline errors" if failed else "")
    )
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
    policy = _load(args.policy, args.format)
    if policy is None:
        return USAGE
    for path in args.transcripts:
        if path != "-" and not Path(path).exists():
            _err(f"csdsl: {path}: no such file")
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
                _bad_row(row.line, row.id, row.error, args.format)
                continue
            good += 1
            r = row.result
            total += r.score
            unchecked += bool(r.unchecked)
            for f in r.findings:
                kinds[f.kind] = kinds.get(f.kind, 0) + 1
            if args.format == "json":
                _json_line({**r.to_json(), "line": row.line} if row.line else r.to_json())
                continue
            where = f" (line {row.line})" if row.line else ""
            _out(
                one_line(
                    f"{r.id}{where}  score {_num(r.score)}  {_count(len(r.findings), 'finding')}"
                )
            )
            for f in r.findings:
                _out(_finding_text(f))
            for u in r.unchecked:
                _out(f"  not checkable: {u.rule}: {u.reason}  [{u.clause.file}:{u.clause.line}]")
    except KeyError as exc:
        _err(f"csdsl: {args.policy}: {exc.args[0]}")
        return USAGE
    except (InputError, ValueError) as exc:
        _err(f"csdsl: {exc}")
        return USAGE
    mean = f"; mean score {_num(round(total / good, 2))}" if good else ""
    order = ("missing", "forbidden", "preference", "timing")
    found = ", ".join(f"{kinds[k]} {k}" for k in order if k in kinds)
    _err(
        f"{_count(good + bad, 'transcript')} read: {good} good, {bad} bad{mean}; "
        f"findings: {found or 'none'}"
        + (f"; {_count(unchecked, 'transcript')} with rules not checkable" if unchecked else "")
    )
    return OK


# ---- test --------------------------------------------------------------------------------


def cmd_test(args: argparse.Namespace) -> int:
    passed = failed = 0
    broken: list[tuple[str, str]] = []  # files whose examples cannot run, and why
    report: list[dict[str, Any]] = []
    diagnostics: list[dict[str, Any]] = []
    for path in args.files:
        policy = _load(path, args.format, diagnostics)
        if policy is None:
            reason = "does not compile" if Path(path).is_file() else _missing(path)
            broken.append((path, reason))
            continue
        for r in policy.run_examples():
            ex = r.example
            if r.passed:
                passed += 1
            else:
                failed += 1
            if args.format == "json":
                report.append(
                    {
                        "file": ex.span.file,
                        "line": ex.span.line,
                        "example": ex.title,
                        "passed": r.passed,
                        "message": r.message,
                        "valid": r.verdict.valid if r.verdict else None,
                        "matched": list(r.verdict.matched) if r.verdict else [],
                        "excepted": list(r.verdict.excepted) if r.verdict else [],
                    }
                )
                if r.transcript is not None:
                    report[-1]["transcript"] = r.transcript.to_json()
            else:
                mark = "PASS" if r.passed else "FAIL"
                _out(f"{mark} {ex.span.file}:{ex.span.line} {ex.title}: {r.message}")
    if args.format == "json":
        summary = {
            "results": report,
            "passed": passed,
            "failed": failed,
            "not_compiled": [p for p, _ in broken],
            "diagnostics": diagnostics,
        }
        _out(dumps(summary, indent=2))
    else:
        if broken:
            _out("not run: " + ", ".join(f"{p} ({why})" for p, why in broken))
        _out(f"{passed} passed, {failed} failed")
    if broken:
        return USAGE
    return FAILED if failed else OK


# ---- verify ------------------------------------------------------------------------------


def cmd_verify(args: argparse.Namespace) -> int:
    from csdsl.assure.verify import verify

    if args.max_examples < 1:
        _err("csdsl: --max-examples must be at least 1")
        return USAGE
    broken = held = 0
    not_compiled: list[str] = []
    results: list[dict[str, Any]] = []
    diagnostics: list[dict[str, Any]] = []
    for path in args.files:
        policy = _load(path, args.format, diagnostics)
        if policy is None:
            not_compiled.append(path)
            continue
        if not policy.ir.invariants and args.format != "json":
            _out(f"{path}: no invariants to verify")
        for r in verify(policy, max_examples=args.max_examples, seed=args.seed):
            held += r.holds
            broken += not r.holds
            if args.format == "json":
                results.append(r.to_json())
            else:
                _out(r.to_text())
    if args.format == "json":
        summary = {
            "results": results,
            "held": held,
            "broken": broken,
            "not_compiled": not_compiled,
            "diagnostics": diagnostics,
        }
        _out(dumps(summary, indent=2))
    else:
        if not_compiled:
            _out("not verified: " + ", ".join(not_compiled))
        _out(f"{held} held, {broken} broken")
    if not_compiled:
        return USAGE
    return FAILED if broken else OK


# ---- audit -------------------------------------------------------------------------------


def _records_args(values: list[str], main: Callable[[], str]) -> dict[str, str]:
    """`--records F` (the main record type: `main()`) and `--records TYPE=F`, repeatable."""
    typed: dict[str, str] = {}
    bare: list[str] = []
    for v in values:
        name, sep, path = v.partition("=")
        if sep and name.isidentifier() and not Path(v).exists():
            if name in typed:
                raise ValueError(f"--records: `{name}` is given twice")
            typed[name] = path
        else:
            bare.append(v)
    if len(bare) > 1:
        raise ValueError("--records: several files without a type; write TYPE=FILE for each")
    if bare:
        name = main()
        if name in typed:
            raise ValueError(f"--records: two files for `{name}`")
        typed[name] = bare[0]
    return typed


def cmd_audit(args: argparse.Namespace) -> int:
    from csdsl.auditor import AuditError, audit, main_record

    policies = []
    for path in args.policy:
        policy = _load(path, args.format)
        if policy is None:
            return USAGE
        policies.append(policy)
    try:
        now = _now(args.now, policies[-1].tz)
    except ValueError as exc:
        _err(f"csdsl: --now: {exc}")
        return USAGE
    try:
        records = _records_args(args.records, lambda: main_record(policies[-1]))
    except (ValueError, AuditError) as exc:
        _err(f"csdsl: {exc}")
        return USAGE
    if not _out_dir("--out", args.out):
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
            )
    except (AuditError, InputError) as exc:
        _err(f"csdsl: {exc}")
        return USAGE
    except OSError as exc:  # the report files: the directory went away, a disk filled up...
        where = exc.filename or args.out
        _err(f"csdsl: --out {args.out}: cannot write {where}: {_unwritable(exc, str(where))}")
        return USAGE
    data = report.data
    for warning in data["warnings"]:
        _err(one_line(f"csdsl: warning: {warning}"))
    s = data["summary"]
    if args.format == "json":
        _out(dumps({k: data[k] for k in ("summary", "inputs")}))
    else:
        kinds = ", ".join(f"{n} {k}" for k, n in s["by_kind"].items() if n)
        k = s["kpis"]
        _out(
            f"{s['records']} records read, {s['bad_rows']} bad rows; "
            f"{s['findings']} findings" + (f" ({kinds})" if kinds else "") + "; "
            f"KPIs: {k['pass']} pass, {k['fail']} fail, {k['not_applicable']} not applicable"
        )
        out = Path(args.out)
        _out(
            f"{s['verdict'].upper()}: wrote {out / 'report.html'}, {out / 'report.md'}, "
            f"{out / 'report.json'}, {out / 'findings.jsonl'}"
        )
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
    from csdsl.auditor import count_rows

    try:
        return count_rows(path)
    except (OSError, UnicodeDecodeError, InputError):
        return None


# ---- main --------------------------------------------------------------------------------


# ---- compile -----------------------------------------------------------------------------

TARGETS = ("python", "sql", "json")
DIALECTS = ("duckdb", "spark", "postgres")


def cmd_compile(args: argparse.Namespace) -> int:
    policy = _load(args.policy)
    if policy is None:
        return USAGE
    if args.dialect is not None and args.target != "sql":  # even the default, said aloud
        _err(f"csdsl: --dialect is for --target sql, not --target {args.target}")
        return USAGE
    dialect = args.dialect or "duckdb"
    if args.target == "python":
        from csdsl.codegen.python import generate

        text = generate(policy)
    elif args.target == "sql":
        from csdsl.codegen.sql import SqlUnsupported, compile_sql

        try:
            text = compile_sql(policy, dialect=dialect)
        except SqlUnsupported as exc:
            _err(f"csdsl: {exc}")
            _err(f"csdsl: {args.policy} has no {dialect} SQL form; see docs/embedding.md")
            return USAGE
    else:
        from csdsl.codegen.jsonir import dumps

        text = dumps(policy)
    return _write_or_print(text, args.output)


# ---- doc, explain, diff (policy assurance) -------------------------------------------------


def _write_or_print(text: str, output: str | None) -> int:
    """`text` (ending in a line break) to standard output, or to the file `output` (its
    directory created if need be).  A character that cannot be encoded is backslash-escaped."""
    if not text.endswith("\n"):
        text += "\n"
    if output is None:
        sys.stdout.write(text)
        return OK
    out = Path(output)
    try:
        if out.is_dir():
            raise IsADirectoryError(errno.EISDIR, "is a directory", output)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8", errors="backslashreplace")
    except OSError as exc:
        _err(f"csdsl: -o {output}: cannot write: {_unwritable(exc, output)}")
        return USAGE
    _err(f"csdsl: wrote {output} ({_count(text.count(chr(10)), 'line')})")
    return OK


def cmd_doc(args: argparse.Namespace) -> int:
    policy = _load(args.policy)
    if policy is None:
        return USAGE
    from csdsl.doc import render_html, render_markdown

    fmt = args.format or ("md" if args.output and args.output.endswith(".md") else "html")
    text = render_markdown(policy) if fmt == "md" else render_html(policy)
    return _write_or_print(text, args.output)


def cmd_trace(args: argparse.Namespace) -> int:
    from csdsl import trace

    policies = []
    for path in args.policies:
        policy = _load(path)
        if policy is None:
            return USAGE
        policies.append(policy)
    try:
        entries = trace.read_index(args.standards)
    except InputError as exc:
        _err(f"csdsl: {exc}")
        return USAGE
    matrix = trace.build(entries, policies)
    text = (
        dumps(matrix.to_json(), indent=2) + "\n"
        if args.format == "json"
        else trace.render_markdown(matrix, args.standards, args.policies)
    )
    for problem in matrix.problems:
        _err(one_line(f"csdsl: {problem}"))
    if args.check is not None:
        try:
            current = Path(args.check).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            current = None
        if current != text:
            _err(f"csdsl: {args.check} is not the matrix of today's policies; regenerate it")
            return FAILED
        return FAILED if matrix.problems else OK
    status = _write_or_print(text, args.output)
    return status if status != OK else (FAILED if matrix.problems else OK)


def _one_record(spec: str) -> tuple[dict[str, Any], str]:
    """RECORD: inline JSON (`{...}`), `-` (stdin), a .json file with one object, or
    `FILE:LINE` (one line of a JSONL file)."""
    if spec.lstrip().startswith("{"):
        text, where = spec, "the record"
    elif spec == "-":
        text, where = sys.stdin.read(), "standard input"
    else:
        path, sep, line = spec.rpartition(":")
        if sep and line.isdigit() and Path(path).is_file():
            lines = Path(path).read_text(encoding="utf-8-sig").splitlines()
            n = int(line)
            if not 1 <= n <= len(lines):
                raise ValueError(f"{path} has {len(lines)} lines, not line {n}")
            text, where = lines[n - 1], f"{path}:{n}"
        elif Path(spec).is_file():
            text, where = Path(spec).read_text(encoding="utf-8-sig"), spec
        else:
            raise ValueError(f"{spec}: no such file (give a file, FILE:LINE, `-` or `{{...}}`)")
    try:
        obj = loads_json(text)
    except ValueError as exc:  # strict: no NaN, no lone surrogate, not nested too deeply
        raise ValueError(f"{where} is not valid JSON: {exc}") from None
    if not isinstance(obj, dict):
        raise ValueError(f"{where} is not a JSON object")
    return obj, where


def cmd_explain(args: argparse.Namespace) -> int:
    policy = _load(args.policy, args.format)
    if policy is None:
        return USAGE
    from csdsl.explain import explain

    try:
        record, where = _one_record(args.record_spec)
        result = explain(policy, record, args.record)
    except RecordError as exc:  # the record does not fit its type: where, which rule, which field
        _err(f"csdsl: {where}: {exc.code} {exc}")
        _err("csdsl: fix the record, or check that it is of the type the policy judges (--record)")
        return USAGE
    except (ValueError, KeyError, OSError) as exc:
        message = exc.args[0] if exc.args else str(exc)
        _err(f"csdsl: {message}")
        return USAGE
    if args.format == "json":
        _json_line(result.to_json())
    else:
        _out(result.to_text().rstrip("\n"))
    return OK


def cmd_diff(args: argparse.Namespace) -> int:
    found: list[dict[str, Any]] = []
    old, new = _load(args.old, args.format, found), _load(args.new, args.format, found)
    if old is None or new is None:
        if args.format == "json":
            _json_line(found)
        return USAGE
    from csdsl.assure.diff import diff

    try:
        files = _records_args(args.records, new.record_type)
        result = diff(
            old,
            new,
            records=list(files.items()),
            events=args.events,
            max_examples=args.max_examples,
            seed=args.seed,
        )
    except InputError as exc:
        _err(f"csdsl: {exc}")
        return USAGE
    except (ValueError, KeyError) as exc:
        _err(f"csdsl: {exc.args[0] if exc.args else exc}")
        return USAGE
    if args.format == "json":
        _json_line(result.to_json())
    else:
        _out(result.to_text().rstrip("\n"))
    return OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="csdsl", description="Compile and run customer-service policies (.csp files)."
    )
    parser.add_argument("--version", action="version", version=f"csdsl {__version__}")
    sub = parser.add_subparsers(dest="verb", metavar="VERB", required=True)

    def verb(name: str, help_text: str, formats: bool = True) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, description=help_text)
        if formats:
            p.add_argument(
                "--format",
                choices=("text", "json"),
                default="text",
                help="text for people (default) or JSON for programs",
            )
        return p

    p = verb("check", "parse, resolve, type-check and consistency-check policy files")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.set_defaults(run=cmd_check)

    p = verb("fmt", "rewrite policy files in the canonical layout (comments kept)", formats=False)
    p.add_argument("files", nargs="+", metavar="FILE", help="files to format; `-` for stdin")
    p.add_argument(
        "--check",
        action="store_true",
        help="change nothing; exit 1 if a file is not in canonical layout",
    )
    p.set_defaults(run=cmd_fmt)

    p = verb("validate", "complaint validity per record of a JSONL, JSON or CSV file")
    p.add_argument("policy", metavar="POLICY")
    p.add_argument("records", metavar="RECORDS", help=".jsonl, .json, .csv, or - for stdin")
    p.add_argument("--record", metavar="NAME", help="the record type (if several have rules)")
    p.add_argument(
        "--explain",
        action="store_true",
        help="show, for each condition, its outcome, clause and the values it read",
    )
    p.set_defaults(run=cmd_validate)

    p = verb("timeline", "due times per record, and met/breached/pending against an event log")
    p.add_argument("policy", metavar="POLICY")
    p.add_argument("records", metavar="RECORDS", help=".jsonl, .json, .csv, or - for stdin")
    p.add_argument("--events", metavar="EVENTS", help="event log: .jsonl, .json or .csv")
    p.add_argument(
        "--now",
        metavar="DATETIME",
        help="judge open clocks at this moment (ISO 8601; default: leave them pending)",
    )
    p.add_argument("--record", metavar="NAME", help="the record type (if several have clocks)")
    p.set_defaults(run=cmd_timeline)

    p = verb("transcripts", "phrase and timing rules per transcript, with a QA score")
    p.add_argument("policy", metavar="POLICY")
    p.add_argument(
        "transcripts",
        nargs="+",
        metavar="TRANSCRIPTS",
        help=".jsonl or .json in the IO.md shape (- for stdin), or exports with --from",
    )
    p.add_argument(
        "--from",
        dest="source",
        choices=("amazon", "alibaba", "azure", "vtt", "srt"),
        help="read each file as one exported call (.vtt and .srt are recognised by name)",
    )
    p.add_argument(
        "--roles",
        metavar="MAP",
        help="which channel or speaker label is which role, e.g. `0=agent,1=customer`",
    )
    p.set_defaults(run=cmd_transcripts)

    p = verb(
        "audit",
        "validity, deadlines, transcripts and KPIs over a period's exports, as one report",
    )
    p.add_argument(
        "policy",
        nargs="+",
        metavar="POLICY",
        help="the policy; several versions of it, each judging the records of its period",
    )
    p.add_argument("--out", required=True, metavar="DIR", help="where the reports are written")
    p.add_argument(
        "--records",
        action="append",
        default=[],
        metavar="[TYPE=]FILE",
        help="records (.jsonl, .json, .csv); TYPE= for each type but the main one; repeatable",
    )
    p.add_argument("--events", metavar="EVENTS", help="event log of the records' cases")
    p.add_argument("--transcripts", metavar="FILE", help="transcripts, .jsonl or .json")
    p.add_argument(
        "--engine",
        choices=("python", "duckdb"),
        default="python",
        help="python (the reference) or duckdb (validity and KPIs in SQL, for large exports)",
    )
    p.add_argument(
        "--now",
        metavar="DATETIME",
        help="judge open clocks at this moment (default: the event log's last event)",
    )
    p.add_argument(
        "--fail-on",
        choices=("violation", "error"),
        help="exit 1 on any finding or failing KPI (violation), or on any bad row (error)",
    )
    p.add_argument(
        "--progress",
        choices=("auto", "always", "never"),
        default="auto",
        help="progress bar on standard error (auto: only on a terminal)",
    )
    p.set_defaults(run=cmd_audit)

    p = verb("test", "run the examples in policy files")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.set_defaults(run=cmd_test)

    from csdsl.assure import VERIFY_MAX_EXAMPLES as MAX_EXAMPLES

    p = verb("verify", "search for records that break the policies' invariants")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument(
        "--max-examples",
        type=int,
        default=MAX_EXAMPLES,
        metavar="N",
        help=f"records to try per invariant (default {MAX_EXAMPLES})",
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the search (default 0)")
    p.set_defaults(run=cmd_verify)

    p = verb("compile", "emit a standalone checker: a Python module, SQL, or the IR as JSON", False)
    p.add_argument("policy", metavar="POLICY")
    p.add_argument("--target", required=True, choices=TARGETS, help="what to emit")
    p.add_argument(
        "--dialect",
        choices=DIALECTS,
        help="SQL dialect of --target sql (default duckdb); only with --target sql",
    )
    p.add_argument("-o", "--output", metavar="OUT", help="file to write (default: stdout)")
    p.set_defaults(run=cmd_compile)

    p = verb("doc", "a readable rendering of a policy for sign-off (HTML or Markdown)", False)
    p.add_argument("policy", metavar="POLICY")
    p.add_argument(
        "--format",
        choices=("html", "md"),
        help="html (default) or md; by default md when OUT ends in .md",
    )
    p.add_argument("-o", "--output", metavar="OUT", help="file to write (default: stdout)")
    p.set_defaults(run=cmd_doc)

    p = verb(
        "trace",
        "the traceability matrix: where each sentence of the standards went (cites blocks)",
        False,
    )
    p.add_argument("policies", nargs="+", metavar="POLICY")
    p.add_argument(
        "--standards",
        required=True,
        metavar="INDEX",
        help="the index of the standards' sentences (JSON lines, e.g. "
        "policies/standards/index.jsonl)",
    )
    p.add_argument("--format", choices=("md", "json"), default="md", help="md (default) or json")
    p.add_argument("-o", "--output", metavar="OUT", help="file to write (default: stdout)")
    p.add_argument(
        "--check",
        metavar="FILE",
        help="write nothing; exit 1 if FILE differs from what would be written",
    )
    p.set_defaults(run=cmd_trace)

    p = verb("explain", "why a record is (not) valid, and the smallest changes that flip it")
    p.add_argument("policy", metavar="POLICY")
    p.add_argument(
        "record_spec",
        metavar="RECORD",
        help="a .json file with one object, FILE:LINE of a JSONL file, `-`, or inline `{...}`",
    )
    p.add_argument("--record", metavar="NAME", help="the record type (if several have rules)")
    p.set_defaults(run=cmd_explain)

    p = verb("diff", "clauses changed between two versions, and records judged differently")
    p.add_argument("old", metavar="OLD")
    p.add_argument("new", metavar="NEW")
    p.add_argument(
        "--records",
        action="append",
        default=[],
        metavar="[TYPE=]FILE",
        help="real records to look for witnesses in; repeatable",
    )
    p.add_argument("--events", metavar="EVENTS", help="event log for the records' clocks")
    p.add_argument(
        "--max-examples",
        type=int,
        default=200,
        metavar="N",
        help="generated records to try per record type (default 200)",
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the generated records")
    p.set_defaults(run=cmd_diff)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code) if isinstance(exc.code, int) else USAGE
    args.argv = list(sys.argv[1:] if argv is None else argv)
    _robust_streams()
    try:
        code: int = args.run(args)
        sys.stdout.flush()
        return code
    except BrokenPipeError:
        # the reader went away (e.g. `| head`); that is not an error of ours
        sys.stderr.close()
        return OK
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # a bug in csdsl, never the user's input: say so, briefly
        if os.environ.get("CSDSL_DEBUG"):
            raise
        _err(
            f"csdsl: internal error ({type(exc).__name__}: {exc}); this is a bug in csdsl, "
            "not in your input. Rerun with CSDSL_DEBUG=1 for the traceback and report it."
        )
        return USAGE

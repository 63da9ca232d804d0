"""The verbs about policies themselves: `check`, `fmt`, `test`, `verify`, `compile`, `doc`,
`trace`, `explain` and `diff`."""

from __future__ import annotations

import argparse
import datetime as dt
import difflib
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from csdsl.diagnostics import Diagnostic
from csdsl.report import dumps, one_line
from csdsl.source import SourceFile, UnreadableSource, read_policy_text
from csdsl.values import instant, parse_datetime

if TYPE_CHECKING:
    from csdsl.check import Compiled
# `check` and `fmt` import no more than they need (benchmarks/bench_startup.py): the records
# readers and the engines (`csdsl.records`, `csdsl.api`) are imported by the verbs that use them

from csdsl.cli.console import (
    FAILED,
    OK,
    USAGE,
    counted,
    diagnostics_json,
    load_policy,
    missing_diagnostic,
    missing_reason,
    print_diagnostics,
    records_args,
    unwritable_reason,
    write_err,
    write_json_line,
    write_or_print,
    write_out,
)

# ---- check -------------------------------------------------------------------------------


def cmd_check(args: argparse.Namespace) -> int:
    from csdsl.check import compile_file  # the parser is imported only by verbs that parse

    if args.diff and not args.fix:
        write_err("csdsl: check: --diff goes with --fix (`csdsl check --fix --diff FILE`)")
        return USAGE
    all_diags: list[Diagnostic | dict[str, Any]] = []
    status = OK
    checked = 0
    for path in args.files:
        if not Path(path).is_file():
            write_err(f"csdsl: {path}: {missing_reason(path)}")
            all_diags.append(missing_diagnostic(path))  # in JSON too: `[]` would read "fine"
            status = USAGE
            continue
        checked += 1
        compiled, pending = _fixed(path, args) if args.fix else (compile_file(path), False)
        if compiled is None:  # fixed, but the file cannot be written
            status = USAGE
            continue
        if pending and status == OK:  # `--fix --diff`, like `fmt --check`: changes to make
            status = FAILED
        all_diags += compiled.diagnostics
        if args.format == "text":
            print_diagnostics(compiled.diagnostics, compiled.sources, sys.stdout)
        if any(d.is_error for d in compiled.diagnostics) and status == OK:
            status = FAILED
    if args.format == "json":
        write_out(dumps(diagnostics_json(all_diags), indent=2))
    else:
        found = [d for d in all_diags if isinstance(d, Diagnostic)]  # a missing file: on stderr
        errors = sum(d.is_error for d in found)
        warnings = len(found) - errors
        write_out(
            f"{counted(checked, 'file')} checked: {counted(errors, 'error')}, "
            f"{counted(warnings, 'warning')}"
        )
    return status


def _fixed(path: str, args: argparse.Namespace) -> tuple[Compiled | None, bool]:
    """`check --fix` of one file: apply its fixes, write it (or print the diff), say what was
    fixed and what was not.  Returns the compile of the fixed text (None when the file cannot
    be written) and whether `--diff` printed changes that are not written."""
    from csdsl.check import compile_file
    from csdsl.fixing import fix_file

    try:
        text = read_policy_text(path)
    except (OSError, UnicodeDecodeError):  # `compile_file` says why, as a diagnostic
        return compile_file(path), False
    result = fix_file(path, text)
    say = write_out if args.format == "text" else write_err
    for a in result.applied:
        s = a.diagnostic.span
        say(f"{s.file}:{s.line}:{s.column}: fixed {a.diagnostic.code}: {a.fix.title}")
    for a in result.refused:
        s = a.diagnostic.span
        say(
            f"{s.file}:{s.line}:{s.column}: not fixed {a.diagnostic.code}: {a.fix.title} "
            "would not compile further; left as it is"
        )
    if result.changed and args.diff:
        diff = difflib.unified_diff(
            text.splitlines(keepends=True),
            result.text.splitlines(keepends=True),
            f"a/{path}",
            f"b/{path}",
        )
        say("".join(line if line.endswith("\n") else line + "\n" for line in diff).rstrip("\n"))
    elif result.changed:
        try:
            Path(path).write_text(result.text, encoding="utf-8")
        except OSError as exc:
            write_err(f"csdsl: {path}: cannot write: {unwritable_reason(exc, path)}")
            return None, False
    return result.compiled, result.changed and args.diff


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
            write_err(f"csdsl: {path}: cannot read: {reason}")
            status = USAGE
            continue
        source = SourceFile("<stdin>" if path == "-" else path, text)
        formatted, diags = format_source(source)
        if formatted is None:
            print_diagnostics(diags, {source.name: source}, sys.stderr)
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
                    write_err(f"csdsl: {path}: cannot write: {unwritable_reason(exc, path)}")
                    status = USAGE
                    continue
            changed.append(path)
    for path in changed:
        shown = "<stdin>" if path == "-" else path
        write_out(f"would reformat {shown}" if args.check else f"reformatted {shown}")
    if args.check and changed and status == OK:
        status = FAILED
    return status


# ---- test --------------------------------------------------------------------------------


def cmd_test(args: argparse.Namespace) -> int:
    passed = failed = 0
    broken: list[tuple[str, str]] = []  # files whose examples cannot run, and why
    report: list[dict[str, Any]] = []
    diagnostics: list[dict[str, Any]] = []
    for path in args.files:
        policy = load_policy(path, args.format, diagnostics)
        if policy is None:
            reason = "does not compile" if Path(path).is_file() else missing_reason(path)
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
                write_out(f"{mark} {ex.span.file}:{ex.span.line} {ex.title}: {r.message}")
    if args.format == "json":
        summary = {
            "results": report,
            "passed": passed,
            "failed": failed,
            "not_compiled": [p for p, _ in broken],
            "diagnostics": diagnostics,
        }
        write_out(dumps(summary, indent=2))
    else:
        if broken:
            write_out("not run: " + ", ".join(f"{p} ({why})" for p, why in broken))
        write_out(f"{passed} passed, {failed} failed")
    if broken:
        return USAGE
    return FAILED if failed else OK


# ---- verify ------------------------------------------------------------------------------


def cmd_verify(args: argparse.Namespace) -> int:
    from csdsl.assure.verify import verify

    if args.max_examples < 1:
        write_err("csdsl: --max-examples must be at least 1")
        return USAGE
    broken = held = 0
    not_compiled: list[str] = []
    results: list[dict[str, Any]] = []
    diagnostics: list[dict[str, Any]] = []
    for path in args.files:
        policy = load_policy(path, args.format, diagnostics)
        if policy is None:
            not_compiled.append(path)
            continue
        if not policy.ir.invariants and args.format != "json":
            write_out(f"{path}: no invariants to verify")
        for r in verify(policy, max_examples=args.max_examples, seed=args.seed):
            held += r.holds
            broken += not r.holds
            if args.format == "json":
                results.append(r.to_json())
            else:
                write_out(r.to_text())
    if args.format == "json":
        summary = {
            "results": results,
            "held": held,
            "broken": broken,
            "not_compiled": not_compiled,
            "diagnostics": diagnostics,
        }
        write_out(dumps(summary, indent=2))
    else:
        if not_compiled:
            write_out("not verified: " + ", ".join(not_compiled))
        write_out(f"{held} held, {broken} broken")
    if not_compiled:
        return USAGE
    return FAILED if broken else OK


# ---- compile -----------------------------------------------------------------------------

TARGETS = ("python", "sql", "json")
DIALECTS = ("duckdb", "spark", "postgres")


def cmd_compile(args: argparse.Namespace) -> int:
    policy = load_policy(args.policy)
    if policy is None:
        return USAGE
    if args.dialect is not None and args.target != "sql":  # even the default, said aloud
        write_err(f"csdsl: --dialect is for --target sql, not --target {args.target}")
        return USAGE
    dialect = args.dialect or "duckdb"
    given = [(f, v) for f, v in (("--from", args.span_first), ("--to", args.span_last)) if v]
    if given and args.target != "sql":
        write_err(f"csdsl: {given[0][0]} is for --target sql, not --target {args.target}")
        return USAGE
    bounds: dict[str, dt.date] = {}
    for flag, value in given:
        try:
            bounds[flag] = dt.date.fromisoformat(value)
        except ValueError:
            write_err(f"csdsl: {flag} `{value}` is not a date; write it as YYYY-MM-DD")
            return USAGE
    if args.target == "python":
        from csdsl.codegen.python import generate

        text = generate(policy)
    elif args.target == "sql":
        from csdsl.codegen.sql import SpanError, SqlUnsupported, compile_sql
        from csdsl.sql.timeline_views import (
            NO_VIEWS,
            Span,
            clock_records,
            default_span,
            no_views_line,
        )

        span = None
        if bounds:
            default = default_span(policy)
            span = Span(bounds.get("--from", default.first), bounds.get("--to", default.last))
        try:
            text = compile_sql(policy, dialect=dialect, span=span)
        except SqlUnsupported as exc:
            write_err(f"csdsl: {exc}")
            write_err(f"csdsl: {args.policy} has no {dialect} SQL form; see docs/embedding.md")
            return USAGE
        except SpanError as exc:
            write_err(f"csdsl: {exc}")
            return USAGE
        if dialect in NO_VIEWS and clock_records(policy.ir):
            write_err(f"csdsl: note: {no_views_line(dialect)}")
        if policy.ir.rules:
            from csdsl.codegen.sql import rules_left_out

            write_err(f"csdsl: note: {rules_left_out(policy.ir)}")
    else:
        from csdsl.codegen.jsonir import dumps

        text = dumps(policy)
    return write_or_print(text, args.output)


def cmd_doc(args: argparse.Namespace) -> int:
    policy = load_policy(args.policy)
    if policy is None:
        return USAGE
    from csdsl.doc import render_html, render_markdown

    fmt = args.format or ("md" if args.output and args.output.endswith(".md") else "html")
    text = render_markdown(policy) if fmt == "md" else render_html(policy)
    return write_or_print(text, args.output)


def cmd_trace(args: argparse.Namespace) -> int:
    from csdsl import trace
    from csdsl.records import InputError

    policies = []
    for path in args.policies:
        policy = load_policy(path)
        if policy is None:
            return USAGE
        policies.append(policy)
    try:
        entries = trace.read_index(args.standards)
    except InputError as exc:
        write_err(f"csdsl: {exc}")
        return USAGE
    matrix = trace.build(entries, policies)
    text = (
        dumps(matrix.to_json(), indent=2) + "\n"
        if args.format == "json"
        else trace.render_markdown(matrix, args.standards, args.policies)
    )
    for problem in matrix.problems:
        write_err(one_line(f"csdsl: {problem}"))
    if args.check is not None:
        try:
            current = Path(args.check).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            current = None
        if current != text:
            write_err(f"csdsl: {args.check} is not the matrix of today's policies; regenerate it")
            return FAILED
        return FAILED if matrix.problems else OK
    status = write_or_print(text, args.output)
    return status if status != OK else (FAILED if matrix.problems else OK)


def _one_record(spec: str) -> tuple[dict[str, Any], str]:
    """RECORD: inline JSON (`{...}`), `-` (stdin), a .json file with one object, or
    `FILE:LINE` (one line of a JSONL file)."""
    from csdsl.records import loads_json

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
    policy = load_policy(args.policy, args.format)
    if policy is None:
        return USAGE
    from csdsl.api import RecordError
    from csdsl.explain import explain
    from csdsl.records import InputError

    try:
        now = instant(parse_datetime(args.now), policy.tz) if args.now is not None else None
    except ValueError as exc:
        write_err(f"csdsl: --now: {exc}")
        return USAGE
    try:
        record, where = _one_record(args.record_spec)
        result = explain(policy, record, args.record, events=args.events, now=now)
    except RecordError as exc:  # the record does not fit its type: where, which rule, which field
        write_err(f"csdsl: {where}: {exc.code} {exc}")
        write_err(
            "csdsl: fix the record, or check that it is of the type the policy judges (--record)"
        )
        return USAGE
    except (ValueError, KeyError, OSError, InputError) as exc:
        message = exc.args[0] if exc.args else str(exc)
        write_err(f"csdsl: {message}")
        return USAGE
    if args.format == "json":
        write_json_line(result.to_json())
    else:
        write_out(result.to_text().rstrip("\n"))
    return OK


def cmd_diff(args: argparse.Namespace) -> int:
    found: list[dict[str, Any]] = []
    old, new = load_policy(args.old, args.format, found), load_policy(args.new, args.format, found)
    if old is None or new is None:
        if args.format == "json":
            write_json_line(found)
        return USAGE
    from csdsl.assure.diff import diff
    from csdsl.records import InputError

    try:
        files = records_args(args.records, new.record_type)
        result = diff(
            old,
            new,
            records=list(files.items()),
            events=args.events,
            max_examples=args.max_examples,
            seed=args.seed,
        )
    except InputError as exc:
        write_err(f"csdsl: {exc}")
        return USAGE
    except (ValueError, KeyError) as exc:
        write_err(f"csdsl: {exc.args[0] if exc.args else exc}")
        return USAGE
    if args.format == "json":
        write_json_line(result.to_json())
    else:
        write_out(result.to_text().rstrip("\n"))
    return OK

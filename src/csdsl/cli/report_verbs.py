"""What the command line does with an audit's report after the run: `audit --xlsx` (with
`--sample`) and `audit --pdf`, `csdsl review` (a reviewed sample read back) and
`csdsl verify-report` (the files a report names, hashed again)."""

from __future__ import annotations

import argparse
import json
import os
import secrets
from pathlib import Path
from typing import TYPE_CHECKING, Any

from csdsl.cli.console import FAILED, OK, USAGE, write_err, write_out
from csdsl.report import dumps, one_line

if TYPE_CHECKING:
    from csdsl.auditor import AuditReport
    from csdsl.provenance import Check
    from csdsl.sampling import Sample

# ---- audit --xlsx / --pdf ------------------------------------------------------------------


def extras_problem(args: argparse.Namespace) -> str | None:
    """Why the workbook or PDF options cannot be honoured, before the audit runs (or None)."""
    if args.sample is None and (args.sample_by is not None or args.seed is not None):
        return "--sample-by and --seed choose how --sample draws: give --sample N too"
    if args.sample is not None:
        if not args.xlsx:
            return "--sample writes the `Review sample` sheet of report.xlsx: give --xlsx too"
        if args.sample < 1:
            return "--sample: give a number of cases of at least 1"
    if args.xlsx:
        from csdsl.report.workbook import WorkbookUnavailable, require

        try:
            require()
        except WorkbookUnavailable as exc:
            return str(exc)
    if args.pdf:
        from csdsl.report.pdf import PdfUnavailable, require as require_pdf

        try:
            require_pdf()
        except PdfUnavailable as exc:
            return str(exc)
    return None


def write_extras(args: argparse.Namespace, report: AuditReport) -> tuple[list[Path], Sample | None]:
    """report.xlsx (with its review sample) and report.pdf, each written whole under a private
    name and then put in place, as the other reports are."""
    from csdsl.audit_output import iter_findings, private_part

    out = Path(args.out)
    written: list[Path] = []
    sample = None
    if args.xlsx:
        from csdsl.report.workbook import write_workbook
        from csdsl.sampling import draw

        findings = out / "findings.jsonl"
        if args.sample is not None:
            seed = args.seed if args.seed is not None else secrets.randbelow(2**31)
            sample = draw(lambda: iter_findings(findings), args.sample, seed, args.sample_by)
        part = private_part(out, "report.xlsx")
        try:
            write_workbook(part, report.data, iter_findings(findings), sample)
            os.replace(part, out / "report.xlsx")
        finally:
            part.unlink(missing_ok=True)
        written.append(out / "report.xlsx")
    if args.pdf:
        from csdsl.report.pdf import write_pdf

        part = private_part(out, "report.pdf")
        try:
            write_pdf((out / "report.html").read_text(encoding="utf-8"), part)
            os.replace(part, out / "report.pdf")
        finally:
            part.unlink(missing_ok=True)
        written.append(out / "report.pdf")
    return written, sample


def sample_json(sample: Sample) -> dict[str, Any]:
    return {
        "cases": sample.drawn,
        "population": sample.population,
        "n": sample.n,
        "seed": sample.seed,
        "by": sample.by,
    }


def sample_line(sample: Sample, out: Path) -> str:
    return (
        f"review sample: {sample.describe()}, seed {sample.seed}: sheet "
        f"`Review sample` of {out / 'report.xlsx'}"
    )


# ---- review --------------------------------------------------------------------------------


def cmd_review(args: argparse.Namespace) -> int:
    from csdsl.review import ReviewError, read_review, table_lines

    try:
        review = read_review(args.workbook)
    except ReviewError as exc:
        write_err(one_line(f"csdsl: {exc}"))
        return USAGE
    if args.format == "json":
        write_out(dumps(review.to_json()))
        return OK
    total = review.total()
    head = f"{review.path}: {total.reviewed} of {total.reviewed + total.unreviewed} rows reviewed"
    if review.drawn:
        head += f" (sample: {review.drawn}, seed {review.seed})"
    write_out(one_line(head))
    for line in table_lines(review):
        write_out(one_line(line))
    return OK


# ---- verify-report ---------------------------------------------------------------------------


def cmd_verify_report(args: argparse.Namespace) -> int:
    from csdsl.provenance import STATUSES, ReportError, failed, verify

    path = args.report
    if Path(path).exists() and not Path(path).is_file() and not Path(path).is_dir():
        write_err(f"csdsl: {path}: not a regular file (a device, FIFO or socket)")
        return USAGE
    try:
        with open(path, encoding="utf-8") as handle:
            report = json.load(handle)
        checks = verify(report)
    except FileNotFoundError:
        write_err(f"csdsl: {path}: no such file")
        return USAGE
    except IsADirectoryError:
        write_err(f"csdsl: {path}: is a directory; give the report.json of an audit")
        return USAGE
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        write_err(one_line(f"csdsl: {path}: not a readable report.json: {reason.lower()}"))
        return USAGE
    except ReportError as exc:
        write_err(f"csdsl: {path}: {exc}")
        return USAGE
    counts = {s: sum(c.status == s for c in checks) for s in STATUSES}
    if args.format == "json":
        write_out(dumps({"files": [c.to_json() for c in checks], "counts": counts}))
    else:
        width = max(len(c.status) for c in checks)
        kinds = max(len(c.kind) for c in checks)
        for c in checks:
            line = f"{c.status.ljust(width)}  {c.kind.ljust(kinds)}  {c.path}{_why(c)}"
            write_out(one_line(line))
        write_out(
            f"{path}: {len(checks)} files: "
            + ", ".join(f"{n} {s}" for s, n in counts.items() if n or s == "unchanged")
        )
    return FAILED if failed(checks) else OK


def _why(c: Check) -> str:
    if c.status == "changed":
        size = "" if c.bytes == c.found_bytes else f"; {c.found_bytes} bytes, was {c.bytes}"
        return f"  (sha256 {str(c.found)[:12]}…, was {str(c.sha256)[:12]}…{size})"
    if c.reason:
        return f"  ({c.reason})"
    return ""

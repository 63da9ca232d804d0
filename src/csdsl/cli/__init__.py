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
import importlib
import os
import sys
from collections.abc import Callable, Sequence

from csdsl import __version__
from csdsl.cli.console import OK, USAGE, robust_streams, write_err
from csdsl.cli.policy_verbs import DIALECTS, TARGETS
from csdsl.sampling import SAMPLE_BY
from csdsl.tally import CASES_SHOWN


def _count(text: str) -> int:
    """A whole number, 0 or more (an argparse `type`)."""
    try:
        n = int(text)
    except ValueError:
        n = -1
    if n < 0:
        raise argparse.ArgumentTypeError(f"expected a whole number, 0 or more, got {text!r}")
    return n


Verb = Callable[[argparse.Namespace], int]


def _verb(name: str, module: str = "policy_verbs") -> Verb:
    """The verb function `name` of `csdsl.cli.<module>`, imported when the verb runs: a run
    imports only what its own verb needs (`csdsl check` none of the records readers, engines
    and importers of the data verbs; tests/test_cli.py checks it)."""

    def run(args: argparse.Namespace) -> int:
        verb: Verb = getattr(importlib.import_module(f"csdsl.cli.{module}"), name)
        return verb(args)

    run.__name__ = run.__qualname__ = name
    return run


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
    p.add_argument(
        "--fix",
        action="store_true",
        help="apply the fixes diagnostics carry (misspelt names, a missing `:` or `}`, ...), "
        "rewrite the files and print what changed",
    )
    p.add_argument(
        "--diff",
        "--dry-run",
        dest="diff",
        action="store_true",
        help="with --fix: print the changes as a unified diff instead of writing them",
    )
    p.set_defaults(run=_verb("cmd_check"))

    p = verb("fmt", "rewrite policy files in the canonical layout (comments kept)", formats=False)
    p.add_argument("files", nargs="+", metavar="FILE", help="files to format; `-` for stdin")
    p.add_argument(
        "--check",
        action="store_true",
        help="change nothing; exit 1 if a file is not in canonical layout",
    )
    p.set_defaults(run=_verb("cmd_fmt"))

    p = verb("validate", "complaint validity per record of a JSONL, JSON or CSV file")
    p.add_argument("policy", metavar="POLICY")
    p.add_argument("records", metavar="RECORDS", help=".jsonl, .json, .csv, or - for stdin")
    p.add_argument("--record", metavar="NAME", help="the record type (if several have rules)")
    p.add_argument(
        "--explain",
        action="store_true",
        help="show, for each condition, its outcome, clause and the values it read",
    )
    p.set_defaults(run=_verb("cmd_validate", "data_verbs"))

    def with_events(p: argparse.ArgumentParser, now: str, several: str) -> None:
        """A verb over a records file and its event log (`timeline`, `rules`)."""
        p.add_argument("policy", metavar="POLICY")
        p.add_argument("records", metavar="RECORDS", help=".jsonl, .json, .csv, or - for stdin")
        p.add_argument("--events", metavar="EVENTS", help="event log: .jsonl, .json or .csv")
        p.add_argument("--now", metavar="DATETIME", help=now)
        p.add_argument(
            "--record", metavar="NAME", help=f"the record type (if several have {several})"
        )

    p = verb("timeline", "due times per record, and met/breached/pending against an event log")
    with_events(
        p, "judge open clocks at this moment (ISO 8601; default: leave them pending)", "clocks"
    )
    p.set_defaults(run=_verb("cmd_timeline", "data_verbs"))

    p = verb("rules", "record-level rules per record: kept, broken, unknown or not applicable")
    with_events(
        p, "count the days or weeks of an open period up to this moment (ISO 8601)", "rules"
    )
    p.set_defaults(run=_verb("cmd_rules", "data_verbs"))

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
    p.set_defaults(run=_verb("cmd_transcripts", "data_verbs"))

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
        choices=("python", "duckdb", "spark"),
        default="python",
        help="python (the reference), duckdb (validity and KPIs in SQL, for large exports) or "
        "spark (the same on Apache Spark; needs the spark extra)",
    )
    p.add_argument(
        "--spark-master",
        metavar="URL",
        help="with --engine spark: the Spark master (default local[*]; SPARK_REMOTE, if set, "
        "for Spark Connect)",
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
    p.add_argument(
        "--standards",
        metavar="INDEX",
        help="the index of the standards' sentences (policies/standards/index.jsonl): every "
        "clause that cites a section quotes the standard's words in the findings and reports",
    )
    p.add_argument(
        "--quarantine",
        action="store_true",
        help="also write OUT/quarantine/: the findings of each clause as one Parquet file",
    )
    p.add_argument(
        "--cases",
        type=_count,
        default=CASES_SHOWN,
        metavar="N",
        help=f"the report shows the N cases with the most findings (default {CASES_SHOWN}); "
        "every finding is in OUT/findings.jsonl",
    )
    p.add_argument(
        "--events-from",
        choices=("zendesk", "jira"),
        help="--events is a Zendesk ticket audits or Jira changelog export, converted to "
        "events by --map (docs/importers.md)",
    )
    p.add_argument(
        "--vendor-sla",
        metavar="FILE",
        help="the vendor's own SLA verdicts, reconciled with the policy's deadlines",
    )
    p.add_argument(
        "--vendor-sla-from",
        choices=("zendesk-metrics", "jsm-sla"),
        help="the format of --vendor-sla: Zendesk ticket metric events or JSM request SLAs",
    )
    p.add_argument(
        "--map",
        metavar="MAP",
        help="TOML or JSON mapping of the exports' statuses, users and SLA names "
        "(default: the bundled one, docs/importers.md)",
    )
    p.add_argument(
        "--xlsx",
        action="store_true",
        help="also write OUT/report.xlsx: KPIs, every finding, bad rows (needs the xlsx extra)",
    )
    p.add_argument(
        "--sample",
        type=int,
        metavar="N",
        help="with --xlsx: a `Review sample` sheet of N random cases (N per stratum with "
        "--sample-by), with a reviewer verdict and a comment column",
    )
    p.add_argument(
        "--sample-by",
        choices=SAMPLE_BY,
        help="draw N cases per agent, per team or per clause",
    )
    p.add_argument(
        "--seed",
        type=int,
        metavar="S",
        help="the sample's seed: the same findings and seed draw the same sample (default: a "
        "random seed, written in the sheet)",
    )
    p.add_argument(
        "--pdf",
        action="store_true",
        help="also write OUT/report.pdf, report.html rendered by WeasyPrint (the pdf extra)",
    )
    p.set_defaults(run=_verb("cmd_audit", "data_verbs"))

    p = verb("review", "a reviewed sample read back: confirmed and false-positive rates by clause")
    p.add_argument("workbook", metavar="WORKBOOK", help="a report.xlsx with a filled Review sample")
    p.set_defaults(run=_verb("cmd_review", "report_verbs"))

    p = verb(
        "verify-report",
        "hash again the inputs and policy files an audit report names: which changed or are gone",
    )
    p.add_argument("report", metavar="REPORT", help="the report.json of an audit")
    p.set_defaults(run=_verb("cmd_verify_report", "report_verbs"))

    p = verb(
        "import",
        "convert a ticketing system's export to csdsl events (or SLA verdicts)",
        formats=False,
    )
    p.add_argument("export", metavar="FILE", help="the exported file (JSON or JSONL)")
    p.add_argument(
        "--from",
        dest="source",
        required=True,
        choices=("zendesk", "jira", "zendesk-metrics", "jsm-sla"),
        help="the export's format",
    )
    p.add_argument("--map", metavar="MAP", help="TOML or JSON mapping (docs/importers.md)")
    p.add_argument("-o", "--output", metavar="OUT", help="JSONL file to write (default: stdout)")
    p.set_defaults(run=_verb("cmd_import", "import_verb"))

    p = verb("test", "run the examples in policy files")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.set_defaults(run=_verb("cmd_test"))

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
    p.set_defaults(run=_verb("cmd_verify"))

    p = verb("compile", "emit a standalone checker: a Python module, SQL, or the IR as JSON", False)
    p.add_argument("policy", metavar="POLICY")
    p.add_argument("--target", required=True, choices=TARGETS, help="what to emit")
    p.add_argument(
        "--dialect",
        choices=DIALECTS,
        help="SQL dialect of --target sql (default duckdb); only with --target sql",
    )
    for flag, which in (("--from", "first"), ("--to", "last")):
        p.add_argument(
            flag,
            dest=f"span_{which}",
            metavar="DATE",
            help=f"the {which} date (YYYY-MM-DD) the calendar tables of the timeline views "
            "cover (default: the years of China's published holidays for a calendar that keeps "
            "them, else the current year +-1); only with --target sql",
        )
    p.add_argument("-o", "--output", metavar="OUT", help="file to write (default: stdout)")
    p.set_defaults(run=_verb("cmd_compile"))

    p = verb("doc", "a readable rendering of a policy for sign-off (HTML or Markdown)", False)
    p.add_argument("policy", metavar="POLICY")
    p.add_argument(
        "--format",
        choices=("html", "md"),
        help="html (default) or md; by default md when OUT ends in .md",
    )
    p.add_argument("-o", "--output", metavar="OUT", help="file to write (default: stdout)")
    p.set_defaults(run=_verb("cmd_doc"))

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
    p.set_defaults(run=_verb("cmd_trace"))

    p = verb("explain", "why a record is (not) valid, and the smallest changes that flip it")
    p.add_argument("policy", metavar="POLICY")
    p.add_argument(
        "record_spec",
        metavar="RECORD",
        help="a .json file with one object, FILE:LINE of a JSONL file, `-`, or inline `{...}`",
    )
    p.add_argument("--record", metavar="NAME", help="the record type (if several have rules)")
    p.add_argument("--events", metavar="EVENTS", help="event log, for record-level rules")
    p.add_argument(
        "--now",
        metavar="DATETIME",
        help="count the days or weeks of a rule's open period up to this moment (ISO 8601)",
    )
    p.set_defaults(run=_verb("cmd_explain"))

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
    p.set_defaults(run=_verb("cmd_diff"))

    p = verb("lsp", "the language server for editors, over standard input and output", False)
    p.add_argument(
        "--stdio", action="store_true", help="talk over stdin/stdout (the default and only way)"
    )
    p.set_defaults(run=_verb("cmd_lsp", "editor"))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code) if isinstance(exc.code, int) else USAGE
    args.argv = list(sys.argv[1:] if argv is None else argv)
    robust_streams()
    try:
        code: int = args.run(args)
        if not sys.stdout.closed:  # `lsp` ends when the editor closes the stream
            sys.stdout.flush()
        return code
    except BrokenPipeError:
        # the reader went away (e.g. `| head`); that is not an error of ours
        sys.stderr.close()
        return OK
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # a bug in csdsl, never the user's input: say so, briefly
        from csdsl.phrase_engines import EngineError

        if isinstance(exc, EngineError):  # CSDSL_MATCHER names an engine that cannot be used
            write_err(f"csdsl: {exc}")
            return USAGE
        if os.environ.get("CSDSL_DEBUG"):
            raise
        write_err(
            f"csdsl: internal error ({type(exc).__name__}: {exc}); this is a bug in csdsl, "
            "not in your input. Rerun with CSDSL_DEBUG=1 for the traceback and report it."
        )
        return USAGE

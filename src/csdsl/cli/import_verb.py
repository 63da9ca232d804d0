"""`csdsl import`: a ticketing system's export as csdsl events (or the vendor's SLA verdicts),
as JSONL, so the conversion can be looked at and kept (docs/importers.md)."""

from __future__ import annotations

import argparse
import io

from csdsl.cli.console import OK, USAGE, counted, write_err, write_or_print
from csdsl.importers import EVENT_FORMATS, convert, load_mapping, write_jsonl
from csdsl.records import InputError
from csdsl.report import one_line


def cmd_import(args: argparse.Namespace) -> int:
    try:
        conv = convert(args.export, args.source, load_mapping(args.map))
    except InputError as exc:
        write_err(one_line(f"csdsl: {exc}"))
        return USAGE
    for b in conv.bad:
        at = f"{conv.path}:{b.line}" if b.line else conv.path
        write_err(one_line(f"{at}: X001 {b.message()}"))
    for warning in conv.warnings():
        write_err(one_line(f"csdsl: note: {warning}"))
    text = io.StringIO()
    written = write_jsonl(conv, text)
    what = "event" if args.source in EVENT_FORMATS else "verdict"
    write_err(
        f"csdsl: {conv.path}: {counted(conv.elements, 'element')} read, {conv.good} good, "
        f"{len(conv.bad)} bad; {counted(written, what)}"
    )
    if written == 0 and args.output is None:
        return OK
    return write_or_print(text.getvalue(), args.output) if written else _empty(args.output)


def _empty(output: str) -> int:
    """No event to write: the file is still written, empty (a run's output is never stale)."""
    try:
        with open(output, "w", encoding="utf-8"):
            pass
    except OSError as exc:
        write_err(f"csdsl: -o {output}: cannot write: {exc.strerror or exc}")
        return USAGE
    return OK

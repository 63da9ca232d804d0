"""Importers for ticketing systems' exports (docs/importers.md): Zendesk ticket audits and Jira
issue changelogs as csdsl event logs (IO.md), Zendesk ticket metric events and JSM request SLAs
as the vendor's own SLA verdicts, which an audit reconciles with the policy's deadlines
(`csdsl.importers.reconcile`).

In: one exported file, a format (`FORMATS`) and a mapping (`load_mapping`).  Out: a
`Converted`: csdsl events or verdicts, the elements that could not be read (each with its line
or JSON path and why), and counted notes.  A file that cannot be read at all is an
`InputError` naming it.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import IO

from csdsl.importers.export import Bad, Converted, Verdict
from csdsl.importers.jira import issues, slas
from csdsl.importers.mapping import Mapping, load_mapping
from csdsl.importers.zendesk import audits, metric_events
from csdsl.records import InputError
from csdsl.values import parse_datetime

EVENT_FORMATS = ("zendesk", "jira")  # exports that are event logs
VERDICT_FORMATS = ("zendesk-metrics", "jsm-sla")  # exports that carry the vendor's verdicts
FORMATS = EVENT_FORMATS + VERDICT_FORMATS
SLA_VENDOR = {"zendesk-metrics": "zendesk", "jsm-sla": "jsm"}  # the mapping's [*.sla] table
VENDOR_NAME = {"zendesk-metrics": "Zendesk", "jsm-sla": "Jira Service Management"}

_READERS: dict[str, Callable[[str | Path, Mapping], Converted]] = {
    "zendesk": audits,
    "jira": issues,
    "zendesk-metrics": metric_events,
    "jsm-sla": slas,
}

__all__ = [
    "EVENT_FORMATS",
    "FORMATS",
    "SLA_VENDOR",
    "VENDOR_NAME",
    "VERDICT_FORMATS",
    "Bad",
    "Converted",
    "Mapping",
    "Verdict",
    "convert",
    "load_mapping",
    "write_jsonl",
]


def convert(path: str | Path, fmt: str, mapping: Mapping | None = None) -> Converted:
    """The export at `path` read as `fmt` (one of `FORMATS`), with `mapping` (default: the
    bundled one).  Raises `InputError`."""
    reader = _READERS.get(fmt.strip().lower())
    if reader is None:
        raise InputError(f"{path}: unknown export format `{fmt}`; use " + ", ".join(FORMATS))
    conv = reader(path, mapping if mapping is not None else load_mapping())
    # in time order (stable: one audit's events keep theirs), as the event reader expects
    conv.events.sort(key=lambda e: _instant(e["at"]))
    return conv


def _instant(at: str) -> dt.datetime:
    """For sorting: a naive time (no vendor writes one) is taken as UTC."""
    moment = parse_datetime(at)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


def write_jsonl(conv: Converted, out: IO[str]) -> int:
    """The events (or verdicts) as JSONL; the number of lines written."""
    items = conv.events if conv.format in EVENT_FORMATS else [v.to_json() for v in conv.verdicts]
    for item in items:
        out.write(json.dumps(item, ensure_ascii=False) + "\n")
    return len(items)

"""An audit's vendor exports (docs/importers.md): an event log given as a Zendesk or Jira export
(`--events-from`), and the vendor's own SLA verdicts to reconcile with (`--vendor-sla`).

In: the audit's arguments.  Out: `VendorInputs`: the path of the event log the audit reads (the
export converted to csdsl events and written as JSONL next to the reports, so the findings' event
lines point into a file one can open), the conversions (their elements, bad elements and notes,
for the report's inputs and bad rows) and the `Reconciler` the records pass feeds.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import attrs

from csdsl.api import Policy
from csdsl.audit_versions import AuditError, Version
from csdsl.importers import (
    EVENT_FORMATS,
    SLA_VENDOR,
    VENDOR_NAME,
    VERDICT_FORMATS,
    Converted,
    convert,
    load_mapping,
    write_jsonl,
)
from csdsl.importers.reconcile import Kept, Reconciler
from csdsl.records import id_key
from csdsl.sql.audit_clocks import clock_builder
from csdsl.timeline import EventLog, Milestone, Timeline

IMPORTED_EVENTS = "imported_events.jsonl"


@attrs.define
class VendorInputs:
    events: str | None  # the event log the audit reads
    converted: list[tuple[str, Converted]] = attrs.Factory(list)  # (kind, conversion)
    reconciler: Reconciler | None = None
    record: str | None = None  # the record type whose deadlines are reconciled
    tmp: tempfile.TemporaryDirectory[str] | None = None

    def close(self) -> None:
        if self.tmp is not None:
            self.tmp.cleanup()

    def inputs(self) -> list[dict[str, Any]]:
        """The report's `inputs` entries of the exports."""
        return [
            {
                "kind": kind,
                "type": conv.format,
                "path": conv.path,
                "rows": conv.elements,
                "read": conv.good,
                "bad": len(conv.bad),
            }
            for kind, conv in self.converted
        ]

    def reconciliation(
        self,
        versions: Sequence[Version],
        events: EventLog | None,
        now: dt.datetime | None,
        clause: Callable[[str, str, int], dict[str, Any]],
        tz: dt.tzinfo,
    ) -> dict[str, Any] | None:
        """The report's `reconciliation` section, None when not asked for.  The disagreeing
        cases' timelines are built here by the Python builder, whichever engine judged them,
        so both engines explain them alike."""
        if self.reconciler is None or self.record is None:
            return None
        name = self.record

        def milestones(kept: Kept) -> Sequence[Milestone]:
            builder = clock_builder(versions[kept.version].policy, name)
            if builder is None:
                return ()
            mine = events.get(id_key(kept.id), []) if events is not None else []
            timeline: Timeline = builder.build(kept.id, kept.values, mine, now)
            return timeline.milestones

        return self.reconciler.finish(milestones, clause, tz)

    def warnings(self) -> list[str]:
        return [w for _, conv in self.converted for w in conv.warnings()]


def prepare(
    newest: Policy,
    *,
    events: str | Path | None,
    events_from: str | None,
    vendor_sla: str | Path | None,
    vendor_sla_from: str | None,
    mapping: str | Path | None,
    out: str | Path | None,
) -> VendorInputs:
    """Convert the exports an audit was given.  Raises `AuditError` for arguments that do not
    go together and `InputError` for a file that cannot be read."""
    if events_from is not None and events is None:
        raise AuditError("--events-from says how to read --events: give --events too")
    if events_from is not None and events_from not in EVENT_FORMATS:
        raise AuditError(
            f"--events-from: unknown format `{events_from}` ({', '.join(EVENT_FORMATS)})"
        )
    if (vendor_sla is None) != (vendor_sla_from is None):
        raise AuditError(
            "--vendor-sla and --vendor-sla-from go together: the file and its format "
            f"({', '.join(VERDICT_FORMATS)})"
        )
    if vendor_sla_from is not None and vendor_sla_from not in VERDICT_FORMATS:
        raise AuditError(
            f"--vendor-sla-from: unknown format `{vendor_sla_from}` ({', '.join(VERDICT_FORMATS)})"
        )
    if mapping is not None and events_from is None and vendor_sla is None:
        raise AuditError("--map is read with --events-from or --vendor-sla: give one of them")
    if vendor_sla is not None and events is None:
        raise AuditError(
            "--vendor-sla is reconciled with the policy's deadlines, which need the event "
            "log: give --events"
        )
    found = VendorInputs(None if events is None else str(events))
    if events_from is None and vendor_sla is None:
        return found
    table = load_mapping(mapping)
    try:
        if events_from is not None:
            assert events is not None
            conv = convert(events, events_from, table)
            if out is not None:
                target = Path(out) / IMPORTED_EVENTS
            else:
                found.tmp = tempfile.TemporaryDirectory(prefix="csdsl-import-")
                target = Path(found.tmp.name) / IMPORTED_EVENTS
            with target.open("w", encoding="utf-8") as handle:
                write_jsonl(conv, handle)
            found.events = str(target)
            found.converted.append(("export", conv))
        if vendor_sla is not None and vendor_sla_from is not None:
            conv = convert(vendor_sla, vendor_sla_from, table)
            found.converted.append(("vendor_sla", conv))
            sla = table.sla[SLA_VENDOR[vendor_sla_from]]
            deadlines = {d.name: d.record for d in newest.ir.deadlines}
            found.reconciler = Reconciler.build(
                conv, VENDOR_NAME[vendor_sla_from], sla, deadlines, table.source
            )
            mapped = [d for d in found.reconciler.deadlines]
            found.record = deadlines[mapped[0]] if mapped else None
    except BaseException:
        found.close()
        raise
    return found

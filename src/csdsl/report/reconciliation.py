"""What the report's "Reconciliation with <vendor>" section shows: the report's
`reconciliation` (csdsl.importers.reconcile) as display text, for its own templates
(`reconciliation.html.j2`, `reconciliation.md.j2`, included near the end of the report).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

DASH = "—"
COUNTS = (
    ("compared", "compared"),
    ("agree", "agree"),
    ("disagree", "disagree"),
    ("only_in_vendor", "only in the vendor's export"),
    ("only_in_policy", "only in the policy's judgement"),
)


@attrs.frozen
class Row:
    case: str
    deadline: str
    record: str  # input:line of the record
    vendor_status: str
    vendor_reason: str
    policy_status: str
    policy_reason: str
    clause: str  # file:line of the deadline


@attrs.frozen
class Section:
    vendor: str
    input: str
    mapping: list[tuple[str, str]]  # vendor metric, deadline
    counts: list[tuple[str, int]]
    rows: list[Row]
    more: int  # disagreements not listed
    only_in_vendor: list[tuple[str, str, str]]  # case, deadline, why
    not_mapped: list[tuple[str, int]]  # vendor metrics no deadline takes, with their counts


def _text(x: Any) -> str:
    return DASH if x is None or x == "" else str(x)


def section(report: Mapping[str, Any]) -> Section | None:
    """The section, or None when the audit was not asked to reconcile."""
    r = report.get("reconciliation")
    if not isinstance(r, Mapping):
        return None
    counts = r.get("counts", {})
    rows = []
    for d in r.get("disagreements", {}).get("items", []):
        vendor, policy = d.get("vendor", {}), d.get("policy", {})
        clause = policy.get("clause") or {}
        rows.append(
            Row(
                case=_text(d.get("case")),
                deadline=_text(d.get("deadline")),
                record=f"{d.get('input')}:{d.get('line')}",
                vendor_status=_text(vendor.get("status")),
                vendor_reason=_text(vendor.get("reason")),
                policy_status=_text(policy.get("status")),
                policy_reason=_text(policy.get("reason")),
                clause=f"{clause.get('file')}:{clause.get('line')}" if clause else DASH,
            )
        )
    total = int(r.get("disagreements", {}).get("total", len(rows)))
    only = [
        (_text(o.get("case")), _text(o.get("deadline")), _text(o.get("why")))
        for o in r.get("only_in_vendor", {}).get("items", [])
    ]
    return Section(
        vendor=_text(r.get("vendor")),
        input=_text(r.get("input")),
        mapping=[(str(k), str(v)) for k, v in r.get("mapping", {}).items()],
        counts=[(label, int(counts.get(k, 0))) for k, label in COUNTS],
        rows=rows,
        more=total - len(rows),
        only_in_vendor=only,
        not_mapped=[(str(k), int(n)) for k, n in r.get("not_mapped", {}).items()],
    )

"""Reconciliation: the vendor's own SLA verdicts against the policy's deadlines, per case.

In: the verdicts of a Zendesk metric events or JSM SLA export (`csdsl.importers.convert`), the
mapping's `[zendesk.sla]` / `[jsm.sla]` table (vendor metric -> deadline), and, from the audit,
each judged case's status per deadline (`see`) and, for the cases where the two disagree, the
deadline's milestones (`finish`).  Out: the report's `reconciliation` section (JSON).

Per case and deadline, the vendor's verdict (the worst of the metrics mapped to it: breached,
then ongoing, then met) agrees with the policy's status when both say breached, both say met,
or the vendor says ongoing and the policy pending.  A verdict for a case the audit did not judge
on that deadline (no record with its id, or the deadline does not apply) is only in the
vendor's export; a deadline the policy judged for a case with no verdict for it is only in the
policy's.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import attrs

from csdsl.importers.export import Converted, Verdict
from csdsl.records import InputError, id_key
from csdsl.timeline import Milestone
from csdsl.values import format_duration

_RANK = {"breached": 0, "ongoing": 1, "met": 2}
AGREE = {("breached", "breached"), ("met", "met"), ("ongoing", "pending")}
SHOWN = 200  # disagreements listed in full; the counts cover all


@attrs.frozen
class Kept:
    """What the audit knows of a case with a verdict, to explain a disagreement."""

    id: Any
    values: Mapping[str, Any]
    version: int
    input: str
    line: int


@attrs.define
class Reconciler:
    vendor: str  # the vendor's name, for the report
    fmt: str
    source: str
    sla: dict[str, str]  # vendor metric (lower case) -> deadline
    verdicts: dict[tuple[str, str], Verdict]  # (case key, deadline) -> the worst verdict
    not_mapped: Counter[str]  # vendor metric -> verdicts no deadline takes
    statuses: dict[tuple[str, str], str] = attrs.Factory(dict)  # (case, deadline) -> policy's
    kept: dict[str, Kept] = attrs.Factory(dict)
    only_in_policy: Counter[str] = attrs.Factory(Counter)  # deadline -> cases
    only_in_policy_shown: list[dict[str, Any]] = attrs.Factory(list)

    @classmethod
    def build(
        cls,
        conv: Converted,
        vendor: str,
        sla: Mapping[str, str],
        deadlines: Iterable[str],
        mapping_source: str,
    ) -> Reconciler:
        known = set(deadlines)
        for metric, deadline in sla.items():
            if deadline and deadline not in known:
                raise InputError(
                    f"{mapping_source}: the vendor metric `{metric}` maps to `{deadline}`, "
                    f"which is not a deadline of the policy (deadlines: {', '.join(sorted(known))})"
                )
        lookup = {k.strip().lower(): d for k, d in sla.items()}
        verdicts: dict[tuple[str, str], Verdict] = {}
        not_mapped: Counter[str] = Counter()
        for v in conv.verdicts:
            mapped = lookup.get(v.metric.strip().lower())
            if not mapped:
                not_mapped[v.metric] += 1
                continue
            key = (id_key(v.case), mapped)
            was = verdicts.get(key)
            if was is None or _RANK[v.status] < _RANK[was.status]:
                verdicts[key] = v
        return cls(vendor, conv.format, conv.path, dict(sla), verdicts, not_mapped)

    @property
    def deadlines(self) -> list[str]:
        return sorted({d for d in self.sla.values() if d})

    @property
    def cases(self) -> set[str]:
        return {case for case, _ in self.verdicts}

    def see(
        self,
        row_id: Any,
        values: Mapping[str, Any],
        version: int,
        where: tuple[str, int],
        statuses: Mapping[str, str],
    ) -> None:
        """One judged record and its deadlines' statuses (the worst of their cycles)."""
        key = id_key(row_id)
        mine = key in self.cases
        if mine:
            self.kept[key] = Kept(row_id, values, version, where[0], where[1])
        for deadline in self.deadlines:
            status = statuses.get(deadline, "not_applicable")
            if mine:
                self.statuses[(key, deadline)] = status
            elif status != "not_applicable":
                self.only_in_policy[deadline] += 1
                if len(self.only_in_policy_shown) < 20:
                    self.only_in_policy_shown.append(
                        {"case": row_id, "deadline": deadline, "status": status}
                    )

    def finish(
        self,
        milestones: Callable[[Kept], Sequence[Milestone]],
        clause: Callable[[str, str, int], dict[str, Any]],
        tz: dt.tzinfo,
    ) -> dict[str, Any]:
        """The report's section; `milestones` gives a kept case's timeline (asked only for
        the cases in disagreement), `clause` a clause's reference for the report."""
        agree: Counter[str] = Counter()
        disagree: list[dict[str, Any]] = []
        only_vendor: list[dict[str, Any]] = []
        timelines: dict[str, Sequence[Milestone]] = {}
        for (case, deadline), verdict in sorted(self.verdicts.items()):
            status = self.statuses.get((case, deadline))
            vendor = {
                "metric": verdict.metric,
                "status": verdict.status,
                "at": verdict.at,
                "reason": verdict.reason,
                "line": verdict.line,
                "where": verdict.where,
            }
            if status is None or status == "not_applicable":
                only_vendor.append(
                    {
                        "case": verdict.case,
                        "deadline": deadline,
                        "vendor": vendor,
                        "why": "no record with this id was judged"
                        if status is None
                        else "the deadline does not apply to the record",
                    }
                )
                continue
            if (verdict.status, status) in AGREE:
                agree[deadline] += 1
                continue
            kept = self.kept[case]
            if case not in timelines:
                timelines[case] = milestones(kept)
            mine = [m for m in timelines[case] if m.kind == "deadline" and m.clause == deadline]
            disagree.append(
                {
                    "case": kept.id,
                    "deadline": deadline,
                    "input": kept.input,
                    "line": kept.line,
                    "vendor": vendor,
                    "policy": _policy(status, mine, clause, tz),
                }
            )
        only_policy = sum(self.only_in_policy.values())
        return {
            "vendor": self.vendor,
            "format": self.fmt,
            "input": self.source,
            "mapping": {k: v for k, v in sorted(self.sla.items()) if v},
            "counts": {
                "compared": sum(agree.values()) + len(disagree),
                "agree": sum(agree.values()),
                "disagree": len(disagree),
                "only_in_vendor": len(only_vendor),
                "only_in_policy": only_policy,
            },
            "disagreements": {"total": len(disagree), "items": disagree[:SHOWN]},
            "only_in_vendor": {"total": len(only_vendor), "items": only_vendor[:20]},
            "only_in_policy": {"total": only_policy, "items": self.only_in_policy_shown},
            "not_mapped": dict(sorted(self.not_mapped.items())),
        }


def _policy(
    status: str,
    milestones: Sequence[Milestone],
    clause: Callable[[str, str, int], dict[str, Any]],
    tz: dt.tzinfo,
) -> dict[str, Any]:
    def when(t: dt.datetime | None) -> str | None:
        return t.astimezone(tz).isoformat() if t is not None else None

    cycles = [
        {
            "cycle": m.cycle,
            "status": m.status,
            "due": when(m.due),
            "at": when(m.at),
            "late_by": format_duration(m.late_by) if m.late_by is not None else None,
        }
        for m in milestones
    ]
    parts = []
    for c in cycles:
        bits = [f"cycle {c['cycle']} {c['status']}"]
        bits += [f"due {c['due']}"] if c["due"] else []
        bits += [f"stopped {c['at']}"] if c["at"] else []
        bits += [f"late by {c['late_by']}"] if c["late_by"] else []
        parts.append(", ".join(bits))
    first = milestones[0] if milestones else None
    return {
        "status": status,
        "clause": clause(first.clause, first.file, first.line) if first else None,
        "cycles": cycles,
        "reason": "; ".join(parts) if parts else status,
    }

"""Findings tallied for the report: by clause, team and agent, and the cases with the most.

In: every finding of a run, one at a time (`Tally.add`, called by the audit as it finds them),
then the run's findings again for the worst cases (`worst_cases`).  Out: the JSON parts of
report.json `findings.by_clause`, `findings.by_team`, `findings.by_agent` and `cases`.

Meaning:
- A **case** is one judged row: a record or a transcript, keyed by its input and line.  Its
  findings may come from several clauses (a valid complaint, a late reply, ~40 missed progress
  updates...); the report shows one row a case.
- **By clause**: one row per clause id, file and line, and per kind of finding: a deadline's
  missed progress updates (`update`) are counted apart from its breached deadline.  `findings`
  counts findings, `cases` the distinct cases with one.  The findings of one case under one
  clause are found one after the other by every engine (the clocks of a record are judged
  together), so a case is counted when a clause's previous finding was another case's.
- **By team / by agent**: findings and cases per `team` / `agent` of the findings (`null`: the
  record type has no such field, or the row no value); agents with the most findings first,
  the first `AGENTS_SHOWN`.
- **Cases**: the `shown` cases with the most findings (ties by input and line), each with its
  findings per clause, its findings (the first `CASE_FINDINGS`) and, when the case's record
  type has an event log, its events (the first `CASE_EVENTS`), each with its line in the log.
Memory: one small entry per case with a finding (the count and who), not its findings.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import attrs

CASES_SHOWN = 20
AGENTS_SHOWN = 50
CASE_FINDINGS = 200
CASE_EVENTS = 200

CaseKey = tuple[str, int]
ClauseKey = tuple[str | None, str, int, str]  # id, file, line, kind


def kind_of(finding: Mapping[str, Any]) -> str:
    """A finding's kind, a deadline's missed progress update (`update`) told apart."""
    kind = str(finding.get("kind"))
    ev = finding.get("evidence")
    if kind == "deadline" and isinstance(ev, Mapping) and ev.get("kind") == "update":
        return "update"
    return kind


def case_key(finding: Mapping[str, Any]) -> CaseKey:
    line = finding.get("line")
    return (str(finding.get("input")), line if isinstance(line, int) else 0)


def _clause_key(finding: Mapping[str, Any]) -> ClauseKey:
    c = finding.get("clause")
    c = c if isinstance(c, Mapping) else {}
    cid = c.get("id")
    line = c.get("line")
    return (
        cid if isinstance(cid, str) else None,
        str(c.get("file")),
        line if isinstance(line, int) else 0,
        kind_of(finding),
    )


@attrs.define
class _Case:
    record: Any
    agent: Any
    team: Any
    findings: int = 0
    opened: tuple[str, Any] | None = None  # (the record's receipt field, its value)


@attrs.define
class _Count:
    findings: int = 0
    cases: int = 0
    kinds: Counter[str] = attrs.Factory(Counter)


@attrs.define
class Tally:
    """Findings counted as they are found (see the module's docstring)."""

    clauses: dict[ClauseKey, _Count] = attrs.Factory(dict)
    clause_text: dict[ClauseKey, Mapping[str, Any]] = attrs.Factory(dict)
    last_case: dict[ClauseKey, CaseKey] = attrs.Factory(dict)
    cases: dict[CaseKey, _Case] = attrs.Factory(dict)

    def add(self, finding: Mapping[str, Any]) -> None:
        ck = _clause_key(finding)
        key = case_key(finding)
        count = self.clauses.get(ck)
        if count is None:
            count = self.clauses[ck] = _Count()
            clause = finding.get("clause")
            self.clause_text[ck] = clause if isinstance(clause, Mapping) else {}
        count.findings += 1
        if self.last_case.get(ck) != key:
            count.cases += 1
            self.last_case[ck] = key
        case = self.cases.get(key)
        if case is None:
            case = self.cases[key] = _Case(
                finding.get("record"), finding.get("agent"), finding.get("team")
            )
        case.findings += 1

    def opened(self, key: CaseKey, field: str, value: Any) -> None:
        """When a case with findings was received (its record type's receipt field)."""
        case = self.cases.get(key)
        if case is not None and value is not None:
            case.opened = (field, value)

    def by_clause(self) -> list[dict[str, Any]]:
        rows = sorted(self.clauses.items(), key=lambda kv: (-kv[1].findings, kv[0][1:3], kv[0]))
        return [
            {
                "clause": dict(self.clause_text[k]),
                "kind": k[3],
                "findings": c.findings,
                "cases": c.cases,
            }
            for k, c in rows
        ]

    def _by(self, who: str, limit: int | None) -> tuple[list[dict[str, Any]], int]:
        counts: dict[Any, _Count] = {}
        for case in self.cases.values():
            name = case.agent if who == "agent" else case.team
            c = counts.setdefault(name, _Count())
            c.findings += case.findings
            c.cases += 1
        rows = sorted(counts.items(), key=lambda kv: (-kv[1].findings, kv[0] is None, str(kv[0])))
        shown = rows if limit is None else rows[:limit]
        return [{who: k, "findings": c.findings, "cases": c.cases} for k, c in shown], len(rows)

    def by_team(self) -> list[dict[str, Any]]:
        return self._by("team", None)[0]

    def by_agent(self) -> tuple[list[dict[str, Any]], int]:
        """The `AGENTS_SHOWN` agents with the most findings, and how many agents there are."""
        return self._by("agent", AGENTS_SHOWN)

    def worst(self, n: int) -> list[CaseKey]:
        """The `n` cases with the most findings, most first (ties by input and line)."""
        ranked = sorted(self.cases.items(), key=lambda kv: (-kv[1].findings, kv[0]))
        return [k for k, _ in ranked[: max(n, 0)]]


def worst_cases(
    tally: Tally,
    n: int,
    findings: Iterable[Mapping[str, Any]],
    events_of: Callable[[str, Any], Sequence[Mapping[str, Any]]],
) -> list[dict[str, Any]]:
    """The `n` worst cases as report.json's `cases.items`: `findings` is every finding of the
    run (read again), `events_of(input, record id)` a case's event-log entries (none for a
    case whose record type reads no event log)."""
    keys = tally.worst(n)
    wanted = set(keys)
    found: dict[CaseKey, list[Mapping[str, Any]]] = {k: [] for k in keys}
    for f in findings:
        k = case_key(f)
        if k in wanted and len(found[k]) < CASE_FINDINGS:
            found[k].append(f)
    out = []
    for k in keys:
        case = tally.cases[k]
        per: dict[ClauseKey, int] = {}
        for f in found[k]:
            ck = _clause_key(f)
            per[ck] = per.get(ck, 0) + 1
        clauses = {_clause_key(f): f.get("clause") for f in found[k]}
        out.append(
            {
                "record": case.record,
                "input": k[0],
                "line": k[1],
                "agent": case.agent,
                "team": case.team,
                "findings": case.findings,
                "opened": None
                if case.opened is None
                else {"field": case.opened[0], "at": case.opened[1]},
                "by_clause": [
                    {"clause": clauses[ck], "kind": ck[3], "findings": m}
                    for ck, m in sorted(per.items(), key=lambda kv: -kv[1])
                ],
                "items": [dict(f) for f in found[k]],
                "events": list(events_of(k[0], case.record))[:CASE_EVENTS],
            }
        )
    return out

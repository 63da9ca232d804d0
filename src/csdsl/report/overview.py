"""The report in the order an auditor reads it: the verdict and the KPI scorecard, where the
problems are (by clause, team and agent), then the cases.

In: the report mapping (report.json) and its clause index (`model.ClauseIndex`).  Out: the
`Scorecard`, the problem tables and the `CaseView`s the templates show; every text a person
reads goes through `humanize` (durations, local times, evidence).

- **Scorecard**: one row per metric, one column per period (the KPI group's `<period> of
  <field>` value; `all` for a KPI without one).  A cell is one KPI (its value and status) or,
  when the metric is grouped further (by team), a summary of the period's groups (the worst
  value, how many fail), with one row per group in the metric's breakdown.  Every KPI row is a
  cell somewhere, linked to its row in the KPI details (`kpi-<n>`).  The sparkline's points
  are the metric's value per period (the worst group's when grouped: lowest for `>=`,
  highest for `<=`), on the metric's own scale, with the threshold as a line.
- **Problems**: report.json `findings.by_clause` / `by_team` / `by_agent` as rows.
- **Cases**: report.json `cases.items`, each with its findings grouped by clause, the conditions
  that made it valid, its clock findings as sentences, its event-log entries cited as
  `<event log>:<line>`, and its timeline (`charts.strip`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from csdsl.report import humanize
from csdsl.report.model import (
    Clause,
    ClauseIndex,
    Kpi,
    View,
    as_int,
    as_list,
    as_map,
    group_text,
    text,
)
from csdsl.values import parse_duration

PERIOD_WORDS = ("year", "quarter", "month", "week", "day", "date", "hour")
KIND_LABEL = {
    "valid_complaint": "valid complaint",
    "deadline": "deadline breached",
    "update": "progress update missed",
    "escalation": "escalation late",
    "transcript": "transcript",
    "rule": "rule broken",
}
WHOLE = "all"


def period_key(group: Mapping[str, Any]) -> str | None:
    """The key of a KPI group that is a period (`month of started_at`), if any."""
    for k in group:
        word, of, _ = str(k).partition(" of ")
        if of and word in PERIOD_WORDS:
            return str(k)
    return None


def kind_label(kind: str) -> str:
    return KIND_LABEL.get(kind, kind.replace("_", " "))


def as_number(value: Any) -> float | None:
    """A KPI value on a scale: a number, or a duration in seconds."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return parse_duration(value).total_seconds()
        except ValueError:
            return None
    return None


@attrs.frozen
class Cell:
    status: str  # pass | fail | na (not applicable) | none (no KPI for this period)
    text: str
    note: str  # a second line (`1 of 4 fail`), may be ""
    title: str  # the whole KPI (or the groups) as a tooltip
    anchor: str  # the KPI details row it stands for ("" for a summary)


@attrs.frozen
class GroupRow:
    label: str
    cells: list[Cell]


@attrs.frozen
class MetricRow:
    metric: str
    wording: str
    target: str
    clause: Clause | None
    status: str  # fail if any of its KPIs fails, pass if all pass, else na
    failed: int
    total: int
    cells: list[Cell]
    trend: list[float | None]  # one point per period
    threshold: float | None
    trend_note: str
    breakdown_by: str
    breakdown: list[GroupRow]


@attrs.frozen
class Scorecard:
    period: str  # `month of started_at, month of received_at`
    periods: list[str]
    rows: list[MetricRow]


def _worst(op: str) -> str | None:
    return "min" if op in (">=", ">") else "max" if op in ("<=", "<") else None


def _status_css(status: str) -> str:
    return status if status in ("pass", "fail") else "na"


def _title(k: Kpi) -> str:
    reason = f" ({k.reason})" if k.reason else ""
    return f"{k.metric} [{k.group}]: {k.value} {k.op} {k.threshold}: {k.status_label}{reason}"


def scorecard(raw_kpis: Sequence[Any], kpis: Sequence[Kpi]) -> Scorecard:
    """`kpis` (the model's, same order as `raw_kpis`) as one row per metric."""
    periods: list[str] = []
    keys: list[str] = []
    placed: list[tuple[str, str, Mapping[str, Any]]] = []  # (period, rest label, raw)
    for raw in raw_kpis:
        g = as_map(as_map(raw).get("group"))
        pk = period_key(g)
        p = text(g.get(pk)) if pk is not None else WHOLE
        if pk is not None and pk not in keys:
            keys.append(pk)
        if p not in periods:
            periods.append(p)
        rest = {k: v for k, v in g.items() if k != pk}
        placed.append((p, group_text(rest) if rest else "", raw))
    periods.sort(key=lambda p: (p == WHOLE, p))
    by_metric: dict[str, list[int]] = {}
    for i, k in enumerate(kpis):
        by_metric.setdefault(k.metric, []).append(i)
    rows = []
    for metric, idx in by_metric.items():
        first = kpis[idx[0]]
        raw_op = text(as_map(raw_kpis[idx[0]]).get("op"), "")
        worst = _worst(raw_op)
        groups = list(dict.fromkeys(placed[i][1] for i in idx if placed[i][1]))
        breakdown_by = ", ".join(
            dict.fromkeys(
                str(k)
                for i in idx
                for k in as_map(as_map(raw_kpis[i]).get("group"))
                if k != period_key(as_map(as_map(raw_kpis[i]).get("group")))
            )
        )
        cells, trend = [], []
        for p in periods:
            here = [i for i in idx if placed[i][0] == p]
            cells.append(_cell(here, kpis, raw_kpis, worst))
            values = [as_number(as_map(raw_kpis[i]).get("value")) for i in here]
            known = [v for v in values if v is not None]
            point: float | None = None
            if known and (len(here) == 1 or worst is not None):
                point = known[0] if len(here) == 1 else (min if worst == "min" else max)(known)
            trend.append(point)
        breakdown = []
        for gl in groups:
            gcells = []
            for p in periods:
                here = [i for i in idx if placed[i][0] == p and placed[i][1] == gl]
                gcells.append(_cell(here, kpis, raw_kpis, worst))
            breakdown.append(GroupRow(gl, gcells))
        statuses = [kpis[i].status for i in idx]
        failed = statuses.count("fail")
        status = "fail" if failed else "pass" if all(s == "pass" for s in statuses) else "na"
        grouped = bool(groups) and any(
            sum(1 for i in idx if placed[i][0] == p) > 1 for p in periods
        )
        word = "lowest" if worst == "min" else "highest"
        rows.append(
            MetricRow(
                metric=metric,
                wording=first.wording,
                target=f"{first.op} {first.threshold}",
                clause=first.clause,
                status=status,
                failed=failed,
                total=len(idx),
                cells=cells,
                trend=trend,
                threshold=as_number(as_map(raw_kpis[idx[0]]).get("threshold")),
                trend_note=f"the {word} {breakdown_by} each period" if grouped and worst else "",
                breakdown_by=breakdown_by,
                breakdown=breakdown,
            )
        )
    return Scorecard(", ".join(keys) or "period", periods, rows)


def _cell(here: list[int], kpis: Sequence[Kpi], raw: Sequence[Any], worst: str | None) -> Cell:
    if not here:
        return Cell("none", "", "", "no KPI for this period", "")
    if len(here) == 1:
        k = kpis[here[0]]
        return Cell(_status_css(k.status), k.value, "", _title(k), f"kpi-{here[0] + 1}")
    ks = [kpis[i] for i in here]
    failed = sum(1 for k in ks if k.status == "fail")
    status = "fail" if failed else "pass" if all(k.status == "pass" for k in ks) else "na"
    values = [(as_number(as_map(raw[i]).get("value")), kpis[i]) for i in here]
    known = [(v, k) for v, k in values if v is not None]
    shown = ""
    if known and worst is not None:
        k = (min if worst == "min" else max)(known, key=lambda x: x[0])[1]
        shown = f"{'lowest' if worst == 'min' else 'highest'} {k.value}"
    note = f"{failed} of {len(ks)} fail" if failed else f"all {len(ks)} pass"
    if status == "na" and not failed:
        note = f"{sum(1 for k in ks if k.status == 'pass')} of {len(ks)} pass"
    return Cell(status, shown, note, "; ".join(_title(k) for k in ks), "")


# ---- where the problems are ------------------------------------------------------------------


@attrs.frozen
class ClauseRow:
    clause: Clause | None
    cid: str
    kind: str
    findings: int
    cases: int
    text: str


@attrs.frozen
class WhoRow:
    name: str
    findings: int
    cases: int


def by_clause(raw: Any, idx: ClauseIndex) -> list[ClauseRow]:
    rows = []
    for r in (as_map(x) for x in as_list(raw)):
        c = as_map(r.get("clause"))
        clause = idx.own(c) if c else None
        rows.append(
            ClauseRow(
                clause=clause,
                cid=text(c.get("id"), ""),
                kind=kind_label(text(r.get("kind"), "")),
                findings=as_int(r.get("findings")),
                cases=as_int(r.get("cases")),
                text=text(c.get("text"), "") or (clause.text or "" if clause else ""),
            )
        )
    return rows


def by_who(raw: Any, who: str, missing: str) -> list[WhoRow]:
    rows = []
    for r in (as_map(x) for x in as_list(raw)):
        rows.append(
            WhoRow(text(r.get(who), missing), as_int(r.get("findings")), as_int(r.get("cases")))
        )
    return rows


# ---- cases -----------------------------------------------------------------------------------


@attrs.frozen
class CaseFinding:
    kind: str
    when: str  # a clock finding as a sentence, else ""
    message: str
    evidence: list[tuple[str, str]]
    severity: str


@attrs.frozen
class CaseGroup:
    clause: Clause | None
    cid: str
    kind: str
    rows: list[CaseFinding]


@attrs.frozen
class CaseEvent:
    when: str
    name: str
    role: str
    where: str


@attrs.frozen
class CaseView:
    anchor: str
    record: str
    location: str
    agent: str
    team: str
    opened: str
    findings: int
    per_clause: list[tuple[str, str, int]]  # (clause id, kind, findings)
    conditions: list[tuple[str, str, list[tuple[str, str]]]]  # valid: (id, words, evidence)
    groups: list[CaseGroup]
    events: list[CaseEvent]
    raw: Mapping[str, Any]  # the report's case, for the timeline strip


def _moment(x: Any) -> str:
    return humanize.moment(x) or text(x)


def _groups(
    items: list[Mapping[str, Any]], idx: ClauseIndex, events_input: str | None
) -> tuple[list[CaseGroup], list[tuple[str, str, list[tuple[str, str]]]]]:
    """A case's findings grouped by clause and kind, and the conditions that made it valid."""
    groups: dict[tuple[str, str, str], CaseGroup] = {}
    conditions = []
    for f in items:
        fc = as_map(f.get("clause"))
        kind = text(f.get("kind"), "")
        ev = f.get("evidence")
        if kind == "deadline" and as_map(ev).get("kind") == "update":
            kind = "update"
        if kind == "valid_complaint":
            conditions.append(
                (text(fc.get("id"), ""), text(fc.get("text"), ""), humanize.evidence(ev))
            )
        when, message = humanize.finding_text(f, events_input)
        key = (text(fc.get("id"), ""), text(fc.get("file"), ""), kind)
        if key not in groups:
            clause = idx.own(fc) if fc else None
            groups[key] = CaseGroup(clause, key[0], kind_label(kind), [])
        evidence = [] if when else humanize.evidence(ev)
        groups[key].rows.append(
            CaseFinding(kind_label(kind), when, message, evidence, text(f.get("severity")))
        )
    return list(groups.values()), conditions


def _events(raw: Any, events_input: str | None) -> list[CaseEvent]:
    out = []
    for e in (as_map(x) for x in as_list(raw)):
        line = text(e.get("line"))
        where = f"{events_input}:{line}" if events_input else f"line {line}"
        name, role = text(e.get("event")), text(e.get("role"))
        out.append(CaseEvent(_moment(e.get("at")), name, role, where))
    return out


def cases(raw: Any, idx: ClauseIndex) -> list[CaseView]:
    c = as_map(raw)
    events_input = c.get("events_input") if isinstance(c.get("events_input"), str) else None
    out = []
    for n, item in enumerate((as_map(x) for x in as_list(c.get("items"))), 1):
        items = [as_map(x) for x in as_list(item.get("items"))]
        groups, conditions = _groups(items, idx, events_input)
        opened = as_map(item.get("opened"))
        line = item.get("line")
        where = text(item.get("input"), "")
        per_clause = [
            (
                text(as_map(b.get("clause")).get("id"), ""),
                kind_label(text(b.get("kind"), "")),
                as_int(b.get("findings")),
            )
            for b in (as_map(x) for x in as_list(item.get("by_clause")))
        ]
        out.append(
            CaseView(
                anchor=f"case-{n}",
                record=text(item.get("record")),
                location=f"{where}:{line}" if isinstance(line, int) else where,
                agent=text(item.get("agent")),
                team=text(item.get("team")),
                opened=f"{text(opened.get('field'))} {_moment(opened.get('at'))}" if opened else "",
                findings=as_int(item.get("findings")),
                per_clause=per_clause,
                conditions=conditions,
                groups=groups,
                events=_events(item.get("events"), events_input),
                raw=item,
            )
        )
    return out


@attrs.frozen
class Overview:
    """What the report's first three parts show (see the module's docstring)."""

    scorecard: Scorecard
    clauses: list[ClauseRow]
    teams: list[WhoRow]
    agents: list[WhoRow]
    agents_total: int
    cases: list[CaseView]
    cases_total: int
    cases_shown: int
    has_tally: bool  # report.json has `findings.by_clause` (older reports do not)


def build(report: Mapping[str, Any], view: View) -> Overview:
    findings = as_map(report.get("findings"))
    c = as_map(report.get("cases"))
    case_views = cases(c, view.index)
    return Overview(
        scorecard=scorecard(as_list(report.get("kpis")), view.kpis),
        clauses=by_clause(findings.get("by_clause"), view.index),
        teams=by_who(findings.get("by_team"), "team", "(no team)"),
        agents=by_who(findings.get("by_agent"), "agent", "(no agent)"),
        agents_total=as_int(findings.get("agents")),
        cases=case_views,
        cases_total=as_int(c.get("total")),
        cases_shown=as_int(c.get("shown")) if "shown" in c else len(case_views),
        has_tally="by_clause" in findings,
    )

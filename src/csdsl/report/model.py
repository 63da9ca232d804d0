"""What the report templates show: the report dict (schema 1) turned into display strings.

In: the report mapping written by `csdsl audit` (report.json).  Out: a `View` whose fields are
ready-formatted text, tables and the clause index, shared by the Markdown and HTML templates.

Formatting:
- A KPI marked `percent` shows its value and threshold as percentages with one decimal
  (`87.3%`, `85%`); when the value would print like the threshold but differs from it, more
  decimals are shown, so a failing `84.99%` never reads `85.0%`.  Durations print as given.
- A missing value prints as `n/a` (KPIs) or `—` (other cells); a KPI group `{}` is `all`.
- Every clause cited anywhere in the report gets one entry in the clause index, keyed by
  `file:line`, with an HTML anchor `clause-<slug of file:line>` that is unique in the page.
- Evidence is a `key: value` list for a person (`humanize`: times to the minute, durations
  as `41 d 4 h`); a clock finding reads as a sentence (`replied 2024-10-29 16:12, due 13:37:
  2 h 35 min late`) and its `at line N` names the event log (`complaint_events.jsonl:N`).
  Long values are cut (the full finding, in ISO 8601, is in findings.jsonl).
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import attrs

from csdsl.report import humanize

OPS = {">=": "≥", "<=": "≤", "!=": "≠", "==": "=", ">": ">", "<": "<", "=": "="}
STATUS_LABEL = {"pass": "pass", "fail": "fail", "not_applicable": "n/a"}
EVIDENCE_MAX = 160
DASH = "—"
SECTIONS = (("validity", "by_condition"), ("timelines", "by_clause"), ("transcripts", "by_rule"))
RULE_STATUSES = ("kept", "broken", "unknown", "not_applicable")


def as_map(x: Any) -> Mapping[str, Any]:
    return x if isinstance(x, Mapping) else {}


def as_list(x: Any) -> list[Any]:
    return list(x) if isinstance(x, Sequence) and not isinstance(x, str | bytes) else []


def text(x: Any, empty: str = DASH) -> str:
    """A scalar as a cell: JSON spelling for booleans and null, numbers without noise."""
    if x is None:
        return empty
    if isinstance(x, bool):
        return "true" if x else "false"
    if isinstance(x, int):
        return str(x)
    if isinstance(x, float):
        return number(x)
    if isinstance(x, str):
        return x
    return json.dumps(x, ensure_ascii=False, default=str)


def count(x: Any) -> str:
    """An integer count with thousands separators; anything else as `text`."""
    if isinstance(x, int) and not isinstance(x, bool):
        return f"{x:,}"
    return text(x)


def number(x: float, digits: int = 3) -> str:
    if math.isnan(x) or math.isinf(x):
        return str(x)
    if x == int(x) and abs(x) < 1e15:
        return str(int(x))
    out = f"{x:.{digits}f}".rstrip("0").rstrip(".")
    return out if out not in ("", "-0") else "0"


def _pct(x: float, decimals: int) -> str:
    out = f"{x * 100:.{decimals}f}"
    if "." in out:
        out = out.rstrip("0").rstrip(".")
    return out + "%"


def percent_pair(value: Any, threshold: Any) -> tuple[str, str]:
    """`value` and `threshold` (ratios) as percentages that differ when the ratios do."""
    t = _pct(threshold, 1) if _is_num(threshold) else text(threshold)
    if not _is_num(value):
        return ("n/a" if value is None else text(value), t)
    for decimals in range(1, 5):
        v = _pct(value, decimals)
        if not _is_num(threshold) or value == threshold or v != _pct(threshold, decimals):
            return v, (_pct(threshold, decimals) if _is_num(threshold) else t)
    return _pct(value, 4), t


def _is_num(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool)


def slug(s: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", s.lower()).strip("-") or "x"


def shorten(s: str, limit: int = EVIDENCE_MAX) -> str:
    return s if len(s) <= limit else s[: limit - 1] + "…"


def group_text(group: Any) -> str:
    g = as_map(group)
    if not g:
        return "all"
    return ", ".join(f"{k} = {text(v)}" for k, v in g.items())


def group_values(group: Any) -> str:
    """The group's values only (`2024-11, east`), for a chart label; `all` when none."""
    g = as_map(group)
    return ", ".join(text(v) for v in g.values()) if g else "all"


@attrs.frozen
class Clause:
    file: str
    line: int | None
    id: str | None
    text: str | None
    anchor: str
    # the sections of the standards the clause cites, each with its words when the run had
    # the standards' index (`audit --standards`)
    cites: tuple[tuple[str, str | None], ...] = ()

    @property
    def label(self) -> str:
        return self.file if self.line is None else f"{self.file}:{self.line}"

    @property
    def name(self) -> str:
        """`file:line`, then the clause's id when it has one."""
        return f"{self.label} {self.id}" if self.id else self.label

    @property
    def short(self) -> str:
        """The id and the file's base name and line (`reply · handling.csp:8`), for a label."""
        base = self.file.replace("\\", "/").rsplit("/", 1)[-1]
        where = base if self.line is None else f"{base}:{self.line}"
        return f"{self.id} · {where}" if self.id else where


class ClauseIndex:
    """Every clause cited in the report, once per `file:line`, with a unique anchor.  All the
    citations are `add`ed first, so that `ref` gives a clause with the id and text learnt from
    any of them (a KPI cites its clause by file and line only)."""

    def __init__(self) -> None:
        self._by_key: dict[tuple[str, int | None], Clause] = {}
        self._anchors: set[str] = set()

    @staticmethod
    def _key(c: Mapping[str, Any]) -> tuple[str, int | None]:
        line = c.get("line")
        return text(c.get("file"), "?"), line if _is_num(line) and isinstance(line, int) else None

    def add(self, raw: Any) -> None:
        c = as_map(raw)
        if not c:
            return
        key = self._key(c)
        cid = c.get("id") if isinstance(c.get("id"), str) and c.get("id") else None
        ctext = c.get("text") if isinstance(c.get("text"), str) and c.get("text") else None
        cites = tuple(
            (text(x.get("id")), x.get("quote") if isinstance(x.get("quote"), str) else None)
            for x in (as_map(x) for x in as_list(c.get("cites")))
            if x.get("id")
        )
        old = self._by_key.get(key)
        if old is not None:
            self._by_key[key] = attrs.evolve(
                old, id=old.id or cid, text=old.text or ctext, cites=old.cites or cites
            )
            return
        file, line = key
        base = "clause-" + slug(file if line is None else f"{file}:{line}")
        anchor, n = base, 1
        while anchor in self._anchors:
            n += 1
            anchor = f"{base}-{n}"
        self._anchors.add(anchor)
        self._by_key[key] = Clause(file, line, cid, ctext, anchor, cites)

    def ref(self, raw: Any) -> Clause | None:
        c = as_map(raw)
        if not c:
            return None
        self.add(c)
        return self._by_key[self._key(c)]

    def own(self, raw: Any) -> Clause | None:
        """`ref`, but with the citation's own id: the clocks of one clause line share its
        `file:line` and anchor (`reply`, `reply.warning`, `reply.update`), each its id."""
        clause = self.ref(raw)
        cid = as_map(raw).get("id")
        if clause is None or not isinstance(cid, str) or not cid or cid == clause.id:
            return clause
        return attrs.evolve(clause, id=cid)

    def all(self) -> list[Clause]:
        return sorted(self._by_key.values(), key=lambda c: (c.file, c.line or 0))


def _cited(report: Mapping[str, Any]) -> Iterable[Any]:
    """Every clause object in the report, in the order of the page."""
    for k in as_list(report.get("kpis")):
        c, wording = as_map(as_map(k).get("clause")), as_map(k).get("wording")
        # a KPI cites its clause by file and line: the wording it quotes is the clause's text
        yield {**c, "text": c.get("text") or wording} if c else None
    for section, key in SECTIONS:
        for r in as_list(as_map(report.get(section)).get(key)):
            yield as_map(r).get("clause")
    for rec in as_list(as_map(report.get("rules")).get("records")):
        for r in as_list(as_map(rec).get("by_rule")):
            yield as_map(r).get("clause")
    for f in as_list(as_map(report.get("findings")).get("items")):
        yield as_map(f).get("clause")
    for r in as_list(as_map(report.get("findings")).get("by_clause")):
        yield as_map(r).get("clause")
    for case in as_list(as_map(report.get("cases")).get("items")):
        for f in as_list(as_map(case).get("items")):
            yield as_map(f).get("clause")


@attrs.frozen
class Kpi:
    metric: str
    wording: str
    group: str
    group_values: str
    value: str
    op: str
    threshold: str
    status: str  # pass | fail | not_applicable | other
    status_label: str
    reason: str
    parts: list[str]
    clause: Clause | None
    version: str
    percent: bool
    ratio: float | None  # the value as a number, for percent KPIs
    threshold_ratio: float | None


@attrs.frozen
class Finding:
    anchor: str
    kind: str
    clause: Clause | None
    severity: str
    record: str
    location: str
    message: str
    evidence: list[tuple[str, str]]
    version: str
    when: str = ""  # a clock finding as a sentence (then `evidence` is empty)
    agent: str = DASH
    team: str = DASH

    @property
    def evidence_text(self) -> str:
        return "; ".join(f"{k}: {v}" if k else v for k, v in self.evidence)


@attrs.frozen
class FindingGroup:
    clause: Clause | None
    kinds: str
    rows: list[Finding]


@attrs.frozen
class BadRow:
    location: str
    id: str
    code: str
    message: str
    field: str


@attrs.frozen
class Labelled:
    """One row of a small table: a label, a clause, a kind and a count (charts use them too)."""

    clause: Clause | None
    kind: str
    count: int
    source: str


@attrs.frozen
class View:
    title: str
    verdict: str  # pass | fail | unknown
    meta: list[tuple[str, str]]
    summary: list[tuple[str, str]]
    by_kind: list[tuple[str, str]]
    inputs: list[dict[str, str]]
    warnings: list[str]  # what the run noticed in its inputs (repeated ids, timeline errors)
    versions: list[dict[str, str]]
    kpis: list[Kpi]
    show_kpi_version: bool
    validity: dict[str, Any] | None
    timelines: dict[str, Any] | None
    rules: dict[str, Any] | None  # record-level rules: per record type, per rule its outcomes
    transcripts: dict[str, Any] | None
    findings_total: int
    findings_shown: int
    findings_file: str | None
    finding_groups: list[FindingGroup]
    bad_total: int
    bad_shown: int
    bad_rows: list[BadRow]
    bad_more: int
    clauses: list[Clause]
    by_clause: list[Labelled]  # findings by clause, most first, every clause with a finding
    breaches_by_day: list[tuple[str, int]]
    histogram: list[tuple[str, int]]
    command: str | None
    tool: str
    generated_at: str
    events_input: str | None = None  # the event log's path: a clock's `at line N` is its line
    index: ClauseIndex = attrs.field(factory=lambda: ClauseIndex(), repr=False)


def _when(x: Any) -> str:
    """A time of the run for a person (`2024-12-20 17:20`), as written when it is none."""
    return humanize.moment(x) or text(x)


def as_int(x: Any) -> int:
    """An integer count (a bool or anything else: 0)."""
    return x if isinstance(x, int) and not isinstance(x, bool) else 0


def _kpi(k: Mapping[str, Any], idx: ClauseIndex) -> Kpi:
    percent = bool(k.get("percent"))
    value, threshold = k.get("value"), k.get("threshold")
    if percent:
        v, t = percent_pair(value, threshold)
    else:
        v = "n/a" if value is None else text(value)
        t = text(threshold)
    parts = []
    for p in as_list(k.get("parts")):
        pm = as_map(p)
        parts.append(f"{text(pm.get('expr'), '?')} = {text(pm.get('value'), 'n/a')}")
    status = text(k.get("status"), "unknown")
    return Kpi(
        metric=text(k.get("metric"), "?"),
        wording=text(k.get("wording"), ""),
        group=group_text(k.get("group")),
        group_values=group_values(k.get("group")),
        value=v,
        op=OPS.get(text(k.get("op"), ""), text(k.get("op"), "")),
        threshold=t,
        status=status,
        status_label=STATUS_LABEL.get(status, status),
        reason=text(k.get("reason"), ""),
        parts=parts,
        clause=idx.ref(k.get("clause")),
        version=text(k.get("version"), ""),
        percent=percent,
        ratio=float(value) if percent and isinstance(value, int | float) else None,
        threshold_ratio=float(threshold)
        if percent and isinstance(threshold, int | float)
        else None,
    )


def _evidence(ev: Any) -> list[tuple[str, str]]:
    return [(k, shorten(v)) for k, v in humanize.evidence(ev)]


def _location(path: Any, line: Any) -> str:
    p = text(path, "")
    if isinstance(line, int) and not isinstance(line, bool):
        return f"{p}:{line}" if p else f"line {line}"
    return p or DASH


def _findings(
    items: Iterable[Any], idx: ClauseIndex, events_input: str | None = None
) -> list[FindingGroup]:
    groups: dict[tuple[str, int | None, str | None] | None, list[Finding]] = {}
    for n, raw in enumerate(items, 1):
        f = as_map(raw)
        clause = idx.own(f.get("clause"))
        when, message = humanize.finding_text(f, events_input)
        row = Finding(
            anchor=f"finding-{n}",
            kind=text(f.get("kind"), ""),
            clause=clause,
            severity=text(f.get("severity")),
            record=text(f.get("record")),
            location=_location(f.get("input"), f.get("line")),
            message=message,
            evidence=[] if when else _evidence(f.get("evidence")),
            version=text(f.get("version")),
            when=when,
            agent=text(f.get("agent")),
            team=text(f.get("team")),
        )
        key = None if clause is None else (clause.file, clause.line, clause.id)
        groups.setdefault(key, []).append(row)
    out = []
    for rows in groups.values():
        kinds = ", ".join(dict.fromkeys(r.kind for r in rows if r.kind))
        out.append(FindingGroup(rows[0].clause, kinds, rows))
    return out


def _validity(v: Any, idx: ClauseIndex) -> dict[str, Any] | None:
    if not isinstance(v, Mapping):
        return None
    rows = []
    for raw in as_list(v.get("by_condition")):
        c = as_map(raw)
        rows.append(Labelled(idx.own(c.get("clause")), "valid", as_int(c.get("count")), "validity"))
    return {
        "record": text(v.get("record")),
        "stats": [(k, count(v.get(k))) for k in ("judged", "valid", "invalid", "unknown")],
        "by_condition": rows,
    }


def _timelines(t: Any, idx: ClauseIndex) -> dict[str, Any] | None:
    if not isinstance(t, Mapping):
        return None
    rows = []
    for raw in as_list(t.get("by_clause")):
        c = as_map(raw)
        rows.append(
            {
                "clause": idx.own(c.get("clause")),
                "kind": text(c.get("kind"), ""),
                "met": count(c.get("met", 0)),
                "breached": count(c.get("breached", 0)),
                "breached_n": as_int(c.get("breached")),
                "pending": count(c.get("pending", 0)),
                "not_applicable": count(c.get("not_applicable", 0)),
            }
        )
    notices = _notices(t.get("notices"))
    return {
        "record": text(t.get("record")),
        "stats": [
            ("cases", count(t.get("cases"))),
            ("events", count(t.get("events"))),
            ("event problems", count(t.get("event_problems"))),
            *_computed_by(t.get("computed_by")),
        ],
        "by_clause": rows,
        "notices": notices,
    }


def _computed_by(raw: Any) -> list[tuple[str, str]]:
    """Where the clocks ran (the duckdb engine judges them in SQL, clause by clause)."""
    c = as_map(raw)
    if c.get("engine") != "duckdb":
        return []
    sql = [text(x) for x in as_list(c.get("sql"))]
    python = as_map(c.get("python"))
    out = [("clocks in SQL", ", ".join(sql) or "none")]
    if python:
        out.append(
            ("clocks in Python", "; ".join(f"{text(k)} ({text(v)})" for k, v in python.items()))
        )
    out.append(("cases handed to Python", count(c.get("cases_handed_to_python"))))
    return out


def _notices(raw: Any) -> list[dict[str, str]]:
    return [
        {
            "line": text(as_map(n).get("line")),
            "case": text(as_map(n).get("case")),
            "code": text(as_map(n).get("code")),
            "message": text(as_map(n).get("message"), ""),
        }
        for n in as_list(raw)
    ]


def _points(x: Any) -> str:
    return text(x) if _is_num(x) else "0"


def _rules(r: Any, idx: ClauseIndex) -> dict[str, Any] | None:
    """Per record type, per rule: its words, severity, how many records kept, broke, could not
    be judged on (unknown) or were outside (not applicable) it, and the points they lost."""
    if not isinstance(r, Mapping):
        return None
    records = []
    for raw in as_list(r.get("records")):
        rec = as_map(raw)
        rows = []
        for x in (as_map(x) for x in as_list(rec.get("by_rule"))):
            rows.append(
                {
                    "clause": idx.own(x.get("clause")),
                    "severity": text(x.get("severity")),
                    **{s: count(x.get(s, 0)) for s in RULE_STATUSES},
                    "broken_n": as_int(x.get("broken")),
                    "points": _points(x.get("points")),
                }
            )
        records.append({"record": text(rec.get("record")), "by_rule": rows})
    stats = []
    if "events" in r:
        stats = [
            ("events", count(r.get("events"))),
            ("event problems", count(r.get("event_problems"))),
        ]
    return {
        "records": records,
        "stats": stats,
        "notices": _notices(r.get("notices")),
        "notices_shown_in": None,
    }


def _score(x: Any) -> str:
    return f"{x:.1f}" if _is_num(x) else DASH


def _transcripts(t: Any, idx: ClauseIndex) -> dict[str, Any] | None:
    if not isinstance(t, Mapping):
        return None
    rows = []
    for raw in as_list(t.get("by_rule")):
        r = as_map(raw)
        rows.append(
            {
                "clause": idx.own(r.get("clause")),
                "kind": text(r.get("kind"), ""),
                "severity": text(r.get("severity")),
                "count": count(r.get("count", 0)),
                "count_n": as_int(r.get("count")),
            }
        )
    return {
        "stats": [
            ("checked", count(t.get("checked"))),
            ("mean score", _score(t.get("mean_score"))),
            ("min score", _score(t.get("min_score"))),
        ],
        "by_rule": rows,
    }


def _histogram(t: Any) -> list[tuple[str, int]]:
    out = []
    for raw in as_list(as_map(t).get("score_histogram")):
        b = as_map(raw)
        out.append((f"{text(b.get('from'), '?')}–{text(b.get('to'), '?')}", as_int(b.get("count"))))
    return out


def _by_day(t: Any) -> list[tuple[str, int]]:
    return [
        (text(as_map(d).get("day"), "?"), as_int(as_map(d).get("count")))
        for d in as_list(as_map(t).get("breaches_by_day"))
    ]


def fill_days(days: list[tuple[str, int]], limit: int = 400) -> list[tuple[str, int]]:
    """The days between the first and the last, those without breaches at 0 (a time axis); as
    given when a day is not a date or the span is longer than `limit` days."""
    try:
        counts: dict[dt.date, int] = {}
        for d, n in days:
            day = dt.date.fromisoformat(d)
            counts[day] = counts.get(day, 0) + n
    except ValueError:
        return days
    if not counts:
        return []
    first, last = min(counts), max(counts)
    if (last - first).days > limit:
        return [(d.isoformat(), counts[d]) for d in sorted(counts)]
    span = ((first + dt.timedelta(days=i)) for i in range((last - first).days + 1))
    return [(d.isoformat(), counts.get(d, 0)) for d in span]


def _by_clause(
    validity: dict[str, Any] | None,
    timelines: dict[str, Any] | None,
    transcripts: dict[str, Any] | None,
    rules: dict[str, Any] | None = None,
) -> list[Labelled]:
    """Findings per clause from the four sections, one row per `file:line`, most first."""
    totals: dict[Any, Labelled] = {}

    def add(c: Clause | None, kind: str, n: int, source: str) -> None:
        if n <= 0:
            return
        key = None if c is None else (c.file, c.line)
        old = totals.get(key)
        if old is None:
            totals[key] = Labelled(c, kind, n, source)
        else:
            kinds = old.kind if kind in old.kind.split(", ") else f"{old.kind}, {kind}"
            sources = old.source if source in old.source.split(", ") else f"{old.source}, {source}"
            totals[key] = Labelled(c, kinds, old.count + n, sources)

    for r in (validity or {}).get("by_condition", []):
        add(r.clause, "valid complaint", r.count, "validity")
    for r in (timelines or {}).get("by_clause", []):
        if r["kind"] == "warning":  # a warning that went off is counted, not a finding
            continue
        add(r["clause"], f"{r['kind']} breached".strip(), r["breached_n"], "timelines")
    for r in (transcripts or {}).get("by_rule", []):
        add(r["clause"], r["kind"], r["count_n"], "transcripts")
    for rec in (rules or {}).get("records", []):
        for r in rec["by_rule"]:
            add(r["clause"], "rule broken", r["broken_n"], "rules")
    return sorted(totals.values(), key=lambda r: -r.count)


def build(report: Mapping[str, Any]) -> View:
    idx = ClauseIndex()
    for c in _cited(report):
        idx.add(c)
    policy = as_map(report.get("policy"))
    summary = as_map(report.get("summary"))
    tool = as_map(report.get("tool"))
    verdict = text(summary.get("verdict"), "unknown")
    verdict = verdict if verdict in ("pass", "fail") else "unknown"

    meta = [
        ("policy", text(policy.get("name"))),
        ("version", text(policy.get("version"))),
        ("effective", text(policy.get("effective"))),
        ("file", text(policy.get("file"))),
        ("time zone", text(policy.get("timezone"))),
        ("engine", text(report.get("engine"))),
    ]
    if report.get("as_of"):
        meta.append(("clocks judged at", _when(report.get("as_of"))))
    meta.append(("generated at", _when(report.get("generated_at"))))

    kpi_counts = as_map(summary.get("kpis"))
    summ = [
        ("records", count(summary.get("records"))),
        ("bad rows", count(summary.get("bad_rows"))),
        ("findings", count(summary.get("findings"))),
        ("KPIs passed", count(kpi_counts.get("pass", 0))),
        ("KPIs failed", count(kpi_counts.get("fail", 0))),
        ("KPIs n/a", count(kpi_counts.get("not_applicable", 0))),
    ]
    kinds = as_map(summary.get("by_kind"))
    by_kind = [(str(k).replace("_", " "), count(n)) for k, n in kinds.items()]

    inputs = []
    for raw in as_list(report.get("inputs")):
        i = as_map(raw)
        inputs.append(
            {
                "path": text(i.get("path")),
                "kind": text(i.get("kind")),
                "type": text(i.get("type")),
                "rows": count(i.get("rows")),
                "read": count(i.get("read")),
                "bad": count(i.get("bad")),
                "has_bad": "yes" if as_int(i.get("bad")) else "",
            }
        )

    versions = []
    for raw in as_list(report.get("versions")):
        v = as_map(raw)
        judged = ", ".join(f"{k}: {count(n)}" for k, n in as_map(v.get("judged")).items())
        versions.append(
            {
                "file": text(v.get("file")),
                "name": text(v.get("name")),
                "version": text(v.get("version")),
                "effective": text(v.get("effective")),
                "from": text(v.get("from"), "start"),
                "until": text(v.get("until"), "open"),
                "judged": judged or DASH,
            }
        )

    kpis = [_kpi(as_map(k), idx) for k in as_list(report.get("kpis"))]
    validity = _validity(report.get("validity"), idx)
    timelines = _timelines(report.get("timelines"), idx)
    rules = _rules(report.get("rules"), idx)
    if rules and rules["notices"] and timelines and timelines["notices"] == rules["notices"]:
        rules["notices"], rules["notices_shown_in"] = [], "timelines"  # one event log, shown once
    transcripts = _transcripts(report.get("transcripts"), idx)

    findings = as_map(report.get("findings"))
    items = as_list(findings.get("items"))
    events_input = next((i["path"] for i in inputs if i["kind"] == "events"), None)
    groups = _findings(items, idx, events_input)
    shown = findings.get("shown")
    bad = as_map(report.get("bad_rows"))
    bad_items = as_list(bad.get("items"))
    bad_rows = [
        BadRow(
            location=_location(as_map(b).get("input"), as_map(b).get("line")),
            id=text(as_map(b).get("id")),
            code=text(as_map(b).get("code")),
            message=text(as_map(b).get("message"), ""),
            field=text(as_map(b).get("field"), ""),
        )
        for b in bad_items
    ]
    bad_total = as_int(bad.get("total")) if "total" in bad else len(bad_rows)
    bad_shown = as_int(bad.get("shown")) if "shown" in bad else len(bad_rows)

    by_clause = _by_clause(validity, timelines, transcripts, rules)

    command = report.get("command")
    name = text(policy.get("name"), "policy")
    return View(
        title=f"Audit report: {name}",
        verdict=verdict,
        meta=meta,
        summary=summ,
        by_kind=by_kind,
        inputs=inputs,
        warnings=[text(w) for w in as_list(report.get("warnings"))],
        versions=versions if len(versions) > 1 else [],
        kpis=kpis,
        show_kpi_version=len(versions) > 1,
        validity=validity,
        timelines=timelines,
        rules=rules,
        transcripts=transcripts,
        findings_total=as_int(findings.get("total")) if "total" in findings else len(items),
        findings_shown=as_int(shown) if isinstance(shown, int) else len(items),
        findings_file=text(findings.get("file"), "") or None,
        finding_groups=groups,
        bad_total=bad_total,
        bad_shown=bad_shown,
        bad_rows=bad_rows,
        bad_more=max(bad_total - bad_shown, 0),
        clauses=idx.all(),
        by_clause=by_clause,
        breaches_by_day=_by_day(report.get("timelines")),
        histogram=_histogram(report.get("transcripts")),
        command=command if isinstance(command, str) and command.strip() else None,
        tool=" ".join(x for x in (text(tool.get("name"), ""), text(tool.get("version"), "")) if x)
        or "csdsl",
        generated_at=text(report.get("generated_at")),
        events_input=events_input,
        index=idx,
    )

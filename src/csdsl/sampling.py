"""A reproducible random sample of an audit's cases, for people to review.

In: a way to read the run's findings (twice: `findings.jsonl`, streamed), N, a seed and an
optional stratification (`agent`, `team` or `clause`).  Out: a `Sample`: the cases drawn, each
with all its findings grouped by clause, and what the draw was made from.

Meaning:
- A **case** is what a finding is about: its input file and record (or transcript) id; a
  finding without an id is its own case, `line N` of its input.  All of a case's findings go
  into the sample together.
- Without a stratification, N cases are drawn from every case with a finding.  With one, N are
  drawn from each stratum (all of them where it has fewer): per agent, per team (a finding's
  `agent` / `team`; missing or null is the stratum `(none)`), or per clause.  A case with
  findings of several clauses (or agents) is in each of their strata and is listed once, with
  every stratum it was drawn for.
- **Reproducible**: the population is sorted (strata by name, cases by input and id); a
  `random.Random(seed)` gives each case of each stratum in that order one `random()` number,
  and the N cases with the lowest numbers are drawn.  Only `random()`, whose sequence Python
  guarantees for a seed across versions, is used, so the same findings and seed give the same
  sample on any machine.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

import attrs

SAMPLE_BY = ("agent", "team", "clause")
NONE = "(none)"
MESSAGES_SHOWN = 3

Findings = Callable[[], Iterable[Mapping[str, Any]]]  # a fresh pass over the findings


def clause_label(finding: Mapping[str, Any]) -> str:
    """A finding's clause as people name it: its id, else `file:line`."""
    clause = finding.get("clause")
    if not isinstance(clause, Mapping):
        return NONE
    cid = clause.get("id")
    if isinstance(cid, str) and cid:
        return cid
    return f"{clause.get('file')}:{clause.get('line')}"


def case_of(finding: Mapping[str, Any]) -> tuple[str, str]:
    """The case a finding is about: (input, record id), or (input, `line N`) without an id."""
    record = finding.get("record")
    where = str(finding.get("input"))
    if record is None or record == "":
        return where, f"line {finding.get('line')}"
    return where, str(record)


def person(finding: Mapping[str, Any], key: str) -> str:
    """A finding's agent or team; missing or null is `(none)`."""
    value = finding.get(key)
    return NONE if value is None or value == "" else str(value)


def stratum(finding: Mapping[str, Any], by: str) -> str:
    return clause_label(finding) if by == "clause" else person(finding, by)


@attrs.define
class ClauseFindings:
    """One clause's findings on a sampled case."""

    clause: str
    text: str | None
    file: str | None
    line: int | None
    messages: list[str] = attrs.Factory(list)

    def summary(self) -> str:
        """The findings in a line: how many, and the distinct messages (the first few)."""
        distinct = list(dict.fromkeys(self.messages))
        shown = "; ".join(distinct[:MESSAGES_SHOWN])
        more = len(distinct) - MESSAGES_SHOWN
        count = len(self.messages)
        head = f"{count} finding{'' if count == 1 else 's'}: "
        return head + shown + (f"; and {more} other message(s)" if more > 0 else "")


@attrs.define
class Case:
    input: str
    record: str
    line: int | None  # the first line of the input a finding of the case is about
    drawn_for: list[str]
    agents: list[str] = attrs.Factory(list)
    teams: list[str] = attrs.Factory(list)
    clauses: dict[str, ClauseFindings] = attrs.Factory(dict)


@attrs.frozen
class Sample:
    n: int
    seed: int
    by: str | None
    population: int  # cases with at least one finding
    findings: int  # findings read
    strata: dict[str, int]  # cases per stratum ({} without a stratification)
    cases: list[Case]

    @property
    def drawn(self) -> int:
        return len(self.cases)

    def describe(self) -> str:
        """How the sample was drawn, in one line."""
        if self.by is None:
            return f"{self.drawn} of {self.population} cases, simple random sample"
        strata = len(self.strata)
        return (
            f"{self.drawn} of {self.population} cases: up to {self.n} per {self.by} "
            f"({strata} {'stratum' if strata == 1 else 'strata'})"
        )


def draw(findings: Findings, n: int, seed: int, by: str | None = None) -> Sample:
    """Draw the sample (see the module's docstring).  Reads the findings twice: once for the
    population, once for the drawn cases' findings."""
    if n < 1:
        raise ValueError("--sample: give a number of cases of at least 1")
    if by is not None and by not in SAMPLE_BY:
        raise ValueError(f"--sample-by: one of {', '.join(SAMPLE_BY)}")
    strata: dict[str, set[tuple[str, str]]] = {}
    cases: set[tuple[str, str]] = set()
    total = 0
    for f in findings():
        total += 1
        key = case_of(f)
        cases.add(key)
        strata.setdefault(stratum(f, by) if by else "", set()).add(key)
    rng = random.Random(seed)
    drawn_for: dict[tuple[str, str], list[str]] = {}
    for name in sorted(strata):
        members = sorted(strata[name])
        ranked = sorted((rng.random(), key) for key in members)
        for _, key in ranked[:n]:
            drawn_for.setdefault(key, []).append(name)
    chosen = _collect(findings, drawn_for)
    chosen.sort(key=lambda c: (c.drawn_for[0], c.input, c.record))
    sizes = {name: len(members) for name, members in sorted(strata.items())} if by else {}
    return Sample(n, seed, by, len(cases), total, sizes, chosen)


def _collect(findings: Findings, drawn_for: Mapping[tuple[str, str], list[str]]) -> list[Case]:
    """The drawn cases with their findings, grouped by clause."""
    out: dict[tuple[str, str], Case] = {}
    for f in findings():
        key = case_of(f)
        if key not in drawn_for:
            continue
        case = out.get(key)
        if case is None:
            case = out[key] = Case(key[0], key[1], None, list(drawn_for[key]))
        line = f.get("line")
        if isinstance(line, int) and (case.line is None or line < case.line):
            case.line = line
        for who, seen in (("agent", case.agents), ("team", case.teams)):
            value = person(f, who)
            if value not in seen:
                seen.append(value)
        label = clause_label(f)
        clause = f.get("clause") if isinstance(f.get("clause"), Mapping) else {}
        assert isinstance(clause, Mapping)
        group = case.clauses.get(label)
        if group is None:
            text = clause.get("text")
            line_no = clause.get("line")
            group = case.clauses[label] = ClauseFindings(
                label,
                text if isinstance(text, str) else None,
                str(clause.get("file")) if clause.get("file") is not None else None,
                line_no if isinstance(line_no, int) else None,
            )
        group.messages.append(str(f.get("message")))
    return list(out.values())


def rows(sample: Sample) -> Iterator[tuple[int, Case, ClauseFindings]]:
    """One row per clause of each drawn case, numbered by case (1, 2, ...), in sample order."""
    for number, case in enumerate(sample.cases, start=1):
        for group in case.clauses.values():
            yield number, case, group

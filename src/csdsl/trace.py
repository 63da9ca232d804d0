"""The traceability matrix: where each sentence of the standards went.

In: an index of the standards' normative sentences (JSON lines: `id`, `seed`, `section`,
`quote`, `kind`, `checkable`, `scope`, and optionally `blocked` or `partly`; this repository's is
`policies/standards/index.jsonl`, described in its README) and compiled policies, whose `cites`
blocks name the index ids each clause encodes.  Out: a `Matrix`, one `Row` per index entry with
its status and the clauses that cite it, rendered as Markdown (`docs/standards.md`) or JSON, and
the problems that make it untrue: a citation of an id the index does not have, and a checkable
sentence that no clause cites and whose entry does not say what blocks it.

Statuses: `encoded` (cited, and the entry says nothing is missing), `partly` (cited; the entry's
`partly` says what the clauses do not check), `blocked` (checkable, not cited; the entry's
`blocked` says why), `out of scope` (not checkable from any export; the entry's `scope` says
why), `missing` (checkable, neither cited nor blocked: a problem).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import attrs

from csdsl.api import Policy
from csdsl.records import InputError
from csdsl.report import md_escape

STATUSES = ("encoded", "partly", "blocked", "out of scope", "missing")
_FIELDS = ("id", "seed", "section", "quote", "kind", "checkable", "scope")


@attrs.frozen
class Entry:
    id: str
    seed: str
    section: str
    quote: str
    kind: str
    checkable: bool
    scope: str
    blocked: str | None = None
    partly: str | None = None


@attrs.frozen
class Cite:
    """One clause citing an entry: where the clause is defined, and what it is."""

    clause: str
    kind: str
    file: str
    line: int


@attrs.frozen
class Row:
    entry: Entry
    status: str
    cited_by: tuple[Cite, ...]

    @property
    def note(self) -> str:
        if self.status == "out of scope":
            return self.entry.scope
        if self.status == "blocked":
            return self.entry.blocked or ""
        if self.status == "partly":
            return self.entry.partly or ""
        return ""


@attrs.frozen
class Matrix:
    rows: tuple[Row, ...]
    unknown: tuple[tuple[str, Cite], ...]  # (a cited id the index does not have, who cites it)

    @property
    def problems(self) -> list[str]:
        out = [
            f"{c.file}:{c.line}: `{c.clause}` cites `{ref}`, which the index does not have"
            for ref, c in self.unknown
        ]
        out += [
            f"`{r.entry.id}` is checkable, but no clause cites it and its entry says nothing "
            "of what blocks it (`blocked`)"
            for r in self.rows
            if r.status == "missing"
        ]
        return out

    def summary(self) -> list[dict[str, Any]]:
        """Per seed and in all: entries, checkable, and each status's count."""
        seeds = sorted({r.entry.seed for r in self.rows})
        out = []
        for seed in [*seeds, None]:
            rows = [r for r in self.rows if seed is None or r.entry.seed == seed]
            # the statuses of the checkable entries; every other entry is out of scope (even
            # one a clause cites because it checks part of a principle)
            counts = Counter(r.status for r in rows if r.entry.checkable)
            counts["out of scope"] = sum(not r.entry.checkable for r in rows)
            checkable = sum(r.entry.checkable for r in rows)
            cited = counts["encoded"] + counts["partly"]
            out.append(
                {
                    "seed": seed or "all",
                    "entries": len(rows),
                    "checkable": checkable,
                    **{s: counts[s] for s in STATUSES},
                    "cited_share": round(cited / checkable, 4) if checkable else None,
                    "full_share": round(counts["encoded"] / checkable, 4) if checkable else None,
                }
            )
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "summary": self.summary(),
            "rows": [
                {
                    **attrs.asdict(r.entry),
                    "status": r.status,
                    "cited_by": [attrs.asdict(c) for c in r.cited_by],
                }
                for r in self.rows
            ],
            "problems": self.problems,
        }


def read_index(path: str | Path) -> list[Entry]:
    """The entries of an index file; `InputError` naming the line of the first bad one."""
    entries: list[Entry] = []
    try:
        lines = Path(path).read_text(encoding="utf-8-sig").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read the standards index: {exc}") from None
    seen: set[str] = set()
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except ValueError as exc:
            raise InputError(f"{path}:{n}: not valid JSON: {exc}") from None
        if not isinstance(obj, dict) or any(k not in obj for k in _FIELDS):
            raise InputError(f"{path}:{n}: an entry needs the fields {', '.join(_FIELDS)}")
        if obj["id"] in seen:
            raise InputError(f"{path}:{n}: the id `{obj['id']}` is given twice")
        seen.add(obj["id"])
        entries.append(
            Entry(
                **{k: obj[k] for k in _FIELDS},
                blocked=obj.get("blocked"),
                partly=obj.get("partly"),
            )
        )
    return entries


def build(entries: Sequence[Entry], policies: Iterable[Policy]) -> Matrix:
    by_id: dict[str, list[Cite]] = {}
    unknown: list[tuple[str, Cite]] = []
    known = {e.id for e in entries}
    seen: set[tuple[str, str, int, str]] = set()  # an included file's clause, cited once
    for policy in policies:
        spans = {name: span for name, _, span in policy.ir.citable()}
        for citation in policy.ir.citations:
            at = spans.get(citation.clause, citation.span)
            cite = Cite(citation.clause, citation.kind, at.file, at.line)
            for ref in citation.refs:
                key = (ref, cite.file, cite.line, cite.clause)
                if key in seen:
                    continue
                seen.add(key)
                if ref in known:
                    by_id.setdefault(ref, []).append(cite)
                else:
                    unknown.append((ref, cite))
    rows = []
    for e in entries:
        cites = tuple(by_id.get(e.id, ()))
        if cites:
            status = "partly" if e.partly else "encoded"
        elif not e.checkable:
            status = "out of scope"
        else:
            status = "blocked" if e.blocked else "missing"
        rows.append(Row(e, status, cites))
    return Matrix(tuple(rows), tuple(unknown))


def render_markdown(matrix: Matrix, index: str, policies: Sequence[str]) -> str:
    """`docs/standards.md`: the summary, then every entry of every seed, in seed order."""
    out = [
        "# Traceability matrix: the five standards, sentence by sentence",
        "",
        "Generated; do not edit. Regenerate with",
        "",
        "```sh",
        f"csdsl trace --standards {index} {' '.join(policies)} -o docs/standards.md",
        "```",
        "",
        f"Every normative sentence of the standards is an entry of `{index}` (its README says "
        "how they were cut from the seeds, and why any text was skipped). An entry is "
        "*encoded* when a clause cites it (`cites { ... }` in the policies), *partly* when "
        "the clauses that cite it leave part of it unchecked, *blocked* when it could be "
        "checked from the exports but is not encoded yet (the note says what it waits for), "
        "and *out of scope* when no export can show it (the note says why).",
        "",
        "## Summary",
        "",
        "| seed | entries | checkable | encoded | partly | blocked | out of scope | missing "
        "| checkable cited | checkable encoded in full |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for s in matrix.summary():
        cited, full = (
            "-" if s[k] is None else f"{100 * s[k]:.0f}%" for k in ("cited_share", "full_share")
        )
        out.append(
            f"| {s['seed']} | {s['entries']} | {s['checkable']} | {s['encoded']} | "
            f"{s['partly']} | {s['blocked']} | {s['out of scope']} | {s['missing']} | {cited} "
            f"| {full} |"
        )
    if matrix.problems:
        out += ["", "## Problems", ""] + [f"- {md_escape(p)}" for p in matrix.problems]
    seed = None
    for r in matrix.rows:
        if r.entry.seed != seed:
            seed = r.entry.seed
            out += [
                "",
                f"## Seed {seed}",
                "",
                "| id | the standard's words | kind | status | where | note |",
                "| --- | --- | --- | --- | --- | --- |",
            ]
        where = "<br>".join(
            f"`{c.clause}` ({c.kind}), {md_escape(c.file)}:{c.line}" for c in r.cited_by
        )
        out.append(
            f"| {md_escape(r.entry.id)} | {md_escape(r.entry.quote)} | {r.entry.kind} | "
            f"{r.status} | {where or '-'} | {md_escape(r.note) or '-'} |"
        )
    return "\n".join(out) + "\n"

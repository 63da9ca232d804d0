"""Hover: what a name in the policy stands for, in the words `csdsl doc` uses.

In: a build and the symbol under the cursor.  Out: Markdown.  A condition, rule, deadline,
escalation, situation, metric or invariant shows its wording (the standard's words), the
sections it cites, and its plain-words rendering, taken from the `csdsl doc` view of the policy
(`csdsl.doc.model`), so the editor and the sign-off document never disagree; a field shows its
type, a phrase set its phrases, a calendar its opening hours and holiday source, an import the
file it names.  A policy with errors has no view: the hover then shows what the source says
(kind, name, wording).
"""

from __future__ import annotations

from collections.abc import Iterable

import attrs

from csdsl.doc.model import Block, Row, View
from csdsl.lsp.index import Occurrence, Symbol
from csdsl.lsp.session import Build

# the `csdsl doc` block kinds a symbol's kind is shown by
_BLOCKS = {
    "record": ("record",),
    "calendar": ("calendar",),
    "deadline": ("deadline",),
    "escalation": ("escalation",),
    "rule": ("rule",),
    "situation": ("situation",),
    "example": ("example", "transcript example"),
}


def _row_lines(row: Row) -> list[str]:
    out = [f"- `{row.what}`: {row.words}"]
    if row.wording:
        out.append(f"  “{row.wording}”")
    out += [f"  {label}: {value}" for label, value in row.extra]
    out += [f"  {c}" for c in row.cites]
    return out


def _block_text(block: Block) -> str:
    """A block as Markdown: its title, wording and summary as paragraphs, then one list."""
    head = [f"**{block.title}**"]
    if block.wording:
        head.append(f"> “{block.wording}”")
    if block.summary:
        head.append(block.summary)
    items = [f"- {c}" for c in block.cites]
    items += [f"- {label}: {value}" for label, value in block.facts]
    items += [
        f"- `{f.name}`: {f.type}{'?' if f.optional else ''}"
        + (f" ({', '.join(f.values)})" if f.values else "")
        for f in block.fields
    ]
    if block.table and block.kind == "calendar":
        items += [f"- {day}: {hours}" for day, hours in block.table[1:]]
    for row in (*block.rows, *block.rows2):
        items += _row_lines(row)
    items += [f"- expect {e}" for e in block.expect]
    return "\n\n".join([*head, "\n".join(items)] if items else head)


def _blocks(view: View) -> Iterable[Block]:
    for section in view.sections:
        yield from section.blocks


def from_view(view: View, sym: Symbol) -> str | None:
    """The `csdsl doc` rendering of a declared symbol, or None when the view has none."""
    kinds = _BLOCKS.get(sym.kind, ())
    wording = getattr(sym.node, "wording", None)
    for block in _blocks(view):
        if block.kind in kinds and block.name == sym.name:
            if block.wording is None and isinstance(wording, str):
                block = attrs.evolve(block, wording=wording)  # a deadline's: `csdsl doc` has it
            return _block_text(block)
    what = f"{sym.container}.{sym.name}" if sym.kind == "rule" and sym.container else sym.name
    for block in _blocks(view):
        for row in (*block.rows, *block.rows2):
            if row.what == what:
                head = f"**{sym.kind} {what}**" + (
                    f" ({block.title})" if block.title not in (sym.kind, "phrase sets") else ""
                )
                return "\n".join([head, *_row_lines(row)])
    return None


def _field(build: Build, sym: Symbol) -> str:
    policy = build.compiled.policy
    record = policy.record(sym.container) if policy is not None and sym.container else None
    for f in record.fields if record is not None else ():
        if f.name == sym.name:
            return f"**field {sym.container}.{f.name}**: `{f.type}{'?' if f.optional else ''}`"
    return f"**field {sym.container}.{sym.name}**"


def _role(build: Build, sym: Symbol) -> str:
    policy = build.compiled.policy
    ladders = [
        f"- escalation `{e.name}`: " + " → ".join(e.roles)
        for e in (policy.escalations if policy is not None else ())
        if sym.name in e.roles
    ]
    return "\n".join([f"**role {sym.name}**", *ladders])


def _source_only(sym: Symbol) -> str:
    wording = getattr(sym.node, "wording", None)
    text = f"**{sym.kind} {sym.name}**"
    if isinstance(wording, str):
        text += f"\n\n> “{wording}”"
    return text + "\n\n(the policy has errors: fix them to see this in plain words)"


def hover_text(build: Build, occ: Occurrence, sym: Symbol | None) -> str | None:
    if occ.kind == "import":
        return f"**{occ.name}**\n\n`{occ.target}`"
    if sym is None:
        return None
    if sym.kind == "field":
        return _field(build, sym)
    if sym.kind == "enum_value":
        return f"**enum value `{sym.name}`** of a field of {sym.container}"
    if sym.kind == "role":
        return _role(build, sym)
    view = build.view
    if view is None:
        return _source_only(sym)
    return from_view(view, sym) or _source_only(sym)

"""Citations: which sections of the standards each clause encodes.  AST -> IR.

In: the root module's `cites { CLAUSE: "SEED SECTION", ... }` blocks, with every clause already
lowered.  Out: `ir.Citation`s (one per clause, the refs of every block that names it, in order)
and diagnostics: a name that is no clause of the policy (E280, with "did you mean"), a ref that is
not `SEED SECTION` (E281: three digits, a space, the section as the standard numbers it).

A ref is not checked against the standards themselves here: the project that holds them does
that (this repository: `policies/standards/index.jsonl` and `csdsl.trace`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from csdsl import ir
from csdsl.diagnostics import did_you_mean, rename
from csdsl.syntax import ast

if TYPE_CHECKING:
    from csdsl.check.lower import Lowering

REF = re.compile(r"\d{3} \S.*")  # `002 八 投诉答复时间`, `004 篇5 15 不可以`, `000 二(1)`


def clause_kinds(
    validities: Sequence[ir.Validity],
    deadlines: Sequence[ir.Deadline],
    escalations: Sequence[ir.Escalation],
    metrics: Sequence[ir.Metric],
    invariants: Sequence[ir.Invariant],
    rules: ir.TranscriptRules | None,
    record_rules: Sequence[ir.Rule] = (),
) -> dict[str, ir.CitedKind]:
    """Every clause a citation can name, by its name, with its kind."""
    return {
        name: kind
        for name, kind, _ in ir.citable(
            validities, deadlines, escalations, metrics, invariants, rules, record_rules
        )
    }


def lower_citations(
    o: Lowering, decls: Sequence[ast.CitesDecl], kinds: dict[str, ir.CitedKind]
) -> tuple[ir.Citation, ...]:
    refs: dict[str, list[str]] = {}
    spans: dict[str, ast.CiteItem] = {}
    for decl in decls:
        for item in decl.items:
            name = item.clause.name.name + (
                f".{item.clause.member.name}" if item.clause.member else ""
            )
            if name not in kinds:
                hint = did_you_mean(name, kinds)
                o.err(
                    "E280",
                    f"`{name}` is no clause of this policy",
                    item.clause.span,
                    hint
                    or "cite a condition, a deadline, an escalation, a metric, a named invariant, "
                    "a transcript rule or situation, or a situation's rule as `s16.reply`",
                    fixes=rename(item.clause.span, name, kinds),
                )
                continue
            for ref in item.refs:
                if REF.fullmatch(ref.value) is None:
                    o.err(
                        "E281",
                        f'"{ref.value}" is not a citation of the form "SEED SECTION"',
                        ref.span,
                        "write the seed's three digits, a space and the section as the standard "
                        'numbers it, e.g. "002 八 投诉答复时间" or "000 二(1)"',
                    )
                    continue
                refs.setdefault(name, [])
                if ref.value not in refs[name]:
                    refs[name].append(ref.value)
            spans.setdefault(name, item)
    return tuple(
        ir.Citation(name, kinds[name], tuple(cited), spans[name].span)
        for name, cited in refs.items()
    )

"""Code actions and code lenses.

In: a build, a file and a range (actions) or a file (lenses).  Out:

- quick fixes: each structured fix a diagnostic in the range carries (`Diagnostic.fixes`: a
  title and edits, spans in code points) as a workspace edit in UTF-16 ranges.  A diagnostic
  without fixes offers none: a hint that is only words is not applied by guessing;
- "add an example for this condition" on a condition's name: an `example` block whose record
  sits on the condition's boundary values, found as `csdsl explain` finds the values that flip
  a verdict (`explain.candidates`), expecting the verdict the policy gives it today; inserted
  after the validity block;
- a lens above each `example` and `invariant`: a command that runs it (the examples through
  `Policy.run_examples`, an invariant through `csdsl verify`'s search) and, once run, its
  result in the lens's title.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from typing import Any

from lsprotocol import types

from csdsl import ir
from csdsl.lsp.index import Symbol
from csdsl.lsp.positions import position, span_range
from csdsl.lsp.session import Build, uri_of
from csdsl.source import Span
from csdsl.syntax import ast

RUN = "csdsl.run"  # the command a lens runs: arguments [uri, line]
MAX_COMBINATIONS = 512  # boundary values tried together for the fields a condition reads
VERIFY_EXAMPLES = 200  # an invariant's search from a lens: quick, `csdsl verify` goes further


def _overlaps(span: Span, first: int, last: int) -> bool:
    return span.line <= last + 1 and span.end_line >= first + 1


def quick_fixes(build: Build, path: str, first: int, last: int) -> list[types.CodeAction]:
    """The structured fixes of the diagnostics on lines `first`..`last` (0-based) of `path`."""
    out = []
    for d in build.compiled.diagnostics:
        if build.path_of(d.span.file) != path or not _overlaps(d.span, first, last):
            continue
        for fix in d.fixes:
            changes: dict[str, list[types.TextEdit]] = {}
            for edit in fix.edits:
                target = build.path_of(edit.span.file)
                changes.setdefault(uri_of(target), []).append(
                    types.TextEdit(span_range(edit.span, build.source(target)), edit.replacement)
                )
            out.append(
                types.CodeAction(
                    title=fix.title,
                    kind=types.CodeActionKind.QuickFix,
                    edit=types.WorkspaceEdit(changes=changes),
                    is_preferred=True,
                )
            )
    return out


# ---- an example at a condition's boundary ----------------------------------------------------


def _base(field: ir.Field, policy: Any) -> Any:
    from csdsl.explain import default_values

    if field.optional:
        return None
    if field.type.kind is ir.Kind.BOOL:
        return False
    if field.type.kind is ir.Kind.ENUM:
        return field.type.values[0] if field.type.values else None
    values = default_values(field, {}, policy)
    return values[0] if values else None


def boundary_record(build: Build, validity: ir.Validity, cond: ir.Condition) -> dict[str, Any]:
    """Values of the record where `cond` holds (if any value tried makes it hold), with the
    fields it reads at the values where its comparisons change outcome, and each other field
    at the value (of those `explain` would try) that leaves the fewest other conditions true,
    so the example is about this condition."""
    from csdsl.explain import candidates
    from csdsl.interpreter import compile_expr

    policy = build.policy
    record = build.compiled.policy.record(validity.record) if build.compiled.policy else None
    assert policy is not None and record is not None
    values = {f.name: _base(f, policy) for f in record.fields}
    read = [f for f in record.fields if f.name in ir.fields_used(cond.expr)]
    others = [c.expr for c in (*validity.conditions, *validity.exceptions) if c.id != cond.id]
    checks = [compile_expr(e) for e in others]

    def noise(trial: Mapping[str, Any]) -> int:
        return sum(check(trial) is True for check in checks)

    for f in record.fields:
        if f in read:
            continue
        tries = [values[f.name], *candidates(f, others, values, policy)]
        values[f.name] = min(tries, key=lambda v: noise({**values, f.name: v}))
    options = [[*candidates(f, [cond.expr], values, policy), values[f.name]] for f in read]
    holds = compile_expr(cond.expr)
    first: dict[str, Any] | None = None
    for combo in itertools.islice(itertools.product(*options), MAX_COMBINATIONS):
        trial = {**values, **{f.name: v for f, v in zip(read, combo, strict=True)}}
        first = first or trial
        if holds(trial) is True:
            return trial
    return first or values


def example_text(build: Build, validity: ir.Validity, cond: ir.Condition) -> str:
    from csdsl.assure.verify import literal
    from csdsl.syntax.format import format_module

    policy = build.policy
    record = build.compiled.policy.record(validity.record) if build.compiled.policy else None
    assert policy is not None and record is not None
    values = boundary_record(build, validity, cond)
    verdict = policy.validate_values(values, validity.record)
    fired = (*verdict.matched, *verdict.excepted)
    example = ast.Example(
        None,
        f"{cond.id} at its boundary",
        ast.Ident(validity.record),
        False,
        tuple(
            ast.FieldValue(ast.Ident(f.name), literal(values[f.name], f, policy.tz))
            for f in record.fields
        ),
        verdict.valid,
        tuple(ast.Ident(c) for c in fired) or None,
    )
    return format_module(ast.Module(None, (example,)))


def add_example(build: Build, sym: Symbol) -> types.CodeAction | None:
    """ "Add an example for this condition" for the condition `sym` names."""
    policy = build.compiled.policy
    if sym.kind != "condition" or policy is None or build.policy is None:
        return None
    for v in policy.validities:
        for cond in (*v.conditions, *v.exceptions):
            if cond.id != sym.name:
                continue
            text = example_text(build, v, cond)
            target = build.path_of(v.span.file)
            at = position(build.source(target), v.span.end_line + 1, 1)
            edit = types.TextEdit(types.Range(at, at), "\n" + text)
            return types.CodeAction(
                title=f"add an example for condition `{cond.id}`",
                kind=types.CodeActionKind.RefactorRewrite,
                edit=types.WorkspaceEdit(changes={uri_of(target): [edit]}),
            )
    return None


# ---- lenses ----------------------------------------------------------------------------------


def runnable(items: Iterable[ast.Item]) -> list[tuple[str, Span]]:
    """The examples and invariants of a file: ("example" | "invariant", span)."""
    out = []
    for item in items:
        if isinstance(item, ast.Example | ast.TranscriptExample):
            out.append(("example", item.span))
        elif isinstance(item, ast.InvariantDecl):
            out.append(("invariant", item.span))
    return out


def lenses(build: Build, path: str, results: Mapping[tuple[str, int], str]) -> list[types.CodeLens]:
    source = build.source(path)
    out = []
    for what, span in runnable(build.index.items.get(path, ())):
        title = results.get((path, span.line)) or (
            "▶ run example" if what == "example" else "▶ verify invariant"
        )
        start = position(source, span.line, span.column)
        out.append(
            types.CodeLens(
                range=types.Range(start, start),
                command=types.Command(
                    title=title, command=RUN, arguments=[uri_of(path), span.line]
                ),
            )
        )
    return out


def _short(text: str, limit: int = 100) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def run(build: Build, path: str, line: int) -> tuple[bool | None, str]:
    """Run the example or invariant starting on `line` of `path`: (passed, message); passed is
    None when it could not run."""
    policy = build.policy
    if policy is None:
        return None, "the policy has errors: fix them first"
    for inv in policy.ir.invariants:
        if build.path_of(inv.span.file) == path and inv.span.line == line:
            from csdsl.assure.verify import verify_one

            result = verify_one(policy, inv, max_examples=VERIFY_EXAMPLES)
            if result.holds:
                return True, f"holds ({VERIFY_EXAMPLES} records searched)"
            found = result.counterexample
            return False, "counterexample: " + (
                ", ".join(f"{k}={v}" for k, v in found.record.items()) if found else "?"
            )
    for r in policy.run_examples():
        span = r.example.span
        if build.path_of(span.file) == path and span.line == line:
            return r.passed, r.message
    return None, "no example or invariant starts on this line"


def title(passed: bool | None, message: str) -> str:
    mark = "✔ passed" if passed else "✘ failed" if passed is False else "⚠ not run"
    return _short(f"{mark}: {message}")

"""Checking: AST -> checked IR plus diagnostics.

In: the path of a `.csp` file.  Out: `Compiled` (the IR when there is no error, every diagnostic,
and the sources read, for rendering).  The stages run in order: `modules` reads the file and its
imports, `lower` resolves names and types while building the IR, then each consistency rule in
`RULES` looks at the IR and may add warnings.  Last, a comment `# csdsl: ignore[W406]` (codes
separated by commas) silences those warnings on its own line; one that silences nothing is
itself a warning (W534), and so is one that names an error, which cannot be silenced.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

import attrs

from csdsl import ir
from csdsl.check import constant, coverage, modules
from csdsl.check.lower import lower
from csdsl.diagnostics import Diagnostic, warning
from csdsl.source import SourceFile, Span
from csdsl.syntax import ast
from csdsl.syntax.parse import too_deep

Rule = Callable[[ir.Policy], Iterable[Diagnostic]]
RULES: tuple[Rule, ...] = (
    constant.check_constant_conditions,
    constant.check_same_conditions,
    *coverage.RULES,
)


@attrs.frozen
class Compiled:
    policy: ir.Policy | None
    diagnostics: tuple[Diagnostic, ...]
    sources: dict[str, SourceFile]
    files: tuple[tuple[str, str], ...] = ()  # (resolved path, text digest) of every file read

    @property
    def ok(self) -> bool:
        return self.policy is not None and not any(d.is_error for d in self.diagnostics)


def compile_file(path: str | Path, overlay: Mapping[str, str] | None = None) -> Compiled:
    """`overlay`: file texts (by path) read in place of what is on disk."""
    graph = modules.load_graph(path, overlay)
    diags = list(graph.diagnostics)
    policy = None
    if graph.root is not None and not any(d.is_error for d in diags):
        try:
            policy, more = lower(graph)
            diags += more
            if not any(d.is_error for d in diags):
                for rule in RULES:
                    diags += rule(policy)
        except RecursionError:  # an expression deeper than the checker's recursion
            deepest = max(graph.sources.values(), key=lambda s: len(s.text))
            policy, diags = None, [*diags, too_deep(deepest)]
    if not any(d.is_error for d in diags):
        diags = silence(diags, graph.modules, graph.root_path)
    diags.sort(key=Diagnostic.sort_key)
    failed = any(d.is_error for d in diags)
    return Compiled(
        None if failed else policy, tuple(diags), graph.sources, tuple(graph.digests.items())
    )


_IGNORE = re.compile(r"csdsl:\s*ignore\[([^\]]*)\]")


def silence(
    diags: list[Diagnostic], modules: Mapping[str, ast.Module], root: str
) -> list[Diagnostic]:
    """The diagnostics without the warnings an `# csdsl: ignore[CODE, ...]` comment on their
    line silences, plus a W534 for each code of such a comment in the `root` file that silenced
    nothing (an imported or included file's comments may be meant for its own checks)."""
    pragmas: dict[tuple[str, int], tuple[ast.Comment, set[str]]] = {}
    for module in modules.values():
        for comment in module.comments:
            m = _IGNORE.search(comment.text)
            if m is not None:
                codes = {c.strip().upper() for c in m.group(1).split(",") if c.strip()}
                pragmas[(comment.span.file, comment.span.line)] = (comment, codes)
    if not pragmas:
        return diags
    used: set[tuple[str, int, str]] = set()
    kept = []
    for d in diags:
        hit = pragmas.get((d.span.file, d.span.line))
        if hit is not None and not d.is_error and d.code in hit[1]:
            used.add((d.span.file, d.span.line, d.code))
            continue
        kept.append(d)
    for (file, line), (comment, codes) in pragmas.items():
        if file != root:
            continue
        s = comment.span
        for code in sorted(codes - {c for f, n, c in used if (f, n) == (file, line)}):
            error_code = code.startswith("E")
            kept.append(
                warning(
                    "W534",
                    f"`csdsl: ignore[{code}]` silences nothing on this line",
                    Span(s.file, s.line, s.column, s.end_line, s.end_column),
                    "errors cannot be silenced: fix the policy"
                    if error_code
                    else f"no {code} is reported on this line; remove the code from the "
                    "comment, or move the comment to the line the warning points at",
                )
            )
    return kept

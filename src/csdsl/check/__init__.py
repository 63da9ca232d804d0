"""Checking: AST -> checked IR plus diagnostics.

In: the path of a `.csp` file, and optionally an overlay of unsaved texts by resolved path
(`modules.load_graph`; a language server passes its open buffers).  Out: `Compiled` (the IR
when there is no error, every diagnostic, the sources read, for rendering, and the parsed
modules).  The stages run in order: `modules` reads the file and its
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
    # the parsed modules by resolved path, and the resolved path each source name stands for
    modules: Mapping[str, ast.Module] = attrs.field(factory=dict, eq=False, repr=False)
    paths: Mapping[str, str] = attrs.field(factory=dict, eq=False, repr=False)
    # resolved paths read from the overlay, not the disk: such a compilation is never cached
    overlaid: frozenset[str] = frozenset()

    @property
    def ok(self) -> bool:
        return self.policy is not None and not any(d.is_error for d in self.diagnostics)


def compile_file(
    path: str | Path,
    overlay: Mapping[str, str] | None = None,
    parses: modules.ParseCache | None = None,
) -> Compiled:
    """Check the file at `path` and what it imports; files in `overlay` (path -> text) are read
    from it instead of the disk, and `parses` reuses the parse of unchanged texts."""
    graph = modules.load_graph(path, overlay, parses)
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
    paths = {name: modules.resolved(name) for name in graph.sources}
    return Compiled(
        None if failed else policy,
        tuple(diags),
        graph.sources,
        tuple(graph.digests.items()),
        graph.modules,
        paths,
        frozenset(graph.digests).intersection(modules.resolved(k) for k in overlay or {}),
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

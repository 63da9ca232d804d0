"""Checking: AST -> checked IR plus diagnostics.

In: the path of a `.csp` file.  Out: `Compiled` (the IR when there is no error, every diagnostic,
and the sources read, for rendering).  The stages run in order: `modules` reads the file and its
imports, `lower` resolves names and types while building the IR, then each consistency rule in
`RULES` looks at the IR and may add warnings.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

import attrs

from csdsl import ir
from csdsl.check import constant, coverage, modules
from csdsl.check.lower import lower
from csdsl.diagnostics import Diagnostic
from csdsl.source import SourceFile
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


def compile_file(path: str | Path) -> Compiled:
    graph = modules.load_graph(path)
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
    diags.sort(key=Diagnostic.sort_key)
    failed = any(d.is_error for d in diags)
    return Compiled(
        None if failed else policy, tuple(diags), graph.sources, tuple(graph.digests.items())
    )

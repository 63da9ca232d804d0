"""The checker's diagnostics as the editor shows them.

In: the builds of the open documents.  Out: LSP diagnostics per resolved path: each with its
range in UTF-16 units, severity, code, the message with its hint as a second line, and its
related spans as related information.  A diagnostic in an imported or included file shows on
that file, and also on the root, at the `import`/`include` line that brings the file in (an
unsaved edit that breaks an included file is seen where the breakage is felt).  The same
diagnostic reported by two builds (a file open on its own and included by another) shows once.
"""

from __future__ import annotations

from collections.abc import Iterable

from lsprotocol import types

from csdsl.diagnostics import Diagnostic
from csdsl.lsp.index import import_target
from csdsl.lsp.positions import span_range
from csdsl.lsp.session import Build, uri_of
from csdsl.syntax import ast

_SEVERITY = {
    "error": types.DiagnosticSeverity.Error,
    "warning": types.DiagnosticSeverity.Warning,
}


def to_lsp(d: Diagnostic, build: Build) -> types.Diagnostic:
    source = build.compiled.sources.get(d.span.file)
    related = [
        types.DiagnosticRelatedInformation(
            types.Location(
                uri_of(build.path_of(r.span.file)),
                span_range(r.span, build.compiled.sources.get(r.span.file)),
            ),
            r.message,
        )
        for r in d.related
    ]
    return types.Diagnostic(
        range=span_range(d.span, source),
        message=d.message + (f"\nhint: {d.hint}" if d.hint else ""),
        severity=_SEVERITY[d.severity.value],
        code=d.code,
        source="csdsl",
        related_information=related or None,
    )


def _reaches(build: Build, start: str, goal: str) -> bool:
    """Whether `goal` is `start` or imported or included by it, directly or not."""
    seen, todo = set(), [start]
    while todo:
        path = todo.pop()
        if path == goal:
            return True
        if path in seen:
            continue
        seen.add(path)
        module = build.compiled.modules.get(path)
        if module is not None:
            todo += [import_target(path, i.path) for i in module.items if isinstance(i, ast.Import)]
    return False


def _via(build: Build, path: str) -> ast.Import | None:
    """The root's `import`/`include` that brings `path` in."""
    module = build.compiled.modules.get(build.root)
    if module is None:
        return None
    for item in module.items:
        if isinstance(item, ast.Import) and _reaches(
            build, import_target(build.root, item.path), path
        ):
            return item
    return None


def _summary(build: Build, path: str, diags: list[Diagnostic]) -> types.Diagnostic | None:
    item = _via(build, path)
    if item is None:
        return None
    errors = [d for d in diags if d.is_error]
    first = (errors or diags)[0]
    shown = first.span.file
    count = (
        f"{len(errors)} error{'s' * (len(errors) != 1)}"
        if errors
        else (f"{len(diags)} warning{'s' * (len(diags) != 1)}")
    )
    verb = "included" if item.include else "imported"
    root_source = build.source(build.root)
    return types.Diagnostic(
        range=span_range(item.span, root_source),
        message=f"{verb} `{shown}` has {count}: {first.message}",
        severity=_SEVERITY[first.severity.value],
        code=first.code,
        source="csdsl",
        related_information=[
            types.DiagnosticRelatedInformation(
                types.Location(uri_of(path), span_range(first.span, build.source(path))),
                first.message,
            )
        ],
    )


def collect(builds: Iterable[Build]) -> dict[str, list[types.Diagnostic]]:
    """The diagnostics to publish, by resolved path."""
    out: dict[str, dict[tuple[object, ...], types.Diagnostic]] = {}

    def add(path: str, diag: types.Diagnostic) -> None:
        r = diag.range
        key = (
            r.start.line,
            r.start.character,
            r.end.line,
            r.end.character,
            diag.code,
            diag.message,
        )
        out.setdefault(path, {}).setdefault(key, diag)

    for build in builds:
        out.setdefault(build.root, {})
        elsewhere: dict[str, list[Diagnostic]] = {}
        for d in build.compiled.diagnostics:
            path = build.path_of(d.span.file)
            add(path, to_lsp(d, build))
            if path != build.root:
                elsewhere.setdefault(path, []).append(d)
        for path, diags in elsewhere.items():
            summary = _summary(build, path, diags)
            if summary is not None:
                add(build.root, summary)
    return {path: list(diags.values()) for path, diags in out.items()}

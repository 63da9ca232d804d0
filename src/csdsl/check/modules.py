"""Reading a policy file and everything it imports.

In: a path.  Out: `Graph`: the parsed root module, the modules it imports and includes (by
resolved path), the sources read, and diagnostics for unreadable files, missing imports and
import cycles.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import attrs

from csdsl.cache import text_digest
from csdsl.diagnostics import Diagnostic, Related, error
from csdsl.source import SourceFile, Span, UnreadableSource, read_policy_text
from csdsl.syntax import ast
from csdsl.syntax.parse import parse


@attrs.define
class Graph:
    root: ast.Module | None = None
    root_path: str = ""
    modules: dict[str, ast.Module] = attrs.Factory(dict)
    imports: dict[str, list[str]] = attrs.Factory(dict)  # file -> resolved imported files
    includes: dict[str, list[str]] = attrs.Factory(dict)  # file -> resolved included files
    sources: dict[str, SourceFile] = attrs.Factory(dict)
    diagnostics: list[Diagnostic] = attrs.Factory(list)
    # resolved path -> SHA-256 of the text read from it (what the compiled-policy cache checks)
    digests: dict[str, str] = attrs.Factory(dict)


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        pass
    except (OSError, RuntimeError):
        return str(path)
    try:
        return str(path.resolve())
    except (OSError, ValueError, RuntimeError):
        return str(path)


def _shown(name: str) -> str:
    """A file name as a diagnostic shows it: control characters (a NUL, an escape) as escapes."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in name)


def load_graph(path: str | Path, overlay: Mapping[str, str] | None = None) -> Graph:
    """`overlay`: texts read in place of the files' (by resolved path), e.g. a fix not yet
    written."""
    graph = Graph()
    root = Path(path)
    graph.root_path = str(path)
    texts = {str(Path(k).resolve()): v for k, v in (overlay or {}).items()}
    graph.root = _load(graph, root, str(path), [], None, texts)
    return graph


def _load(
    graph: Graph,
    path: Path,
    name: str,
    stack: list[tuple[str, Span]],
    via: Span | None,
    overlay: Mapping[str, str],
) -> ast.Module | None:
    try:
        key = str(path.resolve())
    except (OSError, ValueError, RuntimeError):  # a NUL in the name, a symlink loop
        key = str(path.absolute())
    if key in graph.modules:
        return graph.modules[key]
    span = via or Span.unknown(name)
    try:
        text = overlay.get(key)
        source = SourceFile(name, read_policy_text(path) if text is None else text)
    except FileNotFoundError:
        graph.diagnostics.append(
            error(
                "E204",
                f"cannot find `{_shown(name)}`",
                span,
                "check the path; imports are relative to the importing file",
            )
        )
        return None
    except (OSError, UnicodeDecodeError) as exc:
        if isinstance(exc, UnicodeDecodeError):
            reason, hint = "it is not UTF-8 text", "policy files are UTF-8 text"
        elif isinstance(exc, UnreadableSource):
            reason, hint = exc.reason, "a policy is read only from a regular file of text"
        else:
            reason, hint = str(exc.strerror or exc).lower(), "check the path and its permissions"
        graph.diagnostics.append(
            error("E204", f"cannot read `{_shown(name)}`: {reason}", span, hint)
        )
        return None
    graph.sources[name] = source
    graph.digests[key] = text_digest(source.text)
    module, diags = parse(source)
    graph.diagnostics.extend(diags)
    if module is None:
        return None
    graph.modules[key] = module
    resolved: list[str] = []
    included: list[str] = []
    graph.imports[key] = resolved
    graph.includes[key] = included
    stack = [*stack, (key, via or Span.unknown(name))]
    for item in module.items:
        if not isinstance(item, ast.Import):
            continue
        target = path.parent / item.path
        try:
            tkey = str(target.resolve())
        except (OSError, ValueError, RuntimeError):  # a NUL in the name, a symlink loop
            tkey = str(target.absolute())
        on_stack = [k for k, _ in stack]
        if tkey in on_stack:
            cycle = [Path(k).name for k in on_stack[on_stack.index(tkey) :]] + [target.name]
            first_import = (
                stack[on_stack.index(tkey) + 1][1]
                if on_stack.index(tkey) + 1 < len(stack)
                else item.span
            )
            verb = "include" if item.include else "import"
            graph.diagnostics.append(
                error(
                    "E205",
                    f"{verb} cycle: " + " -> ".join(f"`{c}`" for c in cycle),
                    item.span,
                    f"move what both files need into a third file that neither {verb}s back",
                    [Related("the cycle starts here", first_import)],
                )
            )
            continue
        child_name = _display(target) if not Path(item.path).is_absolute() else item.path
        child = _load(graph, target, child_name, stack, item.span, overlay)
        if child is not None:
            (included if item.include else resolved).append(tkey)
    return module

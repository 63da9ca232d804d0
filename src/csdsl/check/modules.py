"""Reading a policy file and everything it imports.

In: a path, and optionally an overlay: the text of files an editor holds unsaved (by resolved
path), read instead of the disk.  Out: `Graph`: the parsed root module, the modules it imports
and includes (by resolved path), the sources read, and diagnostics for unreadable files, missing
imports and import cycles.

A `ParseCache` (a language server keeps one) reuses the parse of a file whose name and text are
unchanged: re-checking after an edit parses only the edited file.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from pathlib import Path

import attrs

from csdsl.cache import text_digest
from csdsl.diagnostics import Diagnostic, Related, error
from csdsl.source import SourceFile, Span, UnreadableSource, read_policy_text
from csdsl.syntax import ast
from csdsl.syntax.chunks import Chunks
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


class ParseCache:
    """The parses of the last `size` (file name, text digest) pairs: a parse depends on nothing
    else, so a hit is the parse of the same text.  A miss is parsed clause by clause
    (`syntax.chunks`), reusing the clauses an edit did not touch."""

    def __init__(self, size: int = 256) -> None:
        self.size = size
        self._entries: OrderedDict[tuple[str, str], tuple[ast.Module | None, list[Diagnostic]]]
        self._entries = OrderedDict()
        self.chunks = Chunks()

    def parse(self, source: SourceFile, digest: str) -> tuple[ast.Module | None, list[Diagnostic]]:
        key = (source.name, digest)
        hit = self._entries.get(key)
        if hit is not None:
            self._entries.move_to_end(key)
            return hit[0], list(hit[1])
        module, diags = self.chunks.parse(source) or parse(source)
        self._entries[key] = (module, list(diags))
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)
        return module, diags


def resolved(path: str | Path) -> str:
    """The key a file is known by in a `Graph` and in an overlay: its resolved path."""
    p = Path(path)
    try:
        return str(p.resolve())
    except (OSError, ValueError, RuntimeError):  # a NUL in the name, a symlink loop
        return str(p.absolute())


def load_graph(
    path: str | Path,
    overlay: Mapping[str, str] | None = None,
    parses: ParseCache | None = None,
) -> Graph:
    """The file at `path` and everything it imports and includes; a file named by a key of
    `overlay` (any path to it) is read from there, not from the disk: an editor's unsaved
    buffer, or a fix not yet written."""
    graph = Graph()
    root = Path(path)
    graph.root_path = str(path)
    texts = {resolved(k): v for k, v in (overlay or {}).items()}
    graph.root = _load(_Loader(graph, texts, parses), root, str(path), [], None)
    return graph


@attrs.define
class _Loader:
    graph: Graph
    overlay: Mapping[str, str]
    parses: ParseCache | None

    def text(self, key: str, path: Path) -> str:
        held = self.overlay.get(key)
        return held if held is not None else read_policy_text(path)


def _load(
    loader: _Loader, path: Path, name: str, stack: list[tuple[str, Span]], via: Span | None
) -> ast.Module | None:
    graph = loader.graph
    key = resolved(path)
    if key in graph.modules:
        return graph.modules[key]
    span = via or Span.unknown(name)
    try:
        source = SourceFile(name, loader.text(key, path))
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
    graph.digests[key] = digest = text_digest(source.text)
    module, diags = parse(source) if loader.parses is None else loader.parses.parse(source, digest)
    graph.diagnostics.extend(diags)
    if module is None:
        return None
    graph.modules[key] = module
    imported: list[str] = []
    included: list[str] = []
    graph.imports[key] = imported
    graph.includes[key] = included
    stack = [*stack, (key, via or Span.unknown(name))]
    for item in module.items:
        if not isinstance(item, ast.Import):
            continue
        target = path.parent / item.path
        tkey = resolved(target)
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
        child = _load(loader, target, child_name, stack, item.span)
        if child is not None:
            (included if item.include else imported).append(tkey)
    return module

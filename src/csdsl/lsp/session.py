"""What the server knows: the open buffers and the last compilation of each.

In: the text of each open document (by its resolved path), as the editor sends it.  Out: a
`Build` per open document: the document compiled as a root with every open buffer overlaid on
the disk (`compile_file(path, overlay)`), so an import or include resolves against unsaved
edits; its index, its loaded policy and its `csdsl doc` view, each made when first asked for.
Parses of unchanged texts are reused across compilations (`ParseCache`), so re-checking after
an edit parses only the edited file.  No compilation here reads or fills the compiled-policy
cache: that cache is keyed by the files on disk and would serve their saved text.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlparse

import attrs

from csdsl.check import Compiled, compile_file
from csdsl.check.modules import ParseCache, resolved
from csdsl.lsp.index import Index
from csdsl.source import SourceFile

if TYPE_CHECKING:
    from csdsl.api import Policy
    from csdsl.doc.model import View


# the URI each path was opened by: an editor's spelling of a `file:` URI (its percent-encoding)
# is answered back unchanged, and a document that is not a file (`untitled:Untitled-1`) has one
_URIS: dict[str, str] = {}


def path_of(uri: str) -> str:
    """The resolved path a document's URI stands for (for a URI that is not a `file:` one, a
    name under the working directory that no file on disk is likely to have)."""
    parsed = urlparse(uri)
    path = resolved(unquote(parsed.path)) if parsed.scheme == "file" else resolved(uri)
    _URIS.setdefault(path, uri)
    return path


def uri_of(path: str) -> str:
    """The URI of a resolved path: the one it was opened by, else its `file:` URI."""
    known = _URIS.get(path)
    return known if known is not None else Path(path).as_uri()


@attrs.define(eq=False)
class Build:
    """One compilation of an open document as the root."""

    root: str  # resolved path
    compiled: Compiled
    version: int  # the session's edit counter when it was made

    @functools.cached_property
    def by_path(self) -> dict[str, SourceFile]:
        return {self.compiled.paths.get(n, n): s for n, s in self.compiled.sources.items()}

    def source(self, path: str) -> SourceFile | None:
        return self.by_path.get(path)

    def path_of(self, name: str) -> str:
        """The resolved path of a source name as spans give it."""
        return self.compiled.paths.get(name) or resolved(name)

    @functools.cached_property
    def index(self) -> Index:
        return Index(self.compiled.modules, self.compiled.paths)

    @functools.cached_property
    def policy(self) -> Policy | None:
        from csdsl.api import Policy

        c = self.compiled
        return Policy(c.policy, c.diagnostics, c.sources) if c.ok and c.policy else None

    @functools.cached_property
    def view(self) -> View | None:
        from csdsl.doc.model import build

        return build(self.policy) if self.policy is not None else None

    @property
    def files(self) -> set[str]:
        """The resolved paths this compilation read."""
        return {path for path, _ in self.compiled.files}


class Session:
    def __init__(self) -> None:
        self.texts: dict[str, str] = {}  # resolved path -> the open buffer's text
        self.builds: dict[str, Build] = {}  # resolved path of an open document -> its build
        self.good: dict[str, Build] = {}  # the last build whose modules all parsed
        self.parses = ParseCache()
        self.version = 0
        self.edited: dict[str, int] = {}  # resolved path -> the version of its last edit

    def set_text(self, path: str, text: str) -> None:
        self.texts[path] = text
        self.version += 1
        self.edited[path] = self.version

    def fresh(self, path: str) -> Build:
        """The build of an open document, compiled now if an edit came after it (a debounced
        check may not have run yet)."""
        build = self.builds.get(path)
        if build is None or any(
            self.edited.get(f, 0) > build.version for f in (*build.files, path)
        ):
            build = self.compile(path)
        return build

    def close(self, path: str) -> None:
        self.texts.pop(path, None)
        self.builds.pop(path, None)
        self.good.pop(path, None)
        self.version += 1

    def compile(self, path: str) -> Build:
        compiled = compile_file(path, self.texts, self.parses)
        build = Build(path, compiled, self.version)
        self.builds[path] = build
        if path in compiled.modules:
            self.good[path] = build
        return build

    def affected(self, path: str) -> list[str]:
        """The open documents whose compilation reads `path` (itself first, when open)."""
        out = [path] if path in self.texts else []
        out += [
            root
            for root, build in self.builds.items()
            if root != path and root in self.texts and path in build.files
        ]
        return out

    def build_for(self, path: str) -> Build | None:
        """The freshest build that has `path` among its files: its own, else one that reads it
        (an imported file that is not open)."""
        build = self.builds.get(path)
        if build is not None:
            return build
        return next((b for b in self.builds.values() if path in b.files), None)

    def known(self, path: str) -> Build | None:
        """A build whose index covers `path`: the current one, else the last that parsed (for
        the names completion offers while a line is being typed)."""
        build = self.build_for(path)
        if build is not None and path in build.compiled.modules:
            return build
        return self.good.get(path) or build

    def current(self, path: str) -> Build | None:
        """A build of `path` as the editor holds it now (compiled on the spot when an edit came
        after the last one), or None while it does not parse: answers about positions are
        never taken from an older text."""
        build = self.fresh(path) if path in self.texts else self.build_for(path)
        if build is None or path not in build.compiled.modules:
            return None
        return build

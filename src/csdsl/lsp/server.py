"""`csdsl lsp`: the language server (pygls), over standard input and output.

In: LSP messages from an editor.  Out: diagnostics as the user types (debounced), hover,
definitions, references, completion, outline, folding, formatting, code actions and lenses;
each feature lives in its own module of `csdsl.lsp`, and this one only wires them to the
protocol.  Every handler catches its own failures, logs them and answers as if there were
nothing to say (no hover, no edits): a policy text that trips a bug must never stop the server.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable
from typing import Any, TypeVar, cast

from lsprotocol import types
from pygls.lsp.server import LanguageServer

from csdsl import __version__
from csdsl.lsp import actions, hover, outline, positions, problems
from csdsl.lsp.complete import complete
from csdsl.lsp.index import Occurrence
from csdsl.lsp.positions import from_lsp, position, span_range
from csdsl.lsp.session import Build, Session, path_of, uri_of
from csdsl.source import SourceFile

log = logging.getLogger("csdsl.lsp")
DEBOUNCE = 0.15  # seconds after the last keystroke before a document is checked again
F = TypeVar("F", bound=Callable[..., Any])


def guarded(default: Callable[[], Any]) -> Callable[[F], F]:
    """A handler that logs its failure and returns `default()` instead of raising."""

    def wrap(handler: F) -> F:
        @functools.wraps(handler)
        def run(*args: Any) -> Any:
            try:
                return handler(*args)
            except Exception:  # the server outlives any one request
                log.exception("csdsl lsp: %s failed", handler.__name__)
                return default()

        return cast(F, run)

    return wrap


class CsdslServer:
    """The server's state and its handlers (registered on a pygls `LanguageServer`)."""

    def __init__(self, debounce: float = DEBOUNCE) -> None:
        self.ls = LanguageServer("csdsl", __version__)
        self.session = Session()
        self.debounce = debounce
        self.pending: dict[str, asyncio.Task[None]] = {}
        self.published: set[str] = set()
        self.results: dict[tuple[str, int], str] = {}  # (path, line) -> a lens's last result
        self._register()

    # ---- diagnostics -------------------------------------------------------------------------
    def check(self, path: str) -> None:
        """Compile every open document that reads `path`, and publish what changed."""
        for root in self.session.affected(path):
            self.session.compile(root)
        self.publish()

    def publish(self) -> None:
        found = problems.collect(self.session.builds.values())
        for path in sorted(self.published | set(found)):
            self.ls.text_document_publish_diagnostics(
                types.PublishDiagnosticsParams(uri=uri_of(path), diagnostics=found.get(path, []))
            )
        self.published = {p for p, diags in found.items() if diags}

    def schedule(self, path: str, delay: float) -> None:
        task = self.pending.pop(path, None)
        if task is not None:
            task.cancel()
        self.pending[path] = asyncio.get_running_loop().create_task(self._later(path, delay))

    async def _later(self, path: str, delay: float) -> None:
        try:
            if delay:
                await asyncio.sleep(delay)
            self.check(path)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("csdsl lsp: checking %s failed", path)
        finally:
            if self.pending.get(path) is asyncio.current_task():
                del self.pending[path]

    def changed(self, uri: str, text: str, delay: float) -> None:
        path = path_of(uri)
        self.session.set_text(path, text)
        self.results = {k: v for k, v in self.results.items() if k[0] != path}
        self.schedule(path, delay)

    # ---- shared lookups ----------------------------------------------------------------------
    def at(self, uri: str, pos: types.Position) -> tuple[Build, str, int, int] | None:
        """The build of the document as it stands, its path, and the 1-based cursor."""
        path = path_of(uri)
        build = self.session.current(path)
        if build is None:
            return None
        text = self.session.texts.get(path)
        source = SourceFile(path, text) if text is not None else build.source(path)
        if source is None:
            return None
        line, column = from_lsp(source, pos)
        return build, path, line, column

    def occurrence(self, uri: str, pos: types.Position) -> tuple[Build, str, Occurrence] | None:
        """The name under the cursor (`at`, then the build's index), with its build and path."""
        found = self.at(uri, pos)
        if found is None:
            return None
        build, path, line, column = found
        occ = build.index.at(path, line, column)
        return None if occ is None else (build, path, occ)

    def location(self, build: Build, path: str, span: Any) -> types.Location:
        return types.Location(uri_of(path), span_range(span, build.source(path)))

    # ---- handlers (each a method, so a test can call it without a client) ----
    @guarded(lambda: None)
    def initialized(self, params: types.InitializedParams) -> None:
        """The unit of columns agreed with the editor (UTF-16 unless it asked otherwise)."""
        agreed = self.ls.workspace.position_encoding
        positions.ENCODING = str(getattr(agreed, "value", agreed) or "utf-16")

    @guarded(lambda: None)
    def did_open(self, params: types.DidOpenTextDocumentParams) -> None:
        self.changed(params.text_document.uri, params.text_document.text, 0)

    @guarded(lambda: None)
    def did_change(self, params: types.DidChangeTextDocumentParams) -> None:
        uri = params.text_document.uri
        self.changed(uri, self.ls.workspace.get_text_document(uri).source, self.debounce)

    @guarded(lambda: None)
    def did_close(self, params: types.DidCloseTextDocumentParams) -> None:
        path = path_of(params.text_document.uri)
        self.session.close(path)
        for root in self.session.affected(path):
            self.session.compile(root)
        self.publish()

    @guarded(lambda: None)
    def on_hover(self, params: types.HoverParams) -> types.Hover | None:
        found = self.occurrence(params.text_document.uri, params.position)
        if found is None:
            return None
        build, path, occ = found
        text = hover.hover_text(build, occ, build.index.resolve(occ))
        if text is None:
            return None
        return types.Hover(
            types.MarkupContent(types.MarkupKind.Markdown, text),
            span_range(occ.span, build.source(path)),
        )

    @guarded(lambda: None)
    def definition(self, params: types.DefinitionParams) -> types.Location | None:
        found = self.occurrence(params.text_document.uri, params.position)
        if found is None:
            return None
        build, _, occ = found
        if occ.kind == "import" and occ.target is not None:
            start = types.Position(0, 0)
            return types.Location(uri_of(occ.target), types.Range(start, start))
        sym = build.index.resolve(occ)
        return None if sym is None else self.location(build, sym.file, sym.span)

    @guarded(list)
    def references(self, params: types.ReferenceParams) -> list[types.Location]:
        found = self.occurrence(params.text_document.uri, params.position)
        if found is None:
            return []
        build, _, occ = found
        if occ.kind == "import":
            hits = [o for o in build.index.occurrences if o.target == occ.target]
            return [self.location(build, o.file, o.span) for o in hits]
        sym = build.index.resolve(occ)
        if sym is None:
            return []
        return [
            self.location(build, o.file, o.span)
            for o in build.index.references(sym, params.context.include_declaration)
        ]

    @guarded(list)
    def completion(self, params: types.CompletionParams) -> list[types.CompletionItem]:
        path = path_of(params.text_document.uri)
        text = self.session.texts.get(path)
        if text is None:
            return []
        line, column = from_lsp(SourceFile(path, text), params.position)
        build = self.session.known(path)
        return complete(text, line, column, build.index if build is not None else None)

    @guarded(list)
    def document_symbols(self, params: types.DocumentSymbolParams) -> list[types.DocumentSymbol]:
        path = path_of(params.text_document.uri)
        build = self.session.current(path)
        if build is None:
            return []
        items = build.index.items.get(path, ())
        return outline.symbols(items, build.index, path, build.source(path))

    @guarded(list)
    def folding(self, params: types.FoldingRangeParams) -> list[types.FoldingRange]:
        path = path_of(params.text_document.uri)
        build = self.session.current(path)
        module = build.compiled.modules.get(path) if build is not None else None
        if module is None:
            return []
        return outline.folding(module.items, module.comments)

    @guarded(list)
    def formatting(self, params: types.DocumentFormattingParams) -> list[types.TextEdit]:
        from csdsl.syntax.parse import format_source

        path = path_of(params.text_document.uri)
        text = self.session.texts.get(path)
        if text is None:
            return []
        source = SourceFile(path, text)
        formatted, _ = format_source(source)
        if formatted is None or formatted == text:
            return []
        last = source.line_count
        end = position(source, last, len(source.line_text(last)) + 1)
        return [types.TextEdit(types.Range(types.Position(0, 0), end), formatted)]

    @guarded(list)
    def code_action(self, params: types.CodeActionParams) -> list[types.CodeAction]:
        found = self.at(params.text_document.uri, params.range.start)
        if found is None:
            return []
        build, path, line, column = found
        out = actions.quick_fixes(build, path, params.range.start.line, params.range.end.line)
        occ = build.index.at(path, line, column)
        sym = build.index.resolve(occ) if occ is not None else None
        if sym is not None:
            add = actions.add_example(build, sym)
            if add is not None:
                out.append(add)
        return out

    @guarded(list)
    def code_lens(self, params: types.CodeLensParams) -> list[types.CodeLens]:
        path = path_of(params.text_document.uri)
        build = self.session.current(path)
        if build is None:
            return []
        return actions.lenses(build, path, self.results)

    @guarded(lambda: {"passed": None, "message": "could not run"})
    def run(self, *args: Any) -> dict[str, Any]:
        uri, line = str(args[0]), int(args[1])
        path = path_of(uri)
        if path not in self.session.texts:
            return {"passed": None, "message": "the document is not open"}
        build = self.session.fresh(path)
        passed, message = actions.run(build, path, line)
        self.results[(path, line)] = actions.title(passed, message)
        refresh = self.ls.client_capabilities.workspace
        lenses = refresh.code_lens if refresh is not None else None
        if lenses is not None and lenses.refresh_support:
            self.ls.workspace_code_lens_refresh(None)
        return {"passed": passed, "message": message}

    def _register(self) -> None:
        self.ls.feature(types.INITIALIZED)(_plain(self.initialized))
        self.ls.feature(types.TEXT_DOCUMENT_DID_OPEN)(_plain(self.did_open))
        self.ls.feature(types.TEXT_DOCUMENT_DID_CHANGE)(_plain(self.did_change))
        self.ls.feature(types.TEXT_DOCUMENT_DID_CLOSE)(_plain(self.did_close))
        self.ls.feature(types.TEXT_DOCUMENT_HOVER)(_plain(self.on_hover))
        self.ls.feature(types.TEXT_DOCUMENT_DEFINITION)(_plain(self.definition))
        self.ls.feature(types.TEXT_DOCUMENT_REFERENCES)(_plain(self.references))
        self.ls.feature(
            types.TEXT_DOCUMENT_COMPLETION,
            types.CompletionOptions(trigger_characters=["=", " ", "["]),
        )(_plain(self.completion))
        self.ls.feature(types.TEXT_DOCUMENT_DOCUMENT_SYMBOL)(_plain(self.document_symbols))
        self.ls.feature(types.TEXT_DOCUMENT_FOLDING_RANGE)(_plain(self.folding))
        self.ls.feature(types.TEXT_DOCUMENT_FORMATTING)(_plain(self.formatting))
        self.ls.feature(
            types.TEXT_DOCUMENT_CODE_ACTION,
            types.CodeActionOptions(
                code_action_kinds=[
                    types.CodeActionKind.QuickFix,
                    types.CodeActionKind.RefactorRewrite,
                ]
            ),
        )(_plain(self.code_action))
        self.ls.feature(types.TEXT_DOCUMENT_CODE_LENS)(_plain(self.code_lens))
        self.ls.command(actions.RUN)(_plain(self.run))


def _plain(method: Callable[..., Any]) -> Callable[..., Any]:
    """A bound method as a plain function: pygls sets attributes on what it registers."""

    @functools.wraps(method)
    def call(*args: Any) -> Any:
        return method(*args)

    return call


def serve() -> None:
    """Serve one editor over standard input and output until it exits."""
    logging.basicConfig(level=logging.WARNING, format="%(name)s: %(message)s")
    CsdslServer().ls.start_io()

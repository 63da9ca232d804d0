"""Parsing a file clause by clause, so that an edit re-parses only the clause it touched.

In: a `SourceFile` and a `Chunks` cache.  Out: the module and diagnostics `parse` gives for the
whole file, or None when the file cannot be parsed this way (then the caller parses it whole).

The file is cut before each line that starts, in its first column and outside every bracket, with
a top-level keyword (`record`, `valid`, `deadline`, ...).  Each piece is parsed on its own, padded
with the newlines that precede it so that every line and column (and so every span) is the one
the whole file gives, and its parse is kept by (file, first line, text): a keystroke in one
clause leaves every other piece's parse reusable.  The pieces' items, comments and warnings are
put together in order.  Whenever a piece has an error, or a policy header stands anywhere but in
the first piece, the answer is None: the whole file is parsed, so diagnostics are always those
of `csdsl check`.  (A line inserted or deleted moves every later piece, whose parses then miss.)
"""

from __future__ import annotations

import itertools
import re
from collections import OrderedDict

from csdsl.diagnostics import Diagnostic
from csdsl.source import SourceFile, Span
from csdsl.syntax import ast
from csdsl.syntax.grammar import TOP_LEVEL
from csdsl.syntax.parse import code_only, normalise, parse

_START = re.compile(r"(?:policy|" + "|".join(TOP_LEVEL) + r")(?![\w])")
_OPEN, _CLOSE = "{[(", "}])"
Parsed = tuple[ast.Module | None, list[Diagnostic]]


def pieces(text: str) -> list[tuple[int, str]]:
    """(first line, text) of each piece, in order; one piece when there is nothing to cut."""
    lines = text.split("\n")
    code = code_only(normalise(text, "")[0]).split("\n")
    starts: list[int] = []
    depth = 0
    for n, (line, blanked) in enumerate(zip(lines, code, strict=True)):
        if depth == 0 and _START.match(line):
            starts.append(n)
        depth += sum(blanked.count(c) for c in _OPEN) - sum(blanked.count(c) for c in _CLOSE)
    cuts = [0, *starts[1:], len(lines)]
    out = []
    for a, b in itertools.pairwise(cuts):
        body = "\n".join(lines[a:b]) + ("\n" if b < len(lines) else "")
        out.append((a + 1, body))
    return out


class Chunks:
    """The parses of the last `size` pieces, by (file name, first line, text)."""

    def __init__(self, size: int = 4096) -> None:
        self.size = size
        self._parsed: OrderedDict[tuple[str, int, str], Parsed] = OrderedDict()

    def _parse(self, name: str, first: int, body: str) -> Parsed:
        key = (name, first, body)
        hit = self._parsed.get(key)
        if hit is not None:
            self._parsed.move_to_end(key)
            return hit
        module, diags = parse(SourceFile(name, "\n" * (first - 1) + body))
        self._parsed[key] = (module, list(diags))
        while len(self._parsed) > self.size:
            self._parsed.popitem(last=False)
        return module, diags

    def parse(self, source: SourceFile) -> Parsed | None:
        cut = pieces(source.text)
        if len(cut) < 2:
            return None
        header: ast.Header | None = None
        items: list[ast.Item] = []
        comments: list[ast.Comment] = []
        diags: list[Diagnostic] = []
        spans: list[Span] = []
        for i, (first, body) in enumerate(cut):
            module, found = self._parse(source.name, first, body)
            if module is None or any(d.is_error for d in found):
                return None
            if module.header is not None:
                if i > 0:
                    return None
                header = module.header
            items += module.items
            comments += module.comments
            diags += found
            if module.header is not None or module.items:
                spans.append(module.span)
        if not spans:
            return None
        span = Span(
            source.name, spans[0].line, spans[0].column, spans[-1].end_line, spans[-1].end_column
        )
        return ast.Module(header, tuple(items), tuple(comments), span=span), diags

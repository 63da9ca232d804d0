"""Positions: csdsl's spans count code points from 1, LSP counts UTF-16 code units from 0.

In: a `Span` and the `SourceFile` it points into, or an LSP position and a line's text.
Out: LSP ranges, and (line, column) pairs as `Span`s use them.  A character outside the Basic
Multilingual Plane (`𠀀`, an emoji) is one code point but two UTF-16 units, so every column after
it differs between the two counts.
"""

from __future__ import annotations

from lsprotocol import types

from csdsl.source import SourceFile, Span


def utf16_length(text: str) -> int:
    """UTF-16 code units of `text` (a lone surrogate counts one, as the client sent it)."""
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


def to_utf16(line_text: str, column: int) -> int:
    """The 0-based UTF-16 column of the 1-based code-point `column` of a line."""
    return utf16_length(line_text[: max(0, column - 1)])


def to_code_points(line_text: str, character: int) -> int:
    """The 1-based code-point column of a 0-based UTF-16 `character` of a line (a position
    inside a surrogate pair, or past the end, is moved to the nearest column after it)."""
    units = 0
    for i, ch in enumerate(line_text):
        if units >= character:
            return i + 1
        units += 2 if ord(ch) > 0xFFFF else 1
    return len(line_text) + 1


def position(source: SourceFile | None, line: int, column: int) -> types.Position:
    """The LSP position of a 1-based (line, code-point column) of `source`."""
    if source is None:
        return types.Position(max(0, line - 1), max(0, column - 1))
    return types.Position(max(0, line - 1), to_utf16(source.line_text(line), column))


def span_range(span: Span, source: SourceFile | None) -> types.Range:
    """The LSP range of a span of `source` (without the source, columns are taken as UTF-16)."""
    return types.Range(
        position(source, span.line, span.column),
        position(source, span.end_line, span.end_column),
    )


def from_lsp(source: SourceFile, pos: types.Position) -> tuple[int, int]:
    """The 1-based (line, code-point column) of an LSP position in `source`."""
    line = pos.line + 1
    return line, to_code_points(source.line_text(line), pos.character)


def contains(span: Span, line: int, column: int) -> bool:
    """Whether the 1-based (line, column) lies in `span` (its end included: a cursor just after
    a name is on the name)."""
    return (span.line, span.column) <= (line, column) <= (span.end_line, span.end_column)

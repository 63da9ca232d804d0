"""Positions: csdsl's spans count code points from 1, LSP counts code units from 0.

In: a `Span` and the `SourceFile` it points into, or an LSP position and a line's text.
Out: LSP ranges, and (line, column) pairs as `Span`s use them.  The unit is UTF-16's unless the
editor and the server agreed on another at start-up (`positionEncoding`: Neovim prefers
UTF-8); the server sets `ENCODING` once, for its one editor.  A character outside the Basic
Multilingual Plane (`𠀀`, an emoji) is one code point but two UTF-16 units (and four UTF-8
bytes; a Chinese character is three), so every column after it differs between the counts.
"""

from __future__ import annotations

from lsprotocol import types

from csdsl.source import SourceFile, Span

ENCODING: str = types.PositionEncodingKind.Utf16.value  # "utf-16", "utf-8" or "utf-32"


def _units(ch: str) -> int:
    """Code units of one code point in `ENCODING` (a lone surrogate: one UTF-16 unit)."""
    if ENCODING == "utf-32":
        return 1
    if ENCODING == "utf-8":
        return len(ch.encode("utf-8", "surrogatepass"))
    return 2 if ord(ch) > 0xFFFF else 1


def unit_length(text: str) -> int:
    """Code units of `text` in `ENCODING`."""
    if ENCODING == "utf-16":
        return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)
    return sum(_units(ch) for ch in text)


def to_units(line_text: str, column: int) -> int:
    """The 0-based column in code units of the 1-based code-point `column` of a line."""
    return unit_length(line_text[: max(0, column - 1)])


def to_code_points(line_text: str, character: int) -> int:
    """The 1-based code-point column of a 0-based column in code units (a position inside a
    character's units, or past the end, is moved to the nearest column after it)."""
    units = 0
    for i, ch in enumerate(line_text):
        if units >= character:
            return i + 1
        units += _units(ch)
    return len(line_text) + 1


def position(source: SourceFile | None, line: int, column: int) -> types.Position:
    """The LSP position of a 1-based (line, code-point column) of `source`."""
    if source is None:
        return types.Position(max(0, line - 1), max(0, column - 1))
    return types.Position(max(0, line - 1), to_units(source.line_text(line), column))


def span_range(span: Span, source: SourceFile | None) -> types.Range:
    """The LSP range of a span of `source` (without the source, columns count one a unit)."""
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

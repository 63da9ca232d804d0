"""Source files and spans.

In: a file's text and name.  Out: `Span`s (file, 1-based line/column, end) that every later stage
attaches to what it produces, and the helpers that turn offsets into lines and columns.
"""

from __future__ import annotations

import bisect
import re
from pathlib import Path

import attrs

_NEWLINE = re.compile("\n")


@attrs.frozen
class Span:
    """A region of one source file.  Lines and columns are 1-based; the end column is exclusive."""

    file: str
    line: int
    column: int
    end_line: int
    end_column: int

    @classmethod
    def unknown(cls, file: str = "<unknown>") -> Span:
        return cls(file, 1, 1, 1, 1)

    def cover(self, other: Span) -> Span:
        """The smallest span containing both (same file assumed)."""
        start = min((self.line, self.column), (other.line, other.column))
        end = max((self.end_line, self.end_column), (other.end_line, other.end_column))
        return Span(self.file, start[0], start[1], end[0], end[1])


@attrs.frozen
class SourceFile:
    """The text of one policy file with a line index for offset -> (line, column)."""

    name: str
    text: str
    _line_starts: tuple[int, ...] = attrs.field(init=False, repr=False, eq=False)

    def __attrs_post_init__(self) -> None:
        starts = [0, *(m.end() for m in _NEWLINE.finditer(self.text))]
        object.__setattr__(self, "_line_starts", tuple(starts))

    @classmethod
    def read(cls, path: str | Path) -> SourceFile:
        p = Path(path)
        return cls(str(path), p.read_text(encoding="utf-8-sig"))

    def position(self, offset: int) -> tuple[int, int]:
        """1-based (line, column) of a 0-based character offset."""
        offset = max(0, min(offset, len(self.text)))
        idx = bisect.bisect_right(self._line_starts, offset) - 1
        return idx + 1, offset - self._line_starts[idx] + 1

    def span(self, start: int, end: int) -> Span:
        line, col = self.position(start)
        end_line, end_col = self.position(end)
        return Span(self.name, line, col, end_line, end_col)

    def line_text(self, line: int) -> str:
        if line < 1 or line > len(self._line_starts):
            return ""
        start = self._line_starts[line - 1]
        end = self.text.find("\n", start)
        return self.text[start:] if end < 0 else self.text[start:end]

    @property
    def line_count(self) -> int:
        return len(self._line_starts)

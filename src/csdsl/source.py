"""Source files and spans.

In: a file's text and name.  Out: `Span`s (file, 1-based line/column, end) that every later stage
attaches to what it produces, and the helpers that turn offsets into lines and columns.
"""

from __future__ import annotations

import bisect
import os
import re
import stat
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
        return cls(str(path), read_policy_text(path))

    def position(self, offset: int) -> tuple[int, int]:
        """1-based (line, column) of a 0-based character offset."""
        offset = max(0, min(offset, len(self.text)))
        idx = bisect.bisect_right(self._line_starts, offset) - 1
        return idx + 1, offset - self._line_starts[idx] + 1

    def offset(self, line: int, column: int) -> int:
        """The 0-based character offset of a 1-based (line, column) of this file."""
        return self._line_starts[line - 1] + column - 1

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


MAX_POLICY_BYTES = 4 * 1024 * 1024  # a policy is text a person writes: 4 MiB is far beyond any


class UnreadableSource(OSError):
    """A policy file that is not read: not a regular file, too large, or a name the system
    refuses.  `reason` is lowercase, for a diagnostic."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def read_policy_text(path: str | Path, limit: int | None = None) -> str:
    """The text of a policy file (UTF-8, byte-order mark dropped), read only if it is a regular
    file of at most `limit` bytes: a device (`/dev/zero`), a FIFO or a directory is refused at
    once, never read or waited on.  Raises `FileNotFoundError`, `UnreadableSource`, another
    `OSError`, or `UnicodeDecodeError`."""
    limit = MAX_POLICY_BYTES if limit is None else limit
    name = os.fspath(path)
    if "\x00" in name:
        raise UnreadableSource("the path holds a NUL character")
    try:
        # O_NONBLOCK: opening a FIFO for reading must not wait for a writer
        fd = os.open(name, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except ValueError as exc:  # a path the system cannot represent
        raise UnreadableSource(str(exc).lower()) from None
    except IsADirectoryError:
        raise UnreadableSource("it is a directory") from None
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        if stat.S_ISDIR(info.st_mode):
            raise UnreadableSource("it is a directory")
        raise UnreadableSource("it is not a regular file (a device, FIFO or socket)")
    with os.fdopen(fd, "rb") as handle:
        if info.st_size > limit:
            raise UnreadableSource(f"it is larger than {limit // (1024 * 1024)} MiB")
        data = handle.read(limit + 1)
    if data is None:  # opened without blocking, and nothing to read yet (/proc/kmsg)
        raise UnreadableSource("it cannot be read without waiting (not an ordinary file)")
    if not info.st_size and data:  # /proc and /sys report no size, yet hand out text
        raise UnreadableSource("it is a /proc or /sys pseudo-file, not an ordinary file")
    if len(data) > limit:
        raise UnreadableSource(f"it is larger than {limit // (1024 * 1024)} MiB")
    return data.decode("utf-8-sig")

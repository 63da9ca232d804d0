"""The pre-scan of a file before DuckDB reads it, in bytes (for `csdsl.duck`).

In: a JSONL or CSV file.  Out: `Scan`: why the whole file goes to the Python reader, if it does
(a line DuckDB cannot read), whether CSV quoting spans lines, and the lines Python must read
alone because DuckDB would read them where Python's `json` or `csv` stops (deep nesting, very
long digit runs, very long CSV cells).
"""

from __future__ import annotations

import csv
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import attrs

from csdsl import ir

if TYPE_CHECKING:
    pass


Kind = ir.Kind


# What the pre-scan looks for, in bytes.  DuckDB reads a line of any nesting depth and keeps a
# number of any length as its digits, where Python's `json` stops (a recursion limit; ints of more
# than `sys.get_int_max_str_digits()` digits): a line with more opening brackets than `_DEEP` or
# a run of `_LONG_DIGITS` digits goes to Python, which says what it makes of it (a false alarm, a
# bracket or a digit inside a string, only costs speed).  So does a CSV line long enough to hold a
# cell beyond the `csv` module's field limit, and, whole, a file with a line DuckDB does not read
# (its limit is 2 MiB), or with more suspect lines than `_MAX_SUSPECT`.
_DEEP = 100
_LONG_DIGITS = 1000
_LONG_CELL = 131_072  # csv.field_size_limit()'s default
_LONG_LINE = 2_000_000
_MAX_SUSPECT = 1000
_CHUNK = 1 << 18  # small enough to stay in the processor's cache between the passes
_OPENS = bytes.maketrans(b"{", b"[")
_NOT_OPENS = bytes(b for b in range(256) if b not in b"[{\n")
_DIGITS = bytes(  # a digit becomes `0`, a line end stays, anything else is `.`
    ord("0") if b in b"0123456789" else b if b == ord("\n") else ord(".") for b in range(256)
)


@attrs.frozen
class Scan:
    """What the pre-scan found: why the whole file goes to Python (or None), whether it holds a
    double quote (CSV), and the lines Python reads alone."""

    why: str | None
    quoted: bool = False
    suspect: tuple[int, ...] = ()


def _long_lines(part: bytes, limit: int) -> Iterator[int]:
    """Offsets in `part` (whole lines) where a line longer than `limit` bytes starts: each step
    jumps over every line that ends within `limit` bytes of where it stands."""
    at, n = 0, len(part)
    while at + limit < n:
        last = part.rfind(b"\n", at, at + limit + 1)
        if last >= 0:
            at = last + 1
            continue
        yield at
        end = part.find(b"\n", at)
        if end < 0:
            return
        at = end + 1


def _runs(text: bytes, run: bytes) -> Iterator[int]:
    """Offsets of the first `run` in each line of `text` that has one."""
    at = text.find(run)
    while at >= 0:
        yield at
        end = text.find(b"\n", at)
        if end < 0:
            return
        at = text.find(run, end)


def _lines_at(part: bytes, offsets: Iterator[int], first: int) -> list[int]:
    """Line numbers of offsets in `part`, whose first line is line `first`."""
    out, line, pos = [], first, 0
    for at in offsets:
        line += part.count(b"\n", pos, at)
        pos = at
        out.append(line)
    return out


def _suspect_lines(part: bytes, first: int, json_lines: bool) -> list[int]:
    """The lines of `part` (whole lines, the first is line `first`) Python must read alone."""
    found = _lines_at(part, _long_lines(part, _LONG_CELL), first) if not json_lines else []
    if json_lines:
        opens = part.translate(_OPENS, _NOT_OPENS)  # only the brackets and the line ends
        found += _lines_at(opens, _runs(opens, b"[" * (_DEEP + 1)), first)
        limit = sys.get_int_max_str_digits()
        run = min(_LONG_DIGITS, limit) if limit else _LONG_DIGITS
        # only a line of `run` bytes or more can hold such a run: most chunks have none
        if any(True for _ in _long_lines(part, run - 1)):
            digits = part.translate(_DIGITS)
            found += _lines_at(digits, _runs(digits, b"0" * run), first)
    return found


def prescan(path: Path, csv_file: bool) -> Scan:
    """What the file holds that DuckDB reads otherwise than Python (see `Scan`).  Reads the file
    in chunks (mapping it would count it all in the process's memory), each cut after its last
    line end; the rest goes with the next chunk."""
    lone_cr = "it holds a carriage return that does not end a line"
    quoted = False
    suspect: set[int] = set()
    line = 1  # the number of the first line of `carry`
    carry = b""
    with path.open("rb") as handle:
        while True:
            chunk = handle.read(_CHUNK)
            if b"\x00" in chunk:
                return Scan("it holds a NUL byte")
            quoted = quoted or (csv_file and b'"' in chunk)
            block = carry + chunk if carry else chunk
            cut = block.rfind(b"\n") + 1 if chunk else len(block)
            part, carry = (block[:cut], block[cut:]) if cut < len(block) else (block, b"")
            if len(carry) > _LONG_LINE:
                return Scan(f"a line is longer than {_LONG_LINE:,} bytes")
            if part:
                if b"\r" in part and part.count(b"\r") != part.count(b"\r\n"):
                    return Scan(lone_cr)
                if any(True for _ in _long_lines(part, _LONG_LINE)):
                    return Scan(f"a line is longer than {_LONG_LINE:,} bytes")
                suspect.update(_suspect_lines(part, line, not csv_file))
                if len(suspect) > _MAX_SUSPECT:
                    return Scan(f"more than {_MAX_SUSPECT} lines need the Python reader")
                line += part.count(b"\n")
            if not chunk:
                break
    return Scan(None, quoted, tuple(sorted(suspect)))


def csv_line_closed(text: str) -> bool:
    """Whether a CSV line, read alone, ends outside quotes (so the next line is a new row)."""
    reader = csv.reader([text + "\n", "x\n"])
    try:
        next(reader, None)
    except csv.Error:
        return False
    return reader.line_num == 1

"""The certain repairs of syntax errors, as `Fix`es for the diagnostics `parse` explains.

In: the (full-width mapped) text of a file and where a mistake is.  Out: a list of `Fix` (empty
when the repair would be a guess).  Every offset is a code-point offset of the text, and every
replacement keeps what the author wrote around it: a repair changes the mistake and nothing else.
"""

from __future__ import annotations

import re
from fractions import Fraction

from csdsl.diagnostics import Edit, Fix, replace
from csdsl.source import SourceFile, Span
from csdsl.values import canonical_compact

_CLOSERS = {"{": "}", "(": ")", "[": "]"}
_UNIT_SECONDS = {"d": 86400, "h": 3600, "m": 60, "s": 1}


def insert(src: SourceFile, offset: int, text: str, title: str) -> list[Fix]:
    return [Fix(title, (Edit(src.span(offset, offset), text),))]


def rewrite(src: SourceFile, start: int, end: int, new: str) -> list[Fix]:
    """Replace `text[start:end]` with `new`."""
    return [replace(src.span(start, end), src.text[start:end], new)]


def missing_colon(src: SourceFile, after: int) -> list[Fix]:
    """`:` right after the name or wording ending at `after`."""
    glued = after < len(src.text) and not src.text[after].isspace()
    return insert(src, after, ": " if glued else ":", "insert `:`")


def spaced_word(src: SourceFile, start: int, end: int, word: str) -> list[Fix]:
    """`word` (`and`, `or`) in place of `text[start:end]` (`&&`), spaced from its neighbours."""
    text = src.text
    left = "" if start == 0 or text[start - 1].isspace() else " "
    right = "" if end >= len(text) or text[end].isspace() else " "
    return rewrite(src, start, end, left + word + right)


def close_block(src: SourceFile, line: int, opener: Span) -> list[Fix]:
    """The closer of the bracket opened at `opener`, on its own line at the opener's line's
    indentation, after the block's last line above line `line` (`src.line_count + 1`: the end
    of the file); blank lines and unindented comments just above `line` belong to what
    follows it."""
    start = src.offset(opener.line, opener.column)
    closer = _CLOSERS.get(src.text[start : start + 1])
    last = line - 1
    while last > opener.line and (
        not src.line_text(last).strip() or src.line_text(last).startswith("#")
    ):
        last -= 1
    if closer is None or last < opener.line:
        return []
    head = src.line_text(opener.line)
    indent = head[: len(head) - len(head.lstrip(" \t"))]
    end = src.offset(last, len(src.line_text(last)) + 1)
    return insert(src, end, "\n" + indent + closer, f"insert `{closer}`")


def single_quoted(src: SourceFile, start: int, typed: str) -> list[Fix]:
    """`'text'` -> `"text"`, when the string closes on its line and holds no `"` or `\\`;
    `typed`: the text as written, whose characters the string keeps (full-width ones too)."""
    m = re.compile(r"'([^'\"\\\n]*)'").match(src.text, start)
    if m is None:
        return []
    return [
        replace(
            src.span(start, m.end()), typed[start : m.end()], f'"{typed[start + 1 : m.end() - 1]}"'
        )
    ]


def trailing_terminator(src: SourceFile, start: int) -> list[Fix]:
    """Remove a `;` (`；`) or `。` that ends its line, with the spaces before it."""
    text = src.text
    line_end = text.find("\n", start)
    rest = text[start + 1 : len(text) if line_end < 0 else line_end]
    if text[start] not in ";；。" or (rest.strip() and not rest.lstrip().startswith(("#", "＃"))):
        return []
    begin = start
    while begin > 0 and text[begin - 1] in " \t":
        begin -= 1
    if begin == 0 or text[begin - 1] == "\n":  # alone on its line: what did it end?
        return []
    return [Fix(f"remove `{text[start]}`", (Edit(src.span(begin, start + 1), ""),))]


def duration(src: SourceFile, start: int, end: int, number: str, unit: str) -> list[Fix]:
    """`4 h`, `24hours`, `1.5h` -> `4h`, `24h`, `1h30m`: when the amount is whole seconds."""
    seconds = Fraction(number) * _UNIT_SECONDS[unit]
    if seconds.denominator != 1 or seconds <= 0:
        return []
    whole = int(seconds)
    new = f"{number}{unit}" if "." not in number else canonical_compact(whole)
    return rewrite(src, start, end, new)


def one_digit_hour(src: SourceFile, start: int, end: int) -> list[Fix]:
    """`2024-10-29T9:00` -> `2024-10-29T09:00`."""
    word = src.text[start:end]
    m = re.fullmatch(r"(\d{4}-\d{2}-\d{2}T)(\d)(:\d{2}(?::\d{2})?(?:[+\-]\d{2}:\d{2}|Z)?)", word)
    return rewrite(src, start, end, f"{m.group(1)}0{m.group(2)}{m.group(3)}") if m else []


def is_not_set(src: SourceFile, start: int) -> list[Fix]:
    """`is not set` -> `is missing` (`start`: the offset of `not`)."""
    m = re.compile(r"not[ \t]+set\b").match(src.text, start)
    return rewrite(src, start, m.end(), "missing") if m else []

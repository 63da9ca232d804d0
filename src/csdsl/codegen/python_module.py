"""The pieces of a generated Python module (`csdsl.codegen.python`), safe by construction.

In: constants from a checked policy (`ir.Const` values, names, wording, file names).  Out:
Python text that can only evaluate to them: `constructor(v)` for a whitelist of types (`repr()`
of str, int, float, bool and None; constructor calls for datetime, date, time, timedelta,
Decimal and time zones; anything else raises `TypeError`), one-line comments built from
`repr()`, and long lists of texts or integers packed into one string or bytes constant (see
`_DECODERS`).  `Module` is the module under construction (fresh names, module-level constants,
functions, sub-expressions left to compile); `Body` is the lines of one function, each tagged
with the validity condition (`Clause`) it checks.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
import zoneinfo
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

from csdsl import ir
from csdsl.source import Span

Clause = tuple[str, int, str]  # (file, line, id) of a validity condition
Line = tuple[str, Clause | None]


# ---- constants -------------------------------------------------------------------------------


def int_literal(v: int) -> str:
    """An integer as Python text; anything else (a bool too) is a generator bug."""
    assert type(v) is int
    return repr(v)


def _tz(v: dt.tzinfo) -> str:
    if v is dt.UTC:
        return "_dt.timezone.utc"
    if type(v) is dt.timezone:
        offset = v.utcoffset(None)
        plain = dt.timezone(offset)
        name = v.tzname(None)
        if name != plain.tzname(None):
            assert type(name) is str
            return f"_dt.timezone({constructor(offset)}, {name!r})"
        return f"_dt.timezone({constructor(offset)})"
    if type(v) is zoneinfo.ZoneInfo and type(v.key) is str:
        return f"_rt.zone({v.key!r})"
    raise TypeError(f"cannot emit the time zone {v!r} in generated code")


def constructor(v: Any) -> str:
    """Python text that evaluates to `v`, for a whitelist of types; anything else raises."""
    t = type(v)
    if v is None or t is bool or t is str:
        return repr(v)
    if t is int:
        return int_literal(v)
    if t is float:
        return repr(v) if math.isfinite(v) else f"float({str(v)!r})"
    if t is Decimal:
        return f"_rt.Decimal({str(v)!r})"
    if t is dt.timedelta:
        return (
            f"_dt.timedelta(days={int_literal(v.days)}, seconds={int_literal(v.seconds)}, "
            f"microseconds={int_literal(v.microseconds)})"
        )
    if t is dt.datetime:
        parts = [int_literal(x) for x in (v.year, v.month, v.day, v.hour, v.minute, v.second)]
        parts.append(int_literal(v.microsecond))
        if v.tzinfo is not None:
            parts.append(f"tzinfo={_tz(v.tzinfo)}")
        if v.fold:
            parts.append("fold=1")
        return f"_dt.datetime({', '.join(parts)})"
    if t is dt.date:
        return f"_dt.date({int_literal(v.year)}, {int_literal(v.month)}, {int_literal(v.day)})"
    if t is dt.time:
        parts = [int_literal(x) for x in (v.hour, v.minute, v.second, v.microsecond)]
        if v.tzinfo is not None:
            parts.append(f"tzinfo={_tz(v.tzinfo)}")
        if v.fold:
            parts.append("fold=1")
        return f"_dt.time({', '.join(parts)})"
    if isinstance(v, dt.tzinfo):
        return _tz(v)
    raise TypeError(f"cannot emit a constant of type {t.__name__} in generated code")


def is_name(text: str) -> bool:
    """True for an identifier the generator made (or True/False/None), never a literal."""
    return text.isidentifier()


def _safe_comment(text: str) -> str:
    # a comment is one physical line whatever the policy's text holds: built from repr() only,
    # and checked
    if len(text.splitlines()) != 1 or "\r" in text or "\n" in text:
        raise AssertionError(f"comment would span lines: {text!r}")  # pragma: no cover
    return "# " + text


class Module:
    """The module under construction: unique names, module-level constants, functions (each a
    list of lines tagged with the clause they belong to) and the sub-expressions left to compile
    as functions of their own."""

    def __init__(self) -> None:
        self._ids = itertools.count()
        self._consts: dict[str, str] = {}
        self.const_lines: list[str] = []
        self.functions: list[list[Line]] = []
        self.pending: list[tuple[str, ir.Expr, Clause]] = []
        self.decoders: dict[str, str] = {}
        self.decoder_lines: list[str] = []

    def number(self) -> int:
        """A number no other name of the module has."""
        return next(self._ids)

    def name(self, prefix: str) -> str:
        return f"{prefix}{self.number()}"

    def literal(self, v: Any) -> str:
        """A constant in an expression: a literal, or the name of a module-level constant."""
        t = type(v)
        if v is None or t is bool or t is int or t is str or (t is float and math.isfinite(v)):
            return constructor(v)
        return self.constant(constructor(v))

    def constant(self, text: str) -> str:
        name = self._consts.get(text)
        if name is None:
            name = self._consts[text] = self.name("_k_")
            self.const_lines.append(f"{name} = {text}")
        return name

    def tuple_constant(self, items: tuple[ir.Expr, ...]) -> str:
        packed = packed_values(items)
        if packed is not None:
            kind, data, numbers = packed
            if kind is str:
                return self.constant(f"{self.decoder('texts')}({data!r}, {numbers!r})")
            return self.constant(f"{self.decoder('ints')}({numbers!r})")
        texts = []
        for item in items:
            assert isinstance(item, ir.Const)
            texts.append(self.literal(item.value))
        return self.constant("(" + "".join(f"{t}, " for t in texts).rstrip() + ")")

    def decoder(self, which: str) -> str:
        """The name of one of `_DECODERS` (and of those it calls), defined once when first used."""
        if not self.decoders:
            names = {k: self.name("_o_") for k in _DECODERS}
            self.decoders = names
            for k in _DECODERS:
                self.decoder_lines.extend(["", "", *_DECODERS[k].format(**names).splitlines()])
        return self.decoders[which]

    def helper(self, e: ir.Expr, clause: Clause) -> str:
        """A function `name(values)` returning the value of `e`, compiled later."""
        name = self.name("_e_")
        self.pending.append((name, e, clause))
        return name


class Body:
    """Lines of one function, indented, each tagged with its clause."""

    def __init__(self, clause: Clause | None, indent: int = 1) -> None:
        self.lines: list[Line] = []
        self.indent = indent
        self.clause = clause

    def emit(self, text: str) -> None:
        self.lines.append(("    " * self.indent + text, self.clause))

    def comment(self, text: str) -> None:
        self.emit(_safe_comment(text))

    @contextmanager
    def indented(self, header: str) -> Iterator[None]:
        """`header` (`if ...:`, `try:`), then the lines emitted inside the block one level in."""
        self.emit(header)
        self.indent += 1
        try:
            yield
        finally:
            self.indent -= 1


# ---- long lists of constants -----------------------------------------------------------------
#
# Compiling Python costs memory for every token (several hundred bytes each at its peak), and
# the IR of a constant is some thirty tokens: a list of 100,000 values took over a gigabyte.  A
# list of at least `_PACK` texts or integers of one type, from one file, is therefore packed: its
# values as one string (texts) or bytes (integers), its positions as bytes, and the module
# rebuilds the tuple of values and the `Const` nodes when it runs.  Numbers are packed 7 bits a
# byte, least significant first, the high bit set on every byte of a number but its last.

_PACK = 64

_DECODERS = {
    "numbers": """def {numbers}(t_0):
    # the numbers packed in the bytes t_0
    t_1 = []
    t_2 = t_3 = 0
    for t_4 in t_0:
        t_2 |= (t_4 & 127) << t_3
        t_3 += 7
        if t_4 < 128:
            t_1.append(t_2)
            t_2 = t_3 = 0
    return t_1""",
    "texts": """def {texts}(t_0, t_1):
    # the texts packed in the string t_0, their lengths in t_1
    t_2 = []
    t_3 = 0
    for t_4 in {numbers}(t_1):
        t_2.append(t_0[t_3 : t_3 + t_4])
        t_3 += t_4
    return (*t_2,)""",
    "ints": """def {ints}(t_0):
    # the integers packed in t_0: n >= 0 as 2n, n < 0 as -2n - 1
    return (*(-(t_1 >> 1) - 1 if t_1 & 1 else t_1 >> 1 for t_1 in {numbers}(t_0)),)""",
    "consts": """def {consts}(t_0, t_1, t_2, t_3):
    # `Const` nodes of the values t_0, of type t_1, in the file t_2; t_3 packs 4 numbers an item:
    # its line after the previous item's end line, its column (after the previous item's end
    # column on that same line), its end line after its line, and its end column (after its
    # column on that same line)
    t_4 = {numbers}(t_3)
    t_5 = []
    t_6 = t_7 = t_8 = 0
    for t_9 in t_0:
        t_10, t_11, t_12, t_13 = t_4[t_6 : t_6 + 4]
        t_14 = t_11 + (t_8 if t_10 == 0 else 0)
        t_7 += t_10
        t_8 = t_13 + (t_14 if t_12 == 0 else 0)
        t_5.append(_ir.Const(value=t_9, type=t_1, span=_S(t_2, t_7, t_14, t_7 + t_12, t_8)))
        t_7 += t_12
        t_6 += 4
    return (*t_5,)""",
}


def _varints(numbers: Iterator[int]) -> bytes:
    out = bytearray()
    for n in numbers:
        assert n >= 0
        while n >= 128:
            out.append(n & 127 | 128)
            n >>= 7
        out.append(n)
    return bytes(out)


def packed_values(items: tuple[Any, ...]) -> tuple[type, str, bytes] | None:
    """(str, the texts joined, their lengths) or (int, "", the integers) for a long list of
    constants that are all texts or all integers; None for any other list."""
    if len(items) < _PACK or not all(type(i) is ir.Const for i in items):
        return None
    values = [i.value for i in items]
    if all(type(x) is str for x in values):
        return str, "".join(values), _varints(len(x) for x in values)
    if all(type(x) is int for x in values):
        return int, "", _varints(2 * x if x >= 0 else -2 * x - 1 for x in values)
    return None


def packed_spans(items: tuple[Any, ...]) -> bytes | None:
    """The positions of a long list of `Const` nodes of one type from one file, packed as
    `_DECODERS["consts"]` reads them; None for a short list, for other nodes, or when their
    positions go backwards."""
    if len(items) < _PACK or not all(type(i) is ir.Const for i in items):
        return None
    first = items[0]
    numbers: list[int] = []
    line = column = 0
    for item in items:
        s = item.span
        if type(s) is not Span or s.file != first.span.file or item.type != first.type:
            return None
        same = s.line == line
        if s.line < line or (same and s.column < column) or s.end_line < s.line:
            return None
        if s.end_line == s.line and s.end_column < s.column:
            return None
        inline = s.end_line == s.line
        numbers += [
            s.line - line,
            s.column - (column if same else 0),
            s.end_line - s.line,
            s.end_column - (s.column if inline else 0),
        ]
        line, column = s.end_line, s.end_column
    if any(n < 0 for n in numbers):
        return None
    return _varints(iter(numbers))

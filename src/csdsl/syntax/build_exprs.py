"""lark parse tree -> AST: the base every builder part extends, and expressions and literals.

The tokens' helpers (`named`, `tail_value`, the spans from a rule's first token to its last) and the
literal values (strings, numbers, durations, dates) that every kind of item is made of; a literal
the lexer accepted but that is not a real value is turned into a diagnostic in `self.problems`.
The items themselves are built in `build_clocks`, `build_transcripts` and `build`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import attrs
from lark import Token, Transformer

from csdsl import values
from csdsl.diagnostics import Diagnostic, error
from csdsl.source import SourceFile, Span
from csdsl.syntax import ast


def unescape(token_text: str) -> str:
    """The value of a STRING token: quotes stripped, escapes (quote, backslash, n, t, uXXXX)
    resolved."""
    body = token_text[1:-1]
    if "\\" not in body:
        return body
    out: list[str] = []
    i = 0
    while i < len(body):
        ch = body[i]
        if ch == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            if nxt == "u" and i + 6 <= len(body):
                try:
                    code = int(body[i + 2 : i + 6], 16)
                except ValueError:
                    pass
                else:
                    low = _low_surrogate(body, i + 6) if 0xD800 <= code < 0xDC00 else None
                    if low is not None:  # `\ud83d\ude00`, as JSON writes characters past U+FFFF
                        out.append(chr(0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)))
                        i += 12
                        continue
                    out.append(chr(code))
                    i += 6
                    continue
            out.append({"n": "\n", "t": "\t", '"': '"', "\\": "\\"}.get(nxt, "\\" + nxt))
            i += 2
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def _low_surrogate(body: str, i: int) -> int | None:
    """The low half of a surrogate pair escaped at `body[i:]` (`\\udc00`-`\\udfff`), if any."""
    if body[i : i + 2] != "\\u" or len(body) < i + 6:
        return None
    try:
        code = int(body[i + 2 : i + 6], 16)
    except ValueError:
        return None
    return code if 0xDC00 <= code < 0xE000 else None


def lone_surrogate(text: str) -> str | None:
    """The first lone surrogate in an unescaped string (`\\ud800`), which is not a character:
    no file, terminal or database can hold it."""
    for ch in text:
        if "\ud800" <= ch <= "\udfff":
            return f"\\u{ord(ch):04x}"
    return None


# the largest number literal: every engine (Python floats, DuckDB DOUBLE, JSON readers) keeps
# whole numbers up to 2^53 - 1 exact
MAX_NUMBER = 2**53 - 1
_MAX_DIGITS = len(str(MAX_NUMBER))


# tokens that carry a value; every other token is a keyword or punctuation
_VALUE_TOKENS = frozenset(
    {
        "NAME",
        "STRING",
        "NUMBER",
        "DURATION",
        "DATE",
        "DATETIME",
        "PERCENT",
        "COMPARE",
        "ADD_OP",
        "MUL_OP",
        "OPTIONAL",
        "HOURS",
        "CLOCK",
    }
)


def named(children: list[Any]) -> list[Any]:
    """A rule's children without its keywords and punctuation (the tokens that carry no
    value)."""
    return [c for c in children if not (isinstance(c, Token) and c.type not in _VALUE_TOKENS)]


def tail_value(rest: list[Any], kind: type | tuple[type, ...] = object) -> Any:
    """The value of an optional `["keyword" X]` tail: absent, it leaves one None per item."""
    return next((x for x in rest if x is not None and isinstance(x, kind)), None)


def _positioned(x: Any) -> bool:
    return isinstance(x, Token | Span) or hasattr(x, "span")


def _start(x: Any) -> tuple[int, int]:
    if isinstance(x, Token):
        return (x.line or 1, x.column or 1)
    s = x if isinstance(x, Span) else x.span
    return (s.line, s.column)


def _end(x: Any) -> tuple[int, int]:
    if isinstance(x, Token):
        return (x.end_line or x.line or 1, x.end_column or x.column or 1)
    s = x if isinstance(x, Span) else x.span
    return (s.end_line, s.end_column)


def first_positioned(x: Any) -> Any:
    """The first token or node (with a span) in a rule's children, looking into tuples and into
    the dicts that rule bodies are built as (whose keys are not in source order)."""
    if isinstance(x, dict):
        found = [f for f in (first_positioned(v) for v in x.values()) if f is not None]
        return min(found, key=_start, default=None)
    if isinstance(x, tuple | list):
        for c in x:
            found = first_positioned(c)
            if found is not None:
                return found
        return None
    return x if _positioned(x) else None


def last_positioned(x: Any) -> Any:
    if isinstance(x, dict):
        found = [f for f in (last_positioned(v) for v in x.values()) if f is not None]
        return max(found, key=_end, default=None)
    if isinstance(x, tuple | list):
        for c in reversed(x):
            found = last_positioned(c)
            if found is not None:
                return found
        return None
    return x if _positioned(x) else None


class BuilderBase(Transformer[Token, ast.Module]):
    """Spans, tokens and literals, and the expression rules: what every item is built from."""

    def __init__(self, source: SourceFile) -> None:
        super().__init__()
        self.source = source
        self.problems: list[Diagnostic] = []

    # -- helpers ------------------------------------------------------------------------------
    def _span(self, children: list[Any]) -> Span:
        """From the first token of a rule to its last."""
        first, last = first_positioned(children), last_positioned(children)
        if first is None or last is None:
            return Span.unknown(self.source.name)
        a, b = self._where(first), self._where(last)
        return Span(self.source.name, a.line, a.column, b.end_line, b.end_column)

    def _where(self, x: Any) -> Span:
        if isinstance(x, Token):
            return self._tok_span(x)
        return x if isinstance(x, Span) else x.span

    def _tok_span(self, tok: Token) -> Span:
        return Span(
            self.source.name,
            tok.line or 1,
            tok.column or 1,
            tok.end_line or tok.line or 1,
            tok.end_column or tok.column or 1,
        )

    def _ident(self, tok: Token) -> ast.Ident:
        return ast.Ident(str(tok), self._tok_span(tok))

    def _bad(self, tok: Token, message: str, hint: str | None = None, code: str = "E103") -> None:
        self.problems.append(error(code, message, self._tok_span(tok), hint))

    def _numeric(self, tok: Token, text: str) -> int | float:
        """The value of a number's digits (`text`), or 0 after an E103 when it is too large to
        be kept exact (or at all: Python refuses to read an integer of 4,301 digits)."""
        whole = text.split(".")[0].lstrip("-").lstrip("0")
        if len(whole) <= _MAX_DIGITS:
            value: int | float = float(text) if "." in text else int(text)
            if abs(value) <= MAX_NUMBER:
                return value
        shown = text if len(text) <= 24 else f"{text[:10]}...{text[-6:]} ({len(text)} digits)"
        self._bad(
            tok,
            f"`{shown}` is too large a number",
            f"numbers are at most {MAX_NUMBER} (2^53 - 1), the largest every engine keeps exact",
        )
        return 0

    def _unescaped(self, tok: Token) -> str:
        """A STRING token's value; a lone surrogate escape in it is E116."""
        text = unescape(str(tok))
        bad = lone_surrogate(text)
        if bad is not None:
            self._bad(
                tok,
                f"`{bad}` is half of a UTF-16 surrogate pair, not a character",
                "write the character itself; a character past U+FFFF may also be written as "
                "its pair of escapes, e.g. `\\ud83d\\ude00`",
                code="E116",
            )
            text = "".join("\ufffd" if "\ud800" <= ch <= "\udfff" else ch for ch in text)
        return text

    # -- expressions --------------------------------------------------------------------------
    def or_(self, c: list[Any]) -> ast.Or:
        left, right = named(c)
        return ast.Or(left, right, span=self._span(c))

    def and_(self, c: list[Any]) -> ast.And:
        left, right = named(c)
        return ast.And(left, right, span=self._span(c))

    def not_(self, c: list[Any]) -> ast.Not:
        return ast.Not(named(c)[0], span=self._span(c))

    def compare(self, c: list[Any]) -> ast.Compare:
        left, op, right = named(c)
        return ast.Compare(str(op), left, right, span=self._span(c))  # type: ignore[arg-type]

    def is_set(self, c: list[Any]) -> ast.IsSet:
        return ast.IsSet(named(c)[0], span=self._span(c))

    def is_missing(self, c: list[Any]) -> ast.IsMissing:
        return ast.IsMissing(named(c)[0], span=self._span(c))

    def in_list(self, c: list[Any]) -> ast.InList:
        operand, items = named(c)
        return ast.InList(operand, items or (), False, span=self._span(c))

    def not_in_list(self, c: list[Any]) -> ast.InList:
        operand, items = named(c)
        return ast.InList(operand, items or (), True, span=self._span(c))

    def expr_list(self, c: list[Any]) -> tuple[Any, ...]:
        return tuple(named(c))

    def contains(self, c: list[Any]) -> ast.Contains:
        left, right = named(c)
        return ast.Contains(left, right, span=self._span(c))

    def binop(self, c: list[Any]) -> ast.BinOp:
        left, op, right = named(c)
        return ast.BinOp(str(op), left, right, span=self._span(c))  # type: ignore[arg-type]

    def neg(self, c: list[Any]) -> ast.Neg:
        return ast.Neg(named(c)[0], span=self._span(c))

    def neg_number(self, c: list[Token]) -> ast.Neg:
        return ast.Neg(self.number(named(c)), span=self._span(c))

    def neg_duration(self, c: list[Token]) -> ast.Neg:
        return ast.Neg(self.duration(named(c)), span=self._span(c))

    def atom_paren(self, c: list[Any]) -> Any:
        # the parenthesised expression itself, its span widened to take in the parentheses
        return attrs.evolve(named(c)[0], span=self._span(c))

    def name(self, c: list[Token]) -> ast.Name:
        return ast.Name(str(c[0]), span=self._tok_span(c[0]))

    def missing(self, c: list[Token]) -> ast.Missing:
        return ast.Missing(span=self._span(c))

    def number(self, c: list[Token]) -> ast.Number:
        text = str(c[0])
        value = self._numeric(c[0], text)
        return ast.Number(value, text, span=self._tok_span(c[0]))

    def percent(self, c: list[Token]) -> ast.Percent:
        text = str(c[0])
        value = self._numeric(c[0], text[:-1])
        return ast.Percent(value, text, span=self._tok_span(c[0]))

    def duration(self, c: list[Token]) -> ast.Duration:
        text = str(c[0])
        seconds = values.compact_duration_seconds(text)
        if seconds > values.MAX_SECONDS:
            self._bad(
                c[0], f"`{text}` is too long a duration", "durations are at most 999999999 days"
            )
            seconds = 0
        return ast.Duration(seconds, text, span=self._tok_span(c[0]))

    def _date(self, tok: Token) -> dt.date | None:
        try:
            return values.parse_date(str(tok))
        except ValueError:
            self._bad(tok, f"`{tok}` is not a real date", "write dates as YYYY-MM-DD")
            return None

    def date(self, c: list[Token]) -> ast.DateLit:
        value = self._date(c[0]) or dt.date(1970, 1, 1)
        return ast.DateLit(value, span=self._tok_span(c[0]))

    def datetime(self, c: list[Token]) -> ast.DateTimeLit:
        text = str(c[0])
        try:
            value = dt.datetime.fromisoformat(text)
        except ValueError:
            self._bad(
                c[0],
                f"`{text}` is not a real date and time",
                "write datetimes as YYYY-MM-DDTHH:MM[:SS][+08:00]",
            )
            value = dt.datetime(1970, 1, 1)
        return ast.DateTimeLit(value, text, span=self._tok_span(c[0]))

    def string(self, c: list[Token]) -> ast.String:
        return ast.String(self._unescaped(c[0]), span=self._tok_span(c[0]))

    def true(self, c: list[Token]) -> ast.Bool:
        return ast.Bool(True, span=self._span(c))

    def false(self, c: list[Token]) -> ast.Bool:
        return ast.Bool(False, span=self._span(c))

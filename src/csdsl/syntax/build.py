"""lark parse tree -> AST.

In: the tree of one file and its `SourceFile`.  Out: an `ast.Module`.  One method per grammar rule,
named after it; it only builds nodes.  Literal text that the lexer accepted but that is not a real
value (a 13th month, say) is turned into a diagnostic, collected in `self.problems`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from lark import Token, Transformer, v_args
from lark.tree import Meta

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
                    out.append(chr(int(body[i + 2 : i + 6], 16)))
                    i += 6
                    continue
                except ValueError:
                    pass
            out.append({"n": "\n", "t": "\t", '"': '"', "\\": "\\"}.get(nxt, "\\" + nxt))
            i += 2
        else:
            out.append(ch)
            i += 1
    return "".join(out)


class Builder(Transformer[Token, ast.Module]):
    def __init__(self, source: SourceFile) -> None:
        super().__init__()
        self.source = source
        self.problems: list[Diagnostic] = []

    # -- helpers ------------------------------------------------------------------------------
    def _span(self, meta: Meta) -> Span:
        if getattr(meta, "empty", True):
            return Span.unknown(self.source.name)
        return Span(self.source.name, meta.line, meta.column, meta.end_line, meta.end_column)

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

    # -- header and items -------------------------------------------------------------------
    @v_args(meta=True)
    def start(self, meta: Meta, children: list[Any]) -> ast.Module:
        header = children[0] if children and isinstance(children[0], ast.Header) else None
        items = tuple(children[1:] if header is not None else children)
        return ast.Module(header, items, span=self._span(meta))

    @v_args(meta=True)
    def header(self, meta: Meta, children: list[Any]) -> ast.Header:
        name = unescape(children[0])
        opts: dict[str, tuple[Any, Token]] = {}
        for key, value, tok in children[1:]:
            if key in opts:
                self._bad(
                    tok, f"`{key}` is given twice in the header", f"keep one `{key}`", code="E115"
                )
            else:
                opts[key] = (value, tok)
        tz = opts.get("timezone")
        return ast.Header(
            name,
            opts.get("version", (None,))[0],
            opts.get("effective", (None,))[0],
            tz[0] if tz else None,
            span=self._span(meta),
            timezone_span=self._tok_span(tz[1]) if tz else Span.unknown(),
        )

    def h_version(self, children: list[Token]) -> tuple[str, str, Token]:
        return ("version", unescape(children[0]), children[0])

    def h_effective(self, children: list[Token]) -> tuple[str, dt.date | None, Token]:
        return ("effective", self._date(children[0]), children[0])

    def h_timezone(self, children: list[Token]) -> tuple[str, str, Token]:
        return ("timezone", unescape(children[0]), children[0])

    @v_args(meta=True)
    def import_stmt(self, meta: Meta, children: list[Token]) -> ast.Import:
        return ast.Import(unescape(children[0]), span=self._span(meta))

    @v_args(meta=True)
    def record_decl(self, meta: Meta, children: list[Any]) -> ast.RecordDecl:
        return ast.RecordDecl(self._ident(children[0]), tuple(children[1:]), span=self._span(meta))

    @v_args(meta=True)
    def field_decl(self, meta: Meta, children: list[Any]) -> ast.FieldDecl:
        return ast.FieldDecl(
            self._ident(children[0]), children[1], children[2] is not None, span=self._span(meta)
        )

    def simple_type(self, children: list[Token]) -> ast.SimpleType:
        return ast.SimpleType(self._ident(children[0]))

    def enum_type(self, children: list[Any]) -> ast.EnumType:
        return ast.EnumType(children[0])

    def name_list(self, children: list[Token]) -> tuple[ast.Ident, ...]:
        return tuple(self._ident(t) for t in children)

    @v_args(meta=True)
    def validity(self, meta: Meta, children: list[Any]) -> ast.Validity:
        record, quant, *rest = children
        unless = rest.pop()
        exceptions, unless_span = unless if unless is not None else (None, Span.unknown())
        return ast.Validity(
            self._ident(record),
            quant,
            tuple(rest),
            exceptions,
            span=self._span(meta),
            unless_span=unless_span,
        )

    def any_(self, children: list[Token]) -> str:
        return "any"

    def all_(self, children: list[Token]) -> str:
        return "all"

    def valid_(self, children: list[Token]) -> bool:
        return True

    def invalid_(self, children: list[Token]) -> bool:
        return False

    @v_args(meta=True)
    def unless_block(
        self, meta: Meta, children: list[ast.Condition]
    ) -> tuple[tuple[ast.Condition, ...], Span]:
        return tuple(children), self._span(meta)

    @v_args(meta=True)
    def condition(self, meta: Meta, children: list[Any]) -> ast.Condition:
        ident, wording, expr = children
        return ast.Condition(
            self._ident(ident), unescape(wording) if wording else None, expr, span=self._span(meta)
        )

    @v_args(meta=True)
    def example(self, meta: Meta, children: list[Any]) -> ast.Example:
        ident, title, given, expect = children
        given_name, base, fields, given_span = given
        verdict, because, expect_span = expect
        return ast.Example(
            self._ident(ident) if ident is not None else None,
            unescape(title),
            given_name,
            base,
            fields,
            verdict,
            because,
            span=self._span(meta),
            given_span=given_span,
            expect_span=expect_span,
        )

    @v_args(meta=True)
    def given_record(
        self, meta: Meta, children: list[Any]
    ) -> tuple[ast.Ident, bool, tuple[Any, ...], Span]:
        return (self._ident(children[0]), False, children[1], self._span(meta))

    @v_args(meta=True)
    def given_base(
        self, meta: Meta, children: list[Any]
    ) -> tuple[ast.Ident, bool, tuple[Any, ...], Span]:
        return (self._ident(children[0]), True, children[1], self._span(meta))

    def record_lit(self, children: list[ast.FieldValue]) -> tuple[ast.FieldValue, ...]:
        return tuple(children)

    @v_args(meta=True)
    def field_value(self, meta: Meta, children: list[Any]) -> ast.FieldValue:
        return ast.FieldValue(self._ident(children[0]), children[1], span=self._span(meta))

    @v_args(meta=True)
    def expect(
        self, meta: Meta, children: list[Any]
    ) -> tuple[bool, tuple[ast.Ident, ...] | None, Span]:
        return (children[0], children[1], self._span(meta))

    # -- expressions --------------------------------------------------------------------------
    @v_args(meta=True)
    def or_(self, meta: Meta, c: list[Any]) -> ast.Or:
        return ast.Or(c[0], c[1], span=self._span(meta))

    @v_args(meta=True)
    def and_(self, meta: Meta, c: list[Any]) -> ast.And:
        return ast.And(c[0], c[1], span=self._span(meta))

    @v_args(meta=True)
    def not_(self, meta: Meta, c: list[Any]) -> ast.Not:
        return ast.Not(c[0], span=self._span(meta))

    @v_args(meta=True)
    def compare(self, meta: Meta, c: list[Any]) -> ast.Compare:
        return ast.Compare(str(c[1]), c[0], c[2], span=self._span(meta))  # type: ignore[arg-type]

    @v_args(meta=True)
    def is_set(self, meta: Meta, c: list[Any]) -> ast.IsSet:
        return ast.IsSet(c[0], span=self._span(meta))

    @v_args(meta=True)
    def is_missing(self, meta: Meta, c: list[Any]) -> ast.IsMissing:
        return ast.IsMissing(c[0], span=self._span(meta))

    @v_args(meta=True)
    def in_list(self, meta: Meta, c: list[Any]) -> ast.InList:
        return ast.InList(c[0], c[1] or (), False, span=self._span(meta))

    @v_args(meta=True)
    def not_in_list(self, meta: Meta, c: list[Any]) -> ast.InList:
        return ast.InList(c[0], c[1] or (), True, span=self._span(meta))

    def expr_list(self, c: list[Any]) -> tuple[Any, ...]:
        return tuple(c)

    @v_args(meta=True)
    def contains(self, meta: Meta, c: list[Any]) -> ast.Contains:
        return ast.Contains(c[0], c[1], span=self._span(meta))

    @v_args(meta=True)
    def binop(self, meta: Meta, c: list[Any]) -> ast.BinOp:
        return ast.BinOp(str(c[1]), c[0], c[2], span=self._span(meta))  # type: ignore[arg-type]

    @v_args(meta=True)
    def neg(self, meta: Meta, c: list[Any]) -> ast.Neg:
        return ast.Neg(c[0], span=self._span(meta))

    @v_args(meta=True)
    def neg_number(self, meta: Meta, c: list[Token]) -> ast.Neg:
        return ast.Neg(self.number(c), span=self._span(meta))

    @v_args(meta=True)
    def neg_duration(self, meta: Meta, c: list[Token]) -> ast.Neg:
        return ast.Neg(self.duration(c), span=self._span(meta))

    def name(self, c: list[Token]) -> ast.Name:
        return ast.Name(str(c[0]), span=self._tok_span(c[0]))

    @v_args(meta=True)
    def missing(self, meta: Meta, c: list[Token]) -> ast.Missing:
        return ast.Missing(span=self._span(meta))

    def number(self, c: list[Token]) -> ast.Number:
        text = str(c[0])
        value: int | float = float(text) if "." in text else int(text)
        return ast.Number(value, text, span=self._tok_span(c[0]))

    def percent(self, c: list[Token]) -> ast.Percent:
        text = str(c[0])
        body = text[:-1]
        value: int | float = float(body) if "." in body else int(body)
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
        return ast.String(unescape(str(c[0])), span=self._tok_span(c[0]))

    @v_args(meta=True)
    def true(self, meta: Meta, c: list[Token]) -> ast.Bool:
        return ast.Bool(True, span=self._span(meta))

    @v_args(meta=True)
    def false(self, meta: Meta, c: list[Token]) -> ast.Bool:
        return ast.Bool(False, span=self._span(meta))

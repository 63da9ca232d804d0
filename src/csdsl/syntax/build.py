"""lark parse tree -> AST.

In: the tree of one file and its `SourceFile`.  Out: an `ast.Module`.  One method per grammar rule,
named after it; it only builds nodes.  Literal text that the lexer accepted but that is not a real
value (a 13th month, say) is turned into a diagnostic, collected in `self.problems`.

The parser keeps every token (`keep_all_tokens`) instead of propagating positions, which is
twice as fast: a node's span runs from its first token to its last, keywords and braces
included, and `named` then drops the keywords and punctuation before the node is built.

`Builder` builds the header, records, examples, metrics, invariants and record-level rules; its
parts build the rest: `build_exprs` (the base: spans, literals, expressions), `build_clocks`
(calendars, deadlines, escalations) and `build_transcripts` (phrase sets, citations, transcript
rules).  The parts import only `build_exprs`, never this module.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from lark import Token

from csdsl.diagnostics import error
from csdsl.source import Span
from csdsl.syntax import ast
from csdsl.syntax.build_clocks import ClockBuilder
from csdsl.syntax.build_exprs import named, tail_value
from csdsl.syntax.build_transcripts import TranscriptBuilder

# the string and number helpers stay importable from here, where they were defined
__all__ = ["Builder"]


class Builder(TranscriptBuilder, ClockBuilder):
    """One file's parse tree -> `ast.Module`; `problems` collects the literals that are not real
    values."""

    # -- header and items -------------------------------------------------------------------
    def start(self, c: list[Any]) -> ast.Module:
        header = c[0] if c and isinstance(c[0], ast.Header) else None
        items = tuple(c[1:] if header is not None else c)
        return ast.Module(header, items, span=self._span(c))

    def header(self, c: list[Any]) -> ast.Header:
        span = self._span(c)
        name, *options = named(c)
        opts: dict[str, tuple[Any, Token]] = {}
        for key, value, tok in options:
            if key in opts:
                self._bad(
                    tok, f"`{key}` is given twice in the header", f"keep one `{key}`", code="E115"
                )
            else:
                opts[key] = (value, tok)
        tz = opts.get("timezone")
        return ast.Header(
            self._unescaped(name),
            opts.get("version", (None,))[0],
            opts.get("effective", (None,))[0],
            tz[0] if tz else None,
            span=span,
            timezone_span=self._tok_span(tz[1]) if tz else Span.unknown(),
        )

    def h_version(self, c: list[Token]) -> tuple[str, str, Token]:
        return ("version", self._unescaped(c[1]), c[1])

    def h_effective(self, c: list[Token]) -> tuple[str, dt.date | None, Token]:
        return ("effective", self._date(c[1]), c[1])

    def h_timezone(self, c: list[Token]) -> tuple[str, str, Token]:
        return ("timezone", self._unescaped(c[1]), c[1])

    def import_stmt(self, c: list[Token]) -> ast.Import:
        return ast.Import(self._unescaped(c[1]), span=self._span(c))

    def include_stmt(self, c: list[Token]) -> ast.Import:
        return ast.Import(self._unescaped(c[1]), span=self._span(c), include=True)

    def record_decl(self, c: list[Any]) -> ast.RecordDecl:
        name, *fields = named(c)
        return ast.RecordDecl(self._ident(name), tuple(fields), span=self._span(c))

    def field_decl(self, c: list[Any]) -> ast.FieldDecl:
        name, type_ref, optional = named(c)
        return ast.FieldDecl(self._ident(name), type_ref, optional is not None, span=self._span(c))

    def simple_type(self, c: list[Token]) -> ast.SimpleType:
        return ast.SimpleType(self._ident(c[0]), span=self._span(c))

    def enum_type(self, c: list[Any]) -> ast.EnumType:
        return ast.EnumType(named(c)[0], span=self._span(c))

    def name_list(self, c: list[Token]) -> tuple[ast.Ident, ...]:
        return tuple(self._ident(t) for t in named(c))

    def validity(self, c: list[Any]) -> ast.Validity:
        record, quant, *rest = named(c)
        unless = rest.pop()
        exceptions, unless_span = unless if unless is not None else (None, Span.unknown())
        return ast.Validity(
            self._ident(record),
            quant[0],
            tuple(rest),
            exceptions,
            span=self._span(c),
            unless_span=unless_span,
        )

    # keyword alternatives: the value, and the token for the span
    def any_(self, c: list[Token]) -> tuple[str, Token]:
        return ("any", c[0])

    def all_(self, c: list[Token]) -> tuple[str, Token]:
        return ("all", c[0])

    def valid_(self, c: list[Token]) -> tuple[bool, Token]:
        return (True, c[0])

    def invalid_(self, c: list[Token]) -> tuple[bool, Token]:
        return (False, c[0])

    def unless_block(self, c: list[Any]) -> tuple[tuple[ast.Condition, ...], Span]:
        return tuple(named(c)), self._span(c)

    def condition(self, c: list[Any]) -> ast.Condition:
        ident, wording, expr = named(c)
        return ast.Condition(
            self._ident(ident),
            self._unescaped(wording) if wording else None,
            expr,
            span=self._span(c),
        )

    def example(self, c: list[Any]) -> ast.Example:
        ident, title, given, *rest = named(c)
        given_name, base, fields, given_span = given
        more = []
        while rest and isinstance(rest[0], tuple) and len(rest[0]) == 4:
            g_name, g_base, g_fields, g_span = rest.pop(0)
            more.append(ast.ExGiven(g_name, g_base, g_fields, span=g_span))
        events, *expectations = rest
        verdicts = [e for e in expectations if not isinstance(e, ast.ExpectClock)]
        clocks = tuple(e for e in expectations if isinstance(e, ast.ExpectClock))
        if len(verdicts) > 1:
            self.problems.append(
                error(
                    "E116",
                    "an example expects a verdict twice",
                    verdicts[1][2],
                    "keep one `expect valid|invalid` line",
                )
            )
        verdict, because, expect_span = verdicts[0] if verdicts else (None, None, Span.unknown())
        evs, events_span = events if events is not None else ((), Span.unknown())
        return ast.Example(
            self._ident(ident) if ident is not None else None,
            self._unescaped(title),
            given_name,
            base,
            fields,
            verdict,
            because,
            evs,
            clocks,
            span=self._span(c),
            given_span=given_span,
            expect_span=expect_span,
            events_span=events_span,
            more=tuple(more),
        )

    def events(self, c: list[Any]) -> tuple[tuple[ast.ExEvent, ...], Span]:
        return tuple(named(c)), self._span(c)

    def event_item(self, c: list[Any]) -> ast.ExEvent:
        name, when, *rest = named(c)
        role = tail_value(rest)
        return ast.ExEvent(
            self._ident(name),
            self.datetime([when]),
            self._ident(role) if role else None,
            span=self._span(c),
        )

    def expect_clock(self, c: list[Any]) -> ast.ExpectClock:
        clock, *rest = named(c)
        values = [x for x in rest if x is not None]
        cycle = next((int(self._numeric(x, str(x))) for x in values if x.type == "NUMBER"), None)
        names = [x for x in values if x.type == "NAME"]
        due = next((self.datetime([x]) for x in values if x.type == "DATETIME"), None)
        return ast.ExpectClock(
            self._ident(clock), self._ident(names[0]), False, cycle, due, span=self._span(c)
        )

    def expect_escalation(self, c: list[Any]) -> ast.ExpectClock:
        role, status = named(c)
        return ast.ExpectClock(self._ident(role), self._ident(status), True, span=self._span(c))

    def given_record(self, c: list[Any]) -> tuple[ast.Ident, bool, tuple[Any, ...], Span]:
        name, (fields, _) = named(c)
        return (self._ident(name), False, fields, self._span(c))

    def given_base(self, c: list[Any]) -> tuple[ast.Ident, bool, tuple[Any, ...], Span]:
        name, (fields, _) = named(c)
        return (self._ident(name), True, fields, self._span(c))

    def record_lit(self, c: list[Any]) -> tuple[tuple[ast.FieldValue, ...], Token]:
        # the closing brace travels along: the `given` clause's span ends there
        return tuple(named(c)), c[-1]

    def field_value(self, c: list[Any]) -> ast.FieldValue:
        name, value = named(c)
        return ast.FieldValue(self._ident(name), value, span=self._span(c))

    def expect(self, c: list[Any]) -> tuple[bool, tuple[ast.Ident, ...] | None, Span]:
        (verdict, _), *rest = named(c)
        because = next((x for x in rest if x is not None), None)
        return (verdict, because, self._span(c))

    # -- metrics ------------------------------------------------------------------------------
    def metric_decl(self, c: list[Any]) -> ast.MetricDecl:
        name, wording, expr, *groups = named(c)
        return ast.MetricDecl(
            self._ident(name),
            self._unescaped(wording) if wording else None,
            expr,
            tuple(g for g in groups if g is not None),
            span=self._span(c),
        )

    # -- invariants ---------------------------------------------------------------------------
    def invariant_decl(self, c: list[Any]) -> ast.InvariantDecl:
        ident, wording, *rest, expr = named(c)
        record = tail_value(rest)
        return ast.InvariantDecl(
            self._ident(ident) if ident is not None else None,
            self._unescaped(wording),
            self._ident(record) if record is not None else None,
            expr,
            span=self._span(c),
        )

    def valid_ref(self, c: list[Token]) -> ast.Name:
        return ast.Name("valid", span=self._span(c))

    def group_period(self, c: list[Any]) -> ast.Group:
        period, field = named(c)
        return ast.Group(self._ident(field), self._ident(period), span=self._span(c))

    def group_field(self, c: list[Any]) -> ast.Group:
        return ast.Group(self._ident(named(c)[0]), span=self._span(c))

    def call(self, c: list[Any]) -> ast.Call:
        func, *rest = named(c)
        parts = [x for x in rest if x is not None]
        arg = next((x for x in parts if isinstance(x, Token) and x.type == "NUMBER"), None)
        names = [x for x in parts if isinstance(x, Token) and x.type == "NAME"]
        where = next((x for x in parts if not isinstance(x, Token)), None)
        return ast.Call(
            self._ident(func),
            self._ident(names[0]),
            self._ident(names[1]) if len(names) > 1 else None,
            where,
            self.number([arg]) if arg is not None else None,
            span=self._span(c),
        )

    def call_nested(self, c: list[Any]) -> ast.Call:
        func, inner, arg = named(c)
        return ast.Call(
            self._ident(func), self._ident(arg), span=self._span(c), inner=self._ident(inner)
        )

    # -- record-level rules -------------------------------------------------------------------
    def rule_decl(self, c: list[Any]) -> ast.RuleDecl:
        name, wording, record, *stmts = named(c)
        return ast.RuleDecl(
            self._ident(name),
            self._unescaped(wording) if wording else None,
            self._ident(record),
            tuple(stmts),
            span=self._span(c),
        )

    def ru_when(self, c: list[Any]) -> ast.RuWhen:
        (expr,) = named(c)
        return ast.RuWhen(expr, span=self._span(c))

    def ru_require(self, c: list[Any]) -> ast.RuRequire:
        (expr,) = named(c)
        return ast.RuRequire(expr, span=self._span(c))

    def ru_per(self, c: list[Any]) -> ast.RuPer:
        count, event, period, *rest = named(c)
        start, end = rest[-2:]
        hours = next((t for t in rest[:-2] if isinstance(t, Token) and t.type == "HOURS"), None)
        return ast.RuPer(
            self.number([count]),
            self._ident(event),
            self._ident(period),
            str(hours) if hours is not None else None,
            start,
            end,
            span=self._span(c),
        )

    def ru_severity(self, c: list[Any]) -> ast.RuSeverity:
        (level,) = named(c)
        return ast.RuSeverity(self._ident(level), span=self._span(c))

    def ru_points(self, c: list[Any]) -> ast.RuPoints:
        (points,) = named(c)
        return ast.RuPoints(self.number([points]), span=self._span(c))

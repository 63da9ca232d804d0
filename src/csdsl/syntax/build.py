"""lark parse tree -> AST.

In: the tree of one file and its `SourceFile`.  Out: an `ast.Module`.  One method per grammar rule,
named after it; it only builds nodes.  Literal text that the lexer accepted but that is not a real
value (a 13th month, say) is turned into a diagnostic, collected in `self.problems`.

The parser keeps every token (`keep_all_tokens`) instead of propagating positions, which is
twice as fast: a node's span runs from its first token to its last, keywords and braces
included, and `_named` then drops the keywords and punctuation before the node is built.
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


def _named(children: list[Any]) -> list[Any]:
    return [c for c in children if not (isinstance(c, Token) and c.type not in _VALUE_TOKENS)]


def _given(rest: list[Any], kind: type | tuple[type, ...] = object) -> Any:
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


def _first(x: Any) -> Any:
    """The first token or node (with a span) in a rule's children, looking into tuples and into
    the dicts that rule bodies are built as (whose keys are not in source order)."""
    if isinstance(x, dict):
        found = [f for f in (_first(v) for v in x.values()) if f is not None]
        return min(found, key=_start, default=None)
    if isinstance(x, tuple | list):
        for c in x:
            found = _first(c)
            if found is not None:
                return found
        return None
    return x if _positioned(x) else None


def _last(x: Any) -> Any:
    if isinstance(x, dict):
        found = [f for f in (_last(v) for v in x.values()) if f is not None]
        return max(found, key=_end, default=None)
    if isinstance(x, tuple | list):
        for c in reversed(x):
            found = _last(c)
            if found is not None:
                return found
        return None
    return x if _positioned(x) else None


class Builder(Transformer[Token, ast.Module]):
    def __init__(self, source: SourceFile) -> None:
        super().__init__()
        self.source = source
        self.problems: list[Diagnostic] = []

    # -- helpers ------------------------------------------------------------------------------
    def _span(self, children: list[Any]) -> Span:
        """From the first token of a rule to its last."""
        first, last = _first(children), _last(children)
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

    # -- header and items -------------------------------------------------------------------
    def start(self, c: list[Any]) -> ast.Module:
        header = c[0] if c and isinstance(c[0], ast.Header) else None
        items = tuple(c[1:] if header is not None else c)
        return ast.Module(header, items, span=self._span(c))

    def header(self, c: list[Any]) -> ast.Header:
        span = self._span(c)
        name, *options = _named(c)
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
        name, *fields = _named(c)
        return ast.RecordDecl(self._ident(name), tuple(fields), span=self._span(c))

    def field_decl(self, c: list[Any]) -> ast.FieldDecl:
        name, type_ref, optional = _named(c)
        return ast.FieldDecl(self._ident(name), type_ref, optional is not None, span=self._span(c))

    def simple_type(self, c: list[Token]) -> ast.SimpleType:
        return ast.SimpleType(self._ident(c[0]), span=self._span(c))

    def enum_type(self, c: list[Any]) -> ast.EnumType:
        return ast.EnumType(_named(c)[0], span=self._span(c))

    def name_list(self, c: list[Token]) -> tuple[ast.Ident, ...]:
        return tuple(self._ident(t) for t in _named(c))

    def validity(self, c: list[Any]) -> ast.Validity:
        record, quant, *rest = _named(c)
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
        return tuple(_named(c)), self._span(c)

    def condition(self, c: list[Any]) -> ast.Condition:
        ident, wording, expr = _named(c)
        return ast.Condition(
            self._ident(ident),
            self._unescaped(wording) if wording else None,
            expr,
            span=self._span(c),
        )

    def example(self, c: list[Any]) -> ast.Example:
        ident, title, given, *rest = _named(c)
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
        return tuple(_named(c)), self._span(c)

    def event_item(self, c: list[Any]) -> ast.ExEvent:
        name, when, *rest = _named(c)
        role = _given(rest)
        return ast.ExEvent(
            self._ident(name),
            self.datetime([when]),
            self._ident(role) if role else None,
            span=self._span(c),
        )

    def expect_clock(self, c: list[Any]) -> ast.ExpectClock:
        clock, *rest = _named(c)
        values = [x for x in rest if x is not None]
        cycle = next((int(self._numeric(x, str(x))) for x in values if x.type == "NUMBER"), None)
        names = [x for x in values if x.type == "NAME"]
        due = next((self.datetime([x]) for x in values if x.type == "DATETIME"), None)
        return ast.ExpectClock(
            self._ident(clock), self._ident(names[0]), False, cycle, due, span=self._span(c)
        )

    def expect_escalation(self, c: list[Any]) -> ast.ExpectClock:
        role, status = _named(c)
        return ast.ExpectClock(self._ident(role), self._ident(status), True, span=self._span(c))

    def given_record(self, c: list[Any]) -> tuple[ast.Ident, bool, tuple[Any, ...], Span]:
        name, (fields, _) = _named(c)
        return (self._ident(name), False, fields, self._span(c))

    def given_base(self, c: list[Any]) -> tuple[ast.Ident, bool, tuple[Any, ...], Span]:
        name, (fields, _) = _named(c)
        return (self._ident(name), True, fields, self._span(c))

    def record_lit(self, c: list[Any]) -> tuple[tuple[ast.FieldValue, ...], Token]:
        # the closing brace travels along: the `given` clause's span ends there
        return tuple(_named(c)), c[-1]

    def field_value(self, c: list[Any]) -> ast.FieldValue:
        name, value = _named(c)
        return ast.FieldValue(self._ident(name), value, span=self._span(c))

    def expect(self, c: list[Any]) -> tuple[bool, tuple[ast.Ident, ...] | None, Span]:
        (verdict, _), *rest = _named(c)
        because = next((x for x in rest if x is not None), None)
        return (verdict, because, self._span(c))

    # -- phrase sets --------------------------------------------------------------------------
    def phrases_decl(self, c: list[Any]) -> ast.PhrasesDecl:
        name, *items = _named(c)
        return ast.PhrasesDecl(
            self._ident(name), tuple(self.string([t]) for t in items), span=self._span(c)
        )

    # -- citations ----------------------------------------------------------------------------
    def cites_decl(self, c: list[Any]) -> ast.CitesDecl:
        return ast.CitesDecl(tuple(_named(c)), span=self._span(c))

    def cite_item(self, c: list[Any]) -> ast.CiteItem:
        clause, *refs = _named(c)
        return ast.CiteItem(clause, tuple(self.string([t]) for t in refs), span=self._span(c))

    # -- transcript rules ---------------------------------------------------------------------
    def transcript_decl(self, c: list[Any]) -> ast.TranscriptRules:
        return ast.TranscriptRules(tuple(_named(c)), span=self._span(c))

    def tr_normalise(self, c: list[Any]) -> ast.TrNormalise:
        return ast.TrNormalise(tuple(self._ident(t) for t in _named(c)), span=self._span(c))

    def tr_score(self, c: list[Any]) -> ast.TrScore:
        return ast.TrScore(self.number(_named(c)), span=self._span(c))

    def tr_confidence(self, c: list[Any]) -> ast.TrConfidence:
        return ast.TrConfidence(self.number(_named(c)[-1:]), span=self._span(c))

    def tr_situation(self, c: list[Any]) -> ast.Situation:
        name, wording, *rest = _named(c)
        when = _given(rest[:2], list) or []
        trigger = when[0] if when else None
        unless = _given(rest[:4], tuple) or ()
        rules = [r for r in rest if isinstance(r, ast.TrRule)]
        brace = next(i for i, t in enumerate(c) if isinstance(t, Token) and t == "{")
        return ast.Situation(
            self._ident(name),
            self._unescaped(wording) if wording else None,
            trigger,
            unless,
            tuple(rules),
            span=self._span(c),
            head_span=self._span(c[: brace + 1]),
            also=tuple(when[1:]),
        )

    def tr_when(self, c: list[Any]) -> list[ast.Trigger]:
        return [t for t in _named(c) if isinstance(t, ast.Trigger)]

    def tr_rule(self, c: list[Any]) -> ast.TrRule:
        name, wording, body, *opts = _named(c)
        fields = dict(body)
        for key, value in (o for o in opts if o is not None):
            fields[key] = value
        return ast.TrRule(
            self._ident(name),
            self._unescaped(wording) if wording else None,
            span=self._span(c),
            **fields,
        )

    def r_severity(self, c: list[Any]) -> tuple[str, ast.Ident]:
        return ("severity", self._ident(_named(c)[0]))

    def r_points(self, c: list[Any]) -> tuple[str, ast.Number]:
        return ("points", self.number(_named(c)))

    def r_require(self, c: list[Any]) -> dict[str, Any]:
        phrases, position = _named(c)
        return {"kind": "require", "phrases": phrases, "position": position}

    def _refs(self, c: list[Any]) -> tuple[list[ast.PhraseRef], ast.Ident | None]:
        parts = [x for x in _named(c) if x is not None]
        refs = [x for x in parts if isinstance(x, ast.PhraseRef)]
        scope = next((x for x in parts if isinstance(x, ast.Ident)), None)
        return refs, scope

    def r_forbid(self, c: list[Any]) -> dict[str, Any]:
        refs, scope = self._refs(c)
        except_ = refs[1] if len(refs) > 1 else None
        return {"kind": "forbid", "phrases": refs[0], "scope": scope, "except_": except_}

    def r_prefer(self, c: list[Any]) -> dict[str, Any]:
        refs, scope = self._refs(c)
        except_ = refs[2] if len(refs) > 2 else None
        return {
            "kind": "prefer",
            "phrases": refs[0],
            "other": refs[1],
            "scope": scope,
            "except_": except_,
        }

    def scope(self, c: list[Any]) -> ast.Ident:
        return self._ident(_named(c)[0])

    def r_hold(self, c: list[Any]) -> dict[str, Any]:
        duration, *rest = _named(c)
        role = _given(rest, Token)
        return {
            "kind": "hold",
            "duration": self.duration([duration]),
            "unless_role": self._ident(role) if role is not None else None,
            "other": _given(rest, ast.PhraseRef),
        }

    def r_checkin(self, c: list[Any]) -> dict[str, Any]:
        return {"kind": "checkin", "duration": self.duration(_named(c))}

    def r_call(self, c: list[Any]) -> dict[str, Any]:
        return {"kind": "call", "duration": self.duration(_named(c))}

    def r_interrupt(self, c: list[Any]) -> dict[str, Any]:
        given = [t for t in _named(c) if t is not None]
        return {"kind": "interrupt", "duration": self.duration(given) if given else None}

    def r_sentiment(self, c: list[Any]) -> dict[str, Any]:
        role, value, *rest = [x for x in _named(c) if x is not None]
        count = next((x for x in rest if x.type == "NUMBER"), None)
        return {
            "kind": "sentiment",
            "scope": self._ident(role),
            "sentiment": self._ident(value),
            "negated": any(isinstance(t, Token) and t.type == "NOT" for t in c),
            "count": self.number([count]) if count is not None else None,
        }

    def r_interruptions(self, c: list[Any]) -> dict[str, Any]:
        role, *rest = [x for x in _named(c) if x is not None]
        over = rest[0] if rest else None
        return {
            "kind": "interruptions",
            "scope": self._ident(role),
            "count": self.number([over]) if over is not None and over.type == "NUMBER" else None,
            "duration": self.duration([over])
            if over is not None and over.type == "DURATION"
            else None,
        }

    def r_rate(self, c: list[Any]) -> dict[str, Any]:
        low, high = _named(c)
        return {"kind": "rate", "low": self.number([low]), "high": self.number([high])}

    def r_steps(self, c: list[Any]) -> dict[str, Any]:
        return {"kind": "steps", "steps": tuple(_named(c))}

    def step_say(self, c: list[Any]) -> ast.Step:
        return ast.Step("say", phrases=_named(c)[0], span=self._span(c))

    def step_wait(self, c: list[Any]) -> ast.Step:
        return ast.Step("wait", wait=self.duration(_named(c)), span=self._span(c))

    def step_event(self, c: list[Any]) -> ast.Step:
        return ast.Step("event", event=self._ident(_named(c)[0]), span=self._span(c))

    def set_ref(self, c: list[Any]) -> ast.PhraseRef:
        return ast.PhraseRef(self._ident(c[0]), span=self._span(c))

    def phrase_one(self, c: list[Any]) -> ast.PhraseRef:
        return ast.PhraseRef(None, (self.string(c),), span=self._span(c))

    def phrase_list(self, c: list[Any]) -> ast.PhraseRef:
        items = tuple(self.string([t]) for t in _named(c))
        return ast.PhraseRef(None, items, True, span=self._span(c))

    def _position(self, kind: str, c: list[Any]) -> ast.Position:
        parts = [x for x in _named(c) if x is not None]
        count = next((x for x in parts if isinstance(x, Token) and x.type == "NUMBER"), None)
        role = next((x for x in parts if isinstance(x, Token) and x.type == "NAME"), None)
        return ast.Position(
            kind,  # type: ignore[arg-type]
            self._ident(role) if role is not None else None,
            self.number([count]) if count is not None else None,
            _given(parts, ast.Trigger),
            span=self._span(c),
        )

    def pos_first(self, c: list[Any]) -> ast.Position:
        return self._position("first", c)

    def pos_last(self, c: list[Any]) -> ast.Position:
        return self._position("last", c)

    def pos_any(self, c: list[Any]) -> ast.Position:
        return self._position("any", c)

    def pos_after(self, c: list[Any]) -> ast.Position:
        return self._position("after", c)

    def pos_before(self, c: list[Any]) -> ast.Position:
        return self._position("before", c)

    def pos_before_hold(self, c: list[Any]) -> ast.Position:
        return self._position("before_hold", c)

    def pos_after_hold(self, c: list[Any]) -> ast.Position:
        return self._position("after_hold", c)

    def the_trigger(self, c: list[Any]) -> ast.Trigger:
        return ast.Trigger("trigger", span=self._span(c))

    def trig_says(self, c: list[Any]) -> ast.Trigger:
        role, phrases = _named(c)
        return ast.Trigger("says", self._ident(role), phrases, span=self._span(c))

    def trig_event(self, c: list[Any]) -> ast.Trigger:
        return ast.Trigger("event", event=self._ident(_named(c)[0]), span=self._span(c))

    def trig_silent(self, c: list[Any]) -> ast.Trigger:
        return ast.Trigger("silent", self._ident(_named(c)[0]), span=self._span(c))

    def trig_call(self, c: list[Any]) -> ast.Trigger:
        return ast.Trigger("call", self._ident(_named(c)[0]), span=self._span(c))

    def tr_example(self, c: list[Any]) -> ast.TranscriptExample:
        ident, title, (turns, turns_span, direction), *expects = _named(c)
        return ast.TranscriptExample(
            self._ident(ident) if ident is not None else None,
            self._unescaped(title),
            turns,
            tuple(expects),
            span=self._span(c),
            turns_span=turns_span,
            direction=direction,
        )

    def transcript_lit(
        self, c: list[Any]
    ) -> tuple[tuple[ast.ExTurn | ast.ExInterruptions, ...], Span, ast.Ident | None]:
        direction, *turns = _named(c)
        return (
            tuple(turns),
            self._span(c),
            self._ident(direction) if direction is not None else None,
        )

    def turn_said(self, c: list[Any]) -> ast.ExTurn:
        speaker, *rest = [x for x in c if x is not None]
        numbers: list[ast.Number] = []  # the times
        confidence = sentiment = None
        for k, tok in enumerate(rest):
            after = rest[k - 1].type if k else None
            if after == "CONFIDENCE":
                confidence = self.number([tok])
            elif after == "SENTIMENT":
                sentiment = self._ident(tok)
            elif tok.type == "NUMBER":
                numbers.append(self.number([tok]))
        text = next(x for x in rest if x.type == "STRING")
        return ast.ExTurn(
            self._ident(speaker),
            self.string([text]),
            numbers[0] if numbers else None,
            numbers[1] if len(numbers) > 1 else None,
            span=self._span(c),
            confidence=confidence,
            sentiment=sentiment,
        )

    def turn_interruptions(self, c: list[Any]) -> ast.ExInterruptions:
        role, count, *rest = [x for x in _named(c) if x is not None]
        return ast.ExInterruptions(
            self._ident(role),
            self.number([count]),
            self.duration(rest) if rest else None,
            span=self._span(c),
        )

    def turn_event(self, c: list[Any]) -> ast.ExTurn:
        speaker, *rest = _named(c)
        at = _given(rest)
        return ast.ExTurn(
            self._ident(speaker),
            None,
            self.number([at]) if at is not None else None,
            span=self._span(c),
        )

    def expect_passes(self, c: list[Any]) -> ast.ExpectFindings:
        refs = _given(_named(c), tuple)
        return ast.ExpectFindings("passes", refs or (), span=self._span(c))

    def expect_flags(self, c: list[Any]) -> ast.ExpectFindings:
        return ast.ExpectFindings("flags", _named(c)[0], span=self._span(c))

    def expect_score(self, c: list[Any]) -> ast.ExpectFindings:
        return ast.ExpectFindings("score", score=self.number(_named(c)), span=self._span(c))

    def rule_refs(self, c: list[Any]) -> tuple[ast.RuleRef, ...]:
        return tuple(_named(c))

    def rule_ref(self, c: list[Any]) -> ast.RuleRef:
        name, *rest = _named(c)
        member = _given(rest)
        return ast.RuleRef(
            self._ident(name),
            self._ident(member) if member is not None else None,
            span=self._span(c),
        )

    # -- metrics ------------------------------------------------------------------------------
    def metric_decl(self, c: list[Any]) -> ast.MetricDecl:
        name, wording, expr, *groups = _named(c)
        return ast.MetricDecl(
            self._ident(name),
            self._unescaped(wording) if wording else None,
            expr,
            tuple(g for g in groups if g is not None),
            span=self._span(c),
        )

    # -- invariants ---------------------------------------------------------------------------
    def invariant_decl(self, c: list[Any]) -> ast.InvariantDecl:
        ident, wording, *rest, expr = _named(c)
        record = _given(rest)
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
        period, field = _named(c)
        return ast.Group(self._ident(field), self._ident(period), span=self._span(c))

    def group_field(self, c: list[Any]) -> ast.Group:
        return ast.Group(self._ident(_named(c)[0]), span=self._span(c))

    def call(self, c: list[Any]) -> ast.Call:
        func, *rest = _named(c)
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
        func, inner, arg = _named(c)
        return ast.Call(
            self._ident(func), self._ident(arg), span=self._span(c), inner=self._ident(inner)
        )

    # -- record-level rules -------------------------------------------------------------------
    def rule_decl(self, c: list[Any]) -> ast.RuleDecl:
        name, wording, record, *stmts = _named(c)
        return ast.RuleDecl(
            self._ident(name),
            self._unescaped(wording) if wording else None,
            self._ident(record),
            tuple(stmts),
            span=self._span(c),
        )

    def ru_when(self, c: list[Any]) -> ast.RuWhen:
        (expr,) = _named(c)
        return ast.RuWhen(expr, span=self._span(c))

    def ru_require(self, c: list[Any]) -> ast.RuRequire:
        (expr,) = _named(c)
        return ast.RuRequire(expr, span=self._span(c))

    def ru_per(self, c: list[Any]) -> ast.RuPer:
        count, event, period, *rest = _named(c)
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
        (level,) = _named(c)
        return ast.RuSeverity(self._ident(level), span=self._span(c))

    def ru_points(self, c: list[Any]) -> ast.RuPoints:
        (points,) = _named(c)
        return ast.RuPoints(self.number([points]), span=self._span(c))

    # -- calendars ----------------------------------------------------------------------------
    def calendar_decl(self, c: list[Any]) -> ast.CalendarDecl:
        name, *stmts = _named(c)
        return ast.CalendarDecl(self._ident(name), tuple(stmts), span=self._span(c))

    def cal_always(self, c: list[Any]) -> ast.CalAlways:
        return ast.CalAlways(span=self._span(c))

    def cal_open(self, c: list[Any]) -> ast.CalOpen:
        parts = _named(c)
        days = tuple(p for p in parts if isinstance(p, ast.DayRange))
        hours = tuple(str(p) for p in parts if isinstance(p, Token) and p.type == "HOURS")
        return ast.CalOpen(days, hours, span=self._span(c))

    def day_range(self, c: list[Any]) -> ast.DayRange:
        first, *rest = _named(c)
        last = _given(rest)
        return ast.DayRange(self._ident(first), self._ident(last) if last else None)

    def cal_timezone(self, c: list[Any]) -> ast.CalTimezone:
        return ast.CalTimezone(self._unescaped(_named(c)[0]), span=self._span(c))

    def cal_holidays(self, c: list[Any]) -> ast.CalHolidays:
        return ast.CalHolidays(self._ident(_named(c)[0]), span=self._span(c))

    def _dates(self, c: list[Any], working: bool) -> ast.CalDates:
        dates = tuple(d for d in (self._date(t) for t in _named(c)) if d is not None)
        return ast.CalDates(working, dates, span=self._span(c))

    def cal_closed(self, c: list[Any]) -> ast.CalDates:
        return self._dates(c, False)

    def cal_working(self, c: list[Any]) -> ast.CalDates:
        return self._dates(c, True)

    # -- deadlines ----------------------------------------------------------------------------
    def deadline_decl(self, c: list[Any]) -> ast.DeadlineDecl:
        name, wording, record, *stmts = _named(c)
        return ast.DeadlineDecl(
            self._ident(name),
            self._ident(record),
            tuple(stmts),
            span=self._span(c),
            wording=self._unescaped(wording) if wording else None,
        )

    def dl_start_field(self, c: list[Any]) -> ast.DlStart:
        return ast.DlStart(self._ident(_named(c)[0]), None, span=self._span(c))

    def dl_start_event(self, c: list[Any]) -> ast.DlStart:
        return ast.DlStart(None, self._ident(_named(c)[0]), span=self._span(c))

    def dl_stop(self, c: list[Any]) -> ast.DlStop:
        return ast.DlStop(self._ident(_named(c)[0]), span=self._span(c))

    def dl_pause(self, c: list[Any]) -> ast.DlPause:
        pause, resume, *rest = _named(c)
        reason = _given(rest)
        return ast.DlPause(
            self._ident(pause),
            self._ident(resume),
            self._unescaped(reason) if reason else None,
            span=self._span(c),
        )

    def dl_target(self, c: list[Any]) -> ast.DlTarget:
        time, *rest = _named(c)
        return ast.DlTarget(time, _given(rest), span=self._span(c))

    def dl_target_for(self, c: list[Any]) -> ast.DlTarget:
        return self._field_target(c, by=False)

    def dl_target_by(self, c: list[Any]) -> ast.DlTarget:
        return self._field_target(c, by=True)

    def _field_target(self, c: list[Any], by: bool) -> ast.DlTarget:
        field, *rest = _named(c)
        about = next((t for t in rest if isinstance(t, Token) and t.type == "STRING"), None)
        when = next((x for x in rest if x is not None and not isinstance(x, Token)), None)
        due = ast.FieldDue(self._ident(field), by, self._unescaped(about) if about else None)
        return ast.DlTarget(
            ast.TimeSpec(due, None, span=self._span([field, about])), when, span=self._span(c)
        )

    def dl_default(self, c: list[Any]) -> ast.DlTarget:
        return ast.DlTarget(_named(c)[0], None, True, span=self._span(c))

    def dl_cap(self, c: list[Any]) -> ast.DlCap:
        return ast.DlCap(_named(c)[0], span=self._span(c))

    def dl_warn_pct(self, c: list[Any]) -> ast.DlWarn:
        return ast.DlWarn(percent=self.percent(_named(c)), span=self._span(c))

    def dl_warn_lead(self, c: list[Any]) -> ast.DlWarn:
        return ast.DlWarn(lead=self.duration(_named(c)), span=self._span(c))

    def dl_update(self, c: list[Any]) -> ast.DlUpdate:
        every, event = _named(c)
        return ast.DlUpdate(every, self._ident(event), span=self._span(c))

    def dl_reopen(self, c: list[Any]) -> ast.DlReopen:
        event, *rest = _named(c)
        mode, until = _given(rest, tuple), _given(rest, Token)
        return ast.DlReopen(
            self._ident(event),
            mode[0] if mode else "new",
            self._ident(until) if until else None,
            span=self._span(c),
        )

    def new_cycle(self, c: list[Token]) -> tuple[str, Token]:
        return ("new", c[0])

    def continue_cycle(self, c: list[Token]) -> tuple[str, Token]:
        return ("continue", c[0])

    def dl_calendar(self, c: list[Any]) -> ast.DlCalendar:
        return ast.DlCalendar(self._ident(_named(c)[0]), span=self._span(c))

    def time_spec(self, c: list[Any]) -> ast.TimeSpec:
        amount, *rest = _named(c)
        calendar = _given(rest)
        return ast.TimeSpec(
            amount[0], self._ident(calendar) if calendar else None, span=self._span(c)
        )

    # amounts travel with their tokens so that the time spec's span can be computed
    def natural(self, c: list[Token]) -> tuple[ast.Natural, Token]:
        return (ast.Natural(self.duration(c)), c[0])

    def working(self, c: list[Token]) -> tuple[ast.Working, Token, Token]:
        number, _, unit = c
        if "." in str(number):
            self._bad(
                number,
                f"`{number} working {unit}`: working time is counted in whole units",
                "write e.g. `90 working minutes` for an hour and a half",
                code="E112",
            )
        value = self._numeric(number, str(number))
        return (ast.Working(int(value), self._ident(unit)), number, unit)

    def by_next_day(self, c: list[Token]) -> tuple[ast.ByNextDay, Token, Token]:
        clock = next(t for t in c if t.type == "CLOCK")
        return (ast.ByNextDay(str(clock)), c[0], c[-1])

    # -- escalation ---------------------------------------------------------------------------
    def escalation_decl(self, c: list[Any]) -> ast.EscalationDecl:
        name, record, *stmts = _named(c)
        return ast.EscalationDecl(
            self._ident(name), self._ident(record), tuple(stmts), span=self._span(c)
        )

    def esc_roles(self, c: list[Any]) -> ast.EsRoles:
        return ast.EsRoles(tuple(self._ident(t) for t in _named(c)), span=self._span(c))

    def esc_step(self, c: list[Any]) -> ast.EsStep:
        source, target, (kind, ref, after, _), *rest = _named(c)
        within = _given(rest)
        return ast.EsStep(
            self._ident(source), self._ident(target), kind, ref, after, within, span=self._span(c)
        )

    def on_breach(self, c: list[Any]) -> tuple[str, ast.Ident, None, Token]:
        return ("breach", self._ident(_named(c)[0]), None, c[-1])

    def on_event(self, c: list[Any]) -> tuple[str, ast.Ident, None, Token]:
        return ("event", self._ident(_named(c)[0]), None, c[-1])

    def after(self, c: list[Any]) -> tuple[str, None, ast.TimeSpec, Token]:
        return ("after", None, _named(c)[0], c[0])

    # -- expressions --------------------------------------------------------------------------
    def or_(self, c: list[Any]) -> ast.Or:
        left, right = _named(c)
        return ast.Or(left, right, span=self._span(c))

    def and_(self, c: list[Any]) -> ast.And:
        left, right = _named(c)
        return ast.And(left, right, span=self._span(c))

    def not_(self, c: list[Any]) -> ast.Not:
        return ast.Not(_named(c)[0], span=self._span(c))

    def compare(self, c: list[Any]) -> ast.Compare:
        left, op, right = _named(c)
        return ast.Compare(str(op), left, right, span=self._span(c))  # type: ignore[arg-type]

    def is_set(self, c: list[Any]) -> ast.IsSet:
        return ast.IsSet(_named(c)[0], span=self._span(c))

    def is_missing(self, c: list[Any]) -> ast.IsMissing:
        return ast.IsMissing(_named(c)[0], span=self._span(c))

    def in_list(self, c: list[Any]) -> ast.InList:
        operand, items = _named(c)
        return ast.InList(operand, items or (), False, span=self._span(c))

    def not_in_list(self, c: list[Any]) -> ast.InList:
        operand, items = _named(c)
        return ast.InList(operand, items or (), True, span=self._span(c))

    def expr_list(self, c: list[Any]) -> tuple[Any, ...]:
        return tuple(_named(c))

    def contains(self, c: list[Any]) -> ast.Contains:
        left, right = _named(c)
        return ast.Contains(left, right, span=self._span(c))

    def binop(self, c: list[Any]) -> ast.BinOp:
        left, op, right = _named(c)
        return ast.BinOp(str(op), left, right, span=self._span(c))  # type: ignore[arg-type]

    def neg(self, c: list[Any]) -> ast.Neg:
        return ast.Neg(_named(c)[0], span=self._span(c))

    def neg_number(self, c: list[Token]) -> ast.Neg:
        return ast.Neg(self.number(_named(c)), span=self._span(c))

    def neg_duration(self, c: list[Token]) -> ast.Neg:
        return ast.Neg(self.duration(_named(c)), span=self._span(c))

    def atom_paren(self, c: list[Any]) -> Any:
        # the parenthesised expression itself, its span widened to take in the parentheses
        return attrs.evolve(_named(c)[0], span=self._span(c))

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

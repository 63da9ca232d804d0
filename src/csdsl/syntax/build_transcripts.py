"""lark parse tree -> AST: phrase sets, citations and transcript rules with their examples.

One method per grammar rule, named after it; a part of `build.Builder`.
"""

from __future__ import annotations

from typing import Any

from lark import Token

from csdsl.source import Span
from csdsl.syntax import ast
from csdsl.syntax.build_exprs import BuilderBase, named, tail_value


class TranscriptBuilder(BuilderBase):
    """The rules of phrase sets, citations and transcript rules with their examples."""

    # -- phrase sets --------------------------------------------------------------------------
    def phrases_decl(self, c: list[Any]) -> ast.PhrasesDecl:
        name, *items = named(c)
        return ast.PhrasesDecl(
            self._ident(name), tuple(self.string([t]) for t in items), span=self._span(c)
        )

    # -- citations ----------------------------------------------------------------------------
    def cites_decl(self, c: list[Any]) -> ast.CitesDecl:
        return ast.CitesDecl(tuple(named(c)), span=self._span(c))

    def cite_item(self, c: list[Any]) -> ast.CiteItem:
        clause, *refs = named(c)
        return ast.CiteItem(clause, tuple(self.string([t]) for t in refs), span=self._span(c))

    # -- transcript rules ---------------------------------------------------------------------
    def transcript_decl(self, c: list[Any]) -> ast.TranscriptRules:
        return ast.TranscriptRules(tuple(named(c)), span=self._span(c))

    def tr_normalise(self, c: list[Any]) -> ast.TrNormalise:
        return ast.TrNormalise(tuple(self._ident(t) for t in named(c)), span=self._span(c))

    def tr_score(self, c: list[Any]) -> ast.TrScore:
        return ast.TrScore(self.number(named(c)), span=self._span(c))

    def tr_confidence(self, c: list[Any]) -> ast.TrConfidence:
        return ast.TrConfidence(self.number(named(c)[-1:]), span=self._span(c))

    def tr_situation(self, c: list[Any]) -> ast.Situation:
        name, wording, *rest = named(c)
        when = tail_value(rest[:2], list) or []
        trigger = when[0] if when else None
        unless = tail_value(rest[:4], tuple) or ()
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
        return [t for t in named(c) if isinstance(t, ast.Trigger)]

    def tr_rule(self, c: list[Any]) -> ast.TrRule:
        name, wording, body, *opts = named(c)
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
        return ("severity", self._ident(named(c)[0]))

    def r_points(self, c: list[Any]) -> tuple[str, ast.Number]:
        return ("points", self.number(named(c)))

    def r_require(self, c: list[Any]) -> dict[str, Any]:
        phrases, position = named(c)
        return {"kind": "require", "phrases": phrases, "position": position}

    def _refs(self, c: list[Any]) -> tuple[list[ast.PhraseRef], ast.Ident | None]:
        parts = [x for x in named(c) if x is not None]
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
        return self._ident(named(c)[0])

    def r_hold(self, c: list[Any]) -> dict[str, Any]:
        duration, *rest = named(c)
        role = tail_value(rest, Token)
        return {
            "kind": "hold",
            "duration": self.duration([duration]),
            "unless_role": self._ident(role) if role is not None else None,
            "other": tail_value(rest, ast.PhraseRef),
        }

    def r_checkin(self, c: list[Any]) -> dict[str, Any]:
        return {"kind": "checkin", "duration": self.duration(named(c))}

    def r_call(self, c: list[Any]) -> dict[str, Any]:
        return {"kind": "call", "duration": self.duration(named(c))}

    def r_interrupt(self, c: list[Any]) -> dict[str, Any]:
        given = [t for t in named(c) if t is not None]
        return {"kind": "interrupt", "duration": self.duration(given) if given else None}

    def r_sentiment(self, c: list[Any]) -> dict[str, Any]:
        role, value, *rest = [x for x in named(c) if x is not None]
        count = next((x for x in rest if x.type == "NUMBER"), None)
        return {
            "kind": "sentiment",
            "scope": self._ident(role),
            "sentiment": self._ident(value),
            "negated": any(isinstance(t, Token) and t.type == "NOT" for t in c),
            "count": self.number([count]) if count is not None else None,
        }

    def r_interruptions(self, c: list[Any]) -> dict[str, Any]:
        role, *rest = [x for x in named(c) if x is not None]
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
        low, high = named(c)
        return {"kind": "rate", "low": self.number([low]), "high": self.number([high])}

    def r_steps(self, c: list[Any]) -> dict[str, Any]:
        return {"kind": "steps", "steps": tuple(named(c))}

    def step_say(self, c: list[Any]) -> ast.Step:
        return ast.Step("say", phrases=named(c)[0], span=self._span(c))

    def step_wait(self, c: list[Any]) -> ast.Step:
        return ast.Step("wait", wait=self.duration(named(c)), span=self._span(c))

    def step_event(self, c: list[Any]) -> ast.Step:
        return ast.Step("event", event=self._ident(named(c)[0]), span=self._span(c))

    def set_ref(self, c: list[Any]) -> ast.PhraseRef:
        return ast.PhraseRef(self._ident(c[0]), span=self._span(c))

    def phrase_one(self, c: list[Any]) -> ast.PhraseRef:
        return ast.PhraseRef(None, (self.string(c),), span=self._span(c))

    def phrase_list(self, c: list[Any]) -> ast.PhraseRef:
        items = tuple(self.string([t]) for t in named(c))
        return ast.PhraseRef(None, items, True, span=self._span(c))

    def _position(self, kind: str, c: list[Any]) -> ast.Position:
        parts = [x for x in named(c) if x is not None]
        count = next((x for x in parts if isinstance(x, Token) and x.type == "NUMBER"), None)
        role = next((x for x in parts if isinstance(x, Token) and x.type == "NAME"), None)
        return ast.Position(
            kind,  # type: ignore[arg-type]
            self._ident(role) if role is not None else None,
            self.number([count]) if count is not None else None,
            tail_value(parts, ast.Trigger),
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
        role, phrases = named(c)
        return ast.Trigger("says", self._ident(role), phrases, span=self._span(c))

    def trig_event(self, c: list[Any]) -> ast.Trigger:
        return ast.Trigger("event", event=self._ident(named(c)[0]), span=self._span(c))

    def trig_silent(self, c: list[Any]) -> ast.Trigger:
        return ast.Trigger("silent", self._ident(named(c)[0]), span=self._span(c))

    def trig_call(self, c: list[Any]) -> ast.Trigger:
        return ast.Trigger("call", self._ident(named(c)[0]), span=self._span(c))

    def tr_example(self, c: list[Any]) -> ast.TranscriptExample:
        ident, title, (turns, turns_span, direction), *expects = named(c)
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
        direction, *turns = named(c)
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
        role, count, *rest = [x for x in named(c) if x is not None]
        return ast.ExInterruptions(
            self._ident(role),
            self.number([count]),
            self.duration(rest) if rest else None,
            span=self._span(c),
        )

    def turn_event(self, c: list[Any]) -> ast.ExTurn:
        speaker, *rest = named(c)
        at = tail_value(rest)
        return ast.ExTurn(
            self._ident(speaker),
            None,
            self.number([at]) if at is not None else None,
            span=self._span(c),
        )

    def expect_passes(self, c: list[Any]) -> ast.ExpectFindings:
        refs = tail_value(named(c), tuple)
        return ast.ExpectFindings("passes", refs or (), span=self._span(c))

    def expect_flags(self, c: list[Any]) -> ast.ExpectFindings:
        return ast.ExpectFindings("flags", named(c)[0], span=self._span(c))

    def expect_score(self, c: list[Any]) -> ast.ExpectFindings:
        return ast.ExpectFindings("score", score=self.number(named(c)), span=self._span(c))

    def rule_refs(self, c: list[Any]) -> tuple[ast.RuleRef, ...]:
        return tuple(named(c))

    def rule_ref(self, c: list[Any]) -> ast.RuleRef:
        name, *rest = named(c)
        member = tail_value(rest)
        return ast.RuleRef(
            self._ident(name),
            self._ident(member) if member is not None else None,
            span=self._span(c),
        )

"""Transcript rules and transcript examples: names and consistency.  AST -> IR.

In: the root module's `transcript rules` block and its transcript examples, and the phrase sets
in scope.  Out: `ir.TranscriptRules`, `ir.TranscriptExample`s and diagnostics:
- unknown phrase sets, speakers, events, severities and folding steps (with "did you mean");
- `trigger` outside a situation, duplicate rule and situation names;
- phrase lists written in a rule checked like declared sets (empty phrase, bad placeholder,
  bad `[optional]` / `(a|b)` syntax, the same phrase twice);
- a required phrase that contains a forbidden one once normalised (an agent who follows the
  policy is flagged by it), and one that contains a phrase the policy prefers to avoid;
- impossible numbers: a speech-rate band upside down, `within 0 turns`, `steps` that wait first,
  last or twice in a row, a confidence outside 0..1, `interruptions over 1.5`;
- unknown sentiments (`positive`, `negative`, `neutral`, `mixed`, with "did you mean");
- example transcripts: unknown speakers or events, times that run backwards, expectations that
  name unknown rules, the vendor signals they give (as the rules' are checked).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from csdsl import ir
from csdsl.check.phrases import check_phrase_list
from csdsl.diagnostics import Related, did_you_mean, rename, warning
from csdsl.phrases import Matcher
from csdsl.qa import folding_of
from csdsl.syntax import ast
from csdsl.transcripts import DIRECTIONS, EVENTS, SENTIMENTS

if TYPE_CHECKING:
    from csdsl.check.lower import Lowering

ROLES = ("agent", "customer")
HOLD_EVENTS = ("hold_start", "hold_end", "mute", "unmute")


class _Rules:
    def __init__(self, o: Lowering) -> None:
        self.o = o
        self.sets = dict(o.phrase_sets)

    # ---- references ---------------------------------------------------------------------
    def role(self, ident: ast.Ident | None, default: str = "agent") -> str:
        if ident is None:
            return default
        if ident.name not in ROLES:
            self.o.err(
                "E251",
                f"unknown speaker `{ident.name}`",
                ident.span,
                did_you_mean(ident.name, ROLES) or "rules look at `agent` or `customer` turns",
                fixes=rename(ident.span, ident.name, ROLES),
            )
        return ident.name

    def event(self, ident: ast.Ident) -> str:
        if ident.name not in EVENTS:
            self.o.err(
                "E252",
                f"unknown transcript event `{ident.name}`",
                ident.span,
                did_you_mean(ident.name, EVENTS) or "events are " + ", ".join(EVENTS),
                fixes=rename(ident.span, ident.name, EVENTS),
            )
        return ident.name

    def phrases(self, ref: ast.PhraseRef, key: str) -> ir.PhraseUse:
        if ref.set is not None:
            name = ref.set.name
            if name not in self.sets:
                self.o.err(
                    "E250",
                    f"unknown phrase set `{name}`",
                    ref.set.span,
                    did_you_mean(name, self.sets)
                    or 'declare it with `phrases NAME = ["..."]`, or import the file that does',
                    fixes=rename(ref.set.span, name, self.sets),
                )
                return ir.PhraseUse(name, (), True, ref.span)
            return ir.PhraseUse(name, self.sets[name], True, ref.span)
        check_phrase_list(self.o, ref.phrases, f"in `{key.split('/')[0]}`")
        return ir.PhraseUse(key, tuple(p.value for p in ref.phrases), False, ref.span)

    def sentiment(self, ident: ast.Ident) -> str:
        return sentiment(self.o, ident)

    def trigger(self, t: ast.Trigger, key: str) -> ir.TrTrigger:
        if t.kind == "says" and t.phrases is not None:
            role = self.role(t.role)
            return ir.TrTrigger("says", role, self.phrases(t.phrases, key), span=t.span)
        if t.kind == "event" and t.event is not None:
            return ir.TrTrigger("event", event=self.event(t.event), span=t.span)
        if t.kind == "call" and t.role is not None:
            return ir.TrTrigger("call", span=t.span, direction=direction(self.o, t.role))
        return ir.TrTrigger("silent", self.role(t.role, "customer"), span=t.span)

    # ---- rules ----------------------------------------------------------------------------
    def rule(self, r: ast.TrRule, situation: ast.Situation | None) -> ir.TrRule:
        o = self.o
        rid = f"{situation.name.name}.{r.name.name}" if situation else r.name.name
        severity = "major"
        if r.severity is not None:
            severity = r.severity.name
            if severity not in ir.SEVERITIES:
                o.err(
                    "E253",
                    f"unknown severity `{severity}`",
                    r.severity.span,
                    did_you_mean(severity, ir.SEVERITIES)
                    or "severities are " + ", ".join(ir.SEVERITIES),
                    fixes=rename(r.severity.span, severity, ir.SEVERITIES),
                )
                severity = "major"
        points = float(ir.SEVERITIES[severity]) if r.points is None else float(r.points.value)
        position = None
        if r.position is not None:
            position = self.position(r.position, situation, rid)
        steps = self.steps(r, rid)
        if (
            r.kind == "rate"
            and r.low is not None
            and r.high is not None
            and not 0 <= r.low.value < r.high.value
        ):
            o.err(
                "E256",
                f"the speech-rate band {r.low.value}-{r.high.value} is empty",
                r.low.span.cover(r.high.span),
                "write the slower bound first, e.g. `between 100 and 200 per minute`",
            )
        if r.duration is not None and r.duration.seconds <= 0:
            o.err("E256", "the duration must be more than 0", r.duration.span)
        if r.kind == "sentiment" and r.scope is not None:  # the role is checked as `scope`
            position = ir.TrPosition(
                "last", r.scope.name, self.turn_count(r.count) if r.count else 1
            )
        most = None
        if r.kind == "interruptions" and r.count is not None:
            most = interruption_count(o, r.count)

        def use(ref: ast.PhraseRef | None, part: str) -> ir.PhraseUse | None:
            return self.phrases(ref, f"{rid}/{part}") if ref is not None else None

        return ir.TrRule(
            rid,
            r.wording,
            r.kind,
            severity,
            points,
            situation.name.name if situation else None,
            use(r.phrases, r.kind),
            use(r.other, "unless" if r.kind == "hold" else "over"),
            use(r.except_, "except"),
            position,
            self.role(r.scope),
            float(r.duration.seconds) if r.duration is not None else None,
            self.role(r.unless_role, "customer") if r.unless_role is not None else None,
            float(r.low.value) if r.low is not None else None,
            float(r.high.value) if r.high is not None else None,
            steps,
            r.span,
            self.sentiment(r.sentiment) if r.sentiment is not None else None,
            r.negated,
            most,
        )

    def turn_count(self, n: ast.Number) -> int:
        count = int(n.value)
        if count != n.value or count < 1:
            self.o.err(
                "E257",
                f"`{n.text or n.value}` is not a number of turns",
                n.span,
                "count turns with a whole number, 1 or more",
            )
            count = 1
        return count

    def position(self, p: ast.Position, situation: ast.Situation | None, rid: str) -> ir.TrPosition:
        count = self.turn_count(p.count) if p.count is not None else 1
        trigger = None
        if p.trigger is not None and p.trigger.kind == "trigger":
            if situation is None:
                self.o.err(
                    "E254",
                    "`trigger` outside a situation",
                    p.trigger.span,
                    "name what the rule follows, e.g. `after customer says complaint`, or put "
                    "the rule in a `situation ... when ... { }` block",
                )
        elif p.trigger is not None:
            trigger = self.trigger(p.trigger, f"{rid}/trigger")
        return ir.TrPosition(p.kind, self.role(p.role), count, trigger)

    def steps(self, r: ast.TrRule, rid: str) -> tuple[ir.TrStep, ...]:
        out = []
        previous: ast.Step | None = None
        for k, st in enumerate(r.steps):
            if st.kind == "wait" and (previous is None or previous.kind == "wait"):
                what = "come first" if previous is None else "follow another wait"
                self.o.err(
                    "E258",
                    f"`wait` cannot {what}",
                    st.span,
                    "a wait sits between two things the agent says or does",
                )
            if st.kind == "wait" and st.wait is not None:
                out.append(ir.TrStep("wait", wait=float(st.wait.seconds)))
            elif st.kind == "event" and st.event is not None:
                out.append(ir.TrStep("event", event=self.event(st.event)))
            elif st.phrases is not None:
                out.append(ir.TrStep("say", self.phrases(st.phrases, f"{rid}/step{k + 1}")))
            previous = st
        if previous is not None and previous.kind == "wait":
            self.o.err(
                "E258",
                "`steps` cannot end with a wait",
                previous.span,
                "end with what happens after the wait, e.g. `event hangup`",
            )
        return tuple(out)


def lower_transcript_rules(
    o: Lowering, blocks: list[ast.TranscriptRules]
) -> ir.TranscriptRules | None:
    if not blocks:
        return None
    for extra in blocks[1:]:
        o.err(
            "E202",
            "a second `transcript rules` block",
            extra.span,
            "merge the two blocks into one",
            [Related("the first one", blocks[0].span)],
        )
    block = blocks[0]
    lw = _Rules(o)
    folding: tuple[str, ...] = ir.FOLDINGS
    base = 100.0
    min_confidence: float | None = None
    seen_opts: set[str] = set()
    for st in block.stmts:
        if isinstance(st, ast.TrNormalise):
            if "normalise" in seen_opts:
                o.err("E202", "`normalise` is given twice", st.span, "keep one `normalise` line")
            seen_opts.add("normalise")
            for opt in st.options:
                if opt.name not in ir.FOLDINGS:
                    o.err(
                        "E255",
                        f"unknown folding step `{opt.name}`",
                        opt.span,
                        did_you_mean(opt.name, ir.FOLDINGS)
                        or "the steps are " + ", ".join(ir.FOLDINGS),
                        fixes=rename(opt.span, opt.name, ir.FOLDINGS),
                    )
            folding = tuple(f for f in ir.FOLDINGS if f in {x.name for x in st.options})
        elif isinstance(st, ast.TrScore):
            if "score" in seen_opts:
                o.err("E202", "`score from` is given twice", st.span, "keep one `score from`")
            seen_opts.add("score")
            base = float(st.base.value)
        elif isinstance(st, ast.TrConfidence):
            if "confidence" in seen_opts:
                o.err(
                    "E202",
                    "`ignore turns below confidence` is given twice",
                    st.span,
                    "keep one `ignore turns below confidence` line",
                )
            seen_opts.add("confidence")
            min_confidence = confidence(o, st.threshold)

    top = [st for st in block.stmts if isinstance(st, ast.TrRule)]
    situations = [st for st in block.stmts if isinstance(st, ast.Situation)]
    o.unique([*(r.name for r in top), *(s.name for s in situations)], "rule or situation")
    rules: list[ir.TrRule] = []
    lowered_sits: list[ir.Situation] = []
    for st in block.stmts:
        if isinstance(st, ast.TrRule):
            o.not_a_keyword(st.name, "rule")
            rules.append(lw.rule(st, None))
        elif isinstance(st, ast.Situation):
            o.not_a_keyword(st.name, "situation")
            for r in st.rules:
                o.not_a_keyword(r.name, "rule")
            o.unique((r.name for r in st.rules), "rule", f" in situation `{st.name.name}`")
            trigger = None
            if st.trigger is not None:
                trigger = lw.trigger(st.trigger, f"{st.name.name}/trigger")
            also = tuple(
                lw.trigger(t, f"{st.name.name}/trigger{k}") for k, t in enumerate(st.also, 2)
            )
            mine = [lw.rule(r, st) for r in st.rules]
            if not mine:
                o.diags.append(
                    warning(
                        "W532",
                        f"situation `{st.name.name}` has no rules",
                        st.name.span,
                        "say what the agent must or must not say when it happens",
                    )
                )
            rules += mine
            lowered_sits.append(
                ir.Situation(
                    st.name.name,
                    st.wording,
                    trigger,
                    tuple(u.name for u in st.unless),
                    tuple(r.id for r in mine),
                    st.span,
                    also,
                )
            )
    names = {s.name.name: s for s in situations}
    for st in situations:
        for u in st.unless:
            if u.name not in names or u.name == st.name.name:
                o.err(
                    "E263",
                    f"`unless {u.name}`: "
                    + (
                        "a situation cannot rule itself out"
                        if u.name == st.name.name
                        else "unknown situation"
                    ),
                    u.span,
                    did_you_mean(u.name, [n for n in names if n != st.name.name])
                    or "name another situation of this block",
                    fixes=rename(u.span, u.name, [n for n in names if n != st.name.name]),
                )
    result = ir.TranscriptRules(
        folding, base, tuple(rules), tuple(lowered_sits), block.span, min_confidence
    )
    _contradictions(o, result)
    return result


def _required(rules: ir.TranscriptRules) -> Iterator[tuple[ir.TrRule, ir.PhraseUse]]:
    for r in rules.rules:
        if r.kind == "require" and r.phrases is not None:
            yield r, r.phrases
        for st in r.steps:
            if st.phrases is not None:
                yield r, st.phrases


def _inside(matches: Iterable[tuple[int, int]], start: int, end: int) -> bool:
    return any(a <= start and end <= b for a, b in matches)


def _contradictions(o: Lowering, rules: ir.TranscriptRules) -> None:
    """A phrase the agent must say that holds a phrase it must not say (or should avoid)."""
    folding = folding_of(rules)
    unless = {s.name: set(s.unless) for s in rules.situations}

    def exclusive(a: str | None, b: str | None) -> bool:
        """Two situations that never apply to one call (one rules the other out)."""
        return a is not None and b is not None and (a in unless[b] or b in unless[a])

    for bad in rules.rules:
        if bad.kind not in ("forbid", "prefer") or bad.scope != "agent":
            continue
        banned = bad.phrases if bad.kind == "forbid" else bad.other
        if banned is None or not banned.phrases:
            continue
        sets = {"banned": banned.phrases}
        if bad.except_ is not None:
            sets["except"] = bad.except_.phrases
        if bad.kind == "prefer" and bad.phrases is not None:
            sets["preferred"] = bad.phrases.phrases
        matcher = Matcher(sets, folding, engine="aho")  # small, matched against phrases
        for rule, use in _required(rules):
            if exclusive(rule.situation, bad.situation):
                continue
            for phrase in use.phrases:
                found = matcher.find(phrase)
                covers = [(m.start, m.end) for m in found if m.set != "banned"]
                for m in found:
                    if m.set != "banned" or _inside(covers, m.start, m.end):
                        continue
                    related = [Related(f"rule `{bad.id}`", bad.span)]
                    if bad.kind == "forbid":
                        o.err(
                            "E259",
                            f"rule `{rule.id}` requires `{phrase}`, which contains `{m.phrase}` "
                            f"that rule `{bad.id}` forbids",
                            use.span,
                            "an agent who follows the policy would be flagged: change one of "
                            "the phrases, or add the required one to the forbid rule's `except`",
                            related,
                        )
                    else:
                        o.diags.append(
                            warning(
                                "W530",
                                f"rule `{rule.id}` requires `{phrase}`, which contains "
                                f"`{m.phrase}` that rule `{bad.id}` prefers to avoid",
                                use.span,
                                "reword the required phrase, or add it to the prefer rule's "
                                "`except`",
                                related,
                            )
                        )
                    break


# ---- examples ------------------------------------------------------------------------------


def lower_transcript_examples(
    o: Lowering, examples: list[ast.TranscriptExample], rules: ir.TranscriptRules | None
) -> list[ir.TranscriptExample]:
    out = []
    known: dict[str, tuple[str, ...]] = {}
    if rules is not None:
        for r in rules.rules:
            if r.situation is None:
                known[r.id] = (r.id,)
        for s in rules.situations:
            known[s.name] = s.rules
            for rid in s.rules:
                known[rid] = (rid,)
    for e in examples:
        if rules is None:
            o.err(
                "E262",
                "an example transcript, but the policy has no `transcript rules`",
                e.span,
                "add a `transcript rules { ... }` block, or remove the example",
            )
            continue
        turns = []
        counted: dict[str, ir.ExInterruptions] = {}
        for t in e.turns:
            if isinstance(t, ast.ExInterruptions):
                role = lw_role(o, t.role)
                if role in counted:
                    o.err(
                        "E202",
                        f"the {role}'s interruptions are given twice",
                        t.span,
                        "keep one line per role",
                    )
                seconds = float(t.duration.seconds) if t.duration is not None else None
                counted[role] = ir.ExInterruptions(role, interruption_count(o, t.count), seconds)
                continue
            name = t.speaker.name
            start = float(t.start.value) if t.start is not None else None
            end = float(t.end.value) if t.end is not None else None
            if start is not None and end is not None and end < start:
                o.err("E261", "the turn ends before it starts", t.span, "write `start-end`")
            if t.text is None:
                if name not in EVENTS:
                    o.err(
                        "E252",
                        f"unknown transcript event `{name}`",
                        t.speaker.span,
                        (did_you_mean(name, [*EVENTS, *ROLES]) or "")
                        + (' (a turn that speaks needs `: "text"`)' if name in ROLES else ""),
                        fixes=rename(t.speaker.span, name, [*EVENTS, *ROLES], only=EVENTS),
                    )
                turns.append(ir.ExTurn("system", None, name, start, None))
            else:
                turns.append(
                    ir.ExTurn(
                        lw_role(o, t.speaker),
                        t.text.value,
                        None,
                        start,
                        end,
                        confidence(o, t.confidence) if t.confidence is not None else None,
                        sentiment(o, t.sentiment) if t.sentiment is not None else None,
                    )
                )
        expects = []
        for x in e.expects:
            ids: list[tuple[str, ...]] = []
            for ref in x.rules:
                full = ref.name.name + (f".{ref.member.name}" if ref.member else "")
                if full not in known:
                    o.err(
                        "E260",
                        f"unknown rule `{full}`",
                        ref.span,
                        did_you_mean(full, known) or "name a rule or a situation of the policy",
                        fixes=rename(ref.span, full, known),
                    )
                    continue
                ids.append(known[full])
            score = float(x.score.value) if x.score is not None else None
            expects.append(ir.FindingExpectation(x.kind, tuple(ids), score, x.span))
        out.append(
            ir.TranscriptExample(
                e.title,
                e.id.name if e.id else None,
                tuple(turns),
                tuple(expects),
                e.span,
                direction(o, e.direction) if e.direction is not None else "inbound",
                tuple(counted.values()) if counted else None,
            )
        )
    return out


def confidence(o: Lowering, n: ast.Number) -> float:
    if not 0 <= n.value <= 1:
        o.err(
            "E265",
            f"a confidence of `{n.text or n.value}` is outside 0 to 1",
            n.span,
            "recognisers give confidence from 0 (a guess) to 1 (sure), e.g. 0.6",
        )
    return float(n.value)


def sentiment(o: Lowering, ident: ast.Ident) -> str:
    if ident.name not in SENTIMENTS:
        o.err(
            "E266",
            f"unknown sentiment `{ident.name}`",
            ident.span,
            did_you_mean(ident.name, SENTIMENTS) or "sentiments are " + ", ".join(SENTIMENTS),
            fixes=rename(ident.span, ident.name, SENTIMENTS),
        )
    return ident.name


def interruption_count(o: Lowering, n: ast.Number) -> int:
    count = int(n.value)
    if count != n.value:
        o.err(
            "E267",
            f"`{n.text or n.value}` is not a number of interruptions",
            n.span,
            "count interruptions with a whole number, e.g. `over 2`; `over 5s` is their length",
        )
    return count


def direction(o: Lowering, ident: ast.Ident) -> str:
    if ident.name not in DIRECTIONS:
        o.err(
            "E264",
            f"unknown call direction `{ident.name}`",
            ident.span,
            did_you_mean(ident.name, DIRECTIONS) or "a call is `inbound` or `outbound`",
            fixes=rename(ident.span, ident.name, DIRECTIONS),
        )
    return ident.name


def lw_role(o: Lowering, ident: ast.Ident) -> str:
    if ident.name not in ROLES:
        o.err(
            "E251",
            f"unknown speaker `{ident.name}`",
            ident.span,
            did_you_mean(ident.name, [*ROLES, *EVENTS]) or "turns are said by agent or customer",
            fixes=rename(ident.span, ident.name, [*ROLES, *EVENTS], only=ROLES),
        )
    return ident.name

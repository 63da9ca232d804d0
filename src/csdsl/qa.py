"""Transcript rules at run time: findings and a score for each transcript.

In: the checked `ir.TranscriptRules` of a policy and `Transcript`s.  Out: a `TranscriptResult`
per transcript: its score, its findings (each naming its rule, the turn and the characters in the
*original* text, and the clause's file and line) and the timing rules that could not be checked
because the transcript has no times ("not checkable", never a guess).

Every phrase of every rule is matched in one pass over all the turns of a transcript
(`phrases.Matcher.scan_many`: one hit table per transcript); the rules then only look the hits
up, and a hit is mapped back to the original text only when it becomes a finding.  How each
rule reads a transcript:

- `require P in first|last [N] ROLE turn(s)` / `in ROLE turns`: one of the turns holds P.
- `require P within N ROLE turns after|before T`: for each occurrence of T, one of the next
  (previous) N turns of ROLE holds P.  In a situation, `trigger` is the situation's trigger.
- `require P before hold` / `after hold`: the last agent turn before each hold (or mute) starts,
  and the first agent turn after it ends, hold P.
- `forbid P [in ROLE turns] [except E]`: every occurrence of P in agent (ROLE) turns is a
  finding, unless an occurrence of E in the same turn covers it.  In a situation, only turns from
  the trigger on count.
- `prefer X over Y [except E]`: every Y said in agent turns is a finding, unless it is part of X
  or of E, or inside quotation marks (the agent quoting the customer).
- `hold at most D [unless customer says U]`: each hold, from `hold_start` (or `mute`) to
  `hold_end` (`unmute`, the hang-up, or the end of the call), lasts at most D, unless the
  customer said U since the previous hold.
- `check in every D while on hold`: during a hold, the customer hears the agent (an agent turn
  inside the hold) at least every D.
- `speech rate between A and B per minute`: every agent turn with a start, an end and at least
  `RATE_MIN_CHARS` characters (as matching counts them: punctuation and spaces are not
  characters) is spoken at A to B characters a minute.
- `call at most D`: the contact ends by D.
- `steps S1, S2, ...`: from the trigger on, the agent says S1, then (in a later turn) S2, ...;
  `wait D` between two steps means the next one starts at least D after the previous one ended;
  `event E` is a system event (e.g. `hangup`).
- `require ROLE sentiment [not] S in last [N] turns`: each of the last N turns of ROLE carries
  the vendor's sentiment S (or not S); a turn the vendor gave no sentiment is not guessed at:
  the rule is then not checkable, unless a turn that carries one already breaks it.
- `forbid ROLE interruptions [over N | over D]`: the vendor's count of the times ROLE talked
  over the other (`signals.interruptions`) is at most N (0 by default), or their total length
  at most D; a transcript without the count is not checkable.

`ignore turns below confidence C`: a turn whose recogniser confidence is below C is not judged
on what it says.  A forbidden (or disfavoured) phrase heard in it is not a finding but "not
checkable" (the recogniser may have misheard); a required phrase (or `steps` step) missing
from a window that holds such a turn is "not checkable" too, as it may have been said and
misheard; one found there counts (the rule is kept, so no finding is lost to a wrong one).
Turns without a confidence are judged as usual.

A situation's rules apply only when its trigger occurs: `customer says P` (every customer turn
that holds P; consecutive ones with no agent turn between them count once), `event E`,
`customer silent` (no customer turn has anything to match) or `inbound call` / `outbound call`
(the transcript's `direction`).  With `when T and T2 ...` it occurs at T's occurrences, and only
when every other trigger occurs in the call too.

Score: the block's `score from` (100 by default) minus the points of every finding, at least 0.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import attrs

from csdsl import ir
from csdsl.phrases import Folding, Matcher, Scan
from csdsl.source import Span
from csdsl.transcripts import Transcript, Turn

Hit = tuple[int, int, int]  # a phrase in a turn: start, end (the transcript's hit table), rank
Judge = Callable[["_Run", ir.TrRule], None]  # `_Run.r_KIND`: one rule on one transcript
_NO_HITS: dict[str, list[Hit]] = {}  # (read only) a turn that holds no phrase
_NOWHERE_HITS: tuple[Hit, ...] = ()  # the hits of a phrase a turn does not hold
_WHOLE_CALL: tuple[None] = (None,)  # where a situation without a trigger occurs


def _by_start(hit: Hit) -> tuple[int, int, int]:
    """Hits by start, longest first, by rank."""
    return hit[0], -hit[1], hit[2]


RATE_MIN_CHARS = 10  # shorter turns are not judged for speech rate
_QUOTED = re.compile(r"“[^”]*”|「[^」]*」|『[^』]*』|\"[^\"]*\"|‘[^’]*’")
_HOLD_START = ("hold_start", "mute")
_HOLD_END = ("hold_end", "unmute")


@attrs.frozen
class Finding:
    rule: str
    kind: str  # missing | forbidden | preference | timing | signal
    severity: str
    points: float
    turn: int | None  # index in the transcript's turns
    span: tuple[int, int] | None  # characters of that turn's text, end exclusive
    text: str | None  # the evidence: the words matched, or the turn where words were missing
    message: str
    clause: Span

    def to_json(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "kind": self.kind,
            "severity": self.severity,
            "points": _num(self.points),
            "turn": self.turn,
            "span": list(self.span) if self.span is not None else None,
            "text": self.text,
            "message": self.message,
            "clause": {"file": self.clause.file, "line": self.clause.line},
        }


@attrs.frozen
class Unchecked:
    """A rule that could not be checked on this transcript, and why."""

    rule: str
    reason: str
    clause: Span

    def to_json(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "reason": self.reason,
            "clause": {"file": self.clause.file, "line": self.clause.line},
        }


@attrs.frozen
class TranscriptResult:
    id: Any
    score: float
    findings: tuple[Finding, ...]
    unchecked: tuple[Unchecked, ...] = ()

    @property
    def flagged(self) -> frozenset[str]:
        """The ids of the rules with at least one finding."""
        return frozenset(f.rule for f in self.findings)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "score": _num(self.score),
            "findings": [f.to_json() for f in self.findings],
            "unchecked": [u.to_json() for u in self.unchecked],
        }


def _num(x: float) -> float | int:
    return int(x) if float(x).is_integer() else round(x, 2)


def folding_of(rules: ir.TranscriptRules) -> Folding:
    return Folding(**{f: f in rules.folding for f in ir.FOLDINGS})


def _quote(phrases: Sequence[str], most: int = 3) -> str:
    shown = "、".join(f"“{p}”" for p in phrases[:most])
    return shown + (f" (or {len(phrases) - most} more)" if len(phrases) > most else "")


def _dur(seconds: float) -> str:
    s = round(seconds, 1)
    if s < 60:
        return f"{s:g}s"
    m, rest = divmod(s, 60)
    return f"{int(m)}m{rest:g}s" if rest else f"{int(m)}m"


class TranscriptChecker:
    """The rules of one policy, ready to check transcripts."""

    def __init__(self, rules: ir.TranscriptRules) -> None:
        self.rules = rules
        self.folding = folding_of(rules)
        self.matcher = Matcher(rules.phrase_uses(), self.folding)
        self.set_of = [self.matcher.name(rank)[0] for rank in range(self.matcher.phrases)]
        self._rank = {r.id: k for k, r in enumerate(rules.rules)}
        self.triggers = {s.name: s.trigger for s in rules.situations}
        # situation -> the phrase key of its `customer says` (or agent) trigger
        self.heard = {
            s.name: s.trigger.phrases.key
            for s in rules.situations
            if s.trigger is not None and s.trigger.kind == "says" and s.trigger.phrases is not None
        }
        # the rules in policy order, in runs of one situation (None: every transcript's), each
        # with the `_Run` method that judges it, looked up once: a transcript skips a situation
        # that did not occur in one step, whatever its number of rules
        self._plan: list[tuple[str | None, list[tuple[ir.TrRule, Judge]]]] = []
        for r in rules.rules:
            judged = (r, getattr(_Run, f"r_{r.kind}"))
            if self._plan and self._plan[-1][0] == r.situation:
                self._plan[-1][1].append(judged)
            else:
                self._plan.append((r.situation, [judged]))
        # the situations (name, trigger, `and` triggers) whose trigger is words, by the phrase
        # key the trigger needs: one whose words no turn holds does not occur, and is not
        # looked at; and the others (`_always`), looked at in every transcript
        self._heard_by: dict[str, list[tuple[str, ir.TrTrigger, tuple[ir.TrTrigger, ...]]]] = {}
        self._always: list[tuple[str, ir.TrTrigger | None, tuple[ir.TrTrigger, ...]]] = []
        for s in rules.situations:
            key = self.heard.get(s.name)
            if key is not None and s.trigger is not None:
                self._heard_by.setdefault(key, []).append((s.name, s.trigger, s.also))
            else:
                self._always.append((s.name, s.trigger, s.also))
        self._unless = [(s.name, s.unless) for s in rules.situations if s.unless]
        self.least = rules.min_confidence  # `ignore turns below confidence`
        # a rule's window starts (or ends) with its trigger's turn: `owns`, once per rule
        self.own = {
            r.id: self.owns(r, r.position.trigger, r.position.role)
            for r in rules.rules
            if r.position is not None
        }

    def owns(self, rule: ir.TrRule, trigger: ir.TrTrigger | None, role: str) -> bool:
        """True when the trigger is words of `role` itself: the window then starts (or, looking
        back, ends) with the turn that said them."""
        if trigger is None and rule.situation is not None:
            trigger = self.triggers.get(rule.situation)
        return trigger is not None and trigger.kind == "says" and trigger.role == role

    def _order(self, f: Finding) -> tuple[int, int, int]:
        """Findings in the order of the transcript, then of the policy."""
        turn = f.turn if f.turn is not None else -1
        return (turn, f.span[0] if f.span else -1, self._rank.get(f.rule, 0))

    def check(self, transcript: Transcript) -> TranscriptResult:
        run = _Run(self, transcript)
        occurred = run.occurred
        for situation, judged in self._plan:
            if situation is None or situation in occurred:  # else the situation did not occur
                for rule, judge in judged:
                    judge(run, rule)
        findings = tuple(sorted(run.findings, key=self._order))
        score = max(0.0, self.rules.base - sum(f.points for f in findings))
        return TranscriptResult(transcript.id, score, findings, tuple(run.unchecked))


class _Run:
    """One transcript against the rules."""

    def __init__(self, checker: TranscriptChecker, transcript: Transcript) -> None:
        self.c = checker
        self.turns: tuple[Turn, ...] = transcript.turns
        self.direction = transcript.direction
        self.signals = transcript.signals
        self.findings: list[Finding] = []
        self.unchecked: list[Unchecked] = []
        # per turn, per phrase key: the hits as (start, end, rank) in the positions of the
        # transcript's hit table (one pass over all its turns: `Matcher.scan_many`)
        self.hits: dict[int, dict[str, list[Hit]]] = {}
        self._by_role: dict[str, list[int]] = {}
        self._holds: list[tuple[int, int | None]] | None = None
        self._events: list[tuple[int, str | None]] | None = None
        self.where_said: dict[str, list[int]] = {}  # phrase key -> turns that hold it
        turns = self.turns
        self._said = said = [i for i, turn in enumerate(turns) if turn.text]  # the scan's texts
        self.scan: Scan = checker.matcher.scan_many([turns[i].text or "" for i in said])
        self._group(said)
        # the situations that occurred -> where (turns; None: the whole call); one that did not
        # occur is left out
        occurred: dict[str, list[int | None]] = {}
        for name, trigger, also in checker._always:
            self._occur(occurred, name, trigger, also)
        heard_by = checker._heard_by
        for key in self.where_said:
            for name, trigger, also in heard_by.get(key, ()):
                self._occur(occurred, name, trigger, also)
        # ruled out by what occurred, not by what remains after `unless`
        ruled_out = [
            name
            for name, unless in checker._unless
            if name in occurred and any(u in occurred for u in unless)
        ]
        self.occurred = occurred
        if ruled_out:
            self.occurred = {n: occ for n, occ in occurred.items() if n not in ruled_out}

    def _occur(
        self,
        occurred: dict[str, list[int | None]],
        name: str,
        trigger: ir.TrTrigger | None,
        also: tuple[ir.TrTrigger, ...],
    ) -> None:
        """Notes where situation `name` occurred, if it did."""
        if also and not all(self.occurrences(t) for t in also):
            return
        found: list[int | None] = [None] if trigger is None else self.occurrences(trigger)
        if found:
            occurred[name] = found

    def _group(self, said: list[int]) -> None:
        """The hit table by turn and phrase key, each key's hits by start, longest first."""
        key_of = self.c.set_of
        where = self.where_said
        several: list[list[Hit]] = []  # the lists with more than one hit, to be sorted
        for k, found in enumerate(self.scan.texts()):
            if not found:
                continue
            i = said[k]
            by_key: dict[str, list[Hit]] = {}
            self.hits[i] = by_key
            pairs = iter(found)
            for last, (length, ranks) in zip(pairs, pairs, strict=False):  # (pairs: even)
                for rank in ranks:
                    key = key_of[rank]
                    hits = by_key.get(key)
                    if hits is None:
                        by_key[key] = [(last - length, last + 1, rank)]
                        where.setdefault(key, []).append(i)
                    else:
                        hits.append((last - length, last + 1, rank))
                        if len(hits) == 2:
                            several.append(hits)
        for hits in several:
            hits.sort(key=_by_start)

    # ---- looking things up ------------------------------------------------------------------
    def chars(self, i: int) -> int:
        """How many characters turn `i` has as matching counts them (folded)."""
        said = self._said
        k = bisect_left(said, i)
        if k == len(said) or said[k] != i:
            return 0
        return self.scan.starts[k + 1] - self.scan.starts[k] - 1

    def said(self, i: int, use: ir.PhraseUse | None) -> Sequence[Hit]:
        """The hits of `use` in turn `i` (none: an empty sequence)."""
        if use is None:
            return _NOWHERE_HITS
        return self.hits.get(i, _NO_HITS).get(use.key, _NOWHERE_HITS)

    def role_turns(self, role: str) -> list[int]:
        """The turns `role` said something in (computed once per transcript)."""
        found = self._by_role.get(role)
        if found is None:
            found = [
                i for i, t in enumerate(self.turns) if t.speaker == role and t.text is not None
            ]
            self._by_role[role] = found
        return found

    def occurrences(self, trigger: ir.TrTrigger) -> list[int | None]:
        kind = trigger.kind
        role = trigger.role or "customer"
        if kind == "says":
            out: list[int | None] = []
            last: int | None = None
            turns = self.turns
            key = trigger.phrases.key if trigger.phrases is not None else ""
            for i in self.where_said.get(key, ()):
                if turns[i].speaker != role:
                    continue
                if last is not None:
                    for j in range(last + 1, i):
                        if turns[j].speaker != role and turns[j].speaker != "system":
                            break  # someone else spoke since the last occurrence
                    else:
                        continue  # no one else did: the same occurrence
                out.append(i)
                last = i
            return out
        if kind == "event":
            return [i for i, event in self.events() if event == trigger.event]
        if kind == "call":
            return [None] if self.direction == trigger.direction else []
        for i in self.role_turns(role):  # `silent`: no turn of `role` has anything to match
            if self.chars(i):
                return []
        return [None]

    def events(self) -> list[tuple[int, str | None]]:
        """The system turns and their events (computed once per transcript)."""
        if self._events is None:
            self._events = [(i, t.event) for i, t in enumerate(self.turns) if t.speaker == "system"]
        return self._events

    def holds(self) -> list[tuple[int, int | None]]:
        """The holds, from their start to their end (None: it never ends), computed once."""
        if self._holds is None:
            self._holds = self._find_holds()
        return self._holds

    def _find_holds(self) -> list[tuple[int, int | None]]:
        out: list[tuple[int, int | None]] = []
        start: int | None = None
        for i, event in self.events():
            if event in _HOLD_START and start is None:
                start = i
            elif event in _HOLD_END and start is not None:
                out.append((start, i))
                start = None
        if start is not None:
            out.append((start, None))
        return out

    def end_time(self) -> float | None:
        times = [t.end if t.end is not None else t.start for t in self.turns]
        known = [x for x in times if x is not None]
        return max(known) if known else None

    # ---- reporting ----------------------------------------------------------------------------
    def find(
        self,
        rule: ir.TrRule,
        kind: str,
        turn: int | None,
        message: str,
        span: tuple[int, int] | None = None,
    ) -> None:
        text = None
        if turn is not None:
            t = self.turns[turn]
            if t.text is not None:
                text = t.text[span[0] : span[1]] if span is not None else t.text
        self.findings.append(
            Finding(rule.id, kind, rule.severity, rule.points, turn, span, text, message, rule.span)
        )

    def cannot(self, rule: ir.TrRule, reason: str) -> None:
        if not any(u.rule == rule.id and u.reason == reason for u in self.unchecked):
            self.unchecked.append(Unchecked(rule.id, reason, rule.span))

    def unsure(self, i: int) -> str | None:
        """Why turn `i` is not judged on its words (`ignore turns below confidence`), or None."""
        least = self.c.least
        confidence = self.turns[i].confidence
        if least is None or confidence is None or confidence >= least:
            return None
        return f"ASR confidence {confidence:g} < {least:g} in turn {i}"

    def unsure_in(self, rule: ir.TrRule, turns: Iterable[int]) -> bool:
        """True (and the rule noted as not checkable) when one of `turns` is not judged: a
        phrase missing from them may have been said and misheard."""
        if self.c.least is None:  # every turn is judged
            return False
        for i in turns:
            why = self.unsure(i)
            if why is not None:
                self.cannot(rule, f"{why}, where it may have been said")
                return True
        return False

    def _from(self, rule: ir.TrRule) -> int | None:
        """The first turn a situation's forbid/prefer/steps rule looks at (None: all)."""
        if rule.situation is None:
            return None
        occ = self.occurred.get(rule.situation) or [None]
        return occ[0]

    # ---- the rules (`TranscriptChecker.check` calls `r_KIND` for each) ---------------------
    def r_require(self, rule: ir.TrRule) -> None:
        pos = rule.position
        assert pos is not None and rule.phrases is not None
        kind = pos.kind
        if kind == "before_hold" or kind == "after_hold":
            self.require_hold(rule, pos)
            return
        if kind == "after" or kind == "before":
            occs: Sequence[int | None] = (
                self.occurred.get(rule.situation or "", _WHOLE_CALL)
                if pos.trigger is None
                else self.occurrences(pos.trigger)
            )
            own = self.c.own[rule.id]
            for occ in occs:
                window = self.window(pos, occ, own)
                if not self.held(rule, window):
                    self.missing(rule, window, self.where(pos, occ, own))
            return
        window = self.window(pos, None)
        if not self.held(rule, window):
            self.missing(rule, window, self.where(pos, None))

    def window(self, pos: ir.TrPosition, occ: int | None, own: bool = False) -> list[int]:
        turns = self.role_turns(pos.role)  # in order: the window's ends are found by bisection
        kind = pos.kind
        if kind == "first":
            return turns[: pos.count]
        if kind == "last":
            return turns[-pos.count :]
        if kind == "after":  # the turns after `occ` (from it, when `own`)
            if occ is None:
                return turns[: pos.count]
            k = bisect_left(turns, occ) if own else bisect_right(turns, occ)
            return turns[k : k + pos.count]
        if kind == "before":  # the turns before `occ` (up to it, when `own`)
            if occ is None:
                return []
            k = bisect_right(turns, occ) if own else bisect_left(turns, occ)
            return turns[:k][-pos.count :]
        return turns

    def where(self, pos: ir.TrPosition, occ: int | None, own: bool = False) -> str:
        n = f"{pos.count} " if pos.count > 1 else ""
        turns = "turns" if pos.count > 1 else "turn"
        if pos.kind in ("first", "last"):
            return f"the {pos.kind} {n}{pos.role} {turns}"
        if pos.kind == "any":
            return f"any {pos.role} turn"
        anchor = "the start of the call" if occ is None else f"turn {occ}"
        if occ is not None and self.turns[occ].event:
            anchor = f"`{self.turns[occ].event}` at turn {occ}"
        if own and occ is not None:  # the trigger turn itself is in the window
            side = "from" if pos.kind == "after" else "up to"
            return f"the {n}{pos.role} {turns} {side} {anchor}"
        return f"the {n}{pos.role} {turns} {pos.kind} {anchor}"

    def held(self, rule: ir.TrRule, window: list[int]) -> bool:
        """True when one of `window` holds the rule's phrases, or (the rule then noted as not
        checkable) one of them is not judged."""
        assert rule.phrases is not None
        key, hits = rule.phrases.key, self.hits
        for i in window:
            if hits.get(i, _NO_HITS).get(key):
                return True
        return self.c.least is not None and self.unsure_in(rule, window)

    def missing(self, rule: ir.TrRule, window: list[int], where: str) -> None:
        """The finding of a required phrase that `window` (worded `where`) does not hold."""
        assert rule.phrases is not None
        turn = window[0] if window else None
        none = "" if window else ", but there is none"
        self.find(
            rule,
            "missing",
            turn,
            f"expected {_quote(rule.phrases.phrases)} in {where}{none}",
        )

    def require_hold(self, rule: ir.TrRule, pos: ir.TrPosition) -> None:
        agent = self.role_turns("agent")
        for start, end in self.holds():
            if pos.kind == "before_hold":
                window = [i for i in agent if i < start][-1:]
                where = f"the agent turn before the hold at turn {start}"
            else:
                window = [] if end is None else [i for i in agent if i > end][:1]
                where = f"the agent turn after the hold that ends at turn {end}"
                if end is None:
                    where = f"the agent turn after the hold at turn {start} (it never ends)"
            if not self.held(rule, window):
                self.missing(rule, window, where)

    def _covered(self, i: int, m: Hit, uses: Iterable[ir.PhraseUse | None]) -> bool:
        for use in uses:
            for other in self.said(i, use):
                if other[0] <= m[0] and m[1] <= other[1] and other != m:
                    return True
        return False

    def _original(self, i: int, m: Hit) -> tuple[str, tuple[int, int]]:
        """The phrase as written, and the span of the turn's text, of a hit."""
        return self.scan.name(m[2])[1], self.scan.span(m[0], m[1])

    def holding(self, rule: ir.TrRule, use: ir.PhraseUse | None) -> list[int]:
        """The turns of the rule's scope (from its situation's trigger on) that hold `use`, in
        order: the turns the phrase was found in, not every turn of the scope."""
        found = self.where_said.get(use.key) if use is not None else None
        if not found:
            return []
        first = self._from(rule)
        turns, scope = self.turns, rule.scope
        return [i for i in found if turns[i].speaker == scope and (first is None or i >= first)]

    def r_forbid(self, rule: ir.TrRule) -> None:
        for i in self.holding(rule, rule.phrases):
            for m in self.said(i, rule.phrases):
                if self._covered(i, m, [rule.except_]):
                    continue
                if (why := self.unsure(i)) is not None:
                    self.cannot(rule, why)
                    continue
                phrase, span = self._original(i, m)
                self.find(rule, "forbidden", i, f"said “{phrase}”, which the policy forbids", span)

    def r_prefer(self, rule: ir.TrRule) -> None:
        assert rule.phrases is not None
        for i in self.holding(rule, rule.other):
            text = self.turns[i].text or ""
            quoted = [(m.start(), m.end()) for m in _QUOTED.finditer(text)]
            for m in self.said(i, rule.other):
                if self._covered(i, m, [rule.phrases, rule.except_]):
                    continue
                phrase, (start, end) = self._original(i, m)
                if any(a <= start and end <= b for a, b in quoted):
                    continue
                if (why := self.unsure(i)) is not None:
                    self.cannot(rule, why)
                    continue
                self.find(
                    rule,
                    "preference",
                    i,
                    f"said “{phrase}”; the policy prefers {_quote(rule.phrases.phrases, 2)}",
                    (start, end),
                )

    def _timed(self, rule: ir.TrRule, *indexes: int | None) -> list[float] | None:
        out = []
        for i in indexes:
            start = self.turns[i].start if i is not None else self.end_time()
            if start is None:
                self.cannot(rule, "the transcript has no times for the turns this rule needs")
                return None
            out.append(start)
        return out

    def r_hold(self, rule: ir.TrRule) -> None:
        assert rule.seconds is not None
        previous_end = -1
        for start, end in self.holds():
            times = self._timed(rule, start, end)
            if times is None:
                return
            length = times[1] - times[0]
            stop = end if end is not None else len(self.turns)
            agreed = any(
                self.said(i, rule.other)
                for i in self.role_turns(rule.unless_role or "customer")
                if previous_end < i < stop
            )
            previous_end = stop
            if length > rule.seconds and not agreed:
                unless = ""
                if rule.other is not None:
                    agreed_words = _quote(rule.other.phrases, 2)
                    unless = f", and the customer did not agree to wait ({agreed_words})"
                self.find(
                    rule,
                    "timing",
                    start,
                    f"the hold lasted {_dur(length)}, more than {_dur(rule.seconds)}{unless}",
                )

    def r_checkin(self, rule: ir.TrRule) -> None:
        assert rule.seconds is not None
        for start, end in self.holds():
            stop = end if end is not None else len(self.turns)
            inside = [i for i in self.role_turns("agent") if start < i < stop]
            times = self._timed(rule, start, *inside, end)
            if times is None:
                return
            marks = [start, *inside, end]
            for k in range(1, len(times)):
                gap = times[k] - times[k - 1]
                if gap > rule.seconds:
                    self.find(
                        rule,
                        "timing",
                        marks[k] if marks[k] is not None else start,
                        f"on hold for {_dur(gap)} without a word from the agent "
                        f"(at most {_dur(rule.seconds)})",
                    )

    def r_rate(self, rule: ir.TrRule) -> None:
        assert rule.low is not None and rule.high is not None
        judged = False
        turns, said, starts = self.turns, self._said, self.scan.starts
        k = 0
        for i in self.role_turns("agent"):
            t = turns[i]
            if t.start is None or t.end is None or t.end <= t.start:
                continue
            k = bisect_left(said, i, k)  # `chars`, with the turns in order
            chars = starts[k + 1] - starts[k] - 1 if k < len(said) and said[k] == i else 0
            if chars < RATE_MIN_CHARS:
                continue
            judged = True
            rate = chars / ((t.end - t.start) / 60)
            if not rule.low - 1e-6 <= rate <= rule.high + 1e-6:
                pace = "fast" if rate > rule.high else "slow"
                shown = f"{rate:.0f}"
                for places in (1, 2, 3):  # near a bound, enough digits to show the side
                    if float(shown) != rule.low and float(shown) != rule.high:
                        break
                    shown = f"{rate:.{places}f}"
                self.find(
                    rule,
                    "timing",
                    i,
                    f"spoke {shown} characters a minute, too {pace} "
                    f"(between {rule.low:g} and {rule.high:g})",
                )
        if not judged and any(
            self.turns[i].start is None or self.turns[i].end is None
            for i in self.role_turns("agent")
        ):
            self.cannot(rule, "the agent's turns have no start and end times")

    def r_interrupt(self, rule: ir.TrRule) -> None:
        """An agent turn that starts while a customer turn is under way and goes on past its end
        (the agent took the floor) cuts the customer off; a word that ends inside the
        customer's turn (嗯, 好的) does not, nor does an agent going on through a customer turn
        that began while the agent was speaking (the customer cut in, or said 喂喂 over the
        greeting).  Overlaps up to `seconds` are allowed for."""
        tolerance = rule.seconds or 0.0
        limit = tolerance + 1e-9
        agent: list[tuple[int, float, float]] = []  # the timed turns: (turn, start, end)
        said: list[tuple[float, float]] = []
        for i, t in enumerate(self.turns):
            if t.text is not None and t.start is not None and t.end is not None:
                if t.speaker == "agent":
                    agent.append((i, t.start, t.end))
                elif t.speaker == "customer":
                    said.append((t.start, t.end))
        if not agent or not said:
            if self.role_turns("agent") and self.role_turns("customer"):
                self.cannot(rule, "the turns have no start and end times")
            return
        # the customer turns that did not begin while the agent was speaking (the customer cut
        # in): worked out once, not for every agent turn
        customer = []
        for c, e in said:
            for _, s, end in agent:
                if s < c < end:
                    break
            else:
                customer.append((c, e))
        for i, a_start, a_end in agent:
            for c_start, c_end in customer:
                overlap = c_end - a_start
                if c_start < a_start and overlap > limit and a_end > c_end:
                    self.find(
                        rule,
                        "timing",
                        i,
                        f"the agent started speaking {_dur(overlap)} before the customer had "
                        "finished"
                        + (f" (more than the {_dur(tolerance)} allowed)" if tolerance else ""),
                    )
                    break

    def r_call(self, rule: ir.TrRule) -> None:
        assert rule.seconds is not None
        length = self.end_time()
        if length is None:
            self.cannot(rule, "the transcript has no times")
            return
        if length > rule.seconds:
            late = next(
                (i for i, t in enumerate(self.turns) if (t.start or 0) > rule.seconds),
                len(self.turns) - 1,
            )
            self.find(
                rule,
                "timing",
                late,
                f"the call lasted {_dur(length)}, more than {_dur(rule.seconds)}",
            )

    def r_steps(self, rule: ir.TrRule) -> None:
        first = self._from(rule)
        cursor = 0 if first is None else first + (0 if self.c.owns(rule, None, "agent") else 1)
        previous: int | None = None
        wait: float | None = None
        steps = sum(s.kind != "wait" for s in rule.steps)
        k = 0
        for step in rule.steps:
            if step.kind == "wait":
                wait = step.wait
                continue
            k += 1
            found = None
            for i in range(cursor, len(self.turns)):
                t = self.turns[i]
                if step.kind == "event" and t.speaker == "system" and t.event == step.event:
                    found = i
                    break
                if step.kind == "say" and t.speaker == "agent" and self.said(i, step.phrases):
                    found = i
                    break
            if found is None and step.kind == "say":
                later = range(cursor, len(self.turns))
                if self.unsure_in(rule, (i for i in later if self.turns[i].speaker == "agent")):
                    return  # the step may have been said in a turn the recogniser misheard
            if found is None:
                what = (
                    f"the `{step.event}` event"
                    if step.kind == "event"
                    else _quote(step.phrases.phrases if step.phrases else ())
                )
                self.find(
                    rule,
                    "missing",
                    cursor if cursor < len(self.turns) else None,
                    f"step {k} of {steps}: expected {what} "
                    + (f"after turn {cursor - 1}" if cursor else "from the start of the call"),
                )
                return
            if wait is not None and previous is not None:
                before = self.turns[previous]
                then = before.end if before.end is not None else before.start
                now = self.turns[found].start
                if then is None or now is None:
                    self.cannot(rule, "the transcript has no times for the waits")
                elif now - then < wait - 1e-6:
                    self.find(
                        rule,
                        "timing",
                        found,
                        f"step {k} of {steps} came {_dur(max(0.0, now - then))} "
                        f"after the previous one; wait at least {_dur(wait)}",
                    )
            previous, wait, cursor = found, None, found + 1

    def r_sentiment(self, rule: ir.TrRule) -> None:
        pos = rule.position
        assert pos is not None and rule.sentiment is not None
        window = self.window(pos, None)
        if not window:
            self.cannot(rule, f"the {pos.role} says nothing")
            return
        wanted = f"{'not ' if rule.negated else ''}{rule.sentiment}"
        broken = [
            i
            for i in window
            if (feeling := self.turns[i].sentiment) is not None
            and (feeling == rule.sentiment) == rule.negated
        ]
        if broken:
            by_value: dict[str | None, list[str]] = {}
            for i in broken:
                by_value.setdefault(self.turns[i].sentiment, []).append(str(i))
            said = ", ".join(
                f"{value} in turn{'s' * (len(at) > 1)} {', '.join(at)}"
                for value, at in by_value.items()
            )
            self.find(
                rule,
                "signal",
                broken[-1],
                f"the {pos.role}'s sentiment was {said}; expected {wanted} in "
                f"{self.where(pos, None)}",
            )
            return
        blind = [i for i in window if self.turns[i].sentiment is None]
        if blind:
            turns = ", ".join(str(i) for i in blind)
            self.cannot(
                rule, f"no sentiment for the {pos.role}'s turn{'s' * (len(blind) > 1)} {turns}"
            )

    def r_interruptions(self, rule: ir.TrRule) -> None:
        signals = self.signals
        counted = signals.interruptions_by(rule.scope) if signals is not None else None
        if counted is None:
            self.cannot(
                rule, "the transcript carries no interruption count (`signals.interruptions`)"
            )
            return
        times = "time" if counted.count == 1 else "times"
        if rule.seconds is not None:
            if counted.seconds is None:
                self.cannot(rule, "the interruption count gives no length")
            elif counted.seconds > rule.seconds + 1e-9:
                self.find(
                    rule,
                    "signal",
                    None,
                    f"the {rule.scope} talked over the other side for {_dur(counted.seconds)} "
                    f"in all ({counted.count} {times}), more than {_dur(rule.seconds)}",
                )
            return
        most = rule.most or 0
        if counted.count > most:
            allowed = f"at most {most}" if most else "none allowed"
            self.find(
                rule,
                "signal",
                None,
                f"the {rule.scope} talked over the other side {counted.count} {times} ({allowed})",
            )

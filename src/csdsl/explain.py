"""Why a record got its verdict, and what would change it (`csdsl explain`).

In: a loaded `Policy`, one raw record (JSON-like values, as a records file holds them) and
optionally the record type, the record's events and `now`.  Out: an `Explanation`: the verdict;
for every condition and exception its outcome, clause `file:line`, wording and the values it
read, with each sub-expression of a nested condition and its operands' values; and the smallest
sets of field changes that flip the verdict (every one verified by validating the changed record
again).  When the record type has record-level rules, each rule's status (kept, broken, unknown,
not applicable) and why: its `when` and each `require` derived like a condition, the first
period short of a count per day or week, and the values it read.  A record type with rules but
no validity block gets the rules only.

The derivation evaluates sub-expressions with `interpreter.compile_expr`, so it follows the
interpreter's three-valued semantics by construction.  The search tries, for each field the
validity block reads, a few candidate values (a bool flipped, the other enum values, missing and
set for optional fields, and for numbers, durations, dates and datetimes the boundary values of
the comparisons that read the field); first every single-field change, then, only when none flips
the verdict, pairs of fields, within a budget of validations.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs

from csdsl import ir
from csdsl.interpreter import ConditionResult, Verdict, compile_expr
from csdsl.irtext import IrPrinter
from csdsl.records import RowError, id_key, json_value, show_value
from csdsl.values import instant

if TYPE_CHECKING:
    from csdsl.api import Policy
    from csdsl.rules import RuleResult
    from csdsl.timeline import Event

__all__ = [
    "Change",
    "ConditionTrace",
    "Explanation",
    "Flip",
    "RuleTrace",
    "Step",
    "candidates",
    "default_values",
    "explain",
    "iter_flipped",
]

MAX_TRIES = 20_000  # validations the flip search may spend, singles and pairs together

_OUTCOME = {True: "matched", False: "not matched", None: "unknown"}
_TRUTH = {True: "true", False: "false", None: "unknown"}


# ---- results ---------------------------------------------------------------------------------


@attrs.frozen
class Step:
    """One sub-expression of a condition: its text as written, its outcome (or value) and the
    values of the operands it compared; `steps` are the parts of an `and`/`or`/`not`."""

    text: str
    outcome: bool | None
    operands: tuple[tuple[str, Any], ...]
    steps: tuple[Step, ...]
    line: int

    def to_json(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "outcome": self.outcome,
            "line": self.line,
            "operands": [{"text": t, "value": json_value(v)} for t, v in self.operands],
            "steps": [s.to_json() for s in self.steps],
        }


@attrs.frozen
class ConditionTrace:
    """A condition or exception of the validity block, as it came out on the record."""

    id: str
    kind: str  # "condition" or "exception"
    wording: str | None
    outcome: bool | None
    file: str
    line: int
    values: tuple[tuple[str, Any], ...]
    step: Step

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "wording": self.wording,
            "outcome": _OUTCOME[self.outcome],
            "file": self.file,
            "line": self.line,
            "values": {k: json_value(v) for k, v in self.values},
            "steps": self.step.to_json(),
        }


@attrs.frozen
class Change:
    field: str
    old: Any
    new: Any

    def to_json(self) -> dict[str, Any]:
        return {"field": self.field, "from": json_value(self.old), "to": json_value(self.new)}


@attrs.frozen
class Flip:
    """Field changes that turn the verdict around, and the clauses that decide the new one."""

    changes: tuple[Change, ...]
    valid: bool  # the verdict after the changes
    because: tuple[ConditionResult, ...]  # the conditions and exceptions whose match changed
    kinds: tuple[str, ...]  # "condition" / "exception", one per `because`

    def text(self, noun: str) -> str:
        sets = " and ".join(f"set `{c.field}` to {show_value(c.new)}" for c in self.changes)
        result = f"the {noun} becomes valid" if self.valid else f"the {noun} is no longer valid"
        cited = ", ".join(
            f"{kind} `{c.id}`, {c.file}:{c.line}"
            for kind, c in zip(self.kinds, self.because, strict=True)
        )
        return f"{sets} and {result}" + (f" ({cited})" if cited else "")

    def to_json(self) -> dict[str, Any]:
        return {
            "changes": [c.to_json() for c in self.changes],
            "valid": self.valid,
            "because": [
                {"id": c.id, "kind": kind, "file": c.file, "line": c.line}
                for kind, c in zip(self.kinds, self.because, strict=True)
            ],
        }


@attrs.frozen
class RuleTrace:
    """A record-level rule as it came out on the record: its result, and its `when` and each
    `require` derived like a condition (None for a count per period, which `detail` explains)."""

    result: RuleResult
    when: Step | None
    # each `require` as written and its derivation: a `Step`, or for a count per period its
    # status on its own (`kept`, `broken`, `unknown`) and the first period short of the count
    requires: tuple[tuple[str, Step | RuleResult], ...]

    def to_text(self) -> list[str]:
        r = self.result
        wording = f"  {r.wording}" if r.wording else ""
        points = f", {show_value(r.points)} point{'' if r.points == 1 else 's'}" if r.points else ""
        lines = [f"  {r.status:<14} {r.rule} ({r.file}:{r.line}){wording}  [{r.severity}{points}]"]
        if self.when is not None:
            lines += step_lines(attrs.evolve(self.when, text=f"when {self.when.text}"), 4)
        if r.status == "unknown" and not self.requires and r.failed:
            lines += [f"    unknown {f}" for f in r.failed]  # no event log
        if self.when is None or self.when.outcome is True:
            for text, step in self.requires:
                if isinstance(step, Step):
                    lines += step_lines(attrs.evolve(step, text=f"require {step.text}"), 4)
                else:
                    truth = {"kept": "true", "broken": "false"}.get(step.status, "unknown")
                    lines.append(f"    {truth:<7} {text}")
                    if step.detail:
                        lines.append(f"      {step.detail}")
        return lines

    def to_json(self) -> dict[str, Any]:
        r = self.result
        return {
            "rule": r.rule,
            "wording": r.wording,
            "status": r.status,
            "severity": r.severity,
            "points": r.points,
            "failed": list(r.failed),
            "detail": r.detail,
            "file": r.file,
            "line": r.line,
            "values": {k: json_value(v) for k, v in r.values},
            "when": self.when.to_json() if self.when is not None else None,
            "requires": [
                {"text": t, "steps": s.to_json()}
                if isinstance(s, Step)
                else {"text": t, "status": s.status, "detail": s.detail}
                for t, s in self.requires
            ],
        }


@attrs.frozen
class Explanation:
    record_type: str
    record_id: Any
    verdict: Verdict | None  # None: the record type has rules but no validity block
    quantifier: str
    conditions: tuple[ConditionTrace, ...]
    exceptions: tuple[ConditionTrace, ...]
    flips: tuple[Flip, ...]
    size: int | None  # fields per flip (1 or 2); None: no change of one or two fields flips it
    tries: int  # validations the search spent
    exhausted: bool  # the search stopped at its budget before trying every candidate
    rules: tuple[RuleTrace, ...] | None = None  # None: the record type has no rules
    events: int | None = None  # the record's events given (None: no event log)

    @property
    def noun(self) -> str:
        return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", self.record_type).lower()

    def _rule_lines(self) -> list[str]:
        if self.rules is None:
            return []
        log = (
            "no --events: the rules that read the event log are unknown"
            if self.events is None
            else f"{self.events} event{'' if self.events == 1 else 's'}"
        )
        lines = [f"rules ({log}):"]
        for t in self.rules:
            lines += t.to_text()
        return lines

    def to_text(self) -> str:
        v = self.verdict
        if v is None:
            statuses = ", ".join(f"{t.result.rule} {t.result.status}" for t in self.rules or ())
            return "\n".join(
                [f"{self.record_type} {self.record_id}: {statuses}", *self._rule_lines()]
            )
        head = "valid" if v.valid else "invalid"
        if v.unknown:
            head += " (unknown: a value a condition needs is missing)"
        if v.matched:
            head += " because " + ", ".join(v.matched)
        if v.excepted:
            head += " (exception: " + ", ".join(v.excepted) + ")"
        lines = [f"{self.record_type} {self.record_id}: {head}"]
        lines.append(f"conditions ({self.quantifier}):")
        lines += _trace_lines(self.conditions)
        if self.exceptions:
            lines.append("exceptions (unless):")
            lines += _trace_lines(self.exceptions)
        lines.append("what would change the outcome:")
        if self.flips:
            lines += [f"  - {f.text(self.noun)}" for f in self.flips]
        else:
            bound = " within the search budget" if self.exhausted else ""
            lines.append(f"  no change of one or two fields flips the verdict{bound}")
        lines += self._rule_lines()
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        v = self.verdict
        rules = (
            {"rules": [t.to_json() for t in self.rules], "events": self.events}
            if self.rules is not None
            else {}
        )
        if v is None:
            return {"id": json_value(self.record_id), "record": self.record_type, **rules}
        return {
            "id": json_value(self.record_id),
            "record": self.record_type,
            "valid": v.valid,
            "unknown": v.unknown,
            "matched": list(v.matched),
            "excepted": list(v.excepted),
            "quantifier": self.quantifier,
            "conditions": [c.to_json() for c in self.conditions],
            "exceptions": [c.to_json() for c in self.exceptions],
            "flips": [f.to_json() | {"text": f.text(self.noun)} for f in self.flips],
            "search": {"size": self.size, "tries": self.tries, "exhausted": self.exhausted},
            **rules,
        }


def _trace_lines(traces: Sequence[ConditionTrace]) -> list[str]:
    lines = []
    for c in traces:
        wording = f"  {c.wording}" if c.wording else ""
        lines.append(f"  {_OUTCOME[c.outcome]:<11} {c.id} ({c.where}){wording}")
        lines += step_lines(c.step, 4)
    return lines


def step_lines(step: Step, indent: int) -> list[str]:
    pad = " " * indent
    if not step.steps:
        return [f"{pad}{_TRUTH[step.outcome]:<7} {step.text}{_operands(step)}"]
    out = [f"{pad}{_TRUTH[step.outcome]:<7} {step.text}"]
    for s in step.steps:
        out += step_lines(s, indent + 2)
    return out


def _operands(step: Step) -> str:
    if not step.operands or step.operands == ((step.text, step.outcome),):
        return ""  # a bool field on its own: its outcome is its value
    return "  [" + ", ".join(f"{t} = {show_value(v)}" for t, v in step.operands) + "]"


# ---- the derivation ------------------------------------------------------------------------


class ExprTexts:
    """Sub-expressions as the policy wrote them (from their spans), one line each."""

    def __init__(self, policy: Policy) -> None:
        self.sources = policy.sources
        self.tz = policy.tz

    def __call__(self, e: ir.Expr) -> str:
        s = e.span
        src = self.sources.get(s.file)
        if src is not None and (s.line, s.column) < (s.end_line, s.end_column):
            lines = [src.line_text(n) for n in range(s.line, s.end_line + 1)]
            if len(lines) == 1:
                text = lines[0][s.column - 1 : s.end_column - 1]
            else:
                lines[0] = lines[0][s.column - 1 :]
                lines[-1] = lines[-1][: s.end_column - 1]
                text = " ".join(lines)
            text = " ".join(_strip_comments(text).split())
            if text:
                return text
        return IrPrinter(self.tz).expr(e)


def _strip_comments(text: str) -> str:
    # a span over several lines may cover a `#` comment at a line's end
    return re.sub(r"#[^\n]*", "", text) if "#" in text and '"' not in text else text


def _operand_nodes(e: ir.Expr) -> list[ir.Expr]:
    """The operands whose values a comparison shows: everything but constants."""
    return [c for c in ir.children(e) if not isinstance(c, ir.Const)]


def derive(e: ir.Expr, record: Mapping[str, Any], text: ExprTexts) -> Step:
    """How `e` came out on `record`: its outcome, the values it compared, its parts."""
    outcome = compile_expr(e)(record)
    if isinstance(e, ir.And | ir.Or):
        parts = tuple(derive(c, record, text) for c in ir.chain(e))
        return Step(text(e), outcome, (), parts, e.span.line)
    if isinstance(e, ir.Not):
        inner = derive(e.operand, record, text)
        if not inner.steps:  # `not flag`: one line with the flag's value
            return Step(text(e), outcome, inner.operands, (), e.span.line)
        return Step(text(e), outcome, (), (inner,), e.span.line)
    if isinstance(e, ir.FieldRef | ir.Const):
        name = ((e.name, outcome),) if isinstance(e, ir.FieldRef) else ()
        return Step(text(e), outcome, name, (), e.span.line)
    operands = tuple((text(c), compile_expr(c)(record)) for c in _operand_nodes(e))
    return Step(text(e), outcome, operands, (), e.span.line)


def _traces(
    conds: Sequence[ir.Condition],
    results: Sequence[ConditionResult],
    kind: str,
    record: Mapping[str, Any],
    text: ExprTexts,
) -> tuple[ConditionTrace, ...]:
    return tuple(
        ConditionTrace(
            r.id, kind, r.wording, r.outcome, r.file, r.line, r.values, derive(c.expr, record, text)
        )
        for c, r in zip(conds, results, strict=True)
    )


# ---- candidate values ------------------------------------------------------------------------


def _solve(side: ir.Expr, name: str, target: Any, record: Mapping[str, Any]) -> Any:
    """The value of field `name` that makes `side` equal `target` (other fields as in `record`),
    for sides built from the field with `+`, `-`, `*`, `/` and negation; None when unknown."""
    if target is None:
        return None
    try:
        if isinstance(side, ir.FieldRef):
            return target if side.name == name else None
        if isinstance(side, ir.Neg):
            return _solve(side.operand, name, -target, record)
        if not isinstance(side, ir.Arith):
            return None
        in_left = name in ir.fields_used(side.left)
        in_right = name in ir.fields_used(side.right)
        if in_left == in_right:
            return None  # the field on both sides (or neither): not solved here
        other = compile_expr(side.right if in_left else side.left)(record)
        if other is None:
            return None
        if side.op == "+":
            return _solve(side.left if in_left else side.right, name, target - other, record)
        if side.op == "-":
            if in_left:
                return _solve(side.left, name, target + other, record)
            return _solve(side.right, name, other - target, record)
        if side.op == "*":
            sub = side.left if in_left else side.right
            return _solve(sub, name, target / other, record) if other else None
        if in_left:  # `/`: only the dividend is solved for
            return _solve(side.left, name, target * other, record)
        return None
    except (TypeError, ArithmeticError, ValueError):
        return None


def _anchors(exprs: Sequence[ir.Expr], name: str, record: Mapping[str, Any]) -> list[Any]:
    """The values of field `name` at which a comparison that reads it changes its outcome."""
    out: list[Any] = []
    for root in exprs:
        stack = [root]
        while stack:
            e = stack.pop()
            stack.extend(reversed(ir.children(e)))
            if isinstance(e, ir.Cmp):
                pairs = [(e.left, e.right), (e.right, e.left)]
            elif isinstance(e, ir.In):
                pairs = [(e.operand, i) for i in e.items]
            elif isinstance(e, ir.Contains):
                if isinstance(e.left, ir.FieldRef) and e.left.name == name:
                    out += [compile_expr(e.right)(record), ""]
                continue
            else:
                continue
            for side, other in pairs:
                if name in ir.fields_used(side) and name not in ir.fields_used(other):
                    value = _solve(side, name, compile_expr(other)(record), record)
                    if value is not None:
                        out.append(value)
    return out


def _near(kind: ir.Kind, anchor: Any) -> list[Any]:
    """An anchor and the values just below and above it, as values of the field's type."""
    second, day = dt.timedelta(seconds=1), dt.timedelta(days=1)
    try:
        if kind in (ir.Kind.INT, ir.Kind.NUMBER):
            if isinstance(anchor, bool) or not isinstance(anchor, int | float):
                return []
            if not math.isfinite(anchor):
                return []
            if kind is ir.Kind.NUMBER:
                return [anchor, round(anchor - 0.01, 10), round(anchor + 0.01, 10)]
            if isinstance(anchor, float) and not anchor.is_integer():
                return [math.floor(anchor), math.ceil(anchor)]
            return [int(anchor), int(anchor) - 1, int(anchor) + 1]
        if kind is ir.Kind.DURATION and isinstance(anchor, dt.timedelta):
            return [anchor, anchor - second, anchor + second]
        if kind is ir.Kind.DATETIME and isinstance(anchor, dt.datetime) and anchor.tzinfo:
            return [anchor, anchor - second, anchor + second]
        if kind is ir.Kind.DATE and type(anchor) is dt.date:
            return [anchor, anchor - day, anchor + day]
        if kind is ir.Kind.TEXT and isinstance(anchor, str):
            return [anchor]
    except OverflowError:  # just past the largest datetime or duration: not a value
        return []
    return []


def default_values(f: ir.Field, record: Mapping[str, Any], policy: Policy) -> list[Any]:
    """Values that merely set a missing field, when no comparison suggests better ones."""
    k = f.type.kind
    if k is ir.Kind.INT:
        return [0]
    if k is ir.Kind.NUMBER:
        return [0]
    if k is ir.Kind.TEXT:
        return [""]
    if k is ir.Kind.DURATION:
        return [dt.timedelta(0)]
    moments = [v for v in record.values() if isinstance(v, dt.datetime)]
    if moments:
        moment = moments[0]
    else:
        day = policy.ir.effective or dt.date(2024, 1, 1)
        try:  # an instant with a fixed offset, as data is read: values subtract as instants
            moment = instant(dt.datetime.combine(day, dt.time()), policy.tz)
        except ValueError:  # midnight skipped by the clocks (some zones change at 00:00)
            moment = instant(dt.datetime.combine(day, dt.time(1)), policy.tz)
    return [moment] if k is ir.Kind.DATETIME else [moment.date()]


def candidates(
    f: ir.Field, exprs: Sequence[ir.Expr], record: Mapping[str, Any], policy: Policy
) -> list[Any]:
    """The values to try for field `f`, in a fixed order, without its current value."""
    current = record.get(f.name)
    k = f.type.kind
    values: list[Any] = []
    if k is ir.Kind.BOOL:
        values = [not current] if current is not None else [True, False]
    elif k is ir.Kind.ENUM:
        values = list(f.type.values)
    else:
        for anchor in _anchors(exprs, f.name, record):
            values += _near(k, anchor)
        if current is None and not values:
            values = default_values(f, record, policy)
    if f.optional:
        values.append(None)
    out: list[Any] = []
    for v in values:
        if isinstance(v, dt.datetime) and v.tzinfo is not None:
            # shown at the zone's offset at that instant (a neighbour of a winter time may be
            # a summer time): the same instant, spelled as the policy's clock shows it
            v = instant(v.astimezone(policy.tz), policy.tz)
        # 1 == True and 0 == 0.0: compare by type too, so no value stands in for another
        if _same(v, current) or any(_same(v, o) for o in out):
            continue
        out.append(v)
    return out


def _same(a: Any, b: Any) -> bool:
    return type(a) is type(b) and a == b


# ---- the search ------------------------------------------------------------------------------


def _decides(
    before: Verdict, after: Verdict
) -> tuple[tuple[ConditionResult, ...], tuple[str, ...]]:
    """The conditions and exceptions whose match changed between two verdicts."""
    cited: list[ConditionResult] = []
    kinds: list[str] = []
    for kind, old, new in (
        ("condition", before.conditions, after.conditions),
        ("exception", before.exceptions, after.exceptions),
    ):
        for a, b in zip(old, new, strict=True):
            if a.matched != b.matched:
                cited.append(b)
                kinds.append(kind)
    return tuple(cited), tuple(kinds)


class _Search:
    def __init__(
        self, policy: Policy, name: str, record: Mapping[str, Any], rid: Any, budget: int
    ) -> None:
        self.policy = policy
        self.name = name
        self.record = dict(record)
        self.rid = rid
        self.budget = budget
        self.tries = 0
        self.exhausted = False
        validity = policy.ir.validity(name)
        rec = policy.ir.record(name)
        assert validity is not None and rec is not None
        self.exprs = [c.expr for c in (*validity.conditions, *validity.exceptions)]
        read = {n for e in self.exprs for n in ir.fields_used(e)}
        self.fields = [f for f in rec.fields if f.name in read]  # in declaration order
        self.before = policy.validate_values(self.record, name, rid)

    def _try(self, values: dict[str, Any]) -> Verdict | None:
        """The verdict on changed values if it differs from the original one."""
        if self.tries >= self.budget:
            self.exhausted = True
            return None
        self.tries += 1
        try:
            after = self.policy.validate_values(values, self.name, self.rid)
        except (TypeError, ValueError, ArithmeticError):
            return None
        return after if after.valid != self.before.valid else None

    def _flip(self, changes: tuple[Change, ...], after: Verdict) -> Flip | None:
        """A flip, once re-validated from the raw record a user would write."""
        raw = {k: json_value(v) for k, v in self.record.items()}
        raw |= {c.field: json_value(c.new) for c in changes}
        raw["id"] = self.rid
        try:
            again = self.policy.validate(raw, self.name)
        except (RowError, ValueError, TypeError):
            return None
        if again.valid == self.before.valid or again.valid != after.valid:
            return None
        cited, kinds = _decides(self.before, after)
        return Flip(changes, after.valid, cited, kinds)

    def singles(self) -> list[Flip]:
        flips = []
        for f in self.fields:
            seen: set[bool] = set()  # one flip to a value and one to missing, per field
            for value in candidates(f, self.exprs, self.record, self.policy):
                if (value is None) in seen:
                    continue
                after = self._try(self.record | {f.name: value})
                if after is None:
                    continue
                flip = self._flip((Change(f.name, self.record[f.name], value),), after)
                if flip is not None:
                    flips.append(flip)
                    seen.add(value is None)
        return flips

    def pairs(self) -> list[Flip]:
        flips = []
        for f, g in itertools.combinations(self.fields, 2):
            if self.exhausted:
                break
            flip = self._pair(f, g)
            if flip is not None:
                flips.append(flip)
        return flips

    def _pair(self, f: ir.Field, g: ir.Field) -> Flip | None:
        for a in candidates(f, self.exprs, self.record, self.policy):
            changed = self.record | {f.name: a}
            # the second field's boundaries move with the first one's value
            for b in candidates(g, self.exprs, changed, self.policy):
                after = self._try(changed | {g.name: b})
                if after is None:
                    if self.exhausted:
                        return None
                    continue
                changes = (
                    Change(f.name, self.record[f.name], a),
                    Change(g.name, self.record[g.name], b),
                )
                flip = self._flip(changes, after)
                if flip is not None:
                    return flip
        return None


def _record_type(policy: Policy, name: str | None) -> str:
    """The record type to explain: `name` if it has a validity block or rules; by default the
    only one with a validity block, else the only one with rules."""
    from csdsl.api import RecordTypeError

    with_rules = {r.record for r in policy.ir.rules}
    if name is not None and name in with_rules:
        return name
    if (
        name is None
        and with_rules
        and not any(policy.ir.validity(r.name) for r in policy.ir.records)
    ):
        return policy.rule_record(None)
    try:
        return policy.record_type(name)
    except RecordTypeError as exc:
        if not with_rules:
            raise
        known = ", ".join(f"`{n}`" for n in sorted(with_rules))
        raise RecordTypeError(f"{exc.args[0]}; records with rules: {known}") from None


def _rule_traces(
    policy: Policy,
    name: str,
    values: Mapping[str, Any],
    events: Sequence[Event] | None,
    now: dt.datetime | None,
    text: ExprTexts,
) -> tuple[RuleTrace, ...]:
    from csdsl.rules import RuleChecker

    checker = policy.rule_checker(name)
    results = checker(values, events, now)
    env = dict(values)
    if events is not None:  # the event terms, as the checker hands them to the expressions
        for ev_name in checker.events:  # (on the policy's clock, as the record's values are)
            mine = [e.at.astimezone(policy.tz) for e in events if e.name == ev_name]
            env[f"first({ev_name})"] = mine[0] if mine else None
            env[f"last({ev_name})"] = mine[-1] if mine else None
            env[f"count({ev_name})"] = len(mine)
    out = []
    for rule, result in zip(checker.rules, results, strict=True):
        if events is None and rule.events:  # not judged: no event log
            out.append(RuleTrace(result, None, ()))
            continue
        when = derive(rule.when, env, text) if rule.when is not None else None
        requires: list[tuple[str, Step | RuleResult]] = []
        for q in rule.requires:
            if q.expr is not None:
                requires.append((q.text, derive(q.expr, env, text)))
            else:  # a count per period, judged on its own
                alone = RuleChecker([attrs.evolve(rule, when=None, requires=(q,))])
                requires.append((q.text, alone(values, events, now)[0]))
        out.append(RuleTrace(result, when, tuple(requires)))
    return tuple(out)


def explain(
    policy: Policy,
    record: Mapping[str, Any],
    record_type: str | None = None,
    *,
    max_tries: int = MAX_TRIES,
    events: str | None = None,
    now: dt.datetime | None = None,
) -> Explanation:
    """The verdict on one raw record, how it was derived and what would change it; and, when
    its type has record-level rules, each rule's status and why, judged on the record's events
    in the event log `events` (a file; None: no event log) at `now`.

    Raises `RecordError` when the record does not fit its type, `KeyError` when the policy has
    neither a validity block nor rules for `record_type`, and `InputError` when the event log
    cannot be read."""
    from csdsl.api import RecordError

    name = _record_type(policy, record_type)
    try:
        rid, values = policy.reader(name).coerce(record)
    except RowError as exc:
        raise RecordError(exc) from None
    text = ExprTexts(policy)
    rules: tuple[RuleTrace, ...] | None = None
    n_events: int | None = None
    if any(r.record == name for r in policy.ir.rules):
        mine: list[Event] | None = None
        if events is not None:
            log, _ = policy.read_events(events, name)
            mine = list(log.get(id_key(rid), []))
            n_events = len(mine)
        utc = now.astimezone(dt.UTC) if now is not None else None
        rules = _rule_traces(policy, name, values, mine, utc, text)
    validity = policy.ir.validity(name)
    if validity is None:
        return Explanation(name, rid, None, "", (), (), (), None, 0, False, rules, n_events)
    search = _Search(policy, name, values, rid, max_tries)
    verdict = search.before
    conditions = _traces(validity.conditions, verdict.conditions, "condition", values, text)
    exceptions = _traces(validity.exceptions, verdict.exceptions, "exception", values, text)
    flips = search.singles()
    size: int | None = 1
    if not flips:
        flips = search.pairs()
        size = 2 if flips else None
    return Explanation(
        name,
        rid,
        verdict,
        validity.quantifier,
        conditions,
        exceptions,
        tuple(flips),
        size,
        search.tries,
        search.exhausted,
        rules,
        n_events,
    )


def iter_flipped(explanation: Explanation, record: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    """Each reported flip applied to the raw record (what tests and users re-validate)."""
    for flip in explanation.flips:
        changed = dict(record)
        for c in flip.changes:
            changed[c.field] = json_value(c.new)
        yield changed

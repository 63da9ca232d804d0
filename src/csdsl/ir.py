"""The checked policy: what every engine runs.

In: nothing (plain data, built by `csdsl.check`).  Out: frozen nodes with resolved names, known
types and constants already converted to Python values (`timedelta`, aware `datetime`, ...).
Engines never see the AST; every node keeps the span of the clause it came from.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterator, Sequence
from typing import Literal as TLiteral, TypeAlias

import attrs

from csdsl.calendar import WorkCalendar
from csdsl.source import Span


class Kind(enum.Enum):
    BOOL = "bool"
    INT = "int"
    NUMBER = "number"
    TEXT = "text"
    DATE = "date"
    DATETIME = "datetime"
    DURATION = "duration"
    ENUM = "enum"
    ERROR = "error"  # an expression whose type could not be known; never reported twice


@attrs.frozen
class Type:
    kind: Kind
    values: tuple[str, ...] = ()  # the names of an enum's values

    def __str__(self) -> str:
        if self.kind is Kind.ENUM:
            return "enum(" + ", ".join(self.values) + ")"
        return str(self.kind.value)

    @property
    def numeric(self) -> bool:
        return self.kind in (Kind.INT, Kind.NUMBER)


BOOL = Type(Kind.BOOL)
INT = Type(Kind.INT)
NUMBER = Type(Kind.NUMBER)
TEXT = Type(Kind.TEXT)
DATE = Type(Kind.DATE)
DATETIME = Type(Kind.DATETIME)
DURATION = Type(Kind.DURATION)
ERROR = Type(Kind.ERROR)
SIMPLE_TYPES = {t.kind.value: t for t in (BOOL, INT, NUMBER, TEXT, DATE, DATETIME, DURATION)}

Value: TypeAlias = bool | int | float | str | dt.date | dt.datetime | dt.timedelta | None


def _span() -> Span:
    return attrs.field(default=Span.unknown(), eq=False, repr=False)


# ---- expressions ---------------------------------------------------------------------------


@attrs.frozen
class Const:
    value: Value
    type: Type
    span: Span = _span()


@attrs.frozen
class FieldRef:
    name: str
    type: Type
    optional: bool
    span: Span = _span()


@attrs.frozen
class Neg:
    operand: Expr
    type: Type
    span: Span = _span()


@attrs.frozen
class Arith:
    op: TLiteral["+", "-", "*", "/"]
    left: Expr
    right: Expr
    type: Type
    span: Span = _span()


@attrs.frozen
class Cmp:
    op: TLiteral["=", "!=", "<", "<=", ">", ">="]
    left: Expr
    right: Expr
    span: Span = _span()
    type: Type = BOOL


@attrs.frozen
class And:
    left: Expr
    right: Expr
    span: Span = _span()
    type: Type = BOOL


@attrs.frozen
class Or:
    left: Expr
    right: Expr
    span: Span = _span()
    type: Type = BOOL


@attrs.frozen
class Not:
    operand: Expr
    span: Span = _span()
    type: Type = BOOL


@attrs.frozen
class IsSet:
    operand: Expr
    negated: bool  # True for `is missing`
    span: Span = _span()
    type: Type = BOOL


@attrs.frozen
class In:
    operand: Expr
    items: tuple[Expr, ...]
    negated: bool
    span: Span = _span()
    type: Type = BOOL


@attrs.frozen
class Contains:
    left: Expr
    right: Expr
    span: Span = _span()
    type: Type = BOOL


STATUSES = ("met", "breached", "pending", "not_applicable")
STATUS = Type(Kind.ENUM, STATUSES)  # a deadline's status, as a metric's `where` reads it


@attrs.frozen
class Judged:
    """In a metric's `where` only: what the policy made of the record rather than one of its
    fields.  `valid` (kind "valid", the verdict: yes, no or unknown), a condition of the
    record's validity block (kind "condition": whether it matched), or a deadline (kind
    "deadline": its status, an enum of `STATUSES`; over several cycles the worst of them:
    breached, then pending, then met).  The metric engine is handed these values with the
    record under `key`, a name no field can have."""

    kind: TLiteral["valid", "condition", "deadline"]
    name: str  # "valid", the condition's id, or the deadline's name
    type: Type
    span: Span = _span()

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.name}"


@attrs.frozen
class EventRef:
    """In a rule only: the record's event log.  `first(EVENT)` / `last(EVENT)` (a datetime,
    missing when there is none) or `count(EVENT)` (an int).  The rule's checker hands these over
    with the record under `key`, a name no field can have."""

    which: TLiteral["first", "last", "count"]
    event: str
    type: Type
    span: Span = _span()

    @property
    def key(self) -> str:
        return f"{self.which}({self.event})"


CALENDAR_PARTS = ("date", "weekday", "time_of_day")


@attrs.frozen
class DatePart:
    """In a rule only: `date(X)`, `weekday(X)` (1 = Monday ... 7 = Sunday) or `time_of_day(X)`
    (a duration since midnight) of a datetime, on the clock of the policy's `timezone`."""

    part: TLiteral["date", "weekday", "time_of_day"]
    operand: Expr
    timezone: str
    type: Type
    span: Span = _span()


Expr: TypeAlias = (
    Const
    | FieldRef
    | Neg
    | Arith
    | Cmp
    | And
    | Or
    | Not
    | IsSet
    | In
    | Contains
    | Judged
    | EventRef
    | DatePart
)


def children(e: Expr) -> tuple[Expr, ...]:
    if isinstance(e, Const | FieldRef | Judged | EventRef):
        return ()
    if isinstance(e, Neg | Not | IsSet | DatePart):
        return (e.operand,)
    if isinstance(e, In):
        return (e.operand, *e.items)
    return (e.left, e.right)


def chain(e: Expr) -> list[Expr]:
    """The operands of an `and`/`or` chain of one kind (`a and b and c`, however bracketed),
    left to right; any other expression is a chain of itself."""
    kind = type(e)
    out: list[Expr] = []
    stack = [e]
    while stack:
        node = stack.pop()
        if type(node) is kind and isinstance(node, And | Or):
            stack += [node.right, node.left]
        else:
            out.append(node)
    return out


def fields_used(e: Expr) -> tuple[str, ...]:
    """The record fields an expression reads, in order of first use."""
    seen: dict[str, None] = {}
    stack = [e]
    order: list[str] = []
    while stack:
        node = stack.pop()
        if isinstance(node, FieldRef) and node.name not in seen:
            seen[node.name] = None
            order.append(node.name)
        stack.extend(reversed(children(node)))
    return tuple(order)


def terms_used(*exprs: Expr) -> tuple[str, ...]:
    """The record fields and event terms (`first(E)`, `count(E)`: their `EventRef.key`) the
    expressions read, in order of first use: what a rule's "why" shows."""
    seen: dict[str, None] = {}
    for e in exprs:
        stack = [e]
        while stack:
            node = stack.pop()
            if isinstance(node, FieldRef):
                seen.setdefault(node.name, None)
            elif isinstance(node, EventRef):
                seen.setdefault(node.key, None)
            stack.extend(reversed(children(node)))
    return tuple(seen)


# ---- declarations --------------------------------------------------------------------------


@attrs.frozen
class Field:
    name: str
    type: Type
    optional: bool
    span: Span = _span()


@attrs.frozen
class Record:
    name: str
    fields: tuple[Field, ...]
    span: Span = _span()

    def field(self, name: str) -> Field | None:
        for f in self.fields:
            if f.name == name:
                return f
        return None


@attrs.frozen
class Condition:
    id: str
    wording: str | None
    expr: Expr
    fields: tuple[str, ...]  # what the "why" of a verdict shows
    span: Span = _span()


@attrs.frozen
class Validity:
    record: str
    quantifier: TLiteral["any", "all"]
    conditions: tuple[Condition, ...]
    exceptions: tuple[Condition, ...]
    span: Span = _span()


@attrs.frozen
class Example:
    title: str
    id: str | None
    record: str
    values: tuple[tuple[str, Value], ...]  # every field of the record, missing ones as None
    expect_valid: bool | None  # None: the example checks clocks only
    because: tuple[str, ...] | None
    span: Span = _span()
    events: tuple[tuple[dt.datetime, str, str | None], ...] = ()  # (at, event, role)
    clocks: tuple[ClockExpectation, ...] = ()
    rules: tuple[RuleExpectation, ...] = ()  # `expect RULE kept|broken|...`
    # an example that tests a metric: its further records (type, every field's value), and
    # `expect METRIC pass|fail|not_applicable`
    more: tuple[tuple[str, tuple[tuple[str, Value], ...]], ...] = ()
    metrics: tuple[MetricExpectation, ...] = ()


METRIC_STATUSES = ("pass", "fail", "not_applicable")


@attrs.frozen
class MetricExpectation:
    """`expect METRIC pass|fail|not_applicable`: the status of every group of the metric over
    the example's records."""

    metric: str
    status: str
    span: Span = _span()


@attrs.frozen
class RuleExpectation:
    rule: str
    status: str  # one of RULE_STATUSES
    span: Span = _span()


@attrs.frozen
class ClockExpectation:
    clock: str  # a deadline, or with `escalation` the role escalated to
    status: str
    escalation: bool
    cycle: int | None
    due: dt.datetime | None
    span: Span = _span()


CitedKind: TypeAlias = TLiteral[
    "condition",
    "exception",
    "deadline",
    "escalation",
    "metric",
    "invariant",
    "transcript rule",
    "situation",
    "rule",
]


@attrs.frozen
class Citation:
    """The sections of the standards a clause encodes (`cites { reply_48h: "002 八 ..." }`):
    each ref is `SEED SECTION`, e.g. `002 八 投诉答复时间`, `004 篇5 15 不可以`."""

    clause: str  # a condition's or rule's id, a deadline's or metric's name, `s16.reply`
    kind: CitedKind
    refs: tuple[str, ...]
    span: Span = _span()


def citable(
    validities: Sequence[Validity],
    deadlines: Sequence[Deadline],
    escalations: Sequence[Escalation],
    metrics: Sequence[Metric],
    invariants: Sequence[Invariant],
    rules: TranscriptRules | None,
    record_rules: Sequence[Rule] = (),
) -> Iterator[tuple[str, CitedKind, Span]]:
    """Every clause a `cites` line can name: (its name, its kind, where it is defined)."""
    for v in validities:
        yield from ((c.id, "condition", c.span) for c in v.conditions)
        yield from ((c.id, "exception", c.span) for c in v.exceptions)
    yield from ((d.name, "deadline", d.span) for d in deadlines)
    yield from ((e.name, "escalation", e.span) for e in escalations)
    yield from ((m.name, "metric", m.span) for m in metrics)
    yield from ((i.id, "invariant", i.span) for i in invariants if i.id is not None)
    if rules is not None:
        yield from ((r.id, "transcript rule", r.span) for r in rules.rules)
        yield from ((s.name, "situation", s.span) for s in rules.situations)
    yield from ((r.name, "rule", r.span) for r in record_rules)


# ---- record-level rules --------------------------------------------------------------------

RULE_STATUSES = ("kept", "broken", "unknown", "not_applicable")


@attrs.frozen
class PerPeriod:
    """`require at least N EVENT per day|week [HH:MM-HH:MM] from START to END`: every local
    calendar day (or Monday-Sunday week) lying wholly between the dates of START and END has at
    least N events of that name (within the hours, when given)."""

    count: int
    event: str
    period: TLiteral["day", "week"]
    hours: tuple[dt.time, dt.time] | None  # the end 00:00 stands for midnight at the day's end
    start: Expr
    end: Expr


@attrs.frozen
class Require:
    """One `require` of a rule: an expression that must be true, or a count per period."""

    text: str  # as written, for the "why" of a finding
    expr: Expr | None
    per: PerPeriod | None
    fields: tuple[str, ...]  # the record fields and event values it reads (the "why")
    span: Span = _span()


@attrs.frozen
class Rule:
    """`rule NAME ["words"] for RECORD { when ...  require ...  severity ...  points ... }`:
    an obligation on each record of a type.  Per record it is kept, broken (a finding of kind
    `rule`), unknown (a value it needs is missing) or not applicable (`when` is false)."""

    name: str
    wording: str | None
    record: str
    when: Expr | None
    requires: tuple[Require, ...]
    severity: str
    points: int | float | None
    timezone: str
    span: Span = _span()

    @property
    def events(self) -> tuple[str, ...]:
        """The event names the rule reads, in order of first use."""
        seen: dict[str, None] = {}
        exprs = [self.when] if self.when is not None else []
        for r in self.requires:
            if r.expr is not None:
                exprs.append(r.expr)
            if r.per is not None:
                seen[r.per.event] = None
                exprs += [r.per.start, r.per.end]
        for e in exprs:
            stack = [e]
            while stack:
                node = stack.pop()
                if isinstance(node, EventRef):
                    seen.setdefault(node.event, None)
                stack.extend(children(node))
        return tuple(seen)


@attrs.frozen
class Policy:
    name: str | None
    version: str | None
    effective: dt.date | None
    timezone: str
    file: str
    records: tuple[Record, ...]
    validities: tuple[Validity, ...]
    examples: tuple[Example, ...]
    calendars: tuple[tuple[str, WorkCalendar], ...] = ()
    deadlines: tuple[Deadline, ...] = ()
    escalations: tuple[Escalation, ...] = ()
    phrase_sets: tuple[tuple[str, tuple[str, ...]], ...] = ()
    transcript_rules: TranscriptRules | None = None
    transcript_examples: tuple[TranscriptExample, ...] = ()
    metrics: tuple[Metric, ...] = ()
    invariants: tuple[Invariant, ...] = ()
    citations: tuple[Citation, ...] = ()
    rules: tuple[Rule, ...] = ()  # record-level rules

    def citable(self) -> Iterator[tuple[str, CitedKind, Span]]:
        """Every clause a `cites` line can name (see `citable`)."""
        return citable(
            self.validities,
            self.deadlines,
            self.escalations,
            self.metrics,
            self.invariants,
            self.transcript_rules,
            self.rules,
        )

    def calendar(self, name: str) -> WorkCalendar | None:
        return dict(self.calendars).get(name)

    def record(self, name: str) -> Record | None:
        for r in self.records:
            if r.name == name:
                return r
        return None

    def validity(self, record: str) -> Validity | None:
        for v in self.validities:
            if v.record == record:
                return v
        return None


# ---- calendars, deadlines, escalation --------------------------------------------------------


@attrs.frozen
class TimeSpec:
    """How long a clock runs: natural time, working time or working days on a calendar, or
    `by HH:MM next working day`; or a field of the record (a deadline's target only): the due
    time itself (`by promised_at`, kind `field_at`) or an elapsed time from the start
    (`within agreed_wait`, kind `field_for`), `amount` naming the field and `about` saying
    what it holds."""

    kind: TLiteral["natural", "working", "days", "next_day", "field_at", "field_for"]
    amount: dt.timedelta | int | dt.time | str
    calendar: str | None
    text: str
    span: Span = _span()
    about: str | None = None

    @property
    def field(self) -> str | None:
        """The record field a `field_at`/`field_for` target reads, else None."""
        return self.amount if isinstance(self.amount, str) else None


@attrs.frozen
class Target:
    time: TimeSpec
    when: Expr | None
    default: bool
    span: Span = _span()


@attrs.frozen
class Pause:
    pause: str
    resume: str
    reason: str | None


@attrs.frozen
class Deadline:
    name: str
    record: str
    start_field: str | None
    start_event: str | None
    stop_event: str
    pauses: tuple[Pause, ...]
    targets: tuple[Target, ...]
    cap: TimeSpec | None
    warn_percent: float | None
    warn_lead: dt.timedelta | None
    update: tuple[TimeSpec, str] | None
    reopen_event: str | None
    reopen_mode: TLiteral["new", "continue"]
    until_event: str | None
    span: Span = _span()
    wording: str | None = None  # the standard's words, quoted by every finding of the deadline


@attrs.frozen
class Step:
    source: str
    target: str
    kind: TLiteral["breach", "event", "after"]
    ref: str | None
    after: TimeSpec | None
    within: TimeSpec | None
    span: Span = _span()


@attrs.frozen
class Escalation:
    name: str
    record: str
    roles: tuple[str, ...]
    steps: tuple[Step, ...]
    span: Span = _span()


ESCALATED = "escalated"  # the event that records an escalation; its `role` is the new owner


def clock_events(deadlines: Sequence[Deadline], escalations: Sequence[Escalation]) -> set[str]:
    """Every event name the given deadlines and ladders react to."""
    names = {ESCALATED}
    for d in deadlines:
        names |= {d.stop_event, *(p.pause for p in d.pauses), *(p.resume for p in d.pauses)}
        names |= {n for n in (d.start_event, d.reopen_event, d.until_event) if n}
        if d.update is not None:
            names.add(d.update[1])
    for e in escalations:
        names |= {s.ref for s in e.steps if s.kind == "event" and s.ref}
    return names


# ---- transcript rules ------------------------------------------------------------------------

SEVERITIES = {"critical": 10, "major": 5, "minor": 2, "info": 0}  # and their default points
FOLDINGS = ("traditional", "width", "case", "punctuation", "pinyin")


@attrs.frozen
class PhraseUse:
    """The phrases a rule matches: a named set, or a list written in the rule (its key is then
    the rule's id and the part, e.g. `s16.reply/require`)."""

    key: str  # the name the matcher knows these phrases by
    phrases: tuple[str, ...]
    named: bool  # a declared phrase set
    span: Span = _span()


@attrs.frozen
class TrTrigger:
    kind: TLiteral["says", "event", "silent", "call"]
    role: str | None = None
    phrases: PhraseUse | None = None
    event: str | None = None
    span: Span = _span()
    direction: str | None = None  # call: `inbound` or `outbound` (the transcript's `direction`)


@attrs.frozen
class TrPosition:
    kind: TLiteral["first", "last", "any", "after", "before", "before_hold", "after_hold"]
    role: str = "agent"
    count: int = 1
    trigger: TrTrigger | None = None  # None: the situation's own trigger


@attrs.frozen
class TrStep:
    kind: TLiteral["say", "wait", "event"]
    phrases: PhraseUse | None = None
    wait: float | None = None  # seconds
    event: str | None = None


@attrs.frozen
class TrRule:
    id: str  # `greet`, or `s16.reply` inside a situation
    wording: str | None
    kind: TLiteral[
        "require",
        "forbid",
        "prefer",
        "hold",
        "checkin",
        "rate",
        "call",
        "steps",
        "interrupt",
        "sentiment",
        "interruptions",
    ]
    severity: str
    points: float
    situation: str | None = None
    phrases: PhraseUse | None = None
    other: PhraseUse | None = None
    except_: PhraseUse | None = None
    position: TrPosition | None = None
    scope: str = "agent"
    seconds: float | None = None
    unless_role: str | None = None
    low: float | None = None
    high: float | None = None
    steps: tuple[TrStep, ...] = ()
    span: Span = _span()
    # sentiment: the sentiment named, `not` before it; the turns are `position` (last N)
    sentiment: str | None = None
    negated: bool = False
    most: int | None = None  # interruptions: how many are allowed (`over N`)


@attrs.frozen
class Situation:
    name: str
    wording: str | None
    trigger: TrTrigger | None  # None: every transcript
    unless: tuple[str, ...]  # situations that rule this one out when they occur
    rules: tuple[str, ...]  # ids of its rules
    span: Span = _span()
    also: tuple[TrTrigger, ...] = ()  # `when T and T2`: triggers that must occur too


@attrs.frozen
class TranscriptRules:
    folding: tuple[str, ...]  # the folding steps in use (FOLDINGS, all by default)
    base: float  # the score of a transcript without findings
    rules: tuple[TrRule, ...]  # every rule, situations' included, in source order
    situations: tuple[Situation, ...]
    span: Span = _span()
    min_confidence: float | None = None  # `ignore turns below confidence C`

    def phrase_uses(self) -> dict[str, tuple[str, ...]]:
        """Every phrase list the rules match, by key: what one matcher is built from."""
        out: dict[str, tuple[str, ...]] = {}
        for use in _uses(self):
            out.setdefault(use.key, use.phrases)
        return out


def _uses(rules: TranscriptRules) -> Iterator[PhraseUse]:
    for s in rules.situations:
        for t in (s.trigger, *s.also):
            if t is not None and t.phrases is not None:
                yield t.phrases
    for r in rules.rules:
        for use in (r.phrases, r.other, r.except_):
            if use is not None:
                yield use
        trigger = r.position.trigger if r.position is not None else None
        if trigger is not None and trigger.phrases is not None:
            yield trigger.phrases
        for st in r.steps:
            if st.phrases is not None:
                yield st.phrases


@attrs.frozen
class ExTurn:
    speaker: str  # agent | customer | system
    text: str | None
    event: str | None
    start: float | None
    end: float | None
    confidence: float | None = None
    sentiment: str | None = None


@attrs.frozen
class ExInterruptions:
    """An example call's interruptions by one role (the vendor's count)."""

    role: str
    count: int
    seconds: float | None = None


@attrs.frozen
class FindingExpectation:
    kind: TLiteral["passes", "flags", "score"]
    # one group of rule ids per name written: a rule, or all the rules of a situation
    rules: tuple[tuple[str, ...], ...] = ()
    score: float | None = None
    span: Span = _span()


@attrs.frozen
class TranscriptExample:
    title: str
    id: str | None
    turns: tuple[ExTurn, ...]
    expects: tuple[FindingExpectation, ...]
    span: Span = _span()
    direction: str = "inbound"  # `transcript outbound { ... }`
    # `agent interruptions 3`: the call's interruption signal; None: the example gives none
    interruptions: tuple[ExInterruptions, ...] | None = None


# ---- metrics -----------------------------------------------------------------------------------

AGGREGATES = ("count", "sum", "mean", "min", "max", "percentile")
PERIODS = ("day", "week", "month")


@attrs.frozen
class Aggregate:
    """`count(R where C)`, `sum(R.f where C)`, ..., `percentile(q, R.f where C)`: missing values
    of the field are left out, like SQL's aggregates."""

    func: str
    record: str
    field: str | None
    where: Expr | None
    q: float | None  # percentile's rank, 0-100
    type: Type
    text: str  # as written, for reports
    span: Span = _span()


@attrs.frozen
class MArith:
    op: str
    left: MExpr
    right: MExpr
    type: Type
    span: Span = _span()


@attrs.frozen
class MConst:
    value: int | float | dt.timedelta
    type: Type
    span: Span = _span()


MExpr: TypeAlias = Aggregate | MArith | MConst


def aggregates(e: MExpr) -> list[Aggregate]:
    if isinstance(e, Aggregate):
        return [e]
    if isinstance(e, MArith):
        return aggregates(e.left) + aggregates(e.right)
    return []


def judged(e: Expr) -> list[Judged]:
    """The verdict, conditions and deadline statuses an expression reads, in order of use."""
    out: list[Judged] = []
    stack = [e]
    while stack:
        node = stack.pop()
        if isinstance(node, Judged) and node not in out:
            out.append(node)
        stack.extend(reversed(children(node)))
    return out


@attrs.frozen
class GroupBy:
    field: str  # a field every record of the metric has
    period: str | None = None  # day / week / month of a datetime field


@attrs.frozen
class Metric:
    name: str
    wording: str | None
    value: MExpr
    op: str  # the threshold's comparison
    threshold: int | float | dt.timedelta
    groups: tuple[GroupBy, ...]
    records: tuple[str, ...]  # the record types it reads
    text: str  # the value as written
    span: Span = _span()

    @property
    def judged(self) -> list[Judged]:
        """The verdict, conditions and deadline statuses its aggregates count: such a metric is
        computed from the judgements of each record (`MetricEngine.feed`'s `judged`), never
        from the records' fields alone."""
        out: list[Judged] = []
        for a in aggregates(self.value):
            for j in judged(a.where) if a.where is not None else ():
                if j not in out:
                    out.append(j)
        return out

    @property
    def clocks(self) -> tuple[str, ...]:
        """The deadlines whose statuses it counts: it needs an event log."""
        return tuple(j.name for j in self.judged if j.kind == "deadline")

    @property
    def percent(self) -> bool:
        """True when the value is a ratio of counts, shown as a percentage."""
        return (
            isinstance(self.value, MArith)
            and self.value.op == "/"
            and all(a.func == "count" for a in aggregates(self.value))
        )


# ---- invariants ----------------------------------------------------------------------------


@attrs.frozen
class Probe:
    """A term of an invariant that is not a field of the record: `valid` (the verdict), or a due
    time when nothing has happened yet: `due(reply)` (a deadline's first cycle) or
    `due(ladder.manager)` (when the ladder must reach that role if nobody acts), optionally for
    the record with some fields changed (`due(reply where tier = regular)`).  The invariant's
    expression reads it as a field named `name`, the term as written."""

    name: str
    kind: TLiteral["valid", "deadline", "escalation"]
    clause: str | None = None  # the deadline or the ladder
    role: str | None = None  # the ladder's role
    overrides: tuple[tuple[str, Value], ...] = ()
    span: Span = _span()
    type: Type = BOOL


@attrs.frozen
class Invariant:
    """`invariant [id] "wording" for RECORD { expr }`: must be true (or unknown, for want of a
    value) for every record of the type; `csdsl verify` searches for one where it is false."""

    id: str | None
    wording: str
    record: str
    expr: Expr
    probes: tuple[Probe, ...]
    span: Span = _span()

    @property
    def label(self) -> str:
        return self.id or self.wording

"""The abstract syntax tree of a `.csp` file.

In: nothing (plain data).  Out: frozen, slotted attrs nodes.  Every node carries a `span` that is
left out of equality, so tests compare structure, not positions.  Literal nodes keep the text the
author wrote (also out of equality) so that the formatter can print `48h` as `48h`, not `2d`.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal as TLiteral, TypeAlias

import attrs

from csdsl.source import Span

_NOWHERE = Span.unknown()


def _span() -> Span:
    return attrs.field(default=_NOWHERE, eq=False, repr=False)


def _text() -> str | None:
    return attrs.field(default=None, eq=False, repr=False)  # type: ignore[no-any-return]


@attrs.frozen
class Ident:
    """A name as written, with its own span (for diagnostics that point at the name)."""

    name: str
    span: Span = _span()


# ---- expressions ---------------------------------------------------------------------------


@attrs.frozen
class Name:
    id: str
    span: Span = _span()


@attrs.frozen
class Number:
    value: int | float
    text: str | None = _text()
    span: Span = _span()


@attrs.frozen
class Percent:
    """`85%`: `value` is 85; it means 0.85."""

    value: int | float
    text: str | None = _text()
    span: Span = _span()


@attrs.frozen
class Duration:
    seconds: int
    text: str | None = _text()
    span: Span = _span()


@attrs.frozen
class DateLit:
    value: dt.date
    span: Span = _span()


@attrs.frozen
class DateTimeLit:
    """A datetime literal; naive ones are in the policy's time zone."""

    value: dt.datetime
    text: str | None = _text()
    span: Span = _span()


@attrs.frozen
class String:
    value: str
    span: Span = _span()


@attrs.frozen
class Bool:
    value: bool
    span: Span = _span()


@attrs.frozen
class Missing:
    """`missing` as a value in an example record."""

    span: Span = _span()


@attrs.frozen
class Neg:
    operand: Expr
    span: Span = _span()


ArithOp: TypeAlias = TLiteral["+", "-", "*", "/"]
CompareOp: TypeAlias = TLiteral["=", "!=", "<", "<=", ">", ">="]


@attrs.frozen
class BinOp:
    op: ArithOp
    left: Expr
    right: Expr
    span: Span = _span()


@attrs.frozen
class Compare:
    op: CompareOp
    left: Expr
    right: Expr
    span: Span = _span()


@attrs.frozen
class And:
    left: Expr
    right: Expr
    span: Span = _span()


@attrs.frozen
class Or:
    left: Expr
    right: Expr
    span: Span = _span()


@attrs.frozen
class Not:
    operand: Expr
    span: Span = _span()


@attrs.frozen
class IsSet:
    operand: Expr
    span: Span = _span()


@attrs.frozen
class IsMissing:
    operand: Expr
    span: Span = _span()


@attrs.frozen
class InList:
    operand: Expr
    items: tuple[Expr, ...]
    negated: bool = False
    span: Span = _span()


@attrs.frozen
class Contains:
    left: Expr
    right: Expr
    span: Span = _span()


@attrs.frozen
class Call:
    """An aggregate over the records of a type, in a metric: `count(Call where answered)`,
    `mean(Call.wait)`, `percentile(90, Call.wait where answered)`."""

    func: Ident
    record: Ident
    field: Ident | None = None
    where: Expr | None = None
    arg: Number | None = None  # percentile's rank
    span: Span = _span()
    inner: Ident | None = None  # `date(first(EVENT))`: `first`, with `record` the EVENT


Literal: TypeAlias = Number | Percent | Duration | DateLit | DateTimeLit | String | Bool
Expr: TypeAlias = (
    Literal
    | Name
    | Neg
    | BinOp
    | Compare
    | And
    | Or
    | Not
    | IsSet
    | IsMissing
    | InList
    | Contains
    | Call
)
Value: TypeAlias = Literal | Name | Missing | Neg

# ---- declarations --------------------------------------------------------------------------


@attrs.frozen
class Header:
    name: str
    version: str | None = None
    effective: dt.date | None = None
    timezone: str | None = None
    span: Span = _span()
    timezone_span: Span = _span()


@attrs.frozen
class Import:
    """`import "f.csp"` brings the file's records, phrase sets and calendars; `include "f.csp"`
    (`include=True`) brings every clause of the file, as if written here."""

    path: str
    span: Span = _span()
    include: bool = False


@attrs.frozen
class SimpleType:
    name: Ident
    span: Span = _span()


@attrs.frozen
class EnumType:
    values: tuple[Ident, ...]
    span: Span = _span()


TypeRef: TypeAlias = SimpleType | EnumType


@attrs.frozen
class FieldDecl:
    name: Ident
    type: TypeRef
    optional: bool = False
    span: Span = _span()


@attrs.frozen
class RecordDecl:
    name: Ident
    fields: tuple[FieldDecl, ...]
    span: Span = _span()


@attrs.frozen
class Condition:
    id: Ident
    wording: str | None
    expr: Expr
    span: Span = _span()


@attrs.frozen
class Validity:
    record: Ident
    quantifier: TLiteral["any", "all"]
    conditions: tuple[Condition, ...]
    exceptions: tuple[Condition, ...] | None = None
    span: Span = _span()
    unless_span: Span = _span()  # where `unless {` stands, for the formatter


@attrs.frozen
class FieldValue:
    name: Ident
    value: Value
    span: Span = _span()


@attrs.frozen
class ExEvent:
    """`replied at 2024-10-29T10:00 by team_lead` in an example's `events { }`."""

    name: Ident
    at: DateTimeLit
    role: Ident | None = None
    span: Span = _span()


@attrs.frozen
class ExpectClock:
    """`expect reply met`, `expect reply cycle 2 breached due 2024-10-30T10:00`,
    `expect escalation to team_lead met`."""

    clock: Ident  # a deadline, or the role of an escalation step
    status: Ident
    escalation: bool = False
    cycle: int | None = None
    due: DateTimeLit | None = None
    span: Span = _span()


@attrs.frozen
class Example:
    id: Ident | None
    title: str
    given: Ident  # a record type, or with `base=True` another example's id
    base: bool
    fields: tuple[FieldValue, ...]
    expect_valid: bool | None  # None: the example checks clocks only
    because: tuple[Ident, ...] | None = None
    events: tuple[ExEvent, ...] = ()
    clocks: tuple[ExpectClock, ...] = ()
    span: Span = _span()
    given_span: Span = _span()
    expect_span: Span = _span()
    events_span: Span = _span()
    more: tuple[ExGiven, ...] = ()  # further records, for an example that tests a metric


@attrs.frozen
class ExGiven:
    """A further `given` of an example that tests a metric: a record type (or, with `base`,
    another example's id) and the fields."""

    given: Ident
    base: bool
    fields: tuple[FieldValue, ...]
    span: Span = _span()


# ---- calendars, deadlines, escalation ------------------------------------------------------


@attrs.frozen
class DayRange:
    first: Ident
    last: Ident | None = None


@attrs.frozen
class CalAlways:
    span: Span = _span()


@attrs.frozen
class CalOpen:
    days: tuple[DayRange, ...]
    hours: tuple[str, ...]  # "09:00-12:00"
    span: Span = _span()


@attrs.frozen
class CalTimezone:
    name: str
    span: Span = _span()


@attrs.frozen
class CalHolidays:
    dataset: Ident
    span: Span = _span()


@attrs.frozen
class CalDates:
    working: bool  # `working` dates, or `closed` ones
    dates: tuple[dt.date, ...]
    span: Span = _span()


CalStmt: TypeAlias = CalAlways | CalOpen | CalTimezone | CalHolidays | CalDates


@attrs.frozen
class CalendarDecl:
    name: Ident
    stmts: tuple[CalStmt, ...]
    span: Span = _span()


@attrs.frozen
class Natural:
    """`48h`: elapsed time, whatever the calendar."""

    duration: Duration


@attrs.frozen
class Working:
    """`2 working hours`, `30 working minutes`, `3 working days`."""

    amount: int
    unit: Ident


@attrs.frozen
class ByNextDay:
    """`by 18:00 next working day`."""

    clock: str


@attrs.frozen
class FieldDue:
    """`by promised_at` (a datetime field: the due time itself) or `within agreed_wait` (a
    duration field: elapsed time from the start), optionally with the field's meaning in words
    (`by promised_at "the time promised to the customer"`)."""

    field: Ident
    by: bool
    about: str | None = None


@attrs.frozen
class TimeSpec:
    amount: Natural | Working | ByNextDay | FieldDue
    calendar: Ident | None = None
    span: Span = _span()


@attrs.frozen
class DlStart:
    field: Ident | None  # `starts at FIELD`
    event: Ident | None  # `starts on EVENT`
    span: Span = _span()


@attrs.frozen
class DlStop:
    event: Ident
    span: Span = _span()


@attrs.frozen
class DlPause:
    pause: Ident
    resume: Ident
    reason: str | None = None
    span: Span = _span()


@attrs.frozen
class DlTarget:
    time: TimeSpec
    when: Expr | None = None
    default: bool = False  # `otherwise within ...`
    span: Span = _span()


@attrs.frozen
class DlCap:
    time: TimeSpec
    span: Span = _span()


@attrs.frozen
class DlWarn:
    percent: Percent | None = None  # `warn at 75%`
    lead: Duration | None = None  # `warn 30m before`
    span: Span = _span()


@attrs.frozen
class DlUpdate:
    every: TimeSpec
    event: Ident
    span: Span = _span()


@attrs.frozen
class DlReopen:
    event: Ident
    mode: TLiteral["new", "continue"] = "new"
    until: Ident | None = None
    span: Span = _span()


@attrs.frozen
class DlCalendar:
    name: Ident
    span: Span = _span()


DlStmt: TypeAlias = (
    DlStart | DlStop | DlPause | DlTarget | DlCap | DlWarn | DlUpdate | DlReopen | DlCalendar
)


@attrs.frozen
class DeadlineDecl:
    name: Ident
    record: Ident
    stmts: tuple[DlStmt, ...]
    span: Span = _span()
    wording: str | None = None  # the standard's words: `deadline reply "48小时内答复" for C`


@attrs.frozen
class EsRoles:
    roles: tuple[Ident, ...]
    span: Span = _span()


@attrs.frozen
class EsStep:
    source: Ident
    target: Ident
    kind: TLiteral["breach", "event", "after"]
    ref: Ident | None = None  # the deadline (breach) or the event
    after: TimeSpec | None = None
    within: TimeSpec | None = None
    span: Span = _span()


@attrs.frozen
class EscalationDecl:
    name: Ident
    record: Ident
    stmts: tuple[EsRoles | EsStep, ...]
    span: Span = _span()


@attrs.frozen
class PhrasesDecl:
    """`phrases greeting = ["您好", "欢迎致电{org}客户服务热线"]`."""

    name: Ident
    phrases: tuple[String, ...]
    span: Span = _span()


# ---- transcript rules ----------------------------------------------------------------------


@attrs.frozen
class PhraseRef:
    """What a rule matches: a named phrase set, one phrase, or a list of phrases."""

    set: Ident | None = None  # `greeting`
    phrases: tuple[String, ...] = ()  # `"您"` or `["让您久等了", "让您久等"]`
    listed: bool = False  # written with brackets
    span: Span = _span()


@attrs.frozen
class Trigger:
    """`customer says abuse`, `event hold_start`, `customer silent`, `outbound call` (the
    call's direction, in `role`), or `trigger` (the situation's own trigger, in a rule's
    position)."""

    kind: TLiteral["says", "event", "silent", "call", "trigger"]
    role: Ident | None = None
    phrases: PhraseRef | None = None
    event: Ident | None = None
    span: Span = _span()


@attrs.frozen
class Position:
    """Where a required phrase must be said."""

    kind: TLiteral["first", "last", "any", "after", "before", "before_hold", "after_hold"]
    role: Ident | None = None
    count: Number | None = None  # `in first 2 agent turns`, `within 2 agent turns after ...`
    trigger: Trigger | None = None
    span: Span = _span()


@attrs.frozen
class Step:
    """One step of a `steps` rule: a phrase the agent says, a wait, or a system event."""

    kind: TLiteral["say", "wait", "event"]
    phrases: PhraseRef | None = None
    wait: Duration | None = None
    event: Ident | None = None
    span: Span = _span()


RuleKind: TypeAlias = TLiteral[
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


@attrs.frozen
class TrRule:
    """One transcript rule: `name "wording": body [severity S] [points N]`."""

    name: Ident
    wording: str | None
    kind: RuleKind
    phrases: PhraseRef | None = None  # require / forbid; prefer: the preferred phrases
    other: PhraseRef | None = None  # prefer: the phrases it is preferred over; hold: `unless`
    position: Position | None = None  # require
    scope: Ident | None = None  # forbid / prefer: `in agent turns`
    except_: PhraseRef | None = None  # forbid / prefer
    duration: Duration | None = None  # hold, check-in interval, call length
    unless_role: Ident | None = None  # hold: `unless customer says ...`
    low: Number | None = None  # speech rate band
    high: Number | None = None
    steps: tuple[Step, ...] = ()
    severity: Ident | None = None
    points: Number | None = None
    span: Span = _span()
    # `require customer sentiment not negative in last 2 turns` (the role is in `scope`)
    sentiment: Ident | None = None
    negated: bool = False
    # sentiment: `in last N turns`; interruptions: `over N` (a count; `over 5s` is `duration`)
    count: Number | None = None


@attrs.frozen
class Situation:
    """Rules that apply only when a trigger occurs (and none of the `unless` situations)."""

    name: Ident
    wording: str | None
    trigger: Trigger | None  # None: it applies to every transcript
    unless: tuple[Ident, ...]  # situations that, when they occur, rule this one out
    rules: tuple[TrRule, ...]
    span: Span = _span()
    head_span: Span = _span()  # `situation ... {`, for the formatter
    also: tuple[Trigger, ...] = ()  # `when T and T2 ...`: triggers that must occur too


@attrs.frozen
class TrNormalise:
    """`normalise traditional, width, punctuation`: the folding steps matching uses."""

    options: tuple[Ident, ...]
    span: Span = _span()


@attrs.frozen
class TrScore:
    """`score from 100`: what a transcript without findings scores."""

    base: Number
    span: Span = _span()


@attrs.frozen
class TrConfidence:
    """`ignore turns below confidence 0.6`: what the recogniser was unsure of is not judged."""

    threshold: Number
    span: Span = _span()


TrStmt: TypeAlias = TrRule | Situation | TrNormalise | TrScore | TrConfidence


@attrs.frozen
class TranscriptRules:
    stmts: tuple[TrStmt, ...]
    span: Span = _span()


@attrs.frozen
class ExTurn:
    """A turn of an example transcript: `agent 0-4.1: "您好"` or `hold_start at 20`."""

    speaker: Ident  # agent / customer, or a system event
    text: String | None = None
    start: Number | None = None
    end: Number | None = None
    span: Span = _span()
    confidence: Number | None = None  # `agent 0-4 confidence 0.4: "..."`
    sentiment: Ident | None = None  # `customer sentiment negative: "..."`


@attrs.frozen
class ExInterruptions:
    """`agent interruptions 3 for 5s`: the vendor's count for the example call."""

    role: Ident
    count: Number
    duration: Duration | None = None
    span: Span = _span()


@attrs.frozen
class RuleRef:
    """`greeting`, or `s16.reply` for a rule of a situation (`s16` alone: all its rules)."""

    name: Ident
    member: Ident | None = None
    span: Span = _span()


@attrs.frozen
class ExpectFindings:
    """`expect passes [rules]`, `expect flags rules`, `expect score N`."""

    kind: TLiteral["passes", "flags", "score"]
    rules: tuple[RuleRef, ...] = ()
    score: Number | None = None
    span: Span = _span()


@attrs.frozen
class TranscriptExample:
    id: Ident | None
    title: str
    turns: tuple[ExTurn | ExInterruptions, ...]
    expects: tuple[ExpectFindings, ...]
    span: Span = _span()
    turns_span: Span = _span()
    direction: Ident | None = None  # `transcript outbound { ... }`


# ---- metrics -------------------------------------------------------------------------------


@attrs.frozen
class Group:
    """`month of received_at` (a period of a datetime field) or `team` (a field)."""

    field: Ident
    period: Ident | None = None  # day, week, month
    span: Span = _span()


@attrs.frozen
class MetricDecl:
    """`metric NAME "wording": VALUE OP THRESHOLD [by GROUP, ...]`."""

    name: Ident
    wording: str | None
    expr: Expr
    groups: tuple[Group, ...] = ()
    span: Span = _span()


# ---- invariants ----------------------------------------------------------------------------


@attrs.frozen
class InvariantDecl:
    """`invariant [ID] "wording" [for RECORD] { EXPR }`: a property `csdsl verify` searches
    counterexamples for.  In EXPR, `valid` is a `Name` and `due(reply)` a `Call`."""

    id: Ident | None
    wording: str
    record: Ident | None
    expr: Expr
    span: Span = _span()


# ---- record-level rules --------------------------------------------------------------------


@attrs.frozen
class RuWhen:
    expr: Expr
    span: Span = _span()


@attrs.frozen
class RuRequire:
    expr: Expr
    span: Span = _span()


@attrs.frozen
class RuPer:
    """`require at least N EVENT per day|week [HH:MM-HH:MM] from EXPR to EXPR`."""

    count: Number
    event: Ident
    period: Ident
    hours: str | None
    start: Expr
    end: Expr
    span: Span = _span()


@attrs.frozen
class RuSeverity:
    level: Ident
    span: Span = _span()


@attrs.frozen
class RuPoints:
    points: Number
    span: Span = _span()


RuleStmt: TypeAlias = RuWhen | RuRequire | RuPer | RuSeverity | RuPoints


@attrs.frozen
class RuleDecl:
    """`rule NAME ["words"] for RECORD { ... }`: an obligation on each record of a type, not a
    complaint's validity: broken, it is a finding of its own kind with a severity and points."""

    name: Ident
    wording: str | None
    record: Ident
    stmts: tuple[RuleStmt, ...]
    span: Span = _span()


@attrs.frozen
class CiteItem:
    """`reply_48h: "002 八 投诉答复时间", "002 八 投诉解决时限"`: a clause (a condition, a
    deadline, an escalation, a metric, an invariant, a transcript rule or situation, or a
    situation's rule `s16.reply`) and the sections of the standards it encodes."""

    clause: RuleRef
    refs: tuple[String, ...]
    span: Span = _span()


@attrs.frozen
class CitesDecl:
    items: tuple[CiteItem, ...]
    span: Span = _span()


Item: TypeAlias = (
    Import
    | RecordDecl
    | Validity
    | Example
    | CalendarDecl
    | DeadlineDecl
    | EscalationDecl
    | PhrasesDecl
    | TranscriptRules
    | TranscriptExample
    | MetricDecl
    | InvariantDecl
    | CitesDecl
    | RuleDecl
)


@attrs.frozen
class Comment:
    text: str
    span: Span = _span()


@attrs.frozen
class Module:
    header: Header | None
    items: tuple[Item, ...]
    comments: tuple[Comment, ...] = attrs.field(default=(), eq=False, repr=False)
    span: Span = _span()

"""`csdsl verify`: search for records that break a policy's invariants.

In: a loaded `Policy`, a budget (`max_examples` records per invariant) and a seed.  Out: one
`InvariantResult` per `invariant` clause: it held on every record tried, or a `Counterexample`:
the record (IO.md input form, so `csdsl timeline`, and where the policy has the validity block,
`csdsl validate` and `csdsl explain` take it back), the values of
the invariant's terms (`valid`, `due(...)`), how each part of the invariant came out on it, and an
`example` block that states what the policy does with the record today, to paste into the policy
(it passes as written; the owner edits its expectations to what the policy should do).

An invariant is broken by a record on which it is false.  Unknown (a value it needs is missing, a
due time that does not exist) is not false: a policy owner who wants a due time to exist says so,
`due(reply) is set`.

Terms, on a record with no events yet:
- `valid` is the verdict of the record's validity block;
- `due(D)` is the due time of deadline D's first cycle; missing when D starts on an event, or no
  target applies;
- `due(L.R)` is when ladder L must have reached role R if nobody acts (each breach of its clock
  and each step left undone);
- `due(... where F = V and ...)` is that due time for the record with those fields changed.

The policy's own examples come first: the first whose `given` record breaks the invariant is
the counterexample (`source` names it; its events play no part).  Then the search, Hypothesis':
`hypothesis.find` over `csdsl.testing.record_values`, drawing the
fields the invariant, the validity block and the deadlines' targets read (the others get their
plain value) and, about half the time, values next to the constants they are compared with (and
for a clock's start, instants at the openings and closings of its working calendar); seeded
from `seed` and the invariant, so the same seed finds the same counterexample.  Hypothesis then
shrinks it (numbers toward 0, datetimes toward the start of 2024), and last each field that can
take its plain value (`testing.plain_value`: false, 0, "", missing, the first enum value, a
working-day morning) and still break the invariant gets it.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import random
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs
from hypothesis import HealthCheck, Phase, find, settings
from hypothesis.errors import NoSuchExample

from csdsl import ir
from csdsl.assure import VERIFY_MAX_EXAMPLES
from csdsl.calendar import CalendarError, WorkCalendar
from csdsl.explain import ExprTexts, Step, derive, step_lines
from csdsl.interpreter import compile_expr
from csdsl.records import json_value
from csdsl.syntax import ast
from csdsl.syntax.format import format_module
from csdsl.testing.well_typed import boundaries, plain_value, record_values
from csdsl.timeline import Milestone
from csdsl.values import instant

if TYPE_CHECKING:
    from csdsl.api import Policy

__all__ = [
    "MAX_EXAMPLES",
    "Counterexample",
    "InvariantChecker",
    "InvariantResult",
    "verify",
    "verify_one",
]

MAX_EXAMPLES = VERIFY_MAX_EXAMPLES


class InvariantChecker:
    """One invariant, compiled: `checker(values)` is True, False or None (unknown) on a record's
    checked values; `checker.terms(values)` are the values of its terms."""

    def __init__(self, policy: Policy, invariant: ir.Invariant) -> None:
        self.policy = policy
        self.invariant = invariant
        self._fn = compile_expr(invariant.expr)
        self._builder = policy._builder(invariant.record)
        probes = invariant.probes
        self._deadlines = {p.clause for p in probes if p.kind == "deadline" and p.clause}
        self._ladders = {p.clause for p in probes if p.kind == "escalation" and p.clause}

    def terms(self, values: Mapping[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        timelines: dict[tuple[tuple[str, Any], ...], list[Milestone] | None] = {}
        for p in self.invariant.probes:
            if p.kind == "valid":
                out[p.name] = self.policy.validate_values(values, self.invariant.record).valid
                continue
            if p.overrides not in timelines:
                timelines[p.overrides] = self._milestones({**values, **dict(p.overrides)})
            out[p.name] = _due(timelines[p.overrides], p)
        return out

    def _milestones(self, values: Mapping[str, Any]) -> list[Milestone] | None:
        try:
            return self._builder.untouched(values, self._deadlines, self._ladders)
        except CalendarError:
            return None

    def __call__(self, values: Mapping[str, Any]) -> bool | None:
        result = self._fn({**values, **self.terms(values)})
        return result if isinstance(result, bool) else None


def _due(milestones: Sequence[Milestone] | None, p: ir.Probe) -> dt.datetime | None:
    for m in milestones or ():
        if p.kind == "deadline" and m.kind == "deadline" and m.clause == p.clause:
            return m.due  # the first cycle comes first
        if (
            p.kind == "escalation"
            and m.kind == "escalation"
            and m.clause.startswith(f"{p.clause}: ")
            and m.owner == p.role
        ):
            return m.due
    return None


# ---- results -----------------------------------------------------------------------------------


@attrs.frozen
class Counterexample:
    record: dict[str, Any]  # JSON, as a records file would hold it
    terms: tuple[tuple[str, Any], ...]  # term -> value (JSON)
    derivation: Step
    example: str  # an `example` block to paste into the policy ("" for one of its own)
    source: str = "generated"  # or `example "TITLE" (FILE:LINE)`: one of the policy's examples

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "record": self.record,
            "terms": dict(self.terms),
            "derivation": self.derivation.to_json(),
            "example": self.example,
        }


@attrs.frozen
class InvariantResult:
    invariant: ir.Invariant
    holds: bool
    max_examples: int
    seed: int
    counterexample: Counterexample | None = None

    @property
    def where(self) -> str:
        return f"{self.invariant.span.file}:{self.invariant.span.line}"

    def to_json(self) -> dict[str, Any]:
        inv = self.invariant
        return {
            "invariant": inv.id,
            "wording": inv.wording,
            "record_type": inv.record,
            "file": inv.span.file,
            "line": inv.span.line,
            "holds": self.holds,
            "max_examples": self.max_examples,
            "seed": self.seed,
            "counterexample": self.counterexample.to_json() if self.counterexample else None,
        }

    def to_text(self) -> str:
        inv = self.invariant
        name = f"{inv.id} " if inv.id else ""
        head = f'{self.where}: invariant {name}"{inv.wording}"'
        if self.counterexample is None:
            return f"{head}: holds ({self.max_examples} records tried, seed {self.seed})"
        c = self.counterexample
        lines = [f"{head}: BROKEN"]
        if c.source != "generated":
            lines.append(f"  broken by the policy's own {c.source}")
        lines.append("  counterexample (a record, as a JSON line):")
        lines.append("    " + json.dumps(c.record, ensure_ascii=False))
        if c.terms:
            lines.append("  terms:")
            lines += [f"    {k} = {_term_text(v)}" for k, v in c.terms]
        lines.append("  how it came out:")
        lines += step_lines(c.derivation, 4)
        if c.example:
            lines.append("  as an example to paste into the policy:")
            lines += ["    " + line if line else "" for line in c.example.splitlines()]
        return "\n".join(lines)


# ---- the search --------------------------------------------------------------------------------


def _read(policy: Policy, inv: ir.Invariant) -> tuple[set[str], dict[str, list[Any]]]:
    """The fields the invariant's outcome depends on, and values worth drawing for them."""
    exprs: list[ir.Expr | None] = [inv.expr]
    used = set(ir.fields_used(inv.expr))
    kinds = {p.kind for p in inv.probes}
    if "valid" in kinds:
        v = policy.ir.validity(inv.record)
        exprs += [c.expr for c in (*v.conditions, *v.exceptions)] if v else []
    near: dict[str, list[Any]] = {}
    if kinds & {"deadline", "escalation"}:
        steps = [s for x in policy.ir.escalations if x.record == inv.record for s in x.steps]
        ladder_specs = [spec for s in steps for spec in (s.after, s.within)]
        for d in policy.ir.deadlines:
            if d.record != inv.record:
                continue
            exprs += [t.when for t in d.targets]
            if d.start_field is None:
                continue
            used.add(d.start_field)
            specs = [t.time for t in d.targets] + [d.cap] + ladder_specs
            for name in sorted({s.calendar for s in specs if s is not None and s.calendar}):
                cal = policy.ir.calendar(name)
                if cal is not None:
                    near.setdefault(d.start_field, []).extend(_edges(cal, policy.tz))
    for p in inv.probes:
        used.update(name for name, _ in p.overrides)
    for e in exprs[1:]:
        used.update(ir.fields_used(e) if e is not None else ())
    for e in exprs:
        boundaries(e, near)
    return used, near


@functools.cache
def _edges(cal: WorkCalendar, tz: dt.tzinfo) -> tuple[dt.datetime, ...]:
    """The instants at and just before each opening and closing of a working calendar in the
    year the search draws from (2024): where working time jumps, so where clocks on it differ
    most from their neighbours (a complaint at 17:59:59 on a Friday, or on a holiday's eve)."""
    if cal.is_24x7:
        return ()
    out: list[dt.datetime] = []
    day, second = dt.date(2024, 1, 1), dt.timedelta(seconds=1)
    while day.year == 2024:
        try:
            spans = cal.day_intervals(day)
        except CalendarError:  # no holiday data for the year
            return tuple(out)
        for edge in (t for span in spans for t in span):
            # fixed offsets, as data is read: two values subtract as instants
            out += [instant((edge - second).astimezone(tz), tz), instant(edge.astimezone(tz), tz)]
        day += dt.timedelta(days=1)
    return tuple(out)


def _search(check: InvariantChecker, max_examples: int, seed: int) -> dict[str, Any] | None:
    policy, inv = check.policy, check.invariant
    record = policy.ir.record(inv.record)
    assert record is not None
    used, near = _read(policy, inv)
    drawn = ir.Record(record.name, tuple(f for f in record.fields if f.name in used))
    filler = {f.name: plain_value(f, policy.tz) for f in record.fields if f.name not in used}
    order = [f.name for f in record.fields]
    values = record_values(drawn, policy.tz, near=near).map(
        lambda d: {k: d[k] if k in d else filler[k] for k in order}
    )
    try:
        found = find(
            values,
            lambda v: check(v) is False,
            settings=settings(
                max_examples=max_examples,
                database=None,
                deadline=None,
                phases=[Phase.generate, Phase.shrink],
                suppress_health_check=list(HealthCheck),
            ),
            random=random.Random(f"{seed}:{inv.label}"),
        )
    except NoSuchExample:
        return None
    # Hypothesis' shrinking is not always minimal: each field still away from its plain value
    # gets it when the record stays a counterexample (reads better, and the same every time)
    for f in record.fields:
        trial = {**found, f.name: plain_value(f, policy.tz)}
        if trial != found and check(trial) is False:
            found = trial
    return found


def verify(
    policy: Policy, *, max_examples: int = MAX_EXAMPLES, seed: int = 0
) -> list[InvariantResult]:
    """Search each invariant of `policy` for a counterexample (in the order written)."""
    return [
        verify_one(policy, inv, max_examples=max_examples, seed=seed)
        for inv in policy.ir.invariants
    ]


def verify_one(
    policy: Policy, inv: ir.Invariant, *, max_examples: int = MAX_EXAMPLES, seed: int = 0
) -> InvariantResult:
    """Search one invariant of `policy` for a counterexample."""
    check = InvariantChecker(policy, inv)
    cx = _own_example(check)
    if cx is None:
        found = _search(check, max_examples, seed)
        cx = _counterexample(check, found) if found is not None else None
    return InvariantResult(inv, cx is None, max_examples, seed, cx)


def _own_example(check: InvariantChecker) -> Counterexample | None:
    """The first of the policy's own examples of the record type that breaks the invariant
    (its `given` record; its events play no part): tried before any generated record."""
    for ex in check.policy.ir.examples:
        if ex.record == check.invariant.record and check(dict(ex.values)) is False:
            where = f'example "{ex.title}" ({ex.span.file}:{ex.span.line})'
            return _counterexample(check, dict(ex.values), source=where)
    return None


# ---- printing a counterexample -----------------------------------------------------------------


def _counterexample(
    check: InvariantChecker, values: dict[str, Any], source: str = "generated"
) -> Counterexample:
    """The counterexample `values`; a generated one with its `example` block to paste (one of
    the policy's own examples needs none)."""
    policy, inv = check.policy, check.invariant
    terms = check.terms(values)
    tz = policy.tz
    label = inv.id or f"line-{inv.span.line}"
    record = {"id": f"counterexample-{label}"}
    record.update((k, _json(v, tz)) for k, v in values.items())
    derivation = derive(inv.expr, {**values, **terms}, ExprTexts(policy))
    return Counterexample(
        record,
        tuple((k, _json(v, tz)) for k, v in terms.items()),
        derivation,
        _example(policy, inv, values, terms) if source == "generated" else "",
        source,
    )


def _term_text(v: Any) -> str:
    """A term's JSON value for people: true/false, a datetime or duration unquoted, missing."""
    if v is None:
        return "missing"
    return v if isinstance(v, str) else json.dumps(v)


def _json(v: Any, tz: dt.tzinfo) -> Any:
    return json_value(v.astimezone(tz) if isinstance(v, dt.datetime) else v)


def literal(v: Any, f: ir.Field, tz: dt.tzinfo) -> ast.Value:
    """A value as policy text (an example's `given`)."""
    if v is None:
        return ast.Missing()
    if isinstance(v, bool):
        return ast.Bool(v)
    if f.type.kind is ir.Kind.ENUM:
        return ast.Name(str(v))
    if isinstance(v, int | float):
        return ast.Neg(ast.Number(-v)) if v < 0 else ast.Number(v)
    if isinstance(v, dt.timedelta):
        seconds = int(v.total_seconds())
        return ast.Neg(ast.Duration(-seconds)) if seconds < 0 else ast.Duration(seconds)
    if isinstance(v, dt.datetime):
        return ast.DateTimeLit(v.astimezone(tz))
    if isinstance(v, dt.date):
        return ast.DateLit(v)
    return ast.String(str(v))


def _example(
    policy: Policy, inv: ir.Invariant, values: Mapping[str, Any], terms: Mapping[str, Any]
) -> str:
    """What the policy does with the record today, as an `example` block that passes."""
    record = policy.ir.record(inv.record)
    assert record is not None
    tz = policy.tz
    fields = tuple(
        ast.FieldValue(ast.Ident(f.name), literal(values.get(f.name), f, tz)) for f in record.fields
    )
    verdict: bool | None = None
    because: tuple[ast.Ident, ...] | None = None
    if policy.ir.validity(inv.record) is not None:
        v = policy.validate_values(values, inv.record)
        verdict = v.valid
        fired = (*v.matched, *v.excepted)
        because = tuple(ast.Ident(c) for c in fired) if fired else None
    clocks = []
    if any(d.record == inv.record for d in policy.ir.deadlines):
        timeline = policy._builder(inv.record).build(None, values, [], None)
        for m in timeline.milestones:
            if m.kind == "deadline" and m.cycle == 1 and m.due is not None:
                clocks.append(
                    ast.ExpectClock(
                        ast.Ident(m.clause),
                        ast.Ident(m.status),
                        due=ast.DateTimeLit(m.due.astimezone(tz)),
                    )
                )
    title = f"counterexample to {inv.id or inv.wording}"
    example = ast.Example(
        None,
        title,
        ast.Ident(inv.record),
        False,
        fields,
        verdict,
        because,
        (),
        tuple(clocks),
    )
    if verdict is None and not clocks:
        return ""  # the policy states nothing about the record an example could expect
    shown = [f"# {k} = {_term_text(_json(v, tz))}" for k, v in terms.items()]
    return "\n".join([*shown, format_module(ast.Module(None, (example,))).rstrip("\n")])

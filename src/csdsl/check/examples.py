"""Examples: the records they give, their events, and what they expect.  AST -> IR.

In: the root module's `example` declarations, with the records, validity blocks, deadlines,
ladders, rules and metrics already lowered.  Out: `ir.Example`s and diagnostics: an unknown
record or example to start from (E203, E404), examples that extend each other in a cycle
(E405), a required field not set (E403), an unknown condition after `because` (E406), no
validity block to test (E407), an event no clause of the record uses (E408), an unknown
deadline, rule or role (E409), a status the clock, rule or metric does not have (E410), and an
example of several records expecting anything but a metric's status (E411).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from csdsl import ir
from csdsl.check.lower import Exprs, article, literal_hint, source_text
from csdsl.diagnostics import did_you_mean, rename
from csdsl.source import Span
from csdsl.syntax import ast

if TYPE_CHECKING:
    from csdsl.check.lower import Lowering


def lower_examples(o: Lowering, examples: list[ast.Example]) -> list[ir.Example]:
    """The examples, each with every field of its record (missing ones as None)."""
    by_id = {e.id.name: e for e in examples if e.id is not None}
    done: dict[int, tuple[str, dict[str, ir.Value]] | None] = {}
    attempted: dict[int, set[str]] = {}  # fields an example sets, rightly or not

    Resolved = tuple[str, dict[str, ir.Value]]

    def resolve(e: ast.Example, chain: tuple[int, ...]) -> Resolved | None:
        if id(e) in done:
            return done[id(e)]
        if id(e) in chain:
            o.err(
                "E405",
                "examples extend each other in a cycle",
                e.given.span,
                "start one of them from a record type: `given Complaint { ... }`",
            )
            done[id(e)] = None
            return None
        result: tuple[str, dict[str, ir.Value]] | None = None
        attempted[id(e)] = {fv.name.name for fv in e.fields}
        if e.base:
            base = by_id.get(e.given.name)
            if base is None:
                o.err(
                    "E404",
                    f"unknown example `{e.given.name}`",
                    e.given.span,
                    did_you_mean(e.given.name, by_id)
                    or 'name the example to start from with `example <id> "title" {`',
                    fixes=rename(e.given.span, e.given.name, by_id),
                )
            else:
                inherited = resolve(base, (*chain, id(e)))
                attempted[id(e)] |= attempted.get(id(base), set())
                if inherited is not None:
                    record_name, base_values = inherited
                    values = dict(base_values)
                    values.update(example_values(o, e, o.records[record_name]))
                    result = (record_name, values)
        else:
            record = o.records.get(e.given.name)
            if record is None:
                hint = did_you_mean(e.given.name, [*o.records, *by_id])
                if e.given.name in by_id:
                    hint = (
                        f"to start from example `{e.given.name}`, write `given "
                        f"{e.given.name} with {{ ... }}`"
                    )
                o.err(
                    "E203",
                    f"unknown record `{e.given.name}`",
                    e.given.span,
                    hint or "declare it with `record`",
                    # `given EXAMPLE` (no `with`) names an example only as a hint
                    fixes=rename(e.given.span, e.given.name, [*o.records, *by_id], only=o.records),
                )
            else:
                result = (record.name, example_values(o, e, record))
        done[id(e)] = result
        return result

    out = []
    for e in examples:
        o.not_a_keyword(e.id, "example") if e.id is not None else None
        resolved = resolve(e, ())
        if resolved is None:
            continue
        record_name, values = resolved
        record = o.records[record_name]
        if not complete(
            o, record, values, attempted.get(id(e), set()), f'example "{e.title}"', e.span
        ):
            continue
        validity = o.validities.get(record_name)
        if validity is None and e.expect_valid is not None:
            o.err(
                "E407",
                f"no validity block for record `{record_name}`, so this example "
                "has nothing to test",
                e.span,
                f"add `valid {record_name} when any {{ ... }}`",
            )
            continue
        events, clocks, rule_checks, metric_checks = example_clocks(o, e, record_name)
        more = example_more(o, e, resolve, attempted)
        if e.more and (e.expect_valid is not None or clocks or rule_checks):
            o.err(
                "E411",
                f'example "{e.title}" gives several records, so it can only test metrics',
                e.more[0].span,
                "expect a metric's status (`expect METRIC pass|fail|not_applicable`); "
                "test a verdict, a clock or a rule in an example of one record",
            )
        if validity is not None and e.because is not None:
            known = [c.id for c in (*validity.conditions, *validity.exceptions)]
            for name in e.because:
                if name.name not in known:
                    o.err(
                        "E406",
                        f"unknown condition `{name.name}`",
                        name.span,
                        did_you_mean(name.name, known)
                        or f"the conditions of `{record_name}` are "
                        + ", ".join(f"`{k}`" for k in known),
                        fixes=rename(name.span, name.name, known),
                    )
        full = tuple((f.name, values.get(f.name)) for f in record.fields)
        out.append(
            ir.Example(
                e.title,
                e.id.name if e.id else None,
                record_name,
                full,
                e.expect_valid,
                tuple(b.name for b in e.because) if e.because else None,
                e.span,
                events=events,
                clocks=clocks,
                rules=rule_checks,
                more=more,
                metrics=metric_checks,
            )
        )
    return out


def example_more(
    o: Lowering,
    e: ast.Example,
    resolve: Callable[[ast.Example, tuple[int, ...]], tuple[str, dict[str, ir.Value]] | None],
    attempted: dict[int, set[str]],
) -> tuple[tuple[str, tuple[tuple[str, ir.Value], ...]], ...]:
    """The further records of an example that tests a metric, each complete."""
    out = []
    for g in e.more:
        span = g.span
        part = ast.Example(
            None, e.title, g.given, g.base, g.fields, None, span=span, given_span=span
        )
        # kept alive: `resolve` remembers examples by `id()`, which a freed part would pass on
        o.example_parts.append(part)
        got = resolve(part, ())
        if got is None:
            continue
        name, values = got
        record = o.records[name]
        tried = attempted.get(id(part), set())
        if not complete(o, record, values, tried, f'a record of example "{e.title}"', span):
            continue
        out.append((name, tuple((f.name, values.get(f.name)) for f in record.fields)))
    return tuple(out)


def complete(
    o: Lowering,
    record: ir.Record,
    values: dict[str, ir.Value],
    tried: set[str],
    what: str,
    span: Span,
) -> bool:
    """Whether an example's record sets every required field; E403 names those it leaves out
    (a field it tried to set, wrongly, was reported already)."""
    if all(f.optional or f.name in values for f in record.fields):
        return True
    absent = [
        f.name
        for f in record.fields
        if not f.optional and f.name not in values and f.name not in tried
    ]
    if absent:
        o.err(
            "E403",
            f"{what} does not set required field"
            f"{'s' if len(absent) > 1 else ''} " + ", ".join(f"`{a}`" for a in absent),
            span,
            "give every field a value, or start from a complete example "
            "with `given <id> with { ... }`",
        )
    return False


def plain_status(o: Lowering, c: ast.ExpectClock, what: str, statuses: Sequence[str]) -> bool:
    """`expect NAME STATUS` of a rule or a metric: one of its statuses, no cycle, no due."""
    status = c.status.name
    if status not in statuses:
        o.err(
            "E410",
            f"`{status}` is not a status of a {what}",
            c.status.span,
            did_you_mean(status, statuses) or "write " + ", ".join(statuses),
            fixes=rename(c.status.span, status, statuses),
        )
        return False
    if c.cycle is not None or c.due is not None:
        o.err(
            "E410",
            f"`{c.clock.name}` is a {what}: it has no cycle or due time",
            c.span,
            f"write `expect {c.clock.name} {status}`",
        )
        return False
    return True


def example_clocks(
    o: Lowering, e: ast.Example, record: str
) -> tuple[
    tuple[tuple[dt.datetime, str, str | None], ...],
    tuple[ir.ClockExpectation, ...],
    tuple[ir.RuleExpectation, ...],
    tuple[ir.MetricExpectation, ...],
]:
    """An example's events, clock expectations and rule expectations, checked against the
    record's clocks and rules."""
    deadlines = [d for d in o.deadlines.values() if d.record == record]
    ladders = [x for x in o.escalations if x.record == record]
    rules = {r.name: r for r in o.rules.values() if r.record == record}
    known = tuple(
        dict.fromkeys(
            (
                *ir.clock_events(deadlines, ladders),
                *(n for r in rules.values() for n in r.events),
            )
        )
    )
    roles = {r for x in ladders for r in x.roles}
    events = []
    for ev in e.events:
        if ev.name.name not in known:
            o.err(
                "E408",
                f"no clause of `{record}` uses the event `{ev.name.name}`",
                ev.name.span,
                did_you_mean(ev.name.name, known)
                or "use the events named in `starts on`, `stops on`, `pauses on`, ...",
                fixes=rename(ev.name.span, ev.name.name, known),
            )
        if ev.role is not None and ev.role.name not in roles:
            o.err(
                "E232",
                f"undeclared role `{ev.role.name}`",
                ev.role.span,
                did_you_mean(ev.role.name, roles) or "roles are declared by `roles`",
                fixes=rename(ev.role.span, ev.role.name, roles),
            )
        moment = Exprs(o, None).literal(ev.at)
        assert moment is not None and isinstance(moment.value, dt.datetime)
        events.append((moment.value, ev.name.name, ev.role.name if ev.role else None))
    clocks = []
    rule_checks = []
    metric_checks = []
    for c in e.clocks:
        status = c.status.name
        if not c.escalation and c.clock.name in o.metric_names:
            if plain_status(o, c, "metric", ir.METRIC_STATUSES):
                metric_checks.append(ir.MetricExpectation(c.clock.name, status, c.span))
            continue
        if not c.escalation and c.clock.name in rules:
            if plain_status(o, c, "rule", ir.RULE_STATUSES):
                rule_checks.append(ir.RuleExpectation(c.clock.name, status, c.span))
            continue
        if not c.escalation and c.clock.name not in {d.name for d in deadlines}:
            named = [*(d.name for d in deadlines), *rules, *o.metric_names]
            o.err(
                "E409",
                f"no deadline, rule or metric `{c.clock.name}` for `{record}`",
                c.clock.span,
                did_you_mean(c.clock.name, named)
                or "name a deadline or a rule declared `for` this record, or a metric",
                fixes=rename(c.clock.span, c.clock.name, named),
            )
            continue
        if status not in ir.STATUSES:
            o.err(
                "E410",
                f"`{status}` is not a status",
                c.status.span,
                did_you_mean(status, ir.STATUSES)
                or "write met, breached, pending or not_applicable",
                fixes=rename(c.status.span, status, ir.STATUSES),
            )
            continue
        if c.escalation and c.clock.name not in roles:
            o.err(
                "E409",
                f"no escalation of `{record}` goes to `{c.clock.name}`",
                c.clock.span,
                did_you_mean(c.clock.name, roles) or "name a role of the `roles` ladder",
                fixes=rename(c.clock.span, c.clock.name, roles),
            )
            continue
        due = Exprs(o, None).literal(c.due) if c.due is not None else None
        clocks.append(
            ir.ClockExpectation(
                c.clock.name,
                status,
                c.escalation,
                c.cycle,
                due.value if due is not None and isinstance(due.value, dt.datetime) else None,
                c.span,
            )
        )
    return tuple(events), tuple(clocks), tuple(rule_checks), tuple(metric_checks)


def example_values(o: Lowering, e: ast.Example, record: ir.Record) -> dict[str, ir.Value]:
    o.unique((fv.name for fv in e.fields), "field", " in this example")
    values: dict[str, ir.Value] = {}
    for fv in e.fields:
        field = record.field(fv.name.name)
        if field is None:
            o.err(
                "E401",
                f"record `{record.name}` has no field `{fv.name.name}`",
                fv.name.span,
                did_you_mean(fv.name.name, [f.name for f in record.fields])
                or f"the fields of `{record.name}` are declared at line {record.span.line}",
                fixes=rename(fv.name.span, fv.name.name, [f.name for f in record.fields]),
            )
            continue
        ok, value = example_value(o, fv.value, field)
        if ok:
            values[field.name] = value
    return values


def example_value(o: Lowering, v: ast.Value, field: ir.Field) -> tuple[bool, ir.Value]:
    t = field.type
    if isinstance(v, ast.Missing):
        if not field.optional:
            o.err(
                "E402",
                f"`{field.name}` is required and cannot be `missing`",
                v.span,
                f"give it a {t} value, or declare it optional: `{field.name}: {t}?`",
            )
            return False, None
        return True, None
    if t.kind is ir.Kind.ERROR:
        return False, None
    if t.kind is ir.Kind.ENUM:
        if isinstance(v, ast.Name) and v.id in t.values:
            return True, v.id
        if isinstance(v, ast.String) and v.value in t.values:
            o.err(
                "E402",
                f"enum values are names, not strings: write `{v.value}`",
                v.span,
                f"remove the quotes around `{v.value}`",
            )
            return False, None
        name = v.id if isinstance(v, ast.Name) else None
        o.err(
            "E402",
            f"`{name or source_text(v)}` is not a value of `{field.name}`",
            v.span,
            (did_you_mean(name, t.values) if name else None)
            or "the values are " + ", ".join(f"`{x}`" for x in t.values),
            fixes=rename(v.span, name, t.values) if name else [],
        )
        return False, None
    lowered = Exprs(o, None).literal(v) if not isinstance(v, ast.Name) else None
    if lowered is None and isinstance(v, ast.Neg):
        inner = Exprs(o, None).literal(v.operand)
        if (
            inner is not None
            and isinstance(inner.value, int | float | dt.timedelta)
            and (inner.type.numeric or inner.type.kind is ir.Kind.DURATION)
        ):
            lowered = ir.Const(-inner.value, inner.type, v.span)
    if lowered is None:
        o.err(
            "E402",
            f"`{source_text(v)}` is not {article(str(t))} value for `{field.name}`",
            v.span,
            literal_hint(t),
        )
        return False, None
    if lowered.type == t or (t.kind is ir.Kind.NUMBER and lowered.type.kind is ir.Kind.INT):
        return True, lowered.value
    if (
        t.kind is ir.Kind.INT
        and lowered.type.kind is ir.Kind.NUMBER
        and isinstance(lowered.value, float)
        and lowered.value.is_integer()
    ):
        return True, int(lowered.value)
    o.err(
        "E402",
        f"`{field.name}` is {article(str(t))}, but `{source_text(v)}` is "
        f"{article(lowered.type.kind.value)}",
        v.span,
        literal_hint(t),
    )
    return False, None

"""Record-level rules: their record, their terms, their types.  AST -> IR.

In: the root module's `rule` declarations, with the records lowered.  Out: `ir.Rule`s and
diagnostics: a rule with no `require` (E290), a `when` or `require` that is not yes/no (E291), a
call a rule cannot make (E292: a function other than `first`, `last`, `count`, `date`,
`weekday`, `time_of_day`, or a record's name where an event's belongs), a calendar function of
something that is not a datetime (E293), an unknown severity (E294), a statement given twice
(E295), a `per` count that is not a whole number of at least 1, a period other than `day` or
`week`, or hours that do not run forwards (E296), `from`/`to` that are not datetimes (E297), an
unknown record after `for` (E203), two rules of one name (E202).

Inside a rule, `first(EVENT)`, `last(EVENT)` and `count(EVENT)` read the record's events
(`ir.EventRef`) and `date(X)`, `weekday(X)`, `time_of_day(X)` read a datetime on the policy's
clock (`ir.DatePart`); everything else is a condition's expression language.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Literal

from csdsl import ir
from csdsl.diagnostics import Related, did_you_mean, rename
from csdsl.source import Span
from csdsl.syntax import ast
from csdsl.syntax.format import rule_stmt_text

if TYPE_CHECKING:
    from csdsl.check.lower import Exprs, Lowering

Kind = ir.Kind
_EVENT_FUNCS = ("first", "last", "count")
FUNCTIONS = (*_EVENT_FUNCS, *ir.CALENDAR_PARTS)
_PERIODS = ("day", "week")
_HINT_CALLS = (
    "a rule reads its record's fields, `first(EVENT)`, `last(EVENT)`, `count(EVENT)`, and "
    "`date(X)`, `weekday(X)`, `time_of_day(X)` of a datetime X"
)


def _rule_exprs(o: Lowering, record: ir.Record) -> Exprs:
    from csdsl.check.lower import Exprs

    class RuleExprs(Exprs):
        """A condition's expressions, plus the event and calendar functions of a rule."""

        def lower(
            self, e: ast.Expr, expect_enum: ir.Type | None = None, owner: str | None = None
        ) -> ir.Expr:
            if isinstance(e, ast.Call):
                return self.call(e)
            if isinstance(e, ast.IsSet | ast.IsMissing) and isinstance(e.operand, ast.Call):
                return ir.IsSet(self.call(e.operand), isinstance(e, ast.IsMissing), e.span)
            return super().lower(e, expect_enum, owner)

        def call(self, e: ast.Call) -> ir.Expr:
            func = e.func.name
            if func not in FUNCTIONS or e.field is not None or e.where is not None or e.arg:
                o.err(
                    "E292",
                    f"`{func}(...)` is not a function a rule can use"
                    if func not in FUNCTIONS
                    else f"`{func}(...)` takes one name",
                    e.span,
                    (did_you_mean(func, FUNCTIONS) if func not in FUNCTIONS else None)
                    or _HINT_CALLS,
                    fixes=rename(e.func.span, func, FUNCTIONS) if func not in FUNCTIONS else [],
                )
                return ir.Const(None, ir.ERROR, e.span)
            if func in _EVENT_FUNCS:
                if e.inner is not None:
                    o.err("E292", f"`{func}(...)` takes an event's name", e.span, _HINT_CALLS)
                    return ir.Const(None, ir.ERROR, e.span)
                return self.event(func, e.record, e.span)
            if e.inner is not None:
                if e.inner.name not in ("first", "last"):
                    o.err(
                        "E292",
                        f"`{func}({e.inner.name}(...))`: only `first` and `last` give a datetime",
                        e.inner.span,
                        f"write `{func}(first(EVENT))` or `{func}(FIELD)`",
                    )
                    return ir.Const(None, ir.ERROR, e.span)
                operand: ir.Expr = self.event(e.inner.name, e.record, e.span)
            else:
                operand = self.name(ast.Name(e.record.name, span=e.record.span), None)
            if operand.type.kind not in (Kind.DATETIME, Kind.ERROR):
                o.err(
                    "E293",
                    f"`{func}(...)` reads a datetime, not {operand.type.kind.value}",
                    e.span,
                    "give it a datetime field or `first(EVENT)`",
                )
                return ir.Const(None, ir.ERROR, e.span)
            kind = {"date": ir.DATE, "weekday": ir.INT, "time_of_day": ir.DURATION}[func]
            part: Literal["date", "weekday", "time_of_day"] = (
                "date" if func == "date" else "weekday" if func == "weekday" else "time_of_day"
            )
            return ir.DatePart(part, operand, o.tz_name, kind, e.span)

        def event(self, func: str, name: ast.Ident, span: Span) -> ir.Expr:
            if name.name in o.records:
                o.err(
                    "E292",
                    f"`{name.name}` is a record, not an event",
                    name.span,
                    "a rule counts its own record's events, e.g. `count(ward_round)`; "
                    "to count records, write a `metric`",
                )
                return ir.Const(None, ir.ERROR, span)
            which: Literal["first", "last", "count"] = (
                "first" if func == "first" else "last" if func == "last" else "count"
            )
            t = ir.INT if which == "count" else ir.DATETIME
            return ir.EventRef(which, name.name, t, span)

    return RuleExprs(o, record)


def _hours(text: str) -> tuple[dt.time, dt.time] | None:
    a, _, b = text.partition("-")
    try:
        start = dt.time.fromisoformat(a)
        end = dt.time(0) if b == "24:00" else dt.time.fromisoformat(b)
    except ValueError:
        return None
    if end != dt.time(0) and end <= start:
        return None
    return start, end


def _once(o: Lowering, seen: dict[str, ast.RuleStmt], word: str, stmt: ast.RuleStmt) -> bool:
    first = seen.get(word)
    if first is not None:
        o.err(
            "E295",
            f"a second `{word}` in one rule",
            stmt.span,
            "a rule has one `when`, one `severity` and one `points`; join two conditions "
            "with `and`",
            [Related("the first one", first.span)],
        )
        return False
    seen[word] = stmt
    return True


def _boolean(o: Lowering, x: ir.Expr, e: ast.Expr, word: str) -> None:
    if x.type.kind not in (Kind.BOOL, Kind.ERROR):
        o.err(
            "E291",
            f"`{word}` needs a yes/no expression, but this is {x.type.kind.value}",
            e.span,
            "compare it, e.g. `require count(ward_round) >= 2` or "
            "`require first(approved) <= first(transferred)`",
        )


def lower_rules(o: Lowering, decls: list[ast.RuleDecl]) -> list[ir.Rule]:
    o.unique((d.name for d in decls), "rule")
    out: list[ir.Rule] = []
    for decl in decls:
        o.not_a_keyword(decl.name, "rule")
        record = o.record_named(decl.record)
        if record is None:
            continue
        exprs = _rule_exprs(o, record)
        seen: dict[str, ast.RuleStmt] = {}
        when: ir.Expr | None = None
        severity = "major"
        points: int | float | None = None
        requires: list[ir.Require] = []
        for stmt in decl.stmts:
            if isinstance(stmt, ast.RuWhen):
                x = exprs.lower(stmt.expr)
                _boolean(o, x, stmt.expr, "when")
                if _once(o, seen, "when", stmt):
                    when = x
            elif isinstance(stmt, ast.RuRequire):
                x = exprs.lower(stmt.expr)
                _boolean(o, x, stmt.expr, "require")
                requires.append(
                    ir.Require(rule_stmt_text(stmt), x, None, ir.terms_used(x), stmt.span)
                )
            elif isinstance(stmt, ast.RuPer):
                per = _per(o, exprs, stmt)
                if per is not None:
                    requires.append(
                        ir.Require(
                            rule_stmt_text(stmt),
                            None,
                            per,
                            ir.terms_used(per.start, per.end),
                            stmt.span,
                        )
                    )
            elif isinstance(stmt, ast.RuSeverity):
                level = stmt.level.name
                if level not in ir.SEVERITIES:
                    o.err(
                        "E294",
                        f"`{level}` is not a severity",
                        stmt.level.span,
                        did_you_mean(level, ir.SEVERITIES)
                        or "severities are " + ", ".join(ir.SEVERITIES),
                        fixes=rename(stmt.level.span, level, ir.SEVERITIES),
                    )
                elif _once(o, seen, "severity", stmt):
                    severity = level
            elif _once(o, seen, "points", stmt):
                points = stmt.points.value
        if not any(isinstance(s, ast.RuRequire | ast.RuPer) for s in decl.stmts):
            o.err(
                "E290",
                f"rule `{decl.name.name}` requires nothing",
                decl.name.span,
                "say what must hold: `require EXPR` or "
                "`require at least N EVENT per day from START to END`",
            )
        out.append(
            ir.Rule(
                decl.name.name,
                decl.wording,
                record.name,
                when,
                tuple(requires),
                severity,
                points,
                o.tz_name,
                decl.span,
            )
        )
    return out


def _per(o: Lowering, exprs: Exprs, stmt: ast.RuPer) -> ir.PerPeriod | None:
    ok = True
    n = stmt.count.value
    if not isinstance(n, int) or n < 1:
        o.err(
            "E296",
            f"`at least {stmt.count.value}`: the count is a whole number of at least 1",
            stmt.count.span,
            "e.g. `require at least 2 ward_round per day from admitted_at to discharged_at`",
        )
        ok = False
    if stmt.event.name in o.records:
        o.err(
            "E292",
            f"`{stmt.event.name}` is a record, not an event",
            stmt.event.span,
            "a rule counts its own record's events, e.g. `at least 2 ward_round per day`; "
            "to count records, write a `metric`",
        )
        ok = False
    if stmt.period.name not in _PERIODS:
        o.err(
            "E296",
            f"`per {stmt.period.name}`: a rule counts per day or per week",
            stmt.period.span,
            did_you_mean(stmt.period.name, _PERIODS) or "write `per day` or `per week`",
            fixes=rename(stmt.period.span, stmt.period.name, _PERIODS),
        )
        ok = False
    hours = None
    if stmt.hours is not None:
        hours = _hours(stmt.hours)
        if hours is None:
            o.err(
                "E296",
                f"`{stmt.hours}` is not a span of the day",
                stmt.span,
                "write the hours as HH:MM-HH:MM, forwards, e.g. `00:00-12:00` or `12:00-24:00`",
            )
            ok = False
    ends: list[ir.Expr] = []
    for e in (stmt.start, stmt.end):
        x = exprs.lower(e)
        if x.type.kind not in (Kind.DATETIME, Kind.ERROR):
            o.err(
                "E297",
                f"`from`/`to` take datetimes, not {x.type.kind.value}",
                e.span,
                "e.g. `from admitted_at to discharged_at` or `to last(discharged)`",
            )
            ok = False
        ends.append(x)
    if not ok:
        return None
    assert isinstance(n, int)
    period: Literal["day", "week"] = "day" if stmt.period.name == "day" else "week"
    return ir.PerPeriod(n, stmt.event.name, period, hours, ends[0], ends[1])

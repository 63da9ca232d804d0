"""Metrics: names, types and thresholds.  AST -> IR.

In: the root module's `metric` declarations and the records in scope.  Out: `ir.Metric`s and
diagnostics: a metric without a threshold (E311), an unknown aggregate (E312), an aggregate
without the field it needs or with one it cannot add up (E313), a percentile rank outside 0-100
(E314), a value that is not made of aggregates and numbers (E315), a threshold of another kind
than the value (E316), a grouping field some record lacks (E317), an unknown period (E318).

An aggregate's `where` may also read what the policy made of the record (`ir.Judged`): `valid`
(the verdict), a condition of the record's validity block by its id, and a deadline of the
record by its name, whose value is its status (`reply = met`).  Their misuse: `valid` or a
condition id on a record without a validity block (E319), a name that is both a condition and a
deadline (E320; a field of the same name keeps its meaning: the field is read), a deadline's
status used as a yes/no test without comparing it (E321).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from csdsl import ir
from csdsl.diagnostics import did_you_mean, rename
from csdsl.syntax import ast
from csdsl.syntax.format import expr_text

if TYPE_CHECKING:
    from csdsl.check.lower import Exprs, Lowering

Kind = ir.Kind
_NUMERIC = (Kind.INT, Kind.NUMBER)


def _where_exprs(o: Lowering, record: ir.Record) -> Exprs:
    """The lowering of a metric's `where` over `record`: a record's fields, as in a condition,
    and its verdict, conditions and deadlines."""
    from csdsl.check.lower import Exprs

    validity = o.validities.get(record.name)
    conditions = (
        {c.id for c in (*validity.conditions, *validity.exceptions)}
        if validity is not None
        else set()
    )
    deadlines = {d.name for d in o.deadlines.values() if d.record == record.name}

    class WhereExprs(Exprs):
        def pair(self, left: ast.Expr, right: ast.Expr) -> tuple[ir.Expr, ir.Expr]:
            if (
                isinstance(left, ast.Name)
                and left.id in deadlines
                and record.field(left.id) is None
            ):  # `reply = met`
                lx = self.lower(left)
                if lx.type.kind is Kind.ERROR and isinstance(right, ast.Name):
                    return lx, ir.Const(None, ir.ERROR, right.span)  # reported once, on `left`
                enum = lx.type if lx.type.kind is Kind.ENUM else None
                return lx, self.lower(right, enum, f"the status of deadline `{left.id}`")
            return super().pair(left, right)

        def name(
            self, e: ast.Name, expect_enum: ir.Type | None, owner: str | None = None
        ) -> ir.Expr:
            if expect_enum is not None or record.field(e.id) is not None:
                return super().name(e, expect_enum, owner)  # a field keeps its meaning
            if e.id in conditions and e.id in deadlines:
                o.err(
                    "E320",
                    f"`{e.id}` is both a condition and a deadline of `{record.name}`: a metric "
                    "cannot tell which it counts",
                    e.span,
                    "rename the condition or the deadline",
                )
                return ir.Const(None, ir.ERROR, e.span)
            if e.id == "valid" or e.id in conditions:
                if validity is None:
                    o.err(
                        "E319",
                        f"`{e.id}`: record `{record.name}` has no validity block, so no verdict",
                        e.span,
                        "count a verdict over the record a `valid ... when` block judges",
                    )
                    return ir.Const(None, ir.ERROR, e.span)
                kind: Any = "valid" if e.id == "valid" else "condition"
                return ir.Judged(kind, e.id, ir.BOOL, e.span)
            if e.id in deadlines:
                return ir.Judged("deadline", e.id, ir.STATUS, e.span)
            return super().name(e, expect_enum, owner)

    return WhereExprs(o, record)


class _Metric:
    def __init__(self, o: Lowering, decl: ast.MetricDecl) -> None:
        self.o = o
        self.decl = decl
        self.records: dict[str, ir.Record] = {}

    def value(self, e: ast.Expr) -> ir.MExpr:
        from csdsl.check.lower import Exprs

        o = self.o
        if isinstance(e, ast.Number | ast.Percent | ast.Duration):
            lit = Exprs(o, None).literal(e)
            assert lit is not None and isinstance(lit.value, int | float | dt.timedelta)
            return ir.MConst(lit.value, lit.type, e.span)
        if isinstance(e, ast.Call):
            return self.aggregate(e)
        if isinstance(e, ast.BinOp):
            left, right = self.value(e.left), self.value(e.right)
            return ir.MArith(e.op, left, right, self.arith_type(e, left, right), e.span)
        o.err(
            "E315",
            f"`{expr_text(e)}` cannot be part of a metric's value",
            e.span,
            "a metric's value is made of aggregates such as `count(Complaint where repeat)`, "
            "numbers and + - * /; conditions on a record go inside `where`",
        )
        return ir.MConst(0, ir.ERROR, e.span)

    def arith_type(self, e: ast.BinOp, left: ir.MExpr, right: ir.MExpr) -> ir.Type:
        a, b = left.type.kind, right.type.kind
        if Kind.ERROR in (a, b):
            return ir.ERROR
        if a in _NUMERIC and b in _NUMERIC:
            return ir.NUMBER if e.op == "/" or Kind.NUMBER in (a, b) else ir.INT
        if a is Kind.DURATION and b is Kind.DURATION and e.op in "+-/":
            return ir.NUMBER if e.op == "/" else ir.DURATION
        if a is Kind.DURATION and b in _NUMERIC and e.op in "*/":
            return ir.DURATION
        if b is Kind.DURATION and a in _NUMERIC and e.op == "*":
            return ir.DURATION
        self.o.err(
            "E301",
            f"cannot compute {a.value} {e.op} {b.value}",
            e.span,
            "durations add to durations, and divide by numbers or by durations",
        )
        return ir.ERROR

    def aggregate(self, e: ast.Call) -> ir.MExpr:

        o = self.o
        func = e.func.name
        if func not in ir.AGGREGATES:
            o.err(
                "E312",
                f"unknown aggregate `{func}`",
                e.func.span,
                did_you_mean(func, ir.AGGREGATES) or "aggregates are " + ", ".join(ir.AGGREGATES),
                fixes=rename(e.func.span, func, ir.AGGREGATES),
            )
            return ir.MConst(0, ir.ERROR, e.span)
        if e.inner is not None:
            o.err(
                "E292",
                f"`{e.inner.name}(...)` inside `{func}(...)` is for rules only",
                e.inner.span,
                f"an aggregate counts records: `{func}({e.record.name} ...)`",
            )
            return ir.MConst(0, ir.ERROR, e.span)
        record = o.record_named(e.record)
        if record is None:
            return ir.MConst(0, ir.ERROR, e.span)
        self.records[record.name] = record
        field = None
        kind = ir.INT
        if e.field is not None:
            field = record.field(e.field.name)
            if field is None:
                o.err(
                    "E204",
                    f"record `{record.name}` has no field `{e.field.name}`",
                    e.field.span,
                    did_you_mean(e.field.name, [f.name for f in record.fields])
                    or "name one of the record's fields",
                    fixes=rename(e.field.span, e.field.name, [f.name for f in record.fields]),
                )
                return ir.MConst(0, ir.ERROR, e.span)
        if func != "count":
            if field is None:
                o.err(
                    "E313",
                    f"`{func}` needs a field to add up",
                    e.span,
                    f"write `{func}({record.name}.FIELD)`",
                )
                return ir.MConst(0, ir.ERROR, e.span)
            if field.type.kind not in (*_NUMERIC, Kind.DURATION):
                o.err(
                    "E313",
                    f"`{func}` of `{field.name}`, {field.type.kind.value}: only numbers and "
                    "durations add up",
                    e.field.span if e.field else e.span,
                    f"count the records instead: `count({record.name} where ...)`",
                )
                return ir.MConst(0, ir.ERROR, e.span)
            kind = field.type
            if func == "mean" and kind.kind is not Kind.DURATION:
                kind = ir.NUMBER
        q = None
        if func == "percentile":
            if e.arg is None or not 0 <= e.arg.value <= 100:
                o.err(
                    "E314",
                    "`percentile` needs a rank from 0 to 100 first",
                    e.arg.span if e.arg is not None else e.span,
                    f"write e.g. `percentile(90, {record.name}.{field.name if field else 'f'})`",
                )
                return ir.MConst(0, ir.ERROR, e.span)
            q = float(e.arg.value)
        elif e.arg is not None:
            o.err(
                "E314",
                f"`{func}` takes no rank",
                e.arg.span,
                "only `percentile(RANK, R.field)` takes one",
            )
        where = None
        if e.where is not None:
            where = _where_exprs(o, record).lower(e.where)
            if isinstance(where, ir.Judged) and where.kind == "deadline":
                o.err(
                    "E321",
                    f"`{where.name}` is a deadline: its status is met, breached, pending or "
                    "not_applicable, not yes or no",
                    e.where.span,
                    f"compare it: `where {where.name} = met`, "
                    f"`where {where.name} in [met, breached]`",
                )
            elif where.type.kind not in (Kind.BOOL, Kind.ERROR):
                o.err(
                    "E302",
                    f"the `where` of `{func}` is {where.type.kind.value}, not a yes/no test",
                    e.where.span,
                    "compare it, e.g. `where wait > 20s`",
                )
        return ir.Aggregate(
            func,
            record.name,
            field.name if field else None,
            where,
            q,
            kind,
            expr_text(e),
            e.span,
        )


def lower_metrics(o: Lowering, decls: list[ast.MetricDecl]) -> list[ir.Metric]:
    o.unique((d.name for d in decls), "metric")
    out = []
    for d in decls:
        o.not_a_keyword(d.name, "metric")
        m = _Metric(o, d)
        e = d.expr
        if not (
            isinstance(e, ast.Compare)
            and isinstance(e.right, ast.Number | ast.Percent | ast.Duration)
        ):
            o.err(
                "E311",
                f"metric `{d.name.name}` has no threshold",
                e.span,
                "end it with what the standard requires, e.g. `... >= 85%` or `... <= 48h`",
            )
            continue
        value = m.value(e.left)
        threshold = m.value(e.right)
        assert isinstance(threshold, ir.MConst)
        if not ir.aggregates(value):
            if value.type.kind is Kind.ERROR:
                continue  # reported where it went wrong
            o.err(
                "E315",
                f"metric `{d.name.name}` measures nothing",
                e.left.span,
                "use an aggregate such as `count(Complaint where repeat) / count(Complaint)`",
            )
            continue
        vk, tk = value.type.kind, threshold.type.kind
        if Kind.ERROR not in (vk, tk) and (vk is Kind.DURATION) != (tk is Kind.DURATION):
            o.err(
                "E316",
                f"metric `{d.name.name}` is {vk.value} but its threshold is {tk.value}",
                e.right.span,
                "compare durations with durations (`<= 48h`), numbers with numbers (`>= 85%`)",
            )
        groups = []
        for g in d.groups:
            for record in m.records.values():
                field = record.field(g.field.name)
                if field is None:
                    o.err(
                        "E317",
                        f"cannot group by `{g.field.name}`: record `{record.name}` has no such "
                        "field",
                        g.field.span,
                        did_you_mean(g.field.name, [f.name for f in record.fields])
                        or "group by a field every record of the metric has",
                        fixes=rename(g.field.span, g.field.name, [f.name for f in record.fields]),
                    )
                elif g.period is not None and field.type.kind not in (Kind.DATE, Kind.DATETIME):
                    o.err(
                        "E301",
                        f"`{g.period.name} of {g.field.name}`: `{g.field.name}` is "
                        f"{field.type.kind.value}, not a date or datetime",
                        g.field.span,
                        "periods are taken of a date or datetime field",
                    )
            if g.period is not None and g.period.name not in ir.PERIODS:
                o.err(
                    "E318",
                    f"unknown period `{g.period.name}`",
                    g.period.span,
                    did_you_mean(g.period.name, ir.PERIODS) or "periods are day, week, month",
                    fixes=rename(g.period.span, g.period.name, ir.PERIODS),
                )
            groups.append(ir.GroupBy(g.field.name, g.period.name if g.period else None))
        out.append(
            ir.Metric(
                d.name.name,
                d.wording,
                value,
                e.op,
                threshold.value,
                tuple(groups),
                tuple(m.records),
                expr_text(e.left),
                d.span,
            )
        )
    return out

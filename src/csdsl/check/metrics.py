"""Metrics: names, types and thresholds.  AST -> IR.

In: the root module's `metric` declarations and the records in scope.  Out: `ir.Metric`s and
diagnostics: a metric without a threshold (E311), an unknown aggregate (E312), an aggregate
without the field it needs or with one it cannot add up (E313), a percentile rank outside 0-100
(E314), a value that is not made of aggregates and numbers (E315), a threshold of another kind
than the value (E316), a grouping field some record lacks (E317), an unknown period (E318).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from csdsl import ir
from csdsl.diagnostics import did_you_mean
from csdsl.syntax import ast
from csdsl.syntax.format import expr_text

if TYPE_CHECKING:
    from csdsl.check.lower import Lowering

Kind = ir.Kind
_NUMERIC = (Kind.INT, Kind.NUMBER)


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
        from csdsl.check.lower import Exprs

        o = self.o
        func = e.func.name
        if func not in ir.AGGREGATES:
            o.err(
                "E312",
                f"unknown aggregate `{func}`",
                e.func.span,
                did_you_mean(func, ir.AGGREGATES) or "aggregates are " + ", ".join(ir.AGGREGATES),
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
            where = Exprs(o, record).lower(e.where)
            if where.type.kind not in (Kind.BOOL, Kind.ERROR):
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

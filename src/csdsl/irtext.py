"""IR expressions back to policy text, for people (`csdsl diff`, `csdsl explain`).

In: an `ir.Expr` and the policy's time zone.  Out: text in the policy's syntax with only the
brackets precedence needs; datetimes in the policy's zone, durations as `1h30m`, enum values
bare, text quoted.  The IR keeps no spelling, so `90m` prints as `1h30m`: `explain`, `diff` and
`verify` print an expression from its source span (`explain.ExprTexts`) and fall back to this
where the source is not at hand.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from csdsl import ir
from csdsl.values import canonical_compact

_PREC = {"or": 1, "and": 2, "not": 3, "cmp": 4, "+": 5, "-": 5, "*": 6, "/": 6, "neg": 7}


def quote(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


class IrPrinter:
    """IR back to policy text, for people: constants in the policy's time zone."""

    def __init__(self, tz: dt.tzinfo) -> None:
        self.tz = tz

    def const(self, v: Any, t: ir.Type | None = None) -> str:
        if v is None:
            return "missing"
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, dt.timedelta):
            sign = "-" if v < dt.timedelta(0) else ""
            return sign + canonical_compact(int(abs(v).total_seconds()))
        if isinstance(v, dt.datetime):
            return v.astimezone(self.tz).replace(tzinfo=None).isoformat(timespec="minutes")
        if isinstance(v, dt.date | dt.time):
            return v.isoformat()
        if isinstance(v, str):
            return quote(v) if t is not None and t.kind is ir.Kind.TEXT else v
        if isinstance(v, float) and v.is_integer():
            return str(int(v)) if abs(v) < 1e15 else repr(v)
        return str(v)

    def expr(self, e: ir.Expr, outer: int = 0) -> str:
        text, prec = self._expr(e)
        return f"({text})" if prec < outer else text

    def _expr(self, e: ir.Expr) -> tuple[str, int]:
        if isinstance(e, ir.Const):
            return self.const(e.value, e.type), 9
        if isinstance(e, ir.FieldRef | ir.Judged):
            return e.name, 9
        if isinstance(e, ir.EventRef):
            return e.key, 9
        if isinstance(e, ir.DatePart):
            return f"{e.part}({self.expr(e.operand)})", 9
        if isinstance(e, ir.Neg):
            return "-" + self.expr(e.operand, 8), 7
        if isinstance(e, ir.Arith):
            p = _PREC[e.op]
            return f"{self.expr(e.left, p)} {e.op} {self.expr(e.right, p + 1)}", p
        if isinstance(e, ir.Cmp):
            return f"{self.expr(e.left, 5)} {e.op} {self.expr(e.right, 5)}", 4
        if isinstance(e, ir.And):
            return f"{self.expr(e.left, 2)} and {self.expr(e.right, 3)}", 2
        if isinstance(e, ir.Or):
            return f"{self.expr(e.left, 1)} or {self.expr(e.right, 2)}", 1
        if isinstance(e, ir.Not):
            return "not " + self.expr(e.operand, 3), 3
        if isinstance(e, ir.IsSet):
            return self.expr(e.operand, 5) + (" is missing" if e.negated else " is set"), 4
        if isinstance(e, ir.In):
            items = ", ".join(self.expr(i) for i in e.items)
            neg = " not" if e.negated else ""
            return f"{self.expr(e.operand, 5)}{neg} in [{items}]", 4
        return f"{self.expr(e.left, 5)} contains {self.expr(e.right, 5)}", 4

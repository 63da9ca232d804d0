"""The SQL backend's building blocks: sqlglot expressions, parenthesised as SQL needs them.

In: sqlglot expressions.  Out: sqlglot expressions.  Every SQL engine and `compile --target sql`
build their statements from these (sqlglot's own builders add no parentheses, so an operator
operand is wrapped here: `paren`), and read comparisons and numeric kinds from `CMP` and
`NUMERIC`.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlglot import exp

from csdsl import ir

CMP: dict[str, type[exp.Binary]] = {
    "=": exp.EQ,
    "!=": exp.NEQ,
    "<": exp.LT,
    "<=": exp.LTE,
    ">": exp.GT,
    ">=": exp.GTE,
}
NUMERIC = (ir.Kind.INT, ir.Kind.NUMBER)  # the kinds SQL holds as numbers
EXACT = 2**53  # every integer below this is exact in a DOUBLE
US = 1_000_000  # microseconds in a second
DAY_US = 86_400 * US


def fn(name: str, *args: exp.Expr) -> exp.Expr:
    return exp.Anonymous(this=name, expressions=list(args))


def string(text: str) -> exp.Expr:
    return exp.Literal.string(text)


def integer(value: int) -> exp.Expr:
    lit = exp.Literal.number(abs(value))
    return exp.Neg(this=lit) if value < 0 else lit


def double(value: float | int) -> exp.Expr:
    """A DOUBLE constant, exactly (the shortest text that reads back as the same double)."""
    return exp.cast(string(repr(float(value))), exp.DataType.Type.DOUBLE)


def column(name: str) -> exp.Expr:
    return exp.column(name, quoted=True)


def alias(x: exp.Expr, name: str, quoted: bool = True) -> exp.Expr:
    aliased: exp.Expr = exp.alias_(x, name, quoted=quoted, copy=False)
    return aliased


def select(*cols: exp.Expr) -> exp.Select:
    return exp.select(*cols, copy=False)


def boolean(value: bool) -> exp.Expr:
    return exp.true() if value else exp.false()


def table(name: str) -> exp.Table:
    return exp.Table(this=exp.to_identifier(name, quoted=True))


OPERATORS = (exp.Binary, exp.Unary, exp.Connector, exp.Predicate)


def paren(x: exp.Expr) -> exp.Expr:
    """`x`, parenthesised when it is an operator (sqlglot's builders do not add parentheses)."""
    return exp.Paren(this=x) if isinstance(x, OPERATORS) and not isinstance(x, exp.Paren) else x


def binary(cls: type[exp.Binary], a: exp.Expr, b: exp.Expr) -> exp.Expr:
    node: exp.Expr = cls(this=paren(a), expression=paren(b))
    return node


def junction(cls: type[exp.Connector], xs: Sequence[exp.Expr]) -> exp.Expr:
    """`a AND b AND c` (or OR), each operand parenthesised unless it is an atom or the same
    junction (which associates)."""

    def wrap(x: exp.Expr) -> exp.Expr:
        return x if isinstance(x, cls) else paren(x)

    out: exp.Expr = wrap(xs[0])
    for x in xs[1:]:
        out = cls(this=out, expression=wrap(x))
    return out


def and_(*xs: exp.Expr) -> exp.Expr:
    return junction(exp.And, xs)


def or_(*xs: exp.Expr) -> exp.Expr:
    return junction(exp.Or, xs)


def not_(x: exp.Expr) -> exp.Expr:
    return exp.Not(this=paren(x))


def is_null(x: exp.Expr) -> exp.Expr:
    return exp.Is(this=paren(x), expression=exp.Null())


def is_true(x: exp.Expr) -> exp.Expr:
    return exp.Is(this=paren(x), expression=exp.true())


def case(*pairs: tuple[exp.Expr, exp.Expr], default: exp.Expr | None = None) -> exp.Expr:
    out = exp.Case(ifs=[exp.If(this=c, true=v) for c, v in pairs])
    if default is not None:
        out.set("default", default)
    return out


def in_list(x: exp.Expr, items: Sequence[exp.Expr]) -> exp.Expr:
    return exp.In(this=paren(x), expressions=list(items))


def in_text(x: exp.Expr, items: Sequence[str]) -> exp.Expr:
    """`x` is one of `items` (NULL when x is).  DuckDB runs an IN list of five or more as a
    join; a list literal does not."""
    if not items:
        return exp.false()
    if len(items) < 4:
        return in_list(x, [string(v) for v in items])
    return fn("list_contains", exp.Array(expressions=[string(v) for v in items]), x)


def cast(x: exp.Expr, to: str) -> exp.Expr:
    return exp.cast(paren(x), to, copy=False)


def abs_(x: exp.Expr) -> exp.Expr:
    return fn("abs", x)


def finite(x: exp.Expr) -> exp.Expr:
    return fn("isfinite", x)


def regexp(x: exp.Expr, pattern: str) -> exp.Expr:
    return fn("regexp_matches", x, string(pattern))


def below_exact(x: exp.Expr) -> exp.Expr:
    return binary(exp.LT, abs_(x), double(EXACT))


def typed_null(sql_type: str) -> exp.Expr:
    return exp.cast(exp.Null(), sql_type)


def try_cast(x: exp.Expr, to: str) -> exp.Expr:
    """CAST that gives NULL instead of failing.  SQL never relies on CASE to keep a failing CAST
    from rows it does not suit: DuckDB may compute a repeated subexpression for every row."""
    return exp.TryCast(this=x, to=exp.DataType.build(to))

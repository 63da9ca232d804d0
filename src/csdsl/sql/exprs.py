"""IR expressions -> SQL (sqlglot expressions): the one translator of the SQL backend.

In: an `ir.Expr` over one record's fields; the policy, for its time zone (a loaded
`csdsl.api.Policy`, an `ir.Policy` or any IR object with `timezone`, or the zone's IANA name);
a dialect (`duckdb`, `spark`, `postgres`, or a `csdsl.sql.dialects.Dialect`); `column(name)`,
the SQL that holds a field; and the clause and span that errors name.  Out:
`SqlExprs(policy, dialect, column, clause, span)(e)`, a sqlglot expression with the
interpreter's meaning, or `SqlUnsupported` (`file:line: <clause> has no SQL form: why`).

Values by type (`csdsl.sql.dialects` says the representations): bool BOOLEAN, int BIGINT,
number DOUBLE, text and enum text, date DATE, datetime BIGINT epoch microseconds (UTC; the
column, TIMESTAMPTZ, is read with the dialect's `epoch_us`), duration BIGINT microseconds.
Three-valued logic is SQL's, which is the interpreter's; division by zero and non-finite numbers
are NULL; constant subexpressions are computed by the interpreter; a duration scaled by a number
is rounded half to even, in exact integer arithmetic (`divround`, wide integers for a fraction);
comparing or subtracting datetimes needs a zone with one UTC offset over 2000-2100 (instants and
wall clocks then agree).  `let` (keyword): where a value needed twice is computed once (`Lets`:
columns of layers under the query); without it the value is written twice.

Who passes what:
- `compile --target sql` (`csdsl.codegen.sql`; the Spark engine runs its script): the dialect's
  name, the record table's columns (`"field"`) and `Lets`, per condition and per metric `where`.
- the DuckDB engine (`csdsl.duck`): `Doubles(lo_us, hi_us)`, the dialect of its typed columns
  `"v:<field>"` (numbers, dates, datetimes and durations all DOUBLE, datetimes inside the stretch
  where the zone keeps one offset), no `let`.  There the translator refuses less: what DOUBLE
  arithmetic could get wrong (an integer of 2^53 or more, a datetime leaving the stretch, a
  duration scaled by a number that is not whole) adds a condition to `SqlExprs.guards`, and the
  engine sends a row whose guard is TRUE to Python.
- timelines in SQL (`csdsl.sql.timelines`): conditions over their own columns.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

import attrs
from sqlglot import exp

from csdsl import ir
from csdsl.interpreter import compile_expr
from csdsl.source import Span
from csdsl.sql.build import (
    CMP as _CMP,
    EXACT,
    NUMERIC as _NUMERIC,
    alias as _alias,
    and_ as _and,
    below_exact as _below_exact,
    binary as _bin,
    case as _case,
    column as _col,
    fn as _fn,
    integer as _int,
    is_null as _is_null,
    not_ as _not,
    or_ as _or,
    paren as _p,
    string as _s,
)
from csdsl.sql.dialects import DIALECTS, Dialect, dialect_of
from csdsl.sql.zones import zone_span

if TYPE_CHECKING:
    from csdsl.api import Policy

Kind = ir.Kind

US = dt.timedelta(microseconds=1)
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
DAY_US = 86_400_000_000
_MIN_WALL_US = (dt.datetime(1, 1, 1, tzinfo=dt.UTC) - EPOCH) // US
_MAX_WALL_US = (dt.datetime.max.replace(tzinfo=dt.UTC) - EPOCH) // US
_FIXED_FROM = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
_FIXED_UNTIL = dt.datetime(2100, 1, 1, tzinfo=dt.UTC)

__all__ = ["DIALECTS", "Dialect", "Lets", "SqlExprs", "SqlUnsupported", "dialect_of"]


class SqlUnsupported(ValueError):
    """A validity condition or metric that has no exact SQL form: `file:line: what: why`."""

    def __init__(self, span: Span, clause: str, why: str) -> None:
        self.file = span.file
        self.line = span.line
        self.clause = clause
        self.why = why
        super().__init__(f"{span.file}:{span.line}: {clause} has no SQL form: {why}")


def eq(a: exp.Expr, b: exp.Expr) -> exp.Expr:
    return _bin(exp.EQ, a, b)


_SIMPLE = (exp.Column, exp.Literal, exp.Boolean, exp.Null)


class Lets:
    """Subexpressions computed once, as columns `#<prefix><n>` of layers stacked under a query
    (`SELECT *, ... FROM (...)`): an expression SQL needs several times (a rounded quotient, a
    range check) is written once, so that nested arithmetic stays linear in size."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.layers: list[list[exp.Expr]] = []
        self.level: dict[str, int] = {}

    def __call__(self, x: exp.Expr) -> exp.Expr:
        if isinstance(x, _SIMPLE) or (isinstance(x, exp.Cast) and isinstance(x.this, _SIMPLE)):
            return x
        level = 1 + max((self.level.get(c.name, -1) for c in x.find_all(exp.Column)), default=-1)
        name = f"#{self.prefix}{len(self.level)}"
        self.level[name] = level
        while len(self.layers) <= level:
            self.layers.append([])
        self.layers[level].append(_alias(x, name))
        return _col(name)

    def under(self, source: exp.Expr, alias: str) -> exp.Expr:
        """`source` (a table or a subquery) with the layers on top, as a FROM item."""
        for i, columns in enumerate(self.layers):
            layer = exp.select(exp.Star(), *columns).from_(source, copy=False)
            source = exp.Subquery(
                this=layer, alias=exp.TableAlias(this=exp.to_identifier(f"{alias}{i}", quoted=True))
            )
        return source


Let = Callable[[exp.Expr], exp.Expr]


def _inline(x: exp.Expr) -> exp.Expr:
    """No layers: a value needed twice is written twice."""
    return x


# ---- the policy's time zone -------------------------------------------------------------------


class Zoned(Protocol):
    """An IR object that names the policy's time zone (`ir.Policy`, `ir.Rule`, ...)."""

    @property
    def timezone(self) -> str: ...


@attrs.frozen
class PolicyZone:
    name: str
    fixed: bool  # one UTC offset over 2000-2100: instants and wall clocks agree
    offset_us: int


def policy_zone(policy: Policy | Zoned | str) -> PolicyZone:
    """The time zone SQL reads datetimes in, from a loaded `csdsl.api.Policy`, anything with the
    IR's `timezone` (an IANA name: `ir.Policy`, `ir.Rule`) or the name itself."""
    if isinstance(policy, str):
        name = policy
    elif hasattr(policy, "ir"):
        name = policy.ir.timezone
    else:
        name = policy.timezone
    z = zone_span(_tzinfo(name), dt.date(2050, 1, 1))
    lo = (_FIXED_FROM - EPOCH) // US + DAY_US
    hi = (_FIXED_UNTIL - EPOCH) // US - DAY_US
    return PolicyZone(name, z.lo_us <= lo and z.hi_us >= hi, z.offset_us)


def _tzinfo(name: str) -> dt.tzinfo:
    return dt.UTC if name == "UTC" else zoneinfo.ZoneInfo(name)


def _outside(e: ir.Expr) -> str | None:
    """What `e` reads beside the record's fields (a verdict, an event, a calendar part), if
    anything: none of it is a column."""
    stack = [e]
    while stack:
        node = stack.pop()
        if isinstance(node, ir.Judged):
            return "a verdict" if node.kind == "valid" else f"a {node.kind} `{node.name}`"
        if isinstance(node, ir.EventRef):
            return f"the event log (`{node.key}`)"
        if isinstance(node, ir.DatePart):
            return f"`{node.part}(...)` of a datetime"
        stack.extend(ir.children(node))
    return None


# ---- expressions -------------------------------------------------------------------------------


class SqlExprs:
    """IR expressions over one record -> SQL over its fields' columns (see the module's
    docstring).  `guards`: in the `Doubles` representation, the conditions under which a row
    must be judged by Python (TRUE: SQL's value may differ from Python's)."""

    def __init__(
        self,
        policy: Policy | Zoned | str,
        dialect: str | Dialect,
        column: Callable[[str], exp.Expr] = _col,
        clause: str = "",
        span: Span | None = None,
        *,
        let: Let | None = None,
    ) -> None:
        self.d = dialect if isinstance(dialect, Dialect) else dialect_of(dialect)
        self.zone = policy_zone(policy)
        self.column = column
        self.clause = clause or "the expression"
        self.span = span or Span("<policy>", 1, 1, 1, 1)
        self.let: Let = let if let is not None else _inline
        self.guards: list[exp.Expr] = []

    def unsupported(self, why: str) -> SqlUnsupported:
        return SqlUnsupported(self.span, self.clause, why)

    def __call__(self, e: ir.Expr) -> exp.Expr:
        outside = _outside(e)
        if outside is not None:
            raise self.unsupported(f"it reads {outside}, which is not a column of the record")
        return self.sql(e)

    def sql(self, e: ir.Expr) -> exp.Expr:
        if not isinstance(e, ir.Const | ir.FieldRef) and not ir.fields_used(e):
            return self.const(self.fold(e), e.type)
        method: Callable[[Any], exp.Expr] = getattr(self, "x_" + type(e).__name__.lower())
        return method(e)

    def fold(self, e: ir.Expr) -> Any:
        """A constant subexpression, computed by the interpreter (so that its arithmetic is
        Python's)."""
        try:
            return compile_expr(e)({})
        except Exception as exc:  # the interpreter fails on every record
            raise self.unsupported(f"a constant cannot be computed: {exc}") from None

    def known(self, e: ir.Expr) -> tuple[bool, Any]:
        """(True, value) when `e` reads no field."""
        if isinstance(e, ir.Const):
            return True, e.value
        if ir.fields_used(e):
            return False, None
        return True, self.fold(e)

    def const(self, value: Any, t: ir.Type) -> exp.Expr:
        k = t.kind
        if value is None:
            return self.d.value_null(k if k in self.d.types else Kind.BOOL)
        if isinstance(value, bool):
            return exp.true() if value else exp.false()
        if isinstance(value, int | float) and k in _NUMERIC:
            if isinstance(value, int) and abs(value) >= EXACT:
                raise self.unsupported(f"the number {value} is beyond 2^53, not exact in SQL")
            if k is Kind.INT:
                assert isinstance(value, int)
                return self.d.integer(value)
            return self.d.to_double(_s(repr(float(value))))
        if isinstance(value, str):
            return exp.Literal.string(value)
        if isinstance(value, dt.timedelta):
            us = value // US
            if abs(us) >= EXACT:
                raise self.unsupported(f"the duration {value} is too long for exact SQL")
            return self.d.integer(us)
        if isinstance(value, dt.datetime):
            us = (value - EPOCH) // US
            bounds = self.d.instants
            if bounds is not None and not bounds[0] <= us < bounds[1]:
                raise self.unsupported(
                    f"the datetime {value.isoformat()} is outside the stretch where the time "
                    "zone keeps one offset"
                )
            return self.d.integer(us)
        if isinstance(value, dt.date):
            return self.d.date(value)
        raise AssertionError(f"unexpected constant {value!r}")  # pragma: no cover

    def wall_clock(self, what: str) -> None:
        if not self.zone.fixed and self.d.instants is None:
            raise self.unsupported(
                f"it {what} datetimes, and the time zone `{self.zone.name}` changes its UTC "
                "offset (daylight saving time): a datetime without an offset becomes an instant "
                "only by the zone's rules (its offset that day, a skipped or repeated hour), "
                "which the SQL target does not write"
            )

    def guard(self, x: exp.Expr) -> None:
        """In the `Doubles` representation: TRUE (for a row) when Python must judge it."""
        if self.d.doubles:
            self.guards.append(x)

    def exact_int(self, r: exp.Expr) -> exp.Expr:
        """`r`, an integer in Python when its operands are: guard that it stays below 2^53."""
        if self.d.doubles:
            self.guard(_and(_fn("isfinite", r.copy()), _not(_below_exact(r.copy()))))
        return r

    # one method per IR node
    def x_const(self, e: ir.Const) -> exp.Expr:
        return self.const(e.value, e.type)

    def x_fieldref(self, e: ir.FieldRef) -> exp.Expr:
        return self.d.field(self.column(e.name), e.type.kind)

    def x_neg(self, e: ir.Neg) -> exp.Expr:
        return exp.Neg(this=_p(self.sql(e.operand)))  # exact: a negated double stays finite

    def x_cmp(self, e: ir.Cmp) -> exp.Expr:
        if e.left.type.kind is Kind.DATETIME:
            self.wall_clock("compares")
        return _bin(_CMP[e.op], self.sql(e.left), self.sql(e.right))

    def x_and(self, e: ir.And) -> exp.Expr:
        return _and(self.sql(e.left), self.sql(e.right))

    def x_or(self, e: ir.Or) -> exp.Expr:
        return _or(self.sql(e.left), self.sql(e.right))

    def x_not(self, e: ir.Not) -> exp.Expr:
        return _not(self.sql(e.operand))

    def x_isset(self, e: ir.IsSet) -> exp.Expr:
        x = e.operand
        test = _is_null(self.column(x.name) if isinstance(x, ir.FieldRef) else self.sql(x))
        return test if e.negated else exp.Not(this=test)

    def x_in(self, e: ir.In) -> exp.Expr:
        """`x in [...]`: SQL's IN has the interpreter's three-valued logic.  Where the dialect
        runs a long IN list as a join (DuckDB), a list of 4 or more constants becomes
        `list_contains`, other long lists a chain of `or`."""
        if e.operand.type.kind is Kind.DATETIME:
            self.wall_clock("compares")
        x = self.sql(e.operand)
        if not e.items:
            return _case((_is_null(x), self.d.null(Kind.BOOL)), default=exp.convert(e.negated))
        items = [self.sql(i) for i in e.items]
        test: exp.Expr
        if not self.d.long_in or len(items) < 4:
            test = exp.In(this=_p(x), expressions=items)
        elif all(self.known(i)[0] for i in e.items):
            x = self.let(x)
            values = [self.known(i)[1] for i in e.items]
            present = [sql for sql, v in zip(items, values, strict=True) if v is not None]
            found = (
                _fn("list_contains", exp.Array(expressions=present), x.copy())
                if present
                else exp.false()
            )
            unknown = exp.null() if len(present) < len(values) else exp.false()
            test = _case(
                (_is_null(x), self.d.null(Kind.BOOL)), (found, exp.true()), default=unknown
            )
        else:
            x = self.let(x)
            test = _or(*(eq(x.copy(), i) for i in items))
        return _not(test) if e.negated else test

    def x_contains(self, e: ir.Contains) -> exp.Expr:
        return self.d.contains(self.sql(e.left), self.sql(e.right))

    def finite(self, x: exp.Expr, t: ir.Type) -> exp.Expr:
        """A number: NULL unless finite (the interpreter's unknown for inf and nan).  An int is
        always finite, unless held in a DOUBLE."""
        if not (t.kind is Kind.NUMBER or (self.d.doubles and t.kind in _NUMERIC)):
            return x
        inf = self.d.to_double(_s("Infinity"))
        x = self.let(x)
        return _case((_bin(exp.LT, exp.Abs(this=x), inf), x.copy()))

    def ratio(self, a: exp.Expr, b: exp.Expr) -> exp.Expr:
        """`a / b` as a DOUBLE: NULL (unknown) for a zero divisor or a non-finite result."""
        q = _bin(
            exp.Div,
            self.d.to_double(a),
            exp.Nullif(this=self.d.to_double(b), expression=self.d.to_double(_s("0.0"))),
        )
        return self.finite(q, ir.NUMBER)

    def x_arith(self, e: ir.Arith) -> exp.Expr:
        lk, rk, op = e.left.type.kind, e.right.type.kind, e.op
        if lk in _NUMERIC and rk in _NUMERIC:
            a, b = self.sql(e.left), self.sql(e.right)
            if op == "/":
                return self.ratio(a, b)
            cls = {"+": exp.Add, "-": exp.Sub, "*": exp.Mul}[op]
            return self.finite(self.exact_int(_bin(cls, a, b)), e.type)
        if lk is Kind.DURATION and rk is Kind.DURATION:
            a, b = self.sql(e.left), self.sql(e.right)
            if op == "/":
                return self.ratio(a, b)
            return self.exact_int(_bin(exp.Add if op == "+" else exp.Sub, a, b))
        if lk is Kind.DATETIME and rk is Kind.DATETIME:
            self.wall_clock("subtracts")
            return self.exact_int(_bin(exp.Sub, self.sql(e.left), self.sql(e.right)))
        if lk is Kind.DATE and rk is Kind.DATE:
            return self.exact_int(self.d.date_diff_us(self.sql(e.left), self.sql(e.right)))
        if Kind.DATETIME in (lk, rk):
            self.wall_clock("adds durations to")
            a, b = self.sql(e.left), self.sql(e.right)
            r = self.let(_bin(exp.Add if op == "+" else exp.Sub, a, b))
            if self.d.instants is not None:  # outside, the zone's offset may differ: Python
                lo, hi = (self.d.integer(x) for x in self.d.instants)
                inside = _and(_bin(exp.GTE, r.copy(), lo), _bin(exp.LT, r.copy(), hi))
                self.guard(_not(inside))
                return r
            # Python's datetime stops at years 1 and 9999 (of the wall clock): unknown beyond
            lo_us = _MIN_WALL_US - self.zone.offset_us
            hi_us = _MAX_WALL_US - self.zone.offset_us
            between = exp.Between(this=_p(r), low=_int(lo_us), high=_int(hi_us))
            return _case((between, r.copy()))
        if lk is Kind.DURATION and rk in _NUMERIC:
            return self.scale(self.sql(e.left), e.right, op)
        if rk is Kind.DURATION and lk in _NUMERIC and op == "*":
            return self.scale(self.sql(e.right), e.left, op)
        raise AssertionError(f"cannot translate {lk.value} {op} {rk.value}")  # pragma: no cover

    def scale(self, us: exp.Expr, n: ir.Expr, op: str) -> exp.Expr:
        """A duration (microseconds) times or divided by a number, rounded as `timedelta`."""
        known, c = self.known(n)
        if known:
            out = scale_by_constant(self.d, us, c, op, self.let, self.unsupported)
            return out if c is None else self.exact_int(out)
        if self.d.doubles:  # a factor with a fraction: Python rounds the exact product
            x = self.let(self.sql(n))
            integral = _and(eq(x, _fn("trunc", x.copy())), _below_exact(x.copy()))
            self.guard(_not(integral))
            return self.exact_int(scale_by_integer(self.d, us, x.copy(), op, self.let))
        if n.type.kind is not Kind.INT:
            raise self.unsupported(
                "it scales a duration by a `number` that is not a constant: Python rounds the "
                "exact product to the microsecond, which SQL cannot compute; scale by an `int` "
                "or a constant"
            )
        return scale_by_integer(self.d, us, self.sql(n), op, self.let)


def scale_by_integer(d: Dialect, us: exp.Expr, n: exp.Expr, op: str, let: Let) -> exp.Expr:
    """`timedelta * int` (exact) or `timedelta / int` (rounded half to even; NULL for 0)."""
    if op == "*":
        return _bin(exp.Mul, us, n)
    divisor = exp.Nullif(this=d.exact(n), expression=_int(0))
    return d.rounded(divround(d.exact(us), divisor, let))


def scale_by_constant(
    d: Dialect,
    us: exp.Expr,
    c: Any,
    op: str,
    let: Let,
    unsupported: Callable[[str], SqlUnsupported],
) -> exp.Expr:
    """`timedelta * c` or `timedelta / c` for a constant `c` (None: missing), exactly as Python:
    an integer factor exactly, a fraction through its exact ratio in wide integers."""
    if c is None:
        return d.value_null(Kind.DURATION)
    if isinstance(c, float) and c.is_integer():
        c = int(c)
    if isinstance(c, int):
        if abs(c) >= EXACT:
            raise unsupported(f"the factor {c} is beyond 2^53, not exact in SQL")
        if op == "*":
            return _bin(exp.Mul, us, d.integer(c))
        if c == 0:
            return d.value_null(Kind.DURATION)
        return d.rounded(divround(d.exact(us), _int(c), let))
    num, den = float(c).as_integer_ratio()
    if op == "/":
        if num == 0:
            return d.value_null(Kind.DURATION)
        num, den = den, num
        if den < 0:
            num, den = -num, -den
    if max(abs(num), den) >= d.factor_limit:
        raise unsupported(f"the factor {c!r} needs more than 64 bits as an exact ratio")
    product = _bin(exp.Mul, d.to_wide(d.exact(us)), d.to_wide(_int(num)))
    return d.rounded(divround(product, d.to_wide(_int(den)), let))


def divround(a: exp.Expr, b: exp.Expr, let: Let) -> exp.Expr:
    """Python's `datetime._divide_and_round(a, b)`: a / b rounded half to even, over integers
    (b is never 0).  Built on truncating DIV and MOD, which every dialect has."""
    a, b = let(a), let(b)
    m = let(_bin(exp.Mod, a, b))
    negative = _bin(exp.LT, b.copy(), _int(0))
    adjust = let(
        _and(_bin(exp.NEQ, m, _int(0)), _bin(exp.NEQ, _bin(exp.LT, m.copy(), _int(0)), negative))
    )
    # floor division and its remainder
    q0 = exp.IntDiv(this=_p(a.copy()), expression=_p(b.copy()))
    q = let(_case((adjust, _bin(exp.Sub, q0, _int(1))), default=q0.copy()))
    r = _case((adjust.copy(), _bin(exp.Add, m.copy(), b.copy())), default=m.copy())
    r2 = let(_bin(exp.Mul, _int(2), r))
    over = _case(
        (_bin(exp.GT, b.copy(), _int(0)), _bin(exp.GT, r2, b.copy())),
        default=_bin(exp.LT, r2.copy(), b.copy()),
    )
    odd = _bin(exp.NEQ, _bin(exp.Mod, q, _int(2)), _int(0))
    up = _or(over, _and(eq(r2.copy(), b.copy()), odd))
    return _bin(exp.Add, q.copy(), _case((up, _int(1)), default=_int(0)))

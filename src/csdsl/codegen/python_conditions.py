"""A validity condition as Python, twice over (for `csdsl.codegen.python`).

In: a checked condition (`ir.Expr`), the `Module` under construction and the `Body` of the
function being written.  Out: Python over mangled identifiers only (`l_0_received_at`, `t_3`),
constants going through `Module.literal`:
- `ValueCompiler`: statements computing the interpreter's exact value (True, False, or None for
  unknown) in the interpreter's order of evaluation, for the verdict and its evidence;
- `TestCompiler`: one expression for the fast path (`matched_ids`), true exactly when the
  condition is definitely true: `and`/`or`/`not` become Python's, a missing operand
  short-circuits to false, and fields are read once.  It assumes values of the record's types
  (what coercion produces); given values of other types it may raise where the interpreter
  does, or not.
A sub-expression nested deeper than `VALUE_DEPTH` or `TEST_DEPTH` becomes a helper function of
its own (`Module.helper`), which the caller compiles later with a `ValueCompiler`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import attrs

from csdsl import ir
from csdsl.codegen.python_module import Body, Clause, Module, is_name

# deeper than this, a sub-expression becomes a function of its own: generated code stays well
# inside Python's limits on nested blocks and parentheses, and so does the generator's recursion
VALUE_DEPTH = 16
TEST_DEPTH = 16

_ARITH_OPS = {"+": "+", "-": "-", "*": "*", "/": "/"}
_ARITH_HELPERS = {"+": "_add", "-": "_sub", "*": "_mul", "/": "_div"}
_CMP_OPS = {"=": "==", "!=": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}
# arithmetic that never raises nor leaves the finite numbers, on values of the declared types
_SAFE_ARITH = {
    ("+", ir.Kind.INT, ir.Kind.INT),
    ("-", ir.Kind.INT, ir.Kind.INT),
    ("*", ir.Kind.INT, ir.Kind.INT),
    ("-", ir.Kind.DATETIME, ir.Kind.DATETIME),
    ("-", ir.Kind.DATE, ir.Kind.DATE),
}


# ---- value mode: the interpreter's exact value, statement by statement -----------------------


class ValueCompiler:
    """Statements computing the interpreter's value of an expression, in its order of
    evaluation (a right operand only when the left one does not settle it, ...)."""

    def __init__(self, module: Module, body: Body, clause: Clause) -> None:
        self.m = module
        self.b = body
        self.clause = clause
        self.locals: dict[str, str] = {}
        self.assigned: set[str] = set()

    def local(self, field: str) -> str:
        name = self.locals.get(field)
        if name is None:
            n = self.m.number()
            safe = field if field.isascii() and field.isidentifier() and len(field) <= 40 else ""
            name = self.locals[field] = f"l_{n}_{safe}" if safe else f"l_{n}"
        return name

    def temp(self) -> str:
        return self.m.name("t_")

    @contextmanager
    def block(self, header: str) -> Iterator[None]:
        saved = set(self.assigned)
        try:
            with self.b.indented(header):
                yield
        finally:
            self.assigned = saved  # what a branch assigns is not assigned after it

    def named(self, atom: str) -> str:
        """An atom that can be used with `is`: literals go through a temporary."""
        if is_name(atom):
            return atom
        t = self.temp()
        self.b.emit(f"{t} = {atom}")
        return t

    def value(self, e: ir.Expr, depth: int = 0) -> tuple[str, bool]:
        """(atom, nullable): a name or literal holding the value, and whether it may be None."""
        if depth > VALUE_DEPTH:
            t = self.temp()
            self.b.emit(f"{t} = {self.m.helper(e, self.clause)}(values)")
            return t, True
        d = depth + 1
        if isinstance(e, ir.Const):
            return self.m.literal(e.value), e.value is None
        if isinstance(e, ir.FieldRef):
            local = self.local(e.name)
            if e.name not in self.assigned:
                self.b.emit(f"{local} = get({self.m.literal(e.name)})")
                self.assigned.add(e.name)
            return local, True
        if isinstance(e, ir.Neg):
            a, an = self.value(e.operand, d)
            a = self.named(a)
            t = self.temp()
            if e.operand.type.kind is ir.Kind.DURATION:  # -timedelta.max overflows: unknown
                self.b.emit(
                    f"{t} = None if {a} is None else _neg({a})" if an else f"{t} = _neg({a})"
                )
                return t, True
            self.b.emit(f"{t} = None if {a} is None else -{a}" if an else f"{t} = -{a}")
            return t, an
        if isinstance(e, ir.Arith):
            return self.arith(e, d), True
        if isinstance(e, ir.Cmp):
            return self.compare(e, d)
        if isinstance(e, ir.And | ir.Or):
            return self.junction(e, d), True
        if isinstance(e, ir.Not):
            a, an = self.value(e.operand, d)
            a = self.named(a)
            t = self.temp()
            self.b.emit(f"{t} = None if {a} is None else not {a}" if an else f"{t} = not {a}")
            return t, an
        if isinstance(e, ir.IsSet):
            a = self.named(self.value(e.operand, d)[0])
            t = self.temp()
            self.b.emit(f"{t} = {a} is None" if e.negated else f"{t} = {a} is not None")
            return t, False
        if isinstance(e, ir.In):
            return self.in_(e, d), True
        if isinstance(e, ir.Contains):
            a, an = self.value(e.left, d)
            b, bn = self.value(e.right, d)
            t = self.temp()
            unknown = " or ".join(f"{x} is None" for x, n in ((a, an), (b, bn)) if n)
            test = f"{b} in {a}"
            self.b.emit(f"{t} = None if {unknown} else {test}" if unknown else f"{t} = {test}")
            return t, bool(unknown)
        raise TypeError(f"cannot compile {type(e).__name__}")

    def arith(self, e: ir.Arith, d: int) -> str:
        op = _ARITH_OPS[e.op]
        t = self.temp()
        self.b.emit(f"{t} = None")
        a, an = self.value(e.left, d)
        with self.block(f"if {self.named(a)} is not None:") if an else _nothing():
            b, bn = self.value(e.right, d)
            with self.block(f"if {self.named(b)} is not None:") if bn else _nothing():
                with self.block("try:"):
                    self.b.emit(f"{t} = {a} {op} {b}")
                with self.block("except (ZeroDivisionError, OverflowError):"):
                    self.b.emit(f"{t} = None")
                with self.block(f"if type({t}) is float and not _isfinite({t}):"):
                    self.b.emit(f"{t} = None")
        return t

    def compare(self, e: ir.Cmp, d: int) -> tuple[str, bool]:
        op = _CMP_OPS[e.op]
        t = self.temp()
        a, an = self.value(e.left, d)
        if not an:
            b, bn = self.value(e.right, d)
            if not bn:
                self.b.emit(f"{t} = {a} {op} {b}")
                return t, False
        self.b.emit(f"{t} = None")
        with self.block(f"if {self.named(a)} is not None:") if an else _nothing():
            if an:
                b, bn = self.value(e.right, d)
            with self.block(f"if {self.named(b)} is not None:") if bn else _nothing():
                self.b.emit(f"{t} = {a} {op} {b}")
        return t, True

    def junction(self, e: ir.And | ir.Or, d: int) -> str:
        decider = isinstance(e, ir.Or)  # the value that settles it
        t = self.temp()
        a, an = self.value(e.left, d)
        a = self.named(a)
        with self.block(f"if {a} is {decider}:"):
            self.b.emit(f"{t} = {decider}")
        with self.block("else:"):
            b, bn = self.value(e.right, d)
            b = self.named(b)
            with self.block(f"if {b} is {decider}:"):
                self.b.emit(f"{t} = {decider}")
            unknown = " or ".join(f"{x} is None" for x, n in ((a, an), (b, bn)) if n)
            if unknown:
                with self.block(f"elif {unknown}:"):
                    self.b.emit(f"{t} = None")
            with self.block("else:"):
                self.b.emit(f"{t} = {not decider}")
        return t

    def in_(self, e: ir.In, d: int) -> str:
        t = self.temp()
        x, xn = self.value(e.operand, d)
        x = self.named(x)
        self.b.emit(f"{t} = None")
        with self.block(f"if {x} is not None:") if xn else _nothing():
            if all(isinstance(i, ir.Const) and i.value is not None for i in e.items):
                member = "not in" if e.negated else "in"
                self.b.emit(f"{t} = {x} {member} {self.m.tuple_constant(e.items)}")
                return t
            unknown, done = self.temp(), self.temp()
            self.b.emit(f"{unknown} = False")
            self.b.emit(f"{done} = False")
            for i, item in enumerate(e.items):
                with self.block(f"if not {done}:") if i else _nothing():
                    y, yn = self.value(item, d)
                    if yn:
                        with self.block(f"if {self.named(y)} is None:"):
                            self.b.emit(f"{unknown} = True")
                        with self.block(f"elif {x} == {y}:"):
                            self.b.emit(f"{done} = True")
                    else:
                        with self.block(f"if {x} == {y}:"):
                            self.b.emit(f"{done} = True")
            with self.block(f"if {done}:"):
                self.b.emit(f"{t} = {not e.negated}")
            with self.block("else:"):
                self.b.emit(f"{t} = None if {unknown} else {e.negated}")
        return t


@contextmanager
def _nothing() -> Iterator[None]:
    yield


# ---- test mode: one expression, true exactly when the condition is definitely true -----------


@attrs.frozen
class State:
    assigned: frozenset[str] = frozenset()  # fields read into their local on every path here
    nonnull: frozenset[str] = frozenset()  # ... and known not to be None here

    def knowing(self, fields: frozenset[str]) -> State:
        return State(self.assigned | fields, self.nonnull | fields)

    def reading(self, fields: frozenset[str]) -> State:
        return State(self.assigned | fields, self.nonnull)


@attrs.frozen
class _Test:
    text: str
    after: frozenset[str]  # fields assigned after evaluating it, whatever the outcome
    yes: frozenset[str] = frozenset()  # fields assigned and not None when it is true
    no: frozenset[str] = frozenset()  # ... when it is false


@attrs.frozen
class _Val:
    first: str  # the expression, for its first use (it may assign locals)
    ref: str | None  # a name or literal for later uses; None: bind `first` to reuse it
    nullable: bool
    after: frozenset[str]


_NONE: frozenset[str] = frozenset()


class TestCompiler:
    """Expressions for the fast path.  `read` is how a field is read (`values[...]` for plain
    dicts, `get(...)` otherwise)."""

    def __init__(
        self,
        module: Module,
        values: ValueCompiler,
        read: str,
        clause: Clause,
        reused: frozenset[str],
    ) -> None:
        self.m = module
        self.v = values  # for the names of locals
        self.read = read
        self.clause = clause
        self.reused = reused  # fields read more than once: worth a local

    def spill(self, e: ir.Expr) -> str:
        return f"{self.m.helper(e, self.clause)}(values)"

    def reuse(self, v: _Val) -> tuple[str, str]:
        if v.ref is not None:
            return v.first, v.ref
        t = self.m.name("t_")
        return f"({t} := {v.first})", t

    def vx(self, e: ir.Expr, st: State, depth: int) -> _Val:
        if depth > TEST_DEPTH:
            return _Val(self.spill(e), None, True, st.assigned)
        d = depth + 1
        if isinstance(e, ir.Const):
            lit = self.m.literal(e.value)
            return _Val(lit, lit, e.value is None, st.assigned)
        if isinstance(e, ir.FieldRef):
            local = self.v.local(e.name)
            if e.name in st.assigned:
                return _Val(local, local, e.name not in st.nonnull, st.assigned)
            read = self.read.format(self.m.literal(e.name))
            if e.name not in self.reused:
                return _Val(read, None, True, st.assigned)
            return _Val(f"({local} := {read})", local, True, st.assigned | {e.name})
        if isinstance(e, ir.Neg):
            a = self.vx(e.operand, st, d)
            if e.operand.type.kind is ir.Kind.DURATION:  # -timedelta.max overflows: unknown
                if not a.nullable:
                    return _Val(f"_neg({a.first})", None, True, a.after)
                first, ref = self.reuse(a)
                return _Val(f"(None if {first} is None else _neg({ref}))", None, True, a.after)
            if not a.nullable:
                return _Val(f"(-{_paren(a.first)})", None, False, a.after)
            first, ref = self.reuse(a)
            return _Val(f"(None if {first} is None else -{ref})", None, True, a.after)
        if isinstance(e, ir.Arith):
            return self.arith(e, st, d)
        return _Val(self.spill(e), None, True, st.assigned)

    def arith(self, e: ir.Arith, st: State, d: int) -> _Val:
        safe = (e.op, e.left.type.kind, e.right.type.kind) in _SAFE_ARITH
        a = self.vx(e.left, st, d)
        a_first, a_ref = self.reuse(a) if a.nullable else (a.first, _paren(a.first))
        known = _field(e.left) if a.nullable else _NONE
        b = self.vx(e.right, st.reading(a.after - st.assigned).knowing(known), d)
        b_first, b_ref = self.reuse(b) if b.nullable else (b.first, _paren(b.first))
        x, y = (a_ref if a.nullable else a_first), (b_ref if b.nullable else b_first)
        if safe:
            op = f"({_paren(x)} {_ARITH_OPS[e.op]} {_paren(y)})"
        else:
            op = f"{_ARITH_HELPERS[e.op]}({x}, {y})"
        unknown = " or ".join(
            f"{first} is None" for first, v in ((a_first, a), (b_first, b)) if v.nullable
        )
        after = a.after if a.nullable else b.after
        if not unknown:
            return _Val(op, None, not safe, after)
        return _Val(f"(None if {unknown} else {op})", None, True, after)

    def test(self, e: ir.Expr, want: bool, st: State, depth: int = 0) -> _Test:
        if depth > TEST_DEPTH:
            return _Test(f"({self.spill(e)} is {want})", st.assigned)
        d = depth + 1
        if isinstance(e, ir.Const):
            return _Test("True" if e.value is want else "False", st.assigned)
        if isinstance(e, ir.FieldRef):
            v = self.vx(e, st, d)
            return _Test(f"({v.first} is {want})", v.after, yes=_field(e))
        if isinstance(e, ir.Not):
            return self.test(e.operand, not want, st, d)
        if isinstance(e, ir.And | ir.Or):
            return self.junction(e, want, st, d)
        if isinstance(e, ir.Cmp):
            return self.compare(e, want, st, d)
        if isinstance(e, ir.IsSet):
            v = self.vx(e.operand, st, d)
            if not v.nullable:  # a value that is never missing (and reads no field)
                return _Test("True" if (not e.negated) is want else "False", st.assigned)
            if (not e.negated) is want:
                return _Test(f"({v.first} is not None)", v.after, yes=_field(e.operand))
            return _Test(f"({v.first} is None)", v.after, no=_field(e.operand))
        if isinstance(e, ir.In) and all(
            isinstance(i, ir.Const) and i.value is not None for i in e.items
        ):
            v = self.vx(e.operand, st, d)
            member = "in" if (not e.negated) is want else "not in"
            items = self.m.tuple_constant(e.items)
            if not v.nullable:
                return _Test(f"({v.first} {member} {items})", v.after)
            first, ref = self.reuse(v)
            text = f"({first} is not None and {ref} {member} {items})"
            return _Test(text, v.after, yes=_field(e.operand))
        if isinstance(e, ir.Contains):
            return self.contains(e, want, st, d)
        return _Test(f"({self.spill(e)} is {want})", st.assigned)

    def junction(self, e: ir.And | ir.Or, want: bool, st: State, d: int) -> _Test:
        # `a and b` is true when both are, false when one is; `or` the other way round
        conjunctive = isinstance(e, ir.And) is want
        a = self.test(e.left, want, st, d)
        inner = st.reading(a.after - st.assigned)
        inner = inner.knowing(a.yes if conjunctive else a.no)
        b = self.test(e.right, want, inner, d)
        if conjunctive:
            return _Test(f"({a.text} and {b.text})", a.after, a.yes | b.yes, a.no & (a.yes | b.no))
        return _Test(f"({a.text} or {b.text})", a.after, a.yes & (a.no | b.yes), a.no | b.no)

    def compare(self, e: ir.Cmp, want: bool, st: State, d: int) -> _Test:
        a = self.vx(e.left, st, d)
        parts = []
        if a.nullable:
            a_first, x = self.reuse(a)
            parts.append(f"{a_first} is not None")
            st = st.reading(a.after - st.assigned).knowing(_field(e.left))
        else:
            x = _paren(a.first)
        b = self.vx(e.right, st, d)
        if b.nullable:
            b_first, y = self.reuse(b)
            parts.append(f"{b_first} is not None")
        else:
            y = _paren(b.first)
        test = f"{x} {_CMP_OPS[e.op]} {y}"
        parts.append(test if want else f"not ({test})")
        return _Test(f"({' and '.join(parts)})", a.after, yes=_field(e.left) | _field(e.right))

    def contains(self, e: ir.Contains, want: bool, st: State, d: int) -> _Test:
        a = self.vx(e.left, st, d)
        parts = []
        if a.nullable:
            a_first, x = self.reuse(a)
            parts.append(f"{a_first} is not None")
        else:
            x = _paren(a.first)
        b = self.vx(e.right, st.reading(a.after - st.assigned), d)
        if b.nullable:
            b_first, y = self.reuse(b)
            parts.append(f"{b_first} is not None")
        else:
            y = _paren(b.first)
        parts.append(f"{y} in {x}" if want else f"{y} not in {x}")
        return _Test(f"({' and '.join(parts)})", a.after, yes=_field(e.left) | _field(e.right))


def field_refs(e: ir.Expr) -> Iterator[str]:
    stack = [e]
    while stack:
        node = stack.pop()
        if isinstance(node, ir.FieldRef):
            yield node.name
        stack.extend(ir.children(node))


def _field(e: ir.Expr) -> frozenset[str]:
    return frozenset((e.name,)) if isinstance(e, ir.FieldRef) else _NONE


_NUMBER = re.compile(r"\d+(?:\.\d*)?(?:e[+-]?\d+)?")
_CALL = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*(?=\()")


def _paren(text: str) -> str:
    """`text` as an operand: parenthesised unless it is one name, literal, call or group."""
    if is_name(text) or _NUMBER.fullmatch(text) or (text and text[0] in "'\""):
        return text  # a string literal comes from repr(): one token
    call = _CALL.match(text)
    group = text[call.end() :] if call else text
    return text if group.startswith("(") and _balanced(group) else f"({text})"


def _balanced(text: str) -> bool:
    """True when `text` is one parenthesised group: `(a) + (b)` is not."""
    depth = 0
    quote: str | None = None
    escaped = False
    for i, ch in enumerate(text):
        if quote is not None:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == quote:
                quote = None
            continue
        if ch in "'\"":
            quote = ch
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0 and i != len(text) - 1:
                return False
    return depth == 0


def strip_parens(text: str) -> str:
    """`(a and b)` -> `a and b` for an `if` line."""
    return text[1:-1] if text.startswith("(") and _balanced(text) else text

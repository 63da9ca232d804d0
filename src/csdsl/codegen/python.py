"""`csdsl compile --target python`: a checked policy as the source of one standalone module.

In: a loaded `csdsl.Policy`.  Out: `generate(policy)`, the text of a Python module that checks
records without csdsl's compiler (no parser, no lark at run time), and `load_source(text)`, which
compiles such text into a module object and registers it with `linecache`.

The generated module (see `_HEADER` for its docstring) exposes the checking API of
`csdsl.api.Policy` (`validate`, `validate_values`, `matched_ids`, `timeline`, `check_rules`,
`check_transcript`, the `*_file` readers, `measure`), and `POLICY_NAME`, `POLICY_VERSION`,
`CONTENT_HASH`, `CSDSL_VERSION`, `SOURCES` and `CLAUSES`.

How it is built, in the manner of jinja2's compiler: validity conditions become straight-line
Python over mangled identifiers only (`l_0_received_at`, `t_3`), constants are emitted as
`repr()` of a whitelist of types (str, int, float, bool, None) or as constructor calls (datetime,
date, time, timedelta, Decimal, time zones), and anything else raises `TypeError`: text from the
policy (names, strings, wording, file names) can only ever become a string literal or a comment
built from `repr()`, never code.  What is not a validity condition (records, calendars,
deadlines, escalations, record-level rules, phrase sets, transcript rules, metrics) is emitted as
constructor calls of the IR's own classes, and csdsl's lark-free engines (`csdsl.runtime`) run it:
record-level rules are judged by the interpreter (`csdsl.rules.RuleChecker`), as timelines are.
Examples and invariants are left out: they check the policy (`csdsl test`, `csdsl verify`), not
records.

Each condition is compiled twice:
- as a function returning the interpreter's exact value (True, False, or None for unknown), in
  the interpreter's order of evaluation, for the verdict and its evidence;
- inline in `matched_ids`, the fast path, as a test that is true exactly when the condition is
  definitely true: `and`/`or`/`not` become Python's, a missing operand short-circuits to false,
  and fields are read once.  The fast path assumes values of the record's types (what coercion
  produces); given values of other types it may raise where the interpreter does, or not.

Very large policies stay cheap to generate and to import (issue 14): a block of more than
`_CHUNK` conditions is split into functions of `_CHUNK` conditions each, a list of at least
`_PACK` texts or integers is packed into one string or bytes constant (see `_DECODERS`),
`CLAUSES` is built from runs of lines, and the self-check compiles the text in pieces.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import itertools
import linecache
import math
import os
import re
import types
import warnings
import zoneinfo
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import PurePath
from typing import TYPE_CHECKING, Any

import attrs

from csdsl import __version__, ir
from csdsl.calendar import WorkCalendar
from csdsl.runtime import RUNTIME_VERSION
from csdsl.source import Span

if TYPE_CHECKING:
    from csdsl.api import Policy

__all__ = ["content_hash", "generate", "load_source", "source_order"]

Clause = tuple[str, int, str]  # (file, line, id) of a validity condition
Line = tuple[str, Clause | None]

# deeper than this, a sub-expression becomes a function of its own: generated code stays well
# inside Python's limits on nested blocks and parentheses, and so does the generator's recursion
VALUE_DEPTH = 16
TEST_DEPTH = 16
IR_DEPTH = 12

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

# ---- the content hash ------------------------------------------------------------------------


def source_order(policy: Policy) -> list[tuple[str, str]]:
    """(path, text) of every source file of a policy in hash order: the root file first, then
    the files it imports or includes sorted by path; paths are relative to the root file's
    directory, with `/` as separator."""
    base = os.path.dirname(policy.ir.file)
    out: list[tuple[str, str]] = []
    for name, source in policy.sources.items():
        rel = PurePath(os.path.relpath(name, base or os.curdir)).as_posix()
        out.append((rel, source.text))
    root = PurePath(os.path.relpath(policy.ir.file, base or os.curdir)).as_posix()
    out.sort(key=lambda item: (item[0] != root, item[0]))
    return out


def content_hash(policy: Policy) -> str:
    """The policy's content hash, one definition for every target (`jsonir.content_hash`)."""
    from csdsl.codegen.jsonir import content_hash as manifest_hash

    return manifest_hash(policy)


# ---- constants -------------------------------------------------------------------------------


def _int(v: int) -> str:
    assert type(v) is int
    return repr(v)


def _tz(v: dt.tzinfo) -> str:
    if v is dt.UTC:
        return "_dt.timezone.utc"
    if type(v) is dt.timezone:
        offset = v.utcoffset(None)
        plain = dt.timezone(offset)
        name = v.tzname(None)
        if name != plain.tzname(None):
            assert type(name) is str
            return f"_dt.timezone({_constructor(offset)}, {name!r})"
        return f"_dt.timezone({_constructor(offset)})"
    if type(v) is zoneinfo.ZoneInfo and type(v.key) is str:
        return f"_rt.zone({v.key!r})"
    raise TypeError(f"cannot emit the time zone {v!r} in generated code")


def _constructor(v: Any) -> str:
    """Python text that evaluates to `v`, for a whitelist of types; anything else raises."""
    t = type(v)
    if v is None or t is bool or t is str:
        return repr(v)
    if t is int:
        return _int(v)
    if t is float:
        return repr(v) if math.isfinite(v) else f"float({str(v)!r})"
    if t is Decimal:
        return f"_rt.Decimal({str(v)!r})"
    if t is dt.timedelta:
        return (
            f"_dt.timedelta(days={_int(v.days)}, seconds={_int(v.seconds)}, "
            f"microseconds={_int(v.microseconds)})"
        )
    if t is dt.datetime:
        parts = [_int(x) for x in (v.year, v.month, v.day, v.hour, v.minute, v.second)]
        parts.append(_int(v.microsecond))
        if v.tzinfo is not None:
            parts.append(f"tzinfo={_tz(v.tzinfo)}")
        if v.fold:
            parts.append("fold=1")
        return f"_dt.datetime({', '.join(parts)})"
    if t is dt.date:
        return f"_dt.date({_int(v.year)}, {_int(v.month)}, {_int(v.day)})"
    if t is dt.time:
        parts = [_int(x) for x in (v.hour, v.minute, v.second, v.microsecond)]
        if v.tzinfo is not None:
            parts.append(f"tzinfo={_tz(v.tzinfo)}")
        if v.fold:
            parts.append("fold=1")
        return f"_dt.time({', '.join(parts)})"
    if isinstance(v, dt.tzinfo):
        return _tz(v)
    raise TypeError(f"cannot emit a constant of type {t.__name__} in generated code")


def _is_name(text: str) -> bool:
    """True for an identifier the generator made (or True/False/None), never a literal."""
    return text.isidentifier()


def _safe_comment(text: str) -> str:
    # a comment is one physical line whatever the policy's text holds: built from repr() only,
    # and checked
    if len(text.splitlines()) != 1 or "\r" in text or "\n" in text:
        raise AssertionError(f"comment would span lines: {text!r}")  # pragma: no cover
    return "# " + text


def _where(file: str, line: int) -> str:
    return f"{file!r}:{line}"


class _Module:
    """The module under construction: unique names, module-level constants, functions (each a
    list of lines tagged with the clause they belong to) and the sub-expressions left to compile
    as functions of their own."""

    def __init__(self) -> None:
        self._ids = itertools.count()
        self._consts: dict[str, str] = {}
        self.const_lines: list[str] = []
        self.functions: list[list[Line]] = []
        self.pending: list[tuple[str, ir.Expr, Clause]] = []
        self.decoders: dict[str, str] = {}
        self.decoder_lines: list[str] = []

    def name(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids)}"

    def literal(self, v: Any) -> str:
        """A constant in an expression: a literal, or the name of a module-level constant."""
        t = type(v)
        if v is None or t is bool or t is int or t is str or (t is float and math.isfinite(v)):
            return _constructor(v)
        return self.constant(_constructor(v))

    def constant(self, text: str) -> str:
        name = self._consts.get(text)
        if name is None:
            name = self._consts[text] = self.name("_k_")
            self.const_lines.append(f"{name} = {text}")
        return name

    def tuple_constant(self, items: tuple[ir.Expr, ...]) -> str:
        packed = _packed_values(items)
        if packed is not None:
            kind, data, numbers = packed
            if kind is str:
                return self.constant(f"{self.decoder('texts')}({data!r}, {numbers!r})")
            return self.constant(f"{self.decoder('ints')}({numbers!r})")
        texts = []
        for item in items:
            assert isinstance(item, ir.Const)
            texts.append(self.literal(item.value))
        return self.constant("(" + "".join(f"{t}, " for t in texts).rstrip() + ")")

    def decoder(self, which: str) -> str:
        """The name of one of `_DECODERS` (and of those it calls), defined once when first used."""
        if not self.decoders:
            names = {k: self.name("_o_") for k in _DECODERS}
            self.decoders = names
            for k in _DECODERS:
                self.decoder_lines.extend(["", "", *_DECODERS[k].format(**names).splitlines()])
        return self.decoders[which]

    def helper(self, e: ir.Expr, clause: Clause) -> str:
        """A function `name(values)` returning the value of `e`, compiled later."""
        name = self.name("_e_")
        self.pending.append((name, e, clause))
        return name


class _Body:
    """Lines of one function, indented, each tagged with its clause."""

    def __init__(self, clause: Clause | None, indent: int = 1) -> None:
        self.lines: list[Line] = []
        self.indent = indent
        self.clause = clause

    def emit(self, text: str) -> None:
        self.lines.append(("    " * self.indent + text, self.clause))

    def comment(self, text: str) -> None:
        self.emit(_safe_comment(text))


# ---- value mode: the interpreter's exact value, statement by statement -----------------------


class _ValueCompiler:
    """Statements computing the interpreter's value of an expression, in its order of
    evaluation (a right operand only when the left one does not settle it, ...)."""

    def __init__(self, module: _Module, body: _Body, clause: Clause) -> None:
        self.m = module
        self.b = body
        self.clause = clause
        self.locals: dict[str, str] = {}
        self.assigned: set[str] = set()

    def local(self, field: str) -> str:
        name = self.locals.get(field)
        if name is None:
            n = next(self.m._ids)
            safe = field if field.isascii() and field.isidentifier() and len(field) <= 40 else ""
            name = self.locals[field] = f"l_{n}_{safe}" if safe else f"l_{n}"
        return name

    def temp(self) -> str:
        return self.m.name("t_")

    @contextmanager
    def block(self, header: str) -> Iterator[None]:
        saved = set(self.assigned)
        self.b.emit(header)
        self.b.indent += 1
        try:
            yield
        finally:
            self.b.indent -= 1
            self.assigned = saved  # what a branch assigns is not assigned after it

    def named(self, atom: str) -> str:
        """An atom that can be used with `is`: literals go through a temporary."""
        if _is_name(atom):
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
class _State:
    assigned: frozenset[str] = frozenset()  # fields read into their local on every path here
    nonnull: frozenset[str] = frozenset()  # ... and known not to be None here

    def knowing(self, fields: frozenset[str]) -> _State:
        return _State(self.assigned | fields, self.nonnull | fields)

    def reading(self, fields: frozenset[str]) -> _State:
        return _State(self.assigned | fields, self.nonnull)


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


class _TestCompiler:
    """Expressions for the fast path.  `read` is how a field is read (`values[...]` for plain
    dicts, `get(...)` otherwise)."""

    def __init__(
        self,
        module: _Module,
        values: _ValueCompiler,
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

    def vx(self, e: ir.Expr, st: _State, depth: int) -> _Val:
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

    def arith(self, e: ir.Arith, st: _State, d: int) -> _Val:
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

    def test(self, e: ir.Expr, want: bool, st: _State, depth: int = 0) -> _Test:
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

    def junction(self, e: ir.And | ir.Or, want: bool, st: _State, d: int) -> _Test:
        # `a and b` is true when both are, false when one is; `or` the other way round
        conjunctive = isinstance(e, ir.And) is want
        a = self.test(e.left, want, st, d)
        inner = st.reading(a.after - st.assigned)
        inner = inner.knowing(a.yes if conjunctive else a.no)
        b = self.test(e.right, want, inner, d)
        if conjunctive:
            return _Test(f"({a.text} and {b.text})", a.after, a.yes | b.yes, a.no & (a.yes | b.no))
        return _Test(f"({a.text} or {b.text})", a.after, a.yes & (a.no | b.yes), a.no | b.no)

    def compare(self, e: ir.Cmp, want: bool, st: _State, d: int) -> _Test:
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

    def contains(self, e: ir.Contains, want: bool, st: _State, d: int) -> _Test:
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


def _field_refs(e: ir.Expr) -> Iterator[str]:
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
    if _is_name(text) or _NUMBER.fullmatch(text) or (text and text[0] in "'\""):
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


# ---- IR as constructor calls -----------------------------------------------------------------

# each of these gets a line of its own
_OWN_LINE = (
    ir.Record,
    ir.Validity,
    ir.Condition,
    ir.Deadline,
    ir.Escalation,
    ir.TrRule,
    ir.Situation,
    ir.TranscriptRules,
    ir.Metric,
    WorkCalendar,
)
_NAMED_TYPES = {
    t: f"_ir.{name}"
    for name, t in vars(ir).items()
    if isinstance(t, ir.Type) and name.isupper() and name.isidentifier()
}


def _ir_classes() -> dict[type, str]:
    out: dict[type, str] = {Span: "_rt.Span", WorkCalendar: "_rt.WorkCalendar"}
    for name, cls in vars(ir).items():
        if (
            isinstance(cls, type)
            and attrs.has(cls)
            and cls.__module__ == ir.__name__
            and name.isidentifier()
        ):
            out[cls] = f"_ir.{name}"
    return out


_IR_CLASSES = _ir_classes()


class _IrWriter:
    """The IR as assignments `_o_N = <constructor calls>` (a definition always precedes its
    uses: they are written in the reverse order of their names)."""

    def __init__(self, module: _Module) -> None:
        self.m = module
        self.files: dict[str, str] = {}
        self.queue: list[tuple[str, Any]] = []
        self.done: list[str] = []

    def file(self, name: str) -> str:
        ref = self.files.get(name)
        if ref is None:
            ref = self.files[name] = f"_f_{len(self.files)}"
        return ref

    def top(self, v: Any) -> str:
        name = self.m.name("_o_")
        self.queue.append((name, v))
        while self.queue:
            n, obj = self.queue.pop(0)
            self.done.append(f"{n} = {self.obj(obj, 0)}")
        return name

    def lines(self) -> list[str]:
        files = [f"{ref} = {name!r}" for name, ref in self.files.items()]
        return files + self.done[::-1]

    def obj(self, v: Any, depth: int) -> str:
        t = type(v)
        if t is tuple and len(v) >= _PACK:
            positions = _packed_spans(v)
            if positions is not None and _packed_values(v) is not None:
                first = v[0]
                return (
                    f"{self.m.decoder('consts')}({self.m.tuple_constant(v)}, "
                    f"{self.obj(first.type, depth + 1)}, {self.file(first.span.file)}, "
                    f"{positions!r})"
                )
        if t is tuple:
            return "(" + "".join(self.obj(x, depth + 1) + ", " for x in v).rstrip() + ")"
        if t is frozenset:
            items = "".join(i + ", " for i in sorted(self.obj(x, depth + 1) for x in v))
            return f"frozenset(({items.rstrip()}))" if items else "frozenset()"
        if isinstance(v, enum.Enum):
            if t is ir.Kind and v.name.isidentifier() and ir.Kind[v.name] is v:
                return f"_ir.Kind.{v.name}"
            raise TypeError(f"cannot emit {v!r} in generated code")
        if t is ir.Type and v in _NAMED_TYPES:
            return _NAMED_TYPES[v]
        if t is Span:
            nums = ", ".join(_int(x) for x in (v.line, v.column, v.end_line, v.end_column))
            assert type(v.file) is str
            return f"_S({self.file(v.file)}, {nums})"
        cls = _IR_CLASSES.get(t)
        if cls is None:
            return _constructor(v)
        if depth > 0 and (depth > IR_DEPTH or t in _OWN_LINE):
            name = self.m.name("_o_")
            self.queue.append((name, v))
            return name
        args = []
        for f in attrs.fields(t):
            if not f.init:
                continue
            value = getattr(v, f.name)
            default = f.default
            if (
                default is not attrs.NOTHING
                and not isinstance(default, attrs.Factory)  # type: ignore[arg-type]
                and type(value) is type(default)
                and value == default
                and (t is not Span or value.file == default.file)
            ):
                continue
            alias = f.alias or f.name
            assert alias.isidentifier()
            args.append(f"{alias}={self.obj(value, depth + 1)}")
        return f"{cls}({', '.join(args)})"


# ---- the module ------------------------------------------------------------------------------

_HEADER = '''"""A standalone checker generated by csdsl (`csdsl compile --target python`).

Needs no parser at run time: it imports the standard library and csdsl's lark-free runtime
(`csdsl.runtime`).  The checking API is that of `csdsl.load(...)`'s `Policy`:

    validate(record, record_type=None) -> Verdict             # raw JSON-like values
    validate_values(values, record_type=None, record_id=None)  # values already coerced
    matched_ids(values, record_type=None) -> list[str]        # the fast path: ids only
    validate_file(path, record_type=None)                      # rows with verdict or error
    timeline(record, events, now=None, record_type=None), timeline_file(...), read_events(...)
    check_rules(record, events=(), now=None, record_type=None), rules_file(...), rule_checker()
    check_transcript(transcript), check_transcript_file(path)
    measure(records), measure_files(files)

`POLICY` is the whole policy (a `csdsl.api.Policy`), `IR` its checked form; `POLICY_NAME`,
`POLICY_VERSION`, `EFFECTIVE`, `TIMEZONE` and `CSDSL_VERSION` say what it was generated from and
by.  `CONTENT_HASH` identifies the policy's source files, as `csdsl compile --target json`
does (docs/ir.md): `sha256:` and the SHA-256 of their manifest in the layout of `sha256sum`, one
line `<sha256 of the file>  <path>` per file sorted by path (relative to the root file's
directory); `SOURCES` lists the files, the root first.  `CLAUSES` maps a line of this module to
the validity condition it checks, as (file, line, condition id): a traceback through a
condition names its clause.

Generated code; do not edit: change the policy and generate again.
"""'''


@attrs.frozen
class _Validity:
    index: int
    validity: ir.Validity
    verdict: str
    matched: str


def _clause(c: ir.Condition) -> Clause:
    return (c.span.file, c.span.line, c.id)


class _Generator:
    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self.m = _Module()

    def condition_function(self, name: str, c: ir.Condition, kind: str) -> None:
        clause = _clause(c)
        body = _Body(clause, indent=0)
        body.emit(f"def {name}(values):")
        body.indent = 1
        body.comment(f"{kind} {c.id!r}, {_where(c.span.file, c.span.line)}")
        body.emit("get = values.get")
        vc = _ValueCompiler(self.m, body, clause)
        atom, _ = vc.value(c.expr)
        body.emit(f"return {atom}")
        self.m.functions.append(body.lines)

    def helper_function(self, name: str, e: ir.Expr, clause: Clause) -> None:
        body = _Body(clause, indent=0)
        body.emit(f"def {name}(values):")
        body.indent = 1
        body.comment(f"part of {clause[2]!r}, {_where(clause[0], clause[1])}")
        body.emit("get = values.get")
        atom, _ = _ValueCompiler(self.m, body, clause).value(e)
        body.emit(f"return {atom}")
        self.m.functions.append(body.lines)

    def verdict_function(self, v: _Validity, conds: list[str], excs: list[str]) -> None:
        body = _Body(None, indent=0)
        body.emit(f"def {v.verdict}(values, record_id=None):")
        body.indent = 1
        span = v.validity.span
        body.comment(f"validity of {v.validity.record!r}, {_where(span.file, span.line)}")
        body.emit("get = values.get")
        body.emit("return _rt.verdict(")
        body.indent += 1
        body.emit("record_id,")
        for group, names in ((v.validity.conditions, conds), (v.validity.exceptions, excs)):
            if len(group) <= _CHUNK:
                body.emit("(")
                self.results(body, group, names)
                body.emit("),")
                continue
            # a long block: its results come from functions of `_CHUNK` conditions each
            parts = []
            for i in range(0, len(group), _CHUNK):
                part = _Body(None, indent=0)
                parts.append(self.m.name("_e_"))
                part.emit(f"def {parts[-1]}(values, get):")
                part.indent = 1
                part.emit("return (")
                self.results(part, group[i : i + _CHUNK], names[i : i + _CHUNK])
                part.emit(")")
                self.m.functions.append(part.lines)
            body.emit("(" + "".join(f"*{fn}(values, get), " for fn in parts).rstrip() + "),")
        body.emit(f"{v.validity.quantifier == 'all'},")
        body.indent -= 1
        body.emit(")")
        self.m.functions.append(body.lines)

    def results(self, body: _Body, group: tuple[ir.Condition, ...], names: list[str]) -> None:
        """The lines `_CR(...)` of a tuple of condition results."""
        for c, fn in zip(group, names, strict=True):
            body.clause = _clause(c)
            evidence = "".join(
                f"({self.m.literal(f)}, get({self.m.literal(f)})), " for f in c.fields
            ).rstrip()
            body.emit(
                f"    _CR({self.m.literal(c.id)}, {self.m.literal(c.wording)}, {fn}(values), "
                f"({evidence}), {self.m.literal(c.span.file)}, {_int(c.span.line)}),"
            )
        body.clause = None

    def matched_function(self, v: _Validity) -> None:
        body = _Body(None, indent=0)
        record = self.m.literal(v.validity.record)
        body.emit(f"def {v.matched}(values, record_type=None):")
        body.indent = 1
        span = v.validity.span
        body.comment(f"fast path of {v.validity.record!r}, {_where(span.file, span.line)}")
        with _indented(body, f"if record_type is not None and record_type != {record}:"):
            body.emit("return POLICY.matched_ids(values, record_type)")
        # a plain dict is read by subscript (a missing key sends it down the general path);
        # any other mapping by `.get`, as the interpreter reads it
        with _indented(body, "if type(values) is dict:"):
            with _indented(body, "try:"):
                self.matched_body(body, v, "values[{}]")
            with _indented(body, "except KeyError:"):
                body.emit("pass")
        body.emit("get = values.get")
        self.matched_body(body, v, "get({})")
        self.m.functions.append(body.lines)

    def matched_body(self, body: _Body, v: _Validity, read: str) -> None:
        conditions = v.validity.conditions
        body.emit("m = []")
        if len(conditions) <= _CHUNK:
            self.matched_tests(body, conditions, read)
            body.emit("return m")
            return
        # a long block: functions of `_CHUNK` conditions each append to `m` (each reads its
        # fields again: a local is shared within one function only)
        for i in range(0, len(conditions), _CHUNK):
            part = _Body(None, indent=0)
            name = self.m.name("_e_")
            part.emit(f"def {name}(values, m):")
            part.indent = 1
            if read.startswith("get("):
                part.emit("get = values.get")
            self.matched_tests(part, conditions[i : i + _CHUNK], read)
            self.m.functions.append(part.lines)
            body.emit(f"{name}(values, m)")
        body.emit("return m")

    def matched_tests(self, body: _Body, conditions: tuple[ir.Condition, ...], read: str) -> None:
        """`if <condition definitely true>: m.append(<id>)` for each condition, in order."""
        assigned: frozenset[str] = frozenset()
        values = _ValueCompiler(self.m, body, ("", 0, ""))  # only names its locals
        uses = Counter(f for c in conditions for f in _field_refs(c.expr))
        reused = frozenset(f for f, n in uses.items() if n > 1)
        for c in conditions:
            clause = _clause(c)
            body.clause = clause
            body.comment(f"condition {c.id!r}, {_where(c.span.file, c.span.line)}")
            tc = _TestCompiler(self.m, values, read, clause, reused)
            test = tc.test(c.expr, True, _State(assigned))
            assigned = test.after
            with _indented(body, f"if {_strip(test.text)}:"):
                body.emit(f"m.append({self.m.literal(c.id)})")
            body.clause = None

    def generate(self) -> str:
        policy = self.policy
        p = policy.ir
        validities = [
            _Validity(i, v, f"_verdict_{i}", f"_matched_{i}") for i, v in enumerate(p.validities)
        ]
        for v in validities:
            conds, excs = [], []
            for j, c in enumerate(v.validity.conditions):
                conds.append(f"_cond_{v.index}_{j}")
                self.condition_function(conds[-1], c, "condition")
            for j, c in enumerate(v.validity.exceptions):
                excs.append(f"_exc_{v.index}_{j}")
                self.condition_function(excs[-1], c, "exception")
            self.verdict_function(v, conds, excs)
            self.matched_function(v)
        while self.m.pending:
            name, e, clause = self.m.pending.pop(0)
            self.helper_function(name, e, clause)
        ir_writer = _IrWriter(self.m)
        root = ir_writer.top(attrs.evolve(p, examples=(), transcript_examples=(), invariants=()))
        return self.assemble(validities, ir_writer, root)

    def assemble(self, validities: list[_Validity], irw: _IrWriter, root: str) -> str:
        p = self.policy.ir
        out: list[Line] = [(line, None) for line in _HEADER.splitlines()]

        starts = [0]  # where top-level statements begin, for the piecewise check

        def add(*lines: str) -> None:
            out.extend((line, None) for line in lines)

        def cut() -> None:
            starts.append(len(out))

        add(
            "",
            "import datetime as _dt",
            "",
            "from csdsl import runtime as _rt",
            "",
            f"_rt.require({_int(RUNTIME_VERSION)})",
            "",
            f"POLICY_NAME = {_constructor(p.name)}",
            f"POLICY_VERSION = {_constructor(p.version)}",
            f"EFFECTIVE = {_constructor(p.effective)}",
            f"TIMEZONE = {_constructor(p.timezone)}",
            f"CONTENT_HASH = {content_hash(self.policy)!r}",
            f"CSDSL_VERSION = {__version__!r}",
            "SOURCES = ("
            + "".join(f"{path!r}, " for path, _ in source_order(self.policy)).rstrip()
            + ")",
            "",
            "_ir = _rt.ir",
            "_S = _rt.Span",
            "_CR = _rt.ConditionResult",
            "_isfinite = _rt.isfinite",
            "_add, _sub, _mul, _div, _neg = _rt.add, _rt.sub, _rt.mul, _rt.div, _rt.neg",
            "",
        )
        if self.m.decoder_lines:
            cut()
            add("# ---- long lists of constants, packed", *self.m.decoder_lines, "", "")
        cut()
        add("# ---- constants")
        for line in self.m.const_lines:
            cut()
            add(line)
        for fn in self.m.functions:
            cut()
            add("", "")
            out.extend(fn)
        add("", "", "# ---- the checked policy, for the runtime's engines")
        for line in irw.lines():
            cut()
            add(line)
        cut()
        add("")
        pairs = ", ".join(
            f"{self.m.literal(v.validity.record)}: ({v.verdict}, {v.matched})" for v in validities
        )
        add(f"POLICY = _rt.CompiledPolicy({root}, {{{pairs}}})", "IR = POLICY.ir")
        add(*self.entry_points(validities))
        add(
            "validate = POLICY.validate",
            "validate_file = POLICY.validate_file",
            "record_type = POLICY.record_type",
            "reader = POLICY.reader",
            "timeline = POLICY.timeline",
            "timeline_file = POLICY.timeline_file",
            "read_events = POLICY.read_events",
            "rule_checker = POLICY.rule_checker",
            "check_rules = POLICY.check_rules",
            "rules_file = POLICY.rules_file",
            "transcript_checker = POLICY.transcript_checker",
            "check_transcript = POLICY.check_transcript",
            "check_transcript_file = POLICY.check_transcript_file",
            "measure = POLICY.measure",
            "measure_files = POLICY.measure_files",
            "",
            "__all__ = [",
            *(f"    {n!r}," for n in _PUBLIC),
            "]",
            "",
        )
        cut()
        add(*self.clauses_table([c for _, c in out]))
        text = "\n".join(line for line, _ in out) + "\n"
        with warnings.catch_warnings():  # a generator bug must not reach a user
            warnings.simplefilter("error", SyntaxWarning)  # e.g. `is` with a literal
            for piece in _pieces([line for line, _ in out], starts):
                compile(piece, "<csdsl generated>", "exec")
        return text

    def clauses_table(self, tags: list[Clause | None]) -> list[str]:
        """`CLAUSES`, built when the module runs from runs of consecutive lines of one clause:
        a few tokens per run instead of ten per line (compiling a module costs memory for each
        token: a dict display of every line took most of it)."""
        if not any(tags):
            return ["# generated line -> (policy file, line, condition id)", "CLAUSES = {}"]
        index: dict[Clause, int] = {}
        runs: list[list[int]] = []  # [clause index, first line, how many]
        for n, c in enumerate(tags, 1):
            if c is None:
                continue
            i = index.setdefault(c, len(index))
            last = runs[-1] if runs else None
            if last and last[0] == i and last[1] + last[2] == n and last[2] < _RUN:
                last[2] += 1
            else:
                runs.append([i, n, 1])
        table, offsets = self.m.name("_k_"), self.m.name("_k_")
        k, first, count, step = (self.m.name("t_") for _ in range(4))
        return [
            "# generated line -> (policy file, line, condition id), from runs of consecutive",
            "# lines of one clause: (clause, first line, how many)",
            f"{table} = (",
            *(f"    ({c[0]!r}, {_int(c[1])}, {c[2]!r})," for c in index),
            ")",
            f"{offsets} = {bytes(range(_RUN))!r}",
            "CLAUSES = {",
            f"    {first} + {step}: {table}[{k}]",
            f"    for {k}, {first}, {count} in (",
            *(f"        ({_int(a)}, {_int(b)}, {_int(c)})," for a, b, c in runs),
            "    )",
            f"    for {step} in {offsets}[:{count}]",
            "}",
        ]

    def entry_points(self, validities: list[_Validity]) -> list[str]:
        if not validities:
            return [
                "",
                "validate_values = POLICY.validate_values",
                "matched_ids = POLICY.matched_ids",
            ]
        if len(validities) == 1:
            v = validities[0]
            record = self.m.literal(v.validity.record)
            return [
                "",
                "",
                "def validate_values(values, record_type=None, record_id=None):",
                '    """The verdict on values already coerced (missing fields as None)."""',
                f"    if record_type is None or record_type == {record}:",
                f"        return {v.verdict}(values, record_id)",
                "    return POLICY.validate_values(values, record_type, record_id)",
                "",
                "",
                f"matched_ids = {v.matched}",
                "",
            ]
        table = ", ".join(f"{self.m.literal(v.validity.record)}: {v.verdict}" for v in validities)
        fast = ", ".join(f"{self.m.literal(v.validity.record)}: {v.matched}" for v in validities)
        return [
            f"_VERDICTS = {{{table}}}",
            f"_MATCHED = {{{fast}}}",
            "",
            "",
            "def validate_values(values, record_type=None, record_id=None):",
            '    """The verdict on values already coerced (missing fields as None)."""',
            "    return _VERDICTS[POLICY.record_type(record_type)](values, record_id)",
            "",
            "",
            "def matched_ids(values, record_type=None):",
            '    """Only the ids of the conditions that match values already coerced."""',
            "    return _MATCHED[POLICY.record_type(record_type)](values)",
            "",
        ]


_PUBLIC = (
    "CLAUSES",
    "CONTENT_HASH",
    "CSDSL_VERSION",
    "EFFECTIVE",
    "IR",
    "POLICY",
    "POLICY_NAME",
    "POLICY_VERSION",
    "SOURCES",
    "TIMEZONE",
    "check_rules",
    "check_transcript",
    "check_transcript_file",
    "matched_ids",
    "measure",
    "measure_files",
    "read_events",
    "reader",
    "record_type",
    "rule_checker",
    "rules_file",
    "timeline",
    "timeline_file",
    "transcript_checker",
    "validate",
    "validate_file",
    "validate_values",
)


# ---- long lists of constants -----------------------------------------------------------------
#
# Compiling Python costs memory for every token (several hundred bytes each at its peak), and
# the IR of a constant is some thirty tokens: a list of 100,000 values took over a gigabyte.  A
# list of at least `_PACK` texts or integers of one type, from one file, is therefore packed: its
# values as one string (texts) or bytes (integers), its positions as bytes, and the module
# rebuilds the tuple of values and the `Const` nodes when it runs.  Numbers are packed 7 bits a
# byte, least significant first, the high bit set on every byte of a number but its last.

_PACK = 64
# a validity block of more conditions than this has its verdict's results and its fast path
# split into functions of this many conditions each: no one function (nor its compilation)
# grows with the size of the policy
_CHUNK = 256

_DECODERS = {
    "numbers": """def {numbers}(t_0):
    # the numbers packed in the bytes t_0
    t_1 = []
    t_2 = t_3 = 0
    for t_4 in t_0:
        t_2 |= (t_4 & 127) << t_3
        t_3 += 7
        if t_4 < 128:
            t_1.append(t_2)
            t_2 = t_3 = 0
    return t_1""",
    "texts": """def {texts}(t_0, t_1):
    # the texts packed in the string t_0, their lengths in t_1
    t_2 = []
    t_3 = 0
    for t_4 in {numbers}(t_1):
        t_2.append(t_0[t_3 : t_3 + t_4])
        t_3 += t_4
    return (*t_2,)""",
    "ints": """def {ints}(t_0):
    # the integers packed in t_0: n >= 0 as 2n, n < 0 as -2n - 1
    return (*(-(t_1 >> 1) - 1 if t_1 & 1 else t_1 >> 1 for t_1 in {numbers}(t_0)),)""",
    "consts": """def {consts}(t_0, t_1, t_2, t_3):
    # `Const` nodes of the values t_0, of type t_1, in the file t_2; t_3 packs 4 numbers an item:
    # its line after the previous item's end line, its column (after the previous item's end
    # column on that same line), its end line after its line, and its end column (after its
    # column on that same line)
    t_4 = {numbers}(t_3)
    t_5 = []
    t_6 = t_7 = t_8 = 0
    for t_9 in t_0:
        t_10, t_11, t_12, t_13 = t_4[t_6 : t_6 + 4]
        t_14 = t_11 + (t_8 if t_10 == 0 else 0)
        t_7 += t_10
        t_8 = t_13 + (t_14 if t_12 == 0 else 0)
        t_5.append(_ir.Const(value=t_9, type=t_1, span=_S(t_2, t_7, t_14, t_7 + t_12, t_8)))
        t_7 += t_12
        t_6 += 4
    return (*t_5,)""",
}


def _varints(numbers: Iterator[int]) -> bytes:
    out = bytearray()
    for n in numbers:
        assert n >= 0
        while n >= 128:
            out.append(n & 127 | 128)
            n >>= 7
        out.append(n)
    return bytes(out)


def _packed_values(items: tuple[Any, ...]) -> tuple[type, str, bytes] | None:
    """(str, the texts joined, their lengths) or (int, "", the integers) for a long list of
    constants that are all texts or all integers; None for any other list."""
    if len(items) < _PACK or not all(type(i) is ir.Const for i in items):
        return None
    values = [i.value for i in items]
    if all(type(x) is str for x in values):
        return str, "".join(values), _varints(len(x) for x in values)
    if all(type(x) is int for x in values):
        return int, "", _varints(2 * x if x >= 0 else -2 * x - 1 for x in values)
    return None


def _packed_spans(items: tuple[Any, ...]) -> bytes | None:
    """The positions of `Const` nodes of one type from one file, packed as `_DECODERS["consts"]`
    reads them; None when they are not such nodes or their positions go backwards."""
    if not all(type(i) is ir.Const for i in items):
        return None
    first = items[0]
    numbers: list[int] = []
    line = column = 0
    for item in items:
        s = item.span
        if type(s) is not Span or s.file != first.span.file or item.type != first.type:
            return None
        same = s.line == line
        if s.line < line or (same and s.column < column) or s.end_line < s.line:
            return None
        if s.end_line == s.line and s.end_column < s.column:
            return None
        inline = s.end_line == s.line
        numbers += [
            s.line - line,
            s.column - (column if same else 0),
            s.end_line - s.line,
            s.end_column - (s.column if inline else 0),
        ]
        line, column = s.end_line, s.end_column
    if any(n < 0 for n in numbers):
        return None
    return _varints(iter(numbers))


# a run of `CLAUSES` covers at most this many lines (its offsets are a slice of one bytes constant)
_RUN = 256
# the self-check compiles the module in pieces of about this many characters: compiling costs
# memory in proportion to the text compiled at once
_PIECE = 200_000


def _pieces(lines: list[str], starts: list[int]) -> Iterator[str]:
    """The module's text in pieces of whole top-level statements (`starts`: the indexes of the
    lines where they begin), each piece about `_PIECE` characters or one statement."""
    bounds = [*sorted(set(starts)), len(lines)]
    begin, size = 0, 0
    for a, b in itertools.pairwise(bounds):
        size += sum(len(line) + 1 for line in lines[a:b])
        if size >= _PIECE:
            yield "\n".join(lines[begin:b]) + "\n"
            begin, size = b, 0
    if begin < len(lines):
        yield "\n".join(lines[begin:]) + "\n"


@contextmanager
def _indented(body: _Body, header: str) -> Iterator[None]:
    body.emit(header)
    body.indent += 1
    try:
        yield
    finally:
        body.indent -= 1


def _strip(text: str) -> str:
    """`(a and b)` -> `a and b` for an `if` line."""
    return text[1:-1] if text.startswith("(") and _balanced(text) else text


def generate(policy: Policy) -> str:
    """The source of a standalone checker module for a loaded policy (see the module docs)."""
    return _Generator(policy).generate()


def load_source(source: str, name: str = "csdsl_generated_checker") -> types.ModuleType:
    """Compile generated source into a module (not added to `sys.modules`); its lines are
    registered with `linecache` under `<csdsl-generated NAME DIGEST>` (the digest tells two
    sources apart), so tracebacks show them."""
    digest = hashlib.sha256(source.encode("utf-8", "surrogatepass")).hexdigest()[:12]
    filename = f"<csdsl-generated {name} {digest}>"
    code = compile(source, filename, "exec")
    module = types.ModuleType(name)
    module.__file__ = filename
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    exec(code, module.__dict__)
    return module

"""The checked policy as Python constructor calls of the IR's own classes (for
`csdsl.codegen.python`).

In: a checked `ir.Policy` (or any IR value) and the `Module` under construction.  Out:
assignments `_o_N = _ir.Record(...)`, a definition before its uses, that rebuild an equal IR
when the generated module runs, for csdsl's lark-free engines (`csdsl.runtime`): records,
calendars, deadlines, escalations, record-level rules, phrase sets, transcript rules, metrics.
Spans name their file through `_f_N`; a long list of constants of one type from one file is
packed (`python_module.packed_values` and `packed_spans`).
"""

from __future__ import annotations

import enum
from typing import Any

import attrs

from csdsl import ir
from csdsl.calendar import WorkCalendar
from csdsl.codegen.python_module import (
    Module,
    constructor,
    int_literal,
    packed_spans,
    packed_values,
)
from csdsl.source import Span

# deeper than this, a value becomes an assignment of its own: generated code stays well inside
# Python's limits on nested parentheses, and so does the writer's recursion
IR_DEPTH = 12


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


class IrWriter:
    """The IR as assignments `_o_N = <constructor calls>` (a definition always precedes its
    uses: they are written in the reverse order of their names)."""

    def __init__(self, module: Module) -> None:
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
        if t is tuple:
            positions = packed_spans(v)
            if positions is not None and packed_values(v) is not None:
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
            nums = ", ".join(int_literal(x) for x in (v.line, v.column, v.end_line, v.end_column))
            assert type(v.file) is str
            return f"_S({self.file(v.file)}, {nums})"
        cls = _IR_CLASSES.get(t)
        if cls is None:
            return constructor(v)
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

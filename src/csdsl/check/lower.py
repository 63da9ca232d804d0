"""Names and types: AST -> IR.

In: a module `Graph`.  Out: an `ir.Policy` and diagnostics: unknown and duplicate names (with
"did you mean"), keywords used as names, unknown types and time zones, type errors in
expressions, and examples that do not fit their record type.  Lowering goes on after an error
(the faulty expression gets the type `error`, which is never reported twice), so one run reports
as much as it can.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Iterable, Sequence
from pathlib import Path

from csdsl import ir
from csdsl.calendar import WorkCalendar
from csdsl.check.citations import clause_kinds, lower_citations
from csdsl.check.invariants import lower_invariants
from csdsl.check.metrics import lower_metrics
from csdsl.check.modules import Graph
from csdsl.check.phrases import lower_phrases
from csdsl.check.rules import lower_rules
from csdsl.check.time import lower_time
from csdsl.check.transcripts import lower_transcript_examples, lower_transcript_rules
from csdsl.diagnostics import (
    Diagnostic,
    Fix,
    Related,
    did_you_mean,
    error,
    rename,
    replace,
    warning,
)
from csdsl.source import Span
from csdsl.syntax import ast
from csdsl.syntax.grammar import KEYWORDS
from csdsl.values import instant

Kind = ir.Kind


def _zones() -> set[str]:
    return zoneinfo.available_timezones()


class Lowering:
    def __init__(self, graph: Graph) -> None:
        self.graph = graph
        self.diags: list[Diagnostic] = []
        self.tz: dt.tzinfo = dt.UTC
        self.tz_name = "UTC"
        self.records: dict[str, ir.Record] = {}
        self.calendars: dict[str, WorkCalendar] = {}
        self.deadlines: dict[str, ir.Deadline] = {}
        self.escalations: list[ir.Escalation] = []
        self.rules: dict[str, ir.Rule] = {}
        self.metric_names: set[str] = set()
        self.example_parts: list[ast.Example] = []  # the further records of metric examples
        self.phrase_sets: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def err(
        self,
        code: str,
        message: str,
        span: Span,
        hint: str | None = None,
        related: Sequence[Related] = (),
        fixes: Sequence[Fix] = (),
    ) -> None:
        self.diags.append(error(code, message, span, hint, related, fixes))

    def not_a_keyword(self, ident: ast.Ident, what: str) -> None:
        if ident.name in KEYWORDS:
            self.err(
                "E206",
                f"`{ident.name}` is a keyword and cannot name {article(what)}",
                ident.span,
                f"rename it, e.g. `{ident.name}_`",
            )

    def unique(self, idents: Iterable[ast.Ident], what: str, where: str = "") -> None:
        seen: dict[str, ast.Ident] = {}
        for ident in idents:
            first = seen.get(ident.name)
            if first is not None:
                self.err(
                    "E202",
                    f"duplicate {what} `{ident.name}`{where}",
                    ident.span,
                    f"rename one of them; {what} names must be unique{where}",
                    [Related("first defined here", first.span)],
                )
            else:
                seen[ident.name] = ident

    # ---- the whole policy ---------------------------------------------------------------
    def run(self) -> ir.Policy:
        graph = self.graph
        root = graph.root
        assert root is not None
        root_key = str(Path(graph.root_path).resolve())
        header = root.header
        if header is not None and header.timezone is not None:
            self.set_timezone(header.timezone, header.timezone_span)
        own, imported = self.scope(root_key)
        self.check_included_zones(own)
        # the clauses of this policy: the root file's and those of the files it includes
        items = [item for key in own for item in graph.modules[key].items]
        root = ast.Module(header, tuple(items), span=root.span)

        # records in scope: this policy's and those of the files it imports
        decls: list[ast.RecordDecl] = [i for i in root.items if isinstance(i, ast.RecordDecl)]
        for key in imported:
            decls += [i for i in graph.modules[key].items if isinstance(i, ast.RecordDecl)]
        self.unique((d.name for d in decls), "record")
        records = [self.record(d) for d in decls]
        self.records = {r.name: r for r in reversed(records)}
        if (header is None or header.timezone is None) and any(
            f.type.kind is Kind.DATETIME for r in records for f in r.fields
        ):
            span = header.span if header is not None else Span(graph.root_path, 1, 1, 1, 1)
            self.diags.append(
                warning(
                    "W501",
                    "no `timezone` in the header: datetimes without an offset are read as UTC",
                    span,
                    'add `timezone "Asia/Shanghai"` (or your zone) to the `policy` header',
                )
            )

        validities = [i for i in root.items if isinstance(i, ast.Validity)]
        for v in validities:
            first = next(w for w in validities if w.record.name == v.record.name)
            if first is not v:
                self.err(
                    "E202",
                    f"a second validity block for `{v.record.name}`",
                    v.record.span,
                    "merge the two blocks into one",
                    [Related("the first one", first.span)],
                )
        lowered_v = [v for v in (self.validity(v) for v in validities) if v is not None]
        self.validities = {v.record: v for v in lowered_v}

        sets = [i for i in root.items if isinstance(i, ast.PhrasesDecl)]
        for key in imported:  # shared phrase books
            sets += [i for i in graph.modules[key].items if isinstance(i, ast.PhrasesDecl)]
        self.phrase_sets = lower_phrases(self, sets)
        lower_time(self, root)
        tr_rules = lower_transcript_rules(
            self, [i for i in root.items if isinstance(i, ast.TranscriptRules)]
        )
        for key in imported:
            for item in graph.modules[key].items:
                unused = {
                    ast.TranscriptRules: ("transcript rules", "transcript"),
                    ast.TranscriptExample: ("an example transcript", "example"),
                    ast.MetricDecl: ("a metric", "metric"),
                }.get(type(item))
                if unused is not None:
                    what, keyword = unused
                    at = item.span
                    self.diags.append(
                        warning(
                            "W533",
                            f"{what} in an imported file: not used by this policy",
                            Span(at.file, at.line, at.column, at.line, at.column + len(keyword)),
                            "`import` brings records and phrase sets only; to make the file's "
                            "rules part of this policy, `include` it instead",
                        )
                    )

        metrics = lower_metrics(self, [i for i in root.items if isinstance(i, ast.MetricDecl)])
        self.metric_names = {m.name for m in metrics}
        invariants = lower_invariants(
            self,
            [i for i in root.items if isinstance(i, ast.InvariantDecl)],
            {
                i.name.name
                for i in root.items
                if isinstance(i, ast.DeadlineDecl | ast.EscalationDecl)
            },
        )

        rules = lower_rules(self, [i for i in root.items if isinstance(i, ast.RuleDecl)])
        self.rules = {r.name: r for r in rules}

        examples = [i for i in root.items if isinstance(i, ast.Example)]
        tr_examples = [i for i in root.items if isinstance(i, ast.TranscriptExample)]
        ids = [e.id for e in examples] + [e.id for e in tr_examples]
        self.unique((i for i in ids if i is not None), "example")
        from csdsl.check.examples import lower_examples  # it builds on `Exprs`, defined below

        lowered_e = lower_examples(self, examples)
        lowered_t = lower_transcript_examples(self, tr_examples, tr_rules)

        return ir.Policy(
            name=header.name if header else None,
            version=header.version if header else None,
            effective=header.effective if header else None,
            timezone=self.tz_name,
            file=graph.root_path,
            records=tuple(records),
            validities=tuple(lowered_v),
            examples=tuple(lowered_e),
            calendars=tuple(self.calendars.items()),
            deadlines=tuple(self.deadlines.values()),
            escalations=tuple(self.escalations),
            phrase_sets=self.phrase_sets,
            transcript_rules=tr_rules,
            transcript_examples=tuple(lowered_t),
            metrics=tuple(metrics),
            invariants=tuple(invariants),
            rules=tuple(rules),
            citations=lower_citations(
                self,
                [i for i in root.items if isinstance(i, ast.CitesDecl)],
                clause_kinds(
                    lowered_v,
                    tuple(self.deadlines.values()),
                    self.escalations,
                    metrics,
                    invariants,
                    tr_rules,
                    rules,
                ),
            ),
        )

    def scope(self, root_key: str) -> tuple[list[str], list[str]]:
        """The files whose clauses make this policy (the root and what it includes, transitively,
        each once) and the files they import (each once, and none of the former)."""
        graph = self.graph
        own: list[str] = []

        def visit(key: str) -> None:
            if key in own or key not in graph.modules:
                return
            own.append(key)
            for k in graph.includes.get(key, []):
                visit(k)

        visit(root_key)
        imported: list[str] = []
        for key in own:
            for k in graph.imports.get(key, []):
                if k not in own and k not in imported and k in graph.modules:
                    imported.append(k)
        return own, imported

    def check_included_zones(self, own: list[str]) -> None:
        for key in own[1:]:
            header = self.graph.modules[key].header
            if header is None or header.timezone is None or header.timezone == self.tz_name:
                continue
            self.err(
                "E215",
                f"`{Path(key).name}` is in time zone `{header.timezone}`, this policy in "
                f"`{self.tz_name}`",
                header.timezone_span,
                "an included file's clauses are read in the including policy's time zone; give "
                "both files the same `timezone`",
            )

    def set_timezone(self, name: str, span: Span) -> None:
        try:
            self.tz = zoneinfo.ZoneInfo(name)
            self.tz_name = name
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            self.err(
                "E207",
                f"unknown time zone `{name}`",
                span,
                did_you_mean(name, _zones()) or "use an IANA name such as `Asia/Shanghai`",
                fixes=rename(span, name, _zones(), '"{}"'),
            )

    # ---- records ------------------------------------------------------------------------
    def record(self, decl: ast.RecordDecl) -> ir.Record:
        self.not_a_keyword(decl.name, "record")
        self.unique((f.name for f in decl.fields), "field", f" in record `{decl.name.name}`")
        fields = []
        for f in decl.fields:
            self.not_a_keyword(f.name, "field")
            fields.append(ir.Field(f.name.name, self.type_of(f.type), f.optional, f.span))
        if not fields:
            self.diags.append(
                warning(
                    "W502",
                    f"record `{decl.name.name}` has no fields",
                    decl.name.span,
                    "declare the fields the data carries",
                )
            )
        return ir.Record(decl.name.name, tuple(fields), decl.span)

    def type_of(self, ref: ast.TypeRef) -> ir.Type:
        if isinstance(ref, ast.EnumType):
            self.unique(ref.values, "enum value")
            for v in ref.values:
                self.not_a_keyword(v, "enum value")
            return ir.Type(Kind.ENUM, tuple(dict.fromkeys(v.name for v in ref.values)))
        name = ref.name.name
        if name in ir.SIMPLE_TYPES:
            return ir.SIMPLE_TYPES[name]
        aliases = {
            "boolean": "bool",
            "integer": "int",
            "float": "number",
            "decimal": "number",
            "string": "text",
            "str": "text",
            "timestamp": "datetime",
            "time": "datetime",
            "timedelta": "duration",
            "interval": "duration",
        }
        hint = (
            f"did you mean `{aliases[name.lower()]}`?"
            if name.lower() in aliases
            else did_you_mean(name, [*ir.SIMPLE_TYPES, "enum"])
        )
        self.err(
            "E208",
            f"unknown type `{name}`",
            ref.name.span,
            hint or "types are bool, int, number, text, date, datetime, duration, enum(...)",
            fixes=[replace(ref.name.span, name, aliases[name.lower()])]
            if name.lower() in aliases
            # `enum` alone is no type: it needs its values
            else rename(ref.name.span, name, [*ir.SIMPLE_TYPES, "enum"], only=ir.SIMPLE_TYPES),
        )
        return ir.ERROR

    # ---- validity -----------------------------------------------------------------------
    def record_named(self, ident: ast.Ident) -> ir.Record | None:
        """The record a block is `for`, or None after reporting an unknown name."""
        record = self.records.get(ident.name)
        if record is None:
            self.err(
                "E203",
                f"unknown record `{ident.name}`",
                ident.span,
                did_you_mean(ident.name, self.records) or "declare it with `record`",
                fixes=rename(ident.span, ident.name, self.records),
            )
        return record

    def validity(self, v: ast.Validity) -> ir.Validity | None:
        record = self.record_named(v.record)
        if record is None:
            return None
        everything = [*v.conditions, *(v.exceptions or ())]
        self.unique((c.id for c in everything), "condition")
        if not v.conditions:
            self.err(
                "E209",
                f"the validity block for `{record.name}` has no conditions",
                v.record.span,
                'add at least one `name "wording": condition` line',
            )
        conds = tuple(self.condition(c, record) for c in v.conditions)
        excs = tuple(self.condition(c, record) for c in v.exceptions or ())
        if v.exceptions is not None and not v.exceptions:
            self.diags.append(
                warning(
                    "W503",
                    "empty `unless` block",
                    v.unless_span,
                    "remove it, or list the exceptions in it",
                )
            )
        return ir.Validity(record.name, v.quantifier, conds, excs, v.span)

    def condition(self, c: ast.Condition, record: ir.Record) -> ir.Condition:
        self.not_a_keyword(c.id, "condition")
        expr = Exprs(self, record).lower(c.expr)
        if expr.type.kind not in (Kind.BOOL, Kind.ERROR):
            self.err(
                "E302",
                f"condition `{c.id.name}` is {article(expr.type.kind.value)}, not a yes/no test",
                c.expr.span,
                _bool_hint(expr),
            )
        return ir.Condition(c.id.name, c.wording, expr, ir.fields_used(expr), c.span)


def article(word: str) -> str:
    """`a number`, `an int`, `an enum`."""
    return ("an " if word[:1] in "aeiou" else "a ") + word


def source_text(v: ast.Value | ast.Expr) -> str:
    from csdsl.syntax.format import expr_text

    return expr_text(v)


def literal_hint(t: ir.Type) -> str:
    return {
        Kind.BOOL: "write `true` or `false`",
        Kind.INT: "write a whole number such as `3`",
        Kind.NUMBER: "write a number such as `12.5`",
        Kind.TEXT: 'write text in double quotes, e.g. "退款"',
        Kind.DATE: "write a date such as `2024-10-29`",
        Kind.DATETIME: "write a datetime such as `2024-10-29T09:00` (policy time zone) or "
        "`2024-10-29T09:00+08:00`",
        Kind.DURATION: "write a duration such as `4h`, `30m` or `2h30m`",
    }.get(t.kind, f"write a {t} value")


def _bool_hint(e: ir.Expr) -> str:
    k = e.type.kind
    if k in (Kind.INT, Kind.NUMBER):
        return "compare it, e.g. `loss_amount > 0`"
    if k is Kind.DURATION:
        return "compare it with a duration, e.g. `... > 4h`"
    if k in (Kind.DATETIME, Kind.DATE):
        return "test it with `is set` / `is missing`, or compare it with another time"
    if k is Kind.TEXT:
        return 'compare it (`= "..."`) or test it with `contains "..."`'
    return "a condition must be true or false"


# ---- expressions -------------------------------------------------------------------------

_ARITH: dict[tuple[str, Kind, Kind], Kind] = {}
for _op in "+-*/":
    for _a in (Kind.INT, Kind.NUMBER):
        for _b in (Kind.INT, Kind.NUMBER):
            _ARITH[(_op, _a, _b)] = Kind.INT if _a is _b is Kind.INT and _op != "/" else Kind.NUMBER
_ARITH.update(
    {
        ("+", Kind.DURATION, Kind.DURATION): Kind.DURATION,
        ("-", Kind.DURATION, Kind.DURATION): Kind.DURATION,
        ("-", Kind.DATETIME, Kind.DATETIME): Kind.DURATION,
        ("-", Kind.DATE, Kind.DATE): Kind.DURATION,
        ("+", Kind.DATETIME, Kind.DURATION): Kind.DATETIME,
        ("+", Kind.DURATION, Kind.DATETIME): Kind.DATETIME,
        ("-", Kind.DATETIME, Kind.DURATION): Kind.DATETIME,
        ("*", Kind.DURATION, Kind.INT): Kind.DURATION,
        ("*", Kind.DURATION, Kind.NUMBER): Kind.DURATION,
        ("*", Kind.INT, Kind.DURATION): Kind.DURATION,
        ("*", Kind.NUMBER, Kind.DURATION): Kind.DURATION,
        ("/", Kind.DURATION, Kind.INT): Kind.DURATION,
        ("/", Kind.DURATION, Kind.NUMBER): Kind.DURATION,
        ("/", Kind.DURATION, Kind.DURATION): Kind.NUMBER,
    }
)
_ARITH_HINT = (
    "numbers take + - * /; durations add and subtract, and scale by a number; "
    "datetime - datetime is a duration"
)
_ORDERED = (Kind.INT, Kind.NUMBER, Kind.DATE, Kind.DATETIME, Kind.DURATION)


class Exprs:
    """Lowers the expressions of one condition, against one record's fields."""

    def __init__(self, owner: Lowering, record: ir.Record | None) -> None:
        self.o = owner
        self.record = record

    def literal(self, e: ast.Expr | ast.Value) -> ir.Const | None:
        if isinstance(e, ast.Number):
            return ir.Const(e.value, ir.INT if isinstance(e.value, int) else ir.NUMBER, e.span)
        if isinstance(e, ast.Percent):
            return ir.Const(e.value / 100, ir.NUMBER, e.span)
        if isinstance(e, ast.Duration):
            return ir.Const(dt.timedelta(seconds=e.seconds), ir.DURATION, e.span)
        if isinstance(e, ast.DateLit):
            return ir.Const(e.value, ir.DATE, e.span)
        if isinstance(e, ast.DateTimeLit):
            try:  # an instant with a fixed offset, as data is read (`values.instant`)
                value = instant(e.value, self.o.tz)
            except ValueError as exc:
                message, _, hint = str(exc).partition("; ")
                hint = hint or "keep a day away from 0001-01-01 and 9999-12-31"
                self.o.err("E103", message, e.span, hint)
                value = e.value.replace(tzinfo=e.value.tzinfo or self.o.tz)
            return ir.Const(value, ir.DATETIME, e.span)
        if isinstance(e, ast.String):
            return ir.Const(e.value, ir.TEXT, e.span)
        if isinstance(e, ast.Bool):
            return ir.Const(e.value, ir.BOOL, e.span)
        return None

    def lower(
        self, e: ast.Expr, expect_enum: ir.Type | None = None, owner: str | None = None
    ) -> ir.Expr:
        lit = self.literal(e)
        if lit is not None:
            return lit
        if isinstance(e, ast.Name):
            return self.name(e, expect_enum, owner)
        if isinstance(e, ast.Neg):
            inner = self.lower(e.operand)
            if inner.type.kind not in (Kind.INT, Kind.NUMBER, Kind.DURATION, Kind.ERROR):
                self.o.err(
                    "E301",
                    f"cannot negate {article(inner.type.kind.value)}",
                    e.span,
                    "only numbers and durations have a sign; for yes/no use `not`",
                )
                return ir.Neg(inner, ir.ERROR, e.span)
            if isinstance(inner, ir.Const) and isinstance(inner.value, int | float | dt.timedelta):
                return ir.Const(-inner.value, inner.type, e.span)
            return ir.Neg(inner, inner.type, e.span)
        if isinstance(e, ast.And | ast.Or):
            left, right = self.boolean(e.left, e), self.boolean(e.right, e)
            return (ir.And if isinstance(e, ast.And) else ir.Or)(left, right, e.span)
        if isinstance(e, ast.Not):
            return ir.Not(self.boolean(e.operand, e), e.span)
        if isinstance(e, ast.IsSet | ast.IsMissing):
            inner = self.lower(e.operand)
            if not isinstance(inner, ir.FieldRef) and inner.type.kind is not Kind.ERROR:
                self.o.diags.append(
                    warning(
                        "W504",
                        "`is set` / `is missing` on an expression: it is missing only when a "
                        "field in it is missing or its arithmetic fails (division by zero, "
                        "out of range)",
                        e.span,
                        "test the field itself",
                    )
                )
            elif isinstance(inner, ir.FieldRef) and not inner.optional:
                word = "is set" if isinstance(e, ast.IsSet) else "is missing"
                self.o.diags.append(
                    warning(
                        "W505",
                        f"`{inner.name}` is required, so `{word}` is always "
                        f"{'true' if word == 'is set' else 'false'}",
                        e.span,
                        f"declare it optional (`{inner.name}: {inner.type}?`) "
                        "if the data may lack it",
                    )
                )
            return ir.IsSet(inner, isinstance(e, ast.IsMissing), e.span)
        if isinstance(e, ast.Compare):
            return self.compare(e)
        if isinstance(e, ast.InList):
            return self.in_list(e)
        if isinstance(e, ast.Contains):
            left, right = self.lower(e.left), self.lower(e.right)
            for side in (left, right):
                if side.type.kind not in (Kind.TEXT, Kind.ERROR):
                    self.o.err(
                        "E301",
                        f"`contains` works on text, not on a {side.type.kind.value}",
                        side.span,
                        'write `field contains "words"` with a text field',
                    )
            return ir.Contains(left, right, e.span)
        if isinstance(e, ast.BinOp):
            return self.arith(e)
        if isinstance(e, ast.Call) and e.func.name == "due":
            self.o.err(
                "E277",
                "`due(...)` is a due time of the clocks: only an invariant can read it",
                e.span,
                "a condition reads the record's fields; to state what must hold of a due time, "
                'write `invariant "..." { due(reply) - received_at <= 48h }`',
            )
            return ir.Const(None, ir.ERROR, e.span)
        if isinstance(e, ast.Call):
            self.o.err(
                "E310",
                f"`{e.func.name}(...)` adds up many records: it belongs in a `metric`",
                e.span,
                "a condition looks at one record; write `metric NAME: "
                f"{e.func.name}(...) ...` to measure over all of them",
            )
            return ir.Const(None, ir.ERROR, e.span)
        raise AssertionError(f"unexpected expression {e!r}")  # pragma: no cover

    def boolean(self, e: ast.Expr, parent: ast.Expr) -> ir.Expr:
        x = self.lower(e)
        if x.type.kind not in (Kind.BOOL, Kind.ERROR):
            word = {ast.And: "and", ast.Or: "or", ast.Not: "not"}[type(parent)]
            self.o.err(
                "E301",
                f"`{word}` needs yes/no values, but this is {article(x.type.kind.value)}",
                e.span,
                _bool_hint(x),
            )
        return x

    def name(self, e: ast.Name, expect_enum: ir.Type | None, owner: str | None = None) -> ir.Expr:
        field = self.record.field(e.id) if self.record else None
        if field is not None:
            return ir.FieldRef(field.name, field.type, field.optional, e.span)
        if e.id == "valid":
            self.o.err(
                "E277",
                "`valid` is the verdict: only an invariant can read it",
                e.span,
                "a condition decides the verdict; to state what must hold of it, write "
                '`invariant "..." { not valid or ... }`',
            )
            return ir.Const(None, ir.ERROR, e.span)
        if expect_enum is not None:
            if e.id in expect_enum.values:
                return ir.Const(e.id, expect_enum, e.span)
            self.o.err(
                "E210",
                f"`{e.id}` is not a value of {owner or str(expect_enum)}",
                e.span,
                did_you_mean(e.id, expect_enum.values)
                or "the values are " + ", ".join(f"`{v}`" for v in expect_enum.values),
                fixes=rename(e.span, e.id, expect_enum.values),
            )
            return ir.Const(None, ir.ERROR, e.span)
        names = [f.name for f in self.record.fields] if self.record else []
        enum_values = [
            v
            for f in (self.record.fields if self.record else ())
            if f.type.kind is Kind.ENUM
            for v in f.type.values
        ]
        hint = did_you_mean(e.id, names)
        fixes = rename(e.span, e.id, names)
        if e.id.lower() in ("true", "false") and e.id not in names:
            hint = f"write `{e.id.lower()}` in lower case"
            fixes = [replace(e.span, e.id, e.id.lower())]
        if e.id in enum_values:
            fixes = []  # compare which field with it? not a certain fix
            owners = [
                f.name
                for f in self.record.fields  # type: ignore[union-attr]
                if e.id in f.type.values
            ]
            hint = f"`{e.id}` is a value of `{owners[0]}`: compare it, e.g. `{owners[0]} = {e.id}`"
        what = f"record `{self.record.name}`" if self.record else "this record"
        self.o.err(
            "E201",
            f"unknown field `{e.id}` in {what}",
            e.span,
            hint or did_you_mean(e.id, enum_values) or "declare it in the record",
            fixes=fixes,
        )
        return ir.Const(None, ir.ERROR, e.span)

    def pair(self, left: ast.Expr, right: ast.Expr) -> tuple[ir.Expr, ir.Expr]:
        """Lower two operands that may be an enum field and a bare enum value name."""
        lfirst = not (
            isinstance(left, ast.Name)
            and self.record is not None
            and self.record.field(left.id) is None
        )
        if lfirst:
            lx = self.lower(left)
            rx = self.lower(right, lx.type if lx.type.kind is Kind.ENUM else None, _owner(lx))
        else:
            rx = self.lower(right)
            lx = self.lower(left, rx.type if rx.type.kind is Kind.ENUM else None, _owner(rx))
        return lx, rx

    def compare(self, e: ast.Compare) -> ir.Expr:
        left, right = self.pair(e.left, e.right)
        lt, rt = left.type, right.type
        if Kind.ERROR in (lt.kind, rt.kind):
            return ir.Cmp(e.op, left, right, e.span)
        if e.op in ("<", "<=", ">", ">=") and (lt.kind not in _ORDERED or rt.kind not in _ORDERED):
            bad = lt if lt.kind not in _ORDERED else rt
            self.o.err(
                "E301", f"`{e.op}` cannot order {bad.kind.value} values", e.span, "use `=` or `!=`"
            )
        elif not _comparable(lt, rt):
            self.o.err(
                "E303" if {lt.kind, rt.kind} & {Kind.DURATION} else "E301",
                f"cannot compare {article(lt.kind.value)} with {article(rt.kind.value)}",
                e.span,
                _mismatch_hint(lt, rt, right if rt.kind is not lt.kind else left),
            )
        return ir.Cmp(e.op, left, right, e.span)

    def in_list(self, e: ast.InList) -> ir.Expr:
        operand = self.lower(e.operand)
        enum_t = operand.type if operand.type.kind is Kind.ENUM else None
        items = tuple(self.lower(i, enum_t, _owner(operand)) for i in e.items)
        for item in items:
            if Kind.ERROR not in (operand.type.kind, item.type.kind) and not _comparable(
                operand.type, item.type
            ):
                self.o.err(
                    "E301",
                    f"the list holds {article(item.type.kind.value)}, but "
                    f"the value tested is {article(operand.type.kind.value)}",
                    item.span,
                    _mismatch_hint(operand.type, item.type, item),
                )
        if not items:
            self.o.diags.append(
                warning(
                    "W506",
                    "empty list: `not in []` is always true"
                    if e.negated
                    else "empty list: `in []` is never true",
                    e.span,
                    "list the values to test for",
                )
            )
        return ir.In(operand, items, e.negated, e.span)

    def arith(self, e: ast.BinOp) -> ir.Expr:
        left, right = self.lower(e.left), self.lower(e.right)
        lk, rk = left.type.kind, right.type.kind
        if Kind.ERROR in (lk, rk):
            return ir.Arith(e.op, left, right, ir.ERROR, e.span)
        result = _ARITH.get((e.op, lk, rk))
        if result is None:
            hint = None
            if lk is Kind.DATETIME and rk is Kind.DATETIME and e.op == "+":
                hint = "subtract two datetimes to get the duration between them"
            elif Kind.DURATION in (lk, rk) and {lk, rk} & {Kind.INT, Kind.NUMBER}:
                hint = "give the number a unit, e.g. `24h`"
            elif Kind.DATETIME in (lk, rk) and Kind.DATE in (lk, rk):
                hint = "use a datetime literal such as `2024-10-29T00:00`"
            self.o.err(
                "E304",
                f"cannot apply `{e.op}` to {article(lk.value)} and {article(rk.value)}",
                e.span,
                hint or _ARITH_HINT,
            )
            return ir.Arith(e.op, left, right, ir.ERROR, e.span)
        return ir.Arith(e.op, left, right, ir.SIMPLE_TYPES[result.value], e.span)


def _owner(e: ir.Expr) -> str | None:
    return f"`{e.name}`" if isinstance(e, ir.FieldRef) else None


def _comparable(a: ir.Type, b: ir.Type) -> bool:
    if a.numeric and b.numeric:
        return True
    if a.kind is Kind.ENUM and b.kind is Kind.ENUM:
        return a.values == b.values
    return a.kind is b.kind


def _mismatch_hint(a: ir.Type, b: ir.Type, culprit: ir.Expr) -> str:
    kinds = {a.kind, b.kind}
    if Kind.DURATION in kinds and kinds & {Kind.INT, Kind.NUMBER}:
        n = culprit.value if isinstance(culprit, ir.Const) else None
        example = f"`{n}h`" if isinstance(n, int) else "`24h`"
        return f"give the number a unit, e.g. {example}"
    if kinds == {Kind.DATE, Kind.DATETIME}:
        return "compare a datetime with a datetime literal such as `2024-10-29T00:00`"
    if Kind.ENUM in kinds and Kind.TEXT in kinds:
        return "enum values are names: drop the quotes"
    if Kind.BOOL in kinds:
        return "use the yes/no field on its own, or `not field`"
    if kinds == {Kind.ENUM}:
        return "these two enums have different values, so they can never be equal"
    return "compare values of the same kind"


def lower(graph: Graph) -> tuple[ir.Policy, list[Diagnostic]]:
    lowering = Lowering(graph)
    policy = lowering.run()
    return policy, lowering.diags

"""Completeness and overlap rules, each warning with a witness record.

In: an `ir.Policy`.  Out: warnings `W405`-`W408`: a record that gets no target of a deadline,
two targets that both apply to one record, a condition that can never be true, an exception
that holds wherever its block's rule holds.

Decided exactly by enumeration.  Each field the expressions read ranges over a finite set of
representatives: a bool or enum field over its values, an ordered field (numbers, durations,
dates, datetimes) over the constants it is compared with plus a value between each two and one
either side, a text field over its constants plus one other text, and "missing" when the field
is optional.  Every comparison of a field with a constant then takes, over the representatives,
every combination of outcomes it takes over all values, so a witness is real and "no record"
means no record.  Expressions this cannot decide (arithmetic, `contains`, comparing two fields
that are not bool or enum) are skipped, as is anything needing more than `LIMIT` combinations:
a skipped check never warns.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
import math
import zoneinfo
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import attrs

from csdsl import ir
from csdsl.check.constant import outcomes
from csdsl.diagnostics import Diagnostic, Related, warning
from csdsl.interpreter import Fn, compile_expr
from csdsl.syntax.format import _number, quote
from csdsl.values import canonical_compact

LIMIT = 50_000
_ORDERED = (ir.Kind.INT, ir.Kind.NUMBER, ir.Kind.DURATION, ir.Kind.DATE, ir.Kind.DATETIME)


class _Undecidable(Exception):
    """An expression outside what the representatives decide exactly."""


@attrs.frozen
class Space:
    """The fields some expressions read, each with its representative values."""

    fields: tuple[ir.FieldRef, ...]
    domains: tuple[tuple[Any, ...], ...]

    @property
    def size(self) -> int:
        return math.prod(len(d) for d in self.domains)

    def records(self) -> Iterator[dict[str, Any]]:
        """Every combination, in a fixed order (fields by first use, values as listed)."""
        names = [f.name for f in self.fields]
        for combo in itertools.product(*self.domains):
            yield dict(zip(names, combo, strict=True))


def space(exprs: Sequence[ir.Expr]) -> Space | None:
    """The representatives for `exprs` together, or None when they cannot be decided this way
    or would need more than `LIMIT` combinations."""
    fields: dict[str, ir.FieldRef] = {}
    consts: dict[str, list[Any]] = {}
    try:
        for e in exprs:
            _collect(e, fields, consts)
    except _Undecidable:
        return None
    domains = []
    for name, f in fields.items():
        base = _domain(f, consts.get(name, []))
        if base is None:
            return None
        domains.append(tuple([*base, None] if f.optional else base))
    result = Space(tuple(fields.values()), tuple(domains))
    return result if result.size <= LIMIT else None


def _finite(e: ir.Expr) -> bool:
    return e.type.kind in (ir.Kind.BOOL, ir.Kind.ENUM)


def _collect(e: ir.Expr, fields: dict[str, ir.FieldRef], consts: dict[str, list[Any]]) -> None:
    def use(f: ir.FieldRef) -> None:
        fields.setdefault(f.name, f)
        consts.setdefault(f.name, [])

    if isinstance(e, ir.And | ir.Or):
        _collect(e.left, fields, consts)
        _collect(e.right, fields, consts)
    elif isinstance(e, ir.Not):
        _collect(e.operand, fields, consts)
    elif isinstance(e, ir.Const):
        pass
    elif isinstance(e, ir.FieldRef) and e.type.kind is ir.Kind.BOOL:
        use(e)
    elif isinstance(e, ir.IsSet) and isinstance(e.operand, ir.FieldRef):
        use(e.operand)
    elif isinstance(e, ir.Cmp | ir.In):
        sides = [e.left, e.right] if isinstance(e, ir.Cmp) else [e.operand, *e.items]
        refs = [s for s in sides if isinstance(s, ir.FieldRef)]
        if any(not isinstance(s, ir.FieldRef | ir.Const) for s in sides):
            raise _Undecidable
        if len(refs) > 1 and not all(_finite(r) for r in refs):
            raise _Undecidable  # two ordered or text fields: their values are not independent
        ordering = isinstance(e, ir.Cmp) and e.op not in ("=", "!=")
        for r in refs:
            if r.type.kind is ir.Kind.TEXT and ordering:
                raise _Undecidable
            use(r)
            consts[r.name] += [s.value for s in sides if isinstance(s, ir.Const)]
    else:
        raise _Undecidable


def _domain(f: ir.FieldRef, consts: list[Any]) -> list[Any] | None:
    kind = f.type.kind
    if kind is ir.Kind.BOOL:
        return [True, False]
    if kind is ir.Kind.ENUM:
        return list(f.type.values)
    values = [c for c in consts if c is not None]
    if kind is ir.Kind.TEXT:
        texts = list(dict.fromkeys(str(c) for c in values))
        other = "x"
        while other in texts:
            other += "x"
        return [*texts, other]
    if kind not in _ORDERED:
        return None
    try:
        return _ordered(kind, sorted(set(values)))
    except (TypeError, OverflowError, ValueError):  # mixed or extreme constants: do not guess
        return None


def _ordered(kind: ir.Kind, cs: list[Any]) -> list[Any]:
    """The constants, one value strictly between each two neighbours when there is one, and one
    value below and one above them all."""
    if kind is ir.Kind.INT:
        ints = {n for c in cs for n in (math.floor(c) - 1, math.floor(c), math.floor(c) + 1)}
        return sorted(ints) or [0]
    step: Any = {
        ir.Kind.NUMBER: 1,
        ir.Kind.DURATION: dt.timedelta(hours=1),
        ir.Kind.DATE: dt.timedelta(days=1),
        ir.Kind.DATETIME: dt.timedelta(hours=1),
    }[kind]
    if not cs:
        return [_any_value(kind)]
    out = [cs[0] - step]
    for a, b in itertools.pairwise(cs):
        out.append(a)
        mid = a + (b - a) / 2 if kind is not ir.Kind.DATE else a + dt.timedelta((b - a).days // 2)
        if a < mid < b:
            out.append(int(mid) if isinstance(mid, float) and mid.is_integer() else mid)
    return [*out, cs[-1], cs[-1] + step]


def _any_value(kind: ir.Kind) -> Any:
    return {
        ir.Kind.NUMBER: 0,
        ir.Kind.DURATION: dt.timedelta(hours=1),
        ir.Kind.DATE: dt.date(2024, 1, 1),
        ir.Kind.DATETIME: dt.datetime(2024, 1, 1, 9, tzinfo=dt.UTC),
    }[kind]


def show(record: dict[str, Any], sp: Space, timezone: str = "UTC") -> str:
    """A witness as `field = value` pairs in policy syntax."""
    return ", ".join(
        f"{f.name} = {show_value(record[f.name], f.type, timezone)}" for f in sp.fields
    )


def show_value(v: Any, t: ir.Type, timezone: str = "UTC") -> str:
    if v is None:
        return "missing"
    if t.kind is ir.Kind.ENUM:
        return str(v)
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return _number(v)
    if isinstance(v, dt.timedelta):
        seconds = v.total_seconds()
        if seconds == int(seconds) and seconds >= 0:
            return canonical_compact(int(seconds))
        return f"{seconds:g}s"
    if isinstance(v, dt.datetime):
        with contextlib.suppress(zoneinfo.ZoneInfoNotFoundError, ValueError):
            v = v.astimezone(zoneinfo.ZoneInfo(timezone))
        spec = "minutes" if not v.second and not v.microsecond else "auto"
        text: str = v.replace(tzinfo=None).isoformat(timespec=spec)
        return text
    if isinstance(v, dt.date):
        return v.isoformat()
    return quote(str(v))


def _find(sp: Space, test: Callable[[dict[str, Any]], bool]) -> dict[str, Any] | None:
    for r in sp.records():
        if test(r):
            return r
    return None


def _target_text(t: ir.Target) -> str:
    return f"`within {t.time.text}` (line {t.span.line})"


def uncovered(d: ir.Deadline | Sequence[ir.Target]) -> tuple[Space, dict[str, Any]] | None:
    """A record that gets no target of a deadline (or of these targets): no `when` is
    definitely true."""
    targets = d.targets if isinstance(d, ir.Deadline) else d
    if not targets or any(t.when is None for t in targets):
        return None
    whens = [t.when for t in targets if t.when is not None]
    sp = space(whens)
    if sp is None:
        return None
    fns = [compile_expr(w) for w in whens]
    found = _find(sp, lambda r: all(f(r) is not True for f in fns))
    return None if found is None else (sp, found)


def covered(d: ir.Deadline | Sequence[ir.Target]) -> bool:
    """Whether every record definitely gets a target, decided by enumeration (False when the
    enumeration cannot decide): `check.time` then drops W510, whose own test knows nothing of
    numbers and warns for `amount > 500` / `amount <= 500`."""
    targets = d.targets if isinstance(d, ir.Deadline) else d
    whens = [t.when for t in targets if t.when is not None]
    if not whens or len(whens) != len(targets) or space(whens) is None:
        return False
    return uncovered(targets) is None


def _w510(d: ir.Deadline) -> bool:
    """Whether `check.time` already warns (W510) that a record may get no target: the same
    test it makes."""
    whens = [t.when for t in d.targets if t.when is not None]
    if not whens or len(whens) != len(d.targets) or covered(d):
        return False
    union = whens[0]
    for w in whens[1:]:
        union = ir.Or(union, w)
    seen = outcomes(union)
    return seen is not None and seen != {True}


def check_no_target(policy: ir.Policy) -> Iterator[Diagnostic]:
    for d in policy.deadlines:
        if _w510(d):
            continue  # said already; `no_target_hint` gives that warning its witness
        hit = uncovered(d)
        if hit is not None:
            sp, r = hit
            yield warning(
                "W405",
                f"no target of `{d.name}` applies to some `{d.record}` records, "
                "so they get no deadline",
                d.span,
                f"e.g. {show(r, sp, policy.timezone)}; add `otherwise within ...` "
                "or a target for this case",
            )


def no_target_hint(d: ir.Deadline | Sequence[ir.Target], timezone: str = "UTC") -> str | None:
    """`e.g. field = value, ...` for a record that gets no target, if one is found (for W510,
    which `check.time` reports while the deadline is being built, hence targets too)."""
    hit = uncovered(d)
    return None if hit is None else f"e.g. {show(hit[1], hit[0], timezone)}"


def overlaps(d: ir.Deadline) -> Iterator[tuple[ir.Target, ir.Target, Space, dict[str, Any]]]:
    """Pairs of targets whose conditions are both definitely true for one record."""
    conditional: list[ir.Target] = []
    for t in d.targets:
        if t.when is None:
            break  # later targets are never tried
        conditional.append(t)
    for a, b in itertools.combinations(conditional, 2):
        assert a.when is not None and b.when is not None
        sp = space([a.when, b.when])
        if sp is None:
            continue
        fa, fb = compile_expr(a.when), compile_expr(b.when)

        def both(r: dict[str, Any], fa: Fn = fa, fb: Fn = fb) -> bool:
            return fa(r) is True and fb(r) is True

        found = _find(sp, both)
        if found is not None:
            yield a, b, sp, found


def check_overlap(policy: ir.Policy) -> Iterator[Diagnostic]:
    for d in policy.deadlines:
        for a, b, sp, r in overlaps(d):
            yield warning(
                "W406",
                f"targets {_target_text(a)} and {_target_text(b)} of `{d.name}` both apply "
                f"to some records; the first one wins",
                b.span,
                f"e.g. {show(r, sp, policy.timezone)}; make the conditions exclusive "
                "if that is not meant",
                [Related("the target that wins", a.span)],
            )


def never_true(e: ir.Expr) -> Space | None:
    """The representatives tried when no record makes `e` definitely true, else None."""
    sp = space([e])
    if sp is None or not sp.fields:
        return None
    fn = compile_expr(e)
    return None if _find(sp, lambda r: fn(r) is True) is not None else sp


def _tried(sp: Space, timezone: str) -> str:
    parts = []
    for f, dom in zip(sp.fields, sp.domains, strict=True):
        shown = [show_value(v, f.type, timezone) for v in dom]
        if len(shown) > 6:
            shown = [*shown[:5], "..."]
        parts.append(f"{f.name} in {{{', '.join(shown)}}}")
    return "; ".join(parts)


def check_never_true(policy: ir.Policy) -> Iterator[Diagnostic]:
    def report(what: str, e: ir.Expr) -> Diagnostic | None:
        sp = never_true(e)
        if sp is None:
            return None
        names = ", ".join(f"`{f.name}`" for f in sp.fields)
        return warning(
            "W407",
            f"{what} can never be true: no value of {names} makes it true",
            e.span,
            f"tried every case ({_tried(sp, policy.timezone)}); check the comparisons",
        )

    for v in policy.validities:
        for c, kind in [
            *((c, "condition") for c in v.conditions),
            *((c, "exception") for c in v.exceptions),
        ]:
            seen = outcomes(c.expr)
            if seen is not None and True not in seen:
                continue  # W401 says it already
            diag = report(f"{kind} `{c.id}`", c.expr)
            if diag is not None:
                yield diag
    for d in policy.deadlines:
        for t in d.targets:
            if t.when is not None:
                diag = report(f"the condition of `within {t.time.text}` in `{d.name}`", t.when)
                if diag is not None:
                    yield diag


def swallowed(v: ir.Validity) -> Iterator[tuple[ir.Condition, Space, dict[str, Any]]]:
    """Exceptions that hold on every record on which the rule holds, with a record where both
    do."""
    conds = [compile_expr(c.expr) for c in v.conditions]
    if not conds:
        return

    def rule(r: dict[str, Any]) -> bool:
        got = [f(r) is True for f in conds]
        return all(got) if v.quantifier == "all" else any(got)

    for x in v.exceptions:
        seen = outcomes(x.expr)
        if seen == {True}:
            continue  # W403 says it already
        sp = space([*(c.expr for c in v.conditions), x.expr])
        if sp is None:
            continue
        fx = compile_expr(x.expr)
        witness = None
        for r in sp.records():
            if rule(r):
                if fx(r) is not True:
                    break
                witness = witness or r
        else:
            if witness is not None:
                yield x, sp, witness


def check_swallowing_exception(policy: ir.Policy) -> Iterator[Diagnostic]:
    for v in policy.validities:
        for x, sp, r in swallowed(v):
            yield warning(
                "W408",
                f"exception `{x.id}` holds whenever the rule holds, "
                f"so no `{v.record}` is ever valid",
                x.expr.span,
                f"e.g. {show(r, sp, policy.timezone)} meets the rule and the exception; "
                "narrow the exception",
            )


RULES = (check_no_target, check_overlap, check_never_true, check_swallowing_exception)

"""Hypothesis strategies for csdsl (public testing API; needs `hypothesis`).

In: nothing, or a checked record type.  Out: strategies for
- `names()`: identifiers, ASCII and Chinese, never a keyword;
- `expressions()`, `modules()`: arbitrary well-formed ASTs (for print/parse round trips);
- `typed_conditions(record)`: well-typed boolean conditions over a record's fields, as ASTs;
- `record_values(record, tz)`: values for a record type (missing ones as None).
Engineers can use them to test code that embeds policies.
"""

from __future__ import annotations

import datetime as dt
import string
from typing import Any

from hypothesis import strategies as st

from csdsl import ir
from csdsl.syntax import ast
from csdsl.syntax.grammar import CLAUSE_WORDS, KEYWORDS, RESERVED

_FIRST = string.ascii_letters + "_" + "投诉客户态度数据问题时间记录反馈通气点火"
_REST = _FIRST + string.digits


def names() -> st.SearchStrategy[str]:
    return (
        st.text(st.sampled_from(_FIRST), min_size=1, max_size=1)
        .flatmap(
            lambda first: st.text(st.sampled_from(_REST), max_size=8).map(lambda rest: first + rest)
        )
        .filter(lambda n: n not in KEYWORDS and n not in RESERVED)
    )


def idents() -> st.SearchStrategy[ast.Ident]:
    return names().map(ast.Ident)


_TEXT = st.text(st.characters(codec="utf-8"), max_size=12)
_OFFSETS = st.integers(-14 * 60, 14 * 60).map(lambda m: dt.timezone(dt.timedelta(minutes=m)))


def _datetimes() -> st.SearchStrategy[dt.datetime]:
    naive = st.datetimes(min_value=dt.datetime(1970, 1, 2), max_value=dt.datetime(2100, 1, 1))
    return st.one_of(naive, st.builds(lambda d, tz: d.replace(tzinfo=tz), naive, _OFFSETS))


def literals() -> st.SearchStrategy[ast.Expr]:
    return st.one_of(
        st.integers(0, 10**9).map(ast.Number),
        st.floats(0, 1e9, allow_nan=False, allow_infinity=False).map(ast.Number),
        st.integers(0, 1000).map(ast.Percent),
        st.integers(0, 10**7).map(ast.Duration),
        st.dates(dt.date(1000, 1, 1), dt.date(9999, 12, 31)).map(ast.DateLit),
        _datetimes().map(ast.DateTimeLit),
        _TEXT.map(ast.String),
        st.booleans().map(ast.Bool),
    )


def expressions(max_leaves: int = 12) -> st.SearchStrategy[ast.Expr]:
    """Any expression the grammar can produce (not necessarily well-typed)."""
    leaves = st.one_of(literals(), names().map(ast.Name))

    def extend(sub: st.SearchStrategy[ast.Expr]) -> st.SearchStrategy[ast.Expr]:
        return st.one_of(
            st.builds(ast.Or, sub, sub),
            st.builds(ast.And, sub, sub),
            st.builds(ast.Not, sub),
            st.builds(ast.Compare, st.sampled_from(["=", "!=", "<", "<=", ">", ">="]), sub, sub),
            st.builds(ast.BinOp, st.sampled_from(["+", "-", "*", "/"]), sub, sub),
            st.builds(ast.Neg, sub),
            st.builds(ast.IsSet, sub),
            st.builds(ast.IsMissing, sub),
            st.builds(ast.InList, sub, st.lists(sub, max_size=3).map(tuple), st.booleans()),
            st.builds(ast.Contains, sub, sub),
            st.builds(
                ast.Call,
                idents(),
                idents(),
                st.one_of(st.none(), idents()),
                st.one_of(st.none(), sub),
                st.one_of(st.none(), st.integers(0, 100).map(ast.Number)),
            ),
        )

    return st.recursive(leaves, extend, max_leaves=max_leaves)


def _types() -> st.SearchStrategy[ast.TypeRef]:
    simple = st.sampled_from(sorted(ir.SIMPLE_TYPES)).map(lambda n: ast.SimpleType(ast.Ident(n)))
    enum = st.lists(names(), min_size=1, max_size=4, unique=True).map(
        lambda vs: ast.EnumType(tuple(ast.Ident(v) for v in vs))
    )
    return st.one_of(simple, enum)


def _values() -> st.SearchStrategy[ast.Value]:
    return st.one_of(
        literals(),
        names().map(ast.Name),
        st.just(ast.Missing()),
        st.integers(1, 100).map(lambda n: ast.Neg(ast.Number(n))),
    )


def modules() -> st.SearchStrategy[ast.Module]:
    """Any module the grammar can produce (names may clash; types may not check)."""
    header = st.one_of(
        st.none(),
        st.builds(
            ast.Header,
            _TEXT,
            st.one_of(st.none(), _TEXT),
            st.one_of(st.none(), st.dates(dt.date(1000, 1, 1), dt.date(9999, 12, 31))),
            st.one_of(st.none(), st.sampled_from(["Asia/Shanghai", "UTC", "Asia/Taipei"])),
        ),
    )
    field = st.builds(ast.FieldDecl, idents(), _types(), st.booleans())
    record = st.builds(ast.RecordDecl, idents(), st.lists(field, max_size=4).map(tuple))
    condition = st.builds(ast.Condition, idents(), st.one_of(st.none(), _TEXT), expressions(6))
    conds = st.lists(condition, max_size=3).map(tuple)
    validity = st.builds(
        ast.Validity, idents(), st.sampled_from(["any", "all"]), conds, st.one_of(st.none(), conds)
    )
    moment = _datetimes().map(ast.DateTimeLit)
    event = st.builds(ast.ExEvent, idents(), moment, st.one_of(st.none(), idents()))
    clock = st.one_of(
        st.builds(
            ast.ExpectClock,
            idents(),
            idents(),
            st.just(False),
            st.one_of(st.none(), st.integers(0, 9)),
            st.one_of(st.none(), moment),
        ),
        st.builds(ast.ExpectClock, idents(), idents(), st.just(True)),
    )
    verdict = st.one_of(
        st.tuples(
            st.booleans(),
            st.one_of(st.none(), st.lists(idents(), min_size=1, max_size=3).map(tuple)),
            st.lists(clock, max_size=2).map(tuple),
        ),
        st.tuples(st.none(), st.none(), st.lists(clock, min_size=1, max_size=2).map(tuple)),
    )
    example = st.builds(
        lambda i, t, g, b, f, v, evs: ast.Example(i, t, g, b, f, v[0], v[1], evs, v[2]),
        st.one_of(st.none(), idents()),
        _TEXT,
        idents(),
        st.booleans(),
        st.lists(st.builds(ast.FieldValue, idents(), _values()), max_size=3).map(tuple),
        verdict,
        st.lists(event, max_size=3).map(tuple),
    )
    imports = st.builds(ast.Import, _TEXT, include=st.booleans())
    phrase_sets = st.builds(
        ast.PhrasesDecl, idents(), st.lists(_TEXT.map(ast.String), max_size=4).map(tuple)
    )
    group = st.builds(ast.Group, _words(), st.one_of(st.none(), _words()))
    metric = st.builds(
        ast.MetricDecl,
        idents(),
        st.one_of(st.none(), _TEXT),
        expressions(6),
        st.lists(group, max_size=2).map(tuple),
    )
    blocks = st.one_of(
        calendars(), deadlines(), escalations(), phrase_sets, transcript_rules(), metric
    )
    items = st.lists(
        st.one_of(imports, record, validity, example, transcript_examples(), blocks), max_size=5
    ).map(tuple)
    return st.builds(ast.Module, header, items)


# ---- transcript rules ----------------------------------------------------------------------


def _words() -> st.SearchStrategy[ast.Ident]:
    """Names that are not words of any clause either (where a clause word would be read as one)."""
    return idents().filter(lambda i: i.name not in CLAUSE_WORDS)


def _phrase_refs() -> st.SearchStrategy[ast.PhraseRef]:
    strings = _TEXT.map(ast.String)
    return st.one_of(
        st.builds(ast.PhraseRef, _words()),
        st.builds(ast.PhraseRef, st.none(), st.tuples(strings), st.just(False)),
        st.builds(
            ast.PhraseRef, st.none(), st.lists(strings, max_size=3).map(tuple), st.just(True)
        ),
    )


def _triggers(own: bool = True) -> st.SearchStrategy[ast.Trigger]:
    options = [
        st.builds(ast.Trigger, st.just("says"), _words(), _phrase_refs()),
        st.builds(ast.Trigger, st.just("event"), event=_words()),
        st.builds(ast.Trigger, st.just("silent"), _words()),
    ]
    if own:
        options.append(st.just(ast.Trigger("trigger")))
    return st.one_of(*options)


def _counts() -> st.SearchStrategy[ast.Number]:
    return st.integers(1, 20).map(ast.Number)


def _positions() -> st.SearchStrategy[ast.Position]:
    return st.one_of(
        st.builds(
            ast.Position,
            st.sampled_from(["first", "last"]),
            _words(),
            st.one_of(st.none(), _counts()),
        ),
        st.builds(ast.Position, st.just("any"), _words()),
        st.builds(
            ast.Position, st.sampled_from(["after", "before"]), _words(), _counts(), _triggers()
        ),
        st.builds(ast.Position, st.sampled_from(["before_hold", "after_hold"])),
    )


def _durations() -> st.SearchStrategy[ast.Duration]:
    return st.integers(1, 10**6).map(ast.Duration)


def _rules() -> st.SearchStrategy[ast.TrRule]:
    opt = st.one_of(st.none(), _phrase_refs())
    scope = st.one_of(st.none(), _words())
    bodies = st.one_of(
        st.fixed_dictionaries(
            {"kind": st.just("require"), "phrases": _phrase_refs(), "position": _positions()}
        ),
        st.fixed_dictionaries(
            {"kind": st.just("forbid"), "phrases": _phrase_refs(), "scope": scope, "except_": opt}
        ),
        st.fixed_dictionaries(
            {
                "kind": st.just("prefer"),
                "phrases": _phrase_refs(),
                "other": _phrase_refs(),
                "scope": scope,
                "except_": opt,
            }
        ),
        st.fixed_dictionaries({"kind": st.just("hold"), "duration": _durations()}),
        st.fixed_dictionaries(
            {
                "kind": st.just("hold"),
                "duration": _durations(),
                "unless_role": _words(),
                "other": _phrase_refs(),
            }
        ),
        st.fixed_dictionaries(
            {"kind": st.sampled_from(["checkin", "call"]), "duration": _durations()}
        ),
        st.fixed_dictionaries(
            {
                "kind": st.just("rate"),
                "low": st.integers(0, 500).map(ast.Number),
                "high": st.integers(0, 500).map(ast.Number),
            }
        ),
        st.fixed_dictionaries(
            {
                "kind": st.just("steps"),
                "steps": st.lists(
                    st.one_of(
                        st.builds(ast.Step, st.just("say"), _phrase_refs()),
                        st.builds(ast.Step, st.just("wait"), wait=_durations()),
                        st.builds(ast.Step, st.just("event"), event=_words()),
                    ),
                    min_size=1,
                    max_size=4,
                ).map(tuple),
            }
        ),
    )
    return st.builds(
        lambda name, wording, body, severity, points: ast.TrRule(
            name, wording, severity=severity, points=points, **body
        ),
        _words(),
        st.one_of(st.none(), _TEXT),
        bodies,
        st.one_of(st.none(), _words()),
        st.one_of(st.none(), st.integers(0, 100).map(ast.Number)),
    )


def transcript_rules() -> st.SearchStrategy[ast.TranscriptRules]:
    """Any `transcript rules` block the grammar can produce (names may not resolve)."""
    situation = st.builds(
        ast.Situation,
        _words(),
        st.one_of(st.none(), _TEXT),
        st.one_of(st.none(), _triggers(own=False)),
        st.lists(_words(), max_size=2).map(tuple),
        st.lists(_rules(), max_size=3).map(tuple),
    )
    stmt = st.one_of(
        _rules(),
        situation,
        st.builds(ast.TrNormalise, st.lists(_words(), min_size=1, max_size=3).map(tuple)),
        st.builds(ast.TrScore, st.integers(0, 1000).map(ast.Number)),
    )
    return st.builds(ast.TranscriptRules, st.lists(stmt, max_size=5).map(tuple))


def transcript_examples() -> st.SearchStrategy[ast.TranscriptExample]:
    seconds = st.one_of(
        st.integers(0, 10**5).map(ast.Number),
        st.decimals(0, 10**5, places=1).map(lambda d: ast.Number(float(d))),
    )
    said = st.builds(
        lambda who, text, times: ast.ExTurn(who, text, *times),
        _words(),
        _TEXT.map(ast.String),
        st.one_of(
            st.tuples(st.none(), st.none()),
            st.tuples(seconds, st.none()),
            st.tuples(seconds, seconds),
        ),
    )
    event = st.builds(ast.ExTurn, _words(), st.none(), st.one_of(st.none(), seconds))
    refs = st.lists(
        st.builds(ast.RuleRef, _words(), st.one_of(st.none(), _words())), min_size=1, max_size=3
    ).map(tuple)
    expect = st.one_of(
        st.builds(ast.ExpectFindings, st.just("passes"), st.one_of(st.just(()), refs)),
        st.builds(ast.ExpectFindings, st.just("flags"), refs),
        st.builds(ast.ExpectFindings, st.just("score"), score=st.integers(0, 1000).map(ast.Number)),
    )
    return st.builds(
        ast.TranscriptExample,
        st.one_of(st.none(), idents()),
        _TEXT,
        st.lists(st.one_of(said, event), max_size=4).map(tuple),
        st.lists(expect, min_size=1, max_size=2).map(tuple),
    )


def _clock() -> st.SearchStrategy[str]:
    return st.builds(lambda h, m: f"{h:02d}:{m:02d}", st.integers(0, 24), st.integers(0, 59))


def time_specs() -> st.SearchStrategy[ast.TimeSpec]:
    amount = st.one_of(
        st.integers(0, 10**6).map(lambda s: ast.Natural(ast.Duration(s))),
        st.builds(ast.Working, st.integers(0, 500), idents()),
        _clock().map(ast.ByNextDay),
    )
    return st.builds(ast.TimeSpec, amount, st.one_of(st.none(), idents()))


def calendars() -> st.SearchStrategy[ast.CalendarDecl]:
    day = st.builds(ast.DayRange, idents(), st.one_of(st.none(), idents()))
    hours = st.builds(lambda a, b: f"{a}-{b}", _clock(), _clock())
    dates = st.lists(
        st.dates(dt.date(1000, 1, 1), dt.date(9999, 12, 31)), min_size=1, max_size=3
    ).map(tuple)
    stmt = st.one_of(
        st.just(ast.CalAlways()),
        st.builds(
            ast.CalOpen,
            st.lists(day, min_size=1, max_size=3).map(tuple),
            st.lists(hours, min_size=1, max_size=3).map(tuple),
        ),
        st.builds(ast.CalTimezone, _TEXT),
        st.builds(ast.CalHolidays, idents()),
        st.builds(ast.CalDates, st.booleans(), dates),
    )
    return st.builds(ast.CalendarDecl, idents(), st.lists(stmt, max_size=4).map(tuple))


def deadlines() -> st.SearchStrategy[ast.DeadlineDecl]:
    stmt = st.one_of(
        st.builds(ast.DlStart, idents(), st.none()),
        st.builds(ast.DlStart, st.none(), idents()),
        st.builds(ast.DlStop, idents()),
        st.builds(ast.DlPause, idents(), idents(), st.one_of(st.none(), _TEXT)),
        st.builds(ast.DlTarget, time_specs(), st.one_of(st.none(), expressions(4))),
        st.builds(ast.DlTarget, time_specs(), st.none(), st.just(True)),
        st.builds(ast.DlCap, time_specs()),
        st.builds(ast.DlWarn, st.integers(0, 200).map(ast.Percent)),
        st.builds(ast.DlWarn, st.none(), st.integers(0, 10**6).map(ast.Duration)),
        st.builds(ast.DlUpdate, time_specs(), idents()),
        st.builds(
            ast.DlReopen,
            idents(),
            st.sampled_from(["new", "continue"]),
            st.one_of(st.none(), idents()),
        ),
        st.builds(ast.DlCalendar, idents()),
    )
    return st.builds(ast.DeadlineDecl, idents(), idents(), st.lists(stmt, max_size=5).map(tuple))


def escalations() -> st.SearchStrategy[ast.EscalationDecl]:
    within = st.one_of(st.none(), time_specs())
    stmt = st.one_of(
        st.builds(ast.EsRoles, st.lists(idents(), min_size=2, max_size=4).map(tuple)),
        st.builds(ast.EsStep, idents(), idents(), st.just("breach"), idents(), st.none(), within),
        st.builds(ast.EsStep, idents(), idents(), st.just("event"), idents(), st.none(), within),
        st.builds(
            ast.EsStep, idents(), idents(), st.just("after"), st.none(), time_specs(), within
        ),
    )
    return st.builds(ast.EscalationDecl, idents(), idents(), st.lists(stmt, max_size=4).map(tuple))


# ---- well-typed conditions over a record -----------------------------------------------------


def _by_kind(record: ir.Record, *kinds: ir.Kind) -> list[ir.Field]:
    return [f for f in record.fields if f.type.kind in kinds]


def typed_conditions(record: ir.Record, max_depth: int = 3) -> st.SearchStrategy[ast.Expr]:
    """Well-typed boolean conditions over `record` (ints, numbers, durations, datetimes, text,
    bools and enums), using every operator the type rules allow."""

    def field(f: ir.Field) -> ast.Expr:
        return ast.Name(f.name)

    def numeric(depth: int) -> st.SearchStrategy[ast.Expr]:
        base: list[st.SearchStrategy[ast.Expr]] = [
            st.integers(0, 50).map(ast.Number),
            st.sampled_from([0.5, 1.25, 2.0, 10.0]).map(ast.Number),
            st.integers(0, 200).map(ast.Percent),
        ]
        fs = _by_kind(record, ir.Kind.INT, ir.Kind.NUMBER)
        if fs:
            base.append(st.sampled_from(fs).map(field))
        leaf = st.one_of(*base)
        if depth <= 0:
            return leaf
        sub = numeric(depth - 1)
        shapes = {
            "leaf": leaf,
            "neg": st.builds(ast.Neg, sub),
            "op": st.builds(ast.BinOp, st.sampled_from(["+", "-", "*", "/"]), sub, sub),
        }
        return st.sampled_from(sorted(shapes)).flatmap(shapes.__getitem__)

    def duration(depth: int) -> st.SearchStrategy[ast.Expr]:
        base: list[st.SearchStrategy[ast.Expr]] = [st.integers(0, 3 * 86400).map(ast.Duration)]
        fs = _by_kind(record, ir.Kind.DURATION)
        if fs:
            base.append(st.sampled_from(fs).map(field))
        dts = _by_kind(record, ir.Kind.DATETIME)
        if dts:
            base.append(
                st.builds(
                    lambda a, b: ast.BinOp("-", field(a), field(b)),
                    st.sampled_from(dts),
                    st.sampled_from(dts),
                )
            )
        leaf = st.one_of(*base)
        if depth <= 0:
            return leaf
        sub = duration(depth - 1)
        shapes = {
            "leaf": leaf,
            "op": st.builds(ast.BinOp, st.sampled_from(["+", "-"]), sub, sub),
            "scale": st.builds(
                lambda d, n: ast.BinOp("*", d, ast.Number(n)), sub, st.integers(0, 5)
            ),
        }
        return st.sampled_from(sorted(shapes)).flatmap(shapes.__getitem__)

    def datetime(depth: int) -> st.SearchStrategy[ast.Expr] | None:
        dts = _by_kind(record, ir.Kind.DATETIME)
        if not dts:
            return None
        leaf = st.one_of(
            st.sampled_from(dts).map(field),
            st.datetimes(dt.datetime(2024, 1, 1), dt.datetime(2025, 1, 1)).map(
                lambda d: ast.DateTimeLit(d.replace(microsecond=0))
            ),
        )
        return st.one_of(leaf, st.builds(lambda a, b: ast.BinOp("+", a, b), leaf, duration(0)))

    def atom() -> st.SearchStrategy[ast.Expr]:
        ops = st.sampled_from(["=", "!=", "<", "<=", ">", ">="])
        options: list[st.SearchStrategy[ast.Expr]] = [
            st.booleans().map(ast.Bool),
            st.builds(ast.Compare, ops, numeric(1), numeric(1)),
            st.builds(ast.Compare, ops, duration(1), duration(1)),
            st.builds(
                ast.InList, numeric(0), st.lists(numeric(0), max_size=3).map(tuple), st.booleans()
            ),
        ]
        d = datetime(1)
        if d is not None:
            options.append(st.builds(ast.Compare, ops, d, d))
        for f in _by_kind(record, ir.Kind.BOOL):
            options.append(st.just(field(f)))
        for f in _by_kind(record, ir.Kind.ENUM):
            values = st.sampled_from(f.type.values).map(ast.Name)
            options.append(
                st.builds(ast.Compare, st.sampled_from(["=", "!="]), st.just(field(f)), values)
            )
            options.append(
                st.builds(
                    ast.InList,
                    st.just(field(f)),
                    st.lists(values, max_size=3).map(tuple),
                    st.booleans(),
                )
            )
        for f in _by_kind(record, ir.Kind.TEXT):
            words = st.sampled_from(["", "退款", "a", "ab", "投诉"]).map(ast.String)
            options.append(st.builds(ast.Contains, st.just(field(f)), words))
            options.append(
                st.builds(ast.Compare, st.sampled_from(["=", "!="]), st.just(field(f)), words)
            )
        for f in record.fields:
            options.append(st.builds(ast.IsSet, st.just(field(f))))
            options.append(st.builds(ast.IsMissing, st.just(field(f))))
        return st.one_of(*options)

    def boolean(depth: int) -> st.SearchStrategy[ast.Expr]:
        if depth <= 0:
            return atom()
        sub = boolean(depth - 1)
        # choose the node kind first: a flat one_of would drown and/or/not among the atoms
        shapes: dict[str, st.SearchStrategy[ast.Expr]] = {
            "atom": atom(),
            "and": st.builds(ast.And, sub, sub),
            "or": st.builds(ast.Or, sub, sub),
            "not": st.builds(ast.Not, sub),
        }
        return st.sampled_from(sorted(shapes)).flatmap(shapes.__getitem__)

    return boolean(max_depth)


def record_values(
    record: ir.Record, tz: dt.tzinfo = dt.UTC, missing: bool = True
) -> st.SearchStrategy[dict[str, Any]]:
    """Values for every field of `record`; optional ones are sometimes missing (None)."""

    def for_field(f: ir.Field) -> st.SearchStrategy[Any]:
        k = f.type.kind
        s: st.SearchStrategy[Any]
        if k is ir.Kind.BOOL:
            s = st.booleans()
        elif k is ir.Kind.INT:
            s = st.integers(-5, 50)
        elif k is ir.Kind.NUMBER:
            s = st.one_of(st.integers(-5, 50), st.sampled_from([0.0, 0.5, 1.25, 24.0, 100.5]))
        elif k is ir.Kind.TEXT:
            s = st.sampled_from(["", "退款", "a", "ab", "客户投诉退款", "xyz"])
        elif k is ir.Kind.DATE:
            s = st.dates(dt.date(2024, 1, 1), dt.date(2025, 1, 1))
        elif k is ir.Kind.DATETIME:
            s = st.datetimes(dt.datetime(2024, 1, 1), dt.datetime(2025, 1, 1)).map(
                lambda d: d.replace(microsecond=0, tzinfo=tz)
            )
        elif k is ir.Kind.DURATION:
            s = st.integers(0, 3 * 86400).map(lambda n: dt.timedelta(seconds=n))
        else:
            s = st.sampled_from(f.type.values)
        return st.one_of(st.none(), s) if f.optional and missing else s

    return st.fixed_dictionaries({f.name: for_field(f) for f in record.fields})

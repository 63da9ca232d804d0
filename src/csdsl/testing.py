"""Hypothesis strategies for csdsl (public testing API; needs `hypothesis`).

In: nothing, or a checked record type.  Out: strategies for
- `names()`: identifiers, ASCII and Chinese, never a keyword;
- `expressions()`, `modules()`: arbitrary well-formed ASTs (for print/parse round trips);
- `typed_conditions(record)`: well-typed boolean conditions over a record's fields, as ASTs;
- `mutated(texts, pieces)`: policy texts damaged a few times (bad input that looks real);
- `record_values(record, tz, near=...)`: values for a record type (missing ones as None),
  optionally drawn often from given values, such as `boundaries(expr)` (the constants a field is
  compared with, and their neighbours); `plain_value(field, tz)` is the plainest value.
`SAMPLE_RECORD` is the text of a record type with a field of every type, required and optional,
for policies built from generated conditions.  Engineers can use them to test code that embeds
policies.
"""

from __future__ import annotations

import datetime as dt
import string
from collections.abc import Mapping, Sequence
from typing import Any

from hypothesis import strategies as st

from csdsl import ir, values
from csdsl.syntax import ast
from csdsl.syntax.grammar import CLAUSE_WORDS, KEYWORDS

SAMPLE_RECORD = """record R {
  flag: bool
  opt: bool?
  n: int?
  m: int
  x: number?
  note: text?
  day: date?
  start: datetime
  finish: datetime?
  wait: duration?
  tier: enum(regular, key_account)?
}"""

_FIRST = string.ascii_letters + "_" + "投诉客户态度数据问题时间记录反馈通气点火"
_REST = _FIRST + string.digits


def names() -> st.SearchStrategy[str]:
    return (
        st.text(st.sampled_from(_FIRST), min_size=1, max_size=1)
        .flatmap(
            lambda first: st.text(st.sampled_from(_REST), max_size=8).map(lambda rest: first + rest)
        )
        .filter(lambda n: n not in KEYWORDS)
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
    leaves = st.one_of(literals(), names().map(ast.Name), st.just(ast.Name("valid")))

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
            st.builds(  # a rule's `date(first(EVENT))`
                lambda f, i, a: ast.Call(f, a, inner=i), idents(), idents(), idents()
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
    fields = st.lists(st.builds(ast.FieldValue, idents(), _values()), max_size=3).map(tuple)
    more_given = st.builds(ast.ExGiven, idents(), st.booleans(), fields)
    example = st.builds(
        lambda i, t, g, b, f, v, evs, more: ast.Example(
            i, t, g, b, f, v[0], v[1], evs, v[2], more=more
        ),
        st.one_of(st.none(), idents()),
        _TEXT,
        idents(),
        st.booleans(),
        fields,
        verdict,
        st.lists(event, max_size=3).map(tuple),
        st.lists(more_given, max_size=2).map(tuple),
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
    invariant = st.builds(
        ast.InvariantDecl,
        st.one_of(st.none(), idents()),
        _TEXT,
        st.one_of(st.none(), idents()),
        expressions(6),
    )
    blocks = st.one_of(
        calendars(),
        deadlines(),
        escalations(),
        phrase_sets,
        transcript_rules(),
        metric,
        invariant,
        rules(),
    )
    items = st.lists(
        st.one_of(imports, record, validity, example, transcript_examples(), blocks), max_size=5
    ).map(tuple)
    return st.builds(ast.Module, header, items)


def _hours() -> st.SearchStrategy[str]:
    clock = st.builds(lambda h, m: f"{h:02d}:{m:02d}", st.integers(0, 24), st.integers(0, 59))
    return st.builds(lambda a, b: f"{a}-{b}", clock, clock)


def rules() -> st.SearchStrategy[ast.RuleDecl]:
    """Any `rule` declaration the grammar can produce (not necessarily well-typed)."""
    stmt = st.one_of(
        st.builds(ast.RuWhen, expressions(6)),
        st.builds(ast.RuRequire, expressions(6)),
        st.builds(
            ast.RuPer,
            st.integers(0, 20).map(ast.Number),
            idents(),
            st.one_of(st.sampled_from(["day", "week"]).map(ast.Ident), _words()),
            st.one_of(st.none(), _hours()),
            expressions(4),
            expressions(4),
        ),
        st.builds(ast.RuSeverity, _words()),
        st.builds(ast.RuPoints, _counts()),
    )
    return st.builds(
        ast.RuleDecl,
        idents(),
        st.one_of(st.none(), _TEXT),
        idents(),
        st.lists(stmt, max_size=4).map(tuple),
    )


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
            {"kind": st.just("interrupt"), "duration": st.one_of(st.none(), _durations())}
        ),
        st.fixed_dictionaries(
            {
                "kind": st.just("sentiment"),
                "scope": _words(),
                "sentiment": _words(),
                "negated": st.booleans(),
                "count": st.one_of(st.none(), _counts()),
            }
        ),
        st.fixed_dictionaries({"kind": st.just("interruptions"), "scope": _words()}),
        st.fixed_dictionaries(
            {"kind": st.just("interruptions"), "scope": _words(), "count": _counts()}
        ),
        st.fixed_dictionaries(
            {"kind": st.just("interruptions"), "scope": _words(), "duration": _durations()}
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
        st.builds(ast.TrConfidence, _fractions()),
    )
    return st.builds(ast.TranscriptRules, st.lists(stmt, max_size=5).map(tuple))


def _fractions() -> st.SearchStrategy[ast.Number]:
    """0 to 1, as a confidence is written: `0`, `1`, `0.6`, `0.35`."""
    return st.one_of(
        st.integers(0, 1).map(ast.Number),
        st.decimals(0, 1, places=2).map(lambda d: ast.Number(float(d))),
    )


def transcript_examples() -> st.SearchStrategy[ast.TranscriptExample]:
    seconds = st.one_of(
        st.integers(0, 10**5).map(ast.Number),
        st.decimals(0, 10**5, places=1).map(lambda d: ast.Number(float(d))),
    )
    said = st.builds(
        lambda who, text, times, confidence, sentiment: ast.ExTurn(
            who, text, times[0], times[1], confidence=confidence, sentiment=sentiment
        ),
        _words(),
        _TEXT.map(ast.String),
        st.one_of(
            st.tuples(st.none(), st.none()),
            st.tuples(seconds, st.none()),
            st.tuples(seconds, seconds),
        ),
        st.one_of(st.none(), _fractions()),
        st.one_of(st.none(), _words()),
    )
    event = st.builds(ast.ExTurn, _words(), st.none(), st.one_of(st.none(), seconds))
    interruptions = st.builds(
        ast.ExInterruptions,
        _words(),
        st.integers(0, 50).map(ast.Number),
        st.one_of(st.none(), _durations()),
    )
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
        st.lists(st.one_of(said, event, interruptions), max_size=4).map(tuple),
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
    return st.builds(
        ast.DeadlineDecl,
        idents(),
        idents(),
        st.lists(stmt, max_size=5).map(tuple),
        wording=st.one_of(st.none(), _TEXT),
    )


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
    record: ir.Record,
    tz: dt.tzinfo = dt.UTC,
    missing: bool = True,
    near: Mapping[str, Sequence[Any]] | None = None,
) -> st.SearchStrategy[dict[str, Any]]:
    """Values for every field of `record`; optional ones are sometimes missing (None).  With
    `near` (field -> values, e.g. from `boundaries`), a field draws one of its values about half
    the time: where a comparison flips, which uniform values rarely hit."""

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
                lambda d: on_clock(d.replace(microsecond=0), tz)
            )
        elif k is ir.Kind.DURATION:
            s = st.integers(0, 3 * 86400).map(lambda n: dt.timedelta(seconds=n))
        else:
            s = st.sampled_from(f.type.values)
        close = [v for v in (near or {}).get(f.name, ()) if _fits(v, f.type)]
        if close:
            s = st.one_of(s, st.sampled_from(close))  # the plain values first: they shrink
        return st.one_of(st.none(), s) if f.optional and missing else s

    return st.fixed_dictionaries({f.name: for_field(f) for f in record.fields})


ANCHOR = dt.datetime(2024, 10, 29, 9, 0)  # a plain working-day morning, naive


def on_clock(wall: dt.datetime, tz: dt.tzinfo) -> dt.datetime:
    """The instant a naive wall time shows in `tz`, as data is read (`values.instant`: a fixed
    offset, so two values subtract as instants, never as wall times); a time the clocks skip
    moves on by the hour they skip."""
    try:
        return values.instant(wall, tz)
    except ValueError:
        return values.instant(wall + dt.timedelta(hours=1), tz)


def plain_value(f: ir.Field, tz: dt.tzinfo = dt.UTC) -> Any:
    """The plainest value of a field (missing, false, 0, "", the first enum value, ANCHOR):
    what a searched record gets for a field nothing reads, and what shrinking aims for."""
    if f.optional:
        return None
    plain: dict[ir.Kind, Any] = {
        ir.Kind.BOOL: False,
        ir.Kind.INT: 0,
        ir.Kind.NUMBER: 0,
        ir.Kind.TEXT: "",
        ir.Kind.DATE: ANCHOR.date(),
        ir.Kind.DATETIME: on_clock(ANCHOR, tz),
        ir.Kind.DURATION: dt.timedelta(0),
    }
    return plain.get(f.type.kind, f.type.values[0] if f.type.values else None)


def boundaries(e: ir.Expr | None, out: dict[str, list[Any]] | None = None) -> dict[str, list[Any]]:
    """Field -> the constants it is compared with in `e`, each with its neighbours (24h, 24h
    and a second, ...): where a comparison flips.  Adds to `out` when given."""
    out = {} if out is None else out
    if e is None:
        return out
    if isinstance(e, ir.Cmp):
        for f, c in ((e.left, e.right), (e.right, e.left)):
            if isinstance(f, ir.FieldRef) and isinstance(c, ir.Const):
                out.setdefault(f.name, []).extend(_neighbours(c.value))
    for child in ir.children(e):
        boundaries(child, out)
    return out


def _neighbours(c: Any) -> list[Any]:
    if isinstance(c, bool) or c is None:
        return []
    if isinstance(c, dt.timedelta):
        s = dt.timedelta(seconds=1)
        return [c - s, c, c + s] if c > s else [c, c + s]
    if isinstance(c, dt.datetime):
        s = dt.timedelta(seconds=1)
        return [c - s, c, c + s]
    if isinstance(c, int):
        return [c - 1, c, c + 1]
    if isinstance(c, float):
        return [c - 0.5, c, c + 0.5]
    return [c]


def _fits(v: Any, t: ir.Type) -> bool:
    k = t.kind
    if k is ir.Kind.DURATION:
        return isinstance(v, dt.timedelta) and v >= dt.timedelta(0)
    if k is ir.Kind.DATETIME:
        return isinstance(v, dt.datetime)
    if k is ir.Kind.INT:
        return isinstance(v, int) and not isinstance(v, bool)
    if k is ir.Kind.NUMBER:
        return isinstance(v, int | float) and not isinstance(v, bool)
    if k is ir.Kind.ENUM:
        return v in t.values
    return k is ir.Kind.TEXT and isinstance(v, str)


def mutated(texts: Sequence[str], pieces: Sequence[str]) -> st.SearchStrategy[str]:
    """One of `texts` damaged one to four times: a span of up to 20 characters deleted or
    replaced by one of `pieces`, or a piece inserted.  Bad input for the parser, the formatter
    and the compilers, close enough to a real policy to reach their later stages."""

    @st.composite
    def damage(draw: st.DrawFn) -> str:
        text = draw(st.sampled_from(texts))
        for _ in range(draw(st.integers(1, 4))):
            i = draw(st.integers(0, len(text)))
            j = min(len(text), i + draw(st.integers(0, 20)))
            piece = draw(st.sampled_from(pieces))
            action = draw(st.sampled_from(["delete", "insert", "replace"]))
            if action == "delete":
                text = text[:i] + text[j:]
            elif action == "insert":
                text = text[:i] + piece + text[i:]
            else:
                text = text[:i] + piece + text[j:]
        return text

    return damage()


# ---- raw records as files hold them (for engines that read files themselves) ----------------
#
# In: a checked record type and a time zone.  Out: raw values and records the way JSONL and
# CSV exports spell them: every spelling the reader accepts (naive and offset datetimes near
# midnight and month ends, durations in ISO, compact and seconds, ...), values it refuses (wrong
# kind, unparseable text, a missing required field) and lines that are no record at all.  Any
# two engines reading the same file must agree on all of them.


def _local_instants(tz: dt.tzinfo) -> st.SearchStrategy[dt.datetime]:
    """Aware datetimes near the edges of days and months in `tz`, and some anywhere."""
    edges = st.builds(
        lambda y, m, day_end, delta: (
            (
                dt.datetime(y, m, 1, tzinfo=tz)
                + (dt.timedelta(days=32) if day_end else dt.timedelta(0))
            ).replace(day=1)
            + dt.timedelta(seconds=delta)
        ),
        st.sampled_from([2023, 2024]),
        st.integers(1, 12),
        st.booleans(),
        st.sampled_from([-86400, -3601, -1, 0, 1, 59, 3600, 28800, 86399]),
    )
    anywhere = st.datetimes(dt.datetime(2023, 1, 1), dt.datetime(2025, 1, 1)).map(
        lambda d: d.replace(tzinfo=tz)
    )
    return st.one_of(edges, anywhere)


def _datetime_text(
    moment: dt.datetime, tz: dt.tzinfo, plain: bool = False
) -> st.SearchStrategy[str]:
    """Spellings of one instant: naive in `tz`, `Z`, with an offset, minutes only, fractions,
    and unless `plain` the basic format (`20241029T091500`)."""
    local = moment.astimezone(tz).replace(tzinfo=None)
    utc = moment.astimezone(dt.UTC).replace(tzinfo=None)
    offsets = st.sampled_from([0, 330, 480, -300, -720, 840])

    def with_offset(minutes: int) -> str:
        zone = dt.timezone(dt.timedelta(minutes=minutes))
        return moment.astimezone(zone).isoformat()

    return st.one_of(
        st.just(local.isoformat()),
        st.just(local.isoformat(sep=" ")),
        st.just(local.isoformat(timespec="minutes")),
        st.just(utc.isoformat() + "Z"),
        offsets.map(with_offset),
        st.sampled_from([".5", ".25", ".123456", ".000"]).map(
            lambda f: local.replace(microsecond=0).isoformat() + f
        ),
        # the basic format: Python reads it too
        st.just(local.strftime("%Y-%m-%dT%H:%M:%S" if plain else "%Y%m%dT%H%M%S")),
    )


def _duration_text(seconds: int, plain: bool = False) -> st.SearchStrategy[Any]:
    h, rest = divmod(abs(seconds), 3600)
    m, s = divmod(rest, 60)
    sign = "-" if seconds < 0 else ""
    compact = "".join(f"{v}{u}" for v, u in ((h, "h"), (m, "m"), (s, "s")) if v) or "0s"
    iso = "PT" + "".join(f"{v}{u}" for v, u in ((h, "H"), (m, "M"), (s, "S")) if v) or "PT0S"
    if iso == "PT":
        iso = "PT0S"
    days, hours = divmod(h, 24)
    iso_days = f"P{days}DT{hours}H{m}M{s}S" if days else iso
    shuffled = "".join(f"{v}{u}" for v, u in ((s, "s"), (h, "h"), (m, "m")) if v) or "0m"
    spellings = [sign + iso, sign + iso_days, sign + compact, f"{seconds}"]
    if not plain:
        spellings += [
            sign + shuffled,  # any order: Python reads it
            sign + iso.lower(),  # `pt4h`: Python reads it (upper-cases ISO)
            f" {sign}{compact} ",
        ]
    return st.sampled_from(spellings)


def raw_field_values(
    f: ir.Field,
    tz: dt.tzinfo = dt.UTC,
    text: bool = False,
    bad: bool = False,
    plain: bool = False,
) -> st.SearchStrategy[Any]:
    """Raw values of a field as a JSON object (`text=False`) or a CSV cell (`text=True`, always
    a string) holds them: the spellings the reader accepts (None, missing, when the field is
    optional; with `plain` only the usual spellings), or with `bad` values it refuses."""
    k = f.type.kind
    good: st.SearchStrategy[Any]
    wrong: st.SearchStrategy[Any]
    if k is ir.Kind.BOOL:
        if text:
            good = st.sampled_from(["true", "False", "TRUE", "1", "0", "yes", "N", "是", "否"])
            good = st.one_of(good, good, st.just(" true "))
            wrong = st.sampled_from(["maybe", "2", "tru"])
        else:
            good = st.booleans()
            wrong = st.sampled_from(["yes", 1, 0, "true", [True]])
    elif k in (ir.Kind.INT, ir.Kind.NUMBER):
        ints = st.one_of(st.integers(-5, 50), st.sampled_from([0, 2**53 + 1, 10**20]))
        floats = st.sampled_from([0.0, -0.0, 0.1, 0.5, 1.25, 2.0, 24.0, 1e20, 100.5, -3.5])
        if k is ir.Kind.INT:
            floats = floats.map(lambda x: float(round(x)))
        if text:
            good = st.one_of(
                ints.map(str),
                floats.map(repr),
                st.sampled_from(["1e2", " 7 ", "1_000", ".5", "5.", "+3"]),
            )
            wrong = st.sampled_from(["inf", "nan", "abc", "1,5", "0x10"])
        else:
            good = st.one_of(ints, ints, floats)
            wrong = st.sampled_from(["7", True, [1], float("nan"), float("inf"), 2.5])
    elif k is ir.Kind.TEXT:
        texts = ["退款", "a", "ab", "", 'a"b', "back\\slash", "x,y", "😀", "\x01", "客户投诉退款"]
        good = st.sampled_from([*texts, " ", "\u3000"] if not text else texts)
        wrong = st.sampled_from([" ", "\u3000"]) if text else st.sampled_from([5, True, ["a"]])
    elif k is ir.Kind.ENUM:
        values = f.type.values
        good = st.sampled_from(values)
        if text:
            good = st.one_of(good, good, good.map(lambda v: f" {v} "))
        wrong = st.one_of(st.sampled_from(values).map(str.upper), st.just("none"))
        if not text:
            wrong = st.one_of(wrong, st.just(3), st.sampled_from(values).map(lambda v: f" {v}"))
    elif k is ir.Kind.DATE:
        good = st.one_of(
            st.dates(dt.date(2023, 1, 1), dt.date(2025, 12, 31)).map(dt.date.isoformat),
            st.dates(dt.date(2023, 1, 1), dt.date(2025, 12, 31)).map(dt.date.isoformat),
            st.sampled_from(["2024-02-29", "20240131", " 2024-01-01"]),
        )
        wrong = st.sampled_from(["2024-02-30", "2023-02-29", "soon", "2024/01/01"])
        if not text:
            wrong = st.one_of(wrong, st.just(20240101))
    elif k is ir.Kind.DATETIME:
        good = _local_instants(tz).flatmap(lambda m: _datetime_text(m, tz))
        wrong = st.sampled_from(
            ["2024-10-29", "2024-13-01T00:00", "2024-10-29T24:00", "2024-10-29 9:15", "yesterday"]
        )
        if not text:
            wrong = st.one_of(wrong, st.just(1730164500))
    elif k is ir.Kind.DURATION:
        seconds = st.one_of(st.integers(0, 3 * 86400), st.sampled_from([0, 14400, 86400, -300]))
        good = st.one_of(
            seconds.flatmap(_duration_text),
            seconds.flatmap(_duration_text),
            st.sampled_from(["PT0.5H", "P1W", "1d", "PT4H"]),
        )
        if not text:
            good = st.one_of(good, seconds, st.sampled_from([90.0, 1.5, 86400]))
        wrong = st.sampled_from(["P1M", "soon", "4 hours", "PT", "-", "4H"])
        if not text:
            wrong = st.one_of(wrong, st.just(True))
    else:  # pragma: no cover
        raise ValueError(f"no raw values for {f.type}")
    if plain:
        good = _plain_values(f, tz, text)
    if bad:
        return st.one_of(wrong, st.none()) if not f.optional else wrong
    return st.one_of(good, good, good, st.none()) if f.optional else good


def _plain_values(f: ir.Field, tz: dt.tzinfo, text: bool) -> st.SearchStrategy[Any]:
    """The usual spellings of a field's values."""
    k = f.type.kind
    if k is ir.Kind.BOOL:
        return st.sampled_from(["true", "false", "1", "0", "是"]) if text else st.booleans()
    if k in (ir.Kind.INT, ir.Kind.NUMBER):
        fractions = [0.0, 0.5, 1.25, 24.0, 100.5, -3.5] if k is ir.Kind.NUMBER else [3.0]
        numbers = st.one_of(st.integers(-5, 50), st.sampled_from(fractions))
        return numbers.map(str) if text else numbers
    if k is ir.Kind.TEXT:
        texts = ["退款", "a", "ab", "客户投诉退款"]  # in CSV, cells that need no quotes
        return st.sampled_from(texts if text else [*texts, "", 'a"b', "x,y"])
    if k is ir.Kind.ENUM:
        return st.sampled_from(f.type.values)
    if k is ir.Kind.DATE:
        return st.dates(dt.date(2023, 1, 1), dt.date(2025, 12, 31)).map(dt.date.isoformat)
    if k is ir.Kind.DATETIME:
        return _local_instants(tz).flatmap(lambda m: _datetime_text(m, tz, plain=True))
    seconds = st.one_of(st.integers(0, 3 * 86400), st.sampled_from([0, 14400, 86400, -300]))
    spelled = seconds.flatmap(lambda n: _duration_text(n, plain=True))
    return spelled if text else st.one_of(spelled, seconds)


def raw_ids(text: bool = False, bad: bool = False) -> st.SearchStrategy[Any]:
    """Record ids: text and numbers the reader accepts, or with `bad` ones it refuses."""
    if bad:
        return st.sampled_from(["", " "] if text else ["", " ", None, True, [1]])
    good = st.one_of(
        st.integers(1, 10**6).map(lambda n: f"C-{n}"),
        st.sampled_from(["退款-1", " C-2 ", 'C"3']),
        st.integers(1, 10**6).map(str) if text else st.integers(-5, 10**12),
    )
    if not text:
        good = st.one_of(good, good, st.sampled_from([1.5, 10**20]))
    return good


def raw_records(
    record: ir.Record, tz: dt.tzinfo = dt.UTC, text: bool = False, bad: bool = True
) -> st.SearchStrategy[dict[str, Any]]:
    """Raw records (`id` first) with every field, optional ones sometimes missing; with `bad`,
    about one in four has one thing wrong: a field's value or the id, or a required field left
    out."""
    varied = {f.name: raw_field_values(f, tz, text) for f in record.fields}
    plain = {f.name: raw_field_values(f, tz, text, plain=True) for f in record.fields}
    choices = [
        st.builds(lambda rid, values: {"id": rid, **values}, raw_ids(text), fields)
        for fields in (st.fixed_dictionaries(plain), st.fixed_dictionaries(varied))
    ]
    good = st.integers(0, 2).flatmap(lambda i: choices[1] if i == 0 else choices[0])
    if not bad:
        return good
    names = [f.name for f in record.fields]
    by_name = {f.name: f for f in record.fields}

    def spoil(values: dict[str, Any], name: str, how: int, data: Any) -> dict[str, Any]:
        if how == 0:
            return {k: v for k, v in values.items() if k != name}
        return {**values, name: data}

    def one_wrong(values: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
        return st.sampled_from(["id", *names]).flatmap(
            lambda name: st.builds(
                spoil,
                st.just(values),
                st.just(name),
                st.integers(0 if name == "id" or not by_name[name].optional else 1, 2),
                raw_ids(text, bad=True)
                if name == "id"
                else raw_field_values(by_name[name], tz, text, bad=True),
            )
        )

    return st.integers(0, 4).flatmap(lambda i: good.flatmap(one_wrong) if i == 0 else good)


def jsonl_lines(
    record: ir.Record, tz: dt.tzinfo = dt.UTC, bad: bool = True
) -> st.SearchStrategy[list[str]]:
    """Lines of a JSONL file: records (escaped or raw Unicode) and, with `bad`, lines that are
    no record: blank, not JSON, not an object, JSON only DuckDB reads (trailing commas, `nan`),
    duplicated keys, `NaN`."""
    import json

    def spell(obj: dict[str, Any], ascii_only: bool, spaced: bool) -> str:
        sep = (", ", ": ") if spaced else (",", ":")
        return json.dumps(obj, ensure_ascii=ascii_only, separators=sep)

    record_line = st.builds(
        spell, raw_records(record, tz, False, bad), st.booleans(), st.booleans()
    )
    if not bad:
        return st.lists(record_line, min_size=1, max_size=12)
    first = record.fields[0].name
    odd = st.one_of(
        st.sampled_from(["", "   ", "\t", "\u3000", "not json", "[1, 2]", '"text"', "null", "{}"]),
        record_line.map(lambda line: line[:-1] + ",}"),  # a trailing comma
        record_line.map(lambda line: line[: len(line) // 2]),  # cut short
        record_line.map(lambda line: line[:-1] + f', "{first}": null}}'),  # key twice
        record_line.map(lambda line: line[:-1] + ', "extra": NaN}'),
        record_line.map(lambda line: line[:-1] + ', "extra": nan}'),
        record_line.map(lambda line: line[:-1] + ', "extra": [1, {"a": 2}]}'),
        record_line.map(lambda line: "\ufeff" + line),
    )
    line = st.integers(0, 7).flatmap(lambda i: odd if i == 0 else record_line)
    return st.lists(line, min_size=1, max_size=12)


def csv_text(record: ir.Record, tz: dt.tzinfo = dt.UTC, bad: bool = True) -> st.SearchStrategy[str]:
    """A CSV file: a header (the record's fields and `id`, in some order, sometimes one left
    out or one extra), then rows as `csv.writer` writes them (quoting cells that need it), and
    with `bad` blank rows and rows with too many or too few cells."""
    import csv
    import io

    names = ["id", *(f.name for f in record.fields)]

    def write(
        header: list[str], rows: list[dict[str, Any]], odd: list[tuple[int, str]], crlf: bool
    ) -> str:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n" if crlf else "\n")
        writer.writerow(header)
        lines = []
        for row in rows:
            buf = io.StringIO()
            csv.writer(buf, lineterminator="").writerow(
                ["" if row.get(h) is None else row[h] for h in header]
            )
            lines.append(buf.getvalue())
        for at, line in odd:
            lines.insert(at % (len(lines) + 1), line)
        return out.getvalue() + "".join(line + ("\r\n" if crlf else "\n") for line in lines)

    header = st.permutations(names).flatmap(
        lambda order: st.sampled_from(
            [list(order), list(order), list(order)[:-1], [*order, "extra"]]
        )
    )
    odd = st.lists(
        st.tuples(st.integers(0, 20), st.sampled_from(["", ",,", "a,b", "   ", "x" * 3])),
        max_size=2 if bad else 0,
    )
    return st.builds(
        write,
        header,
        st.lists(raw_records(record, tz, True, bad), min_size=1, max_size=10),
        odd,
        st.booleans(),
    )

"""Hypothesis strategies for policies as the parser reads them (`csdsl.testing`).

In: nothing.  Out: strategies for
- `names()`, `idents()`: identifiers, ASCII and Chinese, never a keyword;
- `literals()`, `expressions()`: any expression the grammar can produce (not necessarily
  well-typed);
- `modules()`: any module the grammar can produce, and its blocks one by one (`rules()`,
  `transcript_rules()`, `transcript_examples()`, `time_specs()`, `calendars()`, `deadlines()`,
  `escalations()`): for print/parse round trips and for robustness;
- `mutated(texts, pieces)`: policy texts damaged a few times (bad input that looks real).
"""

from __future__ import annotations

import datetime as dt
import string
from collections.abc import Sequence

from hypothesis import strategies as st

from csdsl import ir
from csdsl.syntax import ast
from csdsl.syntax.grammar import CLAUSE_WORDS, KEYWORDS

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


def _clock() -> st.SearchStrategy[str]:
    return st.builds(lambda h, m: f"{h:02d}:{m:02d}", st.integers(0, 24), st.integers(0, 59))


def _hours() -> st.SearchStrategy[str]:
    """Hours as written, `09:00-18:00` (not necessarily valid ones: `24:59` too)."""
    return st.builds(lambda a, b: f"{a}-{b}", _clock(), _clock())


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


def time_specs() -> st.SearchStrategy[ast.TimeSpec]:
    amount = st.one_of(
        st.integers(0, 10**6).map(lambda s: ast.Natural(ast.Duration(s))),
        st.builds(ast.Working, st.integers(0, 500), idents()),
        _clock().map(ast.ByNextDay),
    )
    return st.builds(ast.TimeSpec, amount, st.one_of(st.none(), idents()))


def calendars() -> st.SearchStrategy[ast.CalendarDecl]:
    day = st.builds(ast.DayRange, idents(), st.one_of(st.none(), idents()))
    dates = st.lists(
        st.dates(dt.date(1000, 1, 1), dt.date(9999, 12, 31)), min_size=1, max_size=3
    ).map(tuple)
    stmt = st.one_of(
        st.just(ast.CalAlways()),
        st.builds(
            ast.CalOpen,
            st.lists(day, min_size=1, max_size=3).map(tuple),
            st.lists(_hours(), min_size=1, max_size=3).map(tuple),
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


# ---- damaged policy texts -------------------------------------------------------------------


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

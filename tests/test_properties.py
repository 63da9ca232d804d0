"""Property tests: round trips, formatter laws, interpreter vs an independent engine, robustness.

The independent engine is SQLite: each generated condition is translated from the *AST* (not
the IR the interpreter runs) to a SQL expression and evaluated by SQLite, whose NULL semantics
are the three-valued logic csdsl documents for missing values.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import zoneinfo
from pathlib import Path
from typing import Any

import pytest
from hypothesis import assume, example, given, strategies as st

import csdsl
from csdsl import ir, testing
from csdsl.check import compile_file
from csdsl.check.lower import Exprs, Lowering
from csdsl.check.modules import Graph
from csdsl.interpreter import compile_expr
from csdsl.source import SourceFile
from csdsl.syntax import ast
from csdsl.syntax.format import format_module
from csdsl.syntax.parse import format_source, parse

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "policies" / "complaint_validity.csp"
TZ = zoneinfo.ZoneInfo("Asia/Shanghai")


# ---- print / parse ------------------------------------------------------------------------


@given(testing.modules())
def test_print_then_parse_gives_the_same_ast(module: ast.Module) -> None:
    text = format_module(module)
    parsed, diags = parse(SourceFile("gen.csp", text))
    assert [d for d in diags if d.is_error] == []
    assert parsed == module
    assert format_module(parsed) == text


def _long_or_of_ands() -> st.SearchStrategy[ast.Expr]:
    """`a > 1 and b > 2 ... or ...`: an `or` of `and` chains of comparisons, long enough that
    the printed line would not fit (the formatter breaks both levels)."""
    cmp = st.builds(
        lambda n, v: ast.Compare(">", ast.Name(n), ast.Number(v)),
        testing.names().filter(lambda n: len(n) >= 4),
        st.integers(0, 10**6),
    )

    def chain(kind: type[ast.And] | type[ast.Or], parts: list[Any]) -> Any:
        out = parts[0]
        for p in parts[1:]:
            out = kind(out, p)
        return out

    ands = st.lists(cmp, min_size=1, max_size=6).map(lambda xs: chain(ast.And, xs))
    return st.lists(ands, min_size=2, max_size=5).map(lambda xs: chain(ast.Or, xs))


@given(_long_or_of_ands(), st.booleans())
def test_long_nested_chains_break_over_lines_and_read_back(expr: ast.Expr, inv: bool) -> None:
    item: ast.Item = (
        ast.InvariantDecl(ast.Ident("i"), "w", ast.Ident("R"), expr)
        if inv
        else ast.Validity(ast.Ident("R"), "any", (ast.Condition(ast.Ident("c"), None, expr),))
    )
    module = ast.Module(None, (item,))
    text = format_module(module)
    parsed, diags = parse(SourceFile("gen.csp", text))
    assert [d for d in diags if d.is_error] == []
    assert parsed == module
    assert format_module(parsed) == text
    # every comparison here is short, so once both chains are broken every line fits
    assert max(len(line) for line in text.splitlines()) <= 100


def test_a_rule_whose_body_wraps_spans_both_lines() -> None:
    """A transcript rule too long for one line is printed as its head, then its body on the next
    line; the parsed rule must span both, or formatting it again inserts a blank line after it
    (found by Hypothesis: the span stopped at the head because rule bodies are dicts)."""
    long = "、".join(["请您稍等一下我帮您查询"] * 4)
    text = (
        "transcript rules {\n  situation s {\n"
        f'    wait_a_moment:\n      hold at most 30s unless customer says ["{long}", "好"]\n'
        "    other: hold at most 1s\n  }\n}\n"
    )
    once, diags = format_source(SourceFile("gen.csp", text))
    assert once == text, diags
    module, _ = parse(SourceFile("gen.csp", text))
    assert module is not None
    (rules,) = module.items
    assert isinstance(rules, ast.TranscriptRules) and isinstance(rules.stmts[0], ast.Situation)
    first = rules.stmts[0].rules[0]
    assert (first.span.line, first.span.end_line) == (3, 4)


@given(testing.modules(), st.data())
def test_fmt_is_idempotent_and_keeps_every_comment(module: ast.Module, data: st.DataObject) -> None:
    lines = format_module(module).splitlines()
    comments = []
    for i in sorted(data.draw(st.sets(st.integers(0, len(lines)), max_size=5)), reverse=True):
        text = "# " + data.draw(
            st.text(st.characters(exclude_categories=("Cs", "Cc", "Zl", "Zp")), max_size=8)
        )
        own_line = data.draw(st.booleans()) or i == len(lines)
        if own_line:
            lines.insert(i, text)
        else:
            lines[i] = lines[i] + "  " + text
        comments.append(text.rstrip())
    text = "\n".join(lines) + "\n"
    once, diags = format_source(SourceFile("gen.csp", text))
    assert once is not None, diags
    twice, _ = format_source(SourceFile("gen.csp", once))
    assert twice == once
    kept = [c.text for c in parse(SourceFile("gen.csp", once))[0].comments]  # type: ignore[union-attr]
    assert sorted(kept) == sorted(comments)
    assert parse(SourceFile("gen.csp", once))[0] == module


def test_fmt_keeps_meaning_of_the_seed_policy(tmp_path: Path) -> None:
    formatted, _ = format_source(SourceFile.read(SEED))
    assert formatted is not None
    copy = tmp_path / "formatted.csp"
    copy.write_text(formatted, encoding="utf-8")
    before, after = csdsl.load(SEED), csdsl.load(copy)
    record = before.ir.record("Complaint")
    assert record is not None

    @given(testing.record_values(record, TZ))
    def same_verdicts(values: dict[str, Any]) -> None:
        a, b = before.validate_values(values), after.validate_values(values)
        assert (a.valid, a.matched) == (b.valid, b.matched)

    same_verdicts()


# ---- interpreter vs SQLite ----------------------------------------------------------------

RECORD_TEXT = """
record R {
  b: bool
  ob: bool?
  i: int
  n: number?
  t: text?
  d1: datetime
  d2: datetime?
  dur: duration?
  e: enum(x, y, z)
  oe: enum(x, y, z)?
}
"""


def _record() -> ir.Record:
    graph = Graph()
    module, _ = parse(SourceFile("r.csp", RECORD_TEXT))
    assert module is not None
    lowering = Lowering(graph)
    decl = module.items[0]
    assert isinstance(decl, ast.RecordDecl)
    return lowering.record(decl)


REC = _record()
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def _sql_value(v: Any) -> Any:
    if isinstance(v, dt.datetime):
        return int((v - _EPOCH).total_seconds())
    if isinstance(v, dt.timedelta):
        return int(v.total_seconds())
    if isinstance(v, bool):
        return int(v)
    return v


def to_sql(e: ast.Expr) -> str:
    """An AST condition as SQLite SQL over the columns of table `r` (written independently of
    csdsl's IR and interpreter)."""
    if isinstance(e, ast.Name):
        return f'"{e.id}"' if REC.field(e.id) else "'" + e.id + "'"  # enum value names
    if isinstance(e, ast.Number):
        return repr(e.value)
    if isinstance(e, ast.Percent):
        return f"({e.value} / 100.0)"
    if isinstance(e, ast.Duration):
        return str(e.seconds)
    if isinstance(e, ast.DateTimeLit):
        value = e.value if e.value.tzinfo else e.value.replace(tzinfo=TZ)
        return str(_sql_value(value))
    if isinstance(e, ast.String):
        return "'" + e.value.replace("'", "''") + "'"
    if isinstance(e, ast.Bool):
        return "1" if e.value else "0"
    if isinstance(e, ast.Neg):
        return f"(-{to_sql(e.operand)})"
    if isinstance(e, ast.And | ast.Or):
        word = "AND" if isinstance(e, ast.And) else "OR"
        return f"({to_sql(e.left)} {word} {to_sql(e.right)})"
    if isinstance(e, ast.Not):
        return f"(NOT {to_sql(e.operand)})"
    if isinstance(e, ast.IsSet):
        return f"({to_sql(e.operand)} IS NOT NULL)"
    if isinstance(e, ast.IsMissing):
        return f"({to_sql(e.operand)} IS NULL)"
    if isinstance(e, ast.Compare):
        op = {"=": "=", "!=": "<>"}.get(e.op, e.op)
        return f"({to_sql(e.left)} {op} {to_sql(e.right)})"
    if isinstance(e, ast.InList):
        x = to_sql(e.operand)
        if not e.items:  # csdsl: a missing operand stays unknown even for an empty list
            return f"(CASE WHEN {x} IS NULL THEN NULL ELSE {1 if e.negated else 0} END)"
        word = "NOT IN" if e.negated else "IN"
        return f"({x} {word} ({', '.join(to_sql(i) for i in e.items)}))"
    if isinstance(e, ast.Contains):
        return f"(instr({to_sql(e.left)}, {to_sql(e.right)}) > 0)"
    if isinstance(e, ast.BinOp):
        if e.op == "/":
            return f"(CAST({to_sql(e.left)} AS REAL) / {to_sql(e.right)})"
        return f"({to_sql(e.left)} {e.op} {to_sql(e.right)})"
    raise AssertionError(e)


@pytest.fixture(scope="module")
def db() -> sqlite3.Connection:
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE r (" + ", ".join(f'"{f.name}"' for f in REC.fields) + ")")
    return conn


def _lower(expr: ast.Expr) -> ir.Expr:
    lowering = Lowering(Graph())
    lowering.tz = TZ
    lowered = Exprs(lowering, REC).lower(expr)
    assert [d for d in lowering.diags if d.is_error] == [], lowering.diags
    return lowered


@given(testing.typed_conditions(REC), testing.record_values(REC, TZ))
@example(ast.InList(ast.Name("n"), ()), {"n": None})
@example(ast.Compare(">", ast.BinOp("/", ast.Name("i"), ast.Number(0)), ast.Number(1)), {"i": 3})
def test_interpreter_agrees_with_sqlite(
    db: sqlite3.Connection, cond: ast.Expr, values: dict[str, Any]
) -> None:
    values = {f.name: values.get(f.name) for f in REC.fields} | {k: v for k, v in values.items()}
    for f in REC.fields:  # required fields in an explicit @example may be left out
        if values[f.name] is None and not f.optional:
            values[f.name] = {
                ir.Kind.BOOL: False,
                ir.Kind.INT: 0,
                ir.Kind.ENUM: "x",
                ir.Kind.DATETIME: dt.datetime(2024, 1, 1, tzinfo=TZ),
            }[f.type.kind]
    ours = compile_expr(_lower(cond))(values)
    row = [_sql_value(values[f.name]) for f in REC.fields]
    db.execute("DELETE FROM r")
    db.execute(f"INSERT INTO r VALUES ({', '.join('?' * len(row))})", row)
    (theirs,) = db.execute(f"SELECT {to_sql(cond)} FROM r").fetchone()
    assert ours == (None if theirs is None else bool(theirs)), to_sql(cond)


# ---- robustness: any text gets diagnostics, never an exception ------------------------------


def _compile_text(tmp_path: Path, text: str) -> None:
    path = tmp_path / "fuzz.csp"
    path.write_text(text, encoding="utf-8")
    compiled = compile_file(path)
    for d in compiled.diagnostics:
        assert d.message and d.code and d.span.line >= 1 and d.span.column >= 1


@given(st.text(st.characters(exclude_categories=("Cs",))))
def test_random_text_only_ever_gives_diagnostics(
    tmp_path_factory: pytest.TempPathFactory, text: str
) -> None:
    _compile_text(tmp_path_factory.mktemp("fuzz"), text)


_SEED_TEXT = SEED.read_text(encoding="utf-8")
_PIECES = [
    "{",
    "}",
    "(",
    ")",
    "[",
    "]",
    ":",
    ",",
    '"',
    "“",
    "：",
    "=",
    "==",
    "and",
    "or",
    "not",
    "is",
    "set",
    "missing",
    "valid",
    "example",
    "record",
    "4h",
    "2024-10-29",
    "-",
    "#",
    "\n",
    " ",
    "x",
    "投诉",
    "?",
    "\\",
    "given",
    "with",
    "because",
    "unless",
]


@given(testing.mutated([_SEED_TEXT], _PIECES))
def test_mutated_policies_only_ever_give_diagnostics(
    tmp_path_factory: pytest.TempPathFactory, text: str
) -> None:
    assume(text != _SEED_TEXT)
    _compile_text(tmp_path_factory.mktemp("mut"), text)

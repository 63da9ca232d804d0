"""`csdsl compile --target sql` (`csdsl.codegen.sql`) against the reference interpreter: the
views, run by DuckDB over tables made by `table_ddl`, give every record's verdict and every
metric's groups exactly as the interpreter and `csdsl.metrics` do, on the seed policies and data,
on generated policies and records, and on names and text made to break out of SQL."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import duckdb
import pytest
import sqlglot
from _generated import RECORD, generated_policy
from hypothesis import HealthCheck, given, settings, strategies as st
from sqlglot import exp

import csdsl
from csdsl import ir, testing
from csdsl.api import Policy
from csdsl.codegen.sql import SqlUnsupported, compile_sql, table_ddl
from csdsl.metrics import MetricEngine, MetricResult
from csdsl.sql.exprs import SqlExprs

ROOT = Path(__file__).resolve().parents[1]
POLICIES = ROOT / "policies"
EXAMPLES = ROOT / "examples"
DATA = {
    "Complaint": EXAMPLES / "complaints.jsonl",
    "Call": EXAMPLES / "calls.jsonl",
    "Inquiry": EXAMPLES / "inquiries.csv",
    "Inpatient": EXAMPLES / "hospital_ward" / "stays.jsonl",
    "DutyShift": EXAMPLES / "hospital_ward" / "duty_shifts.jsonl",
    "NursingCheck": EXAMPLES / "hospital_ward" / "nursing_checks.jsonl",
    "Visit": EXAMPLES / "procurement" / "visits.jsonl",
    "InternalCase": EXAMPLES / "procurement" / "internal_cases.jsonl",
    "Survey": EXAMPLES / "procurement" / "surveys.jsonl",
}
US = dt.timedelta(microseconds=1)

# ---- running the SQL -----------------------------------------------------------------------------


def sql_value(v: Any) -> Any:
    """A record value as the table holds it: datetimes as ISO text DuckDB casts to TIMESTAMPTZ
    (binding an aware datetime needs pytz), durations in microseconds."""
    if isinstance(v, dt.datetime):
        return v.isoformat()
    if isinstance(v, dt.timedelta):
        return v // US
    return v


def load(
    con: duckdb.DuckDBPyConnection,
    policy: Policy,
    record: str,
    rows: Sequence[tuple[Any, Mapping[str, Any]]],
    table: str | None = None,
) -> None:
    """CREATE the record's table with `table_ddl` and insert (id, values) rows."""
    con.execute(table_ddl(policy, record, table=table))
    rec = policy.ir.record(record)
    assert rec is not None
    names = [f.name for f in rec.fields]
    with_id = "id" not in names
    columns = (["id"] if with_id else []) + names
    data = [
        [*([str(rid)] if with_id else []), *(sql_value(values.get(n)) for n in names)]
        for rid, values in rows
    ]
    chunk = 500  # one INSERT of many rows: DuckDB's executemany runs one statement a row
    for at in range(0, len(data), chunk):
        part = data[at : at + chunk]
        insert = exp.insert(
            exp.values([tuple(exp.Placeholder() for _ in columns) for _ in part]),
            exp.Table(this=exp.to_identifier(table or record, quoted=True)),
            columns=[exp.to_identifier(c, quoted=True) for c in columns],
        )
        con.execute(insert.sql("duckdb"), [v for row in part for v in row])


def view(con: duckdb.DuckDBPyConnection, name: str) -> list[dict[str, Any]]:
    query = exp.select("*").from_(exp.Table(this=exp.to_identifier(name, quoted=True)))
    cursor = con.execute(query.sql("duckdb"))
    cols = [c[0] for c in cursor.description]
    return [dict(zip(cols, row, strict=True)) for row in cursor.fetchall()]


def statements(script: str, dialect: str) -> list[exp.Expr]:
    parsed = sqlglot.parse(script, read=dialect)
    return [s for s in parsed if s is not None]


# ---- what the interpreter says -------------------------------------------------------------------


def expected_validity(
    policy: Policy, record: str, rows: Sequence[tuple[Any, Mapping[str, Any]]]
) -> list[dict[str, Any]]:
    v = policy.ir.validity(record)
    assert v is not None
    out = []
    for rid, values in rows:
        verdict = policy.validate_values(values, record, rid)
        row: dict[str, Any] = {"id": str(rid)}
        for c in (*verdict.conditions, *verdict.exceptions):
            row[c.id] = c.outcome
        row |= {
            "valid": verdict.valid,
            "unknown": verdict.unknown,
            "matched": list(verdict.matched),
        }
        out.append(row)
    return out


def python_value(v: Any, kind: ir.Kind) -> Any:
    return dt.timedelta(microseconds=v) if kind is ir.Kind.DURATION and v is not None else v


def metric_rows(results: Iterable[MetricResult], name: str) -> list[tuple[Any, ...]]:
    """A metric's results as comparable rows: group values as text, parts, value, status,
    reason."""
    out = []
    for r in results:
        if r.metric.name != name:
            continue
        out.append(
            (
                tuple(v for _, v in r.group),
                tuple(p.value for p in r.parts),
                r.value,
                r.status,
                r.reason,
            )
        )
    return out


def group_text(v: Any) -> str | None:
    """A group value from SQL as `MetricResult.group` writes it (`str` of the value)."""
    if v is None:
        return None
    return str(v)


def sql_metric_rows(
    con: duckdb.DuckDBPyConnection, m: ir.Metric, name: str | None = None
) -> list[tuple[Any, ...]]:
    aggs = ir.aggregates(m.value)
    value_kind = m.value.type.kind
    out = []
    for row in view(con, name or f"{m.name}_metric"):
        values = list(row.values())
        groups = tuple(group_text(v) for v in values[: len(m.groups)])
        parts = tuple(python_value(row[f"part_{i + 1}"], a.type.kind) for i, a in enumerate(aggs))
        value = python_value(row["value"], value_kind)
        out.append((groups, parts, value, row["status"], row["reason"]))
    return out


def same(a: Any, b: Any) -> bool:
    """Equal as values (an int and the float DuckDB holds for it are the same number)."""
    if isinstance(a, tuple | list) and isinstance(b, tuple | list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b
    return bool(a == b)


def assert_same_metrics(
    want: list[tuple[Any, ...]], got: list[tuple[Any, ...]], context: str = ""
) -> None:
    # groups that print alike (missing, and empty text) come in the order Python met them;
    # SQL, which knows no file order, puts the missing one first
    want = sorted(want, key=lambda row: [("" if v is None else v, v is not None) for v in row[0]])
    assert len(want) == len(got), (want, got, context)
    for w, g in zip(want, got, strict=True):
        assert same(w, g), (w, g, context)


def run_policy(
    policy: Policy,
    data: Mapping[str, Sequence[tuple[Any, Mapping[str, Any]]]],
    tables: Mapping[str, str] | None = None,
    dialect: str = "duckdb",
) -> None:
    """Compile to SQL, run it over `data` in DuckDB (another dialect's script transpiled to
    DuckDB's by sqlglot) and compare every view with the interpreter."""
    script = compile_sql(policy, dialect, tables=tables, clocks=False)
    parsed = statements(script, dialect)
    assert len(parsed) == len(policy.ir.validities) + len(_in_sql(policy)), script
    if dialect != "duckdb":
        for stmt in parsed:
            # sqlglot writes `ARRAY_REMOVE(a, NULL)` as a filter on `x <> NULL` (always NULL)
            for node in list(stmt.find_all(exp.ArrayRemove)):
                node.replace(exp.ArrayCompact(this=node.this))
            # Spark's `FROM_UTC_TIMESTAMP(ts, zone)` (a TIMESTAMP is an instant, the session in
            # UTC) is the wall clock in `zone`: DuckDB's `ts AT TIME ZONE zone` of a TIMESTAMPTZ;
            # sqlglot makes `ts` a naive TIMESTAMP first, which would read it in `zone`
            for shift in list(stmt.find_all(exp.AtTimeZone)):
                if isinstance(shift.this, exp.Cast):
                    shift.set("this", shift.this.this)
            # exact integers (Spark DECIMAL(38, 0), PostgreSQL NUMERIC) divide exactly there;
            # DuckDB's `//` of decimals is a DOUBLE division
            for dtype in list(stmt.find_all(exp.DataType)):
                if dtype.this == exp.DataType.Type.DECIMAL:
                    dtype.replace(exp.DataType.build("HUGEINT", dialect="duckdb"))
        script = ";\n".join(s.sql("duckdb") for s in parsed)
    con = duckdb.connect()
    for record, rows in data.items():
        load(con, policy, record, rows, (tables or {}).get(record))
    con.execute(script)
    for v in policy.ir.validities:
        got = view(con, f"{v.record}_validity")
        want = expected_validity(policy, v.record, data.get(v.record, []))
        assert got == want, script
    engine = MetricEngine(policy.ir.metrics, policy.tz)
    for record, rows in data.items():
        for _, values in rows:
            engine.feed(record, values)
    results = engine.results()
    for m in _in_sql(policy):
        assert_same_metrics(metric_rows(results, m.name), sql_metric_rows(con, m), m.name)


# ---- the seed policies and their example data ------------------------------------------------


def _in_sql(policy: Policy) -> list[ir.Metric]:
    """The metrics the SQL target computes: not those counting a verdict, a condition or a
    clock, which it leaves out (named at the top of the script)."""
    return [m for m in policy.ir.metrics if not m.judged]


def _read(policy: Policy, record: str) -> list[tuple[Any, dict[str, Any]]]:
    rows = []
    for row in policy.reader(record).read(str(DATA[record])):
        if row.values is not None:
            rows.append((row.id, row.values))
    return rows


@pytest.mark.parametrize("path", sorted(POLICIES.glob("*.csp")), ids=lambda p: p.name)
def test_seed_policies_agree_with_the_interpreter_on_the_examples(path: Path) -> None:
    policy = csdsl.load(path)
    used = {v.record for v in policy.ir.validities} | {
        r for m in policy.ir.metrics for r in m.records
    }
    if not used:
        script = compile_sql(policy, clocks=False)
        assert statements(script, "duckdb") == []
        assert "nothing to compute" in script
        return
    data = {r: _read(policy, r) for r in sorted(used)}
    assert all(data.values())
    run_policy(policy, data)
    # the same results from tables with other names
    run_policy(policy, data, tables={r: f"raw_{r.lower()}" for r in used})


def test_seed_metrics_match_measure_files() -> None:
    """The KPIs of `hotline_kpis.csp` over the example files: what `csdsl audit` reports."""
    policy = csdsl.load(POLICIES / "hotline_kpis.csp")
    results, _ = policy.measure_files({r: DATA[r] for r in ("Call", "Inquiry", "Complaint")})
    con = duckdb.connect()
    for record in ("Call", "Inquiry", "Complaint"):
        load(con, policy, record, _read(policy, record))
    con.execute(compile_sql(policy, clocks=False))
    for m in _in_sql(policy):
        assert_same_metrics(metric_rows(results, m.name), sql_metric_rows(con, m), m.name)


# ---- generated policies and records ------------------------------------------------------------


def _load(tmp: Path, text: str) -> Policy:
    path = tmp / "generated.csp"
    path.write_text(text, encoding="utf-8")
    return csdsl.load(path)


def _datetime_ops(e: ir.Expr) -> bool:
    """Whether an expression compares or subtracts datetimes of a record (not SQL's in a DST
    zone; constant parts are computed by the interpreter)."""
    if not ir.fields_used(e):
        return False
    if isinstance(e, ir.Cmp | ir.In):
        kind = (e.left if isinstance(e, ir.Cmp) else e.operand).type.kind
        if kind is ir.Kind.DATETIME:
            return True
    if isinstance(e, ir.Arith) and ir.Kind.DATETIME in (e.left.type.kind, e.right.type.kind):
        return True
    return any(_datetime_ops(c) for c in ir.children(e))


def _policy_datetime_ops(policy: Policy) -> bool:
    exprs = [c.expr for v in policy.ir.validities for c in (*v.conditions, *v.exceptions)]
    exprs += [
        a.where for m in policy.ir.metrics for a in ir.aggregates(m.value) if a.where is not None
    ]
    return any(_datetime_ops(e) for e in exprs)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_generated_policies_and_records_agree(
    record_type: ir.Record, tmp_path_factory: pytest.TempPathFactory, data: st.DataObject
) -> None:
    tmp = tmp_path_factory.mktemp("gen")
    zone, text = data.draw(generated_policy(record_type))
    policy = _load(tmp, text)
    values = data.draw(st.lists(testing.record_values(record_type, policy.tz), max_size=12))
    rows = [(f"R-{i}", v) for i, v in enumerate(values)]
    dialect = data.draw(st.sampled_from(["duckdb", "duckdb", "postgres", "spark"]))
    if zone == "America/New_York" and _policy_datetime_ops(policy):
        with pytest.raises(SqlUnsupported, match="daylight saving time"):
            compile_sql(policy, dialect)
        return
    run_policy(policy, {"R": rows}, dialect=dialect)


# ---- the other dialects --------------------------------------------------------------------------


@pytest.mark.parametrize("dialect", ["postgres", "spark"])
@pytest.mark.parametrize(
    "name", ["complaint_validity.csp", "hotline_kpis.csp"], ids=lambda n: n.split(".")[0]
)
def test_other_dialects_parse_and_mean_the_same(dialect: str, name: str) -> None:
    """Each statement parses back in its dialect; transpiled to DuckDB (with the few fixes
    `run_policy` notes where sqlglot's transpiling is not the dialect's meaning) it gives the
    interpreter's answers."""
    policy = csdsl.load(POLICIES / name)
    script = compile_sql(policy, dialect, clocks=False)
    parsed = statements(script, dialect)
    assert all(isinstance(s, exp.Create) for s in parsed)
    assert len(parsed) == len(policy.ir.validities) + len(_in_sql(policy))
    if dialect == "spark":
        assert "ARRAY_COMPACT" in script or not policy.ir.validities
        assert "UNIX_MICROS" in script or not policy.ir.validities
    else:
        assert "ARRAY_REMOVE" in script or not policy.ir.validities
        assert 'COLLATE "C"' in script or not policy.ir.metrics
    used = {v.record for v in policy.ir.validities} | {
        r for m in policy.ir.metrics for r in m.records
    }
    run_policy(policy, {r: _read(policy, r) for r in used}, dialect=dialect)


@pytest.mark.parametrize("dialect", ["duckdb", "postgres", "spark"])
def test_table_ddl(dialect: str) -> None:
    policy = csdsl.load(POLICIES / "hotline_kpis.csp")
    ddl = table_ddl(policy, "Complaint", dialect)
    (create,) = statements(ddl, dialect)
    assert isinstance(create, exp.Create)
    columns = {c.name: c for c in create.find_all(exp.ColumnDef)}
    assert list(columns)[:2] == ["id", "received_at"]
    received = columns["received_at"].args["kind"].sql(dialect)
    assert received == ("TIMESTAMP" if dialect == "spark" else "TIMESTAMPTZ")
    assert columns["reply_time"].args["kind"].sql(dialect) == "BIGINT"  # microseconds
    assert "NOT NULL" in columns["team"].sql(dialect)
    assert "NOT NULL" not in columns["satisfied"].sql(dialect)
    assert ("CHECK" in columns["tier"].sql(dialect)) is (dialect != "spark")
    if dialect == "duckdb":
        duckdb.connect().execute(ddl)
    assert "CREATE TABLE `raw`.`complaints`" in table_ddl(
        policy, "Complaint", "spark", table="raw.complaints"
    )


def test_the_script_says_what_it_leaves_out() -> None:
    policy = csdsl.load(POLICIES / "complaint_handling.csp")
    script = compile_sql(policy, clocks=False)
    assert "not part of the SQL target: deadlines, escalations and transcript rules" in script
    assert "this policy has deadlines" in script
    assert statements(script, "duckdb") == []


def test_unknown_dialects_and_tables_are_usage_errors() -> None:
    policy = csdsl.load(POLICIES / "complaint_validity.csp")
    with pytest.raises(ValueError, match="unknown SQL dialect `oracle`"):
        compile_sql(policy, "oracle")
    with pytest.raises(ValueError, match="no record type `Nope`"):
        compile_sql(policy, tables={"Nope": "x"})
    with pytest.raises(ValueError, match="not a table name"):
        compile_sql(policy, tables={"Complaint": "a..b"})
    sql = compile_sql(policy, "postgres", tables={"Complaint": "crm.public.complaints"})
    assert 'FROM "crm"."public"."complaints"' in sql


# ---- exact arithmetic ----------------------------------------------------------------------------

EXACT_POLICY = """policy "exact" timezone "Asia/Shanghai"
record R {
  wait: duration?
  n: int?
  x: number?
  start: datetime?
  day: date?
}
valid R when any {
  tenth: wait * 0.1 > 0s
  tenth_div: wait / 10 > 0s
  by_n: wait / n >= 2s
  times_n: n * wait > 1h
  third: wait / 0.3 > 1h
  ratio: wait / 2s > 1.5
  shifted: start + wait > 2024-10-29T00:00
  days: day - 2024-10-01 > 24h
  div_zero: x / 0 > 1 or x / (n - n) is missing
}
metric tenth: max(R.wait) * 0.1 >= 0s
metric third: max(R.wait) / 0.3 >= 0s
metric by_count: sum(R.wait) / count(R) >= 0s
metric mean_wait: mean(R.wait) >= 0s
metric times: max(R.wait) * count(R where n > 0) >= 0s
metric p: percentile(37.5, R.wait) >= 0s
metric half_down: min(R.wait) / 2 <= 0s
metric tenth_down: min(R.wait) * 0.1 <= 0s
metric third_down: min(R.wait) / 0.3 + max(R.wait) / 7 <= 0s
metric p_tiny: percentile(0.1, R.wait) >= 0s
metric p_n: percentile(33.3, R.n) + percentile(99.9, R.x) >= 0
"""


def test_durations_round_as_timedelta_does(tmp_path: Path) -> None:
    """`timedelta * 0.1` of 5 microseconds is 1 microsecond (the exact product is just above
    one half): a DOUBLE product would round it to 0."""
    policy = _load(tmp_path, EXACT_POLICY)
    tz = policy.tz
    waits = [5, -5, 15, 25, 1, 3, 7_200_000_000, 86_400_000_001, 0, None, 33_333_333]
    rows = []
    for i, w in enumerate(waits):
        rows.append(
            (
                f"E{i}",
                {
                    "wait": None if w is None else dt.timedelta(microseconds=w),
                    "n": [3, -4, 0, None, 7][i % 5],
                    "x": [1.5, None, -2.0, 0.1][i % 4],
                    "start": dt.datetime(2024, 10, 28, 23, 59, 59, 999_999, tzinfo=tz)
                    if i % 3
                    else None,
                    "day": dt.date(2024, 10, 1 + i),
                },
            )
        )
    verdict = policy.validate_values(rows[0][1], "R", "E0")
    assert dict((c.id, c.outcome) for c in verdict.conditions)["tenth"] is True
    for dialect in ("duckdb", "postgres", "spark"):
        run_policy(policy, {"R": rows}, dialect=dialect)
        for size in (2, 3):  # percentiles over few values
            run_policy(policy, {"R": rows[:size]}, dialect=dialect)


# ---- names and text made to escape -----------------------------------------------------------

INJECTED = r"""policy "引号 \"和\" 撇号's \\ -- /* */ ; __import__('os')\n-- DROP TABLE x"
  version "1\u2028;--" timezone "Asia/Shanghai"

record 投诉 {
  态度: bool
  金额: number?
  说明: text?
  等级: enum(普通, 重要, _x_)?
  时间: datetime?
  等待: duration?
}

valid 投诉 when any {
  态度差 "客户说 \"态度差\"\n; DROP TABLE x; -- */ /* __import__('os').system('x')": 态度
  金额大 "it's \\ \u000d\n--": 金额 > 100 or 说明 contains "'; DROP TABLE x; --"
  重要客户: 等级 = 重要 or 等级 in [_x_]
  注入 "*/ --\u000d\u0085\u2029\u200b;": 说明 = "a\\b\"c\n--d/*e*/;f" or 说明 contains "__import__"
  时间晚 "`backtick` \"dq\"": 时间 > 2024-10-29T09:00 and 等待 > 1h
} unless {
  例外 "\u2028 line separator": 说明 = "--"
}

metric 比率 "rate; --\n*/ DROP": count(投诉 where 说明 contains "';--") / count(投诉) >= 50% by 等级
metric 等待时间 "/* */": max(投诉.等待 where 说明 != "x\\y") <= 2h by 说明, month of 时间
"""

_TEXTS = [
    "'; DROP TABLE x; --",
    'a\\b"c\n--d/*e*/;f',
    "__import__('os')",
    "--",
    "x\\y",
    "';--",
    "中文 /* */",
    "`",
    "",
    None,
]


def test_names_and_text_never_escape(tmp_path: Path) -> None:
    policy = _load(tmp_path, INJECTED)
    tz = policy.tz
    rows = [
        (
            f"I-{i}'\";--",
            {
                "态度": i % 4 == 0,
                "金额": [None, 150.0, 5.0][i % 3],
                "说明": text,
                "等级": [None, "普通", "重要", "_x_"][i % 4],
                "时间": dt.datetime(2024, 10, 29, 8 + i % 3, 30, tzinfo=tz) if i % 5 else None,
                "等待": dt.timedelta(hours=i % 4) if i % 2 else None,
            },
        )
        for i, text in enumerate(_TEXTS * 2)
    ]
    views = ["投诉_validity", "比率_metric", "等待时间_metric"]
    for dialect in ("duckdb", "postgres", "spark"):
        script = compile_sql(policy, dialect)
        parsed = statements(script, dialect)
        assert [s.this.name for s in parsed] == views
        for s in parsed:
            assert isinstance(s, exp.Create)
            assert not list(s.find_all(exp.Drop, exp.Command))
            assert {t.name for t in s.find_all(exp.Table)} <= {"投诉", *views}
        for line in script.splitlines():
            # the policy's text is in comments or in string literals, never in the code
            if "DROP" in line or "__import__" in line:
                assert line.startswith("-- ") or re.search(r"'.*(DROP|__import__).*'", line)
        comments = [line for line in script.splitlines() if line.startswith("--")]
        assert not any(ch in line for line in comments for ch in "\r\x85\u2028\u2029\u200b")
        run_policy(policy, {"投诉": rows}, dialect=dialect)


# ---- what has no SQL form ----------------------------------------------------------------------


def _unsupported(tmp_path: Path, body: str, zone: str = "Asia/Shanghai") -> SqlUnsupported:
    policy = _load(tmp_path, f'policy "u" timezone "{zone}"\n{RECORD}\n{body}\n')
    with pytest.raises(SqlUnsupported) as caught:
        compile_sql(policy)
    err = caught.value
    assert str(err).startswith(f"{err.file}:{err.line}: ")
    assert err.file.endswith("generated.csp")
    return err


def test_what_has_no_sql_form_is_refused_naming_the_clause(tmp_path: Path) -> None:
    # the policy line, RECORD, then `valid R when any {`: the first condition is on `line`
    line = 1 + RECORD.count("\n") + 1 + 2
    err = _unsupported(
        tmp_path, "valid R when any {\n  late: finish - start > 4h\n}", "America/New_York"
    )
    assert (err.line, err.clause) == (line, "condition `late`")
    assert "daylight saving time" in str(err)
    err = _unsupported(tmp_path, "valid R when any {\n  f: flag\n  scaled: wait * x > 1h\n}")
    assert err.line == line + 1 and "`number` that is not a constant" in str(err)
    err = _unsupported(tmp_path, "valid R when any {\n  big: n > 9007199254740991 * 10\n}")
    assert "beyond 2^53" in str(err)
    err = _unsupported(tmp_path, "metric per_x: count(R) >= 1 by x")
    assert err.clause == "metric `per_x`" and "groups by `x`, a number" in str(err)
    err = _unsupported(tmp_path, "metric per_start: count(R) >= 1 by start")
    assert "a datetime" in str(err)
    err = _unsupported(tmp_path, "metric scaled: max(R.wait) * mean(R.x) >= 1h")
    assert "may have a fraction" in str(err)
    err = _unsupported(tmp_path, "metric p: percentile(0.01, R.wait) >= 1h")
    assert "below rank 100/1024" in str(err)
    err = _unsupported(tmp_path, "valid R when any {\n  unknown: flag\n}")
    assert "`unknown`" in str(err) and "one name to SQL" in str(err)
    # datetimes only tested for being set are fine in any zone
    policy = _load(
        tmp_path,
        f'policy "u" timezone "America/New_York"\n{RECORD}\n'
        "valid R when any {\n  late: finish is missing and start is set\n}\n"
        "metric m: count(R where finish is set) >= 1 by week of start\n",
    )
    tz = policy.tz
    rows = [
        (i, {"flag": True, "start": dt.datetime(2024, 3, 10, h, tzinfo=tz), "team": "a"})
        for i, h in enumerate((0, 1, 3, 23))
    ]
    run_policy(policy, {"R": [(i, dict.fromkeys(RECORD_FIELDS) | v) for i, v in rows]})


RECORD_FIELDS = ["flag", "opt", "n", "x", "note", "day", "start", "finish", "wait", "tier", "team"]


def test_fields_sql_cannot_tell_apart(tmp_path: Path) -> None:
    policy = _load(
        tmp_path,
        'policy "u" timezone "UTC"\nrecord R {\n  a: bool\n  A: bool\n}\n'
        "valid R when any {\n  c: a\n}\n",
    )
    with pytest.raises(SqlUnsupported, match="`a` and `A` are one name to SQL"):
        compile_sql(policy)


def test_cli_compiles_to_sql(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from csdsl.cli import main

    span = ["--from", "2024-10-01", "--to", "2024-10-31"]  # a short calendar table
    assert main(["compile", str(POLICIES / "hotline_kpis.csp"), "--target", "sql", *span]) == 0
    out = capsys.readouterr().out
    views = [s.this.name for s in statements(out, "duckdb") if isinstance(s, exp.Create)]
    kpis = [v for v in views if v.endswith(("_validity", "_metric"))]
    assert len(kpis) == 9  # 2 of 11 KPIs count clocks: left out
    path = tmp_path / "u.csp"
    path.write_text(
        f'policy "u" timezone "UTC"\n{RECORD}\nmetric per_x: count(R) >= 1 by x\n',
        encoding="utf-8",
    )
    assert main(["compile", str(path), "--target", "sql", "--dialect", "spark"]) == 2
    assert "metric `per_x` has no SQL form" in capsys.readouterr().err


TWO_RECORDS = """policy "two" timezone "Asia/Shanghai"
record Call {
  at: datetime
  team: text
  tier: enum(gold, silver)?
  human: bool
  wait: duration?
}
record Visit {
  at: date
  team: enum(east, west, 东)
  tier: text?
  minutes: int?
}
metric mixed: count(Call where human) / count(Visit) >= 50% by team, week of at
metric spread: percentile(75, Call.wait) + sum(Visit.minutes) * 1m <= 2h by tier
metric total: count(Call) + count(Visit where minutes > 5) >= 3
"""


def test_metrics_over_two_record_types(tmp_path: Path) -> None:
    """Groups from either record type, text and enum values in one group column, a date and a
    datetime in one period, across a year's end (ISO weeks)."""
    policy = _load(tmp_path, TWO_RECORDS)
    tz = policy.tz
    start = dt.datetime(2024, 12, 29, 23, 30, tzinfo=tz)
    calls = [
        (
            f"C{i}",
            {
                "at": start + dt.timedelta(hours=7 * i),
                "team": ["east", "west", "north", "东"][i % 4],
                "tier": [None, "gold", "silver"][i % 3],
                "human": i % 2 == 0,
                "wait": dt.timedelta(minutes=13 * i) if i % 5 else None,
            },
        )
        for i in range(14)
    ]
    visits = [
        (
            f"V{i}",
            {
                "at": dt.date(2024, 12, 28) + dt.timedelta(days=i),
                "team": ["east", "west", "东"][i % 3],
                "tier": [None, "gold", "bronze", ""][i % 4],
                "minutes": [None, 3, 9, 12][i % 4],
            },
        )
        for i in range(9)
    ]
    for dialect in ("duckdb", "postgres", "spark"):
        run_policy(policy, {"Call": calls, "Visit": visits}, dialect=dialect)
        run_policy(policy, {"Call": calls[:3], "Visit": []}, dialect=dialect)
        run_policy(policy, {"Call": [], "Visit": []}, dialect=dialect)


# ---- the one translator: `csdsl.sql.exprs.SqlExprs` ------------------------------------------

LISTS_POLICY = """policy "lists" timezone "Asia/Shanghai"
record R {
  n: int?
  x: number?
  note: text?
}
valid R when any {
  ints: n in [1, 2, 3, 5, 8]
  texts: note not in ["a", "b", "c", "退款"]
  missing_item: n in [1, 2, 3, 1 / 0]
  fields: x in [n, 0.5, 1.5, 2.5]
  part: note contains "b"
}
"""


def test_long_in_lists_and_contains_on_duckdb(tmp_path: Path) -> None:
    """DuckDB runs an IN list of five or more as a join: a list of constants is a list literal
    there (`list_contains`, NULL for a missing value or a missing item as `in` decides it),
    other long lists a chain of `or`; the meaning stays the interpreter's in every dialect."""
    policy = _load(tmp_path, LISTS_POLICY)
    script = compile_sql(policy, "duckdb")
    assert script.count("LIST_CONTAINS(") == 3 and "CONTAINS(" in script, script
    assert "LIST_CONTAINS" not in compile_sql(policy, "postgres")
    values: list[dict[str, Any]] = [
        {"n": 5, "x": 5.0, "note": "abc"},
        {"n": 4, "x": 0.5, "note": "退款"},
        {"n": None, "x": None, "note": None},
        {"n": 3, "x": 2.0, "note": "d"},
        {"n": 0, "x": 0.0, "note": ""},
    ]
    rows = [(f"L{i}", v) for i, v in enumerate(values)]
    for dialect in ("duckdb", "postgres", "spark"):
        run_policy(policy, {"R": rows}, dialect=dialect)


def test_sql_exprs_takes_the_policy_its_ir_or_the_zone(tmp_path: Path) -> None:
    """`SqlExprs(policy, dialect, column)(e)` over any columns: the same SQL from a loaded
    policy, its IR or its zone's name, meaning what the interpreter means; what reads more than
    the record's fields, or compares datetimes in a zone with daylight saving time, is refused
    with `SqlUnsupported`, naming the clause."""
    policy = _load(tmp_path, EXACT_POLICY)
    v = policy.ir.validity("R")
    assert v is not None
    con = duckdb.connect()
    con.execute(
        'CREATE TABLE t ("c:wait" BIGINT, "c:n" BIGINT, "c:x" DOUBLE, "c:start" TIMESTAMPTZ, '
        '"c:day" DATE)'
    )
    values = {
        "wait": dt.timedelta(seconds=7201),
        "n": 3,
        "x": 1.5,
        "start": dt.datetime(2024, 10, 28, 23, 0, tzinfo=policy.tz),
        "day": dt.date(2024, 10, 5),
    }
    con.execute(
        "INSERT INTO t VALUES (?, ?, ?, ?::TIMESTAMPTZ, ?)",
        [sql_value(values[k]) for k in ("wait", "n", "x", "start", "day")],
    )

    def column(name: str) -> exp.Expr:
        return exp.column("c:" + name, quoted=True)

    verdict = policy.validate_values(values, "R", "V")
    outcomes = {c.id: c.outcome for c in verdict.conditions}
    for c in v.conditions:
        texts = {
            SqlExprs(p, "duckdb", column, f"condition `{c.id}`", c.span)(c.expr).sql("duckdb")
            for p in (policy, policy.ir, "Asia/Shanghai")
        }
        assert len(texts) == 1
        (got,) = con.execute(f"SELECT {texts.pop()} FROM t").fetchone() or (None,)
        assert got == outcomes[c.id], c.id

    judged = ir.Cmp("=", ir.Judged("valid", "valid", ir.BOOL), ir.Const(True, ir.BOOL))
    with pytest.raises(
        SqlUnsupported, match=r"^<policy>:1: the expression has no SQL form: it reads a verdict"
    ):
        SqlExprs("UTC", "spark")(judged)
    later = ir.Cmp("<", ir.FieldRef("a", ir.DATETIME, False), ir.FieldRef("b", ir.DATETIME, True))
    span = v.conditions[0].span
    with pytest.raises(SqlUnsupported, match=r"condition `late` has no SQL form: .*daylight"):
        SqlExprs("America/New_York", "postgres", clause="condition `late`", span=span)(later)
    assert "UNIX_MICROS" in SqlExprs("UTC", "spark")(later).sql("spark").upper()

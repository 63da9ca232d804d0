"""The DuckDB engine (`csdsl.duck`) against the reference interpreter: the same rows, verdicts,
evidence, errors and metrics, on generated policies and records and on the seed examples."""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
from _generated import generated_policy, policy_text
from hypothesis import HealthCheck, given, settings, strategies as st

import csdsl
from csdsl import ir, testing
from csdsl.api import Policy
from csdsl.duck import DuckEngine
from csdsl.engine_rows import DuckVerdict, Window, evidence_of, in_window, json_of
from csdsl.metrics import MetricResult
from csdsl.records import Row
from csdsl.syntax.format import expr_text

ROOT = Path(__file__).resolve().parents[1]
HOTLINE = ROOT / "policies" / "hotline.csp"
EXAMPLES = ROOT / "examples"

# ---- comparing the engines -------------------------------------------------------------------


def duck_rows(
    engine: DuckEngine, path: Path, window: Window | None = None
) -> list[tuple[Any, ...]]:
    out = []
    for v in engine.validate_file(path, window=window):
        error = None if v.error is None else (v.error.code, v.error.message)
        out.append(
            (
                v.line,
                v.id,
                v.valid,
                v.matched,
                v.unknown,
                json.dumps(v.evidence, ensure_ascii=False),
                error,
            )
        )
    return out


def reference_rows(
    policy: Policy, path: Path, window: Window | None = None
) -> list[tuple[Any, ...]]:
    """The Python engine's rows (`Policy.validate_file`); with a window, the interpreter's over
    the rows `in_window` keeps (the Python engine takes no window)."""
    if window is None:
        rows = []
        for r in policy.validate_file(path):
            if r.verdict is None:
                assert r.error is not None
                rows.append((r.line, r.id, None, (), False, "{}", (r.error.code, r.error.message)))
            else:
                ev = json.dumps(evidence_of(r.verdict, policy.tz), ensure_ascii=False)
                v = r.verdict
                rows.append((r.line, r.id, v.valid, v.matched, v.unknown, ev, None))
        return rows
    reader = policy.reader()
    validator = policy._validators[policy.record_type()]
    out = []
    for row in reader.read(str(path)):
        if row.values is None:
            assert row.error is not None
            out.append(
                (row.line, row.id, None, (), False, "{}", (row.error.code, row.error.message))
            )
            continue
        if not in_window(row.values, window, policy.tz):
            continue
        verdict = validator(row.values, row.id)
        ev = json.dumps(evidence_of(verdict, policy.tz), ensure_ascii=False)
        out.append((row.line, row.id, verdict.valid, verdict.matched, verdict.unknown, ev, None))
    return out


def _same_value(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return type(a) is type(b) and a == b


def metric_key(r: MetricResult) -> tuple[Any, ...]:
    return (
        r.metric.name,
        r.group,
        r.status,
        r.reason,
        json.dumps(r.to_json(), ensure_ascii=False, default=str),
        r.value,
        tuple((p.text, p.value) for p in r.parts),
    )


def bad_key(bad: list[tuple[str, Row]]) -> list[tuple[Any, ...]]:
    return [
        (
            path,
            row.line,
            row.id,
            row.error.code if row.error else None,
            row.error and row.error.message,
        )
        for path, row in bad
    ]


def assert_same_metrics(
    policy: Policy, engine: DuckEngine, files: dict[str, Path], window: Window | None = None
) -> None:
    if window is None:
        expected, expected_bad = policy.measure_files(files)
    else:
        expected, expected_bad = windowed_measure(policy, files, window)
    got, got_bad = engine.measure_files(files, window=window)
    assert [metric_key(r) for r in got] == [metric_key(r) for r in expected]
    for a, b in zip(got, expected, strict=True):  # int 0 is not float 0.0 in JSON output
        assert _same_value(a.value, b.value), (a, b)
        for pa, pb in zip(a.parts, b.parts, strict=True):
            assert _same_value(pa.value, pb.value), (pa, pb)
    assert bad_key(got_bad) == bad_key(expected_bad)


def windowed_measure(
    policy: Policy, files: dict[str, Path], window: Window
) -> tuple[list[MetricResult], list[tuple[str, Row]]]:
    from csdsl.metrics import MetricEngine

    engine = MetricEngine(policy.ir.metrics, policy.tz)
    bad: list[tuple[str, Row]] = []
    for name, path in files.items():
        for row in policy.reader(name).read(str(path)):
            if row.values is None:
                bad.append((str(path), row))
            elif in_window(row.values, window, policy.tz):
                engine.feed(name, row.values)
    return engine.results(), bad


# ---- the seed policy and its example files -----------------------------------------------------


@pytest.fixture(scope="module")
def hotline() -> Policy:
    return csdsl.load(HOTLINE)


@pytest.fixture(scope="module")
def engine(hotline: Policy) -> Iterator[DuckEngine]:
    with DuckEngine(hotline, threads=2) as e:
        yield e


@pytest.mark.parametrize("name", ["complaints.jsonl", "complaints.csv", "complaints.json"])
def test_examples_agree_with_the_interpreter(
    hotline: Policy, engine: DuckEngine, name: str
) -> None:
    path = EXAMPLES / name
    expected = reference_rows(hotline, path)
    assert duck_rows(engine, path) == expected
    assert any(r[6] is not None for r in expected) or name.endswith(".json")  # bad rows too
    assert_same_metrics(hotline, engine, {"Complaint": path})


def test_only_bad_and_unusual_lines_go_to_python(hotline: Policy) -> None:
    with DuckEngine(hotline) as e:
        rows = duck_rows(e, EXAMPLES / "complaints.jsonl")
        bad = sum(1 for r in rows if r[6] is not None)
        assert 0 < e.fallback_rows <= bad + 5  # the bad lines, and few others
        e.measure_files({"Complaint": EXAMPLES / "complaints.jsonl"})
        assert e.fallback_rows <= bad + 5  # measuring the same file reads it once


def test_windows_keep_bad_rows(hotline: Policy, engine: DuckEngine) -> None:
    tz = hotline.tz
    window: Window = (
        "received_at",
        dt.datetime(2024, 11, 1, tzinfo=tz),
        dt.datetime(2024, 12, 1),  # naive: in the policy's zone
    )
    for name in ("complaints.jsonl", "complaints.csv"):
        path = EXAMPLES / name
        expected = reference_rows(hotline, path, window)
        got = duck_rows(engine, path, window)
        assert got == expected
        assert len(got) < len(reference_rows(hotline, path))
        assert [r for r in got if r[6] is not None] == [
            r for r in reference_rows(hotline, path) if r[6] is not None
        ]
        assert_same_metrics(hotline, engine, {"Complaint": path}, window)


def test_in_window() -> None:
    tz = dt.timezone(dt.timedelta(hours=8))
    start = dt.datetime(2024, 11, 1, tzinfo=tz)
    end = dt.datetime(2024, 12, 1, tzinfo=tz)
    w: Window = ("at", start, end)
    assert in_window({"at": start}, w)
    assert not in_window({"at": end}, w)
    assert in_window({"at": end - dt.timedelta(microseconds=1)}, w)
    assert not in_window({"at": None}, w) and not in_window({}, w)
    assert in_window({}, None)
    assert in_window({"at": dt.datetime(2024, 10, 31, 17, tzinfo=dt.UTC)}, w)  # 01:00 at +08
    naive: Window = ("at", dt.datetime(2024, 11, 1), None)
    assert in_window({"at": start}, naive, tz) and not in_window({"at": start}, naive, dt.UTC)
    day: Window = ("d", dt.datetime(2024, 11, 1, 12, tzinfo=tz), end)
    assert not in_window({"d": dt.date(2024, 11, 1)}, day, tz)  # its midnight is before
    assert in_window({"d": dt.date(2024, 11, 2)}, day, tz)
    with pytest.raises(ValueError):
        in_window({"at": 5}, w)


def test_evidence_json_is_canonical() -> None:
    tz = dt.timezone(dt.timedelta(hours=8))
    moment = dt.datetime(2024, 10, 29, 1, 15, tzinfo=dt.UTC)
    assert json_of(moment, tz) == "2024-10-29T09:15:00+08:00"
    assert json_of(dt.date(2024, 1, 2), tz) == "2024-01-02"
    assert json_of(dt.timedelta(hours=2, minutes=30), tz) == "PT2H30M"
    assert json_of(None, tz) is None and json_of(True, tz) is True and json_of(0.5, tz) == 0.5


def test_parquet_rows_are_judged_like_the_jsonl_they_came_from(
    hotline: Policy, engine: DuckEngine, tmp_path: Path
) -> None:
    """Parquet: the good rows of the JSONL written with typed columns (bool, number, text;
    `received_at` as a TIMESTAMP WITH TIME ZONE); a row's line is its row number."""
    record = hotline.reader("Complaint").record
    good = [
        line
        for line, row in zip(
            (EXAMPLES / "complaints.jsonl").read_text(encoding="utf-8").splitlines(),
            hotline.reader("Complaint").read(str(EXAMPLES / "complaints.jsonl")),
            strict=False,
        )
        if row.values is not None
    ]
    rows = [r for r in hotline.reader("Complaint").read(str(EXAMPLES / "complaints.jsonl"))]
    good_lines = [
        text
        for n, text in enumerate(
            (EXAMPLES / "complaints.jsonl").read_text(encoding="utf-8").splitlines(), 1
        )
        if any(r.line == n and r.values is not None for r in rows)
    ]
    assert good_lines and len(good) >= len(good_lines) - 8
    source = tmp_path / "good.jsonl"
    source.write_text("\n".join(good_lines) + "\n", encoding="utf-8")
    kinds = {"bool": "BOOLEAN", "int": "BIGINT", "number": "DOUBLE"}
    columns = {"id": "VARCHAR"} | {
        f.name: kinds.get(f.type.kind.value, "VARCHAR") for f in record.fields
    }
    con = duckdb.connect()
    typed = ", ".join(
        f'CAST("{k}" AS TIMESTAMPTZ) AS "{k}"' if k == "received_at" else f'"{k}"' for k in columns
    )
    con.execute("LOAD icu")
    con.execute("SET TimeZone = 'Asia/Shanghai'")
    con.execute(
        f"COPY (SELECT {typed} FROM read_json(?, format = 'newline_delimited', columns = ?)) "
        "TO '" + str(tmp_path / "good.parquet").replace("'", "''") + "' (FORMAT parquet)",
        [str(source), columns],
    )
    by_id = {r[1]: r for r in reference_rows(hotline, source)}
    got = duck_rows(engine, tmp_path / "good.parquet")
    assert [r[0] for r in got] == list(range(1, len(good_lines) + 1))
    for _line, rid, valid, matched, unknown, evidence, error in got:
        want = by_id[rid]
        assert (valid, matched, unknown, error) == (want[2], want[3], want[4], want[6])
        assert json.loads(evidence) == json.loads(want[5])  # 0 and 0.0 are both zero


def test_validity_sql_quotes_every_name(tmp_path: Path) -> None:
    policy_path = tmp_path / "quoted.csp"
    policy_path.write_text(
        'policy "引号 \\"和\\" 撇号\'s" timezone "Asia/Shanghai"\n'
        "record 投诉 {\n"
        "  态度: bool\n"
        "  金额: number?\n"
        "  说明: text?\n"
        "  等级: enum(普通, 重要)?\n"
        "}\n"
        "valid 投诉 when any {\n"
        '  态度差 "客户说 \\"态度差\\"": 态度\n'
        '  金额大: 金额 > 100 or 说明 contains "\'; DROP TABLE x; --"\n'
        "  重要客户: 等级 = 重要\n"
        "}\n",
        encoding="utf-8",
    )
    policy = csdsl.load(policy_path)
    with DuckEngine(policy) as e:
        sql = e.validity_sql("投诉")
        assert "'''; DROP TABLE x; --'" in sql  # the phrase, as a quoted literal
        assert '"态度差"' in sql and '"v:金额"' in sql and "'/金额'" in sql
        records = tmp_path / "r.jsonl"
        records.write_text(
            json.dumps(
                {"id": "1", "态度": False, "说明": "x'; DROP TABLE x; --y"}, ensure_ascii=False
            )
            + "\n"
            + json.dumps({"id": "2", "态度": True, "等级": "重要"}, ensure_ascii=False)
            + "\n",
            encoding="utf-8",
        )
        rows = e.con.execute(sql, {"path": str(records)}).fetchall()
        assert [(r[0], r[1], r[-1]) for r in rows] == [(1, "1", True), (2, "2", True)]
        assert duck_rows(e, records) == reference_rows(policy, records)


# ---- generated policies and records ------------------------------------------------------------


def _load(tmp: Path, text: str) -> Policy:
    path = tmp / "generated.csp"
    path.write_text(text, encoding="utf-8")
    return csdsl.load(path)


def _tz(zone: str) -> dt.tzinfo:
    import zoneinfo

    return dt.UTC if zone == "UTC" else zoneinfo.ZoneInfo(zone)


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_generated_policies_and_records_agree(
    record_type: ir.Record, tmp_path_factory: pytest.TempPathFactory, data: st.DataObject
) -> None:
    tmp = tmp_path_factory.mktemp("gen")
    zone, text = data.draw(generated_policy(record_type, number_group=True))
    policy = _load(tmp, text)
    tz = _tz(zone)
    lines = data.draw(testing.jsonl_lines(record_type, tz))
    jsonl = tmp / "r.jsonl"
    jsonl.write_text(
        "\n".join(lines) + data.draw(st.sampled_from(["\n", "", "\r\n"])), encoding="utf-8"
    )
    csv_path = tmp / "r.csv"
    csv_path.write_text(data.draw(testing.csv_text(record_type, tz)), encoding="utf-8", newline="")
    with DuckEngine(policy, threads=1) as e:
        for path in (jsonl, csv_path):
            assert duck_rows(e, path) == reference_rows(policy, path), path.read_text()
            assert_same_metrics(policy, e, {"R": path})
        start = data.draw(
            st.sampled_from([None, dt.datetime(2024, 1, 1), dt.datetime(2024, 3, 1, tzinfo=tz)])
        )
        window: Window = ("start", start, dt.datetime(2024, 7, 1, tzinfo=dt.UTC))
        assert duck_rows(e, jsonl, window) == reference_rows(policy, jsonl, window)
        assert_same_metrics(policy, e, {"R": jsonl}, window)


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_good_records_are_judged_in_sql(
    record_type: ir.Record, tmp_path_factory: pytest.TempPathFactory, data: st.DataObject
) -> None:
    """Records in the plain spellings never need Python (in a zone with one offset)."""
    tmp = tmp_path_factory.mktemp("plain")
    conds = data.draw(
        st.lists(testing.typed_conditions(record_type, max_depth=2), min_size=1, max_size=3)
    )
    policy = _load(
        tmp, policy_text("Asia/Shanghai", [expr_text(c) for c in conds], [], "any", "team")
    )
    rows = data.draw(
        st.lists(testing.record_values(record_type, policy.tz), min_size=1, max_size=8)
    )
    path = tmp / "plain.jsonl"
    with path.open("w", encoding="utf-8") as out:
        for i, values in enumerate(rows):
            plain = {k: _plain(v, policy.tz) for k, v in values.items()}
            out.write(json.dumps({"id": f"P-{i}", **plain}, ensure_ascii=False) + "\n")
    with DuckEngine(policy) as e:
        assert duck_rows(e, path) == reference_rows(policy, path)
        guarded = e.fallback_rows
        assert_same_metrics(policy, e, {"R": path})
        assert guarded == 0 or all(_has_guard(c) for c in conds)


def _has_guard(cond: Any) -> bool:
    """Conditions whose arithmetic may send a row to Python (products, scaled durations)."""
    text = expr_text(cond)
    return "*" in text or "/" in text or "+" in text or "-" in text


def _plain(v: Any, tz: dt.tzinfo) -> Any:
    if isinstance(v, dt.datetime):
        return v.astimezone(tz).isoformat()
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, dt.timedelta):
        return int(v.total_seconds())
    return v


def test_arithmetic_guards_and_edge_values(tmp_path: Path) -> None:
    """Values where DOUBLE arithmetic would go wrong are left to Python, and agree."""
    policy = _load(
        tmp_path,
        policy_text(
            "Asia/Shanghai",
            [
                "n * n * n > 1000",
                "wait * 1.5 > 3h or wait / 7 < 1m or wait * x > 1h",
                "x / (n - n) > 0 or x * x > 0",
                "finish - start > wait and start + wait < finish",
                "n in [1, 2, 3, 4, 5, 6] or tier in [regular, key_account] or x in [n, 0.5]",
                'note contains "退" or note = "" or day is missing',
            ],
            ["flag and opt"],
            "any",
            "month of start",
        ),
    )
    base = {"flag": False, "start": "2024-01-31T23:59:59+08:00", "team": "a"}
    rows = [
        {**base, "id": 1, "n": 2**20, "x": 0.5, "wait": "PT1S"},
        {**base, "id": 2, "n": 3, "x": 1e308, "wait": 7 * 86400 + 1},
        {**base, "id": 3, "n": 0, "x": 2.5, "wait": "P1DT1S", "finish": "2024-02-01T00:00:00Z"},
        {**base, "id": 4, "n": 2**53 + 1, "x": -0.0, "note": "退款"},
        {
            **base,
            "id": 5,
            "n": -7,
            "x": 1.25,
            "wait": "-PT5M",
            "tier": "key_account",
            "day": "2024-02-29",
        },
        {**base, "id": 6, "start": "1985-06-01T00:00:00", "wait": "PT0.5H"},
        {**base, "id": 7, "flag": True, "opt": True, "note": ""},
        {**base, "id": 8, "start": "2024-02-01T00:00:00+08:00", "x": 3.0, "n": 5},
    ]
    path = tmp_path / "edge.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    with DuckEngine(policy) as e:
        assert duck_rows(e, path) == reference_rows(policy, path)
        assert_same_metrics(policy, e, {"R": path})


def test_datetime_differences_beyond_2_53_go_to_python(tmp_path: Path) -> None:
    """Two datetimes 300 years apart are more than 2^53 microseconds apart: DOUBLE would round
    the difference (here to the same value as one a microsecond shorter), so Python judges."""
    cond = "finish - start > finish - (start + 1s / 1000000)"
    policy = _load(tmp_path, policy_text("UTC", [cond], [], "any", "team"))
    base = {"flag": False, "team": "a"}
    rows = [
        {**base, "id": 1, "start": "1900-01-03T00:00:00Z", "finish": "2199-12-30T00:00:00Z"},
        {**base, "id": 2, "start": "2024-01-03T00:00:00Z", "finish": "2024-12-30T00:00:00Z"},
    ]
    path = tmp_path / "far.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    with DuckEngine(policy) as e:
        got = duck_rows(e, path)
        assert e.fallback_rows == 1
    assert got == reference_rows(policy, path)
    assert [valid for _, _, valid, *_ in got] == [True, True]


def test_files_only_python_reads(tmp_path: Path, hotline: Policy, engine: DuckEngine) -> None:
    """A lone carriage return, a quoted cell across lines, a JSON array, a missing file."""
    source = (EXAMPLES / "complaints.jsonl").read_text(encoding="utf-8").splitlines()
    cr = tmp_path / "cr.jsonl"
    cr.write_text(
        source[0] + "\r" + source[1] + "\n" + source[2] + "\n", encoding="utf-8", newline=""
    )
    assert duck_rows(engine, cr) == reference_rows(hotline, cr)
    csv_lines = (EXAMPLES / "complaints.csv").read_text(encoding="utf-8").splitlines()
    header = csv_lines[0].split(",")
    cells = csv_lines[1].split(",")
    cells[header.index("team")] = '"north\nand south"'
    multi = tmp_path / "multi.csv"
    multi.write_text(
        "\n".join([csv_lines[0], ",".join(cells), *csv_lines[2:5]]) + "\n", encoding="utf-8"
    )
    assert duck_rows(engine, multi) == reference_rows(hotline, multi)
    assert_same_metrics(hotline, engine, {"Complaint": multi})
    with pytest.raises(csdsl.InputError):
        list(engine.validate_file(tmp_path / "none.jsonl"))
    latin = tmp_path / "latin.jsonl"
    latin.write_bytes(source[0].encode() + b"\n" + '{"id": "caf\xe9"}'.encode("latin-1") + b"\n")
    got: list[tuple[Any, ...]] = []
    with pytest.raises(csdsl.InputError) as duck_error:
        for v in engine.validate_file(latin):
            got.append((v.line, v.id))
    want: list[tuple[Any, ...]] = []
    with pytest.raises(csdsl.InputError) as python_error:
        for r in hotline.validate_file(latin):
            want.append((r.line, r.id))
    assert got == want and str(duck_error.value) == str(python_error.value)


def test_duck_verdict_evidence_is_parsed_on_demand() -> None:
    v = DuckVerdict(3, "C-1", True, ("a",), '{"a": {"f": 1}}')
    assert v.evidence == {"a": {"f": 1}}
    assert DuckVerdict(3, "C-1", False, ()).evidence == {}


def test_metrics_mix_rows_sql_and_python_read(tmp_path: Path) -> None:
    """One group, some rows typed in SQL and some read by Python (unusual spellings): the first
    minimum and maximum, sums in file order, percentiles, ints and floats."""
    policy = _load(tmp_path, policy_text("UTC", ["flag"], [], "any", "team"))
    rows = [
        {"id": 1, "flag": True, "start": "2024-01-01T00:00:00Z", "team": "a", "n": 3, "x": 0.1},
        {
            "id": 2,
            "flag": True,
            "start": "2024-01-01T00:00:00Z",
            "team": "a",
            "n": 2,
            "x": 0.2,
            "wait": "30m2h",
        },
        {
            "id": 3,
            "flag": False,
            "start": "2024-01-02T00:00:00Z",
            "team": "a",
            "n": 3.0,
            "x": 1,
            "wait": "PT1H",
        },
        {
            "id": 4,
            "flag": True,
            "start": "2024-01-02T00:00:00Z",
            "team": "a",
            "n": 1,
            "x": 0.3,
            "wait": " 2h ",
        },
        {"id": 5, "flag": True, "start": "2024-01-02T00:00:00Z", "team": "a", "x": 1, "wait": 3600},
    ]
    path = tmp_path / "mix.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    with DuckEngine(policy) as e:
        assert duck_rows(e, path) == reference_rows(policy, path)
        assert 0 < e.fallback_rows < len(rows)
        assert_same_metrics(policy, e, {"R": path})


def test_an_open_iterator_survives_another_file(hotline: Policy) -> None:
    with DuckEngine(hotline) as e:
        rows = e.validate_file(EXAMPLES / "complaints.jsonl")
        first = [next(rows) for _ in range(3)]
        e.measure_files({"Complaint": EXAMPLES / "complaints.csv"})  # loads another file
        rest = list(rows)
        got = [(v.line, v.id, v.valid, v.matched) for v in (*first, *rest)]
        want = [r[:4] for r in reference_rows(hotline, EXAMPLES / "complaints.jsonl")]
        assert got == want


def test_metrics_over_several_record_types(hotline: Policy, engine: DuckEngine) -> None:
    files = {
        "Complaint": EXAMPLES / "complaints.jsonl",
        "Call": EXAMPLES / "calls.jsonl",
        "Inquiry": EXAMPLES / "inquiries.csv",
    }
    assert_same_metrics(hotline, engine, files)
    window: Window = ("received_at", dt.datetime(2024, 11, 1), None)  # Calls have no such field
    assert_same_metrics(hotline, engine, files, window)


def test_conditions_sql_cannot_compute_run_in_python(tmp_path: Path) -> None:
    """A datetime literal from before Shanghai's last change of offset: Python judges it all."""
    policy = _load(
        tmp_path,
        policy_text("Asia/Shanghai", ["start > 1988-06-01T12:00", "flag"], [], "any", "team"),
    )
    with DuckEngine(policy) as e:
        with pytest.raises(ValueError, match="cannot be run in SQL"):
            e.validity_sql("R")
        path = tmp_path / "r.jsonl"
        path.write_text(
            '{"id": 1, "flag": false, "start": "1988-06-01T12:00:01", "team": "a"}\n'
            '{"id": 2, "flag": true, "start": "2024-01-01T00:00:00Z", "team": "a"}\n',
            encoding="utf-8",
        )
        assert duck_rows(e, path) == reference_rows(policy, path)
        assert e.fallback_rows == 2
        assert_same_metrics(policy, e, {"R": path})


def test_duckdb_prints_no_progress_bar_of_its_own() -> None:
    # DuckDB draws a bar on stdout for queries over ~2 s, into the middle of `csdsl audit`'s
    # output (and into pipes); the audit has its own, on stderr, on a terminal only
    with DuckEngine(csdsl.load(HOTLINE)) as engine:
        (on,) = engine.con.execute("select current_setting('enable_progress_bar')").fetchone() or (
            None,
        )
    assert on is False

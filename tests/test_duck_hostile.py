"""Hostile data files read by the DuckDB engine exactly as by the Python reader (issue 14):
JSON nested thousands deep, lone surrogate escapes, integers of thousands of digits, `NaN` and
`Infinity`, CSV cells beyond the `csv` module's field limit, unterminated CSV quotes, lines
longer than DuckDB reads.  The same good rows and verdicts, the same bad rows at the same lines
with the same codes, and every row in is a good row or a bad row."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from _generated import policy_text
from hypothesis import HealthCheck, given, settings, strategies as st

import csdsl
from csdsl import duck_scan, ir, testing
from csdsl.api import Policy
from csdsl.duck import DuckEngine
from csdsl.engine_rows import evidence_of
from csdsl.records import InputError

ROOT = Path(__file__).resolve().parents[1]
ZONE = "Asia/Shanghai"

# ---- the policy, and both engines' rows ----------------------------------------------------------


@pytest.fixture(scope="module")
def policy_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("hostile") / "p.csp"
    text = policy_text(ZONE, ["n > 3", "x > 1.5", "flag"], ["opt"], "any", "team")
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def policy(policy_path: Path) -> Policy:
    return csdsl.load(policy_path)


@pytest.fixture(scope="module")
def engine(policy: Policy) -> Iterator[DuckEngine]:
    with DuckEngine(policy, threads=2) as e:
        yield e


Key = tuple[Any, ...]


def _error(code: str, message: str) -> tuple[str, str]:
    return (code, message)


def python_rows(policy: Policy, path: Path) -> list[Key] | str:
    """The Python engine's rows (line, id, valid, matched, evidence, error), or the one-line
    message of the `InputError` that stops the file."""
    out: list[Key] = []
    try:
        for r in policy.validate_file(path):
            if r.verdict is None:
                assert r.error is not None
                out.append((r.line, r.id, None, (), "{}", _error(r.error.code, r.error.message)))
            else:
                ev = json.dumps(evidence_of(r.verdict, policy.tz), ensure_ascii=False)
                out.append((r.line, r.id, r.verdict.valid, r.verdict.matched, ev, None))
    except InputError as exc:
        return f"InputError: {exc}"
    return out


def duckdb_rows(engine: DuckEngine, path: Path) -> list[Key] | str:
    out: list[Key] = []
    try:
        for v in engine.validate_file(path):
            error = None if v.error is None else _error(v.error.code, v.error.message)
            out.append((v.line, v.id, v.valid, v.matched, json.dumps(v.evidence), error))
    except InputError as exc:
        return f"InputError: {exc}"
    return out


def _canonical(rows: list[Key] | str) -> list[Key] | str:
    """Evidence compared as JSON values (both engines write it as JSON text)."""
    if isinstance(rows, str):
        return rows
    out = []
    for line, rid, valid, matched, evidence, error in rows:
        ev = json.loads(evidence)
        ev = json.loads(ev) if isinstance(ev, str) else ev
        out.append((line, rid, valid, tuple(matched), ev or {}, error))
    return out


def assert_same_rows(policy: Policy, engine: DuckEngine, path: Path, rows_in: int) -> None:
    expected = _canonical(python_rows(policy, path))
    got = _canonical(duckdb_rows(engine, path))
    assert got == expected
    assert not isinstance(expected, str), expected  # the hostile rows never stop the file
    good = sum(1 for r in expected if r[5] is None)
    bad = sum(1 for r in expected if r[5] is not None)
    assert good + bad == rows_in
    # the metrics' bad rows, and the metrics, agree too
    files = {"R": path}
    want, want_bad = policy.measure_files(files)
    have, have_bad = engine.measure_files(files)
    bad_key = [(p, r.line, r.id, r.error and r.error.code) for p, r in want_bad]
    assert [(p, r.line, r.id, r.error and r.error.code) for p, r in have_bad] == bad_key
    assert len(want_bad) == bad
    assert [json.dumps(m.to_json(), default=str) for m in have] == [
        json.dumps(m.to_json(), default=str) for m in want
    ]


# ---- hostile rows --------------------------------------------------------------------------------

GOOD = {
    "id": "G",
    "flag": True,
    "n": 5,
    "x": 2.5,
    "start": "2024-05-01T10:00:00+08:00",
    "team": "north",
}


def _line(obj: dict[str, Any], **raw: str) -> str:
    """A JSON object line, with some values spelled raw (as no `json.dumps` writes them)."""
    text = json.dumps(obj, ensure_ascii=False)
    for key, value in raw.items():
        text = text[:-1] + f', "{key}": {value}}}'
    return text


def _deep(depth: int) -> str:
    return "[" * depth + "]" * depth


def _digits(n: int) -> str:
    return "9" * n


@st.composite
def hostile_json_line(draw: st.DrawFn, i: int) -> str:
    """One hostile JSONL line of every kind issue 14 names, and their near misses."""
    base = {**GOOD, "id": f"H-{i}"}
    without = {k: v for k, v in base.items() if k not in ("n", "x", "team")}
    depth = draw(st.sampled_from([5, 101, 150, 999, 1100, 3000]))
    digits = draw(st.sampled_from([17, 400, 999, 1000, 4300, 4301, 5000]))
    constant = draw(st.sampled_from(["NaN", "Infinity", "-Infinity", "nan", "-inf"]))
    surrogate = draw(st.sampled_from(["\\ud800", "\\udfff", "\\uD83D", "\\ude00\\ud83d"]))
    pair = "\\ud83d\\ude00"
    space = draw(st.sampled_from(["\x0c", "\u00a0", "\u3000", "\x1c", "\ufeff", " \t"]))
    return draw(
        st.sampled_from(
            [
                _deep(depth),  # the whole line
                _line(base, extra=_deep(depth)),  # a key the record does not have
                _line(without, n=_deep(depth)),  # a field
                _line(base, extra="{" * depth + '"a": 1' + "}" * depth),
                _line(without, team=f'"a{surrogate}b"'),
                _line(base, extra=f'"{surrogate}"'),
                _line({**base, "id": None}, id=f'"{surrogate}"'),
                _line(base, **{"k\\ud800": "1"}),
                _line(without, team=f'"a{pair}b"'),  # a pair is a character
                _line(without, n=_digits(digits)),
                _line(without, x=_digits(digits)),
                _line(base, extra=_digits(digits)),
                _line(base, extra=f"-{_digits(digits)}.5e3"),
                _line({k: v for k, v in base.items() if k != "id"}, id=_digits(digits)),
                _line(without, x=constant),
                _line(base, extra=constant),
                _line({k: v for k, v in base.items() if k != "id"}, id=constant),
                _line(base, extra=f"[1, {constant}]"),
                _line(without, team=f'"{constant}"'),
                "42",
                '"text"',
                "[1, 2]",
                "null",
                "true",
                _line(base, n="1"),  # a repeated key: Python keeps the last
                _line(base, extra="1e999"),
                space + _line(base),
                _line(base) + space,
            ]
        )
    )


def _good_lines(record: ir.Record, policy: Policy) -> st.SearchStrategy[list[str]]:
    return testing.jsonl_lines(record, policy.tz)


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_hostile_jsonl_rows_read_as_python_reads_them(
    record_type: ir.Record,
    policy: Policy,
    engine: DuckEngine,
    tmp_path_factory: pytest.TempPathFactory,
    data: st.DataObject,
) -> None:
    lines = data.draw(_good_lines(record_type, policy), label="good")
    hostile = data.draw(
        st.lists(st.integers(0, 100).flatmap(hostile_json_line), min_size=1, max_size=4),
        label="hostile",
    )
    for k, line in enumerate(hostile):
        lines.insert(data.draw(st.integers(0, len(lines)), label=f"at{k}"), line)
    path = tmp_path_factory.mktemp("jsonl") / "r.jsonl"
    ending = data.draw(st.sampled_from(["\n", "\r\n"]), label="ending")
    path.write_text(ending.join(lines) + ending, encoding="utf-8", newline="")
    rows_in = sum(1 for line in lines if line.strip())
    assert_same_rows(policy, engine, path, rows_in)


def _csv_line(cells: list[Any]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow(["" if c is None else c for c in cells])
    return out.getvalue()


@st.composite
def hostile_csv_line(draw: st.DrawFn, header: list[str], i: int) -> str:
    """One hostile CSV line: a cell beyond the field limit (bare or quoted), a quote never
    closed, numbers of thousands of digits, `NaN` and `Infinity`, a row of the wrong width."""
    size = draw(st.sampled_from([131_072, 131_073, 140_000]))
    row: dict[str, Any] = {**GOOD, "id": f"H-{i}", "flag": "true"}
    field = draw(st.sampled_from(["team", "note", "x", "n", "id"]))
    value = draw(
        st.sampled_from(
            [
                "t" * size,
                "a,b" + "t" * size,  # quoted by the writer
                _digits(draw(st.sampled_from([400, 4301, 5000]))),
                draw(st.sampled_from(["NaN", "Infinity", "-inf", "1e999"])),
            ]
        )
    )
    row[field] = value
    cells = [row.get(h) for h in header]
    kind = draw(st.integers(0, 3))
    if kind == 0:  # a quote never closed, in the last cell
        return _csv_line(cells) + ',"never closed'
    if kind == 1:  # one cell too many
        return _csv_line([*cells, "more"])
    return _csv_line(cells)


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_hostile_csv_rows_read_as_python_reads_them(
    record_type: ir.Record,
    policy: Policy,
    engine: DuckEngine,
    tmp_path_factory: pytest.TempPathFactory,
    data: st.DataObject,
) -> None:
    header = ["id", *(f.name for f in record_type.fields)]
    records = data.draw(
        st.lists(testing.raw_records(record_type, policy.tz, True), min_size=1, max_size=8),
        label="good",
    )
    # one physical line each, without quotes: a quote never closed then runs to the end of the
    # file, and is one bad row (a quote in a later line would close it, making one row of two)
    plain = str.maketrans({"\n": " ", "\r": " ", '"': "'", ",": ";"})
    cells = [[str(r.get(h, "")).translate(plain) for h in header] for r in records]
    lines = [_csv_line(c) for c in cells]
    blank = [all(not c.strip() for c in row) for row in cells]
    hostile = data.draw(
        st.lists(
            st.integers(0, 100).flatmap(lambda i: hostile_csv_line(header, i)),
            min_size=1,
            max_size=3,
        ),
        label="hostile",
    )
    hostile.sort(key=lambda line: line.endswith('"never closed'))  # at most one, the last
    for k, line in enumerate(hostile):
        if line.endswith('"never closed'):
            if k < len(hostile) - 1:
                continue
            quoted = [i for i, other in enumerate(lines) if '"' in other]
            at = data.draw(st.integers(max(quoted, default=-1) + 1, len(lines)), label=f"at{k}")
        else:
            at = data.draw(st.integers(0, len(lines)), label=f"at{k}")
        lines.insert(at, line)
        blank.insert(at, False)
    path = tmp_path_factory.mktemp("csv") / "r.csv"
    ending = data.draw(st.sampled_from(["\n", "\r\n"]), label="ending")
    path.write_text(ending.join([_csv_line(header), *lines]) + ending, encoding="utf-8", newline="")
    assert_same_rows(policy, engine, path, blank.count(False))


# ---- what the pre-scan finds ---------------------------------------------------------------------


def test_a_hostile_line_leaves_the_others_to_sql(
    policy: Policy, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only the suspect lines go to Python (deep nesting, long digit runs, a long CSV line),
    also when the pre-scan reads the file in chunks that cut lines."""
    monkeypatch.setattr(duck_scan, "_CHUNK", 4096)
    good = [_line({**GOOD, "id": f"G-{i}"}) for i in range(200)]
    hostile = {
        17: _line({**GOOD, "id": "deep"}, extra=_deep(3000)),
        90: _line({**GOOD, "id": "digits"}, extra=_digits(4301)),
        91: _line({k: v for k, v in GOOD.items() if k != "id"}, id=_digits(4301)),
        150: _line({**GOOD, "id": "fine"}, extra=_deep(150)),  # Python reads it, and agrees
    }
    lines = [hostile.get(i, line) for i, line in enumerate(good)]
    path = tmp_path / "r.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert duck_scan.prescan(path, False).suspect == tuple(i + 1 for i in sorted(hostile))
    with DuckEngine(policy, threads=2) as e:
        got = _canonical(duckdb_rows(e, path))
        assert got == _canonical(python_rows(policy, path))
        assert e.fallback_rows == len(hostile)
    assert isinstance(got, list)
    bad = {r[0]: r[5] for r in got if r[5] is not None}
    assert set(bad) == {18, 91, 92}
    assert {error[0] for error in bad.values()} <= {"R001", "R004"}


@settings(max_examples=60, deadline=None)
@given(
    lines=st.lists(
        st.text(alphabet='[{]}0123456789ab"\r ,', max_size=40).map(lambda s: s.encode()),
        max_size=12,
    ),
    chunk=st.integers(1, 64),
    csv_file=st.booleans(),
    end=st.sampled_from([b"\n", b"\r\n", b""]),
)
def test_the_prescan_finds_each_suspect_line_whatever_the_chunks(
    lines: list[bytes], chunk: int, csv_file: bool, end: bytes
) -> None:
    """With small bounds, the pre-scan's answer is the line-by-line one, and the same whatever
    the size of the chunks it reads."""
    import tempfile

    bounds = {"_DEEP": 3, "_LONG_DIGITS": 4, "_LONG_CELL": 12, "_LONG_LINE": 30, "_MAX_SUSPECT": 5}
    text = b"\n".join(lines) + end
    with tempfile.TemporaryDirectory() as tmp, pytest.MonkeyPatch.context() as mp:
        for name, value in bounds.items():
            mp.setattr(duck_scan, name, value)
        path = Path(tmp) / "f"
        path.write_bytes(text)
        mp.setattr(duck_scan, "_CHUNK", 1 << 20)
        whole = duck_scan.prescan(path, csv_file)
        mp.setattr(duck_scan, "_CHUNK", chunk)
        cut = duck_scan.prescan(path, csv_file)
    # the same answer (when a file goes to Python for two reasons, the one found first is given)
    assert cut == whole or (cut.why is not None and whole.why is not None)
    physical = text.split(b"\n")
    if text.endswith(b"\n"):
        physical.pop()
    lone_cr = text.count(b"\r") != text.count(b"\r\n")
    long = any(len(line) > bounds["_LONG_LINE"] for line in physical)
    if lone_cr or long:
        assert whole.why is not None
        assert ("carriage return" in whole.why and lone_cr) or ("longer" in whole.why and long)
        return
    expected = []
    for n, line in enumerate(physical, 1):
        if csv_file:
            hit = len(line) > bounds["_LONG_CELL"]
        else:
            opens = line.count(b"[") + line.count(b"{")
            longest = max((len(run) for run in _digit_runs(line)), default=0)
            hit = opens > bounds["_DEEP"] or longest >= bounds["_LONG_DIGITS"]
        if hit:
            expected.append(n)
    if len(expected) > bounds["_MAX_SUSPECT"]:
        assert whole.why is not None and "lines need the Python reader" in whole.why
        return
    assert whole == duck_scan.Scan(None, csv_file and b'"' in text, tuple(expected))


def _digit_runs(line: bytes) -> list[bytes]:
    runs, run = [], b""
    for b in line:
        if 48 <= b <= 57:
            run += bytes([b])
        else:
            runs.append(run)
            run = b""
    return [*runs, run]


def test_a_line_longer_than_duckdb_reads_goes_to_python(
    policy: Policy, engine: DuckEngine, tmp_path: Path
) -> None:
    path = tmp_path / "r.jsonl"
    long = _line({**GOOD, "id": "long", "note": "x" * 2_100_000})
    path.write_text("\n".join([_line(GOOD), long, _line({**GOOD, "id": "G2"})]) + "\n")
    assert "longer than" in engine._source(path).reason
    assert _canonical(duckdb_rows(engine, path)) == _canonical(python_rows(policy, path))
    csv_path = tmp_path / "r.csv"
    csv_path.write_text("id,flag,start,team\n" + "x" * 140_000 + ",true,2024-05-01,a\n")
    assert engine._source(csv_path).suspect == (2,)
    header_long = tmp_path / "h.csv"
    header_long.write_text("id," + "y" * 140_000 + "\nA,1\n")
    assert engine._source(header_long).mode == "python"
    for p in (csv_path, header_long):
        assert _canonical(duckdb_rows(engine, p)) == _canonical(python_rows(policy, p))


# ---- the command line ----------------------------------------------------------------------------


def test_audit_with_either_engine_reports_the_same_rows(policy_path: Path, tmp_path: Path) -> None:
    """`csdsl audit --engine duckdb` on a file of every hostile kind: no traceback, and the same
    rows read, bad rows and verdicts as `--engine python`."""
    lines = [_line({**GOOD, "id": f"G-{i}", "n": i}) for i in range(30)]
    lines[3] = _deep(3000)
    lines[7] = _line({**GOOD, "id": "S"}, extra='"\\ud800"')
    lines[11] = _line({**GOOD, "id": "B"}, extra=_digits(4301))
    lines[13] = _line({**GOOD, "id": "N"}, extra="NaN")
    lines[17] = _line({**GOOD, "id": "D"}, extra=_deep(3000))
    records = tmp_path / "r.jsonl"
    records.write_text("\n".join(lines) + "\n", encoding="utf-8")
    reports = {}
    for name in ("python", "duckdb"):
        out = tmp_path / name
        proc = subprocess.run(
            [
                *(sys.executable, "-m", "csdsl", "audit", str(policy_path)),
                *("--records", str(records), "--engine", name, "--out", str(out)),
            ],
            capture_output=True,
            text=True,
            env={**os.environ, "CSDSL_NO_CACHE": "1"},
            cwd=tmp_path,
            timeout=300,
        )
        assert proc.returncode == 0, proc.stderr
        assert "Traceback" not in proc.stderr and "internal error" not in proc.stderr
        report = json.loads((out / "report.json").read_text(encoding="utf-8"))
        reports[name] = {k: report[k] for k in ("inputs", "summary", "validity", "bad_rows")}
    assert reports["duckdb"] == reports["python"]
    summary = reports["python"]["summary"]
    assert summary["records"] + summary["bad_rows"] == len(lines)
    assert summary["bad_rows"] == 5

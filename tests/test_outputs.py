"""Every output is strict, safe and honest (issue 14, items 6, 12, 13, 15 and the CLI's
inconsistencies): an unusable output path is a usage error, JSON is RFC 8259 (never `NaN` or
`Infinity`), a KPI that overflows is not applicable, nothing a record holds can act on the
terminal or fail to encode, and a policy that cannot be read is reported in JSON too."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from test_cli import DIAG_KEYS  # the keys of one diagnostic, as IO.md fixes them

from csdsl import report
from csdsl.cli import main

ROOT = Path(__file__).resolve().parents[1]
SEED = str(ROOT / "policies" / "complaint_validity.csp")
QA = str(ROOT / "policies" / "hotline_qa.csp")
# what must never reach a terminal raw: C0 but the line break, DEL, C1, bidi overrides/isolates
UNSAFE = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
HOSTILE = "x\u001b]0;HACKED\u0007\u001b[2J\u009b31m\u202eevil\u2066\r"

POLICY = """\
policy "outputs" version "2" effective 2024-11-01
timezone "Asia/Shanghai"

record Complaint {
  id: text
  received_at: datetime
  rude: bool
  amount: number
}

valid Complaint when any {
  rude "agent was rude": rude
}

deadline reply for Complaint {
  starts at received_at
  stops on replied
  within 2h
}

metric total "the amounts add up": sum(Complaint.amount) >= 0
"""


def _no_constant(name: str) -> Any:
    raise ValueError(f"not RFC 8259 JSON: {name}")


def strict(text: str) -> Any:
    """`text` parsed as strict JSON: `NaN`, `Infinity` and `-Infinity` are errors."""
    return json.loads(text, parse_constant=_no_constant)


def strict_lines(text: str) -> list[Any]:
    return [strict(line) for line in text.splitlines() if line.strip()]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert code in (0, 1, 2)
    assert "internal error" not in err and "Traceback" not in err
    return code, out, err


def write(tmp_path: Path, name: str, text: str) -> str:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return str(p)


def records(tmp_path: Path, rows: list[dict[str, Any]], name: str = "c.jsonl") -> str:
    text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
    return write(tmp_path, name, text)


def row(rid: Any, day: str = "2024-11-02", amount: Any = 1.5) -> dict[str, Any]:
    return {"id": rid, "received_at": f"{day}T10:00:00+08:00", "rude": True, "amount": amount}


# ---- item 6: an output path that cannot be written -----------------------------------------


def _targets(tmp_path: Path) -> dict[str, str]:
    afile = tmp_path / "afile"
    afile.write_text("keep me\n", encoding="utf-8")
    return {"file": str(afile), "under_file": str(afile / "sub"), "proc": "/proc/x/y"}


@pytest.mark.parametrize("where", ["file", "under_file", "proc"])
def test_audit_out_that_cannot_be_a_directory_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, where: str
) -> None:
    out = _targets(tmp_path)[where]
    data = records(tmp_path, [row("a")])
    code, stdout, err = run(capsys, "audit", SEED, "--records", data, "--out", out)
    assert code == 2 and stdout == ""
    assert err.count("\n") == 1 and err.startswith(f"csdsl: --out {out}: ")
    assert (tmp_path / "afile").read_text(encoding="utf-8") == "keep me\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile", "c.jsonl"]


@pytest.mark.parametrize("verb", ["compile", "doc"])
@pytest.mark.parametrize("where", ["file_dir", "under_file", "proc"])
def test_output_file_that_cannot_be_written_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, verb: str, where: str
) -> None:
    targets = _targets(tmp_path)
    out = {"file_dir": str(tmp_path), **targets}[where]
    extra = ["--target", "json"] if verb == "compile" else []
    code, stdout, err = run(capsys, verb, SEED, *extra, "-o", out)
    assert code == 2 and stdout == ""
    assert err.count("\n") == 1 and err.startswith(f"csdsl: -o {out}: cannot write: ")
    assert (tmp_path / "afile").read_text(encoding="utf-8") == "keep me\n"


def test_audit_out_is_created_when_it_can_be(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    out = tmp_path / "new" / "deeper"
    data = records(tmp_path, [row("a")])
    code, _, _ = run(capsys, "audit", SEED, "--records", data, "--out", str(out))
    assert code == 0 and (out / "report.json").is_file()


# ---- item 13: strict JSON; a KPI that overflows is not applicable -------------------------


@pytest.mark.parametrize("engine", ["python", "duckdb"])
def test_overflowing_sum_is_not_applicable_and_json_is_strict(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, engine: str
) -> None:
    policy = write(tmp_path, "p.csp", POLICY)
    data = records(tmp_path, [row("a", amount=1e308), row("b", amount=1e308)])
    out = tmp_path / "out"
    code, stdout, _ = run(
        capsys,
        "audit",
        "--format",
        "json",
        policy,
        "--records",
        data,
        "--out",
        str(out),
        "--engine",
        engine,
    )
    assert code == 0
    assert strict(stdout)["summary"]["kpis"] == {"pass": 0, "fail": 0, "not_applicable": 1}
    report = strict((out / "report.json").read_text(encoding="utf-8"))
    (kpi,) = report["kpis"]
    assert kpi["status"] == "not_applicable" and kpi["value"] is None
    assert kpi["reason"] == "`sum(Complaint.amount)` overflowed: too large to compute"
    assert [p["value"] for p in kpi["parts"]] == [None]
    strict_lines((out / "findings.jsonl").read_text(encoding="utf-8"))
    assert "overflowed" in (out / "report.md").read_text(encoding="utf-8")


def test_a_ratio_that_overflows_is_not_applicable(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    policy = write(
        tmp_path,
        "p.csp",
        POLICY.replace(
            "sum(Complaint.amount) >= 0",
            "sum(Complaint.amount) / count(Complaint where rude) * 10000000000 <= 10",
        ),
    )
    data = records(tmp_path, [row("a", amount=1e300)])
    out = tmp_path / "out"
    code, _, _ = run(capsys, "audit", policy, "--records", data, "--out", str(out))
    assert code == 0
    (kpi,) = strict((out / "report.json").read_text(encoding="utf-8"))["kpis"]
    assert kpi["status"] == "not_applicable" and "overflowed" in kpi["reason"]
    assert [p["value"] for p in kpi["parts"]] == [1e300, 1]


def test_validate_json_never_echoes_nan(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    data = write(
        tmp_path,
        "nan.jsonl",
        '{"id": NaN, "received_at": "2024-11-02T10:00:00+08:00", "rude": true, "amount": 1}\n'
        '{"id": Infinity, "received_at": "2024-11-02T10:00:00+08:00", "rude": true, '
        '"amount": -Infinity}\n',
    )
    policy = write(tmp_path, "p.csp", POLICY)
    code, out, _ = run(capsys, "validate", "--format", "json", policy, data)
    assert code == 0 and len(strict_lines(out)) == 2


def test_dumps_is_strict_and_printable() -> None:
    text = report.dumps(
        {"a": float("nan"), "b": [float("inf"), -float("inf")], "c": HOSTILE + "\ud800"}
    )
    assert strict(text) == {"a": None, "b": [None, None], "c": HOSTILE + "\ud800"}
    assert UNSAFE.search(text) is None
    text.encode("utf-8")  # a lone surrogate is an escape, not a character that cannot encode


# ---- item 15: nothing a record holds can act on the terminal -------------------------------


def assert_safe(text: str) -> None:
    assert UNSAFE.search(text) is None, repr(UNSAFE.search(text))


def test_printable_escapes_controls_but_not_line_breaks() -> None:
    printable = report.printable
    assert printable("a\nb") == "a\nb"
    assert printable("等待客户") == "等待客户"
    assert printable(HOSTILE) == (
        "x\\u001b]0;HACKED\\u0007\\u001b[2J\\u009b31m\\u202eevil\\u2066\\r"
    )
    assert printable("\t\x7f\ud800") == "\\t\\u007f\\ud800"


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_validate_and_timeline_escape_record_ids(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, fmt: str
) -> None:
    policy = write(tmp_path, "p.csp", POLICY)
    bad = {"id": HOSTILE + "bad", "received_at": "never", "rude": True, "amount": 1}
    data = records(tmp_path, [row(HOSTILE), bad])
    events = records(
        tmp_path,
        [{"case": HOSTILE, "at": "2024-11-02T11:00:00+08:00", "event": "replied"}],
        "e.jsonl",
    )
    for argv in (
        ("validate", "--format", fmt, policy, data),
        ("validate", "--explain", "--format", fmt, policy, data),
        ("timeline", "--format", fmt, policy, data, "--events", events),
    ):
        code, out, err = run(capsys, *argv)
        assert code == 0 and "HACKED" in out
        assert_safe(out)
        assert_safe(err)
        if fmt == "json":
            ids = [obj["id"] for obj in strict_lines(out)]
            assert ids == [HOSTILE, HOSTILE + "bad"]  # escaped on screen, the same value parsed


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_transcripts_escape_ids_and_texts(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, fmt: str
) -> None:
    transcript = {
        "id": HOSTILE,
        "started_at": "2024-10-01T10:16:41+08:00",
        "turns": [
            {"speaker": "agent", "text": f"你好{HOSTILE}，一般是这样", "start": 0.3, "end": 5.2},
            {"speaker": "customer", "text": HOSTILE, "start": 5.5, "end": 6.0},
        ],
    }
    data = records(tmp_path, [transcript], "t.jsonl")
    code, out, err = run(capsys, "transcripts", "--format", fmt, QA, data)
    assert code == 0 and "HACKED" in out
    assert_safe(out)
    assert_safe(err)
    if fmt == "json":
        assert strict_lines(out)[0]["id"] == HOSTILE


def test_check_escapes_the_source_line(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = write(
        tmp_path, "esc.csp", f"record R {{ a: bool }}\nvalid R when any {{ x{HOSTILE}: a }}\n"
    )
    code, out, _ = run(capsys, "check", path)
    assert code == 1 and "HACKED" in out
    assert_safe(out)


def test_lone_surrogates_never_crash_an_output(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    policy = write(tmp_path, "p.csp", POLICY)
    data = write(
        tmp_path,
        "s.jsonl",
        '{"id": "\\ud800", "received_at": "2024-11-02T10:00:00+08:00", "rude": true, '
        '"amount": 1}\n'
        '{"id": "ok", "received_at": "2024-11-02T10:00:00+08:00", "rude": "\\udfff", '
        '"amount": 1}\n',
    )
    for fmt in ("text", "json"):
        code, out, err = run(capsys, "validate", "--format", fmt, policy, data)
        assert code == 0
        assert_safe(out)
        assert_safe(err)
        if fmt == "json":
            assert len(strict_lines(out)) == 2
    hostile = records(tmp_path, [row(HOSTILE), {**row("x"), "received_at": HOSTILE}], "h.jsonl")
    for rows in (data, hostile):
        out_dir = tmp_path / Path(rows).stem
        code, _, _ = run(capsys, "audit", policy, "--records", rows, "--out", str(out_dir))
        assert code == 0
        for name in ("report.json", "report.md", "report.html", "findings.jsonl"):
            text = (out_dir / name).read_text(encoding="utf-8")  # written, and valid UTF-8
            assert_safe(text)
            if name.endswith("json"):
                strict(text)
            elif name.endswith("jsonl"):
                strict_lines(text)
    assert "HACKED" in (tmp_path / "h" / "report.md").read_text(encoding="utf-8")


# ---- the command line's inconsistencies ----------------------------------------------------


def test_check_json_reports_a_missing_file_as_a_diagnostic(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    missing = str(tmp_path / "nope.csp")
    code, out, err = run(capsys, "check", "--format", "json", missing, SEED)
    assert code == 2 and "no such file" in err
    (d,) = strict(out)
    assert set(d) == DIAG_KEYS
    assert (d["file"], d["severity"], d["code"]) == (missing, "error", "E204")
    assert "no such file" in d["message"]


BROKEN = "record R { a: bool }\nvalid R when any { x: a == true }\n"


@pytest.mark.parametrize("verb", ["validate", "timeline", "explain"])
def test_json_verbs_print_the_diagnostics_of_a_broken_policy(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, verb: str
) -> None:
    policy = write(tmp_path, "bad.csp", BROKEN)
    data = records(tmp_path, [{"a": True}])
    code, out, err = run(capsys, verb, "--format", "json", policy, data)
    assert code == 2 and "does not compile" in err
    (diags,) = strict_lines(out)
    assert [(d["code"], d["line"]) for d in diags] == [("E104", 2)]
    assert all(set(d) == DIAG_KEYS for d in diags)


def test_test_and_verify_json_carry_the_diagnostics(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    policy = write(tmp_path, "bad.csp", BROKEN)
    for verb in ("test", "verify"):
        code, out, _ = run(capsys, verb, "--format", "json", policy, SEED)
        assert code == 2
        summary = strict(out)
        assert summary["not_compiled"] == [policy]
        assert [(d["file"], d["code"]) for d in summary["diagnostics"]] == [(policy, "E104")]


def test_diff_json_prints_the_diagnostics(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    policy = write(tmp_path, "bad.csp", BROKEN)
    code, out, _ = run(capsys, "diff", "--format", "json", SEED, policy)
    assert code == 2
    (diags,) = strict_lines(out)
    assert [d["code"] for d in diags] == ["E104"]


@pytest.mark.parametrize("target", ["json", "python"])
@pytest.mark.parametrize("dialect", ["duckdb", "postgres"])
def test_dialect_without_sql_target_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], target: str, dialect: str
) -> None:
    code, out, err = run(capsys, "compile", SEED, "--target", target, "--dialect", dialect)
    assert (code, out) == (2, "")
    assert err == f"csdsl: --dialect is for --target sql, not --target {target}\n"


# ---- item 12: rows from before the first version, in both engines --------------------------


@pytest.mark.parametrize("suffix", ["jsonl", "csv"])
def test_before_first_version_agrees_across_engines(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, suffix: str
) -> None:
    policy = write(tmp_path, "p.csp", POLICY)
    rows = [
        row("a", "2024-10-30"),
        {**row("b"), "received_at": "2024-10-31T23:30:00+08:00"},
        {**row("c"), "received_at": "2024-10-31T16:30:00Z"},  # 00:30 on Nov 1st in Shanghai
        row("d", "2024-11-02"),
        {**row("e"), "received_at": "not a date"},  # a bad row: not counted
        {**row("f"), "received_at": "2024-10-29T10:00:00"},  # naive: in the policy's zone
    ]
    if suffix == "csv":
        lines = ["id,received_at,rude,amount"]
        lines += [f"{r['id']},{r['received_at']},true,{r['amount']}" for r in rows]
        data = write(tmp_path, "c.csv", "\n".join(lines) + "\n")
    else:
        data = records(tmp_path, rows)
    got = {}
    for engine in ("python", "duckdb"):
        out = str(tmp_path / f"out_{engine}")
        code, stdout, _ = run(
            capsys,
            *("audit", "--format", "json", policy, "--records", data, "--out", out),
            *("--engine", engine),
        )
        assert code == 0
        got[engine] = strict(stdout)["summary"]["before_first_version"]
    assert got == {"python": 3, "duckdb": 3}


@pytest.mark.parametrize("engine", ["python", "duckdb"])
def test_durations_past_timedeltas_range_are_not_applicable(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, engine: str
) -> None:
    policy = write(
        tmp_path,
        "d.csp",
        'policy "d" timezone "Asia/Shanghai"\nrecord Call {\n  id: text\n  wait: duration\n}\n'
        'metric waits "total wait": sum(Call.wait) <= 48h\n'
        'metric mean_wait "mean wait": mean(Call.wait) <= 48h\n',
    )
    data = records(
        tmp_path, [{"id": "a", "wait": "P900000000D"}, {"id": "b", "wait": "P900000000D"}]
    )
    out = tmp_path / "out"
    code, _, _ = run(
        capsys, "audit", policy, "--records", data, "--out", str(out), "--engine", engine
    )
    assert code == 0
    kpis = strict((out / "report.json").read_text(encoding="utf-8"))["kpis"]
    assert [(k["status"], k["value"]) for k in kpis] == [("not_applicable", None)] * 2
    assert all("overflowed" in k["reason"] for k in kpis)

"""The command line: verbs, output shapes and exit codes as IO.md fixes them."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import csdsl
from csdsl.cli import main

ROOT = Path(__file__).resolve().parents[1]
SEED = str(ROOT / "policies" / "complaint_validity.csp")
JSONL = str(ROOT / "examples" / "complaints.jsonl")
CSV = str(ROOT / "examples" / "complaints.csv")
DIAG_KEYS = {
    "file",
    "line",
    "column",
    "end_line",
    "end_column",
    "severity",
    "code",
    "message",
    "hint",
    "fixes",  # not in IO.md: an extension (issue 18), the certain repairs `check --fix` applies
}


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def write(tmp_path: Path, name: str, text: str) -> str:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return str(p)


def test_check_clean_policy(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "check", SEED)
    assert code == 0
    assert out.strip() == "1 file checked: 0 errors, 0 warnings"
    code, out, _ = run(capsys, "check", SEED, "--format", "json")
    assert (code, json.loads(out)) == (0, [])


def test_check_reports_errors_with_location(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    bad = write(tmp_path, "bad.csp", "record R { a: bool }\nvalid R when any { x: a == true }\n")
    code, out, _ = run(capsys, "check", bad)
    assert code == 1
    assert f"{bad}:2:25: error[E104]: `==` is not an operator" in out
    assert "hint: use a single `=`" in out and "^^" in out
    code, out, _ = run(capsys, "check", "--format", "json", bad)
    (d,) = json.loads(out)
    assert code == 1 and set(d) == DIAG_KEYS
    assert (d["line"], d["column"], d["severity"], d["code"]) == (2, 25, "error", "E104")


def test_warnings_do_not_fail_check(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = write(tmp_path, "w.csp", "record R { a: bool }\nvalid R when any { x: a and not a }\n")
    code, out, _ = run(capsys, "check", path)
    assert code == 0 and "warning[W401]" in out


def test_check_missing_file_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "check", "no/such/file.csp")
    assert code == 2 and "no such file" in err


def test_fmt_check_and_rewrite(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    messy = write(tmp_path, "m.csp", "record R{a:bool  # 注释\n}\nvalid R when any{x：a}\n")
    code, out, _ = run(capsys, "fmt", "--check", messy)
    assert code == 1 and "would reformat" in out
    assert Path(messy).read_text(encoding="utf-8").startswith("record R{")
    code, out, _ = run(capsys, "fmt", messy)
    assert code == 0 and "reformatted" in out
    assert Path(messy).read_text(encoding="utf-8") == (
        "record R {\n  a: bool  # 注释\n}\n\nvalid R when any {\n  x: a\n}\n"
    )
    assert run(capsys, "fmt", "--check", messy)[0] == 0


def test_fmt_refuses_a_file_that_does_not_parse(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    broken = write(tmp_path, "b.csp", "record R { a: bool\n")
    original = Path(broken).read_text(encoding="utf-8")
    code, _, err = run(capsys, "fmt", broken)
    assert code == 2 and "E106" in err
    assert Path(broken).read_text(encoding="utf-8") == original


def test_fmt_stdin_to_stdout(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("record R{a:bool}"))
    code, out, _ = run(capsys, "fmt", "-")
    assert (code, out) == (0, "record R {\n  a: bool\n}\n")


def test_validate_jsonl_output(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "validate", SEED, JSONL, "--format", "json")
    assert code == 0
    lines = [json.loads(x) for x in out.splitlines()]
    assert len(lines) == 248
    good = [x for x in lines if "error" not in x]
    bad = [x for x in lines if "error" in x]
    assert all(set(x) == {"id", "valid", "matched", "line"} for x in good)
    assert all(set(x) == {"id", "line", "error"} for x in bad)
    assert all(set(x["error"]) == {"code", "message", "field"} for x in bad)
    assert [x["line"] for x in bad] == [5, 35, 50, 92, 123, 163, 211, 240]
    assert err.strip() == "248 rows read: 240 good, 8 bad; 84 valid, 156 invalid"


def test_validate_text_and_explain(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "validate", SEED, CSV, "--explain")
    assert code == 0
    assert "line 62  C-20241108-0006  error  R005" in out
    assert "complaint_validity.csp:" in out and "feedback_form_delay=" in out
    code, out, _ = run(capsys, "validate", SEED, CSV, "--explain", "--format", "json")
    first = json.loads(out.splitlines()[0])
    assert {w["condition"] for w in first["why"]} >= {"rude_attitude", "ignition_late"}
    assert all(set(w) == {"condition", "outcome", "clause", "values"} for w in first["why"])


def test_validate_stdin(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    first = Path(JSONL).read_text(encoding="utf-8").splitlines()[0]
    monkeypatch.setattr("sys.stdin", io.StringIO(first + "\n"))
    code, out, _ = run(capsys, "validate", SEED, "-", "--format", "json")
    assert code == 0 and json.loads(out)["line"] == 1


def test_validate_usage_errors(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert run(capsys, "validate", SEED, str(tmp_path / "none.jsonl"))[0] == 2
    assert run(capsys, "validate", SEED, write(tmp_path, "r.txt", "x"))[0] == 2
    bad = write(tmp_path, "bad.csp", "record R { a: bool }\nvalid R when any { x: b }\n")
    code, _, err = run(capsys, "validate", bad, JSONL)
    assert code == 2 and "E201" in err and "does not compile" in err
    assert run(capsys, "validate", SEED, JSONL, "--record", "Nope")[0] == 2
    assert run(capsys, "nonsense")[0] == 2


def test_test_verb(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, _ = run(capsys, "test", SEED)
    assert code == 0
    assert out.splitlines()[-1] == "20 passed, 0 failed"
    wrong = tmp_path / "wrong.csp"
    shutil.copy(SEED, wrong)
    text = wrong.read_text(encoding="utf-8").replace(
        "expect valid because rude_attitude\n", "expect valid because data_loss\n"
    )
    wrong.write_text(text, encoding="utf-8")
    code, out, _ = run(capsys, "test", str(wrong))
    assert code == 1
    assert out.splitlines()[-1] == "19 passed, 1 failed"
    assert "did not match `data_loss`; also matched `rude_attitude`" in out
    code, out, _ = run(capsys, "test", str(wrong), "--format", "json")
    report = json.loads(out)
    assert (report["passed"], report["failed"]) == (19, 1)


def test_fmt_check_on_stdin(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("record R{a:bool}"))
    code, out, _ = run(capsys, "fmt", "--check", "-")
    assert (code, out) == (1, "would reformat <stdin>\n")
    monkeypatch.setattr("sys.stdin", io.StringIO("record R {\n  a: bool\n}\n"))
    assert run(capsys, "fmt", "--check", "-")[:2] == (0, "")


def test_test_runs_every_file_even_after_one_that_does_not_compile(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    broken = write(tmp_path, "broken.csp", "record R { a: bool\n")
    code, out, err = run(capsys, "test", broken, SEED)
    assert code == 2 and "E106" in err
    assert out.splitlines()[-1] == "20 passed, 0 failed"
    assert f"not run: {broken} (does not compile)" in out
    code, out, _ = run(capsys, "check", broken, "missing.csp")
    assert code == 2 and out.splitlines()[-1] == "1 file checked: 1 error, 0 warnings"


# ---- compile -------------------------------------------------------------------------------


def test_compile_each_target_to_stdout_and_to_a_file(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, out, _ = run(capsys, "compile", SEED, "--target", "python")
    assert code == 0 and out.startswith('"""A standalone checker generated by csdsl')
    compile(out, "checker.py", "exec")  # valid Python
    code, out, _ = run(capsys, "compile", SEED, "--target", "json")
    assert code == 0 and json.loads(out)["policy"]["name"] == "客服人员行为规范：投诉成立"
    for dialect in ("duckdb", "postgres", "spark"):
        code, out, _ = run(capsys, "compile", SEED, "--target", "sql", "--dialect", dialect)
        assert code == 0 and 'CREATE OR REPLACE VIEW "Complaint_validity"' in out.replace("`", '"')
    target = tmp_path / "out" / "checker.py"
    code, out, err = run(capsys, "compile", SEED, "--target", "python", "-o", str(target))
    assert code == 0 and out == "" and f"wrote {target}" in err
    assert target.read_text(encoding="utf-8").startswith('"""A standalone checker')


def test_compile_usage_errors(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run(capsys, "compile", SEED, "--target", "python", "--dialect", "spark")
    assert code == 2 and "--dialect is for --target sql" in err
    code, _, err = run(capsys, "compile", SEED)
    assert code == 2 and "--target" in err
    bad = write(tmp_path, "bad.csp", 'policy "p" timezone "UTC"\nrecord {\n')
    code, out, err = run(capsys, "compile", bad, "--target", "json")
    assert code == 2 and out == "" and "does not compile" in err
    deep = tmp_path / "a" / "b" / "ir.json"
    code, _, err = run(capsys, "compile", SEED, "--target", "json", "-o", str(deep))
    assert code == 0 and deep.exists()  # parent directories are made
    blocker = tmp_path / "file"
    blocker.write_text("", encoding="utf-8")
    code, _, err = run(capsys, "compile", SEED, "--target", "json", "-o", str(blocker / "x.json"))
    assert code == 2 and "cannot write" in err


def test_compile_sql_refuses_what_sql_cannot_say(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Working-time arithmetic has no SQL form: exit 2 naming the clause, and no SQL."""
    policy = write(
        tmp_path,
        "dst.csp",
        'policy "p" timezone "America/New_York"\n'
        "record A { a: datetime\n  b: datetime }\n"
        "valid A when any {\n  late: b - a > 4h\n}\n",
    )
    code, out, err = run(capsys, "compile", policy, "--target", "sql")
    assert code == 2 and out == ""
    assert "dst.csp:5" in err and "has no duckdb SQL form" in err


# ---- doc, explain, diff ----------------------------------------------------------------------


def test_doc_writes_html_or_markdown(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, _ = run(capsys, "doc", SEED)
    assert code == 0 and out.startswith("<!doctype html>") and "rude_attitude" in out
    target = tmp_path / "validity.md"
    code, out, err = run(capsys, "doc", SEED, "-o", str(target))
    assert code == 0 and out == "" and "wrote" in err
    text = target.read_text(encoding="utf-8")
    first = csdsl.load(SEED).ir.validities[0].conditions[0].span.line  # rude_attitude
    assert (
        text.startswith("# 客服人员行为规范：投诉成立")
        and f"complaint_validity.csp:{first}" in text
    )
    code, out, _ = run(capsys, "doc", SEED, "--format", "md")
    assert code == 0 and out == text


def test_explain_a_line_of_a_file_or_an_inline_record(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = run(capsys, "explain", SEED, f"{JSONL}:2")
    assert code == 0 and out.startswith("Complaint C-20241029-0002: valid because ignition_late")
    assert "what would change the outcome:" in out
    code, out, _ = run(capsys, "explain", SEED, f"{JSONL}:1", "--format", "json")
    data = json.loads(out)
    assert data["id"] == "C-20241029-0001" and data["valid"] is False and data["flips"]
    line = Path(JSONL).read_text(encoding="utf-8").splitlines()[1]
    code, out, _ = run(capsys, "explain", SEED, line)
    assert code == 0 and "valid because ignition_late" in out


def test_explain_bad_input_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, _, err = run(capsys, "explain", SEED, f"{JSONL}:999")
    assert code == 2 and "not line 999" in err
    code, _, err = run(capsys, "explain", SEED, "{not json")
    assert code == 2 and "not valid JSON" in err
    code, _, err = run(capsys, "explain", SEED, '{"id": "x", "agent_rude": "yes"}')
    assert code == 2 and "csdsl:" in err and "Traceback" not in err
    code, _, err = run(capsys, "explain", SEED, f"{JSONL}:5")  # a bad row of the export
    assert code == 2 and f"{JSONL}:5: R004 `agent_rude`: expected true or false" in err
    code, _, err = run(capsys, "explain", SEED, str(tmp_path / "nope.json"))
    assert code == 2 and "no such file" in err


def test_diff_names_the_changed_clauses_and_gives_witnesses(
    capsys: pytest.CaptureFixture[str],
) -> None:
    v1, v2 = (str(ROOT / "examples" / "diff" / f"complaint_v{i}.csp") for i in (1, 2))
    events = str(ROOT / "examples" / "complaint_events.jsonl")
    code, out, _ = run(capsys, "diff", v1, v2, "--records", JSONL, "--events", events)
    assert code == 0 and "clauses: 0 added, 1 removed, 3 changed" in out
    assert "removed  condition feedback_late" in out and f"({JSONL}:2)" in out
    code, out, _ = run(capsys, "diff", v1, v2, "--format", "json", "--max-examples", "50")
    data = json.loads(out)
    assert {c["name"] for c in data["clauses"]} >= {"feedback_late", "reply", "manager_reply"}
    assert data["witnesses"] and all(w["source"] == "generated" for w in data["witnesses"])
    code, _, err = run(capsys, "diff", v1, v2, "--records", "Nope=x.jsonl")
    assert code == 2 and "csdsl:" in err


# --- what a run imports (start-up time: benchmarks/bench_startup.py) -------------------------
# third-party packages only some verbs need: the SQL engine, the HTML templates, the terminal
# progress bar, Hypothesis (verify, diff), the holiday tables
_HEAVY = ("duckdb", "sqlglot", "jinja2", "rich", "hypothesis", "holidays", "pyarrow")


def _modules_after(code: str) -> set[str]:
    """The modules a fresh interpreter holds after running `code` (with this tree's csdsl)."""
    probe = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    path = os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")])
    done = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": path, "CSDSL_NO_CACHE": "1"},
    )
    return {
        m.split(".")[0] if not m.startswith("csdsl") else m
        for m in json.loads(done.stdout.splitlines()[-1])
    }


def test_importing_the_command_line_imports_no_verb_s_machinery() -> None:
    """`import csdsl.cli` (what every run pays) imports none of the heavy third-party packages,
    nor the parser, the IR, the engines or the records readers: each verb imports its own."""
    loaded = _modules_after("import csdsl.cli")
    assert not loaded & {*_HEAVY, "lark", "opencc", "ahocorasick"}
    assert not loaded & {"csdsl.api", "csdsl.ir", "csdsl.records", "csdsl.syntax.ast"}


def test_check_imports_what_checking_needs_only() -> None:
    """`csdsl check` parses and checks: none of the heavy packages, the engines, importers,
    reports or code generators."""
    loaded = _modules_after(
        "from csdsl.cli import main\n"
        f"assert main(['check', {str(ROOT / 'policies' / 'hotline.csp')!r}]) == 0"
    )
    assert "lark" in loaded and "csdsl.check" in loaded  # it did check
    assert not loaded & set(_HEAVY)
    engines = ("csdsl.api", "csdsl.auditor", "csdsl.duck", "csdsl.importers", "csdsl.codegen")
    assert not [m for m in loaded if m.startswith((*engines, "csdsl.doc", "csdsl.report."))]

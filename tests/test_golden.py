"""Golden files: every bad policy's diagnostics and every good policy's canonical layout.

`tests/golden/bad/NAME.csp` must produce exactly `NAME.expected` (the text `csdsl check` prints:
file:line:col, severity, code, message, the source line with a caret, the hint).
`tests/golden/good/NAME.csp` must check without errors, pass its examples, and format to
`NAME.formatted`.
`tests/golden/fix/NAME.csp` (one or more per diagnostic code that carries a fix; NAME starts
with the code) must be rewritten by `csdsl check --fix` to `NAME.fixed`, printing
`NAME.expected` (the exit code, then standard output), and a second `--fix` changes nothing.
A few good policies must also compile (`csdsl compile --target python`) to exactly
`NAME.python`, `CSDSL_VERSION` masked: the generator's modules can be reorganised without
changing one byte of what they write.
Refresh after a deliberate change with `pytest tests/test_golden.py
--update-golden` and review the diff.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import csdsl
from csdsl.check import compile_file
from csdsl.cli import main
from csdsl.codegen.python import generate
from csdsl.diagnostics import render_all
from csdsl.source import SourceFile
from csdsl.syntax.format import format_module
from csdsl.syntax.parse import parse

GOLDEN = Path(__file__).parent / "golden"
BAD = sorted((GOLDEN / "bad").glob("*.csp"))
GOOD = sorted((GOLDEN / "good").glob("*.csp"))
FIX = sorted((GOLDEN / "fix").glob("*.csp"))
# conditions of both quantifiers and `unless`, Chinese names, deadlines and calendars, transcripts
PYTHON = [
    GOLDEN / "good" / f"{name}.csp"
    for name in ("all_with_unless", "chinese_identifiers", "time_full_policy", "transcript_rules")
]


def _compare(expected_path: Path, actual: str, update: bool) -> None:
    if update:
        expected_path.write_text(actual, encoding="utf-8")
        return
    assert expected_path.exists(), f"{expected_path} is missing: run with --update-golden"
    assert actual == expected_path.read_text(encoding="utf-8")


def test_enough_bad_cases() -> None:
    assert len(BAD) >= 40


@pytest.mark.parametrize("path", BAD, ids=lambda p: p.stem)
def test_bad(path: Path, in_root: Path, update_golden: bool) -> None:
    rel = path.relative_to(in_root).as_posix()
    compiled = compile_file(rel)
    assert compiled.diagnostics, f"{rel} is meant to be bad but has no diagnostic"
    for d in compiled.diagnostics:
        assert d.hint, f"{d.code} has no hint"
        assert d.message == d.message.strip() and "\n" not in d.message
        assert not d.message.endswith("."), "messages have no final period"
        assert d.message[:1] == d.message[:1].lower() or d.message[:1] in "`\"'"
    _compare(
        path.with_suffix(".expected"),
        render_all(compiled.diagnostics, compiled.sources) + "\n",
        update_golden,
    )


@pytest.mark.parametrize("path", GOOD, ids=lambda p: p.stem)
def test_good(path: Path, in_root: Path, update_golden: bool) -> None:
    rel = path.relative_to(in_root).as_posix()
    compiled = compile_file(rel)
    errors = [d for d in compiled.diagnostics if d.is_error]
    assert not errors, render_all(errors, compiled.sources)
    module, _ = parse(SourceFile.read(rel))
    assert module is not None
    _compare(path.with_suffix(".formatted"), format_module(module), update_golden)


@pytest.mark.parametrize("path", FIX, ids=lambda p: p.stem)
def test_fix(
    path: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    update_golden: bool,
) -> None:
    original = path.read_text(encoding="utf-8")
    work = tmp_path / path.name
    work.write_text(original, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    code = main(["check", "--fix", path.name])
    out = capsys.readouterr().out
    fixed = work.read_text(encoding="utf-8")
    wanted = path.stem.split("_")[0].upper()
    assert f": fixed {wanted}: " in out, f"{path.name} is meant to show a fix of {wanted}"
    assert fixed != original
    _compare(path.with_suffix(".fixed"), fixed, update_golden)
    _compare(path.with_suffix(".expected"), f"exit {code}\n{out}", update_golden)
    assert main(["check", "--fix", path.name]) == code
    again = capsys.readouterr().out
    assert work.read_text(encoding="utf-8") == fixed
    assert ": fixed " not in again, "a second --fix found more to fix"


@pytest.mark.parametrize("path", PYTHON, ids=lambda p: p.stem)
def test_generated_python(path: Path, in_root: Path, update_golden: bool) -> None:
    rel = path.relative_to(in_root).as_posix()
    text = generate(csdsl.load(rel))
    # the one line that changes with every release, not with the generator
    masked = re.sub(r"^CSDSL_VERSION = .*$", "CSDSL_VERSION = <version>", text, count=1, flags=re.M)
    assert masked != text
    _compare(path.with_suffix(".python"), masked, update_golden)

"""Hostile policy inputs (issue 14): what a user can hand `csdsl check` or `csdsl.load` as a
policy, an import or an include never ends in a traceback, a hang or unbounded memory.

The golden cases `huge_number*`, `lone_surrogate_in_string` and `import_device` show the
diagnostics; these tests cover what a golden file cannot hold (a FIFO, a sparse giant file) and
the Python API's errors."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import csdsl
from csdsl.check import compile_file
from csdsl.diagnostics import render_all
from csdsl.source import SourceFile, UnreadableSource, read_policy_text
from csdsl.syntax import ast
from csdsl.syntax.parse import parse

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "policies" / "complaint_validity.csp"
HEADER = 'policy "p" version "1" effective 2024-01-01 timezone "Asia/Shanghai"\n'
RECORD = "record R {\n  a: number\n  rude: bool\n}\n"


def _codes(path: Path) -> list[str]:
    return [d.code for d in compile_file(str(path)).diagnostics]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_an_included_fifo_is_refused_not_waited_on(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.csp")
    (tmp_path / "main.csp").write_text(HEADER + 'include "pipe.csp"\n', encoding="utf-8")
    # in a child process: before the fix it blocked forever on open()
    run = subprocess.run(
        [sys.executable, "-m", "csdsl", "check", "main.csp"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.returncode == 1, run.stderr
    assert "E204" in run.stdout and "not a regular file" in run.stdout
    assert "Traceback" not in run.stderr


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_fifo_as_the_root_policy_is_a_usage_error(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.csp")
    run = subprocess.run(
        [sys.executable, "-m", "csdsl", "check", "pipe.csp"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.returncode == 2
    assert "not a regular file" in run.stderr and "Traceback" not in run.stderr


def test_a_giant_policy_file_is_refused_without_being_read(tmp_path: Path) -> None:
    giant = tmp_path / "giant.csp"
    with giant.open("wb") as handle:  # sparse: 5 MiB that take no disk
        handle.truncate(5 * 1024 * 1024)
    with pytest.raises(UnreadableSource, match="larger than 4 MiB"):
        read_policy_text(giant)
    (tmp_path / "main.csp").write_text(HEADER + 'import "giant.csp"\n', encoding="utf-8")
    assert _codes(tmp_path / "main.csp") == ["E204"]


def test_the_size_limit_is_a_parameter(tmp_path: Path) -> None:
    small = tmp_path / "small.csp"
    small.write_text(HEADER, encoding="utf-8")
    assert read_policy_text(small) == HEADER
    with pytest.raises(UnreadableSource):
        read_policy_text(small, limit=10)


def test_an_escaped_surrogate_pair_is_one_character() -> None:
    text = HEADER + RECORD + 'valid R when any {\n  c "smile \\ud83d\\ude00": rude\n}\n'
    module, diags = parse(SourceFile("pair.csp", text))
    assert not diags and module is not None
    strings = [str(x) for x in _wordings(module)]
    assert "smile \U0001f600" in strings


def _wordings(module: ast.Module) -> list[object]:
    out: list[object] = []
    for item in module.items:
        for cond in getattr(item, "conditions", ()) or ():
            out.append(getattr(cond, "wording", None))
    return out


@pytest.mark.parametrize("escape", ["\\ud800", "\\udfff", "\\ude00\\ud83d"])
def test_a_lone_surrogate_in_any_string_is_e116(tmp_path: Path, escape: str) -> None:
    # before: `check`, `test` and `compile` passed; `doc` and `audit` then crashed writing it
    p = tmp_path / "s.csp"
    p.write_text(
        HEADER + RECORD + f'valid R when any {{\n  c "x{escape}y": rude\n}}\n', encoding="utf-8"
    )
    compiled = compile_file(str(p))
    assert "E116" in [d.code for d in compiled.diagnostics]
    render_all(compiled.diagnostics, compiled.sources).encode("utf-8")  # printable as UTF-8


@pytest.mark.parametrize(
    "literal",
    ["9" * 4301, "9" * 5000 + ".5", "9007199254740992", "1" + "0" * 30 + "%"],
)
def test_a_number_too_large_is_a_diagnostic(tmp_path: Path, literal: str) -> None:
    p = tmp_path / "n.csp"
    p.write_text(HEADER + RECORD + f"valid R when any {{\n  c: a > {literal}\n}}\n", "utf-8")
    assert _codes(p) == ["E103"]


def test_the_largest_exact_number_is_accepted(tmp_path: Path) -> None:
    p = tmp_path / "n.csp"
    p.write_text(
        HEADER + RECORD + "valid R when any {\n  c: a > 9007199254740991\n}\n", encoding="utf-8"
    )
    assert not [d for d in compile_file(str(p)).diagnostics if d.is_error]


def test_a_megabyte_line_is_shown_as_a_window_around_its_caret(tmp_path: Path) -> None:
    p = tmp_path / "long.csp"
    p.write_text(
        HEADER + RECORD + "valid R when any {\n  c: a > " + "9" * 100_000 + "\n}\n", "utf-8"
    )
    compiled = compile_file(str(p))
    shown = render_all(compiled.diagnostics, compiled.sources)
    assert max(len(line) for line in shown.splitlines()) < 400
    assert "^" in shown and "..." in shown


def test_load_names_a_missing_file_instead_of_inventing_a_position(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError) as info:
        csdsl.load(tmp_path / "nope.csp")
    assert info.value.filename == str(tmp_path / "nope.csp")
    with pytest.raises(IsADirectoryError):
        csdsl.load(tmp_path)
    with pytest.raises(TypeError, match="path of a policy file"):
        csdsl.load(42)  # type: ignore[arg-type]


def test_audit_given_a_path_says_to_load_first(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match=r"csdsl\.load\("):
        csdsl.audit(str(SEED), records=str(tmp_path / "x.jsonl"))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="Policy"):
        csdsl.audit(["not a policy"], records="x.jsonl")  # type: ignore[list-item]


def test_a_wrong_record_type_is_a_csdsl_error_with_a_suggestion() -> None:
    from csdsl.api import RecordTypeError

    policy = csdsl.load(SEED)
    with pytest.raises(RecordTypeError) as info:
        policy.validate({"id": "x"}, record_type="Complain")
    assert isinstance(info.value, KeyError)  # callers that caught KeyError still do
    assert "did you mean `Complaint`?" in str(info.value)
    assert not str(info.value).startswith("'")  # not KeyError's repr


def test_audit_names_the_record_type_it_does_not_know(tmp_path: Path) -> None:
    policy = csdsl.load(SEED)
    with pytest.raises(csdsl.AuditError, match="did you mean `Complaint`"):
        csdsl.audit(policy, records={"Complain": str(tmp_path / "x.jsonl")})


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_cached_policy_whose_file_became_a_fifo_is_not_waited_on(tmp_path: Path) -> None:
    # the cache checks the digests of the files it compiled: it reads them as the compiler
    # does, so a file swapped for a FIFO since is refused at once (it blocked on open())
    script = (
        "import os, sys\n"
        "from csdsl import cache\n"
        "from csdsl.api import load\n"
        "load('main.csp', cache=True)\n"
        "os.remove('lib.csp'); os.mkfifo('lib.csp')\n"
        "print(cache.lookup('main.csp'))\n"
    )
    (tmp_path / "lib.csp").write_text(RECORD, encoding="utf-8")
    (tmp_path / "main.csp").write_text(HEADER + 'import "lib.csp"\n', encoding="utf-8")
    env = {**os.environ, "CSDSL_CACHE_DIR": str(tmp_path / "cache")}
    env.pop("CSDSL_NO_CACHE", None)
    run = subprocess.run(
        [sys.executable, "-c", script],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "None"


@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="no /proc here")
def test_a_proc_pseudo_file_is_refused_not_shown(tmp_path: Path) -> None:
    # /proc files look regular but report no size: including one echoed its first line (the
    # environment) in a diagnostic
    (tmp_path / "main.csp").write_text(HEADER + 'include "/proc/self/environ"\n', "utf-8")
    compiled = compile_file(str(tmp_path / "main.csp"))
    assert [d.code for d in compiled.diagnostics] == ["E204"]
    assert "pseudo-file" in compiled.diagnostics[0].message


def _chain(n: int) -> str:
    terms = " and ".join(f"a > {i}" for i in range(n))
    return HEADER + RECORD + f"valid R when any {{\n  c: {terms}\n}}\n"


def test_nesting_past_the_bound_is_e118_for_every_verb_alike(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # before, `check` passed a 489-term chain that `validate` (called from deeper in the
    # stack) called E118, and `compile --target sql` ended in a RecursionError at 400
    from csdsl.cli import main
    from csdsl.syntax.parse import MAX_DEPTH

    monkeypatch.setenv("CSDSL_NO_CACHE", "1")
    deep = tmp_path / "deep.csp"
    deep.write_text(_chain(MAX_DEPTH + 1), encoding="utf-8")
    assert _codes(deep) == ["E118"]
    data = tmp_path / "r.jsonl"
    data.write_text('{"id": 1, "a": 5, "rude": false}\n', encoding="utf-8")
    assert main(["validate", str(deep), str(data)]) == 2
    assert "E118" in capsys.readouterr().err
    at_bound = tmp_path / "bound.csp"
    at_bound.write_text(_chain(MAX_DEPTH), encoding="utf-8")

    def deeper(n: int, argv: list[str]) -> int:  # called from 300 frames down
        return main(argv) if n == 0 else deeper(n - 1, argv)

    out = str(tmp_path / "out")
    for argv in (
        ["check", str(at_bound)],
        ["validate", str(at_bound), str(data)],
        ["compile", str(at_bound), "--target", "sql", "-o", out],
        ["compile", str(at_bound), "--target", "python", "-o", out],
        ["compile", str(at_bound), "--target", "json", "-o", out],
        ["doc", str(at_bound), "-o", out],
        ["explain", str(at_bound), '{"id": 1, "a": 5, "rude": false}'],
    ):
        assert deeper(300, argv) == 0, (argv, capsys.readouterr().err[-500:])
    capsys.readouterr()

"""The compiled-policy cache (csdsl.cache): a warm load does not parse, any edit invalidates."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import csdsl
import csdsl.check
from csdsl import cache

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def policies(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private copy of policies/ and a private, empty cache."""
    monkeypatch.setenv("CSDSL_CACHE_DIR", str(tmp_path / "cache"))
    shutil.copytree(ROOT / "policies", tmp_path / "policies")
    return tmp_path / "policies"


def _compiles(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record every compilation (the cache must make none on a warm load)."""
    calls: list[str] = []
    real = csdsl.check.compile_file

    def spy(path: str | Path) -> csdsl.check.Compiled:
        calls.append(str(path))
        return real(path)

    monkeypatch.setattr(csdsl.check, "compile_file", spy)
    return calls


def test_a_warm_load_reuses_the_compilation(
    policies: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = _compiles(monkeypatch)
    path = policies / "hotline.csp"
    cold = csdsl.load(path, cache=True)
    warm = csdsl.load(path, cache=True)
    assert calls == [str(path)]
    assert warm.ir == cold.ir and warm.diagnostics == cold.diagnostics
    assert set(warm.sources) == set(cold.sources)

    # and the warm policy works: the same verdicts on the example data
    def verdicts(p: csdsl.Policy) -> list[object]:
        rows = p.validate_file(ROOT / "examples" / "complaints.jsonl", "Complaint")
        return [
            (r.line, r.id, r.verdict, r.error and (r.error.code, r.error.message)) for r in rows
        ]

    assert verdicts(warm) == verdicts(cold)
    # without `cache`, the API always compiles
    csdsl.load(path)
    assert len(calls) == 2


def test_an_edit_to_an_included_file_invalidates_the_entry(
    policies: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = _compiles(monkeypatch)
    path = policies / "hotline.csp"
    before = csdsl.load(path, cache=True)
    handling = policies / "complaint_handling.csp"
    text = handling.read_text(encoding="utf-8")
    assert "within 24h when" in text
    handling.write_text(text.replace("within 24h when", "within 12h when"), encoding="utf-8")
    after = csdsl.load(path, cache=True)
    assert len(calls) == 2
    assert after.ir != before.ir
    # an edit in an imported file (the record type) counts too
    validity = policies / "complaint_validity.csp"
    validity.write_text(validity.read_text(encoding="utf-8") + "\n# a comment\n", "utf-8")
    csdsl.load(path, cache=True)
    assert len(calls) == 3
    csdsl.load(path, cache=True)
    assert len(calls) == 3


def test_no_cache_env_and_broken_entries(
    policies: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    calls = _compiles(monkeypatch)
    path = policies / "complaint_validity.csp"
    monkeypatch.setenv("CSDSL_NO_CACHE", "1")
    csdsl.load(path, cache=True)
    csdsl.load(path, cache=True)
    assert len(calls) == 2 and not (tmp_path / "cache").exists()
    monkeypatch.delenv("CSDSL_NO_CACHE")
    csdsl.load(path, cache=True)
    (entry,) = (tmp_path / "cache").glob("*.pickle")
    entry.write_bytes(b"not a pickle")
    csdsl.load(path, cache=True)  # ignored, compiled again and stored afresh
    assert len(calls) == 4
    csdsl.load(path, cache=True)
    assert len(calls) == 4
    assert oct((tmp_path / "cache").stat().st_mode & 0o777) == oct(0o700)


def test_a_policy_with_errors_is_not_cached(
    policies: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = _compiles(monkeypatch)
    bad = policies / "bad.csp"
    bad.write_text('policy "p" version "1" effective 2024-01-01 timezone "UTC"\nrecord {\n')
    for _ in range(2):
        with pytest.raises(csdsl.PolicyError):
            csdsl.load(bad, cache=True)
    assert len(calls) == 2
    assert cache.lookup(bad) is None


def test_a_warm_cli_run_does_not_import_the_parser(policies: Path, tmp_path: Path) -> None:
    """`csdsl validate` twice on an unchanged policy: the second run loads the cached form and
    never imports lark."""
    script = (
        "import sys; from csdsl.cli import main; "
        "code = main(['validate', sys.argv[1], sys.argv[2], '--format', 'json']); "
        "print('LARK' if 'lark' in sys.modules else 'NO-LARK', code, file=sys.stderr)"
    )
    env = {**os.environ, "CSDSL_CACHE_DIR": str(tmp_path / "cache")}
    args = [sys.executable, "-c", script, str(policies / "complaint_validity.csp")]
    args.append(str(ROOT / "examples" / "complaints.jsonl"))
    runs = [subprocess.run(args, capture_output=True, text=True, env=env) for _ in range(2)]
    assert [r.stderr.split()[-2:] for r in runs] == [["LARK", "0"], ["NO-LARK", "0"]]
    assert runs[0].stdout == runs[1].stdout and runs[0].stdout.count("\n") == 248


def test_a_change_to_the_compiler_makes_another_key(tmp_path: Path) -> None:
    """A fix to the checker (in a development install, within one version) must not leave the
    IR its older self compiled in use."""
    from csdsl import cache

    package = Path(cache.__file__).parent
    copy = tmp_path / "csdsl"
    shutil.copytree(package, copy, ignore=shutil.ignore_patterns("__pycache__"))
    digest = cache._code_digest.__wrapped__  # not memoised
    before = digest(copy)
    assert digest(copy) == before
    lower = copy / "check" / "lower.py"
    lower.write_text(lower.read_text(encoding="utf-8") + "\n# fixed\n", encoding="utf-8")
    after_check = digest(copy)
    assert after_check != before
    parse = copy / "syntax" / "parse.py"
    parse.write_text(parse.read_text(encoding="utf-8") + "\n# fixed\n", encoding="utf-8")
    assert digest(copy) not in (before, after_check)


def test_a_change_to_the_grammar_makes_another_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """A grammar edited on its own (a keyword renamed) must not leave the old IR in use."""
    from csdsl import cache
    from csdsl.syntax import grammar

    digest = cache._code_digest.__wrapped__  # not memoised
    here = Path(cache.__file__).parent
    before = digest(here)
    monkeypatch.setattr(grammar, "grammar_text", lambda: 'start: "changed"\n')
    assert digest(here) != before

"""Structured fixes (`Fix` on `Diagnostic`) and `csdsl check --fix`.

The golden files of `tests/golden/fix` show one fix per fixable code; here:
- a fix is attached only where it is certain: one close candidate a typing slip away;
- `check --format json` keeps IO.md's keys and adds `fixes`;
- `--fix --diff` prints a diff and writes nothing; a file that cannot be written is one line and
  exit 2; a fix that would not compile further is left out and said so;
- fixes of a file that imports another resolve the import against the fixed text's directory;
- a property: over policies with typing slips and damaged policies, applying the fixes never
  takes a policy to an earlier stage (a compiling one keeps compiling), and a second `--fix`
  changes nothing.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from csdsl import testing
from csdsl.check import compile_file
from csdsl.cli import main
from csdsl.diagnostics import did_you_mean, rename, typo
from csdsl.fixing import fix_file, stage
from csdsl.source import Span, read_policy_text
from csdsl.syntax.parse import code_only

ROOT = Path(__file__).resolve().parents[1]

POLICY = """policy "投诉成立判定" timezone "Asia/Shanghai"

record Complaint {
  agent_rude: bool
  loss_amount: number
}

valid Complaint when any {
  rude "态度不好": agent_rudee
  loss "造成损失": loss_amount > 0
}
"""


def _write(tmp_path: Path, text: str, name: str = "p.csp") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_typo_is_a_slip_or_two_of_typing() -> None:
    assert typo("agnet", "agent")  # two letters swapped
    assert typo("Complain", "Complaint")  # one dropped
    assert typo("teamlead", "team_lead")
    assert typo("adn", "and")
    assert not typo("hold_begin", "hold_end")  # another word, however close difflib finds it
    assert not typo("ab", "abcd")  # short names: one slip only


def test_a_fix_only_where_one_candidate_is_a_slip_away() -> None:
    span = Span("p.csp", 1, 1, 1, 6)
    assert [f.edits[0].replacement for f in rename(span, "agnet", ["agent", "customer"])] == [
        "agent"
    ]
    # `hold_begin` meant `hold_start`: the hint names `hold_end`, no fix writes it
    assert did_you_mean("hold_begin", ["hold_start", "hold_end"]) == "did you mean `hold_end`?"
    assert rename(span, "hold_begin", ["hold_start", "hold_end"]) == []
    # two candidates a slip away: a choice, not a fix
    assert rename(span, "dya", ["day", "dye"]) == []
    # the hint's other candidates are not written where they would not repair the place
    assert rename(span, "eum", ["enum", "bool"], only=["bool"]) == []


def test_json_keeps_its_keys_and_adds_the_fixes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _write(tmp_path, POLICY)
    monkeypatch.chdir(tmp_path)
    assert main(["check", "--format", "json", "p.csp"]) == 1
    (diag,) = json.loads(capsys.readouterr().out)
    assert list(diag) == [
        "file",
        "line",
        "column",
        "end_line",
        "end_column",
        "severity",
        "code",
        "message",
        "hint",
        "fixes",
    ]
    assert diag["hint"] == "did you mean `agent_rude`?"
    assert diag["fixes"] == [
        {
            "title": "replace `agent_rudee` with `agent_rude`",
            "edits": [
                {
                    "file": "p.csp",
                    "line": 9,
                    "column": 16,
                    "end_line": 9,
                    "end_column": 27,
                    "replacement": "agent_rude",
                }
            ],
        }
    ]


def test_diff_prints_the_changes_and_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(tmp_path, POLICY)
    monkeypatch.chdir(tmp_path)
    assert main(["check", "--fix", "--diff", "p.csp"]) == 1  # changes to make: like fmt --check
    out = capsys.readouterr().out
    assert path.read_text(encoding="utf-8") == POLICY
    assert "--- a/p.csp\n+++ b/p.csp\n" in out
    assert '-  rude "态度不好": agent_rudee\n+  rude "态度不好": agent_rude\n' in out
    assert out.endswith("1 file checked: 0 errors, 0 warnings\n")
    assert main(["check", "--fix", "--dry-run", "p.csp"]) == 1  # the same, by its other name
    assert capsys.readouterr().out == out
    assert main(["check", "--diff", "p.csp"]) == 2
    assert "--diff goes with --fix" in capsys.readouterr().err


def test_a_file_that_cannot_be_written_is_one_line_and_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(tmp_path, POLICY)
    monkeypatch.chdir(tmp_path)

    def refuse(self: Path, *args: object, **kwargs: object) -> int:
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "write_text", refuse)
    assert main(["check", "--fix", "p.csp"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("csdsl: p.csp: cannot write: ")
    assert path.read_text(encoding="utf-8") == POLICY


def test_a_fix_that_would_not_compile_further_is_left_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # `agent_rudee` is a slip of `agent_rude`, a bool: `> 0` on it is a type error on the line
    text = POLICY.replace(": agent_rudee", ": agent_rudee > 0")
    path = _write(tmp_path, text)
    monkeypatch.chdir(tmp_path)
    assert main(["check", "--fix", "p.csp"]) == 1
    out = capsys.readouterr().out
    assert (
        "p.csp:9:16: not fixed E201: replace `agent_rudee` with `agent_rude` would not compile "
        "further; left as it is\n" in out
    )
    assert "error[E201]" in out
    assert path.read_text(encoding="utf-8") == text


def test_fixes_resolve_imports_from_the_fixed_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _write(
        tmp_path,
        'policy "记录" timezone "Asia/Shanghai"\n\nrecord Complaint {\n  agent_rude: bool\n}\n',
        "records.csp",
    )
    path = _write(
        tmp_path,
        'policy "判定" timezone "Asia/Shanghai"\nimport "records.csp"\n\n'
        'valid Complain when any {\n  rude "态度不好": agent_rude\n}\n',
    )
    monkeypatch.chdir(tmp_path)
    assert main(["check", "--fix", "p.csp"]) == 0
    assert "p.csp:4:7: fixed E203: replace `Complain` with `Complaint`" in capsys.readouterr().out
    assert "valid Complaint when any" in path.read_text(encoding="utf-8")


# ---- the property --------------------------------------------------------------------------

SEEDS = [
    (ROOT / "policies" / "complaint_validity.csp").read_text(encoding="utf-8"),
    *(
        p.read_text(encoding="utf-8")
        for p in sorted((ROOT / "tests" / "golden" / "good").glob("*.csp"))
        if not re.search(r"^(import|include) ", p.read_text(encoding="utf-8"), re.M)
    ),
]
PIECES = [":", "：", "{", "}", "=", "==", "&&", " ", "\n", "'", "x", "anyy", "1.5h", "24 hours"]
_WORD = re.compile(r"\b[a-z][a-z_]{3,}\b")


@st.composite
def slipped(draw: st.DrawFn) -> str:
    """A policy with one to three slips of typing: letters of a name or keyword swapped,
    dropped or doubled, or a `:` left out (never inside a string or comment)."""
    text = draw(st.sampled_from(SEEDS))
    for _ in range(draw(st.integers(1, 3))):
        code = code_only(text)
        if draw(st.booleans()):
            colons = [i for i, ch in enumerate(code) if ch == ":"]
            if colons:
                i = draw(st.sampled_from(colons))
                text = text[:i] + text[i + 1 :]
            continue
        words = list(_WORD.finditer(code))
        m = draw(st.sampled_from(words))
        w, i = m.group(), draw(st.integers(0, len(m.group()) - 2))
        slip = draw(st.sampled_from(["swap", "drop", "double"]))
        w = (
            w[:i] + w[i + 1] + w[i] + w[i + 2 :]
            if slip == "swap"
            else w[:i] + w[i + 1 :]
            if slip == "drop"
            else w[:i] + w[i] + w[i:]
        )
        text = text[: m.start()] + w + text[m.end() :]
    return text


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    st.one_of(
        slipped(), testing.mutated(SEEDS, PIECES), st.sampled_from(SEEDS), st.text(max_size=200)
    )
)
def test_fixes_never_take_a_policy_back_and_a_second_fix_changes_nothing(
    tmp_path_factory: pytest.TempPathFactory, text: str
) -> None:
    path = _write(tmp_path_factory.mktemp("fix"), text)
    before = compile_file(path)
    result = fix_file(str(path), read_policy_text(path))  # as the file is read: no BOM
    assert stage(result.compiled) >= stage(before)
    if before.ok:  # a compiling policy keeps compiling
        assert result.compiled.ok
    if result.changed:
        assert result.applied
        path.write_text(result.text, encoding="utf-8")
    again = fix_file(str(path), result.text)
    assert again.text == result.text and not again.applied


def test_the_docs_list_every_code_with_a_fix_and_each_has_a_golden_test() -> None:
    doc = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    table = doc[doc.index("The codes that carry a fix") : doc.index("No fix is offered")]
    listed = set(re.findall(r"`([EW]\d{3})`", table))
    golden = {p.name[:4].upper() for p in (ROOT / "tests" / "golden" / "fix").glob("*.csp")}
    assert listed == golden

"""The traceability matrix (issue 15, acceptance 1): `csdsl trace` builds it from the policies'
`cites` blocks and the standards index, and `docs/standards.md` is it, regenerated.

The repository test fails when a policy cites a section the index does not have, when a
checkable sentence is neither cited nor says what blocks it, and when docs/standards.md is not
the matrix of today's policies."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from csdsl.cli import main

ROOT = Path(__file__).resolve().parents[1]
INDEX = ROOT / "policies" / "standards" / "index.jsonl"
POLICY = ROOT / "policies" / "hotline.csp"
# every policy the matrix is built from (docs/standards.md's header names the command)
POLICIES = [POLICY, *(ROOT / "policies" / f for f in ("procurement.csp", "hospital_ward.csp"))]
MATRIX = ROOT / "docs" / "standards.md"

HEADER = 'policy "p" version "1" effective 2024-01-01 timezone "Asia/Shanghai"\n'


def _entry(id_: str, checkable: bool, **extra: str) -> str:
    return json.dumps(
        {
            "id": id_,
            "seed": id_[:3],
            "section": "二",
            "quote": f"the words of {id_}",
            "kind": "validity",
            "checkable": checkable,
            "scope": "record field" if checkable else "a principle, not an act",
            **extra,
        },
        ensure_ascii=False,
    )


@pytest.fixture
def small(tmp_path: Path) -> tuple[Path, Path]:
    index = tmp_path / "index.jsonl"
    index.write_text(
        "\n".join(
            [
                _entry("000 二(1)", True),
                _entry("000 二(2)", True, partly="the reschedule is not checked"),
                _entry("000 二(3)", True, blocked="no export says what was lost"),
                _entry("000 一1", False),
            ]
        )
        + "\n",
        encoding="utf-8",
    )
    policy = tmp_path / "p.csp"
    policy.write_text(
        HEADER
        + "record R {\n  rude: bool\n  missed: bool\n}\n"
        + 'valid R when any {\n  rude "rude": rude\n  missed "missed": missed\n}\n'
        + 'cites {\n  rude: "000 二(1)"\n  missed: "000 二(2)"\n}\n',
        encoding="utf-8",
    )
    return index, policy


def _trace(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["trace", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_each_entry_gets_its_status_and_its_clauses(
    small: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    index, policy = small
    code, out, err = _trace(capsys, "--standards", str(index), str(policy), "--format", "json")
    assert code == 0, err
    doc = json.loads(out)
    status = {r["id"]: (r["status"], [c["clause"] for c in r["cited_by"]]) for r in doc["rows"]}
    assert status == {
        "000 二(1)": ("encoded", ["rude"]),
        "000 二(2)": ("partly", ["missed"]),
        "000 二(3)": ("blocked", []),
        "000 一1": ("out of scope", []),
    }
    (all_,) = [s for s in doc["summary"] if s["seed"] == "all"]
    assert (all_["checkable"], all_["encoded"], all_["partly"], all_["cited_share"]) == (
        3,
        1,
        1,
        0.6667,
    )
    assert doc["rows"][0]["cited_by"][0]["line"] == 7  # where the clause is, not the cites line


def test_an_unknown_citation_and_an_unaccounted_sentence_are_problems(
    small: tuple[Path, Path], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    index, policy = small
    text = policy.read_text(encoding="utf-8").replace('"000 二(2)"', '"000 二(9)"')
    policy.write_text(text, encoding="utf-8")
    code, out, err = _trace(capsys, "--standards", str(index), str(policy))
    assert code == 1
    assert "`missed` cites `000 二(9)`, which the index does not have" in err
    assert "`000 二(2)` is checkable, but no clause cites it" in err
    assert "## Problems" in out


def test_check_compares_the_written_matrix(
    small: tuple[Path, Path], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    index, policy = small
    matrix = tmp_path / "standards.md"
    argv = ["--standards", str(index), str(policy)]
    assert _trace(capsys, *argv, "-o", str(matrix))[0] == 0
    assert _trace(capsys, *argv, "--check", str(matrix))[0] == 0
    matrix.write_text(matrix.read_text(encoding="utf-8") + "edited\n", encoding="utf-8")
    code, _, err = _trace(capsys, *argv, "--check", str(matrix))
    assert code == 1 and "regenerate it" in err


def test_a_bad_index_is_a_usage_error(
    small: tuple[Path, Path], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    _, policy = small
    index = tmp_path / "bad.jsonl"
    index.write_text('{"id": "000 二(1)"}\n', encoding="utf-8")
    code, _, err = _trace(capsys, "--standards", str(index), str(policy))
    assert code == 2 and "bad.jsonl:1: an entry needs the fields" in err


@pytest.mark.skipif(not INDEX.exists(), reason="no standards index")
def test_the_repositorys_matrix_is_whole_and_current(capsys: pytest.CaptureFixture[str]) -> None:
    rel = [str(p.relative_to(ROOT)) for p in POLICIES]
    with pytest.MonkeyPatch.context() as m:
        m.chdir(ROOT)
        code, _, err = _trace(
            capsys,
            "--standards",
            str(INDEX.relative_to(ROOT)),
            *rel,
            "--check",
            str(MATRIX.relative_to(ROOT)),
        )
    assert code == 0, err


def test_an_audit_with_the_index_quotes_the_standard_in_each_finding(
    small: tuple[Path, Path], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    index, policy = small
    data = tmp_path / "r.jsonl"
    data.write_text('{"id": 1, "rude": true, "missed": false}\n', encoding="utf-8")
    out_dir = tmp_path / "out"
    argv = ["audit", str(policy), "--records", str(data), "--out", str(out_dir)]
    assert main([*argv, "--standards", str(index)]) in (0, 1)
    capsys.readouterr()
    (finding,) = [
        json.loads(line)
        for line in (out_dir / "findings.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    assert finding["clause"]["cites"] == [{"id": "000 二(1)", "quote": "the words of 000 二(1)"}]
    md = (out_dir / "report.md").read_text(encoding="utf-8")
    assert "cites 000 二(1): «the words of 000 二(1)»" in md
    html = (out_dir / "report.html").read_text(encoding="utf-8")
    assert "«the words of 000 二(1)»" in html
    # without the index the sections are still named
    assert main([*argv]) in (0, 1)
    capsys.readouterr()
    (finding,) = [
        json.loads(line)
        for line in (out_dir / "findings.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    assert finding["clause"]["cites"] == [{"id": "000 二(1)", "quote": None}]


def test_doc_shows_each_clauses_citations(
    small: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    _, policy = small
    assert main(["doc", str(policy), "--format", "md"]) == 0
    assert "cites 000 二(1)" in capsys.readouterr().out

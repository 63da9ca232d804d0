"""`csdsl audit --xlsx [--sample N --sample-by ... --seed S]` and `csdsl review`: the workbook's
sheets read back with openpyxl, the review sample drawn reproducibly by case, and a sample
filled in by the test read back into the right rates per clause."""

from __future__ import annotations

import json
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from csdsl import sampling
from csdsl.auditor import iter_findings
from csdsl.cli import main
from csdsl.report import workbook
from csdsl.report.workbook import REVIEW_SHEET, VERDICTS, write_workbook

openpyxl = pytest.importorskip("openpyxl", reason="reading the workbook back needs openpyxl")
pytest.importorskip("xlsxwriter", reason="audit --xlsx needs XlsxWriter: pip install -e '.[xlsx]'")

ROOT = Path(__file__).resolve().parents[1]
EX = ROOT / "examples"
AUDIT = [
    "audit",
    str(ROOT / "policies" / "hotline.csp"),
    "--records",
    str(EX / "complaints.jsonl"),
    "--records",
    f"Call={EX / 'calls.jsonl'}",
    "--events",
    str(EX / "complaint_events.jsonl"),
    "--transcripts",
    str(EX / "transcripts.jsonl"),
]


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    got = capsys.readouterr()
    return code, got.out, got.err


@pytest.fixture(scope="module")
def sampled(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The acceptance run twice: `--xlsx --sample 20 --sample-by agent --seed 1`."""
    outs = []
    for name in ("first", "second"):
        out = tmp_path_factory.mktemp(name)
        argv = [*AUDIT, "--out", str(out), "--xlsx", "--sample", "20"]
        assert main([*argv, "--sample-by", "agent", "--seed", "1"]) == 0
        outs.append(out)
    return outs[0], outs[1]


def _sheet(path: Path, name: str) -> list[tuple[Any, ...]]:
    book = openpyxl.load_workbook(path, read_only=True)
    try:
        return [tuple(r) for r in book[name].iter_rows(values_only=True)]
    finally:
        book.close()


def _sample_rows(path: Path) -> list[dict[str, Any]]:
    table = _sheet(path, REVIEW_SHEET)
    at = next(i for i, r in enumerate(table) if workbook.VERDICT in r)
    heads = table[at]
    return [dict(zip(heads, r, strict=False)) for r in table[at + 1 :]]


def test_the_same_seed_draws_the_same_sample(sampled: tuple[Path, Path]) -> None:
    first, second = sampled
    a, b = _sample_rows(first / "report.xlsx"), _sample_rows(second / "report.xlsx")
    assert a and a == b
    # the header block says how it was drawn
    block = {r[0]: r[2] for r in _sheet(first / "report.xlsx", REVIEW_SHEET)[:9] if r[0]}
    assert block["seed"] == 1 and block["N"] == 20 and block["stratified by"] == "agent"
    cases = {(r["input:line"].rsplit(":", 1)[0], r["case"]) for r in a}
    findings = list(iter_findings(first / "findings.jsonl"))
    population = {sampling.case_of(f) for f in findings}
    assert f"{len(population)} cases with findings ({len(findings)} findings" in block["population"]
    # every finding of a drawn case is in the sheet, grouped by clause
    of_drawn = Counter(
        (sampling.case_of(f), sampling.clause_label(f))
        for f in findings
        if sampling.case_of(f) in cases
    )
    shown = {
        ((r["input:line"].rsplit(":", 1)[0], r["case"]), r["clause"]): r["findings"] for r in a
    }
    assert shown == dict(of_drawn)
    # N per agent (a case without an agent is in the stratum `(none)`)
    per_agent = Counter(r["drawn for"] for r in {r["case #"]: r for r in a}.values())
    assert all(n <= 20 for n in per_agent.values()) and sum(per_agent.values()) == len(cases)


def test_another_seed_draws_another_sample(
    sampled: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = _run(
        [*AUDIT, "--out", str(tmp_path), "--xlsx", "--sample", "20", "--seed", "2"], capsys
    )
    assert code == 0 and "seed 2" in out
    two = {r["case"] for r in _sample_rows(tmp_path / "report.xlsx")}

    def findings() -> Iterator[dict[str, Any]]:
        return iter_findings(sampled[0] / "findings.jsonl")

    assert two == {c.record for c in sampling.draw(findings, 20, seed=2).cases}
    one = {c.record for c in sampling.draw(findings, 20, seed=1).cases}
    assert len(one) == len(two) == 20 and one != two


def test_the_sheets_hold_the_whole_report(sampled: tuple[Path, Path]) -> None:
    out = sampled[0]
    data = json.loads((out / "report.json").read_text(encoding="utf-8"))
    book = openpyxl.load_workbook(out / "report.xlsx")
    assert book.sheetnames == ["KPIs", "Findings", "Bad rows", REVIEW_SHEET]
    kpis = book["KPIs"]
    assert kpis.max_row == 1 + len(data["kpis"])
    assert [c.value for c in kpis[2]][:3] == [
        data["kpis"][0]["metric"],
        data["kpis"][0]["wording"],
        "month of started_at 2024-10",
    ]
    assert kpis["D2"].number_format == "0.0%"  # a percentage KPI
    findings = book["Findings"]
    assert findings.max_row == 1 + data["summary"]["findings"]
    assert book["Bad rows"].max_row == 1 + data["bad_rows"]["total"]
    for name in ("KPIs", "Findings", "Bad rows"):
        sheet = book[name]
        assert sheet.freeze_panes == "A2", name
        last = sheet.cell(sheet.max_row, sheet.max_column).coordinate
        assert sheet.auto_filter.ref == f"A1:{last}", name
    review = book[REVIEW_SHEET]
    heads = [c.value for c in review[10]]
    assert heads[-2:] == [workbook.VERDICT, workbook.COMMENT]
    assert review.freeze_panes == "A11" and review.auto_filter.ref.startswith("A10:")
    (validation,) = review.data_validations.dataValidation
    assert validation.type == "list"
    assert validation.formula1 == '"' + ",".join(VERDICTS) + '"'
    assert str(validation.sqref) == f"L11:L{review.max_row}"
    first = next(iter_findings(out / "findings.jsonl"))
    row = [c.value for c in findings[2]]
    assert row[0] == first["kind"] and row[1] == first["clause"]["id"]
    assert row[8] == f"{first['input']}:{first['line']}"
    # agent and team as the finding names them (missing or null: `(none)`)
    assert (row[6], row[7]) == (first.get("agent") or "(none)", first.get("team") or "(none)")


def _finding(record: str | None, clause: str, agent: str | None = None, **more: Any) -> dict:
    return {
        "kind": "transcript",
        "clause": {"id": clause, "file": "p.csp", "line": 3, "text": f"{clause} words"},
        "severity": "minor",
        "record": record,
        "input": "t.jsonl",
        "line": 7,
        "message": f"{clause} broken",
        "evidence": {"turn": 1, "text": "=1+1"},
        "version": "1",
        **({"agent": agent} if agent is not None else {}),
        **more,
    }


def _findings() -> list[dict[str, Any]]:
    out = []
    for i in range(30):
        agent = ("A1", "A2", "A3")[i % 3] if i < 27 else None
        team = "north" if i % 2 else None
        out.append(_finding(f"T-{i:02}", "nin", agent, team=team))
        if i % 5 == 0:
            out.append(_finding(f"T-{i:02}", "close", agent, team=team))
    return out


def test_a_stratified_sample_has_n_per_stratum_or_all() -> None:
    found = _findings()
    s = sampling.draw(lambda: found, 4, seed=7, by="agent")
    assert s.population == 30 and s.strata == {"(none)": 3, "A1": 9, "A2": 9, "A3": 9}
    drawn = Counter(c.drawn_for[0] for c in s.cases)
    assert drawn == {"(none)": 3, "A1": 4, "A2": 4, "A3": 4}
    # a drawn case keeps all its findings, by clause
    t00 = next((c for c in s.cases if c.record == "T-00"), None)
    if t00 is not None:
        assert set(t00.clauses) == {"nin", "close"}
    assert s == sampling.draw(lambda: list(found), 4, seed=7, by="agent")
    # by clause: a case of two clauses is in both strata and listed once
    by_clause = sampling.draw(lambda: found, 100, seed=7, by="clause")
    assert len(by_clause.cases) == 30
    t05 = next(c for c in by_clause.cases if c.record == "T-05")
    assert t05.drawn_for == ["close", "nin"] and list(t05.clauses) == ["nin", "close"]
    # by team: missing or null is `(none)`
    assert sampling.draw(lambda: found, 1, seed=7, by="team").strata == {"(none)": 15, "north": 15}


def test_the_order_of_the_findings_does_not_change_the_sample() -> None:
    found = _findings()
    a = sampling.draw(lambda: found, 5, seed=3)
    b = sampling.draw(lambda: list(reversed(found)), 5, seed=3)
    assert [c.record for c in a.cases] == [c.record for c in b.cases]
    assert len(a.cases) == 5 and a.strata == {}


def test_a_finding_without_an_id_is_its_own_case() -> None:
    found = [_finding(None, "nin", line=3), _finding(None, "nin", line=4), _finding("T", "nin")]
    assert sampling.draw(lambda: found, 10, seed=1).population == 3
    assert sampling.case_of(found[0]) == ("t.jsonl", "line 3")


def test_text_cells_are_text_never_formulas(tmp_path: Path) -> None:
    found = [_finding('=HYPERLINK("http://x")', "nin", agent="+1")]
    path = tmp_path / "r.xlsx"
    write_workbook(path, {"kpis": [], "bad_rows": {"items": [], "total": 0}}, found)
    sheet = openpyxl.load_workbook(path)["Findings"]
    record = sheet["F2"]
    assert record.value == '=HYPERLINK("http://x")' and record.data_type == "s"
    assert sheet["G2"].value == "+1" and sheet["G2"].data_type == "s"
    assert sheet["K2"].value == "turn=1; text==1+1"


def test_findings_past_excels_rows_go_on_in_a_second_sheet(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(workbook, "MAX_ROWS", 10)
    path = tmp_path / "r.xlsx"
    found = [_finding(f"T-{i}", "nin") for i in range(15)]
    write_workbook(path, {"kpis": [], "bad_rows": {"items": [], "total": 0}}, found)
    book = openpyxl.load_workbook(path)
    assert book.sheetnames[:3] == ["KPIs", "Findings", "Findings 2"]
    assert book["Findings"].max_row == 10 and book["Findings 2"].max_row == 1 + 6
    assert book["Findings 2"]["F7"].value == "T-14"


# ---- review ------------------------------------------------------------------------------


def _fill(path: Path, verdicts: dict[str, list[str]]) -> dict[str, Counter[str]]:
    """Give each clause's rows the verdicts listed for it, in order; the expected counts."""
    book = openpyxl.load_workbook(path)
    sheet = book[REVIEW_SHEET]
    heads = [c.value for c in sheet[10]]
    clause_col = heads.index("clause") + 1
    verdict_col = heads.index(workbook.VERDICT) + 1
    queue = {k: list(v) for k, v in verdicts.items()}
    expected: dict[str, Counter[str]] = {}
    for row in range(11, sheet.max_row + 1):
        clause = sheet.cell(row, clause_col).value
        counts = expected.setdefault(clause, Counter())
        if queue.get(clause):
            verdict = queue[clause].pop(0)
            sheet.cell(row, verdict_col).value = verdict
            counts[verdict.strip().lower()] += 1
        else:
            counts["unreviewed"] += 1
    book.save(path)
    return expected


def test_review_reports_the_rates_per_clause(
    sampled: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "filled.xlsx"
    path.write_bytes((sampled[0] / "report.xlsx").read_bytes())
    clauses = Counter(r["clause"] for r in _sample_rows(path))
    two = [c for c, _ in clauses.most_common(2)]
    expected = _fill(
        path,
        {
            two[0]: ["confirmed", " Confirmed ", "false positive"],
            two[1]: ["needs discussion", "false positive"],
        },
    )
    code, out, err = _run(["review", "--format", "json", str(path)], capsys)
    assert (code, err) == (0, "")
    got = {c["clause"]: c for c in json.loads(out)["clauses"]}
    assert set(got) == set(clauses)
    first = got[two[0]]
    assert (first["reviewed"], first["confirmed"], first["false_positive"]) == (3, 2, 1)
    assert first["needs_discussion"] == 0 and first["unreviewed"] == clauses[two[0]] - 3
    assert (first["confirmed_rate"], first["false_positive_rate"]) == (0.666667, 0.333333)
    second = got[two[1]]
    assert (second["reviewed"], second["needs_discussion"], second["false_positive"]) == (2, 1, 1)
    assert (second["confirmed_rate"], second["false_positive_rate"]) == (0.0, 0.5)
    for clause, counts in expected.items():
        assert got[clause]["unreviewed"] == counts["unreviewed"]
    rest = next(c for c in got if c not in two)
    assert got[rest]["reviewed"] == 0 and got[rest]["confirmed_rate"] is None
    total = json.loads(out)["total"]
    assert total["reviewed"] == 5 and total["unreviewed"] == sum(clauses.values()) - 5
    # the text table: a line per clause, the rates in percent
    code, out, _ = _run(["review", str(path)], capsys)
    lines = out.splitlines()
    assert code == 0 and lines[0].startswith(f"{path}: 5 of {sum(clauses.values())} rows reviewed")
    assert "seed 1" in lines[0]
    row = next(line for line in lines if line.startswith(two[0] + " "))
    assert row.split()[-4:] == ["0", "66.7%", "33.3%", str(clauses[two[0]] - 3)]


def test_an_unknown_verdict_names_its_cell(
    sampled: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "filled.xlsx"
    path.write_bytes((sampled[0] / "report.xlsx").read_bytes())
    book = openpyxl.load_workbook(path)
    book[REVIEW_SHEET]["L12"] = "ok I guess"
    book.save(path)
    code, out, err = _run(["review", str(path)], capsys)
    assert (code, out) == (2, "")
    assert err == (
        f"csdsl: {path}: sheet `Review sample`, cell L12: unknown verdict `ok I guess`; use one "
        "of: confirmed, false positive, needs discussion\n"
    )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"id,verdict\n1,confirmed\n", "not an Excel workbook (.xlsx)"),
        (b"PK\x03\x04 broken", "not an Excel workbook (.xlsx)"),
        (None, "no such file"),
    ],
)
def test_a_file_that_is_no_workbook_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes | None, message: str
) -> None:
    path = tmp_path / "review.csv"
    if content is not None:
        path.write_bytes(content)
    code, out, err = _run(["review", str(path)], capsys)
    assert code == 2 and out == "" and err.startswith(f"csdsl: {path}: {message}")
    assert err.count("\n") == 1 and "Traceback" not in err


def test_a_workbook_without_a_sample_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, _ = _run([*AUDIT, "--out", str(tmp_path), "--xlsx"], capsys)
    assert code == 0
    code, out, err = _run(["review", str(tmp_path / "report.xlsx")], capsys)
    assert (code, out) == (2, "")
    assert err == (
        f"csdsl: {tmp_path / 'report.xlsx'}: no `Review sample` sheet; write one with "
        "`csdsl audit --xlsx --sample N`\n"
    )


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (
            ["--sample", "5"],
            "--sample writes the `Review sample` sheet of report.xlsx: give --xlsx too",
        ),
        (
            ["--xlsx", "--seed", "3"],
            "--sample-by and --seed choose how --sample draws: give --sample N too",
        ),
        (["--xlsx", "--sample", "0"], "--sample: give a number of cases of at least 1"),
    ],
)
def test_sample_options_without_their_partners_are_usage_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], flags: list[str], message: str
) -> None:
    code, out, err = _run([*AUDIT, "--out", str(tmp_path / "o"), *flags], capsys)
    assert (code, out, err) == (2, "", f"csdsl: {message}\n")
    assert not (tmp_path / "o").exists()


def test_without_xlsxwriter_the_hint_says_how_to_install_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "xlsxwriter", None)  # import xlsxwriter: ImportError
    code, out, err = _run([*AUDIT, "--out", str(tmp_path), "--xlsx"], capsys)
    assert (code, out) == (2, "")
    assert err == "csdsl: --xlsx needs XlsxWriter: pip install 'csdsl[xlsx]'\n"
    assert not (tmp_path / "report.json").exists()  # refused before the run


def test_without_a_seed_the_seed_drawn_is_written_down(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = _run([*AUDIT, "--out", str(tmp_path), "--xlsx", "--sample", "3"], capsys)
    assert code == 0
    seed = int(out.splitlines()[-1].split(", seed ")[1].split(":")[0])
    block = {r[0]: r[2] for r in _sheet(tmp_path / "report.xlsx", REVIEW_SHEET)[:9] if r[0]}
    assert block["seed"] == seed
    # and that seed draws the same sample again
    again = tmp_path / "again"
    argv = [*AUDIT, "--out", str(again), "--xlsx", "--sample", "3", "--seed", str(seed)]
    assert _run(argv, capsys)[0] == 0
    assert _sample_rows(again / "report.xlsx") == _sample_rows(tmp_path / "report.xlsx")

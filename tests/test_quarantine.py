"""`audit --quarantine`: each clause's findings as one Parquet file, the same findings as
`findings.jsonl`, nothing written through a link left in the output directory."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import duckdb
import pytest

import csdsl
from csdsl.auditor import AuditError, audit
from csdsl.cli import main

ROOT = Path(__file__).resolve().parents[1]
EX = ROOT / "examples"


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("audit")
    policy = csdsl.load(ROOT / "policies" / "hotline.csp")
    audit(
        policy,
        records={"Complaint": EX / "complaints.jsonl", "Call": EX / "calls.jsonl"},
        events=EX / "complaint_events.jsonl",
        transcripts=EX / "transcripts.jsonl",
        out=out,
        quarantine=True,
    )
    return out


def test_each_clause_has_its_findings_and_no_other(run: Path) -> None:
    findings = [json.loads(line) for line in (run / "findings.jsonl").open(encoding="utf-8")]
    want = Counter((f["kind"], f["clause"]["id"]) for f in findings)
    index = json.loads((run / "quarantine" / "index.json").read_text(encoding="utf-8"))
    assert {(e["kind"], e["clause"]["id"]): e["findings"] for e in index} == dict(want)
    total = 0
    for e in index:
        path = run / "quarantine" / e["file"]
        rows = duckdb.execute(
            "select kind, clause_id, record, input, line, evidence from read_parquet($p)",
            {"p": str(path)},
        ).fetchall()
        assert len(rows) == e["findings"]
        assert {(k, c) for k, c, *_ in rows} == {(e["kind"], e["clause"]["id"])}
        total += len(rows)
        json.loads(rows[0][5])  # the evidence is JSON text
    assert total == len(findings)


def test_the_cli_flag_and_its_mistakes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    policy = str(ROOT / "policies" / "complaint_validity.csp")
    records = str(EX / "complaints.jsonl")
    out = tmp_path / "out"
    assert main(["audit", policy, "--records", records, "--out", str(out), "--quarantine"]) == 0
    assert (out / "quarantine" / "index.json").is_file()
    assert any(p.suffix == ".parquet" for p in (out / "quarantine").iterdir())
    with pytest.raises(AuditError, match="give --out"):
        audit(csdsl.load(policy), records=records, quarantine=True)
    # a link left where the quarantine goes is refused, never written through
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    linked = tmp_path / "linked"
    linked.mkdir()
    (linked / "quarantine").symlink_to(elsewhere)
    code = main(["audit", policy, "--records", records, "--out", str(linked), "--quarantine"])
    assert code == 2
    err = capsys.readouterr().err
    assert "quarantine: is a link or a file" in err and "give another --out" in err
    assert list(elsewhere.iterdir()) == []

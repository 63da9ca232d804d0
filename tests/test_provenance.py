"""Evidence integrity: report.json records each input's size and SHA-256 and the provenance
(policy files and their hashes, csdsl, Python and holiday-data versions), and
`csdsl verify-report` hashes the files again: unchanged is exit 0, changed or missing exit 1."""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import platform
import shutil
import sys
from pathlib import Path

import pytest

import csdsl
from csdsl.cli import main

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the policies and the inputs the audit reads, as the current directory."""
    shutil.copytree(ROOT / "policies", tmp_path / "policies")
    (tmp_path / "examples").mkdir()
    for name in ("complaints.jsonl", "complaint_events.jsonl", "calls.jsonl"):
        shutil.copy(ROOT / "examples" / name, tmp_path / "examples" / name)
    monkeypatch.chdir(tmp_path)
    return tmp_path


AUDIT = [
    "audit",
    "policies/hotline.csp",
    "--records",
    "examples/complaints.jsonl",
    "--records",
    "Call=examples/calls.jsonl",
    "--events",
    "examples/complaint_events.jsonl",
    "--out",
    "out",
]


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_the_report_records_hashes_and_provenance(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(AUDIT) == 0
    capsys.readouterr()
    report = json.loads((workdir / "out" / "report.json").read_text(encoding="utf-8"))
    for entry in report["inputs"]:
        path = workdir / entry["path"]
        assert entry["sha256"] == _sha(path) and entry["bytes"] == path.stat().st_size
    prov = report["provenance"]
    files = {f["path"]: f for f in prov["policy_files"]}
    # the root, its includes, and what they import, as the command line named them
    assert list(files) == [
        "policies/hotline.csp",
        "policies/complaint_validity.csp",
        "policies/complaint_handling.csp",
        "policies/hotline_qa.csp",
        "policies/common/phrases.csp",
        "policies/hotline_kpis.csp",
    ]
    for name, f in files.items():
        assert f["sha256"] == _sha(workdir / name), name
    assert prov["csdsl"] == csdsl.__version__
    assert prov["python"] == platform.python_version()
    assert prov["holidays"] == {
        "version": importlib.metadata.version("holidays"),
        "used_by_calendars": ["office"],
    }


def test_verify_report_says_what_changed_and_what_is_gone(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(AUDIT) == 0
    capsys.readouterr()
    assert main(["verify-report", "out/report.json"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[-1] == "out/report.json: 9 files: 9 unchanged"
    assert "unchanged  input   examples/complaints.jsonl" in out
    assert "unchanged  policy  policies/hotline_qa.csp" in out
    # one input edited, one policy file removed
    calls = workdir / "examples" / "calls.jsonl"
    before = _sha(calls)
    with calls.open("a", encoding="utf-8") as handle:
        handle.write("\n")
    (workdir / "policies" / "hotline_qa.csp").unlink()
    assert main(["verify-report", "out/report.json"]) == 1
    out = capsys.readouterr().out.splitlines()
    size = calls.stat().st_size
    assert (
        f"changed    input   examples/calls.jsonl  (sha256 {_sha(calls)[:12]}…, was "
        f"{before[:12]}…; {size} bytes, was {size - 1})"
    ) in out
    assert "missing    policy  policies/hotline_qa.csp  (no such file)" in out
    assert out[-1] == "out/report.json: 9 files: 7 unchanged, 1 changed, 1 missing"
    assert main(["verify-report", "--format", "json", "out/report.json"]) == 1
    got = json.loads(capsys.readouterr().out)
    assert got["counts"] == {
        "unchanged": 7,
        "changed": 1,
        "missing": 1,
        "unreadable": 0,
        "not verifiable": 0,
    }
    changed = next(f for f in got["files"] if f["status"] == "changed")
    assert changed["path"] == "examples/calls.jsonl" and changed["sha256"] == before


def test_standard_input_cannot_be_verified_and_says_so(
    workdir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import io

    text = (workdir / "examples" / "complaints.jsonl").read_text(encoding="utf-8")
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(text.encode("utf-8"))))
    argv = ["audit", "policies/complaint_validity.csp", "--records", "-", "--out", "out"]
    assert main(argv) == 0
    capsys.readouterr()
    report = json.loads((workdir / "out" / "report.json").read_text(encoding="utf-8"))
    entry = report["inputs"][0]
    assert (entry["path"], entry["read"], entry["bytes"], entry["sha256"]) == ("-", 240, None, None)
    assert main(["verify-report", "out/report.json"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "not verifiable  input   -  (read from standard input)"
    assert out[-1] == "out/report.json: 2 files: 1 unchanged, 1 not verifiable"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "out/report.json: no such file"),
        ("{not json", "out/report.json: not a readable report.json: expecting property name"),
        ('{"schema": 1}', "out/report.json: not a csdsl audit report (no `inputs` list)"),
        (
            '{"inputs": [{"kind": "records", "path": "a.jsonl", "rows": 1}]}',
            "out/report.json: records no SHA-256 of its files (written before csdsl recorded "
            "them); run the audit again for a report that can be verified",
        ),
    ],
)
def test_a_report_that_cannot_be_verified_is_one_line(
    workdir: Path, capsys: pytest.CaptureFixture[str], content: str | None, message: str
) -> None:
    (workdir / "out").mkdir()
    if content is not None:
        (workdir / "out" / "report.json").write_text(content, encoding="utf-8")
    assert main(["verify-report", "out/report.json"]) == 2
    got = capsys.readouterr()
    assert got.out == "" and got.err.startswith(f"csdsl: {message}")
    assert got.err.count("\n") == 1


def test_an_importers_mapping_is_hashed_and_verified(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copytree(ROOT / "policies", tmp_path / "policies")
    shutil.copytree(ROOT / "examples" / "zendesk", tmp_path / "zendesk")
    monkeypatch.chdir(tmp_path)
    argv = [
        "audit",
        "policies/complaint_handling.csp",
        "--records",
        "zendesk/complaints.jsonl",
        "--events",
        "zendesk/audits.json",
        "--events-from",
        "zendesk",
        "--map",
        "zendesk/map.toml",
        "--now",
        "2024-11-09T12:00:00+08:00",
        "--out",
        "out",
    ]
    assert main(argv) == 0
    capsys.readouterr()
    report = json.loads((tmp_path / "out" / "report.json").read_text(encoding="utf-8"))
    mapping = tmp_path / "zendesk" / "map.toml"
    assert report["provenance"]["other_files"] == [
        {
            "kind": "mapping",
            "path": "zendesk/map.toml",
            "bytes": mapping.stat().st_size,
            "sha256": _sha(mapping),
        }
    ]
    assert "zendesk/audits.json" in {i["path"] for i in report["inputs"]}  # the export itself
    with mapping.open("a", encoding="utf-8") as handle:
        handle.write("\n# edited\n")
    assert main(["verify-report", "out/report.json"]) == 1
    out = capsys.readouterr().out.splitlines()
    assert any(line.startswith("changed    mapping  zendesk/map.toml  (sha256 ") for line in out)

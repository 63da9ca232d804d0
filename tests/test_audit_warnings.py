"""What a run notices in its inputs and reports as warnings, never dropping it (issue 14):
two good rows with one id (both are judged, and an event log's events attach to each), and a
record whose clocks cannot be computed (its timeline has an error)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from csdsl import cli
from csdsl.records import RepeatedIds

ROOT = Path(__file__).resolve().parents[1]
LINES = (ROOT / "examples" / "complaints.jsonl").read_text(encoding="utf-8").splitlines()[:3]


def _file(tmp_path: Path) -> Path:
    second = json.loads(LINES[1])
    again = {**second, "id": 1.0}
    one = {**second, "id": 1}
    path = tmp_path / "dup.jsonl"
    path.write_text(
        "\n".join([*LINES, LINES[0], json.dumps(one), json.dumps(again)]) + "\n", encoding="utf-8"
    )
    return path


def test_repeated_ids_name_both_lines() -> None:
    ids = RepeatedIds(shown=1)
    assert ids.see(1, "a") is None
    assert ids.see(2, "b") is None
    assert ids.see(3, "a") == 1
    assert ids.see(4, 7) is None
    assert ids.see(5, 7.0) == 4  # 7 and 7.0 are one id, as events match them
    warning = ids.warning("f.jsonl")
    assert warning is not None
    assert "2 rows repeat an id" in warning and "line 3 repeats `a` of line 1" in warning
    assert "and 1 more" in warning
    assert RepeatedIds().warning("f.jsonl") is None


def test_validate_warns_of_repeated_ids(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = _file(tmp_path)
    policy = str(ROOT / "policies" / "complaint_validity.csp")
    assert cli.main(["validate", policy, str(data), "--format", "json"]) == 0
    out, err = capsys.readouterr()
    assert len(out.splitlines()) == 6  # every row is still judged
    assert "2 rows repeat an id" in err
    assert "line 4 repeats `C-20241029-0001` of line 1" in err
    assert "line 6 repeats `1.0` of line 5" in err


@pytest.mark.parametrize("engine", ["python", "duckdb"])
def test_audit_warns_of_repeated_ids_on_both_engines(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], engine: str
) -> None:
    data = _file(tmp_path)
    out_dir = tmp_path / "out"
    policy = str(ROOT / "policies" / "hotline.csp")
    code = cli.main(
        ["audit", policy, "--records", str(data), "--engine", engine, "--out", str(out_dir)]
    )
    assert code in (0, 1)
    capsys.readouterr()
    report = json.loads((out_dir / "report.json").read_text(encoding="utf-8"))
    warnings = [w for w in report["warnings"] if "repeat an id" in w]
    assert len(warnings) == 1, report["warnings"]
    assert "line 4 repeats `C-20241029-0001` of line 1" in warnings[0]


def test_a_record_whose_clocks_cannot_be_computed_is_reported_not_dropped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # a due time past 9999-12-31 cannot be shown: the record's timeline has an error, which
    # the audit must report (it was dropped), while the other records are judged as usual
    far = {**json.loads(LINES[0]), "id": "far", "received_at": "9999-12-29T12:00:00+08:00"}
    data = tmp_path / "c.jsonl"
    data.write_text("\n".join([*LINES, json.dumps(far)]) + "\n", encoding="utf-8")
    events = tmp_path / "e.jsonl"
    events.write_text(
        '{"case": "far", "at": "9999-12-29T13:00:00+08:00", "event": "acknowledged"}\n', "utf-8"
    )
    out_dir = tmp_path / "out"
    policy = str(ROOT / "policies" / "hotline.csp")
    argv = ["audit", policy, "--records", str(data), "--events", str(events)]
    assert cli.main([*argv, "--out", str(out_dir)]) in (0, 1)
    err = capsys.readouterr().err
    report = json.loads((out_dir / "report.json").read_text(encoding="utf-8"))
    errors = report["timelines"]["record_errors"]
    assert errors["total"] == 1 and errors["items"][0]["id"] == "far"
    assert errors["items"][0]["line"] == 4
    assert any("could not all be computed" in w for w in report["warnings"])
    assert "could not all be computed" in err
    md = (out_dir / "report.md").read_text(encoding="utf-8")
    assert "could not all be computed" in md


def test_a_link_left_in_the_output_directory_cannot_aim_the_writes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # in a shared output directory, links at the reports' names (or the old fixed temporary
    # name) made the run overwrite whatever they pointed at
    victim = tmp_path / "victim.txt"
    victim.write_text("precious", encoding="utf-8")
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    for name in ("report.md", "report.json", "findings.jsonl", ".findings.jsonl.part"):
        (out_dir / name).symlink_to(victim)
    data = tmp_path / "c.jsonl"
    data.write_text("\n".join(LINES) + "\n", encoding="utf-8")
    policy = str(ROOT / "policies" / "hotline.csp")
    assert cli.main(["audit", policy, "--records", str(data), "--out", str(out_dir)]) in (0, 1)
    capsys.readouterr()
    assert victim.read_text(encoding="utf-8") == "precious"
    assert not (out_dir / "report.md").is_symlink()
    assert json.loads((out_dir / "report.json").read_text(encoding="utf-8"))["inputs"]
    assert not [p for p in out_dir.iterdir() if p.name.endswith(".part") and not p.is_symlink()]


def test_an_empty_out_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    policy = str(ROOT / "policies" / "hotline.csp")
    data = str(ROOT / "examples" / "complaints.jsonl")
    assert cli.main(["audit", policy, "--records", data, "--out", ""]) == 2
    assert "--out: give a directory" in capsys.readouterr().err

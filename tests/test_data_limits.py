"""Data inputs with no end (issue 14): a device given as a data file is refused at once, and a
line longer than `records.MAX_LINE` is a bad row read past in pieces, so no data input can
exhaust memory (review: `ln -s /dev/zero z.jsonl` ended in "internal error (MemoryError)")."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

import csdsl
from csdsl import records
from csdsl.cli import main
from csdsl.records import InputError, Overlong, bounded_lines

ROOT = Path(__file__).resolve().parents[1]
SEED = str(ROOT / "policies" / "complaint_validity.csp")
GOOD = (ROOT / "examples" / "complaints.jsonl").read_text(encoding="utf-8").splitlines()[:2]

pytestmark = pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero here")


@pytest.mark.parametrize("suffix", [".jsonl", ".csv", ".json"])
def test_a_device_as_a_records_file_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], suffix: str
) -> None:
    zero = tmp_path / f"z{suffix}"
    zero.symlink_to("/dev/zero")
    assert main(["validate", SEED, str(zero)]) == 2
    assert "is a device, not a data file" in capsys.readouterr().err
    with pytest.raises(InputError, match="is a device"):
        records.count_rows(str(zero))


def test_a_device_as_events_or_transcripts_is_refused(tmp_path: Path) -> None:
    zero = tmp_path / "z.jsonl"
    zero.symlink_to("/dev/zero")
    policy = csdsl.load(ROOT / "policies" / "hotline.csp")
    data = tmp_path / "c.jsonl"
    data.write_text("\n".join(GOOD) + "\n", encoding="utf-8")
    with pytest.raises(InputError, match="is a device"):
        policy.read_events(str(zero), "Complaint")
    with pytest.raises(InputError, match="is a device"):
        list(policy.check_transcript_file(zero))
    json_zero = tmp_path / "z.json"
    json_zero.symlink_to("/dev/zero")
    with pytest.raises(InputError, match="is a device"):
        list(policy.check_transcript_file(json_zero))


def test_a_line_too_long_is_a_bad_row_and_the_next_lines_are_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(records, "MAX_LINE", 100)
    lines = list(bounded_lines(io.StringIO("a" * 250 + "\n" + "short\n" + "b" * 101)))
    assert [type(x) for x in lines] == [Overlong, str, Overlong]
    assert [getattr(x, "length", None) for x in lines] == [251, None, 101]
    assert lines[1] == "short\n"
    monkeypatch.setattr(records, "MAX_LINE", 1000)  # the good lines are about 600 long
    text = "x" * 1500 + "\n" + "\n".join(GOOD) + "\n"
    reader = csdsl.load(SEED).reader()
    rows = list(reader.read_jsonl_lines(io.StringIO(text)))
    assert [(r.line, r.error.code if r.error else None) for r in rows] == [
        (1, "R001"),
        (2, None),
        (3, None),
    ]
    assert rows[0].error is not None and "1501 characters long" in rows[0].error.message


def test_endless_standard_input_keeps_memory_bounded() -> None:
    # 150 MB of NULs and no line break on stdin, under a 1.5 GB address-space limit: before,
    # the one line was held whole (MemoryError); now it is one bad row
    script = (
        "import resource, sys\n"
        "resource.setrlimit(resource.RLIMIT_AS, (1_500_000_000, 1_500_000_000))\n"
        "from csdsl.cli import main\n"
        f"sys.exit(main(['validate', {SEED!r}, '-']))\n"
    )
    zeros = subprocess.Popen(["head", "-c", "150000000", "/dev/zero"], stdout=subprocess.PIPE)
    run = subprocess.run(
        [sys.executable, "-c", script],
        stdin=zeros.stdout,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={**os.environ, "CSDSL_NO_CACHE": "1"},
    )
    zeros.wait()
    assert run.returncode == 0, run.stderr[-500:]
    assert "R001 the line is 150000000 characters long" in run.stdout
    assert "1 row read: 0 good, 1 bad" in run.stderr


@pytest.mark.parametrize("engine", ["python", "duckdb"])
def test_a_csv_header_naming_a_column_twice_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], engine: str
) -> None:
    # the last of the two cells silently won: which one is the field's is not for csdsl to guess
    data = tmp_path / "inquiries.csv"
    data.write_text(
        "id,received_at,team,team,replied,replied_in_time,satisfied\n"
        "Q-1,2024-10-29 08:41:08,a,b,true,true,true\n",
        encoding="utf-8",
    )
    policy = str(ROOT / "policies" / "hotline.csp")
    argv = ["audit", policy, "--records", f"Inquiry={data}", "--engine", engine]
    assert main([*argv, "--out", str(tmp_path / "out")]) == 2
    assert "names `team` twice (columns 3 and 4)" in capsys.readouterr().err


def test_an_id_no_float_holds_is_a_bad_row(tmp_path: Path) -> None:
    data = tmp_path / "r.jsonl"
    data.write_text('{"id": 1e400}\n' + GOOD[0] + "\n", encoding="utf-8")
    rows = list(csdsl.load(SEED).validate_file(data))
    assert rows[0].error is not None and rows[0].error.code == "R004"
    assert rows[0].id is None  # not shown as `inf`
    assert rows[1].error is None


def test_the_transcripts_verb_names_a_device_or_a_directory_as_data(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # it said "a policy is read from a file" of a transcripts file
    zero = tmp_path / "z.jsonl"
    zero.symlink_to("/dev/zero")
    policy = str(ROOT / "policies" / "hotline_qa.csp")
    assert main(["transcripts", policy, str(zero)]) == 2
    assert "z.jsonl: is a device, not a data file" in capsys.readouterr().err
    assert main(["transcripts", policy, str(tmp_path)]) == 2
    assert "is a directory" in capsys.readouterr().err


def test_a_json_array_with_stray_commas_loses_no_record(tmp_path: Path) -> None:
    # `[R1,,R2]` lost R2 inside "the rest of the file cannot be read"; `[R1,]` was taken
    # silently, though strict JSON has no trailing comma
    data = tmp_path / "r.json"
    data.write_text(f"[{GOOD[0]},,\n{GOOD[1]},\n]\n", encoding="utf-8")
    rows = list(csdsl.load(SEED).validate_file(data))
    assert [(r.line, r.error.code if r.error else r.id) for r in rows] == [
        (1, "C-20241029-0001"),
        (1, "R001"),
        (2, "C-20241029-0002"),
        (3, "R001"),
    ]
    assert records.count_rows(str(data)) == 4


@pytest.mark.parametrize(
    "text", ["2024-03-11T10:00\x00", "2024-03-11T10:00\x1f", "\u30002024-03-11T10:00"]
)
def test_a_datetime_with_a_stray_character_is_refused(text: str) -> None:
    # fromisoformat let a NUL, a control character or an ideographic space through
    from csdsl import values

    with pytest.raises(ValueError, match="is not an ISO 8601 datetime"):
        values.parse_datetime(text)
    assert values.parse_datetime(" 2024-03-11T10:00 ").hour == 10  # spaces around are fine

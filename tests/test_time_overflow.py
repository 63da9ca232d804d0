"""Datetimes near the ends of Python's calendar (years 1 and 9999), and time amounts too long
for a `timedelta`: a bad row, a per-record timeline error or a diagnostic, never a crash
(issue 14, item 4)."""

from __future__ import annotations

import datetime as dt
import json
import zoneinfo
from pathlib import Path

import pytest

from csdsl import values
from csdsl.cli import main

POLICY = """policy "ovf" version "1" effective 2024-01-01 timezone "Asia/Shanghai"

record Complaint {
  received_at: datetime
  late: bool
}

valid Complaint when any {
  flagged "flagged": late
}

calendar office {
  open mon-fri 09:00-18:00
}

deadline reply for Complaint {
  starts at received_at
  stops on replied
  within 2h
}

deadline fix for Complaint {
  starts at received_at
  stops on fixed
  within 48h
  warn 47h before
}

deadline work for Complaint {
  starts at received_at
  stops on fixed
  within 3 working days on office
}
"""


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert "internal error" not in err and "Traceback" not in err
    assert code in (0, 1, 2)
    return code, out, err


def lines(path: Path, *rows: dict[str, object]) -> str:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return str(path)


@pytest.fixture
def policy(tmp_path: Path) -> str:
    p = tmp_path / "ovf.csp"
    p.write_text(POLICY, encoding="utf-8")
    return str(p)


# ---- reading -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "9999-12-31T23:00:00+08:00",
        "0001-01-01T00:00:00+14:00",
        "9999-12-31T23:59:59",
        "0001-01-01T00:00",
        "0001-01-01T12:00:00+00:00",
    ],
)
def test_datetimes_at_the_ends_of_the_calendar_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="too close to the ends of the calendar"):
        values.parse_datetime(text)


def test_datetimes_just_inside_the_range_are_read() -> None:
    for text in ("9999-12-30T23:59:59+00:00", "0001-01-02T00:00:00Z", "9999-12-30T12:00"):
        assert values.parse_datetime(text).year in (1, 9999)


def test_a_naive_time_at_the_edge_is_refused_in_its_zone() -> None:
    # on the wall clock it is in range, but in New York it is 9999-12-31 in UTC
    moment = dt.datetime(9999, 12, 30, 23, 0)
    with pytest.raises(ValueError, match="too close to the ends"):
        values.instant(moment, zoneinfo.ZoneInfo("America/New_York"))
    # in Shanghai it is 15:00 UTC the same day: fine
    assert values.instant(moment, zoneinfo.ZoneInfo("Asia/Shanghai")).utcoffset() == dt.timedelta(
        hours=8
    )


# ---- the command line ------------------------------------------------------------------------


def test_a_record_in_year_9999_is_a_bad_row_and_the_others_are_judged(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, policy: str
) -> None:
    records = lines(
        tmp_path / "r.jsonl",
        {"id": 1, "received_at": "9999-12-31T23:00:00+08:00", "late": True},
        {"id": 2, "received_at": "2024-10-29T09:00:00+08:00", "late": True},
        {"id": 3, "received_at": "0001-01-01T00:00:00+14:00", "late": False},
    )
    _, out, _ = run(capsys, "validate", policy, records)
    assert "line 1  1  error  R005" in out and "line 3  3  error  R005" in out
    assert "line 2  2  valid" in out
    _, out, _ = run(capsys, "timeline", policy, records, "--format", "json")
    rows = [json.loads(x) for x in out.splitlines()]
    assert [r.get("error", {}).get("code") for r in rows] == ["R005", None, "R005"]
    assert rows[1]["milestones"]
    out_dir = tmp_path / "out"
    run(capsys, "audit", policy, "--records", records, "--out", str(out_dir))
    report = json.loads((out_dir / "report.json").read_text(encoding="utf-8"))
    assert report["summary"]["bad_rows"] == 2 and report["summary"]["records"] == 1


def test_an_event_in_year_9999_is_an_event_problem(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, policy: str
) -> None:
    records = lines(
        tmp_path / "r.jsonl", {"id": 1, "received_at": "2024-10-29T09:00:00+08:00", "late": False}
    )
    events = lines(
        tmp_path / "e.jsonl",
        {"case": 1, "event": "replied", "at": "9999-12-31T23:59:00-08:00"},
        {"case": 1, "event": "fixed", "at": "2024-10-29T10:00:00+08:00"},
    )
    _, out, err = run(capsys, "timeline", policy, records, "--events", events)
    assert "e.jsonl:1: R005 `at`:" in err and "too close to the ends of the calendar" in err
    assert "met            deadline   fix" in out
    run(capsys, "audit", policy, "--records", records, "--events", events, "--out", str(tmp_path))
    report = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert report["summary"]["bad_rows"] == 1


@pytest.mark.parametrize("verb", ["timeline", "audit"])
def test_now_at_the_end_of_the_calendar_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, policy: str, verb: str
) -> None:
    records = lines(
        tmp_path / "r.jsonl", {"id": 1, "received_at": "2024-10-29T09:00:00+08:00", "late": False}
    )
    argv = [policy, records] if verb == "timeline" else [policy, "--records", records]
    if verb == "audit":
        argv += ["--out", str(tmp_path / "out")]
    code, _, err = run(capsys, verb, *argv, "--now", "0001-01-01T00:00:00+14:00")
    assert code == 2
    assert err.startswith("csdsl: --now: `0001-01-01T00:00:00+14:00` is too close")
    assert err.count("\n") == 1


def test_a_due_time_past_the_calendar_is_that_records_timeline_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, policy: str
) -> None:
    """A record the reader accepts whose 48-hour or 3-working-day clock would run past 9999:
    that deadline is an error of the record; its 2-hour clock and the other records are kept."""
    records = lines(
        tmp_path / "r.jsonl",
        {"id": 1, "received_at": "9999-12-29T23:00:00+08:00", "late": False},
        {"id": 2, "received_at": "2024-10-29T09:00:00+08:00", "late": False},
        {"id": 3, "received_at": "0001-01-02T00:00:00Z", "late": False},
    )
    events = lines(tmp_path / "e.jsonl", {"case": 1, "event": "replied", "at": "9999-12-30T00:00"})
    _, out, _ = run(
        capsys,
        "timeline",
        policy,
        records,
        "--events",
        events,
        "--now",
        "9999-12-30T12:00",
        "--format",
        "json",
    )
    first, second, third = (json.loads(x) for x in out.splitlines())
    assert [m["clause"] for m in first["milestones"]] == ["reply"]
    assert first["milestones"][0]["status"] == "met"
    assert len(first["errors"]) == 2
    assert all("falls outside the datetimes csdsl can show" in e for e in first["errors"])
    assert first["errors"][0].startswith("deadline `fix`: `48h` from 9999-12-29T15:00:00+00:00")
    assert first["errors"][1].startswith("deadline `work`: `3 working days on office`")
    for other in (second, third):
        assert not other.get("errors") and len(other["milestones"]) == 4
    _, out, _ = run(capsys, "timeline", policy, records, "--events", events)
    assert "error: deadline `fix`" in out


def test_the_timeline_api_turns_an_overflow_into_an_error(policy: str) -> None:
    """`Policy.timeline` with Python datetimes: a 48-hour clock near year 9999 is an error of
    that deadline, not an `OverflowError`; the 2-hour clock is judged."""
    import csdsl

    start = dt.datetime(9999, 12, 30, 20, 0, tzinfo=dt.UTC)
    tl = csdsl.load(policy).timeline(
        {"id": "x", "received_at": start, "late": False}, [{"event": "replied", "at": start}]
    )
    assert [m.clause for m in tl.milestones] == ["reply"]
    assert [e.split(":")[0] for e in tl.errors] == ["deadline `fix`", "deadline `work`"]


def test_working_time_too_long_for_a_timedelta_is_a_diagnostic(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    p = tmp_path / "big.csp"
    p.write_text(
        POLICY.replace("within 3 working days on office", "within 99999999999 working hours"),
        encoding="utf-8",
    )
    text = p.read_text(encoding="utf-8")
    p.write_text(text.replace("work for Complaint {", "work for Complaint {\n  calendar office"))
    code, out, _ = run(capsys, "check", str(p))
    assert code == 1
    assert "error[E224]: `99999999999 working hours` is too long a working time" in out
    assert "hint: durations are at most 999999999 days" in out

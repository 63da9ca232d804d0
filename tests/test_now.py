"""`--now` and `now=` are instants (issue 14, item 11): a naive one is read on the policy
zone's clock (never the machine's), and a time the clocks skip is refused, in `timeline`,
`audit` and the Python API alike."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

import csdsl
from csdsl.cli import main

POLICY = """policy "ny" version "1" effective 2024-01-01 timezone "America/New_York"

record Complaint {
  received_at: datetime
}

deadline reply for Complaint {
  starts at received_at
  stops on replied
  within 2h
}
"""


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path, Path]:
    policy = tmp_path / "ny.csp"
    policy.write_text(POLICY, encoding="utf-8")
    records = tmp_path / "r.jsonl"
    records.write_text('{"id": 1, "received_at": "2024-06-03T09:00"}\n', encoding="utf-8")
    events = tmp_path / "e.jsonl"
    events.write_text('{"case": 1, "event": "noted", "at": "2024-06-03T09:05"}\n', "utf-8")
    return policy, records, events


def _audit(files: tuple[Path, Path, Path], out: Path, now: str) -> dict[str, object]:
    policy, records, events = files
    argv = ["audit", str(policy), "--records", str(records), "--events", str(events)]
    main([*argv, "--now", now, "--out", str(out)])
    report: dict[str, object] = json.loads((out / "report.json").read_text(encoding="utf-8"))
    return report


def test_a_naive_now_in_audit_is_on_the_policys_clock(
    files: tuple[Path, Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # 10:30 EDT: the 2h reply clock (due 11:00 EDT) is still pending.  Before, a naive --now
    # was read on the machine's clock (UTC here): 10:30 UTC is 06:30 EDT
    naive = _audit(files, tmp_path / "naive", "2024-06-03T10:30")
    offset = _audit(files, tmp_path / "offset", "2024-06-03T10:30-04:00")
    capsys.readouterr()
    assert naive["as_of"] == offset["as_of"] == "2024-06-03T10:30:00-04:00"
    assert naive["timelines"] == offset["timelines"]


@pytest.mark.parametrize("verb", ["timeline", "audit"])
def test_a_now_the_clocks_skip_is_a_usage_error(
    files: tuple[Path, Path, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    verb: str,
) -> None:
    policy, records, events = files
    if verb == "timeline":
        argv = ["timeline", str(policy), str(records), "--events", str(events)]
    else:
        argv = ["audit", str(policy), "--records", str(records), "--out", str(tmp_path / "o")]
    assert main([*argv, "--now", "2024-03-10T02:30"]) == 2
    err = capsys.readouterr().err
    assert "--now: 2024-03-10T02:30 does not exist in America/New_York" in err


def test_the_api_reads_now_like_the_cli(files: tuple[Path, Path, Path]) -> None:
    policy_path, records, _ = files
    policy = csdsl.load(policy_path)
    values = {"id": 1, "received_at": "2024-06-03T09:00"}
    naive = policy.timeline(values, [], now=dt.datetime(2024, 6, 3, 10, 30))
    assert naive.milestones[0].status == "pending"
    with pytest.raises(ValueError, match="does not exist"):
        policy.timeline(values, [], now=dt.datetime(2024, 3, 10, 2, 30))
    with pytest.raises(csdsl.AuditError, match="does not exist"):
        csdsl.audit(policy, records=str(records), now=dt.datetime(2024, 3, 10, 2, 30))


def test_generated_datetimes_are_instants_in_a_dst_zone() -> None:
    # verify and diff draw records with csdsl.testing: a value carrying the zone itself would
    # subtract on the wall clock (1h45m from 01:30 to 03:15 on a spring-forward night)
    import zoneinfo

    from hypothesis import given, settings

    from csdsl.testing import ANCHOR, on_clock, plain_value, record_values

    ny = zoneinfo.ZoneInfo("America/New_York")
    policy = csdsl.load(Path(__file__).resolve().parents[1] / "policies" / "complaint_validity.csp")
    record = policy.ir.record("Complaint")
    assert record is not None

    @settings(max_examples=30, deadline=None)
    @given(record_values(record, ny))
    def drawn_are_fixed_offsets(values: dict[str, object]) -> None:
        for v in values.values():
            if isinstance(v, dt.datetime):
                assert type(v.tzinfo) is dt.timezone

    drawn_are_fixed_offsets()
    received = next(f for f in record.fields if f.name == "received_at")
    assert type(plain_value(received, ny).tzinfo) is dt.timezone
    assert on_clock(ANCHOR, ny).utcoffset() == dt.timedelta(hours=-4)
    skipped = on_clock(dt.datetime(2024, 3, 10, 2, 30), ny)  # moved past the gap
    assert skipped.isoformat() == "2024-03-10T03:30:00-04:00"
    gap = on_clock(dt.datetime(2024, 3, 10, 3, 15), ny) - on_clock(
        dt.datetime(2024, 3, 10, 1, 30), ny
    )
    assert gap == dt.timedelta(minutes=45)


def test_explain_spells_suggested_times_on_the_zones_clock(tmp_path: Path) -> None:
    # the instants were right, but a neighbour of a winter time was shown at the winter offset
    # even in summer time (02:30:01-05:00: a wall time New York never shows)
    from csdsl.explain import explain

    policy_path = tmp_path / "ny.csp"
    policy_path.write_text(
        'policy "ny" version "1" effective 2024-01-01 timezone "America/New_York"\n'
        "record C {\n  received_at: datetime\n  replied_at: datetime\n}\n"
        'valid C when any {\n  slow "over an hour": replied_at - received_at > 1h\n}\n',
        encoding="utf-8",
    )
    policy = csdsl.load(policy_path)
    record = {"id": 1, "received_at": "2024-03-10T01:30", "replied_at": "2024-03-10T03:15"}
    suggested = {
        c.field: c.new.isoformat() for flip in explain(policy, record).flips for c in flip.changes
    }
    assert suggested == {
        "received_at": "2024-03-10T01:14:59-05:00",
        "replied_at": "2024-03-10T03:30:01-04:00",
    }


def test_a_now_that_is_not_a_datetime_is_a_type_error(files: tuple[Path, Path, Path]) -> None:
    policy_path, records, events = files
    policy = csdsl.load(policy_path)
    with pytest.raises(TypeError, match=r"must be a datetime\.datetime, not str"):
        policy.timeline_file(records, events, "2024-06-03T10:30")  # type: ignore[arg-type]

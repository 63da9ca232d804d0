"""The report's human forms of durations, times and evidence (`csdsl.report.humanize`)."""

from __future__ import annotations

import datetime as dt

from hypothesis import given, strategies as st

from csdsl.report import humanize as h
from csdsl.values import format_duration


def test_durations_in_the_two_largest_units() -> None:
    assert h.duration("PT988H15M3S") == "41 d 4 h"
    assert h.duration("PT2H35M1S") == "2 h 35 min"
    assert h.duration("PT17M40S") == "17 min 40 s"
    assert h.duration("PT45S") == "45 s"
    assert h.duration("PT0S") == "0 s"
    assert h.duration("P2D") == "2 d"
    assert h.duration("PT24H5S") == "1 d"  # adjacent units only: no `1 d 0 h 5 s`
    assert h.duration("-PT5M") == "-5 min"
    assert h.duration(dt.timedelta(hours=3, minutes=1)) == "3 h 1 min"


def test_what_is_not_a_duration_is_not_read_as_one() -> None:
    for v in ("PT", "P", "late", "2024-10-29", None, 5, "PTXH", "P1Y"):
        assert h.duration(v) is None, v


def test_local_times_to_the_minute_in_their_own_offset() -> None:
    assert h.moment("2024-10-29T16:12:18+08:00") == "2024-10-29 16:12"
    assert h.moment("2024-10-29T16:12:18.5Z") == "2024-10-29 16:12"
    assert h.moment("tomorrow") is None
    assert h.moment_pair("2024-10-29T16:12:18+08:00", "2024-10-29T13:37:17+08:00") == (
        "2024-10-29 16:12",
        "13:37",
    )
    assert h.moment_pair("2024-10-29T16:12:18+08:00", "2024-10-28T13:37:17+08:00") == (
        "2024-10-29 16:12",
        "2024-10-28 13:37",
    )


def test_a_clock_finding_as_one_sentence() -> None:
    late = {
        "kind": "deadline",
        "due": "2024-10-29T13:37:17+08:00",
        "at": "2024-10-29T16:12:18+08:00",
        "late_by": "PT2H35M1S",
    }
    assert h.clock(late, "`replied` at line 16, after the due time") == (
        "replied 2024-10-29 16:12, due 13:37: 2 h 35 min late"
    )
    missed = {"kind": "update", "due": "2024-11-06T12:40:09+08:00", "at": None}
    assert h.clock({**missed, "late_by": "PT28H37M57S"}, "no `progress_update` in time") == (
        "not done, due 2024-11-06 12:40: 1 d 4 h overdue when judged"
    )
    esc = {**late, "kind": "escalation"}
    assert h.clock(esc, "escalated late, at line 47").startswith("escalated 2024-10-29 16:12")
    assert h.clock({"turn": 1}) is None


def test_evidence_as_readable_pairs() -> None:
    ev = {
        "ignition_requested_at": "2024-10-28T14:40:06+08:00",
        "explained": False,
        "feedback_form_delay": "PT22H4M",
        "points": 5.0,
        "span": [1, 2],
        "text": None,
    }
    assert h.evidence(ev) == [
        ("ignition requested at", "2024-10-28 14:40"),
        ("explained", "no"),
        ("feedback form delay", "22 h 4 min"),
        ("points", "5"),
        ("span", "[1, 2]"),
        ("text", "—"),
    ]
    assert h.evidence("plain words") == [("", "plain words")]
    assert h.evidence(None) == []


@given(st.timedeltas(min_value=dt.timedelta(0), max_value=dt.timedelta(days=10**6)))
def test_a_duration_never_reads_longer_than_it_is(d: dt.timedelta) -> None:
    """Read back, the human form is at most the duration and short of it by less than one of
    the unit after the largest one shown (truncated, never rounded up); the ISO form reads
    the same."""
    text = h.duration(d)
    assert text is not None and text == h.duration(format_duration(d))
    sizes = {"d": 86400, "h": 3600, "min": 60, "s": 1}
    words = text.split()
    shown = sum(int(n) * sizes[u] for n, u in zip(words[::2], words[1::2], strict=True))
    total = int(d.total_seconds())
    assert shown <= total
    units = list(sizes)
    after = units.index(words[1]) + 1
    assert total - shown < (sizes[units[after]] if after < len(units) else 1)


def test_an_expression_key_is_kept_as_written() -> None:
    ev = {"first(transfer_approved)": None, "due_at": "PT1H"}
    assert h.evidence(ev) == [("first(transfer_approved)", "—"), ("due at", "1 h")]


def test_a_clock_message_cites_the_event_log() -> None:
    f = {
        "kind": "deadline",
        "message": "`replied` at line 142, after the due time",
        "evidence": {"due": "2024-10-29T13:37:17+08:00", "at": "2024-10-29T16:12:18+08:00"},
    }
    when, message = h.finding_text(f, "examples/complaint_events.jsonl")
    assert message == "`replied` at examples/complaint_events.jsonl:142, after the due time"
    assert when == "replied 2024-10-29 16:12, due 13:37"
    # a transcript's message is its own (a turn, not a line of the event log)
    t = {"kind": "transcript", "message": "at line 3 of the script", "evidence": {}}
    assert h.finding_text(t, "events.jsonl") == ("", "at line 3 of the script")
    assert h.finding_text(f, None)[1] == "`replied` at line 142, after the due time"


def test_iso_durations_of_a_fraction_of_a_second_stay_iso() -> None:
    """`format_duration` wrote `PT1e-06S` for a microsecond (found by the property above)."""
    assert format_duration(dt.timedelta(microseconds=1)) == "PT0.000001S"
    assert format_duration(dt.timedelta(seconds=59, microseconds=123456)) == "PT59.123456S"
    assert format_duration(dt.timedelta(seconds=1.5)) == "PT1.5S"
    assert h.duration("PT0.000001S") == "0 s"

"""Record-level rules (`rule NAME "words" for RECORD { ... }`): checking, statuses, counts per
period against a brute-force count, the calendar functions, examples and the audit."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings, strategies as st

import csdsl
from csdsl.auditor import audit
from csdsl.check import compile_file
from csdsl.source import SourceFile
from csdsl.syntax.parse import format_source
from csdsl.timeline import Event

SH = ZoneInfo("Asia/Shanghai")

STAY = """policy "病区" timezone "Asia/Shanghai"

record Stay {
  admitted_at: datetime
  discharged_at: datetime?
  ward: text?
}
"""


def _policy(tmp_path: Path, body: str, name: str = "p.csp") -> csdsl.Policy:
    path = tmp_path / name
    path.write_text(STAY + body, encoding="utf-8")
    return csdsl.load(path)


def _codes(tmp_path: Path, body: str) -> list[str]:
    path = tmp_path / "bad.csp"
    path.write_text(STAY + body, encoding="utf-8")
    return [d.code for d in compile_file(path).diagnostics]


# ---- checking ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ("rule r for Stay { severity major }", "E290"),
        ("rule r for Stay { require admitted_at }", "E291"),
        ("rule r for Stay { when ward require count(x) > 0 }", "E291"),
        ("rule r for Stay { require total(x) > 0 }", "E292"),
        ("rule r for Stay { require count(Stay) > 0 }", "E292"),
        ("rule r for Stay { require date(count(x)) < date(admitted_at) }", "E292"),
        ("rule r for Stay { require weekday(ward) = 1 }", "E293"),
        ("rule r for Stay { require count(x) > 0 severity dire }", "E294"),
        ("rule r for Stay { require count(x) > 0 points 1 points 2 }", "E295"),
        ("rule r for Stay { when ward is set when ward is set require count(x) > 0 }", "E295"),
        (
            "rule r for Stay { require at least 0 x per day from admitted_at to admitted_at }",
            "E296",
        ),
        (
            "rule r for Stay { require at least 1 x per month from admitted_at to admitted_at }",
            "E296",
        ),
        (
            "rule r for Stay { require at least 1 x per day in 12:00-09:00 "
            "from admitted_at to admitted_at }",
            "E296",
        ),
        ("rule r for Stay { require at least 1 x per day from ward to admitted_at }", "E297"),
        ("rule r for Nobody { require count(x) > 0 }", "E203"),
        (
            "rule r for Stay { require count(x) > 0 }\nrule r for Stay { require count(y) > 0 }",
            "E202",
        ),
    ],
)
def test_rule_mistakes_are_diagnosed(tmp_path: Path, body: str, code: str) -> None:
    assert code in _codes(tmp_path, body)


def test_an_expectation_of_a_status_no_rule_has_is_e410(tmp_path: Path) -> None:
    body = """rule r for Stay { require count(x) > 0 }
example e "x" {
  given Stay { admitted_at: 2024-03-01T09:00 }
  expect r met
}
"""
    assert "E410" in _codes(tmp_path, body)


def test_an_event_no_clause_reads_in_an_example_is_e408(tmp_path: Path) -> None:
    body = """rule r for Stay { require count(ward_round) > 0 }
example e "x" {
  given Stay { admitted_at: 2024-03-01T09:00 }
  events { ward_rond at 2024-03-01T10:00 }
  expect r broken
}
"""
    assert "E408" in _codes(tmp_path, body)


def test_a_rule_formats_to_itself(tmp_path: Path) -> None:
    text = (
        STAY
        + """
rule transfer "批准后方可转院" for Stay {
  when count(transferred) > 0
  require first(transfer_approved) is set
    and date(first(transfer_approved)) <= date(first(transferred))
    and time_of_day(first(transferred)) >= 8h
  require at least 2 ward_round per day in 00:00-12:00 from admitted_at to discharged_at
  severity critical
  points 1
}
"""
    )
    formatted, diags = format_source(SourceFile("p.csp", text))
    assert diags == []
    assert formatted == text


# ---- statuses ------------------------------------------------------------------------------


def _at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=SH)


def _events(*pairs: tuple[str, str]) -> list[Event]:
    return sorted((Event(_at(at), name) for name, at in pairs), key=lambda e: e.at)


def test_statuses(tmp_path: Path) -> None:
    p = _policy(
        tmp_path,
        """rule transfer for Stay {
  when count(transferred) > 0
  require first(approved) is set and first(approved) <= first(transferred)
}
rule by_ward for Stay {
  when ward = "icu"
  require count(round) >= 1
}
""",
    )
    check = p.rule_checker("Stay")
    values = {"admitted_at": _at("2024-03-01T09:00"), "discharged_at": None, "ward": None}

    def statuses(events: list[Event] | None, **changes: object) -> list[str]:
        return [r.status for r in check({**values, **changes}, events)]

    assert statuses([]) == ["not_applicable", "unknown"]  # `ward` missing: unknown, no finding
    assert statuses([], ward="icu") == ["not_applicable", "broken"]
    assert statuses(_events(("transferred", "2024-03-02T09:00")), ward="x") == [
        "broken",
        "not_applicable",
    ]
    approved_first = _events(("approved", "2024-03-02T08:00"), ("transferred", "2024-03-02T09:00"))
    assert statuses(approved_first, ward="x")[0] == "kept"
    approved_late = _events(("transferred", "2024-03-02T09:00"), ("approved", "2024-03-02T10:00"))
    assert statuses(approved_late, ward="x")[0] == "broken"
    # no event log at all: a rule that reads one is unknown, never broken
    assert statuses(None, ward="icu") == ["unknown", "unknown"]


def test_a_comparison_with_a_missing_event_is_unknown_not_broken(tmp_path: Path) -> None:
    p = _policy(
        tmp_path, "rule notice for Stay { require date(first(told)) < date(discharged_at) }\n"
    )
    values = {"admitted_at": _at("2024-03-01T09:00"), "discharged_at": _at("2024-03-03T09:00")}
    (result,) = p.rule_checker()(values, [])
    assert result.status == "unknown"
    (result,) = p.rule_checker()(values, _events(("told", "2024-03-03T07:00")))
    assert result.status == "broken"
    assert dict(result.values)["first(told)"] == _at("2024-03-03T07:00")


def test_calendar_functions_read_the_policys_clock(tmp_path: Path) -> None:
    p = _policy(
        tmp_path,
        """rule morning for Stay { require time_of_day(admitted_at) < 12h }
rule weekday for Stay { require weekday(admitted_at) <= 5 }
rule same_day for Stay { require date(admitted_at) = 2024-03-02 }
""",
    )
    # 2024-03-01T20:00Z is 04:00 on Saturday 2 March in Shanghai
    values = {"admitted_at": dt.datetime(2024, 3, 1, 20, 0, tzinfo=dt.UTC)}
    got = {r.rule: r.status for r in p.rule_checker()(values, [])}
    assert got == {"morning": "kept", "weekday": "broken", "same_day": "kept"}


# ---- counts per period: the law -----------------------------------------------------------

_DAY0 = dt.datetime(2024, 3, 1, tzinfo=SH)


def _brute(
    events: list[dt.datetime],
    start: dt.datetime,
    end: dt.datetime,
    n: int,
    week: bool,
    hours: tuple[int, int] | None,
) -> bool:
    """Every whole local day (Monday-Sunday week) strictly between the dates has n events."""
    first, last = start.date() + dt.timedelta(days=1), end.date() - dt.timedelta(days=1)
    day = first
    while day <= last:
        if week:
            if day.weekday() == 0 and day + dt.timedelta(days=6) <= last:
                span = {day + dt.timedelta(days=i) for i in range(7)}
                if sum(1 for e in events if e.date() in span and _in(e, hours)) < n:
                    return False
        elif sum(1 for e in events if e.date() == day and _in(e, hours)) < n:
            return False
        day += dt.timedelta(days=1)
    return True


def _in(e: dt.datetime, hours: tuple[int, int] | None) -> bool:
    return hours is None or hours[0] <= e.hour < hours[1]


@settings(max_examples=150, deadline=None)
@given(
    st.integers(0, 40),
    st.integers(0, 40),
    st.lists(st.integers(0, 45 * 24 - 1), max_size=40),
    st.integers(1, 3),
    st.booleans(),
    st.one_of(st.none(), st.sampled_from([(0, 12), (12, 24), (8, 17)])),
    st.data(),
)
def test_counts_per_period_agree_with_a_brute_force_count(
    a: int,
    length: int,
    hours_in: list[int],
    n: int,
    week: bool,
    hours: tuple[int, int] | None,
    data: st.DataObject,
) -> None:
    start = _DAY0 + dt.timedelta(days=a, hours=data.draw(st.integers(0, 23)))
    end = start + dt.timedelta(days=length, hours=data.draw(st.integers(0, 23)))
    moments = sorted(_DAY0 + dt.timedelta(hours=h, minutes=30) for h in hours_in)
    window = f" in {hours[0]:02d}:00-{hours[1]:02d}:00" if hours else ""
    period = "week" if week else "day"
    text = (
        STAY + f"rule r for Stay {{ require at least {n} w per {period}{window} "
        "from admitted_at to discharged_at }\n"
    )
    policy = _load_text(text)
    (result,) = policy.rule_checker()(
        {"admitted_at": start, "discharged_at": end}, [Event(m, "w") for m in moments]
    )
    assert (result.status == "kept") == _brute(moments, start, end, n, week, hours)
    assert result.status in ("kept", "broken")


_LOADED: dict[str, csdsl.Policy] = {}


def _load_text(text: str) -> csdsl.Policy:
    if text not in _LOADED:
        import tempfile

        with tempfile.TemporaryDirectory() as d:
            path = Path(d) / "p.csp"
            path.write_text(text, encoding="utf-8")
            _LOADED[text] = csdsl.load(path)
    return _LOADED[text]


def test_a_stay_still_open_counts_up_to_now_or_is_unknown(tmp_path: Path) -> None:
    p = _policy(
        tmp_path,
        "rule rounds for Stay { require at least 1 w per day from admitted_at to discharged_at }\n",
    )
    values = {"admitted_at": _at("2024-03-01T09:00"), "discharged_at": None}
    events = _events(("w", "2024-03-02T09:00"))
    (open_,) = p.rule_checker()(values, events)
    assert open_.status == "unknown"
    (kept,) = p.rule_checker()(values, events, _at("2024-03-03T01:00"))
    assert kept.status == "kept"
    (broken,) = p.rule_checker()(values, events, _at("2024-03-05T01:00"))
    assert broken.status == "broken"
    assert broken.detail is not None and "2024-03-03" in broken.detail


# ---- examples and the audit ------------------------------------------------------------------


def test_a_failing_rule_example_says_what_the_rule_found(tmp_path: Path) -> None:
    p = _policy(
        tmp_path,
        """rule r "至少一次" for Stay { require count(w) >= 1 }
example e "x" {
  given Stay { admitted_at: 2024-03-01T09:00 }
  expect r kept
}
""",
    )
    (result,) = p.run_examples()
    assert not result.passed
    assert "`r`: expected kept, got broken (require count(w) >= 1)" in result.message


def test_the_audit_reports_broken_rules_with_their_points(tmp_path: Path) -> None:
    p = _policy(
        tmp_path,
        """rule transfer "批准后方可转院" for Stay {
  when count(transferred) > 0
  require first(approved) is set and first(approved) <= first(transferred)
  severity critical
  points 1
}
""",
    )
    records = tmp_path / "stays.jsonl"
    records.write_text(
        "\n".join(
            json.dumps({"id": f"S{i}", "admitted_at": "2024-03-01T09:00"}) for i in range(1, 5)
        )
        + "\n{bad\n",
        encoding="utf-8",
    )
    events = tmp_path / "events.jsonl"
    rows = [
        {"case": "S1", "event": "approved", "at": "2024-03-02T08:00"},
        {"case": "S1", "event": "transferred", "at": "2024-03-02T09:00"},
        {"case": "S2", "event": "transferred", "at": "2024-03-02T09:00"},
        {"case": "S3", "event": "transferred", "at": "2024-03-02T09:00"},
        {"case": "S3", "event": "approved", "at": "2024-03-02T10:00"},
        {"case": "S9", "event": "approved", "at": "2024-03-02T10:00"},
    ]
    events.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    report = audit(p, records=records, events=events)
    found = [f for f in report.findings if f["kind"] == "rule"]
    assert sorted(f["record"] for f in found) == ["S2", "S3"]
    assert all(f["severity"] == "critical" and f["evidence"]["points"] == 1 for f in found)
    assert found[0]["clause"]["text"] == "批准后方可转院"
    (entry,) = report.data["rules"]["records"]
    (row,) = entry["by_rule"]
    assert (row["kept"], row["broken"], row["not_applicable"], row["points"]) == (1, 2, 1, 2)
    assert report.data["summary"]["by_kind"]["rule"] == 2
    assert report.data["summary"]["bad_rows"] == 1
    # S9 has events but no record: a notice, as for clocks
    assert [n["case"] for n in report.data["rules"]["notices"]] == ["S9"]

    without = audit(p, records=records)
    assert not [f for f in without.findings if f["kind"] == "rule"]
    assert any("no --events given" in w for w in without.data["warnings"])


def test_a_metric_over_a_record_type_with_no_file_is_not_applicable(tmp_path: Path) -> None:
    path = tmp_path / "m.csp"
    path.write_text(
        STAY
        + """
record Survey {
  held_at: datetime
}

metric surveys_held "不定期进行客户满意度调查": count(Survey) >= 1
""",
        encoding="utf-8",
    )
    records = tmp_path / "stays.jsonl"
    records.write_text('{"id": "S1", "admitted_at": "2024-03-01T09:00"}\n', encoding="utf-8")
    (kpi,) = audit(csdsl.load(path), records={"Stay": records}).data["kpis"]
    assert kpi["status"] == "not_applicable"
    assert kpi["reason"] == "no --records for `Survey`"


def test_a_deadline_quotes_the_standards_words_in_its_findings(tmp_path: Path) -> None:
    path = tmp_path / "d.csp"
    path.write_text(
        STAY
        + """
deadline answer "1小时内给予答复" for Stay {
  starts at admitted_at
  stops on answered
  within 1h
}
""",
        encoding="utf-8",
    )
    records = tmp_path / "stays.jsonl"
    records.write_text('{"id": "S1", "admitted_at": "2024-03-01T09:00"}\n', encoding="utf-8")
    events = tmp_path / "events.jsonl"
    events.write_text(
        '{"case": "S1", "event": "answered", "at": "2024-03-01T11:00"}\n', encoding="utf-8"
    )
    report = audit(csdsl.load(path), records=records, events=events)
    (finding,) = report.findings
    assert finding["clause"]["text"] == "1小时内给予答复"
    (line,) = report.data["timelines"]["by_clause"]
    assert line["clause"]["text"] == "1小时内给予答复"


def test_a_long_bracketed_or_inside_an_and_goes_one_operand_a_line() -> None:
    long = " or ".join(f"count(event_number_{i}) > {i}" for i in range(6))
    text = (
        STAY
        + f"\nrule r for Stay {{\n  when ward is set and ({long})\n  require count(x) > 0\n}}\n"
    )
    formatted, diags = format_source(SourceFile("p.csp", text))
    assert diags == [] and formatted is not None
    body = formatted.split("rule r for Stay {\n")[1]
    assert body.startswith(
        "  when ward is set\n"
        "    and (count(event_number_0) > 0\n"
        "      or count(event_number_1) > 1\n"
    )
    assert max(len(line) for line in formatted.splitlines()) <= 100
    again, _ = format_source(SourceFile("p.csp", formatted))
    assert again == formatted


def test_transcript_findings_quote_the_rule_or_its_situation(tmp_path: Path) -> None:
    path = tmp_path / "t.csp"
    path.write_text(
        """policy "t" timezone "Asia/Shanghai"

transcript rules {
  rude "002 五 服务忌语": forbid ["不知道"] severity critical
  situation s16 "004 篇5 16 客户破口大骂" when customer says ["混蛋"] {
    calm: require ["请您别着急"] within 1 agent turn after trigger
  }
}
""",
        encoding="utf-8",
    )
    calls = tmp_path / "calls.jsonl"
    turns = [
        {"speaker": "customer", "text": "混蛋"},
        {"speaker": "agent", "text": "不知道"},
    ]
    calls.write_text(json.dumps({"id": "T1", "turns": turns}) + "\n", encoding="utf-8")
    report = audit(csdsl.load(path), transcripts=calls)
    texts = {f["clause"]["id"]: f["clause"]["text"] for f in report.findings}
    assert texts == {"rude": "002 五 服务忌语", "s16.calm": "004 篇5 16 客户破口大骂"}


def test_a_week_count_at_the_ends_of_the_calendar_is_unknown(tmp_path: Path) -> None:
    p = _policy(
        tmp_path,
        "rule r for Stay { require at least 1 w per week from admitted_at to discharged_at }\n",
    )
    late = {
        "admitted_at": dt.datetime(9999, 12, 29, 20, tzinfo=dt.UTC),
        "discharged_at": dt.datetime(9999, 12, 30, tzinfo=dt.UTC),
    }
    early = {
        "admitted_at": dt.datetime(1, 1, 2, tzinfo=dt.UTC),
        "discharged_at": dt.datetime(1, 1, 2, 20, tzinfo=dt.UTC),
    }
    backwards = {"admitted_at": _at("2024-03-09T09:00"), "discharged_at": _at("2024-03-01T09:00")}
    for values in (late, early, backwards):
        (result,) = p.rule_checker()(values, [])
        assert result.status == "unknown"


def test_an_unreadable_event_line_makes_the_rules_that_read_events_unknown(
    tmp_path: Path,
) -> None:
    p = _policy(
        tmp_path,
        """rule rounds for Stay { require count(ward_round) >= 2 }
rule ward for Stay { require ward is set }
""",
    )
    records = tmp_path / "stays.jsonl"
    records.write_text('{"id": "S1", "admitted_at": "2024-03-01T09:00"}\n', encoding="utf-8")
    events = tmp_path / "events.jsonl"
    events.write_text(
        '{"case": "S1", "event": "ward_round", "at": "2024-03-02T09:00"}\n'
        '{"case": "S1", "event": "ward_round", "at": "2024-03-02T15:00:00+8:00"}\n',
        encoding="utf-8",
    )
    rows, _ = p.rules_file(records, events)
    (row,) = list(rows)
    assert row.results is not None
    got = {r.rule: r for r in row.results}
    assert got["rounds"].status == "unknown"
    assert got["rounds"].failed == ("event line 2 of this case could not be read",)
    assert got["ward"].status == "broken"  # reads no event: judged as ever
    report = audit(p, records=records, events=events)
    assert not [f for f in report.findings if f["clause"]["id"] == "rounds"]

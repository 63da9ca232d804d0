"""The 篇1 procurement-centre policy (issue 15, acceptance 2 and 5): `policies/procurement.csp`
checks clean, its examples pass and give every clause a passing and a failing case, its
citations name 篇1 entries of the index, and the audit of the bundled exports in
`examples/procurement/` finds, rule by rule, what a plain count over the same files finds."""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

import csdsl
from csdsl.cli import main

ROOT = Path(__file__).resolve().parents[1]
POLICY = ROOT / "policies" / "procurement.csp"
DATA = ROOT / "examples" / "procurement"
INDEX = ROOT / "policies" / "standards" / "index.jsonl"
FILES = ["visits.jsonl", "internal_cases.jsonl", "surveys.jsonl", "events.jsonl"]


def audit_args(out: Path) -> list[str]:
    """The documented audit of the bundled exports."""
    return [
        "audit",
        str(POLICY),
        "--records",
        f"Visit={DATA / 'visits.jsonl'}",
        "--records",
        f"InternalCase={DATA / 'internal_cases.jsonl'}",
        "--records",
        f"Survey={DATA / 'surveys.jsonl'}",
        "--events",
        str(DATA / "events.jsonl"),
        "--standards",
        str(INDEX),
        "--out",
        str(out),
    ]


def rows(name: str) -> list[dict[str, Any]]:
    """The rows of an export an auditor would count: lines that are JSON objects with an int
    party size if any (the file's bad lines are a cut-off line and a party size in words)."""
    out: list[dict[str, Any]] = []
    for text in (DATA / name).read_text(encoding="utf-8").splitlines():
        try:
            row = json.loads(text)
        except json.JSONDecodeError:
            continue
        if "party_size" in row and not isinstance(row["party_size"], int):
            continue
        if name == "internal_cases.jsonl" and row.get("line") not in (
            "responsible_person",
            "complaint_line",
        ):
            continue
        out.append(row)
    return out


def when(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("procurement")
    assert main(audit_args(out)) == 0
    data: dict[str, Any] = json.loads((out / "report.json").read_text(encoding="utf-8"))
    # every finding, one a line (report.json shows the first ones only)
    lines = (out / "findings.jsonl").read_text(encoding="utf-8").splitlines()
    data["all_findings"] = [json.loads(line) for line in lines]
    assert len(data["all_findings"]) == data["summary"]["findings"]
    return data


def findings(report: dict[str, Any], kind: str) -> Counter[str]:
    return Counter(f["clause"]["id"] for f in report["all_findings"] if f["kind"] == kind)


def flagged(report: dict[str, Any], clause: str) -> set[str]:
    return {f["record"] for f in report["all_findings"] if f["clause"]["id"] == clause}


def test_the_policy_checks_clean(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(POLICY)]) == 0
    assert "0 errors, 0 warnings" in capsys.readouterr().out


def test_every_example_passes(capsys: pytest.CaptureFixture[str]) -> None:
    examples = len(re.findall(r"^example ", POLICY.read_text(encoding="utf-8"), re.M))
    assert main(["test", str(POLICY)]) == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert last == f"{examples} passed, 0 failed"


def test_every_clause_has_a_passing_and_a_failing_example() -> None:
    text = POLICY.read_text(encoding="utf-8")
    rules = re.findall(r"^rule (\w+)", text, re.M)
    deadlines = re.findall(r"^deadline (\w+)", text, re.M)
    assert len(rules) == 8 and len(deadlines) == 2
    expects = set(re.findall(r"^\s*expect (\w+) (\w+)", text, re.M))
    for name in rules:
        assert {(name, "kept"), (name, "broken")} <= expects, name
    for name in deadlines:
        assert {(name, "met"), (name, "breached")} <= expects, name


def test_the_citations_are_the_encoded_entries_of_chapter_one() -> None:
    text = POLICY.read_text(encoding="utf-8")
    cites = text[text.index("\ncites {") :]
    cited = set(re.findall(r'"(004 篇1 [^"]+)"', cites[: cites.index("\n}")]))
    index = {
        e["id"]: e
        for e in (json.loads(line) for line in INDEX.read_text(encoding="utf-8").splitlines())
    }
    assert cited <= set(index)
    for ref in sorted(cited):
        assert index[ref]["checkable"] is True, ref
        assert "blocked" not in index[ref], ref


def test_the_audit_reads_every_export(report: dict[str, Any]) -> None:
    inputs = {i["path"].rsplit("/", 1)[-1]: i for i in report["inputs"]}
    assert {k: (v["read"], v["bad"]) for k, v in inputs.items()} == {
        "visits.jsonl": (len(rows("visits.jsonl")), 2),
        "internal_cases.jsonl": (len(rows("internal_cases.jsonl")), 1),
        "surveys.jsonl": (2, 0),
        "events.jsonl": (len(rows("events.jsonl")), 0),
    }
    assert report["summary"]["bad_rows"] == 3
    (kpi,) = report["kpis"]
    assert (kpi["metric"], kpi["status"]) == ("surveys_held", "pass")


def test_meetings_over_two_hours_are_counted_by_hand(report: dict[str, Any]) -> None:
    # 第二十三条: a received visit whose meeting ran more than two hours; one with no recorded
    # end is unknown, never a finding
    long = {
        v["id"]
        for v in rows("visits.jsonl")
        if v["received"]
        and "reception_ended_at" in v
        and when(v["reception_ended_at"]) - when(v["reception_started_at"]) > dt.timedelta(hours=2)
    }
    assert 3 <= len(long) <= 15
    assert flagged(report, "meeting_length") == long
    assert findings(report, "rule")["meeting_length"] == len(long)


def test_meetings_in_the_office_area_are_counted_by_hand(report: dict[str, Any]) -> None:
    # 第二十二条: a received visit that met in the office area
    office = {
        v["id"] for v in rows("visits.jsonl") if v["received"] and v.get("room") == "office_area"
    }
    assert 3 <= len(office) <= 15
    assert flagged(report, "no_office_area_meeting") == office
    assert findings(report, "rule")["no_office_area_meeting"] == len(office)


def test_late_receptions_are_counted_by_hand(report: dict[str, Any]) -> None:
    # 第十七条: a booked supplier there by the booked time, received after it, the delay not
    # explained before the reception began
    late = set()
    for v in rows("visits.jsonl"):
        if v["walk_in"] or not v["received"] or "booked_for" not in v:
            continue
        booked, start = when(v["booked_for"]), when(v["reception_started_at"])
        if when(v["arrived_at"]) > booked or start <= booked:
            continue
        explained = v.get("delay_explained_at")
        if explained is None or when(explained) > start:
            late.add(v["id"])
    assert 3 <= len(late) <= 20
    assert flagged(report, "received_on_time") == late


def test_complaint_calls_answered_after_the_hour_are_counted_by_hand(
    report: dict[str, Any],
) -> None:
    # 第三十条: a call to the complaint line whose first 答复 came more than an hour later
    replied: dict[str, dt.datetime] = {}
    for e in sorted(rows("events.jsonl"), key=lambda e: when(e["at"])):
        if e["event"] == "replied":
            replied.setdefault(e["case"], when(e["at"]))
    late = {
        c["id"]
        for c in rows("internal_cases.jsonl")
        if c["line"] == "complaint_line"
        and replied[c["id"]] - when(c["received_at"]) > dt.timedelta(hours=1)
    }
    assert 1 <= len(late) <= 10
    assert flagged(report, "complaint_reply") == late


def test_every_rule_finds_something_in_the_bundled_data(report: dict[str, Any]) -> None:
    # a visible minority of breaches of each rule: the report shows every kind of finding
    counts = findings(report, "rule")
    text = POLICY.read_text(encoding="utf-8")
    for name in re.findall(r"^rule (\w+)", text, re.M):
        assert counts[name] >= 1, name
    assert findings(report, "deadline").keys() == {"promised_handling", "complaint_reply"}


@pytest.mark.parametrize(
    ("surveys", "status"),
    [
        ([], "fail"),
        ([{"id": "S-1", "conducted_at": "2025-03-28T10:00:00+08:00"}], "pass"),
    ],
)
def test_a_period_needs_one_survey(surveys: list[dict[str, Any]], status: str) -> None:
    # 第三十一条: 不定期 sets no frequency; a period with no survey at all fails
    (result,) = csdsl.load(POLICY).measure({"Survey": surveys})
    assert (result.metric.name, result.status) == ("surveys_held", status)


def test_the_generator_reproduces_the_bundled_data(tmp_path: Path) -> None:
    shutil.copy(DATA / "make_data.py", tmp_path / "make_data.py")
    subprocess.run(
        [sys.executable, str(tmp_path / "make_data.py")], check=True, capture_output=True
    )
    for name in FILES:
        assert (tmp_path / name).read_bytes() == (DATA / name).read_bytes(), name

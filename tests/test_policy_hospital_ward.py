"""The 篇3 hospital-ward policy (issue 15, acceptance 2 and 5): `policies/hospital_ward.csp`
checks clean, its examples pass and give every rule and deadline a passing and a failing case,
its citations name 篇3 entries of the index, and the audit of the bundled exports in
`examples/hospital_ward/` finds, rule by rule, what a plain count over the same files finds."""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from csdsl.cli import main

ROOT = Path(__file__).resolve().parents[1]
POLICY = ROOT / "policies" / "hospital_ward.csp"
DATA = ROOT / "examples" / "hospital_ward"
INDEX = ROOT / "policies" / "standards" / "index.jsonl"
SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = "2024-04-01T08:00"  # when the exports were taken (make_data.py's NOW)


def audit_args(out: Path) -> list[str]:
    """The documented audit of the bundled exports."""
    return [
        "audit",
        str(POLICY),
        "--records",
        str(DATA / "stays.jsonl"),
        "--records",
        f"DutyShift={DATA / 'duty_shifts.jsonl'}",
        "--records",
        f"NursingCheck={DATA / 'nursing_checks.jsonl'}",
        "--events",
        str(DATA / "events.jsonl"),
        "--transcripts",
        str(DATA / "discharge_talks.jsonl"),
        "--now",
        NOW,
        "--standards",
        str(INDEX),
        "--out",
        str(out),
    ]


def json_lines(name: str) -> list[dict[str, Any]]:
    """The lines of an export that are JSON objects (the others are its deliberate bad lines)."""
    out: list[dict[str, Any]] = []
    for text in (DATA / name).read_text(encoding="utf-8").splitlines():
        try:
            row = json.loads(text)
        except json.JSONDecodeError:
            continue
        out.append(row)
    return out


def local(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).astimezone(SHANGHAI)


def stays() -> list[dict[str, Any]]:
    """The stays an auditor would count: the rows whose fields have their types (one bad line
    is not JSON, one says `critical: "yes"`, one has the 32nd of March)."""
    good = []
    for row in json_lines("stays.jsonl"):
        if not isinstance(row.get("critical"), bool):
            continue
        try:
            local(row["admitted_at"])
        except ValueError:
            continue
        good.append(row)
    return good


def events() -> dict[str, dict[str, list[dt.datetime]]]:
    """case -> event name -> its times, in order (the line with a time in words is left out)."""
    log: dict[str, dict[str, list[dt.datetime]]] = defaultdict(lambda: defaultdict(list))
    for e in json_lines("events.jsonl"):
        try:
            at = local(e["at"])
        except ValueError:
            continue
        log[e["case"]][e["event"]].append(at)
    for names in log.values():
        for times in names.values():
            times.sort()
    return log


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("hospital_ward")
    assert main(audit_args(out)) == 0
    data: dict[str, Any] = json.loads((out / "report.json").read_text(encoding="utf-8"))
    data["_findings"] = [
        json.loads(line)
        for line in (out / "findings.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    data["_md"] = (out / "report.md").read_text(encoding="utf-8")
    return data


def unreadable() -> set[str]:
    """The cases with an event line whose time cannot be read: what that line said is unknown,
    so the rules that read their events are unknown (never a finding) for them."""
    out = set()
    for e in json_lines("events.jsonl"):
        try:
            local(e["at"])
        except ValueError:
            out.add(e["case"])
    return out


def broken(report: dict[str, Any], rule: str) -> set[str]:
    return {
        str(f["record"])
        for f in report["_findings"]
        if f["kind"] == "rule" and f["clause"]["id"] == rule
    }


def test_the_policy_checks_clean_and_its_examples_pass(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(POLICY)]) == 0
    assert "0 errors, 0 warnings" in capsys.readouterr().out
    assert main(["test", str(POLICY)]) == 0
    out = capsys.readouterr().out
    assert re.search(r"^\d+ passed, 0 failed$", out, re.M), out


def test_every_rule_and_deadline_has_a_kept_and_a_broken_example() -> None:
    text = POLICY.read_text(encoding="utf-8")
    rules = re.findall(r"^rule (\w+) ", text, re.M)
    deadlines = re.findall(r"^deadline (\w+) ", text, re.M)
    assert len(rules) >= 18 and len(deadlines) == 2
    for name in rules:
        assert re.search(rf"expect {name} kept\b", text), name
        assert re.search(rf"expect {name} broken\b", text), name
    for name in deadlines:
        assert re.search(rf"expect {name} (cycle \d+ )?met\b", text), name
        assert re.search(rf"expect {name} (cycle \d+ )?breached\b", text), name
    for name in re.findall(r"^  (discharge_\w+) \"", text, re.M):  # the discharge line's rules
        assert re.search(rf"expect flags [\w, ]*\b{name}\b", text), name


def test_every_clause_cites_a_checkable_篇3_entry_of_the_index() -> None:
    entries = {
        e["id"]: e
        for e in map(json.loads, INDEX.read_text(encoding="utf-8").splitlines())
        if e["id"].startswith("004 篇3")
    }
    cited: dict[str, list[str]] = {}
    text = POLICY.read_text(encoding="utf-8")
    block = text[text.index("cites {") :]
    for name, refs in re.findall(r"^  (\w+): (.+?)(?:  #.*)?$", block, re.M):
        cited[name] = re.findall(r'"([^"]+)"', refs)
    clauses = set(re.findall(r"^(?:rule|deadline|metric) (\w+) ", text, re.M))
    clauses |= set(re.findall(r"^  (discharge_\w+) \"", text, re.M))
    assert clauses == set(cited)
    for name, refs in cited.items():
        for ref in refs:
            assert ref in entries, (name, ref)
    # the one sentence cited though the index holds it uncheckable: 随叫随到 has no figure
    uncheckable = {r for refs in cited.values() for r in refs if not entries[r]["checkable"]}
    assert uncheckable <= {"004 篇3 一4/6"}


def test_the_audit_reads_every_export_and_shows_its_bad_rows(report: dict[str, Any]) -> None:
    inputs = {(i["kind"], i["type"]): (i["read"], i["bad"]) for i in report["inputs"]}
    assert inputs[("records", "Inpatient")] == (len(stays()), 3)
    assert inputs[("records", "NursingCheck")][1] == 1
    assert inputs[("records", "DutyShift")] == (len(json_lines("duty_shifts.jsonl")), 0)
    assert inputs[("events", None)][1] == 1
    codes = Counter(item["code"] for item in report["bad_rows"]["items"])
    assert codes == {"R001": 1, "R004": 1, "R005": 2, "R006": 1}
    assert "## Bad rows" in report["_md"]
    # every rule has a breach in the data (but the outside consultations, 3 by the book), and no
    # rule more than a quarter of the stays
    counts = Counter(f["clause"]["id"] for f in report["_findings"] if f["kind"] == "rule")
    rules = re.findall(r"^rule (\w+) ", POLICY.read_text(encoding="utf-8"), re.M)
    assert set(counts) == set(rules) - {"outside_consult_approved"}
    assert max(counts.values()) <= len(stays()) // 4
    # 扣1分: the weekly senior round's findings carry their point
    assert all(
        f["evidence"].get("points") == 1
        for f in report["_findings"]
        if f["kind"] == "rule" and f["clause"]["id"] == "senior_round"
    )


def test_discharge_notice_findings_match_a_count_by_hand(report: dict[str, Any]) -> None:
    # 一6 提前一天: an ordinary discharge whose first notice is not on an earlier calendar day
    log = events()
    expected = set()
    for s in stays():
        if s.get("left_as") != "discharged":
            continue
        notices = log[s["id"]]["discharge_notified"]
        if not notices or notices[0].date() >= local(s["discharged_at"]).date():
            expected.add(s["id"])
    assert expected and broken(report, "discharge_notice") == expected - unreadable()


def test_transfer_findings_match_a_count_by_hand(report: dict[str, Any]) -> None:
    # 一5: a transfer to another hospital needs the department's discussion, the hospital's
    # discussion and the medical office's approval before the patient leaves
    log = events()
    expected = set()
    steps = ["transfer_discussed", "transfer_hospital_discussed", "transfer_approved"]
    for s in stays():
        if s.get("left_as") != "transferred_out":
            continue
        left = local(s["discharged_at"])
        if any(not log[s["id"]][e] or log[s["id"]][e][0] > left for e in steps):
            expected.add(s["id"])
    assert expected and broken(report, "transfer_approved") == expected - unreadable()


def test_senior_round_findings_match_a_count_by_hand(report: dict[str, Any]) -> None:
    # 一3: every Monday-to-Sunday week lying wholly between the day of admission and the day of
    # discharge (or of the export, for a stay still open) has a senior round
    log = events()
    now = dt.datetime.fromisoformat(NOW).replace(tzinfo=SHANGHAI)
    expected = set()
    for s in stays():
        first = local(s["admitted_at"]).date() + dt.timedelta(days=1)
        last = (local(s["discharged_at"]) if "discharged_at" in s else now).date()
        monday = first + dt.timedelta(days=(7 - first.weekday()) % 7)
        rounds = {t.date() for t in log[s["id"]]["senior_round"]}
        while monday + dt.timedelta(days=6) < last:
            week = {monday + dt.timedelta(days=k) for k in range(7)}
            if not week & rounds:
                expected.add(s["id"])
            monday += dt.timedelta(days=7)
    assert "ZY20240001" in unreadable()
    assert expected and broken(report, "senior_round") == expected - unreadable()


def test_duty_round_findings_match_a_count_by_hand(report: dict[str, Any]) -> None:
    # 一2: every duty shift handed over by the export has a ward-wide round after taking over
    # and before handing over (a round at or after taking over, and one at or before handing
    # over: a stray round logged before taking over does not hide one inside the shift)
    log = events()
    expected = set()
    for shift in json_lines("duty_shifts.jsonl"):
        if "handed_over_at" not in shift:
            continue
        rounds = log[shift["id"]]["duty_round"]
        took, handed = local(shift["took_over_at"]), local(shift["handed_over_at"])
        if not rounds or not (rounds[-1] >= took and rounds[0] <= handed):
            expected.add(shift["id"])
    assert expected and broken(report, "duty_round") == expected


def test_the_nursing_pass_rates_match_a_count_by_hand(report: dict[str, Any]) -> None:
    # 二8 合格率90%以上, per ward and level over March
    tally: Counter[tuple[str, str, bool]] = Counter()
    for c in json_lines("nursing_checks.jsonl"):
        if c["level"] in ("basic", "first_class"):
            tally[c["ward"], c["level"], c["passed"]] += 1
    failing = {
        (ward, level)
        for ward, level, _ in tally
        if tally[ward, level, True] / (tally[ward, level, True] + tally[ward, level, False]) < 0.9
    }
    metric = {"basic_nursing_pass_rate": "basic", "first_class_nursing_pass_rate": "first_class"}
    got = {
        (k["group"]["ward"], metric[k["metric"]]) for k in report["kpis"] if k["status"] == "fail"
    }
    assert failing and got == failing


def test_the_generator_reproduces_the_bundled_data(tmp_path: Path) -> None:
    shutil.copy(DATA / "make_data.py", tmp_path / "make_data.py")
    subprocess.run(
        [sys.executable, str(tmp_path / "make_data.py")], check=True, capture_output=True
    )
    names = ["stays", "events", "nursing_checks", "duty_shifts", "discharge_talks"]
    for name in [f"{n}.jsonl" for n in names]:
        assert (tmp_path / name).read_bytes() == (DATA / name).read_bytes(), name

"""Findings tallied for the report (`csdsl.tally`): per clause (findings and cases, a
deadline's missed progress updates apart), per team and agent, and the worst cases."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from csdsl.cli import main
from csdsl.tally import Tally, kind_of, worst_cases

ROOT = Path(__file__).resolve().parent.parent
EX = ROOT / "examples"


def _f(line: int, cid: str, kind: str = "deadline", **extra: Any) -> dict[str, Any]:
    ev = {"kind": extra.pop("ev_kind", "deadline"), "due": "2024-11-01T09:00:00+08:00"}
    return {
        "kind": kind,
        "clause": {"id": cid, "file": "p.csp", "line": 3},
        "record": f"C-{line}",
        "input": "c.jsonl",
        "line": line,
        "evidence": ev,
        "agent": extra.pop("agent", None),
        "team": extra.pop("team", None),
    }


def test_cases_and_findings_per_clause_with_updates_apart() -> None:
    t = Tally()
    for _ in range(40):
        t.add(_f(1, "reply.update", ev_kind="update", team="east"))
    t.add(_f(1, "reply", team="east"))
    t.add(_f(2, "reply", team="west", agent="A-1"))
    for _ in range(3):
        t.add(_f(3, "reply.update", ev_kind="update", team="west", agent="A-1"))
    rows = {(r["clause"]["id"], r["kind"]): (r["findings"], r["cases"]) for r in t.by_clause()}
    assert rows == {("reply.update", "update"): (43, 2), ("reply", "deadline"): (2, 2)}
    assert t.by_team() == [
        {"team": "east", "findings": 41, "cases": 1},
        {"team": "west", "findings": 4, "cases": 2},
    ]
    agents, total = t.by_agent()
    assert total == 2 and agents[0] == {"agent": None, "findings": 41, "cases": 1}
    assert t.worst(2) == [("c.jsonl", 1), ("c.jsonl", 3)]
    assert kind_of(_f(1, "x", ev_kind="update")) == "update"
    assert kind_of(_f(1, "x", kind="escalation", ev_kind="update")) == "escalation"


def test_the_worst_cases_carry_their_findings_events_and_receipt() -> None:
    t = Tally()
    every = [_f(1, "reply.update", ev_kind="update") for _ in range(3)] + [_f(2, "reply")]
    for f in every:
        t.add(f)
    t.opened(("c.jsonl", 1), "received_at", "2024-11-01T08:00:00+08:00")
    t.opened(("c.jsonl", 9), "received_at", "2024-11-01T08:00:00+08:00")  # no finding: ignored

    def events(path: str, record: Any) -> list[dict[str, Any]]:
        return [{"at": "2024-11-01T08:30:00+08:00", "event": "acknowledged", "line": 7}]

    [case] = worst_cases(t, 1, every, events)
    assert case["record"] == "C-1" and case["findings"] == 3 and len(case["items"]) == 3
    assert case["by_clause"] == [
        {"clause": every[0]["clause"], "kind": "update", "findings": 3},
    ]
    assert case["opened"] == {"field": "received_at", "at": "2024-11-01T08:00:00+08:00"}
    assert case["events"][0]["line"] == 7
    assert worst_cases(t, 0, every, events) == []


def test_audit_cases_bounds_the_cases_shown(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = [
        "audit",
        str(ROOT / "policies" / "hotline.csp"),
        "--records",
        str(EX / "complaints.jsonl"),
        "--events",
        str(EX / "complaint_events.jsonl"),
        "--out",
        str(tmp_path),
        "--cases",
        "3",
    ]
    assert main(argv) in (0, 1)
    data = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    cases = data["cases"]
    assert cases["shown"] == len(cases["items"]) == 3 and cases["total"] > 3
    assert [c["findings"] for c in cases["items"]] == sorted(
        (c["findings"] for c in cases["items"]), reverse=True
    )
    capsys.readouterr()
    assert main([*argv[:-1], "-1"]) == 2
    err = capsys.readouterr().err
    assert "--cases" in err and "expected a whole number, 0 or more, got '-1'" in err

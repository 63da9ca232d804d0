"""Record-level rules (issue 15) in every output: the audit report's Rules section and its
`rule` findings, `csdsl rules`, `csdsl explain`, `csdsl doc`, `csdsl diff`, `compile --target
python` and `--target sql`, and the DuckDB engine.

One small policy of a hospital stay with three rules (two ward rounds a day, approval before a
transfer, a discharge notice the day before), three records (one keeps them all, one breaks
two, one does not fit its type) and an event log with a notice (an event out of order) and an
event of a case with no record.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import csdsl
from csdsl.cli import main
from csdsl.codegen.python import generate, load_source
from csdsl.codegen.sql import compile_sql
from csdsl.report import render_html, render_markdown

POLICY = """\
policy "stays" timezone "Asia/Shanghai"
record Stay {
  admitted_at: datetime
  discharged_at: datetime?
  critical: bool
}
rule rounds "每天至少上、下午2次查房" for Stay {
  require at least 1 ward_round per day in 00:00-12:00 from admitted_at to discharged_at
  require at least 1 ward_round per day in 12:00-24:00 from admitted_at to discharged_at
  severity major
}
rule transfer "批准后方可转院" for Stay {
  when count(transferred) > 0
  require first(transfer_approved) is set and first(transfer_approved) <= first(transferred)
  severity critical
  points 1
}
rule notice "提前一天" for Stay {
  when discharged_at is set
  require date(first(discharge_notified)) < date(discharged_at)
}
cites { transfer: "004 篇3 一3" }
example ok "fine" {
  given Stay { admitted_at: 2024-03-01T15:00, discharged_at: 2024-03-03T10:00, critical: false }
  events { ward_round at 2024-03-02T09:00, ward_round at 2024-03-02T15:00, discharge_notified at 2024-03-02T08:00 }
  expect rounds kept
  expect transfer not_applicable
  expect notice kept
}
"""  # noqa: E501

STAYS = [
    {"id": "S1", "admitted_at": "2024-03-01T15:00", "discharged_at": "2024-03-03T10:00",
     "critical": False},
    {"id": "S2", "admitted_at": "2024-03-01T15:00", "discharged_at": "2024-03-03T10:00",
     "critical": False},
    {"id": "S3", "admitted_at": "bad", "critical": False},
]  # fmt: skip
EVENTS = [
    {"case": "S1", "event": "ward_round", "at": "2024-03-02T09:00"},
    {"case": "S1", "event": "ward_round", "at": "2024-03-02T15:00"},
    {"case": "S1", "event": "discharge_notified", "at": "2024-03-02T08:00"},
    {"case": "S2", "event": "ward_round", "at": "2024-03-02T09:00"},
    {"case": "S2", "event": "transferred", "at": "2024-03-02T11:00"},
    {"case": "S9", "event": "ward_round", "at": "2024-03-02T11:00"},
]


@pytest.fixture
def files(tmp_path: Path) -> dict[str, str]:
    def jsonl(name: str, rows: list[dict[str, Any]]) -> str:
        p = tmp_path / name
        p.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
        return str(p)

    policy = tmp_path / "stays.csp"
    policy.write_text(POLICY, encoding="utf-8")
    return {
        "policy": str(policy),
        "stays": jsonl("stays.jsonl", STAYS),
        "events": jsonl("events.jsonl", EVENTS),
        "dir": str(tmp_path),
    }


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def audit(
    capsys: pytest.CaptureFixture[str], files: dict[str, str], *extra: str
) -> tuple[Path, dict[str, Any]]:
    out = Path(files["dir"]) / ("out" + "-".join(extra))
    argv = ["audit", files["policy"], "--records", files["stays"], "--events", files["events"]]
    code, _, err = run(capsys, *argv, "--out", str(out), *extra)
    assert code in (0, 1), err
    return out, json.loads((out / "report.json").read_text(encoding="utf-8"))


# ---- the audit report ----------------------------------------------------------------------


def test_report_has_a_rules_section_in_markdown_and_html(
    capsys: pytest.CaptureFixture[str], files: dict[str, str]
) -> None:
    out, data = audit(capsys, files)
    md = (out / "report.md").read_text(encoding="utf-8")
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "## Rules" in md and '<section id="rules">' in html and 'href="#rules"' in html
    # per rule: its words, severity, kept / broken / unknown / n/a and the points lost
    assert "| kept | broken | unknown | n/a | points lost |" in md
    assert "| 每天至少上、下午2次查房 | major | 1 | 1 | 0 | 0 | 0 |" in md
    assert "| 批准后方可转院 | critical | 0 | 1 | 0 | 1 | 1 |" in md
    assert "| 提前一天 | major | 1 | 0 | 1 | 0 | 0 |" in md
    rules_section = html.split('<section id="rules">', 1)[1].split("</section>", 1)[0]
    row = rules_section.split("批准后方可转院</td>", 1)[1].split("</tr>", 1)[0]
    assert [c.split(">")[-1] for c in row.split("</td>")[1:-1]] == ["0", "1", "0", "1", "1"]
    assert "critical" in row
    # the event log's notices (no timelines section here, so under Rules)
    rules_md = md.split("## Rules", 1)[1].split("## Findings", 1)[0]
    assert "V002" in rules_md and "V003" in rules_md
    rules_html = html.split('<section id="rules">', 1)[1].split("</section>", 1)[0]
    assert "V002" in rules_html and "V003" in rules_html
    assert data["rules"]["records"][0]["record"] == "Stay"


def test_report_shows_rule_findings_and_charts_them_by_clause(
    capsys: pytest.CaptureFixture[str], files: dict[str, str]
) -> None:
    out, _ = audit(capsys, files)
    md = (out / "report.md").read_text(encoding="utf-8")
    html = (out / "report.html").read_text(encoding="utf-8")
    # findings by clause: both broken rules, in the table and the chart (with its legend)
    chart_md = md.split("### By clause", 1)[1].split("### By team", 1)[0]
    assert "| rounds (" in chart_md and "stays.csp:7) | rule broken | 1 | 1 |" in chart_md
    assert "| transfer (" in chart_md and "stays.csp:12) | rule broken | 1 | 1 |" in chart_md
    figure = html.split('id="chart-clauses"', 1)[1].split("</figure>", 1)[0]
    assert figure.count('class="bar bar-rules"') == 2
    assert '<span class="sw rules"></span>rule broken' in figure
    # the findings, with their evidence: values read, detail and points
    findings = md.split("\n## Findings\n", 1)[1]
    assert "(rule)" in findings
    assert "first(transfer_approved): —" in findings and "points: 1" in findings
    assert "detail: 1 of 1 days short of 1" in findings
    assert '<span class="k">points:</span> 1' in html


def test_report_shows_the_notices_once_when_timelines_have_them() -> None:
    notices = [{"line": 3, "case": "S1", "code": "V002", "message": "out of order"}]
    report: dict[str, Any] = {
        "summary": {"verdict": "fail"},
        "timelines": {"record": "Stay", "by_clause": [], "notices": notices},
        "rules": {
            "records": [{"record": "Stay", "by_rule": []}],
            "events": 1,
            "event_problems": 1,
            "notices": notices,
        },
    }
    md = render_markdown(report)
    html = render_html(report)
    assert md.count("out of order") == 1 and html.count("out of order") == 1
    assert "The event log's notices are listed under Timelines." in md
    assert "No records judged." in md


def test_duckdb_engine_gives_the_same_rule_findings(
    capsys: pytest.CaptureFixture[str], files: dict[str, str]
) -> None:
    pytest.importorskip("duckdb")
    py_out, py = audit(capsys, files)
    db_out, db = audit(capsys, files, "--engine", "duckdb")
    lines = [
        (o / "findings.jsonl").read_text(encoding="utf-8").splitlines() for o in (py_out, db_out)
    ]
    assert lines[0] == lines[1] and len(lines[0]) == 2
    assert py["rules"] == db["rules"] and py["summary"] == db["summary"]
    assert db["summary"]["by_kind"]["rule"] == 2


# ---- csdsl rules ----------------------------------------------------------------------------


def test_rules_verb_prints_jsonl(capsys: pytest.CaptureFixture[str], files: dict[str, str]) -> None:
    code, out, err = run(
        capsys, "rules", files["policy"], files["stays"], "--events", files["events"],
        "--format", "json",
    )  # fmt: skip
    assert code == 0
    rows = [json.loads(line) for line in out.splitlines()]
    assert [(r["id"], r["line"]) for r in rows] == [("S1", 1), ("S2", 2), ("S3", 3)]
    assert [x["status"] for x in rows[0]["rules"]] == ["kept", "not_applicable", "kept"]
    transfer = rows[1]["rules"][1]
    assert set(transfer) == {
        "rule", "status", "severity", "points", "failed", "detail", "values", "clause",
    }  # fmt: skip
    assert transfer["status"] == "broken" and transfer["severity"] == "critical"
    assert transfer["points"] == 1
    assert transfer["values"]["first(transferred)"] == "2024-03-02T11:00:00+08:00"
    assert transfer["values"]["first(transfer_approved)"] is None
    assert transfer["clause"] == {"file": files["policy"], "line": 12, "text": "批准后方可转院"}
    rounds = rows[1]["rules"][0]
    assert rounds["detail"].startswith("1 of 1 days short of 1 `ward_round` in 12:00-24:00")
    assert rows[2]["error"]["code"] == "R005"
    assert "events.jsonl:3: V002" in err and "events.jsonl:6: V003" in err
    assert "1 point lost" in err


def test_rules_verb_text_and_no_event_log(
    capsys: pytest.CaptureFixture[str], files: dict[str, str]
) -> None:
    code, out, err = run(
        capsys, "rules", files["policy"], files["stays"], "--events", files["events"]
    )
    assert code == 0
    assert "S2 (line 2)" in out
    assert "broken         critical   -1  transfer: 批准后方可转院" in out
    assert "false: require first(transfer_approved) is set" in out
    code, out, err = run(capsys, "rules", files["policy"], files["stays"])
    assert code == 0
    assert out.count("unknown ") >= 6
    assert "no --events given" in err and "`rounds`, `transfer`, `notice`" in err


def test_rules_verb_errors(capsys: pytest.CaptureFixture[str], files: dict[str, str]) -> None:
    code, _, err = run(capsys, "rules", files["policy"], files["stays"], "--now", "2024-03-01")
    assert code == 2 and err.startswith("csdsl: --now: ")
    code, _, err = run(capsys, "rules", files["policy"], files["stays"], "--record", "Stya")
    assert code == 2 and "no rule for record `Stya`" in err
    other = Path(files["dir"]) / "plain.csp"
    other.write_text('policy "p"\nrecord R {\n  x: bool\n}\n', encoding="utf-8")
    code, _, err = run(capsys, "rules", str(other), files["stays"])
    assert code == 2 and err == "csdsl: the policy has no rule\n"


# ---- csdsl explain --------------------------------------------------------------------------


def test_explain_shows_each_rule_and_why(
    capsys: pytest.CaptureFixture[str], files: dict[str, str]
) -> None:
    spec = files["stays"] + ":2"
    code, out, err = run(capsys, "explain", files["policy"], spec, "--events", files["events"])
    assert code == 0, err
    assert out.startswith("Stay S2: rounds broken, transfer broken, notice unknown\n")
    assert "rules (2 events):" in out
    assert "    true    when count(transferred) > 0  [count(transferred) = 1]" in out
    # the event's time on the policy's clock
    assert "first(transferred) = 2024-03-02T11:00:00+08:00" in out
    # a count per period, judged require by require
    assert "    true    require at least 1 ward_round per day in 00:00-12:00" in out
    assert "    false   require at least 1 ward_round per day in 12:00-24:00" in out
    code, out, _ = run(
        capsys, "explain", files["policy"], spec, "--events", files["events"], "--format", "json"
    )
    data = json.loads(out)
    assert [r["status"] for r in data["rules"]] == ["broken", "broken", "unknown"]
    assert data["events"] == 2 and "valid" not in data
    assert data["rules"][0]["requires"][1]["status"] == "broken"
    code, out, _ = run(capsys, "explain", files["policy"], spec)
    assert "no --events" in out and "unknown no event log: it reads `transferred`" in out


def test_explain_of_a_validity_record_keeps_its_shape(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys, "explain", "policies/complaint_validity.csp", "examples/complaints.jsonl:1",
        "--format", "json",
    )  # fmt: skip
    assert code == 0 and "rules" not in json.loads(out)


# ---- csdsl doc ------------------------------------------------------------------------------


def test_doc_renders_rules_for_sign_off(files: dict[str, str]) -> None:
    from csdsl.doc import render_html, render_markdown

    policy = csdsl.load(files["policy"])
    md = render_markdown(policy)
    section = md.split("## Rules", 1)[1].split("## Examples", 1)[0]
    assert "### rule transfer for Stay · stays.csp:12" in section
    assert "**批准后方可转院**" in section
    assert "- severity: critical" in section and "- penalty points: 1" in section
    assert "> cites 004 篇3 一3" in section
    assert "the rule applies only when the number of `transferred` events is more than 0" in section
    assert "the time of the first `transfer_approved` event is set" in section
    assert "at least 1 `ward_round` event between 12:00 and 24:00 on every calendar day" in section
    assert "the date of the time of the first `discharge_notified` event is before" in section
    assert "rule transfer is not applicable" in md
    html = render_html(policy)
    assert "rule transfer for Stay" in html and "penalty points" in html


# ---- csdsl diff -----------------------------------------------------------------------------


def test_diff_lists_rules_as_clauses(
    capsys: pytest.CaptureFixture[str], files: dict[str, str]
) -> None:
    new = Path(files["dir"]) / "new.csp"
    text = POLICY.replace("severity critical", "severity major").replace(
        "  points 1\n", "  points 2\n"
    )
    text = text.replace('rule notice "提前一天" for Stay {\n  when discharged_at is set\n', "")
    text = text.replace("  require date(first(discharge_notified)) < date(discharged_at)\n}\n", "")
    text = text.replace("  expect notice kept\n", "")
    text = text.replace(", discharge_notified at 2024-03-02T08:00", "")
    text += "rule night for Stay {\n  require count(ward_round) >= 1\n}\n"
    new.write_text(text, encoding="utf-8")
    code, out, err = run(capsys, "diff", files["policy"], str(new), "--format", "json")
    assert code == 0, err
    clauses = {(c["kind"], c["name"]): c for c in json.loads(out)["clauses"]}
    transfer = clauses[("record rule", "transfer")]
    assert transfer["change"] == "changed" and transfer["record"] == "Stay"
    assert {(c["what"], c["old"], c["new"]) for c in transfer["changes"]} == {
        ("severity", "critical", "major"),
        ("points", "1", "2"),
    }
    assert transfer["witnessed"] is None
    assert clauses[("record rule", "notice")]["change"] == "removed"
    assert clauses[("record rule", "night")]["change"] == "added"
    _, out, _ = run(capsys, "diff", files["policy"], str(new))
    assert "no witness is searched for them" in out
    assert "expect notice kept" in out  # an example's rule expectations, as written


# ---- compile ---------------------------------------------------------------------------------


def test_compiled_python_checks_rules(files: dict[str, str]) -> None:
    policy = csdsl.load(files["policy"])
    module = load_source(generate(policy), "stays_checker")
    events = [e for e in EVENTS if e["case"] == "S2"]
    got = module.check_rules(STAYS[1], events)
    want = policy.check_rules(STAYS[1], events)
    assert [r.status for r in got] == [r.status for r in want] == ["broken", "broken", "unknown"]
    assert {"check_rules", "rules_file", "rule_checker"} <= set(module.__all__)
    rows, _ = module.rules_file(files["stays"], files["events"])
    assert [r.id for r in rows] == ["S1", "S2", "S3"]


def test_compiled_json_carries_rules(files: dict[str, str]) -> None:
    from csdsl.codegen.jsonir import dumps

    data = json.loads(dumps(csdsl.load(files["policy"])))
    assert [r["name"] for r in data["policy"]["rules"]] == ["rounds", "transfer", "notice"]


def test_compiled_sql_says_rules_are_not_in_it(
    capsys: pytest.CaptureFixture[str], files: dict[str, str]
) -> None:
    script = compile_sql(csdsl.load(files["policy"]))
    head = [line for line in script.splitlines() if line.startswith("--")]
    assert any(
        "not in the SQL: the record-level rules (`rounds`, `transfer`, `notice`)" in line
        for line in head[:6]
    )
    code, out, err = run(capsys, "compile", files["policy"], "--target", "sql")
    assert code == 0 and "not in the SQL" in out
    assert err.startswith("csdsl: note: not in the SQL: the record-level rules")
    code, _, err = run(capsys, "compile", "policies/complaint_validity.csp", "--target", "sql")
    assert code == 0 and "record-level" not in err

"""Importers of ticketing exports (docs/importers.md) and the audit's reconciliation with the
vendor's own SLA verdicts (issue 17, acceptance 4)."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import csdsl
from csdsl.auditor import AuditError, audit
from csdsl.cli import main
from csdsl.importers import convert, load_mapping
from csdsl.records import InputError

ROOT = Path(__file__).resolve().parent.parent
POLICY = ROOT / "policies" / "complaint_handling.csp"
ZD = ROOT / "examples" / "zendesk"
JR = ROOT / "examples" / "jira"
NOW = "2024-11-09T12:00:00+08:00"


def _write(path: Path, data: Any, jsonl: bool = False) -> Path:
    if jsonl:
        path.write_text("".join(json.dumps(x) + "\n" for x in data), encoding="utf-8")
    else:
        path.write_text(json.dumps(data), encoding="utf-8")
    return path


def _audit(ticket: Any, at: str, author: Any, *events: dict[str, Any]) -> dict[str, Any]:
    return {"id": 1, "ticket_id": ticket, "created_at": at, "author_id": author, "events": events}


def _status(old: str | None, new: str) -> dict[str, Any]:
    if old is None:
        return {"type": "Create", "field_name": "status", "value": new}
    return {"type": "Change", "field_name": "status", "value": new, "previous_value": old}


def _mapping(tmp_path: Path, text: str) -> csdsl.importers.Mapping:
    path = tmp_path / "map.toml"
    path.write_text(text, encoding="utf-8")
    return load_mapping(path)


USERS = '[users]\n"7" = "agent"\n"8" = "team_lead"\n"*" = "customer"\n'
AUDITS = [
    _audit(
        1, "2024-11-04T01:00:00Z", 99, _status(None, "new"), {"type": "Comment", "public": True}
    ),
    _audit(
        1,
        "2024-11-04T01:30:00Z",
        7,
        {"type": "Comment", "public": False, "body": "note"},
        _status("new", "pending"),
    ),
    _audit(1, "2024-11-04T03:00:00Z", 99, _status("pending", "open")),
    _audit(1, "2024-11-04T03:10:00Z", 7, {"type": "Comment", "public": True}),
    _audit(
        1,
        "2024-11-04T04:00:00Z",
        7,
        {"type": "Change", "field_name": "assignee_id", "value": 8, "previous_value": 7},
    ),
    _audit(1, "2024-11-04T05:00:00Z", 7, _status("open", "solved")),
    _audit(1, "2024-11-05T05:00:00Z", 99, _status("solved", "open")),
    _audit(1, "2024-11-05T06:00:00Z", 99, {"type": "SatisfactionRating", "score": "good"}),
]
EXPECTED = [
    {"case": "1", "at": "2024-11-04T01:30:00+00:00", "event": "awaiting_customer"},
    {"case": "1", "at": "2024-11-04T03:00:00+00:00", "event": "customer_replied"},
    {"case": "1", "at": "2024-11-04T03:10:00+00:00", "event": "replied", "role": "agent"},
    {"case": "1", "at": "2024-11-04T04:00:00+00:00", "event": "escalated", "role": "team_lead"},
    {"case": "1", "at": "2024-11-05T05:00:00+00:00", "event": "customer_unsatisfied"},
    {"case": "1", "at": "2024-11-05T06:00:00+00:00", "event": "customer_satisfied"},
]


# ---- Zendesk ticket audits ------------------------------------------------------------------


@pytest.mark.parametrize(
    "shape", ["page", "pages", "list", "jsonl_audits", "jsonl_pages"], ids=lambda s: s
)
def test_zendesk_audits_in_every_shape_give_the_same_events(tmp_path: Path, shape: str) -> None:
    path = tmp_path / ("a.jsonl" if shape.startswith("jsonl") else "a.json")
    data: Any = {
        "page": {"audits": AUDITS},
        "pages": [{"audits": AUDITS[:3]}, {"audits": AUDITS[3:]}],
        "list": AUDITS,
        "jsonl_audits": AUDITS,
        "jsonl_pages": [{"audits": AUDITS[:3]}, {"audits": AUDITS[3:]}],
    }[shape]
    _write(path, data, jsonl=shape.startswith("jsonl"))
    conv = convert(path, "zendesk", _mapping(tmp_path, USERS))
    assert conv.events == EXPECTED
    assert conv.bad == []
    assert conv.elements == sum(len(a["events"]) for a in AUDITS)


def test_zendesk_unknown_status_and_unnamed_users_are_counted_not_guessed(tmp_path: Path) -> None:
    audits = [
        _audit(2, "2024-11-04T01:00:00Z", 7, _status("open", "escalated_to_l2")),
        _audit(2, "2024-11-04T02:00:00Z", 7, _status("open", "escalated_to_l2")),
        _audit(2, "2024-11-04T03:00:00Z", 5, {"type": "Comment", "public": True}),
        _audit(2, "2024-11-04T04:00:00Z", 7, {"type": "Change", "field_name": "priority"}),
    ]
    path = _write(tmp_path / "a.json", {"audits": audits})
    conv = convert(path, "zendesk", _mapping(tmp_path, '[users]\n"7" = "agent"\n'))
    assert conv.events == []  # no status is guessed, an unnamed author is nobody's reply
    assert conv.notes == {
        "`status` change open -> escalated_to_l2 matches no entry of the mapping (no event)": 2,
        "public comment by a user the mapping's [users] does not name (no event)": 1,
    }
    assert len(conv.warnings()) == 2


def test_a_map_file_adds_to_the_default_and_can_turn_an_entry_off(tmp_path: Path) -> None:
    mapping = _mapping(
        tmp_path,
        USERS + '[zendesk.changes]\n"status:*->pending" = ""\n"status:open->hold" = "on_hold"\n',
    )
    audits = [
        _audit(3, "2024-11-04T01:00:00Z", 7, _status("open", "pending")),
        _audit(3, "2024-11-04T02:00:00Z", 7, _status("open", "hold")),
        _audit(3, "2024-11-04T03:00:00Z", 7, _status("pending", "open")),
    ]
    conv = convert(_write(tmp_path / "a.json", audits), "zendesk", mapping)
    assert [e["event"] for e in conv.events] == ["on_hold", "customer_replied"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[zendesk.changes]\nstatus = 'x'\n", "expected `field:from->to`"),
        ("[nope]\n", "unknown table [nope]"),
        ("[zendesk.changez]\n", "unknown table [zendesk.changez]"),
        ("[users]\n'7' = 3\n", "[users] `7` must be text"),
        ("[users\n", "not TOML"),
        ("[escalation]\nroles = 'team_lead'\n", "roles must be a list"),
        ("[case]\nzendesk = '{ticket_id.real}'\n", "cannot be filled"),
        ("[case]\njira = 'HOT'\n", "gives every ticket the same case id; put {key} in it"),
    ],
)
def test_a_bad_map_file_is_one_line_naming_it(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(InputError) as err:
        _mapping(tmp_path, text)
    assert str(tmp_path / "map.toml") in str(err.value)
    assert message in str(err.value)
    assert "\n" not in str(err.value)


HOSTILE_AUDITS: list[tuple[Any, str, str]] = [
    ("not an audit", "audits[0]", "an audit must be a JSON object"),
    ({"created_at": "2024-11-04T01:00:00Z", "events": []}, "audits[0]", "no `ticket_id`"),
    ({"ticket_id": True, "created_at": "x", "events": []}, "audits[0]", "`ticket_id` is true"),
    ({"ticket_id": 1, "created_at": "2024-13-45T00:00Z", "events": []}, "audits[0]", "created_at"),
    ({"ticket_id": 1, "created_at": 17, "events": []}, "audits[0]", "must be a time"),
    ({"ticket_id": 1, "created_at": "2024-11-04T01:00:00Z"}, "audits[0]", "no `events` array"),
    ({"ticket_id": 1, "created_at": "2024-11-04T01:00:00Z", "events": [3]}, "audits[0].events[0]",
     "an audit event must be a JSON object"),
    ({"ticket_id": 1, "created_at": "2024-11-04T01:00:00Z", "events": [{"type": "Change"}]},
     "audits[0].events[0]", "no `field_name`"),
    ({"ticket_id": 1, "created_at": "2024-11-04T01:00:00Z",
      "events": [{"type": "Comment", "public": "yes"}]}, "audits[0].events[0]", "`public`"),
    ({"ticket_id": 1, "created_at": "2024-11-04T01:00:00Z", "events": [{"value": 1}]},
     "audits[0].events[0]", "no `type`"),
]  # fmt: skip


@pytest.mark.parametrize(("audit_", "where", "reason"), HOSTILE_AUDITS)
def test_a_malformed_audit_is_a_bad_element_with_its_path(
    tmp_path: Path, audit_: Any, where: str, reason: str
) -> None:
    good = _audit(9, "2024-11-04T01:00:00Z", 7, {"type": "Comment", "public": True})
    path = _write(tmp_path / "a.json", {"audits": [audit_, good]})
    conv = convert(path, "zendesk", _mapping(tmp_path, USERS))
    assert [(b.line, b.where) for b in conv.bad] == [(0, where)]
    assert reason in conv.bad[0].reason
    assert conv.events == [
        {"case": "9", "at": "2024-11-04T01:00:00+00:00", "event": "replied", "role": "agent"}
    ]  # the rest is read
    assert conv.elements == conv.good + len(conv.bad)


def test_a_bad_jsonl_line_is_a_bad_row_with_its_line(tmp_path: Path) -> None:
    good = json.dumps(_audit(9, "2024-11-04T01:00:00Z", 7, {"type": "Comment", "public": True}))
    bad_event = json.dumps({"ticket_id": 4, "created_at": "2024-11-04T01:00:00Z", "events": [1]})
    path = tmp_path / "a.jsonl"
    path.write_text(f"{good}\n{{not json\n\n{bad_event}\n[1, NaN]\n{good}\n", encoding="utf-8")
    conv = convert(path, "zendesk", _mapping(tmp_path, USERS))
    assert [(b.line, b.where) for b in conv.bad] == [(2, ""), (4, "events[0]"), (5, "")]
    assert len(conv.events) == 2
    assert conv.elements == conv.good + len(conv.bad) == 5  # 2 comments, 3 bad


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "empty file"),
        ('{"ticket_metric_events": []}', "its top-level keys are `ticket_metric_events`"),
        ('{"audits": [', "not JSON"),
        (
            '{"audits": [\n  {"ticket_id": 1},\n  {bad}\n]}',
            "not JSON (Expecting property name enclosed in double quotes at line 3 column 4)",
        ),
        ("42", "it holds 42"),
    ],
)
def test_a_file_that_is_no_export_is_one_line(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "a.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(InputError) as err:
        convert(path, "zendesk")
    assert str(err.value).startswith(f"{path}: ")
    assert message in str(err.value)


@pytest.mark.parametrize("fmt", ["jira", "jsm-sla"])
def test_a_document_that_is_a_number_is_no_issue_export(tmp_path: Path, fmt: str) -> None:
    path = tmp_path / "a.json"
    path.write_text("0", encoding="utf-8")  # once a TypeError: `key in 0`
    with pytest.raises(InputError, match="it holds 0"):
        convert(path, fmt)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8)
    | st.sampled_from(["2024-11-04T01:00:00Z", "Change", "Comment", "status", "pending"]),
    lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(
        st.sampled_from(
            ["ticket_id", "created_at", "events", "type", "field_name", "value",
             "previous_value", "public", "author_id", "metric", "time", "key", "changelog",
             "histories", "items", "field", "toString", "created", "values", "breached",
             "completedCycles", "ongoingCycle", "name", "fields", "comment", "comments"]
        ),
        inner,
        max_size=6,
    ),
    max_leaves=25,
)  # fmt: skip


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(elements=st.lists(json_values, max_size=5), fmt=st.sampled_from(
    ["zendesk", "zendesk-metrics", "jira", "jsm-sla"]), jsonl=st.booleans())  # fmt: skip
def test_hostile_exports_never_crash(
    tmp_path: Path, elements: list[Any], fmt: str, jsonl: bool
) -> None:
    key = {"zendesk": "audits", "zendesk-metrics": "ticket_metric_events", "jira": "issues",
           "jsm-sla": "requests"}[fmt]  # fmt: skip
    if jsonl:  # one element a line: a bad one is told by its line
        path = _write(tmp_path / "h.jsonl", [0, 0, *elements], jsonl=True)
    else:
        path = _write(tmp_path / "h.json", {key: elements})
    conv = convert(path, fmt)
    assert conv.elements == conv.good + len(conv.bad)
    if jsonl:
        assert all(b.line >= 1 for b in conv.bad)
        assert [b.line for b in conv.bad[:2]] == [1, 2]  # the `0` lines
    else:
        assert all(b.where.startswith(f"{key}[") for b in conv.bad)


# ---- the samples ---------------------------------------------------------------------------


def test_zendesk_sample_converts(tmp_path: Path) -> None:
    conv = convert(ZD / "audits.json", "zendesk", load_mapping(ZD / "map.toml"))
    assert (conv.elements, conv.good, len(conv.bad)) == (205, 204, 1)
    assert [(b.line, b.where, b.case) for b in conv.bad] == [(0, "audits[10].events[1]", "48104")]
    assert [e for e in conv.events if e["case"] == "48104"] == [
        {"case": "48104", "at": "2024-11-04T10:42:00+00:00", "event": "awaiting_customer"},
        {"case": "48104", "at": "2024-11-04T13:42:00+00:00", "event": "customer_replied"},
        {"case": "48104", "at": "2024-11-04T14:03:00+00:00", "event": "replied", "role": "agent"},
    ]
    assert [e for e in conv.events if e["case"] == "48129"] == []  # not answered yet
    metrics = convert(ZD / "metric_events.jsonl", "zendesk-metrics", load_mapping(ZD / "map.toml"))
    assert [(b.line, b.where) for b in metrics.bad] == [(6, "")]
    verdicts = {v.case: v for v in metrics.verdicts}
    assert (verdicts["48103"].status, verdicts["48103"].at) == (
        "breached",
        "2024-11-04T08:48:00+00:00",
    )
    assert verdicts["48101"].status == "met"  # its breach event is `deleted`: called off
    assert verdicts["48129"].status == "ongoing"


def test_jira_sample_converts() -> None:
    mapping = load_mapping(JR / "map.toml")
    conv = convert(JR / "issues.json", "jira", mapping)
    assert (conv.elements, conv.good, len(conv.bad)) == (74, 73, 1)
    assert [(b.where, b.case) for b in conv.bad] == [
        ("issues[4].changelog.histories[1].items[0]", "HOT-105")
    ]
    assert [e for e in conv.events if e["case"] == "HOT-104"] == [
        {"case": "HOT-104", "at": "2024-11-04T18:31:00+08:00", "event": "awaiting_customer"},
        {"case": "HOT-104", "at": "2024-11-04T21:31:00+08:00", "event": "customer_replied"},
        {"case": "HOT-104", "at": "2024-11-04T22:21:00+08:00", "event": "replied", "role": "agent"},
    ]
    slas = convert(JR / "sla.jsonl", "jsm-sla", mapping)
    assert [(b.line, b.where) for b in slas.bad] == [(10, "values[0].completedCycles[0]")]
    verdicts = {v.case: v for v in slas.verdicts}
    assert verdicts["HOT-103"].status == "breached"
    assert verdicts["HOT-103"].at == "2024-11-04T16:51:00+08:00"
    assert verdicts["HOT-130"].status == "ongoing"
    assert "HOT-110" not in verdicts  # its bad cycle gives no verdict


def test_jsm_times_by_epoch_millis_and_an_sla_without_cycles(tmp_path: Path) -> None:
    request = {
        "key": "HOT-1",
        "values": [
            {"name": "Time to first response", "completedCycles": [
                {"breached": True, "breachTime": {"epochMillis": 1730685600000}}]},
            {"name": "Time to resolution", "completedCycles": []},
        ],
    }  # fmt: skip
    conv = convert(_write(tmp_path / "s.jsonl", [request], jsonl=True), "jsm-sla")
    assert [(v.metric, v.status, v.at) for v in conv.verdicts] == [
        ("Time to first response", "breached", "2024-11-04T02:00:00+00:00")
    ]
    assert conv.notes == {"SLA with no cycle (its clock never started; no verdict)": 1}


def test_jira_public_comments_and_assignee_escalation(tmp_path: Path) -> None:
    issue = {
        "key": "HOT-9",
        "fields": {"comment": {"comments": [
            {"author": {"accountId": "a1"}, "created": "2024-11-04T10:00:00.000+0800",
             "jsdPublic": False},
            {"author": {"accountId": "a1"}, "created": "2024-11-04T11:00:00.000+0800",
             "jsdPublic": True},
        ]}},
        "changelog": {"histories": [
            {"created": "2024-11-04T10:30:00.000+0800", "author": {"accountId": "a1"}, "items": [
                {"field": "assignee", "from": "a1", "to": "l1"},
                {"field": "status", "fromString": "Waiting for support",
                 "toString": "Waiting for Customer"}]},
        ]},
    }  # fmt: skip
    mapping = _mapping(tmp_path, '[users]\na1 = "agent"\nl1 = "team_lead"\n')
    conv = convert(_write(tmp_path / "i.json", issue), "jira", mapping)
    assert conv.events == [
        {"case": "HOT-9", "at": "2024-11-04T10:30:00+08:00", "event": "escalated",
         "role": "team_lead"},
        {"case": "HOT-9", "at": "2024-11-04T10:30:00+08:00", "event": "awaiting_customer"},
        {"case": "HOT-9", "at": "2024-11-04T11:00:00+08:00", "event": "replied", "role": "agent"},
    ]  # fmt: skip


# ---- the command line -----------------------------------------------------------------------


def test_csdsl_import_writes_jsonl_and_reports_bad_elements(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "events.jsonl"
    args = ["import", "--from", "zendesk", str(ZD / "audits.json"), "--map", str(ZD / "map.toml")]
    assert main([*args, "-o", str(out)]) == 0
    err = capsys.readouterr().err
    assert f"{ZD / 'audits.json'}: X001 audits[10].events[1]: a Change event with no" in err
    assert "205 elements read, 204 good, 1 bad; 42 events" in err
    lines = out.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 42
    assert json.loads(lines[0]) == {
        "case": "48101",
        "at": "2024-11-04T02:16:00+00:00",
        "event": "replied",
        "role": "agent",
    }
    assert main(["import", "--from", "jsm-sla", str(JR / "sla.jsonl")]) == 0
    captured = capsys.readouterr()
    assert f"{JR / 'sla.jsonl'}:10: X001 values[0].completedCycles[0]" in captured.err
    assert len(captured.out.splitlines()) == 30


def test_csdsl_import_of_a_wrong_file_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["import", "--from", "jira", str(ZD / "audits.json")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "not a Jira issues export" in err and "`audits`" in err


# ---- the audit and its reconciliation ---------------------------------------------------------


def _run(vendor: str, engine: str, out: Path) -> dict[str, Any]:
    folder, events_from, sla, sla_from = {
        "zendesk": (ZD, "zendesk", "metric_events.jsonl", "zendesk-metrics"),
        "jira": (JR, "jira", "sla.jsonl", "jsm-sla"),
    }[vendor]
    events = "audits.json" if vendor == "zendesk" else "issues.json"
    args = [
        "audit", str(POLICY), "--out", str(out), "--engine", engine, "--now", NOW,
        "--records", str(folder / "complaints.jsonl"),
        "--events", str(folder / events), "--events-from", events_from,
        "--vendor-sla", str(folder / sla), "--vendor-sla-from", sla_from,
        "--map", str(folder / "map.toml"),
    ]  # fmt: skip
    assert main(args) == 0
    data: dict[str, Any] = json.loads((out / "report.json").read_text(encoding="utf-8"))
    return data


PLANTED = {
    "zendesk": {("48108", "breached", "met"), ("48109", "breached", "met"),
                ("48114", "met", "breached")},
    "jira": {("HOT-108", "met", "breached"), ("HOT-112", "breached", "met"),
             ("HOT-113", "breached", "met")},
}  # fmt: skip


@pytest.mark.parametrize("vendor", ["zendesk", "jira"])
def test_reconciliation_finds_the_planted_disagreements_on_both_engines(
    tmp_path: Path, vendor: str, capsys: pytest.CaptureFixture[str]
) -> None:
    py = _run(vendor, "python", tmp_path / "py")
    duck = _run(vendor, "duckdb", tmp_path / "duck")
    capsys.readouterr()
    assert py["reconciliation"] == duck["reconciliation"]
    r = py["reconciliation"]
    found = {
        (str(d["case"]), d["vendor"]["status"], d["policy"]["status"])
        for d in r["disagreements"]["items"]
    }
    assert found == PLANTED[vendor]
    assert r["counts"]["disagree"] == 3
    assert r["counts"]["only_in_vendor"] == 1  # a ticket with no record
    # both reasons: the vendor's event and the policy's due time, stop and lateness
    planted = next(d for d in r["disagreements"]["items"] if d["policy"]["status"] == "breached")
    assert planted["policy"]["cycles"][0]["due"] and planted["policy"]["cycles"][0]["late_by"]
    assert planted["policy"]["clause"]["id"] == "reply"
    assert planted["vendor"]["reason"]
    # the exports are inputs with their elements, and their bad elements are bad rows
    kinds = {i["kind"]: i for i in py["inputs"]}
    assert kinds["export"]["rows"] == kinds["export"]["read"] + kinds["export"]["bad"]
    assert kinds["export"]["bad"] == kinds["vendor_sla"]["bad"] == 1
    assert {b["code"] for b in py["bad_rows"]["items"]} == {"X001"}
    where = {"zendesk": "audits[10].events[1]", "jira": "issues[4].changelog.histories[1].items[0]"}
    assert where[vendor] in {b.get("where") for b in py["bad_rows"]["items"]}
    assert kinds["events"]["path"] == str(tmp_path / "py" / "imported_events.jsonl")
    name = "Zendesk" if vendor == "zendesk" else "Jira Service Management"
    for report in ("report.md", "report.html"):
        text = (tmp_path / "py" / report).read_text(encoding="utf-8")
        assert f"Reconciliation with {name}" in text
        for case, _, _ in PLANTED[vendor]:
            assert case in text


def test_no_reconciliation_section_unless_asked(tmp_path: Path) -> None:
    report = audit(
        csdsl.load(POLICY),
        records=ZD / "complaints.jsonl",
        events=ZD / "audits.json",
        events_from="zendesk",
        mapping=ZD / "map.toml",
    )
    assert "reconciliation" not in report.data
    assert report.data["timelines"]["events"] == 42


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"events_from": "zendesk"}, "give --events too"),
        ({"vendor_sla": ZD / "metric_events.jsonl"}, "go together"),
        (
            {"vendor_sla": ZD / "metric_events.jsonl", "vendor_sla_from": "zendesk-metrics"},
            "need the event log",
        ),
        ({"mapping": ZD / "map.toml"}, "--map is read with"),
    ],
)
def test_vendor_arguments_that_do_not_go_together(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(AuditError, match=message):
        audit(csdsl.load(POLICY), records=ZD / "complaints.jsonl", **kwargs)


def test_a_mapped_deadline_the_policy_lacks_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "map.toml"
    path.write_text('[zendesk.sla]\nreply_time = "replyy"\n', encoding="utf-8")
    with pytest.raises(InputError, match="maps to `replyy`, which is not a deadline"):
        audit(
            csdsl.load(POLICY),
            records=ZD / "complaints.jsonl",
            events=ZD / "audits.json",
            events_from="zendesk",
            vendor_sla=ZD / "metric_events.jsonl",
            vendor_sla_from="zendesk-metrics",
            mapping=path,
        )


def test_a_bad_map_on_the_command_line_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "map.toml"
    bad.write_text('[zendesk.sla]\nreply_time = "replyy"\n', encoding="utf-8")
    args = [
        "audit", str(POLICY), "--out", str(tmp_path / "out"),
        "--records", str(ZD / "complaints.jsonl"), "--events", str(ZD / "audits.json"),
        "--events-from", "zendesk", "--vendor-sla", str(ZD / "metric_events.jsonl"),
        "--vendor-sla-from", "zendesk-metrics", "--map", str(bad),
    ]  # fmt: skip
    assert main(args) == 2
    assert main(["import", "--from", "zendesk", str(ZD / "audits.json"), "--map", str(bad)]) == 0
    bad.write_text("[zendesk.changes]\n'status' = 'x'\n", encoding="utf-8")
    assert main(["import", "--from", "zendesk", str(ZD / "audits.json"), "--map", str(bad)]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith(f"csdsl: {bad}: the vendor metric `reply_time` maps to `replyy`")
    assert err[-1].startswith(f"csdsl: {bad}: [zendesk.changes] `status`: expected")


def test_the_wheel_ships_the_default_mapping_and_the_section_templates(tmp_path: Path) -> None:
    builder = pytest.importorskip("hatchling.builders.wheel")
    (wheel,) = builder.WheelBuilder(str(ROOT)).build(directory=str(tmp_path), versions=["standard"])
    with zipfile.ZipFile(wheel) as z:
        names = set(z.namelist())
        shipped = z.read("csdsl/importers/default_map.toml")
    assert shipped == (ROOT / "src/csdsl/importers/default_map.toml").read_bytes()
    assert {
        "csdsl/report/templates/reconciliation.html.j2",
        "csdsl/report/templates/reconciliation.md.j2",
    } <= names

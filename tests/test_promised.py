"""Deadlines to a promised or agreed time (issue 15): `by FIELD` (a datetime of the record is
the due time) and `within FIELD` (a duration of the record), skipped when the field is missing."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from pathlib import Path
from typing import Any

import pytest

import csdsl
from csdsl.cli import main
from csdsl.codegen import jsonir
from csdsl.doc import words
from csdsl.source import SourceFile
from csdsl.syntax.parse import format_source
from csdsl.timeline import Milestone

SH = zoneinfo.ZoneInfo("Asia/Shanghai")
POLICY = """policy "承诺时限" timezone "Asia/Shanghai"

record Case {
  received_at: datetime
  promised_at: datetime?
  agreed_wait: duration?
  vip: bool
}

deadline promised for Case {
  starts at received_at
  stops on replied
  pauses on awaiting_customer resumes on customer_replied
  by promised_at "the time promised to the customer" when vip
  within agreed_wait "the wait agreed with the customer"
  otherwise within 48h
}

deadline only_promised for Case {
  starts at received_at
  stops on replied
  by promised_at
}
"""


@pytest.fixture(scope="module")
def policy(tmp_path_factory: pytest.TempPathFactory) -> csdsl.Policy:
    path = tmp_path_factory.mktemp("promised") / "policy.csp"
    path.write_text(POLICY, encoding="utf-8")
    return csdsl.load(path)


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=SH)


def ev(when: str, name: str) -> dict[str, Any]:
    return {"case": "1", "at": when, "event": name}


def pick(policy: csdsl.Policy, clause: str, *events: dict[str, Any], **values: Any) -> Milestone:
    record = {"id": "1", "received_at": "2024-10-29T09:00", "vip": True, **values}
    t = policy.timeline(record, list(events))
    assert not t.errors
    return next(m for m in t.milestones if m.clause == clause and m.kind == "deadline")


def test_a_promised_time_is_the_due_time(policy: csdsl.Policy) -> None:
    m = pick(policy, "promised", ev("2024-10-29T16:30", "replied"), promised_at="2024-10-29T17:00")
    assert (m.due, m.status) == (at("2024-10-29T17:00"), "met")
    assert m.provenance["rule"] == "by promised_at, the time promised to the customer"
    late = pick(
        policy, "promised", ev("2024-10-29T18:00", "replied"), promised_at="2024-10-29T17:00"
    )
    assert (late.status, late.late_by) == ("breached", dt.timedelta(hours=1))


def test_a_pause_does_not_move_a_promised_time(policy: csdsl.Policy) -> None:
    m = pick(
        policy,
        "promised",
        ev("2024-10-29T10:00", "awaiting_customer"),
        ev("2024-10-29T14:00", "customer_replied"),
        ev("2024-10-29T18:00", "replied"),
        promised_at="2024-10-29T17:00",
    )
    assert (m.due, m.status) == (at("2024-10-29T17:00"), "breached")
    assert m.provenance["pauses"] == []


def test_a_missing_field_or_a_false_condition_passes_to_the_next_target(
    policy: csdsl.Policy,
) -> None:
    # not vip: the promised time's `when` fails, so the agreed wait applies (paused 4 hours)
    m = pick(
        policy,
        "promised",
        ev("2024-10-29T10:00", "awaiting_customer"),
        ev("2024-10-29T14:00", "customer_replied"),
        promised_at="2024-10-29T17:00",
        agreed_wait="PT3H",
        vip=False,
    )
    assert m.due == at("2024-10-29T16:00")
    assert m.provenance["rule"] == "within agreed_wait, the wait agreed with the customer"
    # neither field: the default
    m = pick(policy, "promised", ev("2024-10-30T09:00", "replied"))
    assert (m.due, m.status) == (at("2024-10-31T09:00"), "met")
    assert m.provenance["rule"] == "within 48h (default)"


def test_no_promised_time_and_no_other_target_is_not_applicable(policy: csdsl.Policy) -> None:
    m = pick(policy, "only_promised", ev("2024-10-29T11:00", "replied"))
    assert (m.status, m.due) == ("not_applicable", None)
    m = pick(policy, "only_promised", promised_at="2024-10-29T17:00")
    assert (m.status, m.due) == ("pending", at("2024-10-29T17:00"))


def test_words_say_where_the_due_time_comes_from(policy: csdsl.Policy) -> None:
    d = next(d for d in policy.ir.deadlines if d.name == "promised")
    assert [words.due(t.time) for t in d.targets] == [
        "due by the time in `promised_at`, the time promised to the customer (when it is set)",
        "due within the duration in `agreed_wait`, the wait agreed with the customer "
        "(when it is set)",
        "due within 48 hours",
    ]


def test_the_ir_and_the_layout_keep_the_targets(policy: csdsl.Policy) -> None:
    again = jsonir.decode_ir(jsonir.encode_ir(policy.ir))
    assert again.deadlines == policy.ir.deadlines
    assert format_source(SourceFile("p.csp", POLICY)) == (POLICY, [])


@pytest.mark.parametrize(
    ("target", "code", "message"),
    [
        ("by promise_at", "E235", "`promise_at` is not a field of `Case`"),
        ("within agreed", "E235", "`agreed` is not a field of `Case`"),
        ("by vip", "E236", "`by vip`: `vip` is a bool, not a datetime"),
        ("by agreed_wait", "E236", "`agreed_wait` is a duration, not a datetime"),
        ("within promised_at", "E236", "`promised_at` is a datetime, not a duration"),
    ],
)
def test_a_target_field_must_exist_and_have_the_right_type(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], target: str, code: str, message: str
) -> None:
    path = tmp_path / "bad.csp"
    path.write_text(POLICY.replace("by promised_at\n", target + "\n"), encoding="utf-8")
    assert main(["check", str(path)]) != 0
    out = capsys.readouterr()
    text = out.out + out.err
    assert f"error[{code}]" in text and message in text
    assert "Traceback" not in text

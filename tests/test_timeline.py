"""Timelines: clocks, pauses, caps, warnings, updates, cycles and escalation, against events."""

from __future__ import annotations

import datetime as dt
import json
import zoneinfo
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given, settings, strategies as st

import csdsl
from csdsl.cli import main
from csdsl.timeline import Event, EventLog, Milestone, Timeline

SH = zoneinfo.ZoneInfo("Asia/Shanghai")
POLICY = """
policy "时限" timezone "Asia/Shanghai"

record Case {
  received_at: datetime
  complexity: enum(simple, complex)
}

calendar office {
  open mon-fri 09:00-12:00, 13:30-18:00
  holidays china
}

deadline reply for Case {
  starts at received_at
  stops on replied
  pauses on awaiting_customer resumes on customer_replied because "等待客户"
  within 2 working hours on office when complexity = simple
  within 30h when complexity = complex
  at most 48h
  warn at 50%
  update every 24h with progress_update
  reopens on customer_unsatisfied new cycle until customer_satisfied
}

deadline report for Case {
  starts on written_report
  stops on manager_replied
  within 4h
  warn 1h before
  reopens on customer_unsatisfied continue
}

escalation ladder for Case {
  roles agent -> team_lead -> supervisor -> manager
  agent -> team_lead on breach of reply within 30m
  team_lead -> supervisor after 2 working hours on office
  supervisor -> manager on customer_angry
}
"""


@pytest.fixture(scope="module")
def policy(tmp_path_factory: pytest.TempPathFactory) -> csdsl.Policy:
    path = tmp_path_factory.mktemp("tl") / "policy.csp"
    path.write_text(POLICY, encoding="utf-8")
    return csdsl.load(path)


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=SH)


def ev(when: str, name: str, role: str | None = None) -> dict[str, Any]:
    return {"case": "1", "at": when, "event": name, "role": role}


def timeline(
    policy: csdsl.Policy,
    received: str,
    complexity: str,
    *events: dict[str, Any],
    now: str | None = None,
) -> Timeline:
    record = {"id": "1", "received_at": received, "complexity": complexity}
    return policy.timeline(record, list(events), now=at(now) if now else None)


def pick(t: Timeline, clause: str, cycle: int = 1) -> Milestone:
    return next(m for m in t.milestones if m.clause == clause and m.cycle == cycle)


def test_working_hours_roll_over_to_a_make_up_sunday(policy: csdsl.Policy) -> None:
    t = timeline(policy, "2025-09-26T17:00", "simple", ev("2025-09-28T09:59", "replied"))
    m = pick(t, "reply")
    assert (m.due, m.status, m.at) == (at("2025-09-28T10:00"), "met", at("2025-09-28T09:59"))
    assert m.provenance["calendar"] == "office"
    assert m.provenance["dataset"].startswith("holidays ")
    assert m.provenance["closed_skipped"] == dt.timedelta(hours=39)
    assert m.provenance["start"]["source"] == "field `received_at`"


def test_late_stop_is_breached_with_late_by(policy: csdsl.Policy) -> None:
    t = timeline(policy, "2024-11-04T09:00", "simple", ev("2024-11-04T14:00", "replied"))
    m = pick(t, "reply")
    assert m.due == at("2024-11-04T11:00")
    assert (m.status, m.late_by) == ("breached", dt.timedelta(hours=3))


def test_no_stop_is_pending_without_now_and_breached_after_it(policy: csdsl.Policy) -> None:
    assert pick(timeline(policy, "2024-11-04T09:00", "simple"), "reply").status == "pending"
    m = pick(timeline(policy, "2024-11-04T09:00", "simple", now="2024-11-05T09:00"), "reply")
    assert (m.status, m.late_by) == ("breached", dt.timedelta(hours=22))


def test_a_pause_holds_the_clock_and_names_its_reason(policy: csdsl.Policy) -> None:
    t = timeline(
        policy,
        "2024-11-04T09:00",
        "complex",
        ev("2024-11-04T10:00", "awaiting_customer"),
        ev("2024-11-04T16:00", "customer_replied"),
        ev("2024-11-05T20:00", "replied"),
    )
    m = pick(t, "reply")
    assert m.due == at("2024-11-05T21:00")  # 30h + 6h paused
    assert m.status == "met"
    (pause,) = m.provenance["pauses"]
    assert (pause["from"], pause["to"], pause["reason"]) == (
        at("2024-11-04T10:00"),
        at("2024-11-04T16:00"),
        "等待客户",
    )


def test_a_pause_never_resumed_leaves_the_clock_paused(policy: csdsl.Policy) -> None:
    t = timeline(
        policy,
        "2024-11-04T09:00",
        "complex",
        ev("2024-11-04T10:00", "awaiting_customer"),
        now="2024-11-20T00:00",
    )
    m = pick(t, "reply")
    assert m.status == "pending" and "paused (等待客户)" in m.message


def test_the_cap_wins_when_it_falls_earlier(policy: csdsl.Policy) -> None:
    # complex: 30h; pause 40h is applied to both; a cap of 48h never binds a 30h target ...
    t = timeline(policy, "2024-11-04T09:00", "complex")
    assert pick(t, "reply").provenance["rule"] == "within 30h"
    # ... but 2 working hours from Friday night before a long holiday are later than 48h
    t = timeline(policy, "2025-09-30T20:00", "simple")
    m = pick(t, "reply")
    assert m.due == at("2025-10-02T20:00") and m.provenance["rule"] == "at most 48h"


def test_warning_at_a_percentage_of_the_clock(policy: csdsl.Policy) -> None:
    t = timeline(policy, "2024-11-04T09:00", "complex", ev("2024-11-05T02:00", "replied"))
    w = pick(t, "reply.warning")
    assert w.due == at("2024-11-04T00:00") + dt.timedelta(hours=24)  # 50% of 30h after 09:00
    assert w.status == "breached"  # still open at the warning point
    t = timeline(policy, "2024-11-04T09:00", "complex", ev("2024-11-04T12:00", "replied"))
    assert pick(t, "reply.warning").status == "met"


def test_warning_by_lead_time_and_start_from_an_event(policy: csdsl.Policy) -> None:
    t = timeline(
        policy,
        "2024-11-04T09:00",
        "simple",
        ev("2024-11-04T10:00", "written_report"),
        ev("2024-11-04T13:30", "manager_replied"),
    )
    m, w = pick(t, "report"), pick(t, "report.warning")
    assert (m.due, m.status) == (at("2024-11-04T14:00"), "met")
    assert "event `written_report` (line 1)" in m.provenance["start"]["source"]
    assert (w.due, w.status) == (at("2024-11-04T13:00"), "breached")


def test_periodic_updates_are_checked_per_period(policy: csdsl.Policy) -> None:
    t = timeline(
        policy,
        "2024-11-04T09:00",
        "complex",
        ev("2024-11-04T20:00", "progress_update"),
        ev("2024-11-06T12:00", "replied"),
    )
    ups = [m for m in t.milestones if m.kind == "update"]
    assert [(u.due, u.status, u.late_by) for u in ups] == [
        (at("2024-11-05T09:00"), "met", None),
        (at("2024-11-06T09:00"), "breached", dt.timedelta(hours=3)),  # until the reply
    ]
    t = timeline(policy, "2024-11-04T09:00", "complex", now="2024-11-04T20:00")
    (up,) = [m for m in t.milestones if m.kind == "update"]
    assert (up.due, up.status) == (at("2024-11-05T09:00"), "pending")  # the next one due


def test_reopening_starts_a_new_cycle_until_satisfied(policy: csdsl.Policy) -> None:
    t = timeline(
        policy,
        "2024-11-04T09:00",
        "simple",
        ev("2024-11-04T10:00", "replied"),
        ev("2024-11-05T09:00", "customer_unsatisfied"),
        ev("2024-11-05T15:00", "replied"),
        ev("2024-11-06T09:00", "customer_satisfied"),
        ev("2024-11-07T09:00", "customer_unsatisfied"),
    )
    cycles = [m for m in t.milestones if m.clause == "reply"]
    assert [(m.cycle, m.status) for m in cycles] == [(1, "met"), (2, "breached")]
    assert cycles[1].provenance["start"]["source"].startswith("event `customer_unsatisfied`")
    assert cycles[1].due == at("2024-11-05T11:00")


def test_continue_mode_carries_the_clock_over(policy: csdsl.Policy) -> None:
    t = timeline(
        policy,
        "2024-11-04T09:00",
        "simple",
        ev("2024-11-04T10:00", "written_report"),
        ev("2024-11-04T11:00", "manager_replied"),
        ev("2024-11-04T15:00", "customer_unsatisfied"),
    )
    second = pick(t, "report", 2)
    assert second.due == at("2024-11-04T18:00")  # 1h used, 3h left from 15:00
    assert second.status == "pending"


def test_escalation_met_late_never_skipped_and_not_triggered(policy: csdsl.Policy) -> None:
    late_reply = [ev("2024-11-04T14:00", "replied")]  # due 11:00: breached
    step = "ladder: agent -> team_lead"
    t = timeline(
        policy,
        "2024-11-04T09:00",
        "simple",
        *late_reply,
        ev("2024-11-04T11:20", "escalated", "team_lead"),
    )
    m = pick(t, step)
    assert (m.status, m.due, m.owner) == ("met", at("2024-11-04T11:30"), "team_lead")
    t = timeline(
        policy,
        "2024-11-04T09:00",
        "simple",
        *late_reply,
        ev("2024-11-04T12:30", "escalated", "team_lead"),
    )
    assert (pick(t, step).status, pick(t, step).late_by) == ("breached", dt.timedelta(hours=1))
    assert "escalated late" in pick(t, step).message
    t = timeline(policy, "2024-11-04T09:00", "simple", now="2024-11-06T00:00")  # no reply
    assert pick(t, step).message == "never escalated"
    nxt = pick(t, "ladder: team_lead -> supervisor")
    assert nxt.due == at("2024-11-04T15:00")  # 2 working hours after 11:30, lunch skipped
    # a reply, even a late one, ends the ladder: the 14:00 reply comes before the 15:00 step
    t = timeline(policy, "2024-11-04T09:00", "simple", *late_reply, now="2024-11-06T00:00")
    nxt = pick(t, "ladder: team_lead -> supervisor")
    assert (nxt.status, nxt.message) == ("not_applicable", "the clock was fulfilled first")
    t = timeline(
        policy,
        "2024-11-04T09:00",
        "simple",
        *late_reply,
        ev("2024-11-04T11:10", "escalated", "supervisor"),
    )
    assert pick(t, step).status == "breached" and "skipped a level" in pick(t, step).message
    t = timeline(policy, "2024-11-04T09:00", "simple", ev("2024-11-04T10:00", "replied"))
    assert pick(t, step).status == "not_applicable"
    assert pick(t, "ladder: supervisor -> manager").status == "not_applicable"
    t = timeline(policy, "2024-11-04T09:00", "simple", ev("2024-11-04T10:00", "customer_angry"))
    assert pick(t, "ladder: supervisor -> manager").due == at("2024-11-04T10:00")


def test_a_date_in_an_unpublished_year_is_a_per_record_error(policy: csdsl.Policy) -> None:
    from csdsl.calendar import china_published_years

    year = china_published_years()[1] + 1
    t = timeline(policy, f"{year}-03-01T09:00", "simple")
    assert any("outside the years" in e for e in t.errors)
    assert not any(m.clause == "reply" for m in t.milestones)


def test_timeline_cli_reports_event_problems_and_keeps_going(
    policy: csdsl.Policy, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    records = tmp_path / "cases.jsonl"
    records.write_text(
        '{"id": "1", "received_at": "2024-11-04T09:00", "complexity": "simple"}\n'
        '{"id": "2", "received_at": "2024-11-04T09:00", "complexity": "urgent"}\n',
        "utf-8",
    )
    events = tmp_path / "events.jsonl"
    events.write_text(
        "\n".join(
            json.dumps(x)
            for x in [
                ev("2024-11-04T10:30", "replied"),
                ev("2024-11-04T10:00", "escalated", "team_lead"),
                {"case": "9", "at": "2024-11-04T10:00", "event": "replied"},
                {"case": "1", "at": "2024-11-31T10:00", "event": "replied"},
                {"case": "1", "at": "2024-11-04T10:00", "event": "replyed"},
            ]
        )
        + "\n",
        "utf-8",
    )
    policy_path = tmp_path / "p.csp"
    policy_path.write_text(POLICY, "utf-8")
    code = main(
        [
            "timeline",
            str(policy_path),
            str(records),
            "--events",
            str(events),
            "--now",
            "2024-11-10T00:00",
            "--format",
            "json",
        ]
    )
    out, err = capsys.readouterr()
    assert code == 0
    first, second = (json.loads(x) for x in out.splitlines())
    assert set(first) == {"id", "line", "milestones", "errors"}
    keys = {
        "clause",
        "kind",
        "owner",
        "due",
        "status",
        "at",
        "late_by",
        "cycle",
        "message",
        "source",
        "provenance",
    }
    assert all(set(m) == keys for m in first["milestones"])
    reply = next(m for m in first["milestones"] if m["clause"] == "reply")
    assert (reply["due"], reply["status"]) == ("2024-11-04T11:00:00+08:00", "met")
    assert second["error"]["code"] == "R006"
    assert f"{events}:2: V002" in err and f"{events}:3: V003" in err
    assert f"{events}:4: R005" in err and f"{events}:5: V001" in err
    assert "did you mean `replied`?" in err
    assert f"{events}:5: V002" in err  # 10:00 comes after 10:30 in the file
    assert err.strip().endswith("5 event lines with a problem")


def test_by_a_time_next_working_day_and_working_days(tmp_path: Path) -> None:
    path = tmp_path / "days.csp"
    path.write_text(
        'policy "d" timezone "Asia/Shanghai"\nrecord R { at: datetime }\n'
        "calendar office { open mon-fri 09:00-18:00\n holidays china }\n"
        "deadline callback for R { starts at at\n stops on called\n"
        " within by 18:00 next working day on office }\n"
        "deadline visit for R { starts at at\n stops on visited\n"
        " within 2 working days on office }\n",
        "utf-8",
    )
    p = csdsl.load(path)
    t = p.timeline({"id": 1, "at": "2025-09-30T10:00"})  # Golden Week follows
    assert pick(t, "callback").due == at("2025-10-09T18:00")
    assert pick(t, "visit").due == at("2025-10-10T18:00")
    t = p.timeline({"id": 1, "at": "2025-10-10T20:00"})  # Friday night; Saturday is 调休
    assert pick(t, "callback").due == at("2025-10-11T18:00")


def test_events_for_one_record_need_no_case(policy: csdsl.Policy) -> None:
    record = {"id": "7", "received_at": "2024-11-04T09:00", "complexity": "simple"}
    t = policy.timeline(record, [{"at": "2024-11-04T10:00", "event": "replied"}])
    assert pick(t, "reply").status == "met"
    with pytest.raises(csdsl.RecordError):
        policy.timeline(record, [{"at": "soon", "event": "replied"}])


def test_a_pause_after_the_due_time_does_not_hide_the_breach(policy: csdsl.Policy) -> None:
    t = timeline(policy, "2024-11-04T09:00", "simple", ev("2024-11-04T12:00", "awaiting_customer"))
    m = pick(t, "reply")
    assert (m.status, m.late_by) == ("breached", dt.timedelta(hours=1))


def test_closed_time_skipped_is_the_calendars_closed_time(policy: csdsl.Policy) -> None:
    t = timeline(
        policy,
        "2024-11-04T09:00",
        "simple",
        ev("2024-11-04T10:00", "awaiting_customer"),
        ev("2024-11-04T15:00", "customer_replied"),
    )
    m = pick(t, "reply")
    assert m.due == at("2024-11-04T16:00")  # 1h before the pause, 1h after it
    assert m.provenance["closed_skipped"] == dt.timedelta(hours=1, minutes=30)  # lunch


def test_breach_steps_wait_while_the_clock_runs(policy: csdsl.Policy) -> None:
    t = timeline(policy, "2024-11-04T09:00", "simple")
    step = pick(t, "ladder: agent -> team_lead")
    assert (step.status, step.message) == ("pending", "`reply` is still running")


def test_unknown_escalation_roles_in_the_log_are_reported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "p.csp").write_text(POLICY, "utf-8")
    (tmp_path / "r.jsonl").write_text(
        '{"id": "1", "received_at": "2024-11-04T09:00", "complexity": "simple"}\n', "utf-8"
    )
    (tmp_path / "e.jsonl").write_text(
        json.dumps(ev("2024-11-04T12:00", "escalated", "teamlead")) + "\n", "utf-8"
    )
    main(
        [
            "timeline",
            str(tmp_path / "p.csp"),
            str(tmp_path / "r.jsonl"),
            "--events",
            str(tmp_path / "e.jsonl"),
        ]
    )
    err = capsys.readouterr().err
    assert "V004 `escalated` to `teamlead`, a role of no ladder; did you mean `team_lead`?" in err


def test_fractional_working_time_and_24x7_get_clear_errors(tmp_path: Path) -> None:
    from csdsl.check import compile_file

    path = tmp_path / "x.csp"
    path.write_text(
        "record R { at: datetime }\ncalendar c { open 24x7 }\n"
        "deadline d for R { starts at at\n stops on e\n within 1.5 working hours on c }\n",
        "utf-8",
    )
    (d,) = [x for x in compile_file(path).diagnostics if x.is_error]
    assert d.code == "E112" and "whole units" in d.message
    path.write_text("calendar c { open 24x7 }\nrecord R { u bool }\n", "utf-8")
    (d,) = compile_file(path).diagnostics
    assert d.code == "E105"  # the real mistake, not `24x7`


def test_an_unknown_record_type_names_the_ones_with_clocks(policy: csdsl.Policy) -> None:
    with pytest.raises(
        KeyError,
        match="no deadline or escalation for record `Nope` "
        r"\(records with one: `Case`\)",
    ):
        policy.timeline({"id": 1}, record_type="Nope")


_EVENTS = st.lists(
    st.tuples(
        st.sampled_from(["a", "b", "c~1", "案件"]),
        st.datetimes(
            min_value=dt.datetime(1990, 1, 1),
            max_value=dt.datetime(2090, 1, 1),
            timezones=st.sampled_from([dt.UTC, zoneinfo.ZoneInfo("Asia/Shanghai")]),
        ),
        st.sampled_from(["replied", "escalated", "", "回复"]),
        st.none() | st.sampled_from(["team_lead", "supervisor"]),
    ),
    max_size=30,
)


@given(_EVENTS)
@example(
    [("a", dt.datetime(1991, 4, 14, 2, 0, tzinfo=zoneinfo.ZoneInfo("Asia/Shanghai")), "x", None)]
)
@settings(max_examples=150, deadline=None)
def test_event_log_keeps_every_event_exactly(rows: list[Any]) -> None:
    """The compact event log gives back what was put in: per case the same events (same instant,
    name, role, line) sorted by time with ties in log order; `add` says whether an event is
    earlier than one before it of the same case; `latest` and `events` sum up the log."""
    log = EventLog()
    plain: dict[str, list[Event]] = {}
    for line, (case, at, name, role) in enumerate(rows, 1):
        ev = Event(at, name, role, line)
        earlier = log.add(case, ev)
        before = plain.setdefault(case, [])
        assert earlier == any(ev.at < e.at for e in before)
        before.append(ev)
    assert log.events == len(rows)
    assert set(log) == set(plain) and len(log) == len(plain)
    for case, evs in plain.items():
        got = log[case]
        want = sorted(evs, key=lambda e: e.at)
        # instants compared in UTC: a local time in a daylight-saving gap (China had DST until
        # 1991) never equals a datetime of another zone (PEP 495), whatever its instant
        assert [(e.at, e.name, e.role, e.line) for e in got] == [
            (e.at.astimezone(dt.UTC), e.name, e.role, e.line) for e in want
        ]
        assert all(e.at.utcoffset() == dt.timedelta(0) for e in got)
    latest = max((at for _, at, _, _ in rows), default=None)
    assert log.latest == (latest.astimezone(dt.UTC) if latest is not None else None)
    assert "nope" not in log and log.get("nope") is None

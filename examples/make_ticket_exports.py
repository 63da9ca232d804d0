"""Generate the sample ticketing exports in ``examples/zendesk/`` and ``examples/jira/``.

Run from the repository root::

    python examples/make_ticket_exports.py

Each folder gets a small export of its vendor's published shapes (docs/importers.md), the
matching complaint records for ``policies/complaint_handling.csp`` and a mapping file:

* ``zendesk/audits.json`` - ticket audits, one page ``{"audits": [...]}``;
  ``zendesk/metric_events.jsonl`` - ticket metric events (``reply_time``), one a line;
  ``zendesk/complaints.jsonl`` - the complaints (``id`` = the ticket id); ``zendesk/map.toml``;
* ``jira/issues.json`` - search results with ``expand=changelog`` (``{"issues": [...]}``);
  ``jira/sla.jsonl`` - each request's ``/sla`` response with its ``key``, one a line;
  ``jira/complaints.jsonl`` (``id`` = the issue key); ``jira/map.toml``.

Every ticket is a complaint to the hotline: received, maybe put on hold waiting for the
customer, answered by a public agent comment (or not yet, for the last few), then solved.  The
vendor's SLA is mostly the policy's (2 hours for a simple complaint, 24 for a complex one), with
these differences planted (printed at the end, listed in the folders' README.md):

* Zendesk's ``reply_time`` does not pause while a ticket is pending: a ticket the agent set
  pending (with an internal note) before replying is breached for Zendesk and met for the
  policy, whose ``reply`` clock pauses on ``awaiting_customer``;
* some tickets have Zendesk's 8-hour "normal priority" target: a reply after 3 hours is met for
  Zendesk and breached for the policy (2 hours for a simple complaint);
* JSM pauses "Time to first response" in the ``Pending`` status (waiting for a third party),
  which the policy does not: met for JSM, breached for the policy;
* some JSM requests have a 1-hour goal (priority Highest): a reply after 90 minutes is breached
  for JSM and met for the policy.

One element of each export is malformed (a bad row the audit reports with its line or JSON
path), and one verdict is for a ticket with no record.  Deterministic: a fixed-seed
``random.Random``; standard library only.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from random import Random
from typing import Any

HERE = Path(__file__).resolve().parent
SHANGHAI = timezone(timedelta(hours=8))
START = datetime(2024, 11, 4, 8, 30, tzinfo=SHANGHAI)  # a Monday
NOW = datetime(2024, 11, 9, 12, 0, tzinfo=SHANGHAI)  # the moment the exports were taken
H = timedelta(hours=1)
M = timedelta(minutes=1)
TICKETS = 30
AGENTS = {"agent": [381001, 381002, 381003], "team_lead": [381100]}
JIRA_AGENTS = {"agent": ["5f1a-agent-01", "5f1a-agent-02"], "team_lead": ["5f1a-lead-01"]}

# the story of each ticket: how its reply goes, and how the vendor's SLA sees it
KINDS = ("on_time", "on_time", "late", "paused", "on_time", "slow_complex")
PLANTED = {
    "zendesk": {7: "pending_not_paused", 8: "pending_not_paused", 13: "normal_priority_8h"},
    "jira": {7: "third_party_pause", 11: "goal_1h", 12: "goal_1h"},
}
OPEN = (TICKETS - 2, TICKETS - 1)  # not answered yet at NOW


def _z(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _jira(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.000+0800")


def _jsm(t: datetime) -> dict[str, Any]:
    return {
        "iso8601": _jira(t),
        "epochMillis": int(t.timestamp() * 1000),
        "friendly": t.strftime("%d/%b/%y %I:%M %p"),
    }


def _duration(d: timedelta) -> dict[str, Any]:
    minutes = int(d.total_seconds() // 60)
    return {"millis": minutes * 60_000, "friendly": f"{minutes // 60}h {minutes % 60}m"}


def stories(vendor: str, rng: Random) -> list[dict[str, Any]]:
    """Per ticket: receipt, complexity, the pause (from, to) if any, the reply time (None: not
    yet), the vendor's target and its own pauses."""
    out = []
    for n in range(TICKETS):
        received = START + n * 3 * H + rng.randrange(0, 50) * M
        if n in OPEN:
            received = NOW - (40 + 20 * (n - OPEN[0])) * M
        kind = PLANTED[vendor].get(n, KINDS[n % len(KINDS)])
        complexity = "complex" if kind in ("slow_complex", "paused") else "simple"
        target = 24 * H if complexity == "complex" else 2 * H
        vendor_target = 8 * H if kind == "normal_priority_8h" else target
        vendor_target = 1 * H if kind == "goal_1h" else vendor_target
        pause = None
        vendor_pause = None
        reply: datetime | None = received + rng.randrange(20, 100) * M
        if kind == "late":
            reply = received + target + rng.randrange(10, 90) * M
        elif kind == "slow_complex":
            reply = received + rng.randrange(5, 20) * H
        elif kind in ("paused", "pending_not_paused"):
            start = received + 30 * M
            pause = (start, start + rng.randrange(3, 6) * H)
            reply = pause[1] + rng.randrange(20, 60) * M  # within 2h of clock time
            vendor_pause = pause if vendor == "jira" else None  # Zendesk reply_time runs on
        elif kind == "normal_priority_8h":
            reply = received + 3 * H
        elif kind == "third_party_pause":
            start = received + 20 * M
            vendor_pause = (start, start + 3 * H)  # `Pending`: JSM pauses, the policy does not
            reply = vendor_pause[1] + 30 * M
        elif kind == "goal_1h":
            reply = received + 90 * M
        if n in OPEN:
            reply = None
        out.append(
            {
                "n": n,
                "received": received,
                "complexity": complexity,
                "kind": kind,
                "pause": pause,
                "vendor_pause": vendor_pause,
                "reply": reply,
                "vendor_target": vendor_target,
            }
        )
    return out


def record(rid: Any, s: dict[str, Any], rng: Random) -> dict[str, Any]:
    """A complaint of `policies/complaint_validity.csp`'s `Complaint` for one ticket."""
    return {
        "id": rid,
        "received_at": s["received"].isoformat(),
        "complexity": s["complexity"],
        "tier": "key_account" if s["n"] % 9 == 4 else "regular",
        "agent_rude": False,
        "task_completed_same_day": True,
        "customer_contacted": True,
        "rescheduled": False,
        "data_lost": False,
        "loss_amount": 0,
        "issue_recorded": True,
        "dispatch_blocked": False,
        "feedback_form_delay": f"PT{rng.randrange(1, 20)}H",
        "ignition_requested_at": None,
        "ignition_completed_at": None,
        "explained": True,
        "team": ("north", "south", "east")[s["n"] % 3],
        "repeat": False,
        "replied": s["reply"] is not None,
        "replied_in_time": True,
        "cross_province": False,
    }


# ---- Zendesk --------------------------------------------------------------------------------


def zendesk(rng: Random) -> None:
    folder = HERE / "zendesk"
    folder.mkdir(exist_ok=True)
    audits: list[dict[str, Any]] = []
    metric_events: list[dict[str, Any]] = []
    records = []
    audit_id, metric_id = 700_000_001, 900_000_001
    for s in stories("zendesk", rng):
        ticket = 48_101 + s["n"]
        requester = 560_000 + s["n"]
        agent = AGENTS["agent"][s["n"] % len(AGENTS["agent"])]
        records.append(record(ticket, s, rng))

        def audit(
            at: datetime,
            author: int,
            *events: dict[str, Any],
            ticket: int = ticket,
            requester: int = requester,
        ) -> None:
            nonlocal audit_id
            audits.append(
                {
                    "id": audit_id,
                    "ticket_id": ticket,
                    "created_at": _z(at),
                    "author_id": author,
                    "via": {"channel": "web" if author == requester else "api"},
                    "metadata": {},
                    "events": list(events),
                }
            )
            audit_id += 1

        received = s["received"]
        audit(
            received,
            requester,
            {"id": 1, "type": "Create", "field_name": "status", "value": "new"},
            {"id": 2, "type": "Create", "field_name": "priority", "value": "normal"},
            {"id": 3, "type": "Comment", "public": True, "author_id": requester, "body": "投诉"},
        )
        audit(
            received + 5 * M,
            agent,
            {
                "id": 4,
                "type": "Change",
                "field_name": "status",
                "value": "open",
                "previous_value": "new",
            },
        )
        if s["pause"]:
            p0, p1 = s["pause"]
            audit(
                p0,
                agent,
                {
                    "id": 5,
                    "type": "Comment",
                    "public": False,
                    "body": "phoned; awaiting meter photo",
                },
                {
                    "id": 6,
                    "type": "Change",
                    "field_name": "status",
                    "value": "pending",
                    "previous_value": "open",
                },
            )
            audit(
                p1,
                requester,
                {"id": 7, "type": "Comment", "public": True, "body": "照片已发"},
                {
                    "id": 8,
                    "type": "Change",
                    "field_name": "status",
                    "value": "open",
                    "previous_value": "pending",
                },
            )
        if s["reply"] is not None:
            audit(
                s["reply"],
                agent,
                {"id": 9, "type": "Comment", "public": True, "body": "答复"},
                {
                    "id": 10,
                    "type": "Change",
                    "field_name": "status",
                    "value": "solved",
                    "previous_value": "open",
                },
            )

        def metric(kind: str, at: datetime, ticket: int = ticket, **extra: Any) -> None:
            nonlocal metric_id
            metric_events.append(
                {
                    "id": metric_id,
                    "ticket_id": ticket,
                    "metric": "reply_time",
                    "instance_id": 1,
                    "type": kind,
                    "time": _z(at),
                    **extra,
                }
            )
            metric_id += 1

        due = received + s["vendor_target"]  # Zendesk's reply_time never pauses
        target = int(s["vendor_target"].total_seconds() // 60)
        metric("activate", received)
        metric("apply_sla", received, sla={"target": target, "business_hours": False})
        if s["reply"] is not None:
            metric("fulfill", s["reply"])
            metric("breach", due, **({"deleted": True} if s["reply"] <= due else {}))
        elif due <= NOW:
            metric("breach", due)
    # a ticket with metric events but no record (only in the vendor's export)
    metric_events.append(
        {
            "id": metric_id,
            "ticket_id": 48_099,
            "metric": "reply_time",
            "instance_id": 1,
            "type": "breach",
            "time": _z(START - 2 * H),
        }
    )
    # planted bad elements: an audit event with no field name, a metric event with a bad time
    audits[10]["events"].append({"id": 11, "type": "Change", "value": "urgent"})
    metric_events.insert(
        5,
        {
            "id": 1,
            "ticket_id": 48_102,
            "metric": "reply_time",
            "type": "activate",
            "time": "2024-11-31T25:00:00Z",
        },
    )
    (folder / "audits.json").write_text(
        json.dumps(
            {"audits": audits, "next_page": None, "count": len(audits)},
            ensure_ascii=False,
            indent=1,
        )
        + "\n",
        encoding="utf-8",
    )
    _jsonl(folder / "metric_events.jsonl", metric_events)
    _jsonl(folder / "complaints.jsonl", records)
    users = {str(i): role for role, ids in AGENTS.items() for i in ids}
    _map(folder / "map.toml", users, "zendesk")
    counts = f"{len(audits)} audits, {len(metric_events)} metric events"
    print(f"zendesk: {counts}, {len(records)} complaints")
    last = len(audits[10]["events"]) - 1
    print(f"  bad: audits[10].events[{last}] (no field_name); metric_events.jsonl:6 (time)")


# ---- Jira Service Management --------------------------------------------------------------


def jira(rng: Random) -> None:
    folder = HERE / "jira"
    folder.mkdir(exist_ok=True)
    issues: list[dict[str, Any]] = []
    slas: list[dict[str, Any]] = []
    records = []
    for s in stories("jira", rng):
        key = f"HOT-{101 + s['n']}"
        customer = {"accountId": f"qm:cust-{s['n']:03d}", "displayName": f"客户{s['n']}"}
        agent_id = JIRA_AGENTS["agent"][s["n"] % len(JIRA_AGENTS["agent"])]
        agent = {"accountId": agent_id, "displayName": "坐席"}
        records.append(record(key, s, rng))
        histories: list[dict[str, Any]] = []
        comments: list[dict[str, Any]] = []

        def move(
            at: datetime,
            who: dict[str, Any],
            old: str,
            new: str,
            histories: list[dict[str, Any]] = histories,
        ) -> None:
            histories.append(
                {
                    "id": str(10_000 + len(histories)),
                    "author": who,
                    "created": _jira(at),
                    "items": [
                        {
                            "field": "status",
                            "fieldtype": "jira",
                            "from": "1",
                            "fromString": old,
                            "to": "2",
                            "toString": new,
                        }
                    ],
                }
            )

        received = s["received"]
        if s["pause"]:
            p0, p1 = s["pause"]
            comments.append(
                {
                    "id": "1",
                    "author": agent,
                    "body": "请补充电表照片",
                    "created": _jira(p0),
                    "jsdPublic": False,
                }
            )
            move(p0, agent, "Waiting for support", "Waiting for customer")
            move(p1, customer, "Waiting for customer", "Waiting for support")
        if s["kind"] == "third_party_pause":
            v0, v1 = s["vendor_pause"]
            move(v0, agent, "Waiting for support", "Pending")
            move(v1, agent, "Pending", "Waiting for support")
        if s["reply"] is not None:
            comments.append(
                {
                    "id": "2",
                    "author": agent,
                    "body": "答复",
                    "created": _jira(s["reply"]),
                    "jsdPublic": True,
                }
            )
            move(s["reply"] + M, agent, "Waiting for support", "Resolved")
        issues.append(
            {
                "id": str(20_000 + s["n"]),
                "key": key,
                "fields": {
                    "created": _jira(received),
                    "priority": {"name": "Highest" if s["kind"] == "goal_1h" else "Medium"},
                    "comment": {"comments": comments, "total": len(comments)},
                },
                "changelog": {"startAt": 0, "total": len(histories), "histories": histories},
            }
        )
        slas.append({"key": key, **_sla(s)})
    slas.append(
        {
            "key": "HOT-099",
            "values": [
                {
                    "id": "1",
                    "name": "Time to first response",
                    "completedCycles": [
                        {
                            "startTime": _jsm(START - 5 * H),
                            "stopTime": _jsm(START - 1 * H),
                            "breachTime": _jsm(START - 3 * H),
                            "breached": True,
                            "goalDuration": _duration(2 * H),
                        }
                    ],
                }
            ],
        }
    )
    # planted bad elements: a history item with no field; an SLA whose `breached` is text
    issues[4]["changelog"]["histories"].append(
        {
            "id": "99",
            "author": {"accountId": "x"},
            "created": _jira(START),
            "items": [{"fromString": "a", "toString": "b"}],
        }
    )
    slas[9]["values"][0]["completedCycles"][0]["breached"] = "no"
    (folder / "issues.json").write_text(
        json.dumps(
            {"startAt": 0, "maxResults": 50, "total": len(issues), "issues": issues},
            ensure_ascii=False,
            indent=1,
        )
        + "\n",
        encoding="utf-8",
    )
    _jsonl(folder / "sla.jsonl", slas)
    _jsonl(folder / "complaints.jsonl", records)
    users = {i: role for role, ids in JIRA_AGENTS.items() for i in ids}
    _map(folder / "map.toml", users, "jira")
    print(f"jira: {len(issues)} issues, {len(slas)} request SLAs, {len(records)} complaints")
    print("  bad: issues[4].changelog.histories[-1].items[0] (no field); sla.jsonl:10 (breached)")


def _sla(s: dict[str, Any]) -> dict[str, Any]:
    """`/rest/servicedeskapi/request/{key}/sla` for one request: Time to first response."""
    received, goal = s["received"], s["vendor_target"]
    paused = s["vendor_pause"][1] - s["vendor_pause"][0] if s["vendor_pause"] else timedelta(0)
    breach_time = received + goal + paused
    sla: dict[str, Any] = {"id": "1", "name": "Time to first response", "completedCycles": []}
    if s["reply"] is None:
        sla["ongoingCycle"] = {
            "startTime": _jsm(received),
            "breachTime": _jsm(breach_time),
            "breached": breach_time < NOW,
            "paused": False,
            "withinCalendarHours": True,
            "goalDuration": _duration(goal),
            "elapsedTime": _duration(NOW - received),
            "remainingTime": _duration(max(breach_time - NOW, timedelta(0))),
        }
    else:
        elapsed = s["reply"] - received - paused
        sla["completedCycles"].append(
            {
                "startTime": _jsm(received),
                "stopTime": _jsm(s["reply"]),
                "breachTime": _jsm(breach_time),
                "breached": s["reply"] > breach_time,
                "goalDuration": _duration(goal),
                "elapsedTime": _duration(elapsed),
                "remainingTime": _duration(max(goal - elapsed, timedelta(0))),
            }
        )
    return {"values": [sla]}


def _jsonl(path: Path, items: list[dict[str, Any]]) -> None:
    path.write_text(
        "".join(json.dumps(i, ensure_ascii=False) + "\n" for i in items), encoding="utf-8"
    )


def _map(path: Path, users: dict[str, str], vendor: str) -> None:
    lines = [
        f"# the {vendor} sample's mapping: the bundled default (docs/importers.md) plus who is who",
        "[users]",
        *(f'"{k}" = "{v}"' for k, v in users.items()),
        '"*" = "customer"  # everyone else: the customers who wrote in',
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    zendesk(Random(17))
    jira(Random(18))
    print("planted: zendesk 48108, 48109 (pending, not paused by Zendesk) and 48114 (8h target);")
    print("         jira HOT-108 (JSM pauses in Pending), HOT-112, HOT-113 (1h goal)")

"""Zendesk exports: ticket audits as csdsl events, ticket metric events as Zendesk's own SLA
verdicts (docs/importers.md).

Ticket audits (`GET /api/v2/tickets/{id}/audits`, or the audits side-loaded with a ticket):
`{"audits": [{"id", "ticket_id", "created_at", "author_id", "via", "events": [...]}]}`, a list
of such pages, or JSONL of pages or audits.  Each audit event is one element:

- `Change` and `Create` events: a change of `field_name` from `previous_value` to `value`
  gives the event the mapping's `[zendesk.changes]` says (status `pending` ->
  `awaiting_customer`, ...); an `assignee_id` change to a user of an escalation role gives
  `escalated` by that role;
- `SatisfactionRating` events: a change of `satisfaction_score` to their `score`;
- `Comment` events that are `public`: the event `[zendesk.comments]` gives the role of their
  `author_id` (the audit's when the comment has none) in `[users]`; private notes give none;
- other event types (notifications, CCs, ...) are read and give no event.

Every event is at its audit's `created_at`; the case is `[case] zendesk` filled with the
`ticket_id`.

Ticket metric events (`GET /api/v2/incremental/ticket_metric_events`):
`{"ticket_metric_events": [{"id", "ticket_id", "metric", "instance_id", "type", "time"}]}`.
Per ticket and metric: a `breach` event (one marked `deleted` is a breach Zendesk called off)
means breached; else a `fulfill` event means met; else an `activate` or `apply_sla` means
ongoing.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from csdsl.importers.export import (
    Bad,
    BadElement,
    Converted,
    Found,
    Verdict,
    change,
    comment,
    elements,
    ident,
    iso,
    obj,
    time,
)
from csdsl.importers.mapping import Mapping

AUDITS = 'a Zendesk ticket audits export (`{"audits": [...]}`, or JSONL of audits)'
METRICS = 'a Zendesk ticket metric events export (`{"ticket_metric_events": [...]}`, or JSONL)'
METRIC_TYPES = (
    "activate",
    "pause",
    "fulfill",
    "apply_sla",
    "apply_group_sla",
    "breach",
    "update_status",
)


def audits(path: str | Path, mapping: Mapping) -> Converted:
    """Ticket audits as csdsl events.  Raises `InputError` for a file that is not one."""
    conv = Converted(str(path), "zendesk")
    for found in elements(path, "audits", AUDITS, conv):
        try:
            audit = obj(found.value, "an audit")
            ticket = ident(audit.get("ticket_id"), "ticket_id")
            at = time(audit.get("created_at"), "created_at")
            events = audit.get("events")
            if not isinstance(events, list):
                raise BadElement(
                    "no `events` array" if events is None else "`events` is not an array"
                )
        except BadElement as exc:
            conv.bad_element(Bad(found.line, found.where, _ticket(found.value), exc.reason))
            continue
        case = mapping.case_id("zendesk", ticket_id=ticket)
        for j, event in enumerate(events):
            conv.elements += 1
            where = f"{found.where}.events[{j}]" if found.where else f"events[{j}]"
            try:
                _audit_event(conv, mapping, case, at, audit.get("author_id"), event)
            except BadElement as exc:
                conv.bad.append(Bad(found.line, where, case, exc.reason))
    return conv


def _ticket(value: Any) -> str | None:
    if isinstance(value, dict):
        try:
            return ident(value.get("ticket_id"), "ticket_id")
        except BadElement:
            return None
    return None


def _audit_event(
    conv: Converted, mapping: Mapping, case: str, at: dt.datetime, author: Any, value: Any
) -> None:
    event = obj(value, "an audit event")
    kind = event.get("type")
    if not isinstance(kind, str) or not kind.strip():
        raise BadElement("no `type`" if kind is None else "`type` must be text")
    if kind in ("Change", "Create"):
        field = event.get("field_name")
        if not isinstance(field, str) or not field.strip():
            raise BadElement(f"a {kind} event with no `field_name`")
        old = event.get("previous_value") if kind == "Change" else None
        change(conv, mapping, "zendesk", case, at, field, _scalar(old), _scalar(event.get("value")))
    elif kind == "SatisfactionRating":
        change(conv, mapping, "zendesk", case, at, "satisfaction_score", None, event.get("score"))
    elif kind == "Comment":
        public = event.get("public")
        if not isinstance(public, bool):
            raise BadElement("a Comment event whose `public` is not true or false")
        who = event.get("author_id", author)
        comment(conv, mapping, "zendesk", case, at, who, public)


def _scalar(value: Any) -> Any:
    """A change's value: a list (tags, a multi-select field) is read as its text."""
    if isinstance(value, list):
        return " ".join(str(v) for v in value)
    return value


def metric_events(path: str | Path, mapping: Mapping) -> Converted:
    """Ticket metric events as Zendesk's verdicts, one per case and metric."""
    # the verdicts keep Zendesk's metric names: the audit maps them to deadlines
    conv = Converted(str(path), "zendesk-metrics")
    seen: dict[tuple[str, str], list[tuple[str, dt.datetime, Any, Found]]] = {}
    for found in elements(path, "ticket_metric_events", METRICS, conv):
        conv.elements += 1
        try:
            event = obj(found.value, "a metric event")
            ticket = ident(event.get("ticket_id"), "ticket_id")
            metric = event.get("metric")
            if not isinstance(metric, str) or not metric.strip():
                raise BadElement("no `metric`" if metric is None else "`metric` must be text")
            kind = event.get("type")
            if kind not in METRIC_TYPES:
                raise BadElement(
                    f"`type` {kind!r} is not a metric event type ({', '.join(METRIC_TYPES)})"
                    if kind is not None
                    else "no `type`"
                )
            at = time(event.get("time"), "time")
        except BadElement as exc:
            conv.bad.append(Bad(found.line, found.where, _ticket(found.value), exc.reason))
            continue
        if kind == "breach" and event.get("deleted") is True:
            continue  # a breach Zendesk called off: the metric was fulfilled in time
        case = mapping.case_id("zendesk", ticket_id=ticket)
        seen.setdefault((case, metric.strip()), []).append(
            (str(kind), at, event.get("instance_id"), found)
        )
    for (ticket, metric), items in seen.items():
        verdict = _metric_verdict(ticket, metric, items)
        if verdict is None:
            conv.notes["metric with only pause or update_status events (no verdict)"] += 1
        else:
            conv.verdicts.append(verdict)
    return conv


def _metric_verdict(
    ticket: str, metric: str, items: list[tuple[str, dt.datetime, Any, Found]]
) -> Verdict | None:
    def first(kind: str) -> tuple[str, dt.datetime, Any, Found] | None:
        mine = sorted((i for i in items if i[0] == kind), key=lambda i: i[1])
        return mine[0] if mine else None

    def instance(item: tuple[str, dt.datetime, Any, Found]) -> str:
        return f" (instance {item[2]})" if item[2] is not None else ""

    breach = first("breach")
    if breach is not None:
        at = iso(breach[1])
        return Verdict(
            ticket,
            metric,
            "breached",
            at,
            f"breach event at {at} for metric {metric}{instance(breach)}",
            breach[3].line,
            breach[3].where,
        )
    fulfils = sorted((i for i in items if i[0] == "fulfill"), key=lambda i: i[1])
    if fulfils:
        last = fulfils[-1]
        at = iso(last[1])
        return Verdict(
            ticket,
            metric,
            "met",
            at,
            f"fulfill event at {at} for metric {metric}{instance(last)}, no breach event",
            last[3].line,
            last[3].where,
        )
    started = first("activate") or first("apply_sla") or first("apply_group_sla")
    if started is None:
        return None
    return Verdict(
        ticket,
        metric,
        "ongoing",
        None,
        f"metric {metric} active since {iso(started[1])}, neither fulfilled nor breached "
        "in the export",
        started[3].line,
        started[3].where,
    )

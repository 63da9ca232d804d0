"""Jira Service Management exports: issue changelogs as csdsl events, request SLAs as JSM's own
verdicts (docs/importers.md).

Issues (`GET /rest/api/3/issue/{key}?expand=changelog`, or `/rest/api/3/search` results
`{"issues": [...]}`, or JSONL of issues): `{"key", "fields": {"comment": {"comments": [...]}},
"changelog": {"histories": [{"id", "author", "created", "items": [{"field", "fromString",
"toString", "from", "to"}]}]}}`.  Each history item and each comment is one element:

- a history item: a change of `field` from `fromString` to `toString` gives the event of the
  mapping's `[jira.changes]` (matched in any case); an `assignee` change to a user (`to`, an
  account id) of an escalation role gives `escalated` by that role;
- a comment with `jsdPublic` true: the event `[jira.comments]` gives its author's role
  (`author.accountId` in `[users]`); internal comments give none.

Each event is at its history's (comment's) `created`; the case is `[case] jira` filled with the
issue `key`.

Request SLAs (`GET /rest/servicedeskapi/request/{key}/sla`): the response does not say which
request it is about, so each is given with its key: `{"key": "HOT-1", "values": [...]}` a line
(JSONL), a JSON list of them, or `{"requests": [...]}`.  Each SLA (`values[i]`) is one element:
breached when a completed cycle or the ongoing cycle is `breached`; else met when it has
completed cycles and no ongoing one; else ongoing.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from csdsl.importers.export import (
    Bad,
    BadElement,
    Converted,
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

ISSUES = 'a Jira issues export with `expand=changelog` (`{"issues": [...]}`, an issue, or JSONL)'
SLAS = 'a JSM request SLA export (`{"key", "values": [...]}` a line, or `{"requests": [...]}`)'


def _user(value: Any) -> Any:
    """A Jira user (`{"accountId", "displayName"}`; Server: `name` or `key`) as its id."""
    if isinstance(value, dict):
        for k in ("accountId", "name", "key"):
            if value.get(k) is not None:
                return value[k]
        return None
    return value


def issues(path: str | Path, mapping: Mapping) -> Converted:
    """Issue changelogs (and public comments) as csdsl events."""
    conv = Converted(str(path), "jira")
    for found in elements(path, "issues", ISSUES, conv, single="changelog"):
        prefix = f"{found.where}." if found.where else ""
        try:
            issue = obj(found.value, "an issue")
            key = ident(issue.get("key"), "key")
            changelog = issue.get("changelog")
            if not isinstance(changelog, dict) or not isinstance(changelog.get("histories"), list):
                raise BadElement(
                    "no `changelog.histories` (export the issues with expand=changelog)"
                )
            fields = issue.get("fields") or {}
            if not isinstance(fields, dict):
                raise BadElement("`fields` is not an object")
        except BadElement as exc:
            rid = found.value.get("key") if isinstance(found.value, dict) else None
            conv.bad_element(
                Bad(found.line, found.where, rid if isinstance(rid, str) else None, exc.reason)
            )
            continue
        case = mapping.case_id("jira", key=key)
        for j, history in enumerate(changelog["histories"]):
            where = f"{prefix}changelog.histories[{j}]"
            try:
                h = obj(history, "a history")
                at = time(h.get("created"), "created")
                items = h.get("items")
                if not isinstance(items, list):
                    raise BadElement("no `items` array")
            except BadElement as exc:
                conv.bad_element(Bad(found.line, where, case, exc.reason))
                continue
            for k, item in enumerate(items):
                conv.elements += 1
                try:
                    _item(conv, mapping, case, at, item)
                except BadElement as exc:
                    conv.bad.append(Bad(found.line, f"{where}.items[{k}]", case, exc.reason))
        _comments(conv, mapping, case, fields, found.line, prefix)
    return conv


def _item(conv: Converted, mapping: Mapping, case: str, at: dt.datetime, value: Any) -> None:
    item = obj(value, "a history item")
    field = item.get("field")
    if not isinstance(field, str) or not field.strip():
        raise BadElement("no `field`")
    if field.strip().lower() == "assignee":
        change(conv, mapping, "jira", case, at, field, item.get("from"), item.get("to"))
        return
    new = item.get("toString")
    if new is None and field.strip().lower() in mapping.fields("jira"):
        raise BadElement(f"a `{field}` change with no `toString`")
    change(conv, mapping, "jira", case, at, field, item.get("fromString"), new)


def _comments(
    conv: Converted, mapping: Mapping, case: str, fields: dict[str, Any], line: int, prefix: str
) -> None:
    block = fields.get("comment")
    if block is None:
        return
    items = block.get("comments") if isinstance(block, dict) else None
    if not isinstance(items, list):
        conv.bad_element(Bad(line, f"{prefix}fields.comment", case, "no `comments` array"))
        return
    for i, value in enumerate(items):
        conv.elements += 1
        try:
            c = obj(value, "a comment")
            at = time(c.get("created"), "created")
            public = c.get("jsdPublic")
            if not isinstance(public, bool):
                raise BadElement(
                    "no `jsdPublic` (JSM says whether a comment is public or internal)"
                    if public is None
                    else "`jsdPublic` is not true or false"
                )
        except BadElement as exc:
            where = f"{prefix}fields.comment.comments[{i}]"
            conv.bad.append(Bad(line, where, case, exc.reason))
            continue
        comment(conv, mapping, "jira", case, at, _user(c.get("author")), public)


def slas(path: str | Path, mapping: Mapping) -> Converted:
    """Request SLAs as JSM's verdicts, one per request and SLA."""
    conv = Converted(str(path), "jsm-sla")
    for found in elements(path, "requests", SLAS, conv, single="values"):
        prefix = f"{found.where}." if found.where else ""
        try:
            request = obj(found.value, "a request's SLAs")
            key = ident(
                request.get("key", request.get("issueKey", request.get("requestKey"))), "key"
            )
            values = request.get("values")
            if not isinstance(values, list):
                raise BadElement("no `values` array (the SLA endpoint's response)")
        except BadElement as exc:
            conv.bad_element(Bad(found.line, found.where, None, exc.reason))
            continue
        case = mapping.case_id("jira", key=key)
        for i, value in enumerate(values):
            conv.elements += 1
            where = f"{prefix}values[{i}]"
            try:
                verdict = _sla(case, value, found.line, where)
            except BadElement as exc:
                conv.bad.append(Bad(found.line, f"{where}{exc.where}", case, exc.reason))
                continue
            if verdict is None:
                conv.notes["SLA with no cycle (its clock never started; no verdict)"] += 1
            else:
                conv.verdicts.append(verdict)
    return conv


def _when(cycle: dict[str, Any], field: str, where: str) -> dt.datetime | None:
    """A JSM time (`{"iso8601", "epochMillis", "friendly"}`), None when the cycle has none."""
    value = cycle.get(field)
    if value is None:
        return None
    if isinstance(value, dict):
        if isinstance(value.get("iso8601"), str):
            return time(value["iso8601"], f"{field}.iso8601", where)
        millis = value.get("epochMillis")
        if isinstance(millis, int) and not isinstance(millis, bool):
            try:
                return dt.datetime.fromtimestamp(millis / 1000, dt.UTC)
            except (OverflowError, OSError, ValueError):
                raise BadElement(f"`{field}.epochMillis` is out of range", where) from None
    raise BadElement(f"`{field}` must be a time object with `iso8601` or `epochMillis`", where)


def _goal(cycle: dict[str, Any]) -> str:
    goal = cycle.get("goalDuration")
    if isinstance(goal, dict) and isinstance(goal.get("friendly"), str):
        return f", goal {goal['friendly']}"
    return ""


def _breached(cycle: dict[str, Any], where: str) -> bool:
    value = cycle.get("breached")
    if not isinstance(value, bool):
        raise BadElement("`breached` must be true or false", where)
    return value


def _sla(case: str, value: Any, line: int, where: str) -> Verdict | None:
    sla = obj(value, "an SLA")
    name = sla.get("name")
    if not isinstance(name, str) or not name.strip():
        raise BadElement("no `name`")
    completed = sla.get("completedCycles", [])
    if not isinstance(completed, list):
        raise BadElement("`completedCycles` is not an array")
    ongoing = sla.get("ongoingCycle")
    if ongoing is not None and not isinstance(ongoing, dict):
        raise BadElement("`ongoingCycle` is not an object")
    cycles: list[tuple[str, dict[str, Any]]] = []
    for i, c in enumerate(completed):
        if not isinstance(c, dict):
            raise BadElement("a cycle must be a JSON object", f".completedCycles[{i}]")
        cycles.append((f".completedCycles[{i}]", c))
    if ongoing is not None:
        cycles.append((".ongoingCycle", ongoing))
    for sub, c in cycles:
        if _breached(c, sub):
            done = sub != ".ongoingCycle"
            breach = _when(c, "breachTime", sub)
            stop = _when(c, "stopTime", sub)
            what = (
                f"completed cycle {int(sub.split('[')[1][:-1]) + 1} breached"
                if done
                else "ongoing cycle breached"
            )
            parts = [f"started {iso(s)}" for s in [_when(c, "startTime", sub)] if s]
            parts += [f"stopped {iso(stop)}"] if stop else []
            parts += [f"breach time {iso(breach)}"] if breach else []
            at = breach or stop
            return Verdict(
                case,
                name.strip(),
                "breached",
                iso(at) if at else None,
                f"JSM SLA {name.strip()!r}: {what} ({', '.join(parts)}{_goal(c)})",
                line,
                where,
            )
    if ongoing is not None:
        breach = _when(ongoing, "breachTime", ".ongoingCycle")
        paused = ongoing.get("paused") is True
        return Verdict(
            case,
            name.strip(),
            "ongoing",
            None,
            f"JSM SLA {name.strip()!r}: ongoing cycle, not breached"
            + (f", breach time {iso(breach)}" if breach else "")
            + (", paused" if paused else "")
            + _goal(ongoing),
            line,
            where,
        )
    if not cycles:
        return None
    sub, last = cycles[-1]
    stop = _when(last, "stopTime", sub)
    return Verdict(
        case,
        name.strip(),
        "met",
        iso(stop) if stop else None,
        f"JSM SLA {name.strip()!r}: {len(cycles)} completed cycle(s) within goal"
        + (f", last stopped {iso(stop)}" if stop else "")
        + _goal(last),
        line,
        where,
    )

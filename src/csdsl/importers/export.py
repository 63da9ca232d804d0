"""Reading a vendor export into its elements, and what an import gives back.

In: one exported file, JSON (one document: a page `{"audits": [...]}`, a list of pages, or a
list of elements) or JSONL (one page or one element a line).  Out: the elements under a key,
each with where it was found (the JSONL line, and its JSON path such as `audits[3]`), and the
`Converted` result every importer fills: csdsl events or vendor verdicts, the bad elements with
their line or path and reason, and counted notes.  A file that cannot be read, or holds none of
the expected elements, is an `InputError` naming the file.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from csdsl.records import (
    InputError,
    JsonProblem,
    bounded_lines,
    loads_json,
    read_whole,
    show_raw,
    where_in_document,
)
from csdsl.values import parse_datetime

if TYPE_CHECKING:
    from csdsl.importers.mapping import Mapping


@attrs.frozen
class Bad:
    """One element of the export that could not be read: its line (JSONL; 0 in a JSON
    document) and JSON path, the case when it is known, and why."""

    line: int
    where: str
    case: str | None
    reason: str

    def message(self) -> str:
        return f"{self.where}: {self.reason}" if self.where else self.reason


@attrs.frozen
class Verdict:
    """The vendor's own judgement of one SLA metric of one case."""

    case: str
    metric: str  # the vendor's name (`reply_time`, `Time to first response`)
    status: str  # breached | met | ongoing
    at: str | None  # the breach, fulfilment or stop time, ISO 8601, when the export has one
    reason: str
    line: int
    where: str

    def to_json(self) -> dict[str, Any]:
        return {
            "case": self.case,
            "metric": self.metric,
            "status": self.status,
            "at": self.at,
            "reason": self.reason,
        }


@attrs.define
class Converted:
    """An imported export: `elements` read = `good` + len(`bad`)."""

    path: str
    format: str
    elements: int = 0
    events: list[dict[str, Any]] = attrs.Factory(list)  # csdsl events (IO.md)
    verdicts: list[Verdict] = attrs.Factory(list)
    bad: list[Bad] = attrs.Factory(list)
    notes: Counter[str] = attrs.Factory(Counter)  # what was read but gave nothing, counted

    def bad_element(self, bad: Bad) -> None:
        """An element that could not be read (counted in `elements`)."""
        self.elements += 1
        self.bad.append(bad)

    @property
    def good(self) -> int:
        return self.elements - len(self.bad)

    def warnings(self) -> list[str]:
        """One line per kind of note, with its count."""
        return [f"{self.path}: {n} × {what}" for what, n in sorted(self.notes.items())]


class BadElement(Exception):
    """An element that cannot be read (`where` relative to the element)."""

    def __init__(self, reason: str, where: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.where = where


@attrs.frozen
class Found:
    """An element, where it is, and the page it came in (for its siblings' keys)."""

    line: int
    where: str
    value: Any


def _in_value(value: Any, key: str, line: int, prefix: str) -> Iterator[Found]:
    """The elements of `value`: a page (an object with `key`), a list of pages or of
    elements, or one element (an object without `key`)."""
    if isinstance(value, dict) and key in value:
        items = value[key]
        if not isinstance(items, list):
            raise BadElement(f"`{key}` must be a JSON array, got {show_raw(items)}", prefix + key)
        for i, item in enumerate(items):
            yield Found(line, f"{prefix}{key}[{i}]", item)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            if isinstance(item, dict) and key in item:
                yield from _in_value(item, key, line, f"{prefix}[{i}].")
            else:
                yield Found(line, f"{prefix}[{i}]", item)
    else:
        yield Found(line, prefix.rstrip("."), value)


def elements(
    path: str | Path, key: str, looks_like: str, conv: Converted, single: str | None = None
) -> Iterator[Found]:
    """Every element of the export: for JSONL, each line's; for JSON, the document's (an object
    with `single` is one element).  A line that is not JSON, or a page whose `key` is not an
    array, is one bad element of `conv`."""
    text = read_whole(path)
    head = text.lstrip()[:1]
    if not head:
        raise InputError(f"{path}: empty file; expected {looks_like}")
    try:
        document = loads_json(text)
    except JsonProblem as whole:
        # JSONL when its first line is JSON on its own; else a broken JSON document
        first = text.lstrip().split("\n", 1)[0]
        try:
            loads_json(first)
        except JsonProblem:
            raise InputError(
                f"{path}: not JSON ({where_in_document(whole)}); expected {looks_like}"
            ) from None
        if "\n" not in text.strip():
            raise InputError(
                f"{path}: not JSON ({where_in_document(whole)}); expected {looks_like}"
            ) from None
    else:
        page = single is None or not isinstance(document, dict) or key in document
        _expect(path, document, key if page else str(single), looks_like)
        try:
            yield from _in_value(document, key, 0, "")
        except BadElement as exc:
            conv.bad_element(Bad(0, exc.where, None, exc.reason))
        return
    for n, line in enumerate(bounded_lines(text.splitlines(keepends=True)), 1):
        if not line.strip():
            continue
        try:
            value = loads_json(line)
        except JsonProblem as exc:
            conv.bad_element(Bad(n, "", None, f"not valid JSON: {exc}"))
            continue
        try:
            yield from _in_value(value, key, n, "")
        except BadElement as exc:
            conv.bad_element(Bad(n, exc.where, None, exc.reason))


def _expect(path: str | Path, document: Any, key: str, looks_like: str) -> None:
    """Refuse a JSON document with none of the export's shape (another vendor's file, say)."""
    if isinstance(document, dict) and key not in document:
        keys = ", ".join(f"`{k}`" for k in list(document)[:8]) or "none"
        raise InputError(f"{path}: not {looks_like} (its top-level keys are {keys})")
    if not isinstance(document, dict | list):
        raise InputError(f"{path}: not {looks_like} (it holds {show_raw(document)})")


def obj(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise BadElement(f"{what} must be a JSON object, got {show_raw(value)}")
    return value


def time(value: Any, field: str, where: str = "") -> dt.datetime:
    """A vendor timestamp (`2024-10-29T01:33:38Z`, `2024-10-29T09:33:38.000+0800`)."""
    if not isinstance(value, str):
        raise BadElement(
            f"no `{field}`"
            if value is None
            else f"`{field}` must be a time, got {show_raw(value)}",
            where,
        )
    try:
        return parse_datetime(value)
    except ValueError as exc:
        raise BadElement(f"`{field}`: {exc}", where) from None


def ident(value: Any, field: str) -> str:
    """An id (a ticket id, an issue key): a whole number or non-empty text."""
    if isinstance(value, bool) or value is None:
        raise BadElement(f"no `{field}`" if value is None else f"`{field}` is {show_raw(value)}")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, str) and value.strip():
        return value.strip()
    raise BadElement(f"`{field}` must be an id (a number or text), got {show_raw(value)}")


def iso(moment: dt.datetime) -> str:
    return moment.isoformat()


# ---- events, the same way for every vendor -----------------------------------------------


def emit(conv: Converted, case: str, at: dt.datetime, event: str, role: str | None) -> None:
    item: dict[str, Any] = {"case": case, "at": iso(at), "event": event}
    if role is not None:
        item["role"] = role
    conv.events.append(item)


def change(
    conv: Converted,
    mapping: Mapping,
    vendor: str,
    case: str,
    at: dt.datetime,
    field: str,
    old: Any,
    new: Any,
) -> None:
    """The event of one change of a field, by the mapping's `changes` (the module docstring of
    `csdsl.importers.mapping`); an assignee change to a user of an escalation role is
    `escalated` by that role."""
    name = field.strip().lower()
    if name in ("assignee", "assignee_id"):
        role = mapping.role(new)
        if role is not None and role in mapping.escalation_roles and mapping.escalation_event:
            emit(conv, case, at, mapping.escalation_event, role)
        return
    if name not in mapping.fields(vendor):
        return  # a field the mapping does not read
    entry = mapping.change(vendor, name, old, new)
    if entry is None:
        shown = "(none)" if old is None or old == "" else str(old)
        conv.notes[
            f"`{name}` change {shown} -> {new} matches no entry of the mapping (no event)"
        ] += 1
    elif entry.event:
        emit(conv, case, at, entry.event, None)


def comment(
    conv: Converted,
    mapping: Mapping,
    vendor: str,
    case: str,
    at: dt.datetime,
    author: Any,
    public: bool,
) -> None:
    """The event of a public comment, by its author's role (`comments` of the mapping)."""
    if not public:
        return
    role = mapping.role(author)
    if role is None:
        conv.notes["public comment by a user the mapping's [users] does not name (no event)"] += 1
        return
    event = mapping.comments.get(vendor, {}).get(role)
    if event:
        emit(conv, case, at, event, role)

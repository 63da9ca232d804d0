"""The mapping from a vendor export's vocabulary to a policy's: field changes and public comments
to event names, user ids to roles, vendor SLA metrics to deadlines (docs/importers.md).

In: the bundled `default_map.toml`, and optionally a user's TOML or JSON file laid over it table
by table.  Out: a `Mapping`; a file that cannot be read or does not fit is an `InputError`
naming the file and the key.
"""

from __future__ import annotations

import json
import tomllib
from importlib import resources
from pathlib import Path
from typing import Any

import attrs

from csdsl.records import InputError, read_whole

VENDORS = ("zendesk", "jira", "jsm")  # the tables of vendor vocabulary (jsm: its SLA names)
_TABLES = {"case", "users", "escalation", *VENDORS}
_VENDOR_TABLES = {"changes", "comments", "sla"}
ANY = "*"


def _norm(value: Any) -> str:
    """A vendor value as it is matched: text, trimmed, in lower case (`Waiting for customer`)."""
    return str(value).strip().lower()


@attrs.frozen
class Change:
    """One `field:from->to` entry."""

    field: str
    old: str  # `*` for any
    new: str
    event: str  # "" for a known change that gives no event


@attrs.frozen
class Mapping:
    """What an importer needs of the mapping (the module docstring)."""

    source: str  # the user's file, or "the default mapping"
    case: dict[str, str]  # vendor -> template of the case id
    users: dict[str, str]  # user id -> role ("*": everyone else)
    changes: dict[str, tuple[Change, ...]]  # vendor -> its change entries
    comments: dict[str, dict[str, str]]  # vendor -> role -> event
    escalation_event: str
    escalation_roles: tuple[str, ...]
    sla: dict[str, dict[str, str]]  # vendor (zendesk, jsm) -> vendor metric -> deadline (the
    # metric matched in any case)

    def role(self, user: Any) -> str | None:
        """The role of a user id, None when the map does not say."""
        if user is None:
            return None
        return self.users.get(str(user).strip(), self.users.get(ANY))

    def fields(self, vendor: str) -> set[str]:
        """The fields whose changes are read."""
        return {c.field for c in self.changes.get(vendor, ())}

    def change(self, vendor: str, field: str, old: Any, new: Any) -> Change | None:
        """The entry a change matches, most specific first; None when none does."""
        f, o, n = _norm(field), _norm(old) if old is not None else "", _norm(new)
        best: tuple[int, Change] | None = None
        for c in self.changes.get(vendor, ()):
            if c.field != f:
                continue
            score = 3 if (c.old == o and c.new == n) else 0
            if not score and c.old == ANY and c.new == n:
                score = 2
            if not score and c.old == o and c.new == ANY:
                score = 1
            if score and (best is None or score > best[0]):
                best = (score, c)
        return None if best is None else best[1]

    def case_id(self, vendor: str, **parts: Any) -> str:
        template = self.case.get(vendor, "")
        try:
            return template.format(**parts)
        except (KeyError, IndexError, ValueError, AttributeError) as exc:
            raise InputError(
                f"{self.source}: [case] {vendor} = {json.dumps(template)} cannot be filled "
                f"({exc}); use the fields {', '.join('{' + k + '}' for k in parts)}"
            ) from None


def _read_file(path: str | Path) -> dict[str, Any]:
    p = Path(path)
    text = read_whole(p)
    try:
        data = json.loads(text) if p.suffix.lower() == ".json" else tomllib.loads(text)
    except (ValueError, RecursionError) as exc:  # TOMLDecodeError and JSONDecodeError
        kind = "JSON" if p.suffix.lower() == ".json" else "TOML"
        raise InputError(
            f"{path}: not a mapping file: not {kind} ({exc}); see docs/importers.md"
        ) from None
    if not isinstance(data, dict):
        raise InputError(f"{path}: a mapping file holds a table (a JSON object) of tables")
    return data


def _default() -> dict[str, Any]:
    text = resources.files("csdsl.importers").joinpath("default_map.toml").read_text("utf-8")
    return tomllib.loads(text)


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = _merge(out[k], v)
        else:
            out[k] = v
    return out


def _texts(where: str, value: Any, source: str) -> dict[str, str]:
    if not isinstance(value, dict):
        raise InputError(f"{source}: [{where}] must be a table of names to text")
    out: dict[str, str] = {}
    for k, v in value.items():
        if not isinstance(v, str):
            raise InputError(
                f"{source}: [{where}] `{k}` must be text, got {json.dumps(v, default=str)}"
            )
        out[str(k)] = v.strip()
    return out


def _changes(vendor: str, table: dict[str, str], source: str) -> tuple[Change, ...]:
    out = []
    for key, event in table.items():
        field, colon, rest = key.partition(":")
        old, arrow, new = rest.partition("->")
        if not colon or not arrow or not field.strip() or not old.strip() or not new.strip():
            raise InputError(
                f"{source}: [{vendor}.changes] `{key}`: expected `field:from->to` "
                "(either side may be *), e.g. `status:*->pending`"
            )
        out.append(Change(_norm(field), _norm(old), _norm(new), event))
    return tuple(out)


def load_mapping(path: str | Path | None = None) -> Mapping:
    """The default mapping, with the file at `path` (TOML, or JSON by its suffix) laid over it.
    Raises `InputError`."""
    data = _default()
    source = "the default mapping"
    if path is not None:
        source = str(path)
        user = _read_file(path)
        unknown = sorted(set(user) - _TABLES)
        if unknown:
            raise InputError(
                f"{source}: unknown table [{unknown[0]}]; tables are "
                + ", ".join(f"[{t}]" for t in sorted(_TABLES))
            )
        data = _merge(data, user)
    vendors: dict[str, dict[str, Any]] = {}
    for v in VENDORS:
        table = data.get(v, {})
        if not isinstance(table, dict):
            raise InputError(f"{source}: [{v}] must be a table")
        extra = sorted(set(table) - _VENDOR_TABLES)
        if extra:
            raise InputError(
                f"{source}: unknown table [{v}.{extra[0]}]; a vendor's tables are "
                + ", ".join(f"[{v}.{t}]" for t in sorted(_VENDOR_TABLES))
            )
        vendors[v] = {t: _texts(f"{v}.{t}", table.get(t, {}), source) for t in _VENDOR_TABLES}
    escalation = data.get("escalation", {})
    if not isinstance(escalation, dict):
        raise InputError(f"{source}: [escalation] must be a table")
    roles = escalation.get("roles", [])
    if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
        raise InputError(f"{source}: [escalation] roles must be a list of role names")
    event = escalation.get("event", "escalated")
    if not isinstance(event, str):
        raise InputError(f"{source}: [escalation] event must be text")
    mapping = Mapping(
        source=source,
        case=_texts("case", data.get("case", {}), source),
        users={
            k.strip(): _norm(v) for k, v in _texts("users", data.get("users", {}), source).items()
        },
        changes={v: _changes(v, vendors[v]["changes"], source) for v in VENDORS},
        comments={v: {_norm(r): e for r, e in vendors[v]["comments"].items()} for v in VENDORS},
        escalation_event=event.strip(),
        escalation_roles=tuple(_norm(r) for r in roles),
        sla={v: {k.strip(): d for k, d in vendors[v]["sla"].items()} for v in VENDORS},
    )
    for vendor, part in (("zendesk", "ticket_id"), ("jira", "key")):
        # a template must be fillable, and tell two tickets apart
        if mapping.case_id(vendor, **{part: "1"}) == mapping.case_id(vendor, **{part: "2"}):
            raise InputError(
                f"{source}: [case] {vendor} = {json.dumps(mapping.case.get(vendor, ''))} gives "
                f"every ticket the same case id; put {{{part}}} in it"
            )
    return mapping

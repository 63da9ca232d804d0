"""`csdsl diff OLD NEW`: what changed between two versions of a policy, and records that show it.

In: two loaded policies (`csdsl.Policy`), optionally example data (records files by record type,
an event log), a search budget and a seed.  Out: `PolicyDiff`, printable as text (`to_text`) or
as the JSON of IO.md (`to_json`): `{"clauses": [...], "witnesses": [...]}`.

Clauses are matched by identity, never by position: the policy header, record types by name,
validity blocks by record, conditions and exceptions by (record, id), calendars, deadlines,
escalations, phrase sets, metrics by name, transcript rules by id, situations by name, examples
by (record, title) and transcript examples by title.  Spans are not compared, so moving a clause
or editing a comment is no change.

Each entry of `clauses`:
- `kind`: `policy`, `record`, `validity`, `condition`, `exception`, `calendar`, `deadline`,
  `escalation`, `record rule` (a record-level `rule`), `phrases`, `transcript rules`, `rule` (a
  transcript rule), `situation`, `metric`, `example` or `transcript example`;
- `name`: the clause's name (a condition's id; the policy's name for `policy`);
- `record`: the record type a condition, exception, validity, deadline, escalation, record rule
  or example is about, else null;
- `change`: `added`, `removed` or `changed`;
- `changes`: for a changed clause, what changed: `[{"what", "old", "new"}]`, e.g.
  `{"what": "cap", "old": "48h", "new": "24h"}` or a condition's expression old and new as
  policy text (`what` names the attribute: `expr`, `wording`, `targets[1]`, `field tier`, ...);
  empty for an added or removed clause;
- `old`, `new`: `{"file", "line"}` of the clause in each version (null where it is absent);
- `witnessed`: whether a witness below shows the change (`true`/`false`; `false` means none was
  found within the budget, e.g. a cap no target ever reaches); null for the header, calendars
  (their deadlines are searched instead), record rules, phrases, transcript rules, metrics and
  examples.  Record rules are listed as clauses only: no witness is searched for them (their
  `when`, each `require` as written, severity and points are compared), and the text output
  says so.

Each entry of `witnesses`: a record judged differently by the two versions:
- `record_type`; `record`: the record as JSON (IO.md input form, so it can be fed back to
  `csdsl validate` or `Policy.validate`); `events`: its events (`{"at", "event", "role"}`),
  empty when the record type has no clocks;
- `source`: `FILE:LINE` for a record of the example data, `generated` for one the search found;
- `clauses`: the names of the clauses responsible (conditions whose outcome differs, deadlines
  or escalation steps whose due time or status differs);
- `differences`: `[{"what", "clauses", "old", "new"}]`; `what` is `record` (one version
  rejects the record: `old`/`new` are `accepted` or the reason), `valid` (`true`/`false`),
  `matched` (the condition ids, when the verdict is the same but its reasons are not),
  `<deadline> due`, `<deadline> status`, `<ladder: a -> b> due`/`status` (with ` cycle N`
  after the clause from the second cycle on; due times ISO 8601 with offset, or null).

Witnesses come first from the example data (every row whose outcome differs, at most three per
clause responsible), then from a search: for every changed clause whose effect a record can show
(conditions, exceptions, validity quantifiers, record types, deadlines, escalations, calendars)
and that the data did not already show, `hypothesis.find` (seeded from `seed`, so the same seed
gives the same witnesses) draws up to `max_examples` records (and for clocks, small event logs)
until the versions differ because of that clause.  It draws values near the constants of the
changed clauses (24h, 24h and one second, ...) and events near the changed time limits, and
draws only the fields some clause reads (the others get plain values: false, 0, "", missing).
The witness is then simplified: each field set to its plain value and each event dropped while
the difference survives.  A generated record's id is `generated-<clause>`.  When no condition's
outcome flips (a record one version rejects, a changed quantifier) the clause responsible is
the record type.
Warnings and periodic updates follow their deadline and are not compared on their own.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import random
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, Literal

import attrs
from hypothesis import HealthCheck, Phase, find, settings, strategies as st
from hypothesis.errors import NoSuchExample

from csdsl import ir
from csdsl.api import Policy, RecordError
from csdsl.calendar import WorkCalendar
from csdsl.explain import ExprTexts
from csdsl.irtext import IrPrinter, quote
from csdsl.records import InputError, id_key
from csdsl.testing.well_typed import ANCHOR, boundaries, on_clock, plain_value, record_values
from csdsl.values import format_duration

ChangeKind = Literal["added", "removed", "changed"]
PER_CLAUSE = 3  # witnesses from the example data kept per clause responsible


# ---- results -----------------------------------------------------------------------------------


@attrs.frozen
class Place:
    file: str
    line: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"

    def to_json(self) -> dict[str, Any]:
        return {"file": self.file, "line": self.line}


@attrs.frozen
class Change:
    """One attribute of a changed clause, old and new as policy text (None: absent)."""

    what: str
    old: str | None
    new: str | None


@attrs.frozen
class ClauseDiff:
    kind: str
    name: str
    record: str | None
    change: ChangeKind
    changes: tuple[Change, ...]
    old: Place | None
    new: Place | None
    witnessed: bool | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "name": self.name,
            "record": self.record,
            "change": self.change,
            "changes": [{"what": c.what, "old": c.old, "new": c.new} for c in self.changes],
            "old": self.old.to_json() if self.old else None,
            "new": self.new.to_json() if self.new else None,
            "witnessed": self.witnessed,
        }


@attrs.frozen
class Difference:
    what: str
    clauses: tuple[str, ...]
    old: Any  # JSON value
    new: Any


@attrs.frozen
class Witness:
    record_type: str
    record: Mapping[str, Any]
    events: tuple[Mapping[str, Any], ...]
    source: str
    differences: tuple[Difference, ...]

    @property
    def clauses(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(c for d in self.differences for c in d.clauses))

    def to_json(self) -> dict[str, Any]:
        return {
            "record_type": self.record_type,
            "record": dict(self.record),
            "events": [dict(e) for e in self.events],
            "source": self.source,
            "clauses": list(self.clauses),
            "differences": [
                {"what": d.what, "clauses": list(d.clauses), "old": d.old, "new": d.new}
                for d in self.differences
            ],
        }


def _show(v: Any) -> str:
    if v is None:
        return "none"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, list):
        return "[" + ", ".join(map(str, v)) + "]"
    return str(v)


@attrs.frozen
class PolicyDiff:
    old_file: str
    new_file: str
    clauses: tuple[ClauseDiff, ...]
    witnesses: tuple[Witness, ...]

    @property
    def changed(self) -> bool:
        return bool(self.clauses)

    def to_json(self) -> dict[str, Any]:
        return {
            "clauses": [c.to_json() for c in self.clauses],
            "witnesses": [w.to_json() for w in self.witnesses],
        }

    def to_text(self) -> str:
        lines = [f"diff {self.old_file} -> {self.new_file}"]
        if not self.clauses:
            lines.append("no clause changed")
        else:
            counts = {k: sum(c.change == k for c in self.clauses) for k in ("added", "removed")}
            counts["changed"] = len(self.clauses) - counts["added"] - counts["removed"]
            lines.append("clauses: " + ", ".join(f"{n} {k}" for k, n in counts.items()))
        for c in self.clauses:
            where = " -> ".join(str(p) for p in (c.old, c.new) if p is not None)
            about = f" (record {c.record})" if c.record and c.kind != "record" else ""
            seen = {True: "  [witnessed]", False: "  [no witness found]", None: ""}[c.witnessed]
            lines.append(f"  {c.change:<8} {c.kind} {c.name}{about}  {where}{seen}")
            lines += [f"      {ch.what}: {_show(ch.old)} -> {_show(ch.new)}" for ch in c.changes]
        if any(c.kind == "record rule" for c in self.clauses):
            lines.append("  (record rules are listed as clauses: no witness is searched for them)")
        lines.append(f"witnesses: {len(self.witnesses)}")
        for i, w in enumerate(self.witnesses, 1):
            rid = w.record.get("id")
            lines.append(f"  {i}. {w.record_type} {rid} ({w.source}): " + ", ".join(w.clauses))
            for d in w.differences:
                lines.append(f"      {d.what}: {_show(d.old)} -> {_show(d.new)}")
            lines.append("      record: " + json.dumps(dict(w.record), ensure_ascii=False))
            if w.events:
                evs = "; ".join(
                    f"{e['event']} at {e['at']}" + (f" by {e['role']}" if e.get("role") else "")
                    for e in w.events
                )
                lines.append("      events: " + evs)
        return "\n".join(lines) + "\n"


# ---- rendering IR as policy text -----------------------------------------------------------


_EXPRS: tuple[type, ...] = (ir.Const, ir.FieldRef, ir.Neg, ir.Arith, ir.Cmp, ir.And, ir.Or)
_EXPRS += (ir.Not, ir.IsSet, ir.In, ir.Contains, ir.EventRef, ir.DatePart)


class _Printer(IrPrinter):
    """Clause attributes as policy-like text: expressions as the version's source spells them
    (`90m` stays `90m`), or by `IrPrinter` where the source is not at hand."""

    def __init__(self, policy: Policy) -> None:
        super().__init__(policy.tz)
        self.texts = ExprTexts(policy)

    def value(self, v: Any) -> str:
        """Any attribute of a clause as policy-like text."""
        if isinstance(v, _EXPRS):
            return self.texts(v)  # type: ignore[arg-type]
        if isinstance(v, ir.TimeSpec):
            return v.text
        if isinstance(v, ir.Require):
            return v.text
        if isinstance(v, ir.RuleExpectation):
            return f"expect {v.rule} {v.status}"
        if isinstance(v, ir.Target):
            when = f" when {self.expr(v.when)}" if v.when is not None else ""
            return ("otherwise " if v.default else "") + f"within {v.time.text}{when}"
        if isinstance(v, ir.Pause):
            why = f" because {quote(v.reason)}" if v.reason else ""
            return f"pauses on {v.pause} resumes on {v.resume}{why}"
        if isinstance(v, ir.Step):
            how = {
                "breach": f"on breach of {v.ref}",
                "event": f"on {v.ref}",
                "after": f"after {v.after.text if v.after else '?'}",
            }[v.kind]
            within = f" within {v.within.text}" if v.within else ""
            return f"{v.source} -> {v.target} {how}{within}"
        if isinstance(v, ir.Field):
            return f"{v.name}: {v.type}" + ("?" if v.optional else "")
        if isinstance(v, ir.Type):
            return str(v)
        if isinstance(v, ir.PhraseUse):
            return v.key if v.named else "[" + ", ".join(map(quote, v.phrases)) + "]"
        if isinstance(v, WorkCalendar):
            return v.name
        if isinstance(v, tuple | frozenset):
            items = sorted(v) if isinstance(v, frozenset) else v
            return "[" + ", ".join(self.value(x) for x in items) + "]"
        if isinstance(v, ir.Kind):
            return v.value
        if attrs.has(type(v)):
            parts = [
                f"{f.name}={self.value(getattr(v, f.name))}"
                for f in attrs.fields(type(v))
                if f.eq and f.name != "span"
            ]
            return type(v).__name__ + "(" + ", ".join(parts) + ")"
        return self.const(v)


# attributes derived from others, or of no meaning to a reader
_SKIP = {"span", "fields"}


def _pairs(v: Any) -> bool:
    """A tuple of (name, value) pairs, compared as a mapping (an example's values)."""
    return isinstance(v, tuple) and all(
        isinstance(x, tuple) and len(x) == 2 and isinstance(x[0], str) for x in v
    )


Printers = tuple[_Printer, _Printer]  # the old version's and the new one's


def _changes(old: Any, new: Any, p: Printers, prefix: str = "") -> list[Change]:
    """What differs between two versions of one clause, attribute by attribute."""
    if old == new:
        return []
    name = prefix or "value"
    if isinstance(old, ir.Record) and isinstance(new, ir.Record):
        a = {f.name: f for f in old.fields}
        b = {f.name: f for f in new.fields}
        return [
            Change(
                f"field {k}",
                p[0].value(a[k]) if k in a else None,
                p[1].value(b[k]) if k in b else None,
            )
            for k in dict.fromkeys([*a, *b])
            if a.get(k) != b.get(k)
        ]
    if type(old) is type(new) and attrs.has(type(old)) and not _atomic(old):
        out: list[Change] = []
        for f in attrs.fields(type(old)):
            if not f.eq or f.name in _SKIP:
                continue
            sub = f"{prefix}.{f.name}" if prefix else f.name.rstrip("_")
            out += _changes(getattr(old, f.name), getattr(new, f.name), p, sub)
        return out
    if isinstance(old, tuple) and isinstance(new, tuple) and old and new:
        if _pairs(old) and _pairs(new):
            a, b = dict(old), dict(new)
            out = []
            for k in dict.fromkeys([*a, *b]):
                if a.get(k, _ABSENT) != b.get(k, _ABSENT):
                    out.append(
                        Change(
                            f"{name} {k}",
                            p[0].value(a[k]) if k in a else None,
                            p[1].value(b[k]) if k in b else None,
                        )
                    )
            return out
        if len(old) == len(new):
            out = []
            for i, (x, y) in enumerate(zip(old, new, strict=True), 1):
                out += _changes(x, y, p, f"{name}[{i}]" if len(old) > 1 else name)
            return out
    return [Change(name, p[0].value(old), p[1].value(new))]


_ABSENT = object()


def _atomic(v: Any) -> bool:
    """Nodes shown as one piece of text rather than attribute by attribute."""
    return isinstance(v, _ATOMS)


_ATOMS = (
    ir.Type,
    ir.Require,
    ir.RuleExpectation,
    ir.TimeSpec,
    ir.Target,
    ir.Pause,
    ir.Step,
    ir.Field,
    *_EXPRS,
)


# ---- clauses ---------------------------------------------------------------------------------


@attrs.frozen
class _Clause:
    kind: str
    name: str
    record: str | None
    node: Any
    place: Place | None


def _place(span: Any) -> Place | None:
    if span is None or span.file == "<unknown>":
        return None
    return Place(span.file, span.line)


def _find_line(policy: Policy, pattern: str) -> Place | None:
    """Where a clause without a span (a calendar, a phrase set, the header) is written."""
    rx = re.compile(pattern, re.MULTILINE)
    files = [policy.ir.file, *(f for f in policy.sources if f != policy.ir.file)]
    for name in files:
        src = policy.sources.get(name)
        if src is None:
            continue
        m = rx.search(src.text)
        if m is not None:
            return Place(name, src.position(m.start())[0])
    return None


def _clauses(policy: Policy) -> Iterator[_Clause]:
    p = policy.ir
    header = (p.name, p.version, p.effective, p.timezone)
    yield _Clause(
        "policy", p.name or p.file, None, _Header(*header), _find_line(policy, r"^policy\b")
    )
    for r in p.records:
        yield _Clause("record", r.name, None, r, _place(r.span))
    for v in p.validities:
        yield _Clause("validity", v.record, v.record, v.quantifier, _place(v.span))
        for c in v.conditions:
            yield _Clause("condition", c.id, v.record, c, _place(c.span))
        for c in v.exceptions:
            yield _Clause("exception", c.id, v.record, c, _place(c.span))
    for name, cal in p.calendars:
        where = _find_line(policy, rf"^\s*calendar\s+{re.escape(name)}\b")
        yield _Clause("calendar", name, None, cal, where)
    for d in p.deadlines:
        yield _Clause("deadline", d.name, d.record, d, _place(d.span))
    for e in p.escalations:
        yield _Clause("escalation", e.name, e.record, e, _place(e.span))
    for rr in p.rules:
        yield _Clause("record rule", rr.name, rr.record, rr, _place(rr.span))
    for name, phrases in p.phrase_sets:
        where = _find_line(policy, rf"^\s*phrases\s+{re.escape(name)}\b")
        yield _Clause("phrases", name, None, phrases, where)
    t = p.transcript_rules
    if t is not None:
        settings = _TrSettings(t.folding, t.base, t.min_confidence)
        yield _Clause("transcript rules", "settings", None, settings, None)
        for rule in t.rules:
            yield _Clause("rule", rule.id, None, rule, _place(rule.span))
        for s in t.situations:
            yield _Clause("situation", s.name, None, s, _place(s.span))
    for m in p.metrics:
        yield _Clause("metric", m.name, None, m, _place(m.span))
    for inv in p.invariants:
        yield _Clause("invariant", inv.label, inv.record, inv, _place(inv.span))
    for ex in p.examples:
        yield _Clause("example", ex.title, ex.record, ex, _place(ex.span))
    for tx in p.transcript_examples:
        yield _Clause("transcript example", tx.title, None, tx, _place(tx.span))


@attrs.frozen
class _Header:
    name: str | None
    version: str | None
    effective: dt.date | None
    timezone: str


@attrs.frozen
class _TrSettings:
    folding: tuple[str, ...]
    base: float
    min_confidence: float | None  # `ignore turns below confidence`


def _key(c: _Clause) -> tuple[str, str | None, str]:
    # the header is one clause whatever the policy is called
    return c.kind, c.record, "" if c.kind == "policy" else c.name


def compare_clauses(old: Policy, new: Policy) -> list[ClauseDiff]:
    """The clauses added, removed and changed, in the order of the old version (then the new
    one's additions), without witnesses."""
    p = (_Printer(old), _Printer(new))
    before = {_key(c): c for c in _clauses(old)}
    after = {_key(c): c for c in _clauses(new)}
    out = []
    for key in dict.fromkeys([*before, *after]):
        a, b = before.get(key), after.get(key)
        if a is not None and b is not None:
            if a.kind == "policy":
                changes = _changes(a.node, b.node, p)
            elif a.node == b.node:
                continue
            else:
                changes = _changes(a.node, b.node, p, "quantifier" if a.kind == "validity" else "")
            if not changes:
                continue
            out.append(
                ClauseDiff(a.kind, a.name, a.record, "changed", tuple(changes), a.place, b.place)
            )
        elif a is not None:
            out.append(ClauseDiff(a.kind, a.name, a.record, "removed", (), a.place, None))
        elif b is not None:
            out.append(ClauseDiff(b.kind, b.name, b.record, "added", (), None, b.place))
    return out


# ---- outcomes ----------------------------------------------------------------------------------


def _json_value(v: Any, tz: dt.tzinfo) -> Any:
    if isinstance(v, dt.datetime):
        return v.astimezone(tz).isoformat()
    if isinstance(v, dt.timedelta):
        return format_duration(v)
    if isinstance(v, dt.date):
        return v.isoformat()
    return v


@attrs.frozen
class _Outcome:
    error: str | None = None
    valid: bool | None = None  # None: no validity block for the record type
    matched: tuple[str, ...] = ()
    excepted: tuple[str, ...] = ()
    # per clock (deadline or escalation step, and cycle): (clause, due, status)
    clocks: tuple[tuple[str, str, str | None, str], ...] = ()


def _has_validity(policy: Policy, rtype: str) -> bool:
    return policy.ir.validity(rtype) is not None


def _has_clocks(policy: Policy, rtype: str) -> bool:
    p = policy.ir
    return any(d.record == rtype for d in p.deadlines) or any(
        e.record == rtype for e in p.escalations
    )


def _outcome(
    policy: Policy, rtype: str, record: Mapping[str, Any], events: Sequence[Mapping[str, Any]]
) -> _Outcome:
    """What one version says about one record, through the public API."""
    if policy.ir.record(rtype) is None:
        return _Outcome(error=f"no record type `{rtype}`")
    valid: bool | None = None
    matched: tuple[str, ...] = ()
    excepted: tuple[str, ...] = ()
    clocks: list[tuple[str, str, str | None, str]] = []
    try:
        if _has_validity(policy, rtype):
            verdict = policy.validate(record, rtype)
            valid, matched = verdict.valid, tuple(verdict.matched)
            excepted = tuple(verdict.excepted)
        if _has_clocks(policy, rtype):
            timeline = policy.timeline(record, events, record_type=rtype)
            for m in timeline.milestones:
                if m.kind not in ("deadline", "escalation"):
                    continue
                key = m.clause + (f" cycle {m.cycle}" if m.cycle > 1 else "")
                clause = m.clause.split(":")[0]  # a ladder's step: `ladder: a -> b`
                due = _json_value(m.due, policy.tz) if m.due is not None else None
                clocks.append((key, clause, due, m.status))
    except RecordError as exc:
        return _Outcome(error=str(exc))
    return _Outcome(None, valid, matched, excepted, tuple(clocks))


def _differences(a: _Outcome, b: _Outcome, rtype: str) -> list[Difference]:
    if a.error or b.error:
        if a.error == b.error:
            return []
        return [Difference("record", (rtype,), a.error or "accepted", b.error or "accepted")]
    out = []
    if a.valid is not None or b.valid is not None:
        flipped = (set(a.matched) ^ set(b.matched)) | (set(a.excepted) ^ set(b.excepted))
        why = tuple(sorted(flipped)) or (rtype,)
        if a.valid != b.valid:
            out.append(Difference("valid", why, a.valid, b.valid))
        elif set(a.matched) != set(b.matched):
            out.append(Difference("matched", why, list(a.matched), list(b.matched)))
    old = {k: (c, due, s) for k, c, due, s in a.clocks}
    new = {k: (c, due, s) for k, c, due, s in b.clocks}
    for key in dict.fromkeys([*old, *new]):
        x, y = old.get(key), new.get(key)
        if x is None or y is None:
            only = x or y
            assert only is not None
            if only[2] != "not_applicable":  # a clock that never started is no difference
                old_status, new_status = (x[2] if x else None), (y[2] if y else None)
                out.append(Difference(f"{key} status", (only[0],), old_status, new_status))
            continue
        if x[1] != y[1]:
            out.append(Difference(f"{key} due", (x[0],), x[1], y[1]))
        if x[2] != y[2]:
            out.append(Difference(f"{key} status", (x[0],), x[2], y[2]))
    return out


# ---- example data ----------------------------------------------------------------------------


def _default_type(old: Policy, new: Policy) -> str:
    names = [
        r.name
        for p in (new, old)
        for r in p.ir.records
        if _has_validity(p, r.name) or _has_clocks(p, r.name)
    ]
    if not names:
        raise KeyError("neither version has a validity block, a deadline or an escalation")
    return names[0]


def _events_json(policy: Policy, events: Sequence[Any]) -> tuple[dict[str, Any], ...]:
    return tuple(
        {"at": e.at.astimezone(policy.tz).isoformat(), "event": e.name, "role": e.role}
        for e in events
    )


def _data_witnesses(
    old: Policy, new: Policy, rtype: str, path: str, events: str | None
) -> Iterator[Witness]:
    """Every row of a records file on which the versions differ.  Raises `InputError`."""
    main = new if new.ir.record(rtype) is not None else old
    other = old if main is new else new
    rows = main.reader(rtype).read(path)
    spare = {r.line: r for r in (other.reader(rtype).read(path) if other.ir.record(rtype) else ())}
    log = None
    clock_policy = new if _has_clocks(new, rtype) else old if _has_clocks(old, rtype) else None
    if events is not None and clock_policy is not None:
        log, _ = clock_policy.read_events(events, rtype)
    for row in rows:
        values = (
            row.values if row.values is not None else getattr(spare.get(row.line), "values", None)
        )
        if values is None:
            continue
        record = {"id": row.id, **{k: _json_value(v, main.tz) for k, v in values.items()}}
        case = id_key(row.id)
        evs = _events_json(main, log[case]) if log is not None and case in log else ()
        diffs = _differences(
            _outcome(old, rtype, record, evs), _outcome(new, rtype, record, evs), rtype
        )
        if diffs:
            yield Witness(rtype, record, evs, f"{path}:{row.line}", tuple(diffs))


Case = tuple[dict[str, Any], list[tuple[int, str, str | None]]]  # values, (minute, event, role)

# ---- search ----------------------------------------------------------------------------------


def _field_union(old: Policy, new: Policy, rtype: str) -> ir.Record:
    """The fields a record must have for both versions to read it: enums with every value."""
    a, b = old.ir.record(rtype), new.ir.record(rtype)
    fields: dict[str, ir.Field] = {}
    for rec in (b, a):
        for f in rec.fields if rec else ():
            have = fields.get(f.name)
            if have is None:
                fields[f.name] = f
            elif have.type.kind is ir.Kind.ENUM and f.type.kind is ir.Kind.ENUM:
                values = tuple(dict.fromkeys([*have.type.values, *f.type.values]))
                fields[f.name] = attrs.evolve(have, type=ir.Type(ir.Kind.ENUM, values))
    return ir.Record(rtype, tuple(fields.values()))


def _fields_read(old: Policy, new: Policy, rtype: str) -> set[str]:
    """The fields either version reads to judge a record, and those whose type changed: the
    search draws these and gives the others plain values."""
    used: set[str] = set()
    for p in (old, new):
        v = p.ir.validity(rtype)
        for c in (*v.conditions, *v.exceptions) if v else ():
            used.update(ir.fields_used(c.expr))
        for d in p.ir.deadlines:
            if d.record == rtype:
                used.update(f for t in d.targets if t.when for f in ir.fields_used(t.when))
                used.update([d.start_field] if d.start_field else [])
    a, b = old.ir.record(rtype), new.ir.record(rtype)
    fa = {f.name: f for f in a.fields} if a else {}
    fb = {f.name: f for f in b.fields} if b else {}
    used.update(n for n in fa.keys() | fb.keys() if fa.get(n) != fb.get(n))
    return used


def _durations(spec: ir.TimeSpec | None) -> list[dt.timedelta]:
    if spec is None:
        return []
    if isinstance(spec.amount, dt.timedelta):
        return [spec.amount]
    if isinstance(spec.amount, int) and not isinstance(spec.amount, bool):
        return [dt.timedelta(days=spec.amount)]
    return []


def _clock_parts(policy: Policy, rtype: str) -> tuple[list[ir.Deadline], list[ir.Escalation]]:
    p = policy.ir
    return [d for d in p.deadlines if d.record == rtype], [
        e for e in p.escalations if e.record == rtype
    ]


def _events_strategy(
    old: Policy, new: Policy, rtype: str, limits: list[dt.timedelta]
) -> tuple[st.SearchStrategy[list[tuple[int, str, str | None]]], str | None]:
    """Small event logs: (minutes after the anchor, event, role); and the anchor's field."""
    deadlines, ladders = _clock_parts(old, rtype)
    d2, l2 = _clock_parts(new, rtype)
    deadlines, ladders = deadlines + d2, ladders + l2
    names = sorted(ir.clock_events(deadlines, ladders))
    roles = sorted({r for e in ladders for r in e.roles}) or ["agent"]
    anchor = next((d.start_field for d in deadlines if d.start_field), None)
    minutes = sorted(
        {
            m
            for lim in limits
            for m in (int(lim.total_seconds() // 60) + k for k in (-1, 0, 1))
            if m >= 0
        }
    )
    offset = (
        st.one_of(st.sampled_from(minutes), st.integers(0, 4 * 24 * 60))
        if minutes
        else (st.integers(0, 4 * 24 * 60))
    )
    event = st.tuples(offset, st.sampled_from(names), st.sampled_from(roles)).map(
        lambda t: (t[0], t[1], t[2] if t[1] == ir.ESCALATED else None)
    )
    return st.lists(event, max_size=5).map(sorted), anchor


@attrs.frozen
class _Target:
    """A changed clause the search tries to show: its name and the record type."""

    name: str
    rtype: str
    clocks: bool


def _targets(changes: Sequence[ClauseDiff], old: Policy, new: Policy) -> list[_Target]:
    out = []
    for c in changes:
        if c.kind in ("condition", "exception", "validity") and c.record:
            out.append(_Target(c.name if c.kind != "validity" else c.record, c.record, False))
        elif c.kind in ("deadline", "escalation") and c.record:
            out.append(_Target(c.name, c.record, True))
        elif c.kind == "record":
            out.append(_Target(c.name, c.name, False))
        elif c.kind == "calendar":
            for p in (old, new):
                for d in p.ir.deadlines:
                    specs = [t.time for t in d.targets] + ([d.cap] if d.cap else [])
                    if any(s and s.calendar == c.name for s in specs):
                        out.append(_Target(d.name, d.record, True))
    return list(dict.fromkeys(out))


def _limits(changes: Sequence[ClauseDiff], old: Policy, new: Policy) -> list[dt.timedelta]:
    names = {c.name for c in changes if c.kind in ("deadline", "escalation")}
    out: list[dt.timedelta] = []
    for p in (old, new):
        for d in p.ir.deadlines:
            if d.name in names:
                for spec in [t.time for t in d.targets] + [
                    d.cap,
                    d.update[0] if d.update else None,
                ]:
                    out += _durations(spec)
        for e in p.ir.escalations:
            if e.name in names:
                for s in e.steps:
                    out += _durations(s.after) + _durations(s.within)
    return out


def _search(
    old: Policy,
    new: Policy,
    target: _Target,
    bias: Mapping[str, list[Any]],
    limits: list[dt.timedelta],
    max_examples: int,
    seed: int,
) -> Witness | None:
    rtype = target.rtype
    rec = _field_union(old, new, rtype)
    tz = new.tz
    used = _fields_read(old, new, rtype)
    drawn = ir.Record(rtype, tuple(f for f in rec.fields if f.name in used))
    filler_all = {f.name: plain_value(f, tz) for f in rec.fields}
    filler = {k: v for k, v in filler_all.items() if k not in used}
    values = record_values(drawn, tz, near=bias).map(lambda d: {**filler, **d})
    with_clocks = _has_clocks(old, rtype) or _has_clocks(new, rtype)
    if with_clocks:
        evs, anchor = _events_strategy(old, new, rtype, limits)
        cases: st.SearchStrategy[tuple[dict[str, Any], list[tuple[int, str, str | None]]]]
        cases = st.tuples(values, evs)
    else:
        anchor = None
        cases = st.tuples(values, st.just([]))

    def materialise(case: Case) -> tuple[dict[str, Any], tuple[dict[str, Any], ...]]:
        vals, log = case
        record = {"id": f"generated-{target.name}"}
        record.update((f.name, _json_value(vals[f.name], tz)) for f in rec.fields)
        start = vals.get(anchor) if anchor else None
        base = start if isinstance(start, dt.datetime) else on_clock(ANCHOR, tz)
        events = tuple(
            {
                "at": (base + dt.timedelta(minutes=m)).astimezone(tz).isoformat(),
                "event": name,
                "role": role,
            }
            for m, name, role in log
        )
        return record, events

    def shows(case: Any, strong: bool) -> bool:
        record, events = materialise(case)
        diffs = _differences(
            _outcome(old, rtype, record, events), _outcome(new, rtype, record, events), rtype
        )
        return any(
            target.name in d.clauses
            and (not strong or d.what in ("valid", "record") or target.clocks)
            for d in diffs
        )

    for strong in (True, False) if not target.clocks else (True,):
        try:
            found = find(
                cases,
                functools.partial(shows, strong=strong),
                settings=settings(
                    max_examples=max_examples,
                    database=None,
                    deadline=None,
                    phases=[Phase.generate],
                    suppress_health_check=list(HealthCheck),
                ),
                random=random.Random(f"{seed}:{target.name}:{strong}"),
            )
        except NoSuchExample:
            continue
        found = _simplify(found, functools.partial(shows, strong=strong), filler_all)
        record, events = materialise(found)
        diffs = _differences(
            _outcome(old, rtype, record, events), _outcome(new, rtype, record, events), rtype
        )
        return Witness(rtype, record, events, "generated", tuple(diffs))
    return None


def _simplify(case: Case, holds: Callable[[Case], bool], plain: Mapping[str, Any]) -> Case:
    """A simpler case that still holds: each field set to a plain value, each event dropped,
    where the difference survives (cheaper than Hypothesis' shrinker, and reads better)."""
    values, events = dict(case[0]), list(case[1])
    for name, simple in plain.items():
        if values.get(name) != simple:
            trial = {**values, name: simple}
            if holds((trial, events)):
                values = trial
    for i in reversed(range(len(events))):
        trial_events = events[:i] + events[i + 1 :]
        if holds((values, trial_events)):
            events = trial_events
    return values, events


# ---- the whole diff ----------------------------------------------------------------------------


def diff(
    old: Policy,
    new: Policy,
    *,
    records: Sequence[tuple[str, str]] = (),
    events: str | None = None,
    max_examples: int = 200,
    seed: int = 0,
) -> PolicyDiff:
    """Compare two versions of a policy.

    `records`: example data as (record type, file) pairs; an empty type means the record type
    both versions judge (the first with a validity block or clocks).  `events`: an event log for
    the records' clocks.  `max_examples`: the search budget per changed clause (0: no search).
    Raises `InputError` for a file that cannot be read, `KeyError` for an unknown record type."""
    changes = compare_clauses(old, new)
    witnesses: list[Witness] = []
    per_clause: dict[str, int] = {}

    def keep(w: Witness) -> bool:
        fresh = [c for c in w.clauses if per_clause.get(c, 0) < PER_CLAUSE]
        for c in w.clauses:
            per_clause[c] = per_clause.get(c, 0) + 1
        return bool(fresh)

    for rtype, path in records:
        name = rtype or _default_type(old, new)
        if old.ir.record(name) is None and new.ir.record(name) is None:
            raise KeyError(f"neither version has a record type `{name}`")
        for w in _data_witnesses(old, new, name, path, events):
            if keep(w):
                witnesses.append(w)
    shown = {c for w in witnesses for c in w.clauses}
    targets = _targets(changes, old, new)
    if max_examples > 0:
        bias: dict[str, list[Any]] = {}
        for c in changes:
            for p in (old, new):
                for node in _nodes_of(p, c):
                    boundaries(node, bias)
        limits = _limits(changes, old, new)
        for t in targets:
            if t.name in shown:
                continue
            found = _search(old, new, t, bias, limits, max_examples, seed)
            if found is not None:
                witnesses.append(found)
                shown |= set(found.clauses)
    final = tuple(attrs.evolve(c, witnessed=_witnessed(c, shown)) for c in changes)
    return PolicyDiff(old.ir.file, new.ir.file, final, tuple(witnesses))


_SEARCHED = ("condition", "exception", "validity", "record", "deadline", "escalation")


def _witnessed(c: ClauseDiff, shown: set[str]) -> bool | None:
    if c.kind not in _SEARCHED:
        return None
    return (c.record if c.kind == "validity" else c.name) in shown


def _nodes_of(policy: Policy, c: ClauseDiff) -> Iterator[ir.Expr | None]:
    """The expressions of a changed clause in one version (for the search's constants)."""
    p = policy.ir
    if c.kind in ("condition", "exception"):
        v = p.validity(c.record or "")
        for cond in (*v.conditions, *v.exceptions) if v else ():
            if cond.id == c.name:
                yield cond.expr
    elif c.kind == "deadline":
        for d in p.deadlines:
            if d.name == c.name:
                yield from (t.when for t in d.targets)


__all__ = [
    "Change",
    "ClauseDiff",
    "Difference",
    "InputError",
    "Place",
    "PolicyDiff",
    "Witness",
    "compare_clauses",
    "diff",
]

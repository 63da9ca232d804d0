"""What `csdsl doc` shows, computed once for both templates.

In: a loaded `csdsl.Policy` (its IR and its source files).  Out: a `View` of plain values: the
header, then each clause with its `file:line` (and a unique HTML anchor), its wording, its
meaning in plain words (`csdsl.doc.words`) and what it cites: the comment lines directly above
it and the comments trailing on its lines, read from the source text.  Paths are relative to the
directory of the root file, so the same policy gives the same view from any working directory.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import attrs

from csdsl import ir
from csdsl.doc import words
from csdsl.source import SourceFile, Span

if TYPE_CHECKING:
    from csdsl.api import Policy

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_RULE = re.compile(r"^-{2,}\s*(.*?)\s*-*$")  # `# ---- section title -----`


def slug(s: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", s.lower()).strip("-") or "x"


def split_comment(line: str) -> tuple[str, str | None]:
    """A source line's code and its `#` comment (None without one), the comment's indentation
    after `# ` kept; `#` inside a string is text."""
    in_string = False
    i = 0
    while i < len(line):
        ch = line[i]
        if in_string:
            if ch == "\\":
                i += 1
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch == "#":
            comment = line[i + 1 :].rstrip()
            return line[:i].rstrip(), comment[1:] if comment.startswith(" ") else comment
        i += 1
    return line.rstrip(), None


def _cite_text(comment: str) -> str | None:
    comment = comment.strip()
    m = _RULE.match(comment)
    text = m.group(1) if m else comment
    return text or None


@attrs.frozen
class Loc:
    file: str  # relative to the root file's directory
    line: int
    anchor: str

    @property
    def label(self) -> str:
        return f"{self.file}:{self.line}"


@attrs.frozen
class Row:
    """One clause, or one statement of a clause, in plain words next to its source."""

    what: str  # the kind of statement or the clause's id
    words: str
    loc: Loc | None
    wording: str | None = None
    source: str = ""  # the source lines, comments left out
    cites: tuple[str, ...] = ()
    extra: tuple[tuple[str, str], ...] = ()  # further labelled facts (severity, points, ...)


@attrs.frozen
class FileInfo:
    path: str
    sha256: str
    notes: tuple[str, ...]  # the file's header comment and its `Source` notes, a block each


@attrs.frozen
class FieldView:
    name: str
    type: str
    optional: bool
    values: tuple[str, ...]
    note: str | None
    loc: Loc | None


@attrs.frozen
class Block:
    """A clause with parts: a record, a validity block, a deadline, a ladder, a record-level
    rule, a calendar, a situation, an example."""

    kind: str
    name: str
    title: str  # the heading
    loc: Loc | None
    wording: str | None = None
    summary: str = ""  # one line in plain words
    cites: tuple[str, ...] = ()
    rows: tuple[Row, ...] = ()
    rows2: tuple[Row, ...] = ()  # validity: the exceptions
    fields: tuple[FieldView, ...] = ()
    facts: tuple[tuple[str, str], ...] = ()  # labelled facts
    table: tuple[tuple[str, ...], ...] = ()  # a given/turns table (the header first)
    table2: tuple[tuple[str, ...], ...] = ()  # events
    expect: tuple[str, ...] = ()


@attrs.frozen
class Section:
    id: str
    title: str
    blocks: tuple[Block, ...]


@attrs.frozen
class View:
    title: str
    meta: tuple[tuple[str, str], ...]
    files: tuple[FileInfo, ...]
    sections: tuple[Section, ...]
    generated: str | None  # a timestamp only when the caller passes one
    anchors: tuple[str, ...]  # every clause anchor, in page order


class _Builder:
    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self.ir = policy.ir
        # the sections of the standards each clause cites (`cites` blocks)
        self.citations = {c.clause: c.refs for c in policy.ir.citations}
        self.root = os.path.dirname(policy.ir.file) or "."
        self.sources: Mapping[str, SourceFile] = policy.sources
        self.anchors: dict[str, None] = {}
        self.by_key: dict[tuple[str, int], Loc] = {}

    # ---- places ---------------------------------------------------------------------------
    def rel(self, file: str) -> str:
        return Path(os.path.relpath(file, self.root)).as_posix()

    def loc(
        self, span: Span | None, file: str | None = None, line: int | None = None
    ) -> Loc | None:
        if span is not None:
            if span.file not in self.sources:
                return None
            file, line = span.file, span.line
        if file is None or line is None:
            return None
        rel = self.rel(file)
        base = "clause-" + slug(f"{rel}:{line}")
        anchor, n = base, 1
        while anchor in self.anchors:
            n += 1
            anchor = f"{base}-{n}"
        self.anchors[anchor] = None
        return Loc(rel, line, anchor)

    def lines(self, file: str, first: int, last: int) -> list[str]:
        src = self.sources.get(file)
        if src is None:
            return []
        return [src.line_text(n) for n in range(first, last + 1)]

    def source(self, span: Span | None) -> str:
        """The clause's source lines without their comments, dedented."""
        if span is None or span.file not in self.sources:
            return ""
        code = [split_comment(t)[0] for t in self.lines(span.file, span.line, span.end_line)]
        code = [c for c in code if c.strip()]
        indent = min((len(c) - len(c.lstrip()) for c in code), default=0)
        return "\n".join(c[indent:] for c in code)

    def cites(self, span: Span | None, whole: bool = True) -> tuple[str, ...]:
        """The comment lines directly above the clause (one entry), then each comment trailing
        on its lines (on its first line only when `whole` is false: a block's inner lines
        belong to its parts)."""
        if span is None or span.file not in self.sources:
            return ()
        src = self.sources[span.file]
        first = span.line
        above: list[str] = []
        n = first - 1
        while n >= 1:
            code, comment = split_comment(src.line_text(n))
            if code.strip() or comment is None:
                break
            above.append(comment)
            n -= 1
        lead = [c for c in (_cite_text(t) for t in reversed(above)) if c]
        out = ["\n".join(lead)] if lead else []
        last = span.end_line if whole else first
        for n in range(first, last + 1):
            code, comment = split_comment(src.line_text(n))
            if comment and code.strip():
                text = _cite_text(comment)
                if text:
                    out.append(text)
        return tuple(out)

    def find(self, keyword: str, name: str) -> Span | None:
        """Where `keyword name` is declared (phrase sets and calendars keep no span)."""
        pattern = re.compile(rf"^\s*{re.escape(keyword)}\s+{re.escape(name)}(?!\w)")
        files = [self.ir.file, *(f for f in self.sources if f != self.ir.file)]
        for f in files:
            src = self.sources.get(f)
            if src is None:
                continue
            for n in range(1, src.line_count + 1):
                if pattern.match(split_comment(src.line_text(n))[0]):
                    return Span(f, n, 1, n, 1)
        return None

    def stmt(self, span: Span, pattern: str) -> Span | None:
        """The first line of a block whose code starts with `pattern` (`warn at ..`)."""
        return self._nth(span, pattern, 0)

    def row(
        self,
        what: str,
        text: str,
        span: Span | None,
        wording: str | None = None,
        extra: tuple[tuple[str, str], ...] = (),
        whole: bool = True,
    ) -> Row:
        return Row(
            what,
            text,
            self.loc(span),
            wording,
            self.source(span) if whole else "",
            self.cites(span, whole) + self.cited(what),
            extra,
        )

    def cited(self, clause: str) -> tuple[str, ...]:
        """The clause's `cites`, as one entry: `cites 002 八 投诉答复时间, ...`."""
        refs = self.citations.get(clause)
        return ("cites " + ", ".join(refs),) if refs else ()

    # ---- the header ------------------------------------------------------------------------
    def files(self) -> tuple[FileInfo, ...]:
        from csdsl.codegen.jsonir import source_manifest

        by_rel = {self.rel(name): name for name in self.sources}
        out = []
        for path, digest in source_manifest(self.policy):
            name = by_rel.get(path)
            out.append(FileInfo(path, digest, self.notes(name) if name else ()))
        return tuple(out)

    def notes(self, name: str) -> tuple[str, ...]:
        """The comment block at the top of a file and every block that starts `# Source`."""
        src = self.sources[name]
        blocks: list[tuple[bool, list[str]]] = []
        current: list[str] | None = None
        seen_code = False
        for n in range(1, src.line_count + 1):
            code, comment = split_comment(src.line_text(n))
            if not code.strip() and comment is not None:
                if current is None:
                    current = []
                    blocks.append((seen_code, current))
                current.append(comment)
            else:
                current = None
                seen_code = seen_code or bool(code.strip())
        return tuple(
            "\n".join(block)
            for after_code, block in blocks
            if not after_code or re.match(r"(?i)\s*sources?\b", block[0])
        )

    # ---- sections -----------------------------------------------------------------------
    def records(self) -> Iterable[Block]:
        for r in self.ir.records:
            fields = []
            for f in r.fields:
                note = None
                src = self.sources.get(f.span.file)
                if src is not None:
                    note = split_comment(src.line_text(f.span.line))[1]
                    note = note.strip() if note else None
                fields.append(
                    FieldView(
                        f.name,
                        f.type.kind.value,
                        f.optional,
                        f.type.values,
                        note,
                        None if src is None else Loc(self.rel(f.span.file), f.span.line, ""),
                    )
                )
            yield Block(
                "record",
                r.name,
                f"record {r.name}",
                self.loc(r.span),
                summary=f"{len(r.fields)} fields",
                cites=self.cites(r.span, whole=False),
                fields=tuple(fields),
            )

    def validities(self) -> Iterable[Block]:
        for v in self.ir.validities:
            rows = tuple(
                self.row(c.id, words.condition(c.expr), c.span, c.wording) for c in v.conditions
            )
            rows2 = tuple(
                self.row(c.id, words.condition(c.expr), c.span, c.wording) for c in v.exceptions
            )
            which = (
                "any one of these conditions holds"
                if v.quantifier == "any"
                else ("all of these conditions hold")
            )
            summary = f"A {v.record} is valid when {which}"
            if v.exceptions:
                summary += ", unless one of the exceptions holds"
            yield Block(
                "validity",
                v.record,
                f"valid {v.record} when {v.quantifier}",
                self.loc(v.span),
                summary=summary,
                cites=self.cites(v.span, whole=False),
                rows=rows,
                rows2=rows2,
                facts=(("quantifier", v.quantifier),),
            )

    def calendars(self) -> Iterable[Block]:
        for name, cal in self.ir.calendars:
            span = self.find("calendar", name)
            days = []
            for day, hours in zip(WEEKDAYS, cal.weekly, strict=False):
                text = ", ".join(
                    f"{a.strftime('%H:%M')}–{'24:00' if b is None else b.strftime('%H:%M')}"
                    for a, b in hours
                )
                days.append((day, text or "closed"))
            facts: list[tuple[str, str]] = [("time zone", str(cal.tz))]
            if cal.statutory == "china":
                dataset = cal.dataset
                facts.append(
                    (
                        "holidays",
                        "China's statutory holidays and make-up working days (调休)"
                        + (f", from {dataset}" if dataset else ""),
                    )
                )
            elif cal.statutory:
                facts.append(("holidays", cal.statutory))
            if cal.closed:
                facts.append(
                    ("extra closed dates", ", ".join(d.isoformat() for d in sorted(cal.closed)))
                )
            if cal.working:
                facts.append(
                    ("extra working dates", ", ".join(d.isoformat() for d in sorted(cal.working)))
                )
            summary = "open around the clock" if cal.is_24x7 else "open hours per weekday below"
            yield Block(
                "calendar",
                name,
                f"calendar {name}",
                self.loc(span),
                summary=summary,
                cites=self.cites(span, whole=False),
                facts=tuple(facts),
                table=(("weekday", "open"), *days),
            )

    def deadlines(self) -> Iterable[Block]:
        for d in self.ir.deadlines:
            rows: list[Row] = []
            if d.start_field is not None:
                start = f"the clock starts at the record's `{d.start_field}`"
            else:
                start = f"the clock starts on event `{d.start_event}`"
            rows.append(self.row("start", start, self.stmt(d.span, "starts")))
            rows.append(
                self.row(
                    "stop", f"the clock stops on event `{d.stop_event}`", self.stmt(d.span, "stops")
                )
            )
            for i, p in enumerate(d.pauses):
                text = f"the clock pauses on `{p.pause}` and resumes on `{p.resume}`"
                if p.reason:
                    text += f" (because “{p.reason}”)"
                rows.append(self.row("pause", text, self._nth(d.span, "pauses", i)))
            for t in d.targets:
                if t.default:
                    text = f"otherwise, {words.due(t.time)}"
                elif t.when is not None:
                    text = f"{words.due(t.time)} when {words.condition(t.when)}"
                else:
                    text = words.due(t.time)
                rows.append(self.row("target", text, t.span))
            if d.cap is not None:
                text = f"whatever the target, never later than {words.time_spec(d.cap)}"
                rows.append(self.row("cap", text, self.stmt(d.span, r"at\s+most")))
            if d.warn_percent is not None:
                pct = words.value(round(d.warn_percent * 100, 6))
                text = f"a warning when {pct}% of the time has passed"
                rows.append(self.row("warning", text, self.stmt(d.span, "warn")))
            if d.warn_lead is not None:
                text = f"a warning {words.duration(d.warn_lead)} before the due time"
                rows.append(self.row("warning", text, self.stmt(d.span, "warn")))
            if d.update is not None:
                spec, event = d.update
                text = f"a progress update (`{event}`) every {words.time_spec(spec)}"
                rows.append(self.row("update", text, self.stmt(d.span, "update")))
            if d.reopen_event is not None:
                mode = "a new cycle starts" if d.reopen_mode == "new" else "the clock continues"
                text = f"reopens on `{d.reopen_event}`: {mode}"
                if d.until_event:
                    text += f", until `{d.until_event}`"
                rows.append(self.row("reopen", text, self.stmt(d.span, "reopens")))
            yield Block(
                "deadline",
                d.name,
                f"deadline {d.name} for {d.record}",
                self.loc(d.span),
                summary=f"how long a {d.record} may wait for `{d.stop_event}`",
                cites=self.cites(d.span, whole=False) + self.cited(d.name),
                rows=tuple(rows),
            )

    def rules(self) -> Iterable[Block]:
        for r in self.ir.rules:
            rows: list[Row] = []
            if r.when is not None:
                text = f"the rule applies only when {words.condition(r.when)}"
                rows.append(self.row("when", text, self.stmt(r.span, "when")))
            for i, q in enumerate(r.requires):
                text = words.require(q)
                rows.append(self.row("require", text, self._nth(r.span, "require", i)))
            points = "none" if r.points is None else words.value(r.points)
            yield Block(
                "rule",
                r.name,
                f"rule {r.name} for {r.record}",
                self.loc(r.span),
                wording=r.wording,
                summary=f"what every {r.record} must keep; a breach is a finding of kind `rule`"
                + ("" if r.when is None else " (where the rule applies)")
                + "; a value it needs that is missing leaves it unknown, never broken",
                cites=self.cites(r.span, whole=False) + self.cited(r.name),
                rows=tuple(rows),
                facts=(("severity", r.severity), ("penalty points", points)),
            )

    def _nth(self, span: Span, keyword: str, index: int) -> Span | None:
        found = -1
        rx = re.compile(rf"^\s*(?:{keyword})(?!\w)")
        src = self.sources.get(span.file)
        if src is None:
            return None
        for n in range(span.line, span.end_line + 1):
            if rx.match(split_comment(src.line_text(n))[0]):
                found += 1
                if found == index:
                    return Span(span.file, n, 1, n, len(src.line_text(n)) + 1)
        return None

    def escalations(self) -> Iterable[Block]:
        for e in self.ir.escalations:
            rows = []
            for s in e.steps:
                if s.kind == "breach":
                    when = f"on a breach of deadline `{s.ref}`"
                elif s.kind == "event":
                    when = f"on event `{s.ref}`"
                else:
                    assert s.after is not None
                    when = f"after {words.time_spec(s.after)}"
                text = f"{s.source} hands over to {s.target} {when}"
                if s.within is not None:
                    text += f", within {words.time_spec(s.within)}"
                rows.append(self.row(f"{s.source} → {s.target}", text, s.span))
            yield Block(
                "escalation",
                e.name,
                f"escalation {e.name} for {e.record}",
                self.loc(e.span),
                summary="roles in order: " + " → ".join(e.roles),
                cites=self.cites(e.span, whole=False) + self.cited(e.name),
                rows=tuple(rows),
            )

    def phrase_sets(self) -> Iterable[Block]:
        rows = []
        for name, phrases in self.ir.phrase_sets:
            text = " / ".join(f"“{p}”" for p in phrases)
            rows.append(self.row(name, text, self.find("phrases", name), whole=False))
        if rows:
            yield Block(
                "phrases",
                "phrase sets",
                "phrase sets",
                None,
                summary="phrases are matched after normalisation; `{name}` is a placeholder",
                rows=tuple(rows),
            )

    def _rule_row(self, r: ir.TrRule) -> Row:
        extra = (("severity", r.severity), ("points", words.value(r.points)))
        return self.row(r.id, words.rule(r), r.span, r.wording, extra)

    def transcripts(self) -> Iterable[Block]:
        t = self.ir.transcript_rules
        if t is None:
            return
        in_situation = {rid for s in t.situations for rid in s.rules}
        general = tuple(self._rule_row(r) for r in t.rules if r.id not in in_situation)
        facts: tuple[tuple[str, str], ...] = (
            ("normalisation", ", ".join(t.folding) or "none"),
            ("score of a call without findings", words.value(t.base)),
        )
        if t.min_confidence is not None:
            facts += (
                (
                    "turns not judged",
                    f"below ASR confidence {words.value(t.min_confidence)}: what they say is "
                    "not checkable, never a finding",
                ),
            )
        yield Block(
            "transcript",
            "transcript rules",
            "rules for every call",
            self.loc(t.span),
            summary="what an agent must and must never say, on every call",
            cites=self.cites(t.span, whole=False),
            rows=general,
            facts=facts,
        )
        by_id = {r.id: r for r in t.rules}
        for s in t.situations:
            rows = tuple(self._rule_row(by_id[rid]) for rid in s.rules if rid in by_id)
            when = "on every call" if s.trigger is None else f"when {words.trigger(s.trigger)}"
            if s.unless:
                when += ", unless situation " + ", ".join(f"`{u}`" for u in s.unless) + " occurs"
            yield Block(
                "situation",
                s.name,
                f"situation {s.name}",
                self.loc(s.span),
                wording=s.wording,
                summary=when,
                cites=self.cites(s.span, whole=False) + self.cited(s.name),
                rows=rows,
            )

    def metrics(self) -> Iterable[Block]:
        rows = []
        for m in self.ir.metrics:
            if m.percent and isinstance(m.threshold, int | float):
                threshold = words.value(round(m.threshold * 100, 6)) + "%"
            elif isinstance(m.threshold, dt.timedelta):
                threshold = words.duration(m.threshold)
            else:
                threshold = words.value(m.threshold)
            op = {"<": "below", "<=": "at most", ">": "above", ">=": "at least", "=": "exactly"}
            group = ", ".join(f"{g.period} of {g.field}" if g.period else g.field for g in m.groups)
            text = f"{words.metric_value(m.value)} must be {op.get(m.op, m.op)} {threshold}"
            text += f", per {group}" if group else ", over all records"
            extra = (
                ("formula", m.text),
                ("threshold", f"{m.op} {threshold}"),
                ("grouping", group or "none"),
            )
            rows.append(self.row(m.name, text, m.span, m.wording, extra))
        if rows:
            yield Block(
                "metrics",
                "metrics",
                "metrics",
                None,
                summary="rates and limits the centre must hold; a period with nothing to "
                "divide by is not applicable",
                rows=tuple(rows),
            )

    def invariants(self) -> Iterable[Block]:
        rows = tuple(
            self.row(
                inv.id or f"line {inv.span.line}",
                words.invariant(inv, self.ir.record(inv.record)),
                inv.span,
                inv.wording,
                (("record", inv.record),),
            )
            for inv in self.ir.invariants
        )
        if rows:
            yield Block(
                "invariants",
                "invariants",
                "invariants",
                None,
                summary="what must hold of every record; `csdsl verify` searches for a record "
                "that breaks one (due times are those of a record nothing has happened to yet)",
                rows=rows,
            )

    def examples(self) -> Iterable[Block]:
        for ex in self.ir.examples:
            rec = self.ir.record(ex.record)
            types = {f.name: f.type for f in rec.fields} if rec is not None else {}
            given = (("field", "value"), *((k, words.value(v, types.get(k))) for k, v in ex.values))
            rows = tuple(
                (words.value(at.astimezone(self.policy.tz)), name, role or "")
                for at, name, role in ex.events
            )
            events = (("at", "event", "role"), *rows) if rows else ()
            expect: list[str] = []
            if ex.expect_valid is not None:
                verdict = "valid" if ex.expect_valid else "not valid"
                line = f"the {ex.record} is {verdict}"
                if ex.because:
                    line += " because of " + ", ".join(ex.because)
                expect.append(line)
            for c in ex.clocks:
                who = f"escalation to {c.clock}" if c.escalation else f"deadline {c.clock}"
                line = who + (f" (cycle {c.cycle})" if c.cycle else "") + f" is {c.status}"
                if c.due is not None:
                    line += f", due {words.value(c.due.astimezone(self.policy.tz))}"
                expect.append(line)
            for x in ex.rules:
                expect.append(f"rule {x.rule} is {x.status.replace('_', ' ')}")
            yield Block(
                "example",
                ex.id or ex.title,
                ex.title,
                self.loc(ex.span),
                summary=f"given a {ex.record}" + (" and its events" if ex.events else ""),
                cites=self.cites(ex.span, whole=False),
                table=given,
                table2=events,
                expect=tuple(expect),
                facts=(("id", ex.id),) if ex.id else (),
            )
        for tx in self.ir.transcript_examples:
            turns: list[tuple[str, ...]] = [("speaker", "time", "said / event")]
            for turn in tx.turns:
                when = ""
                if turn.start is not None:
                    when = words.value(turn.start) + "s"
                    if turn.end is not None:
                        when += f"–{words.value(turn.end)}s"
                said = turn.text if turn.text is not None else f"[{turn.event}]"
                heard = [
                    f"confidence {words.value(turn.confidence)}"
                    if turn.confidence is not None
                    else "",
                    f"sentiment {turn.sentiment}" if turn.sentiment is not None else "",
                ]
                if any(heard):
                    said += " (" + ", ".join(h for h in heard if h) + ")"
                turns.append((turn.speaker, when, said))
            for counted in tx.interruptions or ():
                times = "once" if counted.count == 1 else f"{counted.count} times"
                if counted.seconds:
                    times += f", {words.duration(dt.timedelta(seconds=counted.seconds))} in all"
                turns.append(
                    (counted.role, "", f"[talked over the other side {times}: vendor count]")
                )
            expect = []
            for e in tx.expects:
                if e.kind == "score":
                    expect.append(f"score {words.value(e.score)}")
                else:
                    names = ", ".join(", ".join(g) for g in e.rules)
                    verb = "passes" if e.kind == "passes" else "is flagged by"
                    expect.append(f"{verb} {names}" if names else "passes every rule")
            yield Block(
                "transcript example",
                tx.id or tx.title,
                tx.title,
                self.loc(tx.span),
                summary="a call",
                cites=self.cites(tx.span, whole=False),
                table=tuple(turns),
                expect=tuple(expect),
                facts=(("id", tx.id),) if tx.id else (),
            )

    def build(self, generated: str | None) -> View:
        p = self.ir
        from csdsl.codegen.jsonir import content_hash

        meta = (
            ("policy", p.name or "(unnamed)"),
            ("version", p.version or "—"),
            ("effective", p.effective.isoformat() if p.effective else "—"),
            ("time zone", p.timezone),
            ("root file", self.rel(p.file)),
            ("content hash", content_hash(self.policy)),
        )
        files = self.files()
        parts = (
            ("records", "Records", tuple(self.records())),
            ("validity", "Validity", tuple(self.validities())),
            ("calendars", "Calendars", tuple(self.calendars())),
            ("deadlines", "Deadlines", tuple(self.deadlines())),
            ("escalation", "Escalation", tuple(self.escalations())),
            ("rules", "Rules", tuple(self.rules())),
            ("phrases", "Phrase sets", tuple(self.phrase_sets())),
            ("transcripts", "Transcript rules", tuple(self.transcripts())),
            ("metrics", "Metrics", tuple(self.metrics())),
            ("invariants", "Invariants", tuple(self.invariants())),
            ("examples", "Examples", tuple(self.examples())),
        )
        sections = tuple(Section(i, t, b) for i, t, b in parts if b)
        return View(
            p.name or self.rel(p.file),
            meta,
            files,
            sections,
            generated,
            tuple(self.anchors),
        )


def build(policy: Policy, generated: str | None = None) -> View:
    """The view of a policy; `generated` (e.g. a timestamp) is shown only when given."""
    return _Builder(policy).build(generated)

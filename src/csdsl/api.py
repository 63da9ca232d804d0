"""The Python API: `csdsl.load(path) -> Policy`.

In: a policy path; records as mappings or files.  Out: `Verdict`s, `ValidatedRow`s and
`ExampleResult`s.  A policy that does not compile raises `PolicyError` with every diagnostic.
"""

from __future__ import annotations

import datetime as dt
import errno
import sys
import zoneinfo
from collections.abc import Iterable, Iterator, Mapping, Sequence, Set
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from csdsl import ir
from csdsl.diagnostics import Diagnostic, PolicyError, did_you_mean
from csdsl.interpreter import Validator, Verdict
from csdsl.records import EventReader, RecordReader, Row, RowError, id_key
from csdsl.rules import RuleChecker, RuleResult
from csdsl.source import SourceFile
from csdsl.timeline import Event, EventLog, Timeline, TimelineBuilder
from csdsl.transcripts import (
    Interruptions,
    Signals,
    Transcript,
    TranscriptReader,
    Turn,
    transcript_from,
)
from csdsl.values import instant

if TYPE_CHECKING:
    from csdsl.metrics import MetricResult
    from csdsl.qa import TranscriptChecker, TranscriptResult


class RecordError(ValueError):
    """A record handed to `Policy.validate` does not fit the record type."""

    def __init__(self, error: RowError) -> None:
        super().__init__(error.message)
        self.code = error.code
        self.field = error.field


@attrs.frozen
class ValidatedRow:
    line: int
    id: Any
    verdict: Verdict | None
    error: RowError | None


@attrs.frozen
class TimelineRow:
    line: int
    id: Any
    timeline: Timeline | None
    error: RowError | None


@attrs.frozen
class RulesRow:
    line: int
    id: Any
    results: tuple[RuleResult, ...] | None
    error: RowError | None


@attrs.frozen
class TranscriptRow:
    line: int
    id: Any
    result: TranscriptResult | None
    error: RowError | None


@attrs.frozen
class EventProblem:
    """A line of an event log that was skipped (R codes) or kept with a notice (V codes)."""

    line: int
    case: Any
    code: str
    message: str


class RecordTypeError(KeyError):
    """A record type the policy does not have, or not for this verb (a `KeyError`, so callers
    that caught the bare one still do).  `str()` is the plain message, with a "did you mean"."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


def _choose(name: str | None, candidates: set[str], what: str, whats: str) -> str:
    """The record type a verb works on: `name` if it has `what`, or the only one that has."""
    known = ", ".join(f"`{k}`" for k in sorted(candidates))
    if name is not None:
        if name not in candidates:
            hint = did_you_mean(name, candidates)
            raise RecordTypeError(
                f"no {what} for record `{name}` (records with one: {known or 'none'})"
                + (f"; {hint}" if hint else "")
            )
        return name
    if len(candidates) == 1:
        return next(iter(candidates))
    if not candidates:
        raise RecordTypeError(f"the policy has no {what}")
    raise RecordTypeError(f"the policy has {whats} for several records ({known}); choose one")


def _event(values: Mapping[str, Any]) -> tuple[dt.datetime, str, str | None]:
    # names and roles repeat across millions of events: one copy of each string (an event log of
    # a million cases is held in memory, grouped by case)
    role = values.get("role")
    return (
        values["at"].astimezone(dt.UTC),
        sys.intern(str(values["event"]).strip()),
        sys.intern(role) if isinstance(role, str) else role,
    )


def event_of(values: Mapping[str, Any], line: int) -> Event:
    """The event of a row `EventReader` read (its name stripped, its time in UTC)."""
    return Event(*_event(values), line=line)


EARLIER = "earlier than the case's previous event; events are sorted by time"  # V002


def event_notices(
    line: int, case: Any, ev: Event, known: Sequence[str], roles: Set[str]
) -> list[EventProblem]:
    """The notices of an event kept in the log: V001 a name no clause reads, V004 `escalated`
    to a role of no ladder (V002, earlier than the case's previous event, needs the log)."""
    out: list[EventProblem] = []
    if ev.name not in known:
        hint = did_you_mean(ev.name, known)
        out.append(
            EventProblem(
                line,
                case,
                "V001",
                f"unknown event `{ev.name}`"
                + (f"; {hint}" if hint else "")
                + " (kept, but no clause uses it)",
            )
        )
    if ev.name == "escalated" and ev.role not in roles:
        hint = did_you_mean(ev.role or "", roles)
        out.append(
            EventProblem(
                line,
                case,
                "V004",
                f"`escalated` to `{ev.role}`, a role of no ladder" + (f"; {hint}" if hint else ""),
            )
        )
    return out


def _utc(now: dt.datetime | None, tz: dt.tzinfo) -> dt.datetime | None:
    """`now` in UTC; a naive one is read on the policy zone's clock (`values.instant`: a time
    the clocks skip is a `ValueError`)."""
    if now is None:
        return None
    if not isinstance(now, dt.datetime):
        raise TypeError(f"`now` must be a datetime.datetime, not {type(now).__name__}")
    return instant(now, tz).astimezone(dt.UTC)


@attrs.frozen
class ExampleResult:
    example: ir.Example | ir.TranscriptExample
    passed: bool
    verdict: Verdict | None  # None when the example checks clocks or a transcript
    message: str
    transcript: TranscriptResult | None = None  # the result of a transcript example


class Policy:
    """A compiled policy."""

    def __init__(
        self, policy: ir.Policy, diagnostics: tuple[Diagnostic, ...], sources: dict[str, SourceFile]
    ) -> None:
        self.ir = policy
        self.diagnostics = diagnostics  # warnings only: a policy with errors never loads
        self.sources = sources
        self.tz: dt.tzinfo = (
            dt.UTC if policy.timezone == "UTC" else zoneinfo.ZoneInfo(policy.timezone)
        )
        self._validators: dict[str, Validator] = {v.record: Validator(v) for v in policy.validities}
        self._readers: dict[str, RecordReader] = {}
        self._builders: dict[str, TimelineBuilder] = {}
        self._checker: TranscriptChecker | None = None
        self._rule_checkers: dict[str, RuleChecker] = {}

    @property
    def name(self) -> str | None:
        return self.ir.name

    @property
    def version(self) -> str | None:
        return self.ir.version

    def record_type(self, name: str | None = None) -> str:
        """The record type to validate: `name`, or the only one with a validity block."""
        return _choose(name, set(self._validators), "validity block", "validity blocks")

    def reader(self, record: str | None = None) -> RecordReader:
        """A reader for a record type (by default the one with a validity block)."""
        name = record if record is not None and self.ir.record(record) else self.record_type(record)
        if name not in self._readers:
            rec = self.ir.record(name)
            assert rec is not None
            self._readers[name] = RecordReader(rec, self.tz)
        return self._readers[name]

    def validate(self, record: Mapping[str, Any], record_type: str | None = None) -> Verdict:
        """The verdict on one record (raw JSON-like values or Python ones)."""
        name = self.record_type(record_type)
        try:
            rid, values = self.reader(name).coerce(record)
        except RowError as exc:
            raise RecordError(exc) from None
        return self._validators[name](values, rid)

    def validate_values(
        self, values: Mapping[str, Any], record_type: str | None = None, record_id: Any = None
    ) -> Verdict:
        """The verdict on values already coerced (missing fields as None)."""
        return self._validators[self.record_type(record_type)](values, record_id)

    def matched_ids(self, values: Mapping[str, Any], record_type: str | None = None) -> list[str]:
        """Only the ids of the conditions that match values already coerced: the fast path for
        bulk runs that need no "why" (the same ids as `validate_values(...).matched`)."""
        return self._validators[self.record_type(record_type)].matched_ids(values)

    def validate_file(
        self, path: str | Path, record_type: str | None = None
    ) -> Iterator[ValidatedRow]:
        """Every row of a records file, with its verdict or its error.  Raises `InputError`."""
        name = self.record_type(record_type)
        validator = self._validators[name]
        row: Row
        for row in self.reader(name).read(str(path)):
            if row.values is None:
                yield ValidatedRow(row.line, row.id, None, row.error)
            else:
                yield ValidatedRow(row.line, row.id, validator(row.values, row.id), None)

    def timeline(
        self,
        record: Mapping[str, Any],
        events: Sequence[Mapping[str, Any]] = (),
        now: dt.datetime | None = None,
        record_type: str | None = None,
    ) -> Timeline:
        """Due times and their status for one record, given its events (IO.md shape)."""
        name = self._timeline_record(record_type)
        rid, values, evs = self._coerce_with_events(name, record, events)
        return self._builder(name).build(rid, values, evs, _utc(now, self.tz))

    def _coerce_with_events(
        self, name: str, record: Mapping[str, Any], events: Sequence[Mapping[str, Any]]
    ) -> tuple[Any, dict[str, Any], list[Event]]:
        """One record (raw JSON-like values) and its events, coerced; sorted by time."""
        try:
            rid, values = self.reader(name).coerce(record)
            reader = EventReader(self.tz)
            # the events are this record's: `case` may be left out
            evs = [
                Event(*_event(reader.coerce({"case": rid, **e})[1]), line=i)
                for i, e in enumerate(events, 1)
            ]
        except RowError as exc:
            raise RecordError(exc) from None
        evs.sort(key=lambda e: e.at)
        return rid, values, evs

    def _cases(
        self, name: str, records: str | Path, events: str | Path | None
    ) -> tuple[Iterator[tuple[Row, list[Event] | None, int | None]], list[EventProblem]]:
        """Every row of a records file with its case's events (None without an event log) and
        the line of an event of its case that could not be read (or None), and the event log's
        problems (read eagerly: events are grouped by case first; the cases no readable record
        has are added once the rows are read).  Raises `InputError`."""
        by_case, problems = (
            self.read_events(events, name) if events is not None else (EventLog(), [])
        )

        def rows() -> Iterator[tuple[Row, list[Event] | None, int | None]]:
            seen: set[str] = set()
            for row in self.reader(name).read(str(records)):
                key = id_key(row.id)
                if row.values is not None:
                    seen.add(key)
                mine = by_case.get(key, []) if events is not None else None
                yield row, mine, by_case.unreadable.get(key)
            problems.extend(unmatched_cases(by_case, seen))

        return rows(), problems

    def _timeline_record(self, name: str | None) -> str:
        with_clocks = {d.record for d in self.ir.deadlines} | {
            e.record for e in self.ir.escalations
        }
        return _choose(name, with_clocks, "deadline or escalation", "deadlines")

    def event_record(self, name: str | None = None) -> str:
        """The record type an event log is about: one with clocks or rules."""
        with_events = (
            {d.record for d in self.ir.deadlines}
            | {e.record for e in self.ir.escalations}
            | {r.record for r in self.ir.rules}
        )
        return _choose(name, with_events, "deadline, escalation or rule", "clocks or rules")

    def rule_record(self, name: str | None = None) -> str:
        """The record type whose rules to check: `name`, or the only one with rules."""
        return _choose(name, {r.record for r in self.ir.rules}, "rule", "rules")

    def rule_checker(self, record_type: str | None = None) -> RuleChecker:
        """The compiled rules of a record type (by default the only one with rules)."""
        name = self.rule_record(record_type)
        if name not in self._rule_checkers:
            self._rule_checkers[name] = RuleChecker([r for r in self.ir.rules if r.record == name])
        return self._rule_checkers[name]

    def check_rules(
        self,
        record: Mapping[str, Any],
        events: Sequence[Mapping[str, Any]] = (),
        now: dt.datetime | None = None,
        record_type: str | None = None,
    ) -> list[RuleResult]:
        """Each rule's result for one record (raw JSON-like values), given its events."""
        name = self.rule_record(record_type)
        _, values, evs = self._coerce_with_events(name, record, events)
        return self.rule_checker(name)(values, evs, _utc(now, self.tz))

    def rules_file(
        self,
        records: str | Path,
        events: str | Path | None = None,
        now: dt.datetime | None = None,
        record_type: str | None = None,
    ) -> tuple[Iterator[RulesRow], list[EventProblem]]:
        """Rule results for every row of a records file, with the events of an event log: the
        rows (lazily) and the event log's problems.  Raises `InputError`."""
        name = self.rule_record(record_type)
        checker = self.rule_checker(name)
        cases, problems = self._cases(name, records, events)
        moment = _utc(now, self.tz)

        def rows() -> Iterator[RulesRow]:
            for row, mine, unreadable in cases:
                if row.values is None:
                    yield RulesRow(row.line, row.id, None, row.error)
                else:
                    got = checker(row.values, mine, moment, unreadable)
                    yield RulesRow(row.line, row.id, tuple(got), None)

        return rows(), problems

    def _builder(self, record: str) -> TimelineBuilder:
        if record not in self._builders:
            self._builders[record] = TimelineBuilder(self.ir, record, self.tz)
        return self._builders[record]

    def timeline_file(
        self,
        records: str | Path,
        events: str | Path | None = None,
        now: dt.datetime | None = None,
        record_type: str | None = None,
    ) -> tuple[Iterator[TimelineRow], list[EventProblem]]:
        """Timelines for every row of a records file, with the events of an event log.

        Returns the rows (lazily) and the event log's problems (read eagerly: events are
        grouped by case before any timeline is built).  Raises `InputError`."""
        name = self._timeline_record(record_type)
        builder = self._builder(name)
        cases, problems = self._cases(name, records, events)
        moment = _utc(now, self.tz)

        def rows() -> Iterator[TimelineRow]:
            for row, mine, _ in cases:
                if row.values is None:
                    yield TimelineRow(row.line, row.id, None, row.error)
                else:
                    timeline = builder.build(row.id, row.values, mine or [], moment)
                    yield TimelineRow(row.line, row.id, timeline, None)

        return rows(), problems

    def event_vocabulary(self, names: Sequence[str]) -> tuple[tuple[str, ...], set[str]]:
        """The event names the clauses of record types `names` read (in the policy's order)
        and the roles of their ladders: an event outside them gets a notice (`event_notices`)."""
        known_names: dict[str, None] = {}
        roles: set[str] = set()
        for name in names:
            builder = self._builder(name)
            known_names.update(dict.fromkeys(builder.event_names()))
            known_names.update(
                dict.fromkeys(n for r in self.ir.rules if r.record == name for n in r.events)
            )
            roles |= {r for e in builder.escalations for r in e.roles}
        return tuple(known_names), roles

    def read_events(
        self, events: str | Path, record_type: str | Sequence[str] | None = None
    ) -> tuple[EventLog, list[EventProblem]]:
        """An event log grouped by case (`log[case]`: the case's events sorted by time), and the
        lines that were skipped or kept with a notice.  One log may hold the events of several
        record types (`record_type` a list of them): an event is known when a clause of any of
        them reads it.  Raises `InputError`."""
        names = (
            [self.event_record(record_type)]
            if record_type is None or isinstance(record_type, str)
            else [self.event_record(n) for n in record_type]
        )
        by_case = EventLog()
        problems: list[EventProblem] = []
        known, roles = self.event_vocabulary(names)
        for row in EventReader(self.tz).read(str(events)):
            if row.values is None:
                assert row.error is not None
                problems.append(EventProblem(row.line, row.id, row.error.code, row.error.message))
                if row.id is not None:  # its case is known: what it said is not
                    by_case.unreadable.setdefault(id_key(row.id), row.line)
                continue
            ev = event_of(row.values, row.line)
            problems += event_notices(row.line, row.id, ev, known, roles)
            if by_case.add(id_key(row.id), ev):
                problems.append(EventProblem(row.line, row.id, "V002", EARLIER))
        return by_case, problems

    # ---- metrics ----------------------------------------------------------------------------
    def measure(self, records: Mapping[str, Iterable[Mapping[str, Any]]]) -> list[MetricResult]:
        """Every metric, per group, over records given by type: `{"Call": [...], ...}` (raw
        JSON-like values; one that does not fit its type raises `RecordError`)."""
        from csdsl.metrics import MetricEngine

        engine = MetricEngine(self.ir.metrics, self.tz, self.ir.validities)
        for name, rows in records.items():
            reader = self.reader(name)
            for row in rows:
                try:
                    _, values = reader.coerce(row)
                except RowError as exc:
                    raise RecordError(exc) from None
                engine.feed(name, values)
        return engine.results()

    def measure_files(
        self, files: Mapping[str, str | Path]
    ) -> tuple[list[MetricResult], list[tuple[str, Row]]]:
        """Every metric over record files by type; also the rows that could not be read, with
        their file.  Raises `InputError` for a file that cannot be read."""
        from csdsl.metrics import MetricEngine

        engine = MetricEngine(self.ir.metrics, self.tz, self.ir.validities)
        bad: list[tuple[str, Row]] = []
        for name, path in files.items():
            for row in self.reader(name).read(str(path)):
                if row.values is None:
                    bad.append((str(path), row))
                else:
                    engine.feed(name, row.values)
        return engine.results(), bad

    # ---- transcripts ----------------------------------------------------------------------
    def transcript_checker(self) -> TranscriptChecker:
        """The policy's transcript rules, ready to run; `KeyError` if it has none."""
        if self.ir.transcript_rules is None:
            raise KeyError("the policy has no `transcript rules`")
        if self._checker is None:
            from csdsl.qa import TranscriptChecker

            self._checker = TranscriptChecker(self.ir.transcript_rules)
        return self._checker

    def check_transcript(self, transcript: Transcript | Mapping[str, Any]) -> TranscriptResult:
        """Findings and score of one transcript (a `Transcript`, or a mapping in the IO.md
        shape; one that does not fit raises `RecordError`)."""
        checker = self.transcript_checker()
        if not isinstance(transcript, Transcript):
            try:
                transcript = transcript_from(transcript, self.tz)
            except RowError as exc:
                raise RecordError(exc) from None
        return checker.check(transcript)

    def check_transcript_file(self, path: str | Path) -> Iterator[TranscriptRow]:
        """Every transcript of a `.jsonl`/`.json` file, with its result or its error.  Raises
        `InputError` for a file that cannot be read, `KeyError` without transcript rules."""
        checker = self.transcript_checker()
        for row in TranscriptReader(self.tz).read(str(path)):
            if row.values is None:
                yield TranscriptRow(row.line, row.id, None, row.error)
            else:
                yield TranscriptRow(row.line, row.id, checker.check(row.values["transcript"]), None)

    def run_examples(self) -> list[ExampleResult]:
        results = self._record_examples()
        results += [self._transcript_example(ex) for ex in self.ir.transcript_examples]
        results.sort(key=lambda r: (r.example.span.file, r.example.span.line))
        return results

    def _transcript_example(self, ex: ir.TranscriptExample) -> ExampleResult:
        turns = tuple(
            Turn(
                i,
                t.speaker,
                t.text,
                t.event,
                t.start,
                t.end,
                confidence=t.confidence,
                sentiment=t.sentiment,
            )
            for i, t in enumerate(ex.turns)
        )
        signals = None
        if ex.interruptions is not None:
            counted = ((x.role, Interruptions(x.count, x.seconds)) for x in ex.interruptions)
            signals = Signals(interruptions=tuple(counted))
        transcript = Transcript(ex.id or ex.title, turns, direction=ex.direction, signals=signals)
        result = self.transcript_checker().check(transcript)
        flagged = result.flagged
        problems = []
        for want in ex.expects:
            if want.kind == "score" and want.score is not None:
                if abs(result.score - want.score) > 1e-9:
                    problems.append(f"expected score {want.score:g}, got {result.score:g}")
            elif want.kind == "flags":
                missed = [g for g in want.rules if not flagged.intersection(g)]
                if missed:
                    problems.append("did not flag " + ", ".join(f"`{_group(g)}`" for g in missed))
            elif want.rules:
                wrong = sorted(flagged.intersection(r for g in want.rules for r in g))
                if wrong:
                    problems.append("flagged " + ", ".join(f"`{r}`" for r in wrong))
            elif flagged:
                problems.append("expected no findings")
        if problems:
            got = [f"{f.rule} (turn {f.turn}: {f.message})" for f in result.findings]
            problems[-1] += "; findings: " + ("; ".join(got) if got else "none")
            message = "; ".join(problems)
        else:
            message = f"score {result.score:g}, " + (
                "flags " + ", ".join(sorted(flagged)) if flagged else "no findings"
            )
        return ExampleResult(ex, not problems, None, message, result)

    def _metric_problems(self, ex: ir.Example, values: Mapping[str, Any]) -> list[str]:
        """An example's metrics over its records: each group's status must be the one expected.
        The example's events are its first record's; its other records have none (their clocks
        are pending, so a metric that counts decided clocks leaves them out)."""
        from csdsl.metrics import MetricEngine, clock_statuses

        wanted = {m.metric for m in ex.metrics}
        engine = MetricEngine(
            [m for m in self.ir.metrics if m.name in wanted], self.tz, self.ir.validities
        )
        clocked = {d.record for d in self.ir.deadlines} | {e.record for e in self.ir.escalations}

        def statuses(name: str, vals: Mapping[str, Any], events: list[Event]) -> Any:
            if name not in clocked:
                return None
            timeline = self._builder(name).build(ex.id or ex.title, vals, events, None)
            return clock_statuses(timeline.milestones)

        first = sorted(
            (
                Event(at.astimezone(dt.UTC), name, role, line=i)
                for i, (at, name, role) in enumerate(ex.events, 1)
            ),
            key=lambda e: e.at,
        )
        engine.feed(ex.record, values, statuses(ex.record, values, first))
        for name, more in ex.more:
            engine.feed(name, dict(more), statuses(name, dict(more), []))
        results = engine.results()
        problems = []
        for expected in ex.metrics:
            got = [r for r in results if r.metric.name == expected.metric]
            if not got:
                problems.append(f"`{expected.metric}`: no result over these records")
            elif any(r.status != expected.status for r in got):
                problems.append(
                    f"`{expected.metric}`: expected {expected.status}, got "
                    + "; ".join(_metric_result_text(r) for r in got)
                )
        return problems

    def _record_examples(self) -> list[ExampleResult]:
        results = []
        for ex in self.ir.examples:
            values = dict(ex.values)
            problems: list[str] = []
            said: list[str] = []
            verdict = None
            if ex.expect_valid is not None:
                verdict = self._validators[ex.record](values, ex.id or ex.title)
                problems += _verdict_problems(ex, verdict)
                fired = (*verdict.matched, *verdict.excepted)
                said.append(
                    ("valid" if verdict.valid else "invalid")
                    + (" because " + ", ".join(fired) if fired else "")
                )
            if ex.rules:
                events = sorted(
                    (
                        Event(at.astimezone(dt.UTC), name, role, line=i)
                        for i, (at, name, role) in enumerate(ex.events, 1)
                    ),
                    key=lambda e: e.at,
                )
                got = {r.rule: r for r in self.rule_checker(ex.record)(values, events, None)}
                for expected in ex.rules:
                    result = got[expected.rule]
                    if result.status != expected.status:
                        why = "; ".join(result.failed) or result.detail or "no require failed"
                        problems.append(
                            f"`{expected.rule}`: expected {expected.status}, "
                            f"got {result.status} ({why})"
                        )
                said.append(
                    f"{len(ex.rules)} rule expectation"
                    + ("s" if len(ex.rules) > 1 else "")
                    + " checked"
                )
            if ex.metrics:
                problems += self._metric_problems(ex, values)
                said.append(
                    f"{len(ex.metrics)} metric expectation"
                    + ("s" if len(ex.metrics) > 1 else "")
                    + f" checked over {1 + len(ex.more)} record"
                    + ("s" if ex.more else "")
                )
            if ex.clocks:
                events = sorted(
                    (
                        Event(at.astimezone(dt.UTC), name, role, line=i)
                        for i, (at, name, role) in enumerate(ex.events, 1)
                    ),
                    key=lambda e: e.at,
                )
                timeline = self._builder(ex.record).build(ex.id or ex.title, values, events, None)
                problems += [f"timeline: {e}" for e in timeline.errors]
                for want in ex.clocks:
                    problems += _clock_problems(want, timeline, self.tz)
                said.append(
                    f"{len(ex.clocks)} clock expectation"
                    + ("s" if len(ex.clocks) > 1 else "")
                    + " checked"
                )
            message = "; ".join(problems) if problems else "; ".join(said)
            results.append(ExampleResult(ex, not problems, verdict, message))
        return results


def _metric_result_text(r: Any) -> str:
    group = ", ".join(f"{k} {v}" for k, v in r.group)
    text = r.status + (f" for {group}" if group else "")
    if r.reason:
        return f"{text} ({r.reason})"
    value = r.to_json()["value"]
    return f"{text} (value {value} {r.metric.op} {r.to_json()['threshold']})"


def _group(rules: tuple[str, ...]) -> str:
    """How an expectation's rule group was written: a rule id, or a situation's name."""
    if len(rules) == 1:
        return rules[0]
    return rules[0].split(".")[0]


def _verdict_problems(ex: ir.Example, verdict: Verdict) -> list[str]:
    problems = []
    expected = "valid" if ex.expect_valid else "invalid"
    got = "valid" if verdict.valid else "invalid"
    fired = (*verdict.matched, *verdict.excepted)
    if verdict.valid != ex.expect_valid:
        problems.append(f"expected {expected}, got {got}")
    if ex.because is not None and set(ex.because) != set(fired):
        missing = [c for c in ex.because if c not in fired]
        extra = [c for c in fired if c not in ex.because]
        if missing:
            problems.append("did not match " + ", ".join(f"`{c}`" for c in missing))
        if extra:
            problems.append("also matched " + ", ".join(f"`{c}`" for c in extra))
    if problems:
        problems[-1] += " (matched: " + (", ".join(fired) if fired else "nothing") + ")"
    return problems


def _clock_problems(want: ir.ClockExpectation, timeline: Timeline, tz: dt.tzinfo) -> list[str]:
    if want.escalation:
        found = [m for m in timeline.milestones if m.kind == "escalation" and m.owner == want.clock]
        name = f"escalation to `{want.clock}`"
    else:
        cycle = want.cycle or 1
        found = [
            m
            for m in timeline.milestones
            if m.kind == "deadline" and m.clause == want.clock and m.cycle == cycle
        ]
        name = f"`{want.clock}`" + (f" cycle {cycle}" if want.cycle else "")
    if not found:
        return [f"{name}: no such milestone in the timeline"]
    m = found[0]
    problems = []
    if m.status != want.status:
        problems.append(f"{name}: expected {want.status}, got {m.status} ({m.message})")
    if want.due is not None and m.due != want.due:
        got = m.due.astimezone(tz).isoformat() if m.due is not None else "no due time"
        problems.append(f"{name}: expected due {want.due.astimezone(tz).isoformat()}, got {got}")
    return problems


def unmatched_cases(by_case: Mapping[str, list[Event]], seen: Set[str]) -> list[EventProblem]:
    """V003 for each case of an event log that no readable record has."""
    return [unmatched_case(case, by_case[case][0].line) for case in sorted(set(by_case) - seen)]


def unmatched_case(case: str, line: int) -> EventProblem:
    """V003 for a case of an event log that no readable record has (`line`: its first event
    by time)."""
    return EventProblem(
        line, case, "V003", f"events for case `{case}`, which is not among the readable records"
    )


def _must_be_a_file(path: str | Path) -> None:
    """`FileNotFoundError` / `IsADirectoryError` / `OSError` naming `path`, before compiling
    (a diagnostic at an invented `path:1:1` would read as a problem inside the file)."""
    if not isinstance(path, str | Path):
        raise TypeError(f"csdsl.load takes the path of a policy file, not {type(path).__name__}")
    p = Path(path)
    if p.is_file():
        return
    if p.is_dir():
        raise IsADirectoryError(errno.EISDIR, "is a directory, not a policy file", str(path))
    if p.exists():
        raise OSError(errno.EINVAL, "is not a regular file (a device, FIFO or socket)", str(path))
    raise FileNotFoundError(errno.ENOENT, "no such policy file", str(path))


def load(path: str | Path, *, cache: bool = False) -> Policy:
    """Compile a policy file; raises `PolicyError` (with every diagnostic) when it has errors,
    `FileNotFoundError` (or another `OSError`) when `path` is not a policy file to read.

    With `cache`, a compilation of the same unchanged files is reused (`csdsl.cache`): the parser
    is then not even imported."""
    from csdsl import cache as cached

    _must_be_a_file(path)
    if cache and (entry := cached.lookup(path)) is not None:
        return Policy(entry.policy, entry.diagnostics, entry.sources)
    from csdsl.check import compile_file  # lark and the checker: only when compiling

    compiled = compile_file(path)
    if not compiled.ok or compiled.policy is None:
        raise PolicyError(compiled.diagnostics, compiled.sources)
    if cache:
        cached.store(path, compiled.files, compiled.policy, compiled.diagnostics, compiled.sources)
    return Policy(compiled.policy, compiled.diagnostics, compiled.sources)

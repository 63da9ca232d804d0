"""The event log read by DuckDB (`csdsl.duck_events`) against the Python reader
(`Policy.read_events`): hostile lines keep their codes, messages and lines, the notices and the
audit's report are the same on `--engine duckdb` as on `--engine python`, and the duckdb engine
builds Python `Event`s only for the cases Python judges or the report shows."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import csdsl
from csdsl.api import Policy, unmatched_cases
from csdsl.duck import DuckEngine
from csdsl.duck_events import DuckEvents, read_duck_events
from csdsl.records import InputError
from csdsl.timeline import EventLog

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
AT = "2024-10-29T10:00:00+08:00"


def _line(**kv: Any) -> str:
    return json.dumps(kv, ensure_ascii=False)


# lines an export may hold: good ones, and every way a line can be wrong or unusual
HOSTILE = [
    _line(case="C-20241029-0001", at=AT, event="replied", role="agent"),
    _line(case="C-20241029-0001", at="2024-10-29T09:00:00+08:00", event="replied"),  # V002
    _line(case="C-20241029-0002", at="2024-10-29T10:00", event="replied"),  # no offset
    _line(case="C-20241029-0002", at="2024-10-29 10:00:00", event="replied"),
    _line(case="C-20241029-0002", at="20241029T100000Z", event="replied"),
    _line(case="C-20241029-0002", at="2024-10-29T10:00:00.123456Z", event="replied"),
    _line(case="C-20241029-0003", at="1900-01-01T00:00:00", event="replied"),
    _line(case="C-20241029-0003", at="9999-12-31T23:59:59+00:00", event="replied"),
    _line(case="C-20241029-0003", at="yesterday", event="replied"),
    _line(case="C-20241029-0003", at=1730167200, event="replied"),
    _line(case="C-20241029-0003", at=None, event="replied"),
    _line(case="C-20241029-0004", at=AT, event=5),
    _line(case="C-20241029-0004", at=AT, event="   "),
    _line(case="C-20241029-0004", at=AT, event=" replied "),
    _line(case="C-20241029-0004", at=AT, event="repleid"),  # V001, did you mean
    _line(case="C-20241029-0004", at=AT, event="acknowledged"),
    _line(case="C-20241029-0004", at=AT, event="escalated"),  # V004: no role
    _line(case="C-20241029-0004", at=AT, event="escalated", role="boss"),
    _line(case="C-20241029-0004", at=AT, event="escalated", role="team_lead"),
    _line(case="C-20241029-0004", at=AT, event="replied", role=7),
    _line(case="C-20241029-0004", at=AT, event="replied", role=""),
    _line(case="C-20241029-0004", at=AT, event="\u200breplied"),
    _line(at=AT, event="replied"),
    _line(case=None, at=AT, event="replied"),
    _line(case="  ", at=AT, event="replied"),
    _line(case=True, at=AT, event="replied"),
    _line(case=1.0, at=AT, event="replied"),
    _line(case=1, at=AT, event="replied"),
    _line(case=1.5, at=AT, event="replied"),
    _line(case=["C-20241029-0001"], at=AT, event="replied"),
    _line(case="\u200b", at=AT, event="replied"),
    _line(case=" C-20241029-0005 ", at=AT, event="replied"),
    _line(case="客户-1", at=AT, event="replied"),
    '{"case": -0, "at": "' + AT + '", "event": "replied"}',
    '{"case": 123456789012345678901234567890, "at": "' + AT + '", "event": "replied"}',
    '{"case": 1e400, "at": "' + AT + '", "event": "replied"}',
    '{"case": 12345678901234567, "at": "' + AT + '", "event": "replied"}',
    '{"case": "C-20241029-0006", "case": "C-20241029-0007", "at": "'
    + AT
    + '", "event": "replied"}',
    '{"case": "C-20241029-0006", "at": "' + AT + '", "event": "replied", "x": NaN}',
    '{"case": "C-20241029-0006", "at": "' + AT + '", "event": "replied",}',
    '{"case": "C-20241029-0006", "at": "' + AT + '", "event": "repl\\u0069ed"}',
    '{"case": "\\ud800", "at": "' + AT + '", "event": "replied"}',
    '{"case": "C-20241029-0006", "at": "'
    + AT
    + '", "event": "replied", "x": '
    + "[" * 150
    + "]" * 150
    + "}",
    '{"case": "C-20241029-0006", "at": "' + AT + '", "event": "replied", "x": ' + "1" * 1200 + "}",
    '{"case": "C-20241029-0006", "at": "' + AT + '", "event": "replied", "note": "extra"}',
    '{"case": "C-20241029-0001", "at": ',
    "[1, 2]",
    '"just text"',
    "null",
    "",
    "   ",
    "\t",
    "{}",
]


def _write(path: Path, lines: list[str], *, bom: bool = False, crlf: bool = False) -> Path:
    end = "\r\n" if crlf else "\n"
    text = end.join(lines) + end
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8", "surrogatepass"))
    return path


@pytest.fixture(scope="module")
def hotline() -> Policy:
    return csdsl.load(ROOT / "policies" / "hotline.csp")


@pytest.fixture(scope="module")
def engine(hotline: Policy) -> Iterator[DuckEngine]:
    with DuckEngine(hotline) as e:
        yield e


def _duck(engine: DuckEngine, policy: Policy, path: Path) -> DuckEvents | None:
    known, roles = policy.event_vocabulary([policy.event_record(None)])
    return read_duck_events(engine.tables, policy.tz, str(path), known, roles)


def _same_log(engine: DuckEngine, policy: Policy, path: Path) -> None:
    """The DuckDB log equals the Python one: events, problems, unreadable cases, V003."""
    log, problems = policy.read_events(path)
    duck = _duck(engine, policy, path)
    if duck is None:  # the pre-scan sends the file to Python whole (`duck_scan`)
        data = path.read_bytes()
        assert b"\x00" in data or data.count(b"\r") != data.count(b"\r\n")
        return
    try:
        assert duck.events == log.events
        assert duck.latest == log.latest
        assert duck.unreadable == log.unreadable
        listed, total = duck.problems(len(problems) + 1)
        assert total == len(problems)
        assert listed == problems
        shown, total = duck.problems(3)
        assert shown[:3] == problems[:3]
        assert sorted(duck) == sorted(log)
        assert all(duck[k] == log[k] for k in log)
        seen = set(sorted(log)[::2])
        assert duck.unmatched(seen) == unmatched_cases(log, seen)
    finally:
        duck.close()


@pytest.mark.parametrize(("bom", "crlf"), [(False, False), (True, False), (False, True)])
def test_hostile_lines_read_as_python_reads_them(
    engine: DuckEngine, hotline: Policy, tmp_path: Path, bom: bool, crlf: bool
) -> None:
    path = _write(tmp_path / "events.jsonl", HOSTILE, bom=bom, crlf=crlf)
    _same_log(engine, hotline, path)


def test_the_plain_lines_are_read_by_sql(
    engine: DuckEngine, hotline: Policy, tmp_path: Path
) -> None:
    path = _write(tmp_path / "events.jsonl", [*HOSTILE[:3], "", "   "])
    before = engine.fallback_rows
    _same_log(engine, hotline, path)
    assert engine.fallback_rows == before  # (the whitespace lines too: SQL skips them)


_fields = st.fixed_dictionaries(
    {},
    optional={
        "case": st.one_of(
            st.sampled_from(["C-1", "C-2", " C-1", "", "  ", "客"]),
            st.integers(-3, 3),
            st.sampled_from([1.0, 2.5, True, None]),
        ),
        "at": st.one_of(
            st.sampled_from(
                [AT, "2024-10-29T09:00", "2024-10-30 08:00:00Z", "bad", "2024-02-30T00:00"]
            ),
            st.integers(0, 2),
            st.none(),
        ),
        "event": st.one_of(
            st.sampled_from(["replied", "escalated", " replied", "acknowledged", "", "x"]),
            st.integers(0, 1),
        ),
        "role": st.one_of(st.sampled_from(["agent", "team_lead", "boss", ""]), st.none()),
        "note": st.text(max_size=3),
    },
)
_lines = st.one_of(
    _fields.map(lambda d: json.dumps(d, ensure_ascii=False)),
    st.sampled_from(HOSTILE),
    st.text(max_size=8).filter(lambda t: "\n" not in t and "\r" not in t),
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(lines=st.lists(_lines, max_size=25), bom=st.booleans())
def test_any_event_log_reads_as_python_reads_it(
    engine: DuckEngine, hotline: Policy, tmp_path: Path, lines: list[str], bom: bool
) -> None:
    path = _write(tmp_path / "events.jsonl", lines, bom=bom)
    _same_log(engine, hotline, path)


def _report(engine: str, events: Path, records: Path, now: str | None = None) -> dict[str, Any]:
    policy = csdsl.load(ROOT / "policies" / "hotline.csp")
    report = csdsl.audit(
        policy, records={"Complaint": records}, events=events, engine=engine, now=now
    )
    data = dict(report.data)
    for key in ("generated_at", "engine", "provenance"):
        data.pop(key)
    data["timelines"] = {k: v for k, v in data["timelines"].items() if k != "computed_by"}
    data["kept"] = [json.dumps(f, sort_keys=True, ensure_ascii=False) for f in report.findings]
    return data


@pytest.mark.parametrize("bom", [False, True])
def test_a_hostile_log_gives_the_same_report_on_both_engines(tmp_path: Path, bom: bool) -> None:
    good = (EXAMPLES / "complaint_events.jsonl").read_text(encoding="utf-8").splitlines()
    lines = good[:200] + HOSTILE + good[200:400]
    events = _write(tmp_path / "events.jsonl", lines, bom=bom)
    records = EXAMPLES / "complaints.jsonl"
    python = _report("python", events, records)
    duck = _report("duckdb", events, records)
    assert duck == python
    assert duck["bad_rows"]["total"] > 10  # the hostile lines were bad rows indeed


def test_an_event_log_that_is_not_utf8_fails_alike(tmp_path: Path) -> None:
    events = tmp_path / "events.jsonl"
    events.write_bytes(HOSTILE[0].encode() + b"\n" + b'{"case": "\xff"}\n')
    policy = csdsl.load(ROOT / "policies" / "hotline.csp")
    errors = []
    for engine in ("python", "duckdb"):
        with pytest.raises(InputError) as exc:
            csdsl.audit(
                policy,
                records={"Complaint": EXAMPLES / "complaints.jsonl"},
                events=events,
                engine=engine,
            )
        errors.append(str(exc.value))
    assert errors[0] == errors[1]


def test_the_duckdb_engine_builds_events_only_for_the_cases_python_reads() -> None:
    """Python `Event`s only for the cases the report's case view shows (the clocks read the
    events table): fails if the engine builds the whole log in Python, as it did."""
    added: list[str] = []
    add = EventLog.add

    def counted(self: EventLog, case: str, event: Any) -> bool:
        added.append(case)
        return add(self, case, event)

    policy = csdsl.load(ROOT / "policies" / "hotline.csp")
    events = EXAMPLES / "complaint_events.jsonl"
    by_engine = {}
    for engine in ("python", "duckdb"):
        added.clear()
        with mock.patch.object(EventLog, "add", counted):
            report = csdsl.audit(
                policy,
                records={"Complaint": EXAMPLES / "complaints.jsonl"},
                events=events,
                engine=engine,
            )
        by_engine[engine] = (len(added), set(added), report.data)
    n_python, _, data = by_engine["python"]
    assert n_python == data["timelines"]["events"]  # the python engine holds the whole log
    n_duck, cases, data = by_engine["duckdb"]
    assert data["timelines"]["computed_by"]["cases_handed_to_python"] == 0
    shown = {str(c["record"]) for c in data["cases"]["items"]}
    assert cases <= shown
    assert n_duck < n_python / 3

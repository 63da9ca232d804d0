"""Timelines in SQL (`csdsl.sql.timelines.SqlTimelines`) give `TimelineBuilder`'s milestones:
on generated policies, records, event logs and `now` (`timeline_strategies.py`), on DuckDB and,
with a smaller budget, on a local Spark; and on the bundled examples under the hotline policy.

Compared per record, in order: each milestone's clause, kind, owner, cycle, due, status, deciding
time, `late_by` and message, and the timeline's errors (not the provenance)."""

from __future__ import annotations

import contextlib
import datetime as dt
import importlib
import importlib.util
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any
from unittest.mock import patch

import duckdb
import pytest
from hypothesis import HealthCheck, example, given, settings
from test_spark import spark  # noqa: F401  (the session's local Spark, skipped without one)
from timeline_strategies import (
    RECORD,
    RECORD_DECL,
    TimelineCase,
    cases,
    compiled,
    events_of,
    expected,
    rows_of,
)

import csdsl
from csdsl.records import id_key
from csdsl.timeline import Event, Timeline, TimelineBuilder

ROOT = Path(__file__).resolve().parents[1]
EX = ROOT / "examples"
HOTLINE = ROOT / "policies" / "hotline.csp"
UTC = dt.UTC
SETTINGS = settings(
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def sql_timelines() -> Any:
    """`csdsl.sql.timelines` (the tests skip while there is no such module; one that fails to
    import fails them)."""
    if importlib.util.find_spec("csdsl.sql.timelines") is None:
        pytest.skip("there is no csdsl.sql.timelines yet")
    return importlib.import_module("csdsl.sql.timelines")


Shape = tuple[tuple[tuple[Any, ...], ...], tuple[str, ...]]


def _utc(t: dt.datetime | None) -> dt.datetime | None:
    return None if t is None else t.astimezone(UTC)


def shape(t: Timeline) -> Shape:
    """What must agree: the milestones in order (times as instants) and the errors."""
    return (
        tuple(
            (
                m.clause,
                m.kind,
                m.owner,
                m.cycle,
                _utc(m.due),
                m.status,
                _utc(m.at),
                m.late_by,
                m.message,
            )
            for m in t.milestones
        ),
        tuple(t.errors),
    )


def differences(got: Mapping[str, Timeline], want: Mapping[str, Timeline]) -> list[str]:
    """Each record whose SQL timeline differs from the builder's, with the first milestone
    that differs (expected, then got), or the errors."""
    out = []
    if set(got) != set(want):
        out.append(f"records: expected {sorted(want)}, got {sorted(got)}")
    for key in sorted(set(got) & set(want)):
        (gm, ge), (wm, we) = shape(got[key]), shape(want[key])
        if gm != wm:
            i = next((i for i, (g, w) in enumerate(zip(gm, wm, strict=False)) if g != w), None)
            if i is None:
                out.append(f"{key}: expected {len(wm)} milestones, got {len(gm)}: {wm} / {gm}")
            else:
                out.append(
                    f"{key}: milestone {i}: expected {wm[i]}\n{' ' * len(key)}    got {gm[i]}"
                )
        if ge != we:
            out.append(f"{key}: errors: expected {we}, got {ge}")
    return out


def agree(got: Mapping[str, Timeline], want: Mapping[str, Timeline], what: str) -> None:
    diffs = differences(got, want)
    assert not diffs, what + "\n" + "\n".join(diffs)


def _on_duckdb(
    st_: Any,
    rows: Sequence[tuple[Any, Mapping[str, Any]]],
    events: Mapping[str, Sequence[Event]],
    now: dt.datetime | None,
) -> dict[str, Timeline]:
    con = duckdb.connect()
    try:
        got: dict[str, Timeline] = st_.run_duckdb(con, rows, events, now)
    finally:
        con.close()
    return got


@contextlib.contextmanager
def builds_counted() -> Iterator[list[Any]]:
    """Within: every record `TimelineBuilder.build` judges (its id), as a list."""
    built: list[Any] = []
    build = TimelineBuilder.build

    def counted(self: TimelineBuilder, record_id: Any, *args: Any, **kwargs: Any) -> Timeline:
        built.append(record_id)
        return build(self, record_id, *args, **kwargs)

    with patch.object(TimelineBuilder, "build", counted):
        yield built


def check_case(
    case: TimelineCase, engine: str = "duckdb", spark_session: Any = None, in_sql: bool = False
) -> None:
    """Run a generated case on `engine` and compare with the builder; with `in_sql`, also
    check that SQL judged every record itself (no clause and no case handed to Python)."""
    policy = compiled(case.text)
    st_ = sql_timelines().SqlTimelines(policy.ir, RECORD, policy.tz)
    if in_sql:
        assert st_.python == {}, f"clauses left to Python: {st_.python}\n{case!r}"
    rows, events = rows_of(policy, case), events_of(case)
    want = expected(policy, rows, events, case.now)
    with builds_counted() as built:
        if engine == "duckdb":
            got = _on_duckdb(st_, rows, events, case.now)
        else:
            try:
                run = st_.run_spark
            except AttributeError:
                pytest.skip("SqlTimelines has no run_spark yet")
            got = run(spark_session, rows, events, case.now)
    agree(got, want, f"{engine} disagrees with TimelineBuilder (python: {st_.python}) on\n{case!r}")
    if in_sql:
        assert not built, f"records handed to Python: {built}\n{case!r}"


# ---- generated cases --------------------------------------------------------------------------
def _found(
    clauses: str,
    received: str,
    log: Sequence[tuple[str, str]] = (),
    **values: str,
) -> TimelineCase:
    """A case Hypothesis found, written out: one `Complaint` received at `received` (with
    `values` for its other fields), a calendar `office`, the deadline `reply` with `clauses`
    (separated by `;`), and events of that case."""
    text = (
        'policy "found" timezone "Asia/Shanghai"\n\n'
        + RECORD_DECL
        + "\ncalendar office {\n  open mon-fri 09:00-12:00, 13:30-18:00\n}\n\n"
        + "deadline reply for Complaint {\n  starts at received_at\n  stops on replied\n"
        + "".join(f"  {c}\n" for c in clauses.split(";"))
        + "}\n"
    )
    events = tuple(("C-1", dt.datetime.fromisoformat(at), name, None) for at, name in log)
    record = {"id": "C-1", "received_at": received, **values}
    return TimelineCase(text, (record,), events, None, True)


# received at midnight after a closed weekend, before the first open interval of the calendar
# table SQL builds for the data
FIRST_INSTANT = _found("within 1h;at most 2 working hours on office", "2024-01-01T00:00+08:00")
# a clock stopped 90 days after its start, with updates in working time: the update points
# SQL lists (by the elapsed time, up to 200) run past the calendar table it builds
LONG_UPDATES = _found(
    "within 2h;update every 8 working hours on office with progress_update",
    "2024-03-01T09:00+08:00",
    [("2024-05-30T09:00+08:00", "replied")],
)

# a warning at an inexact fraction (10% is 3602879701896397 / 2**55) of a target read from a
# field: Spark's DECIMAL(38, 0) product overflows (ARITHMETIC_OVERFLOW under ANSI mode)
FIELD_WARNING = _found(
    "within agreed_wait;warn at 10%", "2024-03-01T09:00+08:00", agreed_wait="PT4H"
)
# updates every 30 minutes of a clock that ran three hours: on Spark the period in microseconds
# (1800000000, an INT) times the point's number (an INT) overflows at the second point
SHORT_UPDATES = _found(
    "within 2h;update every 30m with progress_update",
    "2024-03-01T09:00+08:00",
    [("2024-03-01T12:00+08:00", "replied")],
)


@settings(SETTINGS, max_examples=60)
@given(cases())
def test_sql_timelines_agree_with_the_builder_on_generated_cases(case: TimelineCase) -> None:
    """Any mix of clocks (working days, `next working day`, two pause kinds and `continue`
    included, whichever of them the SQL leaves to Python): the same milestones and errors."""
    check_case(case)


@settings(SETTINGS, max_examples=40)
@given(cases(family=True))
@example(FIRST_INSTANT)
@example(LONG_UPDATES)
def test_the_sql_family_runs_in_sql_and_agrees(case: TimelineCase) -> None:
    """Starts at a field or on an event, a stop, one pause kind, natural or working-hour
    targets, `by` / `within` a field, caps, warnings, updates, `new cycle` reopening and ladders:
    every clause runs in SQL and every record is judged by SQL (none is handed to Python per
    case: the data stay inside the years and datetimes SQL holds), and agrees."""
    check_case(case, in_sql=True)


@pytest.mark.spark
@settings(SETTINGS, max_examples=8)
@given(case=cases())
@example(case=FIELD_WARNING)
@example(case=SHORT_UPDATES)
def test_sql_timelines_agree_with_the_builder_on_spark(spark: Any, case: TimelineCase) -> None:  # noqa: F811
    check_case(case, "spark", spark)


# ---- the bundled examples ---------------------------------------------------------------------
NOWS = [None, dt.datetime(2024, 12, 1, tzinfo=dt.timezone(dt.timedelta(hours=8)))]


@pytest.fixture(scope="module")
def bundled() -> Iterator[tuple[csdsl.Policy, list[tuple[Any, Any]], dict[str, list[Event]]]]:
    """The hotline policy, the example complaints (the readable ones: (id, values)) and their
    events, read as `csdsl timeline` reads them."""
    policy = csdsl.load(HOTLINE)
    rows = [
        (row.id, row.values)
        for row in policy.reader(RECORD).read(str(EX / "complaints.jsonl"))
        if row.values is not None
    ]
    log, _ = policy.read_events(EX / "complaint_events.jsonl", RECORD)
    events = {case: log[case] for case in log}
    yield policy, rows, events


def _bundled_want(
    policy: csdsl.Policy,
    rows: list[tuple[Any, Any]],
    events: dict[str, list[Event]],
    now: dt.datetime | None,
) -> dict[str, Timeline]:
    assert len(rows) > 200 and sum(map(len, events.values())) > 800  # the examples are there
    want = expected(policy, rows, events, now)
    assert {id_key(rid) for rid, _ in rows} == set(want)
    return want


@pytest.mark.parametrize("now", NOWS, ids=["no-now", "now"])
def test_the_bundled_examples_agree_on_duckdb(
    bundled: tuple[csdsl.Policy, list[tuple[Any, Any]], dict[str, list[Event]]],
    now: dt.datetime | None,
) -> None:
    policy, rows, events = bundled
    st_ = sql_timelines().SqlTimelines(policy.ir, RECORD, policy.tz)
    moment = _utc(now)
    want = _bundled_want(policy, rows, events, moment)
    agree(_on_duckdb(st_, rows, events, moment), want, f"the bundled examples, now={now}")


@pytest.mark.spark
@pytest.mark.parametrize("now", NOWS, ids=["no-now", "now"])
def test_the_bundled_examples_agree_on_spark(
    spark: Any,  # noqa: F811
    bundled: tuple[csdsl.Policy, list[tuple[Any, Any]], dict[str, list[Event]]],
    now: dt.datetime | None,
) -> None:
    policy, rows, events = bundled
    st_ = sql_timelines().SqlTimelines(policy.ir, RECORD, policy.tz)
    try:
        run = st_.run_spark
    except AttributeError:
        pytest.skip("SqlTimelines has no run_spark yet")
    moment = _utc(now)
    want = _bundled_want(policy, rows, events, moment)
    agree(run(spark, rows, events, moment), want, f"the bundled examples on spark, now={now}")

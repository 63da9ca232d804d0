"""`csdsl audit --engine duckdb` judges the clocks in SQL (`csdsl.sql.timelines`), a chunk of
records at a time: its report and findings must be the Python engine's, whatever the data.

Each test audits small generated files with both engines, `CLOCK_CHUNK` small so that chunk
boundaries are crossed, and compares report.json (apart from `generated_at`, `engine` and
`timelines.computed_by`) and findings.jsonl as a sorted set."""

from __future__ import annotations

import datetime as dt
import json
import random
from pathlib import Path
from typing import Any

import pytest

import csdsl
import csdsl.auditor

ROOT = Path(__file__).resolve().parents[1]
EX = ROOT / "examples"
CST = dt.timezone(dt.timedelta(hours=8))

RECORD = """record R { at: datetime?, p: datetime?, d: duration?, n: int?, kind: text? }
valid R when all { small "n small": n < 5 }
"""


def _policy(tmp_path: Path, name: str, text: str, effective: str = "2024-10-01") -> Path:
    path = tmp_path / name
    header = f'policy "p" version "{name}" effective {effective} timezone "Asia/Shanghai"\n'
    path.write_text(header + RECORD + text, encoding="utf-8")
    return path


def _lines(tmp_path: Path, name: str, rows: list[Any]) -> Path:
    path = tmp_path / name
    text = "".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows)
    path.write_text(text, encoding="utf-8")
    return path


def _run(
    tmp_path: Path,
    engine: str,
    policies: list[Path],
    records: Any,
    events: Path,
    now: dt.datetime | None,
) -> tuple[dict[str, Any], list[str]]:
    out = tmp_path / f"out-{engine}"
    report = csdsl.audit(
        [csdsl.load(p) for p in policies],
        records=records,
        events=events,
        engine=engine,
        now=now,
        out=out,
    )
    assert report.data["engine"] == engine
    data = json.loads((out / "report.json").read_text(encoding="utf-8"))
    for key in ("generated_at", "engine"):
        data.pop(key)
    if data.get("timelines"):
        data["timelines"].pop("computed_by")
    findings = sorted((out / "findings.jsonl").read_text(encoding="utf-8").splitlines())
    return data, findings


def _agree(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    policies: list[Path],
    records: Any,
    events: Path,
    now: dt.datetime | None = None,
    chunk: int = 2,
) -> dict[str, Any]:
    """Audit with both engines; assert they agree; the duckdb engine's `computed_by`."""
    monkeypatch.setattr(csdsl.auditor, "CLOCK_CHUNK", chunk)
    python = _run(tmp_path, "python", policies, records, events, now)
    out = tmp_path / "out-duckdb"
    duck = _run(tmp_path, "duckdb", policies, records, events, now)
    assert duck[0] == python[0]
    assert duck[1] == python[1]
    data = json.loads((out / "report.json").read_text(encoding="utf-8"))
    computed_by: dict[str, Any] = data["timelines"]["computed_by"]
    assert computed_by["engine"] == "duckdb"
    return computed_by


NOWS = [None, dt.datetime(2024, 11, 20, tzinfo=dt.UTC)]


@pytest.mark.parametrize("now", NOWS)
def test_versions_with_different_deadlines(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, now: dt.datetime | None
) -> None:
    v1 = _policy(
        tmp_path,
        "v1.csp",
        "deadline reply for R {\n  starts at at\n  stops on replied\n  within 2h\n"
        "  warn at 50%\n}\n",
    )
    v2 = _policy(
        tmp_path,
        "v2.csp",
        "deadline reply for R {\n  starts at at\n  stops on replied\n  within 1h\n}\n"
        "deadline other for R {\n  starts on opened\n  stops on closed\n  within 30m\n}\n",
        effective="2024-11-01",
    )
    records = _lines(
        tmp_path,
        "r.jsonl",
        [
            {"id": 1, "at": "2024-10-30T09:00:00+08:00"},
            {"id": 2, "at": "2024-11-02T09:00:00+08:00"},
            {"id": 3, "at": "2024-10-31T23:30:00+08:00"},
            {"id": 4, "at": "2024-11-01T00:30:00+08:00"},
            {"id": 5, "at": "2024-11-03T09:00:00+08:00"},
        ],
    )
    events = _lines(
        tmp_path,
        "e.jsonl",
        [
            {"case": 1, "at": "2024-10-30T10:30:00+08:00", "event": "replied"},
            {"case": 2, "at": "2024-11-02T10:30:00+08:00", "event": "replied"},
            {"case": 3, "at": "2024-11-01T01:00:00+08:00", "event": "replied"},
            {"case": 4, "at": "2024-11-01T01:00:00+08:00", "event": "opened"},
            {"case": 4, "at": "2024-11-01T02:00:00+08:00", "event": "closed"},
            {"case": 4, "at": "2024-11-01T03:00:00+08:00", "event": "replied"},
            {"case": 5, "at": "2024-11-03T09:10:00+08:00", "event": "opened"},
        ],
    )
    where = _agree(tmp_path, monkeypatch, [v2, v1], records, events, now)
    assert where["sql"] == ["reply", "other"] and where["python"] == {}


@pytest.mark.parametrize("now", NOWS)
def test_repeated_ids_missing_starts_bad_rows_and_odd_events(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, now: dt.datetime | None
) -> None:
    policy = _policy(
        tmp_path,
        "p.csp",
        "deadline reply for R {\n  starts at at\n  stops on replied\n"
        "  pauses on waiting resumes on back\n  within 2h\n  warn at 50%\n"
        "  update every 30m with progress\n  reopens on again new cycle until done\n}\n"
        "escalation ladder for R {\n  roles agent -> lead -> boss\n"
        "  agent -> lead on breach of reply within 30m\n  lead -> boss after 1h\n}\n",
    )
    records = _lines(
        tmp_path,
        "r.jsonl",
        [
            {"id": 1, "at": "2024-10-30T09:00:00+08:00", "n": 1},
            {"id": 1, "at": "2024-10-30T12:00:00+08:00", "n": 2},  # repeated in its chunk
            {"id": 2, "at": "2024-10-30T09:00:00+08:00"},
            {"id": 3, "n": 3},  # no start
            "not json",
            {"id": 4, "at": "not a date"},
            {"id": 2, "at": "2024-10-30T07:00:00+08:00", "n": 9},  # repeated across chunks
            {"id": 5, "at": "2024-10-30T09:00:00+08:00"},
            {"id": 6, "at": None},
            {"id": 5, "at": "2024-10-30T09:30:00+08:00"},
            {"id": 7, "at": "2024-10-30T09:00:00+08:00"},
            {"id": "7", "at": "2024-10-30T10:00:00+08:00"},
            {"id": 8.0, "at": "2024-10-30T10:00:00+08:00"},
            {"at": "2024-10-30T10:00:00+08:00"},
        ],
    )
    events = _lines(
        tmp_path,
        "e.jsonl",
        [
            {"case": 1, "at": "2024-10-30T08:00:00+08:00", "event": "replied"},  # before start
            {"case": 1, "at": "2024-10-30T13:00:00+08:00", "event": "replied"},
            {"case": 2, "at": "2024-10-30T09:20:00+08:00", "event": "waiting"},
            {"case": 2, "at": "2024-10-30T10:20:00+08:00", "event": "back"},
            {"case": 2, "at": "2024-10-30T12:20:00+08:00", "event": "replied"},
            {"case": 3, "at": "2024-10-30T12:20:00+08:00", "event": "replied"},
            {"case": 5, "at": "2024-10-30T12:20:00+08:00", "event": "bogus"},  # unknown
            {"case": 5, "at": "2024-10-30T12:25:00+08:00", "event": "replied", "role": "lead"},
            {"case": 5, "at": "2024-10-30T12:30:00+08:00", "event": "again"},
            {"case": 99, "at": "2024-10-30T12:30:00+08:00", "event": "replied"},  # V003
            {"case": 7, "at": "2024-10-30T09:30:00+08:00", "event": "progress"},
            {"case": 8, "at": "2024-10-30T09:30:00+08:00", "event": "replied"},
            {"case": 7, "at": "bad", "event": "replied"},
            {"case": 6, "at": "2024-10-30T09:30:00+08:00", "event": "replied"},
        ],
    )
    for chunk in (2, 3):
        _agree(tmp_path, monkeypatch, [policy], records, events, now, chunk)


OFFICE = """calendar office {
  open mon-fri 09:00-12:00, 13:30-18:00
  holidays china
}
"""


@pytest.mark.parametrize("now", [None, dt.datetime(2027, 11, 5, tzinfo=dt.UTC)])
def test_unpublished_china_years_and_durations_beyond_bigint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, now: dt.datetime | None
) -> None:
    # a duration of 900,000,000 days is past BIGINT microseconds: SQL hands the case to Python,
    # and counted it too (by `otherwise within 1h`, the field read as missing): one breach more
    policy = _policy(
        tmp_path,
        "p.csp",
        OFFICE + "deadline reply for R {\n  starts at at\n  stops on replied\n"
        "  within 4 working hours on office\n  warn at 50%\n}\n"
        'deadline agreed for R {\n  starts at at\n  stops on replied\n  within d "agreed"\n'
        "  otherwise within 1h\n}\n",
    )
    records = _lines(
        tmp_path,
        "r.jsonl",
        [
            {"id": 1, "at": "2024-10-30T09:00:00+08:00", "d": "PT3H"},
            {"id": 2, "at": "2026-12-31T17:00:00+08:00", "d": "P200000000D"},
            {"id": 3, "at": "2027-03-01T10:00:00+08:00"},  # China has not published 2027
            {"id": 4, "at": "2024-10-30T09:00:00+08:00", "d": "P900000000D"},
            {"id": 5, "at": "2024-10-30T09:00:00+08:00", "d": "P3000000D"},
            {"id": 6, "at": "2024-10-30T09:00:00+08:00", "d": "-PT3H"},
        ],
    )
    events = _lines(
        tmp_path,
        "e.jsonl",
        [
            {"case": 1, "at": "2024-10-30T10:30:00+08:00", "event": "replied"},
            {"case": 3, "at": "2027-03-01T10:30:00+08:00", "event": "replied"},
            {"case": 2, "at": "2027-01-05T10:30:00+08:00", "event": "replied"},
        ],
    )
    where = _agree(tmp_path, monkeypatch, [policy], records, events, now)
    assert where["cases_handed_to_python"] == 4


def _generated(tmp_path: Path, seed: int, names: list[str]) -> tuple[Path, Path]:
    """Records over three weeks (ids repeated, one in 2027) and a random event log."""
    rnd = random.Random(seed)
    rows: list[Any] = []
    events: list[tuple[dt.datetime, dict[str, Any]]] = []
    for i in range(1, 40):
        at = dt.datetime(2024, 9, 25, 8, tzinfo=CST) + dt.timedelta(
            minutes=rnd.randrange(0, 60 * 24 * 20)
        )
        row: dict[str, Any] = {"id": i if i % 7 else i - 1, "at": at.isoformat()}
        row["kind"] = rnd.choice(["a", "b", None])
        row["n"] = rnd.randrange(0, 8)
        if i % 11 == 0:
            row["at"] = "2027-02-02T10:00:00+08:00"
        rows.append(row)
        if i % 13 == 0:
            rows.append("{bad")
        t = at
        for _ in range(rnd.randrange(0, 6)):
            t += dt.timedelta(minutes=rnd.randrange(-30, 300))
            ev = {"case": i, "at": t.isoformat(), "event": rnd.choice(names)}
            ev["role"] = rnd.choice(["agent", "lead", None])
            events.append((t, ev))
    events.sort(key=lambda e: e[0])
    return _lines(tmp_path, "r.jsonl", rows), _lines(tmp_path, "e.jsonl", [e for _, e in events])


@pytest.mark.parametrize("now", [None, dt.datetime(2024, 10, 20, tzinfo=dt.UTC)])
def test_clauses_left_to_python_mixed_with_sql_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, now: dt.datetime | None
) -> None:
    # a record's breaches are its findings in the policy's order (the report's list keeps the
    # order of each record's findings): SQL's came first, then Python's
    policy = _policy(
        tmp_path,
        "p.csp",
        OFFICE + "deadline wd for R {\n  starts at at\n  stops on replied\n"
        "  within 2 working days on office\n}\n"
        "deadline two for R {\n  starts at at\n  stops on replied\n"
        "  pauses on waiting resumes on back\n  pauses on hold resumes on unhold\n"
        "  within 3h\n}\n"
        "deadline sqlone for R {\n  starts at at\n  stops on replied\n"
        '  pauses on waiting resumes on back\n  within 1h when kind = "a"\n'
        "  within 2 working hours on office\n  warn at 50%\n}\n"
        "escalation ladder for R {\n  roles agent -> lead -> boss\n"
        "  agent -> lead on breach of wd within 30m\n"
        "  lead -> boss after 1 working hours on office\n}\n"
        "escalation ladder2 for R {\n  roles agent -> lead\n"
        "  agent -> lead on breach of sqlone within 30m\n}\n"
        'metric on_time "on time":\n  count(R where sqlone = met) / '
        "count(R where sqlone in [met, breached]) >= 90% by month of at\n"
        'metric on_time_wd "on time wd":\n  count(R where wd = met) / '
        "count(R where wd in [met, breached, pending]) >= 90% by month of at\n"
        'metric na "na":\n  count(R where two = not_applicable) / count(R) <= 90% '
        "by month of at\n",
    )
    records, events = _generated(tmp_path, 5, ["replied", "waiting", "back", "hold", "unhold", "x"])
    where = _agree(tmp_path, monkeypatch, [policy], records, events, now, chunk=3)
    assert where["sql"] == ["sqlone", "ladder2"]
    assert sorted(where["python"]) == ["ladder", "two", "wd"]


def test_on_time_kpis_of_the_hotline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    records = {
        "Complaint": EX / "complaints.jsonl",
        "Call": EX / "calls.jsonl",
        "Inquiry": EX / "inquiries.csv",
    }
    where = _agree(
        tmp_path,
        monkeypatch,
        [ROOT / "policies" / "hotline.csp"],
        records,
        EX / "complaint_events.jsonl",
        dt.datetime(2024, 12, 1, tzinfo=dt.UTC),
        chunk=7,
    )
    assert where["python"] == {}


@pytest.mark.parametrize("now", [None, dt.datetime(2024, 11, 20, tzinfo=dt.UTC)])
def test_rules_reading_events_beside_deadlines(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, now: dt.datetime | None
) -> None:
    policy = _policy(
        tmp_path,
        "p.csp",
        "deadline reply for R {\n  starts at at\n  stops on replied\n  within 2h\n"
        "  update every 1h with progress\n}\n"
        'rule replied_once "a reply is logged" for R {\n'
        "  require first(replied) is set and first(replied) >= at\n}\n"
        'rule progress_daily "progress daily" for R {\n  when p is set\n'
        "  require at least 1 progress per day from at to p\n  points 2\n}\n"
        'metric on_time "on time":\n  count(R where reply = met) / '
        "count(R where reply in [met, breached]) >= 90% by month of at\n",
    )
    records, events = _generated(tmp_path, 7, ["replied", "progress", "progress", "zzz"])
    rows = [json.loads(x) if x != "{bad" else x for x in records.read_text().splitlines()]
    for k, row in enumerate(rows):
        if isinstance(row, dict) and k % 3 == 0 and row.get("at"):
            at = dt.datetime.fromisoformat(row["at"])
            row["p"] = (at + dt.timedelta(days=3)).isoformat()
    _lines(tmp_path, "r.jsonl", rows)
    _agree(tmp_path, monkeypatch, [policy], records, events, now)


LADDER = """calendar office {
  open mon-fri 09:00-12:00, 13:30-18:00
}
deadline reply for R {
  starts at at
  stops on replied
  by p "promised"
  within d "agreed"
  otherwise within 2 working hours on office
  at most 100h
  warn 30m before
}
escalation ladder for R {
  roles agent -> lead -> boss
  agent -> lead on breach of reply within 30m
  lead -> boss on replied within 2h
}
"""


def test_datetimes_at_the_ends_of_the_calendar(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a start on 9999-12-30 crashed the calendar tables (the margin past it overflowed), and
    # beside records of 2024 made them 8,000 years long (a minute and a half for two records)
    policy = _policy(tmp_path, "p.csp", LADDER)
    records = _lines(
        tmp_path,
        "r.jsonl",
        [
            {"id": 1, "at": "9999-12-30T20:00:00+08:00"},
            {"id": 2, "at": "1990-10-30T09:00:00+08:00"},
            {"id": 3, "at": "2060-10-30T11:00:00+08:00", "p": "2060-10-30T10:00:00+08:00"},
            {"id": 4, "at": "2024-10-30T09:00:00+08:00"},
            {"id": 5, "at": "2024-10-31T17:00:00+08:00", "p": "9999-12-31T23:00:00+08:00"},
            {"id": 6, "at": "2024-11-02T09:00:00+08:00", "d": "-PT5H"},
            {"id": 7, "at": "2027-10-29T17:00:00+08:00", "d": "PT0S"},
            {"id": 8, "at": "2021-11-02T09:00:00+08:00"},
        ],
    )
    events = _lines(
        tmp_path,
        "e.jsonl",
        [
            {"case": 2, "at": "1990-10-30T10:00:00+08:00", "event": "replied"},
            {"case": 4, "at": "2030-10-30T10:00:00+08:00", "event": "replied"},
            {"case": 5, "at": "2024-10-31T17:30:00+08:00", "event": "replied"},
            {"case": 7, "at": "2027-10-31T17:30:00+08:00", "event": "replied", "role": "boss"},
            {"case": 8, "at": "2021-11-01T17:30:00+08:00", "event": "replied"},
            {"case": 8, "at": "2021-11-02T10:30:00+08:00", "event": "replied", "role": "boss"},
            {"case": 1, "at": "9999-12-31T13:00:00+08:00", "event": "replied"},
        ],
    )
    for chunk in (3, 100):
        _agree(tmp_path, monkeypatch, [policy], records, events, None, chunk)


def test_calendar_tables_span_the_bulk_of_the_data(tmp_path: Path) -> None:
    from csdsl.sql.timelines import SqlTimelines

    policy = csdsl.load(_policy(tmp_path, "p.csp", LADDER))
    clocks = SqlTimelines(policy.ir, "R", dt.timezone(dt.timedelta(hours=8)))
    at = dt.datetime(2024, 10, 30, 9, tzinfo=CST)
    rows = [(i, {"at": at + dt.timedelta(hours=i)}) for i in range(5)]
    rows.append((9, {"at": dt.datetime(9999, 12, 30, 20, tzinfo=CST)}))
    _, tables = clocks.tables(rows, {})
    # some years of one calendar, not eight thousand
    assert 0 < len(tables["tl_b_0"][1]) < 20_000


@pytest.mark.parametrize("versions", [1, 2])
def test_records_without_a_validity_block_are_counted_per_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, versions: int
) -> None:
    """A record type with clocks but no validity block: the duckdb engine's `versions[].judged`
    counted nothing (`{}` where the python engine counts each version's records)."""
    bare = (
        "record R { at: datetime? }\n"
        "deadline reply for R {\n  starts at at\n  stops on replied\n  within 2h\n}\n"
    )
    paths = []
    for i, effective in enumerate(["2024-10-01", "2024-11-01"][:versions]):
        path = tmp_path / f"v{i}.csp"
        path.write_text(
            f'policy "p" version "v{i}" effective {effective} timezone "Asia/Shanghai"\n' + bare,
            encoding="utf-8",
        )
        paths.append(path)
    records = _lines(
        tmp_path,
        "r.jsonl",
        [
            {"id": 1, "at": "2024-10-30T09:00:00+08:00"},
            {"id": 2, "at": "2024-11-02T09:00:00+08:00"},
            {"id": 3, "at": "2024-11-03T09:00:00+08:00"},
        ],
    )
    events = _lines(
        tmp_path, "e.jsonl", [{"case": 1, "at": "2024-10-30T10:30:00+08:00", "event": "replied"}]
    )
    _agree(tmp_path, monkeypatch, paths, records, events)
    data = json.loads((tmp_path / "out-duckdb" / "report.json").read_text(encoding="utf-8"))
    judged = [v["judged"] for v in data["versions"]]
    assert judged == ([{"R": 3}] if versions == 1 else [{"R": 1}, {"R": 2}])

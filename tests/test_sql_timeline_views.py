"""The timeline views `csdsl compile --target sql` writes (`csdsl.sql.timeline_views`): the
script, run on DuckDB (and, marked `spark`, on a local Spark) over the bundled complaints and
their event log loaded into the tables it documents, gives `TimelineBuilder`'s milestones for
every record; `--from/--to` are checked."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import duckdb
import pytest
from test_spark import spark  # noqa: F401  (the session's local Spark, skipped without one)

import csdsl
from csdsl.cli import main
from csdsl.codegen.sql import SpanError, compile_sql, table_ddl
from csdsl.records import id_key
from csdsl.sql.timeline_views import Span, default_span
from csdsl.timeline import Event, Milestone, TimelineBuilder

ROOT = Path(__file__).resolve().parents[1]
EX = ROOT / "examples"
HOTLINE = ROOT / "policies" / "hotline.csp"
RECORD = "Complaint"
UTC = dt.UTC
NOW = dt.datetime(2024, 11, 4, 12, tzinfo=dt.timezone(dt.timedelta(hours=8)))
SPAN = Span(dt.date(2024, 10, 1), dt.date(2024, 12, 31))
EPOCH = dt.datetime(1970, 1, 1, tzinfo=UTC)
US = dt.timedelta(microseconds=1)

Rows = list[tuple[Any, Mapping[str, Any]]]
Events = dict[str, list[Event]]


@pytest.fixture(scope="module")
def bundled() -> Iterator[tuple[csdsl.Policy, Rows, Events]]:
    """The hotline policy, the readable example complaints (id, values) and their events."""
    policy = csdsl.load(HOTLINE)
    rows: Rows = [
        (row.id, row.values)
        for row in policy.reader(RECORD).read(str(EX / "complaints.jsonl"))
        if row.values is not None
    ]
    log, _ = policy.read_events(EX / "complaint_events.jsonl", RECORD)
    yield policy, rows, {case: list(log[case]) for case in log}


def _cell(v: Any) -> Any:
    """A value as the record table holds it: durations in microseconds, instants in UTC."""
    if isinstance(v, dt.timedelta):
        return v // US
    return v.astimezone(UTC) if isinstance(v, dt.datetime) else v


def _table_rows(policy: csdsl.Policy, rows: Rows) -> list[tuple[Any, ...]]:
    rec = policy.ir.record(RECORD)
    assert rec is not None
    return [(str(rid), *(_cell(values.get(f.name)) for f in rec.fields)) for rid, values in rows]


def _event_rows(events: Events) -> list[tuple[Any, ...]]:
    return [
        (case, ev.at.astimezone(UTC), ev.name, ev.role, ev.line)
        for case, evs in events.items()
        for ev in evs
    ]


def _now_us(now: dt.datetime | None) -> str:
    return "CAST(NULL AS BIGINT)" if now is None else str((now - EPOCH) // US)


Row = tuple[Any, ...]


def _want(
    policy: csdsl.Policy, rows: Rows, events: Events, now: dt.datetime | None
) -> dict[str, list[Row]]:
    """The builder's milestones per record, as the view's columns (instants in UTC)."""
    b = TimelineBuilder(policy.ir, RECORD, policy.tz)
    out = {}
    for rid, values in rows:
        t = b.build(rid, values, events.get(id_key(rid), []), now)
        out[id_key(rid)] = [_shape(m) for m in t.milestones]
    return out


def _utc(t: dt.datetime | None) -> dt.datetime | None:
    return None if t is None else t.astimezone(UTC)


def _shape(m: Milestone) -> Row:
    late = None if m.late_by is None else m.late_by // US
    return (
        m.clause,
        m.kind,
        m.owner,
        m.cycle,
        _utc(m.due),
        m.status,
        _utc(m.at),
        late,
        m.message,
        m.file,
        m.line,
    )


def _got(found: Sequence[Row]) -> dict[str, list[Row]]:
    out: dict[str, list[Row]] = {}
    for rid, *rest in found:
        rest[4], rest[6] = _utc(rest[4]), _utc(rest[6])
        out.setdefault(rid, []).append(tuple(rest))
    return out


def _compare(
    got: dict[str, list[Row]], handed: set[str], want: dict[str, list[Row]], what: str
) -> None:
    """Every record SQL judges has the builder's milestones, in order; the records it hands to
    Python have none in the view."""
    assert set(got) - set(want) == set(), what
    assert not handed & set(got), f"{what}: handed cases in the view: {handed & set(got)}"
    bad = []
    for key in sorted(set(want) - handed):
        if got.get(key, []) != want[key]:
            pairs = zip(want[key], got.get(key, []), strict=False)
            first = next(((w, g) for w, g in pairs if w != g), None)
            bad.append(f"{key}: {first or (len(want[key]), len(got.get(key, [])))}")
    assert not bad, what + "\n" + "\n".join(bad[:10])


# ---- DuckDB ------------------------------------------------------------------------------------
def _duckdb_views(policy: csdsl.Policy, rows: Rows, events: Events) -> Any:
    """A DuckDB database with the record and events tables loaded and the script run."""
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    for rec in policy.ir.records:  # the script's other views read every record's table
        con.execute(table_ddl(policy, rec.name, "duckdb"))
    data = _table_rows(policy, rows)
    con.executemany(f'INSERT INTO "{RECORD}" VALUES ({", ".join("?" * len(data[0]))})', data)
    con.execute(
        f'CREATE TABLE "{RECORD}_events" (case_id TEXT, "at" TIMESTAMPTZ, name TEXT, '
        "role TEXT, line BIGINT)"
    )
    con.executemany(f'INSERT INTO "{RECORD}_events" VALUES (?, ?, ?, ?, ?)', _event_rows(events))
    con.execute(compile_sql(policy, "duckdb", span=SPAN))
    return con


@pytest.mark.parametrize("now", [NOW, None], ids=["now", "no-now"])
def test_the_duckdb_views_give_the_builders_milestones(
    bundled: tuple[csdsl.Policy, Rows, Events], now: dt.datetime | None
) -> None:
    policy, rows, events = bundled
    con = _duckdb_views(policy, rows, events)
    con.execute(f'CREATE OR REPLACE VIEW "{RECORD}_clock_now" AS SELECT {_now_us(now)} AS now_us')
    found = con.execute(f'SELECT * FROM "{RECORD}_milestones"').fetchall()
    handed = {r[0] for r in con.execute(f'SELECT * FROM "{RECORD}_handed_to_python"').fetchall()}
    want = _want(policy, rows, events, now)
    assert len(want) > 200 and len(found) > 1000 and len(handed) < 5  # the examples are there
    _compare(_got(found), handed, want, f"DuckDB, now={now}")


def test_the_duckdb_view_of_now_is_the_current_time(
    bundled: tuple[csdsl.Policy, Rows, Events],
) -> None:
    policy, rows, events = bundled
    con = _duckdb_views(policy, rows, events)
    con.execute("BEGIN")  # one current_timestamp: the transaction's start
    (now_us,) = con.execute(f'SELECT now_us FROM "{RECORD}_clock_now"').fetchone() or (0,)
    found = con.execute(f'SELECT * FROM "{RECORD}_milestones"').fetchall()
    handed = {r[0] for r in con.execute(f'SELECT * FROM "{RECORD}_handed_to_python"').fetchall()}
    con.execute("COMMIT")
    now = EPOCH + now_us * US
    assert abs(now - dt.datetime.now(UTC)) < dt.timedelta(minutes=10)
    _compare(_got(found), handed, _want(policy, rows, events, now), "DuckDB, now=current time")


def test_a_case_beyond_the_calendar_tables_is_handed_to_python(
    bundled: tuple[csdsl.Policy, Rows, Events],
) -> None:
    """A complaint received after the span the calendar tables cover: the views hand it to
    Python instead of guessing its working-hour steps."""
    policy, rows, events = bundled
    _rid, values = rows[0]
    late = {**values, "received_at": dt.datetime(2025, 6, 3, 9, tzinfo=UTC)}
    con = _duckdb_views(policy, [*rows[1:], ("LATE-1", late)], events)
    handed = {r[0] for r in con.execute(f'SELECT * FROM "{RECORD}_handed_to_python"').fetchall()}
    assert "LATE-1" in handed
    ids = con.execute(f'SELECT DISTINCT record_id FROM "{RECORD}_milestones"').fetchall()
    assert ("LATE-1",) not in ids and len(ids) > 200


def test_a_target_whose_condition_reads_a_datetime(tmp_path: Path) -> None:
    """A `when` over a datetime field reads the epoch microseconds the clock records hold (it
    once read them as a TIMESTAMP, and the views and `SqlTimelines` failed to bind)."""
    (tmp_path / "p.csp").write_text(
        'policy "p" timezone "Asia/Shanghai"\nrecord R {\n  at: datetime\n}\n'
        "deadline quick for R {\n  starts at at\n  stops on done\n"
        "  within 1h when at > 2024-01-01T00:00\n  within 2h\n}\n",
        encoding="utf-8",
    )
    policy = csdsl.load(tmp_path / "p.csp")
    rows: Rows = [
        ("new", {"at": dt.datetime(2024, 5, 1, 9, tzinfo=UTC)}),
        ("old", {"at": dt.datetime(2023, 5, 1, 9, tzinfo=UTC)}),
    ]
    con = duckdb.connect()
    con.execute(table_ddl(policy, "R", "duckdb"))
    con.executemany('INSERT INTO "R" VALUES (?, ?)', [(k, v["at"]) for k, v in rows])
    con.execute(
        'CREATE TABLE "R_events" (case_id TEXT, "at" TIMESTAMPTZ, name TEXT, role TEXT, '
        "line BIGINT)"
    )
    con.execute(compile_sql(policy, span=SPAN))
    got = con.execute('SELECT record_id, due FROM "R_milestones"').fetchall()
    b = TimelineBuilder(policy.ir, "R", policy.tz)
    want = [(k, b.build(k, v, [], None).milestones[0].due) for k, v in rows]
    assert [(k, _utc(due)) for k, due in got] == [(k, _utc(due)) for k, due in want]
    assert _utc(want[0][1]) == dt.datetime(2024, 5, 1, 10, tzinfo=UTC)


# ---- the script --------------------------------------------------------------------------------
def test_the_script_names_what_it_makes_and_leaves_to_python(tmp_path: Path) -> None:
    text = (
        'policy "p" timezone "Asia/Shanghai"\nrecord R {\n  at: datetime\n}\n'
        "calendar office {\n  open mon-fri 09:00-18:00\n}\n"
        "deadline quick for R {\n  starts at at\n  stops on done\n  within 1 working days on "
        "office\n}\n"
    )
    (tmp_path / "p.csp").write_text(text, encoding="utf-8")
    policy = csdsl.load(tmp_path / "p.csp")
    script = compile_sql(policy, span=SPAN)
    assert (
        "left to Python: `quick` of R: target `1 working days on office` counts working days"
        in script
    )
    assert "calendar tables for" not in script
    for name in ("R_clock_records", "R_clock_events", "R_milestones", "R_handed_to_python"):
        assert f'CREATE OR REPLACE VIEW "{name}"' in script
    assert "office_open_by_day" not in script  # a clause SQL leaves out reads no calendar
    # no clocks: the script is the one without the views
    assert compile_sql(csdsl.load(ROOT / "policies" / "complaint_validity.csp")) == compile_sql(
        csdsl.load(ROOT / "policies" / "complaint_validity.csp"), clocks=False
    )


def test_postgres_has_no_timeline_views_and_says_so(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["compile", str(HOTLINE), "--target", "sql", "--dialect", "postgres"]) == 0
    out, err = capsys.readouterr()
    assert "no timeline views for postgres" in out and "_milestones" not in out
    assert err.startswith("csdsl: note: no timeline views for postgres: PostgreSQL has no")


def test_names_that_collide_with_the_views_are_refused(tmp_path: Path) -> None:
    text = (
        'policy "p" timezone "UTC"\nrecord R {\n  at: datetime\n}\n'
        "record R_milestones {\n  x: int\n}\n"
        "deadline quick for R {\n  starts at at\n  stops on done\n  within 1h\n}\n"
    )
    (tmp_path / "p.csp").write_text(text, encoding="utf-8")
    with pytest.raises(Exception, match="`R_milestones` and `R_milestones` are one name to SQL"):
        compile_sql(csdsl.load(tmp_path / "p.csp"), span=SPAN)


# ---- --from / --to -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--from", "2024-10-1x"],
            "csdsl: --from `2024-10-1x` is not a date; write it as YYYY-MM-DD\n",
        ),
        (
            ["--from", "2024-12-01", "--to", "2024-10-01"],
            "csdsl: --from 2024-12-01 is after --to 2024-10-01; give the first date, then the "
            "last\n",
        ),
        (["--to", "2024-10-01", "--target", "json"], "csdsl: --to is for --target sql, not "),
        (
            ["--from", "0001-01-01", "--to", "0001-12-31"],
            "csdsl: --from 0001-01-01 is too early: the calendar tables start the day before; "
            "choose 0001-01-04 or later\n",
        ),
        (
            ["--from", "9999-01-01", "--to", "9999-12-31"],
            "csdsl: --to 9999-12-31 is too late: the calendar tables reach 120 days past it; "
            "choose 9999-08-30 or earlier\n",
        ),
        (
            ["--from", "1900-01-01", "--to", "2024-12-31"],
            "csdsl: --from 1900-01-01 to --to 2024-12-31 is longer than the 100 years a calendar "
            "table holds; choose a shorter span\n",
        ),
    ],
)
def test_from_and_to_usage_errors(
    capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    target = [] if "--target" in args else ["--target", "sql"]
    assert main(["compile", str(HOTLINE), *target, *args]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.startswith(message) and err.count("\n") == 1


def test_a_span_china_has_not_published_is_a_usage_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    last = default_span(csdsl.load(HOTLINE)).last
    after = (last + dt.timedelta(days=1)).isoformat()
    assert main(["compile", str(HOTLINE), "--target", "sql", "--to", after]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1
    assert err.startswith(f"csdsl: calendar `office` cannot cover --from/--to: {after} is outside")
    assert "update the `holidays` package" in err
    with pytest.raises(SpanError):
        compile_sql(
            csdsl.load(HOTLINE),
            span=Span(dt.date(2024, 1, 1), last.replace(day=31) + dt.timedelta(days=1)),
        )


def test_the_default_span_is_around_today_inside_the_published_years(tmp_path: Path) -> None:
    from csdsl.calendar import china_published_years

    first, last = china_published_years()
    hotline = csdsl.load(HOTLINE)
    assert default_span(hotline, dt.date(last - 1, 6, 1)) == Span(
        dt.date(last - 2, 1, 1), dt.date(last, 12, 31)
    )
    # past the published years: the last three of them; before them: the first three
    assert default_span(hotline, dt.date(last + 5, 6, 1)) == Span(
        dt.date(last - 2, 1, 1), dt.date(last, 12, 31)
    )
    assert default_span(hotline, dt.date(first - 5, 6, 1)) == Span(
        dt.date(first, 1, 1), dt.date(first + 2, 12, 31)
    )
    (tmp_path / "p.csp").write_text(
        'policy "p" timezone "UTC"\nrecord R {\n  at: datetime\n}\n'
        "calendar office {\n  open mon-fri 09:00-18:00\n}\n"
        "deadline quick for R {\n  starts at at\n  stops on done\n  within 2 working hours on "
        "office\n}\n",
        encoding="utf-8",
    )
    plain = csdsl.load(tmp_path / "p.csp")
    assert default_span(plain, dt.date(2030, 5, 1)) == Span(
        dt.date(2029, 1, 1), dt.date(2031, 12, 31)
    )


# ---- Spark -------------------------------------------------------------------------------------
def _spark_script(script: str) -> list[str]:
    """The script's statements (each ends a line with `;`; comments dropped)."""
    out, cur = [], []
    for line in script.splitlines():
        if line.startswith("--"):
            continue
        cur.append(line)
        if line.endswith(";"):
            out.append("\n".join(cur)[:-1])
            cur = []
    return out


@pytest.mark.spark
def test_the_spark_views_give_the_builders_milestones(
    spark: Any,  # noqa: F811
    bundled: tuple[csdsl.Policy, Rows, Events],
    tmp_path: Path,
) -> None:
    from pyspark.sql import types as T

    policy, rows, events = bundled
    keys = {id_key(rid) for rid, _ in rows[:12]}
    few = [(rid, v) for rid, v in rows if id_key(rid) in keys]
    mine = {k: v for k, v in events.items() if k in keys}
    db = "csdsl_timeline_views"
    spark.sql(f"CREATE DATABASE IF NOT EXISTS {db} LOCATION '{tmp_path / 'warehouse'}'")
    was = spark.catalog.currentDatabase()
    spark.catalog.setCurrentDatabase(db)
    try:
        for rec in policy.ir.records:  # the script's other views read every record's table
            ddl = table_ddl(policy, rec.name, "spark").replace(" NOT NULL", "")
            spark.sql(ddl.rstrip().rstrip(";"))
        schema = spark.table(f"`{RECORD}`").schema
        doubles = [i for i, f in enumerate(schema.fields) if isinstance(f.dataType, T.DoubleType)]
        data = [
            tuple(float(v) if i in doubles and v is not None else v for i, v in enumerate(row))
            for row in _table_rows(policy, few)
        ]
        spark.createDataFrame(data, schema).write.insertInto(f"`{RECORD}`")
        ev_schema = T.StructType(
            [
                T.StructField("case_id", T.StringType()),
                T.StructField("at", T.TimestampType()),
                T.StructField("name", T.StringType()),
                T.StructField("role", T.StringType()),
                T.StructField("line", T.LongType()),
            ]
        )
        spark.createDataFrame(_event_rows(mine), ev_schema).write.saveAsTable(f"{RECORD}_events")
        # `now` fixed before the script computes the steps Spark keeps as tables
        fixed = f"CREATE OR REPLACE VIEW `{RECORD}_clock_now` AS SELECT {_now_us(NOW)} AS now_us"
        for statement in _spark_script(compile_sql(policy, "spark", span=SPAN)):
            is_now = statement.startswith(f"CREATE OR REPLACE VIEW `{RECORD}_clock_now`")
            spark.sql(fixed if is_now else statement)
        found = [tuple(r) for r in spark.sql(f"SELECT * FROM `{RECORD}_milestones`").collect()]
        handed = {r[0] for r in spark.sql(f"SELECT * FROM `{RECORD}_handed_to_python`").collect()}
    finally:
        spark.catalog.setCurrentDatabase(was)
        spark.sql(f"DROP DATABASE IF EXISTS {db} CASCADE")
    want = _want(policy, few, mine, NOW)
    got = _got([(r[0], *r[1:5], _aware(r[5]), r[6], _aware(r[7]), *r[8:]) for r in found])
    assert len(found) > 30
    _compare(got, handed, want, "Spark")


def _aware(t: dt.datetime | None) -> dt.datetime | None:
    """Spark's TIMESTAMP comes back naive, in the session's time zone (UTC)."""
    return None if t is None else t.replace(tzinfo=UTC)

"""`csdsl audit` and `csdsl.audit`: one run over complaints, events, calls, inquiries and
transcripts; versions by effective date; bad rows; findings; exit codes."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

import csdsl
from csdsl.auditor import SHOWN_PER_CLAUSE, AuditError, audit, iter_findings
from csdsl.cli import main

ROOT = Path(__file__).resolve().parents[1]
EX = ROOT / "examples"
HOTLINE = ROOT / "policies" / "hotline.csp"
SHANGHAI = dt.timezone(dt.timedelta(hours=8))
RECORDS = {
    "Complaint": EX / "complaints.jsonl",
    "Call": EX / "calls.jsonl",
    "Inquiry": EX / "inquiries.csv",
}


@pytest.fixture(scope="module")
def hotline() -> csdsl.Policy:
    return csdsl.load(HOTLINE)


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory, hotline: csdsl.Policy) -> tuple[Path, Any]:
    out = tmp_path_factory.mktemp("audit")
    report = audit(
        hotline,
        records=RECORDS,
        events=EX / "complaint_events.jsonl",
        transcripts=EX / "transcripts.jsonl",
        out=out,
    )
    return out, report


def test_the_run_writes_every_report(run: tuple[Path, Any]) -> None:
    out, report = run
    for name in ("report.json", "report.md", "report.html", "findings.jsonl"):
        assert (out / name).stat().st_size > 0, name
    data = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert data == json.loads(json.dumps(report.data, ensure_ascii=False))
    assert data["schema"] == 1 and data["engine"] == "python"


def test_every_input_is_counted(run: tuple[Path, Any]) -> None:
    _, report = run
    inputs = {(i["kind"], i["type"]): i for i in report.data["inputs"]}
    # the generators' own counts: 240 good complaints + 8 bad lines, 3,000 calls + 4, 600
    # inquiries + 3, 284 transcripts + 6
    complaints = (EX / "complaints.jsonl").read_bytes()
    assert inputs[("records", "Complaint")] | {"path": None} == {
        "kind": "records",
        "type": "Complaint",
        "path": None,
        "rows": 248,
        "read": 240,
        "bad": 8,
        "bytes": len(complaints),
        "sha256": hashlib.sha256(complaints).hexdigest(),
    }
    assert (inputs[("records", "Call")]["read"], inputs[("records", "Call")]["bad"]) == (3000, 4)
    assert (inputs[("records", "Inquiry")]["read"], inputs[("records", "Inquiry")]["bad"]) == (
        600,
        3,
    )
    assert (inputs[("transcripts", None)]["read"], inputs[("transcripts", None)]["bad"]) == (284, 6)
    s = report.data["summary"]
    assert s["records"] == 240 + 3000 + 600 + 284
    bad = sum(i["bad"] for i in report.data["inputs"])
    assert s["bad_rows"] == bad == report.data["bad_rows"]["total"]


def test_bad_rows_name_file_line_and_reason(run: tuple[Path, Any]) -> None:
    _, report = run
    items = report.data["bad_rows"]["items"]
    complaints = [i for i in items if i["input"].endswith("complaints.jsonl")]
    # the lines make_complaints.py corrupts on purpose
    assert [i["line"] for i in complaints] == [5, 35, 50, 92, 123, 163, 211, 240]
    calls = {i["id"]: i for i in items if i["input"].endswith("calls.jsonl")}
    assert calls["CALL-BAD-1"]["code"] == "R003" and calls["CALL-BAD-1"]["field"] == "connected"
    inquiries = {i["id"]: i["code"] for i in items if i["input"].endswith("inquiries.csv")}
    assert inquiries == {"Q-BAD-1": "R004", "Q-BAD-2": "R005", "Q-BAD-3": "R003"}


def test_findings_cite_clause_and_evidence(run: tuple[Path, Any]) -> None:
    out, report = run
    every = list(iter_findings(out / "findings.jsonl"))
    assert len(every) == report.data["findings"]["total"] == report.data["summary"]["findings"]
    kinds = {f["kind"] for f in every}
    assert kinds == {"valid_complaint", "deadline", "escalation", "transcript"}
    for f in every:
        clause = f["clause"]
        assert Path(clause["file"]).suffix == ".csp" and clause["line"] > 0
        assert f["input"] and f["line"] > 0 and f["evidence"]
    rude = next(f for f in every if f["clause"]["id"] == "rude_attitude")
    assert rude["evidence"] == {"agent_rude": True}
    assert rude["clause"]["file"].endswith("complaint_validity.csp")
    late = next(f for f in every if f["kind"] == "deadline")
    assert late["evidence"]["due"] and late["clause"]["file"].endswith("complaint_handling.csp")


def test_the_report_keeps_a_few_findings_per_clause(run: tuple[Path, Any]) -> None:
    out, report = run
    kept = report.data["findings"]["items"]
    every = list(iter_findings(out / "findings.jsonl"))
    per: dict[tuple[str, int, str], int] = {}
    for f in every:
        key = (f["clause"]["file"], f["clause"]["line"], f["clause"]["id"])
        per[key] = per.get(key, 0) + 1
    assert len(kept) == sum(min(n, SHOWN_PER_CLAUSE) for n in per.values())
    assert report.data["findings"]["shown"] == len(kept) < len(every)


def test_validity_counts_agree_with_validate(run: tuple[Path, Any], hotline: csdsl.Policy) -> None:
    _, report = run
    rows = [r for r in hotline.validate_file(RECORDS["Complaint"]) if r.verdict is not None]
    valid = [r for r in rows if r.verdict and r.verdict.valid]
    v = report.data["validity"]
    assert (v["judged"], v["valid"]) == (len(rows), len(valid))
    by_id = {c["clause"]["id"]: c["count"] for c in v["by_condition"]}
    for cid in by_id:
        assert by_id[cid] == sum(1 for r in valid if r.verdict and cid in r.verdict.matched)


CLOCKED = {"complaint_on_time_rate", "complaint_reply_time"}  # KPIs over the reply clocks


def test_kpis_agree_with_measure_files(run: tuple[Path, Any], hotline: csdsl.Policy) -> None:
    _, report = run
    results, _ = hotline.measure_files(RECORDS)
    # measure_files has no event log: the KPIs that count a clock are the audit's alone
    # (tests/test_fidelity_time.py holds them to the audit's own deadline findings)
    want = [r.to_json() for r in results if not r.metric.clocks]
    got = [
        {k: v for k, v in k.items() if k not in ("version", "percent")}
        for k in report.data["kpis"]
        if k["metric"] not in CLOCKED
    ]
    # the audit's KPI clauses also name the sections of the standards they cite (copied: the
    # report is the module's fixture, shared with other tests)
    for k in got:
        k["clause"] = dict(k["clause"])
    assert all(k["clause"].pop("cites", None) for k in got)
    assert got == want
    assert {r.metric.name for r in results if r.metric.clocks} == CLOCKED
    assert all(r.status == "not_applicable" for r in results if r.metric.clocks)
    statuses = {k["status"] for k in report.data["kpis"]}
    assert statuses == {"pass", "fail"}  # the example data is made to show both


def test_clocks_are_judged_at_the_last_event(run: tuple[Path, Any]) -> None:
    _, report = run
    times = []
    for line in (EX / "complaint_events.jsonl").read_text(encoding="utf-8").splitlines():
        try:
            at = dt.datetime.fromisoformat(json.loads(line)["at"])
        except (ValueError, KeyError, TypeError):
            continue  # the log's deliberately bad lines
        try:
            times.append(at if at.tzinfo else at.replace(tzinfo=SHANGHAI))
        except (ValueError, KeyError, TypeError):
            continue  # the log's deliberately bad lines
    assert dt.datetime.fromisoformat(report.data["as_of"]) == max(times)
    t = report.data["timelines"]
    reply = next(c for c in t["by_clause"] if c["clause"]["id"] == "reply")
    assert reply["breached"] > 0 and reply["met"] > 0
    assert (
        sum(d["count"] for d in t["breaches_by_day"])
        == report.data["summary"]["by_kind"]["deadline"]
        + report.data["summary"]["by_kind"]["escalation"]
    )


# ---- versions -----------------------------------------------------------------------------


def test_each_record_is_judged_by_the_version_in_force() -> None:
    v1 = csdsl.load(EX / "versions" / "feedback_v1.csp")
    v2 = csdsl.load(EX / "versions" / "feedback_v2.csp")
    report = audit([v2, v1], records=RECORDS["Complaint"])
    versions = report.data["versions"]
    assert [v["version"] for v in versions] == ["1.0", "1.1"]
    assert versions[0]["until"] == versions[1]["from"] == "2024-12-01"
    december = 0
    for row in v1.validate_file(RECORDS["Complaint"]):
        if row.verdict is not None:
            december += row.id.startswith("C-202412")
    assert versions[1]["judged"]["Complaint"] == december
    assert versions[0]["judged"]["Complaint"] == 240 - december
    # the ids are C-<day received>-<serial>: December's are judged by 1.1 (12 hours), the rest
    # by 1.0 (24 hours)
    want = set()
    for version, policy in (("1.0", v1), ("1.1", v2)):
        for row in policy.validate_file(RECORDS["Complaint"]):
            december = row.id is not None and str(row.id).startswith("C-202412")
            if row.verdict is not None and row.verdict.valid and december == (version == "1.1"):
                want.add((row.id, version))
    got = {(f["record"], f["version"]) for f in report.findings}
    assert got == want
    assert any(v == "1.1" for _, v in want) and any(v == "1.0" for _, v in want)
    # a complaint filed 12-24 hours late counts in December only
    assert {
        f["clause"]["file"].rsplit("/", 1)[-1] for f in report.findings if f["version"] == "1.1"
    } == {"feedback_v2.csp"}


def test_records_before_the_first_version_are_judged_by_it_and_counted(tmp_path: Path) -> None:
    v2 = csdsl.load(EX / "versions" / "feedback_v2.csp")
    report = audit([v2], records=RECORDS["Complaint"])
    before = sum(
        1
        for row in v2.validate_file(RECORDS["Complaint"])
        if row.verdict is not None and str(row.id) < "C-20241201"
    )
    assert before > 0
    assert report.data["summary"]["before_first_version"] == before
    assert report.data["versions"][0]["judged"]["Complaint"] == 240


def test_versions_need_distinct_effective_dates() -> None:
    v1 = csdsl.load(EX / "versions" / "feedback_v1.csp")
    with pytest.raises(AuditError, match="both take effect"):
        audit([v1, v1], records=RECORDS["Complaint"])


# ---- the command line ---------------------------------------------------------------------


def _audit(tmp_path: Path, *extra: str) -> int:
    return main(["audit", str(HOTLINE), "--out", str(tmp_path / "out"), *extra])


def test_cli_writes_reports_and_fail_on(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["--records", str(RECORDS["Complaint"]), "--records", f"Call={RECORDS['Call']}"]
    assert _audit(tmp_path, *args) == 0
    out = capsys.readouterr().out
    assert "FAIL: wrote" in out and "bad rows" in out
    assert (tmp_path / "out" / "report.html").exists()
    assert _audit(tmp_path, *args, "--fail-on", "violation") == 1
    assert _audit(tmp_path, *args, "--fail-on", "error") == 1  # the examples have bad rows
    data = json.loads((tmp_path / "out" / "report.json").read_text(encoding="utf-8"))
    assert data["command"].startswith("csdsl audit ")


def test_cli_fail_on_error_passes_on_clean_data(tmp_path: Path, hotline: csdsl.Policy) -> None:
    clean = tmp_path / "clean.jsonl"
    lines = RECORDS["Complaint"].read_text(encoding="utf-8").splitlines()
    good = [r.line for r in hotline.validate_file(RECORDS["Complaint"]) if r.error is None]
    clean.write_text("\n".join(lines[n - 1] for n in good) + "\n", encoding="utf-8")
    assert _audit(tmp_path, "--records", str(clean), "--fail-on", "error") == 0
    data = json.loads((tmp_path / "out" / "report.json").read_text(encoding="utf-8"))
    assert (data["summary"]["records"], data["summary"]["bad_rows"]) == (240, 0)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "nothing to audit"),
        (["--records", "Nope=x.jsonl"], "no record type `Nope`"),
        (["--records", "examples/missing.jsonl"], "no such file"),
        (["--records", "examples/README.md"], "unknown file type"),
        (
            [
                "--events",
                "examples/complaint_events.jsonl",
                "--records",
                "Call=examples/calls.jsonl",
            ],
            "no --records for `Complaint`",
        ),
        (["--records", "a.jsonl", "--records", "b.jsonl"], "several files without a type"),
        (["--records", "examples/complaints.jsonl", "--now", "soon"], "--now"),
    ],
)
def test_cli_usage_errors_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    assert _audit(tmp_path, *[a.replace("examples/", f"{EX}/") for a in args]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_cli_several_versions(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "audit",
            str(EX / "versions" / "feedback_v1.csp"),
            str(EX / "versions" / "feedback_v2.csp"),
            "--records",
            str(RECORDS["Complaint"]),
            "--out",
            str(tmp_path),
            "--format",
            "json",
        ]
    )
    assert code == 0
    summary = json.loads(capsys.readouterr().out)["summary"]
    assert summary["records"] == 240
    data = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert [v["version"] for v in data["versions"]] == ["1.0", "1.1"]


def test_a_kpi_without_its_records_is_not_applicable_not_absent() -> None:
    report = csdsl.audit(csdsl.load(HOTLINE), records={"Call": RECORDS["Call"]})
    kpis = {k["metric"]: k for k in report.data["kpis"]}
    assert set(kpis) >= {m.name for m in csdsl.load(HOTLINE).ir.metrics}
    inquiry = kpis["inquiry_reply_rate"]
    assert (inquiry["status"], inquiry["value"]) == ("not_applicable", None)
    assert inquiry["reason"] == "no --records for `Inquiry`"
    assert kpis["connection_rate"]["status"] == "pass"


def test_a_file_of_the_wrong_type_is_warned_about(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _audit(tmp_path, "--records", str(RECORDS["Call"])) == 0
    err = capsys.readouterr().err
    assert "none of its 3004 rows could be read as `Complaint`" in err
    data = json.loads((tmp_path / "out" / "report.json").read_text(encoding="utf-8"))
    assert data["warnings"] and data["summary"]["bad_rows"] == 3004


def test_a_run_that_stops_leaves_no_partial_findings(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with pytest.raises(csdsl.InputError):
        csdsl.audit(
            csdsl.load(HOTLINE),
            records={"Complaint": RECORDS["Complaint"], "Call": tmp_path / "missing.jsonl"},
            out=out,
        )
    assert sorted(p.name for p in out.iterdir()) == []


def test_the_duckdb_engine_gives_the_same_report(run: tuple[Path, Any], tmp_path: Path) -> None:
    _, python = run
    duck = csdsl.audit(
        csdsl.load(HOTLINE),
        records=RECORDS,
        events=EX / "complaint_events.jsonl",
        transcripts=EX / "transcripts.jsonl",
        engine="duckdb",
        out=tmp_path,
    )
    differ = {k for k in python.data if python.data[k] != duck.data[k]}
    assert differ == {"generated_at", "engine", "timelines"}
    assert duck.data["engine"] == "duckdb"
    # the clocks ran in SQL, every clause of them, and agree with the Python engine's
    duck_tl, python_tl = dict(duck.data["timelines"]), dict(python.data["timelines"])
    where = duck_tl.pop("computed_by")
    assert python_tl.pop("computed_by") == {"engine": "python"}
    assert where == {
        "engine": "duckdb",
        "sql": ["reply", "reply_48h", "reply_promised", "manager_reply", "complaint_ladder"],
        "python": {},
        "cases_handed_to_python": 0,
    }
    assert duck_tl == python_tl
    every = sorted((tmp_path / "findings.jsonl").read_text(encoding="utf-8").splitlines())
    python_every = (run[0] / "findings.jsonl").read_text(encoding="utf-8").splitlines()
    assert every and every == sorted(python_every)


def test_versions_agree_across_engines() -> None:
    versions = [csdsl.load(EX / "versions" / f"feedback_v{n}.csp") for n in (1, 2)]
    a = csdsl.audit(versions, records=RECORDS["Complaint"])
    b = csdsl.audit(versions, records=RECORDS["Complaint"], engine="duckdb")
    for key in ("versions", "summary", "validity", "kpis", "bad_rows", "inputs"):
        assert a.data[key] == b.data[key], key
    assert sorted(map(str, a.findings)) == sorted(map(str, b.findings))


def test_unknown_verdicts_are_counted_alike_by_both_engines(tmp_path: Path) -> None:
    policy = tmp_path / "p.csp"
    policy.write_text(
        'policy "p" timezone "Asia/Shanghai"\n'
        "record R { at: datetime, x: number?, y: bool }\n"
        'valid R when any { big "x is large": x > 5, flag "y": y }\n',
        encoding="utf-8",
    )
    rows = tmp_path / "r.jsonl"
    rows.write_text(
        '{"id": 1, "at": "2024-11-01T09:00:00", "x": 9, "y": false}\n'  # valid
        '{"id": 2, "at": "2024-11-01T09:00:00", "x": 1, "y": false}\n'  # invalid
        '{"id": 3, "at": "2024-11-01T09:00:00", "y": false}\n'  # unknown: x is missing
        '{"id": 4, "at": "2024-11-01T09:00:00", "y": true}\n',  # valid whatever x is
        encoding="utf-8",
    )
    want = {"record": "R", "judged": 4, "valid": 2, "invalid": 1, "unknown": 1}
    for engine in ("python", "duckdb"):
        got = csdsl.audit(csdsl.load(policy), records=rows, engine=engine).data["validity"]
        assert {k: got[k] for k in want} == want, engine


def test_parquet_complaints_with_clocks_on_the_duckdb_engine(tmp_path: Path) -> None:
    """The DuckDB engine reads a Parquet file in its Python pass too (the clocks and the KPIs
    that count a clock's status need it): the report equals the Python engine's over the same
    rows as JSON lines (the pass used to stop: `.parquet` is not a file the Python reader
    reads)."""
    import duckdb

    policy = csdsl.load(HOTLINE)
    reader = policy.reader("Complaint")
    lines = (EX / "complaints.jsonl").read_text(encoding="utf-8").splitlines()
    good = [lines[r.line - 1] for r in reader.read(str(EX / "complaints.jsonl")) if r.error is None]
    jsonl = tmp_path / "complaints.jsonl"
    jsonl.write_text("\n".join(good) + "\n", encoding="utf-8")
    parquet = tmp_path / "complaints.parquet"
    con = duckdb.connect()
    con.execute(
        f"COPY (SELECT * FROM read_ndjson_auto(?)) TO '{parquet}' (FORMAT parquet)", [str(jsonl)]
    )
    con.close()
    reports = {}
    for engine, path in (("python", jsonl), ("duckdb", parquet)):
        reports[engine] = csdsl.audit(
            policy,
            records={"Complaint": path},
            events=EX / "complaint_events.jsonl",
            engine=engine,
            out=tmp_path / engine,
        ).data
    py, duck = reports["python"], reports["duckdb"]
    assert duck["summary"] == py["summary"]
    assert duck["summary"]["findings"] > 0
    assert duck["kpis"] == py["kpis"]
    py_tl, duck_tl = dict(py["timelines"]), dict(duck["timelines"])
    assert duck_tl.pop("computed_by")["engine"] == "duckdb"
    py_tl.pop("computed_by")
    assert duck_tl == py_tl

    def findings(engine: str) -> list[str]:
        out = []
        for f in iter_findings(tmp_path / engine / "findings.jsonl"):
            f.pop("input")
            out.append(json.dumps(f, sort_keys=True))
        return sorted(out)

    assert findings("duckdb") == findings("python")


def test_a_file_duckdb_cannot_read_as_parquet_says_so(tmp_path: Path) -> None:
    from csdsl.duck import DuckEngine

    bad = tmp_path / "complaints.parquet"
    bad.write_text("not parquet\n", encoding="utf-8")
    with DuckEngine(csdsl.load(HOTLINE)) as engine, pytest.raises(csdsl.InputError) as got:
        list(engine.rows(bad, "Complaint"))
    message = str(got.value)
    assert message.startswith(f"{bad}: cannot be read as Parquet (")
    assert message.endswith("export it as .jsonl or .csv") and "\n" not in message


def test_findings_carry_agent_and_team_alike_on_both_engines(tmp_path: Path) -> None:
    """Every finding has `agent` and `team`: from the judged record's fields of those names
    when its type declares them (null when the row has no value), from a transcript's
    top-level `agent` / `team`; the python and duckdb engines agree."""
    policy = tmp_path / "p.csp"
    policy.write_text(
        'policy "p" timezone "Asia/Shanghai"\n'
        "record R { at: datetime, x: number, agent: text?, team: text? }\n"
        "record S { at: datetime, x: number }\n"
        'valid R when any { big "x is large": x > 5 }\n'
        'valid S when any { big_s "x is large": x > 5 }\n',
        encoding="utf-8",
    )
    rows = tmp_path / "r.jsonl"
    rows.write_text(
        '{"id": 1, "at": "2024-11-01T09:00:00", "x": 9, "agent": "A-1", "team": "east"}\n'
        '{"id": 2, "at": "2024-11-01T09:00:00", "x": 7, "team": "west"}\n'
        '{"id": 3, "at": "2024-11-01T09:00:00", "x": 1, "agent": "A-2", "team": "west"}\n'
        '{"id": 4, "at": "2024-11-01T09:00:00", "x": "nine", "agent": "A-3"}\n',  # bad row
        encoding="utf-8",
    )
    other = tmp_path / "s.jsonl"
    other.write_text('{"id": 5, "at": "2024-11-01T09:00:00", "x": 8}\n', encoding="utf-8")
    got = {}
    for engine in ("python", "duckdb"):
        report = csdsl.audit(
            csdsl.load(policy),
            records={"R": rows, "S": other},
            engine=engine,
            out=tmp_path / engine,
        )
        got[engine] = sorted(
            (f["record"], f["agent"], f["team"])
            for f in iter_findings(tmp_path / engine / "findings.jsonl")
        )
        assert all({"agent", "team"} <= f.keys() for f in report.data["findings"]["items"])
    assert got["python"] == [(1, "A-1", "east"), (2, None, "west"), (5, None, None)]
    assert got["duckdb"] == got["python"]


def test_transcript_findings_carry_the_transcripts_agent_and_team(tmp_path: Path) -> None:
    transcripts = tmp_path / "t.jsonl"
    lines = (EX / "transcripts.jsonl").read_text(encoding="utf-8").splitlines()[:40]
    objs = [json.loads(x) for x in lines]
    for n, o in enumerate(objs):
        o["team"] = f"team-{n % 3}"
    transcripts.write_text(
        "".join(json.dumps(o, ensure_ascii=False) + "\n" for o in objs), encoding="utf-8"
    )
    report = csdsl.audit(csdsl.load(HOTLINE), transcripts=transcripts)
    by_id = {o["id"]: (o.get("agent"), o["team"]) for o in objs}
    assert report.findings
    for f in report.findings:
        assert (f["agent"], f["team"]) == by_id[f["record"]]

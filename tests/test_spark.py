"""`csdsl audit --engine spark` on a real local Apache Spark (`local[2]`), against the Python
engine: the same findings, KPIs, validity section and bad rows.  One SparkSession for the whole
test run; every test that needs it is marked `spark` (deselect with `-m 'not spark'`) and is
skipped without pyspark or a Java runtime."""

from __future__ import annotations

import builtins
import datetime as dt
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest

import csdsl
from csdsl.auditor import audit
from csdsl.cli import main

ROOT = Path(__file__).resolve().parents[1]
EX = ROOT / "examples"
HOTLINE = ROOT / "policies" / "hotline.csp"
MASTER = "local[2]"
VOLATILE = ("generated_at", "engine", "command")


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    pytest.importorskip("pyspark", reason="the spark extra is not installed")
    pytest.importorskip("pandas", reason="the spark extra is not installed")
    pytest.importorskip("pyarrow", reason="the spark extra is not installed")
    from csdsl.spark import SparkUnavailable, spark_session

    try:
        session = spark_session(MASTER)
    except SparkUnavailable as exc:
        pytest.skip(str(exc))
    yield session
    session.stop()


@pytest.fixture(scope="module")
def hotline() -> csdsl.Policy:
    return csdsl.load(HOTLINE)


def both(
    policy: csdsl.Policy, tmp_path: Path, **inputs: Any
) -> tuple[dict[str, Any], dict[str, Any], list[str], list[str]]:
    """The reports and findings of the python and spark engines on the same inputs."""
    out = {}
    for engine in ("python", "spark"):
        extra = {"spark_master": MASTER} if engine == "spark" else {}
        report = audit(policy, engine=engine, out=tmp_path / engine, **inputs, **extra)
        findings = (tmp_path / engine / "findings.jsonl").read_text(encoding="utf-8")
        out[engine] = (report.data, findings.splitlines())
    (py, py_f), (sp, sp_f) = out["python"], out["spark"]
    return py, sp, py_f, sp_f


def same(py: dict[str, Any], sp: dict[str, Any]) -> None:
    assert sp["engine"] == "spark"
    for key in py:
        if key not in VOLATILE:
            assert sp[key] == py[key], key


@pytest.mark.spark
def test_readme_audit_is_the_same_on_spark(
    spark: Any, hotline: csdsl.Policy, tmp_path: Path
) -> None:
    """The README's first command: complaints (8 bad rows), calls, inquiries (CSV), the event
    log and the transcripts; every section of report.json and every finding agree."""
    py, sp, py_f, sp_f = both(
        hotline,
        tmp_path,
        records={
            "Complaint": EX / "complaints.jsonl",
            "Call": EX / "calls.jsonl",
            "Inquiry": EX / "inquiries.csv",
        },
        events=EX / "complaint_events.jsonl",
        transcripts=EX / "transcripts.jsonl",
    )
    same(py, sp)
    assert sorted(sp_f) == sorted(py_f)  # SQL finds the valid complaints before the clocks
    assert py["summary"]["by_kind"]["valid_complaint"] > 0 and py["kpis"]
    assert py["bad_rows"]["total"] == sp["bad_rows"]["total"] > 0


def bad_jsonl() -> list[str]:
    """Example complaints, and copies of them broken in the ways a reader must report."""
    good = [json.loads(t) for t in (EX / "complaints.jsonl").read_text("utf-8").splitlines()[:12]]

    def broken(i: int, **change: Any) -> str:
        obj = {**good[i], **change}
        return json.dumps({k: v for k, v in obj.items() if v is not ...}, ensure_ascii=False)

    return [
        broken(0),
        "",
        "{not json",
        "[1, 2]",
        broken(1, id=...),  # R008
        broken(2, received_at="yesterday"),  # R005
        broken(3, complexity="weird"),  # R006
        broken(4, agent_rude="yes"),  # R004
        broken(5, id=True),  # R004 on the id
        broken(6, id=8, received_at="2024-10-29 10:00"),  # a number id, a naive datetime
        broken(7, loss_amount=1200.5, data_lost=True, tier="key_account"),
        broken(8, team=...),  # R003
        "   ",
        broken(9, reply_time="30m2h"),  # read as 2h30m
        broken(10),
        broken(11, received_at="2024-10-29T09:00:00Z"),
    ]


@pytest.mark.spark
def test_bad_rows_have_the_python_readers_codes_and_lines(
    spark: Any, hotline: csdsl.Policy, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Blank lines, CRLF ends, a byte-order mark, and rows that are not JSON, not an object,
    without an id, with a bad date, enum, bool or number: the same bad rows (code, message,
    line, id), the same validity counts and findings as the Python engine."""
    import csdsl.spark

    monkeypatch.setattr(csdsl.spark, "PAGE", 5)  # the rows come to the driver in 4 pages
    path = tmp_path / "bad.jsonl"
    path.write_bytes(("\ufeff" + "\r\n".join(bad_jsonl()) + "\r\n").encode("utf-8"))
    py, sp, py_f, sp_f = both(hotline, tmp_path, records={"Complaint": path})
    same(py, sp)
    assert sorted(sp_f) == sorted(py_f)
    codes = {item["code"] for item in sp["bad_rows"]["items"]}
    assert {"R001", "R002", "R003", "R004", "R005", "R006", "R008"} <= codes
    assert sp["validity"]["judged"] == py["validity"]["judged"] == 6
    assert sp["bad_rows"]["total"] == 8


@pytest.mark.spark
def test_csv_bad_rows_and_a_cell_spanning_lines(
    spark: Any, hotline: csdsl.Policy, tmp_path: Path
) -> None:
    """CSV: a row with the wrong number of cells (R007) and bad values, typed on the
    executors; a quoted cell spanning lines sends the file to the Python reader on the driver,
    and the report says so."""
    lines = (EX / "inquiries.csv").read_text(encoding="utf-8").splitlines()
    plain = tmp_path / "plain.csv"
    plain.write_text(
        "\n".join([*lines[:20], "I-X1,2024-10-29T09:00", "I-X2,not a date,t1,true,true,true"])
        + "\n",
        encoding="utf-8",
    )
    py, sp, _, _ = both(hotline, tmp_path / "plain", records={"Inquiry": plain})
    same(py, sp)
    assert {i["code"] for i in sp["bad_rows"]["items"]} >= {"R007"}
    header, first = lines[0], lines[1].split(",")
    first[0] = '"I-\nspan"'
    spanning = tmp_path / "spanning.csv"
    spanning.write_text("\n".join([header, ",".join(first), *lines[2:10]]) + "\n", "utf-8")
    report = audit(hotline, records={"Inquiry": spanning}, engine="spark", spark_master=MASTER).data
    reference = audit(hotline, records={"Inquiry": spanning}).data
    assert report["kpis"] == reference["kpis"]
    assert any("read by the Python reader on the driver" in w for w in report["warnings"])


def _parquet(policy: csdsl.Policy, tmp_path: Path) -> Path:
    """The readable complaints of the examples as Parquet: typed columns (bool, number, text)
    and `received_at` a TIMESTAMP WITH TIME ZONE."""
    record = policy.reader("Complaint").record
    source = tmp_path / "good.jsonl"
    rows = policy.reader("Complaint").read(str(EX / "complaints.jsonl"))
    good = {r.line for r in rows if r.values is not None}
    texts = (EX / "complaints.jsonl").read_text(encoding="utf-8").splitlines()
    source.write_text(
        "\n".join(t for n, t in enumerate(texts, 1) if n in good) + "\n", encoding="utf-8"
    )
    kinds = {"bool": "BOOLEAN", "int": "BIGINT", "number": "DOUBLE"}
    columns = {"id": "VARCHAR"} | {
        f.name: kinds.get(f.type.kind.value, "VARCHAR") for f in record.fields
    }
    typed = ", ".join(
        f'CAST("{k}" AS TIMESTAMPTZ) AS "{k}"' if k == "received_at" else f'"{k}"' for k in columns
    )
    target = tmp_path / "good.parquet"
    con = duckdb.connect()
    con.execute("LOAD icu")
    con.execute("SET TimeZone = 'Asia/Shanghai'")
    con.execute(
        f"COPY (SELECT {typed} FROM read_json(?, format = 'newline_delimited', columns = ?)) "
        "TO '" + str(target).replace("'", "''") + "' (FORMAT parquet)",
        [str(source), columns],
    )
    return target


def _judged(data: dict[str, Any]) -> tuple[Any, list[tuple[Any, ...]]]:
    findings = [
        (f["record"], f["clause"]["id"], json.dumps(f["evidence"], sort_keys=True))
        for f in data["findings"]["items"]
        if f["kind"] == "valid_complaint"
    ]
    return data["validity"], sorted(findings)


@pytest.mark.spark
def test_parquet_and_a_catalog_table(spark: Any, hotline: csdsl.Policy, tmp_path: Path) -> None:
    """A Parquet input and the same rows as a table in Spark's catalog (`table:NAME`) give the
    verdicts, evidence and KPIs the Python engine gives on the JSONL they came from."""
    parquet = _parquet(hotline, tmp_path)
    reference = audit(hotline, records={"Complaint": tmp_path / "good.jsonl"}).data
    on_parquet = audit(
        hotline, records={"Complaint": parquet}, engine="spark", spark_master=MASTER
    ).data
    assert on_parquet["bad_rows"]["total"] == 0
    assert on_parquet["inputs"][0]["rows"] == reference["inputs"][0]["rows"]
    want = _judged(reference)
    # a whole number read from a DOUBLE column is 1200.0 where the JSONL says 1200: the same
    assert _judged(on_parquet)[0] == want[0]
    assert len(_judged(on_parquet)[1]) == len(want[1])
    assert on_parquet["kpis"] == reference["kpis"]
    spark.read.parquet(str(parquet)).createOrReplaceTempView("csdsl_test_complaints")
    on_table = audit(
        hotline,
        records={"Complaint": "table:csdsl_test_complaints"},
        engine="spark",
        spark_master=MASTER,
    ).data
    assert _judged(on_table) == _judged(on_parquet)
    assert on_table["kpis"] == reference["kpis"]
    assert on_table["inputs"][0]["path"] == "table:csdsl_test_complaints"
    # the clocks run in the Python pass, over the rows Spark typed from the table
    with_events = {
        "events": EX / "complaint_events.jsonl",
        "now": dt.datetime(2024, 12, 20, tzinfo=dt.UTC),
    }
    on_clocks = audit(
        hotline,
        records={"Complaint": "table:csdsl_test_complaints"},
        engine="spark",
        spark_master=MASTER,
        **with_events,
    ).data
    reference = audit(hotline, records={"Complaint": tmp_path / "good.jsonl"}, **with_events).data
    assert on_clocks["timelines"] == reference["timelines"]
    assert on_clocks["kpis"] == reference["kpis"]


def test_missing_extra_is_a_one_line_usage_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without pyspark: exit 2 and the one line that says how to install it (no Spark run)."""
    import csdsl.spark

    real = builtins.__import__

    def no_pyspark(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "pyspark" or name.startswith("pyspark."):
            raise ImportError(f"No module named {name!r}")
        return real(name, *args, **kwargs)

    monkeypatch.setattr(csdsl.spark, "_SESSIONS", {})
    monkeypatch.setattr(builtins, "__import__", no_pyspark)
    code = main(
        [
            "audit",
            str(HOTLINE),
            "--records",
            str(EX / "complaints.jsonl"),
            "--engine",
            "spark",
            "--out",
            str(tmp_path / "out"),
        ]
    )
    err = capsys.readouterr().err
    assert code == 2
    assert err.strip() == "csdsl: --engine spark needs the spark extra: pip install 'csdsl[spark]'"


def test_missing_java_is_a_one_line_usage_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("pyspark", reason="the spark extra is not installed")
    import csdsl.spark

    monkeypatch.setattr(csdsl.spark, "_SESSIONS", {})
    monkeypatch.setattr(shutil, "which", lambda name: None)
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.delenv("SPARK_REMOTE", raising=False)
    code = main(
        [
            "audit",
            str(HOTLINE),
            "--records",
            str(EX / "complaints.jsonl"),
            "--engine",
            "spark",
            "--spark-master",
            "local[1]",
            "--out",
            str(tmp_path / "out"),
        ]
    )
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and "a Java runtime" in err and "csdsl[spark]" in err

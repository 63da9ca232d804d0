"""Audit throughput on a large generated export (not part of the test run).

Generates N complaints (default 1,000,000) with their event log and N calls, by repeating the
bundled examples under new ids (examples/complaints.jsonl, complaint_events.jsonl, calls.jsonl),
then runs `csdsl audit policies/hotline.csp` in a fresh process per measurement and records
wall time, records per second and peak memory (the child's maximum resident set size):

1. `kpis+validity`: complaints and calls, no event log: what the DuckDB engine compiles to SQL
   (validity conditions and KPIs), python engine vs duckdb engine;
2. `full`: the same plus the event log (reply deadlines and the escalation ladder: the duckdb
   engine judges them in SQL, fed by its Python pass over the records and the event log; see
   docs/scale.md).

`--engines python,duckdb,spark` adds the Spark engine (the spark extra and Java; master
`--spark-master`, default `local[2]`): its time includes starting the JVM, and its peak memory
is the largest process's (the JVM's, when it is waited for), not the sum.

    python benchmarks/bench_audit.py                  # 1M records (~15 minutes, ~2 GB of /tmp)
    python benchmarks/bench_audit.py --n 100000       # a smaller run
    python benchmarks/bench_audit.py --only kpis+validity
    python benchmarks/bench_audit.py --n 100000 --parquet --only full   # and the Parquet inputs

Writes benchmarks/results/audit-<UTC stamp>.json and prints a summary table.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
EX = ROOT / "examples"
POLICY = ROOT / "policies" / "hotline.csp"


def _objects(path: Path) -> list[dict[str, Any]]:
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            obj = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(obj, dict):
            out.append(obj)
    return out


def generate(n: int, into: Path) -> dict[str, Path]:
    """N complaints (copies of the good and bad example rows under new ids), their events, and N
    calls.  Copy k of complaint C gets id `C~k`; its events follow it."""
    complaints = _objects(EX / "complaints.jsonl")
    events: dict[str, list[dict[str, Any]]] = {}
    for e in _objects(EX / "complaint_events.jsonl"):
        events.setdefault(str(e.get("case")), []).append(e)
    calls = _objects(EX / "calls.jsonl")
    paths = {
        "complaints": into / "complaints.jsonl",
        "events": into / "events.jsonl",
        "calls": into / "calls.jsonl",
    }
    with (
        paths["complaints"].open("w", encoding="utf-8") as rf,
        paths["events"].open("w", encoding="utf-8") as ef,
        paths["calls"].open("w", encoding="utf-8") as cf,
    ):
        for k in range(n):
            base = complaints[k % len(complaints)]
            rid = f"{base.get('id')}~{k}"
            rf.write(json.dumps({**base, "id": rid}, ensure_ascii=False) + "\n")
            for e in events.get(str(base.get("id")), ()):
                ef.write(json.dumps({**e, "case": rid}, ensure_ascii=False) + "\n")
            call = calls[k % len(calls)]
            cf.write(json.dumps({**call, "id": f"{call['id']}~{k}"}, ensure_ascii=False) + "\n")
    return paths


def to_parquet(paths: dict[str, Path], into: Path) -> dict[str, Path]:
    """The complaints and calls as Parquet files, as DuckDB types the JSON lines it can read
    (the export's bad lines are left out, so these runs read fewer bad rows)."""
    import duckdb

    out = {}
    con = duckdb.connect()
    for key in ("complaints", "calls"):
        dest = into / f"{key}.parquet"
        con.execute(
            "COPY (SELECT * FROM read_ndjson_auto(?, ignore_errors = true)) TO "
            f"'{dest}' (FORMAT parquet)",
            [str(paths[key])],
        )
        out[key] = dest
    con.close()
    return out


def measure(args: list[str], out: Path) -> dict[str, Any]:
    """Run `csdsl audit ...` in a child process: wall time and the child's peak RSS."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "csdsl", "audit", str(POLICY), "--out", str(out), *args],
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - start
    # ru_maxrss of the children is the largest child so far; each run is measured in its own
    # helper process (see `main`) so that this is this run's peak
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if proc.returncode not in (0, 1):
        raise SystemExit(f"audit failed ({proc.returncode}):\n{proc.stderr}")
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    return {
        "seconds": round(seconds, 2),
        "peak_rss_mib": round(max(peak_kib, before) / 1024, 1),
        "records": report["summary"]["records"],
        "findings": report["summary"]["findings"],
        "bad_rows": report["summary"]["bad_rows"],
        "kpis": report["summary"]["kpis"],
    }


def _one(argv: list[str]) -> None:
    """Child mode: run one measurement and print it as JSON (so that RUSAGE_CHILDREN is fresh)."""
    out = Path(argv[0])
    print(json.dumps(measure(argv[1:], out)))


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--one":
        _one(sys.argv[2:])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="complaints (and calls)")
    parser.add_argument("--only", choices=("kpis+validity", "full"), help="run one scenario")
    parser.add_argument("--engines", default="python,duckdb")
    parser.add_argument("--spark-master", default="local[2]", help="for --engines ...,spark")
    parser.add_argument(
        "--parquet",
        action="store_true",
        help="also each scenario with the complaints and calls as Parquet (duckdb and spark)",
    )
    args = parser.parse_args()
    results: dict[str, Any] = {
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {platform.python_version()}",
        "n": args.n,
        "runs": {},
    }
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        paths = generate(args.n, Path(tmp))
        results["generate_seconds"] = round(time.perf_counter() - t0, 1)
        base = ["--records", str(paths["complaints"]), "--records", f"Call={paths['calls']}"]
        scenarios = {
            "kpis+validity": base,
            "full": [*base, "--events", str(paths["events"])],
        }
        if args.parquet:
            pq = to_parquet(paths, Path(tmp))
            base_pq = ["--records", str(pq["complaints"]), "--records", f"Call={pq['calls']}"]
            scenarios["kpis+validity/parquet"] = base_pq
            scenarios["full/parquet"] = [*base_pq, "--events", str(paths["events"])]
        for name, extra in scenarios.items():
            if args.only and name.split("/")[0] != args.only:
                continue
            for engine in args.engines.split(","):
                if name.endswith("/parquet") and engine == "python":
                    continue  # the Python engine does not read Parquet
                out = Path(tmp) / f"out-{name}-{engine}"
                spark = ["--spark-master", args.spark_master] if engine == "spark" else []
                command = [sys.executable, __file__, "--one", str(out), *extra]
                proc = subprocess.run(
                    [*command, "--engine", engine, *spark],
                    capture_output=True,
                    text=True,
                    check=False,
                )
                if proc.returncode != 0:
                    raise SystemExit(proc.stderr or proc.stdout)
                run = json.loads(proc.stdout)
                run["records_per_second"] = round(run["records"] / run["seconds"])
                results["runs"][f"{name}/{engine}"] = run
                print(
                    f"{name:14} {engine:7} {run['seconds']:8.1f} s "
                    f"{run['records_per_second']:>10,} records/s "
                    f"peak {run['peak_rss_mib']:7.1f} MiB",
                    flush=True,
                )
            # (a Parquet scenario against the Python engine on the same rows as JSON lines)
            py = results["runs"].get(f"{name.split('/')[0]}/python")
            duck, spark_run = (results["runs"].get(f"{name}/{e}") for e in ("duckdb", "spark"))
            if py and duck:
                results["runs"][f"{name}/speedup"] = round(py["seconds"] / duck["seconds"], 1)
                print(f"{name:14} speed-up duckdb/python: {py['seconds'] / duck['seconds']:.1f}x")
            if py and spark_run:
                ratio = py["seconds"] / spark_run["seconds"]
                results["runs"][f"{name}/speedup-spark"] = round(ratio, 1)
                print(f"{name:14} speed-up spark/python: {ratio:.1f}x")
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    dest = ROOT / "benchmarks" / "results" / f"audit-{stamp}.json"
    dest.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {dest.relative_to(ROOT)}")


if __name__ == "__main__":
    main()

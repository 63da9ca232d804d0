"""Start-up of the CLI: cold (compile the policy) vs warm (the compiled-policy cache).

Runs `csdsl validate POLICY one-record.jsonl` in fresh processes, for each bundled policy with a
validity block: `--runs` times with no cache (`CSDSL_NO_CACHE=1`: parse, resolve, check) and
`--runs` times with a warm cache (the first run stored the compiled form).  Reports the median
wall time of each, and of `python -c "import csdsl.cli"` as the floor every run pays.

    python benchmarks/bench_startup.py            # ~1 minute
    python benchmarks/bench_startup.py --runs 5

Writes benchmarks/results/startup-<UTC stamp>.json and prints a table.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
POLICIES = ("complaint_validity.csp", "hotline.csp")
RECORD = ROOT / "examples" / "complaints.jsonl"


def _time(cmd: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False, cwd=ROOT)
    seconds = time.perf_counter() - start
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    results: dict[str, Any] = {
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "runs": args.runs,
        "policies": {},
    }
    with tempfile.TemporaryDirectory() as tmp:
        one = Path(tmp) / "one.jsonl"
        one.write_text(RECORD.read_text(encoding="utf-8").splitlines()[0] + "\n", "utf-8")
        base = {k: v for k, v in os.environ.items() if not k.startswith("CSDSL_")}
        cold_env = {**base, "CSDSL_NO_CACHE": "1"}
        warm_env = {**base, "CSDSL_CACHE_DIR": str(Path(tmp) / "cache")}
        floor = [
            _time([sys.executable, "-c", "import csdsl.cli"], cold_env) for _ in range(args.runs)
        ]
        results["import_cli_s"] = round(statistics.median(floor), 4)
        for name in POLICIES:
            cmd = [sys.executable, "-m", "csdsl", "validate", f"policies/{name}", str(one)]
            if name == "hotline.csp":
                cmd += ["--record", "Complaint"]
            cold = [_time(cmd, cold_env) for _ in range(args.runs)]
            _time(cmd, warm_env)  # fills the cache
            warm = [_time(cmd, warm_env) for _ in range(args.runs)]
            results["policies"][name] = {
                "cold_s": round(statistics.median(cold), 4),
                "warm_s": round(statistics.median(warm), 4),
                "speedup": round(statistics.median(cold) / statistics.median(warm), 2),
            }
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    out = ROOT / "benchmarks" / "results" / f"startup-{stamp}.json"
    out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"import csdsl.cli: {results['import_cli_s'] * 1000:.0f} ms (median of {args.runs})")
    print(f"{'policy':<26}{'cold':>10}{'warm':>10}{'speedup':>9}")
    for name, r in results["policies"].items():
        print(
            f"{name:<26}{r['cold_s'] * 1000:>8.0f}ms{r['warm_s'] * 1000:>8.0f}ms"
            f"{r['speedup']:>8.2f}x"
        )
    print(f"written to {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()

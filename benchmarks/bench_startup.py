"""Start-up of the CLI: cold (compile the policy) vs warm (the compiled-policy cache).

Runs `csdsl validate POLICY one-record.jsonl` in fresh processes, for each bundled policy with a
validity block: `--runs` times with no cache (`CSDSL_NO_CACHE=1`: parse, resolve, check) and
`--runs` times with a warm cache (the first run stored the compiled form).  Reports the median
wall time of each, and of `python -c "import csdsl.cli"` as the floor every run pays, and, in
one process, the median time of the warm `csdsl.cache.lookup` alone (open and check the cache
directory, the entry and the key, verify the entry's HMAC, unpickle, hash the policy's files).

    python benchmarks/bench_startup.py            # ~1 minute
    python benchmarks/bench_startup.py --runs 5
    git worktree add /tmp/base HEAD~1             # then, against an earlier csdsl:
    python benchmarks/bench_startup.py --baseline /tmp/base

With `--baseline DIR` (another csdsl source tree), the same runs are made with `DIR/src` on the
path, interleaved run by run with this tree's, on this tree's policies: on a shared machine the
load then weighs on both alike, and the difference is the code's.

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

from csdsl import cache

ROOT = Path(__file__).resolve().parents[1]
POLICIES = ("complaint_validity.csp", "hotline.csp")
RECORD = ROOT / "examples" / "complaints.jsonl"
LOOKUP = """
import statistics, sys, time
from csdsl import cache
assert cache.lookup(sys.argv[1]) is not None, "no warm entry"
times = []
for _ in range(int(sys.argv[2])):
    start = time.perf_counter()
    cache.lookup(sys.argv[1])
    times.append(time.perf_counter() - start)
print(cache.FORMAT, statistics.median(times))
"""


def _time(cmd: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False, cwd=ROOT)
    seconds = time.perf_counter() - start
    if proc.returncode not in (0, 1) or "csdsl: note:" in proc.stderr:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr}")
    return seconds


def _lookup(policy: str, env: dict[str, str], runs: int) -> tuple[int, float]:
    """The cache format, and the median seconds of a warm `cache.lookup(policy)` in one
    process."""
    cmd = [sys.executable, "-c", LOOKUP, policy, str(runs)]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False, cwd=ROOT)
    if proc.returncode != 0:
        raise SystemExit(f"the lookup timing failed:\n{proc.stderr}")
    fmt, seconds = proc.stdout.split()
    return int(fmt), float(seconds)


def _median(times: list[float]) -> float:
    return round(statistics.median(times), 4)


def _commit(tree: Path) -> str | None:
    proc = subprocess.run(
        ["git", "-C", str(tree), "describe", "--always", "--dirty"],
        capture_output=True,
        text=True,
        check=False,
    )
    return proc.stdout.strip() or None if proc.returncode == 0 else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument(
        "--baseline",
        type=Path,
        metavar="DIR",
        help="another csdsl source tree to measure too, interleaved run by run",
    )
    args = parser.parse_args()
    trees = {"this": ROOT}
    if args.baseline is not None:
        if not (args.baseline / "src" / "csdsl").is_dir():
            parser.error(f"{args.baseline} has no src/csdsl")
        trees["baseline"] = args.baseline.resolve()
    results: dict[str, Any] = {
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "runs": args.runs,
        "cache_format": cache.FORMAT,  # 1: a bare pickle; 2: HMAC-SHA256 checked, then pickle
        "policies": {},
    }
    timings: dict[str, dict[str, Any]] = {
        tree: {"source": str(path), "commit": _commit(path), "policies": {}}
        for tree, path in trees.items()
    }
    with tempfile.TemporaryDirectory() as tmp:
        one = Path(tmp) / "one.jsonl"
        one.write_text(RECORD.read_text(encoding="utf-8").splitlines()[0] + "\n", "utf-8")
        base = {k: v for k, v in os.environ.items() if not k.startswith("CSDSL_")}
        cold_env = {}
        warm_env = {}
        for tree, path in trees.items():
            env = {**base, "PYTHONPATH": str(path / "src")}
            cold_env[tree] = {**env, "CSDSL_NO_CACHE": "1"}
            warm_env[tree] = {**env, "CSDSL_CACHE_DIR": str(Path(tmp) / f"cache-{tree}")}
        floor: dict[str, list[float]] = {tree: [] for tree in trees}
        for _ in range(args.runs):
            for tree in trees:
                floor[tree].append(
                    _time([sys.executable, "-c", "import csdsl.cli"], cold_env[tree])
                )
        for tree in trees:
            timings[tree]["import_cli_s"] = _median(floor[tree])
        for name in POLICIES:
            cmd = [sys.executable, "-m", "csdsl", "validate", f"policies/{name}", str(one)]
            if name == "hotline.csp":
                cmd += ["--record", "Complaint"]
            cold: dict[str, list[float]] = {tree: [] for tree in trees}
            warm: dict[str, list[float]] = {tree: [] for tree in trees}
            for _ in range(args.runs):
                for tree in trees:
                    cold[tree].append(_time(cmd, cold_env[tree]))
            for tree in trees:
                _time(cmd, warm_env[tree])  # fills the cache
            for _ in range(args.runs):
                for tree in trees:
                    warm[tree].append(_time(cmd, warm_env[tree]))
            for tree in trees:
                fmt, lookup = _lookup(f"policies/{name}", warm_env[tree], 20 * args.runs)
                timings[tree]["cache_format"] = fmt
                timings[tree]["policies"][name] = {
                    "cold_s": _median(cold[tree]),
                    "warm_s": _median(warm[tree]),
                    "speedup": round(
                        statistics.median(cold[tree]) / statistics.median(warm[tree]), 2
                    ),
                    "lookup_s": round(lookup, 5),
                }
    results["commit"] = timings["this"]["commit"]
    results["import_cli_s"] = timings["this"]["import_cli_s"]
    results["policies"] = timings["this"]["policies"]
    if "baseline" in timings:
        results["baseline"] = timings["baseline"]
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    out = ROOT / "benchmarks" / "results" / f"startup-{stamp}.json"
    out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    for tree, timing in timings.items():
        label = "this tree" if tree == "this" else f"baseline {timing['source']}"
        print(f"{label} (cache format {timing.get('cache_format')}):")
        print(f"  import csdsl.cli: {timing['import_cli_s'] * 1000:.0f} ms (median of {args.runs})")
        print(f"  {'policy':<26}{'cold':>10}{'warm':>10}{'speedup':>9}{'lookup':>10}")
        for name, r in timing["policies"].items():
            print(
                f"  {name:<26}{r['cold_s'] * 1000:>8.0f}ms{r['warm_s'] * 1000:>8.0f}ms"
                f"{r['speedup']:>8.2f}x{r['lookup_s'] * 1000:>8.2f}ms"
            )
    print(f"written to {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()

"""Start-up of the CLI: a cold `csdsl check`, and `validate` cold (compile the policy) vs warm
(the compiled-policy cache).

Runs in fresh processes, `--runs` times each: `csdsl check policies/hotline.csp` (parse, resolve,
check six files and fold ~260 phrases; issue 19's goal: under 0.5 s), and, for each bundled
policy with a validity block, `csdsl validate POLICY one-record.jsonl` with no cache
(`CSDSL_NO_CACHE=1`: parse, resolve, check) and with a warm cache (the first run stored the
compiled form; goal: under 0.25 s).  Reports the median wall time of each, and the median CPU
time (user + system) of the process, which a loaded machine inflates less, and the load average
before and after; also the median of `python -c "import csdsl.cli"`, the floor every run pays,
and, in one process, the median time of the warm `csdsl.cache.lookup` alone (open and check the
cache directory, the entry and the key, verify the entry's HMAC, unpickle, hash the policy's
files).

Bytecode: the runs read compiled modules, as an installed csdsl does (pip writes them at install
time).  Each tree's bytecode is written once into a private `PYTHONPYCACHEPREFIX` by a run before
the timed ones, so a `PYTHONDONTWRITEBYTECODE=1` environment (this machine's sandbox sets it)
does not make every run compile all of csdsl from source.

    python benchmarks/bench_startup.py            # ~1-2 minutes
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
CHECK = [sys.executable, "-m", "csdsl", "check", "policies/hotline.csp"]
GOAL_CHECK = 0.5  # seconds, issue 19: a cold `check` of hotline.csp
GOAL_WARM = 0.25  # a warm (cached) `validate` of hotline.csp
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


def _time(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    """The wall time of `cmd` in a fresh process, and its CPU time (user + system)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, env=env, cwd=ROOT)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        stderr = err.read().decode("utf-8", "replace")
    if proc.returncode not in (0, 1) or "csdsl: note:" in stderr:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{stderr}")
    return seconds, usage.ru_utime + usage.ru_stime


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


def _medians(runs: list[tuple[float, float]]) -> tuple[float, float]:
    """The median wall time and the median CPU time of `runs`."""
    return _median([w for w, _ in runs]), _median([c for _, c in runs])


def _load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


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
        "load_before": _load(),
        "cache_format": cache.FORMAT,  # 1: a bare pickle; 2: HMAC-SHA256 checked, then pickle
        "goals_s": {"cold_check": GOAL_CHECK, "warm_validate": GOAL_WARM},
        "policies": {},
    }
    timings: dict[str, dict[str, Any]] = {
        tree: {"source": str(path), "commit": _commit(path), "policies": {}}
        for tree, path in trees.items()
    }
    with tempfile.TemporaryDirectory() as tmp:
        one = Path(tmp) / "one.jsonl"
        one.write_text(RECORD.read_text(encoding="utf-8").splitlines()[0] + "\n", "utf-8")
        base = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith("CSDSL_") and k != "PYTHONDONTWRITEBYTECODE"
        }
        base["PYTHONPYCACHEPREFIX"] = str(Path(tmp) / "bytecode")
        cold_env = {}
        warm_env = {}
        for tree, path in trees.items():
            env = {**base, "PYTHONPATH": str(path / "src")}
            cold_env[tree] = {**env, "CSDSL_NO_CACHE": "1"}
            # the lark tables are kept in the cache directory: a cold check has them, as any
            # check after the first one does
            check_env = {**env, "CSDSL_CACHE_DIR": str(Path(tmp) / f"check-{tree}")}
            warm_env[tree] = {**env, "CSDSL_CACHE_DIR": str(Path(tmp) / f"cache-{tree}")}
            timings[tree]["check_env"] = check_env
            _time(CHECK, check_env)  # writes the bytecode and the lark tables
        floor: dict[str, list[tuple[float, float]]] = {tree: [] for tree in trees}
        check: dict[str, list[tuple[float, float]]] = {tree: [] for tree in trees}
        for _ in range(args.runs):
            for tree in trees:
                floor[tree].append(
                    _time([sys.executable, "-c", "import csdsl.cli"], cold_env[tree])
                )
                check[tree].append(_time(CHECK, timings[tree]["check_env"]))
        for tree in trees:
            del timings[tree]["check_env"]
            timings[tree]["import_cli_s"], timings[tree]["import_cli_cpu_s"] = _medians(floor[tree])
            timings[tree]["check_s"], timings[tree]["check_cpu_s"] = _medians(check[tree])
        for name in POLICIES:
            cmd = [sys.executable, "-m", "csdsl", "validate", f"policies/{name}", str(one)]
            if name == "hotline.csp":
                cmd += ["--record", "Complaint"]
            cold: dict[str, list[tuple[float, float]]] = {tree: [] for tree in trees}
            warm: dict[str, list[tuple[float, float]]] = {tree: [] for tree in trees}
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
                (cold_s, cold_cpu), (warm_s, warm_cpu) = _medians(cold[tree]), _medians(warm[tree])
                timings[tree]["policies"][name] = {
                    "cold_s": cold_s,
                    "cold_cpu_s": cold_cpu,
                    "warm_s": warm_s,
                    "warm_cpu_s": warm_cpu,
                    "speedup": round(cold_s / warm_s, 2),
                    "lookup_s": round(lookup, 5),
                }
    results["load_after"] = _load()
    results["commit"] = timings["this"]["commit"]
    for key in ("import_cli_s", "import_cli_cpu_s", "check_s", "check_cpu_s"):
        results[key] = timings["this"][key]
    results["policies"] = timings["this"]["policies"]
    if "baseline" in timings:
        results["baseline"] = timings["baseline"]
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    out = ROOT / "benchmarks" / "results" / f"startup-{stamp}.json"
    out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    load = f"load average {results['load_before'][0]} before, {results['load_after'][0]} after"
    print(f"{platform.python_version()}, {os.cpu_count()} CPUs, {load}; medians of {args.runs}")
    print("(wall time / CPU time of the process)")
    for tree, timing in timings.items():
        label = "this tree" if tree == "this" else f"baseline {timing['source']}"
        print(f"{label} (cache format {timing.get('cache_format')}):")
        print(f"  import csdsl.cli: {_ms(timing['import_cli_s'], timing['import_cli_cpu_s'])}")
        goal = "met" if timing["check_s"] < GOAL_CHECK else "NOT met"
        print(
            f"  check hotline.csp, cold: {_ms(timing['check_s'], timing['check_cpu_s'])} "
            f"(goal < {GOAL_CHECK * 1000:.0f} ms: {goal})"
        )
        print(f"  validate    {'cold':>19}{'warm':>19}{'speedup':>9}{'lookup':>10}")
        for name, r in timing["policies"].items():
            print(
                f"  {name:<24}{_ms(r['cold_s'], r['cold_cpu_s']):>17}"
                f"{_ms(r['warm_s'], r['warm_cpu_s']):>19}"
                f"{r['speedup']:>8.2f}x{r['lookup_s'] * 1000:>8.2f}ms"
            )
        warm = timing["policies"]["hotline.csp"]["warm_s"]
        goal = "met" if warm < GOAL_WARM else "NOT met"
        print(f"  warm validate hotline.csp: goal < {GOAL_WARM * 1000:.0f} ms: {goal}")
    print(f"written to {out.relative_to(ROOT)}")


def _ms(wall: float, cpu: float) -> str:
    return f"{wall * 1000:.0f} / {cpu * 1000:.0f} ms"


if __name__ == "__main__":
    main()

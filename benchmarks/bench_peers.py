"""csdsl against the rules engines, on the six validity conditions of seed 000.

One process, one run: the peer benchmark's 100,000 records (`../shared/bench/peers/common.py`,
fixed seed, dicts with `datetime` and `None`) go through
- the hand-written Python baseline of the peer benchmark (`engines.build_python`);
- zen-engine (GoRules): its decision table and its compiled expression (`engines.build_zen_*`);
- rule-engine (`engines.build_rule_engine`);
- csdsl's interpreter: `Policy.matched_ids` (ids only, as the engines return) and
  `Policy.validate_values` (the verdict with its "why");
- csdsl's generated module (`csdsl compile --target python`): `matched_ids` and `validate_values`.
csdsl runs `benchmarks/policies/peers_seed000.csp`, the same rule set over the same field names.
Every engine's answer is compared with the baseline's on every record before it is timed.
Rounds are interleaved (each round times every engine once); the table gives medians.

    pip install -e '.[bench]'                 # zen-engine and rule-engine, as measured by peers
    python benchmarks/bench_peers.py          # ~2 minutes
    python benchmarks/bench_peers.py --records 20000 --rounds 3   # a smoke run

Goals (issue 6): generated module >= 0.5x the baseline's records/s; interpreter >= 2x zen-engine
(its faster variant).  Writes benchmarks/results/peers-<UTC stamp>.json and prints a table.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PEERS = ROOT.parent / "shared" / "bench" / "peers"
POLICY = ROOT / "benchmarks" / "policies" / "peers_seed000.csp"
sys.path.insert(0, str(ROOT / "src"))

import csdsl  # noqa: E402

Evaluate = Callable[[dict[str, Any]], list[str]]


def _peers() -> tuple[Any, Any]:
    if not (PEERS / "engines.py").exists():
        raise SystemExit(f"the peer benchmark is not at {PEERS} (../shared beside the project)")
    sys.path.insert(0, str(PEERS))
    import common
    import engines

    return common, engines


def _version(dist: str) -> str:
    try:
        return version(dist)
    except PackageNotFoundError:
        return "-"


def build() -> dict[str, tuple[str, Evaluate]]:
    """name -> (version, evaluate) for every engine that can be built here."""
    _, engines = _peers()
    out: dict[str, tuple[str, Evaluate]] = {
        "python-baseline": (platform.python_version(), engines.build_python())
    }
    peer_builds = [
        ("zen-table", "zen-engine", engines.build_zen_table, "complaint_validity.jdm.json"),
        ("zen-expression", "zen-engine", engines.build_zen_expression, "zen_expression.txt"),
        ("rule-engine", "rule-engine", engines.build_rule_engine, "rule_engine.json"),
    ]
    for name, dist, fn, rules in peer_builds:
        try:
            out[name] = (_version(dist), fn(engines.rule_source(rules)))
        except ImportError as exc:
            print(f"skipped {name}: {exc} (pip install -e '.[bench]')", file=sys.stderr)

    policy = csdsl.load(POLICY)
    out["csdsl-interpreter"] = (csdsl.__version__, policy.matched_ids)

    def why(r: dict[str, Any]) -> list[str]:
        return list(policy.validate_values(r).matched)

    out["csdsl-interpreter-why"] = (csdsl.__version__, why)
    from csdsl.codegen.python import generate, load_source

    module = load_source(generate(policy), "peers_seed000_checker")
    out["csdsl-generated"] = (csdsl.__version__, module.matched_ids)

    def generated_why(r: dict[str, Any]) -> list[str]:
        return list(module.validate_values(r).matched)

    out["csdsl-generated-why"] = (csdsl.__version__, generated_why)
    return out


def check(records: list[dict[str, Any]], fn: Evaluate, want: list[list[str]]) -> int:
    return sum(1 for r, w in zip(records, want, strict=True) if list(fn(r)) != w)


def timed_pass(records: list[dict[str, Any]], fn: Evaluate, budget: float) -> float:
    """Records per second over a prefix that takes about `budget` seconds at most."""
    gc.collect()
    start = time.perf_counter()
    done = 0
    for r in records:
        fn(r)
        done += 1
        if done % 1000 == 0 and time.perf_counter() - start > budget:
            break
    return done / (time.perf_counter() - start) if done else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument(
        "--budget", type=float, default=3.0, help="seconds per timed pass at most (slow engines)"
    )
    args = parser.parse_args()
    common, _ = _peers()
    records = common.generate(args.records)
    want = [common.baseline(r) for r in records]
    built = build()
    gc.freeze()  # the records and engines are long-lived: keep full collections off them
    rows: dict[str, dict[str, Any]] = {}
    for name, (ver, fn) in built.items():
        rows[name] = {"version": ver, "mismatches": check(records, fn, want), "rates": []}
    for _ in range(args.rounds):
        for name, (_, fn) in built.items():
            rows[name]["rates"].append(timed_pass(records, fn, args.budget))
    base = statistics.median(rows["python-baseline"]["rates"])
    for r in rows.values():
        r["median"] = statistics.median(r["rates"])
        r["ratio_to_baseline"] = r["median"] / base
    zen = max((rows[z]["median"] for z in ("zen-table", "zen-expression") if z in rows), default=0)
    goals = {
        "generated_vs_baseline": rows["csdsl-generated"]["ratio_to_baseline"],
        "generated_goal": 0.5,
        "interpreter_vs_zen": rows["csdsl-interpreter"]["median"] / zen if zen else None,
        "interpreter_goal": 2.0,
    }
    results = {
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "records": args.records,
        "rounds": args.rounds,
        "engines": rows,
        "goals": goals,
    }
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    out = ROOT / "benchmarks" / "results" / f"peers-{stamp}.json"
    out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"{args.records:,} records, {args.rounds} interleaved rounds, medians\n")
    print("| engine | version | records/s | min..max | ratio to baseline | mismatches |")
    print("|---|---|---:|---|---:|---:|")
    for name, r in sorted(rows.items(), key=lambda kv: -kv[1]["median"]):
        print(
            f"| {name} | {r['version']} | {r['median']:,.0f} | "
            f"{min(r['rates']):,.0f}..{max(r['rates']):,.0f} | {r['ratio_to_baseline']:.3f} | "
            f"{r['mismatches']} |"
        )
    print(
        f"\ngenerated / baseline = {goals['generated_vs_baseline']:.2f} (goal >= 0.5); "
        + (
            f"interpreter / zen-engine = {goals['interpreter_vs_zen']:.2f} (goal >= 2)"
            if goals["interpreter_vs_zen"] is not None
            else "zen-engine not installed"
        )
    )
    print(f"written to {out.relative_to(ROOT)}")
    if any(r["mismatches"] for r in rows.values()):
        raise SystemExit("some engine disagrees with the baseline: see `mismatches`")


if __name__ == "__main__":
    main()

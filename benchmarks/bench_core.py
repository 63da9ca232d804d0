"""Benchmarks for the language core (not part of the test run).

Measures, on this machine:
1. parse + check of a generated policy with N conditions (default 2,000; goal: under 1 s),
   in a fresh process (cold: includes building the LALR parser) and warm (parser built);
2. validation throughput of the seed policy (policies/complaint_validity.csp):
   - interpreter only: `Policy.validate_values` on already-typed records, with the full "why";
   - interpreter fast path: matched ids only (what the peer benchmark measures);
   - end to end: reading a JSONL file, checking each row against the record type, verdicts.

    python benchmarks/bench_core.py                 # full run (~1 minute)
    python benchmarks/bench_core.py --quick         # smaller sizes, for a smoke run

Writes benchmarks/results/core-<UTC stamp>.json and prints a summary table.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "policies" / "complaint_validity.csp"
sys.path.insert(0, str(ROOT / "src"))

import csdsl  # noqa: E402
from csdsl import testing  # noqa: E402

FIELDS = (
    [(f"b{i}", "bool") for i in range(12)]
    + [(f"n{i}", "number") for i in range(6)]
    + [(f"d{i}", "duration?") for i in range(4)]
    + [(f"t{i}", "datetime?") for i in range(4)]
    + [("level", "enum(low, mid, high, urgent)"), ("note", "text?")]
)


def generate_policy(n: int, seed: int = 7) -> str:
    """A policy with one record and `n` conditions mixing every operator, Chinese wording."""
    rng = random.Random(seed)
    bools = [f for f, t in FIELDS if t == "bool"]
    nums = [f for f, t in FIELDS if t == "number"]
    durs = [f for f, t in FIELDS if t.startswith("duration")]
    times = [f for f, t in FIELDS if t.startswith("datetime")]

    def atom() -> str:
        k = rng.randrange(7)
        if k == 0:
            return rng.choice(["", "not "]) + rng.choice(bools)
        if k == 1:
            return f"{rng.choice(nums)} {rng.choice(['>', '<=', '='])} {rng.randrange(1000)}"
        if k == 2:
            d = rng.choice(durs)
            return f"({d} is missing or {d} > {rng.randrange(1, 72)}h)"
        if k == 3:
            a, b = rng.sample(times, 2)
            return f"{a} is set and {b} - {a} > {rng.randrange(1, 48)}h{rng.randrange(60)}m"
        if k == 4:
            return f"level in [{', '.join(rng.sample(['low', 'mid', 'high', 'urgent'], 2))}]"
        if k == 5:
            return f'note contains "{rng.choice(["退款", "投诉", "态度"])}"'
        return f"{rng.choice(nums)} * 2 + {rng.choice(nums)} / 3 >= {rng.randrange(100)}.5"

    lines = ['policy "生成的策略" version "1" effective 2024-10-29 timezone "Asia/Shanghai"', ""]
    lines.append("record Case {")
    lines += [f"  {name}: {type_}" for name, type_ in FIELDS]
    lines += ["}", "", "valid Case when any {"]
    for i in range(n):
        expr = f" {rng.choice(['and', 'or'])} ".join(atom() for _ in range(rng.randrange(1, 4)))
        lines.append(f"  # 第{i}条")
        lines.append(f'  c{i} "条款{i}：投诉成立的情形之一": {expr}')
    lines.append("}")
    return "\n".join(lines) + "\n"


def _timed(fn: Any, repeat: int) -> list[float]:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return samples


def bench_compile(n: int, repeat: int) -> dict[str, Any]:
    text = generate_policy(n)
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "big.csp"
        path.write_text(text, encoding="utf-8")
        cold_cmd = [
            sys.executable,
            "-c",
            "import sys, time; sys.path.insert(0, sys.argv[2]); t = time.perf_counter(); "
            "from csdsl.check import compile_file; c = compile_file(sys.argv[1]); "
            "assert c.ok, c.diagnostics[:3]; print(time.perf_counter() - t)",
            str(path),
            str(ROOT / "src"),
        ]
        cold = [
            float(subprocess.run(cold_cmd, capture_output=True, text=True, check=True).stdout)
            for _ in range(3)
        ]
        from csdsl.check import compile_file

        compiled = compile_file(path)
        assert compiled.ok, compiled.diagnostics[:3]
        warm = _timed(lambda: compile_file(path), repeat)
    return {
        "conditions": n,
        "lines": text.count("\n"),
        "bytes": len(text.encode()),
        "cold_s_median": statistics.median(cold),
        "warm_s_median": statistics.median(warm),
        "warm_s_min": min(warm),
        "cold_s": cold,
        "warm_s": warm,
    }


def bench_validate(records: int, repeat: int) -> dict[str, Any]:
    policy = csdsl.load(SEED)
    record = policy.ir.record("Complaint")
    assert record is not None
    strategy = testing.record_values(record, policy.tz)
    rng = random.Random(1)
    pool = [strategy.example() for _ in range(500)]  # hypothesis draws; reused to reach N
    data = [pool[rng.randrange(len(pool))] for _ in range(records)]
    validator = policy._validators["Complaint"]

    def full() -> None:
        for r in data:
            policy.validate_values(r)

    def fast() -> None:
        for r in data:
            validator.matched_ids(r)

    full_s = _timed(full, repeat)
    fast_s = _timed(fast, repeat)

    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "complaints.jsonl"
        lines = (ROOT / "examples" / "complaints.jsonl").read_text(encoding="utf-8").splitlines()
        good = [ln for ln in lines if ln.startswith("{") and ln.endswith("}")]
        with path.open("w", encoding="utf-8") as f:
            for i in range(records):
                f.write(good[i % len(good)] + "\n")

        def end_to_end() -> None:
            for _ in policy.validate_file(path):
                pass

        e2e_s = _timed(end_to_end, repeat)
    return {
        "records": records,
        "interpreter_with_why_rps": records / statistics.median(full_s),
        "interpreter_ids_only_rps": records / statistics.median(fast_s),
        "jsonl_end_to_end_rps": records / statistics.median(e2e_s),
    }


def bench_time(repeat: int) -> dict[str, Any]:
    """Working-time additions per second, and timelines per second on the example data."""
    import zoneinfo

    from csdsl.calendar import WorkCalendar

    tz = zoneinfo.ZoneInfo("Asia/Shanghai")
    split = ((dt.time(9), dt.time(12)), (dt.time(13, 30), dt.time(18)))
    office = WorkCalendar("office", tz, (split,) * 5 + ((), ()), "china")
    rng = random.Random(3)
    starts = [
        dt.datetime(2024, 1, 1, tzinfo=tz) + dt.timedelta(minutes=rng.randrange(700_000))
        for _ in range(2000)
    ]
    amounts = [dt.timedelta(minutes=rng.randrange(1, 48 * 60)) for _ in range(2000)]
    adds = _timed(lambda: [office.add(s, a) for s, a in zip(starts, amounts, strict=True)], repeat)
    policy = csdsl.load(ROOT / "policies" / "complaint_handling.csp")

    def timelines() -> int:
        rows, _ = policy.timeline_file(
            ROOT / "examples" / "complaints.jsonl",
            ROOT / "examples" / "complaint_events.jsonl",
            dt.datetime(2024, 12, 20, 18, tzinfo=tz),
        )
        return sum(1 for _ in rows)

    n = timelines()
    runs = _timed(timelines, repeat)
    return {
        "working_time_adds_per_s": len(starts) / statistics.median(adds),
        "timeline_records_per_s": n / statistics.median(runs),
        "timeline_records": n,
    }


def bench_transcripts(repeat: int) -> dict[str, Any]:
    """Transcripts per second through every rule and situation of policies/hotline_qa.csp,
    reading and checking examples/transcripts.jsonl end to end."""
    policy = csdsl.load(ROOT / "policies" / "hotline_qa.csp")
    path = ROOT / "examples" / "transcripts.jsonl"

    def run() -> int:
        return sum(1 for row in policy.check_transcript_file(path) if row.result is not None)

    n = run()
    runs = _timed(run, repeat)
    text = path.read_text(encoding="utf-8")
    return {
        "transcripts": n,
        "transcripts_per_s": n / statistics.median(runs),
        "file_mb_per_s": len(text.encode("utf-8")) / 1e6 / statistics.median(runs),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--conditions", type=int, default=2000)
    ap.add_argument("--records", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    if args.quick:
        args.records, args.repeat = 10_000, 2
    result = {
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "machine": platform.processor() or platform.machine(),
        "compile": bench_compile(args.conditions, args.repeat),
        "validate": bench_validate(args.records, args.repeat),
        "time": bench_time(args.repeat),
        "transcripts": bench_transcripts(args.repeat),
    }
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    out = ROOT / "benchmarks" / "results" / f"core-{stamp}.json"
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    c, v = result["compile"], result["validate"]
    print(
        f"parse+check, {c['conditions']} conditions ({c['lines']} lines): "
        f"cold {c['cold_s_median']:.3f} s, warm {c['warm_s_median']:.3f} s (goal < 1 s)"
    )
    print(
        f"validate, {v['records']:,} records: interpreter with why "
        f"{v['interpreter_with_why_rps']:,.0f}/s, "
        f"ids only {v['interpreter_ids_only_rps']:,.0f}/s, "
        f"JSONL end to end {v['jsonl_end_to_end_rps']:,.0f}/s"
    )
    t = result["time"]
    print(
        f"calendar: {t['working_time_adds_per_s']:,.0f} working-time additions/s; timeline "
        f"(3 deadlines, 3-step ladder, events) {t['timeline_records_per_s']:,.0f} records/s"
    )
    q = result["transcripts"]
    print(
        f"transcripts, every rule of hotline_qa.csp, JSONL end to end: "
        f"{q['transcripts_per_s']:,.0f} transcripts/s ({q['file_mb_per_s']:.1f} MB/s of file)"
    )
    print(f"written to {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()

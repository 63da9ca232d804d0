"""Peak memory and time of the CLI on very large policies (issue 14, "memory on very large
policies").

Generates policies programmatically (see `conditions_policy` and `list_policy`): a record and a
`valid R when any { ... }` block of N named conditions, and one condition `tag in [...]` over a
list of N strings.  Each verb runs in a fresh process (`CSDSL_NO_CACHE=1`) whose peak resident
set size is read from `os.wait4`; every run's time is wall-clock.

    python benchmarks/bench_memory.py                   # 1k/10k/20k conditions, 100k list
    python benchmarks/bench_memory.py --quick           # 1k/2k conditions, 10k list
    python benchmarks/bench_memory.py --verbs compile-python check --sizes 1000 10000

Writes benchmarks/results/memory-<UTC stamp>.json and prints a table (MB and seconds).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]

# verb name -> csdsl arguments after the policy path ({out} is a scratch output path)
VERBS: dict[str, list[str]] = {
    "check": ["check"],
    "compile-python": ["compile", "--target", "python", "-o", "{out}"],
    "compile-sql": ["compile", "--target", "sql", "-o", "{out}"],
    "compile-json": ["compile", "--target", "json", "-o", "{out}"],
    "fmt": ["fmt", "--check"],
    "doc": ["doc", "--format", "md", "-o", "{out}"],
    "validate": ["validate"],
}
RECORD = '{"a": 5, "b": null, "tag": "t3", "flag": true}\n'


def conditions_policy(n: int) -> str:
    """A policy with one validity block of `n` named conditions over four fields."""
    lines = [
        'policy "many conditions" version "1" timezone "Asia/Shanghai"',
        "",
        "record R {",
        "  a: int",
        "  b: int?",
        "  tag: text",
        "  flag: bool",
        "}",
        "",
        "valid R when any {",
    ]
    for i in range(n):
        lines.append(
            f'  c{i} "condition {i}": a > {i} and (b is missing or b < {2 * i}) and tag != "t{i}"'
        )
    lines.append("}")
    return "\n".join(lines) + "\n"


def list_policy(n: int) -> str:
    """A policy whose first condition is `tag in [...]` over `n` strings."""
    items = ", ".join(f'"v{i}"' for i in range(n))
    return (
        'policy "long list" version "1" timezone "Asia/Shanghai"\n\n'
        "record R {\n  a: int\n  b: int?\n  tag: text\n  flag: bool\n}\n\n"
        f'valid R when any {{\n  listed "in the list": tag in [{items}]\n  big: a > 3\n}}\n'
    )


def run(args: list[str], cwd: Path) -> tuple[float, float, int]:
    """(peak RSS in MB, seconds, exit code) of `python -m csdsl ARGS` in a fresh process."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CSDSL_")}
    env["CSDSL_NO_CACHE"] = "1"
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "csdsl", *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    assert proc.stderr is not None
    err = proc.stderr.read().decode("utf-8", "replace")
    proc.stderr.close()
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode not in (0, 1):
        raise SystemExit(f"csdsl {' '.join(args)} failed ({proc.returncode}):\n{err}")
    return usage.ru_maxrss / 1024, seconds, proc.returncode  # ru_maxrss is in KiB on Linux


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    parser.add_argument("--verbs", nargs="+", choices=sorted(VERBS), default=sorted(VERBS))
    parser.add_argument("--sizes", nargs="+", type=int, help="numbers of conditions")
    parser.add_argument("--list-sizes", nargs="+", type=int, help="numbers of list items")
    parser.add_argument("--label", default="", help="a note stored with the results")
    args = parser.parse_args()
    sizes = args.sizes or ([1000, 2000] if args.quick else [1000, 10000, 20000])
    list_sizes = args.list_sizes or ([10000] if args.quick else [100000])
    cases = [(f"{n // 1000}k conditions", conditions_policy(n)) for n in sizes]
    cases += [(f"{n // 1000}k-item list", list_policy(n)) for n in list_sizes]
    results: dict[str, Any] = {
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "label": args.label,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "cases": {},
    }
    floor = run(["--version"], ROOT)
    results["floor_mb"] = round(floor[0], 1)
    print(f"python -m csdsl --version: {floor[0]:.0f} MB")
    print(f"{'policy':<18}" + "".join(f"{v:>22}" for v in args.verbs))
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "one.jsonl").write_text(RECORD, encoding="utf-8")
        for label, text in cases:
            path = folder / "policy.csp"
            path.write_text(text, encoding="utf-8")
            row: dict[str, Any] = {"bytes": len(text.encode("utf-8"))}
            cells = []
            for verb in args.verbs:
                argv = [a.format(out=str(folder / "out")) for a in VERBS[verb]]
                argv.insert(1, str(path))
                if verb == "validate":
                    argv.append(str(folder / "one.jsonl"))
                mb, seconds, _ = run(argv, folder)
                row[verb] = {"peak_mb": round(mb, 1), "seconds": round(seconds, 2)}
                cells.append(f"{mb:>9.0f} MB {seconds:>6.1f} s")
            results["cases"][label] = row
            print(f"{label:<18}" + "".join(f"{c:>22}" for c in cells), flush=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    out = ROOT / "benchmarks" / "results" / f"memory-{stamp}.json"
    out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"written to {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()

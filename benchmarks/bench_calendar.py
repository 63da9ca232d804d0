"""Working-time additions per second: the interval table against the day-by-day walk it replaced.

On the China office calendar of policies/complaint_handling.csp (`office`: Monday to Friday
09:00-12:00 and 13:30-18:00, China's holidays and make-up days), N additions (default
1,000,000) of 1 minute to 48 working hours to starts spread over 2024-2025 (minute
resolution, as the event logs are), without pauses and with one pause each; every answer
of the table is checked against the walk's.  Also the time to build the table for two years.

    python benchmarks/bench_calendar.py             # 1M additions (~2 minutes)
    python benchmarks/bench_calendar.py --n 100000  # a quicker run

Writes benchmarks/results/calendar-<UTC stamp>.json and prints a summary.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import random
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

import csdsl  # noqa: E402
from csdsl.calendar import UTC, WorkCalendar, china_published_years  # noqa: E402
from csdsl.intervals import IntervalTables  # noqa: E402

Span = tuple[dt.datetime, dt.datetime]


def office() -> WorkCalendar:
    policy = csdsl.load(ROOT / "policies" / "complaint_handling.csp")
    cal = policy.ir.calendar("office")
    assert cal is not None, "policies/complaint_handling.csp has no calendar `office`"
    return cal


def fresh(cal: WorkCalendar) -> WorkCalendar:
    """The same calendar with nothing cached (no days, no table)."""
    return WorkCalendar(cal.name, cal.tz, cal.weekly, cal.statutory, cal.closed, cal.working)


def walk(cal: WorkCalendar, start: dt.datetime, amount: dt.timedelta, paused: list[Span]) -> Any:
    """`WorkCalendar.add` as it was: the walk over the open intervals, day by day."""
    return cal._add_open(start.astimezone(UTC), amount, paused)


def inputs(n: int, tz: dt.tzinfo, seed: int = 3) -> list[tuple[dt.datetime, dt.timedelta]]:
    rng = random.Random(seed)
    base = dt.datetime(2024, 1, 1, tzinfo=tz)
    span = 2 * 365 * 24 * 60 - 60 * 24 * 60  # leave room for the longest addition
    return [
        (
            base + dt.timedelta(minutes=rng.randrange(span)),
            dt.timedelta(minutes=rng.randrange(1, 48 * 60)),
        )
        for _ in range(n)
    ]


def timed(cal: WorkCalendar, asks: list[tuple[dt.datetime, dt.timedelta]], how: str) -> Any:
    """(seconds, answers) for the additions, `how` being "walk" or "table", with or without a
    pause (`how` ending in "+pause": a 2-hour pause an hour after each start)."""
    hour = dt.timedelta(hours=1)
    pauses = [[(s + hour, s + 3 * hour)] if how.endswith("+pause") else [] for s, _ in asks]
    add = cal.add if how.startswith("table") else None
    t0 = time.perf_counter()
    if add is not None:
        out = [add(s, a, p) for (s, a), p in zip(asks, pauses, strict=True)]
    else:
        out = [walk(cal, s, a, p) for (s, a), p in zip(asks, pauses, strict=True)]
    return time.perf_counter() - t0, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1_000_000, help="additions (default 1,000,000)")
    args = ap.parse_args()
    cal = office()
    asks = inputs(args.n, cal.tz)

    # the table for two years, from nothing (the holiday data loaded, the days computed)
    china_published_years()
    build = fresh(cal)
    t0 = time.perf_counter()
    tables = IntervalTables()
    table = tables.table(dt.date(2024, 1, 1).toordinal())
    table.cover(build, dt.date(2024, 1, 1).toordinal())
    table.cover(build, dt.date(2025, 12, 31).toordinal())
    build_s = time.perf_counter() - t0

    results: dict[str, Any] = {
        "calendar": "office (policies/complaint_handling.csp)",
        "additions": args.n,
        "table_rows_2024_2025": len(table),
        "table_build_ms_2024_2025": round(build_s * 1000, 1),
    }
    for pause in ("", "+pause"):
        walked = fresh(cal)
        tabled = fresh(cal)
        walk_s, want = timed(walked, asks, "walk" + pause)
        table_s, got = timed(tabled, asks, "table" + pause)
        mismatches = sum(1 for a, b in zip(want, got, strict=True) if a != b)
        key = "with_pause" if pause else "no_pause"
        results[key] = {
            "walk_per_s": round(args.n / walk_s),
            "table_per_s": round(args.n / table_s),
            "ratio": round(walk_s / table_s, 2),
            "mismatches": mismatches,
        }
    results["machine"] = {"python": sys.version.split()[0], "platform": platform.platform()}
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    out = ROOT / "benchmarks" / "results" / f"calendar-{stamp}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n", "utf-8")
    print(f"table for 2024-2025: {len(table)} rows in {results['table_build_ms_2024_2025']} ms")
    for key in ("no_pause", "with_pause"):
        r = results[key]
        print(
            f"{key.replace('_', ' ')}: walk {r['walk_per_s']:,}/s, table {r['table_per_s']:,}/s "
            f"({r['ratio']}x), {r['mismatches']} mismatches in {args.n:,}"
        )
    print(f"wrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()

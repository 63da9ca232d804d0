"""Generate the example call and inquiry exports that seed 002's KPIs read.

Writes, next to this script (deterministic: a fixed-seed ``random.Random``):

* ``calls.jsonl``     - 3,000 inbound hotline calls, 2024-10-29 .. 2024-12-15, four teams, plus
  4 deliberately bad lines;
* ``inquiries.csv``   - 600 customer inquiries over the same weeks, plus 3 bad rows (CSV).

The rates are set so that a run shows both passing and failing KPIs: the hotline connects
about 93% of calls; the ``south`` team answers fewer of the calls that want a human (about 80%,
under 002 七's 85%) than the others (about 90%); inquiries are nearly always answered, and in
time a little less often than the 100% the standard asks.

    python examples/make_calls.py
"""

from __future__ import annotations

import csv
import io
import json
import random
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

SEED = 2002
OUT_DIR = Path(__file__).resolve().parent
SHANGHAI = timezone(timedelta(hours=8))
FIRST_DAY = date(2024, 10, 29)
DAYS = 48  # to 2024-12-15
TEAMS = ("east", "west", "north", "south")
HUMAN_ANSWER = {"east": 0.91, "west": 0.90, "north": 0.89, "south": 0.80}


def moment(rng: random.Random) -> datetime:
    day = FIRST_DAY + timedelta(days=rng.randrange(DAYS))
    seconds = rng.randrange(7 * 3600, 23 * 3600)  # the hotline is busiest in the day
    return datetime(day.year, day.month, day.day, tzinfo=SHANGHAI) + timedelta(seconds=seconds)


def call(rng: random.Random, n: int) -> dict[str, Any]:
    team = rng.choice(TEAMS)
    connected = rng.random() < 0.93
    wants_human = connected and rng.random() < 0.6
    answered = wants_human and rng.random() < HUMAN_ANSWER[team]
    row: dict[str, Any] = {
        "id": f"CALL-{n:05d}",
        "started_at": moment(rng).isoformat(),
        "team": team,
        "agent": f"A-{rng.randrange(1, 21):02d}" if answered else None,
        "connected": connected,
        "wants_human": wants_human,
        "answered_by_human": answered,
    }
    return row


def inquiry(rng: random.Random, n: int) -> dict[str, Any]:
    replied = rng.random() < 0.995
    in_time = replied and rng.random() < 0.97
    r = rng.random()
    satisfied = "" if r < 0.03 else ("true" if r < 0.955 else "false")
    return {
        "id": f"Q-{n:04d}",
        "received_at": moment(rng).strftime("%Y-%m-%d %H:%M:%S"),  # naive: Asia/Shanghai
        "team": rng.choice(TEAMS),
        "replied": "true" if replied else "false",
        "replied_in_time": "true" if in_time else "false",
        "satisfied": satisfied,
    }


def main() -> None:
    rng = random.Random(SEED)
    calls = sorted((call(rng, n) for n in range(1, 3001)), key=lambda c: c["started_at"])
    lines = [json.dumps(c, ensure_ascii=False) for c in calls]
    bad = {
        120: '{"id": "CALL-BAD-1", "started_at": "2024-11-02T10:00:00+08:00", "team": "east"}',
        900: '{"id": "CALL-BAD-2", "started_at": "yesterday", "team": "west", "connected": true, '
        '"wants_human": false, "answered_by_human": false}',
        1800: '{"id": "CALL-BAD-3", "started_at": "2024-11-30T09:00:00+08:00", "team": "north", '
        '"connected": "yes", "wants_human": true, "answered_by_human": true}',
        2500: '{"id": "CALL-BAD-4", "started_at": "2024-12-09T09:00:00+08:00"',
    }
    for at in sorted(bad, reverse=True):
        lines.insert(at, bad[at])
    (OUT_DIR / "calls.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")

    inquiries = sorted((inquiry(rng, n) for n in range(1, 601)), key=lambda q: q["received_at"])
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(inquiries[0]), lineterminator="\n")
    writer.writeheader()
    for i, q in enumerate(inquiries):
        if i == 50:
            writer.writerow({**q, "id": "Q-BAD-1", "replied": "maybe"})
        if i == 300:
            writer.writerow({**q, "id": "Q-BAD-2", "received_at": "2024-11-31 10:00:00"})
        if i == 450:
            writer.writerow({**q, "id": "Q-BAD-3", "team": ""})
        writer.writerow(q)
    (OUT_DIR / "inquiries.csv").write_text(buf.getvalue(), encoding="utf-8")
    print(f"calls.jsonl: {len(calls)} calls + {len(bad)} bad lines")
    print(f"inquiries.csv: {len(inquiries)} inquiries + 3 bad rows")


if __name__ == "__main__":
    main()

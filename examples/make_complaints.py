"""Generate the example complaint records for ``policies/complaint_validity.csp``.

Run from the repository root::

    python examples/make_complaints.py

It writes, next to this script:

* ``complaints.jsonl`` - 240 good records plus 8 deliberately bad lines (JSON Lines);
* ``complaints.csv``   - the same 240 good records plus 6 deliberately bad rows (CSV, header row);
* ``complaints.json``  - the first 30 good records as a pretty-printed JSON array.

The fields follow the policy's ``record Complaint`` (with ``id`` first). Values mix the
datetime and duration spellings that ``shared/spec/IO.md`` allows, and include boundary cases
(a feedback form filed exactly 24h after the fact, an ignition completed exactly 4h after the
request, data lost with a loss of 0, ...). The bad rows exercise error reporting; their line
numbers and reasons are printed at the end (and are listed in ``examples/README.md``).

The output is deterministic: a fixed-seed ``random.Random`` drives everything, so re-running
the script reproduces the files byte for byte. Standard library only.
"""

from __future__ import annotations

import csv
import io
import json
import random
from collections import Counter
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

SEED = 69
N_GOOD = 240
OUT_DIR = Path(__file__).resolve().parent
JSON_ARRAY_SIZE = 30

SHANGHAI = timezone(timedelta(hours=8))  # Asia/Shanghai has had no DST since 1991
FIRST_DAY = date(2024, 10, 29)
LAST_DAY = date(2024, 12, 15)

FIELDS: list[str] = [
    "id",
    "received_at",
    "complexity",
    "tier",
    "agent_rude",
    "task_completed_same_day",
    "customer_contacted",
    "rescheduled",
    "data_lost",
    "loss_amount",
    "issue_recorded",
    "feedback_form_delay",
    "ignition_requested_at",
    "ignition_completed_at",
    "explained",
    # what the KPIs of seed 002 八 read (policies/hotline_kpis.csp)
    "team",
    "repeat",
    "replied",
    "replied_in_time",
    "reply_time",
    "satisfied",
    "cross_province",
]
TEAMS = ("east", "west", "north", "south")

Record = dict[str, Any]  # field name -> JSON value; an absent key means "missing"

# Datetime spellings: with "+08:00" offset, naive (= policy time zone), UTC with "Z".
OFFSET, NAIVE, UTC_Z = "offset", "naive", "utc"


# --------------------------------------------------------------------------- formatting


def fmt_datetime(local: datetime, style: str) -> str:
    """Spell an aware Asia/Shanghai datetime in one of the three export styles."""
    if style == OFFSET:
        return local.isoformat(timespec="seconds")
    if style == NAIVE:
        return local.replace(tzinfo=None).isoformat(timespec="seconds")
    return local.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def pick_style(rng: random.Random) -> str:
    r = rng.random()
    if r < 0.80:
        return OFFSET
    if r < 0.93:
        return NAIVE
    return UTC_Z


def fmt_duration(rng: random.Random, seconds: int) -> str | int:
    """Spell a duration as ISO 8601, compact (``2h30m``) or a plain number of seconds."""
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    r = rng.random()
    if r < 0.50:
        text = "PT"
        text += f"{hours}H" if hours else ""
        text += f"{minutes}M" if minutes else ""
        text += f"{secs}S" if secs else ""
        return text
    if r < 0.80:
        if secs == 0 and (hours == 0 or (hours < 3 and rng.random() < 0.3)):
            return f"{seconds // 60}m"
        text = f"{hours}h" if hours else ""
        text += f"{minutes}m" if minutes else ""
        text += f"{secs}s" if secs else ""
        return text
    return seconds


def csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return json.dumps(value)
    return str(value)


# --------------------------------------------------------------------------- good records


def receipt_times(rng: random.Random, n: int) -> list[datetime]:
    """``n`` receipt times (aware, Asia/Shanghai), sorted; office hours mostly."""
    days = [FIRST_DAY + timedelta(days=i) for i in range((LAST_DAY - FIRST_DAY).days + 1)]
    weights = [0.55 if d.weekday() >= 5 else 1.0 for d in days]
    times: list[datetime] = []
    for _ in range(n):
        day = rng.choices(days, weights)[0]
        r = rng.random()
        if r < 0.82:  # office hours 08:30-18:00
            minute = rng.randrange(8 * 60 + 30, 18 * 60)
        elif r < 0.94:  # evening 18:00-22:30
            minute = rng.randrange(18 * 60, 22 * 60 + 30)
        else:  # night 22:30-08:30, on the same calendar day
            minute = rng.randrange(-90, 8 * 60 + 30) % (24 * 60)
        start = datetime(day.year, day.month, day.day, tzinfo=SHANGHAI)
        times.append(start + timedelta(minutes=minute, seconds=rng.randrange(60)))
    times.sort()
    return times


def make_record(rng: random.Random, rid: str, received: datetime, tags: Counter[str]) -> Record:
    """One plausible complaint record; ``tags`` counts the boundary cases produced."""
    style = pick_style(rng)
    rec: Record = {"id": rid, "received_at": fmt_datetime(received, style)}

    complexity = "complex" if rng.random() < 0.30 else "simple"
    tier = "key_account" if rng.random() < 0.15 else "regular"
    rec["complexity"] = complexity
    rec["tier"] = tier
    rec["agent_rude"] = rng.random() < 0.065

    # 二(2): the day's task; when it slipped, the agent usually called and re-booked.
    done = rng.random() < (0.86 if complexity == "simple" else 0.72)
    if done:
        contacted = rng.random() < 0.85
        rescheduled = rng.random() < (0.06 if contacted else 0.01)
    else:
        contacted = rng.random() < (0.80 if tier == "key_account" else 0.70)
        rescheduled = rng.random() < (0.85 if contacted else 0.10)
    if rescheduled and not contacted:
        tags["rescheduled_without_contact"] += 1
    rec["task_completed_same_day"] = done
    rec["customer_contacted"] = contacted
    rec["rescheduled"] = rescheduled

    # 二(3): a loss is only recorded when data was lost; sometimes the loss is 0.
    data_lost = rng.random() < 0.09
    loss: int | float = 0
    if data_lost:
        if rng.random() < 0.72:
            amount = rng.lognormvariate(5.0, 1.1)
            loss = round(amount, -1) if rng.random() < 0.3 else round(amount, 2)
            loss = max(loss, 0.01)
        else:
            tags["data_lost_zero_loss"] += 1
    rec["data_lost"] = data_lost
    rec["loss_amount"] = loss

    rec["issue_recorded"] = rng.random() >= 0.06

    # 二(5): time until the 问题反馈单 was filed; missing = never filed.
    r = rng.random()
    delay: int | None
    if r < 0.05:
        delay = None
    elif r < 0.07:
        delay = 24 * 3600
        tags["feedback_exactly_24h"] += 1
    elif r < 0.09:
        delay = 24 * 3600 + 60
        tags["feedback_24h1m"] += 1
    elif r < 0.105:
        delay = 23 * 3600 + 59 * 60
        tags["feedback_23h59m"] += 1
    elif r < 0.125:
        delay = 24 * 3600 + 60 * rng.randrange(10, 72 * 60)
    elif rng.random() < 0.7:
        delay = 60 * rng.randrange(5, 8 * 60)
    else:
        delay = 60 * rng.randrange(8 * 60, 23 * 60 + 30)
    if delay is None:
        tags["feedback_missing"] += 1
        if rng.random() < 0.5:
            rec["feedback_form_delay"] = None  # else: key absent
    else:
        if delay % 3600 and delay < 20 * 3600 and rng.random() < 0.15:
            delay += rng.randrange(1, 60)  # some exports keep seconds
        rec["feedback_form_delay"] = fmt_duration(rng, delay)

    # 二(6): 点火通气 - requested, completed (4h rule), explained.
    explained: bool
    if rng.random() < 0.30:
        # Most 点火通气 calls come in the daytime: redraw a night-time request a few times.
        for _ in range(4):
            if rng.random() < 0.5:
                lead = timedelta(minutes=rng.randrange(20, 6 * 60))
            else:
                lead = timedelta(minutes=rng.randrange(6 * 60, 40 * 60))
            requested = (received - lead).replace(second=rng.randrange(60))
            if 7 <= requested.hour < 21:
                break
        r = rng.random()
        completed: datetime | None
        if r < 0.14:
            completed = None
            tags["ignition_never_completed"] += 1
        elif r < 0.22:
            completed = requested + timedelta(hours=4)
            tags["ignition_exactly_4h"] += 1
        elif r < 0.30:
            completed = requested + timedelta(hours=4, minutes=1)
            tags["ignition_4h1m"] += 1
        else:
            completed = requested + timedelta(minutes=rng.randrange(5, 6 * 60 + 1))
        late = completed is None or completed - requested > timedelta(hours=4)
        explained = rng.random() < (0.45 if late else 0.25)

        def ign_style() -> str:
            return style if rng.random() < 0.9 else pick_style(rng)

        rec["ignition_requested_at"] = fmt_datetime(requested, ign_style())
        rec["ignition_completed_at"] = (
            None if completed is None else fmt_datetime(completed, ign_style())
        )
    else:
        explained = rng.random() < 0.05
        if rng.random() < 0.8:
            rec["ignition_requested_at"] = None
            rec["ignition_completed_at"] = None
        # else: both keys absent
    rec["explained"] = explained
    add_kpi_fields(rec)
    return rec


def add_kpi_fields(rec: Record) -> None:
    """The ticket system's fields that seed 002's KPIs read.  They come from a generator of their
    own, seeded by the record id, so that the validity fields above stay as they were."""
    rng = random.Random(f"{SEED}-kpi-{rec['id']}")
    rec["team"] = rng.choice(TEAMS)
    rec["repeat"] = rng.random() < 0.012
    replied = rng.random() < 0.985
    rec["replied"] = replied
    if replied:
        in_time = rng.random() < 0.94
        hours = rng.uniform(0.2, 23.5) if in_time else rng.uniform(24.5, 52.0)
        rec["replied_in_time"] = in_time
        rec["reply_time"] = fmt_duration(rng, int(hours * 3600) // 60 * 60)
    else:
        rec["replied_in_time"] = False
        if rng.random() < 0.5:
            rec["reply_time"] = None
    r = rng.random()
    if r < 0.8:
        rec["satisfied"] = rng.random() < 0.91
    elif r < 0.9:
        rec["satisfied"] = None
    rec["cross_province"] = rng.random() < 0.12


# --------------------------------------------------------------------------- bad rows


def _truncated(rec: Record) -> tuple[str, str]:
    text = json.dumps(rec, ensure_ascii=False)
    return text[: text.index('"data_lost"') + 7], "not valid JSON: the object is truncated"


def _array(rec: Record) -> tuple[str, str]:
    values = [rec.get(f) for f in FIELDS]
    return json.dumps(values, ensure_ascii=False), "a JSON array, not an object"


def _with(field: str, value: Any, reason: str) -> Callable[[Record], tuple[str, str]]:
    def corrupt(rec: Record) -> tuple[str, str]:
        bad = dict(rec)
        bad[field] = value
        return json.dumps(bad, ensure_ascii=False), reason

    return corrupt


def _without(field: str, reason: str) -> Callable[[Record], tuple[str, str]]:
    def corrupt(rec: Record) -> tuple[str, str]:
        bad = {k: v for k, v in rec.items() if k != field}
        return json.dumps(bad, ensure_ascii=False), reason

    return corrupt


JSONL_BAD: list[tuple[str, Callable[[Record], tuple[str, str]]]] = [
    ("truncated", _truncated),
    ("array", _array),
    (
        "bad_datetime",
        _with(
            "received_at",
            "2024-13-45T25:00:00",
            "received_at '2024-13-45T25:00:00' is not a datetime (month 13, day 45, hour 25)",
        ),
    ),
    (
        "bool_as_string",
        _with("agent_rude", "yes", 'agent_rude is the string "yes", not a JSON boolean'),
    ),
    ("missing_required", _without("issue_recorded", "required field issue_recorded is missing")),
    (
        "bad_enum",
        _with("complexity", "urgent", "complexity 'urgent' is not one of simple, complex"),
    ),
    ("bad_number", _with("loss_amount", "abc", "loss_amount 'abc' is not a number")),
    (
        "bad_duration",
        _with(
            "feedback_form_delay",
            "P1M",
            "feedback_form_delay 'P1M' is not a fixed duration (months vary in length)",
        ),
    ),
]


def _csv_row(rec: Record) -> list[str]:
    return [csv_cell(rec.get(f)) for f in FIELDS]


def _csv_set(field: str, cell: str, reason: str) -> Callable[[Record], tuple[list[str], str]]:
    def corrupt(rec: Record) -> tuple[list[str], str]:
        row = _csv_row(rec)
        row[FIELDS.index(field)] = cell
        return row, reason

    return corrupt


def _csv_bad_date(rec: Record) -> tuple[list[str], str]:
    row = _csv_row(rec)
    local = datetime.fromisoformat(str(rec["received_at"]).replace("Z", "+00:00"))
    local = local.astimezone(SHANGHAI) if local.tzinfo else local
    cell = f"2024-11-31T{local:%H:%M:%S}+08:00"
    row[FIELDS.index("received_at")] = cell
    return row, f"received_at '{cell}' is not a date (November has 30 days)"


def _csv_short(rec: Record) -> tuple[list[str], str]:
    keep = FIELDS.index("loss_amount")
    return _csv_row(rec)[:keep], f"too few columns ({keep} of {len(FIELDS)})"


CSV_BAD: list[tuple[str, Callable[[Record], tuple[list[str], str]]]] = [
    ("bad_date", _csv_bad_date),
    ("bad_number", _csv_set("loss_amount", "12,5x", "loss_amount '12,5x' is not a number")),
    ("bad_enum", _csv_set("tier", "VIP", "tier 'VIP' is not one of regular, key_account")),
    (
        "empty_bool",
        _csv_set(
            "task_completed_same_day",
            "",
            "task_completed_same_day is empty (a required bool is missing)",
        ),
    ),
    (
        "bad_bool",
        _csv_set("customer_contacted", "maybe", "customer_contacted 'maybe' is not true/false"),
    ),
    ("short_row", _csv_short),
]


# --------------------------------------------------------------------------- main


def main() -> None:
    rng = random.Random(SEED)
    n_bad = len(JSONL_BAD) + len(CSV_BAD)
    n_total = N_GOOD + n_bad

    # Records in order of receipt; the id is the receipt date (Asia/Shanghai) + daily serial.
    serial: Counter[str] = Counter()
    tags: Counter[str] = Counter()
    records: list[Record] = []
    for received in receipt_times(rng, n_total):
        day = received.strftime("%Y%m%d")
        serial[day] += 1
        records.append(make_record(rng, f"C-{day}-{serial[day]:04d}", received, tags))

    # Scatter the bad rows: one per stratum, kinds shuffled over the strata.
    kinds: list[tuple[str, int]] = [("jsonl", i) for i in range(len(JSONL_BAD))]
    kinds += [("csv", i) for i in range(len(CSV_BAD))]
    rng.shuffle(kinds)
    bad_at: dict[int, tuple[str, int]] = {}
    for k, bad_kind in enumerate(kinds):
        lo, hi = k * n_total // n_bad, (k + 1) * n_total // n_bad
        bad_at[rng.randrange(lo + 2, hi - 1)] = bad_kind

    jsonl_lines: list[str] = []
    jsonl_report: list[tuple[int, str, str]] = []
    csv_buf = io.StringIO()
    writer = csv.writer(csv_buf, lineterminator="\n")
    writer.writerow(FIELDS)
    csv_line = 1
    csv_report: list[tuple[int, str, str]] = []
    good: list[Record] = []
    for i, rec in enumerate(records):
        kind = bad_at.get(i)
        if kind is None:
            good.append(rec)
            jsonl_lines.append(json.dumps(rec, ensure_ascii=False))
            writer.writerow(_csv_row(rec))
            csv_line += 1
        elif kind[0] == "jsonl":
            line, reason = JSONL_BAD[kind[1]][1](rec)
            jsonl_lines.append(line)
            jsonl_report.append((len(jsonl_lines), str(rec["id"]), reason))
        else:
            row, reason = CSV_BAD[kind[1]][1](rec)
            writer.writerow(row)
            csv_line += 1
            csv_report.append((csv_line, str(rec["id"]), reason))

    assert len(good) == N_GOOD
    for tag in ("feedback_exactly_24h", "feedback_24h1m", "ignition_exactly_4h", "ignition_4h1m"):
        assert tags[tag] >= 3, (tag, tags[tag])
    assert tags["data_lost_zero_loss"] >= 3, tags

    def write(name: str, text: str) -> None:
        (OUT_DIR / name).write_text(text, encoding="utf-8", newline="")

    write("complaints.jsonl", "\n".join(jsonl_lines) + "\n")
    write("complaints.csv", csv_buf.getvalue())
    write(
        "complaints.json",
        json.dumps(good[:JSON_ARRAY_SIZE], ensure_ascii=False, indent=2) + "\n",
    )

    print(f"complaints.jsonl: {N_GOOD} good records, {len(jsonl_report)} bad lines")
    for lineno, rid, reason in jsonl_report:
        print(f"  line {lineno:3d}  {rid}  {reason}")
    print(f"complaints.csv: {N_GOOD} good records, {len(csv_report)} bad rows (header = line 1)")
    for lineno, rid, reason in csv_report:
        print(f"  line {lineno:3d}  {rid}  {reason}")
    print(f"complaints.json: the first {JSON_ARRAY_SIZE} good records")
    print("boundary cases (all records, incl. the bases of bad rows):")
    for tag, count in sorted(tags.items()):
        print(f"  {tag}: {count}")


if __name__ == "__main__":
    main()

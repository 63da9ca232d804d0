"""Generate the procurement centre's example exports, for ``policies/procurement.csp``.

Run from the repository root::

    python examples/procurement/make_data.py

It writes, next to this script:

* ``visits.jsonl``         - the supplier visit register (``record Visit``): one visit a line,
  booked visits and walk-ins, 2025-03-03 .. 2025-05-30, plus 2 bad lines;
* ``internal_cases.jsonl`` - the internal-service log (``record InternalCase``): questions a
  demand department raised with its responsible person (第二十九条) and calls to the complaint
  line (第三十条), plus 1 bad line;
* ``surveys.jsonl``        - the customer-satisfaction surveys held (``record Survey``);
* ``events.jsonl``         - the internal cases' event log (``handled``, ``replied``), in time
  order, one ``{"case", "at", "event", "role"}`` object a line (``shared/spec/IO.md``).

Most rows keep every rule; a visible minority break each one (a booking made the same day or
by word of mouth, a booking record without a field, a late reception with no explanation, no
written plan, a meeting in the office area, a meeting over two hours, a walk-in turned away
without a word, no promised time, a promise broken, a complaint answered after the hour), and
some leave a rule unknown (a channel or an end time not recorded).  The bad lines are printed
with their line numbers at the end.

The output is deterministic: a fixed-seed ``random.Random`` drives everything, so re-running
the script reproduces the files byte for byte.  Standard library only.
"""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from random import Random
from typing import Any

SEED = 20250530
OUT_DIR = Path(__file__).resolve().parent
SHANGHAI = timezone(timedelta(hours=8))  # Asia/Shanghai has had no DST since 1991
FIRST_DAY = date(2025, 3, 3)
LAST_DAY = date(2025, 5, 30)
# 清明 and 劳动节 2025: no visits, no questions
HOLIDAYS = {date(2025, 4, 4), *(date(2025, 5, d) for d in range(1, 6))}
M = timedelta(minutes=1)
H = timedelta(hours=1)

LEADS = ["王磊", "陈静", "刘洋", "张伟", "周敏"]
DEPARTMENTS = ["生产部", "质量部", "研发中心", "行政部", "仓储物流部", "华东子公司", "设备部"]
SURNAMES = list("李赵孙吴郑冯何吕施孔曹严华金魏陶姜谢邹喻柏")
GIVEN = ["强", "敏", "军", "芳", "涛", "娟", "斌", "丽", "杰", "磊", "霞", "鹏"]
COMPANIES = [
    "苏州恒达包装有限公司",
    "无锡新锐电子有限公司",
    "宁波东方五金制品厂",
    "常州华信化工有限公司",
    "上海博远物流有限公司",
    "杭州精工机械有限公司",
    "南通瑞丰纺织有限公司",
    "嘉兴海川塑胶制品有限公司",
]
SUBJECTS = [
    "纸箱年度报价",
    "电子元器件供货周期",
    "五金件质量整改",
    "化工原料价格调整",
    "仓储外包合同续签",
    "设备备件技术交流",
    "面料打样确认",
    "塑胶件模具费用",
]


def stamp(t: datetime) -> str:
    return t.isoformat(timespec="seconds")


def working_days() -> list[date]:
    days: list[date] = []
    d = FIRST_DAY
    while d <= LAST_DAY:
        if d.weekday() < 5 and d not in HOLIDAYS:
            days.append(d)
        d += timedelta(days=1)
    return days


def at(d: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(d, time(hour, minute), SHANGHAI)


def earlier_working_day(d: date, back: int) -> date:
    """The working day `back` working days before `d` (after it when `back` is negative),
    stepping over weekends and holidays, inside the period or not."""
    step = timedelta(days=-1 if back > 0 else 1)
    for _ in range(abs(back)):
        d += step
        while d.weekday() >= 5 or d in HOLIDAYS:
            d += step
    return d


def person(rng: Random) -> str:
    return (
        rng.choice(SURNAMES) + rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() < 0.4 else "")
    )


def booked_visit(rng: Random, days: list[date], d: date) -> dict[str, Any]:
    slot = rng.randrange(0, 16)  # 09:00 .. 16:30, every half hour
    booked_for = at(d, 9 + slot // 2, 30 * (slot % 2))
    # 第十四条: mostly two to five working days ahead, some the day before, a few the same day
    r = rng.random()
    if r < 0.06:
        booked_at = booked_for - timedelta(minutes=rng.randrange(60, 150))
    elif r < 0.25:
        booked_at = at(earlier_working_day(d, 1), rng.randrange(14, 21), rng.randrange(0, 60))
    else:
        back = rng.randrange(2, 6)
        booked_at = at(earlier_working_day(d, back), rng.randrange(9, 18), rng.randrange(0, 60))
    r = rng.random()
    booked_by: str | None = (
        "written" if r < 0.45 else "phone" if r < 0.93 else "verbal" if r < 0.98 else None
    )
    row: dict[str, Any] = {
        "project_lead": rng.choice(LEADS),
        "walk_in": False,
        "booked_at": stamp(booked_at),
        "booked_by": booked_by,
        "supplier_name": person(rng),
        "supplier_company": rng.choice(COMPANIES),
        "booked_for": stamp(booked_for),
        "party_size": rng.choice([1, 1, 2, 2, 2, 3, 4]),
        "subject": rng.choice(SUBJECTS),
    }
    # 第十五条: a few bookings leave a field out, or blank
    if rng.random() < 0.08:
        gap = rng.choice(["supplier_company", "party_size", "subject", "subject", "booked_for"])
        row[gap] = "" if gap == "subject" and rng.random() < 0.5 else None
    # the supplier: mostly on time or early, some late
    if rng.random() < 0.09:
        arrived = booked_for + timedelta(minutes=rng.randrange(5, 35))
    else:
        arrived = booked_for - timedelta(minutes=rng.randrange(0, 16))
    row["arrived_at"] = stamp(arrived)
    if rng.random() < 0.03:  # received by nobody (called off on the day): not checked
        row["received"] = False
        return row
    row["received"] = True
    if arrived > booked_for:
        start = arrived + timedelta(minutes=rng.randrange(0, 8))
    elif rng.random() < 0.2:  # 第十七条: a late reception, mostly explained while waiting
        delay = rng.randrange(10, 45)
        start = booked_for + timedelta(minutes=delay)
        r = rng.random()
        if r < 0.5:
            row["delay_explained_at"] = stamp(
                booked_for + timedelta(minutes=rng.randrange(1, delay))
            )
        elif r < 0.6:
            row["delay_explained_at"] = stamp(start + timedelta(minutes=rng.randrange(2, 10)))
    else:
        start = booked_for - timedelta(minutes=rng.randrange(0, 4))
    row["reception_started_at"] = stamp(start)
    # 第十八条: the written plan, mostly the day before; a few never, one or two too late
    r = rng.random()
    if r < 0.07:
        pass
    elif r < 0.1:
        row["plan_written_at"] = stamp(start + timedelta(minutes=rng.randrange(5, 60)))
    else:
        if rng.random() < 0.6:  # the working day before, in office hours
            plan_day = earlier_working_day(d, 1)
            row["plan_written_at"] = stamp(at(plan_day, rng.randrange(9, 18), rng.randrange(0, 60)))
        else:
            row["plan_written_at"] = stamp(start - timedelta(minutes=rng.randrange(30, 90)))
    # 第二十二条
    r = rng.random()
    row["room"] = "reception_room" if r < 0.84 else "other" if r < 0.92 else "office_area"
    # 第二十三条: 30 minutes to under two hours, some over, one ending on the two hours
    r = rng.random()
    if r < 0.02:
        pass  # the end was not recorded
    elif r < 0.1:
        row["reception_ended_at"] = stamp(start + timedelta(minutes=rng.randrange(125, 190)))
    elif r < 0.12:
        row["reception_ended_at"] = stamp(start + 2 * H)
    else:
        row["reception_ended_at"] = stamp(start + timedelta(minutes=rng.randrange(30, 115)))
    return row


def walk_in_visit(rng: Random, d: date) -> dict[str, Any]:
    arrived = at(d, rng.randrange(9, 17), rng.randrange(0, 60))
    row: dict[str, Any] = {
        "project_lead": rng.choice(LEADS),
        "walk_in": True,
        "arrived_at": stamp(arrived),
        "supplier_name": person(rng),
        "supplier_company": rng.choice(COMPANIES),
    }
    if rng.random() < 0.4:  # received on the spot
        start = arrived + timedelta(minutes=rng.randrange(5, 25))
        row["received"] = True
        row["reception_started_at"] = stamp(start)
        row["reception_ended_at"] = stamp(start + timedelta(minutes=rng.randrange(15, 70)))
        row["room"] = "reception_room" if rng.random() < 0.85 else "office_area"
    else:  # 第二十一条: turned away, mostly told why
        row["received"] = False
        r = rng.random()
        row["walk_in_explained"] = True if r < 0.65 else False if r < 0.88 else None
    return row


ORDER = [
    "id",
    "project_lead",
    "walk_in",
    "arrived_at",
    "booked_at",
    "booked_by",
    "supplier_name",
    "supplier_company",
    "booked_for",
    "party_size",
    "subject",
    "received",
    "reception_started_at",
    "reception_ended_at",
    "delay_explained_at",
    "plan_written_at",
    "room",
    "walk_in_explained",
]


def visits(rng: Random, days: list[date]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for d in days:
        n = rng.choice([0, 1, 1, 2, 2, 3])
        made = [
            booked_visit(rng, days, d) if rng.random() < 0.83 else walk_in_visit(rng, d)
            for _ in range(n)
        ]
        made.sort(key=lambda v: v["arrived_at"])
        for i, v in enumerate(made, 1):
            v["id"] = f"V-{d:%Y%m%d}-{i:02d}"
            out.append({k: v[k] for k in ORDER if v.get(k) is not None})
    return out


def internal_cases(
    rng: Random, days: list[date]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    cases: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    serial = 0
    for d in days:
        for _ in range(rng.choice([0, 0, 1, 1, 1, 2])):
            serial += 1
            cid = f"IC-{serial:04d}"
            received = at(d, rng.randrange(8, 17), rng.randrange(0, 60))
            if rng.random() < 0.7:  # 第二十九条: a question to the responsible person
                case: dict[str, Any] = {
                    "id": cid,
                    "received_at": stamp(received),
                    "line": "responsible_person",
                    "department": rng.choice(DEPARTMENTS),
                    "responsible": rng.choice(LEADS),
                }
                # a round hour of the working day: the same afternoon, or 17:00 one to three
                # working days later
                if received.hour < 13 and rng.random() < 0.4:
                    promised = received.replace(minute=0) + rng.choice([3 * H, 4 * H])
                else:
                    later = earlier_working_day(d, -rng.randrange(1, 4))
                    promised = at(later, 17)
                if rng.random() >= 0.1:
                    case["promised_at"] = stamp(promised)
                if d >= LAST_DAY - timedelta(days=1):  # the last questions are still open
                    cases.append(case)
                    continue
                if rng.random() < 0.15:  # the promise broken
                    handled = promised + timedelta(minutes=rng.randrange(30, 1800))
                else:
                    handled = received + (promised - received) * rng.uniform(0.2, 0.95)
                handled = handled.replace(second=0, microsecond=0)
                if not 9 <= handled.hour < 18:  # handled in office hours
                    handled = handled.replace(
                        hour=16 if handled.hour >= 18 else 9, minute=rng.randrange(0, 50)
                    )
                handled = max(handled, received + 20 * M)
                events.append(
                    {
                        "case": cid,
                        "at": stamp(handled),
                        "event": "handled",
                        "role": case["responsible"],
                    }
                )
            else:  # 第三十条: a call to the complaint line
                case = {
                    "id": cid,
                    "received_at": stamp(received),
                    "line": "complaint_line",
                    "department": rng.choice(DEPARTMENTS),
                }
                r = rng.random()
                wait = (
                    timedelta(minutes=rng.randrange(62, 240))
                    if r < 0.2
                    else H
                    if r < 0.25
                    else timedelta(minutes=rng.randrange(8, 58))
                )
                events.append(
                    {
                        "case": cid,
                        "at": stamp(received + wait),
                        "event": "replied",
                        "role": "采购管理中心",
                    }
                )
            cases.append(case)
    events.sort(key=lambda e: (e["at"], e["case"]))
    return cases, events


def surveys() -> list[dict[str, Any]]:
    return [
        {"id": "S-2025-01", "conducted_at": stamp(at(date(2025, 3, 28), 10)), "respondents": 14},
        {"id": "S-2025-02", "conducted_at": stamp(at(date(2025, 5, 23), 14)), "respondents": 17},
    ]


def line(row: dict[str, Any]) -> str:
    return json.dumps(row, ensure_ascii=False)


def write(path: Path, lines: list[str]) -> None:
    path.write_text("".join(s + "\n" for s in lines), encoding="utf-8")


def main() -> None:
    rng = Random(SEED)
    days = working_days()
    visit_rows = visits(rng, days)
    case_rows, events = internal_cases(rng, days)
    visit_lines = [line(v) for v in visit_rows]
    # the bad lines: a line cut off by the export, and a party size written in words
    cut = line(
        {
            "id": "V-20250415-09",
            "project_lead": "刘洋",
            "walk_in": False,
            "arrived_at": "2025-04-15T10:02:00+08:00",
        }
    )[:-20]
    worded = {
        "id": "V-20250508-09",
        "project_lead": "陈静",
        "walk_in": False,
        "arrived_at": "2025-05-08T14:00:00+08:00",
        "booked_at": "2025-05-06T10:00:00+08:00",
        "booked_by": "phone",
        "supplier_name": "孔杰",
        "supplier_company": "杭州精工机械有限公司",
        "booked_for": "2025-05-08T14:00:00+08:00",
        "party_size": "三人",
        "subject": "设备备件技术交流",
        "received": True,
    }
    bad_visits = {30: cut, 71: line(worded)}
    for n, text in sorted(bad_visits.items()):
        visit_lines.insert(n - 1, text)
    case_lines = [line(c) for c in case_rows]
    hotline = {
        "id": "IC-9001",
        "received_at": "2025-04-21T10:15:00+08:00",
        "line": "hotline",
        "department": "行政部",
    }
    case_lines.insert(19, line(hotline))
    write(OUT_DIR / "visits.jsonl", visit_lines)
    write(OUT_DIR / "internal_cases.jsonl", case_lines)
    write(OUT_DIR / "surveys.jsonl", [line(s) for s in surveys()])
    write(OUT_DIR / "events.jsonl", [line(e) for e in events])
    print(f"visits.jsonl: {len(visit_rows)} visits, bad lines {sorted(bad_visits)}")
    print(f"internal_cases.jsonl: {len(case_rows)} cases, bad line 20 (line `hotline`)")
    print(f"events.jsonl: {len(events)} events; surveys.jsonl: 2 surveys")


if __name__ == "__main__":
    main()

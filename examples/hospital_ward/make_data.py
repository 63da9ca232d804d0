"""Generate the example exports of a hospital's wards, for ``policies/hospital_ward.csp``.

Run from the repository root::

    python examples/hospital_ward/make_data.py

It writes, next to this script:

* ``stays.jsonl``          - one ``Inpatient`` record per stay (March 2024, four wards),
  plus 3 bad lines (not JSON, a wrong type, an unparseable datetime);
* ``events.jsonl``         - the stays' event log (``shared/spec/IO.md``, "Events"), in time
  order per case, plus 1 bad line (a time that is not a datetime);
* ``nursing_checks.jsonl`` - the functional department's nursing inspections
  (``NursingCheck``), plus 1 bad line (an enum value that is not one of the names);
* ``duty_shifts.jsonl``    - every night's duty shift of each ward (``DutyShift``); their
  ward-wide rounds are in ``events.jsonl`` too (case = the shift's id);
* ``discharge_talks.jsonl`` - the nurse's talk at some discharges (transcripts: the nurse is
  the ``agent``, the patient the ``customer``).

The export was taken at ``NOW`` (2024-04-01 08:00, pass it as ``--now``): stays that had not
ended by then are open (no ``discharged_at``).  Most stays follow 篇3 to the letter; each rule
has a visible minority of breaches, decided by a fixed-seed ``random.Random``, so re-running
the script reproduces the files byte for byte.  Standard library only.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from random import Random
from typing import Any

SEED = 20240301
OUT_DIR = Path(__file__).resolve().parent
SHANGHAI = timezone(timedelta(hours=8))  # no daylight saving since 1991
NOW = datetime(2024, 4, 1, 8, 0, tzinfo=SHANGHAI)
FIRST_ADMISSION = date(2024, 3, 1)
STAYS = 110
WARDS = {
    "心内科": ["王建国", "李秀英", "张伟"],
    "普外科": ["刘洋", "陈静", "杨帆"],
    "呼吸内科": ["赵敏", "黄磊"],
    "骨科": ["周涛", "吴昊", "徐丽"],
}
H = timedelta(hours=1)
M = timedelta(minutes=1)
D = timedelta(days=1)

Event = tuple[datetime, str]


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), SHANGHAI)


def iso(t: datetime) -> str:
    return t.isoformat()


def days_between(start: datetime, end: datetime) -> list[date]:
    """The whole days strictly between the dates of ``start`` and ``end``."""
    out, d = [], start.date() + D
    while d < end.date():
        out.append(d)
        d += D
    return out


def whole_weeks(start: datetime, end: datetime) -> list[date]:
    """The Mondays of the calendar weeks lying wholly between the dates of start and end."""
    monday = start.date() + timedelta(days=(7 - start.date().weekday()) % 7 or 7)
    out = []
    while monday + 6 * D < end.date():
        out.append(monday)
        monday += 7 * D
    return out


class Stay:
    def __init__(self, rng: Random, serial: int) -> None:
        self.rng = rng
        self.id = f"ZY2024{serial:04d}"
        self.ward = rng.choice(sorted(WARDS))
        self.attending = rng.choice(WARDS[self.ward])
        day = FIRST_ADMISSION + timedelta(days=rng.randrange(0, 25))
        self.admitted = at(day, rng.randint(8, 19), rng.choice([0, 10, 20, 30, 40, 50]))
        length = timedelta(days=rng.randint(2, 16), hours=rng.randint(-3, 3))
        end = at((self.admitted + length).date(), rng.choice([9, 10, 11, 15]), 30)
        self.discharged: datetime | None = end if end < NOW else None
        self.left_as: str | None = None
        if self.discharged is not None:
            self.left_as = rng.choices(
                ["discharged", "transferred_out", "self_discharged", "died"], [80, 9, 7, 4]
            )[0]
        self.critical = rng.random() < 0.10 or self.left_as == "died"
        self.difficult = rng.random() < 0.12
        self.surgery: int | None = None
        if self.ward in ("普外科", "骨科"):
            self.surgery = rng.choice([None, None, None, 1, 2, 2, 3, 4])
        self.new_procedure = self.surgery is not None and rng.random() < 0.08
        r = rng.random()
        self.diagnosed: datetime | None
        if r < 0.08:
            self.diagnosed = self.admitted + timedelta(hours=rng.randint(80, 120))
        elif r < 0.12:
            self.diagnosed = None
        else:
            self.diagnosed = self.admitted + timedelta(hours=rng.randint(2, 60))
        if self.discharged and self.diagnosed and self.diagnosed >= self.discharged:
            self.diagnosed = None
        self.poor_response: datetime | None = None
        last = self.discharged or NOW
        if last - self.admitted > 9 * D and rng.random() < 0.15:
            self.poor_response = self.admitted + timedelta(days=7, hours=rng.randint(2, 40))
        self.form_in_file: bool | None = None
        self.events: list[Event] = []

    @property
    def end(self) -> datetime:
        return self.discharged or NOW

    def add(self, t: datetime, name: str) -> None:
        if t <= NOW:
            self.events.append((t, name))

    def record(self) -> dict[str, Any]:
        row: dict[str, Any] = {"id": self.id, "admitted_at": iso(self.admitted)}
        if self.discharged is not None:
            row["discharged_at"] = iso(self.discharged)
            row["left_as"] = self.left_as
        row["ward"] = self.ward
        row["attending"] = self.attending
        row["diagnosis_confirmed_at"] = iso(self.diagnosed) if self.diagnosed else None
        row["critical"] = self.critical
        row["difficult"] = self.difficult
        if self.surgery is not None:
            row["surgery_class"] = self.surgery
        row["new_procedure"] = self.new_procedure
        if self.poor_response is not None:
            row["poor_response_at"] = iso(self.poor_response)
        if self.form_in_file is not None:
            row["opinion_form_in_file"] = self.form_in_file
        return row


def rounds(s: Stay) -> None:
    """一1: a morning and an afternoon round every day; some whole days miss one."""
    rng = s.rng
    skip: set[tuple[date, str]] = set()
    full = days_between(s.admitted, s.end)
    if full and rng.random() < 0.10:
        skip.add((rng.choice(full), rng.choice(["am", "pm"])))
    d = s.admitted.date()
    while d <= s.end.date():
        am = at(d, rng.randint(7, 9), rng.choice([0, 15, 30, 45]))
        pm = at(d, rng.randint(14, 17), rng.choice([0, 15, 30, 45]))
        for slot, t in (("am", am), ("pm", pm)):
            if (d, slot) not in skip and s.admitted < t < s.end:
                s.add(t, "ward_round")
        d += D


def weekly(s: Stay, name: str, weekday: int, hour: int, miss: float) -> None:
    """Once in every calendar week the stay overlaps; a few stays miss one whole week."""
    rng = s.rng
    full = whole_weeks(s.admitted, s.end)
    skipped = rng.choice(full) if full and rng.random() < miss else None
    monday = s.admitted.date() - timedelta(days=s.admitted.date().weekday())
    while monday <= s.end.date():
        if monday != skipped:
            t = at(monday + timedelta(days=weekday), hour, rng.choice([0, 30]))
            if s.admitted < t < s.end:
                s.add(t, name)
        monday += 7 * D


def calls(s: Stay) -> None:
    """一2 (a doctor called to the ward) and 一4 (an emergency consultation)."""
    rng = s.rng
    if rng.random() < 0.18:
        for _ in range(rng.choice([1, 1, 2])):
            t = s.admitted + (s.end - s.admitted) * rng.random()
            s.add(t, "doctor_called")
            r = rng.random()
            if r < 0.80:
                s.add(t + rng.randint(5, 28) * M, "doctor_arrived")
            elif r < 0.97:
                s.add(t + rng.randint(35, 75) * M, "doctor_arrived")
    if s.critical and rng.random() < 0.6:
        t = s.admitted + (s.end - s.admitted) * rng.random()
        s.add(t, "urgent_consult_called")
        late = rng.random() < 0.2
        s.add(
            t + rng.randint(12, 25) * M if late else t + rng.randint(3, 9) * M,
            "urgent_consult_arrived",
        )


LEVELS = {  # the consultation, the requests and approvals that come first
    "dept_consult": ["dept_consult_requested"],
    "interdept_consult": ["interdept_consult_requested", "interdept_consult_approved"],
    "hospital_consult": ["hospital_consult_requested", "hospital_consult_agreed"],
    "outside_consult": [
        "outside_consult_proposed",
        "outside_consult_agreed",
        "outside_consult_approved",
    ],
}


def triggered(s: Stay) -> bool:
    late_diagnosis = (s.diagnosed is not None and s.diagnosed - s.admitted > 3 * D) or (
        s.diagnosed is None and s.discharged is not None and s.discharged - s.admitted > 3 * D
    )
    return (
        late_diagnosis
        or s.critical
        or s.difficult
        or (s.surgery is not None and s.surgery >= 2)
        or s.poor_response is not None
    )


def consultations(s: Stay) -> list[datetime]:
    """一4: the consultations, each after its requests and approvals, each recorded."""
    rng = s.rng
    if rng.random() < 0.05:
        s.add(s.admitted + rng.randint(20, 60) * H, "consult_requested_by_patient")
        due = True
    else:
        due = triggered(s)
    held: list[datetime] = []
    if not (rng.random() < 0.88 if due else rng.random() < 0.08):
        return held
    level = rng.choices(list(LEVELS), [50, 35, 12, 3])[0]
    span = min(s.end - s.admitted, 4 * D)
    t = s.admitted + span * rng.uniform(0.3, 0.9)
    steps = LEVELS[level]
    broken = rng.random() < 0.10
    for k, step in enumerate(steps):
        when = t - (len(steps) - k) * rng.randint(30, 90) * M
        if broken and k == len(steps) - 1:
            if rng.random() < 0.5:
                continue  # the last approval never given
            when = t + rng.randint(20, 90) * M  # or given after the consultation
        s.add(when, step)
    s.add(t, level)
    held.append(t)
    if rng.random() > 0.07:
        s.add(t + rng.randint(1, 6) * H, "consult_recorded")
    return held


def exams(s: Stay, consults: list[datetime]) -> None:
    """一7 and 一10: case discussions, major examinations, imported drugs."""
    rng = s.rng
    discussed: datetime | None = None
    needs = s.difficult or s.critical or s.new_procedure or s.left_as == "died"
    if rng.random() < (0.85 if needs else 0.15):
        discussed = s.admitted + min(s.end - s.admitted, 3 * D) * rng.uniform(0.2, 0.6)
        if s.left_as == "died":
            discussed = s.end + rng.randint(1, 5) * D  # the death case discussion
        s.add(discussed, "case_discussed")
    before = [t for t in [discussed, *consults] if t is not None and t < s.end]
    for name, share in (("major_exam", 0.30), ("imported_drug_started", 0.08)):
        if rng.random() >= share:
            continue
        if rng.random() < 0.15:  # before any discussion or consultation
            s.add(s.admitted + min(s.end - s.admitted, 2 * D) * rng.uniform(0.05, 0.2), name)
            continue
        if not before:  # a discussion held for it
            t = s.admitted + min(s.end - s.admitted, 2 * D) * rng.uniform(0.3, 0.5)
            s.add(t, "case_discussed")
            before.append(t)
        first = min(before)
        s.add(first + (s.end - first) * rng.uniform(0.1, 0.5), name)


def transfers(s: Stay) -> None:
    """一5: a transfer to another hospital after approval; 一5/一8 a department transfer."""
    rng = s.rng
    if s.left_as == "transferred_out" and s.discharged is not None:
        missing = None
        if rng.random() < 0.3:
            missing = rng.choice(["transfer_hospital_discussed", "transfer_approved"])
        t = s.discharged - rng.randint(30, 50) * H
        for k, step in enumerate(
            ["transfer_discussed", "transfer_hospital_discussed", "transfer_approved"]
        ):
            if step != missing:
                s.add(t + k * 8 * H, step)
    if s.end - s.admitted > 3 * D and rng.random() < 0.07:
        t = s.admitted + rng.randint(30, 60) * H
        if rng.random() < 0.75:
            s.add(t - rng.randint(2, 8) * H, "transfer_consult_agreed")
        s.add(t, "department_transferred")


def discharge(s: Stay) -> None:
    """一6 and 二9: the notice a day ahead, the opinion form, the investigation."""
    rng = s.rng
    if s.discharged is None:
        return
    if s.left_as == "discharged":
        r = rng.random()
        if r < 0.85:
            s.add(at(s.discharged.date() - D, 7, 45), "discharge_notified")  # 晨会
        elif r < 0.95:
            s.add(s.discharged - rng.randint(2, 3) * H, "discharge_notified")  # same day
        if rng.random() < 0.93:
            s.add(s.discharged - rng.randint(10, 50) * M, "opinion_form_collected")
        s.form_in_file = rng.random() < 0.92
    elif s.left_as == "self_discharged":
        s.form_in_file = False
    if s.form_in_file is False and rng.random() < 0.6:
        s.add(s.discharged + rng.randint(2, 6) * D, "form_investigated")


def nursing_checks(rng: Random) -> list[dict[str, Any]]:
    """二8: inspections of basic and first-class nursing; some wards fall short of 90%."""
    rate = {
        ("心内科", "basic"): 0.97,
        ("心内科", "first_class"): 0.94,
        ("普外科", "basic"): 0.93,
        ("普外科", "first_class"): 0.80,
        ("呼吸内科", "basic"): 0.82,
        ("呼吸内科", "first_class"): 0.96,
        ("骨科", "basic"): 1.0,
        ("骨科", "first_class"): 0.92,
    }
    rows: list[dict[str, Any]] = []
    n = 0
    for ward in sorted(WARDS):
        for level in ("basic", "first_class"):
            checks = 20
            fails = round(checks * (1 - rate[ward, level]))
            failed = set(rng.sample(range(checks), fails))
            for k in range(checks):
                n += 1
                day = FIRST_ADMISSION + timedelta(days=rng.randrange(0, 31))
                rows.append(
                    {
                        "id": f"HL-{n:04d}",
                        "checked_at": iso(at(day, rng.randint(9, 16), rng.choice([0, 30]))),
                        "ward": ward,
                        "level": level,
                        "passed": k not in failed,
                    }
                )
    return rows


DISCHARGE_LINE = [
    "住院期间，有作的不周地方，请原谅，出院后病情有变化请打电话，我们尽力帮忙。",
    "住院期间有做得不周到的地方，请您原谅。出院后病情有变化请给我们打电话，我们会尽力帮忙的。",
]


def talks(rng: Random, stays: list[Stay]) -> list[dict[str, Any]]:
    """二9: the discharge talks of some discharges; a few leave out part of the line."""
    out: list[dict[str, Any]] = []
    for s in stays:
        if s.left_as != "discharged" or s.discharged is None or rng.random() > 0.25:
            continue
        r = rng.random()
        line = rng.choice(DISCHARGE_LINE)
        if r < 0.12:
            line = "出院手续办好了，回家注意休息，按时吃药。"  # no apology, no invitation
        elif r < 0.22:
            line = "住院期间，有做得不周的地方，请原谅。回家好好休息。"  # no invitation to call
        out.append(
            {
                "id": f"TH-{s.id}",
                "channel": "ward",
                "started_at": iso(s.discharged - 15 * M),
                "agent": "N-" + s.ward,
                "turns": [
                    {"speaker": "agent", "text": "您的出院征求意见表我收好了，谢谢您。"},
                    {"speaker": "customer", "text": "谢谢护士。"},
                    {"speaker": "agent", "text": line},
                    {"speaker": "customer", "text": "好的，再见。"},
                ],
            }
        )
    return out


WARD_CODES = {"心内科": "XNK", "普外科": "PWK", "呼吸内科": "HXNK", "骨科": "GK"}


def duty_shifts(rng: Random) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """一2: every night's duty shift of every ward, and its ward-wide round (some shifts have
    none, or only one before the doctor took over)."""
    shifts: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    for ward in sorted(WARDS):
        day = FIRST_ADMISSION
        while at(day, 17, 30) < NOW:
            sid = f"ZB-{WARD_CODES[ward]}-{day:%Y%m%d}"
            took, handed = at(day, 17, 30), at(day + D, 8, 0)
            shift: dict[str, Any] = {"id": sid, "ward": ward, "took_over_at": iso(took)}
            if handed <= NOW:
                shift["handed_over_at"] = iso(handed)
            shifts.append(shift)
            r = rng.random()
            if r < 0.92:
                t = took + rng.randint(15, 120) * M
            elif r < 0.95:
                t = took - rng.randint(10, 40) * M  # before taking over: not the duty round
            else:
                t = None
            if t is not None:
                events.append({"case": sid, "at": iso(t), "event": "duty_round"})
            day += D
    return shifts, events


def write(path: Path, rows: list[dict[str, Any]], extra: Sequence[str] = ()) -> None:
    lines = [json.dumps(r, ensure_ascii=False) for r in rows] + list(extra)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def main() -> None:
    rng = Random(SEED)
    stays = [Stay(rng, k + 1) for k in range(STAYS)]
    stays.sort(key=lambda s: s.admitted)
    for k, s in enumerate(stays):  # numbered in order of admission
        s.id = f"ZY2024{k + 1:04d}"
    for s in stays:
        rounds(s)
        weekly(s, "senior_round", 2, 10, 0.15)  # Wednesday 大查房
        weekly(s, "nursing_round", 1, 15, 0.08)
        weekly(s, "nursing_handover", 4, 16, 0.08)
        weekly(s, "nurse_on_doctor_round", 3, 9, 0.08)
        calls(s)
        exams(s, consultations(s))
        transfers(s)
        discharge(s)
    records = [s.record() for s in stays]
    bad_stays = [
        '{"id": "ZY20249001", "admitted_at": "2024-03-05T09:00:00+08:00", "ward": "骨科"',
        json.dumps({**records[3], "id": "ZY20249002", "critical": "yes"}, ensure_ascii=False),
        json.dumps(
            {**records[5], "id": "ZY20249003", "admitted_at": "2024-03-32T09:00"},
            ensure_ascii=False,
        ),
    ]
    write(OUT_DIR / "stays.jsonl", records, bad_stays)
    events = [
        {"case": s.id, "at": iso(t), "event": name} for s in stays for t, name in sorted(s.events)
    ]
    checks = nursing_checks(rng)
    bad_check = json.dumps({**checks[0], "id": "HL-9001", "level": "special"}, ensure_ascii=False)
    write(OUT_DIR / "nursing_checks.jsonl", checks, [bad_check])
    write(OUT_DIR / "discharge_talks.jsonl", talks(rng, stays))
    shifts, shift_events = duty_shifts(rng)
    write(OUT_DIR / "duty_shifts.jsonl", shifts)
    events += shift_events
    bad_event = json.dumps(
        {"case": stays[0].id, "at": "2024-03-02 上午", "event": "ward_round"}, ensure_ascii=False
    )
    write(OUT_DIR / "events.jsonl", events, [bad_event])
    print(
        f"{len(records)} stays (+{len(bad_stays)} bad lines), {len(events)} events, "
        f"{len(checks)} nursing checks (+1 bad line), {len(shifts)} duty shifts"
    )


if __name__ == "__main__":
    main()

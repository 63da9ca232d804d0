"""`csdsl validate` on the bundled example data, checked against an independent computation.

`expected()` is a hand-written reading of seed 000 二 over the raw JSON/CSV values (its own
datetime and duration parsing, no csdsl code), in the way the peers' baseline is written.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import pytest

import csdsl

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "policies" / "complaint_validity.csp"
EXAMPLES = ROOT / "examples"
SHANGHAI = dt.timezone(dt.timedelta(hours=8))  # no DST in China: a fixed offset is exact


def _when(text: str | None) -> dt.datetime | None:
    if not text:
        return None
    d = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return d if d.tzinfo else d.replace(tzinfo=SHANGHAI)


def _hours(raw: Any) -> float | None:
    if raw is None or raw == "":
        return None
    if isinstance(raw, int | float):
        return raw / 3600
    text = str(raw)
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return float(text) / 3600
    iso = re.fullmatch(r"PT(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?", text)
    parts = iso.groups() if iso else None
    if parts is None:
        units = dict((u, int(n)) for n, u in re.findall(r"(\d+)([dhms])", text))
        return (
            units.get("d", 0) * 24
            + units.get("h", 0)
            + units.get("m", 0) / 60
            + units.get("s", 0) / 3600
        )
    h, m, s = (int(x) if x else 0 for x in parts)
    return h + m / 60 + s / 3600


def _bool(raw: Any) -> bool:
    return raw is True or raw == "true"


def expected(r: dict[str, Any]) -> list[str]:
    out = []
    if _bool(r["agent_rude"]):
        out.append("rude_attitude")
    if not _bool(r["task_completed_same_day"]) and not (
        _bool(r["customer_contacted"]) and _bool(r["rescheduled"])
    ):
        out.append("missed_task")
    if _bool(r["data_lost"]) and float(r["loss_amount"]) > 0:
        out.append("data_loss")
    if not _bool(r["issue_recorded"]) and _bool(r.get("dispatch_blocked")):
        out.append("unrecorded")
    delay = _hours(r.get("feedback_form_delay"))
    if delay is None or delay > 24:
        out.append("feedback_late")
    req, done = _when(r.get("ignition_requested_at")), _when(r.get("ignition_completed_at"))
    if (
        req is not None
        and (done is None or done - req > dt.timedelta(hours=4))
        and not _bool(r["explained"])
    ):
        out.append("ignition_late")
    return out


def _raw_rows(path: Path) -> dict[int, dict[str, Any]]:
    """line number -> raw record, for the rows that parse as objects."""
    if path.suffix == ".jsonl":
        rows = {}
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            try:
                obj = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(obj, dict):
                rows[n] = obj
        return rows
    with path.open(encoding="utf-8", newline="") as f:
        return {n: row for n, row in enumerate(csv.DictReader(f), 2)}


@pytest.fixture(scope="module")
def policy() -> csdsl.Policy:
    return csdsl.load(SEED)


@pytest.mark.parametrize(
    ("name", "bad_lines"),
    [
        ("complaints.jsonl", [5, 35, 50, 92, 123, 163, 211, 240]),
        ("complaints.csv", [62, 84, 126, 147, 183, 219]),
    ],
)
def test_verdicts_match_an_independent_reading(
    policy: csdsl.Policy, name: str, bad_lines: list[int]
) -> None:
    path = EXAMPLES / name
    raw = _raw_rows(path)
    rows = list(policy.validate_file(path))
    assert [r.line for r in rows if r.error is not None] == bad_lines
    good = [r for r in rows if r.verdict is not None]
    assert len(good) == 240
    for row in good:
        assert row.verdict is not None
        assert list(row.verdict.matched) == expected(raw[row.line]), row.id
        assert row.verdict.valid == bool(expected(raw[row.line]))
    assert sum(r.verdict.valid for r in good if r.verdict) == 84
    assert {c for r in good if r.verdict for c in r.verdict.matched} == {
        c.id for c in policy.ir.validities[0].conditions
    }


def test_json_array_agrees_with_jsonl(policy: csdsl.Policy) -> None:
    array = list(policy.validate_file(EXAMPLES / "complaints.json"))
    rows = policy.validate_file(EXAMPLES / "complaints.jsonl")
    lines = {r.id: r.verdict.matched for r in rows if r.verdict}
    assert len(array) == 30
    for row in array:
        assert row.verdict is not None and row.verdict.matched == lines[row.id]

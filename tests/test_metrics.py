"""Metrics (`csdsl.metrics`): seed 002's KPI formulas against values computed by hand."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

import csdsl
from csdsl.api import Policy
from csdsl.metrics import MetricResult, percentile

ROOT = Path(__file__).resolve().parents[1]
KPIS = ROOT / "policies" / "hotline_kpis.csp"


@pytest.fixture(scope="module")
def kpis() -> Policy:
    return csdsl.load(KPIS)


def _call(n: int, day: str, team: str, connected: bool, wants: bool, human: bool) -> dict[str, Any]:
    return {
        "id": f"c{n}",
        "started_at": f"{day}T10:00:00+08:00",
        "team": team,
        "connected": connected,
        "wants_human": wants,
        "answered_by_human": human,
    }


# the validity fields of the `Complaint` record, which these KPIs do not read
_HANDLED = {
    "complexity": "simple",
    "agent_rude": False,
    "task_completed_same_day": True,
    "customer_contacted": True,
    "rescheduled": False,
    "data_lost": False,
    "loss_amount": 0,
    "issue_recorded": True,
    "explained": False,
}


def _complaint(n: int, day: str, **kw: Any) -> dict[str, Any]:
    row = {
        "id": f"k{n}",
        "received_at": f"{day}T09:00:00+08:00",
        "team": "A",
        "repeat": False,
        "replied": True,
        "replied_in_time": True,
        "reply_time": "PT10H",
        "satisfied": True,
        "cross_province": False,
        "tier": "regular",
        **_HANDLED,
    }
    row.update(kw)
    return row


def _by(results: list[MetricResult], metric: str) -> dict[tuple[Any, ...], MetricResult]:
    return {tuple(r.group) or (): r for r in results if r.metric.name == metric}


def test_connection_and_human_answer_rates(kpis: Policy) -> None:
    calls = [
        # October, team A: 4 calls, 3 connected; 3 want a human, 2 answered by one
        _call(1, "2024-10-01", "A", True, True, True),
        _call(2, "2024-10-02", "A", True, True, True),
        _call(3, "2024-10-31", "A", True, True, False),
        _call(4, "2024-10-15", "A", False, False, False),
        # October, team B: 1 call that did not want a human
        _call(5, "2024-10-20", "B", True, False, False),
        # 2024-11-01 00:30 in Shanghai is still October 31 in UTC: it belongs to November
        {**_call(6, "2024-11-01", "A", True, True, True), "started_at": "2024-10-31T16:30:00Z"},
    ]
    results = kpis.measure({"Call": calls})
    conn = _by(results, "connection_rate")
    oct_ = conn[(("month of started_at", "2024-10"),)]
    assert oct_.value == pytest.approx(4 / 5)  # 4 of 5 October calls connected
    assert oct_.status == "fail"  # 80% < 85%
    assert [p.value for p in oct_.parts] == [4, 5]
    nov = conn[(("month of started_at", "2024-11"),)]
    assert (nov.value, nov.status) == (1.0, "pass")
    human = _by(results, "human_answer_rate")
    a = human[(("month of started_at", "2024-10"), ("team", "A"))]
    assert a.value == pytest.approx(2 / 3) and a.status == "fail"
    b = human[(("month of started_at", "2024-10"), ("team", "B"))]
    # nobody on team B asked for a human in October: not applicable, never 0% or 100%
    assert (b.value, b.status) == (None, "not_applicable")
    assert b.reason is not None and "division by zero" in b.reason


def test_repeat_complaint_rate_reading(kpis: Policy) -> None:
    # 200 complaints in October, 3 of them repeats: 3 / 200 = 1.5% > 1%
    rows = [_complaint(i, "2024-10-10", repeat=i < 3) for i in range(200)]
    r = _by(kpis.measure({"Complaint": rows}), "repeat_complaint_rate")
    (only,) = r.values()
    assert only.value == pytest.approx(0.015) and only.status == "fail"
    rows = [_complaint(i, "2024-10-10", repeat=i < 2) for i in range(200)]
    (only,) = _by(kpis.measure({"Complaint": rows}), "repeat_complaint_rate").values()
    assert only.value == pytest.approx(0.01) and only.status == "pass"  # exactly 1% is allowed


def test_satisfaction_rates_and_missing_answers(kpis: Policy) -> None:
    rows = [
        _complaint(1, "2024-10-01", cross_province=True, satisfied=True),
        _complaint(2, "2024-10-01", cross_province=True, satisfied=False),
        _complaint(3, "2024-10-01", cross_province=True, satisfied=None),
        _complaint(4, "2024-10-01", cross_province=True, satisfied=True),
        _complaint(5, "2024-10-01", tier="key_account", satisfied=True),
    ]
    results = kpis.measure({"Complaint": rows})
    (cross,) = _by(results, "cross_province_satisfaction").values()
    # satisfied is unknown for one: it does not count as satisfied; 2 of 4
    assert cross.value == pytest.approx(0.5) and cross.status == "fail"
    (key,) = _by(results, "key_account_satisfaction").values()
    assert key.value == 1.0 and key.status == "pass"


def test_on_time_rates_count_the_clocks_not_the_flags(kpis: Policy) -> None:
    """002 八's 投诉回复及时率 and 48-hour reply time count the policy's reply clocks, which run
    on the event log: without one they are not applicable, whatever `replied_in_time` says."""
    rows = [
        _complaint(1, "2024-10-01", reply_time="PT47H"),
        _complaint(2, "2024-10-02", reply_time="PT49H", replied_in_time=False),
        _complaint(3, "2024-10-03", reply_time=None, replied=False, replied_in_time=False),
        _complaint(4, "2024-11-03", reply_time=None, replied=False, replied_in_time=False),
    ]
    results = kpis.measure({"Complaint": rows})
    for name, clock in (("complaint_reply_time", "reply_48h"), ("complaint_on_time_rate", "reply")):
        by_month = _by(results, name)
        assert set(by_month) == {
            (("month of received_at", "2024-10"),),
            (("month of received_at", "2024-11"),),
        }
        for r in by_month.values():
            assert (r.value, r.status) == (None, "not_applicable")
            assert r.reason is not None and f"`{clock}`" in r.reason and "--events" in r.reason
    replied = _by(results, "complaint_reply_rate")
    assert replied[(("month of received_at", "2024-11"),)].value == 0.0
    js = _by(results, "complaint_reply_time")[(("month of received_at", "2024-10"),)].to_json()
    assert js["value"] is None and js["threshold"] == 1.0
    assert js["clause"]["line"] > 0 and js["group"] == {"month of received_at": "2024-10"}


def test_inquiries_and_no_records_at_all(kpis: Policy) -> None:
    assert [r for r in kpis.measure({}) if r.metric.name == "inquiry_reply_rate"] == []
    rows = [
        {
            "id": f"i{i}",
            "received_at": "2024-10-05T12:00:00+08:00",
            "team": "A",
            "replied": True,
            "replied_in_time": i != 0,
            "satisfied": i < 9,
        }
        for i in range(10)
    ]
    results = kpis.measure({"Inquiry": rows})
    (reply,) = _by(results, "inquiry_reply_rate").values()
    assert (reply.value, reply.status) == (1.0, "pass")
    (on_time,) = _by(results, "inquiry_on_time_rate").values()
    assert on_time.value == pytest.approx(0.9) and on_time.status == "fail"
    (sat,) = _by(results, "inquiry_satisfaction").values()
    assert sat.value == pytest.approx(0.9) and sat.status == "pass"


def test_percentile_interpolates_between_closest_ranks() -> None:
    assert percentile([1, 2, 3, 4], 50) == 2.5
    assert percentile([10], 90) == 10
    assert percentile([], 90) is None
    assert percentile([dt.timedelta(0), dt.timedelta(seconds=10)], 90) == dt.timedelta(seconds=9)


def test_aggregates_in_a_condition_are_an_error(tmp_path: Path) -> None:
    p = tmp_path / "p.csp"
    p.write_text(
        'policy "t"\nrecord R { x: number }\nvalid R when any { a: count(R) > 1 }\n'
        "metric m: mean(R.x) >= 2 by week of x\n",
        encoding="utf-8",
    )
    with pytest.raises(csdsl.PolicyError) as err:
        csdsl.load(p)
    assert [d.code for d in err.value.diagnostics] == ["E310", "E301"]


def test_a_metric_in_an_imported_file_is_reported_unused(tmp_path: Path) -> None:
    (tmp_path / "lib.csp").write_text(
        "record R { x: number }\nmetric m: mean(R.x) >= 2\n", encoding="utf-8"
    )
    main = tmp_path / "main.csp"
    main.write_text('policy "x"\nimport "lib.csp"\n', encoding="utf-8")
    policy = csdsl.load(main)
    assert [d.code for d in policy.diagnostics] == ["W533"]
    assert policy.ir.metrics == ()
    assert "`include` it instead" in (policy.diagnostics[0].hint or "")
    # and the hint's way works: included, the metric is the policy's
    main.write_text('policy "x"\ninclude "lib.csp"\n', encoding="utf-8")
    included = csdsl.load(main)
    assert list(included.diagnostics) == []
    assert [m.name for m in included.ir.metrics] == ["m"]

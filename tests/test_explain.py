"""`csdsl.explain`: a verdict's derivation and the smallest field changes that flip it.

- on `policies/complaint_validity.csp` and `examples/complaints.jsonl`: every condition with the
  interpreter's outcome, its clause and the values it compared, sub-comparisons included;
- every reported flip, applied to the raw record, really flips the verdict;
- a complaint valid by two conditions needs a pair; pairs only when no single change flips it;
- bad records raise `RecordError` with a clear message;
- on generated policies and records (Hypothesis), every reported flip is verified and minimal.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import csdsl
from csdsl import ir, testing
from csdsl.api import Policy, RecordError
from csdsl.explain import Explanation, Step, explain, iter_flipped
from csdsl.records import json_value
from csdsl.syntax.format import expr_text

ROOT = Path(__file__).resolve().parents[1]
VALIDITY = "policies/complaint_validity.csp"


@pytest.fixture(scope="module")
def policy() -> Policy:
    import os

    old = os.getcwd()
    os.chdir(ROOT)  # file names in spans as the CLI shows them: policies/...
    try:
        return csdsl.load(VALIDITY)
    finally:
        os.chdir(old)


@pytest.fixture(scope="module")
def complaints() -> list[dict[str, Any]]:
    out = []
    for line in (ROOT / "examples" / "complaints.jsonl").read_text(encoding="utf-8").splitlines():
        try:
            obj = json.loads(line)
        except ValueError:
            continue  # the example data has deliberately broken lines
        if isinstance(obj, dict):
            out.append(obj)
    return out


def _readable(policy: Policy, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for r in records:
        try:
            policy.validate(r)
        except RecordError:
            continue
        out.append(r)
    return out


def _by_id(records: list[dict[str, Any]], rid: str) -> dict[str, Any]:
    return next(r for r in records if r.get("id") == rid)


def assert_flips_verified(policy: Policy, e: Explanation, raw: dict[str, Any], rt: str) -> None:
    """Each flip, applied to the raw record, changes the verdict to the one it reports; pairs
    only when no single change flips it, and neither half of a pair flips it alone."""
    before = policy.validate(raw, rt)
    assert before.valid == e.verdict.valid
    for flip, changed in zip(e.flips, iter_flipped(e, raw), strict=True):
        after = policy.validate(changed, rt)
        assert after.valid != before.valid, flip
        assert after.valid == flip.valid
        assert len(flip.changes) == e.size
        for c in flip.because:
            assert c.id in {x.id for x in (*after.conditions, *after.exceptions)}
    singles = {f.changes[0].field for f in e.flips if len(f.changes) == 1}
    pairs = [f for f in e.flips if len(f.changes) == 2]
    assert not (singles and pairs)
    for flip in pairs:
        assert not {c.field for c in flip.changes} & singles
        for c in flip.changes:  # minimal: one half alone does not flip the verdict
            alone = dict(raw) | {c.field: json_value(c.new)}
            assert policy.validate(alone, rt).valid == before.valid, flip


# ---- the derivation on the bundled policy ------------------------------------------------------


def test_derivation_lists_every_condition(policy: Policy, complaints: list[dict[str, Any]]) -> None:
    validity = policy.ir.validities[0]
    for raw in _readable(policy, complaints):
        e = explain(policy, raw)
        verdict = policy.validate(raw)
        assert e.verdict == verdict
        assert [c.id for c in e.conditions] == [c.id for c in validity.conditions]
        for trace, cond, result in zip(
            e.conditions, validity.conditions, verdict.conditions, strict=True
        ):
            assert trace.outcome is result.outcome
            assert trace.step.outcome is result.outcome
            assert (trace.file, trace.line) == (VALIDITY, cond.span.line)
            assert trace.wording == cond.wording
            assert trace.values == result.values
        text = e.to_text()
        for cond in validity.conditions:
            assert f"{cond.id} ({VALIDITY}:{cond.span.line})" in text
        json.dumps(e.to_json(), ensure_ascii=False)


def _find(step: Step, text: str) -> Step:
    if step.text == text:
        return step
    for s in step.steps:
        try:
            return _find(s, text)
        except LookupError:
            pass
    raise LookupError(text)


def test_nested_condition_shows_each_comparison(
    policy: Policy, complaints: list[dict[str, Any]]
) -> None:
    e = explain(policy, _by_id(complaints, "C-20241029-0002"))
    assert e.verdict.valid and e.verdict.matched == ("ignition_late",)
    late = next(c for c in e.conditions if c.id == "ignition_late")
    assert (late.outcome, late.line) == (True, 48)
    cmp = _find(late.step, "ignition_completed_at - ignition_requested_at > 4h")
    assert cmp.outcome is True
    assert cmp.operands == (
        ("ignition_completed_at - ignition_requested_at", dt.timedelta(hours=4, minutes=56)),
    )
    missing = _find(late.step, "ignition_completed_at is missing")
    assert missing.outcome is False
    assert [s.text for s in late.step.steps] == [
        "ignition_requested_at is set",
        "(ignition_completed_at is missing or ignition_completed_at - ignition_requested_at > 4h)",
        "not explained",
    ]
    text = e.to_text()
    assert (
        "true    ignition_completed_at - ignition_requested_at > 4h  "
        "[ignition_completed_at - ignition_requested_at = PT4H56M]" in text
    )
    assert "matched     ignition_late (policies/complaint_validity.csp:48)" in text
    # a missing operand makes a comparison unknown, as in the interpreter
    e = explain(policy, _by_id(complaints, "C-20241029-0004"))
    late = next(c for c in e.conditions if c.id == "ignition_late")
    assert _find(late.step, "ignition_completed_at - ignition_requested_at > 4h").outcome is None


# ---- what would change the outcome -------------------------------------------------------------


def test_every_reported_flip_flips(policy: Policy, complaints: list[dict[str, Any]]) -> None:
    seen = {True: 0, False: 0}
    for raw in _readable(policy, complaints):
        e = explain(policy, raw)
        assert e.flips, raw["id"]  # every complaint of the example data can be turned around
        seen[e.verdict.valid] += 1
        assert_flips_verified(policy, e, raw, "Complaint")
    assert seen[True] and seen[False]


def test_single_flips_of_a_valid_and_an_invalid_complaint(
    policy: Policy, complaints: list[dict[str, Any]]
) -> None:
    e = explain(policy, _by_id(complaints, "C-20241029-0004"))  # valid: issue not recorded
    assert e.size == 1
    assert [f.text(e.noun) for f in e.flips] == [
        "set `issue_recorded` to true and the complaint is no longer valid "
        "(condition `unrecorded`, policies/complaint_validity.csp:42)",
        # 000 二(4)'s consequence: the work was not blocked, or nobody knows whether it was
        "set `dispatch_blocked` to false and the complaint is no longer valid "
        "(condition `unrecorded`, policies/complaint_validity.csp:42)",
        "set `dispatch_blocked` to missing and the complaint is no longer valid "
        "(condition `unrecorded`, policies/complaint_validity.csp:42)",
    ]
    e = explain(policy, _by_id(complaints, "C-20241029-0001"))  # invalid
    texts = [f.text(e.noun) for f in e.flips]
    assert texts[0] == (
        "set `agent_rude` to true and the complaint becomes valid "
        "(condition `rude_attitude`, policies/complaint_validity.csp:34)"
    )
    # the 24h boundary: just above it, and missing, make the feedback late
    assert (
        "set `feedback_form_delay` to PT24H1S and the complaint becomes valid "
        "(condition `feedback_late`, policies/complaint_validity.csp:45)" in texts
    )
    assert any("`feedback_form_delay` to missing" in t for t in texts)
    assert e.to_json()["flips"][0]["changes"] == [
        {"field": "agent_rude", "from": False, "to": True}
    ]


def test_loss_amount_boundary(policy: Policy, complaints: list[dict[str, Any]]) -> None:
    """`data_lost and loss_amount > 0`: from 0, a tiny positive amount is the change."""
    raw = dict(_by_id(complaints, "C-20241029-0001")) | {"data_lost": True}
    e = explain(policy, raw)
    flip = next(f for f in e.flips if f.changes[0].field == "loss_amount")
    assert flip.changes[0].new == 0.01
    assert flip.because[0].id == "data_loss"
    raw["loss_amount"] = 1200.5
    e = explain(policy, raw)
    assert e.verdict.matched == ("data_loss",)
    flip = next(f for f in e.flips if f.changes[0].field == "loss_amount")
    assert flip.changes[0].new == 0  # the boundary itself: not more than 0


def test_valid_by_two_conditions_needs_a_pair(policy: Policy) -> None:
    ordinary = {ex.id: ex for ex in policy.ir.examples}["ordinary"]
    raw = {"id": "two", **{k: json_value(v) for k, v in ordinary.values}}
    raw |= {"agent_rude": True, "issue_recorded": False, "dispatch_blocked": True}
    e = explain(policy, raw)
    assert e.verdict.matched == ("rude_attitude", "unrecorded")
    assert e.size == 2
    assert [[(c.field, c.new) for c in f.changes] for f in e.flips] == [
        [("agent_rude", False), ("issue_recorded", True)],
        [("agent_rude", False), ("dispatch_blocked", False)],
    ]
    assert [c.id for c in e.flips[0].because] == ["rude_attitude", "unrecorded"]
    assert_flips_verified(policy, e, raw, "Complaint")
    # three conditions: no change of one or two fields is enough, and the text says so
    raw["feedback_form_delay"] = None
    e = explain(policy, raw)
    assert e.flips == () and e.size is None and not e.exhausted
    assert "no change of one or two fields flips the verdict" in e.to_text()


def test_deterministic(policy: Policy, complaints: list[dict[str, Any]]) -> None:
    raw = _by_id(complaints, "C-20241029-0002")
    assert explain(policy, raw) == explain(policy, dict(reversed(list(raw.items()))))
    assert explain(policy, raw).to_text() == explain(policy, raw).to_text()


def test_budget_is_a_bound(policy: Policy) -> None:
    ordinary = {ex.id: ex for ex in policy.ir.examples}["ordinary"]
    raw = {"id": "two", **{k: json_value(v) for k, v in ordinary.values}}
    raw |= {"agent_rude": True, "issue_recorded": False, "dispatch_blocked": True}
    e = explain(policy, raw, max_tries=5)
    assert e.tries == 5 and e.exhausted and e.flips == ()
    assert "within the search budget" in e.to_text()


def test_bad_records_raise_record_error(policy: Policy, complaints: list[dict[str, Any]]) -> None:
    raw = _by_id(complaints, "C-20241029-0005")  # agent_rude: "yes"
    with pytest.raises(RecordError, match="`agent_rude`: expected true or false") as info:
        explain(policy, raw)
    assert info.value.field == "agent_rude"
    with pytest.raises(RecordError, match="expected an object"):
        explain(policy, [1, 2])  # type: ignore[arg-type]
    with pytest.raises(RecordError, match="no `id`"):
        explain(policy, {k: v for k, v in complaints[0].items() if k != "id"})
    with pytest.raises(KeyError, match="no validity block for record `Call`"):
        explain(policy, complaints[0], "Call")


# ---- generated policies and records ------------------------------------------------------------

RECORD = testing.SAMPLE_RECORD


def _policy_text(conds: list[str], excs: list[str], quantifier: str) -> str:
    cs = "\n".join(f"  c{i}: {c}" for i, c in enumerate(conds))
    xs = "\n".join(f"  x{i}: {c}" for i, c in enumerate(excs))
    unless = f" unless {{\n{xs}\n}}" if excs else ""
    return (
        f'policy "generated" timezone "UTC"\n\n{RECORD}\n\n'
        f"valid R when {quantifier} {{\n{cs}\n}}{unless}\n"
    )


@pytest.fixture(scope="module")
def record_type(tmp_path_factory: pytest.TempPathFactory) -> ir.Record:
    path = tmp_path_factory.mktemp("rec") / "r.csp"
    path.write_text(f'policy "r" timezone "UTC"\n{RECORD}\n', encoding="utf-8")
    record = csdsl.load(path).ir.record("R")
    assert record is not None
    return record


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_generated_flips_are_verified_and_minimal(
    record_type: ir.Record, tmp_path_factory: pytest.TempPathFactory, data: st.DataObject
) -> None:
    conds = data.draw(
        st.lists(testing.typed_conditions(record_type, max_depth=2), min_size=1, max_size=3)
    )
    excs = data.draw(st.lists(testing.typed_conditions(record_type, max_depth=1), max_size=1))
    quantifier = data.draw(st.sampled_from(["any", "all"]))
    text = _policy_text([expr_text(c) for c in conds], [expr_text(c) for c in excs], quantifier)
    path = tmp_path_factory.mktemp("gen") / "generated.csp"
    path.write_text(text, encoding="utf-8")
    policy = csdsl.load(path)
    for values in data.draw(st.lists(testing.record_values(record_type), min_size=1, max_size=3)):
        raw = {"id": "r", **{k: json_value(v) for k, v in values.items()}}
        e = explain(policy, raw, max_tries=3000)
        assert e.verdict == policy.validate_values(values, record_id="r")
        assert len(e.conditions) == len(conds) and len(e.exceptions) == len(excs)
        assert_flips_verified(policy, e, raw, "R")
        e.to_text()
        json.dumps(e.to_json(), ensure_ascii=False)

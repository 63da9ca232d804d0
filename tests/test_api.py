"""The Python API: load, validate, errors, explanations."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

import csdsl

SEED = Path(__file__).resolve().parents[1] / "policies" / "complaint_validity.csp"

GOOD = {
    "id": "C-1",
    "received_at": "2024-10-29T09:15:00",
    "complexity": "simple",
    "tier": "regular",
    "agent_rude": False,
    "task_completed_same_day": True,
    "customer_contacted": True,
    "rescheduled": False,
    "data_lost": False,
    "loss_amount": 0,
    "issue_recorded": True,
    "feedback_form_delay": "PT2H",
    "explained": False,
    "team": "east",
    "repeat": False,
    "replied": True,
    "replied_in_time": True,
    "cross_province": False,
}


@pytest.fixture(scope="module")
def policy() -> csdsl.Policy:
    return csdsl.load(SEED)


def test_header_is_exposed(policy: csdsl.Policy) -> None:
    assert policy.name == "客服人员行为规范：投诉成立"
    assert policy.version == "1.0"
    assert policy.ir.timezone == "Asia/Shanghai"


def test_validate_a_record(policy: csdsl.Policy) -> None:
    v = policy.validate(GOOD)
    assert (v.valid, v.matched, v.record_id) == (False, (), "C-1")
    v = policy.validate(
        {**GOOD, "agent_rude": True, "issue_recorded": False, "dispatch_blocked": True}
    )
    assert v.valid and v.matched == ("rude_attitude", "unrecorded")


def test_the_why_names_clause_and_values(policy: csdsl.Policy) -> None:
    v = policy.validate({**GOOD, "data_lost": True, "loss_amount": 12.5})
    data_loss = next(c for c in v.conditions if c.id == "data_loss")
    assert data_loss.outcome is True
    assert dict(data_loss.values) == {"data_lost": True, "loss_amount": 12.5}
    assert data_loss.file.endswith("complaint_validity.csp")
    assert data_loss.line > 1
    assert "丢失客户数据" in (data_loss.wording or "")
    text = v.explain()
    assert text.startswith("valid because data_loss")
    assert "loss_amount=12.5" in text


def test_missing_values_are_unknown_not_false(policy: csdsl.Policy) -> None:
    v = policy.validate({**GOOD, "ignition_requested_at": None})
    ignition = next(c for c in v.conditions if c.id == "ignition_late")
    assert ignition.outcome is False  # `is set` is false, so the `and` is definitely false
    v = policy.validate({**GOOD, "feedback_form_delay": None})
    assert v.matched == ("feedback_late",)


def test_naive_datetimes_are_in_the_policy_time_zone(policy: csdsl.Policy) -> None:
    # 4 h in Shanghai time; the completion is written in UTC (Z): exactly 4 h later, not late
    record = {
        **GOOD,
        "ignition_requested_at": "2024-10-29T10:00:00",
        "ignition_completed_at": "2024-10-29T06:00:00Z",
    }
    assert policy.validate(record).matched == ()
    record["ignition_completed_at"] = "2024-10-29T06:00:01Z"
    assert policy.validate(record).matched == ("ignition_late",)


def test_python_values_are_accepted(policy: csdsl.Policy) -> None:
    tz = dt.timezone(dt.timedelta(hours=8))
    record = {
        **GOOD,
        "received_at": dt.datetime(2024, 10, 29, 9, tzinfo=tz),
        "feedback_form_delay": dt.timedelta(hours=30),
    }
    assert policy.validate(record).matched == ("feedback_late",)


def test_a_record_that_does_not_fit_raises_record_error(policy: csdsl.Policy) -> None:
    with pytest.raises(csdsl.RecordError) as info:
        policy.validate({**GOOD, "tier": "vip"})
    assert info.value.code == "R006" and info.value.field == "tier"
    with pytest.raises(csdsl.RecordError) as info:
        policy.validate({k: v for k, v in GOOD.items() if k != "agent_rude"})
    assert info.value.code == "R003"


def test_a_policy_with_errors_raises_policy_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csp"
    bad.write_text("record R { a: bool }\nvalid R when any { x: b }\n", encoding="utf-8")
    with pytest.raises(csdsl.PolicyError) as info:
        csdsl.load(bad)
    (d,) = info.value.diagnostics
    assert (d.code, d.span.line, d.span.column) == ("E201", 2, 23)
    assert "bad.csp:2:23: unknown field `b`" in str(info.value)
    assert "^" in info.value.render()


def test_several_record_types_need_a_choice(tmp_path: Path) -> None:
    path = tmp_path / "two.csp"
    path.write_text(
        "record A { x: bool }\nrecord B { y: int }\n"
        "valid A when any { ax: x }\nvalid B when all { big: y > 3, small: y < 10 }\n",
        encoding="utf-8",
    )
    policy = csdsl.load(path)
    with pytest.raises(KeyError):
        policy.validate({"id": 1, "x": True})
    assert policy.validate({"id": 1, "y": 5}, "B").matched == ("big", "small")
    assert policy.validate({"id": 1, "y": 5}, "B").valid
    assert not policy.validate({"id": 2, "y": 50}, "B").valid  # `all`: one failed


def test_unless_exceptions_override(tmp_path: Path) -> None:
    path = tmp_path / "unless.csp"
    path.write_text(
        'record C { rude: bool, withdrawn: bool }\nvalid C when any { r "态度差": rude }\n'
        'unless { w "客户撤回投诉": withdrawn }\n',
        encoding="utf-8",
    )
    policy = csdsl.load(path)
    v = policy.validate({"id": 1, "rude": True, "withdrawn": True})
    assert (v.valid, v.matched, v.excepted) == (False, ("r",), ("w",))


def test_examples_run(policy: csdsl.Policy) -> None:
    results = policy.run_examples()
    assert len(results) >= 12 and all(r.passed for r in results)


def test_each_seed_condition_has_a_positive_and_a_negative_example(policy: csdsl.Policy) -> None:
    validity = policy.ir.validities[0]
    for cond in validity.conditions:
        fired = [
            r.example
            for r in policy.run_examples()
            if r.example.because is not None and cond.id in r.example.because
        ]
        fields = set(cond.fields)
        boundary = [
            r.example
            for r in policy.run_examples()
            if not r.example.expect_valid
            and fields & {name for name, value in r.example.values if value is not None}
        ]
        assert fired, f"no example shows `{cond.id}` matching"
        assert boundary, f"no negative example touches the fields of `{cond.id}`"


def test_number_overflow_is_unknown_not_infinite(tmp_path: Path) -> None:
    path = tmp_path / "big.csp"
    path.write_text("record R { n: number }\nvalid R when any { huge: n * n > 0 }\n", "utf-8")
    policy = csdsl.load(path)
    verdict = policy.validate({"id": 1, "n": 1e200})
    assert verdict.conditions[0].outcome is None and not verdict.valid
    assert policy.validate({"id": 2, "n": 3}).valid


def test_matched_ids_is_the_fast_path_of_validate_values() -> None:
    policy = csdsl.load(SEED)
    examples = SEED.parents[1] / "examples" / "complaints.jsonl"
    rows = [r for r in policy.reader().read(str(examples)) if r.values]
    assert len(rows) > 200
    for row in rows:
        assert row.values is not None
        assert policy.matched_ids(row.values) == list(policy.validate_values(row.values).matched)


@pytest.mark.parametrize(
    "expr",
    ["flag and (" * 400 + "flag" + ")" * 400, " and ".join(["flag"] * 1500)],
    ids=["nested", "chained"],
)
def test_an_expression_too_deep_to_compile_is_a_diagnostic(tmp_path: Path, expr: str) -> None:
    """Deeper than the compiler's recursion: E118 on the line, from load, check and fmt alike,
    never a RecursionError."""
    from csdsl.syntax.parse import format_source

    head = 'policy "p" timezone "UTC"\nrecord A { flag: bool }\n'
    text = head + f"valid A when any {{\n  c: {expr}\n}}\n"
    path = tmp_path / "deep.csp"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(csdsl.PolicyError) as info:
        csdsl.load(path)
    (diag,) = info.value.diagnostics
    assert (diag.code, diag.span.line) == ("E118", 4)
    formatted, diags = format_source(csdsl.source.SourceFile("deep.csp", text))
    assert formatted is None and [d.code for d in diags] == ["E118"]

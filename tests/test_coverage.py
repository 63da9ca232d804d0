"""Completeness and overlap rules (`csdsl.check.coverage`, W405-W408): each witness really has
the property claimed, near misses stay silent, and "can never be true" is never wrong."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from csdsl import ir, testing
from csdsl.check import Compiled, compile_file, coverage
from csdsl.interpreter import Validator, compile_expr
from csdsl.syntax.format import expr_text
from csdsl.timeline import TimelineBuilder

BAD = Path(__file__).parent / "golden" / "bad"
START = dt.datetime(2024, 10, 29, 9, tzinfo=dt.UTC)


def _compile(tmp: Path, text: str) -> Compiled:
    path = tmp / "policy.csp"
    path.write_text(text, encoding="utf-8")
    compiled = compile_file(path)
    assert compiled.ok, compiled.diagnostics
    return compiled


def _policy(compiled: Compiled) -> ir.Policy:
    assert compiled.policy is not None
    return compiled.policy


def _codes(compiled: Compiled) -> list[str]:
    return [d.code for d in compiled.diagnostics]


def _golden(name: str) -> Compiled:
    compiled = compile_file(BAD / f"coverage_{name}.csp")
    assert compiled.ok
    return compiled


def _full(policy: ir.Policy, record: str, values: dict[str, Any]) -> dict[str, Any]:
    """The witness's values, the other fields filled in (the clock starts at START)."""
    rec = policy.record(record)
    assert rec is not None
    out: dict[str, Any] = {f.name: None for f in rec.fields}
    for f in rec.fields:
        if f.type.kind is ir.Kind.DATETIME:
            out[f.name] = START
    return out | values


def _reply(policy: ir.Policy, values: dict[str, Any]) -> list[Any]:
    builder = TimelineBuilder(policy, "Complaint", dt.UTC)
    timeline = builder.build("c1", _full(policy, "Complaint", values), [], None)
    return [m for m in timeline.milestones if m.clause == "reply" and m.kind == "deadline"]


DEADLINE = """policy "p" timezone "UTC"

record Complaint {{
  received_at: datetime
  complexity: enum(simple, complex)
  tier: enum(regular, key_account)
  amount: number
}}

deadline reply for Complaint {{
  starts at received_at
  stops on replied
{targets}
}}
"""


# ---- W405: a record that gets no target ------------------------------------------------------


def test_no_target_witness_gets_no_deadline() -> None:
    compiled = _golden("no_target")
    assert _codes(compiled) == ["W405"]
    policy = _policy(compiled)
    hit = coverage.uncovered(policy.deadlines[0])
    assert hit is not None
    sp, witness = hit
    assert coverage.show(witness, sp) in (compiled.diagnostics[0].hint or "")
    (milestone,) = _reply(policy, witness)
    assert milestone.status == "not_applicable"
    assert milestone.message == "no target applies to this record"


def test_no_target_near_miss_numeric_cover(tmp_path: Path) -> None:
    """Covered through intervals that `W510`'s independent atoms cannot see: no W405."""
    targets = "  within 2h when amount > 500\n  within 24h when amount <= 500"
    compiled = _compile(tmp_path, DEADLINE.format(targets=targets))
    assert "W405" not in _codes(compiled)
    # W510's own test knows nothing of numbers: the enumeration decides it is covered, so no
    # W510 either (it used to warn here)
    assert "W510" not in _codes(compiled)
    assert coverage.covered(_policy(compiled).deadlines[0])
    assert coverage.uncovered(_policy(compiled).deadlines[0]) is None


def test_no_target_hint_for_w510(tmp_path: Path) -> None:
    """Where W510 already warns, W405 stays silent; `no_target_hint` gives the witness."""
    compiled = _compile(tmp_path, DEADLINE.format(targets="  within 2h when complexity = simple"))
    assert _codes(compiled) == ["W510"]
    deadline = _policy(compiled).deadlines[0]
    assert coverage.no_target_hint(deadline) == "e.g. complexity = complex"


# ---- W406: two targets that both apply -------------------------------------------------------


def test_overlap_witness_both_apply_and_first_wins() -> None:
    compiled = _golden("overlap")
    assert _codes(compiled) == ["W406"]
    policy = _policy(compiled)
    deadline = policy.deadlines[0]
    ((first, second, _, witness),) = coverage.overlaps(deadline)
    assert first.when is not None and second.when is not None
    values = _full(policy, "Complaint", witness)
    assert compile_expr(first.when)(values) is True
    assert compile_expr(second.when)(values) is True
    (milestone,) = _reply(policy, witness)
    assert milestone.due == START + dt.timedelta(hours=2)  # the first target's 2h


def test_overlap_near_miss_exclusive(tmp_path: Path) -> None:
    targets = (
        "  within 2h when amount > 500 and tier = key_account\n"
        "  within 24h when amount <= 500 or tier = regular\n"
        "  otherwise within 48h"
    )
    compiled = _compile(tmp_path, DEADLINE.format(targets=targets))
    assert "W406" not in _codes(compiled)


# ---- W407: a condition that can never be true ------------------------------------------------


def test_never_true_golden() -> None:
    compiled = _golden("never_true")
    assert _codes(compiled) == ["W407", "W407", "W407"]
    policy = _policy(compiled)
    exprs = [c.expr for c in policy.validities[0].conditions]
    exprs += [t.when for t in policy.deadlines[0].targets if t.when is not None]
    for e in exprs:
        sp = coverage.never_true(e)
        assert sp is not None
        fn = compile_expr(e)
        assert all(fn(r) is not True for r in sp.records())


def test_never_true_near_miss(tmp_path: Path) -> None:
    text = """policy "p" timezone "UTC"

record Complaint {
  amount: number
  delay: duration?
}

valid Complaint when any {
  a: amount > 3 and amount < 5
  b: delay >= 24h and delay <= 24h
  c: amount >= 3 and amount <= 3
}
"""
    compiled = _compile(tmp_path, text)
    assert not compiled.diagnostics


def test_never_true_skips_what_it_cannot_decide(tmp_path: Path) -> None:
    """Arithmetic and two number fields are outside the method: no warning, even when true."""
    text = """policy "p" timezone "UTC"

record Complaint {
  amount: number
  limit: number
}

valid Complaint when any {
  a: amount * 2 > 10 and amount < 3
  b: amount > limit and amount < limit
}
"""
    compiled = _compile(tmp_path, text)
    assert "W407" not in _codes(compiled)


# ---- W408: an exception that swallows its rule -----------------------------------------------


def test_swallowing_exception_witness() -> None:
    compiled = _golden("swallowing_exception")
    assert _codes(compiled) == ["W408"]
    policy = _policy(compiled)
    validity = policy.validities[0]
    ((exception, sp, witness),) = coverage.swallowed(validity)
    assert exception.id == "small"
    values = _full(policy, "Complaint", witness)
    verdict = Validator(validity)(values)
    assert verdict.matched == ("loss",)  # the rule holds
    assert "small" in verdict.excepted  # and the exception too
    assert not verdict.valid
    # and wherever the rule holds, so does the exception
    fx = compile_expr(exception.expr)
    for r in sp.records():
        if Validator(validity)(_full(policy, "Complaint", r)).matched:
            assert fx(r) is True


def test_swallowing_exception_near_miss(tmp_path: Path) -> None:
    text = """policy "p" timezone "UTC"

record Complaint {
  amount: number
  rude: bool
}

valid Complaint when any {
  loss: amount > 1000
  manner: rude
} unless {
  small: amount > 500 and not rude
}
"""
    compiled = _compile(tmp_path, text)
    assert not compiled.diagnostics  # `manner` with a small amount stays valid


# ---- bundled policies ------------------------------------------------------------------------


def test_bundled_policies_get_no_new_coverage_warning(in_root: Path) -> None:
    root = Path(__file__).parent.parent
    paths = [*root.glob("policies/*.csp"), *root.glob("examples/**/*.csp")]
    paths += (root / "tests" / "golden" / "good").glob("*.csp")
    found = []
    for path in paths:
        compiled = compile_file(path.relative_to(root).as_posix())
        found += [
            (path.name, d.code, d.span.line)
            for d in compiled.diagnostics
            if d.code in {"W405", "W406", "W407", "W408"}
        ]
    # the one finding, `within 1h when vip` and `within 2h when complexity = simple` overlapping
    # (priority order, the first wins), is meant there and silenced by `# csdsl: ignore[W406]`
    assert found == []


# ---- "can never be true" is never wrong ------------------------------------------------------

RECORD = testing.SAMPLE_RECORD


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> ir.Record:
    compiled = _compile(tmp_path_factory.mktemp("rec"), f'policy "r" timezone "UTC"\n{RECORD}\n')
    record = _policy(compiled).record("R")
    assert record is not None
    return record


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_never_true_is_never_wrong(
    sample: ir.Record, tmp_path_factory: pytest.TempPathFactory, data: st.DataObject
) -> None:
    conds = data.draw(
        st.lists(testing.typed_conditions(sample, max_depth=3), min_size=1, max_size=3)
    )
    body = "\n".join(f"  c{i}: {expr_text(c)}" for i, c in enumerate(conds))
    text = f'policy "g" timezone "UTC"\n\n{RECORD}\n\nvalid R when any {{\n{body}\n}}\n'
    path = tmp_path_factory.mktemp("gen") / "g.csp"
    path.write_text(text, encoding="utf-8")
    compiled = compile_file(path)
    if not compiled.ok:
        return
    policy = _policy(compiled)
    reported = {d.span.line for d in compiled.diagnostics if d.code == "W407"}
    for c in policy.validities[0].conditions:
        sp = coverage.never_true(c.expr)
        if c.expr.span.line in reported:
            assert sp is not None
        if sp is None:
            continue
        fn = compile_expr(c.expr)
        assert all(fn(r) is not True for r in sp.records())
        for values in data.draw(st.lists(testing.record_values(sample, dt.UTC), max_size=10)):
            assert fn(values) is not True


# ---- silencing a warning -----------------------------------------------------------------------

_PRIORITY = """policy "p" timezone "Asia/Shanghai"
record C { at: datetime, vip: bool, simple: bool }
deadline reply for C {
  starts at at
  stops on replied
  within 1h when vip
  within 2h when simple{pragma}
  otherwise within 24h
}
"""


def test_an_ignore_comment_silences_the_warning_on_its_line(tmp_path: Path) -> None:
    path = tmp_path / "p.csp"
    path.write_text(_PRIORITY.replace("{pragma}", ""), encoding="utf-8")
    assert [d.code for d in compile_file(path).diagnostics] == ["W406"]
    path.write_text(_PRIORITY.replace("{pragma}", "  # csdsl: ignore[W406] VIPs first"), "utf-8")
    assert compile_file(path).diagnostics == ()
    # a code that silences nothing, or an error's code, is itself a warning
    path.write_text(_PRIORITY.replace("{pragma}", "  # csdsl: ignore[w406, W510, E301]"), "utf-8")
    diags = compile_file(path).diagnostics
    assert [(d.code, d.message) for d in diags] == [
        ("W534", "`csdsl: ignore[E301]` silences nothing on this line"),
        ("W534", "`csdsl: ignore[W510]` silences nothing on this line"),
    ]
    assert diags[0].hint == "errors cannot be silenced: fix the policy"


def test_an_included_files_ignore_comments_are_not_reported_unused(tmp_path: Path) -> None:
    (tmp_path / "part.csp").write_text(
        _PRIORITY.replace("{pragma}", "  # csdsl: ignore[W406]").replace(
            "  otherwise within 24h", "  otherwise within 24h  # csdsl: ignore[W405]"
        ),
        "utf-8",
    )
    root = tmp_path / "root.csp"
    root.write_text('policy "r" timezone "Asia/Shanghai"\ninclude "part.csp"\n', "utf-8")
    assert compile_file(root).diagnostics == ()

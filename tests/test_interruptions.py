"""`no interruptions [over D]`: an agent turn that starts inside a customer turn and runs past
its end cuts the customer off; a backchannel inside the customer's turn does not."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

import csdsl
from csdsl.transcripts import Transcript, Turn

POLICY = """policy "listening" timezone "Asia/Shanghai"

transcript rules {
  interrupting "严禁打断客户说话": no interruptions over 1s
}
"""


@pytest.fixture(scope="module")
def policy(tmp_path_factory: pytest.TempPathFactory) -> csdsl.Policy:
    path = tmp_path_factory.mktemp("p") / "p.csp"
    path.write_text(POLICY, encoding="utf-8")
    return csdsl.load(path)


def _check(policy: csdsl.Policy, *turns: tuple[str, float | None, float | None]) -> list[str]:
    t = Transcript(
        "T1", tuple(Turn(i, who, "话", None, a, b) for i, (who, a, b) in enumerate(turns))
    )
    result = policy.check_transcript(t)
    return [f.message for f in result.findings]


def test_cutting_the_customer_off_is_a_finding(policy: csdsl.Policy) -> None:
    (message,) = _check(policy, ("customer", 0, 10), ("agent", 6, 14))
    assert message == (
        "the agent started speaking 4s before the customer had finished (more than the 1s allowed)"
    )


def test_a_backchannel_and_a_small_overlap_are_not(policy: csdsl.Policy) -> None:
    assert _check(policy, ("customer", 0, 10), ("agent", 4, 4.5), ("agent", 10.5, 14)) == []
    assert _check(policy, ("customer", 0, 10), ("agent", 9.2, 14)) == []  # 0.8 s: noise


def test_turns_without_times_are_not_judged(policy: csdsl.Policy) -> None:
    t = Transcript("T1", (Turn(0, "customer", "话"), Turn(1, "agent", "话")))
    result = policy.check_transcript(t)
    assert result.findings == ()
    assert [u.rule for u in result.unchecked] == ["interrupting"]


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.integers(1, 30), st.integers(0, 10)), max_size=12))
def test_turns_taken_one_after_another_never_interrupt(
    policy: csdsl.Policy, steps: list[tuple[bool, int, int]]
) -> None:
    """Turns that never overlap (each starts at or after the previous one's end) are no
    interruption, whoever speaks."""
    clock = 0.0
    turns = []
    for is_agent, length, gap in steps:
        start = clock + gap / 2
        turns.append(("agent" if is_agent else "customer", start, start + length / 2))
        clock = start + length / 2
    assert _check(policy, *turns) == []


def test_the_hotline_flags_its_own_bad_example(tmp_path: Path) -> None:
    policy = csdsl.load(Path(__file__).resolve().parents[1] / "policies" / "hotline.csp")
    results = {r.example.id: r for r in policy.run_examples() if r.example.id}
    assert results["interrupt_bad"].passed and results["interrupt_ok"].passed
    assert results["interrupt_bad"].transcript is not None
    assert "interrupting" in results["interrupt_bad"].transcript.flagged


def test_a_customer_who_cuts_in_is_not_interrupted_by_the_agent_going_on(
    policy: csdsl.Policy,
) -> None:
    # the customer says 对对对 into the agent's sentence; the agent finishes it
    assert _check(policy, ("agent", 0, 5), ("customer", 4, 8), ("agent", 5.2, 12)) == []
    # 喂喂 over the greeting
    assert _check(policy, ("agent", 0, 4), ("customer", 1, 6), ("agent", 4.5, 9)) == []

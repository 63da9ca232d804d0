"""Issue 15, acceptance 2: every clause the bundled policies cite is proven by an example that
passes it and one that it fails (`csdsl test` runs them).  Invariants are proven by
`csdsl verify` instead (tests/test_verify.py), so they are left out here."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pytest

import csdsl
from csdsl import ir

ROOT = Path(__file__).resolve().parents[1]
POLICIES = ["hotline.csp", "procurement.csp", "hospital_ward.csp"]


def _outcomes(policy: csdsl.Policy) -> dict[str, set[str]]:
    """Per clause, what the policy's passing examples show of it: "kept" (an example where it
    holds) and "broken" (one where it does not)."""
    seen: dict[str, set[str]] = defaultdict(set)
    rules = policy.ir.transcript_rules
    for r in policy.run_examples():
        assert r.passed, r.message
        ex = r.example
        if isinstance(ex, ir.TranscriptExample):
            assert r.transcript is not None and rules is not None
            for rule in rules.rules:
                flagged = rule.id in r.transcript.flagged
                for name in {rule.id, rule.id.split(".")[0]}:
                    seen[name].add("broken" if flagged else "kept")
            continue
        if ex.expect_valid is not None and r.verdict is not None:
            v = r.verdict
            validity = policy.ir.validity(ex.record)
            assert validity is not None
            for c in (*validity.conditions, *validity.exceptions):
                seen[c.id].add("broken" if c.id in (*v.matched, *v.excepted) else "kept")
        for c in ex.clocks:
            if c.status in ("met", "breached"):
                seen[c.clock].add("kept" if c.status == "met" else "broken")
        for x in ex.rules:
            if x.status in ("kept", "broken"):
                seen[x.rule].add(x.status)
        for m in ex.metrics:
            if m.status in ("pass", "fail"):
                seen[m.metric].add("kept" if m.status == "pass" else "broken")
    return seen


@pytest.mark.parametrize("name", POLICIES)
def test_every_cited_clause_has_a_passing_and_a_failing_example(name: str) -> None:
    policy = csdsl.load(ROOT / "policies" / name)
    seen = _outcomes(policy)
    lacking = [
        f"{c.clause} ({c.kind}): only {sorted(seen.get(c.clause, set())) or 'nothing'}"
        for c in policy.ir.citations
        if c.kind != "invariant" and not {"kept", "broken"} <= seen.get(c.clause, set())
    ]
    assert lacking == []

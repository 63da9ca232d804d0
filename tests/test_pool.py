"""`csdsl.pool`: work on every core gives the results of the work done inline, in order; the
audit's transcripts on the duckdb engine go through it."""

from __future__ import annotations

from pathlib import Path

import pytest

import csdsl
from csdsl import auditor, pool

ROOT = Path(__file__).resolve().parents[1]


def _square(x: int) -> int:
    return x * x


def test_in_order_with_workers_equals_inline() -> None:
    items = list(range(1000))
    inline = list(pool.in_order(items, _square, 1))
    forked = list(pool.in_order(iter(items), _square, 2, chunk=7))
    assert forked == inline == [(i, i * i) for i in items]
    assert list(pool.in_order([], _square, 2)) == []


@pytest.mark.skipif(not pool.can_fork(), reason="processes cannot be forked here")
def test_the_audits_transcripts_on_every_core_match_the_python_engine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(auditor, "PARALLEL_BYTES", 0)  # every file is checked on every core
    policy = csdsl.load(ROOT / "policies" / "hotline_qa.csp")
    calls = ROOT / "examples" / "transcripts.jsonl"
    one = auditor.audit(policy, transcripts=calls, engine="python")
    many = auditor.audit(policy, transcripts=calls, engine="duckdb")
    assert many.findings == one.findings
    assert many.data["transcripts"] == one.data["transcripts"]
    assert many.data["bad_rows"] == one.data["bad_rows"]

"""Examples that test a metric: several `given` records and `expect METRIC pass|fail|...`."""

from __future__ import annotations

from pathlib import Path

import pytest

import csdsl
from csdsl.check import compile_file
from csdsl.source import SourceFile
from csdsl.syntax.parse import format_source

HEAD = """policy "指标" timezone "Asia/Shanghai"

record Call {
  started_at: datetime
  wants_human: bool
  answered_by_human: bool
}

record Complaint {
  received_at: datetime
}

metric human_answer_rate "人工应答率不低于85%":
  count(Call where wants_human and answered_by_human) / count(Call where wants_human) >= 85%

deadline reply for Complaint {
  starts at received_at
  stops on replied
  within 2h
}

metric on_time "投诉回复及时率100%":
  count(Complaint where reply = met) / count(Complaint where reply in [met, breached]) >= 100%
"""

CALL = "given Call {{ started_at: 2024-10-08T09:00, wants_human: {w}, answered_by_human: {a} }}"


def _write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "m.csp"
    path.write_text(HEAD + body, encoding="utf-8")
    return path


def _results(tmp_path: Path, body: str) -> list[tuple[bool, str]]:
    policy = csdsl.load(_write(tmp_path, body))
    return [(r.passed, r.message) for r in policy.run_examples()]


def test_a_metric_over_the_examples_records(tmp_path: Path) -> None:
    body = f"""
example "two of two" {{
  {CALL.format(w="true", a="true")}
  {CALL.format(w="true", a="true")}
  expect human_answer_rate pass
}}
example "one of two" {{
  {CALL.format(w="true", a="true")}
  {CALL.format(w="true", a="false")}
  expect human_answer_rate pass
}}
"""
    (ok, said), (bad, message) = _results(tmp_path, body)
    assert ok and said == "1 metric expectation checked over 2 records"
    assert not bad
    assert message == "`human_answer_rate`: expected pass, got fail (value 0.5 >= 0.85)"


def test_clock_metrics_read_the_first_records_events(tmp_path: Path) -> None:
    body = """
example late "answered after 3 hours" {
  given Complaint { received_at: 2024-10-08T09:00 }
  given Complaint { received_at: 2024-10-08T10:00 }
  events {
    replied at 2024-10-08T12:00
  }
  expect on_time fail
}
example early "answered after 1 hour" {
  given Complaint { received_at: 2024-10-08T09:00 }
  events {
    replied at 2024-10-08T10:00
  }
  expect on_time pass
}
example open "not answered yet" {
  given Complaint { received_at: 2024-10-08T09:00 }
  expect on_time not_applicable
}
"""
    assert [ok for ok, _ in _results(tmp_path, body)] == [True, True, True]


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (
            'example "x" {\n  given Complaint { received_at: 2024-10-08T09:00 }\n'
            "  given Complaint { received_at: 2024-10-08T10:00 }\n  expect reply met\n}\n",
            "E411",
        ),
        (
            f'example "x" {{\n  {CALL.format(w="true", a="true")}\n'
            "  expect human_answer_rate met\n}\n",
            "E410",
        ),
        (
            f'example "x" {{\n  {CALL.format(w="true", a="true")}\n'
            "  given Call { started_at: 2024-10-08T09:00 }\n  expect human_answer_rate pass\n}\n",
            "E403",
        ),
        (
            f'example "x" {{\n  {CALL.format(w="true", a="true")}\n'
            "  given Nobody { }\n  expect human_answer_rate pass\n}\n",
            "E203",
        ),
    ],
)
def test_metric_example_mistakes(tmp_path: Path, body: str, code: str) -> None:
    codes = [d.code for d in compile_file(_write(tmp_path, body)).diagnostics]
    assert code in codes


def test_several_givens_format_to_themselves() -> None:
    text = (
        HEAD
        + """
example base "x" {
  given Call { started_at: 2024-10-08T09:00, wants_human: true, answered_by_human: true }
  given base with { answered_by_human: false }
  expect human_answer_rate fail
}
"""
    )
    formatted, diags = format_source(SourceFile("m.csp", text))
    assert diags == [] and formatted == text

"""Transcript rules on the ASR vendors' signals: `ignore turns below confidence`, `require ROLE
sentiment ...`, `forbid ROLE interruptions ...`: a finding, no finding, and "not checkable" when
the transcript does not carry the signal; the bundled example policy, the generated module."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import csdsl
from csdsl.api import Policy
from csdsl.asr import import_export
from csdsl.qa import TranscriptResult

ROOT = Path(__file__).resolve().parents[1]
ASR_QA = ROOT / "examples" / "asr" / "asr_qa.csp"
SAMPLES = ROOT / "examples" / "asr"


def _policy(tmp_path: Path, rules: str) -> Policy:
    path = tmp_path / "p.csp"
    path.write_text(
        f'policy "t" timezone "Asia/Shanghai"\ntranscript rules {{\n{rules}\n}}\n',
        encoding="utf-8",
    )
    return csdsl.load(path)


def turn(speaker: str, text: str, **signals: Any) -> dict[str, Any]:
    return {"speaker": speaker, "text": text, **signals}


def call(*turns: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"id": "c1", "turns": list(turns), **extra}


def outcome(r: TranscriptResult) -> tuple[list[tuple[str, str, int | None]], list[str]]:
    return (
        [(f.rule, f.kind, f.turn) for f in r.findings],
        [f"{u.rule}: {u.reason}" for u in r.unchecked],
    )


# ---- ignore turns below confidence -------------------------------------------------------

CONFIDENCE_RULES = """
  ignore turns below confidence 0.6
  rude: forbid ["不知道"]
  nin: prefer "您" over "你"
  close: require ["再见"] in last agent turn
"""


def test_a_forbidden_phrase_in_a_low_confidence_turn_is_not_checkable(tmp_path: Path) -> None:
    p = _policy(tmp_path, CONFIDENCE_RULES)
    heard = call(turn("agent", "我不知道", confidence=0.41), turn("agent", "再见"))
    assert outcome(p.check_transcript(heard)) == (
        [],
        ["rude: ASR confidence 0.41 < 0.6 in turn 0"],
    )
    sure = call(turn("agent", "我不知道", confidence=0.6), turn("agent", "再见"))
    assert outcome(p.check_transcript(sure)) == ([("rude", "forbidden", 0)], [])
    # a turn without a confidence is judged as before
    plain = call(turn("agent", "我不知道"), turn("agent", "再见"))
    assert outcome(p.check_transcript(plain)) == ([("rude", "forbidden", 0)], [])


def test_a_disfavoured_word_in_a_low_confidence_turn_is_not_checkable(tmp_path: Path) -> None:
    p = _policy(tmp_path, CONFIDENCE_RULES)
    got = p.check_transcript(call(turn("agent", "你好", confidence=0.3), turn("agent", "再见")))
    assert outcome(got) == ([], ["nin: ASR confidence 0.3 < 0.6 in turn 0"])


def test_a_required_phrase_missing_where_a_turn_was_misheard_is_not_checkable(
    tmp_path: Path,
) -> None:
    p = _policy(tmp_path, CONFIDENCE_RULES)
    misheard = call(turn("agent", "在见", confidence=0.35))
    assert outcome(p.check_transcript(misheard)) == (
        [],
        ["close: ASR confidence 0.35 < 0.6 in turn 0, where it may have been said"],
    )
    # heard in that turn all the same: the rule is kept
    assert outcome(p.check_transcript(call(turn("agent", "再见", confidence=0.35)))) == ([], [])
    # missing from a turn heard clearly: a finding
    clear = call(turn("agent", "在见", confidence=0.9))
    assert outcome(p.check_transcript(clear)) == ([("close", "missing", 0)], [])


def test_a_missing_step_after_a_misheard_agent_turn_is_not_checkable(tmp_path: Path) -> None:
    p = _policy(tmp_path, 'ignore turns below confidence 0.5\n  s: steps "您好", "再见"')
    got = p.check_transcript(call(turn("agent", "您好"), turn("agent", "在见", confidence=0.2)))
    assert outcome(got) == (
        [],
        ["s: ASR confidence 0.2 < 0.5 in turn 1, where it may have been said"],
    )
    clear = p.check_transcript(call(turn("agent", "您好"), turn("agent", "在见", confidence=0.9)))
    assert outcome(clear) == ([("s", "missing", 1)], [])


def test_without_the_setting_confidence_changes_nothing(tmp_path: Path) -> None:
    p = _policy(tmp_path, 'rude: forbid ["不知道"]')
    got = p.check_transcript(call(turn("agent", "我不知道", confidence=0.1)))
    assert outcome(got) == ([("rude", "forbidden", 0)], [])


# ---- sentiment at the end of the call ----------------------------------------------------

SENTIMENT = "calm: require customer sentiment not negative in last 2 turns"


def test_customer_sentiment_at_the_end(tmp_path: Path) -> None:
    p = _policy(tmp_path, SENTIMENT)
    upset = call(
        turn("customer", "我要投诉", sentiment="negative"),
        turn("agent", "非常抱歉"),
        turn("customer", "算了", sentiment="neutral"),
        turn("customer", "还是不行", sentiment="negative"),
    )
    got = p.check_transcript(upset)
    assert outcome(got) == ([("calm", "signal", 3)], [])
    assert got.findings[0].message == (
        "the customer's sentiment was negative in turn 3; expected not negative in the last "
        "2 customer turns"
    )
    calm = call(
        turn("customer", "我要投诉", sentiment="negative"),  # earlier: not looked at
        turn("customer", "好的", sentiment="neutral"),
        turn("customer", "谢谢", sentiment="positive"),
    )
    assert outcome(p.check_transcript(calm)) == ([], [])


def test_no_sentiment_is_not_checkable_never_a_guess(tmp_path: Path) -> None:
    p = _policy(tmp_path, SENTIMENT)
    got = p.check_transcript(call(turn("customer", "好的"), turn("customer", "谢谢")))
    assert outcome(got) == ([], ["calm: no sentiment for the customer's turns 0, 1"])
    half = call(turn("customer", "好的", sentiment="neutral"), turn("customer", "谢谢"))
    assert outcome(p.check_transcript(half)) == (
        [],
        ["calm: no sentiment for the customer's turn 1"],
    )
    # a known negative turn is a finding even when the other is unknown
    known = call(turn("customer", "好的", sentiment="negative"), turn("customer", "谢谢"))
    assert outcome(p.check_transcript(known)) == ([("calm", "signal", 0)], [])
    silent = call(turn("agent", "您好"))
    assert outcome(p.check_transcript(silent)) == ([], ["calm: the customer says nothing"])


def test_a_positive_sentiment_required_of_the_last_turn(tmp_path: Path) -> None:
    p = _policy(tmp_path, "happy: require customer sentiment positive in last turn")
    mixed = call(turn("customer", "好吧", sentiment="mixed"))
    assert outcome(p.check_transcript(mixed)) == ([("happy", "signal", 0)], [])
    assert outcome(p.check_transcript(call(turn("customer", "谢谢", sentiment="positive")))) == (
        [],
        [],
    )


# ---- the vendor's interruption count -----------------------------------------------------


def interruptions(agent: int, seconds: float | None = None) -> dict[str, Any]:
    counted: dict[str, Any] = {"count": agent}
    if seconds is not None:
        counted["total"] = seconds
    return {"interruptions": {"agent": counted}}


@pytest.mark.parametrize(
    ("rule", "signals", "found", "unchecked"),
    [
        ("forbid agent interruptions", interruptions(0), [], []),
        ("forbid agent interruptions", interruptions(1), [("x", "signal", None)], []),
        ("forbid agent interruptions over 2", interruptions(2), [], []),
        ("forbid agent interruptions over 2", interruptions(3), [("x", "signal", None)], []),
        ("forbid agent interruptions over 5s", interruptions(3, 4.5), [], []),
        ("forbid agent interruptions over 5s", interruptions(1, 6.0), [("x", "signal", None)], []),
        (
            "forbid agent interruptions over 5s",
            interruptions(1),
            [],
            ["x: the interruption count gives no length"],
        ),
        ("forbid customer interruptions", interruptions(4), [], []),  # none counted: 0
        (
            "forbid agent interruptions",
            None,
            [],
            ["x: the transcript carries no interruption count (`signals.interruptions`)"],
        ),
        (
            "forbid agent interruptions",
            {"non_talk_time": {"total": 3}},
            [],
            ["x: the transcript carries no interruption count (`signals.interruptions`)"],
        ),
    ],
)
def test_the_vendors_interruption_count(
    tmp_path: Path,
    rule: str,
    signals: dict[str, Any] | None,
    found: list[Any],
    unchecked: list[str],
) -> None:
    p = _policy(tmp_path, f"x: {rule}")
    extra = {"signals": signals} if signals is not None else {}
    got = p.check_transcript(call(turn("agent", "您好"), **extra))
    assert outcome(got) == (found, unchecked)


def test_the_interruption_finding_says_what_the_vendor_counted(tmp_path: Path) -> None:
    p = _policy(tmp_path, "x: forbid agent interruptions over 1")
    got = p.check_transcript(call(turn("agent", "您好"), signals=interruptions(3)))
    assert got.findings[0].message == "the agent talked over the other side 3 times (at most 1)"


# ---- imported exports, the example policy, the generated module ---------------------------


def test_the_example_policy_passes_its_examples() -> None:
    results = csdsl.load(ASR_QA).run_examples()
    assert len(results) == 4 and all(r.passed for r in results)


def test_imported_exports_against_the_example_policy() -> None:
    p = csdsl.load(ASR_QA)
    amazon = p.check_transcript(import_export(SAMPLES / "amazon_contact_lens.json"))
    # the customer's last two segments are NEGATIVE in the sample; no interruption counted
    assert outcome(amazon) == ([("calm_end", "signal", 11)], [])
    azure = p.check_transcript(
        import_export(SAMPLES / "azure_batch.json", roles={"0": "agent", "1": "customer"})
    )
    assert outcome(azure) == (
        [],
        [
            "calm_end: no sentiment for the customer's turns 9, 11",
            "talk_over: the transcript carries no interruption count (`signals.interruptions`)",
        ],
    )


def test_the_generated_module_judges_the_signals_as_the_interpreter(tmp_path: Path) -> None:
    out = tmp_path / "asr_checker.py"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "csdsl",
            "compile",
            str(ASR_QA),
            "--target",
            "python",
            "-o",
            str(out),
        ],
        check=True,
        cwd=ROOT,
    )
    spec = importlib.util.spec_from_file_location("asr_checker", out)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    transcript = call(
        turn("agent", "这个我不知道", confidence=0.4),
        turn("customer", "好吧", sentiment="negative"),
        turn("agent", "感谢您的来电", confidence=0.9),
        signals=interruptions(1),
    )
    generated = module.check_transcript(transcript)
    interpreted = csdsl.load(ASR_QA).check_transcript(transcript)
    assert outcome(generated) == outcome(interpreted)
    assert outcome(generated) == (
        [("talk_over", "signal", None), ("calm_end", "signal", 1)],
        ["rude: ASR confidence 0.4 < 0.6 in turn 0"],
    )


def test_diff_names_the_changed_signal_settings(tmp_path: Path) -> None:
    old = ASR_QA.read_text(encoding="utf-8")
    new = (
        old.replace("confidence 0.6", "confidence 0.7")
        .replace("in last 2 turns", "in last 3 turns")
        .replace("forbid agent interruptions\n", "forbid agent interruptions over 1\n")
    )
    (tmp_path / "old.csp").write_text(old, encoding="utf-8")
    (tmp_path / "new.csp").write_text(new, encoding="utf-8")
    out = subprocess.run(
        [sys.executable, "-m", "csdsl", "diff", "old.csp", "new.csp", "--format", "json"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
    )
    changes = {
        (c["name"], x["what"], x["old"], x["new"])
        for c in json.loads(out.stdout)["clauses"]
        for x in c["changes"]
    }
    assert changes == {
        ("settings", "min_confidence", "0.6", "0.7"),
        ("calm_end", "position.count", "2", "3"),
        ("talk_over", "most", "missing", "1"),
    }


def test_a_bad_signal_in_one_export_is_that_files_bad_row(tmp_path: Path) -> None:
    good = SAMPLES / "amazon_contact_lens.json"
    data = json.loads(good.read_text(encoding="utf-8"))
    data["Transcript"][3]["Sentiment"] = "FURIOUS"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    command = [sys.executable, "-m", "csdsl", "transcripts", str(ASR_QA), "--from", "amazon"]
    command += [str(bad), str(good), "--format", "json"]
    out = subprocess.run(
        command,
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    lines = [json.loads(x) for x in out.stdout.splitlines()]
    assert [x.get("error", {}).get("code") for x in lines] == ["T006", None]
    assert (
        "Transcript[3]: `Sentiment` must be POSITIVE, NEGATIVE, NEUTRAL or MIXED"
        in (lines[0]["error"]["message"])
    )
    assert "1 bad" in out.stderr

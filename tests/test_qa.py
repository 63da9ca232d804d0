"""Transcript rules at run time (`csdsl.qa`), the seed policy's situations, and `csdsl
transcripts`."""

from __future__ import annotations

import functools
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import attrs
import opencc
import pytest
from hypothesis import given, strategies as st

import csdsl
from csdsl import ir
from csdsl.api import Policy
from csdsl.qa import TranscriptResult

ROOT = Path(__file__).resolve().parents[1]
QA = ROOT / "policies" / "hotline_qa.csp"

_S2T = opencc.OpenCC("s2t")
_HALF_TO_FULL = {c: c + 0xFEE0 for c in range(0x21, 0x7F)}
_FULL_TO_HALF = {ord(c): ord(h) for c, h in zip("，。！？：；（）", ",.!?:;()", strict=True)}


@functools.cache
def _seed_policy() -> Policy:
    return csdsl.load(QA)


@pytest.fixture(scope="module")
def qa() -> Policy:
    return _seed_policy()


def _policy(tmp_path: Path, rules: str, sets: str = "") -> Policy:
    path = tmp_path / "p.csp"
    path.write_text(
        f'policy "t" timezone "Asia/Shanghai"\n{sets}\ntranscript rules {{\n{rules}\n}}\n',
        encoding="utf-8",
    )
    return csdsl.load(path)


def _turns(*turns: Any) -> dict[str, Any]:
    """`("agent", "text")`, `("agent", 0, 3, "text")` or `("@hold_start", 20)`."""
    out = []
    for t in turns:
        if t[0].startswith("@"):
            out.append({"speaker": "system", "event": t[0][1:], "start": t[1]})
        elif len(t) == 2:
            out.append({"speaker": t[0], "text": t[1]})
        else:
            out.append({"speaker": t[0], "start": t[1], "end": t[2], "text": t[3]})
    return {"id": "t", "turns": out}


def _flagged(r: TranscriptResult) -> set[str]:
    return set(r.flagged)


# ---- acceptance 1: the 35 situations of 004 篇5, in both character sets ------------------------

_VARIANTS = {
    "as written": lambda s: s,
    "traditional": lambda s: _S2T.convert(s),
    "traditional, half-width punctuation": lambda s: _S2T.convert(s).translate(_FULL_TO_HALF),
    "full-width forms and spaces": lambda s: " ".join(s.translate(_HALF_TO_FULL)),
}


def _situation_examples(policy: Policy) -> dict[str, dict[str, ir.TranscriptExample]]:
    out: dict[str, dict[str, ir.TranscriptExample]] = {}
    for ex in policy.ir.transcript_examples:
        m = re.fullmatch(r"(s\d+b?)_(ok|bad)", ex.id or "")
        if m:
            out.setdefault(m.group(1), {})[m.group(2)] = ex
    return out


def test_every_situation_of_004_has_a_passing_and_a_flagged_example(qa: Policy) -> None:
    rules = qa.ir.transcript_rules
    assert rules is not None
    situations = {s.name for s in rules.situations}
    # the seed numbers 1..35 and has two situations numbered 2
    seed = {f"s{n:02d}" for n in range(1, 36)} | {"s02b"}
    assert seed <= situations
    examples = _situation_examples(qa)
    assert set(examples) == seed
    for name, pair in examples.items():
        assert set(pair) == {"ok", "bad"}, name
        ok, bad = pair["ok"], pair["bad"]
        assert [x.kind for x in ok.expects] == ["passes"], name
        assert [x.kind for x in bad.expects] == ["flags"], name


@pytest.mark.parametrize("variant", list(_VARIANTS))
def test_prescribed_lines_pass_and_forbidden_lines_are_flagged(qa: Policy, variant: str) -> None:
    convert = _VARIANTS[variant]
    failures = []
    changed = 0
    for name, pair in sorted(_situation_examples(qa).items()):
        for kind, ex in pair.items():
            turns = tuple(
                attrs.evolve(t, text=convert(t.text)) if t.text is not None else t for t in ex.turns
            )
            changed += turns != ex.turns
            mine = {r for r in qa.transcript_checker().rules.rules if r.situation == name}
            result = qa._transcript_example(attrs.evolve(ex, turns=turns))
            if not result.passed:
                failures.append(f"{name}_{kind}: {result.message}")
            flagged = {f.rule for f in result.transcript.findings} if result.transcript else set()
            hit = flagged & {r.id for r in mine}
            assert (not hit) if kind == "ok" else bool(hit), (name, kind, variant, flagged)
    assert not failures, "\n".join(failures)
    assert changed > 60 or variant == "as written"


def test_spans_point_into_the_original_traditional_full_width_text(qa: Policy) -> None:
    text = "喂，打錯電話了！請看清楚後再撥。"
    result = qa.check_transcript(
        _turns(
            ("agent", "您好，歡迎致電江南雲商客戶服務熱線，請問有什麼可以幫助您？"),
            ("customer", "這不是人民醫院嗎？"),
            ("agent", text),
        )
    )
    scold = [f for f in result.findings if f.rule == "forbidden_004"]
    assert [(f.turn, f.text) for f in scold] == [(2, "喂，打錯電話了"), (2, "請看清楚後再撥")]
    for f in scold:
        assert f.span is not None
        assert text[f.span[0] : f.span[1]] == f.text
        assert f.clause.file.endswith("hotline_qa.csp") and f.clause.line > 0


# ---- the rules, one by one ------------------------------------------------------------------


def test_require_in_first_and_last_turns(tmp_path: Path) -> None:
    p = _policy(
        tmp_path,
        'greet: require ["您好"] in first agent turn\n'
        'close: require ["再见"] in last 2 agent turns severity minor',
    )
    good = p.check_transcript(
        _turns(("agent", "您好"), ("customer", "嗯"), ("agent", "再见"), ("agent", "好"))
    )
    assert good.findings == () and good.score == 100
    bad = p.check_transcript(_turns(("customer", "喂"), ("agent", "请讲"), ("agent", "嗯")))
    assert [(f.rule, f.kind, f.turn, f.points) for f in bad.findings] == [
        ("greet", "missing", 1, 5),
        ("close", "missing", 1, 2),
    ]
    assert bad.score == 93
    empty = p.check_transcript(_turns(("customer", "喂")))
    assert {(f.rule, f.turn) for f in empty.findings} == {("greet", None), ("close", None)}


def test_within_turns_after_a_customer_trigger_per_occurrence(tmp_path: Path) -> None:
    p = _policy(
        tmp_path,
        'sorry: require ["对不起"] within 1 agent turn after customer says ["太慢了"]',
    )
    r = p.check_transcript(
        _turns(
            ("customer", "太慢了"),
            ("customer", "真的太慢了"),  # the same occurrence: no one spoke in between
            ("agent", "对不起"),
            ("customer", "还是太慢了"),
            ("agent", "我看看"),
            ("agent", "对不起"),  # too late: one turn only
        )
    )
    assert [(f.rule, f.turn) for f in r.findings] == [("sorry", 4)]


def test_an_agents_own_trigger_turn_counts(tmp_path: Path) -> None:
    p = _policy(
        tmp_path,
        'situation s05 when agent says ["声音太小"] {\n'
        '  ask: require ["请您大声一点"] within 1 agent turn after trigger\n'
        "}\n"
        'prompt: require ["麻烦您记录一下"] within 1 agent turn before agent says ["号码是"]',
    )
    assert p.check_transcript(_turns(("agent", "您的声音太小，请您大声一点，好吗"))).findings == ()
    assert p.check_transcript(_turns(("agent", "麻烦您记录一下，号码是123"))).findings == ()
    r = p.check_transcript(_turns(("agent", "声音太小了"), ("agent", "号码是123")))
    assert {f.rule for f in r.findings} == {"s05.ask", "prompt"}


def test_holds_before_after_length_and_check_ins(tmp_path: Path) -> None:
    p = _policy(
        tmp_path,
        'ask: require ["请您稍等"] before hold\n'
        'thank: require ["让您久等了"] after hold\n'
        'length: hold at most 2m unless customer says ["我可以等"]\n'
        "checkin: check in every 15s while on hold",
    )
    good = _turns(
        ("agent", 0, 2, "请您稍等"),
        ("@hold_start", 3),
        ("agent", 15, 16, "还在查"),
        ("@hold_end", 30),
        ("agent", 31, 33, "让您久等了"),
    )
    assert p.check_transcript(good).findings == ()
    long_hold = _turns(
        ("agent", 0, 2, "请您稍等"),
        ("@hold_start", 3),
        *[("agent", t, t + 1, "还在查") for t in range(15, 140, 14)],
        ("@hold_end", 140),
        ("agent", 141, 143, "好了"),
    )
    r = p.check_transcript(long_hold)
    assert [(f.rule, f.kind, f.turn) for f in r.findings] == [
        ("length", "timing", 1),
        ("thank", "missing", 12),
    ]
    assert "2m17s" in r.findings[0].message
    agreed = dict(long_hold)
    agreed["turns"] = [{"speaker": "customer", "text": "没关系，我可以等"}, *long_hold["turns"]]
    assert {f.rule for f in p.check_transcript(agreed).findings} == {"thank"}
    silent = _turns(("agent", 0, 2, "请您稍等"), ("@hold_start", 3), ("@hold_end", 40))
    r = p.check_transcript(silent)
    assert [(f.rule, f.turn) for f in r.findings] == [("thank", None), ("checkin", 2)]


def test_timing_rules_without_times_are_not_checkable(tmp_path: Path) -> None:
    p = _policy(
        tmp_path,
        "length: hold at most 2m\ncheckin: check in every 15s while on hold\n"
        "pace: speech rate between 100 and 200 per minute\ncall_: call at most 10m",
    )
    r = p.check_transcript(
        _turns(
            ("agent", "请您稍等一下，我帮您查一查订单"), ("@hold_start", None), ("@hold_end", None)
        )
    )
    assert r.findings == ()
    assert {u.rule for u in r.unchecked} == {"length", "checkin", "pace", "call_"}
    assert r.score == 100
    assert r.to_json()["unchecked"][0]["clause"]["line"] > 0


def test_speech_rate_and_call_length(tmp_path: Path) -> None:
    p = _policy(
        tmp_path,
        "pace: speech rate between 100 and 200 per minute severity minor\ncall_: call at most 10m",
    )
    text = "您好欢迎致电江南云商客户服务热线请问有什么可以帮助您"  # 25 characters
    r = p.check_transcript(
        _turns(
            ("agent", 0, 10, text),  # 150 a minute
            ("agent", 10, 15, text),  # 300 a minute
            ("agent", 15, 16, "好的"),  # too short to judge
            ("customer", 16, 700, "嗯"),
        )
    )
    assert [(f.rule, f.turn) for f in r.findings] == [("pace", 1), ("call_", 3)]
    assert "characters a minute, too fast" in r.findings[0].message


def test_prefer_skips_quotes_exceptions_and_preferred_words(tmp_path: Path) -> None:
    p = _policy(tmp_path, 'nin: prefer "您" over "你" except ["你们"] severity minor points 1')
    text = "你们的订单我查到了，您刚才说“你们怎么搞的”，你放心"
    r = p.check_transcript(_turns(("agent", text), ("customer", "你好")))
    assert [(f.turn, f.span, f.text) for f in r.findings] == [(0, (23, 24), "你")]
    assert text[23] == "你"


def test_forbid_with_exceptions_and_situation_scope(tmp_path: Path) -> None:
    p = _policy(
        tmp_path,
        'rule_: forbid ["这是规定"] except ["这是规定的退款时限"] severity critical\n'
        'situation s16 when customer says ["混蛋"] {\n  no: forbid ["不是我的错"]\n}',
    )
    r = p.check_transcript(
        _turns(
            ("agent", "这是规定的退款时限"),
            ("agent", "不是我的错"),  # before the trigger: the situation has not started
            ("customer", "混蛋"),
            ("agent", "这是规定，不是我的错"),
        )
    )
    assert [(f.rule, f.turn, f.text) for f in r.findings] == [
        ("rule_", 3, "这是规定"),
        ("s16.no", 3, "不是我的错"),
    ]
    assert r.score == 85


def test_silent_call_steps_and_waits(qa: Policy) -> None:
    def call(*gaps: float) -> TranscriptResult:
        lines = [
            "您好！请问有什么可以帮助您？",
            "您好，请问有什么可以帮助您？",
            "对不起，您的电话没有声音，请您换一部电话再次打来，好吗？再见！",
        ]
        turns, clock = [], 0.0
        for gap, line in zip(gaps, lines, strict=False):
            start = clock + gap
            clock = start + len(line) * 0.4
            turns.append(("agent", start, clock, line))
        return qa.check_transcript(_turns(*turns, ("@hangup", clock + gaps[-1])))

    assert "s03.protocol" not in _flagged(call(0, 5, 5, 5))
    r = call(0, 5, 2, 5)
    protocol = [f for f in r.findings if f.rule == "s03.protocol"]
    assert [(f.kind, f.turn) for f in protocol] == [("timing", 2)]
    assert "wait at least 5s" in protocol[0].message
    untimed = qa.check_transcript(
        _turns(("agent", "您好！请问有什么可以帮助您？"), ("@hangup", None))
    )
    assert [f.kind for f in untimed.findings if f.rule == "s03.protocol"] == ["missing"]


def test_situations_rule_each_other_out(qa: Policy) -> None:
    wrong_number = _turns(
        ("agent", "您好，欢迎致电江南云商客户服务热线，请问有什么可以帮助您？"),
        ("customer", "这不是人民医院吗？"),
        ("agent", "对不起，这里是江南云商客户服务中心，请您查证后再拨。"),
    )
    # s34 (ask for anything else, then close) does not apply to a wrong number (s13)
    assert qa.check_transcript(wrong_number).findings == ()


def test_score_never_goes_below_zero(tmp_path: Path) -> None:
    p = _policy(tmp_path, 'no: forbid ["喂"] points 30')
    r = p.check_transcript(_turns(("agent", "喂喂喂喂")))
    assert len(r.findings) == 4 and r.score == 0


@given(
    st.lists(
        st.sampled_from(["您好", "你", "喂", "，", "再见", "你们", " ", "「你」"]), max_size=12
    )
)
def test_findings_cut_from_the_original_turn_hold_the_matched_words(parts: list[str]) -> None:
    policy = _seed_policy()
    text = "".join(parts)
    r = policy.check_transcript(_turns(("agent", text)))
    for f in r.findings:
        if f.span is not None:
            assert f.turn == 0 and text[f.span[0] : f.span[1]] == f.text
            assert f.text


# ---- API and command line --------------------------------------------------------------------


def test_check_transcript_rejects_a_malformed_mapping(qa: Policy) -> None:
    with pytest.raises(csdsl.RecordError) as err:
        qa.check_transcript({"id": "x", "turns": [{"speaker": "bot", "text": "hi"}]})
    assert err.value.code == "T002"


def test_a_policy_without_transcript_rules(tmp_path: Path) -> None:
    path = tmp_path / "p.csp"
    path.write_text('policy "t"\nphrases a = ["您好"]\n', encoding="utf-8")
    with pytest.raises(KeyError):
        csdsl.load(path).check_transcript({"id": 1, "turns": []})
    out = _cli("transcripts", str(path), str(ROOT / "examples" / "transcripts.jsonl"))
    assert out.returncode == 2 and "no `transcript rules`" in out.stderr


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "csdsl", *args], capture_output=True, text=True, cwd=ROOT
    )


def test_cli_transcripts_json_per_io_md() -> None:
    out = _cli(
        "transcripts", "policies/hotline_qa.csp", "examples/transcripts.jsonl", "--format", "json"
    )
    assert out.returncode == 0, out.stderr
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    source = (ROOT / "examples" / "transcripts.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(rows) == len(source)
    bad = [r for r in rows if "error" in r]
    good = [r for r in rows if "error" not in r]
    assert len(bad) >= 6 and len(good) >= 150
    for r in bad:
        assert set(r) == {"id", "line", "error"} and r["line"] >= 1
    for r in good:
        assert {"id", "score", "findings", "line"} <= set(r)
        assert 0 <= r["score"] <= 100
        for f in r["findings"]:
            assert set(f) == {
                "rule",
                "kind",
                "severity",
                "points",
                "turn",
                "span",
                "text",
                "message",
                "clause",
            }
            assert f["kind"] in ("missing", "forbidden", "preference", "timing")
            assert f["clause"]["file"].endswith("hotline_qa.csp")
    assert "bad" in out.stderr and "mean score" in out.stderr


def test_cli_transcripts_good_calls_score_better_than_bad_ones() -> None:
    out = _cli(
        "transcripts", "policies/hotline_qa.csp", "examples/transcripts.jsonl", "--format", "json"
    )
    scenario = {}
    for line in (ROOT / "examples" / "transcripts.jsonl").read_text(encoding="utf-8").splitlines():
        try:
            obj = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(obj, dict) and "id" in obj:
            scenario[obj["id"]] = str(obj.get("scenario", ""))
    scores: dict[bool, list[float]] = {True: [], False: []}
    for row in map(json.loads, out.stdout.splitlines()):
        if "score" in row:
            scores[scenario.get(row["id"], "").startswith("good")].append(row["score"])
    assert scores[True] and scores[False]
    assert sum(scores[True]) / len(scores[True]) > sum(scores[False]) / len(scores[False])


def test_cli_transcripts_text_and_an_asr_export() -> None:
    out = _cli(
        "transcripts",
        "policies/hotline_qa.csp",
        "examples/asr/alibaba_filetrans.json",
        "--from",
        "alibaba",
        "--roles",
        "0=agent,1=customer",
    )
    assert out.returncode == 0, out.stderr
    assert "score" in out.stdout.splitlines()[0]
    missing = _cli("transcripts", "policies/hotline_qa.csp", "nope.jsonl")
    assert missing.returncode == 2 and "nope.jsonl" in missing.stderr


def test_cli_transcripts_one_object_files(tmp_path: Path) -> None:
    one = tmp_path / "one.json"
    one.write_text(
        json.dumps({"id": "c1", "turns": [{"speaker": "agent", "text": "你好"}]}),
        encoding="utf-8",
    )
    out = _cli("transcripts", "policies/hotline_qa.csp", str(one), "--format", "json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["id"] == "c1"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"id": "c2", "turns": [{"speaker": "bot"}]}), encoding="utf-8")
    out = _cli("transcripts", "policies/hotline_qa.csp", str(bad), "--format", "json")
    assert json.loads(out.stdout)["error"]["code"] == "T002"
    # an ASR export is told by its content
    out = _cli("transcripts", "policies/hotline_qa.csp", "examples/asr/amazon_contact_lens.json")
    assert out.returncode == 0, out.stderr
    assert "score" in out.stdout
    out = _cli("transcripts", "policies/hotline_qa.csp", "examples/asr/azure_batch.json")
    assert out.returncode == 2 and "--roles" in out.stderr


def test_rules_in_an_imported_file_are_reported_unused(tmp_path: Path) -> None:
    (tmp_path / "lib.csp").write_text(
        'phrases a = ["您好"]\ntranscript rules {\n  g: require a in first agent turn\n}\n',
        encoding="utf-8",
    )
    main = tmp_path / "main.csp"
    main.write_text('policy "x"\nimport "lib.csp"\nphrases b = ["再见"]\n', encoding="utf-8")
    policy = csdsl.load(main)
    assert [d.code for d in policy.diagnostics] == ["W533"]
    (d,) = policy.diagnostics
    assert (d.span.line, d.span.column, d.span.end_column) == (2, 1, 11)  # `transcript`
    assert policy.ir.transcript_rules is None


def test_cli_transcripts_bad_role_map_names_the_option() -> None:
    out = _cli(
        "transcripts",
        "policies/hotline_qa.csp",
        "examples/asr/azure_batch.json",
        "--from",
        "azure",
        "--roles",
        "0agent",
    )
    assert out.returncode == 2 and out.stderr.startswith("csdsl: --roles: ")
    assert "Traceback" not in out.stderr

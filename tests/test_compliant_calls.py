"""Issue 15, acceptance 3: the compliant-call corpus (examples/compliant_calls/).

An agent who says any prescribed line of seed 002 三/四/六 or 004 篇5 word for word (in Simplified
or Traditional characters) gets no finding from the hotline policy; a line a seed says must
never be said (000 忌用语, 002 五 服务忌语, 004 篇5 不可以说) is a critical finding wherever it is
said.  Every failure names the transcript, the section it follows and the line.
"""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

import csdsl
from csdsl.api import Policy, RecordError

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "examples" / "compliant_calls"
HOTLINE = ROOT / "policies" / "hotline.csp"


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "make_compliant_calls", ROOT / "examples" / "make_compliant_calls.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _rows(name: str) -> list[dict[str, Any]]:
    lines = (CORPUS / name).read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines]


@pytest.fixture(scope="module")
def hotline() -> Policy:
    return csdsl.load(HOTLINE)


def _shown(row: dict[str, Any], findings: Any) -> str:
    listed = "; ".join(f"{f.rule} (turn {f.turn}: {f.message})" for f in findings)
    return f"{row['id']} follows {row['follows']} «{row['line']}»: {listed or 'no finding'}"


def test_the_corpus_is_what_the_generator_writes() -> None:
    made = _generator().corpus()
    for name, rows in made.items():
        assert (CORPUS / name).read_text(encoding="utf-8") == _generator().text(rows), (
            f"examples/compliant_calls/{name} is stale: run python examples/make_compliant_calls.py"
        )


def test_every_prescribed_line_said_word_for_word_gets_no_finding(hotline: Policy) -> None:
    rows = _rows("prescribed.jsonl")
    assert len(rows) >= 150
    deviations = []
    for row in rows:
        result = hotline.check_transcript(row)
        if result.findings:
            deviations.append(_shown(row, result.findings))
    assert not deviations, "\n".join(deviations)


def test_each_prescribed_call_has_its_traditional_twin() -> None:
    rows = {r["id"]: r for r in _rows("prescribed.jsonl")}
    twins = [r for tid, r in rows.items() if tid.endswith("-T")]
    assert len(twins) * 2 == len(rows)
    for twin in twins:
        plain = rows[twin["id"][:-2]]
        assert twin["language"] == "zh-Hant-TW" and plain["language"] == "zh-Hans"
        said = [t.get("text") for t in plain["turns"]]
        said_tw = [t.get("text") for t in twin["turns"]]
        assert said != said_tw, twin["id"]  # really converted
        assert [t.get("event") for t in plain["turns"]] == [t.get("event") for t in twin["turns"]]


def test_every_forbidden_line_is_a_critical_finding_in_an_unrelated_call(
    hotline: Policy,
) -> None:
    rows = _rows("forbidden.jsonl")
    assert len(rows) >= 90
    misses = []
    for row in rows:
        result = hotline.check_transcript(row)
        critical = [f for f in result.findings if f.severity == "critical"]
        if not any(f.turn == row["turn"] and f.kind == "forbidden" for f in critical):
            misses.append(_shown(row, result.findings))
    assert not misses, "\n".join(misses)


def test_the_forbidden_calls_vary_punctuation_spaces_and_characters() -> None:
    rows = _rows("forbidden.jsonl")
    kinds = {re.search(r"\((\w+)\)$", r["follows"]).group(1) for r in rows}  # type: ignore[union-attr]
    assert kinds == {"punctuation", "spaces", "traditional"}
    for row in rows:
        said = row["turns"][row["turn"]]["text"]
        assert row["turns"][row["turn"]]["speaker"] == "agent"
        # said in a call about something else: the call's other agent turns are ordinary
        assert said not in (t.get("text") for t in row["turns"][: row["turn"]])


# the sections whose lines the corpus must follow, as the generator's `follows` names them
_004_SECTIONS = [
    f"004 篇5 {part}{n} "
    for part, numbers in (
        ("一", range(1, 4)),
        ("二", range(4, 10)),
        ("三", range(10, 15)),
        ("四", range(15, 22)),
        ("五", range(22, 33)),
        ("六", range(33, 36)),
    )
    for n in numbers
]
_002_SECTIONS = [
    "002 三 客户拨入",
    "002 三 客户非常着急",
    "002 三 客户恶意呼叫",
    "002 三 客户咨询的为非本公司业务",
    "002 三 客户提出批评",
    "002 三 客户提出表扬",
    "002 三 客户提出建议",
    "002 三 客户对问题答复或解决不太满意但不再追究",
    "002 三 客户不满意并要追究：能够",
    "002 三 客户不满意并要追究：无法",
    "002 三 客户的问题不能立即答复",
    "002 三 听不到客户声音",
    "002 三 听不清客户声音",
    "002 三 通话过程中",
    "002 三 结束语",
    "002 三 如客户说谢谢",
    "002 四 答复回访",
    "002 四 主动回访",
    "002 四 结束语",
    "002 六 询问客户的姓名",
    "002 六 适时地使用",
    "002 六 若没有听清",
    "002 六 如需客户等待",
    "002 六 返回时应讲",
    "002 六 在向客户解释完毕",
    "002 六 电话受理终了",
]


def test_every_section_with_a_prescribed_line_is_in_the_corpus() -> None:
    follows = [r["follows"] for r in _rows("prescribed.jsonl")]
    missing = [
        s for s in _004_SECTIONS + _002_SECTIONS if not any(f.startswith(s) for f in follows)
    ]
    assert not missing, missing


def test_every_forbidden_section_is_in_the_corpus() -> None:
    follows = {r["follows"].rsplit(" (", 1)[0] for r in _rows("forbidden.jsonl")}
    sections_004 = {"一1", "一2", "一3", "二4", "三11", "三13", "三14", "四15", "四16", "四17"}
    sections_004 |= {"四18", "四19", "四20", "四21", "五30", "六33", "六34"}
    for s in sections_004:
        assert f"004 篇5 {s} 不可以说" in follows, s
    lines = {r["line"] for r in _rows("forbidden.jsonl")}
    assert sum(1 for r in _rows("forbidden.jsonl") if r["follows"].startswith("000")) == 18
    assert len({line for line in lines}) >= 29


# ---- the pieces the corpus relies on ---------------------------------------------------------


def _call(direction: str | None, *turns: tuple[str, str]) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "id": "t",
        "turns": [{"speaker": who, "text": text} for who, text in turns],
    }
    if direction is not None:
        obj["direction"] = direction
    return obj


_SURVEY = (
    ("agent", "您好，我是江南云商客服中心的，您是王先生吗？"),
    ("customer", "是的。"),
    ("agent", "谢谢您的合作，再见。"),
)


def test_an_outbound_call_is_not_held_to_the_inbound_greeting_and_closing(
    hotline: Policy,
) -> None:
    assert hotline.check_transcript(_call("outbound", *_SURVEY)).findings == ()
    # the same words on an inbound call (the default) miss the inbound greeting and closing
    inbound = hotline.check_transcript(_call(None, *_SURVEY)).flagged
    assert {"s01.offer", "s34.anything_else"} <= inbound
    assert not any(r.startswith("callback.") for r in inbound)
    bad = hotline.check_transcript(
        _call("outbound", ("agent", "王先生吗？"), ("agent", "就这样。"))
    )
    assert {"callback.intro", "callback.close"} <= bad.flagged


def test_a_direction_that_is_not_inbound_or_outbound_is_a_bad_row(hotline: Policy) -> None:
    with pytest.raises(RecordError, match=r"`direction` must be inbound or outbound, got"):
        hotline.check_transcript(_call("sideways", *_SURVEY))


def test_a_polite_bu_qingchu_is_not_a_service_taboo(hotline: Policy) -> None:
    for said in (
        "我不清楚您说的是哪一笔订单，您能再说一下吗？",
        "我不知道您指的是哪个地址，麻烦您再说一下好吗？",
        "王先生，不知道我刚才是否将您的问题解释清楚了？",
    ):
        result = hotline.check_transcript(
            _call(
                None,
                ("agent", "您好，欢迎致电江南云商客户服务热线，请问有什么可以帮助您"),
                ("customer", "我上个月那笔订单退款了吗？"),
                ("agent", said),
                ("customer", "没有了。"),
                ("agent", "请问还有什么可以帮助您？感谢您的来电，再见！"),
            )
        )
        assert result.findings == (), (said, result.flagged)

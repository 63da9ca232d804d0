"""Phrase normalisation and matching: laws (Hypothesis) and the seeds' own spellings."""

from __future__ import annotations

import string

from hypothesis import given
from hypothesis import strategies as st

from csdsl.phrases import Matcher, normalise

HANZI = "您好欢迎致电客户服务热线让久等了对不起请稍这是规定我有什么办法讓歡迎致電對請這規麼辦"
TEXT = st.text(
    st.sampled_from(HANZI + string.ascii_letters + string.digits + "，。！？ ：“”,.!?  "),
    max_size=40,
)
PUNCT = "，。！？、：；“”（）《》 ,.!?;:()\u3000\t"


def _full_width(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


@given(TEXT)
def test_normalising_twice_changes_nothing(text: str) -> None:
    once = normalise(text).text
    assert normalise(once).text == once


@given(TEXT)
def test_every_kept_character_points_at_where_it_came_from(text: str) -> None:
    n = normalise(text)
    assert len(n.text) == len(n.starts) == len(n.ends)
    for i, ch in enumerate(n.text):
        assert normalise(text[n.starts[i] : n.ends[i]]).text == ch
    assert list(n.starts) == sorted(n.starts)


@given(st.text(st.sampled_from(string.printable.strip()), max_size=30))
def test_full_width_forms_read_as_half_width(text: str) -> None:
    assert normalise(_full_width(text)).text == normalise(text).text


@given(TEXT, st.lists(st.tuples(st.integers(0, 40), st.sampled_from(PUNCT)), max_size=6))
def test_punctuation_and_spaces_do_not_count(text: str, inserts: list[tuple[int, str]]) -> None:
    noisy = text
    for at, mark in inserts:
        at = min(at, len(noisy))
        noisy = noisy[:at] + mark + noisy[at:]
    assert normalise(noisy).text == normalise(text).text


def test_traditional_full_width_and_pinyin_glosses() -> None:
    assert normalise("讓您久等了！").text == normalise("让您久等了").text == "让您久等了"
    assert normalise("規(guī)范").text == "规范"  # seed 000's page left pinyin glosses
    assert normalise("ＡＢＣ　ｄｅｆ").text == "abcdef"


PHRASES = ["您好", "欢迎致电", "让您久等了", "对不起", "这是规定"]


@given(
    st.lists(
        st.sampled_from([*PHRASES, "客户", "，", "！", "讓您久等了", "這是規定", "x"]), max_size=12
    ).map("".join)
)
def test_the_matcher_finds_what_a_naive_search_finds(text: str) -> None:
    matcher = Matcher({"p": PHRASES})
    got = sorted((m.phrase, m.start, m.end) for m in matcher.find(text))
    norm = normalise(text)
    want = []
    for phrase in PHRASES:
        target = normalise(phrase).text
        i = norm.text.find(target)
        while i >= 0:
            want.append((phrase, *norm.span(i, i + len(target))))
            i = norm.text.find(target, i + 1)
    assert got == sorted(want)


def test_placeholders_stand_for_a_few_characters() -> None:
    m = Matcher({"greeting": ["欢迎致电{org}客户服务热线"], "polite": ["请问XX先生"]})
    text = "歡迎致電江南雲商客戶服務熱線，請問王先生"
    found = [(x.set, text[x.start : x.end]) for x in m.find(text)]
    assert found == [("greeting", "歡迎致電江南雲商客戶服務熱線"), ("polite", "請問王先生")]
    too_far = "欢迎致电" + "很" * 20 + "客户服务热线"
    assert m.find(too_far) == []


def test_only_pinyin_after_a_chinese_character_is_a_gloss() -> None:
    assert normalise("(A)").text == normalise("（Ａ）").text == "a"
    assert normalise("規（guī）范").text == "规范"
    assert normalise("请拨(gui)").text == "请拨"  # lower-case pinyin after a character
    assert normalise("请拨 (VIP)").text == "请拨vip"  # not pinyin: kept

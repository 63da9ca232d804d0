"""Phrase normalisation and matching: laws (Hypothesis) and the seeds' own spellings; the fast
path against the precise one, the phrase syntax, placeholders, folding options."""

from __future__ import annotations

import os
import re
import string
import subprocess
import sys
import unicodedata
from collections.abc import Iterable
from pathlib import Path

import attrs
import opencc
import pytest
from hypothesis import assume, given, strategies as st

from csdsl.phrases import (
    DEFAULT,
    MAX_VARIANTS,
    PLACEHOLDER_MAX,
    Folding,
    Match,
    Matcher,
    Normalised,
    PhraseSyntaxError,
    _has_gloss,
    _normalise_reference,
    _several,
    _table,
    expand,
    normalise,
    placeholder_problems,
    segments,
)

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


# --- the fast path agrees with the precise one --------------------------------------------------
# characters that take every path: several characters from one (…, ㈠, ﬁ, İ, ⅲ), beyond the BMP
# (emoji, CJK extension B), pinyin glosses, controls, the table's own marks, combining marks,
# full-width forms, and 薴 (OpenCC: 薴 -> 苧 -> 苎)
ODD = "…㈠ﬁİⅲ①😊𠀀𠮷\x00\x01\u0301ＡＢｇｕī（）()[]|｜{}XX×*＊薴苧"
RICH = st.text(
    st.sampled_from(HANZI + string.ascii_letters + string.digits + "，。！？ ：“”,.!?  " + ODD),
    max_size=40,
)
PINYINISH = st.lists(
    st.sampled_from([*HANZI[:10], "(guī)", "（guī）", "(gui)", "(VIP)", "(", ")", "…", "㈠", "a"]),
    max_size=10,
).map("".join)
FOLDINGS = st.sampled_from(
    [
        DEFAULT,
        Folding(traditional=False),
        Folding(width=False, punctuation=False),
        Folding(case=False, pinyin=False),
    ]
)


def _same(a: Normalised, b: Normalised) -> None:
    assert (a.text, a.starts, a.ends) == (b.text, b.starts, b.ends)


@given(st.one_of(RICH, PINYINISH), FOLDINGS)
def test_normalise_agrees_with_the_reference_algorithm(text: str, folding: Folding) -> None:
    fast = normalise(text, folding)
    _same(fast, _normalise_reference(text, folding))
    for i in range(len(fast.text)):
        for j in range(i + 1, min(len(fast.text), i + 4) + 1):
            assert fast.span(i, j) == (fast.starts[i], fast.ends[j - 1])


def _fold_in_bulk(chars: Iterable[str], folding: Folding) -> dict[str, str]:
    """Each character folded as the table was built before it was learnt lazily: NFKC and
    deletion for each one, then one OpenCC call over all the single letters and digits joined
    by line breaks (no dictionary entry spans one), the others one by one, then lower case."""
    pre = {}
    for ch in chars:
        s = unicodedata.normalize("NFKC", ch) if folding.width else ch
        if folding.punctuation:
            s = "".join(
                c
                for c in s
                if not (
                    unicodedata.category(c)[0] in "PZC"
                    or unicodedata.category(c) in ("Sk", "Sm", "So")
                    or c.isspace()
                )
            )
        pre[ch] = s
    post = dict(pre)
    if folding.traditional:
        bulk = [
            ch
            for ch, s in pre.items()
            if len(s) == 1 and unicodedata.category(s)[0] in "LN" and s != "\n"
        ]
        joined = "\n".join(pre[ch] for ch in bulk)
        done = _T2S.convert(joined).split("\n") if bulk else []
        assert len(done) == len(bulk)
        post.update(zip(bulk, done, strict=True))
        in_bulk = set(bulk)
        for ch, s in pre.items():
            if s and ch not in in_bulk:
                try:
                    post[ch] = _T2S.convert(s)
                except UnicodeEncodeError:  # a lone surrogate
                    post[ch] = s
    return {ch: s.lower() if folding.case else s for ch, s in post.items()}


def _entry_of(folded: str) -> str:
    """The table entry a folded character must have."""
    if not folded:
        return "\x00"
    return folded if len(folded) == 1 and folded not in "\x00\x01" else "\x01"


@pytest.mark.parametrize("folding", [DEFAULT, Folding(width=False, punctuation=False)])
def test_the_lazily_learnt_table_is_the_table_built_in_bulk(folding: Folding) -> None:
    """Once `normalise` has met every BMP character, each entry is what the fold of all of
    them at once says."""
    bmp = "".join(map(chr, range(0x10000)))
    normalise(bmp, folding)
    table = _table(folding)
    for ch, folded in _fold_in_bulk(bmp, folding).items():
        assert table[ord(ch)] == _entry_of(folded), hex(ord(ch))


def test_the_table_costs_nothing_until_characters_are_met() -> None:
    """In a fresh interpreter, normalising a text works out the entries of its characters and
    of no other."""
    probe = (
        "from csdsl.phrases import DEFAULT, _table, normalise\n"
        "assert normalise('讓您久等了，' * 3).text == '让您久等了' * 3\n"
        "print(sorted(chr(cp) for cp, e in enumerate(_table(DEFAULT)) if e != '\\x01'))"
    )
    src = Path(__file__).resolve().parents[1] / "src"
    path = os.pathsep.join([str(src), os.environ.get("PYTHONPATH", "")])
    done = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": path},
    )
    assert done.stdout.strip() == str(sorted("讓您久等了，"))


# arbitrary text, with the characters the fold treats specially drawn often: Traditional
# characters, combining marks, astral characters (emoji, CJK extension B, mathematical letters
# that NFKC folds to ASCII), full-width forms, compatibility forms, the table's own marks
SPECIAL = "讓歡迎致電對請這規麼辦薴苧\u0301\u0308\u20dd😊𠀀𠮷𝐀𝔸🄰ＡＢｇ…㈠ﬁİⅲ①½\x00\x01"
ANY_TEXT = st.text(st.one_of(st.characters(), st.sampled_from(SPECIAL)), max_size=40)


@given(ANY_TEXT, FOLDINGS)
def test_the_lazy_fold_is_the_full_table_fold(text: str, folding: Folding) -> None:
    """Whatever characters a text holds, and whatever was met before, `normalise` gives what a
    table worked out in bulk gives (the fast path when each character folds to at most one, the
    precise path else)."""
    full = _fold_in_bulk(set(text), folding)
    marked = "".join(_entry_of(full[c]) for c in text)
    got = normalise(text, folding)
    if "\x01" not in marked and not _has_gloss(text, folding):
        _same(got, Normalised(marked.replace("\x00", ""), marked=marked))
        assert text.translate(_table(folding)) == marked
    _same(got, _normalise_reference(text, folding))
    assert got.text == "".join(full[c] for c in text) or _has_gloss(text, folding)


def test_characters_beyond_the_bmp_are_learnt_when_met() -> None:
    assert normalise("😊您好𠮷").text == "您好𠮷"
    assert normalise("😊您好𠮷").starts == (1, 2, 3)
    assert normalise("😊您好𠮷").text == "您好𠮷"  # now from the table
    assert "😊您好𠮷".translate(_table(DEFAULT)) == "\x00您好𠮷"


def test_a_character_folding_to_several_is_learnt_once() -> None:
    """`ﬁ` folds to `fi`: its entry stays `_SLOW` (the precise path), and it is not worked out
    again each time it is met."""
    assert normalise("ﬁle").text == "file"
    assert _table(DEFAULT)[ord("ﬁ")] == "\x01"
    assert "ﬁ" in _several(DEFAULT)
    assert normalise("ﬁ讓").text == "fi让"


# --- laws -------------------------------------------------------------------------------------
@given(RICH)
def test_normalising_twice_changes_nothing_on_any_text(text: str) -> None:
    # one known exception, OpenCC's own: t2s maps 薴 to 苧, and 苧 to 苎
    assume("薴" not in text)
    once = normalise(text).text
    assert normalise(once).text == once


_S2T = opencc.OpenCC("s2t")
_T2S = opencc.OpenCC("t2s")
POOL = "您好欢迎致电客户服务热线让久等了对不起请稍这是规定我有什么办法问题处理订单电话号码谢帮发货"
# characters whose Traditional form is one character that converts back to them
ROUND_TRIP = "".join(
    c for c in POOL if len(_S2T.convert(c)) == 1 and _T2S.convert(_S2T.convert(c)) == c
)
WORD = st.text(st.sampled_from(ROUND_TRIP), min_size=2, max_size=5)
NOISE = st.text(st.sampled_from(ROUND_TRIP + "，。 ,!abAB12"), max_size=12)


def _per_char(converter: opencc.OpenCC, text: str) -> str:
    return "".join(converter.convert(c) for c in text)


def _spans(matcher: Matcher, text: str) -> list[tuple[str, int, int]]:
    return [(m.phrase, m.start, m.end) for m in matcher.find(text)]


@given(st.lists(WORD, min_size=1, max_size=4), NOISE, NOISE)
def test_a_match_survives_traditional_simplified_conversion(
    words: list[str], before: str, after: str
) -> None:
    matcher = Matcher({"p": words})
    text = before + words[0] + after
    found = _spans(matcher, text)
    assert found  # the phrase is there
    traditional = _per_char(_S2T, text)
    assert len(traditional) == len(text)
    assert _spans(matcher, traditional) == found
    assert _spans(matcher, _per_char(_T2S, traditional)) == found
    # the phrases written in Traditional characters match the same
    assert _spans(Matcher({"p": [_per_char(_S2T, w) for w in words]}), text) == [
        (_per_char(_S2T, p), a, b) for p, a, b in found
    ]


@given(
    st.lists(WORD, min_size=1, max_size=3), st.text(string.ascii_letters + "0123 ,.!", max_size=8)
)
def test_a_match_survives_full_width_forms(words: list[str], ascii_part: str) -> None:
    matcher = Matcher({"p": [*words, "ab1"]})
    text = ascii_part + words[0] + "ab1" + ascii_part
    found = _spans(matcher, text)
    assert ("ab1", *_find(text, "ab1")) in found
    assert _spans(matcher, _full_width(text)) == found


def _find(text: str, word: str) -> tuple[int, int]:
    at = text.index(word)
    return at, at + len(word)


MARKS = "，。！？、：；“”《》 ,.!?;:\u3000\t"  # no parentheses: they could make a pinyin gloss


@given(
    st.lists(WORD, min_size=1, max_size=4),
    st.lists(st.one_of(WORD, NOISE), max_size=5).map("".join),
    st.lists(st.tuples(st.integers(0, 60), st.sampled_from(MARKS)), max_size=8),
)
def test_a_match_survives_inserted_punctuation_and_spaces(
    words: list[str], text: str, inserts: list[tuple[int, str]]
) -> None:
    matcher = Matcher({"p": words, "q": ["{x}" + words[0], words[-1] + "XX"]})
    noisy = text
    for at, mark in inserts:
        at = min(at, len(noisy))
        noisy = noisy[:at] + mark + noisy[at:]
    assert sorted(m.phrase for m in matcher.find(noisy)) == sorted(
        m.phrase for m in matcher.find(text)
    )


# --- the matcher against a naive search --------------------------------------------------------
_HOLDER = re.compile(r"\{[^{}]*\}|[Xx×＊*]{2,}|×")


def _naive(sets: dict[str, list[str]], text: str) -> list[tuple[str, str, int, int]]:
    """Every occurrence, phrase by phrase and position by position, with str.startswith."""
    norm = normalise(text)
    t = norm.text
    out = []
    for name, phrases in sets.items():
        for phrase in phrases:
            spans = set()
            for variant in expand(phrase):
                parts = [normalise(p).text for p in _HOLDER.split(variant)]
                kept = [k for k, p in enumerate(parts) if p]
                if not kept:
                    continue
                segs = [parts[k] for k in kept]
                lead, trail = kept[0] > 0, kept[-1] < len(parts) - 1
                for i in range(len(t)):
                    if not t.startswith(segs[0], i) or (lead and i == 0):
                        continue
                    pos = i + len(segs[0])
                    for seg in segs[1:]:
                        nxt = [
                            s for s in range(pos, pos + PLACEHOLDER_MAX + 1) if t.startswith(seg, s)
                        ]
                        if not nxt:
                            break
                        pos = nxt[0] + len(seg)
                    else:
                        if not (trail and pos == len(t)):
                            spans.add((i, pos))
            out += [(name, phrase, *norm.span(i, j)) for i, j in spans]
    return out


SETS = {
    "greet": ["您好", "欢迎致电{org}客户服务热线", "请[您]稍(等|候)", "(您好|您XX好)"],
    "polite": ["XX先生", "对不起", "让您久等了", "先生{x}"],
    "bad": ["这是规定", "不是我办的", "(你|您)(是不是|不是)", "规范"],
}
PIECES = [
    "您好",
    "欢迎致电",
    "江南",
    "客户服务热线",
    "请",
    "您",
    "稍",
    "等",
    "候",
    "王",
    "先生",
    "对不起",
    "讓您久等了",
    "這是規定",
    "不是",
    "我办的",
    "你",
    "是",
    "，",
    "！",
    "ＸＸ",
    "…",
    "㈠",
    "規(guī)",
    "范",
    "很很很",
    " ",
]
# single characters of the phrases and marks: punctuation and spaces inside the phrases
CHARS = [*"您好请稍等候王先生对不起是你我办的这规定范欢迎致电客户服务热线很，！…㈠ ", "(guī)", "XX"]
TEXTS = st.one_of(
    st.lists(st.sampled_from(PIECES), max_size=14).map("".join),
    st.lists(st.sampled_from(CHARS), max_size=30).map("".join),
)


@given(TEXTS)
def test_the_matcher_finds_what_a_naive_search_finds_with_variants_and_placeholders(
    text: str,
) -> None:
    found = Matcher(SETS).find(text)
    assert sorted((m.set, m.phrase, m.start, m.end) for m in found) == sorted(_naive(SETS, text))
    assert found == sorted(found, key=lambda m: (m.start, -m.end, m.set, m.phrase))


@given(
    st.one_of(RICH, PINYINISH),
    st.lists(st.sampled_from(["您好", "a", "ab", "规范", "好"]), min_size=1),
)
def test_the_matcher_agrees_with_a_naive_search_on_any_text(text: str, phrases: list[str]) -> None:
    sets = {"p": list(dict.fromkeys(phrases))}
    got = sorted((m.set, m.phrase, m.start, m.end) for m in Matcher(sets).find(text))
    assert got == sorted(_naive(sets, text))


@given(TEXTS)
def test_every_span_holds_the_phrase_pieces_in_order(text: str) -> None:
    for m in Matcher(SETS).find(text):
        cut = normalise(text[m.start : m.end]).text
        assert any(_in_order(segments(v), cut) for v in expand(m.phrase)), (m, cut)


def _in_order(segs: tuple[str, ...], text: str) -> bool:
    at = 0
    for seg in segs:
        at = text.find(seg, at)
        if at < 0:
            return False
        at += len(seg)
    return bool(segs)


# --- phrase syntax -------------------------------------------------------------------------------
def test_optional_parts_and_alternatives() -> None:
    assert expand("请[您]稍等") == ("请您稍等", "请稍等")
    assert expand("请您(稍等|稍候)片刻") == ("请您稍等片刻", "请您稍候片刻")
    assert expand("请[您](稍等|稍候)") == ("请您稍等", "请您稍候", "请稍等", "请稍候")
    assert expand("[a|b]c") == ("ac", "bc", "c")
    assert expand("(a|(b|c)d)") == ("a", "bd", "cd")
    assert expand("(a|a)[a]") == ("aa", "a")  # deduplicated, order kept
    assert expand("(您|)好") == ("您好", "好")


def test_full_width_brackets_read_as_half_width() -> None:
    assert expand("请［您］稍等") == ("请您稍等", "请稍等")
    assert expand("请您（稍等｜稍候）") == ("请您稍等", "请您稍候")
    assert expand("（稍等|稍候)") == ("稍等", "稍候")


def test_parentheses_without_a_bar_are_text() -> None:
    assert expand("（稍微提高音量）请您稍等") == ("（稍微提高音量）请您稍等",)
    assert expand("規(guī)范") == ("規(guī)范",)
    assert expand("((a|b))") == ("(a)", "(b)")
    assert expand("{a|b}先生") == ("{a|b}先生",)  # placeholders are copied as they are


@pytest.mark.parametrize(
    ("phrase", "offset"),
    [
        ("请(稍等|稍候", 1),
        ("请稍等)", 3),
        ("[请您", 0),
        ("(a|b]", 4),
        ("a(|)b", 1),
        ("a[]b", 1),
        ("a[ | ]b", 1),
        ("稍等|稍候", 2),
        ("(a|b)" * 8 + "(c|d)", 40),  # 512 variants
        ("(" * 40 + ")" * 40, 32),
    ],
)
def test_phrase_syntax_errors_say_where(phrase: str, offset: int) -> None:
    with pytest.raises(PhraseSyntaxError) as info:
        expand(phrase)
    assert info.value.offset == offset
    assert isinstance(info.value, ValueError)
    assert info.value.message in str(info.value)


def test_at_most_max_variants() -> None:
    assert len(expand("(a|b)" * 8)) == MAX_VARIANTS


BRACKETED = st.lists(
    st.sampled_from(
        ["请", "您", "稍", "等", "[您]", "(稍等|稍候)", "[请|麻烦]", "XX", "，", "((a|b)|c)"]
    ),
    min_size=1,
    max_size=6,
).map("".join)


@given(st.text(st.sampled_from(HANZI + "，。XX{}ab"), max_size=20))
def test_a_phrase_without_brackets_expands_to_itself(phrase: str) -> None:
    assert expand(phrase) == (phrase,)


@given(
    BRACKETED,
    st.lists(
        st.sampled_from(["请", "您", "稍等", "稍候", "麻烦", "a", "c", "王"]), max_size=10
    ).map("".join),
)
def test_every_variant_found_is_reported_under_the_phrase_as_written(
    phrase: str, text: str
) -> None:
    try:
        variants = expand(phrase)
    except PhraseSyntaxError as exc:  # six brackets can multiply past the limit: refused
        assert f"more than {MAX_VARIANTS} variants" in str(exc)
        assume(False)
    assert len(variants) == len(set(variants)) <= MAX_VARIANTS
    written = {(m.start, m.end) for m in Matcher({"s": [phrase]}).find(text)}
    found = Matcher({"s": [phrase]}).find(text)
    assert all(m.phrase == phrase for m in found)
    assert len(found) == len(written)  # each span once
    by_variant = set()
    for v in variants:
        by_variant |= {(m.start, m.end) for m in Matcher({"s": [v]}).find(text)}
    assert written == by_variant


# --- placeholders ----------------------------------------------------------------------------
@pytest.mark.parametrize("gap", range(12))
def test_a_placeholder_stands_for_up_to_placeholder_max_characters(gap: int) -> None:
    text = "欢迎致电" + "很，" * gap + "客户服务热线"  # the commas do not count
    found = Matcher({"p": ["欢迎致电{org}客户服务热线"]}).find(text)
    assert [(m.start, m.end) for m in found] == ([(0, len(text))] if gap <= PLACEHOLDER_MAX else [])


def test_spans_across_deleted_characters() -> None:
    m = Matcher({"p": ["您好", "规范", "好"]})
    assert [(x.phrase, x.start, x.end) for x in m.find("“您，好”")] == [
        ("您好", 1, 4),
        ("好", 3, 4),
    ]
    assert [(x.phrase, x.start, x.end) for x in m.find("規(guī)范 您 好")] == [
        ("规范", 0, 7),
        ("您好", 8, 11),
        ("好", 10, 11),
    ]


def test_a_placeholder_at_an_edge_needs_a_character_there() -> None:
    m = Matcher({"p": ["XX先生", "{name}女士", "您好{x}"]})
    assert m.find("先生") == []
    assert m.find("，先生") == []  # punctuation is not a character that counts
    assert [(x.phrase, x.start, x.end) for x in m.find("王先生")] == [("XX先生", 1, 3)]
    assert [(x.phrase, x.start, x.end) for x in m.find("李女士您好")] == [("{name}女士", 1, 3)]
    assert [(x.phrase, x.start, x.end) for x in m.find("您好，王")] == [("您好{x}", 0, 2)]
    assert m.find("王，您好！") == []


def test_placeholder_problems() -> None:
    assert placeholder_problems("欢迎致电{org}客户服务热线") == []
    assert placeholder_problems("XX先生") == []
    assert placeholder_problems("您好") == []
    assert len(placeholder_problems("{a}{b}先生")) == 1
    assert "no words between" in placeholder_problems("请问XX{b}先生")[0]
    assert "no words between" in placeholder_problems("先生{a}，{b}女士")[0]
    assert "only of placeholders" in placeholder_problems("{name}")[0]
    assert "only of placeholders" in placeholder_problems("XX，")[0]
    assert placeholder_problems("({a}|先生)")  # one variant is only a placeholder


# --- folding options -------------------------------------------------------------------------
def test_each_folding_step_can_be_turned_off() -> None:
    text = "讓您久等了！ＡＢＣ規(guī)范"
    assert normalise(text).text == "让您久等了abc规范"
    assert normalise(text, Folding(traditional=False)).text == "讓您久等了abc規范"
    assert normalise(text, Folding(width=False)).text == "让您久等了ａｂｃ规范"
    assert normalise(text, Folding(case=False)).text == "让您久等了ABC规范"
    assert normalise(text, Folding(punctuation=False)).text == "让您久等了!abc规范"
    assert normalise(text, Folding(pinyin=False)).text == "让您久等了abc规guī范"
    assert segments("讓您 久等", Folding(traditional=False)) == ("讓您久等",)
    m = Matcher({"p": ["让您久等了"]}, Folding(traditional=False))
    assert m.find("讓您久等了") == []
    assert len(m.find("让您久等了")) == 1


def test_matches_are_ordinary_frozen_values() -> None:
    found = Matcher({"p": ["您好"]}).find("，您好")
    assert found == [Match("p", "您好", 1, 3)]
    assert hash(found[0]) == hash(Match("p", "您好", 1, 3))
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        found[0].start = 0  # type: ignore[misc]


_PIECES = [*"您好你王先生请稍等不是我办的，。！ 「」(xyz)規範…㈠", "(guī)"]


@given(st.lists(st.sampled_from(_PIECES), max_size=30).map("".join))
def test_the_hit_table_maps_back_to_what_find_reports(text: str) -> None:
    m = Matcher({"a": ["您好", "XX先生", "请(您|你)稍等"], "b": ["不是我办的", "你", "[王]先生"]})
    scan = m.scan(text)
    mine = sorted((*scan.name(r), *scan.span(a, -b)) for a, b, r in scan.hits)
    assert mine == sorted((x.set, x.phrase, x.start, x.end) for x in m.find(text))

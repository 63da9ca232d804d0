"""The matcher's engines and its one pass over a batch of texts: every engine installed gives the
same hit table (Hypothesis), a batch gives what its texts give one by one, no hit spans two
texts, and the engine is chosen as `CSDSL_MATCHER` says."""

from __future__ import annotations

import json
import os
import string
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings, strategies as st

from csdsl import phrase_engines
from csdsl.phrase_engines import EngineError
from csdsl.phrases import DEFAULT, Folding, Matcher

ROOT = Path(__file__).resolve().parents[1]
ENGINES = [e for e in phrase_engines.ENGINES if phrase_engines.installed(e)]
# pieces of phrases: words that overlap (您好 / 好 / 您好吗), Traditional spellings, placeholders
# at the start, the end and in between, optional parts and alternatives
# (and beyond the BMP: `😀` is two UTF-16 code units, which two lone surrogates in a text
# are too)
WORDS = [
    "您好",
    "好",
    "您好吗",
    "讓您",
    "让您久等了",
    "先生",
    "王",
    "请",
    "稍等",
    "ab",
    "Ab1",
    "𠮷您",
    "😀好",
]
PHRASE = st.one_of(
    st.sampled_from(WORDS),
    st.builds(lambda a, b: f"{a}XX{b}", st.sampled_from(WORDS), st.sampled_from(WORDS)),
    st.builds(lambda a: "{name}" + a, st.sampled_from(WORDS)),
    st.builds(lambda a: a + "××", st.sampled_from(WORDS)),
    st.builds(lambda a, b: f"[{a}]{b}", st.sampled_from(WORDS), st.sampled_from(WORDS)),
    st.builds(lambda a, b: f"{a}[XX]{b}", st.sampled_from(WORDS), st.sampled_from(WORDS)),
    st.builds(lambda a, b: f"({a}|{b})您", st.sampled_from(WORDS), st.sampled_from(WORDS)),
)
SETS = st.dictionaries(
    st.sampled_from(["a", "b", "c"]), st.lists(PHRASE, min_size=1, max_size=4), min_size=1
)
# turns: the words among noise, punctuation, full-width forms, Traditional characters,
# characters that take the precise path (…, ㈠, ﬁ, beyond the BMP, a pinyin gloss), the
# character a batch's texts are joined by (U+A000) and lone surrogates
PIECE = st.one_of(
    st.sampled_from(WORDS),
    st.sampled_from(
        [
            *"您好王先生请稍等讓歡迎，。！？ ,.!",
            "ＡＢ１",
            "…",
            "㈠",
            "ﬁ",
            "𠮷",
            "(guī)",
            "\ua000",
            "\ud83d",
            "\ude00",
        ]
    ),
    st.text(st.sampled_from(string.ascii_letters + "您好"), max_size=3),
)
TURN = st.lists(PIECE, max_size=8).map("".join)
FOLDINGS = st.sampled_from(
    [DEFAULT, Folding(traditional=False), Folding(width=False, punctuation=False)]
)


def _tables(matcher: Matcher, turns: list[str]) -> tuple[object, ...]:
    """The batch's hit table (sorted, and text by text), and its spans in the original
    turns."""
    scan = matcher.scan_many(turns)
    spans = sorted((scan.turn(a), *scan.span(a, -b), r) for a, b, r in scan.hits)
    return scan.table(), [sorted(_pairs(hits)) for hits in scan.texts()], spans


def _pairs(hits: Sequence[Any]) -> list[tuple[int, tuple[int, int]]]:
    """One text's hits (`Scan.texts`: flat, `last, (length - 1, ranks), ...`) as
    `(last, (length - 1, rank))` pairs."""
    pairs = zip(hits[0::2], hits[1::2], strict=True)
    return [(last, (n, rank)) for last, (n, ranks) in pairs for rank in ranks]


@pytest.mark.skipif(len(ENGINES) < 2, reason="one engine installed: pip install 'csdsl[fast]'")
@settings(max_examples=300, deadline=None)
@given(SETS, st.lists(TURN, max_size=6), FOLDINGS)
def test_every_engine_gives_the_same_hit_table(
    sets: dict[str, list[str]], turns: list[str], folding: Folding
) -> None:
    first, *others = (_tables(Matcher(sets, folding, engine=e), turns) for e in ENGINES)
    for other in others:
        assert other == first


@pytest.mark.parametrize("engine", ENGINES)
@settings(max_examples=200, deadline=None)
@given(sets=SETS, turns=st.lists(TURN, max_size=6), folding=FOLDINGS)
def test_a_batch_is_its_texts_one_by_one(
    engine: str, sets: dict[str, list[str]], turns: list[str], folding: Folding
) -> None:
    matcher = Matcher(sets, folding, engine=engine)
    scan = matcher.scan_many(turns)
    together = scan.table()
    alone = [(k, a, b, r) for k, t in enumerate(turns) for _, a, b, r in matcher.scan(t).table()]
    assert together == alone
    # the original spans: what `find` reports for each turn on its own
    spans = sorted((scan.turn(a), *scan.span(a, -b), *matcher.name(r)) for a, b, r in scan.hits)
    found = sorted(
        (k, m.start, m.end, m.set, m.phrase) for k, t in enumerate(turns) for m in matcher.find(t)
    )
    assert spans == found
    # the table text by text (what qa reads): every hit once, in its own text
    texts = [_pairs(hits) for hits in scan.texts()]
    assert len(texts) == len(turns)
    flat = sorted((last - n, ~last, r) for hits in texts for last, (n, r) in hits)
    assert flat == scan.hits
    for k, hits in enumerate(texts):
        assert len(set(hits)) == len(hits)
        assert all(scan.turn(last - n) == k for last, (n, _r) in hits)
        assert [last for last, _ in hits] == sorted(last for last, _ in hits)


@pytest.mark.parametrize("engine", ENGINES)
def test_no_hit_spans_two_texts(engine: str) -> None:
    m = Matcher({"p": ["您好", "XX先生", "请XX稍等", "先生XX"]}, engine=engine)
    assert m.scan_many(["您", "好"]).hits == []
    assert m.scan_many(["王", "先生"]).table() == []  # the placeholder needs a character before
    assert m.scan_many(["请王", "稍等"]).table() == []
    rank = {m.name(r)[1]: r for r in range(m.phrases)}
    assert m.scan_many(["王先生", "请王稍等"]).table() == [
        (0, 1, 3, rank["XX先生"]),
        (1, 0, 4, rank["请XX稍等"]),
    ]
    assert m.scan_many(["先生", "王"]).table() == []  # ... and one after


@pytest.mark.parametrize("engine", ENGINES)
def test_overlapping_hits_are_all_found(engine: str) -> None:
    m = Matcher({"p": ["您好", "好", "您好吗", "好吗"]}, engine=engine)
    scan = m.scan_many(["您好吗", "，您好"])
    by_rank = {m.name(r)[1]: r for r in range(m.phrases)}
    assert scan.table() == [
        (0, 0, 3, by_rank["您好吗"]),
        (0, 0, 2, by_rank["您好"]),
        (0, 1, 3, by_rank["好吗"]),
        (0, 1, 2, by_rank["好"]),
        (1, 0, 2, by_rank["您好"]),
        (1, 1, 2, by_rank["好"]),
    ]
    assert [scan.span(a, -b) for a, b, _ in scan.hits][-2:] == [(1, 3), (2, 3)]
    # text by text: last, (length - 1, ranks), ... in the order of the last character; the
    # second text starts at 4 (three characters and the separator)
    texts = [_pairs(hits) for hits in scan.texts()]
    assert [[last for last, _ in hits] for hits in texts] == [[1, 1, 2, 2], [5, 5]]
    assert [set(hits) for hits in texts] == [
        {
            (1, (1, by_rank["您好"])),
            (1, (0, by_rank["好"])),
            (2, (2, by_rank["您好吗"])),
            (2, (1, by_rank["好吗"])),
        },
        {(5, (1, by_rank["您好"])), (5, (0, by_rank["好"]))},
    ]


@pytest.mark.parametrize("engine", ENGINES)
def test_a_span_found_through_two_variants_is_one_hit(engine: str) -> None:
    m = Matcher({"p": ["请[XX]稍等", "[XX]先生"]}, engine=engine)  # `请稍等` both ways
    scan = m.scan_many(["请稍等", "王先生"])
    rank = {m.name(r)[1]: r for r in range(m.phrases)}
    assert scan.table() == [(0, 0, 3, rank["请[XX]稍等"]), (1, 1, 3, rank["[XX]先生"])]
    assert [len(hits) for hits in scan.texts()] == [2, 2]  # flat: one (last, value) each


@pytest.mark.parametrize("engine", ENGINES)
def test_two_lone_surrogates_are_not_a_character_beyond_the_bmp(engine: str) -> None:
    # in UTF-16 they are the same two code units as `😀`
    m = Matcher({"p": ["😀好"]}, Folding(width=False, punctuation=False), engine=engine)
    assert m.scan_many(["\ud83d\ude00好", "\ud83d"]).table() == []  # all in the BMP: UTF-16
    assert m.scan_many(["\ud83d\ude00好", "😀好"]).table() == [(1, 0, 2, 0)]


def test_the_engine_is_chosen_by_name_or_by_csdsl_matcher(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("CSDSL_MATCHER", raising=False)
    assert Matcher({"p": ["您好"]}, engine="aho").engine == "aho"
    monkeypatch.setenv("CSDSL_MATCHER", "aho")
    assert Matcher({"p": ["您好"]}).engine == "aho"
    monkeypatch.setenv("CSDSL_MATCHER", "boyer-moore")
    with pytest.raises(EngineError, match="unknown phrase matching engine `boyer-moore`"):
        Matcher({"p": ["您好"]})
    monkeypatch.setenv("CSDSL_MATCHER", "auto")
    assert Matcher({"p": ["您好"]}).engine == ENGINES[0]  # the first installed of
    assert phrase_engines.ENGINES == ("native", "aho", "hyperscan")  # (the order below)
    assert phrase_engines.engine_name("auto") == next(
        e for e in ("native", "hyperscan", "aho") if e in ENGINES
    )


def test_checking_a_policy_does_not_import_hyperscan() -> None:
    """`csdsl check` matches phrases against phrases in small matchers of its own: with
    pyahocorasick, whatever `auto` picks (Hyperscan's import and compile would slow it)."""
    probe = (
        "import sys, csdsl\n"
        "policy = csdsl.load(sys.argv[1])\n"
        "print(sorted(m for m in ('hyperscan', 'ahocorasick') if m in sys.modules))"
    )
    env = {k: v for k, v in os.environ.items() if k != "CSDSL_MATCHER"}
    env.update(PYTHONPATH=str(ROOT / "src"), CSDSL_NO_CACHE="1")
    run = subprocess.run(
        [sys.executable, "-c", probe, str(ROOT / "policies" / "hotline_qa.csp")],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    assert run.stdout.split("\n")[-2] == "['ahocorasick']"


def test_hyperscan_asked_for_but_not_installed_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "hyperscan", None)  # `import hyperscan` fails
    monkeypatch.setitem(sys.modules, "csdsl._scanner", None)  # and the native one
    monkeypatch.setenv("CSDSL_MATCHER", "hyperscan")
    with pytest.raises(EngineError, match=r"pip install 'csdsl\[fast\]'"):
        Matcher({"p": ["您好"]})
    monkeypatch.setenv("CSDSL_MATCHER", "native")
    with pytest.raises(EngineError, match="was not built with this install"):
        Matcher({"p": ["您好"]})
    monkeypatch.delenv("CSDSL_MATCHER")
    assert Matcher({"p": ["您好"]}).engine == "aho"  # neither: the portable one


def test_a_bad_csdsl_matcher_is_one_line_from_the_cli(tmp_path: Path) -> None:
    env = {"PATH": "", "PYTHONPATH": str(ROOT / "src"), "CSDSL_MATCHER": "boyer-moore"}
    env["CSDSL_CACHE_DIR"] = str(tmp_path)
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "csdsl",
            "transcripts",
            str(ROOT / "policies" / "hotline_qa.csp"),
            str(ROOT / "examples" / "transcripts.jsonl"),
        ],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert run.returncode == 2
    assert run.stderr.strip().splitlines() == [
        "csdsl: unknown phrase matching engine `boyer-moore` (CSDSL_MATCHER): one of native, "
        "aho, hyperscan or auto"
    ]


@pytest.mark.skipif(len(ENGINES) < 2, reason="one engine installed: pip install 'csdsl[fast]'")
def test_the_sample_transcripts_judged_alike_by_every_engine(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import csdsl

    results = []
    for engine in ENGINES:
        monkeypatch.setenv("CSDSL_MATCHER", engine)
        policy = csdsl.load(ROOT / "policies" / "hotline_qa.csp")
        assert policy.transcript_checker().matcher.engine == engine
        rows = policy.check_transcript_file(ROOT / "examples" / "transcripts.jsonl")
        results.append(
            [json.dumps(r.result.to_json(), ensure_ascii=False) for r in rows if r.result]
        )
    assert results[0] and all(r == results[0] for r in results)

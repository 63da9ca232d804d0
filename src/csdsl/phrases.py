"""Phrase matching for transcripts: normalisation and a one-pass matcher (issue 4's engine).

In: text as agents and customers said it (Traditional or Simplified characters, full-width or
half-width forms, punctuation, spaces, pinyin glosses such as `規(guī)范`), and phrase sets.
Out:
- `normalise(text)`: the text reduced to what matching compares (NFKC, Traditional to Simplified
  with OpenCC, lower case, without punctuation, spaces and pinyin glosses), plus, for every
  character kept, the span of the original text it came from;
- `Matcher(phrase_sets).find(text)`: every occurrence of every phrase in one pass over the text
  (Aho-Corasick), with spans in the *original* text.  A phrase may hold placeholders (`{name}`,
  the seeds' `XX`, `**`, `×××`): each stands for up to `PLACEHOLDER_MAX` characters.

Characters are converted one at a time, so that every kept character knows where it came from;
OpenCC's phrase tables (which can change a word's length) are therefore not used.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence

import attrs

PLACEHOLDER_MAX = 8  # how many characters a placeholder such as `XX先生` may stand for
_PLACEHOLDER = re.compile(r"\{[^{}]*\}|[Xx×＊*]{2,}|×")
# a pinyin gloss: lower-case pinyin in parentheses right after a Chinese character, `規(guī)范`
_PINYIN = re.compile(r"(?<=[\u3400-\u9fff\uf900-\ufaff])\([a-zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜüêɑńňǹḿ]+\)")
# full-width ASCII forms read as half-width, one character for one (positions are kept)
_HALF = {c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F)}


@functools.cache
def _t2s() -> object:
    import opencc

    return opencc.OpenCC("t2s")


@functools.lru_cache(maxsize=65536)
def _char(ch: str) -> str:
    """One original character as matching sees it ("" when it does not count)."""
    out = []
    for c in unicodedata.normalize("NFKC", ch):
        cat = unicodedata.category(c)
        if cat[0] in "PZC" or cat in ("Sk", "Sm", "So") or c.isspace():
            continue  # punctuation, spaces, controls and symbols are ignored
        out.append(c)
    if not out:
        return ""
    text = "".join(out)
    converted: str = _t2s().convert(text)  # type: ignore[attr-defined]
    return converted.lower()


@attrs.frozen
class Normalised:
    text: str
    starts: tuple[int, ...]  # for each character of `text`, where it starts in the original
    ends: tuple[int, ...]  # ... and where it ends

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The original span of `text[start:end]` (end exclusive, start < end)."""
        return self.starts[start], self.ends[end - 1]


def normalise(text: str) -> Normalised:
    out: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    glosses = [(m.start(), m.end()) for m in _PINYIN.finditer(text.translate(_HALF))]
    g = 0
    i = 0
    while i < len(text):
        if g < len(glosses) and glosses[g][0] == i:
            i = glosses[g][1]  # a pinyin gloss left by a web page: not part of what was said
            g += 1
            continue
        for c in _char(text[i]):
            out.append(c)
            starts.append(i)
            ends.append(i + 1)
        i += 1
    return Normalised("".join(out), tuple(starts), tuple(ends))


def segments(phrase: str) -> tuple[str, ...]:
    """A phrase's literal pieces, normalised; placeholders separate them."""
    return tuple(p for p in (normalise(x).text for x in _PLACEHOLDER.split(phrase)) if p)


@attrs.frozen
class Match:
    set: str  # the phrase set
    phrase: str  # the phrase as written in the policy
    start: int  # span in the original text
    end: int


class Matcher:
    """All phrases of all sets, matched in one pass over each text."""

    def __init__(self, phrase_sets: Mapping[str, Sequence[str]]) -> None:
        import ahocorasick

        self._automaton = ahocorasick.Automaton()
        self._phrases: list[tuple[str, str, tuple[str, ...]]] = []
        pieces: dict[str, list[tuple[int, int]]] = {}  # segment -> (phrase index, position)
        for name, phrases in phrase_sets.items():
            for phrase in phrases:
                segs = segments(phrase)
                if not segs:
                    continue
                self._phrases.append((name, phrase, segs))
                for k, seg in enumerate(segs):
                    pieces.setdefault(seg, []).append((len(self._phrases) - 1, k))
        for seg, owners in pieces.items():
            self._automaton.add_word(seg, (seg, tuple(owners)))
        self._empty = not pieces
        if not self._empty:
            self._automaton.make_automaton()

    def find(self, text: str) -> list[Match]:
        """Every phrase occurrence in `text`, leftmost first; spans are in `text` itself."""
        if self._empty:
            return []
        norm = normalise(text)
        # where each (phrase, segment) occurs in the normalised text
        hits: dict[tuple[int, int], list[int]] = {}
        for end, (seg, owners) in self._automaton.iter(norm.text):
            for owner in owners:
                hits.setdefault(owner, []).append(end - len(seg) + 1)
        found = []
        for index, (name, phrase, segs) in enumerate(self._phrases):
            for start in hits.get((index, 0), []):
                end = _chain(start, segs, index, hits)
                if end is not None:
                    a, b = norm.span(start, end)
                    found.append(Match(name, phrase, a, b))
        found.sort(key=lambda m: (m.start, -m.end, m.set, m.phrase))
        return found


def _chain(
    start: int, segs: tuple[str, ...], index: int, hits: Mapping[tuple[int, int], Iterable[int]]
) -> int | None:
    """The end of the shortest occurrence of all segments in order, each gap at most
    `PLACEHOLDER_MAX` characters; None if there is none."""
    pos = start + len(segs[0])
    for k in range(1, len(segs)):
        nxt = [s for s in hits.get((index, k), ()) if pos <= s <= pos + PLACEHOLDER_MAX]
        if not nxt:
            return None
        pos = min(nxt) + len(segs[k])
    return pos

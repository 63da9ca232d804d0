"""Phrase matching for transcripts: normalisation and a one-pass matcher (issue 4's engine).

In: text as agents and customers said it (Traditional or Simplified characters, full-width or
half-width forms, punctuation, spaces, pinyin glosses such as `規(guī)范`), and phrase sets.
Out:
- `normalise(text, folding=DEFAULT)`: the text reduced to what matching compares, plus, for
  every character kept, the span of the original text it came from (`Normalised`);
- `Matcher(phrase_sets, folding=DEFAULT).find(text)`: every occurrence of every phrase in one
  pass over the text, with spans in the *original* text; `Matcher.scan_many(texts)`: one hit
  table (`Scan`) for a batch of texts (a transcript's turns) folded and matched in one pass,
  spans mapped back only for the hits asked about;
- `expand(phrase)`: the variants a phrase written with `[optional]` parts and `(a|b)`
  alternatives stands for; `placeholder_problems(phrase)`: misused placeholders;
- `segments(phrase, folding=DEFAULT)`: a phrase's literal pieces as matching sees them.

Folding (`Folding`, chosen per policy; `DEFAULT` has every step on):
- `traditional`: Traditional characters read as Simplified (OpenCC `t2s`, one character at a
  time: `讓` -> `让`);
- `width`: NFKC, so full-width forms read as half-width (`ＡＢＣ` -> `ABC`), compatibility
  forms as their plain characters (`⽤` -> `用`, `①` -> `1`);
- `case`: lower case;
- `punctuation`: punctuation, spaces, symbols and control characters do not count (Unicode
  categories P*, Z*, C*, Sk, Sm, So, and white space) - they are deleted;
- `pinyin`: a pinyin gloss right after a Chinese character, `規(guī)范` or `規（guī）范`, is not
  part of what was said - it is deleted (detected on half-width forms whatever `width` says).
The steps apply to each original character in that order (NFKC, deletion, t2s, lower case).
Characters are converted one at a time, so that every kept character knows where it came from;
OpenCC's phrase tables (which can change a word's length) are therefore not used.

Phrase syntax (`expand`): `请[您]稍等` is `请您稍等` or `请稍等`; `请您(稍等|稍候)片刻` is
either alternative; `[a|b]` is `a`, `b` or nothing.  Groups nest.  Parentheses without a `|`
are literal text (the seeds use them for stage directions such as `（稍微提高音量）`).
Full-width `（）［］｜` read exactly as `()[]|`.  `{...}` placeholders are copied verbatim.
A phrase expands to at most `MAX_VARIANTS` distinct variants (in the order written, the "with"
of an optional part before the "without").  An unbalanced bracket, a `|` outside any group, a
group whose alternatives are all empty (`[]`, `(|)`), nesting deeper than 32 or too many
variants raise `PhraseSyntaxError` (a `ValueError`) with the offset of the problem in the
phrase.  The matcher matches every variant of a phrase, and reports each occurrence under the
phrase as written (a span found through two variants is reported once).

Placeholders (`{name}`, the seeds' `XX`, `**`, `×××`) stand for up to `PLACEHOLDER_MAX` kept
characters between two literal pieces.  A placeholder at the start of a phrase (`{name}先生`)
needs at least one kept character before the first literal piece, and one at the end needs at
least one after the last piece, in the same text; reported spans cover the literal pieces only
(`XX先生` in `王先生` reports `先生`).

Speed: the common path for a batch of texts (a transcript's turns) is one `str.translate` with
a folding table over the texts joined by a separator (a Yi syllable no phrase holds, which the
fold keeps as it is: the folded batch splits at it, no occurrence spans two texts), then one
pass of a multi-pattern engine (`csdsl.phrase_engines`: Hyperscan when installed, else
pyahocorasick).  The engine hands over its occurrences as one flat list in the order of their
last character; the hit table text by text (`Scan.texts`) is that list cut at the texts'
boundaries - work per text, not per hit, and no object per hit for the garbage collector to
count.  Only the hits of phrases with placeholders (and of several pieces) are worked out in
Python; sorted hits are worked out only when asked (`Scan.hits`).
The table has one entry per code point, worked out from the character-by-character fold, so
`…` (NFKC `...`, all punctuation) is deleted and `㈠` (NFKC `(一)`) reads `一` by the table
alone.  Each entry is worked out the first time `normalise` meets its character (about 20 us a
character; a day of transcripts holds a few thousand distinct ones), so the table costs nothing
at start-up: a list of every code point (9 MB) for each `Folding` used.  Characters whose
folded form has several characters (`ﬁ`, `½`, `İ`) and texts holding a pinyin gloss take the
precise path, the character-by-character algorithm (`_normalise_reference`), which gives the
same results; so does, in `Matcher`, a text with a character not met before (the `normalise`
of the precise path learns it).  The map from normalised positions back
to the original text is worked out only when needed (for the spans of the matches found, or
when `Normalised.starts`/`ends` are read).
"""

from __future__ import annotations

import bisect
import functools
import itertools
import operator
import re
import types
import unicodedata
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import attrs

from csdsl import phrase_engines

__all__ = [
    "DEFAULT",
    "MAX_VARIANTS",
    "PLACEHOLDER_MAX",
    "Folding",
    "Match",
    "Matcher",
    "Normalised",
    "PhraseSyntaxError",
    "expand",
    "normalise",
    "placeholder_problems",
    "segments",
]

PLACEHOLDER_MAX = 8  # how many characters a placeholder such as `XX先生` may stand for
MAX_VARIANTS = 256  # how many variants one phrase may expand to
_MAX_DEPTH = 32  # how deeply brackets may nest
_PLACEHOLDER = re.compile(r"\{[^{}]*\}|[Xx×＊*]{2,}|×")
# a pinyin gloss: lower-case pinyin in parentheses right after a Chinese character, `規(guī)范`
_PINYIN = re.compile(r"(?<=[\u3400-\u9fff\uf900-\ufaff])\([a-zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜüêɑńňǹḿ]+\)")
# full-width ASCII forms read as half-width, one character for one (positions are kept)
_HALF = {c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F)}


@attrs.frozen
class Folding:
    """Which differences between two texts do not count (see the module docstring)."""

    traditional: bool = True  # Traditional characters read as Simplified (OpenCC t2s)
    width: bool = True  # NFKC: full-width and compatibility forms read as plain ones
    case: bool = True  # lower case
    punctuation: bool = True  # punctuation, spaces, symbols and controls are deleted
    pinyin: bool = True  # pinyin glosses after a Chinese character are deleted


DEFAULT = Folding()


@functools.cache
def _t2s() -> object:
    import opencc

    return opencc.OpenCC("t2s")


def _t2s_convert(text: str) -> str:
    try:
        converted: str = _t2s().convert(text)  # type: ignore[attr-defined]
    except UnicodeEncodeError:  # a lone surrogate: OpenCC only reads UTF-8
        return text
    return converted


def _dropped(c: str) -> bool:
    """A character the `punctuation` step deletes."""
    cat = unicodedata.category(c)
    return cat[0] in "PZC" or cat in ("Sk", "Sm", "So") or c.isspace()


@functools.lru_cache(maxsize=65536)
def _fold_char(ch: str, folding: Folding = DEFAULT) -> str:
    """One original character as matching sees it ("" when it does not count)."""
    chars = unicodedata.normalize("NFKC", ch) if folding.width else ch
    if folding.punctuation:
        chars = "".join(c for c in chars if not _dropped(c))
        if not chars:
            return ""
    if folding.traditional:
        chars = _t2s_convert(chars)
    if folding.case:
        chars = chars.lower()
    return chars


# --- the folding table -------------------------------------------------------------------------
# One entry per code point, for `str.translate`: the folded character; `_MARK` for a character
# that is deleted (so that the translated text still has one character per original character,
# and the map back to the original is cheap to work out); `_SLOW` for a character the table
# cannot say in one character (it folds to several, or has not been met yet).
_MARK = "\x00"
_SLOW = "\x01"
_MARK_RUNS = re.compile(_MARK + "+")
_SLOW_RUNS = re.compile(_SLOW + "+")
_ALL = 0x110000  # code points


# the fold of `Matcher.scan_many` in C (`str.translate` and `replace` in one pass), or None
# where `csdsl._scanner` was not built with this install
_fold: Callable[[str, list[str], str, str], tuple[str, str, bool] | None] | None = (
    phrase_engines.c_fold()
)


def _entry(folded: str) -> str:
    if len(folded) == 1:
        return _SLOW if folded in (_MARK, _SLOW) else folded
    return _MARK if not folded else _SLOW


@functools.lru_cache(maxsize=8)
def _table(folding: Folding) -> list[str]:
    """The folding table for `folding`: every entry `_SLOW` at first, worked out from
    `_fold_char` the first time a text holding its character is normalised (`_learn`).  A
    plain list: `str.translate` looks it up about 1.5 times as fast as a dict, or a list
    subclass (which could have learnt in `__missing__`)."""
    return [_SLOW] * _ALL


@functools.lru_cache(maxsize=8)
def _several(folding: Folding) -> set[str]:
    """The characters met so far that fold to several characters under `folding`."""
    return set()


def _learn(text: str, marked: str, folding: Folding) -> bool:
    """Work out the table entries of the characters of `text` met for the first time
    (`marked`: `text` translated with `_table(folding)`); True if that changed any entry."""
    met: set[str] = set()
    for run in _SLOW_RUNS.finditer(marked):
        met.update(text[run.start() : run.end()])
    table = _table(folding)
    several = _several(folding)
    changed = False
    for ch in met - several:
        entry = _entry(_fold_char(ch, folding))
        if entry == _SLOW:
            several.add(ch)
        else:
            table[ord(ch)] = entry
            changed = True
    return changed


def _has_gloss(text: str, folding: Folding) -> bool:
    return (
        folding.pinyin
        and ("(" in text or "（" in text)
        and _PINYIN.search(text.translate(_HALF)) is not None
    )


# --- normalisation -----------------------------------------------------------------------------
class Normalised:
    """A text as matching sees it, and where each of its characters came from.

    `starts[i]`/`ends[i]`: the span of the original text that `text[i]` came from (worked out
    when first read).
    """

    __slots__ = ("_ends", "_marked", "_runs", "_starts", "text")

    def __init__(
        self,
        text: str,
        starts: Sequence[int] | None = None,
        ends: Sequence[int] | None = None,
        *,
        marked: str | None = None,
    ) -> None:
        self.text = text
        # `marked`: the original translated with the folding table, deleted characters as
        # `_MARK`, every other character one for one (the fast path); else starts and ends
        if marked is None and (starts is None or ends is None):
            raise TypeError("Normalised needs starts and ends")
        self._marked = marked
        self._starts = None if starts is None else tuple(starts)
        self._ends = None if ends is None else tuple(ends)
        self._runs: list[tuple[int, int]] | None = None

    def _deleted(self) -> list[tuple[int, int]]:
        if self._runs is None:
            marked = self._marked or ""
            self._runs = [m.span() for m in _MARK_RUNS.finditer(marked)] if _MARK in marked else []
        return self._runs

    @property
    def starts(self) -> tuple[int, ...]:
        if self._starts is None:
            kept = []
            at = 0
            for a, b in self._deleted():
                kept.append(range(at, a))
                at = b
            kept.append(range(at, len(self._marked or "")))
            self._starts = tuple(itertools.chain.from_iterable(kept))
        return self._starts

    @property
    def ends(self) -> tuple[int, ...]:
        if self._ends is None:
            self._ends = tuple(s + 1 for s in self.starts)
        return self._ends

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The original span of `text[start:end]` (end exclusive, start < end)."""
        if self._starts is not None and self._ends is not None:
            return self._starts[start], self._ends[end - 1]
        return _original(self._deleted(), start), _original(self._deleted(), end - 1) + 1

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Normalised):
            return NotImplemented
        return (self.text, self.starts, self.ends) == (other.text, other.starts, other.ends)

    def __hash__(self) -> int:
        return hash((self.text, self.starts, self.ends))

    def __repr__(self) -> str:
        return f"Normalised(text={self.text!r}, starts={self.starts!r}, ends={self.ends!r})"


def _original(runs: Sequence[tuple[int, int]], i: int) -> int:
    """Where kept character `i` is in the original, given the runs of deleted characters."""
    for a, b in runs:
        if a > i:
            break
        i += b - a
    return i


def normalise(text: str, folding: Folding = DEFAULT) -> Normalised:
    """`text` as matching sees it under `folding` (see the module docstring)."""
    table = _table(folding)
    marked = text.translate(table)
    if _SLOW in marked and _learn(text, marked, folding):
        marked = text.translate(table)
    if _SLOW in marked or _has_gloss(text, folding):
        return _normalise_reference(text, folding)
    return Normalised(marked.replace(_MARK, ""), marked=marked)


def _normalise_reference(text: str, folding: Folding = DEFAULT) -> Normalised:
    """The precise algorithm, one character at a time (what `normalise` must agree with)."""
    out: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    glosses = (
        [(m.start(), m.end()) for m in _PINYIN.finditer(text.translate(_HALF))]
        if folding.pinyin
        else []
    )
    g = 0
    i = 0
    while i < len(text):
        if g < len(glosses) and glosses[g][0] == i:
            i = glosses[g][1]  # a pinyin gloss left by a web page: not part of what was said
            g += 1
            continue
        for c in _fold_char(text[i], folding):
            out.append(c)
            starts.append(i)
            ends.append(i + 1)
        i += 1
    return Normalised("".join(out), tuple(starts), tuple(ends))


# --- phrases -----------------------------------------------------------------------------------
class PhraseSyntaxError(ValueError):
    """A phrase whose brackets cannot be read; `offset`: where in the phrase."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(f"{message} (at offset {offset})")
        self.message = message
        self.offset = offset


_OPEN = {"(": ")", "（": ")", "[": "]", "［": "]"}  # opening bracket -> closing kind
_CLOSE = {")": ")", "）": ")", "]": "]", "］": "]"}
_BAR = ("|", "｜")
_SPECIAL = re.compile(r"[()（）\[\]［］|｜{]")


def _distinct(variants: list[str], offset: int) -> list[str]:
    out = list(dict.fromkeys(variants))
    if len(out) > MAX_VARIANTS:
        raise PhraseSyntaxError(f"the phrase has more than {MAX_VARIANTS} variants", offset)
    return out


def _sequence(phrase: str, i: int, depth: int) -> tuple[list[str], int]:
    """The variants of the text from `i` to the end of the group (or the phrase)."""
    variants = [""]
    while i < len(phrase):
        c = phrase[i]
        if c in _CLOSE or c in _BAR:
            if depth == 0:
                if c in _BAR:
                    raise PhraseSyntaxError(
                        f"`{c}` outside parentheses: write alternatives as `(a|b)`", i
                    )
                raise PhraseSyntaxError(f"`{c}` closes nothing", i)
            return variants, i
        if c in _OPEN:
            group, j = _group(phrase, i, depth + 1)
            variants = _distinct([v + g for v in variants for g in group], i)
            i = j
            continue
        if c == "{":
            close = phrase.find("}", i)
            j = close + 1 if close >= 0 else i + 1  # `{` without `}`: a character like others
        else:
            m = _SPECIAL.search(phrase, i + 1)
            j = m.start() if m else len(phrase)
        variants = [v + phrase[i:j] for v in variants]
        i = j
    return variants, i


def _group(phrase: str, i: int, depth: int) -> tuple[list[str], int]:
    """The variants of the group opening at `i`, and where it ends."""
    if depth > _MAX_DEPTH:
        raise PhraseSyntaxError(f"brackets nested more than {_MAX_DEPTH} deep", i)
    opener = phrase[i]
    alternatives: list[list[str]] = []
    k = i + 1
    while True:
        variants, k = _sequence(phrase, k, depth)
        alternatives.append(variants)
        if k >= len(phrase):
            raise PhraseSyntaxError(f"`{opener}` is never closed", i)
        c = phrase[k]
        if c in _BAR:
            k += 1
            continue
        if _CLOSE[c] != _OPEN[opener]:
            raise PhraseSyntaxError(f"`{opener}` closed by `{c}`", k)
        break
    flat = [v for alt in alternatives for v in alt]
    if _OPEN[opener] == ")" and len(alternatives) == 1:  # literal parentheses
        return [opener + v + phrase[k] for v in flat], k + 1
    if all(not v.strip() for v in flat):
        raise PhraseSyntaxError(f"`{opener}{phrase[k]}` holds no words", i)
    if _OPEN[opener] == "]":
        flat.append("")
    return _distinct(flat, i), k + 1


def expand(phrase: str) -> tuple[str, ...]:
    """The variants `phrase` stands for: `[optional]` parts and `(a|b)` alternatives.

    >>> expand("请[您](稍等|稍候)")
    ('请您稍等', '请您稍候', '请稍等', '请稍候')
    """
    if _SPECIAL.search(phrase) is None:
        return (phrase,)
    variants, _ = _sequence(phrase, 0, 0)
    return tuple(variants)


@functools.lru_cache(maxsize=4096)
def _pattern(variant: str, folding: Folding) -> tuple[tuple[str, ...], bool, bool]:
    """A variant's literal pieces, and whether a placeholder comes before the first one and
    after the last one."""
    parts = [normalise(x, folding).text for x in _PLACEHOLDER.split(variant)]
    kept = [k for k, p in enumerate(parts) if p]
    if not kept:
        return (), False, False
    return tuple(parts[k] for k in kept), kept[0] > 0, kept[-1] < len(parts) - 1


def segments(phrase: str, folding: Folding = DEFAULT) -> tuple[str, ...]:
    """A phrase's literal pieces, normalised; placeholders separate them.  (Brackets are
    read as punctuation: give it one variant of `expand`.)"""
    return _pattern(phrase, folding)[0]


def placeholder_problems(phrase: str) -> list[str]:
    """What is wrong with the placeholders of `phrase` (of any of its variants), in words."""
    try:
        variants = expand(phrase)
    except PhraseSyntaxError:
        variants = (phrase,)
    problems: list[str] = []
    for variant in variants:
        holders = _PLACEHOLDER.findall(variant)
        if not holders:
            continue
        parts = [normalise(x).text for x in _PLACEHOLDER.split(variant)]
        if not any(parts):
            problems.append(f"`{variant}` is made only of placeholders: there is nothing to match")
            continue
        for k in range(1, len(parts) - 1):
            if not parts[k]:
                problems.append(
                    f"placeholders `{holders[k - 1]}` and `{holders[k]}` have no words between "
                    "them: write one placeholder"
                )
    return list(dict.fromkeys(problems))


# --- matching ----------------------------------------------------------------------------------
@attrs.frozen
class Match:
    set: str  # the phrase set
    phrase: str  # the phrase as written in the policy
    start: int  # span in the original text
    end: int


def _match_maker() -> Callable[[tuple[str, str], int, int], Match]:
    """`Match(set, phrase, start, end)` from `((set, phrase), start, end)`.  attrs' frozen
    `__init__` sets each field with `object.__setattr__`; setting the slots directly makes the
    same objects about twice as fast, which counts when a turn has many matches."""
    slots = [Match.__dict__.get(f.name) for f in attrs.fields(Match)]
    if not all(isinstance(s, types.MemberDescriptorType) for s in slots):  # pragma: no cover
        return lambda names, start, end: Match(*names, start, end)
    new = object.__new__
    set_set, set_phrase, set_start, set_end = (s.__set__ for s in slots)  # type: ignore[union-attr]

    def make(names: tuple[str, str], start: int, end: int) -> Match:
        match = new(Match)
        set_set(match, names[0])
        set_phrase(match, names[1])
        set_start(match, start)
        set_end(match, end)
        return match

    return make


_match = _match_maker()


class Matcher:
    """All phrases of all sets, matched in one pass over each text (or batch of texts).

    Each phrase is expanded (`expand`; a phrase whose brackets cannot be read is taken
    literally, the checker reports it) and every variant is matched; matches are reported under
    the phrase as written, sorted by start, then longest first, then set and phrase.  The
    literal pieces are found by one of `csdsl.phrase_engines` (`engine`: a name, else
    `CSDSL_MATCHER`, else the faster one installed); every engine gives the same hits.
    """

    def __init__(
        self,
        phrase_sets: Mapping[str, Sequence[str]],
        folding: Folding = DEFAULT,
        engine: str | None = None,
    ) -> None:
        self.folding = folding
        self._table = _table(folding)
        self._pinyin = folding.pinyin
        written = [(name, phrase) for name, phrases in phrase_sets.items() for phrase in phrases]
        # each phrase as written gets a rank, its place in the order matches are reported in
        order = sorted(range(len(written)), key=lambda i: (*written[i], i))
        rank_of = {entry: rank for rank, entry in enumerate(order)}
        self._names = [written[entry] for entry in order]  # rank -> (set, phrase)
        # the variants with placeholders, or with more than one piece: (rank, pattern)
        self._patterns: list[tuple[int, tuple[str, ...], bool, bool]] = []
        simple: dict[str, dict[int, None]] = {}  # segment -> ranks it is the whole of
        first: dict[str, list[int]] = {}  # segment -> patterns it is the first piece of
        for entry, (_name, phrase) in enumerate(written):
            rank = rank_of[entry]
            try:
                variants = expand(phrase)
            except PhraseSyntaxError:
                variants = (phrase,)
            for pattern in dict.fromkeys(_pattern(v, folding) for v in variants):
                segs, lead, trail = pattern
                if not segs:
                    continue
                if len(segs) == 1 and not lead and not trail:
                    simple.setdefault(segs[0], {})[rank] = None
                    continue
                first.setdefault(segs[0], []).append(len(self._patterns))
                self._patterns.append((rank, *pattern))
        # the engine's value for a segment: (length - 1, the ranks it is the whole pattern of)
        # (most), and for the first piece of patterns, the patterns too
        values: dict[str, tuple[Any, ...]] = {}
        for seg in simple.keys() | first.keys():
            ranks = tuple(simple.get(seg, ()))
            patterns = tuple(first.get(seg, ()))
            values[seg] = (len(seg) - 1, ranks, patterns) if patterns else (len(seg) - 1, ranks)
        # texts of a batch are joined by a character that the fold keeps as it is and that no
        # segment holds: no occurrence spans two texts, and the folded batch splits at it
        self._sep = next(c for c in _separators(folding) if not any(c in s for s in values))
        self.engine = phrase_engines.engine_name(engine)
        self._engine = phrase_engines.build(values, self.engine) if values else None

    @property
    def phrases(self) -> int:
        """How many phrases (as written) the matcher knows: their ranks are 0 to this - 1."""
        return len(self._names)

    def name(self, rank: int) -> tuple[str, str]:
        """The `(set, phrase)` of a rank."""
        return self._names[rank]

    def scan(self, text: str) -> Scan:
        """Every occurrence in `text` as a hit table (`Scan`) in *normalised* positions, with
        the map back to the original worked out only for the hits asked about (`Scan.span`).
        The fast path of rule evaluation: most hits never need their original span."""
        return self.scan_many((text,))

    def scan_many(self, texts: Sequence[str]) -> Scan:
        """One hit table for a batch of texts (a transcript's turns): the texts are folded
        together and matched in one pass, no occurrence spanning two of them."""
        sep = self._sep
        raw = sep.join(texts)
        # one character for each of `raw`'s; and without the deleted ones (`csdsl._scanner`'s
        # fold gives both in one pass, where it was built; an ASCII batch it leaves to
        # `str.translate`, which has its own fast path for ASCII)
        fast = None if _fold is None else _fold(raw, self._table, _MARK, _SLOW)
        if fast is None:
            marked = raw.translate(self._table)
            slow = _SLOW in marked
        else:
            marked, folded, slow = fast
        norms: dict[int, Normalised] = {}
        if slow or (self._pinyin and ("(" in raw or "（" in raw)):
            pieces = []
            for k, (text, mark) in enumerate(zip(texts, _cut(marked, texts), strict=True)):
                if _SLOW in mark or _has_gloss(text, self.folding):
                    norms[k] = normalise(text, self.folding)
                    pieces.append(norms[k].text)
                else:
                    pieces.append(mark.replace(_MARK, ""))
            folded = sep.join(pieces)
        else:
            if fast is None:
                folded = marked.replace(_MARK, "")
            pieces = folded.split(sep)
            if len(pieces) != len(texts):  # no texts, a text holding the separator, or a
                # separator the fold deletes: the texts one by one
                pieces = [mark.replace(_MARK, "") for mark in _cut(marked, texts)]
                folded = sep.join(pieces)
        # where each text starts in `folded` (one separator after each), and (last) one past
        # the end of the batch
        starts = [0, *map(operator.add, itertools.accumulate(map(len, pieces)), itertools.count(1))]
        scan = Scan(self._names, starts, texts, marked, norms)
        if self._engine is not None and folded:
            scan._flat, others = self._engine.scan(folded)
            if others:
                scan._others = self._others(others, folded, starts)
        return scan

    def _others(
        self, others: list[tuple[int, Any]], folded: str, starts: list[int]
    ) -> list[Occurrence]:
        """The hits of the first pieces of patterns with placeholders (or of several pieces),
        followed to the end of the pattern, and of those pieces themselves, as occurrences
        `(last, (length - 1, ranks))`."""
        found: list[Occurrence] = []
        for last, (length, ranks, patterns) in others:
            if ranks:
                found.append((last, (length, ranks)))
            start = last - length
            k = bisect.bisect_right(starts, start) - 1
            for index in patterns:
                self._chain(folded, start, index, found, starts[k], starts[k + 1] - 1)
        return found

    def find(self, text: str) -> list[Match]:
        """Every phrase occurrence in `text`, leftmost first; spans are in `text` itself."""
        scan = self.scan(text)
        spans = [(*scan.span(a, -b), r) for a, b, r in scan.hits]
        if scan.reordered:  # a character that folds to several: the order can differ
            spans.sort(key=lambda x: (x[0], -x[1], x[2]))
        names = self._names
        return [_match(names[r], a, b) for a, b, r in spans]

    def _chain(
        self,
        folded: str,
        start: int,
        index: int,
        found: list[Occurrence],
        lo: int,
        hi: int,
    ) -> None:
        """From an occurrence of a pattern's first piece, the shortest chain of the others in
        order, each gap at most `PLACEHOLDER_MAX` characters; a placeholder at an edge needs a
        character there.  The text the occurrence is in is `folded[lo:hi]`.  Added to `found`
        if there is one."""
        rank, segs, lead, trail = self._patterns[index]
        if lead and start == lo:
            return
        pos = start + len(segs[0])
        for seg in segs[1:]:
            at = folded.find(seg, pos, min(pos + PLACEHOLDER_MAX + len(seg), hi))
            if at < 0:
                return
            pos = at + len(seg)
        if trail and pos >= hi:
            return
        found.append((pos - 1, (pos - 1 - start, (rank,))))


def _cut(marked: str, texts: Sequence[str]) -> list[str]:
    """`marked` (the texts joined by one character, then translated one character for one)
    cut back into the texts' translations."""
    out = []
    at = 0
    for text in texts:
        out.append(marked[at : at + len(text)])
        at += len(text) + 1
    return out


def _separators(folding: Folding) -> Iterator[str]:
    """Characters a batch's texts can be joined by, best first: Yi syllables (letters of no
    case, that NFKC and OpenCC leave alone) that `folding` keeps as they are, then any."""
    for c in map(chr, range(0xA000, 0xA48D)):
        if normalise(c, folding).text == c:
            yield c
    yield from map(chr, itertools.count(2))  # deleted by the fold: texts are joined one by one


_Hit = tuple[int, int, int]
Occurrence = tuple[int, tuple[int, tuple[int, ...]]]  # (last, (length - 1, ranks))
Hits = Sequence[Any]  # one text's hits, flat: last, (length - 1, ranks), last, ... (`Scan.texts`)


class Scan:
    """The hits of a batch of texts (`Matcher.scan_many`; one text: `Matcher.scan`).

    Positions are those of the batch's folded text: the texts folded and joined by one
    separator character, text `k` from `starts[k]` to `starts[k + 1] - 1`.  `texts()`: the hit
    table text by text, as the rules read it (each text's hits, flat, in the order of their
    last character); `hits`: every hit as `(start, -end, rank)`, sorted (worked out when first
    read); `name(rank)` is the `(set, phrase)` a hit is of; `turn(start)` the text a hit is in;
    `span(start, end)` the span of that text's original that the folded `[start, end)` came
    from (worked out only for the hits asked about); `table()` the hits text by text in each
    text's own folded positions, sorted.
    """

    __slots__ = (
        "_flat",
        "_hits",
        "_maps",
        "_marked",
        "_marks",
        "_names",
        "_norms",
        "_others",
        "_raw",
        "_texts",
        "starts",
    )

    def __init__(
        self,
        names: Sequence[tuple[str, str]],
        starts: list[int],
        raw: Sequence[str],
        marked: str,
        norms: dict[int, Normalised],
    ) -> None:
        self._names = names
        self.starts = starts
        self._raw = raw  # the texts
        self._marked = marked  # the texts joined by one character, translated (`_cut`)
        self._marks: list[str] | None = None  # `_marked` text by text, when first needed
        self._norms = norms
        self._maps: dict[int, list[int] | None] = {}
        # the engine's occurrences of simple pieces, flat: last, (length - 1, ranks), last, ...
        self._flat: phrase_engines.Flat = _NONE
        self._others: list[Occurrence] = _NONE  # the hits of the other pieces, `_others`
        self._hits: list[_Hit] | None = None
        self._texts: list[Hits] | None = None

    @property
    def hits(self) -> list[_Hit]:
        if self._hits is None:
            flat = self._flat
            pairs = zip(flat[0::2], flat[1::2], strict=True)
            hits = [(last - n, ~last, rank) for last, (n, ranks) in pairs for rank in ranks]
            if self._others:  # a span can be found through two variants of a phrase
                more = [(last - n, ~last, r) for last, (n, ranks) in self._others for r in ranks]
                hits = list(set(hits).union(more))
            hits.sort()
            self._hits = hits
        return self._hits

    def texts(self) -> list[Hits]:
        """The hit table text by text: for each text of the batch, its hits, each once, flat:
        `last, (length - 1, ranks), last, ...` (no tuple for each hit: `hits[0::2]` are the
        last characters, `hits[1::2]` the lengths less one and the ranks of the phrases found
        there, usually one; the hit is `[last - length + 1, last + 1)` in the batch's folded
        positions), in the order of their last character.  Worked out once, per text rather
        than per hit: the engine's list (already in that order) is cut at the texts'
        boundaries.  The lists are the table's own: do not change them."""
        if self._texts is None:
            flat = self._flat
            starts = self.starts
            texts: list[Hits]
            if len(starts) == 2:
                texts = [flat]
            else:
                lasts = flat[0::2]
                cuts = list(map(bisect.bisect_left, itertools.repeat(lasts), starts))
                texts = [
                    flat[a + a : b + b] if a != b else _NONE for a, b in itertools.pairwise(cuts)
                ]
            if self._others:
                self._merge_others(texts)
            self._texts = texts
        return self._texts

    def _merge_others(self, texts: list[Hits]) -> None:
        """Put the hits worked out in Python in their texts' lists, in order, each once (a
        span can be found through two variants of a phrase)."""
        extra: dict[int, list[Occurrence]] = {}
        after = bisect.bisect_right
        starts = self.starts
        for last, value in self._others:
            k = after(starts, last) - 1
            hits = texts[k]
            lasts = hits[0::2]
            at = bisect.bisect_left(lasts, last)
            if at < len(lasts) and lasts[at] == last:  # perhaps a hit twice: see below
                extra.setdefault(k, []).append((last, value))
            else:  # (most) no other hit ends there
                texts[k] = [*hits[: at + at], last, value, *hits[at + at :]]
        for k, more in extra.items():
            hits = texts[k]
            pairs: list[Occurrence] = [*zip(hits[0::2], hits[1::2], strict=True), *more]
            once = {(last, n, rank) for last, (n, ranks) in pairs for rank in ranks}
            if len(once) != sum(len(value[1]) for _, value in pairs):  # a hit twice
                pairs = [(last, (n, (rank,))) for last, n, rank in once]
            pairs.sort(key=_LAST)
            texts[k] = list(itertools.chain.from_iterable(pairs))

    @property
    def reordered(self) -> bool:
        """True when a text took the precise path: its hits' original spans may not be in the
        order of their folded positions."""
        return bool(self._norms)

    def name(self, rank: int) -> tuple[str, str]:
        return self._names[rank]

    def turn(self, start: int) -> int:
        """The text (its index in the batch) the hit starting at `start` is in."""
        return bisect.bisect_right(self.starts, start) - 1

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The span, in its own text, of the original of the folded `[start, end)`."""
        k = self.turn(start)
        base = self.starts[k]
        start -= base
        end -= base
        norm = self._norms.get(k)
        if norm is not None:
            return norm.span(start, end)
        if k not in self._maps:
            if self._marks is None:
                self._marks = _cut(self._marked, self._raw)
            chunks = self._marks[k].split(_MARK)
            self._maps[k] = (
                list(itertools.accumulate(map(len, chunks))) if len(chunks) > 1 else None
            )
        ends = self._maps[k]
        if ends is None:  # nothing was deleted: the positions are the original ones
            return start, end
        # the j-th kept character is in chunk c = bisect_right(ends, j); one deleted character
        # comes before each chunk but the first, so it is at j + c in the original
        after = bisect.bisect_right
        c = after(ends, start)
        return start + c, end + (c if end <= ends[c] else after(ends, end - 1))

    def table(self) -> list[tuple[int, int, int, int]]:
        """The hits as `(text, start, end, rank)`, positions in that text's folded form."""
        out = []
        for a, b, rank in self.hits:
            k = self.turn(a)
            out.append((k, a - self.starts[k], -b - self.starts[k], rank))
        return out


_NONE: Any = ()  # no hits (shared)
_LAST = operator.itemgetter(0)

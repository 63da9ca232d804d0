"""The literal multi-pattern engines behind `phrases.Matcher`, chosen at run time.

In: the literal pieces of every phrase (already folded), each with a value - `(length - 1,
ranks)`, the phrases the piece is the whole pattern of (a "simple" piece), or `(length - 1,
ranks, patterns)` for the first piece of patterns with placeholders or several pieces - and
folded texts.  Out: `Engine.scan(text)`: every occurrence of every piece in `text`, overlapping
ones included: those of the simple pieces as one flat list, `last, value, last, value, ...`
(`last`: the index of the occurrence's last character), in the order of `last` - no tuple for
each occurrence, which the garbage collector would count - and those of the other pieces as
`(last, value)` pairs, for the matcher to work out.

Two engines give the same occurrences:
- `aho`: pyahocorasick's Aho-Corasick automaton (a base dependency: the portable default); its
  iterator's pairs are flattened in C as they come;
- `hyperscan`: Intel's Hyperscan (the `fast` extra, `pip install 'csdsl[fast]'`, x86-64 only).
  Hyperscan reads bytes: a text of the BMP alone (almost every one) is given to it as UTF-16,
  one code point in two bytes, against the pieces of the BMP; any other text as UTF-32, against
  every piece (compiled when first needed); lone surrogates are code points like others
  (`surrogatepass`), and a match whose end is not on a code point's boundary is not one.
  Hyperscan calls back into Python for every occurrence: the callback does as little as it can
  (the boundary test, two appends).  Hyperscan does not promise the order of its callbacks
  (they came in the order of their end in every measurement): the list is checked, and sorted
  if it is not.

`engine_name()` says which one a matcher uses: `CSDSL_MATCHER=aho|hyperscan` forces one
(`hyperscan` when it is not installed is an error that says so); otherwise (`auto`) Hyperscan
when it is installed, else pyahocorasick.  Measured in four runs, interleaved, CPU time, on a
shared 2-core machine (benchmarks/bench_phrases.py, 5 MB, load average 1.0-1.7;
`phrases-20261207T2221*`-`2237*.json`), csdsl per call with Hyperscan / with pyahocorasick:
33.8 / 34.8, 34.2 / 33.7, 29.9 / 36.3 and 38.2 / 36.8 MB/s at 53 pieces; 29.3 / 25.8,
25.4 / 22.8, 37.1 / 29.8 and 23.5 / 18.1 at 503; 16.5 / 19.0, 21.8 / 23.1, 23.9 / 14.2 and
15.7 / 14.4 at 5,003.  Hyperscan was ahead at 503 pieces in every run; at 53 and 5,003 each was
ahead in some (pyahocorasick slows down as the automaton grows - it looks up a node's children
one by one - while Hyperscan pays a Python call for each occurrence, and 5,003 pieces make 33k
occurrences a MB).  Through every rule of policies/hotline_qa.csp (418 pieces) the two were
within the noise.  The checker's own phrase-in-phrase check (`csdsl check`) asks for
pyahocorasick: it builds a small matcher per rule and matches the phrases themselves, where
importing Hyperscan and compiling its databases would cost more than they save.
"""

from __future__ import annotations

import itertools
import operator
import os
from collections.abc import Mapping
from typing import Any, Protocol

__all__ = [
    "ENGINES",
    "Engine",
    "EngineError",
    "Flat",
    "build",
    "engine_name",
    "installed",
]

ENGINES = ("aho", "hyperscan")
_LAST = operator.itemgetter(0)


class EngineError(ValueError):
    """An engine asked for by name that cannot be used (unknown, or not installed)."""


Occurrences = list[tuple[int, Any]]  # (last, value)
Flat = list[Any]  # last, value, last, value, ...: one list, no tuple for each occurrence


class Engine(Protocol):
    name: str

    def scan(self, text: str) -> tuple[Flat, Occurrences]: ...


class AhoEngine:
    """pyahocorasick's automaton."""

    name = "aho"

    def __init__(self, pieces: Mapping[str, Any]) -> None:
        import ahocorasick

        self._automaton = ahocorasick.Automaton()
        self._others = any(len(value) != 2 for value in pieces.values())
        for piece, value in pieces.items():
            self._automaton.add_word(piece, value)
        self._automaton.make_automaton()

    def scan(self, text: str) -> tuple[Flat, Occurrences]:
        # the iterator's pairs flattened in C: each pair is freed at once
        flat = list(itertools.chain.from_iterable(self._automaton.iter(text)))
        return _split(flat) if self._others else (flat, [])


class HyperscanEngine:
    """Hyperscan over the UTF-16 form of the text (UTF-32 for a text beyond the BMP)."""

    name = "hyperscan"

    def __init__(self, pieces: Mapping[str, Any]) -> None:
        # longest first: Hyperscan reports the occurrences ending at one place by id, in the
        # order pyahocorasick reports them
        order = sorted(pieces, key=lambda piece: -len(piece))
        self._order = order
        self._values = [pieces[piece] for piece in order]
        self._others = any(len(value) != 2 for value in self._values)
        # a text of the BMP alone (most) is read as UTF-16, two bytes a code point; the pieces
        # beyond it cannot be in such a text
        self._bmp = _database(
            {k: piece for k, piece in enumerate(order) if max(piece) <= "\uffff"}, 2
        )
        self._any: Any = None  # every piece as UTF-32, built for the first text beyond the BMP

    def scan(self, text: str) -> tuple[Flat, Occurrences]:
        data = text.encode("utf-16-le", "surrogatepass")  # a lone surrogate: one code point
        db = self._bmp
        wide = len(data) != 2 * len(text)
        if wide:
            data = text.encode("utf-32-le", "surrogatepass")
            if self._any is None:
                self._any = _database(dict(enumerate(self._order)), 4)
            db = self._any
        flat: Flat = []
        if db is None:
            return flat, []
        values = self._values
        add = flat.append

        # called from C for every occurrence: it does as little as it can (an end off a code
        # point's boundary is not an occurrence)
        def on_match(index: int, _start: int, end: int, _flags: int, _context: object) -> None:
            if not end & 1:
                add((end >> 1) - 1)
                add(values[index])

        def on_wide_match(index: int, _start: int, end: int, _flags: int, _ctx: object) -> None:
            if not end & 3:
                add((end >> 2) - 1)
                add(values[index])

        db.scan(data, match_event_handler=on_wide_match if wide else on_match)
        lasts = flat[0::2]
        if lasts != sorted(lasts):  # Hyperscan does not promise the order (nor was it seen out
            # of order: this only checks)
            pairs = sorted(zip(lasts, flat[1::2], strict=True), key=_LAST)
            flat = list(itertools.chain.from_iterable(pairs))
        return _split(flat) if self._others else (flat, [])


def _split(flat: Flat) -> tuple[Flat, Occurrences]:
    """The occurrences of simple pieces (`flat`, changed in place), and those of the others
    (their values have 3 items: few, found by C searches rather than a pass in Python)."""
    sizes = list(map(len, flat[1::2]))
    at: list[int] = []
    k = -1
    while True:  # each search from the last one found: no copy of the list
        try:
            k = sizes.index(3, k + 1)
        except ValueError:
            break
        at.append(k)
    if not at:  # (most)
        return flat, []
    others = [(flat[k + k], flat[k + k + 1]) for k in at]
    for k in reversed(at):
        del flat[k + k : k + k + 2]
    return flat, others


def _database(pieces: Mapping[int, str], width: int) -> Any:
    """A Hyperscan database of `pieces` (id -> piece) as UTF-16 (`width` 2) or UTF-32 (4)
    bytes, or None when there is none."""
    if not pieces:
        return None
    hyperscan = _hyperscan()
    codec = "utf-16-le" if width == 2 else "utf-32-le"
    db = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
    db.compile(
        expressions=[
            "".join(f"\\x{b:02x}" for b in piece.encode(codec, "surrogatepass")).encode()
            for piece in pieces.values()
        ],
        ids=list(pieces),
        elements=len(pieces),
        flags=0,
    )
    return db


def _hyperscan() -> Any:
    try:
        import hyperscan
    except ImportError:
        raise EngineError(
            "the hyperscan engine needs the `hyperscan` package: pip install 'csdsl[fast]'"
        ) from None
    return hyperscan


def installed(name: str) -> bool:
    """Whether engine `name` can be used here."""
    if name == "hyperscan":
        try:
            _hyperscan()
        except EngineError:
            return False
    return name in ENGINES


def engine_name(wanted: str | None = None) -> str:
    """The engine a matcher uses: `wanted`, else `CSDSL_MATCHER`, else the faster one
    installed."""
    choice = (wanted or os.environ.get("CSDSL_MATCHER") or "auto").strip().lower()
    if choice == "auto":
        return "hyperscan" if installed("hyperscan") else "aho"
    if choice not in ENGINES:
        raise EngineError(
            f"unknown phrase matching engine `{choice}` (CSDSL_MATCHER): "
            f"one of {', '.join(ENGINES)} or auto"
        )
    return choice


def build(pieces: Mapping[str, Any], name: str) -> Engine:
    """The engine `name` over `pieces` (piece -> the value `iter` reports it with)."""
    if name == "hyperscan":
        return HyperscanEngine(pieces)
    return AhoEngine(pieces)

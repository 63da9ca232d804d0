"""The literal multi-pattern engines behind `phrases.Matcher`, chosen at run time.

In: the literal pieces of every phrase (already folded), each with a value - `(length - 1,
ranks)`, the phrases the piece is the whole pattern of (a "simple" piece), or `(length - 1,
ranks, patterns)` for the first piece of patterns with placeholders or several pieces - and
folded texts.  Out: `Engine.scan(text)`: every occurrence of every piece in `text`, overlapping
ones included: those of the simple pieces as one flat list, `last, value, last, value, ...`
(`last`: the index of the occurrence's last character), in the order of `last` - no tuple for
each occurrence, which the garbage collector would count - and those of the other pieces as
`(last, value)` pairs, for the matcher to work out.

Three engines give the same occurrences:
- `native`: csdsl's own Aho-Corasick automaton over code points, in C (`csdsl._scanner`,
  compiled from src/csdsl/_scanner.c when csdsl is installed, where a C compiler and the Python
  headers are; see hatch_build.py).  It hands over both lists built in C, so no Python code runs
  for an occurrence;
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

`engine_name()` says which one a matcher uses: `CSDSL_MATCHER=native|aho|hyperscan` forces one
(one that is not installed or built is an error that says so); otherwise (`auto`) the first of
`native`, `hyperscan`, `aho` that is there.  Measured in one run on a quiet 2-core machine
(benchmarks/bench_phrases.py, 5 MB, CPU time, `phrases-20261208T015358Z.json`; the C fold in
all three), csdsl per call with native / Hyperscan / pyahocorasick: 27.6 / 18.8 / 21.8 MB/s at
50 phrases, 33.5 / 20.5 / 16.2 at 500, 30.9 / 13.5 / 15.6 at 5,000 (with Hyperscan the Python
call for each occurrence costs most at 5,000 phrases, 33k occurrences a MB; pyahocorasick looks
up a node's children one by one, and slows down as the automaton grows).  The checker's own
phrase-in-phrase check (`csdsl check`) asks for pyahocorasick: it builds a small matcher per
rule and matches the phrases themselves, where the choice of engine does not matter.
"""

from __future__ import annotations

import importlib
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

ENGINES = ("native", "aho", "hyperscan")
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


class NativeEngine:
    """csdsl's own Aho-Corasick automaton, in C (`csdsl._scanner`, built with the package)."""

    name = "native"

    def __init__(self, pieces: Mapping[str, Any]) -> None:
        values = list(pieces.values())
        others = [len(value) != 2 for value in values]
        self._automaton = _scanner().Automaton(list(pieces), values, others)

    def scan(self, text: str) -> tuple[Flat, Occurrences]:
        found: tuple[Flat, Occurrences] = self._automaton.scan(text)  # in order, from C
        return found


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


def _scanner() -> Any:
    try:  # (through sys.modules, where a test can hide it)
        _scanner = importlib.import_module("csdsl._scanner")
    except ImportError:
        raise EngineError(
            "the native engine (csdsl._scanner) was not built with this install: reinstall "
            "csdsl where a C compiler and the Python headers are present"
        ) from None
    return _scanner


def c_fold() -> Any:
    """`csdsl._scanner.fold` (the fold of `phrases.Matcher.scan_many` in C), or None where the
    module was not built with this install."""
    try:
        return _scanner().fold
    except EngineError:
        return None


def installed(name: str) -> bool:
    """Whether engine `name` can be used here."""
    try:
        if name == "hyperscan":
            _hyperscan()
        elif name == "native":
            _scanner()
    except EngineError:
        return False
    return name in ENGINES


def engine_name(wanted: str | None = None) -> str:
    """The engine a matcher uses: `wanted`, else `CSDSL_MATCHER`, else the faster one
    installed."""
    choice = (wanted or os.environ.get("CSDSL_MATCHER") or "auto").strip().lower()
    if choice == "auto":
        return next(name for name in ("native", "hyperscan", "aho") if installed(name))
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
    if name == "native":
        return NativeEngine(pieces)
    return AhoEngine(pieces)

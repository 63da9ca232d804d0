"""The literal multi-pattern engines behind `phrases.Matcher`, chosen at run time.

In: the literal pieces of every phrase (already folded), each with a value - `(length - 1,
rank)` for a piece that is one phrase's whole pattern (a "simple" piece), a longer tuple for the
rest - and folded texts.  Out: `Engine.scan(text)`: every occurrence of every piece in `text`,
overlapping ones included, as `(last, value)` pairs (`last`: the index of its last character),
in two lists, each in the order of `last`: the occurrences of simple pieces (built in C where
the engine can), and those of the other pieces, for the matcher to work out (placeholders,
pieces of several phrases).

Two engines give the same occurrences:
- `aho`: pyahocorasick's Aho-Corasick automaton (a base dependency: the portable default);
- `hyperscan`: Intel's Hyperscan (the `fast` extra, `pip install 'csdsl[fast]'`, x86-64 only).
  Hyperscan reads bytes, so the text is given to it as UTF-32 (one code point, four bytes; a
  match whose end is not on a code point's boundary is not one), and each piece is compiled as
  the escaped bytes of its UTF-32 form.

`engine_name(pieces)` says which one a matcher uses: `CSDSL_MATCHER=aho|hyperscan` forces one
(`hyperscan` when it is not installed is an error that says so); otherwise (`auto`) Hyperscan
when it is installed and the matcher has at least `HYPERSCAN_FROM` pieces, else pyahocorasick.
Hyperscan scans faster, but calls back into Python for each occurrence, where pyahocorasick's
iterator hands them over in C; pyahocorasick slows down as the automaton grows.  Measured on a
loaded 2-core machine, interleaved (benchmarks/bench_phrases.py, three runs): pyahocorasick was
faster at 53 pieces in all three (1.1-1.6x), Hyperscan at 503 pieces in all three (1.1-1.5x)
and at 5,003 in two of three; through every rule of policies/hotline_qa.csp (418 pieces),
pyahocorasick was faster in three of four rounds.  (A fourth benchmark run, on a quieter
machine, had Hyperscan faster at all three sizes: the line is not sharp.)
"""

from __future__ import annotations

import itertools
import operator
import os
from collections.abc import Mapping
from typing import Any, Protocol

__all__ = [
    "ENGINES",
    "HYPERSCAN_FROM",
    "Engine",
    "EngineError",
    "Flat",
    "build",
    "engine_name",
    "installed",
]

ENGINES = ("aho", "hyperscan")
HYPERSCAN_FROM = 450  # pieces from which `auto` takes Hyperscan when installed (see above)
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
        if not self._others or 3 not in map(len, flat[1::2]):  # (`3`: an other piece's value)
            return flat, []
        pairs = list(zip(flat[0::2], flat[1::2], strict=True))
        simple = [x for x in pairs if len(x[1]) == 2]
        return list(itertools.chain.from_iterable(simple)), [x for x in pairs if len(x[1]) != 2]


class HyperscanEngine:
    """Hyperscan over the UTF-16 form of the text (UTF-32 for a text beyond the BMP)."""

    name = "hyperscan"

    def __init__(self, pieces: Mapping[str, Any]) -> None:
        # the simple pieces first (an id below `_simple` is one), longest first: Hyperscan
        # reports the occurrences ending at one place by id, as pyahocorasick does
        order = sorted(pieces, key=lambda piece: (len(pieces[piece]) != 2, -len(piece)))
        self._order = order
        self._values = [pieces[piece] for piece in order]
        self._simple = sum(1 for value in self._values if len(value) == 2)
        # a text of the BMP alone (most) is read as UTF-16, two bytes a code point; the pieces
        # beyond it cannot be in such a text
        self._bmp = _database(
            {k: piece for k, piece in enumerate(order) if max(piece) <= "\uffff"}, 2
        )
        self._any: Any = None  # every piece as UTF-32, built for the first text beyond the BMP

    def scan(self, text: str) -> tuple[Flat, Occurrences]:
        data = text.encode("utf-16-le", "surrogatepass")  # a lone surrogate: one code point
        shift = 1
        db = self._bmp
        if len(data) != 2 * len(text):
            data = text.encode("utf-32-le", "surrogatepass")
            shift = 2
            if self._any is None:
                self._any = _database(dict(enumerate(self._order)), 4)
            db = self._any
        flat: Flat = []
        others: Occurrences = []
        if db is None:
            return flat, others
        values = self._values
        simple = self._simple
        add, add_other = flat.append, others.append
        off = (1 << shift) - 1

        # called from C for every occurrence: it does as little as it can
        def on_match(index: int, _start: int, end: int, _flags: int, _context: object) -> None:
            if not end & off:  # else the end is not on a code point's boundary
                if index < simple:
                    add((end >> shift) - 1)
                    add(values[index])
                else:
                    add_other(((end >> shift) - 1, values[index]))

        db.scan(data, match_event_handler=on_match)
        lasts = flat[0::2]
        if lasts != sorted(lasts):  # Hyperscan does not promise the order (nor was it seen out
            # of order: this only checks)
            pairs = sorted(zip(lasts, flat[1::2], strict=True), key=_LAST)
            flat = list(itertools.chain.from_iterable(pairs))
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


def engine_name(pieces: int, wanted: str | None = None) -> str:
    """The engine a matcher of `pieces` literal pieces uses: `wanted`, else `CSDSL_MATCHER`,
    else the one installed that is faster for that many."""
    choice = (wanted or os.environ.get("CSDSL_MATCHER") or "auto").strip().lower()
    if choice == "auto":
        return "hyperscan" if pieces >= HYPERSCAN_FROM and installed("hyperscan") else "aho"
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

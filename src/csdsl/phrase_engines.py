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

import operator
import os
from collections.abc import Mapping
from typing import Any, Protocol

__all__ = [
    "ENGINES",
    "HYPERSCAN_FROM",
    "Engine",
    "EngineError",
    "build",
    "engine_name",
    "installed",
]

ENGINES = ("aho", "hyperscan")
HYPERSCAN_FROM = 450  # pieces from which `auto` takes Hyperscan when installed (see above)
_FIRST = operator.itemgetter(0)


class EngineError(ValueError):
    """An engine asked for by name that cannot be used (unknown, or not installed)."""


Occurrences = list[tuple[int, Any]]  # (last, value)


class Engine(Protocol):
    name: str

    def scan(self, text: str) -> tuple[Occurrences, Occurrences]: ...


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

    def scan(self, text: str) -> tuple[Occurrences, Occurrences]:
        found = list(self._automaton.iter(text))
        if not self._others:
            return found, []
        return [x for x in found if len(x[1]) == 2], [x for x in found if len(x[1]) != 2]


class HyperscanEngine:
    """Hyperscan over the UTF-32 form of the text."""

    name = "hyperscan"

    def __init__(self, pieces: Mapping[str, Any]) -> None:
        hyperscan = _hyperscan()
        # the simple pieces first: an id below `_simple` is one
        order = sorted(pieces, key=lambda piece: len(pieces[piece]) != 2)
        self._values = [pieces[piece] for piece in order]
        self._simple = sum(1 for value in self._values if len(value) == 2)
        expressions = [
            "".join(f"\\x{b:02x}" for b in piece.encode("utf-32-le")).encode("ascii")
            for piece in order
        ]
        self._db = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
        self._db.compile(
            expressions=expressions,
            ids=list(range(len(expressions))),
            elements=len(expressions),
            flags=0,
        )

    def scan(self, text: str) -> tuple[Occurrences, Occurrences]:
        found: Occurrences = []
        others: Occurrences = []
        values = self._values
        simple = self._simple
        add, add_other = found.append, others.append

        def on_match(index: int, _start: int, end: int, _flags: int, _context: object) -> None:
            if not end & 3:  # on a code point's boundary (else not an occurrence)
                (add if index < simple else add_other)(((end >> 2) - 1, values[index]))

        self._db.scan(text.encode("utf-32-le"), match_event_handler=on_match)
        if len(found) > 1:
            found.sort(key=_FIRST)
        if len(others) > 1:
            others.sort(key=_FIRST)
        return found, others


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

"""The one module that reads the grammar.

In: `grammar/csp.lark` (the copy shipped in the wheel as `csdsl/_grammar/csp.lark`, or, in a
source checkout, the repository's `grammar/csp.lark`).  Out: a cached LALR `Lark` parser and the
sets of keywords the error messages need.
"""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lark import Lark

KEYWORDS = frozenset(
    {
        "policy",
        "version",
        "effective",
        "timezone",
        "import",
        "include",
        "record",
        "enum",
        "valid",
        "invalid",
        "when",
        "any",
        "all",
        "unless",
        "example",
        "given",
        "with",
        "expect",
        "because",
        "and",
        "or",
        "not",
        "is",
        "set",
        "missing",
        "in",
        "contains",
        "true",
        "false",
        "calendar",
        "deadline",
        "escalation",
        "phrases",
        "transcript",
        "metric",
        "invariant",
        "rule",
    }
)
# words of the statements inside blocks: offered by "did you mean", but they may still name things
CLAUSE_WORDS = frozenset(
    {
        "open",
        "holidays",
        "closed",
        "working",
        "starts",
        "stops",
        "pauses",
        "resumes",
        "within",
        "otherwise",
        "at",
        "most",
        "warn",
        "before",
        "update",
        "every",
        "reopens",
        "new",
        "cycle",
        "continue",
        "until",
        "roles",
        "breach",
        "of",
        "after",
        "by",
        "next",
        "day",
        "on",
        "for",
        "events",
        "due",
        "to",
        # transcript rules
        "rules",
        "situation",
        "normalise",
        "score",
        "from",
        "severity",
        "points",
        "require",
        "forbid",
        "prefer",
        "over",
        "except",
        "hold",
        "check",
        "while",
        "speech",
        "rate",
        "between",
        "per",
        "minute",
        "call",
        "steps",
        "wait",
        "event",
        "first",
        "last",
        "says",
        "silent",
        "trigger",
        "turn",
        "turns",
        "passes",
        "flags",
        # metrics
        "where",
        # record-level rules
        "least",
        # transcript rules: `no interruptions over 1s`
        "no",
        "interruptions",
        # the vendors' signals: `ignore turns below confidence 0.6`, `require customer
        # sentiment not negative in last 2 turns`
        "ignore",
        "below",
        "confidence",
        "sentiment",
    }
)
TOP_LEVEL = (
    "import",
    "include",
    "record",
    "valid",
    "example",
    "calendar",
    "deadline",
    "escalation",
    "phrases",
    "transcript",
    "metric",
    "invariant",
    "rule",
    "cites",
)


def grammar_path() -> Path:
    """Where the grammar is read from: the installed copy if present, else the source tree.
    (The package's directory is found from this file, not with `importlib.resources`, whose
    import costs a start-up about 15 ms; the grammar was always read as a file.)"""
    here = Path(__file__).resolve()
    packaged = here.parents[1] / "_grammar" / "csp.lark"
    if packaged.is_file():
        return packaged
    return here.parents[3] / "grammar" / "csp.lark"


def grammar_text() -> str:
    return grammar_path().read_text(encoding="utf-8")


@functools.cache
def parser() -> Lark:  # lark is imported here: reading the keywords or the grammar needs none
    """The LALR parser; it keeps every token so that the builder can compute spans.

    Lark can keep its LALR tables on disk (about 100 ms saved a start), but it unpickles that
    file unchecked: left to itself it uses a predictable name in the shared temp directory,
    where another user could plant one (code run as whoever runs csdsl).  The tables are kept
    only in csdsl's own cache directory, which is checked to be yours and writable by no one
    else (`cache.private_file`), under a name holding the grammar's and lark's versions."""
    import lark

    from csdsl import cache

    text = grammar_text()
    tag = hashlib.sha256(f"{text}\0{lark.__version__}".encode()).hexdigest()[:32]
    tables = cache.private_file(f"lark-{tag}.tables")
    return lark.Lark(
        text,
        parser="lalr",
        keep_all_tokens=True,  # spans come from the first and last token of each rule
        maybe_placeholders=True,
        cache=tables if tables is not None else False,
    )

"""Completion: what may be typed at the cursor.

In: the document's text, the cursor (1-based line, code-point column) and the index of the last
build that parsed (names do not move while a line is being typed).  Out: completion items.
The context is read from the text itself, since the line being typed rarely parses: the block
the cursor is in (the nearest line above that starts a top-level clause, and its `for RECORD`,
`valid RECORD` or `given RECORD`) and the words just before the cursor.

- after `FIELD =`, `!=` or `in [`, or `FIELD:` in an example's record: the enum values of that
  field;
- after `says`, `require`, `forbid`, `prefer`, `over`, `except`: phrase-set names;
- after `on` or `calendar` inside a deadline or escalation: calendar names;
- after `for` or `given`: record names;
- after a number: duration units (`24h`, `30m`, `2 working hours`, ...);
- at the start of a top-level line: the top-level keywords; inside a block: the keywords of
  that block and the fields of the record in scope.
"""

from __future__ import annotations

import re

from lsprotocol import types

from csdsl.lsp.index import Index
from csdsl.syntax.grammar import KEYWORDS, TOP_LEVEL

_TOP = re.compile(r"^(" + "|".join(TOP_LEVEL) + r")\b")
_RECORD = re.compile(r"^(?:valid\s+(\w+)|.*?\bfor\s+(\w+)|example\b.*?\bgiven\s+(\w+))")
_GIVEN = re.compile(r"\bgiven\s+(\w+)")
_ENUM = re.compile(r"(\w+)\s*(!=|=|:|\bin\s*\[[^\]]*)\s*\w*$")
_NUMBER = re.compile(r"(?<![\w.])(\d+)$")
_AFTER = re.compile(r"(\w+)\s+\w*$")
_PHRASE_WORDS = {"says", "require", "forbid", "prefer", "over", "except"}
_BLOCK_WORDS = {
    "deadline": (
        "starts at",
        "starts on",
        "stops on",
        "pauses on",
        "resumes on",
        "within",
        "otherwise within",
        "at most",
        "warn at",
        "update every",
        "reopens on",
        "calendar",
        "when",
        "because",
    ),
    "escalation": ("roles", "on breach of", "after", "within", "on"),
    "calendar": ("open", "holidays china", "timezone", "always", "working", "closed"),
    "valid": (
        "when",
        "any",
        "all",
        "unless",
        "and",
        "or",
        "not",
        "is missing",
        "is set",
        "in",
        "contains",
    ),
    "example": ("given", "expect valid", "expect invalid", "because", "events", "missing"),
    "transcript": (
        "require",
        "forbid",
        "prefer",
        "over",
        "except",
        "situation",
        "severity",
        "points",
        "within",
        "agent",
        "customer",
        "says",
        "turns",
        "normalise",
        "score from",
        "hold at most",
        "unless",
        "steps",
    ),
    "rule": ("when", "require", "require at least", "per day", "per week", "severity", "points"),
    "metric": ("count", "mean", "percentile", "where", "by", "and", "or"),
    "invariant": ("valid", "due", "and", "or", "not"),
}
CONTEXT = 200  # characters before the cursor the patterns look at
DURATIONS = ("s", "m", "h", "d", " working hours", " working minutes", " working days")


def _block(lines: list[str], line: int) -> tuple[str | None, str | None]:
    """The top-level keyword of the block holding 1-based `line`, and its record."""
    for n in range(min(line, len(lines)) - 1, -1, -1):
        text = lines[n]
        m = _TOP.match(text)
        if m is None:
            continue
        head = m.group(1)
        record = None
        r = _RECORD.match(text)
        if r is not None:
            record = next((g for g in r.groups() if g), None)
        if record is None and head == "example":
            for later in lines[n:line]:
                g = _GIVEN.search(later)
                if g is not None:
                    record = g.group(1)
                    break
        return head, record
    return None, None


def _items(
    names: list[str], kind: types.CompletionItemKind, detail: str
) -> list[types.CompletionItem]:
    return [types.CompletionItem(label=n, kind=kind, detail=detail) for n in names]


def complete(text: str, line: int, column: int, index: Index | None) -> list[types.CompletionItem]:
    lines = text.split("\n")
    line = max(1, min(line, len(lines)))
    # the words just before the cursor; a bounded tail keeps every pattern linear
    before = lines[line - 1][: column - 1][-CONTEXT:]
    head, record = _block(lines, line)

    def names(kind: str, container: str | None = None) -> list[str]:
        return [s.name for s in index.names(kind, container)] if index is not None else []

    Kind = types.CompletionItemKind

    m = _ENUM.search(before)
    if m is not None and index is not None:
        field = m.group(1)
        sym = index.lookup(("field",), field, record) or index.lookup(("field",), field)
        enum = getattr(getattr(sym.node if sym else None, "type", None), "values", None)
        if enum is not None:
            values = [v.name for v in enum]
        elif m.group(2) != ":":  # `x = ` on a name that is no enum field: the record's values
            values = [s.name for s in index.names("enum_value", record)]
        else:  # `name "words":` of a condition, `field:` of another type
            values = []
        if values:
            return _items(values, Kind.EnumMember, f"a value of `{field}`")
    m = _NUMBER.search(before)
    if m is not None:
        n = m.group(1)
        return [
            types.CompletionItem(
                label=n + unit,
                kind=Kind.Unit,
                detail="a duration",
                insert_text=n + unit,
                filter_text=n + unit,
            )
            for unit in DURATIONS
        ]
    m = _AFTER.search(before)
    word = m.group(1) if m is not None else None
    if word in _PHRASE_WORDS:
        return _items(names("phrases"), Kind.Constant, "a phrase set")
    if word in ("on", "calendar") and head in ("deadline", "escalation", "rule"):
        return _items(names("calendar"), Kind.Module, "a calendar")
    if word in ("for", "given"):
        return _items(names("record"), Kind.Class, "a record type")
    if not before.strip() and not before:
        return _items(list(TOP_LEVEL), Kind.Keyword, "a top-level clause")
    items = _items(list(_BLOCK_WORDS.get(head or "", ())), Kind.Keyword, f"in a {head} block")
    if record is not None:
        items += _items(names("field", record), Kind.Field, f"a field of {record}")
    if head in ("valid", "invariant", "rule", "metric"):
        items += _items(names("condition"), Kind.Function, "a condition")
    seen = {i.label for i in items}
    items += _items(sorted(KEYWORDS - seen), Kind.Keyword, "a keyword")
    return items

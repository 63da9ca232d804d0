"""Diagnostics: what every stage reports about a user's mistakes.

In: a code, a one-line lowercase message, a span, an optional hint, related spans and the fixes
that certainly repair it.
Out: `Diagnostic` values, their text rendering (file:line:col, the source line and a caret) and
their JSON form (IO.md).  Stages collect diagnostics; only compiler bugs raise.

A `Fix` is a titled set of `Edit`s (a code-point span of the source and the text that replaces
it), attached only where the repair is not a guess: a "did you mean" with exactly one close
candidate (`rename`), or a syntax error with one obvious repair.  `csdsl check --fix` applies
them; an editor offers them as quick fixes.
"""

from __future__ import annotations

import difflib
import enum
import functools
from collections.abc import Container, Iterable, Mapping, Sequence
from typing import Any, NamedTuple

import attrs

from csdsl.source import SourceFile, Span


class Severity(enum.Enum):
    ERROR = "error"
    WARNING = "warning"


@attrs.frozen
class Related:
    message: str
    span: Span


class Edit(NamedTuple):
    """Replace the text of `span` (code points; an empty span inserts) with `replacement`."""

    span: Span
    replacement: str

    def to_json(self) -> dict[str, Any]:
        s = self.span
        return {
            "file": s.file,
            "line": s.line,
            "column": s.column,
            "end_line": s.end_line,
            "end_column": s.end_column,
            "replacement": self.replacement,
        }


@attrs.frozen
class Fix:
    """One repair of a diagnostic: a title for people (`replace `agnet` with `agent``) and its
    edits, which never overlap one another."""

    title: str
    edits: tuple[Edit, ...]

    def to_json(self) -> dict[str, Any]:
        return {"title": self.title, "edits": [e.to_json() for e in self.edits]}


def replace(span: Span, old: str, new: str) -> Fix:
    """The fix writing `new` where `span` holds `old`."""
    return Fix(f"replace `{old}` with `{new}`", (Edit(span, new),))


@attrs.frozen
class Diagnostic:
    code: str
    message: str
    span: Span
    severity: Severity = Severity.ERROR
    hint: str | None = None
    related: tuple[Related, ...] = ()
    fixes: tuple[Fix, ...] = ()

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    def to_json(self) -> dict[str, Any]:
        return {
            "file": self.span.file,
            "line": self.span.line,
            "column": self.span.column,
            "end_line": self.span.end_line,
            "end_column": self.span.end_column,
            "severity": self.severity.value,
            "code": self.code,
            "message": self.message,
            "hint": self.hint,
            "fixes": [f.to_json() for f in self.fixes],
        }

    def sort_key(self) -> tuple[str, int, int, str]:
        return (self.span.file, self.span.line, self.span.column, self.code)


def error(
    code: str,
    message: str,
    span: Span,
    hint: str | None = None,
    related: Sequence[Related] = (),
    fixes: Sequence[Fix] = (),
) -> Diagnostic:
    return Diagnostic(code, message, span, Severity.ERROR, hint, tuple(related), tuple(fixes))


def warning(
    code: str,
    message: str,
    span: Span,
    hint: str | None = None,
    related: Sequence[Related] = (),
    fixes: Sequence[Fix] = (),
) -> Diagnostic:
    return Diagnostic(code, message, span, Severity.WARNING, hint, tuple(related), tuple(fixes))


class PolicyError(Exception):
    """Raised by `csdsl.load` when a policy does not compile; carries every diagnostic."""

    def __init__(
        self, diagnostics: Sequence[Diagnostic], sources: Mapping[str, SourceFile] | None = None
    ) -> None:
        self.diagnostics = tuple(diagnostics)
        self.sources = dict(sources or {})
        errors = [d for d in self.diagnostics if d.is_error]
        first = errors[0] if errors else (self.diagnostics[0] if self.diagnostics else None)
        summary = (
            f"{first.span.file}:{first.span.line}:{first.span.column}: {first.message}"
            if first
            else "policy does not compile"
        )
        more = f" (and {len(errors) - 1} more errors)" if len(errors) > 1 else ""
        super().__init__(summary + more)

    def render(self) -> str:
        return render_all(self.diagnostics, self.sources)


def did_you_mean(name: str, candidates: Iterable[str]) -> str | None:
    """A "did you mean" hint naming the closest candidates, or None when nothing is close."""
    close = _closest(name, tuple(sorted(set(candidates))))
    if not close:
        return None
    if len(close) == 1:
        return f"did you mean `{close[0]}`?"
    return "did you mean " + ", ".join(f"`{c}`" for c in close[:-1]) + f" or `{close[-1]}`?"


def rename(
    span: Span,
    name: str,
    candidates: Iterable[str],
    form: str = "{}",
    only: Container[str] | None = None,
) -> list[Fix]:
    """The fix replacing `name`, written at `span`, with the one candidate `did_you_mean` finds
    close to it that is a slip of typing away (`typo`); none when no candidate or several are
    (a choice is not a fix), or when the close candidates are other words (`hold_begin` is
    close to `hold_end`, but meant `hold_start`).
    `form`: how `span` writes the name, e.g. `"{}"` for a string literal, `timezone "{}"`;
    `only`: the candidates that would repair this place (the others are named by the hint,
    not written by a fix)."""
    close = [c for c in _closest(name, tuple(sorted(set(candidates)))) if typo(name, c)]
    if len(close) != 1 or close[0] == name or (only is not None and close[0] not in only):
        return []
    return [replace(span, form.format(name), form.format(close[0]))]


def typo(written: str, meant: str) -> bool:
    """Whether `written` is `meant` with a slip or two of typing: letter case aside, at most two
    letters inserted, dropped, changed or swapped with their neighbour (one, in a name of up to
    four letters)."""
    a, b = written.lower(), meant.lower()
    limit = 1 if min(len(a), len(b)) <= 4 else 2
    if abs(len(a) - len(b)) > limit:
        return False
    # optimal string alignment distance: Levenshtein plus swaps of neighbours
    before: list[int] = []
    row = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        above, row = row, [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = a[i - 1] != b[j - 1]
            row[j] = min(above[j] + 1, row[j - 1] + 1, above[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                row[j] = min(row[j], before[j - 2] + 1)
        before = above
    return row[len(b)] <= limit


@functools.lru_cache(maxsize=4096)
def _closest(name: str, pool: tuple[str, ...]) -> tuple[str, ...]:
    # cached: a data file repeats its unknown names (an event log's 100,000 lines naming the
    # same unknown event asked difflib 100,000 times, most of reading the log)
    close = difflib.get_close_matches(name, pool, n=3, cutoff=0.6)
    if not close:
        lowered = {c.lower(): c for c in pool}
        close = [
            lowered[c]
            for c in difflib.get_close_matches(name.lower(), list(lowered), n=3, cutoff=0.6)
        ]
    return tuple(close)


def _display_width(text: str) -> int:
    """Terminal columns taken by `text`: East Asian wide characters take two."""
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


_LONG_LINE = 160  # a source line longer than this is shown as a window around the span


def render(diag: Diagnostic, sources: Mapping[str, SourceFile]) -> str:
    """file:line:col: severity[code]: message, then the line with a caret under the span."""
    s = diag.span
    out = [f"{s.file}:{s.line}:{s.column}: {diag.severity.value}[{diag.code}]: {diag.message}"]
    src = sources.get(s.file)
    if src is not None and 1 <= s.line <= src.line_count:
        text = src.line_text(s.line).replace("\t", " ")
        start = s.column - 1
        end = max(s.column, s.end_column if s.end_line == s.line else len(text) + 1) - 1
        if len(text) > _LONG_LINE:  # a window around the span, not a megabyte of one line
            end = min(end, start + _LONG_LINE // 2)
            lo, hi = max(0, start - _LONG_LINE // 4), min(len(text), end + _LONG_LINE // 4)
            head, tail = ("..." if lo else ""), ("..." if hi < len(text) else "")
            text, start, end = (
                head + text[lo:hi] + tail,
                start - lo + len(head),
                end - lo + len(head),
            )
        prefix = _display_width(text[:start])
        width = max(1, _display_width(text[start:end]))
        gutter = f"{s.line:>4} | "
        out.append(gutter + text)
        out.append(" " * (len(gutter) + prefix) + "^" * width)
    for rel in diag.related:
        out.append(f"  note: {rel.span.file}:{rel.span.line}:{rel.span.column}: {rel.message}")
    if diag.hint:
        out.append(f"  hint: {diag.hint}")
    return "\n".join(out)


def render_all(diags: Iterable[Diagnostic], sources: Mapping[str, SourceFile]) -> str:
    return "\n\n".join(render(d, sources) for d in diags)

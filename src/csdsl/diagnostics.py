"""Diagnostics: what every stage reports about a user's mistakes.

In: a code, a one-line lowercase message, a span, an optional hint and related spans.
Out: `Diagnostic` values, their text rendering (file:line:col, the source line and a caret) and
their JSON form (IO.md).  Stages collect diagnostics; only compiler bugs raise.
"""

from __future__ import annotations

import difflib
import enum
import functools
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import attrs

from csdsl.source import SourceFile, Span


class Severity(enum.Enum):
    ERROR = "error"
    WARNING = "warning"


@attrs.frozen
class Related:
    message: str
    span: Span


@attrs.frozen
class Diagnostic:
    code: str
    message: str
    span: Span
    severity: Severity = Severity.ERROR
    hint: str | None = None
    related: tuple[Related, ...] = ()

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
        }

    def sort_key(self) -> tuple[str, int, int, str]:
        return (self.span.file, self.span.line, self.span.column, self.code)


def error(
    code: str, message: str, span: Span, hint: str | None = None, related: Sequence[Related] = ()
) -> Diagnostic:
    return Diagnostic(code, message, span, Severity.ERROR, hint, tuple(related))


def warning(
    code: str, message: str, span: Span, hint: str | None = None, related: Sequence[Related] = ()
) -> Diagnostic:
    return Diagnostic(code, message, span, Severity.WARNING, hint, tuple(related))


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
    return _closest(name, tuple(sorted(set(candidates))))


@functools.lru_cache(maxsize=4096)
def _closest(name: str, pool: tuple[str, ...]) -> str | None:
    # cached: a data file repeats its unknown names (an event log's 100,000 lines naming the
    # same unknown event asked difflib 100,000 times, most of reading the log)
    close = difflib.get_close_matches(name, pool, n=3, cutoff=0.6)
    if not close:
        lowered = {c.lower(): c for c in pool}
        close = [
            lowered[c]
            for c in difflib.get_close_matches(name.lower(), list(lowered), n=3, cutoff=0.6)
        ]
    if not close:
        return None
    if len(close) == 1:
        return f"did you mean `{close[0]}`?"
    return "did you mean " + ", ".join(f"`{c}`" for c in close[:-1]) + f" or `{close[-1]}`?"


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

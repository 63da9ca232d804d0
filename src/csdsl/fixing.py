"""Applying the structured fixes of diagnostics to a policy file (`csdsl check --fix`).

In: a policy file's path and text.  Out: `FixResult`: the fixed text, the fixes applied (each
with the diagnostic it repaired), the fixes left out because the text would not compile further
with them, and the compile of the fixed text.

A round compiles the text (the fixed text is read in place of the file, so imports still
resolve), takes the first fix of each diagnostic in this file, applies those whose edits do not
overlap, and keeps the result only when it compiles further: it reaches a later stage (syntax,
then names and types, then consistency), or stays at its stage with the repaired diagnostics
gone and no new error on a line the fix touched.  Otherwise each fix is tried alone.  Rounds
repeat (the parser stops at the first syntax error, so a repair can reveal the next) until
nothing is left to fix, at most `MAX_ROUNDS` times.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path

import attrs

from csdsl.check import Compiled, compile_file
from csdsl.diagnostics import Diagnostic, Edit, Fix
from csdsl.source import SourceFile

MAX_ROUNDS = 50

# the codes of the first stage: reading and parsing the files (the others wait for it)
_READING = ("E1", "E204", "E205")


@attrs.frozen
class Applied:
    """A fix and the diagnostic it repairs, as reported on the text it was applied to."""

    diagnostic: Diagnostic
    fix: Fix


@attrs.frozen
class FixResult:
    path: str
    original: str
    text: str
    applied: tuple[Applied, ...]
    refused: tuple[Applied, ...]  # would not compile further: left out
    compiled: Compiled  # of `text`

    @property
    def changed(self) -> bool:
        return self.text != self.original


def apply_edits(text: str, name: str, edits: Iterable[Edit]) -> str:
    """`text` with `edits` (non-overlapping spans of the file `name`) applied."""
    src = SourceFile(name, text)
    out = text
    spans = sorted({_range(src, e) for e in edits}, reverse=True)
    for start, end, replacement in spans:
        out = out[:start] + replacement + out[end:]
    return out


def fix_file(path: str, text: str, max_rounds: int = MAX_ROUNDS) -> FixResult:
    """Fix the file `path` whose text (as `read_policy_text` reads it) is `text`."""
    name = str(path)
    compiled = _compile(path, text)
    original, applied, refused = text, [], []
    seen_refused: set[tuple[str, str, str]] = set()
    for _ in range(max_rounds):
        offered = [
            Applied(d, d.fixes[0])
            for d in compiled.diagnostics
            if d.fixes
            and d.span.file == name
            and all(e.span.file == name for e in d.fixes[0].edits)
            and _key(d, d.fixes[0]) not in seen_refused
        ]
        if not offered:
            break
        chosen = _disjoint(offered, SourceFile(name, text))
        for tries in ([chosen] if len(chosen) > 1 else []) + [[a] for a in offered]:
            new = apply_edits(text, name, (e for a in tries for e in a.fix.edits))
            after = _compile(path, new)
            if new != text and further(compiled, after, tries):
                text, compiled = new, after
                applied += tries
                break
            if len(tries) == 1:
                seen_refused.add(_key(tries[0].diagnostic, tries[0].fix))
                refused.append(tries[0])
        else:
            break
    refused = [r for r in refused if _key(r.diagnostic, r.fix) not in _keys(applied)]
    return FixResult(name, original, text, tuple(applied), tuple(refused), compiled)


def further(before: Compiled, after: Compiled, fixed: Sequence[Applied]) -> bool:
    """Whether `after` (the text with the fixes `fixed`) compiles further than `before`."""
    stage_b, stage_a = stage(before), stage(after)
    if stage_a != stage_b:
        return stage_a > stage_b
    was = Counter(_said(d) for d in before.diagnostics)
    now = Counter(_said(d) for d in after.diagnostics)
    if any(now[_said(a.diagnostic)] >= was[_said(a.diagnostic)] for a in fixed):
        return False
    touched = {(e.span.file, e.span.line) for a in fixed for e in a.fix.edits}
    return not any(
        d.is_error and now[_said(d)] > was[_said(d)] and (d.span.file, d.span.line) in touched
        for d in after.diagnostics
    )


def _said(d: Diagnostic) -> tuple[str, str]:
    return (d.code, d.message)


def stage(c: Compiled) -> int:
    """0: files unread or a syntax error; 1: other errors; 2: compiles."""
    errors = [d for d in c.diagnostics if d.is_error]
    if any(d.code.startswith(_READING) for d in errors):
        return 0
    return 1 if errors else 2


def _compile(path: str, text: str) -> Compiled:
    return compile_file(path, {str(Path(path).resolve()): text})


def _disjoint(offered: Sequence[Applied], src: SourceFile) -> list[Applied]:
    """The fixes, in order, whose edits overlap no earlier one's (an identical edit, e.g. one
    typo reported twice, is taken once)."""
    taken: list[tuple[int, int, str]] = []
    out = []
    for a in offered:
        ranges = [_range(src, e) for e in a.fix.edits]
        if all(r in taken for r in ranges):
            continue
        if any(_overlap(r, t) for r in ranges for t in taken):
            continue
        taken += ranges
        out.append(a)
    return out


def _range(src: SourceFile, e: Edit) -> tuple[int, int, str]:
    s = e.span
    return (src.offset(s.line, s.column), src.offset(s.end_line, s.end_column), e.replacement)


def _overlap(a: tuple[int, int, str], b: tuple[int, int, str]) -> bool:
    """Two different edits that overlap, or touch where their order would be a guess (two
    insertions at one place, an insertion at the edge of a replacement)."""
    if a == b:
        return False
    if a[0] == b[0]:
        return True
    if a[0] == a[1] or b[0] == b[1]:  # an insertion: inside or at the edge of the other
        point, (lo, hi) = (a[0], b[:2]) if a[0] == a[1] else (b[0], a[:2])
        return lo <= point <= hi
    return a[0] < b[1] and b[0] < a[1]


def _key(d: Diagnostic, f: Fix) -> tuple[str, str, str]:
    return (d.code, d.message, f.title)


def _keys(applied: Iterable[Applied]) -> set[tuple[str, str, str]]:
    return {_key(a.diagnostic, a.fix) for a in applied}

"""A reviewed sample read back (`csdsl review report.xlsx`): how often each clause was right.

In: a workbook written by `csdsl audit --xlsx --sample N` whose `Review sample` sheet people
have filled in.  Out: a `Review`: per clause, the rows reviewed, confirmed, false positive and
needing discussion, the confirmed and false-positive rates (over the reviewed rows), and the
rows not reviewed yet.

Each row of the sheet is one clause's findings on one sampled case, so a verdict judges that
clause on that case: a case with findings of two clauses has two verdicts, and each clause's
rates count its own.  A verdict is one of `workbook.VERDICTS` (case and surrounding spaces do
not matter); an empty cell is a row not reviewed.  Anything else is a `ReviewError` naming the
sheet and the cell, as is a file that is not a workbook or has no sample sheet.

Reading needs openpyxl (the `xlsx` extra).
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import attrs

from csdsl.report.workbook import REVIEW_SHEET, VERDICT, VERDICTS

HEADER_SEARCH = 50  # rows searched for the table's header (the block above it is shorter)


class ReviewError(Exception):
    """A workbook that cannot be read as a review (one line, naming the sheet and cell)."""


@attrs.define
class ClauseReview:
    clause: str
    text: str | None = None
    confirmed: int = 0
    false_positive: int = 0
    needs_discussion: int = 0
    unreviewed: int = 0

    @property
    def reviewed(self) -> int:
        return self.confirmed + self.false_positive + self.needs_discussion

    @property
    def confirmed_rate(self) -> float | None:
        return self.confirmed / self.reviewed if self.reviewed else None

    @property
    def false_positive_rate(self) -> float | None:
        return self.false_positive / self.reviewed if self.reviewed else None

    def to_json(self) -> dict[str, Any]:
        return {
            "clause": self.clause,
            "text": self.text,
            "reviewed": self.reviewed,
            "confirmed": self.confirmed,
            "false_positive": self.false_positive,
            "needs_discussion": self.needs_discussion,
            "confirmed_rate": _rate(self.confirmed_rate),
            "false_positive_rate": _rate(self.false_positive_rate),
            "unreviewed": self.unreviewed,
        }


def _rate(x: float | None) -> float | None:
    return round(x, 6) if x is not None else None


@attrs.frozen
class Review:
    path: str
    drawn: str | None  # the sample's own description (`drawn` in the header block)
    seed: Any
    clauses: tuple[ClauseReview, ...]

    def total(self) -> ClauseReview:
        out = ClauseReview("all clauses")
        for c in self.clauses:
            out.confirmed += c.confirmed
            out.false_positive += c.false_positive
            out.needs_discussion += c.needs_discussion
            out.unreviewed += c.unreviewed
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "workbook": self.path,
            "sample": {"drawn": self.drawn, "seed": self.seed},
            "clauses": [c.to_json() for c in self.clauses],
            "total": self.total().to_json(),
        }


def _column(index: int) -> str:
    """A 0-based column index as Excel's letters (0: A, 26: AA)."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def read_review(path: str | Path) -> Review:
    """Read the `Review sample` sheet of a filled workbook (see the module's docstring)."""
    shown = str(path)
    p = Path(path)
    if not p.is_file():
        raise ReviewError(f"{shown}: " + ("is a directory" if p.is_dir() else "no such file"))
    try:
        import openpyxl
    except ImportError:
        raise ReviewError(
            "csdsl review needs openpyxl to read the workbook: pip install 'csdsl[xlsx]'"
        ) from None
    if not zipfile.is_zipfile(p):
        raise ReviewError(
            f"{shown}: not an Excel workbook (.xlsx); give the report.xlsx that "
            "`csdsl audit --xlsx` wrote"
        )
    try:
        # openpyxl refuses names not ending in .xlsx/.xlsm: read through an open file instead
        with p.open("rb") as handle:
            book = openpyxl.load_workbook(handle, read_only=True, data_only=True)
            try:
                if REVIEW_SHEET not in book.sheetnames:
                    raise ReviewError(
                        f"{shown}: no `{REVIEW_SHEET}` sheet; write one with "
                        "`csdsl audit --xlsx --sample N`"
                    )
                table = [tuple(r) for r in book[REVIEW_SHEET].iter_rows(values_only=True)]
            finally:
                book.close()
    except ReviewError:
        raise
    except Exception as exc:  # openpyxl's errors on a damaged file are of many kinds
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ReviewError(f"{shown}: not a readable Excel workbook: {reason}") from None
    return _review(shown, table)


def _review(shown: str, table: Sequence[Sequence[Any]]) -> Review:
    where = f"{shown}: sheet `{REVIEW_SHEET}`"
    header_at, columns = _header(where, table)
    clause_col = columns["clause"]
    text_col = columns.get("clause text")
    verdict_col = columns[VERDICT]
    block = {_text(r[0]): r[2] if len(r) > 2 else None for r in table[:header_at] if r}
    by_clause: dict[str, ClauseReview] = {}
    for offset, row in enumerate(table[header_at + 1 :], start=header_at + 2):
        values = list(row) + [None] * (len(columns) + 20 - len(row))
        clause = _text(values[clause_col])
        verdict = _text(values[verdict_col]).lower()
        if not clause:
            if verdict:
                raise ReviewError(
                    f"{where}, cell {_column(verdict_col)}{offset}: a verdict on a row without "
                    f"a clause (column {_column(clause_col)})"
                )
            continue
        entry = by_clause.get(clause)
        if entry is None:
            text = _text(values[text_col]) if text_col is not None else ""
            entry = by_clause[clause] = ClauseReview(clause, text or None)
        if not verdict:
            entry.unreviewed += 1
        elif verdict == VERDICTS[0]:
            entry.confirmed += 1
        elif verdict == VERDICTS[1]:
            entry.false_positive += 1
        elif verdict == VERDICTS[2]:
            entry.needs_discussion += 1
        else:
            raise ReviewError(
                f"{where}, cell {_column(verdict_col)}{offset}: unknown verdict "
                f"`{_text(values[verdict_col])}`; use one of: " + ", ".join(VERDICTS)
            )
    drawn = block.get("drawn")
    return Review(
        shown,
        drawn if isinstance(drawn, str) else None,
        block.get("seed"),
        tuple(sorted(by_clause.values(), key=lambda c: c.clause)),
    )


def _header(where: str, table: Sequence[Sequence[Any]]) -> tuple[int, dict[str, int]]:
    """The index of the table's header row, and the column of each heading in it."""
    for i, row in enumerate(table[:HEADER_SEARCH]):
        names = {_text(v).lower(): j for j, v in enumerate(row) if _text(v)}
        if VERDICT in names:
            if "clause" not in names:
                raise ReviewError(
                    f"{where}, row {i + 1}: the header has `{VERDICT}` but no `clause` column"
                )
            return i, names
    raise ReviewError(f"{where}: no header row with a `{VERDICT}` column")


def table_lines(review: Review) -> Iterator[str]:
    """The review as a text table (clause, counts, rates), a total line last."""
    heads = (
        "clause",
        "reviewed",
        "confirmed",
        "false positive",
        "discuss",
        "confirmed %",
        "false pos. %",
        "unreviewed",
    )
    body = [_cells(c) for c in review.clauses]
    total = _cells(review.total())
    widths = [max(len(r[i]) for r in [heads, *body, total]) for i in range(len(heads))]

    def line(cells: Sequence[str]) -> str:
        first = cells[0].ljust(widths[0])
        rest = (c.rjust(w) for c, w in zip(cells[1:], widths[1:], strict=True))
        return "  ".join([first, *rest]).rstrip()

    yield line(heads)
    for r in body:
        yield line(r)
    yield line(total)


def _cells(c: ClauseReview) -> tuple[str, ...]:
    def pct(x: float | None) -> str:
        return "-" if x is None else f"{x * 100:.1f}%"

    return (
        c.clause,
        str(c.reviewed),
        str(c.confirmed),
        str(c.false_positive),
        str(c.needs_discussion),
        pct(c.confirmed_rate),
        pct(c.false_positive_rate),
        str(c.unreviewed),
    )

"""The audit as an Excel workbook (`csdsl audit --xlsx`): `report.xlsx`.

In: the report mapping (schema 1, report.json), the run's findings (streamed from
findings.jsonl) and, with `--sample`, a `sampling.Sample`.  Out: an .xlsx file, written with
XlsxWriter (the `xlsx` extra) in constant-memory mode, row by row, so a million findings cost no
more memory than ten.

Sheets, each with a frozen header row and an autofilter:
- `KPIs`: one row per KPI row of the report (metric, wording, group, value, op, threshold,
  status, reason, version); a percentage KPI's value and threshold are formatted as percentages.
- `Findings`: every finding (kind, clause id, clause text, clause at, severity, record/case id,
  agent, team, input:line, message, evidence as text, version).  Past Excel's 1,048,576 rows
  they go on in `Findings 2`, `Findings 3`...
- `Bad rows`: the bad rows the report lists (the first `audit_output.BAD_SHOWN` by file and line; a
  note under the table says when there are more).
- `Review sample` (with a sample): a header block (population, N, seed, stratification, the
  method), then one row per clause of each drawn case, with an empty `reviewer verdict` column
  (a drop-down of `VERDICTS`) and a `comment` column.  `csdsl review` reads it back
  (`csdsl.review`), so the labels below are its contract.

Every text cell is written as a string, never as a formula, a number or a link (a record id
`=HYPERLINK(...)` stays text), through `printable`, and cut at Excel's 32,767 characters.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from csdsl.report import dumps, printable
from csdsl.sampling import NONE, Sample, clause_label, person, rows

# XlsxWriter's classes (an extra, imported only to write: nothing of it at the top)
Workbook = Any
Worksheet = Any
Format = Any

REVIEW_SHEET = "Review sample"
VERDICT = "reviewer verdict"
COMMENT = "comment"
VERDICTS = ("confirmed", "false positive", "needs discussion")
REVIEW_COLUMNS = (
    ("case #", 7),
    ("drawn for", 16),
    ("case", 22),
    ("input:line", 28),
    ("agent", 14),
    ("team", 14),
    ("clause", 24),
    ("clause at", 30),
    ("clause text", 40),
    ("findings", 9),
    ("what was found", 60),
    (VERDICT, 18),
    (COMMENT, 40),
)
FINDING_COLUMNS = (
    ("kind", 15),
    ("clause id", 24),
    ("clause text", 40),
    ("clause at", 30),
    ("severity", 9),
    ("record/case id", 22),
    ("agent", 14),
    ("team", 14),
    ("input:line", 30),
    ("message", 50),
    ("evidence", 60),
    ("version", 9),
)
KPI_COLUMNS = (
    ("metric", 24),
    ("wording", 44),
    ("group", 26),
    ("value", 10),
    ("op", 5),
    ("threshold", 10),
    ("status", 14),
    ("reason", 30),
    ("version", 9),
)
BAD_COLUMNS = (
    ("input:line", 30),
    ("id", 22),
    ("code", 7),
    ("field", 18),
    ("message", 70),
)
MAX_ROWS = 1_048_576  # Excel's rows per sheet
MAX_CELL = 32_767  # Excel's characters per cell
METHOD = (
    "the cases (input file and record id) are sorted, strata by name; random.Random(seed) "
    "gives each case of each stratum one random() number in that order, and the N lowest "
    "are drawn: the same findings and seed give the same sample (docs/review.md)"
)


class WorkbookUnavailable(Exception):
    """XlsxWriter is not installed."""


def require() -> None:
    """Raise `WorkbookUnavailable` with the install hint unless XlsxWriter can be imported."""
    try:
        import xlsxwriter  # noqa: F401
    except ImportError:
        raise WorkbookUnavailable("--xlsx needs XlsxWriter: pip install 'csdsl[xlsx]'") from None


def cell(value: Any) -> str:
    """Text for a cell: printable, at most Excel's 32,767 characters."""
    text = printable(value if isinstance(value, str) else dumps(value))
    return text if len(text) <= MAX_CELL else text[: MAX_CELL - 1] + "…"


def evidence_text(evidence: Any) -> str:
    """A finding's evidence as `key=value; ...` (strings as they are, other values as JSON)."""
    if not isinstance(evidence, Mapping):
        return "" if evidence is None else dumps(evidence)
    return "; ".join(f"{k}={v if isinstance(v, str) else dumps(v)}" for k, v in evidence.items())


def group_text(group: Any) -> str:
    if not isinstance(group, Mapping) or not group:
        return "all"
    return ", ".join(f"{k} {v}" for k, v in group.items())


def where(input_: Any, line: Any) -> str:
    return f"{input_}:{line}" if line is not None else str(input_)


class _Sheet:
    """A worksheet written row by row: header, then rows; frozen header and autofilter."""

    def __init__(
        self,
        book: Workbook,
        name: str,
        columns: tuple[tuple[str, int], ...],
        bold: Format,
        header_row: int = 0,
    ) -> None:
        self.book = book
        self.name = name
        self.columns = columns
        self.bold = bold
        self.header_row = header_row
        self.parts = 1
        self.sheet = self._open(name)

    def _open(self, name: str) -> Worksheet:
        sheet = self.book.add_worksheet(name)
        for i, (_, width) in enumerate(self.columns):
            sheet.set_column(i, i, width)
        self.row = self.header_row
        return sheet

    def header(self) -> None:
        for i, (title, _) in enumerate(self.columns):
            self.sheet.write_string(self.row, i, title, self.bold)
        self.sheet.freeze_panes(self.row + 1, 0)
        self.row += 1

    def add(self, values: Iterable[Any], formats: Mapping[int, Format] | None = None) -> None:
        if self.row >= MAX_ROWS:  # Excel's limit: go on in the next sheet of the same name
            self.close()
            self.parts += 1
            self.header_row = 0
            self.sheet = self._open(f"{self.name} {self.parts}")
            self.header()
        fmt = formats or {}
        for i, v in enumerate(values):
            if v is None:
                continue
            if isinstance(v, bool):
                self.sheet.write_string(self.row, i, "true" if v else "false", fmt.get(i))
            elif isinstance(v, int | float):
                self.sheet.write_number(self.row, i, v, fmt.get(i))
            else:
                self.sheet.write_string(self.row, i, cell(v), fmt.get(i))
        self.row += 1

    def close(self) -> None:
        """The autofilter over the table written so far."""
        last = max(self.row - 1, self.header_row)
        self.sheet.autofilter(self.header_row, 0, last, len(self.columns) - 1)


def write_workbook(
    path: str | Path,
    report: Mapping[str, Any],
    findings: Iterable[Mapping[str, Any]],
    sample: Sample | None = None,
) -> None:
    """Write the workbook to `path` (see the module's docstring)."""
    require()
    import xlsxwriter

    book = xlsxwriter.Workbook(
        str(path),
        {
            "constant_memory": True,
            "strings_to_numbers": False,
            "strings_to_formulas": False,
            "strings_to_urls": False,
        },
    )
    try:
        bold = book.add_format({"bold": True})
        _kpis(book, report, bold)
        _findings(book, findings, bold)
        _bad_rows(book, report, bold)
        if sample is not None:
            _review(book, sample, bold)
    finally:
        book.close()


def _kpis(book: Workbook, report: Mapping[str, Any], bold: Format) -> None:
    sheet = _Sheet(book, "KPIs", KPI_COLUMNS, bold)
    sheet.header()
    percent = book.add_format({"num_format": "0.0%"})
    kpis = report.get("kpis")
    for k in kpis if isinstance(kpis, list) else ():
        value = k.get("value")
        sheet.add(
            [
                k.get("metric"),
                k.get("wording"),
                group_text(k.get("group")),
                value if value is not None else "n/a",
                k.get("op"),
                k.get("threshold"),
                k.get("status"),
                k.get("reason"),
                k.get("version"),
            ],
            {3: percent, 5: percent} if k.get("percent") else None,
        )
    sheet.close()


def _findings(book: Workbook, findings: Iterable[Mapping[str, Any]], bold: Format) -> None:
    sheet = _Sheet(book, "Findings", FINDING_COLUMNS, bold)
    sheet.header()
    for f in findings:
        clause = f.get("clause") if isinstance(f.get("clause"), Mapping) else {}
        assert isinstance(clause, Mapping)
        sheet.add(
            [
                f.get("kind"),
                clause_label(f),
                clause.get("text"),
                where(clause.get("file"), clause.get("line")),
                f.get("severity"),
                f.get("record") if f.get("record") is not None else NONE,
                person(f, "agent"),
                person(f, "team"),
                where(f.get("input"), f.get("line")),
                f.get("message"),
                evidence_text(f.get("evidence")),
                f.get("version"),
            ]
        )
    sheet.close()


def _bad_rows(book: Workbook, report: Mapping[str, Any], bold: Format) -> None:
    sheet = _Sheet(book, "Bad rows", BAD_COLUMNS, bold)
    sheet.header()
    bad = report.get("bad_rows") if isinstance(report.get("bad_rows"), Mapping) else {}
    assert isinstance(bad, Mapping)
    items = bad.get("items") if isinstance(bad.get("items"), list) else []
    assert isinstance(items, list)
    for b in items:
        sheet.add(
            [
                where(b.get("input"), b.get("line")),
                b.get("id"),
                b.get("code"),
                b.get("field"),
                b.get("message"),
            ]
        )
    sheet.close()
    total = bad.get("total")
    if isinstance(total, int) and total > len(items):
        sheet.sheet.write_string(
            sheet.row + 1,
            0,
            f"the first {len(items)} of {total} bad rows (by file and line), as report.json "
            "lists them",
        )


def _review(book: Workbook, sample: Sample, bold: Format) -> None:
    block: list[tuple[str, Any]] = [
        (
            "population",
            f"{sample.population} cases with findings ({sample.findings} findings in "
            "findings.jsonl)",
        ),
        ("drawn", sample.describe()),
        ("N", sample.n),
        ("seed", sample.seed),
        ("stratified by", sample.by or "none"),
        ("method", METHOD),
        ("verdicts", " / ".join(VERDICTS) + "; an empty verdict is a row not reviewed"),
    ]
    sheet = _Sheet(book, REVIEW_SHEET, REVIEW_COLUMNS, bold, header_row=len(block) + 2)
    ws = sheet.sheet
    ws.write_string(0, 0, REVIEW_SHEET, book.add_format({"bold": True, "font_size": 14}))
    for i, (label, value) in enumerate(block, start=1):
        ws.write_string(i, 0, label, bold)
        if isinstance(value, int):
            ws.write_number(i, 2, value)
        else:
            ws.write_string(i, 2, cell(value))
    sheet.header()
    first = sheet.row
    wrap = book.add_format({"text_wrap": True, "valign": "top"})
    for number, case, group in rows(sample):
        sheet.add(
            [
                number,
                ", ".join(case.drawn_for) if sample.by else "all",
                case.record,
                where(case.input, case.line),
                ", ".join(case.agents),
                ", ".join(case.teams),
                group.clause,
                where(group.file, group.line) if group.file is not None else None,
                group.text,
                len(group.messages),
                group.summary(),
            ],
            {10: wrap},
        )
    sheet.close()
    verdict_col = [t for t, _ in REVIEW_COLUMNS].index(VERDICT)
    if sheet.row > first:
        ws.data_validation(
            first,
            verdict_col,
            sheet.row - 1,
            verdict_col,
            {
                "validate": "list",
                "source": list(VERDICTS),
                "error_title": "reviewer verdict",
                "error_message": "one of: " + ", ".join(VERDICTS),
            },
        )

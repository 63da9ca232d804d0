"""Generate ``reviewed.xlsx``: a review sample of the bundled audit, filled in as a reviewer
would, for ``csdsl review`` (``docs/review.md``).

Run from the repository root (needs the xlsx extra: ``pip install -e '.[xlsx]'``)::

    python examples/review/make_reviewed.py

It runs the README's audit with ``--xlsx --sample 20 --seed 1`` into a temporary directory,
then fills the ``reviewer verdict`` column of its ``Review sample`` sheet with openpyxl and
writes the workbook next to this script.  **The verdicts are made up** (drawn with
``random.Random(17)``: about 7 in 10 confirmed, 2 false positives, 1 to discuss; the last 4
rows are left empty, not reviewed yet): they show the workflow, they are no one's judgement of
the findings.
"""

from __future__ import annotations

import random
import subprocess
import sys
import tempfile
from pathlib import Path

import openpyxl

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
VERDICTS = ("confirmed", "false positive", "needs discussion")
UNREVIEWED = 4


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [
                sys.executable,
                "-m",
                "csdsl",
                "audit",
                "policies/hotline.csp",
                "--records",
                "examples/complaints.jsonl",
                "--records",
                "Call=examples/calls.jsonl",
                "--records",
                "Inquiry=examples/inquiries.csv",
                "--events",
                "examples/complaint_events.jsonl",
                "--transcripts",
                "examples/transcripts.jsonl",
                "--out",
                tmp,
                "--xlsx",
                "--sample",
                "20",
                "--seed",
                "1",
            ],
            cwd=ROOT,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        book = openpyxl.load_workbook(Path(tmp) / "report.xlsx")
    sheet = book["Review sample"]
    header = next(
        row[0].row for row in sheet.iter_rows() if any(c.value == "reviewer verdict" for c in row)
    )
    heads = [c.value for c in sheet[header]]
    verdict = heads.index("reviewer verdict") + 1
    comment = heads.index("comment") + 1
    rng = random.Random(17)
    last = sheet.max_row
    for row in range(header + 1, last + 1 - UNREVIEWED):
        chosen = rng.choices(VERDICTS, weights=(7, 2, 1))[0]
        sheet.cell(row, verdict).value = chosen
        if chosen != "confirmed":
            sheet.cell(row, comment).value = "made-up verdict (examples/review/make_reviewed.py)"
    book.save(HERE / "reviewed.xlsx")
    print(f"wrote {HERE / 'reviewed.xlsx'}: rows {header + 1}-{last - UNREVIEWED} reviewed")


if __name__ == "__main__":
    main()

"""The violations of an audit, one Parquet file per clause, for pipelines.

In: an audit's output directory holding `findings.jsonl`.  Out: `quarantine/` in it, one
Parquet file per clause that has findings (in the manner of dbt's `store_failures` and
Databricks DQX's quarantine tables), and `quarantine/index.json` naming each file's clause.
A downstream job reads the violations of one clause (`valid_complaint` of `rude_attitude`, the
breaches of `reply`, a transcript rule) without parsing the whole findings file.

Each file has the findings' columns: `kind`, `clause_id`, `clause_file`, `clause_line`,
`clause_text`, `severity`, `record` (the record's or transcript's id, as JSON text), `input`,
`line` (the row in that input), `message`, `evidence` (JSON text), `version`.  DuckDB (a runtime
dependency) reads the JSON lines and writes the Parquet, so a run of millions of findings never
holds them in Python.  Every file is written under a fresh name of ours and then put in place,
as the reports are, so nothing left in a shared output directory can aim the write elsewhere.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from pathlib import Path

_COLUMNS = {
    "kind": "VARCHAR",
    "clause": "JSON",
    "severity": "VARCHAR",
    "record": "JSON",
    "input": "VARCHAR",
    "line": "BIGINT",
    "message": "VARCHAR",
    "evidence": "JSON",
    "version": "VARCHAR",
}


class QuarantineError(Exception):
    """The quarantine directory cannot be written (a link or a file in its place)."""


def _file_name(kind: str, clause: str, taken: set[str]) -> str:
    """`deadline-reply.parquet`: letters, digits (any script), `.`, `-` and `_` kept, the rest
    `_`; a clash gets a number."""
    stem = re.sub(r"[^\w.-]", "_", f"{kind}-{clause}").strip("._") or kind
    name, n = f"{stem}.parquet", 1
    while name in taken:
        n += 1
        name = f"{stem}-{n}.parquet"
    taken.add(name)
    return name


def write_quarantine(out: str | Path) -> list[Path]:
    """Split `out/findings.jsonl` into `out/quarantine/KIND-CLAUSE.parquet`; the paths written.
    Raises `QuarantineError` when `out/quarantine` is a link or not a directory."""
    import duckdb

    folder = Path(out) / "quarantine"
    if folder.is_symlink() or (folder.exists() and not folder.is_dir()):
        raise QuarantineError(
            f"{folder}: is a link or a file, not a directory: remove it, or give another --out"
        )
    folder.mkdir(exist_ok=True)
    findings = Path(out) / "findings.jsonl"
    con = duckdb.connect()
    try:
        con.execute(
            "create table f as select * from read_json($path, format = 'newline_delimited', "
            "columns = $columns)",
            {"path": str(findings), "columns": _COLUMNS},
        )
        con.execute(
            "create table q as select kind, clause ->> 'id' as clause_id, "
            "clause ->> 'file' as clause_file, cast(clause ->> 'line' as bigint) as clause_line, "
            "clause ->> 'text' as clause_text, severity, cast(record as varchar) as record, "
            "input, line, message, cast(evidence as varchar) as evidence, version from f"
        )
        clauses = con.execute(
            "select kind, clause_id, clause_file, clause_line, clause_text, count(*) from q "
            "group by all order by kind, clause_file, clause_line, clause_id"
        ).fetchall()
        written: list[Path] = []
        index = []
        taken: set[str] = set()
        for kind, cid, file, line, text, n in clauses:
            name = _file_name(str(kind), str(cid), taken)
            fd, part = tempfile.mkstemp(prefix=".part-", suffix=".parquet", dir=folder)
            os.close(fd)
            try:
                con.execute(
                    f"copy (select * from q where kind = $kind and clause_id is not distinct "
                    f"from $cid and clause_file is not distinct from $file and clause_line is "
                    f"not distinct from $line order by input, line) to '{_sql_path(part)}' "
                    "(format parquet)",
                    {"kind": kind, "cid": cid, "file": file, "line": line},
                )
                os.replace(part, folder / name)
            finally:
                Path(part).unlink(missing_ok=True)
            written.append(folder / name)
            index.append(
                {
                    "file": name,
                    "kind": kind,
                    "clause": {"id": cid, "file": file, "line": line, "text": text},
                    "findings": n,
                }
            )
    finally:
        con.close()
    fd, part = tempfile.mkstemp(prefix=".part-", suffix=".json", dir=folder)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(index, handle, ensure_ascii=False, indent=2)
        handle.write("\n")
    os.replace(part, folder / "index.json")
    return [*written, folder / "index.json"]


def _sql_path(path: str) -> str:
    """A path as a SQL string literal's body (COPY takes no parameter for its target)."""
    return path.replace("'", "''")

"""What an audit writes: every finding as a JSON line, the bad rows it lists, and the report files.

In: findings (dicts: kind, clause, record, input, line, message, evidence, version, and who they
concern: `agent`, `team`), bad rows, the report's data.  Out: `findings.jsonl` (streamed; the
first `SHOWN_PER_CLAUSE` of each clause kept for the report), the first `BAD_SHOWN` bad rows by
file and line, and `AuditReport`, which writes report.json, report.md and report.html, each
whole under a private name and then put in place.  `iter_findings` reads a run's findings back.
"""

from __future__ import annotations

import bisect
import datetime as dt
import json
import os
import tempfile
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

import attrs

from csdsl import ir
from csdsl.records import InputError, RowError, json_value
from csdsl.report import dumps
from csdsl.tally import Tally
from csdsl.transcripts import Transcript

SHOWN_PER_CLAUSE = 20
BAD_SHOWN = 50


@attrs.define
class Findings:
    """Every finding to `sink` as a JSON line; the first few of each clause kept for the report."""

    sink: IO[str] | None
    kept: list[dict[str, Any]] = attrs.Factory(list)
    per_clause: Counter[tuple[str, int, str | None]] = attrs.Factory(Counter)
    by_kind: Counter[str] = attrs.Factory(Counter)
    total: int = 0
    keep_all: bool = False
    tally: Tally = attrs.Factory(Tally)

    def add(self, finding: dict[str, Any]) -> None:
        self.total += 1
        self.tally.add(finding)
        self.by_kind[finding["kind"]] += 1
        c = finding["clause"]
        key = (c["file"], c["line"], c["id"])
        self.per_clause[key] += 1
        if self.sink is not None:
            self.sink.write(dumps(finding) + "\n")  # strict JSON, whatever the finding holds
        if self.keep_all or self.per_clause[key] <= SHOWN_PER_CLAUSE:
            self.kept.append(finding)


@attrs.define
class BadRows:
    items: list[dict[str, Any]] = attrs.Factory(list)
    seen: set[tuple[str, int, str | None]] = attrs.Factory(set)
    total: int = 0
    by_path: Counter[str] = attrs.Factory(Counter)

    def add(
        self, path: str, line: int, rid: Any, error: RowError, where: str | None = None
    ) -> bool:
        """Count a bad row once (the python and SQL passes may both meet it); `where` is the
        JSON path of a vendor export's element (many may share a line)."""
        if (path, line, where) in self.seen:
            return False
        self.seen.add((path, line, where))
        self.total += 1
        self.by_path[path] += 1
        # the first BAD_SHOWN by file and line, whatever order the engines met them in
        if len(self.items) == BAD_SHOWN and (path, line) >= _at(self.items[-1]):
            return True
        item = {
            "input": path,
            "line": line,
            "id": rid,
            "code": error.code,
            "message": error.message,
            "field": error.field,
        }
        if where is not None:
            item["where"] = where
        bisect.insort(self.items, item, key=_at)
        del self.items[BAD_SHOWN:]
        return True


def _at(item: Mapping[str, Any]) -> tuple[str, int]:
    return (item["input"], item["line"])


PEOPLE = ("agent", "team")  # who a finding concerns: every finding carries both keys


def people_fields(record: ir.Record | None) -> tuple[str, ...]:
    """The `PEOPLE` fields `record` declares (a finding's `agent` and `team` come from them)."""
    if record is None:
        return ()
    return tuple(n for n in PEOPLE if record.field(n) is not None)


def people(values: Mapping[str, Any] | None, declared: Sequence[str] = PEOPLE) -> dict[str, Any]:
    """`{"agent": ..., "team": ...}` from a row's values (only the `declared` fields): each a
    string, or None when the field is not declared or the row has no value for it."""
    out: dict[str, Any] = {}
    for n in PEOPLE:
        v = values.get(n) if values is not None and n in declared else None
        out[n] = None if v is None else v if isinstance(v, str) else dumps(json_value(v))
    return out


def transcript_people(t: Transcript) -> dict[str, Any]:
    """A transcript's top-level `agent` and `team`."""
    return {"agent": t.agent, "team": t.team}


def valid_message(record: str, cid: str, wording: str | None) -> str:
    """The message of a `valid_complaint` finding: the condition that made the record valid."""
    return f"{record} valid because {cid}" + (f": {wording}" if wording else "")


def value_out(v: Any, tz: dt.tzinfo) -> Any:
    """A record value as a finding or the report shows it: a datetime with the policy's
    offset, the rest as `records.json_value` writes it."""
    if isinstance(v, dt.datetime):
        return v.astimezone(tz).isoformat()
    return json_value(v)


@attrs.frozen
class AuditReport:
    data: dict[str, Any]
    findings: tuple[dict[str, Any], ...]  # every finding when no directory was given, else kept

    @property
    def failed_violation(self) -> bool:
        return bool(self.data["summary"]["verdict"] == "fail")

    @property
    def failed_error(self) -> bool:
        """Any bad row, in any input (the event log's included)."""
        return bool(self.data["summary"]["bad_rows"])

    def write(self, out: str | Path) -> list[Path]:
        """report.json, report.md and report.html into `out` (findings.jsonl is written during
        the run by `audit(..., out=...)`)."""
        from csdsl.report import render_html, render_markdown

        d = Path(out)
        d.mkdir(parents=True, exist_ok=True)
        texts = {
            "report.json": dumps(self.data, indent=2) + "\n",  # strict JSON
            "report.md": render_markdown(self.data),
            "report.html": render_html(self.data),
        }
        # each written whole under a fresh name, then put in place (never through a link that
        # someone left at the final name: a shared output directory cannot aim the write)
        parts = {name: private_part(d, name) for name in texts}
        try:
            for name, text in texts.items():
                # a lone surrogate in the data is written as a backslash escape, never a crash
                parts[name].write_text(text, "utf-8", "backslashreplace")
            for name, part in parts.items():
                os.replace(part, d / name)
        finally:
            for part in parts.values():
                part.unlink(missing_ok=True)
        return [d / name for name in texts]


def private_part(folder: Path, name: str) -> Path:
    """A new, empty file of ours in `folder` (created exclusively, under a random name) to
    write `name` into before it is put in place with `os.replace`."""
    fd, part = tempfile.mkstemp(dir=folder, prefix=f".{name}.", suffix=".part")
    os.close(fd)
    return Path(part)


def iter_findings(path: str | Path) -> Iterator[dict[str, Any]]:
    """The findings of a run, from its `findings.jsonl`."""
    try:
        with Path(path).open(encoding="utf-8") as handle:
            for line in handle:
                if line.strip():
                    yield json.loads(line)
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror or exc}") from None

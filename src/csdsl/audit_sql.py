"""The audit's SQL engines (`--engine duckdb` or `spark`): validity and KPIs in SQL, per version.

In: the policy versions, the findings and bad rows of the run (`csdsl.audit_output`), its
per-version counts of records judged; record files by type.  Out: one engine per version for the
whole run (the KPIs reuse the rows its validity pass parsed from the same file), the
`valid_complaint` findings and validity counts of a file (`validity`), each version's
`MetricResult`s (`metrics`), the rows the Python pass reads from an input only SQL reads
(`rows`: Parquet, a catalog table), the records before the first version (`early`), the rows of
an input only the KPIs read (`count_rows`), and what Spark read on its driver (`spark_notes`).
Clocks, rules and the KPIs that count a verdict, a condition or a clock are the Python pass's
(`csdsl.auditor`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from csdsl import records
from csdsl.audit_output import BadRows, Findings, people, people_fields, valid_message
from csdsl.audit_versions import AuditError, Version, day_start, receipt_of, version_window
from csdsl.metrics import MetricResult
from csdsl.records import RepeatedIds, Row

if TYPE_CHECKING:
    from csdsl.duck import DuckEngine
    from csdsl.spark import SparkEngine

Clause = Callable[[str | None, str, int, str | None], dict[str, Any]]


def count_rows(path: str) -> int:
    """The records in a file, good and bad, as the readers number them (`records.count_rows`;
    Parquet: rows)."""
    if Path(path).suffix.lower() == ".parquet":
        import duckdb

        found = duckdb.execute("select count(*) from read_parquet($path)", {"path": path})
        one = found.fetchone()
        return int(one[0]) if one is not None else 0
    return records.count_rows(path)


def sql_only(path: str) -> bool:
    """A catalog table or a Parquet file: inputs the Python reader cannot read."""
    return path.startswith("table:") or Path(path).suffix.lower() == ".parquet"


class SqlEngines:
    """The SQL engines of one audit run, one per policy version (see the module doc)."""

    def __init__(
        self,
        versions: Sequence[Version],
        engine: str,
        spark: Any,
        findings: Findings,
        bad: BadRows,
        judged: list[Counter[str]],
        clause: Clause,
        warnings: list[str],
    ) -> None:
        self.versions = versions
        self.engine = engine
        self.spark = spark  # the SparkSession of `--engine spark`
        self.tz = versions[-1].policy.tz
        self.findings = findings
        self.bad = bad
        self.judged = judged
        self.clause = clause
        self.warnings = warnings
        self.engines: dict[int, DuckEngine | SparkEngine] = {}
        self.repeated: dict[str, RepeatedIds] = {}  # ids repeated, as the SQL pass sees them
        self.count_later: list[tuple[str, str]] = []  # inputs read by the KPIs only

    def close(self) -> None:
        """Close every engine."""
        for engine in self.engines.values():
            engine.close()

    def forget(self) -> None:
        """Drop the tables of the files each DuckDB engine kept (the engines stay open: the
        event log `csdsl.duck_events` read into one is read again by the report)."""
        from csdsl.duck import DuckEngine

        for engine in self.engines.values():
            if isinstance(engine, DuckEngine):
                engine.tables.forget()

    def of(self, version: int) -> DuckEngine | SparkEngine:
        """The engine of a version (DuckDB, or Spark for `--engine spark`), made once for the
        whole run."""
        if version not in self.engines:
            policy = self.versions[version].policy
            if self.engine == "spark":
                from csdsl.spark import SparkEngine

                spark = SparkEngine(policy, self.spark)
                if spark.problem is not None:
                    self.warnings.append(
                        f"--engine spark: version {self.versions[version].label} runs on the "
                        f"Python reader and interpreter: {spark.problem}"
                    )
                self.engines[version] = spark
            else:
                from csdsl.duck import DuckEngine

                self.engines[version] = DuckEngine(policy)
        return self.engines[version]

    def rows(self, path: str, name: str) -> Iterator[Row]:
        """The rows of an input only SQL reads (`sql_only`), as the newest version's engine
        reads them."""
        return self.of(len(self.versions) - 1).rows(path, name)

    def count_rows(self, name: str, path: str) -> int:
        """The rows of an input read only by the KPIs, good and bad."""
        if self.engine == "spark":
            from csdsl.spark import SparkEngine

            engine = self.of(0)
            assert isinstance(engine, SparkEngine)
            return engine.count_rows(path, name)
        return count_rows(path)

    def spark_notes(self) -> None:
        """Say which inputs `--engine spark` read with the Python reader on the driver."""
        from csdsl.spark import SparkEngine

        for engine in self.engines.values():
            if not isinstance(engine, SparkEngine):
                continue
            for path in dict.fromkeys(engine.driver_reads):
                self.warnings.append(
                    f"--engine spark: {path} was read by the Python reader on the driver, not on "
                    "the executors (standard input, a .json array, a CSV cell spanning lines, "
                    "or text that may not be UTF-8)"
                )

    def early(self, name: str, path: str) -> int:
        """The readable rows of `path` received before the first version took effect."""
        first = self.versions[0].start
        field = receipt_of(self.versions[-1].policy, name)
        if first is None or field is None or path == "-":
            return 0
        return self.of(0).count_in_window(path, name, (field, None, day_start(first, self.tz)))

    def validity(
        self,
        name: str,
        path: str,
        counts: Counter[str],
        by_condition: Counter[tuple[str, int, str | None, str | None]],
    ) -> tuple[int, int]:
        """Judge a file of `name` records in SQL, each version over the records it judges:
        count the verdicts into `counts` and `by_condition`, add a finding per condition that
        made a record valid and each bad row (once).  Returns the rows and the rows read."""
        rows = read = 0
        field = receipt_of(self.versions[-1].policy, name)
        for i, v in enumerate(self.versions):
            window = None
            if len(self.versions) > 1 and field is not None:
                window = version_window(self.versions, i, field, self.tz)
            engine = self.of(i)
            validity = v.policy.ir.validity(name)
            if validity is None:
                if (name, path) not in self.count_later:
                    self.count_later.append((name, path))  # counted once its KPIs have run
                continue
            texts = {c.id: c.wording for c in validity.conditions}
            spans = {c.id: c.span for c in validity.conditions}
            who = people_fields(v.policy.ir.record(name))
            for r in engine.validate_file(path, name, window=window, people=who):
                if r.error is not None:
                    # every version's pass meets the bad rows: count each once
                    rows += self.bad.add(path, r.line, r.id, r.error)
                    continue
                rows += 1
                read += 1
                self.repeated.setdefault(path, RepeatedIds()).see(r.line, r.id)
                self.judged[i][name] += 1
                counts["judged"] += 1
                if not r.valid:
                    counts["unknown" if r.unknown else "invalid"] += 1
                    continue
                counts["valid"] += 1
                for cid in r.matched:
                    span = spans[cid]
                    by_condition[(span.file, span.line, cid, texts[cid])] += 1
                    self.findings.add(
                        {
                            "kind": "valid_complaint",
                            "clause": self.clause(cid, span.file, span.line, texts[cid]),
                            "severity": None,
                            "record": r.id,
                            "input": path,
                            "line": r.line,
                            "message": valid_message(name, cid, texts[cid]),
                            "evidence": r.evidence.get(cid, {}),
                            "version": v.label,
                            **people(r.people, who),
                        }
                    )
        return rows, read

    def metrics(self, files: Mapping[str, str]) -> dict[int, list[MetricResult]]:
        """Every metric of every version over the record files, in SQL (those that count a
        verdict, a condition or a clock are left to the Python pass), by version; the bad rows
        they meet are counted."""
        out: dict[int, list[MetricResult]] = {}
        for i, v in enumerate(self.versions):
            wanted = {
                n: p for n, p in files.items() if any(n in m.records for m in v.policy.ir.metrics)
            }
            if not wanted:
                continue
            # one window per receipt field: with several versions, each type's records are
            # split by the day they were received, as the python engine's router does
            by_field: dict[str | None, dict[str, str]] = {}
            for n, path in wanted.items():
                field = receipt_of(v.policy, n)
                by_field.setdefault(field if len(self.versions) > 1 else None, {})[n] = path
            for m in v.policy.ir.metrics:
                groups = {f for f, names in by_field.items() if set(m.records) & set(names)}
                if len(groups) > 1:
                    raise AuditError(
                        f"metric `{m.name}` reads records received on different fields; with "
                        "several versions run it with --engine python"
                    )
            results: list[MetricResult] = []
            engine = self.of(i)
            for field, names in by_field.items():
                window = None if field is None else version_window(self.versions, i, field, self.tz)
                found, bad = engine.measure_files(names, window=window, judged=False)
                results += found
                for p, row in bad:
                    assert row.error is not None
                    self.bad.add(p, row.line, row.id, row.error)
            out[i] = results
        return out

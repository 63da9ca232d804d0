"""The Python API: `csdsl.load(path) -> Policy`.

In: a policy path; records as mappings or files.  Out: `Verdict`s, `ValidatedRow`s and
`ExampleResult`s.  A policy that does not compile raises `PolicyError` with every diagnostic.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import attrs

from csdsl import ir
from csdsl.check import compile_file
from csdsl.diagnostics import Diagnostic, PolicyError
from csdsl.interpreter import Validator, Verdict
from csdsl.records import RecordReader, Row, RowError
from csdsl.source import SourceFile


class RecordError(ValueError):
    """A record handed to `Policy.validate` does not fit the record type."""

    def __init__(self, error: RowError) -> None:
        super().__init__(error.message)
        self.code = error.code
        self.field = error.field


@attrs.frozen
class ValidatedRow:
    line: int
    id: Any
    verdict: Verdict | None
    error: RowError | None


@attrs.frozen
class ExampleResult:
    example: ir.Example
    passed: bool
    verdict: Verdict
    message: str


class Policy:
    """A compiled policy."""

    def __init__(
        self, policy: ir.Policy, diagnostics: tuple[Diagnostic, ...], sources: dict[str, SourceFile]
    ) -> None:
        self.ir = policy
        self.diagnostics = diagnostics  # warnings only: a policy with errors never loads
        self.sources = sources
        self.tz: dt.tzinfo = (
            dt.UTC if policy.timezone == "UTC" else zoneinfo.ZoneInfo(policy.timezone)
        )
        self._validators: dict[str, Validator] = {v.record: Validator(v) for v in policy.validities}
        self._readers: dict[str, RecordReader] = {}

    @property
    def name(self) -> str | None:
        return self.ir.name

    @property
    def version(self) -> str | None:
        return self.ir.version

    def record_type(self, name: str | None = None) -> str:
        """The record type to validate: `name`, or the only one with a validity block."""
        if name is not None:
            if name not in self._validators:
                known = ", ".join(f"`{k}`" for k in self._validators) or "none"
                raise KeyError(f"no validity block for record `{name}` (records with one: {known})")
            return name
        if len(self._validators) == 1:
            return next(iter(self._validators))
        if not self._validators:
            raise KeyError("the policy has no validity block")
        raise KeyError(
            "the policy has validity blocks for several records ("
            + ", ".join(f"`{k}`" for k in self._validators)
            + "); choose one"
        )

    def reader(self, record: str | None = None) -> RecordReader:
        name = self.record_type(record)
        if name not in self._readers:
            rec = self.ir.record(name)
            assert rec is not None
            self._readers[name] = RecordReader(rec, self.tz)
        return self._readers[name]

    def validate(self, record: Mapping[str, Any], record_type: str | None = None) -> Verdict:
        """The verdict on one record (raw JSON-like values or Python ones)."""
        name = self.record_type(record_type)
        try:
            rid, values = self.reader(name).coerce(record)
        except RowError as exc:
            raise RecordError(exc) from None
        return self._validators[name](values, rid)

    def validate_values(
        self, values: Mapping[str, Any], record_type: str | None = None, record_id: Any = None
    ) -> Verdict:
        """The verdict on values already coerced (missing fields as None)."""
        return self._validators[self.record_type(record_type)](values, record_id)

    def validate_file(
        self, path: str | Path, record_type: str | None = None
    ) -> Iterator[ValidatedRow]:
        """Every row of a records file, with its verdict or its error.  Raises `InputError`."""
        name = self.record_type(record_type)
        validator = self._validators[name]
        row: Row
        for row in self.reader(name).read(str(path)):
            if row.values is None:
                yield ValidatedRow(row.line, row.id, None, row.error)
            else:
                yield ValidatedRow(row.line, row.id, validator(row.values, row.id), None)

    def run_examples(self) -> list[ExampleResult]:
        results = []
        for ex in self.ir.examples:
            verdict = self._validators[ex.record](dict(ex.values), ex.id or ex.title)
            expected = "valid" if ex.expect_valid else "invalid"
            got = "valid" if verdict.valid else "invalid"
            fired = (*verdict.matched, *verdict.excepted)
            problems = []
            if verdict.valid != ex.expect_valid:
                problems.append(f"expected {expected}, got {got}")
            if ex.because is not None and set(ex.because) != set(fired):
                missing = [c for c in ex.because if c not in fired]
                extra = [c for c in fired if c not in ex.because]
                if missing:
                    problems.append("did not match " + ", ".join(f"`{c}`" for c in missing))
                if extra:
                    problems.append("also matched " + ", ".join(f"`{c}`" for c in extra))
            if problems:
                message = (
                    "; ".join(problems)
                    + " (matched: "
                    + (", ".join(fired) if fired else "nothing")
                    + ")"
                )
            else:
                message = got + (" because " + ", ".join(fired) if fired else "")
            results.append(ExampleResult(ex, not problems, verdict, message))
        return results


def load(path: str | Path) -> Policy:
    """Compile a policy file; raises `PolicyError` (with every diagnostic) when it has errors."""
    compiled = compile_file(path)
    if not compiled.ok or compiled.policy is None:
        raise PolicyError(compiled.diagnostics, compiled.sources)
    return Policy(compiled.policy, compiled.diagnostics, compiled.sources)

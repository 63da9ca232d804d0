"""Which version of a policy judges which record: the versions in force, each from its
`effective` date until the next one's, and a reader that coerces each row with the version in
force on the day it was received.

In: `Policy` versions; a record file's raw rows.  Out: `Version`s in order, `VersionRouter` rows
(`Row.version` says which version judged them), the window of the records each version judges
(for the SQL engines), `AuditError` when the versions clash.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from csdsl import ir
from csdsl.api import Policy
from csdsl.records import RecordReader, Row, RowError


class AuditError(Exception):
    """The audit cannot run as asked (no inputs, an unknown record type, clashing versions)."""


@attrs.frozen
class Version:
    policy: Policy
    start: dt.date | None  # in force from (None: the only version, always)
    until: dt.date | None  # exclusive; None: still in force

    @property
    def label(self) -> str:
        p = self.policy
        return p.version or (p.ir.effective.isoformat() if p.ir.effective else p.ir.file)


def order_versions(policies: Sequence[Policy]) -> list[Version]:
    """The versions by effective date, each in force until the next one."""
    if not policies:
        raise AuditError("no policy to audit with")
    if len(policies) == 1:
        return [Version(policies[0], policies[0].ir.effective, None)]
    undated = [p.ir.file for p in policies if p.ir.effective is None]
    if undated:
        raise AuditError(
            f"{undated[0]}: several versions need an `effective` date each in the `policy` header"
        )
    ordered = sorted(policies, key=lambda p: p.ir.effective or dt.date.min)
    for a, b in itertools.pairwise(ordered):
        if a.ir.effective == b.ir.effective:
            raise AuditError(
                f"{a.ir.file} and {b.ir.file} both take effect on {a.ir.effective}; "
                "give each version its own `effective` date"
            )
    zones = {p.ir.timezone for p in ordered}
    if len(zones) > 1:
        raise AuditError(
            "the versions are in different time zones (" + ", ".join(sorted(zones)) + "); "
            "give them the same `timezone`"
        )
    return [
        Version(p, p.ir.effective, ordered[i + 1].ir.effective if i + 1 < len(ordered) else None)
        for i, p in enumerate(ordered)
    ]


def receipt_field(record: ir.Record) -> str | None:
    """The field that says when a record was received: its first required datetime field (or,
    failing that, its first datetime field)."""
    dts = [f for f in record.fields if f.type.kind is ir.Kind.DATETIME]
    required = [f for f in dts if not f.optional]
    chosen = required or dts
    return chosen[0].name if chosen else None


def receipt_of(policy: Policy, name: str) -> str | None:
    """`receipt_field` of the policy's record type `name`; `AuditError` when it has none."""
    record = policy.ir.record(name)
    if record is None:
        raise AuditError(f"the policy has no record `{name}`")
    return receipt_field(record)


def day_start(day: dt.date | None, tz: dt.tzinfo) -> dt.datetime | None:
    """The first instant of `day` on the policy's clock (None stays None: no bound)."""
    if day is None:
        return None
    return dt.datetime.combine(day, dt.time(), tzinfo=tz)


def version_window(
    versions: Sequence[Version], index: int, field: str, tz: dt.tzinfo
) -> tuple[str, dt.datetime | None, dt.datetime | None]:
    """The window (`csdsl.engine_rows.Window`) of the records version `index` judges: those
    received on `field` from the day it took effect (the first version: from any day) until
    the next version's."""
    v = versions[index]
    return (field, day_start(v.start if index else None, tz), day_start(v.until, tz))


class VersionRouter(RecordReader):
    """Reads a file once and coerces each row with the reader of the version in force on the
    day the row was received; the row's `version` says which."""

    def __init__(self, name: str, versions: Sequence[Version], tz: dt.tzinfo) -> None:
        newest = versions[-1].policy
        super().__init__(newest.reader(name).record, tz)
        self.readers: list[RecordReader | None] = [
            v.policy.reader(name) if v.policy.ir.record(name) else None for v in versions
        ]
        self.versions = versions
        self.field = receipt_field(self.record)
        self._when = self._coercer(ir.DATETIME)
        self.early = 0  # rows received before the first version took effect

    def version_of(self, obj: Any, text: bool) -> tuple[int, bool]:
        """The version that judges a raw row, and whether the row predates the first one."""
        if self.field is None or not isinstance(obj, Mapping):
            return len(self.versions) - 1, False
        raw = obj.get(self.field)
        try:
            day = (
                self._when(raw, text).astimezone(self.tz).date() if raw not in (None, "") else None
            )
        except (ValueError, TypeError):
            day = None
        return version_on(self.versions, day)

    def _row(self, line: int, obj: Any, text: bool = False) -> Row:
        if len(self.versions) == 1:  # nothing to choose: read the date once, from the values
            row = RecordReader._row(self, line, obj, text)
            when = row.values.get(self.field) if row.values and self.field else None
            first = self.versions[0].start
            if when is not None and first is not None:
                self.early += when.astimezone(self.tz).date() < first
            return row
        index, early = self.version_of(obj, text)
        reader = self.readers[index]
        if reader is None:
            return Row(
                line,
                None,
                None,
                RowError(
                    "A002",
                    f"version {self.versions[index].label} has no record `{self.record.name}`",
                ),
                index,
            )
        row = RecordReader._row(reader, line, obj, text)
        self.early += early and row.values is not None
        return attrs.evolve(row, version=index)


def version_on(versions: Sequence[Version], day: dt.date | None) -> tuple[int, bool]:
    """The index of the version in force on `day` (the newest for an unknown day; the first,
    for a day before it took effect), and whether `day` is before the first version."""
    if day is None:
        return len(versions) - 1, False
    found = 0
    for i, v in enumerate(versions):
        if v.start is None or v.start <= day:
            found = i
    first = versions[0].start
    return found, first is not None and day < first

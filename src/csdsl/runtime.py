"""What a generated checker (`csdsl compile --target python`) calls at run time.

In: the IR a generated module rebuilds at import (constructor calls of `ir` classes, `Span`,
`WorkCalendar`) and its compiled validity functions.  Out: `CompiledPolicy`, a `csdsl.api.Policy`
whose validity blocks run the generated code, while coercion, timelines, transcripts, metrics and
file reading reuse csdsl's engines; plus the few helpers the generated code calls (arithmetic that
turns an error into "unknown", building a `Verdict`).

This module and everything it imports are free of the parser: a generated module imports no lark.
`RUNTIME_VERSION` changes whenever what generated code expects of this module changes; a module
generated for another version refuses to import.
"""

from __future__ import annotations

import datetime as dt
import math
import zoneinfo
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

import attrs

from csdsl import ir
from csdsl.api import Policy
from csdsl.calendar import WorkCalendar
from csdsl.interpreter import ConditionResult, Validator, Verdict
from csdsl.source import Span

__all__ = [
    "RUNTIME_VERSION",
    "CompiledPolicy",
    "CompiledValidity",
    "ConditionResult",
    "Decimal",
    "Span",
    "Verdict",
    "WorkCalendar",
    "add",
    "div",
    "ir",
    "isfinite",
    "mul",
    "neg",
    "sub",
    "verdict",
    "zone",
]

RUNTIME_VERSION = 1

isfinite = math.isfinite
VerdictFn = Callable[[Mapping[str, Any], Any], Verdict]
MatchedFn = Callable[[Mapping[str, Any]], list[str]]


def zone(key: str) -> dt.tzinfo:
    """The time zone of an IANA key, as the compiler made it (`UTC` is `datetime.UTC`)."""
    return zoneinfo.ZoneInfo(key)


def require(version: int) -> None:
    """Refuse a generated module made for another runtime."""
    if version != RUNTIME_VERSION:
        raise ImportError(
            f"this checker was generated for csdsl runtime {version}, but the installed csdsl "
            f"has runtime {RUNTIME_VERSION}; generate it again with `csdsl compile`"
        )


# ---- arithmetic as the interpreter does it: an error or a non-finite number is unknown -------


def _finite(result: Any) -> Any:
    return None if type(result) is float and not math.isfinite(result) else result


def neg(a: Any) -> Any:
    try:
        return -a
    except OverflowError:  # -timedelta.max
        return None


def add(a: Any, b: Any) -> Any:
    try:
        return _finite(a + b)
    except (ZeroDivisionError, OverflowError):
        return None


def sub(a: Any, b: Any) -> Any:
    try:
        return _finite(a - b)
    except (ZeroDivisionError, OverflowError):
        return None


def mul(a: Any, b: Any) -> Any:
    try:
        return _finite(a * b)
    except (ZeroDivisionError, OverflowError):
        return None


def div(a: Any, b: Any) -> Any:
    try:
        return _finite(a / b)
    except (ZeroDivisionError, OverflowError):
        return None


def verdict(
    record_id: Any,
    conditions: tuple[ConditionResult, ...],
    exceptions: tuple[ConditionResult, ...],
    every: bool,
) -> Verdict:
    """The verdict from the outcomes, as `interpreter.Validator` forms it (`every`: `all`)."""
    matched = tuple([c.id for c in conditions if c.outcome is True])
    excepted = tuple([c.id for c in exceptions if c.outcome is True])
    holds = len(matched) == len(conditions) if every else bool(matched)
    return Verdict(record_id, holds and not excepted, matched, excepted, conditions, exceptions)


class CompiledValidity(Validator):
    """A validity block whose conditions are generated functions (same interface as the
    interpreter's `Validator`, so every engine and the auditor can use it)."""

    def __init__(self, validity: ir.Validity, judge: VerdictFn, matched: MatchedFn) -> None:
        # the interpreter's closures are not built: the generated functions replace them
        self.validity = validity
        self._judge = judge
        self._matched = matched

    def __call__(self, record: Mapping[str, Any], record_id: Any = None) -> Verdict:
        return self._judge(record, record_id)

    def matched_ids(self, record: Mapping[str, Any]) -> list[str]:
        return self._matched(record)


class CompiledPolicy(Policy):
    """A policy rebuilt by a generated module: the `csdsl.api.Policy` interface (validate,
    timeline, check_transcript, the `*_file` readers, measure), with validity run by the
    generated functions given as `{record type: (verdict, matched_ids)}`."""

    def __init__(
        self, policy: ir.Policy, validities: Mapping[str, tuple[VerdictFn, MatchedFn]]
    ) -> None:
        super().__init__(attrs.evolve(policy, validities=()), (), {})
        self.ir = policy
        known = {v.record: v for v in policy.validities}
        self._validators = {
            name: CompiledValidity(known[name], judge, matched)
            for name, (judge, matched) in validities.items()
        }

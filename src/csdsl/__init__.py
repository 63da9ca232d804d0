"""csdsl: a compiler for customer-service policies.

import csdsl
policy = csdsl.load("policies/complaint_validity.csp")  # raises csdsl.PolicyError
verdict = policy.validate(record)                         # Verdict(valid, matched, ...)
report = csdsl.audit(policy, records=..., events=..., transcripts=..., out="out/")

The top-level names are imported on first use (PEP 562): `import csdsl.timeline` or a generated
checker (`csdsl compile --target python`) loads only the modules it needs, never the parser.
"""

import importlib as _importlib
import typing as _typing

__version__ = "0.1.0"  # before anything else: csdsl.auditor and csdsl.cache read it

if _typing.TYPE_CHECKING:
    from csdsl.api import ExampleResult, Policy, RecordError, ValidatedRow, load
    from csdsl.auditor import AuditError, AuditReport, audit
    from csdsl.diagnostics import Diagnostic, PolicyError, Severity
    from csdsl.interpreter import ConditionResult, Verdict
    from csdsl.records import InputError, RowError

# where each top-level name lives
_LAZY = {
    "ExampleResult": "csdsl.api",
    "Policy": "csdsl.api",
    "RecordError": "csdsl.api",
    "ValidatedRow": "csdsl.api",
    "load": "csdsl.api",
    "AuditError": "csdsl.auditor",
    "AuditReport": "csdsl.auditor",
    "audit": "csdsl.auditor",
    "Diagnostic": "csdsl.diagnostics",
    "PolicyError": "csdsl.diagnostics",
    "Severity": "csdsl.diagnostics",
    "ConditionResult": "csdsl.interpreter",
    "Verdict": "csdsl.interpreter",
    "InputError": "csdsl.records",
    "RowError": "csdsl.records",
}

__all__ = [
    "AuditError",
    "AuditReport",
    "ConditionResult",
    "Diagnostic",
    "ExampleResult",
    "InputError",
    "Policy",
    "PolicyError",
    "RecordError",
    "RowError",
    "Severity",
    "ValidatedRow",
    "Verdict",
    "audit",
    "load",
]


def __getattr__(name: str) -> _typing.Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'csdsl' has no attribute {name!r}")
    value = getattr(_importlib.import_module(module), name)
    globals()[name] = value  # once imported, a plain attribute: no further lookups here
    return value


def __dir__() -> list[str]:
    return sorted({*(k for k in globals() if not k.startswith("_")), *_LAZY, "__version__"})

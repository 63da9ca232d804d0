"""csdsl: a compiler for customer-service policies.

import csdsl
policy = csdsl.load("policies/complaint_validity.csp")  # raises csdsl.PolicyError
verdict = policy.validate(record)                         # Verdict(valid, matched, ...)
report = csdsl.audit(policy, records=..., events=..., transcripts=..., out="out/")
"""

__version__ = "0.1.0"  # before the imports: csdsl.auditor reads it

from csdsl.api import ExampleResult, Policy, RecordError, ValidatedRow, load
from csdsl.auditor import AuditError, AuditReport, audit
from csdsl.diagnostics import Diagnostic, PolicyError, Severity
from csdsl.interpreter import ConditionResult, Verdict
from csdsl.records import InputError, RowError

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

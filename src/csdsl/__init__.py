"""csdsl: a compiler for customer-service policies.

import csdsl
policy = csdsl.load("policies/complaint_validity.csp")  # raises csdsl.PolicyError
verdict = policy.validate(record)                         # Verdict(valid, matched, ...)
"""

from csdsl.api import ExampleResult, Policy, RecordError, ValidatedRow, load
from csdsl.diagnostics import Diagnostic, PolicyError, Severity
from csdsl.interpreter import ConditionResult, Verdict
from csdsl.records import InputError, RowError

__all__ = [
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
    "load",
]
__version__ = "0.1.0"

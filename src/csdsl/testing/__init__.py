"""Hypothesis strategies for csdsl (public testing API; needs `hypothesis`).

In: nothing, or a checked record type.  Out: strategies for
- `names()`: identifiers, ASCII and Chinese, never a keyword;
- `expressions()`, `modules()`: arbitrary well-formed ASTs (for print/parse round trips);
- `typed_conditions(record)`: well-typed boolean conditions over a record's fields, as ASTs;
- `mutated(texts, pieces)`: policy texts damaged a few times (bad input that looks real);
- `record_values(record, tz, near=...)`: values for a record type (missing ones as None),
  optionally drawn often from given values, such as `boundaries(expr)` (the constants a field is
  compared with, and their neighbours); `plain_value(field, tz)` is the plainest value;
- `raw_records(record, tz)`, `jsonl_lines(...)`, `csv_text(...)`: records and files as exports
  spell them, good and bad, for engines that read files themselves.
`SAMPLE_RECORD` is the text of a record type with a field of every type, required and optional,
for policies built from generated conditions.  Engineers can use them to test code that embeds
policies.

They live in three modules, one job each: `policies` (ASTs and damaged texts), `well_typed`
(conditions that check and the values they judge) and `raw_files` (what files hold); this
package is their public face.
"""

from csdsl.testing.policies import (
    calendars,
    deadlines,
    escalations,
    expressions,
    idents,
    literals,
    modules,
    mutated,
    names,
    rules,
    time_specs,
    transcript_examples,
    transcript_rules,
)
from csdsl.testing.raw_files import csv_text, jsonl_lines, raw_field_values, raw_ids, raw_records
from csdsl.testing.well_typed import (
    ANCHOR,
    SAMPLE_RECORD,
    boundaries,
    on_clock,
    plain_value,
    record_values,
    typed_conditions,
)

__all__ = [
    "ANCHOR",
    "SAMPLE_RECORD",
    "boundaries",
    "calendars",
    "csv_text",
    "deadlines",
    "escalations",
    "expressions",
    "idents",
    "jsonl_lines",
    "literals",
    "modules",
    "mutated",
    "names",
    "on_clock",
    "plain_value",
    "raw_field_values",
    "raw_ids",
    "raw_records",
    "record_values",
    "rules",
    "time_specs",
    "transcript_examples",
    "transcript_rules",
    "typed_conditions",
]

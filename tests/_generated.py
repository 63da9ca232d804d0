"""Generated policies for the engine agreement tests (DuckDB, SQL, JSON IR): one record type `R`
with a field of every type, the groupings and time zones to draw, and the text of a policy
around generated conditions with a metric of every kind.

`testing.SAMPLE_RECORD` is close, but has a required `m: int` and no `team`: the hand-written
rows of these tests and the `by team` groupings need this one.
"""

from __future__ import annotations

from hypothesis import strategies as st

from csdsl import ir, testing
from csdsl.check.lower import Lowering
from csdsl.check.modules import Graph
from csdsl.source import SourceFile
from csdsl.syntax import ast
from csdsl.syntax.format import expr_text
from csdsl.syntax.parse import parse

RECORD = """record R {
  flag: bool
  opt: bool?
  n: int?
  x: number?
  note: text?
  day: date?
  start: datetime
  finish: datetime?
  wait: duration?
  tier: enum(regular, key_account)?
  team: text
}"""

GROUPS = [
    "team",
    "tier",
    "flag",
    "n",
    "day",
    "day of start",
    "week of start",
    "month of start",
    "month of day",
    "week of day",
    "team, tier",
]
ZONES = ["Asia/Shanghai", "UTC", "America/New_York"]


def record() -> ir.Record:
    """`R`, checked."""
    module, _ = parse(SourceFile("r.csp", RECORD))
    assert module is not None and isinstance(module.items[0], ast.RecordDecl)
    return Lowering(Graph()).record(module.items[0])


def policy_text(
    zone: str,
    conds: list[str],
    excs: list[str],
    quantifier: str,
    group: str,
    number_group: bool = False,
) -> str:
    """A policy over `R`: the conditions and exceptions as a validity block, and metrics of every
    kind (ratios, sums, means, percentiles, arithmetic on aggregates) grouped by `group`; with
    `number_group`, also one grouped by a number field, which the SQL target refuses."""
    cs = "\n".join(f"  c{i}: {c}" for i, c in enumerate(conds))
    xs = "\n".join(f"  x{i}: {c}" for i, c in enumerate(excs))
    unless = f" unless {{\n{xs}\n}}" if excs else ""
    where = conds[0]
    return f"""policy "generated" timezone "{zone}"

{RECORD}

valid R when {quantifier} {{
{cs}
}}{unless}

metric share: count(R where {where}) / count(R) >= 50% by {group}
metric total: sum(R.x where {conds[-1]}) >= 10 by {group}
metric whole: sum(R.n) * 2 - count(R where flag) + min(R.n) >= 3 by {group}
metric average_wait: mean(R.wait) <= 2h by {group}
metric average_n: mean(R.n) >= 1.5 by {group}
metric shortest: min(R.x) + max(R.n) >= 0 by {group}
metric median_wait: percentile(50, R.wait where {where}) <= 1h by {group}
metric odd_rank: percentile(33.3, R.wait) >= 10m by {group}
metric p90: percentile(90, R.x) >= 1
metric p95: percentile(95, R.n) <= 20 by tier
metric longest: max(R.wait) - min(R.wait) >= 1h by tier
metric scaled: mean(R.wait) * 1.5 / 4 <= 3h by {group}
metric per_flag: sum(R.wait) / count(R where flag) <= 1h by {group}
metric times: count(R where opt) * max(R.wait) / sum(R.wait) >= 10%
""" + ("metric per_number: count(R) >= 1 by x\n" if number_group else "")


@st.composite
def generated_policy(
    draw: st.DrawFn, record: ir.Record, number_group: bool = False
) -> tuple[str, str]:
    """(zone, text) of a policy over `record` (`R`): one to three generated conditions, at most
    one exception, a zone and a grouping drawn from `ZONES` and `GROUPS`."""
    conds = draw(st.lists(testing.typed_conditions(record, max_depth=2), min_size=1, max_size=3))
    excs = draw(st.lists(testing.typed_conditions(record, max_depth=1), max_size=1))
    zone = draw(st.sampled_from(ZONES))
    text = policy_text(
        zone,
        [expr_text(c) for c in conds],
        [expr_text(c) for c in excs],
        draw(st.sampled_from(["any", "all"])),
        draw(st.sampled_from(GROUPS)),
        number_group,
    )
    return zone, text

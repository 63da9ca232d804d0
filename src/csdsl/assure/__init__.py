"""Policy assurance: tools that look at a policy as a whole rather than at one record.

In: loaded policies (`csdsl.Policy`).  Out: reports a policy owner reads before publishing:
- `csdsl.assure.diff`: what changed between two versions of a policy, clause by clause, and
  witness records (from example data and from Hypothesis strategies) whose verdict, due time or
  escalation differs between them (`csdsl diff OLD NEW`);
- `csdsl.assure.verify`: records that break the policy's `invariant` clauses, found and shrunk
  by Hypothesis (`csdsl verify FILE...`).

This package imports nothing heavy itself: the command line reads `VERIFY_MAX_EXAMPLES` without
importing Hypothesis.
"""

VERIFY_MAX_EXAMPLES = 500  # records `csdsl verify` tries per invariant by default

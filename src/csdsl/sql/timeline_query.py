"""The SQL of timelines: `TimelineQuery` writes, for one record type, the queries whose rows are
the milestones `csdsl.timeline.TimelineBuilder` gives (and the cases to hand back to Python).
`csdsl.sql.timelines` makes the tables they read and runs them; its docstring says what the
tables hold and how the clock rules become SQL.
"""

from __future__ import annotations

from csdsl.sql.timeline_deadlines import DeadlineSteps
from csdsl.sql.timeline_ladders import LadderSteps
from csdsl.sql.timeline_plan import MILESTONE_COLUMNS

__all__ = ["TimelineQuery"]


class TimelineQuery(DeadlineSteps, LadderSteps):
    """One query's steps: every deadline and ladder of the plan that SQL can say."""

    def steps(self) -> tuple[list[tuple[str, str]], str, str, str]:
        """The named steps (CTEs) and three final queries over them: the milestones (ordered),
        the cases to hand to Python, and both in one (the cases as rows with `ci` -1)."""
        for i, d in enumerate(self.p.deadlines):
            if d.name not in self.p.python:
                self.deadline(i, d)
        n = len(self.p.deadlines)
        for li, e in enumerate(self.p.escalations):
            if e.name not in self.p.python:
                self.ladder(n + li, li, e)
        t, b = self.d.text, "BIGINT"

        def empty(k: str, ci: str, where: str) -> str:
            return (
                f"SELECT {k} AS k, {ci} AS ci, 0 AS cy, 0 AS sub, CAST(NULL AS {t}) AS clause, "
                f"CAST(NULL AS {t}) AS kind, CAST(NULL AS {t}) AS owner, CAST(NULL AS {b}) AS "
                f"due, CAST(NULL AS {t}) AS status, CAST(NULL AS {b}) AS ts, CAST(NULL AS {b}) "
                f"AS late, CAST(NULL AS {t}) AS msg{where}"
            )

        union = " UNION ALL ".join(self.parts) or empty(f"CAST(NULL AS {t})", "0", " WHERE FALSE")
        flags = " UNION ALL ".join(self.flags) or f"SELECT CAST(NULL AS {t}) AS k WHERE FALSE"
        handed = empty("k", "-1", f" FROM (SELECT DISTINCT k FROM ({flags}) g)")
        both = f"{union} UNION ALL {handed}"
        return (
            self.ctes.items,
            f"SELECT {MILESTONE_COLUMNS} FROM ({union}) m ORDER BY k, ci, cy, sub",
            f"SELECT DISTINCT k FROM ({flags}) f",
            f"SELECT {MILESTONE_COLUMNS} FROM ({both}) m",
        )

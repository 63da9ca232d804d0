"""The audit's transcripts pass: every transcript checked by the version in force when it started.

In: the run (`csdsl.audit_run.AuditRun`: its versions, findings, bad rows, counts), a transcripts
file, how many processes may check it.  Out: a `transcript` finding per rule a transcript broke,
the bad rows, each version's count of transcripts judged, the transcripts from before the first
version (`run.early`), and the report's `transcripts` section: the scores' mean, minimum and
histogram and the findings by rule.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

from csdsl import pool
from csdsl.audit_output import people, transcript_people
from csdsl.audit_run import AuditRun
from csdsl.audit_versions import AuditError, version_on
from csdsl.qa import TranscriptResult
from csdsl.records import Row
from csdsl.transcripts import TranscriptReader


def transcript_file(run: AuditRun, path: str, processes: int) -> tuple[int, int]:
    """Check every transcript of `path` with the version in force on the day it started, on
    `processes` cores (`csdsl.pool`; 1: inline): add its findings and bad rows to the run and
    set `run.transcripts`, the summary.  Returns the rows and the transcripts checked."""
    checkers = [
        v.policy.transcript_checker() if v.policy.ir.transcript_rules else None
        for v in run.versions
    ]
    if not any(checkers):
        raise AuditError("--transcripts given, but the policy has no `transcript rules`")
    scores: list[float] = []
    histogram = [0] * 10
    by_rule: Counter[tuple[str, int, str, str, str]] = Counter()
    count = Counter[str]()

    def judged() -> Iterator[tuple[Row, int]]:
        """The transcripts to check, with their version; bad rows counted on the way."""
        for row in TranscriptReader(run.tz).read(path):
            count["rows"] += 1
            if run.progress is not None and count["rows"] % 100 == 0:
                run.progress(path, 100)
            if row.values is None:
                assert row.error is not None
                run.bad.add(path, row.line, row.id, row.error)
                continue
            started = row.values["transcript"].started_at
            index, early = version_on(
                run.versions, started.astimezone(run.tz).date() if started else None
            )
            run.early += early
            if checkers[index] is None:
                continue
            count["read"] += 1
            run.judged[index]["transcripts"] += 1
            yield row, index

    def check(item: tuple[Row, int]) -> TranscriptResult:
        row, index = item
        checker = checkers[index]
        assert checker is not None and row.values is not None
        return checker.check(row.values["transcript"])

    for (row, index), result in pool.in_order(judged(), check, processes):
        scores.append(result.score)
        histogram[min(int(result.score // 10), 9) if result.score > 0 else 0] += 1
        assert row.values is not None
        who = transcript_people(row.values["transcript"])
        for f in result.findings:
            by_rule[(f.clause.file, f.clause.line, f.rule, f.kind, f.severity)] += 1
            run.findings.add(
                {
                    "kind": "transcript",
                    "clause": run.worded_clause(f.rule, f.clause.file, f.clause.line),
                    "severity": f.severity,
                    "record": row.id,
                    "input": path,
                    "line": row.line,
                    "message": f.message,
                    "evidence": {
                        "turn": f.turn,
                        "span": list(f.span) if f.span is not None else None,
                        "text": f.text,
                        "points": f.points,
                        "score": result.score,
                    },
                    "version": run.versions[index].label,
                    **people(who),
                }
            )
    rows, read = count["rows"], count["read"]
    if run.progress is not None:
        run.progress(path, rows % 100)
    run.transcripts = {
        "checked": read,
        "mean_score": round(sum(scores) / len(scores), 2) if scores else None,
        "min_score": min(scores) if scores else None,
        "score_histogram": [
            {"from": i * 10, "to": i * 10 + 10, "count": n} for i, n in enumerate(histogram)
        ],
        "by_rule": [
            {
                "clause": run.worded_clause(rule, f, ln),
                "kind": kind,
                "severity": sev,
                "count": n,
            }
            for (f, ln, rule, kind, sev), n in sorted(
                by_rule.items(), key=lambda kv: (-kv[1], kv[0][0], kv[0][1])
            )
        ],
    }
    return rows, read

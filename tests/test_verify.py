"""`invariant` clauses and `csdsl verify` (issue 7, acceptance 1).

A broken invariant gets a shrunk counterexample within the default budget and a correct one
passes, at fixed seeds; the counterexample really breaks the invariant when read back as a
record, and its `example` block passes when pasted into the policy.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import attrs
import pytest
from hypothesis import given, settings, strategies as st

import csdsl
from csdsl import ir, testing
from csdsl.api import Policy
from csdsl.assure.verify import (
    MAX_EXAMPLES,
    Counterexample,
    InvariantChecker,
    InvariantResult,
    verify,
)
from csdsl.cli import main
from csdsl.diagnostics import PolicyError

ROOT = Path(__file__).resolve().parents[1]
HANDLING = ROOT / "policies" / "complaint_handling.csp"
BROKEN = ROOT / "examples" / "verify" / "desk_within_a_day.csp"

HEADER = 'policy "t" timezone "Asia/Shanghai"\n'
RECORD = """
record Complaint {
  received_at: datetime
  tier: enum(regular, key_account)
  complexity: enum(simple, complex)
  rude: bool
  amount: number
  note: text?
}

valid Complaint when any {
  rude_agent: rude
  big_loss: amount > 500
}

calendar office {
  open mon-fri 09:00-12:00, 13:30-18:00
  holidays china
}

deadline reply for Complaint {
  starts at received_at
  stops on replied
  within 2h when complexity = simple
  within 24h when complexity = complex
}

escalation ladder for Complaint {
  roles agent -> team_lead -> supervisor
  agent -> team_lead on breach of reply within 30m
  team_lead -> supervisor after 4 working hours on office
}
"""


def _policy(tmp_path: Path, body: str, name: str = "p.csp") -> Policy:
    path = tmp_path / name
    path.write_text(HEADER + RECORD + body, encoding="utf-8")
    return csdsl.load(path)


def _reread(policy: Policy, record: dict[str, object]) -> dict[str, object]:
    """A counterexample's JSON record, read back the way a records file is."""
    return policy.reader("Complaint").coerce(dict(record))[1]


def _broken(tmp_path: Path, body: str) -> tuple[Policy, Counterexample]:
    """The policy of `body` and the counterexample to its one invariant (seed 0)."""
    policy = _policy(tmp_path, body)
    cx = _one(policy).counterexample
    assert cx is not None
    return policy, cx


def _one(policy: Policy, **kw: int) -> InvariantResult:
    (result,) = verify(policy, **kw)
    return result


# ---- acceptance 1: broken and correct invariants, fixed seeds ----------------------------------


@pytest.mark.parametrize("seed", [0, 1, 7])
def test_a_broken_invariant_gets_a_shrunk_counterexample(tmp_path: Path, seed: int) -> None:
    policy = _policy(
        tmp_path,
        'invariant fast "every valid complaint is due within 20 hours" '
        "{ not valid or due(reply) - received_at <= 20h }",
    )
    r = _one(policy, seed=seed)
    assert not r.holds and r.counterexample is not None
    record = r.counterexample.record
    # only a valid (rude, or a loss over 500) complex complaint (24h) breaks it ...
    assert record["complexity"] == "complex"
    assert record["rude"] is True or record["amount"] > 500
    # ... and shrinking took every value the search drew to its simplest: the plain working-day
    # morning for the datetime, the first enum value, no loss once the agent is rude
    assert record["received_at"] == "2024-10-29T09:00:00+08:00"
    assert record["tier"] == "regular" and record["note"] is None
    assert (record["rude"], record["amount"]) in ((True, 0), (False, 501))
    assert dict(r.counterexample.terms)["due(reply)"] is not None
    # read back as a record, it really breaks the invariant
    check = InvariantChecker(policy, policy.ir.invariants[0])
    assert check(_reread(policy, record)) is False


@pytest.mark.parametrize("seed", [0, 1, 7])
def test_correct_invariants_hold(tmp_path: Path, seed: int) -> None:
    policy = _policy(
        tmp_path,
        """
invariant within_a_day "every complaint is due within 24 hours" {
  due(reply) is set and due(reply) - received_at <= 24h
}
invariant same_for_all "tier changes nothing" {
  due(reply) = due(reply where tier = key_account)
}
invariant team_lead "the team lead takes over 30 minutes after the breach" {
  due(ladder.team_lead) - due(reply) = 30m
}
invariant counts "a rude agent makes it count" { not rude or valid }
""",
    )
    results = verify(policy, seed=seed)
    assert [r.holds for r in results] == [True] * 4
    assert all(r.max_examples == MAX_EXAMPLES for r in results)


@pytest.mark.parametrize("seed", [0, 3])
def test_the_bundled_policies_invariants_hold(seed: int) -> None:
    for path in ("complaint_handling.csp", "complaint_validity.csp", "hotline.csp"):
        policy = csdsl.load(ROOT / "policies" / path)
        assert policy.ir.invariants, path
        results = verify(policy, seed=seed, max_examples=200)
        assert all(r.holds for r in results), [r.to_text() for r in results if not r.holds]


def test_the_bundled_broken_example_is_broken_on_the_calendar() -> None:
    """The desk's 1 working hour is no "24 hours": a complaint before a closed day breaks it,
    the policy's own examples aside."""
    policy = csdsl.load(BROKEN)
    policy.ir = attrs.evolve(policy.ir, examples=())
    (r,) = [r for r in verify(policy) if r.invariant.id == "desk_within_a_day"]
    assert r.counterexample is not None and r.counterexample.source == "generated"
    assert r.counterexample is not None
    rec = _reread(policy, r.counterexample.record)
    due = dict(r.counterexample.terms)["due(desk_acknowledge)"]
    received = rec["received_at"]
    assert isinstance(received, dt.datetime)
    assert dt.datetime.fromisoformat(due) - received > dt.timedelta(hours=24)


def test_an_unnamed_invariant_names_its_counterexample_by_line(tmp_path: Path) -> None:
    _, cx = _broken(tmp_path, 'invariant "due within 3h" { due(reply) - received_at <= 3h }')
    line = (HEADER + RECORD).count("\n") + 1
    assert cx.record["id"] == f"counterexample-line-{line}"


def test_the_same_seed_finds_the_same_counterexample(tmp_path: Path) -> None:
    body = 'invariant fast "due within 3h" { due(reply) - received_at <= 3h }'
    a = _one(_policy(tmp_path, body), seed=5).counterexample
    b = _one(_policy(tmp_path, body, "q.csp"), seed=5).counterexample
    assert a is not None and b is not None
    assert a.record == b.record


def test_unknown_is_not_broken(tmp_path: Path) -> None:
    """`note` may be missing: the invariant is then unknown, and unknown is no counterexample."""
    policy = _policy(tmp_path, 'invariant noted "a note is never empty" { note != "" or rude }')
    r = _one(policy)
    assert r.counterexample is not None  # note = "" and not rude breaks it
    assert r.counterexample.record["note"] == ""
    policy = _policy(tmp_path, 'invariant n "never empty" { note != "" }', "q.csp")
    r = _one(policy)
    assert r.counterexample is not None and r.counterexample.record["note"] == ""
    policy = _policy(
        tmp_path, 'invariant n "never set" { note is missing or note = note }', "r.csp"
    )
    assert _one(policy).holds


def test_the_policys_own_examples_are_tried_first(tmp_path: Path) -> None:
    policy = _policy(
        tmp_path,
        """
invariant polite "a rude agent never causes a loss" { not rude or amount = 0 }

example "rude and costly" {
  given Complaint {
    received_at: 2024-10-29T09:00
    tier: key_account
    complexity: simple
    rude: true
    amount: 12.5
    note: "客户投诉"
  }
  expect valid because rude_agent
}
""",
    )
    r = _one(policy, max_examples=1)
    assert r.counterexample is not None
    assert r.counterexample.source.startswith('example "rude and costly" (')
    assert r.counterexample.record["amount"] == 12.5 and r.counterexample.example == ""
    assert "broken by the policy's own example" in r.to_text()


# ---- the terms ---------------------------------------------------------------------------------


def test_valid_term_is_the_verdict(tmp_path: Path) -> None:
    _, cx = _broken(tmp_path, 'invariant v "big losses are rude" { not valid or rude }')
    assert cx.record["rude"] is False and cx.record["amount"] > 500  # next to the constant 500
    assert dict(cx.terms)["valid"] is True


def test_where_changes_fields_for_the_term_only(tmp_path: Path) -> None:
    _, cx = _broken(
        tmp_path,
        'invariant k "complex waits as long as simple" '
        "{ due(reply) <= due(reply where complexity = simple) }",
    )
    assert cx.record["complexity"] == "complex"
    terms = dict(cx.terms)
    gap = dt.datetime.fromisoformat(terms["due(reply)"]) - dt.datetime.fromisoformat(
        terms["due(reply where complexity = simple)"]
    )
    assert gap == dt.timedelta(hours=22)


def test_a_ladder_term_follows_the_working_calendar(tmp_path: Path) -> None:
    policy, cx = _broken(
        tmp_path,
        'invariant s "the supervisor is reached within 5 hours of receipt" '
        "{ due(ladder.supervisor) - received_at <= 5h }",
    )
    check = InvariantChecker(policy, policy.ir.invariants[0])
    values = _reread(policy, cx.record)
    terms = check.terms(values)
    # team lead at due + 30m, then 4 working hours on the office calendar: past 5h whenever
    # the office is closed in between
    assert terms["due(ladder.supervisor)"] - values["received_at"] > dt.timedelta(hours=5)


def test_the_search_aims_at_the_working_calendars_openings_and_closings(tmp_path: Path) -> None:
    """A due time exactly 1h1s after receipt happens only for a complaint received one second
    before the office opens: about one second in 30,000 of a uniform year, so found only
    because the search draws instants next to the calendar's edges."""
    _, cx = _broken(
        tmp_path,
        """
deadline desk for Complaint {
  starts at received_at
  stops on acknowledged
  within 1 working hours on office
}
invariant edge "never 1h1s" { due(desk) - received_at != 1h1s }
""",
    )
    received = dt.datetime.fromisoformat(str(cx.record["received_at"]))
    assert (received.hour, received.minute, received.second) in ((8, 59, 59), (13, 29, 59))


def test_due_is_missing_for_a_clock_that_starts_on_an_event(tmp_path: Path) -> None:
    policy = _policy(
        tmp_path,
        """
deadline written for Complaint {
  starts on written_report
  stops on manager_replied
  within 48h
}
invariant w "no due time before the report" { due(written) is missing }
""",
    )
    assert _one(policy).holds


# ---- the pasteable example ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        'invariant fast "due within 20 hours" { due(reply) - received_at <= 20h }',
        'invariant v "big losses are rude" { not valid or rude }',
        'invariant s "supervisor within 5h" { due(ladder.supervisor) - received_at <= 5h }',
    ],
)
def test_the_example_block_passes_when_pasted(tmp_path: Path, body: str) -> None:
    _, cx = _broken(tmp_path, body)
    assert "example" in cx.example
    pasted = tmp_path / "pasted.csp"
    pasted.write_text(HEADER + RECORD + body + "\n\n" + cx.example + "\n", encoding="utf-8")
    again = csdsl.load(pasted)
    results = again.run_examples()
    assert len(results) == 1 and results[0].passed, results[0].message


# ---- diagnostics -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ('invariant x "t" for Nope { true }', "E203"),
        ('invariant x "t" { due(nope) is set }', "E271"),
        ('invariant x "t" { due(ladder.boss) is set }', "E272"),
        ('invariant x "t" { due(ladder) is set }', "E272"),
        ('invariant x "t" { due(reply.agent) is set }', "E272"),
        ('invariant x "t" { due(reply where rude) is set }', "E273"),
        ('invariant x "t" { due(reply where tier = gold) is set }', "E210"),
        ('invariant x "t" { count(Complaint) > 1 }', "E275"),
        ('invariant x "t" { due(reply) }', "E276"),
        ('invariant x "t" { rude }\ninvariant x "u" { rude }', "E202"),
        ('invariant x "t" { valid and valid = valid }', None),
    ],
)
def test_invariant_diagnostics(tmp_path: Path, body: str, code: str | None) -> None:
    path = tmp_path / "p.csp"
    path.write_text(HEADER + RECORD + body + "\n", encoding="utf-8")
    if code is None:
        csdsl.load(path)
        return
    with pytest.raises(PolicyError) as exc:
        csdsl.load(path)
    codes = [d.code for d in exc.value.diagnostics if d.is_error]
    assert codes and codes[0] == code, codes


def test_valid_outside_an_invariant_and_without_a_validity_block(tmp_path: Path) -> None:
    path = tmp_path / "p.csp"
    path.write_text(
        HEADER + RECORD.replace("big_loss: amount > 500", "big_loss: valid"), encoding="utf-8"
    )
    with pytest.raises(PolicyError) as exc:
        csdsl.load(path)
    assert [d.code for d in exc.value.diagnostics] == ["E277"]
    path.write_text(
        HEADER + 'record R { a: bool }\ninvariant x "t" for R { valid or a }\n', encoding="utf-8"
    )
    with pytest.raises(PolicyError) as exc:
        csdsl.load(path)
    assert [d.code for d in exc.value.diagnostics] == ["E274"]


def test_the_record_is_inferred_only_when_one_is_judged(tmp_path: Path) -> None:
    path = tmp_path / "p.csp"
    path.write_text(
        HEADER + RECORD + "record Call { long: bool }\nvalid Call when any { l: long }\n"
        'invariant x "which?" { true }\n',
        encoding="utf-8",
    )
    with pytest.raises(PolicyError) as exc:
        csdsl.load(path)
    (d,) = exc.value.diagnostics
    assert d.code == "E270" and "`Call`" in d.hint and "`Complaint`" in d.hint


# ---- the command line --------------------------------------------------------------------------


def test_cli_exit_codes_and_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["verify", str(HANDLING), "--max-examples", "50"]) == 0
    out = capsys.readouterr().out
    assert "3 held, 0 broken" in out
    assert main(["verify", str(BROKEN), "--format", "json", "--seed", "2"]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert doc["broken"] == 1 and doc["held"] == 3 and doc["not_compiled"] == []
    broken = [r for r in doc["results"] if not r["holds"]]
    assert broken[0]["invariant"] == "desk_within_a_day"
    assert broken[0]["seed"] == 2
    cx = broken[0]["counterexample"]
    assert set(cx) == {"source", "record", "terms", "derivation", "example"}
    # the bundled policy's own example of an evening complaint breaks it before any search
    assert cx["source"].startswith('example "received after hours')
    assert cx["derivation"]["outcome"] is False
    assert main(["verify", "nope.csp"]) == 2
    assert main(["verify", str(HANDLING), "--max-examples", "0"]) == 2


def test_cli_text_names_the_clause_and_prints_the_record(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["verify", str(BROKEN)]) == 1
    out = capsys.readouterr().out
    assert f"{BROKEN}:10: invariant desk_within_a_day" in out and "BROKEN" in out
    assert "broken by the policy's own example" in out
    line = next(x for x in out.splitlines() if x.strip().startswith('{"id"'))
    assert json.loads(line)["id"] == "counterexample-desk_within_a_day"
    _policy(tmp_path, 'invariant fast "due within 3h" { due(reply) - received_at <= 3h }')
    assert main(["verify", str(tmp_path / "p.csp")]) == 1
    out = capsys.readouterr().out
    assert 'example "counterexample to fast" {' in out and "generated" not in out


def test_a_policy_without_invariants_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["verify", str(ROOT / "policies" / "hotline_qa.csp")]) == 0
    assert "no invariants to verify" in capsys.readouterr().out


# ---- the public strategies ---------------------------------------------------------------------


@settings(max_examples=50, deadline=None)
@given(st.data())
def test_record_values_near_values_fit_their_fields(data: st.DataObject) -> None:
    policy = csdsl.load(HANDLING)
    rec = policy.ir.record("Complaint")
    assert rec is not None
    amount = ir.Cmp(">", ir.FieldRef("loss_amount", ir.NUMBER, False), ir.Const(500, ir.INT))
    near = testing.boundaries(amount)
    assert near == {"loss_amount": [499, 500, 501]}
    values = data.draw(testing.record_values(rec, policy.tz, near=near))
    # every value reads back through the record's own reader unchanged
    raw = {k: _raw(v) for k, v in values.items()}
    assert policy.reader("Complaint").coerce({"id": 1, **raw})[1] == values


def _raw(v: object) -> object:
    if isinstance(v, dt.datetime):
        return v.isoformat()
    if isinstance(v, dt.timedelta):
        return f"{int(v.total_seconds())}s"
    return v


def test_plain_values_are_the_plainest() -> None:
    f = ir.Field("x", ir.Type(ir.Kind.ENUM, ("b", "a")), False)
    assert testing.plain_value(f) == "b"
    assert testing.plain_value(ir.Field("y", ir.BOOL, True)) is None
    assert testing.plain_value(ir.Field("z", ir.DATETIME, False), dt.UTC) == (
        testing.ANCHOR.replace(tzinfo=dt.UTC)
    )

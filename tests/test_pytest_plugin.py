"""The pytest plugin (`csdsl.pytest_plugin`): `.csp` example blocks as pytest items.

- a passing policy gives one passing item per example, named by its id or title;
- a failing example fails with `csdsl test`'s message (the example and the expectation);
- a policy that does not compile is one failing item with the rendered diagnostic;
- nothing is collected unless the ini option or `--csdsl` asks for it;
- this repository's `policies/*.csp` give one passing item per example.
"""

from __future__ import annotations

import importlib.metadata
import textwrap
from pathlib import Path

import pytest

import csdsl

ROOT = Path(__file__).resolve().parents[1]
pytest_plugins = ["pytester"]


def _plugin_args() -> list[str]:
    """`-p csdsl.pytest_plugin` unless the installed entry point already loads it."""
    installed = any(
        ep.value == "csdsl.pytest_plugin"
        for ep in importlib.metadata.entry_points(group="pytest11")
    )
    return [] if installed else ["-p", "csdsl.pytest_plugin"]


# the inner runs need no asyncio: without `-p no:asyncio`, pytest-asyncio (which pytest-lsp
# brings) warns in each that its loop scope is unset, the project's ini not being theirs
INNER = ("-p", "no:cacheprovider", "-p", "no:asyncio")


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest(*INNER, *_plugin_args(), *args)


POLICY = """\
policy "p" timezone "UTC"

record Ticket {
  rude: bool
  wait: duration?
}

valid Ticket when any {
  rude_agent "the agent was rude": rude
  slow "the customer waited too long": wait > 2h
}

example calm "a calm, quick ticket" {
  given Ticket { rude: false, wait: 1h }
  expect invalid
}

example "a rude agent" {
  given calm with { rude: true }
  expect valid because rude_agent
}
"""

FAILING = (
    POLICY
    + """
example "a slow ticket" {
  given calm with { wait: 3h }
  expect valid because rude_agent
}
"""
)

BROKEN = POLICY.replace("wait > 2h", "wiat > 2h")


def _project(pytester: pytest.Pytester, ini: str | None, **files: str) -> None:
    pytester.mkdir("policies")
    for name, text in files.items():
        (pytester.path / "policies" / f"{name}.csp").write_text(text, encoding="utf-8")
    if ini is not None:
        pytester.makeini(f"[pytest]\n{ini}\n")


def test_passing_policy(pytester: pytest.Pytester) -> None:
    _project(pytester, "csdsl_policies = policies/*.csp", good=POLICY)
    result = run(pytester, "-v")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(
        ["*policies/good.csp::calm PASSED*", "*policies/good.csp::a rude agent PASSED*"]
    )


def test_failing_example_names_example_and_expectation(pytester: pytest.Pytester) -> None:
    _project(pytester, "csdsl_policies = policies/*.csp", bad=FAILING)
    result = run(pytester)
    result.assert_outcomes(passed=2, failed=1)
    # the line `csdsl test` prints for it
    result.stdout.fnmatch_lines(
        [
            "*FAIL policies/bad.csp:23 a slow ticket: did not match `rude_agent`; "
            "also matched `slow` (matched: slow)*",
            "*FAILED policies/bad.csp::a slow ticket*",
        ]
    )
    assert "Traceback" not in result.stdout.str()


def test_broken_policy_shows_diagnostics(pytester: pytest.Pytester) -> None:
    _project(pytester, "csdsl_policies = policies/*.csp", broken=BROKEN)
    result = run(pytester)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*policy does not compile:",
            "policies/broken.csp:10:40: error?E201?: unknown field `wiat` in record `Ticket`",
            '*|   slow "the customer waited too long": wiat > 2h',
            "* ^^^^",
            "*hint: did you mean `wait`?",
            "*FAILED policies/broken.csp::compile*",
        ]
    )


def test_nothing_collected_unless_enabled(pytester: pytest.Pytester) -> None:
    _project(pytester, None, good=POLICY, bad=FAILING)
    run(pytester).assert_outcomes()  # no ini option, no flag: no items at all
    result = run(pytester, "--csdsl")
    result.assert_outcomes(passed=4, failed=1)
    # the ini option chooses files: only those its globs match
    pytester.makeini("[pytest]\ncsdsl_policies = policies/good.csp\n")
    run(pytester).assert_outcomes(passed=2)
    # the flag collects only under the paths given
    run(pytester, "--csdsl", "policies/good.csp").assert_outcomes(passed=2)


def test_ini_globs_outside_testpaths(pytester: pytest.Pytester) -> None:
    """`testpaths = tests` with policies elsewhere: the ini option still brings them in."""
    _project(pytester, None, good=POLICY)
    pytester.mkdir("tests")
    (pytester.path / "tests" / "test_one.py").write_text("def test_one():\n    pass\n")
    pytester.makeini("[pytest]\ntestpaths = tests\ncsdsl_policies = policies/*.csp\n")
    run(pytester).assert_outcomes(passed=3)
    run(pytester, "tests").assert_outcomes(passed=1)  # paths given: only those


def test_repository_policies(pytester: pytest.Pytester) -> None:
    """This repository's policies: one passing item per example, named by id or title."""
    target = pytester.path / "policies"
    for path in (ROOT / "policies").rglob("*.csp"):
        dest = target / path.relative_to(ROOT / "policies")
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    policies = sorted((ROOT / "policies").glob("*.csp"))
    expected = 0
    names: list[str] = []
    for path in policies:
        policy = csdsl.load(path)
        examples = [*policy.ir.examples, *policy.ir.transcript_examples]
        expected += len(examples) + len(policy.ir.invariants)
        names += [f"policies/{path.name}::{ex.id or ex.title}" for ex in examples[:2]]
    pytester.makeini("[pytest]\ncsdsl_policies = policies/*.csp\ncsdsl_max_examples = 50\n")
    result = run(pytester, "--collect-only", "-q")
    result.stdout.fnmatch_lines(names, consecutive=False)
    result = run(pytester)
    result.assert_outcomes(passed=expected)
    # every example is an item, as many as `csdsl test` runs, and so is every invariant
    assert expected == sum(
        len(csdsl.load(p).run_examples()) + len(csdsl.load(p).ir.invariants) for p in policies
    )
    result.stdout.no_fnmatch_line("*FAILED*")


def test_invariants_are_items(pytester: pytest.Pytester) -> None:
    broken = POLICY + '\ninvariant short "waits are short" for Ticket { wait <= 2h }\n'
    held = POLICY + '\ninvariant sure "a rude agent counts" for Ticket { not rude or valid }\n'
    _project(
        pytester, "csdsl_policies = policies/*.csp\ncsdsl_max_examples = 100", a=held, b=broken
    )
    result = run(pytester, "-v")
    result.assert_outcomes(passed=5, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*policies/a.csp::invariant sure PASSED*",
            "*policies/b.csp::invariant short FAILED*",
            '*invariant short "waits are short": BROKEN*',
            "*counterexample (a record, as a JSON line):*",
        ],
        consecutive=False,
    )


def test_item_reportinfo_cites_the_example_line(pytester: pytest.Pytester) -> None:
    _project(pytester, "csdsl_policies = policies/*.csp", good=POLICY)
    items, _ = pytester.inline_genitems(*_plugin_args(), *INNER)
    infos = {item.name: item.reportinfo() for item in items}
    assert infos["calm"][1:] == (12, "example calm")
    assert infos["a rude agent"][1:] == (17, "example a rude agent")


def test_example_text_is_not_code(pytester: pytest.Pytester) -> None:
    """Titles with spaces, quotes and Chinese are item names, not Python."""
    text = POLICY.replace('"a rude agent"', '"粗鲁的坐席 \\"x\\" [1]"')
    _project(pytester, "csdsl_policies = policies/*.csp", good=textwrap.dedent(text))
    result = run(pytester, "-v")
    result.assert_outcomes(passed=2)

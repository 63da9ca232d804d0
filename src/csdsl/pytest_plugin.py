"""A pytest plugin: the `example` blocks and `invariant` clauses of `.csp` policies as tests.

In: `.csp` files that pytest's collection visits, when enabled by the ini option
`csdsl_policies = <globs>` (relative to the rootdir, e.g. `policies/*.csp`) or the flag `--csdsl`
(every `.csp` under the given paths).  Nothing is collected otherwise.  Out: one test item per
example (record examples and transcript examples), named by the example's id or title, failing
with the message `csdsl test` prints; one item per invariant, named `invariant <id or wording>`,
failing with the counterexample `csdsl verify` prints (seed 0, `csdsl_max_examples` records, by
default as many as `csdsl verify` tries); a policy that does not compile is one failing item
showing the rendered diagnostics.

When the globs name files outside the `testpaths` a bare `pytest` run walks, those files are
added to the run, so `csdsl_policies = policies/*.csp` works beside `testpaths = ["tests"]`.
Registered as the `pytest11` entry point; without it: `pytest -p csdsl.pytest_plugin`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from _pytest._code.code import ExceptionInfo, TerminalRepr

    from csdsl.api import ExampleResult, Policy
    from csdsl.diagnostics import PolicyError

INI = "csdsl_policies"
INI_MAX = "csdsl_max_examples"
_MATCHED = pytest.StashKey[frozenset[Path]]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("csdsl", "csdsl policy examples")
    group.addoption(
        "--csdsl",
        action="store_true",
        default=False,
        help="collect the example blocks of every .csp file under the given paths",
    )
    parser.addini(
        INI,
        "globs (relative to the rootdir) of .csp files whose example blocks are collected",
        type="args",
        default=[],
    )
    parser.addini(
        INI_MAX,
        "records each invariant is tried on (default: as many as `csdsl verify` tries)",
        default="",
    )


def _globbed(config: pytest.Config) -> frozenset[Path]:
    """The files the ini option names (resolved), computed once per run."""
    found = config.stash.get(_MATCHED, None)
    if found is None:
        root = config.rootpath
        found = frozenset(
            p.resolve()
            for pattern in config.getini(INI)
            for p in sorted(root.glob(pattern))
            if p.is_file() and p.suffix == ".csp"
        )
        config.stash[_MATCHED] = found
    return found


def pytest_configure(config: pytest.Config) -> None:
    # a bare `pytest` walks only `testpaths`: add the policies the ini option names outside them
    if config.args_source is not pytest.Config.ArgsSource.TESTPATHS:
        return
    roots = [Path(a).resolve() for a in config.args]
    for path in sorted(_globbed(config)):
        if not any(path == r or r in path.parents for r in roots):
            config.args.append(str(path))


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> CspFile | None:
    if file_path.suffix != ".csp":
        return None
    config = parent.config
    if config.getoption("csdsl") or file_path.resolve() in _globbed(config):
        return CspFile.from_parent(parent, path=file_path)
    return None


def _shown(path: Path) -> str:
    """The name a policy is loaded under: relative to the working directory when inside it, so
    messages cite `policies/x.csp:12` as `csdsl test` does."""
    try:
        rel = os.path.relpath(path)
    except ValueError:  # another drive
        return str(path)
    return str(path) if rel.startswith("..") else rel


class CspFile(pytest.File):
    """A policy file: its examples, or one failing item when it does not compile."""

    policy: Policy | None = None
    _results: list[ExampleResult] | None = None

    def collect(self) -> Iterator[pytest.Item]:
        from csdsl.api import load
        from csdsl.diagnostics import PolicyError

        try:
            self.policy = load(_shown(self.path))
        except PolicyError as exc:
            yield CspCompileItem.from_parent(self, name="compile", error=exc)
            return
        examples: list[Any] = [*self.policy.ir.examples, *self.policy.ir.transcript_examples]
        examples.sort(key=lambda e: (e.span.file, e.span.line))
        seen: set[str] = set()
        for ex in examples:
            name = ex.id or ex.title
            if name in seen:  # two examples with one title: the line tells them apart
                name = f"{name} (line {ex.span.line})"
            seen.add(name)
            yield CspExampleItem.from_parent(self, name=name, example=ex)
        for inv in self.policy.ir.invariants:
            name = f"invariant {inv.label}"
            if name in seen:
                name = f"{name} (line {inv.span.line})"
            seen.add(name)
            yield CspInvariantItem.from_parent(self, name=name, invariant=inv)

    def results(self) -> list[ExampleResult]:
        """Every example's result, run once for the file (`Policy.run_examples`)."""
        if self._results is None:
            assert self.policy is not None
            self._results = self.policy.run_examples()
        return self._results


class Reported(Exception):
    """A failure whose message is the whole report (no Python traceback)."""


class ExampleFailed(Reported):
    """An example whose expectation does not hold; the message is `csdsl test`'s line."""


class InvariantBroken(Reported):
    """An invariant with a counterexample; the message is `csdsl verify`'s report."""


class _CspItem(pytest.Item):
    @property
    def funcargs(self) -> dict[str, Any]:
        """No fixtures: an example or invariant takes none.  Other plugins' hook wrappers read a
        test item's `funcargs` (pytest-lsp's `pytest_runtest_call` returns without yielding
        when it is missing, which fails every non-function item)."""
        return {}

    def repr_failure(
        self, excinfo: ExceptionInfo[BaseException], style: Any = None
    ) -> str | TerminalRepr:
        if isinstance(excinfo.value, Reported):
            return str(excinfo.value)
        return super().repr_failure(excinfo, style)


class CspExampleItem(_CspItem):
    def __init__(self, *, example: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.example = example

    def runtest(self) -> None:
        assert isinstance(self.parent, CspFile)
        for result in self.parent.results():
            if result.example is self.example:
                break
        else:  # pragma: no cover - run_examples runs every example
            raise ExampleFailed(f"example {self.name!r} was not run")
        if not result.passed:
            ex = self.example
            raise ExampleFailed(f"FAIL {ex.span.file}:{ex.span.line} {ex.title}: {result.message}")

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, self.example.span.line - 1, f"example {self.name}"


class CspInvariantItem(_CspItem):
    def __init__(self, *, invariant: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.invariant = invariant

    def runtest(self) -> None:
        from csdsl.assure import VERIFY_MAX_EXAMPLES
        from csdsl.assure.verify import verify_one

        assert isinstance(self.parent, CspFile) and self.parent.policy is not None
        raw = str(self.config.getini(INI_MAX) or "").strip()
        try:
            budget = int(raw) if raw else VERIFY_MAX_EXAMPLES
        except ValueError:
            raise pytest.UsageError(f"{INI_MAX} must be a whole number, not {raw!r}") from None
        result = verify_one(self.parent.policy, self.invariant, max_examples=budget)
        if not result.holds:
            raise InvariantBroken(result.to_text())

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, self.invariant.span.line - 1, self.name


class CspCompileItem(_CspItem):
    """Stands for a policy that does not compile: fails with its diagnostics."""

    def __init__(self, *, error: PolicyError, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.error = error

    def runtest(self) -> None:
        raise self.error

    def repr_failure(
        self, excinfo: ExceptionInfo[BaseException], style: Any = None
    ) -> str | TerminalRepr:
        from csdsl.diagnostics import PolicyError

        if isinstance(excinfo.value, PolicyError):
            return "policy does not compile:\n" + excinfo.value.render()
        return super().repr_failure(excinfo, style)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        errors = [d for d in self.error.diagnostics if d.is_error] or list(self.error.diagnostics)
        line = errors[0].span.line - 1 if errors else None
        return self.path, line, f"{self.path.name} does not compile"

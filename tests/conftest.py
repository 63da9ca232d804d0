from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
from _generated import record as generated_record
from hypothesis import HealthCheck, settings

from csdsl import ir

ROOT = Path(__file__).resolve().parents[1]

# CI: the same 200 examples every run, so a red build is reproducible; developers' runs keep
# exploring with fresh random examples (HYPOTHESIS_PROFILE chooses explicitly)
settings.register_profile(
    "ci",
    max_examples=200,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "dev", max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))

# the CLI caches compiled policies (csdsl.cache): the suite keeps its cache to itself, in a
# directory that goes away with the run, and never touches the developer's ~/.cache
_CACHE = tempfile.TemporaryDirectory(prefix="csdsl-test-cache-")
os.environ["CSDSL_CACHE_DIR"] = _CACHE.name
os.environ.pop("CSDSL_NO_CACHE", None)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        help="rewrite the expected output of tests/golden instead of comparing",
    )


@pytest.fixture(scope="session")
def record_type() -> ir.Record:
    """`R` of `tests/_generated.py`, checked: the record of the generated policies."""
    return generated_record()


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-golden"))


@pytest.fixture
def in_root(monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run with the repository root as the working directory (stable relative file names)."""
    monkeypatch.chdir(ROOT)
    return ROOT

"""The grammar is read by one module and ships inside the wheel unchanged."""

from __future__ import annotations

import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_only_one_module_reads_the_grammar() -> None:
    readers = [
        p.relative_to(ROOT).as_posix()
        for p in (ROOT / "src").rglob("*.py")
        if re.search(r"csp\.lark|\.lark[\"']", p.read_text(encoding="utf-8"))
    ]
    assert readers == ["src/csdsl/syntax/grammar.py"]


def test_the_wheel_ships_the_repository_grammar(tmp_path: Path) -> None:
    builder = pytest.importorskip("hatchling.builders.wheel")
    (wheel,) = builder.WheelBuilder(str(ROOT)).build(directory=str(tmp_path), versions=["standard"])
    with zipfile.ZipFile(wheel) as z:
        shipped = z.read("csdsl/_grammar/csp.lark")
        assert "csdsl/py.typed" in z.namelist()
    assert shipped == (ROOT / "grammar" / "csp.lark").read_bytes()


def test_python_dash_m_runs_the_cli() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "csdsl", "--version"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0
    assert done.stdout.startswith("csdsl ")

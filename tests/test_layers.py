"""Data flows one way: the parts a module was split into never import that module back, not even
for a type (`if TYPE_CHECKING:`) or inside a function."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "csdsl"

# a module, and the glob of the parts it is made of
WHOLES = [
    ("csdsl.duck", "duck_*.py"),
    ("csdsl.auditor", "audit_*.py"),
    ("csdsl.syntax.build", "syntax/build_*.py"),
]


def _imports(path: Path) -> set[str]:
    """Every module a file imports, wherever the import is (`from csdsl import duck` counts as
    `csdsl.duck`)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module is not None and not node.level:
            found.add(node.module)
            found |= {f"{node.module}.{a.name}" for a in node.names}
    return found


@pytest.mark.parametrize(("whole", "parts"), WHOLES)
def test_parts_never_import_the_whole(whole: str, parts: str) -> None:
    files = sorted(SRC.glob(parts))
    assert len(files) >= 3, f"no parts of {whole} found"
    back = {f.name for f in files if whole in _imports(f)}
    assert not back, f"{sorted(back)} import {whole}, which is made of them"


def test_the_check_sees_an_import_for_a_type_only(tmp_path: Path) -> None:
    part = tmp_path / "duck_part.py"
    part.write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from csdsl.duck import X\n",
        encoding="utf-8",
    )
    assert "csdsl.duck" in _imports(part)
    part.write_text("def f():\n    from csdsl import duck\n", encoding="utf-8")
    assert "csdsl.duck" in _imports(part)

"""Rooms split by job import one way: `csdsl.codegen.python` over `python_module`,
`python_conditions` and `python_ir`; `csdsl.testing` over `policies`, `well_typed` and
`raw_files`, which import none of each other, and the rest of csdsl imports a strategy from its
home rather than from the package's public face; `csdsl.syntax.build` over `build_exprs` (the
base), `build_clocks` and `build_transcripts`, which import only the base and the AST; and
`csdsl.sql.timeline_query` over `timeline_plan` (the base), `timeline_deadlines` and
`timeline_ladders`, which import only the base."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"


def _imports(path: Path) -> set[str]:
    """The csdsl modules a source file imports (`from csdsl.x import y` counts as `csdsl.x`
    and, when `y` is a module of that package, as `csdsl.x.y`)."""
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name.startswith("csdsl"))
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("csdsl"):
            out.add(node.module)
            package = SRC.joinpath(*node.module.split("."))
            for a in node.names:
                if (package / f"{a.name}.py").exists() or (package / a.name).is_dir():
                    out.add(f"{node.module}.{a.name}")
    return out


def _module(name: str) -> Path:
    path = SRC.joinpath(*name.split("."))
    return path / "__init__.py" if path.is_dir() else path.with_suffix(".py")


@pytest.mark.parametrize(
    ("module", "may_import"),
    [
        ("csdsl.codegen.python_module", set()),
        ("csdsl.codegen.python_conditions", {"csdsl.codegen.python_module"}),
        ("csdsl.codegen.python_ir", {"csdsl.codegen.python_module"}),
        ("csdsl.testing.policies", set()),
        ("csdsl.testing.well_typed", set()),
        ("csdsl.testing.raw_files", set()),
        ("csdsl.syntax.build_exprs", {"csdsl.syntax", "csdsl.syntax.ast"}),
        (
            "csdsl.syntax.build_clocks",
            {"csdsl.syntax", "csdsl.syntax.ast", "csdsl.syntax.build_exprs"},
        ),
        (
            "csdsl.syntax.build_transcripts",
            {"csdsl.syntax", "csdsl.syntax.ast", "csdsl.syntax.build_exprs"},
        ),
        ("csdsl.sql.timeline_plan", {"csdsl.sql.dialects", "csdsl.sql.exprs"}),
        ("csdsl.sql.timeline_deadlines", {"csdsl.sql.timeline_plan"}),
        ("csdsl.sql.timeline_ladders", {"csdsl.sql.timeline_plan"}),
    ],
)
def test_a_part_imports_no_sibling_but_those_below_it(module: str, may_import: set[str]) -> None:
    room = module.rsplit(".", 1)[0]
    siblings = {m for m in _imports(_module(module)) if m.startswith(room + ".") or m == room}
    assert siblings <= may_import


def test_csdsl_imports_strategies_from_their_homes() -> None:
    users = [
        path.relative_to(SRC).as_posix()
        for path in (SRC / "csdsl").rglob("*.py")
        if "testing" not in path.relative_to(SRC / "csdsl").parts
        and "csdsl.testing" in _imports(path)
    ]
    assert not users, f"import from csdsl.testing.<module> instead: {users}"

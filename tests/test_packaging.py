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


# import name -> the runtime dependency that brings it (its distribution, or the dependency
# that requires it: jinja2 installs markupsafe)
_DISTRIBUTIONS = {"ahocorasick": "pyahocorasick", "markupsafe": "jinja2"}


def test_every_third_party_import_of_the_package_is_a_runtime_dependency() -> None:
    """`pip install .` without extras must run every verb: a module of `src/csdsl` may import
    only the standard library, csdsl and the runtime dependencies (`csdsl diff` once needed
    Hypothesis, a test extra, and ended in an ImportError)."""
    import ast
    import re
    import sys
    import tomllib

    meta = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    runtime = {
        re.split(r"[<>=!~ \[;]", d, maxsplit=1)[0].lower() for d in meta["project"]["dependencies"]
    }
    # an extra's packages may be imported inside a function of the module that needs them
    # (`--engine spark` says to install `csdsl[spark]` when they are missing), never at the top
    # (`--xlsx` and `csdsl review` say to install `csdsl[xlsx]`, `--pdf` `csdsl[pdf]`,
    # `CSDSL_MATCHER=hyperscan` `csdsl[fast]`)
    lazy = {"pyspark", "pyarrow", "pandas", "xlsxwriter", "openpyxl", "weasyprint", "hyperscan"}
    # the language server's package (`csdsl.lsp`) is the lsp extra's: it imports pygls and
    # lsprotocol at its top, and is itself imported only inside `csdsl lsp`'s function (below)
    server_only = {"pygls", "lsprotocol"}

    def extra(name: str) -> set[str]:
        return {
            re.split(r"[<>=!~ \[;]", d, maxsplit=1)[0].lower()
            for d in meta["project"]["optional-dependencies"][name]
        }

    assert {"pyspark", "pandas"} <= extra("spark")
    assert extra("lsp") == server_only
    assert extra("xlsx") == {"xlsxwriter", "openpyxl"} and extra("pdf") == {"weasyprint"}
    assert extra("fast") == {"hyperscan"}
    wanted: dict[str, str] = {}
    for path in sorted((ROOT / "src" / "csdsl").rglob("*.py")):
        if path.name == "pytest_plugin.py":
            continue  # loaded by pytest only
        tree = ast.parse(path.read_text(encoding="utf-8"))
        functions = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)]
        inside = {id(x) for f in functions for x in ast.walk(f)}
        for node in ast.walk(tree):
            if isinstance(node, ast.Import | ast.ImportFrom) and id(node) in inside:
                mod = node.module if isinstance(node, ast.ImportFrom) else node.names[0].name
                if mod is not None and mod.split(".")[0] in lazy:
                    continue
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            in_server = path.parent.name == "lsp"
            for name in names:
                top = name.split(".")[0]
                if top in server_only and in_server:
                    continue
                if name.startswith("csdsl.lsp") and not in_server:
                    assert id(node) in inside, f"{path.name} imports {name} at its top"
                if top != "csdsl" and top not in sys.stdlib_module_names:
                    wanted.setdefault(_DISTRIBUTIONS.get(top, top).lower(), path.name)
    missing = {d: where for d, where in wanted.items() if d not in runtime}
    assert not missing, f"imported but not in [project] dependencies: {missing}"

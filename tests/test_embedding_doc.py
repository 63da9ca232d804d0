"""docs/embedding.md runs as written: its `csdsl` commands, then its Python blocks in order.

From a scratch directory holding `policies/`, `examples/` and `docs/` (links to the project's),
each line of a ```sh block is run through the CLI, then every ```python block is executed in
one namespace, with the scratch directory importable (the generated module lands there).
"""

from __future__ import annotations

import contextlib
import io
import re
import shlex
import sys
from pathlib import Path

import pytest

from csdsl.cli import main

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "embedding.md"
BLOCKS = re.findall(r"```(\w*)\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)


def test_the_embedding_guide_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("policies", "examples", "docs"):
        (tmp_path / name).symlink_to(ROOT / name)
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    commands = [
        line for lang, body in BLOCKS if lang == "sh" for line in body.splitlines() if line.strip()
    ]
    assert len(commands) >= 4
    for line in commands:
        argv = shlex.split(line)
        assert argv[0] == "csdsl", line
        with contextlib.redirect_stderr(io.StringIO()):
            assert main(argv[1:]) == 0, line
    namespace: dict[str, object] = {"__name__": "embedding_doc"}
    blocks = [body for lang, body in BLOCKS if lang == "python"]
    assert len(blocks) >= 5
    out = io.StringIO()
    try:
        for i, body in enumerate(blocks):
            with contextlib.redirect_stdout(out):
                exec(compile(body, f"docs/embedding.md python block {i}", "exec"), namespace)
    finally:
        sys.modules.pop("complaint_checker", None)
    printed = out.getvalue()
    assert "客服人员行为规范：投诉成立 1.0 sha256:" in printed
    assert "248 rows, 8 bad" in printed

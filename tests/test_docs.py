"""The language reference shows real behaviour: its policy snippets are checked here.

Every ```csp block of docs/language.md that is a whole policy file (it has a `policy` header) is
compiled.  Either it has no errors, or each error it gets is quoted (code and message) in the
```text block that follows it; and its examples pass unless that block shows a failing one.
Snippets that import or include other files are left out (they need their neighbours).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import csdsl
from csdsl.check import compile_file

DOC = Path(__file__).resolve().parents[1] / "docs" / "language.md"
BLOCKS = re.findall(r"```(\w*)\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
SNIPPETS = [
    (i, body, BLOCKS[i + 1][1] if i + 1 < len(BLOCKS) and BLOCKS[i + 1][0] == "text" else "")
    for i, (lang, body) in enumerate(BLOCKS)
    if lang == "csp"
    and re.search(r"^policy ", body, re.M)
    and not re.search(r"^(import|include) ", body, re.M)
]


def test_the_reference_has_policy_snippets() -> None:
    assert len(SNIPPETS) >= 15


@pytest.mark.parametrize(("index", "body", "shown"), SNIPPETS, ids=[str(s[0]) for s in SNIPPETS])
def test_snippet_compiles_or_shows_its_errors(
    tmp_path: Path, index: int, body: str, shown: str
) -> None:
    path = tmp_path / "snippet.csp"
    path.write_text(body, encoding="utf-8")
    errors = [d for d in compile_file(path).diagnostics if d.is_error]
    for d in errors:
        assert f"[{d.code}]: {d.message}" in shown, (
            f"docs/language.md block {index}: `{d.code} {d.message}` is not shown after it"
        )
    if not errors and "example" in body and "FAIL " not in shown:
        failed = [r.message for r in csdsl.load(path).run_examples() if not r.passed]
        assert failed == [], f"docs/language.md block {index}: examples fail: {failed}"

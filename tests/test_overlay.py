"""Compiling with an overlay: unsaved texts of open files read instead of the disk.

`compile_file(path, overlay)` is what the language server checks a buffer with: the root, an
imported or an included file may each come from the overlay, a file that exists only in the
editor resolves, the disk is never read for an overlaid file nor written, and the
compiled-policy cache (keyed by the files on disk) never answers for an overlay compile.  A
`ParseCache` reuses the parse of an unchanged text across compilations.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import csdsl
from csdsl.check import compile_file
from csdsl.check.modules import ParseCache, resolved

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def policies(tmp_path: Path) -> Path:
    out = tmp_path / "policies"
    shutil.copytree(ROOT / "policies", out)
    return out


def test_an_unsaved_edit_of_an_included_file_is_checked(policies: Path) -> None:
    part = policies / "complaint_handling.csp"
    saved = part.read_text(encoding="utf-8")
    broken = saved.replace("stops on replied", "stops on", 1)
    compiled = compile_file(policies / "hotline.csp", {resolved(part): broken})
    assert not compiled.ok
    errors = [d for d in compiled.diagnostics if d.is_error]
    assert errors and all(resolved(d.span.file) == resolved(part) for d in errors)
    assert compiled.overlaid == {resolved(part)}
    assert part.read_text(encoding="utf-8") == saved
    assert compile_file(policies / "hotline.csp").ok  # the disk still holds the good text


def test_the_root_and_a_file_only_in_the_editor_come_from_the_overlay(policies: Path) -> None:
    root = policies / "new.csp"  # neither file exists on disk
    part = policies / "new_part.csp"
    overlay = {
        resolved(root): 'import "new_part.csp"\n\nvalid Case when any {\n  r: rude\n}\n',
        resolved(part): "record Case {\n  rude: bool\n}\n",
    }
    compiled = compile_file(root, overlay)
    assert compiled.ok, compiled.diagnostics
    assert compiled.policy is not None and compiled.policy.record("Case") is not None
    assert not root.exists() and not part.exists()


def test_the_cache_never_answers_for_an_overlay(
    policies: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("CSDSL_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("CSDSL_NO_CACHE", raising=False)
    path = policies / "complaint_validity.csp"
    csdsl.load(path, cache=True)  # stored
    assert csdsl.load(path, cache=True).ir.validities  # and served
    text = path.read_text(encoding="utf-8").replace(": agent_rude\n", ": agent_rud\n", 1)
    compiled = compile_file(path, {resolved(path): text})
    assert not compiled.ok
    assert any("agent_rud" in d.message for d in compiled.diagnostics)


def test_unchanged_texts_are_parsed_once(policies: Path) -> None:
    parses = ParseCache()
    root = policies / "hotline.csp"
    first = compile_file(root, {}, parses)
    again = compile_file(root, {}, parses)
    part = resolved(policies / "hotline_qa.csp")
    assert again.modules[part] is first.modules[part]
    edited = (policies / "hotline_qa.csp").read_text(encoding="utf-8") + "\n# a note\n"
    changed = compile_file(root, {part: edited}, parses)
    assert changed.modules[part] is not first.modules[part]
    other = resolved(policies / "complaint_validity.csp")
    assert changed.modules[other] is first.modules[other]
    assert changed.ok and changed.policy == first.policy

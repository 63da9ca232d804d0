"""`csdsl lsp` without the lsp extra: one line saying how to install it, exit status 2."""

from __future__ import annotations

import sys

import pytest

from csdsl import cli


def test_lsp_without_pygls_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in list(sys.modules):
        if name.startswith(("csdsl.lsp", "pygls", "lsprotocol")):
            monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "pygls", None)  # `import pygls` now fails
    monkeypatch.setitem(sys.modules, "lsprotocol", None)
    assert cli.main(["lsp"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.strip().splitlines() == [
        "csdsl: the language server needs the lsp extra (lsprotocol is not installed): "
        "pip install 'csdsl[lsp]'"
    ]

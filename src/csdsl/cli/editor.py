"""The verb for editors: `csdsl lsp`, the language server over standard input and output."""

from __future__ import annotations

import argparse

from csdsl.cli.console import OK, USAGE, write_err

INSTALL = "pip install 'csdsl[lsp]'"


def cmd_lsp(args: argparse.Namespace) -> int:
    try:
        from csdsl.lsp.server import serve  # pygls and lsprotocol: the `lsp` extra
    except ImportError as exc:
        write_err(
            f"csdsl: the language server needs the lsp extra ({exc.name} is not installed): "
            + INSTALL
        )
        return USAGE
    serve()
    return OK

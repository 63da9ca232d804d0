"""What every verb of the command line prints and reads with: standard output and error
(every line through `report.printable`, every JSON document through `report.dumps`), usage
errors about output paths, the diagnostics of a policy that does not compile (as text, and as a
JSON array with `--format json`), and loading a policy for a verb.  Exit codes: `OK`, `FAILED`,
`USAGE` (IO.md)."""

from __future__ import annotations

import contextlib
import errno
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from csdsl.diagnostics import Diagnostic, PolicyError, render
from csdsl.report import dumps, one_line, printable
from csdsl.source import SourceFile

if TYPE_CHECKING:  # imported by the verbs that load a policy or read records (not `check`)
    from csdsl.api import Policy
    from csdsl.records import RowError


OK, FAILED, USAGE = 0, 1, 2


def write_out(text: str, stream: TextIO | None = None) -> None:
    print(printable(text), file=stream or sys.stdout)


def write_err(text: str) -> None:
    print(printable(text), file=sys.stderr)


def write_json_line(obj: Any) -> None:
    sys.stdout.write(dumps(obj) + "\n")


def robust_streams() -> None:
    """Standard output and error never fail to encode (a lone surrogate, a narrow locale):
    what cannot be encoded is written as a backslash escape."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            with contextlib.suppress(Exception):  # a stream that cannot change: left as it is
                reconfigure(errors="backslashreplace")


def unwritable_reason(exc: OSError, path: str) -> str:
    """Why `path` cannot be written (or made a directory), for a one-line message."""
    if exc.errno in (errno.EEXIST, errno.ENOTDIR):
        for p in (Path(path), *Path(path).parents):
            if p.exists() and not p.is_dir():
                return f"`{p}` is a file, not a directory"
    if exc.errno == errno.EISDIR:
        return "it is a directory"
    return str(exc.strerror or exc).lower()


def make_out_dir(option: str, path: str) -> bool:
    """Make `path` the output directory (created if need be), or say why it cannot be."""
    if not path.strip():
        write_err(f"csdsl: {option}: give a directory (an empty name would be the current one)")
        return False
    p = Path(path)
    try:
        p.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        write_err(
            f"csdsl: {option} {path}: cannot create the directory: {unwritable_reason(exc, path)}"
        )
        return False
    if not os.access(p, os.W_OK | os.X_OK):
        write_err(f"csdsl: {option} {path}: cannot write there: permission denied")
        return False
    return True


def diagnostics_json(diags: Sequence[Diagnostic | dict[str, Any]]) -> list[dict[str, Any]]:
    return [d if isinstance(d, dict) else d.to_json() for d in diags]


def missing_diagnostic(path: str) -> dict[str, Any]:
    """A policy file that cannot be read, as a diagnostic object (`check --format json`)."""
    return {
        "file": path,
        "line": None,
        "column": None,
        "end_line": None,
        "end_column": None,
        "severity": "error",
        "code": "E204",
        "message": f"cannot read `{path}`: {missing_reason(path)}",
        "hint": "check the path; a policy is read from a .csp file",
        "fixes": [],
    }


def missing_reason(path: str) -> str:
    p = Path(path)
    if p.is_dir():
        return "is a directory, not a policy file"
    if p.exists():
        return "is not a regular file (a device, FIFO or socket); a policy is read from a file"
    return "no such file"


def counted(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def print_diagnostics(
    diags: Sequence[Diagnostic], sources: dict[str, SourceFile], stream: TextIO
) -> None:
    for d in diags:
        print(printable(render(d, sources)) + "\n", file=stream)


def load_policy(
    path: str, fmt: str = "text", into: list[dict[str, Any]] | None = None
) -> Policy | None:
    """The policy, or None once its diagnostics are printed on standard error (and, with
    `fmt` json, added to `into`, or printed on standard output as one JSON array)."""
    from csdsl.api import load

    found: list[dict[str, Any]] = []
    if not Path(path).is_file():
        write_err(f"csdsl: {path}: {missing_reason(path)}")
        found.append(missing_diagnostic(path))
    else:
        try:
            return load(path, cache=True)
        except PolicyError as exc:
            print_diagnostics(exc.diagnostics, exc.sources, sys.stderr)
            write_err(f"csdsl: {path} does not compile")
            found += diagnostics_json(exc.diagnostics)
    if fmt == "json":
        if into is not None:
            into += found
        else:
            write_json_line(found)
    return None


def print_bad_row(line: int, rid: Any, error: RowError, fmt: str) -> None:
    """A record row that does not fit its type: one JSON line, or one line of text."""
    if fmt == "json":
        write_json_line({"id": rid, "line": line, "error": error.to_json()})
    else:
        shown = rid if rid is not None else "-"
        where = f"line {line}" if line else "file"  # 0: an exported call, one to a file
        write_out(one_line(f"{where}  {shown}  error  {error.code} {error.message}"))


def write_or_print(text: str, output: str | None) -> int:
    """`text` (ending in a line break) to standard output, or to the file `output` (its
    directory created if need be).  A character that cannot be encoded is backslash-escaped."""
    if not text.endswith("\n"):
        text += "\n"
    if output is None:
        sys.stdout.write(text)
        return OK
    out = Path(output)
    try:
        if out.is_dir():
            raise IsADirectoryError(errno.EISDIR, "is a directory", output)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8", errors="backslashreplace")
    except OSError as exc:
        write_err(f"csdsl: -o {output}: cannot write: {unwritable_reason(exc, output)}")
        return USAGE
    write_err(f"csdsl: wrote {output} ({counted(text.count(chr(10)), 'line')})")
    return OK


def records_args(values: list[str], main: Callable[[], str]) -> dict[str, str]:
    """`--records F` (the main record type: `main()`) and `--records TYPE=F`, repeatable."""
    typed: dict[str, str] = {}
    bare: list[str] = []
    for v in values:
        name, sep, path = v.partition("=")
        if sep and name.isidentifier() and not Path(v).exists():
            if name in typed:
                raise ValueError(f"--records: `{name}` is given twice")
            typed[name] = path
        else:
            bare.append(v)
    if len(bare) > 1:
        raise ValueError("--records: several files without a type; write TYPE=FILE for each")
    if bare:
        name = main()
        if name in typed:
            raise ValueError(f"--records: two files for `{name}`")
        typed[name] = bare[0]
    return typed

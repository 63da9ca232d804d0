"""The compiled-policy cache: a repeated `csdsl validate` on an unchanged policy does not re-parse.

In: the path of a policy file.  Out: the checked policy (IR, warnings, sources) as it was
compiled last time, if every file it read then (the root, its imports and includes) still has
the same bytes; else None, and the caller compiles and `store`s.

An entry is one pickle per (policy path as given, working directory, csdsl and Python version):
the working directory is part of the key because diagnostics name files relative to it.  It
holds the SHA-256 of the text of every file as it was compiled, checked on each load, so an edit
to any imported or included file invalidates it.  Only successful compilations are stored; a
policy with errors is compiled every time so its diagnostics are always fresh.

Where: `$CSDSL_CACHE_DIR`, else `$XDG_CACHE_HOME/csdsl`, else `~/.cache/csdsl`, created with
mode 0700 (a pickle is code: the directory must be the user's own).  `CSDSL_NO_CACHE=1` turns
the cache off.  A cache that cannot be read or written is ignored: it only ever saves time.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import sys
import tempfile
from pathlib import Path
from typing import Any

import attrs

from csdsl import __version__, ir
from csdsl.diagnostics import Diagnostic
from csdsl.source import SourceFile

FORMAT = 1  # bump when the pickled layout changes


@attrs.frozen
class Entry:
    files: tuple[tuple[str, str], ...]  # (resolved path, sha256 of its bytes) of each file read
    policy: ir.Policy
    diagnostics: tuple[Diagnostic, ...]  # warnings
    sources: dict[str, SourceFile]


def enabled() -> bool:
    return os.environ.get("CSDSL_NO_CACHE", "").strip() not in ("1", "true", "yes")


def directory() -> Path:
    if os.environ.get("CSDSL_CACHE_DIR"):
        return Path(os.environ["CSDSL_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "csdsl"


def _key(path: str | Path) -> str:
    parts = (
        FORMAT,
        __version__,
        sys.version,
        os.getcwd(),
        str(path),
        str(Path(path).resolve()),
    )
    return hashlib.sha256(repr(parts).encode("utf-8")).hexdigest()


def text_digest(text: str) -> str:
    """SHA-256 of a policy file's text as read (UTF-8, byte-order mark dropped)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def digest(path: str | Path) -> str:
    return text_digest(Path(path).read_text(encoding="utf-8-sig"))


def lookup(path: str | Path) -> Entry | None:
    """The cached compilation of `path`, if it is still current."""
    if not enabled():
        return None
    file = directory() / f"{_key(path)}.pickle"
    try:
        with file.open("rb") as handle:
            entry: Any = pickle.load(handle)
    except FileNotFoundError:
        return None
    except Exception:  # a truncated or foreign file: forget it, compile again
        file.unlink(missing_ok=True)
        return None
    if not isinstance(entry, Entry):
        return None
    try:
        if any(digest(p) != sha for p, sha in entry.files):
            return None
    except (OSError, UnicodeDecodeError):
        return None
    return entry


def store(
    path: str | Path,
    files: tuple[tuple[str, str], ...],
    policy: ir.Policy,
    diagnostics: tuple[Diagnostic, ...],
    sources: dict[str, SourceFile],
) -> None:
    """Remember a successful compilation (written atomically; errors are ignored)."""
    if not enabled():
        return
    try:
        # the digests of the texts compiled: a file edited during the compilation is stale next
        # time, never trusted
        entry = Entry(files, policy, diagnostics, sources)
        folder = directory()
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, suffix=".tmp")
        with os.fdopen(fd, "wb") as handle:
            pickle.dump(entry, handle, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, folder / f"{_key(path)}.pickle")
    except (OSError, pickle.PicklingError, TypeError, AttributeError):
        return

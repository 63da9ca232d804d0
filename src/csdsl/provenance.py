"""Evidence integrity: what an audit report was made from, and whether those files still are.

In: the inputs of a run (`report.json`'s `inputs[]`) and its policies.  Out: each input's size
and SHA-256 (`hash_inputs`, added to its entry), the report's `provenance` (`provenance`: the
policy files read, root, imports and includes, each with its size and SHA-256; other files that
shaped the verdicts, such as the importers' mapping; csdsl's, Python's and the holiday data's
versions), and, later, `verify`: every file a report names
hashed again and compared.

Meaning:
- A file's SHA-256 is that of its bytes on disk, as `sha256sum` prints it.  Paths are as the
  report names them, as given on the command line: `verify` resolves them against the current
  directory, so it is run from where the audit was.
- Standard input (`-`) and a catalog table (`table:db.name`) have no file to hash: their
  `bytes` and `sha256` are null and `verify` says they cannot be verified (it does not count
  them as changed).
- The holiday data is the `holidays` package (China's statutory holidays and make-up working
  days); `chinesecalendar` is only the tests' second opinion and is never used by an audit.
"""

from __future__ import annotations

import hashlib
import platform
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from csdsl import __version__

if TYPE_CHECKING:
    from csdsl.api import Policy

CHUNK = 1 << 20
STATUSES = ("unchanged", "changed", "missing", "unreadable", "not verifiable")


def file_digest(path: str | Path) -> tuple[int, str]:
    """The size and SHA-256 of a regular file's bytes; `OSError` when it cannot be read (a
    directory or a FIFO is refused, never read or waited on)."""
    p = Path(path)
    if not p.is_file():
        if p.exists():
            raise IsADirectoryError(f"{path}: not a regular file")
        raise FileNotFoundError(f"{path}: no such file")
    digest = hashlib.sha256()
    size = 0
    with p.open("rb") as handle:
        while block := handle.read(CHUNK):
            digest.update(block)
            size += len(block)
    return size, digest.hexdigest()


def not_a_file(path: str) -> str | None:
    """Why an input path names no file to hash (standard input, a catalog table), or None."""
    if path == "-":
        return "read from standard input"
    if path.startswith("table:"):
        return "a catalog table, not a file"
    return None


def hash_inputs(inputs: Iterable[dict[str, Any]]) -> None:
    """Add `bytes` and `sha256` to each input entry of a report (null where there is no file)."""
    for entry in inputs:
        path = str(entry["path"])
        hashed = _hashed(path) if not_a_file(path) is None else {"bytes": None, "sha256": None}
        entry["bytes"] = hashed["bytes"]
        entry["sha256"] = hashed["sha256"]


def _hashed(path: str) -> dict[str, Any]:
    try:
        size, sha = file_digest(path)
    except OSError:  # read moments ago, gone now: nothing to vouch for
        size, sha = None, None
    return {"path": path, "bytes": size, "sha256": sha}


def provenance(
    policies: Sequence[Policy], others: Mapping[str, str | Path] | None = None
) -> dict[str, Any]:
    """The `provenance` of a report: the policy files every version read, other files that
    shaped the verdicts (`others`, by kind: the importers' `mapping`), and the software and
    data versions the verdicts depend on."""
    from importlib.metadata import PackageNotFoundError, version

    files: list[dict[str, Any]] = []
    seen: set[str] = set()
    for policy in policies:
        for name in policy.sources:  # the root file, its imports and includes, as compiled
            if name not in seen:
                seen.add(name)
                files.append(_hashed(name))
    calendars = sorted(
        {
            name
            for policy in policies
            for name, calendar in policy.ir.calendars
            if calendar.statutory == "china"
        }
    )
    try:
        holidays_version: str | None = version("holidays")
    except PackageNotFoundError:  # pragma: no cover - a runtime dependency
        holidays_version = None
    return {
        "policy_files": files,
        "other_files": [{"kind": k, **_hashed(str(p))} for k, p in (others or {}).items()],
        "csdsl": __version__,
        "python": platform.python_version(),
        "holidays": {"version": holidays_version, "used_by_calendars": calendars},
    }


@attrs.frozen
class Check:
    """One file of a report, hashed again."""

    kind: str  # "input", "policy", or an other file's kind ("mapping")
    path: str
    status: str  # one of STATUSES
    sha256: str | None  # as recorded
    found: str | None  # as hashed now
    bytes: int | None
    found_bytes: int | None
    reason: str | None = None

    def to_json(self) -> dict[str, Any]:
        return attrs.asdict(self)


class ReportError(ValueError):
    """A report that cannot be verified (not a report.json, or one that records no hashes)."""


def verify(report: Mapping[str, Any]) -> list[Check]:
    """Every input and policy file the report names, hashed again."""
    if not isinstance(report, Mapping) or not isinstance(report.get("inputs"), list):
        raise ReportError("not a csdsl audit report (no `inputs` list)")
    entries: list[tuple[str, Mapping[str, Any]]] = [
        ("input", e) for e in report["inputs"] if isinstance(e, Mapping)
    ]
    prov = report.get("provenance")
    policy_files = prov.get("policy_files") if isinstance(prov, Mapping) else None
    others = prov.get("other_files") if isinstance(prov, Mapping) else None
    entries += [("policy", e) for e in policy_files or () if isinstance(e, Mapping)]
    entries += [(str(e.get("kind")), e) for e in others or () if isinstance(e, Mapping)]
    if not any("sha256" in e for _, e in entries):
        raise ReportError(
            "records no SHA-256 of its files (written before csdsl recorded them); run the "
            "audit again for a report that can be verified"
        )
    return [_check(kind, e) for kind, e in entries]


def _check(kind: str, entry: Mapping[str, Any]) -> Check:
    path = str(entry.get("path"))
    want = entry.get("sha256")
    size = entry.get("bytes")
    why = not_a_file(path)
    if why is None and not isinstance(want, str):
        why = "no SHA-256 recorded (the file could not be read when the report was written)"
    if why is not None:
        return Check(kind, path, "not verifiable", None, None, None, None, why)
    try:
        found_bytes, found = file_digest(path)
    except FileNotFoundError:
        return Check(kind, path, "missing", want, None, size, None, "no such file")
    except OSError as exc:
        reason = str(exc).removeprefix(f"{path}: ") if str(exc) else type(exc).__name__
        return Check(kind, path, "unreadable", want, None, size, None, reason.lower())
    status = "unchanged" if found == want else "changed"
    return Check(kind, path, status, want, found, size, found_bytes)


def failed(checks: Sequence[Check]) -> bool:
    """Whether any file that can be verified changed, went missing or cannot be read."""
    return any(c.status in ("changed", "missing", "unreadable") for c in checks)

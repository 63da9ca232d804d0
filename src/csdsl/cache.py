"""The compiled-policy cache: a repeated `csdsl validate` on an unchanged policy does not re-parse.

In: the path of a policy file.  Out: the checked policy (IR, warnings, sources) as it was
compiled last time, if every file it read then (the root, its imports and includes) still has
the same bytes; else None, and the caller compiles and `store`s.

An entry is one pickle per (policy path as given, working directory, csdsl and Python version):
the working directory is part of the key because diagnostics name files relative to it.  It
holds the SHA-256 of the text of every file as it was compiled, checked on each load, so an edit
to any imported or included file invalidates it.  Only successful compilations are stored; a
policy with errors is compiled every time so its diagnostics are always fresh.

Where: `$CSDSL_CACHE_DIR`, else `$XDG_CACHE_HOME/csdsl`, else `~/.cache/csdsl`.  `CSDSL_NO_CACHE=1`
turns the cache off.

Trust.  Unpickling runs code, so nothing is unpickled that this user's csdsl did not write:

- the directory is created with mode 0700, and a directory (or an entry, or the key) that another
  user owns or that its group or others can write is refused, as `ssh` and `pip` do.  It is
  opened once and checked on the descriptor (`fstat`), and every file in it is opened relative to
  that descriptor with `O_NOFOLLOW`, so nothing swapped in along the path after the check counts;
- every entry starts with an HMAC-SHA256, over the entry's name and its pickle, under a random
  per-cache key (the file `key`, mode 0600, created with `O_EXCL` and linked into place whole).
  The MAC is checked with `hmac.compare_digest` before a byte is unpickled; an entry that fails
  was not written by csdsl with this key (planted, edited, or moved to another policy's name): it
  is deleted and the policy compiled again.  Binding the name stops an entry of one policy from
  being served for another.

A cache that cannot be used (not a directory, not yours, writable by others, an entry that is a
directory or a FIFO, a disk that refuses writes) is ignored: csdsl says why in one note on
standard error, once per run, and the run's output and exit code are those of an uncached run.
Where there are no POSIX owners (Windows: no `os.geteuid`), the owner and mode checks are
skipped and the MAC still guards every entry.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import hashlib
import hmac
import os
import pickle
import stat
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import attrs

from csdsl import __version__, ir
from csdsl.diagnostics import Diagnostic
from csdsl.source import SourceFile, read_policy_text

MAX_ENTRY = 256 * 1024 * 1024  # bytes: an entry or key larger is refused unread
FORMAT = 2  # bump when the layout of an entry changes (2: a MAC before the pickle)
KEY_FILE = "key"
KEY_SIZE = 32
MAC_SIZE = hashlib.sha256().digest_size
SUFFIX = ".pickle"
HINT = '(see docs/cli.md "Trust and failure")'

_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)  # a FIFO in the cache must not hang the open
_DIRECTORY = getattr(os, "O_DIRECTORY", 0)
_BINARY = getattr(os, "O_BINARY", 0)
# open, stat and rename relative to the directory's descriptor (POSIX); elsewhere by path
_AT = bool(_DIRECTORY) and {os.open, os.unlink, os.rename, os.link} <= os.supports_dir_fd

_told = False  # one note per run about an unusable cache, however many policies are loaded


@attrs.frozen
class Entry:
    files: tuple[tuple[str, str], ...]  # (resolved path, sha256 of its bytes) of each file read
    policy: ir.Policy
    diagnostics: tuple[Diagnostic, ...]  # warnings
    sources: dict[str, SourceFile]


class Refused(Exception):
    """The cache, or a file in it, cannot be trusted or used; the message says why (one line)."""


def enabled() -> bool:
    return os.environ.get("CSDSL_NO_CACHE", "").strip() not in ("1", "true", "yes")


def directory() -> Path:
    if os.environ.get("CSDSL_CACHE_DIR"):
        return Path(os.environ["CSDSL_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "csdsl"


def _shown() -> str:
    try:
        return str(directory())
    except RuntimeError:
        return "~/.cache/csdsl"


# the modules whose classes an entry pickles: a change to any of them (a field added to an IR
# node, even between two releases of one version) makes every older entry another key, never an
# object that unpickles without its new fields and fails later.  The compiler that made the
# entry counts too: a fix to the checker or the parser (between two releases of one version, as
# in a development install) must not leave the IR of the old one in use.
_PICKLED_MODULES = ("ir.py", "diagnostics.py", "source.py", "cache.py", "calendar.py")
_COMPILER_DIRS = ("check", "syntax")


@functools.cache
def _code_digest(here: Path = Path(__file__).parent) -> str:
    """A digest of the code an entry depends on, in the package directory `here`."""
    digest = hashlib.sha256()
    names = [*_PICKLED_MODULES]
    for folder in _COMPILER_DIRS:
        try:
            names += sorted(f"{folder}/{p.name}" for p in (here / folder).glob("*.py"))
        except OSError:
            names.append(folder)
    for name in names:
        try:
            digest.update(name.encode() + b"\0" + (here / name).read_bytes())
        except OSError:  # a frozen or zipped install: the version alone must do
            digest.update(name.encode())
    # the grammar file, through its one reader (imported here, when a key is first made:
    # `csdsl.syntax.grammar` imports this module only inside `parser()`, and lark only there)
    from csdsl.syntax.grammar import grammar_text

    with contextlib.suppress(OSError):
        digest.update(grammar_text().encode("utf-8"))
    return digest.hexdigest()


def _key(path: str | Path) -> str:
    parts = (
        FORMAT,
        __version__,
        _code_digest(),
        sys.version,
        os.getcwd(),
        str(path),
        str(Path(path).resolve()),
    )
    return hashlib.sha256(repr(parts).encode("utf-8")).hexdigest()


def entry_name(path: str | Path) -> str:
    """The file name, in the cache directory, of the entry for the policy at `path`."""
    return _key(path) + SUFFIX


def text_digest(text: str) -> str:
    """SHA-256 of a policy file's text as read (UTF-8, byte-order mark dropped)."""
    # surrogatepass: an editor's unsaved text may hold a lone surrogate, which no file does
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def digest(path: str | Path) -> str:
    """The digest of a policy file as it is now (read as the compiler reads it: only a regular
    file, so one swapped for a FIFO since it was compiled is refused, never waited on)."""
    return text_digest(read_policy_text(path))


def _notice(text: str) -> None:
    global _told
    if _told:
        return
    _told = True
    with contextlib.suppress(OSError, ValueError):  # stderr closed: the note is a courtesy
        print(f"csdsl: note: {text} {HINT}", file=sys.stderr)


# ---- trust: owners, modes, the directory --------------------------------------------------


def _uid() -> int | None:
    """The user whose files are trusted, or None where there are no POSIX owners."""
    geteuid = getattr(os, "geteuid", None)
    return int(geteuid()) if geteuid is not None else None


def _reason(exc: OSError) -> str:
    if exc.errno == errno.ELOOP:
        return "is a symbolic link"
    return f"cannot be used ({(exc.strerror or type(exc).__name__).lower()})"


def _trust(st: os.stat_result, what: str) -> None:
    """Refuse what another user owns, or what its group or others may write."""
    uid = _uid()
    if uid is None:
        return
    if st.st_uid != uid:
        raise Refused(f"{what} belongs to another user (uid {st.st_uid}, you are uid {uid})")
    if st.st_mode & 0o022:
        who = "others" if st.st_mode & 0o002 else "its group"
        raise Refused(f"{what} is writable by {who} (mode {stat.S_IMODE(st.st_mode):04o})")


class _Folder:
    """The cache directory, checked once on its open descriptor; every file in it is opened
    relative to that descriptor (by path only where the platform has no `dir_fd`)."""

    def __init__(self, path: Path, fd: int | None) -> None:
        self.path = path
        self.fd = fd

    def close(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None

    def shown(self, name: str) -> str:
        return str(self.path / name)

    def _at(self, name: str) -> str:
        return name if self.fd is not None else str(self.path / name)

    def open(self, name: str, flags: int, mode: int = 0o600) -> int:
        flags |= _NOFOLLOW | _CLOEXEC | _BINARY
        return os.open(self._at(name), flags, mode, dir_fd=self.fd)

    def unlink(self, name: str) -> None:
        with contextlib.suppress(OSError):
            os.unlink(self._at(name), dir_fd=self.fd)

    def replace(self, src: str, dst: str) -> None:
        os.replace(self._at(src), self._at(dst), src_dir_fd=self.fd, dst_dir_fd=self.fd)

    def link(self, src: str, dst: str) -> None:
        os.link(self._at(src), self._at(dst), src_dir_fd=self.fd, dst_dir_fd=self.fd)

    def names(self) -> list[str]:
        return os.listdir(self.fd if self.fd is not None else self.path)


def _open_folder(*, create: bool) -> _Folder | None:
    """The cache directory, checked; None if it does not exist (and `create` is false)."""
    try:
        path = directory()
    except RuntimeError:  # no $HOME and no passwd entry: nowhere to keep a cache
        raise Refused("cache directory ~/.cache/csdsl has no home directory to live in") from None
    what = f"cache directory {path}"
    try:
        if create and not os.path.lexists(path):
            path.parent.mkdir(parents=True, exist_ok=True)
            # FileExistsError: another csdsl was quicker; checked below like any other
            with contextlib.suppress(FileExistsError):
                os.mkdir(path, 0o700)
        if _AT:
            fd = os.open(path, os.O_RDONLY | _DIRECTORY | _CLOEXEC)
            try:
                st = os.fstat(fd)
                _trust(st, what)
            except BaseException:
                os.close(fd)
                raise
            return _Folder(path, fd)
        st = os.stat(path)
        if not stat.S_ISDIR(st.st_mode):
            raise Refused(f"{what} is not a directory")
        _trust(st, what)
        return _Folder(path, None)
    except FileNotFoundError:
        if create:
            raise Refused(f"{what} cannot be created (no such file or directory)") from None
        return None
    except NotADirectoryError:
        raise Refused(f"{what} is not a directory") from None
    except OSError as exc:
        raise Refused(f"{what} {_reason(exc)}") from None


def _read(fd: int, what: str, *, exact_mode: int | None = None) -> bytes:
    """The bytes of an opened file, if it is a regular file the user owns and no one else may
    write (checked on the descriptor, not the path)."""
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):
        kind = "a directory" if stat.S_ISDIR(st.st_mode) else "not a regular file"
        raise Refused(f"{what} is {kind}")
    _trust(st, what)
    if exact_mode is not None and _uid() is not None and stat.S_IMODE(st.st_mode) != exact_mode:
        raise Refused(f"{what} has mode {stat.S_IMODE(st.st_mode):04o}, not {exact_mode:04o}")
    if st.st_size > MAX_ENTRY:  # a compiled policy is a few MB; this is not one of ours
        raise Refused(f"{what} is larger than {MAX_ENTRY // (1024 * 1024)} MiB")
    chunks: list[bytes] = []
    size = 0
    while chunk := os.read(fd, 1 << 20):
        size += len(chunk)
        if size > MAX_ENTRY:
            raise Refused(f"{what} is larger than {MAX_ENTRY // (1024 * 1024)} MiB")
        chunks.append(chunk)
    return b"".join(chunks)


def _write(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


# ---- the key and the MAC ------------------------------------------------------------------


def _load_key(folder: _Folder, *, create: bool) -> bytes | None:
    """The cache's key; made (and every entry it cannot vouch for removed) if there is none."""
    what = f"cache key {folder.shown(KEY_FILE)}"
    try:
        fd = folder.open(KEY_FILE, os.O_RDONLY | _NONBLOCK)
    except FileNotFoundError:
        return _new_key(folder) if create else None
    except OSError as exc:
        raise Refused(f"{what} {_reason(exc)}") from None
    try:
        key = _read(fd, what, exact_mode=0o600)
    finally:
        os.close(fd)
    if len(key) != KEY_SIZE:  # cut short (a full disk, a crash): entries under it are lost
        folder.unlink(KEY_FILE)
        return _new_key(folder) if create else None
    return key


def _new_key(folder: _Folder) -> bytes:
    """A random key, written whole to a private file and linked into place: a concurrent csdsl
    sees the whole key or none; if it made one first, its key wins."""
    key = os.urandom(KEY_SIZE)
    tmp = f".key-{os.urandom(8).hex()}.tmp"
    fd = folder.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        try:
            if hasattr(os, "fchmod"):
                os.fchmod(fd, 0o600)  # whatever the umask: the key is refused unless 0600
            _write(fd, key)
        finally:
            os.close(fd)
        try:
            folder.link(tmp, KEY_FILE)
        except FileExistsError:
            theirs = _load_key(folder, create=False)
            if theirs is None:
                raise Refused(f"cache key {folder.shown(KEY_FILE)} vanished while made") from None
            return theirs
        except OSError:  # no hard links here: create the key itself exclusively
            fd = folder.open(KEY_FILE, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            try:
                if hasattr(os, "fchmod"):
                    os.fchmod(fd, 0o600)
                _write(fd, key)
            finally:
                os.close(fd)
    finally:
        folder.unlink(tmp)
    # entries written under an earlier key can no longer be verified: drop them
    for name in folder.names():
        if name.endswith(SUFFIX) or (name.startswith(".") and name.endswith(".tmp")):
            folder.unlink(name)
    return key


def _mac(key: bytes, name: str, payload: bytes) -> bytes:
    mac = hmac.new(key, name.encode("utf-8") + b"\0", hashlib.sha256)
    mac.update(payload)
    return mac.digest()


# ---- lookup and store -----------------------------------------------------------------------


_T = TypeVar("_T")


def _in_folder(create: bool, use: Callable[[_Folder], _T | None]) -> _T | None:
    """`use(folder)` on the checked cache directory, or None (with one note) when it cannot be
    used; None too when it does not exist and `create` is false."""
    try:
        folder = _open_folder(create=create)
        if folder is None:
            return None
        try:
            return use(folder)
        finally:
            folder.close()
    except Refused as exc:
        _notice(f"{exc}; not using it")
    except OSError as exc:
        _notice(f"cache directory {_shown()} {_reason(exc)}; not using it")
    return None


def private_file(name: str) -> str | None:
    """A path for another library's own cache file (lark's parser tables, which lark pickles and
    unpickles by itself, so no MAC can guard them) inside the checked cache directory: yours,
    not writable by others, so only you can put a file there.  An existing file of that name
    must be a regular file of yours that no one else may write.  None when the cache is off or
    cannot be used: the caller then keeps nothing on disk."""
    if not enabled():
        return None

    def checked(folder: _Folder) -> str:
        try:
            if folder.fd is not None:
                st = os.stat(name, dir_fd=folder.fd, follow_symlinks=False)
            else:
                st = os.lstat(folder.path / name)
        except FileNotFoundError:
            return folder.shown(name)
        what = f"cache file {folder.shown(name)}"
        if not stat.S_ISREG(st.st_mode):
            raise Refused(f"{what} is not a regular file")
        _trust(st, what)
        return folder.shown(name)

    return _in_folder(True, checked)


def lookup(path: str | Path) -> Entry | None:
    """The cached compilation of `path`, if it is still current."""
    if not enabled():
        return None
    return _in_folder(False, lambda folder: _lookup(folder, entry_name(path)))


def _lookup(folder: _Folder, name: str) -> Entry | None:
    what = f"cache entry {folder.shown(name)}"
    try:
        fd = folder.open(name, os.O_RDONLY | _NONBLOCK)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise Refused(f"{what} {_reason(exc)}") from None
    try:
        data = _read(fd, what)
    finally:
        os.close(fd)
    key = _load_key(folder, create=False)
    if key is None:  # no key: nothing in here can be vouched for (store makes a key)
        return None
    mac, payload = data[:MAC_SIZE], data[MAC_SIZE:]
    if not hmac.compare_digest(mac, _mac(key, name, payload)):
        folder.unlink(name)
        _notice(
            f"{what} failed its integrity check (csdsl did not write it with this cache's key); "
            "removed it and compiled the policy again"
        )
        return None
    try:
        entry: Any = pickle.loads(payload)
    except Exception:  # ours, but from a csdsl that pickled differently: forget it
        folder.unlink(name)
        return None
    if not isinstance(entry, Entry):
        folder.unlink(name)
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
    """Remember a successful compilation (written atomically; an unusable cache is noted once)."""
    if not enabled():
        return
    try:
        # the digests of the texts compiled: a file edited during the compilation is stale next
        # time, never trusted
        payload = pickle.dumps(
            Entry(files, policy, diagnostics, sources), protocol=pickle.HIGHEST_PROTOCOL
        )
    except (pickle.PicklingError, TypeError, AttributeError, RecursionError):
        return
    try:
        folder = _open_folder(create=True)
        if folder is None:  # pragma: no cover - create=True never answers None
            return
        try:
            _store(folder, entry_name(path), payload)
        finally:
            folder.close()
    except Refused as exc:
        _notice(f"{exc}; not using it")
    except OSError as exc:
        reason = (exc.strerror or type(exc).__name__).lower()
        _notice(f"cache directory {_shown()} cannot be written ({reason}); not using it")


def _store(folder: _Folder, name: str, payload: bytes) -> None:
    key = _load_key(folder, create=True)
    assert key is not None  # create=True: made if missing
    tmp = f".{name}.{os.urandom(6).hex()}.tmp"
    fd = folder.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        try:
            _write(fd, _mac(key, name, payload))
            _write(fd, payload)
        finally:
            os.close(fd)
        try:
            folder.replace(tmp, name)
        except IsADirectoryError:
            raise Refused(f"cache entry {folder.shown(name)} is a directory") from None
    except BaseException:
        folder.unlink(tmp)
        raise

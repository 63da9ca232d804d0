"""The compiled-policy cache cannot be planted or tampered with (issue 14, items 8 and 14).

A cache entry is a pickle, and unpickling runs code: csdsl must never read one from a directory
another user owns or others can write, never unpickle bytes it did not write itself (every entry
carries an HMAC under a per-cache key), and treat an unusable cache path as no cache at all, with
one note on stderr and the output and exit code of an uncached run.  Each test drives the
command line (`csdsl.cli.main`, or a real process) and, where it helps, the module.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import pickle
import shutil
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest

import csdsl
import csdsl.check
from csdsl import cache
from csdsl.cli import main

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "examples" / "complaints.jsonl"
NOTE = "csdsl: note: "
NOBODY = 65534


class Planted:
    """What an attacker leaves in a cache: unpickling it writes a marker file."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (exec, (f"open({str(self.marker)!r}, 'w').write('pwned')",))


@pytest.fixture
def setup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private copy of policies/, an empty private cache, and a fresh "run" (no note yet)."""
    monkeypatch.setenv("CSDSL_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("CSDSL_NO_CACHE", raising=False)
    monkeypatch.setattr(cache, "_told", False, raising=False)
    shutil.copytree(ROOT / "policies", tmp_path / "policies")
    return tmp_path


def _policy(tmp: Path) -> Path:
    return tmp / "policies" / "complaint_validity.csp"


def _name(path: Path) -> str:
    """The file name of the entry for `path` (the cache's own key; `.pickle` as ever)."""
    return cache._key(path) + ".pickle"


def _validate(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, policy: Path
) -> tuple[int, str, str]:
    """One `csdsl validate --format json` run, as a fresh process would see it."""
    monkeypatch.setattr(cache, "_told", False, raising=False)
    capsys.readouterr()
    code = main(["validate", str(policy), str(DATA), "--format", "json"])
    out, err = capsys.readouterr()
    return code, out, err


def _uncached(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, policy: Path
) -> tuple[int, str, str]:
    with monkeypatch.context() as m:
        m.setenv("CSDSL_NO_CACHE", "1")
        return _validate(capsys, monkeypatch, policy)


def _notes(err: str) -> list[str]:
    assert "Traceback" not in err and "internal error" not in err
    return [line for line in err.splitlines() if line.startswith(NOTE)]


def _compiles(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []
    real = csdsl.check.compile_file

    def spy(path: str | Path) -> csdsl.check.Compiled:
        calls.append(str(path))
        return real(path)

    monkeypatch.setattr(csdsl.check, "compile_file", spy)
    return calls


def _valid_count(out: str) -> int:
    return out.count('"valid": true')


# ---- a planted entry is never loaded ------------------------------------------------------


def _hostile_dir(folder: Path, kind: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """Make `folder` a directory csdsl must refuse; the words the note must use."""
    folder.mkdir()
    if kind == "world-writable":
        folder.chmod(0o777)
        return "writable by others"
    if kind == "group-writable":
        folder.chmod(0o770)
        return "writable by its group"
    folder.chmod(0o755)
    if os.geteuid() == 0:  # a real foreign-owned directory
        os.chown(folder, NOBODY, NOBODY)
    else:  # cannot chown: be someone else instead
        uid = os.geteuid() + 1
        monkeypatch.setattr(os, "geteuid", lambda: uid)
        monkeypatch.setattr(os, "getuid", lambda: uid)
    return "belongs to another user"


@pytest.mark.parametrize("kind", ["world-writable", "group-writable", "foreign-owned"])
@pytest.mark.parametrize("sealed", [False, True], ids=["bare", "with-a-planted-key"])
def test_a_planted_entry_in_a_directory_that_is_not_yours_is_never_loaded(
    setup: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    kind: str,
    sealed: bool,
) -> None:
    policy = _policy(setup)
    expected = _uncached(capsys, monkeypatch, policy)
    folder = setup / "cache"
    marker = setup / "PWNED"
    payload = pickle.dumps(Planted(marker))
    name = _name(policy)
    why = _hostile_dir(folder, kind, monkeypatch)
    if sealed:  # whoever can write the directory can write a key too: the key proves nothing
        key = os.urandom(32)
        (folder / "key").write_bytes(key)
        (folder / "key").chmod(0o600)
        mac = hmac.new(key, name.encode() + b"\0" + payload, hashlib.sha256).digest()
        payload = mac + payload
    (folder / name).write_bytes(payload)
    (folder / name).chmod(0o600)
    before = sorted(p.name for p in folder.iterdir())

    for _ in range(2):  # two runs: neither loads it, each says why once
        code, out, err = _validate(capsys, monkeypatch, policy)
        assert not marker.exists()
        assert (code, out) == expected[:2]
        (note,) = _notes(err)
        assert why in note and str(folder) in note and "not using it" in note
    # never written to either
    assert sorted(p.name for p in folder.iterdir()) == before
    # the module alone: the same refusal, and one note however often it is asked
    monkeypatch.setattr(cache, "_told", False, raising=False)
    assert cache.lookup(policy) is None and cache.lookup(policy) is None
    assert not marker.exists()
    assert len(_notes(capsys.readouterr().err)) == 1


def test_a_foreign_owned_cache_is_refused_by_a_real_process(setup: Path) -> None:
    """As root, `csdsl validate` in its own process, with a pickle planted in a directory owned
    by nobody (or, not as root, in a world-writable one)."""
    folder = setup / "cache"
    folder.mkdir(mode=0o755)
    marker = setup / "PWNED"
    if os.geteuid() == 0:
        os.chown(folder, NOBODY, NOBODY)
        why = "belongs to another user"
    else:
        folder.chmod(0o777)
        why = "writable by others"
    # the entry's name depends on the working directory: the process runs in setup
    script = (
        "import os, pickle, sys; from pathlib import Path; from csdsl import cache\n"
        "class P:\n"
        "    def __reduce__(self): return (exec, (f'open({sys.argv[2]!r}, \"w\").write(1)',))\n"
        "name = cache._key(sys.argv[1]) + '.pickle'\n"
        "Path(sys.argv[3], name).write_bytes(pickle.dumps(P()))\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("CSDSL_")}
    args = [sys.executable, "-c", script, "policies/complaint_validity.csp", str(marker)]
    subprocess.run([*args, str(folder)], cwd=setup, env=env, check=True)
    cmd = [sys.executable, "-m", "csdsl", "validate", "policies/complaint_validity.csp"]
    cmd += [str(DATA), "--format", "json"]
    plain = subprocess.run(
        cmd, cwd=setup, env={**env, "CSDSL_NO_CACHE": "1"}, capture_output=True, text=True
    )
    run = subprocess.run(
        cmd, cwd=setup, env={**env, "CSDSL_CACHE_DIR": str(folder)}, capture_output=True, text=True
    )
    assert not marker.exists()
    assert (run.returncode, run.stdout) == (plain.returncode, plain.stdout) == (0, plain.stdout)
    (note,) = _notes(run.stderr)
    assert why in note


# ---- a tampered entry is detected and rebuilt -----------------------------------------------


def _tampered(setup: Path) -> tuple[bytes, str]:
    """A pickled entry that names the real policy's files with their true hashes, but holds the
    policy compiled from a copy whose `feedback_late` threshold is 0h instead of 24h."""
    policy = _policy(setup)
    real = csdsl.check.compile_file(policy)
    evil_dir = setup / "evil"
    shutil.copytree(setup / "policies", evil_dir)
    text = (evil_dir / policy.name).read_text(encoding="utf-8")
    assert "feedback_form_delay > 24h" in text
    (evil_dir / policy.name).write_text(
        text.replace("feedback_form_delay > 24h", "feedback_form_delay > 0h"), encoding="utf-8"
    )
    evil = csdsl.check.compile_file(evil_dir / policy.name)
    assert real.policy is not None and evil.policy is not None and real.policy != evil.policy
    entry = cache.Entry(real.files, evil.policy, real.diagnostics, real.sources)
    return pickle.dumps(entry, protocol=pickle.HIGHEST_PROTOCOL), str(evil_dir / policy.name)


def _seal(key: bytes, name: str, payload: bytes) -> bytes:
    return hmac.new(key, name.encode() + b"\0" + payload, hashlib.sha256).digest() + payload


@pytest.mark.parametrize(
    "how", ["unsealed", "sealed-with-another-key", "real-mac-new-payload", "bytes-flipped"]
)
def test_a_tampered_entry_is_detected_and_rebuilt(
    setup: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    policy = _policy(setup)
    expected = _uncached(capsys, monkeypatch, policy)
    assert expected[0] == 0 and _valid_count(expected[1]) == 84
    payload, _ = _tampered(setup)
    # the cache as csdsl left it: a warm run
    assert _validate(capsys, monkeypatch, policy) == expected
    name = _name(policy)
    entry = setup / "cache" / name
    real = entry.read_bytes()
    if how == "unsealed":  # what anyone without the key writes
        forged = payload
    elif how == "sealed-with-another-key":
        forged = _seal(os.urandom(32), name, payload)
    elif how == "real-mac-new-payload":
        forged = real[:32] + payload
    else:  # one bit of the real entry changed, in its last byte
        forged = real[:-1] + bytes([real[-1] ^ 1])
    entry.write_bytes(forged)
    calls = _compiles(monkeypatch)

    code, out, err = _validate(capsys, monkeypatch, policy)
    assert (code, out) == expected[:2]
    (note,) = _notes(err)
    assert "integrity" in note and name in note
    assert len(calls) == 1  # rebuilt
    # and stored afresh: the next run is warm, quiet and right
    assert entry.read_bytes() != forged
    code, out, err = _validate(capsys, monkeypatch, policy)
    assert (code, out) == expected[:2] and not _notes(err)
    assert len(calls) == 1


def test_an_entry_moved_to_another_policys_name_is_rejected(
    setup: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A genuine entry, written by csdsl for another policy (here: a copy with a 0h threshold),
    renamed to the entry of the real one: its files are unchanged, so only a MAC bound to the
    entry's name tells it apart."""
    policy = _policy(setup)
    expected = _uncached(capsys, monkeypatch, policy)
    _, evil = _tampered(setup)
    code, wrong, _ = _validate(capsys, monkeypatch, Path(evil))  # stores the evil entry
    assert code == 0 and _valid_count(wrong) > 84
    folder = setup / "cache"
    os.replace(folder / _name(Path(evil)), folder / _name(policy))

    code, out, err = _validate(capsys, monkeypatch, policy)
    assert (code, out) == expected[:2] and _valid_count(out) == 84
    (note,) = _notes(err)
    assert "integrity" in note


def test_a_tampered_entry_is_rejected_through_the_api(
    setup: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    policy = _policy(setup)
    cold = csdsl.load(policy, cache=True)
    payload, _ = _tampered(setup)
    (setup / "cache" / _name(policy)).write_bytes(payload)
    warm = csdsl.load(policy, cache=True)
    assert warm.ir == cold.ir
    assert len(_notes(capsys.readouterr().err)) == 1


def test_the_key_is_private_and_a_lost_key_only_costs_a_rebuild(
    setup: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    policy = _policy(setup)
    expected = _uncached(capsys, monkeypatch, policy)
    old = os.umask(0)  # modes must not depend on a permissive umask
    try:
        assert _validate(capsys, monkeypatch, policy) == expected
    finally:
        os.umask(old)
    folder = setup / "cache"
    key = folder / "key"
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stat.S_IMODE(key.stat().st_mode) == 0o600 and len(key.read_bytes()) == 32
    assert stat.S_IMODE((folder / _name(policy)).stat().st_mode) == 0o600
    first = key.read_bytes()

    key.unlink()  # the entries can no longer be vouched for: compiled again, quietly
    calls = _compiles(monkeypatch)
    assert _validate(capsys, monkeypatch, policy) == expected
    assert len(calls) == 1 and key.read_bytes() != first
    assert _validate(capsys, monkeypatch, policy) == expected
    assert len(calls) == 1


@pytest.mark.parametrize("damage", ["mode-0644", "symlink", "directory", "foreign-owned"])
def test_a_key_that_is_not_private_is_refused(
    setup: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, damage: str
) -> None:
    policy = _policy(setup)
    expected = _uncached(capsys, monkeypatch, policy)
    assert _validate(capsys, monkeypatch, policy) == expected  # cache, key and entry made
    key = setup / "cache" / "key"
    if damage == "mode-0644":
        key.chmod(0o644)
    elif damage == "symlink":
        elsewhere = setup / "elsewhere"
        key.rename(elsewhere)
        key.symlink_to(elsewhere)
    elif damage == "directory":
        key.unlink()
        key.mkdir()
    elif os.geteuid() == 0:
        os.chown(key, NOBODY, NOBODY)
    else:
        pytest.skip("chown needs root")
    calls = _compiles(monkeypatch)
    code, out, err = _validate(capsys, monkeypatch, policy)
    assert (code, out) == expected[:2] and len(calls) == 1
    (note,) = _notes(err)
    assert str(key) in note and "not using it" in note


# ---- an unusable cache path is ignored, with one note ----------------------------------------


def _unblock(fifo: Path, stop: threading.Event) -> None:
    if stop.wait(5):
        return
    while not stop.is_set():
        with contextlib.suppress(OSError):  # ENXIO: no reader yet
            os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        stop.wait(0.2)


@pytest.mark.parametrize(
    "shape", ["dir-is-a-file", "dir-under-a-file", "entry-is-a-directory", "entry-is-a-fifo"]
)
def test_an_unusable_cache_path_is_ignored_with_one_note(
    setup: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, shape: str
) -> None:
    policy = _policy(setup)
    expected = _uncached(capsys, monkeypatch, policy)
    folder = setup / "cache"
    stop = threading.Event()
    if shape.startswith("dir-"):
        (setup / "afile").write_text("not a directory\n")
        where = setup / "afile" if shape == "dir-is-a-file" else setup / "afile" / "sub"
        monkeypatch.setenv("CSDSL_CACHE_DIR", str(where))
        words = "is not a directory"
    else:
        folder.mkdir(mode=0o700)
        entry = folder / _name(policy)
        if shape == "entry-is-a-directory":
            entry.mkdir()
            words = "is a directory"
        else:
            os.mkfifo(entry)
            words = "is not a regular file"
            # a reader that blocks on the FIFO would hang the suite: a writer comes by after a
            # few seconds, so such a reader fails this test instead
            threading.Thread(target=_unblock, args=(entry, stop), daemon=True).start()
    try:
        code, out, err = _validate(capsys, monkeypatch, policy)
    finally:
        stop.set()
    assert (code, out) == expected[:2]
    (note,) = _notes(err)
    assert words in note and "not using it" in note
    # a second run: the same, except that a FIFO in csdsl's own directory was replaced by a
    # good entry (a rename never writes through it)
    code, out, err = _validate(capsys, monkeypatch, policy)
    assert (code, out) == expected[:2]
    assert len(_notes(err)) == (0 if shape == "entry-is-a-fifo" else 1)
    # the module alone: never an exception
    assert (cache.lookup(policy) is None) == (shape != "entry-is-a-fifo")
    cache.store(policy, (), csdsl.load(policy).ir, (), {})


def test_a_symlinked_entry_is_not_followed(
    setup: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    policy = _policy(setup)
    expected = _uncached(capsys, monkeypatch, policy)
    marker = setup / "PWNED"
    (setup / "planted").write_bytes(pickle.dumps(Planted(marker)))
    folder = setup / "cache"
    folder.mkdir(mode=0o700)
    (folder / _name(policy)).symlink_to(setup / "planted")
    code, out, err = _validate(capsys, monkeypatch, policy)
    assert (code, out) == expected[:2] and not marker.exists()
    (note,) = _notes(err)
    assert "symbolic link" in note


# ---- where there are no POSIX owners --------------------------------------------------------


def test_without_owners_the_mac_still_guards_every_entry(
    setup: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """As on Windows (no `os.geteuid`): no owner or mode checks, the cache still works, and a
    tampered entry is still caught."""
    monkeypatch.delattr(os, "geteuid")
    monkeypatch.delattr(os, "getuid")
    policy = _policy(setup)
    expected = _uncached(capsys, monkeypatch, policy)
    payload, _ = _tampered(setup)
    calls = _compiles(monkeypatch)
    assert _validate(capsys, monkeypatch, policy) == expected
    assert _validate(capsys, monkeypatch, policy) == expected
    assert len(calls) == 1
    (setup / "cache" / _name(policy)).write_bytes(payload)
    code, out, err = _validate(capsys, monkeypatch, policy)
    assert (code, out) == expected[:2] and len(calls) == 2
    assert "integrity" in _notes(err)[0]


def test_a_cache_directory_that_cannot_be_made_is_ignored_with_one_note(
    setup: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Permission denied on the way to the cache (simulated: the suite runs as root, which no
    mode stops)."""
    policy = _policy(setup)
    expected = _uncached(capsys, monkeypatch, policy)

    def denied(path: object, *args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(os, "mkdir", denied)
    code, out, err = _validate(capsys, monkeypatch, policy)
    assert (code, out) == expected[:2]
    (note,) = _notes(err)
    assert "permission denied" in note and str(setup / "cache") in note
    assert not (setup / "cache").exists()


def test_a_key_made_first_by_a_concurrent_csdsl_wins(setup: Path) -> None:
    """Two runs making the key at once: the second one's link fails, and it takes the first
    one's key whole (and keeps the entries made under it)."""
    policy = _policy(setup)
    csdsl.load(policy, cache=True)
    folder = setup / "cache"
    key = (folder / "key").read_bytes()
    opened = cache._open_folder(create=False)
    assert opened is not None
    try:
        assert cache._new_key(opened) == key
    finally:
        opened.close()
    assert sorted(p.name for p in folder.iterdir()) == sorted(["key", _name(policy)])
    assert cache.lookup(policy) is not None


def test_a_change_to_the_pickled_classes_misses_every_older_entry(
    setup: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # an entry pickled before a field was added to an IR node (same csdsl version, a newer
    # checkout) unpickles without it and failed later with AttributeError; the key now holds
    # a digest of the modules whose classes an entry pickles
    policy = _policy(setup)
    calls = _compiles(monkeypatch)
    _validate(capsys, monkeypatch, policy)
    _validate(capsys, monkeypatch, policy)
    assert len(calls) == 1  # the second run used the entry
    monkeypatch.setattr(cache, "_code_digest", lambda: "another checkout of csdsl")
    _, out, _ = _validate(capsys, monkeypatch, policy)
    assert len(calls) == 2  # compiled again: the older entry is another key
    assert _valid_count(out) == 84


# ---- lark's parser tables: kept only in the checked cache directory ----------------------------


def _check_in_child(policy: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    # a child process: the parser (and so lark's tables) is built once per process
    return subprocess.run(
        [sys.executable, "-m", "csdsl", "check", str(policy)],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_lark_keeps_nothing_in_the_shared_temp_directory(setup: Path) -> None:
    # lark's own cache is a pickle at a predictable name in $TMPDIR, unpickled unchecked: a file
    # planted there by another user ran code as whoever ran csdsl (root, in the review)
    shared = setup / "tmp"
    shared.mkdir(mode=0o1777)
    for extra in ({}, {"CSDSL_NO_CACHE": "1"}):
        run = _check_in_child(_policy(setup), {"TMPDIR": str(shared), **extra})
        assert run.returncode == 0, run.stderr
        assert not list(shared.iterdir()), "nothing is kept in the shared temp directory"
    tables = list((setup / "cache").glob("lark-*.tables"))
    assert len(tables) == 1  # kept where only the user can write
    assert tables[0].stat().st_uid == os.geteuid()


def test_planted_lark_tables_in_a_cache_not_yours_are_never_loaded(setup: Path) -> None:
    folder = setup / "cache"
    marker = setup / "pwned"
    run = _check_in_child(_policy(setup), {})  # makes the real tables file, to learn its name
    (tables,) = folder.glob("lark-*.tables")
    tables.write_bytes(b"x\n" + pickle.dumps(Planted(marker)))
    folder.chmod(0o777)  # now anyone could have written it
    run = _check_in_child(_policy(setup), {})
    assert run.returncode == 0, run.stderr
    assert not marker.exists()
    assert "writable by others" in run.stderr


def test_a_giant_entry_is_refused_unread(
    setup: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # a sparse 3 GB file at an entry's name ended in "internal error (MemoryError)"
    policy = _policy(setup)
    _validate(capsys, monkeypatch, policy)  # makes the directory and the key
    entry = setup / "cache" / _name(policy)
    entry.unlink()
    with entry.open("wb") as handle:
        handle.truncate(cache.MAX_ENTRY + 1)
    entry.chmod(0o600)
    code, out, err = _validate(capsys, monkeypatch, policy)
    assert code == 0 and _valid_count(out) == 84
    assert any("larger than 256 MiB" in note for note in _notes(err))

"""csdsl._scanner, the C engine of phrase matching: its automaton finds exactly the occurrences
a brute-force search finds, in the order the other engines give them; its fold is
`str.translate` and `replace`; bad arguments are errors, not crashes; the build hook compiles it
where it can and says why where it cannot."""

from __future__ import annotations

import importlib.util
import sysconfig
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings, strategies as st

from csdsl import phrase_engines, phrases
from csdsl.phrases import DEFAULT, Folding, Matcher

ROOT = Path(__file__).resolve().parents[1]
scanner = pytest.importorskip(
    "csdsl._scanner", reason="csdsl._scanner was not built (no C compiler at install time)"
)

# code points of every width: ASCII, CJK, beyond the BMP, a lone surrogate
ALPHABET = st.sampled_from(["a", "b", "中", "文", "😀", "\ud83d", "\x00"])
PIECES = st.lists(st.lists(ALPHABET, min_size=1, max_size=4).map("".join), unique=True)
TEXT = st.lists(ALPHABET, max_size=40).map("".join)


def _brute(pieces: list[str], text: str) -> list[tuple[int, int]]:
    """(last, piece index) of every occurrence, by the index of the last code point, the
    longest piece first among those ending at one place."""
    found = [
        (i + len(p) - 1, -len(p), k)
        for k, p in enumerate(pieces)
        for i in range(len(text) - len(p) + 1)
        if text.startswith(p, i)
    ]
    return [(last, k) for last, _n, k in sorted(found)]


@settings(max_examples=400, deadline=None)
@given(PIECES, TEXT, st.data())
def test_the_automaton_finds_every_occurrence_in_order(
    pieces: list[str], text: str, data: st.DataObject
) -> None:
    others = data.draw(st.lists(st.booleans(), min_size=len(pieces), max_size=len(pieces)))
    values = [("v", k) for k in range(len(pieces))]
    flat, apart = scanner.Automaton(pieces, values, others).scan(text)
    want = _brute(pieces, text)
    assert list(zip(flat[0::2], flat[1::2], strict=True)) == [
        (last, values[k]) for last, k in want if not others[k]
    ]
    assert apart == [(last, values[k]) for last, k in want if others[k]]
    assert all(v is values[v[1]] for v in flat[1::2])  # the values themselves, not copies


def test_a_large_automaton_over_a_long_text() -> None:
    """Thousands of pieces sharing prefixes and suffixes (deep failure chains), a text of a
    million code points."""
    words = [f"{a}{b}{c}" for a in "您好请稍等" for b in "您好请稍等先生" for c in "您好请等"]
    pieces = sorted({w[i:j] for w in words for i in range(3) for j in range(i + 1, 4)})
    text = "".join(words) * 700
    flat, _ = scanner.Automaton(pieces, list(range(len(pieces))), [False] * len(pieces)).scan(text)
    sample = text[:3000]
    small, _ = scanner.Automaton(pieces, list(range(len(pieces))), [False] * len(pieces)).scan(
        sample
    )
    assert list(zip(small[0::2], small[1::2], strict=True)) == _brute(pieces, sample)
    assert len(flat) == 2 * sum(text.count(p) for p in pieces if len(p) == 1) + 2 * sum(
        _overlapping(text, p) for p in pieces if len(p) > 1
    )


def _overlapping(text: str, piece: str) -> int:
    n, i = 0, text.find(piece)
    while i >= 0:
        n += 1
        i = text.find(piece, i + 1)
    return n


@pytest.mark.parametrize(
    ("args", "error", "message"),
    [
        ((["a", 1], [0, 1], [0, 0]), TypeError, "piece 1 is not a str"),
        ((["a", ""], [0, 1], [0, 0]), ValueError, "piece 1 is empty"),
        ((["a", "a"], [0, 1], [0, 0]), ValueError, "piece 1 is given twice"),
        ((["a"], [0, 1], [0]), ValueError, "pieces and values differ"),
        ((["a"], [0], []), ValueError, "pieces and others differ"),
        ((5, [0], [0]), TypeError, "not iterable"),
    ],
)
def test_bad_pieces_are_errors(args: tuple[Any, ...], error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        scanner.Automaton(*args)


def test_an_automaton_is_initialised_once() -> None:
    """A second build would free what the first (or a scan) is using: refused, also from the
    Python code a build calls (here the truth of an item of `others`)."""
    automaton = scanner.Automaton(["ab"], [1], [False])
    with pytest.raises(TypeError, match="initialised once"):
        automaton.__init__(["cd"], [2], [False])
    assert automaton.scan("abcd") == ([1, 1], [])

    class Sneaky:
        def __bool__(self) -> bool:
            inner.__init__(["x"], [0], [False])
            return False

    inner = scanner.Automaton.__new__(scanner.Automaton)
    with pytest.raises(TypeError, match="initialised once"):
        inner.__init__(["a", "b"], [0, 1], [Sneaky(), False])
    with pytest.raises(RuntimeError, match="not built"):  # the failed build left it empty
        inner.scan("ab")


def test_scan_takes_a_str_and_an_empty_automaton_finds_nothing() -> None:
    automaton = scanner.Automaton([], [], [])
    assert automaton.scan("您好") == ([], [])
    with pytest.raises(TypeError, match="takes a str"):
        automaton.scan(b"ab")


FOLD_TEXT = st.text(
    st.one_of(
        st.characters(codec=None, max_codepoint=0x2FFFF),
        st.sampled_from(["\x00", "\x01", "\ud800", "\udfff", "你", "ｆ", "﹐"]),
    ),
    max_size=60,
)


@settings(max_examples=300, deadline=None)
@given(FOLD_TEXT, st.integers(0, 0x30000))
def test_the_fold_is_translate_then_replace(text: str, size: int) -> None:
    table = [chr((c * 7 + 3) % 0x110000) if c % 5 else "\x00" for c in range(min(size, 4096))]
    table += ["\x01"] * max(0, size - len(table))
    got = scanner.fold(text, table, "\x00", "\x01")
    marked = text.translate(table)
    if text.isascii():  # left to str.translate
        assert got is None
    else:
        assert got == (marked, marked.replace("\x00", ""), "\x01" in marked)


def test_the_fold_hands_back_an_entry_it_cannot_read() -> None:
    assert scanner.fold("您", ["x"] * 0x60A8 + ["yz"], "\x00", "\x01") is None  # two chars
    assert scanner.fold("您", ["x"] * 0x60A8 + [None], "\x00", "\x01") is None
    # ASCII: str.translate has its own fast path, the caller uses it
    assert scanner.fold("ab", ["x"] * 128, "\x00", "\x01") is None

    class Table(list[str]):  # a list whose items are not what C would read
        def __getitem__(self, i: Any) -> Any:
            return "Z"

    with pytest.raises(TypeError):
        scanner.fold("您", Table(["x"] * 0x10000), "\x00", "\x01")
    assert scanner.fold("", [], "\x00", "\x01") is None  # (ASCII too)
    with pytest.raises(TypeError, match="mark and slow one code point"):
        scanner.fold("ab", [], "\x00\x00", "\x01")


SETS = st.dictionaries(
    st.sampled_from(["a", "b"]),
    st.lists(st.sampled_from(["您好", "请稍等", "XX先生", "讓您", "ab", "(您|你)好"]), min_size=1),
    min_size=1,
)
TURNS = st.lists(
    st.lists(
        st.sampled_from(
            [*"您好你请稍等讓先生，。 ", "ＡＢ", "…", "(guī)", "\ua000", "\ud83d", "😀"]
        ),
        max_size=10,
    ).map("".join),
    max_size=5,
)


@settings(max_examples=200, deadline=None)
@given(SETS, TURNS, st.sampled_from([DEFAULT, Folding(traditional=False, punctuation=False)]))
def test_the_matcher_gives_the_same_table_with_the_c_fold_or_without(
    sets: dict[str, list[str]], turns: list[str], folding: Folding
) -> None:
    matcher = Matcher(sets, folding)
    with_c = matcher.scan_many(turns)
    assert phrases._fold is not None
    saved, phrases._fold = phrases._fold, None
    try:
        without = matcher.scan_many(turns)
    finally:
        phrases._fold = saved
    assert with_c.table() == without.table()
    assert with_c.texts() == without.texts()
    assert [with_c.span(a, -b) for a, b, _ in with_c.hits] == [
        without.span(a, -b) for a, b, _ in without.hits
    ]


def test_auto_takes_the_native_engine_when_it_is_built() -> None:
    assert phrase_engines.engine_name("auto") == "native"
    assert Matcher({"p": ["您好"]}, engine="auto").engine == "native"


def test_an_editable_install_s_module_is_not_older_than_its_source() -> None:
    """`pip install -e .` compiles src/csdsl/_scanner.c beside itself; after the C source
    changes the module must be built again (the same command)."""
    built = list((ROOT / "src" / "csdsl").glob("_scanner*.so"))
    if not built:
        pytest.skip("no module built beside the source: not an editable install")
    source = ROOT / "src" / "csdsl" / "_scanner.c"
    for module in built:
        assert module.stat().st_mtime >= source.stat().st_mtime, (
            f"{module.name} is older than _scanner.c: run `pip install -e .` again"
        )


def _hook() -> Any:
    spec = importlib.util.spec_from_file_location("csdsl_hatch_build", ROOT / "hatch_build.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_build_hook_compiles_the_module(tmp_path: Path) -> None:
    hook = _hook()
    target = tmp_path / ("_scanner" + (sysconfig.get_config_var("EXT_SUFFIX") or ".so"))
    assert hook.compile_module(ROOT / "src" / "csdsl" / "_scanner.c", target) is None
    spec = importlib.util.spec_from_file_location("csdsl._scanner", target)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.Automaton(["ab"], [1], [False]).scan("xab") == ([2, 1], [])


def _editable(tmp_path: Path, c_source: str, environ: dict[str, str]) -> list[str]:
    """The hook run as `pip install -e` runs it, on a tree holding `c_source` and a module left
    by an earlier install: the modules beside the source afterwards."""
    folder = tmp_path / "src" / "csdsl"
    folder.mkdir(parents=True)
    (folder / "_scanner.c").write_text(c_source, encoding="utf-8")
    suffix = sysconfig.get_config_var("EXT_SUFFIX") or ".so"
    (folder / f"_scanner{suffix}").write_bytes(b"an earlier install's module")
    hook = _hook().ScannerBuildHook(str(tmp_path), {}, None, None, str(tmp_path), "wheel")
    build_data: dict[str, Any] = {"force_include": {}}
    with pytest.MonkeyPatch.context() as mp:
        for k, v in environ.items():
            mp.setenv(k, v)
        hook.initialize("editable", build_data)
        hook.finalize("editable", build_data, "")
    return sorted(p.read_bytes()[:4].hex() for p in folder.glob("_scanner*.so"))


def test_an_editable_install_never_keeps_an_earlier_module(tmp_path: Path) -> None:
    c_source = (ROOT / "src" / "csdsl" / "_scanner.c").read_text(encoding="utf-8")
    assert _editable(tmp_path / "skip", c_source, {"CSDSL_NO_NATIVE": "1"}) == []
    assert _editable(tmp_path / "broken", c_source + "\n#error no\n", {}) == []
    assert _editable(tmp_path / "built", c_source, {"CSDSL_NO_NATIVE": "0"}) == ["7f454c46"]


def test_the_build_hook_says_why_it_could_not_compile(tmp_path: Path) -> None:
    broken = tmp_path / "broken.c"
    broken.write_text("this is not C\n", encoding="utf-8")
    problem = _hook().compile_module(broken, tmp_path / "broken.so")
    assert problem is not None and "failed" in problem
    assert not (tmp_path / "broken.so").exists()
    # the installed module is untouched and still works
    assert scanner.Automaton(["a"], [1], [False]).scan("ba") == ([1, 1], [])

"""Very large policies (issue 14, "memory on very large policies"): `csdsl compile --target
python` grows by little memory per condition and per item of an `in [...]` list, and what makes
that so (long blocks split into functions, long lists of constants packed, `CLAUSES` built from
runs of lines) keeps the generated module exact."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import attrs
import pytest

import csdsl
from csdsl.codegen import python as pycodegen, python_module
from csdsl.codegen.python import generate, load_source

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_memory import conditions_policy, list_policy  # noqa: E402


def _peak_mb(args: list[str], cwd: Path) -> float:
    """Peak resident set size (MB) of `python -m csdsl ARGS` in a fresh process."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CSDSL_")}
    env |= {"CSDSL_NO_CACHE": "1", "PYTHONPATH": str(ROOT / "src")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "csdsl", *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _, status, usage = os.wait4(proc.pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, args
    return usage.ru_maxrss / 1024


def _compile_peak(tmp_path: Path, text: str) -> float:
    path = tmp_path / "big.csp"
    path.write_text(text, encoding="utf-8")
    return _peak_mb(["compile", str(path), "--target", "python", "-o", "out.py"], tmp_path)


# Before the fix each condition cost about 560 KB and each list item about 10 KB at the peak
# (the whole module compiled at once, a dict display of every line in `CLAUSES`, and thirty
# tokens of IR per constant); after it, about 40 KB and 1.3 KB, most of it parsing and checking.
# The bounds sit in between, far from both.


def test_compile_python_memory_per_condition_is_small(tmp_path: Path) -> None:
    small = _compile_peak(tmp_path, conditions_policy(500))
    large = _compile_peak(tmp_path, conditions_policy(1000))
    per_condition_kb = (large - small) * 1024 / 500
    assert per_condition_kb < 150, f"{per_condition_kb:.0f} KB per condition"


def test_compile_python_memory_per_list_item_is_small(tmp_path: Path) -> None:
    small = _compile_peak(tmp_path, list_policy(10_000))
    large = _compile_peak(tmp_path, list_policy(20_000))
    per_item_kb = (large - small) * 1024 / 10_000
    assert per_item_kb < 4, f"{per_item_kb:.1f} KB per item"


# ---- the generated module stays exact --------------------------------------------------------

_TEXTS = ['"a\\"b"', '"中文"', '"x\\\\y"', '""', '"#"', '"\\""', '"tab\\there"', '"é"']
_POLICY = """policy "lists" timezone "UTC"

record R {{
  id: text
  tag: text?
  n: int?
  k: int
}}

valid R when any {{
  listed "in the list": tag in [{texts}]
  numbered: n in [{ints}]
  not_listed: tag not in [{texts}] and k > 2
{more}
}}
"""


def _policy_text() -> str:
    texts = [f'"v{i}"' for i in range(40)] + _TEXTS
    rows = [", ".join(texts[i : i + 7]) for i in range(0, len(texts), 7)]
    ints = ", ".join(str(n) for n in (0, 1, -1, 127, 128, -128, 10**15, -(10**15), 63, -64) * 3)
    more = "\n".join(f"  c{i}: k > {i} and (n is missing or n < {i})" for i in range(23))
    return _POLICY.format(texts=",\n      ".join(rows), ints=ints, more=more)


@pytest.fixture
def small_thresholds(monkeypatch: pytest.MonkeyPatch) -> None:
    # the packing and splitting thresholds brought down to what a short policy reaches
    monkeypatch.setattr(python_module, "_PACK", 4)
    monkeypatch.setattr(pycodegen, "_CHUNK", 5)
    monkeypatch.setattr(pycodegen, "_RUN", 3)


def _plain(obj: Any) -> Any:
    if attrs.has(type(obj)):
        return {"__class__": type(obj).__name__} | {
            f.name: _plain(getattr(obj, f.name)) for f in attrs.fields(type(obj)) if f.init
        }
    if isinstance(obj, list | tuple):
        return [_plain(x) for x in obj]
    return obj


@pytest.mark.usefixtures("small_thresholds")
def test_packed_lists_and_split_blocks_agree_with_the_interpreter(tmp_path: Path) -> None:
    path = tmp_path / "lists.csp"
    path.write_text(_policy_text(), encoding="utf-8")
    policy = csdsl.load(path)
    source = generate(policy)
    assert "_e_" in source and "CLAUSES = {" in source  # the split and packed forms are used
    module = load_source(source, "lists")
    want = attrs.evolve(policy.ir, examples=(), transcript_examples=(), invariants=())
    assert want == module.IR
    assert _plain(module.IR) == _plain(want)  # every span of every packed constant too
    tags = [None, "v0", "v39", "中文", 'a"b', "x\\y", "", "#", '"', "tab\there", "é", "nope"]
    ns = [None, 0, 1, -1, 127, 128, -128, 10**15, -(10**15), 5, -64, 64]
    for tag in tags:
        for n in ns:
            for k in (0, 3, 30):
                values = {"id": "r", "tag": tag, "n": n, "k": k}
                verdict = policy.validate_values(values, record_id="r")
                assert module.validate_values(values, record_id="r") == verdict
                assert module.matched_ids(values) == list(verdict.matched)
                assert module.matched_ids({**values, "extra": 1}) == list(verdict.matched)
    # every line of a condition's own function maps to that condition
    lines = source.splitlines()
    for number, (file, line, cid) in module.CLAUSES.items():
        assert file == str(path) and policy.ir.validities[0].conditions
        assert lines[number - 1].strip(), (number, cid, line)
    ids = {c.id for c in policy.ir.validities[0].conditions}
    assert {c for _, _, c in module.CLAUSES.values()} == ids
    for i, text in enumerate(lines, 1):
        if text.startswith("def _cond_0_"):
            cid = module.CLAUSES[i + 1][2]
            index = int(text.split("_")[3].split("(")[0])
            assert cid == policy.ir.validities[0].conditions[index].id


def test_thresholds_keep_short_policies_as_they_were(tmp_path: Path) -> None:
    # below the thresholds nothing is packed nor split: the module reads as before
    policy = csdsl.load(ROOT / "policies" / "complaint_validity.csp")
    source = generate(policy)
    assert "packed" not in source and "_e_" not in source.split("CLAUSES")[0]


# ---- no RecursionError, no traceback, on thousands of conditions or a very long list ---------


@pytest.mark.parametrize(
    ("text", "record"),
    [
        (conditions_policy(1200), '{"id": "r", "a": 5, "b": null, "tag": "t3", "flag": true}'),
        (list_policy(3000), '{"id": "r", "a": 5, "b": null, "tag": "v77", "flag": true}'),
    ],
    ids=["1200 conditions", "3000-item list"],
)
def test_every_verb_handles_a_very_large_policy(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    text: str,
    record: str,
) -> None:
    # more siblings than Python's recursion limit: a walk that recursed along them would fail
    from csdsl.cli import main

    monkeypatch.setenv("CSDSL_NO_CACHE", "1")

    path = tmp_path / "big.csp"
    path.write_text(text, encoding="utf-8")
    (tmp_path / "one.jsonl").write_text(record + "\n", encoding="utf-8")
    one = str(tmp_path / "one.jsonl")
    runs = [
        ["check", str(path)],
        ["fmt", "--check", str(path)],
        ["doc", str(path), "-o", str(tmp_path / "doc.html")],
        ["validate", str(path), one],
        ["explain", str(path), one],
        *(
            ["compile", str(path), "--target", t, "-o", str(tmp_path / f"out.{t}")]
            for t in ("python", "sql", "json")
        ),
    ]
    for argv in runs:
        code = main(argv)
        err = capsys.readouterr().err
        assert code in (0, 1), (argv, err)
        assert "Traceback" not in err and "internal error" not in err, (argv, err)

"""The generated Python checker (`csdsl.codegen.python`) against the reference interpreter.

- every policy of `policies/` compiles to a module that imports with lark blocked and gives the
  interpreter's results on the example data (validate, timelines, transcripts, metrics);
- on generated policies and records the two agree field by field (verdict, matched, unknown,
  condition values, errors), whatever mapping the values come in;
- text from a policy (names, strings, wording, file names) never becomes code;
- mutated policy text through load -> generate -> import raises only `PolicyError`;
- a traceback through a generated condition shows the generated line and names its clause.
"""

from __future__ import annotations

import ast as pyast
import datetime as dt
import hashlib
import inspect
import json
import linecache
import os
import pickle
import shutil
import subprocess
import sys
import textwrap
import traceback
import types
import zoneinfo
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import csdsl
from csdsl import ir, runtime, testing
from csdsl.api import Policy, RecordError
from csdsl.codegen.jsonir import dumps, loads
from csdsl.codegen.python import content_hash, generate, load_source, source_order
from csdsl.codegen.sql import SqlUnsupported, compile_sql
from csdsl.syntax.format import expr_text

ROOT = Path(__file__).resolve().parents[1]
POLICIES = sorted((ROOT / "policies").glob("*.csp"))
EXAMPLES = ROOT / "examples"
# which example file holds which record type (as `.ci/run` feeds them to `csdsl audit`)
DATA = {"Complaint": "complaints.jsonl", "Call": "calls.jsonl", "Inquiry": "inquiries.csv"}

# ---- running one checker over the example data (shared with the lark-free child process) -----


def plain(obj: Any) -> Any:
    """Results as comparable data: attrs classes that are exceptions (`RowError`) compare by
    identity, so everything becomes dicts, lists and values (spans included)."""
    if attrs.has(type(obj)):
        return {"__class__": type(obj).__name__} | {
            f.name: plain(getattr(obj, f.name)) for f in attrs.fields(type(obj)) if f.init
        }  # fields not given to the constructor are caches (a calendar's days)
    if isinstance(obj, list | tuple):
        return [plain(x) for x in obj]
    if isinstance(obj, Mapping):
        return {k: plain(v) for k, v in obj.items()}
    return obj


def run_all(api: Any, policy: Any, examples: str) -> dict[str, Any]:
    """Every result a checker gives on the example data: `api` is a module or a `Policy`."""
    import json as _json
    from pathlib import Path as _Path

    data = {
        "Complaint": "complaints.jsonl",
        "Call": "calls.jsonl",
        "Inquiry": "inquiries.csv",
        "Inpatient": "hospital_ward/stays.jsonl",
        "InternalCase": "procurement/internal_cases.jsonl",
        "NursingCheck": "hospital_ward/nursing_checks.jsonl",
        "Survey": "procurement/surveys.jsonl",
    }
    logs = {"Inpatient": "hospital_ward/events.jsonl", "InternalCase": "procurement/events.jsonl"}
    base = _Path(examples)
    now = dt.datetime.fromisoformat((base / "now.txt").read_text(encoding="utf-8").strip())

    def objects(path: Any, most: int) -> list[Any]:
        out = []
        for line in path.read_text(encoding="utf-8").splitlines()[:most]:
            try:
                out.append(_json.loads(line))
            except ValueError:
                continue
        return out

    def outcome(fn: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return plain(fn(*args, **kwargs))
        except RecordError as exc:
            return (type(exc).__name__, str(exc), exc.code, exc.field)

    out: dict[str, Any] = {}
    names = {r.name for r in policy.records}
    for v in policy.validities:
        path = base / data[v.record]
        out[f"validate_file {v.record}"] = plain(list(api.validate_file(path, v.record)))
        reader = api.reader(v.record)
        rows = [row for row in reader.read(str(path)) if row.values is not None]
        out[f"matched {v.record}"] = [api.matched_ids(r.values, v.record) for r in rows]
        out[f"values {v.record}"] = plain(
            [api.validate_values(r.values, v.record, r.id) for r in rows]
        )
        raw = objects(path, 40) if path.suffix == ".jsonl" else []
        out[f"validate {v.record}"] = [outcome(api.validate, r, v.record) for r in raw]
        if raw:
            bad = {**raw[0], reader.record.fields[0].name: [1]}
            out[f"bad {v.record}"] = outcome(api.validate, bad, v.record)
    clocked = {d.record for d in policy.deadlines} | {e.record for e in policy.escalations}
    for name in sorted(clocked):
        events_path = base / logs.get(name, "complaint_events.jsonl")
        events = objects(events_path, 10**6)
        rows_, problems = api.timeline_file(base / data[name], events_path, now, name)
        out[f"timeline_file {name}"] = plain(list(rows_))
        out[f"problems {name}"] = plain(problems)
        out[f"timeline {name}"] = [
            outcome(api.timeline, r, [e for e in events if e.get("case") == r.get("id")], now=now)
            for r in objects(base / data[name], 15)
        ]
    if policy.transcript_rules is not None:
        path = base / "transcripts.jsonl"
        out["transcripts"] = plain(list(api.check_transcript_file(path)))
        out["transcript"] = [outcome(api.check_transcript, t) for t in objects(path, 10)]
    if policy.metrics:
        files = {r: base / f for r, f in data.items() if r in names}
        results, bad_rows = api.measure_files(files)
        out["metrics"] = plain(results)
        out["metric rows"] = plain(bad_rows)
    return out


_CHILD = """
import datetime as dt
import importlib.abc
import importlib.util
import pickle
import sys
from collections.abc import Mapping
from typing import Any

import attrs


class BlockLark(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "lark" or name.startswith("lark."):
            raise ImportError(f"lark is blocked: {{name}}")
        return None


for loaded in [m for m in sys.modules if m == "lark" or m.startswith("lark.")]:
    del sys.modules[loaded]
sys.meta_path.insert(0, BlockLark())

import csdsl.calendar, csdsl.interpreter, csdsl.ir, csdsl.phrases, csdsl.qa  # noqa
import csdsl.records, csdsl.timeline, csdsl.transcripts, csdsl.runtime  # noqa
from csdsl import Policy, Verdict, load  # the lazy names resolve without the parser  # noqa
from csdsl.api import RecordError

{helpers}

out = {{}}
for name, path in {modules!r}:
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    out[name] = run_all(module, module.IR, {examples!r})
    out[name]["hash"] = module.CONTENT_HASH
loaded = sorted(m for m in sys.modules if m.startswith(("lark", "csdsl.syntax", "csdsl.check")))
out["__loaded__"] = loaded
with open({result!r}, "wb") as handle:
    pickle.dump(out, handle)
"""


@pytest.fixture(scope="module")
def loaded() -> dict[str, Policy]:
    cwd = os.getcwd()
    os.chdir(ROOT)  # file names in spans relative to the repository, as the CLI shows them
    try:
        return {p.stem: csdsl.load(p.relative_to(ROOT)) for p in POLICIES}
    finally:
        os.chdir(cwd)


def test_every_policy_runs_without_lark_and_agrees_with_the_interpreter(
    loaded: dict[str, Policy], tmp_path: Path
) -> None:
    modules = []
    for stem, policy in loaded.items():
        path = tmp_path / f"checker_{stem}.py"
        path.write_text(generate(policy), encoding="utf-8")
        modules.append((f"checker_{stem}", str(path)))
    helpers = "\n\n".join(textwrap.dedent(inspect.getsource(f)) for f in (plain, run_all))
    result = tmp_path / "result.pickle"
    script = _CHILD.format(
        helpers=helpers, modules=modules, examples=str(EXAMPLES), result=str(result)
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    proc = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    with result.open("rb") as handle:
        got = pickle.load(handle)
    assert got.pop("__loaded__") == []
    for stem, policy in loaded.items():
        want = run_all(policy, policy.ir, str(EXAMPLES))
        theirs = got[f"checker_{stem}"]
        assert theirs.pop("hash") == content_hash(policy)
        assert theirs.keys() == want.keys()
        for key in want:
            assert theirs[key] == want[key], (stem, key)
    # the data exercised every part: verdicts, timelines, transcripts and metrics
    hotline = got["checker_hotline"]
    assert {"validate_file Complaint", "timeline_file Complaint", "transcripts", "metrics"} <= set(
        hotline
    )


def test_the_module_rebuilds_the_checked_policy_exactly(loaded: dict[str, Policy]) -> None:
    for policy in loaded.values():
        module = load_source(generate(policy))
        want = attrs.evolve(policy.ir, examples=(), transcript_examples=(), invariants=())
        assert want == module.IR
        assert plain(module.IR) == plain(want)  # spans too
        assert policy.name == module.POLICY_NAME
        assert policy.version == module.POLICY_VERSION
        assert policy.ir.timezone == module.TIMEZONE
        assert policy.ir.effective == module.EFFECTIVE
        assert csdsl.__version__ == module.CSDSL_VERSION
        assert generate(policy) == generate(policy)  # deterministic


# ---- content hash ----------------------------------------------------------------------------


def test_content_hash_follows_its_definition(loaded: dict[str, Policy], tmp_path: Path) -> None:
    hotline = loaded["hotline"]
    order = [path for path, _ in source_order(hotline)]
    assert order[0] == "hotline.csp"
    assert order[1:] == sorted(order[1:]) and "common/phrases.csp" in order
    # `cd policies && sha256sum FILES | sha256sum`: the manifest of every file, by path
    manifest = "".join(
        f"{hashlib.sha256((ROOT / 'policies' / rel).read_bytes()).hexdigest()}  {rel}\n"
        for rel in sorted(order)
    )
    want = "sha256:" + hashlib.sha256(manifest.encode()).hexdigest()
    module = load_source(generate(hotline))
    assert module.CONTENT_HASH == want == content_hash(hotline)
    assert json.loads(dumps(hotline))["content_hash"] == want
    assert list(module.SOURCES) == order
    # the same files from elsewhere give the same hash; one changed byte gives another
    copy = tmp_path / "policies"
    shutil.copytree(ROOT / "policies", copy)
    assert content_hash(csdsl.load(copy / "hotline.csp")) == content_hash(hotline)
    phrases = copy / "common" / "phrases.csp"
    phrases.write_text(phrases.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    assert content_hash(csdsl.load(copy / "hotline.csp")) != content_hash(hotline)


# ---- generated policies and records: field by field ------------------------------------------

RECORD = testing.SAMPLE_RECORD


def _policy_text(zone: str, conds: list[str], excs: list[str], quantifier: str) -> str:
    cs = "\n".join(f"  c{i}: {c}" for i, c in enumerate(conds))
    xs = "\n".join(f"  x{i}: {c}" for i, c in enumerate(excs))
    unless = f" unless {{\n{xs}\n}}" if excs else ""
    return (
        f'policy "generated" timezone "{zone}"\n\n{RECORD}\n\n'
        f"valid R when {quantifier} {{\n{cs}\n}}{unless}\n"
    )


def _load_text(tmp: Path, text: str, name: str = "generated.csp") -> Policy:
    path = tmp / name
    path.write_text(text, encoding="utf-8")
    return csdsl.load(path)


@pytest.fixture(scope="module")
def record_type(tmp_path_factory: pytest.TempPathFactory) -> ir.Record:
    policy = _load_text(tmp_path_factory.mktemp("rec"), f'policy "r" timezone "UTC"\n{RECORD}\n')
    record = policy.ir.record("R")
    assert record is not None
    return record


def _tz(zone: str) -> dt.tzinfo:
    return dt.UTC if zone == "UTC" else zoneinfo.ZoneInfo(zone)


def _outcome(fn: Any, *args: Any) -> tuple[str, Any]:
    try:
        return "ok", plain(fn(*args))
    except KeyError as exc:  # csdsl's RecordTypeError is one, with a plain message
        return "KeyError", str(exc).strip("'")
    except (RecordError, TypeError) as exc:
        return type(exc).__name__, str(exc)


def assert_agree(policy: Policy, module: types.ModuleType, values: dict[str, Any]) -> None:
    try:
        want = policy.validate_values(values, record_id="r")
    except TypeError as exc:
        # values of the wrong type: the verdict path fails as the interpreter does; the fast
        # path may not get as far as the failing operation
        with pytest.raises(type(exc)):
            module.validate_values(values, record_id="r")
        return
    for form in (values, types.MappingProxyType(values)):
        got = module.validate_values(form, record_id="r")
        assert got == want
        assert plain(got) == plain(want)
        assert got.unknown == want.unknown
        assert module.matched_ids(form) == list(want.matched) == policy.matched_ids(values)
    # a dict without the missing keys: the fast path falls back to `.get`
    sparse = {k: v for k, v in values.items() if v is not None}
    assert module.matched_ids(sparse) == list(want.matched)
    assert module.validate_values(sparse, record_id="r") == want


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_generated_policies_and_records_agree(
    record_type: ir.Record, tmp_path_factory: pytest.TempPathFactory, data: st.DataObject
) -> None:
    zone = data.draw(st.sampled_from(["Asia/Shanghai", "UTC", "America/New_York"]))
    conds = data.draw(
        st.lists(testing.typed_conditions(record_type, max_depth=3), min_size=1, max_size=4)
    )
    excs = data.draw(st.lists(testing.typed_conditions(record_type, max_depth=2), max_size=2))
    quantifier = data.draw(st.sampled_from(["any", "all"]))
    text = _policy_text(
        zone, [expr_text(c) for c in conds], [expr_text(c) for c in excs], quantifier
    )
    tmp = tmp_path_factory.mktemp("gen")
    policy = _load_text(tmp, text)
    module = load_source(generate(policy), "generated")
    tz = _tz(zone)
    for values in data.draw(st.lists(testing.record_values(record_type, tz), max_size=8)):
        assert_agree(policy, module, values)
    for raw in data.draw(st.lists(testing.raw_records(record_type, tz), max_size=8)):
        assert _outcome(module.validate, raw) == _outcome(policy.validate, raw)


def test_edge_values_agree(tmp_path: Path) -> None:
    """Division by zero, overflow, non-finite results, missing operands, `in` with fields."""
    conds = [
        "x / (n - n) > 0 or x * x > 1000000000000 or x * x - x * x = 0",
        "wait * x * x > 1h or wait * x > 1h or wait / 0 < 1m or wait / x > 1h",
        "finish - start > wait and start + wait * n < finish",
        "n in [m, 3, n] or x in [n, 0.5] or x not in [m, n]",
        "tier in [regular] or tier not in [key_account] or tier = key_account",
        'note contains "退" or note = "" or day is missing or day - day = 0s',
        "-(wait) < 0s and -x < 0 and -(-n) > 0 or not (opt or flag)",
        "m * m * m * m > 100000000000000 * 1000000000000000 and m + 1 > m",
    ]
    policy = _load_text(tmp_path, _policy_text("Asia/Shanghai", conds, ["opt and x > 1"], "any"))
    module = load_source(generate(policy))
    tz = _tz("Asia/Shanghai")
    start = dt.datetime(2024, 1, 31, 23, 59, 59, tzinfo=tz)
    base: dict[str, Any] = {f.name: None for f in policy.ir.records[0].fields}
    base |= {"flag": False, "m": 3, "start": start}
    rows = [
        {"n": 2**20, "x": 0.5, "wait": dt.timedelta(seconds=1)},
        {"n": 0, "x": 1e308, "wait": dt.timedelta(days=7, seconds=1)},
        {"n": 0, "x": 2.5, "wait": dt.timedelta(days=999_999_998), "finish": start},
        {"n": 2**53 + 1, "x": -0.0, "note": "退款", "tier": "regular", "opt": True},
        {"x": 1.5, "opt": True, "day": dt.date(2024, 2, 29), "tier": "key_account"},
        {
            "m": 10**10,
            "n": -5,
            "wait": dt.timedelta.max,
            "finish": dt.datetime.max.replace(tzinfo=tz),
        },
        {"note": "", "opt": False, "x": 0.0, "n": 3},
        {},
    ]
    for row in rows:
        assert_agree(policy, module, base | row)


def test_negating_the_longest_duration_is_unknown_not_an_error(tmp_path: Path) -> None:
    """-timedelta.max is out of range: unknown, like any arithmetic out of range, in the
    interpreter and in both paths of the generated module."""
    policy = _load_text(
        tmp_path, _policy_text("UTC", ["-(wait) < 0s", "flag or -wait > 1h"], [], "any")
    )
    module = load_source(generate(policy))
    base: dict[str, Any] = {f.name: None for f in policy.ir.records[0].fields}
    values = base | {"flag": True, "wait": dt.timedelta.max}
    verdict = policy.validate_values(values, record_id="r")
    assert [c.outcome for c in verdict.conditions] == [None, True]
    assert_agree(policy, module, values)
    assert module.matched_ids(values) == [verdict.conditions[1].id]


def test_deep_expressions_become_functions_of_their_own(tmp_path: Path) -> None:
    nested = "flag and (" * 60 + "n > 1" + ")" * 60
    chain = " or ".join(f"n = {i}" for i in range(120))
    sums = "(" * 50 + "n" + " + 1)" * 50 + " > 60"
    mixed = "not (" * 40 + "x > 1 or opt" + ")" * 40
    policy = _load_text(tmp_path, _policy_text("UTC", [nested, chain, sums, mixed], [], "any"))
    source = generate(policy)
    assert "def _e_" in source  # spilled into helper functions
    module = load_source(source)
    start = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    for n in (None, 0, 2, 11, 119, 200):
        for flag in (True, False):
            values = {f.name: None for f in policy.ir.records[0].fields}
            values |= {"flag": flag, "m": 1, "start": start, "n": n, "x": 1.5 if flag else None}
            assert_agree(policy, module, values)


def test_several_record_types_and_none(tmp_path: Path) -> None:
    text = textwrap.dedent(
        """\
        policy "two" timezone "UTC"
        record A { a: bool }
        record B { b: int? }
        valid A when any { ca: a }
        valid B when all { cb: b > 1, cc: b < 5 }
        """
    )
    policy = _load_text(tmp_path, text)
    module = load_source(generate(policy))
    for args in ((({"a": True},)), ({"b": 3}, "B"), ({"b": None}, "B"), ({"a": 1}, "A")):
        assert _outcome(module.matched_ids, *args) == _outcome(policy.matched_ids, *args)
        assert _outcome(module.validate_values, *args) == _outcome(policy.validate_values, *args)
    for args in (({"id": 1, "a": True}, "A"), ({"id": 1, "b": "7"}, "B"), ({"id": 1},)):
        assert _outcome(module.validate, *args) == _outcome(policy.validate, *args)
    assert module.matched_ids({"b": 3}, "B") == ["cb", "cc"]
    assert _outcome(module.matched_ids, {"a": True}, "C")[0] == "KeyError"
    none = _load_text(tmp_path, 'policy "none" timezone "UTC"\nrecord A { a: bool }\n', "n.csp")
    bare = load_source(generate(none))
    assert _outcome(bare.validate_values, {"a": True}) == _outcome(
        none.validate_values, {"a": True}
    )
    assert _outcome(bare.matched_ids, {"a": True})[0] == "KeyError"


# ---- injection -------------------------------------------------------------------------------

EVIL = "__import__('pathlib').Path('PWNED').touch()"
_EVIL_POLICY = r"""policy "name\"\"\" '''; @EVIL@ # -- /* */ \\ 名字\n"
  version "1\"\n@EVIL@\\" timezone "UTC"

record R {
  note: text?
  __import__: bool
  名字: text?
  数量: int?
  x: int?
}

phrases 坏 = ["\"\"\"; @EVIL@; \"\"\"", "你好 -- /* #", "引号\\'\n结束"]

valid R when any {
  c1 "\"\"\" @EVIL@ \"\"\"\n#": note = "\"); @EVIL@ #"
  __import__ "wording with \\ and \n and ''' -- /* */": note = "a\\b\nc\"\"\"d'''e"
  exec "中文 \"引号\"": 名字 = "中文 \"引号\" # -- /* */" or note contains "\\"
  c4: __import__ and note in ["x'y", "#", "--", "/*", "*/", "\\", "\n", "@EVIL@"]
  c5: 数量 > 1 and x is missing
}
"""
_STRINGS = [
    '"); @EVIL@ #',
    "a\\b\nc\"\"\"d'''e",
    '中文 "引号" # -- /* */',
    "\\",
    "x'y",
    "#",
    "--",
    "/*",
    "\n",
    "@EVIL@",
    "plain",
]
# every name generated code may use: its own mangled names and a fixed vocabulary
_MANGLED = (
    r"l_\d+(_\w+)?|t_\d+|_k_\d+|_o_\d+|_e_\d+|_f_\d+|_cond_\d+_\d+|_exc_\d+_\d+"
    r"|_verdict_\d+|_matched_\d+"
)
_VOCABULARY = {
    "values", "get", "m", "record_id", "POLICY", "IR", "CLAUSES", "type", "dict",
    "float", "frozenset", "KeyError", "ZeroDivisionError", "OverflowError", "_rt", "_dt", "_ir",
    "_S", "_CR", "_isfinite", "_add", "_sub", "_mul", "_div", "_neg", "_VERDICTS", "_MATCHED",
    "__all__", "POLICY_NAME", "POLICY_VERSION", "EFFECTIVE", "TIMEZONE", "CONTENT_HASH",
    "CSDSL_VERSION", "SOURCES", "validate", "validate_values", "matched_ids", "validate_file",
    "record_type", "reader", "timeline", "timeline_file", "read_events", "transcript_checker",
    "check_transcript", "check_transcript_file", "measure", "measure_files", "check_rules",
    "rules_file", "rule_checker",
}  # fmt: skip


def _allowed_attributes() -> set[str]:
    return (
        {"get", "append", "timedelta", "datetime", "date", "time", "timezone", "utc"}
        | set(vars(runtime))
        | set(vars(ir))
        | set(ir.Kind.__members__)
        | {n for n in dir(Policy) if not n.startswith("_")}
    )


def test_policy_text_never_becomes_code(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import re

    folder = tmp_path / "evil'\"\n# -- dir"
    folder.mkdir()
    monkeypatch.chdir(tmp_path)
    policy = _load_text(folder, _EVIL_POLICY.replace("@EVIL@", EVIL), "p'o\"l#i--c*y 中.csp")
    source = generate(policy)
    tree = pyast.parse(source)
    attributes = _allowed_attributes()
    for node in pyast.walk(tree):
        if isinstance(node, pyast.Name):
            assert re.fullmatch(_MANGLED, node.id) or node.id in _VOCABULARY, node.id
        elif isinstance(node, pyast.Attribute):
            assert node.attr in attributes, node.attr
        elif isinstance(node, pyast.FunctionDef):
            assert re.fullmatch(_MANGLED, node.name) or node.name in _VOCABULARY, node.name
        elif isinstance(node, pyast.Call) and isinstance(node.func, pyast.Name):
            assert node.func.id not in {"eval", "exec", "compile", "__import__", "open"}
    module = load_source(source, "evil")
    assert policy.name == module.POLICY_NAME and "PWNED" in policy.name
    assert policy.version == module.POLICY_VERSION
    assert module.IR.phrase_sets == policy.ir.phrase_sets
    record = policy.ir.record("R")
    assert record is not None
    names = [f.name for f in record.fields]
    for s in _STRINGS:
        s = s.replace("@EVIL@", EVIL)
        for flag in (True, False):
            for other in (None, '中文 "引号" # -- /* */', s):
                values = dict.fromkeys(names) | {"note": s, "__import__": flag, "名字": other}
                assert_agree(policy, module, values | {"数量": 2})
                assert_agree(policy, module, values | {"数量": 0, "x": 2})
    matched = module.validate_values(dict.fromkeys(names) | {"note": f'"); {EVIL} #'}).matched
    assert matched == ("c1",)
    clauses = set(module.CLAUSES.values())
    second = policy.ir.validities[0].conditions[1]
    assert (second.span.file, second.span.line, "__import__") in clauses
    assert "\n" in second.span.file
    assert not (tmp_path / "PWNED").exists() and not (folder / "PWNED").exists()
    assert not (ROOT / "PWNED").exists()


# ---- fuzz: policy text through the whole compile path ----------------------------------------

_SEEDS = [ROOT / "policies" / n for n in ("complaint_validity.csp", "complaint_handling.csp")]
_PIECES = [
    "{", "}", "(", ")", "[", "]", ":", ",", '"', "“", "=", "and", "or", "not", "is", "set",
    "missing", "valid", "record", "4h", "2024-10-29", "-", "#", "\n", " ", "x", "投诉", "?", "\\",
    "unless", "in", "contains", "+", "*", "/", "0", "1.5", "24h", "true", "false", "all", "any",
    "'''", '"""', "__import__('os')", "-- ", "/*", "\\n", "\\\"",
]  # fmt: skip


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.one_of(
        testing.mutated([p.read_text(encoding="utf-8") for p in _SEEDS], _PIECES),
        st.text(max_size=200),
    )
)
def test_any_policy_text_gives_diagnostics_or_a_working_checker(
    tmp_path_factory: pytest.TempPathFactory, text: str
) -> None:
    path = tmp_path_factory.mktemp("fuzz") / "fuzz.csp"
    path.write_text(text, encoding="utf-8")
    try:
        policy = csdsl.load(path)
    except csdsl.PolicyError as exc:
        assert exc.diagnostics
        return
    module = load_source(generate(policy), "fuzzed")
    assert attrs.evolve(policy.ir, examples=(), transcript_examples=(), invariants=()) == module.IR
    for ex in policy.ir.examples:
        if policy.ir.validity(ex.record) is not None:
            assert_agree_typed(policy, module, dict(ex.values), ex.record)
    # the other targets: the IR reads back from its JSON; SQL is written or refused by name
    assert loads(dumps(policy)) == policy.ir
    for dialect in ("duckdb", "postgres", "spark"):
        try:
            compile_sql(policy, dialect=dialect)
        except SqlUnsupported as exc:
            assert f"{exc.file}:{exc.line}" in str(exc)


def assert_agree_typed(
    policy: Policy, module: types.ModuleType, values: dict[str, Any], record: str
) -> None:
    want = policy.validate_values(values, record, "e")
    assert module.validate_values(values, record, "e") == want
    assert module.matched_ids(values, record) == list(want.matched)


# ---- tracebacks and the clause map -----------------------------------------------------------


def test_a_traceback_names_the_generated_line_and_the_clause(loaded: dict[str, Policy]) -> None:
    policy = loaded["complaint_validity"]
    module = load_source(generate(policy), "traced")
    values = dict(policy.ir.examples[0].values) | {"data_lost": True, "loss_amount": "1200"}
    for call in (module.validate_values, module.matched_ids):
        with pytest.raises(TypeError) as info:
            call(values)
        frames = [f for f in traceback.extract_tb(info.tb) if f.filename == module.__file__]
        assert frames, traceback.format_exception(info.value)
        last = frames[-1]
        assert last.line and "loss_amount" in last.line and ">" in last.line
        assert linecache.getline(module.__file__, last.lineno).strip() == last.line
        cond = policy.ir.validities[0].conditions[2]
        assert module.CLAUSES[last.lineno] == (cond.span.file, cond.span.line, "data_loss")
        text = "".join(traceback.format_exception(info.value))
        assert last.line in text
    # the condition function says which clause it is
    source = generate(policy)
    cond = policy.ir.validities[0].conditions[2]
    assert f"# condition 'data_loss', 'policies/complaint_validity.csp':{cond.span.line}" in source


def test_the_generated_file_imports_like_any_module(
    loaded: dict[str, Policy], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    policy = loaded["complaint_validity"]
    (tmp_path / "complaint_checker.py").write_text(generate(policy), encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    import importlib

    module = importlib.import_module("complaint_checker")
    try:
        record = json.loads((EXAMPLES / "complaints.jsonl").read_text("utf-8").splitlines()[0])
        assert module.validate(record) == policy.validate(record)
        assert module.__all__ and all(hasattr(module, n) for n in module.__all__)
        with pytest.raises(ImportError, match="runtime 99"):
            runtime.require(99)
    finally:
        sys.modules.pop("complaint_checker", None)

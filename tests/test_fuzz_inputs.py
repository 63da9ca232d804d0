"""The fuzz suite of issue 14: hostile files through every verb and both engines.

Each test draws a file that mixes good rows of the bundled exports with hostile rows of every
kind found so far (deep nesting, lone surrogates, huge integers, non-finite numbers, datetimes
at the ends of the calendar, huge cells, unterminated quotes, trailing data, control
characters, bare scalars), runs a verb in-process with `CSDSL_DEBUG=1` (so a bug raises here,
with its traceback, instead of printing "internal error") and asserts:

- the exit code is 0, 1 or 2, and no traceback or "internal error" is printed;
- every JSON output is strict (RFC 8259: no NaN or Infinity) and text output holds no raw
  terminal control character;
- rows in = good rows + bad rows reported, for every file.

Hostile policy texts (damaged, with surrogates, huge numbers, deep parentheses, NULs) go through
`check`, `fmt --check`, `test`, `compile` (every target) and `doc`.  Bounded: a few dozen
examples a test, so the whole file stays within a minute or two of CI.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from csdsl import cli

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
POLICIES = ROOT / "policies"
SEED_TEXT = (POLICIES / "complaint_validity.csp").read_text(encoding="utf-8")

FUZZ = settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# raw terminal control: C0 other than tab and newline, DEL, C1 (the ESC of `\x1b]0;...\x07`)
_RAW_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f\x80-\x9f]")


def _lines(path: Path, n: int) -> list[str]:
    with path.open(encoding="utf-8") as handle:
        return [next(handle).rstrip("\n") for _ in range(n)]


GOOD_COMPLAINTS = _lines(EXAMPLES / "complaints.jsonl", 6)
GOOD_IDS = [json.loads(line)["id"] for line in GOOD_COMPLAINTS]
GOOD_EVENTS = [
    line
    for line in (EXAMPLES / "complaint_events.jsonl").read_text(encoding="utf-8").splitlines()
    if any(f'"{rid}"' in line for rid in GOOD_IDS)
]
GOOD_TRANSCRIPTS = _lines(EXAMPLES / "transcripts.jsonl", 3)
BASE: dict[str, Any] = json.loads(GOOD_COMPLAINTS[0])

DEEP = 3000


def _with(**changes: Any) -> str:
    return json.dumps({**BASE, **changes}, ensure_ascii=False)


def _raw_with(field: str, raw: str) -> str:
    """A record line whose `field` is the raw JSON text `raw` (NaN, a 5,000-digit number)."""
    obj = {k: v for k, v in BASE.items() if k != field}
    text = json.dumps(obj, ensure_ascii=False)
    return text[:-1] + f', "{field}": {raw}}}'


ESC = "\x1b]0;HACKED\x07"
HOSTILE_RECORD_LINES: list[str] = [
    "[" * DEEP + "]" * DEEP,
    '{"a": ' * DEEP + "1" + "}" * DEEP,
    _raw_with("id", '"\\ud800"'),
    _raw_with("team", '"east\\udfff"'),
    _raw_with("loss_amount", "9" * 5000),
    _raw_with("loss_amount", "-" + "9" * 4301),
    _raw_with("id", "NaN"),
    _raw_with("loss_amount", "Infinity"),
    _raw_with("loss_amount", "-Infinity"),
    _with(id="far-future", received_at="9999-12-31T23:00:00+08:00"),
    _with(id="far-past", received_at="0001-01-01T00:00:00+14:00"),
    _with(id=f"esc{ESC}", team=f"team{ESC}\u202e"),
    _with(id="nl\nline 9  C-20241029-0009  valid  forged", team="a\u2028b\ufeff"),
    _with(id="huge-cell", team="x" * 140_000),
    _with(id=1.0),
    _with(id=10**30),
    "null",
    "42",
    '"just text"',
    "[]",
    "{}",
    _with(id="trailing") + " trailing",
    "\ufeff" + _with(id="bom-inside"),
    '{"id": "unterminated',
    GOOD_COMPLAINTS[0],  # a duplicate id
]

HOSTILE_EVENT_LINES: list[str] = [
    "[" * DEEP + "]" * DEEP,
    f'{{"case": "{GOOD_IDS[0]}", "at": "9999-12-31T23:59:59+08:00", "event": "replied"}}',
    f'{{"case": "{GOOD_IDS[0]}", "at": "0001-01-01T00:00:00+14:00", "event": "acknowledged"}}',
    f'{{"case": "{GOOD_IDS[1]}", "at": "2024-10-29T10:00:00+08:00", "event": "replied\\ud800"}}',
    '{"case": NaN, "at": "2024-10-29T10:00:00+08:00", "event": "replied"}',
    f'{{"case": {"9" * 5000}, "at": "2024-10-29T10:00:00+08:00", "event": "replied"}}',
    json.dumps({"case": f"x{ESC}", "at": "2024-10-29T10:00:00+08:00", "event": f"e{ESC}"}),
    "null",
    "7",
]


def _transcript_with(**changes: Any) -> str:
    return json.dumps({**json.loads(GOOD_TRANSCRIPTS[0]), **changes}, ensure_ascii=False)


HOSTILE_TRANSCRIPT_LINES: list[str] = [
    "[" * DEEP + "]" * DEEP,
    '{"turns": ' + "[" * DEEP + "]" * DEEP + "}",
    GOOD_TRANSCRIPTS[0][:-1] + ', "agent": "\\ud800"}',
    _transcript_with(id="t-esc" + ESC, turns=[{"speaker": "agent", "text": "您好" + ESC}]),
    _transcript_with(id="t-huge", turns=[{"speaker": "agent", "text": "您好" * 70_000}]),
    _transcript_with(
        id="t-far", started_at="9999-12-31T23:59:59+08:00", turns=[{"speaker": "agent"}]
    ),
    GOOD_TRANSCRIPTS[0].replace('"start": 0.3', '"start": NaN'),
    GOOD_TRANSCRIPTS[0].replace('"start": 0.3', '"start": ' + "9" * 5000),
    "null",
    '"text"',
]


def _mixed(good: list[str], hostile: list[str]) -> st.SearchStrategy[list[str]]:
    return st.lists(
        st.one_of(st.sampled_from(good), st.sampled_from(hostile)), min_size=1, max_size=8
    )


def _write_jsonl(path: Path, lines: list[str]) -> int:
    """Writes the lines (the surrogate escapes stay escapes: the file is valid UTF-8); returns
    the rows in: the non-blank lines."""
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return sum(1 for line in lines if line.strip())


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    assert code in (0, 1, 2), (code, err[-2000:])
    assert "internal error" not in err and "Traceback" not in err, err[-2000:]
    return code, out, err


def _strict_json(text: str) -> Any:
    def refuse(name: str) -> Any:
        raise AssertionError(f"non-standard JSON constant {name}")

    return json.loads(text, parse_constant=refuse)


def _no_raw_control(text: str) -> None:
    bad = _RAW_CONTROL.search(text)
    assert bad is None, f"raw control character {bad.group()!r} in output: {text[:300]!r}"


@pytest.fixture(autouse=True)
def _debug(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CSDSL_DEBUG", "1")  # a bug raises here, with its traceback
    monkeypatch.setenv("CSDSL_NO_CACHE", "1")


# ---- records --------------------------------------------------------------------------------


@FUZZ
@given(lines=_mixed(GOOD_COMPLAINTS, HOSTILE_RECORD_LINES))
def test_validate_counts_every_row(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], lines: list[str]
) -> None:
    data = tmp_path / "records.jsonl"
    rows_in = _write_jsonl(data, lines)
    policy = str(POLICIES / "complaint_validity.csp")
    _, out, _ = _run(capsys, "validate", policy, str(data), "--format", "json")
    outputs = [_strict_json(line) for line in out.splitlines() if line.strip()]
    assert len(outputs) == rows_in  # one verdict or one bad row per row in
    assert {o["line"] for o in outputs} <= set(range(1, len(lines) + 1))
    _, out, err = _run(capsys, "validate", policy, str(data))
    _no_raw_control(out + err)
    # one line of output per row: data never starts a line of its own (a newline in an id)
    assert len(out.splitlines()) == rows_in, out[-1000:]
    summary = re.search(r"(\d+) rows? read: (\d+) good, (\d+) bad", err)
    assert summary is not None, err[-500:]
    total, good, bad = map(int, summary.groups())
    assert total == rows_in == good + bad


@FUZZ
@given(
    records=_mixed(GOOD_COMPLAINTS, HOSTILE_RECORD_LINES),
    events=_mixed(GOOD_EVENTS, HOSTILE_EVENT_LINES),
    transcripts=_mixed(GOOD_TRANSCRIPTS, HOSTILE_TRANSCRIPT_LINES),
    engine=st.sampled_from(["python", "duckdb"]),
)
def test_audit_counts_every_row_on_both_engines(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    records: list[str],
    events: list[str],
    transcripts: list[str],
    engine: str,
) -> None:
    paths = {
        "records": tmp_path / "complaints.jsonl",
        "events": tmp_path / "events.jsonl",
        "transcripts": tmp_path / "transcripts.jsonl",
    }
    rows_in = {
        "records": _write_jsonl(paths["records"], records),
        "events": _write_jsonl(paths["events"], events),
        "transcripts": _write_jsonl(paths["transcripts"], transcripts),
    }
    out_dir = tmp_path / "out"
    code, out, _ = _run(
        capsys,
        "audit",
        str(POLICIES / "hotline.csp"),
        "--records",
        str(paths["records"]),
        "--events",
        str(paths["events"]),
        "--transcripts",
        str(paths["transcripts"]),
        "--engine",
        engine,
        "--now",
        "2024-12-31T00:00:00+08:00",
        "--out",
        str(out_dir),
    )
    _no_raw_control(out)
    if code == 2:  # a usage error is allowed only with a one-line reason
        return
    report = _strict_json((out_dir / "report.json").read_text(encoding="utf-8"))
    for line in (out_dir / "findings.jsonl").read_text(encoding="utf-8").splitlines():
        _strict_json(line)
    seen = {entry["kind"]: entry for entry in report["inputs"]}
    for kind, n in rows_in.items():
        entry = seen[kind]
        assert entry["rows"] == n, (kind, entry)
        assert entry["rows"] == entry["read"] + entry["bad"], (kind, entry)
    md = (out_dir / "report.md").read_text(encoding="utf-8")
    _no_raw_control(md)


@FUZZ
@given(
    records=_mixed(GOOD_COMPLAINTS, HOSTILE_RECORD_LINES),
    events=_mixed(GOOD_EVENTS, HOSTILE_EVENT_LINES),
    fmt=st.sampled_from(["text", "json"]),
    now=st.sampled_from(
        ["2024-12-31T00:00:00+08:00", "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-12:00"]
    ),
)
def test_timeline_never_crashes(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    records: list[str],
    events: list[str],
    fmt: str,
    now: str,
) -> None:
    data, log = tmp_path / "c.jsonl", tmp_path / "e.jsonl"
    _write_jsonl(data, records)
    _write_jsonl(log, events)
    policy = str(POLICIES / "complaint_handling.csp")
    _, out, _ = _run(
        capsys, "timeline", policy, str(data), "--events", str(log), "--now", now, "--format", fmt
    )
    if fmt == "json":
        for line in out.splitlines():
            if line.strip():
                _strict_json(line)
    else:
        _no_raw_control(out)


@FUZZ
@given(
    transcripts=_mixed(GOOD_TRANSCRIPTS, HOSTILE_TRANSCRIPT_LINES),
    fmt=st.sampled_from(["text", "json"]),
)
def test_transcripts_counts_every_row(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], transcripts: list[str], fmt: str
) -> None:
    data = tmp_path / "t.jsonl"
    rows_in = _write_jsonl(data, transcripts)
    policy = str(POLICIES / "hotline_qa.csp")
    _, out, _ = _run(capsys, "transcripts", policy, str(data), "--format", fmt)
    if fmt == "json":
        outputs = [_strict_json(line) for line in out.splitlines() if line.strip()]
        per_row = [o for o in outputs if "line" in o]
        assert len(per_row) == rows_in
    else:
        _no_raw_control(out)


def test_explain_and_diff_read_hostile_records(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # every hostile line, once (not under @given: diff searches with Hypothesis itself, and a
    # search nested in a test's makes Hypothesis file its finds as that test's failures)
    lines = [*GOOD_COMPLAINTS, *HOSTILE_RECORD_LINES]
    data = tmp_path / "records.jsonl"
    _write_jsonl(data, lines)
    policy = str(POLICIES / "complaint_validity.csp")
    for n in range(1, len(lines) + 1):
        _, out, err = _run(capsys, "explain", policy, f"{data}:{n}", "--format", "json")
        if out.strip():
            _strict_json(out)
        _no_raw_control(err)
    newer = tmp_path / "newer.csp"
    newer.write_text(SEED_TEXT.replace("loss_amount > 0", "loss_amount > 100", 1), "utf-8")
    _, out, _ = _run(
        capsys, "diff", policy, str(newer), "--records", str(data), "--max-examples", "5"
    )
    _no_raw_control(out)


# ---- CSV and JSON-array files --------------------------------------------------------------

CSV_HEADER = "id,received_at,team,replied,replied_in_time,satisfied"
GOOD_CSV = _lines(EXAMPLES / "inquiries.csv", 6)[1:]
HOSTILE_CSV = [
    'Q-huge,2024-10-29 08:41:08,"' + "x" * 140_000 + '",true,true,true',
    "Q-ctl,2024-10-29 08:41:08,south" + ESC + ",true,true,true",
    "Q-digits,2024-10-29 08:41:08,south,true,true," + "9" * 5000,
    "Q-far,9999-12-31 23:59:59,south,true,true,true",
    "Q-short,2024-10-29 08:41:08",
    "Q-long,2024-10-29 08:41:08,south,true,true,true,extra",
]


@FUZZ
@given(
    rows=st.lists(
        st.one_of(st.sampled_from(GOOD_CSV), st.sampled_from(HOSTILE_CSV)),
        min_size=1,
        max_size=8,
    ),
    unterminated=st.booleans(),
)
def test_csv_counts_every_row(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], rows: list[str], unterminated: bool
) -> None:
    if unterminated:  # a cell opens a quote that no later line closes (an earlier quote
        # that a later line closes is a legal cell spanning lines, not a lost row)
        rows = [*rows, 'Q-open,2024-10-29 08:41:08,"south,true,true,true']
    data = tmp_path / "inquiries.csv"
    data.write_text(CSV_HEADER + "\n" + "".join(r + "\n" for r in rows), encoding="utf-8")
    out_dir = tmp_path / "out"
    _, _out, _ = _run(
        capsys,
        "audit",
        str(POLICIES / "hotline.csp"),
        "--records",
        f"Inquiry={data}",
        "--out",
        str(out_dir),
    )
    report = _strict_json((out_dir / "report.json").read_text(encoding="utf-8"))
    entry = next(e for e in report["inputs"] if e["kind"] == "records")
    assert entry["rows"] == entry["read"] + entry["bad"]
    assert entry["rows"] == len(rows)  # nothing swallowed by the open quote


@FUZZ
@given(
    first=st.lists(st.sampled_from(GOOD_COMPLAINTS), min_size=1, max_size=4),
    second=st.lists(st.sampled_from(GOOD_COMPLAINTS), min_size=1, max_size=4),
)
def test_a_json_file_with_a_second_array_loses_nothing_silently(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], first: list[str], second: list[str]
) -> None:
    data = tmp_path / "records.json"
    data.write_text("[" + ",\n".join(first) + "]\n[" + ",\n".join(second) + "]\n", encoding="utf-8")
    policy = str(POLICIES / "complaint_validity.csp")
    code, out, err = _run(capsys, "validate", policy, str(data), "--format", "json")
    outputs = [_strict_json(line) for line in out.splitlines() if line.strip()]
    # either every record is read, or the trailing data is reported as a bad row, or the file
    # is refused as a whole (exit 2, with the reason): never a silent success on half the file
    read_all = len(outputs) == len(first) + len(second)
    reported = any("error" in o for o in outputs)
    assert read_all or reported or (code == 2 and err.strip()), (code, outputs, err)


# ---- hostile policies ------------------------------------------------------------------------


_HOSTILE_POLICY_EDITS: list[Callable[[str], str]] = [
    lambda t: t.replace('"对客户态度不好而影响公司形象"', '"对客户\\ud800态度"', 1),
    lambda t: t.replace("loss_amount > 0", "loss_amount > " + "9" * 5000, 1),
    lambda t: t.replace("loss_amount > 0", "loss_amount > " + "(" * 3000 + "0" + ")" * 3000, 1),
    lambda t: t.replace("loss_amount > 0", "loss_amount > 0" + " or data_lost" * 3000, 1),
    lambda t: t.replace("feedback_form_delay > 24h", "feedback_form_delay > 99999999999d", 1),
    lambda t: t + "\n# " + ESC + "\x00\n",
    lambda t: t.replace("agent_rude", "agent\x00rude", 1),
    lambda t: t.replace("agent_rude", "agent" + ESC + "rude", 1),
    lambda t: "\ufeff" + t,
    lambda t: t.replace("\n", "\r", 5),
    lambda t: t[: len(t) // 2],
    lambda t: t + 'import "/dev/zero"\n',
    lambda t: t + "x" * 200_000,
]


@FUZZ
@given(
    edits=st.lists(st.sampled_from(_HOSTILE_POLICY_EDITS), min_size=1, max_size=3),
    verb=st.sampled_from(
        [
            ("check",),
            ("check", "--format", "json"),
            ("fmt", "--check"),
            ("test",),
            ("compile", "--target", "python"),
            ("compile", "--target", "sql"),
            ("compile", "--target", "json"),
            ("doc", "--format", "md"),
            ("explain", "--format", "json"),
        ]
    ),
)
def test_hostile_policies_get_diagnostics_not_tracebacks(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    edits: list[Callable[[str], str]],
    verb: tuple[str, ...],
) -> None:
    text = SEED_TEXT
    for edit in edits:
        text = edit(text)
    policy = tmp_path / "p.csp"
    policy.write_text(text, encoding="utf-8")
    argv = [*verb, str(policy)]
    if verb[0] in ("compile", "doc"):
        argv += ["-o", str(tmp_path / "out.txt")]
    elif verb[0] == "diff":  # the bundled policy as the old version, the hostile one as new
        argv = [*verb, str(POLICIES / "complaint_validity.csp"), str(policy)]
    elif verb[0] == "explain":
        argv += [GOOD_COMPLAINTS[0]]
    code, out, err = _run(capsys, *argv)
    if verb[0] == "check":
        _no_raw_control(out)
    if "--format" in verb and "json" in verb:
        _strict_json(out)
    if code != 0:
        assert out.strip() or err.strip(), "a failure says why"


@pytest.mark.parametrize("edit", range(len(_HOSTILE_POLICY_EDITS)))
@pytest.mark.parametrize(
    "verb", [("verify", "--max-examples", "3"), ("diff", "--max-examples", "3")]
)
def test_hostile_policies_through_the_searching_verbs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], edit: int, verb: tuple[str, ...]
) -> None:
    # verify and diff search with Hypothesis: each hostile edit once, outside @given
    policy = tmp_path / "p.csp"
    policy.write_text(_HOSTILE_POLICY_EDITS[edit](SEED_TEXT), encoding="utf-8")
    if verb[0] == "diff":
        argv = [*verb, str(POLICIES / "complaint_validity.csp"), str(policy)]
    else:
        argv = [*verb, str(policy)]
    code, out, err = _run(capsys, *argv)
    if code != 0:
        assert out.strip() or err.strip(), "a failure says why"

"""The transcript checker's full results on every bundled transcript, kept as golden files.

Every policy with transcript rules (`POLICIES`) checks every bundled transcript file (`FILES`),
four variants of `examples/transcripts.jsonl` made here (no times at all; agent turns that start
early; the vendors' signals on every turn and call, some calls outbound; rows broken in each way
the reader refuses) and the ASR exports of `examples/asr`.  Each row's result (score, every
finding with its turn, span, evidence and message, every "not checkable" reason) or error (code,
message, field) must equal `tests/golden/qa/POLICY.jsonl.gz` (one JSON line a row, gzipped: 8 MB
of text) byte for byte: making the reader or the checker faster must not change one.  Refresh
after a deliberate change with `pytest tests/test_qa_results.py --update-golden` and review the
change (`zdiff`).
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import csdsl
from csdsl.api import Policy
from csdsl.asr import import_export

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "tests" / "golden" / "qa"
POLICIES = [
    "policies/hotline_qa.csp",
    "policies/hospital_ward.csp",
    "examples/asr/asr_qa.csp",
    "tests/golden/good/transcript_rules.csp",
    "tests/golden/qa/extra_rules.csp",  # the rule kinds and forms the others leave out
]
FILES = [
    "examples/transcripts.jsonl",
    "examples/compliant_calls/forbidden.jsonl",
    "examples/compliant_calls/prescribed.jsonl",
    "examples/hospital_ward/discharge_talks.jsonl",
]
EXPORTS = {  # file -> its role map (`examples/asr/README.md`)
    "amazon_contact_lens.json": None,
    "alibaba_filetrans.json": {"0": "agent", "1": "customer"},
    "azure_batch.json": {"0": "agent", "1": "customer"},
    "call.vtt": None,
    "call.srt": None,
}


def _untimed(k: int, obj: dict[str, Any]) -> dict[str, Any]:
    """No turn has a time: the timing rules are not checkable."""
    turns = [{f: v for f, v in t.items() if f not in ("start", "end")} for t in obj["turns"]]
    return {**obj, "turns": turns}


def _overlapping(k: int, obj: dict[str, Any]) -> dict[str, Any]:
    """Every agent turn starts earlier, by up to 3 s: over the customer's turn before it."""
    turns = []
    for j, t in enumerate(obj["turns"]):
        t = dict(t)
        if t["speaker"] == "agent" and isinstance(t.get("start"), int | float):
            t["start"] = max(0.0, t["start"] - 0.5 * ((j + k) % 7))
        turns.append(t)
    return {**obj, "turns": turns}


_CONFIDENCE = [0.35, 0.72, None, 0.95, 0.5, 0.61]
_SENTIMENT = [None, "negative", "positive", "neutral", "mixed", "negative", None]


def _signals(k: int, obj: dict[str, Any]) -> dict[str, Any]:
    """The vendors' signals on the turns and the call, in every combination over the file."""
    turns = []
    for j, t in enumerate(obj["turns"]):
        t = dict(t)
        if (confidence := _CONFIDENCE[(j + k) % len(_CONFIDENCE)]) is not None:
            t["confidence"] = confidence
        if (sentiment := _SENTIMENT[(j + 2 * k) % len(_SENTIMENT)]) is not None:
            t["sentiment"] = sentiment
        if j % 4 == 1:
            t.update(emotion=j % 10, silence_before=0.5 * j, speech_rate=150 + j)
        turns.append(t)
    if k % 7 == 3:  # a turn with nothing to match: the customer is silent
        for t in turns:
            if t["speaker"] == "customer":
                t["text"] = ""
    out = {**obj, "turns": turns}
    if k % 4:
        counts = {"agent": {"count": k % 3, "total": 1.5 * (k % 3)}}
        if k % 4 == 2:
            counts["customer"] = {"count": 1}
        out["signals"] = {
            "interruptions": counts if k % 4 != 3 else {"customer": {"count": 2, "total": 3}},
            "non_talk_time": {"total": 12.5, "instances": [{"start": 1, "end": 13.5}]},
            "silence_total": 7,
        }
    if k % 5 == 0:
        out["direction"] = "outbound"
    return out


def _no_words(o: dict[str, Any]) -> None:
    last = o["turns"][-1]
    last.pop("text" if last["speaker"] != "system" else "event", None)


_BREAKS: list[Callable[[dict[str, Any]], Any]] = [  # each changes the row, or returns a new one
    lambda o: o["turns"][0].update(speaker="robot"),
    lambda o: o["turns"][0].update(start=9, end=2),
    lambda o: o["turns"][0].update(start="soon"),
    lambda o: o["turns"][0].update(sentiment="angry"),
    lambda o: o["turns"][0].update(confidence=1.5),
    lambda o: o["turns"][0].update(emotion=True),
    _no_words,
    lambda o: [o],
    lambda o: o["turns"][1].update(end=10**400),
    lambda o: o.update(turns={"not": "a list"}),
    lambda o: o.update(id=None),
    lambda o: o.update(id=[1]),
    lambda o: o.update(started_at="yesterday"),
    lambda o: o.update(direction="sideways"),
    lambda o: o.update(signals={"interruptions": {"agent": {"count": -1}}}),
    lambda o: o.update(signals={"non_talk_time": {"instances": [{"start": 5, "end": 1}]}}),
    lambda o: o.update(signals={"interruptions": {"supervisor": {"count": 1}}}),
    lambda o: o.update(signals=[]),
    lambda o: o["turns"].append("hello"),
    lambda o: o["turns"].append({"speaker": "system", "event": "coffee"}),
]


def _broken(k: int, obj: dict[str, Any]) -> Any:
    """Every third row broken, in turn each way the reader refuses a transcript."""
    obj = json.loads(json.dumps(obj))
    if k % 3 == 0 and len(obj["turns"]) > 1:
        changed = _BREAKS[(k // 3) % len(_BREAKS)](obj)
        return obj if changed is None else changed
    return obj


VARIANTS: dict[str, Callable[[int, dict[str, Any]], Any]] = {
    "untimed": _untimed,
    "overlapping": _overlapping,
    "signals": _signals,
    "broken": _broken,
}


def _variant_file(tmp: Path, name: str) -> Path:
    make = VARIANTS[name]
    lines = []
    for k, line in enumerate((ROOT / FILES[0]).read_text(encoding="utf-8").splitlines()):
        try:
            obj = json.loads(line)
        except ValueError:
            obj = None
        if not isinstance(obj, dict) or not isinstance(obj.get("turns"), list):
            lines.append(line)  # the example file's own bad rows stay as they are
            continue
        lines.append(json.dumps(make(k, obj), ensure_ascii=False))
    path = tmp / f"{name}.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _results(policy: Policy, tmp: Path) -> Iterator[str]:
    sources = [(f, ROOT / f) for f in FILES]
    sources += [(f"{FILES[0]} ({name})", _variant_file(tmp, name)) for name in VARIANTS]
    for name, path in sources:
        for row in policy.check_transcript_file(path):
            out: dict[str, Any] = {"file": name, "line": row.line, "id": row.id}
            if row.result is not None:
                out["result"] = row.result.to_json()
            else:
                assert row.error is not None
                out["error"] = row.error.to_json()
            yield json.dumps(out, ensure_ascii=False, sort_keys=True)
    for export, roles in EXPORTS.items():
        transcript = import_export(ROOT / "examples" / "asr" / export, roles=roles)
        result = policy.check_transcript(transcript).to_json()
        yield json.dumps({"file": export, "result": result}, ensure_ascii=False, sort_keys=True)


def _golden_lines(path: Path) -> list[str]:
    return gzip.decompress(path.read_bytes()).decode("utf-8").splitlines()


@pytest.mark.parametrize("name", POLICIES, ids=lambda p: Path(p).stem)
def test_results_unchanged(name: str, tmp_path: Path, in_root: Path, update_golden: bool) -> None:
    policy = csdsl.load(name)  # relative (in_root): the clauses' files hold no checkout path
    actual = list(_results(policy, tmp_path))
    expected_path = GOLDEN / f"{Path(name).stem}.jsonl.gz"
    if update_golden:
        GOLDEN.mkdir(exist_ok=True)
        text = "\n".join(actual) + "\n"
        expected_path.write_bytes(gzip.compress(text.encode("utf-8"), 9, mtime=0))
        return
    assert expected_path.exists(), f"{expected_path} is missing: run with --update-golden"
    expected = _golden_lines(expected_path)
    assert len(actual) == len(expected)
    for got, want in zip(actual, expected, strict=True):
        assert got == want  # one row at a time: a failure shows the row that changed


def test_golden_covers_every_kind_of_row() -> None:
    """The golden files hold findings of every kind, "not checkable" reasons and bad rows of
    each reader error code the variants provoke (so a change to any of them shows)."""
    kinds: set[str] = set()
    codes: set[str] = set()
    unchecked = 0
    paths = sorted(GOLDEN.glob("*.jsonl.gz"))
    assert len(paths) == len(POLICIES)
    for path in paths:
        for line in _golden_lines(path):
            row = json.loads(line)
            if "error" in row:
                codes.add(row["error"]["code"])
                continue
            kinds |= {f["kind"] for f in row["result"]["findings"]}
            unchecked += len(row["result"]["unchecked"])
    assert kinds == {"missing", "forbidden", "preference", "timing", "signal"}
    assert {"R002", "R004", "R005", "R008", "T001", "T002", "T003", "T004", "T005"} <= codes
    assert "T007" in codes and unchecked > 100

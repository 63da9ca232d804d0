"""The index of the five standards (policies/standards/) is true to the seeds.

Every quote is the seed's own text, every id follows the documented scheme, and every
sentence of every seed is either an entry of the index or a listed skipped fragment.  The
seeds live outside the repository (../shared/seeds); without them the module is skipped.
See policies/standards/README.md for the format and the sentence splitter.
"""

from __future__ import annotations

import itertools
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
STANDARDS = ROOT / "policies" / "standards"
SEEDS_DIR = ROOT.parent / "shared" / "seeds"

if not SEEDS_DIR.is_dir():  # pragma: no cover - depends on the checkout
    pytest.skip(
        f"seed folder {SEEDS_DIR} is absent (the standards live in ../shared/seeds next to the "
        "repository); the index cannot be checked against them",
        allow_module_level=True,
    )

SEED_NUMBERS = ("000", "001", "002", "003", "004")
KINDS = frozenset(
    {
        "validity",
        "deadline",
        "escalation",
        "phrase_required",
        "phrase_forbidden",
        "behaviour",
        "metric",
        "process",
        "record",
        "definition",
        "physical",
        "other",
    }
)
ENTRY_FIELDS = frozenset({"id", "seed", "section", "quote", "kind", "checkable", "scope"})
# optional: what blocks encoding a checkable entry no policy cites, or what the citing clauses
# do not check (README.md, "Encoded, partly encoded, blocked")
OPTIONAL_FIELDS = frozenset({"blocked", "partly"})
BLOCKERS = (  # what a `blocked` names, each blocker in turn (joined with "; ")
    "record-level rules with penalty points",
    "event-log rules (",
    "transcript timing from call records (ring time)",
    "transcript rules in seconds (",
    "calendar functions in conditions",
    "deadlines to a promised or agreed time",
    "no 篇1 procurement policy yet",
    "no 篇3 hospital-ward policy yet",
    "no data: ",
    "no threshold: ",
    "no phrase list: ",
    "not encoded yet, no language feature missing: ",
)
SKIP_FIELDS = frozenset({"seed", "text", "reason"})

# The id scheme, one regular expression per seed (README.md, "Ids").  `/n` (n >= 2) numbers
# the further entries of one section.
_N = r"(?:/(?:[2-9]|[1-9]\d+))?"
_CN = r"[一二三四五六七八九十]"
ID_SCHEME: dict[str, re.Pattern[str]] = {
    "000": re.compile(
        r"000 (?:一(?:[1-9]|10)|称谓语|问候语|祝贺语|告别语|应答语|道歉语|忌用语 [1-6]"
        r"|忌用行为\([1-8]\)|二(?:\([1-6]\))?|二 处理\(2\)|工作质量 [1-8])" + _N
    ),
    "001": re.compile(r"001 [一二三](?:\([一二三]\)(?:[1-9])?)?" + _N),
    "002": re.compile(r"002 [二三四五六七八九十](?: [^\s/]+)?" + _N),
    "003": re.compile(r"003 [1-8]\.[1-9]" + _N),
    "004": re.compile(
        r"004 (?:篇1 第" + _CN + r"{1,3}条(?:\([一二三四五六]\))?"
        r"|篇2 (?:[一二四五六]|三b?|注意事项[1-6])"
        r"|篇3 (?:序|[一二](?:[1-9]|10)|三)"
        r"|篇4 (?:序|素质(?:\([1-6]\))?|\([1-6]\)|主管|核实|客人分类|团体|已订房|未订房)"
        r"|篇5 (?:[1-9]|[12]\d|3[0-5]|2b)(?: 不可以)?)" + _N
    ),
}

# --- the sentence splitter (README.md, "Coverage") -------------------------------------------

_ENDS = re.compile(r"(?<=[。！？；;!?])|\n")
_ROLE = r"[（(](?:话务员|話務(?:\(wù\))?員)[）)]"
_NUMBERED = r"[一二三四五六七八九十]+、|[（(]\d+[）)]"
_RUN_ON = re.compile(rf"(?=(?:{_ROLE}))|(?=(?:{_NUMBERED}))")
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_WS = re.compile(r"\s+")


def split_sentences(seed: str, text: str) -> list[tuple[int, int]]:
    """Spans of the sentence fragments of a seed's text (blank fragments left out)."""
    cuts = {0, len(text)}
    for m in _ENDS.finditer(text):
        cuts.update((m.start(), m.end()))
    if seed == "002":  # one long run-on text: also cut before each role marker and numbered item
        cuts.update(m.start() for m in _RUN_ON.finditer(text))
    ordered = sorted(cuts)
    return [(a, b) for a, b in itertools.pairwise(ordered) if text[a:b].strip()]


def strip_ws(text: str) -> str:
    return _WS.sub("", text)


@dataclass(frozen=True)
class Seed:
    number: str
    text: str
    bare: str  # the text with all white space removed
    bare_at: tuple[int, ...]  # position in `bare` of each character of `text`


def load_seed(number: str) -> Seed:
    (path,) = SEEDS_DIR.glob(f"{number}_*.txt")
    text = path.read_text(encoding="utf-8")
    positions: list[int] = []
    n = 0
    for ch in text:
        positions.append(n)
        if not ch.isspace():
            n += 1
    positions.append(n)
    return Seed(number, text, strip_ws(text), tuple(positions))


def load_jsonl(path: Path) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        assert line.strip(), f"{path.name}:{lineno}: blank line"
        row = json.loads(line)
        assert isinstance(row, dict), f"{path.name}:{lineno}: not a JSON object"
        rows.append(row)
    return rows


SEEDS = {n: load_seed(n) for n in SEED_NUMBERS}
ENTRIES = load_jsonl(STANDARDS / "index.jsonl")
SKIPPED = load_jsonl(STANDARDS / "skipped.jsonl")


def locate(seed: Seed, texts: list[str]) -> list[tuple[int, int]]:
    """Spans in `seed.bare` of the given texts, in order.

    Each text is found after the previous one, or else inside it (a clause of a quoted line
    indexed again on its own, such as a deadline within a prescribed line).
    """
    spans: list[tuple[int, int]] = []
    prev = (0, 0)
    for text in texts:
        bare = strip_ws(text)
        at = seed.bare.find(bare, prev[1])
        if at < 0:
            at = seed.bare.find(bare, prev[0], prev[1])
        assert bare and at >= 0, f"{seed.number}: not found in the seed (in order): {text!r}"
        spans.append((at, at + len(bare)))
        prev = spans[-1]
    return spans


def uncovered(seed: Seed, spans: list[tuple[int, int]]) -> list[str]:
    """The seed's sentence fragments of 4+ CJK characters with a CJK character no span covers."""
    covered = bytearray(len(seed.bare))
    for a, b in spans:
        covered[a:b] = b"\x01" * (b - a)
    missing: list[str] = []
    for a, b in split_sentences(seed.number, seed.text):
        fragment = seed.text[a:b]
        if len(_CJK.findall(fragment)) < 4:
            continue
        for i in range(a, b):
            if _CJK.match(seed.text[i]) and not covered[seed.bare_at[i]]:
                missing.append(fragment.strip())
                break
    return missing


def spans_of(number: str, entries: list[dict[str, Any]]) -> list[tuple[int, int]]:
    seed = SEEDS[number]
    quotes = [str(e["quote"]) for e in entries if e["seed"] == number]
    texts = [str(s["text"]) for s in SKIPPED if s["seed"] == number]
    return locate(seed, quotes) + locate(seed, texts)


# --- the tests --------------------------------------------------------------------------------


def test_entries_have_the_documented_fields() -> None:
    assert len(ENTRIES) > 300
    for e in ENTRIES:
        assert ENTRY_FIELDS <= set(e) <= ENTRY_FIELDS | OPTIONAL_FIELDS, (
            f"{e.get('id')}: fields {sorted(e)}"
        )
        assert e["seed"] in SEED_NUMBERS, e["id"]
        assert isinstance(e["section"], str) and e["section"].strip(), e["id"]
        assert isinstance(e["quote"], str) and len(_CJK.findall(e["quote"])) >= 2, e["id"]
        assert e["kind"] in KINDS, f"{e['id']}: kind {e['kind']!r}"
        assert isinstance(e["checkable"], bool), e["id"]
        assert isinstance(e["scope"], str) and len(e["scope"].strip()) >= 10, (
            f"{e['id']}: scope must say what data it needs or why it is out of scope"
        )


def encoding_problems(e: dict[str, Any]) -> list[str]:
    """What is wrong with an entry's optional `blocked` / `partly` fields."""
    problems: list[str] = []
    for field in sorted(OPTIONAL_FIELDS & set(e)):
        value = e[field]
        if not isinstance(value, str) or not value.strip():
            problems.append(f"{e['id']}: `{field}` must be a non-empty string, not {value!r}")
    if "blocked" in e and e.get("checkable") is not True:
        problems.append(f"{e['id']}: `blocked` only on a checkable entry (nothing to encode)")
    if "blocked" in e and "partly" in e:
        problems.append(
            f"{e['id']}: `blocked` (no clause cites it) and `partly` (one does) at once"
        )
    return problems


def test_blocked_and_partly_are_sentences_where_they_belong() -> None:
    problems = [p for e in ENTRIES for p in encoding_problems(e)]
    assert not problems, problems
    # the index uses them, and each blocker starts with a documented name, so they can be counted
    blocked = [e for e in ENTRIES if "blocked" in e]
    assert blocked and [e for e in ENTRIES if "partly" in e]
    for e in blocked:
        for blocker in str(e["blocked"]).split("; "):
            assert blocker.startswith(BLOCKERS), f"{e['id']}: blocker {blocker!r} is not documented"


@pytest.mark.parametrize(
    ("extra", "checkable", "complaint"),
    [
        ({"blocked": ""}, True, "non-empty string"),
        ({"blocked": "   "}, True, "non-empty string"),
        ({"partly": 3}, True, "non-empty string"),
        ({"partly": None}, True, "non-empty string"),
        ({"blocked": "no 篇1 procurement policy yet"}, False, "only on a checkable entry"),
        ({"blocked": "no data", "partly": "the time"}, True, "at once"),
    ],
)
def test_a_bad_blocked_or_partly_is_named(
    extra: dict[str, Any], checkable: bool, complaint: str
) -> None:
    entry = {"id": "000 二(1)", "checkable": checkable, **extra}
    problems = encoding_problems(entry)
    assert any(complaint in p for p in problems), problems
    assert not encoding_problems({"id": "000 二(1)", "checkable": True, "partly": "the image"})


def test_skipped_have_the_documented_fields() -> None:
    for s in SKIPPED:
        assert set(s) == SKIP_FIELDS, f"skipped fields {sorted(s)}"
        assert s["seed"] in SEED_NUMBERS
        assert isinstance(s["text"], str) and s["text"].strip()
        assert isinstance(s["reason"], str) and len(s["reason"].strip()) >= 5, s["text"]


def test_ids_are_unique_and_follow_the_scheme() -> None:
    ids = [str(e["id"]) for e in ENTRIES]
    assert len(ids) == len(set(ids)), sorted({i for i in ids if ids.count(i) > 1})
    for e in ENTRIES:
        assert e["id"].startswith(e["seed"] + " "), e["id"]
        assert ID_SCHEME[e["seed"]].fullmatch(e["id"]), f"id {e['id']!r} breaks the scheme"


def test_a_suffixed_id_follows_its_section() -> None:
    """`X/n` exists only after `X` (and `X/(n-1)`), so the bare id is the section's first entry."""
    seen: set[str] = set()
    for e in ENTRIES:
        base, _, n = str(e["id"]).partition("/")
        if n:
            previous = base if n == "2" else f"{base}/{int(n) - 1}"
            assert previous in seen, f"{e['id']} comes before {previous}"
        seen.add(str(e["id"]))


def test_entries_are_in_seed_order() -> None:
    numbers = [e["seed"] for e in ENTRIES]
    assert numbers == sorted(numbers)
    assert {s["seed"] for s in SKIPPED} <= set(SEED_NUMBERS)


@pytest.mark.parametrize("number", SEED_NUMBERS)
def test_every_quote_occurs_in_its_seed_in_order(number: str) -> None:
    quotes = [str(e["quote"]) for e in ENTRIES if e["seed"] == number]
    assert quotes, f"no entries for seed {number}"
    locate(SEEDS[number], quotes)  # asserts each is found, in order


@pytest.mark.parametrize("number", SEED_NUMBERS)
def test_every_skipped_fragment_occurs_in_its_seed_in_order(number: str) -> None:
    locate(SEEDS[number], [str(s["text"]) for s in SKIPPED if s["seed"] == number])


@pytest.mark.parametrize("number", SEED_NUMBERS)
def test_every_sentence_is_indexed_or_skipped(number: str) -> None:
    missing = uncovered(SEEDS[number], spans_of(number, ENTRIES))
    assert not missing, f"seed {number}: sentences neither indexed nor skipped: {missing[:5]}"


def test_the_coverage_check_notices_a_dropped_entry() -> None:
    # the check above must be able to fail: drop one entry and it reports that very sentence
    dropped = next(e for e in ENTRIES if e["id"] == "002 八 投诉答复时间")
    rest = [e for e in ENTRIES if e is not dropped]
    missing = uncovered(SEEDS["002"], spans_of("002", rest))
    assert any("48" in m for m in missing), missing


def test_checkable_false_says_why_and_true_says_what_data() -> None:
    data_words = ("transcript", "record", "event", "call", "log", "hold")
    for e in ENTRIES:
        scope = str(e["scope"])
        if e["checkable"]:
            assert any(w in scope for w in data_words), f"{e['id']}: name the data it needs"
        else:
            assert not scope.startswith(("transcript", "record", "event log", "call record")), (
                f"{e['id']}: checkable=false needs a reason it is out of scope, not a data source"
            )


def test_the_splitter_cuts_the_run_on_seed_before_role_markers_and_numbered_items() -> None:
    text = "客戶講話時(話務(wù)員)請您別著急(1)客户要求合理(话务员)好的。三、下一节"
    pieces = [text[a:b] for a, b in split_sentences("002", text)]
    assert pieces == [
        "客戶講話時",
        "(話務(wù)員)請您別著急",
        "(1)客户要求合理",
        "(话务员)好的。",
        "三、下一节",
    ]
    # other seeds are cut only at sentence ends and line ends
    assert [text[a:b] for a, b in split_sentences("004", text)] == [text[:-5], text[-5:]]


def test_known_citations_resolve() -> None:
    # the ids the issue and the policies use for these clauses exist and quote the right words
    by_id = {str(e["id"]): e for e in ENTRIES}
    expected = {
        "000 二(1)": "態(tài)度不好",
        "000 忌用语 1": "我不會(huì)處理",
        "001 三(二)2/4": "在承诺时限内回复",
        "002 三 客户拨入": "江南云商客服中心為您服務(wù)",
        "002 八 投诉答复时间": "不超過48小時",
        "003 4.1": "表示歉意",
        "004 篇1 第三十条": "1小时内给予答复",
        "004 篇5 15": "电话铃响三声后才接起",
        "004 篇5 15 不可以": "我也没办法",
    }
    for cid, words in expected.items():
        assert cid in by_id, cid
        assert words in by_id[cid]["quote"], (cid, by_id[cid]["quote"])

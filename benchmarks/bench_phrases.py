"""Benchmark for phrase matching in transcripts, against the engines an engineer would pick
instead (not part of the test run).

On a generated corpus of Chinese call-centre turns (seeded: the same corpus every run; ~30% of
the turns in Traditional characters, full- and half-width punctuation, 20-60 characters a turn,
grouped into calls of `TURNS_PER_CALL` turns), for phrase sets of 50, 500 and 5,000 phrases, in
one run, rounds interleaved (each round times every engine once; the figures are medians):
1. csdsl end to end: `Matcher.scan_many(turns of a call)` for every call - the fold, one pass of
   the matcher over the call's turns - and the hit table turn by turn (`Scan.texts`: for each
   turn the list of its hits, every hit with its folded positions and phrase, which is what
   `csdsl.qa` groups by phrase set and evaluates the rules on; the peers' outputs are their
   per-turn lists too); also `Matcher.scan(turn)` turn by turn, and both with each engine
   installed;
2. the peers, over the *same folded text*: each is given the raw turns, folds each one with
   csdsl's fold (`str.translate` with its table, deleted characters dropped: the fold's cost is
   in every figure, as in csdsl's) and matches the folded text: RE2 `Set` (google-re2; which
   phrases a turn holds, no positions), one `Match` per turn; Hyperscan (UTF-8 bytes), one scan
   per turn, and one scan per call (the folded turns joined by a line break, which the
   patterns' `.` does not match; each hit's turn found by bisection), every hit with its phrase
   and byte offsets.  Each phrase is one regular expression: its variants as alternatives
   (RE2) or expressions (Hyperscan), literal pieces escaped, a placeholder between two pieces
   as `.{0,8}`, one at an edge as `.`;
3. the fold alone (`str.translate` with csdsl's table, deleted characters dropped).
Every engine's hit table is checked against csdsl's before the timing: the (turn, phrase)
pairs of every engine, and for Hyperscan also every (turn, phrase, start, end) of the phrases
without placeholders (overlapping hits included).  Any difference stops the benchmark with a
non-zero exit and the first differences.
4. transcripts/s through every rule of policies/hotline_qa.csp (`bench_core.bench_transcripts`:
   examples/transcripts.jsonl read and checked end to end), and checked only (parsed once).
Throughput is UTF-8 bytes of turn text per second of CPU time of the process
(`time.process_time`: on a shared machine, the time other processes take the CPU away is not
counted; `--wall` for wall-clock time).  The garbage collector runs as it would during each
run (what an engine allocates is in its figure), and fully before each run, untimed (so that
no run pays for the garbage of the one before).  The peers are in the `bench` extra
(`pip install -e '.[bench]'`); one that is not installed is left out, and said so.

    python benchmarks/bench_phrases.py            # ~5 MB corpus
    python benchmarks/bench_phrases.py --quick    # ~1 MB, for a smoke run

Writes benchmarks/results/phrases-<UTC stamp>.json and prints a table.
"""

from __future__ import annotations

import argparse
import bisect
import datetime as dt
import gc
import json
import os
import platform
import random
import re
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "benchmarks"))

from csdsl import phrase_engines, phrases as ph  # noqa: E402

PEERS_PER_TURN = ("RE2 Set, per turn", "Hyperscan, per turn")  # issue 19's acceptance 1
TURNS_PER_CALL = 15  # the sample transcripts (examples/transcripts.jsonl) have 15 on average
# 50 phrases as policies write them (policies/common/phrases.csp, policies/hotline_qa.csp and
# the seeds): service phrases, forbidden phrases, customers' words; a few with placeholders and
# alternatives
REAL = [
    "您好",
    "早上好",
    "下午好",
    "您好，江南云商客服中心为您服务，请问有什么帮助您",
    "实在对不起",
    "请原谅",
    "对不起",
    "请您不要介意",
    "再见",
    "感谢您的来电",
    "欢迎再次拨打",
    "(麻烦|请)您稍等片刻，好吗",
    "请您稍(等|候)",
    "让您久等了",
    "这个问题我不会处理",
    "我现在很忙，您下次再打电话好吗",
    "你是不是干××的",
    "你不是说XX吗",
    "不是告诉你了，怎么还不明白",
    "大点声，听不见",
    "不是我办的",
    "你到XX部门问问吧",
    "你怎么连这个也不懂",
    "这是规定，我有什么办法",
    "欢迎致电{org}客户服务热线",
    "请问有什么可以帮您",
    "我姓{name}",
    "免提",
    "听不清",
    "打错了",
    "难打通",
    "一直占线",
    "态度不好",
    "我要投诉",
    "提个建议",
    "不满意",
    "不好意思",
    "抱歉",
    "退款",
    "订单号",
    "[请]您放心",
    "马上为您处理",
    "请您提供一下手机号码",
    "还有什么可以帮您",
    "祝您生活愉快",
    "给您带来不便",
    "我们会尽快回复您",
    "这个不归我们管",
    "你自己看着办",
    "请稍后再拨",
]

# what agents and customers say around the phrases: clauses from a small grammar (thousands of
# different ones), and short answers
TIMES = [
    "昨天",
    "今天上午",
    "上周",
    "前天晚上",
    "刚才",
    "三天前",
    "上个月",
    "这周一",
    "月初",
    "去年",
]
THINGS = [
    "订单",
    "快递",
    "包裹",
    "退款",
    "账单",
    "会员卡",
    "优惠券",
    "积分",
    "发票",
    "手机",
    "耳机",
    "衣服",
    "冰箱",
    "洗衣机",
    "话费",
    "流量套餐",
    "宽带",
    "电视",
    "保险",
    "机票",
    "酒店预订",
]
TROUBLES = [
    "还没到",
    "显示异常",
    "被多扣了钱",
    "一直没有处理",
    "坏了",
    "不能用了",
    "出了问题",
    "被取消了",
    "没有收到",
    "寄错了地址",
    "少了一件",
    "跟描述的不一样",
]
DONE = [
    "已经发货了",
    "正在处理中",
    "已经登记了",
    "会在三个工作日内处理",
    "已经退回原账户",
    "需要您重新提交申请",
    "已经转给相关部门",
    "预计明天下午送达",
    "还在审核",
]
DETAILS = ["订单号", "手机号码", "身份证后四位", "收货地址", "会员账号", "付款截图"]
TEMPLATES = [
    "我{t}买的{x}{bad}",
    "{x}{bad}，怎么回事",
    "我想问一下{x}的事情",
    "您的{x}{done}",
    "系统显示您{t}的{x}{done}",
    "麻烦您提供一下{d}",
    "我{t}就打过电话了，{x}还是{bad}",
    "请您核对一下{d}",
    "这边查到您的{x}{done}",
    "{t}的{x}到现在都{bad}",
]
SHORT = [
    "嗯",
    "好的",
    "是的",
    "明白了",
    "那我再等等吧",
    "谢谢你",
    "行吧",
    "没有了",
    "喂，能听到吗",
    "你们效率太低了",
    "我等了很久了",
    "信号不太好",
    "这边帮您查询一下",
    "稍后会有专人联系您",
]


def filler(rng: random.Random) -> str:
    if rng.random() < 0.25:
        return rng.choice(SHORT)
    return rng.choice(TEMPLATES).format(
        t=rng.choice(TIMES),
        x=rng.choice(THINGS),
        bad=rng.choice(TROUBLES),
        done=rng.choice(DONE),
        d=rng.choice(DETAILS),
    )


PUNCT_FULL = "，。！？、"
PUNCT_HALF = ",.!? "
COMMON = (
    "的一是不了人我在有他这为之大来以个中上们到说国和地也子时道出而要于就下得可你年生"
    "自会那后能对着事其里所去行过家十用发天如然作方成者多日都三小军二无同么经法当起与好"
    "看学进种将还分此心前面又定见只主没公从已知全点实现问题办理服务客户订单退款电话号码"
    "查询系统显示处理投诉建议满意意见请您稍等片刻谢谢久再见欢迎致电热线帮助需要联系快递"
)


def make_corpus(target_bytes: int, seed: int = 20241129) -> list[str]:
    """Turns of 20-60 characters until `target_bytes` of UTF-8: phrases among filler, ~30% of
    the turns converted to Traditional, mixed punctuation widths."""
    import opencc

    s2t = opencc.OpenCC("s2t")
    rng = random.Random(seed)
    plain = [p for p in REAL if not re.search(r"[\[\](){}|×X]", p)]
    plain += [
        "麻烦您稍等片刻，好吗",
        "请您稍候",
        "请您放心",
        "您放心",
        "欢迎致电江南云商客户服务热线",
    ]
    turns: list[str] = []
    size = 0
    while size < target_bytes:
        want = rng.randint(20, 60)
        punct = PUNCT_FULL if rng.random() < 0.6 else PUNCT_HALF
        parts: list[str] = []
        length = 0
        while length < want:
            piece = rng.choice(plain) if rng.random() < 0.3 else filler(rng)
            parts.append(piece)
            parts.append(rng.choice(punct))
            length += len(piece) + 1
        turn = "".join(parts)[:want]
        if rng.random() < 0.3:
            turn = s2t.convert(turn)
        turns.append(turn)
        size += len(turn.encode("utf-8"))
    return turns


def phrase_set(n: int, seed: int = 5) -> list[str]:
    """The 50 real phrases, then 10% frequent (a thing and what happened to it, as the filler
    grammar says them) and 90% rare (random characters) generated phrases of 3-10 characters."""
    if n <= len(REAL):
        return REAL[:n]
    rng = random.Random(seed + n)
    extra = n - len(REAL)
    frequent = extra // 10
    out = list(REAL)
    seen = set(out)
    while len(out) < len(REAL) + frequent:
        # what the filler grammar says about one thing: each such phrase turns up in a few
        # turns in a thousand
        kind = rng.randrange(3)
        thing = rng.choice(THINGS)
        if kind == 0:
            cut = thing + rng.choice(TROUBLES)
        elif kind == 1:
            cut = rng.choice(TIMES) + "的" + thing
        else:
            cut = thing + rng.choice(DONE)
        cut = cut[: rng.randint(3, 10)]
        if len(cut) >= 3 and cut not in seen:
            seen.add(cut)
            out.append(cut)
    while len(out) < n:
        cut = "".join(rng.choice(COMMON) for _ in range(rng.randint(3, 10)))
        if cut not in seen:
            seen.add(cut)
            out.append(cut)
    return out


# --- the peers ---------------------------------------------------------------------------------
_TABLE = ph._table(ph.DEFAULT)


def fold(turn: str) -> str:
    """csdsl's fold, as a peer would call it: the table, then the deleted characters dropped."""
    return turn.translate(_TABLE).replace("\x00", "")


Table = set[tuple[int, int]] | set[tuple[int, int, int, int]]


def expressions(phrases: Sequence[str]) -> list[tuple[int, str, bool]]:
    """Each variant of each phrase as a regular expression over folded text: (the phrase's
    index, the expression, whether it is a plain literal)."""
    out = []
    for index, phrase in enumerate(phrases):
        try:
            variants = ph.expand(phrase)
        except ph.PhraseSyntaxError:
            variants = (phrase,)
        for variant in dict.fromkeys(variants):
            segs, lead, trail = ph._pattern(variant, ph.DEFAULT)
            if not segs:
                continue
            body = f".{{0,{ph.PLACEHOLDER_MAX}}}".join(re.escape(s) for s in segs)
            plain = len(segs) == 1 and not lead and not trail
            out.append((index, ("." if lead else "") + body + ("." if trail else ""), plain))
    return out


class Re2Set:
    """RE2 `Set`: which phrases a turn holds (no positions)."""

    name = "RE2 Set, per turn"

    def __init__(self, phrases: Sequence[str]) -> None:
        import re2

        options = re2.Options()
        options.max_mem = 1 << 30  # the default 8 MiB overflows at 5,000 phrases
        self._set = re2.Set.SearchSet(options)
        by_phrase: dict[int, list[str]] = {}
        for index, expression, _plain in expressions(phrases):
            by_phrase.setdefault(index, []).append(expression)
        self._ids = []
        for index, alts in by_phrase.items():
            self._set.Add("|".join(f"(?:{a})" for a in alts).encode("utf-8"))
            self._ids.append(index)
        self._set.Compile()

    def run(self, calls: list[list[str]]) -> list[list[list[int]]]:
        match = self._set.Match
        return [[match(fold(turn)) for turn in call] for call in calls]

    def table(self, out: list[list[list[int]]]) -> set[tuple[int, int]]:
        ids = self._ids
        # `Match` gives None for no match (and after a DFA out of memory: max_mem above)
        return {(t, ids[i]) for t, hits in enumerate(_turns(out)) for i in hits or ()}


class HyperscanPeer:
    """Hyperscan: every hit with its phrase and end offset, one scan per turn or per call."""

    def __init__(self, phrases: Sequence[str], per_call: bool) -> None:
        import hyperscan

        self.name = f"Hyperscan, per {'call' if per_call else 'turn'}"
        self.per_call = per_call
        found = expressions(phrases)
        self._phrase = [index for index, _e, _p in found]
        # a plain literal's length in bytes (its start is its end minus that), else -1
        self._length = [len(re.sub(r"\\(.)", r"\1", e).encode()) if p else -1 for _i, e, p in found]
        self._db = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
        self._db.compile(
            expressions=[e.encode("utf-8") for _i, e, _p in found],
            ids=list(range(len(found))),
            elements=len(found),
            flags=hyperscan.HS_FLAG_UTF8,
        )

    def run(self, calls: list[list[str]]) -> list[Any]:
        scan = self._db.scan
        out: list[Any] = []
        if not self.per_call:
            for call in calls:
                hits: list[list[tuple[int, int]]] = []
                for turn in call:
                    mine: list[tuple[int, int]] = []
                    scan(
                        fold(turn).encode("utf-8"),
                        match_event_handler=lambda i, a, b, f, c, m=mine: m.append((i, b)),
                    )
                    hits.append(mine)
                out.append(hits)
            return out
        for call in calls:
            data = [fold(turn).encode("utf-8") for turn in call]
            joined = b"\n".join(data)
            ends = []
            at = -1
            for turn in data:
                at += len(turn) + 1
                ends.append(at)  # where each turn's line break is (or the end)
            flat: list[tuple[int, int]] = []
            scan(joined, match_event_handler=lambda i, a, b, f, c, m=flat: m.append((i, b)))
            by_turn: list[list[tuple[int, int]]] = [[] for _ in call]
            for i, b in flat:
                k = bisect.bisect_left(ends, b)
                by_turn[k].append((i, b - (ends[k - 1] + 1 if k else 0)))
            out.append(by_turn)
        return out

    def table(self, out: list[Any], folded: list[str]) -> tuple[Table, Table]:
        """(turn, phrase) pairs, and (turn, phrase, start, end) of the plain literals, in
        characters of the folded turn."""
        pairs: set[tuple[int, int]] = set()
        spans: set[tuple[int, int, int, int]] = set()
        for t, hits in enumerate(_turns(out)):
            data = folded[t].encode("utf-8")
            for i, end in hits:
                pairs.add((t, self._phrase[i]))
                if self._length[i] >= 0:
                    start = len(data[: end - self._length[i]].decode("utf-8"))
                    spans.add((t, self._phrase[i], start, len(data[:end].decode("utf-8"))))
        return pairs, spans


def _turns(out: list[list[Any]]) -> list[Any]:
    return [turn for call in out for turn in call]


def csdsl_tables(scans: list[ph.Scan], plain: set[int]) -> tuple[Table, Table]:
    """csdsl's hit table as the peers' (the phrase set is `p`: a phrase's rank is its index in
    the sorted phrases; mapped back to the index outside), read from what is timed
    (`Scan.texts`), each hit once."""
    pairs: set[tuple[int, int]] = set()
    spans: set[tuple[int, int, int, int]] = set()
    base = 0
    for scan in scans:
        for k, hits in enumerate(scan.texts()):
            at = scan.starts[k]
            found = [
                (last, length, rank)
                for last, (length, ranks) in zip(hits[0::2], hits[1::2], strict=True)
                for rank in ranks
            ]
            if len(set(found)) != len(found):
                raise SystemExit(f"csdsl: a hit twice in text {base + k}: {found}")
            for last, length, rank in found:
                pairs.add((base + k, rank))
                if rank in plain:
                    spans.add((base + k, rank, last - length - at, last + 1 - at))
        base += len(scan.starts) - 1
    return pairs, spans


def differences(name: str, want: Table, got: Table) -> list[str]:
    if want == got:
        return []
    lost, extra = sorted(want - got)[:5], sorted(got - want)[:5]
    return [
        f"{name}: {len(want - got)} of csdsl's hits missing (e.g. {lost}), "
        f"{len(got - want)} more (e.g. {extra})"
    ]


# --- timing --------------------------------------------------------------------------------------
CLOCK = time.process_time  # `--wall`: time.perf_counter


def interleaved(runs: dict[str, Callable[[], object]], repeat: int) -> dict[str, list[float]]:
    """Each round runs every engine once, in turn; the seconds of each run.  The garbage
    collector runs before each (not timed): a run pays for collecting its own garbage, not for
    what the run before it left."""
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(repeat):
        for name, fn in runs.items():
            gc.collect()
            start = CLOCK()
            fn()
            times[name].append(CLOCK() - start)
    return times


def peers_installed() -> dict[str, bool]:
    found = {}
    for module in ("re2", "hyperscan"):
        try:
            __import__(module)
            found[module] = True
        except ImportError:
            found[module] = False
    return found


def bench_size(n: int, calls: list[list[str]], repeat: int) -> dict[str, Any]:
    phrases = phrase_set(n)
    turns = [t for call in calls for t in call]
    nbytes = sum(len(t.encode("utf-8")) for t in turns)
    folded = [ph.normalise(t).text for t in turns]  # for the check: the precise fold
    installed = peers_installed()
    engines = [e for e in phrase_engines.ENGINES if phrase_engines.installed(e)]
    matchers = {e: ph.Matcher({"p": phrases}, engine=e) for e in engines}
    # the phrase set is sorted by rank: a phrase's rank -> its index in `phrases`
    index_of = {p: i for i, p in enumerate(phrases)}
    to_index = [index_of[matchers["aho"].name(r)[1]] for r in range(len(phrases))]
    plain = {i for i, _e, p in expressions(phrases) if p}
    plain = {r for r in range(len(phrases)) if to_index[r] in plain}

    def csdsl_calls(matcher: ph.Matcher) -> Callable[[], list[ph.Scan]]:
        """The hit table of each call, read turn by turn as qa reads it (`Scan.by_text`)."""

        def run() -> list[ph.Scan]:
            scans = [matcher.scan_many(call) for call in calls]
            for scan in scans:
                scan.texts()
            return scans

        return run

    def csdsl_turns(matcher: ph.Matcher) -> Callable[[], list[ph.Scan]]:
        def run() -> list[ph.Scan]:
            scans = [matcher.scan(turn) for turn in turns]
            for scan in scans:
                scan.texts()
            return scans

        return run

    runs: dict[str, Callable[[], object]] = {}
    for e, m in matchers.items():
        runs[f"csdsl ({e}), per call"] = csdsl_calls(m)
        runs[f"csdsl ({e}), per turn"] = csdsl_turns(m)
    peers: list[Any] = []
    if installed["re2"]:
        peers.append(Re2Set(phrases))
    if installed["hyperscan"]:
        peers += [HyperscanPeer(phrases, per_call=False), HyperscanPeer(phrases, per_call=True)]
    for peer in peers:
        runs[peer.name] = lambda peer=peer: peer.run(calls)
    runs["fold alone"] = lambda: [fold(t) for t in turns]

    # the hit tables, checked before anything is timed
    problems = []
    want_pairs, want_spans = csdsl_tables(csdsl_calls(matchers["aho"])(), plain)
    want_pairs = {(t, to_index[r]) for t, r in want_pairs}
    want_spans = {(t, to_index[r], a, b) for t, r, a, b in want_spans}
    for e, m in matchers.items():
        for how, fn in (("per call", csdsl_calls(m)), ("per turn", csdsl_turns(m))):
            pairs, spans = csdsl_tables(fn(), plain)
            problems += differences(
                f"csdsl ({e}), {how}",
                want_spans,
                {(t, to_index[r], a, b) for t, r, a, b in spans},
            )
            problems += differences(
                f"csdsl ({e}), {how}", want_pairs, {(t, to_index[r]) for t, r in pairs}
            )
    for peer in peers:
        out = peer.run(calls)
        if isinstance(peer, Re2Set):
            problems += differences(peer.name, want_pairs, peer.table(out))
        else:
            pairs, spans = peer.table(out, folded)
            problems += differences(peer.name, want_pairs, pairs)
            problems += differences(peer.name + " (positions)", want_spans, spans)
    if problems:
        print(f"{n:,} phrases: the hit tables differ:", *problems, sep="\n  ", file=sys.stderr)
        raise SystemExit(1)

    times = interleaved(runs, repeat)
    mb_s = {name: nbytes / statistics.median(ts) / 1e6 for name, ts in times.items()}
    return {
        "phrases": n,
        "engine": ph.Matcher({"p": phrases}).engine,  # what csdsl picks (CSDSL_MATCHER or auto)
        "turns": len(turns),
        "calls": len(calls),
        "bytes": nbytes,
        "hits": len(want_spans),
        "turn_phrase_pairs": len(want_pairs),
        "mb_s": mb_s,
        "runs_s": times,
        "peers_missing": [m for m, ok in installed.items() if not ok],
    }


def bench_transcripts(repeat: int) -> dict[str, Any]:
    """Transcripts/s through every rule of hotline_qa.csp: JSONL end to end (bench_core's
    figure), and the check alone on transcripts read beforehand."""
    import bench_core

    import csdsl
    from csdsl.transcripts import TranscriptReader

    policy = csdsl.load(ROOT / "policies" / "hotline_qa.csp")
    path = ROOT / "examples" / "transcripts.jsonl"
    reader = TranscriptReader(policy.tz)
    rows = [row.values for row in reader.read(str(path)) if row.values is not None]
    checker = policy.transcript_checker()
    transcripts = [values["transcript"] for values in rows]
    times = interleaved({"check": lambda: [checker.check(t) for t in transcripts]}, repeat)
    return {
        **bench_core.bench_transcripts(repeat),
        "checked_only_per_s": len(transcripts) / statistics.median(times["check"]),
    }


def best_csdsl(size: dict[str, Any]) -> float:
    """csdsl's figure at one size: one pass per call, with the engine csdsl picks itself."""
    return float(size["mb_s"][f"csdsl ({size['engine']}), per call"])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="a ~1 MB corpus instead of ~5 MB")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--wall", action="store_true", help="wall-clock time, not CPU time")
    ap.add_argument("--sizes", default="50,500,5000")
    args = ap.parse_args()
    global CLOCK
    CLOCK = time.perf_counter if args.wall else time.process_time
    target = 1_000_000 if args.quick else 5_000_000
    turns = make_corpus(target)
    calls = [turns[i : i + TURNS_PER_CALL] for i in range(0, len(turns), TURNS_PER_CALL)]
    load = os.getloadavg()
    result: dict[str, Any] = {
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "machine": platform.processor() or platform.machine(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "load_before": load,
        "clock": "wall" if args.wall else "cpu",
        "corpus": {
            "turns": len(turns),
            "calls": len(calls),
            "bytes": sum(len(t.encode("utf-8")) for t in turns),
            "characters": sum(len(t) for t in turns),
        },
        "sizes": [bench_size(int(n), calls, args.repeat) for n in args.sizes.split(",")],
        "transcripts": bench_transcripts(args.repeat),
        "load_after": os.getloadavg(),
    }
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    out = ROOT / "benchmarks" / "results" / f"phrases-{stamp}.json"
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    c = result["corpus"]
    print(
        f"corpus: {c['turns']:,} turns in {c['calls']:,} calls, {c['bytes'] / 1e6:.1f} MB UTF-8; "
        f"load average {load[0]:.1f} before, {result['load_after'][0]:.1f} after; "
        f"{result['clock']} time"
    )
    sizes = result["sizes"]
    names = list(sizes[0]["mb_s"])
    print(
        f"{'MB/s (csdsl per call / engine)':<40}" + "".join(f"{s['phrases']:>16,}" for s in sizes)
    )
    for name in names:
        cells = []
        for s in sizes:
            mine = best_csdsl(s)
            cells.append(f"{s['mb_s'][name]:>7.1f} ({mine / s['mb_s'][name]:.2f}x)")
        print(f"{name:<40}" + "".join(f"{c:>16}" for c in cells))
    missing = sizes[0]["peers_missing"]
    if missing:
        print(f"not installed, left out: {', '.join(missing)} (pip install -e '.[bench]')")
    for s in sizes:
        peers = [(v, k) for k, v in s["mb_s"].items() if k in PEERS_PER_TURN]
        if peers:
            best = max(peers)
            mine = best_csdsl(s)
            print(
                f"{s['phrases']:,} phrases: csdsl ({s['engine']}) {mine:.1f} MB/s against the best "
                "of RE2 Set and "
                f"Hyperscan per turn ({best[1]}, {best[0]:.1f} MB/s): {mine / best[0]:.2f}x"
            )
    q = result["transcripts"]
    print(
        f"transcripts, every rule of hotline_qa.csp: {q['transcripts_per_s']:,.0f}/s JSONL end "
        f"to end, {q['checked_only_per_s']:,.0f}/s checked only"
    )
    print(f"written to {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()

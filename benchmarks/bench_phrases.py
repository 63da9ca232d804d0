"""Benchmark for phrase matching in transcripts (not part of the test run).

Measures, on this machine, on a generated corpus of Chinese call-centre turns (seeded: the same
corpus every run; ~30% of the turns in Traditional characters, full- and half-width punctuation,
20-60 characters a turn):
1. `Matcher.scan(turn)` for every turn, end to end (normalisation included): the hit table the
   transcript rules are evaluated on (`csdsl.qa` maps a hit back to the original text only
   when it becomes a finding); and `Matcher.find(turn)`, which also maps every hit back and
   builds a `Match` object for it; for phrase sets of 50, 500 and 5,000 phrases;
2. a baseline of one compiled `re` per phrase: each turn normalised with the same fold
   (`normalise(turn).text`), then `pattern.finditer` of every phrase's pattern (its literal
   pieces escaped, placeholders as `.{0,8}?`, variants as alternatives) - the same work and the
   same answers, phrase by phrase.  Where the baseline would take long it is timed on a
   deterministic subsample of the turns (a rate, so MB/s carries over);
3. where the time goes: the fold (`str.translate`, then the deleted characters' marks dropped)
   alone; the fold and the automaton pass (pyahocorasick's iteration, nothing done per hit);
   the rest of `find` (collecting and sorting the hits, mapping spans back to the original,
   building the `Match` objects), also per match;
4. the first-use cost of the folding table, in a fresh process.
Phrase sets: 50 phrases as the policies write them (a few with placeholders or alternatives);
the 500 and 5,000 sets add 10% frequent phrases (a thing and what happened to it, as the filler
says them: each in a few turns in a thousand) and 90% rare ones (random characters).
Throughput is UTF-8 bytes of turn text per second, the median of 3 runs.  Both engines' counts
of (turn, phrase) hits are reported on the turns both ran on, to show they agree.

    python benchmarks/bench_phrases.py            # ~20 MB corpus (a few minutes)
    python benchmarks/bench_phrases.py --quick    # ~2 MB, for a smoke run

Writes benchmarks/results/phrases-<UTC stamp>.json and prints a table.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import random
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from csdsl import phrases as ph  # noqa: E402

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


def baseline_patterns(phrases: Sequence[str]) -> list[tuple[str, re.Pattern[str]]]:
    """One regex per phrase, over normalised text: each variant's literal pieces escaped and
    joined by `.{0,8}?` (a placeholder), a placeholder at an edge as a look-around for one
    character; the variants as alternatives."""
    out = []
    for phrase in phrases:
        alts = []
        for variant in ph.expand(phrase):
            segs, lead, trail = ph._pattern(variant, ph.DEFAULT)
            if not segs:
                continue
            body = f".{{0,{ph.PLACEHOLDER_MAX}}}?".join(re.escape(s) for s in segs)
            alts.append(("(?<=.)" if lead else "") + body + ("(?=.)" if trail else ""))
        out.append((phrase, re.compile("|".join(alts))))
    return out


def _median_rate(fn: Callable[[], object], nbytes: int, repeat: int) -> tuple[float, list[float]]:
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - start)
    return nbytes / statistics.median(runs) / 1e6, runs


def bench_size(n: int, turns: list[str], repeat: int, budget_s: float) -> dict[str, Any]:
    phrases = phrase_set(n)
    ph.normalise("")  # the folding table, built on first use (measured in `first_use`)
    nbytes = sum(len(t.encode("utf-8")) for t in turns)
    start = time.perf_counter()
    matcher = ph.Matcher({"p": phrases})
    build_s = time.perf_counter() - start

    def run_matcher() -> None:
        find = matcher.find
        for turn in turns:
            find(turn)

    def count_matcher(sample: Sequence[str]) -> tuple[int, int]:
        """(turn, phrase) pairs with a hit, and matches."""
        pairs = matches = 0
        for turn in sample:
            found = matcher.find(turn)
            pairs += len({m.phrase for m in found})
            matches += len(found)
        return pairs, matches

    def run_hit_table() -> None:
        scan = matcher.scan
        for turn in turns:
            scan(turn)

    mbps, runs = _median_rate(run_matcher, nbytes, repeat)
    table_mbps, table_runs = _median_rate(run_hit_table, nbytes, repeat)
    hits, matches = count_matcher(turns)

    # where the time goes: the fold alone, then the fold and the automaton pass
    table = ph._table(ph.DEFAULT)
    automaton = matcher._automaton

    def fold() -> None:
        for turn in turns:
            "".join(turn.translate(table).split("\x00"))

    def fold_scan() -> None:
        for turn in turns:
            for _ in automaton.iter("".join(turn.translate(table).split("\x00"))):
                pass

    fold_mbps, _ = _median_rate(fold, nbytes, repeat)
    scan_mbps, _ = _median_rate(fold_scan, nbytes, repeat)

    # the baseline, on a subsample when the whole corpus would take longer than `budget_s`
    patterns = baseline_patterns(phrases)

    def run_baseline(sample: Sequence[str]) -> int:
        hits = 0
        for turn in sample:
            text = ph.normalise(turn).text
            for _phrase, pattern in patterns:
                for _ in pattern.finditer(text):
                    hits += 1
                    break
        return hits

    probe = turns[:2000]
    t0 = time.perf_counter()
    run_baseline(probe)
    per_turn = (time.perf_counter() - t0) / len(probe)
    every = max(1, round(per_turn * len(turns) * repeat / budget_s))
    sample = turns[::every]
    sample_bytes = sum(len(t.encode("utf-8")) for t in sample)
    base_mbps, base_runs = _median_rate(lambda: run_baseline(sample), sample_bytes, repeat)
    base_hits = run_baseline(sample)
    matcher_hits_on_sample = count_matcher(sample)[0]
    return {
        "phrases": n,
        "turns": len(turns),
        "bytes": nbytes,
        "matcher_build_s": build_s,
        "matcher_mb_s": mbps,
        "matcher_runs_s": runs,
        "hit_table_mb_s": table_mbps,
        "hit_table_runs_s": table_runs,
        "hit_table_speedup": table_mbps / base_mbps,
        "matcher_hits": hits,
        "matches": matches,
        "fold_only_mb_s": fold_mbps,
        "fold_and_automaton_mb_s": scan_mbps,
        "baseline_mb_s": base_mbps,
        "baseline_runs_s": base_runs,
        "baseline_sample_every": every,
        "baseline_sample_turns": len(sample),
        "baseline_sample_bytes": sample_bytes,
        "baseline_hits_on_sample": base_hits,
        "matcher_hits_on_sample": matcher_hits_on_sample,
        "speedup": mbps / base_mbps,
    }


def first_use() -> dict[str, float]:
    """Import time, and the first `normalise` (the folding table), in a fresh process."""
    code = (
        "import sys, time; sys.path.insert(0, sys.argv[1]); t = time.perf_counter(); "
        "import csdsl.phrases as p; i = time.perf_counter(); p.normalise('讓您久等了'); "
        "f = time.perf_counter(); p.normalise('您好'); "
        "print(i - t, f - i, time.perf_counter() - f)"
    )
    runs = [
        [
            float(x)
            for x in subprocess.run(
                [sys.executable, "-c", code, str(ROOT / "src")],
                capture_output=True,
                text=True,
                check=True,
            ).stdout.split()
        ]
        for _ in range(3)
    ]
    return {
        "import_phrases_s": statistics.median(r[0] for r in runs),
        "first_normalise_s": statistics.median(r[1] for r in runs),
        "second_normalise_s": statistics.median(r[2] for r in runs),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="a ~2 MB corpus instead of ~20 MB")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--sizes", default="50,500,5000")
    ap.add_argument("--budget", type=float, default=60.0, help="seconds for each baseline")
    args = ap.parse_args()
    target = 2_000_000 if args.quick else 20_000_000
    t0 = time.perf_counter()
    turns = make_corpus(target)
    corpus_s = time.perf_counter() - t0
    traditional = sum(1 for t in turns if t != ph._t2s_convert(t))
    result: dict[str, Any] = {
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "machine": platform.processor() or platform.machine(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "corpus": {
            "turns": len(turns),
            "bytes": sum(len(t.encode("utf-8")) for t in turns),
            "characters": sum(len(t) for t in turns),
            "traditional_turns": traditional,
            "generated_in_s": corpus_s,
        },
        "first_use": first_use(),
        "sizes": [
            bench_size(int(n), turns, args.repeat, args.budget) for n in args.sizes.split(",")
        ],
    }
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    out = ROOT / "benchmarks" / "results" / f"phrases-{stamp}.json"
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    c, f = result["corpus"], result["first_use"]
    print(
        f"corpus: {c['turns']:,} turns, {c['bytes'] / 1e6:.1f} MB UTF-8, "
        f"{c['traditional_turns'] / c['turns']:.0%} with Traditional characters"
    )
    print(
        f"import csdsl.phrases {f['import_phrases_s'] * 1e3:.0f} ms; first normalise (loads "
        f"OpenCC, builds the folding table) {f['first_normalise_s'] * 1e3:.0f} ms"
    )
    print(
        f"{'phrases':>8} {'hit table MB/s':>15} {'find MB/s':>10} {'re/phrase MB/s':>15} "
        f"{'ratio':>6} {'(turn, phrase) hits Matcher / re':>34} {'matches/turn':>13}"
    )
    for s in result["sizes"]:
        both = f"{s['matcher_hits_on_sample']:,} / {s['baseline_hits_on_sample']:,}"
        if s["baseline_sample_every"] > 1:
            both += f" (1/{s['baseline_sample_every']} of turns)"
        print(
            f"{s['phrases']:>8,} {s['hit_table_mb_s']:>15.1f} {s['matcher_mb_s']:>10.1f} "
            f"{s['baseline_mb_s']:>15.2f} {s['hit_table_speedup']:>5.0f}x {both:>34} "
            f"{s['matches'] / s['turns']:>13.2f}"
        )
    print("where the time goes, µs per turn (median runs; one turn is", end=" ")
    print(f"{c['bytes'] / c['turns']:.0f} bytes, {c['characters'] / c['turns']:.0f} characters):")
    print(
        f"{'phrases':>8} {'fold':>6} {'automaton':>10} {'the rest':>9} {'per match':>10} "
        f"{'find':>6} {'Matcher built in':>17}"
    )
    for s in result["sizes"]:
        per = s["bytes"] / s["turns"] / 1e6  # MB per turn
        fold_us = per / s["fold_only_mb_s"] * 1e6
        scan_us = per / s["fold_and_automaton_mb_s"] * 1e6
        find_us = per / s["matcher_mb_s"] * 1e6
        rest = find_us - scan_us
        print(
            f"{s['phrases']:>8,} {fold_us:>6.2f} {scan_us - fold_us:>10.2f} {rest:>9.2f} "
            f"{rest / max(s['matches'] / s['turns'], 1e-9):>10.2f} {find_us:>6.2f} "
            f"{s['matcher_build_s'] * 1e3:>14.0f} ms"
        )
    print(f"written to {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()

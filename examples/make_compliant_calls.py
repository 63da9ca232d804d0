"""Write examples/compliant_calls/: the compliant-call corpus of issue 15 (acceptance 3).

    python examples/make_compliant_calls.py

Two files, in the transcript shape of shared/spec/IO.md, plus two keys of their own that the
reader ignores and the test reads (`follows`: the seed and section; `line`: the words):

- `prescribed.jsonl`: for every prescribed line of seed 002 三/四/六 and 004 篇5, a call in which
  the agent says that line word for word (and keeps to the rest of the standard: greeting,
  closing, waits), then its Traditional-character twin (OpenCC `s2tw`, `language` zh-Hant-TW).
  The hotline policy must find nothing in any of them.
- `forbidden.jsonl`: for every line seed 000, 002 or 004 says must never be said, a call about
  something else in which the agent says it once, written three ways: with the punctuation
  changed, with spaces between the words, and in Traditional characters.  The hotline policy
  must find a critical finding in the turn that says it (the key `turn`).

The output is deterministic (no randomness, no clock): re-running the script writes the same
bytes.  Times: an agent turn lasts 0.4 s a character (150 characters a minute, 001 一(三)), a
customer turn 0.3 s a character, with 1 s between turns unless a step says how long to wait.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import opencc

OUT = Path(__file__).resolve().parent / "compliant_calls"
STARTED = "2024-11-05T10:00:00+08:00"
_S2TW = opencc.OpenCC("s2tw")
_PUNCT = set("，。！？、；：…—（）()“”\"' ,.!?")

# an item of a call: ("agent" | "customer", text), ("wait", seconds before the next item),
# or ("event", name)
Item = tuple[str, Any]

GREET_004 = (
    "agent",
    "您好，欢迎致电江南云商客户服务热线，客服代表1024很高兴为您服务，请问有什么可以帮助您！",
)
GREET_002 = ("agent", "您好，江南云商客服中心为您服务，请问有什么帮助您？")
CLOSE_004: list[Item] = [
    ("agent", "请问还有什么可以帮助您"),
    ("customer", "没有了。"),
    ("agent", "感谢您的来电，若有问题请再次来电，谢谢再见！"),
]
CLOSE_002: list[Item] = [
    ("agent", "请问您还有什么需要帮助？"),
    ("customer", "没有了。"),
    ("agent", "感谢您的来电，欢迎再次拨打，再见。"),
]
ASK = ("customer", "我想问一下你们周末营业吗？")
ANSWER = ("agent", "我们周末正常营业，时间是上午九点到晚上九点。")


def _chars(text: str) -> int:
    return sum(1 for c in text if c not in _PUNCT and not c.isspace())


def _turns(items: list[Item]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    t, gap = 0.0, 0.0
    for kind, value in items:
        if kind == "wait":
            gap = float(value)
            continue
        t += gap
        if kind == "event":
            out.append({"speaker": "system", "event": value, "start": round(t, 1)})
            gap = 1.0
            continue
        pace = 0.4 if kind == "agent" else 0.3
        end = t + max(1.0, _chars(value) * pace)
        out.append({"speaker": kind, "text": value, "start": round(t, 1), "end": round(end, 1)})
        t, gap = end, 1.0
    return out


# ---- prescribed lines -------------------------------------------------------------------------
# (id, follows, line, items): the line is said word for word in one agent turn of the call


def _prescribed() -> list[tuple[str, str, str, list[Item], str]]:
    calls: list[tuple[str, str, str, list[Item], str]] = []

    def add(follows: str, line: str, items: list[Item], direction: str = "inbound") -> None:
        assert any(k == "agent" and line in v for k, v in items), (follows, line)
        calls.append((f"P-{len(calls) + 1:03d}", follows, line, items, direction))

    def simple(follows: str, customer: str, line: str, greet: Item = GREET_004) -> None:
        close = CLOSE_004 if greet is GREET_004 else CLOSE_002
        add(follows, line, [greet, ("customer", customer), ("agent", line), *close])

    # ---- 004 篇5 一 开头语以及问候语
    add("004 篇5 一1 问候语", GREET_004[1], [GREET_004, ASK, ANSWER, *CLOSE_004])
    simple("004 篇5 一2 客户问候客户代表", "小姐，您好。", "您好，请问有什么可以帮助您")
    simple(
        "004 篇5 一2(第二个) 用客户的姓称呼",
        "我姓王，想查一下订单。",
        "王先生，请问有什么可以帮助您",
    )
    line = "对不起，您的电话没有声音，请您换一部电话再次打来，好吗再见！"
    add(
        "004 篇5 一3 无声电话",
        line,
        [
            ("agent", "您好！请问有什么可以帮助您"),
            ("wait", 5),
            ("agent", "您好，请问有什么可以帮助您"),
            ("wait", 5),
            ("agent", line),
            ("wait", 5),
            ("event", "hangup"),
        ],
    )
    # ---- 二 无法听清
    simple(
        "004 篇5 二4 因用户使用免提而无法听清楚",
        "我开着免提呢。",
        "对不起，您的声音太小，请您拿起话筒说话好吗",
    )
    simple("004 篇5 二5 客户音小听不清楚", "我想问一下……", "对不起！请您大声一点，好吗")
    line = "对不起！您的电话声音太小，请您换一部电话挂来，好吗"
    add(
        "004 篇5 二5 若仍听不清楚",
        line,
        [
            GREET_004,
            ("customer", "我想问一下……"),
            ("agent", "对不起！请您大声一点，好吗"),
            ("customer", "……"),
            ("agent", line),
            ("wait", 5),
            ("event", "hangup"),
        ],
    )
    line = "对不起，您的电话杂音太大，听不清，请您换一部电话再次打来好吗再见！"
    add(
        "004 篇5 二6 电话杂音太大听不清楚",
        line,
        [GREET_004, ("customer", "（杂音）……"), ("agent", line), ("wait", 5), ("event", "hangup")],
    )
    first = "对不起，请您讲普通话，好吗谢谢！"
    second = "对不起，请您找一个可以讲普通话的人来，好吗谢谢！"
    dialect_call: list[Item] = [
        GREET_004,
        ("customer", "我哋部机坏咗。"),
        ("agent", first),
        ("customer", "我部机坏咗，点算好？"),
        ("agent", second),
        ("customer", "好，我叫我个仔来。您好，我爸爸的手机坏了，想问一下在哪里修。"),
        ("agent", "您可以到我们的任意一家门店维修。"),
        *CLOSE_004,
    ]
    add("004 篇5 二7 客户讲方言，客户代表听不懂", first, dialect_call)
    add("004 篇5 二7 当客户继续讲方言", second, dialect_call)
    simple(
        "004 篇5 二8 客户讲方言、能听懂普通话（继续保持普通话）",
        "唔该，我部手机冇信号。",
        "好的，我帮您查一下您的手机信号问题。",
    )
    simple(
        "004 篇5 二9 客户抱怨客户代表声音小", "我听不清，大声点。", "对不起，请问有什么可以帮助您"
    )
    # ---- 三 沟通内容
    line = "对不起，公司有规定，上班时间不允许接听私人电话，请您下班后再与她联系，谢谢您，再见！"
    add(
        "004 篇5 三10 客户来电找正在上班的客户代表",
        line,
        [GREET_004, ("customer", "我找一下小李，她在吗？"), ("agent", line), ("event", "hangup")],
    )
    simple(
        "004 篇5 三11 要求客户重复",
        "我那个……嗯……",
        "对不起，麻烦您将刚才反映的问题再复述一遍，好吗",
    )
    line = "麻烦您记录一下，好吗"
    add(
        "004 篇5 三12 提供的信息较长，需要客户记录",
        line,
        [
            GREET_004,
            ("customer", "维修点在哪？"),
            ("agent", line),
            ("customer", "好的。"),
            ("agent", "地址是中山路88号，电话是4008208820。"),
            *CLOSE_004,
        ],
    )
    line = "对不起，这里是江南云商客户服务中心，请您查证后再拨。"
    add(
        "004 篇5 三13 客户挂错电话",
        line,
        [GREET_004, ("customer", "这不是人民医院吗？"), ("agent", line), ("event", "hangup")],
    )
    simple(
        "004 篇5 三14 客户想直接拨打公司内部其它部门电话",
        "帮我转到财务部。",
        "对不起，您能否将具体情况和联系电话告诉我，我帮您联系好吗",
    )
    # ---- 四 抱怨与投诉
    simple(
        "004 篇5 四15 客户投诉热线难拨通、应答慢",
        "怎么才接？打了好久。",
        "对不起，刚才因为线路忙，让您久等了！请问有什么可以帮助您",
    )
    simple(
        "004 篇5 四16 客户情绪激烈，破口大骂",
        "你们这帮混蛋，东西坏了没人管！",
        "对不起，先生，请问有什么可以帮助您",
    )
    simple(
        "004 篇5 四17 客户责怪客户代表动作慢",
        "怎么这么慢？",
        "对不起，让您久等了，我将尽快帮您处理。",
    )
    simple(
        "004 篇5 四18 客户投诉客户代表态度不好",
        "你们刚才那个客服态度太差了。",
        "对不起，由于我们服务不周给您添麻烦了，请您原谅，您是否能将详细情况告诉我",
    )
    first = (
        "对不起，给您添麻烦了，我会将您反映的问题如实上报主管，并尽快核实处理，"
        "给您带来的不便请您原谅！"
    )
    second = "对不起，您是否可以留下您的联系电话，由我们的主管与您联系处理，好吗"
    error_call: list[Item] = [
        GREET_004,
        ("customer", "你们把我的地址弄错了。"),
        ("agent", first),
        ("customer", "光道歉有什么用？"),
        ("agent", second),
        ("customer", "好，13800138000。"),
        *CLOSE_004,
    ]
    add("004 篇5 四19 客户投诉客户代表工作出差错", first, error_call)
    add("004 篇5 四19 如客户仍不接受道歉", second, error_call)
    for hours, kind in (("2", "简单投诉"), ("24", "复杂投诉")):
        line = (
            f"很抱歉，先生，多谢您反映的意见，我们会尽快向上级部门反映，"
            f"并在{hours}小时之内给您明确的答复，再见！"
        )
        add(
            f"004 篇5 四20 无法当场答复的客户投诉（{kind}）",
            line,
            [
                GREET_004,
                ("customer", "我要你们马上给个说法。"),
                ("agent", line),
                ("event", "hangup"),
            ],
        )
    line = (
        "很抱歉，王先生，多谢您反映的意见，我们会尽快向上级部门反映，"
        "并在24小时内，给您明确的答复，再见。"
    )
    add(
        "004 篇5 四21 对于客户投诉，在受理结束时",
        line,
        [
            GREET_004,
            ("customer", "我要投诉你们的快递员，他把包裹扔在门口。"),
            ("agent", "王先生，请您详细说一下。"),
            ("customer", "就是这样，东西都摔坏了。"),
            ("agent", line),
            ("event", "hangup"),
        ],
    )
    # ---- 五 软硬件故障
    ask, back = "对不起，请您稍等片刻，好吗", "对不起，让您久等了。"
    hold_call: list[Item] = [
        GREET_004,
        ("customer", "我的订单到哪了？"),
        ("agent", ask),
        ("customer", "好的。"),
        ("event", "hold_start"),
        ("wait", 10),
        ("event", "hold_end"),
        ("agent", back),
        ("agent", "您的订单明天送达。"),
        *CLOSE_004,
    ]
    add("004 篇5 五22 需要客户等待时应先征求客户的意见", ask, hold_call)
    add("004 篇5 五22 取消静音后", back, hold_call)
    simple(
        "004 篇5 五23 设备故障不能操作",
        "我要查话费。",
        "对不起，线路正在调整，请您稍后再来电，好吗",
    )
    simple("004 篇5 五24 客户询问客户代表个人信息", "你叫什么名字？", "对不起，我的工号是1024号。")
    simple(
        "004 篇5 五25 客户提出建议",
        "我建议你们周末也送货。",
        "谢谢您，您提出的宝贵建议，我们将及时反馈给公司相关负责人员，再次感谢您对我们工作的关心和支持。",
    )
    simple("004 篇5 五26 需请求客户谅解时", "这也太过分了吧！", "对不起，请您原谅。")
    simple("004 篇5 五26 需请求客户谅解时（或）", "这也太过分了吧！", "对不起，很抱歉。")
    simple("004 篇5 五27 客户向客户代表致歉", "不好意思，刚才我说话急了。", "没关系，请不必介意。")
    line = "对不起，您的要求不在我们的服务范围内，请您挂机。"
    add(
        "004 篇5 五28 骚扰电话",
        line,
        [
            GREET_004,
            ("customer", "美女，交个朋友吧。"),
            ("agent", line),
            ("wait", 4),
            ("event", "hangup"),
        ],
    )
    simple(
        "004 篇5 五29 客户善意的约会",
        "下班后有空吗？我请你吃饭。",
        "非常感谢！对不起，我不能接受，再次谢谢您！",
    )
    simple(
        "004 篇5 五30 客户提出的要求无法做到",
        "帮我把别人的快递也改到我家。",
        "很抱歉，恐怕我不能帮助您！",
    )
    simple(
        "004 篇5 五30 客户提出的要求无法做到（或）",
        "帮我把别人的快递也改到我家。",
        "很抱歉，这超出我们的服务范围，恐怕我不能帮助您。",
    )
    for line in ("请不必客气", "不客气"):
        add(
            "004 篇5 五31 客户表示感谢",
            line,
            [GREET_004, ASK, ANSWER, ("customer", "好的，谢谢你。"), ("agent", line), *CLOSE_004],
        )
    for line in (
        "请不必客气，这是我们应该做的，感谢您对我们工作的支持，随时欢迎您再来电。",
        "请不必客气，这是我们的工作职责，感谢您对我们工作的支持，随时欢迎您再来电。",
    ):
        add(
            "004 篇5 五31 若客户进一步表扬",
            line,
            [
                GREET_004,
                ASK,
                ANSWER,
                ("customer", "好的，谢谢你。"),
                ("agent", "不客气"),
                ("customer", "你们的服务真好，非常感谢！"),
                ("agent", line),
                *CLOSE_004,
            ],
        )
    first = "对不起，请您留下您的联系电话我们查询后将尽快与您联系，好吗"
    second = "先生：请问您贵姓"
    third = "谢谢您的合作，再见！"
    callback_call: list[Item] = [
        GREET_004,
        ("customer", "这个型号什么时候补货？"),
        ("agent", first),
        ("customer", "13800138000。"),
        ("agent", second),
        ("customer", "我姓王。"),
        ("agent", third),
        ("event", "hangup"),
    ]
    add("004 篇5 五32 无法当场答复的客户咨询", first, callback_call)
    add("004 篇5 五32 请问您贵姓", second, callback_call)
    add("004 篇5 五32 结束", third, callback_call)
    # ---- 六 结束语
    for line in ("请问我刚才的解释您是否明白", "请问我刚才的解释您是否清楚"):
        add(
            "004 篇5 六33 向客户解释完毕后，确认是否明了",
            line,
            [
                GREET_004,
                ("customer", "退款要多久？"),
                ("agent", "退款三到五个工作日到账。"),
                ("agent", line),
                ("customer", "明白了。"),
                *CLOSE_004,
            ],
        )
    add("004 篇5 六34 通话终了时", CLOSE_004[0][1], [GREET_004, ASK, ANSWER, *CLOSE_004])
    add("004 篇5 六34 礼貌地说", CLOSE_004[2][1], [GREET_004, ASK, ANSWER, *CLOSE_004])
    first, second = "请问还有什么可以帮助您", "对不起，我挂线了。"
    stay_call: list[Item] = [
        GREET_004,
        ("customer", "我的快递查好了吗？"),
        ("agent", "已经查好了，明天送到。"),
        ("customer", "好。"),
        ("agent", first),
        ("wait", 10),
        ("agent", second),
        ("wait", 5),
        ("event", "hangup"),
    ]
    add("004 篇5 六35 客户通话完毕仍未挂机", first, stay_call)
    add("004 篇5 六35 若客户仍未有回应", second, stay_call)

    # ---- 002 三 服务热线服务用语
    add("002 三 客户拨入", GREET_002[1], [GREET_002, ASK, ANSWER, *CLOSE_002])
    for line in (
        "请您别着急，慢慢讲，我们会尽力帮您解决。",
        "请您别着急，慢慢想，我们会尽力帮您解决。",
    ):
        simple("002 三 客户非常着急、态度恶劣时", "你们这帮混蛋，到底管不管！", line, GREET_002)
    line = "对不起，您所咨询的内容不是我们的服务范围，请您挂机，再见。"
    add(
        "002 三 客户恶意呼叫时",
        line,
        [
            GREET_002,
            ("customer", "美女，陪我聊聊天。"),
            ("agent", line),
            ("wait", 4),
            ("event", "hangup"),
        ],
    )
    simple(
        "002 三 客户咨询的为非本公司业务时",
        "我想查一下明天的火车票。",
        "先生，很乐意能为您提供帮助，但因你所咨询的业务不属于我公司的业务范畴，很遗憾不能为您提供帮助，"
        "建议您拨打114号进行咨询，好吗？",
        GREET_002,
    )
    simple(
        "002 三 客户提出批评",
        "我要提个批评，你们的包装太简陋了。",
        "感谢您的批评指正，我们将及时改正，不断提高服务水平。",
        GREET_002,
    )
    simple(
        "002 三 客户提出表扬", "你们的服务真好，谢谢你们。", "谢谢，这是我们应该做的。", GREET_002
    )
    simple(
        "002 三 客户提出建议",
        "我建议你们周末也送货。",
        "非常感谢您给我们提出的宝贵建议，我们将不断改进服务。",
        GREET_002,
    )
    simple(
        "002 三 客户对问题答复或解决不太满意但不再追究",
        "虽然我不太满意，不过算了，不追究了。",
        "谢谢您的理解与支持，我们将不断改进服务，让您满意。",
        GREET_002,
    )
    simple(
        "002 三 客户不满意并要追究：能够在短时间之内答复",
        "这个处理结果我不满意，我要追究到底。",
        "我们将把您的要求及时上报相关部门，并尽快给您答复。",
        GREET_002,
    )
    simple(
        "002 三 客户不满意并要追究：无法在短时间之内答复",
        "这个处理结果我不满意，我要追究到底。",
        "您的要求我们会及时上报上级主管部门。但由于物流方面的原因，我们可能在一段时间之内无法满足您的需要，"
        "请您理解。",
        GREET_002,
    )
    simple(
        "002 三 客户的问题不能立即答复时",
        "这个型号什么时候补货？",
        "我们会将您反映的问题与相关部门联系，请您留下联系电话，我们将尽快给您答复。",
        GREET_002,
    )
    for heard in ("到", "清"):
        hello = "您好，您的电话已接通，请讲。"
        line = f"对不起，听不{heard}您的声音，请您再拨一次好吗？"
        silent: list[Item] = [
            GREET_002,
            ("wait", 3),
            ("agent", hello),
            ("wait", 23),
            ("agent", hello),
            ("wait", 5),
            ("agent", line),
            ("event", "hangup"),
        ]
        add(f"002 三 听不{heard}客户声音", hello, silent)
        add(f"002 三 听不{heard}客户声音（若仍无反应）", line, silent)
    line = "对不起，系统出现单通，无法听到您的声音，请您挂机后不要关机。我们将进行回拨。"
    add(
        "002 三 通话过程中，因为线路原因，突然听不到客户声音",
        line,
        [
            GREET_002,
            ("customer", "我想问一下我的订单。"),
            ("agent", "好的，请问您的订单号是多少？"),
            ("wait", 8),
            ("agent", line),
            ("event", "hangup"),
        ],
    )
    add("002 三 结束语", CLOSE_002[2][1], [GREET_002, ASK, ANSWER, *CLOSE_002])
    add(
        "002 三 如客户说谢谢",
        "不客气，再见。",
        [
            GREET_002,
            ASK,
            ANSWER,
            ("agent", "请问您还有什么需要帮助？"),
            ("customer", "没有了，谢谢。"),
            ("agent", "不客气，再见。"),
        ],
    )

    # ---- 002 四 回访服务用语 (outbound calls)
    close = "谢谢您的合作，再见。"
    line = (
        "您好，王先生，我是江南云商客服中心的，您在10月28日反映的快递破损问题，我们已经给您查实……"
    )
    reply_call: list[Item] = [
        ("agent", line),
        ("customer", "嗯，查得怎么样？"),
        ("agent", "是运输途中造成的，我们已经为您补发了新的商品，明天送到。"),
        ("customer", "好的，知道了。"),
        ("agent", close),
        ("event", "hangup"),
    ]
    add("002 四 答复回访", line, reply_call, "outbound")
    add("002 四 结束语（答复回访）", close, reply_call, "outbound")
    first = "您好，我是江南云商客服中心的，您是王先生吗？"
    second = "为更好的为您提供服务，我公司想对您进行服务满意度的回访，不知您是否方便？"
    survey_call: list[Item] = [
        ("agent", first),
        ("customer", "是的。"),
        ("agent", second),
        ("customer", "方便。"),
        ("agent", "请问您对我们上次的服务是否满意？"),
        ("customer", "挺满意的。"),
        ("agent", close),
        ("event", "hangup"),
    ]
    add("002 四 主动回访", first, survey_call, "outbound")
    add("002 四 主动回访（征得同意）", second, survey_call, "outbound")
    add("002 四 结束语（主动回访）", close, survey_call, "outbound")

    # ---- 002 六 服务行为标准
    simple("002 六 询问客户的姓名", "我想查一下我的订单。", "请问您贵姓？", GREET_002)
    add(
        "002 六 适时地使用“**先生”的称呼",
        "王先生，我帮您查一下。",
        [
            GREET_002,
            ("customer", "我想查一下我的订单。"),
            ("agent", "请问您贵姓？"),
            ("customer", "我姓王。"),
            ("agent", "王先生，我帮您查一下。"),
            ("agent", "王先生，您的订单明天送达。"),
            *CLOSE_002,
        ],
    )
    simple(
        "002 六 若没有听清客户所说内容时应再次询问",
        "我那个……订单……",
        "王先生，对不起，我没听清楚您的问题，请您再复述一遍好吗？",
        GREET_002,
    )
    ask, back = "王先生，对不起，麻烦您稍等片刻，好吗？", "对不起，王先生，让您久等了…"
    hold_002: list[Item] = [
        GREET_002,
        ("customer", "我姓王，我的订单到哪了？"),
        ("agent", ask),
        ("customer", "好的。"),
        ("event", "hold_start"),
        ("wait", 10),
        ("event", "hold_end"),
        ("agent", back),
        ("agent", "您的订单明天送达。"),
        *CLOSE_002,
    ]
    add("002 六 如需客户等待时应征求客户的意见", ask, hold_002)
    add("002 六 返回时应讲", back, hold_002)
    line = "王先生，不知道我刚才是否将您的问题解释清楚了？"
    add(
        "002 六 在向客户解释完毕时应确认客户是否完全明了",
        line,
        [
            GREET_002,
            ("customer", "我姓王，退款要多久？"),
            ("agent", "王先生，退款三到五个工作日到账。"),
            ("agent", line),
            ("customer", "清楚了。"),
            *CLOSE_002,
        ],
    )
    add(
        "002 六 电话受理终了时应询问客户是否还有其他方面的咨询",
        CLOSE_002[0][1],
        [GREET_002, ASK, ANSWER, *CLOSE_002],
    )
    return calls


# ---- forbidden lines --------------------------------------------------------------------------
# (follows, the line as the seed writes it, the line as said: the seed's placeholders filled in)

FORBIDDEN: list[tuple[str, str, str]] = [
    ("000 一 忌用语", "这个问题我不会处理", "这个问题我不会处理"),
    ("000 一 忌用语", "这个问题我们公司不能给你解决", "这个问题我们公司不能给你解决"),
    (
        "000 一 忌用语",
        "这个问题我们可能要过一段时间才能给你解决",
        "这个问题我们可能要过一段时间才能给你解决",
    ),
    ("000 一 忌用语", "这个问题这么简单,您自己不会解决吗?", "这个问题这么简单，您自己不会解决吗？"),
    ("000 一 忌用语", "你是不是干××的?", "你是不是干销售的？"),
    ("000 一 忌用语", "我现在很忙,您下次再打电话好吗?", "我现在很忙，您下次再打电话好吗？"),
    ("002 五 服务忌语", "你不是说XX吗?", "你不是说明天就到吗？"),
    ("002 五 服务忌语", "不是告诉你了,怎么还不明白?", "不是告诉你了，怎么还不明白？"),
    ("002 五 服务忌语", "大点声,听不见!", "大点声，听不见！"),
    ("002 五 服务忌语", "不是我办的,不知道,不清楚。", "不是我办的，不知道，不清楚。"),
    ("002 五 服务忌语（拒绝：不知道，不清楚）", "不是我办的,不知道,不清楚。", "不知道，不清楚。"),
    ("002 五 服务忌语", "你到XX部门问问吧。", "你到物流部门问问吧。"),
    ("002 五 服务忌语", "你怎么连这个也不懂。", "你怎么连这个也不懂。"),
    ("002 五 服务忌语", "这是规定,我有什么办法。", "这是规定，我有什么办法。"),
    ("004 篇5 一1 不可以说", "喂，说话呀！", "喂，说话呀！"),
    ("004 篇5 一2 不可以说", "喂，说吧！", "喂，说吧！"),
    (
        "004 篇5 一3 不可以说",
        "喂，说话呀！再不说话我就挂了啊！",
        "喂，说话呀！再不说话我就挂了啊！",
    ),
    ("004 篇5 二4 不可以说", "喂，大声一点儿！", "喂，大声一点儿！"),
    ("004 篇5 三11 不可以说", "喂，什么！你说什么", "喂，什么！你说什么"),
    (
        "004 篇5 三13 不可以说",
        "喂，打错电话了！请看清楚后再拨。",
        "喂，打错电话了！请看清楚后再拨。",
    ),
    (
        "004 篇5 三14 不可以说",
        "喂，说话呀！再不说话我就挂了啊！",
        "喂，说话呀！再不说话我就挂了啊！",
    ),
    ("004 篇5 四15 不可以说", "喂，我也没办法，刚才线路忙啊！", "喂，我也没办法，刚才线路忙啊！"),
    (
        "004 篇5 四16 不可以说",
        "喂，嘴巴干净一点，这又不是我的错呀！",
        "喂，嘴巴干净一点，这又不是我的错呀！",
    ),
    ("004 篇5 四17 不可以说", "喂，不好意思，我是新手啦！", "喂，不好意思，我是新手啦！"),
    ("004 篇5 四18 不可以说", "喂，刚才的电话不是我接的呀！", "喂，刚才的电话不是我接的呀！"),
    (
        "004 篇5 四19 不可以说",
        "喂，这不关我的事，我不清楚，您挂××电话吧。",
        "喂，这不关我的事，我不清楚，您挂114电话吧。",
    ),
    (
        "004 篇5 四20 不可以说",
        "喂，我不清楚，您过两天再来电话吧。",
        "喂，我不清楚，您过两天再来电话吧。",
    ),
    ("004 篇5 四21 不可以说", "喂，没事了吧，您挂××电话吧。", "喂，没事了吧，您挂114电话吧。"),
    ("004 篇5 五30 不可以说", "喂，不可能的吧。", "喂，不可能的吧。"),
    ("004 篇5 五30 不可以说（或）", "不可以，完全不可以！", "不可以，完全不可以！"),
    ("004 篇5 六33 不可以说", "喂，听懂了吧", "喂，听懂了吧"),
    ("004 篇5 六34 不可以说", "喂，没事了吧，您挂电话吧。", "喂，没事了吧，您挂电话吧。"),
]

# how the line is varied: punctuation changed, spaces between the words, Traditional characters
_HALF = str.maketrans({"，": ",", "。": ".", "！": "!", "？": "?"})


def _varied(said: str, how: str) -> str:
    if how == "punctuation":
        return said.translate(_HALF).replace(",", " , ").rstrip(".!? ") + "..."
    if how == "spaces":
        return " ".join(c for c in said if c not in _PUNCT)
    return _S2TW.convert(said)


FORBIDDEN_TURN = 4  # the turn of a forbidden-line call that says the line


def _forbidden() -> list[tuple[str, str, str, list[Item], str]]:
    calls: list[tuple[str, str, str, list[Item], str]] = []
    for follows, line, said in FORBIDDEN:
        for how in ("punctuation", "spaces", "traditional"):
            items: list[Item] = [
                GREET_004,
                ("customer", "我想问一下，你们的会员积分怎么用？"),
                ("agent", "会员积分可以在下单时抵扣现金。"),
                ("customer", "那积分什么时候过期？"),
                ("agent", _varied(said, how)),
                ("customer", "好吧。"),
                *CLOSE_004,
            ]
            calls.append((f"F-{len(calls) + 1:03d}", f"{follows} ({how})", line, items, "inbound"))
    return calls


def _record(
    tid: str, follows: str, line: str, items: list[Item], direction: str, traditional: bool
) -> dict[str, Any]:
    if traditional:
        items = [(k, _S2TW.convert(v)) if k in ("agent", "customer") else (k, v) for k, v in items]
    return {
        "id": tid,
        "channel": "phone",
        "direction": direction,
        "started_at": STARTED,
        "agent": "A-01",
        "language": "zh-Hant-TW" if traditional else "zh-Hans",
        "follows": follows,
        "line": line,
        "turns": _turns(items),
    }


def corpus() -> dict[str, list[dict[str, Any]]]:
    """The two files' rows, by file name."""
    good = []
    for tid, follows, line, items, direction in _prescribed():
        good.append(_record(tid, follows, line, items, direction, False))
        good.append(_record(tid + "-T", follows, line, items, direction, True))
    bad = []
    for call in _forbidden():
        row = _record(*call, False)
        row["turn"] = FORBIDDEN_TURN
        bad.append(row)
    return {"prescribed.jsonl": good, "forbidden.jsonl": bad}


def text(rows: list[dict[str, Any]]) -> str:
    return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)


def main() -> int:
    OUT.mkdir(exist_ok=True)
    for name, rows in corpus().items():
        (OUT / name).write_text(text(rows), encoding="utf-8", newline="\n")
        print(f"{name}: {len(rows)} calls")
    return 0


if __name__ == "__main__":
    sys.exit(main())

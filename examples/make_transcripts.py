"""Generate example call and chat transcripts for ``csdsl transcripts``.

Run from the repository root::

    python examples/make_transcripts.py

It writes ``transcripts.jsonl`` next to this script: one transcript a line in the shape of
``shared/spec/IO.md`` ("Transcripts"), then 6 deliberately malformed lines.  It prints a table
of the scenarios (copied into ``examples/README.md``) and the malformed lines' numbers.

What is in it
-------------

Contacts with the 江南云商 (Jiangnan Yunshang) customer-service hotline and online chat, October
and November 2024 (``started_at`` in ``+08:00``), handled by agents ``A-01`` .. ``A-20``.  The
customers have ordinary problems: a late parcel, a refund that has not arrived, an unexpected
charge, a locked account, a broken appliance, a price drop, a broken delivery, a VAT invoice.

* **Channels.** About 70% are phone calls, where every turn has ``start``/``end`` (seconds from
  the start of the call): agents speak at about 150 characters a minute (punctuation not
  counted; 135-165 per call, a little jitter per turn), customers at 150-230, with pauses of
  0.3-2 s between turns; most calls end with a ``hangup`` event.  About 30% are chats, whose
  turns have no times and no system events.
* **Script.** About 30% are converted as a whole with OpenCC ``s2tw`` and have
  ``"language": "zh-Hant-TW"``; the others have ``"language": "zh-Hans"`` or no ``language``.
  About a fifth (of either script) are "rough", as exports often are: some full-width
  punctuation (``，？！：``) is half-width and a space is inserted in one or two turns.
* **Scenario.** Every transcript has an extra key ``"scenario"`` (the checker ignores unknown
  keys) saying what it is meant to show; ``TABLE`` below lists them with the rules each
  breaks.  About half are *good*: they follow the seeds' standard.  The others break one or two
  rules each; a slug with ``+`` breaks both of the rules it names.

The standard (``shared/seeds/``) that the good ones follow:

* a greeting in the first agent turn (000 一 问候语, 002 三 客户拨入, 004 篇5 1), varied; and a
  closing in the last agent turn (``感谢您的来电 ... 再见``, 002 三 结束语, 004 篇5 34), after
  ``请问还有什么可以帮助您`` (chat: ``感谢您的咨询 ... 再见``); the customer's surname once known
  (``王先生``, 篇5 2) and ``不客气`` for every thanks (篇5 31, 002 三), see ``polish``;
* 您, not 你 (001 一(二)4).  Good calls may still contain ``你们`` (an agent asking a company
  customer about ``你们公司``, scenario ``good_nimen``) or quote the customer's own words with
  ``你`` in “…” (``good_quote``); and customers say 你 all the time;
* no hedges ``一般是`` / ``应该是`` (001 一(二)5); none of the forbidden lines (000 一 忌用语,
  002 五 服务忌语).  No agent turn of a good call says 不知道 or 不清楚, even innocently;
* holds (001, 002 六, 004 篇5 22): the agent asks ``...请您稍等片刻，好吗？`` and the customer
  agrees (``好的``) before ``hold_start``; during a hold longer than 15 s the agent checks in
  (``感谢您的耐心等待，我还在为您查询``) as agent turns between ``hold_start`` and ``hold_end``,
  at most 14 s apart (start to start; from ``hold_start`` to the first and from the last to
  ``hold_end`` too); after ``hold_end`` the agent says ``让您久等了``.  Holds last at most 2
  minutes, or longer when the customer said ``我可以等`` / ``没关系，我等着`` when asked.  A few
  good calls use ``mute``/``unmute`` the same way, and a few end with a ``transfer``;
* the 004 篇5 situations handled with the required line: 3 silent call (greeting, 5 s, greeting,
  5 s, ``对不起，您的电话没有声音，请您换一部电话再次打来，好吗？再见！``, 5 s, ``hangup``; the
  customer never speaks), 5 voice too quiet, 11 asking to repeat, 13 wrong number, 15 line hard
  to reach, 16 swearing, 17 "too slow", 18 complaint about an agent, 20 a complaint that cannot
  be answered at once, 25 suggestion, 27 customer apologises, 28 nuisance call (ended well within
  10 minutes, 001 二(一)3), 30 request out of scope, 31 customer thanks, 33 checking the customer
  understood.

The bad ones (``TABLE`` has the counts): no greeting; no closing; a forbidden line from 000
or 002 (each in a context that provokes it); 你 instead of 您 in one or two agent turns; a hedge;
a hold without asking first, or without ``让您久等了`` afterwards; a hold over 2 minutes with only
``好的``; a hold with more than 15 s without a word (20-45 s); one long agent turn far too fast
(245-290 characters a minute) or too slow (70-82); and the 004 篇5 situations with the line
that must never be said (``喂，说话呀！再不说话我就挂了啊！``, hanging up at once,
``喂，打错电话了！请看清楚后再拨。``, ``喂，嘴巴干净一点，这又不是我的错呀！``,
``不可以，完全不可以！`` ...), a nuisance call over 10 minutes, no reply to a customer's
apology, a slangy reply to thanks.  Some of 篇5's bad lines break other rules by themselves;
``TABLE`` says which (for example ``s11_repeat_bad``: ``喂，什么！你说什么？`` also uses 你;
a rude line that ends the call leaves it without a closing).

The ``breaks`` of ``TABLE`` are this script's own names for the generic rules; ``lint``
below checks each generated transcript (before conversion and roughening) against them, so the
file cannot drift from what the table says.  The 篇5 situation rules are not linted.

Malformed lines
---------------

After the transcripts come 6 lines that must each be reported with their line number while the
others are still read (``malformed``): a line that is not JSON (cut off), a transcript without
``turns``, a turn with ``speaker`` ``bot`` (a chatbot handing over), an agent turn without
``text``, a system turn with the unknown event ``hold`` (not ``hold_start``), and a turn with a
negative ``start``.

The output is deterministic: a fixed-seed ``random.Random`` drives everything and OpenCC's
conversion is a pure function, so re-running the script reproduces the file byte for byte.
Needs ``opencc`` (a dependency of csdsl).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from itertools import pairwise
from pathlib import Path
from random import Random
from typing import Any

import opencc

SEED = 20241130
OUT_DIR = Path(__file__).resolve().parent
OUT = OUT_DIR / "transcripts.jsonl"

SHANGHAI = timezone(timedelta(hours=8))
FIRST_DAY = date(2024, 10, 1)
LAST_DAY = date(2024, 11, 30)
AGENTS = [f"A-{i:02d}" for i in range(1, 21)]
AGENT_NAMES = (
    "小林 小周 小陈 小王 小李 小张 小刘 小杨 小赵 小黄 "
    "小吴 小徐 小孙 小马 小朱 小胡 小郭 小何 小高 小罗"
)
AGENT_NAME = dict(zip(AGENTS, AGENT_NAMES.split(), strict=True))
AGENT_NO = {a: 1000 + 17 * i + 3 for i, a in enumerate(AGENTS, 1)}  # 工号

HANT_SHARE = 0.3  # of every scenario, converted to Traditional characters
ROUGH_SHARE = 0.2  # half-width punctuation mixed in, a space inserted

S2TW = opencc.OpenCC("s2tw")

# ---- the steps of a contact -----------------------------------------------------------------


@dataclass
class Step:
    """One thing that happens; rendered with times for a phone call, without for a chat."""

    kind: str  # "a" agent, "c" customer, "ev" system event, "hold" a hold (phone only)
    text: str = ""
    event: str = ""
    cpm: float | None = None  # agent/customer speech rate for this turn (characters a minute)
    wait: float | None = None  # silence before this step, instead of the usual 0.3-2 s pause
    hold: Hold | None = None
    fixed: bool = False  # a line quoted from a seed: never altered (you_not_nin)


@dataclass
class Hold:
    seconds: float  # hold_start to hold_end (at least; check-ins may stretch it a little)
    checkins: str  # "regular" (at most 14 s apart), "none", "gap" (one stretch of `gap` seconds)
    gap: float = 0.0
    events: tuple[str, str] = ("hold_start", "hold_end")
    say: tuple[str, ...] = ()  # check-in lines to cycle through


def A(text: str, **kw: Any) -> Step:
    return Step("a", text, **kw)


def C(text: str, **kw: Any) -> Step:
    return Step("c", text, **kw)


def EV(event: str, wait: float | None = None) -> Step:
    return Step("ev", event=event, wait=wait)


# ---- who, when ------------------------------------------------------------------------------

SURNAMES = list(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许韩冯邓曹彭曾田董潘袁蔡蒋余杜叶程魏苏吕丁沈姚卢"
)


@dataclass
class Ctx:
    rng: Random
    channel: str  # phone | chat
    started: datetime
    agent: str
    surname: str
    male: bool
    named: bool = False  # the agent knows the customer's surname (then 王先生 / 王女士)

    @property
    def phone(self) -> bool:
        return self.channel == "phone"

    @property
    def title(self) -> str:
        honorific = "先生" if self.male else "女士"
        return self.surname + honorific if self.named else honorific

    @property
    def miss(self) -> str:
        """004 篇5 16 says 先生/小姐."""
        return "先生" if self.male else "小姐"

    def pick(self, options: Iterable[str]) -> str:
        return self.rng.choice(list(options))


# ---- the standard lines ---------------------------------------------------------------------


def greeting(ctx: Ctx) -> str:
    name, no, hour = AGENT_NAME[ctx.agent], AGENT_NO[ctx.agent], ctx.started.hour
    daytime = "早上好" if hour < 12 else "下午好" if hour < 18 else "您好"
    if ctx.phone:
        options = [
            "您好，欢迎致电江南云商客户服务热线，请问有什么可以帮助您？",
            f"您好，欢迎致电江南云商客户服务热线，客服代表{name}很高兴为您服务，请问有什么可以帮助您？",
            "您好，江南云商客服中心为您服务，请问有什么帮助您？",
            f"{daytime}，欢迎致电江南云商客户服务热线，{no}号客服代表为您服务，请问有什么可以帮助您？",
            f"您好，江南云商客户服务热线，工号{no}为您服务，请问有什么可以帮助您？",
        ]
    else:
        options = [
            f"您好，欢迎咨询江南云商在线客服，我是客服{name}，请问有什么可以帮助您？",
            "您好，很高兴为您服务，请问有什么可以帮助您？",
            f"{daytime}，欢迎光临江南云商官方客服，{name}在线为您服务，请问有什么可以帮助您？",
        ]
    return ctx.pick(options)


NO_GREETING_PHONE = ["喂，请讲。", "江南云商客服，请说。", "喂？您说。", "客服中心，请讲。"]
NO_GREETING_CHAT = ["请说。", "在的，请讲。", "什么问题？请描述一下。"]

PRE_CLOSING = [  # 004 篇5 34; 002 六
    "请问还有什么可以帮助您？",
    "请问您还有什么需要帮助？",
    "{title}，请问还有什么可以帮助您？",
]
NOTHING_ELSE = ["没有了，谢谢。", "没了没了，谢谢你啊。", "没有了。", "暂时没有了，谢谢。"]


def closing(ctx: Ctx) -> str:
    if not ctx.phone:
        return ctx.pick(
            [
                "感谢您的咨询，祝您生活愉快，再见！",
                "感谢您的耐心，如有问题欢迎随时联系我们，再见！",
                "感谢您对江南云商的支持，再见！",
            ]
        )
    options = [
        "感谢您的来电，再见！",
        "感谢您的来电，欢迎再次拨打，再见。",
        "感谢您的来电，若有问题请再次来电，谢谢，再见！",
    ]
    if ctx.started.weekday() == 4:
        options.append("感谢您的来电，祝您周末愉快，再见！")
    return ctx.pick(options)


NO_CLOSING = ["嗯，好的。", "行，那就这样。", "好的，已经给您登记了。", "嗯嗯，好。"]

HOLD_ASK = ["请您稍等片刻，好吗？", "麻烦您稍等片刻，好吗？"]
HOLD_OK = ["好的。", "嗯，好的。", "好，你查吧。", "行。"]
HOLD_OK_LONG = ["好的，没关系，我等着。", "我可以等，你查吧。", "没关系，我等着，你帮我查清楚。"]
CHECKINS = [  # short enough (at most 16 characters) to fit the 15 s rhythm
    "感谢您的耐心等待，我还在为您查询。",
    "{title}，我还在为您核实，请您再稍等。",
    "系统查询有点慢，感谢您的耐心等待。",
    "我正在联系仓库同事确认，请您别挂机。",
    "马上就好，感谢您的耐心等待。",
    "{title}，我还在线，正在为您处理。",
    "还需要一点时间，请您再稍等一下。",
    "已经查到一部分了，感谢您的耐心。",
]
THANKS_AFTER_HOLD = ["让您久等了，", "对不起，让您久等了。", "{title}，让您久等了，"]

# ---- topics: what the customer calls about ----------------------------------------------------


@dataclass
class Topic:
    name: str
    opening: str  # the customer's problem
    ask: str  # the agent asks for an order number, phone number ...
    answer: str
    reason: str  # what the agent looks up (said before a hold)
    result: str  # the long answer after the lookup
    hedged: str  # the same answer with 一般是 / 应该是
    followup_q: str
    followup_a: str
    wrap: str
    gripe: str  # a customer's complaint with 你们, for quoting
    ask_nimen: str = ""
    dept: str = "售后服务专线"  # where a call about it is transferred


ITEMS = [
    "空气炸锅",
    "电动牙刷",
    "羽绒服",
    "儿童安全座椅",
    "蓝牙耳机",
    "电饭煲",
    "登山鞋",
    "台灯",
    "保温杯",
    "婴儿推车",
]
HUBS = ["嘉兴", "无锡", "合肥", "武汉", "郑州", "昆山", "金华", "南昌"]
BANKS = ["招商银行信用卡", "支付宝账户", "微信零钱", "建设银行储蓄卡"]


def _order(rng: Random, ctx: Ctx, d: date | None = None) -> str:
    d = d or ctx.started.date() - timedelta(days=rng.randint(3, 12))
    return f"JN{d:%y%m%d}{rng.randint(1000, 9999)}"


def _phone_no(rng: Random) -> str:
    return f"1{rng.choice('3589')}{rng.randint(0, 9)}{rng.randint(10_000_000, 99_999_999)}"


def _past(ctx: Ctx, lo: int, hi: int) -> str:
    d = ctx.started.date() - timedelta(days=ctx.rng.randint(lo, hi))
    return f"{d.month}月{d.day}日"


def topic_parcel(ctx: Ctx) -> Topic:
    rng = ctx.rng
    item, hub, k = rng.choice(ITEMS), rng.choice(HUBS), rng.choice(["两", "三"])
    bought = ctx.started.date() - timedelta(days=rng.randint(5, 9))
    busy = "双十一期间" if date(2024, 11, 1) <= ctx.started.date() <= date(2024, 11, 20) else "近期"
    return Topic(
        "parcel",
        ctx.pick(
            [
                f"我{bought.day}号在你们平台买了一个{item}，到现在都还没收到，物流信息已经三天没更新了。",
                f"我想问一下我的快递怎么还没到？买的{item}，说好三天到的，现在都快一个星期了。",
                f"我买的{item}一直显示在{hub}转运，好几天都不动了，到底什么时候能到？",
            ]
        ),
        ctx.pick(
            [
                "非常抱歉给您带来不便，请您提供一下订单号，好吗？",
                "给您添麻烦了，请问您的订单号是多少？",
            ]
        ),
        ctx.pick(["订单号是{}。", "我看一下啊……是{}。"]).format(_order(rng, ctx, bought)),
        "我帮您查询一下这个订单的物流信息",
        f"您的包裹目前在{hub}转运中心，因为{busy}件量比较大，中转有些延误。我已经帮您提交了催件申请，"
        f"快递公司会优先派送，预计{k}天内送到，派送前快递员会先给您打电话。",
        f"您的包裹现在在{hub}转运中心，这种情况一般是中转积压了，应该是这两天就能到，您再等等看。",
        ctx.pick(["要是到时候还不到怎么办？", "那如果再延误，有没有什么补偿？"]),
        f"如果{k}天内还没有送到，您可以直接联系我们，我们会为您申请延误补偿，"
        "按订单金额的百分之十发放无门槛优惠券。",
        ctx.pick(["好的，那我再等等。", "行吧，那我等着。"]),
        ctx.pick(["你们这物流也太慢了吧", "你们就是这么做生意的吗"]),
        dept="物流查询专线",
    )


def topic_refund(ctx: Ctx) -> Topic:
    rng = ctx.rng
    item, amount, bank = rng.choice(ITEMS), rng.randint(59, 1299), rng.choice(BANKS)
    return Topic(
        "refund",
        ctx.pick(
            [
                f"我上周退了一件{item}，仓库都签收好几天了，退款到现在还没到账。",
                f"你好，我申请的退款怎么还没到？{amount}块钱呢，都一个礼拜了。",
            ]
        ),
        ctx.pick(["请问您的订单号或者退款单号是多少？", "好的，请您提供一下退款单号，好吗？"]),
        f"退款单号是TK{rng.randint(10_000_000, 99_999_999)}。",
        "我帮您查一下这笔退款的进度",
        f"您的退货在{_past(ctx, 2, 5)}已经由仓库签收，退款也已经审核通过了，{amount}元会原路退回到"
        f"您支付时用的{bank}，银行处理需要一到三个工作日，到账后您会收到短信通知。",
        f"这笔退款已经审核了，退回到{bank}一般是三到五个工作日，应该是这周能到账。",
        ctx.pick(["那我这个运费能退吗？", "那退货的运费谁出？"]),
        "您这次退货是因为商品质量问题，运费由我们承担，十元运费补偿会和退款一起退回到您的账户里。",
        ctx.pick(["好的，我知道了。", "那行，我再等两天。"]),
        ctx.pick(["你们退款怎么这么磨蹭", "你们收货的时候倒是挺快的"]),
    )


def topic_billing(ctx: Ctx) -> Topic:
    rng = ctx.rng
    fee = rng.choice([39, 88, 99, 128, 198])
    return Topic(
        "billing",
        ctx.pick(
            [
                f"我这个月的账单里怎么多扣了一笔{fee}块钱的会员费？我从来没开过什么会员。",
                f"你们是不是扣错钱了？我看信用卡账单上有一笔{fee}元的扣款，写的是江南云商。",
            ]
        ),
        "请您提供一下账号绑定的手机号，好吗？",
        f"手机号是{_phone_no(rng)}。",
        "我帮您核实一下这笔扣款",
        f"这笔{fee}元是{_past(ctx, 5, 25)}云商会员的自动续费，您去年开通会员的时候选择了连续包年。"
        "我已经为您关闭了自动续费，并申请退还这一期的会员费，款项会在三个工作日内退回原支付账户。",
        f"这笔{fee}元应该是会员自动续费，一般是开通的时候默认勾选了，您看看是不是自己点过。",
        ctx.pick(["那以后还会不会再扣？", "会员费什么时候能退回来？"]),
        "自动续费已经关闭了，以后不会再产生扣款；这一期的会员费三个工作日内退回，"
        "如果您之后还想使用会员，可以在App里手动开通。",
        ctx.pick(["那就好。", "好，那我放心了。"]),
        ctx.pick(["你们这不是乱扣费吗", "你们这样跟抢钱有什么区别"]),
    )


def topic_account(ctx: Ctx) -> Topic:
    rng = ctx.rng
    phone = _phone_no(rng)
    if rng.random() < 0.5:  # a new phone number
        return Topic(
            "account",
            "我换了新手机号，登录的时候验证码还是发到旧号码上，现在账号登不上去了。",
            ctx.pick(["请问您的账号绑定的是哪个手机号？", "请您提供一下账号的注册手机号，好吗？"]),
            f"是{phone}，这个号已经停机了。",
            "我帮您看一下账号的状态",
            "您的账号目前是正常的，只是绑定的还是旧号码。我已经为您提交了换绑申请，您在登录页点击"
            "“手机号已停用”，按提示上传身份证正反面照片，审核通过后就可以用新号码登录了，"
            "审核会在二十四小时内完成。",
            "您这个一般是换号以后没有换绑，应该是要上传身份证才能改，您自己在App上弄一下。",
            "那我账号里的余额和优惠券会不会没了？",
            "您放心，换绑只是更换登录手机号，账户里的余额、优惠券和订单记录都会完整保留。",
            ctx.pick(["行，那我试试。", "好的，我等会儿弄一下。"]),
            ctx.pick(["你们这个系统太难用了", "你们这换个号也太折腾人了"]),
            dept="账户安全专线",
        )
    return Topic(
        "account",
        "我的账号被锁了，说是异常登录，我什么都没干啊。",
        ctx.pick(["请问您的账号绑定的是哪个手机号？", "请您提供一下账号的注册手机号，好吗？"]),
        f"是{phone}。",
        "我帮您看一下账号的状态",
        "您的账号昨天晚上在一台新设备上登录，触发了安全保护，被临时冻结了。我已经为您提交了解冻申请，"
        "您在登录页点击“账号申诉”，完成人脸验证后就可以正常登录，之后建议您修改一下登录密码。",
        "您的账号是被风控锁定了，一般是异地登录触发的，应该是过二十四小时就会自动解锁。",
        "那我账号里的余额和优惠券会不会没了？",
        "您放心，账号只是临时冻结，账户里的余额、优惠券和订单记录都会完整保留。",
        ctx.pick(["行，那我试试。", "好的，我等会儿弄一下。"]),
        ctx.pick(["你们这安全验证也太折腾人了", "你们这个系统太难用了"]),
        dept="账户安全专线",
    )


APPLIANCES = [
    ("洗衣机", "E21", "排水超时"),
    ("空调", "F3", "室外温度传感器故障"),
    ("冰箱", "E4", "冷冻风机故障"),
    ("扫地机器人", "E10", "主刷被缠住"),
    ("洗碗机", "E1", "进水异常"),
    ("热水器", "E5", "点火失败"),
]


def topic_appliance(ctx: Ctx) -> Topic:
    rng = ctx.rng
    app, code, meaning = rng.choice(APPLIANCES)
    return Topic(
        "appliance",
        ctx.pick(
            [
                f"我上个月在你们这儿买的{app}，今天突然用不了了，屏幕上一直显示{code}。",
                f"你好，我家的{app}坏了，买了还不到两个月，一开机就报{code}。",
            ]
        ),
        "非常抱歉给您带来不便，请您提供一下购买时的收货手机号，好吗？",
        f"收货手机号是{_phone_no(rng)}。",
        f"我帮您查一下这台{app}的保修信息",
        f"您的{app}是{_past(ctx, 30, 55)}签收的，目前在一年保修期内。{code}代表{meaning}，"
        "我现在帮您预约售后师傅上门检测维修，保修期内的维修和配件都不收费用，"
        "师傅会在二十四小时内和您联系确认上门时间。",
        f"{code}一般是{meaning}，应该是要师傅上门看一下，我帮您登记了，师傅会联系您。",
        "师傅上门要收上门费吗？",
        "保修期内上门服务是免费的，如果需要更换配件，师傅会先和您确认，保修范围内的配件也不收费用。",
        ctx.pick(["好的，那我等师傅电话。", "行，那我明天在家等着。"]),
        ctx.pick(["你们卖的东西质量也太差了", "你们这质量也好意思卖"]),
        dept="家电售后技术专线",
    )


def topic_price(ctx: Ctx) -> Topic:
    rng = ctx.rng
    item, diff = (
        rng.choice(["电视", "扫地机器人", "笔记本电脑", "冰箱", "手机"]),
        rng.choice([100, 150, 200, 300]),
    )
    return Topic(
        "price_drop",
        f"我前天买的{item}，今天一看降价了{diff}块，能不能给我退个差价？",
        "请您提供一下订单号，好吗？",
        f"订单号{_order(rng, ctx)}。",
        "我帮您看一下这个订单是否符合价格保护",
        f"您的订单是{_past(ctx, 1, 3)}下的，还在七天价保期内，降价的{diff}元差价我已经为您申请了，"
        "会以原支付方式退回，预计一到三个工作日到账。",
        f"这个订单一般是可以价保的，应该是能退{diff}块钱差价，您到时候留意一下。",
        "那以后再降价还能退吗？",
        "在下单后七天内，每次降价都可以申请一次价保，您也可以在订单详情页点击“价格保护”自己申请。",
        ctx.pick(["好的，那我等着到账。", "好，明白了。"]),
        ctx.pick(["你们一天一个价", "你们这价格变得也太快了"]),
    )


def topic_damaged(ctx: Ctx) -> Topic:
    rng = ctx.rng
    thing, n = rng.choice(["陶瓷餐具", "玻璃杯", "骨瓷碗碟"]), rng.choice(["两", "三"])
    return Topic(
        "damaged",
        f"我刚收到你们寄来的一套{thing}，打开一看碎了{n}个。",
        "非常抱歉，请问您的订单号是多少？另外麻烦您拍一张破损的照片，通过短信里的链接上传，好吗？",
        f"订单号{_order(rng, ctx)}，照片我刚传上去了。",
        "我帮您登记一下破损情况",
        f"照片我已经收到了，确实是运输过程中造成的破损。我已经为您申请了补发，新的{thing}会在"
        "四十八小时内发出，破损的不需要寄回，您自行处理就可以。",
        "这种情况一般是快递压坏的，应该是可以补发的，您等通知吧。",
        "补发的能不能包装得结实一点？",
        "可以的，我已经在补发单上备注了加固包装，仓库会加泡沫和防撞角。",
        ctx.pick(["那好吧。", "好的，麻烦了。"]),
        ctx.pick(["你们这包装也太敷衍了", "你们发货前都不检查的吗"]),
    )


def topic_invoice(ctx: Ctx) -> Topic:
    rng = ctx.rng
    company = rng.choice(
        ["杭州启明文化传播有限公司", "苏州恒远机电设备有限公司", "宁波海晨贸易有限公司"]
    )
    amount = rng.randint(3000, 28000)
    return Topic(
        "invoice",
        "我们公司上个月在你们这儿采购了一批办公用品，需要开增值税专用发票。",
        "好的，请问贵公司的开票抬头和税号是什么？",
        f"抬头是{company}，税号是91330{rng.randint(100_000_000_000, 999_999_999_999)}X。",
        "我帮您核对一下这几个订单的开票信息",
        f"您这三个订单合计{amount}元，都可以开具增值税专用发票。我已经提交了开票申请，电子发票会在"
        "三个工作日内发送到您预留的邮箱，纸质发票需要寄送的话会再加两天。",
        "这几个订单一般是可以开专票的，应该是三天左右能开出来。",
        "能不能把三个订单合并开一张？",
        "可以的，我已经在申请里备注了合并开票，三个订单会开在同一张发票上。",
        ctx.pick(["好的，麻烦了。", "行，那我让财务查收。"]),
        "你们开个发票怎么这么麻烦",
        ask_nimen="好的，请问你们公司的开票抬头和税号是什么？",
        dept="企业客户专线",
    )


TOPICS: list[tuple[Callable[[Ctx], Topic], int]] = [
    (topic_parcel, 6),
    (topic_refund, 5),
    (topic_billing, 3),
    (topic_account, 3),
    (topic_appliance, 4),
    (topic_price, 2),
    (topic_damaged, 2),
    (topic_invoice, 1),
]


def topic_for(ctx: Ctx) -> Topic:
    makers = [m for m, _ in TOPICS]
    return ctx.rng.choices(makers, weights=[w for _, w in TOPICS])[0](ctx)


# Generic gripes with a singular 你, for good_quote.
GRIPES_NI = ["你到底能不能帮我解决", "你别跟我打官腔", "你们能不能靠谱一点"]

# ---- forbidden lines in context ---------------------------------------------------------------
# (customer line that provokes it, agent line with the seed's phrase, customer's reaction)

FORBIDDEN_002 = [
    (
        "上次那个客服答应给我补偿，怎么到现在都没下文？",
        "那个不是我办的，我这边没有记录。",
        "……那你们总得有人管吧。",
    ),
    ("那到底什么时候能处理好？给个准话。", "不知道，您等通知就行了。", "什么叫不知道？……算了。"),
    ("怎么会出现这种问题？", "这个不清楚，系统自己出的问题。", "……行吧。"),
    ("为什么非要我提供这么多材料？太麻烦了。", "这是规定，我有什么办法。", "……好吧好吧。"),
]
FORBIDDEN_002_LOUD = "大点声，听不见！"  # phone only: when the customer speaks quietly
FORBIDDEN_002_NI = [
    (
        "那个在哪儿操作啊？我在App上找半天了。",
        "你怎么连这个也不懂？就在“我的”页面下面。",
        "……你这什么态度。",
    ),
    (
        "所以我还得再等？我还是没明白。",
        "不是告诉你了，怎么还不明白？就是要再等三个工作日。",
        "……知道了。",
    ),
    ("那这个事情到底归谁管？", "你到售后部门问问吧。", "……我这不就是在问你们吗？"),
]
FORBIDDEN_000 = [
    (
        "那我这个问题你们到底能不能处理？",
        "这个问题我不会处理，您换个时间再打吧。",
        "……什么？那我找谁？",
    ),
    (
        "那个申请单要怎么填啊？",
        "这个问题这么简单，您自己不会解决吗？页面上都写着呢。",
        "……我要是会还打电话干嘛。",
    ),
    ("那你能不能再帮我查一下另外一个订单？", "我现在很忙，您下次再打电话好吗？", "……行吧。"),
]
FORBIDDEN_000_NI = [
    ("那延误造成的损失你们怎么赔？", "这个问题我们公司不能给你解决。", "……那我只能去投诉了。"),
    ("那什么时候能给我解决？", "这个问题我们可能要过一段时间才能给你解决。", "……要多久？"),
]

# ---- building a service call ----------------------------------------------------------------


def hold_steps(
    ctx: Ctx,
    topic: Topic,
    mode: str,
) -> tuple[list[Step], str]:
    """The lookup before the answer: the ask, the customer's agreement, the hold; and the
    prefix of the agent's next turn (让您久等了 or not)."""
    rng = ctx.rng
    thanks = ctx.pick(THANKS_AFTER_HOLD).format(title=ctx.title)
    ask = topic.reason + "，" + ctx.pick(HOLD_ASK)
    say = tuple(c.format(title=ctx.title) for c in CHECKINS)
    if mode == "none":
        return [], ctx.pick(["好的，我看到了，", "好的，我这边查到了，", "我这边看到，"])
    if mode == "chat":
        return [A(ask), C(ctx.pick(HOLD_OK))], thanks
    if mode == "short":
        h = Hold(rng.uniform(6, 14), "none")
        return [A(ask), C(ctx.pick(HOLD_OK)), Step("hold", hold=h)], thanks
    if mode == "mute":
        h = Hold(rng.uniform(5, 12), "none", events=("mute", "unmute"))
        return [A(ask), C(ctx.pick(HOLD_OK)), Step("hold", hold=h)], thanks
    if mode == "long":
        h = Hold(rng.uniform(20, 105), "regular", say=say)
        return [A(ask), C(ctx.pick(HOLD_OK)), Step("hold", hold=h)], thanks
    if mode == "agreed_long":
        ask = topic.reason + "，可能需要两三分钟，" + ctx.pick(HOLD_ASK)
        h = Hold(rng.uniform(130, 210), "regular", say=say)
        return [A(ask), C(ctx.pick(HOLD_OK_LONG)), Step("hold", hold=h)], thanks
    if mode == "no_agreement_long":
        h = Hold(rng.uniform(135, 220), "regular", say=say)
        return [A(ask), C(ctx.pick(HOLD_OK)), Step("hold", hold=h)], thanks
    if mode == "not_asked":
        h = Hold(rng.uniform(8, 60), "regular", say=say)
        return [A(topic.reason + "。"), Step("hold", hold=h)], thanks
    if mode == "no_thanks":
        h = Hold(rng.uniform(8, 70), "regular", say=say)
        lead = ctx.pick(["查到了，", "好的，", f"{ctx.title}，"])
        return [A(ask), C(ctx.pick(HOLD_OK)), Step("hold", hold=h)], lead
    if mode == "silence":
        if rng.random() < 0.5:
            h = Hold(rng.uniform(20, 45), "none")
        else:
            h = Hold(rng.uniform(55, 100), "gap", gap=rng.uniform(20, 40), say=say)
        return [A(ask), C(ctx.pick(HOLD_OK)), Step("hold", hold=h)], thanks
    raise ValueError(mode)


@dataclass
class Call:
    """Options of `service_call`; the defaults make a good call."""

    greet: bool = True
    close: str = "good"  # good | none | s34 | transfer | end (the tail closes by itself)
    hold: str = "auto"  # see hold_steps; "auto" picks none/short (phone) or none/chat
    hedge: bool = False
    rate: str = ""  # "" | fast | slow: the answer after the lookup
    you: int = 0  # agent turns where 您 becomes 你
    quote: bool = False  # the agent quotes the customer's words with 你
    nimen: bool = False  # a company customer; the agent says 你们公司
    gripe: bool = False  # the customer adds a gripe (with 你们) to the opening
    loud: bool = False  # the customer speaks quietly and the agent says 大点声，听不见
    pre: list[Step] = field(default_factory=list)  # before the customer's problem
    lookup: list[Step] | None = None  # instead of the hold section
    after_result: list[Step] = field(default_factory=list)
    followup: tuple[str, str, str] | None = None  # provocation, agent line, reaction
    before_close: list[Step] = field(default_factory=list)
    tail: list[Step] | None = None  # after the customer's answer: instead of everything else
    ask_name: bool | None = None
    ask_prefix: str = ""


def service_call(ctx: Ctx, o: Call) -> list[Step]:
    steps = call_steps(ctx, o)
    polish(ctx, steps)
    if o.you:
        use_ni(ctx.rng, steps, o.you)
    return steps


THANKS = ("谢谢", "感谢", "多谢")


def polish(ctx: Ctx, steps: list[Step]) -> None:
    """Once the customer has given their name the agent uses it (004 篇5 2: 王先生); when the
    customer thanks, the agent's next turn says 不客气 (篇5 31, 002 三).  Seed lines (`fixed`)
    are left alone, so the bad ones stay bad."""
    named = ctx.named
    for k, step in enumerate(steps):
        if step.kind != "c":
            continue
        nxt = next((x for x in steps[k + 1 :] if x.kind == "a"), None)
        if nxt is None or nxt.fixed:
            continue
        if named and step.text.endswith(f"姓{ctx.surname}。") and ctx.title not in nxt.text:
            nxt.text = f"{ctx.title}，{nxt.text}"
            named = False
        if any(w in step.text for w in THANKS) and "客气" not in nxt.text:
            nxt.text = "不客气。" if nxt.text in NO_CLOSING else "不客气，" + nxt.text


def call_steps(ctx: Ctx, o: Call) -> list[Step]:
    rng = ctx.rng
    topic = topic_invoice(ctx) if o.nimen else topic_for(ctx)
    steps: list[Step] = []
    if o.greet:
        steps.append(A(greeting(ctx)))
    else:
        steps.append(A(ctx.pick(NO_GREETING_PHONE if ctx.phone else NO_GREETING_CHAT)))
    steps += o.pre
    opening = topic.opening
    gripe = topic.gripe
    if o.quote:
        gripe = ctx.pick([topic.gripe, *GRIPES_NI])
    if o.quote or o.gripe:
        opening = opening.rstrip("。？！") + "，" + gripe + "！"
    if not ctx.phone and rng.random() < 0.3 and "，" in opening:
        first, rest = opening.split("，", 1)  # chat: the problem in two messages
        steps += [C(first), C(rest)]
    else:
        steps.append(C(opening))
    ask = topic.ask_nimen if o.nimen else topic.ask
    if o.quote:
        ask = f"您说“{gripe}”，我非常理解您的心情。" + ask
    ask = o.ask_prefix + ask
    steps.append(A(ask))
    if o.loud:
        steps += [
            C(topic.answer.replace("。", "……")[:12] + "……"),
            A(FORBIDDEN_002_LOUD, fixed=True),
            C(topic.answer),
        ]
    else:
        steps.append(C(topic.answer))
    ask_name = o.ask_name if o.ask_name is not None else rng.random() < 0.5
    if ask_name and o.tail is None:
        steps += [
            A("好的，请问您贵姓？"),
            C(ctx.pick(["我姓", "免贵姓", "姓"]) + ctx.surname + "。"),
        ]
        ctx.named = True
    if o.close == "transfer":  # handed over instead of answered
        line = f"您这个问题需要{topic.dept}的同事为您处理，我现在为您转接，转接过程中请不要挂机。"
        return [*steps, A(line + closing(ctx)), EV("transfer")]
    if o.tail is not None:
        return steps + o.tail
    if o.lookup is not None:
        steps += o.lookup
        lead = ""
    else:
        mode = o.hold
        if mode == "auto":
            if ctx.phone:
                mode = "short" if rng.random() < 0.4 else "none"
            else:
                mode = "chat" if rng.random() < 0.5 else "none"
        more, lead = hold_steps(ctx, topic, mode)
        steps += more
    result = topic.hedged if o.hedge else topic.result
    cpm = None
    if o.rate == "fast":
        cpm = rng.uniform(245, 290)
    elif o.rate == "slow":
        cpm = rng.uniform(70, 82)
    steps.append(A(lead + result, cpm=cpm))
    steps += o.after_result
    if o.followup is not None:
        provoke, line, reaction = o.followup
        steps += [C(provoke), A(line, fixed=True), C(reaction)]
        steps.append(A(ctx.pick(["您的问题我已经记录了。", "好的，已经给您备注了。"])))
    else:
        answer = topic.followup_a
        if o.nimen:
            answer += "发票开出后，请你们公司的财务留意一下邮箱。"
        steps += [C(topic.followup_q), A(answer)]
    thank_you = o.close == "good" and not o.before_close and rng.random() < 0.2
    steps.append(C(topic.wrap + ctx.pick(["谢谢你。", "谢谢啊。"]) if thank_you else topic.wrap))
    steps += o.before_close
    if o.close == "good":
        pre = ctx.pick(PRE_CLOSING).format(title=ctx.title)
        steps += [A(pre), C(ctx.pick(NOTHING_ELSE)), A(closing(ctx))]
    elif o.close == "none":
        steps.append(A(ctx.pick(NO_CLOSING)))
    elif o.close == "s34":
        steps.append(A("喂，没事了吧，您挂电话吧。", fixed=True))
    return steps


# ---- scenarios -------------------------------------------------------------------------------


def good(**kw: Any) -> Callable[[Ctx], list[Step]]:
    return lambda ctx: service_call(ctx, Call(**kw))


def s_silent(kind: str) -> Callable[[Ctx], list[Step]]:
    """004 篇5 3: the customer never speaks."""

    def build(ctx: Ctx) -> list[Step]:
        rng = ctx.rng
        five = lambda: rng.uniform(5.0, 6.0)  # noqa: E731
        first = A("您好！请问有什么可以帮助您？")
        if kind == "good":
            return [
                first,
                A("您好，请问有什么可以帮助您？", wait=five()),
                A(
                    "对不起，您的电话没有声音，请您换一部电话再次打来，好吗？再见！",
                    wait=five(),
                    fixed=True,
                ),
                EV("hangup", wait=five()),
            ]
        if kind == "rude":
            return [
                first,
                A("喂，说话呀！再不说话我就挂了啊！", wait=rng.uniform(3, 6), fixed=True),
                EV("hangup", wait=rng.uniform(1.0, 2.0)),
            ]
        return [first, EV("hangup", wait=rng.uniform(1.0, 2.5))]  # hangs up at once

    return build


def s05_quiet(kind: str) -> Callable[[Ctx], list[Step]]:
    """004 篇5 5: the customer's voice is too quiet."""

    def build(ctx: Ctx) -> list[Step]:
        rng = ctx.rng
        steps = [
            A(greeting(ctx)),
            C("喂……我想问……那个订单……"),
            A("对不起！请您大声一点，好吗？", fixed=True),
            C("就是……我的……退款……"),
        ]
        if kind == "good":
            steps += [
                A("对不起！您的电话声音太小，请您换一部电话打来，好吗？再见！", fixed=True),
                EV("hangup", wait=rng.uniform(5.0, 6.0)),
            ]
        else:
            steps.append(EV("hangup", wait=rng.uniform(0.5, 1.5)))
        return steps

    return build


def s11_repeat(kind: str) -> Callable[[Ctx], list[Step]]:
    """004 篇5 11: the agent did not catch what the customer said."""
    line = (
        "对不起，麻烦您将刚才反映的问题再复述一遍，好吗？"
        if kind == "good"
        else "喂，什么！你说什么？"
    )
    return lambda ctx: service_call(
        ctx, Call(pre=[C("喂，我那个……退款……还没……（杂音）"), A(line, fixed=True)])
    )


def s13_wrong_number(kind: str) -> Callable[[Ctx], list[Step]]:
    def build(ctx: Ctx) -> list[Step]:
        place = ctx.pick(["幸福里物业", "城东维修站", "王师傅家", "平安驾校"])
        steps = [A(greeting(ctx)), C(f"喂，是{place}吗？我家厨房水管漏水了，赶紧派个人来看看。")]
        if kind == "good":
            steps += [
                A("对不起，这里是江南云商客户服务中心，请您查证后再拨。", fixed=True),
                C("啊？不是啊，不好意思，打错了。"),
                A("没关系，感谢您的来电，再见！"),
            ]
        else:
            steps.append(A("喂，打错电话了！请看清楚后再拨。", fixed=True))
        return [*steps, EV("hangup")]

    return build


def s15_hard_to_reach(kind: str) -> Callable[[Ctx], list[Step]]:
    line = (
        "对不起，刚才因为线路忙，让您久等了！请问有什么可以帮助您？"
        if kind == "good"
        else "喂，我也没办法，刚才线路忙啊！"
    )
    return lambda ctx: service_call(
        ctx,
        Call(
            pre=[
                C(
                    ctx.pick(
                        [
                            "你们这电话也太难打了，我打了十几遍才接通！",
                            "怎么这么久才接？我都等了快十分钟了！",
                            "你们热线怎么这么难打通？一直占线。",
                        ]
                    )
                ),
                A(line, fixed=True),
            ]
        ),
    )


def s16_swearing(kind: str) -> Callable[[Ctx], list[Step]]:
    def build(ctx: Ctx) -> list[Step]:
        swear = ctx.pick(
            [
                "他妈的，你们这什么破平台！打了三次电话都没人管！",
                "你们这帮骗子！什么玩意儿，老子的钱就这么被你们吞了？",
                "妈的，气死我了，你们到底有没有人管事？",
            ]
        )
        if kind == "good":
            line = f"对不起，{ctx.miss}，请问有什么可以帮助您？"
            calm = "请您别着急，慢慢讲，我们会尽力帮您解决。"  # 002 三: 客户非常着急、态度恶劣时
        else:
            line, calm = "喂，嘴巴干净一点，这又不是我的错呀！", ""
        return service_call(ctx, Call(pre=[C(swear), A(line, fixed=True)], ask_prefix=calm))

    return build


def s17_slow(kind: str) -> Callable[[Ctx], list[Step]]:
    line = (
        "对不起，让您久等了，我将尽快帮您处理。" if kind == "good" else "喂，不好意思，我是新手啦！"
    )
    return lambda ctx: service_call(
        ctx,
        Call(
            lookup=[
                A("好的，我帮您查一下。"),
                C("怎么这么慢啊？查个东西要这么久。"),
                A(line, fixed=True),
            ],
        ),
    )


def s18_attitude(kind: str) -> Callable[[Ctx], list[Step]]:
    def build(ctx: Ctx) -> list[Step]:
        complaint = C("我上午打过一次电话，你们那个客服态度特别差，我话还没说完就把电话挂了！")
        if kind == "good":
            pre = [
                complaint,
                A(
                    "对不起，由于我们服务不周给您添麻烦了，请您原谅，您是否能将详细情况告诉我？",
                    fixed=True,
                ),
                C("就是上午十点多打的，我刚说了两句她就说听不清，然后就挂了。"),
                A(
                    "好的，我已经把您反映的情况详细记录下来了，会提交给组长处理。请问您今天来电还需要办理什么？"
                ),
            ]
        else:
            pre = [
                complaint,
                A("喂，刚才的电话不是我接的呀！", fixed=True),
                C("那你们总得有人负责吧！"),
                A("那您现在要办什么？"),
            ]
        return service_call(ctx, Call(pre=pre))

    return build


def s20_cannot_answer(kind: str) -> Callable[[Ctx], list[Step]]:
    def build(ctx: Ctx) -> list[Step]:
        hours = ctx.pick(["2", "24"])
        tail = [
            A("好的，我看到您的订单了。"),
            C("我要投诉，这已经是第二次出这种问题了，你们今天必须给我一个说法！"),
        ]
        if kind == "good":
            tail.append(
                A(
                    f"很抱歉，{ctx.title}，多谢您反映的意见，我们会尽快向上级部门反映，"
                    f"并在{hours}小时之内给您明确的答复，再见！"
                )
            )
        else:
            tail += [A("喂，我不清楚，您过两天再来电话吧。", fixed=True), C("……什么态度！")]
        if ctx.phone:
            tail.append(EV("hangup"))
        return service_call(ctx, Call(tail=tail, ask_name=False))

    return build


def s25_suggestion(kind: str) -> Callable[[Ctx], list[Step]]:
    line = (
        "谢谢您，您提出的宝贵建议，我们将及时反馈给公司相关负责人员，再次感谢您对我们工作的关心和支持。"
        if kind == "good"
        else "哦，这个我们也改不了。"
    )
    suggestion = C(
        "另外我提个建议，你们App里修改收货地址的入口藏得太深了，能不能直接放到订单页面上？"
    )
    return good(before_close=[suggestion, A(line, fixed=True)])


def s27_apology(kind: str) -> Callable[[Ctx], list[Step]]:
    sorry = C("不好意思啊，刚才我说话有点冲，您别往心里去。")
    after = [sorry, A("没关系，请不必介意。", fixed=True)] if kind == "good" else [sorry]
    return good(gripe=True, after_result=after)


def s28_nuisance(kind: str) -> Callable[[Ctx], list[Step]]:
    """004 篇5 28; 001: a nuisance call must not last 10 minutes."""
    bother = [
        "美女，你声音真好听，你是哪里人啊？",
        "别这么冷淡嘛，陪我聊会儿天，我一个人在家挺无聊的。",
        "你下班以后有空吗？我请你吃饭。",
        "我就想找个人说说话，我跟你讲，我年轻的时候在外面跑运输，那时候路可难走了，"
        "一趟下来要好几天，晚上就睡在车里，冬天冷得要命，夏天蚊子又多……",
        "你们公司是不是很多小姑娘啊？你们一个月挣多少钱？上班累不累？我跟你说，"
        "我侄女也想找个客服的工作，你帮我问问你们还招不招人……",
        "你先别挂，我还没说完呢。我跟你讲讲我们小区的事，楼下那家天天装修，吵得人睡不着觉，"
        "物业也不管，我打了好几次电话……",
    ]
    out = "对不起，您的要求不在我们的服务范围内，请您挂机。"

    def build(ctx: Ctx) -> list[Step]:
        rng = ctx.rng
        steps = [A(greeting(ctx)), C(bother[0])]
        if kind == "rude":
            return [*steps, A("有完没完啊？没事别瞎打！", fixed=True), EV("hangup")]
        if kind == "good":
            steps += [
                A(out, fixed=True),
                C(bother[1]),
                A(out.rstrip("。") + "，再见。", fixed=True),
            ]
            return [*steps, EV("hangup")]
        # too long: the agent keeps answering politely and the call runs past 10 minutes
        soft = [
            "这个不方便透露，请问您有购物方面的问题需要咨询吗？",
            "嗯，我在听，请问您有订单或者售后方面的问题吗？",
            "对不起，这个我们不方便回答。",
            "嗯，理解您的心情。",
            "嗯，是的。",
            "请问您今天来电是有订单方面的问题吗？",
        ]
        steps.append(A(out, fixed=True))
        filler = [
            "反正我也没事，就想跟你多聊两句，你们那边今天忙不忙？打电话的人多不多？",
            "我跟你说，我以前也在你们平台买过东西，那个电饭煲挺好用的，就是颜色不太好看，"
            "我老伴非说要白色的，结果买回来又嫌不耐脏……",
            *bother[3:],
            "你们这个工作是不是要一直坐着？我跟你讲，久坐对腰不好，我以前单位有个同事，"
            "天天坐办公室，后来腰间盘突出，走路都得扶着墙……",
            "我孙子明年要考大学了，你说学什么专业好？计算机是不是不好找工作了？"
            "我看新闻说现在大学生就业可难了……",
            "哎，我跟你说个事儿，我们楼下新开了一家面馆，味道还行，就是贵，"
            "一碗牛肉面要二十八，以前才十块钱……",
            "你别嫌我烦啊，我就是一个人在家闷得慌，儿子女儿都在外地，一年回来一趟，"
            "平时连个说话的人都没有……",
        ]
        rng.shuffle(filler)
        n = rng.randint(20, 23)  # enough turns to pass 10 minutes at these rates
        for i in range(n):
            steps += [C(filler[i % len(filler)], cpm=rng.uniform(110, 140)), A(rng.choice(soft))]
        steps.pop()
        steps += [A(out.rstrip("。") + "，再见。", fixed=True), EV("hangup")]
        return steps

    return build


def s30_out_of_scope(kind: str) -> Callable[[Ctx], list[Step]]:
    def build(ctx: Ctx) -> list[Step]:
        ask = ctx.pick(
            [
                "对了，我老公也在你们平台买东西，你能不能帮我查查他都买了些什么、寄到哪里了？",
                "还有，我在别家买的冰箱也坏了，你们的师傅能不能顺便一起修了？",
                "对了，能不能帮我把我给别人店铺写的差评删掉？",
            ]
        )
        if kind == "good":
            line = "很抱歉，这超出我们的服务范围，恐怕我不能帮助您。"
            rest = C("哦，那好吧。")
        else:
            line = ctx.pick(["不可以，完全不可以！", "喂，不可能的吧。"])
            rest = C("……问问都不行啊。")
        return service_call(ctx, Call(before_close=[C(ask), A(line, fixed=True), rest]))

    return build


def s31_thanks(kind: str) -> Callable[[Ctx], list[Step]]:
    def build(ctx: Ctx) -> list[Step]:
        thanks = C(ctx.pick(["太感谢您了，您帮了我大忙！", "谢谢你啊，你们服务真好！"]))
        if kind == "good":
            line = "请不必客气，这是我们应该做的，感谢您对我们工作的支持，随时欢迎您再来电。"
            if not ctx.phone:
                line = "不客气，这是我们应该做的，感谢您对我们工作的支持。"
        else:
            line = ctx.pick(["哈哈，没事儿没事儿，小意思啦！", "嗨，客气啥呀，应该的应该的。"])
        return service_call(ctx, Call(before_close=[thanks, A(line, fixed=True)]))

    return build


def s33_confirm(kind: str) -> Callable[[Ctx], list[Step]]:
    if kind == "good":
        after = [A("请问我刚才的解释您是否明白？", fixed=True), C("明白了。")]
    else:
        after = [A("喂，听懂了吧？", fixed=True), C("……嗯，听懂了。")]
    return good(after_result=after)


# ---- the scenario table ----------------------------------------------------------------------

# Generic rules `lint` checks, by this script's names:
#   greeting       no greeting (您好/早上好/下午好) in the first agent turn
#   closing        no closing (再见/感谢您的来电/欢迎再次拨打) in the last agent turn
#   you            你 in an agent turn, not inside “…” and not in 你们
#   hedge          一般是 / 应该是 in an agent turn
#   f000 / f002    a 忌用语 of 000 一 / a 服务忌语 of 002 五 in an agent turn
#   hold_ask       a hold not asked for (稍等片刻，好吗 and the customer's agreement)
#   hold_thanks    no 久等 in the first agent turn after a hold
#   hold_long      a hold over 2 minutes without 我可以等 / 我等着 when asked
#   hold_silence   more than 15 s between hold_start, check-ins (start) and hold_end
#   fast / slow    an agent turn of 30+ spoken characters above 200 / below 100 a minute
#   nuisance_long  a nuisance call (请您挂机) whose last event is after 10 minutes


@dataclass(frozen=True)
class Scenario:
    slug: str
    phone: int
    chat: int
    breaks: frozenset[str]
    what: str
    build: Callable[[Ctx], list[Step]]

    @property
    def good(self) -> bool:
        return self.slug.startswith("good") or self.slug.endswith("_good")


def forbidden(pool: list[tuple[str, str, str]], **kw: Any) -> Callable[[Ctx], list[Step]]:
    return lambda ctx: service_call(ctx, Call(followup=ctx.rng.choice(pool), **kw))


def forbidden_002_single(ctx: Ctx) -> list[Step]:
    if ctx.phone and ctx.rng.random() < 0.25:
        return service_call(ctx, Call(loud=True))
    return service_call(ctx, Call(followup=ctx.rng.choice(FORBIDDEN_002)))


BUILDERS: dict[str, Callable[[Ctx], list[Step]]] = {
    "good": good(),
    "good_hold": good(hold="short"),
    "good_long_hold": good(hold="long"),
    "good_hold_agreed": good(hold="agreed_long"),
    "good_mute": good(hold="mute"),
    "good_transfer": good(close="transfer"),
    "good_quote": good(quote=True),
    "good_nimen": good(nimen=True),
    "silent_call_good": s_silent("good"),
    "s05_quiet_good": s05_quiet("good"),
    "s11_repeat_good": s11_repeat("good"),
    "s13_wrong_number_good": s13_wrong_number("good"),
    "s15_hard_to_reach_good": s15_hard_to_reach("good"),
    "s16_swearing_good": s16_swearing("good"),
    "s17_slow_good": s17_slow("good"),
    "s18_attitude_good": s18_attitude("good"),
    "s20_cannot_answer_good": s20_cannot_answer("good"),
    "s25_suggestion_good": s25_suggestion("good"),
    "s27_apology_good": s27_apology("good"),
    "s28_nuisance_good": s28_nuisance("good"),
    "s30_out_of_scope_good": s30_out_of_scope("good"),
    "s31_thanks_good": s31_thanks("good"),
    "s33_confirm_good": s33_confirm("good"),
    "no_greeting": good(greet=False),
    "no_closing": good(close="none"),
    "no_greeting+no_closing": good(greet=False, close="none"),
    "forbidden_000": forbidden(FORBIDDEN_000),
    "forbidden_000+you_not_nin": forbidden(FORBIDDEN_000_NI),
    "forbidden_002": forbidden_002_single,
    "forbidden_002+you_not_nin": forbidden(FORBIDDEN_002_NI),
    "you_not_nin": good(you=1),
    "you_not_nin_twice": good(you=2),
    "hedge": good(hedge=True),
    "hedge+you_not_nin": good(hedge=True, you=1),
    "hold_not_asked": good(hold="not_asked"),
    "hold_no_thanks": good(hold="no_thanks"),
    "long_hold_no_agreement": good(hold="no_agreement_long"),
    "hold_silence": good(hold="silence"),
    "too_fast": good(rate="fast"),
    "too_slow": good(rate="slow"),
    "no_closing+too_fast": good(rate="fast", close="none"),
    "silent_call_bad_rude": s_silent("rude"),
    "silent_call_bad_hangup": s_silent("hangup"),
    "s05_quiet_bad": s05_quiet("bad"),
    "s11_repeat_bad": s11_repeat("bad"),
    "s13_wrong_number_bad": s13_wrong_number("bad"),
    "s15_hard_to_reach_bad": s15_hard_to_reach("bad"),
    "s16_swearing_bad": s16_swearing("bad"),
    "s17_slow_bad": s17_slow("bad"),
    "s18_attitude_bad": s18_attitude("bad"),
    "s20_cannot_answer_bad": s20_cannot_answer("bad"),
    "s25_suggestion_bad": s25_suggestion("bad"),
    "s27_apology_bad": s27_apology("bad"),
    "s28_nuisance_too_long": s28_nuisance("long"),
    "s28_nuisance_bad_rude": s28_nuisance("rude"),
    "s30_out_of_scope_bad": s30_out_of_scope("bad"),
    "s31_thanks_bad": s31_thanks("bad"),
    "s33_confirm_bad": s33_confirm("bad"),
    "s34_closing_bad": good(close="s34"),
}

# slug | phone calls | chats | generic rules broken (lint names) | what it shows
TABLE = """
good                      | 26 | 24 |                  | the standard; a hold under 15 s or none
good_hold                 | 12 |  0 |                  | a hold under 15 s, asked and thanked
good_long_hold            | 12 |  0 |                  | a 20-105 s hold with check-ins
good_hold_agreed          |  6 |  0 |                  | a hold over 2 min; 我可以等 / 我等着
good_mute                 |  3 |  0 |                  | mute/unmute, asked and thanked
good_transfer             |  3 |  0 |                  | transferred after a closing
good_quote                |  2 |  4 |                  | the agent quotes the customer: “你...”
good_nimen                |  3 |  2 |                  | the agent says 你们公司 to a company
silent_call_good          |  4 |  0 |                  | 篇5 3: greet, 5 s, again, 5 s, close, 5 s
s05_quiet_good            |  2 |  0 |                  | 篇5 5: 请您大声一点 ... 换一部电话打来
s11_repeat_good           |  2 |  0 |                  | 篇5 11: 麻烦您将刚才反映的问题再复述一遍
s13_wrong_number_good     |  3 |  0 |                  | 篇5 13: 请您查证后再拨
s15_hard_to_reach_good    |  3 |  0 |                  | 篇5 15: 因为线路忙，让您久等了
s16_swearing_good         |  2 |  1 |                  | 篇5 16: 对不起，先生/小姐，请问 ...
s17_slow_good             |  1 |  1 |                  | 篇5 17: 我将尽快帮您处理
s18_attitude_good         |  1 |  1 |                  | 篇5 18: 由于我们服务不周给您添麻烦了
s20_cannot_answer_good    |  1 |  1 |                  | 篇5 20: 在2/24小时之内给您明确的答复
s25_suggestion_good       |  2 |  1 |                  | 篇5 25: 谢谢您，您提出的宝贵建议 ...
s27_apology_good          |  2 |  1 |                  | 篇5 27: 没关系，请不必介意
s28_nuisance_good         |  3 |  0 |                  | 篇5 28: 请您挂机, in under a minute
s30_out_of_scope_good     |  2 |  1 |                  | 篇5 30: 这超出我们的服务范围
s31_thanks_good           |  2 |  1 |                  | 篇5 31: 不必客气 / 不客气
s33_confirm_good          |  1 |  1 |                  | 篇5 33: 请问我刚才的解释您是否明白
no_greeting               |  6 |  4 | greeting         | 喂，请讲。/ 客服中心，请讲。...
no_closing                |  6 |  4 | closing          | ends on 嗯，好的。/ 行，那就这样。...
no_greeting+no_closing    |  2 |  1 | greeting closing | both
forbidden_000             |  4 |  4 | f000             | 这个问题我不会处理 ...
forbidden_000+you_not_nin |  2 |  1 | f000 you         | 这个问题我们公司不能给你解决 ...
forbidden_002             |  6 |  4 | f002             | 不是我办的 / 不知道 / 不清楚 / 大点声 ...
forbidden_002+you_not_nin |  3 |  1 | f002 you         | 你怎么连这个也不懂 ...
you_not_nin               |  5 |  5 | you              | one agent turn says 你 for 您
you_not_nin_twice         |  0 |  2 | you              | two agent turns say 你 for 您
hedge                     |  4 |  4 | hedge            | 一般是 ... 应该是 ...
hedge+you_not_nin         |  1 |  1 | hedge you        | both
hold_not_asked            |  5 |  0 | hold_ask         | 我帮您查一下。then hold_start
hold_no_thanks            |  5 |  0 | hold_thanks      | no 让您久等了 after hold_end
long_hold_no_agreement    |  6 |  0 | hold_long        | 135-220 s after a mere 好的
hold_silence              |  6 |  0 | hold_silence     | 20-45 s of hold without a word
too_fast                  |  8 |  0 | fast             | the long answer at 245-290 a minute
too_slow                  |  3 |  0 | slow             | the long answer at 70-82 a minute
no_closing+too_fast       |  2 |  0 | closing fast     | both
silent_call_bad_rude      |  3 |  0 | closing          | 篇5 3: 喂，说话呀！再不说话我就挂了啊！
silent_call_bad_hangup    |  3 |  0 | closing          | 篇5 3: hangs up 1-2.5 s after one greeting
s05_quiet_bad             |  2 |  0 | closing          | 篇5 5: hangs up without a word
s11_repeat_bad            |  2 |  0 | you              | 篇5 11: 喂，什么！你说什么？
s13_wrong_number_bad      |  2 |  0 | closing          | 篇5 13: 喂，打错电话了！请看清楚后再拨。
s15_hard_to_reach_bad     |  2 |  0 |                  | 篇5 15: 喂，我也没办法，刚才线路忙啊！
s16_swearing_bad          |  2 |  1 |                  | 篇5 16: 喂，嘴巴干净一点，这又不是我的错呀
s17_slow_bad              |  1 |  1 |                  | 篇5 17: 喂，不好意思，我是新手啦！
s18_attitude_bad          |  1 |  1 |                  | 篇5 18: 喂，刚才的电话不是我接的呀！
s20_cannot_answer_bad     |  1 |  1 | closing f002     | 篇5 20: 喂，我不清楚，您过两天再来电话吧。
s25_suggestion_bad        |  1 |  2 |                  | 篇5 25: 哦，这个我们也改不了。(no thanks)
s27_apology_bad           |  1 |  1 |                  | 篇5 27: no reply to the customer's apology
s28_nuisance_too_long     |  2 |  0 | nuisance_long    | 001: a nuisance call over 10 minutes
s28_nuisance_bad_rude     |  2 |  0 | closing          | 篇5 28: 有完没完啊？没事别瞎打！, hangs up
s30_out_of_scope_bad      |  1 |  2 |                  | 篇5 30: 不可以，完全不可以！/ 不可能的吧
s31_thanks_bad            |  1 |  2 |                  | 篇5 31: 哈哈，没事儿没事儿，小意思啦！...
s33_confirm_bad           |  1 |  1 |                  | 篇5 33: 喂，听懂了吧？
s34_closing_bad           |  1 |  1 | closing          | 篇5 34: 喂，没事了吧，您挂电话吧。
"""


def scenarios() -> list[Scenario]:
    out = []
    for row in TABLE.strip().splitlines():
        slug, phone, chat, breaks, what = (cell.strip() for cell in row.split("|"))
        out.append(
            Scenario(slug, int(phone), int(chat), frozenset(breaks.split()), what, BUILDERS[slug])
        )
    assert [sc.slug for sc in out] == list(BUILDERS), "TABLE and BUILDERS differ"
    return out


SCENARIOS = scenarios()

# ---- rendering -------------------------------------------------------------------------------

PUNCT = re.compile(r"[\s，。？！、；：“”‘’（）《》…—,.?!;:()\"'\-~]")


def spoken(text: str) -> int:
    """Characters that are spoken (punctuation and spaces do not count)."""
    return len(PUNCT.sub("", text))


def r1(x: float) -> float:
    return round(x + 1e-9, 1)


class Timeline:
    def __init__(self, rng: Random) -> None:
        self.rng = rng
        self.t = 0.0
        self.turns: list[dict[str, Any]] = []
        self.agent_cpm = rng.uniform(135, 165)
        self.customer_cpm = rng.uniform(150, 230)

    def say(self, speaker: str, text: str, cpm: float | None, wait: float | None) -> None:
        rng = self.rng
        if not self.turns:
            start = r1(rng.uniform(0.0, 0.6)) if speaker == "agent" else r1(rng.uniform(0.5, 2.0))
        else:
            start = r1(self.t + (wait if wait is not None else rng.uniform(0.3, 2.0)))
        if cpm is None:
            base = self.agent_cpm if speaker == "agent" else self.customer_cpm
            cpm = base * rng.uniform(0.95, 1.05)
        pauses = len(text) - spoken(text)  # a short breath at each punctuation mark
        length = max(1.0, spoken(text) / cpm * 60 + 0.15 * pauses)
        end = r1(start + length)
        self.turns.append({"speaker": speaker, "text": text, "start": start, "end": end})
        self.t = end

    def event(self, name: str, wait: float | None) -> None:
        start = r1(self.t + (wait if wait is not None else self.rng.uniform(0.3, 1.5)))
        self.turns.append({"speaker": "system", "event": name, "start": start})
        self.t = start

    def hold(self, h: Hold) -> None:
        """hold_start, check-ins, hold_end.  Regular check-ins start at most 14 s after the
        previous one (or after hold_start), and hold_end comes at most 14 s after the last."""
        rng = self.rng
        self.event(h.events[0], rng.uniform(0.5, 1.5))
        mark = self.t  # start of the last check-in, or of the hold
        target = mark + h.seconds
        says = list(h.say)
        rng.shuffle(says)
        k = 0
        if h.checkins in ("regular", "gap"):
            at = mark + (h.gap if h.checkins == "gap" else rng.uniform(8.0, 13.0))
            while target - mark > 14.0:
                self.say("agent", says[k % len(says)], None, at - self.t)
                mark = self.turns[-1]["start"]
                at = min(self.t + rng.uniform(4.0, 8.0), mark + rng.uniform(13.0, 14.0))
                k += 1
        end = max(target, self.t + rng.uniform(1.0, 3.0))
        self.event(h.events[1], end - self.t)

    def render(self, steps: list[Step]) -> list[dict[str, Any]]:
        for s in steps:
            if s.kind in ("a", "c"):
                self.say("agent" if s.kind == "a" else "customer", s.text, s.cpm, s.wait)
            elif s.kind == "ev":
                self.event(s.event, s.wait)
            elif s.kind == "hold":
                assert s.hold is not None
                self.hold(s.hold)
        return self.turns


def render_chat(steps: list[Step]) -> list[dict[str, Any]]:
    out = []
    for s in steps:
        if s.kind in ("a", "c"):
            out.append({"speaker": "agent" if s.kind == "a" else "customer", "text": s.text})
    return out


# ---- 您 -> 你, Traditional, roughening -------------------------------------------------------


def outside_quotes(text: str, ch: str) -> list[int]:
    """Positions of `ch` in `text` that are not inside “…”."""
    depth, out = 0, []
    for i, c in enumerate(text):
        if c == "“":
            depth += 1
        elif c == "”":
            depth = max(0, depth - 1)
        elif c == ch and depth == 0:
            out.append(i)
    return out


# Turns with these set phrases keep their 您, so that 你 breaks only the 您 rule.
KEEP_NIN = ("久等", "稍等片刻", "帮助您", "需要帮助", "给您添麻烦")


def use_ni(rng: Random, steps: list[Step], n: int) -> None:
    """Turn the first 您 of `n` middle agent turns into 你 (never the greeting or closing)."""
    agent = [i for i, s in enumerate(steps) if s.kind == "a"]
    middle = [
        i
        for i in agent[1:-1]
        if not steps[i].fixed
        and outside_quotes(steps[i].text, "您")
        and not any(p in steps[i].text for p in KEEP_NIN)
    ]
    for i in sorted(rng.sample(middle, n)):
        pos = outside_quotes(steps[i].text, "您")[0]
        text = steps[i].text
        steps[i].text = text[:pos] + "你" + text[pos + 1 :]


HALF = {"，": ",", "？": "?", "！": "!", "：": ":"}


def roughen(rng: Random, turns: list[dict[str, Any]]) -> None:
    """Some full-width punctuation half-width; a space in one or two turns."""
    said = [t for t in turns if "text" in t]
    p = rng.uniform(0.3, 0.7)
    for t in said:
        t["text"] = "".join(HALF[c] if c in HALF and rng.random() < p else c for c in t["text"])
    longer = [t for t in said if len(t["text"]) >= 8]
    for t in rng.sample(longer, min(len(longer), rng.randint(1, 2))):
        text = t["text"]
        spots = [
            i
            for i in range(1, len(text))
            if "\u4e00" <= text[i - 1] <= "\u9fff"
            and "\u4e00" <= text[i] <= "\u9fff"
            and "你" not in text[i - 1 : i + 1]
            and "妳" not in text[i - 1 : i + 1]
        ]
        if spots:
            i = rng.choice(spots)
            t["text"] = text[:i] + " " + text[i:]


# ---- lint: does a transcript break the rules its scenario says? --------------------------------

GREET = ("您好", "早上好", "下午好")
CLOSE = ("再见", "感谢您的来电", "欢迎再次拨打")
F000 = [
    "这个问题我不会处理",
    "这个问题我们公司不能给你解决",
    "这个问题我们可能要过一段时间才能给你解决",
    "这个问题这么简单您自己不会解决吗",
    "你是不是干.{0,8}的",
    "我现在很忙您下次再打电话好吗",
]
F002 = [
    "你不是说.{0,8}吗",
    "不是告诉你了怎么还不明白",
    "大点声听不见",
    "不是我办的",
    "不知道",
    "不清楚",
    "你到.{0,8}部门问问吧",
    "你怎么连这个也不懂",
    "这是规定我有什么办法",
]


def lint(turns: list[dict[str, Any]]) -> set[str]:
    found: set[str] = set()
    agent = [t for t in turns if t["speaker"] == "agent"]
    if not any(g in agent[0]["text"] for g in GREET):
        found.add("greeting")
    if not any(c in agent[-1]["text"] for c in CLOSE):
        found.add("closing")
    for t in agent:
        text = t["text"]
        bare = PUNCT.sub("", text)
        if any(text[i + 1 : i + 2] != "们" for i in outside_quotes(text, "你")):
            found.add("you")
        if "一般是" in text or "应该是" in text:
            found.add("hedge")
        if any(re.search(p, bare) for p in F000):
            found.add("f000")
        if any(re.search(p, bare) for p in F002):
            found.add("f002")
        if "start" in t and spoken(text) >= 30:
            rate_spoken = spoken(text) / (t["end"] - t["start"]) * 60
            rate_all = len(text) / (t["end"] - t["start"]) * 60
            if rate_spoken > 200:
                found.add("fast")
            elif rate_all > 200:
                found.add("fast?")  # would be fast if punctuation counted: never wanted
            if rate_all < 100:
                found.add("slow")
            elif rate_spoken < 100:
                found.add("slow?")
    for i, t in enumerate(turns):
        if t.get("event") not in ("hold_start", "mute"):
            continue
        before = [u for u in turns[:i] if "text" in u]
        asked = any(u["speaker"] == "agent" and "稍等片刻，好吗" in u["text"] for u in before[-2:])
        if not (asked and before[-1]["speaker"] == "customer"):
            found.add("hold_ask")
        j = next(
            k for k in range(i + 1, len(turns)) if turns[k].get("event") in ("hold_end", "unmute")
        )
        after = next(u for u in turns[j + 1 :] if u["speaker"] == "agent")
        if "久等" not in after["text"]:
            found.add("hold_thanks")
        agreed = any(w in before[-1]["text"] for w in ("我可以等", "我等着"))
        if turns[j]["start"] - t["start"] > 120 and not agreed:
            found.add("hold_long")
        marks = [t["start"]] + [u["start"] for u in turns[i + 1 : j]] + [turns[j]["start"]]
        if any(b - a > 15 for a, b in pairwise(marks)):
            found.add("hold_silence")
    nuisance = any("请您挂机" in t["text"] for t in agent)
    if nuisance and turns[-1].get("start", 0) > 600:
        found.add("nuisance_long")
    return found


# ---- malformed lines -------------------------------------------------------------------------


def malformed(first_id: int, started: datetime) -> list[tuple[str, str]]:
    """(line, why) for the 6 deliberately malformed lines at the end of the file."""
    at = started.isoformat()

    def tid(k: int) -> str:
        return f"T-{first_id + k:04d}"

    def dump(obj: dict[str, Any]) -> str:
        return json.dumps(obj, ensure_ascii=False)

    hello = "您好，欢迎致电江南云商客户服务热线，请问有什么可以帮助您？"
    whole = dump(
        {
            "id": tid(0),
            "channel": "phone",
            "started_at": at,
            "agent": "A-05",
            "turns": [{"speaker": "agent", "text": hello, "start": 0.0, "end": 4.6}],
        }
    )
    return [
        (whole[: whole.index(hello) + 9], "not JSON: the line is cut off inside a string"),
        (
            dump(
                {
                    "id": tid(1),
                    "channel": "chat",
                    "started_at": at,
                    "agent": "A-11",
                    "language": "zh-Hans",
                    "scenario": "malformed_no_turns",
                }
            ),
            "no `turns`",
        ),
        (
            dump(
                {
                    "id": tid(2),
                    "channel": "chat",
                    "started_at": at,
                    "agent": "A-08",
                    "scenario": "malformed_speaker_bot",
                    "turns": [
                        {"speaker": "bot", "text": "您好，我是智能助手小云，请问有什么可以帮您？"},
                        {"speaker": "customer", "text": "转人工。"},
                        {
                            "speaker": "agent",
                            "text": "您好，很高兴为您服务，请问有什么可以帮助您？",
                        },
                    ],
                }
            ),
            "turns[0] has `speaker` `bot` (not agent, customer or system)",
        ),
        (
            dump(
                {
                    "id": tid(3),
                    "channel": "phone",
                    "started_at": at,
                    "agent": "A-14",
                    "scenario": "malformed_agent_no_text",
                    "turns": [
                        {"speaker": "agent", "text": hello, "start": 0.0, "end": 4.4},
                        {
                            "speaker": "customer",
                            "text": "我的退款还没到账。",
                            "start": 5.1,
                            "end": 7.0,
                        },
                        {"speaker": "agent", "start": 7.8, "end": 11.5},
                    ],
                }
            ),
            "turns[2] is an agent turn without `text`",
        ),
        (
            dump(
                {
                    "id": tid(4),
                    "channel": "phone",
                    "started_at": at,
                    "agent": "A-02",
                    "scenario": "malformed_unknown_event",
                    "turns": [
                        {"speaker": "agent", "text": hello, "start": 0.0, "end": 4.5},
                        {
                            "speaker": "customer",
                            "text": "我想查一下物流。",
                            "start": 5.2,
                            "end": 6.8,
                        },
                        {
                            "speaker": "agent",
                            "text": "我帮您查一下，请您稍等片刻，好吗？",
                            "start": 7.5,
                            "end": 10.9,
                        },
                        {"speaker": "customer", "text": "好的。", "start": 11.4, "end": 12.2},
                        {"speaker": "system", "event": "hold", "start": 13.0},
                    ],
                }
            ),
            "turns[4] is a system turn with the unknown event `hold` (not `hold_start`)",
        ),
        (
            dump(
                {
                    "id": tid(5),
                    "channel": "phone",
                    "started_at": at,
                    "agent": "A-19",
                    "scenario": "malformed_negative_start",
                    "turns": [
                        {"speaker": "customer", "text": "喂？喂？", "start": -0.4, "end": 1.1},
                        {"speaker": "agent", "text": hello, "start": 1.5, "end": 6.0},
                    ],
                }
            ),
            "turns[0] has a negative `start` (-0.4)",
        ),
    ]


# ---- main ------------------------------------------------------------------------------------


def start_times(rng: Random, n: int, chat: bool) -> list[datetime]:
    days = (LAST_DAY - FIRST_DAY).days + 1
    out = []
    for _ in range(n):
        day = FIRST_DAY + timedelta(days=rng.randrange(days))
        hour = rng.choices(range(8, 23), weights=[3, 6, 8, 8, 6, 5, 7, 8, 7, 6, 5, 5, 4, 3, 2])[0]
        if chat and rng.random() < 0.1:
            hour = rng.choice([7, 23])
        minute, second = rng.randrange(60), rng.randrange(60)
        out.append(datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=SHANGHAI))
    return out


def main() -> None:
    rng = Random(SEED)
    plans: list[tuple[Scenario, str, datetime, bool]] = []  # scenario, channel, start, Hant
    for sc in SCENARIOS:
        n = sc.phone + sc.chat
        n_hant = int(n * HANT_SHARE + rng.random())  # about 30% of each scenario
        hant = set(rng.sample(range(n), n_hant))
        times = start_times(rng, sc.phone, False) + start_times(rng, sc.chat, True)
        for k in range(n):
            channel = "phone" if k < sc.phone else "chat"
            plans.append((sc, channel, times[k], k in hant))
    plans.sort(key=lambda p: p[2])

    lines: list[str] = []
    counts: dict[str, Counter[str]] = {sc.slug: Counter() for sc in SCENARIOS}
    problems: list[str] = []
    for k, (sc, channel, started, hant) in enumerate(plans, 1):
        agent = rng.choice(AGENTS)
        ctx = Ctx(rng, channel, started, agent, rng.choice(SURNAMES), rng.random() < 0.5)
        steps = sc.build(ctx)
        turns = Timeline(rng).render(steps) if channel == "phone" else render_chat(steps)
        last_turn = turns[-1]
        ended = last_turn.get("event") in ("hangup", "transfer")
        if channel == "phone" and not ended and rng.random() < 0.85:
            at = last_turn.get("end", last_turn["start"]) + rng.uniform(0.5, 2.5)
            turns.append({"speaker": "system", "event": "hangup", "start": r1(at)})
        found = lint(turns)  # "fast?"/"slow?" (a rate near a limit) are never meant
        if found != set(sc.breaks):
            problems.append(
                f"T-{k:04d} {sc.slug}: breaks {sorted(found)}, meant {sorted(sc.breaks)}"
            )
        if hant:
            for t in turns:
                if "text" in t:
                    t["text"] = S2TW.convert(t["text"])
        if rng.random() < ROUGH_SHARE:
            roughen(rng, turns)
        obj: dict[str, Any] = {
            "id": f"T-{k:04d}",
            "channel": channel,
            "started_at": started.isoformat(),
            "agent": agent,
        }
        if hant:
            obj["language"] = "zh-Hant-TW"
        elif rng.random() < 0.75:
            obj["language"] = "zh-Hans"
        obj["scenario"] = sc.slug
        obj["turns"] = turns
        lines.append(json.dumps(obj, ensure_ascii=False))
        counts[sc.slug][channel] += 1
        counts[sc.slug]["hant"] += hant

    if problems:
        raise SystemExit("lint disagrees with the scenario table:\n" + "\n".join(problems))

    last = plans[-1][2] + timedelta(minutes=7)
    bad = malformed(len(lines) + 1, last)
    first_bad = len(lines) + 1
    lines += [line for line, _ in bad]
    OUT.write_text("\n".join(lines) + "\n", encoding="utf-8")

    print(
        f"wrote {OUT.relative_to(OUT_DIR.parent)}: "
        f"{len(plans)} transcripts + {len(bad)} malformed lines"
    )
    print()
    print("| scenario | phone | chat | zh-Hant-TW | breaks (lint names) | what it shows |")
    print("|---|---:|---:|---:|---|---|")
    total: Counter[str] = Counter()
    for sc in SCENARIOS:
        c = counts[sc.slug]
        total.update(c)
        if sc.good:
            total["good"] += c["phone"] + c["chat"]
        breaks = ", ".join(sorted(sc.breaks)) or "-"
        print(f"| `{sc.slug}` | {c['phone']} | {c['chat']} | {c['hant']} | {breaks} | {sc.what} |")
    n = total["phone"] + total["chat"]
    print(
        f"| **total** ({total['good']} good, {n - total['good']} bad) | {total['phone']} | "
        f"{total['chat']} | {total['hant']} | | |"
    )
    print()
    print("| line | id | why it is malformed |")
    print("|---|---|---|")
    for i, (_, why) in enumerate(bad):
        print(f"| {first_bad + i} | T-{first_bad + i:04d} | {why} |")


if __name__ == "__main__":
    main()

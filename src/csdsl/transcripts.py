"""Transcripts: reading calls and chats in the IO.md shape, and importing subtitles.

In: `.jsonl` / `.json` files of transcripts (IO.md "Transcripts"), or WebVTT (`<v Speaker>`) and
SRT files with speaker labels plus a label-to-role map.  Out: `Transcript` values with their
turns; a transcript that does not fit is a `RowError` with its line number and reason, and the
others are still read (JSON is read as strictly as records are: see `csdsl.records`; a `.json`
file may also hold one transcript object).  Consecutive imported segments of one speaker merge
into one turn.  The optional vendor signals (a turn's `confidence`, `sentiment`, `emotion`,
`silence_before`, `speech_rate`; a transcript's `signals`) are read too, and one of the wrong
kind is a `T007` row error naming its JSON path.  A subtitle file that is not what it says (a
`.vtt` without its `WEBVTT` line, no cue at all, a cue that ends before it starts) is an
`InputError` naming the line.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, NamedTuple

import attrs

from csdsl import ir, values
from csdsl.records import (
    JSON_DECODER,
    InputError,
    JsonProblem,
    RecordReader,
    Row,
    RowError,
    decode_problem,
    refuse_device,
    show_raw,
    unreadable,
)

SPEAKERS = ("agent", "customer", "system")
EVENTS = ("hold_start", "hold_end", "transfer", "mute", "unmute", "hangup")
DIRECTIONS = ("inbound", "outbound")  # who placed the call: the customer, or the centre (回访)
SENTIMENTS = ("positive", "negative", "neutral", "mixed")  # a turn's `sentiment` (ASR signals)
ROLES = ("agent", "customer")  # who can interrupt (`signals.interruptions`)


class Turn(NamedTuple):
    """One turn of a transcript.  A named tuple, read by its fields' names: a file holds
    thousands of turns, and a tuple is built several times faster than an attrs class."""

    index: int  # type: ignore[assignment]  # position in the transcript, from 0 (not tuple.index)
    speaker: str  # agent | customer | system
    text: str | None = None  # what was said (agent and customer turns)
    event: str | None = None  # what happened (system turns)
    start: float | None = None  # seconds from the start of the contact
    end: float | None = None
    # what the speech-recognition vendor measured (None: not given; never guessed)
    confidence: float | None = None  # 0..1: how sure the recogniser is of the text
    sentiment: str | None = None  # SENTIMENTS
    emotion: float | None = None  # Alibaba `EmotionValue`: emotional energy 1..10, raw
    silence_before: float | None = None  # seconds of silence before the turn
    speech_rate: float | None = None  # characters (words) a minute, as the vendor counts

    @property
    def times(self) -> tuple[float, float] | None:
        """(start, end) when the turn has both."""
        if self.start is None or self.end is None:
            return None
        return self.start, self.end


@attrs.frozen
class Interruptions:
    """How often one role talked over the other, as the vendor counted it."""

    count: int
    seconds: float | None = None  # their total length, when given


@attrs.frozen
class Signals:
    """What the vendor measured over the whole call (IO.md `signals`); a part that is None
    was not given, and the rules that need it say "not checkable"."""

    non_talk_seconds: float | None = None  # no one speaking (Amazon `NonTalkTime`)
    non_talk: tuple[tuple[float, float], ...] = ()  # its instances: (start, end) in seconds
    interruptions: tuple[tuple[str, Interruptions], ...] | None = None  # by the interrupter
    silence_seconds: float | None = None  # Alibaba: the sum of the sentences' silences

    def interruptions_by(self, role: str) -> Interruptions | None:
        """The interruptions `role` made: none counted is 0, no count given at all is None."""
        if self.interruptions is None:
            return None
        return dict(self.interruptions).get(role, Interruptions(0, 0.0))


@attrs.frozen
class Transcript:
    id: Any
    turns: tuple[Turn, ...]
    channel: str | None = None
    started_at: dt.datetime | None = None
    agent: str | None = None
    language: str | None = None
    direction: str = "inbound"  # IO.md `direction`: inbound (the customer called) or outbound
    signals: Signals | None = None  # the vendor's whole-call signals (IO.md `signals`)
    team: str | None = None  # the agent's team, when the export names it (findings carry it)

    @property
    def timed(self) -> bool:
        """True when every turn has a start time (timing rules can be checked)."""
        return all(t.start is not None for t in self.turns)


def _seconds(v: Any, what: str) -> float | None:
    if v is None:
        return None
    try:
        seconds = float(v) if isinstance(v, int | float) and not isinstance(v, bool) else -1.0
    except OverflowError:  # an integer beyond any float
        seconds = math.inf
    if not math.isfinite(seconds) or seconds < 0:
        raise RowError(
            "T004", f"`{what}` must be a number of seconds (0 or more), got {show_raw(v)}", what
        )
    return seconds


def transcript_from(obj: Any, tz: dt.tzinfo) -> Transcript:
    """One transcript in the IO.md shape; raises `RowError` when it does not fit."""
    if not isinstance(obj, Mapping):
        raise RowError("R002", "expected a transcript object with `id` and `turns`")
    tid = obj.get("id")
    if tid is None or (isinstance(tid, str) and not tid.strip()):
        raise RowError("R008", "the transcript has no `id`", "id")
    if isinstance(tid, bool) or not isinstance(tid, str | int | float):
        raise RowError("R004", f"`id` must be text or a number, got {show_raw(tid)}", "id")
    raw_turns = obj.get("turns")
    if not isinstance(raw_turns, list):
        raise RowError("T001", "`turns` must be a list of turns", "turns")
    turns: list[Turn] = []
    for i, t in enumerate(raw_turns):  # the common case first, cheaply; the messages as before
        if type(t) is not dict and not isinstance(t, Mapping):
            raise RowError("T001", f"turns[{i}] is not an object", "turns")
        get = t.get
        speaker = get("speaker")
        if speaker == "agent" or speaker == "customer":
            text, event = get("text"), None
            if not isinstance(text, str):
                raise RowError("T003", f"turns[{i}]: an {speaker} turn needs its `text`", "text")
        elif speaker == "system":
            text, event = None, get("event")
            if event not in EVENTS:
                raise RowError(
                    "T003",
                    f"turns[{i}]: a system turn needs an `event`: " + ", ".join(EVENTS),
                    "event",
                )
        else:
            raise RowError(
                "T002",
                f"turns[{i}]: `speaker` must be agent, customer or system, got {show_raw(speaker)}",
                "speaker",
            )
        start, end = get("start"), get("end")
        if start is not None and (type(start) is not float or not 0.0 <= start < math.inf):
            start = _seconds(start, "start")
        if end is not None and (type(end) is not float or not 0.0 <= end < math.inf):
            end = _seconds(end, "end")
        if start is not None and end is not None and end < start:
            raise RowError("T004", f"turns[{i}]: `end` is before `start`", "end")
        if _TURN_SIGNALS.isdisjoint(t):  # most turns carry no signal
            fields = (i, speaker, text, event, start, end, *_NO_SIGNALS)
        else:
            fields = (i, speaker, text, event, start, end, *_turn_signals(t, f"turns[{i}]"))
        turns.append(_new_turn(Turn, fields))
    started = obj.get("started_at")
    started_at = None
    if started is not None:
        if not isinstance(started, str):
            raise RowError(
                "R005",
                f"`started_at`: expected an ISO 8601 datetime, got {show_raw(started)}",
                "started_at",
            )
        try:
            started_at = values.parse_datetime(started)
        except ValueError as exc:
            raise RowError("R005", f"`started_at`: {exc}", "started_at") from None
        try:  # an instant with a fixed offset; a naive time is on the policy zone's clock
            started_at = values.instant(started_at, tz)
        except ValueError as exc:
            raise RowError("R005", f"`started_at`: {exc}", "started_at") from None

    def text_or_none(key: str) -> str | None:
        v = obj.get(key)
        return v if isinstance(v, str) else None

    direction = obj.get("direction")
    if direction is None:
        direction = "inbound"
    elif direction not in DIRECTIONS:
        raise RowError(
            "T005",
            f"`direction` must be inbound or outbound, got {show_raw(direction)}",
            "direction",
        )

    return Transcript(
        tid,
        tuple(turns),
        text_or_none("channel"),
        started_at,
        text_or_none("agent"),
        text_or_none("language"),
        direction,
        _signals(obj.get("signals")),
        team=text_or_none("team"),
    )


# ---- the vendors' signals (optional; a value of the wrong kind is a T007 naming its path) ---


def _bad_signal(path: str, expected: str, value: Any) -> RowError:
    return RowError("T007", f"`{path}` must be {expected}, got {show_raw(value)}", path)


def _signal_number(value: Any, path: str, expected: str, high: float = math.inf) -> float | None:
    if value is None:
        return None
    number = -1.0
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            number = float(value)
        except OverflowError:
            number = math.inf
    if not (math.isfinite(number) and 0 <= number <= high):
        raise _bad_signal(path, expected, value)
    return number


_SIGNAL_FIELDS = Turn._fields[Turn._fields.index("confidence") :]  # `Turn`'s last fields
_TURN_SIGNALS = frozenset(_SIGNAL_FIELDS)
_NO_SIGNALS = (None,) * len(_SIGNAL_FIELDS)
_new_turn = tuple.__new__  # a `Turn` of all its fields, in order (without keyword handling)


def _turn_signals(t: Mapping[str, Any], where: str) -> tuple[Any, ...]:
    """A turn's signals, in the order of `Turn`'s fields (`_SIGNAL_FIELDS`)."""
    sentiment = t.get("sentiment")
    if sentiment is not None and sentiment not in SENTIMENTS:
        raise _bad_signal(f"{where}.sentiment", "positive, negative, neutral or mixed", sentiment)
    return (
        _signal_number(t.get("confidence"), f"{where}.confidence", "a number from 0 to 1", 1.0),
        sentiment,
        _signal_number(t.get("emotion"), f"{where}.emotion", "a number (0 or more)"),
        _signal_number(
            t.get("silence_before"), f"{where}.silence_before", "a number of seconds (0 or more)"
        ),
        _signal_number(
            t.get("speech_rate"), f"{where}.speech_rate", "a number a minute (0 or more)"
        ),
    )


def _object(value: Any, path: str) -> Mapping[str, Any] | None:
    if value is not None and not isinstance(value, Mapping):
        raise _bad_signal(path, "an object", value)
    return value


def _signals(raw: Any) -> Signals | None:
    """IO.md `signals`: `non_talk_time` {`total`, `instances` [{`start`, `end`}]},
    `interruptions` {ROLE: {`count`, `total`}}, `silence_total` (all times in seconds)."""
    obj = _object(raw, "signals")
    if obj is None:
        return None
    seconds = "a number of seconds (0 or more)"
    non_talk = _object(obj.get("non_talk_time"), "signals.non_talk_time") or {}
    total = _signal_number(non_talk.get("total"), "signals.non_talk_time.total", seconds)
    instances = non_talk.get("instances", [])
    if not isinstance(instances, list):
        raise _bad_signal("signals.non_talk_time.instances", "a list", instances)
    spans = []
    for k, inst in enumerate(instances):
        where = f"signals.non_talk_time.instances[{k}]"
        inst = _object(inst, where) or {}
        a = _signal_number(inst.get("start"), f"{where}.start", seconds)
        b = _signal_number(inst.get("end"), f"{where}.end", seconds)
        if a is None or b is None or b < a:
            raise _bad_signal(where, "{start, end} with the end not before the start", inst)
        spans.append((a, b))
    by_role = _object(obj.get("interruptions"), "signals.interruptions")
    interruptions = None
    if by_role is not None:
        counted = []
        for role, value in by_role.items():
            where = f"signals.interruptions.{role}"
            if role not in ROLES:
                raise _bad_signal("signals.interruptions", "keyed by agent or customer", role)
            value = _object(value, where) or {}
            count = value.get("count")
            if isinstance(count, bool) or not isinstance(count, int) or count < 0:
                raise _bad_signal(f"{where}.count", "a whole number (0 or more)", count)
            counted.append(
                (
                    role,
                    Interruptions(
                        count, _signal_number(value.get("total"), f"{where}.total", seconds)
                    ),
                )
            )
        interruptions = tuple(counted)
    return Signals(
        total,
        tuple(spans),
        interruptions,
        _signal_number(obj.get("silence_total"), "signals.silence_total", seconds),
    )


class TranscriptReader(RecordReader):
    """Reads `.jsonl` / `.json` transcript files row by row (bad ones are reported, not fatal)."""

    def __init__(self, tz: dt.tzinfo) -> None:
        super().__init__(ir.Record("Transcript", ()), tz)

    def coerce(self, obj: Any, text: bool = False) -> tuple[Any, dict[str, Any]]:
        t = transcript_from(obj, self.tz)
        return t.id, {"transcript": t}

    def read(self, path: str) -> Iterator[Row]:
        suffix = Path(path).suffix.lower()
        if suffix in (".vtt", ".srt"):
            raise InputError(
                f"{path}: subtitles hold one transcript; import them with "
                "`import_subtitles` and a speaker-to-role map"
            )
        if suffix == ".csv":
            raise InputError(
                f"{path}: transcripts are read from .jsonl or .json (a turn list "
                "does not fit in CSV)"
            )
        if suffix == ".json":
            return self._json_file(path)
        return super().read(path)

    def _json_file(self, path: str) -> Iterator[Row]:
        """A `.json` file: an array of transcripts, or one transcript object (one row at the
        object's line, and a bad row for anything after it)."""
        text = _json_text(path)
        start = len(text) - len(text.lstrip(" \t\r\n"))
        if not text.startswith("{", start):
            yield from self._json_array(text, path)
            return
        line = 1 + text.count("\n", 0, start)
        try:
            obj, end = JSON_DECODER.raw_decode(text, start)
        except (ValueError, RecursionError) as exc:
            problem: JsonProblem = decode_problem(exc, lines=True)
            yield Row(line, None, None, RowError("R001", f"not valid JSON: {problem}"))
            return
        yield self._decoded(line, obj, text[start:end])
        yield from self._after_array(text, end, line + text.count("\n", start, end), "}")


def _json_text(path: str) -> str:
    p = Path(path)
    refuse_device(p)
    try:
        return p.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise unreadable(path, exc) from None


# ---- subtitles ---------------------------------------------------------------------------

# each time starts where a run of digits starts (`(?<!\d)`): a search is then linear in the line,
# however many digits it holds, and never reads `123:00.000` as `23:00.000`
_CUE_TIME = re.compile(
    r"(?<!\d)(?:(\d+):)?(\d{1,2}):(\d{2})[.,](\d{3})\s*-->"
    r"\s*(?<!\d)(?:(\d+):)?(\d{1,2}):(\d{2})[.,](\d{3})"
)
_VOICE = re.compile(r"<v(?:\.[\w.-]+)?\s+([^>]+)>(.*?)(?:</v>)?$", re.S)
_LABEL = re.compile(r"^\s*([^:：]{1,20})[:：]\s*(.*)$", re.S)
_TAGS = re.compile(r"</?[a-z][^>]*>", re.I)


def _clock(h: str | None, m: str, s: str, ms: str) -> float:
    return int(h or 0) * 3600 + int(m) * 60 + int(s) + int(ms) / 1000


def _blocks(lines: list[str]) -> Iterator[tuple[int, list[str]]]:
    """The blocks of non-blank lines, each with the number of its first line (from 1)."""
    block: list[str] = []
    first = 0
    for n, line in enumerate(lines, 1):
        if line.strip():
            if not block:
                first = n
            block.append(line)
        elif block:
            yield first, block
            block = []
    if block:
        yield first, block


def default_role(label: str) -> str | None:
    """A role guessed from common speaker labels (agent/坐席/客服, customer/客户/用户)."""
    low = label.strip().lower()
    if any(k in low for k in ("agent", "坐席", "客服", "话务", "operator", "rep")):
        return "agent"
    if any(k in low for k in ("customer", "客户", "用户", "caller", "client")):
        return "customer"
    return None


def import_subtitles(
    path: str | Path,
    roles: Mapping[str, str] | None = None,
    transcript_id: Any = None,
    fmt: str | None = None,
) -> Transcript:
    """A WebVTT or SRT file with speaker labels as one transcript.

    `roles` maps speaker labels to `agent` / `customer`; labels it does not name are guessed by
    `default_role`, and a label that stays unknown is an `InputError` naming it.  `fmt` is
    `vtt` or `srt` (by default, the suffix tells: `.vtt` is WebVTT, anything else SRT).  A
    WebVTT file must begin with its `WEBVTT` line, a file must hold at least one cue, and a cue
    must not end before it starts: else `InputError`, naming the line."""
    p = Path(path)
    refuse_device(p)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise unreadable(path, exc) from None
    fmt = fmt or ("vtt" if p.suffix.lower() == ".vtt" else "srt")
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if fmt == "vtt" and re.match(r"WEBVTT(?:[ \t]|$)", lines[0]) is None:
        raise InputError(
            f"{path}: line 1: not WebVTT: a WebVTT file begins with a line `WEBVTT` "
            "(an SRT file is read from .srt, or with the srt format)"
        )
    segments: list[tuple[str, str, float, float]] = []
    for first, block in _blocks(lines):
        timing = next((i for i, ln in enumerate(block) if _CUE_TIME.search(ln)), None)
        if timing is None:
            arrow = next((i for i, ln in enumerate(block) if "-->" in ln), None)
            if arrow is not None:  # a cue whose timing is not `[hh:]mm:ss.ttt --> ...`
                raise InputError(
                    f"{path}: line {first + arrow}: cannot read the cue's timing "
                    "(expected `00:01.000 --> 00:04.000` or `00:00:01,000 --> 00:00:04,000`)"
                )
            continue  # the WEBVTT header, NOTE and STYLE blocks, cue numbers alone
        where = f"{path}: line {first + timing}"
        m = _CUE_TIME.search(block[timing])
        assert m is not None
        try:
            start, end = _clock(*m.group(1, 2, 3, 4)), _clock(*m.group(5, 6, 7, 8))
        except (ValueError, OverflowError):  # hours of thousands of digits
            raise InputError(f"{where}: the cue's time is too large to read") from None
        if end < start:
            raise InputError(
                f"{where}: the cue ends ({m.group(0).split('-->')[1].strip()}) before it "
                f"starts ({m.group(0).split('-->')[0].strip()})"
            )
        body = "\n".join(block[timing + 1 :]).strip()
        voice = _VOICE.match(body)
        label_match = _LABEL.match(body) if voice is None else None
        if voice is not None:
            label, said = voice.group(1), voice.group(2)
        elif label_match is not None:
            label, said = label_match.group(1), label_match.group(2)
        else:
            raise InputError(
                f"{where}: the cue at {block[timing].strip()} has no speaker "
                "(`<v Name>` in WebVTT, `Name: ...` in SRT)"
            )
        said = _TAGS.sub("", said).replace("\n", " ").strip()
        role = (roles or {}).get(label.strip()) or default_role(label)
        if role not in ("agent", "customer"):
            raise InputError(
                f"{path}: speaker `{label.strip()}` is neither agent nor customer; "
                'give a role map, e.g. {"' + label.strip() + '": "agent"}'
            )
        segments.append((role, said, start, end))
    if not segments:
        raise InputError(
            f"{path}: no cue found (a line such as `00:00:01.000 --> 00:00:04.000` followed by "
            "what was said); nothing to import"
        )
    turns: list[Turn] = []
    for role, said, start, end in segments:
        if turns and turns[-1].speaker == role:  # one speaker's consecutive segments: one turn
            last = turns[-1]
            turns[-1] = last._replace(text=f"{last.text}{said}", end=end)
        else:
            turns.append(Turn(len(turns), role, said, None, start, end))
    return Transcript(transcript_id if transcript_id is not None else p.stem, tuple(turns))

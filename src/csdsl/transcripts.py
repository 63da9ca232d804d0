"""Transcripts: reading calls and chats in the IO.md shape, and importing subtitles.

In: `.jsonl` / `.json` files of transcripts (IO.md "Transcripts"), or WebVTT (`<v Speaker>`) and
SRT files with speaker labels plus a label-to-role map.  Out: `Transcript` values with their
turns; a transcript that does not fit is a `RowError` with its line number and reason, and the
others are still read.  Consecutive imported segments of one speaker merge into one turn.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import attrs

from csdsl import ir, values
from csdsl.records import InputError, RecordReader, Row, RowError

SPEAKERS = ("agent", "customer", "system")
EVENTS = ("hold_start", "hold_end", "transfer", "mute", "unmute", "hangup")


@attrs.frozen
class Turn:
    index: int  # position in the transcript, from 0
    speaker: str  # agent | customer | system
    text: str | None = None  # what was said (agent and customer turns)
    event: str | None = None  # what happened (system turns)
    start: float | None = None  # seconds from the start of the contact
    end: float | None = None


@attrs.frozen
class Transcript:
    id: Any
    turns: tuple[Turn, ...]
    channel: str | None = None
    started_at: dt.datetime | None = None
    agent: str | None = None
    language: str | None = None

    @property
    def timed(self) -> bool:
        """True when every turn has a start time (timing rules can be checked)."""
        return all(t.start is not None for t in self.turns)


def _seconds(v: Any, what: str) -> float | None:
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v) or v < 0:
        raise RowError("T004", f"`{what}` must be a number of seconds (0 or more)", what)
    return float(v)


def transcript_from(obj: Any, tz: dt.tzinfo) -> Transcript:
    """One transcript in the IO.md shape; raises `RowError` when it does not fit."""
    if not isinstance(obj, Mapping):
        raise RowError("R002", "expected a transcript object with `id` and `turns`")
    tid = obj.get("id")
    if tid is None or (isinstance(tid, str) and not tid.strip()) or isinstance(tid, bool):
        raise RowError("R008", "the transcript has no `id`", "id")
    raw_turns = obj.get("turns")
    if not isinstance(raw_turns, list):
        raise RowError("T001", "`turns` must be a list of turns", "turns")
    turns = []
    for i, t in enumerate(raw_turns):
        where = f"turns[{i}]"
        if not isinstance(t, Mapping):
            raise RowError("T001", f"{where} is not an object", "turns")
        speaker = t.get("speaker")
        if speaker not in SPEAKERS:
            raise RowError(
                "T002",
                f"{where}: `speaker` must be agent, customer or system, got {speaker!r}",
                "speaker",
            )
        text, event = t.get("text"), t.get("event")
        if speaker == "system":
            if event not in EVENTS:
                raise RowError(
                    "T003",
                    f"{where}: a system turn needs an `event`: " + ", ".join(EVENTS),
                    "event",
                )
        elif not isinstance(text, str):
            raise RowError("T003", f"{where}: an {speaker} turn needs its `text`", "text")
        start = _seconds(t.get("start"), "start")
        end = _seconds(t.get("end"), "end")
        if start is not None and end is not None and end < start:
            raise RowError("T004", f"{where}: `end` is before `start`", "end")
        turns.append(
            Turn(
                i,
                speaker,
                text if speaker != "system" else None,
                event if speaker == "system" else None,
                start,
                end,
            )
        )
    started = obj.get("started_at")
    started_at = None
    if started is not None:
        try:
            started_at = values.parse_datetime(str(started))
        except ValueError as exc:
            raise RowError("R005", f"`started_at`: {exc}", "started_at") from None
        started_at = started_at if started_at.tzinfo else started_at.replace(tzinfo=tz)

    def text_or_none(key: str) -> str | None:
        v = obj.get(key)
        return v if isinstance(v, str) else None

    return Transcript(
        tid,
        tuple(turns),
        text_or_none("channel"),
        started_at,
        text_or_none("agent"),
        text_or_none("language"),
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
        return super().read(path)


# ---- subtitles ---------------------------------------------------------------------------

_CUE_TIME = re.compile(
    r"(?:(\d+):)?(\d{1,2}):(\d{2})[.,](\d{3})\s*-->\s*(?:(\d+):)?(\d{1,2}):(\d{2})[.,](\d{3})"
)
_VOICE = re.compile(r"<v(?:\.[\w.-]+)?\s+([^>]+)>(.*?)(?:</v>)?$", re.S)
_LABEL = re.compile(r"^\s*([^:：]{1,20})[:：]\s*(.*)$", re.S)
_TAGS = re.compile(r"</?[a-z][^>]*>", re.I)


def _clock(h: str | None, m: str, s: str, ms: str) -> float:
    return int(h or 0) * 3600 + int(m) * 60 + int(s) + int(ms) / 1000


def default_role(label: str) -> str | None:
    """A role guessed from common speaker labels (agent/坐席/客服, customer/客户/用户)."""
    low = label.strip().lower()
    if any(k in low for k in ("agent", "坐席", "客服", "话务", "operator", "rep")):
        return "agent"
    if any(k in low for k in ("customer", "客户", "用户", "caller", "client")):
        return "customer"
    return None


def import_subtitles(
    path: str | Path, roles: Mapping[str, str] | None = None, transcript_id: Any = None
) -> Transcript:
    """A WebVTT or SRT file with speaker labels as one transcript.

    `roles` maps speaker labels to `agent` / `customer`; labels it does not name are guessed by
    `default_role`, and a label that stays unknown is an `InputError` naming it."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read: {exc}") from None
    segments: list[tuple[str, str, float, float]] = []
    for block in re.split(r"\n\s*\n", text.replace("\r\n", "\n")):
        lines = [ln for ln in block.strip().split("\n") if ln.strip()]
        timing = next((i for i, ln in enumerate(lines) if _CUE_TIME.search(ln)), None)
        if timing is None:
            continue  # the WEBVTT header, NOTE and STYLE blocks, cue numbers alone
        m = _CUE_TIME.search(lines[timing])
        assert m is not None
        start, end = _clock(*m.group(1, 2, 3, 4)), _clock(*m.group(5, 6, 7, 8))
        body = "\n".join(lines[timing + 1 :]).strip()
        voice = _VOICE.match(body)
        label_match = _LABEL.match(body) if voice is None else None
        if voice is not None:
            label, said = voice.group(1), voice.group(2)
        elif label_match is not None:
            label, said = label_match.group(1), label_match.group(2)
        else:
            raise InputError(
                f"{path}: the cue at {lines[timing].strip()} has no speaker "
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
    turns: list[Turn] = []
    for role, said, start, end in segments:
        if turns and turns[-1].speaker == role:  # one speaker's consecutive segments: one turn
            last = turns[-1]
            turns[-1] = attrs.evolve(last, text=f"{last.text}{said}", end=end)
        else:
            turns.append(Turn(len(turns), role, said, None, start, end))
    return Transcript(transcript_id if transcript_id is not None else p.stem, tuple(turns))

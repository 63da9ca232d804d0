"""ASR exports: one call's speech-recognition result as one transcript in the IO.md shape.

In: one exported file — Amazon Contact Lens / Transcribe Call Analytics JSON (`Transcript[]`),
Alibaba Cloud 录音文件识别 JSON (`Sentences[]`), Azure Speech batch transcription JSON
(`recognizedPhrases[]`), or WebVTT / SRT subtitles — plus a map from the export's speaker labels
(channels, participants, diarized speakers) to `agent` / `customer`.  Out: a `Transcript` whose
turns are the recognised segments in time order, consecutive segments of one speaker merged into
one turn; a file that cannot be read or does not fit is an `InputError` naming the path and
what to do about it.

Speaker labels, by format (always compared as strings):

- `amazon`: `ParticipantRole` (else `ParticipantId`); `AGENT` and `CUSTOMER` map by default.
- `alibaba`: `SpeakerId` when the sentence has one (智能分轨 diarization), else `ChannelId`.
- `azure`: `speaker` when the phrase has one (diarization), else `channel`.

Alibaba and Azure do not say which channel or speaker is the agent, so those exports need a role
map (`0=agent,1=customer` on the command line); labels that name a role themselves (`agent`,
`坐席`, `customer`, `客户`, ...) are recognised by `csdsl.transcripts.default_role`.  A label may
also map to `ignore` (hold music, a supervisor) to drop its segments.

Segments are sorted by start time (the two channels of a stereo call interleave) before
merging; merged text is concatenated, with a space only between two ASCII characters (so
Chinese runs on and English keeps its word gaps); a merged turn keeps the first segment's start
and the last segment's end.  Azure phrases whose `recognitionStatus` is not `Success`, and
segments with no text, are skipped and counted in `Imported.skipped`.

With `fmt=None` the format is told by the content: `Transcript` (amazon), `recognizedPhrases`
or fast transcription's `phrases` (azure), `Sentences` at the top or under `Result`,
`flash_result` or a response wrapper (alibaba), a `WEBVTT` header or `-->` cue lines (vtt, srt);
`.vtt` / `.srt` files go to `csdsl.transcripts.import_subtitles`.  Field names are matched in
any case and with or without underscores (`BeginTime`, `beginTime`, `begin_time`), as the
vendors' APIs spell them differently.

The vendors' own signals are kept (never guessed where absent): Azure `nBest[0].confidence`
-> a turn's `confidence`; Amazon `Sentiment` -> `sentiment` (lowercase), `Confidence` (or the
mean of `Items[].Confidence`, Call Analytics) -> `confidence`, and `ConversationCharacteristics`
`NonTalkTime` / `Interruptions` (by the interrupter's label, mapped to its role like a
segment's) -> the transcript's `signals`; Alibaba `EmotionValue` -> `emotion` (emotional energy
1-10, kept as given: it says how strong, not whether good or bad, so it is no sentiment),
`SilenceDuration` -> `silence_before`, `SpeechRate` -> `speech_rate`, and the sum of the
silences -> `signals.silence_total`.  Merged segments merge their signals (`_merged_signals`).
A signal of the wrong kind is an `InputError` naming the segment's JSON path and the field.

The transcript id is `transcript_id` when given; else, for Amazon, Contact Lens'
`CustomerMetadata.ContactId`, else Call Analytics' `JobName`; else (and for every other format)
the file name without its suffix.
"""

from __future__ import annotations

import contextlib
import json
import math
import re
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NamedTuple

import attrs

from csdsl.records import (
    InputError,
    JsonProblem,
    loads_json,
    read_whole,
    show_raw as _shown,
    where_in_document,
)
from csdsl.transcripts import (
    SENTIMENTS,
    Interruptions,
    Signals,
    Transcript,
    Turn,
    default_role,
    import_subtitles,
)

FORMATS = ("amazon", "alibaba", "azure", "vtt", "srt")
ROLES = ("agent", "customer", "ignore")  # what a speaker label may map to

_VENDOR = {
    "amazon": "Amazon Contact Lens / Transcribe Call Analytics",
    "alibaba": "Alibaba Cloud 录音文件识别",
    "azure": "Azure Speech batch transcription",
}
_AMAZON_ROLES = {"AGENT": "agent", "CUSTOMER": "customer"}
_TICKS_PER_SECOND = 10_000_000  # Azure: one tick is 100 ns
_ISO_SECONDS = re.compile(
    r"PT(?:(?P<h>\d+(?:\.\d+)?)H)?(?:(?P<m>\d+(?:\.\d+)?)M)?(?:(?P<s>\d+(?:\.\d+)?)S)?", re.I
)
_CUE = re.compile(r"\d{1,2}:\d{2}[.,]\d{3}\s*-->")


@attrs.frozen
class Imported:
    """An imported export with what the import decided on the way."""

    transcript: Transcript
    format: str  # one of FORMATS
    speakers: Mapping[str, str]  # export label -> agent | customer | ignore (JSON formats)
    skipped: Mapping[str, int]  # reason -> number of segments left out


class _Segment(NamedTuple):
    label: str
    text: str
    start: float
    end: float
    signals: Mapping[str, Any]  # `Turn` fields the vendor gave: confidence, sentiment, ...


class _Parsed(NamedTuple):
    segments: list[_Segment]
    labels_are: str  # how the labels are called in the message: "channels", ...
    transcript_id: str | None
    skipped: Counter[str]
    signals: Signals | None = None  # the call's; interruptions keyed by the export's labels


class RolesNeeded(InputError):
    """An export whose speaker labels need a role map (`--roles`, `roles=`): a matter of how
    the command was given, not a fault of the file."""


def parse_roles(text: str) -> dict[str, str]:
    """`0=agent,1=customer` (or `spk_0=agent`, `SUPERVISOR=ignore`) as a label-to-role map.

    Raises `ValueError` with a one-line lowercase message on anything else."""
    out: dict[str, str] = {}
    pieces = [p.strip() for p in re.split(r"[,，]", text)]
    if not any(pieces):
        raise ValueError("empty role map: give label=role pairs such as 0=agent,1=customer")
    for piece in pieces:
        if not piece:
            continue  # a trailing or doubled comma
        label, eq, role = piece.rpartition("=")
        label, role = label.strip(), role.strip().lower()
        if not eq or not label:
            raise ValueError(f"bad role map entry `{piece}`: expected label=role, such as 0=agent")
        if role not in ROLES:
            raise ValueError(
                f"bad role for `{label}`: `{role}` (roles are agent, customer or ignore)"
            )
        if out.get(label, role) != role:
            raise ValueError(f"label `{label}` is given two roles: {out[label]} and {role}")
        out[label] = role
    return out


def import_export(
    path: str | Path,
    fmt: str | None = None,
    roles: Mapping[str, str] | None = None,
    transcript_id: Any = None,
) -> Transcript:
    """One exported ASR result (or subtitle file) as one transcript; see the module docstring.

    `fmt` is one of `FORMATS`, or `None` to detect it from the content and the suffix.  `roles`
    maps the export's speaker labels to `agent`, `customer` or `ignore`.  Raises `InputError`."""
    return read_export(path, fmt, roles, transcript_id).transcript


def read_export(
    path: str | Path,
    fmt: str | None = None,
    roles: Mapping[str, str] | None = None,
    transcript_id: Any = None,
) -> Imported:
    """`import_export`, also telling the format used, the label-to-role map and what was
    skipped (so a command can report it).  Raises `InputError`."""
    p = Path(path)
    if fmt is not None:
        fmt = fmt.strip().lower()
        if fmt not in FORMATS:
            raise InputError(f"{path}: unknown export format `{fmt}`; use " + ", ".join(FORMATS))
    role_map = _check_roles(path, roles)
    suffix = p.suffix.lower()
    if fmt in ("vtt", "srt") or (fmt is None and suffix in (".vtt", ".srt")):
        return _subtitles(p, fmt or suffix[1:], role_map, transcript_id)
    text = read_whole(p)
    if fmt is None and _looks_like_subtitles(text):
        return _subtitles(
            p, "vtt" if text.lstrip().startswith("WEBVTT") else "srt", role_map, transcript_id
        )
    data = _json(p, text)
    if fmt is None:
        fmt = _detect(p, data)
    parsed = {"amazon": _amazon, "alibaba": _alibaba, "azure": _azure}[fmt](p, data)
    speakers = _resolve(p, fmt, parsed, role_map)
    skipped = parsed.skipped
    kept = []
    for seg in parsed.segments:
        if speakers[seg.label] == "ignore":
            skipped[f"label {seg.label} ignored"] += 1
        else:
            kept.append(seg)
    kept.sort(key=lambda s: s.start)  # stable: equal starts keep the export's order
    tid = transcript_id if transcript_id is not None else (parsed.transcript_id or p.stem)
    turns = _merge([(speakers[s.label], s) for s in kept])
    signals = _by_role(parsed.signals, speakers, fmt)
    return Imported(Transcript(tid, turns, signals=signals), fmt, speakers, dict(skipped))


# ---- reading -----------------------------------------------------------------------------


def _check_roles(path: str | Path, roles: Mapping[str, str] | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for label, role in (roles or {}).items():
        norm = role.strip().lower() if isinstance(role, str) else role
        if norm not in ROLES:
            raise InputError(
                f"{path}: the role map gives `{label}` the role {role!r}; "
                "roles are agent, customer or ignore"
            )
        out[str(label).strip()] = norm
    return out


def _subtitles(p: Path, fmt: str, roles: dict[str, str], transcript_id: Any) -> Imported:
    # `ignore` is for the JSON exports; subtitle speakers left out fall back to their labels
    keep = {k: v for k, v in roles.items() if v != "ignore"}
    return Imported(import_subtitles(p, keep, transcript_id, fmt), fmt, {}, {})


def _looks_like_subtitles(text: str) -> bool:
    head = text.lstrip()
    return head.startswith("WEBVTT") or (
        not head.startswith(("{", "[")) and _CUE.search(head[:2000]) is not None
    )


def _json(p: Path, text: str) -> Any:
    """The export's JSON, read as strictly as records are (no `NaN`, no lone surrogate)."""
    try:
        return loads_json(text)
    except JsonProblem as exc:
        if isinstance(exc.__cause__, json.JSONDecodeError):
            raise InputError(
                f"{p}: not JSON ({where_in_document(exc)}); "
                "ASR exports are read as the vendor's JSON, subtitles from .vtt or .srt files"
            ) from None
        raise InputError(f"{p}: not JSON that can be read: {exc}") from None


def _key(obj: Mapping[str, Any], name: str) -> str | None:
    """The key of `obj` spelling `name` in any case, with or without underscores
    (`BeginTime`, `beginTime`, `begin_time`)."""
    if name in obj:
        return name
    want = name.replace("_", "").lower()
    for k in obj:
        if isinstance(k, str) and k.replace("_", "").lower() == want:
            return k
    return None


def _get(obj: Mapping[str, Any], name: str) -> Any:
    k = _key(obj, name)
    return None if k is None else obj[k]


def _find_sentences(data: Any, where: str = "", depth: int = 0) -> tuple[list[Any], str] | None:
    """Alibaba's `Sentences` list, at the top or inside `Result` / `flash_result` / a response
    wrapper (a `Result` given as a JSON string is opened too)."""
    if not isinstance(data, Mapping) or depth > 3:
        return None
    k = _key(data, "Sentences")
    if k is not None and isinstance(data[k], list):
        return data[k], f"{where}{k}"
    for key, value in data.items():
        if isinstance(value, str) and str(key).lower() == "result":
            try:
                value = loads_json(value)
            except JsonProblem:
                continue
        found = _find_sentences(value, f"{where}{key}.", depth + 1)
        if found is not None:
            return found
    return None


def _detect(p: Path, data: Any) -> str:
    if isinstance(data, Mapping):
        if isinstance(_get(data, "Transcript"), list):
            return "amazon"
        if isinstance(_get(data, "recognizedPhrases"), list):
            return "azure"
        if isinstance(data.get("phrases"), list) and "durationMilliseconds" in data:
            return "azure"  # fast transcription
        if _find_sentences(data) is not None or _key(data, "StatusText") is not None:
            return "alibaba"
        if "turns" in data:
            raise InputError(
                f"{p}: this is already a transcript in the csdsl shape (it has `turns`); "
                "read it as a transcripts file, not as an ASR export"
            )
        results = data.get("results")
        if isinstance(results, Mapping) and "items" in results:
            raise InputError(
                f"{p}: this is Amazon Transcribe's word-by-word output (`results.items`); "
                "import a Call Analytics or Contact Lens file (`Transcript[]` with "
                "`ParticipantRole`) instead"
            )
        keys = ", ".join(f"`{k}`" for k in list(data)[:8]) or "none"
        found = f"its top-level keys are {keys}"
    else:
        kind = {list: "an array", str: "a string", bool: "true or false", type(None): "null"}
        found = f"it holds {kind.get(type(data), 'a number')}, not an object"
    raise InputError(
        f"{p}: not an export csdsl knows ({found}); expected the JSON of Amazon "
        "`Transcript[]`, Alibaba Cloud `Result.Sentences[]` or Azure `recognizedPhrases[]`, "
        "or WebVTT / SRT subtitles"
    )


def _not_shape(p: Path, fmt: str, expected: str) -> InputError:
    return InputError(f"{p}: not an {_VENDOR[fmt]} export: expected {expected}")


def _as_float(value: Any) -> float:
    """A JSON number, or a number quoted as text ("1020": some APIs quote their numbers);
    NaN for anything else."""
    number = math.nan
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            number = float(value.strip())
    elif isinstance(value, int | float) and not isinstance(value, bool):
        try:
            number = float(value)
        except OverflowError:  # an integer beyond any float
            number = math.inf
    return number


def _number(p: Path, where: str, field: str, value: Any, unit: str) -> float:
    if value is None:
        raise InputError(f"{p}: {where}: no `{field}` (its time, in {unit})")
    number = _as_float(value)
    if not math.isfinite(number) or number < 0:
        raise InputError(
            f"{p}: {where}: `{field}` must be a number of {unit} (0 or more), got {_shown(value)}"
        )
    return number


def _signal(
    p: Path, where: str, field: str, value: Any, unit: str, high: float = math.inf
) -> float | None:
    """An optional signal of the vendor's: None when not given, else a number in range."""
    if value is None:
        return None
    number = _as_float(value)
    if not (math.isfinite(number) and 0 <= number <= high):
        bound = f"from 0 to {high:g}" if math.isfinite(high) else "(0 or more)"
        raise InputError(
            f"{p}: {where}: `{field}` must be a number of {unit} {bound}, got {_shown(value)}"
        )
    return number


def _sentiment(p: Path, where: str, value: Any) -> str | None:
    """Amazon's `Sentiment` (POSITIVE, NEGATIVE, NEUTRAL, MIXED) as IO.md's lowercase name."""
    if value is None:
        return None
    if isinstance(value, str) and value.strip().lower() in SENTIMENTS:
        return value.strip().lower()
    raise InputError(
        f"{p}: {where}: `Sentiment` must be POSITIVE, NEGATIVE, NEUTRAL or MIXED, "
        f"got {_shown(value)}"
    )


def _text(p: Path, where: str, field: str, value: Any) -> str:
    if not isinstance(value, str):
        raise InputError(
            f"{p}: {where}: no `{field}` (the text said)"
            if value is None
            else f"{p}: {where}: `{field}` must be text, got {_shown(value)}"
        )
    return value.strip()


def _label(p: Path, where: str, field: str, value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise InputError(f"{p}: {where}: `{field}` must be a name or a number, got {_shown(value)}")
    return str(value).strip()


def _segment(
    p: Path,
    where: str,
    label: str,
    text: str,
    start: float,
    end: float,
    skipped: Counter[str],
    signals: Mapping[str, Any],
) -> _Segment | None:
    if not math.isfinite(end):  # an offset and a duration that add up past any float
        raise InputError(f"{p}: {where}: ends past any time that can be held ({end:g} s)")
    if end < start:
        raise InputError(f"{p}: {where}: ends ({end:g} s) before it starts ({start:g} s)")
    if not text:
        skipped["empty text"] += 1
        return None
    return _Segment(label, text, start, end, {k: v for k, v in signals.items() if v is not None})


# ---- the formats ---------------------------------------------------------------------------


def _amazon(p: Path, data: Any) -> _Parsed:
    items = _get(data, "Transcript") if isinstance(data, Mapping) else None
    if not isinstance(items, list):
        raise _not_shape(p, "amazon", "an object with a `Transcript` list")
    skipped: Counter[str] = Counter()
    segments = []
    for i, item in enumerate(items):
        where = f"Transcript[{i}]"
        if not isinstance(item, Mapping):
            raise InputError(f"{p}: {where} is not an object")
        role = _get(item, "ParticipantRole")
        field = "ParticipantRole"
        if role is None:
            role, field = _get(item, "ParticipantId"), "ParticipantId"
        if role is None:
            raise InputError(f"{p}: {where}: no `ParticipantRole` (AGENT or CUSTOMER)")
        seg = _segment(
            p,
            where,
            _label(p, where, field, role),
            _text(p, where, "Content", _get(item, "Content")),
            _number(p, where, "BeginOffsetMillis", _get(item, "BeginOffsetMillis"), "ms") / 1000,
            _number(p, where, "EndOffsetMillis", _get(item, "EndOffsetMillis"), "ms") / 1000,
            skipped,
            {
                "sentiment": _sentiment(p, where, _get(item, "Sentiment")),
                "confidence": _amazon_confidence(p, where, item),
            },
        )
        if seg is not None:
            segments.append(seg)
    meta = _get(data, "CustomerMetadata")
    tid = _get(meta, "ContactId") if isinstance(meta, Mapping) else None
    if not isinstance(tid, str) or not tid.strip():
        tid = _get(data, "JobName")
    tid = tid.strip() if isinstance(tid, str) and tid.strip() else None
    return _Parsed(segments, "participant roles", tid, skipped, _amazon_signals(p, data))


def _amazon_confidence(p: Path, where: str, item: Mapping[str, Any]) -> float | None:
    """A segment's `Confidence`, else the mean of its words' (Call Analytics `Items[]`;
    Contact Lens segments carry none)."""
    own = _signal(p, where, "Confidence", _get(item, "Confidence"), "0..1", 1.0)
    items = _get(item, "Items")
    if own is not None or not isinstance(items, list):
        return own
    known = []
    for k, word in enumerate(items):
        if isinstance(word, Mapping):
            c = _signal(
                p, f"{where}.Items[{k}]", "Confidence", _get(word, "Confidence"), "0..1", 1.0
            )
            if c is not None:
                known.append(c)
    return sum(known) / len(known) if known else None


def _millis(p: Path, where: str, obj: Mapping[str, Any], field: str) -> float | None:
    ms = _signal(p, where, field, _get(obj, field), "ms")
    return None if ms is None else ms / 1000


def _amazon_signals(p: Path, data: Mapping[str, Any]) -> Signals | None:
    """`ConversationCharacteristics`: `NonTalkTime` and `Interruptions` (by the interrupter's
    participant role; each instance's `DurationMillis` summed), as the vendor measured them."""
    chars = _get(data, "ConversationCharacteristics")
    if not isinstance(chars, Mapping):
        return None
    base = "ConversationCharacteristics"
    quiet, spans = _get(chars, "NonTalkTime"), []
    total = None
    if isinstance(quiet, Mapping):
        where = f"{base}.NonTalkTime"
        total = _millis(p, where, quiet, "TotalTimeMillis")
        instances = _get(quiet, "Instances") or []
        for k, inst in enumerate(instances if isinstance(instances, list) else []):
            at = f"{where}.Instances[{k}]"
            if not isinstance(inst, Mapping):
                raise InputError(f"{p}: {at} is not an object")
            start = _number(p, at, "BeginOffsetMillis", _get(inst, "BeginOffsetMillis"), "ms")
            end = _number(p, at, "EndOffsetMillis", _get(inst, "EndOffsetMillis"), "ms")
            if end < start:
                raise InputError(f"{p}: {at}: ends ({end:g} ms) before it starts ({start:g} ms)")
            spans.append((start / 1000, end / 1000))
    talked_over = _get(chars, "Interruptions")
    by_label = None
    if isinstance(talked_over, Mapping):
        where = f"{base}.Interruptions.InterruptionsByInterrupter"
        by = _get(talked_over, "InterruptionsByInterrupter") or {}
        if not isinstance(by, Mapping):
            raise InputError(f"{p}: {where} is not an object")
        counted = []
        for label, instances in by.items():
            if not isinstance(instances, list):
                raise InputError(f"{p}: {where}.{label} is not a list")
            seconds = 0.0
            for k, inst in enumerate(instances):
                at = f"{where}.{label}[{k}]"
                if not isinstance(inst, Mapping):
                    raise InputError(f"{p}: {at} is not an object")
                seconds += _millis(p, at, inst, "DurationMillis") or 0.0
            counted.append((str(label), Interruptions(len(instances), seconds)))
        by_label = tuple(counted)
    if total is None and not spans and by_label is None:
        return None
    return Signals(total, tuple(spans), by_label)


def _alibaba(p: Path, data: Any) -> _Parsed:
    found = _find_sentences(data)
    if found is None:
        status = _get(data, "StatusText") if isinstance(data, Mapping) else None
        if isinstance(status, str) and "SUCCESS" not in status.upper():
            raise InputError(
                f"{p}: the Alibaba Cloud task's status is `{status}`, and the file has no "
                "sentences; fetch the result again once the task reports SUCCESS"
            )
        if isinstance(status, str):  # SUCCESS_WITH_NO_VALID_FRAGMENT: nothing was said
            return _Parsed([], "channels", None, Counter())
        raise _not_shape(p, "alibaba", "`Result.Sentences[]` (or `Sentences[]`)")
    sentences, path_to = found
    skipped: Counter[str] = Counter()
    segments = []
    silences: list[float | None] = []
    for i, s in enumerate(sentences):
        where = f"{path_to}[{i}]"
        if not isinstance(s, Mapping):
            raise InputError(f"{p}: {where} is not an object")
        silence = _signal(p, where, "SilenceDuration", _get(s, "SilenceDuration"), "seconds")
        silences.append(silence)
        speaker = _get(s, "SpeakerId")
        if speaker is not None and speaker != "":
            label = _label(p, where, "SpeakerId", speaker)
        else:
            channel = _get(s, "ChannelId")
            label = "0" if channel is None else _label(p, where, "ChannelId", channel)
        seg = _segment(
            p,
            where,
            label,
            _text(p, where, "Text", _get(s, "Text")),
            _number(p, where, "BeginTime", _get(s, "BeginTime"), "ms") / 1000,
            _number(p, where, "EndTime", _get(s, "EndTime"), "ms") / 1000,
            skipped,
            {
                "emotion": _signal(p, where, "EmotionValue", _get(s, "EmotionValue"), "1..10", 10),
                "silence_before": silence,
                "speech_rate": _signal(
                    p, where, "SpeechRate", _get(s, "SpeechRate"), "characters a minute"
                ),
            },
        )
        if seg is not None:
            segments.append(seg)
    # the call's silence: the sum of every sentence's, when every sentence gives one
    silence = None
    if silences and all(x is not None for x in silences):
        silence = sum(x for x in silences if x is not None)
    signals = Signals(silence_seconds=silence) if silence is not None else None
    return _Parsed(segments, "channels", None, skipped, signals)


def _iso_seconds(value: Any) -> float | None:
    m = _ISO_SECONDS.fullmatch(value.strip()) if isinstance(value, str) else None
    if m is None or not any(m.groupdict().values()):
        return None
    h, mi, s = (float(m.group(g) or 0) for g in ("h", "m", "s"))
    seconds = h * 3600 + mi * 60 + s
    return seconds if math.isfinite(seconds) else None  # `PT1e400S` is not a time


def _azure_time(p: Path, where: str, phrase: Mapping[str, Any], what: str) -> tuple[float, int]:
    """`offset` / `duration` as (amount, amounts a second): from ticks, milliseconds, or the
    ISO 8601 string."""
    ticks = _get(phrase, f"{what}InTicks")
    if ticks is not None:
        return _number(p, where, f"{what}InTicks", ticks, "ticks"), _TICKS_PER_SECOND
    ms = _get(phrase, f"{what}Milliseconds")
    if ms is not None:
        return _number(p, where, f"{what}Milliseconds", ms, "ms"), 1000
    iso = _get(phrase, what)
    if iso is None:
        raise InputError(f"{p}: {where}: no `{what}InTicks` or `{what}` (its time)")
    seconds = _iso_seconds(iso)
    if seconds is None:
        raise InputError(
            f"{p}: {where}: `{what}` must be an ISO 8601 duration such as PT1.23S, "
            f"got {_shown(iso)}"
        )
    return seconds, 1


def _azure_span(p: Path, where: str, phrase: Mapping[str, Any]) -> tuple[float, float]:
    """Start and end in seconds; the end is offset + duration summed before dividing, so
    it is as exact as the export."""
    offset, per = _azure_time(p, where, phrase, "offset")
    duration, per_d = _azure_time(p, where, phrase, "duration")
    if per == per_d:
        return offset / per, (offset + duration) / per
    return offset / per, offset / per + duration / per_d


def _azure(p: Path, data: Any) -> _Parsed:
    phrases = _get(data, "recognizedPhrases") if isinstance(data, Mapping) else None
    list_name = "recognizedPhrases"
    if not isinstance(phrases, list) and isinstance(data, Mapping):
        phrases, list_name = data.get("phrases"), "phrases"  # fast transcription
    if not isinstance(phrases, list):
        raise _not_shape(p, "azure", "an object with a `recognizedPhrases` list")
    skipped: Counter[str] = Counter()
    segments = []
    for i, ph in enumerate(phrases):
        where = f"{list_name}[{i}]"
        if not isinstance(ph, Mapping):
            raise InputError(f"{p}: {where} is not an object")
        status = _get(ph, "recognitionStatus")
        if status is not None and status != "Success":
            skipped[f"recognitionStatus {status}"] += 1
            continue
        speaker = _get(ph, "speaker")
        if speaker is not None:
            label = _label(p, where, "speaker", speaker)
        else:
            channel = _get(ph, "channel")
            label = "0" if channel is None else _label(p, where, "channel", channel)
        nbest = _get(ph, "nBest")
        confidence = None
        if isinstance(nbest, list) and nbest and isinstance(nbest[0], Mapping):
            best = nbest[0]
            field = "display" if _get(best, "display") is not None else "lexical"
            text = _text(p, f"{where}.nBest[0]", field, _get(best, field))
            confidence = _signal(
                p, f"{where}.nBest[0]", "confidence", _get(best, "confidence"), "0..1", 1.0
            )
        elif _get(ph, "text") is not None:
            text = _text(p, where, "text", _get(ph, "text"))
            confidence = _signal(p, where, "confidence", _get(ph, "confidence"), "0..1", 1.0)
        else:
            raise InputError(f"{p}: {where}: no `nBest[0].display` (the text said)")
        start, end = _azure_span(p, where, ph)
        seg = _segment(p, where, label, text, start, end, skipped, {"confidence": confidence})
        if seg is not None:
            segments.append(seg)
    labels_are = (
        "speakers"
        if any(_get(ph, "speaker") is not None for ph in phrases if isinstance(ph, Mapping))
        else "channels"
    )
    return _Parsed(segments, labels_are, None, skipped)


# ---- roles and turns -----------------------------------------------------------------------


def _resolve(p: Path, fmt: str, parsed: _Parsed, roles: dict[str, str]) -> dict[str, str]:
    """Every label's role: the role map, then the vendor's own (Amazon), then a guess from
    the label's name; an `InputError` naming every label left without one."""
    folded = {k.casefold(): v for k, v in roles.items()}
    labels = list(dict.fromkeys(s.label for s in parsed.segments))
    out: dict[str, str] = {}
    unknown = []
    for label in labels:
        role = roles.get(label) or folded.get(label.casefold())
        if role is None and fmt == "amazon":
            role = _AMAZON_ROLES.get(label.upper())
        role = role or default_role(label)
        if role is None:
            unknown.append(label)
        else:
            out[label] = role
    if unknown:
        found = ", ".join(f"`{label}`" for label in labels)
        if roles or out:  # a map that misses some, or Amazon roles beyond AGENT / CUSTOMER
            shown = labels if roles else unknown
            example = ",".join(
                f"{label}={out.get(label, '<agent|customer|ignore>')}" for label in shown
            )
            raise RolesNeeded(
                f"{p}: no role for {', '.join(f'`{u}`' for u in unknown)} "
                f"({parsed.labels_are} found: {found}); map every one, e.g. --roles {example}"
            )
        guess = ["agent", "customer"] + ["customer"] * (len(labels) - 2)
        pairs = dict(zip(labels, guess, strict=False))
        example = ",".join(f"{label}={role}" for label, role in pairs.items())
        raise RolesNeeded(
            f"{p}: {_VENDOR[fmt]} {parsed.labels_are} {found} say nothing about who is the "
            f"agent; give a role map, e.g. --roles {example} (in Python, roles={pairs!r})"
        )
    return out


def _join(a: str, b: str) -> str:
    if a and b and a[-1].isascii() and b[0].isascii() and not a[-1].isspace():
        return f"{a} {b}"
    return a + b


def _by_role(signals: Signals | None, speakers: Mapping[str, str], fmt: str) -> Signals | None:
    """The call's signals with the interruptions keyed by role (an interrupter's label is read
    like a segment's; one mapped to `ignore`, or to no role, is left out)."""
    if signals is None or signals.interruptions is None:
        return signals
    counts: dict[str, Interruptions] = {}
    for label, got in signals.interruptions:
        role = speakers.get(label) or (
            _AMAZON_ROLES.get(label.upper()) if fmt == "amazon" else None
        )
        role = role or default_role(label)
        if role not in ("agent", "customer"):
            continue
        was = counts.get(role, Interruptions(0, 0.0))
        seconds = None if was.seconds is None or got.seconds is None else was.seconds + got.seconds
        counts[role] = Interruptions(was.count + got.count, seconds)
    return attrs.evolve(signals, interruptions=tuple(sorted(counts.items())))


def _merge(segments: list[tuple[str, _Segment]]) -> tuple[Turn, ...]:
    """Turns from time-ordered segments: one speaker's consecutive segments make one turn, and
    their signals merge as `_merged_signals` says."""
    turns: list[Turn] = []
    parts: list[list[_Segment]] = []
    for role, seg in segments:
        if turns and turns[-1].speaker == role:  # one speaker's consecutive segments: one turn
            last = turns[-1]
            turns[-1] = last._replace(text=_join(last.text or "", seg.text), end=seg.end)
            parts[-1].append(seg)
        else:
            turns.append(Turn(len(turns), role, seg.text, None, seg.start, seg.end))
            parts.append([seg])
    return tuple(
        turn._replace(**_merged_signals(segs)) for turn, segs in zip(turns, parts, strict=True)
    )


def _merged_signals(segs: list[_Segment]) -> dict[str, Any]:
    """One turn's signals from its segments' (each over the segments that give it):
    `confidence` the lowest (the turn is as sure as its least sure part), `sentiment` the last
    (how the speaker ended the turn), `emotion` the highest (the strongest moment),
    `silence_before` the first segment's (the silence before the turn), `speech_rate` the mean
    weighted by the segments' lengths (characters over minutes spoken)."""

    def known(name: str) -> list[tuple[_Segment, Any]]:
        return [(s, s.signals[name]) for s in segs if name in s.signals]

    out: dict[str, Any] = {}
    if conf := known("confidence"):
        out["confidence"] = min(v for _, v in conf)
    if feeling := known("sentiment"):
        out["sentiment"] = feeling[-1][1]
    if energy := known("emotion"):
        out["emotion"] = max(v for _, v in energy)
    if "silence_before" in segs[0].signals:
        out["silence_before"] = segs[0].signals["silence_before"]
    if rates := known("speech_rate"):
        weights = [s.end - s.start for s, _ in rates]
        if sum(weights) > 0:
            out["speech_rate"] = sum(w * v for w, (_, v) in zip(weights, rates, strict=True)) / sum(
                weights
            )
        elif len(rates) == 1:
            out["speech_rate"] = rates[0][1]
    return out

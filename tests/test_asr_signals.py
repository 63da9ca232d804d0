"""The vendors' signals kept by the ASR importers (confidence, sentiment, emotion, silence,
speech rate, non-talk time, interruptions), how they merge with the segments into turns, and
the IO.md `signals` / per-turn fields read back from JSON."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from csdsl.asr import import_export
from csdsl.records import InputError, RowError
from csdsl.transcripts import Interruptions, Signals, transcript_from

SAMPLES = Path(__file__).resolve().parent.parent / "examples" / "asr"
STEREO = {"0": "agent", "1": "customer"}


def write(tmp_path: Path, obj: Any, name: str = "export.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(obj, ensure_ascii=False), encoding="utf-8")
    return path


def item(role: str, text: str, begin: int, end: int, **extra: Any) -> dict[str, Any]:
    return {
        "ParticipantRole": role,
        "Content": text,
        "BeginOffsetMillis": begin,
        "EndOffsetMillis": end,
        **extra,
    }


# ---- Amazon ------------------------------------------------------------------------------


def test_amazon_sample_keeps_sentiment_and_the_calls_signals() -> None:
    t = import_export(SAMPLES / "amazon_contact_lens.json")
    assert [turn.sentiment for turn in t.turns] == [
        "positive", "negative", "neutral", "negative", "neutral", "negative", "neutral",
        "negative", "neutral", "negative", "neutral", "negative", "positive",
    ]  # fmt: skip
    assert all(turn.confidence is None for turn in t.turns)  # Contact Lens gives none
    assert t.signals == Signals(35.0, ((23.2, 58.2),), ())
    assert t.signals.interruptions_by("agent") == Interruptions(0, 0.0)  # counted: none


def test_amazon_interruptions_by_role_and_confidence_from_the_words(tmp_path: Path) -> None:
    export = {
        "Transcript": [
            item("AGENT", "您好", 0, 900, Sentiment="POSITIVE", Confidence=0.8),
            item(
                "CUSTOMER",
                "我要投诉",
                1000,
                2000,
                Items=[{"Confidence": 0.9, "Content": "我要"}, {"Confidence": 0.5}],
            ),
        ],
        "ConversationCharacteristics": {
            "NonTalkTime": {"TotalTimeMillis": 0, "Instances": []},
            "Interruptions": {
                "TotalCount": 3,
                "TotalTimeMillis": 4200,
                "InterruptionsByInterrupter": {
                    "AGENT": [
                        {"BeginOffsetMillis": 1, "EndOffsetMillis": 2, "DurationMillis": 1200},
                        {"BeginOffsetMillis": 3, "EndOffsetMillis": 4, "DurationMillis": 2000},
                    ],
                    "CUSTOMER": [{"DurationMillis": 1000}],
                },
            },
        },
    }
    t = import_export(write(tmp_path, export))
    assert [(x.confidence, x.sentiment) for x in t.turns] == [(0.8, "positive"), (0.7, None)]
    assert t.signals is not None
    assert t.signals.interruptions_by("agent") == Interruptions(2, 3.2)
    assert t.signals.interruptions_by("customer") == Interruptions(1, 1.0)
    # a role map that swaps the participants swaps who interrupted
    swapped = import_export(
        write(tmp_path, export), roles={"AGENT": "customer", "CUSTOMER": "agent"}
    )
    assert swapped.signals is not None
    assert swapped.signals.interruptions_by("agent") == Interruptions(1, 1.0)


def test_merged_segments_keep_the_lowest_confidence_and_the_last_sentiment(
    tmp_path: Path,
) -> None:
    export = {
        "Transcript": [
            item("CUSTOMER", "我等了很久", 0, 1000, Sentiment="NEGATIVE", Confidence=0.9),
            item("CUSTOMER", "不过谢谢你", 1100, 2000, Sentiment="POSITIVE", Confidence=0.6),
            item("CUSTOMER", "再见", 2100, 2500, Confidence=0.95),  # no sentiment given
            item("AGENT", "再见", 2600, 3000),
        ]
    }
    t = import_export(write(tmp_path, export))
    assert len(t.turns) == 2
    assert (t.turns[0].confidence, t.turns[0].sentiment) == (0.6, "positive")
    assert (t.turns[1].confidence, t.turns[1].sentiment) == (None, None)


@pytest.mark.parametrize(
    ("extra", "said"),
    [
        ({"Sentiment": "ANGRY"}, "Transcript[0]: `Sentiment` must be POSITIVE, NEGATIVE"),
        ({"Sentiment": 3}, "Transcript[0]: `Sentiment` must be"),
        ({"Confidence": 1.5}, "Transcript[0]: `Confidence` must be a number of 0..1 from 0 to 1"),
        ({"Items": [{"Confidence": "high"}]}, "Transcript[0].Items[0]: `Confidence` must be"),
    ],
)
def test_amazon_signal_of_the_wrong_kind_names_its_path(
    tmp_path: Path, extra: dict[str, Any], said: str
) -> None:
    path = write(tmp_path, {"Transcript": [item("AGENT", "您好", 0, 900, **extra)]})
    with pytest.raises(InputError) as err:
        import_export(path)
    assert str(err.value).startswith(f"{path}: {said}")
    assert "\n" not in str(err.value)


def test_amazon_bad_interruptions_name_their_path(tmp_path: Path) -> None:
    chars = {"Interruptions": {"InterruptionsByInterrupter": {"AGENT": [{"DurationMillis": -5}]}}}
    path = write(
        tmp_path,
        {"Transcript": [item("AGENT", "您好", 0, 900)], "ConversationCharacteristics": chars},
    )
    with pytest.raises(
        InputError, match=r"InterruptionsByInterrupter\.AGENT\[0\]: `DurationMillis`"
    ):
        import_export(path)


# ---- Alibaba Cloud -----------------------------------------------------------------------


def test_alibaba_sample_keeps_emotion_silence_and_speech_rate() -> None:
    t = import_export(SAMPLES / "alibaba_filetrans.json", roles=STEREO)
    first, customer = t.turns[0], t.turns[1]
    assert (first.emotion, first.silence_before, first.speech_rate) == (5.0, 0.0, 424.0)
    # two sentences merged: the stronger emotion, the first silence, the rate over both
    assert customer.emotion == 6.1 and customer.silence_before == 0.0
    assert customer.speech_rate == pytest.approx((675 * 1.6 + 371 * 3.4) / 5.0)
    assert t.turns[6].silence_before == 35.0  # back from the hold
    assert all(turn.sentiment is None for turn in t.turns)  # energy is not a sentiment
    assert t.signals == Signals(silence_seconds=35.0)


def test_alibaba_quoted_numbers_and_a_bad_emotion(tmp_path: Path) -> None:
    s = {"BeginTime": 0, "EndTime": 1000, "Text": "您好", "ChannelId": 0}
    quoted = {**s, "EmotionValue": "5.7", "SilenceDuration": "2", "SpeechRate": "80"}
    t = import_export(write(tmp_path, {"Result": {"Sentences": [quoted]}}), roles=STEREO)
    assert (t.turns[0].emotion, t.turns[0].silence_before, t.turns[0].speech_rate) == (
        5.7,
        2.0,
        80.0,
    )
    bad = write(tmp_path, {"Result": {"Sentences": [{**s, "EmotionValue": 11}]}})
    with pytest.raises(InputError, match=r"Result\.Sentences\[0\]: `EmotionValue` must be"):
        import_export(bad, roles=STEREO)
    # no totals when a sentence gives no silence: the sum would be a guess
    half = [quoted, {**s, "BeginTime": 2000, "EndTime": 2500}]
    assert import_export(write(tmp_path, {"Sentences": half}), roles=STEREO).signals is None


# ---- Azure -------------------------------------------------------------------------------


def test_azure_sample_keeps_confidence_merged_to_the_lowest() -> None:
    t = import_export(SAMPLES / "azure_batch.json", roles=STEREO)
    assert [turn.confidence for turn in t.turns] == [
        0.94, 0.81, 0.91, 0.58, 0.89, 0.9, 0.87, 0.84, 0.9, 0.79, 0.95, 0.92, 0.96,
    ]  # fmt: skip
    assert t.signals is None


def test_azure_bad_confidence_names_its_path(tmp_path: Path) -> None:
    phrase = {
        "channel": 0,
        "offsetInTicks": 0,
        "durationInTicks": 10_000_000,
        "nBest": [{"display": "您好", "confidence": "sure"}],
    }
    path = write(tmp_path, {"recognizedPhrases": [phrase]})
    with pytest.raises(InputError, match=r"recognizedPhrases\[0\]\.nBest\[0\]: `confidence`"):
        import_export(path, roles=STEREO)


# ---- the IO.md shape ---------------------------------------------------------------------


def test_the_io_shape_reads_the_signals() -> None:
    obj = {
        "id": "c1",
        "turns": [
            {"speaker": "agent", "text": "您好", "confidence": 0.4, "sentiment": "neutral"},
            {"speaker": "customer", "text": "好", "emotion": 7, "silence_before": 1.5,
             "speech_rate": 200},
        ],
        "signals": {
            "non_talk_time": {"total": 3, "instances": [{"start": 1, "end": 4}]},
            "interruptions": {"agent": {"count": 2, "total": 1.5}},
            "silence_total": 9,
        },
    }  # fmt: skip
    t = transcript_from(obj, dt.UTC)
    assert (t.turns[0].confidence, t.turns[0].sentiment) == (0.4, "neutral")
    assert (t.turns[1].emotion, t.turns[1].silence_before, t.turns[1].speech_rate) == (
        7.0,
        1.5,
        200.0,
    )
    assert t.signals == Signals(3.0, ((1.0, 4.0),), (("agent", Interruptions(2, 1.5)),), 9.0)
    assert t.signals.interruptions_by("customer") == Interruptions(0, 0.0)
    assert transcript_from({"id": 1, "turns": []}, dt.UTC).signals is None


@pytest.mark.parametrize(
    ("change", "said"),
    [
        ({"turns": [{"speaker": "agent", "text": "x", "confidence": 1.2}]},
         "`turns[0].confidence` must be a number from 0 to 1, got 1.2"),
        ({"turns": [{"speaker": "agent", "text": "x", "sentiment": "angry"}]},
         '`turns[0].sentiment` must be positive, negative, neutral or mixed, got "angry"'),
        ({"turns": [{"speaker": "agent", "text": "x", "speech_rate": True}]},
         "`turns[0].speech_rate` must be a number a minute (0 or more), got true"),
        ({"signals": []}, "`signals` must be an object, got a JSON array"),
        ({"signals": {"interruptions": {"agent": {"count": 1.5}}}},
         "`signals.interruptions.agent.count` must be a whole number (0 or more), got 1.5"),
        ({"signals": {"interruptions": {"boss": {"count": 1}}}},
         '`signals.interruptions` must be keyed by agent or customer, got "boss"'),
        ({"signals": {"non_talk_time": {"instances": [{"start": 5, "end": 1}]}}},
         "`signals.non_talk_time.instances[0]` must be {start, end} with the end not before"),
    ],
)  # fmt: skip
def test_a_signal_of_the_wrong_kind_is_a_t007_naming_its_path(
    change: dict[str, Any], said: str
) -> None:
    with pytest.raises(RowError) as err:
        transcript_from({"id": "c1", "turns": [], **change}, dt.UTC)
    assert err.value.code == "T007"
    assert err.value.message.startswith(said)


def test_a_bad_signal_is_a_bad_row_and_the_file_goes_on(tmp_path: Path) -> None:
    from csdsl.transcripts import TranscriptReader

    good = {"id": "a", "turns": [{"speaker": "agent", "text": "您好", "confidence": 0.9}]}
    bad = {"id": "b", "turns": [{"speaker": "agent", "text": "您好", "confidence": "low"}]}
    path = tmp_path / "t.jsonl"
    path.write_text("\n".join(json.dumps(x) for x in (good, bad, good)) + "\n", encoding="utf-8")
    rows = list(TranscriptReader(dt.UTC).read(str(path)))
    assert [(r.line, r.error.code if r.error else None) for r in rows] == [
        (1, None),
        (2, "T007"),
        (3, None),
    ]

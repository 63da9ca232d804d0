"""Transcript input: the IO.md shape read row by row, and WebVTT/SRT imports."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from csdsl.records import InputError
from csdsl.transcripts import Transcript, TranscriptReader, Turn, import_subtitles, transcript_from

TZ = dt.timezone(dt.timedelta(hours=8))
GOOD = {
    "id": "T-0001",
    "channel": "phone",
    "started_at": "2024-10-29T09:00:00",
    "agent": "A-17",
    "turns": [
        {
            "speaker": "agent",
            "text": "您好，欢迎致电江南云商客户服务热线",
            "start": 0.0,
            "end": 4.1,
        },
        {"speaker": "customer", "text": "我的订单三天了还没到！", "start": 4.5, "end": 6.0},
        {"speaker": "system", "event": "hold_start", "start": 20.0},
        {"speaker": "system", "event": "hold_end", "start": 75.0},
    ],
}


def test_reads_the_io_shape_and_reports_bad_transcripts_by_line(tmp_path: Path) -> None:
    bad = [
        {"id": "T-2", "turns": [{"speaker": "boss", "text": "x"}]},
        {"id": "T-3", "turns": [{"speaker": "system", "event": "coffee"}]},
        {"id": "T-4", "turns": [{"speaker": "agent"}]},
        {"id": "T-5", "turns": [{"speaker": "agent", "text": "x", "start": 5, "end": 2}]},
        {"turns": []},
        {"id": "T-7", "turns": "none"},
    ]
    path = tmp_path / "t.jsonl"
    lines = [json.dumps(GOOD, ensure_ascii=False)] + [json.dumps(b) for b in bad] + ["{oops"]
    path.write_text("\n".join(lines) + "\n", "utf-8")
    rows = list(TranscriptReader(TZ).read(str(path)))
    assert [(r.line, r.error.code if r.error else None) for r in rows] == [
        (1, None),
        (2, "T002"),
        (3, "T003"),
        (4, "T003"),
        (5, "T004"),
        (6, "R008"),
        (7, "T001"),
        (8, "R001"),
    ]
    t = rows[0].values["transcript"] if rows[0].values else None
    assert t is not None and t.id == "T-0001" and len(t.turns) == 4 and t.timed
    assert t.started_at == dt.datetime(2024, 10, 29, 9, tzinfo=TZ)
    assert [x.event for x in t.turns if x.speaker == "system"] == ["hold_start", "hold_end"]


def test_turns_are_immutable_values_read_by_name() -> None:
    """A `Turn` (a named tuple, built fast) keeps the attrs class's behaviour: fields by name,
    keywords, equality by value, no assignment; and a turn read from JSON equals one built."""
    turns = transcript_from(GOOD, TZ).turns
    assert turns[0] == Turn(0, "agent", "您好，欢迎致电江南云商客户服务热线", None, 0.0, 4.1)
    assert turns[2] == Turn(index=2, speaker="system", event="hold_start", start=20.0)
    assert (turns[1].index, turns[1].speaker, turns[1].times) == (1, "customer", (4.5, 6.0))
    assert turns[2].times is None and turns[2].confidence is None
    with pytest.raises(AttributeError):
        turns[0].text = "changed"  # type: ignore[misc]
    heard = {"speaker": "agent", "text": "您好", "confidence": 0.5, "sentiment": "neutral"}
    turn = transcript_from({"id": 1, "turns": [{**heard, "speech_rate": 3}]}, TZ).turns[0]
    assert (turn.confidence, turn.sentiment, turn.emotion, turn.speech_rate) == (
        0.5,
        "neutral",
        None,
        3.0,
    )
    assert turn._replace(text="x").text == "x" and turn.text == "您好"
    built = Turn(0, "agent", "您好，欢迎致电江南云商客户服务热线", None, 0.0, 4.1)
    assert hash(Transcript("a", turns[:1])) == hash(Transcript("a", (built,)))


def test_csv_is_refused_with_a_reason(tmp_path: Path) -> None:
    (tmp_path / "t.csv").write_text("id\n1\n", "utf-8")
    with pytest.raises(InputError, match="does not fit in CSV"):
        list(TranscriptReader(TZ).read(str(tmp_path / "t.csv")))


def test_webvtt_with_voices_merges_consecutive_segments(tmp_path: Path) -> None:
    vtt = tmp_path / "call.vtt"
    vtt.write_text(
        "WEBVTT\n\n"
        "00:00.000 --> 00:02.500\n<v 客服小王>您好，欢迎致电\n\n"
        "00:02.500 --> 00:04.100\n<v 客服小王>江南云商客户服务热线</v>\n\n"
        "00:04.500 --> 00:06.000\n<v 张先生>我的订单三天了还没到！\n",
        "utf-8",
    )
    t = import_subtitles(vtt, {"张先生": "customer"})
    assert [(x.speaker, x.text, x.start, x.end) for x in t.turns] == [
        ("agent", "您好，欢迎致电江南云商客户服务热线", 0.0, 4.1),
        ("customer", "我的订单三天了还没到！", 4.5, 6.0),
    ]
    assert t.id == "call"


def test_srt_with_labels_and_unknown_speakers(tmp_path: Path) -> None:
    srt = tmp_path / "call.srt"
    srt.write_text(
        "1\n00:00:00,000 --> 00:00:04,100\nAgent: 您好\n\n"
        "2\n00:00:04,500 --> 00:00:06,000\nCustomer：我想投诉\n",
        "utf-8",
    )
    t = import_subtitles(srt)
    assert [(x.speaker, x.text) for x in t.turns] == [("agent", "您好"), ("customer", "我想投诉")]
    srt.write_text("1\n00:00:00,000 --> 00:00:04,100\n小李: 您好\n", "utf-8")
    with pytest.raises(InputError, match="speaker `小李` is neither agent nor customer"):
        import_subtitles(srt)
    assert import_subtitles(srt, {"小李": "agent"}).turns[0].speaker == "agent"

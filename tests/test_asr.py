"""ASR exports (Amazon, Alibaba Cloud, Azure, WebVTT, SRT) imported as IO.md transcripts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, strategies as st

from csdsl.asr import FORMATS, import_export, parse_roles, read_export
from csdsl.records import InputError
from csdsl.transcripts import Transcript

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "examples" / "asr"
STEREO = {"0": "agent", "1": "customer"}

# the call in examples/asr, as merged turns: (speaker, text, start, end)
CALL_TURNS = [
    ("agent", "您好，欢迎致电江南云商客户服务热线，请问有什么可以帮助您？", 0.0, 4.1),
    (
        "customer",
        "你好，我上周买的东西到现在还没收到。物流显示三天没更新了，我的包裹到底到哪了？",
        4.6,
        9.8,
    ),
    ("agent", "非常抱歉给您带来不便，麻烦您提供一下订单号。", 10.3, 13.9),
    ("customer", "订单号是二零二四一零二九零零八八。", 14.5, 18.0),
    ("agent", "好的，我帮您查询一下物流信息，请您稍等片刻，好吗？", 18.4, 22.1),
    ("customer", "好的。", 22.5, 23.2),
    (
        "agent",
        "先生，让您久等了。您的包裹因为暴雨滞留在杭州转运中心，预计明天下午送达。",
        58.2,
        67.8,
    ),
    ("customer", "那能不能帮我催一下？我急着用。", 68.3, 71.5),
    ("agent", "可以的，我已经为您登记加急处理，快递员明天会优先派送。", 72.0, 77.6),
    ("customer", "行，谢谢你。", 78.1, 79.6),
    ("agent", "请问还有其他可以帮您的吗？", 80.0, 83.5),
    ("customer", "没有了。", 83.9, 84.8),
    ("agent", "感谢您的来电，再见。", 85.2, 88.3),
]


def shape(t: Transcript) -> list[tuple[Any, ...]]:
    assert [turn.index for turn in t.turns] == list(range(len(t.turns)))
    assert all(turn.event is None for turn in t.turns)
    return [(turn.speaker, turn.text, turn.start, turn.end) for turn in t.turns]


def write(tmp_path: Path, obj: Any, name: str = "export.json") -> Path:
    path = tmp_path / name
    text = obj if isinstance(obj, str) else json.dumps(obj, ensure_ascii=False)
    path.write_text(text, encoding="utf-8")
    return path


# ---- the samples -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "fmt", "roles", "tid"),
    [
        ("amazon_contact_lens.json", "amazon", None, "b7f3e2a0-5c1d-4e8b-a6f2-3d9c0e1f4a27"),
        ("alibaba_filetrans.json", "alibaba", STEREO, "alibaba_filetrans"),
        ("azure_batch.json", "azure", STEREO, "azure_batch"),
        ("call.vtt", "vtt", None, "call"),
        ("call.srt", "srt", None, "call"),
    ],
)
def test_each_sample_imports_to_the_same_call(
    name: str, fmt: str, roles: dict[str, str] | None, tid: str
) -> None:
    detected = read_export(SAMPLES / name, roles=roles)
    assert detected.format == fmt
    assert detected.transcript.id == tid
    assert shape(detected.transcript) == CALL_TURNS
    explicit = import_export(str(SAMPLES / name), fmt, roles, transcript_id="T-0001")
    assert explicit.id == "T-0001"
    assert shape(explicit) == CALL_TURNS


def test_the_samples_report_their_roles_and_skips() -> None:
    amazon = read_export(SAMPLES / "amazon_contact_lens.json")
    assert amazon.speakers == {"AGENT": "agent", "CUSTOMER": "customer"}
    assert amazon.skipped == {}
    azure = read_export(SAMPLES / "azure_batch.json", roles=STEREO)
    assert azure.speakers == STEREO
    assert azure.skipped == {"recognitionStatus NoMatch": 1}  # the hold music


def test_swapped_roles_swap_the_speakers() -> None:
    swapped = import_export(
        SAMPLES / "alibaba_filetrans.json", roles={"0": "customer", "1": "agent"}
    )
    assert [t.speaker for t in swapped.turns] == [
        {"agent": "customer", "customer": "agent"}[s] for s, *_ in CALL_TURNS
    ]
    # a map overrides Amazon's own roles too
    amazon = import_export(
        SAMPLES / "amazon_contact_lens.json", roles={"AGENT": "customer", "CUSTOMER": "agent"}
    )
    assert amazon.turns[0].speaker == "customer"


def test_ignoring_a_channel_merges_the_other_into_one_turn() -> None:
    got = read_export(SAMPLES / "alibaba_filetrans.json", roles={"0": "agent", "1": "ignore"})
    assert len(got.transcript.turns) == 1
    turn = got.transcript.turns[0]
    assert (turn.speaker, turn.start, turn.end) == ("agent", 0.0, 88.3)
    assert turn.text is not None and turn.text.endswith(
        "请问还有其他可以帮您的吗？感谢您的来电，再见。"
    )
    assert got.skipped == {"label 1 ignored": 7}


# ---- Amazon ------------------------------------------------------------------------------


def amazon_item(role: str, text: str, begin: int, end: int, **extra: Any) -> dict[str, Any]:
    return {
        "Id": f"id-{begin}",
        "ParticipantId": role,
        "ParticipantRole": role,
        "Content": text,
        "BeginOffsetMillis": begin,
        "EndOffsetMillis": end,
        "Sentiment": "NEUTRAL",
        **extra,
    }


def test_amazon_call_analytics_uses_the_job_name_then_the_file_name(tmp_path: Path) -> None:
    items = [amazon_item("AGENT", "您好", 0, 900), amazon_item("CUSTOMER", "你好", 1000, 1500)]
    job = write(tmp_path, {"JobName": "call-0042", "Transcript": items}, "analytics.json")
    assert import_export(job).id == "call-0042"
    bare = write(tmp_path, {"Transcript": items}, "CALL-7.json")
    t = import_export(bare)
    assert t.id == "CALL-7"
    assert shape(t) == [("agent", "您好", 0.0, 0.9), ("customer", "你好", 1.0, 1.5)]


def test_amazon_extra_participants_need_a_role(tmp_path: Path) -> None:
    items = [
        amazon_item("AGENT", "您好", 0, 900),
        amazon_item("SUPERVISOR", "（监听）", 950, 980),
        amazon_item("CUSTOMER", "你好", 1000, 1500),
    ]
    path = write(tmp_path, {"Transcript": items})
    with pytest.raises(InputError) as err:
        import_export(path)
    msg = str(err.value)
    assert str(path) in msg and "`SUPERVISOR`" in msg
    assert "--roles SUPERVISOR=<agent|customer|ignore>" in msg
    got = read_export(path, roles={"supervisor": "ignore"})  # labels match in any case
    assert shape(got.transcript) == [("agent", "您好", 0.0, 0.9), ("customer", "你好", 1.0, 1.5)]
    assert got.skipped == {"label SUPERVISOR ignored": 1}


def test_amazon_participant_id_stands_in_for_a_missing_role(tmp_path: Path) -> None:
    item = amazon_item("AGENT", "您好", 0, 900)
    del item["ParticipantRole"]
    assert import_export(write(tmp_path, {"Transcript": [item]})).turns[0].speaker == "agent"


# ---- Alibaba Cloud -----------------------------------------------------------------------


def sentence(channel: int, text: str, begin: int, end: int, **extra: Any) -> dict[str, Any]:
    return {
        "EndTime": end,
        "SilenceDuration": 0,
        "BeginTime": begin,
        "Text": text,
        "ChannelId": channel,
        "SpeechRate": 200,
        "EmotionValue": 5.0,
        **extra,
    }


STEREO_SENTENCES = [  # the export lists channel 0, then channel 1
    sentence(0, "您好，请问有什么可以帮您？", 0, 2000),
    sentence(0, "请您稍等片刻，好吗？", 5200, 6800),
    sentence(0, "让您久等了。", 30000, 31000),
    sentence(1, "我的包裹还没到。", 2300, 3500),
    sentence(1, "三天了。", 3600, 4900),
    sentence(1, "好的。", 7000, 7400),
]
STEREO_TURNS = [
    ("agent", "您好，请问有什么可以帮您？", 0.0, 2.0),
    ("customer", "我的包裹还没到。三天了。", 2.3, 4.9),
    ("agent", "请您稍等片刻，好吗？", 5.2, 6.8),
    ("customer", "好的。", 7.0, 7.4),
    ("agent", "让您久等了。", 30.0, 31.0),
]


@pytest.mark.parametrize(
    "wrap",
    [
        lambda s: {"StatusText": "SUCCESS", "Result": {"Sentences": s}},
        lambda s: {"Sentences": s},
        lambda s: {"body": {"TaskId": "x", "StatusText": "SUCCESS", "Result": {"Sentences": s}}},
        lambda s: {"StatusText": "SUCCESS", "Result": json.dumps({"Sentences": s})},
    ],
    ids=["GetTaskResult", "bare", "response-wrapper", "result-as-string"],
)
def test_alibaba_channels_interleave_by_time(tmp_path: Path, wrap: Any) -> None:
    got = read_export(write(tmp_path, wrap(STEREO_SENTENCES)), roles=STEREO)
    assert got.format == "alibaba"
    assert shape(got.transcript) == STEREO_TURNS


def test_alibaba_lowercase_and_snake_case_fields(tmp_path: Path) -> None:
    flash = {
        "status": 20000000,
        "message": "SUCCESS",
        "flash_result": {
            "duration": 7400,
            "sentences": [
                {
                    "text": s["Text"],
                    "begin_time": s["BeginTime"],
                    "end_time": s["EndTime"],
                    "channel_id": s["ChannelId"],
                }
                for s in STEREO_SENTENCES
            ],
        },
    }
    assert shape(import_export(write(tmp_path, flash), roles=STEREO)) == STEREO_TURNS
    camel = {"sentences": [{"beginTime": 0, "endTime": 800, "text": "您好", "channelId": 0}]}
    assert shape(import_export(write(tmp_path, camel), roles=STEREO)) == [
        ("agent", "您好", 0.0, 0.8)
    ]


def test_alibaba_diarized_speakers_are_the_labels(tmp_path: Path) -> None:
    mono = [
        sentence(0, "您好。", 0, 1000, SpeakerId="1"),
        sentence(0, "你好。", 1200, 1800, SpeakerId="2"),
    ]
    path = write(tmp_path, {"Result": {"Sentences": mono}})
    with pytest.raises(InputError, match=r"`1`, `2`.*--roles 1=agent,2=customer"):
        import_export(path)
    assert [
        t.speaker for t in import_export(path, roles={"1": "agent", "2": "customer"}).turns
    ] == [
        "agent",
        "customer",
    ]


def test_alibaba_empty_and_unfinished_results(tmp_path: Path) -> None:
    empty = write(tmp_path, {"StatusText": "SUCCESS_WITH_NO_VALID_FRAGMENT", "TaskId": "t"})
    assert import_export(empty).turns == ()
    running = write(tmp_path, {"StatusText": "RUNNING", "TaskId": "t"}, "running.json")
    with pytest.raises(InputError, match=r"running\.json: .*status is `RUNNING`.*SUCCESS"):
        import_export(running)


def test_empty_text_is_skipped_and_counted(tmp_path: Path) -> None:
    s = [sentence(0, "您好", 0, 500), sentence(1, "  ", 600, 700), sentence(0, "请讲", 800, 900)]
    got = read_export(write(tmp_path, {"Result": {"Sentences": s}}), roles=STEREO)
    assert shape(got.transcript) == [("agent", "您好请讲", 0.0, 0.9)]
    assert got.skipped == {"empty text": 1}


# ---- Azure -------------------------------------------------------------------------------


def phrase(
    label: int, text: str, begin_ms: int, dur_ms: int, key: str = "channel"
) -> dict[str, Any]:
    return {
        "recognitionStatus": "Success",
        key: label,
        "offset": f"PT{begin_ms / 1000:g}S",
        "duration": f"PT{dur_ms / 1000:g}S",
        "offsetInTicks": float(begin_ms * 10_000),
        "durationInTicks": float(dur_ms * 10_000),
        "nBest": [{"confidence": 0.9, "lexical": text.lower(), "display": text}],
    }


def test_azure_speakers_times_and_skips(tmp_path: Path) -> None:
    phrases = [
        {**phrase(1, "Thank you for calling.", 0, 1500, "speaker"), "channel": 0},
        {**phrase(1, "How can I help?", 1600, 1000, "speaker"), "channel": 0},
        {"recognitionStatus": "InitialSilenceTimeout", "channel": 0, "offsetInTicks": 0.0},
        {**phrase(2, "My parcel is late.", 2800, 1200, "speaker"), "channel": 0},
    ]
    path = write(tmp_path, {"recognizedPhrases": phrases})
    with pytest.raises(InputError, match=r"speakers `1`, `2` say nothing"):
        import_export(path)
    got = read_export(path, roles={"1": "agent", "2": "customer"})
    assert shape(got.transcript) == [
        ("agent", "Thank you for calling. How can I help?", 0.0, 2.6),  # English keeps its gap
        ("customer", "My parcel is late.", 2.8, 4.0),
    ]
    assert got.skipped == {"recognitionStatus InitialSilenceTimeout": 1}


def test_azure_iso_offsets_and_fast_transcription(tmp_path: Path) -> None:
    iso = phrase(0, "您好", 61_500, 2_250)
    del iso["offsetInTicks"], iso["durationInTicks"]
    iso["offset"] = "PT1M1.5S"
    t = import_export(write(tmp_path, {"recognizedPhrases": [iso]}), roles=STEREO)
    assert shape(t) == [("agent", "您好", 61.5, 63.75)]
    fast = {
        "durationMilliseconds": 3000,
        "combinedPhrases": [{"text": "您好你好"}],
        "phrases": [
            {"channel": 0, "offsetMilliseconds": 0, "durationMilliseconds": 900, "text": "您好"},
            {"channel": 1, "offsetMilliseconds": 1000, "durationMilliseconds": 500, "text": "你好"},
        ],
    }
    got = read_export(write(tmp_path, fast, "fast.json"), roles=STEREO)
    assert got.format == "azure"
    assert shape(got.transcript) == [("agent", "您好", 0.0, 0.9), ("customer", "你好", 1.0, 1.5)]


# ---- detection and subtitles --------------------------------------------------------------


def test_subtitles_are_detected_by_content_without_their_suffix(tmp_path: Path) -> None:
    vtt = (SAMPLES / "call.vtt").read_text(encoding="utf-8")
    srt = (SAMPLES / "call.srt").read_text(encoding="utf-8")
    assert read_export(write(tmp_path, vtt, "call.txt")).format == "vtt"
    got = read_export(write(tmp_path, srt, "call2.txt"))
    assert got.format == "srt"
    assert shape(got.transcript) == CALL_TURNS
    # a subtitle speaker can be named by the map
    labelled = write(tmp_path, "1\n00:00:00,000 --> 00:00:01,000\nA: 您好\n", "x.srt")
    assert import_export(labelled, roles={"A": "agent"}).turns[0].speaker == "agent"


def test_the_format_given_must_fit(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"not an Azure .*`recognizedPhrases`"):
        import_export(SAMPLES / "alibaba_filetrans.json", "azure", STEREO)
    with pytest.raises(InputError, match=r"not an Amazon .*`Transcript`"):
        import_export(SAMPLES / "azure_batch.json", "amazon")
    with pytest.raises(InputError, match=r"not an Alibaba .*Sentences"):
        import_export(SAMPLES / "amazon_contact_lens.json", "alibaba")
    with pytest.raises(InputError, match=r"not JSON"):
        import_export(SAMPLES / "call.vtt", "amazon")
    with pytest.raises(InputError, match=r"unknown export format `whisper`; use amazon"):
        import_export(SAMPLES / "call.vtt", "whisper")
    assert set(FORMATS) == {"amazon", "alibaba", "azure", "vtt", "srt"}


# ---- roles on the command line ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0=agent,1=customer", {"0": "agent", "1": "customer"}),
        (" spk_0 = Agent ", {"spk_0": "agent"}),
        ("Guest-1=customer，Guest-2=agent,", {"Guest-1": "customer", "Guest-2": "agent"}),
        ("SUPERVISOR=ignore,0=agent,0=agent", {"SUPERVISOR": "ignore", "0": "agent"}),
    ],
)
def test_parse_roles(text: str, expected: dict[str, str]) -> None:
    assert parse_roles(text) == expected


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "empty role map"),
        (" , ", "empty role map"),
        ("0", "bad role map entry `0`"),
        ("=agent", "bad role map entry `=agent`"),
        ("0=boss", "bad role for `0`: `boss`"),
        ("0=agent,1=", "bad role for `1`"),
        ("0=agent,0=customer", "label `0` is given two roles"),
    ],
)
def test_parse_roles_rejects_with_one_lowercase_line(text: str, fragment: str) -> None:
    with pytest.raises(ValueError) as err:
        parse_roles(text)
    msg = str(err.value)
    assert fragment in msg
    assert "\n" not in msg and msg[0].islower()


# ---- errors --------------------------------------------------------------------------------

OK_ITEM = amazon_item("AGENT", "您好", 0, 900)


def amazon_with(**change: Any) -> dict[str, Any]:
    item = {k: v for k, v in {**OK_ITEM, **change}.items() if v is not ...}
    return {"Transcript": [OK_ITEM, item]}


BAD: list[tuple[str, Any, dict[str, str] | None, str]] = [
    ("not-json", "{'Transcript': []}", None, r"not JSON \(.* line 1 column 2\)"),
    ("json-array", [OK_ITEM], None, r"it holds an array, not an object"),
    ("json-number", 3, None, r"it holds a number, not an object"),
    ("unknown-keys", {"segments": []}, None, r"top-level keys are `segments`.*recognizedPhrases"),
    ("canonical", {"id": "T-1", "turns": []}, None, r"already a transcript in the csdsl shape"),
    ("transcribe-words", {"jobName": "j", "results": {"items": []}}, None, r"word-by-word"),
    ("item-not-object", {"Transcript": ["您好"]}, None, r"Transcript\[0\] is not an object"),
    ("no-content", amazon_with(Content=...), None, r"Transcript\[1\]: no `Content`"),
    ("content-number", amazon_with(Content=7), None, r"`Content` must be text, got 7"),
    ("no-begin", amazon_with(BeginOffsetMillis=...), None, r"no `BeginOffsetMillis`"),
    ("no-end", amazon_with(EndOffsetMillis=None), None, r"no `EndOffsetMillis`"),
    ("negative", amazon_with(BeginOffsetMillis=-5), None, r"number of ms \(0 or more\), got -5"),
    ("text-time", amazon_with(BeginOffsetMillis="soon"), None, r'got "soon"'),
    ("bool-time", amazon_with(EndOffsetMillis=True), None, r"got true"),
    ("end-before-start", amazon_with(BeginOffsetMillis=2000), None, r"ends \(0\.9 s\) before"),
    (
        "no-role",
        amazon_with(ParticipantRole=..., ParticipantId=...),
        None,
        r"Transcript\[1\]: no `ParticipantRole`",
    ),
    ("role-bool", amazon_with(ParticipantRole=False), None, r"must be a name or a number"),
    (
        "alibaba-no-text",
        {"Result": {"Sentences": [{"BeginTime": 0, "EndTime": 5, "ChannelId": 0}]}},
        STEREO,
        r"Result\.Sentences\[0\]: no `Text`",
    ),
    (
        "alibaba-no-time",
        {"Result": {"Sentences": [{"Text": "您好", "EndTime": 5, "ChannelId": 0}]}},
        STEREO,
        r"no `BeginTime`",
    ),
    (
        "azure-no-text",
        {"recognizedPhrases": [{"recognitionStatus": "Success", "channel": 0}]},
        STEREO,
        r"recognizedPhrases\[0\]: no `nBest\[0\]\.display`",
    ),
    (
        "azure-no-time",
        {"recognizedPhrases": [{"channel": 0, "nBest": [{"display": "您好"}]}]},
        STEREO,
        r"no `offsetInTicks` or `offset`",
    ),
    (
        "azure-bad-iso",
        {"recognizedPhrases": [{"channel": 0, "offset": "1.5s", "nBest": [{"display": "x"}]}]},
        STEREO,
        r'ISO 8601 duration such as PT1\.23S, got "1\.5s"',
    ),
    (
        "nan",
        '{"Transcript": [{"ParticipantRole": "AGENT", "Content": "x", '
        '"BeginOffsetMillis": NaN, "EndOffsetMillis": 1}]}',
        None,
        r"`NaN` is not a JSON value",
    ),
    ("deep", "[" * 100_000 + "]" * 100_000, None, r"not JSON"),
    ("huge-int", '{"Transcript": [' + "9" * 5000 + "]}", None, r"not JSON"),
    ("bad-role-value", amazon_with(), {"AGENT": "boss"}, r"gives `AGENT` the role 'boss'"),
    (
        "unmapped",
        {"Result": {"Sentences": [sentence(0, "您好", 0, 1), sentence(2, "你好", 2, 3)]}},
        {"0": "agent", "1": "customer"},
        r"no role for `2` \(channels found: `0`, `2`\).*--roles 0=agent,2=<agent\|customer",
    ),
]


@pytest.mark.parametrize(("obj", "roles", "pattern"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_every_bad_export_is_an_input_error_naming_the_file(
    tmp_path: Path, obj: Any, roles: dict[str, str] | None, pattern: str
) -> None:
    path = write(tmp_path, obj, "bad-export.json")
    with pytest.raises(InputError, match=pattern) as err:
        import_export(path, roles=roles)
    assert str(err.value).startswith(f"{path}: ")


def test_unreadable_files_are_input_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"missing\.json: no such file"):
        import_export(tmp_path / "missing.json")
    with pytest.raises(InputError, match=r"is a directory"):
        import_export(tmp_path)
    latin = tmp_path / "latin.json"
    latin.write_bytes('{"Text": "caf\u00e9"}'.encode("latin-1"))
    with pytest.raises(InputError, match=r"latin\.json: not UTF-8 text"):
        import_export(latin)
    with pytest.raises(InputError, match=r"gone\.vtt: no such file"):
        import_export(tmp_path / "gone.vtt")


# ---- property: every JSON format imports to the merged segments ---------------------------------

SEGMENTS = st.lists(
    st.tuples(
        st.sampled_from(["agent", "customer"]),
        st.text(alphabet="您好谢。ab ", max_size=4),
        st.integers(0, 600_000),  # start, ms
        st.integers(0, 30_000),  # duration, ms
    ),
    max_size=12,
)


def merged(segments: list[tuple[str, str, int, int]]) -> list[tuple[Any, ...]]:
    """What the import must give: segments with text, by start time (ties in file order),
    one speaker's run as one turn: texts joined (a space between two ASCII characters),
    the first start and the last end."""
    turns: list[list[Any]] = []
    for role, text, start, dur in sorted(segments, key=lambda s: s[2]):
        text = text.strip()
        if not text:
            continue
        if turns and turns[-1][0] == role:
            prev = turns[-1][1]
            gap = " " if prev[-1].isascii() and text[0].isascii() else ""
            turns[-1][1] = prev + gap + text
            turns[-1][3] = (start + dur) / 1000
        else:
            turns.append([role, text, start / 1000, (start + dur) / 1000])
    return [tuple(t) for t in turns]


def render(fmt: str, segments: list[tuple[str, str, int, int]]) -> Any:
    channel = {"agent": 0, "customer": 1}
    if fmt == "amazon":
        return {
            "JobName": "prop",
            "Transcript": [amazon_item(r.upper(), t, s, s + d) for r, t, s, d in segments],
        }
    if fmt == "alibaba":
        return {
            "StatusText": "SUCCESS",
            "Result": {"Sentences": [sentence(channel[r], t, s, s + d) for r, t, s, d in segments]},
        }
    return {"recognizedPhrases": [phrase(channel[r], t, s, d) for r, t, s, d in segments]}


@given(segments=SEGMENTS)
def test_every_json_format_imports_to_the_merged_segments(
    tmp_path_factory: pytest.TempPathFactory, segments: list[tuple[str, str, int, int]]
) -> None:
    folder = tmp_path_factory.mktemp("prop")
    want = merged(segments)
    for fmt in ("amazon", "alibaba", "azure"):
        path = write(folder, render(fmt, segments), f"{fmt}.json")
        got = read_export(path, roles=None if fmt == "amazon" else STEREO)
        assert got.format == fmt
        assert shape(got.transcript) == want, fmt


def test_an_export_that_cannot_be_imported_is_its_files_bad_row(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # one malformed export among several: before, the run stopped with exit 2 and the files
    # after it were never judged
    from csdsl.cli import main

    broken = tmp_path / "broken.json"
    broken.write_text('{"Transcript": 5}', encoding="utf-8")
    good = Path(__file__).resolve().parents[1] / "examples" / "asr" / "amazon_contact_lens.json"
    policy = str(Path(__file__).resolve().parents[1] / "policies" / "hotline_qa.csp")
    argv = ["transcripts", policy, str(broken), str(good), "--from", "amazon"]
    assert main(argv) == 0
    out, err = capsys.readouterr()
    assert out.startswith(f"file  {broken}  error  T006 ")
    assert "score" in out.splitlines()[1]  # the good file after it is judged
    assert "2 transcripts read: 1 good, 1 bad" in err

"""Hostile data files never crash a reader or lose a row without a word (issue 14).

Every reader (records from .jsonl, .json, .csv and standard input, event logs, transcripts, ASR
exports and subtitles) gives, for any content, either rows (good, or bad with a line number and
a reason) or an `InputError` for a file that cannot be read at all: never another exception, and
rows in = good rows + bad rows.  The regression tests below each failed on the tree before the
fix; the Hypothesis property at the end mixes every hostile kind into files of every format.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import sys
import time
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import csdsl
from csdsl import ir
from csdsl.asr import read_export
from csdsl.cli import main
from csdsl.records import EventReader, InputError, RecordReader, Row, count_rows, id_key
from csdsl.transcripts import TranscriptReader, import_subtitles

TZ = dt.timezone(dt.timedelta(hours=8))
REC = ir.Record(
    "R",
    (
        ir.Field("n", ir.INT, True),
        ir.Field("x", ir.NUMBER, True),
        ir.Field("t", ir.TEXT, True),
        ir.Field("dur", ir.DURATION, True),
    ),
)
ROOT = Path(__file__).resolve().parent.parent
DEEP_ARRAY = "[" * 3000 + "]" * 3000
DEEP_OBJECT = '{"a":' * 3000 + "1" + "}" * 3000
BIG_INT = "9" * 4301
TRANSCRIPT = {"id": "T-1", "turns": [{"speaker": "agent", "text": "您好"}]}


def reader() -> RecordReader:
    return RecordReader(REC, TZ)


def rows_of(tmp_path: Path, name: str, text: str, of: RecordReader | None = None) -> list[Row]:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return list((of or reader()).read(str(path)))


def problems(rows: list[Row]) -> list[tuple[int, str, str]]:
    return [(r.line, r.error.code, r.error.message) for r in rows if r.error is not None]


# ---- 1. nesting deeper than json's recursion limit --------------------------------------


@pytest.mark.parametrize("deep", [DEEP_ARRAY, DEEP_OBJECT], ids=["array", "object"])
def test_deep_nesting_is_r001_in_records_events_and_transcripts(tmp_path: Path, deep: str) -> None:
    text = '{"id": 1}\n' + deep + '\n{"id": 3}\n'
    for of in (reader(), EventReader(TZ), TranscriptReader(TZ)):
        rows = rows_of(tmp_path, "deep.jsonl", text, of)
        assert len(rows) == 3
        assert rows[1].error is not None and rows[1].error.code == "R001"
        assert "nested too deeply" in rows[1].error.message and rows[1].line == 2
    # in a .json array the item is skipped and the items after it are still read
    rows = rows_of(tmp_path, "deep.json", f'[{{"id": 1}},\n{deep},\n{{"id": 3}}]')
    assert [(r.line, r.id, r.error and r.error.code) for r in rows] == [
        (1, 1, None),
        (2, None, "R001"),
        (3, 3, None),
    ]


def test_deep_nesting_in_a_field_value_is_a_bad_row_too(tmp_path: Path) -> None:
    rows = rows_of(tmp_path, "d.jsonl", '{"id": 1, "t": ' + DEEP_ARRAY + "}\n")
    assert problems(rows)[0][:2] == (1, "R001")


# ---- 2. lone surrogates ------------------------------------------------------------------


def test_a_lone_surrogate_is_refused_naming_its_field(tmp_path: Path) -> None:
    text = (
        '{"id": "\\ud800"}\n'
        '{"id": 2, "t": "ok \\udfff"}\n'
        '{"id": 3, "\\ud83d": 1}\n'
        '["\\udc00"]\n'
        '{"id": 5, "t": "\\ud83d\\ude00"}\n'  # a pair is one character: a good row
        '{"id": 6, "t": "\\\\ud800"}\n'  # an escaped backslash, then text: good
    )
    rows = rows_of(tmp_path, "s.jsonl", text)
    got = [(r.line, r.id, r.error and (r.error.code, r.error.field)) for r in rows]
    assert got == [
        (1, None, ("R004", "id")),
        (2, 2, ("R004", "t")),
        (3, 3, ("R001", None)),
        (4, None, ("R001", None)),
        (5, 5, None),
        (6, 6, None),
    ]
    assert rows[0].error is not None
    assert rows[0].error.message == (
        "`id` holds a lone surrogate \\ud800, which is not a character"
    )
    assert rows[4].values == {"n": None, "x": None, "t": "😀", "dur": None}
    for r in rows:  # whatever was read can be written out again
        json.dumps(
            {"id": r.id, "error": r.error and r.error.to_json()}, ensure_ascii=False
        ).encode()


def test_a_lone_surrogate_in_a_transcript_or_an_export(tmp_path: Path) -> None:
    bad = {"id": "T-2", "turns": [{"speaker": "agent", "text": "\ud800"}]}
    text = json.dumps(TRANSCRIPT) + "\n" + json.dumps(bad) + "\n"
    rows = rows_of(tmp_path, "t.jsonl", text, TranscriptReader(TZ))
    assert rows[0].error is None
    assert problems(rows) == [
        (2, "R004", "`turns[0].text` holds a lone surrogate \\ud800, which is not a character")
    ]
    export = tmp_path / "call.json"
    export.write_text(
        '{"Transcript": [{"ParticipantRole": "AGENT", "Content": "\\ud800", '
        '"BeginOffsetMillis": 0, "EndOffsetMillis": 1}]}',
        encoding="utf-8",
    )
    with pytest.raises(InputError, match="lone surrogate"):
        read_export(export)


def test_validate_json_output_survives_a_surrogate(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "s.jsonl"
    data.write_text('{"id": "\\ud800", "received_at": "2024-10-29T08:00:00+08:00"}\n', "utf-8")
    code = main(["validate", str(ROOT / "policies/complaint_validity.csp"), str(data)])
    out, err = capsys.readouterr()
    assert code == 0 and "R004" in out and "lone surrogate" in out
    assert "internal error" not in err


# ---- 3. integers too long for Python ------------------------------------------------------


def test_integers_beyond_python_limits_are_bad_rows(tmp_path: Path) -> None:
    text = (
        f'{{"id": {BIG_INT}}}\n'
        f'{{"id": 2, "n": {BIG_INT}}}\n'
        f'{{"id": 3, "n": 1{"0" * 400}}}\n'  # parses, but no float holds it
        f'{{"id": 4, "dur": 1{"0" * 400}}}\n'
        f'{{"id": 5, "x": 1{"0" * 400}}}\n'
    )
    rows = rows_of(tmp_path, "big.jsonl", text)
    assert [(line, code) for line, code, _ in problems(rows)] == [
        (1, "R001"),
        (2, "R001"),
        (3, "R004"),
        (4, "R004"),
        (5, "R004"),
    ]
    assert "more than 4300 digits" in problems(rows)[0][2]
    assert (
        problems(rows)[2][2] == "`n`: a number of 401 digits is too large (at most about 1.8e308)"
    )
    cells = rows_of(tmp_path, "big.csv", f"id,n,x\n1,{BIG_INT},{BIG_INT}\n2,3,4\n")
    assert [(r.line, r.error and r.error.code) for r in cells] == [(2, "R004"), (3, None)]
    assert cells[0].error is not None and "(4,301 characters)" in cells[0].error.message


# ---- 4. NaN and Infinity are not JSON -----------------------------------------------------


def test_nan_and_infinity_are_r001(tmp_path: Path) -> None:
    text = '{"id": NaN}\n{"id": 2, "x": Infinity}\n{"id": 3, "x": -Infinity}\n{"id": 4}\n'
    rows = rows_of(tmp_path, "nan.jsonl", text)
    assert [(line, code) for line, code, _ in problems(rows)] == [
        (1, "R001"),
        (2, "R001"),
        (3, "R001"),
    ]
    assert problems(rows)[0][2] == (
        "not valid JSON: `NaN` is not a JSON value (RFC 8259); write null or a number"
    )
    rows = rows_of(tmp_path, "nan.json", '[{"id": NaN},\n{"id": 2}]')
    assert [(r.line, r.error and r.error.code) for r in rows] == [(1, "R001"), (2, None)]
    events = rows_of(
        tmp_path,
        "ev.jsonl",
        '{"case": NaN, "at": "2024-10-29T08:00", "event": "x"}\n',
        EventReader(TZ),
    )
    assert problems(events)[0][:2] == (1, "R001")


# ---- 5. and 6. CSV cells: very long, and quotes never closed -------------------------------


def test_a_csv_cell_beyond_csvs_field_limit_is_read(tmp_path: Path) -> None:
    long = "长" * 200_000
    rows = rows_of(tmp_path, "long.csv", f"id,t\n1,{long}\n2,b\n")
    assert [(r.line, r.error) for r in rows] == [(2, None), (3, None)]
    assert rows[0].values is not None and rows[0].values["t"] == long


CSV_7 = 'id,n\n1,1\n2,2\n3,"oops\n4,4\n5,5\n6,6\n7,7\n'


def test_an_unterminated_quote_is_reported_and_the_rest_read_again(tmp_path: Path) -> None:
    rows = rows_of(tmp_path, "q.csv", CSV_7)
    assert len(rows) == 7 and count_rows(str(tmp_path / "q.csv")) == 7
    assert [r.id for r in rows if r.error is None] == ["1", "2", "4", "5", "6", "7"]
    assert problems(rows) == [
        (
            4,
            "R009",
            "unterminated quote opened on line 4 runs to the end of the file (5 lines); "
            "the lines after line 4 are read again as rows",
        )
    ]
    # a quoted cell over two lines, closed, is one row; the quote after it opens on its line
    rows = rows_of(tmp_path, "q2.csv", 'id,t\n1,"a\nb"\n2,"x""y\n3,c\n')
    assert [(r.line, r.error and r.error.code) for r in rows] == [
        (2, None),
        (4, "R009"),
        (5, None),
    ]
    assert rows[0].values is not None and rows[0].values["t"] == "a\nb"


def test_validate_counts_every_row_of_a_csv_with_an_open_quote(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = (ROOT / "examples/complaints.csv").read_text(encoding="utf-8").splitlines()[:8]
    lines[3] = lines[3].replace(",simple,", ',"simple,', 1).replace(",complex,", ',"complex,', 1)
    data = tmp_path / "c.csv"
    data.write_text("\n".join(lines) + "\n", encoding="utf-8")
    code = main(["validate", str(ROOT / "policies/complaint_validity.csp"), str(data)])
    _, err = capsys.readouterr()
    assert code == 0
    assert "7 rows read: 6 good, 1 bad" in err


def test_a_header_whose_quote_never_closes_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="the header row opens a quote that is never closed"):
        rows_of(tmp_path, "h.csv", 'id,"n\n1,2\n')


# ---- 7. data after a JSON array -------------------------------------------------------------


def test_data_after_the_closing_bracket_is_a_bad_row(tmp_path: Path) -> None:
    rows = rows_of(tmp_path, "two.json", '[{"id": 1},\n{"id": 2}]\n[{"id": 3},\n{"id": 4}]\n')
    assert [(r.line, r.id) for r in rows] == [(1, 1), (2, 2), (3, None)]
    assert problems(rows) == [
        (
            3,
            "R001",
            "data after the closing `]` on line 2: a .json file holds one array, so the rest of "
            "the file (2 lines) is not read; put every record in the one array, or use .jsonl",
        )
    ]
    assert count_rows(str(tmp_path / "two.json")) == 3
    assert problems(rows_of(tmp_path, "e.json", "[]\nx"))[0][:2] == (2, "R001")
    assert rows_of(tmp_path, "ok.json", '[{"id": 1}]\n\n') != []  # white space is fine
    assert problems(rows_of(tmp_path, "ok.json", '[{"id": 1}]\n\n')) == []


# ---- 8. and 9. standard input is read as a file is --------------------------------------------


def stdin_bytes(data: bytes) -> io.TextIOWrapper:
    return io.TextIOWrapper(io.BytesIO(data), encoding="utf-8")


def test_stdin_accepts_a_bom_like_a_file() -> None:
    with mock.patch.object(sys, "stdin", stdin_bytes(b'\xef\xbb\xbf{"id": 1}\n{"id": 2}\n')):
        rows = list(reader().read("-"))
    assert [(r.line, r.id, r.error) for r in rows] == [(1, 1, None), (2, 2, None)]


def test_stdin_that_is_not_utf8_is_an_input_error_like_a_file(tmp_path: Path) -> None:
    data = b'{"id": 1}\n{"id": "x\xff"}\n'
    with (
        mock.patch.object(sys, "stdin", stdin_bytes(data)),
        pytest.raises(InputError, match=r"standard input: not UTF-8 text \(invalid start byte"),
    ):
        list(reader().read("-"))
    (tmp_path / "bad.jsonl").write_bytes(data)
    with pytest.raises(InputError, match="not UTF-8 text"):
        list(reader().read(str(tmp_path / "bad.jsonl")))


def test_no_stdin_at_all_is_an_input_error() -> None:
    with (
        mock.patch.object(sys, "stdin", None),
        pytest.raises(InputError, match="standard input: there is none to read"),
    ):
        list(reader().read("-"))


def test_stdin_lines_end_as_a_files_do() -> None:
    with mock.patch.object(sys, "stdin", stdin_bytes(b'{"id": 1}\r{"id": 2}\r\n{"id": 3}')):
        rows = list(reader().read("-"))
    assert [(r.line, r.id, r.error) for r in rows] == [(1, 1, None), (2, 2, None), (3, 3, None)]


# ---- 10. values are shown as JSON spells them ---------------------------------------------------


def test_a_null_row_and_other_values_are_shown_in_json_words(tmp_path: Path) -> None:
    text = 'null\n{"id": 2, "n": null, "t": true}\n{"id": 3, "n": "' + "7" * 100 + '"}\n'
    got = problems(rows_of(tmp_path, "n.jsonl", text))
    assert got[0][2] == "expected an object with the fields of `R`, got null"
    assert got[1][2] == "`t`: expected text, got true"
    assert got[2][2].endswith('..." (100 characters)')
    bad = {"id": "T-3", "turns": [{"speaker": None, "text": "x"}]}
    rows = rows_of(tmp_path, "t.jsonl", json.dumps(bad) + "\n", TranscriptReader(TZ))
    assert problems(rows)[0][2] == (
        "turns[0]: `speaker` must be agent, customer or system, got null"
    )


# ---- 11. one rule for ids: a whole number is its integer and its decimal text ------------------


def test_whole_number_ids_match_events_however_they_are_spelled(tmp_path: Path) -> None:
    assert id_key(1) == id_key(1.0) == id_key("1") == "1"
    assert id_key("1.0") == "1.0" and id_key(1.5) == "1.5" and id_key("a") == "a"
    policy_path = tmp_path / "p.csp"
    policy_path.write_text(
        'policy "ids" timezone "Asia/Shanghai"\n\n'
        "record Case {\n  received_at: datetime\n}\n\n"
        "deadline reply for Case {\n  starts at received_at\n  stops on replied\n  within 2h\n}\n",
        encoding="utf-8",
    )
    policy = csdsl.load(policy_path)
    records = tmp_path / "r.jsonl"
    records.write_text(
        "".join(
            json.dumps({"id": rid, "received_at": "2024-10-29T09:00:00+08:00"}) + "\n"
            for rid in (1, 2.0, "3")
        ),
        encoding="utf-8",
    )
    events = tmp_path / "e.jsonl"
    events.write_text(
        "".join(
            json.dumps({"case": case, "at": "2024-10-29T10:00:00+08:00", "event": "replied"}) + "\n"
            for case in ("1", 2, 3.0)
        ),
        encoding="utf-8",
    )
    rows, event_problems = policy.timeline_file(records, events, now=None)
    statuses = [[m.status for m in r.timeline.milestones] for r in rows if r.timeline]
    assert statuses == [["met"], ["met"], ["met"]]
    assert event_problems == []  # no V003: every case found its record


# ---- 12. subtitles that are not what they say ---------------------------------------------------


def test_a_vtt_without_its_header_or_cues_is_an_input_error(tmp_path: Path) -> None:
    vtt = tmp_path / "call.vtt"
    vtt.write_text("00:00.000 --> 00:02.000\n<v Agent>您好\n", "utf-8")
    with pytest.raises(InputError, match=r"call\.vtt: line 1: not WebVTT"):
        import_subtitles(vtt)
    with pytest.raises(InputError, match="not WebVTT"):
        read_export(vtt)
    vtt.write_text("WEBVTT\n\nNOTE nothing was said\n", "utf-8")
    with pytest.raises(InputError, match="no cue found"):
        import_subtitles(vtt)
    srt = tmp_path / "call.srt"
    srt.write_text("just some text\n", "utf-8")
    with pytest.raises(InputError, match="no cue found"):
        read_export(srt)


def test_a_cue_that_ends_before_it_starts_is_refused_at_its_line(tmp_path: Path) -> None:
    vtt = tmp_path / "call.vtt"
    vtt.write_text(
        "WEBVTT\n\n00:00.000 --> 00:02.000\n<v Agent>您好\n\n"
        "00:05.000 --> 00:03.000\n<v Customer>你好\n",
        "utf-8",
    )
    with pytest.raises(
        InputError,
        match=r"call\.vtt: line 6: the cue ends \(00:03\.000\) before it starts \(00:05\.000\)",
    ):
        import_subtitles(vtt)
    srt = tmp_path / "call.srt"
    srt.write_text(f"1\n{'9' * 5000}:00:00,000 --> 00:00:01,000\nAgent: 您好\n", "utf-8")
    with pytest.raises(InputError, match=r"line 2: the cue's time is too large"):
        import_subtitles(srt)


def test_a_cue_timing_that_cannot_be_read_is_refused_and_digits_cost_linear_time(
    tmp_path: Path,
) -> None:
    srt = tmp_path / "call.srt"
    srt.write_text("1\n00:00:01,000 --> 00:00:02,000\nAgent: 您好\n\n2\n123:00.000 --> x\nB: y\n")
    with pytest.raises(InputError, match=r"line 6: cannot read the cue's timing"):
        import_subtitles(srt)
    # a line of 300,000 digits: the timing search was quadratic in it (minutes); now linear
    srt.write_text("1\n" + "1" * 300_000 + "\n00:00:01,000 --> 00:00:02,000\nAgent: 您好\n")
    started = time.perf_counter()
    assert [t.text for t in import_subtitles(srt).turns] == ["您好"]
    assert time.perf_counter() - started < 5


# ---- transcripts: a .json file of one object --------------------------------------------------


def test_a_json_file_of_one_transcript_object(tmp_path: Path) -> None:
    rows = rows_of(tmp_path, "one.json", json.dumps(TRANSCRIPT), TranscriptReader(TZ))
    assert [(r.line, r.id, r.error) for r in rows] == [(1, "T-1", None)]
    rows = rows_of(tmp_path, "deep.json", "\n" + DEEP_OBJECT, TranscriptReader(TZ))
    assert problems(rows)[0][:2] == (2, "R001")
    rows = rows_of(tmp_path, "two.json", json.dumps(TRANSCRIPT) + "\n{}", TranscriptReader(TZ))
    assert [(r.line, r.error and r.error.code) for r in rows] == [(1, None), (2, "R001")]
    rows = rows_of(tmp_path, "id.json", '{"id": [1], "turns": []}', TranscriptReader(TZ))
    assert problems(rows)[0][:2] == (1, "R004")


# ---- the property: any mix of good and hostile rows, in every format -----------------------------

GOOD = st.builds(
    lambda i, t: {"id": i, "n": i, "t": t, "dur": "PT1H"},
    st.integers(0, 10**6),
    st.text(st.characters(codec="utf-8", exclude_characters="\r\n\x85\u2028\u2029"), max_size=8),
)
# hostile JSON items: each is one row, in JSONL and in a .json array alike
HOSTILE_ITEMS = [
    DEEP_ARRAY,
    DEEP_OBJECT,
    '{"id": 1, "t": ' + DEEP_ARRAY + "}",
    '{"id": "\\ud800"}',
    '{"id": 1, "t": "a\\udfff"}',
    '{"id": 1, "\\ud800": 1}',
    f'{{"id": {BIG_INT}}}',
    f'{{"id": 1, "n": 1{"0" * 400}}}',
    f'{{"id": 1, "dur": 1{"0" * 400}}}',
    '{"id": NaN}',
    '{"id": 1, "x": Infinity}',
    '{"id": 1, "x": -Infinity}',
    "null",
    '"text"',
    "[]",
    '{"id": 1.0, "t": "\\u001b]0;HACKED\\u0007"}',
    '{"id": null}',
    '{"id": {"a": 1}}',
]
HOSTILE_JSON = st.sampled_from(HOSTILE_ITEMS)
BROKEN_JSON = st.sampled_from(['{"id": 1,}', "{", '{"id": 1} x', "nan", "'a'", "\ufeff{}"])


def jsonl_lines(draw: st.DrawFn, broken: bool) -> list[str]:
    items = st.one_of(
        GOOD.map(lambda o: json.dumps(o, ensure_ascii=False)),
        HOSTILE_JSON,
        *([BROKEN_JSON] if broken else []),
    )
    return draw(st.lists(items, max_size=8))


@st.composite
def jsonl_file(draw: st.DrawFn) -> tuple[str, int]:
    lines = jsonl_lines(draw, broken=True)
    out: list[str] = []
    for line in lines:
        out.append(line)
        out.extend([""] * draw(st.integers(0, 1)))  # blank lines are skipped, still counted
    ends = draw(st.sampled_from(["\n", "\r\n"]))
    return ends.join(out) + draw(st.sampled_from(["", ends])), len(lines)


@st.composite
def json_file(draw: st.DrawFn) -> tuple[str, int]:
    items = jsonl_lines(draw, broken=False)
    trailing = draw(st.sampled_from(["", "\n", "\n[{}]\n", "x", "\n{}"]))
    return "[" + ",\n".join(items) + "]" + trailing, len(items) + bool(trailing.strip())


@st.composite
def csv_file(draw: st.DrawFn) -> tuple[str, int]:
    cell = st.text(st.sampled_from("ab1 长-"), max_size=5)
    row = st.one_of(
        st.builds(lambda i, c: f"{i},{i},{c}", st.integers(0, 99), cell),  # good
        st.just(f"1,{BIG_INT},x"),
        st.just("1," + "长" * 140_000 + ",x"),  # past csv's own field limit
        st.just("1,2"),  # a cell short (R007)
        st.just(",,"),  # blank: skipped, not a row
        st.just('1,"quoted, closed",x'),
    )
    rows = draw(st.lists(row, max_size=6))
    quote_at = draw(st.integers(0, len(rows)))
    if draw(st.booleans()):  # an unterminated quote; the rows after it hold no quote
        rows = [
            *rows[:quote_at],
            '9,"never closed,x',
            *(r.replace('"', "") for r in rows[quote_at:]),
        ]
    counted = sum(1 for r in rows if r.strip(","))
    return "id,n,t\n" + "\n".join(rows) + draw(st.sampled_from(["", "\n"])), counted


def check_rows(rows: list[Row], expected: int, text: str) -> None:
    assert len(rows) == expected
    last = max(1, text.count("\n") + text.count("\r") - text.count("\r\n") + 1)
    for r in rows:
        assert 1 <= r.line <= last
        if r.error is not None:
            assert r.error.code[0] in "RT" and r.error.message and "\n" not in r.error.message
            r.error.message.encode("utf-8")  # a message can always be written out
        if r.values is not None:
            json.dumps(r.values, default=str, ensure_ascii=False).encode("utf-8")


SETTINGS = settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@SETTINGS
@given(jsonl_file(), st.booleans())
def test_any_jsonl_file_or_stdin_gives_one_row_a_line(
    tmp_path: Path, case: tuple[str, int], bom: bool
) -> None:
    text, expected = case
    data = ("\ufeff" if bom else "") + text
    check_rows(rows_of(tmp_path, "r.jsonl", data), expected, text)
    assert count_rows(str(tmp_path / "r.jsonl")) == expected
    with mock.patch.object(sys, "stdin", stdin_bytes(data.encode("utf-8"))):
        check_rows(list(reader().read("-")), expected, text)
    check_rows(rows_of(tmp_path, "e.jsonl", data, EventReader(TZ)), expected, text)
    check_rows(rows_of(tmp_path, "t.jsonl", data, TranscriptReader(TZ)), expected, text)


@SETTINGS
@given(json_file())
def test_any_json_array_gives_one_row_an_item(tmp_path: Path, case: tuple[str, int]) -> None:
    text, expected = case
    check_rows(rows_of(tmp_path, "r.json", text), expected, text)
    assert count_rows(str(tmp_path / "r.json")) == expected
    check_rows(rows_of(tmp_path, "t.json", text, TranscriptReader(TZ)), expected, text)


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(csv_file())
def test_any_csv_file_gives_one_row_a_record(tmp_path: Path, case: tuple[str, int]) -> None:
    text, expected = case
    check_rows(rows_of(tmp_path, "r.csv", text), expected, text)
    assert count_rows(str(tmp_path / "r.csv")) == expected


def test_every_hostile_item_alone_is_one_bad_or_good_row(tmp_path: Path) -> None:
    """The fixed list, without Hypothesis: each hostile item is one row in every reader."""
    for item in HOSTILE_ITEMS:
        for of in (reader(), EventReader(TZ), TranscriptReader(TZ)):
            assert len(rows_of(tmp_path, "one.jsonl", item + "\n", of)) == 1
            assert len(rows_of(tmp_path, "one.json", f"[{item}]", of)) == 1

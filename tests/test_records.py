"""Reading records: formats, line numbers, coercion by type, bad rows never stop the rest."""

from __future__ import annotations

import datetime as dt
import io
import types
import zoneinfo
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, strategies as st

import csdsl
from csdsl import ir
from csdsl.records import EventReader, InputError, RecordReader, RowError

TZ = dt.timezone(dt.timedelta(hours=8))
REC = ir.Record(
    "R",
    (
        ir.Field("flag", ir.BOOL, False),
        ir.Field("n", ir.INT, True),
        ir.Field("x", ir.NUMBER, True),
        ir.Field("t", ir.TEXT, True),
        ir.Field("d", ir.DATE, True),
        ir.Field("at", ir.DATETIME, True),
        ir.Field("dur", ir.DURATION, True),
        ir.Field("tier", ir.Type(ir.Kind.ENUM, ("regular", "key_account")), True),
    ),
)


@pytest.fixture
def reader() -> RecordReader:
    return RecordReader(REC, TZ)


def ok(reader: RecordReader, text: bool = False, **fields: object) -> dict[str, object]:
    return reader.coerce({"id": 1, "flag": True, **fields}, text)[1]


def fails(reader: RecordReader, text: bool = False, **fields: object) -> csdsl.RowError:
    with pytest.raises(csdsl.RowError) as info:
        reader.coerce({"id": 1, "flag": True, **fields}, text)
    return info.value


def test_durations_in_every_documented_form(reader: RecordReader) -> None:
    for raw in ("PT4H", "4h", "240m", "14400", 14400, 14400.0, "P0DT4H", "3h60m"):
        assert ok(reader, dur=raw)["dur"] == dt.timedelta(hours=4), raw
    assert ok(reader, dur="PT1H30M15S")["dur"] == dt.timedelta(hours=1, minutes=30, seconds=15)
    assert fails(reader, dur="P1M").message.startswith("`dur`: `P1M` uses years or months")
    assert fails(reader, dur="soon").code == "R005"  # malformed text, not a wrong kind
    assert fails(reader, dur=1e300).code == "R004"  # too long, not a crash


def test_datetimes_without_offset_are_in_the_policy_zone(reader: RecordReader) -> None:
    assert ok(reader, at="2024-10-29T09:00:00")["at"] == dt.datetime(2024, 10, 29, 9, tzinfo=TZ)
    utc = ok(reader, at="2024-10-29T01:00:00Z")["at"]
    assert utc == dt.datetime(2024, 10, 29, 9, tzinfo=TZ)
    assert "date without a time" in fails(reader, at="2024-10-29").message
    assert fails(reader, at="2024-13-45T25:00:00").field == "at"


def test_json_is_strict_and_csv_text_is_read_by_type(reader: RecordReader) -> None:
    assert fails(reader, flag="yes").code == "R004"
    assert ok(reader, text=True, flag="yes")["flag"] is True
    assert ok(reader, text=True, flag="否")["flag"] is False
    assert fails(reader, text=True, flag="maybe").code == "R004"
    assert ok(reader, text=True, n="3", x="2.5")["n"] == 3
    assert fails(reader, n=2.5).code == "R004"
    assert fails(reader, x=True).code == "R004"
    assert fails(reader, text=True, x="nan").code == "R004"
    assert fails(reader, t=12).code == "R004"
    assert ok(reader, text=True, t="")["t"] is None  # an empty cell is missing


def test_enum_values_are_names(reader: RecordReader) -> None:
    assert ok(reader, tier="key_account")["tier"] == "key_account"
    err = fails(reader, tier="key_acount")
    assert err.code == "R006" and "did you mean `key_account`?" in err.message


def test_missing_id_required_fields_and_non_objects(reader: RecordReader) -> None:
    with pytest.raises(csdsl.RowError) as info:
        reader.coerce({"flag": True})
    assert info.value.code == "R008"
    with pytest.raises(csdsl.RowError) as info:
        reader.coerce({"id": 1})
    assert (info.value.code, info.value.field) == ("R003", "flag")
    with pytest.raises(csdsl.RowError) as info:
        reader.coerce([1, 2])
    assert info.value.code == "R002"
    assert ok(reader, unknown_key=5) == {**dict.fromkeys(f.name for f in REC.fields), "flag": True}


def test_jsonl_keeps_going_after_bad_lines(reader: RecordReader, tmp_path: Path) -> None:
    p = tmp_path / "r.jsonl"
    p.write_text(
        '{"id": 1, "flag": true}\n\n{"id": 2, "fl\n[1]\n{"id": 3, "flag": false}\n',
        encoding="utf-8",
    )
    rows = list(reader.read(str(p)))
    assert [(r.line, r.id, r.error.code if r.error else None) for r in rows] == [
        (1, 1, None),
        (3, None, "R001"),
        (4, None, "R002"),
        (5, 3, None),
    ]


def test_json_array_line_numbers(reader: RecordReader, tmp_path: Path) -> None:
    p = tmp_path / "r.json"
    p.write_text(
        '[\n  {"id": 1, "flag": true},\n\n  {"id": 2,\n   "flag": "x"},\n  {"id": 3, '
        '"flag": false}\n]\n',
        encoding="utf-8",
    )
    rows = list(reader.read(str(p)))
    assert [(r.line, r.error.code if r.error else None) for r in rows] == [
        (2, None),
        (4, "R004"),
        (6, None),
    ]
    p.write_text('[{"id": 1, "flag": true}, {"id": 2', encoding="utf-8")
    rows = list(reader.read(str(p)))
    assert rows[0].error is None and rows[1].error is not None and rows[1].error.code == "R001"
    p.write_text('{"id": 1}', encoding="utf-8")
    with pytest.raises(InputError, match="JSON array"):
        list(reader.read(str(p)))


def test_csv_line_numbers_quoted_newlines_bom(reader: RecordReader, tmp_path: Path) -> None:
    p = tmp_path / "r.csv"
    p.write_text('\ufeffid,flag,t\n1,true,"two\nlines"\n2,true\n\n3,false,ok\n', encoding="utf-8")
    rows = list(reader.read(str(p)))
    assert [(r.line, r.id, r.error.code if r.error else None) for r in rows] == [
        (2, "1", None),
        (4, "2", "R007"),
        (6, "3", None),
    ]
    assert rows[0].values is not None and rows[0].values["t"] == "two\nlines"


def test_unreadable_inputs_raise_input_error(reader: RecordReader, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        list(reader.read(str(tmp_path / "nope.jsonl")))
    (tmp_path / "r.txt").write_text("x", encoding="utf-8")
    with pytest.raises(InputError, match="unknown file type"):
        list(reader.read(str(tmp_path / "r.txt")))
    (tmp_path / "r.csv").write_bytes("id,flag\n1,\xff\n".encode("latin-1"))
    with pytest.raises(InputError, match="not UTF-8"):
        list(reader.read(str(tmp_path / "r.csv")))


def test_stdin_is_jsonl(reader: RecordReader, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO('{"id": "a", "flag": true}\n'))
    (row,) = list(reader.read("-"))
    assert row.id == "a" and row.values is not None


def test_negative_durations_round_trip_through_output(reader: RecordReader) -> None:
    from csdsl.values import format_duration, parse_duration

    for raw in ("-PT5M", "-5m", "-300", -300):
        assert ok(reader, dur=raw)["dur"] == dt.timedelta(minutes=-5), raw
    for td in (dt.timedelta(minutes=-5), dt.timedelta(hours=49, seconds=1), dt.timedelta(0)):
        assert parse_duration(format_duration(td)) == td
    assert fails(reader, dur="--5m").code == "R005"


def test_empty_ids_are_missing_in_json_and_csv(reader: RecordReader) -> None:
    with pytest.raises(csdsl.RowError) as info:
        reader.coerce({"id": "", "flag": True})
    assert info.value.code == "R008"
    with pytest.raises(csdsl.RowError) as info:
        reader.coerce({"id": "", "flag": True}, text=True)
    assert info.value.code == "R008"


_EVENT_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 5),
    st.floats(allow_nan=True),
    st.sampled_from(["", "  ", "C-1", " C-2 ", "replied", "回复", "escalated"]),
    st.sampled_from(
        ["2024-10-29T09:15", "2024-10-29T09:15:00+08:00", "2024-10-29 09:15Z", "2024-13-01T00:00"]
    ),
    st.datetimes().map(lambda d: d.isoformat()),
    st.text(max_size=8),
    st.lists(st.integers(), max_size=2),
)


@given(
    st.dictionaries(
        st.sampled_from(["case", "at", "event", "role", "other"]), _EVENT_VALUES, max_size=5
    ),
    st.sampled_from([dt.UTC, zoneinfo.ZoneInfo("Asia/Shanghai")]),
)
def test_the_events_fast_path_reads_exactly_what_the_general_path_reads(
    obj: dict[str, Any], tz: dt.tzinfo
) -> None:
    """An event that is a plain dict takes a shortcut; the same object behind a read-only
    mapping takes the general path: same id and values, or the same error."""
    reader = EventReader(tz)

    def outcome(o: Any) -> Any:
        try:
            return reader.coerce(o)
        except RowError as exc:
            return (exc.code, exc.message, exc.field)

    assert outcome(obj) == outcome(types.MappingProxyType(obj))

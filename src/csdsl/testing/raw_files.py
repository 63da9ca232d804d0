"""Hypothesis strategies for raw records as files hold them, for engines that read files
themselves (`csdsl.testing`).

In: a checked record type and a time zone.  Out: raw values and records the way JSONL and CSV
exports spell them (`raw_field_values`, `raw_ids`, `raw_records`), whole JSONL files
(`jsonl_lines`) and CSV files (`csv_text`): every spelling the reader accepts (naive and offset
datetimes near midnight and month ends, durations in ISO, compact and seconds, ...), values it
refuses (wrong kind, unparseable text, a missing required field) and lines that are no record at
all.  Any two engines reading the same file must agree on all of them.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import strategies as st

from csdsl import ir


def _local_instants(tz: dt.tzinfo) -> st.SearchStrategy[dt.datetime]:
    """Aware datetimes near the edges of days and months in `tz`, and some anywhere."""
    edges = st.builds(
        lambda y, m, day_end, delta: (
            (
                dt.datetime(y, m, 1, tzinfo=tz)
                + (dt.timedelta(days=32) if day_end else dt.timedelta(0))
            ).replace(day=1)
            + dt.timedelta(seconds=delta)
        ),
        st.sampled_from([2023, 2024]),
        st.integers(1, 12),
        st.booleans(),
        st.sampled_from([-86400, -3601, -1, 0, 1, 59, 3600, 28800, 86399]),
    )
    anywhere = st.datetimes(dt.datetime(2023, 1, 1), dt.datetime(2025, 1, 1)).map(
        lambda d: d.replace(tzinfo=tz)
    )
    return st.one_of(edges, anywhere)


def _datetime_text(
    moment: dt.datetime, tz: dt.tzinfo, plain: bool = False
) -> st.SearchStrategy[str]:
    """Spellings of one instant: naive in `tz`, `Z`, with an offset, minutes only, fractions,
    and unless `plain` the basic format (`20241029T091500`)."""
    local = moment.astimezone(tz).replace(tzinfo=None)
    utc = moment.astimezone(dt.UTC).replace(tzinfo=None)
    offsets = st.sampled_from([0, 330, 480, -300, -720, 840])

    def with_offset(minutes: int) -> str:
        zone = dt.timezone(dt.timedelta(minutes=minutes))
        return moment.astimezone(zone).isoformat()

    return st.one_of(
        st.just(local.isoformat()),
        st.just(local.isoformat(sep=" ")),
        st.just(local.isoformat(timespec="minutes")),
        st.just(utc.isoformat() + "Z"),
        offsets.map(with_offset),
        st.sampled_from([".5", ".25", ".123456", ".000"]).map(
            lambda f: local.replace(microsecond=0).isoformat() + f
        ),
        # the basic format: Python reads it too
        st.just(local.strftime("%Y-%m-%dT%H:%M:%S" if plain else "%Y%m%dT%H%M%S")),
    )


def _duration_text(seconds: int, plain: bool = False) -> st.SearchStrategy[Any]:
    h, rest = divmod(abs(seconds), 3600)
    m, s = divmod(rest, 60)
    sign = "-" if seconds < 0 else ""
    compact = "".join(f"{v}{u}" for v, u in ((h, "h"), (m, "m"), (s, "s")) if v) or "0s"
    iso = "PT" + "".join(f"{v}{u}" for v, u in ((h, "H"), (m, "M"), (s, "S")) if v) or "PT0S"
    if iso == "PT":
        iso = "PT0S"
    days, hours = divmod(h, 24)
    iso_days = f"P{days}DT{hours}H{m}M{s}S" if days else iso
    shuffled = "".join(f"{v}{u}" for v, u in ((s, "s"), (h, "h"), (m, "m")) if v) or "0m"
    spellings = [sign + iso, sign + iso_days, sign + compact, f"{seconds}"]
    if not plain:
        spellings += [
            sign + shuffled,  # any order: Python reads it
            sign + iso.lower(),  # `pt4h`: Python reads it (upper-cases ISO)
            f" {sign}{compact} ",
        ]
    return st.sampled_from(spellings)


def raw_field_values(
    f: ir.Field,
    tz: dt.tzinfo = dt.UTC,
    text: bool = False,
    bad: bool = False,
    plain: bool = False,
) -> st.SearchStrategy[Any]:
    """Raw values of a field as a JSON object (`text=False`) or a CSV cell (`text=True`, always
    a string) holds them: the spellings the reader accepts (None, missing, when the field is
    optional; with `plain` only the usual spellings), or with `bad` values it refuses."""
    k = f.type.kind
    good: st.SearchStrategy[Any]
    wrong: st.SearchStrategy[Any]
    if k is ir.Kind.BOOL:
        if text:
            good = st.sampled_from(["true", "False", "TRUE", "1", "0", "yes", "N", "是", "否"])
            good = st.one_of(good, good, st.just(" true "))
            wrong = st.sampled_from(["maybe", "2", "tru"])
        else:
            good = st.booleans()
            wrong = st.sampled_from(["yes", 1, 0, "true", [True]])
    elif k in (ir.Kind.INT, ir.Kind.NUMBER):
        ints = st.one_of(st.integers(-5, 50), st.sampled_from([0, 2**53 + 1, 10**20]))
        floats = st.sampled_from([0.0, -0.0, 0.1, 0.5, 1.25, 2.0, 24.0, 1e20, 100.5, -3.5])
        if k is ir.Kind.INT:
            floats = floats.map(lambda x: float(round(x)))
        if text:
            good = st.one_of(
                ints.map(str),
                floats.map(repr),
                st.sampled_from(["1e2", " 7 ", "1_000", ".5", "5.", "+3"]),
            )
            wrong = st.sampled_from(["inf", "nan", "abc", "1,5", "0x10"])
        else:
            good = st.one_of(ints, ints, floats)
            wrong = st.sampled_from(["7", True, [1], float("nan"), float("inf"), 2.5])
    elif k is ir.Kind.TEXT:
        texts = ["退款", "a", "ab", "", 'a"b', "back\\slash", "x,y", "😀", "\x01", "客户投诉退款"]
        good = st.sampled_from([*texts, " ", "\u3000"] if not text else texts)
        wrong = st.sampled_from([" ", "\u3000"]) if text else st.sampled_from([5, True, ["a"]])
    elif k is ir.Kind.ENUM:
        values = f.type.values
        good = st.sampled_from(values)
        if text:
            good = st.one_of(good, good, good.map(lambda v: f" {v} "))
        wrong = st.one_of(st.sampled_from(values).map(str.upper), st.just("none"))
        if not text:
            wrong = st.one_of(wrong, st.just(3), st.sampled_from(values).map(lambda v: f" {v}"))
    elif k is ir.Kind.DATE:
        good = st.one_of(
            st.dates(dt.date(2023, 1, 1), dt.date(2025, 12, 31)).map(dt.date.isoformat),
            st.dates(dt.date(2023, 1, 1), dt.date(2025, 12, 31)).map(dt.date.isoformat),
            st.sampled_from(["2024-02-29", "20240131", " 2024-01-01"]),
        )
        wrong = st.sampled_from(["2024-02-30", "2023-02-29", "soon", "2024/01/01"])
        if not text:
            wrong = st.one_of(wrong, st.just(20240101))
    elif k is ir.Kind.DATETIME:
        good = _local_instants(tz).flatmap(lambda m: _datetime_text(m, tz))
        wrong = st.sampled_from(
            ["2024-10-29", "2024-13-01T00:00", "2024-10-29T24:00", "2024-10-29 9:15", "yesterday"]
        )
        if not text:
            wrong = st.one_of(wrong, st.just(1730164500))
    elif k is ir.Kind.DURATION:
        seconds = st.one_of(st.integers(0, 3 * 86400), st.sampled_from([0, 14400, 86400, -300]))
        good = st.one_of(
            seconds.flatmap(_duration_text),
            seconds.flatmap(_duration_text),
            st.sampled_from(["PT0.5H", "P1W", "1d", "PT4H"]),
        )
        if not text:
            good = st.one_of(good, seconds, st.sampled_from([90.0, 1.5, 86400]))
        wrong = st.sampled_from(["P1M", "soon", "4 hours", "PT", "-", "4H"])
        if not text:
            wrong = st.one_of(wrong, st.just(True))
    else:  # pragma: no cover
        raise ValueError(f"no raw values for {f.type}")
    if plain:
        good = _plain_values(f, tz, text)
    if bad:
        return st.one_of(wrong, st.none()) if not f.optional else wrong
    return st.one_of(good, good, good, st.none()) if f.optional else good


def _plain_values(f: ir.Field, tz: dt.tzinfo, text: bool) -> st.SearchStrategy[Any]:
    """The usual spellings of a field's values."""
    k = f.type.kind
    if k is ir.Kind.BOOL:
        return st.sampled_from(["true", "false", "1", "0", "是"]) if text else st.booleans()
    if k in (ir.Kind.INT, ir.Kind.NUMBER):
        fractions = [0.0, 0.5, 1.25, 24.0, 100.5, -3.5] if k is ir.Kind.NUMBER else [3.0]
        numbers = st.one_of(st.integers(-5, 50), st.sampled_from(fractions))
        return numbers.map(str) if text else numbers
    if k is ir.Kind.TEXT:
        texts = ["退款", "a", "ab", "客户投诉退款"]  # in CSV, cells that need no quotes
        return st.sampled_from(texts if text else [*texts, "", 'a"b', "x,y"])
    if k is ir.Kind.ENUM:
        return st.sampled_from(f.type.values)
    if k is ir.Kind.DATE:
        return st.dates(dt.date(2023, 1, 1), dt.date(2025, 12, 31)).map(dt.date.isoformat)
    if k is ir.Kind.DATETIME:
        return _local_instants(tz).flatmap(lambda m: _datetime_text(m, tz, plain=True))
    seconds = st.one_of(st.integers(0, 3 * 86400), st.sampled_from([0, 14400, 86400, -300]))
    spelled = seconds.flatmap(lambda n: _duration_text(n, plain=True))
    return spelled if text else st.one_of(spelled, seconds)


def raw_ids(text: bool = False, bad: bool = False) -> st.SearchStrategy[Any]:
    """Record ids: text and numbers the reader accepts, or with `bad` ones it refuses."""
    if bad:
        return st.sampled_from(["", " "] if text else ["", " ", None, True, [1]])
    good = st.one_of(
        st.integers(1, 10**6).map(lambda n: f"C-{n}"),
        st.sampled_from(["退款-1", " C-2 ", 'C"3']),
        st.integers(1, 10**6).map(str) if text else st.integers(-5, 10**12),
    )
    if not text:
        good = st.one_of(good, good, st.sampled_from([1.5, 10**20]))
    return good


def raw_records(
    record: ir.Record, tz: dt.tzinfo = dt.UTC, text: bool = False, bad: bool = True
) -> st.SearchStrategy[dict[str, Any]]:
    """Raw records (`id` first) with every field, optional ones sometimes missing; with `bad`,
    about one in four has one thing wrong: a field's value or the id, or a required field left
    out."""
    varied = {f.name: raw_field_values(f, tz, text) for f in record.fields}
    plain = {f.name: raw_field_values(f, tz, text, plain=True) for f in record.fields}
    choices = [
        st.builds(lambda rid, values: {"id": rid, **values}, raw_ids(text), fields)
        for fields in (st.fixed_dictionaries(plain), st.fixed_dictionaries(varied))
    ]
    good = st.integers(0, 2).flatmap(lambda i: choices[1] if i == 0 else choices[0])
    if not bad:
        return good
    names = [f.name for f in record.fields]
    by_name = {f.name: f for f in record.fields}

    def spoil(values: dict[str, Any], name: str, how: int, data: Any) -> dict[str, Any]:
        if how == 0:
            return {k: v for k, v in values.items() if k != name}
        return {**values, name: data}

    def one_wrong(values: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
        return st.sampled_from(["id", *names]).flatmap(
            lambda name: st.builds(
                spoil,
                st.just(values),
                st.just(name),
                st.integers(0 if name == "id" or not by_name[name].optional else 1, 2),
                raw_ids(text, bad=True)
                if name == "id"
                else raw_field_values(by_name[name], tz, text, bad=True),
            )
        )

    return st.integers(0, 4).flatmap(lambda i: good.flatmap(one_wrong) if i == 0 else good)


def jsonl_lines(
    record: ir.Record, tz: dt.tzinfo = dt.UTC, bad: bool = True
) -> st.SearchStrategy[list[str]]:
    """Lines of a JSONL file: records (escaped or raw Unicode) and, with `bad`, lines that are
    no record: blank, not JSON, not an object, JSON only DuckDB reads (trailing commas, `nan`),
    duplicated keys, `NaN`."""
    import json

    def spell(obj: dict[str, Any], ascii_only: bool, spaced: bool) -> str:
        sep = (", ", ": ") if spaced else (",", ":")
        return json.dumps(obj, ensure_ascii=ascii_only, separators=sep)

    record_line = st.builds(
        spell, raw_records(record, tz, False, bad), st.booleans(), st.booleans()
    )
    if not bad:
        return st.lists(record_line, min_size=1, max_size=12)
    first = record.fields[0].name
    odd = st.one_of(
        st.sampled_from(["", "   ", "\t", "\u3000", "not json", "[1, 2]", '"text"', "null", "{}"]),
        record_line.map(lambda line: line[:-1] + ",}"),  # a trailing comma
        record_line.map(lambda line: line[: len(line) // 2]),  # cut short
        record_line.map(lambda line: line[:-1] + f', "{first}": null}}'),  # key twice
        record_line.map(lambda line: line[:-1] + ', "extra": NaN}'),
        record_line.map(lambda line: line[:-1] + ', "extra": nan}'),
        record_line.map(lambda line: line[:-1] + ', "extra": [1, {"a": 2}]}'),
        record_line.map(lambda line: "\ufeff" + line),
    )
    line = st.integers(0, 7).flatmap(lambda i: odd if i == 0 else record_line)
    return st.lists(line, min_size=1, max_size=12)


def csv_text(record: ir.Record, tz: dt.tzinfo = dt.UTC, bad: bool = True) -> st.SearchStrategy[str]:
    """A CSV file: a header (the record's fields and `id`, in some order, sometimes one left
    out or one extra), then rows as `csv.writer` writes them (quoting cells that need it), and
    with `bad` blank rows and rows with too many or too few cells."""
    import csv
    import io

    names = ["id", *(f.name for f in record.fields)]

    def write(
        header: list[str], rows: list[dict[str, Any]], odd: list[tuple[int, str]], crlf: bool
    ) -> str:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n" if crlf else "\n")
        writer.writerow(header)
        lines = []
        for row in rows:
            buf = io.StringIO()
            csv.writer(buf, lineterminator="").writerow(
                ["" if row.get(h) is None else row[h] for h in header]
            )
            lines.append(buf.getvalue())
        for at, line in odd:
            lines.insert(at % (len(lines) + 1), line)
        return out.getvalue() + "".join(line + ("\r\n" if crlf else "\n") for line in lines)

    header = st.permutations(names).flatmap(
        lambda order: st.sampled_from(
            [list(order), list(order), list(order)[:-1], [*order, "extra"]]
        )
    )
    odd = st.lists(
        st.tuples(st.integers(0, 20), st.sampled_from(["", ",,", "a,b", "   ", "x" * 3])),
        max_size=2 if bad else 0,
    )
    return st.builds(
        write,
        header,
        st.lists(raw_records(record, tz, True, bad), min_size=1, max_size=10),
        odd,
        st.booleans(),
    )

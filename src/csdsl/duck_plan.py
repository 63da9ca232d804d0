"""The typed-rows plan of a record file, for the DuckDB engine (`csdsl.duck`): SQL only.

In: a record type, the `Source` of its file (JSONL, CSV with its header, Parquet with its
columns; `csdsl.duck_tables` decides it) and the `Typer` of the policy's zone.  Out: the CTEs
that read the file at `$path` into one typed row a physical line, in file order (`typed_rows`),
with the `TypedFields` they hold; the raw lines (`raw_lines`) and each Parquet row as a JSON
line (`parquet_lines`) they start from.  Nothing here runs a query.  See `csdsl.duck`'s
docstring ("Reading") for what SQL reads and what it leaves to the Python reader.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from sqlglot import exp

from csdsl import ir
from csdsl.duck_types import (
    BLANK,
    LENIENT_JSON,
    TRAILING_COMMA,
    VISIBLE,
    Source,
    TypedFields,
    Typer,
    json_number,
    json_pointer,
    json_text,
)
from csdsl.sql.build import (
    alias as _alias,
    and_ as _and,
    below_exact as _below_exact,
    binary as _bin,
    boolean as _bool,
    case as _case,
    cast as _cast,
    column as _c,
    finite as _finite,
    fn as _fn,
    in_list as _in,
    integer as _i,
    is_null as _is_null,
    not_ as _not,
    or_ as _or,
    regexp as _rx,
    select as _select,
    string as _s,
    typed_null as _null,
)


def raw_lines(numbered: bool = False) -> exp.Expr:
    """Every physical line (`l`, NULL when empty), in order; `numbered` adds its number
    (`ordinality`), which costs DuckDB its parallelism (the engine counts rows instead)."""
    options = {
        "columns": exp.Struct(expressions=[exp.PropertyEQ(this=_s("l"), expression=_s("VARCHAR"))]),
        "delim": _fn("chr", _i(0)),
        "quote": _s(""),
        "escape": _s(""),
        "header": exp.false(),
        "auto_detect": exp.false(),
        "strict_mode": exp.false(),
        "new_line": _s("\\r\\n"),
    }
    args: list[exp.Expr] = [exp.Placeholder(this="path")]
    args += [exp.EQ(this=exp.column(k), expression=v) for k, v in options.items()]
    return exp.Table(this=_fn("read_csv", *args), ordinality=numbered or None)


def typed_rows(
    typer: Typer, record: ir.Record, source: Source, numbered: bool = False, id_field: str = "id"
) -> tuple[list[tuple[str, exp.Expr]], TypedFields]:
    """The CTEs that turn the file at `$path` into typed rows, one per physical line in
    file order: `typed([line,] blank, l, ok, rid_s, rid_j, v:<field>..., t:<field>...,
    i:<field>...)`; `blank` marks a line Python skips as empty, `ok` a row SQL read exactly
    as the Python reader would.  For CSV the first row is the header.  The id is the value of
    key `id_field` (an event log's `case`)."""
    fields = record.fields
    ctes: list[tuple[str, exp.Expr]] = []
    text = source.mode == "csv"
    line = [_alias(_c("ordinality"), "line")] if numbered else []
    if text:
        raw = _select(*line, _c("l")).from_(raw_lines(numbered), copy=False)
        x = _case((_not(_fn("contains", _c("l"), _s('"'))), _fn("string_split", _c("l"), _s(","))))
    else:
        if source.mode == "jsonl":
            raw = _select(*line, _c("l")).from_(raw_lines(numbered), copy=False)
        else:
            raw = parquet_lines(source, numbered)
        keys = ["$", id_field, *(f.name for f in fields)]
        paths = exp.Array(expressions=[_s("$" if k == "$" else json_pointer(k)) for k in keys])
        lexical = _and(
            exp.Not(this=_is_null(_c("l"))),
            _not(_fn("contains", _c("l"), _s("\\u0000"))),
            _not(_rx(_c("l"), TRAILING_COMMA)),
        )
        x = _case((lexical, _fn("try", exp.JSONExtract(this=_c("l"), expression=paths))))
    ctes.append(("lines", raw))
    blank = _rx(_fn("coalesce", _c("l"), _s("")), BLANK)
    parsed = _select(
        *([_c("line")] if numbered else []),
        _c("l"),
        _alias(blank, "blank"),
        _alias(_case((_not(_c("blank")), x)), "x", quoted=True),
    )
    ctes.append(("parsed", parsed.from_("lines", copy=False)))
    # primitive columns: each field's JSON (e<n>), text (s<n>), number (d<n>)
    pieces: list[exp.Expr] = [exp.Star()]
    prims: list[exp.Expr] = [exp.Star()]
    if text:
        header = source.header

        def cell(name: str) -> exp.Expr:
            idx = max((i for i, h in enumerate(header) if h == name), default=-1)
            return _null("VARCHAR") if idx < 0 else _fn("list_extract", _c("x"), _i(idx + 1))

        pieces.append(_alias(cell(id_field), "s_id", quoted=True))
        for n, f in enumerate(fields, 1):
            pieces.append(_alias(cell(f.name), f"s{n}", quoted=True))
    else:
        names = ["_doc", "_id", *(str(n) for n in range(1, len(fields) + 1))]
        for at, name in enumerate(names, 1):
            # as text: JSON-typed values compare and cast by JSON's rules (`true` = 1.0)
            pieces.append(
                _alias(_cast(_fn("list_extract", _c("x"), _i(at)), "VARCHAR"), f"e{name}")
            )
        prims.append(_alias(json_text(_c("e_id")), "s_id"))
        prims.append(_alias(json_number(_c("e_id")), "d_id"))
    for n, f in enumerate(fields, 1):
        for name, sql in typer.prims(f, n, text):
            prims.append(_alias(sql, name))
    ctes.append(("pieces", _select(*pieces).from_("parsed", copy=False)))
    ctes.append(("prims", _select(*prims).from_("pieces", copy=False)))
    raws: list[exp.Expr] = [exp.Star()]
    for n, f in enumerate(fields, 1):
        raws.append(_alias(typer.candidate(f, n, text), f"r{n}"))
    ctes.append(("raws", _select(*raws).from_("prims", copy=False)))
    typed = [(f, typer.field(f, n, text)) for n, f in enumerate(fields, 1)]
    values = [exp.Star(), *(_alias(t.value, "v:" + f.name) for f, t in typed)]
    ctes.append(("vals", _select(*values).from_("raws", copy=False)))
    # the id, and the row's shape
    s_id = _c("s_id")
    if text:
        id_ok = _rx(s_id, VISIBLE)
        rid_s, rid_j = s_id, _null("VARCHAR")
        structure = _and(
            exp.Not(this=_is_null(_c("x"))),
            _bin(exp.EQ, _fn("len", _c("x")), _i(len(source.header))),
        )
    else:
        e_id, d_id = _c("e_id"), _c("d_id")
        # text with a visible character, an integer (any size: its digits are exact), or
        # a finite number below 2^53
        id_ok = _or(
            _rx(s_id, VISIBLE),
            _rx(e_id, "^-?[0-9]+$"),
            _and(_finite(d_id), _below_exact(d_id)),
        )
        rid_s = s_id
        rid_j = _case((_is_null(s_id), _cast(e_id, "VARCHAR")))
        structure = _one_object([id_field, *(f.name for f in fields)])
    oks = [_fn("coalesce", t.ok, exp.false()) for _, t in typed]
    ok = _and(_fn("coalesce", structure, exp.false()), _fn("coalesce", id_ok, exp.false()), *oks)
    cols: list[exp.Expr] = [
        *([_c("line")] if numbered else []),
        _c("blank"),
        _c("l"),
        _alias(ok, "ok", quoted=True),
        _alias(_case((_c("ok"), rid_s)), "rid_s", quoted=True),
        _alias(_case((_c("ok"), rid_j)), "rid_j", quoted=True),
    ]
    tokens = set()
    for f, t in typed:
        cols.append(_c("v:" + f.name))
        if t.token is not None:
            assert t.isint is not None
            tokens.add(f.name)
            cols.append(_alias(t.token, "t:" + f.name, quoted=True))
            cols.append(_alias(t.isint, "i:" + f.name, quoted=True))
    ctes.append(("typed", _select(*cols).from_("vals", copy=False)))
    return ctes, TypedFields(fields, frozenset(tokens))


def _one_object(keys: Sequence[str]) -> exp.Expr:
    """The line is one JSON object with each record key at most once.  Cheap test: the
    object's compact text (`e_doc`) is exactly as long as its record keys' pairs (then it
    has no other key and no repeated one); otherwise count the record keys among all keys."""
    present = [_c("e_id"), *(_c(f"e{n}") for n in range(1, len(keys)))]
    # `{` + each present `"key":value,` (the last comma is the `}`)
    length: exp.Expr = _i(1)
    count: exp.Expr = _i(0)
    for key, e in zip(keys, present, strict=True):
        pair = len(json.dumps(key, ensure_ascii=False).encode()) + 2
        length = _bin(
            exp.Add, length, _fn("coalesce", _bin(exp.Add, _fn("strlen", e), _i(pair)), _i(0))
        )
        count = _bin(exp.Add, count, _cast(exp.Not(this=_is_null(e)), "INTEGER"))
    var = exp.to_identifier("k")
    counted = _fn(
        "len",
        _fn(
            "list_filter",
            _fn("try", _fn("json_keys", _c("l"))),
            exp.Lambda(this=_in(var, [_s(k) for k in keys]), expressions=[var]),
        ),
    )
    return _case(
        (_is_null(_c("x")), exp.false()),
        (_not(_fn("starts_with", _c("e_doc"), _s("{"))), exp.false()),
        (_bin(exp.EQ, _fn("strlen", _c("e_doc")), length), exp.true()),
        default=_and(_bin(exp.EQ, counted, count), _not(_rx(_c("l"), LENIENT_JSON))),
    )


def parquet_lines(source: Source, numbered: bool) -> exp.Select:
    """Each Parquet row as the text of a JSON object, in order (`numbered`: with its row
    number from 1)."""
    pairs: list[exp.Expr] = []
    for name, sql_type in source.parquet_columns:
        col = exp.column(name, table="p", quoted=True)
        upper = sql_type.upper()
        value: exp.Expr
        if upper.startswith("TIMESTAMP WITH TIME ZONE") or upper == "TIMESTAMPTZ":
            utc = exp.AtTimeZone(this=col, zone=_s("UTC"))
            value = exp.DPipe(
                this=_fn("strftime", utc, _s("%Y-%m-%dT%H:%M:%S.%f")), expression=_s("Z")
            )
        elif upper == "INTERVAL":  # seconds, unless it counts months
            months = _fn("datepart", _s("month"), col)
            years = _fn("datepart", _s("year"), col)
            fixed = _and(_bin(exp.EQ, months, _i(0)), _bin(exp.EQ, years, _i(0)))
            value = _case(
                (_is_null(col), _null("JSON")),
                (fixed, _fn("to_json", _fn("epoch", col))),
                default=_fn("to_json", _cast(col, "VARCHAR")),
            )
        else:
            value = col
        pairs.append(exp.PropertyEQ(this=exp.to_identifier(name, quoted=True), expression=value))
    struct = _fn("struct_pack", *pairs)
    reader = exp.Table(
        this=_fn(
            "read_parquet",
            exp.Placeholder(this="path"),
            exp.EQ(this=exp.column("file_row_number"), expression=_bool(numbered)),
        ),
        alias=exp.TableAlias(this=exp.to_identifier("p")),
    )
    line = _bin(exp.Add, exp.column("file_row_number", table="p"), _i(1))
    return _select(
        *([_alias(line, "line")] if numbered else []),
        _alias(_cast(_fn("to_json", struct), "VARCHAR"), "l"),
    ).from_(reader, copy=False)


def with_ctes(ctes: list[tuple[str, exp.Expr]], final: exp.Select) -> exp.Select:
    """`final` with the named CTEs `ctes`, in order (a plan's `typed` and what follows it)."""
    for name, body in ctes:
        final = final.with_(name, as_=body, copy=False)
    return final

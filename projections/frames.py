"""Frames: the current state of every record kind, as known at a moment.

Built from ``rm_facts``: per (kind, key), the last version recorded at or before
``known_at`` (all versions when None). Money becomes int fen; evidence columns name the
ledger event (``<aggregate id>/<version>``) and the file row behind each record.

A province month is millions of fact rows, so the rows are handled column-wise: the
latest version of each key is picked before any JSON is read, the JSON of a whole chunk
is decoded by one ``orjson.loads`` call, and plain decimal text becomes fen by string
surgery (exact, no float). Anything unusual (an amount that is not plain ``123.45``
text) takes the reference conversion, ``to_fen(Decimal(value))``, so every value is the
one the row-by-row reading gave.
"""

from __future__ import annotations

import gc
import io
import json
import re
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from decimal import Decimal
from operator import itemgetter
from typing import Any

import numpy as np
import orjson
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.json as pa_json

from domain.catalogue import columns, frame_columns, names
from domain.money import to_fen
from projections.db import Database
from projections.tables import Frames, empty_adjustments, frame_of

FACT_SELECT = "SELECT key, fields, evidence_event, evidence_row, recorded_at FROM rm_facts"
ROW_COLUMNS = ("evidence_event", "evidence_row", "recorded_at")  # from the row, not the JSON
DECODE_CHUNK_ROWS = 50_000  # fields texts decoded per orjson.loads call (~15 MB of text)
# Yuan text that is exactly fen once the point is dropped: 123.45, -0.50, 7 (no more).
PLAIN_YUAN = re.compile(r"-?[0-9]+(\.[0-9][0-9])?")


def _fact_rows(db: Database, kind: str, known_at: str | None) -> list[tuple[Any, ...]]:
    """(key, fields, evidence_event, evidence_row, recorded_at) of every version of the
    kind recorded by ``known_at``, in recording order."""
    sql = FACT_SELECT + " WHERE kind=?"
    params: list[Any] = [kind]
    if known_at is not None:
        sql += " AND recorded_at <= ?"
        params.append(known_at)
    return db.query(sql + " ORDER BY notification_id", params)


def latest_versions(rows: Sequence[tuple[Any, ...]]) -> Sequence[tuple[Any, ...]]:
    """The last row of each key (the key is a row's first item), ordered by where that
    last version stands: a corrected record moves to the place of its correction."""
    last_of = {row[0]: index for index, row in enumerate(rows)}
    if len(last_of) == len(rows):
        return rows
    return [rows[index] for index in sorted(last_of.values())]


def decode_fields(texts: list[str]) -> list[Any]:
    """Each text parsed as JSON (a JSON object, as ``facts`` writes it), a chunk of
    texts per ``orjson.loads`` call: one call per row costs more than the decoding. A
    chunk whose joined text does not come back as one object per row is decoded row by
    row (the standard library's parser), so a bad row fails as it would alone."""
    out: list[Any] = []
    for start in range(0, len(texts), DECODE_CHUNK_ROWS):
        chunk = texts[start:start + DECODE_CHUNK_ROWS]
        try:
            values = orjson.loads("[" + ",".join(chunk) + "]")
        except orjson.JSONDecodeError:  # a ValueError: orjson refuses what json may take
            values = None
        if values is None or len(values) != len(chunk) \
                or not all(type(value) is dict for value in values):
            values = [json.loads(text) for text in chunk]
        out.extend(values)
    return out


def fen_of(value: Any) -> int | None:
    """Int fen of a stored amount ('' or missing: None), exactly ``to_fen(Decimal(v))``."""
    if value is None or value == "":
        return None
    if type(value) is str and PLAIN_YUAN.fullmatch(value):
        whole, point, cents = value.partition(".")
        return int(whole + cents) if point else int(whole) * 100
    return to_fen(Decimal(value))


@contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    """No cyclic garbage collection inside: decoding a million rows makes millions of
    dicts and tuples, and each full collection walks them all again (a third of the time at a
    million rows). Nothing made here forms a cycle; reference counting frees it all."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _column_values(kind: str, rows: Sequence[tuple[Any, ...]]) -> dict[str, list[Any]]:
    """Each frame column's raw values (money already int fen or None), row order kept."""
    return _columns_of(kind, rows, decode_fields([row[1] for row in rows]))


def _columns_of(kind: str, rows: Sequence[tuple[Any, ...]],
                fields: list[dict[str, Any]]) -> dict[str, list[Any]]:
    data: dict[str, list[Any]] = {}
    for position, name in enumerate(ROW_COLUMNS, start=2):
        data[name] = [row[position] for row in rows]
    for column in columns(kind):
        if column.is_money:
            data[column.frame_name] = [fen_of(f.get(column.name)) for f in fields]
    plain = [name for name in frame_columns(kind) if name not in data]
    data.update(zip(plain, _field_columns(fields, plain), strict=True))
    return data


def _field_columns(fields: list[dict[str, Any]], names: list[str]) -> list[list[Any]]:
    """The values of each named field (None where a row lacks it), one list per name.
    ``itemgetter`` over every row at C speed when each row has them all (the usual
    case), ``dict.get`` per value otherwise."""
    if not names:
        return []
    if not fields:
        return [[] for _ in names]
    getter = itemgetter(*names)
    try:
        picked = list(map(getter, fields))
    except KeyError:
        return [[f.get(name) for f in fields] for name in names]
    if len(names) == 1:
        return [picked]
    return [list(column) for column in zip(*picked, strict=True)]


def frame_of_columns(kind: str, data: dict[str, list[Any]]) -> pd.DataFrame:
    """``projections.tables.frame_of`` for values given column by column: the same
    dtypes and the same conversion of each value."""
    types = {c.frame_name: c.type for c in columns(kind)}
    names = frame_columns(kind)
    frame = {}
    for name in names:
        values, type_ = data[name], types.get(name, "str")
        if type_ in ("money", "int"):
            frame[name] = pd.Series([0 if v is None else int(v) for v in values], dtype="int64")
        elif type_ == "money?":
            frame[name] = pd.Series(values, dtype="Int64")
        elif type_ == "bool":
            frame[name] = pd.Series([bool(v) for v in values], dtype="bool")
        elif set(map(type, values)) <= {str}:  # text already: nothing to convert
            frame[name] = pd.Series(values, dtype="object")
        else:
            frame[name] = pd.Series(["" if v is None else str(v) for v in values],
                                    dtype="object")
    return pd.DataFrame(frame, columns=names)


def kind_frame(db: Database, kind: str, known_at: str | None,
               arrow: bool = True) -> pd.DataFrame:
    """One kind's frame: the latest version of each key recorded by ``known_at``
    (fetched rows and decoded fields are millions of objects: no cyclic GC meanwhile).
    On PostgreSQL the rows come by COPY into Arrow (``arrow_kind_frame``) unless they hold
    anything that reading does not take exactly as the row-by-row one does."""
    if arrow and db.backend == "postgres":
        frame = arrow_kind_frame(db, kind, known_at)
        if frame is not None:
            return frame
    with cyclic_gc_paused():
        rows = latest_versions(_fact_rows(db, kind, known_at))
        return frame_of_columns(kind, _column_values(kind, rows))


# --- PostgreSQL: COPY into Arrow ---------------------------------------------------------
#
# The rows of a kind come as one CSV stream (COPY), read by Arrow's CSV reader; their
# fields texts, one per line, go whole to Arrow's JSON reader with the kind's schema (int
# and bool columns typed, every other one text). Arrow's JSON reader is strict where the
# row-by-row reading converts: a number where text is due, text where a number is, a
# fraction or a 20-digit number in an int column, a key given twice, a lone surrogate
# are errors, and any error (or a fields text over several lines) sends the whole kind
# back to the row-by-row reading. So whatever this reading returns is what that one
# gives: text stays the same text, a missing or null field is '' / 0 / False / <NA> as
# there, and money is ``fen_of``'s (plain yuan text by digit surgery in Arrow, anything
# else through ``fen_of`` itself). Python objects are made only for the frame's text cells.

ARROW_FIELD_TYPES = {"int": pa.int64(), "bool": pa.bool_()}  # every other type: JSON text
COPY_COLUMNS = ["key", *ROW_COLUMNS, "fields"]
ARROW_PLAIN_YUAN = "^" + PLAIN_YUAN.pattern + "$"  # RE2: '$' is the end of the text


def arrow_kind_frame(db: Database, kind: str, known_at: str | None) -> pd.DataFrame | None:
    """``kind_frame`` read by COPY and Arrow; None when the rows need the row-by-row
    reading (see above) or there are none."""
    return frame_of_copy(kind, copy_rows(db, kind, known_at))


def copy_rows(db: Database, kind: str, known_at: str | None) -> bytes:
    """The CSV of (key, evidence_event, evidence_row, recorded_at, fields) of every
    version of the kind recorded by ``known_at``, in recording order."""
    sql = "SELECT " + ", ".join(COPY_COLUMNS) + " FROM rm_facts WHERE kind=?"
    params: list[Any] = [kind]
    if known_at is not None:
        sql += " AND recorded_at <= ?"
        params.append(known_at)
    return db.copy_out(sql + " ORDER BY notification_id", params)


def frame_of_copy(kind: str, data: bytes) -> pd.DataFrame | None:
    """The kind's frame of ``copy_rows``' CSV, or None (see above)."""
    if not data:
        return None
    try:
        table = _latest_of_table(pa_csv.read_csv(
            io.BytesIO(data),
            read_options=pa_csv.ReadOptions(column_names=COPY_COLUMNS),
            parse_options=pa_csv.ParseOptions(newlines_in_values=True),
            convert_options=pa_csv.ConvertOptions(
                column_types={name: pa.string() for name in COPY_COLUMNS})))
        fields = _arrow_fields(kind, table["fields"])
        if fields is None:
            return None
        return _frame_of_arrow(kind, table, fields)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
        return None


def _postgres_frames(db: Database, known_at: str | None) -> dict[str, pd.DataFrame]:
    """Every kind's frame on PostgreSQL, the next kind's rows copied on the companion
    connection (the server producing them, the socket read mostly without the GIL) while
    Arrow takes this kind's apart: on two cores the server's half of the work and ours
    overlap."""
    kinds = names()
    frames: dict[str, pd.DataFrame] = {}
    if not kinds:
        return frames
    companion = db.companion()
    with ThreadPoolExecutor(1) as copier:
        ahead = copier.submit(copy_rows, companion, kinds[0], known_at)
        for index, kind in enumerate(kinds):
            data = ahead.result()
            if index + 1 < len(kinds):
                ahead = copier.submit(copy_rows, companion, kinds[index + 1], known_at)
            frame = frame_of_copy(kind, data)
            del data
            frames[kind] = frame if frame is not None \
                else kind_frame(db, kind, known_at, arrow=False)
    return frames


def _latest_of_table(table: pa.Table) -> pa.Table:
    """``latest_versions`` of a table in recording order: the rows whose key does not
    come again later."""
    keys = pc.dictionary_encode(table["key"]).combine_chunks()
    if len(keys.dictionary) == len(table):
        return table
    codes = keys.indices.to_numpy(zero_copy_only=False)
    return table.filter(pa.array(~pd.Series(codes).duplicated(keep="last").to_numpy()))


def _arrow_fields(kind: str, texts: pa.ChunkedArray) -> pa.Table | None:
    """The fields texts parsed by Arrow's JSON reader, one row each, or None."""
    if pc.any(pc.match_substring_regex(texts, "[\r\n]")).as_py():
        return None  # a text over several lines: Arrow's reader reads one object a line
    lines = pc.binary_join_element_wise(texts, "", "\n").combine_chunks()
    offsets = np.frombuffer(lines.buffers()[1], dtype=np.int32)[
        lines.offset:lines.offset + len(lines) + 1]
    ndjson = lines.buffers()[2][int(offsets[0]):int(offsets[-1])]
    schema = pa.schema([(c.name, ARROW_FIELD_TYPES.get(c.type, pa.string()))
                        for c in columns(kind)])
    fields = pa_json.read_json(pa.BufferReader(ndjson), parse_options=pa_json.ParseOptions(
        explicit_schema=schema, unexpected_field_behavior="ignore"))
    return fields if len(fields) == len(texts) else None


def _fen_of_arrow(values: pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray]:
    """(int64 fen, known) of a money column: ``fen_of`` of each value, 0 where None."""
    texts = values.to_numpy(zero_copy_only=False) if values.null_count else None
    filled = pc.fill_null(values, "")
    known = pc.not_equal(filled, "").to_numpy(zero_copy_only=False)
    plain = pc.match_substring_regex(filled, ARROW_PLAIN_YUAN)
    digits = pc.if_else(plain, pc.replace_substring(filled, ".", ""), "0")
    whole = pc.cast(digits, pa.int64())
    fen = pc.if_else(pc.match_substring(filled, "."), whole,
                     pc.multiply_checked(whole, 100)).to_numpy(zero_copy_only=False)
    unusual = np.flatnonzero(known & ~plain.to_numpy(zero_copy_only=False))
    if len(unusual):
        fen = fen.copy()
        if texts is None:
            texts = values.to_numpy(zero_copy_only=False)
        for index in unusual.tolist():
            value = fen_of(texts[index])
            assert value is not None
            fen[index] = value
    return fen.astype("int64", copy=False), known


def _frame_of_arrow(kind: str, table: pa.Table, fields: pa.Table) -> pd.DataFrame:
    """``frame_of_columns`` of Arrow columns: the same dtypes and values."""
    frame: dict[str, Any] = {}
    for name in ROW_COLUMNS:
        frame[name] = pd.Series(table[name].to_numpy(zero_copy_only=False), dtype="object")
    for column in columns(kind):
        values = fields[column.name]
        if column.is_money:
            fen, known = _fen_of_arrow(values)
            frame[column.frame_name] = (
                pd.Series(np.where(known, fen, 0), dtype="int64") if column.type == "money"
                else pd.Series(pd.arrays.IntegerArray(fen, ~known)))
        elif column.type == "int":
            frame[column.name] = pd.Series(pc.fill_null(values, 0).to_numpy(), dtype="int64")
        elif column.type == "bool":
            frame[column.name] = pd.Series(
                pc.fill_null(values, False).to_numpy(zero_copy_only=False), dtype="bool")
        else:
            frame[column.name] = pd.Series(
                pc.fill_null(values, "").to_numpy(zero_copy_only=False), dtype="object")
    return pd.DataFrame(frame, columns=frame_columns(kind))


def load_frames(db: Database, known_at: str | None = None) -> Frames:
    """Every kind's frame as the books showed at ``known_at`` (ISO 8601, UTC)."""
    known_at = normalise_moment(known_at)
    if not db.table_exists("rm_facts"):
        return Frames(**{k: frame_of(k, []) for k in names()}, adjustments=empty_adjustments())
    frames = _postgres_frames(db, known_at) if db.backend == "postgres" \
        else {kind: kind_frame(db, kind, known_at) for kind in names()}
    return Frames(**frames, adjustments=empty_adjustments())


def normalise_moment(moment: str | None) -> str | None:
    """ISO 8601 in, UTC ISO string out (what ``rm_facts.recorded_at`` holds)."""
    if moment is None:
        return None
    import datetime as dt

    from projections.facts import moment_text

    parsed = dt.datetime.fromisoformat(moment.strip().replace("Z", "+00:00"))
    return moment_text(parsed)  # a naive moment is the machine's local time

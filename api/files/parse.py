"""One file parsed into an Arrow IPC file of typed rows, every problem listed.

One pipeline per file: hash and decode the bytes as a stream (CSV) or check the zip
directory (XLSX) -> find the header among the first rows -> read the body in batches of
columns -> convert each column to its type (``api.files.columns``) -> check the values
required on some rows only -> write the valid rows -> reject duplicate keys, over the key
columns of the whole file. Like beancount's loader, nothing stops at the first problem:
every bad cell becomes a ``RowError`` naming file, spreadsheet row, column and reason.
A header naming no column is a ``FileWarning``. No database and no events here.

This runs in the child process of ``api.files.isolate``; the table comes back as the IPC
file, the rest (hash, encoding, problems, warnings) as an ``Outcome``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from api.files import csv_source, headers, limits, xlsx_source
from api.files.columns import Present, convert_batch
from api.files.csv_source import RawBatch, Restart
from api.files.model import ROW_COLUMN, FileWarning, RowError, _yuan, table_schema
from api.files.naming import SUFFIXES
from api.files.problems import Problems, Stop, too_many_columns
from domain import catalogue
from domain.catalogue import RecordKind

HASH_CHUNK_BYTES = 1 << 20


@dataclass
class Outcome:
    """Everything about a parsed file but its rows (those are in the IPC file)."""

    sha256: str = ""
    encoding: str = ""
    errors: list[RowError] = field(default_factory=list)
    warnings: list[FileWarning] = field(default_factory=list)
    rows: int = 0
    key_header: str = ""  # the header of the key's first column: duplicates are named there
    child_peak_rss_bytes: int = 0  # of the parsing child (api.files.isolate), for measures
    child_cpu_seconds: float = 0.0


def parse_to(path: Path, kind_name: str, out: Path, work: Path,
             amount_max_fen: int | None = None) -> Outcome:
    """Parse ``path`` as ``kind_name``: its valid rows into the IPC file ``out``. Amounts
    above ``amount_max_fen`` (the kind's ceiling, when given) are problems."""
    kind = catalogue.kind(kind_name)
    outcome = Outcome()
    problems = Problems(path.name)
    writer = _Writer(out, kind, amount_max_fen)
    try:
        if path.suffix.lower() not in SUFFIXES:
            problems.add(0, "", f"unsupported file type {path.suffix!r}: "
                                "save it as .csv or .xlsx")
        elif _size_ok(path, problems):
            _parse_source(path, kind, work, outcome, problems, writer)
    except Stop as stop:
        problems.add_final(stop.row, stop.reason)
    finally:
        writer.close()
    outcome.rows = _drop_duplicates(out, kind, outcome, problems)
    outcome.errors = problems.result()
    return outcome


def _size_ok(path: Path, problems: Problems) -> bool:
    try:
        size = path.stat().st_size
    except OSError as exc:
        problems.add(0, "", f"cannot read file: {exc.strerror or exc}")
        return False
    if size > limits.MAX_FILE_BYTES:
        problems.add(0, "", f"file too large: {size} bytes (limit {limits.MAX_FILE_BYTES})")
        return False
    return True


def _parse_source(path: Path, kind: RecordKind, work: Path, outcome: Outcome,
                  problems: Problems, writer: _Writer) -> None:
    try:
        if path.suffix.lower() == ".xlsx":
            outcome.encoding = "xlsx"
            outcome.sha256 = _sha256(path)
            _parse_xlsx(path, kind, problems, writer, outcome)
        else:
            _parse_csv(path, kind, work, outcome, problems, writer)
    except OSError as exc:
        problems.add(0, "", f"cannot read file: {exc.strerror or exc}")


def _sha256(path: Path) -> str:
    import hashlib

    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(HASH_CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def _parse_csv(path: Path, kind: RecordKind, work: Path, outcome: Outcome,
               problems: Problems, writer: _Writer) -> None:
    try:
        prepared = csv_source.prepare(path, work)
    except csv_source.Undecodable:
        outcome.sha256 = _sha256(path)
        problems.add(0, "", "cannot decode: not UTF-8, GBK/GB18030 or any known encoding")
        return
    outcome.sha256, outcome.encoding = prepared.sha256, prepared.encoding
    sep = csv_source.delimiter(prepared)
    head = csv_source.read_head(prepared, sep)
    header = _header(kind, head.records, problems, outcome, path.name)
    if header is None:
        return
    width = len(head.records[header.row - 1])
    present, conditional = _plan(kind, header)
    batches = csv_source.body_batches(prepared, sep, head, header.row, width,
                                      [p.index for p in present])
    _read_body(kind, present, conditional, batches, problems, writer)


def _parse_xlsx(path: Path, kind: RecordKind, problems: Problems, writer: _Writer,
                outcome: Outcome) -> None:
    xlsx_source.check_directory(path)
    opened, records = xlsx_source.open_rows(path)
    try:
        head = []
        for values in records:
            head.append(values)
            if len(head) >= limits.HEADER_SEARCH_ROWS_MAX:
                break
        header = _header(kind, head, problems, outcome, path.name)
        if header is None:
            return
        present, conditional = _plan(kind, header)
        wanted = {p.index: p.column.type for p in present}
        body = _chain(head[header.row:], records)
        batches = xlsx_source.body_batches(body, header.row, wanted)
        _read_body(kind, present, conditional, batches, problems, writer)
    finally:
        xlsx_source.close(opened)


def _chain(first: list[tuple[object, ...]], rest: Iterator[tuple[object, ...]]
           ) -> Iterator[tuple[object, ...]]:
    yield from first
    yield from rest


def _header(kind: RecordKind, head: Sequence[Sequence[object]], problems: Problems,
            outcome: Outcome, name: str) -> headers.Header | None:
    """The header row (None when the file has none to read), its problems and warnings."""
    if not head:
        problems.add(0, "", "empty file: no header row")
        return None
    if max((len(r) for r in head if r is not None), default=0) > limits.MAX_COLUMNS:
        problems.add(0, "", too_many_columns(0).reason)
        return None
    header = headers.find_header(kind, [list(r) for r in head])
    outcome.warnings = headers.header_warnings(kind, header, name)
    first = kind.key[0]
    outcome.key_header = header.found[first][1] if first in header.found else first
    for column, reason in header.problems + headers.missing_columns(kind, header,
                                                                     outcome.warnings):
        problems.add(header.row, column, reason)
    return header


def _plan(kind: RecordKind, header: headers.Header) -> tuple[list[Present], list[Present]]:
    """The columns found in the header, and the columns required on some rows only."""
    present, conditional = [], []
    for place, column in enumerate(kind.columns):
        index, written = header.found.get(column.name, (-1, column.name))
        item = Present(column, index, written or column.name, place)
        if index >= 0:
            present.append(item)
        if column.required_when is not None or column.optional_when is not None:
            conditional.append(item)
    return present, conditional


def _read_body(kind: RecordKind, present: list[Present], conditional: list[Present],
               batches: Iterator[RawBatch], problems: Problems, writer: _Writer) -> None:
    body = Problems(problems.name)
    try:
        for batch in batches:
            if isinstance(batch, Restart):  # the csv module reads the body again
                body = Problems(problems.name)
                writer.reset()
                continue
            for row in batch.huge:
                body.add(row, "", f"a cell longer than {limits.MAX_CELL_CHARS} characters")
            if len(batch.rows):
                texts = {p.column.name: batch.texts[p.index] for p in present}
                converted = convert_batch(kind, present, conditional, batch.rows, texts, body,
                                          writer.amount_max_fen)
                writer.write(converted.table)
    finally:
        problems.absorb(body)


class _Writer:
    """The valid rows, written batch by batch to an Arrow IPC file."""

    def __init__(self, out: Path, kind: RecordKind, amount_max_fen: int | None) -> None:
        self.out = out
        self.amount_max_fen = amount_max_fen  # carried to each batch's conversion
        self.schema = table_schema(kind.name)
        self.sink: pa.ipc.RecordBatchFileWriter | None = None
        self.reset()

    def reset(self) -> None:
        self.close()
        self.sink = pa.ipc.new_file(str(self.out), self.schema)

    def write(self, table: pa.Table) -> None:
        assert self.sink is not None
        self.sink.write_table(table)

    def close(self) -> None:
        if self.sink is not None:
            self.sink.close()
            self.sink = None


# --------------------------------------------------------------------------- duplicates

def _drop_duplicates(out: Path, kind: RecordKind, outcome: Outcome,
                     problems: Problems) -> int:
    """Reject a second row with a key already seen (in a kind that merges identical rows,
    a row identical to the first is dropped silently instead); rows left in the file."""
    with pa.memory_map(str(out)) as source:
        table = pa.ipc.open_file(source).read_all()
        drop = _duplicate_rows(table, kind, outcome, problems)
        if drop is None:
            return table.num_rows
        kept = table.filter(pa.array(~drop))
        rewritten = out.with_suffix(".kept")
        with pa.ipc.new_file(str(rewritten), table.schema) as sink:
            sink.write_table(kept)
        rows = kept.num_rows
        del table, kept
    os.replace(rewritten, out)
    return rows


def _codes(column: pa.ChunkedArray) -> tuple[np.ndarray, int]:
    """Dense int codes of a column's values (null is a value, as None == None)."""
    encoded = pc.dictionary_encode(column.combine_chunks(), null_encoding="encode")
    return encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64), \
        len(encoded.dictionary)


def _key_codes(table: pa.Table, names: Sequence[str]) -> np.ndarray:
    codes: np.ndarray | None = None
    for name in names:
        column, size = _codes(table.column(name))
        if codes is None:
            codes = column
        else:  # stays below rows² < 2**63: re-densified after each column
            codes = np.unique(codes * size + column, return_inverse=True)[1].astype(np.int64)
    assert codes is not None
    return codes


def _duplicate_rows(table: pa.Table, kind: RecordKind, outcome: Outcome,
                    problems: Problems) -> np.ndarray | None:
    rows = table.num_rows
    if rows < 2:
        return None
    codes = _key_codes(table, kind.key)
    _, first_index, inverse = np.unique(codes, return_index=True, return_inverse=True)
    first = first_index[inverse.reshape(-1)]
    later = np.flatnonzero(first != np.arange(rows))
    if not len(later):
        return None
    drop = np.zeros(rows, dtype=bool)
    drop[later] = True
    if kind.merge_identical:
        same = np.ones(len(later), dtype=bool)
        for name in kind.column_names:
            column = _codes(table.column(name))[0]
            same &= column[later] == column[first[later]]
        later = later[~same]
    _report_duplicates(table, kind, later, first, outcome.key_header, problems)
    return drop


def _report_duplicates(table: pa.Table, kind: RecordKind, later: np.ndarray,
                       first: np.ndarray, column: str, problems: Problems) -> None:
    numbers = table.column(ROW_COLUMN).to_numpy()
    listed = later[:limits.MAX_ERRORS_LISTED]
    money = {c.name for c in kind.columns if c.is_money}
    keys = table.select(list(kind.key)).take(pa.array(listed)).to_pylist()
    for index, key in zip(listed.tolist(), keys, strict=True):
        shown = ", ".join(f"{n}={_shown(key[n], n in money)}" for n in kind.key)
        problems.add(int(numbers[index]), column or kind.key[0],
                     f"duplicate of row {int(numbers[first[index]])} (same {shown})")
    problems.add_uncounted_listing(len(later) - len(listed))


def _shown(value: object, money: bool) -> str:
    if money and isinstance(value, int):
        return str(_yuan(value))
    return str(value)

"""A CSV file read as a stream into columns of text.

Never decoded whole: one streaming pass hashes the bytes and finds the encoding (strict
UTF-8 with or without BOM, strict GB18030 (covers GBK), else charset-normalizer's guess
from the first ENCODING_GUESS_BYTES_MAX bytes); a file not in UTF-8 is transcoded to a
UTF-8 work file on the way. The header is found among the first records with Python's csv
module; the body is then read by Arrow's streaming CSV reader, block by block. Arrow splits
records as the csv module does for rectangular files; whenever a file is not one (a row
of another width, a bare carriage return, an unterminated quote, an enormous cell), the body
is read again by the csv module, streamed line by line with every row bounded, so rows,
row numbers and messages are those of the csv module in every case.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

from api.files import limits
from api.files.columns import PY_WHITESPACE
from api.files.problems import Stop, too_many_columns, too_many_rows

READ_CHUNK_BYTES = 1 << 20
ARROW_BLOCK_BYTES = 4 << 20  # = MAX_ROW_BYTES: a longer record goes to the csv module
BATCH_ROWS = 65_536  # rows per batch of the csv-module path
# Arrow builds every column of a block: a header of thousands of columns (junk after the
# register's own) costs it hundreds of MB, the csv module a list per row. County files
# have a dozen or two columns.
ARROW_COLUMNS_MAX = 256
DELIMITERS: tuple[str, ...] = (",", ";", "\t")


class Undecodable(Exception):
    """Not UTF-8, GBK/GB18030 or any encoding that can be guessed."""


class _ArrowCannot(Exception):
    """The file is not one Arrow reads exactly as the csv module would."""


@dataclass
class RawBatch:
    """Rows holding a value (spreadsheet row numbers) and the raw text of wanted cells."""

    rows: np.ndarray
    texts: dict[int, pa.Array]
    huge: list[int] = field(default_factory=list)  # rows with a cell over MAX_CELL_CHARS


@dataclass
class Prepared:
    sha256: str
    encoding: str
    path: Path  # UTF-8 text: the file itself or its transcoded work copy
    start: int  # byte offset of the text (after a BOM)
    bare_cr: bool  # a carriage return not followed by a line feed


def prepare(path: Path, work: Path) -> Prepared:
    """Hash, encoding and a UTF-8 text of the file, each in one streaming pass."""
    digest = hashlib.sha256()
    has_bom, utf8_ok, bare = _scan_utf8(path, digest)
    sha256 = digest.hexdigest()
    if utf8_ok:
        encoding = "utf-8-sig" if has_bom else "utf-8"
        return Prepared(sha256, encoding, path, len(codecs.BOM_UTF8) if has_bom else 0, bare)
    target = work / "text.csv"
    bare_cr = _transcode(path, "gb18030", target)
    if bare_cr is not None:
        return Prepared(sha256, "gb18030", target, 0, bare_cr)
    guessed = _guess(path)
    bare_cr = None if guessed is None else _transcode(path, guessed, target)
    if guessed is None or bare_cr is None:
        raise Undecodable()
    return Prepared(sha256, guessed, target, 0, bare_cr)


def _chunks(path: Path) -> Iterator[bytes]:
    with open(path, "rb") as handle:
        while chunk := handle.read(READ_CHUNK_BYTES):
            yield chunk


def _scan_utf8(path: Path, digest: hashlib._Hash) -> tuple[bool, bool, bool]:
    """(starts with a UTF-8 BOM, all strict UTF-8 after it, holds a bare CR)."""
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    crs = _CarriageReturns()
    has_bom, ok, first = False, True, True
    for chunk in _chunks(path):
        digest.update(chunk)
        if first:
            has_bom, first = chunk.startswith(codecs.BOM_UTF8), False
            chunk = chunk[len(codecs.BOM_UTF8):] if has_bom else chunk
        if ok:
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError:
                ok = False
            crs.feed(chunk)
    if ok:
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            ok = False
    return has_bom, ok, crs.bare()


def _guess(path: Path) -> str | None:
    from charset_normalizer import from_bytes

    with open(path, "rb") as handle:
        head = handle.read(limits.ENCODING_GUESS_BYTES_MAX)
    best = from_bytes(head).best()
    return None if best is None else best.encoding


def _transcode(path: Path, encoding: str, target: Path) -> bool | None:
    """Decode strictly into a UTF-8 file; whether it holds a bare CR (None: undecodable)."""
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    crs = _CarriageReturns()
    try:
        with open(target, "wb") as out:
            for chunk in _chunks(path):
                encoded = decoder.decode(chunk).encode("utf-8")
                crs.feed(encoded)
                out.write(encoded)
            tail = decoder.decode(b"", final=True).encode("utf-8")
            crs.feed(tail)
            out.write(tail)
    except (UnicodeDecodeError, LookupError):
        return None
    return crs.bare()


class _CarriageReturns:
    """Counts carriage returns not followed by a line feed, across chunks."""

    def __init__(self) -> None:
        self.count = 0
        self.pending = False

    def feed(self, chunk: bytes) -> None:
        if not chunk:
            return
        if self.pending and not chunk.startswith(b"\n"):
            self.count += 1
        self.count += chunk.count(b"\r") - chunk.count(b"\r\n")
        self.pending = chunk.endswith(b"\r")
        if self.pending:
            self.count -= 1

    def bare(self) -> bool:
        return self.count + (1 if self.pending else 0) > 0


# ------------------------------------------------------------------------------ records

class _Lines:
    """Lines of a UTF-8 file split at line feeds (as ``io.StringIO`` iterates text),
    counting the bytes and lines consumed; a record longer than MAX_ROW_BYTES is refused
    before it is held."""

    def __init__(self, handle: BinaryIO, start: int, lines_before: int = 0) -> None:
        handle.seek(start)
        self.handle = handle
        self.offset = start
        self.count = lines_before
        self.record_bytes = 0

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        line = self.handle.readline(limits.MAX_ROW_BYTES + 1)
        if not line:
            raise StopIteration
        self.offset += len(line)
        self.count += 1
        self.record_bytes += len(line)
        if self.record_bytes > limits.MAX_ROW_BYTES:
            raise _RowTooLong()
        return line.decode("utf-8")


class _RowTooLong(Exception):
    pass


def row_too_long(row: int) -> Stop:
    return Stop(row, f"a row longer than {limits.MAX_ROW_BYTES // limits.MIB} MiB "
                     "(MAX_ROW_BYTES): not a county register")


def delimiter(prepared: Prepared) -> str:
    with open(prepared.path, "rb") as handle:
        handle.seek(prepared.start)
        raw = handle.read(limits.DELIMITER_SNIFF_CHARS * 4)
    sample = codecs.getincrementaldecoder("utf-8")("ignore").decode(raw)
    sample = sample[:limits.DELIMITER_SNIFF_CHARS]
    counts = {d: sample.count(d) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: counts[d])  # ties keep the comma
    return best if counts[best] > 0 else ","


@dataclass
class Head:
    records: list[list[str]]
    ends: list[tuple[int, int]]  # (byte offset, lines read) after each record


def read_head(prepared: Prepared, sep: str) -> Head:
    """The first HEADER_SEARCH_ROWS_MAX records, and where each one ends."""
    head = Head([], [])
    with open(prepared.path, "rb") as handle:
        lines = _Lines(handle, prepared.start)
        reader = csv.reader(lines, delimiter=sep)
        try:
            for record in reader:
                head.records.append(record)
                head.ends.append((lines.offset, lines.count))
                lines.record_bytes = 0
                if len(head.records) >= limits.HEADER_SEARCH_ROWS_MAX:
                    break
        except csv.Error as exc:
            raise Stop(lines.count, f"unreadable CSV: {exc}") from None
        except _RowTooLong:
            raise row_too_long(len(head.records) + 1) from None
    return head


def body_batches(prepared: Prepared, sep: str, head: Head, header_row: int,
                 width: int, wanted: list[int]) -> Iterator[RawBatch]:
    """The rows after the header, a batch at a time: Arrow when it reads the file exactly
    as the csv module would, else the csv module itself (from the start of the body)."""
    start, lines_before = head.ends[header_row - 1]
    if not prepared.bare_cr and width <= ARROW_COLUMNS_MAX:
        try:
            yield from _arrow_batches(prepared.path, start, sep, header_row, width, wanted)
            return
        except _ArrowCannot:
            yield Restart()
    yield from _csv_batches(prepared.path, start, lines_before, sep, header_row, wanted)


class Restart(RawBatch):
    """Forget the batches given so far: the body is read again from its start."""

    def __init__(self) -> None:
        super().__init__(np.zeros(0, np.int64), {})


def _arrow_batches(path: Path, start: int, sep: str, header_row: int, width: int,
                   wanted: list[int]) -> Iterator[RawBatch]:
    names = [f"c{i}" for i in range(width)]
    reader = _open_arrow(path, start, sep, names)
    row = header_row
    rows_max = header_row + limits.MAX_ROWS
    while True:
        try:
            batch = reader.read_next_batch()
        except StopIteration:
            return
        except (pa.ArrowInvalid, pa.ArrowException) as exc:
            raise _ArrowCannot() from exc
        numbers = np.arange(row + 1, row + 1 + batch.num_rows, dtype=np.int64)
        row += batch.num_rows
        columns = batch.columns
        longest = max((pc.max(pc.utf8_length(c)).as_py() or 0 for c in columns), default=0)
        if longest > limits.MAX_CELL_CHARS:  # the csv module's own limits speak for it
            raise _ArrowCannot()
        over = row > rows_max
        if over:
            keep = batch.num_rows - (row - rows_max)
            numbers, columns = numbers[:keep], [c.slice(0, keep) for c in columns]
        has_text = _has_text(columns, len(numbers))
        yield RawBatch(numbers[has_text],
                       {i: columns[i].filter(pa.array(has_text)) for i in wanted if i < width})
        if over:
            raise too_many_rows(rows_max + 1)


def _open_arrow(path: Path, start: int, sep: str, names: list[str]) -> pa_csv.CSVStreamingReader:
    source = pa.OSFile(str(path), "rb")
    source.seek(start)
    try:
        return pa_csv.open_csv(
            source,
            read_options=pa_csv.ReadOptions(column_names=names, use_threads=False,
                                            block_size=ARROW_BLOCK_BYTES),
            parse_options=pa_csv.ParseOptions(delimiter=sep, quote_char='"', double_quote=True,
                                              escape_char=False, newlines_in_values=True,
                                              ignore_empty_lines=False),
            convert_options=pa_csv.ConvertOptions(
                column_types={n: pa.string() for n in names}, strings_can_be_null=False,
                quoted_strings_can_be_null=False, check_utf8=False))
    except (pa.ArrowInvalid, pa.ArrowException) as exc:
        raise _ArrowCannot() from exc


def _has_text(columns: list[pa.Array], length: int) -> np.ndarray:
    """Rows with any character but whitespace in any cell (``"".join(cells).strip()``)."""
    found = np.zeros(length, dtype=bool)
    for column in columns:
        trimmed = pc.utf8_trim(column, characters=PY_WHITESPACE)
        found |= pc.not_equal(trimmed, "").to_numpy(zero_copy_only=False)
    return found


def _csv_batches(path: Path, start: int, lines_before: int, sep: str, header_row: int,
                 wanted: list[int]) -> Iterator[RawBatch]:
    with open(path, "rb") as handle:
        lines = _Lines(handle, start, lines_before)
        reader = csv.reader(lines, delimiter=sep)
        collected = _Collector(wanted)
        row = header_row
        try:
            for cells in reader:
                row += 1
                lines.record_bytes = 0
                collected.add(row, header_row, cells)
                if len(collected.rows) >= BATCH_ROWS:
                    yield collected.batch()
        except csv.Error as exc:
            yield collected.batch()
            raise Stop(lines.count, f"unreadable CSV: {exc}") from None
        except _RowTooLong:
            yield collected.batch()
            raise row_too_long(row + 1) from None
        except Stop:
            yield collected.batch()
            raise
        yield collected.batch()


class _Collector:
    """Rows of the csv-module path gathered column-wise."""

    def __init__(self, wanted: list[int]) -> None:
        self.wanted = wanted
        self.rows: list[int] = []
        self.texts: dict[int, list[str]] = {i: [] for i in wanted}
        self.huge: list[int] = []

    def add(self, row: int, header_row: int, cells: list[str]) -> None:
        if row > header_row + limits.MAX_ROWS:
            raise too_many_rows(row)
        if len(cells) > limits.MAX_COLUMNS:
            raise too_many_columns(row)
        if not "".join(cells).strip():
            return
        if any(len(c) > limits.MAX_CELL_CHARS for c in cells):
            self.huge.append(row)
            return
        self.rows.append(row)
        count = len(cells)
        for index, texts in self.texts.items():
            texts.append(cells[index] if index < count else "")

    def batch(self) -> RawBatch:
        out = RawBatch(np.array(self.rows, dtype=np.int64),
                       {i: pa.array(t, pa.string()) for i, t in self.texts.items()},
                       self.huge)
        self.rows, self.huge = [], []
        self.texts = {i: [] for i in self.wanted}
        return out

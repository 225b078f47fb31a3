"""The first sheet of an XLSX workbook streamed into columns of text.

Before any XML is parsed, the zip directory is checked against the limits (number of parts,
unpacked sizes, compression ratio, shared strings no sheet could use): a bomb is refused by
its directory, in milliseconds. The sheet is then read by openpyxl in read-only mode (with
``defusedxml`` installed, its own recommendation against entity tricks) through a guard
that counts cells per row and bytes of text per cell in the XML stream itself, so a row of
millions of cells or one enormous cell is refused before openpyxl builds it.
"""

from __future__ import annotations

import io
import os
import re
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import openpyxl  # imported by the parent: no parsing child pays for it again
import pyarrow as pa
from openpyxl.worksheet._read_only import ReadOnlyWorksheet

from api.files import cells, limits
from api.files.csv_source import RawBatch
from api.files.problems import Stop, too_many_columns, too_many_rows

BATCH_ROWS = 65_536
GUARD_READ_BYTES_MIN = 1 << 16
_TAG_RE = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?(row|c)[\s/>]")
_ITEM_RE = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?si[\s/>]")
SHARED_STRINGS_PART = re.compile(r"(^|/)sharedStrings\d*\.xml$", re.IGNORECASE)
SHEET_PART = re.compile(r"(^|/)worksheets/[^/]+\.xml$", re.IGNORECASE)


def _mib(size: int) -> str:
    return f"{size / limits.MIB:.0f} MB"


def check_directory(path: Path) -> None:
    """Refuse a workbook whose zip directory announces a bomb (Stop at row 0). A file that
    is no zip at all is left to openpyxl, whose message says what it is."""
    try:
        with zipfile.ZipFile(path) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, RuntimeError):
        return  # RuntimeError: NotImplementedError of a zip "version" zipfile cannot read
    if len(entries) > limits.MAX_ZIP_ENTRIES:
        raise Stop(0, f"the workbook holds {len(entries)} parts, more than the "
                      f"{limits.MAX_ZIP_ENTRIES} limit (MAX_ZIP_ENTRIES)")
    total = sum(e.file_size for e in entries)
    if total > limits.MAX_XLSX_UNPACKED_BYTES:
        raise Stop(0, f"the workbook unpacks to {_mib(total)}, more than the "
                      f"{_mib(limits.MAX_XLSX_UNPACKED_BYTES)} limit (MAX_XLSX_UNPACKED_BYTES)")
    sheets = [e for e in entries if SHEET_PART.search(e.filename)]
    for entry in sheets:
        _check_part(entry, "the sheet", limits.MAX_SHEET_UNPACKED_BYTES,
                    "MAX_SHEET_UNPACKED_BYTES")
    strings = [e for e in entries if SHARED_STRINGS_PART.search(e.filename)]
    for entry in strings:
        _check_part(entry, "the shared strings", limits.MAX_SHARED_STRINGS_BYTES,
                    "MAX_SHARED_STRINGS_BYTES")
    for entry in entries:
        _check_ratio(entry)
    _check_strings_used(archive_path=path, strings=strings,
                        sheet_bytes=sum(e.file_size for e in sheets))


def _check_part(entry: zipfile.ZipInfo, what: str, limit: int, name: str) -> None:
    if entry.file_size > limit:
        raise Stop(0, f"{what} unpacks to {_mib(entry.file_size)}, more than the "
                      f"{_mib(limit)} limit ({name})")


def _check_ratio(entry: zipfile.ZipInfo) -> None:
    if entry.file_size < limits.RATIO_CHECKED_FROM_BYTES:
        return
    ratio = entry.file_size / max(entry.compress_size, 1)
    if ratio > limits.MAX_COMPRESSION_RATIO:
        raise Stop(0, f"{entry.filename} unpacks {ratio:.0f} times its packed size, more "
                      f"than the {limits.MAX_COMPRESSION_RATIO} limit (MAX_COMPRESSION_RATIO)")


def _check_strings_used(archive_path: Path, strings: list[zipfile.ZipInfo],
                        sheet_bytes: int) -> None:
    """More shared strings than the sheets have room to name: texts nobody uses, held in
    memory all the same (each names one at least SHARED_STRING_CELL_BYTES_MIN bytes)."""
    if not strings:
        return
    room = sheet_bytes // limits.SHARED_STRING_CELL_BYTES_MIN
    count = 0
    try:
        with zipfile.ZipFile(archive_path) as archive:
            for entry in strings:
                with archive.open(entry) as part:
                    count += _count_items(part)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, RuntimeError):
        return  # openpyxl says what is wrong with the part
    if count > max(room, 1) and count > limits.HEADER_SEARCH_ROWS_MAX:
        raise Stop(0, f"the workbook holds {count} shared strings, more than its sheets can "
                      f"use ({room}: one per SHARED_STRING_CELL_BYTES_MIN bytes of sheet)")


def _count_items(part: Any) -> int:
    """``<si>`` elements in a shared-strings part, read a chunk at a time."""
    count, carry = 0, b""
    while chunk := part.read(1 << 20):
        text = carry + chunk
        last = text.rfind(b"<")
        cut = last if last >= 0 else len(text)
        count += len(_ITEM_RE.findall(text, 0, cut))
        carry = text[cut:][-64:]
    return count + len(_ITEM_RE.findall(carry))


# ------------------------------------------------------------------------------ reading

class _Guard:
    """The sheet's XML stream as openpyxl reads it, with every row's cells counted and
    every run of cell text measured on the way: a limit hit is a Stop, not a huge list."""

    def __init__(self, source: Any) -> None:
        self.source = source
        self.row = 0
        self.cells = 0
        self.carry = b""  # from the last '<' on: a tag may go on in the next chunk

    def __enter__(self) -> _Guard:
        return self

    def __exit__(self, *exc: object) -> None:
        self.source.close()

    def close(self) -> None:
        self.source.close()

    def read(self, size: int = -1) -> bytes:
        data = self.source.read(max(size, GUARD_READ_BYTES_MIN) if size > 0 else size)
        if data:
            self._scan(data)
        return data

    def _scan(self, data: bytes) -> None:
        text = self.carry + data
        last = text.rfind(b"<")
        cut = last if last >= 0 else 0
        for match in _TAG_RE.finditer(text, 0, cut):
            if match.group(1) == b"row":
                self.row += 1
                self.cells = 0
                continue
            self.cells += 1
            if self.cells > limits.MAX_COLUMNS:
                raise too_many_columns(self.row)
        self.carry = text[cut:]
        if len(self.carry) > limits.MAX_CELL_XML_BYTES:  # text with no tag in it
            raise Stop(self.row, f"a cell longer than {limits.MAX_CELL_CHARS} characters "
                                 "(MAX_CELL_CHARS)")


def open_rows(path: Path) -> tuple[Any, Iterator[tuple[object, ...]]]:
    """(the workbook, its first sheet's rows as values); Stop when unreadable. Every pass
    openpyxl makes over a sheet's XML goes through the guard, also the one it makes when
    the workbook is opened (to find the sheet's size)."""
    handle = _WorkbookFile(io.FileIO(path))
    try:
        with _guarded_sheets():
            book = openpyxl.load_workbook(handle, read_only=True, data_only=True)
    except Stop:
        handle.close()
        raise
    except Exception as exc:  # openpyxl signals a bad file with many exception types
        handle.close()
        raise Stop(0, f"not a readable XLSX workbook: {exc}") from None
    if not book.worksheets:
        book.close()
        handle.close()
        raise Stop(0, "XLSX workbook has no worksheet")
    sheet = book.worksheets[0]
    sheet.reset_dimensions()  # stored dimensions are often wrong; read what is there
    opener = sheet._get_source
    sheet._get_source = lambda: _Guard(opener())
    return (book, handle), _rows(sheet)


class _WorkbookFile(io.BufferedReader):
    """The file, seeking as an in-memory buffer does: a damaged zip directory pointing
    before the start reads as one (the same message as the bytes read whole), not EINVAL;
    and it has no name, as the buffer had none (openpyxl's messages name it).
    """

    @property
    def name(self) -> None:  # the buffer's None, not the path
        return None

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_SET and offset < 0:
            raise ValueError(f"negative seek value {offset}")
        if whence != io.SEEK_SET:
            base = self.tell() if whence == io.SEEK_CUR else os.fstat(self.fileno()).st_size
            return super().seek(max(base + offset, 0))
        return super().seek(offset)


@contextmanager
def _guarded_sheets() -> Iterator[None]:
    """Read-only sheets open their XML through the guard while the workbook is opened
    (the parse runs alone in its child process: nothing else opens sheets meanwhile)."""
    original = ReadOnlyWorksheet._get_source
    ReadOnlyWorksheet._get_source = lambda self: _Guard(original(self))
    try:
        yield
    finally:
        ReadOnlyWorksheet._get_source = original


def _rows(sheet: Any) -> Iterator[tuple[object, ...]]:
    row = 0
    try:
        for values in sheet.iter_rows(values_only=True):
            row += 1
            yield values
    except Stop:
        raise
    except Exception as exc:  # a corrupt sheet part surfaces only while iterating
        raise Stop(row + 1, f"unreadable XLSX sheet: {exc}") from None


def close(opened: Any) -> None:
    book, handle = opened
    book.close()
    handle.close()


def has_value(values: tuple[object, ...]) -> bool:
    return any(c is not None and (type(c) is not str or c.strip()) for c in values)


def body_batches(records: Iterator[tuple[object, ...]], header_row: int,
                 wanted: dict[int, str]) -> Iterator[RawBatch]:
    """The rows after the header as text columns (``cells.excel_text`` by column type)."""
    rows: list[int] = []
    huge: list[int] = []
    texts: dict[int, list[str]] = {i: [] for i in wanted}
    rows_max = header_row + limits.MAX_ROWS
    try:
        for row, values in enumerate(records, start=header_row + 1):
            if row > rows_max:
                raise too_many_rows(row)
            if not has_value(values):
                continue
            if any(isinstance(c, str) and len(c) > limits.MAX_CELL_CHARS for c in values):
                huge.append(row)
                continue
            rows.append(row)
            count = len(values)
            for index, type_ in wanted.items():
                value = values[index] if index < count else ""
                texts[index].append(value if type(value) is str
                                    else cells.excel_text(value, type_))
            if len(rows) >= BATCH_ROWS:
                yield _batch(rows, texts, huge)
                rows, huge, texts = [], [], {i: [] for i in wanted}
    except Stop:
        yield _batch(rows, texts, huge)
        raise
    yield _batch(rows, texts, huge)


def _batch(rows: list[int], texts: dict[int, list[str]], huge: list[int]) -> RawBatch:
    return RawBatch(np.array(rows, dtype=np.int64),
                    {i: pa.array(t, pa.string()) for i, t in texts.items()}, list(huge))

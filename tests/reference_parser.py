"""The row-by-row parser the column-wise one replaced, kept only as the reference of the
differential tests: same cell readers (``api.files.cells``, the one source of each
message), same header matching, the old record readers (the whole text decoded, the csv
module, openpyxl row tuples) and the old loop over rows and cells."""

from __future__ import annotations

import codecs
import csv
import gc
import hashlib
import io
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path

from api.files import cells as cellmod
from api.files import limits
from api.files.headers import Header as _Header
from api.files.headers import find_header as _find_header
from api.files.headers import header_warnings as _header_warnings
from api.files.headers import missing_columns as _missing_columns
from api.files.model import FileWarning, RowError
from api.files.problems import Stop as _UnreadableFile
from domain import catalogue
from domain.catalogue import Column, RecordKind

DELIMITERS: tuple[str, ...] = (",", ";", "\t")
CellError = cellmod.CellError


@dataclass
class ParsedFile:
    kind: str
    path: Path
    name: str
    sha256: str = ""
    encoding: str = ""
    rows: list[dict] = field(default_factory=list)
    row_numbers: list[int] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    warnings: list[FileWarning] = field(default_factory=list)


class _Errors:
    def __init__(self, name: str) -> None:
        self.name = name
        self.listed: list[RowError] = []
        self.count = 0

    def add(self, row: int, column: str, reason: str) -> None:
        self.count += 1
        if self.count <= limits.MAX_ERRORS_LISTED:
            self.listed.append(RowError(self.name, row, column, reason))

    def result(self) -> list[RowError]:
        more = self.count - len(self.listed)
        if more <= 0:
            return list(self.listed)
        return self.listed + [RowError(self.name, 0, "", f"... and {more} more errors")]


VALUE_CACHE_ENTRIES_MAX = 100_000  # per column: amounts, periods, programs repeat a lot
_MISSING = object()
_MEMOISED_TYPES = frozenset({"int", "bool", "date", "period"})


def _cell_reader(column: Column) -> Callable[[str], object]:
    """The scalar reader, memoised for low-cardinality types as the row parser did."""
    read = cellmod.cell_reader(column)
    if not (column.is_money or column.type in _MEMOISED_TYPES
            or column.type in cellmod.ENUM_TABLES):
        return read
    memo: dict[str, object] = {}

    def read_memoised(text: str) -> object:
        value = memo.get(text, _MISSING)
        if value is _MISSING:
            value = read(text)
            if len(memo) < VALUE_CACHE_ENTRIES_MAX:
                memo[text] = value
        return value

    return read_memoised


def _excel_reader(read: Callable[[str], object], type_: str) -> Callable[[object], object]:
    def read_cell(value: object) -> object:
        return read(value if type(value) is str else cellmod.excel_text(value, type_))

    return read_cell


def _empty_value(column: Column) -> object:
    return cellmod.empty_value(column)


def _decode(raw: bytes) -> tuple[str, str] | None:
    """(text, encoding): strict UTF-8 (BOM or not), strict GB18030 (covers GBK), then
    charset-normalizer's guess; None when nothing decodes."""
    if raw.startswith(codecs.BOM_UTF8):
        try:
            return raw[len(codecs.BOM_UTF8):].decode("utf-8"), "utf-8-sig"
        except UnicodeDecodeError:
            pass
    for encoding in ("utf-8", "gb18030"):
        try:
            return raw.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    from charset_normalizer import from_bytes

    best = from_bytes(raw).best()
    return None if best is None else (str(best), best.encoding)


def _delimiter(text: str) -> str:
    sample = text[:limits.DELIMITER_SNIFF_CHARS]
    counts = {d: sample.count(d) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: counts[d])  # ties keep the comma
    return best if counts[best] > 0 else ","


def _csv_records(text: str) -> Iterator[list[str]]:
    reader = csv.reader(io.StringIO(text), delimiter=_delimiter(text))
    try:
        yield from reader
    except csv.Error as exc:
        raise _UnreadableFile(reader.line_num, f"unreadable CSV: {exc}") from None

def _xlsx_records(raw: bytes) -> Iterator[tuple[object, ...]]:
    import openpyxl

    try:
        book = openpyxl.load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl signals a bad file with many exception types
        raise _UnreadableFile(0, f"not a readable XLSX workbook: {exc}") from None
    row = 0
    try:
        if not book.worksheets:
            raise _UnreadableFile(0, "XLSX workbook has no worksheet")
        sheet = book.worksheets[0]
        sheet.reset_dimensions()  # stored dimensions are often wrong; read what is there
        for row, cells in enumerate(sheet.iter_rows(values_only=True), start=1):  # noqa: B007
            yield cells
    except _UnreadableFile:
        raise
    except Exception as exc:  # a corrupt sheet part surfaces only while iterating
        raise _UnreadableFile(row + 1, f"unreadable XLSX sheet: {exc}") from None
    finally:
        book.close()


def _has_text(cells: list[str]) -> bool:
    return bool("".join(cells).strip())


def _has_value(cells: tuple[object, ...]) -> bool:
    return any(c is not None and (type(c) is not str or c.strip()) for c in cells)


# ------------------------------------------------------------------------------- parsing

@dataclass
class _Plan:
    """How to turn one record into one row: readers of the present columns, defaults
    of the absent ones, and the columns whose value is required on some rows only."""

    readers: list[tuple[str, int, Callable[[object], object], str]]
    defaults: dict[str, object]
    has_value: Callable[[object], bool]
    conditional: list[tuple[Column, str]]  # (column, header as written or its name)
    positions: dict[str, int]  # column -> place in the kind: a row's problems in order
    conditional_names: tuple[str, ...] = ()  # of the conditional columns, for the fast test


def _plan(kind: RecordKind, header: _Header, excel: bool) -> _Plan:
    readers, defaults, conditional = [], {}, []
    for column in kind.columns:
        defaults[column.name] = _empty_value(column)
        index, written = header.found.get(column.name, (-1, column.name))
        if column.required_when is not None or column.optional_when is not None:
            conditional.append((column, written or column.name))
        if index < 0:
            continue
        read: Callable[[object], object] = _cell_reader(column)  # type: ignore[assignment]
        if excel:
            read = _excel_reader(read, column.type)  # type: ignore[arg-type]
        readers.append((column.name, index, read, written or column.name))
    positions = {name: place for place, name in enumerate(kind.column_names)}
    return _Plan(readers, defaults, _has_value if excel else _has_text,  # type: ignore[arg-type]
                 conditional, positions, tuple(column.name for column, _ in conditional))


class _Duplicates:
    """Rejects a second row with a key already seen; in a kind that merges identical
    rows (``merge_identical``) a row identical to the first is dropped silently instead."""

    def __init__(self, kind: RecordKind, header: _Header) -> None:
        self.names = kind.key
        self.merge = kind.merge_identical
        first = self.names[0]
        self.column = header.found[first][1] if first in header.found else first
        self.seen: dict[tuple, tuple[int, dict]] = {}

    def keep(self, row: dict, row_no: int, errors: _Errors) -> bool:
        key = tuple(row[n] for n in self.names)
        earlier = self.seen.setdefault(key, (row_no, row))
        if earlier[0] == row_no:
            return True
        if self.merge and earlier[1] == row:
            return False
        shown = ", ".join(f"{n}={row[n]!s}" for n in self.names)
        errors.add(row_no, self.column, f"duplicate of row {earlier[0]} (same {shown})")
        return False


def _read_row(plan: _Plan, cells, row_no: int, errors: _Errors) -> dict | None:
    row = plan.defaults.copy()
    count = len(cells)
    problems: list[tuple[int, str, str, str]] | None = None  # (place, header, reason, name)
    for name, index, read, written in plan.readers:
        try:
            row[name] = read(cells[index] if index < count else "")
        except CellError as exc:
            problems = problems or []
            problems.append((plan.positions[name], written, str(exc), name))
    for name in plan.conditional_names:  # cheap test first: this runs once per row
        value = row[name]
        if value is None or value == "":
            problems = _conditional_problems(plan, row, problems)
            break
    if problems is None:
        return row
    for _, written, reason, _ in sorted(problems, key=lambda p: p[0]):  # in column order
        errors.add(row_no, written, reason)
    return None


def _conditional_problems(plan: _Plan, row: dict,
                          problems: list[tuple[int, str, str, str]] | None
                          ) -> list[tuple[int, str, str, str]] | None:
    """Values required on this row by a condition (a successful bank line's value date;
    a reserve amount except on a settlement), where the cell itself read well."""
    failed = {p[3] for p in problems} if problems else ()
    for column, written in plan.conditional:
        name = column.name
        if row[name] in (None, "") and name not in failed and column.value_required(row):
            when = column.required_when
            reason = "required value is empty" + ("" if when is None else f" when {when}")
            problems = problems or []
            problems.append((plan.positions[name], written, reason, name))
    return problems


def _read_body(kind: RecordKind, records: Iterator, header: _Header, plan: _Plan,
               parsed: ParsedFile, errors: _Errors) -> None:
    duplicates = _Duplicates(kind, header)
    rows_max = header.row + limits.MAX_ROWS
    for row_no, cells in enumerate(records, start=header.row + 1):
        if row_no > rows_max:
            errors.add(row_no, "", f"more than {limits.MAX_ROWS} rows: split the file")
            return
        if not plan.has_value(cells):
            continue
        if _has_huge_cell(cells):
            errors.add(row_no, "", f"a cell longer than {limits.MAX_CELL_CHARS} characters")
            continue
        row = _read_row(plan, cells, row_no, errors)
        if row is not None and duplicates.keep(row, row_no, errors):
            parsed.rows.append(row)
            parsed.row_numbers.append(row_no)


def _parse_records(kind: RecordKind, records: Iterator, excel: bool,
                   parsed: ParsedFile, errors: _Errors) -> None:
    head = list(islice(records, limits.HEADER_SEARCH_ROWS_MAX))
    if not head:
        errors.add(0, "", "empty file: no header row")
        return
    if max((len(r) for r in head if r is not None), default=0) > limits.MAX_COLUMNS:
        errors.add(0, "", f"more than {limits.MAX_COLUMNS} columns: not a county register")
        return
    header = _find_header(kind, head)
    parsed.warnings = _header_warnings(kind, header, parsed.name)
    for column, reason in header.problems + _missing_columns(kind, header, parsed.warnings):
        errors.add(header.row, column, reason)
    plan = _plan(kind, header, excel)
    body = head[header.row:]
    _read_body(kind, _chain(body, records), header, plan, parsed, errors)


def _has_huge_cell(cells: Sequence[object]) -> bool:
    return any(isinstance(c, str) and len(c) > limits.MAX_CELL_CHARS for c in cells)


def _chain(first: list, rest: Iterator) -> Iterator:
    yield from first
    yield from rest



def _records(path: Path, raw: bytes, parsed: ParsedFile, errors: _Errors) -> Iterator | None:
    if path.suffix.lower() == ".xlsx":
        parsed.encoding = "xlsx"
        return _xlsx_records(raw)
    decoded = _decode(raw)
    if decoded is None:
        errors.add(0, "", "cannot decode: not UTF-8, GBK/GB18030 or any known encoding")
        return None
    text, parsed.encoding = decoded
    return _csv_records(text)


def parse_file(path: Path | str, kind: str) -> ParsedFile:
    path = Path(path)
    parsed = ParsedFile(kind=kind, path=path, name=path.name)
    errors = _Errors(path.name)
    size = path.stat().st_size
    if size > limits.MAX_FILE_BYTES:
        errors.add(0, "", f"file too large: {size} bytes (limit {limits.MAX_FILE_BYTES})")
        parsed.errors = errors.result()
        return parsed
    raw = path.read_bytes()
    parsed.sha256 = hashlib.sha256(raw).hexdigest()
    records = _records(path, raw, parsed, errors)
    if records is not None:
        gc_was_enabled = gc.isenabled()
        gc.disable()  # as the row parser did: a million row dicts hold no cycles
        try:
            _parse_records(catalogue.kind(kind), records, parsed.encoding == "xlsx",
                           parsed, errors)
        except _UnreadableFile as exc:
            errors.add(exc.row, "", exc.reason)
        finally:
            records.close()  # type: ignore[attr-defined]
            if gc_was_enabled:
                gc.enable()
    parsed.errors = errors.result()
    return parsed

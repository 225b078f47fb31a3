"""The county's files (docs/formats.md) read into typed rows, every problem listed.

One pipeline per file: read bytes (hash them: the hash is the idempotency key) -> decode
(UTF-8, GB18030, or a best guess) or open the first XLSX sheet -> find the header ->
convert each cell to its column's type (domain.catalogue) -> check the requirements that
hold on some rows only -> reject duplicate keys. Like beancount's loader, nothing stops at
the first problem: every bad cell becomes a ``RowError`` naming file, spreadsheet row,
column and reason, so an office fixes a file once, not once per error. A header that names
no column is not an error but a ``FileWarning`` (with the column it most resembles, and
whether that column is left empty), so no column vanishes without a word. No database and
no events here: only the outside format.

Rows with an error are left out of ``ParsedFile.rows``; a file with any error is meant
to be rejected whole (docs/formats.md), so partial rows are never loaded.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import difflib
import gc
import hashlib
import io
import re
import threading
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import islice
from pathlib import Path

from domain import catalogue
from domain.catalogue import Column, RecordKind
from domain.money import MoneyError, parse_yuan

MAX_FILE_BYTES: int = 1 << 30  # 1 GiB: beyond that a county file is a mistake, not data
MAX_ROWS: int = 5_000_000
MAX_ERRORS_LISTED: int = 200
MAX_COLUMNS: int = 16_384  # Excel's own column limit
MAX_CELL_CHARS: int = 32_767  # Excel's own cell limit; a longer cell is not county data
HEADER_SEARCH_ROWS_MAX = 10  # title rows ('2025年3月低保发放花名册') may sit above the header
VALUE_CACHE_ENTRIES_MAX = 100_000  # per column: amounts, periods, programs repeat a lot
DELIMITER_SNIFF_CHARS = 8192
EXCEL_SIGNIFICANT_DIGITS = 15
AMOUNT_YUAN_MAX = Decimal(10) ** 12  # keeps sums of int fen far inside int64
SUFFIXES: tuple[str, ...] = (".csv", ".xlsx")
OLD_EXCEL_SUFFIX = ".xls"
# An unknown header at least this similar (difflib ratio) to a column's name or alias is
# taken as a misspelling of it: 收款人身份证 -> 收款人身份证号 (0.92), 户主姓名 -> 姓名 (0.67).
NEAR_HEADER_RATIO_MIN = 0.6
NEAR_HEADER_CHARS_MAX = 40  # a longer header is no misspelt column name: not compared
UNKNOWN_HEADERS_LISTED_MAX = 50  # warnings per file; the rest are counted
DELIMITERS: tuple[str, ...] = (",", ";", "\t")

BOOL_WORDS: dict[str, bool] = {
    "1": True, "是": True, "true": True, "yes": True, "y": True,
    "0": False, "否": False, "false": False, "no": False, "n": False,
}
INT_BOUNDS: dict[str, tuple[int, int | None, str]] = {
    "members": (1, None, "members must be at least 1"),
    "year": (1000, 9999, "not a 4-digit year"),
}
EMPTY_VALUES: dict[str, object] = {"money": None, "money?": None, "int": None, "bool": False}

_MISSING = object()
_GROUPED_RE = re.compile(r"[-+]?\d{1,3}(?:,\d{3})+(?:\.\d*)?", re.ASCII)
_INT_RE = re.compile(r"\d+(?:\.0+)?", re.ASCII)
_DATE_RES = (
    re.compile(r"(?P<y>\d{4})(?P<sep>[-/.])(?P<m>\d{1,2})(?P=sep)(?P<d>\d{1,2})", re.ASCII),
    re.compile(r"(?P<y>\d{4})\s*年\s*(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*日?", re.ASCII),
    re.compile(r"(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})", re.ASCII),
)
_PERIOD_RES = (
    re.compile(r"(?P<y>\d{4})[-/.](?P<m>\d{1,2})", re.ASCII),
    re.compile(r"(?P<y>\d{4})\s*年\s*(?P<m>\d{1,2})\s*月?", re.ASCII),
    re.compile(r"(?P<y>\d{4})(?P<m>\d{2})", re.ASCII),
)
_TIME_SUFFIX_RE = re.compile(r"[ T]+\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?$", re.ASCII)
_HEADER_UNIT_RE = re.compile(r"\s*[(\[【]([^()\[\]【】]*)[)\]】]\s*$")
_HEADER_SPACES_RE = re.compile(r"[\s\-]+")
# Characters written both ways in headers: 帐 and 账 (帐号 / 账号, 入帐日期 / 入账日期).
_HEADER_VARIANTS = str.maketrans({"帐": "账"})


@dataclass(frozen=True)
class RowError:
    """One problem in one file. ``row`` is the spreadsheet row (header = 1); 0 means
    the file as a whole. ``column`` is the header as written, or the canonical name of
    a missing column, or '' when no one column is at fault."""

    file: str
    row: int
    column: str
    reason: str

    def __str__(self) -> str:
        where = self.file if self.row == 0 else f"{self.file} row {self.row}"
        if self.column:
            where += f", column {self.column}"
        return f"{where}: {self.reason}"


@dataclass
class ParsedFile:
    """One file's typed rows (canonical keys of the kind's catalogue columns), problems
    and warnings."""

    kind: str
    path: Path
    name: str
    sha256: str = ""
    encoding: str = ""
    rows: list[dict] = field(default_factory=list)
    row_numbers: list[int] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    warnings: list[FileWarning] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass(frozen=True)
class FileWarning:
    """Something a person must know about a file that loads: a header naming no column
    (``column`` as written), the column it most resembles (``nearest``, '' when none is
    near) and whether that column is left empty because of it."""

    file: str
    column: str
    nearest: str = ""
    nearest_label: str = ""
    left_empty: bool = False
    read_from: str = ""  # the header the nearest column was read from, when present

    def __str__(self) -> str:
        text = f"{self.file}: column {self.column} not recognised"
        if not self.nearest:
            return text + ": ignored"
        guess = f"{self.nearest} / {self.nearest_label}"
        if self.left_empty:
            return text + f" (did you mean {guess}?); {self.nearest} left empty"
        return text + f" (nearest: {guess}, read from column {self.read_from}): ignored"


@dataclass(frozen=True)
class Skipped:
    """A file of a loaded folder that is not read, and why."""

    name: str
    reason: str

    def __str__(self) -> str:
        return f"{self.name}: {self.reason}"


class CellError(ValueError):
    """A cell that cannot be read as its column's type; the message is the reason."""


class _UnreadableFile(Exception):
    """The file's structure broke mid-read (bad CSV quoting, corrupt sheet XML)."""

    def __init__(self, row: int, reason: str) -> None:
        super().__init__(reason)
        self.row = row
        self.reason = reason


class _Errors:
    """Counts every problem, lists the first MAX_ERRORS_LISTED: a file where every row is
    wrong must not turn its error report into a second copy of the file."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.listed: list[RowError] = []
        self.count = 0

    def add(self, row: int, column: str, reason: str) -> None:
        self.count += 1
        if self.count <= MAX_ERRORS_LISTED:
            self.listed.append(RowError(self.name, row, column, reason))

    def result(self) -> list[RowError]:
        more = self.count - len(self.listed)
        if more <= 0:
            return list(self.listed)
        return self.listed + [RowError(self.name, 0, "", f"... and {more} more errors")]


# ----------------------------------------------------------------------------- naming

def kind_of(path: Path | str) -> str | None:
    """The kind a file name announces: its stem is a kind name, alone or followed by a
    suffix that does not start with a letter ('payroll_2025-03.csv'). Only .csv/.xlsx."""
    path = Path(path)
    if path.suffix.lower() not in SUFFIXES:
        return None
    return _kind_of_stem(path.stem.lower())


def _kind_of_stem(stem: str) -> str | None:
    for kind in sorted(catalogue.names(), key=len, reverse=True):  # bank_return before bank
        if stem == kind:
            return kind
        if stem.startswith(kind) and not _is_ascii_letter(stem[len(kind)]):
            return kind
    return None


def _is_ascii_letter(char: str) -> bool:
    return char.isascii() and char.isalpha()


@dataclass
class Survey:
    """What a folder holds: its contract files in load order, and what is not read."""

    paths: list[Path]
    skipped: list[Skipped]


def survey(directory: Path | str, also_read: Iterable[str] = ()) -> Survey:
    """Contract files directly in ``directory`` (load order, then by name), and every
    other entry with the reason it is not read (``also_read``: names read elsewhere,
    such as policy.toml, are neither)."""
    order = {kind: index for index, kind in enumerate(catalogue.names())}
    found: list[tuple[int, str, Path]] = []
    skipped: list[Skipped] = []
    for entry in sorted(Path(directory).iterdir(), key=lambda p: p.name):
        if entry.name in also_read:
            continue
        kind = kind_of(entry) if entry.is_file() and not entry.is_symlink() else None
        if kind is None:
            skipped.append(Skipped(entry.name, _skip_reason(entry)))
        else:
            found.append((order[kind], entry.name, entry))
    return Survey([p for _, _, p in sorted(found, key=lambda item: item[:2])], skipped)


def _skip_reason(entry: Path) -> str:
    # a symlink could point out of the folder the clerk named: not followed
    if entry.is_symlink():
        return "skipped: a symbolic link, not followed"
    if entry.is_dir():
        return "skipped: a folder (only the files directly in the folder are read)"
    if not entry.is_file():
        return "skipped: not a regular file"
    suffix = entry.suffix.lower()
    if suffix == OLD_EXCEL_SUFFIX:
        return "skipped: an old Excel .xls workbook is not read: save it as .xlsx"
    if suffix not in SUFFIXES:
        return "skipped: not a CSV or XLSX file"
    return (f"skipped: the name matches no kind of file (a name starts with one of "
            f"{', '.join(catalogue.names())}, e.g. payroll_2025-03.csv)")


def discover(directory: Path | str) -> list[Path]:
    """Contract files directly in ``directory``, in load order, then by name."""
    return survey(directory).paths


# --------------------------------------------------------------------------- cell types

def _parse_money(text: str, allow_negative: bool) -> Decimal:
    bare = text.replace("¥", "").replace("元", "").strip()
    if "," in bare and not _GROUPED_RE.fullmatch(bare):
        raise CellError(f"misplaced thousands separator: {text!r}")
    try:
        value = parse_yuan(text)
    except MoneyError as exc:
        raise CellError(str(exc)) from None
    except ArithmeticError:  # quantize overflow on absurd magnitudes ('1e40')
        raise CellError(f"amount out of range: {text!r}") from None
    if abs(value) > AMOUNT_YUAN_MAX:
        raise CellError(f"amount out of range: {text!r}")
    if value < 0 and not allow_negative:
        raise CellError(f"negative amount: {text!r}")
    return value.copy_abs() if value.is_zero() else value  # '-0' is 0.00, not -0.00


def _parse_int(text: str, name: str) -> int:
    if not _INT_RE.fullmatch(text):
        raise CellError(f"not a whole number: {text!r}")
    value = int(text.split(".")[0])
    low, high, reason = INT_BOUNDS.get(name, (None, None, ""))
    if (low is not None and value < low) or (high is not None and value > high):
        raise CellError(f"{reason}: {text!r}")
    return value


def _parse_bool(text: str) -> bool:
    value = BOOL_WORDS.get(text.lower())
    if value is None:
        raise CellError(f"not a yes/no value (1/是 or 0/否/empty): {text!r}")
    return value


def _parse_date(text: str) -> str:
    bare = _TIME_SUFFIX_RE.sub("", text) if ":" in text else text
    for pattern in _DATE_RES:
        match = pattern.fullmatch(bare)
        if match is not None:
            break
    else:
        raise CellError(f"not a date (YYYY-MM-DD): {text!r}")
    year, month, day = int(match["y"]), int(match["m"]), int(match["d"])
    try:
        dt.date(year, month, day)
    except ValueError:
        raise CellError(f"not a calendar date: {text!r}") from None
    return f"{year:04d}-{month:02d}-{day:02d}"


def _parse_period(text: str) -> str:
    for pattern in _PERIOD_RES:
        match = pattern.fullmatch(text)
        if match is not None:
            break
    else:
        raise CellError(f"not a period (YYYY-MM): {text!r}")
    month = int(match["m"])
    if not 1 <= month <= 12:
        raise CellError(f"not a month: {text!r}")
    return f"{match['y']}-{month:02d}"


def _parse_line_no(text: str) -> str:
    """'001' and Excel's 3.0 name the same line as '3'; other labels are kept."""
    if _INT_RE.fullmatch(text):
        return str(int(text.split(".")[0]))
    return text


def _parse_id_number(text: str) -> str:
    """Normalised only: a bad check digit is evidence for E07, never a rejection."""
    return "".join(text.split()).upper()


def _parse_account(text: str) -> str:
    return "".join(text.split()).replace("-", "")


def _enum_key(text: str) -> str:
    return _HEADER_SPACES_RE.sub("_", text.strip().lower())


def _enum_table(codes: catalogue.Codes) -> dict[str, str]:
    """Word -> code: the code, its label and every word offices write for it."""
    table: dict[str, str] = {}
    for code, words in codes.words.items():
        for word in (code, codes.label(code), *words):
            key = _enum_key(word)
            assert table.get(key, code) == code, f"{codes.name}: {word!r} is ambiguous"
            table[key] = code
    return table


_ENUM_TABLES: dict[str, dict[str, str]] = {
    name: _enum_table(codes) for name, codes in catalogue.ENUMS.items()}


def _enum_parser(type_: str) -> Callable[[str], str]:
    table, codes = _ENUM_TABLES[type_], catalogue.ENUMS[type_]
    expected = ", ".join(codes.words)
    label = type_.replace("_", " ")

    def parse(text: str) -> str:
        code = table.get(_enum_key(text))
        if code is not None:
            return code
        if codes.open:
            return text
        raise CellError(f"unknown {label}: {text!r} (expected one of {expected})")

    return parse


def _type_parser(column: Column) -> tuple[Callable[[str], object] | None, bool]:
    """(parser of a non-empty NFKC'd text or None for plain str, whether to memoise)."""
    type_ = column.type
    if type_ == "str":
        return None, False
    if column.is_money:
        negative = column.negative_allowed
        return (lambda text: _parse_money(text, negative)), True
    simple: dict[str, tuple[Callable[[str], object], bool]] = {
        "int": (lambda text: _parse_int(text, column.name), True),
        "bool": (_parse_bool, True),
        "date": (_parse_date, True),
        "period": (_parse_period, True),
        "line_no": (_parse_line_no, False),
        "id_number": (_parse_id_number, False),
        "account": (_parse_account, False),
    }
    if type_ in simple:
        return simple[type_]
    if type_ in _ENUM_TABLES:
        return _enum_parser(type_), True
    raise AssertionError(f"domain.catalogue type without a parser: {type_}")


def _empty_value(column: Column) -> object:
    return EMPTY_VALUES.get(column.type, "")


def _cell_reader(column: Column) -> Callable[[str], object]:
    """A function from the cell text to the typed value, raising CellError. Values of
    low-cardinality types are memoised: a million payroll lines hold a few dozen amounts.
    A value required on some rows only is checked once the row is read (``_Plan``)."""
    parse, memoise = _type_parser(column)
    value_required = (column.required and column.optional_when is None
                      and not column.type.endswith("?"))
    empty = _empty_value(column)

    def read(text: str) -> object:
        # NFKC turns full-width digits and letters into ASCII (ASCII is already NFKC).
        # Inlined on purpose: this runs once per cell, ten million times for a big payroll.
        norm = text.strip() if text.isascii() else unicodedata.normalize("NFKC", text).strip()
        if not norm:
            if value_required:
                raise CellError("required value is empty")
            return empty
        return norm if parse is None else parse(norm)

    if not memoise:
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


def _excel_text(value: object, type_: str) -> str:
    """An XLSX cell as the text a person sees, at Excel's 15 digits: 242.1 -> '242.1' (never
    float arithmetic), 3.0 -> '3', a date cell -> 'YYYY-MM-DD' (or 'YYYY-MM' for a period)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, dt.datetime):
        if type_ == "period":
            return f"{value.year:04d}-{value.month:02d}"
        if type_ == "date" or value.time() == dt.time(0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return f"{value.year:04d}-{value.month:02d}" if type_ == "period" else value.isoformat()
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        # Excel holds 15 significant digits; digits beyond are binary noise of formulas
        # (0.1+0.2 -> 0.30000000000000004), which the person never saw.
        return format(value, f".{EXCEL_SIGNIFICANT_DIGITS}g")
    return str(value)


def _excel_reader(read: Callable[[str], object], type_: str) -> Callable[[object], object]:
    def read_cell(value: object) -> object:
        return read(value if type(value) is str else _excel_text(value, type_))

    return read_cell


# ------------------------------------------------------------------------------ headers

def _header_key(text: str) -> tuple[str, str]:
    """(match key, unit in trailing brackets): '金额（元）' -> ('金额', '元'),
    'Household ID' -> ('household_id', ''), '*户编号' -> ('户编号', '')."""
    norm = unicodedata.normalize("NFKC", text).strip().strip("*").strip().lower()
    norm = norm.translate(_HEADER_VARIANTS)
    unit = ""
    match = _HEADER_UNIT_RE.search(norm)
    if match is not None and match.start() > 0:
        unit, norm = match.group(1).strip(), norm[: match.start()]
    return _HEADER_SPACES_RE.sub("_", norm.strip()), unit


_ALIAS_TABLES: dict[RecordKind, dict[str, str]] = {}  # by declaration: kinds may be added


def alias_table(kind: RecordKind) -> dict[str, str]:
    """Match key -> column name: every column's name and aliases, normalised. An alias
    names one column of its kind (the same word may mean other columns in other kinds:
    编号, 类别, 资金来源)."""
    table = _ALIAS_TABLES.get(kind)
    if table is None:
        table = {}
        for column in kind.columns:
            for word in (column.name, *column.aliases):
                key = _header_key(word)[0]
                assert table.get(key, column.name) == column.name, \
                    f"{kind.name}: header {word!r} is ambiguous"
                table[key] = column.name
        _ALIAS_TABLES[kind] = table
    return table


@dataclass
class _Header:
    row: int
    found: dict[str, tuple[int, str]]  # canonical name -> (cell index, header as written)
    problems: list[tuple[str, str]]  # (column, reason)
    unknown: list[str] = field(default_factory=list)  # headers as written naming no column


def _match_header(kind: RecordKind, row: int, cells: Iterable[object]) -> _Header:
    table = alias_table(kind)
    header = _Header(row, {}, [])
    for index, cell in enumerate(cells):
        written = "" if cell is None else str(cell).strip()
        key, unit = _header_key(written)
        name = table.get(key)
        if name is None:
            if key:
                header.unknown.append(written)
            continue
        if name in header.found:
            first = header.found[name][1]
            header.problems.append((written, f"column {name} given twice (also {first!r})"))
            continue
        header.found[name] = (index, written)
        if kind.column(name).is_money and ("万" in unit or "千" in unit):
            header.problems.append((written, f"amounts must be in yuan (元), not {unit!r}"))
    return header


def _find_header(kind: RecordKind, head: list[list[object]]) -> _Header:
    """The first row holding every required column, else the row matching the most
    columns (earliest on a tie): its problems then name the missing columns."""
    required = {c.name for c in kind.columns if c.required}
    candidates = [_match_header(kind, i + 1, cells) for i, cells in enumerate(head)]
    for header in candidates:
        if required <= header.found.keys():
            return header
    return max(candidates, key=lambda h: (len(h.found), -h.row))


def nearest_column(kind: RecordKind, written: str) -> Column | None:
    """The column whose name or alias the header most resembles, if any is near
    (NEAR_HEADER_RATIO_MIN); the earlier column on a tie."""
    key = _header_key(written)[0]
    if not key or len(key) > NEAR_HEADER_CHARS_MAX:
        return None
    best, best_ratio = "", NEAR_HEADER_RATIO_MIN
    for alias_key, name in alias_table(kind).items():
        matcher = difflib.SequenceMatcher(None, key, alias_key, autojunk=False)
        if matcher.quick_ratio() < best_ratio:
            continue
        ratio = matcher.ratio()
        if ratio > best_ratio or (not best and ratio >= best_ratio):
            best, best_ratio = name, ratio
    return kind.column(best) if best else None


def _header_warnings(kind: RecordKind, header: _Header, name: str) -> list[FileWarning]:
    """One warning per header naming no column, with the column it resembles."""
    out = []
    for written in header.unknown[:UNKNOWN_HEADERS_LISTED_MAX]:
        column = nearest_column(kind, written)
        if column is None:
            out.append(FileWarning(name, written))
            continue
        found = header.found.get(column.name)
        out.append(FileWarning(name, written, column.name, column.label,
                               left_empty=found is None, read_from=found[1] if found else ""))
    more = len(header.unknown) - UNKNOWN_HEADERS_LISTED_MAX
    if more > 0:
        out.append(FileWarning(name, f"… and {more} more columns"))
    return out


def _missing_columns(kind: RecordKind, header: _Header,
                     warnings: list[FileWarning]) -> list[tuple[str, str]]:
    """A required column absent from the header; the header it may be misspelt as."""
    guesses = {w.nearest: w.column for w in warnings if w.left_empty}
    problems = []
    for column in kind.columns:
        if column.required and column.name not in header.found:
            reason = f"required column missing ({column.name} / {column.label})"
            if column.name in guesses:
                reason += f"; is it column {guesses[column.name]}?"
            problems.append((column.name, reason))
    return problems


# ------------------------------------------------------------------------------ sources

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
    sample = text[:DELIMITER_SNIFF_CHARS]
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
        for row, cells in enumerate(sheet.iter_rows(values_only=True), start=1):
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
    rows_max = header.row + MAX_ROWS
    for row_no, cells in enumerate(records, start=header.row + 1):
        if row_no > rows_max:
            errors.add(row_no, "", f"more than {MAX_ROWS} rows: split the file")
            return
        if not plan.has_value(cells):
            continue
        if _has_huge_cell(cells):
            errors.add(row_no, "", f"a cell longer than {MAX_CELL_CHARS} characters")
            continue
        row = _read_row(plan, cells, row_no, errors)
        if row is not None and duplicates.keep(row, row_no, errors):
            parsed.rows.append(row)
            parsed.row_numbers.append(row_no)


def _parse_records(kind: RecordKind, records: Iterator, excel: bool,
                   parsed: ParsedFile, errors: _Errors) -> None:
    head = list(islice(records, HEADER_SEARCH_ROWS_MAX))
    if not head:
        errors.add(0, "", "empty file: no header row")
        return
    if max((len(r) for r in head if r is not None), default=0) > MAX_COLUMNS:
        errors.add(0, "", f"more than {MAX_COLUMNS} columns: not a county register")
        return
    header = _find_header(kind, head)
    parsed.warnings = _header_warnings(kind, header, parsed.name)
    for column, reason in header.problems + _missing_columns(kind, header, parsed.warnings):
        errors.add(header.row, column, reason)
    plan = _plan(kind, header, excel)
    body = head[header.row:]
    _read_body(kind, _chain(body, records), header, plan, parsed, errors)


def _has_huge_cell(cells: Sequence[object]) -> bool:
    return any(isinstance(c, str) and len(c) > MAX_CELL_CHARS for c in cells)


def _chain(first: list, rest: Iterator) -> Iterator:
    yield from first
    yield from rest


def _read_bytes(path: Path, errors: _Errors) -> bytes | None:
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            errors.add(0, "", f"file too large: {size} bytes (limit {MAX_FILE_BYTES})")
            return None
        return path.read_bytes()
    except OSError as exc:
        errors.add(0, "", f"cannot read file: {exc.strerror or exc}")
        return None


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


def _kind_for(path: Path, kind: str | None) -> str:
    kind = kind if kind is not None else kind_of(path)
    if kind is None:
        names = ", ".join(catalogue.names())
        raise ValueError(f"{path.name}: not a contract file name (a kind: {names}; .csv/.xlsx)")
    if not catalogue.is_kind(kind):
        raise ValueError(f"unknown kind {kind!r}")
    return kind


def parse_file(path: Path | str, kind: str | None = None) -> ParsedFile:
    """Read one contract file into typed rows, listing every problem in ``errors``.

    ``kind`` defaults to the one the file name announces (``kind_of``); a name that
    announces none raises ValueError, since nothing about the content can be checked.
    """
    path = Path(path)
    kind = _kind_for(path, kind)
    parsed = ParsedFile(kind=kind, path=path, name=path.name)
    errors = _Errors(path.name)
    if path.suffix.lower() not in SUFFIXES:
        errors.add(0, "", f"unsupported file type {path.suffix!r}: save it as .csv or .xlsx")
    else:
        raw = _read_bytes(path, errors)
        if raw is not None:
            parsed.sha256 = hashlib.sha256(raw).hexdigest()
            _parse_source(path, raw, parsed, errors)
    parsed.errors = errors.result()
    return parsed


_gc_lock = threading.Lock()
_gc_pause = {"depth": 0, "resume": False}


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while rows are built: a million row dicts make
    it rescan the growing heap again and again (half the parse time), and rows hold no
    cycles. Counted, so overlapping parses in several threads resume it only at the end."""
    with _gc_lock:
        if _gc_pause["depth"] == 0:
            _gc_pause["resume"] = gc.isenabled()
            gc.disable()
        _gc_pause["depth"] += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_pause["depth"] -= 1
            if _gc_pause["depth"] == 0 and _gc_pause["resume"]:
                gc.enable()


def _parse_source(path: Path, raw: bytes, parsed: ParsedFile, errors: _Errors) -> None:
    records = _records(path, raw, parsed, errors)
    if records is None:
        return
    try:
        with _gc_paused():
            _parse_records(catalogue.kind(parsed.kind), records, parsed.encoding == "xlsx",
                           parsed, errors)
    except _UnreadableFile as exc:
        errors.add(exc.row, "", exc.reason)
    finally:
        records.close()  # type: ignore[attr-defined]

"""One cell of a county file read as its column's type: the one source of every cell message.

The column-wise parser (``api.files.columns``) converts the common spellings of a whole
column at once and hands every other cell here, so a bad cell's message ("more than 2
decimals: '12.345'", "not a calendar date: '2025-02-30'") is written in one place only.
Each reader takes the cell's text as a person sees it and returns the typed value or raises
``CellError`` with the reason.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Callable
from decimal import Decimal

from domain import catalogue
from domain.catalogue import Column
from domain.errors import DomainError
from domain.money import MoneyError, parse_yuan
from domain.names import PLACE_CHARS_MAX, clean_name

EXCEL_SIGNIFICANT_DIGITS = 15
AMOUNT_YUAN_MAX = Decimal(10) ** 12  # keeps sums of int fen far inside int64
INT_VALUE_MAX = 2**63 - 1  # int columns are int64 in the parsed table
# Columns naming a place: NFC, nothing hidden (domain.names.clean_name), as users' names.
PLACE_COLUMNS: frozenset[str] = frozenset({"township", "village"})

BOOL_WORDS: dict[str, bool] = {
    "1": True, "是": True, "true": True, "yes": True, "y": True,
    "0": False, "否": False, "false": False, "no": False, "n": False,
}
INT_BOUNDS: dict[str, tuple[int, int | None, str]] = {
    "members": (1, None, "members must be at least 1"),
    "year": (1000, 9999, "not a 4-digit year"),
}
EMPTY_VALUES: dict[str, object] = {"money": None, "money?": None, "int": None, "bool": False}

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
_ENUM_SPACES_RE = re.compile(r"[\s\-]+")


class CellError(ValueError):
    """A cell that cannot be read as its column's type; the message is the reason."""


def normalise(text: str) -> str:
    """NFKC turns full-width digits and letters into ASCII (ASCII is already NFKC)."""
    return text.strip() if text.isascii() else unicodedata.normalize("NFKC", text).strip()


# --------------------------------------------------------------------------- cell types

def parse_money(text: str, allow_negative: bool) -> Decimal:
    bare = text.replace("¥", "").replace("元", "").strip()
    if "," in bare and not _GROUPED_RE.fullmatch(bare):
        raise CellError(f"misplaced thousands separator: {text!r}")
    try:
        value = parse_yuan(text)
    except MoneyError as exc:
        raise CellError(str(exc)) from None
    except ArithmeticError:  # quantize overflow on absurd magnitudes
        raise CellError(f"amount out of range: {text!r}") from None
    if abs(value) > AMOUNT_YUAN_MAX:
        raise CellError(f"amount out of range: {text!r}")
    if value < 0 and not allow_negative:
        raise CellError(f"negative amount: {text!r}")
    return value.copy_abs() if value.is_zero() else value  # '-0' is 0.00, not -0.00


def parse_int(text: str, name: str) -> int:
    if not _INT_RE.fullmatch(text):
        raise CellError(f"not a whole number: {text!r}")
    digits = text.split(".")[0].lstrip("0") or "0"
    if len(digits) > len(str(INT_VALUE_MAX)) or int(digits) > INT_VALUE_MAX:
        raise CellError(f"whole number out of range: {text!r}")
    value = int(digits)
    low, high, reason = INT_BOUNDS.get(name, (None, None, ""))
    if (low is not None and value < low) or (high is not None and value > high):
        raise CellError(f"{reason}: {text!r}")
    return value


def parse_bool(text: str) -> bool:
    value = BOOL_WORDS.get(text.lower())
    if value is None:
        raise CellError(f"not a yes/no value (1/是 or 0/否/empty): {text!r}")
    return value


def parse_date(text: str) -> str:
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


def parse_period(text: str) -> str:
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


def parse_line_no(text: str) -> str:
    """'001' and Excel's 3.0 name the same line as '3'; other labels are kept."""
    if _INT_RE.fullmatch(text):
        return text.split(".")[0].lstrip("0") or "0"
    return text


def parse_id_number(text: str) -> str:
    """Normalised only: a bad check digit is evidence for E07, never a rejection."""
    return "".join(text.split()).upper()


def parse_account(text: str) -> str:
    return "".join(text.split()).replace("-", "")


def parse_place(text: str, what: str) -> str:
    """A township or village: the same key as the API's (``domain.names.clean_name``)."""
    try:
        return clean_name(text, what, PLACE_CHARS_MAX)
    except DomainError as exc:
        raise CellError(str(exc)) from None


def enum_key(text: str) -> str:
    return _ENUM_SPACES_RE.sub("_", text.strip().lower())


def enum_table(codes: catalogue.Codes) -> dict[str, str]:
    """Word -> code: the code, its label and every word offices write for it."""
    table: dict[str, str] = {}
    for code, words in codes.words.items():
        for word in (code, codes.label(code), *words):
            key = enum_key(word)
            assert table.get(key, code) == code, f"{codes.name}: {word!r} is ambiguous"
            table[key] = code
    return table


ENUM_TABLES: dict[str, dict[str, str]] = {
    name: enum_table(codes) for name, codes in catalogue.ENUMS.items()}


def enum_parser(type_: str) -> Callable[[str], str]:
    table, codes = ENUM_TABLES[type_], catalogue.ENUMS[type_]
    expected = ", ".join(codes.words)
    label = type_.replace("_", " ")

    def parse(text: str) -> str:
        code = table.get(enum_key(text))
        if code is not None:
            return code
        if codes.open:
            return text
        raise CellError(f"unknown {label}: {text!r} (expected one of {expected})")

    return parse


def type_parser(column: Column) -> Callable[[str], object] | None:
    """The parser of a non-empty normalised text, None for plain text."""
    type_ = column.type
    if type_ == "str":
        if column.name in PLACE_COLUMNS:
            return lambda text: parse_place(text, column.name)
        return None
    if column.is_money:
        negative = column.negative_allowed
        return lambda text: parse_money(text, negative)
    simple: dict[str, Callable[[str], object]] = {
        "int": lambda text: parse_int(text, column.name),
        "bool": parse_bool, "date": parse_date, "period": parse_period,
        "line_no": parse_line_no, "id_number": parse_id_number, "account": parse_account,
    }
    if type_ in simple:
        return simple[type_]
    if type_ in ENUM_TABLES:
        return enum_parser(type_)
    raise AssertionError(f"domain.catalogue type without a parser: {type_}")


def empty_value(column: Column) -> object:
    return EMPTY_VALUES.get(column.type, "")


def value_always_required(column: Column) -> bool:
    """Whether every row must give a value (not only rows where a condition holds)."""
    return column.required and column.optional_when is None and not column.type.endswith("?")


def cell_reader(column: Column) -> Callable[[str], object]:
    """A function from the cell text to the typed value, raising CellError. A value
    required on some rows only is checked once the row is read."""
    parse = type_parser(column)
    required = value_always_required(column)
    empty = empty_value(column)

    def read(text: str) -> object:
        norm = normalise(text)
        if not norm:
            if required:
                raise CellError("required value is empty")
            return empty
        return norm if parse is None else parse(norm)

    return read


def excel_text(value: object, type_: str) -> str:
    """An XLSX cell as the text a person sees, at Excel's 15 digits: 242.1 -> '242.1' (never
    float arithmetic), 3.0 -> '3', a date cell -> 'YYYY-MM-DD' (or 'YYYY-MM' for a period).
    A yes/no cell in an amount column reads TRUE/FALSE, as Excel shows it: not an amount."""
    if value is None:
        return ""
    if isinstance(value, bool):
        if type_.startswith("money"):
            return "TRUE" if value else "FALSE"
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

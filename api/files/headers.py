"""The header row: which column each header names (catalogue aliases), the headers naming
none (warnings, with the column they most resemble), and the required columns missing."""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field

from api.files.model import FileWarning
from domain.catalogue import Column, RecordKind

# An unknown header at least this similar (difflib ratio) to a column's name or alias is
# taken as a misspelling of it: 收款人身份证 -> 收款人身份证号 (0.92), 户主姓名 -> 姓名 (0.67).
NEAR_HEADER_RATIO_MIN = 0.6
NEAR_HEADER_CHARS_MAX = 40  # a longer header is no misspelt column name: not compared
UNKNOWN_HEADERS_LISTED_MAX = 50  # warnings per file; the rest are counted

_HEADER_UNIT_RE = re.compile(r"\s*[(\[【]([^()\[\]【】]*)[)\]】]\s*$")
_HEADER_SPACES_RE = re.compile(r"[\s\-]+")
# Characters written both ways in headers: 帐 and 账 (帐号 / 账号, 入帐日期 / 入账日期).
_HEADER_VARIANTS = str.maketrans({"帐": "账"})


def header_key(text: str) -> tuple[str, str]:
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
                key = header_key(word)[0]
                assert table.get(key, column.name) == column.name, \
                    f"{kind.name}: header {word!r} is ambiguous"
                table[key] = column.name
        _ALIAS_TABLES[kind] = table
    return table


@dataclass
class Header:
    row: int
    found: dict[str, tuple[int, str]]  # canonical name -> (cell index, header as written)
    problems: list[tuple[str, str]]  # (column, reason)
    unknown: list[str] = field(default_factory=list)  # headers as written naming no column


def match_header(kind: RecordKind, row: int, cells: Iterable[object]) -> Header:
    table = alias_table(kind)
    header = Header(row, {}, [])
    for index, cell in enumerate(cells):
        written = "" if cell is None else str(cell).strip()
        key, unit = header_key(written)
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


def find_header(kind: RecordKind, head: list[list[object]]) -> Header:
    """The first row holding every required column, else the row matching the most
    columns (earliest on a tie): its problems then name the missing columns."""
    required = {c.name for c in kind.columns if c.required}
    candidates = [match_header(kind, i + 1, cells) for i, cells in enumerate(head)]
    for header in candidates:
        if required <= header.found.keys():
            return header
    return max(candidates, key=lambda h: (len(h.found), -h.row))


def nearest_column(kind: RecordKind, written: str) -> Column | None:
    """The column whose name or alias the header most resembles, if any is near
    (NEAR_HEADER_RATIO_MIN); the earlier column on a tie."""
    key = header_key(written)[0]
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


def header_warnings(kind: RecordKind, header: Header, name: str) -> list[FileWarning]:
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


def missing_columns(kind: RecordKind, header: Header,
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

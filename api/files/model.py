"""What parsing a file gives: the typed table, every problem, every warning.

``ParsedFile.table`` is the outcome another stage records from: one column per catalogue
column of the kind, in catalogue order, plus ``_row`` (the spreadsheet row). Its types
(``table_schema``): text-like columns (str, id_number, account, line_no, every enum, date
``YYYY-MM-DD``, period ``YYYY-MM``) are ``string``, never null ('' when empty); money is
``int64`` fen, null when empty; int is ``int64``, null when empty; bool is ``bool``, false
when empty. Rows with an error are not in it (a file with errors is rejected whole).

``ParsedFile.rows`` and ``row_numbers`` are a view of the same table as today's dicts
(``Decimal`` money), built on demand a slice at a time, for small callers.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, overload

import pyarrow as pa

from domain import catalogue
from domain.money import from_fen

ROW_COLUMN = "_row"
ROWS_VIEW_BATCH_ROWS = 20_000  # dicts built at a time when the view is iterated


def arrow_type(column: catalogue.Column) -> pa.DataType:
    """The table type of a catalogue column (module docstring)."""
    if column.is_money or column.type == "int":
        return pa.int64()
    if column.type == "bool":
        return pa.bool_()
    return pa.string()


def table_schema(kind: str) -> pa.Schema:
    """The parsed table's schema for a kind: its columns in catalogue order, then ``_row``."""
    fields = [pa.field(c.name, arrow_type(c), nullable=c.is_money or c.type == "int")
              for c in catalogue.columns(kind)]
    return pa.schema([*fields, pa.field(ROW_COLUMN, pa.int64(), nullable=False)])


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


@dataclass
class ParsedFile:
    """One file's typed table (``table_schema``), problems and warnings."""

    kind: str
    path: Path
    name: str
    sha256: str = ""
    encoding: str = ""
    errors: list[RowError] = field(default_factory=list)
    warnings: list[FileWarning] = field(default_factory=list)
    table: pa.Table = None  # an empty table of the schema when not given (__post_init__)

    def __post_init__(self) -> None:
        if self.table is None:
            self.table = table_schema(self.kind).empty_table()

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def rows(self) -> RowsView:
        """The rows as dicts (money as ``Decimal``), built a slice at a time."""
        return RowsView(self.kind, self.table)

    @property
    def row_numbers(self) -> list[int]:
        return self.table.column(ROW_COLUMN).to_pylist()


class RowsView(Sequence[dict[str, Any]]):
    """Today's row dicts over a parsed table: exactly the kind's columns, ``Decimal``
    money (None when empty), int or None, bool, text. Never holds more than one slice."""

    def __init__(self, kind: str, table: pa.Table) -> None:
        self.kind = kind
        self.table = table
        self.money = [c.name for c in catalogue.columns(kind) if c.is_money]
        self.names = list(catalogue.kind(kind).column_names)

    def __len__(self) -> int:
        return self.table.num_rows

    @overload
    def __getitem__(self, index: int) -> dict[str, Any]: ...

    @overload
    def __getitem__(self, index: slice) -> list[dict[str, Any]]: ...

    def __getitem__(self, index: int | slice) -> dict[str, Any] | list[dict[str, Any]]:
        if isinstance(index, slice):
            start, stop, step = index.indices(len(self))
            rows = self._dicts(start, max(stop - start, 0))
            return rows[::step] if step != 1 else rows
        position = index + len(self) if index < 0 else index
        if not 0 <= position < len(self):
            raise IndexError("row index out of range")
        return self._dicts(position, 1)[0]

    def __iter__(self) -> Iterator[dict[str, Any]]:
        for start in range(0, len(self), ROWS_VIEW_BATCH_ROWS):
            yield from self._dicts(start, ROWS_VIEW_BATCH_ROWS)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, RowsView | list | tuple):
            return list(self) == list(other)
        return NotImplemented

    def __repr__(self) -> str:
        return f"RowsView({self.kind}, {len(self)} rows)"

    def _dicts(self, start: int, length: int) -> list[dict[str, Any]]:
        part = self.table.slice(start, length).select(self.names)
        rows = part.to_pylist()
        for name in self.money:
            for row in rows:
                fen = row[name]
                row[name] = None if fen is None else _yuan(fen)
        return rows


def _yuan(fen: int) -> Decimal:
    value = from_fen(fen)
    return value.copy_abs() if value.is_zero() else value

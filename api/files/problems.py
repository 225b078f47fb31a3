"""A file's problems, in the order a person reads them, bounded.

Problems arrive column by column and batch by batch (and duplicate keys only once the
whole file is read), but are listed as a person reads the file: by row, then by column.
Only the first MAX_ERRORS_LISTED are kept; the rest are counted, so a file where every row
is wrong does not turn its error report into a second copy of the file. A problem that ends
the reading (``Stop``: unreadable structure, a limit hit) comes last.
"""

from __future__ import annotations

from api.files import limits
from api.files.model import RowError


class Stop(Exception):
    """Reading the file cannot go on: its structure broke, or it passed a limit."""

    def __init__(self, row: int, reason: str) -> None:
        super().__init__(reason)
        self.row = row
        self.reason = reason


def too_many_rows(row: int) -> Stop:
    return Stop(row, f"more than {limits.MAX_ROWS} rows (MAX_ROWS): split the file")


def too_many_columns(row: int) -> Stop:
    return Stop(row, f"more than {limits.MAX_COLUMNS} columns (MAX_COLUMNS): "
                     "not a county register")


class Problems:
    """Every problem of one file: the first MAX_ERRORS_LISTED in reading order, and a count."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.count = 0
        self._kept: list[tuple[int, int, int, str, str]] = []  # (row, place, seq, col, why)
        self._final: list[RowError] = []

    def add(self, row: int, column: str, reason: str, place: int = 0) -> None:
        """A problem at ``row`` in the column at ``place`` of the kind (0: the row)."""
        self.count += 1
        self._kept.append((row, place, self.count, column, reason))
        if len(self._kept) > 4 * limits.MAX_ERRORS_LISTED:
            self._kept = sorted(self._kept)[:limits.MAX_ERRORS_LISTED]

    def add_uncounted_listing(self, more: int) -> None:
        """``more`` problems counted but not described (beyond what can be listed)."""
        self.count += more

    def add_final(self, row: int, reason: str) -> None:
        self.count += 1
        self._final.append(RowError(self.name, row, "", reason))

    def absorb(self, other: Problems) -> None:
        """Take ``other``'s problems as if they had been added here after these."""
        for row, place, seq, column, reason in other._kept:
            self._kept.append((row, place, self.count + seq, column, reason))
        self.count += other.count
        self._final += other._final
        self._kept = sorted(self._kept)[:limits.MAX_ERRORS_LISTED]

    def result(self) -> list[RowError]:
        ordered = [RowError(self.name, row, column, reason)
                   for row, _, _, column, reason in sorted(self._kept)]
        listed = (ordered + self._final)[:limits.MAX_ERRORS_LISTED]
        more = self.count - len(listed)
        if more <= 0:
            return listed
        return listed + [RowError(self.name, 0, "", f"... and {more} more errors")]

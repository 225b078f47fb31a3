"""Which kind of file a name announces, and what a folder holds (contract files and the
rest, each with the reason it is not read)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from domain import catalogue

SUFFIXES: tuple[str, ...] = (".csv", ".xlsx")
OLD_EXCEL_SUFFIX = ".xls"


@dataclass(frozen=True)
class Skipped:
    """A file of a loaded folder that is not read, and why."""

    name: str
    reason: str

    def __str__(self) -> str:
        return f"{self.name}: {self.reason}"


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



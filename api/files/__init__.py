"""The county's files (docs/formats.md) read into typed columns, every problem listed.

``parse_file`` reads one CSV or XLSX file of a record kind (``domain.catalogue``) once,
column-wise, in a child process under memory and CPU caps (``isolate``), and returns a
``ParsedFile`` whose ``table`` is an Arrow table memory-mapped from the IPC file the child
wrote (``model`` gives its exact schema), with every problem as a ``RowError`` (file,
spreadsheet row, column, reason) and every unknown header as a ``FileWarning``.

Modules: ``naming`` (which kind a file name announces, what a folder holds), ``headers``
(the header row), ``cells`` (one cell read as its type: the one source of every cell
message), ``columns`` (a batch of cells converted a column at a time), ``csv_source`` and
``xlsx_source`` (streaming readers), ``parse`` (the pipeline), ``isolate`` (the capped
child), ``limits`` (every limit, named).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections import deque
from collections.abc import Sequence
from pathlib import Path

import pyarrow as pa

from api.files import isolate, limits
from api.files.cells import EMPTY_VALUES, CellError
from api.files.headers import alias_table, header_key, nearest_column
from api.files.isolate import ParserCrashed
from api.files.limits import MAX_ERRORS_LISTED
from api.files.model import (
    ROW_COLUMN,
    FileWarning,
    ParsedFile,
    RowError,
    RowsView,
    arrow_type,
    table_schema,
)
from api.files.naming import SUFFIXES, Skipped, Survey, discover, kind_of, survey
from domain import catalogue

WORK_DIR_PREFIX = "aidledger-parse-"
# Files of a folder parsed at once, each in its own capped child (one per CPU, two at
# most: each child may use PARSE_MEMORY_BYTES_MAX).
PARSE_JOBS = max(1, min(2, os.cpu_count() or 1))
# pyarrow imports pandas the first time it converts Python objects (0.15 s): done once
# here, so that no parsing child, forked from this process, pays it again for every file.
pa.array([""], pa.string())


def parse_file(path: Path | str, kind: str | None = None, *,
               amount_max_fen: int | None = None, work_dir: Path | None = None) -> ParsedFile:
    """Read one contract file into a typed table, listing every problem in ``errors``.

    ``kind`` defaults to the one the file name announces (``kind_of``); a name that
    announces none raises ValueError, since nothing about the content can be checked.
    ``amount_max_fen``: the ceiling on one amount for this kind (``domain.amount_limits``;
    the loader passes the county's policy), none but the absolute bound when None.
    The table is memory-mapped from an IPC file written under ``work_dir`` (default: the
    system's temporary folder) and unlinked at once: its pages belong to the table alone.
    """
    path = Path(path)
    kind = _kind_for(path, kind)
    return _finished(kind, _started(path, kind, amount_max_fen, work_dir))


def parse_files(requests: Sequence[tuple[Path, int | None]], *, jobs: int = PARSE_JOBS,
                work_dir: Path | None = None) -> list[ParsedFile]:
    """``parse_file`` of each (path, amount ceiling in fen), ``jobs`` children at a time,
    in the order given (the kind is the one each file name announces)."""
    kinds = [_kind_for(Path(path), None) for path, _ in requests]
    out: list[ParsedFile] = []
    running: deque[tuple[str, isolate.Child]] = deque()
    try:
        for kind, (path, ceiling) in zip(kinds, requests, strict=True):
            running.append((kind, _started(Path(path), kind, ceiling, work_dir)))
            if len(running) >= jobs:
                out.append(_finished(*running.popleft()))
        while running:
            out.append(_finished(*running.popleft()))
    finally:
        for _, child in running:
            isolate.abandon(child)
            shutil.rmtree(child.work, ignore_errors=True)
    return out


def _started(path: Path, kind: str, amount_max_fen: int | None,
             work_dir: Path | None) -> isolate.Child:
    work = Path(tempfile.mkdtemp(prefix=WORK_DIR_PREFIX, dir=work_dir))
    try:
        return isolate.start(path, kind, work / "table.arrow", work, amount_max_fen)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise


def _finished(kind: str, child: isolate.Child) -> ParsedFile:
    """The child's table (memory-mapped, its file unlinked at once with its folder: the
    pages belong to the table alone) and its outcome."""
    try:
        outcome = isolate.finish(child)
        table = _mapped(child.out, kind) if child.out.exists() \
            else table_schema(kind).empty_table()
    finally:
        shutil.rmtree(child.work, ignore_errors=True)
    return ParsedFile(kind=kind, path=child.path, name=child.path.name, sha256=outcome.sha256,
                      encoding=outcome.encoding, errors=outcome.errors,
                      warnings=outcome.warnings, table=table)


def _mapped(out: Path, kind: str) -> pa.Table:
    source = pa.memory_map(str(out))
    try:
        table = pa.ipc.open_file(source).read_all()
    except pa.ArrowInvalid:  # the child stopped before writing a table (a limit hit)
        source.close()
        return table_schema(kind).empty_table()
    return table


def _kind_for(path: Path, kind: str | None) -> str:
    kind = kind if kind is not None else kind_of(path)
    if kind is None:
        names = ", ".join(catalogue.names())
        raise ValueError(f"{path.name}: not a contract file name (a kind: {names}; .csv/.xlsx)")
    if not catalogue.is_kind(kind):
        raise ValueError(f"unknown kind {kind!r}")
    return kind


__all__ = [
    "EMPTY_VALUES", "MAX_ERRORS_LISTED", "ROW_COLUMN", "SUFFIXES", "CellError", "FileWarning",
    "ParsedFile", "ParserCrashed", "RowError", "RowsView", "Skipped", "Survey", "alias_table",
    "arrow_type", "discover", "header_key", "kind_of", "limits", "nearest_column",
    "parse_file", "parse_files", "survey", "table_schema",
]

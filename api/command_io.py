"""What every command handler shares: the store it opens (``--db``), the actor it records
as, and the contract CSV it writes a table to."""

from __future__ import annotations

import argparse
import csv
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd

from api.disclosure import neutralise
from api.wiring import Store, db_url, safe_url
from domain.errors import DomainError
from domain.money import format_fen
from reconciliation.cells import fit_value

CLI_ACTOR = "cli"


@contextmanager
def open_store(args: argparse.Namespace, create: bool = False) -> Iterator[Store]:
    """The store named by --db (or AIDLEDGER_DB). Only ``load``, ``import`` and ``user add``
    pass ``create=True``: every other command refuses a store that does not exist yet."""
    url = db_url(args.db)
    try:
        store = Store(url, create=create)
    except DomainError:
        raise
    except Exception as error:  # the store is unreachable or unusable: say which and why
        raise DomainError(f"cannot open the store {safe_url(url)}: {error}") from error
    try:
        yield store
    finally:
        store.close()


def write_csv(frame: pd.DataFrame, path: Path, money: tuple[str, ...] = ()) -> None:
    """Plain UTF-8 (programs read contract CSVs; people get --xlsx), money as '1234.50',
    no cell longer than a spreadsheet cell holds."""
    path.parent.mkdir(parents=True, exist_ok=True)
    out = frame.copy()
    for column in out.columns:
        if column in money:
            out[column] = ["" if pd.isna(v) else format_fen(v) for v in out[column]]
        else:
            out[column] = [fit_value(neutralise(v)) for v in out[column]]
    out.to_csv(path, index=False, encoding="utf-8", quoting=csv.QUOTE_MINIMAL,
               lineterminator="\n")

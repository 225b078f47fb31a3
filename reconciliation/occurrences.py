"""From occurrences to findings: the shape the reserve, asset and screen modules share.

A rule first finds *occurrences* (one row per offending record, day or episode) and then
merges them into exactly one finding per subject, as reconciliation/README.md requires:
``period`` the earliest period concerned, ``amount`` the total (or largest) at stake,
``detail`` every occurrence in order, ``evidence`` every ledger event and file row
involved, sorted and de-duplicated. Keeping that merge in one place keeps the twelve
modules that use it short and their output identical in form.

Dates are ISO ``YYYY-MM-DD`` strings in frames; day arithmetic goes through day numbers
(days since 1970-01-01) so "days between" is exact calendar subtraction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from itertools import groupby

import pandas as pd

from reconciliation.common import FINDING_COLUMNS, empty_findings

OCCURRENCE_COLUMNS = ["subject_id", "subject_type", "period", "amount_fen", "detail", "evidence"]
EPOCH = pd.Timestamp("1970-01-01")
EVENT_PREFIX = "event:"


def evidence_tokens(frame: pd.DataFrame) -> pd.Series:
    """'event:<id> file.csv#row' for each row of a frame that has the evidence columns."""
    event = frame["evidence_event"].fillna("").astype(str).str.strip()
    row = frame["evidence_row"].fillna("").astype(str).str.strip()
    already = event.str.startswith(EVENT_PREFIX)
    event = event.where(already | (event == ""), EVENT_PREFIX + event)
    return (event + " " + row).str.strip()


def merge_evidence(texts: Iterable[str]) -> str:
    """One evidence cell from many: the tokens sorted and de-duplicated."""
    return " ".join(sorted({token for text in texts for token in str(text).split()}))


def day_numbers(dates: pd.Series) -> pd.Series:
    """Days since 1970-01-01 for ISO date strings (Int64; <NA> for empty or invalid)."""
    parsed = pd.to_datetime(dates.fillna("").astype(str), format="%Y-%m-%d", errors="coerce")
    return (parsed - EPOCH).dt.days.astype("Int64")


def day_number(date: str) -> int:
    """Days since 1970-01-01 for one ISO date (the as-of date)."""
    return (dt.date.fromisoformat(date) - dt.date(1970, 1, 1)).days


def month_of(dates: pd.Series) -> pd.Series:
    """'YYYY-MM' of ISO date strings ('' when empty)."""
    return dates.fillna("").astype(str).str.slice(0, 7)


def text(frame: pd.DataFrame, column: str) -> pd.Series:
    """A string column stripped, with missing values as ''."""
    return frame[column].fillna("").astype(str).str.strip()


def collapse(occurrences: pd.DataFrame, *, code: str, subject_type: str, severity: str,
             title: str, amount: str = "sum") -> pd.DataFrame:
    """One finding per subject from occurrences given in the order details should read.

    ``amount`` is how occurrence amounts combine: "sum" (total at stake) or "max"
    (largest, e.g. an overdraft). An occurrence may carry its own ``subject_type``.
    A plain loop over sorted rows: pandas' per-group Python aggregation is ~50× slower.
    """
    if occurrences.empty:
        return empty_findings()
    occ = occurrences.assign(subject_type=occurrences.get("subject_type", subject_type))
    occ = occ.sort_values(["subject_id", "subject_type"], kind="stable")
    columns = [occ[c].tolist() for c in OCCURRENCE_COLUMNS]
    merged = [_merge(key, list(group), amount)
              for key, group in groupby(zip(*columns, strict=True), key=lambda r: r[:2])]
    found = pd.DataFrame(merged, columns=OCCURRENCE_COLUMNS)
    found["amount_fen"] = found["amount_fen"].astype("Int64")
    found["code"], found["severity"], found["title"] = code, severity, title
    return found[FINDING_COLUMNS]


def _merge(key: tuple, rows: list[tuple], amount: str) -> tuple:
    """One subject's occurrences (subject_id, subject_type, period, amount, detail, evidence)."""
    periods = [r[2] for r in rows if r[2]]
    amounts = [int(r[3]) for r in rows if not pd.isna(r[3])]
    combined = (max(amounts) if amount == "max" else sum(amounts)) if amounts else pd.NA
    return (*key, min(periods, default=""), combined, "".join(r[4] for r in rows),
            merge_evidence(r[5] for r in rows))

"""Dates, days and evidence of records: the ground the reserve, asset and screen rules share.

Those rules find *occurrences* (one per offending record, day or episode), each telling its
own story in date order and carrying its own evidence text; ``reconciliation.findings``
turns them into one finding per subject (``details="given"``).

Dates are ISO ``YYYY-MM-DD`` strings in frames; day arithmetic goes through day numbers
(days since 1970-01-01) so "days between" is exact calendar subtraction.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

EPOCH = pd.Timestamp("1970-01-01")
EVENT_PREFIX = "event:"


def row_evidence(frame: pd.DataFrame) -> pd.Series:
    """'event:<id> file.csv#row' for each row of a frame that has the evidence columns."""
    event = frame["evidence_event"].fillna("").astype(str).str.strip()
    row = frame["evidence_row"].fillna("").astype(str).str.strip()
    already = event.str.startswith(EVENT_PREFIX)
    event = event.where(already | (event == ""), EVENT_PREFIX + event)
    return (event + " " + row).str.strip()


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


def stripped(frame: pd.DataFrame, column: str) -> pd.Series:
    """A string column stripped, with missing values as ''."""
    return frame[column].fillna("").astype(str).str.strip()

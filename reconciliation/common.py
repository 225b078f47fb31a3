"""What every finding module shares: the output columns and the frames it reads.

A rule module (``reconciliation/rules/``) declares ``RULE`` and implements
``check(frames: Frames, policy: dict, as_of: str) -> pd.DataFrame`` returning rows with
exactly ``FINDING_COLUMNS`` (built by ``reconciliation.findings.findings_of``). Money
inside frames is int fen; the ``amount`` column of a finding is int fen too (or <NA>) and
is formatted on output.
"""

from __future__ import annotations

import pandas as pd

from projections.tables import (  # noqa: F401 - the rules' one import for their inputs
    ADJUSTMENT_COLUMNS,
    Frames,
    frame_of,
    frames_from_rows,
)

FINDING_COLUMNS: list[str] = [
    "code", "subject_type", "subject_id", "period", "amount_fen", "severity",
    "title", "detail", "evidence",
]


def empty_findings() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="object") for c in FINDING_COLUMNS})


def text(column: pd.Series) -> pd.Series:
    """The column as plain strings, missing values as '' (merges leave NaN behind)."""
    return column.astype(object).where(column.notna(), "").astype(str)

"""What every finding module shares: the output columns, the frames it reads, policy.

A rule module exposes ``CODE``, ``TITLE_ZH``, ``TITLE_EN``, ``SEVERITY``, ``DEFAULTS``
(its policy keys) and ``check(frames: Frames, policy: dict, as_of: str) -> pd.DataFrame``
returning rows with exactly ``FINDING_COLUMNS``. Money inside frames is int fen; the
``amount`` column of a finding is int fen too (or <NA>) and is formatted on output.
"""

from __future__ import annotations

import pandas as pd

from projections.tables import (  # noqa: F401 - the rules' one import for their inputs
    ADJUSTMENT_COLUMNS, Frames, frame_of, frames_from_rows,
)

FINDING_COLUMNS: list[str] = [
    "code", "subject_type", "subject_id", "period", "amount_fen", "severity",
    "title", "detail", "evidence",
]


def empty_findings() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="object") for c in FINDING_COLUMNS})


def evidence_of(*parts: pd.Series) -> pd.Series:
    """'event:<id> file.csv#row' for each row, from the evidence columns given."""
    out = None
    for part in parts:
        text = part.fillna("").astype(str)
        out = text if out is None else out.str.cat(text, sep=" ").str.strip()
    assert out is not None
    return out


"""What every finding module shares: the output columns, the frames it reads, policy.

A rule module exposes ``CODE``, ``TITLE_ZH``, ``TITLE_EN``, ``SEVERITY``, ``DEFAULTS``
(its policy keys) and ``check(frames: Frames, policy: dict, as_of: str) -> pd.DataFrame``
returning rows with exactly ``FINDING_COLUMNS``. Money inside frames is int fen; the
``amount`` column of a finding is int fen too (or <NA>) and is formatted on output.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

FINDING_COLUMNS: list[str] = [
    "code", "subject_type", "subject_id", "period", "amount_fen", "severity",
    "title", "detail", "evidence",
]


@dataclass
class Frames:
    """Current state of every record kind (see domain.schema.frame_columns), as known
    at some moment. Each frame has its kind's columns, money as ``<name>_fen`` int64,
    plus ``evidence_event`` (ledger event id), ``evidence_row`` ('file.csv#row') and
    ``recorded_at``."""

    standards: pd.DataFrame
    households: pd.DataFrame
    enrolments: pd.DataFrame
    budgets: pd.DataFrame
    allocations: pd.DataFrame
    payroll: pd.DataFrame
    bank_return: pd.DataFrame
    reserve: pd.DataFrame
    assets: pd.DataFrame
    asset_events: pd.DataFrame
    deaths: pd.DataFrame
    officials: pd.DataFrame
    holdings: pd.DataFrame
    adjustments: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(
        columns=["adjustment_id", "recorded_by", "approver", "amount_fen", "date",
                 "reason", "evidence_event", "evidence_row", "recorded_at"]))


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


ADJUSTMENT_COLUMNS = ["adjustment_id", "recorded_by", "approver", "amount_fen", "date",
                      "reason", "evidence_event", "evidence_row", "recorded_at"]


def frame_of(kind: str, rows: list[dict]) -> pd.DataFrame:
    """A frame of one kind from row dicts with its frame columns (missing keys get
    empty values). Money: pass ``<name>_fen`` ints (or None for optional money)."""
    from domain.schema import columns, frame_columns

    types = {c.name + "_fen" if c.type.startswith("money") else c.name: c.type
             for c in columns(kind)}
    names = frame_columns(kind)
    data: dict[str, list] = {n: [r.get(n) for r in rows] for n in names}
    frame = {}
    for name in names:
        values, type_ = data[name], types.get(name, "str")
        if type_ == "money":
            frame[name] = pd.Series([0 if v is None else int(v) for v in values], dtype="int64")
        elif type_ == "money?":
            frame[name] = pd.Series(values, dtype="Int64")
        elif type_ == "int":
            frame[name] = pd.Series([0 if v is None else int(v) for v in values], dtype="int64")
        elif type_ == "bool":
            frame[name] = pd.Series([bool(v) for v in values], dtype="bool")
        else:
            frame[name] = pd.Series(["" if v is None else str(v) for v in values], dtype="object")
    return pd.DataFrame(frame, columns=names)


def frames_from_rows(**rows_by_kind: list[dict]) -> Frames:
    """Frames for tests and projections: every kind present, empty where not given."""
    from domain.schema import KINDS

    kinds = {kind: frame_of(kind, rows_by_kind.get(kind, [])) for kind in KINDS}
    adjustments = pd.DataFrame(rows_by_kind.get("adjustments", []), columns=ADJUSTMENT_COLUMNS)
    return Frames(**kinds, adjustments=adjustments)

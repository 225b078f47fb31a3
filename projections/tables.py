"""The read side's tabular model: one pandas frame per record kind, as known at a moment.

Built by projections.frames from the ledger, and by tests from plain rows; read by the
balances, the registers and every reconciliation rule.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from domain.schema import KINDS, columns, frame_columns

ADJUSTMENT_COLUMNS = ["adjustment_id", "recorded_by", "approver", "amount_fen", "date",
                      "reason", "evidence_event", "evidence_row", "recorded_at",
                      "recorded_by_id", "approver_id"]
# User ids beside the names, on rows the API's four-eyes flow wrote ('' elsewhere).
SIGNATURE_COLUMNS = ["recorded_by_id", "approver_id"]


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
    adjustments: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=ADJUSTMENT_COLUMNS))


def frame_of(kind: str, rows: list[dict]) -> pd.DataFrame:
    """A frame of one kind from row dicts with its frame columns (missing keys get
    empty values). Money: pass ``<name>_fen`` ints (or None for optional money)."""
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
    kinds = {kind: frame_of(kind, rows_by_kind.get(kind, [])) for kind in KINDS}
    adjustments = pd.DataFrame(rows_by_kind.get("adjustments", []), columns=ADJUSTMENT_COLUMNS)
    return Frames(**kinds, adjustments=adjustments)

"""Frames: the current state of every record kind, as known at a moment.

Built from ``rm_facts``: per (kind, key), the last version recorded at or before
``known_at`` (all versions when None). Money becomes int fen; evidence columns name the
ledger event (``<aggregate id>/<version>``) and the file row behind each record.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pandas as pd

from domain.money import to_fen
from domain.schema import KINDS, columns
from projections.db import Database
from reconciliation.common import ADJUSTMENT_COLUMNS, Frames, frame_of


def _rows(db: Database, kind: str, known_at: str | None) -> list[dict[str, Any]]:
    sql = ("SELECT key, fields, evidence_event, evidence_row, recorded_at FROM rm_facts "
           "WHERE kind=?")
    params: list[Any] = [kind]
    if known_at is not None:
        sql += " AND recorded_at <= ?"
        params.append(known_at)
    sql += " ORDER BY notification_id"
    latest: dict[str, dict[str, Any]] = {}
    money = [c.name for c in columns(kind) if c.type.startswith("money")]
    for key, fields_json, event, row, recorded_at in db.query(sql, params):
        fields = json.loads(fields_json)
        for name in money:
            value = fields.pop(name, None)
            fields[name + "_fen"] = None if value in (None, "") else to_fen(Decimal(value))
        fields.update(evidence_event=event, evidence_row=row, recorded_at=recorded_at)
        latest.pop(key, None)  # keep first-recorded order of keys stable
        latest[key] = fields
    return list(latest.values())


def load_frames(db: Database, known_at: str | None = None) -> Frames:
    """Every kind's frame as the books showed at ``known_at`` (ISO 8601, UTC)."""
    known_at = normalise_moment(known_at)
    if not db.table_exists("rm_facts"):
        return Frames(**{k: frame_of(k, []) for k in KINDS},
                      adjustments=pd.DataFrame(columns=ADJUSTMENT_COLUMNS))
    frames = {kind: frame_of(kind, _rows(db, kind, known_at)) for kind in KINDS}
    return Frames(**frames, adjustments=pd.DataFrame(columns=ADJUSTMENT_COLUMNS))


def normalise_moment(moment: str | None) -> str | None:
    """ISO 8601 in, UTC ISO string out (what ``rm_facts.recorded_at`` holds)."""
    if moment is None:
        return None
    import datetime as dt

    from projections.facts import moment_text

    parsed = dt.datetime.fromisoformat(moment.strip().replace("Z", "+00:00"))
    return moment_text(parsed)  # a naive moment is the machine's local time

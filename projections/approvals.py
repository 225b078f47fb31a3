"""What the API's four-eyes approvals recorded, as the frames D01 (self-approval) reads.

County files carry names only; the adjustments requested through the API and the reserve
movements approved through it carry the user ids of maker and checker too
(``domain.approvals``, ``domain.records.Adjustment``). This read model replays those
aggregates from the ledger into frames: the ``adjustments`` frame, and the reserve
frame with the signatures beside the rows the API's approval wrote. The API only calls
it; nothing here writes.
"""

from __future__ import annotations

from decimal import Decimal

import pandas as pd

from domain.approvals import RESERVE_KIND, reserve_approvals
from domain.ledger import Ledger
from domain.money import to_fen
from domain.records import Adjustment, record_id
from projections.tables import ADJUSTMENT_COLUMNS, SIGNATURE_COLUMNS

NOTIFICATIONS_PAGE = 1000  # notifications read from the log at a time
ADJUSTMENT_REQUESTED = f"{Adjustment.__module__}:{Adjustment.__qualname__}.Requested"


def adjustments_frame(ledger: Ledger) -> pd.DataFrame:
    """Every adjustment requested through the API, as it stands now (approver or '')."""
    rows, start = [], 1
    while True:
        page = ledger.recorder.select_notifications(start, NOTIFICATIONS_PAGE,
                                                    topics=[ADJUSTMENT_REQUESTED])
        if not page:
            break
        rows += [_adjustment_row(ledger.repository.get(n.originator_id)) for n in page]
        start = page[-1].id + 1
    return pd.DataFrame(rows, columns=ADJUSTMENT_COLUMNS)


def _adjustment_row(adjustment: Adjustment) -> dict[str, object]:
    return {"adjustment_id": adjustment.adjustment_id, "recorded_by": adjustment.recorded_by,
            "approver": adjustment.approver,
            "amount_fen": to_fen(Decimal(adjustment.amount)),
            "date": adjustment.business_date, "reason": adjustment.reason,
            "evidence_event": f"{adjustment.id}/{adjustment.version}", "evidence_row": "",
            "recorded_at": "", "recorded_by_id": adjustment.recorded_by_id,
            "approver_id": adjustment.approver_id}


def with_signatures(ledger: Ledger, reserve: pd.DataFrame) -> pd.DataFrame:
    """The reserve frame with the user ids of maker and approver beside their names on
    the rows the API's approval wrote and nobody changed since (their version 1), for
    D01; '' elsewhere (files carry names only)."""
    signed = {f"{record_id(RESERVE_KIND, a.record_id)}/1": (a.requested_by_id, a.decided_by_id)
              for a in reserve_approvals(ledger)
              if a.status == "approved" and a.requested_by_id and a.decided_by_id}
    pairs = [signed.get(event, ("", "")) for event in reserve["evidence_event"]]
    ids = pd.DataFrame(pairs, columns=SIGNATURE_COLUMNS, index=reserve.index, dtype=object)
    return reserve.assign(**{c: ids[c] for c in SIGNATURE_COLUMNS})

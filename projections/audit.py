"""The audits that join the log's chain to the read models' proofs.

``integrity`` proves the log (its chain and published digests), ``proof`` proves the
read-model rows (running checksums, row-by-row comparison), ``facts`` writes those rows.
Checking what people see needs all three, so it lives here, above them:

* ``check_published``: before a figure is published, the chain covers the log and every
  row the figures come from still matches its checksum (``Tampered`` otherwise);
* ``verify``: ``aidledger verify``: the log walk, then the read models recomputed from the
  verified log in a scratch file and compared row by row.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from domain.errors import Tampered
from projections import facts, integrity, proof
from projections.db import Database, StoreConfig
from projections.integrity import VerifyResult
from projections.proof import Outcome, ProvenTable


def check_published(store: Any, tables: Sequence[ProvenTable] | None = None) -> None:
    """Before figures are published: the chain covers the log, and every row the figures
    come from still matches its checksum. Raises ``Tampered`` naming the mismatch."""
    tip = integrity.current_tip(store)  # ChainBroken (a Tampered) when the log outgrew it
    tables = facts.PUBLISHED_FROM if tables is None else tables
    db = store.db
    with db.snapshot():
        tracked = facts.position(db) if db.table_exists("rm_tracking") else 0
        if tracked > tip.notification_id:
            raise Tampered(f"the read models claim notification {tracked} but the chained "
                           f"log ends at {tip.notification_id}")
        for table in tables:
            problem = proof.checksum_problem(table, proof.stored_checksums(db, table.name),
                                             proof.refold(db, table))
            if problem:
                raise Tampered(f"unproven figures, nothing published: {problem}")


def verify_read_models(store: Any, last_id: int) -> Outcome:
    """Replay the log into a scratch file with the projection's code; compare every row
    of the read models tracked up to a notification id at most ``last_id`` (the last
    event the log walk verified)."""
    db = store.db
    if not db.table_exists("rm_tracking"):
        return proof.absent_or_orphans(db, facts.PROVEN_TABLES)
    scratch_dir = Path(tempfile.mkdtemp(prefix="aidledger-verify-"))
    scratch = Database(StoreConfig(url="scratch", backend="sqlite",
                                   sqlite_path=str(scratch_dir / "replay.db")))
    try:
        facts.catch_up(store.ledger, scratch)
        with db.snapshot():
            return proof.compare_replay(db, scratch, facts.PROVEN_TABLES, last_id,
                                        facts.position(db))
    finally:
        scratch.close()
        shutil.rmtree(scratch_dir, ignore_errors=True)


def verify(store: Any, against: str | None = None, *, read_models: bool = True) -> VerifyResult:
    """Re-read the whole log, the chain and (unless ``read_models`` is False) the read
    models; say whether they still agree. Read-only: the read models are recomputed in a
    scratch file."""
    result = integrity.verify_log(store, against)
    if not result.ok or not read_models:
        return result
    outcome = verify_read_models(store, last_id=result.last_id)
    if not outcome.ok:
        return replace(result, ok=False, first_bad=outcome.first_bad, reason=outcome.reason,
                       rows=outcome.rows)
    return replace(result, reason=f"{result.reason}; {outcome.reason}", rows=outcome.rows)

"""The existence check the ledger is given (``projections.event_store.existing_ids``: one
query per chunk of ids) answers what the recorder itself answers one id at a time."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from api.loader import load_directory
from api.wiring import Store
from domain.records import record_id
from projections import event_store
from tests.integration.test_ledger_core import write_county


def test_existing_ids_in_chunks_agree_with_the_recorders_own_reads(
        store: Store, tmp_path: Path, monkeypatch: Any) -> None:
    load_directory(store, write_county(tmp_path / "county"))
    keys = [row[0] for row in store.db.query("SELECT key FROM rm_facts WHERE kind='payroll'")]
    recorded = [record_id("payroll", key) for key in keys]
    absent = [record_id("payroll", "no such line"), uuid.uuid4()]
    asked = [absent[0], *recorded, absent[1]]
    one_by_one = {i for i in asked
                  if store.ledger.recorder.select_events(i, desc=True, limit=1)}
    assert one_by_one == set(recorded) and len(recorded) == 3
    monkeypatch.setattr(event_store, "EXISTS_CHUNK_MAX", 2)
    monkeypatch.setattr(event_store, "EXISTS_CHUNK_MAX_PG", 2)
    assert event_store.existing_ids(store.ledger.recorder, asked) == one_by_one
    assert store.ledger.known_keys("payroll", [*keys, "no such line"]) == set(keys)
    store.ledger.existing_ids = None  # the ledger alone: the recorder's reads, same answer
    assert store.ledger.known_keys("payroll", [*keys, "no such line"]) == set(keys)

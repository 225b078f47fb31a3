"""The chaining recorders keep eventsourcing's recorder contract (the library's own test
cases, run on the SQLite classes; the PostgreSQL COPY recorder runs them in
test_bulk_recorder.py), and chain every append in the append's own transaction: a
failed write leaves neither events nor chain rows, and a store whose chain lost rows
accepts no more writes."""

from __future__ import annotations

import shutil
import tempfile
import threading
import uuid
from pathlib import Path
from typing import Any

import pytest
from eventsourcing.persistence import IntegrityError, StoredEvent
from eventsourcing.sqlite import (
    SQLiteAggregateRecorder,
    SQLiteDatastore,
    SQLiteTrackingRecorder,
)
from eventsourcing.tests.persistence import (
    ApplicationRecorderTestCase,
    InfrastructureFactoryTestCase,
    ProcessRecorderTestCase,
)
from eventsourcing.utils import Environment

from api.wiring import Store
from domain.errors import Tampered
from projections import audit, integrity
from projections.chain import ChainBroken
from projections.sqlite_recorder import (
    ChainedSQLiteApplicationRecorder,
    ChainedSQLiteFactory,
    ChainedSQLiteProcessRecorder,
)
from tests.integration.test_integrity import load_deaths

THREAD_JOIN_SECONDS_MAX = 30


class TemporaryFile:
    """A database file per test, removed afterwards."""

    directory: Path
    datastore: SQLiteDatastore | None = None
    threads_before: set[threading.Thread]

    def setUp(self) -> None:
        self.directory = Path(tempfile.mkdtemp(prefix="chained-"))
        self.threads_before = set(threading.enumerate())
        super().setUp()  # type: ignore[misc]

    def tearDown(self) -> None:
        super().tearDown()  # type: ignore[misc]
        # The library's concurrency cases tell their reader threads to stop but do not
        # join them: closing the connections while a reader is inside sqlite3 crashes
        # the process (a segmentation fault, seen on a loaded machine). Wait for them.
        for thread in set(threading.enumerate()) - self.threads_before:
            if not thread.daemon:
                thread.join(timeout=THREAD_JOIN_SECONDS_MAX)
        if self.datastore is not None:
            self.datastore.close()
        shutil.rmtree(self.directory, ignore_errors=True)

    def new_datastore(self) -> SQLiteDatastore:
        self.datastore = SQLiteDatastore(str(self.directory / "events.db"), lock_timeout=30)
        return self.datastore


class TestChainedSQLiteApplicationRecorder(TemporaryFile, ApplicationRecorderTestCase[Any]):
    def create_recorder(self) -> ChainedSQLiteApplicationRecorder:
        recorder = ChainedSQLiteApplicationRecorder(self.new_datastore())
        recorder.create_table()
        return recorder


class TestChainedSQLiteProcessRecorder(TemporaryFile, ProcessRecorderTestCase):
    def create_recorder(self) -> ChainedSQLiteProcessRecorder:
        recorder = ChainedSQLiteProcessRecorder(self.new_datastore())
        recorder.create_table()
        return recorder


class CustomTrackingRecorder(SQLiteTrackingRecorder):
    pass


class TestChainedSQLiteFactory(InfrastructureFactoryTestCase[ChainedSQLiteFactory]):
    def setUp(self) -> None:
        self.directory = Path(tempfile.mkdtemp(prefix="chained-"))
        self.env = Environment("TestCase")
        self.env.update({
            "PERSISTENCE_MODULE": "projections.sqlite_recorder:ChainedSQLiteFactory",
            "SQLITE_DBNAME": str(self.directory / "events.db"),
        })
        super().setUp()

    def tearDown(self) -> None:
        super().tearDown()
        shutil.rmtree(self.directory, ignore_errors=True)

    def expected_factory_class(self) -> type[ChainedSQLiteFactory]:
        return ChainedSQLiteFactory

    def expected_aggregate_recorder_class(self) -> type:
        return SQLiteAggregateRecorder

    def expected_application_recorder_class(self) -> type:
        return ChainedSQLiteApplicationRecorder

    def expected_tracking_recorder_class(self) -> type:
        return SQLiteTrackingRecorder

    def tracking_recorder_subclass(self) -> type:
        return CustomTrackingRecorder

    def expected_process_recorder_class(self) -> type:
        return ChainedSQLiteProcessRecorder


# -- the chain's own guarantees, on both stores ------------------------------------------
def events_of(originator_id: uuid.UUID, versions: range) -> list[StoredEvent]:
    return [StoredEvent(originator_id=originator_id, originator_version=v, topic="t",
                        state=f'{{"v":{v}}}'.encode()) for v in versions]


def chain_positions(store: Store) -> list[int]:
    return [int(p) for (p,) in store.db.query("SELECT position FROM rm_chain ORDER BY position")]


def test_a_write_is_chained_in_its_own_transaction(store: Store) -> None:
    ids = store.ledger.recorder.insert_events(events_of(uuid.uuid4(), range(1, 4)))
    assert list(ids or []) == [1, 2, 3]
    assert chain_positions(store) == [1, 2, 3]
    assert integrity.digest(store).position == 3


def test_a_large_write_through_copy_is_chained_and_numbered_in_order(store: Store) -> None:
    written = events_of(uuid.uuid4(), range(1, 701))  # above the COPY threshold
    store.ledger.recorder.insert_events(written)
    rows = store.db.query("SELECT position, notification_id, originator_version FROM rm_chain "
                          "ORDER BY position")
    assert [(int(p), int(n), int(v)) for p, n, v in rows] == \
        [(i, i, i) for i in range(1, 701)]
    nodes = store.db.query("SELECT level, idx FROM rm_chain_node ORDER BY level, idx")
    assert [(int(level), int(idx)) for level, idx in nodes] == [(8, 0), (8, 1), (9, 0)]
    assert audit.verify(store, read_models=False).ok


def test_a_conflicting_write_leaves_neither_events_nor_chain_rows(store: Store) -> None:
    taken = uuid.uuid4()
    store.ledger.recorder.insert_events(events_of(taken, range(1, 2)))
    for size in (3, 500):  # the plain path and the COPY path
        with pytest.raises(IntegrityError):
            store.ledger.recorder.insert_events(events_of(uuid.uuid4(), range(1, size))
                                                + events_of(taken, range(1, 2)))
    assert chain_positions(store) == [1]
    store.ledger.recorder.insert_events(events_of(uuid.uuid4(), range(1, 3)))
    assert chain_positions(store) == [1, 2, 3]
    assert audit.verify(store, read_models=False).ok


def test_a_store_whose_chain_lost_its_tail_refuses_further_writes(store: Store) -> None:
    store.ledger.recorder.insert_events(events_of(uuid.uuid4(), range(1, 6)))
    store.db.execute("DELETE FROM rm_chain WHERE position > 3")
    store.db.execute("UPDATE rm_chain_tip SET size=3, notification_id=3")
    with pytest.raises(ChainBroken, match="nothing was written"):
        store.ledger.recorder.insert_events(events_of(uuid.uuid4(), range(1, 2)))
    assert store.ledger.recorder.max_notification_id() == 5
    assert isinstance(ChainBroken("x"), Tampered)
    assert not audit.verify(store, read_models=False).ok


def test_an_event_slipped_in_behind_the_ledger_stops_the_next_write(store: Store) -> None:
    store.ledger.recorder.insert_events(events_of(uuid.uuid4(), range(1, 3)))
    table = store.ledger.recorder.events_table_name
    forged = uuid.uuid4()
    store.db.execute(f"INSERT INTO {table} (originator_id, originator_version, topic, state) "
                     "VALUES (?, 1, 't', ?)",
                     [forged.hex if store.db.backend == "sqlite" else forged, b"{}"])
    with pytest.raises(ChainBroken):
        store.ledger.recorder.insert_events(events_of(uuid.uuid4(), range(1, 2)))
    result = audit.verify(store, read_models=False)
    assert not result.ok and result.first_bad is not None and str(forged) in result.first_bad


def test_a_store_made_before_write_time_chaining_is_chained_once_on_open(
        store_url: str) -> None:
    with Store(store_url) as store:
        load_deaths(store, 2)
        published = integrity.digest(store)
        # what a store of the earlier version looks like: events, no chain, no mark
        for table in ("rm_chain", "rm_chain_tip", "rm_chain_node", "aidledger_meta"):
            store.db.execute(f"DROP TABLE {table}")
    with Store(store_url) as reopened:
        assert reopened.notice is not None and "4 unchained events" in reopened.notice
        assert integrity.digest(reopened) == published
        assert audit.verify(reopened, read_models=False).notes
    with Store(store_url) as again:
        assert again.notice is None


def test_a_chain_emptied_in_a_store_that_chains_at_write_is_not_rebuilt_on_open(
        store_url: str) -> None:
    with Store(store_url) as store:
        load_deaths(store, 2)
        store.db.execute("DELETE FROM rm_chain")
        store.db.execute("DELETE FROM rm_chain_tip")
    with Store(store_url) as reopened:
        assert reopened.notice is None
        with pytest.raises(ChainBroken):
            integrity.digest(reopened)
        result = audit.verify(reopened)
        assert not result.ok and "emptied" in result.reason

"""The COPY recorder keeps eventsourcing's recorder contract, checked by the library's own
test cases (run once with COPY for every write, once with the production threshold),
plus the guarantees the bulk path must not give up: a conflict writes nothing of the
file, and ids come back in the order of the events."""

from __future__ import annotations

import uuid
from typing import Any

import psycopg
import pytest
from eventsourcing.persistence import IntegrityError, StoredEvent
from eventsourcing.postgres import PostgresDatastore, PostgresTrackingRecorder
from eventsourcing.tests.persistence import (
    ApplicationRecorderTestCase,
    InfrastructureFactoryTestCase,
    NonInterleavingNotificationIDsBaseCase,
    ProcessRecorderTestCase,
)
from eventsourcing.utils import Environment

from api.wiring import parse_db_url
from projections.bulk_recorder import (
    BulkPostgresApplicationRecorder,
    BulkPostgresFactory,
    BulkPostgresProcessRecorder,
)
from tests.conftest import PG_URL, require_postgres

pytestmark = pytest.mark.postgres
CONFIG = parse_db_url(PG_URL)


class EveryWriteCopied(BulkPostgresApplicationRecorder):
    copy_events_min = 1


class EveryWriteCopiedProcess(BulkPostgresProcessRecorder):
    copy_events_min = 1


class FreshSchema:
    """A schema per test, dropped afterwards (like tests/conftest.py's ``pg_url``)."""

    schema: str
    datastore: PostgresDatastore | None = None

    def setUp(self) -> None:
        self.make_schema()
        super().setUp()  # type: ignore[misc]

    def make_schema(self) -> None:
        require_postgres()
        self.schema = f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(CONFIG.conninfo, autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{self.schema}"')

    def tearDown(self) -> None:
        super().tearDown()  # type: ignore[misc]
        if self.datastore is not None:
            self.datastore.close()
        with psycopg.connect(CONFIG.conninfo, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE')

    def new_datastore(self) -> PostgresDatastore:
        self.datastore = PostgresDatastore(
            dbname=CONFIG.dbname, host=CONFIG.host, port=CONFIG.port,
            user=CONFIG.user or "postgres", password=CONFIG.password,
            schema=self.schema, pool_size=10, max_overflow=10)
        return self.datastore


class TestCopyRecorderForEveryWrite(FreshSchema, ApplicationRecorderTestCase[Any]):
    def create_recorder(self) -> BulkPostgresApplicationRecorder:
        recorder = EveryWriteCopied(self.new_datastore(), events_table_name="stored_events")
        recorder.create_table()
        return recorder


class TestCopyRecorderWithProductionThreshold(FreshSchema,
                                             ApplicationRecorderTestCase[Any]):
    def create_recorder(self) -> BulkPostgresApplicationRecorder:
        recorder = BulkPostgresApplicationRecorder(self.new_datastore(),
                                                   events_table_name="stored_events")
        recorder.create_table()
        return recorder


class TestCopyProcessRecorder(FreshSchema, ProcessRecorderTestCase):
    def create_recorder(self) -> BulkPostgresProcessRecorder:
        recorder = EveryWriteCopiedProcess(self.new_datastore(),
                                           events_table_name="stored_events",
                                           tracking_table_name="notification_tracking")
        recorder.create_table()
        return recorder


class TestCopyRecorderDoesNotInterleaveIds(FreshSchema,
                                          NonInterleavingNotificationIDsBaseCase):
    def create_recorder(self) -> BulkPostgresApplicationRecorder:
        recorder = BulkPostgresApplicationRecorder(self.new_datastore(),
                                                   events_table_name="stored_events")
        recorder.create_table()
        return recorder


class CustomTrackingRecorder(PostgresTrackingRecorder):
    pass


class TestBulkFactory(FreshSchema, InfrastructureFactoryTestCase[BulkPostgresFactory]):
    def setUp(self) -> None:
        self.make_schema()
        self.env = Environment("TestCase")
        self.env.update({
            "POSTGRES_SCHEMA": self.schema,
            "PERSISTENCE_MODULE": "projections.bulk_recorder:BulkPostgresFactory",
            "POSTGRES_DBNAME": CONFIG.dbname, "POSTGRES_HOST": CONFIG.host,
            "POSTGRES_PORT": CONFIG.port, "POSTGRES_USER": CONFIG.user or "postgres",
            "POSTGRES_PASSWORD": CONFIG.password,
        })
        InfrastructureFactoryTestCase.setUp(self)

    def expected_factory_class(self) -> type[BulkPostgresFactory]:
        return BulkPostgresFactory

    def expected_aggregate_recorder_class(self) -> type:
        from eventsourcing.postgres import PostgresAggregateRecorder

        return PostgresAggregateRecorder

    def expected_application_recorder_class(self) -> type:
        return BulkPostgresApplicationRecorder

    def expected_tracking_recorder_class(self) -> type:
        return PostgresTrackingRecorder

    def tracking_recorder_subclass(self) -> type:
        return CustomTrackingRecorder

    def expected_process_recorder_class(self) -> type:
        return BulkPostgresProcessRecorder


# --- the bulk path's own guarantees ----------------------------------------------------

@pytest.fixture
def recorder(pg_url: str) -> Any:
    config = parse_db_url(pg_url)
    with psycopg.connect(config.conninfo, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{config.schema}"')
    datastore = PostgresDatastore(dbname=config.dbname, host=config.host, port=config.port,
                                  user=config.user or "postgres", password=config.password,
                                  schema=config.schema)
    rec = BulkPostgresApplicationRecorder(datastore, events_table_name="events")
    rec.create_table()
    yield rec
    datastore.close()


def events_of(originator_id: uuid.UUID, versions: range) -> list[StoredEvent]:
    return [StoredEvent(originator_id=originator_id, originator_version=v, topic="t",
                        state=f'{{"v":{v}}}'.encode()) for v in versions]


def test_a_large_write_returns_ids_in_the_order_of_its_events(recorder: Any) -> None:
    a, b = uuid.uuid4(), uuid.uuid4()
    written = events_of(a, range(1, 301)) + events_of(b, range(1, 301))
    ids = recorder.insert_events(written)
    assert ids == list(range(1, 601))
    stored = recorder.select_notifications(1, 1000)
    assert [(n.originator_id, n.originator_version, n.state) for n in stored] \
        == [(e.originator_id, e.originator_version, e.state) for e in written]


def test_one_conflicting_event_in_a_large_write_keeps_nothing_of_it(recorder: Any) -> None:
    taken = uuid.uuid4()
    recorder.insert_events(events_of(taken, range(1, 2)))
    fresh = events_of(uuid.uuid4(), range(1, 1000))
    with pytest.raises(IntegrityError):
        recorder.insert_events(fresh + events_of(taken, range(1, 2)))
    assert recorder.max_notification_id() == 1
    assert recorder.select_events(fresh[0].originator_id) == []


def test_a_write_after_a_rolled_back_copy_gets_the_right_ids(recorder: Any) -> None:
    """A rolled-back COPY burns sequence numbers; the next write must still return the
    ids its own rows got, not a count from the old maximum."""
    taken = uuid.uuid4()
    recorder.insert_events(events_of(taken, range(1, 2)))
    with pytest.raises(IntegrityError):
        recorder.insert_events(events_of(uuid.uuid4(), range(1, 500))
                               + events_of(taken, range(1, 2)))
    ids = recorder.insert_events(events_of(uuid.uuid4(), range(1, 301)))
    stored = {n.id for n in recorder.select_notifications(2, 1000)}
    assert ids == sorted(stored) and len(ids) == 300

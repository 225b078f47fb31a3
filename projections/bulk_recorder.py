"""A PostgreSQL event recorder that appends large writes with binary ``COPY``.

Why: a county's monthly payroll and bank-return files are a million events each. The
stock recorder sends them as one ``INSERT … SELECT FROM unnest(%s::stored_event[])``
with a composite-type array parameter, whose client-side adaptation costs about as much
as everything else together (and in psycopg's pipeline mode a parameter that large can
stall). Binary ``COPY`` straight into the events table is the fastest way PostgreSQL
accepts rows, and it keeps every guarantee the stock recorder gives:

- the same transaction takes the same ``LOCK TABLE … IN EXCLUSIVE MODE`` first (so
  notification ids are issued in commit order, without interleaving) and sends the same
  ``NOTIFY``;
- the ``(originator_id, originator_version)`` primary key still checks every row: one
  conflict aborts the ``COPY`` and the whole transaction (nothing of the write is kept),
  raised as eventsourcing's ``IntegrityError`` like the stock recorder's;
- the notification ids are returned in the order of the given events: under the table
  lock no other writer can insert, so the rows above the maximum id read after taking
  the lock are exactly this write's rows, numbered in ``COPY`` order.

Small writes (one API command: a few events) keep the stock path, whose pipelined
single round trip is faster than COPY's extra statements.

Plugged in with ``PERSISTENCE_MODULE=projections.bulk_recorder:BulkPostgresFactory``
(``api/wiring.py`` does this for every PostgreSQL store).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from eventsourcing.persistence import (
    InterfaceError,
    OperationalError,
    ProgrammingError,
    StoredEvent,
)
from eventsourcing.postgres import (
    PostgresApplicationRecorder,
    PostgresDatastore,
    PostgresFactory,
    PostgresProcessRecorder,
)
from eventsourcing.utils import retry
from psycopg.rows import tuple_row
from psycopg.sql import SQL, Identifier

from projections.db import ANALYZE_AFTER_ROWS

# Writes with at least this many events go through COPY; smaller ones take the stock path.
COPY_EVENTS_MIN = 200
PG_TYPE_OF_ID = {"uuid": "uuid", "text": "text"}


class BulkPostgresApplicationRecorder(PostgresApplicationRecorder):
    """``PostgresApplicationRecorder`` whose large ``insert_events`` use binary COPY."""

    copy_events_min = COPY_EVENTS_MIN

    def __init__(self, datastore: PostgresDatastore, *,
                 events_table_name: str = "stored_events", **kwargs: Any):
        super().__init__(datastore, events_table_name=events_table_name, **kwargs)
        table = SQL("{0}.{1}").format(Identifier(self.datastore.schema),
                                      Identifier(self.events_table_name))
        self.copy_events_statement = SQL(
            "COPY {0} (originator_id, originator_version, topic, state) "
            "FROM STDIN (FORMAT BINARY)").format(table)
        self.select_ids_after_statement = SQL(
            "SELECT notification_id FROM {0} WHERE notification_id > %s "
            "ORDER BY notification_id").format(table)
        self.analyze_statement = SQL("ANALYZE {0}").format(table)
        self.select_rows_statement = SQL(
            "SELECT notification_id, originator_id::text, originator_version, topic, state "
            "FROM {0} WHERE notification_id >= %s ORDER BY notification_id LIMIT %s"
        ).format(table)
        self.copy_types = [PG_TYPE_OF_ID.get(self.datastore.originator_id_type, "uuid"),
                           "int8", "text", "bytea"]

    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        if len(stored_events) < self.copy_events_min or self.datastore.enable_db_functions:
            return super().insert_events(stored_events, **kwargs)
        return self._copy_events(stored_events, **kwargs)

    def insert_event_stream(self, stored_events: Iterable[StoredEvent]) -> int:
        """Append events as they are produced, all in ONE transaction (one COPY under
        the table lock), returning how many: a million-line file is never held as a
        list of events. Not retried: a stream cannot be replayed, and a failed attempt
        leaves nothing behind (the whole transaction rolls back)."""
        written = len(self._copy_events_once(stored_events))  # ~40 MB of ints at 1M: fine
        self._analyze_after(written)
        return written

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def _copy_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> list[int]:
        ids = self._copy_events_once(stored_events, **kwargs)
        self._analyze_after(len(ids))
        return ids

    def _analyze_after(self, written: int) -> None:
        if written >= ANALYZE_AFTER_ROWS:
            with self.datastore.transaction(commit=True) as curs:
                curs.execute(self.analyze_statement)

    def _copy_events_once(self, stored_events: Iterable[StoredEvent],
                          **kwargs: Any) -> list[int]:
        """One transaction: (tracking), lock, notify, COPY, read back the new ids."""
        with self.datastore.get_connection() as conn, conn.transaction(), \
                conn.cursor() as curs:
            self._insert_events(curs, stored_events, **kwargs)  # the process recorder's tracking
            self._lock_table(curs)
            self._notify_channel(curs)
            curs.execute(self.max_notification_id_statement)
            row = curs.fetchone()
            before = (row["max"] if row else None) or 0
            written = 0
            with curs.copy(self.copy_events_statement) as copy:
                copy.set_types(self.copy_types)
                write_row = copy.write_row
                for e in stored_events:
                    write_row((e.originator_id, e.originator_version, e.topic, e.state))
                    written += 1
            curs.execute(self.select_ids_after_statement, (before,))
            ids = [r["notification_id"] for r in curs.fetchall()]
            if len(ids) != written:
                msg = (f"COPY wrote {len(ids)} notification ids, expected "
                       f"{written}: another writer ignored the table lock")
                raise ProgrammingError(msg)
        return ids


    def select_notification_rows(self, start: int, limit: int) -> list[tuple[Any, ...]]:
        """``select_notifications(start, limit)`` as plain tuples (notification id,
        originator id as text, version, topic, state), read in binary: for readers of
        the whole log (the projection), which need neither ``Notification`` objects nor
        bytea's hex text decoded per event."""
        with self.datastore.get_connection() as conn, \
                conn.cursor(row_factory=tuple_row, binary=True) as curs:
            curs.execute(self.select_rows_statement, (start, limit), prepare=True)
            return curs.fetchall()


class BulkPostgresProcessRecorder(BulkPostgresApplicationRecorder, PostgresProcessRecorder):
    """The process recorder (events + tracking in one transaction) with the COPY path."""


class BulkPostgresFactory(PostgresFactory):
    """eventsourcing's PostgreSQL factory, handing out the COPY recorders."""

    application_recorder_class = BulkPostgresApplicationRecorder
    process_recorder_class = BulkPostgresProcessRecorder

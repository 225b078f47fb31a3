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

Small writes (one API command: a few events) are sent as plain INSERTs in the same kind of
transaction. Every write, large or small, also extends the hash chain and the Merkle
frontier (``projections.chain``) before it commits: the chain tip is read under the
table lock, the events are hashed as they stream into the COPY, and their chain rows are
copied in once their notification ids are read back. eventsourcing's database-function
path (``enable_db_functions``) is never taken: it would append without chaining.

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

from projections import chain
from projections.db import ANALYZE_AFTER_ROWS

# Writes with at least this many events go through COPY; smaller ones take the stock path.
COPY_EVENTS_MIN = 200
PG_TYPE_OF_ID = {"uuid": "uuid", "text": "text"}


class BulkPostgresApplicationRecorder(PostgresApplicationRecorder):
    """``PostgresApplicationRecorder`` whose large ``insert_events`` use binary COPY, and
    whose every append extends the chain (``projections.chain``) in its transaction."""

    copy_events_min = COPY_EVENTS_MIN

    def __init__(self, datastore: PostgresDatastore, *,
                 events_table_name: str = "stored_events", **kwargs: Any):
        super().__init__(datastore, events_table_name=events_table_name, **kwargs)
        schema = Identifier(self.datastore.schema)
        table = SQL("{0}.{1}").format(schema, Identifier(self.events_table_name))
        self.copy_events_statement = SQL(
            "COPY {0} (originator_id, originator_version, topic, state) "
            "FROM STDIN (FORMAT BINARY)").format(table)
        self.insert_plain_statement = SQL(
            "INSERT INTO {0} (originator_id, originator_version, topic, state) "
            "VALUES (%s, %s, %s, %s)").format(table)
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
        prefix = f'"{self.datastore.schema}".'
        self.sql_create_statements.extend(SQL(s).format()
                                          for s in chain.schema_statements(prefix, "postgres"))
        self.chain_sql = _ChainSql(schema)

    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        """Every write takes this path (never eventsourcing's database function): the
        chain is extended in the same transaction as the events."""
        return self._copy_events(stored_events, **kwargs)

    def insert_event_stream(self, stored_events: Iterable[StoredEvent]) -> list[int]:
        """Append events as they are produced, all in ONE transaction (one COPY under
        the table lock), returning their notification ids in order: a million-line file
        is never held as a list of events. Not retried: a stream cannot be replayed, and
        a failed attempt leaves nothing behind (the whole transaction rolls back)."""
        ids = self._copy_events_once(stored_events, copy=True)
        self._analyze_after(len(ids))
        return ids

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def _copy_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> list[int]:
        copy = len(stored_events) >= self.copy_events_min
        ids = self._copy_events_once(stored_events, copy=copy, **kwargs)
        self._analyze_after(len(ids))
        return ids

    def _analyze_after(self, written: int) -> None:
        if written >= ANALYZE_AFTER_ROWS:
            with self.datastore.transaction(commit=True) as curs:
                curs.execute(self.analyze_statement)
                for table in chain.CHAIN_TABLES:
                    curs.execute(self.chain_sql.analyze(table))

    def _copy_events_once(self, stored_events: Iterable[StoredEvent], *, copy: bool,
                          **kwargs: Any) -> list[int]:
        """One transaction: (tracking), lock, notify, read the chain tip, append the
        events (COPY, or INSERT for a few) while hashing them, read back their ids,
        write their chain rows and the new tip."""
        with self.datastore.get_connection() as conn, conn.transaction(), \
                conn.cursor() as curs:
            # the process recorder's tracking only: the events themselves go by COPY below
            self._insert_events(curs, (), **kwargs)
            self._lock_table(curs)
            self._notify_channel(curs)
            curs.execute(self.max_notification_id_statement)
            row = curs.fetchone()
            before = (row["max"] if row else None) or 0
            tip = self.chain_sql.read_tip(curs)
            chain.check_reaches(tip, before)
            extension = chain.Extension(tip)
            written = (self._copy_rows(curs, stored_events, extension) if copy
                       else self._insert_rows(curs, stored_events, extension))
            curs.execute(self.select_ids_after_statement, (before,))
            ids = [r["notification_id"] for r in curs.fetchall()]
            if len(ids) != written:
                msg = (f"COPY wrote {len(ids)} notification ids, expected "
                       f"{written}: another writer ignored the table lock")
                raise ProgrammingError(msg)
            if ids:
                self.chain_sql.write(curs, extension, ids)
        return ids

    def _copy_rows(self, curs: Any, stored_events: Iterable[StoredEvent],
                   extension: chain.Extension) -> int:
        written = 0
        add = extension.add
        with curs.copy(self.copy_events_statement) as copy:
            copy.set_types(self.copy_types)
            write_row = copy.write_row
            for e in stored_events:
                write_row((e.originator_id, e.originator_version, e.topic, e.state))
                add(e.originator_id, e.originator_version, e.topic, e.state)
                written += 1
        return written

    def _insert_rows(self, curs: Any, stored_events: Iterable[StoredEvent],
                     extension: chain.Extension) -> int:
        rows = []
        for e in stored_events:
            rows.append((e.originator_id, e.originator_version, e.topic, e.state))
            extension.add(e.originator_id, e.originator_version, e.topic, e.state)
        if rows:
            curs.executemany(self.insert_plain_statement, rows)
        return len(rows)

    def select_notification_rows(self, start: int, limit: int) -> list[tuple[Any, ...]]:
        """``select_notifications(start, limit)`` as plain tuples (notification id,
        originator id as text, version, topic, state), read in binary: for readers of
        the whole log (the projection), which need neither ``Notification`` objects nor
        bytea's hex text decoded per event."""
        with self.datastore.get_connection() as conn, \
                conn.cursor(row_factory=tuple_row, binary=True) as curs:
            curs.execute(self.select_rows_statement, (start, limit), prepare=True)
            return curs.fetchall()


class _ChainSql:
    """The chain's statements in the recorder's schema (its connection has no search path)."""

    def __init__(self, schema: Identifier):
        self.schema = schema
        self.select_tip = SQL("SELECT size, notification_id, head, frontier FROM {0}.rm_chain_tip "
                              "WHERE name = %s").format(schema)
        self.copy_chain = SQL("COPY {0}.rm_chain ({1}) FROM STDIN").format(
            schema, SQL(", ").join(Identifier(c) for c in chain.CHAIN_COLUMNS))
        self.insert_node = SQL("INSERT INTO {0}.rm_chain_node (level, idx, hash) "
                               "VALUES (%s, %s, %s)").format(schema)
        self.delete_tip = SQL("DELETE FROM {0}.rm_chain_tip WHERE name = %s").format(schema)
        self.insert_tip = SQL("INSERT INTO {0}.rm_chain_tip (name, size, notification_id, "
                              "head, frontier) VALUES (%s, %s, %s, %s, %s)").format(schema)

    def analyze(self, table: str) -> Any:
        return SQL("ANALYZE {0}.{1}").format(self.schema, Identifier(table))

    def read_tip(self, curs: Any) -> chain.Tip:
        curs.execute(self.select_tip, (chain.TIP_NAME,))
        row = curs.fetchone()
        if row is None:
            return chain.Tip()
        return chain.Tip.of_row((row["size"], row["notification_id"], row["head"],
                                 row["frontier"]))

    def write(self, curs: Any, extension: chain.Extension, ids: Sequence[int]) -> None:
        with curs.copy(self.copy_chain) as copy:
            copy.write(extension.copy_text(ids))
        if extension.nodes:
            curs.executemany(self.insert_node, extension.nodes)
        curs.execute(self.delete_tip, (chain.TIP_NAME,))
        curs.execute(self.insert_tip, (chain.TIP_NAME, *extension.tip.row()))


class BulkPostgresProcessRecorder(BulkPostgresApplicationRecorder, PostgresProcessRecorder):
    """The process recorder (events + tracking in one transaction) with the COPY path."""


class BulkPostgresFactory(PostgresFactory):
    """eventsourcing's PostgreSQL factory, handing out the COPY recorders."""

    application_recorder_class = BulkPostgresApplicationRecorder
    process_recorder_class = BulkPostgresProcessRecorder

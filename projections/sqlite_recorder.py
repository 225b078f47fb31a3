"""eventsourcing's SQLite recorders, extending the chain in their insert transaction.

The stock ``SQLiteApplicationRecorder`` inserts a write's events one statement each inside
one transaction; its first INSERT takes SQLite's write lock, so by the time this recorder
reads the chain tip no other writer can append until the transaction ends. The chain rows
and the new tip (``projections.chain``) are written in that same transaction: an event and
its chain row commit together or not at all.

Plugged in with ``PERSISTENCE_MODULE=projections.sqlite_recorder:ChainedSQLiteFactory``
(``api/wiring.py`` does this for every SQLite store). eventsourcing's own recorder test
cases run against these classes (``tests/integration/test_chained_recorders.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import StoredEvent
from eventsourcing.sqlite import (
    SQLiteApplicationRecorder,
    SQLiteCursor,
    SQLiteFactory,
    SQLiteProcessRecorder,
)

from projections import chain

INSERT_CHAIN = (f"INSERT INTO rm_chain ({', '.join(chain.CHAIN_COLUMNS)}) "
                f"VALUES ({', '.join('?' * len(chain.CHAIN_COLUMNS))})")
INSERT_NODE = "INSERT INTO rm_chain_node (level, idx, hash) VALUES (?, ?, ?)"
SELECT_TIP = "SELECT size, notification_id, head, frontier FROM rm_chain_tip WHERE name=?"
REPLACE_TIP = ("INSERT OR REPLACE INTO rm_chain_tip (name, size, notification_id, head, "
               "frontier) VALUES (?, ?, ?, ?, ?)")


class ChainedSQLiteApplicationRecorder(SQLiteApplicationRecorder):
    """Every ``insert_events`` also extends ``rm_chain``, the Merkle frontier and the
    stored subtree roots, in its own transaction."""

    def construct_create_table_statements(self) -> list[str]:
        return [*super().construct_create_table_statements(), *chain.schema_statements()]

    def _insert_events(self, c: SQLiteCursor, stored_events: Sequence[StoredEvent],
                       **kwargs: Any) -> Sequence[int] | None:
        ids = super()._insert_events(c, stored_events, **kwargs)
        if stored_events and ids:
            extend_chain(c, stored_events, [int(i) for i in ids])
        return ids


def extend_chain(c: SQLiteCursor, stored_events: Sequence[StoredEvent],
                 ids: list[int]) -> None:
    """Chain the events just inserted (rowids ``ids``), under the write lock."""
    c.execute(SELECT_TIP, (chain.TIP_NAME,))
    row = c.fetchone()
    tip = chain.Tip.of_row(tuple(row) if row is not None else None)
    # The first new rowid follows the largest before it (SQLite's rowid rule): the chain
    # must end exactly there, or events were added or chain rows removed meanwhile.
    chain.check_reaches(tip, ids[0] - 1)
    extension = chain.Extension(tip)
    for e in stored_events:
        extension.add(e.originator_id, e.originator_version, e.topic, e.state)
    c.executemany(INSERT_CHAIN, extension.rows(ids))
    if extension.nodes:
        c.executemany(INSERT_NODE, extension.nodes)
    c.execute(REPLACE_TIP, (chain.TIP_NAME, *tip.row()))


class ChainedSQLiteProcessRecorder(ChainedSQLiteApplicationRecorder, SQLiteProcessRecorder):
    """The process recorder (events + tracking in one transaction), chained likewise."""


class ChainedSQLiteFactory(SQLiteFactory):
    """eventsourcing's SQLite factory, handing out the chaining recorders."""

    application_recorder_class = ChainedSQLiteApplicationRecorder
    process_recorder_class = ChainedSQLiteProcessRecorder

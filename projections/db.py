"""A thin connection to the read-model tables, on SQLite or PostgreSQL.

Read models live beside the event store (same SQLite file, same PostgreSQL schema) so
that a projection's rows and its tracking position commit in one transaction.
SQL is written with ``?`` placeholders and translated for psycopg.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

# After a write or a catch-up of this many rows the tables' planner statistics are
# refreshed at once: without them PostgreSQL guesses ~100,000 rows per aggregate id or
# household and reads one with a parallel scan (60-130 ms instead of 0.1 ms) until
# autovacuum gets round to it.
ANALYZE_AFTER_ROWS = 100_000

@dataclass(frozen=True)
class StoreConfig:
    """Where the ledger lives: parsed from a ``--db`` URL."""

    url: str
    backend: str  # 'sqlite' | 'postgres'
    sqlite_path: str = ""
    host: str = ""
    port: str = ""
    user: str = ""
    password: str = ""
    dbname: str = ""
    schema: str = ""

    @property
    def conninfo(self) -> str:
        parts = {"host": self.host, "port": self.port, "user": self.user,
                 "password": self.password, "dbname": self.dbname}
        return " ".join(f"{k}={v}" for k, v in parts.items() if v)


class Database:
    """One connection for read models; ``transaction()`` commits or rolls back whole."""

    def __init__(self, config: StoreConfig):
        self.config = config
        self.backend = config.backend
        if self.backend == "sqlite":
            self._conn: Any = sqlite3.connect(config.sqlite_path, timeout=60,
                                              isolation_level=None, check_same_thread=False)
            self._conn.execute("PRAGMA journal_mode=WAL")
        else:
            import psycopg

            self._conn = psycopg.connect(config.conninfo, autocommit=True)
            if config.schema:
                self._conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{config.schema}"')
                self._conn.execute(f'SET search_path TO "{config.schema}"')
        self._depth = 0
        self._companion: Database | None = None

    def companion(self) -> Database:
        """A second connection to the same store, opened once, for work done in another
        thread while this one is in use (the projection writes a page while it reads
        the next); closed with this one."""
        if self._companion is None:
            self._companion = Database(self.config)
        return self._companion

    def close(self) -> None:
        if self._companion is not None:
            self._companion.close()
        self._conn.close()

    def _sql(self, sql: str) -> str:
        return sql if self.backend == "sqlite" else sql.replace("?", "%s")

    @contextmanager
    def transaction(self) -> Iterator[Database]:
        if self._depth:
            self._depth += 1
            try:
                yield self
            finally:
                self._depth -= 1
            return
        # IMMEDIATE takes SQLite's write lock up front, so what a transaction reads
        # (a tracking position) cannot change under it before it writes.
        self._conn.execute("BEGIN IMMEDIATE" if self.backend == "sqlite" else "BEGIN")
        self._depth = 1
        try:
            yield self
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        else:
            self._conn.execute("COMMIT")
        finally:
            self._depth = 0

    @contextmanager
    def snapshot(self) -> Iterator[Database]:
        """A read-only transaction whose reads all see one moment (SQLite: a deferred
        transaction in WAL mode; PostgreSQL: REPEATABLE READ). Rolled back at the end."""
        assert not self._depth, "snapshot() cannot nest in a transaction"
        self._conn.execute("BEGIN" if self.backend == "sqlite"
                           else "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        self._depth = 1
        try:
            yield self
        finally:
            self._depth = 0
            self._conn.execute("ROLLBACK")

    @contextmanager
    def session_lock(self, name: str) -> Iterator[None]:
        """Hold a lock across statements run by other connections (PostgreSQL advisory
        session lock; SQLite needs none: its file lock serialises schema creation)."""
        if self.backend != "postgres":
            yield
            return
        self.query("SELECT pg_advisory_lock(hashtext(?))", [name])
        try:
            yield
        finally:
            self.query("SELECT pg_advisory_unlock(hashtext(?))", [name])

    def lock(self, name: str) -> None:
        """Serialise writers of one read model until the transaction ends (PostgreSQL:
        an advisory lock; SQLite: the transaction already holds the write lock)."""
        assert self._depth, "lock() only inside transaction()"
        if self.backend == "postgres":
            self.query("SELECT pg_advisory_xact_lock(hashtext(?))", [name])

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        self._conn.execute(self._sql(sql), tuple(params))

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        if not rows:
            return
        if self.backend == "sqlite":
            self._conn.executemany(sql, rows)
        else:
            with self._conn.cursor() as cur:
                cur.executemany(self._sql(sql), rows)

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        if self.backend == "sqlite":
            return self._conn.execute(sql, tuple(params)).fetchall()
        with self._conn.cursor() as cur:
            cur.execute(self._sql(sql), tuple(params))
            return cur.fetchall()

    def copy_out(self, sql: str, params: Sequence[Any] = ()) -> bytes:
        """PostgreSQL only: ``COPY (sql) TO STDOUT (FORMAT csv)`` as one bytes object, no
        Python object per value (``projections.frames`` reads it with Arrow)."""
        assert self.backend == "postgres", "copy_out is PostgreSQL's COPY"
        chunks: list[bytes] = []
        with self._conn.cursor() as cur, \
                cur.copy(f"COPY ({self._sql(sql)}) TO STDOUT (FORMAT csv)", tuple(params)) as copy:
            chunks.extend(bytes(chunk) for chunk in copy)
        return b"".join(chunks)

    def table_exists(self, name: str) -> bool:
        if self.backend == "sqlite":
            rows = self.query("SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", [name])
        else:
            rows = self.query("SELECT 1 FROM information_schema.tables WHERE table_name=? "
                              "AND table_schema=current_schema()", [name])
        return bool(rows)

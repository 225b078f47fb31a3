"""The one place that turns a ``--db`` URL into a ledger and its read-model database."""

from __future__ import annotations

import os
import sqlite3
from contextlib import closing
from functools import partial
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse

from domain.errors import DomainError
from domain.ledger import Ledger
from projections.db import Database, StoreConfig
from projections.event_store import existing_ids

DEFAULT_DB_URL = "sqlite:///aidledger.db"
POOL_SIZE = 5
# eventsourcing's PostgreSQL factory with a recorder that appends large writes by COPY.
POSTGRES_FACTORY_TOPIC = "projections.bulk_recorder:BulkPostgresFactory"
# eventsourcing's SQLite factory with recorders that chain every append (projections.chain).
SQLITE_FACTORY_TOPIC = "projections.sqlite_recorder:ChainedSQLiteFactory"
CIPHER_KEY_VARIABLE = "AIDLEDGER_CIPHER_KEY"
OPEN_LOCK = "aidledger.store.open"
CIPHER_TOPIC = "eventsourcing.cipher:AESCipher"
# Where eventsourcing keeps the events: its SQLite recorder's fixed table, and on
# PostgreSQL a table named after the application (Ledger.name + "_events").
SQLITE_EVENTS_TABLE = "stored_events"


def db_url(cli_value: str | None) -> str:
    return cli_value or os.environ.get("AIDLEDGER_DB") or DEFAULT_DB_URL


def parse_db_url(url: str) -> StoreConfig:
    """``sqlite:///path.db`` or ``postgresql://user:pw@host:port/db[?schema=name]``."""
    if url.startswith("sqlite:///"):
        path = url[len("sqlite:///"):]
        if not path:
            raise DomainError(f"--db {url}: no file path after sqlite:///")
        return StoreConfig(url=url, backend="sqlite", sqlite_path=path)
    parsed = urlparse(url)
    if parsed.scheme in ("postgresql", "postgres", "postgresql+psycopg"):
        dbname = parsed.path.lstrip("/")
        if not dbname:
            raise DomainError(f"--db {url}: no database name")
        schema = parse_qs(parsed.query).get("schema", [""])[0]
        return StoreConfig(url=url, backend="postgres", host=parsed.hostname or "localhost",
                           port=str(parsed.port or 5432), user=unquote(parsed.username or ""),
                           password=unquote(parsed.password or ""), dbname=dbname,
                           schema=schema)
    raise DomainError(f"--db {url}: expected sqlite:///FILE or postgresql://USER@HOST:PORT/DB")


def ledger_env(config: StoreConfig) -> dict[str, str]:
    return {**_persistence_env(config), **cipher_env()}


def cipher_env() -> dict[str, str]:
    """Encrypt stored events (AES-GCM) when AIDLEDGER_CIPHER_KEY holds a base64 key of 16,
    24 or 32 bytes: ID numbers and accounts are then unreadable in the database and its
    backups. Needs the pycryptodome package. See docs/security.md (key rotation)."""
    key = os.environ.get(CIPHER_KEY_VARIABLE, "").strip()
    return {"CIPHER_TOPIC": CIPHER_TOPIC, "CIPHER_KEY": key} if key else {}


def _persistence_env(config: StoreConfig) -> dict[str, str]:
    if config.backend == "sqlite":
        Path(config.sqlite_path).parent.mkdir(parents=True, exist_ok=True)
        return {"PERSISTENCE_MODULE": SQLITE_FACTORY_TOPIC,
                "SQLITE_DBNAME": config.sqlite_path, "SQLITE_LOCK_TIMEOUT": "60"}
    env = {"PERSISTENCE_MODULE": POSTGRES_FACTORY_TOPIC, "POSTGRES_DBNAME": config.dbname,
           "POSTGRES_HOST": config.host, "POSTGRES_PORT": config.port,
           "POSTGRES_USER": config.user or "postgres",
           "POSTGRES_PASSWORD": config.password, "POSTGRES_POOL_SIZE": str(POOL_SIZE),
           "POSTGRES_CONNECT_TIMEOUT": "10", "POSTGRES_LOCK_TIMEOUT": "30",
           "POSTGRES_IDLE_IN_TRANSACTION_SESSION_TIMEOUT": "0"}
    if config.schema:
        env["POSTGRES_SCHEMA"] = config.schema
    return env


def events_table(config: StoreConfig) -> str:
    """The table of the stored events, for the backend of ``config``."""
    if config.backend == "sqlite":
        return SQLITE_EVENTS_TABLE
    return f"{Ledger.name.lower()}_events"


def ledger_exists(config: StoreConfig) -> bool:
    """Whether a ledger is stored where ``config`` points, found without creating the file,
    its folder, the PostgreSQL schema or any table."""
    table = events_table(config)
    if config.backend == "sqlite":
        if not Path(config.sqlite_path).is_file():
            return False
        with closing(sqlite3.connect(config.sqlite_path)) as conn:
            return conn.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name=?",
                                [table]).fetchone() is not None
    import psycopg

    qualified = f'"{config.schema}".{table}' if config.schema else table
    with psycopg.connect(config.conninfo, connect_timeout=10) as conn:
        row = conn.execute("SELECT to_regclass(%s)", [qualified]).fetchone()
    return row is not None and row[0] is not None


def require_ledger(config: StoreConfig) -> None:
    """Refuse to read a store that does not exist: a mistyped --db must not be answered
    with an empty county's clean results."""
    if not ledger_exists(config):
        where = config.sqlite_path if config.backend == "sqlite" else safe_url(config.url)
        raise DomainError(f"no ledger at {where} (load files first)")


def safe_url(url: str) -> str:
    """The URL without its password, for messages."""
    import re

    return re.sub(r"//([^:/@]+):[^@]*@", r"//\1:***@", url)


class Store:
    """A ledger and its read-model database, opened together and closed together.

    ``create=False`` opens only an existing ledger (every command but load, import and
    user add): DomainError "no ledger at ..." otherwise, and nothing is created."""

    def __init__(self, url: str, create: bool = True):
        self.config = parse_db_url(url)
        if not create:
            require_ledger(self.config)
        if self.config.backend == "sqlite":
            Path(self.config.sqlite_path).parent.mkdir(parents=True, exist_ok=True)
        self.db = Database(self.config)  # creates the schema on PostgreSQL first
        with self.db.session_lock(OPEN_LOCK):  # two first opens would race on CREATE TABLE
            self.ledger = Ledger(env=ledger_env(self.config))
        self.ledger.existing_ids = partial(existing_ids, self.ledger.recorder)
        self._check_readable()
        self.notice = self._ensure_chained()

    def _ensure_chained(self) -> str | None:
        """Chain the events of a store made before write-time chaining, once (what was
        done, to say, or None). See ``projections.integrity.ensure_chained``."""
        from projections.integrity import ensure_chained

        try:
            return ensure_chained(self)
        except Exception:
            self.close()
            raise

    def _check_readable(self) -> None:
        """Decode the first event: a wrong or missing cipher key fails here, clearly."""
        first = self.ledger.recorder.select_notifications(1, 1)
        if not first:
            return
        try:
            self.ledger.mapper.to_domain_event(first[0])
        except Exception as error:  # noqa: BLE001 - any decode failure means the same thing
            self.close()
            raise DomainError(
                f"cannot read the stored events ({type(error).__name__}): the store is "
                f"encrypted with another key, or {CIPHER_KEY_VARIABLE} is missing or "
                f"wrong") from error

    def close(self) -> None:
        self.ledger.close()
        self.db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

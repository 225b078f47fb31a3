"""Shared fixtures: a fresh store on SQLite and on PostgreSQL for each test that asks.

PostgreSQL tests use the server on 127.0.0.1:5432 (user postgres, database test; override
with AIDLEDGER_TEST_PG). Each test gets its own schema, dropped afterwards. On a machine
without a server they skip; under CI (CI=true) a missing server is a failure.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

PG_URL = os.environ.get("AIDLEDGER_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")


def _pg_available() -> str | None:
    try:
        import psycopg

        from api.wiring import parse_db_url

        with psycopg.connect(parse_db_url(PG_URL).conninfo, connect_timeout=3):
            return None
    except Exception as error:  # noqa: BLE001 - any failure means "no server here"
        return str(error)


_PG_PROBLEM = _pg_available()


def require_postgres() -> None:
    if _PG_PROBLEM is None:
        return
    if os.environ.get("CI"):
        pytest.fail(f"PostgreSQL is required in CI but unreachable: {_PG_PROBLEM}")
    pytest.skip(f"no PostgreSQL server: {_PG_PROBLEM}")


def _drop_schema(schema: str) -> None:
    import psycopg

    from api.wiring import parse_db_url

    with psycopg.connect(parse_db_url(PG_URL).conninfo, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of an empty store, once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'ledger.db'}"
        return
    require_postgres()
    schema = f"t_{uuid.uuid4().hex[:12]}"
    yield f"{PG_URL}?schema={schema}"
    _drop_schema(schema)


@pytest.fixture
def pg_url() -> Iterator[str]:
    require_postgres()
    schema = f"t_{uuid.uuid4().hex[:12]}"
    yield f"{PG_URL}?schema={schema}"
    _drop_schema(schema)


@pytest.fixture
def store(store_url: str):
    from api.wiring import Store

    s = Store(store_url)
    yield s
    s.close()

"""pytest-benchmark suites for the hot paths (not part of the default ``pytest`` run:
``testpaths`` is ``tests``). Run with::

    /work/venv/bin/python -m pytest benchmarks/ --benchmark-only -p no:cacheprovider

Each suite times the product path beside the baseline it is judged against. PostgreSQL
suites use the server of ``AIDLEDGER_TEST_PG`` (default postgres@127.0.0.1:5432/test)
in a fresh schema and skip without one. Sizes are small (BENCH_HOUSEHOLDS) so the whole
file runs in a minute or two; ``python -m benchmarks.scale`` is the full-size run.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from api import files
from api.sample_county import write_bulk_month
from api.wiring import Store, parse_db_url
from projections import facts

BENCH_HOUSEHOLDS = int(os.environ.get("BENCH_HOUSEHOLDS", "10000"))
PG_URL = os.environ.get("AIDLEDGER_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
ROUNDS = 3


def _pg_problem() -> str | None:
    try:
        import psycopg

        with psycopg.connect(parse_db_url(PG_URL).conninfo, connect_timeout=3):
            return None
    except Exception as error:  # noqa: BLE001 - any failure means "no server here"
        return str(error)


@pytest.fixture(scope="module")
def month(tmp_path_factory: pytest.TempPathFactory) -> dict[str, files.ParsedFile]:
    folder = tmp_path_factory.mktemp("month")
    write_bulk_month(folder, households=BENCH_HOUSEHOLDS, period="2025-03")
    return {pf.kind: pf for pf in (files.parse_file(p) for p in files.discover(folder))}


class Stores:
    """Fresh stores for one benchmark, dropped afterwards."""

    def __init__(self, backend: str, tmp: Path):
        self.backend, self.tmp, self.opened, self.schemas = backend, tmp, [], []

    def new(self) -> Store:
        if self.backend == "sqlite":
            url = f"sqlite:///{self.tmp / uuid.uuid4().hex}.db"
        else:
            schema = f"bench_{uuid.uuid4().hex[:10]}"
            self.schemas.append(schema)
            url = f"{PG_URL}?schema={schema}"
        store = Store(url)
        self.opened.append(store)
        return store

    def close(self) -> None:
        for store in self.opened:
            store.close()
        if self.schemas:
            import psycopg

            with psycopg.connect(parse_db_url(PG_URL).conninfo, autocommit=True) as conn:
                for schema in self.schemas:
                    conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture(params=["sqlite", "postgres"])
def stores(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Stores]:
    if request.param == "postgres" and (problem := _pg_problem()):
        pytest.skip(f"no PostgreSQL server: {problem}")
    made = Stores(request.param, tmp_path)
    yield made
    made.close()


def record(store: Store, pf: files.ParsedFile) -> Any:
    return store.ledger.record_file(kind=pf.kind, name=pf.name, sha256=pf.sha256,
                                    rows=pf.rows, row_numbers=pf.row_numbers, actor="bench")


def with_households(stores: Stores, month: dict[str, files.ParsedFile]) -> Store:
    store = stores.new()
    record(store, month["households"])
    return store


# --- append --------------------------------------------------------------------------------

def test_record_file_of_a_payroll_file(benchmark: Any, stores: Stores,
                                       month: dict[str, files.ParsedFile]) -> None:
    """End to end from parsed rows: existence check, events, encoding, one append."""
    outcome = benchmark.pedantic(
        record, setup=lambda: ((with_households(stores, month), month["payroll"]), {}),
        rounds=ROUNDS)
    benchmark.extra_info["events"] = outcome.events
    assert outcome.created == BENCH_HOUSEHOLDS


def stored_events(month: dict[str, files.ParsedFile]) -> list[Any]:
    """Stored events of the size a payroll file makes, fresh ids every call."""
    from eventsourcing.persistence import StoredEvent

    state = b'{"timestamp":{"_type_":"datetime_iso","_data_":"2025-03-01T00:00:00.000000+00:00"}'
    state += b',' + b'"x":"' + b"y" * 400 + b'"}'
    return [StoredEvent(originator_id=uuid.uuid4(), originator_version=1, topic="t",
                        state=state) for _ in month["payroll"].rows]


@pytest.mark.parametrize("recorder_kind", ["copy", "stock", "raw_copy"])
def test_appending_stored_events_on_postgres(benchmark: Any, tmp_path: Path, recorder_kind: str,
                                             month: dict[str, files.ParsedFile]) -> None:
    """The COPY recorder beside the stock recorder (1,000 per call) and a raw COPY."""
    if problem := _pg_problem():
        pytest.skip(f"no PostgreSQL server: {problem}")
    made = Stores("postgres", tmp_path)
    try:
        def setup() -> tuple[tuple[Any, ...], dict[str, Any]]:
            store = made.new()
            return (store, stored_events(month)), {}

        benchmark.pedantic(APPENDERS[recorder_kind], setup=setup, rounds=ROUNDS)
    finally:
        made.close()


def _append_copy(store: Store, events: list[Any]) -> None:
    store.ledger.recorder.insert_events(events)


def _append_stock(store: Store, events: list[Any]) -> None:
    from eventsourcing.postgres import PostgresApplicationRecorder

    for start in range(0, len(events), 1000):
        PostgresApplicationRecorder.insert_events(store.ledger.recorder,
                                                  events[start:start + 1000])


def _append_raw_copy(store: Store, events: list[Any]) -> None:
    import psycopg

    with psycopg.connect(store.config.conninfo, autocommit=True) as conn:
        conn.execute(f'CREATE TABLE "{store.config.schema}".raw (originator_id uuid NOT NULL, '
                     "originator_version bigint NOT NULL, topic text, state bytea, "
                     "notification_id bigserial UNIQUE, "
                     "PRIMARY KEY (originator_id, originator_version))")
        with conn.transaction(), conn.cursor() as cur, cur.copy(
                f'COPY "{store.config.schema}".raw (originator_id, originator_version, topic, '
                "state) FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(["uuid", "int8", "text", "bytea"])
            for e in events:
                copy.write_row((e.originator_id, e.originator_version, e.topic, e.state))


APPENDERS = {"copy": _append_copy, "stock": _append_stock, "raw_copy": _append_raw_copy}


# --- projection ----------------------------------------------------------------------------

def loaded(stores: Stores, month: dict[str, files.ParsedFile]) -> Store:
    store = stores.new()
    for kind in ("households", "enrolments", "payroll", "bank_return"):
        record(store, month[kind])
    return store


def test_catch_up_of_a_month(benchmark: Any, stores: Stores,
                             month: dict[str, files.ParsedFile]) -> None:
    done = benchmark.pedantic(lambda s: facts.catch_up(s.ledger, s.db),
                              setup=lambda: ((loaded(stores, month),), {}), rounds=ROUNDS)
    benchmark.extra_info["events"] = done
    assert done == 4 * (BENCH_HOUSEHOLDS + 1)


def test_plain_read_of_the_notification_log(benchmark: Any, stores: Stores,
                                            month: dict[str, files.ParsedFile]) -> None:
    """The baseline of catch_up: every notification read, nothing done with it."""
    store = loaded(stores, month)

    def read_all() -> int:
        count, start = 0, 1
        while page := store.ledger.recorder.select_notifications(start, facts.PAGE_SIZE_MAX):
            count += len(page)
            start = page[-1].id + 1
        return count

    assert benchmark.pedantic(read_all, rounds=ROUNDS) == 4 * (BENCH_HOUSEHOLDS + 1)


@pytest.mark.parametrize("decoder", ["direct", "mapper"])
def test_decoding_a_page(benchmark: Any, stores: Stores, decoder: str,
                         month: dict[str, files.ParsedFile]) -> None:
    store = stores.new()
    record(store, month["payroll"])
    page = [facts.row_of(n)
            for n in store.ledger.recorder.select_notifications(1, facts.PAGE_SIZE_MAX)]
    if decoder == "direct":
        decoded = benchmark(facts.decode_page, store.ledger, page)
    else:
        decoded = benchmark(lambda: [facts.decode_with_mapper(store.ledger, row)
                                     for row in page if row[3] in facts.RECORD_TOPICS])
    assert len(decoded) == min(BENCH_HOUSEHOLDS, facts.PAGE_SIZE_MAX)


# --- reconciliation --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def frames(tmp_path_factory: pytest.TempPathFactory,
           month: dict[str, files.ParsedFile]) -> Any:
    from projections.frames import load_frames

    made = Stores("sqlite", tmp_path_factory.mktemp("frames"))
    store = loaded(made, month)
    facts.catch_up(store.ledger, store.db)
    result = load_frames(store.db)
    made.close()
    return result


def test_reconciliation_run(benchmark: Any, frames: Any) -> None:
    from reconciliation import runner

    findings, _ = benchmark.pedantic(runner.run, args=(frames, {}, "2025-03-31"), rounds=ROUNDS)
    assert len(findings) >= 0


def test_bare_pandas_merge_of_payroll_and_bank(benchmark: Any, frames: Any) -> None:
    import pandas as pd

    merged = benchmark(pd.merge, frames.payroll, frames.bank_return,
                       on=["batch_id", "line_no"], how="outer")
    assert len(merged) == BENCH_HOUSEHOLDS

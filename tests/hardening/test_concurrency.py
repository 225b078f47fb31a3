"""Two clerks load at once on one PostgreSQL store: a conflict is retried or reported
(exit 1 with a reason), never lost, never doubled; after re-running the one that failed
the store equals a clean single load."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from api.sample_county import CountyTruth
from api.wiring import Store, parse_db_url
from projections import facts
from tests.conftest import PG_URL, require_postgres
from tests.hardening.conftest import (
    ITERATIONS,
    Reference,
    assert_consistent,
    assert_files_whole,
    report,
    run_cli,
    snapshot,
    start_cli,
    wait_for,
)

pytestmark = [pytest.mark.slow]

# Kinds with no reference to the others: a second folder that can be loaded alongside.
SEPARATE_KINDS = ("assets", "asset_events", "deaths", "officials", "holdings")


@pytest.fixture
def pg_schemas() -> Iterator[list[str]]:
    """Hand out fresh schema URLs on demand (append to the list); all dropped afterwards."""
    require_postgres()
    urls: list[str] = []
    yield urls
    with psycopg.connect(parse_db_url(PG_URL).conninfo, autocommit=True) as conn:
        for url in urls:
            conn.execute(f'DROP SCHEMA IF EXISTS "{parse_db_url(url).schema}" CASCADE')


def _new_schema(urls: list[str], created: bool) -> str:
    url = f"{PG_URL}?schema=c_{uuid.uuid4().hex[:12]}"
    urls.append(url)
    if created:  # the tables exist: the race is on records, not on CREATE TABLE
        Store(url).close()
    return url


def _split(county: CountyTruth, work: Path) -> tuple[Path, Path]:
    main, separate = work / "main", work / "separate"
    main.mkdir()
    separate.mkdir()
    for path in county.directory.iterdir():
        separate_kind = path.name.split(".")[0] in SEPARATE_KINDS
        shutil.copy(path, (separate if separate_kind else main) / path.name)
    return main, separate


def _race(url: str, folders: list[Path], work: Path, tag: str) -> list[int]:
    """Start one loader per folder at once; every failure must be a clear error, and
    re-running it must succeed. Returns the first exit codes."""
    logs = [work / f"{tag}-{n}.log" for n in range(len(folders))]
    procs = [start_cli(url, "load", str(folder), cwd=work, log=log)
             for folder, log in zip(folders, logs, strict=True)]
    codes = [wait_for(proc) for proc in procs]
    for code, log, folder in zip(codes, logs, folders, strict=True):
        output = log.read_text(encoding="utf-8", errors="replace")
        assert code in (0, 1), output
        if code == 1:
            assert "Traceback" not in output, output
            assert any(line.startswith("error:") for line in output.splitlines()), output
            retry = run_cli(url, "load", str(folder), cwd=work)
            assert retry.returncode == 0, retry.stderr
    report(test=f"concurrent-{tag}", exits=codes,
           reasons=[_reason(log) for log, code in zip(logs, codes, strict=True) if code])
    return codes


def _reason(log: Path) -> str:
    lines = log.read_text(encoding="utf-8", errors="replace").splitlines()
    return next((line[:100] for line in lines if line.startswith("error:")), "")


@pytest.mark.postgres
def test_two_loaders_of_the_same_folder_at_once_end_as_one_clean_load(
        pg_schemas: list[str], county: CountyTruth, reference: Reference,
        tmp_path: Path) -> None:
    for attempt in range(ITERATIONS):
        url = _new_schema(pg_schemas, created=attempt % 2 == 0)
        _race(url, [county.directory, county.directory], tmp_path, f"same{attempt}")
        assert_files_whole(url, reference.rows_per_file)
        assert snapshot(url).differences(reference.snapshot) == []
        assert_consistent(url)


@pytest.mark.postgres
def test_two_loaders_of_different_folders_at_once_end_as_one_clean_load(
        pg_schemas: list[str], county: CountyTruth, reference: Reference,
        tmp_path: Path) -> None:
    main, separate = _split(county, tmp_path)
    for attempt in range(ITERATIONS):
        url = _new_schema(pg_schemas, created=True)
        _race(url, [main, separate], tmp_path, f"different{attempt}")
        assert_files_whole(url, reference.rows_per_file)
        assert snapshot(url).differences(reference.snapshot) == []
        assert_consistent(url)


def test_two_projectors_at_once_never_lose_or_double_a_row(
        store_url: str, county: CountyTruth, tmp_path: Path) -> None:
    """What `project --follow` beside a `load` does: two catch-ups over the same log."""
    done = run_cli(store_url, "load", str(county.directory), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    with Store(store_url) as store:
        facts.drop(store.db)
    logs = [tmp_path / f"project{n}.log" for n in range(2)]
    procs = [start_cli(store_url, "project", cwd=tmp_path, log=log) for log in logs]
    codes = [wait_for(proc) for proc in procs]
    outputs = [log.read_text(encoding="utf-8", errors="replace") for log in logs]
    report(test="concurrent-project", backend=store_url.split(":")[0], exits=codes,
           reasons=[o.strip().splitlines()[-1][:100] for o, c in zip(outputs, codes,
                                                                  strict=True) if c])
    again = run_cli(store_url, "project", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    with Store(store_url) as store:
        projected = _tables(store)
        facts.drop(store.db)
        facts.catch_up(store.ledger, store.db)
        assert projected == _tables(store)
        assert facts.trial_balance(store.db) == 0
    assert not any("Traceback" in output for output in outputs), outputs
    assert codes == [0, 0], outputs


def _tables(store: Store) -> tuple[list[tuple], list[tuple]]:
    rows = store.db.query("SELECT * FROM rm_facts ORDER BY notification_id")
    postings = store.db.query("SELECT * FROM rm_postings ORDER BY notification_id, seq")
    return [tuple(r) for r in rows], [tuple(p) for p in postings]

"""Tampering, as an inspector would try it, through the real command line on SQLite and
PostgreSQL: ``load`` (no ``digest`` afterwards), then change the store behind the
ledger's back and see ``verify`` (exit 3, naming what changed), ``disclose`` and
``report`` (exit 3, publishing nothing) and ``monitor`` (exit 3 on a fork) react."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from api.wiring import Store
from projections import audit, chain, integrity
from tests.e2e.conftest import write_big_village, write_county
from tests.integration.test_integrity import flip_one_byte, stored_event

CLI_TIMEOUT_SECONDS = 300
SERVER_START_SECONDS = 60
REWRITE_BANK_RETURNS = ("UPDATE rm_facts SET fields=replace(fields,'\"status\":\"success\"',"
                        "'\"status\":\"failed\"') WHERE kind='bank_return'")


def cli(url: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "AIDLEDGER_DB"}
    return subprocess.run([sys.executable, "-m", "api.cli", "--db", url, *args], cwd=cwd,
                          env=env, capture_output=True, text=True,
                          timeout=CLI_TIMEOUT_SECONDS, check=False)


@pytest.fixture
def loaded(store_url: str, tmp_path: Path) -> str:
    """A county loaded by ``aidledger load`` and nothing else (no digest was asked for)."""
    county = write_county(tmp_path / "county")
    write_big_village(county)
    result = cli(store_url, "load", str(county), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    last = result.stdout.strip().splitlines()[-1]
    assert last.startswith("digest: aidledger:v1:")
    with Store(store_url) as store:
        assert last == f"digest: {integrity.digest(store).text}"
    return store_url


def test_one_byte_changed_in_an_event_just_loaded_makes_verify_exit_3_naming_it(
        loaded: str, tmp_path: Path) -> None:
    with Store(loaded) as store:
        victim = stored_event(store, 9)
        flip_one_byte(store, 9)
    result = cli(loaded, "verify", cwd=tmp_path)
    assert result.returncode == 3
    assert f"first failing event: notification 9: {victim.originator_id}" in result.stdout
    assert "no longer hashes" in result.stdout


@pytest.mark.parametrize("how", ["DROP TABLE", "DELETE FROM"])
def test_dropped_or_emptied_chain_tables_make_verify_exit_3(loaded: str, tmp_path: Path,
                                                            how: str) -> None:
    with Store(loaded) as store:
        for table in ("rm_chain", "rm_chain_tip"):
            store.db.execute(f"{how} {table}")
    result = cli(loaded, "verify", cwd=tmp_path)
    assert result.returncode == 3, result.stdout
    assert "nothing proves the log" in result.stdout
    assert cli(loaded, "digest", cwd=tmp_path).returncode == 3


def test_a_chain_cut_short_makes_verify_exit_3(loaded: str, tmp_path: Path) -> None:
    with Store(loaded) as store:
        store.db.execute("DELETE FROM rm_chain WHERE position > 10")
    result = cli(loaded, "verify", cwd=tmp_path)
    assert result.returncode == 3 and "rm_chain altered" in result.stdout


def test_a_rewritten_fact_row_makes_verify_exit_3_and_disclose_and_report_refuse(
        loaded: str, tmp_path: Path) -> None:
    with Store(loaded) as store:
        store.db.execute(REWRITE_BANK_RETURNS)
    verify = cli(loaded, "verify", cwd=tmp_path)
    assert verify.returncode == 3
    assert "first failing row: rm_facts row notification_id=" in verify.stdout
    assert "kind=bank_return" in verify.stdout and "'failed'" not in verify.stdout
    assert '"status":"failed"' in verify.stdout  # the altered text is shown beside the log's
    disclose = cli(loaded, "disclose", "--period", "2025-01", "--out", "out", cwd=tmp_path)
    assert disclose.returncode == 3
    assert "rm_facts (kind 'bank_return')" in disclose.stderr
    assert not (tmp_path / "out").exists()
    report = cli(loaded, "report", "balances", "--by", "township", "--as-of", "2025-12-31",
                 "--out", "b.csv", cwd=tmp_path)
    assert report.returncode == 3 and not (tmp_path / "b.csv").exists()


def test_verify_says_a_digest_must_be_published_outside_the_database(
        loaded: str, tmp_path: Path) -> None:
    result = cli(loaded, "verify", cwd=tmp_path)
    assert result.returncode == 0, result.stdout
    assert "Only a digest published outside the database" in result.stdout
    assert "verify --against" in result.stdout


# -- a fork: monitor and verify --against --------------------------------------------------
def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def served(loaded: str, tmp_path: Path) -> Iterator[str]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "AIDLEDGER_DB"}
    with open(tmp_path / "serve.log", "wb") as log:
        server = subprocess.Popen([sys.executable, "-m", "api.cli", "--db", loaded, "serve",
                                   "--port", str(port)], cwd=tmp_path, env=env, stdout=log,
                                  stderr=subprocess.STDOUT)
        deadline = time.monotonic() + SERVER_START_SECONDS
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.2)
        try:
            yield f"http://127.0.0.1:{port}"
        finally:
            server.terminate()
            server.wait(timeout=30)


def rewrite_from(url: str, notification_id: int) -> None:
    """History rewritten from an earlier position and re-chained, as someone who can write
    the database (and holds the county's key) could: every chain table recomputed."""
    with Store(url) as store:
        flip_one_byte(store, notification_id)
        for table in (*chain.CHAIN_TABLES, chain.META_TABLE, "rm_checkpoint"):
            store.db.execute(f"DELETE FROM {table}")
    with Store(url) as store:
        assert store.notice is not None  # re-chained on open, as a pre-chaining store
        assert audit.verify(store, read_models=False).ok  # consistent again on its own


def test_a_fork_is_caught_by_monitor_and_by_verify_against_an_old_digest(
        loaded: str, served: str, tmp_path: Path) -> None:
    assert cli(loaded, "key", "new", "--out", "county.key", cwd=tmp_path).returncode == 0
    signed = cli(loaded, "digest", "--sign", "county.key", cwd=tmp_path)
    assert signed.returncode == 0, signed.stderr
    old_digest = signed.stdout.strip().splitlines()[-1]
    watch = ("monitor", served, "--state", "seen.json", "--log-key", "county.key.pub")
    first = cli(loaded, *watch, cwd=tmp_path)
    assert first.returncode == 0 and "first look" in first.stdout, first.stderr
    assert cli(loaded, *watch, cwd=tmp_path).returncode == 0
    rewrite_from(loaded, 3)
    assert cli(loaded, "digest", "--sign", "county.key", cwd=tmp_path).returncode == 0
    caught = cli(loaded, *watch, cwd=tmp_path)
    assert caught.returncode == 3 and "fork" in caught.stderr
    against = cli(loaded, "verify", "--against", old_digest, cwd=tmp_path)
    assert against.returncode == 3
    assert "do not match the published digest" in against.stdout

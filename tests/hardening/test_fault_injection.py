"""Damage done for real: SIGKILL the loader and the projector at random moments, restart
PostgreSQL under a running load; then the store must equal a clean single load.

Slow by nature (a county of ``HOUSEHOLDS`` households, loaded several times); the number
of kills per test is ``AIDLEDGER_HARDENING_ITERATIONS``.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import psycopg
import pytest

from api.sample_county import CountyTruth
from api.wiring import Store, parse_db_url
from projections import facts
from tests.hardening.conftest import (
    ITERATIONS,
    SEED,
    Reference,
    assert_consistent,
    assert_files_whole,
    report,
    run_cli,
    snapshot,
    start_cli,
    wait_for,
)

KILL_DELAY_MIN_SECONDS = 0.3  # before that the process has not opened the store yet
PG_CLUSTER = os.environ.get("AIDLEDGER_PG_CLUSTER", "15 main").split()
PG_READY_SECONDS_MAX = 120
POLL_SECONDS = 0.005  # a page of the projection or a file of the load takes ~0.1 s


def kill_at(proc: subprocess.Popen[bytes], delay_seconds: float) -> bool:
    """SIGKILL ``proc`` after ``delay_seconds``; False when it had already finished."""
    try:
        proc.wait(timeout=delay_seconds)
        return False
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        return True


@pytest.mark.slow
def test_a_loader_killed_at_random_moments_then_reloaded_equals_one_clean_load(
        store_url: str, county: CountyTruth, reference: Reference, tmp_path: Path) -> None:
    """Even attempts die at a random event count (while files are being recorded), odd
    ones at a random moment of a whole load (mostly while projecting)."""
    rng = random.Random(SEED)
    events_total = sum(reference.snapshot.events.values())
    for attempt in range(ITERATIONS):
        proc = start_cli(store_url, "load", str(county.directory), cwd=tmp_path,
                         log=tmp_path / f"kill{attempt}.log")
        if attempt % 2 == 0:
            target = rng.randint(1, events_total)
            killed_at = _kill_after_events(store_url, proc, target)
            moment = {"target_events": target, "killed_at_events": killed_at}
        else:
            delay = rng.uniform(KILL_DELAY_MIN_SECONDS, reference.load_seconds)
            moment = {"delay_s": round(delay, 2), "killed": kill_at(proc, delay)}
        markers = assert_files_whole(store_url, reference.rows_per_file)
        report(test="loader-kill", backend=store_url.split(":")[0], seed=SEED, attempt=attempt,
               files_whole=len(markers), **moment)
    done = run_cli(store_url, "load", str(county.directory), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert snapshot(store_url).differences(reference.snapshot) == []
    assert_consistent(store_url)


def _kill_after_events(url: str, proc: subprocess.Popen[bytes], events_min: int) -> int:
    """SIGKILL once the log holds ``events_min`` events; returns how many it held
    (0: the process finished first)."""
    with Store(url) as store:
        while proc.poll() is None:
            stored = store.ledger.recorder.max_notification_id() or 0
            if stored >= events_min:
                proc.send_signal(signal.SIGKILL)
                proc.wait()
                return stored
            time.sleep(POLL_SECONDS)
    return 0


@pytest.mark.slow
def test_a_projection_killed_mid_batch_resumes_exactly_once(
        store_url: str, county: CountyTruth, reference: Reference, tmp_path: Path) -> None:
    _fill_from_reference(store_url, reference, county, tmp_path)
    rng = random.Random(SEED + 1)
    with Store(store_url) as store:
        total = store.ledger.recorder.max_notification_id()
        facts.drop(store.db)  # what `project --rebuild` does first; then kill its catch-up
    for attempt in range(ITERATIONS):
        with Store(store_url) as store:
            start = _tracked(store)
            if start >= total:  # the last attempt finished first: give this one work
                facts.drop(store.db)
                start = 0
        proc = start_cli(store_url, "project", cwd=tmp_path,
                         log=tmp_path / f"project{attempt}.log")
        at = _kill_after_progress(store_url, proc,
                                  start + rng.uniform(0.05, 0.8) * (total - start), total)
        report(test="projection-kill", backend=store_url.split(":")[0], seed=SEED,
               attempt=attempt, killed_at_position=at, events=total)
    done = run_cli(store_url, "project", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    projected = _read_models(store_url)
    with Store(store_url) as store:
        facts.drop(store.db)
        facts.catch_up(store.ledger, store.db)
    assert projected == _read_models(store_url)
    assert facts_trial_balance(store_url) == 0


def _fill_from_reference(url: str, reference: Reference, county: CountyTruth,
                         work: Path) -> None:
    """The county's events in ``url``: a file copy on SQLite, a load on PostgreSQL."""
    if url.startswith("sqlite:///"):
        source = sqlite3.connect(parse_db_url(reference.url).sqlite_path)
        target = sqlite3.connect(parse_db_url(url).sqlite_path)
        with source, target:
            source.backup(target)  # consistent copy, WAL included
        source.close()
        target.close()
        return
    done = run_cli(url, "load", str(county.directory), cwd=work)
    assert done.returncode == 0, done.stderr


def _kill_after_progress(url: str, proc: subprocess.Popen[bytes], position_min: float,
                         total: int) -> int:
    """SIGKILL once the projection's tracked position passed ``position_min`` but not the
    end (mid-run); returns the position reached (0: it finished first, nothing killed)."""
    with Store(url) as store:
        while proc.poll() is None:
            reached = _tracked(store)
            if reached >= total:
                proc.wait()
                return 0
            if reached >= position_min:
                proc.send_signal(signal.SIGKILL)
                proc.wait()
                return reached
            time.sleep(POLL_SECONDS)
    return 0


def _tracked(store: Store) -> int:
    if not store.db.table_exists("rm_tracking"):
        return 0
    return facts.position(store.db)


def _read_models(url: str) -> tuple[list[tuple], list[tuple], int]:
    with Store(url) as store:
        rows = store.db.query("SELECT * FROM rm_facts ORDER BY notification_id")
        postings = store.db.query("SELECT * FROM rm_postings ORDER BY notification_id, seq")
        return [tuple(r) for r in rows], [tuple(p) for p in postings], facts.position(store.db)


def facts_trial_balance(url: str) -> int:
    with Store(url) as store:
        return facts.trial_balance(store.db)


# -- PostgreSQL restart ------------------------------------------------------------------
def _may_restart_postgres() -> str | None:
    """Why the restart test must not run here (None: it may)."""
    if not (os.environ.get("CI") or os.environ.get("AIDLEDGER_ALLOW_PG_RESTART") == "1"):
        return "restarts the shared server: set AIDLEDGER_ALLOW_PG_RESTART=1 (CI does)"
    if shutil.which("pg_ctlcluster") is None or shutil.which("pg_isready") is None:
        return "pg_ctlcluster / pg_isready not installed"
    if os.geteuid() != 0:
        return "pg_ctlcluster needs root"
    return None


def _restart_postgres() -> None:
    subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", *PG_CLUSTER, "restart"],
                   check=True, capture_output=True, timeout=PG_READY_SECONDS_MAX)


def _wait_until_ready(url: str) -> None:
    """Block until the server accepts connections again (always called, even on failure)."""
    config = parse_db_url(url)
    deadline = time.monotonic() + PG_READY_SECONDS_MAX
    while time.monotonic() < deadline:
        ready = subprocess.run(["pg_isready", "-h", config.host, "-p", config.port],
                               capture_output=True, check=False)
        if ready.returncode == 0:
            return
        time.sleep(0.5)
    subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", *PG_CLUSTER, "start"],
                   capture_output=True, check=False)
    raise AssertionError("PostgreSQL did not come back within "
                         f"{PG_READY_SECONDS_MAX} s; tried pg_ctlcluster start")


def _events_stored(url: str) -> int:
    config = parse_db_url(url)
    try:
        with psycopg.connect(config.conninfo, connect_timeout=3) as conn:
            row = conn.execute(f'SELECT count(*) FROM "{config.schema}".aidledger_events'
                               ).fetchone()
            return int(row[0]) if row else 0
    except psycopg.Error:
        return 0


@pytest.mark.postgres
@pytest.mark.slow
def test_a_postgresql_restart_mid_load_fails_clearly_leaves_whole_files_and_the_retry_completes(
        pg_url: str, county: CountyTruth, reference: Reference, tmp_path: Path) -> None:
    why_not = _may_restart_postgres()
    if why_not:
        pytest.skip(why_not)
    proc = start_cli(pg_url, "load", str(county.directory), cwd=tmp_path,
                     log=tmp_path / "restart.log")
    try:
        deadline = time.monotonic() + reference.load_seconds * 4
        while _events_stored(pg_url) == 0 and proc.poll() is None:
            assert time.monotonic() < deadline, "the load never started writing"
            time.sleep(POLL_SECONDS)
        assert proc.poll() is None, "the load ended before the restart: " + \
            (tmp_path / "restart.log").read_text(encoding="utf-8", errors="replace")
        _restart_postgres()
        code = wait_for(proc)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        _wait_until_ready(pg_url)
    output = (tmp_path / "restart.log").read_text(encoding="utf-8", errors="replace")
    report(test="pg-restart", exit=code, last_line=output.strip().splitlines()[-1:])
    assert code == 1, output
    assert_files_whole(pg_url, reference.rows_per_file)
    done = run_cli(pg_url, "load", str(county.directory), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert snapshot(pg_url).differences(reference.snapshot) == []
    assert_consistent(pg_url)
    assert "Traceback" not in output, output
    assert output.strip().splitlines()[-1].startswith("error:"), output

"""Shared pieces of the hardening suite: the CLI as a real subprocess, a generated county,
a clean reference load, and what "the same store" means.

Knobs (environment variables), so CI stays fast and a soak run can go long:
- ``AIDLEDGER_HARDENING_ITERATIONS`` (default 2): kills / concurrent runs per test.
- ``AIDLEDGER_HARDENING_HOUSEHOLDS`` (default 2000): size of the generated county.
- ``AIDLEDGER_HARDENING_SEED``: seed of the random kill moments (printed on failure).
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest

from api.sample_county import CountyTruth, generate_county
from api.wiring import Store
from domain.records import ImportedFile
from projections import audit, facts, integrity

ITERATIONS = int(os.environ.get("AIDLEDGER_HARDENING_ITERATIONS", "2"))
HOUSEHOLDS = int(os.environ.get("AIDLEDGER_HARDENING_HOUSEHOLDS", "2000"))
SEED = int(os.environ.get("AIDLEDGER_HARDENING_SEED", str(random.randrange(1 << 30))))
CLI_TIMEOUT_SECONDS = 600
RECORD_TOPICS = facts.RECORD_TOPICS
MARKER_TOPIC = f"{ImportedFile.__module__}:{ImportedFile.__qualname__}.Imported"


def cli_command(db: str, *args: str) -> list[str]:
    """``aidledger --db DB ARGS`` run by this interpreter, so it works in any venv."""
    return [sys.executable, "-m", "api.cli", "--db", db, *args]


def clean_env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("AIDLEDGER_DB", None)
    return env


def run_cli(db: str, *args: str, cwd: Path,
            env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run the CLI to completion; the caller asserts on returncode, stdout, stderr."""
    return subprocess.run(cli_command(db, *args), cwd=cwd, env=env or clean_env(),
                          capture_output=True, text=True, timeout=CLI_TIMEOUT_SECONDS,
                          check=False)


def start_cli(db: str, *args: str, cwd: Path, log: Path,
              env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    """Start the CLI in the background; output goes to ``log`` (never a pipe that fills)."""
    handle = open(log, "wb")  # noqa: SIM115 - closed by the child's exit, kept by Popen
    return subprocess.Popen(cli_command(db, *args), cwd=cwd, env=env or clean_env(),
                            stdout=handle, stderr=subprocess.STDOUT)


def wait_for(proc: subprocess.Popen[bytes], timeout: float = CLI_TIMEOUT_SECONDS) -> int:
    return proc.wait(timeout=timeout)


@dataclass(frozen=True)
class Snapshot:
    """What two stores must agree on to be "the same" (moments and ids aside)."""

    facts: Counter[tuple]  # rm_facts rows without notification id and recorded_at
    balances: dict[str, int]  # every account, all time
    events: Counter[tuple]  # (originator id, version, topic) of every stored event
    trial_balance_fen: int

    def differences(self, other: Snapshot) -> list[str]:
        out = []
        for name in ("facts", "balances", "events"):
            mine, theirs = getattr(self, name), getattr(other, name)
            if mine != theirs:
                out.append(f"{name} differ: {_diff(mine, theirs)}")
        return out


def _diff(mine: object, theirs: object) -> str:
    if isinstance(mine, Counter) and isinstance(theirs, Counter):
        return f"{sum((mine - theirs).values())} extra, {sum((theirs - mine).values())} missing"
    return "balances differ"


def snapshot(url: str) -> Snapshot:
    """Project what is new, then read the comparable content of the store."""
    with Store(url) as store:
        facts.catch_up(store.ledger, store.db)
        rows = store.db.query("SELECT kind, key, business_date, actor, fields, evidence_event,"
                              " evidence_row FROM rm_facts")
        events = Counter((str(n.originator_id), n.originator_version, n.topic)
                         for n in integrity.iter_log(store))
        return Snapshot(Counter(tuple(r) for r in rows), facts.account_balances(store.db),
                        events, facts.trial_balance(store.db))


def rows_and_markers(url: str) -> tuple[Counter[str], set[str]]:
    """Rows recorded per source file, and the files whose ImportedFile marker is stored.

    Read-only: decodes the log, never touches the read models.
    """
    rows: Counter[str] = Counter()
    markers: set[str] = set()
    with Store(url) as store:
        for notification in integrity.iter_log(store):
            if notification.topic in RECORD_TOPICS:
                event = store.ledger.mapper.to_domain_event(notification)
                rows[event.source.split("#")[0]] += 1
            elif notification.topic == MARKER_TOPIC:
                markers.add(store.ledger.mapper.to_domain_event(notification).name)
    return rows, markers


def assert_files_whole(url: str, expected_rows: Counter[str]) -> set[str]:
    """Every file is in the store whole (all its rows and its marker) or not at all."""
    rows, markers = rows_and_markers(url)
    for name, count in expected_rows.items():
        if name in markers:
            assert rows[name] == count, f"{name}: {rows[name]} of {count} rows, marker stored"
        else:
            assert rows[name] == 0, f"{name}: {rows[name]} rows stored without a marker"
    assert set(rows) <= set(expected_rows), f"unexpected sources {set(rows) - set(expected_rows)}"
    return markers


def assert_consistent(url: str) -> None:
    """Trial balance zero, and the tamper-evident chain verifies over the whole log."""
    with Store(url) as store:
        facts.catch_up(store.ledger, store.db)
        assert facts.trial_balance(store.db) == 0
        integrity.digest(store)
        result = audit.verify(store)
        assert result.ok, result.reason


@dataclass(frozen=True)
class Reference:
    """A clean single load of the county into its own SQLite store."""

    url: str
    snapshot: Snapshot
    rows_per_file: Counter[str]
    load_seconds: float


@pytest.fixture(scope="session")
def county(tmp_path_factory: pytest.TempPathFactory) -> CountyTruth:
    return generate_county(tmp_path_factory.mktemp("county") / "county", households=HOUSEHOLDS)


@pytest.fixture(scope="session")
def reference(county: CountyTruth, tmp_path_factory: pytest.TempPathFactory) -> Reference:
    work = tmp_path_factory.mktemp("reference")
    url = f"sqlite:///{work / 'reference.db'}"
    started = time.monotonic()
    done = run_cli(url, "load", str(county.directory), cwd=work)
    seconds = time.monotonic() - started
    assert done.returncode == 0, done.stderr
    rows, markers = rows_and_markers(url)
    assert len(markers) == len(list(county.directory.iterdir()))
    return Reference(url, snapshot(url), rows, seconds)


def report(**fields: object) -> None:
    """One JSON line per fault tried (visible with ``pytest -s``; docs/hardening.md)."""
    print("HARDENING " + json.dumps(fields, ensure_ascii=False, default=str))


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "slow: kills processes or loads a large county "
                            "(deselect with -m 'not slow')")

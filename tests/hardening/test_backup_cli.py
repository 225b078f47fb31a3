"""Backup and restore through the CLI: a county exported from SQLite, imported into
PostgreSQL and back into a new SQLite store gives the same digest, the same balance
reports and the same findings."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from api.sample_county import CountyTruth
from api.wiring import parse_db_url
from tests.hardening.conftest import Reference, run_cli

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

BALANCE_VIEWS = ("township", "program", "household")


def _ok(db: str, *args: str, cwd: Path) -> str:
    done = run_cli(db, *args, cwd=cwd)
    assert done.returncode == 0, (args, done.stderr)
    return done.stdout


def _digest(db: str, cwd: Path) -> str:
    return _ok(db, "digest", cwd=cwd).strip().splitlines()[-1]


def _outputs(db: str, county: CountyTruth, out: Path) -> dict[str, bytes]:
    """Every balance report and the findings CSVs of one store, by file name."""
    out.mkdir()
    for view in BALANCE_VIEWS:
        _ok(db, "report", "balances", "--by", view, "--as-of", county.as_of,
            "--out", str(out / f"balances_{view}.csv"), cwd=out)
    _ok(db, "reconcile", "--as-of", county.as_of, "--out", str(out / "findings.csv"), cwd=out)
    return {p.name: p.read_bytes() for p in sorted(out.iterdir())}


def test_a_county_moved_sqlite_to_postgresql_and_back_keeps_digest_reports_and_findings(
        pg_url: str, county: CountyTruth, reference: Reference, tmp_path: Path) -> None:
    first = f"sqlite:///{tmp_path / 'first.db'}"
    with sqlite3.connect(parse_db_url(reference.url).sqlite_path) as source, \
            sqlite3.connect(tmp_path / "first.db") as target:
        source.backup(target)
    last = f"sqlite:///{tmp_path / 'last.db'}"
    published = _digest(first, tmp_path)
    _ok(first, "export", str(tmp_path / "first.jsonl.gz"), cwd=tmp_path)
    _ok(pg_url, "import", str(tmp_path / "first.jsonl.gz"), cwd=tmp_path)
    assert _digest(pg_url, tmp_path) == published
    _ok(pg_url, "export", str(tmp_path / "middle.jsonl"), cwd=tmp_path)
    _ok(last, "import", str(tmp_path / "middle.jsonl"), cwd=tmp_path)
    assert _digest(last, tmp_path) == published
    for db in (first, pg_url, last):
        assert _ok(db, "verify", "--against", published, cwd=tmp_path)
    expected = _outputs(first, county, tmp_path / "first")
    # findings.csv, findings_leads.csv and their complete evidence files
    assert len(expected) == len(BALANCE_VIEWS) + 4
    assert _outputs(pg_url, county, tmp_path / "pg") == expected
    assert _outputs(last, county, tmp_path / "last") == expected


def test_an_import_into_a_store_that_has_events_is_refused_by_the_cli(
        pg_url: str, reference: Reference, tmp_path: Path) -> None:
    _ok(reference.url, "export", str(tmp_path / "log.jsonl.gz"), cwd=tmp_path)
    _ok(pg_url, "import", str(tmp_path / "log.jsonl.gz"), cwd=tmp_path)
    again = run_cli(pg_url, "import", str(tmp_path / "log.jsonl.gz"), cwd=tmp_path)
    assert again.returncode == 1
    assert again.stderr.startswith("error: import needs an empty store")

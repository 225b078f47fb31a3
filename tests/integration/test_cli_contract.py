"""The command line as README.md and docs/formats.md word it: exit codes, outputs, --known-at."""

from __future__ import annotations

import csv
import datetime as dt
import subprocess
import sys
import time
from pathlib import Path

from tests.integration.test_ledger_core import write_county


def cli(url: str, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "api.cli", "--db", url, *args], cwd=cwd,
                          capture_output=True, text=True, timeout=300)


def rows(path: Path) -> list[dict]:
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_known_at_written_to_the_second_includes_that_whole_second(
        store_url: str, tmp_path: Path) -> None:
    county = write_county(tmp_path / "county")
    assert cli(store_url, "load", str(county), cwd=tmp_path).returncode == 0
    known_at = dt.datetime.now().astimezone().replace(microsecond=0).isoformat()
    time.sleep(1.1)  # the correction is recorded in a later second
    fix = tmp_path / "fix"
    fix.mkdir()
    (fix / "bank_return_fix.csv").write_text(
        "batch_id,line_no,account_holder,bank_account,amount,status,fail_reason,value_date\n"
        "B1,1,张三明,6217000000000000001,650.00,success,,2025-01-20\n", encoding="utf-8")
    assert cli(store_url, "load", str(fix), cwd=tmp_path).returncode == 0
    out = tmp_path / "then.csv"
    done = cli(store_url, "report", "balances", "--by", "township", "--as-of", "2025-12-31",
               "--known-at", known_at, "--out", str(out), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    then = {r["township"]: r["paid"] for r in rows(out)}
    assert then["城关镇"] == "700.00"
    cli(store_url, "report", "balances", "--by", "township", "--as-of", "2025-12-31",
        "--out", str(out), cwd=tmp_path)
    assert {r["township"]: r["paid"] for r in rows(out)}["城关镇"] == "650.00"


def test_exit_codes_bad_input_1_usage_2(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    assert cli(url, "load", str(tmp_path / "missing"), cwd=tmp_path).returncode == 1
    assert cli(url, "reconcile", "--as-of", "2025-13-01", "--out", "f.csv",
               cwd=tmp_path).returncode == 2
    assert cli(url, "frobnicate", cwd=tmp_path).returncode == 2
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "payroll.csv").write_text("batch_id\nB1\n", encoding="utf-8")
    done = cli(url, "load", str(bad), cwd=tmp_path)
    assert done.returncode == 1
    assert "payroll.csv" in done.stderr and "line_no" in done.stderr


def test_verify_exits_3_after_one_byte_of_one_event_is_changed(tmp_path: Path) -> None:
    import sqlite3

    url = f"sqlite:///{tmp_path / 'v.db'}"
    cli(url, "load", str(write_county(tmp_path / "county")), cwd=tmp_path)
    digest = cli(url, "digest", cwd=tmp_path).stdout.strip().splitlines()[-1]
    assert cli(url, "verify", "--against", digest, cwd=tmp_path).returncode == 0
    with sqlite3.connect(tmp_path / "v.db") as conn:
        rowid, state = conn.execute("SELECT rowid, state FROM stored_events WHERE "
                                    "instr(state, '700.00') > 0 LIMIT 1").fetchone()
        conn.execute("UPDATE stored_events SET state=? WHERE rowid=?",
                     [state.replace(b"700.00", b"790.00"), rowid])
    done = cli(url, "verify", cwd=tmp_path)
    assert done.returncode == 3, done.stdout + done.stderr
    assert f"notification {rowid}" in done.stdout + done.stderr

"""``aidledger load`` end to end, timed as the user runs it, beside a raw COPY in the same run.

Run: ``python -m benchmarks.load_e2e --households 20000 --db URL [--months 6] [--rounds 2]``.

A generated county (``api.sample_county.generate_county``) is written once into
``--county DIR`` (kept for the next run), then loaded by ``aidledger --db URL load DIR`` in a
child process into a fresh store (a new schema on PostgreSQL, a new file on SQLite),
``--rounds`` times; the whole process is timed (start-up, parsing, checking, recording,
projecting). The figure is payroll+bank lines per second of that process, divided by the
rate of a raw binary COPY (PostgreSQL) or one-transaction ``executemany`` (SQLite) of as many
event-sized rows (the stored events of the load itself, with new ids) measured in the same
run, into a bare events table.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from benchmarks.scale import (
    _raw_copy_rate,
    _sqlite_executemany_rate,
    drop_schema,
    fresh_url,
    sample_stored_events,
)

LINE_FILES = ("payroll_", "bank_return_")


def count_lines(county: Path) -> tuple[int, int]:
    """(payroll+bank lines, rows of every contract file) of a county folder."""
    lines = rows = 0
    for path in sorted(county.glob("*.csv")):
        data = path.read_bytes()
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:  # the bank files come in GBK
            text = data.decode("gb18030")
        n = sum(1 for _ in csv.reader(io.StringIO(text, newline=""))) - 1
        rows += n
        if path.name.startswith(LINE_FILES):
            lines += n
    return lines, rows


def ensure_county(folder: Path, households: int, months: int) -> None:
    if (folder / "households.csv").exists():
        return
    from api.sample_county import generate_county

    print(f"generating a county of {households:,} households into {folder} …",
          file=sys.stderr, flush=True)
    generate_county(folder, households=households, months=months)


def run_load(url: str, county: Path) -> float:
    env = dict(os.environ, AIDLEDGER_DB=url)
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "api.cli", "load", str(county)], env=env,
                          capture_output=True, text=True, check=False)
    took = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"load failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return took


def baseline_rate(url: str, lines: int) -> float:
    from api.wiring import Store

    store = Store(url, create=False)
    try:
        sample = sample_stored_events(store, lines)
        rows = [(uuid.uuid4(), e.originator_version, e.topic, e.state) for e in sample]
        if store.config.backend == "postgres":
            return _raw_copy_rate(store, rows)
        return _sqlite_executemany_rate(rows)
    finally:
        store.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--households", type=int, default=20_000)
    parser.add_argument("--months", type=int, default=6)
    parser.add_argument("--db", required=True, help="postgresql://… or sqlite (a temp file)")
    parser.add_argument("--county", type=Path, default=None)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args(argv)
    county = args.county or Path(tempfile.gettempdir()) / (
        f"aidledger-county-{args.households}-{args.months}")
    ensure_county(county, args.households, args.months)
    lines, rows = count_lines(county)
    times, baselines = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for index in range(args.rounds):
            if args.db.startswith("postgres"):
                url, schema = fresh_url(args.db)
            else:
                url, schema = f"sqlite:///{tmp}/load-{index}.db", None
            try:
                times.append(run_load(url, county))
                baselines.append(baseline_rate(url, lines))
            finally:
                if schema:
                    drop_schema(url, schema)
    took, raw = statistics.median(times), statistics.median(baselines)
    backend = "PostgreSQL" if args.db.startswith("postgres") else "SQLite"
    what = "raw binary COPY" if backend == "PostgreSQL" else "executemany, one transaction"
    print(f"| county | {args.households:,} households, {rows:,} rows, {lines:,} payroll+bank "
          f"lines ({county}) |")
    print(f"| backend | {backend}, {os.cpu_count()} CPUs |")
    print(f"| `aidledger load`, whole process (median of {args.rounds}: "
          f"{', '.join(f'{t:.1f}' for t in times)} s) | {took:.1f} s, "
          f"{lines / took:,.0f} lines/s |")
    print(f"| {what} of {lines:,} event-sized rows, same run | {raw:,.0f} rows/s |")
    print(f"| ratio | {lines / took / raw:.3f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())

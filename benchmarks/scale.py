"""One month of a province, end to end, each figure beside a baseline from the same run.

    python -m benchmarks.scale --households 1000000 --db postgresql://postgres@127.0.0.1:5432/test

Generates one clean month (``api.sample_county.write_bulk_month``: households, enrolments, one
payroll and one bank-return line per household), then measures, in this order:

1. append: ``Ledger.record_file`` of the four files (events/s, end to end from parsed
   rows); then the same 300,000 stored events into empty tables shaped like the event
   table: the ledger's COPY recorder (one ``insert_event_stream``, as a file is written),
   beside raw PostgreSQL binary ``COPY`` (SQLite: the ledger's recorder inside the load
   beside ``executemany``), and the stock eventsourcing recorder (1,000 events per call);
2. projection: ``projections.facts.catch_up`` (events/s) beside a plain read of the
   notification log;
3. reconciliation: ``load_frames`` + ``reconciliation.runner.run`` beside a bare pandas
   merge of payroll and bank lines;
4. a household statement: ``GET /households/{id}`` through ``api.http.create_app`` (p50,
   p99) beside the indexed rm_facts lookup of the household's own rows;
5. peak memory (max RSS after each stage).

``--months K`` loads K-1 more months of payroll and bank lines for the same households
after the first (2025-04, 2025-05, …) before projecting: a million households and four
months are ten million events, the store the statement target speaks of.

A PostgreSQL URL without ``?schema=`` gets a fresh schema, dropped at the end (keep it
with ``--keep``). Why a script and not a test: these are measurements against the
hardware, not pass/fail checks; CI runs none of this.
"""

from __future__ import annotations

import argparse
import random
import resource
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PERIOD = "2025-03"
AS_OF = "2025-03-31"
BASELINE_EVENTS_MAX = 300_000  # stored events copied by each append baseline
STOCK_CALL_EVENTS = 1_000  # events per insert_events call of the stock recorder baseline
STATEMENT_REQUESTS = 300
LOG_PAGE = 10_000
TARGETS = {
    "load": "1,000,000 payroll lines + bank lines loaded in < 120 s (PostgreSQL)",
    "append": ">= 0.5 x raw COPY rate",
    "projection": ">= 50,000 events/s",
    "reconciliation": "< 60 s for the month",
    "statement": "p99 < 50 ms",
}


@dataclass
class Row:
    what: str
    measured: str
    baseline: str = ""
    ratio: str = ""
    note: str = ""


@dataclass
class Report:
    rows: list[Row] = field(default_factory=list)

    def add(self, *args: str) -> None:
        self.rows.append(Row(*args))
        print(f"  {args[0]}: {args[1]}" + (f"  (baseline {args[2]})" if len(args) > 2 else ""),
              file=sys.stderr, flush=True)

    def markdown(self) -> str:
        lines = ["| what | measured | baseline (same run) | ratio | note |",
                 "|---|---|---|---|---|"]
        lines += [f"| {r.what} | {r.measured} | {r.baseline} | {r.ratio} | {r.note} |"
                  for r in self.rows]
        return "\n".join(lines)


def rss_mb() -> float:
    """Peak resident set size of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def worker_rss_mb() -> float:
    """Peak resident set size of the largest worker process so far (the reconciliation
    forks its workers; pages they share with this process count in both)."""
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


@contextmanager
def timed() -> Iterator[list[float]]:
    box = [0.0]
    start = time.perf_counter()
    yield box
    box[0] = time.perf_counter() - start


def rate(n: int, seconds: float) -> str:
    return f"{n / seconds:,.0f}/s" if seconds > 0 else "n/a"


# --- 1. append ---------------------------------------------------------------------------

class RecorderClock:
    """Sums the time the ledger spends inside ``recorder.insert_events`` (instrumentation
    of a benchmark run only: wraps the bound method of this one recorder)."""

    def __init__(self, recorder: Any):
        self.seconds, self.events = 0.0, 0
        inner = recorder.insert_events

        def insert_events(stored: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return inner(stored, **kwargs)
            finally:
                self.seconds += time.perf_counter() - start
                self.events += len(stored)

        recorder.insert_events = insert_events


def load(store: Any, data: Path, report: Report) -> int:
    """Parse and record one file at a time (a million parsed rows are ~1.5 GB of dicts;
    ``aidledger load`` parses a whole folder first, to reject it whole)."""
    from api import files

    clock = RecorderClock(store.ledger.recorder)
    events = rows = 0
    parse_seconds = record_seconds = payroll_bank_seconds = 0.0
    for path in files.discover(data):
        with timed() as parsing:
            pf = files.parse_file(path)
        if pf.errors:
            raise RuntimeError(f"{path.name}: {pf.errors[:3]}")
        with timed() as took:
            outcome = store.ledger.record_file(
                kind=pf.kind, name=pf.name, sha256=pf.sha256, rows=pf.rows,
                row_numbers=pf.row_numbers, actor="benchmark")
        rows += len(pf.rows)
        del pf
        events += outcome.events
        parse_seconds += parsing[0]
        record_seconds += took[0]
        if outcome.kind in ("payroll", "bank_return"):
            payroll_bank_seconds += took[0] + parsing[0]
        print(f"    {outcome.name}: parsed in {parsing[0]:.1f} s, {outcome.events:,} events "
              f"recorded in {took[0]:.1f} s", file=sys.stderr, flush=True)
    report.add("parse: 4 files (rows/s)", f"{rate(rows, parse_seconds)} ({parse_seconds:.1f} s)")
    report.add("load: record_file, 4 files (events/s, end to end from parsed rows)",
               f"{rate(events, record_seconds)} ({events:,} events, {record_seconds:.1f} s)")
    report.add("load: payroll + bank-return files, parse + record (s)",
               f"{payroll_bank_seconds:.1f} s", "", "", TARGETS["load"])
    store.append_rate = clock.events / clock.seconds if clock.seconds else 0.0
    return events


def load_more_months(store: Any, data: Path, households: int, months: int,
                     report: Report) -> None:
    """Months 2..K: each month's payroll and bank-return files (generated once into
    ``<data>/month_<period>``), parsed and recorded like the first month's."""
    from api import files
    from api.sample_county import write_bulk_month

    events, seconds = 0, 0.0
    for offset in range(1, months):
        period = _period_after(PERIOD, offset)
        folder = data / f"month_{period}"
        if not (folder / f"payroll_{period}.csv").exists():
            write_bulk_month(folder, households=households, period=period)
        for path in (folder / f"payroll_{period}.csv", folder / f"bank_return_{period}.csv"):
            with timed() as took:
                pf = files.parse_file(path)
                outcome = store.ledger.record_file(
                    kind=pf.kind, name=pf.name, sha256=pf.sha256, rows=pf.rows,
                    row_numbers=pf.row_numbers, actor="benchmark")
                del pf
            events += outcome.events
            seconds += took[0]
            print(f"    {path.name}: {outcome.events:,} events parsed and recorded in "
                  f"{took[0]:.1f} s", file=sys.stderr, flush=True)
    report.add(f"load: months 2–{months}, payroll + bank-return files, parse + record "
               "(events/s)", f"{rate(events, seconds)} ({events:,} events, {seconds:.1f} s)")


def _period_after(period: str, months: int) -> str:
    year, month = map(int, period.split("-"))
    index = year * 12 + month - 1 + months
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def sample_stored_events(store: Any, limit: int) -> list[Any]:
    out: list[Any] = []
    start = 1
    while len(out) < limit:
        page = store.ledger.recorder.select_notifications(start, min(LOG_PAGE, limit - len(out)))
        if not page:
            break
        out.extend(page)
        start = page[-1].id + 1
    return out


def append_baselines(store: Any, report: Report) -> None:
    """Raw COPY / executemany of stored events of the same size, and the stock recorder."""
    sample = sample_stored_events(store, BASELINE_EVENTS_MAX)
    fresh = [(uuid.uuid4(), e.originator_version, e.topic, e.state) for e in sample]
    if store.config.backend == "postgres":
        raw = _raw_copy_rate(store, fresh)
        ours = _stock_recorder_rate(store, fresh, ledger=True)
        stock = _stock_recorder_rate(store, fresh)
        report.add(f"append: ledger recorder, one stream of {len(fresh):,} stored events "
                   "(COPY path)", f"{ours:,.0f}/s",
                   f"raw binary COPY {raw:,.0f}/s", f"{ours / raw:.2f}",
                   TARGETS["append"])
        report.add("append: stock eventsourcing recorder, 1,000 events per call",
                   f"{stock:,.0f}/s", f"raw binary COPY {raw:,.0f}/s", f"{stock / raw:.2f}",
                   "what the COPY recorder replaces")
    else:
        ours = store.append_rate  # the recorder's time inside the load (SQLite: one list)
        raw = _sqlite_executemany_rate(fresh)
        report.add("append: ledger recorder insert_events (SQLite, stock)", f"{ours:,.0f}/s",
                   f"executemany, one transaction {raw:,.0f}/s", f"{ours / raw:.2f}")


def _raw_copy_rate(store: Any, rows: list[tuple[Any, ...]]) -> float:
    import psycopg

    schema = f"bench_raw_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(store.config.conninfo, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
        try:
            conn.execute(f'CREATE TABLE "{schema}".events (originator_id uuid NOT NULL, '
                         "originator_version bigint NOT NULL, topic text, state bytea, "
                         "notification_id bigserial, "
                         "PRIMARY KEY (originator_id, originator_version))")
            conn.execute(f'CREATE UNIQUE INDEX ON "{schema}".events (notification_id)')
            with timed() as took, conn.transaction(), conn.cursor() as cur, cur.copy(
                    f'COPY "{schema}".events (originator_id, originator_version, topic, '
                    "state) FROM STDIN (FORMAT BINARY)") as copy:
                copy.set_types(["uuid", "int8", "text", "bytea"])
                for row in rows:
                    copy.write_row(row)
            return len(rows) / took[0]
        finally:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def _stock_recorder_rate(store: Any, rows: list[tuple[Any, ...]], *,
                         ledger: bool = False) -> float:
    """The stock eventsourcing recorder, 1,000 events per call; with ``ledger`` the
    ledger's COPY recorder, all rows in one ``insert_event_stream`` (as ``record_file``
    writes a file), into an empty events table of its own either way."""
    import psycopg
    from eventsourcing.persistence import StoredEvent
    from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore

    from projections.bulk_recorder import BulkPostgresApplicationRecorder

    config = store.config
    schema = f"bench_stock_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(config.conninfo, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    datastore = PostgresDatastore(dbname=config.dbname, host=config.host, port=config.port,
                                  user=config.user or "postgres", password=config.password,
                                  schema=schema)
    try:
        kind = BulkPostgresApplicationRecorder if ledger else PostgresApplicationRecorder
        recorder = kind(datastore, events_table_name="events")
        recorder.create_table()
        events = [StoredEvent(*row) for row in rows]
        with timed() as took:
            if ledger:
                recorder.insert_event_stream(iter(events))
            else:
                for start in range(0, len(events), STOCK_CALL_EVENTS):
                    recorder.insert_events(events[start:start + STOCK_CALL_EVENTS])
        return len(events) / took[0]
    finally:
        datastore.close()
        with psycopg.connect(config.conninfo, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def _sqlite_executemany_rate(rows: list[tuple[Any, ...]]) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        conn = sqlite3.connect(Path(tmp) / "raw.db", isolation_level=None)
        conn.execute("CREATE TABLE events (notification_id INTEGER PRIMARY KEY, "
                     "originator_id TEXT NOT NULL, originator_version INTEGER NOT NULL, "
                     "topic TEXT, state BLOB, UNIQUE (originator_id, originator_version))")
        with timed() as took:
            conn.execute("BEGIN")
            conn.executemany("INSERT INTO events (originator_id, originator_version, topic, "
                             "state) VALUES (?, ?, ?, ?)",
                             [(r[0].hex, r[1], r[2], r[3]) for r in rows])
            conn.execute("COMMIT")
        conn.close()
        return len(rows) / took[0]


# --- 2. projection -----------------------------------------------------------------------

def project(store: Any, report: Report) -> None:
    from projections import facts

    with timed() as read:
        count, start = 0, 1
        while True:
            page = store.ledger.recorder.select_notifications(start, LOG_PAGE)
            if not page:
                break
            count += len(page)
            start = page[-1].id + 1
    with timed() as took:
        done = facts.catch_up(store.ledger, store.db)
    report.add("projection: facts.catch_up (events/s)", f"{rate(done, took[0])} "
               f"({done:,} events, {took[0]:.1f} s)",
               f"plain read of the notification log {rate(count, read[0])}",
               f"{(done / took[0]) / (count / read[0]):.2f}", TARGETS["projection"])


# --- 3. reconciliation -------------------------------------------------------------------

def reconcile(store: Any, report: Report) -> None:
    import pandas as pd

    from projections.frames import load_frames
    from reconciliation import runner

    with timed() as loading:
        frames = load_frames(store.db)
    with timed() as running:
        findings, leads = runner.run(frames, {}, AS_OF)
    with timed() as merging:
        merged = pd.merge(frames.payroll, frames.bank_return, on=["batch_id", "line_no"],
                          how="outer", suffixes=("_payroll", "_bank"), indicator=True)
    report.add("reconciliation: load_frames (s)", f"{loading[0]:.1f} s", "", "",
               f"{len(frames.payroll):,} payroll lines")
    report.add("reconciliation: runner.run, all rules and screens (s)", f"{running[0]:.1f} s",
               f"bare pandas merge of payroll and bank {merging[0]:.2f} s",
               f"{running[0] / merging[0]:.0f}x" if merging[0] else "",
               f"{len(findings):,} findings, {len(leads):,} leads, {len(merged):,} merged; "
               + TARGETS["reconciliation"] + " (load + run)")


# --- 4. household statement --------------------------------------------------------------

def statement_latency(url: str, store: Any, households: int, requests: int,
                      report: Report) -> None:
    from fastapi.testclient import TestClient

    from api.http import create_app
    from api.users import add_user, issue_token
    from domain.errors import Conflict

    try:
        token = add_user(store, "bench_finance", "finance", None, actor="benchmark")
    except Conflict:  # a store measured before: the user exists
        token = issue_token(store, "bench_finance", actor="benchmark")
    rng = random.Random(11)
    ids = [f"QX{rng.randrange(households) + 1:07d}" for _ in range(requests)]
    times: list[float] = []
    with TestClient(create_app(url)) as client:
        headers = {"Authorization": f"Bearer {token}"}
        client.get(f"/households/{ids[0]}", headers=headers)  # warm up (and catch up)
        for household_id in ids:
            with timed() as took:
                response = client.get(f"/households/{household_id}", headers=headers)
            if response.status_code != 200:
                raise RuntimeError(f"GET /households/{household_id}: {response.status_code} "
                                   f"{response.text[:200]}")
            times.append(took[0])
    base = _lookup_times(store, ids)
    report.add("statement: GET /households/{id}, TestClient (p50 / p99 ms)",
               f"{_ms(times, 50)} / {_ms(times, 99)}",
               f"indexed rm_facts lookup of the household row {_ms(base, 50)} / {_ms(base, 99)}",
               "", TARGETS["statement"])


def _lookup_times(store: Any, ids: list[str]) -> list[float]:
    out = []
    for household_id in ids:
        with timed() as took:
            store.db.query("SELECT fields FROM rm_facts WHERE kind=? AND key=? "
                           "ORDER BY notification_id", ["households", household_id])
        out.append(took[0])
    return out


def _ms(times: list[float], percentile: int) -> str:
    if len(times) < 2:
        return "n/a"
    cut = statistics.quantiles(times, n=100, method="inclusive")
    value = statistics.median(times) if percentile == 50 else cut[percentile - 1]
    return f"{value * 1000:.1f}"


# --- driver -------------------------------------------------------------------------------

def fresh_url(url: str) -> tuple[str, str | None]:
    """The URL to use and the schema to drop afterwards (PostgreSQL without ?schema=)."""
    if url.startswith("postgres") and "schema=" not in url:
        schema = f"bench_{uuid.uuid4().hex[:8]}"
        return f"{url}{'&' if '?' in url else '?'}schema={schema}", schema
    return url, None


def drop_schema(url: str, schema: str) -> None:
    import psycopg

    from api.wiring import parse_db_url

    with psycopg.connect(parse_db_url(url).conninfo, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def stage(report: Report, name: str, work: Callable[[], Any]) -> Any:
    print(f"{name} …", file=sys.stderr, flush=True)
    result = work()
    workers = worker_rss_mb()
    report.add(f"peak memory after {name} (max RSS)", f"{rss_mb():,.0f} MB"
               + (f"; largest worker {workers:,.0f} MB" if workers else ""))
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--households", type=int, required=True)
    parser.add_argument("--db", required=True, help="sqlite:///FILE or postgresql://…")
    parser.add_argument("--data", type=Path, help="folder for the generated month (reused)")
    parser.add_argument("--keep", action="store_true", help="keep the fresh schema")
    parser.add_argument("--requests", type=int, default=STATEMENT_REQUESTS,
                        help="household statements to time")
    parser.add_argument("--months", type=int, default=1,
                        help="months of payroll and bank lines to load (the first with "
                             "households and enrolments)")
    parser.add_argument("--skip", nargs="*", default=[],
                        choices=["baselines", "reconciliation", "statement"])
    parser.add_argument("--loaded", action="store_true",
                        help="the store at --db (a kept ?schema=) already holds the month, "
                             "loaded and projected: measure only the later stages")
    args = parser.parse_args(argv)

    from api.sample_county import write_bulk_month
    from api.wiring import Store

    url, schema = fresh_url(args.db)
    report = Report()
    if args.loaded and schema:
        parser.error("--loaded needs the kept store's ?schema=")
    data = args.data or Path(tempfile.gettempdir()) / f"aidledger_month_{args.households}"
    if not args.loaded and not (data / "households.csv").exists():
        stage(report, "generate", lambda: write_bulk_month(data, households=args.households,
                                                           period=PERIOD))
    store = Store(url)
    try:
        if not args.loaded:
            stage(report, "load", lambda: load(store, data, report))
        if args.months > 1 and not args.loaded:
            stage(report, "more months", lambda: load_more_months(
                store, data, args.households, args.months, report))
        if "baselines" not in args.skip and not args.loaded:
            stage(report, "append baselines", lambda: append_baselines(store, report))
        if not args.loaded:
            stage(report, "projection", lambda: project(store, report))
        if "reconciliation" not in args.skip:
            stage(report, "reconciliation", lambda: reconcile(store, report))
        if "statement" not in args.skip:
            stage(report, "statement",
                  lambda: statement_latency(url, store, args.households, args.requests,
                                            report))
    finally:
        store.close()
        if schema and not args.keep:
            drop_schema(url, schema)
    print(f"\n{args.households:,} households, {args.db.split('?')[0].split('@')[-1]}\n")
    print(report.markdown())
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""What tamper evidence costs: chaining at write time, checksumming the read models.

Run: ``python -m benchmarks.chain_cost --households 20000 --db URL [--rounds 2]``.

A generated county (``api.sample_county.generate_county``: households, enrolments, three months
of payroll and bank lines, reserve, assets …) is loaded with ``api.loader.load_directory``
(parse, check, record every file, project), once with the chaining recorders and once
with the chain replaced by a no-op (``NullExtension``: same transactions, same tip read,
no hashing and no chain rows), into fresh stores, alternately, ``--rounds`` times each;
the cost is the difference of the medians. Then ``project --rebuild`` of the same store
(``facts.drop`` + ``facts.catch_up``) with the running checksums and with ``proof.fold``
replaced by a no-op, alternately likewise, and one ``verify`` for scale. Both baselines
run the very code that ships, minus the one step measured.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from benchmarks.scale import drop_schema, fresh_url
from projections import chain, proof


class NullExtension(chain.Extension):
    """The chain of an append, not computed: the tip only follows the notification ids."""

    def add(self, originator_id: Any, originator_version: int, topic: str,
            state: bytes) -> None:
        return None

    def rows(self, ids: Sequence[int]) -> list[tuple[Any, ...]]:
        if ids:
            self.tip.notification_id = int(ids[-1])
        return []


@contextmanager
def replaced(owner: Any, name: str, value: Any) -> Iterator[None]:
    original = getattr(owner, name)
    setattr(owner, name, value)
    try:
        yield
    finally:
        setattr(owner, name, original)


def timed(work: Callable[[], Any]) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def store_url(base: str, directory: Path, label: str) -> tuple[str, str | None]:
    if base.startswith("sqlite"):
        return f"sqlite:///{directory / f'{label}.db'}", None
    return fresh_url(base)


def load_once(base: str, county: Path, directory: Path, label: str,
              chained: bool) -> tuple[float, float]:
    """(load seconds, of which in the chain's code)."""
    from api.loader import load_directory
    from api.wiring import Store

    url, schema = store_url(base, directory, label)
    try:
        with Store(url) as store:
            if chained:
                clock = ChainClock()
                with clock.running():
                    seconds = timed(lambda: load_directory(store, county))
                return seconds, clock.seconds
            with replaced(chain, "Extension", NullExtension):
                return timed(lambda: load_directory(store, county)), 0.0
    finally:
        if schema:
            drop_schema(url, schema)


class ChainClock:
    """Seconds spent in the chain's own code during a real load: hashing each event as it
    is appended (``Extension.add``) and writing the chain rows and tip (the SQLite
    recorder's ``extend_chain``, the PostgreSQL recorder's tip read and ``write``)."""

    def __init__(self) -> None:
        self.seconds = 0.0

    @contextmanager
    def running(self) -> Iterator[None]:
        from projections import bulk_recorder, sqlite_recorder

        clock = self

        class TimedExtension(chain.Extension):
            def add(self, *args: Any) -> None:
                started = time.perf_counter()
                super().add(*args)
                clock.seconds += time.perf_counter() - started

        def timed_call(function: Callable[..., Any]) -> Callable[..., Any]:
            def call(*args: Any, **kwargs: Any) -> Any:
                started = time.perf_counter()
                try:
                    return function(*args, **kwargs)
                finally:
                    clock.seconds += time.perf_counter() - started
            return call

        sql = bulk_recorder._ChainSql  # the benchmark times the recorder's own steps
        with replaced(chain, "Extension", TimedExtension), \
                replaced(sqlite_recorder, "extend_chain",
                         self._untimed_adds(timed_call(sqlite_recorder.extend_chain))), \
                replaced(sql, "write", timed_call(sql.write)), \
                replaced(sql, "read_tip", timed_call(sql.read_tip)):
            yield

    def _untimed_adds(self, extend: Callable[..., Any]) -> Callable[..., Any]:
        """SQLite's extend_chain already contains its adds: do not count them twice."""
        def call(*args: Any, **kwargs: Any) -> None:
            with replaced(chain, "Extension", _PLAIN_EXTENSION):
                extend(*args, **kwargs)
        return call


_PLAIN_EXTENSION = chain.Extension


def rebuild_once(store: Any, checksums: bool) -> float:
    from projections import facts

    def rebuild() -> None:
        facts.drop(store.db)
        facts.catch_up(store.ledger, store.db)

    if checksums:
        return timed(rebuild)
    with replaced(proof, "fold", lambda db, table, rows: None):
        return timed(rebuild)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--households", type=int, default=20_000)
    parser.add_argument("--db", required=True, help="sqlite:///ANY (a folder is used) or "
                                                    "postgresql://… (fresh schemas)")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--data", type=Path, help="folder for the generated county (reused)")
    args = parser.parse_args(argv)

    from api.sample_county import generate_county
    from api.wiring import Store
    from projections import audit, integrity

    county = args.data or Path(tempfile.gettempdir()) / f"aidledger_county_{args.households}"
    if not (county / "households.csv").exists():
        print(f"generating {county} …", file=sys.stderr, flush=True)
        generate_county(county, households=args.households)
    work = Path(tempfile.mkdtemp(prefix="chain_cost_"))
    loads: dict[bool, list[float]] = {True: [], False: []}
    shares: list[float] = []
    for n in range(args.rounds):
        for chained in ((False, True) if n % 2 == 0 else (True, False)):
            label = f"{'chained' if chained else 'plain'}_{n}"
            seconds, in_chain = load_once(args.db, county, work, label, chained)
            loads[chained].append(seconds)
            if chained:
                shares.append(in_chain / seconds)
            print(f"load {label}: {seconds:.1f} s ({in_chain:.2f} s in the chain)",
                  file=sys.stderr, flush=True)
    url, schema = store_url(args.db, work, "rebuild")
    rebuilds: dict[bool, list[float]] = {True: [], False: []}
    try:
        with Store(url) as store:
            from api.loader import load_directory

            load_directory(store, county)
            events = integrity.digest(store).position
            for n in range(args.rounds):
                for checksums in ((False, True) if n % 2 == 0 else (True, False)):
                    rebuilds[checksums].append(rebuild_once(store, checksums))
            verify_seconds = timed(lambda: audit.verify(store))
    finally:
        if schema:
            drop_schema(url, schema)
    report(args, events, loads, rebuilds, verify_seconds, shares)
    return 0


def report(args: argparse.Namespace, events: int, loads: dict[bool, list[float]],
           rebuilds: dict[bool, list[float]], verify_seconds: float,
           shares: list[float]) -> None:
    plain, chained = statistics.median(loads[False]), statistics.median(loads[True])
    bare, summed = statistics.median(rebuilds[False]), statistics.median(rebuilds[True])
    backend = "PostgreSQL" if args.db.startswith("postgres") else "SQLite"
    print(f"## {backend}, {args.households:,} households, {events:,} events, "
          f"{args.rounds} rounds (medians)\n")
    print("| what | without | with | cost |")
    print("|---|---|---|---|")
    print(f"| load (parse, check, record, project) | {plain:.1f} s | {chained:.1f} s | "
          f"{(chained - plain) / plain:+.1%} |")
    print(f"| project --rebuild | {bare:.1f} s | {summed:.1f} s | {(summed - bare) / bare:+.1%} |")
    print(f"| of a chained load, time inside the chain's code | | | "
          f"{statistics.median(shares):.1%} (runs: {', '.join(f'{x:.1%}' for x in shares)}) |")
    print(f"| verify (log, chain, read models recomputed) | | {verify_seconds:.1f} s | |")
    print(f"\nloads without chain: {', '.join(f'{s:.1f}' for s in loads[False])} s; with: "
          f"{', '.join(f'{s:.1f}' for s in loads[True])} s")
    print(f"rebuilds without checksums: {', '.join(f'{s:.1f}' for s in rebuilds[False])} s; "
          f"with: {', '.join(f'{s:.1f}' for s in rebuilds[True])} s")


if __name__ == "__main__":
    sys.exit(main())

"""``--counties FILE``: ``load``, ``report`` and ``reconcile`` across county stores.

The registry file (``reconciliation.counties.load_registry``) names each county's store;
each county keeps its own store and is opened one at a time here (pandas engine) or on
a Dask worker (``--engine dask``). Multi-county findings are written to files only: each
county's ledger keeps the findings of its own ``reconcile`` (with unprefixed ids), and a
province-wide run must not mark those as no longer holding.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

from api.command_io import CLI_ACTOR, open_store, write_csv
from domain.errors import DomainError
from reconciliation.common import Frames
from reconciliation.counties import County, load_registry, prefixed

ENGINE_PANDAS, ENGINE_DASK = "pandas", "dask"
ENGINES = (ENGINE_PANDAS, ENGINE_DASK)
COUNTY_COLUMN = "county"


def _store_args(url: str) -> argparse.Namespace:
    return argparse.Namespace(db=url)


def county_frames(county: County) -> Frames:
    """The county's frames, ids prefixed with its code. Runs where the county's store
    is reachable (a Dask worker next to its database, or this process)."""
    from projections import facts
    from projections.approvals import adjustments_frame
    from projections.frames import load_frames

    with open_store(_store_args(county.url)) as store:
        facts.catch_up(store.ledger, store.db)
        frames = load_frames(store.db)
        frames.adjustments = adjustments_frame(store.ledger)
    return prefixed(frames, county.code)


# -- load ---------------------------------------------------------------------------
def load_counties(args: argparse.Namespace) -> int:
    """DIR holds one subfolder per county code; each loads into its county's store."""
    from api.loader import load_directory

    counties = load_registry(args.counties)
    directory: Path = args.directory
    if not directory.is_dir():
        raise DomainError(f"{directory}: not a directory")
    folders = {p.name: p for p in directory.iterdir() if p.is_dir()}
    unknown = sorted(set(folders) - {c.code for c in counties})
    if unknown:
        raise DomainError(f"{directory}: subfolders {', '.join(unknown)} are not counties of "
                          f"{args.counties}; nothing was loaded")
    for county in counties:
        if county.code not in folders:
            print(f"{county.code}: no folder {directory / county.code}, skipped")
            continue
        _make_sqlite_folder(county.url)
        with open_store(_store_args(county.url), create=True) as store:
            report = load_directory(store, folders[county.code], actor=CLI_ACTOR)
        print(f"{county.code}: loaded {folders[county.code]}")
        for line in report.lines():
            print(f"  {line}")
    return 0


def _make_sqlite_folder(url: str) -> None:
    """A first load creates the county's SQLite file, and so its folder."""
    from api.wiring import parse_db_url

    config = parse_db_url(url)
    if config.backend == "sqlite":
        Path(config.sqlite_path).parent.mkdir(parents=True, exist_ok=True)


# -- report -------------------------------------------------------------------------
def report_counties(args: argparse.Namespace) -> int:
    """One balances table for every county, with a leading ``county`` column."""
    from projections import balances, facts
    from projections.frames import load_frames

    tables = []
    for county in load_registry(args.counties):
        with open_store(_store_args(county.url)) as store:
            facts.catch_up(store.ledger, store.db)
            frames = load_frames(store.db, known_at=args.known_at)
        table = balances.report(frames, args.by, args.as_of)
        table.insert(0, COUNTY_COLUMN, county.code)
        tables.append(table)
    table = pd.concat(tables, ignore_index=True)
    write_csv(table, args.out, money=balances.MONEY_COLUMNS)
    if args.xlsx:
        from api.excel import write_balances_xlsx

        write_balances_xlsx(table, args.by, args.xlsx)
    print(f"balances by {args.by} as of {args.as_of}, {len(tables)} counties: "
          f"{len(table)} rows -> {args.out}")
    return 0


# -- reconcile ----------------------------------------------------------------------
def reconcile_counties(args: argparse.Namespace) -> int:
    """Every county's checks and the cross-county checks, on pandas or on Dask."""
    from api import findings_files
    from reconciliation.policy import load_policy

    engine = getattr(args, "engine", None) or ENGINE_PANDAS
    if not args.counties:
        raise DomainError("--engine dask and --scheduler run over county stores: "
                          "give --counties FILE")
    if getattr(args, "scheduler", None) and engine != ENGINE_DASK:
        raise DomainError("--scheduler is for --engine dask")
    counties = load_registry(args.counties)
    policy = load_policy(args.policy)
    findings, leads = reconcile_findings(counties, policy, args.as_of, engine,
                                         getattr(args, "scheduler", None))
    # The county frames stay where each county is (a Dask worker): the evidence file
    # lists every token, without pairing an event with its file row.
    findings_files.write_findings_csv(findings, args.out)
    leads_path = findings_files.leads_path(args.out)
    findings_files.write_findings_csv(leads, leads_path)
    if args.xlsx is not None:
        findings_files.write_findings_xlsx(findings, leads, args.xlsx, findings_csv=args.out)
    print(f"reconciled {len(counties)} counties ({engine}) as of {args.as_of}: "
          f"{len(findings)} findings -> {args.out}")
    for line in findings_files.summary_lines(findings, leads):
        print(line)
    print(f"统计线索 -> {leads_path}")
    print("ledgers: not written (a multi-county run writes files only)")
    return 0


def reconcile_findings(counties: list[County], policy: dict[str, dict], as_of: str,
                       engine: str = ENGINE_PANDAS, scheduler: str | None = None,
                       ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(findings, leads) over the counties with the engine named."""
    if engine == ENGINE_DASK:
        from reconciliation.dask_engine import reconcile_dask

        return reconcile_dask(counties, county_frames, policy, as_of, scheduler=scheduler,
                              progress=_progress)
    from reconciliation.counties import reconcile_pandas

    frames = {county.code: county_frames(county) for county in counties}
    return reconcile_pandas(frames, policy, as_of, progress=_progress)


def _progress(message: str) -> None:
    if sys.stderr.isatty():
        print(f"  {message}", file=sys.stderr)

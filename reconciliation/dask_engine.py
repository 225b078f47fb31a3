"""Reconciliation of many county stores on Dask (``dask.distributed``).

Why: a province does not fit in one pandas frame, and its stores stay in the counties.
So the checks go to the data: one task per county opens that county's store where it
lives and runs the rule modules there; only what a cross-county check needs moves.
The rule modules are the same ones the pandas engine (``reconciliation.counties``) runs:
this module only decides where rows go, never what is a finding.

Stages, all Dask tasks driven from the client:

1. **load** — per county, open the store (on the county's worker when the registry
   names one), bring its read model up to date, build its prefixed frames. The frames
   stay in that worker's memory; later tasks of the county run next to them.
2. **census** — per county, the 64-bit hashes of the keys it holds: head IDs, bank
   accounts, its people's IDs (heads, payees) and the IDs in its registers (deaths,
   officials, holdings). A ``dask.bag`` groupby (tasks shuffle) on the hash gives the
   keys seen in two counties or more, and for each register row another county's people
   match, its route (source county -> destination county). Only hashes and county codes
   move, and only the crossing ones reach the client.
3. **references** — each county sends the register rows that match another county's
   people (a death, an official or relative, a vehicle or business) to that county.
4. **local** — per county, every rule and screen module (``runner.run``) on its frames
   plus the rows sent to it: the county-local codes, and E01/E05/E08 against every
   county's registers (for a county's own households these are then complete).
5. **keyed** — the rows of crossing keys only, needed columns only, shuffled by
   ``dask.bag`` groupby (tasks): by head ID (households, enrolments, payroll and bank
   lines; E02, and P05 across counties) and by bank account (payroll and bank lines;
   E06). Each partition runs the same modules; a finding whose evidence comes from two
   counties or more replaces the local finding of the same subject (it saw every county's
   rows of its key, so it is complete); local findings of keys that never cross stand.
"""

from __future__ import annotations

import dataclasses
import os
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import dask
import dask.bag as db
import numpy as np
import pandas as pd

from domain.catalogue import matched_id_columns
from projections.tables import frame_names
from reconciliation import rules, runner
from reconciliation.common import ADJUSTMENT_COLUMNS, Frames, frame_of, text
from reconciliation.counties import (
    County,
    across_counties,
    in_order,
    p05_across,
    with_cross,
)
from reconciliation.payments import LINE_KEY, normalised_ids

ROLE_HEAD, ROLE_ACCOUNT, ROLE_CLAIM, ROLE_REFERENCE = "head", "account", "claim", "reference"
COUNTIES_MIN_ACROSS = 2
WORKERS_MAX_LOCAL = 8  # a local cluster: at most this many worker processes
DASHBOARD_ANY_PORT = ":0"  # a local cluster's HTTP endpoint on a free port, never 8787
# Register rows a county's people may match in another county, by their ID columns.
REFERENCE_KINDS: dict[str, tuple[str, ...]] = matched_id_columns()
PAYROLL_COLUMNS = ["batch_id", "line_no", "program", "period", "household_id", "amount_fen",
                   "evidence_event", "evidence_row"]
BANK_COLUMNS = ["batch_id", "line_no", "amount_fen", "status", "value_date",
                "evidence_event", "evidence_row"]
# Only these columns cross the network in the keyed shuffles.
HEAD_COLUMNS: dict[str, list[str]] = {
    "households": ["household_id", "head_id_number", "evidence_event", "evidence_row"],
    "enrolments": ["household_id", "program", "start_period", "exit_period",
                   "gradual_exit_until", "evidence_event", "evidence_row"],
    "payroll": PAYROLL_COLUMNS,
    "bank_return": BANK_COLUMNS,
}
ACCOUNT_COLUMNS: dict[str, list[str]] = {
    "payroll": PAYROLL_COLUMNS,
    "bank_return": BANK_COLUMNS + ["account_holder", "bank_account"],
}
# The codes each keyed shuffle runs: those that cross by head ID / by bank account.
HEAD_CODES = [r.code for r in rules.finding_rules() if r.crossing == "head_id"]
ACCOUNT_CODES = [r.code for r in rules.finding_rules() if r.crossing == "bank_account"]

Progress = Callable[[str], None]
LoadFrames = Callable[[County], Frames]


@dataclasses.dataclass
class Crossing:
    """What the census found: hashes of head IDs and accounts in two counties or more,
    and the routes of register rows (key_hash, source, dest)."""

    heads: np.ndarray
    accounts: np.ndarray
    routes: pd.DataFrame


# ---------------------------------------------------------------- the engine


def reconcile_dask(counties: Sequence[County], load: LoadFrames, policy: Mapping[str, dict],
                   as_of: str, *, scheduler: str | None = None, client: Any = None,
                   partitions: int | None = None, progress: Progress | None = None,
                   ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(findings, leads) over every county, equal to ``counties.reconcile_pandas`` on
    the same data. ``load(county)`` runs on a worker and returns the county's prefixed
    frames. Uses ``client`` if given, else connects to ``scheduler``
    (``tcp://host:8786``), else starts a local cluster for the run."""
    if client is not None:
        return _reconcile(client, counties, load, dict(policy), as_of, partitions, progress)
    with dask_client(scheduler, len(counties)) as own:
        return _reconcile(own, counties, load, dict(policy), as_of, partitions, progress)


@contextmanager
def dask_client(scheduler: str | None, counties: int) -> Iterator[Any]:
    """A client of the given scheduler, or of a local cluster of worker processes (one
    thread each: the rules are pandas, which holds the GIL)."""
    from distributed import Client, LocalCluster

    if scheduler:
        with Client(scheduler) as client:
            yield client
        return
    workers = max(1, min(counties, os.cpu_count() or 1, WORKERS_MAX_LOCAL))
    with (LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                       dashboard_address=DASHBOARD_ANY_PORT) as cluster,
          Client(cluster) as client):
        yield client


def _reconcile(client: Any, counties: Sequence[County], load: LoadFrames,
               policy: dict[str, dict], as_of: str, partitions: int | None,
               progress: Progress | None) -> tuple[pd.DataFrame, pd.DataFrame]:
    parts = partitions or max(1, len(counties))
    run = uuid.uuid4().hex[:12]  # task keys of this run only: a client may run many
    places = {c.code: _placement(c) for c in counties}
    frames = {c.code: client.submit(load, c, key=f"frames-{c.code}-{run}", pure=False,
                                    **places[c.code])
              for c in counties}
    crossing = _census(client, frames, places, parts)
    _tell(progress, f"census: {len(crossing.heads)} head IDs and {len(crossing.accounts)} "
                    f"accounts in two counties or more, {len(crossing.routes)} register "
                    f"rows wanted by another county")
    local = _local(client, frames, places, crossing.routes, policy, as_of, run)
    keyed = client.compute(_keyed(client, frames, places, crossing, parts, policy, as_of))
    frames.clear()  # each county's frames are freed once its last task has run
    results = client.gather(list(local.values()))
    cross = keyed.result()
    findings = with_cross(in_order(r[0] for r in results), in_order(cross))
    _tell(progress, f"{len(counties)} counties: {len(findings)} findings, "
                    f"{sum(across_counties(findings)) if len(findings) else 0} across counties")
    return findings, in_order(r[1] for r in results)


def _census(client: Any, frames: Mapping[str, Any], places: Mapping[str, dict],
            parts: int) -> Crossing:
    items = _bag([client.submit(census_items, f, code, parts, pure=False, **places[code])
                  for code, f in frames.items()])
    grouped = items.groupby(_first, shuffle="tasks", npartitions=parts).map(crossing_of)
    found = client.compute(grouped).result()
    return Crossing(
        heads=np.concatenate([f.heads for f in found] + [_no_hashes()]),
        accounts=np.concatenate([f.accounts for f in found] + [_no_hashes()]),
        routes=pd.concat([f.routes for f in found] + [_no_routes()], ignore_index=True))


def _placement(county: County) -> dict[str, Any]:
    """Pin a county's tasks to the worker next to its database, if the registry names
    one: its frames are then never moved (no work stealing either)."""
    return {"workers": [county.worker], "allow_other_workers": False} if county.worker else {}


def _bag(futures: list[Any]) -> db.Bag:
    """A bag whose partitions are the (county-placed) futures' lists."""
    return db.from_delayed([dask.delayed(f) for f in futures])


def _local(client: Any, frames: Mapping[str, Any], places: Mapping[str, dict],
           routes: pd.DataFrame, policy: dict[str, dict], as_of: str,
           run: str) -> dict[str, Any]:
    exports = {str(source): client.submit(reference_exports, frames[str(source)], rows,
                                          pure=False, **places[str(source)])
               for source, rows in routes.groupby("source")}
    local = {}
    for code, county_frames in frames.items():
        sources = routes.loc[routes["dest"] == code, "source"].unique()
        imports = [client.submit(pick, exports[s], code, pure=False, **places[s])
                   for s in sources]
        local[code] = client.submit(run_county, county_frames, policy, as_of, *imports,
                                    key=f"local-{code}-{run}", pure=False, **places[code])
    return local


def _keyed(client: Any, frames: Mapping[str, Any], places: Mapping[str, dict],
           crossing: Crossing, parts: int, policy: dict[str, dict], as_of: str) -> Any:
    heads, accounts = client.scatter([crossing.heads, crossing.accounts], broadcast=True)
    items = _bag([client.submit(keyed_items, f, heads, accounts, parts, pure=False,
                                **places[code]) for code, f in frames.items()])
    grouped = items.groupby(_first, shuffle="tasks", npartitions=max(1, 2 * parts))
    return grouped.map(run_group, policy, as_of, parts)


# ---------------------------------------------------------------- tasks (run on workers)


def census_items(frames: Frames, code: str, parts: int) -> list[tuple[int, pd.DataFrame]]:
    """(partition, [role, key_hash, county]) of every key this county holds, distinct."""
    households, payroll = frames.households, frames.payroll
    heads = normalised_ids(households["head_id_number"])
    keyed = [(ROLE_HEAD, heads), (ROLE_ACCOUNT, text(frames.bank_return["bank_account"])),
             (ROLE_CLAIM, heads), (ROLE_CLAIM, normalised_ids(payroll["payee_id_number"]))]
    keyed += [(ROLE_REFERENCE, normalised_ids(getattr(frames, kind)[column]))
              for kind, columns in REFERENCE_KINDS.items() for column in columns]
    table = pd.concat([pd.DataFrame({"role": role, "key": values.to_numpy(dtype=object)})
                       for role, values in keyed], ignore_index=True)
    table = table[table["key"] != ""].drop_duplicates()
    table = pd.DataFrame({"role": table["role"].to_numpy(dtype=object),
                          "key_hash": key_hashes(table["key"]), "county": code})
    return _split(table, table["key_hash"].to_numpy() % np.uint64(parts))


def crossing_of(group: tuple[int, list[tuple[int, pd.DataFrame]]]) -> Crossing:
    """One census partition: keys in two counties or more, routes of register rows."""
    table = pd.concat([chunk for _, chunk in group[1]], ignore_index=True)
    claims = table.loc[table["role"] == ROLE_CLAIM, ["key_hash", "county"]]
    references = table.loc[table["role"] == ROLE_REFERENCE, ["key_hash", "county"]]
    routes = references.rename(columns={"county": "source"}).merge(
        claims.rename(columns={"county": "dest"}), on="key_hash")
    routes = routes[routes["source"] != routes["dest"]].drop_duplicates()
    return Crossing(heads=_spread(table, ROLE_HEAD), accounts=_spread(table, ROLE_ACCOUNT),
                    routes=routes[["key_hash", "source", "dest"]].reset_index(drop=True))


def reference_exports(frames: Frames, routes: pd.DataFrame) -> dict[str, dict[str, pd.DataFrame]]:
    """Per destination county, this county's register rows its people match."""
    hashed = {kind: [key_hashes(normalised_ids(getattr(frames, kind)[c])) for c in columns]
              for kind, columns in REFERENCE_KINDS.items()}
    out = {}
    for dest, rows in routes.groupby("dest"):
        wanted = rows["key_hash"].to_numpy()
        out[str(dest)] = {
            kind: getattr(frames, kind)[np.logical_or.reduce(
                [np.isin(h, wanted) for h in hashed[kind]])]
            for kind in REFERENCE_KINDS}
    return out


def pick(exports: Mapping[str, dict[str, pd.DataFrame]], dest: str) -> dict[str, pd.DataFrame]:
    return dict(exports.get(dest, {}))


def run_county(frames: Frames, policy: dict[str, dict], as_of: str,
               *imports: Mapping[str, pd.DataFrame]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every module on one county's frames plus the register rows other counties sent."""
    added = {kind: pd.concat([getattr(frames, kind)] + [i[kind] for i in imports if kind in i],
                             ignore_index=True)
             for kind in REFERENCE_KINDS if any(kind in i for i in imports)}
    return runner.run(frames.replace(**added), policy, as_of, jobs=1)


def keyed_items(frames: Frames, heads: np.ndarray, accounts: np.ndarray,
                parts: int) -> list[tuple[int, str, pd.DataFrame]]:
    """(group, kind, rows) of this county's rows of crossing keys, needed columns only:
    groups 0..parts-1 by head ID, parts..2·parts-1 by bank account."""
    return _by_head(frames, heads, parts) + _by_account(frames, accounts, parts)


def run_group(group: tuple[int, list[tuple[int, str, pd.DataFrame]]],
              policy: dict[str, dict], as_of: str, parts: int) -> pd.DataFrame:
    """One key partition: the same modules, findings of two counties or more only."""
    number, items = group
    frames = partition_frames(items)
    codes = HEAD_CODES if number < parts else ACCOUNT_CODES
    found, _ = runner.run(frames, policy, as_of, codes=codes, jobs=1)
    found = found[across_counties(found)] if not found.empty else found
    if number >= parts:
        return found
    return in_order([found, p05_across(frames, policy, as_of)])


# ---------------------------------------------------------------- helpers


def key_hashes(values: pd.Series) -> np.ndarray:
    """64-bit hashes of keys, the same in every process (pandas' fixed hash key)."""
    return pd.util.hash_array(np.asarray(text(values), dtype=object))


def _first(item: tuple) -> int:
    return int(item[0])


def _spread(table: pd.DataFrame, role: str) -> np.ndarray:
    rows = table[table["role"] == role]
    counties = rows.groupby("key_hash")["county"].nunique()
    return counties.index[counties >= COUNTIES_MIN_ACROSS].to_numpy(dtype="uint64")


def _split(table: pd.DataFrame, parts: np.ndarray) -> list[tuple[int, pd.DataFrame]]:
    return [(int(part), chunk) for part, chunk in table.groupby(parts, sort=True)]


def _no_hashes() -> np.ndarray:
    return np.array([], dtype="uint64")


def _no_routes() -> pd.DataFrame:
    return pd.DataFrame({"key_hash": _no_hashes(), "source": [], "dest": []})


def _by_head(frames: Frames, heads: np.ndarray, parts: int) -> list[tuple[int, str, pd.DataFrame]]:
    households = frames.households
    head_ids = normalised_ids(households["head_id_number"])
    hashes = key_hashes(head_ids)
    chosen = ((head_ids != "").to_numpy()) & np.isin(hashes, heads)
    part = pd.Series((hashes[chosen] % np.uint64(parts)).astype("int64"),
                     index=households["household_id"].to_numpy(dtype=object)[chosen])
    part = part[~part.index.duplicated()]
    payroll = frames.payroll[frames.payroll["household_id"].isin(part.index)]
    rows = {
        "households": (households[chosen], (hashes[chosen] % np.uint64(parts)).astype("int64")),
        "enrolments": _with_part(frames.enrolments, part),
        "payroll": _with_part(payroll, part),
        "bank_return": _bank_part(frames.bank_return, payroll, payroll["household_id"].map(part)),
    }
    return _items(rows, HEAD_COLUMNS, offset=0)


def _by_account(frames: Frames, accounts: np.ndarray, parts: int,
                ) -> list[tuple[int, str, pd.DataFrame]]:
    bank = frames.bank_return
    account = text(bank["bank_account"])
    hashes = key_hashes(account)
    chosen = (account != "").to_numpy() & np.isin(hashes, accounts)
    bank = bank[chosen]
    part = (hashes[chosen] % np.uint64(parts)).astype("int64")
    lines = pd.DataFrame({"batch_id": bank["batch_id"].to_numpy(dtype=object),
                          "line_no": bank["line_no"].to_numpy(dtype=object), "part": part})
    payroll = frames.payroll.merge(lines, on=LINE_KEY)
    rows = {"bank_return": (bank, part),
            "payroll": (payroll.drop(columns="part"), payroll["part"].to_numpy())}
    return _items(rows, ACCOUNT_COLUMNS, offset=parts)


def _with_part(frame: pd.DataFrame, part: pd.Series) -> tuple[pd.DataFrame, np.ndarray]:
    mapped = frame["household_id"].map(part)
    kept = mapped.notna().to_numpy()
    return frame[kept], mapped[kept].astype("int64").to_numpy()


def _bank_part(bank: pd.DataFrame, payroll: pd.DataFrame,
               payroll_part: pd.Series) -> tuple[pd.DataFrame, np.ndarray]:
    """Bank lines matched to the payroll lines given, in their payroll line's partition."""
    lines = pd.DataFrame({"batch_id": payroll["batch_id"].to_numpy(dtype=object),
                          "line_no": payroll["line_no"].to_numpy(dtype=object),
                          "part": payroll_part.to_numpy(dtype="int64")})
    matched = bank.merge(lines, on=LINE_KEY)
    return matched.drop(columns="part"), matched["part"].to_numpy()


def _items(rows: Mapping[str, tuple[pd.DataFrame, np.ndarray]],
           columns: Mapping[str, list[str]], offset: int) -> list[tuple[int, str, pd.DataFrame]]:
    items = []
    for kind, (frame, part) in rows.items():
        if frame.empty:
            continue
        needed = frame[columns[kind]].reset_index(drop=True)
        for number, chunk in needed.groupby(part, sort=True):
            items.append((offset + int(number), kind, chunk.reset_index(drop=True)))
    return items


def partition_frames(items: Sequence[tuple[int, str, pd.DataFrame]]) -> Frames:
    """Frames of one key partition: the kinds sent, completed to their full columns
    (columns not sent are empty: the modules run here never read them)."""
    chunks: dict[str, list[pd.DataFrame]] = {}
    for _, kind, chunk in items:
        chunks.setdefault(kind, []).append(chunk)
    out = {}
    for name in frame_names():
        template = (pd.DataFrame(columns=ADJUSTMENT_COLUMNS) if name == "adjustments"
                    else frame_of(name, []))
        given = chunks.get(name)
        out[name] = template if not given else _completed(
            template, pd.concat(given, ignore_index=True))
    return Frames(**out)


def _completed(template: pd.DataFrame, frame: pd.DataFrame) -> pd.DataFrame:
    data = {}
    for column in template.columns:
        dtype = template[column].dtype
        if column in frame.columns:
            data[column] = frame[column].astype(dtype)
        else:
            data[column] = pd.Series([_empty(dtype)] * len(frame), dtype=dtype)
    return pd.DataFrame(data, columns=template.columns)


def _empty(dtype: Any) -> object:
    if str(dtype) == "Int64":
        return pd.NA
    if str(dtype) == "bool":
        return False
    return 0 if str(dtype) == "int64" else ""


def _tell(progress: Progress | None, message: str) -> None:
    if progress is not None:
        progress(message)

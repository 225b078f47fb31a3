"""Scale figures of the Dask engine against the single-process pandas engine.

Run: ``/work/venv/bin/python -m benchmarks.dask_scale [--counties 4 8 16 32] [--households 2000]
[--workers 2] [--memory-limit 1GiB] [--out benchmarks/README_dask.md]``.

For each N it builds a province of N generated counties (``api.sample_county.generate_county``,
one seed each, one SQLite store each) with cross-county cases planted in every three
consecutive counties (``build_province``), then times both engines on the same stores,
checks that their findings are equal, and samples every worker's memory (RSS) while the
Dask run goes. The table is printed and written into ``--out``.

``build_province`` is also what the integration test uses to make its counties.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from api.loader import load_directory
from api.sample_county import generate_county, id_number
from api.wiring import Store
from projections import facts
from projections.frames import load_frames
from reconciliation.counties import JOINT_SEPARATOR, SEPARATOR, County, load_registry
from reconciliation.payments import successful_payments

FIRST_CODE = 430601  # made-up county codes 430601, 430602, …
CROSS_BATCH_LINE = "1"
CROSS_AMOUNT = "300.00"  # below every generated standard: only the planted codes fire
CROSS_TOWNSHIP, CROSS_VILLAGE = "青溪镇", "城东社区"
DEATH_DAY = "01-20"  # a death in January; the person is paid for February and March
HOLDING_VALUE = "80000.00"  # above E08's 30000
MEMORY_SAMPLE_SECONDS = 0.1
DEFAULT_SIZES = (4, 8, 16, 32)
DEFAULT_HOUSEHOLDS = 2000


@dataclass
class Province:
    directory: Path
    registry: Path
    counties: list[County]
    as_of: str
    crossing: set[tuple[str, str]] = field(default_factory=set)  # (code, subject_id) planted


# ---------------------------------------------------------------- building a province


def build_province(directory: Path, seeds: Sequence[int], households: int = 120,
                   first_code: int = FIRST_CODE) -> Province:
    """N generated counties, each loaded into its own SQLite store, a registry naming
    them, and cross-county cases planted in every three consecutive counties: a head ID
    enrolled in dibao in two counties (E02 both households, P05 across), one account for
    households of three counties (E06), a death registered in another county (E01), an
    official of another county (E05), a vehicle registered in another county (E08)."""
    directory = Path(directory)
    codes = [str(first_code + i) for i in range(len(seeds))]
    lines = ["[counties]"]
    as_of, taken = "", {}
    for code, seed in zip(codes, seeds, strict=True):
        truth = generate_county(directory / "files" / code, seed=seed, households=households)
        as_of = truth.as_of
        taken[code] = {p.subject_id for p in truth.findings + truth.lookalikes}
        _load(directory / "stores" / f"{code}.db", truth.directory)
        lines.append(f'{code} = "sqlite:///stores/{code}.db"')
    registry = directory / "counties.toml"
    registry.write_text("\n".join(lines) + "\n", encoding="utf-8")
    province = Province(directory, registry, load_registry(registry), as_of)
    for start in range(0, len(codes) - 2, 3):
        province.crossing |= _plant_triple(province, codes[start:start + 3], taken)
    return province


def _load(store_path: Path, folder: Path) -> None:
    store_path.parent.mkdir(parents=True, exist_ok=True)
    with Store(f"sqlite:///{store_path}") as store:
        load_directory(store, folder, actor="benchmark")


def _paid_dibao(code: str, province: Province, taken: set[str]) -> pd.DataFrame:
    """Households of one county paid dibao successfully in every month, not carrying a
    generated planted case, with a plain 18-character head ID: one row each."""
    with Store(_url(province, code)) as store:
        facts.catch_up(store.ledger, store.db)
        frames = load_frames(store.db)
    paid = successful_payments(frames, province.as_of)
    paid = paid[paid["program"] == "dibao"]
    months = paid.groupby("household_id")["period"].nunique()
    everyone = months.index[months == months.max()]
    households = frames.households[frames.households["household_id"].isin(everyone)
                                   & ~frames.households["household_id"].isin(taken)]
    heads = households["head_id_number"].astype(str).str.strip()
    households = households[(heads.str.len() == 18) & heads.str[:17].str.isdigit()]
    return households.sort_values("household_id").reset_index(drop=True)


def _url(province: Province, code: str) -> str:
    return next(c.url for c in province.counties if c.code == code)


def _plant_triple(province: Province, codes: Sequence[str],
                  taken: dict[str, set[str]]) -> set[tuple[str, str]]:
    a, b, c = codes
    in_a, in_b, in_c = (_paid_dibao(code, province, taken[code]) for code in codes)
    twice, official_kin = in_a.iloc[0], in_a.iloc[1]
    dead, vehicle_owner = in_b.iloc[0], in_c.iloc[0]
    year = province.as_of[:4]
    files: dict[str, dict[str, list[dict]]] = {code: {} for code in codes}
    shared = _account(codes)
    for index, code in enumerate(codes):  # E06: one account, three counties
        head = id_number(code, dt.date(1950 + index, 3, 3), 901)
        _household(files[code], f"{year}-03", "XQ000002", f"张{index}", head, shared)
    _household(files[b], f"{year}-02", "XQ000001", str(twice["head_name"]),  # E02, P05
               str(twice["head_id_number"]), _account([b, "twice"]))
    files[a]["deaths"] = [{"id_number": dead["head_id_number"], "name": dead["head_name"],
                           "date_of_death": f"{year}-{DEATH_DAY}"}]
    files[c]["officials"] = [{
        "official_id_number": id_number(c, dt.date(1970, 5, 5), 902), "official_name": "赵官",
        "position": "乡镇民政助理员", "township": CROSS_TOWNSHIP,
        "relative_id_number": official_kin["head_id_number"],
        "relative_name": official_kin["head_name"], "relation": "兄弟"}]
    files[b]["holdings"] = [{"id_number": vehicle_owner["head_id_number"], "kind": "vehicle",
                             "description": "小型轿车", "value": HOLDING_VALUE,
                             "registered_on": f"{int(year) - 1}-06-01"}]
    for code in codes:
        _write_and_load(province, code, files[code])
    joint = JOINT_SEPARATOR.join(sorted([f"{a}{SEPARATOR}{twice['household_id']}",
                                         f"{b}{SEPARATOR}XQ000001"]))
    return {("E02", f"{a}/{twice['household_id']}"), ("E02", f"{b}/XQ000001"),
            ("P05", joint), ("E06", shared), ("E01", f"{b}/{dead['household_id']}"),
            ("E05", f"{a}/{official_kin['household_id']}"),
            ("E08", f"{c}/{vehicle_owner['household_id']}")}


def _account(words: Sequence[str]) -> str:
    """A 19-digit account no generated household has (generated ones start 62…)."""
    digits = "".join(str(ord(ch) % 10) for ch in "".join(words))
    return ("5" + digits + "0" * 18)[:19]


def _household(files: dict[str, list[dict]], period: str, household_id: str, name: str,
               head_id: str, account: str) -> None:
    """A new dibao household paid once, successfully, in a batch of its own."""
    batch_id = f"DB{period.replace('-', '')}-9{len(files.get('payroll', []))}"
    files.setdefault("households", []).append({
        "household_id": household_id, "township": CROSS_TOWNSHIP, "village": CROSS_VILLAGE,
        "head_name": name, "head_id_number": head_id, "members": "1",
        "bank_account": account, "account_holder": name, "disclosure_exempt": ""})
    files.setdefault("enrolments", []).append({
        "household_id": household_id, "program": "dibao", "monthly_amount": CROSS_AMOUNT,
        "start_period": f"{period[:4]}-01", "exit_period": "", "gradual_exit_until": ""})
    files.setdefault("payroll", []).append({
        "batch_id": batch_id, "line_no": CROSS_BATCH_LINE, "program": "dibao",
        "period": period, "township": CROSS_TOWNSHIP, "household_id": household_id,
        "payee_name": name, "payee_id_number": head_id, "bank_account": account,
        "amount": CROSS_AMOUNT})
    files.setdefault("bank_return", []).append({
        "batch_id": batch_id, "line_no": CROSS_BATCH_LINE, "account_holder": name,
        "bank_account": account, "amount": CROSS_AMOUNT, "status": "success",
        "fail_reason": "", "value_date": f"{period}-26"})


def _write_and_load(province: Province, code: str, files: dict[str, list[dict]]) -> None:
    folder = province.directory / "cross" / code
    folder.mkdir(parents=True, exist_ok=True)
    for kind, rows in files.items():
        pd.DataFrame(rows).to_csv(folder / f"{kind}_cross.csv", index=False, encoding="utf-8")
    with Store(_url(province, code)) as store:
        load_directory(store, folder, actor="benchmark")


# ---------------------------------------------------------------- measuring


class MemorySampler:
    """Largest RSS seen per worker, polled from the scheduler's worker metrics (or, with
    no client, of this process)."""

    def __init__(self, client: object | None) -> None:
        self.client = client
        self.peak_bytes: dict[str, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def __enter__(self) -> MemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _poll(self) -> None:
        while not self._stop.is_set():
            for address, memory in self._sample().items():
                self.peak_bytes[address] = max(self.peak_bytes.get(address, 0), memory)
            self._stop.wait(MEMORY_SAMPLE_SECONDS)

    def _sample(self) -> dict[str, int]:
        if self.client is None:
            import psutil

            return {"client": psutil.Process().memory_info().rss}
        workers = self.client.scheduler_info(n_workers=-1)["workers"]  # type: ignore[attr-defined]
        return {address: int(worker.get("metrics", {}).get("memory", 0))
                for address, worker in workers.items()}

    @property
    def peak_mib(self) -> float:
        return max(self.peak_bytes.values(), default=0) / 2**20


@dataclass
class Row:
    counties: int
    households: int
    findings: int
    across: int
    pandas_s: float
    dask_s: float
    pandas_peak_mib: float
    worker_peak_mib: float
    equal: bool


def measure(province: Province, client: object, households: int) -> Row:
    from api.counties import county_frames
    from reconciliation.counties import across_counties, reconcile_pandas
    from reconciliation.dask_engine import reconcile_dask

    with MemorySampler(None) as pandas_memory:
        started = time.perf_counter()
        frames = {c.code: county_frames(c) for c in province.counties}
        expected, _ = reconcile_pandas(frames, {}, province.as_of)
        pandas_s = time.perf_counter() - started
    del frames
    with MemorySampler(client) as worker_memory:
        started = time.perf_counter()
        found, _ = reconcile_dask(province.counties, county_frames, {}, province.as_of,
                                  client=client)
        dask_s = time.perf_counter() - started
    return Row(len(province.counties), households * len(province.counties), len(found),
               int(across_counties(found).sum()), pandas_s, dask_s, pandas_memory.peak_mib,
               worker_memory.peak_mib, found.equals(expected))


def table_lines(rows: Sequence[Row], workers: int, memory_limit: str) -> list[str]:
    lines = [
        f"Local cluster: {workers} worker processes × 1 thread, memory limit {memory_limit} "
        f"each; {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"pandas {pd.__version__}. Times include opening every store and building frames.",
        "",
        "| counties | households | findings | across counties | pandas 1 process (s) "
        "| Dask (s) | pandas process peak RSS (MiB) | Dask peak worker RSS (MiB) | equal |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|:---:|",
    ]
    lines += [f"| {r.counties} | {r.households} | {r.findings} | {r.across} | "
              f"{r.pandas_s:.1f} | {r.dask_s:.1f} | {r.pandas_peak_mib:.0f} | "
              f"{r.worker_peak_mib:.0f} | {'yes' if r.equal else 'NO'} |" for r in rows]
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    import tempfile

    from distributed import Client, LocalCluster

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--counties", type=int, nargs="+", default=list(DEFAULT_SIZES))
    parser.add_argument("--households", type=int, default=DEFAULT_HOUSEHOLDS)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--memory-limit", default="1GiB")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    rows = []
    with (LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True,
                       memory_limit=args.memory_limit, dashboard_address=":0") as cluster,
          Client(cluster) as client):
        for size in args.counties:
            with tempfile.TemporaryDirectory() as tmp:
                province = build_province(Path(tmp), seeds=range(100, 100 + size),
                                          households=args.households)
                rows.append(measure(province, client, args.households))
                print(table_lines(rows[-1:], args.workers, args.memory_limit)[-1], flush=True)
    lines = table_lines(rows, args.workers, args.memory_limit)
    print("\n".join(lines))
    if args.out:
        _write_table(args.out, lines)
    return 0 if all(r.equal for r in rows) else 1


TABLE_START, TABLE_END = "<!-- table:start -->", "<!-- table:end -->"


def _write_table(path: Path, lines: list[str]) -> None:
    """Replace the measured table between the markers of ``path`` (or append it)."""
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    block = "\n".join([TABLE_START, *lines, TABLE_END])
    if TABLE_START in text and TABLE_END in text:
        head, rest = text.split(TABLE_START, 1)
        text = head + block + rest.split(TABLE_END, 1)[1]
    else:
        text = text + ("\n" if text else "") + block + "\n"
    path.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    raise SystemExit(main())

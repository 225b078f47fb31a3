"""Many county stores: the Dask engine equals the pandas engine, cross-county cases found.

Three generated counties (120 households each, different seeds), each in its own SQLite
store, with cross-county cases planted on top by ``benchmarks.dask_scale.build_province``:
one head ID enrolled in dibao in two counties (E02 on both households, P05 across for the
same month paid in both), one account paid for households of three counties (E06), a death
registered in one county of a head paid in another (E01), an official of one county whose
brother heads a household of another (E05), a vehicle registered in one county of a head
paid in another (E08). New people get ID numbers with their county's own area code.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from api.cli import main
from api.counties import county_frames
from api.findings_files import write_findings_csv
from benchmarks.dask_scale import Province, build_province
from domain.errors import DomainError
from projections.frames import load_frames
from reconciliation import runner
from reconciliation.counties import (
    LOCAL_CODES,
    across_counties,
    load_registry,
    reconcile_pandas,
)
from reconciliation.dask_engine import reconcile_dask

SEEDS = (11, 12, 13)
HOUSEHOLDS = 120


@pytest.fixture(scope="module")
def province(tmp_path_factory: pytest.TempPathFactory) -> Province:
    return build_province(tmp_path_factory.mktemp("province"), SEEDS, households=HOUSEHOLDS)


@pytest.fixture(scope="module")
def client() -> Iterator[object]:
    from distributed import Client, LocalCluster

    with (LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                       dashboard_address=":0") as cluster,
          Client(cluster) as dask_client):
        yield dask_client


@pytest.fixture(scope="module")
def pandas_result(province: Province) -> tuple[pd.DataFrame, pd.DataFrame]:
    frames = {c.code: county_frames(c) for c in province.counties}
    return reconcile_pandas(frames, {}, province.as_of)


@pytest.fixture(scope="module")
def dask_result(province: Province, client: object) -> tuple[pd.DataFrame, pd.DataFrame]:
    return reconcile_dask(province.counties, county_frames, {}, province.as_of, client=client)


def _csv_bytes(findings: pd.DataFrame, path: Path) -> bytes:
    write_findings_csv(findings, path)
    return path.read_bytes()


def test_dask_findings_equal_pandas_findings_byte_for_byte(
        pandas_result, dask_result, tmp_path: Path) -> None:
    expected = _csv_bytes(pandas_result[0], tmp_path / "pandas.csv")
    assert len(pandas_result[0]) > 50  # every county's own findings are in there too
    assert _csv_bytes(dask_result[0], tmp_path / "dask.csv") == expected


def test_dask_leads_equal_pandas_leads_byte_for_byte(pandas_result, dask_result,
                                                      tmp_path: Path) -> None:
    assert _csv_bytes(dask_result[1], tmp_path / "dask.csv") == _csv_bytes(
        pandas_result[1], tmp_path / "pandas.csv")


def test_planted_cross_county_cases_are_exactly_the_findings_across_counties(
        province: Province, pandas_result, dask_result) -> None:
    for findings, _ in (pandas_result, dask_result):
        across = findings[across_counties(findings)]
        assert set(zip(across["code"], across["subject_id"], strict=True)) == province.crossing
    codes = {code for code, _ in province.crossing}
    assert codes == {"E01", "E02", "E05", "E06", "E08", "P05"}


def test_paid_in_two_counties_is_charged_the_second_payment(province, dask_result) -> None:
    findings = dask_result[0]
    joint = next(s for c, s in province.crossing if c == "P05")
    row = findings[(findings["code"] == "P05") & (findings["subject_id"] == joint)].iloc[0]
    assert row["amount_fen"] == 30000  # the 300.00 paid in the second county
    assert "+" in joint and row["period"].endswith("-02")


def test_a_partition_count_other_than_the_county_count_gives_the_same_findings(
        province, client, pandas_result) -> None:
    findings, _ = reconcile_dask(province.counties, county_frames, {}, province.as_of,
                                 client=client, partitions=5)
    pd.testing.assert_frame_equal(findings, pandas_result[0])


def test_counties_pinned_to_a_worker_are_loaded_and_checked_only_there(
        province: Province, client, pandas_result) -> None:
    import dataclasses

    from distributed import get_task_stream

    workers = sorted(client.scheduler_info()["workers"])  # type: ignore[attr-defined]
    pinned = [dataclasses.replace(c, worker=workers[i % 2])
              for i, c in enumerate(province.counties)]
    with get_task_stream(client) as stream:  # type: ignore[arg-type]
        findings, _ = reconcile_dask(pinned, county_frames, {}, province.as_of,
                                     client=client)
    pd.testing.assert_frame_equal(findings, pandas_result[0])
    ran = {(t["key"] if isinstance(t["key"], str) else t["key"][0]): t["worker"]
           for t in stream.data}
    for county in pinned:
        places = {w for key, w in ran.items() if key.startswith(("frames-", "local-"))
                  and f"-{county.code}-" in key}
        assert places == {county.worker}


def test_county_local_findings_are_each_countys_own_with_prefixed_ids(
        province: Province, dask_result) -> None:
    findings = dask_result[0]
    for county in province.counties:
        from api.wiring import Store

        with Store(county.url) as store:
            own, _ = runner.run(load_frames(store.db), {}, province.as_of,
                                codes=LOCAL_CODES)
        prefix = county.code + "/"
        mine = findings[findings["code"].isin(LOCAL_CODES)
                        & findings["subject_id"].str.startswith(prefix)
                        & ~across_counties(findings)]
        assert sorted(zip(mine["code"], mine["subject_id"], mine["amount_fen"].astype(str),
                          strict=True)) == sorted(zip(
            own["code"], prefix + own["subject_id"], own["amount_fen"].astype(str),
            strict=True))


def test_household_subjects_carry_a_registered_county_code(province, dask_result) -> None:
    findings = dask_result[0]
    households = findings[findings["subject_type"] == "household"]["subject_id"]
    codes = {c.code for c in province.counties}
    for subject in households:
        assert all(part.split("/", 1)[0] in codes for part in subject.split("+")), subject


def test_cli_reconcile_with_dask_on_a_given_scheduler_writes_the_pandas_findings(
        province, client, tmp_path: Path, capsys) -> None:
    out_dask, out_pandas = tmp_path / "dask.csv", tmp_path / "pandas.csv"
    common = ["reconcile", "--as-of", province.as_of, "--counties", str(province.registry)]
    address = client.scheduler_info()["address"]  # type: ignore[attr-defined]
    assert main(common + ["--out", str(out_dask), "--engine", "dask",
                          "--scheduler", address]) == 0
    assert main(common + ["--out", str(out_pandas)]) == 0
    assert out_dask.read_bytes() == out_pandas.read_bytes()
    assert "reconciled 3 counties (dask)" in capsys.readouterr().out


def test_cli_dask_engine_without_counties_is_refused(tmp_path: Path, capsys) -> None:
    code = main(["--db", f"sqlite:///{tmp_path / 'one.db'}", "reconcile", "--as-of",
                 "2025-04-15", "--out", str(tmp_path / "f.csv"), "--engine", "dask"])
    assert code == 1
    assert "--counties" in capsys.readouterr().err


def test_cli_load_and_report_over_counties(province: Province, tmp_path: Path,
                                          capsys) -> None:
    files = province.directory / "files"
    codes = [c.code for c in province.counties][:2]
    folder = tmp_path / "drop"
    folder.mkdir()
    for code in codes:
        (folder / code).symlink_to(files / code, target_is_directory=True)
    registry = tmp_path / "two.toml"
    registry.write_text("[counties]\n" + "".join(
        f'{code} = "sqlite:///stores/{code}.db"\n' for code in codes), encoding="utf-8")
    assert main(["load", str(folder), "--counties", str(registry)]) == 0
    out = tmp_path / "balances.csv"
    assert main(["report", "balances", "--by", "township", "--as-of", province.as_of,
                 "--out", str(out), "--counties", str(registry)]) == 0
    table = pd.read_csv(out, dtype=str)
    assert list(table.columns)[0] == "county"
    assert set(table["county"]) == set(codes)
    assert "2 counties" in capsys.readouterr().out


def test_load_refuses_a_subfolder_that_is_no_registered_county(tmp_path: Path) -> None:
    (tmp_path / "drop" / "999999").mkdir(parents=True)
    registry = tmp_path / "one.toml"
    registry.write_text('[counties]\n430601 = "sqlite:///one.db"\n', encoding="utf-8")
    assert main(["load", str(tmp_path / "drop"), "--counties", str(registry)]) == 1
    assert not (tmp_path / "one.db").exists()


def test_registry_resolves_sqlite_paths_and_environment_variables(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIDLEDGER_TEST_PW", "s3cret")
    registry = tmp_path / "sub" / "counties.toml"
    registry.parent.mkdir()
    registry.write_text(
        '[counties]\n430601 = "sqlite:///stores/a.db"\n'
        '430602 = { db = "postgresql://aid:${AIDLEDGER_TEST_PW}@db:5432/aid?schema=c2", '
        'worker = "tcp://10.0.0.2:8788" }\n', encoding="utf-8")
    first, second = load_registry(registry)
    assert first.url == f"sqlite:///{(registry.parent / 'stores' / 'a.db').resolve()}"
    assert os.path.isabs(first.url[len("sqlite:///"):])
    assert second.url == "postgresql://aid:s3cret@db:5432/aid?schema=c2"
    assert second.worker == "tcp://10.0.0.2:8788"


@pytest.mark.parametrize("text", [
    '[counties]\n"43/0601" = "sqlite:///a.db"\n',  # a slash would break the prefix
    '[counties]\n',
    '[counties]\n430601 = { url = "sqlite:///a.db" }\n',
    '[county]\n430601 = "sqlite:///a.db"\n',
    '[counties]\n430601 = "postgresql://aid:${AIDLEDGER_UNSET_VARIABLE}@db/aid"\n',
])
def test_a_malformed_registry_is_refused(tmp_path: Path, text: str) -> None:
    registry = tmp_path / "counties.toml"
    registry.write_text(text, encoding="utf-8")
    with pytest.raises(DomainError):
        load_registry(registry)

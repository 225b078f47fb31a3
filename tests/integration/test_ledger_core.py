"""The ledger core on real SQLite and PostgreSQL: load, reject, reload, correct, replay."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from api.loader import load_directory
from api.wiring import Store
from domain.errors import RejectedFile
from projections import balances, facts
from projections.frames import load_frames

HOUSEHOLDS = """户编号,乡镇(街道),村(社区),户主姓名,户主身份证号,家庭人口,银行账号,开户人,不予公示
H001,城关镇,东门村,张三明,430621198001011234,3,6217000000000000001,张三明,
H002,城关镇,西门村,李四,43062119800101123x,2,6217000000000000002,李四,是
H003,新市镇,南岭村,王小红,430621199002022345,1,6217000000000000003,王小红,
"""
ALLOCATIONS = """allocation_id,program,township,amount,date,document_no
A1,dibao,城关镇,10000.00,2025-01-05,岳财〔2025〕1号
A2,dibao,新市镇,3000.00,2025-01-05,岳财〔2025〕1号
A3,dibao,城关镇,500.00,2025-03-10,岳财〔2025〕7号
"""
PAYROLL = """批次号,序号,救助类别,发放年月,乡镇(街道),户编号,收款人,收款人身份证号,银行账号,金额
B1,1,低保,2025-01,城关镇,H001,张三明,430621198001011234,6217000000000000001,700.00
B1,2,dibao,2025-01,城关镇,H002,李四,43062119800101123X,6217000000000000002,５００
B1,3,dibao,2025-01,新市镇,H003,王小红,430621199002022345,6217000000000000003, 300.00
"""
BANK = """批次号,序号,户名,账号,金额,状态,失败原因,入账日期
B1,1,张三明,6217000000000000001,700.00,成功,,2025-01-20
B1,2,李四,6217000000000000002,500.00,失败,账户已销户,2025-01-20
B1,3,王小红,6217000000000000003,300.00,成功,,2025-02-03
"""


def write_county(directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "households.csv").write_text(HOUSEHOLDS, encoding="utf-8-sig")
    (directory / "allocations.csv").write_text(ALLOCATIONS, encoding="utf-8")
    (directory / "payroll_2025-01.csv").write_text(PAYROLL, encoding="utf-8")
    (directory / "bank_return_2025-01.csv").write_bytes(BANK.encode("gbk"))
    return directory


def event_count(store: Store) -> int:
    return store.ledger.recorder.max_notification_id() or 0


def township_report(store: Store, as_of: str, known_at: str | None = None) -> dict:
    facts.catch_up(store.ledger, store.db)
    table = balances.report(load_frames(store.db, known_at), "township", as_of)
    return {(r.township, r.program): (r.allocated, r.paid, r.balance)
            for r in table.itertuples()}


def test_a_county_folder_loads_with_chinese_headers_gbk_and_full_width_digits(
        store: Store, tmp_path: Path) -> None:
    report = load_directory(store, write_county(tmp_path / "county"))
    assert [o.created for o in report.outcomes] == [3, 3, 3, 3]
    frames = load_frames(store.db)
    assert set(frames.payroll["amount_fen"]) == {70000, 50000, 30000}
    assert frames.households.set_index("household_id").loc["H002", "head_id_number"] \
        == "43062119800101123X"


def test_loading_the_same_folder_again_writes_nothing(store: Store, tmp_path: Path) -> None:
    county = write_county(tmp_path / "county")
    load_directory(store, county)
    before = event_count(store)
    report = load_directory(store, county)
    assert all(o.already_loaded for o in report.outcomes)
    assert event_count(store) == before


def test_a_folder_with_one_corrupted_file_is_rejected_whole(store: Store, tmp_path: Path) -> None:
    county = write_county(tmp_path / "county")
    (county / "payroll_2025-02.csv").write_text(
        PAYROLL.replace("2025-01", "2025-02").replace("700.00", "70.001")
        .replace("B1,3", "B2,3").replace("B1,", "B2,"), encoding="utf-8")
    with pytest.raises(RejectedFile) as rejected:
        load_directory(store, county)
    assert any("payroll_2025-02.csv row 2, column" in p and "2 decimals" in p
               for p in rejected.value.problems)
    assert event_count(store) == 0


def test_a_payroll_line_for_an_unknown_household_rejects_the_folder(
        store: Store, tmp_path: Path) -> None:
    county = write_county(tmp_path / "county")
    (county / "payroll_2025-01.csv").write_text(PAYROLL.replace("H003", "H999"),
                                                encoding="utf-8")
    with pytest.raises(RejectedFile) as rejected:
        load_directory(store, county)
    assert any("row 4" in p and "H999" in p for p in rejected.value.problems)
    assert event_count(store) == 0


def test_balances_by_township_at_year_end_and_at_an_earlier_date(
        store: Store, tmp_path: Path) -> None:
    load_directory(store, write_county(tmp_path / "county"))
    assert township_report(store, "2025-12-31") == {
        ("城关镇", "dibao"): (1050000, 70000, 980000),
        ("新市镇", "dibao"): (300000, 30000, 270000)}
    # on 31 January: the A3 allocation and the 3 February payment had not happened
    assert township_report(store, "2025-01-31") == {
        ("城关镇", "dibao"): (1000000, 70000, 930000),
        ("新市镇", "dibao"): (300000, 0, 300000)}


def test_known_at_before_a_correction_shows_the_uncorrected_figures(
        store: Store, tmp_path: Path) -> None:
    load_directory(store, write_county(tmp_path / "county"))
    facts.catch_up(store.ledger, store.db)
    time.sleep(0.01)
    before_correction = facts.moment_text(__import__("datetime").datetime.now().astimezone())
    time.sleep(0.01)
    corrected = tmp_path / "correction"
    corrected.mkdir()
    (corrected / "bank_return_fix.csv").write_text(
        "batch_id,line_no,account_holder,bank_account,amount,status,fail_reason,value_date\n"
        "B1,1,张三明,6217000000000000001,650.00,success,,2025-01-20\n", encoding="utf-8")
    report = load_directory(store, corrected)
    assert report.outcomes[0].corrected == 1
    now = township_report(store, "2025-12-31")
    then = township_report(store, "2025-12-31", known_at=before_correction)
    assert now[("城关镇", "dibao")][1] == 65000
    assert then[("城关镇", "dibao")][1] == 70000


def test_the_trial_balance_is_zero_after_loading(store: Store, tmp_path: Path) -> None:
    load_directory(store, write_county(tmp_path / "county"))
    facts.catch_up(store.ledger, store.db)
    assert facts.trial_balance(store.db) == 0
    accounts = facts.account_balances(store.db)
    assert accounts["household:H001:dibao"] == 70000
    assert accounts["township:城关镇:dibao"] == 1050000 - 70000


def _tables(store: Store) -> tuple[list, list]:
    return (store.db.query("SELECT * FROM rm_facts ORDER BY notification_id"),
            store.db.query("SELECT * FROM rm_postings ORDER BY notification_id, seq"))


def test_rebuilding_and_resuming_the_projection_give_identical_tables(
        store: Store, tmp_path: Path) -> None:
    load_directory(store, write_county(tmp_path / "county"))
    original = _tables(store)
    facts.drop(store.db)
    processed = facts.catch_up(store.ledger, store.db, limit=5)  # stopped mid-way
    assert processed == 5 and facts.position(store.db) == 5
    facts.catch_up(store.ledger, store.db)  # resumed
    assert _tables(store) == original

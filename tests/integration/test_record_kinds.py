"""The catalogue of record kinds on real SQLite and PostgreSQL: a kind declared in a test
alone loads, projects, posts and has its frame; the load names what it cannot read;
a settlement without an amount settles its disbursement."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from api.loader import load_directory
from api.wiring import Store
from domain import catalogue, postings
from domain.catalogue import Column, RecordKind, Reference
from domain.errors import RejectedFile
from domain.postings import Fields, Lookup, Posting, fen, move
from projections import facts
from projections.frames import load_frames
from projections.integrity import household_events
from projections.tables import frames_from_rows
from tests.integration.test_ledger_core import write_county

# A kind no county has: a one-off grant to a registered household. Declared here only.
GRANTS = RecordKind(
    "grants", "一次性补助", "a one-off grant to a household (declared by a test)",
    (Column("grant_id", aliases=("补助编号",), local_id=True),
     Column("household_id", aliases=("户编号",), local_id=True),
     Column("program", "program", aliases=("救助类别",)),
     Column("amount", "money", aliases=("补助金额", "金额")),
     Column("date", "date", aliases=("发放日期",)),
     Column("note", required=False, aliases=("备注",))),
    key=("grant_id",), business_date="date", value_date="date",
    references=(Reference("household_id", "households"),), posting="grant")
GRANTS_FILE = """补助编号,户编号,救助类别,补助金额,发放日期
G1,H001,临时救助,1200.00,2025-02-03
G2,H003,temporary,300,2025-02-04
"""


def _grant(f: Fields, lookup: Lookup) -> list[Posting]:
    return move(f"program:{f['program']}", f"household:{f['household_id']}:{f['program']}",
                fen(f["amount"]))


@pytest.fixture
def grants(monkeypatch: pytest.MonkeyPatch) -> Iterator[RecordKind]:
    monkeypatch.setitem(postings.RULES, "grant", _grant)
    with catalogue.registered(GRANTS) as kind:
        yield kind
    assert not catalogue.is_kind("grants")


def test_a_kind_declared_in_a_test_alone_loads_projects_posts_and_has_its_frame(
        store: Store, grants: RecordKind, tmp_path: Path) -> None:
    county = write_county(tmp_path / "county")
    (county / "grants_2025.csv").write_text(GRANTS_FILE, encoding="utf-8")
    report = load_directory(store, county)
    assert [(o.name, o.kind, o.created) for o in report.outcomes][-1] == (
        "grants_2025.csv", "grants", 2)
    facts_rows = store.db.query("SELECT key, business_date, household_id FROM rm_facts "
                                "WHERE kind='grants' ORDER BY key")
    assert [tuple(r) for r in facts_rows] == [("G1", "2025-02-03", "H001"),
                                              ("G2", "2025-02-04", "H003")]
    frame = load_frames(store.db).grants
    assert list(frame.columns) == grants.frame_columns
    assert list(frame["amount_fen"]) == [120000, 30000]
    assert list(frame["program"]) == ["temporary", "temporary"]
    accounts = facts.account_balances(store.db)
    assert accounts["household:H001:temporary"] == 120000
    assert accounts["program:temporary"] == -150000
    assert facts.trial_balance(store.db) == 0
    assert ("grants", "G1") in {(kind, key) for _, kind, key in household_events(store.db, "H001")}


def test_a_declared_kind_checks_its_references_like_every_kind(
        store: Store, grants: RecordKind, tmp_path: Path) -> None:
    county = write_county(tmp_path / "county")
    (county / "grants_2025.csv").write_text(GRANTS_FILE.replace("H003", "H999"),
                                            encoding="utf-8")
    with pytest.raises(RejectedFile) as rejected:
        load_directory(store, county)
    assert rejected.value.problems == [
        ("grants_2025.csv row 3, column household_id: household_id 'H999' is not registered "
        "in any households file loaded before or in this folder")]


def test_a_kind_removed_from_the_catalogue_leaves_the_frames_as_they_were(
        grants: RecordKind) -> None:
    assert "grants" in vars(frames_from_rows())
    catalogue.unregister("grants")
    try:
        assert "grants" not in vars(frames_from_rows())
    finally:
        catalogue.register(grants)


RESERVE = """类型,编号,乡镇(街道),户编号,金额,日期,审批层级,审批人,经办人,关联编号,文号
预拨,Y1,城关镇,,5000.00,2025-01-02,县级,赵,钱,,
先行救助,D1,城关镇,H001,800.00,2025-01-10,乡镇,孙,李,,
核销,S1,城关镇,H001,,2025-01-20,,,李,D1,
"""


def test_a_settlement_without_an_amount_settles_its_disbursement_in_full(
        store: Store, tmp_path: Path) -> None:
    county = write_county(tmp_path / "county")
    (county / "reserve.csv").write_text(RESERVE, encoding="utf-8")
    load_directory(store, county)
    settled = store.db.query("SELECT account, amount_fen FROM rm_postings "
                             "WHERE subject='reserve|S1' ORDER BY account")
    assert [tuple(r) for r in settled] == [("county:reserve-pool", 80000),
                                           ("township:城关镇:temporary", -80000)]
    assert facts.trial_balance(store.db) == 0
    assert "S1" in set(load_frames(store.db).reserve["record_id"])


# ------------------------------------------------------------------ the command line


def cli(url: str, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "api.cli", "--db", url, *args], cwd=cwd,
                          capture_output=True, text=True, timeout=300)


def test_load_names_each_unread_file_and_unknown_column_on_stdout(tmp_path: Path) -> None:
    county = write_county(tmp_path / "county")
    (county / "payroll_2025-01.csv").write_text(
        "批次号,序号,救助类别,发放年月,乡镇(街道),户编号,收款人,收款人身份证,银行卡号,金额,备注\n"
        "B1,1,低保,2025-01,城关镇,H001,张三明,430621198001011234,6217000000000000001,"
        "700.00,\n", encoding="utf-8")
    (county / "2025年7月低保发放表.csv").write_text("x\n", encoding="utf-8")
    (county / "说明.txt").write_text("x\n", encoding="utf-8")
    (county / "households_old.xls").write_bytes(b"\xd0\xcf\x11\xe0")
    done = cli(f"sqlite:///{tmp_path / 'l.db'}", "load", str(county), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert ("  2025年7月低保发放表.csv: skipped: the name matches no kind of file"
            in "\n".join(lines))
    assert "  说明.txt: skipped: not a CSV or XLSX file" in lines
    assert ("  households_old.xls: skipped: an old Excel .xls workbook is not read: "
            "save it as .xlsx") in lines
    assert ("  warning: payroll_2025-01.csv: column 收款人身份证 not recognised (did you mean "
            "payee_id_number / 收款人身份证号?); payee_id_number left empty") in lines
    assert "  warning: payroll_2025-01.csv: column 备注 not recognised: ignored" in lines


def test_a_folder_without_any_contract_file_exits_1_naming_what_it_holds(
        tmp_path: Path) -> None:
    folder = tmp_path / "july"
    folder.mkdir()
    (folder / "2025年7月低保发放表.csv").write_text("x\n", encoding="utf-8")
    done = cli(f"sqlite:///{tmp_path / 'l.db'}", "load", str(folder), cwd=tmp_path)
    assert done.returncode == 1
    assert "no contract files found" in done.stderr
    assert "2025年7月低保发放表.csv: skipped: the name matches no kind" in done.stderr

"""Policy loading, the runner, and the findings files people open."""

from __future__ import annotations

import csv
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from api.findings_files import summary_lines, write_findings_csv, write_findings_xlsx
from reconciliation.common import FINDING_COLUMNS, frames_from_rows
from reconciliation.policy import PolicyError, load_policy
from reconciliation.rule import policy_fen
from reconciliation.rules import UnknownRule
from reconciliation.runner import run

MINE = ["R01", "R02", "R03", "R04", "A01", "A02", "A03", "A04", "D01", "S01", "S02", "S03"]
MY_RULES = [m for m in MINE if not m.startswith("S")]
AS_OF = "2025-06-30"
CSV_HEADER = ["code", "subject_type", "subject_id", "period", "amount", "severity",
              "title", "detail", "evidence"]


def policy_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "policy.toml"
    path.write_text(text, encoding="utf-8")
    return path


def disbursement(record_id: str, yuan: int, **fields) -> dict:
    return {"record_type": "disbursement", "record_id": record_id, "township": "城关镇",
            "amount_fen": yuan * 100, "date": fields.pop("date", "2025-06-20"),
            "evidence_event": f"ev-{record_id}", "evidence_row": f"reserve.csv#{record_id}",
            **fields}


def finding(code: str, subject_id: str, amount_fen: object, **fields) -> dict:
    return {"code": code, "subject_type": "reserve_record", "subject_id": subject_id,
            "period": "2025-03", "amount_fen": amount_fen, "severity": "high",
            "title": fields.pop("title", "超权限审批 above approval limit"),
            "detail": "说明。", "evidence": "event:e1 reserve.csv#2", **fields}


def findings_of(*rows: dict) -> pd.DataFrame:
    frame = pd.DataFrame(list(rows), columns=FINDING_COLUMNS)
    frame["amount_fen"] = frame["amount_fen"].astype("Int64")
    return frame


# --- policy -----------------------------------------------------------------------------

def test_without_a_file_every_code_has_its_defaults_and_is_enabled() -> None:
    policy = load_policy(None, codes=MINE)
    assert set(policy) == set(MINE)
    assert policy["R02"] == {"township_limit": 1000, "county_limit": 20000, "enabled": True}
    assert policy["S01"]["mad_max"] == 0.015


def test_a_key_in_the_file_overrides_the_default(tmp_path: Path) -> None:
    path = policy_file(tmp_path, "[R02]\ntownship_limit = 500\n[A03]\ndays = 365\n")
    policy = load_policy(path, codes=MINE)
    assert policy["R02"]["township_limit"] == 500 and policy["R02"]["county_limit"] == 20000
    assert policy["A03"]["days"] == 365


def test_lowered_township_limit_flags_an_800_yuan_disbursement(tmp_path: Path) -> None:
    frames = frames_from_rows(reserve=[disbursement("D1", 800)])
    default, _ = run(frames, load_policy(None, codes=MINE), AS_OF, codes=["R02"])
    assert default.empty
    lowered = load_policy(policy_file(tmp_path, "[R02]\ntownship_limit = 500\n"), codes=MINE)
    found, _ = run(frames, lowered, AS_OF, codes=["R02"])
    assert list(found["subject_id"]) == ["D1"]


def test_enabled_false_switches_a_code_off(tmp_path: Path) -> None:
    frames = frames_from_rows(reserve=[disbursement("D1", 5000, date="2025-01-01")])
    policy = load_policy(policy_file(tmp_path, "[R01]\nenabled = false\n"), codes=MINE)
    found, _ = run(frames, policy, AS_OF, codes=MY_RULES)
    assert policy["R01"]["enabled"] is False
    assert "R01" not in set(found["code"]) and "R02" in set(found["code"])


def test_an_unknown_key_is_an_error_naming_file_table_and_key(tmp_path: Path) -> None:
    path = policy_file(tmp_path, "[R02]\ntownship_limt = 500\n")
    with pytest.raises(PolicyError, match=r"policy\.toml.*\[R02\] township_limt.*unknown key"):
        load_policy(path, codes=MINE)


def test_an_unknown_code_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match=r"policy\.toml.*\[X99\].*unknown finding code"):
        load_policy(policy_file(tmp_path, "[X99]\nenabled = false\n"), codes=MINE)


@pytest.mark.parametrize("setting", [
    'settle_within_days = "30"', "settle_within_days = 30.5", "settle_within_days = -1",
    'enabled = "no"', "settle_within_days = true",
])
def test_a_value_of_the_wrong_type_is_an_error(tmp_path: Path, setting: str) -> None:
    with pytest.raises(PolicyError, match=r"\[R01\]"):
        load_policy(policy_file(tmp_path, f"[R01]\n{setting}\n"), codes=MINE)


def test_policy_money_is_yuan_with_at_most_two_decimals(tmp_path: Path) -> None:
    policy = load_policy(policy_file(tmp_path, "[R02]\ntownship_limit = 999.5\n"), codes=MINE)
    assert policy_fen(policy["R02"]["township_limit"]) == 99_950
    with pytest.raises(PolicyError, match="at most 2 decimals"):
        load_policy(policy_file(tmp_path, "[R02]\ntownship_limit = 999.999\n"), codes=MINE)


def test_real_number_settings_accept_whole_and_fractional_values(tmp_path: Path) -> None:
    policy = load_policy(policy_file(tmp_path, "[S01]\nmad_max = 0\n[S03]\niqr_factor = 1.5\n"),
                         codes=MINE)
    assert policy["S01"]["mad_max"] == 0 and policy["S03"]["iqr_factor"] == 1.5


def test_a_file_that_is_not_toml_or_missing_is_a_policy_error(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="not valid TOML"):
        load_policy(policy_file(tmp_path, "[R02\n"), codes=MINE)
    with pytest.raises(PolicyError, match="cannot read"):
        load_policy(tmp_path / "absent.toml", codes=MINE)
    assert issubclass(PolicyError, ValueError)


# --- runner -----------------------------------------------------------------------------

def test_an_unknown_code_given_to_the_policy_loader_is_an_error() -> None:
    with pytest.raises(UnknownRule, match="Q01"):
        load_policy(None, codes=["R01", "Q01"])


def test_run_sorts_findings_by_code_then_subject_and_keeps_leads_apart() -> None:
    frames = frames_from_rows(reserve=[
        disbursement("D2", 5000, date="2025-01-01", approver="甲", recorded_by="甲"),
        disbursement("D1", 5000, date="2025-01-01"),
    ] + [disbursement(f"R{i}", 500) for i in range(25)])
    messages: list[str] = []
    findings, leads = run(frames, {}, AS_OF, progress=messages.append, codes=MINE)
    assert list(findings.columns) == FINDING_COLUMNS
    pairs = list(zip(findings["code"], findings["subject_id"], strict=True))
    assert pairs == sorted(pairs)
    assert ("D01", "D2") in pairs and ("R02", "D1") in pairs
    assert not findings["code"].str.startswith("S").any()
    assert list(leads["code"]) == ["S02"]  # 25 of 27 amounts are round hundreds
    assert any(m.startswith("R01 备用金未核销") for m in messages) and len(messages) == 12


def test_an_unregistered_code_fails_loudly_with_its_name() -> None:
    with pytest.raises(UnknownRule, match=r"'ZZ9'.*known: P01"):
        run(frames_from_rows(), {}, AS_OF, codes=["R01", "ZZ9"])


def test_run_rejects_a_malformed_as_of_date() -> None:
    with pytest.raises(ValueError):
        run(frames_from_rows(), {}, "2025-13-01", codes=["R01"])


def test_nothing_found_is_an_empty_frame_with_the_finding_columns() -> None:
    findings, leads = run(frames_from_rows(), {}, AS_OF, codes=MINE)
    assert findings.empty and leads.empty
    assert list(findings.columns) == list(leads.columns) == FINDING_COLUMNS


# --- CSV --------------------------------------------------------------------------------

def test_csv_has_the_contract_header_yuan_amounts_and_no_bom(tmp_path: Path) -> None:
    path = tmp_path / "findings.csv"
    write_findings_csv(findings_of(finding("R02", "D1", 1250), finding("R04", "T", pd.NA)), path)
    assert path.read_bytes().startswith(b"code,")
    with open(path, encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == CSV_HEADER
    assert rows[1][4] == "12.50" and rows[2][4] == ""
    assert rows[1][6] == "超权限审批 above approval limit"


def test_csv_neutralises_formulas_except_in_the_amount(tmp_path: Path) -> None:
    path = tmp_path / "findings.csv"
    row = finding("R02", "=HYPERLINK(\"x\")", -1250, detail="+1 说明", evidence="@SUM(A1)")
    write_findings_csv(findings_of(row), path)
    with open(path, encoding="utf-8-sig", newline="") as handle:
        written = list(csv.DictReader(handle))[0]
    assert written["subject_id"] == "'=HYPERLINK(\"x\")"
    assert written["detail"] == "'+1 说明" and written["evidence"] == "'@SUM(A1)"
    assert written["amount"] == "-12.50"


# --- XLSX and terminal -------------------------------------------------------------------

def test_xlsx_has_a_summary_a_sheet_per_code_and_the_leads(tmp_path: Path) -> None:
    path = tmp_path / "findings.xlsx"
    findings = findings_of(finding("R02", "D1", 1250, detail="=1+1"), finding("R02", "D2", 100),
                           finding("D01", "D1", pd.NA, title="同一人经办审批 self-approval"))
    leads = findings_of(finding("S02", "城关镇", pd.NA, severity="low"))
    write_findings_xlsx(findings, leads, path)
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["汇总", "R02", "D01", "统计线索"]
    summary = [[c.value for c in row] for row in book["汇总"].iter_rows()]
    assert summary[0] == ["问题代码", "中文名称", "数量", "涉及金额(元)", "金额性质"]
    assert summary[1] == ["R02", "超权限审批", 2, 13.5, "涉及资金"]
    assert [row[:4] for row in summary[-3:]] == [
        ["合计", "全部问题（金额性质不同，不相加）", 3, None],
        ["合计", "涉及资金", 2, 13.5],
        ["合计", "不涉及金额", 1, None]]
    sheet = book["R02"]
    assert [c.value for c in sheet[1]] == ["问题代码", "对象类型", "对象编号", "所属期间",
                                           "涉及金额(元)", "严重程度", "问题", "详情", "证据"]
    assert sheet["E2"].value == 12.5 and sheet["E2"].number_format == "0.00"
    assert sheet["H2"].value == "=1+1" and sheet["H2"].data_type == "s"  # text, not a formula
    assert book["统计线索"]["C2"].value == "城关镇"


def test_summary_lines_count_findings_per_code_and_leads_separately() -> None:
    findings = findings_of(finding("R02", "D1", 1250), finding("R02", "D2", 100))
    leads = findings_of(finding("S02", "城关镇", pd.NA, severity="low"))
    lines = summary_lines(findings, leads)
    assert lines[0] == "R02 超权限审批：2 项，13.50 元"
    assert lines[2] == "  涉及资金：2 项，13.50 元"
    assert lines[3] == "统计线索（供核查参考，不是问题，不计入合计）：1 项"


def test_no_findings_still_writes_a_header_only_csv_and_a_two_sheet_workbook(
        tmp_path: Path) -> None:
    findings, leads = run(frames_from_rows(), {}, AS_OF, codes=MINE)
    write_findings_csv(findings, tmp_path / "f.csv")
    write_findings_xlsx(findings, leads, tmp_path / "f.xlsx")
    written = (tmp_path / "f.csv").read_text(encoding="utf-8-sig")
    assert written.splitlines() == [",".join(CSV_HEADER)]
    assert openpyxl.load_workbook(tmp_path / "f.xlsx").sheetnames == ["汇总", "统计线索"]
    assert summary_lines(findings, leads)[:2] == ["合计：0 项问题（金额按性质分列，不相加）",
                                                  "  涉及资金：0 项，0.00 元"]

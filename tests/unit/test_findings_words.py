"""What people read of the findings: Chinese words beside the codes, and totals that never
add an asset's book value to money paid wrongly."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pandas as pd

from api.findings_files import summary_lines, write_findings_xlsx
from reconciliation.common import FINDING_COLUMNS


def findings_of(*rows: tuple[str, str, str, object]) -> pd.DataFrame:
    frame = pd.DataFrame([{
        "code": code, "subject_type": subject_type, "subject_id": subject, "period": "2025-03",
        "amount_fen": amount, "severity": "high", "title": f"{code}中文 {code} english",
        "detail": "说明。", "evidence": "event:e1/1 f.csv#2"}
        for code, subject_type, subject, amount in rows], columns=FINDING_COLUMNS)
    frame["amount_fen"] = frame["amount_fen"].astype("Int64")
    return frame


MIXED = findings_of(("P01", "payroll_line", "B1:1", 100_000),
                    ("A01", "asset", "QX-1", 50_000_000),
                    ("E08", "household", "H1", 3_000_000),
                    ("E07", "household", "H2", pd.NA))
NO_LEADS = findings_of()


def test_the_terminal_totals_keep_money_asset_values_and_holdings_apart() -> None:
    lines = summary_lines(MIXED, NO_LEADS)
    assert "P01 P01中文：1 项，1000.00 元" in lines
    assert "A01 A01中文：1 项，资产原值 500000.00 元" in lines
    assert "E07 E07中文：1 项，不涉及金额" in lines
    assert "  涉及资金：1 项，1000.00 元" in lines
    assert any(line.startswith("  资产原值：1 项，500000.00 元") for line in lines)
    assert any(line.startswith("  财产价值：1 项，30000.00 元") for line in lines)
    assert not any("531000.00" in line or "501000.00" in line for line in lines)


def test_the_workbook_names_subject_types_in_chinese_and_splits_its_totals(
        tmp_path: Path) -> None:
    path = tmp_path / "findings.xlsx"
    write_findings_xlsx(MIXED, NO_LEADS, path)
    book = openpyxl.load_workbook(path)
    assert book["P01"]["B2"].value == "发放名册行"
    assert book["A01"]["B2"].value == "扶贫资产"
    summary = [[c.value for c in row] for row in book["汇总"].iter_rows()]
    totals = {row[1]: row[3] for row in summary if row[0] == "合计"}
    assert totals["涉及资金"] == 1000.0 and totals["资产原值"] == 500000.0
    assert totals["财产价值"] == 30000.0 and totals["不涉及金额"] is None
    assert totals["全部问题（金额性质不同，不相加）"] is None

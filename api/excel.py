"""Excel workbooks for the finance office: Chinese headers, amounts as numbers."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from domain.catalogue import PROGRAMS
from domain.money import from_fen
from reconciliation.cells import fit_value

if TYPE_CHECKING:  # openpyxl is imported when a workbook is written, not at start-up
    from openpyxl.worksheet.worksheet import Worksheet

HEADERS_ZH = {
    "township": "乡镇(街道)", "program": "资金类别", "program_zh": "资金类别(中文)",
    "allocated": "拨付金额(元)", "paid": "实发金额(元)", "balance": "结余(元)",
    "budget": "预算金额(元)", "household_id": "户编号", "periods_paid": "发放月数",
}
TITLES_ZH = {"township": "乡镇资金结余", "program": "资金类别执行情况", "household": "农户发放情况"}
MONEY_FORMAT = "#,##0.00"


def write_balances_xlsx(table: pd.DataFrame, by: str, path: Path) -> None:
    """One sheet; money cells are numbers formatted to 2 places (exact fen -> yuan)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    money = {"allocated", "paid", "balance", "budget"}
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = TITLES_ZH[by]
    columns = list(table.columns)
    if "program" in columns:
        columns.insert(columns.index("program") + 1, "program_zh")
    sheet.append([HEADERS_ZH.get(c, c) for c in columns])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for record in table.to_dict("records"):
        record["program_zh"] = PROGRAMS.get(record.get("program", ""), "")
        _append_text_safe(sheet, [_cell(record[c], c in money) for c in columns])
    for index, name in enumerate(columns, start=1):
        letter = sheet.cell(row=1, column=index).column_letter
        sheet.column_dimensions[letter].width = 18
        if name in money:
            for (cell,) in sheet.iter_rows(min_row=2, min_col=index, max_col=index):
                cell.number_format = MONEY_FORMAT
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook.save(path)


REGISTER_SHEETS = {
    "township_detail": "乡镇资金执行", "reserve_positions": "备用金",
    "fund_execution": "资金类别执行", "asset_register": "资产清单",
}
REGISTER_HEADERS_ZH = {
    **HEADERS_ZH, "failed": "发放失败(元)", "spending_rate": "支出进度", "below_target": "低于92%",
    "advanced": "预拨(元)", "replenished": "补足(元)", "disbursed": "先行救助(元)",
    "settled": "已核销(元)", "outstanding": "未核销(元)", "oldest_unsettled_days": "最长未核销天数",
    "source": "资金来源", "execution_rate": "执行率", "asset_id": "资产编号", "name": "资产名称",
    "asset_class": "资产类别", "village": "村(社区)", "value_fen": "资产原值(元)",
    "funding_source": "资金来源", "project": "项目名称", "rights_holder": "确权主体",
    "custodian": "管护主体", "registered_on": "登记日期", "income_fen": "收益入账(元)",
    "distributed_fen": "收益分配(元)", "status": "状态",
}
REGISTER_MONEY = {"allocated", "paid", "failed", "balance", "budget", "advanced", "replenished",
                  "disbursed", "settled", "outstanding", "value_fen", "income_fen",
                  "distributed_fen"}


def write_registers_xlsx(tables: dict[str, pd.DataFrame], path: Path) -> None:
    """One sheet per register, Chinese headers, money as numbers (fen -> yuan)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    workbook.remove(workbook.active)
    for name, table in tables.items():
        sheet = workbook.create_sheet(REGISTER_SHEETS.get(name, name)[:31])
        columns = list(table.columns)
        sheet.append([REGISTER_HEADERS_ZH.get(c, c) for c in columns])
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for record in table.to_dict("records"):
            _append_text_safe(sheet, [_cell(record[c], c in REGISTER_MONEY) for c in columns])
        for index, column in enumerate(columns, start=1):
            sheet.column_dimensions[sheet.cell(row=1, column=index).column_letter].width = 16
            if column in REGISTER_MONEY:
                for (cell,) in sheet.iter_rows(min_row=2, min_col=index, max_col=index):
                    cell.number_format = MONEY_FORMAT
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook.save(path)


def _cell(value: Any, money: bool) -> object:  # a pandas record's value: any scalar
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    if money:
        return float(from_fen(int(value)))
    return value.item() if hasattr(value, "item") else value


def _append_text_safe(sheet: Worksheet, values: list[object]) -> None:
    """Append a row; text that openpyxl would store as a formula ('=…') stays text, exactly
    as written, so opening the workbook never runs it; a text longer than a cell holds is
    shortened saying so (openpyxl would cut it without a word)."""
    sheet.append([fit_value(v) for v in values])
    for cell in sheet[sheet.max_row]:
        if cell.data_type == "f":
            cell.data_type = "s"

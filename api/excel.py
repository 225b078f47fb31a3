"""Excel workbooks for the finance office: Chinese headers, amounts as numbers."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from domain.money import from_fen
from domain.schema import PROGRAMS

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
        sheet.append([float(from_fen(record[c])) if c in money else record[c]
                      for c in columns])
    for index, name in enumerate(columns, start=1):
        letter = sheet.cell(row=1, column=index).column_letter
        sheet.column_dimensions[letter].width = 18
        if name in money:
            for (cell,) in sheet.iter_rows(min_row=2, min_col=index, max_col=index):
                cell.number_format = MONEY_FORMAT
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook.save(path)

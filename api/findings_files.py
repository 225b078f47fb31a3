"""The findings as files and words: the contract CSV, the evidence CSV, the workbook,
the terminal summary.

Reconciliation returns tables (``reconciliation.runner.run``); this module is where they
become what programs and people read (docs/commands.md, reconcile): the findings CSV and
``FILE_leads.csv`` beside it (plain UTF-8, no BOM), the complete evidence
``FILE_evidence.csv`` (one row per item), an XLSX workbook with Chinese headers, and the
summary lines the command prints. What a finding's amount is (money at stake, a book
value, a holding's value) is each rule's declaration (``Rule.amount_meaning_zh``): totals
keep the meanings apart.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd
from openpyxl import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from domain.money import format_fen, from_fen
from reconciliation import rules
from reconciliation.cells import (
    FORMULA_STARTS,
    OCCURRENCES,
    evidence_items,
    evidence_rows,
    fit_cell,
)
from reconciliation.rules import AMOUNT_MEANINGS_ZH, MONEY_AT_STAKE_ZH

CSV_COLUMNS = ["code", "subject_type", "subject_id", "period", "amount", "severity",
               "title", "detail", "evidence"]
EVIDENCE_COLUMNS = ["code", "subject_id", "event_id", "source"]
LEADS_SUFFIX, EVIDENCE_SUFFIX = "_leads", "_evidence"
HEADERS_ZH = ["问题代码", "对象类型", "对象编号", "所属期间", "涉及金额(元)", "严重程度",
              "问题", "详情", "证据"]
SUMMARY_HEADERS_ZH = ["问题代码", "中文名称", "数量", "涉及金额(元)", "金额性质"]
SUMMARY_SHEET, LEADS_SHEET = "汇总", "统计线索"
SEVERITY_ZH = {"high": "高", "medium": "中", "low": "低"}
AMOUNT_FORMAT = "0.00"
COLUMN_WIDTHS = [8, 16, 24, 10, 14, 8, 30, 80, 60]


# --- CSV -------------------------------------------------------------------------------

def leads_path(out: Path) -> Path:
    """``findings.csv`` -> ``findings_leads.csv``: the statistical leads, beside it."""
    return out.with_name(out.stem + LEADS_SUFFIX + out.suffix)


def evidence_path(out: Path) -> Path:
    """``findings.csv`` -> ``findings_evidence.csv``, beside it."""
    return out.with_name(out.stem + EVIDENCE_SUFFIX + out.suffix)


def write_findings_csv(findings: pd.DataFrame, path: Path,
                       sources: Mapping[str, str] | None = None) -> None:
    """The findings columns (docs/formats.md, Findings), plain UTF-8 (no BOM): programs
    read this file; people get the XLSX workbook, where Excel shows the Chinese right. No
    cell is longer than a spreadsheet cell holds; the complete evidence goes to
    ``FILE_evidence.csv`` beside it, each event paired with the file row it came from
    when ``sources`` (event id -> 'file#row', ``cells.event_sources``) is given."""
    evidence_file = evidence_path(path)
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(CSV_COLUMNS)
        for row in findings.itertuples(index=False):
            writer.writerow([
                _text(row.code), _text(row.subject_type), _text(row.subject_id),
                _text(row.period), _amount_text(row.amount_fen), _text(row.severity),
                _text(row.title), _detail(row.detail),
                _evidence(row.evidence, evidence_file.name),
            ])
    write_evidence_csv(findings, evidence_file, sources or {})


def write_evidence_csv(findings: pd.DataFrame, path: Path, sources: Mapping[str, str]) -> int:
    """One row per evidence item of every finding (``EVIDENCE_COLUMNS``), plain UTF-8, no
    cell a formula (a hostile file name is data). Returns the rows written."""
    written = 0
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(EVIDENCE_COLUMNS)
        for code, subject, evidence in zip(findings["code"], findings["subject_id"],
                                           findings["evidence"], strict=True):
            for event_id, source in evidence_rows("" if pd.isna(evidence) else evidence,
                                                  sources):
                writer.writerow([_safe_cell(code), _safe_cell(subject), _safe_cell(event_id),
                                 _safe_cell(source)])
                written += 1
    return written


def _amount_text(amount_fen: Any) -> str:  # a cell of the Int64 column: an int or <NA>
    return "" if pd.isna(amount_fen) else format_fen(int(amount_fen))


def _plain(value: object) -> str:
    return "" if value is None or value is pd.NA else str(value)


def _safe_cell(value: object) -> str:
    """The cell's text, quoted so a spreadsheet never runs it as a formula."""
    text = _plain(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _text(value: object) -> str:
    return fit_cell(_safe_cell(value))


def _detail(value: object) -> str:
    return fit_cell(_safe_cell(value), OCCURRENCES)


def _evidence(value: object, evidence_file: str) -> str:
    return fit_cell(_safe_cell(value), evidence_items(evidence_file))


# --- XLSX ------------------------------------------------------------------------------

# What the subject of a finding is, for people (the CSV keeps the code).
SUBJECT_TYPE_ZH = {t.name: t.label_zh for t in rules.SUBJECT_TYPES.values()}
# A finding without an amount (it names a subject only): counted apart from every meaning
# of an amount (``rules.AMOUNT_MEANINGS_ZH``).
NO_AMOUNT_ZH = "不涉及金额"
AMOUNT_MEANING_NOTES_ZH = {**AMOUNT_MEANINGS_ZH,
                           NO_AMOUNT_ZH: "只指出对象，如重复享受、身份信息不实"}
SUMMARY_TOTAL = "合计"
EVIDENCE_FILE_UNNAMED = "FILE_evidence.csv"


def write_findings_xlsx(findings: pd.DataFrame, leads: pd.DataFrame, path: Path,
                        findings_csv: Path | None = None) -> None:
    """A workbook for people: summary, one sheet per code with findings, the leads.
    ``findings_csv`` names the evidence files a shortened evidence cell points to."""
    evidence_files = (EVIDENCE_FILE_UNNAMED, EVIDENCE_FILE_UNNAMED) if findings_csv is None \
        else (evidence_path(findings_csv).name, evidence_path(leads_path(findings_csv)).name)
    book = Workbook()
    summary = book.active
    assert summary is not None
    summary.title = SUMMARY_SHEET
    _write_summary(summary, findings)
    for code in _codes_in_order(findings):
        _write_findings_sheet(book.create_sheet(code), findings[findings["code"] == code],
                              evidence_files[0])
    _write_findings_sheet(book.create_sheet(LEADS_SHEET), leads, evidence_files[1])
    book.save(path)


def _write_summary(sheet: Worksheet, findings: pd.DataFrame) -> None:
    sheet.append(SUMMARY_HEADERS_ZH)
    titles = _titles_zh(findings)
    for code in _codes_in_order(findings):
        rows = findings[findings["code"] == code]
        _append(sheet, [code, titles[code], len(rows), _total_fen(rows),
                        _meaning_of_code(rows)], amount_column=4)
    _append(sheet, [SUMMARY_TOTAL, "全部问题（金额性质不同，不相加）", len(findings), pd.NA, ""],
            amount_column=4)
    for meaning, rows in _by_meaning(findings):
        _append(sheet, [SUMMARY_TOTAL, meaning, len(rows), _total_fen(rows),
                        AMOUNT_MEANING_NOTES_ZH[meaning]], amount_column=4)
    sheet.freeze_panes = "A2"
    for letter, width in zip("ABCDE", (10, 30, 8, 16, 40), strict=True):
        sheet.column_dimensions[letter].width = width


def _write_findings_sheet(sheet: Worksheet, rows: pd.DataFrame, evidence_file: str) -> None:
    sheet.append(HEADERS_ZH)
    for row in rows.itertuples(index=False):
        _append(sheet, [row.code, SUBJECT_TYPE_ZH.get(row.subject_type, row.subject_type),
                        row.subject_id, row.period, row.amount_fen,
                        SEVERITY_ZH.get(row.severity, row.severity), row.title,
                        fit_cell(_plain(row.detail), OCCURRENCES),
                        fit_cell(_plain(row.evidence), evidence_items(evidence_file))],
                amount_column=5)
    sheet.freeze_panes = "A2"
    for index, width in enumerate(COLUMN_WIDTHS):
        sheet.column_dimensions[chr(ord("A") + index)].width = width


def _append(sheet: Worksheet, values: list, amount_column: int) -> None:
    """One row below the header; the amount (fen) becomes a number, text never a formula
    and never longer than a cell holds."""
    row = sheet.max_row + 1
    for column, value in enumerate(values, start=1):
        cell = sheet.cell(row=row, column=column)
        if column == amount_column:
            if not pd.isna(value):
                # Float only as the cell's value: Excel has no decimal type. 0.00 shows it.
                cell.value = float(from_fen(int(value)))
                cell.number_format = AMOUNT_FORMAT
        elif isinstance(value, str):
            cell.value = fit_cell(value)
            cell.data_type = "s"  # openpyxl would store '=…' as a formula
        else:
            cell.value = value


def _total_fen(rows: pd.DataFrame) -> int | None:
    """The rows' amounts summed; None when none of them has an amount."""
    total = rows["amount_fen"].astype("Int64").sum(min_count=1)
    return None if pd.isna(total) else int(total)


def _meanings(rows: pd.DataFrame) -> pd.Series:
    """What each finding's amount is: by its code, or none when it has no amount."""
    if rows.empty:
        return pd.Series([], dtype=object)
    declared = {r.code: r.amount_meaning_zh for r in rules.all_rules()}
    # a code no rule of the registry declares (a table from elsewhere): money at stake
    meaning = rows["code"].map(lambda code: declared.get(code, MONEY_AT_STAKE_ZH))
    return meaning.where(rows["amount_fen"].notna(), NO_AMOUNT_ZH)


def _meaning_of_code(rows: pd.DataFrame) -> str:
    """The meaning of one code's amounts (the first, since a code has one meaning)."""
    found = [m for m in _meanings(rows) if m != NO_AMOUNT_ZH]
    return found[0] if found else NO_AMOUNT_ZH


def _by_meaning(findings: pd.DataFrame) -> list[tuple[str, pd.DataFrame]]:
    """Findings per meaning of their amount: money at stake always, the others if any."""
    meanings = _meanings(findings)
    out = [(MONEY_AT_STAKE_ZH, findings[meanings == MONEY_AT_STAKE_ZH])]
    for meaning in [*AMOUNT_MEANINGS_ZH, NO_AMOUNT_ZH]:
        if meaning == MONEY_AT_STAKE_ZH:
            continue
        rows = findings[meanings == meaning]
        if not rows.empty:
            out.append((meaning, rows))
    return out


def _codes_in_order(findings: pd.DataFrame) -> list[str]:
    """Codes present, in contract order (then any others alphabetically)."""
    present = set(findings["code"])
    known = [r.code for r in rules.all_rules() if r.code in present]
    return known + sorted(present - set(known))


def _titles_zh(findings: pd.DataFrame) -> dict[str, str]:
    """Chinese name per code: the title's first word ('备用金未核销 reserve …')."""
    firsts = findings.drop_duplicates("code")
    return {code: str(title).split(" ", 1)[0]
            for code, title in zip(firsts["code"], firsts["title"], strict=True)}


# --- terminal --------------------------------------------------------------------------

def summary_lines(findings: pd.DataFrame, leads: pd.DataFrame) -> list[str]:
    """Per code (code beside its Chinese name) count and amount; the totals per meaning
    of the amount, never added together; then the leads apart (never counted)."""
    titles = _titles_zh(findings)
    lines = []
    for code in _codes_in_order(findings):
        rows = findings[findings["code"] == code]
        lines.append(f"{code} {titles[code]}：{len(rows)} 项，{_amount_words(rows)}")
    lines.append(f"{SUMMARY_TOTAL}：{len(findings)} 项问题（金额按性质分列，不相加）")
    for meaning, rows in _by_meaning(findings):
        lines.append(f"  {meaning}：{len(rows)} 项" + (
            "" if meaning == NO_AMOUNT_ZH else f"，{_yuan_text(_total_fen(rows))} 元") + (
            "" if meaning == MONEY_AT_STAKE_ZH else f"（{AMOUNT_MEANING_NOTES_ZH[meaning]}）"))
    lines.append(f"统计线索（供核查参考，不是问题，不计入合计）：{len(leads)} 项")
    return lines


def _amount_words(rows: pd.DataFrame) -> str:
    meaning = _meaning_of_code(rows)
    if meaning == NO_AMOUNT_ZH:
        return NO_AMOUNT_ZH
    label = "" if meaning == MONEY_AT_STAKE_ZH else f"{meaning} "
    return f"{label}{_yuan_text(_total_fen(rows))} 元"


def _yuan_text(total_fen: int | None) -> str:
    return "0.00" if total_fen is None else format_fen(total_fen)

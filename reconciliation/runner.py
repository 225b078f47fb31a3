"""Run every enabled finding rule over the frames and write what they found.

One pipeline with named stages, beancount-style: take the rules of the registry
(``reconciliation.rules``), run each ``check`` with its policy, check the shape of what
came back (one row per subject, exactly ``FINDING_COLUMNS``), collect everything, then
write. Findings (P/B/E/R/A/D codes) and statistical leads (S codes, ``Rule.lead``) stay
apart: a lead is a reason to look, never a finding to count.
"""

from __future__ import annotations

import csv
import datetime as dt
import multiprocessing
import os
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pandas as pd
from openpyxl import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from domain.money import format_fen, from_fen
from reconciliation import rules
from reconciliation.cells import (OCCURRENCES, evidence_items, evidence_path, fit_cell,
                                  write_evidence_csv)
from reconciliation.common import FINDING_COLUMNS, Frames, empty_findings
from reconciliation.rules import Rule

# Module names of every registered code, in the contract's order (the writers' order).
ALL_MODULES: list[str] = [r.code.lower() for r in rules.all_rules()]

CSV_COLUMNS = ["code", "subject_type", "subject_id", "period", "amount", "severity",
               "title", "detail", "evidence"]
# A spreadsheet evaluates a cell beginning with one of these as a formula (CSV injection);
# tab and carriage return are on OWASP's list too.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
HEADERS_ZH = ["问题代码", "对象类型", "对象编号", "所属期间", "涉及金额(元)", "严重程度",
              "问题", "详情", "证据"]
SUMMARY_HEADERS_ZH = ["问题代码", "中文名称", "数量", "涉及金额(元)", "金额性质"]
SUMMARY_SHEET, LEADS_SHEET = "汇总", "统计线索"
SEVERITY_ZH = {"high": "高", "medium": "中", "low": "低"}
AMOUNT_FORMAT = "0.00"
COLUMN_WIDTHS = [8, 16, 24, 10, 14, 8, 30, 80, 60]

Progress = Callable[[str], None]
# Below this many payroll lines the rules run one after the other: starting worker
# processes costs more than it saves.
PARALLEL_MIN_PAYROLL = 100_000


def run(frames: Frames, policy: dict[str, dict], as_of: str,
        progress: Progress | None = None, codes: Sequence[str] | None = None,
        jobs: int | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(findings, leads), each sorted by (code, subject_id).

    ``codes`` defaults to every registered rule and screen (an unknown code is an
    error); a code absent from ``policy`` runs with its defaults. ``jobs`` worker
    processes (default: one per CPU) share the frames by ``fork`` and run the rules side
    by side once the month is large (PARALLEL_MIN_PAYROLL); the result is the same table
    as one process gives.
    """
    dt.date.fromisoformat(as_of)  # a malformed as-of date fails here, not deep in a rule
    chosen = rules.all_rules() if codes is None else tuple(rules.rule(c) for c in codes)
    enabled = _enabled(chosen, policy, progress)
    workers = _workers(jobs, len(enabled), len(frames.payroll))
    if workers > 1:
        found = _run_forked(enabled, frames, as_of, progress, workers)
    else:
        found = {code: _run_one(rules.rule(code), settings, frames, as_of, progress)
                 for code, settings in enabled.items()}
    return (_combined([found[r.code] for r in chosen if not r.lead and r.code in found]),
            _combined([found[r.code] for r in chosen if r.lead and r.code in found]))


def _enabled(chosen: Sequence[Rule], policy: dict[str, dict],
             progress: Progress | None) -> dict[str, dict]:
    """The settings of each rule to run (its defaults, then the policy), in order."""
    out = {}
    for rule in chosen:
        settings = {**rule.defaults, **policy.get(rule.code, {})}
        if not settings.pop("enabled", True):
            _tell(progress, f"{rule.code} {rule.title_zh}: 已停用 (disabled)")
            continue
        out[rule.code] = settings
    return out


def _workers(jobs: int | None, count: int, payroll_lines: int) -> int:
    if jobs is None:
        jobs = os.cpu_count() or 1
    if payroll_lines < PARALLEL_MIN_PAYROLL \
            or "fork" not in multiprocessing.get_all_start_methods():
        return 1
    return max(1, min(jobs, count))


def _check(code: str, settings: dict, frames: Frames, as_of: str) -> pd.DataFrame:
    rule = rules.rule(code)
    return _checked_result(rule, rule.check(frames, settings, as_of))


def _tell_found(progress: Progress | None, rule: Rule, found: pd.DataFrame) -> None:
    _tell(progress, f"{rule.code} {rule.title_zh}: {len(found)}")


def _run_one(rule: Rule, settings: dict, frames: Frames, as_of: str,
             progress: Progress | None) -> pd.DataFrame:
    found = _check(rule.code, settings, frames, as_of)
    _tell_found(progress, rule, found)
    return found


# What the forked workers read: set just before the pool forks them, so each inherits
# the frames (copy-on-write) instead of receiving them pickled.
_SHARED: tuple[Frames, str] | None = None


def _check_in_worker(code: str, settings: dict) -> pd.DataFrame:
    assert _SHARED is not None, "worker started without the frames"
    frames, as_of = _SHARED
    return _check(code, settings, frames, as_of)


def _run_forked(enabled: dict[str, dict], frames: Frames, as_of: str,
                progress: Progress | None, workers: int) -> dict[str, pd.DataFrame]:
    """Each rule in a worker process, the costliest submitted first (``Rule.cost``); the
    results are gathered by code, so the order they finish in changes nothing."""
    global _SHARED
    order = sorted(enabled, key=lambda code: -rules.rule(code).cost)  # stable: ties keep order
    _SHARED = (frames, as_of)
    try:
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) \
                as pool:
            futures = {code: pool.submit(_check_in_worker, code, enabled[code])
                       for code in order}
            found = {}
            for code in enabled:  # progress in registry order, as the one-process run tells it
                found[code] = futures[code].result()
                _tell_found(progress, rules.rule(code), found[code])
    finally:
        _SHARED = None
    return found


def _combined(results: list[pd.DataFrame]) -> pd.DataFrame:
    found_any = [r for r in results if not r.empty]
    if not found_any:
        return empty_findings()
    out = pd.concat(found_any, ignore_index=True)
    out["amount_fen"] = out["amount_fen"].astype("Int64")
    return out.sort_values(["code", "subject_id"], kind="stable").reset_index(drop=True)


def _checked_result(rule: Rule, found: pd.DataFrame) -> pd.DataFrame:
    """The rule's output if it keeps the contract; a loud error naming it if not."""
    if list(found.columns) != FINDING_COLUMNS:
        raise RuntimeError(f"{rule.module}: check returned columns {list(found.columns)}, "
                           f"expected {FINDING_COLUMNS}")
    if not found.empty and set(found["code"]) != {rule.code}:
        raise RuntimeError(f"{rule.module}: check returned codes {set(found['code'])}")
    if found.duplicated(["subject_type", "subject_id"]).any():
        raise RuntimeError(f"{rule.module}: more than one finding for one subject")
    return found


def _tell(progress: Progress | None, message: str) -> None:
    if progress is not None:
        progress(message)


# --- CSV -------------------------------------------------------------------------------

def leads_path(out: Path) -> Path:
    """``findings.csv`` -> ``findings_leads.csv``: the statistical leads, beside it."""
    return out.with_name(out.stem + "_leads" + out.suffix)


def write_findings_csv(findings: pd.DataFrame, path: Path,
                       sources: Mapping[str, str] | None = None) -> None:
    """The findings columns of docs/formats.md, plain UTF-8 (no BOM): programs read this file; people
    get the XLSX workbook, where Excel shows the Chinese right. No cell is longer than a
    spreadsheet cell holds; the complete evidence goes to ``FILE_evidence.csv`` beside
    it, each event paired with the file row it came from when ``sources`` (event id ->
    'file#row', ``cells.event_sources``) is given."""
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
    write_evidence_csv(findings, evidence_file, sources or {}, _safe_cell)


def _amount_text(amount_fen: object) -> str:
    return "" if pd.isna(amount_fen) else format_fen(int(amount_fen))  # type: ignore[call-overload]


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
# What a finding's amount is. Most are money at stake (paid, held back or owed); a few
# rules report a value nobody paid out (their modules' docstrings say so). Adding an
# asset's book value to money paid wrongly means nothing, so totals keep them apart.
MONEY_AT_STAKE_ZH = "涉及资金"
AMOUNT_MEANING_ZH = {"A01": "资产原值", "A02": "资产原值", "E08": "财产价值"}
NO_AMOUNT_ZH = "不涉及金额"
AMOUNT_MEANING_NOTES_ZH = {
    MONEY_AT_STAKE_ZH: "错付、多付、未核销、滞留等涉及的钱",
    "资产原值": "资产的账面价值，不是付出的钱",
    "财产价值": "比对到的车辆、房产、工商登记的价值，不是付出的钱",
    NO_AMOUNT_ZH: "只指出对象，如重复享受、身份信息不实",
}
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


def _total_fen(rows: pd.DataFrame) -> object:
    return rows["amount_fen"].astype("Int64").sum(min_count=1)


def _meanings(rows: pd.DataFrame) -> pd.Series:
    """What each finding's amount is: by its code, or none when it has no amount."""
    if rows.empty:
        return pd.Series([], dtype=object)
    meaning = rows["code"].map(lambda code: AMOUNT_MEANING_ZH.get(code, MONEY_AT_STAKE_ZH))
    return meaning.where(rows["amount_fen"].notna(), NO_AMOUNT_ZH)


def _meaning_of_code(rows: pd.DataFrame) -> str:
    """The meaning of one code's amounts (the first, since a code has one meaning)."""
    found = [m for m in _meanings(rows) if m != NO_AMOUNT_ZH]
    return found[0] if found else NO_AMOUNT_ZH


def _by_meaning(findings: pd.DataFrame) -> list[tuple[str, pd.DataFrame]]:
    """Findings per meaning of their amount: money at stake always, the others if any."""
    meanings = _meanings(findings)
    out = [(MONEY_AT_STAKE_ZH, findings[meanings == MONEY_AT_STAKE_ZH])]
    for meaning in [*dict.fromkeys(AMOUNT_MEANING_ZH.values()), NO_AMOUNT_ZH]:
        rows = findings[meanings == meaning]
        if not rows.empty:
            out.append((meaning, rows))
    return out


def _codes_in_order(findings: pd.DataFrame) -> list[str]:
    """Codes present, in contract order (then any others alphabetically)."""
    present = set(findings["code"])
    known = [name.upper() for name in ALL_MODULES if name.upper() in present]
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


def _yuan_text(total_fen: object) -> str:
    if pd.isna(total_fen):  # type: ignore[call-overload]
        return "0.00"
    return format_fen(int(total_fen))  # type: ignore[call-overload]

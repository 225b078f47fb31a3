"""No cell of any CSV or XLSX we write is longer than a spreadsheet cell holds (32,767
characters); a shortened cell says how many items it left out, and the complete evidence
of every finding is the FILE_evidence.csv beside the findings (docs/formats.md, Findings)."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import openpyxl
import pandas as pd

from api.command_io import write_csv
from api.disclosure import csv_text
from api.excel import write_balances_xlsx, write_registers_xlsx
from api.findings_files import evidence_path, write_findings_csv, write_findings_xlsx
from reconciliation.cells import (
    CELL_CHARS_MAX,
    OCCURRENCES,
    event_sources,
    evidence_items,
    fit_cell,
)
from reconciliation.common import FINDING_COLUMNS, frames_from_rows

PAIRS = 6000  # ~ 400,000 characters of evidence: a province-sized B01
OCCURRENCE_COUNT = 3000


def long_evidence(pairs: int = PAIRS) -> tuple[str, list[tuple[str, str]]]:
    """An evidence cell as the rules write it (tokens sorted, events apart from rows),
    and the (event id, file row) pairs behind it."""
    items = [(f"{n:08d}-aaaa-5bbb-8ccc-{n:012d}/1", f"bank_return_2025-01.csv#{n + 2}")
             for n in range(pairs)]
    tokens = sorted([f"event:{e}" for e, _ in items] + [row for _, row in items])
    return " ".join(tokens), items


def long_detail(count: int = OCCURRENCE_COUNT) -> str:
    return "".join(f"2025-{1 + n % 12:02d} 批次 DB{n:05d} 第 {n} 行成功支付 300.00 元；"
                   for n in range(count))


def big_finding() -> pd.DataFrame:
    evidence, _ = long_evidence()
    frame = pd.DataFrame([{
        "code": "B01", "subject_type": "township_program", "subject_id": "城关镇|dibao",
        "period": "", "amount_fen": 534400, "severity": "high",
        "title": "超拨付支出 spending above allocation", "detail": long_detail(),
        "evidence": evidence}], columns=FINDING_COLUMNS)
    frame["amount_fen"] = frame["amount_fen"].astype("Int64")
    return frame


def csv_rows(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def left_out(cell: str) -> int:
    match = re.search(r"另有 (\d+) ", cell)
    assert match is not None, cell[-200:]
    return int(match.group(1))


# -- the one shared function -------------------------------------------------------------
def test_a_short_cell_is_written_as_it_is() -> None:
    assert fit_cell("城关镇") == "城关镇"
    assert fit_cell("x" * CELL_CHARS_MAX) == "x" * CELL_CHARS_MAX


def test_a_long_evidence_cell_keeps_whole_items_and_counts_the_ones_left_out() -> None:
    evidence, _ = long_evidence()
    cell = fit_cell(evidence, evidence_items("findings_evidence.csv"))
    assert len(cell) <= CELL_CHARS_MAX
    kept = cell.split(" …（")[0].split()
    assert kept == evidence.split()[:len(kept)]  # whole tokens, in order
    assert len(kept) + left_out(cell) == 2 * PAIRS
    assert "findings_evidence.csv" in cell and "more items left out" in cell


def test_a_long_detail_keeps_whole_occurrences_and_counts_the_ones_left_out() -> None:
    detail = long_detail()
    cell = fit_cell(detail, OCCURRENCES)
    assert len(cell) <= CELL_CHARS_MAX
    kept = cell.split(" …（")[0]
    assert detail.startswith(kept) and kept.endswith("；")
    assert kept.count("；") + left_out(cell) == OCCURRENCE_COUNT
    assert "more occurrences left out" in cell


def test_a_long_plain_text_is_cut_and_says_how_many_characters_went() -> None:
    cell = fit_cell("村" * 100_000)
    assert len(cell) <= CELL_CHARS_MAX
    assert cell.count("村") + left_out(cell) == 100_000


# -- findings and leads ------------------------------------------------------------------
def test_findings_csv_cells_fit_and_the_evidence_file_has_every_item_paired(
        tmp_path: Path) -> None:
    findings = big_finding()
    _, pairs = long_evidence()
    sources = {event: row for event, row in pairs}
    out = tmp_path / "findings.csv"
    write_findings_csv(findings, out, sources=sources)
    raw = out.read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf")  # plain UTF-8, no BOM
    (row,) = csv_rows(out)
    assert max(len(cell) for cell in row.values()) <= CELL_CHARS_MAX
    assert "findings_evidence.csv" in row["evidence"]
    assert "more occurrences left out" in row["detail"]
    evidence = csv_rows(evidence_path(out))
    assert evidence_path(out).name == "findings_evidence.csv"
    assert list(evidence[0]) == ["code", "subject_id", "event_id", "source"]
    assert [(r["event_id"], r["source"]) for r in evidence] == sorted(pairs)
    assert {(r["code"], r["subject_id"]) for r in evidence} == {("B01", "城关镇|dibao")}


def test_without_sources_every_token_still_has_its_row_in_the_evidence_file(
        tmp_path: Path) -> None:
    out = tmp_path / "leads.csv"
    write_findings_csv(big_finding(), out)
    evidence = csv_rows(evidence_path(out))
    assert len(evidence) == 2 * PAIRS
    assert sum(1 for r in evidence if r["event_id"]) == PAIRS


def test_the_evidence_file_of_no_findings_is_a_header(tmp_path: Path) -> None:
    out = tmp_path / "findings.csv"
    write_findings_csv(pd.DataFrame(columns=FINDING_COLUMNS), out)
    assert evidence_path(out).read_bytes() == b"code,subject_id,event_id,source\r\n"


def test_findings_xlsx_cells_fit(tmp_path: Path) -> None:
    path = tmp_path / "findings.xlsx"
    write_findings_xlsx(big_finding(), big_finding().assign(code="S01"), path,
                        findings_csv=tmp_path / "findings.csv")
    book = openpyxl.load_workbook(path)
    longest = max(len(str(c.value)) for sheet in book for row in sheet.iter_rows()
                  for c in row if c.value is not None)
    assert longest <= CELL_CHARS_MAX
    evidence = book["B01"]["I2"].value
    assert "findings_evidence.csv" in evidence and left_out(evidence) > 0
    assert "findings_leads_evidence.csv" in book["统计线索"]["I2"].value


def test_event_sources_come_from_the_frames_the_findings_were_made_from() -> None:
    frames = frames_from_rows(bank_return=[
        {"batch_id": "B1", "line_no": 1, "status": "success", "amount_fen": 100,
         "evidence_event": "ev-1/1", "evidence_row": "bank_return.csv#2"},
        {"batch_id": "B1", "line_no": 2, "status": "success", "amount_fen": 100,
         "evidence_event": "ev-2/1", "evidence_row": "bank_return.csv#3"}])
    assert event_sources(frames, ["event:ev-2/1 bank_return.csv#3"]) == {
        "ev-2/1": "bank_return.csv#3"}


# -- every other writer ------------------------------------------------------------------
def test_balances_registers_and_household_csvs_keep_every_cell_under_the_limit(
        tmp_path: Path) -> None:
    table = pd.DataFrame({"township": ["乡" * 40_000], "program": ["dibao"],
                          "paid": [12_345]})
    write_csv(table, tmp_path / "balances.csv", money=("paid",))
    (row,) = csv_rows(tmp_path / "balances.csv")
    assert len(row["township"]) <= CELL_CHARS_MAX and left_out(row["township"]) > 0
    assert row["paid"] == "123.45"


def test_excel_workbooks_keep_every_cell_under_the_limit(tmp_path: Path) -> None:
    table = pd.DataFrame({"township": ["乡" * 40_000], "program": ["dibao"],
                          "allocated": [100], "paid": [50], "balance": [50]})
    write_balances_xlsx(table, "township", tmp_path / "b.xlsx")
    write_registers_xlsx({"asset_register": table.rename(columns={"paid": "value_fen"})},
                         tmp_path / "r.xlsx")
    for name in ("b.xlsx", "r.xlsx"):
        sheet = openpyxl.load_workbook(tmp_path / name).active
        assert sheet is not None
        # openpyxl itself would cut at the limit, silently: the note must be there
        assert len(sheet["A2"].value) <= CELL_CHARS_MAX, name
        assert left_out(sheet["A2"].value) > 0, name


def test_disclosure_csv_cells_fit() -> None:
    text = csv_text(pd.DataFrame({"township": ["城关镇"], "village": ["村" * 40_000]}))
    row = next(csv.DictReader(text.splitlines()))
    assert len(row["village"]) <= CELL_CHARS_MAX and left_out(row["village"]) > 0

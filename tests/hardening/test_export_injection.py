"""Formula injection end to end: hostile text loaded from a county file must come out of
every export (findings CSV/XLSX, disclosure CSVs, balance reports) as inert text."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest
from openpyxl import load_workbook

from api.sample_county import CountyTruth, generate_county
from tests.hardening.conftest import run_cli

# The household of a planted P05 (paid twice) finding, renamed in every file.
VICTIM_HOUSEHOLD = "QX000043"
HOSTILE_HOUSEHOLD_ID = "=cmd|' /C calc'!A0"
# Village and head name of the first household.
FIRST_HOUSEHOLD_TEXT = ",柳树村,丁超,"
HOSTILE_VILLAGE = "@SUM(1+1)*cmd|' /C calc'!A0"
HOSTILE_NAME = "-2+3+cmd|' /C calc'!A0"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
PLAIN_NUMBER_RE = re.compile(r"-?\d+(\.\d+)?")
PERIOD = "2025-03"


@pytest.fixture(scope="module")
def exports(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A county with hostile text, loaded, reconciled, disclosed and reported via the CLI."""
    work = tmp_path_factory.mktemp("injection")
    truth = generate_county(work / "county", households=100, messy=False)
    _plant_hostile_text(truth)
    db = f"sqlite:///{work / 'ledger.db'}"
    steps = [("load", str(truth.directory)),
             ("reconcile", "--as-of", truth.as_of, "--out", str(work / "findings.csv"),
              "--xlsx", str(work / "findings.xlsx")),
             ("disclose", "--period", PERIOD, "--out", str(work / "disclosure")),
             ("report", "balances", "--by", "household", "--as-of", truth.as_of,
              "--out", str(work / "balances.csv"), "--xlsx", str(work / "balances.xlsx"))]
    for step in steps:
        done = run_cli(db, *step, cwd=work)
        assert done.returncode == 0, (step, done.stderr)
    return work


def _plant_hostile_text(truth: CountyTruth) -> None:
    for path in truth.directory.glob("*.csv"):
        raw = path.read_bytes()
        encoding = "gb18030" if path.name.startswith("bank_return") else "utf-8-sig"
        text = raw.decode(encoding).replace(VICTIM_HOUSEHOLD, HOSTILE_HOUSEHOLD_ID)
        if path.name == "households.csv":
            assert text.count(FIRST_HOUSEHOLD_TEXT) == 1
            text = text.replace(FIRST_HOUSEHOLD_TEXT, f",{HOSTILE_VILLAGE},{HOSTILE_NAME},")
        path.write_bytes(text.encode(encoding))


def csv_cells(path: Path) -> list[str]:
    with open(path, encoding="utf-8", newline="") as handle:
        return [cell for row in csv.reader(handle) for cell in row]


def dangerous(cell: str) -> bool:
    return cell.startswith(FORMULA_STARTS) and not PLAIN_NUMBER_RE.fullmatch(cell)


def xlsx_cells(path: Path) -> list[tuple[str, object]]:
    book = load_workbook(path)  # not data_only: a formula would show as data_type 'f'
    return [(cell.data_type, cell.value) for sheet in book.worksheets
            for row in sheet.iter_rows() for cell in row if cell.value is not None]


def test_a_hostile_household_id_is_neutralised_in_the_findings_csv(exports: Path) -> None:
    cells = csv_cells(exports / "findings.csv")
    assert "'" + HOSTILE_HOUSEHOLD_ID in cells  # the P05 finding names it, made inert
    assert [c for c in cells if dangerous(c)] == []
    assert [c for c in csv_cells(exports / "findings_leads.csv") if dangerous(c)] == []


def test_the_findings_workbook_holds_hostile_text_as_strings_never_formulas(
        exports: Path) -> None:
    cells = xlsx_cells(exports / "findings.xlsx")
    assert ("s", HOSTILE_HOUSEHOLD_ID) in cells
    assert [c for c in cells if c[0] == "f"] == []


def test_hostile_village_and_name_are_neutralised_in_the_disclosure_csvs(exports: Path) -> None:
    rows = csv_cells(exports / "disclosure" / "disclosure.csv")
    assert "'" + HOSTILE_VILLAGE in rows
    assert any(c.startswith("'-") for c in rows)  # the masked hostile name
    assert [c for c in rows if dangerous(c)] == []
    assert [c for c in csv_cells(exports / "disclosure" / "summary.csv") if dangerous(c)] == []


def test_the_disclosure_pages_escape_hostile_text(exports: Path) -> None:
    for page in (exports / "disclosure").glob("*.html"):
        assert "<script" not in page.read_text(encoding="utf-8").lower()


def test_a_hostile_household_id_is_neutralised_in_the_balances_csv(exports: Path) -> None:
    cells = csv_cells(exports / "balances.csv")
    assert [c for c in cells if dangerous(c)] == []
    assert "'" + HOSTILE_HOUSEHOLD_ID in cells


def test_the_balances_workbook_holds_hostile_text_as_strings_never_formulas(
        exports: Path) -> None:
    cells = xlsx_cells(exports / "balances.xlsx")
    assert [c for c in cells if c[0] == "f"] == []
    assert ("s", HOSTILE_HOUSEHOLD_ID) in cells

"""The county as files: each kind written the way a county office writes it, and the
mess a real county makes.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
import re
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from openpyxl import Workbook

from api.sample_county.model import (
    FULL_WIDTH_DIGITS,
    Asset,
    AssetEvent,
    Bank,
    County,
    Enrolment,
    Household,
    Line,
    Reserve,
    spaced,
)
from domain.catalogue import ENUMS, columns
from domain.money import format_fen

if TYPE_CHECKING:  # the type csv.writer returns is only named in the C module
    import _csv

ENGLISH_HEADER_KINDS = ("enrolments", "standards")  # the rest are written as a county writes them
UTF8_BOM = "utf-8-sig"


def _zh(enum: str) -> dict[str, str]:
    """Code -> the word a county office writes for it (the catalogue's label)."""
    codes = ENUMS[enum]
    return {code: codes.label(code) for code in codes.words}


STATUS_ZH = _zh("status")
RECORD_TYPE_ZH = _zh("record_type")
LEVEL_ZH = {**_zh("approval_level"), "": ""}
ASSET_CLASS_ZH = _zh("asset_class")
EVENT_TYPE_ZH = _zh("asset_event_type")
HOLDING_KIND_ZH = _zh("holding_kind")


def headers(kind: str) -> list[str]:
    """The header a county writes: each column's Chinese label (the catalogue's first
    alias), or the English names for the kinds written in English."""
    if kind in ENGLISH_HEADER_KINDS:
        return [column.name for column in columns(kind)]
    return [column.label for column in columns(kind)]


@contextmanager
def csv_rows(path: Path, kind: str, encoding: str = "utf-8") -> Iterator[_csv.Writer]:
    """A csv writer for one contract file, header already written; rows are lists in the
    kind's column order (domain.catalogue)."""
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(headers(kind))
        yield writer


def _write_csv(path: Path, kind: str, rows: list[list[str]], encoding: str = "utf-8") -> None:
    with csv_rows(path, kind, encoding) as writer:
        writer.writerows(rows)


def _write_xlsx(path: Path, kind: str, rows: list[list[object]], stamp: dt.date) -> None:
    """First sheet, header row, money as numeric cells and dates as date cells."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = kind
    sheet.append(headers(kind))
    for row in rows:
        sheet.append(row)
    for cells in sheet.iter_rows(min_row=2):
        for cell in cells:
            if isinstance(cell.value, Decimal):
                cell.number_format = "0.00"
            elif isinstance(cell.value, dt.date):
                cell.number_format = "yyyy-mm-dd"
    buffer = io.BytesIO()
    workbook.save(buffer)
    path.write_bytes(_frozen_zip(buffer.getvalue(), stamp))


def _frozen_zip(xlsx: bytes, stamp: dt.date) -> bytes:
    """The same workbook with openpyxl's 'now' (document properties, zip entry times)
    replaced by ``stamp``, so a seed always gives the same bytes (and the same file
    digest, which is what makes loading idempotent)."""
    moment = f"{stamp.isoformat()}T00:00:00Z"
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(xlsx)) as source, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for entry in source.infolist():
            data = source.read(entry.filename)
            if entry.filename == "docProps/core.xml":
                data = re.sub(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*",
                              lambda m: m.group(1) + moment.encode(), data)
            info = zipfile.ZipInfo(entry.filename,
                                   date_time=(stamp.year, stamp.month, stamp.day, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            target.writestr(info, data)
    return out.getvalue()


def _yuan(fen: int | None) -> str:
    return "" if fen is None else format_fen(fen)


def _date_text(value: dt.date | str) -> str:
    return value.isoformat() if isinstance(value, dt.date) else value


def _household_row(h: Household, rng: random.Random) -> list[str]:
    exempt = rng.choice(("是", "1")) if h.exempt else ""
    return [h.household_id, h.township, h.village, h.head.name, h.head_id_text, str(h.members),
            h.bank_account, h.account_holder, exempt]


def _enrolment_row(e: Enrolment) -> list[str]:
    return [e.household_id, e.program, format_fen(e.monthly_fen), e.start, e.exit, e.gradual_until]


def _payroll_row(line: Line) -> list[str]:
    return [line.batch_id, str(line.line_no), line.program, line.period, line.township,
            line.household_id, line.payee_name, line.payee_id, line.account,
            format_fen(line.amount_fen)]


def _bank_row(bank: Bank) -> list[str]:
    return [bank.batch_id, str(bank.line_no), bank.holder, bank.account_text or bank.account,
            bank.amount_text or format_fen(bank.amount_fen), STATUS_ZH[bank.status], bank.reason,
            bank.value_date]


def _reserve_row(r: Reserve) -> list[str]:
    return [RECORD_TYPE_ZH[r.record_type], r.record_id, r.township, r.household_id,
            format_fen(r.amount_fen), r.date, LEVEL_ZH[r.level], r.approver, r.recorder,
            r.reference, r.document]


def _asset_row(a: Asset) -> list[object]:
    return [a.asset_id, a.name, ASSET_CLASS_ZH[a.asset_class], a.township, a.village,
            Decimal(format_fen(a.value_fen)), a.funding_source, a.project, a.rights_holder,
            a.custodian, dt.date.fromisoformat(a.registered_on)]


def _asset_event_row(e: AssetEvent) -> list[str]:
    return [e.event_id, e.asset_id, EVENT_TYPE_ZH[e.event_type], e.date, _yuan(e.amount_fen),
            e.counterparty, e.purpose, e.approval_document, e.note]


def _county_rows(c: County) -> dict[str, list[list]]:
    """Every file's rows as written, before any mess."""
    lines = sorted(c.lines, key=lambda line: (line.batch_id, line.line_no))
    banks = sorted([line.bank for line in lines if line.bank] + c.unmatched_bank,
                   key=lambda bank: (bank.batch_id, bank.line_no))
    return {
        "standards": [[s["program"], str(s["year"]), format_fen(s["amount_fen"]), "按人"]
                      for s in c.standards],
        "households": [_household_row(h, c.rng) for h in c.households],
        "enrolments": [_enrolment_row(e) for e in c.enrolments],
        "budgets": [[b["program"], str(b["year"]), format_fen(b["amount_fen"]), b["source"],
                     b["document_no"]] for b in c.budgets],
        "allocations": [[a["allocation_id"], a["program"], a["township"],
                         Decimal(format_fen(a["amount_fen"])), a["date"], a["document_no"]]
                        for a in c.allocations],
        "payroll": [_payroll_row(line) for line in lines],
        "bank_return": [_bank_row(bank) for bank in banks],
        "reserve": [_reserve_row(r)
                    for r in sorted(c.reserve, key=lambda r: (r.date, r.record_id))],
        "assets": [_asset_row(a) for a in c.assets],
        "asset_events": [_asset_event_row(e) for e in c.asset_events],
        "deaths": [[d["id_number"], d["name"], _date_text(d["date_of_death"])] for d in c.deaths],
        "officials": [[o[k] for k in ("official_id_number", "official_name", "position", "township",
                                      "relative_id_number", "relative_name", "relation")]
                      for o in c.officials],
        "holdings": [[h["id_number"], HOLDING_KIND_ZH[h["kind"]], h["description"],
                      format_fen(h["value_fen"]), _date_text(h["registered_on"])]
                     for h in c.holdings],
    }


# ---------------------------------------------------------------- the mess a real county makes

MESSY_ROWS = 3  # how many rows of a file get each kind of mess


def _messify(rows: dict[str, list[list]], rng: random.Random) -> None:
    """Full-width digits, stray spaces, a slashed date, a spaced account: all of which the
    contract says a loader normalises, so none of it changes a finding."""
    households = rows["households"]
    for row in rng.sample(households, MESSY_ROWS):
        row[3], row[5] = f" {row[3]} ", f"{row[5]} "
    wide = rng.choice([row for row in households if len(row[4]) == 18 and row[4].isdigit()])
    wide[4] = wide[4].translate(FULL_WIDTH_DIGITS)
    typed = rng.choice(households)
    typed[6] = spaced(typed[6])
    for row in rng.sample(rows["payroll"], MESSY_ROWS):
        row[9] = row[9].translate(FULL_WIDTH_DIGITS)
    for row in rng.sample(rows["payroll"], MESSY_ROWS):
        row[6], row[9] = f"{row[6]} ", f" {row[9]} "
    for row in rng.sample(rows["bank_return"], MESSY_ROWS):
        row[2] = f" {row[2]}"
    reserve = rows["reserve"]
    settled = [row for row in reserve if row[0] == RECORD_TYPE_ZH["settlement"]]
    slashed = rng.choice(settled)
    slashed[5] = slashed[5].replace("-", "/")
    rng.choice(reserve)[7] += " "


def write_county(c: County, out_dir: Path, messy: bool) -> None:
    rows = _county_rows(c)
    if messy:
        _messify(rows, c.rng)
    for kind in ("standards", "budgets", "reserve", "asset_events", "deaths", "officials",
                 "holdings"):
        _write_csv(out_dir / f"{kind}.csv", kind, rows[kind])
    _write_csv(out_dir / "households.csv", "households", rows["households"], UTF8_BOM)
    _write_csv(out_dir / "enrolments.csv", "enrolments", rows["enrolments"])
    _write_xlsx(out_dir / "allocations.xlsx", "allocations", rows["allocations"], c.as_of)
    _write_xlsx(out_dir / "assets.xlsx", "assets", rows["assets"], c.as_of)
    for period in c.periods:
        _write_csv(out_dir / f"payroll_{period}.csv", "payroll",
                   [row for row in rows["payroll"] if row[3] == period])
        _write_csv(out_dir / f"bank_return_{period}.csv", "bank_return",
                   [row for row in rows["bank_return"] if _batch_period(row[0]) == period], "gbk")


def _batch_period(batch_id: str) -> str:
    """'DB202501-02' -> '2025-01': the bank returns a batch in the file of its month."""
    return f"{batch_id[2:6]}-{batch_id[6:8]}"

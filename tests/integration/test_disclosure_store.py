"""The disclosure read from a real store, on SQLite and on PostgreSQL."""

from __future__ import annotations

import csv
import hashlib
import io
from decimal import Decimal
from pathlib import Path

from api.disclosure import ROW_COLUMNS, SUMMARY_COLUMNS, disclose_store
from domain.catalogue import columns
from tests.unit.test_disclosure import DIGEST, PERIOD, bank, household, payroll

CENT = Decimal("0.01")


def as_record(kind: str, row: dict) -> dict:
    """A frame-style test row as the ledger records it: canonical keys, money Decimal."""
    out = {}
    for column in columns(kind):
        if column.type.startswith("money"):
            fen = row[column.name + "_fen"]
            out[column.name] = None if fen is None else (Decimal(fen) / 100).quantize(CENT)
        else:
            out[column.name] = row[column.name]
    return out


def record(store, kind: str, rows: list[dict]) -> None:
    records = [as_record(kind, r) for r in rows]
    digest = hashlib.sha256(repr((kind, records)).encode()).hexdigest()
    store.ledger.record_file(kind=kind, name=f"{kind}.csv", sha256=digest, rows=records,
                             row_numbers=list(range(2, len(records) + 2)), actor="t")


def store_county(store) -> list[dict]:
    """11 paid households in one village (bank paid 480 of 500), one exempt household
    paid, one household of another village whose payment failed."""
    names = ["张三", "李四明", "王小二", "赵六", "孙七", "周八", "吴九", "郑十", "冯十一",
             "陈十二", "褚十三"]
    homes = [household(n, name) for n, name in enumerate(names, start=1)]
    homes += [household(12, "卫十四", exempt=True), household(13, "蒋十五", village="东村")]
    confirmed = [bank(n, n, "480.00") for n in range(1, 12)]
    confirmed += [bank(12, 12, "500.00"), bank(13, 13, "500.00", status="failed")]
    record(store, "households", homes)
    record(store, "payroll", [payroll(n, n, "500.00") for n in range(1, 14)])
    record(store, "bank_return", confirmed)
    return homes


def all_text_in(directory: Path) -> str:
    return "\n".join(p.name + "\n" + p.read_text(encoding="utf-8")
                     for p in sorted(directory.iterdir()))


def test_disclosure_through_a_real_store_publishes_nothing_private(store, tmp_path) -> None:
    homes = store_county(store)
    out = tmp_path / "disclosure"
    lines = disclose_store(store, PERIOD, out, digest_text=DIGEST)
    published = all_text_in(out)
    private = {h[k] for h in homes for k in ("household_id", "head_id_number", "bank_account")}
    assert [value for value in private if value in published] == []
    assert sorted(p.name for p in out.iterdir()) == [
        "disclosure.csv", "index.html", "notice_1.html", "summary.csv"]
    rows = list(csv.DictReader(io.StringIO((out / "disclosure.csv").read_text("utf-8"))))
    assert len(rows) == 11 and {r["amount"] for r in rows} == {"480.00"}
    assert "李*明" in {r["name_masked"] for r in rows}
    assert (out / "summary.csv").read_text("utf-8") == (
        "township,program,households,amount\n城关镇,dibao,11,5280.00\n")
    assert not (out / "disclosure.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    assert any("disclosure_exempt" in line for line in lines)


def test_disclosure_of_an_empty_period_through_a_real_store(store, tmp_path) -> None:
    store_county(store)
    out = tmp_path / "empty"
    lines = disclose_store(store, "2024-01", out)
    assert (out / "disclosure.csv").read_text("utf-8") == ",".join(ROW_COLUMNS) + "\n"
    assert (out / "summary.csv").read_text("utf-8") == ",".join(SUMMARY_COLUMNS) + "\n"
    assert "no payments" in lines[0]
    assert not list(out.glob("notice_*.html"))

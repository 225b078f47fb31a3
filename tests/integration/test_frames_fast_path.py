"""The column-wise ``load_frames`` gives exactly the frames of the row-by-row reading it
replaced (kept below as the reference), on a generated county with a correction, now and
as known before the correction; and its money conversion is ``to_fen(Decimal(v))``."""

from __future__ import annotations

import csv
import datetime as dt
import json
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from api.loader import load_directory
from api.sample_county import generate_county
from api.wiring import Store
from domain.catalogue import columns, names
from domain.money import to_fen
from projections import facts
from projections.db import Database
from projections.frames import fen_of, load_frames, normalise_moment
from reconciliation.common import Frames, frame_of

CORRECTED_AMOUNT = "1.23"


def reference_rows(db: Database, kind: str, known_at: str | None) -> list[dict[str, Any]]:
    """The row-by-row reading load_frames used before (commit ed0506f), verbatim."""
    sql = ("SELECT key, fields, evidence_event, evidence_row, recorded_at FROM rm_facts "
           "WHERE kind=?")
    params: list[Any] = [kind]
    if known_at is not None:
        sql += " AND recorded_at <= ?"
        params.append(known_at)
    sql += " ORDER BY notification_id"
    latest: dict[str, dict[str, Any]] = {}
    money = [c.name for c in columns(kind) if c.type.startswith("money")]
    for key, fields_json, event, row, recorded_at in db.query(sql, params):
        fields = json.loads(fields_json)
        for name in money:
            value = fields.pop(name, None)
            fields[name + "_fen"] = None if value in (None, "") else to_fen(Decimal(value))
        fields.update(evidence_event=event, evidence_row=row, recorded_at=recorded_at)
        latest.pop(key, None)
        latest[key] = fields
    return list(latest.values())


def reference_frames(db: Database, known_at: str | None = None) -> dict[str, pd.DataFrame]:
    known_at = normalise_moment(known_at)
    return {kind: frame_of(kind, reference_rows(db, kind, known_at)) for kind in names()}


def assert_same_frames(fast: Frames, reference: dict[str, pd.DataFrame]) -> None:
    """Equal values, dtypes, order and, in text columns, the same Python types."""
    for kind, expected in reference.items():
        got = getattr(fast, kind)
        pd.testing.assert_frame_equal(got, expected, check_exact=True, obj=kind)
        for name in expected.columns:
            if expected[name].dtype == object:
                assert [type(v) for v in got[name]] == [type(v) for v in expected[name]]


def _read_csv(path: Path) -> tuple[list[list[str]], str]:
    for encoding in ("utf-8-sig", "gbk"):
        try:
            with open(path, encoding=encoding, newline="") as handle:
                return list(csv.reader(handle)), encoding
        except UnicodeDecodeError:
            continue
    raise AssertionError(f"{path}: neither UTF-8 nor GBK")


def write_correction(county: Path, folder: Path) -> tuple[str, str]:
    """A folder with one bank-return row of the county whose amount is changed: the
    same (batch_id, line_no) key, a second version. Returns that key."""
    source = sorted(county.glob("bank_return_*.csv"))[0]
    rows, encoding = _read_csv(source)
    header, first = rows[0], rows[1]
    amount = header.index("金额") if "金额" in header else header.index("amount")
    assert first[amount] != CORRECTED_AMOUNT
    first[amount] = CORRECTED_AMOUNT
    folder.mkdir(parents=True)
    with open(folder / source.name, "w", encoding=encoding, newline="") as handle:
        csv.writer(handle).writerows([header, first])
    return first[0], first[1]


@pytest.fixture
def corrected_county(store: Store, tmp_path: Path) -> tuple[Store, str, tuple[str, str]]:
    """A loaded county, then one of its bank lines corrected; the moment in between."""
    truth = generate_county(tmp_path / "county", seed=7, households=120, months=3)
    load_directory(store, truth.directory)
    time.sleep(0.01)
    before = facts.moment_text(dt.datetime.now().astimezone())
    time.sleep(0.01)
    key = write_correction(truth.directory, tmp_path / "correction")
    report = load_directory(store, tmp_path / "correction")
    assert report.outcomes[0].corrected == 1
    facts.catch_up(store.ledger, store.db)
    return store, before, key


def _bank_amount_fen(frames: Frames, key: tuple[str, str]) -> int:
    bank = frames.bank_return
    line = bank[(bank["batch_id"] == key[0]) & (bank["line_no"] == key[1])]
    assert len(line) == 1, "one row per key, whatever its versions"
    return int(line["amount_fen"].iloc[0])


def test_fast_frames_equal_the_reference_after_a_correction(corrected_county) -> None:
    store, _, key = corrected_county
    fast = load_frames(store.db)
    assert_same_frames(fast, reference_frames(store.db))
    assert _bank_amount_fen(fast, key) == 123
    assert fast.bank_return["evidence_row"].iloc[-1].startswith("bank_return_"), \
        "the corrected line moves to where its correction was recorded"


def test_fast_frames_equal_the_reference_as_known_before_the_correction(
        corrected_county) -> None:
    store, before, key = corrected_county
    fast = load_frames(store.db, known_at=before)
    assert_same_frames(fast, reference_frames(store.db, known_at=before))
    assert _bank_amount_fen(fast, key) != 123


def test_fast_frames_equal_the_reference_when_nothing_is_known_yet(
        corrected_county) -> None:
    store, _, _ = corrected_county
    long_ago = "2000-01-01T00:00:00+00:00"
    fast = load_frames(store.db, known_at=long_ago)
    assert_same_frames(fast, reference_frames(store.db, known_at=long_ago))
    assert all(getattr(fast, kind).empty for kind in names())


@pytest.mark.parametrize("text", [
    "123.45", "-0.50", "0.00", "-0", "7", "0007.10", "1.5", "1.005", "1.004", " 12.00 ",
    "1e2", "1_000.00", "-12.345", "９.００", "12.", ".5",
])
def test_amount_text_becomes_the_same_fen_as_decimal_gives(text: str) -> None:
    assert fen_of(text) == to_fen(Decimal(text))


@pytest.mark.parametrize("value", [None, ""])
def test_an_empty_amount_stays_unknown(value: object) -> None:
    assert fen_of(value) is None


def test_a_number_stored_as_json_number_converts_as_decimal_does() -> None:
    assert fen_of(12) == to_fen(Decimal(12)) == 1200
    assert fen_of(0.1) == to_fen(Decimal(0.1))


def _add_fact(store: Store, kind: str, key: str, fields: dict[str, Any]) -> None:
    """A fact row as a hand-edited or future writer might leave it."""
    last = store.db.query("SELECT MAX(notification_id) FROM rm_facts")[0][0]
    with store.db.transaction():
        facts.insert_rows(store.db, "rm_facts", facts.FACT_COLUMNS, [(
            last + 1, kind, key, "2030-01-01T00:00:00.000000Z", "2030-01-01", "t",
            json.dumps(fields, ensure_ascii=False), "e/1", "x.csv#2", "")])


def test_a_number_in_a_text_field_and_an_amount_as_a_json_number_read_as_the_reference(
        corrected_county) -> None:
    """Fact rows a hand edit or a future writer might leave: the frame is still the
    reference frame (a text column holds str(12), '12')."""
    store, _, _ = corrected_county
    line = {c.name: "" for c in columns("payroll")}
    _add_fact(store, "payroll", "Z|1", {**line, "batch_id": "Z", "line_no": "1",
                                        "township": 12, "amount": 1.5})
    fast = load_frames(store.db)
    assert_same_frames(fast, reference_frames(store.db))
    assert fast.payroll["township"].iloc[-1] == "12"


def test_an_amount_that_is_no_number_fails_as_in_the_reference_reading(
        corrected_county) -> None:
    store, _, _ = corrected_county
    line = {c.name: "" for c in columns("payroll")}
    _add_fact(store, "payroll", "Z|2", {**line, "batch_id": "Z", "line_no": "2",
                                        "amount": "12,50"})
    with pytest.raises(ArithmeticError):
        load_frames(store.db)


def _add_fact_text(store: Store, kind: str, key: str, text: str) -> None:
    last = store.db.query("SELECT MAX(notification_id) FROM rm_facts")[0][0]
    with store.db.transaction():
        facts.insert_rows(store.db, "rm_facts", facts.FACT_COLUMNS, [(
            last + 1, kind, key, "2030-01-01T00:00:00.000000Z", "2030-01-01", "t",
            text, "e/1", "x.csv#2", "")])


ODD_HOUSEHOLD_FIELDS = [  # each read by the reference its own way; Arrow must agree or step aside
    '{"household_id":"ODD","members":"3","disclosure_exempt":false}',  # int as text
    '{"household_id":"ODD","members":2.0}',  # a fraction in an int column
    '{"household_id":"ODD","disclosure_exempt":"false"}',  # bool as text: True
    '{"household_id":"ODD","township":true,"village":null}',  # bool and null in text
    '{"household_id":"ODD","township":"a","township":"b"}',  # a key given twice
    '{"household_id":"ODD",\n"township":"two lines"}',  # a text over two lines
    '{"household_id":"ODD","township":"tab\\there \\"quoted\\", comma\\\\"}',
    '{"household_id":"ODD","members":99999999999999999999}',  # beyond int64
    '{"household_id":"ODD","extra":[1,{"a":2}]}',  # a field no column reads
    '{"household_id":"ODD"}',  # every other field missing
]


@pytest.mark.parametrize("text", ODD_HOUSEHOLD_FIELDS)
def test_odd_fields_texts_read_as_the_reference_reads_them(corrected_county, text: str) -> None:
    store, _, _ = corrected_county
    _add_fact_text(store, "households", "ODD", text)
    try:
        expected = reference_frames(store.db)
    except (ValueError, OverflowError) as error:  # the reference refuses: so must we
        with pytest.raises(type(error)):
            load_frames(store.db)
        return
    assert_same_frames(load_frames(store.db), expected)


@pytest.mark.parametrize("amount", ["1.005", "1e2", " 12.00 ", "92233720368547758.07", "-0.5"])
def test_unusual_amount_texts_convert_as_fen_of_does(corrected_county, amount: str) -> None:
    store, _, _ = corrected_county
    line = {c.name: "" for c in columns("payroll")}
    _add_fact(store, "payroll", "Z|3", {**line, "batch_id": "Z", "line_no": "3",
                                        "amount": amount})
    assert_same_frames(load_frames(store.db), reference_frames(store.db))

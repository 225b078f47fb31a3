"""The money facts: what a line paid, when, what a settlement settles; and that the form
over one record's fields and the form over frames agree on every case."""

from __future__ import annotations

from decimal import Decimal

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from domain import money_facts
from domain.money import from_fen
from reconciliation.common import frames_from_rows

DATES = ["", "2025-01-20", "2025-03-31", "2025-04-01", "2025-12-31"]
AS_OFS = [None, "2025-01-19", "2025-03-31", "2026-01-01"]


def payroll_row(line: int, amount_fen: int, period: str = "2025-03") -> dict:
    return {"batch_id": "B1", "line_no": str(line), "program": "dibao", "period": period,
            "township": "城关镇", "household_id": f"H{line % 3}", "amount_fen": amount_fen}


def bank_row(line: int, status: str, amount_fen: int | None, value_date: str) -> dict:
    return {"batch_id": "B1", "line_no": str(line), "status": status,
            "amount_fen": amount_fen, "value_date": value_date}


def fields(row: dict) -> dict:
    """A frame row as the ledger stores the record: money as decimal text, or empty."""
    out = {k: v for k, v in row.items() if k != "amount_fen"}
    amount = row["amount_fen"]
    out["amount"] = "" if amount is None else str(from_fen(amount))
    return out


lines = st.lists(st.tuples(
    st.integers(min_value=1, max_value=500_000),                      # payroll fen
    st.one_of(st.none(), st.sampled_from(["success", "failed"])),     # bank line, status
    st.one_of(st.none(), st.integers(min_value=0, max_value=500_000)),  # bank fen or empty
    st.sampled_from(DATES), st.sampled_from(["2024-12", "2025-03", "2025-12"])),
    min_size=1, max_size=8)


@settings(max_examples=100, deadline=None)
@given(lines=lines, as_of=st.sampled_from(AS_OFS))
def test_what_a_line_paid_is_the_same_one_line_at_a_time_and_over_frames(lines, as_of):
    payroll = [payroll_row(n, fen, period) for n, (fen, _, _, _, period) in enumerate(lines)]
    bank = [bank_row(n, status, bank_fen, date)
            for n, (_, status, bank_fen, date, _) in enumerate(lines) if status is not None]
    frames = frames_from_rows(payroll=payroll, bank_return=bank)
    paid = money_facts.payments(frames.payroll, frames.bank_return, as_of)
    by_line = dict(zip(paid["line_no"], paid["paid_fen"], strict=True))
    banks = {b["line_no"]: b for b in bank}
    for row in payroll:
        bank_line = banks.get(row["line_no"])
        expected = money_facts.paid_fen(fields(row), fields(bank_line) if bank_line else None,
                                        as_of)
        assert by_line.get(row["line_no"], 0) == expected
    dates = pd.Series([b["value_date"] for b in bank], dtype=object)
    assert money_facts.happened_by_dates(dates, as_of).tolist() == [
        money_facts.happened_by(d, as_of) for d in dates]


def test_a_success_without_a_bank_amount_paid_the_payroll_amount():
    payroll, bank = payroll_row(1, 24200), bank_row(1, "success", None, "2025-03-10")
    assert money_facts.paid_fen(fields(payroll), fields(bank)) == 24200
    frames = frames_from_rows(payroll=[payroll], bank_return=[bank])
    assert money_facts.payments(frames.payroll, frames.bank_return)["paid_fen"].tolist() == [
        24200]


def test_the_bank_amount_wins_when_the_bank_gives_one_and_a_failure_pays_nothing():
    payroll = fields(payroll_row(1, 24200))
    assert money_facts.paid_fen(payroll, fields(bank_row(1, "success", 14200, "2025-03-10"))) \
        == 14200
    assert money_facts.paid_fen(payroll, fields(bank_row(1, "failed", 24200, "2025-03-10"))) == 0
    assert money_facts.paid_fen(payroll, None) == 0


def test_a_payment_value_dated_after_as_of_has_not_happened_yet():
    payroll, bank = fields(payroll_row(1, 24200)), fields(bank_row(1, "success", 24200,
                                                                   "2025-04-01"))
    assert money_facts.paid_fen(payroll, bank, "2025-03-31") == 0
    assert money_facts.paid_fen(payroll, bank, "2025-04-01") == 24200


def test_a_bank_success_in_no_payroll_moves_its_own_amount_or_nothing():
    assert money_facts.unexplained_fen(fields(bank_row(9, "success", 5000, "2025-03-10"))) == 5000
    assert money_facts.unexplained_fen(fields(bank_row(9, "success", None, "2025-03-10"))) == 0


def test_an_undated_success_counts_in_its_payroll_periods_year():
    frames = frames_from_rows(payroll=[payroll_row(1, 100, "2025-12"), payroll_row(2, 200)],
                              bank_return=[bank_row(1, "success", 100, ""),
                                           bank_row(2, "success", 200, "2026-01-05")])
    paid = money_facts.payments(frames.payroll, frames.bank_return)
    assert money_facts.payment_years(paid).tolist() == ["2025", "2026"]
    in_2025 = money_facts.paid_in_year_to(paid, "2025-12-31")
    assert in_2025["line_no"].tolist() == ["1"]


def test_allocations_count_from_their_date():
    frames = frames_from_rows(allocations=[
        {"allocation_id": "A1", "program": "dibao", "township": "城关镇", "amount_fen": 1,
         "date": "2025-02-01"},
        {"allocation_id": "A2", "program": "dibao", "township": "城关镇", "amount_fen": 2,
         "date": "2025-05-01"},
        {"allocation_id": "A3", "program": "dibao", "township": "城关镇", "amount_fen": 4,
         "date": "2024-12-31"}])
    by_date = money_facts.allocated_by(frames.allocations, "2025-04-30")
    assert by_date["allocation_id"].tolist() == ["A1", "A3"]
    in_year = money_facts.allocated_in_year_to(frames.allocations, "2025-04-30")
    assert in_year["allocation_id"].tolist() == ["A1"]


def reserve_row(record_type: str, record_id: str, amount_fen: int | None,
                reference_id: str = "") -> dict:
    return {"record_type": record_type, "record_id": record_id, "township": "城关镇",
            "amount_fen": amount_fen, "date": "2025-03-01", "reference_id": reference_id}


@settings(max_examples=100, deadline=None)
@given(records=st.lists(st.tuples(
    st.sampled_from(["advance", "disbursement", "settlement", "replenishment"]),
    st.one_of(st.none(), st.integers(min_value=0, max_value=900_000)),
    st.sampled_from(["", "R0", "R1", "R2", "R9"])), min_size=1, max_size=6))
def test_what_a_settlement_settles_is_the_same_one_record_at_a_time_and_over_frames(records):
    rows = [reserve_row(kind, f"R{n}", fen if fen is not None or kind == "settlement" else 0,
                        reference)
            for n, (kind, fen, reference) in enumerate(records)]
    reserve = pd.DataFrame(rows).astype({"amount_fen": "Int64"})
    by_id = {row["record_id"]: row for row in rows}
    vector = money_facts.settled_fen_of(reserve).tolist()
    for row, settled in zip(rows, vector, strict=True):
        if row["record_type"] != "settlement":
            assert settled == 0
            continue
        disbursement = by_id.get(row["reference_id"])
        assert settled == money_facts.settled_fen(fields(row),
                                                  fields(disbursement) if disbursement else None)


def test_a_settlement_without_an_amount_settles_its_disbursement_in_full():
    disbursement = fields(reserve_row("disbursement", "D1", 80000))
    settlement = fields(reserve_row("settlement", "S1", None, reference_id="D1"))
    assert money_facts.settled_fen(settlement, disbursement) == 80000
    assert money_facts.settled_fen(settlement, None) == 0
    assert money_facts.settled_fen(fields(reserve_row("settlement", "S2", 30000, "D1")),
                                   disbursement) == 30000


def test_the_reserve_is_filled_by_advances_and_replenishments_and_emptied_by_disbursements():
    reserve = pd.DataFrame([
        reserve_row("advance", "A", 1000), reserve_row("disbursement", "D", 300),
        reserve_row("settlement", "S", 300, "D"), reserve_row("replenishment", "P", 50)])
    assert money_facts.reserve_flow_fen(reserve).tolist() == [1000, -300, 0, 50]


def test_amounts_are_read_exactly_from_what_the_ledger_stores():
    assert money_facts.amount_fen(Decimal("242.05")) == 24205
    assert money_facts.amount_fen("0.10") == 10
    assert money_facts.amount_fen("") is None and money_facts.amount_fen(None) is None

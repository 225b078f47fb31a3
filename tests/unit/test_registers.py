"""Read models beyond the contract: spending progress, reserve positions, statements."""

from __future__ import annotations

from projections import registers
from reconciliation.common import frames_from_rows


def _county():
    return frames_from_rows(
        allocations=[dict(allocation_id="A1", program="dibao", township="城关镇",
                          amount_fen=100_000, date="2025-01-05")],
        payroll=[dict(batch_id="B1", line_no="1", program="dibao", period="2025-01",
                      township="城关镇", household_id="H1", amount_fen=50_000,
                      evidence_event="e1/1"),
                 dict(batch_id="B1", line_no="2", program="dibao", period="2025-01",
                      township="城关镇", household_id="H2", amount_fen=30_000)],
        bank_return=[dict(batch_id="B1", line_no="1", amount_fen=50_000, status="success",
                          value_date="2025-01-20"),
                     dict(batch_id="B1", line_no="2", amount_fen=30_000, status="failed",
                          value_date="2025-01-20")],
        enrolments=[dict(household_id="H1", program="dibao", monthly_amount_fen=50_000,
                         start_period="2025-01", exit_period="2025-03")],
        reserve=[dict(record_type="advance", record_id="R1", township="城关镇",
                      amount_fen=300_000, date="2025-01-02"),
                 dict(record_type="disbursement", record_id="R2", township="城关镇",
                      amount_fen=80_000, date="2025-01-10"),
                 dict(record_type="disbursement", record_id="R3", township="城关镇",
                      amount_fen=20_000, date="2025-01-20"),
                 dict(record_type="settlement", record_id="R4", township="城关镇",
                      amount_fen=20_000, date="2025-01-25", reference_id="R3")],
    )


def test_township_detail_shows_failed_money_and_spending_below_the_92_percent_target():
    row = registers.township_detail(_county(), "2025-12-31").iloc[0]
    assert (row.allocated, row.paid, row.failed, row.balance) == (100_000, 50_000, 30_000,
                                                                  50_000)
    assert row.spending_rate == 0.5 and bool(row.below_target)


def test_reserve_position_counts_the_unsettled_disbursement_and_its_age():
    row = registers.reserve_positions(_county(), "2025-02-09").iloc[0]
    assert (row.advanced, row.disbursed, row.settled, row.outstanding) == (300_000, 100_000,
                                                                            20_000, 80_000)
    assert row.oldest_unsettled_days == 30


def test_household_statement_shows_entitlement_until_exit_and_arrears():
    table = registers.household_statement(_county(), "H1", "2025-06-30")
    assert list(table["period"]) == ["2025-01", "2025-02"]  # exit 2025-03: not entitled
    assert list(table["paid_fen"]) == [50_000, 0]
    assert list(table["arrears_fen"]) == [0, 50_000]
    assert table.iloc[0]["events"] == "e1/1"

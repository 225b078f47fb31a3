"""Payment rules P01–P06 and B01, each with its true case and its legitimate look-alikes
(docs/rules/), plus the shape every finding module must return."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from domain.money import parse_yuan, to_fen
from reconciliation.common import FINDING_COLUMNS, frames_from_rows
from reconciliation.payments import (
    period_end,
    previous_period,
    successful_payments,
    yuan_text,
)
from reconciliation.rules import b01, p01, p02, p03, p04, p05, p06

AS_OF = "2025-06-30"


def pay(batch: str, line: str, household: str = "H1", period: str = "2025-03",
        program: str = "dibao", amount_fen: int = 24200, account: str = "6222001",
        township: str = "城关镇", **extra) -> dict:
    return dict(batch_id=batch, line_no=line, program=program, period=period,
                township=township, household_id=household, payee_name="张三",
                bank_account=account, amount_fen=amount_fen,
                evidence_event=f"pay-{batch}-{line}",
                evidence_row=f"payroll_{batch}.csv#{line}", **extra)


def bank(batch: str, line: str, status: str = "success", amount_fen: int | None = 24200,
         value_date: str = "2025-03-10", account: str = "6222001", holder: str = "张三",
         **extra) -> dict:
    return dict(batch_id=batch, line_no=line, account_holder=holder, bank_account=account,
                amount_fen=amount_fen, status=status, value_date=value_date,
                fail_reason="账户冻结" if status == "failed" else "",
                evidence_event=f"bank-{batch}-{line}",
                evidence_row=f"bank_return_{batch}.csv#{line}", **extra)


def household(household_id: str = "H1", account: str = "", holder: str = "",
              members: int = 1, head_id: str = "") -> dict:
    return dict(household_id=household_id, township="城关镇", village="东村",
                head_name="张三", head_id_number=head_id, members=members,
                bank_account=account, account_holder=holder,
                evidence_event=f"hh-{household_id}", evidence_row=f"households.csv#{household_id}")


def run(module, as_of: str = AS_OF, policy: dict | None = None, **rows) -> pd.DataFrame:
    frames = frames_from_rows(**rows)
    return module.check(frames, {**module.RULE.defaults, **(policy or {})}, as_of)


# ------------------------------------------------------------------ shared helpers


def test_yuan_text_writes_fen_exactly_with_two_decimals_and_sign():
    fen = pd.Series([24200, 5, -1999, None], dtype="Int64")
    assert list(yuan_text(fen)) == ["242.00", "0.05", "-19.99", "未知"]


def test_period_end_knows_february_of_a_leap_year():
    assert list(period_end(pd.Series(["2024-02", "2025-02", "2025-12", ""]))) == [
        "2024-02-29", "2025-02-28", "2025-12-31", ""]


def test_previous_period_crosses_the_year_boundary():
    assert list(previous_period(pd.Series(["2025-01", "2025-07", ""]))) == [
        "2024-12", "2025-06", ""]


def test_a_success_value_dated_after_as_of_is_not_yet_a_payment():
    # reconcile --as-of reads the books as they stood at the end of that day
    frames = frames_from_rows(payroll=[pay("B1", "1")],
                              bank_return=[bank("B1", "1", value_date="2025-07-01")])
    assert successful_payments(frames, AS_OF).empty
    assert len(successful_payments(frames, "2025-07-01")) == 1


# ------------------------------------------------------------------ P01


def test_payroll_line_without_bank_line_is_p01():
    found = run(p01, payroll=[pay("B1", "1"), pay("B1", "2", household="H2")],
                bank_return=[bank("B1", "2")])
    assert list(found["subject_id"]) == ["B1:1"]
    row = found.iloc[0]
    assert (row["period"], row["amount_fen"], row["severity"]) == ("2025-03", 24200, "medium")
    assert row["title"] == "未回盘 payment not confirmed by bank"
    assert row["evidence"] == "event:pay-B1-1 payroll_B1.csv#1"
    assert "242.00" in row["detail"] and "2025-03" in row["detail"]


def test_payroll_line_whose_bank_line_failed_is_not_p01():
    found = run(p01, payroll=[pay("B1", "1")], bank_return=[bank("B1", "1", status="failed")])
    assert found.empty


def test_bank_line_value_dated_after_as_of_has_not_answered_p01_yet():
    found = run(p01, payroll=[pay("B1", "1")],
                bank_return=[bank("B1", "1", value_date="2025-07-02")])
    assert list(found["subject_id"]) == ["B1:1"]
    assert run(p01, as_of="2025-07-02", payroll=[pay("B1", "1")],
               bank_return=[bank("B1", "1", value_date="2025-07-02")]).empty


def test_payroll_line_of_a_later_period_without_bank_line_is_p01_too():
    found = run(p01, payroll=[pay("B1", "1", period="2025-07")])
    assert list(found["subject_id"]) == ["B1:1"]


# ------------------------------------------------------------------ P02


def test_successful_bank_line_in_no_payroll_is_p02():
    found = run(p02, payroll=[pay("B1", "1")],
                bank_return=[bank("B1", "1"), bank("B1", "9", amount_fen=80000, account="999")])
    assert list(found["subject_id"]) == ["B1:9"]
    row = found.iloc[0]
    assert (row["subject_type"], row["amount_fen"], row["severity"]) == ("bank_line", 80000,
                                                                         "high")
    assert row["evidence"] == "bank_return_B1.csv#9 event:bank-B1-9"
    assert "999" in row["detail"] and "800.00" in row["detail"]


def test_failed_bank_line_in_no_payroll_is_not_p02():
    found = run(p02, bank_return=[bank("B1", "9", status="failed")])
    assert found.empty


def test_bank_payment_in_no_payroll_value_dated_after_as_of_is_not_p02_yet():
    found = run(p02, bank_return=[bank("B1", "9", value_date="2025-07-01")])
    assert found.empty


# ------------------------------------------------------------------ P03


def test_bank_amount_different_from_payroll_is_p03_with_the_absolute_difference():
    found = run(p03, payroll=[pay("B1", "1", amount_fen=24200)],
                bank_return=[bank("B1", "1", amount_fen=20000)])
    assert list(found["subject_id"]) == ["B1:1"]
    assert found.iloc[0]["amount_fen"] == 4200
    assert "42.00" in found.iloc[0]["detail"]
    assert found.iloc[0]["evidence"] == ("bank_return_B1.csv#1 event:bank-B1-1 "
                                         "event:pay-B1-1 payroll_B1.csv#1")


def test_equal_amounts_written_differently_are_not_p03():
    payroll_fen, bank_fen = to_fen(parse_yuan("242")), to_fen(parse_yuan("242.00"))
    found = run(p03, payroll=[pay("B1", "1", amount_fen=payroll_fen)],
                bank_return=[bank("B1", "1", amount_fen=bank_fen)])
    assert found.empty


def test_failed_line_with_a_different_amount_is_not_p03():
    found = run(p03, payroll=[pay("B1", "1")],
                bank_return=[bank("B1", "1", status="failed", amount_fen=0)])
    assert found.empty


def test_different_amount_value_dated_after_as_of_is_not_p03_yet():
    found = run(p03, payroll=[pay("B1", "1")],
                bank_return=[bank("B1", "1", amount_fen=20000, value_date="2025-07-01")])
    assert found.empty


# ------------------------------------------------------------------ P04


def test_bank_account_other_than_payroll_account_is_p04_even_when_failed():
    found = run(p04, payroll=[pay("B1", "1", account="6222001")],
                bank_return=[bank("B1", "1", status="failed", account="6222999")])
    assert list(found["subject_id"]) == ["B1:1"]
    assert "6222999" in found.iloc[0]["detail"]


def test_bank_holder_other_than_registered_holder_is_p04_with_the_register_in_evidence():
    found = run(p04, households=[household(holder="张三")], payroll=[pay("B1", "1")],
                bank_return=[bank("B1", "1", holder="李四")])
    assert list(found["subject_id"]) == ["B1:1"]
    assert "李四" in found.iloc[0]["detail"]
    assert "households.csv#H1" in found.iloc[0]["evidence"].split()


def test_payroll_account_other_than_registered_account_is_p04():
    found = run(p04, households=[household(account="6222555")],
                payroll=[pay("B1", "1", account="6222001")],
                bank_return=[bank("B1", "1", account="6222001")])
    assert list(found["subject_id"]) == ["B1:1"]
    assert "6222555" in found.iloc[0]["detail"]


def test_equal_accounts_and_equal_holder_are_not_p04():
    # An account written '6222 001' in the file is stored stripped by the parser.
    found = run(p04, households=[household(account="6222001", holder="张三")],
                payroll=[pay("B1", "1", account="6222001")],
                bank_return=[bank("B1", "1", account="6222001", holder="张三")])
    assert found.empty


def test_unregistered_holder_and_account_are_not_p04():
    found = run(p04, households=[household()], payroll=[pay("B1", "1")],
                bank_return=[bank("B1", "1", holder="李四")])
    assert found.empty


def test_other_account_on_a_bank_line_value_dated_after_as_of_is_not_p04_yet():
    found = run(p04, payroll=[pay("B1", "1", account="6222001")],
                bank_return=[bank("B1", "1", account="6222999", value_date="2025-07-01")])
    assert found.empty


# ------------------------------------------------------------------ P05


def test_two_periods_paid_twice_are_one_p05_finding_per_household_with_both_periods():
    found = run(p05, payroll=[pay("B1", "1", period="2025-03"), pay("B2", "1", period="2025-03"),
                              pay("B1", "2", period="2025-04"),
                              pay("B2", "2", period="2025-04", amount_fen=30000)],
                bank_return=[bank("B1", "1"), bank("B2", "1", value_date="2025-03-20"),
                             bank("B1", "2", value_date="2025-04-10"),
                             bank("B2", "2", amount_fen=30000, value_date="2025-04-20")])
    assert list(found["subject_id"]) == ["H1"]
    row = found.iloc[0]
    assert row["subject_type"] == "household" and row["period"] == "2025-03"
    assert row["amount_fen"] == 24200 + 30000  # the payments beyond the first of each
    assert "2025-03" in row["detail"] and "2025-04" in row["detail"]
    assert len(row["evidence"].split()) == 16


def test_failed_line_and_its_reissue_are_not_p05():
    found = run(p05, payroll=[pay("B1", "1"), pay("B2", "1")],
                bank_return=[bank("B1", "1", status="failed"), bank("B2", "1")])
    assert found.empty


def test_same_period_of_two_programs_is_not_p05():
    found = run(p05, payroll=[pay("B1", "1", program="dibao"),
                              pay("B1", "2", program="disability")],
                bank_return=[bank("B1", "1"), bank("B1", "2")])
    assert found.empty


def test_second_payment_value_dated_after_as_of_is_not_p05_yet():
    rows = dict(payroll=[pay("B1", "1"), pay("B2", "1")],
                bank_return=[bank("B1", "1"), bank("B2", "1", value_date="2025-07-01")])
    assert run(p05, **rows).empty
    assert list(run(p05, as_of="2025-07-01", **rows)["subject_id"]) == ["H1"]


# ------------------------------------------------------------------ P06


def test_failed_line_never_reissued_is_p06():
    found = run(p06, payroll=[pay("B1", "1")],
                bank_return=[bank("B1", "1", status="failed", value_date="2025-03-10")])
    assert list(found["subject_id"]) == ["B1:1"]
    row = found.iloc[0]
    assert (row["amount_fen"], row["period"], row["severity"]) == (24200, "2025-03", "medium")
    assert "账户冻结" in row["detail"]


def test_failed_then_reissued_in_a_later_batch_is_not_p06():
    found = run(p06, payroll=[pay("B1", "1"), pay("B2", "7")],
                bank_return=[bank("B1", "1", status="failed", value_date="2025-03-10"),
                             bank("B2", "7", value_date="2025-04-05")])
    assert found.empty


def test_reissue_paid_after_as_of_does_not_resolve_p06():
    found = run(p06, payroll=[pay("B1", "1"), pay("B2", "7")],
                bank_return=[bank("B1", "1", status="failed", value_date="2025-03-10"),
                             bank("B2", "7", value_date="2025-07-05")])
    assert list(found["subject_id"]) == ["B1:1"]


def test_success_dated_before_the_failure_does_not_resolve_p06():
    found = run(p06, payroll=[pay("B1", "1"), pay("B2", "7")],
                bank_return=[bank("B1", "1", status="failed", value_date="2025-03-10"),
                             bank("B2", "7", value_date="2025-03-01")])
    assert list(found["subject_id"]) == ["B1:1"]


# ------------------------------------------------------------------ B01


def allocation(allocation_id: str, amount_fen: int, date: str = "2025-01-05",
               township: str = "城关镇", program: str = "dibao") -> dict:
    return dict(allocation_id=allocation_id, program=program, township=township,
                amount_fen=amount_fen, date=date, evidence_event=f"alloc-{allocation_id}",
                evidence_row=f"allocations.csv#{allocation_id}")


def test_spending_above_allocations_is_b01_with_the_largest_yearly_excess():
    found = run(b01, payroll=[pay("B1", "1", period="2024-12"), pay("B1", "2", period="2025-03"),
                              pay("B1", "3", period="2025-04")],
                bank_return=[bank("B1", "1", value_date="2024-12-10"),
                             bank("B1", "2", value_date="2025-03-10"),
                             bank("B1", "3", value_date="2025-04-10")],
                allocations=[allocation("A1", 20000, "2024-01-05"),
                             allocation("A2", 24200, "2025-01-05")])
    assert list(found["subject_id"]) == ["城关镇|dibao"]
    row = found.iloc[0]
    assert (row["subject_type"], row["period"], row["amount_fen"]) == ("township_program", "",
                                                                       24200)
    assert "2024" in row["detail"] and "2025" in row["detail"]
    assert "allocations.csv#A2" in row["evidence"].split()


def test_spending_exactly_equal_to_allocations_is_not_b01():
    found = run(b01, payroll=[pay("B1", "1")], bank_return=[bank("B1", "1")],
                allocations=[allocation("A1", 24200)])
    assert found.empty


def test_allocation_later_in_the_year_but_by_as_of_covers_b01_spending():
    found = run(b01, payroll=[pay("B1", "1")], bank_return=[bank("B1", "1")],
                allocations=[allocation("A1", 24200, date="2025-06-30")])
    assert found.empty


def test_allocation_dated_after_as_of_does_not_cover_b01_spending_yet():
    found = run(b01, payroll=[pay("B1", "1")], bank_return=[bank("B1", "1")],
                allocations=[allocation("A1", 24200, date="2025-07-01")])
    assert list(found["subject_id"]) == ["城关镇|dibao"]
    assert found.iloc[0]["amount_fen"] == 24200


def test_payment_value_dated_after_as_of_is_not_b01_spending_yet():
    found = run(b01, payroll=[pay("B1", "1"), pay("B1", "2", period="2025-06")],
                bank_return=[bank("B1", "1"), bank("B1", "2", value_date="2025-07-03")],
                allocations=[allocation("A1", 24200)])
    assert found.empty


def test_failed_payments_are_not_spending_for_b01():
    found = run(b01, payroll=[pay("B1", "1")], bank_return=[bank("B1", "1", status="failed")])
    assert found.empty


# ------------------------------------------------------------------ every module


def busy_county() -> dict:
    """Rows where every payment rule fires at least once."""
    return dict(
        households=[household("H1", holder="张三")],
        payroll=[pay("B1", "1"), pay("B1", "2", amount_fen=30000),
                 pay("B1", "3", period="2025-04"), pay("B2", "3", period="2025-04"),
                 pay("B1", "4", period="2025-05")],
        bank_return=[bank("B1", "2", amount_fen=20000, holder="李四"),
                     bank("B1", "3"), bank("B2", "3"), bank("B1", "4", status="failed"),
                     bank("B9", "1")],
    )


SUBJECT_FORMATS = {
    p01: r"B1:1", p02: r"B9:1", p03: r"B1:2", p04: r"B1:2", p05: r"H1", p06: r"B1:4",
    b01: r"城关镇\|dibao",
}


@pytest.mark.parametrize("module", list(SUBJECT_FORMATS), ids=lambda m: m.RULE.code)
def test_each_payment_rule_uses_the_contract_subject_id(module):
    found = run(module, **busy_county())
    assert list(found.columns) == FINDING_COLUMNS
    assert len(found) == 1
    assert re.fullmatch(SUBJECT_FORMATS[module], found.iloc[0]["subject_id"])
    assert found.iloc[0]["title"] == f"{module.RULE.title_zh} {module.RULE.title_en}"
    assert found.iloc[0]["code"] == module.RULE.code


def test_findings_are_sorted_by_subject_and_amounts_are_integer_fen():
    found = run(p01, payroll=[pay("B2", "1"), pay("B1", "10"), pay("B1", "9")])
    assert list(found["subject_id"]) == sorted(found["subject_id"])
    assert str(found["amount_fen"].dtype) == "Int64"


def test_rules_give_the_same_findings_over_pandas_str_columns_as_over_object_columns():
    frames = frames_from_rows(**busy_county())
    as_str = frames_from_rows(**busy_county())
    for name, frame in vars(as_str).items():
        text_columns = [c for c in frame.columns if frame[c].dtype == object]
        setattr(as_str, name, frame.astype({c: "str" for c in text_columns}))
    for module in SUBJECT_FORMATS:
        expected = module.check(frames, dict(module.RULE.defaults), AS_OF)
        got = module.check(as_str, dict(module.RULE.defaults), AS_OF)
        pd.testing.assert_frame_equal(got, expected, check_dtype=False)


def test_payments_shared_in_a_run_are_each_callers_own_and_equal_the_unshared() -> None:
    from reconciliation.payments import payments_shared, with_head_ids

    frames = frames_from_rows(payroll=[pay("B1", "1"), pay("B1", "2", household="H2")],
                              bank_return=[bank("B1", "1"), bank("B1", "2", status="failed")],
                              households=[household("H1", head_id=" 43052419480412000x ")])
    alone = successful_payments(frames, AS_OF)
    heads = with_head_ids(alone, frames)
    with payments_shared():
        first = successful_payments(frames, AS_OF)
        first["paid_fen"] = 0  # a rule that writes into what it was given
        first.loc[first.index[0], "household_id"] = "changed"
        pd.testing.assert_frame_equal(successful_payments(frames, AS_OF), alone)
        pd.testing.assert_frame_equal(with_head_ids(alone, frames), heads)
        other = frames.replace(bank_return=frames_from_rows(bank_return=[]).bank_return)
        assert successful_payments(other, AS_OF).empty  # other frames: their own result
    assert heads["head_id"].tolist() == ["43052419480412000X"]

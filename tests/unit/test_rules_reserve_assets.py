"""R01–R04, A01–A04, D01 and the S screens: each rule's true case and its look-alikes."""

from __future__ import annotations

import math

import pandas as pd

from reconciliation.common import Frames, frames_from_rows
from reconciliation.rules import a01, a02, a03, a04, d01, r01, r02, r03, r04, s01, s02, s03

AS_OF = "2025-06-30"


def reserve(record_type: str, record_id: str, date: str, yuan: int | str, **fields) -> dict:
    fen = round(float(yuan) * 100) if isinstance(yuan, str) else yuan * 100
    return {"record_type": record_type, "record_id": record_id, "date": date,
            "amount_fen": fen, "township": fields.pop("township", "城关镇"),
            "evidence_event": f"ev-{record_id}", "evidence_row": f"reserve.csv#{record_id}",
            **fields}


def asset(asset_id: str, asset_class: str, registered_on: str, **fields) -> dict:
    return {"asset_id": asset_id, "name": "光伏电站", "asset_class": asset_class,
            "township": "城关镇", "value_fen": fields.pop("value_fen", 5_000_000),
            "registered_on": registered_on, "evidence_event": f"ev-{asset_id}",
            "evidence_row": f"assets.csv#{asset_id}", **fields}


def asset_event(event_id: str, asset_id: str, event_type: str, date: str, **fields) -> dict:
    return {"event_id": event_id, "asset_id": asset_id, "event_type": event_type,
            "date": date, "evidence_event": f"ev-{event_id}",
            "evidence_row": f"asset_events.csv#{event_id}", **fields}


def run(module, frames: Frames, as_of: str = AS_OF, **policy) -> pd.DataFrame:
    return module.check(frames, {**module.RULE.defaults, **policy}, as_of)


def subjects(found: pd.DataFrame) -> list[str]:
    return list(found["subject_id"])


# --- R01 备用金未核销 ----------------------------------------------------------------------

def test_disbursement_settled_after_31_days_is_flagged_with_both_rows_as_evidence() -> None:
    frames = frames_from_rows(reserve=[
        reserve("disbursement", "D1", "2025-03-01", 800),
        reserve("settlement", "S1", "2025-04-01", 800, reference_id="D1"),
    ])
    found = run(r01, frames)
    assert found.loc[0, "subject_id"] == "D1"
    assert found.loc[0, "amount_fen"] == 80_000
    assert found.loc[0, "period"] == "2025-03"
    assert "31 天" in found.loc[0, "detail"] and "800.00" in found.loc[0, "detail"]
    assert found.loc[0, "evidence"] == "event:ev-D1 event:ev-S1 reserve.csv#D1 reserve.csv#S1"
    assert found.loc[0, "title"] == "备用金未核销 reserve disbursement not settled"
    assert found.loc[0, "subject_type"] == "reserve_record"


def test_disbursement_settled_on_day_30_is_not_flagged() -> None:
    frames = frames_from_rows(reserve=[
        reserve("disbursement", "D1", "2025-03-01", 800),
        reserve("settlement", "S1", "2025-03-31", 800, reference_id="D1"),
    ])
    assert run(r01, frames).empty


def test_unsettled_disbursement_is_flagged_only_when_older_than_30_days() -> None:
    frames = frames_from_rows(reserve=[
        reserve("disbursement", "OLD", "2025-05-30", 100),  # 31 days before as-of
        reserve("disbursement", "NEW", "2025-05-31", 100),  # 30 days before as-of
    ])
    assert subjects(run(r01, frames)) == ["OLD"]


def test_settlement_dated_after_as_of_does_not_count_yet() -> None:
    frames = frames_from_rows(reserve=[
        reserve("disbursement", "D1", "2025-01-10", 500),
        reserve("settlement", "S1", "2025-07-02", 500, reference_id="D1"),
    ])
    found = run(r01, frames)
    assert subjects(found) == ["D1"]
    assert "未核销" in found.loc[0, "detail"]
    assert "ev-S1" not in found.loc[0, "evidence"]


def test_settle_within_days_comes_from_policy() -> None:
    frames = frames_from_rows(reserve=[
        reserve("disbursement", "D1", "2025-03-01", 800),
        reserve("settlement", "S1", "2025-03-21", 800, reference_id="D1"),
    ])
    assert run(r01, frames).empty
    assert subjects(run(r01, frames, settle_within_days=10)) == ["D1"]


# --- R02 超权限审批 ----------------------------------------------------------------------

def test_township_disbursement_above_1000_is_flagged() -> None:
    frames = frames_from_rows(reserve=[
        reserve("disbursement", "D1", "2025-03-01", "1000.01", approval_level="township")])
    found = run(r02, frames)
    assert subjects(found) == ["D1"] and found.loc[0, "amount_fen"] == 100_001
    assert "1000.01" in found.loc[0, "detail"] and "1000.00" in found.loc[0, "detail"]


def test_exactly_1000_at_township_level_is_not_flagged() -> None:
    frames = frames_from_rows(reserve=[
        reserve("disbursement", "D1", "2025-03-01", 1000, approval_level="township")])
    assert run(r02, frames).empty


def test_empty_approval_level_is_held_to_the_township_limit() -> None:
    frames = frames_from_rows(reserve=[
        reserve("disbursement", "D1", "2025-03-01", 5000),
        reserve("disbursement", "D2", "2025-03-01", 5000, approval_level="county"),
    ])
    assert subjects(run(r02, frames)) == ["D1"]


def test_county_approval_is_flagged_only_above_20000() -> None:
    frames = frames_from_rows(reserve=[
        reserve("disbursement", "AT", "2025-03-01", 20000, approval_level="county"),
        reserve("disbursement", "OVER", "2025-03-01", "20000.01", approval_level="county"),
    ])
    assert subjects(run(r02, frames)) == ["OVER"]


def test_advances_above_the_limit_are_not_disbursements() -> None:
    frames = frames_from_rows(reserve=[reserve("advance", "A1", "2025-03-01", 50000)])
    assert run(r02, frames).empty


# --- R03 化整为零 ------------------------------------------------------------------------

def test_two_disbursements_within_30_days_together_above_limit_are_flagged() -> None:
    frames = frames_from_rows(reserve=[
        reserve("disbursement", "D1", "2025-03-01", 600, household_id="H1"),
        reserve("disbursement", "D2", "2025-03-31", 600, household_id="H1"),
    ])
    found = run(r03, frames)
    assert subjects(found) == ["H1"]
    assert found.loc[0, "amount_fen"] == 120_000
    assert found.loc[0, "subject_type"] == "household"
    assert "D1" in found.loc[0, "detail"] and "D2" in found.loc[0, "detail"]
    assert found.loc[0, "evidence"] == "event:ev-D1 event:ev-D2 reserve.csv#D1 reserve.csv#D2"


def test_two_disbursements_31_days_apart_are_not_flagged() -> None:
    frames = frames_from_rows(reserve=[
        reserve("disbursement", "D1", "2025-03-01", 600, household_id="H1"),
        reserve("disbursement", "D2", "2025-04-01", 600, household_id="H1"),
    ])
    assert run(r03, frames).empty


def test_split_payments_within_the_limit_together_are_not_flagged() -> None:
    frames = frames_from_rows(reserve=[
        reserve("disbursement", "D1", "2025-03-01", 500, household_id="H1"),
        reserve("disbursement", "D2", "2025-03-02", 500, household_id="H1"),
    ])
    assert run(r03, frames).empty


def test_a_disbursement_above_the_limit_takes_no_part_in_splitting() -> None:
    frames = frames_from_rows(reserve=[
        reserve("disbursement", "D1", "2025-03-01", 1500, household_id="H1"),
        reserve("disbursement", "D2", "2025-03-02", 300, household_id="H1"),
    ])
    assert run(r03, frames).empty


def test_disbursements_to_different_households_are_not_a_split() -> None:
    frames = frames_from_rows(reserve=[
        reserve("disbursement", "D1", "2025-03-01", 800, household_id="H1"),
        reserve("disbursement", "D2", "2025-03-02", 800, household_id="H2"),
    ])
    assert run(r03, frames).empty


def test_two_split_episodes_of_one_household_make_one_finding_with_both() -> None:
    frames = frames_from_rows(reserve=[
        reserve("disbursement", "D1", "2025-01-01", 600, household_id="H1"),
        reserve("disbursement", "D2", "2025-01-10", 600, household_id="H1"),
        reserve("disbursement", "D3", "2025-05-01", 700, household_id="H1"),
        reserve("disbursement", "D4", "2025-05-02", 700, household_id="H1"),
    ])
    found = run(r03, frames)
    assert subjects(found) == ["H1"]
    assert found.loc[0, "amount_fen"] == 260_000
    assert found.loc[0, "period"] == "2025-01"
    assert found.loc[0, "detail"].count("获先行救助 2 笔") == 2


# --- R04 备用金透支 ----------------------------------------------------------------------

def test_disbursing_beyond_the_advance_is_an_overdraft() -> None:
    frames = frames_from_rows(reserve=[
        reserve("advance", "A1", "2025-02-01", 1000),
        reserve("disbursement", "D1", "2025-02-10", 800),
        reserve("disbursement", "D2", "2025-03-05", 500),
        reserve("disbursement", "D3", "2025-03-06", 200),
        reserve("replenishment", "R1", "2025-03-20", 5000),
    ])
    found = run(r04, frames)
    assert subjects(found) == ["城关镇"]
    assert found.loc[0, "amount_fen"] == 50_000  # 1000 - 800 - 500 - 200
    assert found.loc[0, "period"] == "2025-03"
    assert "2025-03-20 补足" in found.loc[0, "detail"]
    assert "ev-D2" in found.loc[0, "evidence"] and "ev-D1" not in found.loc[0, "evidence"]


def test_a_disbursement_on_the_day_of_the_advance_that_covers_it_is_not_an_overdraft() -> None:
    frames = frames_from_rows(reserve=[
        reserve("disbursement", "D1", "2025-02-01", 800),
        reserve("advance", "A1", "2025-02-01", 1000),
    ])
    assert run(r04, frames).empty


def test_each_township_keeps_its_own_reserve() -> None:
    frames = frames_from_rows(reserve=[
        reserve("advance", "A1", "2025-02-01", 1000, township="东乡"),
        reserve("disbursement", "D1", "2025-02-02", 800, township="西乡"),
    ])
    assert subjects(run(r04, frames)) == ["西乡"]


def test_largest_of_several_overdrafts_is_the_amount_and_all_are_listed() -> None:
    frames = frames_from_rows(reserve=[
        reserve("disbursement", "D1", "2025-01-05", 100),
        reserve("advance", "A1", "2025-01-10", 100),
        reserve("disbursement", "D2", "2025-04-05", 300),
    ])
    found = run(r04, frames)
    assert found.loc[0, "amount_fen"] == 30_000
    assert found.loc[0, "period"] == "2025-01"
    assert "仍未补足" in found.loc[0, "detail"] and "2025-01-10 补足" in found.loc[0, "detail"]


# --- A01 未确权/未管护 -------------------------------------------------------------------

def test_operating_asset_without_rights_holder_after_91_days_is_flagged() -> None:
    frames = frames_from_rows(assets=[asset("X1", "operating", "2025-03-31")])
    found = run(a01, frames)
    assert subjects(found) == ["X1"]
    assert found.loc[0, "amount_fen"] == 5_000_000 and found.loc[0, "period"] == "2025-03"
    assert "确权主体" in found.loc[0, "detail"]


def test_asset_registered_exactly_90_days_ago_is_not_flagged() -> None:
    frames = frames_from_rows(assets=[asset("X1", "operating", "2025-04-01")])
    assert run(a01, frames).empty


def test_rights_confirmed_by_event_is_not_flagged_unless_the_event_is_after_as_of() -> None:
    frames = frames_from_rows(
        assets=[asset("X1", "household", "2024-01-01"), asset("X2", "household", "2024-01-01")],
        asset_events=[asset_event("E1", "X1", "rights_confirmed", "2024-02-01"),
                      asset_event("E2", "X2", "rights_confirmed", "2025-07-01")])
    assert subjects(run(a01, frames)) == ["X2"]


def test_public_welfare_asset_needs_a_custodian_not_a_rights_holder() -> None:
    frames = frames_from_rows(assets=[
        asset("ROAD", "public_welfare", "2024-01-01", rights_holder="", custodian="村委会"),
        asset("WELL", "public_welfare", "2024-01-01", rights_holder="村集体"),
        asset("PV", "operating", "2024-01-01", rights_holder="村集体"),
    ])
    found = run(a01, frames)
    assert subjects(found) == ["WELL"]
    assert "管护主体" in found.loc[0, "detail"]


def test_custodian_assigned_by_event_clears_a_public_welfare_asset() -> None:
    frames = frames_from_rows(
        assets=[asset("WELL", "public_welfare", "2024-01-01")],
        asset_events=[asset_event("E1", "WELL", "custodian_assigned", "2024-03-01")])
    assert run(a01, frames).empty


# --- A02 违规处置 ------------------------------------------------------------------------

def test_disposal_without_approval_document_is_flagged_with_the_asset_value() -> None:
    frames = frames_from_rows(
        assets=[asset("X1", "operating", "2024-01-01", rights_holder="村集体")],
        asset_events=[asset_event("E1", "X1", "disposed", "2025-02-01", counterparty="某公司"),
                      asset_event("E2", "X1", "transferred", "2025-03-01")])
    found = run(a02, frames)
    assert subjects(found) == ["X1"]
    assert found.loc[0, "amount_fen"] == 5_000_000  # once, not once per event
    assert found.loc[0, "period"] == "2025-02"
    assert "处置" in found.loc[0, "detail"] and "移交" in found.loc[0, "detail"]
    assert "event:ev-E1" in found.loc[0, "evidence"] and "event:ev-E2" in found.loc[0, "evidence"]


def test_disposal_with_a_document_or_after_as_of_is_not_flagged() -> None:
    frames = frames_from_rows(asset_events=[
        asset_event("E1", "X1", "disposed", "2025-02-01", approval_document="县财〔2025〕3号"),
        asset_event("E2", "X2", "disposed", "2025-07-01"),
        asset_event("E3", "X3", "inspected", "2025-02-01"),
    ])
    assert run(a02, frames).empty


# --- A03 收益滞留 ------------------------------------------------------------------------

def test_income_older_than_180_days_not_distributed_is_flagged_for_the_excess() -> None:
    frames = frames_from_rows(asset_events=[
        asset_event("I1", "X1", "income_recorded", "2024-12-31", amount_fen=100_000),
        asset_event("O1", "X1", "income_distributed", "2025-01-15", amount_fen=30_000,
                    purpose="household_dividend"),
    ])
    found = run(a03, frames)
    assert subjects(found) == ["X1"]
    assert found.loc[0, "amount_fen"] == 70_000
    assert found.loc[0, "period"] == "2024-12"
    assert "event:ev-O1" in found.loc[0, "evidence"]


def test_income_recorded_exactly_180_days_ago_is_not_flagged() -> None:
    frames = frames_from_rows(asset_events=[
        asset_event("I1", "X1", "income_recorded", "2025-01-01", amount_fen=100_000)])
    assert run(a03, frames).empty


def test_income_fully_distributed_is_not_flagged() -> None:
    frames = frames_from_rows(asset_events=[
        asset_event("I1", "X1", "income_recorded", "2024-06-01", amount_fen=100_000),
        asset_event("O1", "X1", "income_distributed", "2025-06-01", amount_fen=100_000),
    ])
    assert run(a03, frames).empty


# --- A04 收益违规使用 ---------------------------------------------------------------------

def test_distribution_for_another_purpose_is_flagged() -> None:
    frames = frames_from_rows(asset_events=[
        asset_event("O1", "X1", "income_distributed", "2025-03-01", amount_fen=20_000,
                    purpose="招待费"),
        asset_event("O2", "X1", "income_distributed", "2025-04-01", amount_fen=5_000),
    ])
    found = run(a04, frames)
    assert subjects(found) == ["X1"]
    assert found.loc[0, "amount_fen"] == 25_000
    assert "招待费" in found.loc[0, "detail"] and "未填写用途" in found.loc[0, "detail"]


def test_allowed_purposes_in_english_or_chinese_are_not_flagged() -> None:
    frames = frames_from_rows(asset_events=[
        asset_event("O1", "X1", "income_distributed", "2025-03-01", amount_fen=1,
                    purpose="household_dividend"),
        asset_event("O2", "X1", "income_distributed", "2025-03-01", amount_fen=1,
                    purpose="村级公益事业"),
        asset_event("O3", "X1", "income_recorded", "2025-03-01", amount_fen=1, purpose="其他"),
    ])
    assert run(a04, frames).empty


# --- D01 同一人经办审批 -------------------------------------------------------------------

def test_reserve_disbursement_approved_by_its_recorder_is_flagged() -> None:
    frames = frames_from_rows(reserve=[
        reserve("disbursement", "D1", "2025-03-01", 300, approver="王五", recorded_by=" 王五"),
        reserve("disbursement", "D2", "2025-03-01", 300, approver="王五", recorded_by="李四"),
        reserve("disbursement", "D3", "2025-03-01", 300, approver="", recorded_by=""),
    ])
    found = run(d01, frames)
    assert subjects(found) == ["D1"]
    assert found.loc[0, "subject_type"] == "reserve_record" and found.loc[0, "amount_fen"] == 30_000


def test_adjustment_approved_by_its_recorder_is_flagged_as_an_adjustment() -> None:
    frames = frames_from_rows(adjustments=[
        {"adjustment_id": "ADJ-7", "recorded_by": "赵六", "approver": "赵六",
         "amount_fen": -12_345, "date": "2025-02-02", "reason": "补差",
         "evidence_event": "ev-adj", "evidence_row": "adjustments#1", "recorded_at": ""},
        {"adjustment_id": "ADJ-8", "recorded_by": "赵六", "approver": "钱七",
         "amount_fen": 100, "date": "2025-02-02", "reason": "",
         "evidence_event": "ev-adj8", "evidence_row": "adjustments#2", "recorded_at": ""},
    ])
    found = run(d01, frames)
    assert subjects(found) == ["ADJ-7"]
    assert found.loc[0, "subject_type"] == "adjustment"
    assert found.loc[0, "amount_fen"] == 12_345
    assert found.loc[0, "evidence"] == "adjustments#1 event:ev-adj"


# --- S01–S03 statistical screens ---------------------------------------------------------

def benford_amounts(total: int) -> list[int]:
    """Yuan amounts whose first digits follow Benford's law as closely as whole counts allow."""
    amounts = []
    for digit in range(1, 10):
        count = round(total * math.log10(1 + 1 / digit))
        amounts += [digit * 100 + 37] * count
    return amounts


def disbursements(township: str, yuan_amounts: list[int]) -> list[dict]:
    return [reserve("disbursement", f"{township}-{i}", "2025-03-01", yuan, township=township)
            for i, yuan in enumerate(yuan_amounts)]


def test_township_whose_amounts_all_start_with_the_same_digit_is_a_benford_lead() -> None:
    frames = frames_from_rows(reserve=disbursements("东乡", [500 + i for i in range(60)])
                              + disbursements("西乡", benford_amounts(200)))
    found = run(s01, frames)
    assert subjects(found) == ["东乡"]
    assert found.loc[0, "severity"] == "low" and pd.isna(found.loc[0, "amount_fen"])
    assert "MAD" in found.loc[0, "detail"]


def test_too_few_amounts_are_no_benford_lead() -> None:
    frames = frames_from_rows(reserve=disbursements("东乡", [500] * 49))
    assert run(s01, frames).empty


def test_amounts_below_10_yuan_are_left_out_of_benford() -> None:
    frames = frames_from_rows(reserve=disbursements("东乡", [9] * 60 + benford_amounts(100)))
    assert run(s01, frames).empty


def test_township_with_mostly_round_amounts_is_a_round_number_lead() -> None:
    frames = frames_from_rows(reserve=disbursements("东乡", [500] * 15 + [437] * 5)
                              + disbursements("西乡", [500] * 10 + [437] * 10))
    found = run(s02, frames)
    assert subjects(found) == ["东乡"]
    assert "75.0%" in found.loc[0, "detail"]


def test_round_share_needs_at_least_min_count_amounts() -> None:
    frames = frames_from_rows(reserve=disbursements("东乡", [500] * 19))
    assert run(s02, frames).empty
    assert subjects(run(s02, frames, min_count=10)) == ["东乡"]


def payroll_line(line_no: int, yuan: int, program: str = "dibao") -> dict:
    return {"batch_id": "B1", "line_no": str(line_no), "program": program,
            "period": "2025-03", "township": "城关镇", "household_id": f"H{line_no}",
            "amount_fen": yuan * 100, "evidence_event": f"ev-{line_no}",
            "evidence_row": f"payroll.csv#{line_no}"}


def test_payroll_amount_far_above_its_peers_is_an_outlier_lead() -> None:
    # Q1 = 250, Q3 = 300, IQR = 50: the fence is 450 yuan.
    amounts = [200, 250, 250, 250, 300, 300, 300, 300, 450, 451]
    frames = frames_from_rows(payroll=[payroll_line(i, y) for i, y in enumerate(amounts, 1)])
    found = run(s03, frames)
    assert subjects(found) == ["B1:10"]  # 450 sits on the fence: not above it
    assert found.loc[0, "amount_fen"] == 45_100 and found.loc[0, "period"] == "2025-03"
    assert "450.00" in found.loc[0, "detail"]


def test_outliers_are_measured_against_their_own_program_only() -> None:
    lines = [payroll_line(i, 300) for i in range(1, 6)] + [payroll_line(6, 2000, "tekun")]
    assert run(s03, frames_from_rows(payroll=lines)).empty

"""R01 备用金未核销 — reserve disbursement not settled.

What it finds and why, the data it reads, its look-alikes and its policy keys are on
its page, docs/rules/R01.md; this module implements that page.
"""

from __future__ import annotations

import pandas as pd

from domain.money import format_fen
from reconciliation.common import Frames
from reconciliation.findings import findings_of
from reconciliation.occurrences import day_number, day_numbers, month_of, row_evidence, stripped
from reconciliation.rules import Rule

RULE = Rule(
    code="R01", title_zh="备用金未核销",
    title_en="reserve disbursement not settled",
    subject_type="reserve_record", severity="medium",
    defaults={"settle_within_days": 30},
)


def check(frames: Frames, policy: dict, as_of: str) -> pd.DataFrame:
    reserve = frames.reserve[frames.reserve["date"] <= as_of]
    paid = reserve[reserve["record_type"] == "disbursement"]
    settled = _first_settlements(reserve)
    joined = paid.merge(settled, how="left", left_on="record_id", right_on="reference_id")
    joined["settled_on"] = joined["settled_on"].fillna("")
    paid_day = day_numbers(joined["date"])
    end_day = day_numbers(joined["settled_on"]).fillna(day_number(as_of))
    joined["days"] = end_day - paid_day
    late = joined[(joined["days"] > policy["settle_within_days"]).fillna(False)]
    occurrences = pd.DataFrame({
        "subject_id": late["record_id"],
        "period": month_of(late["date"]),
        "amount_fen": late["amount_fen"],
        "detail": _details(late, as_of, policy["settle_within_days"]),
        "evidence": row_evidence(late) + " " + late["settlement_evidence"].fillna(""),
    })
    return findings_of(RULE, occurrences, details="given")


def _first_settlements(reserve: pd.DataFrame) -> pd.DataFrame:
    """Per referenced disbursement: the earliest settlement date and every settlement's rows."""
    settlements = reserve[(reserve["record_type"] == "settlement")
                          & (stripped(reserve, "reference_id") != "")].copy()
    settlements["reference_id"] = stripped(settlements, "reference_id")
    settlements["tokens"] = row_evidence(settlements)
    grouped = settlements.groupby("reference_id", sort=False)
    return grouped.agg(settled_on=("date", "min"),
                       settlement_evidence=("tokens", " ".join)).reset_index()


def _details(late: pd.DataFrame, as_of: str, days_max: int) -> pd.Series:
    head = ("先行救助支出 " + late["record_id"] + "（" + late["date"] + "，"
            + late["amount_fen"].map(format_fen) + " 元）")
    days = late["days"].astype(str)
    settled = head + "于 " + late["settled_on"] + " 才核销，相隔 " + days + " 天"
    open_ = head + "截至 " + as_of + " 未核销，已 " + days + " 天"
    sentence = settled.where(late["settled_on"] != "", open_)
    return sentence + f"，超过 {days_max} 天时限。"

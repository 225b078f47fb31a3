"""A01 未确权/未管护 — asset without owner or custodian.

What it finds and why, the data it reads, its look-alikes and its policy keys are on
its page, docs/rules/A01.md; this module implements that page.
"""

from __future__ import annotations

import pandas as pd

from domain.money import format_fen
from reconciliation.common import Frames
from reconciliation.findings import findings_of
from reconciliation.occurrences import day_number, day_numbers, month_of, row_evidence, stripped
from reconciliation.rules import BOOK_VALUE_ZH, Rule

RULE = Rule(
    code="A01", title_zh="未确权/未管护",
    title_en="asset without owner or custodian",
    subject_type="asset", severity="medium",
    defaults={"days": 90},
    amount_meaning_zh=BOOK_VALUE_ZH,  # not money paid out: totals keep it apart
)
# asset class -> (register column that must be filled, event that fills it, what is missing)
NEEDS = {
    "operating": ("rights_holder", "rights_confirmed", "确权主体"),
    "household": ("rights_holder", "rights_confirmed", "确权主体"),
    "public_welfare": ("custodian", "custodian_assigned", "管护主体"),
}


def check(frames: Frames, policy: dict, as_of: str) -> pd.DataFrame:
    assets = frames.assets
    age_days = day_number(as_of) - day_numbers(assets["registered_on"])
    overdue = assets[(age_days > policy["days"]).fillna(False)
                     & assets["asset_class"].isin(list(NEEDS))].copy()
    overdue["age_days"] = age_days[overdue.index]
    missing = pd.concat([_missing(overdue, cls, need, frames.asset_events, as_of)
                         for cls, need in NEEDS.items()])
    detail = ("资产 " + missing["asset_id"] + "（" + missing["name"].fillna("") + "，原值 "
              + missing["value_fen"].map(format_fen) + " 元）于 " + missing["registered_on"]
              + " 登记，已 " + missing["age_days"].astype(str) + " 天仍无"
              + missing["lacking"] + f"，超过 {policy['days']} 天。")
    occurrences = pd.DataFrame({
        "subject_id": missing["asset_id"], "period": month_of(missing["registered_on"]),
        "amount_fen": missing["value_fen"], "detail": detail,
        "evidence": row_evidence(missing),
    })
    return findings_of(RULE, occurrences, details="given")


def _missing(overdue: pd.DataFrame, asset_class: str, need: tuple[str, str, str],
             events: pd.DataFrame, as_of: str) -> pd.DataFrame:
    """Assets of one class whose needed register column is empty and no event filled it."""
    column, event_type, lacking = need
    filled_by_event = events[(events["event_type"] == event_type) & (events["date"] <= as_of)]
    of_class = overdue[overdue["asset_class"] == asset_class]
    filled = of_class["asset_id"].isin(filled_by_event["asset_id"])
    lacks = (stripped(of_class, column) == "") & ~filled
    return of_class[lacks].assign(lacking=lacking)

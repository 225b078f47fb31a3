"""A03 收益滞留 — income left undistributed.

What it finds and why, the data it reads, its look-alikes and its policy keys are on
its page, docs/rules/A03.md; this module implements that page.
"""

from __future__ import annotations

import pandas as pd

from domain.money import format_fen
from reconciliation.common import Frames
from reconciliation.findings import findings_of
from reconciliation.occurrences import day_number, day_numbers, month_of, row_evidence
from reconciliation.rules import Rule

RULE = Rule(
    code="A03", title_zh="收益滞留",
    title_en="income left undistributed",
    subject_type="asset", severity="medium",
    defaults={"days": 180},
)


def check(frames: Frames, policy: dict, as_of: str) -> pd.DataFrame:
    events = frames.asset_events[frames.asset_events["date"] <= as_of]
    events = events.assign(amount_fen=events["amount_fen"].astype("Int64").fillna(0),
                           tokens=row_evidence(events))
    age_days = day_number(as_of) - day_numbers(events["date"])
    old_income = events[(events["event_type"] == "income_recorded")
                        & (age_days > policy["days"]).fillna(False)]
    paid_out = events[events["event_type"] == "income_distributed"]
    per_asset = old_income.groupby("asset_id").agg(
        income_fen=("amount_fen", "sum"), records=("amount_fen", "size"),
        first_day=("date", "min"), income_tokens=("tokens", " ".join))
    distributed = paid_out.groupby("asset_id").agg(
        distributed_fen=("amount_fen", "sum"), distributed_tokens=("tokens", " ".join))
    per_asset = per_asset.join(distributed, how="left").reset_index()
    per_asset["distributed_fen"] = per_asset["distributed_fen"].fillna(0).astype("int64")
    per_asset["distributed_tokens"] = per_asset["distributed_tokens"].fillna("")
    per_asset["excess_fen"] = per_asset["income_fen"] - per_asset["distributed_fen"]
    held = per_asset[per_asset["excess_fen"] > 0]
    occurrences = pd.DataFrame({
        "subject_id": held["asset_id"], "period": month_of(held["first_day"]),
        "amount_fen": held["excess_fen"], "detail": _details(held, as_of, policy["days"]),
        "evidence": held["income_tokens"] + " " + held["distributed_tokens"],
    })
    return findings_of(RULE, occurrences, details="given")


def _details(held: pd.DataFrame, as_of: str, days: int) -> pd.Series:
    return ("资产 " + held["asset_id"] + " 截至 " + as_of + "，入账超过 " + str(days)
            + " 天的收益 " + held["records"].astype(str) + " 笔共 "
            + held["income_fen"].map(format_fen) + " 元（最早 " + held["first_day"]
            + "），累计分配 " + held["distributed_fen"].map(format_fen) + " 元，滞留 "
            + held["excess_fen"].map(format_fen) + " 元。")

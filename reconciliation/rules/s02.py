"""S02 整数金额偏多 — too many round amounts.

What it finds and why, the data it reads, its look-alikes and its policy keys are on
its page, docs/rules/S02.md; this module implements that page.
"""

from __future__ import annotations

import pandas as pd

from domain.money import format_fen
from reconciliation.common import Frames
from reconciliation.findings import findings_of
from reconciliation.rules import Rule
from reconciliation.rules.s01 import discretionary_amounts, group_subject_type

RULE = Rule(
    code="S02", title_zh="整数金额偏多",
    title_en="too many round amounts",
    subject_type="township", severity="low",
    defaults={"max_share": 0.5, "min_count": 20},
    lead=True,
)
ROUND_FEN = 10_000  # 100 yuan


def check(frames: Frames, policy: dict, as_of: str) -> pd.DataFrame:
    amounts = discretionary_amounts(frames, as_of)
    amounts = amounts.assign(round=amounts["amount_fen"] % ROUND_FEN == 0)
    per_group = amounts.groupby("group").agg(count=("round", "size"), round_count=("round", "sum"))
    per_group["share"] = per_group["round_count"] / per_group["count"]
    leads = per_group[(per_group["count"] >= policy["min_count"])
                      & (per_group["share"] > policy["max_share"])]
    round_amounts = amounts[amounts["round"] & amounts["group"].isin(leads.index)]
    by_group = dict(tuple(round_amounts.groupby("group")))
    rows = [_occurrence(group, by_group[group], stats, policy["max_share"])
            for group, stats in leads.iterrows()]
    occurrences = pd.DataFrame(rows, columns=["subject_id", "subject_type", "period",
                                              "amount_fen", "detail", "evidence"])
    return findings_of(RULE, occurrences, details="given")


def _occurrence(group: str, round_amounts: pd.DataFrame, stats: pd.Series,
                max_share: float) -> dict:
    common = round_amounts["amount_fen"].value_counts().head(3)
    listed = "、".join(f"{format_fen(fen)} 元 {n} 笔" for fen, n in common.items())
    where = "调整" if group == "adjustments" else f"乡镇 {group} "
    detail = (f"{where}自由裁量金额 {int(stats['count'])} 笔中 {int(stats['round_count'])} 笔"
              f"为 100 元整数倍，占 {stats['share']:.1%}，高于 {max_share:.0%}；"
              f"最常见：{listed}。")
    return {"subject_id": group, "subject_type": group_subject_type(group), "period": "",
            "amount_fen": pd.NA, "detail": detail, "evidence": " ".join(round_amounts["evidence"])}

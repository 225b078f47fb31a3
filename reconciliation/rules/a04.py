"""A04 收益违规使用 — income misdirected.

What it finds and why, the data it reads, its look-alikes and its policy keys are on
its page, docs/rules/A04.md; this module implements that page.
"""

from __future__ import annotations

import pandas as pd

from domain.money import format_fen
from reconciliation.common import Frames
from reconciliation.findings import findings_of
from reconciliation.occurrences import month_of, row_evidence, stripped
from reconciliation.rules import Rule

RULE = Rule(
    code="A04", title_zh="收益违规使用",
    title_en="income misdirected",
    subject_type="asset", severity="high",
)
ALLOWED_PURPOSES = {
    "operation_maintenance": "运行管护",
    "consolidation": "巩固脱贫成果",
    "village_public_welfare": "村级公益事业",
    "household_dividend": "农户分红",
}
ALLOWED_ALIASES = {*ALLOWED_PURPOSES, *ALLOWED_PURPOSES.values()}


def check(frames: Frames, policy: dict, as_of: str) -> pd.DataFrame:
    events = frames.asset_events
    purpose = stripped(events, "purpose")
    bad = events[(events["event_type"] == "income_distributed") & (events["date"] <= as_of)
                 & ~purpose.isin(ALLOWED_ALIASES)]
    bad = bad.sort_values(["asset_id", "date", "event_id"])
    occurrences = pd.DataFrame({
        "subject_id": bad["asset_id"], "period": month_of(bad["date"]),
        "amount_fen": bad["amount_fen"].astype("Int64"), "detail": _details(bad),
        "evidence": row_evidence(bad),
    })
    return findings_of(RULE, occurrences, details="given")


def _details(bad: pd.DataFrame) -> pd.Series:
    amount = bad["amount_fen"].astype("Int64").map(
        lambda fen: "金额未填" if pd.isna(fen) else f"{format_fen(fen)} 元")
    purpose = stripped(bad, "purpose").map(lambda p: f"用途“{p}”" if p else "未填写用途")
    return ("资产 " + bad["asset_id"] + " 于 " + bad["date"] + " 分配收益 " + amount
            + "（事项 " + bad["event_id"] + "），" + purpose + "，不属于运行管护、巩固脱贫成果、"
            "村级公益事业、农户分红四类用途。")

"""A04 收益违规使用 — income misdirected.

Rule: an ``income_distributed`` event, dated on or before as-of, whose ``purpose`` is not
one of ``operation_maintenance`` (运行管护), ``consolidation`` (巩固脱贫成果),
``village_public_welfare`` (村级公益事业), ``household_dividend`` (农户分红). An empty
purpose is not one of them. Amount: the total of those distributions; period: the month
of the first.

Why a red flag: the income of poverty-alleviation assets may go only to those four uses.
Anything else (office costs, entertainment, loans, "other") is income diverted from the
people it was meant for.

Data: ``asset_events`` (asset_id, event_id, event_type, date, amount, purpose).
Policy: none.
Legitimate look-alikes: the purpose written in Chinese (the parser normalises the
aliases; the same aliases are accepted here so frames built any other way agree).
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

"""E06 一卡多户 — shared bank account.

What it finds and why, the data it reads, its look-alikes and its policy keys are on
its page, docs/rules/E06.md; this module implements that page.
"""

from __future__ import annotations

import pandas as pd

from reconciliation.common import Frames, text
from reconciliation.findings import evidence_tokens, findings_of
from reconciliation.payments import (
    BANK_EVIDENCE,
    PAYROLL_EVIDENCE,
    successful_payments,
    yuan_text,
)
from reconciliation.rules import Rule

RULE = Rule(
    code="E06", title_zh="一卡多户",
    title_en="shared bank account",
    subject_type="bank_account", severity="high",
    defaults={"min_households": 3},
    crossing="bank_account",
    cost=3,  # benchmarks/README.md: among the slowest
)


def _shared(frames: Frames, as_of: str, min_households: int) -> pd.DataFrame:
    """Successful payments into accounts that serve too many households."""
    paid = successful_payments(frames, as_of)
    paid = paid.assign(subject_id=text(paid["account_bank"]))
    paid = paid[paid["subject_id"] != ""]
    pairs = paid[["subject_id", "household_id"]].drop_duplicates()
    households = pairs["subject_id"].value_counts()
    shared = households.index[households >= min_households]
    return paid[paid["subject_id"].isin(shared)]


def check(frames: Frames, policy: dict, as_of: str) -> pd.DataFrame:
    min_households = int(policy.get("min_households", RULE.defaults["min_households"]))
    paid = _shared(frames, as_of, min_households)
    per_household = paid.groupby(["subject_id", "household_id"], as_index=False).agg(
        period=("period", "min"), last=("period", "max"), count=("paid_fen", "size"),
        amount_fen=("paid_fen", "sum"),
        holders=("holder_bank", lambda h: "、".join(sorted(set(text(h)) - {""}))))
    occurrences = per_household.assign(
        amount_fen=per_household["amount_fen"].astype("Int64"),
        detail=("账户为户 " + per_household["household_id"] + " 入账 "
                + per_household["count"].astype(str) + " 笔共 "
                + yuan_text(per_household["amount_fen"]) + " 元（" + per_household["period"]
                + " 至 " + per_household["last"] + "，户名 "
                + per_household["holders"].replace("", "未填") + "）"))
    tokens = evidence_tokens(paid, PAYROLL_EVIDENCE + BANK_EVIDENCE)
    return findings_of(RULE, occurrences[["subject_id", "period", "amount_fen", "detail"]], tokens)

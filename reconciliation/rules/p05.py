"""P05 重复发放 — paid twice.

What it finds and why, the data it reads, its look-alikes and its policy keys are on
its page, docs/rules/P05.md; this module implements that page.
"""

from __future__ import annotations

import pandas as pd

from reconciliation.common import Frames, text
from reconciliation.findings import evidence_tokens, findings_of, joined_runs
from reconciliation.payments import (
    BANK_EVIDENCE,
    PAYROLL_EVIDENCE,
    line_ids,
    program_text,
    successful_payments,
    yuan_text,
)
from reconciliation.rules import Rule

RULE = Rule(
    code="P05", title_zh="重复发放",
    title_en="paid twice",
    subject_type="household", severity="high",
)
GROUP = ["household_id", "program", "period"]
UNDATED_LAST = "9999-99-99"  # an undated success sorts after every dated one


def _repeated(frames: Frames, as_of: str) -> pd.DataFrame:
    """Successful payments of groups with more than one, in payment order."""
    paid = successful_payments(frames, as_of)
    paid = paid[paid.duplicated(GROUP, keep=False)].copy()
    paid["order_date"] = text(paid["value_date"]).replace("", UNDATED_LAST)
    paid = paid.sort_values(GROUP + ["order_date", "batch_id", "line_no"], kind="stable")
    paid["group"] = (text(paid["household_id"]) + "|" + text(paid["program"]) + "|"
                     + text(paid["period"]))
    return paid


def check(frames: Frames, policy: dict, as_of: str) -> pd.DataFrame:
    paid = _repeated(frames, as_of)
    item = (line_ids(paid) + " " + yuan_text(paid["paid_fen"]) + " 元（入账 "
            + text(paid["value_date"]).replace("", "日期未填") + "）")
    items = joined_runs(paid["group"].to_numpy(dtype=object), item.to_numpy(dtype=object), "、")
    groups = paid.groupby("group", sort=True).agg(
        household_id=("household_id", "first"), program=("program", "first"),
        period=("period", "first"), count=("paid_fen", "size"),
        total_fen=("paid_fen", "sum"), first_fen=("paid_fen", "first"))
    extra_fen = (groups["total_fen"] - groups["first_fen"]).astype("Int64")
    occurrences = pd.DataFrame({
        "subject_id": text(groups["household_id"]),
        "period": text(groups["period"]),
        "amount_fen": extra_fen,
        "detail": (text(groups["period"]) + " " + program_text(groups["program"])
                   + " 成功支付 " + groups["count"].astype(str) + " 笔：" + items.reindex(
                       groups.index) + "，首笔之外多付 " + yuan_text(extra_fen) + " 元"),
    })
    tokens = evidence_tokens(paid.assign(subject_id=text(paid["household_id"])),
                             PAYROLL_EVIDENCE + BANK_EVIDENCE)
    return findings_of(RULE, occurrences, tokens)

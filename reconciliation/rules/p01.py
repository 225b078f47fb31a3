"""P01 未回盘 — payment not confirmed by bank.

What it finds and why, the data it reads, its look-alikes and its policy keys are on
its page, docs/rules/P01.md; this module implements that page.
"""

from __future__ import annotations

import pandas as pd

from reconciliation.common import Frames, text
from reconciliation.findings import evidence_tokens, findings_of
from reconciliation.payments import (
    LINE_KEY,
    PAYROLL_EVIDENCE,
    known_bank_lines,
    line_ids,
    program_text,
    yuan_text,
)
from reconciliation.rules import Rule

RULE = Rule(
    code="P01", title_zh="未回盘",
    title_en="payment not confirmed by bank",
    subject_type="payroll_line", severity="medium",
)


def check(frames: Frames, policy: dict, as_of: str) -> pd.DataFrame:
    payroll = frames.payroll
    due = payroll
    answered = known_bank_lines(frames, as_of)[LINE_KEY].drop_duplicates()
    joined = due.merge(answered, on=LINE_KEY, how="left", indicator=True)
    missing = joined[joined["_merge"] == "left_only"]
    subject = line_ids(missing)
    occurrences = pd.DataFrame({
        "subject_id": subject,
        "period": text(missing["period"]),
        "amount_fen": missing["amount_fen"].astype("Int64"),
        "detail": (missing["period"] + " " + program_text(missing["program"]) + " 发放名册 "
                   + subject + " 户 " + text(missing["household_id"]) + " 应发 "
                   + yuan_text(missing["amount_fen"]) + " 元，截至 " + as_of
                   + " 银行未回盘（无回盘记录）"),
    })
    tokens = evidence_tokens(missing.assign(subject_id=subject), PAYROLL_EVIDENCE)
    return findings_of(RULE, occurrences, tokens)

"""P03 金额不符 — amount differs.

What it finds and why, the data it reads, its look-alikes and its policy keys are on
its page, docs/rules/P03.md; this module implements that page.
"""

from __future__ import annotations

import pandas as pd

from reconciliation.common import Frames, text
from reconciliation.findings import evidence_tokens, findings_of
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
    code="P03", title_zh="金额不符",
    title_en="amount differs",
    subject_type="payroll_line", severity="high",
)


def check(frames: Frames, policy: dict, as_of: str) -> pd.DataFrame:
    paid = successful_payments(frames, as_of)
    bank_fen = paid["amount_fen_bank"].astype("Int64")
    differs = (bank_fen.notna() & (bank_fen != paid["amount_fen"])).fillna(False)
    wrong = paid[differs.astype(bool)]
    subject = line_ids(wrong)
    bank_fen = wrong["amount_fen_bank"].astype("Int64")
    difference = (bank_fen - wrong["amount_fen"].astype("Int64")).abs()
    occurrences = pd.DataFrame({
        "subject_id": subject,
        "period": text(wrong["period"]),
        "amount_fen": difference,
        "detail": (text(wrong["period"]) + " " + program_text(wrong["program"]) + " "
                   + subject + " 户 " + text(wrong["household_id"]) + " 名册金额 "
                   + yuan_text(wrong["amount_fen"]) + " 元，银行实付 "
                   + yuan_text(bank_fen) + " 元，相差 " + yuan_text(difference) + " 元"),
    })
    tokens = evidence_tokens(wrong.assign(subject_id=subject),
                             PAYROLL_EVIDENCE + BANK_EVIDENCE)
    return findings_of(RULE, occurrences, tokens)

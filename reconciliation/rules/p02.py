"""P02 账外支付 — bank payment not in payroll.

What it finds and why, the data it reads, its look-alikes and its policy keys are on
its page, docs/rules/P02.md; this module implements that page.
"""

from __future__ import annotations

import pandas as pd

from reconciliation.common import Frames, text
from reconciliation.findings import evidence_tokens, findings_of
from reconciliation.payments import (
    LINE_KEY,
    STATUS_SUCCESS,
    known_bank_lines,
    line_ids,
    yuan_text,
)
from reconciliation.rules import Rule

RULE = Rule(
    code="P02", title_zh="账外支付",
    title_en="bank payment not in payroll",
    subject_type="bank_line", severity="high",
)


def check(frames: Frames, policy: dict, as_of: str) -> pd.DataFrame:
    bank = known_bank_lines(frames, as_of)
    paid = bank[bank["status"] == STATUS_SUCCESS]
    ordered = frames.payroll[LINE_KEY].drop_duplicates()
    joined = paid.merge(ordered, on=LINE_KEY, how="left", indicator=True)
    stray = joined[joined["_merge"] == "left_only"]
    subject = line_ids(stray)
    value_date = text(stray["value_date"]).replace("", "日期未填")
    occurrences = pd.DataFrame({
        "subject_id": subject,
        "period": "",
        "amount_fen": stray["amount_fen"].astype("Int64"),
        "detail": ("银行回盘 " + subject + " 成功支付 " + yuan_text(stray["amount_fen"])
                   + " 元至账户 " + text(stray["bank_account"]) + "（户名 "
                   + text(stray["account_holder"]) + "，入账日期 " + value_date
                   + "），任何发放名册中均无此批次行"),
    })
    tokens = evidence_tokens(stray.assign(subject_id=subject),
                             ["evidence_event", "evidence_row"])
    return findings_of(RULE, occurrences, tokens)

"""P02 账外支付 — bank payment not in payroll.

Rule: a successful bank-return line (value date empty or ≤ as-of) whose
``batch_id:line_no`` is in no payroll.

Why it is a red flag: the bank paid money nobody approved in a payroll list; that is
the classic way to slip a fictitious or private payee into a batch.

Data: bank_return, payroll. Policy keys: none.

Legitimate look-alikes (not flagged): a failed unmatched bank line (no money moved);
a success dated after as-of (not yet a fact).
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

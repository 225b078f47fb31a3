"""P04 收款人不符 — payee differs.

What it finds and why, the data it reads, its look-alikes and its policy keys are on
its page, docs/rules/P04.md; this module implements that page.
"""

from __future__ import annotations

import pandas as pd

from reconciliation.common import Frames, text
from reconciliation.findings import evidence_tokens, findings_of
from reconciliation.payments import (
    BANK_EVIDENCE,
    PAYROLL_EVIDENCE,
    line_ids,
    matched_lines,
    program_text,
)
from reconciliation.rules import Rule

RULE = Rule(
    code="P04", title_zh="收款人不符",
    title_en="payee differs",
    subject_type="payroll_line", severity="high",
    cost=2,  # benchmarks/README.md: among the slowest
)
HOUSEHOLD_EVIDENCE = ["evidence_event_household", "evidence_row_household"]
STATUS_ZH = {"success": "支付成功", "failed": "支付失败"}


def _differs(left: pd.Series, right: pd.Series) -> pd.Series:
    """Both recorded and not equal."""
    return (left != "") & (right != "") & (left != right)


def _with_register(matched: pd.DataFrame, frames: Frames) -> pd.DataFrame:
    register = frames.households[["household_id", "bank_account", "account_holder",
                                  "evidence_event", "evidence_row"]]
    register = register.drop_duplicates("household_id").rename(columns={
        "bank_account": "account_registered", "account_holder": "holder_registered",
        "evidence_event": "evidence_event_household",
        "evidence_row": "evidence_row_household"})
    out = matched.merge(register, on="household_id", how="left")
    for column in ["account_registered", "holder_registered", "bank_account",
                   "account_bank", "holder_bank"] + HOUSEHOLD_EVIDENCE:
        out[column] = text(out[column])
    return out


def _reasons(lines: pd.DataFrame, bank_vs_payroll, holder_vs_register, payroll_vs_register):
    """The readable mismatch sentence of each line (only the parts that apply)."""
    empty = pd.Series("", index=lines.index, dtype=object)
    part_a = ("银行入账账户 " + lines["account_bank"] + " 与名册账户 "
              + lines["bank_account"] + " 不一致；").where(bank_vs_payroll, empty)
    part_b = ("银行户名 " + lines["holder_bank"] + " 与登记开户人 "
              + lines["holder_registered"] + " 不一致；").where(holder_vs_register, empty)
    part_c = ("名册账户 " + lines["bank_account"] + " 与户籍登记账户 "
              + lines["account_registered"] + " 不一致；").where(payroll_vs_register, empty)
    return (part_a + part_b + part_c).str.rstrip("；")


def check(frames: Frames, policy: dict, as_of: str) -> pd.DataFrame:
    lines = _with_register(matched_lines(frames, as_of), frames)
    bank_vs_payroll = _differs(lines["account_bank"], lines["bank_account"])
    holder_vs_register = _differs(lines["holder_bank"], lines["holder_registered"])
    payroll_vs_register = _differs(lines["bank_account"], lines["account_registered"])
    flagged = bank_vs_payroll | holder_vs_register | payroll_vs_register
    hit = lines[flagged]
    a, b, c = bank_vs_payroll[flagged], holder_vs_register[flagged], payroll_vs_register[flagged]
    subject = line_ids(hit)
    occurrences = pd.DataFrame({
        "subject_id": subject,
        "period": text(hit["period"]),
        "amount_fen": hit["amount_fen"].astype("Int64"),
        "detail": (text(hit["period"]) + " " + program_text(hit["program"]) + " " + subject
                   + " 户 " + text(hit["household_id"]) + "（银行"
                   + text(hit["status"]).map(STATUS_ZH).fillna("状态未知") + "）："
                   + _reasons(hit, a, b, c)),
    })
    hit = hit.assign(subject_id=subject)
    tokens = pd.concat([
        evidence_tokens(hit, PAYROLL_EVIDENCE + BANK_EVIDENCE),
        evidence_tokens(hit[b | c], HOUSEHOLD_EVIDENCE),  # the register was compared
    ], ignore_index=True)
    return findings_of(RULE, occurrences, tokens)

"""B01 超拨付支出 — spending above allocation.

What it finds and why, the data it reads, its look-alikes and its policy keys are on
its page, docs/rules/B01.md; this module implements that page.
"""

from __future__ import annotations

import pandas as pd

from domain import money_facts
from reconciliation.common import Frames, text
from reconciliation.findings import evidence_tokens, findings_of
from reconciliation.payments import (
    BANK_EVIDENCE,
    PAYROLL_EVIDENCE,
    program_text,
    successful_payments,
    yuan_text,
)
from reconciliation.rules import Rule

RULE = Rule(
    code="B01", title_zh="超拨付支出",
    title_en="spending above allocation",
    subject_type="township_program", severity="high",
    cost=9,  # benchmarks/README.md: among the slowest
)
KEY = ["township", "program", "year"]


def _payments(frames: Frames, as_of: str) -> pd.DataFrame:
    paid = successful_payments(frames, as_of)
    return paid.assign(year=money_facts.payment_years(paid), township=text(paid["township"]))


def _allocations(frames: Frames, as_of: str) -> pd.DataFrame:
    known = money_facts.allocated_by(frames.allocations, as_of)
    return known.assign(year=text(known["date"]).str[:4], township=text(known["township"]))


def _excess(paid: pd.DataFrame, allocated: pd.DataFrame) -> pd.DataFrame:
    spent = paid.groupby(KEY)["paid_fen"].sum().rename("spent_fen")
    given = allocated.groupby(KEY)["amount_fen"].sum().rename("allocated_fen")
    years = pd.concat([spent, given], axis=1).fillna(0).astype("int64").reset_index()
    years["excess_fen"] = years["spent_fen"] - years["allocated_fen"]
    over = years[years["excess_fen"] > 0]
    return over.assign(subject_id=over["township"] + "|" + over["program"])


def check(frames: Frames, policy: dict, as_of: str) -> pd.DataFrame:
    paid, allocated = _payments(frames, as_of), _allocations(frames, as_of)
    over = _excess(paid, allocated)
    occurrences = pd.DataFrame({
        "subject_id": over["subject_id"],
        "period": "",
        "amount_fen": over["excess_fen"].astype("Int64"),
        "detail": (over["year"] + " 年 " + over["township"] + " " + program_text(
            over["program"]) + " 成功支付 " + yuan_text(over["spent_fen"]) + " 元，同年拨付 "
            + yuan_text(over["allocated_fen"]) + " 元，超支 " + yuan_text(over["excess_fen"])
            + " 元"),
    })
    keys = over[KEY + ["subject_id"]]
    tokens = pd.concat([
        evidence_tokens(paid.merge(keys, on=KEY), PAYROLL_EVIDENCE + BANK_EVIDENCE),
        evidence_tokens(allocated.merge(keys, on=KEY), ["evidence_event", "evidence_row"]),
    ], ignore_index=True)
    return findings_of(RULE, occurrences, tokens, amount="max")

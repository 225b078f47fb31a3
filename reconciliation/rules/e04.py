"""E04 退出后仍发放 — paid after exit.

What it finds and why, the data it reads, its look-alikes and its policy keys are on
its page, docs/rules/E04.md; this module implements that page.
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
    code="E04", title_zh="退出后仍发放",
    title_en="paid after exit",
    subject_type="household", severity="high",
    cost=4,  # benchmarks/README.md: among the slowest
)
ENROLMENT_EVIDENCE = ["evidence_event_enrolment", "evidence_row_enrolment"]


def _enrolments(frames: Frames) -> pd.DataFrame:
    enrolments = frames.enrolments[["household_id", "program", "start_period", "exit_period",
                                    "gradual_exit_until", "evidence_event", "evidence_row"]]
    return enrolments.rename(columns={"evidence_event": "evidence_event_enrolment",
                                      "evidence_row": "evidence_row_enrolment"})


def _payment_against_enrolments(frames: Frames, as_of: str) -> pd.DataFrame:
    """Each payment beside each enrolment of its household and program, with whether
    that enrolment has exited by the period and whether it covers the period."""
    paid = successful_payments(frames, as_of).reset_index(drop=True)
    paid["payment"] = paid.index
    pairs = paid.merge(_enrolments(frames), on=["household_id", "program"])
    period, start = text(pairs["period"]), text(pairs["start_period"])
    exit_, gradual = text(pairs["exit_period"]), text(pairs["gradual_exit_until"])
    in_gradual = (gradual != "") & (period <= gradual)
    exited = (exit_ != "") & (exit_ <= period) & ~in_gradual
    covers = (start <= period) & ((exit_ == "") | (period < exit_) | in_gradual)
    return pairs.assign(exited=exited, covers=covers)


def check(frames: Frames, policy: dict, as_of: str) -> pd.DataFrame:
    pairs = _payment_against_enrolments(frames, as_of)
    per_payment = pairs.groupby("payment").agg(exited=("exited", "any"), covers=("covers", "any"))
    flagged = per_payment.index[per_payment["exited"] & ~per_payment["covers"]]
    hits = pairs[pairs["payment"].isin(flagged) & pairs["exited"]]
    hits = hits.assign(subject_id=text(hits["household_id"]))
    # One occurrence per payment, told against its latest exit (the one that matters).
    latest = hits.sort_values("exit_period", ascending=False, kind="stable")
    latest = latest.drop_duplicates("payment")
    gradual = text(latest["gradual_exit_until"]).replace("", "无")
    occurrences = pd.DataFrame({
        "subject_id": latest["subject_id"],
        "period": text(latest["period"]),
        "amount_fen": latest["paid_fen"].astype("Int64"),
        "detail": (text(latest["period"]) + " " + program_text(latest["program"]) + " "
                   + line_ids(latest) + " 成功支付 " + yuan_text(latest["paid_fen"])
                   + " 元，该户已于 " + text(latest["exit_period"]) + " 退出（渐退截止 "
                   + gradual + "）"),
    })
    tokens = evidence_tokens(hits, PAYROLL_EVIDENCE + BANK_EVIDENCE + ENROLMENT_EVIDENCE)
    return findings_of(RULE, occurrences, tokens)

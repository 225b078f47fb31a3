"""E08 大数据比对 — undeclared holdings.

What it finds and why, the data it reads, its look-alikes and its policy keys are on
its page, docs/rules/E08.md; this module implements that page.
"""

from __future__ import annotations

from decimal import Decimal

import pandas as pd

from domain.money import to_fen
from reconciliation.common import Frames, text
from reconciliation.findings import evidence_tokens, findings_of
from reconciliation.payments import (
    BANK_EVIDENCE,
    PAYROLL_EVIDENCE,
    dated_by,
    households_headed_by,
    normalised_ids,
    period_end,
    successful_payments,
    with_head_ids,
    yuan_text,
)
from reconciliation.rules import HOLDING_VALUE_ZH, Rule

RULE = Rule(
    code="E08", title_zh="大数据比对",
    title_en="undeclared holdings",
    subject_type="household", severity="medium",
    defaults={"min_value": 30000},
    crossing="register",
    cost=6,  # benchmarks/README.md: among the slowest
    amount_meaning_zh=HOLDING_VALUE_ZH,  # not money paid out: totals keep it apart
)
KIND_NAMES = {"vehicle": "车辆", "business": "工商登记", "property": "房产"}
HOLDING_EVIDENCE = ["evidence_event_holding", "evidence_row_holding"]
HOUSEHOLD_EVIDENCE = ["evidence_event_household", "evidence_row_household"]


def min_value_fen(policy: dict) -> int:
    """The policy's yuan threshold (TOML int, float or string) as exact fen."""
    return to_fen(Decimal(str(policy.get("min_value", RULE.defaults["min_value"]))))


def _holdings(frames: Frames, as_of: str, threshold_fen: int) -> pd.DataFrame:
    holdings = frames.holdings
    dates = text(holdings["registered_on"])
    large = holdings[(holdings["value_fen"] >= threshold_fen) & (dates != "")
                     & dated_by(dates, as_of)]
    return large.assign(holder_id=normalised_ids(large["id_number"]),
                        holding=large.index).rename(columns={
        "evidence_event": "evidence_event_holding", "evidence_row": "evidence_row_holding"})


def _paid_after_registration(frames: Frames, as_of: str, policy: dict) -> pd.DataFrame:
    """Each successful payment of a holder's household for a period whose end is on or
    after the holding's registration, beside that holding."""
    holdings = _holdings(frames, as_of, min_value_fen(policy))
    holdings = holdings[holdings["holder_id"] != ""]
    paid = successful_payments(frames, as_of)
    paid = paid[paid["household_id"].isin(households_headed_by(frames, holdings["holder_id"]))]
    paid = with_head_ids(paid, frames)
    pairs = paid.merge(holdings, left_on="head_id", right_on="holder_id")
    return pairs[period_end(pairs["period"]) >= text(pairs["registered_on"])]


def check(frames: Frames, policy: dict, as_of: str) -> pd.DataFrame:
    pairs = _paid_after_registration(frames, as_of, policy)
    pairs = pairs.assign(subject_id=text(pairs["household_id"]))
    per_holding = pairs.groupby(["subject_id", "holding"], as_index=False).agg(
        period=("period", "min"), last=("period", "max"), value_fen=("value_fen", "first"),
        kind=("kind", "first"), description=("description", "first"),
        registered_on=("registered_on", "first"), head_id=("head_id", "first"))
    occurrences = per_holding.assign(
        amount_fen=per_holding["value_fen"].astype("Int64"),
        detail=("户主（" + per_holding["head_id"] + "）名下" + text(per_holding["kind"]).map(
            KIND_NAMES).fillna(text(per_holding["kind"])) + " " + text(per_holding["description"])
            + " 价值 " + yuan_text(per_holding["value_fen"]) + " 元，登记于 "
            + text(per_holding["registered_on"]) + "；该户 " + per_holding["period"] + " 至 "
            + per_holding["last"] + " 仍领取救助"))
    tokens = evidence_tokens(pairs, PAYROLL_EVIDENCE + BANK_EVIDENCE + HOLDING_EVIDENCE
                             + HOUSEHOLD_EVIDENCE)
    return findings_of(RULE, occurrences[["subject_id", "period", "amount_fen", "detail"]], tokens)

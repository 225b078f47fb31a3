"""S01 首位数字偏离 — Benford first-digit nonconformity.

What it finds and why, the data it reads, its look-alikes and its policy keys are on
its page, docs/rules/S01.md; this module implements that page.
"""

from __future__ import annotations

import math

import pandas as pd

from reconciliation.common import Frames
from reconciliation.findings import findings_of
from reconciliation.occurrences import row_evidence, stripped
from reconciliation.rules import Rule

RULE = Rule(
    code="S01", title_zh="首位数字偏离",
    title_en="Benford first-digit nonconformity",
    subject_type="township", severity="low",
    defaults={"mad_max": 0.015, "min_count": 50},
    lead=True,
)
BENFORD_MIN_FEN = 1_000  # 10 yuan: smaller amounts carry too little of Benford's law
DIGITS = range(1, 10)
EXPECTED_SHARE = pd.Series({d: math.log10(1 + 1 / d) for d in DIGITS})
ADJUSTMENTS_GROUP = "adjustments"


def check(frames: Frames, policy: dict, as_of: str) -> pd.DataFrame:
    amounts = discretionary_amounts(frames, as_of)
    amounts = amounts[amounts["amount_fen"] >= BENFORD_MIN_FEN]
    amounts = amounts.assign(digit=amounts["amount_fen"].astype(str).str[0].astype(int))
    counts = pd.crosstab(amounts["group"], amounts["digit"]).reindex(columns=DIGITS, fill_value=0)
    totals = counts.sum(axis=1)
    shares = counts.div(totals, axis=0)
    mad = (shares - EXPECTED_SHARE).abs().mean(axis=1)
    leads = mad[(totals >= policy["min_count"]) & (mad > policy["mad_max"])]
    screened = amounts[amounts["group"].isin(leads.index)]
    evidence = screened.groupby("group")["evidence"].agg(" ".join)
    rows = [_occurrence(group, int(totals[group]), shares.loc[group], mad[group],
                        policy["mad_max"], evidence[group]) for group in leads.index]
    occurrences = pd.DataFrame(rows, columns=["subject_id", "subject_type", "period",
                                              "amount_fen", "detail", "evidence"])
    return findings_of(RULE, occurrences, details="given")


def discretionary_amounts(frames: Frames, as_of: str) -> pd.DataFrame:
    """Amounts a person chose (positive fen), with the group screened and evidence tokens.

    Reserve disbursements and temporary-aid payroll lines group by township; adjustments,
    which carry no township, form one group of their own.
    """
    reserve = frames.reserve
    paid = reserve[(reserve["record_type"] == "disbursement") & (reserve["date"] <= as_of)]
    payroll = frames.payroll
    temporary = payroll[(payroll["program"] == "temporary") & (payroll["period"] <= as_of[:7])]
    adjustments = frames.adjustments
    dates = stripped(adjustments, "date")
    adjusted = adjustments[(dates == "") | (dates <= as_of)]
    parts = [
        pd.DataFrame({"group": paid["township"], "amount_fen": paid["amount_fen"],
                      "evidence": row_evidence(paid)}),
        pd.DataFrame({"group": temporary["township"], "amount_fen": temporary["amount_fen"],
                      "evidence": row_evidence(temporary)}),
        pd.DataFrame({"group": ADJUSTMENTS_GROUP,
                      "amount_fen": pd.to_numeric(adjusted["amount_fen"], errors="coerce")
                      .astype("Int64").abs(), "evidence": row_evidence(adjusted)}),
    ]
    present = [part for part in parts if not part.empty]
    amounts = pd.concat(present, ignore_index=True) if present else parts[0]
    amounts = amounts[amounts["amount_fen"].notna()]
    amounts = amounts.assign(amount_fen=amounts["amount_fen"].astype("int64"))
    return amounts[amounts["amount_fen"] > 0].reset_index(drop=True)


def group_subject_type(group: str) -> str:
    return ADJUSTMENTS_GROUP if group == ADJUSTMENTS_GROUP else RULE.subject_type


def _occurrence(group: str, count: int, shares: pd.Series, mad: float, mad_max: float,
                evidence: str) -> dict:
    digits = "，".join(f"{d}: {shares[d]:.1%}（期望 {EXPECTED_SHARE[d]:.1%}）" for d in DIGITS)
    where = "调整" if group == ADJUSTMENTS_GROUP else f"乡镇 {group} "
    detail = (f"{where}自由裁量金额（≥10 元）{count} 笔，首位数字分布偏离本福特定律："
              f"MAD {mad:.4f} > {mad_max}。首位数字占比 {digits}。")
    return {"subject_id": group, "subject_type": group_subject_type(group), "period": "",
            "amount_fen": pd.NA, "detail": detail, "evidence": evidence}

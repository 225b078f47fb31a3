"""S03 金额异常偏高 — payroll amount far above its peers.

What it finds and why, the data it reads, its look-alikes and its policy keys are on
its page, docs/rules/S03.md; this module implements that page.

Quartiles of int fen by linear interpolation fall on quarter-fen (the fraction is a
multiple of 1/4), which float64 holds exactly for any real amount: with a whole-number
factor the fence is exact.
"""

from __future__ import annotations

from decimal import Decimal

import pandas as pd

from domain.money import CENT, format_fen
from reconciliation.common import Frames
from reconciliation.findings import findings_of
from reconciliation.occurrences import row_evidence
from reconciliation.rules import Rule

RULE = Rule(
    code="S03", title_zh="金额异常偏高",
    title_en="payroll amount far above its peers",
    subject_type="payroll_line", severity="low",
    defaults={"iqr_factor": 3.0},  # a real number: 1.5 is Tukey's inner fence
    lead=True,
)
GROUP = ["township", "program"]


def check(frames: Frames, policy: dict, as_of: str) -> pd.DataFrame:
    payroll = frames.payroll[frames.payroll["period"] <= as_of[:7]]
    amounts = payroll.groupby(GROUP)["amount_fen"]
    q1, q3 = amounts.transform("quantile", 0.25), amounts.transform("quantile", 0.75)
    fence = q3 + policy["iqr_factor"] * (q3 - q1)
    above = payroll.assign(q1=q1, q3=q3, fence=fence, peers=amounts.transform("size"))
    above = above[above["amount_fen"] > above["fence"]]
    subject = above["batch_id"].astype(str) + ":" + above["line_no"].astype(str)
    occurrences = pd.DataFrame({
        "subject_id": subject, "period": above["period"], "amount_fen": above["amount_fen"],
        "detail": _details(above, policy["iqr_factor"]), "evidence": row_evidence(above),
    })
    return findings_of(RULE, occurrences, details="given")


def _yuan(fen: float) -> str:
    """Yuan text of a (quarter-)fen statistic, rounded to the cent for reading only."""
    return str((Decimal(str(fen)) / 100).quantize(CENT))


def _details(above: pd.DataFrame, factor: float) -> pd.Series:
    return ("批次 " + above["batch_id"].astype(str) + " 序号 " + above["line_no"].astype(str)
            + "（乡镇 " + above["township"] + "，" + above["program"] + "，" + above["period"]
            + "，户 " + above["household_id"] + "）金额 " + above["amount_fen"].map(format_fen)
            + f" 元，高于同乡镇同类别 Q3 + {factor:g}×IQR 上限 " + above["fence"].map(_yuan)
            + " 元（Q1 " + above["q1"].map(_yuan) + " 元，Q3 " + above["q3"].map(_yuan)
            + " 元，共 " + above["peers"].astype(str) + " 笔）。")

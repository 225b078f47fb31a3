"""D01 同一人经办审批 — self-approval.

What it finds and why, the data it reads, its look-alikes and its policy keys are on
its page, docs/rules/D01.md; this module implements that page.
"""

from __future__ import annotations

import pandas as pd

from domain.money import format_fen
from reconciliation.common import Frames
from reconciliation.findings import findings_of
from reconciliation.occurrences import month_of, row_evidence, stripped
from reconciliation.rules import Rule

RULE = Rule(
    code="D01", title_zh="同一人经办审批",
    title_en="self-approval",
    subject_type="reserve_record", severity="medium",
)


def check(frames: Frames, policy: dict, as_of: str) -> pd.DataFrame:
    occurrences = pd.concat([_reserve(frames.reserve, as_of),
                             _adjustments(frames.adjustments, as_of)], ignore_index=True)
    return findings_of(RULE, occurrences, details="given")


def _self_approved(frame: pd.DataFrame) -> pd.Series:
    approver = stripped(frame, "approver")
    by_name = (approver != "") & (approver == stripped(frame, "recorded_by"))
    if not {"approver_id", "recorded_by_id"} <= set(frame.columns):
        return by_name
    approver_id, maker_id = _ids(frame, "approver_id"), _ids(frame, "recorded_by_id")
    return by_name.where((approver_id == "") | (maker_id == ""), approver_id == maker_id)


def _ids(frame: pd.DataFrame, column: str) -> pd.Series:
    """User ids as text, '' where missing (``stripped``, but a column of rows without ids
    may be all-NaN float, which pandas will not fill with text)."""
    return frame[column].astype(object).fillna("").astype(str).str.strip()


def _reserve(reserve: pd.DataFrame, as_of: str) -> pd.DataFrame:
    paid = reserve[(reserve["record_type"] == "disbursement") & (reserve["date"] <= as_of)]
    own = paid[_self_approved(paid)]
    detail = ("先行救助支出 " + own["record_id"] + "（" + own["date"] + "，"
              + own["amount_fen"].map(format_fen) + " 元）由 " + stripped(own, "approver")
              + " 经办并审批。")
    return pd.DataFrame({
        "subject_id": own["record_id"], "subject_type": "reserve_record",
        "period": month_of(own["date"]), "amount_fen": own["amount_fen"].astype("Int64"),
        "detail": detail, "evidence": row_evidence(own),
    })


def _adjustments(adjustments: pd.DataFrame, as_of: str) -> pd.DataFrame:
    dates = stripped(adjustments, "date")
    dated = adjustments[(dates == "") | (dates <= as_of)]
    own = dated[_self_approved(dated)]
    amount_fen = pd.to_numeric(own["amount_fen"], errors="coerce").astype("Int64").abs()
    amount = amount_fen.map(lambda fen: "金额未填" if pd.isna(fen) else f"{format_fen(fen)} 元")
    reason = stripped(own, "reason").map(lambda r: f"，事由：{r}" if r else "")
    detail = ("调整 " + own["adjustment_id"].astype(str) + "（" + stripped(own, "date") + "，"
              + amount + reason + "）由 " + stripped(own, "approver") + " 经办并审批。")
    return pd.DataFrame({
        "subject_id": own["adjustment_id"].astype(str), "subject_type": "adjustment",
        "period": month_of(stripped(own, "date")), "amount_fen": amount_fen,
        "detail": detail, "evidence": row_evidence(own),
    })

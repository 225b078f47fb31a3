"""A02 违规处置 — disposal without approval.

What it finds and why, the data it reads, its look-alikes and its policy keys are on
its page, docs/rules/A02.md; this module implements that page.
"""

from __future__ import annotations

import pandas as pd

from domain.money import format_fen
from reconciliation.common import Frames
from reconciliation.findings import findings_of
from reconciliation.occurrences import month_of, row_evidence, stripped
from reconciliation.rules import BOOK_VALUE_ZH, Rule

RULE = Rule(
    code="A02", title_zh="违规处置",
    title_en="disposal without approval",
    subject_type="asset", severity="high",
    amount_meaning_zh=BOOK_VALUE_ZH,  # not money paid out: totals keep it apart
)
EVENT_ZH = {"transferred": "移交", "disposed": "处置"}


def check(frames: Frames, policy: dict, as_of: str) -> pd.DataFrame:
    events = frames.asset_events
    bad = events[events["event_type"].isin(list(EVENT_ZH)) & (events["date"] <= as_of)
                 & (stripped(events, "approval_document") == "")]
    bad = bad.sort_values(["asset_id", "date", "event_id"])
    register = frames.assets.drop_duplicates("asset_id")
    value_fen = bad["asset_id"].map(register.set_index("asset_id")["value_fen"]).astype("Int64")
    tokens = pd.Series(row_evidence(register).to_numpy(), index=register["asset_id"])
    register_tokens = bad["asset_id"].map(tokens).fillna("")
    occurrences = pd.DataFrame({
        "subject_id": bad["asset_id"], "period": month_of(bad["date"]),
        # The value is at stake once per asset, however many events: the first carries it.
        "amount_fen": value_fen.where(~bad["asset_id"].duplicated(), pd.NA),
        "detail": _details(bad),
        "evidence": row_evidence(bad) + " " + register_tokens,
    })
    return findings_of(RULE, occurrences, details="given")


def _details(bad: pd.DataFrame) -> pd.Series:
    amount_fen = bad["amount_fen"].astype("Int64")
    amount = amount_fen.map(lambda fen: "" if pd.isna(fen) else f"，金额 {format_fen(fen)} 元")
    counterparty = stripped(bad, "counterparty").map(lambda c: f"，对象 {c}" if c else "")
    return ("资产 " + bad["asset_id"] + " 于 " + bad["date"] + " " + bad["event_type"].map(EVENT_ZH)
            + "（事项 " + bad["event_id"] + amount + counterparty + "），无审批文号。")

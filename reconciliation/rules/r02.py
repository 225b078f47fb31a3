"""R02 超权限审批 — above approval limit.

What it finds and why, the data it reads, its look-alikes and its policy keys are on
its page, docs/rules/R02.md; this module implements that page.
"""

from __future__ import annotations

import pandas as pd

from domain.money import format_fen
from reconciliation.common import Frames
from reconciliation.findings import findings_of
from reconciliation.occurrences import month_of, row_evidence, stripped
from reconciliation.rule import policy_fen
from reconciliation.rules import Rule

RULE = Rule(
    code="R02", title_zh="超权限审批",
    title_en="above approval limit",
    subject_type="reserve_record", severity="high",
    defaults={"township_limit": 1000, "county_limit": 20000},
    money_keys=frozenset({"township_limit", "county_limit"}),
)
LEVEL_ZH = {"township": "乡镇", "county": "县级"}


def check(frames: Frames, policy: dict, as_of: str) -> pd.DataFrame:
    reserve = frames.reserve
    paid = reserve[(reserve["record_type"] == "disbursement") & (reserve["date"] <= as_of)]
    level = stripped(paid, "approval_level").where(lambda s: s == "county", "township")
    limit_fen = level.map({"township": policy_fen(policy["township_limit"]),
                           "county": policy_fen(policy["county_limit"])})
    over = paid[paid["amount_fen"] > limit_fen]
    level, limit_fen = level[over.index], limit_fen[over.index]
    detail = ("先行救助支出 " + over["record_id"] + "（" + over["date"] + "）金额 "
              + over["amount_fen"].map(format_fen) + " 元，超过" + level.map(LEVEL_ZH)
              + "审批权限 " + limit_fen.map(format_fen) + " 元。")
    occurrences = pd.DataFrame({
        "subject_id": over["record_id"], "period": month_of(over["date"]),
        "amount_fen": over["amount_fen"], "detail": detail, "evidence": row_evidence(over),
    })
    return findings_of(RULE, occurrences, details="given")

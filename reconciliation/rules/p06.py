"""P06 失败未重发 — failed payment left unresolved.

What it finds and why, the data it reads, its look-alikes and its policy keys are on
its page, docs/rules/P06.md; this module implements that page.
"""

from __future__ import annotations

import pandas as pd

from reconciliation.common import Frames, text
from reconciliation.findings import evidence_tokens, findings_of
from reconciliation.payments import (
    BANK_EVIDENCE,
    PAYROLL_EVIDENCE,
    dated_by,
    failed_of,
    line_ids,
    matched_lines,
    program_text,
    successful_of,
    yuan_text,
)
from reconciliation.rules import Rule

RULE = Rule(
    code="P06", title_zh="失败未重发",
    title_en="failed payment left unresolved",
    subject_type="payroll_line", severity="medium",
)
GROUP = ["household_id", "program", "period"]


def _success_dates(matched: pd.DataFrame, keys: pd.DataFrame, as_of: str) -> pd.DataFrame:
    """Per (household, program, period) of ``keys``: the latest dated success as an
    integer YYYYMMDD (-1: none dated) and whether any success is undated — enough to
    answer "a success on or after date d?" without a cross join of lines."""
    paid = successful_of(matched).merge(keys, on=GROUP)
    paid = paid[dated_by(paid["value_date"], as_of)]  # "by the as-of date"
    dates = text(paid["value_date"])
    dated = dates.str.replace("-", "", regex=False).where(dates != "", "-1").astype("int64")
    return paid.assign(undated=dates == "", dated=dated).groupby(
        GROUP, as_index=False).agg(latest=("dated", "max"), any_undated=("undated", "any"))


def _unresolved(frames: Frames, as_of: str) -> pd.DataFrame:
    matched = matched_lines(frames, as_of)
    failed = failed_of(matched)
    failed = failed[dated_by(failed["value_date"], as_of)]  # a failure known by as-of
    keys = failed[GROUP].drop_duplicates()
    joined = failed.merge(_success_dates(matched, keys, as_of), on=GROUP, how="left")
    failed_on = text(joined["value_date"])
    failed_int = failed_on.str.replace("-", "", regex=False).where(failed_on != "", "0")
    latest = joined["latest"].astype("Int64").fillna(-1).astype("int64")
    any_undated = joined["any_undated"].astype("boolean").fillna(False).astype(bool)
    resolved = any_undated | ((latest >= 0) & (latest >= failed_int.astype("int64")))
    return joined[~resolved]


def check(frames: Frames, policy: dict, as_of: str) -> pd.DataFrame:
    left = _unresolved(frames, as_of)
    subject = line_ids(left)
    reason = text(left["fail_reason"]).replace("", "未注明")
    occurrences = pd.DataFrame({
        "subject_id": subject,
        "period": text(left["period"]),
        "amount_fen": left["amount_fen"].astype("Int64"),
        "detail": (text(left["period"]) + " " + program_text(left["program"]) + " " + subject
                   + " 户 " + text(left["household_id"]) + " 应发 "
                   + yuan_text(left["amount_fen"]) + " 元，银行支付失败（"
                   + text(left["value_date"]).replace("", "日期未填") + "，原因：" + reason
                   + "），截至 " + as_of + " 未见同户同类别同期的成功重发"),
    })
    tokens = evidence_tokens(left.assign(subject_id=subject), PAYROLL_EVIDENCE + BANK_EVIDENCE)
    return findings_of(RULE, occurrences, tokens)

"""E01 死亡冒领 — paid after death.

What it finds and why, the data it reads, its look-alikes and its policy keys are on
its page, docs/rules/E01.md; this module implements that page.
"""

from __future__ import annotations

import pandas as pd

from reconciliation.common import Frames, text
from reconciliation.findings import evidence_tokens, findings_of
from reconciliation.payments import (
    BANK_EVIDENCE,
    PAYROLL_EVIDENCE,
    dated_by,
    households_headed_by,
    line_ids,
    normalised_ids,
    program_text,
    successful_payments,
    with_head_ids,
    yuan_text,
)
from reconciliation.rules import Rule

RULE = Rule(
    code="E01", title_zh="死亡冒领",
    title_en="paid after death",
    subject_type="household", severity="high",
    crossing="register",
    cost=7,  # benchmarks/README.md: among the slowest
)
DEATH_COLUMNS = ["dead_id", "death_name", "date_of_death", "evidence_event_death",
                 "evidence_row_death"]


def _deaths(frames: Frames, as_of: str) -> pd.DataFrame:
    deaths = frames.deaths
    dates = text(deaths["date_of_death"])
    known = deaths[(dates != "") & dated_by(dates, as_of)]
    known = known.assign(dead_id=normalised_ids(known["id_number"]),
                         death_name=text(known["name"]))
    known = known.rename(columns={"evidence_event": "evidence_event_death",
                                  "evidence_row": "evidence_row_death"})
    known = known[known["dead_id"] != ""][DEATH_COLUMNS]
    return known.sort_values("date_of_death").drop_duplicates("dead_id")


def _paid_after_death(frames: Frames, as_of: str) -> pd.DataFrame:
    """Payments matched to a death by head ID or by payee ID, for periods after it."""
    deaths = _deaths(frames, as_of)
    paid = successful_payments(frames, as_of)
    payee_id = normalised_ids(paid["payee_id_number"])
    concerned = (paid["household_id"].isin(households_headed_by(frames, deaths["dead_id"]))
                 | payee_id.isin(deaths["dead_id"]))
    paid = with_head_ids(paid[concerned].assign(payee_id=payee_id[concerned]), frames)
    by_head = paid.merge(deaths, left_on="head_id", right_on="dead_id").assign(who="户主")
    by_payee = paid.merge(deaths, left_on="payee_id", right_on="dead_id").assign(who="收款人")
    both = pd.concat([by_head, by_payee], ignore_index=True)
    after = both[text(both["period"]) > text(both["date_of_death"]).str[:7]]
    # One payment counts once, against the earliest death it follows.
    return after.sort_values("date_of_death", kind="stable").drop_duplicates(
        ["batch_id", "line_no"])


def check(frames: Frames, policy: dict, as_of: str) -> pd.DataFrame:
    after = _paid_after_death(frames, as_of)
    occurrences = pd.DataFrame({
        "subject_id": text(after["household_id"]),
        "period": text(after["period"]),
        "amount_fen": after["paid_fen"].astype("Int64"),
        "detail": (after["who"] + " " + text(after["death_name"]) + "（" + after["dead_id"]
                   + "）于 " + text(after["date_of_death"]) + " 死亡，" + text(after["period"])
                   + " " + program_text(after["program"]) + " 仍成功支付 "
                   + yuan_text(after["paid_fen"]) + " 元（" + line_ids(after) + "，入账 "
                   + text(after["value_date"]).replace("", "日期未填") + "）"),
    })
    after = after.assign(subject_id=text(after["household_id"]))
    by_head = after[after["who"] == "户主"]
    tokens = pd.concat([
        evidence_tokens(after, PAYROLL_EVIDENCE + BANK_EVIDENCE
                        + ["evidence_event_death", "evidence_row_death"]),
        evidence_tokens(by_head, ["evidence_event_household", "evidence_row_household"]),
    ], ignore_index=True)
    return findings_of(RULE, occurrences, tokens)

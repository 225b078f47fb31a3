"""E03 超标准发放 — above standard.

What it finds and why, the data it reads, its look-alikes and its policy keys are on
its page, docs/rules/E03.md; this module implements that page.
"""

from __future__ import annotations

import pandas as pd

from reconciliation.common import Frames, text
from reconciliation.findings import evidence_tokens, findings_of
from reconciliation.payments import PAYROLL_EVIDENCE, line_ids, program_text, yuan_text
from reconciliation.rules import Rule

RULE = Rule(
    code="E03", title_zh="超标准发放",
    title_en="above standard",
    subject_type="household", severity="medium",
)
PER_PERSON = "per_person"
STANDARD_EVIDENCE = ["evidence_event_standard", "evidence_row_standard"]
HOUSEHOLD_EVIDENCE = ["evidence_event_household", "evidence_row_household"]


def _standards(frames: Frames) -> pd.DataFrame:
    standards = frames.standards[["program", "year", "amount_fen", "unit", "evidence_event",
                                  "evidence_row"]]
    return standards.rename(columns={
        "amount_fen": "standard_fen", "evidence_event": "evidence_event_standard",
        "evidence_row": "evidence_row_standard"}).assign(
        year=standards["year"].astype("int64"))


def _limits(frames: Frames) -> pd.DataFrame:
    """Payroll lines that have a standard, with their limit in fen (<NA> when a
    per-person standard meets an unregistered household)."""
    payroll = frames.payroll
    payroll = payroll[text(payroll["period"]) != ""]
    payroll = payroll.assign(year=payroll["period"].str[:4].astype("int64"))
    lines = payroll.merge(_standards(frames), on=["program", "year"])
    members = frames.households[["household_id", "members", "evidence_event", "evidence_row"]]
    members = members.drop_duplicates("household_id").rename(columns={
        "evidence_event": "evidence_event_household", "evidence_row": "evidence_row_household"})
    lines = lines.merge(members, on="household_id", how="left")
    per_person = lines["unit"] == PER_PERSON
    scaled = lines["standard_fen"].astype("Int64") * lines["members"].astype("Int64")
    limit = scaled.where(per_person, lines["standard_fen"].astype("Int64"))
    return lines.assign(limit_fen=limit, per_person=per_person)


def check(frames: Frames, policy: dict, as_of: str) -> pd.DataFrame:
    lines = _limits(frames)
    above = (lines["amount_fen"].astype("Int64") > lines["limit_fen"]).fillna(False)
    over = lines[above.astype(bool)]
    excess = over["amount_fen"].astype("Int64") - over["limit_fen"]
    basis = (yuan_text(over["standard_fen"]) + " 元/人 × "
             + over["members"].astype("Int64").astype(str) + " 人 = "
             + yuan_text(over["limit_fen"]) + " 元").where(
        over["per_person"], yuan_text(over["standard_fen"]) + " 元/户")
    occurrences = pd.DataFrame({
        "subject_id": text(over["household_id"]),
        "period": text(over["period"]),
        "amount_fen": excess,
        "detail": (text(over["period"]) + " " + program_text(over["program"]) + " "
                   + line_ids(over) + " 发放 " + yuan_text(over["amount_fen"]) + " 元，超过 "
                   + over["year"].astype(str) + " 年标准 " + basis + "，超出 "
                   + yuan_text(excess) + " 元"),
    })
    over = over.assign(subject_id=text(over["household_id"]))
    tokens = pd.concat([
        evidence_tokens(over, PAYROLL_EVIDENCE + STANDARD_EVIDENCE),
        evidence_tokens(over[over["per_person"]], HOUSEHOLD_EVIDENCE),  # members used
    ], ignore_index=True)
    return findings_of(RULE, occurrences, tokens)

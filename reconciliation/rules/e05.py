"""E05 优亲厚友 — official's relative.

What it finds and why, the data it reads, its look-alikes and its policy keys are on
its page, docs/rules/E05.md; this module implements that page.
"""

from __future__ import annotations

import pandas as pd

from reconciliation.common import Frames, text
from reconciliation.findings import evidence_tokens, findings_of
from reconciliation.payments import (
    PAYROLL_EVIDENCE,
    households_headed_by,
    normalised_ids,
    with_head_ids,
)
from reconciliation.rules import Rule

RULE = Rule(
    code="E05", title_zh="优亲厚友",
    title_en="official's relative",
    subject_type="household", severity="medium",
    crossing="register",
    cost=5,  # benchmarks/README.md: among the slowest
)
OFFICIAL_EVIDENCE = ["evidence_event_official", "evidence_row_official"]
HOUSEHOLD_EVIDENCE = ["evidence_event_household", "evidence_row_household"]


def _official_ids(frames: Frames) -> pd.DataFrame:
    """Every ID an official stands for (their own and each relative's), with who."""
    officials = frames.officials
    own = normalised_ids(officials["official_id_number"])
    relative = normalised_ids(officials["relative_id_number"])
    who = ("公职人员 " + text(officials["official_name"]) + "（" + text(officials["position"])
           + "，" + text(officials["township"]) + "）")
    base = pd.DataFrame({"official": who,
                         "evidence_event_official": text(officials["evidence_event"]),
                         "evidence_row_official": text(officials["evidence_row"])})
    as_self = base.assign(match_id=own, role="本人")
    as_relative = base.assign(match_id=relative, role=(
        text(officials["relation"]).replace("", "亲属") + " " + text(officials["relative_name"])))
    as_relative = as_relative[relative != own]
    ids = pd.concat([as_self, as_relative], ignore_index=True)
    return ids[ids["match_id"] != ""]


def _payee_matches(frames: Frames, ids: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(occurrences, payroll lines): one occurrence per household and matched payee,
    naming the range of periods; every matching line goes into the evidence."""
    payroll = frames.payroll.assign(match_id=normalised_ids(frames.payroll["payee_id_number"]))
    lines = payroll[payroll["match_id"].isin(ids["match_id"])].merge(ids, on="match_id")
    lines = lines.assign(payee_name=text(lines["payee_name"]))
    grouped = lines.groupby(["household_id", "match_id", "official", "role", "payee_name"],
                            as_index=False).agg(period=("period", "min"),
                                                last=("period", "max"),
                                                count=("period", "size"))
    detail = ("收款人 " + grouped["payee_name"] + "（" + grouped["match_id"] + "）为"
              + grouped["official"] + grouped["role"] + "，" + grouped["period"] + " 至 "
              + grouped["last"] + " 共 " + grouped["count"].astype(str) + " 行发放名册")
    return grouped.assign(detail=detail), lines


def _head_matches(frames: Frames, ids: pd.DataFrame) -> pd.DataFrame:
    """Paid households whose head is an official or relative, from their first period.
    Only the payroll of households with such a head is grouped: a string ``min`` per
    group runs in Python, and a million households would each be one group."""
    payroll = frames.payroll
    payroll = payroll[payroll["household_id"].isin(households_headed_by(frames, ids["match_id"]))]
    first = payroll.groupby("household_id", as_index=False)["period"].min()
    heads = with_head_ids(first, frames)
    hits = heads[heads["head_id"].isin(ids["match_id"])].merge(
        ids, left_on="head_id", right_on="match_id")
    return hits.assign(detail=("户主（" + hits["match_id"] + "）为" + hits["official"]
                               + hits["role"] + "，该户自 " + text(hits["period"])
                               + " 起在发放名册中"))


def check(frames: Frames, policy: dict, as_of: str) -> pd.DataFrame:
    ids = _official_ids(frames)
    by_payee, payee_lines = _payee_matches(frames, ids)
    by_head = _head_matches(frames, ids)
    columns = ["subject_id", "period", "amount_fen", "detail"]
    occurrences = pd.concat([
        frame.assign(subject_id=text(frame["household_id"]), amount_fen=pd.NA)[columns]
        for frame in (by_payee, by_head)], ignore_index=True)
    payee_lines = payee_lines.assign(subject_id=text(payee_lines["household_id"]))
    by_head = by_head.assign(subject_id=text(by_head["household_id"]))
    tokens = pd.concat([
        evidence_tokens(payee_lines, PAYROLL_EVIDENCE + OFFICIAL_EVIDENCE),
        evidence_tokens(by_head, HOUSEHOLD_EVIDENCE + OFFICIAL_EVIDENCE),
    ], ignore_index=True)
    return findings_of(RULE, occurrences, tokens)

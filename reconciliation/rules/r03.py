"""R03 化整为零 — split disbursements.

What it finds and why, the data it reads, its look-alikes and its policy keys are on
its page, docs/rules/R03.md; this module implements that page.
"""

from __future__ import annotations

import pandas as pd

from domain.money import format_fen
from reconciliation.common import Frames
from reconciliation.findings import findings_of
from reconciliation.occurrences import day_numbers, month_of, row_evidence, stripped
from reconciliation.rule import policy_fen
from reconciliation.rules import Rule

RULE = Rule(
    code="R03", title_zh="化整为零",
    title_en="split disbursements",
    subject_type="household", severity="high",
    defaults={"township_limit": 1000, "window_days": 30},
    money_keys=frozenset({"township_limit"}),
)


def check(frames: Frames, policy: dict, as_of: str) -> pd.DataFrame:
    limit_fen = policy_fen(policy["township_limit"])
    paid = _small_disbursements(frames.reserve, as_of, limit_fen)
    pairs = _window_pairs(paid, policy["window_days"])
    windows = pairs.groupby("start").agg(count=("member", "size"), total_fen=("amount_fen", "sum"),
                                         last_day=("day", "max"))
    split = windows[(windows["count"] >= 2) & (windows["total_fen"] > limit_fen)]
    members = _episode_members(paid, pairs, split)
    occurrences = _occurrences(members, limit_fen, policy["window_days"])
    return findings_of(RULE, occurrences, details="given")


def _small_disbursements(reserve: pd.DataFrame, as_of: str, limit_fen: int) -> pd.DataFrame:
    """Disbursements to a household, on or before as-of, each within the limit."""
    paid = reserve[(reserve["record_type"] == "disbursement") & (reserve["date"] <= as_of)
                   & (stripped(reserve, "household_id") != "")
                   & (reserve["amount_fen"] <= limit_fen)].copy()
    paid["household_id"] = stripped(paid, "household_id")
    paid["day"] = day_numbers(paid["date"])
    paid = paid[paid["day"].notna()].sort_values(["household_id", "day", "record_id"])
    return paid.reset_index(drop=True)  # row numbers now run in household and date order


def _window_pairs(paid: pd.DataFrame, window_days: int) -> pd.DataFrame:
    """(start, member) for every member dated 0..window_days after the start, same household.

    Any group spanning at most window_days lies in the window of its earliest member, so
    testing the window of each disbursement finds every split group.
    """
    rows = paid[["household_id", "day", "amount_fen"]].reset_index(names="row")
    pairs = rows.merge(rows, on="household_id", suffixes=("_start", ""))
    gap = pairs["day"] - pairs["day_start"]
    pairs = pairs[(gap >= 0) & (gap <= window_days)]
    return pairs.rename(columns={"row_start": "start", "row": "member"})


def _episode_members(paid: pd.DataFrame, pairs: pd.DataFrame,
                     split: pd.DataFrame) -> pd.DataFrame:
    """The disbursements of split windows, with an episode number: windows of one household
    that overlap in time (one starts before the previous reaches its last day) merge."""
    spans = paid.loc[split.index, ["household_id", "day"]].assign(last_day=split["last_day"])
    reach = spans.groupby("household_id")["last_day"].cummax()
    reach_before = reach.groupby(spans["household_id"]).shift()
    spans["episode"] = (reach_before.isna() | (spans["day"] > reach_before)).cumsum()
    flagged = pairs.merge(spans[["episode"]], left_on="start", right_index=True)
    members = flagged.drop_duplicates("member").set_index("member")["episode"]
    return (paid.loc[members.index].assign(episode=members)
            .sort_values(["episode", "day", "record_id"]))


def _occurrences(members: pd.DataFrame, limit_fen: int, window_days: int) -> pd.DataFrame:
    """One occurrence per episode: its disbursements listed, their total at stake."""
    members = members.assign(
        listed=members["record_id"] + " " + members["date"] + " "
        + members["amount_fen"].map(format_fen) + " 元",
        evidence=row_evidence(members), period=month_of(members["date"]))
    episodes = members.groupby("episode").agg(
        subject_id=("household_id", "first"), period=("period", "min"),
        amount_fen=("amount_fen", "sum"), first_date=("date", "min"),
        last_date=("date", "max"), count=("record_id", "size"),
        listed=("listed", "、".join), evidence=("evidence", " ".join))
    episodes["detail"] = (
        "户 " + episodes["subject_id"] + " 于 " + episodes["first_date"] + " 至 "
        + episodes["last_date"] + " 间获先行救助 " + episodes["count"].astype(str) + " 笔（"
        + episodes["listed"] + f"），相邻笔间隔不超过 {window_days} 天，每笔均未超过乡镇审批权限 "
        f"{format_fen(limit_fen)} 元，合计 " + episodes["amount_fen"].map(format_fen)
        + " 元超过该权限。")
    return episodes[["subject_id", "period", "amount_fen", "detail", "evidence"]]

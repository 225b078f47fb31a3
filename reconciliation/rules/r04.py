"""R04 备用金透支 — reserve overdrawn.

What it finds and why, the data it reads, its look-alikes and its policy keys are on
its page, docs/rules/R04.md; this module implements that page.
"""

from __future__ import annotations

import pandas as pd

from domain import money_facts
from domain.money import format_fen
from reconciliation.common import Frames
from reconciliation.findings import findings_of
from reconciliation.occurrences import month_of, row_evidence
from reconciliation.rules import Rule

RULE = Rule(
    code="R04", title_zh="备用金透支",
    title_en="reserve overdrawn",
    subject_type="township", severity="high",
)
MOVING_TYPES = (*money_facts.RESERVE_FUNDING, money_facts.RESERVE_DISBURSEMENT)


def check(frames: Frames, policy: dict, as_of: str) -> pd.DataFrame:
    reserve = frames.reserve
    moves = reserve[reserve["record_type"].isin(MOVING_TYPES) & (reserve["date"] <= as_of)]
    days = _day_ends(moves)
    episodes = _overdraft_episodes(days)
    occurrences = pd.DataFrame({
        "subject_id": episodes["township"],
        "period": month_of(episodes["first_day"]),
        "amount_fen": episodes["overdraft_fen"],
        "detail": _details(episodes, as_of),
        "evidence": _evidence(moves, episodes),
    })
    return findings_of(RULE, occurrences, amount="max", details="given")


def _day_ends(moves: pd.DataFrame) -> pd.DataFrame:
    """Per township and day: the reserve balance at the end of the day."""
    signed = moves.assign(signed_fen=money_facts.reserve_flow_fen(moves))
    days = signed.groupby(["township", "date"], sort=True)["signed_fen"].sum().reset_index()
    days["balance_fen"] = days.groupby("township")["signed_fen"].cumsum()
    days["next_date"] = days.groupby("township")["date"].shift(-1).fillna("")
    return days


def _overdraft_episodes(days: pd.DataFrame) -> pd.DataFrame:
    """Runs of overdrawn day ends: first and last day, largest overdraft and its day."""
    overdrawn = days["balance_fen"] < 0
    run = (overdrawn != overdrawn.groupby(days["township"]).shift()).cumsum()
    days = days.assign(run=run, overdraft_fen=-days["balance_fen"])[overdrawn]
    worst = days.sort_values(["run", "overdraft_fen", "date"], ascending=[True, False, True])
    episodes = days.groupby("run").agg(
        township=("township", "first"), first_day=("date", "min"), last_day=("date", "max"),
        covered_on=("next_date", "last"), overdraft_fen=("overdraft_fen", "max"))
    episodes["worst_day"] = worst.drop_duplicates("run").set_index("run")["date"]
    return episodes.reset_index(drop=True)


def _details(episodes: pd.DataFrame, as_of: str) -> pd.Series:
    head = ("乡镇 " + episodes["township"] + " 备用金自 " + episodes["first_day"]
            + " 日终起透支，最大透支 " + episodes["overdraft_fen"].map(format_fen) + " 元（"
            + episodes["worst_day"] + " 日终），")
    ended = head + episodes["covered_on"] + " 补足。"
    open_ = head + f"截至 {as_of} 仍未补足。"
    return ended.where(episodes["covered_on"] != "", open_)


def _evidence(moves: pd.DataFrame, episodes: pd.DataFrame) -> pd.Series:
    """Per episode: the reserve rows of its township dated on its overdrawn days."""
    rows = moves.assign(tokens=row_evidence(moves))[["township", "date", "tokens"]]
    spans = episodes.reset_index(names="episode")[["episode", "township", "first_day",
                                                   "last_day"]]
    inside = rows.merge(spans, on="township")
    inside = inside[inside["date"].between(inside["first_day"], inside["last_day"])]
    return inside.groupby("episode")["tokens"].agg(" ".join).reindex(episodes.index, fill_value="")

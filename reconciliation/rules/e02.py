"""E02 重复享受 — duplicate benefit.

What it finds and why, the data it reads, its look-alikes and its policy keys are on
its page, docs/rules/E02.md; this module implements that page.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from reconciliation.common import Frames, text
from reconciliation.findings import evidence_tokens, findings_of
from reconciliation.payments import PERIOD_MAX, PERIOD_MIN, previous_period, with_head_ids
from reconciliation.rules import Rule

RULE = Rule(
    code="E02", title_zh="重复享受",
    title_en="duplicate benefit",
    subject_type="household", severity="high",
    crossing="head_id",
    cost=8,  # benchmarks/README.md: among the slowest
)
EXCLUSIVE = ("dibao", "tekun")
SPAN_EVIDENCE = ["evidence_event", "evidence_row", "evidence_event_household",
                 "evidence_row_household"]
SPAN_COLUMNS = ["head_id", "household_id", "program", "start", "last"] + SPAN_EVIDENCE


def _enrolment_spans(frames: Frames) -> pd.DataFrame:
    """Each enrolment as an inclusive span of periods [start, last]."""
    enrolments = frames.enrolments
    exit_ = text(enrolments["exit_period"])
    gradual = text(enrolments["gradual_exit_until"])
    last = previous_period(exit_).where(exit_ != "", PERIOD_MAX)
    last = last.where((gradual == "") | (gradual <= last), gradual)
    spans = enrolments.assign(start=text(enrolments["start_period"]), last=last)
    return spans[spans["start"] <= spans["last"]]


def _spans(frames: Frames) -> pd.DataFrame:
    """Enrolment spans with the head ID; unenrolled households span all periods."""
    households = with_head_ids(frames.households[["household_id"]], frames)
    enrolled = _enrolment_spans(frames).merge(households, on="household_id")
    never = households[~households["household_id"].isin(frames.enrolments["household_id"])]
    never = never.assign(program="", start=PERIOD_MIN, last=PERIOD_MAX,
                         evidence_event="", evidence_row="")
    spans = pd.concat([enrolled[SPAN_COLUMNS], never[SPAN_COLUMNS]], ignore_index=True)
    return spans[spans["head_id"] != ""]


def _candidates(spans: pd.DataFrame) -> pd.DataFrame:
    """Only heads that could be duplicated: several households, or dibao and tekun."""
    heads, _ = pd.factorize(spans["head_id"])  # hashed codes: no sort of a million IDs
    households, distinct = pd.factorize(spans["household_id"])
    count = heads.max() + 1 if len(heads) else 0
    known = (heads >= 0) & (households >= 0)  # a missing value is no key, as in groupby
    pairs = pd.unique(heads[known] * len(distinct) + households[known])
    several = np.bincount(pairs // max(len(distinct), 1), minlength=count) >= 2
    headed = heads >= 0
    dibao = np.bincount(heads[headed & (spans["program"] == EXCLUSIVE[0]).to_numpy()],
                        minlength=count) > 0
    tekun = np.bincount(heads[headed & (spans["program"] == EXCLUSIVE[1]).to_numpy()],
                        minlength=count) > 0
    wanted = np.append(several | (dibao & tekun), False)  # code -1 (missing): never
    return spans[wanted[heads]]


def _overlapping_pairs(frames: Frames) -> pd.DataFrame:
    spans = _candidates(_spans(frames))
    pairs = spans.merge(spans, on="head_id", suffixes=("_a", "_b"))
    overlap = (pairs["start_a"] <= pairs["last_b"]) & (pairs["start_b"] <= pairs["last_a"])
    exclusive = (pairs["program_a"] == EXCLUSIVE[0]) & (pairs["program_b"] == EXCLUSIVE[1])
    two_households = pairs["household_id_a"] < pairs["household_id_b"]
    pairs = pairs.assign(exclusive=exclusive)[overlap & (exclusive | two_households)]
    since = pairs["start_a"].where(pairs["start_a"] >= pairs["start_b"], pairs["start_b"])
    return pairs.assign(since=since)


def _detail(pairs: pd.DataFrame) -> pd.Series:
    since = pairs["since"].replace(PERIOD_MIN, "无纳入记录即视为一直在保")
    duplicate = ("户主身份证号 " + pairs["head_id"] + " 同为户 " + pairs["household_id_a"]
                 + " 与户 " + pairs["household_id_b"] + " 的户主，两户保障期重叠（自 "
                 + since + "）")
    exclusive = ("户主身份证号 " + pairs["head_id"] + " 在户 " + pairs["household_id_a"]
                 + " 享受低保(dibao)、在户 " + pairs["household_id_b"]
                 + " 享受特困供养(tekun)，两者保障期重叠（自 " + since + "）")
    one_household = ("户 " + pairs["household_id_a"] + " 户主 " + pairs["head_id"]
                     + " 同时享受低保(dibao)与特困供养(tekun)，两者保障期重叠（自 " + since
                     + "）")
    same = pairs["household_id_a"] == pairs["household_id_b"]
    exclusive = one_household.where(same, exclusive)
    return exclusive.where(pairs["exclusive"], duplicate)


def check(frames: Frames, policy: dict, as_of: str) -> pd.DataFrame:
    pairs = _overlapping_pairs(frames)
    pairs = pairs.assign(detail=_detail(pairs),
                         period=pairs["since"].replace(PERIOD_MIN, ""))
    key = ["head_id", "household_id_a", "household_id_b", "exclusive"]
    firsts = pairs.sort_values("since").drop_duplicates(key)
    occurrences = pd.concat([
        firsts.assign(subject_id=firsts["household_id_a"]),
        firsts.assign(subject_id=firsts["household_id_b"]),
    ], ignore_index=True).assign(amount_fen=pd.NA)
    evidence = [c + side for c in SPAN_EVIDENCE for side in ("_a", "_b")]
    tokens = pd.concat([
        evidence_tokens(pairs.assign(subject_id=pairs["household_id_a"]), evidence),
        evidence_tokens(pairs.assign(subject_id=pairs["household_id_b"]), evidence),
    ], ignore_index=True)
    return findings_of(RULE, occurrences[["subject_id", "period", "amount_fen", "detail"]], tokens)

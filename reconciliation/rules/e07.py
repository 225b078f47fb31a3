"""E07 身份信息不实 — invalid ID number.

What it finds and why, the data it reads, its look-alikes and its policy keys are on
its page, docs/rules/E07.md; this module implements that page.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from domain.ids import BIRTH_YEAR_MIN, CHECK_CHARS, WEIGHTS, problem
from reconciliation.common import Frames, text
from reconciliation.findings import evidence_tokens, findings_of
from reconciliation.rules import Rule

RULE = Rule(
    code="E07", title_zh="身份信息不实",
    title_en="invalid ID number",
    subject_type="household", severity="low",
    cost=1,  # benchmarks/README.md: among the slowest
)
ID_LENGTH = 18


# domain.ids explains in English; the inspector reads the Chinese first.
PROBLEM_ZH = {"malformed": "位数或字符不合法", "impossible": "出生日期不可能",
              "check": "校验码错误", "empty": "号码为空"}


def _explained(reason: str | None) -> str:
    if reason is None:
        return ""
    return f"{PROBLEM_ZH.get(reason.split()[0], '不合法')}（{reason}）"


def _problems(numbers: pd.Series, as_of: str) -> pd.Series:
    """Why each number is invalid ('' when valid), asked once per distinct number.
    Numbers that are plainly valid are recognised in bulk (``_plainly_valid``); only
    the others go through ``domain.ids.problem`` one by one."""
    today = dt.date.fromisoformat(as_of)
    distinct = pd.Series(numbers.unique(), dtype=object)
    asked = distinct[~_plainly_valid(distinct, today)]
    found = dict.fromkeys(distinct.tolist(), "")
    found.update({n: _explained(problem(n, today)) for n in asked.tolist()})
    return numbers.map(found)


def _plainly_valid(numbers: pd.Series, today: dt.date) -> np.ndarray:
    """True where ``problem(number, today)`` is None for sure: 18 ASCII characters (17
    digits and a digit or upper-case X), a calendar birth date from 1890 to ``today``,
    the right check character. Vectorised over digit arrays; anything else is False and
    is asked of ``problem`` itself."""
    shaped = numbers.astype(str).str.fullmatch(r"[0-9]{17}[0-9X]").to_numpy(dtype=bool)
    valid = np.zeros(len(numbers), dtype=bool)
    if not shaped.any():
        return valid
    chars = np.frombuffer("".join(numbers[shaped].tolist()).encode("ascii"),
                          dtype=np.uint8).reshape(-1, ID_LENGTH)
    digits = chars[:, :17].astype(np.int64) - ord("0")
    expected = np.frombuffer(CHECK_CHARS.encode("ascii"), dtype=np.uint8)[
        (digits * np.asarray(WEIGHTS, dtype=np.int64)).sum(axis=1) % 11]
    year = digits[:, 6:10] @ np.array([1000, 100, 10, 1])
    month = digits[:, 10] * 10 + digits[:, 11]
    day = digits[:, 12] * 10 + digits[:, 13]
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    month_days = np.where(leap, 29, 28)
    month_days = np.where(np.isin(month, [4, 6, 9, 11]), 30, month_days)
    month_days = np.where(np.isin(month, [1, 3, 5, 7, 8, 10, 12]), 31, month_days)
    born = year * 10_000 + month * 100 + day
    today_number = today.year * 10_000 + today.month * 100 + today.day
    valid[shaped] = ((chars[:, 17] == expected) & (year >= BIRTH_YEAR_MIN)
                     & (month >= 1) & (month <= 12) & (day >= 1) & (day <= month_days)
                     & (born <= today_number))
    return valid


def check(frames: Frames, policy: dict, as_of: str) -> pd.DataFrame:
    households = frames.households
    numbers = text(households["head_id_number"]).str.strip()
    recorded = households[numbers != ""].assign(head_id=numbers[numbers != ""])
    reasons = _problems(recorded["head_id"], as_of)
    bad = recorded[reasons != ""].assign(reason=reasons[reasons != ""])
    bad = bad.assign(subject_id=text(bad["household_id"]))
    occurrences = pd.DataFrame({
        "subject_id": bad["subject_id"],
        "period": "",
        "amount_fen": pd.NA,
        "detail": ("户主 " + text(bad["head_name"]) + " 身份证号 " + bad["head_id"]
                   + " 不符合 GB 11643：" + bad["reason"]),
    })
    tokens = evidence_tokens(bad, ["evidence_event", "evidence_row"])
    return findings_of(RULE, occurrences, tokens)

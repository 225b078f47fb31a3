"""E07 身份信息不实 — invalid ID number.

Rule: the household head's ID number fails GB 11643 (``domain.ids.problem``): wrong
length or characters, wrong check character, or an impossible birth date (not a
calendar date, before 1890, or after the as-of date). Period and amount: empty. A head
ID left empty is "not recorded" and is not checked here.

Why it is a red flag: an ID that cannot exist hides a fictitious household (虚报冒领) or
a mistyped register that defeats every other cross-check (deaths, officials, holdings).

Data: households. Policy keys: none.

Legitimate look-alikes (not flagged): a lower-case ``x`` check character; a 15-digit
legacy number with a valid birth date (widened by ``to18``).
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from domain.ids import problem
from reconciliation.common import Frames
from reconciliation.payments import Rule, collect, evidence_tokens, text

CODE = "E07"
TITLE_ZH = "身份信息不实"
TITLE_EN = "invalid ID number"
SUBJECT_TYPE = "household"
SEVERITY = "low"
DEFAULTS: dict = {}
RULE = Rule(CODE, SUBJECT_TYPE, SEVERITY, TITLE_ZH, TITLE_EN)


# domain.ids explains in English; the inspector reads the Chinese first.
PROBLEM_ZH = {"malformed": "位数或字符不合法", "impossible": "出生日期不可能",
              "check": "校验码错误", "empty": "号码为空"}


def _explained(reason: str | None) -> str:
    if reason is None:
        return ""
    return f"{PROBLEM_ZH.get(reason.split()[0], '不合法')}（{reason}）"


def _problems(numbers: pd.Series, as_of: str) -> pd.Series:
    """Why each number is invalid ('' when valid), asked once per distinct number."""
    today = dt.date.fromisoformat(as_of)
    found = {n: _explained(problem(n, today)) for n in numbers.unique()}
    return numbers.map(found)


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
    return collect(occurrences, tokens, RULE)

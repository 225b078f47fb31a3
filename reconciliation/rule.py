"""What a finding rule declares about itself: ``Rule``, the subject types its findings
name, how it crosses county lines, what its amounts are, and how it reads money from its
policy.

Each module of the registry (``reconciliation.rules``) declares ``RULE = Rule(...)``; the
registry finds them. This module holds the declaration's shape only, so the helpers the
rules share (``reconciliation.findings``, ``reconciliation.policy``) can name a ``Rule``
without importing the registry that imports them.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from domain.money import to_fen

if TYPE_CHECKING:  # only for the signature
    import pandas as pd

    from projections.tables import Frames

RULES_PACKAGE = "reconciliation.rules"  # one module per code, named after it
SEVERITIES = ("high", "medium", "low")
# How a code crosses county lines (reconciliation.counties, reconciliation.dask_engine):
CROSSINGS = {
    "": "county-local",
    "register": "this county's people against every county's registers (deaths, officials, "
                "holdings)",
    "head_id": "the rows of one head ID number in every county",
    "bank_account": "the rows of one bank account in every county",
}


def _same(subject_id: str) -> str:
    return subject_id


def line_key(subject_id: str) -> str:
    """A payroll or bank line's subject 'batch:line' as its record key 'batch|line'."""
    batch, _, line = subject_id.rpartition(":")
    return f"{batch}|{line}"


@dataclass(frozen=True)
class SubjectType:
    """What the ``subject_id`` of a finding names, for whoever looks the subject up.

    ``record_kind``: the record kind whose key the subject id gives (through ``key_of``),
    '' when it names no single record. ``township_first``: the id starts with a township
    (``township`` or ``township|program``)."""

    name: str
    label_zh: str  # what people read (the findings workbook, the workbench)
    record_kind: str = ""
    key_of: Callable[[str], str] = _same
    township_first: bool = False


SUBJECT_TYPES: Mapping[str, SubjectType] = MappingProxyType({t.name: t for t in (
    SubjectType("payroll_line", "发放名册行", "payroll", line_key),
    # a bank line with no payroll line: no household, no township
    SubjectType("bank_line", "银行回盘行"),
    SubjectType("household", "家庭", "households"),
    SubjectType("township", "乡镇", township_first=True),
    SubjectType("township_program", "乡镇及资金类别", township_first=True),
    SubjectType("bank_account", "银行账户"),
    SubjectType("reserve_record", "备用金记录", "reserve"),
    SubjectType("adjustment", "调整记录"),
    SubjectType("adjustments", "全部调整记录"),  # the screens' group of every adjustment
    SubjectType("asset", "扶贫资产", "assets"),
)})


# What a finding's amount is (``Rule.amount_meaning_zh``), with what it means for people,
# in the order totals list them. Most amounts are money at stake (paid, held back or
# owed); a few rules report a value nobody paid out (an asset's book value, a holding's
# value). Adding those to money paid wrongly means nothing, so totals keep them apart.
MONEY_AT_STAKE_ZH, BOOK_VALUE_ZH, HOLDING_VALUE_ZH = "涉及资金", "资产原值", "财产价值"
AMOUNT_MEANINGS_ZH: Mapping[str, str] = MappingProxyType({
    MONEY_AT_STAKE_ZH: "错付、多付、未核销、滞留等涉及的钱",
    BOOK_VALUE_ZH: "资产的账面价值，不是付出的钱",
    HOLDING_VALUE_ZH: "比对到的车辆、房产、工商登记的价值，不是付出的钱",
})


@dataclass(frozen=True)
class Rule:
    """What a finding code declares about itself (its module's ``RULE``).

    ``defaults``: its policy keys and their values (docs/formats.md, Policy); ``money_keys``:
    those of them in yuan (checked to two decimals; default: names ending ``_limit``,
    ``_value`` or ``_yuan``). ``crossing``: one of ``CROSSINGS``. ``cost``: how slow it is
    at a million households (benchmarks/README.md), 0 for fast; the worker pool starts the
    costliest first so the workers finish together. ``lead``: a statistical screen, whose
    rows are leads (``FILE_leads.csv``), never findings. ``amount_meaning_zh``: what its
    findings' amount is, one of ``AMOUNT_MEANINGS_ZH``."""

    code: str
    subject_type: str
    severity: str
    title_zh: str
    title_en: str
    defaults: Mapping[str, Any] = field(default_factory=dict)
    money_keys: frozenset[str] | None = None
    crossing: str = ""
    cost: int = 0
    lead: bool = False
    amount_meaning_zh: str = MONEY_AT_STAKE_ZH

    def __post_init__(self) -> None:
        if self.subject_type not in SUBJECT_TYPES:
            raise ValueError(f"{self.code}: unknown subject type {self.subject_type!r} "
                             f"(known: {', '.join(SUBJECT_TYPES)})")
        if self.severity not in SEVERITIES:
            raise ValueError(f"{self.code}: severity must be one of {SEVERITIES}")
        if self.crossing not in CROSSINGS:
            raise ValueError(f"{self.code}: crossing must be one of {sorted(CROSSINGS)}")
        if self.amount_meaning_zh not in AMOUNT_MEANINGS_ZH:
            raise ValueError(f"{self.code}: amount_meaning_zh must be one of "
                             f"{', '.join(AMOUNT_MEANINGS_ZH)}")

    @property
    def title(self) -> str:
        """The findings' ``title`` cell: Chinese first, then English."""
        return f"{self.title_zh} {self.title_en}"

    @property
    def module(self) -> str:
        return f"{RULES_PACKAGE}.{self.code.lower()}"

    @property
    def page(self) -> str:
        """Its documentation page, relative to the repository root."""
        return f"docs/rules/{self.code}.md"

    def is_money_key(self, key: str) -> bool:
        if self.money_keys is not None:
            return key in self.money_keys
        return key.endswith(("_limit", "_value", "_yuan"))

    def check(self, frames: Frames, policy: dict, as_of: str) -> pd.DataFrame:
        """Its module's ``check``: the findings (or leads) at ``as_of`` under ``policy``."""
        found: pd.DataFrame = importlib.import_module(self.module).check(frames, policy, as_of)
        return found




def policy_fen(value: Any) -> int:
    """Int fen of a policy amount in yuan (int, float, str or Decimal), exactly: TOML has
    no decimal type, so the number is read through its text (``Decimal(str(value))``),
    exact for any value written with at most two decimals (the policy loader rejects
    anything finer)."""
    return to_fen(Decimal(str(value)))

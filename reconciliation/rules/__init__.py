"""The registry of finding codes: one module per code in this package, found by pkgutil.

A rule is a plug-in. Its module (``p01.py`` for P01, lower case) declares what it is in a
module-level ``RULE = Rule(...)`` and implements ``check(frames, policy, as_of)``, which
returns one row per subject with exactly ``reconciliation.common.FINDING_COLUMNS``. Its
page, ``docs/rules/<CODE>.md``, says what it finds, why that is a red flag, the data it
reads, its legitimate look-alikes and its policy keys; the module's docstring points there.

Everything that needs the list of codes reads it here: the runner and both multi-county
engines (which codes run, which cross county lines, which start first), the policy loader
(unknown codes and keys), the workbench (what record a subject names), the documentation
test (every rule has its page) and the demo county test (every rule has a planted case).
Adding a code is its module, its page and its test (and a planted case in the demo county,
``api/sample_county/``).

Order: codes run and are listed in the contract's order of families (payments, budget,
eligibility, reserve, assets, duties, then the statistical screens), by number within a
family; a family not listed in ``FAMILIES`` comes after, alphabetically.
"""

from __future__ import annotations

import functools
import importlib
import pkgutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType, ModuleType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # only for the signature: a rule module imports this package first
    import pandas as pd

    from projections.tables import Frames

FAMILIES = "PBERADS"  # the contract's order: P, B01, E, R, A, D01, then S (leads)
SEVERITIES = ("high", "medium", "low")
# How a code crosses county lines (reconciliation.counties, reconciliation.dask_engine):
CROSSINGS = {
    "": "county-local",
    "register": "this county's people against every county's registers (deaths, officials, "
                "holdings)",
    "head_id": "the rows of one head ID number in every county",
    "bank_account": "the rows of one bank account in every county",
}


class UnknownRule(KeyError):
    """A code (or module name) that no module of the registry declares."""

    def __str__(self) -> str:
        return str(self.args[0])


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

    ``defaults``: its policy keys and their values (CONTRACT section 4); ``money_keys``:
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
        return f"{__name__}.{self.code.lower()}"

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


def _order(rule: Rule) -> tuple[int, str]:
    family = FAMILIES.find(rule.code[:1])
    return (family if family >= 0 else len(FAMILIES), rule.code)


def _declared(module: ModuleType) -> Rule:
    """The module's RULE, after checking the module is a whole plug-in."""
    name = module.__name__.rsplit(".", 1)[-1]
    rule = getattr(module, "RULE", None)
    if not isinstance(rule, Rule):
        raise TypeError(f"{module.__name__}: a rule module declares RULE = Rule(...)")
    if rule.code.lower() != name:
        raise TypeError(f"{module.__name__}: declares code {rule.code}; the module of a "
                        f"code is named after it ({rule.code.lower()}.py)")
    if not callable(getattr(module, "check", None)):
        raise TypeError(f"{module.__name__}: has no check(frames, policy, as_of)")
    return rule


@functools.cache
def all_rules() -> tuple[Rule, ...]:
    """Every rule and screen of the package, in the contract's order."""
    found = [_declared(importlib.import_module(f"{__name__}.{info.name}"))
             for info in pkgutil.iter_modules(__path__) if not info.name.startswith("_")]
    return tuple(sorted(found, key=_order))


def finding_rules() -> tuple[Rule, ...]:
    """The rules whose rows are findings (every code but the statistical screens)."""
    return tuple(r for r in all_rules() if not r.lead)


def lead_rules() -> tuple[Rule, ...]:
    return tuple(r for r in all_rules() if r.lead)


def rule(code: str) -> Rule:
    """The rule of a code ('P01'; the module name 'p01' is accepted too)."""
    for found in all_rules():
        if found.code == code.upper():
            return found
    raise UnknownRule(f"no finding code {code!r} is registered "
                      f"(known: {', '.join(r.code for r in all_rules())})")

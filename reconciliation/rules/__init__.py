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
from types import ModuleType

from reconciliation.rule import (  # the declaration every rule module imports from here
    AMOUNT_MEANINGS_ZH,
    BOOK_VALUE_ZH,
    CROSSINGS,
    HOLDING_VALUE_ZH,
    MONEY_AT_STAKE_ZH,
    SEVERITIES,
    SUBJECT_TYPES,
    Rule,
    SubjectType,
    line_key,
)

__all__ = ["AMOUNT_MEANINGS_ZH", "BOOK_VALUE_ZH", "CROSSINGS", "FAMILIES", "HOLDING_VALUE_ZH",
           "MONEY_AT_STAKE_ZH", "SEVERITIES", "SUBJECT_TYPES", "Rule", "SubjectType",
           "UnknownRule", "all_rules", "finding_rules", "lead_rules", "line_key", "rule"]

FAMILIES = "PBERADS"  # the contract's order: P, B01, E, R, A, D01, then S (leads)


class UnknownRule(KeyError):
    """A code (or module name) that no module of the registry declares."""

    def __str__(self) -> str:
        return str(self.args[0])


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

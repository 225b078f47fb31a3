"""The largest amount one row of each record kind may carry: a sane ceiling per kind.

A payroll line of 999,999,999,999.99 yuan is a typing error or an attack, never a benefit:
a file carrying one is refused with the row, the column and the ceiling named, whatever
the parser's absolute bound (``AMOUNT_YUAN_MAX`` of ``api.files.cells``) lets through.

The county sets the ceilings in ``policy.toml``, table ``[limits]``, one key per kind, in
yuan (``payroll = 50000``). The defaults come from the seeds' practice (docs/formats.md,
Policy): a monthly benefit is a few hundred yuan per person (dibao at least 242 yuan per
person and month; tekun 1.3 × the dibao standard plus care), so one household's line,
even with a year of back pay for ten members, stays far below 50,000 yuan; a township
reserve movement is a few thousand to a few hundred thousand yuan; a county's allocation
to a township and a program is at most tens of millions; a yearly budget line, an asset
(a PV station, a road) and a registered holding stay below a billion.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from domain.money import to_fen

POLICY_TABLE = "limits"
DEFAULT_AMOUNT_YUAN_MAX: dict[str, int] = {
    "standards": 10_000,  # a month's standard, per person or household
    "enrolments": 20_000,  # a household's monthly amount
    "payroll": 50_000,  # one line: a month, or a year of back pay for a large household
    "bank_return": 50_000,  # the bank's line for a payroll line
    "reserve": 5_000_000,  # a township reserve movement
    "allocations": 100_000_000,  # to one township for one program
    "budgets": 10_000_000_000,  # a program's yearly budget from one source
    "assets": 1_000_000_000,
    "asset_events": 1_000_000_000,
    "holdings": 1_000_000_000,
}


def amount_ceilings_fen(table: Mapping[str, Any] | None) -> dict[str, int]:
    """Kind -> the largest amount of one row in int fen: the defaults, overridden by the
    policy's ``[limits]`` table (checked by ``reconciliation.policy``)."""
    yuan: dict[str, Any] = {**DEFAULT_AMOUNT_YUAN_MAX, **(table or {})}
    return {kind: to_fen(Decimal(str(value))) for kind, value in yuan.items()}

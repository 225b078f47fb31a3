"""Money is Decimal yuan, two places, rounded half-up only where a rule says so.

Frames carry integer fen (exact, vectorisable); events and outputs carry Decimal yuan.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")
# What a person writes for an amount once separators and the currency are dropped: digits,
# a sign, a decimal point. Decimal() would also take '1_000', '1e3', 'NaN' and non-ASCII
# digits, none of which is an amount on a county's file.
_PLAIN_AMOUNT_RE = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)", re.ASCII)


class MoneyError(ValueError):
    """An amount that is not yuan with at most two decimals."""


def parse_yuan(text: str) -> Decimal:
    """Parse exactly: '1,234.50' -> Decimal('1234.50'); more than 2 decimals is an error,
    and so is anything but digits, one point and a sign ('1e3', '1_000', 'NaN')."""
    cleaned = text.strip().replace(",", "").replace("，", "").replace("¥", "").replace("￥", "")
    if cleaned.endswith("元"):
        cleaned = cleaned[:-1].strip()
    if not _PLAIN_AMOUNT_RE.fullmatch(cleaned):
        raise MoneyError(f"not an amount: {text!r}")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise MoneyError(f"not an amount: {text!r}") from None
    if not value.is_finite():
        raise MoneyError(f"not an amount: {text!r}")
    if value != value.quantize(CENT, rounding=ROUND_HALF_UP):
        raise MoneyError(f"more than 2 decimals: {text!r}")
    return value.quantize(CENT)


def to_fen(yuan: Decimal) -> int:
    return int((yuan * 100).to_integral_value(rounding=ROUND_HALF_UP))


def from_fen(fen: int) -> Decimal:
    return (Decimal(int(fen)) / 100).quantize(CENT)


def format_fen(fen: int) -> str:
    """'1234.50' for 123450 fen: how amounts are written in every output file."""
    return str(from_fen(fen))

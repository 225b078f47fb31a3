"""The money facts, each defined once: what was paid, when, what was allocated, settled and
left in a reserve. Postings, rules, balances, registers, household statements, the
disclosure and the public pages all read them here, so they agree to the fen.

Each fact comes in the form its readers need: a scalar form over one record's fields
(postings, the API's household statement) and a vectorised form over pandas frames with
the frame columns of ``domain.catalogue.frame_columns`` (money as ``<name>_fen``). Where a
fact has both, a property test (tests/unit/test_money_facts.py) proves they agree.

**A successful payment** is a bank-return line with status ``success`` whose
(``batch_id``, ``line_no``) is a payroll line's. **Its amount** is the bank's amount. A
success line the bank left without an amount (the column is optional) paid the payroll
line's amount: the bank confirms it executed that payroll line, and the payroll line is
the instruction it executed, so its amount is the money that left. Counting it as nothing
would show the household unpaid, the township's allocation unspent (hiding B01) and a
disclosure row of 0.00 yuan beside a household that was paid. A bank success whose line
is in no payroll (P02) explains no payroll line; it moves the bank's amount (nothing when
it gives none) into suspense.

**When.** A payment happens on its value date; ``--as-of DATE`` reads the books at the end
of DATE, so a payment value-dated after it has not happened yet. A success without a value
date (the parser now rejects one; older stores may hold some) counts as happened at any
date, and for a year's figures it falls in its payroll period's year. An allocation
happens on its date.

**Reserve.** Advances and replenishments fill a township's reserve, disbursements empty it
(its balance); a settlement (核销) documents a disbursement and moves no reserve money. What
a settlement settles is its amount, or, when it leaves the amount empty, the whole amount
of the disbursement it references (``reference_id``); a settlement of a disbursement not on
record with no amount of its own settles nothing. A disbursement is outstanding (unsettled)
for its amount less what its settlements settle.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import pandas as pd

from domain.money import to_fen

STATUS_SUCCESS = "success"
STATUS_FAILED = "failed"
LINE_KEY = ["batch_id", "line_no"]
RESERVE_FUNDING = ("advance", "replenishment")  # fill a township's reserve
RESERVE_DISBURSEMENT = "disbursement"  # empties it
RESERVE_SETTLEMENT = "settlement"  # documents a disbursement; moves no reserve money
# Bank-return columns renamed when joined to payroll, so both sides stay visible.
BANK_RENAMES: dict[str, str] = {
    "account_holder": "holder_bank",
    "bank_account": "account_bank",
    "amount_fen": "amount_fen_bank",
    "evidence_event": "evidence_event_bank",
    "evidence_row": "evidence_row_bank",
    "recorded_at": "recorded_at_bank",
}

Fields = Mapping[str, Any]


# ---------------------------------------------------------------- one record (scalar)


def amount_fen(value: Any) -> int | None:
    """Fen of a stored amount (Decimal, decimal text or int yuan); None when empty."""
    if value is None or value == "":
        return None
    return to_fen(Decimal(str(value)))


def is_success(bank: Fields | None) -> bool:
    return bank is not None and bank.get("status") == STATUS_SUCCESS


def happened_by(date: str, as_of: str | None) -> bool:
    """A dated movement has happened by the end of ``as_of`` (None: every one on record);
    an undated one counts as happened (see the module's **When**)."""
    return as_of is None or not date or date <= as_of


def paid_fen(payroll: Fields, bank: Fields | None, as_of: str | None = None) -> int:
    """What the bank paid for a payroll line by ``as_of``: 0 unless its bank line is a
    success value-dated by then; the bank's amount, else the payroll line's."""
    if bank is None or not is_success(bank) \
            or not happened_by(str(bank.get("value_date") or ""), as_of):
        return 0
    confirmed = amount_fen(bank.get("amount"))
    return confirmed if confirmed is not None else amount_fen(payroll.get("amount")) or 0


def unexplained_fen(bank: Fields) -> int:
    """What a successful bank line in no payroll moved: the bank's amount, else nothing."""
    return (amount_fen(bank.get("amount")) or 0) if is_success(bank) else 0


def settled_fen(settlement: Fields, disbursement: Fields | None) -> int:
    """What a settlement settles: its amount, else its disbursement's whole amount."""
    own = amount_fen(settlement.get("amount"))
    if own is not None:
        return own
    if disbursement is None or disbursement.get("record_type") != RESERVE_DISBURSEMENT:
        return 0
    return amount_fen(disbursement.get("amount")) or 0


# ---------------------------------------------------------------- frames (vectorised)


def _text(column: pd.Series) -> pd.Series:
    return column.astype(object).where(column.notna(), "").astype(str)


def happened_by_dates(dates: pd.Series, as_of: str | None) -> pd.Series:
    """``happened_by`` over a column of ISO dates."""
    dates = _text(dates)
    if as_of is None:
        return pd.Series(True, index=dates.index)
    return (dates == "") | (dates <= as_of)


def matched_lines(payroll: pd.DataFrame, bank: pd.DataFrame,
                  as_of: str | None = None) -> pd.DataFrame:
    """Payroll lines joined to their bank lines (same batch_id and line_no) value-dated by
    ``as_of``. Payroll columns keep their names; the bank's colliding columns are renamed
    per ``BANK_RENAMES`` (status, fail_reason, value_date as they are)."""
    known = bank[happened_by_dates(bank["value_date"], as_of)] if as_of is not None else bank
    return payroll.merge(known.rename(columns=BANK_RENAMES), on=LINE_KEY, how="inner")


def successful_of(matched: pd.DataFrame) -> pd.DataFrame:
    """The successful payments among matched lines, ``paid_fen`` their amount."""
    paid = matched[matched["status"] == STATUS_SUCCESS].copy()
    bank_fen = paid["amount_fen_bank"].astype("Int64")
    paid["paid_fen"] = bank_fen.fillna(paid["amount_fen"].astype("Int64")).astype("int64")
    return paid


def payments(payroll: pd.DataFrame, bank: pd.DataFrame,
             as_of: str | None = None) -> pd.DataFrame:
    """Every successful payment of a payroll line value-dated by ``as_of``."""
    return successful_of(matched_lines(payroll, bank, as_of))


def payment_years(paid: pd.DataFrame) -> pd.Series:
    """The year each payment counts in: its value date's, else its payroll period's."""
    dates = _text(paid["value_date"])
    return dates.str[:4].where(dates != "", _text(paid["period"]).str[:4])


def paid_in_year_to(paid: pd.DataFrame, as_of: str) -> pd.DataFrame:
    """The payments of ``as_of``'s calendar year that happened by the end of ``as_of``."""
    happened = happened_by_dates(paid["value_date"], as_of)
    return paid[happened & (payment_years(paid) == as_of[:4])]


def paid_in_period(paid: pd.DataFrame, period: str) -> pd.DataFrame:
    """The payments of the payroll lines of one period (``YYYY-MM``), whenever paid."""
    return paid[_text(paid["period"]) == period]


def allocated_by(allocations: pd.DataFrame, as_of: str | None) -> pd.DataFrame:
    """Allocations dated on or before ``as_of`` (None: all); an undated one never counts."""
    dates = _text(allocations["date"])
    return allocations[(dates != "") & ((dates <= as_of) if as_of is not None else True)]


def allocated_in_year_to(allocations: pd.DataFrame, as_of: str) -> pd.DataFrame:
    """Allocations of ``as_of``'s calendar year dated by the end of ``as_of``."""
    known = allocated_by(allocations, as_of)
    return known[_text(known["date"]).str[:4] == as_of[:4]]


def reserve_flow_fen(reserve: pd.DataFrame) -> pd.Series:
    """Per reserve record, what it moves into (+) or out of (−) its township's reserve:
    advances and replenishments in, disbursements out, settlements nothing."""
    amount = reserve["amount_fen"].astype("Int64").fillna(0).astype("int64")
    kind = reserve["record_type"]
    signed = amount.where(kind.isin(RESERVE_FUNDING), -amount)
    return signed.where(kind.isin((*RESERVE_FUNDING, RESERVE_DISBURSEMENT)), 0)


def settled_fen_of(reserve: pd.DataFrame) -> pd.Series:
    """``settled_fen`` of each reserve row (0 for rows that are not settlements)."""
    own = reserve["amount_fen"].astype("Int64")
    disbursements = reserve[reserve["record_type"] == RESERVE_DISBURSEMENT]
    whole = disbursements.drop_duplicates("record_id").set_index("record_id")["amount_fen"]
    referenced = _text(reserve["reference_id"]).map(whole.astype("Int64"))
    settled = own.fillna(referenced.astype("Int64")).fillna(0).astype("int64")
    return settled.where(reserve["record_type"] == RESERVE_SETTLEMENT, 0)

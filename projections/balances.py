"""Balance reports (docs/formats.md, Balances), from frames as known at a moment.

Figures stand as at the end of ``as_of`` for the calendar year of that date: money moves
on its bank value date, an allocation on its allocation date, a budget in its year.
``paid`` is what the bank confirms it paid for payroll lines (the bank's amount). What
counts as paid, when and how much, is ``domain.money_facts``.
"""

from __future__ import annotations

import pandas as pd

from domain import money_facts
from projections.tables import Frames

BY_CHOICES = ("township", "program", "household")


PAYROLL_COLUMNS = ["batch_id", "line_no", "township", "program", "household_id", "period",
                   "amount_fen"]
BANK_COLUMNS = ["batch_id", "line_no", "status", "amount_fen", "value_date"]


def confirmed_payments(frames: Frames, as_of: str) -> pd.DataFrame:
    """The successful payments of payroll lines in as_of's year up to the end of as_of
    (``domain.money_facts``), ``paid_fen`` what each paid."""
    paid = money_facts.payments(frames.payroll[PAYROLL_COLUMNS],
                                frames.bank_return[BANK_COLUMNS], as_of)
    return money_facts.paid_in_year_to(paid, as_of)


def _allocated(frames: Frames, as_of: str) -> pd.DataFrame:
    alloc = money_facts.allocated_in_year_to(frames.allocations, as_of)
    return alloc.groupby(["township", "program"], as_index=False)["amount_fen"].sum()


def by_township(frames: Frames, as_of: str) -> pd.DataFrame:
    allocated = _allocated(frames, as_of).rename(columns={"amount_fen": "allocated"})
    paid = (confirmed_payments(frames, as_of)
            .groupby(["township", "program"], as_index=False)["paid_fen"].sum()
            .rename(columns={"paid_fen": "paid"}))
    out = allocated.merge(paid, on=["township", "program"], how="outer")
    out[["allocated", "paid"]] = out[["allocated", "paid"]].fillna(0).astype("int64")
    out["balance"] = out["allocated"] - out["paid"]
    return out.sort_values(["township", "program"]).reset_index(drop=True)[
        ["township", "program", "allocated", "paid", "balance"]]


def by_program(frames: Frames, as_of: str) -> pd.DataFrame:
    budgets = frames.budgets[frames.budgets["year"] == int(as_of[:4])]
    budget = budgets.groupby("program", as_index=False)["amount_fen"].sum().rename(
        columns={"amount_fen": "budget"})
    allocated = _allocated(frames, as_of).groupby("program", as_index=False)[
        "amount_fen"].sum().rename(columns={"amount_fen": "allocated"})
    paid = confirmed_payments(frames, as_of).groupby("program", as_index=False)[
        "paid_fen"].sum().rename(columns={"paid_fen": "paid"})
    out = budget.merge(allocated, on="program", how="outer").merge(paid, on="program",
                                                                    how="outer")
    cols = ["budget", "allocated", "paid"]
    out[cols] = out[cols].fillna(0).astype("int64")
    return out.sort_values("program").reset_index(drop=True)[["program", *cols]]


def by_household(frames: Frames, as_of: str) -> pd.DataFrame:
    paid = confirmed_payments(frames, as_of)
    out = paid.groupby(["household_id", "program"], as_index=False).agg(
        paid=("paid_fen", "sum"), periods_paid=("period", "nunique"))
    out["paid"] = out["paid"].astype("int64")
    return out.sort_values(["household_id", "program"]).reset_index(drop=True)[
        ["household_id", "program", "paid", "periods_paid"]]


def report(frames: Frames, by: str, as_of: str) -> pd.DataFrame:
    """The report's rows with money in int fen (columns ``MONEY_COLUMNS``)."""
    return {"township": by_township, "program": by_program,
            "household": by_household}[by](frames, as_of)


MONEY_COLUMNS = ("allocated", "paid", "balance", "budget")

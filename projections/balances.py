"""Balance reports (docs/formats.md, Balances), from frames as known at a moment.

Figures stand as at the end of ``as_of`` for the calendar year of that date: money moves
on its bank value date, an allocation on its allocation date, a budget in its year.
``paid`` is what the bank confirms it paid for payroll lines (the bank's amount).
"""

from __future__ import annotations

import pandas as pd

from projections.tables import Frames

BY_CHOICES = ("township", "program", "household")


def confirmed_payments(frames: Frames, as_of: str) -> pd.DataFrame:
    """Successful bank lines of payroll lines, value-dated in as_of's year up to as_of."""
    year_start = as_of[:4] + "-01-01"
    bank = frames.bank_return
    bank = bank[(bank["status"] == "success") & (bank["value_date"] >= year_start)
                & (bank["value_date"] <= as_of)]
    payroll = frames.payroll[["batch_id", "line_no", "township", "program",
                              "household_id", "period"]]
    paid = bank[["batch_id", "line_no", "amount_fen"]].merge(
        payroll, on=["batch_id", "line_no"], how="inner")
    paid["amount_fen"] = paid["amount_fen"].fillna(0).astype("int64")
    return paid


def _allocated(frames: Frames, as_of: str) -> pd.DataFrame:
    alloc = frames.allocations
    alloc = alloc[(alloc["date"] >= as_of[:4] + "-01-01") & (alloc["date"] <= as_of)]
    return alloc.groupby(["township", "program"], as_index=False)["amount_fen"].sum()


def by_township(frames: Frames, as_of: str) -> pd.DataFrame:
    allocated = _allocated(frames, as_of).rename(columns={"amount_fen": "allocated"})
    paid = (confirmed_payments(frames, as_of)
            .groupby(["township", "program"], as_index=False)["amount_fen"].sum()
            .rename(columns={"amount_fen": "paid"}))
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
        "amount_fen"].sum().rename(columns={"amount_fen": "paid"})
    out = budget.merge(allocated, on="program", how="outer").merge(paid, on="program",
                                                                    how="outer")
    cols = ["budget", "allocated", "paid"]
    out[cols] = out[cols].fillna(0).astype("int64")
    return out.sort_values("program").reset_index(drop=True)[["program", *cols]]


def by_household(frames: Frames, as_of: str) -> pd.DataFrame:
    paid = confirmed_payments(frames, as_of)
    out = paid.groupby(["household_id", "program"], as_index=False).agg(
        paid=("amount_fen", "sum"), periods_paid=("period", "nunique"))
    out["paid"] = out["paid"].astype("int64")
    return out.sort_values(["household_id", "program"]).reset_index(drop=True)[
        ["household_id", "program", "paid", "periods_paid"]]


def report(frames: Frames, by: str, as_of: str) -> pd.DataFrame:
    """The report's rows with money in int fen (columns ``MONEY_COLUMNS``)."""
    return {"township": by_township, "program": by_program,
            "household": by_household}[by](frames, as_of)


MONEY_COLUMNS = ("allocated", "paid", "balance", "budget")

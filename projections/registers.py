"""Read models beyond the contract's balances: what a finance office and an inspector ask.

All pure functions over frames (as known at a moment) and a business date; money in int
fen. They answer: how far has each township spent its allocation (against the 92 %
spending target of the seeds), what is outstanding in each reserve fund and for how long,
how each fund program executes its budget, what each household was entitled to and got,
and the four asset lists (assets, responsibilities, rules, archive).
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from domain import money_facts
from projections.balances import confirmed_payments
from projections.tables import Frames

TOTAL_SOURCE = "合计"
SPENDING_TARGET = 0.92  # seeds: 衔接资金 spending progress ≥ 92 %
ALLOWED_PURPOSES = ("operation_maintenance", "consolidation", "village_public_welfare",
                    "household_dividend")


def _year(frame: pd.DataFrame, column: str, as_of: str) -> pd.DataFrame:
    return frame[(frame[column] >= as_of[:4] + "-01-01") & (frame[column] <= as_of)]


def _sum_by(frame: pd.DataFrame, keys: list[str], name: str,
            column: str = "amount_fen") -> pd.DataFrame:
    return frame.groupby(keys, as_index=False)[column].sum().rename(columns={column: name})


def township_detail(frames: Frames, as_of: str) -> pd.DataFrame:
    """Per township and program: allocated, paid, failed, balance, spending progress."""
    keys = ["township", "program"]
    allocated = _sum_by(money_facts.allocated_in_year_to(frames.allocations, as_of), keys,
                        "allocated")
    paid = _sum_by(confirmed_payments(frames, as_of), keys, "paid", "paid_fen")
    bank = _year(frames.bank_return, "value_date", as_of)
    failed_lines = bank[bank["status"] == "failed"][["batch_id", "line_no"]].merge(
        frames.payroll, on=["batch_id", "line_no"])
    failed = _sum_by(failed_lines, keys, "failed")
    out = allocated.merge(paid, on=keys, how="outer").merge(failed, on=keys, how="outer")
    money = ["allocated", "paid", "failed"]
    out[money] = out[money].fillna(0).astype("int64")
    out["balance"] = out["allocated"] - out["paid"]
    out["spending_rate"] = [round(p / a, 4) if a else None
                            for p, a in zip(out["paid"], out["allocated"], strict=True)]
    out["below_target"] = [r is not None and r < SPENDING_TARGET for r in out["spending_rate"]]
    return out.sort_values(keys).reset_index(drop=True)


def reserve_positions(frames: Frames, as_of: str) -> pd.DataFrame:
    """Per township: advanced, replenished, disbursed, settled (``money_facts``: a
    settlement without an amount settles its disbursement in full), outstanding
    (disbursed − settled) and the oldest unsettled disbursement's age in days."""
    reserve = frames.reserve[frames.reserve["date"] <= as_of]
    reserve = reserve.assign(
        amount_fen=reserve["amount_fen"].astype("Int64").fillna(0).astype("int64"),
        settled_fen=money_facts.settled_fen_of(reserve))
    totals = reserve.pivot_table(index="township", columns="record_type", values="amount_fen",
                                 aggfunc="sum", fill_value=0)
    for kind in ("advance", "disbursement", "replenishment"):
        if kind not in totals.columns:
            totals[kind] = 0
    out = totals[["advance", "replenishment", "disbursement"]].reset_index()
    out.columns = ["township", "advanced", "replenished", "disbursed"]
    settled = reserve.groupby("township")["settled_fen"].sum()
    out["settled"] = out["township"].map(settled).fillna(0).astype("int64")
    out["outstanding"] = out["disbursed"] - out["settled"]
    settled_ids = set(reserve.loc[reserve["record_type"] == "settlement", "reference_id"])
    open_ = reserve[(reserve["record_type"] == "disbursement")
                    & ~reserve["record_id"].isin(settled_ids)]
    as_of_day = dt.date.fromisoformat(as_of)
    oldest = open_.groupby("township")["date"].min()
    out["oldest_unsettled_days"] = [
        (as_of_day - dt.date.fromisoformat(oldest[t])).days if t in oldest.index else 0
        for t in out["township"]]
    return out.sort_values("township").reset_index(drop=True)


def fund_execution(frames: Frames, as_of: str) -> pd.DataFrame:
    """Per program: one row per fund source (its budget), then a total row (source '合计')
    with the program's budget, allocated, paid and execution rate (paid / budget)."""
    budgets = frames.budgets[frames.budgets["year"] == int(as_of[:4])]
    by_source = _sum_by(budgets, ["program", "source"], "budget")
    allocated = _sum_by(money_facts.allocated_in_year_to(frames.allocations, as_of),
                        ["program"], "allocated")
    paid = _sum_by(confirmed_payments(frames, as_of), ["program"], "paid", "paid_fen")
    totals = _sum_by(budgets, ["program"], "budget").merge(allocated, on="program",
                                                           how="outer")
    totals = totals.merge(paid, on="program", how="outer")
    money = ["budget", "allocated", "paid"]
    totals[money] = totals[money].fillna(0).astype("int64")
    totals["source"] = TOTAL_SOURCE
    totals["execution_rate"] = [round(p / b, 4) if b else None
                                for p, b in zip(totals["paid"], totals["budget"], strict=True)]
    out = pd.concat([by_source.astype({"budget": "Int64"}),
                     totals.astype({m: "Int64" for m in money})], ignore_index=True)
    out["order"] = (out["source"] == TOTAL_SOURCE).astype(int)
    out = out.sort_values(["program", "order", "source"]).drop(columns="order")
    return out.reset_index(drop=True)[["program", "source", *money, "execution_rate"]]


def _periods(start: str, end: str) -> list[str]:
    year, month = int(start[:4]), int(start[5:7])
    out = []
    while f"{year:04d}-{month:02d}" <= end:
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def household_statement(frames: Frames, household_id: str, as_of: str) -> pd.DataFrame:
    """Per program and period: entitled (enrolment), listed (payroll), paid (bank), and the
    difference (arrears when positive, overpayment when negative), with the events behind."""
    rows = []
    enrolments = frames.enrolments[frames.enrolments["household_id"] == household_id]
    last = as_of[:7]
    for e in enrolments.itertuples():
        end = e.gradual_exit_until or (_prev(e.exit_period) if e.exit_period else last)
        for period in _periods(e.start_period, min(end, last)):
            rows.append({"program": e.program, "period": period,
                         "entitled_fen": int(e.monthly_amount_fen)})
    entitled = pd.DataFrame(rows, columns=["program", "period", "entitled_fen"])
    entitled = entitled.groupby(["program", "period"], as_index=False).sum()
    payroll = frames.payroll[frames.payroll["household_id"] == household_id]
    listed = payroll.groupby(["program", "period"], as_index=False)["amount_fen"].sum() \
        .rename(columns={"amount_fen": "listed_fen"})
    lines = payroll[["program", "period", "evidence_event"]]
    ok = money_facts.payments(payroll, frames.bank_return, as_of)
    paid = ok.groupby(["program", "period"], as_index=False)["paid_fen"].sum()
    keys = ["program", "period"]
    out = entitled.merge(listed, on=keys, how="outer").merge(paid, on=keys, how="outer")
    money = ["entitled_fen", "listed_fen", "paid_fen"]
    out[money] = out[money].fillna(0).astype("int64")
    out["arrears_fen"] = out["entitled_fen"] - out["paid_fen"]
    events = lines.groupby(keys)["evidence_event"].agg(lambda s: " ".join(sorted(s)))
    out["events"] = [events.get((p, m), "") for p, m in zip(out["program"], out["period"],
                                                             strict=True)]
    return out.sort_values(keys).reset_index(drop=True)


def _prev(period: str) -> str:
    year, month = int(period[:4]), int(period[5:7])
    return f"{year - 1:04d}-12" if month == 1 else f"{year:04d}-{month - 1:02d}"


def asset_register(frames: Frames, as_of: str) -> pd.DataFrame:
    """The asset list with responsibilities and income: one row per asset."""
    events = frames.asset_events[frames.asset_events["date"] <= as_of]
    assets = frames.assets.copy()
    holders = events[events["event_type"] == "rights_confirmed"].groupby("asset_id")[
        "counterparty"].last()
    keepers = events[events["event_type"] == "custodian_assigned"].groupby("asset_id")[
        "counterparty"].last()
    assets["rights_holder"] = [r or holders.get(a, "") for a, r in
                               zip(assets["asset_id"], assets["rights_holder"], strict=True)]
    assets["custodian"] = [c or keepers.get(a, "") for a, c in
                           zip(assets["asset_id"], assets["custodian"], strict=True)]
    amounts = events.assign(amount_fen=events["amount_fen"].fillna(0).astype("int64"))
    for kind, name in (("income_recorded", "income_fen"), ("income_distributed",
                                                           "distributed_fen")):
        sums = amounts[amounts["event_type"] == kind].groupby("asset_id")["amount_fen"].sum()
        assets[name] = [int(sums.get(a, 0)) for a in assets["asset_id"]]
    disposed = set(events.loc[events["event_type"].isin(["transferred", "disposed"]),
                              "asset_id"])
    assets["status"] = ["disposed" if a in disposed else "in_use" for a in assets["asset_id"]]
    columns = ["asset_id", "name", "asset_class", "township", "village", "value_fen",
               "funding_source", "project", "rights_holder", "custodian", "registered_on",
               "income_fen", "distributed_fen", "status"]
    return assets[columns].sort_values(["township", "village", "asset_id"]).reset_index(
        drop=True)

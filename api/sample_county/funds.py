"""Allocations, budgets and the benefit standards (and B01's planted case)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from api.sample_county.model import (
    ALLOCATION_MARGIN,
    BUDGET_MARGIN,
    BUDGET_SOURCES,
    COUNTY_SHORT,
    PROGRAMS_PAID,
    County,
    standard_fen,
)
from domain.money import format_fen


def spending_of(c: County) -> dict[tuple[str, str], int]:
    """Successful payments per (township, program): what B01 compares."""
    totals: dict[tuple[str, str], int] = defaultdict(int)
    for line in c.lines:
        bank = line.bank
        if bank and bank.status == "success":
            totals[(line.township, line.program)] += bank.amount_fen
    return totals


def allocate(c: County, township: str, program: str, amount_fen: int, day: dt.date) -> None:
    number = c.next_id("BF", 3)
    c.allocations.append({
        "allocation_id": f"{c.year}{number}", "program": program, "township": township,
        "amount_fen": amount_fen, "date": day,
        "document_no": f"{COUNTY_SHORT}民发〔{day.year}〕{c.counters['BF'] // 6 + 2}号"})


def allocate_with_margin(c: County, township: str, program: str, spent_fen: int) -> None:
    total_fen = -(-int(spent_fen * ALLOCATION_MARGIN) // 100_000) * 100_000
    first_fen = total_fen * 6 // 10 // 100_000 * 100_000
    allocate(c, township, program, first_fen, c.day(1, 8))
    allocate(c, township, program, total_fen - first_fen, c.day(2, 10))


def make_allocations(c: County, plant: bool) -> None:
    spending = spending_of(c)
    pairs = sorted(spending)
    over = exact = None
    if plant:
        over = max((p for p in pairs if p[1] == "dibao"), key=lambda p: spending[p])
        exact = max((p for p in pairs if p[1] == "tekun"), key=lambda p: spending[p])
    for pair in pairs:
        if pair == over:
            plant_b01(c, pair, spending[pair])
        elif pair == exact:
            allocate(c, *pair, spending[pair], c.day(1, 8))
            c.alike("B01", "|".join(pair), "allocations exactly equal to the spending")
        else:
            allocate_with_margin(c, *pair, spending[pair])
    make_budgets(c)


def plant_b01(c: County, pair: tuple[str, str], spent_fen: int) -> None:
    allocated_fen = (spent_fen - 500_000) // 100_000 * 100_000  # 5000–6000 yuan short
    short_fen = spent_fen - allocated_fen
    first_fen = allocated_fen * 6 // 10 // 100_000 * 100_000
    allocate(c, *pair, first_fen, c.day(1, 8))
    allocate(c, *pair, allocated_fen - first_fen, c.day(2, 10))
    c.found("B01", "|".join(pair), f"paid {format_fen(spent_fen)}, allocated "
            f"{format_fen(spent_fen - short_fen)} for the year")


def make_budgets(c: County) -> None:
    totals: dict[str, int] = defaultdict(int)
    for allocation in c.allocations:
        totals[allocation["program"]] += allocation["amount_fen"]
    for program in sorted(totals):
        budget_fen = -(-int(totals[program] * BUDGET_MARGIN) // 1_000_000) * 1_000_000
        left_fen = budget_fen
        for source, share, issuer in BUDGET_SOURCES:
            part_fen = left_fen if share is None else int(budget_fen * share) // 100 * 100
            left_fen -= part_fen
            c.budgets.append({
                "program": program, "year": c.year, "amount_fen": part_fen,
                "source": source,
                "document_no": f"{issuer}〔{c.year - 1}〕{c.rng.randint(5, 180)}号"})


def make_standards(c: County) -> None:
    for year in (c.year - 1, c.year):
        for program in PROGRAMS_PAID:
            c.standards.append({"program": program, "year": year,
                                "amount_fen": standard_fen(program, year),
                                "unit": "per_person"})

"""Payroll lines and the bank's return lines."""

from __future__ import annotations

from api.sample_county.households import fresh
from api.sample_county.model import (
    BATCH_PREFIX,
    PROGRAMS_PAID,
    VALUE_DAY_FIRST_BATCH,
    VALUE_DAY_SUPPLEMENT,
    Bank,
    County,
    Enrolment,
    Household,
    Line,
    iso,
    period_start,
)


def value_date(c: County, period: str, program: str, batch_no: int) -> str:
    day = (VALUE_DAY_FIRST_BATCH + PROGRAMS_PAID.index(program) if batch_no == 1
           else VALUE_DAY_SUPPLEMENT)
    return iso(period_start(period).replace(day=day))


def pay(c: County, household: Household, program: str, period: str, amount_fen: int,
        batch_no: int = 1) -> Line:
    batch_id = f"{BATCH_PREFIX[program]}{period.replace('-', '')}-{batch_no:02d}"
    line_no = len(c.batches[batch_id]) + 1
    bank = Bank(batch_id, line_no, household.account_holder, household.bank_account,
                amount_fen, value_date(c, period, program, batch_no))
    line = Line(batch_id, line_no, program, period, household.township,
                household.household_id, household.head.name, household.head_id_text,
                household.bank_account, amount_fen, bank)
    c.batches[batch_id].append(line)
    c.lines.append(line)
    return line


def make_payroll(c: County) -> None:
    order = {name: i for i, name in enumerate(c.township_names())}
    enrolments = sorted(c.enrolments, key=lambda e: (
        order[c.by_id[e.household_id].township], e.household_id))
    for period in c.periods:
        for program in PROGRAMS_PAID:
            if (program, period) in c.unpaid:
                continue
            for enrolment in enrolments:
                if enrolment.program == program and payable(c, enrolment, period):
                    household = c.by_id[enrolment.household_id]
                    pay(c, household, program, period, enrolment.monthly_fen)


def payable(c: County, enrolment: Enrolment, period: str) -> bool:
    if enrolment.active(period):
        return True
    return enrolment.household_id in c.pay_despite_exit and period >= enrolment.start


def line_of(c: County, household: Household, period: str, program: str = "dibao") -> Line:
    batch_id = f"{BATCH_PREFIX[program]}{period.replace('-', '')}-01"
    return next(line for line in c.batches[batch_id]
                if line.household_id == household.household_id)


def fail_and_reissue(c: County, period: str, reason: str) -> None:
    """A failure the finance office fixed: the look-alike of P06, P05 and P01."""
    household = fresh(c)
    line = line_of(c, household, period)
    assert line.bank is not None
    line.bank.status, line.bank.reason = "failed", reason
    pay(c, household, "dibao", period, line.amount_fen, batch_no=2)
    note = f"failed ({reason}) and reissued in batch {period}-02 the same month"
    c.alike("P06", line.subject, note)
    c.alike("P01", line.subject, "its bank line failed: P06's business, not P01's")
    c.alike("P05", household.household_id, "a failed line and its reissue: paid once")

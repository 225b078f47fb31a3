"""Planted cases in the registers (E codes) and on the payroll and bank lines (P codes,
E03's excess), each with its legitimate look-alike.
"""

from __future__ import annotations

import datetime as dt

from api.sample_county.households import (
    enrol,
    enrolment_of,
    fresh,
    new_household,
    roomiest_township,
)
from api.sample_county.model import (
    HEAD_AGE,
    HOLDING_MIN_FEN,
    SHARED_ACCOUNT_MIN_HOUSEHOLDS,
    Bank,
    County,
    Household,
    Person,
    period_end,
    period_start,
    shift_period,
    spaced,
    standard_fen,
)
from api.sample_county.payroll import line_of, pay, value_date
from api.sample_county.reference import add_official_row, hold, position_of
from domain.ids import CHECK_CHARS, check_char
from domain.money import format_fen

# ---------------------------------------------------------------- planted: people and eligibility


def plant_people_cases(c: County) -> None:
    """Cases that live in the registers (enrolments, deaths, officials, holdings, IDs);
    they are planted before the payroll is drawn up, so the payroll follows them."""
    for plant in (_plant_e01, _plant_e02, _plant_e03_standard, _plant_e04, _plant_e05,
                  _plant_e06, _plant_e07, _plant_e08, _plant_two_programs):
        plant(c)


def _plant_e01(c: County) -> None:
    p0, last = c.periods[0], c.periods[-1]
    dead = fresh(c)
    died = period_start(p0).replace(day=20)
    c.deaths.append({"id_number": dead.head.id_number, "name": dead.head.name,
                     "date_of_death": died})
    c.found("E01", dead.household_id, f"head died {died}, paid for every later month to {last}")
    month_of_death = fresh(c)
    died = period_start(last).replace(day=10)
    c.deaths.append({"id_number": month_of_death.head.id_number, "name": month_of_death.head.name,
                     "date_of_death": died})
    c.alike("E01", month_of_death.household_id, f"head died {died}: paid only up to that month")


def _plant_e02(c: County) -> None:
    p0, p1 = c.periods[0], c.periods[1]
    first = fresh(c)
    elsewhere = _other_township(c, first.township)
    second = new_household(c, "dibao", township=elsewhere, head=first.head)
    enrol(c, second, "dibao", shift_period(p0, -10))
    c.used.add(second.household_id)
    note = f"head {first.head.name} is also head of a dibao household in {elsewhere}"
    c.found("E02", first.household_id, note)
    c.found("E02", second.household_id, note)
    both = fresh(c, members=(1,))
    enrol(c, both, "tekun", shift_period(p0, -4))
    c.found("E02", both.household_id, "enrolled in dibao and tekun at the same time")
    moved = fresh(c)
    enrolment_of(c, moved, "dibao").start = p0
    old = new_household(c, "dibao", township=_other_township(c, moved.township), head=moved.head)
    enrol(c, old, "dibao", shift_period(p0, -34), exit_=p0)
    c.used.add(old.household_id)
    for household in (moved, old):
        c.alike("E02", household.household_id, f"moved township: old household exits {p0}, "
                "the new one starts that month (no overlap)")
    switched = fresh(c, members=(1, 2))
    enrolment_of(c, switched, "dibao").exit = p1
    enrol(c, switched, "tekun", p1)
    c.alike("E02", switched.household_id, f"dibao exits {p1}, the month tekun starts")


def _other_township(c: County, township: str) -> str:
    return c.rng.choice([t for t in c.township_names() if t != township])


def _plant_two_programs(c: County) -> None:
    both = fresh(c)
    enrol(c, both, "disability", shift_period(c.periods[0], -7))
    c.alike("P05", both.household_id, "dibao and disability paid for the same month")


def _plant_e03_standard(c: County) -> None:
    exact = fresh(c, members=(3,))
    enrolment_of(c, exact, "dibao").monthly_fen = standard_fen("dibao", c.year) * exact.members
    c.alike("E03", exact.household_id, "paid exactly the standard × 3 members")


def _plant_e04(c: County) -> None:
    p1, last = c.periods[1], c.periods[-1]
    for gradual_until in ("", p1):
        late = fresh(c)
        enrolment = enrolment_of(c, late, "dibao")
        enrolment.exit, enrolment.gradual_until = p1, gradual_until
        c.pay_despite_exit.add(late.household_id)
        until = f", gradual exit until {gradual_until}" if gradual_until else ""
        c.found("E04", late.household_id, f"exit {p1}{until}; still paid up to {last}")
    gradual = fresh(c)
    enrolment = enrolment_of(c, gradual, "dibao")
    enrolment.exit, enrolment.gradual_until = p1, last
    c.alike("E04", gradual.household_id, f"gradual exit from {p1} payable through {last}")


def _plant_e05(c: County) -> None:
    relative = fresh(c)
    staff = c.staff[relative.township]
    position, township = position_of(c, staff.recorder)
    add_official_row(c, staff.recorder, position, township, relative.head, "兄弟")
    c.found("E05", relative.household_id,
            f"head is the brother of {position} {staff.recorder.name}")
    himself = fresh(c)
    add_official_row(c, himself.head, "村民委员会委员", himself.township, himself.head, "本人")
    c.found("E05", himself.household_id, "head is himself a village committee member")
    near = fresh(c)
    first17 = near.head.id_number[:14] + str((int(near.head.id_number[14]) + 1) % 10) \
        + near.head.id_number[15:17]
    staff = c.staff[near.township]
    position, township = position_of(c, staff.head)
    add_official_row(c, staff.head, position, township,
                     Person(c.name(near.head.name[0]), first17 + check_char(first17)), "兄弟")
    c.alike("E05", near.household_id, "an official's relative's ID differs in one sequence digit")


def _plant_e06(c: County) -> None:
    seat = roomiest_township(c)  # five households of one township are needed
    owner = fresh(c, township=seat)
    sharing = [owner, fresh(c, township=owner.township), fresh(c, township=owner.township)]
    for household in sharing[1:]:
        household.bank_account, household.account_holder = owner.bank_account, owner.account_holder
    c.found("E06", owner.bank_account, f"{SHARED_ACCOUNT_MIN_HOUSEHOLDS} households paid into "
            f"{owner.account_holder}'s account")
    parent = fresh(c, township=seat)
    child = fresh(c, township=seat)
    child.bank_account, child.account_holder = parent.bank_account, parent.account_holder
    c.alike("E06", parent.bank_account, "two households (parent and son) on one account")


def _plant_e07(c: County) -> None:
    wrong_check = fresh(c)
    number = wrong_check.head.id_number
    wrong = CHECK_CHARS[(CHECK_CHARS.index(number[17]) + 3) % len(CHECK_CHARS)]
    _set_head_id(wrong_check, number[:17] + wrong)
    c.found("E07", wrong_check.household_id, "head ID check character is wrong")
    no_such_day = fresh(c)
    first17 = no_such_day.head.id_number[:10] + "0230" + no_such_day.head.id_number[14:17]
    _set_head_id(no_such_day, first17 + check_char(first17))
    c.found("E07", no_such_day.household_id, "head ID holds the birth date February 30")
    lower_x = fresh(c)
    while not lower_x.head.id_number.endswith("X"):
        lower_x.head = c.person(*HEAD_AGE["dibao"])
    lower_x.account_holder = lower_x.head.name
    lower_x.head_id_text = lower_x.head.id_number[:17] + "x"
    c.alike("E07", lower_x.household_id, "valid ID written with a lower-case x")
    legacy = fresh(c)
    while legacy.head.id_number[6:8] != "19":
        legacy.head = c.person(*HEAD_AGE["dibao"])
    legacy.account_holder = legacy.head.name
    legacy.head_id_text = legacy.head.id_number[:6] + legacy.head.id_number[8:17]
    c.alike("E07", legacy.household_id, "valid 15-digit legacy ID number")


def _set_head_id(household: Household, number: str) -> None:
    household.head = Person(household.head.name, number)
    household.head_id_text = number


def _plant_e08(c: County) -> None:
    p0, last = c.periods[0], c.periods[-1]
    car = fresh(c)
    hold(c, car.head_id_text, "vehicle", "小型轿车 湘E·5K2**", 8_500_000,
         dt.date(c.year - 1, 6, 12))
    c.found("E08", car.household_id, "head registered a car worth 85000.00 before being paid")
    shop = fresh(c)
    hold(c, shop.head_id_text, "business", "个体工商户(农资店)", HOLDING_MIN_FEN,
         period_start(p0).replace(day=15))
    c.found("E08", shop.household_id, f"business worth exactly 30000.00 registered in {p0}")
    small = fresh(c)
    hold(c, small.head_id_text, "vehicle", "二手轿车", HOLDING_MIN_FEN - 1,
         dt.date(c.year - 2, 3, 3))
    c.alike("E08", small.household_id, "car worth 29999.99, below the threshold")
    later = fresh(c)
    hold(c, later.head_id_text, "property", "商品房", 12_000_000,
         period_end(last) + dt.timedelta(days=5))
    c.alike("E08", later.household_id, f"property registered after the last paid period {last}")


# ---------------------------------------------------------------- planted: payroll and bank


def plant_line_cases(c: County) -> None:
    for plant in (_plant_p01_p02, _plant_p03, _plant_p04, _plant_p05_p06, _plant_e03_excess):
        plant(c)


def _extra_bank_line(c: County, period: str, status: str, reason: str) -> Bank:
    """A bank line whose batch:line is in no payroll (the batch's next line number)."""
    batch_id = f"DB{period.replace('-', '')}-01"
    holder = c.person(30, 60)
    bank = Bank(batch_id, len(c.batches[batch_id]) + 1, holder.name, c.account(), 77_000,
                value_date(c, period, "dibao", 1), status, reason)
    c.unmatched_bank.append(bank)
    return bank


def _plant_p01_p02(c: County) -> None:
    p1, last = c.periods[1], c.periods[-1]
    missing = line_of(c, fresh(c), last)
    missing.bank = None
    c.found("P01", missing.subject, "payroll line with no bank-return line")
    extra = _extra_bank_line(c, p1, "success", "")
    c.found("P02", f"{extra.batch_id}:{extra.line_no}", "bank paid a line the payroll never had")
    refused = _extra_bank_line(c, last, "failed", "账号不存在")
    c.alike("P02", f"{refused.batch_id}:{refused.line_no}", "unmatched bank line that failed")


def _plant_p03(c: County) -> None:
    p1 = c.periods[1]
    short = line_of(c, fresh(c), p1)
    assert short.bank is not None
    short.bank.amount_fen -= 10_000
    c.found("P03", short.subject, "bank paid 100.00 less than the payroll line")
    written = line_of(c, fresh(c, whole_yuan=True), p1)
    assert written.bank is not None
    written.bank.amount_text = str(written.amount_fen // 100)
    c.alike("P03", written.subject, f"bank wrote {written.amount_fen // 100}, payroll "
            f"{format_fen(written.amount_fen)}: the same amount")


def _plant_p04(c: County) -> None:
    p0, p1, last = c.periods[0], c.periods[1], c.periods[-1]
    diverted = line_of(c, fresh(c), p1)
    cadre = c.person(35, 55)
    assert diverted.bank is not None
    diverted.bank.account, diverted.bank.holder = c.account(), cadre.name
    c.found("P04", diverted.subject, f"bank paid {cadre.name}'s account, not the payroll's")
    household = fresh(c)
    rostered = line_of(c, household, last)
    rostered.account = c.account()
    assert rostered.bank is not None
    rostered.bank.account = rostered.account
    c.found("P04", rostered.subject, "payroll account is not the household's registered account")
    renamed = line_of(c, fresh(c), p0)
    assert renamed.bank is not None
    renamed.bank.holder = c.name()
    c.found("P04", renamed.subject,
            f"bank holder {renamed.bank.holder} is not the registered holder")
    spaced_line = line_of(c, fresh(c), p1)
    assert spaced_line.bank is not None
    spaced_line.bank.account_text = spaced(spaced_line.bank.account)
    c.alike("P04", spaced_line.subject, "bank file writes the same account with spaces")


def _plant_p05_p06(c: County) -> None:
    p1, last = c.periods[1], c.periods[-1]
    twice = fresh(c)
    pay(c, twice, "dibao", p1, line_of(c, twice, p1).amount_fen, batch_no=2)
    c.found("P05", twice.household_id, f"paid twice for {p1} (batches -01 and -02)")
    failed = line_of(c, fresh(c), last)
    assert failed.bank is not None
    failed.bank.status, failed.bank.reason = "failed", "账户已销户"
    c.found("P06", failed.subject, "failed (账户已销户) and never reissued")
    c.alike("P01", failed.subject, "its bank line failed: P06's business, not P01's")


def _plant_e03_excess(c: County) -> None:
    over = fresh(c)
    line = line_of(c, over, c.periods[1])
    line.amount_fen = standard_fen("dibao", c.year) * over.members + 3_000
    assert line.bank is not None
    line.bank.amount_fen = line.amount_fen
    c.found("E03", over.household_id, f"paid {format_fen(line.amount_fen)}, 30.00 above the "
            f"standard × {over.members} member(s)")

"""Households and their enrolments, and the ordinary households planted cases draw from."""

from __future__ import annotations

from collections import defaultdict

from api.sample_county.model import (
    DIBAO_WITH_DISABILITY_SHARE,
    DISCLOSURE_EXEMPT_SHARE,
    HEAD_AGE,
    LATE_START_SHARE,
    MEMBER_WEIGHTS,
    NATURAL_EXIT_SHARE,
    PROGRAM_WEIGHTS,
    PROGRAMS_PAID,
    TOWNSHIP_WEIGHTS,
    County,
    Enrolment,
    Household,
    Person,
    drawn_monthly_fen,
    shift_period,
)


def new_household(c: County, program: str, township: str | None = None,
                  head: Person | None = None) -> Household:
    rng = c.rng
    township = township or rng.choices(c.township_names(), TOWNSHIP_WEIGHTS)[0]
    head = head or c.person(*HEAD_AGE[program])
    weights = MEMBER_WEIGHTS[program]
    members = rng.choices(range(1, len(weights) + 1), weights)[0]
    household = Household(
        household_id=c.next_id("QX", 6), township=township,
        village=rng.choice(c.villages(township)), head=head, head_id_text=head.id_number,
        members=members, bank_account=c.account(), account_holder=head.name,
        exempt=rng.random() < DISCLOSURE_EXEMPT_SHARE)
    c.households.append(household)
    c.by_id[household.household_id] = household
    return household


def enrol(c: County, household: Household, program: str, start: str, exit_: str = "",
          gradual_until: str = "", monthly_fen: int | None = None) -> Enrolment:
    if monthly_fen is None:
        monthly_fen = drawn_monthly_fen(c.rng, program, household.members, c.year)
    enrolment = Enrolment(household.household_id, program, monthly_fen, start, exit_,
                          gradual_until)
    c.enrolments.append(enrolment)
    return enrolment


def enrolment_of(c: County, household: Household, program: str) -> Enrolment:
    return next(e for e in c.enrolments
                if e.household_id == household.household_id and e.program == program)


def earlier_start(c: County) -> str:
    """A start period 1 to 60 months before the first generated month."""
    return shift_period(c.periods[0], -c.rng.randint(1, 60))


def make_households(c: County, count: int) -> None:
    rng = c.rng
    for _ in range(count):
        program = rng.choices(PROGRAMS_PAID, PROGRAM_WEIGHTS)[0]
        household = new_household(c, program)
        enrolment = enrol(c, household, program, earlier_start(c))
        if program == "dibao" and rng.random() < DIBAO_WITH_DISABILITY_SHARE:
            enrol(c, household, "disability", earlier_start(c))
            c.used.add(household.household_id)
        add_noise(c, household, enrolment)


def add_noise(c: County, household: Household, enrolment: Enrolment) -> None:
    """New enrolments and ordinary exits inside the months: legitimate, not findings."""
    rng, periods = c.rng, c.periods
    if len(periods) > 1 and rng.random() < LATE_START_SHARE:
        enrolment.start = rng.choice(periods[1:])
    elif rng.random() < NATURAL_EXIT_SHARE:
        enrolment.exit = periods[-1]
    else:
        return
    c.used.add(household.household_id)


def fresh(c: County, program: str = "dibao", township: str | None = None,
          members: tuple[int, ...] | None = None, whole_yuan: bool = False) -> Household:
    """An ordinary household (one program, enrolled before the first month, no exit)
    not yet carrying a planted case; it is marked as used."""
    household = c.rng.choice(candidates(c, program, township, members, whole_yuan))
    c.used.add(household.household_id)
    return household


def roomiest_township(c: County) -> str:
    """The township with the most ordinary dibao households left."""
    return max(c.township_names(), key=lambda t: len(candidates(c, township=t)))


def candidates(c: County, program: str = "dibao", township: str | None = None,
               members: tuple[int, ...] | None = None,
               whole_yuan: bool = False) -> list[Household]:
    programs: dict[str, list[Enrolment]] = defaultdict(list)
    for enrolment in c.enrolments:
        programs[enrolment.household_id].append(enrolment)
    candidates = []
    for household in c.households:
        enrolments = programs[household.household_id]
        if (household.household_id in c.used or len(enrolments) != 1
                or enrolments[0].program != program or enrolments[0].exit
                or enrolments[0].start > c.periods[0]
                or (township and household.township != township)
                or (members and household.members not in members)
                or (whole_yuan and enrolments[0].monthly_fen % 100)):
            continue
        candidates.append(household)
    return candidates

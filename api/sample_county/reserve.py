"""The township reserve funds (备用金) and their planted cases (R codes, D01)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from api.sample_county.model import (
    COUNTY_SHORT,
    RESERVE_ADVANCE_FEN,
    SETTLE_WITHIN_DAYS,
    TOWNSHIP_LIMIT_FEN,
    County,
    Reserve,
    iso,
    period_end,
)
from domain.money import format_fen

RESERVE_PREFIX = {"advance": "YB", "disbursement": "XJ", "settlement": "HX", "replenishment": "BZ"}
ORDINARY_DISBURSEMENTS = (5, 8)  # per township
ORDINARY_SETTLE_DAYS = (3, 25)
COUNTY_LEVEL_SHARE = 0.1
RESERVE_PLANT_HOUSEHOLDS = 8  # households of a township kept back for its planted cases


def _reserve(c: County, record_type: str, township: str, amount_fen: int, day: dt.date,
             **fields: str) -> Reserve:
    number = c.township_names().index(township) + 1
    record_id = c.next_id(f"{RESERVE_PREFIX[record_type]}{c.year}{number:02d}", 3)
    record = Reserve(record_type, record_id, township, amount_fen, iso(day), **fields)
    if record_type in ("advance", "replenishment"):
        record.approver, record.recorder = c.county_approver.name, c.county_clerk.name
        record.level = "county"
        record.document = f"{COUNTY_SHORT}民发〔{day.year}〕{c.rng.randint(10, 99)}号"
    c.reserve.append(record)
    return record


def _disburse(c: County, township: str, household_id: str, amount_fen: int, day: dt.date, *,
              settle_days: int | None, level: str = "township", approver: str | None = None,
              recorder: str | None = None) -> Reserve:
    """A 先行救助 payment from the township reserve and, when settle_days is given, its
    核销 that many days later."""
    staff = c.staff[township]
    if approver is None:
        approver = staff.approver.name if level == "township" else c.county_approver.name
    record = _reserve(c, "disbursement", township, amount_fen, day, household_id=household_id,
                      level=level, approver=approver, recorder=recorder or staff.recorder.name,
                      document=f"临救审〔{day.year}〕{c.rng.randint(1, 300)}号")
    if settle_days is not None:
        _reserve(c, "settlement", township, amount_fen, day + dt.timedelta(days=settle_days),
                 approver=c.county_clerk.name, recorder=staff.recorder.name,
                 reference=record.record_id)
    return record


def _reserve_household(c: County, township: str, taken: set[str]) -> str:
    """A household of the township that has had no reserve payment yet, so that no two
    payments fall to one household unless a case plants it (R03)."""
    choices = [h.household_id for h in c.households
               if h.township == township and h.household_id not in taken]
    household_id = c.rng.choice(choices)
    taken.add(household_id)
    return household_id


def make_reserve(c: County, plant: bool) -> None:
    names = c.township_names()
    taken: set[str] = set()  # households that already had a reserve payment
    for township in names:
        if plant and township == names[3]:
            _plant_r04(c, township, taken)
            continue
        advanced = c.day(1, 6) if plant and township == names[4] else c.day(1, 2)
        _reserve(c, "advance", township, RESERVE_ADVANCE_FEN, advanced)
        _ordinary_disbursements(c, township, advanced, taken)
    if plant:
        _plant_r01(c, names[0], names[1], taken)
        _plant_r02(c, names[2], taken)
        _plant_r03(c, names[5], taken)
        _plant_d01(c, names[1], taken)
        first = _disburse(c, names[4], _reserve_household(c, names[4], taken), 60_000,
                          c.day(1, 6), settle_days=10)
        c.alike("R04", names[4], f"disbursement {first.record_id} on the day of the advance")
    for township in names:
        if not (plant and township == names[3]):
            _replenish_monthly(c, township)


def _ordinary_disbursements(c: County, township: str, first: dt.date, taken: set[str]) -> None:
    rng = c.rng
    last = c.before_as_of(SETTLE_WITHIN_DAYS + 5)  # old enough to have been settled
    free = sum(1 for h in c.households if h.township == township and h.household_id not in taken)
    for _ in range(min(rng.randint(*ORDINARY_DISBURSEMENTS), free - RESERVE_PLANT_HOUSEHOLDS)):
        day = first + dt.timedelta(days=rng.randint(0, max((last - first).days, 0)))
        county = rng.random() < COUNTY_LEVEL_SHARE
        amount_fen = rng.randint(150, 500) * 1_000 if county else rng.randint(200, 1000) * 100
        _disburse(c, township, _reserve_household(c, township, taken), amount_fen, day,
                  settle_days=rng.randint(*ORDINARY_SETTLE_DAYS),
                  level="county" if county else "township")
    for _ in range(min(rng.randint(0, 2), free - RESERVE_PLANT_HOUSEHOLDS)):  # recent, unsettled
        _disburse(c, township, _reserve_household(c, township, taken),
                  rng.randint(200, 900) * 100, c.before_as_of(rng.randint(3, 25)), settle_days=None)


def _replenish_monthly(c: County, township: str) -> None:
    """The county tops the reserve up at each month end by what was settled that month."""
    settled: dict[str, int] = defaultdict(int)
    for record in c.reserve:
        if record.township == township and record.record_type == "settlement":
            settled[record.date[:7]] += record.amount_fen
    for month in sorted(settled):
        end = period_end(month)
        if end <= c.as_of:
            _reserve(c, "replenishment", township, settled[month], end)


def _plant_r01(c: County, late_township: str, timely_township: str, taken: set[str]) -> None:
    late = _disburse(c, late_township, _reserve_household(c, late_township, taken), 60_000,
                     c.day(1, 10), settle_days=SETTLE_WITHIN_DAYS + 11)
    c.found("R01", late.record_id, "settled 41 days after payment")
    open_ = _disburse(c, late_township, _reserve_household(c, late_township, taken), 70_000,
                      c.before_as_of(45), settle_days=None)
    c.found("R01", open_.record_id, "unsettled and 45 days old at as-of")
    on_time = _disburse(c, timely_township, _reserve_household(c, timely_township, taken), 55_000,
                        c.day(1, 12), settle_days=SETTLE_WITHIN_DAYS)
    c.alike("R01", on_time.record_id, "settled on day 30")
    young = _disburse(c, timely_township, _reserve_household(c, timely_township, taken), 48_000,
                      c.before_as_of(SETTLE_WITHIN_DAYS), settle_days=None)
    c.alike("R01", young.record_id, "unsettled, exactly 30 days old at as-of")


def _plant_r02(c: County, township: str, taken: set[str]) -> None:
    above = _disburse(c, township, _reserve_household(c, township, taken), 150_000, c.day(2, 7),
                      settle_days=8)
    c.found("R02", above.record_id, "1500.00 approved at township level (limit 1000)")
    at_limit = _disburse(c, township, _reserve_household(c, township, taken), TOWNSHIP_LIMIT_FEN,
                         c.day(2, 16), settle_days=9)
    c.alike("R02", at_limit.record_id, "exactly 1000.00 at township level")
    county = _disburse(c, township, _reserve_household(c, township, taken), 350_000, c.day(1, 21),
                       settle_days=12, level="county")
    c.alike("R02", county.record_id, "3500.00 approved at county level")


def _plant_r03(c: County, township: str, taken: set[str]) -> None:
    household_id = _reserve_household(c, township, taken)
    for amount_fen, day in ((80_000, c.day(2, 3)), (60_000, c.day(2, 18))):
        _disburse(c, township, household_id, amount_fen, day, settle_days=10)
    c.found("R03", household_id, "800.00 and 600.00 fifteen days apart: 1400.00 in total")
    household_id = _reserve_household(c, township, taken)
    for amount_fen, day in ((80_000, c.day(1, 8)), (70_000, c.day(2, 8))):
        _disburse(c, township, household_id, amount_fen, day, settle_days=10)
    c.alike("R03", household_id, "two disbursements 31 days apart")


def _plant_r04(c: County, township: str, taken: set[str]) -> None:
    """A small advance spent beyond its size before the county replenished it."""
    _reserve(c, "advance", township, 300_000, c.day(1, 3))
    spent_fen = 0
    for amount_fen, day in ((90_000, 8), (85_000, 15), (78_000, 22), (65_000, 29)):
        _disburse(c, township, _reserve_household(c, township, taken), amount_fen, c.day(1, day),
                  settle_days=c.rng.randint(5, 12))
        spent_fen += amount_fen
    _reserve(c, "replenishment", township, spent_fen, c.day(2, 5))
    for amount_fen, day in ((50_000, 12), (60_000, 20)):
        _disburse(c, township, _reserve_household(c, township, taken), amount_fen, c.day(2, day),
                  settle_days=c.rng.randint(5, 12))
    c.found("R04", township, f"advance 3000.00, disbursed {format_fen(spent_fen)} by "
            f"{c.day(1, 29)} before the replenishment")


def _plant_d01(c: County, township: str, taken: set[str]) -> None:
    staff = c.staff[township]
    own = _disburse(c, township, _reserve_household(c, township, taken), 45_000, c.day(2, 5),
                    settle_days=12, approver=staff.recorder.name)
    c.found("D01", own.record_id, f"{staff.recorder.name} recorded and approved it")
    other = _disburse(c, township, _reserve_household(c, township, taken), 52_000, c.day(2, 14),
                      settle_days=11)
    c.alike("D01", other.record_id, "recorded and approved by different people")

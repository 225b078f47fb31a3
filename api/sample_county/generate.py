"""``generate_county``: the whole county, built in order, written, and its truth."""

from __future__ import annotations

import random
from collections.abc import Iterable
from pathlib import Path

from api.sample_county.assets import make_assets
from api.sample_county.funds import make_allocations, make_standards
from api.sample_county.households import make_households
from api.sample_county.model import (
    FAIL_REASONS_REISSUED,
    MONTHS_MAX,
    PERIOD_RE,
    PLANTED_HOUSEHOLDS_MIN,
    PLANTED_MONTHS_MIN,
    PROGRAMS_PAID,
    County,
    CountyTruth,
    iso,
)
from api.sample_county.payroll import fail_and_reissue, make_payroll
from api.sample_county.planted import plant_line_cases, plant_people_cases
from api.sample_county.reference import make_officials, make_reference_noise
from api.sample_county.reserve import make_reserve
from api.sample_county.writer import write_county


def generate_county(out_dir: Path, *, seed: int = 7, households: int = 300, year: int = 2025,
                    months: int = 3, messy: bool = True, plant: bool = True,
                    unpaid: Iterable[tuple[str, str]] = ()) -> CountyTruth:
    """Write a county's contract files into ``out_dir`` and return what a correct
    reconcile must find there at ``as_of`` (15 days after the last month).

    ``unpaid``: (program, period) pairs the county paid nobody in (a program paid in some
    months and not in others, as when a month's batch is late); not ``dibao``, which
    carries the planted cases."""
    unpaid = frozenset(unpaid)
    _check_arguments(households, months, plant, unpaid)
    c = County(random.Random(seed), year=year, months=months, unpaid=unpaid)
    make_officials(c)
    make_households(c, households - 2 if plant else households)  # plants add two
    if plant:
        plant_people_cases(c)
    make_payroll(c)
    fail_and_reissue(c, c.periods[0], FAIL_REASONS_REISSUED[0])
    fail_and_reissue(c, c.periods[-1], FAIL_REASONS_REISSUED[1])
    if plant:
        plant_line_cases(c)
    make_standards(c)
    make_allocations(c, plant)
    make_reserve(c, plant)
    make_assets(c, plant)
    make_reference_noise(c)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    write_county(c, out_dir, messy)
    return CountyTruth(directory=out_dir, findings=c.findings, lookalikes=c.lookalikes,
                       as_of=iso(c.as_of), year=year, households=len(c.households),
                       payroll_lines=len(c.lines))


def _check_arguments(households: int, months: int, plant: bool,
                     unpaid: frozenset[tuple[str, str]]) -> None:
    for program, period in unpaid:
        if program not in PROGRAMS_PAID or program == "dibao" or not PERIOD_RE.fullmatch(period):
            raise ValueError(f"unpaid: ({program!r}, {period!r}) is not a program other than "
                             f"dibao ({', '.join(PROGRAMS_PAID[1:])}) and a YYYY-MM period")
    if not 1 <= months <= MONTHS_MAX:
        raise ValueError(f"months must be 1 to {MONTHS_MAX}, not {months}")
    if plant and months < PLANTED_MONTHS_MIN:
        raise ValueError(f"planted cases need at least {PLANTED_MONTHS_MIN} months")
    if plant and households < PLANTED_HOUSEHOLDS_MIN:
        raise ValueError(f"planted cases need at least {PLANTED_HOUSEHOLDS_MIN} households")
    if households < 20:
        raise ValueError("a county needs at least 20 households")

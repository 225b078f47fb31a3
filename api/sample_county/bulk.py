"""``write_bulk_month``: one clean, large month for the benchmarks, streamed."""

from __future__ import annotations

import datetime as dt
import itertools
import random
from collections import defaultdict
from pathlib import Path

from api.sample_county.model import (
    ACCOUNT_BODY_DIGITS,
    ACCOUNT_PREFIXES,
    AREA_CODE,
    BATCH_PREFIX,
    MEMBER_WEIGHTS,
    PROGRAM_WEIGHTS,
    PROGRAMS_PAID,
    TOWNSHIP_WEIGHTS,
    TOWNSHIPS,
    VALUE_DAY_FIRST_BATCH,
    account_number,
    chinese_name,
    drawn_monthly_fen,
    id_number,
    shift_period,
)
from api.sample_county.writer import UTF8_BOM, csv_rows
from domain.money import format_fen

BULK_BIRTH_DAYS = 25_000  # birth dates spread over ~68 years; index -> (day, sequence) is 1:1
BULK_OLDEST_AGE = 95
BULK_ACCOUNT_STRIDE = 7_919_993  # odd and not a multiple of 5: index -> account body is 1:1


def write_bulk_month(out_dir: Path, *, households: int, period: str, seed: int = 7) -> int:
    """For benchmarks: households.csv, enrolments.csv, payroll_<period>.csv and
    bank_return_<period>.csv of one clean month, one payroll line (and one successful bank
    line) per household. Rows are streamed, so memory does not grow with ``households``;
    ID numbers and accounts are unique by construction rather than by a set."""
    rng = random.Random(seed)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    line_numbers: dict[str, int] = defaultdict(int)
    with (csv_rows(out_dir / "households.csv", "households", UTF8_BOM) as household_rows,
          csv_rows(out_dir / "enrolments.csv", "enrolments") as enrolment_rows,
          csv_rows(out_dir / f"payroll_{period}.csv", "payroll") as payroll_rows,
          csv_rows(out_dir / f"bank_return_{period}.csv", "bank_return", "gbk") as bank_rows):
        for index in range(households):
            household, program, amount = _bulk_household(rng, index, period)
            batch_id = f"{BATCH_PREFIX[program]}{period.replace('-', '')}-01"
            line_numbers[batch_id] += 1
            line_no = str(line_numbers[batch_id])
            household_rows.writerow(household)
            enrolment_rows.writerow([household[0], program, amount,
                                     shift_period(period, -rng.randint(1, 60)), "", ""])
            payroll_rows.writerow([batch_id, line_no, program, period, household[1], household[0],
                                   household[3], household[4], household[6], amount])
            bank_rows.writerow([batch_id, line_no, household[7], household[6], amount, "成功", "",
                                _value_day(period, program)])
    return households


TOWNSHIP_CUMULATIVE = tuple(itertools.accumulate(TOWNSHIP_WEIGHTS))
PROGRAM_CUMULATIVE = tuple(itertools.accumulate(PROGRAM_WEIGHTS))
MEMBER_CUMULATIVE = {program: tuple(itertools.accumulate(weights))
                     for program, weights in MEMBER_WEIGHTS.items()}


def _bulk_household(rng: random.Random, index: int, period: str) -> tuple[list[str], str, str]:
    township, villages = rng.choices(TOWNSHIPS, cum_weights=TOWNSHIP_CUMULATIVE)[0]
    program = rng.choices(PROGRAMS_PAID, cum_weights=PROGRAM_CUMULATIVE)[0]
    cumulative = MEMBER_CUMULATIVE[program]
    members = rng.choices(range(1, len(cumulative) + 1), cum_weights=cumulative)[0]
    year = int(period[:4])
    born = dt.date(year - BULK_OLDEST_AGE, 1, 1) + dt.timedelta(
        days=index * 7919 % BULK_BIRTH_DAYS)
    head_id = id_number(AREA_CODE, born, index // BULK_BIRTH_DAYS % 1000)
    account = account_number(ACCOUNT_PREFIXES[index % len(ACCOUNT_PREFIXES)],
                             (index * BULK_ACCOUNT_STRIDE + 1) % 10 ** ACCOUNT_BODY_DIGITS)
    name = chinese_name(rng)
    amount = format_fen(drawn_monthly_fen(rng, program, members, year))
    household = [f"QX{index + 1:07d}", township, rng.choice(villages), name, head_id,
                 str(members), account, name, ""]
    return household, program, amount


def _value_day(period: str, program: str) -> str:
    return f"{period}-{VALUE_DAY_FIRST_BATCH + PROGRAMS_PAID.index(program):02d}"

"""A made-up county's contract files, with planted irregularities and their ground truth.

Why: ``aidledger demo`` needs a county to show, and every test and benchmark needs data
whose correct findings are known in advance. ``generate_county`` writes the contract input
files (docs/formats.md) of one county, the way a county office would hand them over
(Chinese headers, a GBK bank file, spreadsheets, a little mess), plants at least one true
case of every finding code and at least one legitimate look-alike of each, and returns the
truth: the exact (code, subject_id) pairs a correct reconcile reports at ``as_of``, per the
rule book ``docs/rules/``.

Everything random comes from one ``random.Random(seed)``: the same seed gives the same
bytes. The generator uses only csv and openpyxl so the demo stays light.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import random
import re
import zipfile
from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from openpyxl import Workbook

from domain.catalogue import ENUMS, columns
from domain.ids import CHECK_CHARS, check_char
from domain.money import format_fen

# ---------------------------------------------------------------- the county

COUNTY_NAME = "青溪县"
COUNTY_SHORT = "青"  # first character of the county's document numbers (青财社〔2025〕3号)
PROVINCE_SHORT = "湘"
AREA_CODE = "430524"  # where almost everybody was born
OTHER_AREA_CODES = ("430521", "430525", "430503", "431102")  # born elsewhere in Hunan
BORN_ELSEWHERE_SHARE = 0.05

TOWNSHIPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("青溪镇", ("城东社区", "城西社区", "河街社区", "青龙村", "白石村")),
    ("白马镇", ("白马村", "枫林村", "高桥村", "新塘村", "杉木村")),
    ("石门乡", ("石门村", "岩口村", "茶园村", "竹山村", "水井村")),
    ("龙潭镇", ("龙潭村", "金塘村", "大坪村", "田心村", "荷叶村", "长冲村")),
    ("金竹乡", ("金竹村", "桐木村", "双江村", "梅子村")),
    ("东山街道", ("东山社区", "桃花社区", "文昌社区", "塔山村", "柳树村")),
)
TOWNSHIP_WEIGHTS = (24, 18, 14, 18, 10, 16)

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶"
    "程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛段雷侯龙史陶黎贺"
    "顾毛郝龚邵万覃武戴莫孔向汤伍阳"
)
COMMON_SURNAMES = "王李张刘陈杨"  # drawn twice as often, as in any Hunan roster
COMPOUND_SURNAMES = ("欧阳", "司马", "上官", "诸葛")
COMPOUND_SURNAME_SHARE = 0.01
ONE_CHARACTER_GIVEN_NAME_SHARE = 0.3
GIVEN_CHARACTERS = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华红建国文辉玉梅志林海燕春生金凤德荣宏"
    "波斌云飞鹏俊峰新成永福贵珍翠香清秋菊莲松柏桃顺利满仁义"
)

ACCOUNT_PREFIXES = ("6217", "6228", "6222")
ACCOUNT_BODY_DIGITS = 14  # prefix 4 + body 14 + Luhn digit 1 = 19 digits

# ---------------------------------------------------------------- programs and money

PROGRAMS_PAID = ("dibao", "tekun", "disability", "orphan", "elderly")
PROGRAM_WEIGHTS = (72, 10, 7, 3, 8)
BATCH_PREFIX = {"dibao": "DB", "tekun": "TK", "disability": "CJ", "orphan": "GE", "elderly": "GL"}
STANDARD_YEAR = 2025
STANDARD_FEN = {"dibao": 38500, "tekun": 50100, "disability": 9000, "orphan": 130000,
                "elderly": 10000}  # per person per month in STANDARD_YEAR
STANDARD_RAISE_FEN = {"dibao": 2000, "tekun": 2600, "disability": 500, "orphan": 5000,
                      "elderly": 0}  # yearly raise, to give earlier years their own standard
DIBAO_FLOOR_FEN = 24200  # the least a dibao person is paid (seed: 242 yuan)
DIBAO_WITH_DISABILITY_SHARE = 0.12
MEMBER_WEIGHTS = {"dibao": (20, 25, 25, 18, 8, 4), "tekun": (90, 10),
                  "disability": (30, 30, 25, 15), "orphan": (70, 30), "elderly": (60, 40)}
HEAD_AGE = {"dibao": (25, 85), "tekun": (60, 92), "disability": (20, 70), "orphan": (55, 78),
            "elderly": (80, 96)}
DISCLOSURE_EXEMPT_SHARE = 0.03
LATE_START_SHARE = 0.04
NATURAL_EXIT_SHARE = 0.03

VALUE_DAY_FIRST_BATCH = 10  # the bank credits the first batch of a month on day 10 + program
VALUE_DAY_SUPPLEMENT = 26  # supplementary batches (补发) go out late in the month
AS_OF_DAYS_AFTER_LAST_PERIOD = 15
ALLOCATION_MARGIN = Decimal("1.15")
BUDGET_MARGIN = Decimal("1.20")
BUDGET_SOURCES = (("中央", Decimal("0.55"), "财社"), ("省级", Decimal("0.30"), PROVINCE_SHORT + "财社"),
                  ("县级", None, COUNTY_SHORT + "财社"))

# ---------------------------------------------------------------- rule-book numbers the truth needs

SHARED_ACCOUNT_MIN_HOUSEHOLDS = 3  # E06
HOLDING_MIN_FEN = 3_000_000  # E08
SETTLE_WITHIN_DAYS = 30  # R01
TOWNSHIP_LIMIT_FEN = 100_000  # R02, R03
COUNTY_LIMIT_FEN = 2_000_000  # R02
SPLIT_WINDOW_DAYS = 30  # R03
ASSET_OWNER_DAYS = 90  # A01
INCOME_IDLE_DAYS = 180  # A03

RESERVE_ADVANCE_FEN = 3_000_000  # enough that a township's own disbursements never overdraw
PLANTED_MONTHS_MIN = 3  # the timing cases need a first, a middle and a last month
PLANTED_HOUSEHOLDS_MIN = 100  # about sixty households carry planted cases
MONTHS_MAX = 12
FAIL_REASONS_REISSUED = ("户名不符", "账户冻结")
OTHER_DEATHS, OTHER_HOLDINGS, SMALL_HOLDINGS = 6, 20, 5
HOLDING_KINDS = (("vehicle", "小型轿车", 4_500_000, 18_000_000),
                 ("vehicle", "轻型货车", 3_500_000, 9_000_000),
                 ("business", "个体工商户", 5_000_000, 50_000_000),
                 ("property", "商品房", 25_000_000, 80_000_000))  # value range in fen
RELATIVE_AGE_GAP = {"配偶": (-5, 5), "父亲": (22, 32), "母亲": (20, 30), "子女": (-32, -22),
                    "兄弟": (-8, 8), "姐妹": (-8, 8)}  # years older than the official

PERIOD_RE = re.compile(r"\d{4}-(0[1-9]|1[0-2])")
FULL_WIDTH_DIGITS = str.maketrans("0123456789", "０１２３４５６７８９")


@dataclass
class Planted:
    code: str
    subject_id: str
    note: str  # what was planted and why


@dataclass
class CountyTruth:
    directory: Path
    findings: list[Planted]  # every (code, subject_id) a correct reconcile must report
    lookalikes: list[Planted]  # cases that must NOT be reported (code they imitate)
    as_of: str  # the reconcile date the truth is valid for, 'YYYY-MM-DD'
    year: int
    households: int
    payroll_lines: int

    def expected_pairs(self) -> set[tuple[str, str]]:
        return {(p.code, p.subject_id) for p in self.findings}


# ---------------------------------------------------------------- identity numbers and accounts


def id_number(area: str, born: dt.date, sequence: int) -> str:
    """A GB 11643 number: area, birth date, 3-digit sequence, check character."""
    first17 = f"{area}{born:%Y%m%d}{sequence:03d}"
    return first17 + check_char(first17)


LUHN_DOUBLED = (0, 2, 4, 6, 8, 1, 3, 5, 7, 9)  # digit × 2 with its digits summed


def luhn_check_digit(body: str) -> str:
    """The digit that makes ``body + digit`` pass the Luhn check (bank card numbers):
    counting from the right of the body, every other digit starting with the last is
    doubled."""
    reversed_digits = [int(d) for d in reversed(body)]
    total = sum(LUHN_DOUBLED[d] for d in reversed_digits[0::2]) + sum(reversed_digits[1::2])
    return str(-total % 10)


def account_number(prefix: str, body_value: int) -> str:
    body = prefix + f"{body_value:0{ACCOUNT_BODY_DIGITS}d}"
    return body + luhn_check_digit(body)


def spaced(account: str) -> str:
    """'6217 0012 …': how an account is often typed into a spreadsheet."""
    return " ".join(account[i:i + 4] for i in range(0, len(account), 4))


def _iso(day: dt.date) -> str:
    return day.isoformat()


def _period(year: int, month: int) -> str:
    return f"{year:04d}-{month:02d}"


def _period_start(period: str) -> dt.date:
    return dt.date(int(period[:4]), int(period[5:7]), 1)


def _period_end(period: str) -> dt.date:
    start = _period_start(period)
    next_month = (start.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return next_month - dt.timedelta(days=1)


def _shift_period(period: str, months: int) -> str:
    index = int(period[:4]) * 12 + int(period[5:7]) - 1 + months
    return _period(index // 12, index % 12 + 1)


def standard_fen(program: str, year: int) -> int:
    return STANDARD_FEN[program] + STANDARD_RAISE_FEN[program] * (year - STANDARD_YEAR)


def _name(rng: random.Random, surname: str | None = None) -> str:
    """A Chinese name: common surname (now and then a compound one) and 1–2 characters."""
    given_length = 1 if rng.random() < ONE_CHARACTER_GIVEN_NAME_SHARE else 2
    if surname is None:
        if rng.random() < COMPOUND_SURNAME_SHARE:
            surname, given_length = rng.choice(COMPOUND_SURNAMES), 2
        else:
            surname = rng.choice(SURNAMES + COMMON_SURNAMES)
    return surname + "".join(rng.choice(GIVEN_CHARACTERS) for _ in range(given_length))


def _monthly_fen(rng: random.Random, program: str, members: int, year: int) -> int:
    """A household's monthly benefit, never above the standard × members (E03)."""
    standard = standard_fen(program, year)
    if program == "dibao":  # (standard − per-capita income) × members, at least the floor
        per_person = rng.randint(DIBAO_FLOOR_FEN // 100, standard // 100) * 100
        if rng.random() < 0.1:
            per_person = min(per_person + 50, standard)
        return per_person * members
    if program == "tekun":
        return standard * members if rng.random() < 0.9 else (standard - 4100) * members
    if program in ("disability", "elderly"):  # one or two members qualify
        return standard * min(members, rng.choice((1, 1, 1, 2)))
    return standard * members  # orphan: every child is paid the standard


# ---------------------------------------------------------------- the model


@dataclass
class _Person:
    name: str
    id_number: str


@dataclass
class _Household:
    household_id: str
    township: str
    village: str
    head: _Person
    head_id_text: str  # how the head's number is written (a legacy or lower-case 'x' form)
    members: int
    bank_account: str
    account_holder: str
    exempt: bool


@dataclass
class _Enrolment:
    household_id: str
    program: str
    monthly_fen: int
    start: str
    exit: str = ""
    gradual_until: str = ""

    def active(self, period: str) -> bool:
        """The rule book's active span: start ≤ p < exit, extended to gradual_until."""
        if period < self.start:
            return False
        return not self.exit or period < self.exit or (
            bool(self.gradual_until) and period <= self.gradual_until)


@dataclass
class _Bank:
    batch_id: str
    line_no: int
    holder: str
    account: str
    amount_fen: int
    value_date: str
    status: str = "success"
    reason: str = ""
    amount_text: str | None = None  # a planted way of writing the amount
    account_text: str | None = None


@dataclass
class _Line:
    batch_id: str
    line_no: int
    program: str
    period: str
    township: str
    household_id: str
    payee_name: str
    payee_id: str
    account: str
    amount_fen: int
    bank: _Bank | None

    @property
    def subject(self) -> str:
        return f"{self.batch_id}:{self.line_no}"


@dataclass
class _Reserve:
    record_type: str
    record_id: str
    township: str
    amount_fen: int
    date: str
    household_id: str = ""
    level: str = ""
    approver: str = ""
    recorder: str = ""
    reference: str = ""
    document: str = ""


@dataclass
class _Asset:
    asset_id: str
    name: str
    asset_class: str
    township: str
    village: str
    value_fen: int
    funding_source: str
    project: str
    rights_holder: str
    custodian: str
    registered_on: str


@dataclass
class _AssetEvent:
    event_id: str
    asset_id: str
    event_type: str
    date: str
    amount_fen: int | None = None
    counterparty: str = ""
    purpose: str = ""
    approval_document: str = ""
    note: str = ""


@dataclass
class _Staff:
    """Who approves and who records reserve payments in one township."""

    approver: _Person
    recorder: _Person
    head: _Person


# ---------------------------------------------------------------- the generator


class _County:
    """Builds the county in memory; ``_write_county`` turns it into files."""

    def __init__(self, rng: random.Random, *, year: int, months: int,
                 unpaid: frozenset[tuple[str, str]] = frozenset()) -> None:
        self.rng = rng
        self.year = year
        self.periods = [_period(year, m) for m in range(1, months + 1)]
        self.unpaid = unpaid  # (program, period) the county did not pay at all
        self.as_of = _period_end(self.periods[-1]) + dt.timedelta(days=AS_OF_DAYS_AFTER_LAST_PERIOD)
        self.households: list[_Household] = []
        self.by_id: dict[str, _Household] = {}
        self.enrolments: list[_Enrolment] = []
        self.lines: list[_Line] = []
        self.unmatched_bank: list[_Bank] = []
        self.batches: dict[str, list[_Line]] = defaultdict(list)
        self.allocations: list[dict] = []
        self.budgets: list[dict] = []
        self.standards: list[dict] = []
        self.reserve: list[_Reserve] = []
        self.assets: list[_Asset] = []
        self.asset_events: list[_AssetEvent] = []
        self.deaths: list[dict] = []
        self.officials: list[dict] = []
        self.holdings: list[dict] = []
        self.staff: dict[str, _Staff] = {}
        self.county_approver = self.county_clerk = _Person("", "")
        self.findings: list[Planted] = []
        self.lookalikes: list[Planted] = []
        self.used: set[str] = set()  # households already carrying a planted case
        self.pay_despite_exit: set[str] = set()
        self.id_numbers: set[str] = set()
        self.accounts: set[str] = set()
        self.counters: dict[str, int] = defaultdict(int)

    # ------------------------------------------------------------ small helpers

    def next_id(self, prefix: str, width: int) -> str:
        self.counters[prefix] += 1
        return f"{prefix}{self.counters[prefix]:0{width}d}"

    def found(self, code: str, subject: str, note: str) -> None:
        self.findings.append(Planted(code, subject, note))

    def alike(self, code: str, subject: str, note: str) -> None:
        self.lookalikes.append(Planted(code, subject, note))

    def day(self, month: int, day: int) -> dt.date:
        return dt.date(self.year, month, day)

    def before_as_of(self, days: int) -> dt.date:
        return self.as_of - dt.timedelta(days=days)

    def name(self, surname: str | None = None) -> str:
        return _name(self.rng, surname)

    def person(self, age_min: int, age_max: int, surname: str | None = None) -> _Person:
        rng = self.rng
        while True:
            born = dt.date(self.year - rng.randint(age_min, age_max), 1, 1) + dt.timedelta(
                days=rng.randint(0, 364))
            elsewhere = rng.random() < BORN_ELSEWHERE_SHARE
            area = rng.choice(OTHER_AREA_CODES) if elsewhere else AREA_CODE
            number = id_number(area, born, rng.randint(1, 999))
            if number not in self.id_numbers:
                self.id_numbers.add(number)
                return _Person(self.name(surname), number)

    def account(self) -> str:
        while True:
            number = account_number(self.rng.choice(ACCOUNT_PREFIXES),
                                    self.rng.randrange(10 ** ACCOUNT_BODY_DIGITS))
            if number not in self.accounts:
                self.accounts.add(number)
                return number

    def township_names(self) -> list[str]:
        return [name for name, _ in TOWNSHIPS]

    def villages(self, township: str) -> tuple[str, ...]:
        return dict(TOWNSHIPS)[township]

    # ------------------------------------------------------------ households and enrolments

    def new_household(self, program: str, township: str | None = None,
                      head: _Person | None = None) -> _Household:
        rng = self.rng
        township = township or rng.choices(self.township_names(), TOWNSHIP_WEIGHTS)[0]
        head = head or self.person(*HEAD_AGE[program])
        weights = MEMBER_WEIGHTS[program]
        members = rng.choices(range(1, len(weights) + 1), weights)[0]
        household = _Household(
            household_id=self.next_id("QX", 6), township=township,
            village=rng.choice(self.villages(township)), head=head, head_id_text=head.id_number,
            members=members, bank_account=self.account(), account_holder=head.name,
            exempt=rng.random() < DISCLOSURE_EXEMPT_SHARE)
        self.households.append(household)
        self.by_id[household.household_id] = household
        return household

    def monthly_fen(self, program: str, members: int) -> int:
        return _monthly_fen(self.rng, program, members, self.year)

    def enrol(self, household: _Household, program: str, start: str, exit_: str = "",
              gradual_until: str = "", monthly_fen: int | None = None) -> _Enrolment:
        if monthly_fen is None:
            monthly_fen = self.monthly_fen(program, household.members)
        enrolment = _Enrolment(household.household_id, program, monthly_fen, start, exit_,
                               gradual_until)
        self.enrolments.append(enrolment)
        return enrolment

    def enrolment(self, household: _Household, program: str) -> _Enrolment:
        return next(e for e in self.enrolments
                    if e.household_id == household.household_id and e.program == program)

    def earlier_start(self) -> str:
        """A start period 1 to 60 months before the first generated month."""
        return _shift_period(self.periods[0], -self.rng.randint(1, 60))

    def make_households(self, count: int) -> None:
        rng = self.rng
        for _ in range(count):
            program = rng.choices(PROGRAMS_PAID, PROGRAM_WEIGHTS)[0]
            household = self.new_household(program)
            enrolment = self.enrol(household, program, self.earlier_start())
            if program == "dibao" and rng.random() < DIBAO_WITH_DISABILITY_SHARE:
                self.enrol(household, "disability", self.earlier_start())
                self.used.add(household.household_id)
            self.add_noise(household, enrolment)

    def add_noise(self, household: _Household, enrolment: _Enrolment) -> None:
        """New enrolments and ordinary exits inside the months: legitimate, not findings."""
        rng, periods = self.rng, self.periods
        if len(periods) > 1 and rng.random() < LATE_START_SHARE:
            enrolment.start = rng.choice(periods[1:])
        elif rng.random() < NATURAL_EXIT_SHARE:
            enrolment.exit = periods[-1]
        else:
            return
        self.used.add(household.household_id)

    def fresh(self, program: str = "dibao", township: str | None = None,
              members: tuple[int, ...] | None = None, whole_yuan: bool = False) -> _Household:
        """An ordinary household (one program, enrolled before the first month, no exit)
        not yet carrying a planted case; it is marked as used."""
        household = self.rng.choice(self.candidates(program, township, members, whole_yuan))
        self.used.add(household.household_id)
        return household

    def roomiest_township(self) -> str:
        """The township with the most ordinary dibao households left."""
        return max(self.township_names(), key=lambda t: len(self.candidates(township=t)))

    def candidates(self, program: str = "dibao", township: str | None = None,
                   members: tuple[int, ...] | None = None,
                   whole_yuan: bool = False) -> list[_Household]:
        programs: dict[str, list[_Enrolment]] = defaultdict(list)
        for enrolment in self.enrolments:
            programs[enrolment.household_id].append(enrolment)
        candidates = []
        for household in self.households:
            enrolments = programs[household.household_id]
            if (household.household_id in self.used or len(enrolments) != 1
                    or enrolments[0].program != program or enrolments[0].exit
                    or enrolments[0].start > self.periods[0]
                    or (township and household.township != township)
                    or (members and household.members not in members)
                    or (whole_yuan and enrolments[0].monthly_fen % 100)):
                continue
            candidates.append(household)
        return candidates

    # ------------------------------------------------------------ payroll and bank

    def value_date(self, period: str, program: str, batch_no: int) -> str:
        day = (VALUE_DAY_FIRST_BATCH + PROGRAMS_PAID.index(program) if batch_no == 1
               else VALUE_DAY_SUPPLEMENT)
        return _iso(_period_start(period).replace(day=day))

    def pay(self, household: _Household, program: str, period: str, amount_fen: int,
            batch_no: int = 1) -> _Line:
        batch_id = f"{BATCH_PREFIX[program]}{period.replace('-', '')}-{batch_no:02d}"
        line_no = len(self.batches[batch_id]) + 1
        bank = _Bank(batch_id, line_no, household.account_holder, household.bank_account,
                     amount_fen, self.value_date(period, program, batch_no))
        line = _Line(batch_id, line_no, program, period, household.township,
                     household.household_id, household.head.name, household.head_id_text,
                     household.bank_account, amount_fen, bank)
        self.batches[batch_id].append(line)
        self.lines.append(line)
        return line

    def make_payroll(self) -> None:
        order = {name: i for i, name in enumerate(self.township_names())}
        enrolments = sorted(self.enrolments, key=lambda e: (
            order[self.by_id[e.household_id].township], e.household_id))
        for period in self.periods:
            for program in PROGRAMS_PAID:
                if (program, period) in self.unpaid:
                    continue
                for enrolment in enrolments:
                    if enrolment.program == program and self.payable(enrolment, period):
                        household = self.by_id[enrolment.household_id]
                        self.pay(household, program, period, enrolment.monthly_fen)

    def payable(self, enrolment: _Enrolment, period: str) -> bool:
        if enrolment.active(period):
            return True
        return enrolment.household_id in self.pay_despite_exit and period >= enrolment.start

    def line_of(self, household: _Household, period: str, program: str = "dibao") -> _Line:
        batch_id = f"{BATCH_PREFIX[program]}{period.replace('-', '')}-01"
        return next(line for line in self.batches[batch_id]
                    if line.household_id == household.household_id)

    def fail_and_reissue(self, period: str, reason: str) -> None:
        """A failure the finance office fixed: the look-alike of P06, P05 and P01."""
        household = self.fresh()
        line = self.line_of(household, period)
        assert line.bank is not None
        line.bank.status, line.bank.reason = "failed", reason
        self.pay(household, "dibao", period, line.amount_fen, batch_no=2)
        note = f"failed ({reason}) and reissued in batch {period}-02 the same month"
        self.alike("P06", line.subject, note)
        self.alike("P01", line.subject, "its bank line failed: P06's business, not P01's")
        self.alike("P05", household.household_id, "a failed line and its reissue: paid once")

    # ------------------------------------------------------------ allocations and budgets

    def spending(self) -> dict[tuple[str, str], int]:
        """Successful payments per (township, program): what B01 compares."""
        totals: dict[tuple[str, str], int] = defaultdict(int)
        for line in self.lines:
            bank = line.bank
            if bank and bank.status == "success":
                totals[(line.township, line.program)] += bank.amount_fen
        return totals

    def allocate(self, township: str, program: str, amount_fen: int, day: dt.date) -> None:
        number = self.next_id("BF", 3)
        self.allocations.append({
            "allocation_id": f"{self.year}{number}", "program": program, "township": township,
            "amount_fen": amount_fen, "date": day,
            "document_no": f"{COUNTY_SHORT}民发〔{day.year}〕{self.counters['BF'] // 6 + 2}号"})

    def allocate_with_margin(self, township: str, program: str, spent_fen: int) -> None:
        total_fen = -(-int(spent_fen * ALLOCATION_MARGIN) // 100_000) * 100_000
        first_fen = total_fen * 6 // 10 // 100_000 * 100_000
        self.allocate(township, program, first_fen, self.day(1, 8))
        self.allocate(township, program, total_fen - first_fen, self.day(2, 10))

    def make_allocations(self, plant: bool) -> None:
        spending = self.spending()
        pairs = sorted(spending)
        over = exact = None
        if plant:
            over = max((p for p in pairs if p[1] == "dibao"), key=lambda p: spending[p])
            exact = max((p for p in pairs if p[1] == "tekun"), key=lambda p: spending[p])
        for pair in pairs:
            if pair == over:
                self.plant_b01(pair, spending[pair])
            elif pair == exact:
                self.allocate(*pair, spending[pair], self.day(1, 8))
                self.alike("B01", "|".join(pair), "allocations exactly equal to the spending")
            else:
                self.allocate_with_margin(*pair, spending[pair])
        self.make_budgets()

    def plant_b01(self, pair: tuple[str, str], spent_fen: int) -> None:
        allocated_fen = (spent_fen - 500_000) // 100_000 * 100_000  # 5000–6000 yuan short
        short_fen = spent_fen - allocated_fen
        first_fen = allocated_fen * 6 // 10 // 100_000 * 100_000
        self.allocate(*pair, first_fen, self.day(1, 8))
        self.allocate(*pair, allocated_fen - first_fen, self.day(2, 10))
        self.found("B01", "|".join(pair), f"paid {format_fen(spent_fen)}, allocated "
                   f"{format_fen(spent_fen - short_fen)} for the year")

    def make_budgets(self) -> None:
        totals: dict[str, int] = defaultdict(int)
        for allocation in self.allocations:
            totals[allocation["program"]] += allocation["amount_fen"]
        for program in sorted(totals):
            budget_fen = -(-int(totals[program] * BUDGET_MARGIN) // 1_000_000) * 1_000_000
            left_fen = budget_fen
            for source, share, issuer in BUDGET_SOURCES:
                part_fen = left_fen if share is None else int(budget_fen * share) // 100 * 100
                left_fen -= part_fen
                self.budgets.append({
                    "program": program, "year": self.year, "amount_fen": part_fen,
                    "source": source,
                    "document_no": f"{issuer}〔{self.year - 1}〕{self.rng.randint(5, 180)}号"})

    def make_standards(self) -> None:
        for year in (self.year - 1, self.year):
            for program in PROGRAMS_PAID:
                self.standards.append({"program": program, "year": year,
                                       "amount_fen": standard_fen(program, year),
                                       "unit": "per_person"})

    # ------------------------------------------------------------ officials

    def make_officials(self) -> None:
        self.county_approver = self.official("县民政局副局长", "")
        self.county_clerk = self.official("县民政局规划财务股会计", "")
        self.official("县民政局局长", "")
        for township, villages in TOWNSHIPS:
            head_title = "街道办事处主任" if township.endswith("街道") else "乡镇长"
            self.staff[township] = _Staff(
                approver=self.official("分管民政副乡镇长", township),
                recorder=self.official("民政办经办人", township),
                head=self.official(head_title, township))
            for village in self.rng.sample(villages, 2):
                self.official(f"{village}党支部书记", township)

    def official(self, position: str, township: str) -> _Person:
        age = self.rng.randint(30, 58)
        person = self.person(age, age)
        self.add_official_row(person, position, township, person, "本人")
        for relation in self.rng.sample(sorted(RELATIVE_AGE_GAP), self.rng.randint(0, 2)):
            low, high = RELATIVE_AGE_GAP[relation]
            relative = self.person(max(age + low, 1), age + high,
                                   surname=None if relation in ("配偶", "母亲") else person.name[0])
            self.add_official_row(person, position, township, relative, relation)
        return person

    def add_official_row(self, official: _Person, position: str, township: str,
                         relative: _Person, relation: str) -> None:
        self.officials.append({
            "official_id_number": official.id_number, "official_name": official.name,
            "position": position, "township": township,
            "relative_id_number": relative.id_number, "relative_name": relative.name,
            "relation": relation})

    def position_of(self, official: _Person) -> tuple[str, str]:
        row = next(r for r in self.officials if r["official_id_number"] == official.id_number)
        return row["position"], row["township"]

    # ------------------------------------------------------------ reference lists (noise)

    def make_reference_noise(self) -> None:
        """Deaths and holdings of people who receive nothing, and small holdings of a few
        recipients: what the other departments' lists mostly hold."""
        rng = self.rng
        for _ in range(OTHER_DEATHS):
            person = self.person(70, 95)
            self.deaths.append({"id_number": person.id_number, "name": person.name,
                                "date_of_death": self.day(rng.randint(1, 3), rng.randint(1, 28))})
        for _ in range(OTHER_HOLDINGS):
            kind, description, low_fen, high_fen = rng.choice(HOLDING_KINDS)
            self.hold(self.person(25, 65).id_number, kind, description,
                      rng.randint(low_fen, high_fen) // 100 * 100, self.past_day(8))
        ordinary = [h for h in self.households if h.household_id not in self.used]
        for household in rng.sample(ordinary, SMALL_HOLDINGS):
            self.hold(household.head_id_text, "vehicle", rng.choice(("电动三轮车", "二手摩托车")),
                      rng.randint(150_000, 800_000), self.past_day(5))

    def past_day(self, years_max: int) -> dt.date:
        return dt.date(self.year - self.rng.randint(1, years_max), self.rng.randint(1, 12),
                       self.rng.randint(1, 28))

    def hold(self, id_text: str, kind: str, description: str, value_fen: int, day: dt.date) -> None:
        self.holdings.append({"id_number": id_text, "kind": kind, "description": description,
                              "value_fen": value_fen, "registered_on": day})


# ---------------------------------------------------------------- planted: people and eligibility


def _plant_people_cases(c: _County) -> None:
    """Cases that live in the registers (enrolments, deaths, officials, holdings, IDs);
    they are planted before the payroll is drawn up, so the payroll follows them."""
    for plant in (_plant_e01, _plant_e02, _plant_e03_standard, _plant_e04, _plant_e05,
                  _plant_e06, _plant_e07, _plant_e08, _plant_two_programs):
        plant(c)


def _plant_e01(c: _County) -> None:
    p0, last = c.periods[0], c.periods[-1]
    dead = c.fresh()
    died = _period_start(p0).replace(day=20)
    c.deaths.append({"id_number": dead.head.id_number, "name": dead.head.name,
                     "date_of_death": died})
    c.found("E01", dead.household_id, f"head died {died}, paid for every later month to {last}")
    month_of_death = c.fresh()
    died = _period_start(last).replace(day=10)
    c.deaths.append({"id_number": month_of_death.head.id_number, "name": month_of_death.head.name,
                     "date_of_death": died})
    c.alike("E01", month_of_death.household_id, f"head died {died}: paid only up to that month")


def _plant_e02(c: _County) -> None:
    p0, p1 = c.periods[0], c.periods[1]
    first = c.fresh()
    elsewhere = _other_township(c, first.township)
    second = c.new_household("dibao", township=elsewhere, head=first.head)
    c.enrol(second, "dibao", _shift_period(p0, -10))
    c.used.add(second.household_id)
    note = f"head {first.head.name} is also head of a dibao household in {elsewhere}"
    c.found("E02", first.household_id, note)
    c.found("E02", second.household_id, note)
    both = c.fresh(members=(1,))
    c.enrol(both, "tekun", _shift_period(p0, -4))
    c.found("E02", both.household_id, "enrolled in dibao and tekun at the same time")
    moved = c.fresh()
    c.enrolment(moved, "dibao").start = p0
    old = c.new_household("dibao", township=_other_township(c, moved.township), head=moved.head)
    c.enrol(old, "dibao", _shift_period(p0, -34), exit_=p0)
    c.used.add(old.household_id)
    for household in (moved, old):
        c.alike("E02", household.household_id, f"moved township: old household exits {p0}, "
                "the new one starts that month (no overlap)")
    switched = c.fresh(members=(1, 2))
    c.enrolment(switched, "dibao").exit = p1
    c.enrol(switched, "tekun", p1)
    c.alike("E02", switched.household_id, f"dibao exits {p1}, the month tekun starts")


def _other_township(c: _County, township: str) -> str:
    return c.rng.choice([t for t in c.township_names() if t != township])


def _plant_two_programs(c: _County) -> None:
    both = c.fresh()
    c.enrol(both, "disability", _shift_period(c.periods[0], -7))
    c.alike("P05", both.household_id, "dibao and disability paid for the same month")


def _plant_e03_standard(c: _County) -> None:
    exact = c.fresh(members=(3,))
    c.enrolment(exact, "dibao").monthly_fen = standard_fen("dibao", c.year) * exact.members
    c.alike("E03", exact.household_id, "paid exactly the standard × 3 members")


def _plant_e04(c: _County) -> None:
    p1, last = c.periods[1], c.periods[-1]
    for gradual_until in ("", p1):
        late = c.fresh()
        enrolment = c.enrolment(late, "dibao")
        enrolment.exit, enrolment.gradual_until = p1, gradual_until
        c.pay_despite_exit.add(late.household_id)
        until = f", gradual exit until {gradual_until}" if gradual_until else ""
        c.found("E04", late.household_id, f"exit {p1}{until}; still paid up to {last}")
    gradual = c.fresh()
    enrolment = c.enrolment(gradual, "dibao")
    enrolment.exit, enrolment.gradual_until = p1, last
    c.alike("E04", gradual.household_id, f"gradual exit from {p1} payable through {last}")


def _plant_e05(c: _County) -> None:
    relative = c.fresh()
    staff = c.staff[relative.township]
    position, township = c.position_of(staff.recorder)
    c.add_official_row(staff.recorder, position, township, relative.head, "兄弟")
    c.found("E05", relative.household_id,
            f"head is the brother of {position} {staff.recorder.name}")
    himself = c.fresh()
    c.add_official_row(himself.head, "村民委员会委员", himself.township, himself.head, "本人")
    c.found("E05", himself.household_id, "head is himself a village committee member")
    near = c.fresh()
    first17 = near.head.id_number[:14] + str((int(near.head.id_number[14]) + 1) % 10) \
        + near.head.id_number[15:17]
    staff = c.staff[near.township]
    position, township = c.position_of(staff.head)
    c.add_official_row(staff.head, position, township,
                       _Person(c.name(near.head.name[0]), first17 + check_char(first17)), "兄弟")
    c.alike("E05", near.household_id, "an official's relative's ID differs in one sequence digit")


def _plant_e06(c: _County) -> None:
    seat = c.roomiest_township()  # five households of one township are needed
    owner = c.fresh(township=seat)
    sharing = [owner, c.fresh(township=owner.township), c.fresh(township=owner.township)]
    for household in sharing[1:]:
        household.bank_account, household.account_holder = owner.bank_account, owner.account_holder
    c.found("E06", owner.bank_account, f"{SHARED_ACCOUNT_MIN_HOUSEHOLDS} households paid into "
            f"{owner.account_holder}'s account")
    parent = c.fresh(township=seat)
    child = c.fresh(township=seat)
    child.bank_account, child.account_holder = parent.bank_account, parent.account_holder
    c.alike("E06", parent.bank_account, "two households (parent and son) on one account")


def _plant_e07(c: _County) -> None:
    wrong_check = c.fresh()
    number = wrong_check.head.id_number
    wrong = CHECK_CHARS[(CHECK_CHARS.index(number[17]) + 3) % len(CHECK_CHARS)]
    _set_head_id(wrong_check, number[:17] + wrong)
    c.found("E07", wrong_check.household_id, "head ID check character is wrong")
    no_such_day = c.fresh()
    first17 = no_such_day.head.id_number[:10] + "0230" + no_such_day.head.id_number[14:17]
    _set_head_id(no_such_day, first17 + check_char(first17))
    c.found("E07", no_such_day.household_id, "head ID holds the birth date February 30")
    lower_x = c.fresh()
    while not lower_x.head.id_number.endswith("X"):
        lower_x.head = c.person(*HEAD_AGE["dibao"])
    lower_x.account_holder = lower_x.head.name
    lower_x.head_id_text = lower_x.head.id_number[:17] + "x"
    c.alike("E07", lower_x.household_id, "valid ID written with a lower-case x")
    legacy = c.fresh()
    while legacy.head.id_number[6:8] != "19":
        legacy.head = c.person(*HEAD_AGE["dibao"])
    legacy.account_holder = legacy.head.name
    legacy.head_id_text = legacy.head.id_number[:6] + legacy.head.id_number[8:17]
    c.alike("E07", legacy.household_id, "valid 15-digit legacy ID number")


def _set_head_id(household: _Household, number: str) -> None:
    household.head = _Person(household.head.name, number)
    household.head_id_text = number


def _plant_e08(c: _County) -> None:
    p0, last = c.periods[0], c.periods[-1]
    car = c.fresh()
    c.hold(car.head_id_text, "vehicle", "小型轿车 湘E·5K2**", 8_500_000, dt.date(c.year - 1, 6, 12))
    c.found("E08", car.household_id, "head registered a car worth 85000.00 before being paid")
    shop = c.fresh()
    c.hold(shop.head_id_text, "business", "个体工商户(农资店)", HOLDING_MIN_FEN,
           _period_start(p0).replace(day=15))
    c.found("E08", shop.household_id, f"business worth exactly 30000.00 registered in {p0}")
    small = c.fresh()
    c.hold(small.head_id_text, "vehicle", "二手轿车", HOLDING_MIN_FEN - 1, dt.date(c.year - 2, 3, 3))
    c.alike("E08", small.household_id, "car worth 29999.99, below the threshold")
    later = c.fresh()
    c.hold(later.head_id_text, "property", "商品房", 12_000_000,
           _period_end(last) + dt.timedelta(days=5))
    c.alike("E08", later.household_id, f"property registered after the last paid period {last}")


# ---------------------------------------------------------------- planted: payroll and bank


def _plant_line_cases(c: _County) -> None:
    for plant in (_plant_p01_p02, _plant_p03, _plant_p04, _plant_p05_p06, _plant_e03_excess):
        plant(c)


def _extra_bank_line(c: _County, period: str, status: str, reason: str) -> _Bank:
    """A bank line whose batch:line is in no payroll (the batch's next line number)."""
    batch_id = f"DB{period.replace('-', '')}-01"
    holder = c.person(30, 60)
    bank = _Bank(batch_id, len(c.batches[batch_id]) + 1, holder.name, c.account(), 77_000,
                 c.value_date(period, "dibao", 1), status, reason)
    c.unmatched_bank.append(bank)
    return bank


def _plant_p01_p02(c: _County) -> None:
    p1, last = c.periods[1], c.periods[-1]
    missing = c.line_of(c.fresh(), last)
    missing.bank = None
    c.found("P01", missing.subject, "payroll line with no bank-return line")
    extra = _extra_bank_line(c, p1, "success", "")
    c.found("P02", f"{extra.batch_id}:{extra.line_no}", "bank paid a line the payroll never had")
    refused = _extra_bank_line(c, last, "failed", "账号不存在")
    c.alike("P02", f"{refused.batch_id}:{refused.line_no}", "unmatched bank line that failed")


def _plant_p03(c: _County) -> None:
    p1 = c.periods[1]
    short = c.line_of(c.fresh(), p1)
    assert short.bank is not None
    short.bank.amount_fen -= 10_000
    c.found("P03", short.subject, "bank paid 100.00 less than the payroll line")
    written = c.line_of(c.fresh(whole_yuan=True), p1)
    assert written.bank is not None
    written.bank.amount_text = str(written.amount_fen // 100)
    c.alike("P03", written.subject, f"bank wrote {written.amount_fen // 100}, payroll "
            f"{format_fen(written.amount_fen)}: the same amount")


def _plant_p04(c: _County) -> None:
    p0, p1, last = c.periods[0], c.periods[1], c.periods[-1]
    diverted = c.line_of(c.fresh(), p1)
    cadre = c.person(35, 55)
    assert diverted.bank is not None
    diverted.bank.account, diverted.bank.holder = c.account(), cadre.name
    c.found("P04", diverted.subject, f"bank paid {cadre.name}'s account, not the payroll's")
    household = c.fresh()
    rostered = c.line_of(household, last)
    rostered.account = c.account()
    assert rostered.bank is not None
    rostered.bank.account = rostered.account
    c.found("P04", rostered.subject, "payroll account is not the household's registered account")
    renamed = c.line_of(c.fresh(), p0)
    assert renamed.bank is not None
    renamed.bank.holder = c.name()
    c.found("P04", renamed.subject,
            f"bank holder {renamed.bank.holder} is not the registered holder")
    spaced_line = c.line_of(c.fresh(), p1)
    assert spaced_line.bank is not None
    spaced_line.bank.account_text = spaced(spaced_line.bank.account)
    c.alike("P04", spaced_line.subject, "bank file writes the same account with spaces")


def _plant_p05_p06(c: _County) -> None:
    p1, last = c.periods[1], c.periods[-1]
    twice = c.fresh()
    c.pay(twice, "dibao", p1, c.line_of(twice, p1).amount_fen, batch_no=2)
    c.found("P05", twice.household_id, f"paid twice for {p1} (batches -01 and -02)")
    failed = c.line_of(c.fresh(), last)
    assert failed.bank is not None
    failed.bank.status, failed.bank.reason = "failed", "账户已销户"
    c.found("P06", failed.subject, "failed (账户已销户) and never reissued")
    c.alike("P01", failed.subject, "its bank line failed: P06's business, not P01's")


def _plant_e03_excess(c: _County) -> None:
    over = c.fresh()
    line = c.line_of(over, c.periods[1])
    line.amount_fen = standard_fen("dibao", c.year) * over.members + 3_000
    assert line.bank is not None
    line.bank.amount_fen = line.amount_fen
    c.found("E03", over.household_id, f"paid {format_fen(line.amount_fen)}, 30.00 above the "
            f"standard × {over.members} member(s)")


# ---------------------------------------------------------------- reserve fund

RESERVE_PREFIX = {"advance": "YB", "disbursement": "XJ", "settlement": "HX", "replenishment": "BZ"}
ORDINARY_DISBURSEMENTS = (5, 8)  # per township
ORDINARY_SETTLE_DAYS = (3, 25)
COUNTY_LEVEL_SHARE = 0.1
RESERVE_PLANT_HOUSEHOLDS = 8  # households of a township kept back for its planted cases


def _reserve(c: _County, record_type: str, township: str, amount_fen: int, day: dt.date,
             **fields: str) -> _Reserve:
    number = c.township_names().index(township) + 1
    record_id = c.next_id(f"{RESERVE_PREFIX[record_type]}{c.year}{number:02d}", 3)
    record = _Reserve(record_type, record_id, township, amount_fen, _iso(day), **fields)
    if record_type in ("advance", "replenishment"):
        record.approver, record.recorder = c.county_approver.name, c.county_clerk.name
        record.level = "county"
        record.document = f"{COUNTY_SHORT}民发〔{day.year}〕{c.rng.randint(10, 99)}号"
    c.reserve.append(record)
    return record


def _disburse(c: _County, township: str, household_id: str, amount_fen: int, day: dt.date, *,
              settle_days: int | None, level: str = "township", approver: str | None = None,
              recorder: str | None = None) -> _Reserve:
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


def _reserve_household(c: _County, township: str, taken: set[str]) -> str:
    """A household of the township that has had no reserve payment yet, so that no two
    payments fall to one household unless a case plants it (R03)."""
    choices = [h.household_id for h in c.households
               if h.township == township and h.household_id not in taken]
    household_id = c.rng.choice(choices)
    taken.add(household_id)
    return household_id


def _make_reserve(c: _County, plant: bool) -> None:
    names, taken = c.township_names(), set()
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


def _ordinary_disbursements(c: _County, township: str, first: dt.date, taken: set[str]) -> None:
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


def _replenish_monthly(c: _County, township: str) -> None:
    """The county tops the reserve up at each month end by what was settled that month."""
    settled: dict[str, int] = defaultdict(int)
    for record in c.reserve:
        if record.township == township and record.record_type == "settlement":
            settled[record.date[:7]] += record.amount_fen
    for month in sorted(settled):
        end = _period_end(month)
        if end <= c.as_of:
            _reserve(c, "replenishment", township, settled[month], end)


def _plant_r01(c: _County, late_township: str, timely_township: str, taken: set[str]) -> None:
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


def _plant_r02(c: _County, township: str, taken: set[str]) -> None:
    above = _disburse(c, township, _reserve_household(c, township, taken), 150_000, c.day(2, 7),
                      settle_days=8)
    c.found("R02", above.record_id, "1500.00 approved at township level (limit 1000)")
    at_limit = _disburse(c, township, _reserve_household(c, township, taken), TOWNSHIP_LIMIT_FEN,
                         c.day(2, 16), settle_days=9)
    c.alike("R02", at_limit.record_id, "exactly 1000.00 at township level")
    county = _disburse(c, township, _reserve_household(c, township, taken), 350_000, c.day(1, 21),
                       settle_days=12, level="county")
    c.alike("R02", county.record_id, "3500.00 approved at county level")


def _plant_r03(c: _County, township: str, taken: set[str]) -> None:
    household_id = _reserve_household(c, township, taken)
    for amount_fen, day in ((80_000, c.day(2, 3)), (60_000, c.day(2, 18))):
        _disburse(c, township, household_id, amount_fen, day, settle_days=10)
    c.found("R03", household_id, "800.00 and 600.00 fifteen days apart: 1400.00 in total")
    household_id = _reserve_household(c, township, taken)
    for amount_fen, day in ((80_000, c.day(1, 8)), (70_000, c.day(2, 8))):
        _disburse(c, township, household_id, amount_fen, day, settle_days=10)
    c.alike("R03", household_id, "two disbursements 31 days apart")


def _plant_r04(c: _County, township: str, taken: set[str]) -> None:
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


def _plant_d01(c: _County, township: str, taken: set[str]) -> None:
    staff = c.staff[township]
    own = _disburse(c, township, _reserve_household(c, township, taken), 45_000, c.day(2, 5),
                    settle_days=12, approver=staff.recorder.name)
    c.found("D01", own.record_id, f"{staff.recorder.name} recorded and approved it")
    other = _disburse(c, township, _reserve_household(c, township, taken), 52_000, c.day(2, 14),
                      settle_days=11)
    c.alike("D01", other.record_id, "recorded and approved by different people")


# ---------------------------------------------------------------- poverty-alleviation assets

ASSET_KINDS: dict[str, tuple[tuple[str, int, int], ...]] = {  # name, value range in fen
    "operating": (("村级光伏电站", 40_000_000, 90_000_000), ("扶贫车间", 30_000_000, 80_000_000),
                  ("茶叶加工厂", 50_000_000, 120_000_000), ("生猪养殖场", 60_000_000, 150_000_000)),
    "public_welfare": (("村道硬化", 20_000_000, 150_000_000), ("安全饮水工程", 8_000_000, 40_000_000),
                       ("便民桥", 10_000_000, 30_000_000), ("村级文化广场", 15_000_000, 35_000_000)),
    "household": (("到户产业(能繁母牛)", 800_000, 1_200_000), ("到户产业(油茶苗)", 300_000, 600_000)),
}
ASSET_CLASS_WEIGHTS = (40, 45, 15)
ASSETS_PER_TOWNSHIP = 3
FUNDING_SOURCES = ("中央衔接资金", "省级衔接资金", "县级衔接资金", "东西部协作资金")
PURPOSES_ALLOWED = (("operation_maintenance", "运行管护"), ("consolidation", "巩固脱贫成果"),
                    ("village_public_welfare", "村级公益事业"), ("household_dividend", "农户分红"))
INCOME_YIELD = Decimal("0.04")  # half-yearly income of an operating asset, share of its value


def _committee(village: str) -> str:
    return village + ("居民委员会" if village.endswith("社区") else "村民委员会")


def _new_asset(c: _County, township: str, asset_class: str, registered: dt.date, *,
               rights: bool = True, custodian: bool = True) -> _Asset:
    rng = c.rng
    village = rng.choice(c.villages(township))
    kind, low, high = rng.choice(ASSET_KINDS[asset_class])
    owner = {"operating": village + "股份经济合作社", "public_welfare": _committee(village),
             "household": c.name()}[asset_class]
    asset = _Asset(
        asset_id=c.next_id("QXZC-", 4), name=f"{village}{kind}",
        asset_class=asset_class, township=township, village=village,
        value_fen=rng.randint(low, high) // 100 * 100, funding_source=rng.choice(FUNDING_SOURCES),
        project=f"{COUNTY_NAME}{registered.year}年{village}{kind}项目",
        rights_holder=owner if rights else "",
        custodian=owner if custodian else "", registered_on=_iso(registered))
    c.assets.append(asset)
    return asset


def _asset_event(c: _County, asset: _Asset, event_type: str, day: dt.date, **fields) -> None:
    c.asset_events.append(_AssetEvent(c.next_id("SJ", 5), asset.asset_id, event_type, _iso(day),
                                      **fields))


def _distribute(c: _County, asset: _Asset, income_fen: int, day: dt.date) -> None:
    """Share an income out in full over two allowed purposes, named in English or Chinese."""
    first, second = c.rng.sample(PURPOSES_ALLOWED, 2)
    part_fen = income_fen * c.rng.randint(30, 70) // 100
    for purpose, amount_fen in ((first, part_fen), (second, income_fen - part_fen)):
        _asset_event(c, asset, "income_distributed", day, amount_fen=amount_fen,
                     counterparty=asset.village, purpose=c.rng.choice(purpose),
                     approval_document=f"{asset.village}收益分配方案〔{day.year}〕1号")


def _make_assets(c: _County, plant: bool) -> None:
    rng = c.rng
    for township in c.township_names():
        for _ in range(ASSETS_PER_TOWNSHIP):
            asset_class = rng.choices(tuple(ASSET_KINDS), ASSET_CLASS_WEIGHTS)[0]
            registered = dt.date(c.year - rng.randint(2, 6), rng.randint(1, 12), rng.randint(1, 28))
            asset = _new_asset(c, township, asset_class, registered)
            _ordinary_asset_events(c, asset, registered)
    if plant:
        for plant_asset in (_plant_a01, _plant_a02, _plant_a03, _plant_a04):
            plant_asset(c)


def _ordinary_asset_events(c: _County, asset: _Asset, registered: dt.date) -> None:
    confirmed = registered + dt.timedelta(days=c.rng.randint(20, 60))
    _asset_event(c, asset, "rights_confirmed", confirmed, counterparty=asset.rights_holder)
    _asset_event(c, asset, "custodian_assigned", confirmed, counterparty=asset.custodian)
    _asset_event(c, asset, "inspected", dt.date(c.year - 1, 11, c.rng.randint(1, 28)),
                 note="年度核查 账实相符")
    if asset.asset_class != "operating":
        return
    for income_day in (dt.date(c.year - 1, 6, 30), dt.date(c.year - 1, 12, 31)):
        income_fen = int(asset.value_fen * INCOME_YIELD) // 100 * 100
        _asset_event(c, asset, "income_recorded", income_day, amount_fen=income_fen,
                     counterparty=asset.rights_holder)
        _distribute(c, asset, income_fen, income_day + dt.timedelta(days=20))
    _asset_event(c, asset, "income_recorded", _period_end(c.periods[-1]),  # recent: not yet shared
                 amount_fen=int(asset.value_fen * INCOME_YIELD) // 200 * 100,
                 counterparty=asset.rights_holder)


def _plant_a01(c: _County) -> None:
    names = c.township_names()
    unowned = _new_asset(c, names[0], "operating", c.before_as_of(120), rights=False)
    c.found("A01", unowned.asset_id, "operating asset without rights holder for 120 days")
    late = _new_asset(c, names[1], "public_welfare", c.before_as_of(200), custodian=False)
    _asset_event(c, late, "custodian_assigned", c.as_of + dt.timedelta(days=10),
                 counterparty=_committee(late.village), note="as-of 之后才明确管护")
    c.found("A01", late.asset_id, "no custodian for 200 days; assigned only after as-of")
    fresh = _new_asset(c, names[2], "operating", c.before_as_of(ASSET_OWNER_DAYS), rights=False)
    c.alike("A01", fresh.asset_id, "registered exactly 90 days before as-of")
    confirmed = _new_asset(c, names[3], "household", c.before_as_of(300), rights=False)
    _asset_event(c, confirmed, "rights_confirmed", c.before_as_of(100),
                 counterparty=confirmed.custodian)
    c.alike("A01", confirmed.asset_id, "rights holder confirmed by a rights_confirmed event")
    assigned = _new_asset(c, names[4], "public_welfare", c.before_as_of(400), custodian=False)
    _asset_event(c, assigned, "custodian_assigned", c.before_as_of(200),
                 counterparty=_committee(assigned.village))
    c.alike("A01", assigned.asset_id, "custodian assigned by a custodian_assigned event")


def _plant_a02(c: _County) -> None:
    names = c.township_names()
    sold = _new_asset(c, names[2], "operating", c.before_as_of(900))
    _asset_event(c, sold, "disposed", c.before_as_of(40), amount_fen=1_200_000,
                 counterparty="县再生资源回收公司", note="设备整体变卖")
    c.found("A02", sold.asset_id, "disposed of without an approval document")
    moved = _new_asset(c, names[3], "public_welfare", c.before_as_of(800))
    _asset_event(c, moved, "transferred", c.before_as_of(60),
                 counterparty=_committee(moved.village),
                 approval_document=f"{COUNTY_SHORT}农农发〔{c.year}〕6号")
    c.alike("A02", moved.asset_id, "transferred with an approval document")
    pending = _new_asset(c, names[4], "operating", c.before_as_of(1000))
    _asset_event(c, pending, "disposed", c.as_of + dt.timedelta(days=20), amount_fen=300_000,
                 counterparty="县再生资源回收公司", note="拟处置 as-of 之后")
    c.alike("A02", pending.asset_id, "disposal without document dated after as-of: not yet a fact")


def _plant_a03(c: _County) -> None:
    names = c.township_names()
    idle = _new_asset(c, names[3], "operating", c.before_as_of(700))
    _asset_event(c, idle, "income_recorded", c.before_as_of(200), amount_fen=4_800_000,
                 counterparty=idle.rights_holder)
    _asset_event(c, idle, "income_distributed", c.before_as_of(190), amount_fen=3_000_000,
                 counterparty=idle.village, purpose="农户分红",
                 approval_document=f"{idle.village}收益分配方案〔{c.year - 1}〕2号")
    c.found("A03", idle.asset_id, "48000.00 earned 200 days ago, 30000.00 distributed")
    recent = _new_asset(c, names[4], "operating", c.before_as_of(700))
    _asset_event(c, recent, "income_recorded", c.before_as_of(INCOME_IDLE_DAYS),
                 amount_fen=2_600_000,
                 counterparty=recent.rights_holder)
    c.alike("A03", recent.asset_id, "income recorded exactly 180 days before as-of")


def _plant_a04(c: _County) -> None:
    names = c.township_names()
    misused = _new_asset(c, names[5], "operating", c.before_as_of(600))
    _asset_event(c, misused, "income_recorded", c.before_as_of(150), amount_fen=2_000_000,
                 counterparty=misused.rights_holder)
    for amount_fen, purpose in ((1_500_000, "村级公益事业"), (500_000, "村干部误工补贴")):
        _asset_event(c, misused, "income_distributed", c.before_as_of(140), amount_fen=amount_fen,
                     counterparty=misused.village, purpose=purpose,
                     approval_document=f"{misused.village}收益分配方案〔{c.year}〕1号")
    c.found("A04", misused.asset_id, "5000.00 of income paid out as cadres' allowances")
    chinese = _new_asset(c, names[0], "operating", c.before_as_of(600))
    _asset_event(c, chinese, "income_recorded", c.before_as_of(250), amount_fen=1_000_000,
                 counterparty=chinese.rights_holder)
    _asset_event(c, chinese, "income_distributed", c.before_as_of(240), amount_fen=1_000_000,
                 counterparty=chinese.village, purpose="农户分红",
                 approval_document=f"{chinese.village}收益分配方案〔{c.year - 1}〕3号")
    c.alike("A04", chinese.asset_id, "purpose written in Chinese (农户分红)")


# ---------------------------------------------------------------- files

ENGLISH_HEADER_KINDS = ("enrolments", "standards")  # the rest are written as a county writes them
UTF8_BOM = "utf-8-sig"


def _zh(enum: str) -> dict[str, str]:
    """Code -> the word a county office writes for it (the catalogue's label)."""
    codes = ENUMS[enum]
    return {code: codes.label(code) for code in codes.words}


STATUS_ZH = _zh("status")
RECORD_TYPE_ZH = _zh("record_type")
LEVEL_ZH = {**_zh("approval_level"), "": ""}
ASSET_CLASS_ZH = _zh("asset_class")
EVENT_TYPE_ZH = _zh("asset_event_type")
HOLDING_KIND_ZH = _zh("holding_kind")


def headers(kind: str) -> list[str]:
    """The header a county writes: each column's Chinese label (the catalogue's first
    alias), or the English names for the kinds written in English."""
    if kind in ENGLISH_HEADER_KINDS:
        return [column.name for column in columns(kind)]
    return [column.label for column in columns(kind)]


@contextmanager
def _csv_rows(path: Path, kind: str, encoding: str = "utf-8") -> Iterator[csv.writer]:
    """A csv writer for one contract file, header already written; rows are lists in the
    kind's column order (domain.catalogue)."""
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(headers(kind))
        yield writer


def _write_csv(path: Path, kind: str, rows: list[list[str]], encoding: str = "utf-8") -> None:
    with _csv_rows(path, kind, encoding) as writer:
        writer.writerows(rows)


def _write_xlsx(path: Path, kind: str, rows: list[list[object]], stamp: dt.date) -> None:
    """First sheet, header row, money as numeric cells and dates as date cells."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = kind
    sheet.append(headers(kind))
    for row in rows:
        sheet.append(row)
    for cells in sheet.iter_rows(min_row=2):
        for cell in cells:
            if isinstance(cell.value, Decimal):
                cell.number_format = "0.00"
            elif isinstance(cell.value, dt.date):
                cell.number_format = "yyyy-mm-dd"
    buffer = io.BytesIO()
    workbook.save(buffer)
    path.write_bytes(_frozen_zip(buffer.getvalue(), stamp))


def _frozen_zip(xlsx: bytes, stamp: dt.date) -> bytes:
    """The same workbook with openpyxl's 'now' (document properties, zip entry times)
    replaced by ``stamp``, so a seed always gives the same bytes (and the same file
    digest, which is what makes loading idempotent)."""
    moment = f"{stamp.isoformat()}T00:00:00Z"
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(xlsx)) as source, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for entry in source.infolist():
            data = source.read(entry.filename)
            if entry.filename == "docProps/core.xml":
                data = re.sub(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*", 
                              lambda m: m.group(1) + moment.encode(), data)
            info = zipfile.ZipInfo(entry.filename,
                                   date_time=(stamp.year, stamp.month, stamp.day, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            target.writestr(info, data)
    return out.getvalue()


def _yuan(fen: int | None) -> str:
    return "" if fen is None else format_fen(fen)


def _date_text(value: dt.date | str) -> str:
    return value.isoformat() if isinstance(value, dt.date) else value


def _household_row(h: _Household, rng: random.Random) -> list[str]:
    exempt = rng.choice(("是", "1")) if h.exempt else ""
    return [h.household_id, h.township, h.village, h.head.name, h.head_id_text, str(h.members),
            h.bank_account, h.account_holder, exempt]


def _enrolment_row(e: _Enrolment) -> list[str]:
    return [e.household_id, e.program, format_fen(e.monthly_fen), e.start, e.exit, e.gradual_until]


def _payroll_row(line: _Line) -> list[str]:
    return [line.batch_id, str(line.line_no), line.program, line.period, line.township,
            line.household_id, line.payee_name, line.payee_id, line.account,
            format_fen(line.amount_fen)]


def _bank_row(bank: _Bank) -> list[str]:
    return [bank.batch_id, str(bank.line_no), bank.holder, bank.account_text or bank.account,
            bank.amount_text or format_fen(bank.amount_fen), STATUS_ZH[bank.status], bank.reason,
            bank.value_date]


def _reserve_row(r: _Reserve) -> list[str]:
    return [RECORD_TYPE_ZH[r.record_type], r.record_id, r.township, r.household_id,
            format_fen(r.amount_fen), r.date, LEVEL_ZH[r.level], r.approver, r.recorder,
            r.reference, r.document]


def _asset_row(a: _Asset) -> list[object]:
    return [a.asset_id, a.name, ASSET_CLASS_ZH[a.asset_class], a.township, a.village,
            Decimal(format_fen(a.value_fen)), a.funding_source, a.project, a.rights_holder,
            a.custodian, dt.date.fromisoformat(a.registered_on)]


def _asset_event_row(e: _AssetEvent) -> list[str]:
    return [e.event_id, e.asset_id, EVENT_TYPE_ZH[e.event_type], e.date, _yuan(e.amount_fen),
            e.counterparty, e.purpose, e.approval_document, e.note]


def _county_rows(c: _County) -> dict[str, list[list]]:
    """Every file's rows as written, before any mess."""
    lines = sorted(c.lines, key=lambda line: (line.batch_id, line.line_no))
    banks = sorted([line.bank for line in lines if line.bank] + c.unmatched_bank,
                   key=lambda bank: (bank.batch_id, bank.line_no))
    return {
        "standards": [[s["program"], str(s["year"]), format_fen(s["amount_fen"]), "按人"]
                      for s in c.standards],
        "households": [_household_row(h, c.rng) for h in c.households],
        "enrolments": [_enrolment_row(e) for e in c.enrolments],
        "budgets": [[b["program"], str(b["year"]), format_fen(b["amount_fen"]), b["source"],
                     b["document_no"]] for b in c.budgets],
        "allocations": [[a["allocation_id"], a["program"], a["township"],
                         Decimal(format_fen(a["amount_fen"])), a["date"], a["document_no"]]
                        for a in c.allocations],
        "payroll": [_payroll_row(line) for line in lines],
        "bank_return": [_bank_row(bank) for bank in banks],
        "reserve": [_reserve_row(r)
                    for r in sorted(c.reserve, key=lambda r: (r.date, r.record_id))],
        "assets": [_asset_row(a) for a in c.assets],
        "asset_events": [_asset_event_row(e) for e in c.asset_events],
        "deaths": [[d["id_number"], d["name"], _date_text(d["date_of_death"])] for d in c.deaths],
        "officials": [[o[k] for k in ("official_id_number", "official_name", "position", "township",
                                      "relative_id_number", "relative_name", "relation")]
                      for o in c.officials],
        "holdings": [[h["id_number"], HOLDING_KIND_ZH[h["kind"]], h["description"],
                      format_fen(h["value_fen"]), _date_text(h["registered_on"])]
                     for h in c.holdings],
    }


# ---------------------------------------------------------------- the mess a real county makes

MESSY_ROWS = 3  # how many rows of a file get each kind of mess


def _messify(rows: dict[str, list[list]], rng: random.Random) -> None:
    """Full-width digits, stray spaces, a slashed date, a spaced account: all of which the
    contract says a loader normalises, so none of it changes a finding."""
    households = rows["households"]
    for row in rng.sample(households, MESSY_ROWS):
        row[3], row[5] = f" {row[3]} ", f"{row[5]} "
    wide = rng.choice([row for row in households if len(row[4]) == 18 and row[4].isdigit()])
    wide[4] = wide[4].translate(FULL_WIDTH_DIGITS)
    typed = rng.choice(households)
    typed[6] = spaced(typed[6])
    for row in rng.sample(rows["payroll"], MESSY_ROWS):
        row[9] = row[9].translate(FULL_WIDTH_DIGITS)
    for row in rng.sample(rows["payroll"], MESSY_ROWS):
        row[6], row[9] = f"{row[6]} ", f" {row[9]} "
    for row in rng.sample(rows["bank_return"], MESSY_ROWS):
        row[2] = f" {row[2]}"
    reserve = rows["reserve"]
    settled = [row for row in reserve if row[0] == RECORD_TYPE_ZH["settlement"]]
    slashed = rng.choice(settled)
    slashed[5] = slashed[5].replace("-", "/")
    rng.choice(reserve)[7] += " "



def _write_county(c: _County, out_dir: Path, messy: bool) -> None:
    rows = _county_rows(c)
    if messy:
        _messify(rows, c.rng)
    for kind in ("standards", "budgets", "reserve", "asset_events", "deaths", "officials",
                 "holdings"):
        _write_csv(out_dir / f"{kind}.csv", kind, rows[kind])
    _write_csv(out_dir / "households.csv", "households", rows["households"], UTF8_BOM)
    _write_csv(out_dir / "enrolments.csv", "enrolments", rows["enrolments"])
    _write_xlsx(out_dir / "allocations.xlsx", "allocations", rows["allocations"], c.as_of)
    _write_xlsx(out_dir / "assets.xlsx", "assets", rows["assets"], c.as_of)
    for period in c.periods:
        _write_csv(out_dir / f"payroll_{period}.csv", "payroll",
                   [row for row in rows["payroll"] if row[3] == period])
        _write_csv(out_dir / f"bank_return_{period}.csv", "bank_return",
                   [row for row in rows["bank_return"] if _batch_period(row[0]) == period], "gbk")


def _batch_period(batch_id: str) -> str:
    """'DB202501-02' -> '2025-01': the bank returns a batch in the file of its month."""
    return f"{batch_id[2:6]}-{batch_id[6:8]}"


# ---------------------------------------------------------------- the public functions


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
    c = _County(random.Random(seed), year=year, months=months, unpaid=unpaid)
    c.make_officials()
    c.make_households(households - 2 if plant else households)  # plants add two
    if plant:
        _plant_people_cases(c)
    c.make_payroll()
    c.fail_and_reissue(c.periods[0], FAIL_REASONS_REISSUED[0])
    c.fail_and_reissue(c.periods[-1], FAIL_REASONS_REISSUED[1])
    if plant:
        _plant_line_cases(c)
    c.make_standards()
    c.make_allocations(plant)
    _make_reserve(c, plant)
    _make_assets(c, plant)
    c.make_reference_noise()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    _write_county(c, out_dir, messy)
    return CountyTruth(directory=out_dir, findings=c.findings, lookalikes=c.lookalikes,
                       as_of=_iso(c.as_of), year=year, households=len(c.households),
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
    with (_csv_rows(out_dir / "households.csv", "households", UTF8_BOM) as household_rows,
          _csv_rows(out_dir / "enrolments.csv", "enrolments") as enrolment_rows,
          _csv_rows(out_dir / f"payroll_{period}.csv", "payroll") as payroll_rows,
          _csv_rows(out_dir / f"bank_return_{period}.csv", "bank_return", "gbk") as bank_rows):
        for index in range(households):
            household, program, amount = _bulk_household(rng, index, period)
            batch_id = f"{BATCH_PREFIX[program]}{period.replace('-', '')}-01"
            line_numbers[batch_id] += 1
            line_no = str(line_numbers[batch_id])
            household_rows.writerow(household)
            enrolment_rows.writerow([household[0], program, amount,
                                     _shift_period(period, -rng.randint(1, 60)), "", ""])
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
    name = _name(rng)
    amount = format_fen(_monthly_fen(rng, program, members, year))
    household = [f"QX{index + 1:07d}", township, rng.choice(villages), name, head_id,
                 str(members), account, name, ""]
    return household, program, amount


def _value_day(period: str, program: str) -> str:
    return f"{period}-{VALUE_DAY_FIRST_BATCH + PROGRAMS_PAID.index(program):02d}"

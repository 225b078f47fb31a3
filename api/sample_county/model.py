"""The sample county's state and what every part of it shares: its places, people and
money, the records it is made of, and the truth it returns.
"""

from __future__ import annotations

import datetime as dt
import random
import re
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from domain.ids import check_char

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
BUDGET_SOURCES = (("中央", Decimal("0.55"), "财社"),
                  ("省级", Decimal("0.30"), PROVINCE_SHORT + "财社"),
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


def iso(day: dt.date) -> str:
    return day.isoformat()


def period_of(year: int, month: int) -> str:
    return f"{year:04d}-{month:02d}"


def period_start(period: str) -> dt.date:
    return dt.date(int(period[:4]), int(period[5:7]), 1)


def period_end(period: str) -> dt.date:
    start = period_start(period)
    next_month = (start.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return next_month - dt.timedelta(days=1)


def shift_period(period: str, months: int) -> str:
    index = int(period[:4]) * 12 + int(period[5:7]) - 1 + months
    return period_of(index // 12, index % 12 + 1)


def standard_fen(program: str, year: int) -> int:
    return STANDARD_FEN[program] + STANDARD_RAISE_FEN[program] * (year - STANDARD_YEAR)


def chinese_name(rng: random.Random, surname: str | None = None) -> str:
    """A Chinese name: common surname (now and then a compound one) and 1–2 characters."""
    given_length = 1 if rng.random() < ONE_CHARACTER_GIVEN_NAME_SHARE else 2
    if surname is None:
        if rng.random() < COMPOUND_SURNAME_SHARE:
            surname, given_length = rng.choice(COMPOUND_SURNAMES), 2
        else:
            surname = rng.choice(SURNAMES + COMMON_SURNAMES)
    return surname + "".join(rng.choice(GIVEN_CHARACTERS) for _ in range(given_length))


def drawn_monthly_fen(rng: random.Random, program: str, members: int, year: int) -> int:
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
class Person:
    name: str
    id_number: str


@dataclass
class Household:
    household_id: str
    township: str
    village: str
    head: Person
    head_id_text: str  # how the head's number is written (a legacy or lower-case 'x' form)
    members: int
    bank_account: str
    account_holder: str
    exempt: bool


@dataclass
class Enrolment:
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
class Bank:
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
class Line:
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
    bank: Bank | None

    @property
    def subject(self) -> str:
        return f"{self.batch_id}:{self.line_no}"


@dataclass
class Reserve:
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
class Asset:
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
class AssetEvent:
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
class Staff:
    """Who approves and who records reserve payments in one township."""

    approver: Person
    recorder: Person
    head: Person


# ---------------------------------------------------------------- the county being built


class County:
    """Builds the county in memory; ``write_county`` turns it into files."""

    def __init__(self, rng: random.Random, *, year: int, months: int,
                 unpaid: frozenset[tuple[str, str]] = frozenset()) -> None:
        self.rng = rng
        self.year = year
        self.periods = [period_of(year, m) for m in range(1, months + 1)]
        self.unpaid = unpaid  # (program, period) the county did not pay at all
        self.as_of = period_end(self.periods[-1]) + dt.timedelta(days=AS_OF_DAYS_AFTER_LAST_PERIOD)
        self.households: list[Household] = []
        self.by_id: dict[str, Household] = {}
        self.enrolments: list[Enrolment] = []
        self.lines: list[Line] = []
        self.unmatched_bank: list[Bank] = []
        self.batches: dict[str, list[Line]] = defaultdict(list)
        self.allocations: list[dict] = []
        self.budgets: list[dict] = []
        self.standards: list[dict] = []
        self.reserve: list[Reserve] = []
        self.assets: list[Asset] = []
        self.asset_events: list[AssetEvent] = []
        self.deaths: list[dict] = []
        self.officials: list[dict] = []
        self.holdings: list[dict] = []
        self.staff: dict[str, Staff] = {}
        self.county_approver = self.county_clerk = Person("", "")
        self.findings: list[Planted] = []
        self.lookalikes: list[Planted] = []
        self.used: set[str] = set()  # households already carrying a planted case
        self.pay_despite_exit: set[str] = set()
        self.id_numbers: set[str] = set()
        self.accounts: set[str] = set()
        self.counters: dict[str, int] = defaultdict(int)

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
        return chinese_name(self.rng, surname)

    def person(self, age_min: int, age_max: int, surname: str | None = None) -> Person:
        rng = self.rng
        while True:
            born = dt.date(self.year - rng.randint(age_min, age_max), 1, 1) + dt.timedelta(
                days=rng.randint(0, 364))
            elsewhere = rng.random() < BORN_ELSEWHERE_SHARE
            area = rng.choice(OTHER_AREA_CODES) if elsewhere else AREA_CODE
            number = id_number(area, born, rng.randint(1, 999))
            if number not in self.id_numbers:
                self.id_numbers.add(number)
                return Person(self.name(surname), number)

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

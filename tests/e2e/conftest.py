"""A running API over a seeded county, and one user (with token) per role.

Townships: 城关镇 (households H001, H002; clerk ``clerk_a``) and 新市镇 (H003; clerk
``clerk_b``). ``approver`` and ``approver2`` are two county approvers, so maker-checker
can be exercised both ways.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.http import create_app
from api.loader import load_directory
from api.users import add_user
from api.wiring import Store

TOWNSHIP_A, TOWNSHIP_B = "城关镇", "新市镇"
HOUSEHOLDS = """户编号,乡镇(街道),村(社区),户主姓名,户主身份证号,家庭人口,银行账号,开户人,不予公示
H001,城关镇,东门村,张三明,430621198001011234,3,6217000000000000001,张三明,
H002,城关镇,西门村,李四,43062119800101123x,2,6217000000000000002,李四,是
H003,新市镇,南岭村,王小红,430621199002022345,1,6217000000000000003,王小红,
"""
ENROLMENTS = """household_id,program,monthly_amount,start_period,exit_period,gradual_exit_until
H001,dibao,700.00,2025-01,,
H003,dibao,300.00,2025-01,,
"""
ALLOCATIONS = """allocation_id,program,township,amount,date,document_no
A1,dibao,城关镇,10000.00,2025-01-05,岳财〔2025〕1号
A2,dibao,新市镇,3000.00,2025-01-05,岳财〔2025〕1号
"""
PAYROLL = """批次号,序号,救助类别,发放年月,乡镇(街道),户编号,收款人,收款人身份证号,银行账号,金额
B1,1,低保,2025-01,城关镇,H001,张三明,430621198001011234,6217000000000000001,700.00
B1,2,dibao,2025-01,城关镇,H002,李四,43062119800101123X,6217000000000000002,500.00
B1,3,dibao,2025-01,新市镇,H003,王小红,430621199002022345,6217000000000000003,300.00
"""
BANK = """批次号,序号,户名,账号,金额,状态,失败原因,入账日期
B1,1,张三明,6217000000000000001,700.00,成功,,2025-01-20
B1,2,李四,6217000000000000002,500.00,失败,账户已销户,2025-01-20
B1,3,王小红,6217000000000000003,300.00,成功,,2025-02-03
"""
USERS: dict[str, tuple[str, str | None]] = {
    "clerk_a": ("clerk", TOWNSHIP_A),
    "clerk_b": ("clerk", TOWNSHIP_B),
    "approver": ("approver", None),
    "approver2": ("approver", None),
    "finance": ("finance", None),
    "inspector": ("inspector", None),
    "admin": ("admin", None),
}


def write_county(directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "households.csv").write_text(HOUSEHOLDS, encoding="utf-8-sig")
    (directory / "enrolments.csv").write_text(ENROLMENTS, encoding="utf-8")
    (directory / "allocations.csv").write_text(ALLOCATIONS, encoding="utf-8")
    (directory / "payroll_2025-01.csv").write_text(PAYROLL, encoding="utf-8")
    (directory / "bank_return_2025-01.csv").write_bytes(BANK.encode("gbk"))
    return directory


def seed_county(store: Store, directory: Path) -> dict[str, str]:
    """Load the sample county as ``seed``; add every user; their tokens by name."""
    load_directory(store, write_county(directory), actor="seed")
    return {name: add_user(store, name, role, township, actor="seed")
            for name, (role, township) in USERS.items()}


def finding_row(code: str = "P01", subject_id: str = "B1:1") -> dict[str, Any]:
    return {"code": code, "subject_type": "payroll_line", "subject_id": subject_id,
            "period": "2025-01", "amount": Decimal("700.00"), "severity": "high",
            "title": "未回盘 payment not confirmed by bank", "detail": "no bank line",
            "evidence": "event:abc/1 payroll_2025-01.csv#2"}


@dataclass
class Api:
    """A client of a seeded app, calling as a named user."""

    client: TestClient
    store: Store
    tokens: dict[str, str] = field(default_factory=dict)

    def headers(self, user: str | None) -> dict[str, str]:
        return {} if user is None else {"Authorization": f"Bearer {self.tokens[user]}"}

    def get(self, path: str, user: str | None, **kwargs: Any) -> Any:
        return self.client.get(path, headers=self.headers(user), **kwargs)

    def post(self, path: str, user: str | None, json: Any = None, **kwargs: Any) -> Any:
        return self.client.post(path, headers=self.headers(user), json=json, **kwargs)

    def put(self, path: str, user: str | None, json: Any = None) -> Any:
        return self.client.put(path, headers=self.headers(user), json=json)

    def call(self, method: str, path: str, user: str | None, **kwargs: Any) -> Any:
        return self.client.request(method, path, headers=self.headers(user), **kwargs)


def running_api(url: str, tmp_path: Path) -> Iterator[Api]:
    app = create_app(url)
    with TestClient(app) as client:
        store: Store = app.state.aidledger.store
        tokens = seed_county(store, tmp_path / "county")
        yield Api(client=client, store=store, tokens=tokens)


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    """The API on a fresh SQLite file."""
    yield from running_api(f"sqlite:///{tmp_path / 'api.db'}", tmp_path)


@pytest.fixture
def api_on_each_store(store_url: str, tmp_path: Path) -> Iterator[Api]:
    """The API once on SQLite and once on PostgreSQL."""
    yield from running_api(store_url, tmp_path)


# -- a county with a village big enough to publish, and findings (public pages, workbench)
BIG_VILLAGE = ("城关镇", "东门村")
BIG_VILLAGE_HOUSEHOLDS = 12  # above the small-cell minimum (10): its months are published
SURNAMES = "赵钱孙周吴郑冯陈褚卫蒋沈"
EXEMPT_HOUSEHOLD = "H112"
DEATHS = """id_number,name,date_of_death
430621199002022345,王小红,2024-12-15
"""


def _id_number(serial: int) -> str:
    from domain.ids import check_char

    first17 = f"43062119850101{serial:03d}"
    return first17 + check_char(first17)


def write_big_village(directory: Path) -> Path:
    """Twelve dibao households in 东门村, paid in January (batch B2) and February (B3);
    one of them disclosure-exempt; and a death record for H003's head (an E01 finding)."""
    directory.mkdir(parents=True, exist_ok=True)
    township, village = BIG_VILLAGE
    households = ["户编号,乡镇(街道),村(社区),户主姓名,户主身份证号,家庭人口,银行账号,开户人,"
                  "不予公示"]
    enrolments = ["household_id,program,monthly_amount,start_period,exit_period,"
                  "gradual_exit_until"]
    payroll = ["批次号,序号,救助类别,发放年月,乡镇(街道),户编号,收款人,收款人身份证号,"
               "银行账号,金额"]
    bank = ["批次号,序号,户名,账号,金额,状态,失败原因,入账日期"]
    for n in range(1, BIG_VILLAGE_HOUSEHOLDS + 1):
        hid, name = f"H1{n:02d}", f"{SURNAMES[n - 1]}建国"
        id_number, account = _id_number(n), f"62170000000001{n:05d}"
        exempt = "是" if hid == EXEMPT_HOUSEHOLD else ""
        households.append(f"{hid},{township},{village},{name},{id_number},{1 + n % 4},"
                          f"{account},{name},{exempt}")
        enrolments.append(f"{hid},dibao,300.00,2025-01,,")
        for batch, period, day in (("B2", "2025-01", "2025-01-21"),
                                   ("B3", "2025-02", "2025-02-20")):
            payroll.append(f"{batch},{n},dibao,{period},{township},{hid},{name},{id_number},"
                           f"{account},300.00")
            bank.append(f"{batch},{n},{name},{account},300.00,成功,,{day}")
    files = {"households_big.csv": households, "enrolments_big.csv": enrolments,
             "payroll_big.csv": payroll, "bank_return_big.csv": bank}
    for name, lines in files.items():
        (directory / name).write_text("\n".join(lines) + "\n", encoding="utf-8")
    (directory / "deaths.csv").write_text(DEATHS, encoding="utf-8")
    return directory


def seed_public_county(store: Store, directory: Path) -> dict[str, str]:
    """The sample county, the big village, and findings of a real reconciliation."""
    from api.reconcile import reconcile_store

    tokens = seed_county(store, directory / "county")
    load_directory(store, write_big_village(directory / "big_village"), actor="seed")
    reconcile_store(store, as_of="2025-03-31", out=directory / "findings.csv",
                    policy_path=None, xlsx=None, actor="seed")
    return tokens


@pytest.fixture
def county_site(tmp_path: Path) -> Iterator[Api]:
    """The app (API, public pages, workbench) over the county with findings."""
    app = create_app(f"sqlite:///{tmp_path / 'site.db'}")
    with TestClient(app) as client:
        store: Store = app.state.aidledger.store
        tokens = seed_public_county(store, tmp_path)
        yield Api(client=client, store=store, tokens=tokens)

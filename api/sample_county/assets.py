"""Poverty-alleviation assets, their events and their planted cases (A codes)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from api.sample_county.model import (
    ASSET_OWNER_DAYS,
    COUNTY_NAME,
    COUNTY_SHORT,
    INCOME_IDLE_DAYS,
    Asset,
    AssetEvent,
    County,
    iso,
    period_end,
)

ASSET_KINDS: dict[str, tuple[tuple[str, int, int], ...]] = {  # name, value range in fen
    "operating": (("村级光伏电站", 40_000_000, 90_000_000),
                  ("扶贫车间", 30_000_000, 80_000_000),
                  ("茶叶加工厂", 50_000_000, 120_000_000),
                  ("生猪养殖场", 60_000_000, 150_000_000)),
    "public_welfare": (("村道硬化", 20_000_000, 150_000_000),
                       ("安全饮水工程", 8_000_000, 40_000_000),
                       ("便民桥", 10_000_000, 30_000_000),
                       ("村级文化广场", 15_000_000, 35_000_000)),
    "household": (("到户产业(能繁母牛)", 800_000, 1_200_000),
                  ("到户产业(油茶苗)", 300_000, 600_000)),
}
ASSET_CLASS_WEIGHTS = (40, 45, 15)
ASSETS_PER_TOWNSHIP = 3
FUNDING_SOURCES = ("中央衔接资金", "省级衔接资金", "县级衔接资金", "东西部协作资金")
PURPOSES_ALLOWED = (("operation_maintenance", "运行管护"), ("consolidation", "巩固脱贫成果"),
                    ("village_public_welfare", "村级公益事业"), ("household_dividend", "农户分红"))
INCOME_YIELD = Decimal("0.04")  # half-yearly income of an operating asset, share of its value


def _committee(village: str) -> str:
    return village + ("居民委员会" if village.endswith("社区") else "村民委员会")


def _new_asset(c: County, township: str, asset_class: str, registered: dt.date, *,
               rights: bool = True, custodian: bool = True) -> Asset:
    rng = c.rng
    village = rng.choice(c.villages(township))
    kind, low, high = rng.choice(ASSET_KINDS[asset_class])
    owner = {"operating": village + "股份经济合作社", "public_welfare": _committee(village),
             "household": c.name()}[asset_class]
    asset = Asset(
        asset_id=c.next_id("QXZC-", 4), name=f"{village}{kind}",
        asset_class=asset_class, township=township, village=village,
        value_fen=rng.randint(low, high) // 100 * 100, funding_source=rng.choice(FUNDING_SOURCES),
        project=f"{COUNTY_NAME}{registered.year}年{village}{kind}项目",
        rights_holder=owner if rights else "",
        custodian=owner if custodian else "", registered_on=iso(registered))
    c.assets.append(asset)
    return asset


def _asset_event(c: County, asset: Asset, event_type: str, day: dt.date, **fields) -> None:
    c.asset_events.append(AssetEvent(c.next_id("SJ", 5), asset.asset_id, event_type, iso(day),
                                     **fields))


def _distribute(c: County, asset: Asset, income_fen: int, day: dt.date) -> None:
    """Share an income out in full over two allowed purposes, named in English or Chinese."""
    first, second = c.rng.sample(PURPOSES_ALLOWED, 2)
    part_fen = income_fen * c.rng.randint(30, 70) // 100
    for purpose, amount_fen in ((first, part_fen), (second, income_fen - part_fen)):
        _asset_event(c, asset, "income_distributed", day, amount_fen=amount_fen,
                     counterparty=asset.village, purpose=c.rng.choice(purpose),
                     approval_document=f"{asset.village}收益分配方案〔{day.year}〕1号")


def make_assets(c: County, plant: bool) -> None:
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


def _ordinary_asset_events(c: County, asset: Asset, registered: dt.date) -> None:
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
    _asset_event(c, asset, "income_recorded", period_end(c.periods[-1]),  # recent: not yet shared
                 amount_fen=int(asset.value_fen * INCOME_YIELD) // 200 * 100,
                 counterparty=asset.rights_holder)


def _plant_a01(c: County) -> None:
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


def _plant_a02(c: County) -> None:
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


def _plant_a03(c: County) -> None:
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


def _plant_a04(c: County) -> None:
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

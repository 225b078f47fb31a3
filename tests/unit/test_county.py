"""The generated county: deterministic, readable by plain tools, and its truth is right.

The strongest check here is ``Reference``: an independent, deliberately plain reading of
the rule book (docs/rules/) over the files as the standard library reads them back. Its
result must equal the generator's truth exactly for the codes it reads (``Reference.CODES``),
which proves both that every planted case is there and that nothing else (no look-alike,
no accidental side effect of a plant) would be reported. A code added later is checked
against its planted case by the reconcile of the county itself
(tests/integration/test_reconcile_county.py) until someone reads it here too.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
import unicodedata
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from api.sample_county import CountyTruth, generate_county, write_bulk_month
from domain.catalogue import columns
from domain.ids import is_valid, problem, to18
from reconciliation import rules

CODES = [r.code for r in rules.finding_rules()]  # every code must be planted

# The contract headers (docs/formats.md), copied here so the test does not trust the
# generator's own table.
ALIASES = {
    "户编号": "household_id", "乡镇(街道)": "township", "村(社区)": "village",
    "户主姓名": "head_name", "户主身份证号": "head_id_number", "家庭人口": "members",
    "银行账号": "bank_account", "开户人": "account_holder", "不予公示": "disclosure_exempt",
    "救助类别": "program", "月救助金额": "monthly_amount", "起始年月": "start_period",
    "退出年月": "exit_period", "渐退截止年月": "gradual_exit_until", "资金类别": "program",
    "年度": "year", "金额": "amount", "资金来源": "source", "文号": "document_no",
    "拨付编号": "allocation_id", "拨付日期": "date", "批次号": "batch_id", "序号": "line_no",
    "发放年月": "period", "收款人": "payee_name", "收款人身份证号": "payee_id_number",
    "户名": "account_holder", "账号": "bank_account", "状态": "status", "失败原因": "fail_reason",
    "入账日期": "value_date", "类型": "record_type", "编号": "record_id", "日期": "date",
    "审批层级": "approval_level", "审批人": "approver", "经办人": "recorded_by",
    "关联编号": "reference_id", "资产编号": "asset_id", "资产名称": "name",
    "资产类别": "asset_class", "资产原值": "value", "项目名称": "project",
    "确权主体": "rights_holder", "管护主体": "custodian", "登记日期": "registered_on",
    "事项": "event_type", "对象": "counterparty", "用途": "purpose",
    "审批文号": "approval_document",
    "备注": "note", "身份证号": "id_number", "姓名": "name", "死亡日期": "date_of_death",
    "公职人员身份证号": "official_id_number", "公职人员姓名": "official_name", "职务": "position",
    "亲属身份证号": "relative_id_number", "亲属姓名": "relative_name", "关系": "relation",
    "类别": "kind", "说明": "description", "价值": "value", "标准金额": "amount",
    "计发单位": "unit",
}
HEADER_OVERRIDES = {"asset_events": {"编号": "event_id"},  # 编号 is record_id elsewhere
                    "assets": {"资金来源": "funding_source"}}  # and 资金来源 a budget's source
VALUE_ALIASES = {
    "成功": "success", "失败": "failed", "预拨": "advance", "先行救助": "disbursement",
    "核销": "settlement", "补足": "replenishment", "乡镇": "township", "县级": "county",
    "经营性": "operating", "公益性": "public_welfare", "到户类": "household",
    "确权": "rights_confirmed", "明确管护": "custodian_assigned", "收益入账": "income_recorded",
    "收益分配": "income_distributed", "价值调整": "value_adjusted", "移交": "transferred",
    "处置": "disposed", "核查": "inspected", "运行管护": "operation_maintenance",
    "巩固脱贫成果": "consolidation", "村级公益事业": "village_public_welfare",
    "农户分红": "household_dividend", "车辆": "vehicle", "工商登记": "business", "房产": "property",
    "按人": "per_person", "按户": "per_household",
}
ENUM_COLUMNS = {"status", "record_type", "approval_level", "asset_class", "event_type", "purpose",
                "kind", "unit"}
MONEY_COLUMNS = {"amount", "monthly_amount", "value"}
DATE_COLUMNS = {"date", "value_date", "registered_on", "date_of_death"}


# ---------------------------------------------------------------- reading back (standard library)


def clean(column: str, value: object) -> object:
    """What the contract says a loader makes of a cell (full-width digits, spaces, …)."""
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, (int, float)):
        value = f"{Decimal(str(value)):.2f}" if column in MONEY_COLUMNS else str(value)
    text = unicodedata.normalize("NFKC", "" if value is None else str(value)).strip()
    if column in ENUM_COLUMNS:
        text = VALUE_ALIASES.get(text, text)
    if column == "bank_account":
        text = text.replace(" ", "")
    if column in DATE_COLUMNS:
        text = text.replace("/", "-")
    if column in MONEY_COLUMNS and text:
        return int(Decimal(text) * 100)
    return text


def canonical(kind: str, header: list[str]) -> list[str]:
    overrides = HEADER_OVERRIDES.get(kind, {})
    return [overrides.get(h, ALIASES.get(h, h)) for h in header]


def read_table(path: Path) -> tuple[str, list[str], list[dict]]:
    """(kind, canonical header, rows) of one generated file."""
    kind = path.stem.split("_20")[0]
    if path.suffix == ".xlsx":
        sheet = openpyxl.load_workbook(path, read_only=True).worksheets[0]
        table = [list(row) for row in sheet.iter_rows(values_only=True)]
    else:
        encoding = "gbk" if kind == "bank_return" else "utf-8-sig"
        with path.open(encoding=encoding, newline="") as handle:
            table = list(csv.reader(handle))
    header = canonical(kind, [str(h) for h in table[0]])
    rows = [{name: clean(name, value) for name, value in zip(header, row, strict=True)}
            for row in table[1:]]
    return kind, header, rows


def read_county(directory: Path) -> dict[str, list[dict]]:
    tables: dict[str, list[dict]] = defaultdict(list)
    for path in sorted(directory.iterdir()):
        kind, _, rows = read_table(path)
        tables[kind].extend(rows)
    return tables


# ---------------------------------------------------------------- the rule book, read plainly


def month_end(period: str) -> str:
    first = dt.date(int(period[:4]), int(period[5:7]), 28) + dt.timedelta(days=4)
    return (first.replace(day=1) - dt.timedelta(days=1)).isoformat()


def days_between(first: str, second: str) -> int:
    return (dt.date.fromisoformat(second) - dt.date.fromisoformat(first)).days


def by_date(rows: list[dict], as_of: str, column: str = "date") -> list[dict]:
    return [r for r in rows if not r[column] or r[column] <= as_of]


class Reference:
    """Every finding code of the rule book over plain rows; ``pairs()`` is the result."""

    CODES = frozenset(["P01", "P02", "P03", "P04", "P05", "P06", "B01",
                       "E01", "E02", "E03", "E04", "E05", "E06", "E07", "E08",
                       "R01", "R02", "R03", "R04", "A01", "A02", "A03", "A04", "D01"])

    def __init__(self, t: dict[str, list[dict]], as_of: str) -> None:
        self.t, self.as_of, self.found = t, as_of, set()
        self.households = {h["household_id"]: h for h in t["households"]}
        self.payroll = {(p["batch_id"], p["line_no"]): p for p in t["payroll"]}
        # the books as they stood at the end of as-of: later bank lines have not happened
        self.bank = by_date(t["bank_return"], as_of, "value_date")
        self.payments = [(self.payroll[key], b) for b in self.bank
                         if b["status"] == "success" and (key := (b["batch_id"], b["line_no"]))
                         in self.payroll]

    def flag(self, code: str, subject: str) -> None:
        self.found.add((code, subject))

    def pairs(self) -> set[tuple[str, str]]:
        for name in sorted(dir(self)):
            if name.startswith("rule_"):
                getattr(self, name)()
        return self.found

    def rule_p01_to_p04(self) -> None:
        bank_keys = {(b["batch_id"], b["line_no"]) for b in self.bank}
        for key in self.payroll:
            if key not in bank_keys:
                self.flag("P01", ":".join(key))
        for b in self.bank:
            key = (b["batch_id"], b["line_no"])
            p = self.payroll.get(key)
            if p is None:
                if b["status"] == "success":
                    self.flag("P02", ":".join(key))
                continue
            h = self.households.get(p["household_id"], {})
            if b["status"] == "success" and b["amount"] != p["amount"]:
                self.flag("P03", ":".join(key))
            if (b["bank_account"] != p["bank_account"]
                    or (h.get("account_holder") and b["account_holder"] != h["account_holder"])
                    or (h.get("bank_account") and p["bank_account"] != h["bank_account"])):
                self.flag("P04", ":".join(key))

    def rule_p05_p06(self) -> None:
        paid = defaultdict(list)
        for p, b in self.payments:
            paid[(p["household_id"], p["program"], p["period"])].append(b["value_date"])
        for (household_id, _, _), dates in paid.items():
            if len(dates) > 1:
                self.flag("P05", household_id)
        for b in by_date(self.bank, self.as_of, "value_date"):
            p = self.payroll.get((b["batch_id"], b["line_no"]))
            if b["status"] == "failed" and p is not None:
                later = [d for d in paid.get((p["household_id"], p["program"], p["period"]), [])
                         if d <= self.as_of]
                if not any(d >= b["value_date"] for d in later):
                    self.flag("P06", f"{b['batch_id']}:{b['line_no']}")

    def rule_b01(self) -> None:
        spent, allocated = defaultdict(int), defaultdict(int)
        for p, b in self.payments:
            spent[(b["value_date"][:4], p["township"], p["program"])] += b["amount"]
        for a in by_date(self.t["allocations"], self.as_of):
            allocated[(a["date"][:4], a["township"], a["program"])] += a["amount"]
        for (year, township, program), fen in spent.items():
            if fen > allocated[(year, township, program)]:
                self.flag("B01", f"{township}|{program}")

    def head_id(self, household_id: str) -> str:
        return to18(self.households[household_id]["head_id_number"])

    def rule_e01_e03_e05_e06_e08(self) -> None:
        died = {to18(d["id_number"]): d["date_of_death"][:7] for d in self.t["deaths"]}
        officials = {to18(o[c]) for o in self.t["officials"]
                     for c in ("official_id_number", "relative_id_number")}
        standards = {(s["program"], s["year"]): s["amount"] for s in self.t["standards"]}
        holdings = defaultdict(list)
        for holding in self.t["holdings"]:
            if holding["value"] >= 3_000_000:
                holdings[to18(holding["id_number"])].append(holding["registered_on"])
        accounts = defaultdict(set)
        for p, b in self.payments:
            household_id, head = p["household_id"], self.head_id(p["household_id"])
            death = died.get(head) or died.get(to18(p["payee_id_number"]))
            if death and p["period"] > death:
                self.flag("E01", household_id)
            accounts[b["bank_account"]].add(household_id)
            if any(day <= month_end(p["period"]) for day in holdings[head]):
                self.flag("E08", household_id)
        for account, households in accounts.items():
            if len(households) >= 3:
                self.flag("E06", account)
        for p in self.payroll.values():
            members = int(self.households[p["household_id"]]["members"])
            standard = standards.get((p["program"], p["period"][:4]))
            if standard is not None and p["amount"] > standard * members:
                self.flag("E03", p["household_id"])
            if {to18(p["payee_id_number"]), self.head_id(p["household_id"])} & officials:
                self.flag("E05", p["household_id"])

    def spans(self, household_id: str, program: str | None = None) -> list[tuple[str, str]]:
        """Active spans [start, end] inclusive; no enrolment row at all = always enrolled."""
        rows = [e for e in self.t["enrolments"] if e["household_id"] == household_id]
        if not rows:
            return [("0000-01", "9999-12")] if program is None else []
        out = []
        for e in rows:
            if program is None or e["program"] == program:
                end = month_before(e["exit_period"]) if e["exit_period"] else "9999-12"
                out.append((e["start_period"], max(end, e["gradual_exit_until"] or end)))
        return out

    def rule_e02(self) -> None:
        by_head = defaultdict(list)
        for household_id in self.households:
            if self.head_id(household_id):
                by_head[self.head_id(household_id)].append(household_id)
        for households in by_head.values():
            for a in households:
                for b in households:
                    if a != b and overlap(self.spans(a), self.spans(b)):
                        self.flag("E02", a)
            for a in households:
                for b in households:
                    if overlap(self.spans(a, "dibao"), self.spans(b, "tekun")):
                        self.flag("E02", a)
                        self.flag("E02", b)

    def rule_e04(self) -> None:
        for p, _ in self.payments:
            rows = [e for e in self.t["enrolments"]
                    if e["household_id"] == p["household_id"] and e["program"] == p["program"]]
            exited = any(e["exit_period"] and e["exit_period"] <= p["period"]
                         and not (e["gradual_exit_until"]
                                  and p["period"] <= e["gradual_exit_until"])
                         for e in rows)
            covered = any(start <= p["period"] <= end
                          for start, end in self.spans(p["household_id"], p["program"]))
            if exited and not covered:
                self.flag("E04", p["household_id"])

    def rule_e07(self) -> None:
        for household_id, h in self.households.items():
            if problem(h["head_id_number"], dt.date.fromisoformat(self.as_of)):
                self.flag("E07", household_id)

    def rule_reserve(self) -> None:
        rows = by_date(self.t["reserve"], self.as_of)
        disbursements = [r for r in rows if r["record_type"] == "disbursement"]
        settled = {r["reference_id"]: r["date"] for r in rows if r["record_type"] == "settlement"}
        for d in disbursements:
            limit = 2_000_000 if d["approval_level"] == "county" else 100_000
            late = days_between(d["date"], settled.get(d["record_id"], self.as_of)) > 30
            checks = (("R01", late), ("R02", d["amount"] > limit),
                      ("D01", bool(d["approver"]) and d["approver"] == d["recorded_by"]))
            for code, hit in checks:
                if hit:
                    self.flag(code, d["record_id"])
            near = [e for e in disbursements if e["household_id"] == d["household_id"]
                    and e["amount"] <= 100_000 and 0 <= days_between(d["date"], e["date"]) <= 30]
            together_fen = sum(e["amount"] for e in near)
            if d["amount"] <= 100_000 and len(near) >= 2 and together_fen > 100_000:
                self.flag("R03", d["household_id"])
        for township in {r["township"] for r in rows}:
            balance = defaultdict(int)
            for r in rows:
                if r["township"] == township and r["record_type"] != "settlement":
                    sign = -1 if r["record_type"] == "disbursement" else 1
                    balance[r["date"]] += sign * r["amount"]
            running = 0
            for day in sorted(balance):
                running += balance[day]
                if running < 0:
                    self.flag("R04", township)

    def rule_assets(self) -> None:
        events = by_date(self.t["asset_events"], self.as_of)
        for a in self.t["assets"]:
            mine = [e for e in events if e["asset_id"] == a["asset_id"]]
            types = {e["event_type"] for e in mine}
            no_owner = (a["asset_class"] in ("operating", "household") and not a["rights_holder"]
                        and "rights_confirmed" not in types)
            no_keeper = (a["asset_class"] == "public_welfare" and not a["custodian"]
                         and "custodian_assigned" not in types)
            if days_between(a["registered_on"], self.as_of) > 90 and (no_owner or no_keeper):
                self.flag("A01", a["asset_id"])
            if any(e["event_type"] in ("transferred", "disposed") and not e["approval_document"]
                   for e in mine):
                self.flag("A02", a["asset_id"])
            old_income = sum(e["amount"] for e in mine if e["event_type"] == "income_recorded"
                             and days_between(e["date"], self.as_of) > 180)
            shared = [e for e in mine if e["event_type"] == "income_distributed"]
            if old_income > sum(e["amount"] for e in shared):
                self.flag("A03", a["asset_id"])
            allowed = {"operation_maintenance", "consolidation", "village_public_welfare",
                       "household_dividend"}
            if any(e["purpose"] not in allowed for e in shared):
                self.flag("A04", a["asset_id"])


def read_by_reference(truth: CountyTruth) -> set[tuple[str, str]]:
    """The truth's pairs of the codes ``Reference`` reads."""
    return {pair for pair in truth.expected_pairs() if pair[0] in Reference.CODES}


def month_before(period: str) -> str:
    year, month = int(period[:4]), int(period[5:7]) - 1
    return f"{year - 1}-12" if month == 0 else f"{year}-{month:02d}"


def overlap(first: list[tuple[str, str]], second: list[tuple[str, str]]) -> bool:
    return any(a <= d and c <= b for a, b in first for c, d in second)


def luhn_valid(number: str) -> bool:
    digits = [int(d) for d in reversed(number)]
    total = sum(digits[0::2]) + sum(sum(divmod(2 * d, 10)) for d in digits[1::2])
    return total % 10 == 0


# ---------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def county(tmp_path_factory: pytest.TempPathFactory) -> CountyTruth:
    return generate_county(tmp_path_factory.mktemp("county"))


@pytest.fixture(scope="module")
def tables(county: CountyTruth) -> dict[str, list[dict]]:
    return read_county(county.directory)


# ---------------------------------------------------------------- tests


def test_the_same_seed_writes_the_same_bytes_and_another_seed_does_not(tmp_path: Path) -> None:
    first = generate_county(tmp_path / "a", seed=11, households=150)
    second = generate_county(tmp_path / "b", seed=11, households=150)
    other = generate_county(tmp_path / "c", seed=12, households=150)
    names = sorted(p.name for p in first.directory.iterdir())
    assert names == sorted(p.name for p in second.directory.iterdir())
    for name in names:
        assert (first.directory / name).read_bytes() == (second.directory / name).read_bytes(), name
    assert first.findings == second.findings and first.lookalikes == second.lookalikes
    assert (first.directory / "households.csv").read_bytes() != (
        other.directory / "households.csv").read_bytes()


def test_every_finding_code_is_planted_with_a_lookalike(county: CountyTruth) -> None:
    assert {p.code for p in county.findings} == set(CODES)
    assert {p.code for p in county.lookalikes} == set(CODES)
    lookalike_pairs = {(p.code, p.subject_id) for p in county.lookalikes}
    assert not lookalike_pairs & county.expected_pairs()


def test_truth_is_exactly_what_the_rule_book_finds_in_the_files(
        county: CountyTruth, tables: dict[str, list[dict]]) -> None:
    assert Reference(tables, county.as_of).pairs() == read_by_reference(county)


@pytest.mark.parametrize(("seed", "households", "months", "year"),
                         [(26, 100, 3, 2025), (1, 150, 12, 2024), (2023, 400, 5, 2026)])
def test_truth_holds_for_other_seeds_sizes_and_years(
        tmp_path: Path, seed: int, households: int, months: int, year: int) -> None:
    truth = generate_county(tmp_path, seed=seed, households=households, months=months, year=year)
    assert Reference(read_county(tmp_path), truth.as_of).pairs() == read_by_reference(truth)
    assert len({p.code for p in truth.findings}) == len(CODES)


def test_a_county_without_plants_has_no_findings(tmp_path: Path) -> None:
    truth = generate_county(tmp_path, households=80, months=2, plant=False)
    assert truth.findings == []
    assert Reference(read_county(tmp_path), truth.as_of).pairs() == set()


def test_as_of_is_fifteen_days_after_the_last_month(county: CountyTruth) -> None:
    assert county.as_of == "2025-04-15"
    assert county.year == 2025


def test_every_file_has_the_contract_headers(county: CountyTruth) -> None:
    for path in sorted(county.directory.iterdir()):
        kind, header, _ = read_table(path)
        assert header == [c.name for c in columns(kind)], path.name
        assert path.name.isascii()


def test_the_bank_file_is_gbk_and_households_carry_a_bom(county: CountyTruth) -> None:
    raw = (county.directory / "bank_return_2025-01.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    assert raw.decode("gbk").startswith("批次号")
    assert (county.directory / "households.csv").read_bytes().startswith(b"\xef\xbb\xbf")


def test_spreadsheets_hold_numbers_and_dates_as_such(county: CountyTruth) -> None:
    sheet = openpyxl.load_workbook(county.directory / "allocations.xlsx").worksheets[0]
    amount, day = sheet.cell(2, 4).value, sheet.cell(2, 5).value
    assert isinstance(amount, (int, float)) and isinstance(day, dt.datetime)


def test_row_counts_match_the_truth(county: CountyTruth, tables: dict[str, list[dict]]) -> None:
    assert len(tables["households"]) == county.households == 300
    assert len(tables["payroll"]) == county.payroll_lines


def test_id_numbers_are_valid_except_the_planted_e07_ones(
        county: CountyTruth, tables: dict[str, list[dict]]) -> None:
    planted = {p.subject_id for p in county.findings if p.code == "E07"}
    heads = {h["household_id"]: h["head_id_number"] for h in tables["households"]}
    invalid = {household_id for household_id, number in heads.items() if not is_valid(number)}
    assert invalid == planted
    payees = [p for p in tables["payroll"] if p["household_id"] not in planted]
    assert all(is_valid(p["payee_id_number"]) for p in payees)
    others = [d["id_number"] for d in tables["deaths"]]
    others += [h["id_number"] for h in tables["holdings"]]
    others += [o[c] for o in tables["officials"]
               for c in ("official_id_number", "relative_id_number")]
    assert all(is_valid(number) for number in others)


def test_the_mess_is_there_and_reads_clean(county: CountyTruth) -> None:
    text = "".join(p.read_text(encoding="gbk" if "bank" in p.name else "utf-8-sig")
                   for p in county.directory.glob("*.csv"))
    assert "０" in text or "１" in text or "２" in text
    assert "2025/" in text
    assert re.search(r"\d{17}x", text)
    households = (county.directory / "households.csv").read_text(encoding="utf-8-sig")
    assert any(len(cell.replace(" ", "")) == 19 and cell.count(" ") == 4
               for row in csv.reader(households.splitlines()) for cell in row)


def test_bank_accounts_are_19_digits_with_a_valid_luhn_digit(tables: dict[str, list[dict]]) -> None:
    accounts = [h["bank_account"] for h in tables["households"]]
    accounts += [b["bank_account"] for b in tables["bank_return"]]
    assert all(len(a) == 19 and a[:4] in ("6217", "6228", "6222") for a in accounts)
    assert all(luhn_valid(a) for a in accounts)
    assert not luhn_valid(accounts[0][:-1] + str((int(accounts[0][-1]) + 1) % 10))


def test_some_households_are_disclosure_exempt(tables: dict[str, list[dict]]) -> None:
    assert any(h["disclosure_exempt"] in ("是", "1") for h in tables["households"])


def test_planting_needs_three_months(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        generate_county(tmp_path, months=2)


def test_bulk_month_writes_one_payroll_and_one_bank_line_per_household(tmp_path: Path) -> None:
    lines = write_bulk_month(tmp_path, households=2000, period="2025-03", seed=3)
    assert lines == 2000
    t = read_county(tmp_path)
    assert len(t["households"]) == len(t["payroll"]) == len(t["bank_return"]) == 2000
    assert len({h["head_id_number"] for h in t["households"]}) == 2000
    assert len({h["bank_account"] for h in t["households"]}) == 2000
    assert all(is_valid(h["head_id_number"]) and luhn_valid(h["bank_account"])
               for h in t["households"])
    assert Reference(t, "2025-04-15").pairs() <= {("B01", f"{p['township']}|{p['program']}")
                                                   for p in t["payroll"]}


def test_every_generated_file_parses_with_the_project_parser(county: CountyTruth) -> None:
    files = pytest.importorskip("api.files")
    for path in sorted(county.directory.iterdir()):
        parsed = files.parse_file(path)
        assert parsed.errors == [], [str(e) for e in parsed.errors]
        assert parsed.rows

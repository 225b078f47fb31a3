"""The catalogue of record kinds: every kind of county file, declared once, as data.

A record kind is a kind of file a county office hands over (a payroll, a bank return, the
household register …). Its declaration here says everything the rest of the ledger needs
to know about it, and the rest reads it from here:

- the file parser (``api/files/``): the columns, their types, which are required (also
  on some rows only), the headers offices write for each, the enum codes and their words,
  whether identical repeated rows are merged, the file name (= the kind's name);
- the loader (``api/loader.py``): load order (declaration order), which column names a
  record of another kind (``references``), which kinds may be imported over HTTP;
- the ledger (``domain/ledger.py``): the natural key and the business date of a row;
- the postings (``domain/postings.py``): the name of the kind's posting rule;
- the frames (``projections/tables.py``): one frame per kind, its columns (money as
  ``<name>_fen``) plus ``EVIDENCE_COLUMNS``;
- the multi-county engine (``reconciliation/counties.py``, ``dask_engine.py``) and the
  workbench: county-local ids, and the ID columns of the reference lists (deaths,
  officials, holdings) a county's people are matched against;
- the documentation (``docs/formats.md``, its alias tables checked against this module).

Adding a kind is declaring it here (``docs/adding-a-file-kind.md``). ``register`` and
``unregister`` exist so a test can declare a kind of its own and remove it afterwards.

Types: ``str`` (normalised, stripped; '' when absent), ``money`` (a ``Decimal`` quantized to
0.01 in rows and events, int fen in frames, column ``<name>_fen``; None when absent),
``money?`` (money whose value may be empty on any row: a nullable ``Int64`` in frames),
``int``, ``bool``, ``date`` (``YYYY-MM-DD``), ``period`` (``YYYY-MM``), ``line_no``,
``id_number`` (resident ID, normalised only: a bad one is evidence, not an error),
``account`` (bank account, spaces and hyphens dropped), or the name of an enum in
``ENUMS`` (the value is its code). ISO strings compare correctly as text.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

# Evidence columns every frame carries besides its kind's columns.
EVIDENCE_COLUMNS: tuple[str, ...] = ("evidence_event", "evidence_row", "recorded_at")
PLAIN_TYPES: frozenset[str] = frozenset({
    "str", "money", "money?", "int", "bool", "date", "period", "line_no", "id_number",
    "account",
})
DATE_TYPES: frozenset[str] = frozenset({"date", "period"})
MONEY_SUFFIX = "_fen"


# ------------------------------------------------------------------------------ enums

@dataclass(frozen=True, eq=False)
class Codes:
    """An enum of a column: code -> the words offices write for it. The code itself and
    its label are accepted too. ``open``: a value outside the codes is kept as written
    (it is evidence, e.g. a misdirected purpose for A04), not an error."""

    name: str
    words: Mapping[str, tuple[str, ...]]
    labels: Mapping[str, str] = field(default_factory=dict)
    open: bool = False

    def label(self, code: str) -> str:
        """The Chinese name people read: the declared label, else the first word."""
        return self.labels.get(code) or (self.words[code][0] if self.words[code] else code)


ENUMS: dict[str, Codes] = {c.name: c for c in (
    Codes("program", {
        "dibao": ("最低生活保障", "低保", "城乡低保", "农村低保", "城市低保", "低保金",
                  "城乡居民最低生活保障", "农村最低生活保障", "城市最低生活保障"),
        "tekun": ("特困人员救助供养", "特困", "特困供养", "特困人员", "特困人员供养",
                  "特困供养金"),
        "temporary": ("临时救助", "临时救助金"),
        "disability": ("残疾人两项补贴", "残疾人补贴", "困难残疾人生活补贴",
                       "重度残疾人护理补贴"),
        "orphan": ("孤儿/事实无人抚养儿童基本生活费", "孤儿基本生活费", "孤儿",
                   "事实无人抚养儿童"),
        "elderly": ("高龄津贴", "高龄补贴"),
        "transition": ("衔接资金", "衔接推进乡村振兴补助资金"),
    }, labels={
        "dibao": "最低生活保障", "tekun": "特困人员救助供养", "temporary": "临时救助",
        "disability": "残疾人两项补贴", "orphan": "孤儿基本生活费", "elderly": "高龄津贴",
        "transition": "衔接资金",
    }),
    Codes("unit", {"per_person": ("按人", "按人计发"), "per_household": ("按户", "按户计发")}),
    Codes("status", {
        "success": ("成功", "交易成功", "处理成功", "入账成功", "代发成功", "已入账"),
        "failed": ("失败", "交易失败", "处理失败", "入账失败", "代发失败", "退票"),
    }),
    Codes("record_type", {
        "advance": ("预拨", "预拨备用金"), "disbursement": ("先行救助", "先行救助支出"),
        "settlement": ("核销",), "replenishment": ("补足", "补拨"),
    }),
    Codes("approval_level", {"township": ("乡镇", "乡镇级", "乡镇审批"),
                             "county": ("县级", "县", "县级审批")}),
    Codes("asset_class", {"operating": ("经营性",), "public_welfare": ("公益性",),
                          "household": ("到户类",)}),
    Codes("asset_event_type", {
        "rights_confirmed": ("确权",), "custodian_assigned": ("明确管护",),
        "income_recorded": ("收益入账",), "income_distributed": ("收益分配",),
        "value_adjusted": ("价值调整",), "transferred": ("移交",), "disposed": ("处置",),
        "inspected": ("核查",),
    }),
    Codes("holding_kind", {"vehicle": ("车辆",), "business": ("工商登记",),
                           "property": ("房产",)}),
    Codes("purpose", {
        "operation_maintenance": ("运行管护",), "consolidation": ("巩固脱贫成果",),
        "village_public_welfare": ("村级公益事业",), "household_dividend": ("农户分红",),
    }, open=True),
)}
# The programs' Chinese names, as outputs print them.
PROGRAMS: dict[str, str] = {code: ENUMS["program"].label(code) for code in ENUMS["program"].words}


# ------------------------------------------------------------------------------ columns

@dataclass(frozen=True)
class When:
    """A condition on a row: the column ``column`` holds one of ``values`` (enum codes)."""

    column: str
    values: tuple[str, ...]

    def holds(self, row: Mapping[str, Any]) -> bool:
        return row.get(self.column) in self.values

    def __str__(self) -> str:
        return f"{self.column} is {' or '.join(self.values)}"


@dataclass(frozen=True)
class Column:
    """One column of a kind. ``required``: the header must be present and every row give
    a value, except on rows where ``optional_when`` holds. A column not required may be
    absent, except that rows where ``required_when`` holds must give a value. ``aliases``:
    the headers offices write (the first is the one we write ourselves)."""

    name: str
    type: str = "str"
    required: bool = True
    aliases: tuple[str, ...] = ()
    required_when: When | None = None
    optional_when: When | None = None
    negative_allowed: bool = False  # money: a negative amount is a value, not an error
    local_id: bool = False  # a county-local identifier (prefixed across counties)
    note: str = ""  # what a person filling the file must know (docs/formats.md)

    @property
    def optional(self) -> bool:
        return not self.required

    @property
    def is_money(self) -> bool:
        return self.type.startswith("money")

    @property
    def frame_name(self) -> str:
        return self.name + MONEY_SUFFIX if self.is_money else self.name

    @property
    def label(self) -> str:
        return self.aliases[0] if self.aliases else self.name

    def value_required(self, row: Mapping[str, Any]) -> bool:
        """Whether this row must give a value in this column."""
        if self.required:
            return self.optional_when is None or not self.optional_when.holds(row)
        return self.required_when is not None and self.required_when.holds(row)


@dataclass(frozen=True)
class Reference:
    """A column whose value names a record of another kind by that kind's key."""

    column: str
    kind: str


@dataclass(frozen=True)
class RecordKind:
    """One kind of county file. Its name is also how its files are named
    (``payroll.csv``, ``payroll_2025-03.xlsx``)."""

    name: str
    label: str  # Chinese, as people read it
    description: str  # English, one sentence, for the docs
    columns: tuple[Column, ...]
    key: tuple[str, ...]  # the natural key: one real-world record
    business_date: str | None = None  # the column dating a row's event (a period: its 1st)
    value_date: str | None = None  # the column on which the row's money moves
    references: tuple[Reference, ...] = ()
    posting: str | None = None  # the name of its rule in domain.postings (None: posts nothing)
    merge_identical: bool = False  # identical repeated rows merged (lists copied around)
    matched_ids: tuple[str, ...] = ()  # a reference list: ID columns matched to people
    http_import: bool = False  # importable one file at a time over HTTP (county finance)

    def column(self, name: str) -> Column:
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(f"{self.name} has no column {name!r}")

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def frame_columns(self) -> list[str]:
        """Column names of the kind's frame: money columns become ``<name>_fen`` int."""
        return [c.frame_name for c in self.columns] + list(EVIDENCE_COLUMNS)


def _c(name: str, type_: str = "str", *aliases: str, required: bool = True,
       **more: Any) -> Column:
    return Column(name, type_, required, tuple(aliases), **more)


def _o(name: str, type_: str = "str", *aliases: str, **more: Any) -> Column:
    return _c(name, type_, *aliases, required=False, **more)


# Words shared by several kinds (each kind still declares which of them it accepts).
TOWNSHIP = ("乡镇(街道)", "乡镇", "乡镇街道", "街道(乡镇)", "所属乡镇", "乡镇名称")
VILLAGE = ("村(社区)", "村", "村社区", "村(居)委会", "村委会", "所属村", "村居", "社区")
HOUSEHOLD_ID = ("户编号", "家庭编号", "户号", "家庭户号")
PROGRAM = ("救助类别", "保障类别", "救助类型", "保障类型", "救助项目")
ACCOUNT = ("银行账号", "银行卡号", "卡号", "账号", "开户行账号", "存折账号", "银行账户",
           "一卡通账号", "一卡通卡号", "社保卡号")
ID_NUMBER = ("身份证号", "身份证号码", "证件号码", "证件号", "公民身份号码")
YEAR = ("年度", "年份")


# ------------------------------------------------------------------------------ the kinds
# Declared in load order: a kind is loaded after the kinds its rows name.

_DECLARED: tuple[RecordKind, ...] = (
    RecordKind(
        "standards", "救助标准",
        "the maximum monthly benefit of a program in a year",
        (_c("program", "program", *PROGRAM), _c("year", "int", *YEAR),
         _c("amount", "money", "标准金额", "保障标准", "救助标准", "月标准",
            note="yuan per month"),
         _c("unit", "unit", "计发单位", "计算单位", "计发方式",
            note="per person (× household members) or per household")),
        key=("program", "year")),
    RecordKind(
        "budgets", "资金预算",
        "money a program receives for a year from a fund source",
        (_c("program", "program", "资金类别", "救助类别", "项目类别"),
         _c("year", "int", *YEAR),
         _c("amount", "money", "金额", "预算金额", "下达金额", "资金金额"),
         _o("source", "str", "资金来源", "来源"),
         _o("document_no", "str", "文号", "文件号", "指标文号", "下达文号")),
        key=("program", "year", "source", "document_no"), posting="budget",
        merge_identical=True),
    RecordKind(
        "allocations", "资金拨付",
        "money allocated to a township for a program",
        (_c("allocation_id", "str", "拨付编号", "编号", "拨付单号", "拨款单号", local_id=True),
         _c("program", "program", "资金类别", "救助类别"),
         _c("township", "str", *TOWNSHIP, local_id=True),
         _c("amount", "money", "金额", "拨付金额", "拨款金额"),
         _c("date", "date", "拨付日期", "日期", "拨款日期", "下达日期"),
         _o("document_no", "str", "文号", "拨付文号", "文件号")),
        key=("allocation_id",), business_date="date", value_date="date",
        posting="allocation"),
    RecordKind(
        "households", "户籍",
        "the register of households: who heads them, where, and their bank account",
        (_c("household_id", "str", *HOUSEHOLD_ID, local_id=True),
         _c("township", "str", *TOWNSHIP, local_id=True),
         _c("village", "str", *VILLAGE),
         _c("head_name", "str", "户主姓名", "户主", "姓名"),
         _o("head_id_number", "id_number", "户主身份证号", "户主身份证号码", "户主证件号码",
            *ID_NUMBER),
         _c("members", "int", "家庭人口", "家庭人口数", "家庭人数", "保障人口", "保障人数",
            "人口数"),
         _o("bank_account", "account", *ACCOUNT),
         _o("account_holder", "str", "开户人", "开户人姓名", "户名", "账户名", "账户名称",
            "持卡人"),
         _o("disclosure_exempt", "bool", "不予公示", "不公示", "免予公示", "免于公示",
            note="1/是: left out of every public list (minors, protected persons)")),
        key=("household_id",)),
    RecordKind(
        "enrolments", "救助资格",
        "a household's enrolment in a program, its monthly amount and its exit",
        (_c("household_id", "str", *HOUSEHOLD_ID, local_id=True),
         _c("program", "program", *PROGRAM),
         _c("monthly_amount", "money", "月救助金额", "月保障金额", "月保障金", "月发放金额",
            "月补助金额", "救助金额", "保障金额"),
         _c("start_period", "period", "起始年月", "起始月份", "开始年月", "纳入年月",
            "享受起始年月", "保障起始年月"),
         _o("exit_period", "period", "退出年月", "退出月份", "停保年月", "终止年月",
            note="the first period no longer eligible; empty: still enrolled"),
         _o("gradual_exit_until", "period", "渐退截止年月", "渐退期截止年月", "渐退到期年月",
            note="the last period still payable under gradual exit (渐退); empty: none")),
        key=("household_id", "program", "start_period"), business_date="start_period",
        references=(Reference("household_id", "households"),)),
    RecordKind(
        "payroll", "发放名册",
        "a payroll line (应发): what a batch pays a household for a period",
        (_c("batch_id", "str", "批次号", "批次", "批次编号", "发放批次", "发放批次号",
            "代发批次号", local_id=True),
         _c("line_no", "line_no", "序号", "行号", "明细序号"),
         _c("program", "program", *PROGRAM, "资金类别", "补贴类别", "补贴类型"),
         _c("period", "period", "发放年月", "发放月份", "所属年月", "发放期间", "年月"),
         _c("township", "str", *TOWNSHIP, local_id=True),
         _c("household_id", "str", *HOUSEHOLD_ID, local_id=True),
         # not 户主姓名 / 户主身份证号: a roster may name the head beside another payee
         _o("payee_name", "str", "收款人", "收款人姓名", "姓名", "领款人", "领款人姓名",
            "持卡人", "持卡人姓名"),
         _o("payee_id_number", "id_number", "收款人身份证号", "收款人身份证号码",
            "收款人证件号码", "领款人身份证号", *ID_NUMBER),
         _o("bank_account", "account", *ACCOUNT, "收款账号", "收款人账号"),
         _c("amount", "money", "金额", "发放金额", "实发金额", "应发金额", "救助金额",
            "补助金额", "补贴金额", "保障金额", "保障金")),
        key=("batch_id", "line_no"), business_date="period",
        references=(Reference("household_id", "households"),), posting="payment",
        http_import=True),
    RecordKind(
        "bank_return", "银行回盘",
        "the bank's return line (实发) for a payroll line: paid or failed, and when",
        (_c("batch_id", "str", "批次号", "批次", "批次编号", "发放批次", "发放批次号",
            "代发批次号", local_id=True),
         _c("line_no", "line_no", "序号", "行号", "明细序号"),
         _o("account_holder", "str", "户名", "账户名", "账户名称", "姓名", "收款人",
            "收款人姓名", "收款户名", "持卡人姓名"),
         _o("bank_account", "account", "账号", "卡号", "银行卡号", "银行账号", "收款账号",
            "收款人账号", "开户行账号", "一卡通账号", "社保卡号"),
         _c("amount", "money?", "金额", "交易金额", "实发金额", "入账金额", "发放金额",
            "代发金额", note="may be empty on a failed line"),
         _c("status", "status", "状态", "处理状态", "交易状态", "入账状态", "处理结果",
            "交易结果", "代发结果"),
         _o("fail_reason", "str", "失败原因", "原因", "失败信息", "错误信息", "返回信息"),
         _o("value_date", "date", "入账日期", "入账时间", "交易日期", "交易时间", "记账日期",
            "到账日期", "日期", required_when=When("status", ("success",)),
            note="the day the money reached the account")),
        key=("batch_id", "line_no"), business_date="value_date", value_date="value_date",
        posting="payment", http_import=True),
    RecordKind(
        "reserve", "备用金",
        "the township reserve fund: advances, disbursements, settlements, replenishments",
        (_c("record_type", "record_type", "类型", "业务类型", "类别"),
         _c("record_id", "str", "编号", "单据编号", "业务编号", "记录编号", "单号",
            local_id=True),
         _c("township", "str", *TOWNSHIP, local_id=True),
         _o("household_id", "str", *HOUSEHOLD_ID, local_id=True),
         _c("amount", "money", "金额", "救助金额", "支出金额", "发生金额",
            optional_when=When("record_type", ("settlement",)),
            note="a settlement may leave it empty: it settles its disbursement in full"),
         _c("date", "date", "日期", "业务日期", "发生日期", "支付日期"),
         _o("approval_level", "approval_level", "审批层级", "审批级别", "审批权限"),
         _o("approver", "str", "审批人", "批准人"),
         _o("recorded_by", "str", "经办人", "录入人", "填报人"),
         _o("reference_id", "str", "关联编号", "关联单号", "原单据编号", "对应编号",
            local_id=True, note="for a settlement: the disbursement it settles"),
         _o("document_no", "str", "文号", "审批文号", "文件号")),
        key=("record_id",), business_date="date", value_date="date", posting="reserve"),
    RecordKind(
        "assets", "扶贫资产",
        "the register of poverty-alleviation project assets",
        (_c("asset_id", "str", "资产编号", "资产编码", "资产代码", local_id=True),
         _c("name", "str", "资产名称", "名称"),
         _c("asset_class", "asset_class", "资产类别", "资产类型", "资产性质"),
         _c("township", "str", *TOWNSHIP, local_id=True),
         _o("village", "str", *VILLAGE),
         _c("value", "money", "资产原值", "原值", "资产价值", "账面原值"),
         _o("funding_source", "str", "资金来源"),
         _o("project", "str", "项目名称", "所属项目"),
         _o("rights_holder", "str", "确权主体", "产权主体", "所有权人", "产权人"),
         _o("custodian", "str", "管护主体", "管护责任人", "管护单位", "管护人"),
         _c("registered_on", "date", "登记日期", "登记时间", "入库日期")),
        key=("asset_id",), business_date="registered_on", value_date="registered_on",
        posting="asset"),
    RecordKind(
        "asset_events", "资产事项",
        "what happened to an asset: rights, custody, income, value, transfer, disposal",
        (_c("event_id", "str", "编号", "事项编号", "记录编号", local_id=True),
         _c("asset_id", "str", "资产编号", "资产编码", local_id=True),
         _c("event_type", "asset_event_type", "事项", "事项类型", "业务类型"),
         _c("date", "date", "日期", "发生日期", "业务日期"),
         _c("amount", "money?", "金额", "发生金额", negative_allowed=True,
            note="a value adjustment may be negative"),
         _o("counterparty", "str", "对象", "对方", "对方单位", "交易对象"),
         _o("purpose", "purpose", "用途", "资金用途", "收益用途",
            note="for a distribution; any other purpose is kept as written"),
         _o("approval_document", "str", "审批文号", "批准文号", "审批文件"),
         _o("note", "str", "备注", "说明")),
        key=("event_id",), business_date="date", value_date="date",
        references=(Reference("asset_id", "assets"),), posting="asset_event"),
    RecordKind(
        "deaths", "死亡名单",
        "deaths reported by the civil registry or hospitals (a reference list)",
        (_c("id_number", "id_number", *ID_NUMBER, "死者身份证号"),
         _o("name", "str", "姓名", "死者姓名"),
         _c("date_of_death", "date", "死亡日期", "死亡时间")),
        key=("id_number",), business_date="date_of_death", merge_identical=True,
        matched_ids=("id_number",)),
    RecordKind(
        "officials", "干部及亲属",
        "officials and their close relatives (a reference list)",
        (_c("official_id_number", "id_number", "公职人员身份证号", "公职人员身份证号码",
            "干部身份证号"),
         _o("official_name", "str", "公职人员姓名", "干部姓名"),
         _o("position", "str", "职务", "职位"),
         _o("township", "str", *TOWNSHIP, local_id=True),
         _o("relative_id_number", "id_number", "亲属身份证号", "亲属身份证号码"),
         _o("relative_name", "str", "亲属姓名"),
         _o("relation", "str", "关系", "亲属关系", "与本人关系",
            note="the official alone: relative columns equal the official's own")),
        key=("official_id_number", "relative_id_number"), merge_identical=True,
        matched_ids=("official_id_number", "relative_id_number")),
    RecordKind(
        "holdings", "财产登记",
        "vehicles, businesses and property registered to a person (a reference list)",
        (_c("id_number", "id_number", *ID_NUMBER, "权利人身份证号"),
         _c("kind", "holding_kind", "类别", "财产类别", "登记类别"),
         _o("description", "str", "说明", "描述", "财产说明", "财产描述"),
         _c("value", "money", "价值", "评估价值", "金额"),
         _c("registered_on", "date", "登记日期", "注册日期", "登记时间")),
        key=("id_number", "kind", "description", "registered_on"),
        business_date="registered_on", merge_identical=True, matched_ids=("id_number",)),
)


# ------------------------------------------------------------------------------ registry

class CatalogueError(ValueError):
    """A kind declared inconsistently (our own declaration: a programming error)."""


_KINDS: dict[str, RecordKind] = {}


def register(kind: RecordKind) -> RecordKind:
    """Add a kind (loaded after every kind registered before it)."""
    problems = _problems(kind)
    if problems:
        raise CatalogueError(f"record kind {kind.name!r}: " + "; ".join(problems))
    _KINDS[kind.name] = kind
    return kind


def unregister(name: str) -> None:
    """Remove a kind; a kind another kind references cannot be removed."""
    users = [k.name for k in _KINDS.values() for r in k.references if r.kind == name]
    if users:
        raise CatalogueError(f"record kind {name!r} is referenced by {', '.join(users)}")
    del _KINDS[name]


@contextmanager
def registered(kind: RecordKind) -> Iterator[RecordKind]:
    """The kind is in the catalogue inside the block (tests declare kinds of their own)."""
    register(kind)
    try:
        yield kind
    finally:
        unregister(kind.name)


def kinds() -> tuple[RecordKind, ...]:
    """Every kind, in load order."""
    return tuple(_KINDS.values())


def names() -> tuple[str, ...]:
    """Every kind's name, in load order."""
    return tuple(_KINDS)


def is_kind(name: str) -> bool:
    return name in _KINDS


def get(name: str) -> RecordKind | None:
    return _KINDS.get(name)


def kind(name: str) -> RecordKind:
    try:
        return _KINDS[name]
    except KeyError:
        raise KeyError(f"unknown record kind {name!r}") from None


def columns(name: str) -> tuple[Column, ...]:
    return kind(name).columns


def key_columns(name: str) -> tuple[str, ...]:
    return kind(name).key


def frame_columns(name: str) -> list[str]:
    return kind(name).frame_columns


def defined_keys() -> dict[str, str]:
    """Kind -> its key column, for the kinds other kinds' rows name (households, assets)."""
    return {r.kind: kind(r.kind).key[0] for k in kinds() for r in k.references}


def kinds_with_column(column: str) -> tuple[str, ...]:
    """The kinds having this column (e.g. the kinds whose rows name a household)."""
    return tuple(k.name for k in kinds() if column in k.column_names)


def matched_id_columns() -> dict[str, tuple[str, ...]]:
    """Reference lists (deaths, officials, holdings) -> the ID columns matched to people."""
    return {k.name: k.matched_ids for k in kinds() if k.matched_ids}


def local_id_columns() -> dict[str, tuple[str, ...]]:
    """Kind -> its county-local id columns (prefixed with the county across counties)."""
    out = {k.name: tuple(c.name for c in k.columns if c.local_id) for k in kinds()}
    return {name: ids for name, ids in out.items() if ids}


def http_import_kinds() -> tuple[str, ...]:
    return tuple(k.name for k in kinds() if k.http_import)


# ------------------------------------------------------------------------------ checks

def _problems(k: RecordKind) -> list[str]:
    """What is inconsistent in a declaration (empty when it may be registered)."""
    problems = []
    if not (k.name.isidentifier() and k.name.islower() and k.name.isascii()):
        problems.append("a kind's name is a lower-case ASCII identifier (it names files)")
    if k.name in _KINDS:
        problems.append("declared twice")
    names_ = k.column_names
    if len(set(names_)) != len(names_):
        problems.append("a column declared twice")
    problems += [f"column {c.name}: {p}" for c in k.columns for p in _column_problems(k, c)]
    problems += [f"key column {n} is not a column" for n in k.key if n not in names_]
    if not k.key:
        problems.append("no key")
    for date in (k.business_date, k.value_date):
        if date is not None and (date not in names_ or k.column(date).type not in DATE_TYPES):
            problems.append(f"{date} is not a date or period column")
    problems += [p for r in k.references for p in _reference_problems(k, r)]
    problems += [f"matched id {n} is not an id_number column" for n in k.matched_ids
                 if n not in names_ or k.column(n).type != "id_number"]
    return problems


def _column_problems(k: RecordKind, column: Column) -> list[str]:
    problems = []
    if column.type not in PLAIN_TYPES and column.type not in ENUMS:
        problems.append(f"unknown type {column.type!r}")
    for when, allowed in ((column.required_when, column.optional),
                          (column.optional_when, column.required)):
        if when is None:
            continue
        if not allowed:
            problems.append("required_when is for optional columns, optional_when for "
                            "required ones")
        codes = ENUMS.get(k.column(when.column).type) if when.column in k.column_names \
            else None
        if codes is None or not set(when.values) <= set(codes.words):
            problems.append(f"condition {when} names no enum column and codes of {k.name}")
    if column.negative_allowed and not column.is_money:
        problems.append("negative_allowed is for money")
    return problems


def _reference_problems(k: RecordKind, reference: Reference) -> list[str]:
    target = _KINDS.get(reference.kind)
    if reference.column not in k.column_names:
        return [f"reference column {reference.column} is not a column"]
    if target is None:
        return [f"references {reference.kind}, which is not declared before it"]
    if len(target.key) != 1:
        return [f"references {reference.kind}, whose key is not one column"]
    return []


for _declared in _DECLARED:
    register(_declared)

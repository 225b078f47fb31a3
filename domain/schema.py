"""The record kinds of the county's files and the columns each carries once parsed.

This is the one place that names, for every contract file kind (CONTRACT.md section 2),
its canonical English columns and their types. The file parser (api/files.py) produces
rows with exactly these keys; the domain records them as events; the projections turn
them back into pandas frames with the same columns, plus the evidence columns below.

Types: ``str`` (normalised, stripped; empty string when absent), ``money`` (a ``Decimal``
quantized to 0.01 in rows and events, ``int`` fen in frames, column name suffixed
``_fen``), ``int``, ``bool``, ``date`` (``YYYY-MM-DD`` string), ``period`` (``YYYY-MM``
string). ISO strings compare correctly as text, which keeps frames exact and fast.
"""

from __future__ import annotations

from dataclasses import dataclass

PROGRAMS: dict[str, str] = {
    "dibao": "最低生活保障",
    "tekun": "特困人员救助供养",
    "temporary": "临时救助",
    "disability": "残疾人两项补贴",
    "orphan": "孤儿基本生活费",
    "elderly": "高龄津贴",
    "transition": "衔接资金",
}


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # str | money | int | bool | date | period | money? | date?
    required: bool = True

    @property
    def optional(self) -> bool:
        return not self.required


def _c(name: str, type_: str = "str", required: bool = True) -> Column:
    return Column(name, type_, required)


# For each kind: (columns, key columns). The key names one real-world record: loading a
# row whose key exists with different values records a correction, with equal values nothing.
KINDS: dict[str, tuple[tuple[Column, ...], tuple[str, ...]]] = {
    "standards": (
        (_c("program", "program"), _c("year", "int"), _c("amount", "money"), _c("unit", "unit")),
        ("program", "year"),
    ),
    "households": (
        (
            _c("household_id"), _c("township"), _c("village"), _c("head_name"),
            _c("head_id_number", "id_number", False), _c("members", "int"),
            _c("bank_account", "account", False), _c("account_holder", "str", False),
            _c("disclosure_exempt", "bool", False),
        ),
        ("household_id",),
    ),
    "enrolments": (
        (
            _c("household_id"), _c("program", "program"), _c("monthly_amount", "money"),
            _c("start_period", "period"), _c("exit_period", "period", False),
            _c("gradual_exit_until", "period", False),
        ),
        ("household_id", "program", "start_period"),
    ),
    "budgets": (
        (
            _c("program", "program"), _c("year", "int"), _c("amount", "money"),
            _c("source", "str", False), _c("document_no", "str", False),
        ),
        ("program", "year", "source", "document_no"),
    ),
    "allocations": (
        (
            _c("allocation_id"), _c("program", "program"), _c("township"),
            _c("amount", "money"), _c("date", "date"), _c("document_no", "str", False),
        ),
        ("allocation_id",),
    ),
    "payroll": (
        (
            _c("batch_id"), _c("line_no", "line_no"), _c("program", "program"),
            _c("period", "period"), _c("township"), _c("household_id"),
            _c("payee_name", "str", False), _c("payee_id_number", "id_number", False),
            _c("bank_account", "account", False), _c("amount", "money"),
        ),
        ("batch_id", "line_no"),
    ),
    "bank_return": (
        (
            _c("batch_id"), _c("line_no", "line_no"), _c("account_holder", "str", False),
            _c("bank_account", "account", False), _c("amount", "money?"),
            _c("status", "status"), _c("fail_reason", "str", False),
            _c("value_date", "date", False),
        ),
        ("batch_id", "line_no"),
    ),
    "reserve": (
        (
            _c("record_type", "record_type"), _c("record_id"), _c("township"),
            _c("household_id", "str", False), _c("amount", "money"), _c("date", "date"),
            _c("approval_level", "approval_level", False), _c("approver", "str", False),
            _c("recorded_by", "str", False), _c("reference_id", "str", False),
            _c("document_no", "str", False),
        ),
        ("record_id",),
    ),
    "assets": (
        (
            _c("asset_id"), _c("name"), _c("asset_class", "asset_class"), _c("township"),
            _c("village", "str", False), _c("value", "money"),
            _c("funding_source", "str", False), _c("project", "str", False),
            _c("rights_holder", "str", False), _c("custodian", "str", False),
            _c("registered_on", "date"),
        ),
        ("asset_id",),
    ),
    "asset_events": (
        (
            _c("event_id"), _c("asset_id"), _c("event_type", "asset_event_type"),
            _c("date", "date"), _c("amount", "money?"), _c("counterparty", "str", False),
            _c("purpose", "purpose", False), _c("approval_document", "str", False),
            _c("note", "str", False),
        ),
        ("event_id",),
    ),
    "deaths": (
        (_c("id_number", "id_number"), _c("name", "str", False), _c("date_of_death", "date")),
        ("id_number",),
    ),
    "officials": (
        (
            _c("official_id_number", "id_number"), _c("official_name", "str", False),
            _c("position", "str", False), _c("township", "str", False),
            _c("relative_id_number", "id_number", False), _c("relative_name", "str", False),
            _c("relation", "str", False),
        ),
        ("official_id_number", "relative_id_number"),
    ),
    "holdings": (
        (
            _c("id_number", "id_number"), _c("kind", "holding_kind"),
            _c("description", "str", False), _c("value", "money"),
            _c("registered_on", "date"),
        ),
        ("id_number", "kind", "description", "registered_on"),
    ),
}

# Load order follows dependencies: households before payroll, payroll before bank returns.
LOAD_ORDER: tuple[str, ...] = (
    "standards", "budgets", "allocations", "households", "enrolments", "payroll",
    "bank_return", "reserve", "assets", "asset_events", "deaths", "officials", "holdings",
)
assert set(LOAD_ORDER) == set(KINDS)

# Evidence columns every frame carries besides its kind's columns.
EVIDENCE_COLUMNS: tuple[str, ...] = ("evidence_event", "evidence_row", "recorded_at")


def columns(kind: str) -> tuple[Column, ...]:
    return KINDS[kind][0]


def key_columns(kind: str) -> tuple[str, ...]:
    return KINDS[kind][1]


def frame_columns(kind: str) -> list[str]:
    """Column names of the kind's frame: money columns become ``<name>_fen`` int."""
    names = [c.name + "_fen" if c.type.startswith("money") else c.name for c in columns(kind)]
    return names + list(EVIDENCE_COLUMNS)

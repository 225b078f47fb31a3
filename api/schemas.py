"""Pydantic models of the HTTP API: what comes in (``*In``) and what goes out (``*Out``).

Inputs validate like the file parser (api/files/cells.py) reads cells: text is NFKC-normalised
and stripped (names of users, townships and villages are keys: NFC, and refused when they
hold hidden characters, by ``domain.names``), programs and other codes are the enums of
domain.catalogue, money
is a JSON *string* of yuan with at most 2 decimals ("1234.50", never a float), periods are
``YYYY-MM`` and dates ``YYYY-MM-DD``. ``canonical_row`` turns an input into the row the
ledger records: exactly the kind's columns of domain.catalogue, typed as the parser types
them, so a row from the API and the same row from a file are the same record.
"""

from __future__ import annotations

import datetime as dt
import enum
import unicodedata
from collections.abc import Iterable
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any, Generic, Literal, TypeAlias, TypeVar, cast

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

from api.files import EMPTY_VALUES
from domain import catalogue
from domain.errors import DomainError
from domain.money import format_fen, parse_yuan, to_fen
from domain.names import PLACE_CHARS_MAX, clean_name
from domain.users import NAME_CHARS_MAX as USER_NAME_CHARS_MAX
from domain.users import ROLES

PAGE_SIZE_MAX = 500
PAGE_SIZE_DEFAULT = 100
OFFSET_MAX = 10**9  # keeps SQL parameters inside int64 whatever a client sends
KEY_CHARS_MAX = 64
NAME_CHARS_MAX = 100
TEXT_CHARS_MAX = 2_000
ID_NUMBER_CHARS_MAX = 32
MEMBERS_MAX = 100
VERSION_MAX = 10**9
MONEY_PATTERN = r"^[0-9]{1,12}(\.[0-9]{1,2})?$"
SIGNED_MONEY_PATTERN = r"^-?[0-9]{1,12}(\.[0-9]{1,2})?$"
PERIOD_PATTERN = r"^[0-9]{4}-(0[1-9]|1[0-2])$"
FREE_TEXT_CONTROLS = frozenset("\n\t")


def _code_enum(name: str, codes: Iterable[str]) -> type[enum.StrEnum]:
    """A str enum whose values are exactly the codes the file parser accepts."""
    # typeshed reads StrEnum(name, members) as making a member; the functional API makes a class
    return cast(type[enum.StrEnum], enum.StrEnum(name, {code: code for code in codes}))


if TYPE_CHECKING:
    # The enums are built at run time from the catalogue, so that a code is declared once;
    # to the type checker each is a StrEnum whose members it cannot list (values are str).
    Program: TypeAlias = enum.StrEnum
    RecordType: TypeAlias = enum.StrEnum
    ApprovalLevel: TypeAlias = enum.StrEnum
    AssetClass: TypeAlias = enum.StrEnum
    AssetEventType: TypeAlias = enum.StrEnum
    Role: TypeAlias = enum.StrEnum
    BalancesBy: TypeAlias = enum.StrEnum
    ImportKind: TypeAlias = enum.StrEnum
else:
    Program = _code_enum("Program", catalogue.PROGRAMS)
    RecordType = _code_enum("RecordType", catalogue.ENUMS["record_type"].words)
    ApprovalLevel = _code_enum("ApprovalLevel", catalogue.ENUMS["approval_level"].words)
    AssetClass = _code_enum("AssetClass", catalogue.ENUMS["asset_class"].words)
    AssetEventType = _code_enum("AssetEventType", catalogue.ENUMS["asset_event_type"].words)
    Role = _code_enum("Role", ROLES)
    BalancesBy = _code_enum("BalancesBy", ("township", "program", "household"))
    ImportKind = _code_enum("ImportKind", catalogue.http_import_kinds())


def _normalised(text: str, controls_allowed: frozenset[str] = frozenset()) -> str:
    clean = unicodedata.normalize("NFKC", text).strip()
    bad = [c for c in clean if c not in controls_allowed
           and unicodedata.category(c) in ("Cc", "Cs")]
    if bad:
        raise ValueError(f"contains control characters ({', '.join(map(repr, bad[:3]))})")
    return clean


def required_text(text: str) -> str:
    clean = _normalised(text)
    if not clean:
        raise ValueError("required value is empty")
    return clean


def _optional(text: str) -> str:
    return _normalised(text)


def _free_text(text: str) -> str:
    return _normalised(text, FREE_TEXT_CONTROLS)


def _date_text(value: Any) -> Any:
    """Dates are 'YYYY-MM-DD' strings in JSON; a number is not a date here."""
    if not isinstance(value, str | dt.date):
        raise ValueError("a date is a 'YYYY-MM-DD' string")
    return value


def _required_free_text(text: str) -> str:
    clean = _free_text(text)
    if not clean:
        raise ValueError("required value is empty")
    return clean


def _place(text: str) -> str:
    """A township or village: a key, so ``domain.names`` decides (422 with its reason)."""
    try:
        return clean_name(text, "name", PLACE_CHARS_MAX)
    except DomainError as error:
        raise ValueError(str(error)) from None


def _optional_place(text: str) -> str:
    return _place(text) if text.strip() else ""


def _user_name(text: str) -> str:
    try:
        return clean_name(text, "user name", USER_NAME_CHARS_MAX)
    except DomainError as error:
        raise ValueError(str(error)) from None


def _id_number(text: str) -> str:
    """Normalised only, like the parser: a bad check digit is evidence (E07), not an error."""
    return "".join(_normalised(text).split()).upper()


def _account(text: str) -> str:
    return "".join(_normalised(text).split()).replace("-", "")


Key = Annotated[str, Field(min_length=1, max_length=KEY_CHARS_MAX),
                AfterValidator(required_text)]
Name = Annotated[str, Field(min_length=1, max_length=NAME_CHARS_MAX),
                 AfterValidator(required_text)]
OptName = Annotated[str, Field(max_length=NAME_CHARS_MAX), AfterValidator(_optional)]
Place = Annotated[str, Field(min_length=1, max_length=PLACE_CHARS_MAX),
                  AfterValidator(_place)]
OptPlace = Annotated[str, Field(max_length=PLACE_CHARS_MAX), AfterValidator(_optional_place)]
UserName = Annotated[str, Field(min_length=1, max_length=USER_NAME_CHARS_MAX),
                     AfterValidator(_user_name)]
FreeText = Annotated[str, Field(max_length=TEXT_CHARS_MAX), AfterValidator(_free_text)]
Reason = Annotated[str, Field(min_length=1, max_length=TEXT_CHARS_MAX),
                   AfterValidator(_required_free_text)]
IdNumber = Annotated[str, Field(max_length=ID_NUMBER_CHARS_MAX), AfterValidator(_id_number)]
Account = Annotated[str, Field(max_length=KEY_CHARS_MAX), AfterValidator(_account)]
Money = Annotated[str, Field(pattern=MONEY_PATTERN, examples=["1234.50"],
                             description="yuan, at most 2 decimals, as a string")]
SignedMoney = Annotated[str, Field(pattern=SIGNED_MONEY_PATTERN, examples=["-120.00"],
                                   description="yuan, may be negative, as a string")]
Period = Annotated[str, Field(pattern=PERIOD_PATTERN, examples=["2025-03"])]
Date = Annotated[dt.date, BeforeValidator(_date_text)]
Version = Annotated[int, Field(ge=1, le=VERSION_MAX,
                               description="the version you read; refused if it changed")]


class In(BaseModel):
    model_config = ConfigDict(extra="forbid")


# -- inputs ---------------------------------------------------------------------------
class HouseholdFields(In):
    township: Place
    village: Place
    head_name: Name
    head_id_number: IdNumber = ""
    members: int = Field(ge=1, le=MEMBERS_MAX)
    bank_account: Account = ""
    account_holder: OptName = ""
    disclosure_exempt: bool = False


class HouseholdIn(HouseholdFields):
    household_id: Key


class HouseholdChange(HouseholdFields):
    expected_version: Version | None = None


class EnrolmentChange(In):
    monthly_amount: Money
    exit_period: Period | None = None
    gradual_exit_until: Period | None = None
    expected_version: Version | None = None


class EnrolmentIn(In):
    program: Program
    monthly_amount: Money
    start_period: Period
    exit_period: Period | None = None
    gradual_exit_until: Period | None = None


class EnrolmentExit(In):
    exit_period: Period
    gradual_exit_until: Period | None = None
    expected_version: Version | None = None


class AllocationIn(In):
    allocation_id: Key
    program: Program
    township: Place
    amount: Money
    date: Date
    document_no: OptName = ""


class ReserveIn(In):
    record_type: RecordType
    record_id: Key
    township: Place
    household_id: Annotated[str, Field(max_length=KEY_CHARS_MAX),
                            AfterValidator(_optional)] = ""
    amount: Money
    date: Date
    approval_level: ApprovalLevel | None = Field(
        None, description="the level that approved on paper; above the policy amount "
        "leave empty: the approving user's level is recorded")
    approver: OptName = Field("", description="who approved on paper; above the policy "
                              "amount leave empty: an approver user approves in the ledger")
    reference_id: OptName = ""
    document_no: OptName = ""


class AssetIn(In):
    asset_id: Key
    name: Name
    asset_class: AssetClass
    township: Place
    village: OptPlace = ""
    value: Money
    funding_source: OptName = ""
    project: OptName = ""
    rights_holder: OptName = ""
    custodian: OptName = ""
    registered_on: Date


class AssetEventIn(In):
    event_id: Key
    event_type: AssetEventType
    date: Date
    amount: SignedMoney | None = None
    counterparty: OptName = ""
    purpose: OptName = Field("", description="for a distribution; any text, an unlisted "
                             "purpose is what finding A04 looks for")
    approval_document: OptName = ""
    note: FreeText = ""


class AdjustmentIn(In):
    adjustment_id: Key
    account_from: Name
    account_to: Name
    amount: Money
    reason: Reason
    business_date: Date


class DispositionIn(In):
    status: Literal["under_review", "confirmed", "dismissed", "recovered"]
    note: FreeText = ""
    recovered: Money | None = None


class RejectionIn(In):
    reason: Reason


class UserIn(In):
    name: UserName
    role: Role
    township: OptPlace | None = None


class UserSetIn(In):
    role: Role
    township: OptPlace | None = Field(None, description="none: county-wide")


# -- outputs --------------------------------------------------------------------------
T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int


class ErrorOut(BaseModel):
    detail: str = Field(description="what was wrong, for the person who asked")
    problems: list[str] = Field(default_factory=list,
                                description="every problem of a rejected file")


class UserOut(BaseModel):
    name: str
    role: str
    township: str | None
    live_tokens: int


class UserCreatedOut(UserOut):
    token: str = Field(description="the bearer token; shown once, only its hash is kept")


class UserSetOut(UserCreatedOut):
    revoked: int = Field(description="tokens revoked by the change (all the user had)")


class RevokedOut(BaseModel):
    name: str
    revoked: int


class AccessOut(BaseModel):
    reader: str
    role: str
    subject_type: str
    subject_id: str
    what: str
    recorded_at: dt.datetime


class WrittenOut(BaseModel):
    kind: str
    key: str
    version: int
    actor: str


class HouseholdSummaryOut(BaseModel):
    household_id: str
    township: str
    village: str
    members: int | None


class HouseholdOut(BaseModel):
    household_id: str
    township: str
    village: str
    head_name: str
    head_id_number: str
    members: int | None
    bank_account: str
    account_holder: str
    disclosure_exempt: bool
    version: int


class EnrolmentOut(BaseModel):
    household_id: str
    program: str
    monthly_amount: str | None
    start_period: str
    exit_period: str
    gradual_exit_until: str
    version: int


class BankResultOut(BaseModel):
    status: str
    amount: str | None
    value_date: str
    fail_reason: str
    account_holder: str
    bank_account: str


class PaymentOut(BaseModel):
    batch_id: str
    line_no: str
    program: str
    period: str
    township: str
    payee_name: str
    bank_account: str
    amount: str | None
    bank: BankResultOut | None = Field(description="the bank's return line; null: none yet")


class ReserveRecordOut(BaseModel):
    record_type: str
    record_id: str
    township: str
    amount: str | None
    date: str
    approval_level: str
    approver: str
    recorded_by: str


class StatementOut(BaseModel):
    household: HouseholdOut
    enrolments: list[EnrolmentOut]
    payments: list[PaymentOut]
    reserve: list[ReserveRecordOut]
    paid_total: str = Field(description="what the bank confirms it paid (successful lines)")


FieldValue = str | int | bool | None


class HistoryEventOut(BaseModel):
    kind: str
    key: str
    event: Literal["Recorded", "Corrected"]
    version: int
    recorded_at: str
    business_date: str
    actor: str
    source: str = Field(description="the file row (file.csv#row) or API call behind it")
    evidence_event: str = Field(description="<aggregate id>/<version> in the event store")
    fields: dict[str, FieldValue]


class BalanceRowOut(BaseModel):
    township: str | None = None
    program: str | None = None
    household_id: str | None = None
    budget: str | None = None
    allocated: str | None = None
    paid: str | None = None
    balance: str | None = None
    periods_paid: int | None = None


class BalancesOut(Page[BalanceRowOut]):
    by: str
    as_of: dt.date
    known_at: str | None


class AssetOut(BaseModel):
    asset_id: str
    name: str
    asset_class: str
    township: str
    village: str
    value: str | None
    funding_source: str
    project: str
    rights_holder: str
    custodian: str
    registered_on: str
    version: int


class AssetEventOut(BaseModel):
    event_id: str
    asset_id: str
    event_type: str
    date: str
    amount: str | None
    counterparty: str
    purpose: str
    approval_document: str
    note: str
    version: int


class AssetDetailOut(BaseModel):
    asset: AssetOut
    events: list[AssetEventOut]


class ReserveOutcomeOut(BaseModel):
    record_id: str
    status: Literal["recorded", "pending_approval"]
    approval_threshold: str = Field(description="reserve movements above this many yuan "
                                    "wait for a second person's approval")


class ApprovalOut(BaseModel):
    record_id: str
    record_type: str
    township: str
    status: str
    requested_by: str
    decided_by: str
    approval_level: str = Field(description="the approver's level, once approved")
    reason: str
    amount: str | None
    date: str
    household_id: str


class FieldChangeOut(BaseModel):
    field: str
    before: str
    after: str


class ChangeOut(BaseModel):
    change_id: str = Field(description="opaque id of the pending change")
    kind: str
    key: str
    township: str
    status: str = Field(description="pending, approved or rejected")
    requested_by: str
    decided_by: str
    reason: str
    base_version: int = Field(description="the record's version the change was made on")
    changes: list[FieldChangeOut]


class AdjustmentOut(BaseModel):
    adjustment_id: str
    account_from: str
    account_to: str
    amount: str
    reason: str
    business_date: str
    recorded_by: str
    approver: str
    status: str


class DispositionOut(BaseModel):
    status: str
    note: str
    actor: str
    recovered: str | None


class FindingOut(BaseModel):
    finding_id: str = Field(description="opaque id: how routes name the finding (a subject "
                            "may be a bank account, which stays out of URLs)")
    code: str
    subject_type: str
    subject_id: str
    period: str
    amount: str | None
    severity: str
    title: str
    detail: str
    evidence: str
    status: str
    history: list[DispositionOut]


class ImportOut(BaseModel):
    name: str
    kind: str
    rows: int
    created: int
    corrected: int
    unchanged: int
    events: int
    already_loaded: bool


# -- conversions ----------------------------------------------------------------------
def canonical_row(kind: str, values: dict[str, Any]) -> dict[str, Any]:
    """Exactly the kind's columns, typed as the file parser types them."""
    row: dict[str, Any] = {}
    for column in catalogue.columns(kind):
        value = values.get(column.name)
        if isinstance(value, enum.Enum):
            value = value.value
        if value is None or value == "":
            row[column.name] = EMPTY_VALUES.get(column.type, "")
        elif column.is_money:
            row[column.name] = parse_yuan(str(value))
        elif isinstance(value, dt.date):
            row[column.name] = value.isoformat()
        else:
            row[column.name] = value
    return row


def yuan_text(value: Any) -> str | None:
    """Money of a stored row or aggregate as '1234.50' (None when absent)."""
    if value is None or value == "":
        return None
    return format_fen(to_fen(Decimal(str(value))))

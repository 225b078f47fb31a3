"""Households and their enrolments: register, change, enrol, exit; statement and history.

A change of a household's bank account or account holder waits for a second person
(202 with the pending change; ``api/routers/changes.py`` decides it); other changes take
effect at once. Reading a statement or history is recorded for every role.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse
from pydantic import AfterValidator

from api.routers import reads
from api.routers.changes import change_out
from api.routers.deps import (
    PageParams,
    Principal,
    Reader,
    Recorder,
    State,
    record_personal_read,
    source_of,
    stored_household,
    written,
)
from api.schemas import (
    KEY_CHARS_MAX,
    NAME_CHARS_MAX,
    PERIOD_PATTERN,
    BankResultOut,
    ChangeOut,
    EnrolmentChange,
    EnrolmentExit,
    EnrolmentIn,
    EnrolmentOut,
    HistoryEventOut,
    HouseholdChange,
    HouseholdIn,
    HouseholdOut,
    HouseholdSummaryOut,
    Page,
    PaymentOut,
    Program,
    ReserveRecordOut,
    StatementOut,
    WrittenOut,
    canonical_row,
    required_text,
    yuan_text,
)
from domain import approvals, money_facts
from domain.errors import NotFound
from domain.ledger import key_of
from domain.money import format_fen

router = APIRouter(prefix="/households", tags=["households"])

HouseholdId = Annotated[str, Path(min_length=1, max_length=KEY_CHARS_MAX),
                        AfterValidator(required_text)]
ProgramPath = Annotated[Program, Path()]
PeriodPath = Annotated[str, Path(pattern=PERIOD_PATTERN)]
TownshipQuery = Annotated[str | None, Query(max_length=NAME_CHARS_MAX)]
AsOfQuery = Annotated[dt.date | None, Query(description="YYYY-MM-DD: count payments "
                                            "value-dated on or before this day")]


# -- commands -------------------------------------------------------------------------
@router.post("", response_model=WrittenOut, status_code=201)
def register_household(body: HouseholdIn, user: Recorder, state: State,
                       request: Request) -> WrittenOut:
    user.check_township(body.township, f"household {body.household_id}")
    row = canonical_row("households", body.model_dump())
    record = approvals.write_record(state.store.ledger, "households", row, actor=user.name,
                                    source=source_of(request), create_only=True)
    return written(record)


@router.put("/{household_id}", response_model=WrittenOut,
            responses={202: {"model": ChangeOut, "description": "the change touches the "
                             "bank account or account holder: it waits for a second person"}})
def change_household(household_id: HouseholdId, body: HouseholdChange, user: Recorder,
                     state: State, request: Request) -> WrittenOut | JSONResponse:
    """Change a household; a new bank account or account holder takes effect only when
    an approver other than you approves it (202, the household unchanged until then)."""
    stored_household(state.store, household_id, user)
    user.check_township(body.township, f"household {household_id} (new township)")
    row = canonical_row("households", {**body.model_dump(), "household_id": household_id})
    outcome = approvals.change_record(state.store.ledger, "households", row, actor=user.actor,
                                      source=source_of(request),
                                      expected_version=body.expected_version)
    if isinstance(outcome, approvals.RecordChange):
        return JSONResponse(change_out(outcome).model_dump(mode="json"), status_code=202)
    return written(outcome)


@router.post("/{household_id}/enrolments", response_model=WrittenOut, status_code=201)
def enrol(household_id: HouseholdId, body: EnrolmentIn, user: Recorder, state: State,
          request: Request) -> WrittenOut:
    stored_household(state.store, household_id, user)
    row = canonical_row("enrolments", {**body.model_dump(), "household_id": household_id})
    record = approvals.write_record(state.store.ledger, "enrolments", row, actor=user.name,
                                    source=source_of(request), create_only=True)
    return written(record)


def _change_enrolment(state: State, user: Principal, request: Request, household_id: str,
                      key_fields: dict[str, str], changes: dict[str, Any],
                      expected_version: int | None) -> WrittenOut:
    stored_household(state.store, household_id, user)
    key = key_of("enrolments", {"household_id": household_id, **key_fields})
    current = approvals.find_record(state.store.ledger, "enrolments", key)
    if current is None:
        raise NotFound(f"household {household_id} has no enrolment {key!r}")
    row = canonical_row("enrolments", {**current.fields, **changes})
    record = approvals.write_record(state.store.ledger, "enrolments", row, actor=user.name,
                                    source=source_of(request), must_exist=True,
                                    expected_version=expected_version)
    return written(record)


@router.put("/{household_id}/enrolments/{program}/{start_period}", response_model=WrittenOut)
def change_enrolment(household_id: HouseholdId, program: ProgramPath, start_period: PeriodPath,
                     body: EnrolmentChange, user: Recorder, state: State,
                     request: Request) -> WrittenOut:
    changes = body.model_dump(exclude={"expected_version"})
    return _change_enrolment(state, user, request, household_id,
                             {"program": program.value, "start_period": start_period},
                             changes, body.expected_version)


@router.post("/{household_id}/enrolments/{program}/{start_period}/exit",
             response_model=WrittenOut)
def exit_enrolment(household_id: HouseholdId, program: ProgramPath, start_period: PeriodPath,
                   body: EnrolmentExit, user: Recorder, state: State,
                   request: Request) -> WrittenOut:
    changes = body.model_dump(exclude={"expected_version"})
    return _change_enrolment(state, user, request, household_id,
                             {"program": program.value, "start_period": start_period},
                             changes, body.expected_version)


# -- queries --------------------------------------------------------------------------
@router.get("", response_model=Page[HouseholdSummaryOut])
def list_households(user: Reader, state: State, page: PageParams,
                    township: TownshipQuery = None) -> Page[HouseholdSummaryOut]:
    with state.caught_up() as store:
        rows = reads.latest_of_kind(store.db, "households")
    rows = [f for f in rows if user.sees(str(f.fields.get("township", "")))
            and (township is None or f.fields.get("township") == township)]
    items = [HouseholdSummaryOut(household_id=f.key, township=f.fields["township"],
                                 village=f.fields.get("village", ""),
                                 members=f.fields.get("members")) for f in page.slice(rows)]
    return Page(items=items, total=len(rows), limit=page.limit, offset=page.offset)


def _readable_facts(state: State, user: Principal, household_id: str,
                    what: str) -> list[reads.Fact]:
    """Every fact of the household, after the jurisdiction check (another township's
    household is answered as one that does not exist); the read is recorded, whoever
    reads, before anything is returned."""
    with state.caught_up() as store:
        found = reads.household_facts(store.db, household_id)
    current = reads.latest(found).get(("households", household_id))
    if current is None or not user.sees(str(current.fields["township"])):
        raise user.not_registered(f"household {household_id}")
    record_personal_read(state.store, user, "household", household_id, what)
    return found


@router.get("/{household_id}", response_model=StatementOut)
def household_statement(household_id: HouseholdId, user: Reader, state: State,
                        as_of: AsOfQuery = None) -> StatementOut:
    """The household's records now, its payroll lines with the bank's results, and
    what the bank confirms it paid (``paid_total``: value-dated by ``as_of`` when given)."""
    current = reads.latest(_readable_facts(state, user, household_id, "statement"))
    by_kind: dict[str, list[reads.Fact]] = {}
    for (kind, _), fact in current.items():
        if kind == "households" or fact.fields.get("household_id") == household_id:
            by_kind.setdefault(kind, []).append(fact)
    lines = [(f, current.get(("bank_return", f.key))) for f in by_kind.get("payroll", [])]
    day = as_of.isoformat() if as_of is not None else None
    paid_fen = sum(money_facts.paid_fen(line.fields, bank.fields if bank else None, day)
                   for line, bank in lines)
    payments = [_payment(line, bank) for line, bank in lines]
    return StatementOut(
        household=_household(current[("households", household_id)]),
        enrolments=[_enrolment(f) for f in by_kind.get("enrolments", [])],
        payments=payments,
        reserve=[_reserve(f) for f in by_kind.get("reserve", [])],
        paid_total=format_fen(paid_fen))


@router.get("/{household_id}/history", response_model=Page[HistoryEventOut])
def household_history(household_id: HouseholdId, user: Reader, state: State,
                      page: PageParams) -> Page[HistoryEventOut]:
    """Every event of every record of the household: who, when recorded, about when, from
    which file row or API call."""
    found = _readable_facts(state, user, household_id, "history")
    items = [_history_event(f) for f in page.slice(found)]
    return Page(items=items, total=len(found), limit=page.limit, offset=page.offset)


def _history_event(fact: reads.Fact) -> HistoryEventOut:
    return HistoryEventOut(
        kind=fact.kind, key=fact.key, event="Recorded" if fact.version == 1 else "Corrected",
        version=fact.version, recorded_at=fact.recorded_at, business_date=fact.business_date,
        actor=fact.actor, source=fact.source, evidence_event=fact.evidence_event,
        fields=fact.fields)


def _household(fact: reads.Fact) -> HouseholdOut:
    f = fact.fields
    return HouseholdOut(
        household_id=fact.key, township=f["township"], village=f.get("village", ""),
        head_name=f.get("head_name", ""), head_id_number=f.get("head_id_number", ""),
        members=f.get("members"), bank_account=f.get("bank_account", ""),
        account_holder=f.get("account_holder", ""),
        disclosure_exempt=bool(f.get("disclosure_exempt")), version=fact.version)


def _enrolment(fact: reads.Fact) -> EnrolmentOut:
    f = fact.fields
    return EnrolmentOut(
        household_id=f["household_id"], program=f["program"],
        monthly_amount=yuan_text(f.get("monthly_amount")), start_period=f["start_period"],
        exit_period=f.get("exit_period", ""), gradual_exit_until=f.get("gradual_exit_until", ""),
        version=fact.version)


def _payment(line: reads.Fact, bank: reads.Fact | None) -> PaymentOut:
    f = line.fields
    result = None
    if bank is not None:
        b = bank.fields
        result = BankResultOut(
            status=b.get("status", ""), amount=yuan_text(b.get("amount")),
            value_date=b.get("value_date", ""), fail_reason=b.get("fail_reason", ""),
            account_holder=b.get("account_holder", ""), bank_account=b.get("bank_account", ""))
    return PaymentOut(
        batch_id=f["batch_id"], line_no=str(f["line_no"]), program=f["program"],
        period=f["period"], township=f["township"], payee_name=f.get("payee_name", ""),
        bank_account=f.get("bank_account", ""), amount=yuan_text(f.get("amount")), bank=result)


def _reserve(fact: reads.Fact) -> ReserveRecordOut:
    f = fact.fields
    return ReserveRecordOut(
        record_type=f["record_type"], record_id=f["record_id"], township=f["township"],
        amount=yuan_text(f.get("amount")), date=f.get("date", ""),
        approval_level=f.get("approval_level", ""), approver=f.get("approver", ""),
        recorded_by=f.get("recorded_by", ""))


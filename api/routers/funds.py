"""Money: allocations, reserve-fund movements (four eyes above the policy amount), their
approvals, and balances as of a date and as known at a moment.

The rules (what waits, who may approve at which level) are ``domain.approvals``'; this
module reads the amounts from the county's policy and translates."""

from __future__ import annotations

import datetime as dt
import pathlib
import tempfile
from typing import Annotated

import pandas as pd
from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import AfterValidator

from api.routers.deps import (
    Approver,
    Finance,
    PageParams,
    Principal,
    Reader,
    Recorder,
    State,
    source_of,
    stored_household,
    written,
)
from api.schemas import (
    KEY_CHARS_MAX,
    AllocationIn,
    ApprovalOut,
    BalanceRowOut,
    BalancesBy,
    BalancesOut,
    Page,
    RejectionIn,
    ReserveIn,
    ReserveOutcomeOut,
    WrittenOut,
    canonical_row,
    required_text,
    yuan_text,
)
from api.wiring import Store
from domain import approvals
from domain.errors import DomainError, Forbidden
from domain.money import format_fen
from projections import balances
from projections.frames import load_frames, normalise_moment
from reconciliation.common import Frames
from reconciliation.policy import load_policy
from reconciliation.rule import policy_fen

router = APIRouter(tags=["funds"])

RecordIdPath = Annotated[str, Path(min_length=1, max_length=KEY_CHARS_MAX),
                         AfterValidator(required_text)]
LEVEL_LIMITS_CODE = "R02"  # the finding code whose policy holds the approval limits
KNOWN_AT_YEAR_MIN, KNOWN_AT_YEAR_MAX = 1000, 9998  # a day's margin for time zones
TOWNSHIP_FILTERED_KINDS = ("allocations", "payroll", "reserve", "households")


@router.post("/allocations", response_model=WrittenOut, status_code=201)
def record_allocation(body: AllocationIn, user: Finance, state: State,
                      request: Request) -> WrittenOut:
    """An allocation from a program's budget to a township (finance office)."""
    user.check_township(body.township, f"allocation {body.allocation_id}")
    row = canonical_row("allocations", body.model_dump())
    record = approvals.write_record(state.store.ledger, "allocations", row, actor=user.name,
                                    source=source_of(request), create_only=True)
    return written(record)


def approval_limits(store: Store) -> approvals.ApprovalLimits:
    """The four-eyes amounts of the county's policy (the policy.toml loaded with its
    files): ``[approvals]`` and R02's level limits."""
    text = store.ledger.policy_text()
    if text is None:
        policy = load_policy(None)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            path = pathlib.Path(tmp) / "policy.toml"
            path.write_text(text, encoding="utf-8")
            policy = load_policy(path)
    levels = policy[LEVEL_LIMITS_CODE]
    return approvals.approval_limits(policy.get(approvals.POLICY_TABLE, {}),
                                     township_fen=policy_fen(levels["township_limit"]),
                                     county_fen=policy_fen(levels["county_limit"]))


@router.post("/reserve", response_model=ReserveOutcomeOut, status_code=201,
             responses={202: {"model": ReserveOutcomeOut,
                              "description": "above the policy amount: waits for approval"}})
def record_reserve_movement(body: ReserveIn, user: Recorder, state: State, request: Request,
                            response: Response) -> ReserveOutcomeOut:
    """An advance, disbursement, settlement or replenishment of a township reserve fund.
    Above the policy amount it is held (202), moving nothing, until an approver other
    than you approves it."""
    store = state.store
    user.check_township(body.township, f"reserve record {body.record_id}")
    if body.household_id:
        stored_household(store, body.household_id, user)
    row = canonical_row("reserve", {**body.model_dump(), "recorded_by": user.name})
    limits = approval_limits(store)
    status = approvals.record_reserve_movement(store.ledger, row, user.actor,
                                               source_of(request), limits)
    if status == "pending_approval":
        response.status_code = 202
    return ReserveOutcomeOut(record_id=body.record_id, status=status,
                             approval_threshold=format_fen(limits.reserve_fen))


def _approval_out(approval: approvals.ReserveApproval) -> ApprovalOut:
    f = approval.fields
    return ApprovalOut(record_id=approval.record_id,
                       record_type=str(f.get("record_type", "")), township=approval.township,
                       status=approval.status, requested_by=approval.requested_by,
                       decided_by=approval.decided_by, approval_level=approval.level,
                       reason=approval.reason, amount=yuan_text(f.get("amount")),
                       date=str(f.get("date", "")), household_id=str(f.get("household_id", "")))


@router.get("/approvals", response_model=Page[ApprovalOut])
def list_approvals(
    user: Reader, state: State, page: PageParams,
    status: Annotated[str | None, Query(pattern=f"^({'|'.join(approvals.STATUSES)})$")]
    = None,
) -> Page[ApprovalOut]:
    """Reserve movements above the policy amount and what became of them."""
    found = [a for a in approvals.reserve_approvals(state.store.ledger)
             if user.sees(a.township) and (status is None or a.status == status)]
    items = [_approval_out(a) for a in page.slice(found)]
    return Page(items=items, total=len(found), limit=page.limit, offset=page.offset)


def _decidable(state: State, record_id: str, user: Principal) -> None:
    approval = approvals.get_reserve_approval(state.store.ledger, record_id)
    user.check_township(approval.township, f"reserve movement {record_id}")


@router.post("/approvals/{record_id}/approve", response_model=ApprovalOut)
def approve_reserve_movement(record_id: RecordIdPath, user: Approver,
                             state: State) -> ApprovalOut:
    """Approve someone else's movement (never one's own: 403), within your level: it is
    recorded with you as approver and your level (township or county) as approval level.
    A disbursement above your level's limit, or another movement by township staff: 403."""
    _decidable(state, record_id, user)
    approvals.approve_reserve_movement(state.store.ledger, record_id, user.actor,
                                       approval_limits(state.store))
    return _approval_out(approvals.get_reserve_approval(state.store.ledger, record_id))


@router.post("/approvals/{record_id}/reject", response_model=ApprovalOut)
def reject_reserve_movement(record_id: RecordIdPath, body: RejectionIn, user: Approver,
                            state: State) -> ApprovalOut:
    _decidable(state, record_id, user)
    approval = approvals.reject_reserve_movement(state.store.ledger, record_id, user.actor,
                                                 body.reason)
    return _approval_out(approval)


# -- balances -------------------------------------------------------------------------
def _known_at(moment: dt.datetime | None) -> str | None:
    """UTC text of the moment as rm_facts stores it; years outside four digits refused
    (stored moments compare as fixed-width text)."""
    if moment is None:
        return None
    if not KNOWN_AT_YEAR_MIN <= moment.year <= KNOWN_AT_YEAR_MAX:
        raise DomainError(f"known_at {moment.isoformat()}: the year must be between "
                          f"{KNOWN_AT_YEAR_MIN} and {KNOWN_AT_YEAR_MAX}")
    try:
        return normalise_moment(moment.isoformat())
    except (ValueError, OverflowError) as error:
        raise DomainError(f"known_at {moment.isoformat()}: not a usable moment ({error})") \
            from None


def _township_frames(frames: Frames, township: str) -> Frames:
    """The frames a township's staff may see: their township's rows only."""
    for kind in TOWNSHIP_FILTERED_KINDS:
        frame = getattr(frames, kind)
        setattr(frames, kind, frame[frame["township"] == township])
    return frames


def _balance_row(row: dict) -> BalanceRowOut:
    out: dict[str, object] = {}
    for name, value in row.items():
        if name in balances.MONEY_COLUMNS:
            out[name] = format_fen(int(value))
        elif name == "periods_paid":
            out[name] = int(value)
        else:
            out[name] = str(value)
    return BalanceRowOut.model_validate(out)


@router.get("/balances", response_model=BalancesOut)
def balance_report(
    user: Reader, state: State, page: PageParams, by: BalancesBy,
    as_of: dt.date,
    known_at: Annotated[dt.datetime | None, Query(description="ISO 8601; what the books "
                                                  "showed then, before later corrections")]
    = None,
) -> BalancesOut:
    """The balances of docs/formats.md; township staff see their township only."""
    if user.township is not None and by.value == "program":
        raise Forbidden("balances by program are county-wide; ask for by=township")
    moment = _known_at(known_at)
    with state.caught_up() as store:
        frames = load_frames(store.db, known_at=moment)
    if user.township is not None:
        frames = _township_frames(frames, user.township)
    table: pd.DataFrame = balances.report(frames, by.value, as_of.isoformat())
    rows = [_balance_row(r) for r in table.to_dict("records")]
    return BalancesOut(items=page.slice(rows), total=len(rows), limit=page.limit,
                       offset=page.offset, by=by.value, as_of=as_of, known_at=moment)


"""Adjustments (调整): requested with a reason, in effect only once a second person approves.

Adjustments move money between ledger accounts of the whole county, so they are
requested, approved and read by county-wide staff only.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from pydantic import AfterValidator

from api.routers.deps import CountyApprover, CountyReader, CountyRecorder, PageParams, State
from api.schemas import KEY_CHARS_MAX, AdjustmentIn, AdjustmentOut, Page, required_text
from domain import approvals
from domain.money import parse_yuan
from domain.records import Adjustment

router = APIRouter(prefix="/adjustments", tags=["adjustments"])

AdjustmentId = Annotated[str, Path(min_length=1, max_length=KEY_CHARS_MAX),
                         AfterValidator(required_text)]


def adjustment_out(adjustment: Adjustment) -> AdjustmentOut:
    return AdjustmentOut(
        adjustment_id=adjustment.adjustment_id, account_from=adjustment.account_from,
        account_to=adjustment.account_to, amount=f"{adjustment.amount:.2f}",
        reason=adjustment.reason, business_date=adjustment.business_date,
        recorded_by=adjustment.recorded_by, approver=adjustment.approver,
        status=adjustment.status)


@router.post("", response_model=AdjustmentOut, status_code=201)
def request_adjustment(body: AdjustmentIn, user: CountyRecorder,
                       state: State) -> AdjustmentOut:
    """Request an adjustment; it takes effect only when a different approver approves."""
    adjustment = state.store.ledger.request_adjustment(
        adjustment_id=body.adjustment_id, account_from=body.account_from,
        account_to=body.account_to, amount=parse_yuan(body.amount), reason=body.reason,
        actor=user.name, actor_id=user.actor.user_id,
        business_date=body.business_date.isoformat())
    return adjustment_out(adjustment)


@router.post("/{adjustment_id}/approve", response_model=AdjustmentOut)
def approve_adjustment(adjustment_id: AdjustmentId, user: CountyApprover,
                       state: State) -> AdjustmentOut:
    """Approve someone else's adjustment (never one's own, by user id: 403)."""
    return adjustment_out(approvals.approve_adjustment(state.store.ledger, adjustment_id,
                                                       user.actor))


@router.get("", response_model=Page[AdjustmentOut])
def list_adjustments(
    user: CountyReader, state: State, page: PageParams,
    status: Annotated[str | None, Query(pattern="^(pending|approved)$")] = None,
) -> Page[AdjustmentOut]:
    found = [a for a in approvals.adjustments(state.store.ledger)
             if status is None or a.status == status]
    return Page(items=[adjustment_out(a) for a in page.slice(found)], total=len(found),
                limit=page.limit, offset=page.offset)


@router.get("/{adjustment_id}", response_model=AdjustmentOut)
def get_adjustment(adjustment_id: AdjustmentId, user: CountyReader,
                   state: State) -> AdjustmentOut:
    return adjustment_out(approvals.get_adjustment(state.store.ledger, adjustment_id))

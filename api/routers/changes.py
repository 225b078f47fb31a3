"""Changes of where money goes (a household's bank account or account holder), waiting
for a second person: list them, approve (the household is corrected), reject.

The rules (who may decide, staleness) are ``domain.approvals``'; this module translates.
A change of another township is answered as one that does not exist.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from pydantic import AfterValidator

from api.routers.deps import (
    Approver,
    PageParams,
    Principal,
    Reader,
    State,
    record_personal_read,
)
from api.schemas import KEY_CHARS_MAX, ChangeOut, FieldChangeOut, Page, RejectionIn, required_text
from domain import approvals
from domain.errors import NotFound

router = APIRouter(prefix="/changes", tags=["changes"])

ChangeId = Annotated[str, Path(min_length=1, max_length=KEY_CHARS_MAX),
                     AfterValidator(required_text)]


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def change_out(change: approvals.RecordChange) -> ChangeOut:
    """The change as the approver needs to see it: every field it changes, before and
    after."""
    fields = [FieldChangeOut(field=name, before=_text(change.before.get(name)),
                             after=_text(value))
              for name, value in change.after.items() if change.before.get(name) != value]
    return ChangeOut(change_id=change.change_id, kind=change.kind, key=change.key,
                     township=change.township, status=change.status,
                     requested_by=change.requested_by, decided_by=change.decided_by,
                     reason=change.reason, base_version=change.base_version, changes=fields)


def _visible(state: State, change_id: str, user: Principal) -> approvals.RecordChange:
    try:
        change = approvals.get_change(state.store.ledger, change_id)
    except NotFound:
        change = None
    if change is None or not all(user.sees(t) for t in change.townships):
        raise user.not_registered(f"change {change_id}")
    return change


@router.get("", response_model=Page[ChangeOut])
def list_changes(
    user: Reader, state: State, page: PageParams,
    status: Annotated[str | None, Query(pattern=f"^({'|'.join(approvals.STATUSES)})$")]
    = None,
) -> Page[ChangeOut]:
    """Changes of bank account or account holder and what became of them (oldest first;
    township staff: their township's). Each household shown is a recorded read."""
    found = [c for c in approvals.record_changes(state.store.ledger)
             if all(user.sees(t) for t in c.townships) and (status is None or c.status == status)]
    shown = page.slice(found)
    for change in shown:
        record_personal_read(state.store, user, "household", change.key, "bank change")
    return Page(items=[change_out(c) for c in shown], total=len(found), limit=page.limit,
                offset=page.offset)


@router.post("/{change_id}/approve", response_model=ChangeOut)
def approve_change(change_id: ChangeId, user: Approver, state: State) -> ChangeOut:
    """Approve someone else's change (never one's own: 403): the record takes it now."""
    _visible(state, change_id, user)
    approvals.approve_change(state.store.ledger, change_id, user.actor)
    return change_out(approvals.get_change(state.store.ledger, change_id))


@router.post("/{change_id}/reject", response_model=ChangeOut)
def reject_change(change_id: ChangeId, body: RejectionIn, user: Approver,
                  state: State) -> ChangeOut:
    """Reject someone else's change, with a reason: the record keeps its values."""
    _visible(state, change_id, user)
    return change_out(approvals.reject_change(state.store.ledger, change_id, user.actor,
                                              body.reason))

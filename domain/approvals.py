"""Maker-checker for reserve disbursements, and the guarded record writes of the API.

A reserve disbursement above the policy amount is not a record until a second person
approves it: it waits as a ``ReserveApproval`` holding the row. Approval writes the
approval event and the ``reserve`` record (with ``approver`` = the approving user) in one
``save``, so the books never show an approved-but-unrecorded or recorded-but-unapproved
disbursement. The person who asked can never approve (checked here, not in the API).

``write_record`` is ``Ledger.record_row`` with the checks an interactive client needs:
create-only (a POST must not overwrite) and an expected version (a PUT built on a stale
read is refused with ``Conflict`` instead of silently undoing someone's change). The
version compared is the aggregate's, and the save itself is optimistic, so a writer who
slips in between the read and the save also ends in ``Conflict``.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid5

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import Aggregate, event
from eventsourcing.persistence import IntegrityError

from domain.errors import Conflict, DomainError, Forbidden, NotFound
from domain.ledger import business_date_of, check_row_types, key_of
from domain.records import ID_NAMESPACE, Adjustment, Record, record_id
from domain.users import ids_with_event

RESERVE_KIND = "reserve"


class ReserveApproval(Aggregate):
    """A reserve disbursement waiting for a second person's approval."""

    STATUSES = ("pending", "approved", "rejected")

    @staticmethod
    def create_id(record_id: str, **_: Any) -> UUID:  # type: ignore[override]
        return uuid5(ID_NAMESPACE, f"reserve-approval\x1f{record_id}")

    @event("Requested")
    def __init__(self, record_id: str, township: str, fields: dict[str, Any], actor: str,
                 source: str) -> None:
        self.record_id = record_id
        self.township = township
        self.fields = dict(fields)
        self.requested_by = actor
        self.source = source
        self.status = "pending"
        self.decided_by = ""
        self.reason = ""

    def _check_decidable(self, actor: str) -> None:
        if self.status != "pending":
            raise DomainError(f"reserve disbursement {self.record_id} is {self.status}, "
                              f"not pending")
        if actor == self.requested_by:
            raise Forbidden(f"reserve disbursement {self.record_id} was recorded by {actor}; "
                            f"a different person must approve or reject it")

    def approve(self, actor: str) -> None:
        self._check_decidable(actor)
        self._approve(actor=actor)

    @event("Approved")
    def _approve(self, actor: str) -> None:
        self.status = "approved"
        self.decided_by = actor

    def reject(self, actor: str, reason: str) -> None:
        self._check_decidable(actor)
        if not reason.strip():
            raise DomainError("rejecting a disbursement needs a reason")
        self._reject(actor=actor, reason=reason)

    @event("Rejected")
    def _reject(self, actor: str, reason: str) -> None:
        self.status = "rejected"
        self.decided_by = actor
        self.reason = reason


def request_reserve_disbursement(app: Application, fields: dict[str, Any], actor: str,
                                 source: str) -> ReserveApproval:
    """Hold a disbursement row until someone else approves it."""
    check_row_types(RESERVE_KIND, fields)
    rid = str(fields["record_id"])
    if _exists(app, record_id(RESERVE_KIND, key_of(RESERVE_KIND, fields))):
        raise Conflict(f"reserve record {rid} is recorded already")
    if _exists(app, ReserveApproval.create_id(rid)):
        raise Conflict(f"reserve disbursement {rid} is already waiting for or past approval")
    approval = ReserveApproval(record_id=rid, township=str(fields["township"]),
                               fields=fields, actor=actor, source=source)
    _save(app, approval)
    return approval


def approve_reserve_disbursement(app: Application, rid: str, actor: str) -> Record:
    """Approve and record the disbursement, atomically; ``approver`` becomes ``actor``."""
    approval = get_reserve_approval(app, rid)
    approval.approve(actor)
    fields = {**approval.fields, "approver": actor}
    key = key_of(RESERVE_KIND, fields)
    if _exists(app, record_id(RESERVE_KIND, key)):
        raise Conflict(f"reserve record {rid} was recorded meanwhile (by a file?); "
                       f"reject this request instead")
    record = Record(kind=RESERVE_KIND, key=key, fields=fields, actor=actor,
                    business_date=business_date_of(RESERVE_KIND, fields),
                    source=approval.source)
    _save(app, approval, record)
    return record


def reject_reserve_disbursement(app: Application, rid: str, actor: str,
                                reason: str) -> ReserveApproval:
    approval = get_reserve_approval(app, rid)
    approval.reject(actor, reason)
    _save(app, approval)
    return approval


def get_reserve_approval(app: Application, rid: str) -> ReserveApproval:
    try:
        return app.repository.get(ReserveApproval.create_id(rid))  # type: ignore[no-any-return]
    except AggregateNotFoundError:
        raise NotFound(f"no reserve disbursement {rid!r} waiting for approval") from None


def reserve_approvals(app: Application) -> list[ReserveApproval]:
    event_class = ReserveApproval.Requested  # type: ignore[attr-defined]
    return [app.repository.get(i) for i in ids_with_event(app, event_class)]


def approve_adjustment(app: Any, adjustment_id: str, actor: str) -> Adjustment:
    """``Ledger.approve_adjustment``, refusing the maker as checker with ``Forbidden``."""
    adjustment = get_adjustment(app, adjustment_id)
    if adjustment.recorded_by == actor:
        raise Forbidden(f"adjustment {adjustment_id} was requested by {actor}; "
                        f"a different person must approve it")
    return app.approve_adjustment(adjustment_id, actor)  # type: ignore[no-any-return]


def get_adjustment(app: Application, adjustment_id: str) -> Adjustment:
    try:
        found: Adjustment = app.repository.get(Adjustment.create_id(adjustment_id))
    except AggregateNotFoundError:
        raise NotFound(f"no adjustment {adjustment_id!r}") from None
    return found


def adjustments(app: Application) -> list[Adjustment]:
    event_class = Adjustment.Requested  # type: ignore[attr-defined]
    return [app.repository.get(i) for i in ids_with_event(app, event_class)]


def write_record(app: Application, kind: str, fields: dict[str, Any], *, actor: str,
                 source: str, create_only: bool = False,
                 expected_version: int | None = None, must_exist: bool = False) -> Record:
    """Record a row: new, corrected, or unchanged; the record as it now stands."""
    check_row_types(kind, fields)
    key = key_of(kind, fields)
    current = _find(app, kind, key)
    if current is None:
        if must_exist or expected_version is not None:
            raise NotFound(f"no {kind} record {key!r}")
        record = Record(kind=kind, key=key, fields=dict(fields), actor=actor,
                        business_date=business_date_of(kind, fields), source=source)
        _save(app, record)
        return record
    if create_only:
        raise Conflict(f"{kind} {key} is recorded already; change it instead")
    if expected_version is not None and current.version != expected_version:
        raise Conflict(f"{kind} {key} changed since you read it (version {expected_version}, "
                       f"now {current.version}); read it again")
    if current.fields != fields:
        current.correct(fields=dict(fields), actor=actor,
                        business_date=business_date_of(kind, fields), source=source)
        _save(app, current)
    return current


def find_record(app: Application, kind: str, key: str) -> Record | None:
    return _find(app, kind, key)


def _find(app: Application, kind: str, key: str) -> Record | None:
    try:
        return app.repository.get(record_id(kind, key))  # type: ignore[no-any-return]
    except AggregateNotFoundError:
        return None


def _exists(app: Application, aggregate_id: Any) -> bool:
    return bool(app.recorder.select_events(aggregate_id, desc=True, limit=1))


def _save(app: Application, *aggregates: Any) -> None:
    try:
        app.save(*aggregates)
    except IntegrityError as error:
        raise Conflict("someone else changed the same records at the same time; "
                       "nothing was written, try again") from error

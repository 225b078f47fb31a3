"""Four eyes: what one person may not do alone, and the guarded record writes of the API.

What waits for a second person (the same request -> approve/reject flow for each):

- a reserve-fund movement (advance, disbursement, settlement, replenishment) above the
  policy amount ``[approvals] reserve_limit`` (by default R02's ``township_limit``: the
  most a township approves alone): it is not a record until approved; it waits as a
  ``ReserveApproval`` holding the row, and moves nothing meanwhile;
- a change of a household's bank account or account holder (where money goes): it waits
  as a ``RecordChange`` holding the new row, and the household keeps its old values;
- an adjustment (``domain.records.Adjustment``).

The person who asked can never decide (compared by user id: ``domain.users.same_person``).
Approval writes the decision and the record in one ``save``, so the books never show an
approved-but-unrecorded or recorded-but-unapproved movement. Whoever approves a reserve
movement signs at their level: a county-wide approver at ``county``, township staff at
``township``; the level is recorded on the row (R02 reads it), a disbursement above the
level's limit is refused, and any other movement (county money into or out of a township
reserve) is approved at county level only.

``write_record`` is ``Ledger.record_row`` with the checks an interactive client needs:
create-only (a POST must not overwrite) and an expected version (a PUT built on a stale
read is refused with ``Conflict`` instead of silently undoing someone's change). The
version compared is the aggregate's, and the save itself is optimistic, so a writer who
slips in between the read and the save also ends in ``Conflict``.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal
from uuid import UUID, uuid4, uuid5

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import Aggregate, event
from eventsourcing.persistence import IntegrityError

from domain.errors import Conflict, DomainError, Forbidden, NotFound
from domain.ledger import business_date_of, check_row_types, key_of
from domain.money import format_fen, to_fen
from domain.records import ID_NAMESPACE, Adjustment, Record, record_id
from domain.users import Actor, ids_with_event, same_person

RESERVE_KIND = "reserve"
DISBURSEMENT = "disbursement"
# policy.toml's table of four-eyes settings (yuan), beside the tables of finding codes.
POLICY_TABLE = "approvals"
POLICY_MONEY_KEYS = ("reserve_limit",)
# Fields of a record whose change waits for a second person: where the money goes.
FOUR_EYES_FIELDS: dict[str, tuple[str, ...]] = {
    "households": ("bank_account", "account_holder"),
}
STATUSES = ("pending", "approved", "rejected")


@dataclass(frozen=True)
class ApprovalLimits:
    """The amounts four eyes turn on, int fen."""

    reserve_fen: int  # a reserve movement above this waits for a second person
    township_fen: int  # the most a township approver may approve (R02 township_limit)
    county_fen: int  # the most a county approver may approve (R02 county_limit)

    def of_level(self, level: str) -> int:
        return self.county_fen if level == "county" else self.township_fen


def approval_limits(table: dict[str, Any], *, township_fen: int,
                    county_fen: int) -> ApprovalLimits:
    """The limits from policy.toml's ``[approvals]`` table (yuan, checked by the policy
    loader) and R02's level limits; ``reserve_limit`` left out follows the township limit."""
    reserve = table.get("reserve_limit")
    reserve_fen = township_fen if reserve is None else to_fen(Decimal(str(reserve)))
    return ApprovalLimits(reserve_fen=reserve_fen, township_fen=township_fen,
                          county_fen=county_fen)


def amount_fen_of(fields: dict[str, Any]) -> int:
    amount = fields.get("amount")
    return 0 if amount in (None, "") else to_fen(Decimal(str(amount)))


def check_other_person(recorded_by: str, recorded_by_id: str, actor: Actor,
                       what: str) -> None:
    if same_person(recorded_by_id, recorded_by, actor):
        raise Forbidden(f"{what} was requested by {actor.name}; a different person must "
                        f"approve or reject it")


class _Decision:
    """Something waiting for a second person: pending, then approved or rejected once.
    A mixin of aggregates (not one itself: its attributes must not become event fields);
    they set ``requested_by``/``requested_by_id`` and call ``_decided``."""

    requested_by: str
    requested_by_id: str
    status: str
    def _what(self) -> str:
        raise NotImplementedError

    def _check_decidable(self, actor: Actor) -> None:
        if self.status != "pending":
            raise DomainError(f"{self._what()} is {self.status}, not pending")
        check_other_person(self.requested_by, self.requested_by_id, actor, self._what())

    def _decided(self, status: str, actor: str, actor_id: str, reason: str) -> None:
        self.status = status
        self.decided_by = actor
        self.decided_by_id = actor_id
        self.reason = reason


class ReserveApproval(_Decision, Aggregate):
    """A reserve movement waiting for a second person's approval.

    Version 1 events had names only and held disbursements only; ids upcast to ''."""

    class Requested(Aggregate.Created):
        class_version = 2
        record_id: str
        township: str
        fields: dict[str, Any]
        actor: str
        source: str
        actor_id: str

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["actor_id"] = ""

    class Approved(Aggregate.Event):
        class_version = 2
        actor: str
        actor_id: str
        level: str

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state.update(actor_id="", level="")

    class Rejected(Aggregate.Event):
        class_version = 2
        actor: str
        reason: str
        actor_id: str

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["actor_id"] = ""

    @staticmethod
    def create_id(record_id: str, **_: Any) -> UUID:
        return uuid5(ID_NAMESPACE, f"reserve-approval\x1f{record_id}")

    @event(Requested)
    def __init__(self, record_id: str, township: str, fields: dict[str, Any], actor: str,
                 source: str, actor_id: str) -> None:
        self.record_id = record_id
        self.township = township
        self.fields = dict(fields)
        self.requested_by = actor
        self.requested_by_id = actor_id
        self.source = source
        self.level = ""
        self._decided("pending", "", "", "")

    def _what(self) -> str:
        return f"reserve {self.fields.get('record_type', DISBURSEMENT)} {self.record_id}"

    def approve(self, actor: Actor, limits: ApprovalLimits) -> None:
        self._check_decidable(actor)
        check_authority(str(self.fields.get("record_type", "")), amount_fen_of(self.fields),
                        actor, limits, self._what())
        self._approve(actor=actor.name, actor_id=actor.user_id, level=actor.level)

    @event(Approved)
    def _approve(self, actor: str, actor_id: str, level: str) -> None:
        self.level = level
        self._decided("approved", actor, actor_id, "")

    def reject(self, actor: Actor, reason: str) -> None:
        self._check_decidable(actor)
        if not reason.strip():
            raise DomainError(f"rejecting {self._what()} needs a reason")
        self._reject(actor=actor.name, reason=reason, actor_id=actor.user_id)

    @event(Rejected)
    def _reject(self, actor: str, reason: str, actor_id: str) -> None:
        self._decided("rejected", actor, actor_id, reason)


def check_authority(record_type: str, amount_fen: int, actor: Actor,
                    limits: ApprovalLimits, what: str) -> None:
    """An approver signs within their level: a disbursement up to the level's limit
    (R02's rule); any other movement is county money, approved at county level."""
    if record_type != DISBURSEMENT:
        if actor.level != "county":
            raise Forbidden(f"{what} moves county money: a county-wide approver approves "
                            f"it, not township staff ({actor.name}, {actor.township})")
        return
    limit_fen = limits.of_level(actor.level)
    if amount_fen > limit_fen:
        above = ("a county approver must approve it" if actor.level == "township"
                 else "no approval level of the ledger may approve it")
        raise Forbidden(f"{what} is {format_fen(amount_fen)} yuan, above the "
                        f"{actor.level} approval limit of {format_fen(limit_fen)} yuan: "
                        f"{above}")


def needs_second_person(fields: dict[str, Any], limits: ApprovalLimits) -> bool:
    """Whether a reserve movement waits for approval instead of being recorded."""
    return amount_fen_of(fields) > limits.reserve_fen


def record_reserve_movement(app: Application, fields: dict[str, Any], actor: Actor,
                            source: str,
                            limits: ApprovalLimits) -> Literal["recorded", "pending_approval"]:
    """Record the movement ('recorded'), or hold it for approval above the policy amount
    ('pending_approval'): a held one names no approver, the ledger's approver will."""
    if not needs_second_person(fields, limits):
        write_record(app, RESERVE_KIND, fields, actor=actor.name, source=source,
                     create_only=True)
        return "recorded"
    if fields.get("approver") or fields.get("approval_level"):
        raise DomainError(f"above {format_fen(limits.reserve_fen)} yuan a reserve movement "
                          f"is approved in the ledger by an approver user, who signs at "
                          f"their own level; leave approver and approval_level empty")
    request_reserve_movement(app, fields, actor, source)
    return "pending_approval"


def request_reserve_movement(app: Application, fields: dict[str, Any], actor: Actor,
                             source: str) -> ReserveApproval:
    """Hold a reserve row until someone else approves it."""
    check_row_types(RESERVE_KIND, fields)
    rid = str(fields["record_id"])
    if _exists(app, record_id(RESERVE_KIND, key_of(RESERVE_KIND, fields))):
        raise Conflict(f"reserve record {rid} is recorded already")
    if _exists(app, ReserveApproval.create_id(rid)):
        raise Conflict(f"reserve record {rid} is already waiting for or past approval")
    approval = ReserveApproval(record_id=rid, township=str(fields["township"]),
                               fields=fields, actor=actor.name, source=source,
                               actor_id=actor.user_id)
    _save(app, approval)
    return approval


def approve_reserve_movement(app: Application, rid: str, actor: Actor,
                             limits: ApprovalLimits) -> Record:
    """Approve and record the movement, atomically; the row names ``actor`` as approver
    at their level."""
    approval = get_reserve_approval(app, rid)
    approval.approve(actor, limits)
    fields = {**approval.fields, "approver": actor.name, "approval_level": actor.level}
    key = key_of(RESERVE_KIND, fields)
    if _exists(app, record_id(RESERVE_KIND, key)):
        raise Conflict(f"reserve record {rid} was recorded meanwhile (by a file?); "
                       f"reject this request instead")
    record = Record(kind=RESERVE_KIND, key=key, fields=fields, actor=actor.name,
                    business_date=business_date_of(RESERVE_KIND, fields),
                    source=approval.source)
    _save(app, approval, record)
    return record


def reject_reserve_movement(app: Application, rid: str, actor: Actor,
                            reason: str) -> ReserveApproval:
    approval = get_reserve_approval(app, rid)
    approval.reject(actor, reason)
    _save(app, approval)
    return approval


def get_reserve_approval(app: Application, rid: str) -> ReserveApproval:
    try:
        return app.repository.get(ReserveApproval.create_id(rid))
    except AggregateNotFoundError:
        raise NotFound(f"no reserve movement {rid!r} waiting for approval") from None


def reserve_approvals(app: Application) -> list[ReserveApproval]:
    event_class = ReserveApproval.Requested
    return [app.repository.get(i) for i in ids_with_event(app, event_class)]


# -- changes of where money goes -------------------------------------------------------
class RecordChange(_Decision, Aggregate):
    """A change of a record's four-eyes fields (``FOUR_EYES_FIELDS``), waiting for a
    second person; ``before`` is the record as the requester read it (``base_version``),
    ``after`` the whole row asked for."""

    @staticmethod
    def create_id(change_id: str, **_: Any) -> UUID:
        return uuid5(ID_NAMESPACE, f"record-change\x1f{change_id}")

    @event("Requested")
    def __init__(self, change_id: str, kind: str, key: str, township: str,
                 before: dict[str, Any], after: dict[str, Any], base_version: int,
                 actor: str, actor_id: str, source: str) -> None:
        self.change_id = change_id
        self.kind = kind
        self.key = key
        self.township = township
        self.before = dict(before)
        self.after = dict(after)
        self.base_version = base_version
        self.requested_by = actor
        self.requested_by_id = actor_id
        self.source = source
        self._decided("pending", "", "", "")

    def _what(self) -> str:
        return f"change {self.change_id} of {self.kind} {self.key}"

    @property
    def townships(self) -> set[str]:
        """Where the record is and where the change would put it."""
        return {self.township, str(self.after.get("township", self.township))}

    def approve(self, actor: Actor) -> None:
        self._check_decidable(actor)
        self._approve(actor=actor.name, actor_id=actor.user_id)

    @event("Approved")
    def _approve(self, actor: str, actor_id: str) -> None:
        self._decided("approved", actor, actor_id, "")

    def reject(self, actor: Actor, reason: str) -> None:
        self._check_decidable(actor)
        if not reason.strip():
            raise DomainError(f"rejecting {self._what()} needs a reason")
        self._reject(actor=actor.name, actor_id=actor.user_id, reason=reason)

    @event("Rejected")
    def _reject(self, actor: str, actor_id: str, reason: str) -> None:
        self._decided("rejected", actor, actor_id, reason)


def four_eyes_changes(kind: str, before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """The fields of ``after`` that change where money goes, compared with ``before``."""
    return [f for f in FOUR_EYES_FIELDS.get(kind, ()) if before.get(f) != after.get(f)]


def change_record(app: Application, kind: str, fields: dict[str, Any], *, actor: Actor,
                  source: str, expected_version: int | None) -> Record | RecordChange:
    """Change an existing record: at once (the record as it now stands), or, when the
    change touches where money goes, held for a second person (the pending change)."""
    check_row_types(kind, fields)
    key = key_of(kind, fields)
    current = _find(app, kind, key)
    if current is None:
        raise NotFound(f"no {kind} record {key!r}")
    _check_version(current, expected_version)
    if not four_eyes_changes(kind, current.fields, fields):
        return write_record(app, kind, fields, actor=actor.name, source=source,
                            must_exist=True, expected_version=expected_version)
    change = RecordChange(change_id=uuid4().hex, kind=kind, key=key,
                          township=str(current.fields.get("township", "")),
                          before=current.fields, after=fields, base_version=current.version,
                          actor=actor.name, actor_id=actor.user_id, source=source)
    _save(app, change)
    return change


def approve_change(app: Application, change_id: str, actor: Actor) -> Record:
    """Approve the change and correct the record, atomically, if the record is still as
    the requester read it."""
    change = get_change(app, change_id)
    change.approve(actor)
    current = _find(app, change.kind, change.key)
    if current is None or current.version != change.base_version:
        now = "gone" if current is None else f"now version {current.version}"
        raise Conflict(f"{change.kind} {change.key} changed since change {change_id} was "
                       f"requested (version {change.base_version}, {now}); reject it and "
                       f"request the change again")
    current.correct(fields=dict(change.after), actor=actor.name,
                    business_date=business_date_of(change.kind, change.after),
                    source=f"{change.source} (change {change_id}, requested by "
                           f"{change.requested_by})")
    _save(app, change, current)
    return current


def reject_change(app: Application, change_id: str, actor: Actor,
                  reason: str) -> RecordChange:
    change = get_change(app, change_id)
    change.reject(actor, reason)
    _save(app, change)
    return change


def get_change(app: Application, change_id: str) -> RecordChange:
    try:
        return app.repository.get(RecordChange.create_id(change_id))
    except AggregateNotFoundError:
        raise NotFound(f"no change {change_id!r} waiting for approval") from None


def record_changes(app: Application) -> list[RecordChange]:
    event_class = RecordChange.Requested  # type: ignore[attr-defined]  # declared at run time by @event
    return [app.repository.get(i) for i in ids_with_event(app, event_class)]


# -- adjustments ----------------------------------------------------------------------
def approve_adjustment(app: Any, adjustment_id: str, actor: Actor) -> Adjustment:
    """``Ledger.approve_adjustment``, refusing the maker as checker with ``Forbidden``."""
    adjustment = get_adjustment(app, adjustment_id)
    check_other_person(adjustment.recorded_by, adjustment.recorded_by_id, actor,
                       f"adjustment {adjustment_id}")
    return app.approve_adjustment(
        adjustment_id, actor.name, actor_id=actor.user_id)


def get_adjustment(app: Application, adjustment_id: str) -> Adjustment:
    try:
        found: Adjustment = app.repository.get(Adjustment.create_id(adjustment_id))
    except AggregateNotFoundError:
        raise NotFound(f"no adjustment {adjustment_id!r}") from None
    return found


def adjustments(app: Application) -> list[Adjustment]:
    event_class = Adjustment.Requested
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
    _check_version(current, expected_version)
    if current.fields != fields:
        current.correct(fields=dict(fields), actor=actor,
                        business_date=business_date_of(kind, fields), source=source)
        _save(app, current)
    return current


def _check_version(current: Record, expected_version: int | None) -> None:
    if expected_version is not None and current.version != expected_version:
        raise Conflict(f"{current.kind} {current.key} changed since you read it (version "
                       f"{expected_version}, now {current.version}); read it again")


def find_record(app: Application, kind: str, key: str) -> Record | None:
    return _find(app, kind, key)


def _find(app: Application, kind: str, key: str) -> Record | None:
    try:
        return app.repository.get(record_id(kind, key))
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

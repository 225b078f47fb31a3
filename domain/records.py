"""Aggregates for the records of the county's files.

Every real-world record (a household, an enrolment, a payroll line, a bank confirmation,
a reserve-fund movement, an asset, an asset event, a line of a reference list …) is one
aggregate whose id derives from its kind and natural key, so the same row loaded twice
lands on the same aggregate. Its first event is ``Recorded``; a later row with the same
key but different values is a ``Corrected`` event that keeps the earlier version in the
log ("as known at" replays what the books showed before the correction).

Every event carries who recorded it (``actor``), the business date it is about
(``business_date``, a ``YYYY-MM-DD`` string or ''), and where it came from (``source``:
``file.csv#row``); eventsourcing stamps when it was recorded (``timestamp``).
"""

from __future__ import annotations

import hashlib
from typing import Any
from uuid import NAMESPACE_URL, UUID, SafeUUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.errors import DomainError

ID_NAMESPACE = uuid5(NAMESPACE_URL, "https://aidledger.example/records")


_NAMESPACE_BYTES = ID_NAMESPACE.bytes
_VERSION_5 = (~(0xF000 << 64) & ~(0xC000 << 48), (5 << 76) | (0x8000 << 48))
_sha1, _new, _set = hashlib.sha1, object.__new__, object.__setattr__


def record_id(kind: str, key: str) -> UUID:
    """``uuid5(ID_NAMESPACE, kind + US + key)``, the same UUID built without
    ``UUID.__init__``'s argument checks (twice as fast: every loaded row needs one)."""
    digest = _sha1(_NAMESPACE_BYTES + f"{kind}\x1f{key}".encode()).digest()
    keep, version = _VERSION_5
    value = _new(UUID)
    _set(value, "int", (int.from_bytes(digest[:16], "big") & keep) | version)
    _set(value, "is_safe", SafeUUID.unknown)
    return value


class Record(Aggregate):
    """A record of one contract kind; ``fields`` has the kind's canonical columns."""

    @staticmethod
    def create_id(kind: str, key: str, **_: Any) -> UUID:
        return record_id(kind, key)

    @event("Recorded")
    def __init__(
        self, kind: str, key: str, fields: dict[str, Any], actor: str,
        business_date: str, source: str,
    ) -> None:
        self.kind = kind
        self.key = key
        self.fields = dict(fields)
        self.actor = actor
        self.business_date = business_date
        self.source = source

    def correct(
        self, fields: dict[str, Any], actor: str, business_date: str, source: str,
    ) -> None:
        if fields == self.fields:
            raise DomainError(f"{self.kind} {self.key}: correction changes nothing")
        self._correct(kind=self.kind, key=self.key, fields=fields, actor=actor,
                      business_date=business_date, source=source)

    @event("Corrected")
    def _correct(
        self, kind: str, key: str, fields: dict[str, Any], actor: str, business_date: str,
        source: str,
    ) -> None:
        self.fields = dict(fields)
        self.actor = actor
        self.business_date = business_date
        self.source = source


class ImportedFile(Aggregate):
    """The fact that a file's exact bytes were loaded: the idempotency key of ``load``."""

    @staticmethod
    def create_id(sha256: str, **_: Any) -> UUID:
        return uuid5(ID_NAMESPACE, f"file\x1f{sha256}")

    @event("Imported")
    def __init__(
        self, sha256: str, name: str, kind: str, rows: int, created: int,
        corrected: int, actor: str,
    ) -> None:
        self.sha256 = sha256
        self.name = name
        self.kind = kind
        self.rows = rows
        self.created = created
        self.corrected = corrected
        self.actor = actor


class Adjustment(Aggregate):
    """A manual adjustment: takes effect only when a second person approves it.

    ``recorded_by_id`` and ``approver_id`` are the users' ids (``domain.users``), what
    maker-checker compares; events of version 1 had names only (upcast to '')."""

    class Requested(Aggregate.Created):
        class_version = 2
        adjustment_id: str
        account_from: str
        account_to: str
        amount: Any
        reason: str
        actor: str
        business_date: str
        actor_id: str

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["actor_id"] = ""

    class Approved(Aggregate.Event):
        class_version = 2
        actor: str
        actor_id: str

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["actor_id"] = ""

    @staticmethod
    def create_id(adjustment_id: str, **_: Any) -> UUID:
        return uuid5(ID_NAMESPACE, f"adjustment\x1f{adjustment_id}")

    @event(Requested)
    def __init__(
        self, adjustment_id: str, account_from: str, account_to: str, amount: Any,
        reason: str, actor: str, business_date: str, actor_id: str,
    ) -> None:
        if not reason.strip():
            raise DomainError("an adjustment needs a reason")
        if amount <= 0:
            raise DomainError("an adjustment amount must be positive")
        self.adjustment_id = adjustment_id
        self.account_from = account_from
        self.account_to = account_to
        self.amount = amount
        self.reason = reason
        self.recorded_by = actor
        self.recorded_by_id = actor_id
        self.business_date = business_date
        self.approver = ""
        self.approver_id = ""
        self.status = "pending"

    def approve(self, actor: str, actor_id: str, same_person: bool) -> None:
        """``same_person``: whether the approver is the maker (decided by user id)."""
        if self.status != "pending":
            raise DomainError(f"adjustment {self.adjustment_id} is {self.status}, not pending")
        if same_person:
            raise DomainError("an adjustment cannot be approved by the person who recorded it")
        self._approve(actor=actor, actor_id=actor_id)

    @event(Approved)
    def _approve(self, actor: str, actor_id: str) -> None:
        self.approver = actor
        self.approver_id = actor_id
        self.status = "approved"


class Finding(Aggregate):
    """A finding raised by reconciliation and what inspectors did about it."""

    STATUSES = ("open", "under_review", "confirmed", "dismissed", "recovered", "resolved")

    @staticmethod
    def create_id(code: str, subject_id: str, **_: Any) -> UUID:
        return uuid5(ID_NAMESPACE, f"finding\x1f{code}\x1f{subject_id}")

    @event("Raised")
    def __init__(
        self, code: str, subject_id: str, subject_type: str, period: str,
        amount: Any, severity: str, title: str, detail: str, evidence: str, actor: str,
    ) -> None:
        self.code = code
        self.subject_id = subject_id
        self.subject_type = subject_type
        self.period = period
        self.amount = amount
        self.severity = severity
        self.title = title
        self.detail = detail
        self.evidence = evidence
        self.status = "open"
        self.history: list[dict[str, Any]] = []

    @event("Reraised")
    def reraise(self, detail: str, evidence: str, amount: Any, actor: str) -> None:
        self.detail = detail
        self.evidence = evidence
        self.amount = amount
        if self.status == "resolved":
            self.status = "open"

    @event("NoLongerHolds")
    def resolve(self, actor: str) -> None:
        self.status = "resolved"

    def dispose(self, status: str, note: str, actor: str, recovered: Any = None) -> None:
        if status not in ("under_review", "confirmed", "dismissed", "recovered"):
            raise DomainError(f"unknown disposition {status!r}")
        if status == "dismissed" and not note.strip():
            raise DomainError("dismissing a finding needs a reason")
        if status == "recovered" and (recovered is None or recovered <= 0):
            raise DomainError("a recovery needs the amount recovered")
        self._dispose(status=status, note=note, actor=actor, recovered=recovered)

    @event("Disposed")
    def _dispose(self, status: str, note: str, actor: str, recovered: Any) -> None:
        self.status = status
        self.history.append({"status": status, "note": note, "actor": actor,
                             "recovered": recovered})

"""What every route shares: the store, the acting user, the roles a route admits, pages.

Authorization is visible in each route's signature: a route takes ``user: Recorder`` (or
``Reader``, ``Approver`` …), a dependency that authenticates the bearer token (401) and
admits only the listed roles (403). Township staff are further held to their township by
``Principal.check_township`` wherever a record's township is known; a record of another
township that is looked up by its id is answered exactly like one that does not exist
(``Principal.not_registered``), so ids of other townships cannot be probed.

Every read of personal data, by any role, is recorded (``record_personal_read``).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.schemas import OFFSET_MAX, PAGE_SIZE_DEFAULT, PAGE_SIZE_MAX, WrittenOut
from api.wiring import Store
from domain import approvals, users
from domain.errors import Forbidden, NotFound
from domain.records import Record
from projections import facts

CATCH_UP_TRIES = 3
TOKEN_CHARS_MAX = 256  # token_urlsafe(32) is 43 characters; longer is not ours


def _integrity_errors() -> tuple[type[Exception], ...]:
    errors: list[type[Exception]] = [sqlite3.IntegrityError]
    try:
        import psycopg
    except ImportError:  # PostgreSQL support not installed: SQLite only
        return tuple(errors)
    return (*errors, psycopg.IntegrityError)


INTEGRITY_ERRORS = _integrity_errors()


class NotAuthenticated(Exception):
    """No bearer token, or one that is unknown or revoked: HTTP 401."""


@dataclass
class AppState:
    """One store for the app's lifetime; ``read_lock`` serialises the read-model
    connection (one connection, one transaction at a time)."""

    store: Store
    read_lock: threading.Lock

    @contextmanager
    def caught_up(self) -> Iterator[Store]:
        """The store with its read models brought up to the ledger, held while in use."""
        with self.read_lock:
            catch_up(self.store)
            yield self.store


def catch_up(store: Store) -> None:
    """Bring the read models up to the ledger. Another process (``aidledger load`` or
    ``project``) may project the same events at the same moment; the loser of that race
    gets an integrity error, and trying again resumes from the winner's position."""
    for attempt in range(CATCH_UP_TRIES):
        try:
            facts.catch_up(store.ledger, store.db)
            return
        except INTEGRITY_ERRORS:
            if attempt == CATCH_UP_TRIES - 1:
                raise


def get_state(request: Request) -> AppState:
    return request.app.state.aidledger


State = Annotated[AppState, Depends(get_state)]


@dataclass(frozen=True)
class Principal:
    """The acting user: ``name`` becomes the ``actor`` of every event they cause;
    ``user_id`` is what maker-checker compares."""

    name: str
    role: str
    township: str | None
    user_id: str = ""

    @property
    def actor(self) -> users.Actor:
        return users.Actor(name=self.name, user_id=self.user_id or users.user_id(self.name),
                           township=self.township)

    def sees(self, township: str) -> bool:
        return self.township is None or self.township == township

    def check_township(self, township: str, what: str) -> None:
        """For records the user names themselves (a body's township): 403."""
        if not self.sees(township):
            raise Forbidden(f"{self.name} works for {self.township}; {what} belongs to "
                            f"{township or 'no township'}")

    def not_registered(self, what: str) -> NotFound:
        """The one answer for 'no such record' and 'a record of another township'."""
        where = f" in {self.township}" if self.township is not None else ""
        return NotFound(f"{what} is not registered{where}")


bearer = HTTPBearer(auto_error=False, description="token from `aidledger user add`")


def current_user(
    state: State,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    if credentials is None:
        raise NotAuthenticated("missing bearer token (Authorization: Bearer <token>)")
    token = credentials.credentials
    if len(token) > TOKEN_CHARS_MAX:
        raise NotAuthenticated("invalid or revoked token")
    user = users.authenticate(state.store.ledger, users.token_hash(token))
    if user is None:
        raise NotAuthenticated("invalid or revoked token")
    return Principal(name=user.name, role=user.role, township=user.township or None,
                     user_id=str(user.id))


CurrentUser = Annotated[Principal, Depends(current_user)]


def allow(*roles: str, county_wide: bool = False) -> Callable[[Principal], Principal]:
    """A dependency admitting only ``roles`` (and, if ``county_wide``, no township staff)."""

    def check(user: CurrentUser) -> Principal:
        if user.role not in roles:
            raise Forbidden(f"role {user.role} may not do this (allowed: {', '.join(roles)})")
        if county_wide and user.township is not None:
            raise Forbidden(f"county-wide only; {user.name} works for {user.township}")
        return user

    check.__name__ = f"allow_{'_'.join(roles)}{'_county' if county_wide else ''}"
    # attributes of the function itself, read by roles_of (FastAPI needs a plain function to
    # resolve its annotations, so no callable class)
    check.allowed_roles = roles  # type: ignore[attr-defined]
    check.county_wide = county_wide  # type: ignore[attr-defined]
    return check


def roles_of(dependant: Any) -> str | None:
    """'clerk, finance (county-wide staff only)' for a route's ``allow`` dependency."""
    for sub in dependant.dependencies:
        roles = getattr(sub.call, "allowed_roles", None)
        if roles is not None:
            wide = " (county-wide staff only)" if sub.call.county_wide else ""
            return ", ".join(roles) + wide
        found = roles_of(sub)
        if found is not None:
            return found
    return None


READERS = ("clerk", "approver", "finance", "inspector")
Reader = Annotated[Principal, Depends(allow(*READERS))]
Recorder = Annotated[Principal, Depends(allow("clerk", "finance"))]
Finance = Annotated[Principal, Depends(allow("finance"))]
Approver = Annotated[Principal, Depends(allow("approver"))]
Inspector = Annotated[Principal, Depends(allow("inspector"))]
Admin = Annotated[Principal, Depends(allow("admin"))]
CountyReader = Annotated[Principal, Depends(allow("approver", "finance", "inspector",
                                                   county_wide=True))]
CountyRecorder = Annotated[Principal, Depends(allow("approver", "finance", county_wide=True))]
CountyApprover = Annotated[Principal, Depends(allow("approver", county_wide=True))]


@dataclass(frozen=True)
class Pagination:
    limit: int
    offset: int

    def slice(self, items: list) -> list:
        return items[self.offset:self.offset + self.limit]


def pagination(
    limit: Annotated[int, Query(ge=1, le=PAGE_SIZE_MAX)] = PAGE_SIZE_DEFAULT,
    offset: Annotated[int, Query(ge=0, le=OFFSET_MAX)] = 0,
) -> Pagination:
    return Pagination(limit=limit, offset=offset)


PageParams = Annotated[Pagination, Depends(pagination)]


def source_of(request: Request) -> str:
    """Where an API write came from, as the evidence column of the record."""
    return f"api:{request.method} {request.url.path}"


def written(record: Record) -> WrittenOut:
    return WrittenOut(kind=record.kind, key=record.key, version=record.version,
                      actor=record.actor)


def stored_household(store: Store, household_id: str, user: Principal) -> Record:
    """The household as the ledger holds it now, if the user may see it (else the same
    404 as for a household that does not exist)."""
    record = approvals.find_record(store.ledger, "households", household_id)
    if record is None or not user.sees(str(record.fields["township"])):
        raise user.not_registered(f"household {household_id}")
    return record


def record_personal_read(store: Store, user: Principal, subject_type: str, subject_id: str,
                         what: str) -> None:
    """Record that the user (any role) is being shown personal data, before it is shown."""
    users.record_read(store.ledger, reader=user.name, role=user.role,
                      subject_type=subject_type, subject_id=subject_id, what=what)

"""Users and tokens (admin), who am I, and the log of reads of personal data.

A user is created once (``POST /users``; an existing name: 409); ``PUT /users/{name}``
changes role or township and revokes every token the user had, issuing a new one;
``POST /users/{name}/tokens`` issues one more token; ``/revoke`` revokes them all.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from api.routers.deps import Admin, CurrentUser, PageParams, State
from api.schemas import (
    NAME_CHARS_MAX,
    AccessOut,
    Page,
    RevokedOut,
    UserCreatedOut,
    UserIn,
    UserOut,
    UserSetIn,
    UserSetOut,
)
from api.users import add_user, issue_token, revoke_user, set_user
from domain import users

router = APIRouter(tags=["users"])

# Looked up as NFC (domain.users.get_user), never rewritten: names are keys.
UserName = Annotated[str, Path(min_length=1, max_length=NAME_CHARS_MAX)]


def user_out(user: users.User) -> UserOut:
    return UserOut(name=user.name, role=user.role, township=user.township or None,
                   live_tokens=len(user.token_hashes))


@router.get("/me", response_model=UserOut)
def who_am_i(user: CurrentUser, state: State) -> UserOut:
    return user_out(users.get_user(state.store.ledger, user.name))


@router.get("/users", response_model=Page[UserOut])
def list_users(user: Admin, state: State, page: PageParams) -> Page[UserOut]:
    found = sorted(users.users(state.store.ledger), key=lambda u: u.name)
    return Page(items=[user_out(u) for u in page.slice(found)], total=len(found),
                limit=page.limit, offset=page.offset)


@router.post("/users", response_model=UserCreatedOut, status_code=201)
def create_user(body: UserIn, user: Admin, state: State) -> UserCreatedOut:
    """Add a new user and issue a token, shown in this response only. An existing name,
    or one that looks like an existing user's, is refused (409)."""
    token = add_user(state.store, body.name, body.role.value, body.township or None,
                     actor=user.name)
    created = users.get_user(state.store.ledger, body.name)
    return UserCreatedOut(**user_out(created).model_dump(), token=token)


@router.put("/users/{name}", response_model=UserSetOut)
def set_user_role(name: UserName, body: UserSetIn, user: Admin, state: State) -> UserSetOut:
    """Give the user this role and township (none: county-wide). Every token they had is
    revoked (a token never keeps powers it was not issued for); the new token is shown
    in this response only."""
    token, revoked = set_user(state.store, name, body.role.value, body.township or None,
                              actor=user.name)
    changed = users.get_user(state.store.ledger, name)
    return UserSetOut(**user_out(changed).model_dump(), token=token, revoked=revoked)


@router.post("/users/{name}/tokens", response_model=UserCreatedOut, status_code=201)
def new_token(name: UserName, user: Admin, state: State) -> UserCreatedOut:
    """One more token for an existing user (e.g. after a revocation), shown once."""
    token = issue_token(state.store, name, actor=user.name)
    return UserCreatedOut(**user_out(users.get_user(state.store.ledger, name)).model_dump(),
                          token=token)


@router.post("/users/{name}/revoke", response_model=RevokedOut)
def revoke_tokens(name: UserName, user: Admin, state: State) -> RevokedOut:
    """Revoke every token of the user: their next request gets 401."""
    return RevokedOut(name=name, revoked=revoke_user(state.store, name, actor=user.name))


@router.get("/access-log", response_model=Page[AccessOut])
def access_log(user: Admin, state: State, page: PageParams) -> Page[AccessOut]:
    """Reads of personal data (households' statements and histories, findings, changes of
    bank details), by every role, oldest first."""
    ledger = state.store.ledger
    ids = users.read_ids(ledger)
    reads: list[users.PersonalDataRead] = [ledger.repository.get(i) for i in page.slice(ids)]
    items = [AccessOut(reader=r.reader, role=r.role, subject_type=r.subject_type,
                       subject_id=r.subject_id, what=r.what, recorded_at=r.created_on)
             for r in reads]
    return Page(items=items, total=len(ids), limit=page.limit, offset=page.offset)

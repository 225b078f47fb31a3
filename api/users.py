"""``aidledger user add|set|token|revoke`` and the HTTP user commands: tokens made here.

The token is made here (``secrets.token_urlsafe``), shown once to whoever created the
user, and only its hash goes to the ledger.
"""

from __future__ import annotations

import secrets

from api.wiring import Store
from domain import users

TOKEN_BYTES = 32


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def add_user(store: Store, name: str, role: str, township: str | None, actor: str) -> str:
    """Add a new user (an existing name is refused) and return their first token."""
    token = new_token()
    users.add_user(store.ledger, name=name, role=role, township=township or "", actor=actor,
                   new_token_hash=users.token_hash(token))
    return token


def set_user(store: Store, name: str, role: str, township: str | None,
             actor: str) -> tuple[str, int]:
    """Give the user this role and township, revoking every token they had: (a new
    token, how many were revoked)."""
    token = new_token()
    _, revoked = users.set_user(store.ledger, name=name, role=role, township=township or "",
                                actor=actor, new_token_hash=users.token_hash(token))
    return token, revoked


def issue_token(store: Store, name: str, actor: str) -> str:
    """One more token for an existing user."""
    token = new_token()
    users.issue_token(store.ledger, name=name, actor=actor,
                      new_token_hash=users.token_hash(token))
    return token


def revoke_user(store: Store, name: str, actor: str) -> int:
    """Revoke every token of the user; how many were live."""
    return users.revoke_user(store.ledger, name, actor)

"""``aidledger user add|revoke`` and the HTTP user commands: tokens made and revoked here.

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
    """Add the user (or change role/township) and return a new bearer token."""
    token = new_token()
    users.add_user(store.ledger, name=name, role=role, township=township or "", actor=actor,
                   new_token_hash=users.token_hash(token))
    return token


def revoke_user(store: Store, name: str, actor: str) -> int:
    """Revoke every token of the user; how many were live."""
    return users.revoke_user(store.ledger, name, actor)

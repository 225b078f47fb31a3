"""Users of the HTTP API, their bearer tokens, and the log of reads of personal data.

A ``User`` is added once with a role and, for township staff, a township (their
jurisdiction); adding an existing name is refused. ``set_user`` changes role or township
and revokes every token the user had (a token must never carry powers it was not issued
for), issuing one new token. A token is never stored: only its SHA-256 hash, on the user
(to revoke every token of a person) and as a ``Token`` aggregate whose id derives from
the hash, so authenticating a request is one lookup by id, then a constant-time
comparison of the hashes.

A user's id (``User.id``, derived from the name, which is NFC and free of hidden
characters: ``domain.names``) is what maker-checker compares; the name is what people
read. A name that merely looks like an existing user's (``ｃｌｅｒｋ１``, ``Clerk1``) is
refused too: one person, one identity.

``PersonalDataRead`` is one aggregate per read (new id each time), so concurrent reads
never contend for one aggregate's version; the log is read back through the
notification log by topic.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid4, uuid5

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import Aggregate, event
from eventsourcing.persistence import IntegrityError

from domain.errors import Conflict, DomainError, NotFound
from domain.names import PLACE_CHARS_MAX, clean_name, look_alike_key, name_key

ROLES: tuple[str, ...] = ("clerk", "approver", "finance", "inspector", "admin")
NAME_CHARS_MAX = 64
TOWNSHIP_CHARS_MAX = PLACE_CHARS_MAX
NOTIFICATION_PAGE_SIZE = 1_000
USER_NAMESPACE = uuid5(NAMESPACE_URL, "https://aidledger.example/users")


def token_hash(token: str) -> str:
    """Hex SHA-256 of a bearer token: what the store keeps instead of the token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class User(Aggregate):
    """A person who may call the API; ``token_hashes`` are the live tokens' hashes."""

    @staticmethod
    def create_id(name: str, **_: Any) -> UUID:
        return uuid5(USER_NAMESPACE, f"user\x1f{name}")

    @event("Added")
    def __init__(self, name: str, role: str, township: str, actor: str) -> None:
        check_role(role)
        self.name = name
        self.role = role
        self.township = township
        self.added_by = actor
        self.token_hashes: list[str] = []

    def change_role(self, role: str, township: str, actor: str) -> None:
        check_role(role)
        if (role, township) != (self.role, self.township):
            self._change_role(role=role, township=township, actor=actor)

    @event("RoleChanged")
    def _change_role(self, role: str, township: str, actor: str) -> None:
        self.role = role
        self.township = township

    @event("TokenIssued")
    def issue_token(self, token_hash: str, actor: str) -> None:
        self.token_hashes.append(token_hash)

    @event("TokenRevoked")
    def revoke_token(self, token_hash: str, actor: str) -> None:
        self.token_hashes.remove(token_hash)


class Token(Aggregate):
    """One issued token, found by its hash: who it belongs to and whether it still works."""

    @staticmethod
    def create_id(token_hash: str, **_: Any) -> UUID:
        return uuid5(USER_NAMESPACE, f"token\x1f{token_hash}")

    @event("Issued")
    def __init__(self, token_hash: str, user_name: str, actor: str) -> None:
        self.token_hash = token_hash
        self.user_name = user_name
        self.revoked = False

    @event("Revoked")
    def revoke(self, actor: str) -> None:
        self.revoked = True


class PersonalDataRead(Aggregate):
    """Someone (any role) read personal data: a household's statement or history, a
    finding's evidence, a waiting change of bank details."""

    @staticmethod
    def create_id(**_: Any) -> UUID:
        return uuid4()

    @event("Recorded")
    def __init__(self, reader: str, role: str, subject_type: str, subject_id: str,
                 what: str) -> None:
        self.reader = reader
        self.role = role
        self.subject_type = subject_type
        self.subject_id = subject_id
        self.what = what


def check_role(role: str) -> None:
    if role not in ROLES:
        raise DomainError(f"unknown role {role!r} (expected one of {', '.join(ROLES)})")


def add_user(app: Application, *, name: str, role: str, township: str, actor: str,
             new_token_hash: str) -> User:
    """Add a new user and issue their first token, in one save. An existing name, or a
    name that looks like an existing user's, is refused (``user set`` changes a user)."""
    name = clean_name(name, "user name", NAME_CHARS_MAX)
    township = clean_name(township, "township", TOWNSHIP_CHARS_MAX) if township else ""
    check_role(role)
    if _exists(app, User.create_id(name)):
        raise Conflict(f"user {name} exists already; nothing was changed (change a role or "
                       f"township with `user set`, issue a new token with `user token`)")
    twin = _look_alike(app, name)
    if twin is not None:
        raise Conflict(f"user name {name} looks like the existing user {twin}; one person "
                       f"has one user: choose a name that reads differently")
    user = User(name=name, role=role, township=township, actor=actor)
    _issue(app, user, new_token_hash, actor)
    return user


def set_user(app: Application, *, name: str, role: str, township: str, actor: str,
             new_token_hash: str) -> tuple[User, int]:
    """Give the user this role and township (none: county-wide), revoke every token they
    had and issue one new token, in one save: (the user, how many tokens were revoked)."""
    township = clean_name(township, "township", TOWNSHIP_CHARS_MAX) if township else ""
    user = get_user(app, name)
    user.change_role(role, township, actor)
    revoked = _revoke_all(app, user, actor)
    _issue(app, user, new_token_hash, actor, *revoked)
    return user, len(revoked)


def issue_token(app: Application, *, name: str, actor: str, new_token_hash: str) -> User:
    """One more token for an existing user (their other tokens keep working)."""
    user = get_user(app, name)
    _issue(app, user, new_token_hash, actor)
    return user


def revoke_user(app: Application, name: str, actor: str) -> int:
    """Revoke every live token of the user; how many were revoked."""
    user = get_user(app, name)
    tokens = _revoke_all(app, user, actor)
    if tokens:
        _save(app, user, *tokens)
    return len(tokens)


def _issue(app: Application, user: User, new_token_hash: str, actor: str,
           *also: Any) -> None:
    user.issue_token(token_hash=new_token_hash, actor=actor)
    token = Token(token_hash=new_token_hash, user_name=user.name, actor=actor)
    _save(app, user, token, *also)


def _revoke_all(app: Application, user: User, actor: str) -> list[Token]:
    """Every live token of the user revoked (not saved yet)."""
    tokens: list[Token] = [app.repository.get(Token.create_id(h)) for h in user.token_hashes]
    for token in tokens:
        user.revoke_token(token_hash=token.token_hash, actor=actor)
        token.revoke(actor=actor)
    return tokens


def _look_alike(app: Application, name: str) -> str | None:
    """The existing user whose name reads like ``name``, if any."""
    key = look_alike_key(name)
    return next((u.name for u in users(app) if look_alike_key(u.name) == key), None)


def get_user(app: Application, name: str) -> User:
    try:
        return app.repository.get(User.create_id(name_key(name)))
    except AggregateNotFoundError:
        raise NotFound(f"no user {name!r}") from None


@dataclass(frozen=True)
class Actor:
    """Who acts: ``user_id`` decides whether two acts are one person's; ``name`` is what
    the ledger shows; ``township`` is None for county-wide staff."""

    name: str
    user_id: str
    township: str | None = None

    @property
    def level(self) -> str:
        """The approval level the person signs at: 'township' or 'county'."""
        return "county" if self.township is None else "township"


def same_person(recorded_id: str, recorded_name: str, actor: Actor) -> bool:
    """Whether ``actor`` is the person recorded (by id; a record without an id, made
    before ids were kept, by the id its name maps to)."""
    return (recorded_id or user_id(recorded_name)) == (actor.user_id or user_id(actor.name))


def user_id(name: str) -> str:
    """The id of the user of this name: what maker-checker compares. Requests recorded
    before ids were kept carry only the name; it maps to the same id."""
    return str(User.create_id(name_key(name)))


def authenticate(app: Application, presented_hash: str) -> User | None:
    """The user a live token belongs to, or None: unknown, revoked, or user gone."""
    try:
        token: Token = app.repository.get(Token.create_id(presented_hash))
    except AggregateNotFoundError:
        return None
    if token.revoked or not hmac.compare_digest(token.token_hash, presented_hash):
        return None
    user = get_user(app, token.user_name)
    return user if presented_hash in user.token_hashes else None


def record_read(app: Application, *, reader: str, role: str, subject_type: str,
                subject_id: str, what: str) -> None:
    _save(app, PersonalDataRead(reader=reader, role=role, subject_type=subject_type,
                                subject_id=subject_id, what=what))


def ids_with_event(app: Application, event_class: type) -> list[UUID]:
    """Ids of the aggregates that have an event of this class, in recording order."""
    topic = f"{event_class.__module__}:{event_class.__qualname__}"
    ids: list[UUID] = []
    start = 1
    while True:
        page = app.recorder.select_notifications(start, NOTIFICATION_PAGE_SIZE, topics=[topic])
        if not page:
            return ids
        # the library types an id UUID | str; every aggregate of ours has a UUID
        ids.extend(UUID(str(n.originator_id)) for n in page)
        start = page[-1].id + 1


def users(app: Application) -> list[User]:
    event_class = User.Added  # type: ignore[attr-defined]  # declared at run time by @event
    return [app.repository.get(i) for i in ids_with_event(app, event_class)]


def read_ids(app: Application) -> list[UUID]:
    """Ids of every recorded personal-data read, oldest first."""
    return ids_with_event(app, PersonalDataRead.Recorded)  # type: ignore[attr-defined]  # declared at run time by @event


def _exists(app: Application, aggregate_id: UUID) -> bool:
    return bool(app.recorder.select_events(aggregate_id, desc=True, limit=1))


def _save(app: Application, *aggregates: Any) -> None:
    try:
        app.save(*aggregates)
    except IntegrityError as error:
        raise Conflict("someone else changed the same user at the same time; "
                       "nothing was written, try again") from error

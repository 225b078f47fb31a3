"""The record projection: every version of every record, and the postings it implies.

It pulls the notification log (which works on SQLite, where eventsourcing has no
subscriptions, and on PostgreSQL alike) and writes, per page of notifications, the rows
and the new tracking position in ONE transaction: a crash between pages loses nothing
and repeats nothing (exactly once).

Tables:
- ``rm_facts``: one row per ``Recorded``/``Corrected`` event: kind, key, fields (JSON),
  recorded_at, business_date, actor, evidence. The state of the books "as known at" a
  moment is, per key, the last version recorded by then.
- ``rm_postings``: double-entry postings derived from each version; a correction reverses
  what the earlier version posted and posts anew, both at the correction's recorded_at.
- ``rm_tracking``: the last notification id each projection has processed.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any

from domain.ledger import Ledger
from domain.money import to_fen
from domain.postings import Posting, postings_for
from domain.records import Record
from projections.db import Database

NAME = "facts"
LOCK_NAME = "aidledger.projection.facts"
PAGE_SIZE_MAX = 2_000
RECORD_TOPICS = (f"{Record.__module__}:{Record.__qualname__}.Recorded",
                 f"{Record.__module__}:{Record.__qualname__}.Corrected")

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS rm_tracking (name TEXT PRIMARY KEY, position BIGINT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS rm_facts (notification_id BIGINT PRIMARY KEY, kind TEXT NOT NULL,"
    " key TEXT NOT NULL, recorded_at TEXT NOT NULL, business_date TEXT NOT NULL,"
    " actor TEXT NOT NULL, fields TEXT NOT NULL, evidence_event TEXT NOT NULL,"
    " evidence_row TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS rm_facts_kind_key ON rm_facts (kind, key, notification_id)",
    "CREATE TABLE IF NOT EXISTS rm_postings (notification_id BIGINT NOT NULL, seq INTEGER NOT NULL,"
    " subject TEXT NOT NULL, account TEXT NOT NULL, amount_fen BIGINT NOT NULL,"
    " business_date TEXT NOT NULL, recorded_at TEXT NOT NULL,"
    " PRIMARY KEY (notification_id, seq))",
    "CREATE INDEX IF NOT EXISTS rm_postings_account ON rm_postings (account)",
)


def ensure_schema(db: Database) -> None:
    with db.transaction():
        db.lock(LOCK_NAME)  # concurrent CREATE IF NOT EXISTS can collide on PostgreSQL
        for statement in SCHEMA:
            db.execute(statement)


def position(db: Database, name: str = NAME) -> int:
    rows = db.query("SELECT position FROM rm_tracking WHERE name=?", [name])
    return int(rows[0][0]) if rows else 0


def moment_text(moment: dt.datetime) -> str:
    """Fixed-width UTC text, so moments compare correctly as strings in SQL."""
    utc = moment.astimezone(dt.UTC)
    return f"{utc.year:04d}" + utc.strftime("-%m-%dT%H:%M:%S.%fZ")  # %Y is unpadded < 1000


def _json_default(value: Any) -> str:
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"cannot store {type(value).__name__} in a fact")


class FactState:
    """The latest fields of each (kind, key) seen so far, read through to rm_facts."""

    def __init__(self, db: Database):
        self.db = db
        self.cache: dict[tuple[str, str], dict[str, Any] | None] = {}

    def get(self, kind: str, key: str) -> dict[str, Any] | None:
        if (kind, key) not in self.cache:
            rows = self.db.query("SELECT fields FROM rm_facts WHERE kind=? AND key=? "
                                 "ORDER BY notification_id DESC LIMIT 1", [kind, key])
            self.cache[(kind, key)] = json.loads(rows[0][0]) if rows else None
        return self.cache[(kind, key)]

    def put(self, kind: str, key: str, fields: dict[str, Any]) -> None:
        self.cache[(kind, key)] = fields


class PostingState:
    """What each posting subject posts now, so a change can be reversed exactly."""

    def __init__(self, db: Database):
        self.db = db
        self.cache: dict[str, dict[str, int]] = {}

    def get(self, subject: str) -> dict[str, int]:
        if subject not in self.cache:
            rows = self.db.query("SELECT account, SUM(amount_fen) FROM rm_postings "
                                 "WHERE subject=? GROUP BY account", [subject])
            self.cache[subject] = {a: int(s) for a, s in rows if int(s) != 0}
        return self.cache[subject]

    def put(self, subject: str, balances: dict[str, int]) -> None:
        self.cache[subject] = {a: s for a, s in balances.items() if s != 0}


def catch_up(
    ledger: Ledger, db: Database, *, limit: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Process the notification log from the tracked position; returns events processed.

    ``limit`` stops after that many notifications (used to test resuming mid-way).
    """
    ensure_schema(db)
    done = 0
    while limit is None or done < limit:
        start = position(db) + 1
        page_size = PAGE_SIZE_MAX if limit is None else min(PAGE_SIZE_MAX, limit - done)
        page = ledger.recorder.select_notifications(start, page_size)
        if not page:
            break
        with db.transaction():
            db.lock(LOCK_NAME)
            if position(db) + 1 != start:
                continue  # another projector took this page meanwhile: read on from its end
            _apply_page(ledger, db, page)
            _set_position(db, page[-1].id)
        done += len(page)
        if progress:
            progress(len(page))
    return done


def _set_position(db: Database, new_position: int) -> None:
    if db.query("SELECT 1 FROM rm_tracking WHERE name=?", [NAME]):
        db.execute("UPDATE rm_tracking SET position=? WHERE name=?", [new_position, NAME])
    else:
        db.execute("INSERT INTO rm_tracking (name, position) VALUES (?, ?)", [NAME, new_position])


def _apply_page(ledger: Ledger, db: Database, page: Iterable[Any]) -> None:
    facts, postings_rows = [], []
    state, balances = FactState(db), PostingState(db)
    for notification in page:
        if notification.topic not in RECORD_TOPICS:
            continue
        event = ledger.mapper.to_domain_event(notification)
        record_kind, key = event.kind, event.key
        fields = {k: v for k, v in event.fields.items()}
        recorded_at = moment_text(event.timestamp)
        evidence_event = f"{event.originator_id}/{event.originator_version}"
        facts.append((notification.id, record_kind, key, recorded_at, event.business_date,
                      event.actor, json.dumps(fields, default=_json_default, ensure_ascii=False),
                      evidence_event, event.source))
        state.put(record_kind, key, json.loads(facts[-1][6]))
        seq = 0
        for subject, new_postings in postings_for(record_kind, key, state.get):
            for posting in _delta(subject, new_postings, balances):
                postings_rows.append((notification.id, seq, subject, posting.account,
                                      posting.amount_fen, event.business_date, recorded_at))
                seq += 1
    db.executemany("INSERT INTO rm_facts VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", facts)
    db.executemany("INSERT INTO rm_postings VALUES (?, ?, ?, ?, ?, ?, ?)", postings_rows)


def _delta(subject: str, new: list[Posting], balances: PostingState) -> list[Posting]:
    """The postings that turn what ``subject`` posted so far into ``new``."""
    old = balances.get(subject)
    target: dict[str, int] = {}
    for posting in new:
        target[posting.account] = target.get(posting.account, 0) + posting.amount_fen
    accounts = sorted(set(old) | set(target))
    out = [Posting(a, target.get(a, 0) - old.get(a, 0)) for a in accounts]
    out = [p for p in out if p.amount_fen != 0]
    assert sum(p.amount_fen for p in out) == 0, f"unbalanced delta for {subject}"
    balances.put(subject, target)
    return out


def fen(value: Any) -> int:
    return to_fen(Decimal(str(value)))


def drop(db: Database) -> None:
    """Forget the read models; the next ``catch_up`` rebuilds them from the log."""
    with db.transaction():
        for table in ("rm_facts", "rm_postings", "rm_tracking"):
            db.execute(f"DROP TABLE IF EXISTS {table}")


def trial_balance(db: Database) -> int:
    """Sum over all accounts: zero whenever the books balance."""
    ensure_schema(db)
    rows = db.query("SELECT COALESCE(SUM(amount_fen), 0) FROM rm_postings")
    return int(rows[0][0])


def account_balances(db: Database, as_of: str | None = None,
                     known_at: str | None = None) -> dict[str, int]:
    """Balance of every account by business date and/or recording moment."""
    ensure_schema(db)
    sql, params = "SELECT account, SUM(amount_fen) FROM rm_postings WHERE 1=1", []
    if as_of:
        sql += " AND business_date <= ?"
        params.append(as_of)
    if known_at:
        sql += " AND recorded_at <= ?"
        params.append(known_at)
    rows = db.query(sql + " GROUP BY account", params)
    return {account: int(total) for account, total in rows if int(total) != 0}

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
from concurrent.futures import Future, ThreadPoolExecutor
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from uuid import UUID

from domain.ledger import Ledger
from domain.postings import _RULES, Posting, postings_for
from domain.records import Record
from projections.db import Database

NAME = "facts"
LOCK_NAME = "aidledger.projection.facts"
# Notifications per page (one read, one transaction): ~10 MB of events at most.
PAGE_SIZE_MAX = 10_000
IN_LIST_MAX = 500  # bound parameters per IN (...) list on SQLite
PAYMENT_KINDS = ("payroll", "bank_return")  # both post under one 'payment|<key>' subject
POSTING_RULE_KINDS = frozenset(_RULES)  # kinds that post; the others (households …) never do
# eventsourcing transcodings whose data is already the text rm_facts stores.
PLAIN_TRANSCODINGS = frozenset({"decimal_str", "datetime_iso"})
UTC_ISO_CHARS = len("2025-01-01T00:00:00.000000+00:00")
FACT_COLUMNS = ("notification_id", "kind", "key", "recorded_at", "business_date", "actor",
                "fields", "evidence_event", "evidence_row", "household_id")
POSTING_COLUMNS = ("notification_id", "seq", "subject", "account", "amount_fen",
                   "business_date", "recorded_at")
RECORD_TOPICS = (f"{Record.__module__}:{Record.__qualname__}.Recorded",
                 f"{Record.__module__}:{Record.__qualname__}.Corrected")

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS rm_tracking (name TEXT PRIMARY KEY, position BIGINT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS rm_facts (notification_id BIGINT PRIMARY KEY, kind TEXT NOT NULL,"
    " key TEXT NOT NULL, recorded_at TEXT NOT NULL, business_date TEXT NOT NULL,"
    " actor TEXT NOT NULL, fields TEXT NOT NULL, evidence_event TEXT NOT NULL,"
    " evidence_row TEXT NOT NULL, household_id TEXT NOT NULL DEFAULT '')",
    "CREATE INDEX IF NOT EXISTS rm_facts_kind_key ON rm_facts (kind, key, notification_id)",
    # a household's statement and timeline find its records without scanning the JSON
    "CREATE INDEX IF NOT EXISTS rm_facts_household ON rm_facts (household_id)",
    "CREATE TABLE IF NOT EXISTS rm_postings (notification_id BIGINT NOT NULL, seq INTEGER NOT NULL,"
    " subject TEXT NOT NULL, account TEXT NOT NULL, amount_fen BIGINT NOT NULL,"
    " business_date TEXT NOT NULL, recorded_at TEXT NOT NULL,"
    " PRIMARY KEY (notification_id, seq))",
    "CREATE INDEX IF NOT EXISTS rm_postings_account ON rm_postings (account)",
    # catch-up reads what a subject posts so far, per page of events
    "CREATE INDEX IF NOT EXISTS rm_postings_subject ON rm_postings (subject)",
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
    """The latest fields of each (kind, key) seen so far, read through to rm_facts.

    ``prefetch`` reads every key a page will ask for in one query per kind, so that
    ``get`` never queries per event (the per-event SELECT was what made catch-up slow).
    """

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

    def prefetch(self, pairs: Iterable[tuple[str, str]]) -> None:
        by_kind: dict[str, list[str]] = {}
        for kind, key in pairs:
            if (kind, key) not in self.cache:
                by_kind.setdefault(kind, []).append(key)
        for kind, keys in by_kind.items():
            latest: dict[str, tuple[int, str]] = {}
            for chunk_sql, params in _in_lists(self.db, "key", keys):
                rows = self.db.query("SELECT key, notification_id, fields FROM rm_facts "
                                     f"WHERE kind=? AND {chunk_sql}", [kind, *params])
                for key, nid, fields in rows:
                    if key not in latest or int(nid) > latest[key][0]:
                        latest[key] = (int(nid), fields)
            for key in keys:
                found = latest.get(key)
                self.cache[(kind, key)] = json.loads(found[1]) if found else None


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

    def prefetch(self, subjects: Iterable[str]) -> None:
        wanted = [s for s in dict.fromkeys(subjects) if s not in self.cache]
        found: dict[str, dict[str, int]] = {s: {} for s in wanted}
        for chunk_sql, params in _in_lists(self.db, "subject", wanted):
            rows = self.db.query("SELECT subject, account, SUM(amount_fen) FROM rm_postings "
                                 f"WHERE {chunk_sql} GROUP BY subject, account", params)
            for subject, account, total in rows:
                if int(total) != 0:
                    found[subject][account] = int(total)
        self.cache.update(found)


def _in_lists(db: Database, column: str, values: list[str]) -> Iterator[tuple[str, list[Any]]]:
    """``column`` among ``values``: one array parameter on PostgreSQL, IN lists of at
    most IN_LIST_MAX bound parameters on SQLite."""
    if not values:
        return
    if db.backend == "postgres":
        yield f"{column} = ANY(?)", [values]
        return
    for start in range(0, len(values), IN_LIST_MAX):
        chunk = values[start:start + IN_LIST_MAX]
        yield f"{column} IN ({', '.join('?' * len(chunk))})", chunk


def catch_up(
    ledger: Ledger, db: Database, *, limit: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Process the notification log from the tracked position; returns events processed.

    ``limit`` stops after that many notifications (used to test resuming mid-way).
    On PostgreSQL the next page is read (in a thread) while this one is projected.
    """
    ensure_schema(db)
    done = 0
    with _PageReader(ledger, ahead=db.backend == "postgres") as reader:
        while limit is None or done < limit:
            start = position(db) + 1
            page = reader.page(start, _page_size(limit, done))
            if not page:
                break
            with db.transaction():
                db.lock(LOCK_NAME)
                if position(db) + 1 != start:
                    continue  # another projector took this page meanwhile: read on from its end
                reader.read_ahead(page[-1].id + 1, _page_size(limit, done + len(page)))
                _apply_page(ledger, db, page)
                _set_position(db, page[-1].id)
            done += len(page)
            if progress:
                progress(len(page))
    return done


def _page_size(limit: int | None, done: int) -> int:
    return PAGE_SIZE_MAX if limit is None else min(PAGE_SIZE_MAX, limit - done)


class _PageReader:
    """Pages of the notification log, the next one read ahead in a thread when asked
    (the database works on the read while Python projects the page before it). A page
    read ahead from a position that turns out stale is dropped and read again."""

    def __init__(self, ledger: Ledger, *, ahead: bool):
        self.select = ledger.recorder.select_notifications
        self.pool = ThreadPoolExecutor(1) if ahead else None
        self.pending: tuple[int, int, Future[Any]] | None = None

    def __enter__(self) -> _PageReader:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)

    def read_ahead(self, start: int, size: int) -> None:
        if self.pool is not None and size > 0:
            self.pending = (start, size, self.pool.submit(self.select, start, size))

    def page(self, start: int, size: int) -> Sequence[Any]:
        pending, self.pending = self.pending, None
        if pending is not None:
            page = pending[2].result()
            if pending[:2] == (start, size):
                return page
        return self.select(start, size)


def _set_position(db: Database, new_position: int) -> None:
    if db.query("SELECT 1 FROM rm_tracking WHERE name=?", [NAME]):
        db.execute("UPDATE rm_tracking SET position=? WHERE name=?", [new_position, NAME])
    else:
        db.execute("INSERT INTO rm_tracking (name, position) VALUES (?, ?)", [NAME, new_position])


@dataclass(frozen=True)
class RecordEvent:
    """What the projection needs of one ``Recorded``/``Corrected`` event."""

    notification_id: int
    kind: str
    key: str
    fields: dict[str, Any]  # as stored in rm_facts: money as decimal text
    fields_json: str
    recorded_at: str
    business_date: str
    actor: str
    evidence_event: str
    source: str


def _plain_text(value: Any) -> Any:
    """The text inside an eventsourcing ``{"_type_": …, "_data_": …}`` wrapper of a
    decimal or a moment; ``_NOT_PLAIN`` for any other wrapped or nested value."""
    if len(value) == 2 and value.get("_type_") in PLAIN_TRANSCODINGS \
            and isinstance(value.get("_data_"), str):
        return value["_data_"]
    return _NOT_PLAIN


_NOT_PLAIN = object()
_decode_json = json.JSONDecoder().decode
_dumps = json.JSONEncoder(ensure_ascii=False).encode


def decode_page(ledger: Ledger, page: Iterable[Any]) -> list[RecordEvent]:
    """The record events of a page of notifications, others skipped.

    Directly from the stored JSON when the mapper neither compresses nor encrypts:
    decimals stay their decimal text (what rm_facts keeps) and the timestamp its ISO
    text, which skips building event objects and Decimals only to turn them back into
    text. Anything unusual goes through the mapper (``decode_with_mapper``)."""
    direct = ledger.mapper.compressor is None and ledger.mapper.cipher is None
    out = []
    for notification in page:
        if notification.topic not in RECORD_TOPICS:
            continue
        decoded = _decode_direct(notification) if direct else None
        out.append(decoded or decode_with_mapper(ledger, notification))
    return out


def _decode_direct(notification: Any) -> RecordEvent | None:
    """Plain ``json.loads`` (no per-object hook), then unwrap the few wrapped values
    by hand: a record's fields are flat, so only their values need a look."""
    state = _decode_json(notification.state.decode("utf8"))
    timestamp = state["timestamp"]
    timestamp = _plain_text(timestamp) if type(timestamp) is dict else _NOT_PLAIN
    fields = state["fields"]
    if timestamp is _NOT_PLAIN or type(fields) is not dict:
        return None
    for name, value in fields.items():
        if type(value) is dict or type(value) is list:
            value = _plain_text(value) if type(value) is dict else _NOT_PLAIN
            if value is _NOT_PLAIN:
                return None
            fields[name] = value
    originator_id = notification.originator_id
    if type(originator_id) is not UUID:
        originator_id = UUID(originator_id)
    return RecordEvent(
        notification.id, state["kind"], state["key"], fields, _dumps(fields),
        _moment_text_of_iso(timestamp), state["business_date"], state["actor"],
        f"{originator_id}/{notification.originator_version}", state["source"])


def decode_with_mapper(ledger: Ledger, notification: Any) -> RecordEvent:
    """The reference decoding: the mapper's domain event, its fields as JSON text."""
    event = ledger.mapper.to_domain_event(notification)
    fields_json = json.dumps(dict(event.fields), default=_json_default, ensure_ascii=False)
    return RecordEvent(
        notification.id, event.kind, event.key, json.loads(fields_json), fields_json,
        moment_text(event.timestamp), event.business_date, event.actor,
        f"{event.originator_id}/{event.originator_version}", event.source)


def _moment_text_of_iso(text: str) -> str:
    """``moment_text`` of an ISO timestamp, by slicing when it already is UTC with
    microseconds (what eventsourcing writes), by parsing otherwise."""
    if len(text) == UTC_ISO_CHARS and text.endswith("+00:00"):
        return text[:-6] + "Z"
    return moment_text(dt.datetime.fromisoformat(text))


def _apply_page(ledger: Ledger, db: Database, page: Iterable[Any]) -> None:
    events = decode_page(ledger, page)
    state, balances = FactState(db), PostingState(db)
    posting = [e for e in events if e.kind in PAYMENT_KINDS or e.kind in POSTING_RULE_KINDS]
    state.prefetch(pair for e in posting for pair in _lookups_of(e.kind, e.key))
    balances.prefetch(_subject_of(e.kind, e.key) for e in posting)
    facts, postings_rows = [], []
    for event in events:
        facts.append((event.notification_id, event.kind, event.key, event.recorded_at,
                      event.business_date, event.actor, event.fields_json,
                      event.evidence_event, event.source,
                      str(event.fields.get("household_id") or "")))
        state.put(event.kind, event.key, event.fields)
        seq = 0
        for subject, new_postings in postings_for(event.kind, event.key, state.get):
            for posting in _delta(subject, new_postings, balances):
                postings_rows.append((event.notification_id, seq, subject, posting.account,
                                      posting.amount_fen, event.business_date,
                                      event.recorded_at))
                seq += 1
    insert_rows(db, "rm_facts", FACT_COLUMNS, facts)
    insert_rows(db, "rm_postings", POSTING_COLUMNS, postings_rows)


def _lookups_of(kind: str, key: str) -> tuple[tuple[str, str], ...]:
    """The (kind, key) pairs ``postings_for`` reads for an event of (kind, key) that
    the page may not hold: its own record is always put before it is read, so only
    the other side of a payment (a bank line's payroll line, or the reverse)."""
    if kind in PAYMENT_KINDS:
        return tuple((k, key) for k in PAYMENT_KINDS if k != kind)
    return ()


def _subject_of(kind: str, key: str) -> str:
    return f"payment|{key}" if kind in PAYMENT_KINDS else f"{kind}|{key}"


def insert_rows(db: Database, table: str, columns: Sequence[str],
                rows: Sequence[Sequence[Any]]) -> None:
    """Append rows inside the current transaction: ``COPY`` on PostgreSQL (several times
    faster than executemany for a page of thousands of rows), executemany on SQLite."""
    if not rows:
        return
    if db.backend != "postgres":
        marks = ", ".join("?" * len(columns))
        db.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)
        return
    conn = db._conn  # noqa: SLF001 - Database has no COPY method yet (see the report)
    with conn.cursor() as cur, cur.copy(
            f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        write_row = copy.write_row
        for row in rows:
            write_row(row)


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

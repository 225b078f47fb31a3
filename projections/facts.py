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
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import nullcontext
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, NamedTuple

import orjson
from eventsourcing.persistence import StoredEvent

from domain.event_codec import RecordedEvent, plain_state
from domain.ledger import Ledger
from domain.postings import PAYMENT_KINDS, Posting, posting_kinds, postings_for
from domain.records import Record
from projections import proof
from projections.db import ANALYZE_AFTER_ROWS, Database

NAME = "facts"
LOCK_NAME = "aidledger.projection.facts"
# Notifications per page (one read, one transaction): ~10 MB of events at most.
PAGE_SIZE_MAX = 10_000
UNIT_SEPARATOR = "\x1f"
IN_LIST_MAX = 500  # bound parameters per IN (...) list on SQLite
UTC_ISO_CHARS = len("2025-01-01T00:00:00.000000+00:00")
FACT_COLUMNS = ("notification_id", "kind", "key", "recorded_at", "business_date", "actor",
                "fields", "evidence_event", "evidence_row", "household_id")
POSTING_COLUMNS = ("notification_id", "seq", "subject", "account", "amount_fen",
                   "business_date", "recorded_at")
# Both tables are checksummed as they are written and recomputed by verify (projections.proof).
FACTS_TABLE = proof.ProvenTable("rm_facts", FACT_COLUMNS, key=("notification_id",),
                                partition="kind")
POSTINGS_TABLE = proof.ProvenTable("rm_postings", POSTING_COLUMNS,
                                   key=("notification_id", "seq"))
PROVEN_TABLES = (FACTS_TABLE, POSTINGS_TABLE)
# What reports, disclosures and the public pages are computed from (projections.frames
# reads rm_facts): the rows they re-prove before publishing (audit.check_published).
PUBLISHED_FROM = (FACTS_TABLE,)
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
        proof.ensure_schema(db)


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
            self.cache[(kind, key)] = load_fields(rows[0][0]) if rows else None
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
                self.cache[(kind, key)] = load_fields(found[1]) if found else None


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
        if values != [""] and not any(UNIT_SEPARATOR in v for v in values):
            # one text parameter, split by the server: adapting a Python list of 10,000
            # strings to an array parameter costs more than the query itself
            yield f"{column} = ANY(string_to_array(?, chr(31)))", [UNIT_SEPARATOR.join(values)]
        else:
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

    Each page is projected outside any transaction, then written in one transaction that
    first checks, under the projection's lock, that the tracked position is still where
    the page starts: a page projected while another projector moved on is dropped and
    the catch-up reads on from the new position. Positions only move forward and every
    write moves them, so an unchanged position proves the page read the state it wrote
    over.

    On PostgreSQL the work runs as a pipeline: the next page is read in one thread, the
    page before is written (its own connection) in another, while Python projects this
    one. A page is projected on the state the page before it leaves, carried over in
    memory (it is not committed yet); everything older is read from the database (it is).
    If the page before turns out stale, this one is dropped with it.
    """
    ensure_schema(db)
    pipelined = db.backend == "postgres"
    writer_db = db.companion() if pipelined else db
    done = 0
    with _PageReader(ledger, ahead=pipelined) as reader, \
            (ThreadPoolExecutor(1) if pipelined else nullcontext()) as writer:
        finished = False
        while not finished and (limit is None or done < limit):
            done, finished = _catch_up_run(ledger, db, writer_db, reader, writer, limit,
                                           done, progress)
    analyze_after(db, done)
    return done


def analyze_after(db: Database, written: int) -> None:
    """Fresh planner statistics once a projection wrote ANALYZE_AFTER_ROWS events or more
    (PostgreSQL; SQLite plans without them)."""
    if db.backend == "postgres" and written >= ANALYZE_AFTER_ROWS:
        for table in ("rm_facts", "rm_postings"):
            db.execute(f"ANALYZE {table}")


def project_appended(ledger: Ledger, db: Database, ids: Sequence[int],
                     events: Sequence[StoredEvent]) -> int:
    """Project events this process has just appended (notification ids ``ids``), from
    memory: no page of the log is read back, and a new record's event is not decoded
    again (``RecordedEvent`` carries its plain values). The rows, checksums and position
    are written page by page exactly as ``catch_up`` writes them, under the same check.

    Returns how many events were projected: 0 when the read models do not stand just
    before these events (events of another writer come first, or a projector moved on
    meanwhile), which ``catch_up`` then projects from the log as always."""
    ensure_schema(db)
    if not ids:
        return 0
    if len(ids) != len(events):
        raise ValueError(f"{len(ids)} notification ids for {len(events)} events")
    after = position(db)
    if after >= ids[0] or (after + 1 < ids[0] and ledger.recorder.select_notifications(
            after + 1, 1, stop=ids[0] - 1)):
        return 0
    done = 0
    carried: Carried | None = None
    for start in range(0, len(ids), PAGE_SIZE_MAX):
        page_ids = ids[start:start + PAGE_SIZE_MAX]
        page = events[start:start + PAGE_SIZE_MAX]
        projected = _project_events(db, _events_of(ledger, page_ids, page), carried)
        if not _write_page(db, after, page_ids[-1], projected):
            break
        after, carried, done = page_ids[-1], projected.carried, done + len(page_ids)
    return done


def _events_of(ledger: Ledger, ids: Sequence[int],
               events: Sequence[StoredEvent]) -> list[RecordEvent]:
    """The record events among events just appended: a ``RecordedEvent`` from its plain
    values, any other through ``decode_page`` (what catch-up would read of it)."""
    out: list[RecordEvent] = []
    for nid, event in zip(ids, events, strict=True):
        if type(event) is RecordedEvent:
            out.append(RecordEvent(
                nid, event.kind, event.key, event.fields, _dumps(event.fields),
                _moment_text_of_iso(_iso(event.timestamp)), event.business_date, event.actor,
                f"{event.originator_id}/{event.originator_version}", event.source))
        else:
            out.extend(decode_page(ledger, [(nid, event.originator_id,
                                             event.originator_version, event.topic,
                                             event.state)]))
    return out


def _catch_up_run(
    ledger: Ledger, db: Database, writer_db: Database, reader: _PageReader,
    writer: ThreadPoolExecutor | None, limit: int | None, done: int,
    progress: Callable[[int], None] | None,
) -> tuple[int, bool]:
    """Pages from the tracked position on: (events written so far, True) when the log
    or the limit is reached, (…, False) when a page turns out stale (start again)."""
    start = position(db) + 1
    carried: Carried | None = None
    pending: tuple[Future[bool], int] | None = None  # the write in flight, its size

    def settle() -> bool:
        nonlocal pending, done
        if pending is None:
            return True
        future, size = pending
        pending = None
        if not future.result():
            return False
        done += size
        if progress:
            progress(size)
        return True

    while limit is None or done + (pending[1] if pending else 0) < limit:
        size = _page_size(limit, done + (pending[1] if pending else 0))
        page = reader.page(start, size)
        if not page:
            break
        reader.read_ahead(page[-1][0] + 1, size)
        projected = _project_page(ledger, db, page, carried)
        if not settle():
            return done, False
        if writer is None:
            if not _write_page(writer_db, start - 1, page[-1][0], projected):
                return done, False
            done += len(page)
            if progress:
                progress(len(page))
        else:
            pending = (writer.submit(_write_page, writer_db, start - 1, page[-1][0], projected),
                       len(page))
        carried = projected.carried
        start = page[-1][0] + 1
    finished = settle()
    return done, finished


def _write_page(db: Database, after: int, last: int, projected: ProjectedPage) -> bool:
    """One transaction: the page's rows and its new position ``last``, if the position
    still is ``after`` (where the page was projected from: nobody moved it meanwhile)."""
    with db.transaction():
        db.lock(LOCK_NAME)
        if position(db) != after:
            return False
        for table, rows in ((FACTS_TABLE, projected.facts),
                            (POSTINGS_TABLE, projected.postings)):
            insert_rows(db, table.name, table.columns, rows)
            proof.fold(db, table, rows)
        _set_position(db, last)
    return True


def _page_size(limit: int | None, done: int) -> int:
    return PAGE_SIZE_MAX if limit is None else min(PAGE_SIZE_MAX, limit - done)


# One notification as the projection reads it: (notification id, originator id,
# originator version, topic, state).
Row = tuple[int, Any, int, str, bytes]


def row_of(notification: Any) -> Row:
    return (notification.id, notification.originator_id, notification.originator_version,
            notification.topic, notification.state)


class _PageReader:
    """Pages of the notification log as plain tuples, the next one read ahead in a
    thread when asked (the database works on the read while Python projects the page
    before it). A page read ahead from a position that turns out stale is dropped and
    read again. The COPY recorder reads tuples in binary (no ``Notification`` object
    or hex-decoded bytea per event); any other recorder's notifications are converted."""

    def __init__(self, ledger: Ledger, *, ahead: bool):
        recorder = ledger.recorder
        rows = getattr(recorder, "select_notification_rows", None)
        self.select = rows or (lambda start, size: [
            row_of(n) for n in recorder.select_notifications(start, size)])
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


class RecordEvent(NamedTuple):
    """What the projection needs of one ``Recorded``/``Corrected`` event (a named tuple:
    built once per event, several times cheaper than a frozen dataclass)."""

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


_loads = orjson.loads


def load_fields(text: str | bytes) -> dict[str, Any]:
    """The fields of an ``rm_facts`` row (orjson, the standard library for what it refuses)."""
    try:
        return _loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


def _dumps(fields: dict[str, Any]) -> str:
    """Compact JSON, non-ASCII kept (orjson: about twenty times ``json.dumps``); the
    same text from the standard library for what orjson refuses (integers beyond 64
    bits, say)."""
    try:
        return orjson.dumps(fields, default=_json_default).decode()
    except orjson.JSONEncodeError:
        return json.dumps(fields, default=_json_default, ensure_ascii=False,
                          separators=(",", ":"))


def decode_page(ledger: Ledger, page: Iterable[Row]) -> list[RecordEvent]:
    """The record events of a page of notifications, others skipped.

    Directly from the stored JSON when the mapper neither compresses nor encrypts:
    decimals stay their decimal text (what rm_facts keeps) and the timestamp its ISO
    text, which skips building event objects and Decimals only to turn them back into
    text. Anything unusual goes through the mapper (``decode_with_mapper``)."""
    direct = ledger.mapper.compressor is None and ledger.mapper.cipher is None
    out = []
    for row in page:
        if row[3] not in RECORD_TOPICS:
            continue
        decoded = _decode_direct(row) if direct else None
        out.append(decoded or decode_with_mapper(ledger, row))
    return out


def _decode_direct(row: Row) -> RecordEvent | None:
    """The record event read by ``event_codec.plain_state`` (None: the mapper's way)."""
    notification_id, originator_id, originator_version, _, stored = row
    state = plain_state(stored)
    if state is None:
        return None
    fields = state["fields"]
    return RecordEvent(
        notification_id, state["kind"], state["key"], fields, _dumps(fields),
        _moment_text_of_iso(str(state["timestamp"])), state["business_date"], state["actor"],
        f"{originator_id}/{originator_version}", state["source"])


def decode_with_mapper(ledger: Ledger, row: Row) -> RecordEvent:
    """The reference decoding: the mapper's domain event, its fields as JSON text."""
    notification_id, originator_id, originator_version, topic, stored = row
    event: Any = ledger.mapper.to_domain_event(StoredEvent(
        originator_id=originator_id, originator_version=originator_version,
        topic=topic, state=bytes(stored)))
    fields_json = _dumps(dict(event.fields))
    return RecordEvent(
        notification_id, event.kind, event.key, load_fields(fields_json), fields_json,
        moment_text(event.timestamp), event.business_date, event.actor,
        f"{originator_id}/{originator_version}", event.source)


def _iso(moment: dt.datetime) -> str:
    """``moment.isoformat()``, by orjson for a UTC moment (the same text, in C)."""
    if moment.tzinfo is dt.UTC:
        return orjson.dumps(moment)[1:-1].decode()
    return moment.isoformat()


def _moment_text_of_iso(text: str) -> str:
    """``moment_text`` of an ISO timestamp, by slicing when it already is UTC with
    microseconds (what eventsourcing writes), by parsing otherwise."""
    if len(text) == UTC_ISO_CHARS and text.endswith("+00:00"):
        return text[:-6] + "Z"
    return moment_text(dt.datetime.fromisoformat(text))


# What a page wrote, by (kind, key) and by posting subject: the state the next page
# starts from while this page's write is still in flight.
Carried = tuple[dict[tuple[str, str], dict[str, Any] | None], dict[str, dict[str, int]]]


@dataclass(frozen=True)
class ProjectedPage:
    facts: list[tuple[Any, ...]]
    postings: list[tuple[Any, ...]]
    carried: Carried


def _project_page(ledger: Ledger, db: Database, page: Sequence[Row],
                  carried: Carried | None) -> ProjectedPage:
    return _project_events(db, decode_page(ledger, page), carried)


def _project_events(db: Database, events: Sequence[RecordEvent],
                    carried: Carried | None) -> ProjectedPage:
    state, balances = FactState(db), PostingState(db)
    if carried is not None:
        state.cache.update(carried[0])
        balances.cache.update(carried[1])
    posters = posting_kinds()  # kinds that post; the others (households …) never do
    posting_events = [e for e in events if e.kind in posters]
    subjects = [_subject_of(e.kind, e.key) for e in posting_events]
    state.prefetch(pair for e in posting_events for pair in _lookups_of(e.kind, e.key))
    balances.prefetch(subjects)
    facts, postings_rows = [], []
    written: dict[tuple[str, str], dict[str, Any] | None] = {}
    for event in events:
        facts.append((event.notification_id, event.kind, event.key, event.recorded_at,
                      event.business_date, event.actor, event.fields_json,
                      event.evidence_event, event.source,
                      str(event.fields.get("household_id") or "")))
        state.put(event.kind, event.key, event.fields)
        written[(event.kind, event.key)] = event.fields
        seq = 0
        for subject, new_postings in postings_for(event.kind, event.key, state.get):
            for posting in _delta(subject, new_postings, balances):
                postings_rows.append((event.notification_id, seq, subject, posting.account,
                                      posting.amount_fen, event.business_date,
                                      event.recorded_at))
                seq += 1
    return ProjectedPage(facts, postings_rows,
                         (written, {s: balances.cache[s] for s in subjects}))


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
    """The postings that turn what ``subject`` posted so far into ``new``, by account
    in sorted order."""
    old = balances.get(subject)
    target: dict[str, int] = {}
    for posting in new:
        target[posting.account] = target.get(posting.account, 0) + posting.amount_fen
    balances.put(subject, target)
    if not old:  # the usual case: a first version posts what it says
        out = [Posting(a, target[a]) for a in sorted(target) if target[a] != 0]
    else:
        out = [Posting(a, target.get(a, 0) - old.get(a, 0)) for a in sorted(set(old) | set(target))]
        out = [p for p in out if p.amount_fen != 0]
    assert sum(p.amount_fen for p in out) == 0, f"unbalanced delta for {subject}"
    return out


def drop(db: Database) -> None:
    """Forget the read models; the next ``catch_up`` rebuilds them from the log."""
    with db.transaction():
        for table in ("rm_facts", "rm_postings", "rm_tracking"):
            db.execute(f"DROP TABLE IF EXISTS {table}")
        proof.forget(db, PROVEN_TABLES)


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

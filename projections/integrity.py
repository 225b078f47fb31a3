"""Tamper evidence for the event log: a hash chain, a Merkle tree, digests and receipts.

Why: the ledger is the county's evidence. Anyone who can write to the database could
change, delete or insert a stored event; publishing a short *digest* of the log (on the
county website, in the monthly disclosure) makes any later change to what was published
detectable, and an *inclusion receipt* lets a household check on its own that its
payments are part of the published log.

Leaf of the event at position ``i`` (1, 2, 3 … in notification order)::

    leaf_i = SHA-256( F(str(i)) || F(originator_id) || F(str(originator_version))
                      || F(topic) || F(state) )
    F(x)   = len(x) as 8-byte big-endian unsigned integer || x

``originator_id`` is the canonical UUID text (``8-4-4-4-12`` lower-case hex), numbers are
decimal ASCII, ``topic`` is UTF-8, ``state`` the stored bytes as they are.

Position, not notification id: the leaf commits to the event's place in the log, 1..n.
On a gap-free log (SQLite always; PostgreSQL unless a write was rolled back) that *is*
the notification id. PostgreSQL's ``bigserial`` legitimately skips numbers when a write
transaction rolls back (the ``Conflict`` path), and a restore through ``import`` numbers
events afresh; committing to the position keeps the digest of the same events in the
same order identical on both backends and across export/import. Each chained position
also records the notification id it was chained from, so a deleted row (the position
now holds a later id) and a row inserted into the chained range (an id the chain never
saw) are still found and named.

Two structures over the leaves, both maintained by ``catch_up_chain``:

- a linear chain ``head_i = SHA-256(head_{i-1} || leaf_i)``, ``head_0`` = 32 zero bytes,
  stored per position in ``rm_chain`` — cheap to re-check, pinpoints a tampered row;
- a Merkle tree (RFC 6962/9162): ``leaf hash = SHA-256(0x00 || leaf_i)``,
  ``node = SHA-256(0x01 || left || right)``, the tree of ``n`` leaves split at the
  largest power of two below ``n``. Its root is what is published, because it allows
  short inclusion proofs (log2 n hashes). Only the *frontier* (the roots of the perfect
  subtrees that make up the tree so far, at most log2 n of them) is stored, in
  ``rm_chain_tip``; audit paths are recomputed from the stored leaves when asked.

Published digest text: ``aidledger:v1:<n>:<root hex>`` where ``n`` is the number of
events covered. An empty log has root SHA-256 of the empty string.

Tables (written per page, rows and tip in ONE transaction, like ``projections.facts``):

- ``rm_chain(position, notification_id, originator_id, originator_version, leaf, head)``
- ``rm_chain_tip(name, size, notification_id, head, frontier)``: the tracking position
  of the chain. It is kept apart from ``rm_tracking`` on purpose: ``project --rebuild``
  drops ``rm_tracking``, and the chain must never restart over rows it already has.

Receipt check, with SHA-256 alone (RFC 9162 section 2.1.3.2), for each event listed:

1. ``leaf`` = SHA-256 of the encoding above, from the receipt's ``position``,
   ``originator_id``, ``originator_version``, ``topic`` and base64-decoded ``state``.
2. ``r = SHA-256(0x00 || leaf)``; ``fn = position - 1``; ``sn = tree_size - 1``.
3. For each hex ``p`` of ``audit_path`` in order: if ``sn == 0`` fail. If ``fn`` is odd or
   ``fn == sn``: ``r = SHA-256(0x01 || p || r)`` and then, while ``fn`` is even and not 0,
   halve ``fn`` and ``sn``. Otherwise ``r = SHA-256(0x01 || r || p)``. Then halve
   ``fn`` and ``sn`` (integer division by 2).
4. Valid when ``sn == 0`` and ``r`` equals the digest's root.

Limits (honest ones): rows appended at the tail after the last ``digest`` cannot be told
from genuine new events — they are reported as "not yet chained". Someone who can
rewrite both the log and every ``rm_*`` table can rebuild a consistent chain; what
catches that is ``verify --against`` a digest published before the rewrite.
"""

from __future__ import annotations

import base64
import hashlib
import json
import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import psycopg

from domain import catalogue
from domain.errors import Conflict, DomainError, NotFound
from projections import facts
from projections.db import Database

DIGEST_PREFIX = "aidledger:v1"
RECEIPT_FORMAT = "aidledger-receipt-v1"
TIP_NAME = "chain"
PAGE_SIZE_MAX = 2_000
SQL_IN_CHUNK_MAX = 500
COLLISIONS_MAX = 10
INTEGRITY_ERRORS = (sqlite3.IntegrityError, psycopg.IntegrityError)
HASH_BYTES = 32
LENGTH_PREFIX_BYTES = 8
ZERO_HEAD = bytes(HASH_BYTES)
EMPTY_ROOT = hashlib.sha256(b"").digest()
LEAF_PREFIX, NODE_PREFIX = b"\x00", b"\x01"
# Bank lines name no household: they follow their payroll line's key.
BANK_KIND, PAYROLL_KIND = "bank_return", "payroll"

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS rm_chain (position BIGINT PRIMARY KEY,"
    " notification_id BIGINT NOT NULL, originator_id TEXT NOT NULL,"
    " originator_version BIGINT NOT NULL, leaf TEXT NOT NULL, head TEXT NOT NULL)",
    "CREATE UNIQUE INDEX IF NOT EXISTS rm_chain_notification ON rm_chain (notification_id)",
    "CREATE TABLE IF NOT EXISTS rm_chain_tip (name TEXT PRIMARY KEY, size BIGINT NOT NULL,"
    " notification_id BIGINT NOT NULL, head TEXT NOT NULL, frontier TEXT NOT NULL)",
)


# -- hashing ------------------------------------------------------------------------------
def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def leaf_of(position: int, originator_id: Any, originator_version: int, topic: str,
            state: bytes) -> bytes:
    """The leaf of one event: SHA-256 over its length-prefixed fields (see module doc)."""
    parts = (str(position).encode("ascii"), str(originator_id).encode("utf-8"),
             str(originator_version).encode("ascii"), topic.encode("utf-8"), bytes(state))
    return sha256(b"".join(len(p).to_bytes(LENGTH_PREFIX_BYTES, "big") + p for p in parts))


def leaf_hash(leaf: bytes) -> bytes:
    return sha256(LEAF_PREFIX + leaf)


def node_hash(left: bytes, right: bytes) -> bytes:
    return sha256(NODE_PREFIX + left + right)


def chain_head(previous: bytes, leaf: bytes) -> bytes:
    return sha256(previous + leaf)


@dataclass
class Frontier:
    """Roots of the perfect subtrees making up a Merkle tree of ``size`` leaves.

    ``pieces`` holds (first leaf index, leaf count, hash), largest first; appending a
    leaf merges equal-sized pieces, so there are never more than log2(size) + 1.
    """

    size: int = 0
    pieces: list[tuple[int, int, bytes]] = field(default_factory=list)

    def append(self, leaf: bytes) -> list[tuple[int, int, bytes]]:
        """Add one leaf; returns every perfect subtree completed by it (smallest first)."""
        self.pieces.append((self.size, 1, leaf_hash(leaf)))
        completed = [self.pieces[-1]]
        while len(self.pieces) >= 2 and self.pieces[-1][1] == self.pieces[-2][1]:
            right, left = self.pieces.pop(), self.pieces.pop()
            self.pieces.append((left[0], left[1] * 2, node_hash(left[2], right[2])))
            completed.append(self.pieces[-1])
        self.size += 1
        return completed

    def root(self, first_leaf: int = 0) -> bytes:
        """Root of the leaves ``first_leaf..size-1`` (a right edge of the tree, or all)."""
        chosen = [p[2] for p in self.pieces if p[0] >= first_leaf]
        if not chosen:
            return EMPTY_ROOT
        root = chosen[-1]
        for piece in reversed(chosen[:-1]):
            root = node_hash(piece, root)
        return root

    def to_text(self) -> str:
        return json.dumps([[lo, count, h.hex()] for lo, count, h in self.pieces])

    @classmethod
    def from_text(cls, size: int, text: str) -> Frontier:
        pieces = [(int(lo), int(count), bytes.fromhex(h)) for lo, count, h in json.loads(text)]
        return cls(size, pieces)


# -- digests ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Digest:
    """What is published: how many events, and the Merkle root over them."""

    position: int
    root_hex: str

    @property
    def text(self) -> str:
        return f"{DIGEST_PREFIX}:{self.position}:{self.root_hex}"

    def __str__(self) -> str:
        return self.text

    @classmethod
    def parse(cls, text: str) -> Digest:
        parts = text.strip().split(":")
        if len(parts) != 4 or ":".join(parts[:2]) != DIGEST_PREFIX:
            raise DomainError(f"not a digest: {text!r} (expected {DIGEST_PREFIX}:<n>:<hex>)")
        position, root_hex = parts[2], parts[3].lower()
        if not position.isdigit() or len(root_hex) != 2 * HASH_BYTES or not _is_hex(root_hex):
            raise DomainError(f"not a digest: {text!r} (expected {DIGEST_PREFIX}:<n>:<hex>)")
        return cls(int(position), root_hex)


def _is_hex(text: str) -> bool:
    return all(c in "0123456789abcdef" for c in text)


# -- the follower -------------------------------------------------------------------------
@dataclass
class Tip:
    size: int = 0
    notification_id: int = 0
    head: bytes = ZERO_HEAD
    frontier: Frontier = field(default_factory=Frontier)


def ensure_schema(db: Database) -> None:
    """Create the tables once; on PostgreSQL, concurrent ``CREATE TABLE IF NOT EXISTS``
    can still collide, so creators take a transaction-scoped advisory lock first."""
    with db.transaction():
        if db.backend != "sqlite":
            db.execute("SELECT pg_advisory_xact_lock(hashtext('aidledger.rm_chain'))")
        for statement in SCHEMA:
            db.execute(statement)


def read_tip(db: Database) -> Tip:
    rows = db.query("SELECT size, notification_id, head, frontier FROM rm_chain_tip "
                    "WHERE name=?", [TIP_NAME])
    if not rows:
        return Tip()
    size, notification_id, head, frontier = rows[0]
    return Tip(int(size), int(notification_id), bytes.fromhex(head),
               Frontier.from_text(int(size), frontier))


def catch_up_chain(store: Any) -> int:
    """Chain every event not yet chained; returns how many were added.

    Each page's ``rm_chain`` rows and the new tip commit in one transaction, so the tip
    (and hence ``digest``) never covers an event whose row is not written.
    """
    db = store.db
    ensure_schema(db)
    done, collisions = 0, 0
    while True:
        tip = read_tip(db)
        page = store.ledger.recorder.select_notifications(tip.notification_id + 1,
                                                          PAGE_SIZE_MAX)
        if not page:
            return done
        rows = [_chain_row(tip, n) for n in page]
        try:
            with db.transaction():
                db.executemany("INSERT INTO rm_chain VALUES (?, ?, ?, ?, ?, ?)", rows)
                _write_tip(db, tip)
        except INTEGRITY_ERRORS as error:
            # another process chained these positions first: resume from its tip
            collisions += 1
            if collisions > COLLISIONS_MAX:
                raise Conflict("another process keeps chaining the same events; "
                               "try again") from error
            continue
        done += len(page)


def _chain_row(tip: Tip, notification: Any) -> tuple[Any, ...]:
    """Advance ``tip`` by one event and return its ``rm_chain`` row."""
    position = tip.size + 1
    leaf = leaf_of(position, notification.originator_id, notification.originator_version,
                   notification.topic, notification.state)
    tip.head = chain_head(tip.head, leaf)
    tip.frontier.append(leaf)
    tip.size, tip.notification_id = position, notification.id
    return (position, notification.id, str(notification.originator_id),
            notification.originator_version, leaf.hex(), tip.head.hex())


def _write_tip(db: Database, tip: Tip) -> None:
    values = [tip.size, tip.notification_id, tip.head.hex(), tip.frontier.to_text()]
    if db.query("SELECT 1 FROM rm_chain_tip WHERE name=?", [TIP_NAME]):
        db.execute("UPDATE rm_chain_tip SET size=?, notification_id=?, head=?, frontier=? "
                   "WHERE name=?", [*values, TIP_NAME])
    else:
        db.execute("INSERT INTO rm_chain_tip VALUES (?, ?, ?, ?, ?)", [TIP_NAME, *values])


def digest(store: Any) -> Digest:
    """Chain what is new, then the digest of everything chained (never beyond it)."""
    catch_up_chain(store)
    tip = read_tip(store.db)
    return Digest(tip.size, tip.frontier.root().hex())


# -- verify -------------------------------------------------------------------------------
@dataclass(frozen=True)
class VerifyResult:
    """``position``: events checked; ``unchained``: of those, recorded after the chain tip."""

    ok: bool
    position: int
    first_bad: str | None
    reason: str
    unchained: int = 0


@dataclass(frozen=True)
class ChainRow:
    position: int
    notification_id: int
    originator_id: str
    originator_version: int
    leaf: str
    head: str

    def describe(self) -> str:
        return describe(self.notification_id, self.originator_id, self.originator_version)


def describe(notification_id: int, originator_id: Any, originator_version: int) -> str:
    return f"notification {notification_id}: {originator_id} v{originator_version}"


def _describe_event(notification: Any) -> str:
    return describe(notification.id, notification.originator_id,
                    notification.originator_version)


def iter_log(store: Any) -> Iterator[Any]:
    """Every notification in order, one page in memory at a time."""
    start = 1
    while True:
        page = store.ledger.recorder.select_notifications(start, PAGE_SIZE_MAX)
        if not page:
            return
        yield from page
        start = page[-1].id + 1


def iter_chain(db: Database, last_position: int | None = None) -> Iterator[ChainRow]:
    """The ``rm_chain`` rows by position (up to ``last_position``), page by page."""
    if not db.table_exists("rm_chain"):
        return
    after = 0
    while True:
        rows = db.query("SELECT position, notification_id, originator_id, originator_version,"
                        " leaf, head FROM rm_chain WHERE position > ? ORDER BY position LIMIT ?",
                        [after, PAGE_SIZE_MAX])
        for row in rows:
            if last_position is not None and int(row[0]) > last_position:
                return
            yield ChainRow(int(row[0]), int(row[1]), row[2], int(row[3]), row[4], row[5])
        if len(rows) < PAGE_SIZE_MAX:
            return
        after = int(rows[-1][0])


class _Tampered(Exception):
    def __init__(self, first_bad: str | None, reason: str):
        super().__init__(reason)
        self.first_bad, self.reason = first_bad, reason


class _Walk:
    """State of one verification pass: recomputed head and frontier, next chain row."""

    def __init__(self, chain: Iterator[ChainRow], against: Digest | None, tip_size: int):
        self.chain, self.against, self.tip_size = chain, against, tip_size
        self.row = next(chain, None)
        self.size, self.chained, self.head = 0, 0, ZERO_HEAD
        self.frontier = Frontier()
        self.root_at_tip: bytes | None = EMPTY_ROOT if tip_size == 0 else None

    def step(self, notification: Any) -> None:
        self.size += 1
        leaf = leaf_of(self.size, notification.originator_id,
                       notification.originator_version, notification.topic,
                       notification.state)
        if self.row is not None:
            self._check_chained(notification, leaf)
        self.frontier.append(leaf)
        if self.size == self.tip_size:
            self.root_at_tip = self.frontier.root()
        if self.against is not None and self.against.position == self.size:
            self.check_against()

    def _check_chained(self, notification: Any, leaf: bytes) -> None:
        row = self.row
        assert row is not None
        if row.position != self.size:
            raise _Tampered(_describe_event(notification),
                            f"rm_chain has no row for position {self.size} (rm_chain altered)")
        if chain_head(self.head, bytes.fromhex(row.leaf)).hex() != row.head:
            raise _Tampered(row.describe(), f"rm_chain row {row.position} does not chain "
                                            "from the row before it (rm_chain altered)")
        if notification.id > row.notification_id:
            raise _Tampered(row.describe(), f"the event chained at position {row.position} "
                                            "is missing from the log (deleted)")
        if notification.id < row.notification_id:
            raise _Tampered(_describe_event(notification),
                            f"this event is not in the chain; position {row.position} was "
                            f"chained from notification {row.notification_id} (inserted)")
        if leaf.hex() != row.leaf:
            raise _Tampered(_describe_event(notification),
                            f"the stored event no longer hashes to the leaf chained at "
                            f"position {row.position} (changed, replaced or reordered)")
        self.head, self.chained = bytes.fromhex(row.head), self.size
        self.row = next(self.chain, None)

    def check_against(self) -> None:
        assert self.against is not None
        if self.frontier.root().hex() != self.against.root_hex:
            raise _Tampered(None, f"the first {self.against.position} events of this log do "
                                  f"not match the published digest {self.against.text} "
                                  "(an event up to there was changed, removed or inserted, "
                                  "or the digest is from another log)")

    def finish(self, tip: Tip) -> None:
        if self.row is not None:
            raise _Tampered(self.row.describe(), f"the event chained at position "
                                                 f"{self.row.position} is missing from the "
                                                 "log (deleted)")
        if (tip.size, tip.head) != (self.chained, self.head):
            raise _Tampered(None, f"rm_chain_tip says {tip.size} events are chained but "
                                  f"rm_chain holds {self.chained} (rm_chain altered)")
        if tip.frontier.root() != self.root_at_tip:
            raise _Tampered(None, "the Merkle frontier in rm_chain_tip does not match the "
                                  "chained leaves (rm_chain_tip altered)")
        if self.against is not None and self.against.position > self.size:
            raise _Tampered(None, f"the digest covers {self.against.position} events but the "
                                  f"log holds only {self.size} (events deleted, or the "
                                  "digest is from another log)")
        if self.against is not None and self.against.position == 0:
            self.check_against_empty()

    def check_against_empty(self) -> None:
        assert self.against is not None
        if self.against.root_hex != EMPTY_ROOT.hex():
            raise _Tampered(None, f"{self.against.text} is not the digest of an empty log")


def verify(store: Any, against: str | None = None) -> VerifyResult:
    """Re-read the whole log and the chain; say whether they still agree (read-only)."""
    expected = Digest.parse(against) if against else None
    db = store.db
    walk = _Walk(iter([]), expected, 0)
    try:
        tip, chain_end = _chain_snapshot(db)
        if chain_end != tip.size:
            raise _Tampered(None, f"rm_chain holds rows up to position {chain_end} but its "
                                  f"tip says {tip.size} are chained (rm_chain altered)")
        walk = _Walk(iter_chain(db, last_position=tip.size), expected, tip.size)
        for notification in iter_log(store):
            walk.step(notification)
        walk.finish(tip)
    except _Tampered as failure:
        return VerifyResult(False, walk.size, failure.first_bad, failure.reason,
                            walk.size - walk.chained)
    except ValueError as error:  # a stored id, hash or number that no longer parses
        return VerifyResult(False, walk.size, None, f"unreadable after position {walk.size}:"
                                                    f" {error} (the store was altered)",
                            walk.size - walk.chained)
    return VerifyResult(True, walk.size, None, _intact_reason(walk, expected),
                        walk.size - walk.chained)


def _chain_snapshot(db: Database) -> tuple[Tip, int]:
    """The tip and the last chained position, read in one statement (one snapshot)."""
    if not db.table_exists("rm_chain"):
        return Tip(), 0
    if not db.table_exists("rm_chain_tip"):
        return Tip(), int(db.query("SELECT MAX(position) FROM rm_chain")[0][0] or 0)
    rows = db.query("SELECT (SELECT MAX(position) FROM rm_chain), t.size, t.notification_id,"
                    " t.head, t.frontier FROM (SELECT 1 AS one) AS x"
                    " LEFT JOIN rm_chain_tip t ON t.name = ?", [TIP_NAME])
    chain_end, size, notification_id, head, frontier = rows[0]
    if size is None:
        return Tip(), int(chain_end or 0)
    tip = Tip(int(size), int(notification_id), bytes.fromhex(head),
              Frontier.from_text(int(size), frontier))
    return tip, int(chain_end or 0)


def _intact_reason(walk: _Walk, expected: Digest | None) -> str:
    text = (f"{walk.chained} chained events still hash to their recorded leaves and the "
            "chain is unbroken")
    if walk.size > walk.chained:
        text += (f"; {walk.size - walk.chained} events after position {walk.chained} are "
                 "not yet chained (digest chains them)")
    if expected is not None:
        text += f"; the first {expected.position} events match {expected.text}"
    return text


# -- receipts -----------------------------------------------------------------------------
def audit_ranges(index: int, size: int) -> list[tuple[int, int]]:
    """Leaf ranges [lo, hi) whose subtree hashes form the audit path of leaf ``index``.

    RFC 6962 PATH(m, D[n]): split at the largest power of two k < n, recurse into the
    half holding m, the other half's hash is the sibling; the deepest sibling comes first.
    """
    lo, hi, siblings = 0, size, []
    while hi - lo > 1:
        half = 1 << ((hi - lo - 1).bit_length() - 1)
        if index < lo + half:
            siblings.append((lo + half, hi))
            hi = lo + half
        else:
            siblings.append((lo, lo + half))
            lo += half
    return list(reversed(siblings))


def _subtree_hashes(db: Database, size: int,
                    wanted: set[tuple[int, int]]) -> tuple[dict[tuple[int, int], bytes], Frontier]:
    """One pass over the chained leaves 1..size: the wanted perfect subtrees, and the frontier."""
    found: dict[tuple[int, int], bytes] = {}
    frontier = Frontier()
    for row in iter_chain(db, last_position=size):
        for lo, count, digest_ in frontier.append(bytes.fromhex(row.leaf)):
            if (lo, lo + count) in wanted:
                found[(lo, lo + count)] = digest_
    if frontier.size != size:
        raise DomainError(f"rm_chain holds {frontier.size} leaves, expected {size}")
    return found, frontier


def _range_hash(span: tuple[int, int], found: dict[tuple[int, int], bytes],
                frontier: Frontier) -> bytes:
    if span in found:
        return found[span]
    return frontier.root(first_leaf=span[0])  # a right edge of the tree: ends at its size


def household_events(db: Database, household_id: str) -> list[tuple[int, str, str]]:
    """(notification id, kind, key) of every recorded version naming the household."""
    field_sql = ("json_extract(fields, '$.household_id')" if db.backend == "sqlite"
                 else "(fields::jsonb ->> 'household_id')")
    household_kinds = catalogue.kinds_with_column("household_id")
    marks = ", ".join("?" for _ in household_kinds)
    rows = db.query(f"SELECT notification_id, kind, key FROM rm_facts WHERE kind IN ({marks})"
                    f" AND {field_sql} = ?", [*household_kinds, household_id])
    found = [(int(n), kind, key) for n, kind, key in rows]
    payroll_keys = sorted({key for _, kind, key in found if kind == PAYROLL_KIND})
    for chunk in _chunks(payroll_keys):
        marks = ", ".join("?" for _ in chunk)
        rows = db.query(f"SELECT notification_id, kind, key FROM rm_facts WHERE kind=? "
                        f"AND key IN ({marks})", [BANK_KIND, *chunk])
        found.extend((int(n), kind, key) for n, kind, key in rows)
    return sorted(found)


def _chunks(items: Sequence[Any]) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), SQL_IN_CHUNK_MAX):
        yield items[start:start + SQL_IN_CHUNK_MAX]


def _positions(db: Database, notification_ids: Sequence[int], size: int) -> dict[int, int]:
    """Chained position of each notification id, for positions up to ``size``."""
    out: dict[int, int] = {}
    for chunk in _chunks(list(notification_ids)):
        marks = ", ".join("?" for _ in chunk)
        rows = db.query(f"SELECT notification_id, position FROM rm_chain WHERE position <= ? "
                        f"AND notification_id IN ({marks})", [size, *chunk])
        out.update({int(n): int(p) for n, p in rows})
    return out


def receipt(store: Any, household_id: str, digest_text: str) -> dict[str, Any]:
    """The household's events with audit paths up to the root published in the digest."""
    published = Digest.parse(digest_text)
    facts.catch_up(store.ledger, store.db)
    catch_up_chain(store)
    if published.position > read_tip(store.db).size:
        raise DomainError(f"{published.text} covers {published.position} events; this store "
                          f"has chained only {read_tip(store.db).size}: another log?")
    described = {n: (kind, key) for n, kind, key in household_events(store.db, household_id)}
    positions = _positions(store.db, list(described), published.position)
    if not positions:
        raise NotFound(f"no events of household {household_id!r} among the first "
                       f"{published.position} events")
    paths = {p: audit_ranges(p - 1, published.position) for p in positions.values()}
    wanted = {span for spans in paths.values() for span in spans}
    found, frontier = _subtree_hashes(store.db, published.position, wanted)
    if frontier.root().hex() != published.root_hex:
        raise DomainError(f"this store's log does not match {published.text}; run verify")
    events = [_receipt_event(store, n, p, described[n], paths[p], found, frontier)
              for n, p in sorted(positions.items(), key=lambda item: item[1])]
    return {"format": RECEIPT_FORMAT, "digest": published.text, "household_id": household_id,
            "tree_size": published.position, "procedure": RECEIPT_PROCEDURE, "events": events}


def _receipt_event(store: Any, notification_id: int, position: int, kind_key: tuple[str, str],
                   spans: list[tuple[int, int]], found: dict[tuple[int, int], bytes],
                   frontier: Frontier) -> dict[str, Any]:
    page = store.ledger.recorder.select_notifications(notification_id, 1)
    if not page or page[0].id != notification_id:
        raise DomainError(f"notification {notification_id} is missing from the log; run verify")
    event = page[0]
    return {"position": position, "notification_id": notification_id,
            "kind": kind_key[0], "key": kind_key[1],
            "originator_id": str(event.originator_id),
            "originator_version": event.originator_version, "topic": event.topic,
            "state": base64.b64encode(event.state).decode("ascii"),
            "audit_path": [_range_hash(span, found, frontier).hex() for span in spans]}


RECEIPT_PROCEDURE = [
    "F(x) = 8-byte big-endian length of x, then x. leaf = SHA-256(F(position) F(originator_id)"
    " F(originator_version) F(topic) F(base64-decoded state)); numbers as decimal ASCII.",
    "r = SHA-256(0x00 || leaf); fn = position - 1; sn = tree_size - 1.",
    "For each hex p in audit_path: fail if sn == 0; if fn is odd or fn == sn then "
    "r = SHA-256(0x01 || p || r) and, while fn is even and fn != 0, halve fn and sn; "
    "otherwise r = SHA-256(0x01 || r || p). Then halve fn and sn (integer division).",
    "Valid when sn == 0 and r equals the root in the digest aidledger:v1:<tree_size>:<root>.",
    "What is proven is the decoded state (JSON: kind, key, fields, actor, source); the "
    "kind, key and household_id beside it are only there to help reading.",
]


def inclusion_root(leaf: bytes, index: int, size: int, path: Sequence[bytes]) -> bytes | None:
    """RFC 9162 2.1.3.2: the root implied by a leaf and its audit path (None: path malformed)."""
    if index >= size:
        return None
    fn, sn, r = index, size - 1, leaf_hash(leaf)
    for sibling in path:
        if sn == 0:
            return None
        if fn % 2 == 1 or fn == sn:
            r = node_hash(sibling, r)
            while fn % 2 == 0 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, sibling)
        fn, sn = fn >> 1, sn >> 1
    return r if sn == 0 else None


def receipt_problem(receipt_: dict[str, Any], digest_text: str) -> str | None:
    """Why the receipt does not prove inclusion in that digest (None: it does)."""
    try:
        published = Digest.parse(digest_text)
    except DomainError as error:
        return str(error)
    try:
        if int(receipt_["tree_size"]) != published.position:
            return f"the receipt is for {receipt_['tree_size']} events, the digest for " \
                   f"{published.position}"
        events = receipt_["events"]
        if not events:
            return "the receipt lists no events"
        for event in events:
            problem = _event_problem(event, published)
            if problem:
                return problem
    except (KeyError, TypeError, ValueError) as error:
        return f"the receipt is malformed: {error!r}"
    return None


def _event_problem(event: dict[str, Any], published: Digest) -> str | None:
    position = int(event["position"])
    state = base64.b64decode(event["state"], validate=True)
    leaf = leaf_of(position, UUID(event["originator_id"]), int(event["originator_version"]),
                   str(event["topic"]), state)
    path = [bytes.fromhex(p) for p in event["audit_path"]]
    if position < 1 or any(len(p) != HASH_BYTES for p in path):
        return f"event at position {position}: malformed position or audit path"
    root = inclusion_root(leaf, position - 1, published.position, path)
    if root is None or root.hex() != published.root_hex:
        return f"event at position {position} ({event['originator_id']} " \
               f"v{event['originator_version']}) does not lead to the digest's root"
    return None


def verify_receipt(receipt_: dict[str, Any], digest_text: str) -> bool:
    """True when every event in the receipt is included in the log the digest names."""
    return receipt_problem(receipt_, digest_text) is None

"""Tamper evidence for the event log: digests, verification, proofs and receipts.

Why: the ledger is the county's evidence. Anyone who can write to the database could
change, delete or insert a stored event, or a row of a read model; publishing a short
*digest* (or a signed *checkpoint*, ``projections.checkpoint``) of the log outside the
database makes any later change to what was published detectable, and an *inclusion
receipt* lets a household check on its own that its payments are part of the log.

The hashing (event leaves, linear chain, RFC 6962/9162 Merkle tree) is
``projections.merkle``; the chain is extended by the event recorders in the very
transaction that appends the events (``projections.chain``), so every stored event is
chained from the moment it exists, and ``digest`` only reads.

Position, not notification id: the leaf commits to the event's place in the log, 1..n.
On a gap-free log (SQLite always; PostgreSQL unless a write was rolled back) that *is*
the notification id. PostgreSQL's ``bigserial`` legitimately skips numbers when a write
transaction rolls back (the ``Conflict`` path), and a restore through ``import`` numbers
events afresh; committing to the position keeps the digest of the same events in the
same order identical on both backends and across export/import. Each chained position
also records the notification id it was chained from, so a deleted row (the position
now holds a later id) and a row inserted into the chained range (an id the chain never
saw) are still found and named.

Published digest text: ``aidledger:v1:<n>:<root hex>`` where ``n`` is the number of
events covered. An empty log has root SHA-256 of the empty string.

``verify`` re-reads the whole log (streaming), re-hashes every event and compares: the
leaf of each chained position, the chain of heads, the stored subtree roots and the tip's
frontier; then the read models, recomputed from the verified log by the projection's
own code (``projections.proof``). It names the first event or row that differs.

What it can and cannot see (also in the README):

- an event changed, inserted or deleted, or a chain row altered, while the chain tables
  are left as they were: found and named (the first one, by position);
- the chain tables dropped, emptied or cut short while the log has events: found;
- a read-model row changed, added or removed: found and named (``projections.proof``);
- someone who rewrites the log AND recomputes every chain table consistently: invisible
  to ``verify`` alone. Only a digest or checkpoint published outside the database
  (``verify --against``, ``aidledger monitor``) catches that rewrite.

Receipt check, with SHA-256 alone (RFC 9162 section 2.1.3.2), for each event listed:

1. ``leaf`` = SHA-256 of the encoding above, from the receipt's ``position``,
   ``originator_id``, ``originator_version``, ``topic`` and base64-decoded ``state``.
2. ``r = SHA-256(0x00 || leaf)``; ``fn = position - 1``; ``sn = tree_size - 1``.
3. For each hex ``p`` of ``audit_path`` in order: if ``sn == 0`` fail. If ``fn`` is odd or
   ``fn == sn``: ``r = SHA-256(0x01 || p || r)`` and then, while ``fn`` is even and not 0,
   halve ``fn`` and ``sn``. Otherwise ``r = SHA-256(0x01 || r || p)``. Then halve
   ``fn`` and ``sn`` (integer division by 2).
4. Valid when ``sn == 0`` and ``r`` equals the digest's root.
"""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from domain import catalogue
from domain.errors import DomainError, NotFound
from projections import chain
from projections.chain import (
    CHAINED_AT_WRITE,
    LEGACY_CHAINED,
    NODE_LEVEL_MIN,
    ChainBroken,
    Tip,
    read_tip,
)
from projections.db import Database
from projections.merkle import (
    EMPTY_ROOT,
    HASH_BYTES,
    ZERO_HEAD,
    Frontier,
    chain_head,
    consistency_proof,
    inclusion_proof,
    inclusion_root,
    leaf_hash,
    leaf_of,
    node_hash,
    split_point,
)

DIGEST_PREFIX = "aidledger:v1"
RECEIPT_FORMAT = "aidledger-receipt-v1"
PAGE_SIZE_MAX = 2_000
SQL_IN_CHUNK_MAX = 500
BANK_KIND, PAYROLL_KIND = "bank_return", "payroll"
PUBLISH_ADVICE = (
    "Only a digest published outside the database protects against someone who can write "
    "to the database: such a person can rewrite the log and recompute every chain table, "
    "and this check alone would not see it. Publish the digest (the last line of "
    "'aidledger digest', printed by every load and on every disclosure) or a signed "
    "checkpoint ('aidledger digest --sign KEY', served at /public/checkpoint and watched "
    "by 'aidledger monitor'), keep it off this machine, and check later with "
    "'aidledger verify --against DIGEST'.")


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


def last_notification_id(store: Any) -> int:
    return int(store.ledger.recorder.max_notification_id() or 0)


def current_tip(store: Any) -> Tip:
    """The chain tip, checked to end at the log's last event (cheap: two reads).

    Raises ``ChainBroken`` when the log holds events the chain does not cover."""
    tip = read_tip(store.db) or Tip()
    last = last_notification_id(store)
    if tip.notification_id != last:
        raise ChainBroken(f"the log's last event is notification {last} but the chain ends "
                          f"at notification {tip.notification_id} ({tip.size} events "
                          "chained): the chain tables were altered; run aidledger verify")
    return tip


def digest(store: Any) -> Digest:
    """The digest of the whole log as chained (read-only: the chain grows at write time)."""
    tip = current_tip(store)
    return Digest(tip.size, tip.frontier.root().hex())


# -- stores made before write-time chaining ---------------------------------------------
def ensure_chained(store: Any) -> str | None:
    """Make sure every event of the store is chained; what was done, to say, or None.

    A store that chains at write time says so in ``aidledger_meta``: nothing to do (one
    indexed read on every open). A store without that mark predates write-time chaining:
    its unchained events are chained now, once, under the lock writers take, and the mark
    is set. A store WITH the mark is never re-chained here: missing chain rows are then
    evidence, left for ``verify`` to report.
    """
    db = store.db
    if chain.meta(db, CHAINED_AT_WRITE) is not None:
        return None
    with db.transaction():
        _lock_log(store)
        for statement in chain.schema_statements(backend=db.backend):
            db.execute(statement)
        if chain.meta(db, CHAINED_AT_WRITE) is not None:
            return None  # another process did it meanwhile
        tip = read_tip(db) or Tip()
        done = chain.chain_legacy(db, lambda after: _pages_after(store, after), tip)
        now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        chain.set_meta(db, CHAINED_AT_WRITE, f"since position {tip.size - done}, {now}")
        if done == 0:
            return None
        chain.set_meta(db, LEGACY_CHAINED, f"{done} events after position {tip.size - done}"
                                           f" chained on first open, {now}")
    return (f"this store was made before every event was chained as it is written: "
            f"{done} unchained events (positions {tip.size - done + 1}..{tip.size}) were "
            "chained now, once; from now on every write extends the chain")


def _lock_log(store: Any) -> None:
    """Inside ``db.transaction()``: the lock event writers take (SQLite: the write lock
    BEGIN IMMEDIATE already holds; PostgreSQL: the events table in EXCLUSIVE mode)."""
    if store.db.backend == "postgres":
        recorder = store.ledger.recorder
        store.db.execute(f'LOCK TABLE "{recorder.datastore.schema}".'
                         f'"{recorder.events_table_name}" IN EXCLUSIVE MODE')


def _pages_after(store: Any, after_id: int) -> Iterator[Sequence[Any]]:
    start = after_id + 1
    while True:
        page = store.ledger.recorder.select_notifications(start, PAGE_SIZE_MAX)
        if not page:
            return
        yield page
        start = page[-1].id + 1


# -- verify -------------------------------------------------------------------------------
@dataclass(frozen=True)
class VerifyResult:
    """``position``: events checked; ``rows``: read-model rows recomputed and compared;
    ``unchained``: events after the chain tip (always 0 on an intact store)."""

    ok: bool
    position: int
    first_bad: str | None
    reason: str
    unchained: int = 0
    rows: int = 0
    notes: tuple[str, ...] = ()
    last_id: int = 0  # the notification id of the last event the walk verified


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
    for page in _pages_after(store, 0):
        yield from page


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

    def __init__(self, chain_rows: Iterator[ChainRow], against: Digest | None, tip_size: int,
                 nodes: dict[tuple[int, int], str]):
        self.chain, self.against, self.tip_size = chain_rows, against, tip_size
        self.nodes = nodes
        self.row = next(chain_rows, None)
        self.size, self.chained, self.head, self.last_id = 0, 0, ZERO_HEAD, 0
        self.frontier = Frontier()
        self.root_at_tip: bytes | None = EMPTY_ROOT if tip_size == 0 else None

    def step(self, notification: Any) -> None:
        self.size += 1
        self.last_id = notification.id
        leaf = leaf_of(self.size, notification.originator_id,
                       notification.originator_version, notification.topic,
                       notification.state)
        if self.row is None:
            raise _Tampered(_describe_event(notification),
                            f"this event (position {self.size}) is not in the chain: it was "
                            "added behind the ledger's back, or the chain rows from here on "
                            "were removed (rm_chain cut short)")
        self._check_chained(notification, leaf)
        for lo, count, digest_ in self.frontier.append(leaf, chain.NODE_LEAVES_MIN):
            self._check_node(lo, count, digest_)
        if self.size == self.tip_size:
            self.root_at_tip = self.frontier.root()
        if self.against is not None and self.against.position == self.size:
            self.check_against()

    def _check_node(self, lo: int, count: int, digest_: bytes) -> None:
        level = count.bit_length() - 1
        stored = self.nodes.pop((level, lo >> level), None)
        if stored != digest_.hex():
            raise _Tampered(None, f"the stored root of leaves {lo + 1}..{lo + count} "
                                  f"(rm_chain_node level {level}) is "
                                  f"{'missing' if stored is None else 'wrong'} "
                                  "(rm_chain_node altered)")

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
        if self.nodes:
            (level, idx), _ = min(self.nodes.items())
            raise _Tampered(None, f"rm_chain_node holds a subtree root the log does not have "
                                  f"(level {level}, index {idx}; rm_chain_node altered)")
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


def verify_log(store: Any, against: str | None = None) -> VerifyResult:
    """Re-read the whole log and its chain; say whether they still agree (and agree with
    the published digest ``against``). ``audit.verify`` adds the read models."""
    expected = Digest.parse(against) if against else None
    walk = _Walk(iter([]), expected, 0, {})
    try:
        tip = _checked_tip(store)
        walk = _Walk(iter_chain(store.db, last_position=tip.size), expected, tip.size,
                     _nodes(store.db))
        for notification in iter_log(store):
            walk.step(notification)
        walk.finish(tip)
    except _Tampered as failure:
        return VerifyResult(False, walk.size, failure.first_bad, failure.reason)
    except ValueError as error:  # a stored id, hash or number that no longer parses
        return VerifyResult(False, walk.size, None, f"unreadable chain data: {error} "
                                                    "(the store was altered)")
    return VerifyResult(True, walk.size, None, _intact_reason(walk, expected),
                        notes=_notes(store.db), last_id=walk.last_id)


def _checked_tip(store: Any) -> Tip:
    tip, chain_end = _chain_snapshot(store)
    if chain_end != tip.size:
        raise _Tampered(None, f"rm_chain holds rows up to position {chain_end} but its "
                              f"tip says {tip.size} are chained (rm_chain altered)")
    return tip


def _nodes(db: Database) -> dict[tuple[int, int], str]:
    """Every stored subtree root (one per 2**NODE_LEVEL_MIN / 2 events: a few thousand)."""
    if not db.table_exists("rm_chain_node"):
        return {}
    return {(int(level), int(idx)): str(h)
            for level, idx, h in db.query("SELECT level, idx, hash FROM rm_chain_node")}


def _chain_snapshot(store: Any) -> tuple[Tip, int]:
    """The tip and the last chained position, read in one statement (one snapshot);
    the chain tables missing or emptied while the log has events is tampering."""
    db = store.db
    missing = [t for t in ("rm_chain", "rm_chain_tip", "rm_chain_node")
               if not db.table_exists(t)]
    has_events = last_notification_id(store) > 0
    if missing and has_events:
        raise _Tampered(None, f"the log holds events but the chain table"
                              f"{'s' if len(missing) > 1 else ''} {', '.join(missing)} "
                              f"{'are' if len(missing) > 1 else 'is'} missing (dropped): "
                              "nothing proves the log any more")
    if missing:
        return Tip(), 0
    rows = db.query("SELECT (SELECT MAX(position) FROM rm_chain), t.size, t.notification_id,"
                    " t.head, t.frontier FROM (SELECT 1 AS one) AS x"
                    " LEFT JOIN rm_chain_tip t ON t.name = ?", [chain.TIP_NAME])
    chain_end, size, notification_id, head, frontier = rows[0]
    if size is None:
        if has_events:
            raise _Tampered(None, "the log holds events but rm_chain_tip has no tip (emptied "
                                  "or dropped): nothing proves the log any more")
        return Tip(), int(chain_end or 0)
    tip = Tip(int(size), int(notification_id), bytes.fromhex(head),
              Frontier.from_text(int(size), frontier))
    return tip, int(chain_end or 0)


def _notes(db: Database) -> tuple[str, ...]:
    legacy = chain.meta(db, LEGACY_CHAINED)
    if legacy is None:
        return ()
    return (f"note: {legacy} (the store predates write-time chaining; events up to then "
            "are proven only from that moment on, or by a digest published earlier)",)


def _intact_reason(walk: _Walk, expected: Digest | None) -> str:
    text = (f"{walk.chained} events, every one chained: each still hashes to its recorded "
            "leaf and the chain is unbroken")
    if expected is not None:
        text += f"; the first {expected.position} events match {expected.text}"
    return text


# -- proofs over the stored tree ---------------------------------------------------------
class StoredTree:
    """Subtree hashes of the first ``size`` chained leaves, from the stored subtree roots
    and, below ``2**NODE_LEVEL_MIN`` leaves, from the leaves themselves."""

    def __init__(self, db: Database, size: int):
        self.db, self.size = db, size

    def subtree(self, lo: int, hi: int) -> bytes:
        """MTH of leaves [lo, hi) (RFC 9162 2.1.1)."""
        count = hi - lo
        if not 0 <= lo < hi <= self.size:
            raise DomainError(f"no leaves {lo}..{hi} in a tree of {self.size}")
        if count == 1:
            return leaf_hash(self._leaves(lo, hi)[0])
        perfect = count & (count - 1) == 0 and lo % count == 0
        if perfect and count >> NODE_LEVEL_MIN:
            level = count.bit_length() - 1
            rows = self.db.query("SELECT hash FROM rm_chain_node WHERE level=? AND idx=?",
                                 [level, lo >> level])
            if rows:
                return bytes.fromhex(rows[0][0])
        if count <= 1 << NODE_LEVEL_MIN:
            return _root_of(self._leaves(lo, hi))
        k = split_point(count)
        return node_hash(self.subtree(lo, lo + k), self.subtree(lo + k, hi))

    def _leaves(self, lo: int, hi: int) -> list[bytes]:
        rows = self.db.query("SELECT leaf FROM rm_chain WHERE position > ? AND position <= ?"
                             " ORDER BY position", [lo, hi])
        if len(rows) != hi - lo:
            raise DomainError(f"rm_chain lacks leaves among positions {lo + 1}..{hi}; "
                              "run aidledger verify")
        return [bytes.fromhex(r[0]) for r in rows]


def _root_of(leaves: list[bytes]) -> bytes:
    frontier = Frontier()
    for leaf in leaves:
        frontier.append(leaf)
    return frontier.root()


def tree_at(store: Any, size: int) -> StoredTree:
    tip = current_tip(store)
    if not 0 <= size <= tip.size:
        raise NotFound(f"the log holds {tip.size} events; no tree of {size}")
    return StoredTree(store.db, size)


def root_at(store: Any, size: int) -> bytes:
    """The Merkle root of the first ``size`` events."""
    if size == 0:
        return EMPTY_ROOT
    return tree_at(store, size).subtree(0, size)


def consistency(store: Any, first: int, second: int) -> list[bytes]:
    """RFC 9162 consistency proof that the log of ``second`` events extends the first
    ``first`` (empty when ``first`` is 0 or equals ``second``)."""
    if first > second:
        raise DomainError(f"from={first} is beyond to={second}")
    tree = tree_at(store, second)
    if first == 0:
        return []
    return consistency_proof(first, second, tree.subtree)


# -- receipts -----------------------------------------------------------------------------
def household_events(db: Database, household_id: str) -> list[tuple[int, str, str]]:
    """(notification id, kind, key) of every recorded version naming the household:
    its own rows (rm_facts' household_id column) and the bank lines of its payroll lines."""
    household_kinds = catalogue.kinds_with_column("household_id")
    marks = ", ".join("?" for _ in household_kinds)
    rows = db.query(f"SELECT notification_id, kind, key FROM rm_facts WHERE household_id = ?"
                    f" AND kind IN ({marks})", [household_id, *household_kinds])
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
    from projections import facts

    published = Digest.parse(digest_text)
    facts.catch_up(store.ledger, store.db)
    chained = current_tip(store).size
    if published.position > chained:
        raise DomainError(f"{published.text} covers {published.position} events; this store "
                          f"has only {chained}: another log?")
    tree = StoredTree(store.db, published.position)
    if published.position and tree.subtree(0, published.position).hex() != published.root_hex:
        raise DomainError(f"this store's log does not match {published.text}; run verify")
    described = {n: (kind, key) for n, kind, key in household_events(store.db, household_id)}
    positions = _positions(store.db, list(described), published.position)
    if not positions:
        raise NotFound(f"no events of household {household_id!r} among the first "
                       f"{published.position} events")
    events = [_receipt_event(store, n, p, described[n], tree)
              for n, p in sorted(positions.items(), key=lambda item: item[1])]
    return {"format": RECEIPT_FORMAT, "digest": published.text, "household_id": household_id,
            "tree_size": published.position, "procedure": RECEIPT_PROCEDURE, "events": events}


def _receipt_event(store: Any, notification_id: int, position: int, kind_key: tuple[str, str],
                   tree: StoredTree) -> dict[str, Any]:
    page = store.ledger.recorder.select_notifications(notification_id, 1)
    if not page or page[0].id != notification_id:
        raise DomainError(f"notification {notification_id} is missing from the log; run verify")
    event = page[0]
    path = inclusion_proof(position - 1, tree.size, tree.subtree)
    return {"position": position, "notification_id": notification_id,
            "kind": kind_key[0], "key": kind_key[1],
            "originator_id": str(event.originator_id),
            "originator_version": event.originator_version, "topic": event.topic,
            "state": base64.b64encode(event.state).decode("ascii"),
            "audit_path": [h.hex() for h in path]}


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


# -- receipts online: an opaque handle per household ----------------------------------
# A household id is treated as personal data (the disclosure never shows it), so it is
# never put in a URL, where it would end in access logs and browser histories: the county
# hands a household an unguessable handle (printed with its paper receipt) instead.
HANDLE_TABLE = "rm_receipt_handle"
HANDLE_BYTES = 24  # 192 random bits, base64url: 32 characters
HANDLE_SCHEMA = (f"CREATE TABLE IF NOT EXISTS {HANDLE_TABLE} (handle TEXT PRIMARY KEY,"
                 " household_id TEXT NOT NULL, issued_at TEXT NOT NULL)",)


def issue_handle(db: Database, household_id: str) -> str:
    """The household's receipt handle (the same one each time it is asked for)."""
    import secrets

    for statement in HANDLE_SCHEMA:
        db.execute(statement)
    rows = db.query(f"SELECT handle FROM {HANDLE_TABLE} WHERE household_id=? "
                    "ORDER BY issued_at LIMIT 1", [household_id])
    if rows:
        return str(rows[0][0])
    handle = secrets.token_urlsafe(HANDLE_BYTES)
    now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    db.execute(f"INSERT INTO {HANDLE_TABLE} (handle, household_id, issued_at) VALUES (?, ?, ?)",
               [handle, household_id, now])
    return handle


def household_of_handle(db: Database, handle: str) -> str | None:
    if not db.table_exists(HANDLE_TABLE):
        return None
    rows = db.query(f"SELECT household_id FROM {HANDLE_TABLE} WHERE handle=?", [handle])
    return str(rows[0][0]) if rows else None


def receipt_by_handle(store: Any, handle: str, digest_text: str) -> dict[str, Any]:
    """The receipt of the household the handle names, without its id."""
    household_id = household_of_handle(store.db, handle)
    if household_id is None:
        raise NotFound("no receipt under this handle")
    document = receipt(store, household_id, digest_text)
    del document["household_id"]
    return {**document, "handle": handle}

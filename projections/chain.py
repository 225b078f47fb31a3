"""The chain grows with the log: every transaction that appends events extends it.

Why at write time: a chain that grows only when someone asks for a digest leaves the
newest events unprotected (one byte of an event written after the last digest could be
changed unseen). The event recorders (``projections.sqlite_recorder`` and
``projections.bulk_recorder``) call ``Extension`` inside their insert transaction, under
the lock that serialises appends (SQLite's write lock; PostgreSQL's ``LOCK TABLE … IN
EXCLUSIVE MODE``), so an event and its chain row commit together or not at all, and
there is no unchained event, ever.

Tables, beside the events (same SQLite file, same PostgreSQL schema):

- ``rm_chain(position, notification_id, originator_id, originator_version, leaf, head)``:
  one row per event, leaf and linear-chain head as hex (``projections.merkle``);
- ``rm_chain_tip(name, size, notification_id, head, frontier)``: the last chained event
  and the Merkle frontier (the roots of the perfect subtrees so far);
- ``rm_chain_node(level, idx, hash)``: the root of every perfect subtree of at least
  ``2**NODE_LEVEL_MIN`` leaves (leaves ``idx * 2**level`` …), so that a consistency or
  inclusion proof reads O(log n) rows, not the whole chain;
- ``aidledger_meta(name, value)``: ``chained_at_write`` says since when this store has
  chained at write time. A store without it predates write-time chaining: its unchained
  events are chained once, on first open (``ensure_chained``), and the store says so.
  A store WITH it whose chain does not reach its last event has lost chain rows:
  nothing more is written to it (``ChainBroken``) and ``verify`` exits 3.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from domain.errors import Tampered
from projections.merkle import ZERO_HEAD, Frontier, chain_head, leaf_of

TIP_NAME = "chain"
META_TABLE = "aidledger_meta"
CHAINED_AT_WRITE = "chained_at_write"
LEGACY_CHAINED = "legacy_chained_on_open"
# Perfect subtrees of 2**8 = 256 leaves and more are stored: 1 row per 128 events, and
# a proof then hashes at most a few hundred leaves per level it needs below that.
NODE_LEVEL_MIN = 8
NODE_LEAVES_MIN = 1 << NODE_LEVEL_MIN
CHAIN_TABLES = ("rm_chain", "rm_chain_tip", "rm_chain_node")
CHAIN_COLUMNS = ("position", "notification_id", "originator_id", "originator_version",
                 "leaf", "head")
NODE_COLUMNS = ("level", "idx", "hash")


def schema_statements(prefix: str = "", backend: str = "sqlite") -> list[str]:
    """CREATE statements for the chain tables; ``prefix`` is a schema (``"s".``) or ''.
    On SQLite the position is the rowid itself (INTEGER PRIMARY KEY: one b-tree less to
    update per event); PostgreSQL gets BIGINT."""
    position = "INTEGER" if backend == "sqlite" else "BIGINT"
    return [
        f"CREATE TABLE IF NOT EXISTS {prefix}rm_chain (position {position} PRIMARY KEY,"
        " notification_id BIGINT NOT NULL, originator_id TEXT NOT NULL,"
        " originator_version BIGINT NOT NULL, leaf TEXT NOT NULL, head TEXT NOT NULL)",
        f"CREATE UNIQUE INDEX IF NOT EXISTS rm_chain_notification ON {prefix}rm_chain"
        " (notification_id)",
        f"CREATE TABLE IF NOT EXISTS {prefix}rm_chain_tip (name TEXT PRIMARY KEY,"
        " size BIGINT NOT NULL, notification_id BIGINT NOT NULL, head TEXT NOT NULL,"
        " frontier TEXT NOT NULL)",
        f"CREATE TABLE IF NOT EXISTS {prefix}rm_chain_node (level INTEGER NOT NULL,"
        " idx BIGINT NOT NULL, hash TEXT NOT NULL, PRIMARY KEY (level, idx))",
        f"CREATE TABLE IF NOT EXISTS {prefix}{META_TABLE} (name TEXT PRIMARY KEY,"
        " value TEXT NOT NULL)",
    ]


class ChainBroken(Tampered):
    """The log holds events the chain does not cover although this store chains at write
    time: chain rows were removed. Nothing is written until someone looks (``verify``)."""


@dataclass
class Tip:
    """The last chained event: how many, its notification id, head and Merkle frontier."""

    size: int = 0
    notification_id: int = 0
    head: bytes = ZERO_HEAD
    frontier: Frontier = field(default_factory=Frontier)

    @classmethod
    def of_row(cls, row: Sequence[Any] | None) -> Tip:
        if row is None:
            return cls()
        size, notification_id, head, frontier = row
        try:
            return cls(int(size), int(notification_id), bytes.fromhex(head),
                       Frontier.from_text(int(size), frontier))
        except (ValueError, TypeError) as error:
            raise ChainBroken(f"rm_chain_tip no longer reads as a chain tip ({error}): it was "
                              "altered; nothing was written. Run aidledger verify") from error

    def row(self) -> list[Any]:
        return [self.size, self.notification_id, self.head.hex(), self.frontier.to_text()]


class Extension:
    """The chain rows of one append, computed as its events go by.

    The leaf commits to the position (``tip.size + 1`` …), not the notification id, so
    the rows can be hashed while the events stream into the table and numbered when
    the ids are known (``rows``)."""

    def __init__(self, tip: Tip):
        self.tip = tip
        self.first_position = tip.size + 1
        self.leaves = bytearray()
        self.heads = bytearray()
        self.originators: list[str] = []
        self.versions = array("q")
        self.nodes: list[tuple[int, int, str]] = []

    def add(self, originator_id: Any, originator_version: int, topic: str,
            state: bytes) -> None:
        tip = self.tip
        originator = str(originator_id)
        leaf = leaf_of(tip.size + 1, originator, originator_version, topic, state)
        tip.head = head = chain_head(tip.head, leaf)
        for lo, count, digest in tip.frontier.append(leaf, NODE_LEAVES_MIN):
            level = count.bit_length() - 1
            self.nodes.append((level, lo >> level, digest.hex()))
        tip.size += 1
        self.leaves += leaf
        self.heads += head
        self.originators.append(originator)
        self.versions.append(originator_version)

    def __len__(self) -> int:
        return len(self.originators)

    def rows(self, ids: Sequence[int]) -> list[tuple[Any, ...]]:
        """The ``rm_chain`` rows, given the notification ids in the order of the events."""
        if len(ids) != len(self):
            raise AssertionError(f"{len(ids)} notification ids for {len(self)} events")
        leaves, heads, first = self.leaves.hex(), self.heads.hex(), self.first_position
        width = 64  # hex characters of one hash
        out = [(first + i, nid, self.originators[i], self.versions[i],
                leaves[i * width:(i + 1) * width], heads[i * width:(i + 1) * width])
               for i, nid in enumerate(ids)]
        if ids:
            self.tip.notification_id = int(ids[-1])
        return out


    def copy_text(self, ids: Sequence[int]) -> str:
        """The same rows in PostgreSQL's COPY text format: one write for the whole append
        instead of a call per row (none of the values can hold a tab, newline or
        backslash: numbers, a UUID's text, hex)."""
        return "".join(f"{p}\t{n}\t{o}\t{v}\t{leaf}\t{head}\n"
                       for p, n, o, v, leaf, head in self.rows(ids))


def check_reaches(tip: Tip, last_id_before: int) -> None:
    """Refuse to extend a chain that does not end at the log's last event."""
    if tip.notification_id != last_id_before:
        raise ChainBroken(
            f"the log's last event is notification {last_id_before} but the chain ends at "
            f"notification {tip.notification_id} ({tip.size} events chained): chain rows "
            "were removed or events added behind the ledger's back; nothing was written. "
            "Run aidledger verify")


# -- reading and upgrading a store (through projections.db.Database) ---------------------
Runner = Any  # projections.db.Database: query/execute/executemany/transaction


def read_tip(db: Runner) -> Tip | None:
    """The stored tip, or None when there is none (or no table)."""
    if not db.table_exists("rm_chain_tip"):
        return None
    rows = db.query("SELECT size, notification_id, head, frontier FROM rm_chain_tip "
                    "WHERE name=?", [TIP_NAME])
    return Tip.of_row(rows[0]) if rows else None


def meta(db: Runner, name: str) -> str | None:
    if not db.table_exists(META_TABLE):
        return None
    rows = db.query(f"SELECT value FROM {META_TABLE} WHERE name=?", [name])
    return str(rows[0][0]) if rows else None


def set_meta(db: Runner, name: str, value: str) -> None:
    db.execute(f"DELETE FROM {META_TABLE} WHERE name=?", [name])
    db.execute(f"INSERT INTO {META_TABLE} (name, value) VALUES (?, ?)", [name, value])


def write_tip(db: Runner, tip: Tip) -> None:
    db.execute("DELETE FROM rm_chain_tip WHERE name=?", [TIP_NAME])
    db.execute("INSERT INTO rm_chain_tip (name, size, notification_id, head, frontier) "
               "VALUES (?, ?, ?, ?, ?)", [TIP_NAME, *tip.row()])


PAGE_SIZE_MAX = 5_000  # events chained per statement batch when upgrading a store


def chain_legacy(db: Runner, pages: Callable[[int], Iterable[Sequence[Any]]],
                 tip: Tip) -> int:
    """Chain every event after ``tip`` (an upgrade, inside the caller's locked
    transaction): ``pages(after_id)`` yields pages of notifications. Returns how many."""
    done = 0
    rebuild_nodes(db, tip.size)
    for page in pages(tip.notification_id):
        extension = Extension(tip)
        for n in page:
            extension.add(n.originator_id, n.originator_version, n.topic, n.state)
        marks = ", ".join("?" * len(CHAIN_COLUMNS))
        db.executemany(f"INSERT INTO rm_chain ({', '.join(CHAIN_COLUMNS)}) VALUES ({marks})",
                       extension.rows([n.id for n in page]))
        db.executemany("INSERT INTO rm_chain_node (level, idx, hash) VALUES (?, ?, ?)",
                       extension.nodes)
        done += len(page)
    write_tip(db, tip)
    return done


def rebuild_nodes(db: Runner, size: int) -> None:
    """The stored subtree roots of the first ``size`` chained leaves, from the leaves
    (stores chained before the node table existed have none)."""
    db.execute("DELETE FROM rm_chain_node")
    frontier, after = Frontier(), 0
    while after < size:
        rows = db.query("SELECT leaf FROM rm_chain WHERE position > ? AND position <= ? "
                        "ORDER BY position LIMIT ?", [after, size, PAGE_SIZE_MAX])
        if not rows:
            break
        nodes = []
        for (leaf,) in rows:
            for lo, count, digest in frontier.append(bytes.fromhex(leaf), NODE_LEAVES_MIN):
                level = count.bit_length() - 1
                nodes.append((level, lo >> level, digest.hex()))
        db.executemany("INSERT INTO rm_chain_node (level, idx, hash) VALUES (?, ?, ?)", nodes)
        after += len(rows)

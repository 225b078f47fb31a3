"""Read models proven against the log: running checksums, and recomputation by ``verify``.

Why: a report, a disclosure or a public page is computed from read-model rows, not from
the log. A changed row (``UPDATE rm_facts SET fields = …``) falsifies what people see
while the log and its chain stay intact. Two defences, neither tied to how a read model
is shaped (typed tables per kind will replace rm_facts' JSON):

1. **Running checksums**, kept in the projection's own write transaction. Every table a
   projection writes is declared as a ``ProvenTable``: its columns (the first is the
   notification id of the event a row comes from, so every row names its event, whose
   position and leaf ``rm_chain`` holds), the columns that order it (its key, which is
   also the order rows are written in) and optionally a partition column. Appending rows
   (``fold``) extends, per (table, partition), ``head = SHA-256(head || row)`` where
   ``row`` is the JSON array of the row's values as stored (integers, text, null; any
   other type as its text), and stores it in ``rm_checksum`` with the row count and the
   last notification id folded. Whoever publishes figures (``disclose``, ``report``, the
   public pages) first re-folds the rows it reads and compares (``audit.check_published``):
   one streaming read, no JSON decoding, and a mismatch refuses publication naming the
   table and partition (``Tampered``: exit 3, HTTP 503). The checksums are as writable as
   the rows, so they catch an edited row, not an editor who also recomputes them;
2. **Recomputation** (``audit.verify_read_models``, run by ``aidledger verify`` after the log
   walk): the projection's own code replays the verified log into a scratch SQLite file,
   and every live row is compared with the recomputed one in key order, streaming; the
   first row that differs is named, and every stored checksum must be the fold of the
   live rows. That holds whatever was edited, checksums included: the log, proven by the
   chain and a published digest, is the only source of truth.

A new read model joins by declaring its ``ProvenTable`` and writing through ``fold``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from projections.db import Database

CHECKSUM_TABLE = "rm_checksum"
SCHEMA = (
    f"CREATE TABLE IF NOT EXISTS {CHECKSUM_TABLE} (table_name TEXT NOT NULL,"
    " part TEXT NOT NULL, position BIGINT NOT NULL, rows BIGINT NOT NULL,"
    " head TEXT NOT NULL, PRIMARY KEY (table_name, part))",
)
ZERO_HEAD = bytes(32)
PAGE_ROWS_MAX = 20_000  # rows read per query while re-folding or comparing
VALUE_CHARS_SHOWN = 80  # of a differing value, in a message


@dataclass(frozen=True)
class ProvenTable:
    """A read-model table whose rows are checksummed as they are written.

    ``columns[0]`` is the notification id of the event each row comes from; ``key`` are
    the columns that identify a row and order the table (rows are appended in that
    order); ``partition`` splits the checksum (None: one for the table)."""

    name: str
    columns: tuple[str, ...]
    key: tuple[str, ...]
    partition: str | None = None

    @property
    def partition_index(self) -> int | None:
        return None if self.partition is None else self.columns.index(self.partition)


def _text(value: Any) -> str:
    return str(value)


def encode_row(row: Sequence[Any]) -> bytes:
    """What a row contributes: the JSON array of its values (orjson, compact)."""
    return orjson.dumps(tuple(row), default=_text)


def ensure_schema(db: Database) -> None:
    for statement in SCHEMA:
        db.execute(statement)


# -- writing ------------------------------------------------------------------------------
@dataclass
class Checksum:
    position: int = 0
    rows: int = 0
    head: bytes = ZERO_HEAD

    def add(self, rows: Sequence[Sequence[Any]]) -> None:
        head, sha = self.head, hashlib.sha256
        for row in rows:
            head = sha(head + encode_row(row)).digest()
        if rows:
            self.head, self.rows = head, self.rows + len(rows)
            self.position = max(self.position, int(rows[-1][0]))


def stored_checksums(db: Database, table: str) -> dict[str, Checksum]:
    if not db.table_exists(CHECKSUM_TABLE):
        return {}
    rows = db.query(f"SELECT part, position, rows, head FROM {CHECKSUM_TABLE} "
                    "WHERE table_name=?", [table])
    return {str(part): Checksum(int(position), int(count), bytes.fromhex(head))
            for part, position, count, head in rows}


def _by_part(table: ProvenTable, rows: Sequence[Sequence[Any]]) -> dict[str, list[Any]]:
    index = table.partition_index
    if index is None:
        return {"": list(rows)}
    parts: dict[str, list[Any]] = {}
    for row in rows:
        parts.setdefault(str(row[index]), []).append(row)
    return parts


def fold(db: Database, table: ProvenTable, rows: Sequence[Sequence[Any]]) -> None:
    """Extend the table's checksums by rows just appended (inside the writer's transaction)."""
    if not rows:
        return
    current = stored_checksums(db, table.name)
    for part, part_rows in _by_part(table, rows).items():
        checksum = current.get(part, Checksum())
        checksum.add(part_rows)
        db.execute(f"DELETE FROM {CHECKSUM_TABLE} WHERE table_name=? AND part=?",
                   [table.name, part])
        db.execute(f"INSERT INTO {CHECKSUM_TABLE} (table_name, part, position, rows, head) "
                   "VALUES (?, ?, ?, ?, ?)",
                   [table.name, part, checksum.position, checksum.rows, checksum.head.hex()])


def forget(db: Database, tables: Sequence[ProvenTable]) -> None:
    """Drop the checksums of tables being rebuilt (inside the caller's transaction)."""
    if db.table_exists(CHECKSUM_TABLE):
        for table in tables:
            db.execute(f"DELETE FROM {CHECKSUM_TABLE} WHERE table_name=?", [table.name])


# -- reading back -------------------------------------------------------------------------
def iter_rows(db: Database, table: ProvenTable,
              upto: int | None = None) -> Iterator[tuple[Any, ...]]:
    """The table's rows in key order, a page at a time (``upto``: notification ids up to)."""
    if not db.table_exists(table.name):
        return
    columns, key = ", ".join(table.columns), ", ".join(table.key)
    after: tuple[Any, ...] | None = None
    limit = "" if upto is None else f" AND {table.columns[0]} <= {int(upto)}"
    while True:
        where = "1=1" if after is None else f"({key}) > ({', '.join('?' * len(after))})"
        rows = db.query(f"SELECT {columns} FROM {table.name} WHERE {where}{limit} "
                        f"ORDER BY {key} LIMIT {PAGE_ROWS_MAX}", list(after or ()))
        yield from (tuple(r) for r in rows)
        if len(rows) < PAGE_ROWS_MAX:
            return
        last = rows[-1]
        after = tuple(last[table.columns.index(k)] for k in table.key)


def refold(db: Database, table: ProvenTable) -> dict[str, Checksum]:
    """The checksums of the rows the table holds now, recomputed."""
    sums: dict[str, Checksum] = {}
    index = table.partition_index
    for row in iter_rows(db, table):
        part = "" if index is None else str(row[index])
        sums.setdefault(part, Checksum()).add([row])
    return sums


def checksum_problem(table: ProvenTable, stored: dict[str, Checksum],
                     actual: dict[str, Checksum]) -> str | None:
    """Why the rows do not match their checksums (None: they do)."""
    for part in sorted(set(stored) | set(actual)):
        want, got = stored.get(part), actual.get(part)
        where = table.name + (f" ({table.partition} {part!r})" if table.partition else "")
        if want is None:
            return (f"{where}: {got.rows if got else 0} rows that no checksum covers "
                    "(rows added behind the projection's back)")
        got = got or Checksum()
        if (got.rows, got.head) != (want.rows, want.head):
            return (f"{where}: the rows no longer match their checksum ({got.rows} rows now, "
                    f"{want.rows} checksummed up to notification {want.position}): a row was "
                    "changed, added or removed; 'aidledger verify' names it")
    return None


# -- recomputation (verify) ---------------------------------------------------------------
@dataclass(frozen=True)
class Outcome:
    ok: bool
    rows: int
    reason: str
    first_bad: str | None = None


class _Differs(Exception):
    def __init__(self, first_bad: str, reason: str):
        super().__init__(reason)
        self.first_bad, self.reason = first_bad, reason


def compare_replay(db: Database, scratch: Database, tables: Sequence[ProvenTable],
                   last_id: int, tracked: int) -> Outcome:
    """Every live row of ``tables`` (tracked up to ``tracked``) against the rows the
    projection's code wrote into ``scratch`` from the log verified up to ``last_id``."""
    try:
        if tracked > last_id:
            raise _Differs("rm_tracking", f"the read models claim notification {tracked} "
                                          f"but the verified log ends at {last_id}")
        compared = sum(_compare(db, scratch, table, tracked) for table in tables)
    except _Differs as differs:
        return Outcome(False, 0, differs.reason, differs.first_bad)
    return Outcome(True, compared, f"{compared} read-model rows up to notification {tracked} "
                                   "equal the projection of the log and their checksums")


def absent_or_orphans(db: Database, tables: Sequence[ProvenTable]) -> Outcome:
    """The verdict when the read models track no position: no rows may exist then."""
    return _absent_or_orphans(db, tables)


def _absent_or_orphans(db: Database, tables: Sequence[ProvenTable]) -> Outcome:
    for table in tables:
        for row in iter_rows(db, table):
            return Outcome(False, 0, f"{table.name}: rows, but the read models track no "
                                     "position (rm_tracking dropped)", describe_row(table, row))
    return Outcome(True, 0, "no read models yet (the next command that needs them builds "
                            "them from the log)")


def _compare(db: Database, scratch: Database, table: ProvenTable, tracked: int) -> int:
    """Rows of the live table against the recomputed ones (up to ``tracked``), and the
    live checksums against the live rows. Returns how many rows were compared."""
    live = iter_rows(db, table)
    replayed = iter_rows(scratch, table, upto=tracked)
    sums: dict[str, Checksum] = {}
    index, count = table.partition_index, 0
    while True:
        got, want = next(live, None), next(replayed, None)
        if got is None and want is None:
            break
        _check_pair(table, got, want, tracked)
        assert got is not None
        sums.setdefault("" if index is None else str(got[index]), Checksum()).add([got])
        count += 1
    problem = checksum_problem(table, stored_checksums(db, table.name), sums)
    if problem:
        raise _Differs(f"{CHECKSUM_TABLE} of {table.name}", f"{problem} ({CHECKSUM_TABLE} "
                                                            "altered)")
    return count


def _check_pair(table: ProvenTable, got: tuple[Any, ...] | None,
                want: tuple[Any, ...] | None, tracked: int) -> None:
    key = [table.columns.index(k) for k in table.key]
    if got is not None and int(got[0]) > tracked:
        raise _Differs(describe_row(table, got), f"{table.name}: a row beyond the position "
                                                 f"the projection tracks ({tracked}): added "
                                                 "behind its back")
    if want is None or (got is not None and [got[i] for i in key] < [want[i] for i in key]):
        assert got is not None
        raise _Differs(describe_row(table, got), f"{table.name}: this row does not come from "
                                                 "the log (inserted)")
    if got is None or [got[i] for i in key] > [want[i] for i in key]:
        raise _Differs(describe_row(table, want), f"{table.name}: the log gives this row, "
                                                  "the table lacks it (deleted)")
    for name, a, b in zip(table.columns, got, want, strict=True):
        if a != b:
            shown_a, shown_b = _difference(a, b)
            raise _Differs(describe_row(table, got),
                           f"{table.name}: column {name} holds {shown_a} where the log gives "
                           f"{shown_b} (changed)")


def describe_row(table: ProvenTable, row: Sequence[Any]) -> str:
    named = ", ".join(f"{k}={row[table.columns.index(k)]}" for k in table.key)
    if table.partition and table.partition not in table.key:
        named += f", {table.partition}={row[table.partition_index or 0]}"
    return f"{table.name} row {named}"


def _difference(a: Any, b: Any) -> tuple[str, str]:
    """The two values, or around where two long texts first differ."""
    if not (isinstance(a, str) and isinstance(b, str)) or \
            max(len(a), len(b)) <= VALUE_CHARS_SHOWN:
        return repr(a), repr(b)
    pairs = enumerate(zip(a, b, strict=False))
    at = next((i for i, (x, y) in pairs if x != y), min(len(a), len(b)))
    start = max(0, at - VALUE_CHARS_SHOWN // 4)
    end = start + VALUE_CHARS_SHOWN

    def window(text: str) -> str:
        return ("…" if start else "") + repr(text[start:end]) + ("…" if end < len(text) else "")

    return window(a), window(b)

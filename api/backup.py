"""Backup of the event log: ``export`` to a JSON Lines file, ``import`` into an empty store.

Why the raw stored events and not the read models: the log is the only source of truth
(read models are rebuilt from it), and restoring the exact bytes in the exact order keeps
the published digests valid: ``digest`` on the restored store prints the same text.

File format (UTF-8, one JSON object per line, gzip-compressed when the name ends ``.gz``):

1. header: ``{"format": "aidledger-export", "version": 1, "exported_at": "<UTC ISO>"}``
2. one line per event, in notification order:
   ``{"id": <notification id>, "originator_id": "<uuid>", "originator_version": <int>,
   "topic": "<topic>", "state": "<base64 of the stored bytes>"}``
3. trailer: ``{"end": true, "events": <count>}`` — a truncated copy lacks it and is refused.

Import refuses a store that already has events (or read-model rows), checks the whole
file before writing anything, then inserts page by page through the recorder, which
chains every page as it writes it (``projections.chain``). If a page fails (a database
error, an interruption) every page already inserted is deleted again, with the chain
rows, so the store is left empty rather than half restored. Notification ids are assigned
afresh by the target store; the digest commits to positions, not ids, so it still matches.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import gzip
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, cast
from uuid import UUID

from eventsourcing.persistence import StoredEvent

from domain.errors import DomainError

FORMAT = "aidledger-export"
FORMAT_VERSION = 1
PAGE_SIZE_MAX = 1_000
EVENT_FIELDS = frozenset({"id", "originator_id", "originator_version", "topic", "state"})
READ_MODEL_TABLES = ("rm_chain", "rm_facts")


@contextmanager
def _open_text(path: Path, mode: str, gzipped: bool) -> Iterator[IO[str]]:
    if gzipped:
        with gzip.open(path, mode + "t", encoding="utf-8", newline="\n") as zipped:
            yield cast(IO[str], zipped)  # text mode: a TextIOWrapper, whatever mode says
    else:
        with open(path, mode, encoding="utf-8", newline="\n") as handle:
            yield handle


def _is_gzip(path: Path) -> bool:
    return path.name.endswith(".gz")


# -- export -------------------------------------------------------------------------------
def export_log(store: Any, path: str | Path) -> int:
    """Write every event recorded so far, in order; returns how many.

    Written to ``<path>.part`` and renamed at the end, so an interrupted export never
    leaves a file that looks complete. Events recorded while exporting are left out
    (the export is the log as of its start).
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".part")
    last_id = store.ledger.recorder.max_notification_id() or 0
    count = 0
    try:
        with _open_text(partial, "w", _is_gzip(target)) as out:
            out.write(_line({"format": FORMAT, "version": FORMAT_VERSION,
                             "exported_at": dt.datetime.now(dt.UTC).isoformat()}))
            for notification in _notifications(store, last_id):
                out.write(_line(_event_object(notification)))
                count += 1
            out.write(_line({"end": True, "events": count}))
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return count


def _line(obj: dict[str, Any]) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")) + "\n"


def _event_object(notification: Any) -> dict[str, Any]:
    return {"id": notification.id, "originator_id": str(notification.originator_id),
            "originator_version": notification.originator_version,
            "topic": notification.topic,
            "state": base64.b64encode(notification.state).decode("ascii")}


def _notifications(store: Any, last_id: int) -> Iterator[Any]:
    start = 1
    while start <= last_id:
        page = store.ledger.recorder.select_notifications(start, PAGE_SIZE_MAX, stop=last_id)
        if not page:
            return
        yield from page
        start = page[-1].id + 1


# -- import -------------------------------------------------------------------------------
def import_log(store: Any, path: str | Path, *, page_size: int = PAGE_SIZE_MAX) -> int:
    """Restore an export into an empty store; returns how many events were imported.

    ``page_size`` events go to the recorder per call (memory stays bounded).
    """
    source = Path(path)
    _refuse_non_empty(store)
    count = sum(1 for _ in _read_events(source))  # the whole file is checked first
    inserted: list[tuple[int, int]] = []  # (first, last) notification id of each page
    try:
        for page in _pages(_read_events(source), page_size):
            ids = store.ledger.recorder.insert_events(page)
            inserted.append((min(ids), max(ids)))
        _check_alone(store, count)
    except BaseException as error:
        _delete(store, inserted)
        if isinstance(error, DomainError):
            raise
        if isinstance(error, Exception):
            raise DomainError(f"import of {source} failed and was undone: {error}") from error
        raise
    return count


def _refuse_non_empty(store: Any) -> None:
    if store.ledger.recorder.max_notification_id():
        raise DomainError("import needs an empty store, but this one already has events; "
                          "import into a new database (or a new ?schema=)")
    for table in READ_MODEL_TABLES:
        if store.db.table_exists(table) and store.db.query(f"SELECT 1 FROM {table} LIMIT 1"):
            raise DomainError(f"import needs an empty store, but {table} has rows left from "
                              "an earlier log; import into a new database (or a new ?schema=)")


def _read_events(source: Path) -> Iterator[StoredEvent]:
    """The file's events in order; any problem raises ``DomainError`` naming the line."""
    try:
        with _open_text(source, "r", _is_gzip(source)) as handle:
            yield from _parse_lines(handle, source)
    except (OSError, EOFError, UnicodeDecodeError) as error:
        raise DomainError(f"{source}: cannot read the export: {error}") from error


def _parse_lines(lines: IO[str], source: Path) -> Iterator[StoredEvent]:
    header = _json_line(source, 1, lines.readline())
    if header.get("format") != FORMAT or header.get("version") != FORMAT_VERSION:
        raise DomainError(f"{source} line 1: not an aidledger export of version "
                          f"{FORMAT_VERSION} (header {header!r})")
    previous_id, line_no = 0, 1
    for count, (line_no, text) in enumerate(enumerate(lines, start=2)):
        obj = _json_line(source, line_no, text)
        if "end" in obj:
            _check_trailer(source, line_no, obj, count, lines)
            return
        event, previous_id = _stored_event(source, line_no, obj, previous_id), int(obj["id"])
        yield event
    raise DomainError(f"{source} line {line_no + 1}: the end line is missing "
                      "(the file is truncated)")


def _json_line(source: Path, line_no: int, text: str) -> dict[str, Any]:
    try:
        obj = json.loads(text)
    except ValueError as error:
        raise DomainError(f"{source} line {line_no}: not JSON ({error})") from None
    if not isinstance(obj, dict):
        raise DomainError(f"{source} line {line_no}: expected a JSON object")
    return obj


def _check_trailer(source: Path, line_no: int, obj: dict[str, Any], count: int,
                   rest: IO[str]) -> None:
    if obj != {"end": True, "events": count}:
        raise DomainError(f"{source} line {line_no}: the end line says {obj.get('events')!r} "
                          f"events, the file has {count}")
    if any(text.strip() for text in rest):
        raise DomainError(f"{source} line {line_no + 1}: text after the end line")


def _stored_event(source: Path, line_no: int, obj: dict[str, Any],
                  previous_id: int) -> StoredEvent:
    where = f"{source} line {line_no}"
    if set(obj) != EVENT_FIELDS:
        raise DomainError(f"{where}: expected the fields {sorted(EVENT_FIELDS)}, "
                          f"got {sorted(obj)}")
    notification_id, version = obj["id"], obj["originator_version"]
    if not _is_int(notification_id) or notification_id <= previous_id:
        raise DomainError(f"{where}: id {notification_id!r} does not follow {previous_id}")
    if not _is_int(version) or version < 0:
        raise DomainError(f"{where}: originator_version {version!r} is not a whole number")
    if not isinstance(obj["topic"], str) or not obj["topic"]:
        raise DomainError(f"{where}: topic is missing")
    try:
        originator_id = UUID(obj["originator_id"])
        state = base64.b64decode(obj["state"], validate=True)
    except (ValueError, TypeError, AttributeError, binascii.Error) as error:
        raise DomainError(f"{where}: bad originator_id or state ({error})") from None
    return StoredEvent(originator_id=originator_id, originator_version=version,
                       topic=obj["topic"], state=state)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _pages(events: Iterator[StoredEvent], page_size: int) -> Iterator[list[StoredEvent]]:
    page: list[StoredEvent] = []
    for event in events:
        page.append(event)
        if len(page) == page_size:
            yield page
            page = []
    if page:
        yield page


def _events_table(store: Any) -> str:
    return str(store.ledger.recorder.events_table_name)


def _id_column(store: Any) -> str:
    return "rowid" if store.db.backend == "sqlite" else "notification_id"


def _check_alone(store: Any, count: int) -> None:
    """Nobody else wrote while importing: the store holds exactly the file's events."""
    rows = store.db.query(f"SELECT COUNT(*) FROM {_events_table(store)}")
    if int(rows[0][0]) != count:
        raise DomainError(f"another writer added events during the import ({rows[0][0]} in "
                          f"the store, {count} imported); import into a store nobody uses")


def _delete(store: Any, inserted: list[tuple[int, int]]) -> None:
    """Undo the pages inserted so far (exactly their notification ids), and the chain
    their writes extended: the store was empty before, so the chain goes whole."""
    from projections.chain import CHAIN_TABLES

    table, column = _events_table(store), _id_column(store)
    with store.db.transaction():
        for first, last in inserted:
            store.db.execute(f"DELETE FROM {table} WHERE {column} BETWEEN ? AND ?",
                             [first, last])
        for chain_table in CHAIN_TABLES:
            store.db.execute(f"DELETE FROM {chain_table}")

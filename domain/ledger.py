"""The Ledger application: every command is load -> decide -> one atomic ``save``.

Recording a file is one ``save`` of every aggregate it touched plus the ``ImportedFile``
marker, so a file is in the store whole or not at all, and the marker (keyed by the
file's SHA-256) makes loading the same bytes again a no-op, also after a crash.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import IntegrityError, StoredEvent
from eventsourcing.utils import get_topic

from domain.catalogue import columns, key_columns
from domain.catalogue import kind as record_kind
from domain.errors import Conflict, DomainError, NotFound
from domain.event_codec import RecordedEvent, encode_plain_state, new_object
from domain.records import Adjustment, Finding, ImportedFile, Record, record_id
from domain.users import Actor, same_person, user_id

POLICY_KIND, POLICY_KEY = "policy", "current"
ADJUSTMENT_KIND, RECOVERY_KIND = "adjustments", "recoveries"  # records posted by the API
RECORD_CHUNK_ROWS = 20_000  # rows of a file turned into events at a time (memory per chunk)
RECORD_TOPIC = get_topic(Record)
RECORDED: Any = Record.Recorded  # type: ignore[attr-defined]
RECORDED_TOPIC = get_topic(RECORDED)


# Called after a file's transaction committed: its notification ids and events, in order.
OnAppended = Callable[[Sequence[int], Sequence[StoredEvent]], None]


@dataclass(frozen=True)
class FileOutcome:
    name: str
    kind: str
    rows: int
    created: int
    corrected: int
    unchanged: int
    events: int
    already_loaded: bool


def key_of(kind: str, fields: dict[str, Any]) -> str:
    return "|".join(str(fields.get(name, "")) for name in key_columns(kind))


def business_date_of(kind: str, fields: dict[str, Any]) -> str:
    """The day a row's event is about (its kind's business date column; a period is
    dated by its first day), '' when the kind has none or the row leaves it empty."""
    name = record_kind(kind).business_date
    value = fields.get(name) if name is not None else None
    if not value:
        return ""
    return str(value) if len(str(value)) == 10 else f"{value}-01"


class Ledger(Application):
    """The county's append-only ledger of records, adjustments and findings."""

    name = "aidledger"

    # -- files -----------------------------------------------------------------------
    def file_loaded(self, sha256: str) -> bool:
        return self._exists(ImportedFile.create_id(sha256))

    def record_file(
        self, *, kind: str, name: str, sha256: str, rows: Sequence[dict[str, Any]],
        row_numbers: Sequence[int], actor: str, on_appended: OnAppended | None = None,
    ) -> FileOutcome:
        """Record every row of one parsed file in one transaction (or nothing).

        New records (the bulk of a monthly file) skip the aggregate machinery: their
        ``Recorded`` event is encoded straight to the stored event ``save`` would write
        (same topic, same JSON, version 1). Corrections, and keys that occur more than
        once in the file, take the aggregate path. The events are produced RECORD_CHUNK_ROWS
        rows at a time and streamed into one transaction: on PostgreSQL one COPY under
        the table lock (``projections.bulk_recorder``), so a million-line file is never
        a million events in memory; other recorders get them as one list.

        ``on_appended(ids, events)``, when given, is called once the transaction has
        committed with every event written and its notification id, in order (the
        events are then kept until the call: the caller decides for which files). A new
        record's event is a ``RecordedEvent``, which carries what it says in plain values.
        """
        if self.file_loaded(sha256):
            return FileOutcome(name, kind, len(rows), 0, 0, 0, 0, already_loaded=True)
        keys = [key_of(kind, fields) for fields in rows]
        tally = _Tally()
        events = self._file_events(kind, name, sha256, rows, row_numbers, keys, actor, tally)
        kept: list[StoredEvent] = []
        if on_appended is not None:
            events = _kept(events, kept)
        ids = self._insert_stream(events)
        written = len(ids)
        if on_appended is not None:
            on_appended(ids, kept)
        unchanged = len(rows) - tally.created - tally.corrected
        return FileOutcome(name, kind, len(rows), tally.created, tally.corrected, unchanged,
                           written, already_loaded=False)

    def _file_events(
        self, kind: str, name: str, sha256: str, rows: Sequence[dict[str, Any]],
        row_numbers: Sequence[int], keys: list[str], actor: str, tally: _Tally,
    ) -> Iterator[StoredEvent]:
        """The stored events of a file, chunk by chunk, then its ``ImportedFile`` marker.
        Within a chunk, aggregate by aggregate in row order (as ``save`` writes them); a
        key repeated in the file keeps its aggregate across chunks, each chunk writing
        the versions it added."""
        repeated = _repeated(keys)
        carried: dict[str, Any] = {}  # the Record of each repeated key seen so far
        direct = self._encodes_directly()
        for start in range(0, len(rows), RECORD_CHUNK_ROWS):
            stop = start + RECORD_CHUNK_ROWS
            chunk_keys = keys[start:stop]
            ids = {key: record_id(kind, key) for key in chunk_keys if key not in carried}
            latest: dict[str, Any] = {**self._records_of(ids), **carried}
            touched: list[Any] = []  # StoredEvent (new record, encoded) or a Record
            touched_ids: set[UUID] = set()
            for fields, row_no, key in zip(rows[start:stop], row_numbers[start:stop],
                                           chunk_keys, strict=True):
                source = f"{name}#{row_no}"
                current = latest.get(key)
                if current is None:
                    tally.created += 1
                    if direct and key not in repeated:
                        touched.append(self._recorded_event(ids[key], kind, key, fields,
                                                            actor, source))
                        continue
                    record = Record(kind=kind, key=key, fields=dict(fields), actor=actor,
                                    business_date=business_date_of(kind, fields), source=source)
                    latest[key] = record
                elif current.fields != fields:
                    current.correct(fields=dict(fields), actor=actor,
                                    business_date=business_date_of(kind, fields), source=source)
                    tally.corrected += 1
                    if current.id in touched_ids:
                        continue
                    record = current
                else:
                    continue
                if key in repeated:
                    carried[key] = record
                touched_ids.add(record.id)
                touched.append(record)
            yield from self._stored_events(touched)
        marker = ImportedFile(sha256=sha256, name=name, kind=kind, rows=len(rows),
                              created=tally.created, corrected=tally.corrected, actor=actor)
        yield from self._stored_events([marker])

    def _insert_stream(self, events: Iterator[StoredEvent]) -> Sequence[int]:
        """Every event of the stream in one transaction; their notification ids, in order."""
        recorder: Any = self.recorder
        stream = getattr(recorder, "insert_event_stream", None)
        try:
            if stream is not None and not recorder.datastore.enable_db_functions:
                return list(stream(events))
            stored = list(events)
            ids = recorder.insert_events(stored)
            if ids is None or len(ids) != len(stored):
                raise DomainError(f"the recorder returned {ids!r} notification ids for "
                                  f"{len(stored)} events")
            return list(ids)
        except IntegrityError as error:
            raise Conflict(
                "another writer recorded the same records at the same time; "
                "nothing was written, load again") from error

    def _records_of(self, ids: dict[str, UUID]) -> dict[str, Any]:
        """The stored Record of each key that has one (most keys of a new month: none)."""
        existing = self._existing(list(ids.values()))
        return {key: self.repository.get(i) for key, i in ids.items() if i in existing}

    def _encodes_directly(self) -> bool:
        """Stored events can be written without the mapper only when it neither
        compresses nor encrypts (the ledger configures neither)."""
        return self.mapper.compressor is None and self.mapper.cipher is None

    def _recorded_event(self, rid: UUID, kind: str, key: str, fields: dict[str, Any],
                        actor: str, source: str) -> StoredEvent:
        """The stored ``Record.Recorded`` event that ``Record(...)`` + ``save`` writes:
        same topic, version 1 and the same JSON (attributes in the event's order)."""
        timestamp = RECORDED.create_timestamp()
        business_date = business_date_of(kind, fields)
        state = {"timestamp": timestamp, "originator_topic": RECORD_TOPIC,
                 "kind": kind, "key": key, "fields": fields, "actor": actor,
                 "business_date": business_date, "source": source}
        encoded = encode_plain_state(state)
        if encoded is None:
            state["fields"] = dict(fields)
            return StoredEvent(originator_id=rid, originator_version=1, topic=RECORDED_TOPIC,
                               state=self.mapper.transcoder.encode(state))
        # RecordedEvent(...) without the frozen dataclass's __init__ (one object.__setattr__
        # per attribute): the same object, built once per loaded row
        event = new_object(RecordedEvent)
        event.__dict__.update(originator_id=rid, originator_version=1, topic=RECORDED_TOPIC,
                              state=encoded[0], kind=kind, key=key, fields=encoded[1],
                              timestamp=timestamp, business_date=business_date, actor=actor,
                              source=source)
        return event

    def _stored_events(self, touched: Sequence[Any]) -> list[StoredEvent]:
        """Every pending event, aggregate by aggregate in order (as ``save`` does)."""
        stored: list[StoredEvent] = []
        to_stored = self.mapper.to_stored_event
        for item in touched:
            if isinstance(item, StoredEvent):
                stored.append(item)
            else:
                stored.extend(to_stored(e) for e in item.collect_events())
        return stored

    def record_row(self, kind: str, fields: dict[str, Any], actor: str, source: str) -> str:
        """Record one row (from the API): 'created', 'corrected' or 'unchanged'."""
        check_row_types(kind, fields)
        key = key_of(kind, fields)
        current = self._latest_rows(kind, [fields]).get(key)
        if current is None:
            self._save_all(Record(kind=kind, key=key, fields=dict(fields), actor=actor,
                                  business_date=business_date_of(kind, fields), source=source))
            return "created"
        if current.fields == fields:
            return "unchanged"
        current.correct(fields=dict(fields), actor=actor,
                        business_date=business_date_of(kind, fields), source=source)
        self._save_all(current)
        return "corrected"

    def _latest_rows(self, kind: str, rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
        """The stored record of every key the rows name, by key."""
        keys = list(dict.fromkeys(key_of(kind, f) for f in rows))
        ids = {record_id(kind, key): key for key in keys}
        return {ids[i]: self.repository.get(i) for i in self._existing(list(ids))}

    def known_keys(self, kind: str, keys: Iterable[str]) -> set[str]:
        """Which of these keys of a kind are recorded."""
        ids = {record_id(kind, key): key for key in keys}
        return {ids[i] for i in self._existing(list(ids))}

    # Which of these aggregate ids have events: set by whoever opens the ledger on a store
    # it can query in bulk (``api.wiring.Store``: ``projections.event_store.existing_ids``,
    # one query per chunk of ids); otherwise one read of the recorder per id.
    existing_ids: Callable[[Sequence[UUID]], set[UUID]] | None = None

    def _existing(self, ids: Sequence[UUID]) -> set[UUID]:
        if self.existing_ids is not None:
            return self.existing_ids(ids)
        select = self.recorder.select_events
        return {i for i in ids if select(i, desc=True, limit=1)}

    def _exists(self, aggregate_id: UUID) -> bool:
        return bool(self._existing([aggregate_id]))

    def _save_all(self, *aggregates: Any) -> None:
        try:
            self.save(*aggregates)
        except IntegrityError as error:
            raise Conflict(
                "another writer recorded the same records at the same time; "
                "nothing was written, load again") from error

    def get_record(self, kind: str, key: str) -> Record:
        try:
            return self.repository.get(record_id(kind, key))
        except AggregateNotFoundError:
            raise NotFound(f"no {kind} record {key!r}") from None

    # -- policy ----------------------------------------------------------------------
    def record_policy(self, toml_text: str, actor: str) -> bool:
        """Keep the county's policy.toml in the ledger; False when it is unchanged."""
        fields = {"toml": toml_text}
        record: Record
        try:
            record = self.repository.get(record_id(POLICY_KIND, POLICY_KEY))
        except AggregateNotFoundError:
            record = Record(kind=POLICY_KIND, key=POLICY_KEY, fields=fields, actor=actor,
                            business_date="", source="policy.toml")
        else:
            if record.fields == fields:
                return False
            record.correct(fields=fields, actor=actor, business_date="", source="policy.toml")
        self._save_all(record)
        return True

    def policy_text(self) -> str | None:
        try:
            return str(self.repository.get(record_id(POLICY_KIND, POLICY_KEY)).fields["toml"])
        except AggregateNotFoundError:
            return None

    # -- adjustments (maker-checker) -------------------------------------------------
    def request_adjustment(
        self, *, adjustment_id: str, account_from: str, account_to: str,
        amount: Decimal, reason: str, actor: str, business_date: str, actor_id: str = "",
    ) -> Adjustment:
        """``actor_id``: the requesting user's id (by default the id ``actor`` maps to)."""
        if self._exists(Adjustment.create_id(adjustment_id)):
            raise Conflict(f"adjustment {adjustment_id} exists already")
        adjustment = Adjustment(adjustment_id=adjustment_id, account_from=account_from,
                                account_to=account_to, amount=amount, reason=reason,
                                actor=actor, business_date=business_date,
                                actor_id=actor_id or user_id(actor))
        self._save_all(adjustment)
        return adjustment

    def approve_adjustment(self, adjustment_id: str, actor: str,
                           actor_id: str = "") -> Adjustment:
        """Approve, if ``actor`` is not the maker (compared by user id)."""
        adjustment = self._get(Adjustment.create_id(adjustment_id), f"adjustment {adjustment_id}")
        checker = Actor(name=actor, user_id=actor_id or user_id(actor))
        adjustment.approve(actor, checker.user_id, same_person(
            adjustment.recorded_by_id, adjustment.recorded_by, checker))
        # The approved movement enters the books as a record, in the same transaction.
        movement = Record(
            kind=ADJUSTMENT_KIND, key=adjustment_id, actor=actor,
            business_date=adjustment.business_date, source=f"adjustment {adjustment_id}",
            fields={"adjustment_id": adjustment_id, "account_from": adjustment.account_from,
                    "account_to": adjustment.account_to, "amount": adjustment.amount,
                    "reason": adjustment.reason, "recorded_by": adjustment.recorded_by,
                    "approver": actor,
                    "recorded_by_id": adjustment.recorded_by_id or user_id(
                        adjustment.recorded_by),
                    "approver_id": checker.user_id})
        self._save_all(adjustment, movement)
        return adjustment

    # -- findings --------------------------------------------------------------------
    def record_findings(self, findings: Sequence[dict[str, Any]], actor: str) -> dict[str, int]:
        """Raise new findings, refresh open ones, resolve those that no longer hold.

        ``findings`` is the full result of one reconciliation run: a finding of an
        earlier run missing from it no longer holds and is marked resolved (never deleted).
        """
        counts = {"raised": 0, "refreshed": 0, "resolved": 0}
        touched: list[Any] = []
        seen: set[UUID] = set()
        for row in findings:
            fid = Finding.create_id(row["code"], row["subject_id"])
            seen.add(fid)
            finding: Finding
            try:
                finding = self.repository.get(fid)
            except AggregateNotFoundError:
                touched.append(Finding(actor=actor, **row))
                counts["raised"] += 1
                continue
            changed = (finding.detail, finding.evidence, finding.amount) != (
                row["detail"], row["evidence"], row["amount"])
            if changed or finding.status == "resolved":
                finding.reraise(detail=row["detail"], evidence=row["evidence"],
                                amount=row["amount"], actor=actor)
                touched.append(finding)
                counts["refreshed"] += 1
        for fid in self.finding_ids():
            if fid in seen:
                continue
            finding = self.repository.get(fid)
            if finding.status in ("open", "under_review"):
                finding.resolve(actor=actor)
                touched.append(finding)
                counts["resolved"] += 1
        if touched:
            self._save_all(*touched)
        return counts

    def finding_ids(self) -> list[UUID]:
        topic = f"{Finding.__module__}:{Finding.__qualname__}.Raised"
        ids: list[UUID] = []
        start = 1
        while True:
            page = self.recorder.select_notifications(start, 1000, topics=[topic])
            if not page:
                return ids
            ids.extend(n.originator_id for n in page)  # type: ignore[misc]
            start = page[-1].id + 1

    def dispose_finding(
        self, code: str, subject_id: str, *, status: str, note: str, actor: str,
        recovered: Decimal | None = None,
    ) -> Finding:
        finding = self._get(Finding.create_id(code, subject_id), f"finding {code} {subject_id}")
        finding.dispose(status=status, note=note, actor=actor, recovered=recovered)
        if status != "recovered":
            self._save_all(finding)
            return finding
        # Money recovered (追缴) enters the books as a record, in the same transaction.
        number = sum(1 for h in finding.history if h["status"] == "recovered")
        recovery = Record(
            kind=RECOVERY_KIND, key=f"{code}|{subject_id}|{number}", actor=actor,
            business_date=dt.date.today().isoformat(), source=f"finding {code} {subject_id}",
            fields={"code": code, "subject_id": subject_id, "amount": recovered, "note": note,
                    "household_id": subject_id if finding.subject_type == "household" else ""})
        self._save_all(finding, recovery)
        return finding

    def get_finding(self, code: str, subject_id: str) -> Finding:
        return self._get(Finding.create_id(code, subject_id), f"finding {code} {subject_id}")

    def _get(self, aggregate_id: UUID, what: str) -> Any:
        try:
            return self.repository.get(aggregate_id)
        except AggregateNotFoundError:
            raise NotFound(f"no {what}") from None


@dataclass
class _Tally:
    created: int = 0
    corrected: int = 0


def _kept(events: Iterator[StoredEvent], kept: list[StoredEvent]) -> Iterator[StoredEvent]:
    """The stream, each event also appended to ``kept`` as it goes by."""
    for event in events:
        kept.append(event)
        yield event


def _repeated(keys: Sequence[str]) -> set[str]:
    """Keys that occur more than once in a file (a later row corrects an earlier one)."""
    seen: set[str] = set()
    twice: set[str] = set()
    for key in keys:
        if key in seen:
            twice.add(key)
        seen.add(key)
    return twice


def check_row_types(kind: str, fields: dict[str, Any]) -> None:
    """Invariant of our own parser: rows carry exactly the kind's columns."""
    expected = {c.name for c in columns(kind)}
    if set(fields) != expected:
        raise DomainError(f"{kind} row has columns {sorted(fields)}, expected {sorted(expected)}")


"""Tamper evidence on real SQLite and PostgreSQL: digest, verify, inclusion receipts."""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from decimal import Decimal
from pathlib import Path

import pytest

from api import integrity_cli
from api.wiring import Store
from domain.errors import DomainError
from projections import audit, chain, facts, integrity

EVENTS_PER_FILE = 2  # the record and the file's ImportedFile marker


def sha(name: str) -> str:
    """A distinct file digest per file name (record_file skips bytes it has seen)."""
    return hashlib.sha256(name.encode()).hexdigest()


def load_deaths(store: Store, files: int, first: int = 0, salt: str = "") -> None:
    """``files`` one-row death lists with distinct bytes, then project them."""
    for n in range(first, first + files):
        store.ledger.record_file(
            kind="deaths", name=f"deaths_{n}.csv", sha256=sha(f"deaths_{n}{salt}"),
            rows=[{"id_number": f"43062119800101{n:04d}", "name": f"逝者{n}{salt}",
                   "date_of_death": "2025-01-01"}],
            row_numbers=[2], actor="t")
    facts.catch_up(store.ledger, store.db)


def load_household(store: Store, household_id: str, line_no: int) -> None:
    """A household, one payroll line for it and the bank's confirmation of that line."""
    account = f"62170000000000{line_no:05d}"
    store.ledger.record_file(
        kind="households", name=f"households_{household_id}.csv",
        sha256=sha(f"households_{household_id}"),
        rows=[{"household_id": household_id, "township": "城关镇", "village": "东门村",
               "head_name": "张三明", "head_id_number": "", "members": 3,
               "bank_account": account, "account_holder": "张三明",
               "disclosure_exempt": False}],
        row_numbers=[2], actor="t")
    store.ledger.record_file(
        kind="payroll", name=f"payroll_{line_no}.csv", sha256=sha(f"payroll_{line_no}"),
        rows=[{"batch_id": "B1", "line_no": line_no, "program": "dibao", "period": "2025-01",
               "township": "城关镇", "household_id": household_id, "payee_name": "张三明",
               "payee_id_number": "", "bank_account": account, "amount": Decimal("700.00")}],
        row_numbers=[2], actor="t")
    store.ledger.record_file(
        kind="bank_return", name=f"bank_{line_no}.csv", sha256=sha(f"bank_{line_no}"),
        rows=[{"batch_id": "B1", "line_no": line_no, "account_holder": "张三明",
               "bank_account": account, "amount": Decimal("700.00"), "status": "success",
               "fail_reason": "", "value_date": "2025-01-20"}],
        row_numbers=[2], actor="t")
    facts.catch_up(store.ledger, store.db)


def events_table(store: Store) -> str:
    return store.ledger.recorder.events_table_name


def id_column(store: Store) -> str:
    return "rowid" if store.db.backend == "sqlite" else "notification_id"


def stored_event(store: Store, notification_id: int):
    return store.ledger.recorder.select_notifications(notification_id, 1)[0]


def flip_one_byte(store: Store, notification_id: int) -> None:
    state = bytearray(stored_event(store, notification_id).state)
    state[len(state) // 2] ^= 0x01
    store.db.execute(f"UPDATE {events_table(store)} SET state=? WHERE {id_column(store)}=?",
                     [bytes(state), notification_id])


def insert_between(store: Store, notification_id: int) -> uuid.UUID:
    """Insert a forged event at ``notification_id``, moving the later rows up."""
    table, column = events_table(store), id_column(store)
    store.db.execute(f"UPDATE {table} SET {column} = {column} + 1000 WHERE {column} >= ?",
                     [notification_id])
    template = stored_event(store, 1)
    forged = uuid.uuid4()
    originator = forged.hex if store.db.backend == "sqlite" else forged
    store.db.execute(f"INSERT INTO {table} ({column}, originator_id, originator_version, "
                     "topic, state) VALUES (?, ?, 1, ?, ?)",
                     [notification_id, originator, template.topic, template.state])
    return forged


# -- digest and verify ----------------------------------------------------------------
def test_an_untouched_log_verifies_intact_and_the_digest_names_every_event(
        store: Store) -> None:
    load_deaths(store, 5)
    published = integrity.digest(store)
    result = audit.verify(store, published.text)
    assert published.position == 5 * EVENTS_PER_FILE
    assert published.text == f"aidledger:v1:10:{published.root_hex}"
    assert result.ok, result.reason
    assert (result.position, result.first_bad, result.unchained) == (10, None, 0)


def test_an_empty_store_has_the_digest_of_the_empty_log_and_verifies(store: Store) -> None:
    published = integrity.digest(store)
    assert published.text == f"aidledger:v1:0:{integrity.EMPTY_ROOT.hex()}"
    assert audit.verify(store, published.text).ok


def test_one_changed_byte_in_a_stored_event_is_found_and_named(store: Store) -> None:
    load_deaths(store, 4)
    integrity.digest(store)
    victim = stored_event(store, 5)
    flip_one_byte(store, 5)
    result = audit.verify(store)
    assert not result.ok
    assert result.first_bad == (f"notification 5: {victim.originator_id} "
                                f"v{victim.originator_version}")
    assert "no longer hashes" in result.reason


def test_a_deleted_event_is_found_and_the_missing_event_named(store: Store) -> None:
    load_deaths(store, 4)
    integrity.digest(store)
    victim = stored_event(store, 3)
    store.db.execute(f"DELETE FROM {events_table(store)} WHERE {id_column(store)}=3")
    result = audit.verify(store)
    assert not result.ok
    assert result.first_bad == f"notification 3: {victim.originator_id} v1"
    assert "deleted" in result.reason


def test_deleting_the_last_chained_event_is_found(store: Store) -> None:
    load_deaths(store, 3)
    integrity.digest(store)
    store.db.execute(f"DELETE FROM {events_table(store)} WHERE {id_column(store)}=6")
    result = audit.verify(store)
    assert not result.ok and result.first_bad is not None
    assert result.first_bad.startswith("notification 6:")


def test_an_event_inserted_into_the_chained_history_is_found_and_named(store: Store) -> None:
    load_deaths(store, 4)
    integrity.digest(store)
    forged = insert_between(store, 3)
    result = audit.verify(store)
    assert not result.ok
    assert result.first_bad == f"notification 3: {forged} v1"


def test_an_altered_chain_row_is_found_even_when_the_events_are_untouched(
        store: Store) -> None:
    load_deaths(store, 3)
    integrity.digest(store)
    store.db.execute("UPDATE rm_chain SET leaf=? WHERE position=2", ["00" * 32])
    result = audit.verify(store)
    assert not result.ok
    assert "rm_chain" in result.reason


def test_an_event_changed_right_after_its_load_is_found_without_any_digest(
        store: Store) -> None:
    load_deaths(store, 2)
    load_deaths(store, 1, first=10)  # the newest events: no digest was ever asked for
    victim = stored_event(store, 5)
    flip_one_byte(store, 5)
    result = audit.verify(store)
    assert not result.ok
    assert result.first_bad == f"notification 5: {victim.originator_id} v1"
    assert "no longer hashes" in result.reason


def test_every_write_extends_the_chain_so_no_event_is_ever_unchained(store: Store) -> None:
    load_deaths(store, 3)
    assert integrity.read_tip(store.db).size == 6
    load_deaths(store, 1, first=10)
    heads = store.db.query("SELECT position, notification_id FROM rm_chain ORDER BY position")
    assert [p for p, _ in heads] == [1, 2, 3, 4, 5, 6, 7, 8]
    result = audit.verify(store)
    assert result.ok and (result.position, result.unchained) == (8, 0)


def test_a_digest_taken_before_more_loading_still_verifies_against_the_longer_log(
        store: Store) -> None:
    load_deaths(store, 3)
    earlier = integrity.digest(store)
    load_deaths(store, 4, first=10)
    later = integrity.digest(store)
    assert later.position == earlier.position + 4 * EVENTS_PER_FILE
    assert audit.verify(store, earlier.text).ok
    assert audit.verify(store, later.text).ok


def rechain_from_scratch(store: Store) -> None:
    """What someone who can write the database can do: forget the chain and let the
    ledger's own upgrade path recompute it over the altered log."""
    for table in (*chain.CHAIN_TABLES, chain.META_TABLE):
        store.db.execute(f"DELETE FROM {table}")
    integrity.ensure_chained(store)


def test_an_earlier_digest_fails_once_an_event_it_covers_is_changed(store: Store) -> None:
    load_deaths(store, 3)
    earlier = integrity.digest(store)
    load_deaths(store, 2, first=10)
    # rewrite history and the chain consistently: only the published digest catches it
    flip_one_byte(store, 2)
    rechain_from_scratch(store)
    assert audit.verify(store, read_models=False).ok
    result = audit.verify(store, earlier.text)
    assert not result.ok
    assert earlier.text in result.reason


def test_a_digest_from_a_different_log_fails(store: Store, tmp_path: Path) -> None:
    load_deaths(store, 3)
    with Store(f"sqlite:///{tmp_path / 'other.db'}") as other:
        load_deaths(other, 3, salt="other")
        foreign = integrity.digest(other)
    assert foreign.position == integrity.digest(store).position
    result = audit.verify(store, foreign.text)
    assert not result.ok
    assert "do not match the published digest" in result.reason


def test_a_digest_longer_than_the_log_fails(store: Store) -> None:
    load_deaths(store, 2)
    published = integrity.digest(store)
    longer = integrity.Digest(published.position + 1, published.root_hex).text
    result = audit.verify(store, longer)
    assert not result.ok
    assert "holds only 4" in result.reason


def test_a_malformed_digest_is_refused_with_a_clear_message(store: Store) -> None:
    with pytest.raises(DomainError, match="not a digest"):
        audit.verify(store, "aidledger:v1:3:nothex")


# -- command line -----------------------------------------------------------------------
def test_the_digest_command_prints_the_digest_as_its_last_line(
        store: Store, capsys: pytest.CaptureFixture[str]) -> None:
    load_deaths(store, 2)
    assert integrity_cli.digest(store) == 0
    last_line = capsys.readouterr().out.strip().splitlines()[-1]
    assert last_line == integrity.digest(store).text


def test_the_verify_command_exits_3_and_names_the_event_when_tampered(
        store: Store, capsys: pytest.CaptureFixture[str]) -> None:
    load_deaths(store, 2)
    integrity.digest(store)
    assert integrity_cli.verify(store, None) == 0
    flip_one_byte(store, 1)
    assert integrity_cli.verify(store, None) == 3
    out = capsys.readouterr().out
    assert "TAMPERED" in out and "first failing event: notification 1:" in out


# -- receipts --------------------------------------------------------------------------
def test_a_household_receipt_verifies_with_sha256_alone(store: Store, tmp_path: Path) -> None:
    load_deaths(store, 3)
    load_household(store, "H001", line_no=1)
    load_household(store, "H002", line_no=2)
    load_deaths(store, 2, first=10)
    published = integrity.digest(store)
    document = integrity.receipt(store, "H001", published.text)
    kinds = sorted(event["kind"] for event in document["events"])
    assert kinds == ["bank_return", "households", "payroll"]
    assert integrity.verify_receipt(json.loads(json.dumps(document)), published.text)
    path = tmp_path / "receipt.json"
    assert integrity_cli.receipt_cli(store, "H001", published.text, path) == 0
    assert integrity_cli.verify_receipt_cli(path, published.text) == 0


def test_a_receipt_against_an_earlier_digest_covers_only_the_events_it_includes(
        store: Store) -> None:
    load_household(store, "H001", line_no=1)
    earlier = integrity.digest(store)
    load_deaths(store, 3)
    store.ledger.record_file(
        kind="households", name="households_fix.csv", sha256=sha("households_fix"),
        rows=[{"household_id": "H001", "township": "城关镇", "village": "西门村",
               "head_name": "张三明", "head_id_number": "", "members": 4,
               "bank_account": "6217000000000000001", "account_holder": "张三明",
               "disclosure_exempt": False}],
        row_numbers=[2], actor="t")
    later = integrity.digest(store)
    assert len(integrity.receipt(store, "H001", earlier.text)["events"]) == 3
    document = integrity.receipt(store, "H001", later.text)
    assert len(document["events"]) == 4
    assert integrity.verify_receipt(document, later.text)
    assert not integrity.verify_receipt(document, earlier.text)


def test_a_tampered_receipt_fails(store: Store, tmp_path: Path) -> None:
    load_household(store, "H001", line_no=1)
    load_deaths(store, 3)
    published = integrity.digest(store)
    document = integrity.receipt(store, "H001", published.text)
    forged_state = json.loads(json.dumps(document))
    payroll = next(e for e in forged_state["events"] if e["kind"] == "payroll")
    state = base64.b64decode(payroll["state"]).replace(b"700.00", b"900.00")
    payroll["state"] = base64.b64encode(state).decode()
    forged_path = json.loads(json.dumps(document))
    forged_path["events"][0]["audit_path"][0] = "00" * 32
    assert integrity.verify_receipt(document, published.text)
    assert not integrity.verify_receipt(forged_state, published.text)
    assert not integrity.verify_receipt(forged_path, published.text)
    assert not integrity.verify_receipt({"events": []}, published.text)
    path = tmp_path / "forged.json"
    path.write_text(json.dumps(forged_state), encoding="utf-8")
    assert integrity_cli.verify_receipt_cli(path, published.text) == 3


def test_a_receipt_for_an_unknown_household_is_refused(store: Store) -> None:
    load_household(store, "H001", line_no=1)
    published = integrity.digest(store)
    with pytest.raises(DomainError, match="no events of household 'H999'"):
        integrity.receipt(store, "H999", published.text)


def test_writers_appending_at_the_same_time_leave_one_intact_chain(
        store: Store, store_url: str) -> None:
    import threading

    others = [Store(store_url) for _ in range(3)]
    errors: list[BaseException] = []

    def write(other: Store, n: int) -> None:
        rows = [{"id_number": f"43062119800{n}01{k:04d}", "name": f"逝者{n}-{k}",
                 "date_of_death": "2025-01-01"} for k in range(300)]
        try:
            other.ledger.record_file(kind="deaths", name=f"deaths_{n}.csv",
                                     sha256=sha(f"concurrent_{n}"), rows=rows,
                                     row_numbers=list(range(2, 302)), actor="t")
        except BaseException as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)

    threads = [threading.Thread(target=write, args=(s, n)) for n, s in enumerate(others)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for other in others:
        other.close()
    assert errors == []
    assert integrity.digest(store).position == 3 * 301
    assert audit.verify(store, read_models=False).ok


def test_a_garbled_chain_row_is_reported_as_tampering_not_a_crash(store: Store) -> None:
    load_deaths(store, 2)
    integrity.digest(store)
    store.db.execute("UPDATE rm_chain SET head=? WHERE position=1", ["not hex"])
    result = audit.verify(store)
    assert not result.ok
    assert "altered" in result.reason

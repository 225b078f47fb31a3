"""The fast paths give exactly what the slow paths gave: ``record_file`` writes the stored
events ``save`` writes, the projection's direct JSON decoding gives the rows the mapper
gives, and prefetching per page gives the rows event-by-event processing gives.
(Speed itself is measured in benchmarks/, never in a timed test.)"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from api import loader
from api.files import parse_file
from api.loader import load_directory
from api.wiring import Store
from domain.ledger import RECORDED_TOPIC
from domain.records import Record
from projections import audit, facts
from tests.integration.test_ledger_core import write_county

PAYROLL_CORRECTED = (
    "批次号,序号,救助类别,发放年月,乡镇(街道),户编号,收款人,收款人身份证号,银行账号,金额\n"
    "B1,1,低保,2025-01,城关镇,H001,张三明,430621198001011234,6217000000000000001,710.00\n"
    "B1,3,dibao,2025-01,新市镇,H003,王小红,430621199002022345,6217000000000000003,300.00\n"
)
BANK_CORRECTED = """批次号,序号,户名,账号,金额,状态,失败原因,入账日期
B1,2,李四,6217000000000000002,500.00,成功,,2025-01-25
B1,4,王小红,6217000000000000003,125.00,成功,,2025-01-26
B1,9,无名,6217000000000000009,80.00,成功,,2025-01-26
"""


def load_with_corrections(store: Store, tmp_path: Path) -> None:
    """Two folders: the second corrects a payroll line, pays a failed line, adds a line
    twice in one file (recorded then corrected) and a bank line no payroll explains."""
    load_directory(store, write_county(tmp_path / "january"))
    later = tmp_path / "corrections"
    later.mkdir()
    (later / "payroll_2025-01.csv").write_text(PAYROLL_CORRECTED, encoding="utf-8")
    (later / "bank_return_2025-01.csv").write_text(BANK_CORRECTED, encoding="utf-8")
    load_directory(store, later)
    line = parse_file(later / "payroll_2025-01.csv").rows[0]
    twice = [{**line, "line_no": "4", "household_id": "H003", "amount": Decimal(amount)}
             for amount in ("120.00", "125.00")]
    store.ledger.record_file(kind="payroll", name="payroll_extra.csv", sha256="e" * 64,
                             rows=twice, row_numbers=[2, 3], actor="clerk")
    facts.catch_up(store.ledger, store.db)


def stored_without_timestamp(state: bytes) -> dict[str, Any]:
    decoded = json.loads(state)
    decoded.pop("timestamp")
    return decoded


def test_record_file_writes_the_stored_events_that_save_writes(store: Store,
                                                              tmp_path: Path) -> None:
    load_directory(store, write_county(tmp_path / "county"))
    written = store.ledger.recorder.select_notifications(1, 100, topics=[RECORDED_TOPIC])
    assert len(written) == 12
    for stored in written:
        record = store.ledger.repository.get(stored.originator_id)
        reference = Record(kind=record.kind, key=record.key, fields=dict(record.fields),
                           actor=record.actor, business_date=record.business_date,
                           source=record.source)
        expected = store.ledger.mapper.to_stored_event(reference.collect_events()[0])
        assert (stored.originator_id, stored.originator_version, stored.topic) \
            == (expected.originator_id, expected.originator_version, expected.topic)
        assert stored_without_timestamp(stored.state) \
            == stored_without_timestamp(expected.state)
        assert list(json.loads(stored.state)) == list(json.loads(expected.state))


def test_a_file_naming_a_key_twice_records_it_then_corrects_it(store: Store,
                                                              tmp_path: Path) -> None:
    load_with_corrections(store, tmp_path)
    line = store.ledger.get_record("payroll", "B1|4")
    assert (line.version, str(line.fields["amount"])) == (2, "125.00")
    assert line.source == "payroll_extra.csv#3"


def test_direct_decoding_gives_the_rows_the_mapper_gives(store: Store,
                                                         tmp_path: Path) -> None:
    load_with_corrections(store, tmp_path)
    page = [facts.row_of(n) for n in store.ledger.recorder.select_notifications(1, 1000)]
    direct = facts.decode_page(store.ledger, page)
    by_mapper = [facts.decode_with_mapper(store.ledger, row) for row in page
                 if row[3] in facts.RECORD_TOPICS]
    assert len(direct) == len(by_mapper) > 10
    assert direct == by_mapper


def read_models(store: Store) -> tuple[list[Any], list[Any]]:
    return (store.db.query("SELECT * FROM rm_facts ORDER BY notification_id"),
            store.db.query("SELECT * FROM rm_postings ORDER BY notification_id, seq"))


def test_prefetching_per_page_gives_the_rows_of_one_event_per_page(store: Store,
                                                                   tmp_path: Path) -> None:
    load_with_corrections(store, tmp_path)
    facts.drop(store.db)
    while facts.catch_up(store.ledger, store.db, limit=1):
        pass
    one_by_one = read_models(store)
    facts.drop(store.db)
    facts.catch_up(store.ledger, store.db)
    assert read_models(store) == one_by_one
    assert len(one_by_one[1]) > 0 and facts.trial_balance(store.db) == 0


def test_a_corrected_bank_line_reverses_what_it_posted_across_pages(store: Store,
                                                                    tmp_path: Path) -> None:
    load_with_corrections(store, tmp_path)
    balances = facts.account_balances(store.db)
    assert balances["household:H002:dibao"] == 50000  # failed, then paid by the correction
    assert balances["household:H003:dibao"] == 30000 + 12500
    assert balances["suspense:bank-unmatched"] == 8000


def test_a_projector_overtaken_mid_run_drops_its_stale_pages(
        store: Store, store_url: str, tmp_path: Path, monkeypatch: Any) -> None:
    """While one projector's page is written, another projects the rest of the log: the
    first one's next page (projected on state it carried over) must not be written."""
    load_with_corrections(store, tmp_path)
    reference = read_models(store)
    facts.drop(store.db)
    monkeypatch.setattr(facts, "PAGE_SIZE_MAX", 3)
    other = Store(store_url)
    overtaken: list[int] = []

    def overtake(_: int) -> None:
        if not overtaken:
            overtaken.append(facts.catch_up(other.ledger, other.db))

    try:
        first = facts.catch_up(store.ledger, store.db, progress=overtake)
    finally:
        other.close()
    logged = len(store.ledger.recorder.select_notifications(1, 10_000))
    # the first projector wrote its first page only: what it projected next was stale
    assert (first, overtaken[0]) == (3, logged - 3)
    assert read_models(store) == reference
    assert facts.trial_balance(store.db) == 0


def test_a_file_recorded_one_row_per_chunk_gives_the_same_books(
        store: Store, tmp_path: Path, monkeypatch: Any) -> None:
    """record_file turns a file into events chunk by chunk; a key repeated across chunks
    (recorded in one, corrected in a later one) keeps its aggregate between them."""
    import domain.ledger

    with Store(f"sqlite:///{tmp_path / 'whole.db'}") as whole_store:
        load_with_corrections(whole_store, tmp_path / "whole")
        whole = [row[1:3] + row[6:7] for row in read_models(whole_store)[0]]
    monkeypatch.setattr(domain.ledger, "RECORD_CHUNK_ROWS", 1)
    load_with_corrections(store, tmp_path / "chunked")
    line = store.ledger.get_record("payroll", "B1|4")
    assert (line.version, str(line.fields["amount"])) == (2, "125.00")
    assert [row[1:3] + row[6:7] for row in read_models(store)[0]] == whole
    assert facts.trial_balance(store.db) == 0


def test_files_projected_inline_give_the_rows_catch_up_gives_from_the_log(
        store: Store, tmp_path: Path) -> None:
    """A load projects each file from the events it just wrote (no read back, no
    decoding): the read models are row for row what a rebuild from the log writes,
    corrections, a key twice in one file and a bank line without payroll included."""
    load_with_corrections(store, tmp_path)
    assert facts.catch_up(store.ledger, store.db) == 0  # the loads left nothing behind
    inline = read_models(store)
    facts.drop(store.db)
    facts.catch_up(store.ledger, store.db)
    assert read_models(store) == inline
    assert audit.verify(store).ok


def county_with_a_small_file(directory: Path) -> Path:
    """The county of test_ledger_core (files of 3 rows) and a February payroll of 1 row."""
    write_county(directory)
    header, first = (directory / "payroll_2025-01.csv").read_text(
        encoding="utf-8").splitlines()[:2]
    (directory / "payroll_2025-02.csv").write_text(
        f"{header}\n{first.replace('2025-01', '2025-02').replace('B1', 'B2')}\n",
        encoding="utf-8")
    return directory


def test_a_file_above_the_inline_ceiling_is_read_back_and_the_next_ones_still_inline(
        store: Store, tmp_path: Path, monkeypatch: Any) -> None:
    with Store(f"sqlite:///{tmp_path / 'reference.db'}") as reference:
        load_directory(reference, county_with_a_small_file(tmp_path / "reference"))
        expected = [row[1:3] + row[4:] for row in read_models(reference)[0]]
    projected: list[int] = []
    appended = facts.project_appended

    def counting(*args: Any) -> int:
        projected.append(appended(*args))
        return projected[-1]

    monkeypatch.setattr(loader, "INLINE_ROWS_MAX", 2)
    monkeypatch.setattr(facts, "project_appended", counting)
    report = load_directory(store, county_with_a_small_file(tmp_path / "county"))
    big = [o for o in report.outcomes if o.rows > 2]
    small = [i for i, o in enumerate(report.outcomes) if o.rows <= 2]
    assert big and small and small[0] > report.outcomes.index(big[0])  # after a big one
    assert len(projected) == len(report.outcomes) - len(big)
    if store.db.backend == "sqlite":  # in turn: every small file, also after a big one,
        assert all(projected)         # inline (PostgreSQL: the catch-up after the big
    # file runs while the next one is recorded and may take its events first)
    assert report.projected_events == report.events
    assert [row[1:3] + row[4:] for row in read_models(store)[0]] == expected  # not the moment
    assert audit.verify(store).ok


def test_events_of_another_writer_in_between_leave_the_file_to_catch_up(
        store: Store, tmp_path: Path) -> None:
    """The read models must stand just before a file's events for them to be projected
    from memory: a row recorded through the API in between (not projected yet) makes
    ``project_appended`` decline, and catch-up projects both from the log."""
    load_directory(store, write_county(tmp_path / "county"))
    held: list[tuple[Any, Any]] = []
    line = parse_file(write_county(tmp_path / "again") / "payroll_2025-01.csv").rows[0]
    store.ledger.record_row("payroll", {**line, "line_no": "77"}, actor="clerk", source="api")
    store.ledger.record_file(kind="payroll", name="extra.csv", sha256="f" * 64,
                             rows=[{**line, "line_no": "78"}], row_numbers=[2], actor="clerk",
                             on_appended=lambda ids, events: held.append((ids, events)))
    [(ids, events)] = held
    assert facts.project_appended(store.ledger, store.db, ids, events) == 0
    assert facts.catch_up(store.ledger, store.db) == len(ids) + 1
    assert facts.project_appended(store.ledger, store.db, ids, events) == 0  # done already
    keys = [row[2] for row in read_models(store)[0]]
    assert {"B1|77", "B1|78"} <= set(keys)
    assert audit.verify(store).ok

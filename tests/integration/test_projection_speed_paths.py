"""The fast paths give exactly what the slow paths gave: ``record_file`` writes the stored
events ``save`` writes, the projection's direct JSON decoding gives the rows the mapper
gives, and prefetching per page gives the rows event-by-event processing gives.
(Speed itself is measured in benchmarks/, never in a timed test.)"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from api.files import parse_file
from api.loader import load_directory
from api.wiring import Store
from domain.ledger import RECORDED_TOPIC
from domain.records import Record
from projections import facts
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

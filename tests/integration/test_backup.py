"""Export and import of the event log, across SQLite and PostgreSQL, keeping the digest."""

from __future__ import annotations

import gzip
import hashlib
import json
from pathlib import Path

import pytest

from api.backup import export_log, import_log
from api.wiring import Store
from domain.errors import DomainError
from projections import audit, facts, integrity


def load_deaths(store: Store, files: int, first: int = 0) -> None:
    for n in range(first, first + files):
        name = f"deaths_{n}.csv"
        store.ledger.record_file(
            kind="deaths", name=name, sha256=hashlib.sha256(name.encode()).hexdigest(),
            rows=[{"id_number": f"43062119800101{n:04d}", "name": f"逝者{n}",
                   "date_of_death": "2025-01-01"}],
            row_numbers=[2], actor="t")
    facts.catch_up(store.ledger, store.db)


def event_count(store: Store) -> int:
    return store.ledger.recorder.max_notification_id() or 0


def all_events(store: Store) -> list[tuple]:
    return [(str(n.originator_id), n.originator_version, n.topic, n.state)
            for n in integrity.iter_log(store)]


@pytest.mark.parametrize("file_name", ["log.jsonl", "log.jsonl.gz"])
def test_an_export_imported_into_an_empty_store_gives_the_same_digest(
        store: Store, tmp_path: Path, file_name: str) -> None:
    load_deaths(store, 5)
    published = integrity.digest(store)
    path = tmp_path / file_name
    assert export_log(store, path) == 10
    with Store(f"sqlite:///{tmp_path / 'restored.db'}") as restored:
        assert import_log(restored, path) == 10
        assert all_events(restored) == all_events(store)
        assert integrity.digest(restored) == published
        assert audit.verify(restored, published.text).ok


def test_a_sqlite_log_moves_to_postgresql_and_back_with_the_same_digest(
        tmp_path: Path, pg_url: str) -> None:
    with Store(f"sqlite:///{tmp_path / 'first.db'}") as first:
        load_deaths(first, 4)
        published = integrity.digest(first)
        export_log(first, tmp_path / "first.jsonl.gz")
    with Store(pg_url) as middle:
        assert import_log(middle, tmp_path / "first.jsonl.gz") == 8
        assert integrity.digest(middle) == published
        facts.catch_up(middle.ledger, middle.db)  # the restored log projects like the original
        assert facts.trial_balance(middle.db) == 0
        export_log(middle, tmp_path / "middle.jsonl")
    with Store(f"sqlite:///{tmp_path / 'last.db'}") as last:
        import_log(last, tmp_path / "middle.jsonl")
        assert integrity.digest(last) == published


def test_the_export_file_has_a_header_one_line_per_event_and_an_end_line(
        store: Store, tmp_path: Path) -> None:
    load_deaths(store, 2)
    path = tmp_path / "log.jsonl.gz"
    export_log(store, path)
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        lines = [json.loads(line) for line in handle]
    assert lines[0]["format"] == "aidledger-export" and lines[0]["version"] == 1
    assert [line["id"] for line in lines[1:-1]] == [1, 2, 3, 4]
    assert set(lines[1]) == {"id", "originator_id", "originator_version", "topic", "state"}
    assert lines[-1] == {"end": True, "events": 4}
    assert not (tmp_path / "log.jsonl.gz.part").exists()


def test_import_into_a_store_with_events_is_refused_and_changes_nothing(
        store: Store, tmp_path: Path) -> None:
    load_deaths(store, 2)
    path = tmp_path / "log.jsonl"
    export_log(store, path)
    with pytest.raises(DomainError, match="empty store"):
        import_log(store, path)
    assert event_count(store) == 4


def test_a_bad_line_is_refused_naming_its_line_and_nothing_is_imported(
        store: Store, tmp_path: Path) -> None:
    with Store(f"sqlite:///{tmp_path / 'source.db'}") as source:
        load_deaths(source, 3)
        export_log(source, tmp_path / "log.jsonl")
    lines = (tmp_path / "log.jsonl").read_text(encoding="utf-8").splitlines()
    lines[4] = lines[4].replace('"state":"', '"state":"***')
    (tmp_path / "bad.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(DomainError, match="line 5: bad originator_id or state"):
        import_log(store, tmp_path / "bad.jsonl")
    assert event_count(store) == 0


def test_a_truncated_export_is_refused(store: Store, tmp_path: Path) -> None:
    with Store(f"sqlite:///{tmp_path / 'source.db'}") as source:
        load_deaths(source, 3)
        export_log(source, tmp_path / "log.jsonl")
    lines = (tmp_path / "log.jsonl").read_text(encoding="utf-8").splitlines()
    (tmp_path / "cut.jsonl").write_text("\n".join(lines[:4]) + "\n", encoding="utf-8")
    with pytest.raises(DomainError, match="line 5: the end line is missing"):
        import_log(store, tmp_path / "cut.jsonl")
    assert event_count(store) == 0


def test_events_out_of_order_are_refused(store: Store, tmp_path: Path) -> None:
    with Store(f"sqlite:///{tmp_path / 'source.db'}") as source:
        load_deaths(source, 2)
        export_log(source, tmp_path / "log.jsonl")
    lines = (tmp_path / "log.jsonl").read_text(encoding="utf-8").splitlines()
    lines[2], lines[3] = lines[3], lines[2]
    (tmp_path / "swapped.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(DomainError, match="line 4: id 2 does not follow 3"):
        import_log(store, tmp_path / "swapped.jsonl")


def test_a_database_failure_half_way_undoes_the_pages_already_imported(
        store: Store, tmp_path: Path) -> None:
    """A duplicate event (same aggregate and version) fails in the second page."""
    with Store(f"sqlite:///{tmp_path / 'source.db'}") as source:
        load_deaths(source, 3)
        export_log(source, tmp_path / "log.jsonl")
        published = integrity.digest(source)
    lines = (tmp_path / "log.jsonl").read_text(encoding="utf-8").splitlines()
    duplicate = json.loads(lines[1])
    duplicate["id"] = 7
    lines[-1:] = [json.dumps(duplicate), json.dumps({"end": True, "events": 7})]
    (tmp_path / "dup.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(DomainError, match="failed and was undone"):
        import_log(store, tmp_path / "dup.jsonl", page_size=4)  # the 2nd page fails
    assert all_events(store) == []
    assert import_log(store, tmp_path / "log.jsonl", page_size=4) == 6  # a clean retry
    assert integrity.digest(store) == published  # also where PostgreSQL skipped ids

"""A folder too large to hold is checked whole, then parsed again file by file to be
recorded: the store ends up exactly as a folder parsed once leaves it, and a file that
changes between the check and its recording is refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from api import loader
from api.sample_county import generate_county
from api.wiring import Store
from domain.errors import RejectedFile


def facts_of(store: Store) -> list[tuple[str, str, str, str]]:
    return store.db.query("SELECT kind, key, fields, evidence_row FROM rm_facts "
                          "ORDER BY notification_id")


def test_a_folder_parsed_twice_is_recorded_as_one_parsed_once(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    truth = generate_county(tmp_path / "county", seed=9, households=120, months=3)
    with Store(f"sqlite:///{tmp_path / 'once.db'}") as once:
        loader.load_directory(once, truth.directory)
        expected = facts_of(once)
    monkeypatch.setattr(loader, "HOLD_ROWS_MAX", 0)
    parsed_again: list[str] = []
    parse_again = loader._parse_again

    def counting(check: loader.FileCheck) -> object:
        parsed_again.append(check.name)
        return parse_again(check)

    monkeypatch.setattr(loader, "_parse_again", counting)
    with Store(f"sqlite:///{tmp_path / 'twice.db'}") as twice:
        report = loader.load_directory(twice, truth.directory)
        assert facts_of(twice) == expected
    assert len(parsed_again) == len(report.outcomes) > 3


def test_a_file_changed_between_check_and_recording_is_refused(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    truth = generate_county(tmp_path / "county", seed=9, households=120, months=3)
    monkeypatch.setattr(loader, "HOLD_ROWS_MAX", 0)
    parse_again = loader._parse_again

    def edited_meanwhile(check: loader.FileCheck) -> object:
        if check.kind == "payroll":  # a clerk saves the payroll file again, one amount changed
            text = check.path.read_bytes()
            check.path.write_bytes(text.replace(b".00\r\n", b".50\r\n", 1)
                                   if b".00\r\n" in text else text.replace(b".00\n", b".50\n", 1))
        return parse_again(check)

    monkeypatch.setattr(loader, "_parse_again", edited_meanwhile)
    with Store(f"sqlite:///{tmp_path / 'c.db'}") as store, \
            pytest.raises(RejectedFile, match="changed while the folder was being loaded"):
        loader.load_directory(store, truth.directory)

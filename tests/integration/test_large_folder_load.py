"""A folder is parsed once: each file's table is what the folder is checked from and what
is recorded (no second parse, whatever the folder's size), and amounts are held to the
ceilings of the county's policy: the folder's policy.toml, else the stored one, else the
defaults."""

from __future__ import annotations

from pathlib import Path

import pytest

from api import loader
from api.files import isolate
from api.files.parse import Outcome
from api.sample_county import generate_county
from api.wiring import Store
from domain.amount_limits import DEFAULT_AMOUNT_YUAN_MAX
from domain.errors import RejectedFile

PAYROLL_HEADER = "批次号,序号,救助类别,发放年月,乡镇(街道),户编号,金额"


def facts_of(store: Store) -> list[tuple[str, str, str, str]]:
    return store.db.query("SELECT kind, key, fields, evidence_row FROM rm_facts "
                          "ORDER BY notification_id")


def test_every_file_of_a_folder_is_parsed_once_and_recorded_from_that_parse(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    truth = generate_county(tmp_path / "county", seed=9, households=120, months=3)
    parsed: list[str] = []
    finish = isolate.finish

    def counting(child: isolate.Child) -> Outcome:
        parsed.append(child.path.name)
        return finish(child)

    monkeypatch.setattr(isolate, "finish", counting)
    with Store(f"sqlite:///{tmp_path / 'once.db'}") as store:
        report = loader.load_directory(store, truth.directory)
        assert len(facts_of(store)) == sum(o.rows for o in report.outcomes)
    assert sorted(parsed) == sorted(o.name for o in report.outcomes)
    assert len(parsed) == len(set(parsed)) > 3


def test_a_file_edited_after_its_check_is_recorded_as_it_was_checked(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    truth = generate_county(tmp_path / "county", seed=9, households=120, months=3)
    with Store(f"sqlite:///{tmp_path / 'plain.db'}") as plain:
        loader.load_directory(plain, truth.directory)
        expected = facts_of(plain)
    finish = isolate.finish

    def edited_after_parse(child: isolate.Child) -> Outcome:
        result = finish(child)
        child.path.write_bytes(b"a clerk saved something else meanwhile")
        return result

    monkeypatch.setattr(isolate, "finish", edited_after_parse)
    with Store(f"sqlite:///{tmp_path / 'edited.db'}") as store:
        loader.load_directory(store, truth.directory)
        assert facts_of(store) == expected


def _folder(tmp_path: Path, amount: str, policy: str | None = None) -> Path:
    folder = tmp_path / "folder"
    folder.mkdir(exist_ok=True)
    (folder / "households.csv").write_text(
        "户编号,乡镇(街道),村(社区),户主姓名,家庭人口\nH1,城关镇,东村,张三,3\n", encoding="utf-8")
    (folder / "payroll_2025-03.csv").write_text(
        f"{PAYROLL_HEADER}\nB1,1,低保,2025-03,城关镇,H1,{amount}\n", encoding="utf-8")
    if policy is not None:
        (folder / "policy.toml").write_text(policy, encoding="utf-8")
    return folder


def test_a_payroll_line_above_the_default_ceiling_rejects_the_folder(tmp_path: Path) -> None:
    ceiling = DEFAULT_AMOUNT_YUAN_MAX["payroll"]
    with Store(f"sqlite:///{tmp_path / 'l.db'}") as store:
        with pytest.raises(RejectedFile) as rejected:
            loader.load_directory(store, _folder(tmp_path, f"{ceiling}.01"))
        assert (store.ledger.recorder.max_notification_id() or 0) == 0
    assert rejected.value.problems == [
        f"payroll_2025-03.csv row 2, column 金额: amount above the payroll ceiling of "
        f"{ceiling}.00 yuan ([limits] payroll in policy.toml): '{ceiling}.01'"]


def test_the_folders_policy_sets_the_ceiling_and_a_stored_policy_keeps_it(tmp_path: Path) -> None:
    with Store(f"sqlite:///{tmp_path / 'l.db'}") as store:
        loader.load_directory(store, _folder(tmp_path, "900", "[limits]\npayroll = 1000\n"))
        (tmp_path / "folder" / "policy.toml").unlink()
        (tmp_path / "folder" / "payroll_2025-03.csv").write_text(
            f"{PAYROLL_HEADER}\nB1,2,低保,2025-03,城关镇,H1,1000.01\n", encoding="utf-8")
        with pytest.raises(RejectedFile) as rejected:
            loader.load_directory(store, tmp_path / "folder")
    assert "ceiling of 1000.00 yuan" in rejected.value.problems[0]


def test_an_unknown_kind_in_the_limits_table_is_a_policy_error(tmp_path: Path) -> None:
    folder = _folder(tmp_path, "300", "[limits]\npayrol = 1000\n")
    with Store(f"sqlite:///{tmp_path / 'l.db'}") as store, \
            pytest.raises(RejectedFile) as rejected:
        loader.load_directory(store, folder)
    assert "[limits] payrol: unknown key" in rejected.value.problems[0]

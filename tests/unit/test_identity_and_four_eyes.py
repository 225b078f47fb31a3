"""Identities and four eyes without a store: names, the approval amounts and levels, the
[approvals] policy table, and D01 deciding by user id where the ledger recorded ids."""

from __future__ import annotations

from pathlib import Path

import pytest

from domain.approvals import (
    ApprovalLimits,
    approval_limits,
    check_authority,
    four_eyes_changes,
    needs_second_person,
)
from domain.errors import DomainError, Forbidden
from domain.names import clean_name, hidden_characters, look_alike_key
from domain.users import Actor, same_person, user_id
from reconciliation.common import frames_from_rows
from reconciliation.policy import PolicyError, load_policy
from reconciliation.rules import d01

LIMITS = ApprovalLimits(reserve_fen=100_000, township_fen=100_000, county_fen=2_000_000)
COUNTY = Actor(name="审批人", user_id=user_id("审批人"))
TOWNSHIP = Actor(name="镇审批", user_id=user_id("镇审批"), township="城关镇")


# --- names -------------------------------------------------------------------------------
@pytest.mark.parametrize("hidden", [
    "\u200b", "\u200c", "\u200d", "\u200e", "\u200f", "\u202a", "\u202e", "\u2066",
    "\u2069", "\ufeff", "\u00ad", "\u2028", "\u2029", "\x07", "\u3164", "\ufe0f", "\u00a0",
    "\u3000", "\U000e0041",
])
def test_a_name_holding_a_character_that_shows_nothing_is_refused_naming_it(
        hidden: str) -> None:
    with pytest.raises(DomainError, match=f"U\\+{ord(hidden):04X}"):
        clean_name(f"clerk{hidden}1", "user name", 64)


def test_a_name_is_nfc_and_stripped_and_keeps_its_full_width_forms() -> None:
    assert clean_name(" Jose\u0301 ", "user name", 64) == "Jos\u00e9"
    assert clean_name("城关镇", "township", 100) == "城关镇"
    assert clean_name("ｃｌｅｒｋ１", "user name", 64) == "ｃｌｅｒｋ１"  # NFC, not NFKC
    assert clean_name("张 三", "user name", 64) == "张 三"
    assert hidden_characters("张三") == []


def test_names_that_read_alike_share_a_look_alike_key() -> None:
    assert look_alike_key("ｃｌｅｒｋ１") == look_alike_key("Clerk1") == look_alike_key("clerk1")
    assert look_alike_key("clerk1") != look_alike_key("clerk2")


def test_maker_and_checker_are_compared_by_user_id() -> None:
    clerk1 = Actor("clerk1", user_id("clerk1"))
    assert same_person(user_id("clerk1"), "display text ignored", clerk1)
    assert not same_person(user_id("clerk1"), "clerk1", Actor("clerk2", user_id("clerk2")))
    # a request recorded before ids were kept: its name maps to the id
    assert same_person("", "clerk1", Actor("clerk1", user_id("clerk1")))


# --- amounts and levels ------------------------------------------------------------------
def test_a_reserve_movement_above_the_policy_amount_needs_a_second_person() -> None:
    assert not needs_second_person({"amount": "1000.00"}, LIMITS)
    assert needs_second_person({"amount": "1000.01"}, LIMITS)
    assert needs_second_person({"amount": "999999999999.99"}, LIMITS)
    assert not needs_second_person({"amount": None}, LIMITS)  # a settlement in full


def test_an_approver_signs_a_disbursement_only_within_their_levels_limit() -> None:
    check_authority("disbursement", 100_000, TOWNSHIP, LIMITS, "D1")
    with pytest.raises(Forbidden, match="township approval limit of 1000.00 yuan"):
        check_authority("disbursement", 150_000, TOWNSHIP, LIMITS, "D1")
    check_authority("disbursement", 2_000_000, COUNTY, LIMITS, "D1")
    with pytest.raises(Forbidden, match="county approval limit of 20000.00 yuan"):
        check_authority("disbursement", 2_000_001, COUNTY, LIMITS, "D1")


@pytest.mark.parametrize("record_type", ["advance", "settlement", "replenishment"])
def test_county_money_in_or_out_of_a_reserve_is_approved_at_county_level_only(
        record_type: str) -> None:
    check_authority(record_type, 10**14, COUNTY, LIMITS, "R1")
    with pytest.raises(Forbidden, match="county-wide approver"):
        check_authority(record_type, 200_000, TOWNSHIP, LIMITS, "R1")


def test_only_a_new_bank_account_or_account_holder_waits_for_four_eyes() -> None:
    before = {"members": 3, "bank_account": "6217", "account_holder": "张三"}
    assert four_eyes_changes("households", before, {**before, "members": 4}) == []
    assert four_eyes_changes("households", before, {**before, "bank_account": "6228"}) == [
        "bank_account"]
    assert four_eyes_changes("households", before, {**before, "account_holder": "李四"}) == [
        "account_holder"]


# --- policy ------------------------------------------------------------------------------
def policy_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "policy.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_reserve_limit_follows_r02s_township_limit_unless_the_policy_sets_it(
        tmp_path: Path) -> None:
    default = load_policy(policy_file(tmp_path, "[R02]\ntownship_limit = 800\n"))
    assert "approvals" not in default
    assert approval_limits({}, township_fen=80_000, county_fen=2_000_000).reserve_fen == 80_000
    own = load_policy(policy_file(tmp_path, "[approvals]\nreserve_limit = 50000.50\n"))
    limits = approval_limits(own["approvals"], township_fen=100_000, county_fen=2_000_000)
    assert (limits.reserve_fen, limits.township_fen) == (5_000_050, 100_000)


@pytest.mark.parametrize("text, message", [
    ("[approvals]\nreserve_limt = 5000\n", r"\[approvals\] reserve_limt: unknown key"),
    ("[approvals]\nreserve_limit = \"5000\"\n", r"\[approvals\] reserve_limit: expected"),
    ("[approvals]\nreserve_limit = 5000.001\n", "at most 2 decimals"),
    ("approvals = 3\n", r"\[approvals\]: expected a table"),
])
def test_a_bad_approvals_table_is_an_error_naming_file_table_and_key(
        tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(PolicyError, match=message):
        load_policy(policy_file(tmp_path, text))


# --- D01 ---------------------------------------------------------------------------------
def disbursement(record_id: str, approver: str, recorded_by: str) -> dict:
    return {"record_type": "disbursement", "record_id": record_id, "date": "2025-03-01",
            "amount_fen": 30_000, "township": "城关镇", "approver": approver,
            "recorded_by": recorded_by, "evidence_event": f"ev-{record_id}",
            "evidence_row": ""}


def test_d01_compares_user_ids_where_the_ledger_recorded_both_and_names_elsewhere() -> None:
    frames = frames_from_rows(reserve=[
        disbursement("ID-SAME", "clerk1", "clerk1\u200c"),  # two texts, one person
        disbursement("ID-OTHER", "王五", "王五"),  # one text, two people (ids differ)
        disbursement("NAMES", "王五", "王五"),  # a loaded file: names only
    ])
    frames.reserve = frames.reserve.assign(
        recorded_by_id=[user_id("clerk1"), user_id("甲"), ""],
        approver_id=[user_id("clerk1"), user_id("乙"), ""])
    found = d01.check(frames, {}, "2025-06-30")
    assert sorted(found["subject_id"]) == ["ID-SAME", "NAMES"]


def test_d01_on_adjustments_uses_ids_when_both_are_there() -> None:
    row = {"amount_fen": 100, "date": "2025-02-02", "reason": "", "evidence_event": "e",
           "evidence_row": "", "recorded_at": ""}
    frames = frames_from_rows(adjustments=[
        {**row, "adjustment_id": "A1", "recorded_by": "甲", "approver": "甲\u200b",
         "recorded_by_id": "u1", "approver_id": "u1"},
        {**row, "adjustment_id": "A2", "recorded_by": "乙", "approver": "乙",
         "recorded_by_id": "u2", "approver_id": "u3"},
    ])
    assert list(d01.check(frames, {}, "2025-06-30")["subject_id"]) == ["A1"]

"""One identity per person, no money moved alone: replayed over HTTP and the command line.

The attack review's cases: a user name with a zero-width character approving the real
user's request, a clerk changing a household's bank account alone, a clerk recording a
reserve advance of 999,999,999,999.99 alone, and a disbursement approved through the API
that reconcile then flagged R02 because no approval level was recorded.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from api.cli import main
from api.reconcile import reconcile_store
from projections import facts
from tests.e2e.conftest import TOWNSHIP_A, TOWNSHIP_B, Api

H001 = {"township": TOWNSHIP_A, "village": "东门村", "head_name": "张三明",
        "head_id_number": "430621198001011234", "members": 3,
        "bank_account": "6217000000000000001", "account_holder": "张三明"}
NEW_ACCOUNT = "6228480000000000777"
HUGE = "999999999999.99"


def add_user(api: Api, name: str, role: str, township: str | None = None) -> None:
    created = api.post("/users", "admin", {"name": name, "role": role, "township": township})
    assert created.status_code == 201, created.text
    api.tokens[name] = created.json()["token"]


def statement_account(api: Api) -> str:
    return str(api.get("/households/H001", "finance").json()["household"]["bank_account"])


def reserve(api: Api, record_type: str, record_id: str, amount: str, **extra: Any) -> Any:
    return api.post("/reserve", "clerk_a", {
        "record_type": record_type, "record_id": record_id, "township": TOWNSHIP_A,
        "amount": amount, "date": "2025-04-01", **extra})


def reserve_accounts(api: Api) -> dict[str, int]:
    facts.catch_up(api.store.ledger, api.store.db)
    return {a: v for a, v in facts.account_balances(api.store.db).items() if "reserve" in a}


# --- identities --------------------------------------------------------------------------
def test_a_look_alike_of_an_approver_cannot_be_added_so_cannot_approve_their_request(
        api: Api, capsys: pytest.CaptureFixture[str]) -> None:
    api.post("/adjustments", "approver", {
        "adjustment_id": "ADJ-Z", "account_from": "a", "account_to": "b", "amount": "5.00",
        "reason": "测试", "business_date": "2025-04-01"})
    zero_width = api.post("/users", "admin", {"name": "approver\u200c", "role": "approver"})
    assert zero_width.status_code == 422 and "U+200C" in zero_width.json()["detail"]
    full_width = api.post("/users", "admin", {"name": "ａｐｐｒｏｖｅｒ", "role": "approver"})
    assert full_width.status_code == 409 and "looks like" in full_width.json()["detail"]
    url = api.store.config.url
    assert main(["--db", url, "user", "add", "approver\u200c", "--role", "approver"]) == 1
    assert "U+200C ZERO WIDTH NON-JOINER" in capsys.readouterr().err
    assert main(["--db", url, "user", "add", "Approver", "--role", "approver"]) == 1
    names = [u["name"] for u in api.get("/users", "admin").json()["items"]]
    assert not any(n.casefold().startswith("approver") and n not in ("approver", "approver2")
                   for n in names)
    assert api.get("/adjustments/ADJ-Z", "finance").json()["status"] == "pending"


def test_a_township_with_a_bidi_control_is_refused(api: Api) -> None:
    refused = api.post("/households", "finance", {
        **H001, "household_id": "H700", "township": "城关\u202e镇"})
    assert refused.status_code == 422 and "U+202E" in refused.json()["detail"]
    village = api.post("/households", "clerk_a", {
        **H001, "household_id": "H701", "village": "东门\u200b村"})
    assert village.status_code == 422


def test_user_add_of_an_existing_name_exits_1_and_leaves_the_user_as_they_were(
        api: Api, capsys: pytest.CaptureFixture[str]) -> None:
    url = api.store.config.url
    assert main(["--db", url, "user", "add", "clerk_b", "--role", "clerk"]) == 1
    assert "exists already" in capsys.readouterr().err
    again = api.post("/users", "admin", {"name": "clerk_b", "role": "clerk"})
    assert again.status_code == 409
    me = api.get("/me", "clerk_b").json()
    assert (me["township"], me["live_tokens"]) == (TOWNSHIP_B, 1)
    assert api.get("/households/H001", "clerk_b").status_code == 404


def test_user_set_changes_role_or_township_and_revokes_every_token(
        api: Api, capsys: pytest.CaptureFixture[str]) -> None:
    url = api.store.config.url
    old_token = api.tokens["clerk_b"]
    assert main(["--db", url, "user", "set", "clerk_b", "--role", "clerk",
                 "--township", TOWNSHIP_A]) == 0
    out = capsys.readouterr().out
    assert "1 tokens revoked" in out
    api.tokens["clerk_b"] = out.strip().splitlines()[-1]
    assert api.client.get("/me", headers={"Authorization": f"Bearer {old_token}"}
                          ).status_code == 401
    assert api.get("/me", "clerk_b").json()["township"] == TOWNSHIP_A
    over_http = api.client.put("/users/clerk_b", json={"role": "inspector"},
                               headers=api.headers("admin"))
    assert (over_http.status_code, over_http.json()["revoked"]) == (200, 1)
    assert api.get("/me", "clerk_b").status_code == 401
    assert main(["--db", url, "user", "token", "clerk_b"]) == 0
    token = capsys.readouterr().out.strip().splitlines()[-1]
    me = api.client.get("/me", headers={"Authorization": f"Bearer {token}"}).json()
    assert (me["role"], me["township"]) == ("inspector", None)


# --- where money goes ----------------------------------------------------------------------
def test_a_lone_bank_account_change_takes_effect_only_when_another_person_approves(
        api: Api) -> None:
    held = api.put("/households/H001", "clerk_a", {**H001, "bank_account": NEW_ACCOUNT})
    assert held.status_code == 202, held.text
    change = held.json()
    assert (change["status"], change["requested_by"]) == ("pending", "clerk_a")
    assert change["changes"] == [{"field": "bank_account", "before": "6217000000000000001",
                                  "after": NEW_ACCOUNT}]
    assert statement_account(api) == "6217000000000000001"
    history = api.get("/households/H001/history", "finance").json()["items"]
    assert all(NEW_ACCOUNT not in str(e["fields"]) for e in history)
    assert api.post(f"/changes/{change['change_id']}/approve", "clerk_a").status_code == 403
    approved = api.post(f"/changes/{change['change_id']}/approve", "approver")
    assert approved.json()["status"] == "approved"
    assert statement_account(api) == NEW_ACCOUNT
    latest = api.get("/households/H001/history", "finance").json()["items"][-1]
    assert latest["actor"] == "approver" and "requested by clerk_a" in latest["source"]


def test_the_maker_of_a_change_cannot_approve_it_after_becoming_an_approver(api: Api) -> None:
    held = api.put("/households/H001", "clerk_a", {**H001, "account_holder": "张小明"}).json()
    promoted = api.client.put("/users/clerk_a", json={"role": "approver", "township": TOWNSHIP_A},
                              headers=api.headers("admin")).json()
    api.tokens["clerk_a"] = promoted["token"]
    own = api.post(f"/changes/{held['change_id']}/approve", "clerk_a")
    assert own.status_code == 403 and "different person" in own.json()["detail"]
    assert api.get("/households/H001", "finance").json()["household"]["account_holder"] == "张三明"


def test_a_rejected_or_stale_change_leaves_the_household_as_it_is(api: Api) -> None:
    first = api.put("/households/H001", "clerk_a", {**H001, "bank_account": NEW_ACCOUNT}).json()
    second = api.put("/households/H001", "clerk_a", {**H001, "bank_account": "6228"}).json()
    rejected = api.post(f"/changes/{first['change_id']}/reject", "approver",
                        {"reason": "未见户主签字的变更申请"})
    assert rejected.json()["status"] == "rejected"
    members = api.put("/households/H001", "clerk_a", {**H001, "members": 4})
    assert members.status_code == 200  # no money moves: at once
    stale = api.post(f"/changes/{second['change_id']}/approve", "approver")
    assert stale.status_code == 409 and "changed since" in stale.json()["detail"]
    assert statement_account(api) == "6217000000000000001"
    pending = api.get("/changes", "approver", params={"status": "pending"}).json()
    assert [c["change_id"] for c in pending["items"]] == [second["change_id"]]
    assert api.get("/changes", "clerk_b").json()["items"] == []


# --- reserve movements ----------------------------------------------------------------------
def test_a_lone_large_advance_moves_nothing_until_a_county_approver_approves(
        api: Api) -> None:
    add_user(api, "approver_a", "approver", TOWNSHIP_A)
    held = reserve(api, "advance", "YB-HUGE", HUGE)
    assert (held.status_code, held.json()["status"]) == (202, "pending_approval")
    assert reserve_accounts(api) == {}
    township = api.post("/approvals/YB-HUGE/approve", "approver_a")
    assert township.status_code == 403 and "county-wide approver" in township.json()["detail"]
    approved = api.post("/approvals/YB-HUGE/approve", "approver").json()
    assert (approved["status"], approved["approval_level"]) == ("approved", "county")
    assert reserve_accounts(api)[f"reserve:{TOWNSHIP_A}"] == 99_999_999_999_999


def test_a_held_movement_names_no_approver_or_level_of_its_own(api: Api) -> None:
    claimed = reserve(api, "disbursement", "XJ-1", "3000.00", approval_level="county")
    assert claimed.status_code == 400 and "leave approver and approval_level empty" in \
        claimed.json()["detail"]
    small = reserve(api, "advance", "YB-SMALL", "1000.00")
    assert (small.status_code, small.json()["approval_threshold"]) == (201, "1000.00")


def test_an_approved_disbursement_records_the_approvers_level_and_reconcile_finds_no_r02(
        api: Api, tmp_path: Path) -> None:
    add_user(api, "approver_a", "approver", TOWNSHIP_A)
    reserve(api, "disbursement", "XJ-3000", "3000.00", household_id="H001")
    reserve(api, "disbursement", "XJ-900", "900.00", household_id="H001")  # recorded at once
    reserve(api, "advance", "YB-5000", "5000.00")
    reserve(api, "disbursement", "XJ-BIG", "25000.00", household_id="H001")
    above = api.post("/approvals/XJ-3000/approve", "approver_a")
    assert above.status_code == 403
    assert "above the township approval limit of 1000.00 yuan" in above.json()["detail"]
    assert api.post("/approvals/XJ-3000/approve", "approver").status_code == 200
    assert api.post("/approvals/YB-5000/approve", "approver").status_code == 200
    beyond = api.post("/approvals/XJ-BIG/approve", "approver")
    assert beyond.status_code == 403 and "county approval limit" in beyond.json()["detail"]
    [paid] = [r for r in api.get("/households/H001", "clerk_a").json()["reserve"]
              if r["record_id"] == "XJ-3000"]
    assert (paid["approval_level"], paid["approver"], paid["recorded_by"]) == (
        "county", "approver", "clerk_a")
    out = tmp_path / "findings.csv"
    reconcile_store(api.store, as_of="2025-12-31", out=out, policy_path=None, xlsx=None,
                    actor="t")
    found = pd.read_csv(out, dtype=str)
    assert found[found["subject_id"].isin(["XJ-3000", "XJ-900"])
                 & found["code"].isin(["R02", "D01"])].empty


def test_the_policy_file_sets_the_amount_above_which_a_movement_waits(api: Api) -> None:
    api.store.ledger.record_policy("[approvals]\nreserve_limit = 50000\n", actor="seed")
    assert reserve(api, "advance", "YB-30000", "30000.00").status_code == 201
    held = reserve(api, "advance", "YB-60000", "60000.00")
    assert (held.status_code, held.json()["approval_threshold"]) == (202, "50000.00")

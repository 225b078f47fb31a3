"""The HTTP API end to end on a SQLite file: commands, queries, maker-checker, errors."""

from __future__ import annotations

import threading
import time
import uuid

import pytest

from tests.e2e.conftest import PAYROLL, TOWNSHIP_A, Api, finding_row

NEW_HOUSEHOLD = {"household_id": "H100", "township": TOWNSHIP_A, "village": "东门村",
                 "head_name": "赵六", "head_id_number": "430621198001011234", "members": 2,
                 "bank_account": "6217-0000-0000-0000-100", "account_holder": "赵六"}
BIG_DISBURSEMENT = {"record_type": "disbursement", "record_id": "R-BIG", "township": TOWNSHIP_A,
                    "household_id": "H001", "amount": "1500.00", "date": "2025-02-01"}


def change_of(household: dict, **changes: object) -> dict:
    body = {k: v for k, v in household.items() if k != "household_id"}
    return {**body, **changes}


def test_a_registered_household_appears_in_its_statement_with_the_clerk_as_actor(
        api: Api) -> None:
    created = api.post("/households", "clerk_a", NEW_HOUSEHOLD)
    assert created.status_code == 201, created.text
    assert created.json() == {"kind": "households", "key": "H100", "version": 1,
                              "actor": "clerk_a"}
    household = api.get("/households/H100", "clerk_a").json()["household"]
    assert household["bank_account"] == "6217000000000000100"
    history = api.get("/households/H100/history", "clerk_a").json()["items"]
    assert [(e["event"], e["actor"]) for e in history] == [("Recorded", "clerk_a")]


def test_the_statement_shows_payroll_lines_with_bank_results_and_the_paid_total(
        api: Api) -> None:
    statement = api.get("/households/H002", "finance").json()
    [payment] = statement["payments"]
    assert (payment["amount"], payment["bank"]["status"]) == ("500.00", "failed")
    assert statement["paid_total"] == "0.00"
    assert api.get("/households/H001", "finance").json()["paid_total"] == "700.00"


def test_household_history_lists_every_event_with_actor_and_timestamps(api: Api) -> None:
    api.put("/households/H001", "clerk_a", change_of(
        {"township": TOWNSHIP_A, "village": "东门村", "head_name": "张三明",
         "head_id_number": "430621198001011234", "members": 4,
         "bank_account": "6217000000000000001", "account_holder": "张三明"}))
    api.put("/households/H001/enrolments/dibao/2025-01", "finance",
            {"monthly_amount": "800.00"})
    page = api.get("/households/H001/history", "inspector").json()
    events = [(e["kind"], e["event"], e["actor"]) for e in page["items"]]
    assert events == [
        ("households", "Recorded", "seed"), ("enrolments", "Recorded", "seed"),
        ("payroll", "Recorded", "seed"), ("bank_return", "Recorded", "seed"),
        ("households", "Corrected", "clerk_a"), ("enrolments", "Corrected", "finance")]
    assert page["total"] == 6
    assert all(e["recorded_at"].endswith("Z") for e in page["items"])
    stamps = [e["recorded_at"] for e in page["items"]]
    assert stamps == sorted(stamps)
    assert page["items"][2]["source"] == "payroll_2025-01.csv#2"
    assert page["items"][4]["source"] == "api:PUT /households/H001"
    assert page["items"][4]["fields"]["members"] == 4


def test_history_pages_are_limited_and_offset(api: Api) -> None:
    page = api.get("/households/H001/history", "finance", params={"limit": 2, "offset": 3})
    body = page.json()
    assert (body["total"], len(body["items"]), body["items"][0]["kind"]) == (4, 1, "bank_return")
    too_big = api.get("/households/H001/history", "finance", params={"limit": 501})
    assert too_big.status_code == 422
    assert "limit" in too_big.json()["detail"]


def test_a_change_built_on_a_stale_read_is_refused_with_409(api: Api) -> None:
    body = change_of(NEW_HOUSEHOLD, members=3, expected_version=1)
    api.post("/households", "clerk_a", NEW_HOUSEHOLD)
    assert api.put("/households/H100", "clerk_a", body).status_code == 200
    stale = api.put("/households/H100", "finance", {**body, "members": 5})
    assert stale.status_code == 409
    assert "changed since you read it" in stale.json()["detail"]
    current = api.get("/households/H100", "finance").json()["household"]
    assert (current["members"], current["version"]) == (3, 2)


def test_concurrent_changes_from_the_same_version_let_exactly_one_through(api: Api) -> None:
    api.post("/households", "clerk_a", NEW_HOUSEHOLD)
    statuses: list[int] = []
    barrier = threading.Barrier(4)

    def change(members: int) -> None:
        barrier.wait()
        body = change_of(NEW_HOUSEHOLD, members=members, expected_version=1)
        statuses.append(api.put("/households/H100", "clerk_a", body).status_code)

    threads = [threading.Thread(target=change, args=(n,)) for n in range(3, 7)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200, 409, 409, 409]


def test_registering_an_existing_household_again_is_a_conflict(api: Api) -> None:
    again = api.post("/households", "clerk_a", {**NEW_HOUSEHOLD, "household_id": "H001"})
    assert again.status_code == 409
    assert "H001" in again.json()["detail"]


def test_enrol_change_and_exit_an_enrolment(api: Api) -> None:
    enrolled = api.post("/households/H002/enrolments", "clerk_a",
                        {"program": "disability", "monthly_amount": "120",
                         "start_period": "2025-03"})
    assert enrolled.status_code == 201, enrolled.text
    path = "/households/H002/enrolments/disability/2025-03"
    assert api.put(path, "clerk_a", {"monthly_amount": "150.50"}).status_code == 200
    exited = api.post(path + "/exit", "clerk_a", {"exit_period": "2025-09",
                                                   "gradual_exit_until": "2025-12"})
    assert exited.json()["version"] == 3
    [enrolment] = [e for e in api.get("/households/H002", "clerk_a").json()["enrolments"]
                   if e["program"] == "disability"]
    assert (enrolment["monthly_amount"], enrolment["exit_period"],
            enrolment["gradual_exit_until"]) == ("150.50", "2025-09", "2025-12")


def test_enrolling_an_unregistered_household_is_404(api: Api) -> None:
    missing = api.post("/households/H404/enrolments", "finance",
                       {"program": "dibao", "monthly_amount": "1", "start_period": "2025-03"})
    assert missing.status_code == 404


def test_money_with_three_decimals_and_unknown_programs_are_422_saying_which_field(
        api: Api) -> None:
    bad = api.post("/households/H001/enrolments", "clerk_a",
                   {"program": "bonus", "monthly_amount": "10.005", "start_period": "2025-13"})
    assert bad.status_code == 422
    detail = bad.json()["detail"]
    assert "program" in detail and "monthly_amount" in detail and "start_period" in detail


def test_a_float_amount_is_refused_because_money_travels_as_a_string(api: Api) -> None:
    bad = api.post("/allocations", "finance", {"allocation_id": "A9", "program": "dibao",
                                               "township": TOWNSHIP_A, "amount": 12.5,
                                               "date": "2025-03-01"})
    assert bad.status_code == 422
    assert "amount" in bad.json()["detail"]


def test_an_allocation_moves_the_township_balance(api: Api) -> None:
    recorded = api.post("/allocations", "finance", {
        "allocation_id": "A9", "program": "dibao", "township": TOWNSHIP_A,
        "amount": "250.50", "date": "2025-03-01", "document_no": "岳财〔2025〕9号"})
    assert recorded.status_code == 201, recorded.text
    rows = api.get("/balances", "finance", params={"by": "township", "as_of": "2025-12-31"})
    row = next(r for r in rows.json()["items"] if r["township"] == TOWNSHIP_A)
    assert (row["allocated"], row["paid"], row["balance"]) == ("10250.50", "700.00", "9550.50")


def test_balances_known_at_a_moment_ignore_later_records(api: Api) -> None:
    before = api.get("/balances", "finance",
                     params={"by": "township", "as_of": "2025-12-31"}).json()
    time.sleep(0.01)
    moment = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()) + ".999999Z"
    time.sleep(1.1)
    api.post("/allocations", "finance", {"allocation_id": "A9", "program": "dibao",
                                         "township": TOWNSHIP_A, "amount": "1.00",
                                         "date": "2025-03-01"})
    then = api.get("/balances", "finance", params={"by": "township", "as_of": "2025-12-31",
                                                   "known_at": moment}).json()
    assert then["items"] == before["items"]
    assert then["known_at"].startswith(moment[:19])


def test_a_known_at_moment_outside_four_digit_years_is_a_400_not_a_crash(api: Api) -> None:
    refused = api.get("/balances", "finance", params={
        "by": "township", "as_of": "2025-12-31", "known_at": "0999-01-01T00:00:00Z"})
    assert refused.status_code == 400
    assert "known_at" in refused.json()["detail"]


def test_a_clerk_sees_only_their_townships_balances_and_households(api: Api) -> None:
    rows = api.get("/balances", "clerk_b", params={"by": "township", "as_of": "2025-12-31"})
    assert [r["township"] for r in rows.json()["items"]] == ["新市镇"]
    listed = api.get("/households", "clerk_b").json()
    assert [h["household_id"] for h in listed["items"]] == ["H003"]


def test_a_small_reserve_disbursement_is_recorded_at_once_with_the_clerk_as_recorder(
        api: Api) -> None:
    small = {**BIG_DISBURSEMENT, "record_id": "R-SMALL", "amount": "1000.00"}
    recorded = api.post("/reserve", "clerk_a", small)
    assert (recorded.status_code, recorded.json()["status"]) == (201, "recorded")
    [reserve] = api.get("/households/H001", "clerk_a").json()["reserve"]
    assert (reserve["record_id"], reserve["recorded_by"]) == ("R-SMALL", "clerk_a")


def test_a_big_reserve_disbursement_takes_effect_only_after_another_person_approves(
        api: Api) -> None:
    held = api.post("/reserve", "clerk_a", BIG_DISBURSEMENT)
    assert (held.status_code, held.json()["status"]) == (202, "pending_approval")
    assert api.get("/households/H001", "clerk_a").json()["reserve"] == []
    pending = api.get("/approvals", "approver", params={"status": "pending"}).json()
    assert [a["record_id"] for a in pending["items"]] == ["R-BIG"]
    approved = api.post("/approvals/R-BIG/approve", "approver")
    assert (approved.status_code, approved.json()["status"]) == (200, "approved")
    [reserve] = api.get("/households/H001", "clerk_a").json()["reserve"]
    assert (reserve["amount"], reserve["approver"], reserve["recorded_by"],
            reserve["approval_level"]) == ("1500.00", "approver", "clerk_a", "county")
    again = api.post("/approvals/R-BIG/approve", "approver2")
    assert again.status_code == 400


def test_a_rejected_disbursement_is_never_recorded(api: Api) -> None:
    api.post("/reserve", "clerk_a", BIG_DISBURSEMENT)
    no_reason = api.post("/approvals/R-BIG/reject", "approver", {"reason": "  "})
    assert no_reason.status_code == 422
    rejected = api.post("/approvals/R-BIG/reject", "approver", {"reason": "无证明材料"})
    assert rejected.json()["status"] == "rejected"
    assert api.get("/households/H001", "clerk_a").json()["reserve"] == []


def test_an_adjustment_takes_effect_only_when_a_different_approver_approves(api: Api) -> None:
    requested = api.post("/adjustments", "approver", {
        "adjustment_id": "ADJ1", "account_from": "township:城关镇:dibao",
        "account_to": "household:H001:dibao", "amount": "50.00",
        "reason": "补发 1 月差额", "business_date": "2025-02-10"})
    assert (requested.status_code, requested.json()["status"]) == (201, "pending")
    own = api.post("/adjustments/ADJ1/approve", "approver")
    assert own.status_code == 403
    assert "different person" in own.json()["detail"]
    assert api.get("/adjustments/ADJ1", "finance").json()["status"] == "pending"
    approved = api.post("/adjustments/ADJ1/approve", "approver2").json()
    assert (approved["status"], approved["approver"], approved["recorded_by"]) == (
        "approved", "approver2", "approver")


def test_importing_a_payroll_file_is_idempotent_and_records_the_finance_user(api: Api) -> None:
    payroll = PAYROLL.replace("B1,", "B2,").replace("2025-01,", "2025-02,").encode()
    upload = {"file": ("payroll_2025-02.csv", payroll, "text/csv")}
    first = api.post("/imports/payroll", "finance", files=upload)
    assert first.status_code == 201, first.text
    assert (first.json()["created"], first.json()["already_loaded"]) == (3, False)
    second = api.post("/imports/payroll", "finance", files=upload).json()
    assert (second["created"], second["already_loaded"]) == (0, True)
    history = api.get("/households/H003/history", "finance").json()["items"]
    assert [e["actor"] for e in history if e["key"] == "B2|3"] == ["finance"]


def test_a_bad_payroll_file_is_rejected_whole_listing_every_problem(api: Api) -> None:
    bad = (PAYROLL.replace("B1,", "B3,").replace("700.00", "70.001")
           .replace(",H003,", ",H999,")).encode()
    rejected = api.post("/imports/payroll", "finance",
                        files={"file": ("payroll_2025-03.csv", bad, "text/csv")})
    assert rejected.status_code == 400
    problems = rejected.json()["problems"]
    assert any("row 2" in p and "金额" in p for p in problems)
    assert "rejected" in rejected.json()["detail"]
    statement = api.get("/households/H001", "finance").json()
    assert all(p["batch_id"] != "B3" for p in statement["payments"])


def test_a_file_that_is_not_csv_or_xlsx_is_a_400(api: Api) -> None:
    refused = api.post("/imports/bank_return", "finance",
                       files={"file": ("bank.txt", b"x", "text/plain")})
    assert refused.status_code == 400
    assert ".csv or .xlsx" in refused.json()["detail"]


def test_findings_are_listed_with_evidence_and_inspectors_record_dispositions(
        api: Api) -> None:
    api.store.ledger.record_findings([finding_row(), finding_row("E01", "H001")], actor="seed")
    listed = api.get("/findings", "inspector", params={"code": "P01"}).json()
    assert [(f["subject_id"], f["evidence"]) for f in listed["items"]] == [
        ("B1:1", "event:abc/1 payroll_2025-01.csv#2")]
    finding_id = listed["items"][0]["finding_id"]
    dismissed_without_reason = api.post(f"/findings/{finding_id}/disposition", "inspector",
                                        {"status": "dismissed"})
    assert dismissed_without_reason.status_code == 400
    recovered = api.post(f"/findings/{finding_id}/disposition", "inspector",
                         {"status": "recovered", "note": "已追缴", "recovered": "700.00"})
    assert recovered.json()["history"] == [{"status": "recovered", "note": "已追缴",
                                            "actor": "inspector", "recovered": "700.00"}]
    assert api.get(f"/findings/{finding_id}", "finance").json()["status"] == "recovered"
    assert api.get(f"/findings/{uuid.uuid4()}", "finance").status_code == 404
    assert api.get("/findings/P01/B1:1", "finance").status_code == 404  # no subjects in URLs


def test_reads_of_personal_data_are_recorded_for_every_role(api: Api) -> None:
    api.get("/households/H001", "finance")
    api.get("/households/H001", "inspector")
    api.get("/households/H001", "clerk_a")
    api.get("/households/H003/history", "approver")
    api.get("/households/H003", "clerk_a")  # another township's: refused, nothing shown
    log = api.get("/access-log", "admin").json()
    assert [(r["reader"], r["role"], r["subject_id"], r["what"]) for r in log["items"]] == [
        ("finance", "finance", "H001", "statement"),
        ("inspector", "inspector", "H001", "statement"),
        ("clerk_a", "clerk", "H001", "statement"),
        ("approver", "approver", "H003", "history")]


def test_an_asset_is_registered_gets_events_and_shows_in_the_register(api: Api) -> None:
    asset = {"asset_id": "AS1", "name": "光伏电站", "asset_class": "operating",
             "township": TOWNSHIP_A, "value": "200000.00", "registered_on": "2024-05-01"}
    assert api.post("/assets", "clerk_a", asset).status_code == 201
    event = {"event_id": "AE1", "event_type": "income_recorded", "date": "2025-01-31",
             "amount": "1200.00", "counterparty": "运营公司"}
    assert api.post("/assets/AS1/events", "clerk_a", event).status_code == 201
    detail = api.get("/assets/AS1", "inspector").json()
    assert (detail["asset"]["value"], [e["amount"] for e in detail["events"]]) == (
        "200000.00", ["1200.00"])
    assert [a["asset_id"] for a in api.get("/assets", "clerk_b").json()["items"]] == []


def test_an_admin_adds_a_user_whose_token_works_until_revoked(api: Api) -> None:
    created = api.post("/users", "admin", {"name": "clerk_c", "role": "clerk",
                                           "township": TOWNSHIP_A})
    assert created.status_code == 201
    token = created.json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert api.client.get("/me", headers=headers).json()["name"] == "clerk_c"
    assert api.post("/users/clerk_c/revoke", "admin").json() == {"name": "clerk_c",
                                                                 "revoked": 1}
    revoked = api.client.get("/me", headers=headers)
    assert revoked.status_code == 401
    assert revoked.headers["www-authenticate"] == "Bearer"


def test_tokens_are_stored_only_as_hashes(api: Api) -> None:
    token = api.tokens["clerk_a"]
    recorder = api.store.ledger.recorder
    stored = b"".join(n.state for n in recorder.select_notifications(1, 10_000))
    assert token.encode() not in stored


def test_an_unknown_route_is_a_404_with_a_detail(api: Api) -> None:
    missing = api.get("/nowhere", "finance")
    assert (missing.status_code, missing.json()["detail"]) == (404, "Not Found")


def test_the_cli_prints_a_new_users_token_on_its_last_line_and_the_api_accepts_it(
        api: Api, capsys: pytest.CaptureFixture[str]) -> None:
    from api.cli import main

    assert main(["--db", api.store.config.url, "user", "add", "李审计", "--role",
                 "inspector"]) == 0
    token = capsys.readouterr().out.strip().splitlines()[-1]
    me = api.client.get("/me", headers={"Authorization": f"Bearer {token}"})
    assert me.json()["name"] == "李审计"
    assert main(["--db", api.store.config.url, "user", "revoke", "李审计"]) == 0
    assert api.client.get("/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401

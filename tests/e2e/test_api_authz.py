"""Who may call what, on SQLite and PostgreSQL: every role against every route, no token,
revoked tokens, township jurisdiction (another township's household answered exactly like
a missing one), and the maker never being the checker."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from domain.records import Finding
from tests.e2e.conftest import PAYROLL, TOWNSHIP_A, TOWNSHIP_B, Api, finding_row

ROLE_USERS = {"clerk": "clerk_a", "approver": "approver", "finance": "finance",
              "inspector": "inspector", "admin": "admin"}
READERS = {"clerk", "approver", "finance", "inspector"}
RECORDERS = {"clerk", "finance"}
COUNTY_READERS = {"approver", "finance", "inspector"}
HOUSEHOLD = {"township": TOWNSHIP_A, "village": "东门村", "head_name": "张三明",
             "members": 3}
PAYROLL_UPLOAD = PAYROLL.replace("B1,", "B7,").encode()
FINDING_ID = str(Finding.create_id("P01", "B1:1"))
NEW_ACCOUNT = {**HOUSEHOLD, "bank_account": "6217000000000000999", "account_holder": "张三明"}


@dataclass(frozen=True)
class Route:
    method: str
    template: str
    path: str
    allowed: frozenset[str]
    body: Any = None
    upload: bool = False
    params: Any = None

    def call(self, api: Api, user: str | None, ids: dict[str, str] | None = None) -> Any:
        """``ids`` fill the path's placeholders made by ``prepare`` ({change} …)."""
        kwargs: dict[str, Any] = {"params": self.params}
        if self.upload:
            kwargs["files"] = {"file": ("payroll_2025-07.csv", PAYROLL_UPLOAD, "text/csv")}
        elif self.body is not None:
            kwargs["json"] = self.body
        path = self.path.format(**ids) if ids else self.path
        return api.call(self.method, path, user, **kwargs)


def route(method: str, template: str, allowed: set[str], path: str | None = None,
          **kwargs: Any) -> Route:
    return Route(method, template, path or template, frozenset(allowed), **kwargs)


ROUTES = [
    route("GET", "/me", set(ROLE_USERS)),
    route("GET", "/users", {"admin"}),
    route("POST", "/users", {"admin"}, body={"name": "newcomer", "role": "clerk",
                                             "township": TOWNSHIP_A}),
    route("PUT", "/users/{name}", {"admin"}, "/users/leaver",
          body={"role": "clerk", "township": TOWNSHIP_A}),
    route("POST", "/users/{name}/tokens", {"admin"}, "/users/leaver/tokens"),
    route("POST", "/users/{name}/revoke", {"admin"}, "/users/leaver/revoke"),
    route("GET", "/access-log", {"admin"}),
    route("GET", "/households", READERS),
    route("POST", "/households", RECORDERS, body={**HOUSEHOLD, "household_id": "H500"}),
    route("GET", "/households/{household_id}", READERS, "/households/H001"),
    route("PUT", "/households/{household_id}", RECORDERS, "/households/H001",
          body={**HOUSEHOLD, "members": 4}),
    route("GET", "/households/{household_id}/history", READERS, "/households/H001/history"),
    route("POST", "/households/{household_id}/enrolments", RECORDERS,
          "/households/H001/enrolments",
          body={"program": "elderly", "monthly_amount": "50", "start_period": "2025-05"}),
    route("PUT", "/households/{household_id}/enrolments/{program}/{start_period}", RECORDERS,
          "/households/H001/enrolments/dibao/2025-01", body={"monthly_amount": "710.00"}),
    route("POST", "/households/{household_id}/enrolments/{program}/{start_period}/exit",
          RECORDERS, "/households/H001/enrolments/dibao/2025-01/exit",
          body={"exit_period": "2025-12"}),
    route("GET", "/changes", READERS),
    route("POST", "/changes/{change_id}/approve", {"approver"}, "/changes/{held}/approve"),
    route("POST", "/changes/{change_id}/reject", {"approver"}, "/changes/{held2}/reject",
          body={"reason": "未见变更申请表"}),
    route("POST", "/allocations", {"finance"},
          body={"allocation_id": "A50", "program": "dibao", "township": TOWNSHIP_A,
                "amount": "10.00", "date": "2025-04-01"}),
    route("POST", "/reserve", RECORDERS,
          body={"record_type": "advance", "record_id": "RA50", "township": TOWNSHIP_A,
                "amount": "5000.00", "date": "2025-04-01"}),
    route("GET", "/approvals", READERS),
    route("POST", "/approvals/{record_id}/approve", {"approver"}, "/approvals/R-HELD/approve"),
    route("POST", "/approvals/{record_id}/reject", {"approver"}, "/approvals/R-HELD2/reject",
          body={"reason": "材料不全"}),
    route("GET", "/balances", READERS, params={"by": "township", "as_of": "2025-12-31"}),
    route("GET", "/adjustments", COUNTY_READERS),
    route("POST", "/adjustments", {"approver", "finance"},
          body={"adjustment_id": "ADJ50", "account_from": "a", "account_to": "b",
                "amount": "1.00", "reason": "测试", "business_date": "2025-04-01"}),
    route("GET", "/adjustments/{adjustment_id}", COUNTY_READERS, "/adjustments/ADJ-F"),
    route("POST", "/adjustments/{adjustment_id}/approve", {"approver"},
          "/adjustments/ADJ-F/approve"),
    route("GET", "/assets", READERS),
    route("POST", "/assets", RECORDERS,
          body={"asset_id": "AS50", "name": "扶贫车间", "asset_class": "operating",
                "township": TOWNSHIP_A, "value": "1000.00", "registered_on": "2024-01-01"}),
    route("GET", "/assets/{asset_id}", READERS, "/assets/AS1"),
    route("POST", "/assets/{asset_id}/events", RECORDERS, "/assets/AS1/events",
          body={"event_id": "AE50", "event_type": "inspected", "date": "2025-04-01"}),
    route("GET", "/findings", COUNTY_READERS),
    route("GET", "/findings/{finding_id}", COUNTY_READERS, f"/findings/{FINDING_ID}"),
    route("POST", "/findings/{finding_id}/disposition", {"inspector"},
          f"/findings/{FINDING_ID}/disposition", body={"status": "under_review"}),
    route("POST", "/imports/{kind}", {"finance"}, "/imports/payroll", upload=True),
]


def prepare(api: Api) -> dict[str, str]:
    """What the routes above act on: an asset, held disbursements, held changes of bank
    account (their ids by placeholder), an adjustment, a finding, and a user to revoke."""
    held = {"record_type": "disbursement", "township": TOWNSHIP_A, "amount": "3000.00",
            "date": "2025-04-01"}
    for record_id in ("R-HELD", "R-HELD2"):
        assert api.post("/reserve", "clerk_a", {**held, "record_id": record_id}).status_code == 202
    assert api.post("/assets", "clerk_a", {
        "asset_id": "AS1", "name": "光伏电站", "asset_class": "operating",
        "township": TOWNSHIP_A, "value": "1.00", "registered_on": "2024-01-01"}).status_code == 201
    assert api.post("/adjustments", "finance", {
        "adjustment_id": "ADJ-F", "account_from": "a", "account_to": "b", "amount": "1.00",
        "reason": "测试", "business_date": "2025-04-01"}).status_code == 201
    api.store.ledger.record_findings([finding_row()], actor="seed")
    assert api.post("/users", "admin", {"name": "leaver", "role": "clerk"}).status_code == 201
    held = {}
    for placeholder, household in (("held", "H001"), ("held2", "H002")):
        change = api.put(f"/households/{household}", "clerk_a", NEW_ACCOUNT)
        assert change.status_code == 202, change.text
        held[placeholder] = change.json()["change_id"]
    return held


def test_the_route_table_covers_every_route_of_the_api(api_on_each_store: Api) -> None:
    documented = {(method.upper(), path)
                  for path, item in api_on_each_store.client.app.openapi()["paths"].items()
                  for method in item}
    assert documented == {(r.method, r.template) for r in ROUTES}


def test_every_role_gets_exactly_the_routes_it_is_allowed(api_on_each_store: Api) -> None:
    api = api_on_each_store
    ids = prepare(api)
    wrong: list[str] = []
    for r in ROUTES:
        for role, user in ROLE_USERS.items():
            status = r.call(api, user, ids).status_code
            allowed = status not in (401, 403)
            if allowed != (role in r.allowed) or status >= 500:
                wrong.append(f"{role} {r.method} {r.path}: {status}")
    assert wrong == []


def test_every_route_without_a_token_or_with_a_bad_one_is_401(api_on_each_store: Api) -> None:
    api = api_on_each_store
    for r in ROUTES:
        assert r.call(api, None, {"held": "x", "held2": "y"}).status_code == 401, r.path
    bogus = api.client.get("/households", headers={"Authorization": "Bearer not-a-token"})
    assert bogus.status_code == 401
    basic = api.client.get("/households", headers={"Authorization": "Basic YTpi"})
    assert basic.status_code == 401


def test_a_revoked_token_is_401_and_a_new_token_works(api_on_each_store: Api) -> None:
    api = api_on_each_store
    assert api.get("/me", "clerk_b").status_code == 200
    assert api.post("/users/clerk_b/revoke", "admin").json()["revoked"] == 1
    assert api.get("/me", "clerk_b").status_code == 401
    readded = api.post("/users", "admin", {"name": "clerk_b", "role": "clerk",
                                           "township": TOWNSHIP_B})
    assert readded.status_code == 409
    renewed = api.post("/users/clerk_b/tokens", "admin").json()
    me = api.client.get("/me", headers={"Authorization": f"Bearer {renewed['token']}"})
    assert me.json() == {"name": "clerk_b", "role": "clerk", "township": TOWNSHIP_B,
                         "live_tokens": 1}
    assert api.get("/me", "clerk_b").status_code == 401


@pytest.mark.parametrize("method, path, body", [
    ("POST", "/households", {**HOUSEHOLD, "household_id": "H600"}),
    ("POST", "/reserve", {"record_type": "disbursement", "record_id": "RX",
                          "township": TOWNSHIP_A, "amount": "10.00", "date": "2025-04-01"}),
    ("GET", "/balances?by=program&as_of=2025-12-31", None),
    ("GET", "/findings", None),
])
def test_a_clerk_cannot_write_into_another_township_or_read_county_records(
        api: Api, method: str, path: str, body: Any) -> None:
    refused = api.call(method, path, "clerk_b", json=body)
    assert refused.status_code == 403, refused.text
    assert refused.json()["detail"]


@pytest.mark.parametrize("method, path, body", [
    ("GET", "/households/{}", None),
    ("GET", "/households/{}/history", None),
    ("PUT", "/households/{}", {**HOUSEHOLD, "township": TOWNSHIP_B, "members": 9}),
    ("POST", "/households/{}/enrolments",
     {"program": "elderly", "monthly_amount": "50", "start_period": "2025-05"}),
    ("POST", "/reserve", {"record_type": "disbursement", "record_id": "RY",
                          "township": TOWNSHIP_B, "household_id": "{}", "amount": "10.00",
                          "date": "2025-04-01"}),
])
def test_another_townships_household_is_answered_exactly_like_one_that_does_not_exist(
        api: Api, method: str, path: str, body: Any) -> None:
    def call(household_id: str) -> Any:
        filled = None if body is None else {
            k: v.format(household_id) if isinstance(v, str) else v for k, v in body.items()}
        return api.call(method, path.format(household_id), "clerk_b", json=filled)

    elsewhere, missing = call("H001"), call("H999")
    assert elsewhere.status_code == missing.status_code == 404, elsewhere.text
    assert elsewhere.json()["detail"].replace("H001", "H999") == missing.json()["detail"]
    assert "城关镇" not in elsewhere.text and "张三明" not in elsewhere.text


def test_a_clerk_cannot_move_a_household_out_of_their_township(api: Api) -> None:
    moved = api.put("/households/H001", "clerk_a", {**HOUSEHOLD, "township": TOWNSHIP_B})
    assert moved.status_code == 403
    household = api.get("/households/H001", "finance").json()["household"]
    assert household["township"] == TOWNSHIP_A


def test_an_approver_cannot_approve_their_own_adjustment(api_on_each_store: Api) -> None:
    api = api_on_each_store
    api.post("/adjustments", "approver", {
        "adjustment_id": "ADJ-OWN", "account_from": "a", "account_to": "b",
        "amount": "1.00", "reason": "测试", "business_date": "2025-04-01"})
    own = api.post("/adjustments/ADJ-OWN/approve", "approver")
    assert own.status_code == 403
    assert api.get("/adjustments/ADJ-OWN", "finance").json()["approver"] == ""


def test_a_township_approver_cannot_approve_another_townships_disbursement(api: Api) -> None:
    token = api.post("/users", "admin", {"name": "approver_b", "role": "approver",
                                         "township": TOWNSHIP_B}).json()["token"]
    api.post("/reserve", "clerk_a", {"record_type": "disbursement", "record_id": "R-A",
                                     "township": TOWNSHIP_A, "amount": "3000.00",
                                     "date": "2025-04-01"})
    refused = api.client.post("/approvals/R-A/approve",
                              headers={"Authorization": f"Bearer {token}"})
    assert refused.status_code == 403
    assert api.get("/approvals", "finance").json()["items"][0]["status"] == "pending"

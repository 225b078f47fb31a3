"""Adjustments and recoveries move money only once approved / recovered, two-sided; the
approvals made before user ids were kept still refuse their maker."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from eventsourcing.persistence import StoredEvent

from api.loader import load_directory
from api.reconcile import reconcile_store
from api.sample_county import generate_county
from api.wiring import Store
from domain import approvals
from domain.errors import DomainError, Forbidden
from domain.records import Adjustment
from domain.users import Actor, user_id
from projections import facts


def test_an_adjustment_moves_money_only_after_a_second_person_approves_it(store: Store) -> None:
    store.ledger.request_adjustment(
        adjustment_id="ADJ1", account_from="township:城关镇:dibao",
        account_to="township:新市镇:dibao", amount=Decimal("120.50"),
        reason="划转错拨资金", actor="maker", business_date="2025-03-01")
    facts.catch_up(store.ledger, store.db)
    assert "township:新市镇:dibao" not in facts.account_balances(store.db)
    with pytest.raises(DomainError):
        store.ledger.approve_adjustment("ADJ1", actor="maker")
    store.ledger.approve_adjustment("ADJ1", actor="checker")
    facts.catch_up(store.ledger, store.db)
    balances = facts.account_balances(store.db)
    assert balances["township:新市镇:dibao"] == 12050
    assert balances["township:城关镇:dibao"] == -12050
    assert facts.trial_balance(store.db) == 0


def test_money_recovered_on_a_finding_posts_a_recovery(store: Store, tmp_path: Path) -> None:
    truth = generate_county(tmp_path / "county", seed=5, households=150, months=3)
    load_directory(store, truth.directory)
    reconcile_store(store, as_of=truth.as_of, out=tmp_path / "f.csv", policy_path=None,
                    xlsx=None, actor="t")
    subject = next(p.subject_id for p in truth.findings if p.code == "E01")
    store.ledger.dispose_finding("E01", subject, status="recovered", note="已追回",
                                 actor="inspector", recovered=Decimal("300.00"))
    facts.catch_up(store.ledger, store.db)
    balances = facts.account_balances(store.db)
    assert balances["fund:recovered"] == 30000
    assert balances[f"household:{subject}:recovery"] == -30000
    assert facts.trial_balance(store.db) == 0
    assert store.ledger.get_finding("E01", subject).status == "recovered"


def store_as_version_1(store: Store, aggregate: Any) -> None:
    """Write the aggregate's new events as the code before user ids wrote them: no id
    fields, no class_version (what stores made before this change hold)."""
    old = []
    for event in aggregate.collect_events():
        stored = store.ledger.mapper.to_stored_event(event)
        state = json.loads(stored.state)
        for added in ("class_version", "actor_id", "level"):
            state.pop(added, None)
        old.append(StoredEvent(originator_id=stored.originator_id,
                               originator_version=stored.originator_version,
                               topic=stored.topic, state=json.dumps(state).encode()))
    store.ledger.recorder.insert_events(old)


def test_an_adjustment_requested_before_ids_were_kept_still_refuses_its_maker(
        store: Store) -> None:
    store_as_version_1(store, Adjustment(
        adjustment_id="OLD", account_from="a", account_to="b", amount=Decimal("9.00"),
        reason="旧记录", actor="maker", business_date="2025-01-01", actor_id="ignored"))
    maker = Actor(name="maker", user_id=user_id("maker"))
    with pytest.raises(Forbidden):
        approvals.approve_adjustment(store.ledger, "OLD", maker)
    approved = approvals.approve_adjustment(store.ledger, "OLD",
                                            Actor("checker", user_id("checker")))
    assert (approved.recorded_by_id, approved.approver_id) == ("", user_id("checker"))


def test_a_disbursement_held_before_ids_were_kept_is_approved_at_the_approvers_level(
        store: Store) -> None:
    row = {"record_type": "disbursement", "record_id": "XJ-OLD", "township": "城关镇",
           "household_id": "", "amount": Decimal("1500.00"), "date": "2025-02-01",
           "approval_level": "", "approver": "", "recorded_by": "clerk",
           "reference_id": "", "document_no": ""}
    store_as_version_1(store, approvals.ReserveApproval(
        record_id="XJ-OLD", township="城关镇", fields=row, actor="clerk", source="api",
        actor_id="ignored"))
    limits = approvals.ApprovalLimits(reserve_fen=100_000, township_fen=100_000,
                                      county_fen=2_000_000)
    with pytest.raises(Forbidden):
        approvals.approve_reserve_movement(store.ledger, "XJ-OLD",
                                           Actor("clerk", user_id("clerk")), limits)
    record = approvals.approve_reserve_movement(store.ledger, "XJ-OLD",
                                                Actor("审批人", user_id("审批人")), limits)
    assert (record.fields["approver"], record.fields["approval_level"]) == ("审批人", "county")

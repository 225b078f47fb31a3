"""Adjustments and recoveries move money only once approved / recovered, two-sided."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from api.loader import load_directory
from api.reconcile import reconcile_store
from api.county import generate_county
from api.wiring import Store
from domain.errors import DomainError
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

"""Property: whatever records arrive, in whatever order, with whatever corrections, the
sum over all accounts is zero, and replaying the log from scratch gives the same balances."""

from __future__ import annotations

import itertools
from decimal import Decimal
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.wiring import Store
from projections import facts

TOWNSHIPS = ["城关镇", "新市镇"]
PROGRAMS = ["dibao", "tekun"]
amounts = st.integers(min_value=1, max_value=500_000).map(lambda fen: Decimal(fen) / 100)
keys = st.sampled_from(["1", "2", "3"])


def _payroll(line: str, amount: Decimal, township: str, program: str) -> tuple[str, dict]:
    return "payroll", {"batch_id": "B1", "line_no": line, "program": program,
                       "period": "2025-01", "township": township, "household_id": "H1",
                       "payee_name": "张三", "payee_id_number": "", "bank_account": "",
                       "amount": amount}


def _bank(line: str, amount: Decimal, status: str) -> tuple[str, dict]:
    return "bank_return", {"batch_id": "B1", "line_no": line, "account_holder": "张三",
                           "bank_account": "", "amount": amount, "status": status,
                           "fail_reason": "", "value_date": "2025-01-20"}


def _allocation(key: str, amount: Decimal, township: str, program: str) -> tuple[str, dict]:
    return "allocations", {"allocation_id": key, "program": program, "township": township,
                           "amount": amount, "date": "2025-01-05", "document_no": ""}


def _reserve(key: str, amount: Decimal, record_type: str) -> tuple[str, dict]:
    return "reserve", {"record_type": record_type, "record_id": key, "township": "城关镇",
                       "household_id": "H1", "amount": amount, "date": "2025-01-09",
                       "approval_level": "", "approver": "", "recorded_by": "",
                       "reference_id": "", "document_no": ""}


records = st.one_of(
    st.builds(_payroll, keys, amounts, st.sampled_from(TOWNSHIPS), st.sampled_from(PROGRAMS)),
    st.builds(_bank, keys, amounts, st.sampled_from(["success", "failed"])),
    st.builds(_allocation, keys, amounts, st.sampled_from(TOWNSHIPS), st.sampled_from(PROGRAMS)),
    st.builds(_reserve, keys, amounts,
              st.sampled_from(["advance", "disbursement", "settlement", "replenishment"])),
)
counter = itertools.count()


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sequence=st.lists(records, min_size=1, max_size=12))
def test_any_sequence_of_records_and_corrections_keeps_the_books_balanced(
        tmp_path: Path, sequence: list[tuple[str, dict]]) -> None:
    store = Store(f"sqlite:///{tmp_path / f'p{next(counter)}.db'}")
    try:
        for n, (kind, fields) in enumerate(sequence):
            store.ledger.record_file(kind=kind, name=f"{kind}_{n}.csv", sha256=f"{n}",
                                     rows=[fields], row_numbers=[2], actor="t")
            facts.catch_up(store.ledger, store.db)  # project as we go: corrections reverse
            assert facts.trial_balance(store.db) == 0
        balances = facts.account_balances(store.db)
        facts.drop(store.db)
        facts.catch_up(store.ledger, store.db)
        assert facts.account_balances(store.db) == balances
        assert facts.trial_balance(store.db) == 0
    finally:
        store.close()

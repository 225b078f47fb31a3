"""Property: on any county, every reader of "paid" says the same to the fen.

Balances by household (``report balances``), the disclosure's amounts (and so the public
pages, which are built from them), the household statement of the registers (``report
household``), the household statement of the API and the ledger's own household accounts
(double entry) all read ``domain.money_facts``; here they are made to answer on generated
counties full of the cases where they used to disagree: success lines without a bank
amount, bank amounts other than the payroll's, failures and reissues, payments value-dated
after the as-of date, bank lines in no payroll, households left out of the disclosure.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pandas as pd
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.disclosure import disclosure_tables, paid_in_period
from api.http import create_app
from api.loader import load_directory
from api.sample_county import generate_county
from api.users import add_user
from api.wiring import Store
from domain.money import format_fen, from_fen, to_fen
from projections import balances, facts, registers
from projections.frames import load_frames

YEAR_END = "2025-12-31"
PERIODS = ["2025-01", "2025-02", "2025-03"]
AS_OFS = ["2025-02-15", "2025-03-20", YEAR_END]
counter = itertools.count()

Paid = dict[tuple[str, str], int]  # (household_id, program) -> fen


# ---------------------------------------------------------------- a generated county

line = st.fixed_dictionaries({
    "household": st.sampled_from(["H1", "H2", "H3", "H4"]),
    "program": st.sampled_from(["dibao", "tekun"]),
    "period": st.sampled_from(PERIODS),
    "amount_fen": st.integers(min_value=1, max_value=300_000),
    # what the bank says: no line, failed, paid the amount, another amount, no amount
    "bank": st.sampled_from(["none", "failed", "same", "other", "empty"]),
    "day": st.integers(min_value=1, max_value=60),  # value date: days into the month
})
counties = st.tuples(st.lists(line, min_size=1, max_size=10),
                     st.sampled_from(AS_OFS), st.booleans(), st.booleans())


def _household(household_id: str, exempt: bool) -> dict:
    return {"household_id": household_id, "township": "城关镇" if household_id < "H3" else "新市镇",
            "village": "东村", "head_name": "张三明", "head_id_number": "", "members": 2,
            "bank_account": "", "account_holder": "", "disclosure_exempt": exempt}


def _value_date(period: str, day: int) -> str:
    first = pd.Timestamp(period + "-01")
    return (first + pd.Timedelta(days=day)).date().isoformat()


def _rows(lines: list[dict], stray: bool) -> tuple[list[dict], list[dict]]:
    payroll, bank = [], []
    for n, spec in enumerate(lines, start=1):
        amount = from_fen(spec["amount_fen"])
        payroll.append({"batch_id": "B1", "line_no": str(n), "program": spec["program"],
                        "period": spec["period"], "township": _household(spec["household"],
                                                                         False)["township"],
                        "household_id": spec["household"], "payee_name": "", "payee_id_number": "",
                        "bank_account": "", "amount": amount})
        if spec["bank"] == "none":
            continue
        confirmed = {"same": amount, "other": amount + Decimal("1.50"), "empty": None,
                     "failed": amount}[spec["bank"]]
        bank.append({"batch_id": "B1", "line_no": str(n), "account_holder": "",
                     "bank_account": "", "amount": confirmed,
                     "status": "failed" if spec["bank"] == "failed" else "success",
                     "fail_reason": "", "value_date": _value_date(spec["period"], spec["day"])})
    if stray:  # a bank success in no payroll: money, but nobody's benefit
        bank.append({"batch_id": "B9", "line_no": "1", "account_holder": "", "bank_account": "",
                     "amount": Decimal("77.00"), "status": "success", "fail_reason": "",
                     "value_date": "2025-02-03"})
    return payroll, bank


def _record(store: Store, kind: str, rows: list[dict]) -> None:
    if rows:
        store.ledger.record_file(kind=kind, name=f"{kind}.csv", sha256=f"{kind}-{len(rows)}",
                                 rows=rows, row_numbers=list(range(2, len(rows) + 2)),
                                 actor="t")


# ---------------------------------------------------------------- every reader of "paid"


def _by_balances(frames, as_of: str) -> Paid:
    table = balances.by_household(frames, as_of)
    return {(h, p): int(f) for h, p, f in zip(table["household_id"], table["program"],
                                              table["paid"], strict=True) if f}


def _by_register_statements(frames, as_of: str) -> Paid:
    out: Paid = {}
    for household_id in sorted(set(frames.payroll["household_id"])):
        table = registers.household_statement(frames, household_id, as_of)
        for program, fen in table.groupby("program")["paid_fen"].sum().items():
            if fen:
                out[(household_id, str(program))] = int(fen)
    return out


def _by_disclosure(frames) -> Paid:
    out: Paid = defaultdict(int)
    for period in sorted(set(frames.payroll["period"])):
        table = paid_in_period(frames, period)
        for h, p, fen in zip(table["household_id"], table["program"], table["amount_fen"],
                             strict=True):
            out[(h, p)] += int(fen)
    return {k: v for k, v in out.items() if v}


def _published_total(frames) -> int:
    """What the disclosure files (and the public pages built on them) publish, in fen."""
    return sum(to_fen(Decimal(a)) for period in sorted(set(frames.payroll["period"]))
               for a in disclosure_tables(frames, period)[0]["amount"])


def _by_ledger_accounts(store: Store, as_of: str) -> Paid:
    out: Paid = {}
    for account, fen in facts.account_balances(store.db, as_of=as_of).items():
        parts = account.split(":")
        if parts[0] == "household" and len(parts) == 3 and parts[2] != "temporary":
            out[(parts[1], parts[2])] = fen
    return out


def _by_api(client: TestClient, token: str, households: list[str], as_of: str) -> dict[str, str]:
    out = {}
    for household_id in households:
        answer = client.get(f"/households/{household_id}", params={"as_of": as_of},
                            headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 200, answer.text
        out[household_id] = answer.json()["paid_total"]
    return out


def _per_household(paid: Paid, households: list[str]) -> dict[str, str]:
    totals = {h: 0 for h in households}
    for (household_id, _), fen in paid.items():
        totals[household_id] += fen
    return {h: format_fen(fen) for h, fen in totals.items()}


def assert_every_reader_agrees(store: Store, url: str, as_of: str) -> None:
    facts.catch_up(store.ledger, store.db)
    frames = load_frames(store.db)
    paid = _by_balances(frames, as_of)
    assert _by_register_statements(frames, as_of) == paid
    assert _by_ledger_accounts(store, as_of) == paid
    year = _by_balances(frames, YEAR_END)  # every value date of these counties is in 2025
    assert _by_disclosure(frames) == year
    shown = frames.households[~frames.households["disclosure_exempt"].astype(bool)]
    assert _published_total(frames) == sum(
        fen for (h, _), fen in year.items() if h in set(shown["household_id"]))
    households = sorted(frames.households["household_id"])
    token = add_user(store, f"inspector{next(counter)}", "inspector", None, actor="t")
    with TestClient(create_app(url)) as client:
        assert _by_api(client, token, households, as_of) == _per_household(paid, households)


# ---------------------------------------------------------------- the properties


@settings(max_examples=12, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(county=counties)
def test_balances_disclosure_statements_and_ledger_agree_on_what_was_paid(
        tmp_path: Path, county: tuple[list[dict], str, bool, bool]) -> None:
    lines, as_of, exempt, stray = county
    payroll, bank = _rows(lines, stray)
    url = f"sqlite:///{tmp_path / f'c{next(counter)}.db'}"
    store = Store(url)
    try:
        _record(store, "households", [_household(h, exempt and h == "H2")
                                      for h in ("H1", "H2", "H3", "H4")])
        _record(store, "payroll", payroll)
        _record(store, "bank_return", bank)
        assert_every_reader_agrees(store, url, as_of)
    finally:
        store.close()


def test_every_reader_agrees_on_the_demo_county(tmp_path: Path, store_url: str,
                                                store: Store) -> None:
    truth = generate_county(tmp_path / "county", seed=5, households=120)
    load_directory(store, truth.directory, actor="t")
    for as_of in (truth.as_of, "2025-02-15"):
        assert_every_reader_agrees(store, store_url, as_of)

"""Double entry: the postings each record implies. Every list sums to zero.

A posting moves money between named accounts (negative = money leaves the account).
Accounts: ``fund:<source>`` (where a budget comes from), ``program:<p>`` (a program's
budget), ``township:<t>:<p>`` (money allocated to a township for a program),
``household:<id>:<p>`` (what a household received), ``reserve:<t>`` (the township
reserve fund), ``county:reserve-pool``, ``bank:unexplained`` / ``suspense:bank-unmatched``
(bank payments no payroll explains), ``asset:<id>:value`` / ``asset:<id>:income``,
``use:<purpose>``, ``operator:<name>``, ``funding:<source>``, ``revaluation``,
``transferee:<name>``, any account an approved adjustment names, and
``household:<id>:recovery`` / ``debtor:<code>|<subject>`` -> ``fund:recovered`` (追缴).

The payment of a payroll line depends on two records (the payroll line and its bank
line), so both post under one subject, ``payment|<batch>|<line>``, recomputed whenever
either changes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from domain import money_facts
from domain.money import from_fen, to_fen

Fields = dict[str, Any]
Lookup = Callable[[str, str], Fields | None]


@dataclass(frozen=True)
class Posting:
    account: str
    amount_fen: int


def move(source: str, target: str, amount_fen: int) -> list[Posting]:
    """Two-sided by construction: what leaves ``source`` arrives in ``target``."""
    if amount_fen == 0:
        return []
    return [Posting(source, -amount_fen), Posting(target, amount_fen)]


def fen(value: Any) -> int:
    return 0 if value in (None, "") else to_fen(Decimal(str(value)))


def postings_for(kind: str, key: str, lookup: Lookup) -> list[tuple[str, list[Posting]]]:
    """(subject, postings) pairs that the current state of (kind, key) implies."""
    if kind in ("payroll", "bank_return"):
        return [(f"payment|{key}", _payment(lookup("payroll", key), lookup("bank_return", key)))]
    fields = lookup(kind, key)
    if fields is None:
        return []
    rule = _RULES.get(kind)
    if rule is None:
        return []
    if kind == "reserve":
        fields = _settling_in_full(fields, lookup)
    out = rule(fields)
    assert sum(p.amount_fen for p in out) == 0, f"{kind} {key} posts unbalanced {out}"
    return [(f"{kind}|{key}", out)]


def _payment(payroll: Fields | None, bank: Fields | None) -> list[Posting]:
    """What ``domain.money_facts`` says the bank paid for the line, whatever its date:
    postings carry their own business date, so the as-of cut is made when reading them."""
    if bank is None or not money_facts.is_success(bank):
        return []
    if payroll is None:
        return move("bank:unexplained", "suspense:bank-unmatched",
                    money_facts.unexplained_fen(bank))
    program = payroll["program"]
    return move(f"township:{payroll['township']}:{program}",
                f"household:{payroll['household_id']}:{program}",
                money_facts.paid_fen(payroll, bank))


def _budget(f: Fields) -> list[Posting]:
    return move(f"fund:{f.get('source') or 'unspecified'}", f"program:{f['program']}",
                fen(f["amount"]))


def _allocation(f: Fields) -> list[Posting]:
    return move(f"program:{f['program']}", f"township:{f['township']}:{f['program']}",
                fen(f["amount"]))


def _settling_in_full(f: Fields, lookup: Lookup) -> Fields:
    """A settlement without an amount with the amount it settles (``money_facts``: its
    disbursement's whole amount). Any other reserve record as it is.

    Known limit: the disbursement is read as the ledger holds it when the settlement is
    projected. A settlement recorded before its disbursement posts nothing, and a later
    correction of the disbursement does not re-post it; the frames (registers, rules)
    always read both as they stand, so only the ledger accounts could lag."""
    if f.get("record_type") != money_facts.RESERVE_SETTLEMENT \
            or money_facts.amount_fen(f.get("amount")) is not None:
        return f
    reference = str(f.get("reference_id") or "")
    disbursement = lookup("reserve", reference) if reference else None
    return {**f, "amount": from_fen(money_facts.settled_fen(f, disbursement))}


def _reserve(f: Fields) -> list[Posting]:
    amount, township = fen(f["amount"]), f["township"]
    kind = f["record_type"]
    if kind in money_facts.RESERVE_FUNDING:
        return move("county:reserve-pool", f"reserve:{township}", amount)
    if kind == money_facts.RESERVE_DISBURSEMENT:
        payee = f.get("household_id") or "non-enrolled"
        return move(f"reserve:{township}", f"household:{payee}:temporary", amount)
    # settlement: the documented aid is charged to the township's temporary-aid money
    return move(f"township:{township}:temporary", "county:reserve-pool", amount)


def _asset(f: Fields) -> list[Posting]:
    return move(f"funding:{f.get('funding_source') or 'unspecified'}",
                f"asset:{f['asset_id']}:value", fen(f["value"]))


def _asset_event(f: Fields) -> list[Posting]:
    amount, asset = fen(f.get("amount")), f["asset_id"]
    kind = f["event_type"]
    if kind == "income_recorded":
        return move(f"operator:{f.get('counterparty') or 'unspecified'}",
                    f"asset:{asset}:income", amount)
    if kind == "income_distributed":
        return move(f"asset:{asset}:income", f"use:{f.get('purpose') or 'unspecified'}", amount)
    if kind == "value_adjusted":
        return move("revaluation", f"asset:{asset}:value", amount)
    if kind in ("transferred", "disposed"):
        return move(f"asset:{asset}:value",
                    f"transferee:{f.get('counterparty') or 'unspecified'}", amount)
    return []


def _adjustment(f: Fields) -> list[Posting]:
    """An approved adjustment moves what it says, between the accounts it names."""
    return move(f["account_from"], f["account_to"], fen(f["amount"]))


def _recovery(f: Fields) -> list[Posting]:
    """Money recovered (追缴) on a finding returns to the fund it was overpaid from."""
    debtor = f"household:{f['household_id']}:recovery" if f.get("household_id") \
        else f"debtor:{f['code']}|{f['subject_id']}"
    return move(debtor, "fund:recovered", fen(f["amount"]))


_RULES: dict[str, Callable[[Fields], list[Posting]]] = {
    "adjustments": _adjustment,
    "recoveries": _recovery,
    "budgets": _budget,
    "allocations": _allocation,
    "reserve": _reserve,
    "assets": _asset,
    "asset_events": _asset_event,
}

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

Which rule a record kind posts by is declared in the catalogue (``RecordKind.posting``,
a name of ``RULES``); the records the ledger makes itself (adjustments, recoveries) are
no county file kind and name their rule in ``LEDGER_KIND_RULES``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from domain import catalogue, money_facts
from domain.money import to_fen

Fields = dict[str, Any]
Lookup = Callable[[str, str], Fields | None]
PAYMENT = "payment"  # the rule of the two kinds of a payment, posted under one subject
PAYMENT_KINDS = ("payroll", "bank_return")  # (the payroll line, its bank line): one key


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


def rule_of(kind: str) -> str | None:
    """The name of the rule a kind's records post by (None: they post nothing)."""
    declared = catalogue.get(kind)
    return declared.posting if declared is not None else LEDGER_KIND_RULES.get(kind)


def posting_kinds() -> frozenset[str]:
    """The kinds whose records post (the others, households …, never do)."""
    return frozenset(LEDGER_KIND_RULES) | {k.name for k in catalogue.kinds() if k.posting}


def postings_for(kind: str, key: str, lookup: Lookup) -> list[tuple[str, list[Posting]]]:
    """(subject, postings) pairs that the current state of (kind, key) implies."""
    name = rule_of(kind)
    if name == PAYMENT:
        payroll, bank = (lookup(k, key) for k in PAYMENT_KINDS)
        return [(f"payment|{key}", _payment(payroll, bank))]
    fields = lookup(kind, key)
    if fields is None or name is None:
        return []
    out = RULES[name](fields, lookup)
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


def _budget(f: Fields, lookup: Lookup) -> list[Posting]:
    return move(f"fund:{f.get('source') or 'unspecified'}", f"program:{f['program']}",
                fen(f["amount"]))


def _allocation(f: Fields, lookup: Lookup) -> list[Posting]:
    return move(f"program:{f['program']}", f"township:{f['township']}:{f['program']}",
                fen(f["amount"]))


def _reserve(f: Fields, lookup: Lookup) -> list[Posting]:
    amount, township = fen(f["amount"]), f["township"]
    kind = f["record_type"]
    if kind in money_facts.RESERVE_FUNDING:
        return move("county:reserve-pool", f"reserve:{township}", amount)
    if kind == money_facts.RESERVE_DISBURSEMENT:
        payee = f.get("household_id") or "non-enrolled"
        return move(f"reserve:{township}", f"household:{payee}:temporary", amount)
    # settlement: the documented aid is charged to the township's temporary-aid money
    return move(f"township:{township}:temporary", "county:reserve-pool",
                money_facts.settled_fen(f, _settled_disbursement(f, lookup)))


def _settled_disbursement(settlement: Fields, lookup: Lookup) -> Fields | None:
    """The disbursement a settlement names, as the ledger holds it when the settlement
    is posted (``money_facts.settled_fen`` needs it when the settlement has no amount).

    Known limit: a settlement recorded before its disbursement posts nothing, and a later
    correction of the disbursement does not re-post it; the frames (registers, rules)
    always read both as they stand, so only the ledger accounts could lag."""
    if money_facts.amount_fen(settlement.get("amount")) is not None:
        return None
    reference = str(settlement.get("reference_id") or "")
    return lookup("reserve", reference) if reference else None


def _asset(f: Fields, lookup: Lookup) -> list[Posting]:
    return move(f"funding:{f.get('funding_source') or 'unspecified'}",
                f"asset:{f['asset_id']}:value", fen(f["value"]))


def _asset_event(f: Fields, lookup: Lookup) -> list[Posting]:
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


def _adjustment(f: Fields, lookup: Lookup) -> list[Posting]:
    """An approved adjustment moves what it says, between the accounts it names."""
    return move(f["account_from"], f["account_to"], fen(f["amount"]))


def _recovery(f: Fields, lookup: Lookup) -> list[Posting]:
    """Money recovered (追缴) on a finding returns to the fund it was overpaid from."""
    debtor = f"household:{f['household_id']}:recovery" if f.get("household_id") \
        else f"debtor:{f['code']}|{f['subject_id']}"
    return move(debtor, "fund:recovered", fen(f["amount"]))


# The rules by name (the catalogue names a kind's rule; a payment is ``_payment``).
RULES: dict[str, Callable[[Fields, Lookup], list[Posting]]] = {
    "adjustment": _adjustment,
    "recovery": _recovery,
    "budget": _budget,
    "allocation": _allocation,
    "reserve": _reserve,
    "asset": _asset,
    "asset_event": _asset_event,
}
# Records the ledger makes itself (domain.ledger ADJUSTMENT_KIND, RECOVERY_KIND).
LEDGER_KIND_RULES: dict[str, str] = {"adjustments": "adjustment", "recoveries": "recovery"}
_NAMED = {k.posting for k in catalogue.kinds() if k.posting} | set(LEDGER_KIND_RULES.values())
_UNWRITTEN = _NAMED - set(RULES) - {PAYMENT}
assert not _UNWRITTEN, f"posting rules without a function: {sorted(_UNWRITTEN)}"

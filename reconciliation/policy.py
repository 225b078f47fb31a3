"""The reconciliation policy: each code's defaults, overridden by ``policy.toml``.

``policy.toml`` has one table per code (docs/formats.md, Policy). ``enabled = false`` turns
a code off; any other key overrides one of the rule's ``defaults``. One more table,
``[approvals]``, holds the API's four-eyes amounts (``domain.approvals``), and ``[limits]``
the largest amount one row of each record kind may carry (``domain.amount_limits``); they
are checked here like the others and returned under their names when the file has them.
A typo must not silently leave a default in force, so an unknown code, an unknown key or
a value of the wrong type is an error naming the file, the table and the key.

Policy money is **yuan**, as people write it (``township_limit = 1000`` or ``999.50``).
TOML has no decimal type, so rules never compare against the number itself: they turn
it into int fen through ``Decimal(str(value))`` (``reconciliation.rule.policy_fen``),
exact for any value written with at most two decimals, and the loader rejects anything
finer.
"""

from __future__ import annotations

import tempfile
import tomllib
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from domain import catalogue
from domain.amount_limits import POLICY_TABLE as LIMITS
from domain.approvals import POLICY_MONEY_KEYS as APPROVAL_KEYS
from domain.approvals import POLICY_TABLE as APPROVALS
from domain.errors import DomainError
from domain.money import CENT
from reconciliation import rules
from reconciliation.rule import Rule

ENABLED_KEY = "enabled"


class PolicyError(DomainError, ValueError):
    """A policy file that cannot be applied: unreadable, unknown code or key, bad value.
    A DomainError, so the command line says it in one line and exits 1."""


def load_policy(path: Path | None, codes: Sequence[str] | None = None) -> dict[str, dict]:
    """Every registered code's defaults merged with the file's table, plus ``enabled``.

    ``codes`` defaults to every rule and screen of the registry (``reconciliation.rules``).
    """
    chosen = rules.all_rules() if codes is None else [rules.rule(c) for c in codes]
    registered = {r.code: r for r in chosen}
    tables = _read_tables(path) if path is not None else {}
    policy = {code: {**rule.defaults, ENABLED_KEY: True} for code, rule in registered.items()}
    for name, table in tables.items():
        if name == APPROVALS:
            policy[APPROVALS] = _approval_settings(path, table)
            continue
        if name == LIMITS:
            policy[LIMITS] = _amount_limits(path, table)
            continue
        code = name.upper()
        if code not in registered:
            raise PolicyError(f"{path}: [{name}]: unknown finding code "
                              f"(known: {', '.join(sorted(registered))})")
        if not isinstance(table, dict):
            raise PolicyError(f"{path}: [{name}]: expected a table of settings")
        for key, value in table.items():
            policy[code][key] = _checked(path, name, key, value, registered[code])
    return policy


def _read_tables(path: Path) -> dict[str, Any]:
    try:
        with open(path, "rb") as handle:
            return tomllib.load(handle)
    except OSError as err:
        raise PolicyError(f"{path}: cannot read policy file: {err.strerror}") from None
    except tomllib.TOMLDecodeError as err:
        raise PolicyError(f"{path}: not valid TOML: {err}") from None


def _approval_settings(path: Path | None, table: Any) -> dict[str, Any]:
    """The ``[approvals]`` table: yuan amounts under known keys."""
    if not isinstance(table, dict):
        raise PolicyError(f"{path}: [{APPROVALS}]: expected a table of settings")
    for key, value in table.items():
        if key not in APPROVAL_KEYS:
            raise PolicyError(f"{path}: [{APPROVALS}] {key}: unknown key "
                              f"(known: {', '.join(APPROVAL_KEYS)})")
        _checked_yuan(f"{path}: [{APPROVALS}] {key}", value)
    return dict(table)


def _amount_limits(path: Path | None, table: Any) -> dict[str, Any]:
    """The ``[limits]`` table: the largest amount of one row, in yuan, per record kind
    that carries money (``domain.amount_limits``)."""
    if not isinstance(table, dict):
        raise PolicyError(f"{path}: [{LIMITS}]: expected a table of settings")
    kinds = [k.name for k in catalogue.kinds() if any(c.is_money for c in k.columns)]
    for key, value in table.items():
        if key not in kinds:
            raise PolicyError(f"{path}: [{LIMITS}] {key}: unknown key "
                              f"(known: {', '.join(kinds)})")
        _checked_yuan(f"{path}: [{LIMITS}] {key}", value)
    return dict(table)


def load_policy_text(text: str | None) -> dict[str, dict]:
    """``load_policy`` of a policy kept as text (the one stored with the county's files)."""
    if text is None:
        return load_policy(None)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "policy.toml"
        path.write_text(text, encoding="utf-8")
        return load_policy(path)


def _checked(path: Path | None, table: str, key: str, value: Any, rule: Rule) -> Any:
    """The value if its type fits the default's; PolicyError naming file, table, key if not."""
    where = f"{path}: [{table}] {key}"
    if key == ENABLED_KEY:
        if not isinstance(value, bool):
            raise PolicyError(f"{where}: expected true or false, got {value!r}")
        return value
    if key not in rule.defaults:
        known = ", ".join([ENABLED_KEY, *rule.defaults])
        raise PolicyError(f"{where}: unknown key (known: {known})")
    default = rule.defaults[key]
    if rule.is_money_key(key):
        return _checked_yuan(where, value)
    if isinstance(default, bool) or not isinstance(default, int | float):
        if type(value) is not type(default):
            raise PolicyError(f"{where}: expected {type(default).__name__}, got {value!r}")
        return value
    accepted = int if isinstance(default, int) else int | float
    if isinstance(value, bool) or not isinstance(value, accepted) or value < 0:
        kind = "a whole number" if accepted is int else "a number"
        raise PolicyError(f"{where}: expected {kind} >= 0, got {value!r}")
    return value


def _checked_yuan(where: str, value: Any) -> int | float:
    """A yuan amount: a TOML number >= 0 with at most two decimals."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PolicyError(f"{where}: expected an amount in yuan, got {value!r}")
    try:
        yuan = Decimal(str(value))
        exact = yuan.is_finite() and yuan >= 0 and yuan == yuan.quantize(CENT)
    except InvalidOperation:
        exact = False
    if not exact:
        raise PolicyError(f"{where}: expected yuan >= 0 with at most 2 decimals, got {value!r}")
    return value

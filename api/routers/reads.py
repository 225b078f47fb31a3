"""Read-model queries the routers share, over ``rm_facts`` (projections/facts.py).

Every version of every record is a row of ``rm_facts``; the current state of a record is
its last row. A household's records are found through rm_facts' ``household_id`` index.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from projections.db import Database

IN_LIST_MAX = 500  # parameters per IN (...) list: well inside SQLite's and psycopg's limits
FACT_COLUMNS = ("notification_id, kind, key, recorded_at, business_date, actor, fields, "
                "evidence_event, evidence_row")


@dataclass(frozen=True)
class Fact:
    """One version of one record."""

    notification_id: int
    kind: str
    key: str
    recorded_at: str
    business_date: str
    actor: str
    fields: dict[str, Any]
    evidence_event: str
    source: str

    @property
    def version(self) -> int:
        """The record aggregate's version after this event ('<id>/<version>')."""
        return int(self.evidence_event.rsplit("/", 1)[1])


def _facts(db: Database, where: str, params: Sequence[Any]) -> list[Fact]:
    rows = db.query(f"SELECT {FACT_COLUMNS} FROM rm_facts WHERE {where} "
                    f"ORDER BY notification_id", params)
    return [Fact(int(r[0]), r[1], r[2], r[3], r[4], r[5], json.loads(r[6]), r[7], r[8])
            for r in rows]


def facts_of_keys(db: Database, kind: str, keys: Iterable[str]) -> list[Fact]:
    """Every version of these records, in recording order."""
    wanted = sorted(set(keys))
    out: list[Fact] = []
    for start in range(0, len(wanted), IN_LIST_MAX):
        chunk = wanted[start:start + IN_LIST_MAX]
        marks = ", ".join("?" * len(chunk))
        out += _facts(db, f"kind=? AND key IN ({marks})", [kind, *chunk])
    return sorted(out, key=lambda f: f.notification_id)


def household_facts(db: Database, household_id: str) -> list[Fact]:
    """Every version of every record that ever named the household, in recording order:
    the household, its enrolments, payroll lines and their bank lines, reserve records.
    Found through the ``household_id`` index of rm_facts, then every version of each key."""
    named = db.query("SELECT DISTINCT kind, key FROM rm_facts WHERE household_id=?",
                     [household_id])
    keys: dict[str, set[str]] = {}
    for kind, key in named:
        keys.setdefault(kind, set()).add(key)
    found: list[Fact] = []
    for kind, kind_keys in sorted(keys.items()):
        found += facts_of_keys(db, kind, kind_keys)
    found += facts_of_keys(db, "bank_return", keys.get("payroll", set()))
    return sorted(found, key=lambda f: f.notification_id)


def latest(facts: Iterable[Fact]) -> dict[tuple[str, str], Fact]:
    """The current version of each (kind, key) among these facts."""
    current: dict[tuple[str, str], Fact] = {}
    for fact in facts:
        current[(fact.kind, fact.key)] = fact
    return current


def latest_of_kind(db: Database, kind: str) -> list[Fact]:
    """The current version of every record of a kind, by key."""
    if not db.table_exists("rm_facts"):
        return []
    rows = _facts(db, "notification_id IN (SELECT MAX(notification_id) FROM rm_facts "
                  "WHERE kind=? GROUP BY key)", [kind])
    return sorted(rows, key=lambda f: f.key)

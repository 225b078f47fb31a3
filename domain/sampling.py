"""Field checks: a reproducible random sample of households, and the inspectors' visits.

Why reproducible: a sample an inspector could redraw until it avoids a household is no
check at all. The sample is a pure function of the household register and a seed the
inspector types (and writes into the visit report), so anyone can redraw the same sample
and see that the visited households are the ones chance picked.

Policy (named constants below): per township, ``VILLAGE_SHARE_PERCENT`` of its villages
(at least ``VILLAGES_MIN``); per drawn village, ``HOUSEHOLD_SHARE_PERCENT`` of its
households (at least ``HOUSEHOLDS_MIN``); shares round down before the minimum applies.
Each township and each village draws from its own generator, seeded by the seed and its
own name, so a township added to the register does not change another township's draw.

``FieldVisit`` is one aggregate per visit (new id each time, like a personal-data read):
two inspectors recording visits at the same moment never contend for one aggregate.
"""

from __future__ import annotations

import datetime as dt
import random
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from uuid import UUID, uuid4

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event

from domain import users
from domain.errors import DomainError

VILLAGE_SHARE_PERCENT = 20
VILLAGES_MIN = 1
HOUSEHOLD_SHARE_PERCENT = 10
HOUSEHOLDS_MIN = 1
SEED_CHARS_MAX = 64
NOTE_CHARS_MAX = 2_000
HOUSEHOLD_ID_CHARS_MAX = 64
RESULTS: dict[str, str] = {"found": "情况属实", "not_found": "查无此户/人",
                           "discrepancy": "情况不符"}
SEPARATOR = "\x1f"


@dataclass(frozen=True, order=True)
class Sampled:
    """One household drawn for a field check."""

    township: str
    village: str
    household_id: str


def share(count: int, percent: int, minimum: int) -> int:
    """How many of ``count`` to draw: ``percent`` rounded down, at least ``minimum``,
    never more than there are."""
    return min(count, max(minimum, count * percent // 100))


def _generator(seed: str, *scope: str) -> random.Random:
    """A generator for one township or village; ``random.Random`` of a str hashes it
    with SHA-512, so the draw is the same on every machine and Python process."""
    return random.Random(SEPARATOR.join((seed, *scope)))


def draw_sample(households: Iterable[tuple[str, str, str]], seed: str) -> list[Sampled]:
    """The sample for ``seed`` from (township, village, household id) triples, sorted.

    Input order does not matter: villages and households are sorted before drawing."""
    seed = clean_seed(seed)
    villages: dict[str, dict[str, list[str]]] = {}
    for township, village, household_id in households:
        villages.setdefault(township, {}).setdefault(village, []).append(household_id)
    drawn: list[Sampled] = []
    for township in sorted(villages):
        names = sorted(villages[township])
        count = share(len(names), VILLAGE_SHARE_PERCENT, VILLAGES_MIN)
        for village in _generator(seed, township).sample(names, count):
            ids = sorted(set(villages[township][village]))
            picked = _generator(seed, township, village).sample(
                ids, share(len(ids), HOUSEHOLD_SHARE_PERCENT, HOUSEHOLDS_MIN))
            drawn += [Sampled(township, village, h) for h in picked]
    return sorted(drawn)


def clean_seed(seed: str) -> str:
    """NFKC and stripped, so '２０２５' and '2025' draw the same sample."""
    text = unicodedata.normalize("NFKC", seed).strip()
    if not text:
        raise DomainError("the sample needs a seed (any text, e.g. today's date)")
    if len(text) > SEED_CHARS_MAX:
        raise DomainError(f"the seed is longer than {SEED_CHARS_MAX} characters")
    return text


class FieldVisit(Aggregate):
    """An inspector visited a sampled household: what they found, when, and a note."""

    @staticmethod
    def create_id(**_: Any) -> UUID:
        return uuid4()

    @event("Recorded")
    def __init__(self, seed: str, household_id: str, visit_date: str, inspector: str,
                 result: str, note: str) -> None:
        self.seed = seed
        self.household_id = household_id
        self.visit_date = visit_date
        self.inspector = inspector
        self.result = result
        self.note = note


def check_visit(household_id: str, visit_date: str, result: str, note: str) -> None:
    """Refuse a visit record that cannot be read back as evidence."""
    if not household_id.strip() or len(household_id) > HOUSEHOLD_ID_CHARS_MAX:
        raise DomainError("the visit needs the household id")
    if result not in RESULTS:
        raise DomainError(f"unknown visit result {result!r} (expected one of "
                          f"{', '.join(RESULTS)})")
    try:
        day = dt.date.fromisoformat(visit_date)
    except ValueError:
        raise DomainError(f"visit date {visit_date!r} is not a date YYYY-MM-DD") from None
    if day > dt.date.today():
        raise DomainError(f"visit date {visit_date} is in the future")
    if len(note) > NOTE_CHARS_MAX:
        raise DomainError(f"the note is longer than {NOTE_CHARS_MAX} characters")
    if result != "found" and not note.strip():
        raise DomainError("a household not found or a discrepancy needs a note saying what")


def record_visit(app: Application, *, seed: str, household_id: str, visit_date: str,
                 inspector: str, result: str, note: str) -> FieldVisit:
    """Record one visit (an event of its own); the caller checks the household was drawn."""
    note = note.strip()
    check_visit(household_id, visit_date, result, note)
    visit = FieldVisit(seed=clean_seed(seed), household_id=household_id.strip(),
                       visit_date=visit_date, inspector=inspector, result=result, note=note)
    app.save(visit)
    return visit


def visits(app: Application, seed: str | None = None) -> list[FieldVisit]:
    """Recorded visits, oldest first; only those of one sample's seed when given."""
    found: list[FieldVisit] = [
        app.repository.get(i)
        # FieldVisit.Recorded is declared at run time by @event
        for i in users.ids_with_event(app, FieldVisit.Recorded)]  # type: ignore[attr-defined]
    if seed is None:
        return found
    wanted = clean_seed(seed)
    return [v for v in found if v.seed == wanted]

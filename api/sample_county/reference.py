"""The other departments' lists: officials and their relatives, deaths, holdings."""

from __future__ import annotations

import datetime as dt

from api.sample_county.model import (
    HOLDING_KINDS,
    OTHER_DEATHS,
    OTHER_HOLDINGS,
    RELATIVE_AGE_GAP,
    SMALL_HOLDINGS,
    TOWNSHIPS,
    County,
    Person,
    Staff,
)


def make_officials(c: County) -> None:
    c.county_approver = official(c, "县民政局副局长", "")
    c.county_clerk = official(c, "县民政局规划财务股会计", "")
    official(c, "县民政局局长", "")
    for township, villages in TOWNSHIPS:
        head_title = "街道办事处主任" if township.endswith("街道") else "乡镇长"
        c.staff[township] = Staff(
            approver=official(c, "分管民政副乡镇长", township),
            recorder=official(c, "民政办经办人", township),
            head=official(c, head_title, township))
        for village in c.rng.sample(villages, 2):
            official(c, f"{village}党支部书记", township)


def official(c: County, position: str, township: str) -> Person:
    age = c.rng.randint(30, 58)
    person = c.person(age, age)
    add_official_row(c, person, position, township, person, "本人")
    for relation in c.rng.sample(sorted(RELATIVE_AGE_GAP), c.rng.randint(0, 2)):
        low, high = RELATIVE_AGE_GAP[relation]
        relative = c.person(max(age + low, 1), age + high,
                            surname=None if relation in ("配偶", "母亲") else person.name[0])
        add_official_row(c, person, position, township, relative, relation)
    return person


def add_official_row(c: County, official: Person, position: str, township: str,
                     relative: Person, relation: str) -> None:
    c.officials.append({
        "official_id_number": official.id_number, "official_name": official.name,
        "position": position, "township": township,
        "relative_id_number": relative.id_number, "relative_name": relative.name,
        "relation": relation})


def position_of(c: County, official: Person) -> tuple[str, str]:
    row = next(r for r in c.officials if r["official_id_number"] == official.id_number)
    return row["position"], row["township"]


def make_reference_noise(c: County) -> None:
    """Deaths and holdings of people who receive nothing, and small holdings of a few
    recipients: what the other departments' lists mostly hold."""
    rng = c.rng
    for _ in range(OTHER_DEATHS):
        person = c.person(70, 95)
        c.deaths.append({"id_number": person.id_number, "name": person.name,
                         "date_of_death": c.day(rng.randint(1, 3), rng.randint(1, 28))})
    for _ in range(OTHER_HOLDINGS):
        kind, description, low_fen, high_fen = rng.choice(HOLDING_KINDS)
        hold(c, c.person(25, 65).id_number, kind, description,
             rng.randint(low_fen, high_fen) // 100 * 100, past_day(c, 8))
    ordinary = [h for h in c.households if h.household_id not in c.used]
    for household in rng.sample(ordinary, SMALL_HOLDINGS):
        hold(c, household.head_id_text, "vehicle", rng.choice(("电动三轮车", "二手摩托车")),
             rng.randint(150_000, 800_000), past_day(c, 5))


def past_day(c: County, years_max: int) -> dt.date:
    return dt.date(c.year - c.rng.randint(1, years_max), c.rng.randint(1, 12),
                   c.rng.randint(1, 28))


def hold(c: County, id_text: str, kind: str, description: str, value_fen: int,
         day: dt.date) -> None:
    c.holdings.append({"id_number": id_text, "kind": kind, "description": description,
                       "value_fen": value_fen, "registered_on": day})

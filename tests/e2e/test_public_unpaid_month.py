"""The public pages over a county where a program is paid in some months and not in
others (issue 14: the county page answered 500). Every period, program, township and
village renders, the empty ones included."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.http import create_app
from api.loader import load_directory
from api.routers import public
from api.sample_county import generate_county
from api.wiring import Store
from domain.catalogue import PROGRAMS
from projections import facts
from projections.frames import load_frames

UNPAID = ("tekun", "2025-02")  # 特困 paid in January and March, nobody in February
HOUSEHOLDS = 120


@dataclass
class County:
    url: str
    directory: Path


def load_unpaid_county(directory: Path) -> County:
    """The generated county with one program unpaid in one month, loaded."""
    truth = generate_county(directory / "county", households=HOUSEHOLDS, unpaid=[UNPAID])
    url = f"sqlite:///{directory / 'unpaid.db'}"
    with Store(url) as store:
        load_directory(store, truth.directory, actor="seed")
        facts.catch_up(store.ledger, store.db)
    return County(url, directory)


@pytest.fixture(scope="module")
def county(tmp_path_factory: pytest.TempPathFactory) -> County:
    return load_unpaid_county(tmp_path_factory.mktemp("unpaid"))


@pytest.fixture(scope="module")
def client(county: County) -> Iterator[TestClient]:
    with TestClient(create_app(county.url)) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def pub(county: County) -> public.Published:
    with Store(county.url) as store:
        return public.published(load_frames(store.db), public.DisclosureSettings())


def test_the_county_really_leaves_the_program_unpaid_in_that_month(
        pub: public.Published) -> None:
    program, period = UNPAID
    assert program in set(pub.rows["2025-01"]["program"])
    assert program not in set(pub.rows[period]["program"])
    assert program in set(pub.rows["2025-03"]["program"])


def test_every_period_program_township_and_village_cell_is_computed(
        pub: public.Published) -> None:
    places: list[tuple[str | None, str | None]] = [(None, None)]
    places += [(t, None) for t in pub.townships]
    places += [(t, v) for t in pub.townships for v in pub.villages.get(t, [])]
    assert len(places) > 10
    for period in pub.periods:
        for program in PROGRAMS:
            for township, village in places:
                found = public.cell(pub, period, program, township, village)
                assert found.households >= 0 and found.amount_fen >= 0
    assert public.county_cell(pub, UNPAID[1], UNPAID[0]) == public.Cell(0, 0, False)


def test_every_public_page_of_every_period_renders(client: TestClient,
                                                   pub: public.Published) -> None:
    paths = [public.public_url()]
    for period in pub.periods:
        paths.append(public.public_url(period=period))
        for township in pub.townships:
            paths.append(public.public_url(township, period=period))
            paths += [public.public_url(township, village, period)
                      for village in pub.villages.get(township, [])]
    for path in paths:
        page = client.get(path)
        assert page.status_code == 200, path


def test_the_unpaid_month_shows_no_households_in_the_program_table(
        client: TestClient) -> None:
    program, period = UNPAID
    html = client.get(public.public_url(period=period)).text
    section = html[html.index(f"<h3>{PROGRAMS[program]}</h3>"):]
    section = section[:section.index("</section>")]
    row = re.search(r"<td>2025年2月</td>\s*<td class=\"num\">([^<]*)</td>"
                    r"\s*<td class=\"num\">([^<]*)</td>", section)
    assert row is not None, section
    assert row.groups() == ("0", "0.00")

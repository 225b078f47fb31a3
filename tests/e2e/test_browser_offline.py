"""In headless Chromium with every host but the app's blocked, as in a county office
without the internet: the API documentation renders from the package's own assets, and
the county page of a month without one program draws (issue 14)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest

from domain.catalogue import PROGRAMS
from tests.e2e.test_browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    DESKTOP,
    PAGE_TIMEOUT_MS,
    chart_size,
    require_browser,
    screenshot,
    serving,
)
from tests.e2e.test_public_unpaid_month import UNPAID, load_unpaid_county

OPERATIONS_MIN = 20  # the API has more than this many operations


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    require_browser()
    county = load_unpaid_county(tmp_path_factory.mktemp("offline"))
    with serving(county.url) as url:
        yield url


@pytest.fixture(scope="module")
def browser(base: str) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def offline(browser: Any, base: str) -> Iterator[tuple[Any, list[tuple[str, str]]]]:
    """A page that reaches the app only: every request to another host is aborted, and
    listed as (resource type, URL)."""
    context = browser.new_context(viewport=DESKTOP, locale="zh-CN")
    context.set_default_timeout(PAGE_TIMEOUT_MS)
    own = urlsplit(base).netloc
    blocked: list[tuple[str, str]] = []

    def only_the_app(route: Any) -> None:
        if urlsplit(route.request.url).netloc == own:
            route.continue_()
        else:
            blocked.append((route.request.resource_type, route.request.url))
            route.abort()

    context.route("**/*", only_the_app)
    page = context.new_page()
    yield page, blocked
    context.close()


def test_the_api_docs_render_their_operations_without_the_internet(
        offline: tuple[Any, list[tuple[str, str]]], base: str) -> None:
    page, blocked = offline
    page.goto(f"{base}/docs")
    page.wait_for_selector(".opblock")
    assert page.locator(".opblock").count() > OPERATIONS_MIN
    assert page.locator(".swagger-ui .info .title").inner_text().startswith("aidledger")
    assert blocked == []
    screenshot(page, "docs_offline.png")


def test_the_redoc_page_renders_without_the_internet(offline: tuple[Any, list[tuple[str, str]]],
                                                      base: str) -> None:
    page, blocked = offline
    page.goto(f"{base}/redoc")
    page.wait_for_selector("[data-section-id]")
    assert page.locator("[data-section-id]").count() > OPERATIONS_MIN
    # ReDoc's own "API docs by Redocly" logo comes from its site: an image, nothing more
    assert [kind for kind, _ in blocked if kind != "image"] == []


def test_the_county_page_of_a_month_without_one_program_draws_every_program(
        offline: tuple[Any, list[tuple[str, str]]], base: str) -> None:
    page, blocked = offline
    program, period = UNPAID
    response = page.goto(f"{base}/public/?period={period}")
    assert response is not None and response.status == 200
    width, height = chart_size(page)
    assert width > 0 and height > 0
    heading = page.locator(f"h3:text-is('{PROGRAMS[program]}')")
    section = page.locator("section.program", has=heading)
    february = section.locator("table.months tbody tr", has_text="2025年2月").inner_text()
    assert february.split() == ["2025年2月", "0", "0.00"]
    assert page.locator("section.program canvas").count() == page.locator(
        "section.program").count()
    assert blocked == []
    screenshot(page, "public_month_without_a_program.png")

"""The public pages and the workbench in a real browser (headless Chromium, Playwright).

The app runs under uvicorn in a background thread on 127.0.0.1 and a free port, over a
seeded county with real findings; Debian's Chromium is driven by Playwright (no
``playwright install``: the browser comes from the system). Screenshots of the county,
a village and a finding page go to ``SCREENS_DIR`` for a person to look at.

Without Chromium or Playwright these tests skip, except under CI (``CI`` set), where
the browser is part of the machine and its absence is a failure.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import uvicorn

from api.disclosure import private_values
from api.http import create_app
from api.wiring import Store
from projections import facts
from projections.frames import load_frames
from tests.e2e.conftest import BIG_VILLAGE, TOWNSHIP_A, seed_public_county

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--disable-quic"]
SCREENS_DIR = Path("/tmp/screens")
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
SERVER_START_SECONDS = 20
SERVER_STOP_SECONDS = 10
PAGE_TIMEOUT_MS = 15_000
VILLAGE_PATH = (f"/public/townships/{quote(BIG_VILLAGE[0])}/villages/"
                f"{quote(BIG_VILLAGE[1])}")


def _browser_problem() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install playwright)"
    if not Path(CHROMIUM).exists() and shutil.which("chromium") is None:
        return f"no Chromium at {CHROMIUM} (apt-get install chromium fonts-noto-cjk)"
    return None


def require_browser() -> None:
    problem = _browser_problem()
    if problem is None:
        return
    if os.environ.get("CI"):
        pytest.fail(f"the browser tests are required in CI: {problem}")
    pytest.skip(problem)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Site:
    base: str
    tokens: dict[str, str]
    private: set[str]


@contextmanager
def serving(url: str) -> Iterator[str]:
    """The app over ``url`` under uvicorn in a thread; its base URL; stopped (bounded)."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(url), host="127.0.0.1", port=port,
                                           log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, name="uvicorn-test", daemon=True)
    thread.start()
    deadline = time.monotonic() + SERVER_START_SECONDS
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "uvicorn did not start"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(SERVER_STOP_SECONDS)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """The app under uvicorn in a thread, stopped at the end of the module."""
    require_browser()
    directory = tmp_path_factory.mktemp("site")
    url = f"sqlite:///{directory / 'site.db'}"
    with Store(url) as store:
        tokens = seed_public_county(store, directory)
        facts.catch_up(store.ledger, store.db)
        private = private_values(load_frames(store.db))
    with serving(url) as base:
        yield Site(base, tokens, private)


@pytest.fixture(scope="module")
def browser(site: Site) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport=DESKTOP, locale="zh-CN")
    context.set_default_timeout(PAGE_TIMEOUT_MS)
    opened = context.new_page()
    yield opened
    context.close()


def screenshot(page: Any, name: str) -> None:
    SCREENS_DIR.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENS_DIR / name), full_page=True)


def chart_size(page: Any) -> tuple[float, float]:
    """Width and height of the first chart canvas once Chart.js has drawn it."""
    page.wait_for_function("() => window.Chart && Chart.getChart(document.querySelector("
                           "'canvas')) !== undefined")
    box = page.locator("canvas").first.bounding_box()
    assert box is not None
    return box["width"], box["height"]


def leaked(html: str, private: set[str]) -> list[str]:
    return sorted(value for value in private if value in html)


def login(page: Any, site: Site, user: str) -> None:
    page.goto(f"{site.base}/workbench/login")
    page.fill("#token", site.tokens[user])
    page.click("button[type=submit]")
    page.wait_for_selector("#who")


def test_the_county_page_draws_its_chart_and_lists_the_townships(page: Any,
                                                                 site: Site) -> None:
    page.goto(f"{site.base}/public/?period=2025-01")
    width, height = chart_size(page)
    assert width > 0 and height > 0
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    summary = page.locator("table.summary tbody tr").all_inner_texts()
    assert len(summary) == 2 and "少于10户" in summary[1]  # 新市镇 has one household
    assert page.locator("ul.places a", has_text=TOWNSHIP_A).count() == 1
    assert page.locator("#digest").inner_text().count("aidledger:v1:") == 1
    screenshot(page, "public_county.png")


def test_a_village_page_draws_its_chart_and_shows_the_masked_list(page: Any,
                                                                  site: Site) -> None:
    page.goto(f"{site.base}{VILLAGE_PATH}")
    width, height = chart_size(page)
    assert width > 0 and height > 0
    names = page.locator("table.village-list tbody tr td:nth-child(2)").all_inner_texts()
    assert len(names) == 11  # 12 households paid in February, one disclosure-exempt
    assert all("*" in name for name in names)
    screenshot(page, "public_village.png")


def test_no_public_page_shows_an_id_number_an_account_or_a_household_id(
        page: Any, site: Site) -> None:
    assert len(site.private) > 30  # the scan looks for something
    paths = ["/public/", "/public/?period=2025-01", f"/public/townships/{quote(TOWNSHIP_A)}",
             VILLAGE_PATH, f"{VILLAGE_PATH}?period=2025-01"]
    for path in paths:
        page.goto(f"{site.base}{path}")
        chart_size(page)
        assert leaked(page.content(), site.private) == [], path


def test_on_a_phone_the_public_pages_do_not_scroll_sideways(browser: Any, site: Site) -> None:
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True,
                                  has_touch=True, locale="zh-CN")
    phone = context.new_page()
    try:
        for path in ("/public/", VILLAGE_PATH):
            phone.goto(f"{site.base}{path}")
            chart_size(phone)
            overflow = phone.evaluate("() => document.documentElement.scrollWidth - "
                                      "document.documentElement.clientWidth")
            assert overflow <= 0, f"{path} scrolls sideways by {overflow}px"
        screenshot(phone, "public_village_phone.png")
    finally:
        context.close()


def test_an_inspector_logs_in_with_a_token_and_sees_the_findings(page: Any,
                                                                  site: Site) -> None:
    login(page, site, "inspector")
    assert "inspector" in page.locator("#who").inner_text()
    codes = page.locator("#findings tbody tr td:first-child").all_inner_texts()
    assert {"E01", "P06"} <= set(codes)
    cookie = next(c for c in page.context.cookies() if c["name"] == "aidledger_workbench")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"


def test_an_inspector_dismisses_a_finding_with_a_reason_and_sees_its_status_change(
        page: Any, site: Site) -> None:
    login(page, site, "inspector")
    page.click("#findings a:text-is('E01')")
    page.wait_for_selector("#disposition")
    assert page.locator("#status").inner_text() == "待处理"
    assert page.locator("table.matches td", has_text="死亡名单").count() >= 1
    assert page.locator("table.timeline td.actor", has_text="seed").count() >= 1
    screenshot(page, "workbench_finding.png")
    page.select_option("#status-choice", "dismissed")
    page.fill("#note", "户主死亡登记有误，已由派出所更正")
    page.click("#disposition button[type=submit]")
    page.wait_for_selector(".flash")
    assert page.locator("#status").inner_text() == "已排除"
    assert page.locator("table.dispositions tbody tr").first.inner_text().count(
        "inspector") == 1


def test_a_clerk_cannot_open_a_household_of_another_township(page: Any, site: Site) -> None:
    login(page, site, "clerk_a")
    response = page.goto(f"{site.base}/workbench/household?id=H003")
    assert response is not None and response.status == 404  # as if it did not exist
    own = page.goto(f"{site.base}/workbench/household?id=H001")
    assert own is not None and own.status == 200
    assert page.locator("table.timeline tbody tr").count() >= 1


def test_the_sampling_tool_draws_the_same_sample_for_the_same_seed(page: Any,
                                                                   site: Site) -> None:
    login(page, site, "inspector")

    def draw(seed: str) -> list[str]:
        page.goto(f"{site.base}/workbench/sampling")
        page.fill("#seed", seed)
        page.click("#draw button[type=submit]")
        page.wait_for_selector("#sample")
        return page.locator("#sample td.household-id").all_inner_texts()

    first = draw("2025-03-抽查")
    assert first and first == draw("2025-03-抽查")
    assert len(first) == 2  # one village per township, one household per drawn village

"""Personal data stays out of URLs and so out of logs: ``aidledger serve`` as a real
process, its access log and every other line it writes captured, while findings
(including a shared bank account, E06), households, their history and a change of bank
account are read and written over HTTP and through the workbench."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from api.wiring import Store
from tests.e2e.conftest import BANK, HOUSEHOLDS, PAYROLL, finding_row, seed_county

START_SECONDS_MAX = 60
ID_NUMBER = re.compile(r"\b\d{17}[\dXx]\b")
ACCOUNT = re.compile(r"\b62\d{14,17}\b")
NEW_ACCOUNT = "6228480000000000777"
SHARED_ACCOUNT = "6217000000000000003"


def personal_values() -> set[str]:
    """Every ID number and bank account of the loaded county (and the new account)."""
    text = HOUSEHOLDS + PAYROLL + BANK
    found = set(ID_NUMBER.findall(text)) | set(ACCOUNT.findall(text)) | {NEW_ACCOUNT}
    return found | {v.upper() for v in found} | {v.lower() for v in found}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Served:
    def __init__(self, base: str, tokens: dict[str, str], log: Path) -> None:
        self.base, self.tokens, self.log = base, tokens, log

    def client(self, user: str) -> httpx.Client:
        return httpx.Client(base_url=self.base, timeout=30,
                            headers={"Authorization": f"Bearer {self.tokens[user]}"})


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    url = f"sqlite:///{tmp_path / 'served.db'}"
    with Store(url) as store:
        tokens = seed_county(store, tmp_path / "county")
        e06 = {**finding_row("E06", SHARED_ACCOUNT), "subject_type": "bank_account",
               "amount": Decimal("300.00"), "detail": f"账户 {SHARED_ACCOUNT} 收到 3 户的款项"}
        store.ledger.record_findings([finding_row(), e06], actor="seed")
    port, log = free_port(), tmp_path / "serve.log"
    with open(log, "wb") as out:
        server = subprocess.Popen([sys.executable, "-m", "api.cli", "--db", url, "serve",
                                   "--port", str(port)], stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(base, server)
        yield Served(base, tokens, log)
    finally:
        server.terminate()
        server.wait(timeout=START_SECONDS_MAX)


def _wait_until_up(base: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + START_SECONDS_MAX
    while time.monotonic() < deadline and server.poll() is None:
        try:
            httpx.get(f"{base}/openapi.json", timeout=2)
            return
        except httpx.TransportError:
            time.sleep(0.2)
    raise AssertionError("aidledger serve did not start")


def _exercise_api(served: Served) -> None:
    with served.client("inspector") as inspector, served.client("clerk_a") as clerk, \
            served.client("approver") as approver:
        findings = inspector.get("/findings").json()["items"]
        assert SHARED_ACCOUNT in {f["subject_id"] for f in findings}
        for finding in findings:
            assert inspector.get(f"/findings/{finding['finding_id']}").status_code == 200
            assert inspector.post(f"/findings/{finding['finding_id']}/disposition",
                                  json={"status": "under_review"}).status_code == 200
        for path in ("/households/H001", "/households/H001/history", "/households",
                     "/households/H003"):
            assert clerk.get(path).status_code in (200, 404)
        body = {**clerk.get("/households/H001").json()["household"], "bank_account": NEW_ACCOUNT}
        for name in ("household_id", "head_id_number", "version"):
            body.pop(name)
        change = clerk.put("/households/H001", json=body).json()
        assert approver.get("/changes").status_code == 200
        assert approver.post(f"/changes/{change['change_id']}/approve").status_code == 200


def _exercise_workbench(served: Served) -> None:
    with httpx.Client(base_url=served.base, timeout=30) as browser:
        form = browser.get("/workbench/login").text
        csrf = re.search(r'name="csrf" value="([^"]+)"', form)
        assert csrf is not None
        browser.post("/workbench/login", data={"token": served.tokens["inspector"],
                                               "csrf": csrf.group(1)})
        home = browser.get("/workbench/").text
        links = re.findall(r'href="(/workbench/finding\?id=[^"]+)"', home)
        assert len(links) == 2
        for link in links:
            assert browser.get(link).status_code == 200
        assert browser.get("/workbench/household?id=H001").status_code == 200


def test_no_id_number_or_bank_account_reaches_the_servers_logs(served: Served) -> None:
    _exercise_api(served)
    _exercise_workbench(served)
    time.sleep(0.5)  # the access log is written after each response
    logged = served.log.read_text(encoding="utf-8", errors="replace")
    assert "GET /findings/" in logged and "GET /workbench/finding?id=" in logged
    leaked = sorted(v for v in personal_values() if v in logged)
    assert leaked == [], f"personal data in the server's output: {leaked}"

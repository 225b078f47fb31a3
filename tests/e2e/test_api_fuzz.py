"""Schemathesis against the app in-process: whatever a client sends, the API answers with
a documented status and body shape, and never with a server error.

Requests carry an inspector's token (the role that reads everything and may record
dispositions), so most generated calls get past authentication and reach the handlers.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from api.http import create_app
from api.wiring import Store
from tests.e2e.conftest import finding_row, seed_county

EXAMPLES_PER_OPERATION_MAX = 12  # 31 operations: the whole run stays well under a minute


@pytest.fixture
def fuzzed_app(tmp_path: Path) -> Iterator[tuple[FastAPI, str]]:
    url = f"sqlite:///{tmp_path / 'fuzz.db'}"
    with Store(url) as store:
        tokens = seed_county(store, tmp_path / "county")
        store.ledger.record_findings([finding_row()], actor="seed")
    yield create_app(url), tokens["inspector"]
    from schemathesis.python import asgi

    asgi.shutdown_lifespans()  # close the store the app opened for the fuzz run


@pytest.fixture
def api_schema(fuzzed_app: tuple[FastAPI, str]) -> schemathesis.schemas.BaseSchema:
    return schemathesis.openapi.from_asgi("/openapi.json", fuzzed_app[0])


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=EXAMPLES_PER_OPERATION_MAX, deadline=None,
          suppress_health_check=list(HealthCheck))
def test_no_request_makes_the_api_fail_or_break_its_documented_schema(
        case: schemathesis.Case, fuzzed_app: tuple[FastAPI, str]) -> None:
    case.call_and_validate(headers={"Authorization": f"Bearer {fuzzed_app[1]}"},
                           checks=[not_a_server_error, response_schema_conformance])

"""Poverty-alleviation project assets: the register, and what happens to each asset."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from pydantic import AfterValidator

from api.routers import reads
from api.routers.deps import PageParams, Reader, Recorder, State, source_of, written
from api.schemas import (
    KEY_CHARS_MAX,
    NAME_CHARS_MAX,
    AssetDetailOut,
    AssetEventIn,
    AssetEventOut,
    AssetIn,
    AssetOut,
    Page,
    WrittenOut,
    canonical_row,
    required_text,
    yuan_text,
)
from domain import approvals
from domain.errors import NotFound

router = APIRouter(prefix="/assets", tags=["assets"])

AssetId = Annotated[str, Path(min_length=1, max_length=KEY_CHARS_MAX),
                    AfterValidator(required_text)]


def _asset_out(fact: reads.Fact) -> AssetOut:
    f = fact.fields
    return AssetOut(
        asset_id=fact.key, name=f.get("name", ""), asset_class=f.get("asset_class", ""),
        township=f.get("township", ""), village=f.get("village", ""),
        value=yuan_text(f.get("value")), funding_source=f.get("funding_source", ""),
        project=f.get("project", ""), rights_holder=f.get("rights_holder", ""),
        custodian=f.get("custodian", ""), registered_on=f.get("registered_on", ""),
        version=fact.version)


def _event_out(fact: reads.Fact) -> AssetEventOut:
    f = fact.fields
    return AssetEventOut(
        event_id=fact.key, asset_id=f.get("asset_id", ""), event_type=f.get("event_type", ""),
        date=f.get("date", ""), amount=yuan_text(f.get("amount")),
        counterparty=f.get("counterparty", ""), purpose=f.get("purpose", ""),
        approval_document=f.get("approval_document", ""), note=f.get("note", ""),
        version=fact.version)


@router.post("", response_model=WrittenOut, status_code=201)
def register_asset(body: AssetIn, user: Recorder, state: State,
                   request: Request) -> WrittenOut:
    user.check_township(body.township, f"asset {body.asset_id}")
    row = canonical_row("assets", body.model_dump())
    return written(approvals.write_record(state.store.ledger, "assets", row, actor=user.name,
                                          source=source_of(request), create_only=True))


@router.post("/{asset_id}/events", response_model=WrittenOut, status_code=201)
def record_asset_event(asset_id: AssetId, body: AssetEventIn, user: Recorder, state: State,
                       request: Request) -> WrittenOut:
    """Rights confirmed, custodian assigned, income recorded or distributed, revalued,
    transferred, disposed, inspected."""
    asset = approvals.find_record(state.store.ledger, "assets", asset_id)
    if asset is None:
        raise NotFound(f"asset {asset_id} is not registered")
    user.check_township(str(asset.fields["township"]), f"asset {asset_id}")
    row = canonical_row("asset_events", {**body.model_dump(), "asset_id": asset_id})
    return written(approvals.write_record(state.store.ledger, "asset_events", row,
                                          actor=user.name, source=source_of(request),
                                          create_only=True))


@router.get("", response_model=Page[AssetOut])
def asset_register(
    user: Reader, state: State, page: PageParams,
    township: Annotated[str | None, Query(max_length=NAME_CHARS_MAX)] = None,
) -> Page[AssetOut]:
    with state.caught_up() as store:
        found = reads.latest_of_kind(store.db, "assets")
    found = [f for f in found if user.sees(str(f.fields.get("township", "")))
             and (township is None or f.fields.get("township") == township)]
    return Page(items=[_asset_out(f) for f in page.slice(found)], total=len(found),
                limit=page.limit, offset=page.offset)


@router.get("/{asset_id}", response_model=AssetDetailOut)
def asset_detail(asset_id: AssetId, user: Reader, state: State) -> AssetDetailOut:
    """The asset as registered now and every event recorded about it."""
    with state.caught_up() as store:
        versions = reads.facts_of_keys(store.db, "assets", [asset_id])
        events = [f for f in reads.latest_of_kind(store.db, "asset_events")
                  if f.fields.get("asset_id") == asset_id]
    if not versions:
        raise NotFound(f"asset {asset_id} is not registered")
    asset = versions[-1]
    user.check_township(str(asset.fields.get("township", "")), f"asset {asset_id}")
    events.sort(key=lambda f: (str(f.fields.get("date", "")), f.key))
    return AssetDetailOut(asset=_asset_out(asset), events=[_event_out(f) for f in events])

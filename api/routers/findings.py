"""Findings of reconciliation with their evidence, and inspectors' dispositions.

A finding is named in URLs by its opaque id (``finding_id``, the Finding aggregate's
UUID), never by its subject: a subject may be a bank account (E06), and a URL ends up in
access logs. Every read of findings (their details and evidence name people) is recorded.
"""

from __future__ import annotations

import contextlib
from typing import Annotated, Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from fastapi import APIRouter, Depends, Query

from api.routers.deps import (
    CountyReader,
    PageParams,
    Principal,
    State,
    allow,
    record_personal_read,
)
from api.schemas import DispositionIn, DispositionOut, FindingOut, Page, yuan_text
from domain.errors import NotFound
from domain.money import parse_yuan
from domain.records import Finding

router = APIRouter(prefix="/findings", tags=["findings"])

CODE_CHARS_MAX = 8
# Findings are about the whole county; dispositions are the inspectors' record.
CountyInspector = Annotated[Principal, Depends(allow("inspector", county_wide=True))]


def finding_out(finding: Finding) -> FindingOut:
    history = [DispositionOut(status=h["status"], note=h["note"], actor=h["actor"],
                              recovered=yuan_text(h.get("recovered")))
               for h in finding.history]
    return FindingOut(
        finding_id=str(finding.id), code=finding.code, subject_type=finding.subject_type,
        subject_id=finding.subject_id, period=finding.period or "",
        amount=yuan_text(finding.amount),
        severity=finding.severity, title=finding.title, detail=finding.detail,
        evidence=finding.evidence, status=finding.status, history=history)


def _matches(finding: Any, code: str | None, status: str | None) -> bool:
    return (code is None or finding.code == code) and (status is None or finding.status == status)


@router.get("", response_model=Page[FindingOut])
def list_findings(
    user: CountyReader, state: State, page: PageParams,
    code: Annotated[str | None, Query(max_length=CODE_CHARS_MAX)] = None,
    status: Annotated[str | None, Query(pattern="^(" + "|".join(Finding.STATUSES) + ")$")]
    = None,
) -> Page[FindingOut]:
    """Findings recorded by the last reconciliations, oldest first, with evidence."""
    ledger = state.store.ledger
    every: list[Finding] = [ledger.repository.get(i) for i in ledger.finding_ids()]
    found = [f for f in every if _matches(f, code, status)]
    record_personal_read(state.store, user, "findings", code or "",
                         f"list (status {status or 'any'}, offset {page.offset})")
    return Page(items=[finding_out(f) for f in page.slice(found)], total=len(found),
                limit=page.limit, offset=page.offset)


def stored_finding(state: State, finding_id: UUID) -> Finding:
    found: Any = None
    with contextlib.suppress(AggregateNotFoundError):
        found = state.store.ledger.repository.get(finding_id)
    if not isinstance(found, Finding):
        raise NotFound(f"no finding {finding_id}")
    return found


@router.get("/{finding_id}", response_model=FindingOut)
def get_finding(finding_id: UUID, user: CountyReader, state: State) -> FindingOut:
    finding = stored_finding(state, finding_id)
    record_personal_read(state.store, user, "finding", str(finding_id), finding.code)
    return finding_out(finding)


@router.post("/{finding_id}/disposition", response_model=FindingOut)
def dispose_finding(finding_id: UUID, body: DispositionIn, user: CountyInspector,
                    state: State) -> FindingOut:
    """Under review, confirmed, dismissed (with a reason) or recovered (with the amount)."""
    found = stored_finding(state, finding_id)
    recovered = parse_yuan(body.recovered) if body.recovered is not None else None
    finding = state.store.ledger.dispose_finding(found.code, found.subject_id,
                                                 status=body.status, note=body.note,
                                                 actor=user.name, recovered=recovered)
    return finding_out(finding)

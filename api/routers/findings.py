"""Findings of reconciliation with their evidence, and inspectors' dispositions."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from pydantic import AfterValidator

from api.routers.deps import CountyReader, PageParams, Principal, State, allow
from api.schemas import (
    KEY_CHARS_MAX,
    NAME_CHARS_MAX,
    DispositionIn,
    DispositionOut,
    FindingOut,
    Page,
    required_text,
    yuan_text,
)
from domain.money import parse_yuan
from domain.records import Finding

router = APIRouter(prefix="/findings", tags=["findings"])

CODE_CHARS_MAX = 8
Code = Annotated[str, Path(min_length=1, max_length=CODE_CHARS_MAX),
                 AfterValidator(required_text)]
SubjectId = Annotated[str, Path(min_length=1, max_length=NAME_CHARS_MAX + KEY_CHARS_MAX),
                      AfterValidator(required_text)]
# Findings are about the whole county; dispositions are the inspectors' record.
CountyInspector = Annotated[Principal, Depends(allow("inspector", county_wide=True))]


def finding_out(finding: Finding) -> FindingOut:
    history = [DispositionOut(status=h["status"], note=h["note"], actor=h["actor"],
                              recovered=yuan_text(h.get("recovered")))
               for h in finding.history]
    return FindingOut(
        code=finding.code, subject_type=finding.subject_type, subject_id=finding.subject_id,
        period=finding.period or "", amount=yuan_text(finding.amount),
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
    found = [f for f in (ledger.repository.get(i) for i in ledger.finding_ids())
             if _matches(f, code, status)]
    return Page(items=[finding_out(f) for f in page.slice(found)], total=len(found),
                limit=page.limit, offset=page.offset)


@router.get("/{code}/{subject_id}", response_model=FindingOut)
def get_finding(code: Code, subject_id: SubjectId, user: CountyReader,
                state: State) -> FindingOut:
    return finding_out(state.store.ledger.get_finding(code, subject_id))


@router.post("/{code}/{subject_id}/disposition", response_model=FindingOut)
def dispose_finding(code: Code, subject_id: SubjectId, body: DispositionIn,
                    user: CountyInspector, state: State) -> FindingOut:
    """Under review, confirmed, dismissed (with a reason) or recovered (with the amount)."""
    recovered = parse_yuan(body.recovered) if body.recovered is not None else None
    finding = state.store.ledger.dispose_finding(code, subject_id, status=body.status,
                                                 note=body.note, actor=user.name,
                                                 recovered=recovered)
    return finding_out(finding)

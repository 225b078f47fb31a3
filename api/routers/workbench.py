"""The inspector's workbench: from a finding to its evidence, dispositions, field checks.

Login is the API's bearer token typed into a form; the token then lives in an HttpOnly,
SameSite=Strict cookie scoped to ``/workbench`` and is checked on every request exactly as
the API checks a bearer token (a revoked token logs the person out). Every POST form
carries a CSRF token derived from the session token (HMAC), and the login form a
double-submit token of its own, so another site can neither act in a person's name nor
log them in as someone else.

Who may do what is the API's rule set, applied through ``deps.allow`` and
``Principal.check_township``: findings and the sampling tool are for county-wide
approvers, finance staff and inspectors (``deps.CountyReader``); a disposition or a
visit is recorded by a county-wide inspector; a household's page is open to every
reader role, township clerks for their own township only. Household pages reuse the
API's statement and history queries, so every read is logged the same way; a finding
(named by its opaque id, never its subject) and a list of findings are logged too.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from api.findings_files import SUBJECT_TYPE_ZH
from api.routers import households, reads
from api.routers.deps import (
    READERS,
    TOKEN_CHARS_MAX,
    AppState,
    Pagination,
    Principal,
    State,
    allow,
    record_personal_read,
)
from api.routers.findings import finding_out, stored_finding
from api.routers.public import SECURITY_HEADERS, TEMPLATES
from api.schemas import KEY_CHARS_MAX, PAGE_SIZE_MAX, DispositionIn
from domain import approvals, catalogue, sampling, users
from domain.catalogue import PROGRAMS
from domain.errors import DomainError, Forbidden, NotFound
from domain.ids import to18
from domain.money import parse_yuan
from domain.records import Finding, Record
from reconciliation.rules import SUBJECT_TYPES

router = APIRouter(prefix="/workbench", include_in_schema=False)

SESSION_COOKIE = "aidledger_workbench"
LOGIN_CSRF_COOKIE = "aidledger_login_csrf"
COOKIE_PATH = "/workbench"
SESSION_SECONDS = 8 * 3600  # one working day
CSRF_CONTEXT = b"aidledger-workbench-csrf-v1"
LOGIN_CSRF_BYTES = 32
FINDINGS_PAGE_SIZE = 100
EVIDENCE_RESOLVED_MAX = 50  # evidence tokens looked up in the ledger per finding page
HOUSEHOLDS_SHOWN_MAX = 5  # households of one finding shown in full (E02, E06 name several)
FILTER_CHARS_MAX = 100
OFFSET_DIGITS_MAX = 9
EVENT_PREFIX = "event:"
WORKBENCH_HEADERS = {**SECURITY_HEADERS, "Cache-Control": "no-store"}

# The API's role rules (deps.allow): the same checks, called on the session's user.
may_use = allow(*READERS)
may_read_county = allow("approver", "finance", "inspector", county_wide=True)
may_inspect = allow("inspector", county_wide=True)

STATUS_ZH = {"open": "待处理", "under_review": "核查中", "confirmed": "已确认",
             "dismissed": "已排除", "recovered": "已追回", "resolved": "已不成立"}
DISPOSITIONS = ("under_review", "confirmed", "dismissed", "recovered")
SEVERITY_ZH = {"high": "高", "medium": "中", "low": "低"}
KIND_ZH = {k.name: k.label for k in catalogue.kinds()}
ROLE_ZH = {"clerk": "经办人员", "approver": "审批人员", "finance": "财务人员",
           "inspector": "核查人员", "admin": "系统管理员"}


# -- sessions -------------------------------------------------------------------------
def csrf_token(session_token: str) -> str:
    """The CSRF token of a session: unguessable without the (HttpOnly) session token."""
    return hmac.new(session_token.encode("utf-8"), CSRF_CONTEXT, hashlib.sha256).hexdigest()


def session_user(request: Request, state: AppState) -> tuple[Principal, str] | None:
    """The logged-in user and their token, or None (no cookie, unknown or revoked)."""
    token = request.cookies.get(SESSION_COOKIE, "")
    if not token or len(token) > TOKEN_CHARS_MAX:
        return None
    user = users.authenticate(state.store.ledger, users.token_hash(token))
    if user is None:
        return None
    return Principal(name=user.name, role=user.role, township=user.township or None), token


@dataclass(frozen=True)
class Session:
    user: Principal
    csrf: str


class LoginNeeded(Exception):
    """No valid session: the person is sent to the login form."""


def open_session(request: Request, state: AppState) -> Session:
    found = session_user(request, state)
    if found is None:
        raise LoginNeeded
    user, token = found
    may_use(user)
    return Session(user, csrf_token(token))


def check_csrf(session: Session, presented: str) -> None:
    if not hmac.compare_digest(session.csrf.encode(), presented.encode("utf-8")):
        raise Forbidden("表单已过期或来自其他网站，请刷新页面后重试。")


def field_zh(kind: str, name: str) -> str:
    """A record field's Chinese name: the first Chinese header the files accept for it."""
    record_kind = catalogue.get(kind)
    column = next((c for c in record_kind.columns if c.name == name), None) \
        if record_kind else None
    return column.label if column else name


def value_zh(kind: str, name: str, value: object) -> str:
    """A coded value in Chinese, as the files accept it (success -> 成功, disbursement ->
    先行救助, township -> 乡镇); any other value as it is."""
    record_kind = catalogue.get(kind)
    column = next((c for c in record_kind.columns if c.name == name), None) \
        if record_kind else None
    codes = catalogue.ENUMS.get(column.type) if column else None
    if codes is None or str(value) not in codes.words:
        return str(value)
    return codes.label(str(value))


def render(request: Request, name: str, context: dict[str, Any], session: Session | None,
           status_code: int = 200) -> HTMLResponse:
    base = {"session": session, "status_zh": STATUS_ZH, "severity_zh": SEVERITY_ZH,
            "kind_zh": KIND_ZH, "programs": PROGRAMS, "url": url, "role_zh": ROLE_ZH,
            "subject_type_zh": SUBJECT_TYPE_ZH, "field_zh": field_zh, "value_zh": value_zh}
    return TEMPLATES.TemplateResponse(request, name, {**base, **context},
                                      status_code=status_code, headers=WORKBENCH_HEADERS)


def url(path: str, **params: Any) -> str:
    """A workbench URL with its query (keys with empty values left out)."""
    query = urlencode({k: v for k, v in params.items() if v not in (None, "")})
    return f"{COOKIE_PATH}{path}" + (f"?{query}" if query else "")


STATUS_OF = {Forbidden: 403, NotFound: 404, DomainError: 400}


def guarded(request: Request, state: AppState,
            build: Callable[[Session], Response]) -> Response:
    """Open the session and build the page; a refusal becomes an HTML error page."""
    session: Session | None = None
    try:
        session = open_session(request, state)
        return build(session)
    except LoginNeeded:
        here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(url("/login", next=here if request.method == "GET" else ""),
                                status_code=303)
    except DomainError as error:
        status = next(s for cls, s in STATUS_OF.items() if isinstance(error, cls))
        return render(request, "workbench_error.html", {"message": str(error)}, session,
                      status_code=status)


# -- login ----------------------------------------------------------------------------
def _safe_next(target: str) -> str:
    """Only a workbench path: never an open redirect to another site."""
    if target.startswith(COOKIE_PATH + "/") and not target.startswith("//") \
            and "\\" not in target:
        return target
    return url("/")


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str = "") -> HTMLResponse:
    login_csrf = secrets.token_urlsafe(LOGIN_CSRF_BYTES)
    response = render(request, "workbench_login.html",
                      {"login_csrf": login_csrf, "next": _safe_next(next), "error": ""}, None)
    response.set_cookie(LOGIN_CSRF_COOKIE, login_csrf, path=COOKIE_PATH, httponly=True,
                        samesite="strict", secure=request.url.scheme == "https")
    return response


@router.post("/login", response_class=HTMLResponse)
def login(request: Request, state: State, token: Annotated[str, Form()] = "",
          csrf: Annotated[str, Form()] = "", next: Annotated[str, Form()] = "") -> Response:
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not expected or not hmac.compare_digest(expected.encode(), csrf.encode("utf-8")):
        return _login_refused(request, "登录页面已过期，请重新打开登录页。", next)
    token = token.strip()
    user = None
    if token and len(token) <= TOKEN_CHARS_MAX:
        user = users.authenticate(state.store.ledger, users.token_hash(token))
    if user is None:
        return _login_refused(request, "令牌无效或已被吊销。", next)
    if user.role not in READERS:
        return _login_refused(request, f"角色 {user.role} 不能使用核查工作台。", next)
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(SESSION_COOKIE, token, max_age=SESSION_SECONDS, path=COOKIE_PATH,
                        httponly=True, samesite="strict",
                        secure=request.url.scheme == "https")
    response.delete_cookie(LOGIN_CSRF_COOKIE, path=COOKIE_PATH)
    return response


def _login_refused(request: Request, message: str, next: str) -> HTMLResponse:
    login_csrf = secrets.token_urlsafe(LOGIN_CSRF_BYTES)
    response = render(request, "workbench_login.html",
                      {"login_csrf": login_csrf, "next": _safe_next(next), "error": message},
                      None, status_code=401)
    response.set_cookie(LOGIN_CSRF_COOKIE, login_csrf, path=COOKIE_PATH, httponly=True,
                        samesite="strict", secure=request.url.scheme == "https")
    return response


@router.post("/logout")
def logout(request: Request, state: State, csrf: Annotated[str, Form()] = "") -> Response:
    def build(session: Session) -> Response:
        check_csrf(session, csrf)
        response = RedirectResponse(url("/login"), status_code=303)
        response.delete_cookie(SESSION_COOKIE, path=COOKIE_PATH)
        return response
    return guarded(request, state, build)


# -- findings -------------------------------------------------------------------------
@dataclass(frozen=True)
class Filters:
    code: str = ""
    township: str = ""
    severity: str = ""
    status: str = ""

    def admits(self, finding: Finding, township: str) -> bool:
        return ((not self.code or finding.code == self.code)
                and (not self.severity or finding.severity == self.severity)
                and (not self.status or finding.status == self.status)
                and (not self.township or township == self.township))


# subject type -> (record kind, record key of a subject id), from the rule registry
SUBJECT_RECORD: dict[str, tuple[str, Callable[[str], str]]] = {
    t.name: (t.record_kind, t.key_of) for t in SUBJECT_TYPES.values() if t.record_kind}


def townships_of(state: AppState, findings: list[Finding]) -> dict[UUID, str]:
    """Each finding's township, from its subject's record ('' when county-wide or not
    known: an adjustment, a bank line with no payroll line, a shared bank account)."""
    wanted: dict[str, set[str]] = {}
    for f in findings:
        if f.subject_type in SUBJECT_RECORD:
            kind, key_of = SUBJECT_RECORD[f.subject_type]
            wanted.setdefault(kind, set()).add(key_of(f.subject_id))
    with state.caught_up() as store:
        current = {(fact.kind, fact.key): str(fact.fields.get("township", ""))
                   for kind, keys in wanted.items()
                   for fact in reads.facts_of_keys(store.db, kind, keys)}
    out: dict[UUID, str] = {}
    for f in findings:
        if f.subject_type in SUBJECT_TYPES and SUBJECT_TYPES[f.subject_type].township_first:
            out[f.id] = f.subject_id.split("|")[0]
        elif f.subject_type in SUBJECT_RECORD:
            kind, key_of = SUBJECT_RECORD[f.subject_type]
            out[f.id] = current.get((kind, key_of(f.subject_id)), "")
        else:
            out[f.id] = ""
    return out


def _clip(text: str) -> str:
    return text.strip()[:FILTER_CHARS_MAX]


@router.get("/", response_class=HTMLResponse)
def findings_page(request: Request, state: State, code: str = "", township: str = "",
                  severity: str = "", status: str = "", offset: str = "0") -> Response:
    """Findings, filtered by code, township, severity and status."""
    filters = Filters(_clip(code), _clip(township), _clip(severity), _clip(status))
    plain = offset.isascii() and offset.isdigit() and len(offset) <= OFFSET_DIGITS_MAX
    first = int(offset) if plain else 0

    def build(session: Session) -> Response:
        if session.user.township is not None:  # township clerks: their households only
            return render(request, "workbench_clerk.html", {}, session)
        may_read_county(session.user)
        ledger = state.store.ledger
        every: list[Finding] = [ledger.repository.get(i) for i in ledger.finding_ids()]
        places = townships_of(state, every)
        found = [f for f in every if filters.admits(f, places[f.id])]
        start = min(first, len(found))
        shown = found[start:start + FINDINGS_PAGE_SIZE]
        record_personal_read(state.store, session.user, "findings", filters.code,
                             f"workbench list (offset {start})")
        return render(request, "workbench_findings.html", {
            "findings": [(finding_out(f), places[f.id]) for f in shown],
            "total": len(found), "offset": start, "page_size": FINDINGS_PAGE_SIZE,
            "filters": filters, "codes": sorted({f.code for f in every}),
            "townships": sorted({t for t in places.values() if t}),
            "statuses": Finding.STATUSES}, session)
    return guarded(request, state, build)


@dataclass(frozen=True)
class Evidence:
    """One evidence token and, for a ledger event, the record version it names."""

    token: str
    record: Record | None


def resolve_evidence(state: AppState, evidence: str) -> list[Evidence]:
    """Evidence tokens, 'event:<id>/<version>' looked up in the ledger (the record as
    that event left it); file rows ('file.csv#row') stay as written."""
    out: list[Evidence] = []
    for number, token in enumerate(evidence.split()):
        record = None
        if token.startswith(EVENT_PREFIX) and number < EVIDENCE_RESOLVED_MAX:
            record = _record_at(state, token[len(EVENT_PREFIX):])
        out.append(Evidence(token, record))
    return out


def _record_at(state: AppState, reference: str) -> Record | None:
    aggregate, _, version = reference.partition("/")
    found: object
    try:
        found = state.store.ledger.repository.get(UUID(aggregate),
                                                  version=int(version) if version else None)
    except (ValueError, AggregateNotFoundError):
        return None
    return found if isinstance(found, Record) else None


def households_of(state: AppState, finding: Finding, evidence: list[Evidence]) -> list[str]:
    """Households a finding concerns: its subject, and those its evidence records name
    (a bank line through its payroll line)."""
    ids: list[str] = []
    if finding.subject_type == "household":
        ids.append(finding.subject_id)
    records = [e.record for e in evidence if e.record is not None]
    if finding.subject_type in SUBJECT_RECORD:
        kind, key_of = SUBJECT_RECORD[finding.subject_type]
        subject = approvals.find_record(state.store.ledger, kind, key_of(finding.subject_id))
        records += [subject] if subject is not None else []
    for record in records:
        if record.kind == "households":
            ids.append(record.key)
        elif record.kind == "bank_return":
            line = approvals.find_record(state.store.ledger, "payroll", record.key)
            ids.append(str(line.fields.get("household_id", "")) if line else "")
        else:
            ids.append(str(record.fields.get("household_id", "")))
    known = [h for h in dict.fromkeys(ids) if h]
    return [h for h in known if approvals.find_record(state.store.ledger, "households", h)]


def reference_matches(state: AppState, id_numbers: set[str]) -> list[reads.Fact]:
    """Death records, officials/relatives and holdings naming any of these ID numbers
    (compared after ``to18``, as the rules compare them)."""
    wanted = {to18(n) for n in id_numbers if n.strip()}
    if not wanted:
        return []
    with state.caught_up() as store:
        lists = catalogue.matched_id_columns()
        listed = [f for kind in lists for f in reads.latest_of_kind(store.db, kind)]
    return [f for f in listed
            if any(to18(str(f.fields.get(c, ""))) in wanted for c in lists[f.kind])]


def household_dossier(state: AppState, user: Principal, household_id: str) -> dict[str, Any]:
    """Statement, full history and reference-list matches of one household, through the
    API's own queries (jurisdiction checked, inspectors' reads logged)."""
    statement = households.household_statement(household_id, user, state)
    history = households.household_history(household_id, user, state,
                                           Pagination(limit=PAGE_SIZE_MAX, offset=0))
    ids = {statement.household.head_id_number}
    ids |= {str(e.fields.get("payee_id_number") or "") for e in history.items
            if e.kind == "payroll"}
    return {"statement": statement, "history": history,
            "matches": reference_matches(state, ids)}


@router.get("/finding", response_class=HTMLResponse)
def finding_page(request: Request, state: State, id: str = "", done: str = "") -> Response:
    """A finding (by its opaque id: a subject may be a bank account, which stays out of
    URLs) with its evidence, the households it concerns (timeline, payroll and bank
    lines, reference-list matches) and the disposition form."""
    def build(session: Session) -> Response:
        may_read_county(session.user)
        return _finding_response(request, state, session, id,
                                 flash="已记录处理结果。" if done else "", error="")
    return guarded(request, state, build)


def _finding(state: AppState, finding_id: str) -> Finding:
    try:
        return stored_finding(state, UUID(finding_id))
    except ValueError:
        raise NotFound(f"no finding {finding_id[:KEY_CHARS_MAX]!r}") from None


def _finding_response(request: Request, state: AppState, session: Session, finding_id: str,
                      flash: str, error: str, status_code: int = 200) -> HTMLResponse:
    finding = _finding(state, finding_id)
    record_personal_read(state.store, session.user, "finding", str(finding.id), finding.code)
    evidence = resolve_evidence(state, finding.evidence)
    found = households_of(state, finding, evidence)
    dossiers = [(h, household_dossier(state, session.user, h))
                for h in found[:HOUSEHOLDS_SHOWN_MAX]]
    return render(request, "workbench_finding.html", {
        "finding": finding_out(finding), "evidence": evidence, "dossiers": dossiers,
        "more_households": found[HOUSEHOLDS_SHOWN_MAX:], "flash": flash, "error": error,
        "may_dispose": session.user.role == "inspector", "dispositions": DISPOSITIONS},
        session, status_code=status_code)


@router.post("/finding/disposition", response_class=HTMLResponse)
def dispose(request: Request, state: State, id: Annotated[str, Form()] = "",
            status: Annotated[str, Form()] = "", note: Annotated[str, Form()] = "",
            recovered: Annotated[str, Form()] = "",
            csrf: Annotated[str, Form()] = "") -> Response:
    """Record a disposition with ``Ledger.dispose_finding``; the session's user is the
    actor. A refused one re-shows the page with the reason."""
    def build(session: Session) -> Response:
        check_csrf(session, csrf)
        may_inspect(session.user)
        finding = _finding(state, id)
        try:
            body = DispositionIn.model_validate(  # the form's text, checked as the JSON body is
                {"status": status, "note": note, "recovered": recovered.strip() or None})
            state.store.ledger.dispose_finding(
                finding.code, finding.subject_id, status=body.status, note=body.note,
                actor=session.user.name,
                recovered=parse_yuan(body.recovered) if body.recovered else None)
        except (ValidationError, DomainError) as problem:
            return _finding_response(request, state, session, id, flash="",
                                     error=_problem_text(problem), status_code=400)
        return RedirectResponse(url("/finding", id=id, done="1"), status_code=303)
    return guarded(request, state, build)


def _problem_text(problem: Exception) -> str:
    if isinstance(problem, ValidationError):
        return "；".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}"
                        for e in problem.errors())
    return str(problem)


# -- households -----------------------------------------------------------------------
@router.get("/household", response_class=HTMLResponse)
def household_page(request: Request, state: State, id: str = "") -> Response:
    """A household's statement, timeline and reference-list matches (clerks: own
    township only, as in the API)."""
    def build(session: Session) -> Response:
        household_id = id.strip()
        if not household_id or len(household_id) > KEY_CHARS_MAX:
            raise DomainError(f"请输入户编号（不超过{KEY_CHARS_MAX}个字符）")
        dossier = household_dossier(state, session.user, household_id)
        return render(request, "workbench_household.html",
                      {"household_id": household_id, "data": dossier}, session)
    return guarded(request, state, build)


# -- sampling -------------------------------------------------------------------------
def sample_of(state: AppState, seed: str) -> list[sampling.Sampled]:
    with state.caught_up() as store:
        register = reads.latest_of_kind(store.db, "households")
    return sampling.draw_sample(((str(f.fields.get("township", "")),
                                  str(f.fields.get("village", "")), f.key)
                                 for f in register), seed)


@router.get("/sampling", response_class=HTMLResponse)
def sampling_page(request: Request, state: State, seed: str = "", done: str = "") -> Response:
    """Draw the sample of a seed and show the visits recorded for it."""
    def build(session: Session) -> Response:
        may_read_county(session.user)
        return _sampling_response(request, state, session, seed, "已记录走访结果。" if done
                                  else "", "")
    return guarded(request, state, build)


def _sampling_response(request: Request, state: AppState, session: Session, seed: str,
                       flash: str, error: str, status_code: int = 200) -> HTMLResponse:
    drawn: list[sampling.Sampled] = []
    visits: list[sampling.FieldVisit] = []
    if seed.strip():
        drawn = sample_of(state, seed)
        visits = sampling.visits(state.store.ledger, seed)
    return render(request, "workbench_sampling.html", {
        "seed": sampling.clean_seed(seed) if seed.strip() else "", "drawn": drawn,
        "visits": visits, "results": sampling.RESULTS, "flash": flash, "error": error,
        "may_record": session.user.role == "inspector",
        "policy": {"villages": sampling.VILLAGE_SHARE_PERCENT,
                   "households": sampling.HOUSEHOLD_SHARE_PERCENT}}, session,
        status_code=status_code)


@router.post("/sampling/visits", response_class=HTMLResponse)
def record_visit(request: Request, state: State, seed: Annotated[str, Form()] = "",
                 household_id: Annotated[str, Form()] = "",
                 visit_date: Annotated[str, Form()] = "", result: Annotated[str, Form()] = "",
                 note: Annotated[str, Form()] = "", csrf: Annotated[str, Form()] = "",
                 ) -> Response:
    """One visit to a drawn household, recorded as an event with the inspector."""
    def build(session: Session) -> Response:
        check_csrf(session, csrf)
        may_inspect(session.user)
        try:
            if household_id not in {s.household_id for s in sample_of(state, seed)}:
                raise DomainError(f"household {household_id} is not in the sample of this "
                                  "seed")
            sampling.record_visit(state.store.ledger, seed=seed, household_id=household_id,
                                  visit_date=visit_date, inspector=session.user.name,
                                  result=result, note=note)
        except DomainError as problem:
            return _sampling_response(request, state, session, seed, "", str(problem),
                                      status_code=400)
        return RedirectResponse(url("/sampling", seed=seed, done="1"), status_code=303)
    return guarded(request, state, build)

"""The HTTP API: ``create_app(url)`` opens one store for the app's lifetime.

Errors are mapped to HTTP here and nowhere else (``STATUS_OF_ERROR``): every error body
is ``{"detail": "..."}`` saying what was wrong (a rejected file adds ``problems``), and
the OpenAPI document declares that shape for every error status of every route.
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from fastapi_offline import FastAPIOffline

from api.routers import (
    adjustments,
    admin,
    assets,
    changes,
    findings,
    funds,
    households,
    imports,
    public,
    transparency,
    workbench,
)
from api.routers.deps import AppState, NotAuthenticated, roles_of
from api.schemas import ErrorOut
from api.wiring import Store
from domain.errors import Conflict, DomainError, Forbidden, NotFound, RejectedFile, Tampered

STATUS_OF_ERROR: dict[type[Exception], int] = {
    NotAuthenticated: 401,
    Forbidden: 403,
    NotFound: 404,
    Conflict: 409,
    RejectedFile: 400,
    Tampered: 503,
    DomainError: 400,
    RequestValidationError: 422,
}
ERROR_DESCRIPTIONS = {
    400: "the ledger refused the command (the detail says why)",
    401: "missing, unknown or revoked bearer token",
    403: "the user's role or township may not do this",
    404: "no such record",
    409: "someone else changed the same records; nothing was written",
    422: "the request does not have the documented shape",
    503: "the ledger's evidence does not hold (log, chain or read model altered): nothing "
         "is answered from it until someone looks (aidledger verify)",
}
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorOut, "description": text} for status, text in ERROR_DESCRIPTIONS.items()
}
VALIDATION_ERRORS_LISTED = 10
TITLE = "aidledger"
DESCRIPTION = ("Event-sourced ledger of a county's assistance funds and poverty-alleviation "
               "assets. Every call needs `Authorization: Bearer <token>` (from "
               "`aidledger user add`). Money is a string of yuan with two decimals.")


def status_of(error: Exception) -> int:
    """The most specific mapped class in the error's MRO decides."""
    for cls in type(error).__mro__:
        if cls in STATUS_OF_ERROR:
            return STATUS_OF_ERROR[cls]
    return 500


def validation_detail(error: RequestValidationError) -> str:
    """'body.amount: String should match pattern …; query.limit: …' (first few)."""
    parts = []
    for item in error.errors()[:VALIDATION_ERRORS_LISTED]:
        where = ".".join(str(p) for p in item.get("loc", ()))
        parts.append(f"{where}: {item.get('msg', 'invalid')}")
    more = len(error.errors()) - VALIDATION_ERRORS_LISTED
    if more > 0:
        parts.append(f"and {more} more")
    return "; ".join(parts) or "invalid request"


async def error_response(request: Request, error: Exception) -> JSONResponse:
    status = status_of(error)
    if isinstance(error, RequestValidationError):
        body = ErrorOut(detail=validation_detail(error))
    else:
        body = ErrorOut(detail=str(error) or type(error).__name__,
                        problems=list(getattr(error, "problems", [])))
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body.model_dump(), status_code=status, headers=headers)


def create_app(url: str) -> FastAPI:
    """The API over the store at ``url`` (opened at startup, closed at shutdown)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        store = Store(url)
        app.state.aidledger = AppState(store=store, read_lock=threading.Lock())
        try:
            yield
        finally:
            store.close()

    # /docs and /redoc with Swagger UI and ReDoc served from the fastapi-offline package,
    # not a CDN: a county office network may have no internet, and the page stayed blank.
    app = FastAPIOffline(title=TITLE, description=DESCRIPTION, version="1",
                         lifespan=lifespan, responses=ERROR_RESPONSES)
    for error_class in STATUS_OF_ERROR:
        app.add_exception_handler(error_class, error_response)
    for module in (admin, households, changes, funds, adjustments, assets, findings, imports):
        describe_roles(module.router)
        app.include_router(module.router)
    app.include_router(transparency.router)  # the monitored log, no login (JSON)
    app.include_router(public.router)  # HTML pages, left out of the OpenAPI document
    app.include_router(workbench.router)
    app.mount("/static", StaticFiles(directory=public.STATIC_DIR), name="static")
    return app


def describe_roles(router: APIRouter) -> None:
    """Say in each operation's OpenAPI description which roles may call it."""
    for route in router.routes:
        if isinstance(route, APIRoute):
            roles = roles_of(route.dependant)
            if roles is not None:
                route.description = f"{route.description}\n\n**Roles:** {roles}".strip()

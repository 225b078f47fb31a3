"""File imports over HTTP: the same parser, checks and all-or-nothing, idempotent
recording as ``aidledger load`` (api/loader.py), one uploaded file at a time."""

from __future__ import annotations

import tempfile
import unicodedata
from enum import Enum
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, UploadFile

from api import files
from api.loader import amount_ceilings, check_references
from api.routers.deps import Principal, State, allow
from api.schemas import ImportKind, ImportOut
from domain.errors import DomainError, RejectedFile

router = APIRouter(prefix="/imports", tags=["imports"])

UPLOAD_BYTES_MAX = 256 * 1024 * 1024  # a county's monthly payroll is a few MiB
FILE_NAME_CHARS_MAX = 200
COPY_CHUNK_BYTES = 1024 * 1024

# Payroll and bank files span townships: only county-wide finance staff import them.
CountyFinance = Annotated[Principal, Depends(allow("finance", county_wide=True))]


def upload_name(upload: UploadFile, kind: str) -> str:
    """The uploaded file's own name (it becomes the evidence ``name.csv#row``)."""
    name = Path(upload.filename or "").name.strip()
    if not name:
        raise DomainError("the upload has no file name")
    if len(name) > FILE_NAME_CHARS_MAX or any(
            unicodedata.category(c) in ("Cc", "Cs") for c in name):
        raise DomainError("the upload's file name is too long or has control characters")
    if Path(name).suffix.lower() not in files.SUFFIXES:
        raise DomainError(f"{name}: upload a .csv or .xlsx {kind} file")
    return name


def parse_upload(upload: UploadFile, kind: str,
                 amount_max_fen: int | None = None) -> files.ParsedFile:
    """Copy the upload to a temporary file (bounded) and parse it as ``kind``, under the
    same limits as a loaded folder (a capped child process: ``api.files.isolate``)."""
    name = upload_name(upload, kind)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        with open(path, "wb") as out:
            copied = 0
            while chunk := upload.file.read(COPY_CHUNK_BYTES):
                copied += len(chunk)
                if copied > UPLOAD_BYTES_MAX:
                    raise DomainError(f"{name}: larger than {UPLOAD_BYTES_MAX} bytes")
                out.write(chunk)
        return files.parse_file(path, kind=kind, amount_max_fen=amount_max_fen)


def _kind_name(kind: Enum) -> str:
    return str(kind.value)


@router.post("/{kind}", response_model=ImportOut, status_code=201)
def import_file(kind: ImportKind, file: UploadFile, user: CountyFinance,
                state: State) -> ImportOut:
    """Record a payroll or bank-return file whole or not at all; the same bytes again
    record nothing (``already_loaded``). A rejected file lists every problem."""
    name = _kind_name(kind)
    ceilings = amount_ceilings(state.store, None)  # the policy stored with the county's files
    parsed = parse_upload(file, name, ceilings.get(name))
    problems = [str(e) for e in parsed.errors]
    if not problems:
        problems = [str(e) for e in check_references(state.store, [parsed])]
    if problems:
        raise RejectedFile(f"{parsed.name}: rejected, nothing was recorded "
                           f"({len(problems)} problems)", problems)
    outcome = state.store.ledger.record_file(
        kind=parsed.kind, name=parsed.name, sha256=parsed.sha256, rows=parsed.rows,
        row_numbers=parsed.row_numbers, actor=user.name)
    with state.caught_up():
        pass  # the read models include the file before the answer says it is recorded
    return ImportOut(**vars(outcome))


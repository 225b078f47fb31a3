"""The log as outsiders monitor it (no login): checkpoints, consistency proofs, receipts.

What Certificate Transparency does for certificates: anyone can fetch the county's latest
signed checkpoint (tree size, Merkle root, time, signatures), ask for an RFC 9162
consistency proof from any earlier size, and so check that the log only ever grew; a
household with a receipt handle gets the inclusion proof of its own events. The formats
are in docs/transparency.md; ``aidledger monitor`` is a client of these routes.
"""

from __future__ import annotations

import base64
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field

from api.routers.deps import State, catch_up
from domain.errors import NotFound
from projections import checkpoint, integrity

# Like the public pages, left out of the OpenAPI document (which is the API that takes a
# token); the routes and their answers are documented in docs/transparency.md.
router = APIRouter(prefix="/public", include_in_schema=False)

TREE_SIZE_MAX = 2**62  # bigger than any log; keeps numbers inside BIGINT
HANDLE_PATTERN = r"^[A-Za-z0-9_-]{16,64}$"


class SignatureOut(BaseModel):
    name: str = Field(description="the signer's key name")
    key_id: str = Field(description="4-byte key id, hex")
    time: str | None = Field(description="when it was signed (UTC ISO 8601)")


class CheckpointOut(BaseModel):
    origin: str
    size: int = Field(description="events in the log the checkpoint commits to")
    root: str = Field(description="RFC 9162 Merkle root, standard base64")
    digest: str = Field(description="the same tree head as aidledger:v1:<size>:<root hex>")
    time: str | None = Field(description="when the county signed it (its first signature)")
    signatures: list[SignatureOut]
    note: str = Field(description="the signed note itself (c2sp.org/tlog-checkpoint)")


class ConsistencyOut(BaseModel):
    first: int = Field(description="the earlier tree size (from=)")
    second: int = Field(description="the later tree size (to=)")
    second_root: str = Field(description="Merkle root at the later size, standard base64")
    proof: list[str] = Field(description="RFC 9162 2.1.4 consistency proof, base64 hashes")


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def checkpoint_out(note: checkpoint.Checkpoint) -> CheckpointOut:
    signatures = [SignatureOut(name=s.name, key_id=s.key_id.hex(),
                               time=s.time if s.timestamp >= 0 else None)
                  for s in note.signatures]
    return CheckpointOut(origin=note.origin, size=note.size, root=_b64(note.root),
                         digest=integrity.Digest(note.size, note.root.hex()).text,
                         time=signatures[0].time if signatures else None,
                         signatures=signatures, note=note.text)


@router.get("/checkpoint", response_model=CheckpointOut)
def latest_checkpoint(state: State) -> CheckpointOut:
    """The latest checkpoint the county signed (``aidledger digest --sign KEY``), with
    every cosignature attached to it."""
    with state.read_lock:
        note = checkpoint.stored(state.store.db)
    if note is None:
        raise NotFound("the county has not published a signed checkpoint yet")
    return checkpoint_out(note)


@router.get("/consistency", response_model=ConsistencyOut)
def consistency(
    state: State,
    first: Annotated[int, Query(alias="from", ge=0, le=TREE_SIZE_MAX)],
    second: Annotated[int | None, Query(alias="to", ge=0, le=TREE_SIZE_MAX)] = None,
) -> ConsistencyOut:
    """Proof that the log of ``to`` events (default: all of it now) extends the log of
    ``from`` events, as RFC 9162 section 2.1.4 defines it."""
    with state.read_lock:
        store = state.store
        size = integrity.current_tip(store).size if second is None else second
        proof = integrity.consistency(store, first, size)
        root = integrity.root_at(store, size)
    return ConsistencyOut(first=first, second=size, second_root=_b64(root),
                          proof=[_b64(h) for h in proof])


@router.get("/receipt/{handle}", response_model=dict[str, Any])
def receipt(state: State,
            handle: Annotated[str, Path(pattern=HANDLE_PATTERN)]) -> dict[str, Any]:
    """A household's inclusion receipt, against the latest signed checkpoint (or, before
    the first, the current digest). The handle is the one printed with the household's
    paper receipt (``aidledger receipt``); the household id never appears in a URL."""
    with state.read_lock:
        store = state.store
        catch_up(store)
        note = checkpoint.stored(store.db)
        target = (integrity.Digest(note.size, note.root.hex()).text if note is not None
                  else integrity.digest(store).text)
        document = integrity.receipt_by_handle(store, handle, target)
    if note is not None:
        document["checkpoint"] = note.text
    return document

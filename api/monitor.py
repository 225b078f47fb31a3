"""``aidledger monitor URL --state FILE``: an outside monitor of a county's log.

Run by anyone (a journalist, the discipline commission, a neighbouring county), from
anywhere, with nothing but the county's public key: it fetches the latest signed
checkpoint (``GET /public/checkpoint``), checks the county's signature (and the
witnesses' asked for), and compares it with the checkpoint it saw last time, kept in
FILE:

- the same size must have the same root (else: a fork, two versions of one history);
- a smaller size is a rollback (events removed);
- a larger size must come with a valid RFC 9162 consistency proof from the old size
  (``GET /public/consistency?from=OLD&to=NEW``), checked here with
  ``projections.merkle.consistent`` (else: history rewritten).

Any of these exits 3 and leaves FILE as it was, so the evidence stays; a good checkpoint
replaces it. Network trouble exits 1. The first run trusts what it sees (there is no
earlier checkpoint to compare with) and says so.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from domain.errors import DomainError, Tampered
from projections.checkpoint import Checkpoint, VerifierKey
from projections.merkle import consistent

TIMEOUT_SECONDS = 30
RESPONSE_BYTES_MAX = 1_000_000
CHECKPOINT_PATH = "/public/checkpoint"
STATE_FORMAT = "aidledger-monitor-state-v1"


@dataclass(frozen=True)
class Seen:
    """What the monitor keeps between runs: the last good checkpoint and whose it is."""

    origin: str
    size: int
    root: bytes
    note: str

    def to_json(self) -> str:
        return json.dumps({"format": STATE_FORMAT, "origin": self.origin, "size": self.size,
                           "root": base64.b64encode(self.root).decode(), "note": self.note,
                           "saved_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")},
                          ensure_ascii=False, indent=2) + "\n"


def base_url(url: str) -> str:
    url = url.rstrip("/")
    return url.removesuffix(CHECKPOINT_PATH)


def fetch_json(url: str) -> Any:
    """GET a JSON document (``DomainError`` on any network or HTTP failure)."""
    if not url.startswith(("http://", "https://")):
        raise DomainError(f"{url}: only http:// and https:// URLs can be monitored")
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_SECONDS) as response:
            body = response.read(RESPONSE_BYTES_MAX + 1)
    except urllib.error.HTTPError as error:
        raise DomainError(f"{url}: HTTP {error.code} {error.reason}") from error
    except (urllib.error.URLError, OSError) as error:
        raise DomainError(f"{url}: cannot fetch ({error})") from error
    if len(body) > RESPONSE_BYTES_MAX:
        raise DomainError(f"{url}: answer larger than {RESPONSE_BYTES_MAX} bytes")
    try:
        return json.loads(body)
    except ValueError as error:
        raise DomainError(f"{url}: not JSON ({error})") from error


def read_state(path: Path) -> Seen | None:
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("format") != STATE_FORMAT:
            raise ValueError(f"format {data.get('format')!r}")
        return Seen(str(data["origin"]), int(data["size"]), base64.b64decode(data["root"]),
                    str(data["note"]))
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise DomainError(f"{path}: not a monitor state file ({error})") from error


def save_state(path: Path, seen: Seen) -> None:
    """Replace FILE whole (a crash leaves the old state, never half a new one)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".part")
    partial.write_text(seen.to_json(), encoding="utf-8")
    os.replace(partial, path)


def checked_checkpoint(note_text: str, log_key: VerifierKey,
                       witnesses: list[VerifierKey], witnesses_min: int) -> Checkpoint:
    """The checkpoint, its county signature and enough witness cosignatures verified."""
    note = Checkpoint.parse(note_text)
    if note.signature_by(log_key) is None:
        raise Tampered(f"the checkpoint is not signed by {log_key.name} "
                       f"(key {log_key.key_id.hex()})")
    cosigned = [w.name for w in witnesses if note.signature_by(w) is not None]
    if len(cosigned) < witnesses_min:
        raise Tampered(f"the checkpoint carries {len(cosigned)} of the {witnesses_min} "
                       "witness cosignatures required")
    return note


def compare(base: str, old: Seen, new: Checkpoint) -> str:
    """Why ``new`` may follow ``old`` (what was checked); ``Tampered`` when it may not."""
    if new.origin != old.origin:
        raise Tampered(f"the log's origin changed from {old.origin!r} to {new.origin!r}")
    if new.size < old.size:
        raise Tampered(f"rollback: the log now shows {new.size} events, it showed "
                       f"{old.size} before (events removed)")
    if new.size == old.size:
        if new.root != old.root:
            raise Tampered(f"fork: two different roots for the same {new.size} events "
                           "(history rewritten)")
        return f"unchanged since last time ({new.size} events)"
    query = urllib.parse.urlencode({"from": old.size, "to": new.size})
    answer = fetch_json(f"{base}/public/consistency?{query}")
    try:
        proof = [base64.b64decode(h, validate=True) for h in answer["proof"]]
    except (KeyError, TypeError, ValueError) as error:
        raise DomainError(f"the consistency proof is malformed ({error!r})") from error
    if not consistent(old.size, old.root, new.size, new.root, proof):
        raise Tampered(f"the log of {new.size} events does not extend the log of "
                       f"{old.size} events seen last time: history was rewritten (a fork)")
    return f"grew from {old.size} to {new.size} events, consistency proof verified"


def monitor(url: str, state_path: Path, log_key: VerifierKey, witnesses: list[VerifierKey],
            witnesses_min: int) -> list[str]:
    """One round: the lines to print. Raises ``Tampered`` on a fork, rollback or forgery."""
    base = base_url(url)
    answer = fetch_json(base + CHECKPOINT_PATH)
    if not isinstance(answer, dict) or not isinstance(answer.get("note"), str):
        raise DomainError(f"{base}{CHECKPOINT_PATH}: no checkpoint note in the answer")
    note = checked_checkpoint(answer["note"], log_key, witnesses, witnesses_min)
    old = read_state(state_path)
    if old is None:
        what = (f"first look: {note.size} events, trusted as seen (nothing earlier to "
                "compare with)")
    else:
        what = compare(base, old, note)
    save_state(state_path, Seen(note.origin, note.size, note.root, note.text))
    signer = note.signature_by(log_key)
    assert signer is not None  # checked above
    return [f"monitor {note.origin}: OK, {what}",
            f"checkpoint signed by {log_key.name} at {signer.time}; state -> {state_path}"]

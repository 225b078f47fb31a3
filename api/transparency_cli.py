"""Command-line faces of the monitored log: keys, signed checkpoints, cosigning, monitoring.

``key new``, ``digest --sign``, ``cosign``, ``checkpoint add`` and ``monitor``; the
formats are ``projections.checkpoint``'s and docs/transparency.md's. Exit codes as
everywhere (``api/cli.py``): a forged signature, a fork or a rewrite raise ``Tampered``
(exit 3), bad arguments ``DomainError`` (exit 1).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from domain.errors import DomainError, Tampered
from projections import checkpoint


def key_new(out: Path, name: str) -> int:
    key = checkpoint.write_new_key(out, name)
    print(f"new Ed25519 key {key.name}: private key -> {out} (keep it off the database "
          f"server), verifier key -> {out}.pub; give the verifier key to monitors:")
    print(key.verifier.text)
    return 0


def sign(store: Any, key_path: Path, origin: str | None, out: Path | None) -> str:
    """Sign the log now, keep the checkpoint in the store, write it to ``out``."""
    note = checkpoint.sign_log(store, checkpoint.read_signing_key(key_path), origin)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(note.text, encoding="utf-8")
    where = f" -> {out}" if out is not None else ""
    return (f"checkpoint of {note.size} events signed by {note.signatures[-1].name}, kept "
            f"for /public/checkpoint{where}")


def cosign(path: Path, key_path: Path, log_key: str | None, out: Path | None) -> int:
    """A witness's cosignature: checks the county's signature when its key is given."""
    note = _read_checkpoint(path)
    if log_key is not None:
        county = checkpoint.read_verifier_key(log_key)
        if note.signature_by(county) is None:
            raise Tampered(f"{path} is not signed by {county.name}: not cosigned")
    else:
        print("warning: no --log-key given, so the county's signature was not checked")
    key = checkpoint.read_signing_key(key_path)
    signed = note.signed(key)
    target = out or path
    target.write_text(signed.text, encoding="utf-8")
    print(f"cosigned by {key.name}: {note.origin}, {note.size} events -> {target}")
    return 0


def checkpoint_add(store: Any, path: Path) -> int:
    """Attach the signatures of a (co)signed checkpoint file to the store's copy."""
    kept = checkpoint.keep(store, _read_checkpoint(path))
    names = ", ".join(s.name for s in kept.signatures)
    print(f"checkpoint of {kept.size} events now carries {len(kept.signatures)} signatures "
          f"({names}); served at /public/checkpoint")
    return 0


def _read_checkpoint(path: Path) -> checkpoint.Checkpoint:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise DomainError(f"cannot read {path}: {error}") from error
    return checkpoint.Checkpoint.parse(text)


def monitor(url: str, state: Path, log_key: str, witness_keys: list[str],
            witnesses_min: int) -> int:
    from api.monitor import monitor as run

    witnesses = [checkpoint.read_verifier_key(k) for k in witness_keys]
    for line in run(url, state, checkpoint.read_verifier_key(log_key), witnesses,
                    witnesses_min):
        print(line)
    return 0

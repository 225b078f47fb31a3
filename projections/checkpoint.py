"""Signed checkpoints of the log: C2SP tlog-checkpoint notes, Ed25519 cosignatures.

Why: a digest printed on a disclosure protects what was published against a later
rewrite, but only if someone compares. A checkpoint is the same commitment (tree size and
Merkle root, ``projections.merkle``) in the format transparency logs use, signed by the
county with a key kept off the database server, and co-signed by a second party (the
discipline commission: a *witness*). Anyone can fetch it (``GET /public/checkpoint``),
ask for an RFC 9162 consistency proof from the size they saw last time
(``GET /public/consistency``) and so tell a log that only grew from one that was
rewritten or forked (``aidledger monitor``). Format, in full, in docs/transparency.md:

- the note text (c2sp.org/tlog-checkpoint): origin line, tree size in decimal, the root
  hash in standard base64, each ending in a newline; no extension lines;
- signature lines (c2sp.org/signed-note): ``— <key name> <base64(key id || sig)>``;
- every signature, the county's and each witness's, is a timestamped Ed25519
  cosignature (c2sp.org/tlog-cosignature, signature type 0x04): ``sig`` is the 8-byte
  big-endian POSIX time then the 64-byte Ed25519 signature of
  ``"cosignature/v1\\ntime <t>\\n" || note text``; the key id is the first 4 bytes of
  SHA-256(key name || "\\n" || 0x04 || public key). The county's timestamp is the
  checkpoint's time.

Keys are files of one line: the private key ``PRIVATE+KEY+<name>+<key id hex>+<base64(0x04
|| 32-byte seed)>`` and the verifier key ``<name>+<key id hex>+<base64(0x04 || 32-byte
public key)>`` (the vkey encoding of c2sp.org/signed-note). Ed25519 itself is the
``cryptography`` package's, never hand-made.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import os
import re
import struct
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from domain.errors import DomainError, Tampered

COSIGNATURE_TYPE = 0x04
COSIGNATURE_HEADER = b"cosignature/v1\n"
SIGNATURE_PREFIX = "\u2014 "  # em dash, space
PRIVATE_PREFIX = "PRIVATE+KEY+"
KEY_ID_BYTES, TIMESTAMP_BYTES, ED25519_SIGNATURE_BYTES, ED25519_KEY_BYTES = 4, 8, 64, 32
SIGNATURES_MAX = 100  # signature lines accepted in one note (c2sp: at least 16)
NOTE_CHARS_MAX = 64_000
NAME_RE = re.compile(r"[^\s+]+")  # key names and origins: no spaces, no plus
DEFAULT_KEY_NAME = "aidledger.county/log"
_TIMESTAMP = struct.Struct(">Q")


def key_id(name: str, public: bytes) -> bytes:
    return hashlib.sha256(name.encode("utf-8") + b"\n" + bytes([COSIGNATURE_TYPE])
                          + public).digest()[:KEY_ID_BYTES]


def _check_name(name: str, what: str) -> str:
    if not NAME_RE.fullmatch(name):
        raise DomainError(f"{what} {name!r}: must be non-empty, without spaces or '+'")
    return name


def _raw_public(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


@dataclass(frozen=True)
class VerifierKey:
    """Whose signature to accept: a name and an Ed25519 public key."""

    name: str
    public: bytes

    @property
    def key_id(self) -> bytes:
        return key_id(self.name, self.public)

    @property
    def text(self) -> str:
        encoded = base64.b64encode(bytes([COSIGNATURE_TYPE]) + self.public).decode()
        return f"{self.name}+{self.key_id.hex()}+{encoded}"

    @classmethod
    def parse(cls, text: str) -> VerifierKey:
        name, hex_id, material = _key_parts(text.strip(), "verifier key")
        key = cls(name, material)
        if key.key_id.hex() != hex_id:
            raise DomainError(f"verifier key {name}: key id {hex_id} does not match its key")
        return key

    def verify(self, message: bytes, signature: bytes) -> bool:
        try:
            Ed25519PublicKey.from_public_bytes(self.public).verify(signature, message)
        except InvalidSignature:
            return False
        return True


@dataclass(frozen=True)
class SigningKey:
    """An Ed25519 private key with its name (kept in a file off the database server)."""

    name: str
    seed: bytes

    @property
    def private(self) -> Ed25519PrivateKey:
        return Ed25519PrivateKey.from_private_bytes(self.seed)

    @property
    def verifier(self) -> VerifierKey:
        return VerifierKey(self.name, _raw_public(self.private.public_key()))

    @property
    def text(self) -> str:
        encoded = base64.b64encode(bytes([COSIGNATURE_TYPE]) + self.seed).decode()
        return f"{PRIVATE_PREFIX}{self.name}+{self.verifier.key_id.hex()}+{encoded}"

    @classmethod
    def new(cls, name: str = DEFAULT_KEY_NAME) -> SigningKey:
        seed = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
            serialization.NoEncryption())
        return cls(_check_name(name, "key name"), seed)

    @classmethod
    def parse(cls, text: str) -> SigningKey:
        text = text.strip()
        if not text.startswith(PRIVATE_PREFIX):
            raise DomainError(f"not a private key (expected {PRIVATE_PREFIX}<name>+<id>+<key>)")
        name, hex_id, material = _key_parts(text[len(PRIVATE_PREFIX):], "private key")
        key = cls(name, material)
        if key.verifier.key_id.hex() != hex_id:
            raise DomainError(f"private key {name}: key id {hex_id} does not match its key")
        return key

    def sign(self, message: bytes) -> bytes:
        return self.private.sign(message)


def _key_parts(text: str, what: str) -> tuple[str, str, bytes]:
    parts = text.split("+", 2)  # the base64 key itself may hold '+'
    if len(parts) != 3:
        raise DomainError(f"not a {what}: expected <name>+<key id>+<base64 key>")
    name, hex_id, encoded = parts
    _check_name(name, "key name")
    try:
        raw = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise DomainError(f"{what} {name}: the key is not base64") from None
    if len(raw) != 1 + ED25519_KEY_BYTES or raw[0] != COSIGNATURE_TYPE \
            or not re.fullmatch(r"[0-9a-f]{8}", hex_id):
        raise DomainError(f"{what} {name}: not an Ed25519 cosignature key (type 0x04)")
    return name, hex_id, raw[1:]


def read_signing_key(path: str | Path) -> SigningKey:
    try:
        return SigningKey.parse(Path(path).read_text(encoding="utf-8"))
    except OSError as error:
        raise DomainError(f"cannot read the key {path}: {error}") from error


def read_verifier_key(text_or_path: str) -> VerifierKey:
    """A verifier key given as its text or as a file holding it."""
    candidate = Path(text_or_path)
    if "+" not in text_or_path or candidate.is_file():
        try:
            text_or_path = candidate.read_text(encoding="utf-8")
        except OSError as error:
            raise DomainError(f"cannot read the verifier key {candidate}: {error}") from error
    return VerifierKey.parse(text_or_path)


def write_new_key(path: str | Path, name: str) -> SigningKey:
    """A new key in ``path`` (owner-only) and its verifier key in ``path``.pub."""
    key, target = SigningKey.new(name), Path(path)
    if target.exists():
        raise DomainError(f"{target} exists already: a key is never overwritten")
    target.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(key.text + "\n")
    Path(f"{target}.pub").write_text(key.verifier.text + "\n", encoding="utf-8")
    return key


# -- checkpoints --------------------------------------------------------------------------
@dataclass(frozen=True)
class Signature:
    """One signature line: who, when (POSIX seconds), and the Ed25519 signature.
    A line of another signature type keeps its bytes in ``signature`` (timestamp -1):
    passed on, never trusted here."""

    name: str
    key_id: bytes
    timestamp: int
    signature: bytes

    @property
    def line(self) -> str:
        stamp = _TIMESTAMP.pack(self.timestamp) if self.timestamp >= 0 else b""
        blob = self.key_id + stamp + self.signature
        return f"{SIGNATURE_PREFIX}{self.name} {base64.b64encode(blob).decode()}"

    @property
    def time(self) -> str:
        return dt.datetime.fromtimestamp(self.timestamp, dt.UTC).isoformat()


@dataclass(frozen=True)
class Checkpoint:
    """A tree head: the log's origin, its size and Merkle root, and who signed it."""

    origin: str
    size: int
    root: bytes
    signatures: tuple[Signature, ...] = field(default=())

    @property
    def body(self) -> str:
        return f"{self.origin}\n{self.size}\n{base64.b64encode(self.root).decode()}\n"

    @property
    def text(self) -> str:
        lines = "".join(s.line + "\n" for s in self.signatures)
        return f"{self.body}\n{lines}"

    def message(self, timestamp: int) -> bytes:
        return COSIGNATURE_HEADER + f"time {timestamp}\n".encode() + self.body.encode("utf-8")

    def signed(self, key: SigningKey, timestamp: int | None = None) -> Checkpoint:
        """This checkpoint with one more signature (a key signs a checkpoint once)."""
        when = int(dt.datetime.now(dt.UTC).timestamp()) if timestamp is None else timestamp
        mine = key.verifier
        others = tuple(s for s in self.signatures
                       if (s.name, s.key_id) != (mine.name, mine.key_id))
        signature = Signature(mine.name, mine.key_id, when, key.sign(self.message(when)))
        return replace(self, signatures=(*others, signature))

    def signature_by(self, key: VerifierKey) -> Signature | None:
        """The key's valid signature; None when it did not sign. A signature line that
        claims to be the key's but does not verify is forgery: ``DomainError``."""
        for signature in self.signatures:
            if (signature.name, signature.key_id) != (key.name, key.key_id) \
                    or signature.timestamp < 0:
                continue
            if not key.verify(self.message(signature.timestamp), signature.signature):
                raise DomainError(f"the signature of {key.name} on this checkpoint does not "
                                  "verify: the checkpoint was altered or forged")
            return signature
        return None

    def merged(self, other: Checkpoint) -> Checkpoint:
        """The signatures of both copies of the same tree head."""
        if (other.origin, other.size, other.root) != (self.origin, self.size, self.root):
            raise DomainError("the two checkpoints are of different tree heads")
        known = {(s.name, s.key_id) for s in self.signatures}
        extra = tuple(s for s in other.signatures if (s.name, s.key_id) not in known)
        return replace(self, signatures=(*self.signatures, *extra))

    @classmethod
    def parse(cls, text: str) -> Checkpoint:
        if len(text) > NOTE_CHARS_MAX or any(ord(c) < 0x20 and c != "\n" for c in text):
            raise DomainError("not a checkpoint: too long, or control characters in it")
        body, separator, signature_text = text.rpartition("\n\n")
        if not separator or not signature_text.endswith("\n"):
            raise DomainError("not a checkpoint: no blank line before its signatures")
        lines = body.split("\n")
        if len(lines) != 3:
            raise DomainError("not a checkpoint: expected origin, size and root lines only")
        origin, size, root = lines
        _check_name(origin, "origin")
        if not re.fullmatch(r"0|[1-9][0-9]*", size):
            raise DomainError(f"not a checkpoint: tree size {size!r}")
        try:
            root_hash = base64.b64decode(root, validate=True)
        except (binascii.Error, ValueError):
            raise DomainError("not a checkpoint: the root is not base64") from None
        if len(root_hash) != 32:
            raise DomainError("not a checkpoint: the root is not 32 bytes")
        signature_lines = signature_text[:-1].split("\n")
        if len(signature_lines) > SIGNATURES_MAX:
            raise DomainError(f"a checkpoint with more than {SIGNATURES_MAX} signatures")
        signatures = tuple(_signature_of(line) for line in signature_lines)
        return cls(origin, int(size), root_hash, signatures)


def _signature_of(line: str) -> Signature:
    if not line.startswith(SIGNATURE_PREFIX):
        raise DomainError(f"not a signature line: {line[:40]!r}")
    name, _, encoded = line[len(SIGNATURE_PREFIX):].partition(" ")
    _check_name(name, "signer name")
    try:
        blob = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise DomainError(f"signature of {name}: not base64") from None
    if len(blob) != KEY_ID_BYTES + TIMESTAMP_BYTES + ED25519_SIGNATURE_BYTES:
        # another signature type: kept so it can be passed on, never trusted here
        return Signature(name, blob[:KEY_ID_BYTES], -1, blob[KEY_ID_BYTES:])
    (timestamp,) = _TIMESTAMP.unpack(blob[KEY_ID_BYTES:KEY_ID_BYTES + TIMESTAMP_BYTES])
    return Signature(name, blob[:KEY_ID_BYTES], timestamp,
                     blob[KEY_ID_BYTES + TIMESTAMP_BYTES:])


# -- the checkpoints a store has signed ---------------------------------------------------
CHECKPOINT_TABLE = "rm_checkpoint"
SCHEMA = (f"CREATE TABLE IF NOT EXISTS {CHECKPOINT_TABLE} (size BIGINT PRIMARY KEY,"
          " note TEXT NOT NULL, stored_at TEXT NOT NULL)",)


def stored(db: Any, size: int | None = None) -> Checkpoint | None:
    """The latest signed checkpoint the store keeps (or the one of ``size``)."""
    if not db.table_exists(CHECKPOINT_TABLE):
        return None
    if size is None:
        rows = db.query(f"SELECT note FROM {CHECKPOINT_TABLE} ORDER BY size DESC LIMIT 1")
    else:
        rows = db.query(f"SELECT note FROM {CHECKPOINT_TABLE} WHERE size=?", [size])
    return Checkpoint.parse(rows[0][0]) if rows else None


def keep(store: Any, checkpoint: Checkpoint) -> Checkpoint:
    """Store a signed checkpoint of this log (its signatures merged into the copy kept
    for the same size), after checking its root is this log's root at that size and that
    the log still has the root of the latest checkpoint kept (never sign a fork)."""
    from projections import integrity

    db = store.db
    for statement in SCHEMA:
        db.execute(statement)
    latest = stored(db)
    if latest is not None and integrity.root_at(store, latest.size) != latest.root:
        raise Tampered(f"the log no longer has the root of checkpoint {latest.size} it "
                       "signed before: it was rewritten; nothing signed. Run aidledger verify")
    if integrity.root_at(store, checkpoint.size) != checkpoint.root:
        raise DomainError(f"this checkpoint's root is not this log's root at size "
                          f"{checkpoint.size}: a checkpoint of another log?")
    existing = stored(db, checkpoint.size)
    if existing is not None:
        checkpoint = existing.merged(checkpoint)
    now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    with db.transaction():
        db.execute(f"DELETE FROM {CHECKPOINT_TABLE} WHERE size=?", [checkpoint.size])
        db.execute(f"INSERT INTO {CHECKPOINT_TABLE} (size, note, stored_at) VALUES (?, ?, ?)",
                   [checkpoint.size, checkpoint.text, now])
    return checkpoint


def sign_log(store: Any, key: SigningKey, origin: str | None = None) -> Checkpoint:
    """Sign the log as it stands (read under the chain's checks) and keep the checkpoint."""
    from projections import integrity

    head = integrity.digest(store)
    checkpoint = Checkpoint(_check_name(origin or key.name, "origin"), head.position,
                            bytes.fromhex(head.root_hex))
    return keep(store, checkpoint.signed(key))

"""The hashing of the log: event leaves, the linear chain and the RFC 6962/9162 Merkle tree.

Pure functions and one small class, no database: ``projections.chain`` writes what they
compute beside every event as it is stored, ``projections.integrity`` re-computes it to
verify, ``projections.checkpoint`` signs its roots, and an outside monitor (``api.monitor``)
checks the proofs. The encodings are documented for outsiders in ``docs/transparency.md``.

Leaf of the event at position ``i`` (1, 2, 3 … in notification order)::

    leaf_i = SHA-256( F(str(i)) || F(originator_id) || F(str(originator_version))
                      || F(topic) || F(state) )
    F(x)   = len(x) as 8-byte big-endian unsigned integer || x

Merkle tree (RFC 9162 section 2.1.1): ``leaf hash = SHA-256(0x00 || leaf_i)``,
``node = SHA-256(0x01 || left || right)``, a tree of ``n`` leaves split at the largest
power of two smaller than ``n``; the empty tree's root is SHA-256 of nothing. The tree is
built over the 32-byte leaves above, so a proof about an event needs only its leaf.
"""

from __future__ import annotations

import hashlib
import json
import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

HASH_BYTES = 32
LENGTH_PREFIX = struct.Struct(">Q")  # F(x): 8-byte big-endian length
ZERO_HEAD = bytes(HASH_BYTES)
EMPTY_ROOT = hashlib.sha256(b"").digest()
LEAF_PREFIX, NODE_PREFIX = b"\x00", b"\x01"
# A proof never needs more hashes than the tree has levels: 64 covers 2**64 leaves.
PROOF_HASHES_MAX = 64

_sha256 = hashlib.sha256
_length = LENGTH_PREFIX.pack


def sha256(data: bytes) -> bytes:
    return _sha256(data).digest()


def leaf_of(position: int, originator_id: Any, originator_version: int, topic: str,
            state: bytes) -> bytes:
    """The leaf of one event: SHA-256 over its length-prefixed fields (module doc).
    Written for speed (every append hashes every event): a topic's F(topic) is cached."""
    p = b"%d" % position
    o = (originator_id if isinstance(originator_id, str) else str(originator_id)).encode()
    v = b"%d" % originator_version
    t = _TOPIC_FIELDS.get(topic)
    if t is None:
        t = _topic_field(topic)
    return _sha256(b"".join((_length(len(p)), p, _length(len(o)), o, _length(len(v)), v,
                             t, _length(len(state)), state))).digest()


_TOPIC_FIELDS: dict[str, bytes] = {}
TOPICS_CACHED_MAX = 1_000


def _topic_field(topic: str) -> bytes:
    encoded = topic.encode("utf-8")
    field_ = _length(len(encoded)) + encoded
    if len(_TOPIC_FIELDS) < TOPICS_CACHED_MAX:
        _TOPIC_FIELDS[topic] = field_
    return field_


def leaf_hash(leaf: bytes) -> bytes:
    return _sha256(LEAF_PREFIX + leaf).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return _sha256(NODE_PREFIX + left + right).digest()


def chain_head(previous: bytes, leaf: bytes) -> bytes:
    """``head_i = SHA-256(head_{i-1} || leaf_i)``, ``head_0`` = 32 zero bytes."""
    return _sha256(previous + leaf).digest()


def split_point(size: int) -> int:
    """The largest power of two smaller than ``size`` (``size`` >= 2): RFC 9162's k."""
    return 1 << ((size - 1).bit_length() - 1)


@dataclass
class Frontier:
    """Roots of the perfect subtrees making up a Merkle tree of ``size`` leaves.

    ``pieces`` holds (first leaf index, leaf count, hash), largest first; appending a
    leaf merges equal-sized pieces, so there are never more than log2(size) + 1.
    """

    size: int = 0
    pieces: list[tuple[int, int, bytes]] = field(default_factory=list)

    def append(self, leaf: bytes, report_from: int = 1) -> list[tuple[int, int, bytes]]:
        """Add one leaf; returns the perfect subtrees it completed (smallest first) of at
        least ``report_from`` leaves. Inlined hashing: this runs once per stored event."""
        pieces, completed = self.pieces, []
        lo, count, digest = self.size, 1, _sha256(LEAF_PREFIX + leaf).digest()
        if report_from <= 1:
            completed.append((lo, count, digest))
        while pieces and pieces[-1][1] == count:
            left = pieces.pop()
            lo, count, digest = left[0], count << 1, _sha256(NODE_PREFIX + left[2]
                                                             + digest).digest()
            if count >= report_from:
                completed.append((lo, count, digest))
        pieces.append((lo, count, digest))
        self.size += 1
        return completed

    def root(self, first_leaf: int = 0) -> bytes:
        """Root of the leaves ``first_leaf..size-1`` (a right edge of the tree, or all)."""
        chosen = [p[2] for p in self.pieces if p[0] >= first_leaf]
        if not chosen:
            return EMPTY_ROOT
        root = chosen[-1]
        for piece in reversed(chosen[:-1]):
            root = node_hash(piece, root)
        return root

    def to_text(self) -> str:
        return json.dumps([[lo, count, h.hex()] for lo, count, h in self.pieces])

    @classmethod
    def from_text(cls, size: int, text: str) -> Frontier:
        pieces = [(int(lo), int(count), bytes.fromhex(h)) for lo, count, h in json.loads(text)]
        if sum(count for _, count, _ in pieces) != size:
            raise ValueError(f"a frontier of {size} leaves whose pieces hold another number")
        return cls(size, pieces)


# -- proofs (RFC 9162 section 2.1.3 and 2.1.4) ---------------------------------------------
SubtreeHash = Callable[[int, int], bytes]  # MTH of the leaves [lo, hi)


def inclusion_proof(index: int, size: int, subtree: SubtreeHash) -> list[bytes]:
    """PATH(m, D[n]) of RFC 9162 2.1.3.1: the sibling hashes from the leaf up."""
    if not 0 <= index < size:
        raise ValueError(f"leaf {index} is not in a tree of {size} leaves")
    path: list[bytes] = []
    lo, hi = 0, size
    while hi - lo > 1:
        k = split_point(hi - lo)
        if index < lo + k:
            path.append(subtree(lo + k, hi))
            hi = lo + k
        else:
            path.append(subtree(lo, lo + k))
            lo += k
    return list(reversed(path))


def consistency_proof(first: int, second: int, subtree: SubtreeHash) -> list[bytes]:
    """PROOF(m, D[n]) of RFC 9162 2.1.4.1 for 0 < m <= n (empty when m == n)."""
    if not 0 < first <= second:
        raise ValueError(f"no consistency proof from {first} to {second} leaves")
    proof: list[bytes] = []
    lo, hi, m, whole = 0, second, first, True
    while m != hi - lo:  # SUBPROOF(m, D[lo:hi], whole)
        k = split_point(hi - lo)
        if m <= k:
            proof.append(subtree(lo + k, hi))
            hi = lo + k
        else:
            proof.append(subtree(lo, lo + k))
            lo, m, whole = lo + k, m - k, False
    if not whole:
        proof.append(subtree(lo, hi))
    return list(reversed(proof))


def root_from_inclusion(leaf_hash_: bytes, index: int, size: int,
                        path: Sequence[bytes]) -> bytes | None:
    """RFC 9162 2.1.3.2: the root a leaf hash and its audit path lead to (None: malformed)."""
    if not 0 <= index < size or len(path) > PROOF_HASHES_MAX:
        return None
    fn, sn, r = index, size - 1, leaf_hash_
    for sibling in path:
        if sn == 0:
            return None
        if fn % 2 == 1 or fn == sn:
            r = node_hash(sibling, r)
            while fn % 2 == 0 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, sibling)
        fn, sn = fn >> 1, sn >> 1
    return r if sn == 0 else None


def inclusion_root(leaf: bytes, index: int, size: int, path: Sequence[bytes]) -> bytes | None:
    """The root implied by an event's leaf (not yet leaf-hashed) and its audit path."""
    return root_from_inclusion(leaf_hash(leaf), index, size, path)


def consistent(first: int, first_root: bytes, second: int, second_root: bytes,
               proof: Sequence[bytes]) -> bool:
    """RFC 9162 2.1.4.2: does the tree of ``second`` leaves extend that of ``first``?

    Beyond the RFC's 0 < first < second: equal sizes need an empty proof and equal roots;
    the empty tree (size 0, root SHA-256 of nothing) is extended by every tree."""
    if first == second:
        return not proof and first_root == second_root
    if first == 0:
        return not proof and first_root == EMPTY_ROOT
    if not 0 < first < second or not proof or len(proof) > PROOF_HASHES_MAX:
        return False
    path = list(proof)
    if first & (first - 1) == 0:
        path.insert(0, first_root)
    fn, sn = first - 1, second - 1
    while fn % 2 == 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn % 2 == 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while fn % 2 == 0 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return fr == first_root and sr == second_root and sn == 0

"""The Merkle tree, its proofs and the signatures against published vectors.

RFC 9162 vectors: the eight-leaf tree used by Certificate Transparency's test suites (the
leaf inputs, roots and proofs below are those of transparency-dev/merkle's testdata,
compared here, not its code). Every proof this project produces is also checked by the
small verifiers below, written from the RFC's own text (sections 2.1.3.2 and 2.1.4.2)
and sharing no code with ``projections.merkle``. Ed25519: RFC 8032 section 7.1, tests 1-3.
"""

from __future__ import annotations

import base64
import hashlib

import pytest

from domain.errors import DomainError
from projections import checkpoint, merkle

LEAF_INPUTS = [bytes.fromhex(h) for h in (
    "", "00", "10", "2021", "3031", "40414243", "5051525354555657",
    "606162636465666768696a6b6c6d6e6f")]
ROOTS = [bytes.fromhex(h) for h in (
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328")]
CONSISTENCY = [  # (first, second, proof)
    (1, 8, ["lqKW0iTyhcZ77pPDD4owkVfw2qNdxbh+QQt4YwoJz8c=",
            "Xwg/ChozygdqlSeYMlgNs+DvRYS9/x9UyKNg9Q3jAx4=",
            "a0eq8p7jwq+a+Im8H7klTavTEXfxYjLdaqsDXKOb9uQ="]),
    (6, 8, ["DrxdNDf74tsVi58Sah0RjjCBgQMdCpSfje3t68VY72o=",
            "yoVOoSjtBQtBs1/8G4e46yveRh6eO1WW7Oa51ZdaCuA=",
            "037kGJdt2VdTwcc4Yrk5j6Kiz5tP8P3+izDNlSCWFLc="]),
    (2, 5, ["Xwg/ChozygdqlSeYMlgNs+DvRYS9/x9UyKNg9Q3jAx4=",
            "vBoGQ7EuTS18d5GPROD095qDi2z57FtcKD4fTYhZnms="]),
    (6, 7, ["DrxdNDf74tsVi58Sah0RjjCBgQMdCpSfje3t68VY72o=",
            "sIaT7C5yFZcTBkHoIR5+7cy0wmQTlj7ubB4u0W/7Gl8=",
            "037kGJdt2VdTwcc4Yrk5j6Kiz5tP8P3+izDNlSCWFLc="]),
]
INCLUSION = [  # (leaf index, tree size, proof)
    (0, 8, ["lqKW0iTyhcZ77pPDD4owkVfw2qNdxbh+QQt4YwoJz8c=",
            "Xwg/ChozygdqlSeYMlgNs+DvRYS9/x9UyKNg9Q3jAx4=",
            "a0eq8p7jwq+a+Im8H7klTavTEXfxYjLdaqsDXKOb9uQ="]),
    (5, 8, ["vBoGQ7EuTS18d5GPROD095qDi2z57FtcKD4fTYhZnms=",
            "yoVOoSjtBQtBs1/8G4e46yveRh6eO1WW7Oa51ZdaCuA=",
            "037kGJdt2VdTwcc4Yrk5j6Kiz5tP8P3+izDNlSCWFLc="]),
    (2, 3, ["+sVCA+fMaWzw38tCySodnbr3CtnmIfS9jZhmLwDjwSU="]),
    (0, 1, []),
]
RFC8032 = [  # (secret key, public key, message, signature), section 7.1 tests 1-3
    ("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
     "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
     "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
     "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"),
    ("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
     "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
     "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da"
     "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"),
    ("c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
     "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025", "af82",
     "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac"
     "18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a"),
]


# -- an independent verifier, from RFC 9162's text ---------------------------------------
def _h(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def rfc9162_inclusion_root(leaf_hash: bytes, leaf_index: int, tree_size: int,
                           inclusion_path: list[bytes]) -> bytes | None:
    """2.1.3.2 steps 1-5; the root the path leads to, None where the RFC says fail."""
    if leaf_index >= tree_size:
        return None
    fn, sn, r = leaf_index, tree_size - 1, leaf_hash
    for p in inclusion_path:
        if sn == 0:
            return None
        if fn & 1 or fn == sn:
            r = _h(b"\x01" + p + r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = _h(b"\x01" + r + p)
        fn >>= 1
        sn >>= 1
    return r if sn == 0 else None


def rfc9162_consistent(first: int, second: int, first_hash: bytes, second_hash: bytes,
                       consistency_path: list[bytes]) -> bool:
    """2.1.4.2 steps 1-7 (for 0 < first < second)."""
    if not consistency_path:
        return False
    path = list(consistency_path)
    if first & (first - 1) == 0:
        path = [first_hash, *path]
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = _h(b"\x01" + c + fr)
            sr = _h(b"\x01" + c + sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = _h(b"\x01" + sr + c)
        fn >>= 1
        sn >>= 1
    return fr == first_hash and sr == second_hash and sn == 0


def subtree_of(leaves: list[bytes]) -> merkle.SubtreeHash:
    def subtree(lo: int, hi: int) -> bytes:
        frontier = merkle.Frontier()
        for leaf in leaves[lo:hi]:
            frontier.append(leaf)
        return frontier.root()
    return subtree


def b64(items: list[str]) -> list[bytes]:
    return [base64.b64decode(item) for item in items]


# -- the tree -------------------------------------------------------------------------------
def test_the_frontier_gives_the_published_root_of_every_tree_size() -> None:
    frontier = merkle.Frontier()
    assert frontier.root() == ROOTS[0] == merkle.EMPTY_ROOT
    for size, leaf in enumerate(LEAF_INPUTS, start=1):
        frontier.append(leaf)
        assert frontier.root() == ROOTS[size]
        assert merkle.Frontier.from_text(size, frontier.to_text()).root() == ROOTS[size]


@pytest.mark.parametrize(("first", "second", "proof"), CONSISTENCY)
def test_consistency_proofs_equal_the_published_vectors_and_verify(
        first: int, second: int, proof: list[str]) -> None:
    made = merkle.consistency_proof(first, second, subtree_of(LEAF_INPUTS))
    assert made == b64(proof)
    assert rfc9162_consistent(first, second, ROOTS[first], ROOTS[second], made)
    assert merkle.consistent(first, ROOTS[first], second, ROOTS[second], made)


@pytest.mark.parametrize(("index", "size", "proof"), INCLUSION)
def test_inclusion_proofs_equal_the_published_vectors_and_verify(
        index: int, size: int, proof: list[str]) -> None:
    made = merkle.inclusion_proof(index, size, subtree_of(LEAF_INPUTS))
    assert made == b64(proof)
    leaf = merkle.leaf_hash(LEAF_INPUTS[index])
    assert rfc9162_inclusion_root(leaf, index, size, made) == ROOTS[size]
    assert merkle.root_from_inclusion(leaf, index, size, made) == ROOTS[size]


def test_every_proof_of_every_pair_of_sizes_up_to_40_satisfies_the_rfc_verifier() -> None:
    leaves = [f"leaf {n}".encode() for n in range(40)]
    subtree = subtree_of(leaves)
    roots = [subtree(0, n) if n else merkle.EMPTY_ROOT for n in range(41)]
    for second in range(2, 41):
        for first in range(1, second):
            proof = merkle.consistency_proof(first, second, subtree)
            assert rfc9162_consistent(first, second, roots[first], roots[second], proof)
            assert merkle.consistent(first, roots[first], second, roots[second], proof)
            assert not merkle.consistent(first, roots[first - 1], second, roots[second], proof)
        for index in range(second):
            path = merkle.inclusion_proof(index, second, subtree)
            leaf = merkle.leaf_hash(leaves[index])
            assert rfc9162_inclusion_root(leaf, index, second, path) == roots[second]


def test_a_proof_with_one_flipped_bit_or_a_wrong_size_fails() -> None:
    proof = b64(CONSISTENCY[1][2])
    flipped = [proof[0], bytes([proof[1][0] ^ 1]) + proof[1][1:], proof[2]]
    assert not merkle.consistent(6, ROOTS[6], 8, ROOTS[8], flipped)
    assert not merkle.consistent(5, ROOTS[6], 8, ROOTS[8], proof)
    assert not merkle.consistent(6, ROOTS[6], 8, ROOTS[8], proof[:-1])
    assert not merkle.consistent(8, ROOTS[8], 6, ROOTS[6], proof)
    assert merkle.consistent(8, ROOTS[8], 8, ROOTS[8], [])
    assert merkle.consistent(0, merkle.EMPTY_ROOT, 8, ROOTS[8], [])


# -- signatures -----------------------------------------------------------------------------
@pytest.mark.parametrize(("secret", "public", "message", "signature"), RFC8032)
def test_ed25519_signing_keys_reproduce_rfc_8032(secret: str, public: str, message: str,
                                                 signature: str) -> None:
    key = checkpoint.SigningKey("rfc8032.example/test", bytes.fromhex(secret))
    assert key.verifier.public.hex() == public
    assert key.sign(bytes.fromhex(message)).hex() == signature
    assert key.verifier.verify(bytes.fromhex(message), bytes.fromhex(signature))
    assert not key.verifier.verify(bytes.fromhex(message) + b"!", bytes.fromhex(signature))


def test_a_checkpoint_is_a_c2sp_note_with_a_timestamped_cosignature() -> None:
    key = checkpoint.SigningKey("county.example/log", bytes.fromhex(RFC8032[0][0]))
    note = checkpoint.Checkpoint("county.example/log", 8, ROOTS[8]).signed(key, 1700000000)
    body = f"county.example/log\n8\n{base64.b64encode(ROOTS[8]).decode()}\n"
    assert note.text.startswith(body + "\n\u2014 county.example/log ")
    blob = base64.b64decode(note.text.splitlines()[-1].split(" ")[-1])
    key_id = hashlib.sha256(b"county.example/log\n\x04" + key.verifier.public).digest()[:4]
    assert blob[:4] == key_id and int.from_bytes(blob[4:12], "big") == 1700000000
    message = b"cosignature/v1\ntime 1700000000\n" + body.encode()
    assert key.verifier.verify(message, blob[12:])
    parsed = checkpoint.Checkpoint.parse(note.text)
    assert parsed == note and parsed.signature_by(key.verifier) is not None


def test_keys_round_trip_through_their_text_and_a_forged_note_is_refused() -> None:
    county, witness = checkpoint.SigningKey.new("county.example/log"), \
        checkpoint.SigningKey.new("witness.example/w1")
    for _ in range(40):  # base64 key material often holds '+', the field separator
        key = checkpoint.SigningKey.new("county.example/log")
        assert checkpoint.SigningKey.parse(key.text) == key
        assert checkpoint.VerifierKey.parse(key.verifier.text) == key.verifier
    note = checkpoint.Checkpoint("county.example/log", 8, ROOTS[8]).signed(county)
    cosigned = checkpoint.Checkpoint.parse(note.text).signed(witness)
    assert cosigned.signature_by(witness.verifier) is not None
    assert checkpoint.Checkpoint.parse(cosigned.text).signature_by(county.verifier)
    forged = cosigned.text.replace("\n8\n", "\n9\n")
    with pytest.raises(DomainError, match="does not verify"):
        checkpoint.Checkpoint.parse(forged).signature_by(county.verifier)
    assert note.signature_by(witness.verifier) is None
    with pytest.raises(DomainError):
        checkpoint.Checkpoint.parse("county.example/log\n8\nnot base64\n\n")

"""The log as outsiders see it, through the ASGI app on SQLite and PostgreSQL: signed
checkpoints, consistency proofs checked by an independent verifier, receipts by handle,
and public pages that refuse to show figures whose rows were altered."""

from __future__ import annotations

import base64
from pathlib import Path

from api.loader import load_directory
from projections import checkpoint, facts, integrity
from projections.merkle import leaf_hash, leaf_of
from tests.e2e.conftest import Api, write_big_village
from tests.unit.test_merkle import rfc9162_consistent, rfc9162_inclusion_root

REWRITE_BANK_RETURNS = ("UPDATE rm_facts SET fields=replace(fields,'\"status\":\"success\"',"
                        "'\"status\":\"failed\"') WHERE kind='bank_return'")


def signed_checkpoint(site: Api, _tmp_path: Path) -> checkpoint.SigningKey:
    key = checkpoint.SigningKey.new("county.example/log")
    checkpoint.sign_log(site.store, key)
    return key


def test_the_signed_checkpoint_is_served_with_its_size_root_time_and_signatures(
        api_on_each_store: Api, tmp_path: Path) -> None:
    site = api_on_each_store
    assert site.client.get("/public/checkpoint").status_code == 404  # none signed yet
    key = signed_checkpoint(site, tmp_path)
    body = site.client.get("/public/checkpoint").json()
    published = integrity.digest(site.store)
    assert (body["size"], body["digest"]) == (published.position, published.text)
    assert base64.b64decode(body["root"]).hex() == published.root_hex
    assert body["time"] and body["signatures"][0]["name"] == "county.example/log"
    note = checkpoint.Checkpoint.parse(body["note"])
    assert note.signature_by(key.verifier) is not None


def test_a_consistency_proof_between_two_checkpoints_satisfies_rfc_9162(
        api_on_each_store: Api, tmp_path: Path) -> None:
    site = api_on_each_store
    before = integrity.digest(site.store)
    load_directory(site.store, write_big_village(tmp_path / "more"), actor="seed")
    after = integrity.digest(site.store)
    answer = site.client.get(f"/public/consistency?from={before.position}").json()
    proof = [base64.b64decode(h) for h in answer["proof"]]
    assert answer["second"] == after.position
    assert rfc9162_consistent(before.position, after.position, bytes.fromhex(before.root_hex),
                              bytes.fromhex(after.root_hex), proof)
    assert not rfc9162_consistent(before.position, after.position, bytes(32),
                                  bytes.fromhex(after.root_hex), proof)
    too_far = site.client.get(f"/public/consistency?from=1&to={after.position + 1}")
    assert too_far.status_code == 404


def test_a_household_receipt_by_handle_names_no_household_and_proves_inclusion(
        api_on_each_store: Api, tmp_path: Path) -> None:
    site = api_on_each_store
    signed_checkpoint(site, tmp_path)
    handle = integrity.issue_handle(site.store.db, "H001")
    assert "H001" not in handle
    response = site.client.get(f"/public/receipt/{handle}")
    document = response.json()
    assert response.status_code == 200 and "household_id" not in document
    note = checkpoint.Checkpoint.parse(document["checkpoint"])
    for event in document["events"]:
        leaf = leaf_of(event["position"], event["originator_id"],
                       event["originator_version"], event["topic"],
                       base64.b64decode(event["state"]))
        path = [bytes.fromhex(h) for h in event["audit_path"]]
        assert rfc9162_inclusion_root(leaf_hash(leaf), event["position"] - 1, note.size,
                                      path) == note.root
    assert site.client.get("/public/receipt/" + "x" * 32).status_code == 404


def test_public_pages_answer_503_naming_the_mismatch_when_a_fact_row_was_rewritten(
        api_on_each_store: Api, tmp_path: Path) -> None:
    site = api_on_each_store
    facts.catch_up(site.store.ledger, site.store.db)
    site.store.db.execute(REWRITE_BANK_RETURNS)
    page = site.client.get("/public/")
    assert page.status_code == 503
    assert "rm_facts" in page.text and "bank_return" in page.text

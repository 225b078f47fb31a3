"""Personal data at rest: with AIDLEDGER_CIPHER_KEY set, stored events are AES-GCM
ciphertext (no ID number readable in the database) and load, report, reconcile, digest
and verify work as without it."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

pytest.importorskip("Crypto", reason="encryption at rest needs pycryptodome")

from eventsourcing.cipher import AESCipher  # noqa: E402

from api.sample_county import CountyTruth, generate_county  # noqa: E402
from tests.hardening.conftest import clean_env, run_cli  # noqa: E402

KEY_BYTES = 32


def _env(key: str | None) -> dict[str, str]:
    env = clean_env()
    env.pop("AIDLEDGER_CIPHER_KEY", None)
    if key:
        env["AIDLEDGER_CIPHER_KEY"] = key
    return env


def _run_all(db: str, county: CountyTruth, out: Path, key: str | None) -> None:
    out.mkdir()
    steps = [("load", str(county.directory)),
             ("report", "balances", "--by", "township", "--as-of", county.as_of,
              "--out", str(out / "balances.csv")),
             ("reconcile", "--as-of", county.as_of, "--out", str(out / "findings.csv")),
             ("verify",)]
    for step in steps:
        done = run_cli(db, *step, cwd=out, env=_env(key))
        assert done.returncode == 0, (step, done.stderr)


def _id_numbers(county: CountyTruth) -> list[str]:
    text = (county.directory / "households.csv").read_text(encoding="utf-8-sig")
    return ["".join(line.split(",")[4].split()).upper()  # as the parser normalises them
            for line in text.splitlines()[1:] if line]


def _stored_states(db_path: Path) -> list[bytes]:
    with sqlite3.connect(db_path) as conn:
        return [bytes(row[0]) for row in conn.execute("SELECT state FROM stored_events")]


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    work = tmp_path_factory.mktemp("cipher")
    county = generate_county(work / "county", households=100, messy=False)
    key = AESCipher.create_key(KEY_BYTES)
    _run_all(f"sqlite:///{work / 'plain.db'}", county, work / "plain", None)
    _run_all(f"sqlite:///{work / 'secret.db'}", county, work / "secret", key)
    return {"work": work, "county": county, "key": key}


def test_with_a_key_no_id_number_is_readable_in_the_stored_events(stores: dict) -> None:
    work, county = stores["work"], stores["county"]
    ids = [i.encode() for i in _id_numbers(county)]
    plain = b"\n".join(_stored_states(work / "plain.db"))
    secret = b"\n".join(_stored_states(work / "secret.db"))
    assert sum(i in plain for i in ids) == len(ids)  # the check can see them when they are there
    assert [i for i in ids if i in secret] == []
    assert "丁超".encode() not in secret


def test_with_a_key_reports_and_findings_equal_those_without(stores: dict) -> None:
    work = stores["work"]
    for name in ("balances.csv", "findings.csv", "findings_leads.csv"):
        assert (work / "secret" / name).read_bytes() == (work / "plain" / name).read_bytes()


def test_an_encrypted_log_exports_and_imports_with_the_same_key(stores: dict) -> None:
    work, key = stores["work"], stores["key"]
    secret, restored = f"sqlite:///{work / 'secret.db'}", f"sqlite:///{work / 'restored.db'}"
    assert run_cli(secret, "export", str(work / "log.jsonl.gz"), cwd=work,
                   env=_env(key)).returncode == 0
    assert run_cli(restored, "import", str(work / "log.jsonl.gz"), cwd=work,
                   env=_env(key)).returncode == 0
    digests = [run_cli(db, "digest", cwd=work, env=_env(key)).stdout.strip().splitlines()[-1]
               for db in (secret, restored)]
    assert digests[0] == digests[1]


def test_the_wrong_key_is_refused_with_a_clear_error(stores: dict, tmp_path: Path) -> None:
    work, county = stores["work"], stores["county"]
    db = f"sqlite:///{tmp_path / 'copy.db'}"
    with sqlite3.connect(work / "secret.db") as source, \
            sqlite3.connect(tmp_path / "copy.db") as target:
        source.backup(target)
    wrong = AESCipher.create_key(KEY_BYTES)
    done = run_cli(db, "project", "--rebuild", cwd=tmp_path, env=_env(wrong))
    assert done.returncode == 1
    done_no_key = run_cli(db, "report", "balances", "--by", "township", "--as-of",
                          county.as_of, "--out", str(tmp_path / "b.csv"), cwd=tmp_path,
                          env=_env(None))
    assert done_no_key.returncode == 1
    assert "Traceback" not in done.stderr, done.stderr
    assert "Traceback" not in done_no_key.stderr, done_no_key.stderr
    assert done.stderr.startswith("error:")

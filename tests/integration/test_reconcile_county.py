"""A generated county, loaded into a real store and reconciled: every planted case is
found, no look-alike is, and reconciling again leaves one open finding per subject."""

from __future__ import annotations

import csv
from pathlib import Path

from api.loader import load_directory
from api.reconcile import reconcile_store
from api.sample_county import generate_county
from api.wiring import Store

CONTRACT_HEADER = ["code", "subject_type", "subject_id", "period", "amount", "severity",
                   "title", "detail", "evidence"]


def _read(path: Path) -> list[dict]:
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_a_generated_county_is_reconciled_with_precision_and_recall_one(
        store: Store, tmp_path: Path) -> None:
    truth = generate_county(tmp_path / "county", seed=3, households=250, months=4)
    load_directory(store, truth.directory)
    out = tmp_path / "findings.csv"
    reconcile_store(store, as_of=truth.as_of, out=out, policy_path=None, xlsx=None,
                    actor="t")
    rows = _read(out)
    assert list(rows[0]) == CONTRACT_HEADER
    found = {(r["code"], r["subject_id"]) for r in rows}
    assert found == truth.expected_pairs()
    lookalikes = {(p.code, p.subject_id) for p in truth.lookalikes}
    assert not found & lookalikes
    assert all(r["evidence"] for r in rows), "every finding names its evidence"


def test_reconciling_twice_keeps_one_open_finding_per_subject(
        store: Store, tmp_path: Path) -> None:
    truth = generate_county(tmp_path / "county", seed=5, households=150, months=3)
    load_directory(store, truth.directory)
    for _ in range(2):
        reconcile_store(store, as_of=truth.as_of, out=tmp_path / "f.csv", policy_path=None,
                        xlsx=None, actor="t")
    ids = store.ledger.finding_ids()
    assert len(ids) == len(set(ids)) == len(truth.expected_pairs())
    statuses = {store.ledger.repository.get(i).status for i in ids}
    assert statuses == {"open"}


def test_a_finding_that_no_longer_holds_is_resolved_not_deleted(
        store: Store, tmp_path: Path) -> None:
    truth = generate_county(tmp_path / "county", seed=5, households=150, months=3)
    load_directory(store, truth.directory)
    reconcile_store(store, as_of=truth.as_of, out=tmp_path / "f.csv", policy_path=None,
                    xlsx=None, actor="t")
    policy = tmp_path / "policy.toml"
    policy.write_text("[E07]\nenabled = false\n", encoding="utf-8")
    reconcile_store(store, as_of=truth.as_of, out=tmp_path / "f.csv", policy_path=policy,
                    xlsx=None, actor="t")
    e07 = [p.subject_id for p in truth.findings if p.code == "E07"]
    finding = store.ledger.get_finding("E07", e07[0])
    assert finding.status == "resolved"


def test_modules_run_side_by_side_in_worker_processes_give_the_same_tables(
        tmp_path: Path, monkeypatch) -> None:
    """The forked run (each module in a worker, slow ones first) returns exactly the
    one-process findings and leads, disabled modules included."""
    import pandas as pd

    from projections import facts
    from projections.frames import load_frames
    from reconciliation import runner

    truth = generate_county(tmp_path / "county", seed=3, households=250, months=4)
    with Store(f"sqlite:///{tmp_path / 'c.db'}") as store:
        load_directory(store, truth.directory)
        facts.catch_up(store.ledger, store.db)
        frames = load_frames(store.db)
    policy = {"E07": {"enabled": False}}
    told: list[str] = []
    one = runner.run(frames, policy, truth.as_of, jobs=1)
    monkeypatch.setattr(runner, "PARALLEL_MIN_PAYROLL", 0)
    monkeypatch.setattr(runner, "_run_one", None)  # the forked path must not fall back
    forked = runner.run(frames, policy, truth.as_of, jobs=2, progress=told.append)
    for mine, theirs in zip(one, forked, strict=True):
        pd.testing.assert_frame_equal(mine, theirs)
    assert len(one[0]) > 10 and "E07" not in set(one[0]["code"])
    assert any("已停用" in line for line in told) and len(told) == len(runner.ALL_MODULES)

"""``aidledger demo``: a sample county end to end on the embedded default store.

Generates a realistic county (Chinese names, GB 11643 IDs, GBK bank files, XLSX, messy
rows, planted cases of every finding code), loads it, reconciles it, reports balances
and writes the public disclosure, then scores the findings against what was planted.
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

import pandas as pd

from api.commands import open_store, write_csv
from api.county import generate_county
from api.loader import load_directory
from api.reconcile import reconcile_store
from projections import balances, facts
from projections.frames import load_frames


def run_demo(args: argparse.Namespace) -> int:
    root: Path = args.dir
    county_dir = root / "county"
    if county_dir.exists():
        shutil.rmtree(county_dir)
    truth = generate_county(county_dir, households=args.households)
    print(f"1. generated a sample county in {county_dir}: {truth.households} households, "
          f"{truth.payroll_lines} payroll lines, {len(truth.findings)} planted cases")
    with open_store(args) as store:
        print(f"2. loading into {store.config.url}")
        report = load_directory(store, county_dir, actor="demo")
        for line in report.lines():
            print(line)
        findings_csv = root / "findings.csv"
        print(f"3. reconciling as of {truth.as_of}")
        for line in reconcile_store(store, as_of=truth.as_of, out=findings_csv,
                                    policy_path=None, xlsx=root / "findings.xlsx",
                                    actor="demo"):
            print("  " + line)
        _score(findings_csv, truth)
        frames = load_frames(store.db)
        table = balances.report(frames, "township", truth.as_of)
        write_csv(table, root / "balances_township.csv", money=balances.MONEY_COLUMNS)
        print(f"4. balances by township -> {root / 'balances_township.csv'}; "
              f"trial balance {facts.trial_balance(store.db)} fen (must be 0)")
        _disclose(store, truth, root)
    return 0


def _score(findings_csv: Path, truth) -> None:
    found = pd.read_csv(findings_csv, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    got = set(zip(found["code"], found["subject_id"], strict=True))
    expected = truth.expected_pairs()
    hits = len(got & expected)
    precision = hits / len(got) if got else 1.0
    recall = hits / len(expected) if expected else 1.0
    print(f"  planted cases found: precision {precision:.2f}, recall {recall:.2f} "
          f"({hits} of {len(expected)} planted, {len(got)} reported)")
    for code, subject in sorted(expected - got):
        print(f"    missed {code} {subject}")
    for code, subject in sorted(got - expected):
        print(f"    unexpected {code} {subject}")


def _disclose(store, truth, root: Path) -> None:
    from api.disclosure import disclose_store

    import datetime as dt

    last_month = dt.date.fromisoformat(truth.as_of).replace(day=1) - dt.timedelta(days=1)
    period = last_month.strftime("%Y-%m")
    print(f"5. public disclosure for {period} -> {root / 'disclosure'}")
    for line in disclose_store(store, period=period, out=root / "disclosure"):
        print("  " + line)

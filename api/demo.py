"""``aidledger demo``: a sample county end to end, in the demo's own store.

Generates a realistic county (Chinese names, GB 11643 IDs, GBK bank files, XLSX, messy
rows, planted cases of every finding code), loads it, reconciles it, reports balances
and writes the public disclosure, then scores the findings against what was planted.

Everything lives in ``--dir``: the county's files, the outputs and the store
(``DEMO_STORE``), started afresh on every run. The demo never opens the store named by
``AIDLEDGER_DB`` or ``--db``: an append-only ledger cannot take back 3,000 sample events.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
from pathlib import Path

import pandas as pd

from api.command_io import write_csv
from api.loader import load_directory
from api.reconcile import reconcile_store
from api.sample_county import CountyTruth, generate_county
from api.wiring import Store
from domain.errors import DomainError
from projections import balances, facts
from projections.frames import load_frames

DEMO_STORE = "aidledger-demo.db"
STORE_FILE_SUFFIXES = ("", "-wal", "-shm", "-journal")  # SQLite's companions of the file
DEMO_USER, DEMO_ROLE = "inspector1", "inspector"
SERVE_URL = "http://127.0.0.1:8000"


def demo_url(root: Path) -> str:
    return f"sqlite:///{root / DEMO_STORE}"


def run_demo(args: argparse.Namespace) -> int:
    root: Path = args.dir
    url = demo_url(root)
    print(f"演示：样例县从生成、载入、对账到公示，全部在 {root}/ 里；"
          f"账本是演示自己的 {url}")
    if os.environ.get("AIDLEDGER_DB"):
        print("  注意：演示不使用 AIDLEDGER_DB 指的账本，也不会写入它 "
              "(AIDLEDGER_DB is not used by the demo)")
    _start_afresh(root)
    try:
        truth = generate_county(root / "county", households=args.households)
    except ValueError as error:  # too few households for the planted cases
        raise DomainError(f"demo --households {args.households}: {error}") from None
    print(f"1. 生成样例县 {truth.directory}：{truth.households} 户，"
          f"{truth.payroll_lines} 行发放名册，预埋 {len(truth.findings)} 个问题")
    with Store(url) as store:
        _load_and_reconcile(store, truth, root)
        frames = load_frames(store.db)
        table = balances.report(frames, "township", truth.as_of)
        write_csv(table, root / "balances_township.csv", money=balances.MONEY_COLUMNS)
        print(f"4. 乡镇资金结余 -> {root / 'balances_township.csv'}；"
              f"试算平衡 {facts.trial_balance(store.db)} 分（应为 0）")
        _disclose(store, truth, root)
    _next_steps(url)
    return 0


def _start_afresh(root: Path) -> None:
    """The demo's own files only: its county folder and its store."""
    shutil.rmtree(root / "county", ignore_errors=True)
    for suffix in STORE_FILE_SUFFIXES:
        (root / (DEMO_STORE + suffix)).unlink(missing_ok=True)


def _load_and_reconcile(store: Store, truth: CountyTruth, root: Path) -> None:
    print(f"2. 载入 {store.config.url}")
    for line in load_directory(store, truth.directory, actor="demo").lines():
        print(line)
    findings_csv = root / "findings.csv"
    print(f"3. 对账（截至 {truth.as_of}）-> {findings_csv}，"
          f"Excel 工作簿 {root / 'findings.xlsx'}")
    for line in reconcile_store(store, as_of=truth.as_of, out=findings_csv, policy_path=None,
                                xlsx=root / "findings.xlsx", actor="demo"):
        print("  " + line)
    _score(findings_csv, truth)


def _score(findings_csv: Path, truth: CountyTruth) -> None:
    found = pd.read_csv(findings_csv, dtype=str, keep_default_na=False, encoding="utf-8")
    got = set(zip(found["code"], found["subject_id"], strict=True))
    expected = truth.expected_pairs()
    hits = len(got & expected)
    precision = hits / len(got) if got else 1.0
    recall = hits / len(expected) if expected else 1.0
    print(f"  预埋问题检出：查准率 {precision:.2f}，查全率 {recall:.2f}"
          f"（预埋 {len(expected)} 个，查出 {hits} 个，共报告 {len(got)} 个）")
    for code, subject in sorted(expected - got):
        print(f"    漏报 {code} {subject}")
    for code, subject in sorted(got - expected):
        print(f"    多报 {code} {subject}")


def _disclose(store: Store, truth: CountyTruth, root: Path) -> None:
    from api.disclosure import disclose_store

    last_month = dt.date.fromisoformat(truth.as_of).replace(day=1) - dt.timedelta(days=1)
    period = last_month.strftime("%Y-%m")
    print(f"5. {period} 公示文件 -> {root / 'disclosure'}")
    for line in disclose_store(store, period=period, out=root / "disclosure"):
        print("  " + line)


def _next_steps(url: str) -> None:
    """What a person does next with the sample county: the workbench and the pages."""
    db = f"--db {url}"
    print("下一步 (next steps):")
    print(f"  1) 建一个核查人员账号，最后一行是登录令牌：aidledger {db} user add {DEMO_USER} "
          f"--role {DEMO_ROLE}")
    print(f"  2) 启动服务：aidledger {db} serve")
    print(f"  3) 浏览器打开核查工作台 {SERVE_URL}/workbench/ （用令牌登录），"
          f"公示页 {SERVE_URL}/public/ ，接口文档 {SERVE_URL}/docs")

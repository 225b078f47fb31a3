"""``aidledger reconcile``: frames -> every enabled rule -> CSV, XLSX, ledger, summary."""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

from api import findings_files
from api.findings_files import evidence_path
from api.wiring import Store
from domain.money import from_fen
from projections import facts
from projections.approvals import adjustments_frame, with_signatures
from projections.frames import load_frames
from reconciliation import runner
from reconciliation.cells import event_sources
from reconciliation.policy import load_policy, load_policy_text


def _policy(store: Store, policy_path: Path | None) -> dict[str, dict]:
    """--policy FILE wins; else the policy.toml loaded with the county's files."""
    if policy_path is not None:
        return load_policy(policy_path)
    return load_policy_text(store.ledger.policy_text())


def finding_rows(findings: pd.DataFrame) -> list[dict]:
    """Findings as the ledger records them (amount as Decimal yuan or None)."""
    rows = []
    for rec in findings.to_dict("records"):
        amount = rec.pop("amount_fen")
        rec["amount"] = None if pd.isna(amount) else from_fen(int(amount))
        rows.append({k: ("" if v is None and k != "amount" else v) for k, v in rec.items()})
    return rows


def reconcile_store(store: Store, *, as_of: str, out: Path, policy_path: Path | None,
                    xlsx: Path | None, actor: str) -> list[str]:
    policy = _policy(store, policy_path)
    facts.catch_up(store.ledger, store.db)
    frames = load_frames(store.db)
    frames.adjustments = adjustments_frame(store.ledger)
    frames.reserve = with_signatures(store.ledger, frames.reserve)

    def progress(message: str) -> None:
        if sys.stderr.isatty():
            print(f"  {message}", file=sys.stderr)

    findings, leads = runner.run(frames, policy, as_of, progress=progress)
    sources = event_sources(frames, [*findings["evidence"], *leads["evidence"]])
    findings_files.write_findings_csv(findings, out, sources)
    leads_path = findings_files.leads_path(out)
    findings_files.write_findings_csv(leads, leads_path, sources)
    if xlsx is not None:
        findings_files.write_findings_xlsx(findings, leads, xlsx, findings_csv=out)
    counts = store.ledger.record_findings(finding_rows(findings), actor=actor)
    lines = [(f"对账截至 {as_of}：{len(findings)} 项问题 -> {out}"
              f"（完整证据 {evidence_path(out)}）")]
    lines += findings_files.summary_lines(findings, leads)
    lines.append(f"统计线索 -> {leads_path}（完整证据 {evidence_path(leads_path)}）")
    lines.append(f"账本：新记录 {counts['raised']} 项，更新 {counts['refreshed']} 项，"
                 f"已不成立 {counts['resolved']} 项")
    return lines

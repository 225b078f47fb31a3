"""``aidledger reconcile``: frames -> every enabled rule -> CSV, XLSX, ledger, summary."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import pandas as pd

from api.wiring import Store
from domain.money import from_fen
from projections import facts
from projections.frames import load_frames
from reconciliation import runner
from reconciliation.cells import event_sources, evidence_path
from reconciliation.policy import load_policy


def _policy(store: Store, policy_path: Path | None) -> dict[str, dict]:
    """--policy FILE wins; else the policy.toml loaded with the county's files."""
    if policy_path is not None:
        return load_policy(policy_path)
    text = store.ledger.policy_text()
    if text is None:
        return load_policy(None)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "policy.toml"
        path.write_text(text, encoding="utf-8")
        return load_policy(path)


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
    frames.adjustments = adjustments_frame(store)
    frames.reserve = with_signatures(store, frames.reserve)

    def progress(message: str) -> None:
        if sys.stderr.isatty():
            print(f"  {message}", file=sys.stderr)

    findings, leads = runner.run(frames, policy, as_of, progress=progress)
    sources = event_sources(frames, [*findings["evidence"], *leads["evidence"]])
    runner.write_findings_csv(findings, out, sources)
    leads_path = runner.leads_path(out)
    runner.write_findings_csv(leads, leads_path, sources)
    if xlsx is not None:
        runner.write_findings_xlsx(findings, leads, xlsx, findings_csv=out)
    counts = store.ledger.record_findings(finding_rows(findings), actor=actor)
    lines = [(f"对账截至 {as_of}：{len(findings)} 项问题 -> {out}"
              f"（完整证据 {evidence_path(out)}）")]
    lines += runner.summary_lines(findings, leads)
    lines.append(f"统计线索 -> {leads_path}（完整证据 {evidence_path(leads_path)}）")
    lines.append(f"账本：新记录 {counts['raised']} 项，更新 {counts['refreshed']} 项，"
                 f"已不成立 {counts['resolved']} 项")
    return lines


def adjustments_frame(store: Store) -> pd.DataFrame:
    """Adjustments recorded through the API, for D01 (self-approval)."""
    from domain.records import Adjustment
    from reconciliation.common import ADJUSTMENT_COLUMNS

    topic = f"{Adjustment.__module__}:{Adjustment.__qualname__}.Requested"
    rows, start = [], 1
    while True:
        page = store.ledger.recorder.select_notifications(start, 1000, topics=[topic])
        if not page:
            break
        for n in page:
            adj = store.ledger.repository.get(n.originator_id)
            rows.append({"adjustment_id": adj.adjustment_id, "recorded_by": adj.recorded_by,
                         "approver": adj.approver, "amount_fen": int(adj.amount * 100),
                         "date": adj.business_date, "reason": adj.reason,
                         "evidence_event": f"{adj.id}/{adj.version}", "evidence_row": "",
                         "recorded_at": "", "recorded_by_id": adj.recorded_by_id,
                         "approver_id": adj.approver_id})
        start = page[-1].id + 1
    return pd.DataFrame(rows, columns=ADJUSTMENT_COLUMNS)


def with_signatures(store: Store, reserve: pd.DataFrame) -> pd.DataFrame:
    """The reserve frame with the user ids of maker and approver beside their names on
    the rows the API's approval wrote and nobody changed since (their version 1), for
    D01; '' elsewhere (files carry names only)."""
    from domain.approvals import RESERVE_KIND, reserve_approvals
    from domain.records import record_id
    from projections.tables import SIGNATURE_COLUMNS

    signed = {f"{record_id(RESERVE_KIND, a.record_id)}/1": (a.requested_by_id, a.decided_by_id)
              for a in reserve_approvals(store.ledger)
              if a.status == "approved" and a.requested_by_id and a.decided_by_id}
    pairs = [signed.get(event, ("", "")) for event in reserve["evidence_event"]]
    ids = pd.DataFrame(pairs, columns=SIGNATURE_COLUMNS, index=reserve.index, dtype=object)
    return reserve.assign(**{c: ids[c] for c in SIGNATURE_COLUMNS})

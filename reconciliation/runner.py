"""Run every enabled finding rule over the frames and return what they found.

One pipeline with named stages, beancount-style: take the rules of the registry
(``reconciliation.rules``), run each ``check`` with its policy, check the shape of what
came back (one row per subject, exactly ``FINDING_COLUMNS``), collect everything into two
tables. Writing them is the caller's (``api.findings_files``). Findings (P/B/E/R/A/D
codes) and statistical leads (S codes, ``Rule.lead``) stay apart: a lead is a reason to
look, never a finding to count.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor

import pandas as pd

from reconciliation import payments, rules
from reconciliation.common import FINDING_COLUMNS, Frames, empty_findings
from reconciliation.rules import Rule

# Module names of every registered code, in the contract's order (the writers' order).
ALL_MODULES: list[str] = [r.code.lower() for r in rules.all_rules()]

Progress = Callable[[str], None]
# Below this many payroll lines the rules run one after the other: starting worker
# processes costs more than it saves.
PARALLEL_MIN_PAYROLL = 100_000


def run(frames: Frames, policy: dict[str, dict], as_of: str,
        progress: Progress | None = None, codes: Sequence[str] | None = None,
        jobs: int | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(findings, leads), each sorted by (code, subject_id).

    ``codes`` defaults to every registered rule and screen (an unknown code is an
    error); a code absent from ``policy`` runs with its defaults. ``jobs`` worker
    processes (default: one per CPU) share the frames by ``fork`` and run the rules side
    by side once the month is large (PARALLEL_MIN_PAYROLL); the result is the same table
    as one process gives.
    """
    dt.date.fromisoformat(as_of)  # a malformed as-of date fails here, not deep in a rule
    chosen = rules.all_rules() if codes is None else tuple(rules.rule(c) for c in codes)
    enabled = _enabled(chosen, policy, progress)
    workers = _workers(jobs, len(enabled), len(frames.payroll))
    with payments.payments_shared():  # the payments joined once, for every rule
        if workers > 1:
            payments.share_now(frames, as_of)  # before the fork: shared by all
            found = _run_forked(enabled, frames, as_of, progress, workers)
        else:
            found = {code: _run_one(rules.rule(code), settings, frames, as_of, progress)
                     for code, settings in enabled.items()}
    return (_combined([found[r.code] for r in chosen if not r.lead and r.code in found]),
            _combined([found[r.code] for r in chosen if r.lead and r.code in found]))


def _enabled(chosen: Sequence[Rule], policy: dict[str, dict],
             progress: Progress | None) -> dict[str, dict]:
    """The settings of each rule to run (its defaults, then the policy), in order."""
    out = {}
    for rule in chosen:
        settings = {**rule.defaults, **policy.get(rule.code, {})}
        if not settings.pop("enabled", True):
            _tell(progress, f"{rule.code} {rule.title_zh}: 已停用 (disabled)")
            continue
        out[rule.code] = settings
    return out


def _workers(jobs: int | None, count: int, payroll_lines: int) -> int:
    if jobs is None:
        jobs = os.cpu_count() or 1
    if payroll_lines < PARALLEL_MIN_PAYROLL \
            or "fork" not in multiprocessing.get_all_start_methods():
        return 1
    return max(1, min(jobs, count))


def _check(code: str, settings: dict, frames: Frames, as_of: str) -> pd.DataFrame:
    rule = rules.rule(code)
    return _checked_result(rule, rule.check(frames, settings, as_of))


def _tell_found(progress: Progress | None, rule: Rule, found: pd.DataFrame) -> None:
    _tell(progress, f"{rule.code} {rule.title_zh}: {len(found)}")


def _run_one(rule: Rule, settings: dict, frames: Frames, as_of: str,
             progress: Progress | None) -> pd.DataFrame:
    found = _check(rule.code, settings, frames, as_of)
    _tell_found(progress, rule, found)
    return found


# What the forked workers read: set just before the pool forks them, so each inherits
# the frames (copy-on-write) instead of receiving them pickled.
_SHARED: tuple[Frames, str] | None = None


def _check_in_worker(code: str, settings: dict) -> pd.DataFrame:
    assert _SHARED is not None, "worker started without the frames"
    frames, as_of = _SHARED
    return _check(code, settings, frames, as_of)


def _run_forked(enabled: dict[str, dict], frames: Frames, as_of: str,
                progress: Progress | None, workers: int) -> dict[str, pd.DataFrame]:
    """Each rule in a worker process, the costliest submitted first (``Rule.cost``); the
    results are gathered by code, so the order they finish in changes nothing."""
    global _SHARED
    order = sorted(enabled, key=lambda code: -rules.rule(code).cost)  # stable: ties keep order
    _SHARED = (frames, as_of)
    try:
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) \
                as pool:
            futures = {code: pool.submit(_check_in_worker, code, enabled[code])
                       for code in order}
            found = {}
            for code in enabled:  # progress in registry order, as the one-process run tells it
                found[code] = futures[code].result()
                _tell_found(progress, rules.rule(code), found[code])
    finally:
        _SHARED = None
    return found


def _combined(results: list[pd.DataFrame]) -> pd.DataFrame:
    found_any = [r for r in results if not r.empty]
    if not found_any:
        return empty_findings()
    out = pd.concat(found_any, ignore_index=True)
    out["amount_fen"] = out["amount_fen"].astype("Int64")
    return out.sort_values(["code", "subject_id"], kind="stable").reset_index(drop=True)


def _checked_result(rule: Rule, found: pd.DataFrame) -> pd.DataFrame:
    """The rule's output if it keeps the contract; a loud error naming it if not."""
    if list(found.columns) != FINDING_COLUMNS:
        raise RuntimeError(f"{rule.module}: check returned columns {list(found.columns)}, "
                           f"expected {FINDING_COLUMNS}")
    if not found.empty and set(found["code"]) != {rule.code}:
        raise RuntimeError(f"{rule.module}: check returned codes {set(found['code'])}")
    if found.duplicated(["subject_type", "subject_id"]).any():
        raise RuntimeError(f"{rule.module}: more than one finding for one subject")
    return found


def _tell(progress: Progress | None, message: str) -> None:
    if progress is not None:
        progress(message)

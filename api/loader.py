"""``aidledger load DIR``: parse -> validate -> record -> project.

Every file of the folder is parsed and checked before anything is written, so a folder
with one bad file is rejected whole with every problem listed (file, row, column,
reason) and the store is untouched. Each file is then recorded in one transaction,
keyed by the SHA-256 of its bytes: loading it again writes nothing, also after a crash
half-way through a folder.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from api import files
from api.wiring import Store
from domain.errors import DomainError, RejectedFile
from domain.ledger import FileOutcome
from projections import facts

POLICY_FILE = "policy.toml"
ProgressFactory = Callable[[int, str], "Progress"]


class Progress:
    """A progress bar on stderr for long work (tqdm), silent when not a terminal."""

    def __init__(self, total: int, label: str):
        from tqdm import tqdm

        self.bar = tqdm(total=total, desc=label, unit="row", file=sys.stderr,
                        disable=not sys.stderr.isatty(), leave=False)

    def update(self, n: int) -> None:
        self.bar.update(n)

    def close(self) -> None:
        self.bar.close()


@dataclass
class LoadReport:
    outcomes: list[FileOutcome] = field(default_factory=list)
    policy_recorded: bool = False
    projected_events: int = 0

    @property
    def events(self) -> int:
        return sum(o.events for o in self.outcomes)

    def lines(self) -> list[str]:
        out = []
        for o in self.outcomes:
            if o.already_loaded:
                out.append(f"  {o.name}: already loaded, nothing written")
            else:
                out.append(f"  {o.name} ({o.kind}): {o.rows} rows, {o.created} new, "
                           f"{o.corrected} corrected, {o.unchanged} unchanged, "
                           f"{o.events} events")
        new_files = sum(1 for o in self.outcomes if not o.already_loaded)
        out.append(f"{len(self.outcomes)} files, {sum(o.rows for o in self.outcomes)} rows, "
                   f"{new_files} newly recorded, {self.events} events written")
        return out


def parse_directory(directory: Path) -> list[files.ParsedFile]:
    if not directory.is_dir():
        raise DomainError(f"{directory}: not a directory")
    paths = files.discover(directory)
    if not paths:
        raise DomainError(f"{directory}: no contract files found (households.csv, "
                          f"payroll_*.csv, bank_return_*.csv, …)")
    return [files.parse_file(path) for path in paths]


def check_references(store: Store, parsed: list[files.ParsedFile]) -> list[files.RowError]:
    """Rows that name a household or asset neither stored nor in this folder."""
    known: dict[str, set[str]] = {"households": set(), "assets": set()}
    for pf in parsed:
        if pf.kind == "households":
            known["households"].update(r["household_id"] for r in pf.rows)
        elif pf.kind == "assets":
            known["assets"].update(r["asset_id"] for r in pf.rows)
    wanted = {"enrolments": ("households", "household_id"),
              "payroll": ("households", "household_id"),
              "asset_events": ("assets", "asset_id")}
    errors: list[files.RowError] = []
    for pf in parsed:
        if pf.kind not in wanted:
            continue
        target, column = wanted[pf.kind]
        names = {r[column] for r in pf.rows} - known[target]
        stored = store.ledger.known_keys(target, names)
        missing = names - stored
        for row, row_no in zip(pf.rows, pf.row_numbers, strict=True):
            if row[column] in missing:
                errors.append(files.RowError(pf.name, row_no, column,
                              f"{column} {row[column]!r} is not registered in any "
                              f"{target} file loaded before or in this folder"))
    return errors


def load_directory(store: Store, directory: Path, actor: str = "cli") -> LoadReport:
    parsed = parse_directory(directory)
    problems = [str(e) for pf in parsed for e in pf.errors]
    if not problems:
        problems = [str(e) for e in check_references(store, parsed)]
    policy_path = directory / POLICY_FILE
    policy_text = _check_policy(policy_path, problems)
    if problems:
        bad = sorted({p.split(" row ")[0] for p in problems})
        raise RejectedFile(f"{directory}: rejected, nothing was loaded "
                           f"({len(problems)} problems in {', '.join(bad)})", problems)
    report = LoadReport()
    total = sum(len(pf.rows) for pf in parsed)
    bar = Progress(total, "loading")
    try:
        for pf in parsed:
            report.outcomes.append(store.ledger.record_file(
                kind=pf.kind, name=pf.name, sha256=pf.sha256, rows=pf.rows,
                row_numbers=pf.row_numbers, actor=actor))
            bar.update(len(pf.rows))
    finally:
        bar.close()
    if policy_text is not None:
        report.policy_recorded = store.ledger.record_policy(policy_text, actor=actor)
    report.projected_events = facts.catch_up(store.ledger, store.db)
    return report


def _check_policy(path: Path, problems: list[str]) -> str | None:
    if not path.exists():
        return None
    from reconciliation.policy import PolicyError, load_policy

    try:
        load_policy(path)
    except (PolicyError, ValueError) as error:
        problems.append(f"{path.name}: {error}")
        return None
    return path.read_text(encoding="utf-8-sig")

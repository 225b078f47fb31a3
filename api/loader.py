"""``aidledger load DIR``: parse -> validate -> record -> project.

Every file of the folder is parsed and checked before anything is written, so a folder
with one bad file is rejected whole with every problem listed (file, row, column,
reason) and the store is untouched. Each file is then recorded in one transaction,
keyed by the SHA-256 of its bytes: loading it again writes nothing, also after a crash
half-way through a folder. A large folder is not held in memory meanwhile: each file is
parsed again when it is recorded (HOLD_ROWS_MAX).
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


# A folder with more rows than this is parsed twice: once to check every file (keeping only
# each file's problems and the keys references need), then file by file to record it, so
# memory holds one file's rows, never the folder's (a province month: 4 x 1,000,000 rows,
# about a kilobyte each once parsed). Smaller folders are parsed once and held.
HOLD_ROWS_MAX = 300_000
# Which kind registers the keys other rows name, and which rows name them.
DEFINES = {"households": "household_id", "assets": "asset_id"}
REFERENCES = {"enrolments": ("households", "household_id"),
              "payroll": ("households", "household_id"),
              "asset_events": ("assets", "asset_id")}


def contract_paths(directory: Path) -> list[Path]:
    if not directory.is_dir():
        raise DomainError(f"{directory}: not a directory")
    paths = files.discover(directory)
    if not paths:
        raise DomainError(f"{directory}: no contract files found (households.csv, "
                          f"payroll_*.csv, bank_return_*.csv, …)")
    return paths


@dataclass
class FileCheck:
    """What the folder check keeps of one parsed file."""

    path: Path
    name: str
    kind: str
    sha256: str
    rows: int
    errors: list[files.RowError]
    defines: set[str]  # the keys it registers (households, assets)
    uses: list[tuple[int, str]]  # (row number, key it names) of rows naming a registered key


def check_of(pf: files.ParsedFile) -> FileCheck:
    defines: set[str] = set()
    uses: list[tuple[int, str]] = []
    if pf.kind in DEFINES:
        defines = {r[DEFINES[pf.kind]] for r in pf.rows}
    if pf.kind in REFERENCES:
        column = REFERENCES[pf.kind][1]
        uses = [(n, r[column]) for r, n in zip(pf.rows, pf.row_numbers, strict=True)]
    return FileCheck(pf.path, pf.name, pf.kind, pf.sha256, len(pf.rows), pf.errors,
                     defines, uses)


def check_references(store: Store, parsed: list[files.ParsedFile]) -> list[files.RowError]:
    """Rows that name a household or asset neither stored nor in this folder."""
    return reference_errors(store, [check_of(pf) for pf in parsed])


def reference_errors(store: Store, checks: list[FileCheck]) -> list[files.RowError]:
    known: dict[str, set[str]] = {kind: set() for kind in DEFINES}
    for check in checks:
        if check.kind in DEFINES:
            known[check.kind].update(check.defines)
    errors: list[files.RowError] = []
    for check in checks:
        if check.kind not in REFERENCES:
            continue
        target, column = REFERENCES[check.kind]
        names = {value for _, value in check.uses} - known[target]
        missing = names - store.ledger.known_keys(target, names)
        for row_no, value in check.uses:
            if value in missing:
                errors.append(files.RowError(check.name, row_no, column,
                              f"{column} {value!r} is not registered in any "
                              f"{target} file loaded before or in this folder"))
    return errors


def load_directory(store: Store, directory: Path, actor: str = "cli") -> LoadReport:
    checks, held = _check_folder(contract_paths(directory))
    problems = [str(e) for check in checks for e in check.errors]
    if not problems:
        problems = [str(e) for e in reference_errors(store, checks)]
    policy_path = directory / POLICY_FILE
    policy_text = _check_policy(policy_path, problems)
    if problems:
        bad = sorted({p.split(" row ")[0] for p in problems})
        raise RejectedFile(f"{directory}: rejected, nothing was loaded "
                           f"({len(problems)} problems in {', '.join(bad)})", problems)
    report = LoadReport()
    bar = Progress(sum(check.rows for check in checks), "loading")
    try:
        for index, check in enumerate(checks):
            pf = held[index] if held is not None else _parse_again(check)
            report.outcomes.append(store.ledger.record_file(
                kind=pf.kind, name=pf.name, sha256=pf.sha256, rows=pf.rows,
                row_numbers=pf.row_numbers, actor=actor))
            bar.update(len(pf.rows))
            del pf
            if held is not None:
                held[index] = None  # type: ignore[call-overload]
    finally:
        bar.close()
    if policy_text is not None:
        report.policy_recorded = store.ledger.record_policy(policy_text, actor=actor)
    report.projected_events = facts.catch_up(store.ledger, store.db)
    return report


def _check_folder(paths: list[Path]) -> tuple[list[FileCheck], list[files.ParsedFile] | None]:
    """Every file parsed and checked; the parsed files too while the folder is small
    (None once it holds more than HOLD_ROWS_MAX rows: each file is parsed again when it
    is recorded)."""
    checks: list[FileCheck] = []
    held: list[files.ParsedFile] | None = []
    for path in paths:
        pf = files.parse_file(path)
        checks.append(check_of(pf))
        if held is not None:
            held.append(pf)
            if sum(check.rows for check in checks) > HOLD_ROWS_MAX:
                held = None
        del pf
    return checks, held


def _parse_again(check: FileCheck) -> files.ParsedFile:
    """The file parsed a second time, for recording; it must be the file checked."""
    pf = files.parse_file(check.path)
    if pf.sha256 != check.sha256 or pf.errors:
        raise RejectedFile(f"{check.name}: changed while the folder was being loaded; "
                           "it and the files after it were not loaded, load the folder again",
                           [f"{check.name}: SHA-256 {check.sha256} when checked, "
                            f"{pf.sha256} when recorded"])
    return pf


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

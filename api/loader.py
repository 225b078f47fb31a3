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
from domain import catalogue
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
    skipped: list[files.Skipped] = field(default_factory=list)
    warnings: list[files.FileWarning] = field(default_factory=list)

    @property
    def events(self) -> int:
        return sum(o.events for o in self.outcomes)

    def lines(self) -> list[str]:
        out = [f"  {s}" for s in self.skipped]
        out += [f"  warning: {w}" for w in self.warnings]
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


def survey_folder(directory: Path) -> files.Survey:
    """The folder's contract files and what is skipped; a folder without any contract
    file is an error naming what it does hold."""
    if not directory.is_dir():
        raise DomainError(f"{directory}: not a directory")
    survey = files.survey(directory, also_read=(POLICY_FILE,))
    if not survey.paths:
        raise RejectedFile(f"{directory}: no contract files found (households.csv, "
                           f"payroll_*.csv, bank_return_*.csv, …; see docs/formats.md)",
                           [str(s) for s in survey.skipped])
    return survey


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
    # per reference of its kind: (row number, key it names) of each row
    uses: list[tuple[catalogue.Reference, list[tuple[int, str]]]]
    warnings: list[files.FileWarning] = field(default_factory=list)


def check_of(pf: files.ParsedFile) -> FileCheck:
    kind = catalogue.kind(pf.kind)
    defined = catalogue.defined_keys().get(pf.kind)
    defines = {r[defined] for r in pf.rows} if defined is not None else set()
    uses = [(ref, [(n, r[ref.column]) for r, n in zip(pf.rows, pf.row_numbers, strict=True)])
            for ref in kind.references]
    return FileCheck(pf.path, pf.name, pf.kind, pf.sha256, len(pf.rows), pf.errors,
                     defines, uses, pf.warnings)


def check_references(store: Store, parsed: list[files.ParsedFile]) -> list[files.RowError]:
    """Rows that name a household or asset neither stored nor in this folder."""
    return reference_errors(store, [check_of(pf) for pf in parsed])


def reference_errors(store: Store, checks: list[FileCheck]) -> list[files.RowError]:
    known: dict[str, set[str]] = {kind: set() for kind in catalogue.defined_keys()}
    for check in checks:
        if check.kind in known:
            known[check.kind].update(check.defines)
    errors: list[files.RowError] = []
    for check in checks:
        for reference, uses in check.uses:
            errors += _unregistered(store, check.name, reference, uses, known)
    return errors


def _unregistered(store: Store, name: str, reference: catalogue.Reference,
                  uses: list[tuple[int, str]], known: dict[str, set[str]]
                  ) -> list[files.RowError]:
    """Rows of one file naming a key of ``reference.kind`` that is nowhere recorded."""
    target, column = reference.kind, reference.column
    names = {value for _, value in uses} - known[target]
    missing = names - store.ledger.known_keys(target, names)
    return [files.RowError(name, row_no, column,
                           f"{column} {value!r} is not registered in any "
                           f"{target} file loaded before or in this folder")
            for row_no, value in uses if value in missing]


def load_directory(store: Store, directory: Path, actor: str = "cli") -> LoadReport:
    survey = survey_folder(directory)
    checks, held = _check_folder(survey.paths)
    problems = [str(e) for check in checks for e in check.errors]
    if not problems:
        problems = [str(e) for e in reference_errors(store, checks)]
    policy_path = directory / POLICY_FILE
    policy_text = _check_policy(policy_path, problems)
    if problems:
        bad = sorted({p.split(" row ")[0] for p in problems})
        raise RejectedFile(f"{directory}: rejected, nothing was loaded "
                           f"({len(problems)} problems in {', '.join(bad)})", problems)
    report = LoadReport(skipped=survey.skipped,
                        warnings=[w for check in checks for w in check.warnings])
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

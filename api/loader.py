"""``aidledger load DIR``: parse -> validate -> record and project.

Every file of the folder is parsed and checked before anything is written, so a folder
with one bad file is rejected whole with every problem listed (file, row, column,
reason) and the store is untouched. Each file is then recorded in one transaction,
keyed by the SHA-256 of its bytes: loading it again writes nothing, also after a crash
half-way through a folder.

Each file is parsed once (``api.files``): its table, an Arrow IPC file memory-mapped, is
what the folder is checked from (the reference checks read the key columns alone) and what
is recorded, so a province month of 4 × 1M rows is never all in memory and no file is
parsed twice. Amounts are held to the ceilings of the county's policy while they are
parsed (``amount_ceilings``). Files are parsed two at a time (``files.parse_files``).

Each recorded file is projected at once from the events it wrote, still in memory
(``facts.project_appended``: no read back, no decoding); the final ``catch_up`` projects
whatever that did not (a file above INLINE_ROWS_MAX rows, events of another writer that
came in between), from the log.
"""

from __future__ import annotations

import contextlib
import sys
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
from eventsourcing.persistence import StoredEvent

from api import files
from api.wiring import Store
from domain import catalogue
from domain.amount_limits import POLICY_TABLE as LIMITS_TABLE
from domain.amount_limits import amount_ceilings_fen
from domain.errors import DomainError, RejectedFile
from domain.ledger import FileOutcome
from projections import facts

POLICY_FILE = "policy.toml"
# A file of at most this many rows is projected from memory as soon as it is recorded
# (``facts.project_appended``: its events are kept until then, 1-1.5 KB each, and two
# files' at most: ~300 MB); a larger file's events are read back from the log by
# ``catch_up`` instead, never all held. A county's monthly files are ~20,000 rows.
INLINE_ROWS_MAX = 100_000
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


def check_references(store: Store, parsed: list[files.ParsedFile]) -> list[files.RowError]:
    """Rows that name a household or asset neither stored nor in these files, read from
    the key and reference columns alone."""
    known: dict[str, list[pa.Array]] = {kind: [] for kind in catalogue.defined_keys()}
    for pf in parsed:
        key = catalogue.defined_keys().get(pf.kind)
        if key is not None:
            known[pf.kind].append(pc.unique(pf.table.column(key)))
    errors: list[files.RowError] = []
    for pf in parsed:
        for reference in catalogue.kind(pf.kind).references:
            errors += _unregistered(store, pf, reference, known[reference.kind])
    return errors


def _unregistered(store: Store, pf: files.ParsedFile, reference: catalogue.Reference,
                  known: list[pa.Array]) -> list[files.RowError]:
    """Rows of one file naming a key of ``reference.kind`` that is nowhere recorded."""
    target, column = reference.kind, reference.column
    values = pf.table.column(column)
    names = pc.unique(values)
    for keys in known:
        names = names.filter(pc.invert(pc.is_in(names, value_set=keys)))
    if not len(names):
        return []
    wanted = set(names.to_pylist())
    missing = wanted - store.ledger.known_keys(target, wanted)
    if not missing:
        return []
    mask = pc.is_in(values, value_set=pa.array(sorted(missing), pa.string()))
    named = pf.table.filter(mask).select([files.ROW_COLUMN, column])
    errors = [files.RowError(pf.name, row[files.ROW_COLUMN], column,
                             f"{column} {row[column]!r} is not registered in any "
                             f"{target} file loaded before or in this folder")
              for row in named.slice(0, files.MAX_ERRORS_LISTED).to_pylist()]
    more = named.num_rows - len(errors)
    if more > 0:
        errors.append(files.RowError(pf.name, 0, "", f"... and {more} more errors"))
    return errors


def load_directory(store: Store, directory: Path, actor: str = "cli") -> LoadReport:
    survey = survey_folder(directory)
    problems: list[str] = []
    policy_text = _check_policy(directory / POLICY_FILE, problems)
    ceilings = amount_ceilings(store, directory / POLICY_FILE if policy_text else None)
    parsed = files.parse_files([(path, ceilings.get(files.kind_of(path) or ""))
                                for path in survey.paths])
    file_problems = [str(e) for pf in parsed for e in pf.errors]
    if not file_problems:
        file_problems = [str(e) for e in check_references(store, parsed)]
    problems = file_problems + problems
    if problems:
        bad = sorted({p.split(" row ")[0] for p in problems})
        raise RejectedFile(f"{directory}: rejected, nothing was loaded "
                           f"({len(problems)} problems in {', '.join(bad)})", problems)
    report = LoadReport(skipped=survey.skipped,
                        warnings=[w for pf in parsed for w in pf.warnings])
    _record(store, parsed, report, actor)
    if policy_text is not None:
        report.policy_recorded = store.ledger.record_policy(policy_text, actor=actor)
    facts.analyze_after(store.db, report.projected_events)  # what was projected inline
    report.projected_events += facts.catch_up(store.ledger, store.db)
    return report


def _record(store: Store, parsed: list[files.ParsedFile], report: LoadReport,
            actor: str) -> None:
    """Each file recorded from the table it was checked from (memory-mapped: the folder's
    rows are never all in memory); the table is let go once recorded. Each file is
    projected once recorded (``_Projector``), while the next one is being recorded."""
    bar = Progress(sum(pf.table.num_rows for pf in parsed), "loading")
    projector = _Projector(store)

    def project(ids: Sequence[int], events: Sequence[StoredEvent]) -> None:
        projector.submit(lambda: facts.project_appended(store.ledger, store.db, ids, events))

    try:
        for index, pf in enumerate(parsed):
            inline = project if pf.table.num_rows <= INLINE_ROWS_MAX else None
            report.outcomes.append(store.ledger.record_file(
                kind=pf.kind, name=pf.name, sha256=pf.sha256, rows=pf.rows,
                row_numbers=pf.row_numbers, actor=actor, on_appended=inline))
            if inline is None and not report.outcomes[-1].already_loaded:
                # read back from the log, so that the files after it project inline
                projector.submit(lambda: facts.catch_up(store.ledger, store.db))
            bar.update(pf.table.num_rows)
            parsed[index] = files.ParsedFile(pf.kind, pf.path, pf.name, pf.sha256)
    except BaseException:
        with contextlib.suppress(Exception):  # the recording's error is the one to tell
            projector.finish()
        raise
    else:
        report.projected_events += projector.finish()
    finally:
        bar.close()


class _Projector:
    """Runs the projection of one recorded file while the next file is recorded: on
    PostgreSQL in a thread of its own (the server writes the events of one file and the
    read-model rows of the other at once, on another core), on SQLite in turn (one file,
    one writer). At most one projection waits, so at most two files' events are held.
    The projection uses ``store.db``, which the recording never touches."""

    def __init__(self, store: Store):
        background = store.db.backend == "postgres"
        self.pool = ThreadPoolExecutor(1, thread_name_prefix="project") if background else None
        self.pending: deque[Future[int]] = deque()
        self.done = 0

    def submit(self, work: Callable[[], int]) -> None:
        if self.pool is None:
            self.done += work()
            return
        while self.pending:  # the projection before must be done: memory stays bounded
            self.done += self.pending.popleft().result()
        self.pending.append(self.pool.submit(work))

    def finish(self) -> int:
        """Wait for what is under way; events projected. A projection that failed raises
        here (the files are recorded: the next command's catch-up projects them)."""
        try:
            while self.pending:
                self.done += self.pending.popleft().result()
        finally:
            if self.pool is not None:
                self.pool.shutdown(wait=True, cancel_futures=True)
        return self.done


def amount_ceilings(store: Store, folder_policy: Path | None) -> dict[str, int]:
    """Kind -> the largest amount of one row, int fen: the folder's policy.toml when it has
    a good one, else the policy stored with the county's files, else the defaults
    (``domain.amount_limits``). Files are parsed before anything is recorded, so the
    ceilings a folder loads under are those it carries itself."""
    from reconciliation.policy import load_policy, load_policy_text

    if folder_policy is not None:
        policy = load_policy(folder_policy)
    else:
        policy = load_policy_text(store.ledger.policy_text())
    return amount_ceilings_fen(policy.get(LIMITS_TABLE))


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

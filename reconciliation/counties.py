"""Many counties, one province: the registry of county stores, county-prefixed frames,
the cross-county step every engine shares, and the pandas engine.

Why: civil-affairs systems run per county, so each county keeps its own store, and the
checks that matter most cross county lines (one person on dibao in two counties, one card
collecting for households of three counties, a death registered in another county). Both
engines — this module's pandas engine and ``reconciliation.dask_engine`` — call the same
rule modules through the functions here; neither has a finding of its own.

**Subject ids across counties.** Every county-local identifier gets its county code and a
slash in front: households ``430524/QX000001``, payroll lines ``430524/DB202501-01:3``,
townships ``430524/青溪镇`` (so ``430524/青溪镇|dibao`` for B01), reserve records, assets,
asset events, allocations and adjustments alike, and every evidence token
(``event:430524/<uuid>/1 430524/payroll_2025-01.csv#3``) so each names the store that holds
it. ID numbers and bank accounts are not prefixed: they are what links counties. A bank
account subject (E06) therefore stays as stored. The one new subject is P05 across
counties (same head ID, program and period paid in two counties): its subject is the
person's households joined by ``+`` in sorted order, e.g.
``430524/QX000007+430525/QX000031`` (subject_type ``household``).

**Which codes cross.** The rules that declare a ``crossing`` (``reconciliation.rules``:
E01, E02, E05, E06, E08) compare ID numbers or accounts across counties (``CROSS_CODES``);
P05 crosses through ``p05_across``. Every other code is
county-local: its tables are county-scoped (standards by program and year, the
adjustments group of S01/S02), so running it over a concatenation would mix counties
(a payroll line would meet every county's standard). The pandas engine therefore runs
local codes per county and cross codes once over the concatenation of all counties.
"""

from __future__ import annotations

import dataclasses
import os
import re
import tomllib
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path

import pandas as pd

from domain.errors import DomainError
from projections.tables import frame_names, local_id_columns
from reconciliation import rules, runner
from reconciliation.common import FINDING_COLUMNS, Frames, empty_findings, text
from reconciliation.payments import LINE_KEY, normalised_ids, successful_payments

SEPARATOR = "/"  # county code / local id
JOINT_SEPARATOR = "+"  # households of one person across counties (P05 across)
EVENT_PREFIX = "event:"
COUNTY_CODE = re.compile(r"[0-9A-Za-z_-]{1,32}")  # normally the 6-digit GB/T 2260 code
ENV_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
SQLITE_PREFIX = "sqlite:///"
COUNTIES_MIN_ACROSS = 2  # a cross-county finding names rows of at least two counties

CROSS_CODES: list[str] = [r.code for r in rules.finding_rules() if r.crossing]
# Every other code, screens included, runs county by county.
LOCAL_CODES: list[str] = [r.code for r in rules.all_rules() if r.code not in CROSS_CODES]
P05 = "P05"

# County-local identifiers per frame: the catalogue's ``local_id`` columns (evidence
# columns are prefixed in every frame).
EVIDENCE_IDS = ("evidence_event", "evidence_row")
SORT_COLUMNS = ["code", "subject_type", "subject_id"]

Progress = Callable[[str], None]


# ---------------------------------------------------------------- the registry


@dataclasses.dataclass(frozen=True)
class County:
    """One county store: its code, its ``--db`` URL, and optionally the Dask worker
    that sits next to its database (its tasks then run there and nowhere else)."""

    code: str
    url: str
    worker: str = ""


def load_registry(path: Path) -> list[County]:
    """The counties named in a registry file (TOML)::

        [counties]
        430524 = "sqlite:///stores/430524.db"
        430525 = { db = "postgresql://aid@10.1.2.3:5432/aid?schema=c430525",
                   worker = "tcp://10.1.2.3:8788" }

    A relative SQLite path is relative to the registry file; ``${NAME}`` in a URL is
    replaced by the environment variable NAME (keep passwords out of the file)."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise DomainError(f"{path}: not valid TOML: {error}") from error
    unknown = set(data) - {"counties"}
    if unknown or not isinstance(data.get("counties"), dict) or not data["counties"]:
        raise DomainError(f"{path}: expected one table [counties] of code = \"--db URL\""
                          + (f" (unknown: {', '.join(sorted(unknown))})" if unknown else ""))
    return [_county(path, str(code), entry) for code, entry in data["counties"].items()]


def _county(path: Path, code: str, entry: object) -> County:
    if not COUNTY_CODE.fullmatch(code):
        raise DomainError(f"{path}: county code {code!r}: letters, digits, - and _ only")
    if isinstance(entry, str):
        entry = {"db": entry}
    if not isinstance(entry, dict) or not isinstance(entry.get("db"), str) or (
            set(entry) - {"db", "worker"}):
        raise DomainError(f"{path}: county {code}: expected \"URL\" or {{ db = \"URL\", "
                          f"worker = \"tcp://host:port\" }}")
    return County(code, _resolved(path, _expanded(path, code, entry["db"])),
                  str(entry.get("worker", "")))


def _expanded(path: Path, code: str, url: str) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in os.environ:
            raise DomainError(f"{path}: county {code}: environment variable {name} is not set")
        return os.environ[name]

    return ENV_REFERENCE.sub(value, url)


def _resolved(path: Path, url: str) -> str:
    """A relative SQLite file is taken relative to the registry, not the working dir."""
    if not url.startswith(SQLITE_PREFIX):
        return url
    file = Path(url[len(SQLITE_PREFIX):])
    return url if file.is_absolute() else SQLITE_PREFIX + str((path.parent / file).resolve())


# ---------------------------------------------------------------- prefixed frames


def prefixed(frames: Frames, code: str) -> Frames:
    """The county's frames with every local id and evidence token under its code."""
    out = {}
    local_ids = local_id_columns()
    for name in frame_names():
        frame = getattr(frames, name)
        names = [c for c in local_ids.get(name, ()) + EVIDENCE_IDS if c in frame.columns]
        out[name] = frame.assign(**{c: _with_code(frame[c], code) for c in names})
    return Frames(**out)


def _with_code(values: pd.Series, code: str) -> pd.Series:
    """'code/value' for each non-empty value; empty stays empty (empty never matches)."""
    plain = text(values)
    return (code + SEPARATOR + plain).where(plain != "", "").astype(object)


def county_of(ids: pd.Series) -> pd.Series:
    """The county code in front of prefixed ids ('' where there is none)."""
    plain = text(ids)
    if plain.empty:
        return plain
    parts = plain.str.partition(SEPARATOR)
    return parts[0].where(parts[1] == SEPARATOR, "")


def concat_frames(many: Sequence[Frames]) -> Frames:
    """Kind by kind, the rows of all the (prefixed) frames given."""
    return Frames(**{name: _concat([getattr(f, name) for f in many])
                     for name in frame_names()})


def _concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    filled = [f for f in frames if not f.empty]
    if not filled:
        return frames[0].iloc[0:0]
    return pd.concat(filled, ignore_index=True) if len(filled) > 1 else filled[0]


# ---------------------------------------------------------------- across counties


def evidence_counties(evidence: str) -> set[str]:
    """County codes named by an evidence cell's tokens (prefixed by ``prefixed``)."""
    counties = set()
    for token in str(evidence).split():
        body = token[len(EVENT_PREFIX):] if token.startswith(EVENT_PREFIX) else token
        county, separator, _ = body.partition(SEPARATOR)
        if separator:
            counties.add(county)
    return counties


def across_counties(findings: pd.DataFrame) -> pd.Series:
    """True for the findings whose evidence comes from two counties or more."""
    return findings["evidence"].map(
        lambda e: len(evidence_counties(e)) >= COUNTIES_MIN_ACROSS).astype(bool)


def with_cross(local: pd.DataFrame, cross: pd.DataFrame) -> pd.DataFrame:
    """Local findings, each replaced by the cross-county finding of the same subject
    (which was computed over every county's rows of its key, so it is complete)."""
    if cross.empty or local.empty:
        return in_order([local, cross])
    cross_keys = pd.MultiIndex.from_frame(cross[SORT_COLUMNS])
    kept = ~pd.MultiIndex.from_frame(local[SORT_COLUMNS]).isin(cross_keys)
    return in_order([local[kept], cross])


def in_order(parts: Iterable[pd.DataFrame]) -> pd.DataFrame:
    """Findings (or leads) concatenated, amount Int64, sorted by code, subject type and
    subject id: the order both engines write, so their files compare byte for byte."""
    filled = [p for p in parts if not p.empty]
    if not filled:
        return empty_findings()
    out = pd.concat(filled, ignore_index=True)[FINDING_COLUMNS]
    out["amount_fen"] = out["amount_fen"].astype("Int64")
    return out.sort_values(SORT_COLUMNS, kind="stable").reset_index(drop=True)


def p05_across(frames: Frames, policy: Mapping[str, dict], as_of: str) -> pd.DataFrame:
    """P05 (paid twice) where the payments are of one person's households in two or more
    counties: same head ID, program and period. Runs the P05 module itself over
    ``person_view``; keeps only findings with payments from two counties or more."""
    found, _ = runner.run(person_view(frames, as_of), dict(policy), as_of, codes=[P05])
    return found[across_counties(found)].reset_index(drop=True) if not found.empty else found


def person_view(frames: Frames, as_of: str) -> Frames:
    """Payroll and bank lines of heads with households in two counties or more, each
    household id replaced by all that head's households joined (``joint_households``),
    kept only for (person, program, period) paid successfully in two counties or more.
    Other frames are empty: P05 reads payments only."""
    joint = joint_households(frames.households)
    payroll = frames.payroll[frames.payroll["household_id"].isin(joint.index)]
    payroll = payroll.assign(household_id=payroll["household_id"].map(joint).astype(object))
    view = _frames_with(frames, payroll=payroll, bank_return=_bank_of(frames, payroll))
    paid = successful_payments(view, as_of)
    counties = paid.assign(county=county_of(paid["batch_id"])).groupby(
        ["household_id", "program", "period"])["county"].nunique()
    crossing = counties[counties >= COUNTIES_MIN_ACROSS].index
    keys = pd.MultiIndex.from_frame(payroll[["household_id", "program", "period"]])
    payroll = payroll[keys.isin(crossing)]
    return _frames_with(frames, payroll=payroll, bank_return=_bank_of(frames, payroll))


def joint_households(households: pd.DataFrame) -> pd.Series:
    """household_id -> its head's households (all counties) joined by '+', for heads
    whose households lie in two counties or more."""
    heads = pd.DataFrame({"household_id": text(households["household_id"]),
                          "head_id": normalised_ids(households["head_id_number"])})
    heads = heads[heads["head_id"] != ""].drop_duplicates()
    heads = heads.assign(county=county_of(heads["household_id"]))
    spread = heads.groupby("head_id")["county"].nunique()
    heads = heads[heads["head_id"].isin(spread.index[spread >= COUNTIES_MIN_ACROSS])]
    joined = heads.groupby("head_id")["household_id"].agg(
        lambda ids: JOINT_SEPARATOR.join(sorted(set(ids))))
    return pd.Series(heads["head_id"].map(joined).to_numpy(dtype=object),
                     index=heads["household_id"].to_numpy(dtype=object), dtype=object)


def _bank_of(frames: Frames, payroll: pd.DataFrame) -> pd.DataFrame:
    keys = pd.MultiIndex.from_frame(payroll[LINE_KEY])
    bank = frames.bank_return
    return bank[pd.MultiIndex.from_frame(bank[LINE_KEY]).isin(keys)]


def _frames_with(frames: Frames, **given: pd.DataFrame) -> Frames:
    """Frames with only the kinds given filled; the others empty with their columns."""
    return Frames(**{name: given.get(name, getattr(frames, name).iloc[0:0])
                     for name in frame_names()})


# ---------------------------------------------------------------- the pandas engine


def reconcile_pandas(frames_by_county: Mapping[str, Frames], policy: Mapping[str, dict],
                     as_of: str, progress: Progress | None = None,
                     ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(findings, leads) over all counties in one process: every county's local codes on
    its own prefixed frames, the cross codes and P05 across once over the concatenation
    of all of them. The reference result the Dask engine must equal."""
    policy = dict(policy)
    findings, leads = [], []
    for code, frames in frames_by_county.items():
        found, screened = runner.run(frames, policy, as_of, codes=LOCAL_CODES)
        findings.append(found)
        leads.append(screened)
        _tell(progress, f"{code}: {len(found)} county-local findings")
    everything = concat_frames(list(frames_by_county.values()))
    crossing, _ = runner.run(everything, policy, as_of, codes=CROSS_CODES)
    doubles = p05_across(everything, policy, as_of)
    _tell(progress, f"all counties: {len(crossing)} findings of {', '.join(CROSS_CODES)}, "
                    f"{len(doubles)} P05 across counties")
    return in_order(findings + [crossing, doubles]), in_order(leads)


def _tell(progress: Progress | None, message: str) -> None:
    if progress is not None:
        progress(message)

"""Shared ground of the payment and eligibility rules (P01–P06, B01, E01–E08).

The rule book (docs/rules/README.md, "Shared definitions") defines a matched bank
line, a successful payment, a failed line, period ends and the as-of cut once; this module
is that page as code, so every rule sees the same payments.

Everything is vectorised pandas: the rules must run over a million payroll lines and a
million bank lines in seconds. Money stays int fen; IDs are compared after ``to18``.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from domain import money_facts
from domain.catalogue import PROGRAMS
from domain.ids import to18
from domain.money_facts import (  # noqa: F401 - the rules' names for them
    BANK_RENAMES,
    LINE_KEY,
    STATUS_FAILED,
    STATUS_SUCCESS,
)
from reconciliation.common import Frames, text

PERIOD_MIN = "0000-01"  # stands for "since always" (a household with no enrolment rows)
PERIOD_MAX = "9999-12"  # stands for "still enrolled" (empty exit_period)
ID_LEGACY_LENGTH = 15
PAYROLL_EVIDENCE = ["evidence_event", "evidence_row"]
BANK_EVIDENCE = ["evidence_event_bank", "evidence_row_bank"]
ARROW_MIN_ROWS = 10_000  # below this, Python's string methods cost less than Arrow's setup


# ---------------------------------------------------------------- text and numbers


# What Python's ``str.strip()`` strips from ASCII text (``str.isspace``).
ASCII_SPACE = " \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f"


def normalised_ids(ids: pd.Series) -> pd.Series:
    """``to18`` over a column, vectorised: strip and upper-case everything, widen only
    the (rare) 15-digit legacy numbers one by one. ASCII text (ID numbers are) is
    stripped and upper-cased by Arrow, with Python's set of spaces; other text by
    Python's own ``strip`` and ``upper``."""
    texts = text(ids)
    upper = _ascii_stripped_upper(texts)
    if upper is None:
        upper = texts.str.strip().str.upper()
    legacy = (upper.str.len() == ID_LEGACY_LENGTH) & upper.str.isdigit()
    if legacy.any():
        upper = upper.copy()
        upper[legacy] = upper[legacy].map(to18)
    return upper


def _ascii_stripped_upper(texts: pd.Series) -> pd.Series | None:
    """``texts.str.strip().str.upper()`` when every text is ASCII (else None)."""
    if len(texts) < ARROW_MIN_ROWS:
        return None
    try:
        strings = pa.array(texts.to_numpy(dtype=object), type=pa.large_string())
    except (pa.ArrowInvalid, pa.ArrowTypeError, UnicodeEncodeError):
        return None
    if not pc.all(pc.string_is_ascii(strings)).as_py():
        return None
    upper = pc.ascii_upper(pc.ascii_trim(strings, characters=ASCII_SPACE))
    return pd.Series(np.asarray(upper.to_numpy(zero_copy_only=False), dtype=object),
                     index=texts.index, name=texts.name, dtype=texts.dtype)


def yuan_text(fen: pd.Series) -> pd.Series:
    """'1234.50' for 123450 fen, vectorised and exact; missing amounts read '未知'."""
    known = fen.notna()
    whole = pd.Series(0, index=fen.index, dtype="int64")
    whole[known] = fen[known].astype("int64")
    magnitude = whole.abs()
    sign = pd.Series(np.where(whole < 0, "-", ""), index=fen.index)
    digits = (magnitude // 100).astype(str) + "." + (magnitude % 100).astype(str).str.zfill(2)
    return (sign + digits).where(known, "未知")


def program_text(programs: pd.Series) -> pd.Series:
    """'最低生活保障(dibao)': the Chinese name an inspector reads, with the code."""
    names = text(programs).map(PROGRAMS).fillna("")
    return names + "(" + text(programs) + ")"


def line_ids(frame: pd.DataFrame) -> pd.Series:
    """The contract's payroll/bank line subject: ``batch_id:line_no``."""
    return text(frame["batch_id"]) + ":" + text(frame["line_no"])


# ---------------------------------------------------------------- periods and dates


def month_of(date: str) -> str:
    return date[:7]


def period_index(periods: pd.Series) -> pd.Series:
    """Months since year 0 ('YYYY-MM' -> int), so periods can be shifted and compared."""
    return periods.str[:4].astype("int64") * 12 + periods.str[5:7].astype("int64") - 1


def period_of_index(index: pd.Series) -> pd.Series:
    years = (index // 12).astype(str).str.zfill(4)
    months = (index % 12 + 1).astype(str).str.zfill(2)
    return years + "-" + months


def previous_period(periods: pd.Series) -> pd.Series:
    """The month before each non-empty period; '' stays ''."""
    periods = text(periods)
    out = pd.Series("", index=periods.index, dtype=object)
    filled = periods != ""
    out[filled] = period_of_index(period_index(periods[filled]) - 1)
    return out


def _last_day(period: str) -> str:
    year, month = int(period[:4]), int(period[5:7])
    return f"{period}-{calendar.monthrange(year, month)[1]:02d}"


def period_end(periods: pd.Series) -> pd.Series:
    """The last day ('YYYY-MM-DD') of each period; computed once per distinct period."""
    periods = text(periods)
    ends = {p: _last_day(p) for p in periods.unique() if p}
    return periods.map(ends).fillna("")


def dated_by(dates: pd.Series, as_of: str) -> pd.Series:
    """True where a date is empty or on/before as-of: a fact by then (``domain.money_facts``)."""
    return money_facts.happened_by_dates(dates, as_of)


# ---------------------------------------------------------------- payroll and bank


def known_bank_lines(frames: Frames, as_of: str) -> pd.DataFrame:
    """The bank-return lines that had happened by the end of as-of: ``reconcile --as-of``
    reads the books as they stood then, so a line value-dated later (a success or a
    failure) has not happened yet, for every rule (``domain.money_facts``)."""
    bank = frames.bank_return
    return bank[money_facts.happened_by_dates(bank["value_date"], as_of)]


# While ``payments_shared`` holds (one reconciliation run): what many rules derive from the
# same frames (the matched lines, the successful payments, the households' normalised
# head IDs) is made once, not once per rule (each otherwise joins a million payroll and
# bank lines again). Keyed by the frames it is made from (kept alive by the entry, so
# their ids stay theirs) and as-of. A context variable, so two runs in two threads keep
# theirs apart; a worker process forked inside a run inherits the run's.
_SHARED: ContextVar[dict[tuple[Any, ...], tuple[tuple[pd.DataFrame, ...], Any]] | None] = \
    ContextVar("payments_shared", default=None)


@contextmanager
def payments_shared() -> Iterator[None]:
    """Inside: ``matched_lines``, ``successful_payments`` and the households' head IDs
    computed once per frames and as-of, each caller getting its own (copy-on-write)
    copy of the one result."""
    token = _SHARED.set(_SHARED.get() if _SHARED.get() is not None else {})
    try:
        yield
    finally:
        _SHARED.reset(token)


def share_now(frames: Frames, as_of: str) -> None:
    """Make what ``payments_shared`` shares now (before worker processes fork, so they
    all inherit it rather than each making its own)."""
    successful_payments(frames, as_of)
    _household_heads(frames)
    households_headed_by(frames, pd.Series([], dtype=object))


def _shared(what: str, inputs: tuple[pd.DataFrame, ...], as_of: str | None,
            make: Callable[[], Any]) -> Any:
    shared = _SHARED.get()
    if shared is None:
        return make()
    key = (what, *map(id, inputs), as_of)
    if key not in shared:
        shared[key] = (inputs, make())
    return shared[key][1].copy(deep=False)  # pandas copy-on-write: the caller's own


def matched_lines(frames: Frames, as_of: str) -> pd.DataFrame:
    """Payroll lines joined to their bank lines known by as-of (``money_facts``): payroll
    columns keep their names, the bank's colliding ones are renamed per ``BANK_RENAMES``."""
    return _shared("matched", (frames.payroll, frames.bank_return), as_of,
                   lambda: money_facts.matched_lines(frames.payroll, frames.bank_return, as_of))


def successful_payments(frames: Frames, as_of: str) -> pd.DataFrame:
    """Matched bank lines with status success, ``paid_fen`` their amount."""
    return _shared("successful", (frames.payroll, frames.bank_return), as_of,
                   lambda: successful_of(matched_lines(frames, as_of)))


def successful_of(matched: pd.DataFrame) -> pd.DataFrame:
    """The successful payments among matched lines (``money_facts.successful_of``)."""
    return money_facts.successful_of(matched)


def failed_lines(frames: Frames, as_of: str) -> pd.DataFrame:
    """Matched bank lines with status failed."""
    return failed_of(matched_lines(frames, as_of))


def failed_of(matched: pd.DataFrame) -> pd.DataFrame:
    return matched[matched["status"] == STATUS_FAILED]


def with_head_ids(frame: pd.DataFrame, frames: Frames) -> pd.DataFrame:
    """Add the household's normalised ``head_id`` and its register evidence
    (``evidence_event_household``, ``evidence_row_household``) by household_id."""
    out = frame.merge(_household_heads(frames), on="household_id", how="left")
    for column in ("head_id", "evidence_event_household", "evidence_row_household"):
        out[column] = text(out[column])
    return out


def _household_heads(frames: Frames) -> pd.DataFrame:
    """household_id, head_id, evidence_event_household, evidence_row_household."""
    def make() -> pd.DataFrame:
        households = frames.households[["household_id", "head_id_number", "evidence_event",
                                        "evidence_row"]].drop_duplicates("household_id")
        households = households.assign(head_id=normalised_ids(households["head_id_number"]))
        households = households.rename(columns={"evidence_event": "evidence_event_household",
                                                "evidence_row": "evidence_row_household"})
        return households.drop(columns=["head_id_number"])
    return _shared("heads", (frames.households,), None, make)


def households_headed_by(frames: Frames, ids: pd.Series) -> pd.Series:
    """household_id of every household whose head's normalised ID is among ``ids``
    (already normalised): lets a rule cut a million payments down before joining."""
    households = frames.households
    heads = _shared("head_ids", (households,), None,
                    lambda: normalised_ids(households["head_id_number"]))
    wanted = set(ids[ids != ""])
    return households.loc[heads.isin(wanted), "household_id"]

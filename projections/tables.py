"""The read side's tabular model: one pandas frame per record kind, as known at a moment.

Built by projections.frames from the ledger, and by tests from plain rows; read by the
balances, the registers and every reconciliation rule. The frames are those of the
catalogue's kinds (domain.catalogue), plus ``adjustments``: the approved adjustments,
which the ledger makes itself rather than reading them from a county file.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from domain import catalogue

# pandas 3 keeps strings in Arrow whenever pyarrow is installed (the parser needs it), and
# Arrow strings refuse what the rules do with object strings ('' + an Int64 column, mixed
# text and numbers in one column). Every frame is made after this module is imported (the
# frames are its ``Frames``), so this one line keeps the rules' frames as they were.
pd.set_option("mode.string_storage", "python")

ADJUSTMENTS = "adjustments"
ADJUSTMENT_COLUMNS = ["adjustment_id", "recorded_by", "approver", "amount_fen", "date",
                      "reason", "evidence_event", "evidence_row", "recorded_at",
                      "recorded_by_id", "approver_id"]
# User ids beside the names, on rows the API's four-eyes flow wrote ('' elsewhere).
SIGNATURE_COLUMNS = ["recorded_by_id", "approver_id"]
ADJUSTMENT_LOCAL_IDS: tuple[str, ...] = ("adjustment_id",)  # county-local, like a kind's


def frame_names() -> tuple[str, ...]:
    """The frames there are: every catalogue kind (load order), then adjustments."""
    return (*catalogue.names(), ADJUSTMENTS)


def local_id_columns() -> dict[str, tuple[str, ...]]:
    """Frame -> its county-local id columns (the multi-county engine prefixes them)."""
    return {**catalogue.local_id_columns(), ADJUSTMENTS: ADJUSTMENT_LOCAL_IDS}


class Frames:
    """Current state of every record kind (see domain.catalogue), as known at some moment:
    ``frames.payroll``, ``frames.bank_return`` … and ``frames.adjustments``. Each frame
    has its kind's frame columns, money as ``<name>_fen`` int64, plus ``evidence_event``
    (ledger event id), ``evidence_row`` ('file.csv#row') and ``recorded_at``.

    The kinds are the catalogue's when the frames are made, so a kind declared at run
    time (a test's) has its frame too. Every kind's frame must be given; adjustments
    default to none. The frames are the instance's attributes (``vars(frames)``)."""

    def __init__(self, **frames: pd.DataFrame) -> None:
        names = frame_names()
        unknown = sorted(set(frames) - set(names))
        missing = [n for n in names if n not in frames and n != ADJUSTMENTS]
        if unknown or missing:
            raise TypeError(f"Frames: unknown {unknown}, missing {missing}")
        shadowed = [n for n in names if hasattr(Frames, n)]
        assert not shadowed, f"record kinds named like a Frames method: {shadowed}"
        self.__dict__.update({n: frames[n] if n in frames else empty_adjustments()
                              for n in names})

    if TYPE_CHECKING:  # the frames are attributes made at run time, all of them frames
        def __getattr__(self, name: str) -> pd.DataFrame: ...

    def __setattr__(self, name: str, frame: Any) -> None:
        if name not in self.__dict__:  # a misspelt kind must not pass as a new frame
            raise AttributeError(f"no frame {name!r}")
        self.__dict__[name] = frame

    def names(self) -> tuple[str, ...]:
        """The frames held, in order."""
        return tuple(self.__dict__)

    def replace(self, **frames: pd.DataFrame) -> Frames:
        """The same frames with these replaced (the others shared, not copied)."""
        return Frames(**{**self.__dict__, **frames})


def empty_adjustments() -> pd.DataFrame:
    return pd.DataFrame(columns=ADJUSTMENT_COLUMNS)


def frame_of(kind: str, rows: list[dict]) -> pd.DataFrame:
    """A frame of one kind from row dicts with its frame columns (missing keys get
    empty values). Money: pass ``<name>_fen`` ints (or None for optional money)."""
    types = {c.frame_name: c.type for c in catalogue.columns(kind)}
    names = catalogue.frame_columns(kind)
    data: dict[str, list] = {n: [r.get(n) for r in rows] for n in names}
    frame = {}
    for name in names:
        values, type_ = data[name], types.get(name, "str")
        if type_ == "money":
            frame[name] = pd.Series([0 if v is None else int(v) for v in values], dtype="int64")
        elif type_ == "money?":
            frame[name] = pd.Series(values, dtype="Int64")
        elif type_ == "int":
            frame[name] = pd.Series([0 if v is None else int(v) for v in values], dtype="int64")
        elif type_ == "bool":
            frame[name] = pd.Series([bool(v) for v in values], dtype="bool")
        else:
            frame[name] = pd.Series(["" if v is None else str(v) for v in values], dtype="object")
    return pd.DataFrame(frame, columns=names)


def frames_from_rows(**rows_by_kind: list[dict]) -> Frames:
    """Frames for tests and projections: every kind present, empty where not given."""
    kinds = {kind: frame_of(kind, rows_by_kind.get(kind, [])) for kind in catalogue.names()}
    adjustments = pd.DataFrame(rows_by_kind.get(ADJUSTMENTS, []), columns=ADJUSTMENT_COLUMNS)
    return Frames(**kinds, adjustments=adjustments)

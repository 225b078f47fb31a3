"""What one spreadsheet cell can hold, for every CSV and XLSX the ledger writes.

Excel keeps at most 32,767 characters in a cell; a longer one is cut where a person
opens the file, without a word, or the workbook is refused. So every writer (findings,
leads, balances, registers, household statement, disclosure) passes its text cells
through ``fit_cell``: no cell is longer than ``CELL_CHARS_MAX``, and a shortened cell
keeps whole items (evidence tokens, occurrences of a finding) and says how many it left
out (docs/commands.md, reconcile). Nothing is lost: the complete evidence of every finding
is the ``FILE_evidence.csv`` beside the findings, one row per item (``evidence_rows``; the
file is written by ``api.findings_files``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from reconciliation.common import Frames
from reconciliation.occurrences import EVENT_PREFIX  # a token naming a ledger event

CELL_CHARS_MAX = 32_767  # Excel's limit for one cell
# A spreadsheet evaluates a cell beginning with one of these as a formula (CSV injection);
# tab and carriage return are on OWASP's list too. Writers quote such a cell with "'".
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")



@dataclass(frozen=True)
class Items:
    """How a long cell is cut: ``split`` gives its items (joined back they are the text),
    ``note`` says how many were left out."""

    split: Callable[[str], list[str]]
    note: Callable[[int], str]


def _tokens(text: str) -> list[str]:
    return re.findall(r"\S+\s*", text)


def _occurrences(text: str) -> list[str]:
    """A finding's detail: one sentence per occurrence, each ending in '；' or '。'."""
    return [part for part in re.findall(r"[^；。]*(?:[；。]|$)", text) if part]


CHARACTERS = Items(list, lambda n: f" …（另有 {n} 字未列出 / {n} more characters left out）")
OCCURRENCES = Items(_occurrences,
                    lambda n: f" …（另有 {n} 处未列出 / {n} more occurrences left out）")


def evidence_items(evidence_file: str) -> Items:
    """Evidence tokens; the note names the file that has them all."""
    return Items(_tokens, lambda n: f" …（另有 {n} 项证据未列出，全部见 {evidence_file} / "
                                    f"{n} more items left out, all in {evidence_file}）")


def fit_cell(text: str, items: Items = CHARACTERS, limit: int = CELL_CHARS_MAX) -> str:
    """``text`` if it fits a cell; else its first whole items and a note of how many
    items it leaves out, together at most ``limit`` characters."""
    if len(text) <= limit:
        return text
    if items is CHARACTERS:  # no need to split a long text into characters
        room = limit - len(items.note(len(text)))
        return text[:room] + items.note(len(text) - room)
    parts = items.split(text)
    room = limit - len(items.note(len(parts)))  # the longest note this cell can need
    kept_chars, kept = 0, 0
    for part in parts:
        if kept_chars + len(part) > room:
            break
        kept_chars += len(part)
        kept += 1
    return "".join(parts[:kept]).rstrip() + items.note(len(parts) - kept)


def fit_value(value: object) -> object:
    """A table's value as a writer puts it in a cell: text fitted, anything else as is."""
    return fit_cell(value) if isinstance(value, str) else value


# -- the complete evidence -------------------------------------------------------------
def event_sources(frames: Frames, evidence: Iterable[str]) -> dict[str, str]:
    """The file row each ledger event named in ``evidence`` was recorded from (its
    ``evidence_row``), found in the frames the findings were made from."""
    wanted = {token[len(EVENT_PREFIX):] for cell in evidence for token in str(cell).split()
              if token.startswith(EVENT_PREFIX)}
    sources: dict[str, str] = {}
    if not wanted:
        return sources
    for name in frames.names():
        frame = getattr(frames, name)
        if frame.empty or "evidence_event" not in frame.columns:
            continue
        events = frame["evidence_event"].fillna("").astype(str).str.removeprefix(EVENT_PREFIX)
        hit = events.isin(wanted)
        rows = frame.loc[hit, "evidence_row"].fillna("").astype(str)
        sources.update(zip(events[hit], rows, strict=True))
    return sources


def evidence_rows(evidence: str, sources: Mapping[str, str]) -> list[tuple[str, str]]:
    """(event_id, source) per item of one evidence cell: each event with the file row it
    was recorded from, then each file row that no event of the cell accounts for."""
    tokens = str(evidence).split()
    items = [(token[len(EVENT_PREFIX):], sources.get(token[len(EVENT_PREFIX):], ""))
             for token in tokens if token.startswith(EVENT_PREFIX)]
    accounted = {source for _, source in items}
    items += [("", token) for token in tokens
              if not token.startswith(EVENT_PREFIX) and token not in accounted]
    return items

"""From occurrences to findings: the one way every rule builds its rows.

A rule first finds *occurrences* (one row per offending line, record, day or episode) and
then hands them to ``findings_of``, which makes exactly one finding per subject, as the
contract requires (docs/formats.md, Findings; docs/rules/README.md):

- ``period``: the earliest non-empty period of the subject's occurrences (or empty);
- ``amount``: their amounts summed, or the largest (``amount="max"``: an overdraft, a
  yearly excess), <NA> when none carries one;
- ``detail``: every occurrence's detail, in one of two orders (``details``):
  ``"sorted"`` — de-duplicated and ordered by (period, detail), joined by '；' (facts
  the data gives in no meaningful order: payroll and bank lines); ``"given"`` — in the
  order given, each a sentence of its own ending in '。', joined as they are (a story
  told in date order: reserve episodes, asset events);
- ``evidence``: every ledger event and file row involved, sorted and de-duplicated,
  space-separated.

Evidence comes with each occurrence (an ``evidence`` column of space-separated tokens)
or apart, as a long frame ``(subject_id, token)`` built by ``evidence_tokens`` (when the
evidence is wider than the occurrences: every payment of a year behind one excess).

Everything is vectorised: the payment rules run over a million payroll and bank lines.
A subject is its ``subject_id`` unless the occurrences carry their own ``subject_type``
(one rule may name two kinds of subject, D01), then it is the pair.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from reconciliation.common import FINDING_COLUMNS, empty_findings, text
from reconciliation.rule import Rule

AMOUNTS = ("sum", "max")
DETAILS = {"sorted": "；", "given": ""}  # the order of details and what joins them
# subject_id + this + subject_type sorts as the pair (id, type) does; pandas drops "\x00"
TYPE_SEPARATOR = "\x01"
ARROW_MIN_VALUES = 10_000  # fewer strings than this: Python's sort costs less than Arrow's setup


def evidence_tokens(frame: pd.DataFrame, columns: list[str],
                    subject: str = "subject_id") -> pd.DataFrame:
    """Long frame (subject_id, token) of the evidence columns named: an ``evidence_event*``
    column gives ``event:<id>``, an ``evidence_row*`` column the 'file.csv#row' as is."""
    parts = []
    for column in columns:
        values = text(frame[column])
        if column.startswith("evidence_event"):
            values = ("event:" + values).where(values != "", "")
        parts.append(pd.DataFrame({"subject_id": text(frame[subject]).to_numpy(),
                                   "token": values.to_numpy()}))
    if not parts:
        return pd.DataFrame({"subject_id": [], "token": []}, dtype=object)
    tokens = parts[0] if len(parts) == 1 else pd.concat(parts, ignore_index=True)
    return tokens[tokens["token"] != ""]


def joined_runs(subjects: np.ndarray, values: np.ndarray, separator: str) -> pd.Series:
    """Join the values of each run of equal consecutive subjects (the input is sorted by
    subject). One ``str.join`` per run keeps it linear even for a run of 100,000 tokens."""
    if len(subjects) == 0:
        return pd.Series(dtype=object)
    starts = np.flatnonzero(np.r_[True, subjects[1:] != subjects[:-1]])
    ends = np.r_[starts[1:], len(subjects)]
    items = [str(v) for v in values]
    bounds = zip(starts.tolist(), ends.tolist(), strict=True)
    joined = [separator.join(items[a:b]) for a, b in bounds]
    return pd.Series(joined, index=subjects[starts], dtype=object)


def sorted_codes(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(code of each value, distinct values sorted), codes ordered like the values."""
    codes, distinct = _sorted_codes(values)
    return codes, np.asarray(distinct.to_numpy(zero_copy_only=False), dtype=object) \
        if isinstance(distinct, pa.Array) else distinct


def _sorted_codes(values: pd.Series) -> tuple[np.ndarray, pa.Array | np.ndarray]:
    """``sorted_codes`` with the distinct values as an Arrow array: Arrow's hash and sort
    in C++ (UTF-8 bytes sort as their code points do, so the order is Python's). Text
    Arrow cannot hold (a lone surrogate) takes Python's ``sorted``, an object array."""
    strings = text(values).to_numpy(dtype=object)
    if len(strings) < ARROW_MIN_VALUES:
        return _sorted_codes_python(strings)
    try:
        encoded = pc.dictionary_encode(pa.array(strings, type=pa.large_string()))
    except (pa.ArrowInvalid, pa.ArrowTypeError, UnicodeEncodeError):
        return _sorted_codes_python(strings)
    order = pc.sort_indices(encoded.dictionary).to_numpy()
    rank = np.empty(len(order), dtype="int64")
    rank[order] = np.arange(len(order), dtype="int64")
    codes = encoded.indices.to_numpy(zero_copy_only=False)
    return rank[codes] if len(codes) else codes.astype("int64"), \
        encoded.dictionary.take(pa.array(order))


def _sorted_codes_python(strings: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Python's ``sorted`` on the distinct strings (several times faster than numpy's
    object argsort)."""
    codes, uniques = pd.factorize(strings, sort=False)
    distinct = np.asarray(uniques, dtype=object).tolist()
    order = sorted(range(len(distinct)), key=distinct.__getitem__)
    rank = np.empty(len(order), dtype="int64")
    rank[order] = np.arange(len(order), dtype="int64")
    return rank[codes], np.asarray(distinct, dtype=object)[order]


def evidence_text(tokens: pd.DataFrame) -> pd.Series:
    """Per subject: its tokens space-separated, sorted, de-duplicated (sorting integer
    codes of the strings, not the strings; np.sort + diff, as np.unique is ~100× slower
    on numpy 2.4 for millions of int64). The tokens of a subject are joined by Arrow."""
    subject_codes, subjects = sorted_codes(tokens["subject_id"])
    token_codes, names = _sorted_codes(tokens["token"])
    width = max(len(names), 1)
    pairs = np.sort(subject_codes * width + token_codes)
    pairs = pairs[np.r_[True, pairs[1:] != pairs[:-1]]] if len(pairs) else pairs
    subject_of, token_of = np.divmod(pairs, width)
    if not isinstance(names, pa.Array) or not len(pairs):
        names = np.asarray(names.to_numpy(zero_copy_only=False), dtype=object) \
            if isinstance(names, pa.Array) else names
        return joined_runs(subjects[subject_of], names[token_of], " ")
    starts = np.flatnonzero(np.r_[True, subject_of[1:] != subject_of[:-1]])
    runs = pa.LargeListArray.from_arrays(pa.array(np.r_[starts, len(pairs)], pa.int64()),
                                         names.take(pa.array(token_of)))
    joined = pc.binary_join(runs, pa.scalar(" ", pa.large_string())).to_numpy(
        zero_copy_only=False)
    return pd.Series(np.asarray(joined, dtype=object), index=subjects[subject_of[starts]],
                     dtype=object)


def findings_of(rule: Rule, occurrences: pd.DataFrame, evidence: pd.DataFrame | None = None,
                *, amount: str = "sum", details: str = "sorted") -> pd.DataFrame:
    """One finding of ``rule`` per subject of the occurrences (``subject_id``, ``period``,
    ``amount_fen``, ``detail``; optionally ``subject_type`` and ``evidence``), with the
    evidence tokens of ``evidence`` (``subject_id``, ``token``) besides. Rows come sorted
    by subject."""
    assert amount in AMOUNTS and details in DETAILS, (amount, details)
    if occurrences.empty:
        return empty_findings()
    typed = "subject_type" in occurrences.columns
    occ = occurrences.assign(subject_id=_subjects(occurrences, typed),
                             period=text(occurrences["period"]),
                             detail=text(occurrences["detail"]))
    occ, codes, subjects = (_in_finding_order(occ) if details == "sorted"
                            else _in_given_order(occ))
    positions = np.arange(len(subjects))
    amounts = occ["amount_fen"].astype("Int64").groupby(codes)
    total = amounts.max() if amount == "max" else amounts.sum(min_count=1)
    joined = joined_runs(codes, occ["detail"].to_numpy(dtype=object), DETAILS[details])
    tokens = _tokens(occurrences, evidence, typed)
    ids, types = _split_subjects(subjects, typed, rule)
    found = pd.DataFrame({
        "code": rule.code, "subject_type": types, "subject_id": ids,
        "period": _earliest_periods(occ["period"], codes).reindex(positions).fillna("")
        .to_numpy(dtype=object),
        "amount_fen": total.reindex(positions).astype("Int64").to_numpy(),
        "severity": rule.severity, "title": rule.title,
        "detail": joined.reindex(positions).to_numpy(dtype=object),
        "evidence": evidence_text(tokens).reindex(subjects).fillna("").to_numpy(dtype=object),
    }, columns=FINDING_COLUMNS)
    found["amount_fen"] = found["amount_fen"].astype("Int64")
    return found


def _subjects(frame: pd.DataFrame, typed: bool) -> pd.Series:
    """The subject of each row: its id, or id and type when rows carry their type."""
    ids = text(frame["subject_id"])
    return ids + TYPE_SEPARATOR + text(frame["subject_type"]) if typed else ids


def _split_subjects(subjects: pd.Index, typed: bool,
                    rule: Rule) -> tuple[np.ndarray, np.ndarray | str]:
    if not typed:
        return subjects.to_numpy(dtype=object), rule.subject_type
    pairs = [str(s).split(TYPE_SEPARATOR, 1) for s in subjects]  # few: one per finding
    return (np.asarray([p[0] for p in pairs], dtype=object),
            np.asarray([p[1] for p in pairs], dtype=object))


def _tokens(occurrences: pd.DataFrame, evidence: pd.DataFrame | None,
            typed: bool) -> pd.DataFrame:
    """(subject_id, token) of the evidence given apart and of each occurrence's own
    ``evidence`` text (split on whitespace), the subject keyed as the occurrences are."""
    parts = []
    if evidence is not None and not evidence.empty and not typed:
        # the usual case, millions of tokens from ``evidence_tokens``: taken as they are
        parts.append(evidence[["subject_id", "token"]])
    elif evidence is not None and not evidence.empty:
        assert "subject_type" in evidence.columns, "typed occurrences need typed evidence"
        parts.append(pd.DataFrame({"subject_id": _subjects(evidence, typed).to_numpy(),
                                   "token": text(evidence["token"]).to_numpy()}))
    if "evidence" in occurrences.columns:
        own = pd.DataFrame({"subject_id": _subjects(occurrences, typed).to_numpy(),
                            "token": text(occurrences["evidence"]).str.split().to_numpy()})
        own = own.explode("token")
        parts.append(own[own["token"].notna()])
    if not parts:
        return pd.DataFrame({"subject_id": [], "token": []}, dtype=object)
    tokens = parts[0] if len(parts) == 1 else pd.concat(parts, ignore_index=True)
    return tokens[tokens["token"] != ""]


def _in_finding_order(occurrences: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray, pd.Index]:
    """Occurrences de-duplicated and sorted by (subject, period, detail), with each row's
    subject code and the sorted subjects. Period and detail are only sorted among the
    occurrences of subjects that have several (usually few of a million)."""
    occ = occurrences
    subject_codes, subjects = sorted_codes(occ["subject_id"])
    several = np.bincount(subject_codes, minlength=len(subjects))[subject_codes] > 1
    period_codes = np.zeros(len(occ), dtype="int64")
    detail_codes = np.zeros(len(occ), dtype="int64")
    if several.any():
        period_codes[several] = sorted_codes(occ["period"][several])[0]
        detail_codes[several] = sorted_codes(occ["detail"][several])[0]
    order = np.lexsort((detail_codes, period_codes, subject_codes))
    keys = np.stack([subject_codes[order], period_codes[order], detail_codes[order]])
    repeated = np.r_[False, (keys[:, 1:] == keys[:, :-1]).all(axis=0)]
    kept = order[~repeated]
    return occ.iloc[kept], subject_codes[kept], pd.Index(subjects, dtype=object)


def _in_given_order(occurrences: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray, pd.Index]:
    """Occurrences grouped by subject (subjects sorted), each subject's in the order given."""
    subject_codes, subjects = sorted_codes(occurrences["subject_id"])
    order = np.argsort(subject_codes, kind="stable")
    return occurrences.iloc[order], subject_codes[order], pd.Index(subjects, dtype=object)


def _earliest_periods(periods: pd.Series, codes: np.ndarray) -> pd.Series:
    """Per subject code, its earliest non-empty period (as integer ranks of the sorted
    distinct periods: a string groupby-min would fall back to Python per group)."""
    filled = (periods != "").to_numpy()
    if not filled.any():
        return pd.Series(dtype=object)
    ranks, distinct = sorted_codes(periods[filled])
    earliest = pd.Series(ranks, index=codes[filled]).groupby(level=0).min()
    return pd.Series(distinct[earliest.to_numpy()], index=earliest.index, dtype=object)

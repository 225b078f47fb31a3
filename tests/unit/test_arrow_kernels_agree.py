"""The Arrow kernels the rules use give what Python's string methods give: the sort order
and de-duplication of evidence, the joined evidence text, and normalised ID numbers."""

from __future__ import annotations

import random

import numpy as np
import pandas as pd
import pytest

from domain.ids import to18
from reconciliation import findings, payments
from reconciliation.common import text

ALPHABET = list("0123456789xX abcAB\t\x1c#:/.") + ["é", "中", "文", "\u3000", "😀", "ß", "\x00"]


def _texts(count: int, seed: int, alphabet: list[str] = ALPHABET) -> list[str]:
    rng = random.Random(seed)
    return ["".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 12)))
            for _ in range(count)]


@pytest.mark.parametrize("seed", [1, 2])
def test_sorted_codes_are_pythons_order(seed: int) -> None:
    values = pd.Series(_texts(findings.ARROW_MIN_VALUES + 5_000, seed) + [None, "", "a"],
                       dtype=object)
    codes, distinct = findings.sorted_codes(values)
    strings = list(text(values))
    assert list(distinct) == sorted(set(strings))
    assert [distinct[c] for c in codes] == strings
    assert all(type(v) is str for v in distinct)


def test_text_arrow_cannot_hold_takes_pythons_sort() -> None:
    values = pd.Series(["b", "\ud800", "a", "b"] * findings.ARROW_MIN_VALUES, dtype=object)
    codes, distinct = findings.sorted_codes(values)
    assert list(distinct) == ["a", "b", "\ud800"]
    assert list(codes) == [1, 2, 0, 1] * findings.ARROW_MIN_VALUES


def test_evidence_text_is_each_subjects_sorted_distinct_tokens() -> None:
    rng = random.Random(3)
    tokens = _texts(20_000, 4)
    subjects = [rng.choice(["s1", "s2", "中", "s10"]) for _ in tokens]
    frame = pd.DataFrame({"subject_id": subjects, "token": tokens}, dtype=object)
    got = findings.evidence_text(frame)
    expected = {s: " ".join(sorted(set(t for s2, t in zip(subjects, tokens, strict=True)
                                       if s2 == s)))
                for s in sorted(set(subjects))}
    assert list(got.index) == list(expected)
    assert list(got) == list(expected.values())
    assert got.dtype == object and all(type(v) is str for v in got)


def _reference_ids(values: pd.Series) -> pd.Series:
    upper = text(values).str.strip().str.upper()
    legacy = (upper.str.len() == payments.ID_LEGACY_LENGTH) & upper.str.isdigit()
    upper = upper.copy()
    upper[legacy] = upper[legacy].map(to18)
    return upper


@pytest.mark.parametrize("ascii_only", [True, False])
def test_normalised_ids_are_pythons_strip_and_upper(ascii_only: bool) -> None:
    alphabet = [c for c in ALPHABET if c.isascii()] if ascii_only else ALPHABET
    values = _texts(payments.ARROW_MIN_ROWS + 10, 5, alphabet) + [
        None, np.nan, " 430524480412000 ", "\x1c43052419480412000x\x0b",
        *([] if ascii_only else ["ab\x85", "\u3000x"])]
    series = pd.Series(values, dtype=object, index=range(7, 7 + len(values)), name="id")
    assert (payments._ascii_stripped_upper(text(series)) is not None) is ascii_only
    pd.testing.assert_series_equal(payments.normalised_ids(series), _reference_ids(series),
                                   check_exact=True)

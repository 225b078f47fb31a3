"""``findings_of``: occurrences become one finding per subject, the same way for every rule."""

from __future__ import annotations

import pandas as pd

from reconciliation.common import FINDING_COLUMNS
from reconciliation.findings import evidence_text, findings_of
from reconciliation.rules import Rule

RULE = Rule(code="X01", subject_type="household", severity="low", title_zh="测试",
            title_en="test")


def test_evidence_is_sorted_and_de_duplicated_per_subject():
    tokens = pd.DataFrame({"subject_id": ["A", "A", "A", "B"],
                           "token": ["z.csv#2", "event:1", "z.csv#2", "b.csv#1"]})
    assert evidence_text(tokens).to_dict() == {"A": "event:1 z.csv#2", "B": "b.csv#1"}


def test_sorted_details_merge_occurrences_into_one_finding_per_subject():
    occurrences = pd.DataFrame({
        "subject_id": ["H2", "H1", "H1", "H1", "H3"],
        "period": ["2025-02", "2025-04", "", "2025-03", ""],
        "amount_fen": pd.array([5, 100, None, 200, None], dtype="Int64"),
        "detail": ["b", "april", "undated", "march", "c"],
    })
    tokens = pd.DataFrame({"subject_id": ["H1", "H1", "H2"],
                           "token": ["x.csv#2", "event:9", "y.csv#1"]})
    found = findings_of(RULE, pd.concat([occurrences, occurrences.iloc[[1]]]), tokens)
    assert list(found.columns) == FINDING_COLUMNS
    assert list(found["subject_id"]) == ["H1", "H2", "H3"]
    assert list(found["period"]) == ["2025-03", "2025-02", ""]
    assert found["amount_fen"].tolist()[:2] == [300, 5] and pd.isna(found["amount_fen"][2])
    assert found["detail"][0] == "undated；march；april"   # period order, repeat dropped
    assert list(found["evidence"]) == ["event:9 x.csv#2", "y.csv#1", ""]
    assert (found["title"] == "测试 test").all() and (found["subject_type"] == "household").all()


def test_given_details_keep_their_order_and_each_occurrence_brings_its_evidence():
    occurrences = pd.DataFrame({
        "subject_id": ["D1", "D1", "D0"],
        "period": ["2025-05", "2025-02", ""],
        "amount_fen": pd.array([300, 900, None], dtype="Int64"),
        "detail": ["五月透支。", "二月透支。", "无。"],
        "evidence": ["event:b reserve.csv#3", "event:a reserve.csv#2 event:b", ""],
    })
    found = findings_of(RULE, occurrences, amount="max", details="given")
    assert list(found["subject_id"]) == ["D0", "D1"]
    assert found["detail"][1] == "五月透支。二月透支。"  # as told, no separator added
    assert found["period"][1] == "2025-02" and found["amount_fen"][1] == 900
    assert found["evidence"][1] == "event:a event:b reserve.csv#2 reserve.csv#3"
    assert found["evidence"][0] == "" and pd.isna(found["amount_fen"][0])


def test_occurrences_may_name_their_own_subject_type():
    occurrences = pd.DataFrame({
        "subject_id": ["7", "7", "7"], "subject_type": ["reserve_record", "adjustment",
                                                         "adjustment"],
        "period": ["2025-01", "2025-03", "2025-02"],
        "amount_fen": pd.array([1, 2, 3], dtype="Int64"), "detail": ["a。", "b。", "c。"],
        "evidence": ["r.csv#1", "api#2", "api#3"],
    })
    found = findings_of(RULE, occurrences, details="given")
    assert list(zip(found["subject_type"], found["subject_id"], strict=True)) == [
        ("adjustment", "7"), ("reserve_record", "7")]
    assert list(found["amount_fen"]) == [5, 1] and list(found["detail"]) == ["b。c。", "a。"]
    assert list(found["evidence"]) == ["api#2 api#3", "r.csv#1"]


def test_no_occurrence_is_no_finding_with_the_finding_columns():
    empty = pd.DataFrame(columns=["subject_id", "period", "amount_fen", "detail"])
    found = findings_of(RULE, empty)
    assert found.empty and list(found.columns) == FINDING_COLUMNS

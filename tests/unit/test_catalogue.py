"""The catalogue of record kinds: declarations checked, and what is derived from them."""

from __future__ import annotations

import pickle

import pytest

from domain import catalogue, postings
from domain.catalogue import CatalogueError, Column, RecordKind, Reference, When
from domain.ledger import business_date_of
from projections.tables import ADJUSTMENTS, Frames, frame_names, frames_from_rows


def kind(name: str = "extras", *columns: Column, **more) -> RecordKind:
    columns = columns or (Column("extra_id"), Column("household_id"))
    return RecordKind(name, "附加", "a test's kind", columns, key=("extra_id",), **more)


@pytest.mark.parametrize(("declaration", "reason"), [
    (kind("Extras"), "lower-case ASCII identifier"),
    (kind("payroll"), "declared twice"),
    (kind("extras", Column("extra_id", "float")), "unknown type 'float'"),
    (kind("extras", Column("household_id")), "key column extra_id is not a column"),
    (kind(references=(Reference("household_id", "later_kind"),)), "not declared before it"),
    (kind(references=(Reference("household_id", "payroll"),)), "whose key is not one column"),
    (kind(business_date="household_id"), "not a date or period column"),
    (kind("extras", Column("extra_id"), Column("status", "status"),
          Column("day", "date", required_when=When("status", ("paid",)))),
     "names no enum column and codes"),
    (kind("extras", Column("extra_id"), Column("day", "date",
                                               optional_when=When("extra_id", ("x",)))),
     "names no enum column and codes"),
])
def test_an_inconsistent_declaration_is_refused_with_its_reason(declaration, reason):
    with pytest.raises(CatalogueError, match=reason):
        catalogue.register(declaration)
    assert catalogue.names()[-1] == "holdings"


def test_a_kind_another_kind_references_cannot_be_removed():
    with pytest.raises(CatalogueError, match="referenced by enrolments"):
        catalogue.unregister("households")


def test_every_posting_rule_the_catalogue_names_has_its_function():
    named = {k.posting for k in catalogue.kinds() if k.posting}
    assert named <= set(postings.RULES) | {postings.PAYMENT}
    assert postings.posting_kinds() >= {"payroll", "bank_return", "reserve", "adjustments"}
    assert "households" not in postings.posting_kinds()


def test_the_business_date_of_a_row_is_its_kinds_date_column():
    assert business_date_of("payroll", {"period": "2025-03"}) == "2025-03-01"
    assert business_date_of("bank_return", {"value_date": "2025-03-05"}) == "2025-03-05"
    assert business_date_of("bank_return", {"value_date": ""}) == ""  # a failed line
    assert business_date_of("enrolments", {"start_period": "2024-11",
                                           "exit_period": "2025-02"}) == "2024-11-01"
    assert business_date_of("households", {"household_id": "H1"}) == ""


def test_frames_hold_one_frame_per_kind_then_the_adjustments():
    frames = frames_from_rows()
    assert frame_names() == (*catalogue.names(), ADJUSTMENTS)
    assert tuple(vars(frames)) == frame_names()
    assert list(frames.payroll.columns) == catalogue.frame_columns("payroll")
    with pytest.raises(AttributeError, match="no frame 'payrol'"):
        frames.payrol = frames.payroll
    with pytest.raises(TypeError, match="missing"):
        Frames(payroll=frames.payroll)
    again = pickle.loads(pickle.dumps(frames.replace(deaths=frames.deaths.iloc[0:0])))
    assert again.names() == frames.names() and again.deaths.empty


def test_derived_tables_are_what_the_engines_and_workbench_used_before():
    assert catalogue.defined_keys() == {"households": "household_id", "assets": "asset_id"}
    assert catalogue.matched_id_columns() == {
        "deaths": ("id_number",), "officials": ("official_id_number", "relative_id_number"),
        "holdings": ("id_number",)}
    assert catalogue.kinds_with_column("household_id") == (
        "households", "enrolments", "payroll", "reserve")
    assert catalogue.http_import_kinds() == ("payroll", "bank_return")
    assert catalogue.local_id_columns()["reserve"] == (
        "record_id", "township", "household_id", "reference_id")

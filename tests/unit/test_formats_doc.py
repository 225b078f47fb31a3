"""docs/formats.md shows what the catalogue declares: its generated part is up to date."""

from __future__ import annotations

from pathlib import Path

from api import formats_doc
from domain import catalogue

FORMATS = Path(__file__).resolve().parents[2] / "docs" / "formats.md"


def test_the_file_formats_page_shows_exactly_what_the_catalogue_declares():
    document = FORMATS.read_text(encoding="utf-8")
    assert formats_doc.replaced(document) == document, (
        "docs/formats.md is out of date: run python -m api.formats_doc docs/formats.md")


def test_the_page_names_every_kind_column_and_header_offices_write():
    sections = FORMATS.read_text(encoding="utf-8").split("\n### ")
    for kind in catalogue.kinds():
        section = next(s for s in sections if s.startswith(f"{kind.name}\n"))
        for column in kind.columns:
            row = next(line for line in section.splitlines()
                       if line.startswith(f"| {column.name} |"))
            assert row.endswith(f"| {', '.join(column.aliases)} |"), (kind.name, column.name)


def test_a_kind_declared_later_makes_the_page_out_of_date():
    document = FORMATS.read_text(encoding="utf-8")
    extra = catalogue.RecordKind("extra", "附加", "a test's kind",
                                 (catalogue.Column("extra_id", aliases=("附加编号",)),),
                                 key=("extra_id",))
    with catalogue.registered(extra):
        assert formats_doc.replaced(document) != document
        assert "| extra_id | text | yes | 附加编号 |" in formats_doc.render()

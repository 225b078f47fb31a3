"""The tables of docs/formats.md, written from the catalogue (domain/catalogue.py).

The file kinds, their columns, the headers accepted for each and the enum words are
declared once, in the catalogue; the documentation shows them, and must not drift. So
the part of docs/formats.md between the two markers is generated here, and a test
(tests/unit/test_formats_doc.py) fails when it differs from what the catalogue says::

    python -m api.formats_doc docs/formats.md          # rewrite the generated part
    python -m api.formats_doc --check docs/formats.md  # exit 1 when it is out of date
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from domain import catalogue
from domain.catalogue import Column, RecordKind

BEGIN = "<!-- BEGIN GENERATED from domain/catalogue.py by python -m api.formats_doc -->"
END = "<!-- END GENERATED -->"
TYPE_WORDS: dict[str, str] = {
    "str": "text",
    "money": "yuan",
    "money?": "yuan or empty",
    "int": "whole number",
    "bool": "yes/no (`1`/`是`; `0`/`否`/empty)",
    "date": "date `YYYY-MM-DD`",
    "period": "month `YYYY-MM`",
    "line_no": "line number",
    "id_number": "resident ID number",
    "account": "bank account",
}


def render() -> str:
    """The generated part of docs/formats.md, markers included."""
    parts = [BEGIN, "", "### Summary", "", *_summary()]
    for kind in catalogue.kinds():
        parts += ["", *_kind_section(kind)]
    parts += ["", "### Coded values", "", *_enum_tables(), "", END]
    return "\n".join(parts)


def _summary() -> list[str]:
    lines = ["| file (in load order) | 中文 | what it holds | key |", "|---|---|---|---|"]
    for kind in catalogue.kinds():
        lines.append(f"| [`{kind.name}`](#{kind.name}) | {kind.label} | {kind.description} "
                     f"| {' + '.join(kind.key)} |")
    return lines


def _kind_section(kind: RecordKind) -> list[str]:
    lines = [f"### {kind.name}", "", (f"{kind.label}: {kind.description}. "
             f"Files: `{kind.name}.csv`, `{kind.name}_2025-03.xlsx` …"), ""]
    facts = [f"key: {' + '.join(kind.key)}"]
    if kind.business_date:
        facts.append(f"dated by {kind.business_date}")
    facts += [f"{r.column} names a record of `{r.kind}`" for r in kind.references]
    if kind.posting:
        facts.append(f"posts money (rule `{kind.posting}`)")
    if kind.merge_identical:
        facts.append("identical repeated rows are merged")
    if kind.matched_ids:
        facts.append(f"a reference list: {', '.join(kind.matched_ids)} matched to people")
    lines += ["; ".join(facts) + ".", "",
              ("| column | type | required | headers accepted besides the column name (the "
              "first is the one we write) |"),
              "|---|---|---|---|"]
    for column in kind.columns:
        lines.append(f"| {column.name} | {_type_text(column)} | {_required_text(column)} "
                     f"| {', '.join(column.aliases)} |")
    notes = [f"- {c.name}: {c.note}" for c in kind.columns if c.note]
    return lines + ([""] + notes if notes else [])


def _type_text(column: Column) -> str:
    if column.type in catalogue.ENUMS:
        return f"[{column.type}](#coded-values)"
    words = TYPE_WORDS[column.type]
    return words + (", may be negative" if column.negative_allowed else "")


def _required_text(column: Column) -> str:
    if column.required and column.optional_when is not None:
        return f"yes, but may be empty when {column.optional_when}"
    if column.required:
        return "yes" if not column.type.endswith("?") else "column yes, value may be empty"
    if column.required_when is not None:
        return f"no, but needed when {column.required_when}"
    return "no"


def _enum_tables() -> list[str]:
    lines = ["| values of | code | 中文 (shown) | also accepted |", "|---|---|---|---|"]
    for codes in catalogue.ENUMS.values():
        for code, words in codes.words.items():
            label = codes.label(code)
            more = [w for w in words if w != label]
            lines.append(f"| {codes.name} | `{code}` | {label} | {', '.join(more)} |")
    open_ = [c.name for c in catalogue.ENUMS.values() if c.open]
    lines += ["", ("Codes are accepted in English or Chinese, in any case. A value outside "
              f"the list is an error, except for {', '.join(open_)}, kept as written.")]
    return lines


def replaced(document: str) -> str:
    """The document with its generated part rewritten."""
    start, end = document.index(BEGIN), document.index(END) + len(END)
    return document[:start] + render() + document[end:]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when out of date")
    parser.add_argument("path", type=Path)
    args = parser.parse_args(argv)
    document = args.path.read_text(encoding="utf-8")
    wanted = replaced(document)
    if args.check:
        if wanted != document:
            print(f"{args.path}: out of date; run python -m api.formats_doc {args.path}",
                  file=sys.stderr)
            return 1
        return 0
    args.path.write_text(wanted, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""docs/commands.md shows what the parser declares: one block per command, each up to date."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from api import commands_doc
from api.cli import build_parser

COMMANDS_PAGE = Path(__file__).resolve().parents[2] / "docs" / "commands.md"


def page() -> str:
    return COMMANDS_PAGE.read_text(encoding="utf-8")


def test_the_commands_page_shows_exactly_what_the_parser_declares():
    assert commands_doc.replaced(page()) == page(), (
        "docs/commands.md is out of date: run python -m api.commands_doc docs/commands.md")


def test_every_command_has_its_section_with_its_block_in_the_parsers_order():
    every = [name for name in commands_doc.commands(build_parser())
             if name != commands_doc.PROGRAM]
    assert commands_doc.blocks(page()) == [commands_doc.PROGRAM, *every]
    for name in every:
        assert f"\n## {name}\n" in page(), f"docs/commands.md has no section ## {name}"


def test_every_option_of_every_command_is_on_the_page_with_its_help():
    text = page()
    for name, parser in commands_doc.commands(build_parser()).items():
        block = text.split(commands_doc.BEGIN.format(name=name), 1)[1]
        block = block.split(commands_doc.END, 1)[0]
        for action in parser._actions:
            if set(action.option_strings) & set(commands_doc.SHARED_OPTIONS) \
                    and name != commands_doc.PROGRAM:
                continue
            if isinstance(action, argparse._SubParsersAction) or "-h" in action.option_strings:
                continue
            shown = ", ".join(action.option_strings) or str(action.metavar)
            assert f"| `{shown}` |" in block, (name, shown)
            assert " ".join((action.help or "").split()) in block, (name, shown)


def test_an_option_added_later_makes_the_page_out_of_date():
    parser = build_parser()
    commands_doc.commands(parser)["digest"].add_argument(
        "--since", metavar="DIGEST", help="only what is new since an earlier digest")
    changed = commands_doc.replaced(page(), parser)
    assert changed != page()
    assert "| `--since` | `DIGEST` (text) | no |  | only what is new since an earlier digest |" \
        in changed


def test_a_command_added_later_without_its_section_is_refused_by_name():
    parser = build_parser()
    subcommands = next(a for a in parser._actions
                       if isinstance(a, argparse._SubParsersAction))
    subcommands.add_parser("audit", help="a later command")
    with pytest.raises(ValueError, match=r"commands without a block: \['audit'\]"):
        commands_doc.replaced(page(), parser)


def test_a_value_of_a_new_type_needs_its_words_before_the_page_is_written():
    parser = build_parser()
    commands_doc.commands(parser)["digest"].add_argument("--ratio", type=float)
    with pytest.raises(ValueError, match="no words for the type 'float'"):
        commands_doc.replaced(page(), parser)

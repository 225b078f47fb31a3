"""The option tables of docs/commands.md, written from the command line's parser (api/cli.py).

Every command, its arguments, their formats, defaults and help are declared once, in
``cli.build_parser``; the page shows them, and must not drift. So each block of
docs/commands.md between a pair of markers is generated here, one block per command,
next to the page's own words on what the command prints and writes; a test
(tests/unit/test_commands_doc.py) fails when the page and the parser disagree: a block
out of date, a command without its block, or a block naming no command::

    python -m api.commands_doc docs/commands.md          # rewrite the generated blocks
    python -m api.commands_doc --check docs/commands.md  # exit 1 when out of date
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from api.cli import build_parser

PROGRAM = "aidledger"
BEGIN = "<!-- BEGIN GENERATED {name} from api/cli.py by python -m api.commands_doc -->"
END = "<!-- END GENERATED -->"
BLOCK = re.compile(re.escape(BEGIN).replace(r"\{name\}", "(?P<name>[a-z -]+)") + r"\n.*?"
                   + re.escape(END), re.S)
SHARED_OPTIONS = ("--db", "-h")  # every command takes them: the page says so once
# What each type of argument is, in words; a type not listed here fails the page test,
# so a new kind of value gets its words on the page.
TYPE_WORDS = {
    "": "text",
    "Path": "path",
    "int": "whole number",
    "_date": "date",
    "_period": "month",
    "_moment": "date or date-time",
}


def commands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    """Every command that runs (``report balances``, not ``report``), in the parser's
    order, after the program itself (``aidledger``)."""
    return {PROGRAM: parser} | {name: sub for name, sub, _ in _leaves(parser)}


def _leaves(parser: argparse.ArgumentParser,
            prefix: str = "") -> list[tuple[str, argparse.ArgumentParser, str]]:
    """(name, parser, one-line help) of every command under ``parser`` that has no
    commands of its own."""
    found = []
    for action in parser._actions:
        if not isinstance(action, argparse._SubParsersAction):
            continue
        helps = {choice.dest: choice.help or "" for choice in action._choices_actions}
        for word, sub in action.choices.items():
            name = f"{prefix}{word}"
            found += _leaves(sub, f"{name} ") or [(name, sub, helps.get(word, ""))]
    return found


def render(name: str, parser: argparse.ArgumentParser) -> str:
    """The generated block of one command, markers included."""
    lines = [BEGIN.format(name=name), "", f"`{_usage(name, parser)}`", ""]
    if name == PROGRAM:
        lines += _command_table(parser) + [""]
        shown = [a for a in parser._actions if "-h" not in a.option_strings
                 and not isinstance(a, argparse._SubParsersAction)]
    else:
        shown = [a for a in parser._actions if not set(a.option_strings) & set(SHARED_OPTIONS)]
    lines += _option_table(shown) if shown else ["No arguments."]
    return "\n".join([*lines, "", END])


def _usage(name: str, parser: argparse.ArgumentParser) -> str:
    if name == PROGRAM:
        return f"{PROGRAM} [--db URL] COMMAND [ARGUMENTS]"
    words = [PROGRAM, "[--db URL]", name]
    for action in parser._actions:
        if set(action.option_strings) & set(SHARED_OPTIONS):
            continue
        words.append(_usage_word(action))
    return " ".join(words)


def _usage_word(action: argparse.Action) -> str:
    if not action.option_strings:
        return _metavar(action)
    option = action.option_strings[-1]
    word = option if action.nargs == 0 else f"{option} {_metavar(action)}"
    return word if action.required else f"[{word}]"


def _metavar(action: argparse.Action) -> str:
    if action.metavar is not None:
        return str(action.metavar)
    if action.choices is not None:
        return "{" + ",".join(str(c) for c in action.choices) + "}"
    return action.dest.upper()


def _command_table(parser: argparse.ArgumentParser) -> list[str]:
    lines = ["| command | what it does |", "|---|---|"]
    for name, _, help_text in _leaves(parser):
        lines.append(f"| [`{name}`](#{name.replace(' ', '-')}) | {_cell(help_text)} |")
    return lines


def _option_table(actions: list[argparse.Action]) -> list[str]:
    lines = ["| argument | format | required | default | what it is |", "|---|---|---|---|---|"]
    for action in actions:
        name = ", ".join(action.option_strings) or _metavar(action)
        lines.append(f"| `{name}` | {_format(action)} | {_required(action)} | "
                     f"{_default(action)} | {_cell(action.help or '')} |")
    return lines


def _format(action: argparse.Action) -> str:
    if action.nargs == 0:
        return "flag (no value)"
    if action.choices is not None:
        return "one of " + ", ".join(f"`{c}`" for c in action.choices)
    type_name = getattr(action.type, "__name__", "")
    if type_name not in TYPE_WORDS:
        raise ValueError(f"{action.dest}: no words for the type {type_name!r}; add them to "
                         "api.commands_doc.TYPE_WORDS")
    return f"`{_metavar(action)}` ({TYPE_WORDS[type_name]})"


def _required(action: argparse.Action) -> str:
    return "yes" if action.required or not action.option_strings else "no"


def _default(action: argparse.Action) -> str:
    if action.default in (None, False, argparse.SUPPRESS) or action.nargs == 0:
        return ""
    return f"`{action.default}`"


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def blocks(document: str) -> list[str]:
    """The commands whose generated block the document has, in its order."""
    return [m.group("name") for m in BLOCK.finditer(document)]


def replaced(document: str, parser: argparse.ArgumentParser | None = None) -> str:
    """The document with every generated block rewritten from the parser. A command
    without its block, or a block naming no command, is an error naming them."""
    parser = parser or build_parser()
    every = commands(parser)
    named = blocks(document)
    missing = [name for name in every if name not in named]
    unknown = [name for name in named if name not in every]
    if missing or unknown:
        raise ValueError(f"docs/commands.md and the parser disagree: commands without a "
                         f"block: {missing or 'none'}; blocks of no command: "
                         f"{unknown or 'none'}")
    return BLOCK.sub(lambda m: render(m.group("name"), every[m.group("name")]), document)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when out of date")
    parser.add_argument("path", type=Path)
    args = parser.parse_args(argv)
    document = args.path.read_text(encoding="utf-8")
    wanted = replaced(document)
    if args.check:
        if wanted != document:
            print(f"{args.path}: out of date; run python -m api.commands_doc {args.path}",
                  file=sys.stderr)
            return 1
        return 0
    args.path.write_text(wanted, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())

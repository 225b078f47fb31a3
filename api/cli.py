"""The ``aidledger`` command line: every command, what it prints and writes, is described
in docs/commands.md (its option tables are generated from ``build_parser``); the files
read and written in docs/formats.md.

Exit status: 0 success (findings are a result), 1 failure with a printed reason,
2 usage error (argparse), 3 tampering: ``verify``, ``verify-receipt`` or ``monitor`` found
it, or a command refused to publish or write because the log, its chain or a read model
no longer agree (``Tampered``). Domain errors are mapped to exit codes here and nowhere
else.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from domain.errors import DomainError, RejectedFile, Tampered

EXIT_OK, EXIT_FAILURE, EXIT_USAGE, EXIT_TAMPERED = 0, 1, 2, 3


def _store_errors() -> tuple[type[BaseException], ...]:
    import sqlite3

    import psycopg
    from eventsourcing.persistence import PersistenceError

    return (psycopg.Error, sqlite3.Error, PersistenceError)


STORE_ERRORS = _store_errors()
PROBLEMS_PRINTED_MAX = 200


def _date(text: str) -> str:
    import datetime as dt

    try:
        return dt.date.fromisoformat(text.strip()).isoformat()
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date YYYY-MM-DD: {text!r}") from None


def _period(text: str) -> str:
    import re

    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", text.strip()):
        raise argparse.ArgumentTypeError(f"not a period YYYY-MM: {text!r}")
    return text.strip()


def _moment(text: str) -> str:
    """An ISO 8601 moment, read as the END of the precision it is written to: a date means
    the end of that day, 'HH:MM' the end of that minute, 'HH:MM:SS' the end of that second.
    "What had been recorded by 18:20:00" includes what was recorded at 18:20:00.7."""
    import datetime as dt
    import re

    cleaned = text.strip()
    try:
        moment = dt.datetime.fromisoformat(cleaned.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 date-time: {text!r}") from None
    clock = re.match(r"\d{4}-?\d{2}-?\d{2}[T ](\d{2}):?(\d{2})?(:?\d{2})?([.,]\d+)?", cleaned)
    if clock is None:  # a date alone
        moment = moment.replace(hour=23, minute=59, second=59, microsecond=999_999)
    elif clock.group(4) is None:
        if clock.group(2) is None:
            moment = moment.replace(minute=59)
        if clock.group(3) is None:
            moment = moment.replace(second=59)
        moment = moment.replace(microsecond=999_999)
    return moment.isoformat()


DB_HELP = ("the ledger: sqlite:///FILE.db (default sqlite:///aidledger.db) or "
           "postgresql://USER:PASSWORD@HOST:PORT/DB[?schema=NAME]; also AIDLEDGER_DB")
AS_OF_HELP = "YYYY-MM-DD: the books as they stood at the end of that day"
KNOWN_AT_HELP = ("ISO 8601 date or date-time (2025-03-31, 2025-03-31T18:20, "
                 "2025-03-31T18:20:00+08:00): only what had been recorded by then")
COUNTIES_HELP = "county registry, a TOML file (docs/deploy_dask.md)"
HOUSEHOLD_HELP = "the household's id (户编号), as in households.csv"
USER_NAME_HELP = "the user's name, as the ledger records who did what"
COMMAND_COLUMN_WIDTH = 20


class _OneLinePerCommand(argparse.HelpFormatter):
    """Each command and its help on one line: argparse measures command names two
    columns short of their indent, so the longest (verify-receipt) would wrap."""

    def add_argument(self, action: argparse.Action) -> None:
        super().add_argument(action)
        self._action_max_length = max(self._action_max_length, COMMAND_COLUMN_WIDTH)


def _db_option() -> argparse.ArgumentParser:
    """--db for every command, so it may come after the command too. SUPPRESS keeps a
    command's absent --db from overwriting one given before the command."""
    parent = argparse.ArgumentParser(add_help=False)
    parent.add_argument("--db", metavar="URL", default=argparse.SUPPRESS, help=DB_HELP)
    return parent


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="aidledger", description="Event-sourced ledger of assistance funds and assets.",
        epilog="'aidledger COMMAND --help' tells a command's options.",
        formatter_class=_OneLinePerCommand)
    parser.add_argument("--db", metavar="URL", help=DB_HELP)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")
    db = [_db_option()]

    p = sub.add_parser("load", parents=db, help="import every contract file found in DIR")
    p.add_argument("directory", metavar="DIR", type=Path,
                   help="folder of county files, CSV or XLSX (docs/formats.md)")
    p.add_argument("--counties", metavar="FILE.toml", type=Path,
                   help=COUNTIES_HELP + "; DIR holds one subfolder per county code")

    p = sub.add_parser("reconcile", parents=db,
                       help="run every finding check, write the findings CSV")
    p.add_argument("--as-of", required=True, type=_date, metavar="YYYY-MM-DD",
                   help=AS_OF_HELP)
    p.add_argument("--out", required=True, type=Path, metavar="FILE.csv",
                   help="findings CSV; FILE_leads.csv and FILE_evidence.csv go beside it")
    p.add_argument("--policy", type=Path, metavar="FILE.toml",
                   help="policy overrides (default: the policy.toml loaded with the files)")
    p.add_argument("--xlsx", type=Path, metavar="FILE.xlsx",
                   help="also write an Excel workbook, Chinese headers")
    p.add_argument("--counties", metavar="FILE.toml", type=Path,
                   help=COUNTIES_HELP + ": every county plus cross-county checks")
    p.add_argument("--engine", choices=["pandas", "dask"], default="pandas",
                   help="pandas (default) or dask (with --counties)")
    p.add_argument("--scheduler", metavar="tcp://HOST:PORT",
                   help="Dask scheduler, e.g. tcp://10.0.0.5:8786 (default: a local cluster)")

    p = sub.add_parser("disclose", parents=db, help="public disclosure files for a period")
    p.add_argument("--period", required=True, type=_period, metavar="YYYY-MM",
                   help="the payroll month to disclose")
    p.add_argument("--out", required=True, type=Path, metavar="DIR", help="output folder")

    p = sub.add_parser("report", parents=db,
                       help="balances, registers or one household's statement")
    rsub = p.add_subparsers(dest="report", required=True, metavar="REPORT")
    b = rsub.add_parser("balances", parents=db,
                        help="balances by township, program or household")
    b.add_argument("--by", required=True, choices=["township", "program", "household"],
                   help="one row per township and program, per program, or per household")
    b.add_argument("--as-of", required=True, type=_date, metavar="YYYY-MM-DD",
                   help=AS_OF_HELP)
    b.add_argument("--known-at", type=_moment, metavar="DATETIME", help=KNOWN_AT_HELP)
    b.add_argument("--out", required=True, type=Path, metavar="FILE.csv", help="output CSV")
    b.add_argument("--xlsx", type=Path, metavar="FILE.xlsx",
                   help="also write an Excel workbook, Chinese headers")
    b.add_argument("--counties", metavar="FILE.toml", type=Path,
                   help=COUNTIES_HELP + ": one table, leading county column")
    g = rsub.add_parser("registers", parents=db, help="township spending, reserve funds, "
                        "fund execution, asset list (CSV each + one XLSX)")
    g.add_argument("--as-of", required=True, type=_date, metavar="YYYY-MM-DD",
                   help=AS_OF_HELP)
    g.add_argument("--known-at", type=_moment, metavar="DATETIME", help=KNOWN_AT_HELP)
    g.add_argument("--out", required=True, type=Path, metavar="DIR", help="output folder")
    h = rsub.add_parser("household", parents=db,
                        help="one household's entitlement, payroll and payments")
    h.add_argument("household_id", metavar="HOUSEHOLD_ID", help=HOUSEHOLD_HELP)
    h.add_argument("--as-of", required=True, type=_date, metavar="YYYY-MM-DD",
                   help=AS_OF_HELP)
    h.add_argument("--known-at", type=_moment, metavar="DATETIME", help=KNOWN_AT_HELP)
    h.add_argument("--out", required=True, type=Path, metavar="FILE.csv", help="output CSV")

    p = sub.add_parser("verify", parents=db, help="tamper check of the whole event store")
    p.add_argument("--against", metavar="DIGEST",
                   help="a digest published earlier (aidledger:v1:N:HEX): it must be a "
                        "prefix of the log")
    p = sub.add_parser("digest", parents=db,
                       help="print the head to publish (last line is the digest)")
    p.add_argument("--sign", metavar="KEYFILE", type=Path,
                   help="also sign a checkpoint with this private key (aidledger key new) "
                   "and keep it for /public/checkpoint")
    p.add_argument("--origin", metavar="NAME",
                   help="the log's name in the checkpoint (default: the key's)")
    p.add_argument("--out", type=Path, metavar="FILE",
                   help="write the signed checkpoint to this file")
    p = sub.add_parser("key", help="signing keys for checkpoints")
    ksub = p.add_subparsers(dest="key_command", required=True, metavar="ACTION")
    k = ksub.add_parser("new", help="a new Ed25519 key: FILE (private) and FILE.pub")
    k.add_argument("--out", required=True, type=Path, metavar="FILE",
                   help="the private key file to write (FILE.pub beside it)")
    k.add_argument("--name", default="aidledger.county/log", metavar="NAME",
                   help="the signer's name, e.g. mz.example-county.gov.cn/aidledger")
    p = sub.add_parser("cosign", help="a witness's cosignature on a checkpoint file")
    p.add_argument("checkpoint", metavar="CHECKPOINT", type=Path)
    p.add_argument("--key", required=True, type=Path, metavar="KEYFILE",
                   help="the witness's private key")
    p.add_argument("--log-key", metavar="PUB",
                   help="the county's verifier key (text or file): checked before cosigning")
    p.add_argument("--out", type=Path, metavar="FILE",
                   help="where to write (default: CHECKPOINT itself)")
    p = sub.add_parser("checkpoint", parents=db, help="checkpoints kept in the store")
    csub = p.add_subparsers(dest="checkpoint_command", required=True, metavar="ACTION")
    c = csub.add_parser("add", parents=db,
                        help="attach a (co)signed checkpoint file's signatures")
    c.add_argument("file", metavar="FILE", type=Path)
    p = sub.add_parser("monitor", help="watch a county's log: exit 3 on a fork or rewrite")
    p.add_argument("url", metavar="URL", help="the county's server, e.g. https://host:8000")
    p.add_argument("--state", required=True, type=Path, metavar="FILE",
                   help="the checkpoint seen last time (read, then replaced when good)")
    p.add_argument("--log-key", required=True, metavar="PUB",
                   help="the county's verifier key (text or file)")
    p.add_argument("--witness-key", action="append", default=[], metavar="PUB",
                   help="a witness's verifier key (repeat for several)")
    p.add_argument("--witnesses-min", type=int, default=0, metavar="N",
                   help="cosignatures required from the witness keys (default 0)")
    p = sub.add_parser("receipt", parents=db, help="inclusion proof of a household's events")
    p.add_argument("household_id", metavar="HOUSEHOLD_ID", help=HOUSEHOLD_HELP)
    p.add_argument("--digest", required=True, metavar="DIGEST",
                   help="a published digest (aidledger:v1:N:HEX)")
    p.add_argument("--out", required=True, type=Path, metavar="FILE.json",
                   help="the receipt, JSON")
    p = sub.add_parser("verify-receipt", help="check a household receipt against a digest")
    p.add_argument("file", metavar="RECEIPT", type=Path, help="a receipt written by receipt")
    p.add_argument("--digest", required=True, metavar="DIGEST",
                   help="the published digest (aidledger:v1:N:HEX)")

    p = sub.add_parser("export", parents=db, help="stream the whole event log to FILE")
    p.add_argument("file", metavar="FILE", type=Path,
                   help="JSON Lines, gzip-compressed when the name ends .gz")
    p = sub.add_parser("import", parents=db, help="rebuild an empty store from an export")
    p.add_argument("file", metavar="FILE", type=Path, help="a file written by export")

    p = sub.add_parser("serve", parents=db, help="HTTP API and web pages")
    p.add_argument("--host", default="127.0.0.1", metavar="HOST",
                   help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, metavar="PORT",
                   help="TCP port (default 8000)")

    p = sub.add_parser("user", parents=db, help="users of the HTTP API and the workbench")
    usub = p.add_subparsers(dest="user_command", required=True, metavar="ACTION")
    u = usub.add_parser("add", parents=db,
                        help="add a new user (an existing name: exit 1); prints the new "
                        "token on the last line")
    u.add_argument("name", metavar="NAME", help=USER_NAME_HELP)
    u.add_argument("--role", required=True,
                   choices=["clerk", "approver", "finance", "inspector", "admin"],
                   help="what the user may do")
    u.add_argument("--township", metavar="TOWNSHIP",
                   help="the township a clerk or township approver works for, as written "
                        "in the files (e.g. 城关镇); none: county-wide")
    u = usub.add_parser("set", parents=db,
                        help="change a user's role and township (none: county-wide), "
                        "revoking every token; prints a new token on the last line")
    u.add_argument("name", metavar="NAME", help=USER_NAME_HELP)
    u.add_argument("--role", required=True,
                   choices=["clerk", "approver", "finance", "inspector", "admin"],
                   help="what the user may do")
    u.add_argument("--township", metavar="TOWNSHIP",
                   help="the township a clerk or township approver works for, as written "
                        "in the files (e.g. 城关镇); none: county-wide")
    u = usub.add_parser("token", parents=db,
                        help="issue one more token to an existing user; prints it on the "
                        "last line")
    u.add_argument("name", metavar="NAME", help=USER_NAME_HELP)
    u = usub.add_parser("revoke", parents=db, help="revoke every token of a user")
    u.add_argument("name", metavar="NAME", help=USER_NAME_HELP)

    p = sub.add_parser("project", parents=db, help="bring the read models up to date")
    p.add_argument("--rebuild", action="store_true", help="drop and rebuild from the log")
    p.add_argument("--follow", action="store_true", help="keep following the log")

    p = sub.add_parser("demo", parents=db, help="sample county end to end, in its own store")
    p.add_argument("--households", type=int, default=300, metavar="N",
                   help="households in the sample county (default 300, at least 100)")
    p.add_argument("--dir", type=Path, default=Path("aidledger-demo"), metavar="DIR",
                   help="folder for the county, its store and the outputs "
                        "(default aidledger-demo)")
    return parser


def _usage_problem(args: argparse.Namespace) -> str | None:
    """What argparse cannot say by itself: the demo asked to use --db."""
    if args.command == "demo" and args.db:
        return ("the demo uses its own store in its own folder (--dir) and never writes "
                "to --db; run it without --db")
    return None


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:  # 'aidledger' alone: the commands, one line each; usage
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    problem = _usage_problem(args)
    if problem is not None:
        parser.error(problem)
    from api import commands

    name = f"cmd_{args.command.replace('-', '_')}"
    handler: Callable[[argparse.Namespace], int] = getattr(commands, name)
    try:
        return handler(args)
    except RejectedFile as error:
        print(f"error: {error}", file=sys.stderr)
        for problem in error.problems[:PROBLEMS_PRINTED_MAX]:
            print(f"  {problem}", file=sys.stderr)
        if len(error.problems) > PROBLEMS_PRINTED_MAX:
            print(f"  … and {len(error.problems) - PROBLEMS_PRINTED_MAX} more", file=sys.stderr)
        return EXIT_FAILURE
    except Tampered as error:  # the evidence does not hold: never publish, never write on
        print(f"TAMPERED: {error}", file=sys.stderr)
        return EXIT_TAMPERED
    except DomainError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_FAILURE
    except OSError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_FAILURE
    except STORE_ERRORS as error:  # the store failed mid-way: every file is whole or absent
        reason = " ".join(str(error).split())
        print(f"error: the store failed ({type(error).__name__}: {reason}); every file is "
              f"recorded whole or not at all: run the command again", file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        print("interrupted; every file is loaded whole or not at all", file=sys.stderr)
        return EXIT_FAILURE


def run() -> None:
    sys.exit(main())


if __name__ == "__main__":
    run()

"""The ``aidledger`` command line (CONTRACT.md section 1).

Exit status: 0 success (findings are a result), 1 failure with a printed reason,
2 usage error (argparse), 3 tampering: ``verify`` found it, or a command refused to
publish or write because the log, its chain or a read model no longer agree (``Tampered``). Domain errors are mapped to exit
codes here and nowhere else.
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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="aidledger", description="Event-sourced ledger of assistance funds and assets.")
    parser.add_argument("--db", help="sqlite:///FILE (default sqlite:///aidledger.db) or "
                        "postgresql://USER:PW@HOST:PORT/DB; also AIDLEDGER_DB")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("load", help="import every contract file found in DIR")
    p.add_argument("directory", metavar="DIR", type=Path)
    p.add_argument("--counties", metavar="FILE", type=Path,
                   help="county registry (TOML); DIR holds one subfolder per county code")

    p = sub.add_parser("reconcile", help="run every finding check, write findings CSV")
    p.add_argument("--as-of", required=True, type=_date)
    p.add_argument("--out", required=True, type=Path)
    p.add_argument("--policy", type=Path)
    p.add_argument("--xlsx", type=Path, help="also write an Excel workbook")
    p.add_argument("--counties", metavar="FILE", type=Path,
                   help="county registry (TOML): every county plus cross-county checks")
    p.add_argument("--engine", choices=["pandas", "dask"], default="pandas")
    p.add_argument("--scheduler", metavar="URL",
                   help="Dask scheduler tcp://host:8786 (default: a local cluster)")

    p = sub.add_parser("disclose", help="public disclosure files for a period")
    p.add_argument("--period", required=True, type=_period)
    p.add_argument("--out", required=True, type=Path)

    p = sub.add_parser("report", help="balance reports")
    rsub = p.add_subparsers(dest="report", required=True, metavar="REPORT")
    b = rsub.add_parser("balances", help="balances by township, program or household")
    b.add_argument("--by", required=True, choices=["township", "program", "household"])
    b.add_argument("--as-of", required=True, type=_date)
    b.add_argument("--known-at", type=_moment)
    b.add_argument("--out", required=True, type=Path)
    b.add_argument("--xlsx", type=Path, help="also write an Excel workbook, Chinese headers")
    b.add_argument("--counties", metavar="FILE", type=Path,
                   help="county registry (TOML): one table, leading county column")
    g = rsub.add_parser("registers", help="township spending, reserve funds, fund execution, "
                        "asset list (CSV each + one XLSX)")
    g.add_argument("--as-of", required=True, type=_date)
    g.add_argument("--known-at", type=_moment)
    g.add_argument("--out", required=True, type=Path, help="output directory")
    h = rsub.add_parser("household", help="one household's entitlement, payroll and payments")
    h.add_argument("household_id", metavar="HOUSEHOLD_ID")
    h.add_argument("--as-of", required=True, type=_date)
    h.add_argument("--known-at", type=_moment)
    h.add_argument("--out", required=True, type=Path)

    p = sub.add_parser("verify", help="tamper check of the whole event store")
    p.add_argument("--against", metavar="DIGEST")
    p = sub.add_parser("digest", help="print the head to publish (last line is the digest)")
    p.add_argument("--sign", metavar="KEY", type=Path,
                   help="also sign a checkpoint with this private key (aidledger key new) "
                   "and keep it for /public/checkpoint")
    p.add_argument("--origin", help="the log's name in the checkpoint (default: the key's)")
    p.add_argument("--out", type=Path, help="write the signed checkpoint to this file")
    p = sub.add_parser("key", help="signing keys for checkpoints")
    ksub = p.add_subparsers(dest="key_command", required=True, metavar="ACTION")
    k = ksub.add_parser("new", help="a new Ed25519 key: FILE (private) and FILE.pub")
    k.add_argument("--out", required=True, type=Path)
    k.add_argument("--name", default="aidledger.county/log",
                   help="the signer's name, e.g. mz.example-county.gov.cn/aidledger")
    p = sub.add_parser("cosign", help="a witness's cosignature on a checkpoint file")
    p.add_argument("checkpoint", metavar="CHECKPOINT", type=Path)
    p.add_argument("--key", required=True, type=Path, help="the witness's private key")
    p.add_argument("--log-key", metavar="PUB",
                   help="the county's verifier key (text or file): checked before cosigning")
    p.add_argument("--out", type=Path, help="where to write (default: CHECKPOINT itself)")
    p = sub.add_parser("checkpoint", help="checkpoints kept in the store")
    csub = p.add_subparsers(dest="checkpoint_command", required=True, metavar="ACTION")
    c = csub.add_parser("add", help="attach a (co)signed checkpoint file's signatures")
    c.add_argument("file", metavar="FILE", type=Path)
    p = sub.add_parser("monitor", help="watch a county's log: exit 3 on a fork or rewrite")
    p.add_argument("url", metavar="URL", help="the county's server, e.g. https://host:8000")
    p.add_argument("--state", required=True, type=Path,
                   help="the checkpoint seen last time (read, then replaced when good)")
    p.add_argument("--log-key", required=True, metavar="PUB",
                   help="the county's verifier key (text or file)")
    p.add_argument("--witness-key", action="append", default=[], metavar="PUB",
                   help="a witness's verifier key (repeat for several)")
    p.add_argument("--witnesses-min", type=int, default=0,
                   help="cosignatures required from the witness keys (default 0)")
    p = sub.add_parser("receipt", help="inclusion proof of a household's events")
    p.add_argument("household_id", metavar="HOUSEHOLD_ID")
    p.add_argument("--digest", required=True, help="a published digest")
    p.add_argument("--out", required=True, type=Path)
    p = sub.add_parser("verify-receipt", help="check a household receipt against a digest")
    p.add_argument("file", metavar="RECEIPT", type=Path)
    p.add_argument("--digest", required=True)

    p = sub.add_parser("export", help="stream the whole event log to FILE")
    p.add_argument("file", metavar="FILE", type=Path)
    p = sub.add_parser("import", help="rebuild an empty store from an export")
    p.add_argument("file", metavar="FILE", type=Path)

    p = sub.add_parser("serve", help="HTTP API and web pages")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)

    p = sub.add_parser("user", help="users of the HTTP API")
    usub = p.add_subparsers(dest="user_command", required=True, metavar="ACTION")
    u = usub.add_parser("add", help="add a user; prints the new token on the last line")
    u.add_argument("name", metavar="NAME")
    u.add_argument("--role", required=True,
                   choices=["clerk", "approver", "finance", "inspector", "admin"])
    u.add_argument("--township")
    u = usub.add_parser("revoke", help="revoke every token of a user")
    u.add_argument("name", metavar="NAME")

    p = sub.add_parser("project", help="bring the read models up to date")
    p.add_argument("--rebuild", action="store_true", help="drop and rebuild from the log")
    p.add_argument("--follow", action="store_true", help="keep following the log")

    p = sub.add_parser("demo", help="generate a sample county, load, reconcile, report")
    p.add_argument("--households", type=int, default=300)
    p.add_argument("--dir", type=Path, default=Path("aidledger-demo"))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
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

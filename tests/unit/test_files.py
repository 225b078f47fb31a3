"""The county file parser: real files in tmp_path, typed rows out, every problem listed."""

from __future__ import annotations

import datetime as dt
import hashlib
import unicodedata
from decimal import Decimal
from pathlib import Path

import openpyxl
import pyarrow as pa
import pytest

from api import files
from api.files import RowError, discover, kind_of, parse_file
from api.files.columns import NFKC_STABLE_RANGES
from domain import catalogue

PAYROLL_HEADER_ZH = (
    "批次号,序号,救助类别,发放年月,乡镇(街道),户编号,收款人,收款人身份证号,银行账号,金额"
)
PAYROLL_HEADER_EN = (
    "batch_id,line_no,program,period,township,household_id,payee_name,payee_id_number,"
    "bank_account,amount"
)
VALID_ID = "11010519491231002X"


def write_text(tmp_path: Path, name: str, lines: list[str], encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(("\n".join(lines) + "\n").encode(encoding))
    return path


def write_xlsx(tmp_path: Path, name: str, rows: list[list[object]]) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    book.create_sheet("ignored").append(["not", "read"])
    path = tmp_path / name
    book.save(path)
    return path


def errors_at(parsed: files.ParsedFile) -> set[tuple[int, str]]:
    return {(e.row, e.column) for e in parsed.errors}


# ------------------------------------------------------------------------- encodings


def test_utf8_payroll_with_english_headers_gives_typed_rows(tmp_path):
    path = write_text(
        tmp_path,
        "payroll_2025-03.csv",
        [
            PAYROLL_HEADER_EN,
            f'B1,001,低保,2025-03,城关镇,H1,张三,{VALID_ID},6217 0000 1234,"1,234.50"',
        ],
    )
    parsed = parse_file(path)
    assert parsed.ok, parsed.errors
    assert (parsed.kind, parsed.name, parsed.encoding) == (
        "payroll",
        "payroll_2025-03.csv",
        "utf-8",
    )
    assert parsed.rows == [
        {
            "batch_id": "B1",
            "line_no": "1",
            "program": "dibao",
            "period": "2025-03",
            "township": "城关镇",
            "household_id": "H1",
            "payee_name": "张三",
            "payee_id_number": VALID_ID,
            "bank_account": "621700001234",
            "amount": Decimal("1234.50"),
        }
    ]
    assert parsed.row_numbers == [2]
    assert parsed.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


def test_utf8_bom_does_not_hide_the_first_header(tmp_path):
    path = write_text(
        tmp_path,
        "payroll.csv",
        [
            PAYROLL_HEADER_ZH,
            "B1,1,dibao,2025-03,城关镇,H1,张三,,,300",
        ],
        encoding="utf-8-sig",
    )
    parsed = parse_file(path)
    assert parsed.ok, parsed.errors
    assert parsed.encoding == "utf-8-sig"
    assert parsed.rows[0]["batch_id"] == "B1"


def test_gbk_file_with_chinese_headers_and_units_is_decoded(tmp_path):
    path = write_text(
        tmp_path,
        "bank_return_202503_gbk.csv",
        [
            "批次号,序号,户名,账号,金额（元）,状态,失败原因,入账日期",
            "B1,1,张三,6217-0000-1234,300.00,成功,,2025/3/5",
            "B1,2,李四,6217 0000 5678,,失败,账户冻结,",
        ],
        encoding="gbk",
    )
    parsed = parse_file(path)
    assert parsed.ok, parsed.errors
    assert parsed.kind == "bank_return" and parsed.encoding == "gb18030"
    first, second = parsed.rows
    assert (first["account_holder"], first["bank_account"], first["status"]) == (
        "张三",
        "621700001234",
        "success",
    )
    assert (first["amount"], first["value_date"]) == (Decimal("300.00"), "2025-03-05")
    assert (second["amount"], second["status"], second["fail_reason"]) == (
        None,
        "failed",
        "账户冻结",
    )
    assert second["value_date"] == ""


def test_semicolon_separated_csv_is_read(tmp_path):
    path = write_text(
        tmp_path, "deaths.csv", ["id_number;name;date_of_death", f"{VALID_ID};王五;2025-01-31"]
    )
    parsed = parse_file(path)
    assert parsed.ok, parsed.errors
    assert parsed.rows == [{"id_number": VALID_ID, "name": "王五", "date_of_death": "2025-01-31"}]


def test_undecodable_file_is_one_error_not_a_crash(tmp_path):
    path = tmp_path / "deaths.csv"
    path.write_bytes(b"\x00\xff\xfe\x81" * 300)
    parsed = parse_file(path)
    assert not parsed.ok
    assert [e.row for e in parsed.errors] == [0]
    assert "decode" in parsed.errors[0].reason


# ------------------------------------------------------------------------------ xlsx


def test_xlsx_numeric_and_date_cells_keep_their_exact_meaning(tmp_path):
    path = write_xlsx(
        tmp_path,
        "payroll.xlsx",
        [
            PAYROLL_HEADER_ZH.split(","),
            [
                "B1",
                3.0,
                "特困",
                dt.datetime(2025, 3, 1),
                "城关镇",
                1001,
                "张三",
                110105491231002,
                6217000012345678,
                242.1,
            ],  # 15-digit legacy ID: exact as a number
            ["B1", 4, "tekun", 202503, "城关镇", "H2", "李四", VALID_ID.lower(), "6217", 300],
        ],
    )
    parsed = parse_file(path)
    assert parsed.ok, parsed.errors
    assert parsed.encoding == "xlsx"
    first, second = parsed.rows
    assert (first["line_no"], first["period"], first["household_id"]) == ("3", "2025-03", "1001")
    assert (first["payee_id_number"], first["bank_account"]) == (
        "110105491231002",
        "6217000012345678",
    )
    assert first["amount"] == Decimal("242.10") and str(first["amount"]) == "242.10"
    assert (second["line_no"], second["period"], second["payee_id_number"]) == (
        "4",
        "2025-03",
        VALID_ID,
    )
    assert str(second["amount"]) == "300.00"


def test_xlsx_date_cells_become_iso_dates_and_float_noise_is_not_a_decimal(tmp_path):
    path = write_xlsx(
        tmp_path,
        "allocations.xlsx",
        [
            ["拨付编号", "资金类别", "乡镇(街道)", "金额", "拨付日期", "文号"],
            ["A1", "低保", "城关镇", 50000, dt.datetime(2025, 2, 3, 0, 0), "民发〔2025〕1号"],
            ["A2", "低保", "城关镇", 12.5, dt.date(2025, 2, 4), None],
            ["A3", "低保", "城关镇", 0.1 + 0.2, "2025-02-05", None],  # a formula's float noise
            ["A4", "低保", "城关镇", 0.125, "2025-02-06", None],
        ],
    )
    parsed = parse_file(path)
    assert [r["date"] for r in parsed.rows] == ["2025-02-03", "2025-02-04", "2025-02-05"]
    assert [r["amount"] for r in parsed.rows] == [
        Decimal("50000.00"),
        Decimal("12.50"),
        Decimal("0.30"),
    ]
    assert parsed.rows[1]["document_no"] == ""
    assert [(e.row, e.reason) for e in parsed.errors] == [(5, "more than 2 decimals: '0.125'")]


def test_xlsx_title_rows_above_the_header_are_skipped_and_rows_keep_sheet_numbers(tmp_path):
    path = write_xlsx(
        tmp_path,
        "households.xlsx",
        [
            ["2025年城关镇低保户花名册"],
            [],
            ["户编号", "乡镇(街道)", "村(社区)", "户主姓名", "户主身份证号", "家庭人口"],
            ["H1", "城关镇", "东村", "张三", VALID_ID, 3],
            ["H2", "城关镇", "东村", "李四", VALID_ID, 0],
        ],
    )
    parsed = parse_file(path)
    assert parsed.row_numbers == [4]
    assert parsed.errors == [
        RowError("households.xlsx", 5, "家庭人口", "members must be at least 1: '0'")
    ]


def test_a_corrupt_xlsx_is_one_error(tmp_path):
    path = tmp_path / "payroll.xlsx"
    path.write_bytes(b"PK\x03\x04 not really a zip")
    parsed = parse_file(path)
    assert len(parsed.errors) == 1 and "XLSX" in parsed.errors[0].reason


# ------------------------------------------------------------------------ normalising


def test_full_width_digits_stray_spaces_and_lower_case_x_are_normalised(tmp_path):
    path = write_text(
        tmp_path,
        "households.csv",
        [
            " 户编号 ,乡镇（街道）,村（社区）,户主姓名,户主身份证号码,家庭人口,"
            "银行账号,开户人,不予公示",
            f"　Ｈ１ ,城关镇 , 东村,张三 ,{VALID_ID[:6]} {VALID_ID[6:].lower()} ,３,"
            "６２１７ ００００,张三,是",
            f"H2,城关镇,东村,李四,{VALID_ID},2,,,",
        ],
    )
    parsed = parse_file(path)
    assert parsed.ok, parsed.errors
    first, second = parsed.rows
    assert first == {
        "household_id": "H1",
        "township": "城关镇",
        "village": "东村",
        "head_name": "张三",
        "head_id_number": VALID_ID,
        "members": 3,
        "bank_account": "62170000",
        "account_holder": "张三",
        "disclosure_exempt": True,
    }
    assert (second["bank_account"], second["account_holder"], second["disclosure_exempt"]) == (
        "",
        "",
        False,
    )


def test_an_invalid_id_number_is_kept_as_evidence_not_rejected(tmp_path):
    bad_check_digit = VALID_ID[:-1] + "1"
    path = write_text(
        tmp_path, "deaths.csv", ["身份证号,姓名,死亡日期", f"{bad_check_digit},王五,2025-01-31"]
    )
    parsed = parse_file(path)
    assert parsed.ok, parsed.errors
    assert parsed.rows[0]["id_number"] == bad_check_digit


def test_date_spellings_all_become_iso_and_impossible_dates_are_errors(tmp_path):
    spellings = [
        "2025-03-05",
        "2025/3/5",
        "2025.03.05",
        "20250305",
        "2025年3月5日",
        "2025-3-5 00:00:00",
    ]
    lines = ["id_number,date_of_death"] + [
        f"{VALID_ID[:-2]}{i:02d},{s}" for i, s in enumerate(spellings)
    ]
    lines += [f"{VALID_ID[:-2]}98,2025-02-30", f"{VALID_ID[:-2]}99,5/3/2025"]
    parsed = parse_file(write_text(tmp_path, "deaths.csv", lines))
    assert [r["date_of_death"] for r in parsed.rows] == ["2025-03-05"] * len(spellings)
    assert [(e.row, e.reason) for e in parsed.errors] == [
        (8, "not a calendar date: '2025-02-30'"),
        (9, "not a date (YYYY-MM-DD): '5/3/2025'"),
    ]


def test_period_spellings_all_become_year_month(tmp_path):
    spellings = ["2025-03", "202503", "2025/3", "2025年3月", "２０２５－０３"]
    lines = [PAYROLL_HEADER_EN] + [f"B1,{i},dibao,{s},T,H{i},,,,1" for i, s in enumerate(spellings)]
    lines.append("B1,99,dibao,2025-13,T,H9,,,,1")
    parsed = parse_file(write_text(tmp_path, "payroll.csv", lines))
    assert [r["period"] for r in parsed.rows] == ["2025-03"] * len(spellings)
    assert [(e.row, e.column) for e in parsed.errors] == [(7, "period")]


def test_enum_aliases_in_chinese_and_english_become_codes(tmp_path):
    path = write_text(
        tmp_path,
        "reserve.csv",
        [
            "类型,编号,乡镇(街道),户编号,金额,日期,审批层级,审批人,经办人",
            "预拨,R1,城关镇,,5000,2025-01-02,县级,局长,会计",
            "先行救助支出,R2,城关镇,H1,800,2025-01-03,乡镇,镇长,民政员",
            "Settlement,R3,城关镇,H1,800,2025-01-20,,,",
        ],
    )
    parsed = parse_file(path)
    assert parsed.ok, parsed.errors
    assert [(r["record_type"], r["approval_level"]) for r in parsed.rows] == [
        ("advance", "county"),
        ("disbursement", "township"),
        ("settlement", ""),
    ]


def test_unknown_purpose_is_kept_as_written_and_known_ones_normalised(tmp_path):
    path = write_text(
        tmp_path,
        "asset_events_2025.csv",
        [
            "编号,资产编号,事项,日期,金额,用途",
            "E1,A1,收益分配,2025-06-30,1000,农户分红",
            "E2,A1,收益分配,2025-06-30,500, 发放村干部奖金 ",
            "E3,A1,价值调整,2025-07-01,-200.50,",
            "E4,A1,核查,2025-07-02,,",
        ],
    )
    parsed = parse_file(path)
    assert parsed.ok, parsed.errors
    assert [r["purpose"] for r in parsed.rows] == ["household_dividend", "发放村干部奖金", "", ""]
    assert [r["amount"] for r in parsed.rows] == [
        Decimal("1000.00"),
        Decimal("500.00"),
        Decimal("-200.50"),
        None,
    ]
    assert parsed.rows[0]["event_type"] == "income_distributed"


def test_optional_columns_may_be_absent_from_the_header(tmp_path):
    path = write_text(
        tmp_path, "enrolments.csv", ["户编号,救助类别,月救助金额,起始年月", "H1,低保,300,2024-01"]
    )
    parsed = parse_file(path)
    assert parsed.ok, parsed.errors
    assert parsed.rows == [
        {
            "household_id": "H1",
            "program": "dibao",
            "monthly_amount": Decimal("300.00"),
            "start_period": "2024-01",
            "exit_period": "",
            "gradual_exit_until": "",
        }
    ]


def test_entirely_empty_rows_are_skipped_but_still_counted(tmp_path):
    path = write_text(
        tmp_path,
        "standards.csv",
        [
            "program,year,amount,unit",
            "dibao,2025,780,per_person",
            ",,,",
            "   ",
            "tekun,2025,1014,按人",
        ],
    )
    parsed = parse_file(path)
    assert parsed.ok, parsed.errors
    assert parsed.row_numbers == [2, 5]


# ------------------------------------------------------------------------------ errors


def test_every_bad_cell_is_listed_with_its_row_and_written_column(tmp_path):
    path = write_text(
        tmp_path,
        "payroll_2025-03.csv",
        [
            "批次号,序号,救助类别,发放年月,乡镇(街道),户编号,金额（元）",
            "B1,1,低保,2025-03,城关镇,H1,300",
            "B1,2,养老金,2025-03,城关镇,H2,12.345",
            "B1,3,低保,2025-3x,城关镇,,300",
            "B1,4,低保,2025-03,城关镇,H4,-5",
            'B1,5,低保,2025-03,城关镇,H5,"1,2"',
        ],
    )
    parsed = parse_file(path)
    assert errors_at(parsed) == {
        (3, "救助类别"),
        (3, "金额（元）"),
        (4, "发放年月"),
        (4, "户编号"),
        (5, "金额（元）"),
        (6, "金额（元）"),
    }
    assert parsed.row_numbers == [2]
    by_place = {(e.row, e.column): e for e in parsed.errors}
    assert (
        str(by_place[(3, "金额（元）")])
        == "payroll_2025-03.csv row 3, column 金额（元）: more than 2 decimals: '12.345'"
    )
    assert by_place[(4, "户编号")].reason == "required value is empty"
    assert by_place[(5, "金额（元）")].reason == "negative amount: '-5'"
    assert "unknown program: '养老金'" in by_place[(3, "救助类别")].reason


def test_bool_and_int_columns_reject_what_they_cannot_read(tmp_path):
    path = write_text(
        tmp_path,
        "households.csv",
        [
            "household_id,township,village,head_name,members,disclosure_exempt",
            "H1,T,V,N,2.0,否",
            "H2,T,V,N,two,maybe",
        ],
    )
    parsed = parse_file(path)
    assert parsed.rows[0]["members"] == 2 and parsed.rows[0]["disclosure_exempt"] is False
    assert errors_at(parsed) == {(3, "members"), (3, "disclosure_exempt")}


def test_a_year_must_have_four_digits(tmp_path):
    path = write_text(tmp_path, "budgets.csv", ["资金类别,年度,金额", "低保,25,100"])
    parsed = parse_file(path)
    assert [(e.row, e.column, e.reason) for e in parsed.errors] == [
        (2, "年度", "not a 4-digit year: '25'")
    ]


def test_a_missing_required_column_is_one_error_on_the_header_row(tmp_path):
    path = write_text(
        tmp_path,
        "payroll.csv",
        [
            "批次号,序号,救助类别,发放年月,乡镇(街道),户编号",
            "B1,1,低保,2025-03,城关镇,H1",
            "B1,2,低保,2025-03,城关镇,H2",
        ],
    )
    parsed = parse_file(path)
    assert [(e.row, e.column) for e in parsed.errors] == [(1, "amount")]
    assert "required column missing" in parsed.errors[0].reason


def test_amounts_in_ten_thousands_of_yuan_are_refused(tmp_path):
    path = write_text(tmp_path, "budgets.csv", ["资金类别,年度,金额（万元）", "低保,2025,120"])
    parsed = parse_file(path)
    assert [(e.row, e.column) for e in parsed.errors] == [(1, "金额（万元）")]


def test_a_repeated_key_is_an_error_naming_both_rows(tmp_path):
    path = write_text(
        tmp_path,
        "payroll.csv",
        [
            PAYROLL_HEADER_EN,
            "B1,1,dibao,2025-03,T,H1,,,,300",
            "B1,2,dibao,2025-03,T,H2,,,,300",
            "B1,001,dibao,2025-03,T,H3,,,,300",
        ],
    )
    parsed = parse_file(path)
    assert parsed.row_numbers == [2, 3]
    assert [(e.row, e.column) for e in parsed.errors] == [(4, "batch_id")]
    assert "duplicate of row 2" in parsed.errors[0].reason


def test_identical_rows_of_a_reference_list_are_merged_silently(tmp_path):
    path = write_text(
        tmp_path,
        "holdings.csv",
        [
            "身份证号,类别,说明,价值,登记日期",
            f"{VALID_ID},车辆,轿车,80000,2024-05-01",
            f"{VALID_ID},车辆,轿车,80000,2024-05-01",
            f"{VALID_ID},车辆,轿车,90000,2024-05-01",
        ],
    )
    parsed = parse_file(path)
    assert parsed.row_numbers == [2]
    assert [(e.row, e.reason[:19]) for e in parsed.errors] == [(4, "duplicate of row 2 ")]


def test_errors_beyond_the_listing_limit_are_summarised(tmp_path):
    bad_rows = files.limits.MAX_ERRORS_LISTED + 25
    lines = ["program,year,amount,unit"] + [
        f"dibao,{2000 + i},-1,per_person" for i in range(bad_rows)
    ]
    parsed = parse_file(write_text(tmp_path, "standards.csv", lines))
    assert len(parsed.errors) == files.limits.MAX_ERRORS_LISTED + 1
    assert parsed.errors[-1].reason == "... and 25 more errors"
    assert str(parsed.errors[-1]) == "standards.csv: ... and 25 more errors"


def test_a_file_above_the_size_limit_is_one_error_without_being_read(tmp_path):
    path = tmp_path / "payroll.csv"
    with path.open("wb") as handle:
        handle.truncate(files.limits.MAX_FILE_BYTES + 1)  # sparse: costs no disk
    parsed = parse_file(path)
    assert len(parsed.errors) == 1 and "too large" in parsed.errors[0].reason
    assert parsed.rows == []


def test_an_unsupported_suffix_is_an_error_when_the_kind_is_given(tmp_path):
    path = write_text(tmp_path, "payroll.xls", ["whatever"])
    parsed = parse_file(path, kind="payroll")
    assert len(parsed.errors) == 1 and "unsupported file type" in parsed.errors[0].reason


def test_a_file_name_naming_no_kind_cannot_be_parsed_without_one(tmp_path):
    with pytest.raises(ValueError, match="not a contract file name"):
        parse_file(write_text(tmp_path, "花名册.csv", ["a,b"]))


def test_the_same_content_under_another_name_has_the_same_hash(tmp_path):
    lines = ["program,year,amount,unit", "dibao,2025,780,per_person"]
    one = parse_file(write_text(tmp_path, "standards.csv", lines))
    two = parse_file(write_text(tmp_path, "standards_copy.csv", lines))
    assert one.sha256 == two.sha256 and len(one.sha256) == 64


def test_a_large_payroll_parses_every_row(tmp_path):
    lines_total = 20_000
    lines = [PAYROLL_HEADER_ZH] + [
        f"B{i // 1000},{i % 1000 + 1},低保,2025-{i % 12 + 1:02d},城关镇,H{i},张三,{VALID_ID},"
        f"6217,{300 + i % 7}.50"
        for i in range(lines_total)
    ]
    parsed = parse_file(write_text(tmp_path, "payroll.csv", lines))
    assert parsed.ok, parsed.errors[:3]
    assert len(parsed.rows) == lines_total and parsed.row_numbers[-1] == lines_total + 1
    assert sum(r["amount"] for r in parsed.rows) == sum(
        Decimal(f"{300 + i % 7}.50") for i in range(lines_total)
    )


# ------------------------------------------------------------------------------ naming


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("payroll_2025-03.csv", "payroll"),
        ("bank_return_202503_gbk.csv", "bank_return"),
        ("households.xlsx", "households"),
        ("Asset_Events-2025.XLSX", "asset_events"),
        ("assets.csv", "assets"),
        ("payroll2025.csv", "payroll"),
        ("payrolls.csv", None),
        ("policy.toml", None),
        ("payroll.xls", None),
        ("notes.csv", None),
    ],
)
def test_kind_of_reads_the_kind_from_the_file_stem(name, kind):
    assert kind_of(Path(name)) == kind


def test_discover_lists_contract_files_in_load_order_then_by_name(tmp_path):
    for name in [
        "bank_return_b.csv",
        "payroll_2025-04.csv",
        "payroll_2025-03.xlsx",
        "policy.toml",
        "households.csv",
        "readme.txt",
        "standards.csv",
    ]:
        (tmp_path / name).write_text("x")
    (tmp_path / "deaths_old").mkdir()
    (tmp_path / "deaths_old" / "deaths.csv").write_text("x")
    assert [p.name for p in discover(tmp_path)] == [
        "standards.csv",
        "households.csv",
        "payroll_2025-03.xlsx",
        "payroll_2025-04.csv",
        "bank_return_b.csv",
    ]


# ------------------------------------------------------------------------- the table


def test_the_table_has_every_catalogue_column_in_order_typed_and_the_row_number(tmp_path):
    path = write_text(
        tmp_path,
        "households.csv",
        [
            "户编号,乡镇(街道),村(社区),户主姓名,家庭人口,不予公示",
            "H1,城关镇,东村,张三,3,是",
            "H2,城关镇,东村,李四,2,",
        ],
    )
    table = parse_file(path).table
    assert table.column_names == [*catalogue.kind("households").column_names, "_row"]
    assert table.schema == files.table_schema("households")
    assert table.schema.field("members").type == pa.int64()
    assert table.schema.field("disclosure_exempt").type == pa.bool_()
    assert table.schema.field("bank_account").type == pa.string()
    assert table.column("head_id_number").to_pylist() == ["", ""]  # absent: '' never null
    assert table.column("disclosure_exempt").to_pylist() == [True, False]
    assert table.column("_row").to_pylist() == [2, 3]


def test_money_is_int64_fen_null_when_empty_and_dates_are_iso_text(tmp_path):
    path = write_text(
        tmp_path,
        "bank_return.csv",
        [
            "批次号,序号,金额,状态,入账日期",
            'B1,1,"1,234.50",成功,2025/3/5',
            "B1,2,,失败,",
            "B1,3,０.０５,成功,20250306",
        ],
    )
    table = parse_file(path).table
    assert table.schema.field("amount").type == pa.int64()
    assert table.column("amount").to_pylist() == [123450, None, 5]
    assert table.column("value_date").to_pylist() == ["2025-03-05", "", "2025-03-06"]
    assert table.column("status").to_pylist() == ["success", "failed", "success"]


def test_rows_with_errors_are_not_in_the_table_and_the_row_view_is_todays_dicts(tmp_path):
    path = write_text(
        tmp_path,
        "payroll.csv",
        [
            PAYROLL_HEADER_EN,
            "B1,1,dibao,2025-03,T,H1,,,,300",
            "B1,2,dibao,2025-03,T,H2,,,,x",
            "B1,3,dibao,2025-03,T,H3,,,,-0",
        ],
    )
    parsed = parse_file(path)
    assert parsed.table.column("_row").to_pylist() == [2, 4]
    assert parsed.rows[-1]["amount"] == Decimal("0.00") and str(parsed.rows[-1]["amount"]) == "0.00"
    assert parsed.rows[0:1] == [parsed.rows[0]] and len(parsed.rows) == 2
    assert [r["line_no"] for r in parsed.rows] == ["1", "3"]


# ------------------------------------------------------------------------------ amounts


@pytest.mark.parametrize("amount", ["1_000", "1e3", "1E3", "NaN", "Infinity", "٣٠٠"])
def test_an_amount_that_decimal_would_take_but_a_person_would_not_write_is_refused(
    tmp_path, amount
):
    path = write_text(
        tmp_path, "payroll.csv", [PAYROLL_HEADER_EN, f"B1,1,dibao,2025-03,T,H1,,,,{amount}"]
    )
    parsed = parse_file(path)
    assert [(e.row, e.column, e.reason) for e in parsed.errors] == [
        (2, "amount", f"not an amount: {amount!r}")
    ]


def test_an_xlsx_yes_no_cell_in_an_amount_column_is_not_an_amount(tmp_path):
    path = write_xlsx(
        tmp_path,
        "payroll.xlsx",
        [
            PAYROLL_HEADER_ZH.split(","),
            ["B1", 1, "低保", "2025-03", "城关镇", "H1", "", "", "", False],
        ],
    )
    assert [e.reason for e in parse_file(path).errors] == ["not an amount: 'FALSE'"]


def test_an_amount_above_the_kinds_ceiling_is_an_error_naming_the_ceiling(tmp_path):
    path = write_text(
        tmp_path,
        "payroll.csv",
        [
            PAYROLL_HEADER_ZH,
            "B1,1,低保,2025-03,城关镇,H1,,,,50000",
            "B1,2,低保,2025-03,城关镇,H2,,,,50000.01",
        ],
    )
    parsed = parse_file(path, amount_max_fen=5_000_000)
    assert [(e.row, e.column, e.reason) for e in parsed.errors] == [
        (
            3,
            "金额",
            "amount above the payroll ceiling of 50000.00 yuan ([limits] payroll in policy.toml): "
            "'50000.01'",
        )
    ]
    assert parsed.row_numbers == [2]


# -------------------------------------------------------------------------------- names


def test_a_township_or_village_holding_a_hidden_character_is_refused_naming_it(tmp_path):
    path = write_text(
        tmp_path,
        "households.csv",
        [
            "户编号,乡镇(街道),村(社区),户主姓名,家庭人口",
            "H1,城关\u200b镇,东村,张三,3",
            "H2,城关镇,东\u202e村,李四,2",
            "H3,城关镇,东村,王\u200b五,2",  # not a place: kept as written
        ],
    )
    parsed = parse_file(path)
    assert [(e.row, e.column) for e in parsed.errors] == [(2, "乡镇(街道)"), (3, "村(社区)")]
    assert "U+200B ZERO WIDTH SPACE" in parsed.errors[0].reason
    assert parsed.rows[0]["head_name"] == "王\u200b五"


def test_place_names_are_one_key_however_they_were_composed(tmp_path):
    path = write_text(
        tmp_path,
        "households.csv",
        [
            "户编号,乡镇(街道),村(社区),户主姓名,家庭人口",
            "H1,Jose\u0301,东村,张三,3",
        ],
    )
    assert parse_file(path).rows[0]["township"] == "Jos\u00e9"


def test_the_text_trimmed_by_a_kernel_alone_is_text_nfkc_leaves_as_it_is():
    for low, high in NFKC_STABLE_RANGES:
        for point in range(low, high + 1):
            char = chr(point)
            assert unicodedata.decomposition(char) == "" and unicodedata.combining(char) == 0
            assert unicodedata.normalize("NFKC", char + char) == char + char

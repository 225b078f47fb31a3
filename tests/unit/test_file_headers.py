"""What the parser does with the headers offices really write, with headers it does not
know, and with values required on some rows only (real files in tmp_path)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from api import files
from api.files import cells, headers, parse_file, survey
from domain import catalogue

VALID_ID = "11010519491231002X"


def write(tmp_path: Path, name: str, lines: list[str]) -> Path:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# ------------------------------------------------------------------- real-world headers


def test_a_payroll_with_id_and_bank_card_columns_keeps_the_payee_id_and_account(tmp_path):
    path = write(tmp_path, "payroll_2025-03.csv", [
        "批次号,序号,救助类别,发放年月,乡镇(街道),户编号,姓名,身份证号码,银行卡号,发放金额",
        f"B1,1,低保,2025-03,城关镇,H1,张三,{VALID_ID},6217 0000 1234,300.00",
    ])
    parsed = parse_file(path)
    assert parsed.ok, parsed.errors
    assert parsed.warnings == []
    row = parsed.rows[0]
    assert (row["payee_name"], row["payee_id_number"], row["bank_account"]) == (
        "张三", VALID_ID, "621700001234")
    assert row["amount"] == Decimal("300.00")


@pytest.mark.parametrize(("kind", "header", "column"), [
    ("payroll", "证件号码", "payee_id_number"),
    ("payroll", "卡号", "bank_account"),
    ("payroll", "实发金额", "amount"),
    ("payroll", "应发金额", "amount"),
    ("payroll", "救助金额", "amount"),
    ("households", "户主身份证号码", "head_id_number"),
    ("households", "开户行账号", "bank_account"),
    ("households", "账户名", "account_holder"),
    ("bank_return", "入账时间", "value_date"),
    ("bank_return", "入帐日期", "value_date"),  # 帐 and 账 are written both ways
    ("bank_return", "银行卡号", "bank_account"),
    ("bank_return", "账户名", "account_holder"),
    ("bank_return", "交易金额", "amount"),
    ("deaths", "公民身份号码", "id_number"),
])
def test_the_variants_offices_write_name_their_column(kind, header, column):
    table = files.alias_table(catalogue.kind(kind))
    assert table[files.header_key(header)[0]] == column


def test_every_alias_names_one_column_of_its_kind_and_every_enum_word_one_code():
    for kind in catalogue.kinds():
        table = files.alias_table(kind)  # asserts that no alias names two columns
        for column in kind.columns:
            assert all(table[files.header_key(a)[0]] == column.name for a in column.aliases)
    for name, codes in catalogue.ENUMS.items():
        table = cells.enum_table(codes)
        assert set(table.values()) == set(codes.words), name


# ------------------------------------------------------------------ unknown headers


def test_an_unknown_header_near_an_absent_optional_column_is_named_and_left_empty(tmp_path):
    path = write(tmp_path, "payroll_2025-03.csv", [
        "批次号,序号,救助类别,发放年月,乡镇(街道),户编号,收款人,收款人身份证,银行账号,金额",
        f"B1,1,低保,2025-03,城关镇,H1,张三,{VALID_ID},6217,300",
    ])
    parsed = parse_file(path)
    assert parsed.ok, parsed.errors
    assert parsed.rows[0]["payee_id_number"] == ""
    assert [str(w) for w in parsed.warnings] == [
        ("payroll_2025-03.csv: column 收款人身份证 not recognised (did you mean "
        "payee_id_number / 收款人身份证号?); payee_id_number left empty")]


def test_an_unknown_header_far_from_every_column_is_named_as_ignored(tmp_path):
    path = write(tmp_path, "deaths.csv", [
        "身份证号,姓名,死亡日期,联系电话", f"{VALID_ID},王五,2025-01-31,13800000000"])
    parsed = parse_file(path)
    assert parsed.ok, parsed.errors
    assert [str(w) for w in parsed.warnings] == [
        "deaths.csv: column 联系电话 not recognised: ignored"]


def test_an_unknown_header_near_a_column_read_elsewhere_says_where_it_was_read(tmp_path):
    path = write(tmp_path, "payroll.csv", [
        "批次号,序号,救助类别,发放年月,乡镇(街道),户编号,收款人,户主姓名,金额",
        "B1,1,低保,2025-03,城关镇,H1,李四,张三,300"])
    parsed = parse_file(path)
    assert parsed.ok, parsed.errors
    assert parsed.rows[0]["payee_name"] == "李四"
    assert [str(w) for w in parsed.warnings] == [
        ("payroll.csv: column 户主姓名 not recognised (nearest: payee_name / 收款人, "
        "read from column 收款人): ignored")]


def test_a_misspelt_required_column_rejects_the_file_and_names_the_likely_header(tmp_path):
    path = write(tmp_path, "deaths.csv", ["身份证号,姓名,死亡日", f"{VALID_ID},王五,2025-01-31"])
    parsed = parse_file(path)
    assert [(e.row, e.column, e.reason) for e in parsed.errors] == [
        (1, "date_of_death", ("required column missing (date_of_death / 死亡日期); "
                             "is it column 死亡日?"))]


def test_a_header_row_of_thousands_of_unknown_columns_is_summarised(tmp_path):
    junk = ",".join(f"x{i}" for i in range(headers.UNKNOWN_HEADERS_LISTED_MAX + 7))
    path = write(tmp_path, "deaths.csv", [f"身份证号,死亡日期,{junk}", f"{VALID_ID},2025-01-31"])
    parsed = parse_file(path)
    assert parsed.ok, parsed.errors
    assert len(parsed.warnings) == headers.UNKNOWN_HEADERS_LISTED_MAX + 1
    assert str(parsed.warnings[-1]) == ("deaths.csv: column … and 7 more columns not "
                                        "recognised: ignored")


# --------------------------------------------------------- values required on some rows


BANK_HEADER = "批次号,序号,户名,账号,金额,状态,失败原因,入账日期"


def test_a_successful_bank_line_without_a_value_date_rejects_the_file_at_its_cell(tmp_path):
    path = write(tmp_path, "bank_return_2025-03.csv", [
        BANK_HEADER,
        "B1,1,张三,6217,300.00,成功,,2025-03-05",
        "B1,2,李四,6218,300.00,成功,,",
        "B1,3,王五,6219,,失败,账户冻结,",
    ])
    parsed = parse_file(path)
    assert [str(e) for e in parsed.errors] == [
        ("bank_return_2025-03.csv row 3, column 入账日期: required value is empty when "
        "status is success")]


def test_a_bank_file_without_a_value_date_column_may_hold_failed_lines_only(tmp_path):
    failed = write(tmp_path, "bank_return_failed.csv", [
        "批次号,序号,户名,账号,金额,状态,失败原因", "B1,3,王五,6219,,失败,账户冻结"])
    assert parse_file(failed).ok
    paid = write(tmp_path, "bank_return_paid.csv", [
        "批次号,序号,户名,账号,金额,状态", "B1,1,张三,6217,300.00,成功"])
    assert [(e.row, e.column) for e in parse_file(paid).errors] == [(2, "value_date")]


def test_a_settlement_may_leave_its_amount_empty_and_nothing_else_may(tmp_path):
    path = write(tmp_path, "reserve.csv", [
        "类型,编号,乡镇(街道),户编号,金额,日期,审批层级,审批人,经办人,关联编号,文号",
        "预拨,Y1,城关镇,,5000.00,2025-01-02,县级,赵,钱,,",
        "先行救助,D1,城关镇,H1,800.00,2025-01-10,乡镇,孙,李,,",
        "核销,S1,城关镇,H1,,2025-01-20,,,李,D1,",
    ])
    parsed = parse_file(path)
    assert parsed.ok, parsed.errors
    assert [r["amount"] for r in parsed.rows] == [Decimal("5000.00"), Decimal("800.00"), None]
    bad = write(tmp_path, "reserve_bad.csv", [
        "类型,编号,乡镇(街道),金额,日期", "先行救助,D2,城关镇,,2025-13-40"])
    assert [(e.column, e.reason) for e in parse_file(bad).errors] == [
        ("金额", "required value is empty"), ("日期", "not a calendar date: '2025-13-40'")]


# ------------------------------------------------------------------------ folders


def test_a_folder_survey_names_every_file_it_does_not_read_and_why(tmp_path):
    write(tmp_path, "payroll_2025-07.csv", ["批次号"])
    write(tmp_path, "2025年7月低保发放表.csv", ["x"])
    write(tmp_path, "说明.txt", ["x"])
    write(tmp_path, "households.xls", ["x"])
    write(tmp_path, "policy.toml", [""])
    (tmp_path / "old").mkdir()
    found = survey(tmp_path, also_read=("policy.toml",))
    assert [p.name for p in found.paths] == ["payroll_2025-07.csv"]
    reasons = {s.name: s.reason for s in found.skipped}
    assert set(reasons) == {"2025年7月低保发放表.csv", "说明.txt", "households.xls", "old"}
    assert "matches no kind" in reasons["2025年7月低保发放表.csv"]
    assert all(k in reasons["2025年7月低保发放表.csv"] for k in catalogue.names())
    assert reasons["说明.txt"] == "skipped: not a CSV or XLSX file"
    assert "save it as .xlsx" in reasons["households.xls"]
    assert "folder" in reasons["old"]

"""The public disclosure: who is shown, with what, and that nothing private gets out."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path

import pytest

from api.disclosure import (
    ROW_COLUMNS,
    SUMMARY_COLUMNS,
    DisclosureSettings,
    check_nothing_private,
    csv_text,
    disclosure_tables,
    left_out_counts,
    mask_name,
    private_values,
    render_pages,
    write_disclosure,
)
from domain.errors import DomainError
from domain.money import to_fen
from reconciliation.common import frames_from_rows

PERIOD = "2025-03"
TOWNSHIP = "城关镇"
VILLAGE = "新华村"
SETTINGS = DisclosureSettings()
DIGEST = "sha256:" + "ab" * 32


# -- builders: one household, its payroll line and its bank line -------------------------
def id_number(n: int) -> str:
    return f"1101011980010{n:05d}"


def account(n: int) -> str:
    return f"62220200{n:011d}"


def household(n: int, name: str = "张三明", *, township: str = TOWNSHIP,
              village: str = VILLAGE, members: int = 3, exempt: bool = False) -> dict:
    return {"household_id": f"HH{n:06d}", "township": township, "village": village,
            "head_name": name, "head_id_number": id_number(n), "members": members,
            "bank_account": account(n), "account_holder": name, "disclosure_exempt": exempt}


def payroll(n: int, line: int, amount: str, *, program: str = "dibao",
            period: str = PERIOD, batch: str = "B2025-03") -> dict:
    return {"batch_id": batch, "line_no": str(line), "program": program, "period": period,
            "township": TOWNSHIP, "household_id": f"HH{n:06d}", "payee_name": "",
            "payee_id_number": id_number(n), "bank_account": account(n),
            "amount_fen": to_fen(Decimal(amount))}


def bank(n: int, line: int, amount: str | None, *, status: str = "success",
         batch: str = "B2025-03") -> dict:
    return {"batch_id": batch, "line_no": str(line), "account_holder": "",
            "bank_account": account(n), "status": status, "value_date": "2025-03-10",
            "amount_fen": None if amount is None else to_fen(Decimal(amount)),
            "fail_reason": "" if status == "success" else "账户已销户"}


def paid_frames(households: list[dict], lines: list[tuple[int, int, str, str]]):
    """lines: (household n, line_no, payroll amount, bank amount), all successful."""
    return frames_from_rows(
        households=households,
        payroll=[payroll(n, line, pay) for n, line, pay, _ in lines],
        bank_return=[bank(n, line, confirmed) for n, line, _, confirmed in lines])


def names_of(rows) -> list[str]:
    return rows["name_masked"].tolist()


# -- masking ------------------------------------------------------------------------------
@pytest.mark.parametrize(("name", "masked"), [
    ("张", "*"), ("张三", "张*"), ("张三明", "张*明"), ("欧阳晓明", "欧**明"),
    ("阿依古丽买买提", "阿*****提"),
])
def test_names_are_masked_by_their_length(name: str, masked: str) -> None:
    assert mask_name(name) == masked


def test_the_disclosed_row_carries_the_masked_head_name_and_household_facts() -> None:
    frames = paid_frames([household(1, "李小红", members=4)], [(1, 1, "600.00", "600.00")])
    rows, _ = disclosure_tables(frames, PERIOD)
    assert rows.to_dict("records") == [{
        "township": TOWNSHIP, "village": VILLAGE, "name_masked": "李*红", "program": "dibao",
        "household_size": 4, "amount": "600.00", "period": PERIOD}]


# -- who is shown ---------------------------------------------------------------------------
def test_exempt_households_are_left_out_of_rows_and_summary() -> None:
    frames = paid_frames([household(1, "王五"), household(2, "赵六六", exempt=True)],
                         [(1, 1, "500.00", "500.00"), (2, 2, "700.00", "700.00")])
    rows, summary = disclosure_tables(frames, PERIOD)
    assert names_of(rows) == ["王*"]
    assert left_out_counts(frames, PERIOD) == {"exempt": 1, "unregistered": 0}
    assert summary["households"].tolist() == ["<10"]


def test_failed_and_unmatched_bank_lines_are_not_counted_as_paid() -> None:
    frames = frames_from_rows(
        households=[household(1, "王五"), household(2, "赵六"), household(3, "钱七")],
        payroll=[payroll(1, 1, "500.00"), payroll(2, 2, "500.00"), payroll(3, 3, "500.00")],
        bank_return=[bank(1, 1, "500.00"), bank(2, 2, "500.00", status="failed"),
                     bank(3, 3, "500.00", batch="OTHER")])  # line 3: another batch
    rows, _ = disclosure_tables(frames, PERIOD)
    assert names_of(rows) == ["王*"]


def test_payroll_lines_of_other_periods_are_not_in_this_disclosure() -> None:
    frames = frames_from_rows(
        households=[household(1, "王五")],
        payroll=[payroll(1, 1, "500.00", period="2025-02"), payroll(1, 2, "510.00")],
        bank_return=[bank(1, 1, "500.00"), bank(1, 2, "510.00")])
    rows, _ = disclosure_tables(frames, PERIOD)
    assert rows["amount"].tolist() == ["510.00"]


def test_payments_to_unregistered_households_are_left_out_and_counted() -> None:
    frames = paid_frames([household(1, "王五")],
                         [(1, 1, "500.00", "500.00"), (2, 2, "300.00", "300.00")])
    rows, _ = disclosure_tables(frames, PERIOD)
    assert names_of(rows) == ["王*"]
    assert left_out_counts(frames, PERIOD)["unregistered"] == 1


# -- amounts ----------------------------------------------------------------------------------
def test_amounts_are_what_the_bank_confirmed_not_what_the_payroll_asked() -> None:
    frames = paid_frames([household(1, "王五")], [(1, 1, "800.00", "750.50")])
    rows, _ = disclosure_tables(frames, PERIOD)
    assert rows["amount"].tolist() == ["750.50"]


def test_two_payments_of_one_household_and_program_make_one_row_with_their_sum() -> None:
    frames = paid_frames([household(1, "王五")],
                         [(1, 1, "500.00", "500.00"), (1, 2, "250.25", "250.25")])
    rows, _ = disclosure_tables(frames, PERIOD)
    assert rows["amount"].tolist() == ["750.25"]


def test_one_household_in_two_programs_has_a_row_per_program() -> None:
    frames = frames_from_rows(
        households=[household(1, "王五")],
        payroll=[payroll(1, 1, "500.00"), payroll(1, 2, "200.00", program="disability")],
        bank_return=[bank(1, 1, "500.00"), bank(1, 2, "200.00")])
    rows, _ = disclosure_tables(frames, PERIOD)
    assert rows[["program", "amount"]].values.tolist() == [["dibao", "500.00"],
                                                          ["disability", "200.00"]]


def test_rows_are_sorted_by_township_village_program_and_name() -> None:
    homes = [household(1, "赵六", township="B镇", village="A村"),
             household(2, "王五", township="A镇", village="B村"),
             household(3, "李四", township="A镇", village="A村"),
             household(4, "张三", township="A镇", village="A村")]
    frames = paid_frames(homes, [(n, n, "100.00", "100.00") for n in (1, 2, 3, 4)])
    rows, _ = disclosure_tables(frames, PERIOD)
    assert rows[["township", "village", "name_masked"]].values.tolist() == [
        ["A镇", "A村", "张*"], ["A镇", "A村", "李*"], ["A镇", "B村", "王*"],
        ["B镇", "A村", "赵*"]]


# -- summary -----------------------------------------------------------------------------------
def test_summary_withholds_count_and_amount_below_ten_households() -> None:
    frames = paid_frames([household(n) for n in range(1, 10)],
                         [(n, n, "100.00", "100.00") for n in range(1, 10)])
    _, summary = disclosure_tables(frames, PERIOD)
    assert summary.to_dict("records") == [
        {"township": TOWNSHIP, "program": "dibao", "households": "<10", "amount": ""}]


def test_summary_shows_count_and_amount_from_ten_households() -> None:
    frames = paid_frames([household(n) for n in range(1, 11)],
                         [(n, n, "100.00", "100.10") for n in range(1, 11)])
    _, summary = disclosure_tables(frames, PERIOD)
    assert summary.to_dict("records") == [
        {"township": TOWNSHIP, "program": "dibao", "households": "10", "amount": "1001.00"}]


def test_summary_has_no_totals_row_that_would_reveal_a_withheld_cell() -> None:
    frames = frames_from_rows(
        households=[household(n) for n in range(1, 13)],
        payroll=[payroll(n, n, "100.00", program="dibao" if n <= 10 else "tekun")
                 for n in range(1, 13)],
        bank_return=[bank(n, n, "100.00") for n in range(1, 13)])
    _, summary = disclosure_tables(frames, PERIOD)
    assert summary[["program", "households"]].values.tolist() == [["dibao", "10"],
                                                                  ["tekun", "<10"]]


def test_a_period_without_payments_gives_headers_only() -> None:
    rows, summary = disclosure_tables(frames_from_rows(), PERIOD)
    assert csv_text(rows) == ",".join(ROW_COLUMNS) + "\n"
    assert csv_text(summary) == ",".join(SUMMARY_COLUMNS) + "\n"


def test_a_period_not_in_yyyy_mm_form_is_refused() -> None:
    with pytest.raises(DomainError):
        disclosure_tables(frames_from_rows(), "2025-13")


# -- CSV ---------------------------------------------------------------------------------------
def test_cells_that_a_spreadsheet_would_run_as_formulas_are_neutralised() -> None:
    frames = paid_frames([household(1, "王五", village="=HYPERLINK(\"x\")")],
                         [(1, 1, "100.00", "100.00")])
    rows, _ = disclosure_tables(frames, PERIOD)
    parsed = list(csv.DictReader(io.StringIO(csv_text(rows))))
    assert parsed[0]["village"] == "'=HYPERLINK(\"x\")"
    assert parsed[0]["amount"] == "100.00"


# -- pages ---------------------------------------------------------------------------------------
class TagBalance(HTMLParser):
    """Fails on an end tag that does not close the innermost open element."""

    VOID = {"meta", "br", "hr", "img", "input", "link"}

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.stack and self.stack[-1] == tag, f"</{tag}> closes {self.stack[-1:]}"
        self.stack.pop()


def assert_well_formed(html: str) -> None:
    parser = TagBalance()
    parser.feed(html)
    parser.close()
    assert parser.stack == []


def pages_of(frames) -> dict[str, str]:
    rows, summary = disclosure_tables(frames, PERIOD)
    pages = render_pages(rows, summary, PERIOD, SETTINGS, DIGEST)
    return {page.file_name: page.text for page in pages}


def test_each_village_gets_a_numbered_notice_with_its_chinese_title() -> None:
    homes = [household(1, "王五", village="东村"), household(2, "赵六", village="西村")]
    pages = pages_of(paid_frames(homes, [(1, 1, "100.00", "100.00"),
                                         (2, 2, "200.00", "200.00")]))
    assert sorted(pages) == ["index.html", "notice_1.html", "notice_2.html"]
    assert "城关镇东村2025年3月社会救助资金发放公示" in pages["notice_1.html"]
    assert "城关镇西村2025年3月社会救助资金发放公示" in pages["notice_2.html"]
    assert "赵*" in pages["notice_2.html"] and "赵*" not in pages["notice_1.html"]


def test_pages_are_well_formed_self_contained_phone_ready_html() -> None:
    pages = pages_of(paid_frames([household(1, "王五")], [(1, 1, "100.00", "100.00")]))
    for text in pages.values():
        assert_well_formed(text)
        assert '<meta charset="utf-8">' in text and 'name="viewport"' in text
        assert "http://" not in text and "https://" not in text and "src=" not in text


def test_notices_name_the_program_in_chinese_and_show_supervision_and_digest() -> None:
    pages = pages_of(paid_frames([household(1, "王五", members=2)],
                                 [(1, 1, "100.00", "123.45")]))
    notice = pages["notice_1.html"]
    assert "最低生活保障" in notice and "123.45" in notice
    assert "监督电话：12345（县民政局）" in notice
    assert DIGEST in notice


def test_the_county_page_withholds_small_cells_too() -> None:
    pages = pages_of(paid_frames([household(1, "王五")], [(1, 1, "100.00", "987.65")]))
    assert "987.65" not in pages["index.html"]
    assert "不公布" in pages["index.html"]


def test_the_county_page_says_when_nothing_was_paid() -> None:
    pages = pages_of(frames_from_rows())
    assert list(pages) == ["index.html"]
    assert "无经银行确认" in pages["index.html"]


def test_the_guard_refuses_a_village_column_holding_account_numbers() -> None:
    with pytest.raises(DomainError, match="refused"):
        check_nothing_private(["城关镇", "村" + account(7)], {account(7), "HH1"})


def test_the_guard_passes_published_text_without_private_values() -> None:
    check_nothing_private(["notice_1.html", TOWNSHIP, VILLAGE], {account(7), id_number(7)})


# -- the files of DIR ---------------------------------------------------------------------
def county_frames():
    """Twelve households over two villages and two programs, with every private column
    filled, one exempt, one failed payment."""
    homes = [household(n, "欧阳晓明", village="东村" if n % 2 else "西村")
             for n in range(1, 13)]
    homes[11]["disclosure_exempt"] = True
    return frames_from_rows(
        households=homes,
        payroll=[payroll(n, n, "500.00", program="dibao" if n <= 10 else "tekun")
                 for n in range(1, 13)],
        bank_return=[bank(n, n, "500.00", status="failed" if n == 3 else "success")
                     for n in range(1, 13)])


def test_no_file_of_dir_holds_an_id_number_account_or_household_id(tmp_path: Path) -> None:
    frames = county_frames()
    write_disclosure(frames, PERIOD, tmp_path, digest_text=DIGEST, settings=SETTINGS)
    private = private_values(frames)
    assert {id_number(5), account(5), "HH000005"} <= private
    for path in tmp_path.iterdir():
        text = path.name + path.read_text(encoding="utf-8")
        assert [value for value in private if value in text] == [], path.name


def test_dir_holds_csvs_without_bom_and_parseable_pages(tmp_path: Path) -> None:
    lines = write_disclosure(county_frames(), PERIOD, tmp_path, settings=SETTINGS)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "disclosure.csv", "index.html", "notice_1.html", "notice_2.html", "summary.csv"]
    for name in ("disclosure.csv", "summary.csv"):
        assert not (tmp_path / name).read_bytes().startswith(b"\xef\xbb\xbf")
    for page in tmp_path.glob("*.html"):
        assert_well_formed(page.read_text(encoding="utf-8"))
    assert "2025年3月社会救助资金发放公示" in (tmp_path / "notice_1.html").read_text("utf-8")
    assert "disclosure_exempt" in lines[-1]


def test_notices_of_an_earlier_run_do_not_linger(tmp_path: Path) -> None:
    (tmp_path / "notice_9.html").write_text("old", encoding="utf-8")
    write_disclosure(frames_from_rows(), PERIOD, tmp_path, settings=SETTINGS)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "disclosure.csv", "index.html", "summary.csv"]

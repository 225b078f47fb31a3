"""The workbench speaks Chinese: bank statuses, reserve record types, approval levels,
roles, subject types and the fields of a record's timeline (issue 14)."""

from __future__ import annotations

import re
from pathlib import Path

from api.loader import load_directory
from tests.e2e.conftest import Api
from tests.e2e.test_pages import finding_url, log_in

RESERVE = """类型,编号,乡镇(街道),户编号,金额,日期,审批层级,审批人,经办人,关联编号,文号
预拨,YB1,城关镇,,5000.00,2025-01-02,县级,周局长,李会计,,
先行救助,XX1,城关镇,H001,800.00,2025-01-10,乡镇,赵镇长,钱干事,,
"""
ENGLISH_WORDS = ("success", "failed", "disbursement", "advance", "payroll_line")


def visible_text(html: str) -> str:
    """The page's text without tags, attributes or the contents of <code> tokens."""
    html = re.sub(r"<code[^>]*>.*?</code>", " ", html, flags=re.DOTALL)
    return re.sub(r"<[^>]+>", " ", html)


def test_a_household_page_shows_bank_statuses_and_reserve_words_in_chinese(
        county_site: Api, tmp_path: Path) -> None:
    reserve = tmp_path / "reserve"
    reserve.mkdir()
    (reserve / "reserve.csv").write_text(RESERVE, encoding="utf-8")
    load_directory(county_site.store, reserve, actor="seed")
    log_in(county_site, "inspector")
    h001 = visible_text(county_site.client.get("/workbench/household?id=H001").text)
    assert "成功" in h001 and "先行救助" in h001 and "乡镇 赵镇长" in h001
    assert "状态=成功" in h001 and "救助类别=最低生活保障" in h001  # the timeline's fields
    h002 = visible_text(county_site.client.get("/workbench/household?id=H002").text)
    assert "失败（账户已销户）" in h002
    for text in (h001, h002):
        assert not [w for w in ENGLISH_WORDS if re.search(rf"\b{w}\b", text)]


def test_a_finding_page_names_its_subject_type_and_the_role_in_chinese(
        county_site: Api) -> None:
    log_in(county_site, "inspector")
    page = visible_text(county_site.client.get(finding_url("P06", "B1:2")).text)
    assert "发放名册行 B1:2" in page
    assert "inspector（核查人员）" in page
    page = page.replace("failed payment left unresolved", "")  # the bilingual title stays
    assert not [w for w in ENGLISH_WORDS if re.search(rf"\b{w}\b", page)]

"""Public pages and the workbench through the ASGI app (no browser): what is published,
what is withheld, who may do what, and the sampling tool."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import quote

import pytest

from api.disclosure import disclosure_tables, private_values
from api.loader import load_directory
from api.routers import public
from domain import sampling, users
from domain.errors import DomainError
from projections import facts
from projections.frames import load_frames
from tests.e2e.conftest import BIG_VILLAGE, EXEMPT_HOUSEHOLD, TOWNSHIP_A, TOWNSHIP_B, Api

CSRF_RE = re.compile(r'name="csrf" value="([^"]+)"')
VILLAGE_PATH = (f"/public/townships/{quote(BIG_VILLAGE[0])}/villages/"
                f"{quote(BIG_VILLAGE[1])}")


def public_paths(site: Api) -> list[str]:
    """Every public page of every period: county, townships, villages."""
    facts.catch_up(site.store.ledger, site.store.db)
    frames = load_frames(site.store.db)
    paths = []
    for period in sorted(set(frames.payroll["period"])):
        rows, _ = disclosure_tables(frames, period)
        paths.append(public.public_url(period=period))
        for township, village in rows[["township", "village"]].drop_duplicates().itertuples(
                index=False, name=None):
            paths.append(public.public_url(township, period=period))
            paths.append(public.public_url(township, village, period))
    return sorted(set(paths))


def csrf_of(html: str) -> str:
    match = CSRF_RE.search(html)
    assert match is not None, "no CSRF field in the page"
    return match.group(1)


def log_in(site: Api, user: str) -> None:
    site.client.cookies.clear()
    form = site.client.get("/workbench/login")
    response = site.client.post("/workbench/login", data={
        "token": site.tokens[user], "csrf": csrf_of(form.text), "next": "/workbench/"},
        follow_redirects=False)
    assert response.status_code == 303, response.text


# -- public pages ---------------------------------------------------------------------
def test_every_public_page_is_chinese_utf8_for_phones_and_carries_the_digest(
        county_site: Api) -> None:
    for path in public_paths(county_site):
        page = county_site.client.get(path)
        assert page.status_code == 200, path
        assert page.headers["content-type"] == "text/html; charset=utf-8"
        assert '<html lang="zh-CN">' in page.text and '<meta charset="utf-8">' in page.text
        assert 'name="viewport" content="width=device-width' in page.text
        assert re.search(r"aidledger:v1:\d+:[0-9a-f]{64}", page.text), path
        assert "script-src 'self'" in page.headers["content-security-policy"]


def test_no_public_page_contains_an_id_number_an_account_or_a_household_id(
        county_site: Api) -> None:
    frames = load_frames(county_site.store.db)
    private = private_values(frames)
    assert {"H001", "430621198001011234", "6217000000000000001"} <= private
    for path in public_paths(county_site):
        html = county_site.client.get(path).text
        assert sorted(v for v in private if v in html) == [], path


def test_the_village_list_is_the_disclosure_rows_of_the_village(county_site: Api) -> None:
    frames = load_frames(county_site.store.db)
    rows, _ = disclosure_tables(frames, "2025-02")
    expected = rows[(rows["township"] == BIG_VILLAGE[0]) & (rows["village"] == BIG_VILLAGE[1])]
    html = county_site.client.get(f"{VILLAGE_PATH}?period=2025-02").text
    shown = re.findall(r"<td>([^<]*\*[^<]*)</td><td>最低生活保障</td>\s*"
                       r"<td class=\"num\">(\d+)</td><td class=\"num\">([\d.]+)</td>", html)
    assert shown == list(zip(expected["name_masked"], map(str, expected["household_size"]),
                             expected["amount"], strict=True))
    assert len(shown) == 11  # twelve paid, the disclosure-exempt one left out
    assert EXEMPT_HOUSEHOLD not in html


def test_a_county_total_that_would_reveal_a_small_township_cell_is_withheld(
        county_site: Api) -> None:
    frames = load_frames(county_site.store.db)
    pub = public.published(frames, public.DisclosureSettings())
    january = public.county_cell(pub, "2025-01", "dibao")
    assert january.withheld and january.households_text == "不公布"  # 新市镇 has 1 household
    assert public.township_cell(pub, "2025-01", TOWNSHIP_B, "dibao").households_text == \
        "少于10户"
    assert public.township_cell(pub, "2025-01", TOWNSHIP_A, "dibao") == public.Cell(
        12, 400000, False)
    february = public.county_cell(pub, "2025-02", "dibao")
    assert (february.withheld, february.households, february.amount_text) == (
        False, 11, "3300.00")


def test_the_chart_stops_its_cumulative_line_at_a_withheld_month(county_site: Api) -> None:
    pub = public.published(load_frames(county_site.store.db), public.DisclosureSettings())
    county = public.program_section(pub, "dibao", ["2025-01", "2025-02"], None, None, 1)
    assert county["chart"]["paid"] == [None, "3300.00"]
    assert county["chart"]["paid_cumulative"] == [None, None]
    assert county["chart"]["allocated_cumulative"] == ["13000.00", "13000.00"]
    township = public.program_section(pub, "dibao", ["2025-01", "2025-02"], TOWNSHIP_A, None,
                                      1)
    assert township["chart"]["paid_cumulative"] == ["4000.00", "7300.00"]
    assert township["chart"]["allocated_cumulative"] == ["10000.00", "10000.00"]


def test_a_village_column_holding_an_id_number_stops_the_public_pages(
        county_site: Api, tmp_path: Path) -> None:
    leaked_id = "430621198501010014"  # the head ID number of H101
    folder = tmp_path / "shifted"
    folder.mkdir()
    (folder / "households_x.csv").write_text(
        "household_id,township,village,head_name,head_id_number,members,bank_account\n"
        f"H200,{TOWNSHIP_A},{leaked_id},孙七,,2,6217000000000000200\n", encoding="utf-8")
    (folder / "payroll_x.csv").write_text(
        "batch_id,line_no,program,period,township,household_id,amount\n"
        f"B9,1,dibao,2025-02,{TOWNSHIP_A},H200,300.00\n", encoding="utf-8")
    (folder / "bank_return_x.csv").write_text(
        "batch_id,line_no,amount,status,value_date\nB9,1,300.00,success,2025-02-20\n",
        encoding="utf-8")
    load_directory(county_site.store, folder, actor="seed")
    page = county_site.client.get("/public/")
    assert page.status_code == 503
    assert leaked_id not in page.text


def test_unknown_places_and_malformed_periods_get_html_errors(county_site: Api) -> None:
    missing = county_site.client.get(f"/public/townships/{quote('无此镇')}")
    assert missing.status_code == 404 and "没有这个乡镇" in missing.text
    bad = county_site.client.get("/public/?period=2025-13")
    assert bad.status_code == 400 and "YYYY-MM" in bad.text


def test_html_routes_stay_out_of_the_openapi_document_and_chart_js_is_served(
        county_site: Api) -> None:
    paths = county_site.client.get("/openapi.json").json()["paths"]
    assert not [p for p in paths if p.startswith(("/public", "/workbench", "/static"))]
    script = county_site.client.get("/static/chart.umd.min.js")
    assert script.status_code == 200 and "Chart.js v4" in script.text[:200]
    assert "MIT" in county_site.client.get("/static/chart.js.LICENSE.md").text


# -- workbench: sessions --------------------------------------------------------------
def test_the_workbench_sends_a_visitor_without_a_session_to_the_login_form(
        county_site: Api) -> None:
    response = county_site.client.get("/workbench/finding?code=E01&subject=H003",
                                      follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/workbench/login?next=")


def test_login_sets_an_httponly_strict_cookie_and_logout_clears_it(county_site: Api) -> None:
    form = county_site.client.get("/workbench/login")
    response = county_site.client.post("/workbench/login", data={
        "token": county_site.tokens["inspector"], "csrf": csrf_of(form.text)},
        follow_redirects=False)
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/workbench" in cookie
    home = county_site.client.get("/workbench/")
    assert home.status_code == 200 and "inspector" in home.text
    assert home.headers["cache-control"] == "no-store"
    out = county_site.client.post("/workbench/logout", data={"csrf": csrf_of(home.text)},
                                  follow_redirects=False)
    assert out.status_code == 303
    assert county_site.client.get("/workbench/", follow_redirects=False).status_code == 303


def test_login_is_refused_without_its_form_token_or_with_a_bad_or_admin_token(
        county_site: Api) -> None:
    client = county_site.client
    no_form = client.post("/workbench/login", data={"token": county_site.tokens["inspector"],
                                                    "csrf": "forged"})
    assert no_form.status_code == 401 and "aidledger_workbench" not in no_form.headers.get(
        "set-cookie", "")
    for token, reason in (("not-a-token", "令牌无效"), (county_site.tokens["admin"], "admin")):
        form = client.get("/workbench/login")
        refused = client.post("/workbench/login", data={"token": token,
                                                        "csrf": csrf_of(form.text)})
        assert refused.status_code == 401 and reason in refused.text


def test_a_revoked_token_ends_the_session(county_site: Api) -> None:
    log_in(county_site, "inspector")
    users.revoke_user(county_site.store.ledger, "inspector", actor="admin")
    assert county_site.client.get("/workbench/", follow_redirects=False).status_code == 303


# -- workbench: findings --------------------------------------------------------------
def test_findings_filter_by_code_township_severity_and_status(county_site: Api) -> None:
    log_in(county_site, "finance")
    client = county_site.client

    def codes(**filters: str) -> list[tuple[str, str]]:
        html = client.get("/workbench/", params=filters).text
        return re.findall(r"subject=([^\"&]+)\">(\w\d\d)</a>", html)

    assert sorted(c for _, c in codes()) == ["E01", "E07", "E07", "P06"]
    assert codes(code="E07", township=TOWNSHIP_B) == [("H003", "E07")]
    assert [c for _, c in codes(severity="high")] == ["E01"]
    assert [c for _, c in codes(township=TOWNSHIP_A)] == ["E07", "P06"]
    assert codes(status="dismissed") == []


def test_an_inspector_dismisses_a_finding_with_a_reason_as_the_acting_user(
        county_site: Api) -> None:
    log_in(county_site, "inspector")
    page = county_site.client.get("/workbench/finding", params={"code": "E01",
                                                                "subject": "H003"})
    assert "死亡名单" in page.text and "430621199002022345" in page.text
    done = county_site.client.post("/workbench/finding/disposition", data={
        "code": "E01", "subject": "H003", "status": "dismissed", "note": "死亡登记有误",
        "csrf": csrf_of(page.text)})
    assert done.status_code == 200 and "已排除" in done.text
    finding = county_site.store.ledger.get_finding("E01", "H003")
    assert (finding.status, finding.history[-1]["actor"]) == ("dismissed", "inspector")


def test_dismissing_without_a_reason_or_without_the_csrf_token_changes_nothing(
        county_site: Api) -> None:
    log_in(county_site, "inspector")
    page = county_site.client.get("/workbench/finding?code=P06&subject=B1:2")
    no_reason = county_site.client.post("/workbench/finding/disposition", data={
        "code": "P06", "subject": "B1:2", "status": "dismissed", "note": " ",
        "csrf": csrf_of(page.text)})
    assert no_reason.status_code == 400 and "reason" in no_reason.text
    forged = county_site.client.post("/workbench/finding/disposition", data={
        "code": "P06", "subject": "B1:2", "status": "confirmed", "csrf": "0" * 64})
    assert forged.status_code == 403
    assert county_site.store.ledger.get_finding("P06", "B1:2").status == "open"


def test_a_recovery_records_the_amount(county_site: Api) -> None:
    log_in(county_site, "inspector")
    page = county_site.client.get("/workbench/finding?code=E01&subject=H003")
    county_site.client.post("/workbench/finding/disposition", data={
        "code": "E01", "subject": "H003", "status": "recovered", "recovered": "300.00",
        "note": "已追回", "csrf": csrf_of(page.text)})
    history = county_site.store.ledger.get_finding("E01", "H003").history
    assert (history[-1]["status"], str(history[-1]["recovered"])) == ("recovered", "300.00")


def test_finance_reads_findings_but_only_an_inspector_records_a_disposition(
        county_site: Api) -> None:
    log_in(county_site, "finance")
    page = county_site.client.get("/workbench/finding?code=P06&subject=B1:2")
    assert page.status_code == 200 and 'id="disposition"' not in page.text
    refused = county_site.client.post("/workbench/finding/disposition", data={
        "code": "P06", "subject": "B1:2", "status": "confirmed", "csrf": csrf_of(page.text)})
    assert refused.status_code == 403
    assert county_site.store.ledger.get_finding("P06", "B1:2").status == "open"


def test_a_payroll_line_finding_shows_its_household_with_bank_lines_and_timeline(
        county_site: Api) -> None:
    log_in(county_site, "approver")
    page = county_site.client.get("/workbench/finding?code=P06&subject=B1:2")
    assert "户 H002" in page.text and "账户已销户" in page.text
    assert page.text.count('class="actor nowrap">seed<') >= 3


def test_a_clerk_sees_households_of_their_township_only_and_no_findings(
        county_site: Api) -> None:
    log_in(county_site, "clerk_a")
    client = county_site.client
    assert client.get("/workbench/household?id=H001").status_code == 200
    other = client.get("/workbench/household?id=H003")
    assert other.status_code == 403 and "王小红" not in other.text
    assert client.get("/workbench/finding?code=E01&subject=H003").status_code == 403
    assert client.get("/workbench/sampling?seed=1").status_code == 403
    assert "问题线索和抽样核查仅限" in client.get("/workbench/").text


def test_an_inspector_reading_a_household_is_logged(county_site: Api) -> None:
    log_in(county_site, "inspector")
    before = len(users.read_ids(county_site.store.ledger))
    assert county_site.client.get("/workbench/household?id=H001").status_code == 200
    reads = [county_site.store.ledger.repository.get(i)
             for i in users.read_ids(county_site.store.ledger)[before:]]
    assert {(r.reader, r.subject_id) for r in reads} == {("inspector", "H001")}


# -- sampling -------------------------------------------------------------------------
REGISTER = [(f"镇{t}", f"村{v:02d}", f"T{t}V{v:02d}H{h:02d}")
            for t in range(2) for v in range(10) for h in range(25)]


def test_the_sample_is_the_same_for_the_same_seed_whatever_the_order() -> None:
    first = sampling.draw_sample(REGISTER, "2025-03")
    assert first == sampling.draw_sample(list(reversed(REGISTER)), "２０２５-03")
    assert first != sampling.draw_sample(REGISTER, "2025-04")


def test_the_sample_takes_a_fifth_of_villages_and_a_tenth_of_their_households() -> None:
    drawn = sampling.draw_sample(REGISTER, "seed")
    villages = {(s.township, s.village) for s in drawn}
    assert len(villages) == 2 * 2  # 20 % of 10 villages in each of 2 townships
    assert len(drawn) == 4 * 2  # 10 % of 25 households, rounded down
    tiny = sampling.draw_sample([("镇", "村", "H1"), ("镇", "村", "H2")], "seed")
    assert len(tiny) == 1  # at least one village and one household


def test_a_visit_without_a_seed_or_with_an_unknown_result_is_refused() -> None:
    with pytest.raises(DomainError):
        sampling.clean_seed("   ")
    with pytest.raises(DomainError):
        sampling.check_visit("H1", "2025-03-01", "maybe", "")
    with pytest.raises(DomainError):
        sampling.check_visit("H1", "2025-03-01", "discrepancy", "")


def test_an_inspector_records_a_visit_to_a_drawn_household(county_site: Api) -> None:
    log_in(county_site, "inspector")
    page = county_site.client.get("/workbench/sampling?seed=抽查一")
    drawn = re.findall(r'<td class="household-id"><a [^>]*>([^<]+)</a>', page.text)
    assert len(drawn) == 2
    recorded = county_site.client.post("/workbench/sampling/visits", data={
        "seed": "抽查一", "household_id": drawn[0], "visit_date": "2025-03-10",
        "result": "discrepancy", "note": "实际居住2人", "csrf": csrf_of(page.text)})
    assert recorded.status_code == 200 and "实际居住2人" in recorded.text
    [visit] = sampling.visits(county_site.store.ledger, "抽查一")
    assert (visit.household_id, visit.inspector, visit.result) == (
        drawn[0], "inspector", "discrepancy")
    outside = county_site.client.post("/workbench/sampling/visits", data={
        "seed": "抽查一", "household_id": "H999", "visit_date": "2025-03-10",
        "result": "found", "csrf": csrf_of(page.text)})
    assert outside.status_code == 400
    assert len(sampling.visits(county_site.store.ledger, "抽查一")) == 1


"""Every registered rule has its page (docs/rules/<CODE>.md) saying what its module
declares, a module docstring that points there instead of repeating it, and a planted case
in the demo county."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

from api.sample_county import CountyTruth, generate_county
from reconciliation import rules
from reconciliation.rules import Rule

REPO = Path(__file__).resolve().parents[2]
PAGES = REPO / "docs" / "rules"
SECTIONS = ["Rule", "Why it is a red flag", "Data", "Look-alikes (not flagged)", "Policy"]
LEAD_SECTIONS = ["Rule", "Why it is a lead, not a finding", "Data",
                 "Look-alikes (not flagged)", "Policy"]
PAGE_NAME = re.compile(r"[A-Z][0-9]{2}\.md")
WHERE_PLANTED = ("planted.py: P and E codes, funds.py: B01, reserve.py: R codes and D01, "
                 "assets.py: A codes")


def by_code(rule: Rule) -> str:
    return rule.code


def declaration(rule: Rule) -> str:
    """The heading and table a rule's page opens with, as its module declares it."""
    kind = "lead (`FILE_leads.csv`)" if rule.lead else "finding"
    across = f"yes, {rule.crossing}" if rule.crossing else "no"
    policy = ", ".join(f"`{key}` = {value}" for key, value in rule.defaults.items()) or "none"
    return (f"# {rule.code} {rule.title_zh} — {rule.title_en}\n\n"
            "| kind | subject type | severity | across counties | policy keys (defaults) |\n"
            "|---|---|---|---|---|\n"
            f"| {kind} | `{rule.subject_type}` | {rule.severity} | {across} | {policy} |\n")


def sections(page: str) -> dict[str, str]:
    parts = re.split(r"^## (.+)$", page, flags=re.M)
    return {title.strip(): body.strip() for title, body in zip(parts[1::2], parts[2::2],
                                                                strict=True)}


@pytest.mark.parametrize("rule", rules.all_rules(), ids=by_code)
def test_every_rule_has_its_page_opening_with_what_its_module_declares(rule: Rule):
    page = REPO / rule.page
    assert page.is_file(), f"{rule.code} has no page: write {rule.page}"
    text = page.read_text(encoding="utf-8")
    assert text.startswith(declaration(rule)), (
        f"{rule.page} must open with what {rule.module} declares:\n{declaration(rule)}")


@pytest.mark.parametrize("rule", rules.all_rules(), ids=by_code)
def test_every_page_has_each_section_filled_in_order(rule: Rule):
    found = sections((REPO / rule.page).read_text(encoding="utf-8"))
    assert list(found) == (LEAD_SECTIONS if rule.lead else SECTIONS)
    assert all(found.values()), f"{rule.page}: an empty section"
    for key in rule.defaults:
        assert f"`{key}`" in found["Policy"], f"{rule.page}: policy key {key} not described"


@pytest.mark.parametrize("rule", rules.all_rules(), ids=by_code)
def test_the_module_docstring_points_to_the_page_and_does_not_repeat_it(rule: Rule):
    doc = importlib.import_module(rule.module).__doc__ or ""
    assert rule.page in doc
    assert doc.startswith(f"{rule.code} {rule.title_zh} — {rule.title_en}")
    page = sections((REPO / rule.page).read_text(encoding="utf-8"))
    for title, body in page.items():
        words = " ".join(body.split()[:8])
        assert words not in " ".join(doc.split()), f"{rule.module} repeats its page's {title}"


def test_there_is_no_page_of_a_code_nobody_registered():
    registered = {Path(r.page).name for r in rules.all_rules()}
    pages = {p.name for p in PAGES.iterdir() if PAGE_NAME.fullmatch(p.name)}
    assert pages == registered


@pytest.fixture(scope="module")
def demo_county(tmp_path_factory: pytest.TempPathFactory) -> CountyTruth:
    return generate_county(tmp_path_factory.mktemp("demo"))


@pytest.mark.parametrize("rule", rules.finding_rules(), ids=by_code)
def test_every_finding_rule_has_a_planted_case_and_a_look_alike_in_the_demo_county(
        rule: Rule, demo_county: CountyTruth):
    assert rule.code in {code for code, _ in demo_county.expected_pairs()}, (
        f"plant a case of {rule.code} in api/sample_county/ ({WHERE_PLANTED})")
    assert rule.code in {p.code for p in demo_county.lookalikes}, (
        f"plant a look-alike of {rule.code} in api/sample_county/ ({WHERE_PLANTED})")

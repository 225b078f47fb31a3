"""The registry of rules: every module of ``reconciliation/rules/`` is a whole plug-in, and
everything that lists codes reads the registry."""

from __future__ import annotations

import importlib
import types

import pytest

from reconciliation import counties, dask_engine, rules, runner
from reconciliation.common import FINDING_COLUMNS, frames_from_rows
from reconciliation.policy import load_policy
from reconciliation.rules import FAMILIES, SUBJECT_TYPES, Rule, UnknownRule

AS_OF = "2025-06-30"
EVERY_RULE = rules.all_rules()


def by_code(rule: Rule) -> str:
    return rule.code


@pytest.mark.parametrize("rule", EVERY_RULE, ids=by_code)
def test_every_rule_returns_exactly_the_finding_columns_when_nothing_is_found(rule: Rule):
    found = rule.check(frames_from_rows(), dict(rule.defaults), AS_OF)
    assert list(found.columns) == FINDING_COLUMNS and found.empty


@pytest.mark.parametrize("rule", EVERY_RULE, ids=by_code)
def test_every_rule_lives_in_the_module_named_after_its_code(rule: Rule):
    module = importlib.import_module(rule.module)
    assert module.RULE is rule and module.__name__.endswith("." + rule.code.lower())
    assert rule.title_zh and rule.title_en and rule.subject_type in SUBJECT_TYPES


def test_rules_run_in_the_contract_order_of_families_then_numbers():
    codes = [r.code for r in EVERY_RULE]
    assert codes[:7] == ["P01", "P02", "P03", "P04", "P05", "P06", "B01"]
    assert codes == sorted(codes, key=lambda c: (FAMILIES.index(c[0]), c))
    assert [r.code for r in rules.lead_rules()] == ["S01", "S02", "S03"]
    assert all(not r.lead for r in rules.finding_rules())


def test_a_code_is_found_by_its_name_or_its_module_name_and_nothing_else():
    assert rules.rule("e06") is rules.rule("E06")
    with pytest.raises(UnknownRule, match="no finding code 'P99'"):
        rules.rule("P99")


def test_the_engines_and_the_policy_read_their_codes_from_the_registry():
    crossing = [r.code for r in rules.finding_rules() if r.crossing]
    assert counties.CROSS_CODES == crossing == ["E01", "E02", "E05", "E06", "E08"]
    assert sorted(counties.LOCAL_CODES + counties.CROSS_CODES) == sorted(
        r.code for r in EVERY_RULE)
    assert (dask_engine.HEAD_CODES, dask_engine.ACCOUNT_CODES) == (["E02"], ["E06"])
    assert set(load_policy(None)) == {r.code for r in EVERY_RULE}
    assert [r.code.lower() for r in EVERY_RULE] == runner.ALL_MODULES


def test_the_costliest_rules_are_declared_and_the_cheap_ones_are_not():
    costly = sorted((r for r in EVERY_RULE if r.cost), key=lambda r: -r.cost)
    assert [r.code for r in costly][:3] == ["B01", "E02", "E01"]


def test_a_rule_declaration_refuses_an_unknown_subject_type_severity_or_crossing():
    with pytest.raises(ValueError, match="unknown subject type"):
        Rule(code="X01", subject_type="person", severity="high", title_zh="x", title_en="x")
    with pytest.raises(ValueError, match="severity"):
        Rule(code="X01", subject_type="household", severity="urgent", title_zh="x",
             title_en="x")
    with pytest.raises(ValueError, match="crossing"):
        Rule(code="X01", subject_type="household", severity="low", title_zh="x",
             title_en="x", crossing="province")


def test_a_module_without_its_declaration_or_named_after_another_code_is_refused():
    bare = types.ModuleType("reconciliation.rules.x01")
    with pytest.raises(TypeError, match="declares RULE"):
        rules._declared(bare)
    misnamed = types.ModuleType("reconciliation.rules.x02")
    misnamed.RULE = Rule(code="X01", subject_type="household", severity="low",
                         title_zh="x", title_en="x")
    with pytest.raises(TypeError, match="named after it"):
        rules._declared(misnamed)


def test_money_keys_are_declared_or_known_by_their_suffix():
    assert rules.rule("R02").is_money_key("county_limit")
    assert not rules.rule("R03").is_money_key("window_days")
    assert rules.rule("E08").is_money_key("min_value")  # by its suffix


def test_subject_types_name_their_records_for_the_workbench():
    line = SUBJECT_TYPES["payroll_line"]
    assert (line.record_kind, line.key_of("DB2025-01:12")) == ("payroll", "DB2025-01|12")
    assert SUBJECT_TYPES["township_program"].township_first
    assert SUBJECT_TYPES["bank_account"].record_kind == ""

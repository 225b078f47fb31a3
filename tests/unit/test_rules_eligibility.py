"""Eligibility rules E01–E08, each with its true case and its legitimate look-alikes
(docs/rules/), and each with the contract's subject_id."""

from __future__ import annotations

import pandas as pd
import pytest

from domain.ids import check_char
from reconciliation.common import FINDING_COLUMNS, frames_from_rows
from reconciliation.rules import e01, e02, e03, e04, e05, e06, e07, e08

AS_OF = "2025-06-30"


def valid_id(serial: int, birth: str = "19491231") -> str:
    first17 = f"110105{birth}{serial:03d}"
    return first17 + check_char(first17)


HEAD = valid_id(2)          # 11010519491231002X
OTHER = valid_id(4)


def pay(batch: str, line: str, household: str = "H1", period: str = "2025-03",
        program: str = "dibao", amount_fen: int = 24200, payee_id: str = "",
        account: str = "6222001") -> dict:
    return dict(batch_id=batch, line_no=line, program=program, period=period,
                township="城关镇", household_id=household, payee_name="张三",
                payee_id_number=payee_id, bank_account=account, amount_fen=amount_fen,
                evidence_event=f"pay-{batch}-{line}", evidence_row=f"payroll.csv#{batch}-{line}")


def bank(batch: str, line: str, status: str = "success", amount_fen: int = 24200,
         value_date: str = "2025-03-10", account: str = "6222001") -> dict:
    return dict(batch_id=batch, line_no=line, account_holder="张三", bank_account=account,
                amount_fen=amount_fen, status=status, value_date=value_date,
                evidence_event=f"bank-{batch}-{line}",
                evidence_row=f"bank_return.csv#{batch}-{line}")


def paid(batch: str, line: str, household: str = "H1", period: str = "2025-03",
         program: str = "dibao", amount_fen: int = 24200, account: str = "6222001",
         payee_id: str = "", value_date: str = "2025-03-10") -> tuple[dict, dict]:
    """A payroll line and its successful bank line."""
    return (pay(batch, line, household, period, program, amount_fen, payee_id, account),
            bank(batch, line, amount_fen=amount_fen, value_date=value_date, account=account))


def household(household_id: str = "H1", head_id: str = HEAD, members: int = 1,
              head_name: str = "张三") -> dict:
    return dict(household_id=household_id, township="城关镇", village="东村",
                head_name=head_name, head_id_number=head_id, members=members,
                evidence_event=f"hh-{household_id}", evidence_row=f"households.csv#{household_id}")


def enrolment(household_id: str = "H1", program: str = "dibao", start: str = "2024-01",
              exit_: str = "", gradual: str = "") -> dict:
    return dict(household_id=household_id, program=program, monthly_amount_fen=24200,
                start_period=start, exit_period=exit_, gradual_exit_until=gradual,
                evidence_event=f"enr-{household_id}-{program}-{start}",
                evidence_row=f"enrolments.csv#{household_id}-{program}-{start}")


def run(module, *payments: tuple[dict, dict], as_of: str = AS_OF, policy: dict | None = None,
        **rows) -> pd.DataFrame:
    rows.setdefault("payroll", [])
    rows.setdefault("bank_return", [])
    rows["payroll"] = rows["payroll"] + [p for p, _ in payments]
    rows["bank_return"] = rows["bank_return"] + [b for _, b in payments]
    settings = {**module.RULE.defaults, **(policy or {})}
    found = module.check(frames_from_rows(**rows), settings, as_of)
    assert list(found.columns) == FINDING_COLUMNS
    assert list(found["subject_id"]) == sorted(found["subject_id"])
    return found


# ------------------------------------------------------------------ E01


def death(id_number: str = HEAD, date: str = "2025-03-15") -> dict:
    return dict(id_number=id_number, name="张三", date_of_death=date,
                evidence_event="death-1", evidence_row="deaths.csv#2")


def test_payment_for_a_period_after_the_head_died_is_e01():
    found = run(e01, paid("B1", "1", period="2025-03"), paid("B1", "2", period="2025-04"),
                paid("B1", "3", period="2025-05"),
                households=[household()], deaths=[death(date="2025-03-15")])
    assert list(found["subject_id"]) == ["H1"]
    row = found.iloc[0]
    assert (row["period"], row["amount_fen"], row["severity"]) == ("2025-04", 48400, "high")
    assert "2025-03-15" in row["detail"] and "2025-05" in row["detail"]
    evidence = row["evidence"].split()
    assert {"deaths.csv#2", "event:death-1", "households.csv#H1", "payroll.csv#B1-2",
            "bank_return.csv#B1-3"} <= set(evidence)
    assert "payroll.csv#B1-1" not in evidence


def test_payment_for_the_month_of_death_is_not_e01():
    found = run(e01, paid("B1", "1", period="2025-03"),
                households=[household()], deaths=[death(date="2025-03-01")])
    assert found.empty


def test_death_matched_by_payee_id_number_in_legacy_form_is_e01():
    legacy = "110105491231002"  # the 15-digit form of HEAD
    found = run(e01, paid("B1", "1", period="2025-04", payee_id=HEAD),
                households=[household(head_id="")], deaths=[death(id_number=legacy)])
    assert list(found["subject_id"]) == ["H1"]


def test_failed_payment_after_death_is_not_e01():
    payroll, bank_line = paid("B1", "1", period="2025-05")
    bank_line["status"] = "failed"
    found = run(e01, (payroll, bank_line), households=[household()], deaths=[death()])
    assert found.empty


def test_payment_value_dated_after_as_of_is_not_e01_and_not_in_its_amount():
    # reconcile --as-of reads the books as they stood at the end of that day
    later = paid("B1", "2", period="2025-06", value_date="2025-07-01")
    found = run(e01, later, households=[household()], deaths=[death()])
    assert found.empty
    found = run(e01, paid("B1", "1", period="2025-04"), later,
                households=[household()], deaths=[death()])
    assert found.iloc[0]["amount_fen"] == 24200  # the April payment only
    assert "payroll.csv#B1-2" not in found.iloc[0]["evidence"].split()
    assert run(e01, later, households=[household()], deaths=[death()],
               as_of="2025-07-01").iloc[0]["amount_fen"] == 24200


# ------------------------------------------------------------------ E02


def test_one_head_of_two_households_with_overlapping_enrolment_flags_both_e02():
    found = run(e02, households=[household("H1"), household("H2")],
                enrolments=[enrolment("H1", start="2024-01"), enrolment("H2", start="2024-06")])
    assert list(found["subject_id"]) == ["H1", "H2"]
    assert list(found["period"]) == ["2024-06", "2024-06"]
    assert found["amount_fen"].isna().all()
    for detail in found["detail"]:
        assert "H1" in detail and "H2" in detail and HEAD in detail


def test_household_without_enrolment_counts_as_always_enrolled_for_e02():
    found = run(e02, households=[household("H1"), household("H2")],
                enrolments=[enrolment("H1", start="2024-01", exit_="2024-06")])
    assert list(found["subject_id"]) == ["H1", "H2"]
    assert list(found["period"]) == ["2024-01", "2024-01"]


def test_two_households_with_one_head_in_successive_spans_are_not_e02():
    found = run(e02, households=[household("H1"), household("H2")],
                enrolments=[enrolment("H1", start="2024-01", exit_="2024-06"),
                            enrolment("H2", start="2024-06")])
    assert found.empty


def test_dibao_exited_the_month_tekun_starts_is_not_e02():
    found = run(e02, households=[household("H1")],
                enrolments=[enrolment("H1", "dibao", start="2023-01", exit_="2025-02"),
                            enrolment("H1", "tekun", start="2025-02")])
    assert found.empty


def test_overlapping_dibao_and_tekun_in_one_household_is_e02():
    found = run(e02, households=[household("H1")],
                enrolments=[enrolment("H1", "dibao", start="2023-01", exit_="2025-04"),
                            enrolment("H1", "tekun", start="2025-02")])
    assert list(found["subject_id"]) == ["H1"]
    assert found.iloc[0]["period"] == "2025-02"
    assert "dibao" in found.iloc[0]["detail"] and "tekun" in found.iloc[0]["detail"]


def test_dibao_gradual_exit_overlapping_tekun_is_e02():
    found = run(e02, households=[household("H1")],
                enrolments=[enrolment("H1", "dibao", start="2023-01", exit_="2025-02",
                                      gradual="2025-03"),
                            enrolment("H1", "tekun", start="2025-02")])
    assert list(found["period"]) == ["2025-02"]


def test_dibao_and_tekun_in_two_households_of_one_head_flag_both_e02():
    found = run(e02, households=[household("H1"), household("H2")],
                enrolments=[enrolment("H1", "dibao", start="2024-01", exit_="2025-01"),
                            enrolment("H2", "tekun", start="2024-10")])
    assert list(found["subject_id"]) == ["H1", "H2"]
    assert "enrolments.csv#H2-tekun-2024-10" in found.iloc[0]["evidence"].split()


def test_households_with_different_heads_are_not_e02():
    found = run(e02, households=[household("H1"), household("H2", head_id=OTHER)])
    assert found.empty


# ------------------------------------------------------------------ E03


def standard(amount_fen: int, unit: str = "per_household", year: int = 2025,
             program: str = "dibao") -> dict:
    return dict(program=program, year=year, amount_fen=amount_fen, unit=unit,
                evidence_event=f"std-{program}-{year}",
                evidence_row=f"standards.csv#{program}-{year}")


def test_payroll_line_above_the_standard_is_e03_with_the_excess():
    found = run(e03, payroll=[pay("B1", "1", amount_fen=25000), pay("B1", "2", amount_fen=26000,
                                                                    period="2025-04")],
                standards=[standard(24200)])
    assert list(found["subject_id"]) == ["H1"]
    row = found.iloc[0]
    assert (row["amount_fen"], row["period"], row["severity"]) == (800 + 1800, "2025-03",
                                                                   "medium")
    assert "242.00" in row["detail"] and "B1:2" in row["detail"]
    assert "standards.csv#dibao-2025" in row["evidence"].split()


def test_amount_exactly_the_standard_is_not_e03():
    found = run(e03, payroll=[pay("B1", "1", amount_fen=24200)], standards=[standard(24200)])
    assert found.empty


def test_per_person_standard_times_members_is_not_e03():
    found = run(e03, payroll=[pay("B1", "1", amount_fen=72600)],
                standards=[standard(24200, unit="per_person")],
                households=[household(members=3)])
    assert found.empty


def test_above_per_person_standard_times_members_is_e03():
    found = run(e03, payroll=[pay("B1", "1", amount_fen=72601)],
                standards=[standard(24200, unit="per_person")],
                households=[household(members=3)])
    assert list(found["amount_fen"]) == [1]
    assert "households.csv#H1" in found.iloc[0]["evidence"].split()


def test_no_standard_for_the_year_means_no_e03_check():
    found = run(e03, payroll=[pay("B1", "1", amount_fen=99900)], standards=[standard(24200,
                                                                                    year=2024)])
    assert found.empty


# ------------------------------------------------------------------ E04


def test_payment_after_exit_is_e04():
    found = run(e04, paid("B1", "1", period="2025-03"), paid("B1", "2", period="2025-04"),
                enrolments=[enrolment(exit_="2025-04")])
    assert list(found["subject_id"]) == ["H1"]
    row = found.iloc[0]
    assert (row["period"], row["amount_fen"]) == ("2025-04", 24200)
    assert "enrolments.csv#H1-dibao-2024-01" in row["evidence"].split()
    assert "payroll.csv#B1-1" not in row["evidence"].split()


def test_payment_after_exit_value_dated_after_as_of_is_not_e04_yet():
    found = run(e04, paid("B1", "2", period="2025-04", value_date="2025-07-01"),
                enrolments=[enrolment(exit_="2025-04")])
    assert found.empty


def test_gradual_exit_is_payable_through_its_last_period_but_not_after():
    found = run(e04, paid("B1", "1", period="2025-04"), paid("B1", "2", period="2025-05"),
                paid("B1", "3", period="2025-06"),
                enrolments=[enrolment(exit_="2025-04", gradual="2025-05")])
    assert list(found["period"]) == ["2025-06"]
    assert list(found["amount_fen"]) == [24200]


def test_household_enrolled_again_after_exit_is_not_e04():
    found = run(e04, paid("B1", "1", period="2025-05"),
                enrolments=[enrolment(start="2023-01", exit_="2024-01"),
                            enrolment(start="2025-01")])
    assert found.empty


def test_exit_from_another_program_is_not_e04():
    found = run(e04, paid("B1", "1", period="2025-05"),
                enrolments=[enrolment(program="tekun", exit_="2025-01"), enrolment()])
    assert found.empty


# ------------------------------------------------------------------ E05


def official(official_id: str = OTHER, relative_id: str = "", relation: str = "") -> dict:
    return dict(official_id_number=official_id, official_name="王五", position="村支书",
                township="城关镇", relative_id_number=relative_id or official_id,
                relative_name="张三" if relative_id else "王五", relation=relation,
                evidence_event="off-1", evidence_row="officials.csv#2")


def test_payee_who_is_an_officials_relative_is_e05():
    found = run(e05, payroll=[pay("B1", "1", payee_id=HEAD), pay("B1", "2", period="2025-04",
                                                               payee_id=HEAD)],
                households=[household(head_id=valid_id(5))],
                officials=[official(relative_id=HEAD.lower(), relation="兄弟")])
    assert list(found["subject_id"]) == ["H1"]
    row = found.iloc[0]
    assert row["severity"] == "medium" and pd.isna(row["amount_fen"])
    assert row["period"] == "2025-03"
    assert "王五" in row["detail"] and "兄弟" in row["detail"]
    assert {"officials.csv#2", "payroll.csv#B1-1", "payroll.csv#B1-2"} <= set(
        row["evidence"].split())


def test_head_who_is_an_official_is_e05():
    found = run(e05, payroll=[pay("B1", "1")], households=[household(head_id=OTHER)],
                officials=[official(official_id=OTHER)])
    assert list(found["subject_id"]) == ["H1"]
    assert "households.csv#H1" in found.iloc[0]["evidence"].split()


def test_relative_whose_id_differs_in_one_digit_is_not_e05():
    near = HEAD[:10] + ("9" if HEAD[10] != "9" else "8") + HEAD[11:]
    found = run(e05, payroll=[pay("B1", "1", payee_id=HEAD)], households=[household()],
                officials=[official(relative_id=near, relation="兄弟")])
    assert found.empty


def test_official_head_of_a_household_never_in_payroll_is_not_e05():
    found = run(e05, households=[household(head_id=OTHER)],
                officials=[official(official_id=OTHER)])
    assert found.empty


# ------------------------------------------------------------------ E06


def test_three_households_on_one_account_is_e06():
    found = run(e06, paid("B1", "1", "H1", account="6222777"),
                paid("B1", "2", "H2", account="6222777", amount_fen=30000),
                paid("B1", "3", "H3", account="6222777"), paid("B1", "4", "H4"))
    assert list(found["subject_id"]) == ["6222777"]
    row = found.iloc[0]
    assert (row["subject_type"], row["amount_fen"]) == ("bank_account", 24200 * 2 + 30000)
    assert all(h in row["detail"] for h in ("H1", "H2", "H3"))
    assert "H4" not in row["detail"]


def test_two_households_on_one_account_are_not_e06():
    found = run(e06, paid("B1", "1", "H1"), paid("B1", "2", "H2"), paid("B1", "3", "H2",
                                                                       period="2025-04"))
    assert found.empty


def test_policy_min_households_two_flags_two_households_on_one_account():
    found = run(e06, paid("B1", "1", "H1"), paid("B1", "2", "H2"),
                policy={"min_households": 2})
    assert list(found["subject_id"]) == ["6222001"]


def test_payments_value_dated_after_as_of_do_not_count_for_e06():
    rows = [paid("B1", "1", "H1"), paid("B1", "2", "H2"),
            paid("B1", "3", "H3", value_date="2025-07-01")]
    assert run(e06, *rows).empty
    assert run(e06, *rows, as_of="2025-07-01").iloc[0]["amount_fen"] == 3 * 24200


# ------------------------------------------------------------------ E07


@pytest.mark.parametrize("number", [
    HEAD[:-1] + "x",                 # lower-case x check character
    "110105491231002",               # 15-digit legacy number
    valid_id(4),
])
def test_valid_head_id_numbers_are_not_e07(number):
    assert run(e07, households=[household(head_id=number)]).empty


@pytest.mark.parametrize("number, why", [
    (HEAD[:-1] + "1", "check character"),
    ("11010519491231002", "length"),
    (valid_id(1, birth="19490230"), "birth date"),
    (valid_id(1, birth="20300101"), "birth date"),      # born after as-of
    (valid_id(1, birth="18800101"), "birth date"),      # before 1890
])
def test_invalid_head_id_numbers_are_e07(number, why):
    found = run(e07, households=[household(head_id=number)])
    assert list(found["subject_id"]) == ["H1"]
    row = found.iloc[0]
    assert (row["severity"], row["period"]) == ("low", "")
    assert pd.isna(row["amount_fen"])
    assert why in row["detail"] and number in row["detail"]
    assert row["evidence"] == "event:hh-H1 households.csv#H1"


def test_empty_head_id_is_not_e07():
    assert run(e07, households=[household(head_id="")]).empty


# ------------------------------------------------------------------ E08


def holding(value_fen: int, registered_on: str = "2025-02-10", id_number: str = HEAD,
            kind: str = "vehicle") -> dict:
    return dict(id_number=id_number, kind=kind, description="小型轿车", value_fen=value_fen,
                registered_on=registered_on, evidence_event="hold-1",
                evidence_row="holdings.csv#2")


def test_head_holding_a_car_worth_the_threshold_while_paid_is_e08():
    found = run(e08, paid("B1", "1", period="2025-01"), paid("B1", "2", period="2025-02"),
                paid("B1", "3", period="2025-03"),
                households=[household()], holdings=[holding(3_000_000, "2025-02-10")])
    assert list(found["subject_id"]) == ["H1"]
    row = found.iloc[0]
    assert (row["period"], row["amount_fen"], row["severity"]) == ("2025-02", 3_000_000,
                                                                   "medium")
    assert "车辆" in row["detail"] and "30000.00" in row["detail"]
    assert {"holdings.csv#2", "households.csv#H1", "payroll.csv#B1-2"} <= set(
        row["evidence"].split())


def test_payment_value_dated_after_as_of_is_not_e08_yet():
    found = run(e08, paid("B1", "1", period="2025-06", value_date="2025-07-01"),
                households=[household()], holdings=[holding(3_000_000, "2025-02-10")])
    assert found.empty


def test_holding_worth_29999_99_is_not_e08():
    found = run(e08, paid("B1", "1"), households=[household()],
                holdings=[holding(2_999_999, "2024-01-01")])
    assert found.empty


def test_holding_registered_after_the_last_paid_period_is_not_e08():
    found = run(e08, paid("B1", "1", period="2025-03"), households=[household()],
                holdings=[holding(5_000_000, "2025-04-01")])
    assert found.empty


def test_holding_registered_on_the_last_day_of_a_paid_period_is_e08():
    found = run(e08, paid("B1", "1", period="2025-03"), households=[household()],
                holdings=[holding(5_000_000, "2025-03-31")])
    assert list(found["period"]) == ["2025-03"]


def test_policy_min_value_in_yuan_is_compared_in_fen():
    found = run(e08, paid("B1", "1"), households=[household()],
                holdings=[holding(2_999_999, "2024-01-01")], policy={"min_value": "29999.99"})
    assert list(found["amount_fen"]) == [2_999_999]


# ------------------------------------------------------------------ subject ids


def test_each_eligibility_rule_uses_the_contract_subject_id():
    """household_id for every E-code but E06, whose subject is the bank account."""
    rows = dict(
        households=[household("户-001", head_id=HEAD[:-1] + "1")],
        enrolments=[enrolment("户-001", "dibao", exit_="2025-03"),
                    enrolment("户-001", "tekun", start="2024-06")],
        standards=[standard(10000, unit="per_person")],
        deaths=[death(id_number=HEAD[:-1] + "1", date="2025-01-10")],
        officials=[official(official_id=HEAD[:-1] + "1")],
        holdings=[holding(5_000_000, "2024-01-01", id_number=HEAD[:-1] + "1")],
    )
    payments = [paid(f"B{i}", "1", household=f"户-00{i}", period="2025-04",
                     account="6222 0001") for i in (1, 2, 3)]
    for module in (e01, e02, e03, e04, e05, e07, e08):
        found = run(module, *payments, **rows)
        assert list(found["subject_id"]) == ["户-001"], module.RULE.code
        assert (found["subject_type"] == "household").all()
        assert (found["code"] == module.RULE.code).all()
    found = run(e06, *payments, **rows)
    assert list(found["subject_id"]) == ["6222 0001"]

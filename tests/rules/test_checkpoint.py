from dataclasses import replace
from datetime import date
from typing import Any

import pytest

from divert.rules import NoVersionInForce, decide, select_version

from .builders import ENCOUNTER_DAY, adult_offence, born_years_before, failed, programme, shipped

CHECKPOINT = programme("checkpoint")


def test_a_clean_case_is_eligible_and_goes_to_a_navigator() -> None:
    decision = decide(CHECKPOINT, adult_offence())
    assert (decision.eligible, decision.route) == (True, "navigator")
    assert len(decision.reasons) == len(CHECKPOINT.eligibility) + 1


@pytest.mark.parametrize(
    ("overrides", "rule"),
    [
        ({"date_of_birth": born_years_before(18, days=1)}, "age-18-plus"),
        ({"date_of_birth": None}, "age-18-plus"),
        ({"lives_in_area": False}, "lives-in-area"),
        ({"lives_in_area": None}, "lives-in-area"),
        ({"offended_in_area": False}, "offended-in-area"),
        ({"offence_category": "offensive_weapon"}, "offence-on-list"),
        ({"offence_category": "drug_supply"}, "offence-on-list"),
        ({"admission": "denied"}, "admission"),
        ({"admission": "not_asked"}, "admission"),
        ({"hate_crime": True}, "no-hate-crime"),
        ({"on_court_order": True}, "no-court-order"),
        ({"co_accused": True}, "no-co-accused"),
        ({"offence_date": None}, "offence-under-3-months"),
        (
            {"offence_date": date(2024, 6, 13)},
            "offence-under-3-months",
        ),  # after the encounter: a recording error
    ],
)
def test_each_rule_can_fail_alone(overrides: dict[str, Any], rule: str) -> None:
    decision = decide(CHECKPOINT, adult_offence(**overrides))
    assert not decision.eligible
    assert decision.route is None
    assert list(failed(decision)) == [rule]


@pytest.mark.parametrize(
    ("admission", "eligible"), [("admitted", True), ("no_comment", True), ("denied", False)]
)
def test_admission_or_no_comment(admission: str, eligible: bool) -> None:
    assert decide(CHECKPOINT, adult_offence(admission=admission)).eligible is eligible


def test_denial_reason_reads_as_a_sentence() -> None:
    text = failed(decide(CHECKPOINT, adult_offence(admission="denied")))["admission"]
    assert text == "Interview recorded as denied; Checkpoint needs an admission or a 'no comment' interview."


@pytest.mark.parametrize(
    ("offence_date", "eligible"),
    [
        (date(2024, 3, 13), True),  # 2 months 30 days before 12 June
        (date(2024, 3, 12), False),  # exactly 3 months
        (date(2024, 1, 1), False),
        (ENCOUNTER_DAY, True),
    ],
)
def test_offence_less_than_3_months_old(offence_date: date, eligible: bool) -> None:
    decision = decide(CHECKPOINT, adult_offence(offence_date=offence_date))
    assert decision.eligible is eligible


def test_offence_age_boundary_at_month_end() -> None:
    # 30 November + 3 months would be 30 February, which does not exist: it turns 3 months old on 1 March.
    on = date(2025, 2, 28)
    facts = adult_offence(occurred_on=on, offence_date=date(2024, 11, 30), date_of_birth=date(1990, 1, 1))
    assert decide(select_version(shipped(), "checkpoint", on), facts).eligible
    later = replace(facts, occurred_on=date(2025, 3, 1))
    assert not decide(select_version(shipped(), "checkpoint", later.occurred_on), later).eligible


@pytest.mark.parametrize(
    ("on", "version", "burglary", "cyber"),
    [
        (date(2017, 6, 1), 1, True, False),
        (date(2019, 3, 31), 1, True, False),  # the day before version 2
        (date(2019, 4, 1), 2, False, True),
        (date(2024, 6, 12), 2, False, True),
    ],
)
def test_the_version_in_force_on_the_encounter_date_decides(
    on: date, version: int, burglary: bool, cyber: bool
) -> None:
    definition = select_version(shipped(), "checkpoint", on)
    for category, expected in (("burglary", burglary), ("cyber", cyber)):
        facts = adult_offence(
            occurred_on=on, offence_date=on, offence_category=category, date_of_birth=date(1980, 1, 1)
        )
        decision = decide(definition, facts)
        assert decision.version == version
        assert decision.eligible is expected


def test_no_version_before_the_first_took_effect() -> None:
    with pytest.raises(
        NoVersionInForce, match="No version of programme 'checkpoint' was in force on 2016-03-31"
    ):
        select_version(shipped(), "checkpoint", date(2016, 3, 31))


def test_contract_terms_are_data() -> None:
    contract = CHECKPOINT.contract
    assert contract is not None and contract.length_months == 4
    groups = {group.id: group for group in contract.conditions}
    assert (groups["do_not_reoffend"].min, groups["do_not_reoffend"].max) == (1, 1)
    assert (groups["pathway"].min, groups["pathway"].max) == (1, 2)
    assert "exploitation" in groups["pathway"].options
    assert (groups["voluntary_work"].hours_min, groups["voluntary_work"].hours_max) == (18, 36)
    assert CHECKPOINT.state("completed").outcome_code == 22
    assert CHECKPOINT.state("prosecuted").outcome_code == 1

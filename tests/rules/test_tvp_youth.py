from datetime import date
from typing import Any

import pytest

from divert.rules import PriorEncounter, decide

from .builders import ENCOUNTER_DAY, born_years_before, failed, possession, prior, programme

YOUTH = programme("tvp-youth-drugs")


@pytest.mark.parametrize(
    ("date_of_birth", "eligible"),
    [
        (born_years_before(10, days=1), False),  # turns 10 tomorrow: under the age of criminal responsibility
        (born_years_before(10), True),
        (born_years_before(17), True),
        (born_years_before(18, days=1), True),  # 18th birthday is tomorrow
        (born_years_before(18), False),  # 18 today
        (born_years_before(30), False),
    ],
)
def test_age_boundaries(date_of_birth: date, eligible: bool) -> None:
    decision = decide(YOUTH, possession(date_of_birth=date_of_birth))
    assert decision.eligible is eligible
    assert ("age-under-18" in failed(decision)) is not eligible


@pytest.mark.parametrize(
    ("occurred_on", "eligible"),
    [(date(2026, 2, 28), True), (date(2026, 3, 1), False), (date(2028, 2, 28), False)],
)
def test_born_on_29_february_turns_18_on_1_march(occurred_on: date, eligible: bool) -> None:
    facts = possession(occurred_on=occurred_on, offence_date=occurred_on, date_of_birth=date(2008, 2, 29))
    assert decide(YOUTH, facts).eligible is eligible


def test_unknown_date_of_birth_fails_with_a_reason() -> None:
    decision = decide(YOUTH, possession(date_of_birth=None))
    assert not decision.eligible
    assert failed(decision) == {"age-under-18": "Date of birth not recorded, so age cannot be checked."}


@pytest.mark.parametrize(
    ("history", "route", "reason"),
    [
        ((), "yot", "No earlier possession on record, so the Youth Offending Team receives the referral."),
        ((prior("theft"),), "yot", "No earlier possession on record"),
        ((prior("drug_possession"),), "yju", "An earlier possession is on record"),
        (
            (prior("drug_possession", diverted=True, programme="tvp-youth-drugs"),) * 5,
            "yju",
            "Youth Justice Unit",
        ),
        # A possession the caller gives as history on the encounter day was recorded before it (the pathway
        # orders same-day encounters by time and id), so it is an earlier possession (issue 14).
        ((prior("drug_possession", on=ENCOUNTER_DAY),), "yju", "An earlier possession is on record"),
        ((prior("drug_possession", on=date(2025, 1, 1)),), "yot", "No earlier possession"),
    ],
)
def test_first_possession_goes_to_yot_and_repeat_to_yju(
    history: tuple[PriorEncounter, ...], route: str, reason: str
) -> None:
    decision = decide(YOUTH, possession(history=history))
    assert decision.eligible, "repeat possession never ends eligibility by itself"
    assert decision.route == route
    assert reason in decision.reasons[-1].text
    assert decision.reasons[-1].rule_id in {"first-possession", "repeat-possession"}


@pytest.mark.parametrize(
    ("overrides", "rule", "text"),
    [
        ({"supply_suspected": True}, "no-supply", "Supply is suspected, so the traditional pathway applies."),
        ({"personal_use": False}, "personal-use", "The quantity was beyond personal use"),
        ({"personal_use": None}, "personal-use", "Not recorded whether the drugs were for personal use"),
        ({"offence_category": "theft"}, "drug-possession", "The offence is theft, not drug possession"),
    ],
)
def test_not_eligible_with_the_reason(overrides: dict[str, Any], rule: str, text: str) -> None:
    decision = decide(YOUTH, possession(**overrides))
    assert not decision.eligible
    assert decision.route is None
    assert list(failed(decision)) == [rule]
    assert text in failed(decision)[rule]


def test_every_failure_is_reported_not_just_the_first() -> None:
    decision = decide(
        YOUTH, possession(date_of_birth=born_years_before(40), supply_suspected=True, personal_use=False)
    )
    assert set(failed(decision)) == {"age-under-18", "personal-use", "no-supply"}
    assert [r.rule_id for r in decision.reasons] == [
        "age-under-18",
        "drug-possession",
        "personal-use",
        "no-supply",
    ]


def test_reason_sentences_fill_in_the_facts() -> None:
    decision = decide(YOUTH, possession(date_of_birth=born_years_before(16)))
    assert decision.reasons[0].text == "Aged 16 at the encounter, so within the youth scheme (10 to 17)."
    assert decision.version == 1 and decision.programme == "tvp-youth-drugs"


@pytest.mark.parametrize("admission", ["admitted", "no_comment", "denied", "not_asked"])
def test_admission_is_not_needed_for_youth_diversion(admission: str) -> None:
    assert decide(YOUTH, possession(admission=admission)).eligible


def test_sessions_and_deadline_come_from_the_file() -> None:
    assert YOUTH.sessions is not None and YOUTH.sessions.count == 6
    assert YOUTH.deadline("first_contact").working_days == 10
    assert YOUTH.state("completed").outcome_code == 22
    assert YOUTH.route("yju").enters == "awaiting_yju"
    assert YOUTH.escalation is not None
    assert [o.id for o in YOUTH.escalation.options] == ["escalate", "revised_plan"]

from datetime import date
from typing import Any

import pytest

from divert.rules import decide

from .builders import adult_offence, born_years_before, programme

DIVERT = programme("divert")


@pytest.mark.parametrize(
    ("date_of_birth", "eligible"),
    [
        (born_years_before(18, days=1), False),
        (born_years_before(18), True),
        (born_years_before(25), True),
        (born_years_before(26, days=1), True),  # last day aged 25
        (born_years_before(26), False),  # 26th birthday
        (None, False),
    ],
)
def test_ages_18_to_25_inclusive(date_of_birth: date | None, eligible: bool) -> None:
    decision = decide(DIVERT, adult_offence(date_of_birth=date_of_birth))
    assert decision.eligible is eligible
    assert decision.route == ("coach" if eligible else None)


@pytest.mark.parametrize(
    "overrides",
    [
        {"setting": "community", "admission": "not_asked"},  # a friend's referral, never in custody
        {"admission": "denied", "hate_crime": True, "co_accused": True, "on_court_order": True},
        {"offence_category": "offensive_weapon", "lives_in_area": None, "offence_date": None},
    ],
)
def test_no_other_strict_eligibility(overrides: dict[str, Any]) -> None:
    decision = decide(DIVERT, adult_offence(date_of_birth=born_years_before(20), **overrides))
    assert decision.eligible
    assert [r.rule_id for r in decision.reasons] == ["age-18-to-25", "coach"]


def test_runs_beside_the_criminal_case() -> None:
    assert DIVERT.criminal_case == "parallel"
    assert all(state.outcome_code is None for state in DIVERT.states)
    assert DIVERT.deadline("meeting_outside").days == 7
    assert DIVERT.contract is None

from datetime import date
from typing import Any

import pytest

from divert.rules import decide

from .builders import born_years_before, failed, possession, prior, programme

ADULT = programme("tvp-adult-drugs")


@pytest.mark.parametrize(
    ("date_of_birth", "eligible"),
    [
        (born_years_before(18, days=1), False),
        (born_years_before(18), True),
        (born_years_before(70), True),
        (None, False),
    ],
)
def test_adults_only(date_of_birth: date | None, eligible: bool) -> None:
    assert decide(ADULT, possession(date_of_birth=date_of_birth)).eligible is eligible


@pytest.mark.parametrize(
    ("overrides", "rule"),
    [
        ({"supply_suspected": True}, "no-supply"),
        ({"personal_use": False}, "personal-use"),
        ({"offence_category": "drug_supply"}, "drug-possession"),
    ],
)
def test_same_drug_rules_as_youth(overrides: dict[str, Any], rule: str) -> None:
    decision = decide(ADULT, possession(date_of_birth=born_years_before(25), **overrides))
    assert list(failed(decision)) == [rule]


def test_repeat_possession_still_routes_to_the_drug_service() -> None:
    facts = possession(date_of_birth=born_years_before(25), history=(prior("drug_possession"),))
    decision = decide(ADULT, facts)
    assert (decision.eligible, decision.route) == (True, "drug_service")


def test_outcomes_and_drop_out_reasons_are_configured() -> None:
    assert ADULT.state("completed").outcome_code == 8
    assert ADULT.state("prosecuted").outcome_code == 1
    assert ADULT.criminal_case == "deferred"
    assert "no_out_of_hours_service" in ADULT.drop_out_reasons
    assert ADULT.sessions is not None and ADULT.sessions.record_times

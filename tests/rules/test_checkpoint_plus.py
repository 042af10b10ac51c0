import pytest

from divert.rules import decide

from .builders import adult_offence, born_years_before, failed, programme

PLUS = programme("checkpoint-plus")
THREE = frozenset({"mental_health", "alcohol", "drugs"})


@pytest.mark.parametrize(
    ("gender", "vulnerabilities", "eligible"),
    [
        ("female", frozenset(), True),
        ("male", frozenset({"care_leaver"}), True),
        ("other", frozenset({"care_leaver"}), True),
        ("male", THREE, True),
        ("male", frozenset({"alcohol", "drugs", "homelessness", "mental_health"}), True),
        ("male", frozenset({"alcohol", "drugs"}), False),
        ("male", frozenset({"alcohol", "drugs", "care_leaver_support"}), False),
        ("male", frozenset(), False),
        ("not_stated", THREE, False),
    ],
)
def test_multiple_disadvantage(gender: str, vulnerabilities: frozenset[str], eligible: bool) -> None:
    decision = decide(PLUS, adult_offence(gender=gender, vulnerabilities=vulnerabilities))
    assert decision.eligible is eligible
    assert ("multiple-disadvantage" in failed(decision)) is not eligible


def test_reason_lists_the_recorded_needs() -> None:
    decision = decide(PLUS, adult_offence(gender="male", vulnerabilities=THREE))
    texts = {r.rule_id: r.text for r in decision.reasons}
    assert texts["multiple-disadvantage"] == (
        "Multiple disadvantage recorded (gender male; needs: alcohol, drugs, mental_health)."
    )


@pytest.mark.parametrize(("category", "eligible"), [("theft", True), ("burglary", False), ("abh", False)])
def test_low_level_offences_only(category: str, eligible: bool) -> None:
    assert decide(PLUS, adult_offence(gender="female", offence_category=category)).eligible is eligible


def test_adults_only_and_outcomes() -> None:
    minor = adult_offence(gender="female", date_of_birth=born_years_before(18, days=1))
    assert list(failed(decide(PLUS, minor))) == ["age-18-plus"]
    assert PLUS.state("completed").outcome_code == 8
    assert PLUS.state("returned_to_officer").outcome_code is None

"""The fast evaluator must mean exactly what rule-engine means, including where Python would differ."""

from __future__ import annotations

import pytest

from divert.rules.expressions import compile_condition
from divert.rules.vocabulary import FactValue

VALUES: dict[str, FactValue] = {
    "age": 17,
    "gender": "male",
    "hate_crime": False,
    "vulnerabilities": frozenset({"alcohol", "drugs"}),
    "prior_offence_categories": frozenset(),
    "offence_category": "theft",
}


@pytest.mark.parametrize(
    "text",
    [
        "age >= 10 and age < 18",
        "age == 17.0",
        "hate_crime == 0",  # Python says False == 0; rule-engine says different types are never equal
        "hate_crime != 0",
        "not hate_crime or age > 20",
        "(vulnerabilities & {'alcohol', 'drugs', 'homelessness'}).length >= 2",
        "(vulnerabilities | {'x'}).length == 3",
        "'drug_possession' in prior_offence_categories",
        "offence_category in ['theft', 'fraud']",
        "not (offence_category in ['fraud'])",
        "age > 16 ? gender == 'male' : false",
        "gender =~ 'ma.*'",  # regex: not compiled, falls back to rule-engine
    ],
)
def test_fast_path_matches_rule_engine(text: str) -> None:
    condition = compile_condition(text)
    assert condition.evaluate(VALUES) == condition.evaluate_with_rule_engine(VALUES)


def test_unsupported_syntax_still_works_through_rule_engine() -> None:
    condition = compile_condition("gender =~ 'ma.*'")
    assert not condition.compiled
    assert condition.evaluate(VALUES) is True


def test_shipped_style_conditions_are_compiled() -> None:
    assert compile_condition("age >= 18 and not co_accused").compiled
    assert compile_condition("hate_crime == 0").evaluate({"hate_crime": False}) is False

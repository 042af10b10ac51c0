"""Invariants of the engine that must hold for every encounter and every shipped programme."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from divert.rules import EncounterFacts, PriorEncounter, ProgrammeDefinition, decide
from divert.rules.vocabulary import fact_values

from .builders import shipped
from .strategies import encounters, priors

definitions = st.sampled_from(shipped())
SETTINGS = settings(max_examples=300)


@SETTINGS
@given(definitions, encounters())
def test_decisions_are_deterministic(definition: ProgrammeDefinition, facts: EncounterFacts) -> None:
    assert decide(definition, facts) == decide(definition, replace(facts))


@SETTINGS
@given(definitions, encounters())
def test_shape_of_every_decision(definition: ProgrammeDefinition, facts: EncounterFacts) -> None:
    decision = decide(definition, facts)
    assert decision.reasons, "every decision says why"
    assert (decision.programme, decision.version) == (definition.code, definition.version)
    eligibility = decision.reasons[: len(definition.eligibility)]
    assert [r.rule_id for r in eligibility] == [rule.id for rule in definition.eligibility]
    assert all(reason.text for reason in decision.reasons)
    if decision.eligible:
        assert decision.route is not None
        assert all(reason.passed for reason in decision.reasons)
        assert len(decision.reasons) == len(definition.eligibility) + 1
    else:
        assert decision.route is None
        assert any(not reason.passed for reason in decision.reasons)
        assert len(decision.reasons) == len(definition.eligibility)


@SETTINGS
@given(definitions, encounters(), st.data())
def test_history_on_or_after_the_encounter_changes_nothing(
    definition: ProgrammeDefinition, facts: EncounterFacts, data: st.DataObject
) -> None:
    later = data.draw(st.lists(priors(facts.occurred_on, after=True), min_size=1, max_size=3))
    assert decide(definition, replace(facts, history=facts.history + tuple(later))) == decide(
        definition, facts
    )


@SETTINGS
@given(encounters())
def test_youth_route_is_yju_exactly_when_an_earlier_possession_exists(facts: EncounterFacts) -> None:
    youth = next(d for d in shipped() if d.code == "tvp-youth-drugs")
    decision = decide(youth, facts)
    earlier = any(
        p.offence_category == "drug_possession" and p.occurred_on < facts.occurred_on for p in facts.history
    )
    if decision.eligible:
        assert (decision.route == "yju") is earlier


@SETTINGS
@given(
    encounters(),
    st.lists(st.builds(PriorEncounter, occurred_on=st.dates(), offence_category=st.just("drug_possession"))),
)
def test_repeat_possession_never_ends_youth_eligibility(
    facts: EncounterFacts, more: list[PriorEncounter]
) -> None:
    youth = next(d for d in shipped() if d.code == "tvp-youth-drugs")
    assert decide(youth, replace(facts, history=tuple(more))).eligible == decide(youth, facts).eligible


@SETTINGS
@given(definitions, encounters())
def test_compiled_conditions_agree_with_rule_engine(
    definition: ProgrammeDefinition, facts: EncounterFacts
) -> None:
    values = fact_values(facts)
    conditions = [(r.id, r.condition) for r in definition.eligibility]
    conditions += [(r.id, r.condition) for r in definition.routing]
    for rule_id, condition in conditions:
        if all(values[name] is not None for name in condition.facts):
            assert condition.evaluate(values) == condition.evaluate_with_rule_engine(values), rule_id

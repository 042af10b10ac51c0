"""Invariants of the engine that must hold for every encounter and every shipped programme."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from divert.pathways.facts import facts_to_dict
from divert.rules import EncounterFacts, PriorEncounter, ProgrammeDefinition, decide
from divert.rules.decision import decide_values, facts_read
from divert.rules.facts import facts_from_dict
from divert.rules.vocabulary import fact_values, stored_fact_values

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


@SETTINGS
@given(encounters())
def test_values_read_straight_from_stored_facts_are_the_engines(facts: EncounterFacts) -> None:
    """The replay works the catalogue out from the stored JSON without building the facts first;
    it must be the same catalogue, including facts stored before later fields existed."""
    stored = json.loads(json.dumps(facts_to_dict(facts)))
    assert stored_fact_values(stored) == fact_values(facts_from_dict(stored))
    older = {k: v for k, v in stored.items() if k not in ("co_accused", "vulnerabilities", "history")}
    assert stored_fact_values(older) == fact_values(facts_from_dict(older))


def _likely_eligible(facts: EncounterFacts) -> EncounterFacts:
    """The same encounter made a first possession for personal use, admitted, in the area: so the
    routing rules (read only once someone is eligible) are reached often, not by luck."""
    return replace(
        facts,
        date_of_birth=facts.occurred_on.replace(year=facts.occurred_on.year - 15, day=1),
        offence_category="drug_possession",
        offence_date=facts.occurred_on,
        drug_class="B",
        personal_use=True,
        supply_suspected=False,
        admission="admitted",
        hate_crime=False,
        domestic_abuse=False,
        lives_in_area=True,
        offended_in_area=True,
        on_court_order=False,
    )


class _Reads(dict[str, Any]):
    """The values, noting every name the engine looks up."""

    def __init__(self, values: dict[str, Any]) -> None:
        super().__init__(values)
        self.read: set[str] = set()

    def __getitem__(self, name: str) -> Any:
        self.read.add(name)
        return super().__getitem__(name)

    def get(self, name: str, default: Any = None) -> Any:
        self.read.add(name)
        return super().get(name, default)


@SETTINGS
@given(definitions, st.one_of(encounters(), encounters().map(_likely_eligible)), encounters())
def test_a_decision_without_sentences_depends_only_on_the_facts_it_reads(
    definition: ProgrammeDefinition, facts: EncounterFacts, other: EncounterFacts
) -> None:
    """So the replay may decide each combination of those facts once (rules.decision.facts_read):
    the engine looks up no other value, and values that differ everywhere else give the same
    decision."""
    if definition.facts:
        return  # declared facts come from the facts themselves; the replay decides those each time
    values, others = fact_values(facts), fact_values(other)
    read = facts_read(definition)
    watched = _Reads(values)
    decided = decide_values(definition, watched, None, explain=False)
    assert watched.read <= read
    mixed = {name: values[name] if name in read else others[name] for name in values}
    assert decided == decide_values(definition, mixed, None, explain=False)

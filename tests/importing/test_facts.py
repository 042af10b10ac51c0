"""The import's fast copy of the facts must store exactly what ``facts_to_dict`` stores."""

from __future__ import annotations

from datetime import date

from divert.pathways.facts import facts_from_dict, facts_to_dict
from divert.pathways.importing.history import stored_facts
from divert.rules import EncounterFacts, PriorEncounter


def test_stored_facts_equal_facts_to_dict_and_replay() -> None:
    facts = EncounterFacts(
        occurred_on=date(2024, 3, 1),
        offence_category="drug_possession",
        date_of_birth=date(2009, 1, 15),
        personal_use=True,
        offence_date=None,
        vulnerabilities=frozenset({"care_leaver", "adhd"}),
        history=(
            PriorEncounter(date(2023, 6, 1), "drug_possession", "tvp-youth-drugs", True, "completed"),
            PriorEncounter(date(2023, 7, 1), "theft"),
        ),
    )
    assert stored_facts(facts) == facts_to_dict(facts)
    assert facts_from_dict(stored_facts(facts)) == facts

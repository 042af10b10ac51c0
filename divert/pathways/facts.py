"""Building the engine's facts from stored records, as they stood at the encounter's date."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import asdict
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from divert.app.clock import uk_date
from divert.models import Encounter, Programme, Referral
from divert.models.programme import compiled
from divert.pathways.matching import Looked, earlier_encounters
from divert.rules import EncounterFacts, PriorEncounter
from divert.rules.facts import facts_from_dict as facts_from_dict  # where replay reads them

# A case whose state is in one of these stages was carried past the offer: the person was diverted.
DIVERTED_STAGES = frozenset({"route", "engagement", "completion", "outcome"})


def encounter_facts(session: Session, encounter: Encounter, looked: Looked | None = None) -> EncounterFacts:
    """``looked``: what finding the person's record read (``matching.Looked``), not read again."""
    history = earlier_encounters(
        session, encounter.person, encounter.occurred_at, before_id=encounter.id, looked=looked
    )
    return EncounterFacts(
        occurred_on=uk_date(encounter.occurred_at),
        # No offence (a referral without an arrest) matches no rule's offence list.
        offence_category=encounter.offence_category or "",
        date_of_birth=encounter.person.date_of_birth,
        gender=encounter.person.gender,
        setting=encounter.setting,
        offence_date=encounter.offence_date,
        drug_class=encounter.drug_class,
        personal_use=encounter.personal_use,
        supply_suspected=encounter.supply_suspected,
        admission=encounter.admission,
        hate_crime=encounter.hate_crime,
        domestic_abuse=encounter.domestic_abuse,
        lives_in_area=encounter.lives_in_area,
        offended_in_area=encounter.offended_in_area,
        on_court_order=encounter.on_court_order,
        co_accused=encounter.co_accused,
        vulnerabilities=frozenset(encounter.vulnerabilities or ()),
        history=_prior(session, history),
        answers=tuple(sorted((encounter.declared_facts or {}).items())),
    )


def _prior(session: Session, encounters: list[Encounter]) -> tuple[PriorEncounter, ...]:
    if not encounters:
        return ()
    rows = session.execute(
        select(Referral, Programme.code)
        .options(joinedload(Referral.programme_version))  # each case's state is read from its version
        .join(Programme, Programme.id == Referral.programme_id)
        .where(Referral.encounter_id.in_([e.id for e in encounters]))
    ).all()
    cases: dict[int, list[tuple[Referral, str]]] = defaultdict(list)
    for referral, code in rows:
        cases[referral.encounter_id].append((referral, code))
    prior = []
    for encounter in encounters:
        linked = cases.get(encounter.id, [])
        if not linked:
            prior.append(PriorEncounter(uk_date(encounter.occurred_at), encounter.offence_category or ""))
            continue
        for referral, code in linked:
            stage = compiled(referral.programme_version).state(referral.state).stage
            prior.append(
                PriorEncounter(
                    occurred_on=uk_date(encounter.occurred_at),
                    offence_category=encounter.offence_category or "",
                    programme=code,
                    diverted=stage in DIVERTED_STAGES,
                    outcome=referral.state,
                )
            )
    return tuple(prior)


def facts_to_dict(facts: EncounterFacts) -> dict[str, Any]:
    """The facts as stored beside a decision (JSON), so it can be replayed."""
    stored: dict[str, Any] = json.loads(json.dumps(asdict(facts), default=_json_value))
    if not stored["answers"]:
        del stored["answers"]  # no declared questions answered: stored as before definitions declared any
    return stored


def _json_value(value: object) -> object:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, frozenset):
        return sorted(value)
    raise TypeError(f"cannot store {type(value).__name__} in a decision's facts")

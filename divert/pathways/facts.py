"""Building the engine's facts from stored records, as they stood at the encounter's date."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import Encounter, Programme, Referral
from ..rules import EncounterFacts, PriorEncounter
from .matching import earlier_encounters
from .programmes import compiled

# A case whose state is in one of these stages was carried past the offer: the person was diverted.
DIVERTED_STAGES = frozenset({"route", "engagement", "completion", "outcome"})


def encounter_facts(session: Session, encounter: Encounter) -> EncounterFacts:
    history = earlier_encounters(session, encounter.person, encounter.occurred_at)
    return EncounterFacts(
        occurred_on=encounter.occurred_at.date(),
        offence_category=encounter.offence_category,
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
    )


def _prior(session: Session, encounters: list[Encounter]) -> tuple[PriorEncounter, ...]:
    if not encounters:
        return ()
    rows = session.execute(
        select(Referral, Programme.code)
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
            prior.append(PriorEncounter(encounter.occurred_at.date(), encounter.offence_category))
            continue
        for referral, code in linked:
            stage = compiled(referral.programme_version).state(referral.state).stage
            prior.append(
                PriorEncounter(
                    occurred_on=encounter.occurred_at.date(),
                    offence_category=encounter.offence_category,
                    programme=code,
                    diverted=stage in DIVERTED_STAGES,
                    outcome=referral.state,
                )
            )
    return tuple(prior)


def facts_to_dict(facts: EncounterFacts) -> dict[str, Any]:
    """The facts as stored beside a decision (JSON), so it can be replayed."""
    return {
        "occurred_on": facts.occurred_on.isoformat(),
        "offence_category": facts.offence_category,
        "date_of_birth": facts.date_of_birth.isoformat() if facts.date_of_birth else None,
        "gender": facts.gender,
        "setting": facts.setting,
        "offence_date": facts.offence_date.isoformat() if facts.offence_date else None,
        "drug_class": facts.drug_class,
        "personal_use": facts.personal_use,
        "supply_suspected": facts.supply_suspected,
        "admission": facts.admission,
        "hate_crime": facts.hate_crime,
        "domestic_abuse": facts.domestic_abuse,
        "lives_in_area": facts.lives_in_area,
        "offended_in_area": facts.offended_in_area,
        "on_court_order": facts.on_court_order,
        "co_accused": facts.co_accused,
        "vulnerabilities": sorted(facts.vulnerabilities),
        "history": [
            {
                "occurred_on": p.occurred_on.isoformat(),
                "offence_category": p.offence_category,
                "programme": p.programme,
                "diverted": p.diverted,
                "outcome": p.outcome,
            }
            for p in facts.history
        ],
    }


def facts_from_dict(data: dict[str, Any]) -> EncounterFacts:
    def day(value: str | None) -> date | None:
        return date.fromisoformat(value) if value else None

    return EncounterFacts(
        occurred_on=date.fromisoformat(data["occurred_on"]),
        offence_category=data["offence_category"],
        date_of_birth=day(data["date_of_birth"]),
        gender=data["gender"],
        setting=data["setting"],
        offence_date=day(data["offence_date"]),
        drug_class=data["drug_class"],
        personal_use=data["personal_use"],
        supply_suspected=data["supply_suspected"],
        admission=data["admission"],
        hate_crime=data["hate_crime"],
        domestic_abuse=data["domestic_abuse"],
        lives_in_area=data["lives_in_area"],
        offended_in_area=data["offended_in_area"],
        on_court_order=data["on_court_order"],
        co_accused=data["co_accused"],
        vulnerabilities=frozenset(data["vulnerabilities"]),
        history=tuple(
            PriorEncounter(
                occurred_on=date.fromisoformat(p["occurred_on"]),
                offence_category=p["offence_category"],
                programme=p["programme"],
                diverted=p["diverted"],
                outcome=p["outcome"],
            )
            for p in data["history"]
        ),
    )

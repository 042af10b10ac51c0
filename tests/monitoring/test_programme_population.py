"""Each programme's funnel starts from the encounters it is for (its definition's population), however
they were entered: the form decides an encounter under every programme the force runs, the import
under the one its row names; an adult theft is in neither drug scheme's base."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from divert.models import Decision, Programme
from divert.monitoring.query import Scope, count_points
from divert.pathways.cases import record_encounter
from divert.pathways.importing import import_file
from divert.pathways.programmes import PROGRAMMES_DIR, assign_operator, sync_definitions
from divert.rules import definition_from_dict, load_directory
from divert.rules.decision import decide
from divert.rules.definition import DefinitionError
from divert.rules.facts import EncounterFacts

from ..factories import create_encounter, create_person, create_user
from ..importing.helpers import row, to_csv

YOUTH, ADULT = "tvp-youth-drugs", "tvp-adult-drugs"
# Versions 4 (youth) and 3 (adult), the first with a population, are in force from April 2027.
MAY_2027 = datetime(2027, 5, 10, 14, 0, tzinfo=UTC)


def _base(session: Session, programme: str | None) -> int:
    rows = count_points(session, Scope("gender", "year", programme))
    return sum(r.counts["encountered"] for r in rows)


@pytest.fixture
def force(db_session: Session, org: Any) -> Any:
    sync_definitions(db_session)
    for code in (YOUTH, ADULT):
        programme = db_session.scalars(select(Programme).where(Programme.code == code)).one()
        assign_operator(db_session, programme, org.id, "police")
    return org


# (date of birth, offence, offended in the force area): who each is for
PINNED = {
    "youth possession": (date(2011, 1, 1), "drug_possession", True),
    "youth supply": (date(2011, 1, 2), "drug_supply", None),
    "youth theft": (date(2011, 1, 3), "theft", True),
    "adult possession": (date(1990, 1, 1), "drug_possession", None),
    "adult theft": (date(1990, 1, 2), "theft", True),
    "adult possession elsewhere": (date(1990, 1, 3), "drug_possession", False),
}


def _record_on_the_form(session: Session, org: Any) -> dict[str, int]:
    officer = create_user(session, "officer", org)
    ids = {}
    for name, (born, offence, in_area) in PINNED.items():
        person = create_person(session, org, date_of_birth=born, given_name=name.split()[0].title())
        encounter = create_encounter(
            session, person, org, occurred_at=MAY_2027, offence_category=offence, offended_in_area=in_area
        )
        record_encounter(session, officer, encounter)
        ids[name] = encounter.id
    return ids


def test_the_form_decides_under_every_programme_but_each_base_holds_only_its_population(
    db_session: Session, force: Any
) -> None:
    ids = _record_on_the_form(db_session, force)
    # The officer still sees every programme's decision, with its reasons.
    decided = db_session.execute(select(Decision.encounter_id, Decision.in_population)).all()
    assert len(decided) == 2 * len(PINNED)
    assert _base(db_session, YOUTH) == 2  # the youth possession and supply
    assert _base(db_session, ADULT) == 1  # the adult possession in the area (unrecorded counts in)
    # All programmes together: the union of the populations, each encounter once.
    assert _base(db_session, None) == 3
    theft = db_session.scalars(select(Decision).where(Decision.encounter_id == ids["adult theft"])).all()
    assert [d.in_population for d in theft] == [False, False]


def test_an_imported_encounter_joins_the_base_of_the_programme_it_is_for(
    db_session: Session, force: Any
) -> None:
    admin = create_user(db_session, "admin", force)
    rows = [
        row(
            encounter_ref="P-1",
            occurred_at="2027-05-10T14:00",
            programme=YOUTH,
            date_of_birth="2012-01-15",
            offence="drug_possession",
        ),
        # A youth programme row for an adult theft: decided (not eligible), but not in the youth base.
        row(
            encounter_ref="P-2",
            occurred_at="2027-05-10T15:00",
            programme=YOUTH,
            forenames="Sam",
            date_of_birth="1990-02-02",
            offence="theft",
        ),
    ]
    import_file(
        db_session, to_csv(rows), "pop.csv", organisation_id=force.id, actor=admin, today=date(2027, 6, 1)
    )
    assert _base(db_session, YOUTH) == 1
    assert _base(db_session, ADULT) == 0


def _definition(population: Any) -> dict[str, Any]:
    [youth] = [d for d in load_directory(PROGRAMMES_DIR) if d.code == YOUTH and d.version == 4]
    document = dict(youth.document or {})
    document["population"] = population
    return document


def test_a_population_condition_that_needs_an_unrecorded_fact_counts_the_encounter_in() -> None:
    youth = definition_from_dict(
        _definition({"description": "Youth", "all": ["age < 18", "offended_in_area"]})
    )
    facts = EncounterFacts(occurred_on=date(2027, 5, 10), offence_category="theft")
    assert decide(youth, facts).in_population  # no date of birth, no area: not dropped from the base
    adult = EncounterFacts(
        occurred_on=date(2027, 5, 10), offence_category="theft", date_of_birth=date(1990, 1, 1)
    )
    assert not decide(youth, adult).in_population  # the area unrecorded does not let an adult in


def test_a_broken_population_is_refused_with_its_field_path() -> None:
    with pytest.raises(DefinitionError) as error:
        definition_from_dict(_definition({"description": "Youth", "all": ["age <<< 18", 3]}))
    paths = [path for path, _ in error.value.problems]
    assert paths == ["population.all[0]", "population.all[1]"]
    with pytest.raises(DefinitionError) as empty:
        definition_from_dict(_definition({"all": []}))
    assert {path for path, _ in empty.value.problems} == {"population.description", "population.all"}

"""The kept journey rows follow every change to encounters, decisions and cases, and match a rebuild."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Connection, select
from sqlalchemy.orm import Session

from divert import session_factory
from divert.app import migrate
from divert.models import Decision, EncounterJourney, ProgrammeJourney
from divert.monitoring import journeys
from divert.pathways.cases import override_decision, transition
from divert.pathways.merge import merge_people
from divert.seeding.reference import load_reference_data

from ..database import scratch_database
from ..factories import create_person
from ..pathways.helpers import open_case, police_force, refer, staff
from . import dataset


def _snapshot(connection: Connection) -> dict[str, list[tuple[Any, ...]]]:
    return {
        model.__tablename__: [
            tuple(row)
            for row in connection.execute(
                select(model.__table__).order_by(*model.__table__.primary_key.columns)
            )
        ]
        for model in (ProgrammeJourney, EncounterJourney)
    }


def _encounter_row(session: Session, encounter_id: int) -> dict[str, int]:
    journeys.sync(session)
    row = session.get(EncounterJourney, encounter_id)
    assert row is not None
    session.refresh(row)
    return {name: getattr(row, name) for name in journeys.POINTS}


def test_a_case_moving_on_moves_its_journey(db_session: Session) -> None:
    force = police_force(db_session)
    officer = staff(db_session, "officer", force)
    case = open_case(db_session, "tvp-youth-drugs", officer)
    assert _encounter_row(db_session, case.encounter_id) == {
        "eligible": 1,
        **dict.fromkeys(("offered", "accepted", "engaged", "completed", "escalated", "formal_outcome"), 0),
        **dict.fromkeys(("decision_route", "diverted_again", "decision_formal"), 0),
    }
    refer(db_session, officer, case)
    row = _encounter_row(db_session, case.encounter_id)
    assert (row["offered"], row["accepted"], row["engaged"]) == (1, 1, 0)
    transition(db_session, staff(db_session, "yot_caseworker"), case, "engaged", "")
    transition(db_session, staff(db_session, "yot_caseworker"), case, "completed", "")
    row = _encounter_row(db_session, case.encounter_id)
    assert (row["engaged"], row["completed"], row["formal_outcome"]) == (1, 1, 0)
    journeys.sync(db_session)
    per_programme = db_session.get(ProgrammeJourney, (case.encounter_id, case.programme_id))
    assert per_programme is not None and per_programme.completed == 1


def test_an_override_and_a_merge_are_followed(db_session: Session) -> None:
    force = police_force(db_session)
    officer = staff(db_session, "officer", force)
    case = open_case(db_session, "tvp-adult-drugs", officer)
    decision = db_session.get(Decision, case.decision_id)
    assert decision is not None
    override_decision(
        db_session, staff(db_session, "supervisor", force), decision, eligible=False, route=None, reason="x"
    )
    assert _encounter_row(db_session, case.encounter_id)["eligible"] == 0

    survivor = create_person(db_session, family_name="Survivor")
    merge_people(db_session, staff(db_session, "supervisor", force), survivor, case.person, "Same person")
    journeys.sync(db_session)
    row = db_session.get(EncounterJourney, case.encounter_id)
    assert row is not None
    db_session.refresh(row)
    assert row.person_id == survivor.id


def test_kept_rows_match_a_rebuild(db_session: Session) -> None:
    dataset.load(db_session)
    force = police_force(db_session)
    officer = staff(db_session, "officer", force)
    refer(db_session, officer, open_case(db_session, "tvp-adult-drugs", officer))
    journeys.sync(db_session)
    connection = db_session.connection()
    kept = _snapshot(connection)
    assert kept["monitoring_encounters"], "the dataset should have left journey rows"
    journeys.rebuild_all(connection)
    assert _snapshot(connection) == kept


def test_the_migration_fills_the_rows_for_existing_data(tmp_path: Path) -> None:
    with scratch_database(tmp_path, "journeys") as (_, engine):
        migrate.upgrade(engine)
        with session_factory(engine)() as session:
            load_reference_data(session)
            dataset.load(session)
            session.commit()
        with engine.connect() as connection:
            kept = _snapshot(connection)
        assert kept["monitoring_journeys"]
        migrate.downgrade(engine, "0008")
        migrate.upgrade(engine)
        with engine.connect() as connection:
            assert _snapshot(connection) == kept


def test_a_rolled_back_transaction_leaves_nothing_pending(db_session: Session) -> None:
    force = police_force(db_session)
    officer = staff(db_session, "officer", force)
    first = open_case(db_session, "tvp-adult-drugs", officer)
    assert first.encounter_id in db_session.info[journeys.PENDING_NEW], "noted at the flush"
    nested = db_session.begin_nested()
    open_case(db_session, "tvp-adult-drugs", officer)
    nested.rollback()
    # A savepoint's rollback keeps the outer transaction's changes pending...
    assert first.encounter_id in db_session.info[journeys.PENDING]
    db_session.rollback()
    # ...the whole transaction's rollback forgets them.
    assert journeys.PENDING not in db_session.info and journeys.PENDING_NEW not in db_session.info

"""The kept journey rows follow every change to encounters, decisions and cases, and match a rebuild."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, select
from sqlalchemy.orm import Session

from divert import session_factory
from divert.app import migrate
from divert.models import Decision, Encounter, EncounterJourney, Person, ProgrammeJourney
from divert.monitoring import journeys
from divert.monitoring.query import Scope, age_band, count_points
from divert.pathways.anonymise import anonymise
from divert.pathways.cases import override_decision, transition
from divert.pathways.merge import merge_people, undo_merge
from divert.pathways.people import update_person
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


def _person_columns(session: Session, encounter_id: int) -> dict[str, tuple[Any, ...]]:
    """The person columns of an encounter's rows, as kept and as a rebuild works them out."""
    journeys.sync(session)
    connection = session.connection()

    def read() -> tuple[Any, ...]:
        rows = []
        for model in (EncounterJourney, ProgrammeJourney):
            table = model.__table__
            rows += connection.execute(
                select(*(table.c[name] for name in journeys.PERSON_COLUMNS))
                .where(table.c.encounter_id == encounter_id)
                .order_by(*table.primary_key.columns)
            ).all()
        return tuple(tuple(r) for r in rows)

    kept = read()
    journeys.rebuild_all(connection)
    return {"kept": kept, "rebuilt": read()}


def test_correcting_a_person_rewrites_their_rows_in_the_same_transaction(db_session: Session) -> None:
    force = police_force(db_session)
    officer = staff(db_session, "officer", force)
    case = open_case(db_session, "tvp-adult-drugs", officer)
    person = case.person
    before = _person_columns(db_session, case.encounter_id)
    assert before["kept"] == before["rebuilt"] and before["kept"][0][:3] == ("W1", None, "male")
    update_person(
        db_session,
        staff(db_session, "supervisor", force),
        person,
        {
            "self_defined_ethnicity": "B2",
            "officer_defined_ethnicity": "IC3",
            "gender": "female",
            "date_of_birth": date(1970, 1, 1),
        },
        person.version_id,
    )
    assert journeys.PENDING_PEOPLE in db_session.info, "noted at the flush, written before commit"
    after = _person_columns(db_session, case.encounter_id)
    assert after["kept"] == after["rebuilt"]
    assert {row[:3] for row in after["kept"]} == {("B2", "IC3", "female")}
    assert all(row[3] >= 50 for row in after["kept"]), after
    # A change to a field the figures do not use rewrites nothing.
    update_person(
        db_session, staff(db_session, "supervisor", force), person, {"given_name": "Sam"}, person.version_id
    )
    db_session.flush()
    assert not db_session.info.get(journeys.PENDING_PEOPLE)


def test_the_report_counts_a_correction_at_once(db_session: Session) -> None:
    org = dataset.load(db_session)
    force = police_force(db_session)
    scope = Scope("ethnicity_group", "year", dataset.P)

    def white() -> int:
        return sum(c.counts["encountered"] for c in count_points(db_session, scope) if c.group == "White")

    before = white()
    person = db_session.scalars(
        select(Person).where(Person.self_defined_ethnicity == "W1").order_by(Person.id)
    ).first()
    assert person is not None and org is not None
    update_person(
        db_session,
        staff(db_session, "supervisor", force),
        person,
        {"self_defined_ethnicity": "A1"},
        person.version_id,
    )
    # No commit: the report reads in the same transaction and sees the correction (query.tune syncs).
    assert white() == before - 1


def test_a_merge_filling_a_field_and_its_undoing_are_followed(db_session: Session) -> None:
    force = police_force(db_session)
    officer = staff(db_session, "officer", force)
    supervisor = staff(db_session, "supervisor", force)
    survivor = create_person(
        db_session, family_name="Survivor", gender="female", date_of_birth=date(1990, 1, 1)
    )
    survivor_case = open_case(db_session, "tvp-adult-drugs", officer, person=survivor)
    case = open_case(db_session, "tvp-adult-drugs", officer)
    case.person.officer_defined_ethnicity = "IC4"
    assert {row[1] for row in _person_columns(db_session, survivor_case.encounter_id)["kept"]} == {None}
    merge = merge_people(db_session, supervisor, survivor, case.person, "Same person")
    # The survivor took the duplicate's officer-defined ethnicity; both encounters' rows say so,
    # the moved one (now with the survivor's gender) and the survivor's own.
    for encounter_id in (case.encounter_id, survivor_case.encounter_id):
        columns = _person_columns(db_session, encounter_id)
        assert columns["kept"] == columns["rebuilt"]
        assert {row[1:3] for row in columns["kept"]} == {("IC4", "female")}
    undo_merge(db_session, supervisor, merge, "Not the same person after all")
    for encounter_id, expected in (
        (survivor_case.encounter_id, (None, "female")),
        (case.encounter_id, ("IC4", "male")),
    ):
        columns = _person_columns(db_session, encounter_id)
        assert columns["kept"] == columns["rebuilt"]
        assert {row[1:3] for row in columns["kept"]} == {expected}


def test_anonymising_keeps_the_rows_current(db_session: Session) -> None:
    force = police_force(db_session)
    officer = staff(db_session, "officer", force)
    # Aged 43 at the encounter: the band 36+ keeps 36, so the kept age must change.
    person = create_person(db_session, family_name="Old", date_of_birth=date(1983, 1, 1))
    case = open_case(db_session, "tvp-adult-drugs", officer, person=person)
    before = _person_columns(db_session, case.encounter_id)["kept"]
    assert {row[3] for row in before} == {43}, before
    anonymise(db_session, None, [case.person_id], "Past retention")
    columns = _person_columns(db_session, case.encounter_id)
    assert columns["kept"] == columns["rebuilt"]
    # Ethnicity and gender stay for the figures; the age is now the band's floor, in the same band.
    assert [row[:3] for row in columns["kept"]] == [row[:3] for row in before]
    ages = {(age_band(b[3]), age_band(a[3])) for b, a in zip(before, columns["kept"], strict=True)}
    assert all(b == a for b, a in ages), ages
    floor = db_session.scalar(select(Encounter.age_floor).where(Encounter.id == case.encounter_id))
    assert floor == 36 and {row[3] for row in columns["kept"]} == {floor}

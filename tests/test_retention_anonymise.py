"""Anonymisation keeps every monitoring figure and leaves nothing that identifies the person;
erasure removes them. Run on the demo data (a service in use), with one person given values no
one else has, so a search for them across every text column of every table means something."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import JSON, String, Text, cast, func, or_, select
from sqlalchemy.orm import Session

from divert.models import (
    AuditEntry,
    Base,
    CaseContact,
    ChangeRecord,
    Encounter,
    EncounterJourney,
    Person,
    ProgrammeJourney,
    Referral,
    ReferralEvent,
    User,
    audit,
)
from divert.monitoring.breakdowns import KINDS, count_all_reasons
from divert.monitoring.export import export
from divert.monitoring.points import DIMENSIONS
from divert.monitoring.query import Scope
from divert.monitoring.report import Options
from divert.pathways.anonymise import erase
from divert.pathways.people import update_person
from divert.pathways.retention import apply_due, retention_from_settings, review
from divert.queries.subject_access import subject_access
from divert.seeding.demo import load_settings, seed_demo

FAR = date(2100, 1, 1)
NAME = ("Quillon", "Zephyrine-Vantablack")
PNC = "2011/0999999Q"
BORN = date(1931, 2, 14)


def figures(session: Session) -> str:
    """Every monitoring figure the service publishes, for every breakdown: the CSV export and the
    reasons tables, as text to compare byte for byte."""
    out = io.StringIO()
    for dimension in DIMENSIONS:
        export(session, out, Scope(dimension, "quarter"), Options())
        for kind, rows in count_all_reasons(session, Scope(dimension, "month"), KINDS).items():
            out.write(f"{dimension} {kind} {rows!r}\n")
    return out.getvalue()


def text_columns() -> list[Any]:
    return [
        column
        for table in Base.metadata.sorted_tables
        for column in table.columns
        if isinstance(column.type, String | Text | JSON)
    ]


def mentions(session: Session, values: list[str]) -> list[str]:
    """Every (table.column) where any of ``values`` appears, case-blind, in any row."""
    found = []
    for column in text_columns():
        text = func.lower(cast(column, Text))
        hit = session.execute(
            select(func.count())
            .select_from(column.table)
            .where(or_(*(text.contains(v.lower(), autoescape=True) for v in values)))
        ).scalar_one()
        if hit:
            found.append(f"{column.table.name}.{column.name}")
    return found


@pytest.fixture
def world(app: Flask, db_session: Session) -> dict[str, Any]:
    # Fewer people than the demo's 300: enough for every programme, state and breakdown.
    seed_demo(db_session, settings={**load_settings(), "people": 120})
    supervisor = db_session.scalars(select(User).where(User.role == "supervisor").order_by(User.id)).first()
    assert supervisor is not None
    # A person of the supervisor's force whose every case has closed.
    closed = (
        select(Referral.person_id)
        .join(Person, Person.id == Referral.person_id)
        .where(Person.organisation_id == supervisor.organisation_id)
        .group_by(Referral.person_id)
        .having(func.count(Referral.closed_at) == func.count())
        .order_by(Referral.person_id)
    )
    person = db_session.get(Person, db_session.scalars(closed).first())
    assert person is not None
    audit.act_as(db_session, supervisor.id)
    old_name = (person.given_name, person.family_name)
    # A correction: the history keeps the old and new values, which must go too.
    update_person(
        db_session,
        supervisor,
        person,
        {"given_name": NAME[0], "family_name": NAME[1], "pnc_id": PNC, "date_of_birth": BORN,
         "postcode_district": "OX44"},
        person.version_id,
    )  # fmt: skip
    case = db_session.scalars(select(Referral).where(Referral.person_id == person.id)).first()
    assert case is not None
    encounter = db_session.get(Encounter, case.encounter_id)
    assert encounter is not None
    encounter.notes = f"{NAME[0]} said to call him Quill; PNC {PNC}"
    encounter.location = f"Outside {NAME[1]} House"
    db_session.add(
        ReferralEvent(
            referral_id=case.id, actor_id=supervisor.id, kind="note",
            reason=f"Met {NAME[0]} {NAME[1]} (born {BORN.isoformat()})", data={"visibility": "team"},
        )
    )  # fmt: skip
    db_session.add(
        CaseContact(
            referral_id=case.id, kind="session", scheduled_at=datetime(2026, 2, 1, 10, tzinfo=UTC),
            attendance="missed", missed_reason=f"{NAME[0]}'s mother was ill", notes="At 4 Zephyr Lane",
            recorded_by_id=supervisor.id,
        )
    )  # fmt: skip
    db_session.flush()
    # A search typed the name into the address bar; the audit trail kept the path.
    db_session.add(
        AuditEntry(
            user_id=supervisor.id, action="search", object_type="person",
            detail="search results; 1 shown", path=f"/people?q={NAME[1]}",
        )
    )  # fmt: skip
    db_session.flush()
    return {"person": person, "supervisor": supervisor, "old_name": old_name}


def test_anonymising_keeps_every_figure_and_leaves_nothing_that_identifies(
    app: Flask, db_session: Session, world: dict[str, Any]
) -> None:
    person, supervisor = world["person"], world["supervisor"]
    old_given = world["old_name"][0]
    values = [NAME[0], NAME[1], PNC, BORN.isoformat()]
    assert set(mentions(db_session, values)) >= {
        "people.given_name", "encounters.notes", "referral_events.reason", "change_history.new_value",
        "case_contacts.missed_reason", "audit_log.path",
    }  # fmt: skip
    before = figures(db_session)
    person_id = person.id

    retention = retention_from_settings(db_session, app.config)
    due = review(db_session, retention, FAR)
    assert person_id in due.ids()
    # Only what is due: nobody with an open case, and nothing yet on the day the demo was made.
    open_people = set(db_session.scalars(select(Referral.person_id).where(Referral.closed_at.is_(None))))
    assert open_people and not (set(due.ids()) & open_people)
    assert review(db_session, retention, date(2026, 12, 1)).ids() == []
    applied = apply_due(db_session, supervisor, retention, FAR, due.ids(), "Scheduled review 2100")
    assert applied.anonymised.people == len(due.ids("anonymise")) > 1
    db_session.flush()

    assert figures(db_session) == before
    assert mentions(db_session, values) == []
    db_session.expire_all()
    gone = db_session.get(Person, person_id)
    assert gone is not None and gone.anonymised_at is not None
    assert (gone.given_name, gone.date_of_birth, gone.pnc_id, gone.postcode_district) == (
        "Anonymised", None, None, "OX"
    )  # fmt: skip
    assert gone.age_band is not None
    # The journey rows are all still there, now with the age band the date of birth gave.
    journeys = db_session.scalars(
        select(ProgrammeJourney.age_floor).where(ProgrammeJourney.person_id == person_id)
    ).all()
    assert journeys and all(floor is not None for floor in journeys)
    # Audited: who, when, why, one entry per person.
    entry = db_session.scalars(
        select(AuditEntry).where(AuditEntry.action == "anonymise", AuditEntry.object_id == str(person_id))
    ).one()
    assert entry.user_id == supervisor.id and "Scheduled review 2100" in entry.detail and entry.at
    # Nothing of the demo people anonymised with them is left either: their PNC IDs, for one.
    db_session.flush()
    assert review(db_session, retention, FAR).ids() == []

    # The person's field history keeps no old value, and says the record was anonymised.
    history = db_session.execute(
        select(ChangeRecord.field, ChangeRecord.old_value, ChangeRecord.new_value).where(
            ChangeRecord.object_type == "person", ChangeRecord.object_id == person_id,
            ChangeRecord.field.in_(["given_name", "(record)"]),
        )
    ).all()  # fmt: skip
    given = [(o, n) for f, o, n in history if f == "given_name"]
    assert len(given) == 2 and {n for _, n in given} == {"[removed]"} and "[removed]" in {o for o, _ in given}
    assert old_given not in {v for _, o, n in history for v in (o, n)}
    assert [n for f, _, n in history if f == "(record)"] == ["anonymised"]

    # The subject access export says the record was anonymised.
    export_ = subject_access(db_session, supervisor, gone)
    assert export_["person"]["anonymised_at"] is not None
    assert "anonymised" in export_["person"]["note"].lower()


def test_erasure_removes_the_person_and_everything_of_theirs(
    db_session: Session, world: dict[str, Any]
) -> None:
    person, supervisor = world["person"], world["supervisor"]
    person_id = person.id
    encounter_ids = list(db_session.scalars(select(Encounter.id).where(Encounter.person_id == person_id)))
    erase(db_session, supervisor, [person_id], "Court order 123")
    db_session.flush()
    assert db_session.get(Person, person_id) is None
    assert not db_session.scalars(select(Encounter).where(Encounter.id.in_(encounter_ids))).all()
    assert not db_session.scalars(
        select(EncounterJourney).where(EncounterJourney.encounter_id.in_(encounter_ids))
    ).all()
    assert mentions(db_session, [NAME[0], NAME[1], PNC, BORN.isoformat()]) == []
    entry = db_session.scalars(
        select(AuditEntry).where(AuditEntry.action == "erase", AuditEntry.object_id == str(person_id))
    ).one()
    assert entry.user_id == supervisor.id and entry.detail == "Court order 123"

"""Model behaviour: UTC timestamps, name keys, append-only tables, field history, optimistic locking."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from divert import register_session_hooks
from divert.app.extensions import db
from divert.models import AuditEntry, ChangeRecord, Person, ReferralEvent
from divert.models.guards import AppendOnlyViolation
from divert.models.person import normalise_name

from .factories import create_encounter, create_organisation, create_person, create_user


def test_timestamps_come_back_as_utc(db_session: Session) -> None:
    org = create_organisation(db_session)
    person = create_person(db_session)
    encounter = create_encounter(db_session, person, org)
    db_session.expire_all()
    loaded = db_session.get(type(encounter), encounter.id)
    assert loaded is not None
    assert loaded.occurred_at == datetime(2026, 3, 1, 14, 30, tzinfo=UTC)
    assert loaded.occurred_at.tzinfo is not None
    assert person.created_at.tzinfo is not None


def test_naive_datetimes_are_refused(db_session: Session) -> None:
    org = create_organisation(db_session)
    person = create_person(db_session)
    with pytest.raises(Exception, match="naive datetime"):
        create_encounter(db_session, person, org, occurred_at=datetime(2026, 3, 1, 14, 30))


@pytest.mark.parametrize(
    ("raw", "key"),
    [("  O'Brien ", "obrien"), ("ZOË", "zoe"), ("Mary-Jane", "maryjane"), ("van  der Berg", "van der berg")],
)
def test_name_keys_ignore_case_accents_and_punctuation(raw: str, key: str) -> None:
    assert normalise_name(raw) == key


def test_person_keeps_normalised_keys_and_pnc(db_session: Session) -> None:
    person = create_person(db_session, given_name="Zoë", family_name="O'Neil", pnc_id=" 12/345678a ")
    assert (person.given_name_key, person.family_name_key, person.pnc_id) == ("zoe", "oneil", "12/345678A")


def test_every_change_to_a_person_is_kept(db_session: Session) -> None:
    db_session.info["actor_id"] = None
    person = create_person(db_session, postcode_district="OX4")
    person.postcode_district = "RG1"
    person.gender = "not_stated"
    db_session.flush()
    changes = db_session.scalars(
        select(ChangeRecord).where(ChangeRecord.object_type == "person", ChangeRecord.object_id == person.id)
    ).all()
    updates = {(c.field, c.old_value, c.new_value) for c in changes if c.old_value is not None}
    assert updates == {("postcode_district", "OX4", "RG1"), ("gender", "male", "not_stated")}
    created = {c.field for c in changes if c.old_value is None}
    assert {"given_name", "family_name", "date_of_birth", "postcode_district"} <= created


def test_history_names_the_actor(db_session: Session) -> None:
    user = create_user(db_session)
    db_session.info["actor_id"] = user.id
    person = create_person(db_session)
    person.family_name = "Changed"
    db_session.flush()
    change = db_session.scalars(
        select(ChangeRecord)
        .where(ChangeRecord.field == "family_name", ChangeRecord.object_id == person.id)
        .order_by(ChangeRecord.id.desc())
    ).first()
    assert change is not None and change.user_id == user.id and change.new_value == "Changed"


def test_audit_entries_cannot_be_changed_or_deleted(db_session: Session) -> None:
    entry = AuditEntry(action="view", object_type="person", object_id="1")
    db_session.add(entry)
    db_session.flush()
    entry.detail = "tampered"
    with pytest.raises(AppendOnlyViolation):
        db_session.flush()
    db_session.rollback()
    db_session.add(entry2 := AuditEntry(action="view", object_type="person", object_id="2"))
    db_session.flush()
    db_session.delete(entry2)
    with pytest.raises(AppendOnlyViolation):
        db_session.flush()


def test_referral_events_are_append_only() -> None:
    assert ReferralEvent.__append_only__ is True
    assert ChangeRecord.__append_only__ is True


def test_two_editors_cannot_overwrite_each_other(app: object, db_session: Session) -> None:
    person = create_person(db_session)
    db_session.commit()  # releases the test's savepoint so a second session can load the row
    other: Session = db.factory()
    try:
        theirs = other.get(Person, person.id)
        assert theirs is not None
        theirs.family_name = "Theirs"
        other.commit()
        person.family_name = "Mine"
        with pytest.raises(StaleDataError):
            db_session.flush()
    finally:
        other.close()


def test_the_hooks_are_on_the_app_factory_once(app: object, db_session: Session) -> None:
    # create_app has run for the tests; making another app (or registering again) must not write
    # each change twice.
    register_session_hooks(db.factory)
    person = create_person(db_session, postcode_district="OX4")
    person.postcode_district = "RG1"
    db_session.flush()
    moves = db_session.scalars(
        select(ChangeRecord).where(
            ChangeRecord.object_id == person.id,
            ChangeRecord.object_type == "person",
            ChangeRecord.field == "postcode_district",
        )
    ).all()
    assert [(c.old_value, c.new_value) for c in moves] == [(None, "OX4"), ("OX4", "RG1")]


def test_a_session_made_outside_the_app_factory_has_no_hooks(db_session: Session) -> None:
    # A bare Session shares the connection but not the factory's listeners: nothing is guarded.
    bare = Session(bind=db_session.connection())
    entry = AuditEntry(action="view", object_type="person", object_id="3")
    bare.add(entry)
    bare.flush()
    entry.detail = "changed by a session the app did not make"
    bare.flush()
    assert db_session.scalar(select(AuditEntry.detail).where(AuditEntry.id == entry.id)) == entry.detail
    bare.close()

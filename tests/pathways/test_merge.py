"""Merging duplicate person records, and undoing the merge exactly."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from divert.models import (
    AuditEntry,
    ChangeRecord,
    Encounter,
    Organisation,
    Person,
    Programme,
    ProgrammeVersion,
    Referral,
    User,
)
from divert.pathways.errors import OperationError
from divert.pathways.matching import earlier_encounters
from divert.pathways.merge import merge_people, undo_merge

from ..factories import create_encounter, create_person

_references = itertools.count(1)


def create_referral(session: Session, encounter: Encounter) -> Referral:
    programme = Programme(code=f"merge-test-{next(_references)}", name="Test programme")
    version = ProgrammeVersion(
        programme=programme, version=1, effective_from=date(2026, 1, 1), content_hash="0" * 64, definition={}
    )
    referral = Referral(
        reference=f"MRG-{next(_references)}",
        person_id=encounter.person_id,
        encounter=encounter,
        programme=programme,
        programme_version=version,
        state="referred",
    )
    session.add(referral)
    session.flush()
    return referral


def at(day: int, month: int = 1) -> datetime:
    return datetime(2026, month, day, 9, 0, tzinfo=UTC)


@pytest.fixture
def actor(db_session: Session, make_user: Any) -> User:
    user: User = make_user("supervisor")
    db_session.info["actor_id"] = user.id  # what the request does for the session hooks
    return user


@pytest.fixture
def pair(db_session: Session, org: Organisation) -> dict[str, Any]:
    survivor = create_person(db_session, given_name="Alex", family_name="Smith", postcode_district="OX4")
    duplicate = create_person(
        db_session,
        given_name="Alex",
        family_name="Smyth",
        pnc_id="12/345678A",
        postcode_district="RG1",
        officer_defined_ethnicity="IC1",
    )
    kept = create_encounter(db_session, survivor, org, occurred_at=at(1))
    moved = [create_encounter(db_session, duplicate, org, occurred_at=at(n)) for n in (2, 3)]
    referral = create_referral(db_session, moved[0])
    return {"survivor": survivor, "duplicate": duplicate, "kept": kept, "moved": moved, "referral": referral}


def audit_details(session: Session, person: Person) -> list[str]:
    entries = session.scalars(
        select(AuditEntry)
        .where(AuditEntry.object_type == "person", AuditEntry.object_id == str(person.id))
        .order_by(AuditEntry.id)
    )
    return [e.detail for e in entries]


def test_merge_moves_everything_and_records_what_moved(
    db_session: Session, actor: User, pair: dict[str, Any]
) -> None:
    survivor, duplicate = pair["survivor"], pair["duplicate"]
    merge = merge_people(db_session, actor, survivor, duplicate, "  Same person, typo in surname  ")
    db_session.expire_all()
    moved_ids = sorted(e.id for e in pair["moved"])
    assert merge.moved == {
        "encounters": moved_ids,
        "referrals": [pair["referral"].id],
        "filled": {"pnc_id": "12/345678A", "officer_defined_ethnicity": "IC1"},
    }
    assert (merge.survivor_id, merge.merged_id, merge.merged_by_id) == (survivor.id, duplicate.id, actor.id)
    assert merge.reason == "Same person, typo in surname"
    assert merge.merged_at.tzinfo is not None
    assert duplicate.merged_into_id == survivor.id
    on_survivor = db_session.scalars(select(Encounter.id).where(Encounter.person_id == survivor.id)).all()
    assert sorted(on_survivor) == sorted([pair["kept"].id, *moved_ids])
    assert pair["referral"].person_id == survivor.id
    # Empty fields are filled; recorded ones are kept.
    assert (survivor.pnc_id, survivor.officer_defined_ethnicity, survivor.postcode_district) == (
        "12/345678A",
        "IC1",
        "OX4",
    )
    assert audit_details(db_session, survivor) == [
        f"merge {merge.id}: took in person {duplicate.id}: 2 encounter(s), 1 referral(s); "
        "filled pnc_id, officer_defined_ethnicity"
    ]
    assert audit_details(db_session, duplicate) == [f"merge {merge.id}: merged into person {survivor.id}"]
    assert [e.id for e in earlier_encounters(db_session, survivor, at(10))] == sorted(
        [pair["kept"].id, *moved_ids]
    )


def test_moved_rows_keep_their_field_history(db_session: Session, actor: User, pair: dict[str, Any]) -> None:
    survivor, duplicate = pair["survivor"], pair["duplicate"]
    before = db_session.scalar(select(func.max(ChangeRecord.id))) or 0
    merge_people(db_session, actor, survivor, duplicate, "Same person")
    changes = db_session.scalars(
        select(ChangeRecord).where(
            ChangeRecord.object_type.in_(["encounter", "referral"]), ChangeRecord.field == "person_id"
        )
    ).all()
    moved = {
        (c.object_type, c.object_id, c.old_value, c.new_value, c.user_id) for c in changes if c.old_value
    }
    assert moved == {
        ("encounter", pair["moved"][0].id, str(duplicate.id), str(survivor.id), actor.id),
        ("encounter", pair["moved"][1].id, str(duplicate.id), str(survivor.id), actor.id),
        ("referral", pair["referral"].id, str(duplicate.id), str(survivor.id), actor.id),
    }
    person_changes = db_session.scalars(
        select(ChangeRecord.field).where(
            ChangeRecord.object_type == "person",
            ChangeRecord.object_id == duplicate.id,
            ChangeRecord.old_value.is_(None),
            ChangeRecord.new_value == str(survivor.id),
            # The merge's, not the record's creation (whose holder's id may equal the survivor's).
            ChangeRecord.id > before,
        )
    ).all()
    assert person_changes == ["merged_into_id"]


def test_undo_puts_back_exactly_what_moved(
    db_session: Session, actor: User, org: Organisation, pair: dict[str, Any]
) -> None:
    survivor, duplicate = pair["survivor"], pair["duplicate"]
    merge = merge_people(db_session, actor, survivor, duplicate, "Same person")
    later = create_encounter(db_session, survivor, org, occurred_at=at(20))
    elsewhere = create_person(db_session, given_name="Someone", family_name="Else")
    pair["moved"][1].person = elsewhere  # corrected by hand since the merge: left where it is
    survivor.officer_defined_ethnicity = "IC2"  # changed since the merge: not the merge's to undo
    db_session.flush()

    undo_merge(db_session, actor, merge, "  Twins, not one person ")
    db_session.expire_all()
    assert duplicate.merged_into_id is None
    assert pair["moved"][0].person_id == duplicate.id
    assert pair["moved"][1].person_id == elsewhere.id
    assert later.person_id == survivor.id
    assert pair["kept"].person_id == survivor.id
    assert pair["referral"].person_id == duplicate.id
    assert (survivor.pnc_id, survivor.officer_defined_ethnicity) == (None, "IC2")
    assert duplicate.pnc_id == "12/345678A"
    assert merge.undone_at is not None
    assert (merge.undone_by_id, merge.undo_reason) == (actor.id, "Twins, not one person")
    assert (
        audit_details(db_session, survivor)[-1]
        == f"merge {merge.id} undone: 2 record(s) moved back; cleared pnc_id"
    )
    assert audit_details(db_session, duplicate)[-1] == f"merge {merge.id} undone"
    assert [e.id for e in earlier_encounters(db_session, survivor, at(30))] == [pair["kept"].id, later.id]


def test_undo_can_only_happen_once(db_session: Session, actor: User, pair: dict[str, Any]) -> None:
    merge = merge_people(db_session, actor, pair["survivor"], pair["duplicate"], "Same person")
    with pytest.raises(OperationError, match=r"^Enter a reason for undoing this merge$"):
        undo_merge(db_session, actor, merge, "   ")
    undo_merge(db_session, actor, merge, "Mistake")
    with pytest.raises(OperationError, match=r"^This merge has already been undone$"):
        undo_merge(db_session, actor, merge, "Again")


def test_undo_waits_for_a_later_merge_of_the_survivor(
    db_session: Session, actor: User, pair: dict[str, Any]
) -> None:
    first = merge_people(db_session, actor, pair["survivor"], pair["duplicate"], "Same person")
    final = create_person(db_session, given_name="Alexander", family_name="Smith")
    second = merge_people(db_session, actor, final, pair["survivor"], "Same person again")
    with pytest.raises(OperationError, match="undo that merge first"):
        undo_merge(db_session, actor, first, "Mistake")
    undo_merge(db_session, actor, second, "Mistake")
    undo_merge(db_session, actor, first, "Mistake")
    assert pair["moved"][0].person_id == pair["duplicate"].id


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("no reason", r"^Enter a reason for merging these records$"),
        ("itself", r"^Select a different record – a record cannot be merged into itself$"),
        ("duplicate merged", r"^Alex Smyth’s record has already been merged into another record$"),
        (
            "survivor merged",
            "^Alex Smith’s record has been merged into another record – merge into that record",
        ),
        (
            "different PNC",
            r"different PNC IDs \(99/999999Z and 12/345678A\), so they are recorded as different",
        ),
    ],
)
def test_merge_refusals(
    db_session: Session, actor: User, pair: dict[str, Any], case: str, message: str
) -> None:
    survivor, duplicate = pair["survivor"], pair["duplicate"]
    reason = "" if case == "no reason" else "Same person"
    if case == "itself":
        duplicate = survivor
    if case == "duplicate merged":
        merge_people(db_session, actor, create_person(db_session, given_name="Third"), duplicate, "Same")
    if case == "survivor merged":
        merge_people(db_session, actor, create_person(db_session, given_name="Third"), survivor, "Same")
    if case == "different PNC":
        survivor.pnc_id = "99/999999Z"
    moved_before = db_session.scalars(select(Encounter.person_id).order_by(Encounter.id)).all()
    with pytest.raises(OperationError, match=message):
        merge_people(db_session, actor, survivor, duplicate, reason)
    assert db_session.scalars(select(Encounter.person_id).order_by(Encounter.id)).all() == moved_before


def test_a_date_of_birth_filled_by_a_merge_is_cleared_on_undo(
    db_session: Session, actor: User, org: Organisation
) -> None:
    survivor = create_person(db_session, date_of_birth=None)
    duplicate = create_person(db_session, date_of_birth=date(2009, 5, 1))
    merge = merge_people(db_session, actor, survivor, duplicate, "Same person")
    assert merge.moved["filled"] == {"date_of_birth": "2009-05-01"}
    assert survivor.date_of_birth == date(2009, 5, 1)
    undo_merge(db_session, actor, merge, "Mistake")
    assert survivor.date_of_birth is None

"""Two forces meeting one person through the pages and the import hold two records.

Issue 12, findings 1, 2 and 11: recording force A's person's name and date of birth from force B's
form, B's possible matches, B's supervisor's merges, B's edits and B's import never reach A's
record; a receiving YOT sees only the case it is party to; a stale edit is 409.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from divert.models import Encounter, Person, PersonMerge, Programme
from divert.pathways.importing import import_file
from divert.pathways.programmes import assign_operator, sync_definitions

from .client import form_fields, parse
from .factories import PASSWORD, create_encounter, create_organisation, create_person, create_user
from .importing.helpers import row, to_csv

BORN = date(2010, 2, 14)


@pytest.fixture
def forces(db_session: Session, org: Any) -> tuple[Any, Any]:
    """Force A (the ``org`` fixture) and force B, both running the youth drugs scheme."""
    sync_definitions(db_session)
    force_b = create_organisation(db_session, name="Second Police", kind="police_force")
    youth = db_session.scalars(select(Programme).where(Programme.code == "tvp-youth-drugs")).one()
    for force in (org, force_b):
        assign_operator(db_session, youth, force.id, "police")
    return org, force_b


def _as(client: Any, db_session: Session, role: str, organisation: Any) -> Any:
    if client.get("/home").status_code == 200:
        client.submit("/sign-out", {}, token_from="/home")
    user = create_user(db_session, role, organisation)
    assert client.sign_in(user.email, PASSWORD).status_code == 302
    return user


def _a_person(db_session: Session, force: Any, **fields: Any) -> Person:
    person = create_person(
        db_session,
        force,
        **{
            "given_name": "Jordan",
            "family_name": "Reeve",
            "date_of_birth": BORN,
            "pnc_id": "10/123456R",
            **fields,
        },
    )
    create_encounter(db_session, person, force)
    return person


def _record(client: Any, **changes: Any) -> Any:
    data = {
        "given_name": "Jordan",
        "family_name": "Reeve",
        "date_of_birth": [str(BORN.day), str(BORN.month), str(BORN.year)],
        "gender": "male",
        "self_defined_ethnicity": "M1",
        "setting": "street",
        "offence_category": "drug_possession",
        "personal_use": "yes",
        "supply_suspected": "no",
        "admission": "admitted",
        **changes,
    }
    prefilled = form_fields(parse(client.get("/encounters/new")).select_one("main form"))
    response = client.post("/encounters/new", data={**prefilled, **data})
    assert response.status_code == 302, parse(response).select_one(".govuk-error-summary")
    return response


def test_recording_anothers_person_from_the_form_makes_a_record_of_ones_own(
    client: Any, db_session: Session, forces: tuple[Any, Any]
) -> None:
    force_a, force_b = forces
    theirs = _a_person(db_session, force_a)
    _as(client, db_session, "officer", force_b)
    page = parse(client.get(_record(client).headers["Location"]))
    mine = db_session.scalars(select(Person).where(Person.organisation_id == force_b.id)).one()
    assert mine.id != theirs.id
    # A's person is not offered as a possible match, nor linked, nor named.
    assert f"/people/{theirs.id}" not in str(page)
    assert "10/123456R" not in page.text
    # Nor does B's form find A's record by its PNC ID under another name.
    _record(client, given_name="Someone", family_name="Else", pnc_id="10/123456R")
    db_session.expire_all()
    assert {
        e.organisation_id
        for e in db_session.scalars(select(Encounter).where(Encounter.person_id == theirs.id))
    } == {force_a.id}
    assert client.get(f"/encounters/new?person={theirs.id}").status_code == 404


def test_another_forces_person_cannot_be_seen_edited_or_merged(
    client: Any, db_session: Session, forces: tuple[Any, Any]
) -> None:
    force_a, force_b = forces
    theirs = _a_person(db_session, force_a)
    mine = _a_person(db_session, force_b, family_name="Reeves", pnc_id=None)
    _as(client, db_session, "supervisor", force_b)
    assert client.get(f"/people/{theirs.id}").status_code == 404
    assert client.get(f"/people/{theirs.id}/edit").status_code == 404
    edit = client.submit(
        f"/people/{theirs.id}/edit",
        {"given_name": "Taken", "family_name": "Over", "version_id": str(theirs.version_id)},
        token_from=f"/people/{mine.id}/edit",
    )
    assert edit.status_code == 404
    assert client.get(f"/people/{theirs.id}/matches").status_code == 404
    # B's own record's possible matches are B's records only: A's near-identical person is not one.
    page = parse(client.get(f"/people/{mine.id}/matches"))
    assert page.select("#duplicate_id label") == []
    assert "10/123456R" not in page.text and f"/people/{theirs.id}" not in str(page)
    merge = client.submit(
        f"/people/{mine.id}/matches", {"duplicate_id": str(theirs.id), "reason": "Same person"}
    )
    assert merge.status_code == 400
    assert "Select one of the possible matches listed" in parse(merge).text
    db_session.expire_all()
    assert db_session.scalars(select(PersonMerge)).all() == []
    kept = db_session.get_one(Person, theirs.id)
    assert (kept.given_name, kept.merged_into_id) == ("Jordan", None)
    # A's supervisor still finds A's own likely duplicate.
    twin = _a_person(db_session, force_a, family_name="Reeves", pnc_id=None)
    _as(client, db_session, "supervisor", force_a)
    labels = [
        label.text
        for label in parse(client.get(f"/people/{theirs.id}/matches")).select("#duplicate_id label")
    ]
    assert len(labels) == 1 and "Jordan Reeves" in labels[0]
    assert twin.id != mine.id


def test_a_receiving_yot_sees_its_case_but_not_the_forces_other_encounters_nor_edits(
    client: Any, db_session: Session, forces: tuple[Any, Any]
) -> None:
    from divert.pathways.cases import offer, record_encounter, respond

    force_a, _ = forces
    yot = create_organisation(db_session, kind="yot")
    youth = db_session.scalars(select(Programme).where(Programme.code == "tvp-youth-drugs")).one()
    assign_operator(db_session, youth, yot.id, "receiving", "yot")
    officer = create_user(db_session, "officer", force_a)
    person = create_person(db_session, force_a, given_name="Robin", family_name="Case", date_of_birth=BORN)
    earlier = create_encounter(
        db_session, person, force_a, offence_category="theft", drug_class=None, personal_use=None
    )
    encounter = create_encounter(db_session, person, force_a)
    (outcome,) = [o for o in record_encounter(db_session, officer, encounter) if o.referral]
    offer(db_session, officer, outcome.referral, True)
    respond(db_session, officer, outcome.referral, True)

    _as(client, db_session, "yot_caseworker", yot)
    page = parse(client.get(f"/people/{person.id}"))
    assert page.h1 is not None
    assert outcome.referral.reference in page.text
    rows = page.select("table tbody tr")
    assert len(rows) == 1 and "Theft" not in rows[0].text
    assert "Change details" not in page.text
    assert client.get(f"/people/{person.id}/edit").status_code == 403  # the role may not edit anyone
    _as(client, db_session, "admin", yot)  # nor may the YOT's own administrator edit the force's record
    assert client.get(f"/people/{person.id}/edit").status_code == 404
    assert earlier.id  # the force's other encounter, not shown above


def test_a_stale_person_edit_is_409_with_what_changed(
    client: Any, db_session: Session, forces: tuple[Any, Any]
) -> None:
    force_a, _ = forces
    person = _a_person(db_session, force_a)
    _as(client, db_session, "officer", force_a)
    form = form_fields(parse(client.get(f"/people/{person.id}/edit")).select_one("main form"))
    first = client.post(
        f"/people/{person.id}/edit",
        data={**form, "postcode_district": "OX1", "gender": "male", "self_defined_ethnicity": "W1"},
    )
    assert first.status_code == 302
    second = client.post(
        f"/people/{person.id}/edit",
        data={**form, "postcode_district": "OX2", "gender": "male", "self_defined_ethnicity": "W1"},
    )
    assert second.status_code == 409
    assert "They changed: postcode district" in parse(second).text


def test_a_pnc_id_another_record_holds_is_refused_on_edit(
    client: Any, db_session: Session, forces: tuple[Any, Any]
) -> None:
    force_a, _ = forces
    _a_person(db_session, force_a)
    other = _a_person(db_session, force_a, given_name="Sam", family_name="Other", pnc_id=None)
    _as(client, db_session, "officer", force_a)
    form = form_fields(parse(client.get(f"/people/{other.id}/edit")).select_one("main form"))
    response = client.post(
        f"/people/{other.id}/edit",
        data={**form, "pnc_id": "10/123456R", "gender": "male", "self_defined_ethnicity": "W1"},
    )
    assert response.status_code == 400
    assert "has PNC ID 10/123456R" in parse(response).text


def test_the_import_matches_only_the_importing_forces_records(
    db_session: Session, forces: tuple[Any, Any]
) -> None:
    force_a, force_b = forces
    theirs = _a_person(db_session, force_a, pnc_id="09/123456Z", date_of_birth=date(2009, 1, 15))
    admin_b = create_user(db_session, "admin", force_b)
    rows = [
        row(encounter_ref="B-1", pnc_id="09/123456Z", forenames="Someone", surname="Else"),
        row(encounter_ref="B-2", forenames="Jordan", surname="Reeve", date_of_birth="2009-01-15"),
        row(encounter_ref="B-3", forenames="!!!", surname="???", date_of_birth="2009-01-15"),
        row(encounter_ref="B-4", forenames="!!!", surname="???", date_of_birth="2009-01-15"),
    ]
    result = import_file(db_session, to_csv(rows), "b.csv", organisation_id=force_b.id, actor=admin_b)
    # B-2's name and date of birth are A's person's too, but A's record is not B's to match.
    assert (result.people_created, result.people_matched) == (4, 0)
    people = {
        e.external_ref: e.person
        for e in db_session.scalars(select(Encounter).where(Encounter.organisation_id == force_b.id))
    }
    assert theirs.id not in {p.id for p in people.values()}
    assert {p.organisation_id for p in people.values()} == {force_b.id}
    assert people["B-3"].id != people["B-4"].id  # names of only symbols match nothing
    # The same file imported by A finds A's record by its PNC ID.
    admin_a = create_user(db_session, "admin", force_a)
    again = import_file(db_session, to_csv(rows[:1]), "a.csv", organisation_id=force_a.id, actor=admin_a)
    assert (again.people_created, again.people_matched) == (0, 1)

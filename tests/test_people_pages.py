"""Finding, viewing and correcting a person: scoping, audit, history, locking, GOV.UK errors."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from divert.models import AuditEntry, ChangeRecord

from .client import form_fields, parse
from .factories import create_encounter, create_organisation, create_person


def _person_seen_by(db_session: Session, org: Any, **fields: Any) -> Any:
    person = create_person(db_session, **fields)
    create_encounter(db_session, person, org)
    return person


def test_search_finds_only_people_my_organisation_dealt_with(
    client: Any, signed_in: Any, org: Any, db_session: Session
) -> None:
    user = signed_in("officer")
    mine = _person_seen_by(db_session, org, family_name="Okafor", given_name="Ada")
    _person_seen_by(db_session, create_organisation(db_session), family_name="Okafor", given_name="Ben")
    page = parse(client.get("/people?q=okaf"))
    names = [a.text for a in page.select("table a")]
    assert names == ["Ada Okafor"]
    assert page.h2.text.startswith("1 result")
    assert client.get(f"/people/{mine.id}").status_code == 200
    search = db_session.scalars(
        select(AuditEntry).where(AuditEntry.action == "search", AuditEntry.user_id == user.id)
    ).all()
    assert len(search) == 1


def test_someone_elses_person_is_not_found(client: Any, signed_in: Any, db_session: Session) -> None:
    signed_in("officer")
    theirs = _person_seen_by(db_session, create_organisation(db_session))
    assert client.get(f"/people/{theirs.id}").status_code == 404


def test_viewing_a_person_is_audited(client: Any, signed_in: Any, org: Any, db_session: Session) -> None:
    user = signed_in("yot_caseworker")
    person = _person_seen_by(db_session, org)
    client.get(f"/people/{person.id}")
    entry = db_session.scalars(select(AuditEntry).where(AuditEntry.action == "view")).one()
    assert (entry.user_id, entry.object_type, entry.object_id) == (user.id, "person", str(person.id))
    assert entry.ip_address == "127.0.0.1" and entry.path.startswith(f"/people/{person.id}")


def test_ethnicity_is_shown_only_to_roles_that_need_it(
    client: Any, signed_in: Any, org: Any, db_session: Session
) -> None:
    person = _person_seen_by(db_session, org, self_defined_ethnicity="B2")
    signed_in("yot_caseworker")
    assert "Ethnicity" not in parse(client.get(f"/people/{person.id}")).text
    client.submit("/sign-out", {})
    signed_in("officer")
    assert "Black – African" in parse(client.get(f"/people/{person.id}")).text


def test_correcting_a_person_records_history(
    client: Any, signed_in: Any, org: Any, db_session: Session
) -> None:
    user = signed_in("officer")
    person = _person_seen_by(db_session, org, postcode_district="OX4")
    form = parse(client.get(f"/people/{person.id}/edit")).select_one("main form")
    data = form_fields(form)
    data.update(
        {
            "gender": "male",
            "self_defined_ethnicity": "W1",
            "officer_defined_ethnicity": "",
            "postcode_district": "rg1",
        }
    )
    response = client.submit(f"/people/{person.id}/edit", data, token_from=f"/people/{person.id}/edit")
    assert response.status_code == 302
    page = parse(client.get(f"/people/{person.id}"))
    rows = [[td.text for td in tr.select("td")] for tr in page.select("[data-testid=history] tbody tr")]
    assert ["Postcode district", "OX4", "RG1"] in [r[1:] for r in rows]
    change = db_session.scalars(
        select(ChangeRecord).where(ChangeRecord.field == "postcode_district", ChangeRecord.old_value == "OX4")
    ).one()
    assert change.user_id == user.id
    assert db_session.scalars(select(AuditEntry).where(AuditEntry.action == "update")).one().object_id == str(
        person.id
    )


def test_bad_input_gets_specific_errors_and_changes_nothing(
    client: Any, signed_in: Any, org: Any, db_session: Session
) -> None:
    signed_in("officer")
    person = _person_seen_by(db_session, org, postcode_district="OX4")
    data = {
        "given_name": "",
        "family_name": "Example",
        "date_of_birth": ["31", "2", "2009"],
        "pnc_id": "nonsense",
        "gender": "male",
        "self_defined_ethnicity": "W1",
        "postcode_district": "Oxford",
        "version_id": str(person.version_id),
    }
    response = client.submit(f"/people/{person.id}/edit", data)
    assert response.status_code == 400
    errors = [a.text.strip() for a in parse(response).select(".govuk-error-summary a")]
    assert errors == [
        "Enter a first name",
        "Date of birth must be a real date",
        "Enter a PNC ID in the correct format, like 12/345678A",
        "Enter the first half of a postcode, like OX4",
    ]
    db_session.expire_all()
    assert db_session.get(type(person), person.id).postcode_district == "OX4"


def test_a_stale_edit_is_refused_with_a_clear_message(
    client: Any, signed_in: Any, org: Any, db_session: Session
) -> None:
    signed_in("officer")
    person = _person_seen_by(db_session, org, postcode_district="OX4")
    person.pnc_id = "12/345678A"  # someone else's edit, made after the form was loaded
    db_session.commit()
    data = {
        "given_name": "Alex",
        "family_name": "Example",
        "gender": "male",
        "self_defined_ethnicity": "W1",
        "postcode_district": "RG1",
        "version_id": str(person.version_id - 1 if person.version_id > 1 else 999),
    }
    response = client.submit(f"/people/{person.id}/edit", data)
    assert response.status_code == 409
    assert "Someone else changed this person's record" in parse(response).text
    assert "They changed: PNC ID" in parse(response).text
    db_session.expire_all()
    assert db_session.get(type(person), person.id).postcode_district == "OX4"

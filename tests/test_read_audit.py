"""Every read that shows a person is audited, lists included, and so is every refused attempt.

A refused request answers 403 or 404 and its transaction is rolled back; its audit entry is written
after the rollback, so these tests read it back from the database after the response.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from divert.api import tokens
from divert.models import AuditEntry

from .factories import PASSWORD, create_encounter, create_organisation, create_person, create_user
from .pathways.helpers import referred_case, staff


def _entries(db_session: Session, user: Any, action: str | None = None) -> list[AuditEntry]:
    db_session.expire_all()
    query = select(AuditEntry).where(AuditEntry.user_id == user.id).order_by(AuditEntry.id)
    if action:
        query = query.where(AuditEntry.action == action)
    return list(db_session.scalars(query))


def _shown(entry: AuditEntry) -> set[int]:
    listed = entry.detail.rsplit("shown:", 1)[1].strip()
    return {int(i) for i in listed.split(",") if i}


def _person_seen_by(db_session: Session, user: Any, **fields: Any) -> Any:
    person = create_person(db_session, **fields)
    create_encounter(db_session, person, user.organisation, officer_id=user.id)
    return person


def test_the_edit_form_and_the_new_encounter_form_are_audited_views(
    client: Any, signed_in: Any, db_session: Session
) -> None:
    officer = signed_in("officer")
    person = _person_seen_by(db_session, officer, family_name="Editaudit")
    assert client.get(f"/people/{person.id}/edit").status_code == 200
    assert client.get(f"/encounters/new?person={person.id}").status_code == 200
    views = [(e.object_type, e.object_id, e.detail) for e in _entries(db_session, officer, "view")]
    assert ("person", str(person.id), "edit form") in views
    assert ("person", str(person.id), "new encounter form") in views


def test_the_matches_page_names_everyone_it_shows(client: Any, signed_in: Any, db_session: Session) -> None:
    supervisor = signed_in("supervisor")
    person = _person_seen_by(
        db_session, supervisor, given_name="Jo", family_name="Twin", date_of_birth=date(2000, 1, 2)
    )
    twin = _person_seen_by(
        db_session, supervisor, given_name="Joe", family_name="Twin", date_of_birth=date(2000, 1, 2)
    )
    page = client.get(f"/people/{person.id}/matches")
    assert page.status_code == 200
    [entry] = [e for e in _entries(db_session, supervisor, "view") if "possible matches" in e.detail]
    assert {person.id, twin.id} <= _shown(entry)


def test_worklists_and_home_pages_name_the_people_they_list(client: Any, db_session: Session) -> None:
    force = create_organisation(db_session, kind="police_force")
    officer = staff(db_session, "officer", force)
    navigator = staff(db_session, "navigator", force)
    cases = [referred_case(db_session, "checkpoint", officer) for _ in range(2)]
    assert client.sign_in(navigator.email, PASSWORD).status_code == 302

    assert client.get("/worklist?view=new").status_code == 200
    assert client.get("/home").status_code == 200
    entries = _entries(db_session, navigator, "view")
    worklist = [e for e in entries if e.detail.startswith("worklist")]
    home = [e for e in entries if e.detail.startswith("home page")]
    assert len(worklist) == 1 and len(home) == 1  # one entry per list, not one per row
    assert _shown(worklist[0]) == {c.person_id for c in cases}
    assert {c.person_id for c in cases} <= _shown(home[0])

    client.post("/sign-out", data={"csrf_token": client.csrf_token("/home")})
    assert client.sign_in(officer.email, PASSWORD).status_code == 302
    assert client.get("/home").status_code == 200
    [officer_home] = [e for e in _entries(db_session, officer, "view") if e.detail.startswith("home page")]
    assert _shown(officer_home) == {c.person_id for c in cases}


def test_search_results_and_the_users_list_name_who_was_shown(
    client: Any, signed_in: Any, db_session: Session, make_user: Any
) -> None:
    officer = signed_in("officer")
    found = _person_seen_by(db_session, officer, family_name="Searchable")
    assert client.get("/people?q=Searchab").status_code == 200
    [search] = _entries(db_session, officer, "search")
    assert _shown(search) == {found.id}

    client.post("/sign-out", data={"csrf_token": client.csrf_token("/home")})
    admin = make_user("admin")
    assert client.sign_in(admin.email, PASSWORD).status_code == 302
    assert client.get("/admin/users").status_code == 200
    [users] = [e for e in _entries(db_session, admin, "view") if e.object_type == "user"]
    assert {officer.id, admin.id} <= _shown(users)


def test_a_refused_403_is_audited_and_survives_the_rollback(
    client: Any, signed_in: Any, db_session: Session
) -> None:
    analyst = signed_in("analyst")
    assert client.get("/people?q=smith").status_code == 403
    [refused] = _entries(db_session, analyst, "refused")
    assert (refused.object_type, refused.object_id) == ("route", "people.search")
    assert refused.path.startswith("/people?q=smith")


def test_a_cross_organisation_read_is_a_404_audited_as_refused(
    client: Any, signed_in: Any, db_session: Session
) -> None:
    officer = signed_in("supervisor")
    other_force = create_organisation(db_session, kind="police_force")
    theirs = _person_seen_by(
        db_session, create_user(db_session, "officer", other_force), family_name="Theirs"
    )

    for path in (f"/people/{theirs.id}", f"/people/{theirs.id}/edit", f"/people/{theirs.id}/matches"):
        assert client.get(path).status_code == 404
    missing = theirs.id + 1000
    assert client.get(f"/people/{missing}").status_code == 404

    refused = _entries(db_session, officer, "refused")
    assert [(e.object_type, e.object_id) for e in refused] == [("person", str(theirs.id))] * 3
    assert [e.path.rstrip("?") for e in refused] == [
        f"/people/{theirs.id}",
        f"/people/{theirs.id}/edit",
        f"/people/{theirs.id}/matches",
    ]
    # Nothing was viewed: the refused requests' own entries (if any) were rolled back.
    assert not [e for e in _entries(db_session, officer, "view") if e.object_id == str(theirs.id)]


def test_the_api_audits_refusals_too(client: Any, db_session: Session) -> None:
    force = create_organisation(db_session, kind="police_force")
    supervisor = create_user(db_session, "supervisor", force)
    analyst = create_user(db_session, "analyst", force)
    other_force = create_organisation(db_session, kind="police_force")
    theirs = referred_case(db_session, "checkpoint", create_user(db_session, "officer", other_force))

    def headers(user: Any) -> dict[str, str]:
        return {"Authorization": f"Bearer {tokens.create(db_session, user, 'test', created_by=None).secret}"}

    assert (
        client.get(f"/api/v1/people/{theirs.person_id}/encounters", headers=headers(supervisor)).status_code
        == 404
    )
    assert client.get(f"/api/v1/referrals/{theirs.id}", headers=headers(supervisor)).status_code == 404
    assert (
        client.get(f"/api/v1/people/{theirs.person_id}/encounters", headers=headers(analyst)).status_code
        == 403
    )

    assert [(e.object_type, e.object_id) for e in _entries(db_session, supervisor, "refused")] == [
        ("person", str(theirs.person_id)),
        ("referral", str(theirs.id)),
    ]
    [forbidden] = _entries(db_session, analyst, "refused")
    assert (forbidden.object_type, forbidden.object_id) == ("route", "api.person_encounters")

"""Administration pages, driven as two organisations' administrators and a system administrator."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from flask import Flask
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from divert.models import AuditEntry, Organisation, PasswordReset, Programme, ProgrammeOperator, User, utcnow
from divert.pathways.programmes import programmes_run_by, receiving_organisation, sync_definitions

from .client import PageClient, form_fields, parse
from .factories import PASSWORD, create_organisation, create_user

NEW_PASSWORD = "lantern-orchard-pebble"


def _signed_out(response: Any) -> bool:
    return response.status_code == 302 and response.headers["Location"].startswith("/sign-in")


def _browser(app: Flask, user: User) -> PageClient:
    browser: PageClient = app.test_client()  # type: ignore[assignment]
    assert browser.sign_in(user.email, PASSWORD).status_code == 302
    return browser


def _errors(response: Any) -> list[str]:
    return [a.text.strip() for a in parse(response).select(".govuk-error-summary a")]


def _system_admin(session: Session) -> User:
    return create_user(session, "admin", create_organisation(session, kind="service", name="Divert service"))


def test_an_administrator_changes_a_role_and_sees_last_sign_in(
    app: Flask, client: Any, signed_in: Any, make_user: Any
) -> None:
    officer = make_user("officer", name="Olu Officer")
    officers_browser = _browser(app, officer)
    signed_in("admin")
    row = parse(client.get("/admin/users")).find("a", string="Olu Officer")
    page = parse(client.get(row["href"]))
    assert page.select_one("#last-signed-in").text.strip() != "Never"

    response = client.submit(
        f"/admin/users/{officer.id}/role", {"role": "supervisor"}, token_from=row["href"]
    )
    assert response.status_code == 302
    page = parse(client.get(row["href"]))
    assert "Olu Officer is now a Supervisor" in page.text
    assert "Supervisor" in page.select_one("#user-summary").text
    # The old role's session ends: the officer signs in again as a supervisor.
    assert _signed_out(officers_browser.get("/home"))


def test_disabling_ends_an_open_session_and_re_enabling_lets_them_sign_in(
    app: Flask, client: Any, signed_in: Any, make_user: Any, db_session: Session
) -> None:
    officer = make_user("officer", name="Dee Disabled")
    officers_browser = _browser(app, officer)
    assert officers_browser.get("/home").status_code == 200
    signed_in("admin")
    page = parse(client.get(f"/admin/users/{officer.id}"))
    form = page.select_one("[data-testid=disable-user]").find_parent("form")
    assert client.post(form["action"], data=form_fields(form)).status_code == 302

    assert _signed_out(officers_browser.get("/home"))
    assert officers_browser.sign_in(officer.email, PASSWORD).status_code == 200  # refused
    page = parse(client.get(f"/admin/users/{officer.id}"))
    assert "Disabled" in page.select_one("#user-status").text

    form = page.select_one("[data-testid=enable-user]").find_parent("form")
    assert client.post(form["action"], data=form_fields(form)).status_code == 302
    assert officers_browser.sign_in(officer.email, PASSWORD).status_code == 302
    actions = db_session.scalars(
        select(AuditEntry.action).where(
            AuditEntry.object_type == "user", AuditEntry.object_id == str(officer.id)
        )
    ).all()
    assert "disable" in actions and "enable" in actions


def test_an_administrator_cannot_disable_themselves(client: Any, signed_in: Any) -> None:
    admin = signed_in("admin")
    response = client.submit(f"/admin/users/{admin.id}/active", {"active": "no"}, token_from="/admin/users")
    assert response.status_code == 302
    assert "You cannot disable your own account" in parse(client.get(f"/admin/users/{admin.id}")).text
    assert client.get("/home").status_code == 200


def test_another_organisations_users_are_not_there(
    app: Flask, client: Any, signed_in: Any, make_user: Any, db_session: Session
) -> None:
    elsewhere = create_organisation(db_session, name="Surrey Police")
    theirs = make_user("officer", organisation=elsewhere, name="Their Officer")
    their_browser = _browser(app, theirs)
    signed_in("admin")

    assert "Their Officer" not in client.get("/admin/users").get_data(as_text=True)
    assert client.get(f"/admin/users/{theirs.id}").status_code == 404
    for action, data in (("role", {"role": "admin"}), ("active", {"active": "no"}), ("reset", {})):
        response = client.submit(f"/admin/users/{theirs.id}/{action}", data, token_from="/admin/users")
        assert response.status_code == 404, action
    db_session.refresh(theirs)
    assert theirs.role == "officer" and theirs.active
    assert their_browser.get("/home").status_code == 200
    assert db_session.scalar(select(PasswordReset).where(PasswordReset.user_id == theirs.id)) is None


def test_only_administrators_manage_users(client: Any, signed_in: Any, make_user: Any) -> None:
    colleague = make_user("officer")
    signed_in("supervisor")
    assert client.get(f"/admin/users/{colleague.id}").status_code == 403
    assert client.get("/admin/organisations").status_code == 403


def _reset_link(client: Any, user: User) -> str:
    response = client.submit(f"/admin/users/{user.id}/reset", {}, token_from=f"/admin/users/{user.id}")
    assert response.status_code == 200
    link = parse(response).select_one("#reset-link").text.strip()
    return "/" + link.split("/", 3)[3]


def test_a_reset_link_works_once(app: Flask, client: Any, signed_in: Any, make_user: Any) -> None:
    officer = make_user("officer", name="Rita Reset")
    officers_browser = _browser(app, officer)
    signed_in("admin")
    path = _reset_link(client, officer)
    # Making a link does not yet end the old password or sessions.
    assert officers_browser.get("/home").status_code == 200

    visitor: PageClient = app.test_client()  # type: ignore[assignment]
    page = parse(visitor.get(path))
    assert officer.email in page.text
    weak = visitor.submit(path, {"new_password": "password1234", "confirm_password": "password1234"})
    assert weak.status_code == 400
    assert _errors(weak) == [
        "Password is a commonly used password. Choose a different one, such as 3 random words"
    ]
    done = visitor.submit(path, {"new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD})
    assert done.status_code == 302 and done.headers["Location"].startswith("/sign-in")

    assert _signed_out(officers_browser.get("/home"))
    assert visitor.sign_in(officer.email, PASSWORD).status_code == 200  # the old password is gone
    assert visitor.sign_in(officer.email, NEW_PASSWORD).status_code == 302
    again: PageClient = app.test_client()  # type: ignore[assignment]
    assert again.get(path).status_code == 404
    assert "This link does not work" in parse(again.get(path)).text


def test_a_reset_link_expires_and_a_newer_one_replaces_it(
    app: Flask, client: Any, signed_in: Any, make_user: Any, db_session: Session
) -> None:
    officer = make_user("officer")
    signed_in("admin")
    first = _reset_link(client, officer)
    second = _reset_link(client, officer)
    visitor: PageClient = app.test_client()  # type: ignore[assignment]
    assert visitor.get(first).status_code == 404
    token = visitor.csrf_token(second)
    # Only a hash of the secret is stored.
    secret = second.rsplit("/", 1)[1]
    assert secret not in {r.token_hash for r in db_session.scalars(select(PasswordReset))}

    db_session.execute(
        update(PasswordReset)
        .where(PasswordReset.user_id == officer.id)
        .values(expires_at=utcnow() - timedelta(seconds=1))
    )
    db_session.flush()
    assert visitor.get(second).status_code == 404
    expired = visitor.post(
        second, data={"new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD, "csrf_token": token}
    )
    assert expired.status_code == 404
    assert visitor.sign_in(officer.email, PASSWORD).status_code == 302


def test_a_system_administrator_creates_an_organisation_and_its_administrator(
    app: Flask, client: Any, db_session: Session
) -> None:
    operator = _system_admin(db_session)
    assert client.sign_in(operator.email, PASSWORD).status_code == 302
    bad = client.submit(
        "/admin/organisations/new", {"name": "Kent Police", "code": "Kent Police!", "kind": "police_force"}
    )
    assert bad.status_code == 400
    assert _errors(bad) == [
        "Enter a code of 2 to 40 lower-case letters, digits and hyphens, starting with a letter or digit"
    ]
    response = client.submit(
        "/admin/organisations/new", {"name": "Kent Police", "code": "kent", "kind": "police_force"}
    )
    assert response.status_code == 302
    kent = db_session.scalars(select(Organisation).where(Organisation.code == "kent")).one()
    assert kent.kind == "police_force"
    listing = parse(client.get("/admin/organisations"))
    assert listing.find("a", string="Kent Police") is not None

    created = client.submit(
        f"/admin/organisations/{kent.id}/users/new",
        {"name": "Kim Kent", "email": "kim@kent.example", "role": "admin", "password": NEW_PASSWORD},
    )
    assert created.status_code == 302
    kim = db_session.scalars(select(User).where(User.email == "kim@kent.example")).one()
    assert kim.organisation_id == kent.id
    # Kent's administrator manages Kent's users only, and cannot create organisations.
    kims: PageClient = app.test_client()  # type: ignore[assignment]
    assert kims.sign_in("kim@kent.example", NEW_PASSWORD).status_code == 302
    assert kims.get("/admin/organisations").status_code == 403
    assert kims.get(f"/admin/users/{operator.id}").status_code == 404
    assert "Kim Kent" in parse(kims.get("/admin/users")).text
    # The system administrator looks after Kent's users too (its first administrator).
    assert client.get(f"/admin/users/{kim.id}").status_code == 200


def test_programme_assignments_have_effective_dates(app: Flask, client: Any, db_session: Session) -> None:
    sync_definitions(db_session)
    programme = db_session.scalars(select(Programme).where(Programme.code == "tvp-adult-drugs")).one()
    force = create_organisation(db_session, name="Force A")
    team = create_organisation(db_session, name="Team B", kind="provider")
    operator = _system_admin(db_session)
    assert client.sign_in(operator.email, PASSWORD).status_code == 302

    backwards = client.submit(
        f"/admin/organisations/{force.id}/assignments",
        {
            "programme": programme.code,
            "role": "police",
            "effective_from": ["1", "6", "2026"],
            "effective_to": ["1", "5", "2026"],
        },
        token_from=f"/admin/organisations/{force.id}",
    )
    assert backwards.status_code == 400
    assert "The end date must be the same as or after the start date" in _errors(backwards)

    for org, role, dates in ((force, "police", ("1", "6", "2026")), (team, "receiving", ("", "", ""))):
        response = client.submit(
            f"/admin/organisations/{org.id}/assignments",
            {
                "programme": programme.code,
                "role": role,
                "effective_from": list(dates),
                "effective_to": ["", "", ""],
            },
            token_from=f"/admin/organisations/{org.id}",
        )
        assert response.status_code == 302, _errors(response)
    rows = parse(client.get(f"/admin/organisations/{force.id}")).select("#assignments tbody tr")
    assert [c.text.strip() for c in rows[0].select("td")][1:] == [
        "Records encounters",
        "Every route",
        "1 June 2026",
        "No end date",
    ]
    stored = db_session.scalars(
        select(ProgrammeOperator).where(ProgrammeOperator.organisation_id == force.id)
    ).one()
    assert stored.effective_from == date(2026, 6, 1)
    assert programmes_run_by(db_session, force.id, date(2026, 5, 31)) == []
    assert [p.code for p in programmes_run_by(db_session, force.id, date(2026, 6, 1))] == [programme.code]
    stored.effective_to = date(2026, 12, 31)
    db_session.flush()
    assert programmes_run_by(db_session, force.id, date(2027, 1, 1)) == []
    assert receiving_organisation(db_session, programme, None, date(2020, 1, 1)) == team.id

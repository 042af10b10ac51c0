from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Flask
from sqlalchemy import select

from divert.auth.passwords import verify_password
from divert.models import AuditEntry, User, utcnow

from .client import PageClient, parse
from .factories import PASSWORD, create_organisation


def test_sign_in_and_out(client: Any, make_user: Any, db_session: Any) -> None:
    user = make_user("yot_caseworker", name="Yasmin Worker")
    response = client.sign_in(user.email.upper(), PASSWORD)
    assert response.status_code == 302
    assert response.headers["Location"] == "/home"
    home = parse(client.get("/home"))
    assert "Yasmin Worker" in home.select_one("[data-testid=signed-in-user]").text
    assert home.h1.text.strip() == "Your cases"

    response = client.submit("/sign-out", {}, token_from="/home")
    assert response.status_code == 302
    assert client.get("/home").headers["Location"].startswith("/sign-in")
    actions = db_session.scalars(select(AuditEntry.action).where(AuditEntry.user_id == user.id)).all()
    assert "sign_in" in actions and "sign_out" in actions


def test_wrong_password_gives_one_message_and_is_audited(
    client: Any, make_user: Any, db_session: Any
) -> None:
    user = make_user()
    response = client.sign_in(user.email, "not the password")
    assert response.status_code == 200
    page = parse(response)
    assert (
        page.select_one(".govuk-error-summary").text.count("Enter a correct email address and password") == 1
    )
    assert page.title.text.startswith("Error:")
    failed = db_session.scalars(select(AuditEntry).where(AuditEntry.action == "sign_in_failed")).all()
    assert [(f.user_id, f.object_id) for f in failed] == [(None, str(user.id))]


def test_unknown_email_gets_the_same_message(client: Any) -> None:
    page = parse(client.sign_in("nobody@example.org", "whatever-password"))
    assert "Enter a correct email address and password" in page.select_one(".govuk-error-summary").text


def test_empty_form_says_what_to_enter(client: Any) -> None:
    page = parse(client.sign_in("", ""))
    errors = [a.text.strip() for a in page.select(".govuk-error-summary a")]
    assert errors == ["Enter your email address", "Enter your password"]


def test_deactivated_user_cannot_sign_in(client: Any, make_user: Any) -> None:
    user = make_user(active=False)
    assert client.sign_in(user.email, PASSWORD).status_code == 200


def test_sign_in_without_csrf_token_is_refused(client: Any, make_user: Any) -> None:
    user = make_user()
    response = client.post("/sign-in", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 400
    assert "form expired" in parse(response).text


def test_next_only_goes_to_this_site(client: Any, make_user: Any) -> None:
    user = make_user()
    token = client.csrf_token("/sign-in")
    response = client.post(
        "/sign-in?next=//evil.example/x",
        data={"email": user.email, "password": PASSWORD, "csrf_token": token},
    )
    assert response.headers["Location"] == "/home"


def test_session_expires_after_an_absolute_limit(client: Any, signed_in: Any) -> None:
    signed_in("officer")
    assert client.get("/home").status_code == 200
    with client.session_transaction() as session:
        session["signed_in_at"] = (utcnow() - timedelta(hours=13)).isoformat()
    assert client.get("/home").status_code == 302


def test_session_cookie_is_permanent_with_idle_expiry(app: Flask, client: Any, signed_in: Any) -> None:
    signed_in("officer")
    with client.session_transaction() as session:
        assert session.permanent
    assert app.permanent_session_lifetime == timedelta(minutes=30)


def _copy_of_session(app: Flask, client: Any) -> PageClient:
    """Another browser holding a copy of ``client``'s session cookie, as an attacker who saved it."""
    other: PageClient = app.test_client()  # type: ignore[assignment]
    cookie = client.get_cookie("session")
    assert cookie is not None
    other.set_cookie("session", cookie.value)
    return other


def _signed_out(response: Any) -> bool:
    return response.status_code == 302 and response.headers["Location"].startswith("/sign-in")


def test_a_session_cookie_copied_before_sign_out_stops_working(
    app: Flask, client: Any, signed_in: Any
) -> None:
    signed_in("officer", name="Olu Officer")
    copy = _copy_of_session(app, client)
    assert "Olu Officer" in parse(copy.get("/home")).select_one("[data-testid=signed-in-user]").text

    client.submit("/sign-out", {}, token_from="/home")
    assert _signed_out(client.get("/home"))
    assert _signed_out(copy.get("/home"))
    # Still refused on the next request: the copy does not come back to life.
    assert _signed_out(copy.get("/home"))


def test_signing_in_again_after_sign_out_works(client: Any, signed_in: Any) -> None:
    user = signed_in("officer")
    client.submit("/sign-out", {}, token_from="/home")
    assert client.sign_in(user.email, PASSWORD).status_code == 302
    assert client.get("/home").status_code == 200


NEW_PASSWORD = "kettle-orbit-lantern-57"


def _change_password(client: Any, current: str, new: str, confirm: str | None = None) -> Any:
    data = {
        "current_password": current,
        "new_password": new,
        "confirm_password": new if confirm is None else confirm,
    }
    return client.submit("/account/password", data)


def test_changing_the_password_ends_every_other_session_and_keeps_this_one(
    app: Flask, client: Any, signed_in: Any, db_session: Any
) -> None:
    user = signed_in("yot_caseworker")
    other_browser = _copy_of_session(app, client)
    assert other_browser.get("/home").status_code == 200

    # The change is made in the other browser; the first one's session must end.
    response = _change_password(other_browser, PASSWORD, NEW_PASSWORD)
    assert response.status_code == 302 and response.headers["Location"] == "/home"
    home = parse(other_browser.get("/home"))
    assert "Your password has been changed" in home.select_one(".govuk-notification-banner").text
    assert _signed_out(client.get("/home"))

    db_session.expire_all()
    assert verify_password(user.password_hash, NEW_PASSWORD)
    actions = db_session.scalars(select(AuditEntry.action).where(AuditEntry.user_id == user.id)).all()
    assert "change_password" in actions
    fresh = app.test_client()
    assert fresh.sign_in(user.email, PASSWORD).status_code == 200
    assert fresh.sign_in(user.email, NEW_PASSWORD).status_code == 302


def test_the_header_links_to_change_password(client: Any, signed_in: Any) -> None:
    signed_in("analyst")
    header = parse(client.get("/home")).select_one("header")
    link = header.find("a", string="Change password")
    assert link is not None and link["href"] == "/account/password"
    page = parse(client.get(link["href"]))
    assert page.h1.text.strip() == "Change your password"


def _errors(response: Any) -> list[str]:
    page = parse(response)
    assert page.title.text.startswith("Error:")
    return [a.text.strip() for a in page.select(".govuk-error-summary a")]


def test_weak_new_passwords_are_refused_with_what_is_wrong(client: Any, signed_in: Any) -> None:
    signed_in("officer", name="Priya Shah", email="priya.shah@example.org")
    common = "Password is a commonly used password. Choose a different one, such as 3 random words"
    cases = {
        "aaaaaaaaaaaa": "Password must not be one character repeated",
        "password1234": common,
        " " * 12: "Password must not be only spaces",
        "short-one": "Password must be 12 characters or more",
        "x" * 40 + "-" * 89: "Password must be 128 characters or fewer",
        "PriyaShah-rocks-2026": "Password must not contain your name or email address",
        "my priya.shah@example.org": "Password must not contain your name or email address",
        "qwertyuiop123": common,
    }
    for password, message in cases.items():
        response = _change_password(client, PASSWORD, password)
        assert response.status_code == 400, password
        assert _errors(response) == [message], password
    # Nothing changed: the old password still works.
    assert client.get("/home").status_code == 200


def test_change_password_says_what_is_missing_or_wrong(client: Any, signed_in: Any, db_session: Any) -> None:
    user = signed_in("officer")
    assert _errors(_change_password(client, "", "", "")) == [
        "Enter your current password",
        "Enter a new password",
        "Enter your new password again",
    ]
    assert _errors(_change_password(client, PASSWORD, NEW_PASSWORD, "something-else-entirely")) == [
        "Enter the same new password twice"
    ]
    wrong = _change_password(client, "not-my-password", NEW_PASSWORD)
    assert wrong.status_code == 200
    assert _errors(wrong) == ["Your current password is not correct"]
    failed = db_session.scalars(select(AuditEntry.action).where(AuditEntry.object_id == str(user.id))).all()
    assert "wrong_password" in failed
    assert client.get("/home").status_code == 200


def test_an_administrator_ends_a_users_sessions(
    app: Flask, client: Any, make_user: Any, signed_in: Any, db_session: Any
) -> None:
    officer = make_user("officer", name="Oscar Officer")
    officers_browser: PageClient = app.test_client()  # type: ignore[assignment]
    assert officers_browser.sign_in(officer.email, PASSWORD).status_code == 302
    signed_in("admin")

    users = parse(client.get("/admin/users"))
    button = users.select_one(f"[data-testid=end-sessions-{officer.id}]")
    assert "Oscar Officer" in button.text
    action = button.find_parent("form")["action"]
    response = client.submit(action, {}, token_from="/admin/users")
    assert response.status_code == 302
    assert "Oscar Officer has been signed out everywhere" in parse(client.get("/admin/users")).text
    assert _signed_out(officers_browser.get("/home"))
    # The administrator's own session carries on, and the officer can sign in again.
    assert client.get("/admin/users").status_code == 200
    assert officers_browser.sign_in(officer.email, PASSWORD).status_code == 302
    entries = db_session.scalars(select(AuditEntry).where(AuditEntry.action == "end_sessions")).all()
    assert [e.object_id for e in entries] == [str(officer.id)]


def test_an_administrator_cannot_end_another_organisations_users_sessions(
    app: Flask, client: Any, make_user: Any, signed_in: Any, db_session: Any
) -> None:
    elsewhere = create_organisation(db_session, name="Surrey Police")
    theirs = make_user("officer", organisation=elsewhere)
    their_browser: PageClient = app.test_client()  # type: ignore[assignment]
    assert their_browser.sign_in(theirs.email, PASSWORD).status_code == 302
    signed_in("admin")

    assert f"end-sessions-{theirs.id}" not in client.get("/admin/users").get_data(as_text=True)
    response = client.submit(f"/admin/users/{theirs.id}/end-sessions", {}, token_from="/admin/users")
    assert response.status_code == 404
    assert their_browser.get("/home").status_code == 200
    assert not db_session.scalars(select(AuditEntry).where(AuditEntry.action == "end_sessions")).all()


def test_only_administrators_end_sessions(client: Any, make_user: Any, signed_in: Any) -> None:
    colleague = make_user("officer")
    signed_in("supervisor")
    response = client.submit(f"/admin/users/{colleague.id}/end-sessions", {}, token_from="/home")
    assert response.status_code == 403


WEAK = {
    "aaaaaaaaaaaa": "Password must not be one character repeated",
    "password1234": "Password is a commonly used password. Choose a different one, such as 3 random words",
    " " * 12: "Password must not be only spaces",
    "Cara Coach 2026 x": "Password must not contain the user's name or email address",
}


def test_the_admin_page_refuses_weak_temporary_passwords(client: Any, signed_in: Any) -> None:
    signed_in("admin")
    for password, message in WEAK.items():
        response = client.submit(
            "/admin/users/new",
            {"name": "Cara Coach", "email": "cara@example.org", "role": "coach", "password": password},
        )
        assert response.status_code == 400, password
        assert _errors(response) == [message], password


def test_create_user_on_the_command_line_refuses_weak_passwords(app: Flask, db_session: Any) -> None:
    runner = app.test_cli_runner()
    args = ["create-user", "--email", "cara@example.org", "--name", "Cara Coach", "--role", "coach"]
    for password, message in WEAK.items():
        result = runner.invoke(
            args=[*args, "--organisation", "tvp", "--organisation-name", "Thames Valley Police"],
            input=f"{password}\n{password}\n",
        )
        assert result.exit_code != 0 and message in result.output, (password, result.output)
    assert db_session.scalar(select(User).where(User.email == "cara@example.org")) is None

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from divert.app.extensions import limiter
from divert.models import AuditEntry, utcnow

from .client import parse
from .factories import PASSWORD


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


def test_sign_in_is_rate_limited(
    app: Flask, client: Any, make_user: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The suite runs with a very high limit; this test brings it down to a realistic one.
    monkeypatch.setitem(app.config, "LOGIN_RATE_LIMIT", "3 per minute")
    limiter.reset()
    try:
        user = make_user()
        codes = [client.sign_in(user.email, "wrong password here").status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        assert "Too many attempts" in parse(client.sign_in(user.email, PASSWORD)).text
    finally:
        limiter.reset()

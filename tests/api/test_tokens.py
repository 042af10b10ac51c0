"""Bearer tokens: stored hashed, refused when unknown, revoked or expired; a cookie alone is not enough."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from click.testing import Result
from flask import Flask
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from divert.api import tokens
from divert.models import AuditEntry, utcnow
from divert.models.api import ApiToken

from .conftest import auth


def test_only_the_hash_and_a_prefix_are_stored(db_session: Session, make_user: Any) -> None:
    issued = tokens.create(db_session, make_user("officer"), "Partner", created_by=None)
    stored = db_session.execute(text("SELECT * FROM api_tokens")).mappings().all()
    values = [str(v) for row in stored for v in row.values()]
    assert issued.secret not in values
    assert all(issued.secret not in v for v in values)
    assert issued.token.token_hash == tokens.digest(issued.secret)
    assert issued.secret.startswith(issued.token.prefix) and len(issued.token.prefix) == 8
    assert len(issued.secret) >= 43


def test_a_valid_token_signs_its_user_in_and_is_marked_used(
    client: Any, token_for: Any, db_session: Session
) -> None:
    user, headers = token_for("officer")
    response = client.get("/api/v1/programmes", headers=headers)
    assert response.status_code == 200, response.json
    token = db_session.scalar(select(ApiToken).where(ApiToken.user_id == user.id))
    db_session.refresh(token)
    assert token is not None and token.last_used_at is not None


def test_no_or_unknown_token_is_401(client: Any) -> None:
    for headers in ({}, auth("not-a-token"), {"Authorization": "Basic abc"}, {"Authorization": "Bearer "}):
        response = client.get("/api/v1/programmes", headers=headers)
        assert response.status_code == 401
        assert response.json["error"]["code"] == "unauthorised"


def test_revoked_and_expired_tokens_are_401(client: Any, db_session: Session, make_user: Any) -> None:
    user = make_user("officer")
    revoked = tokens.create(db_session, user, "Old", created_by=None)
    tokens.revoke(db_session, None, revoked.token)
    expired = tokens.create(db_session, user, "Short", created_by=None, days=1)
    expired.token.expires_at = utcnow() - timedelta(minutes=1)
    db_session.flush()
    for issued in (revoked, expired):
        assert client.get("/api/v1/programmes", headers=auth(issued.secret)).status_code == 401


def test_a_deactivated_users_token_is_401(client: Any, token_for: Any, db_session: Session) -> None:
    user, headers = token_for("officer")
    user.active = False
    db_session.flush()
    assert client.get("/api/v1/programmes", headers=headers).status_code == 401


def test_a_session_cookie_alone_cannot_use_the_api(client: Any, signed_in: Any) -> None:
    signed_in("supervisor")
    assert client.get("/home").status_code == 200
    response = client.get("/api/v1/programmes")
    assert response.status_code == 403
    assert response.json["error"]["code"] == "bearer_token_required"
    response = client.post("/api/v1/encounters", json={})
    assert response.status_code == 403


def test_with_a_cookie_and_a_token_the_token_decides(client: Any, signed_in: Any, token_for: Any) -> None:
    signed_in("admin")  # the admin's session could read people; the analyst's token may not
    _, headers = token_for("analyst")
    assert client.get("/api/v1/people/1/encounters", headers=headers).status_code == 403
    assert client.get("/api/v1/people/1/encounters", headers=auth("wrong")).status_code == 401


def test_create_token_command_prints_the_token_once(app: Flask, db_session: Session, make_user: Any) -> None:
    user = make_user("officer")
    result: Result = app.test_cli_runner().invoke(
        args=["create-token", "--email", user.email.upper(), "--name", "Case system", "--days", "30"]
    )
    assert result.exit_code == 0, result.output
    secret = result.output.splitlines()[1].strip()
    token = db_session.scalar(select(ApiToken).where(ApiToken.token_hash == tokens.digest(secret)))
    assert token is not None and token.user_id == user.id and token.name == "Case system"
    assert token.expires_at is not None and token.expires_at > utcnow() + timedelta(days=29)
    assert secret not in token.token_hash


def test_create_token_command_refuses_an_unknown_user(app: Flask, db_session: Session) -> None:
    result = app.test_cli_runner().invoke(
        args=["create-token", "--email", "nobody@example.org", "--name", "X"]
    )
    assert result.exit_code != 0
    assert "No user" in result.output


def test_token_creation_and_revocation_are_audited(db_session: Session, make_user: Any) -> None:
    issued = tokens.create(db_session, make_user("officer"), "Partner", created_by=None)
    tokens.revoke(db_session, None, issued.token)
    actions = db_session.scalars(
        select(AuditEntry.action).where(
            AuditEntry.object_type == "api_token", AuditEntry.object_id == str(issued.token.id)
        )
    ).all()
    assert sorted(actions) == ["create", "update"]

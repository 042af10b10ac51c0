"""Administrators create and revoke tokens on GOV.UK pages; the token is shown once."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from divert.api import tokens
from divert.models.api import ApiToken

from ..client import form_fields, parse
from ..factories import create_organisation
from .conftest import auth


def test_an_admin_creates_a_token_sees_it_once_and_revokes_it(
    client: Any, signed_in: Any, make_user: Any, db_session: Session
) -> None:
    signed_in("admin")
    partner = make_user("officer", name="Pat Partner")
    page = parse(client.get("/admin/tokens/new"))
    assert page.select_one("select[name=user_id]") is not None
    response = client.submit(
        "/admin/tokens/new", {"user_id": partner.id, "name": "Case system", "days": "90"}
    )
    assert response.status_code == 200
    secret = parse(response).select_one("#api-token").get_text(strip=True)
    assert client.get("/api/v1/programmes", headers=auth(secret)).status_code == 200

    listing = client.get("/admin/tokens")
    assert secret not in listing.get_data(as_text=True)
    row = parse(listing).find("td", string="Case system").parent
    assert secret[:8] in row.get_text() and "Pat Partner" in row.get_text()
    form = row.select_one("form")
    revoked = client.post(form["action"], data=form_fields(form))
    assert revoked.status_code == 302
    assert client.get("/api/v1/programmes", headers=auth(secret)).status_code == 401
    assert "Revoked" in client.get("/admin/tokens").get_data(as_text=True)


def test_the_form_lists_problems(client: Any, signed_in: Any) -> None:
    signed_in("admin")
    response = client.submit("/admin/tokens/new", {"name": "", "days": "0"})
    assert response.status_code == 400
    text = parse(response).get_text()
    assert "Enter a name for the token" in text


def test_revoking_needs_the_csrf_token_and_the_same_organisation(
    client: Any, signed_in: Any, make_user: Any, db_session: Session
) -> None:
    signed_in("admin")
    other = make_user("officer", organisation=create_organisation(db_session))
    theirs = tokens.create(db_session, other, "Theirs", created_by=None)
    mine = tokens.create(db_session, make_user("officer"), "Mine", created_by=None)
    token = client.csrf_token("/admin/tokens")
    assert (
        client.post(f"/admin/tokens/{theirs.token.id}/revoke", data={"csrf_token": token}).status_code == 404
    )
    assert client.post(f"/admin/tokens/{mine.token.id}/revoke").status_code == 400
    stored = db_session.scalar(select(ApiToken).where(ApiToken.id == mine.token.id))
    assert stored is not None and stored.revoked_at is None


def test_only_admins_see_the_token_pages(client: Any, signed_in: Any) -> None:
    signed_in("supervisor")
    assert client.get("/admin/tokens").status_code == 403

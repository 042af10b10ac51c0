"""API fixtures: users with bearer tokens, and a police force that runs the shipped programmes."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from divert.api import tokens
from divert.models import Programme
from divert.pathways.programmes import assign_operator, sync_definitions


def auth(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


@pytest.fixture
def programmes(db_session: Session, org: Any) -> list[Programme]:
    """Every shipped programme, run by the test force, so encounters are decided against them."""
    sync_definitions(db_session)
    rows = list(
        db_session.scalars(select(Programme).where(Programme.active.is_(True)).order_by(Programme.code))
    )
    for programme in rows:
        assign_operator(db_session, programme, org.id, "police")
    return rows


@pytest.fixture
def token_for(db_session: Session, make_user: Any) -> Any:
    """A user of ``role`` and the headers that carry a fresh token for them."""

    def make(role: str = "officer", organisation: Any = None, **fields: Any) -> tuple[Any, dict[str, str]]:
        user = make_user(role, organisation, **fields)
        issued = tokens.create(db_session, user, "test system", created_by=None)
        return user, auth(issued.secret)

    return make

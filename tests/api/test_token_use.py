"""A token's last use is written at most once a minute, so concurrent requests do not queue on its row."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from divert.api import tokens
from divert.models import utcnow


def test_use_is_recorded_when_never_used_or_a_minute_old(db_session: Session, make_user: Any) -> None:
    issued = tokens.create(db_session, make_user("officer"), "Partner", created_by=None)
    assert tokens.verify(db_session, issued.secret) is not None
    first = issued.token.last_used_at
    assert first is not None

    tokens.verify(db_session, issued.secret)
    assert issued.token.last_used_at == first, "a second use within the minute writes nothing"

    issued.token.last_used_at = utcnow() - tokens.USE_RECORDED_EVERY - timedelta(seconds=1)
    tokens.verify(db_session, issued.secret)
    assert issued.token.last_used_at > first

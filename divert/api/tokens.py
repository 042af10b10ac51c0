"""Bearer tokens for partner systems: created once, stored only as a SHA-256, revocable.

A token is 256 bits from ``secrets``, so a fast unsalted hash is enough: it cannot be guessed or
brute-forced, and an exact-match lookup on the hash is constant-time with respect to the secret
(the database compares hashes, never the token itself).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, contains_eager, joinedload

from divert.models import User, audit, utcnow
from divert.models.api import ApiToken
from divert.pathways.errors import OperationError

PREFIX_LENGTH = 8
# How often a token's use is written down. Writing it on every request made every request with one
# token update the same row, whose lock is held until the request commits: a partner system's
# concurrent requests then ran one at a time. The tokens page shows it to the minute.
USE_RECORDED_EVERY = timedelta(minutes=1)


@dataclass(frozen=True)
class Issued:
    token: ApiToken
    secret: str  # shown once, never stored


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create(
    session: Session, user: User, name: str, created_by: User | None, days: int | None = None
) -> Issued:
    name = (name or "").strip()
    if not name:
        raise OperationError("Enter a name for the token, such as the partner system that will use it")
    if not user.active:
        raise OperationError("Tokens can only be created for active users")
    if days is not None and days < 1:
        raise OperationError("A token must last at least 1 day")
    secret = secrets.token_urlsafe(32)
    token = ApiToken(
        user_id=user.id,
        name=name[:200],
        token_hash=digest(secret),
        prefix=secret[:PREFIX_LENGTH],
        created_by_id=created_by.id if created_by else None,
        expires_at=utcnow() + timedelta(days=days) if days else None,
    )
    session.add(token)
    session.flush()
    audit.record(
        session, created_by, "create", "api_token", token.id, detail=f"for user {user.id}: {token.name}"
    )
    return Issued(token, secret)


def verify(session: Session, secret: str) -> User | None:
    """The active user a live token belongs to, or None; marks the token used."""
    if not secret:
        return None
    # The user comes in the same statement: every API request needs both.
    token = session.scalar(
        select(ApiToken).options(joinedload(ApiToken.user)).where(ApiToken.token_hash == digest(secret))
    )
    if token is None or token.revoked_at is not None:
        return None
    now = utcnow()
    if token.expires_at is not None and token.expires_at <= now:
        return None
    if not token.user.active:
        return None
    _record_use(session, token, now)
    return token.user


def _record_use(session: Session, token: ApiToken, now: datetime) -> None:
    """Mark the token used, unless that was done less than ``USE_RECORDED_EVERY`` ago.

    The token was just read, so a recent use is seen without a statement: most requests send
    none. When the use read is old, the condition is also in the UPDATE, so only one of many
    concurrent requests writes (the rest match no row and take no lock).
    """
    if token.last_used_at is not None and token.last_used_at > now - USE_RECORDED_EVERY:
        return
    session.execute(
        update(ApiToken)
        .where(
            ApiToken.id == token.id,
            or_(ApiToken.last_used_at.is_(None), ApiToken.last_used_at <= now - USE_RECORDED_EVERY),
        )
        .values(last_used_at=now)
        .execution_options(synchronize_session="evaluate")
    )


def revoke(session: Session, actor: User | None, token: ApiToken) -> None:
    if token.revoked_at is not None:
        raise OperationError("This token has already been revoked")
    token.revoked_at = utcnow()
    session.flush()
    audit.record(session, actor, "update", "api_token", token.id, detail="revoked")


def for_organisation(session: Session, organisation_id: int) -> list[ApiToken]:
    return list(
        session.scalars(
            select(ApiToken)
            .join(ApiToken.user)
            # The list names each token's user: filled from the join, not one query per token.
            .options(contains_eager(ApiToken.user))
            .where(User.organisation_id == organisation_id)
            .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
        )
    )

"""Users of an organisation: creating them (admin pages and the CLI), changing their role,
disabling and re-enabling them, and one-time password reset links."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from divert.auth.passwords import hash_password, password_problem
from divert.auth.policy import check
from divert.models import Organisation, PasswordReset, User, audit, utcnow
from divert.pathways.errors import OperationError
from divert.pathways.programmes import roles_for


def _check_role(session: Session, role: str, organisation: Organisation) -> None:
    """A built-in role, or one a programme definition declares for the organisation's kind."""
    offered = roles_for(session, organisation.kind)
    if role not in offered:
        raise OperationError(f"Role must be one of: {', '.join(offered)}")


def create_user(
    session: Session,
    *,
    email: str,
    name: str,
    role: str,
    password: str,
    organisation: Organisation,
    actor: User | None = None,
) -> User:
    email = email.strip().lower()
    _check_role(session, role, organisation)
    problem = password_problem(password, email=email, name=name, own=False)
    if problem:
        raise OperationError(problem)
    if session.scalar(select(User.id).where(func.lower(User.email) == email)) is not None:
        raise OperationError("A user with this email address already exists")
    user = User(
        email=email,
        name=name.strip(),
        role=role,
        password_hash=hash_password(password),
        organisation=organisation,
    )
    session.add(user)
    session.flush()
    audit.record(session, actor, "create", "user", user.id, detail=f"role {role}")
    return user


# A reset link is a credential in an administrator's hands until used: it lasts one working day.
RESET_LIFETIME = timedelta(hours=24)


def _end_sessions(session: Session, user: User) -> None:
    # Raised in SQL, as ``auth.session.end_sessions`` does, so two ends at once both count.
    session.execute(
        update(User)
        .where(User.id == user.id)
        .values(session_generation=User.session_generation + 1)
        .execution_options(synchronize_session=False)
    )
    session.refresh(user, ["session_generation"])


def change_role(session: Session, user: User, role: str, actor: User) -> None:
    check(actor, "manage_users", user)
    _check_role(session, role, user.organisation)
    if user.id == actor.id and role != user.role:
        raise OperationError("You cannot change your own role; ask another administrator")
    if role == user.role:
        return
    old, user.role = user.role, role
    # A session carries the old role's pages open: it ends, and the user signs in as the new role.
    _end_sessions(session, user)
    audit.record(session, actor, "change_role", "user", user.id, detail=f"{old} to {role}")


def set_active(session: Session, user: User, active: bool, actor: User) -> None:
    """Disable (every session ends at once) or re-enable a user."""
    check(actor, "manage_users", user)
    if user.id == actor.id and not active:
        raise OperationError("You cannot disable your own account")
    if user.active == active:
        return
    user.active = active
    # Raised on re-enabling too, so no session from before the disabling comes back to life.
    _end_sessions(session, user)
    audit.record(session, actor, "enable" if active else "disable", "user", user.id)


def _digest(token: str) -> str:
    # The token is 32 random bytes, so a plain hash cannot be reversed by guessing (unlike a password).
    return hashlib.sha256(token.encode()).hexdigest()


def issue_reset(session: Session, user: User, actor: User) -> str:
    """Make a one-time reset link secret for ``user``; shown once, only its hash is stored.

    Earlier unused links stop working, so only the latest one handed over is live.
    """
    check(actor, "manage_users", user)
    now = utcnow()
    for earlier in session.scalars(
        select(PasswordReset).where(PasswordReset.user_id == user.id, PasswordReset.used_at.is_(None))
    ):
        earlier.used_at = now
    token = secrets.token_urlsafe(32)
    session.add(
        PasswordReset(
            user_id=user.id,
            token_hash=_digest(token),
            created_by_id=actor.id,
            created_at=now,
            expires_at=now + RESET_LIFETIME,
        )
    )
    session.flush()
    audit.record(session, actor, "reset_password", "user", user.id, detail="reset link issued")
    return token


def live_reset(session: Session, token: str) -> PasswordReset | None:
    """The reset a link's secret names, if it is unused, unexpired and for an active user."""
    reset = session.scalar(select(PasswordReset).where(PasswordReset.token_hash == _digest(token)))
    if reset is None or reset.used_at is not None or reset.expires_at <= utcnow():
        return None
    return reset if reset.user.active else None


def use_reset(session: Session, reset: PasswordReset, password: str) -> User:
    """Set the user's new password through a live reset, which then stops working."""
    user = reset.user
    problem = password_problem(password, email=user.email, name=user.name)
    if problem:
        raise OperationError(problem)
    reset.used_at = utcnow()
    user.password_hash = hash_password(password)
    _end_sessions(session, user)
    audit.record(session, user, "change_password", "user", user.id, detail="through a reset link")
    return user

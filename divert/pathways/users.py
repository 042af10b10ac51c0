"""Creating users (from the admin pages and the CLI)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from divert.auth.passwords import hash_password, password_problem
from divert.models import ROLES, Organisation, User, audit
from divert.pathways.errors import OperationError


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
    if role not in ROLES:
        raise OperationError(f"Role must be one of: {', '.join(ROLES)}")
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

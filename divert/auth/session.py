"""Loading the signed-in user, starting and ending sessions, idle and absolute expiry, and
unauthorised responses.

The session is a signed cookie, so the server cannot delete a copy of it. Instead each user has a
session generation, copied into the session at sign-in and compared on every request: raising it
(``end_sessions``) makes every copy of every session the user has stop working at once.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import Flask, jsonify, redirect, request, session, url_for
from flask_login import login_user, logout_user
from sqlalchemy import update
from werkzeug.wrappers import Response

from divert.app.extensions import db, login_manager
from divert.models import User, utcnow

# However active a session is, it ends after a working shift.
ABSOLUTE_LIFETIME = timedelta(hours=12)
GENERATION = "generation"


@login_manager.user_loader  # type: ignore[untyped-decorator]  # flask_login is untyped
def _load_user(user_id: str) -> User | None:
    if not user_id.isdigit():
        return None
    user = db.session.get(User, int(user_id))
    if user is None or not user.active:
        return None
    if session.get(GENERATION) != user.session_generation:
        # A copy of a session that sign-out, a password change or an administrator ended.
        session.clear()
        return None
    return user


def start_session(user: User) -> None:
    """Sign ``user`` in on a fresh session (never one an attacker could have planted)."""
    session.clear()
    login_user(user)
    session.permanent = True
    session["signed_in_at"] = utcnow().isoformat()
    session[GENERATION] = user.session_generation


def end_sessions(user: User) -> int:
    """End every session ``user`` has, wherever it is; returns the new generation.

    Raised in SQL (not read, add, write) so two ends at once both count.
    """
    db.session.execute(
        update(User)
        .where(User.id == user.id)
        .values(session_generation=User.session_generation + 1)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(user, ["session_generation"])
    return user.session_generation


def keep_this_session(user: User) -> None:
    """After ``end_sessions`` on the signed-in user's own behalf: this session carries on."""
    session[GENERATION] = user.session_generation


@login_manager.unauthorized_handler  # type: ignore[untyped-decorator]  # flask_login is untyped
def _unauthorised() -> Response | tuple[Response, int]:
    if request.path.startswith("/api/"):
        return jsonify(error={"code": "unauthorised", "message": "Sign in or send an API token."}), 401
    return redirect(url_for("auth.sign_in", next=request.full_path.rstrip("?")))


def register_session_handling(app: Flask) -> None:
    @app.before_request
    def _expire_long_sessions() -> None:
        started = session.get("signed_in_at")
        if started and utcnow() - datetime.fromisoformat(started) > ABSOLUTE_LIFETIME:
            logout_user()
            session.clear()

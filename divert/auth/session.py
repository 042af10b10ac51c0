"""Loading the signed-in user, idle and absolute session expiry, and unauthorised responses."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import Flask, jsonify, redirect, request, session, url_for
from flask_login import logout_user
from werkzeug.wrappers import Response

from divert.app.extensions import db, login_manager
from divert.models import User, utcnow

# However active a session is, it ends after a working shift.
ABSOLUTE_LIFETIME = timedelta(hours=12)


@login_manager.user_loader  # type: ignore[untyped-decorator]  # flask_login is untyped
def _load_user(user_id: str) -> User | None:
    if not user_id.isdigit():
        return None
    user = db.session.get(User, int(user_id))
    return user if user is not None and user.active else None


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

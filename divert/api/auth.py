"""Who is calling the API: the bearer token's user, and never the browser's session.

The API is exempt from CSRF because a browser never sends a bearer token by itself. That is only
safe if a session cookie alone can never act through the API, so a request under /api/ with a
signed-in session but no token is refused (403), and with a token the token alone decides. A
token signs its user in for one request only; nothing is written to the session.
"""

from __future__ import annotations

from flask import Blueprint, Request, g, jsonify, request, session
from werkzeug.wrappers import Response

from divert.api import tokens
from divert.app.extensions import db, login_manager
from divert.models import User

API_PREFIX = "/api/"


def bearer_secret(req: Request) -> str | None:
    scheme, _, secret = req.headers.get("Authorization", "").partition(" ")
    return secret.strip() if scheme.lower() == "bearer" else None


@login_manager.request_loader  # type: ignore[untyped-decorator]  # flask_login is untyped
def user_from_token(req: Request) -> User | None:
    if not req.path.startswith(API_PREFIX):
        return None
    secret = bearer_secret(req)
    return tokens.verify(db.session, secret) if secret else None


def register_bearer_only(bp: Blueprint) -> None:
    # An app-wide hook (not the blueprint's own) so it runs before the app's hook that reads
    # current_user, and also covers /api/ paths that match no route.
    @bp.before_app_request
    def _bearer_only() -> tuple[Response, int] | None:
        if not request.path.startswith(API_PREFIX):
            return None
        if bearer_secret(request) is not None:
            # Flask-Login tries the session before the request loader; with a token present the
            # token decides, whatever cookie came with it.
            g._login_user = user_from_token(request) or login_manager.anonymous_user()
        elif "_user_id" in session:
            return jsonify(
                error={
                    "code": "bearer_token_required",
                    "message": "The API accepts bearer tokens only: send an Authorization: Bearer header.",
                }
            ), 403
        return None

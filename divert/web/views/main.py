"""The home page (one per role) and a health check."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, current_app, jsonify, redirect, render_template, send_file, url_for
from flask_login import current_user
from sqlalchemy import text
from werkzeug.wrappers import Response

from divert.app.extensions import db
from divert.auth import public, requires
from divert.queries.dashboards import home_for
from divert.queries.messages import unread_notices
from divert.web.shown import audit_shown

bp = Blueprint("main", __name__)


@bp.route("/")
@public
def index() -> Response:
    return redirect(url_for("main.home" if current_user.is_authenticated else "auth.sign_in"))


@bp.route("/home")
@requires("use_service")
def home() -> str:
    template, build = home_for(current_user.role)
    context = build(db.session, current_user)
    # Officers' homes list recent encounters; caseworkers' and supervisors' list cases: each names people.
    listed = [e.person_id for e in context.get("encounters", [])]
    unnamed = context.get("unnamed", set())
    listed += [
        case.person_id
        for key in ("mine", "unassigned")
        for case in context.get(key, [])
        if case.id not in unnamed
    ]
    if listed:
        audit_shown("home page", "person", listed)
    return render_template(template, notices=unread_notices(db.session, current_user), **context)


@bp.route("/logo")
@public
def logo() -> Response:
    """The installation's logo (SERVICE_LOGO), or the plain mark shipped with divert."""
    configured = current_app.config["SERVICE_LOGO"]
    path = Path(configured) if configured else Path(current_app.root_path) / "web" / "static" / "logo.svg"
    return send_file(path.resolve(), max_age=3600)


@bp.route("/healthz")
@public
def health() -> Response:
    db.session.execute(text("SELECT 1"))
    return jsonify(status="ok")

"""The home page (one per role) and a health check."""

from __future__ import annotations

from flask import Blueprint, jsonify, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import text
from werkzeug.wrappers import Response

from divert.app.extensions import db
from divert.auth import public, requires
from divert.queries.dashboards import HOMES

bp = Blueprint("main", __name__)


@bp.route("/")
@public
def index() -> Response:
    return redirect(url_for("main.home" if current_user.is_authenticated else "auth.sign_in"))


@bp.route("/home")
@requires("use_service")
def home() -> str:
    template, build = HOMES[current_user.role]
    return render_template(template, **build(db.session, current_user))


@bp.route("/healthz")
@public
def health() -> Response:
    db.session.execute(text("SELECT 1"))
    return jsonify(status="ok")

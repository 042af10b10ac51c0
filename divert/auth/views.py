"""Sign-in and sign-out pages."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user
from sqlalchemy import func, select
from werkzeug.wrappers import Response

from divert.app.extensions import db, limiter
from divert.auth.access import SIGNED_IN, public, requires
from divert.auth.passwords import verify_password
from divert.models import User, audit, utcnow
from divert.web.forms.auth import SignInForm

bp = Blueprint("auth", __name__)


def _login_limit() -> str:
    return str(current_app.config["LOGIN_RATE_LIMIT"])


def _submitted_email() -> str:
    return (request.form.get("email") or "").strip().lower() or (request.remote_addr or "unknown")


def _safe_next(target: str | None) -> str:
    """Only a same-site path, so sign-in cannot bounce people to another site; anything else is ignored.

    Browsers read a backslash as a slash ("/\\evil.example" is another host) and a CR or LF would
    split the Location header, so a path with either, or any control character, is refused too.
    """
    if (
        target
        and len(target) <= 2000
        and target.startswith("/")
        and target.isprintable()
        and "\\" not in target
        and not target.startswith("//")
        and not urlsplit(target).netloc
        and not urlsplit(target).scheme
    ):
        return target
    return url_for("main.home")


@bp.route("/sign-in", methods=["GET", "POST"])
@public
@limiter.limit(_login_limit, methods=["POST"])
@limiter.limit(_login_limit, methods=["POST"], key_func=_submitted_email, scope="sign-in-email")
def sign_in() -> str | Response:
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = SignInForm()
    if form.validate_on_submit():
        email = form.email.data.strip().lower()
        user = db.session.scalar(select(User).where(func.lower(User.email) == email))
        # Always verify (against a dummy hash for unknown emails) so timing does not reveal accounts.
        password_ok = verify_password(user.password_hash if user else None, form.password.data)
        if user is not None and user.active and password_ok:
            session.clear()  # a fresh session on sign-in, against session fixation
            login_user(user)
            session.permanent = True
            session["signed_in_at"] = utcnow().isoformat()
            user.last_signed_in_at = utcnow()
            audit.record(db.session, "sign_in", "user", user.id)
            return redirect(_safe_next(request.args.get("next")))
        audit.record(db.session, "sign_in_failed", "user", user.id if user else None, detail=email[:100])
        # Committed deliberately on a 200 response: failed attempts are evidence.
        form.email.errors = ["Enter a correct email address and password"]
    return render_template("auth/sign_in.html", form=form)


@bp.route("/sign-out", methods=["POST"])
@requires(SIGNED_IN)
def sign_out() -> Response:
    audit.record(db.session, "sign_out", "user", current_user.id)
    logout_user()
    session.clear()
    flash("You have signed out.", "success")
    return redirect(url_for("auth.sign_in"))

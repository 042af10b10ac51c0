"""Sign-in, sign-out and change-password pages."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, logout_user
from sqlalchemy import func, select
from werkzeug.wrappers import Response

from divert.app.extensions import db
from divert.auth import throttle
from divert.auth.access import public, requires
from divert.auth.passwords import MIN_LENGTH, hash_password, verify_password
from divert.auth.session import end_sessions, keep_this_session, start_session
from divert.models import User, audit, utcnow
from divert.web.forms.auth import ChangePasswordForm, SignInForm

bp = Blueprint("auth", __name__)


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


def _keys(email: str) -> throttle.Keys:
    return throttle.Keys.of(str(current_app.config["SECRET_KEY"]), request.remote_addr or "unknown", email)


def _too_many(refusal: throttle.Refusal) -> tuple[str, int, dict[str, str]]:
    return (
        render_template("errors/429.html", wait=refusal.seconds, reason=refusal.reason),
        429,
        {"Retry-After": str(refusal.seconds)},
    )


@bp.route("/sign-in", methods=["GET", "POST"])
@public
def sign_in() -> str | Response | tuple[str, int, dict[str, str]]:
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = SignInForm()
    if form.validate_on_submit():
        email = form.email.data.strip().lower()
        keys = _keys(email)
        # Checked before the password, so a refused attempt tests no guess.
        refusal = throttle.check(db.session, throttle.Policy.from_config(current_app.config), keys)
        if refusal is not None:
            return _too_many(refusal)
        user = db.session.scalar(select(User).where(func.lower(User.email) == email))
        # Always verify (against a dummy hash for unknown emails) so timing does not reveal accounts.
        password_ok = verify_password(user.password_hash if user else None, form.password.data)
        if user is not None and user.active and password_ok:
            start_session(user)
            user.last_signed_in_at = utcnow()
            throttle.record_success(db.session, keys)
            audit.record(db.session, user, "sign_in", "user", user.id)
            return redirect(_safe_next(request.args.get("next")))
        throttle.record_failure(db.session, keys)
        audit.record(
            db.session, None, "sign_in_failed", "user", user.id if user else None, detail=email[:100]
        )
        # Committed deliberately on a 200 response: failed attempts are evidence, and counted.
        form.email.errors = ["Enter a correct email address and password"]
    return render_template("auth/sign_in.html", form=form)


@bp.route("/sign-out", methods=["POST"])
@requires("use_service")
def sign_out() -> Response:
    audit.record(db.session, current_user, "sign_out", "user", current_user.id)
    # Every copy of the session ends, not only this browser's cookie.
    end_sessions(current_user._get_current_object())
    logout_user()
    session.clear()
    flash("You have signed out.", "success")
    return redirect(url_for("auth.sign_in"))


@bp.route("/account/password", methods=["GET", "POST"])
@requires("use_service")
def change_password() -> str | Response | tuple[str, int] | tuple[str, int, dict[str, str]]:
    user: User = current_user._get_current_object()
    form = ChangePasswordForm(user)
    if form.validate_on_submit():
        keys = _keys(user.email)
        # A wrong current password is a failed sign-in: someone at an unattended session must not
        # be able to guess it faster than at the sign-in page.
        refusal = throttle.check(db.session, throttle.Policy.from_config(current_app.config), keys)
        if refusal is not None:
            return _too_many(refusal)
        if verify_password(user.password_hash, form.current_password.data):
            user.password_hash = hash_password(form.new_password.data)
            end_sessions(user)
            keep_this_session(user)
            audit.record(db.session, user, "change_password", "user", user.id)
            flash("Your password has been changed. You have been signed out everywhere else.", "success")
            return redirect(url_for("main.home"))
        throttle.record_failure(db.session, keys)
        audit.record(db.session, user, "wrong_password", "user", user.id, detail="changing password")
        form.current_password.errors = ["Your current password is not correct"]
        # 200, so the failure above is committed and counted.
        return render_template("auth/change_password.html", form=form, min_length=MIN_LENGTH)
    page = render_template("auth/change_password.html", form=form, min_length=MIN_LENGTH)
    return page, 400 if form.errors else 200

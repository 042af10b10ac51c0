"""Setting a new password through a one-time link an administrator handed over.

Public: the person has no working password. The link's secret is the credential, and it works
once, for a day, and only while the account is enabled (``pathways.users.live_reset``).
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, session, url_for
from flask_login import current_user, logout_user
from werkzeug.wrappers import Response

from divert.app.extensions import db
from divert.auth import public
from divert.auth.passwords import MIN_LENGTH
from divert.pathways.errors import OperationError
from divert.pathways.users import live_reset, use_reset
from divert.web.forms.admin import ResetPasswordForm

bp = Blueprint("accounts", __name__)


@bp.route("/reset-password/<token>", methods=["GET", "POST"])
@public
def reset_password(token: str) -> str | Response | tuple[str, int]:
    reset = live_reset(db.session, token)
    if reset is None:
        return render_template("auth/reset_expired.html"), 404
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            use_reset(db.session, reset, form.new_password.data)
        except OperationError as error:
            form.new_password.errors = [str(error)]
        else:
            # Whoever was signed in on this browser is not the person who just set a password.
            if current_user.is_authenticated:
                logout_user()
            session.clear()
            flash("Your password has been set. Sign in with it now.", "success")
            return redirect(url_for("auth.sign_in"))
    page = render_template("auth/reset_password.html", form=form, min_length=MIN_LENGTH, user=reset.user)
    return page, 400 if form.errors else 200

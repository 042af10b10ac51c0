"""Administrators' pages for API tokens: list, create (shown once), revoke. Organisation-scoped."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovSelect, GovSubmitInput, GovTextInput
from sqlalchemy import select
from werkzeug.wrappers import Response
from wtforms import IntegerField, SelectField, StringField, SubmitField
from wtforms.validators import InputRequired, Length, NumberRange, Optional, ValidationError

from divert.api import tokens
from divert.app.extensions import db
from divert.auth import requires
from divert.models import User, audit
from divert.models.api import ApiToken
from divert.pathways.errors import OperationError
from divert.rules import limits
from divert.rules.limits import text_problem

bp = Blueprint("api_tokens", __name__, url_prefix="/admin/tokens")


class TokenForm(FlaskForm):  # type: ignore[misc]  # FlaskForm is untyped
    user_id = SelectField(
        "User the token acts as",
        widget=GovSelect(),
        coerce=int,
        validators=[InputRequired(message="Select the user the token acts as")],
    )
    name = StringField(
        "Name",
        widget=GovTextInput(),
        validators=[
            InputRequired(message="Enter a name for the token"),
            Length(max=200, message="Name must be 200 characters or fewer"),
        ],
    )
    days = IntegerField(
        "Expires after (days, optional)",
        widget=GovTextInput(),
        validators=[
            Optional(),
            NumberRange(min=1, max=3650, message="Enter a number of days from 1 to 3650"),
        ],
    )
    submit = SubmitField("Create token", widget=GovSubmitInput())

    def validate_name(self, field: StringField) -> None:
        # The web forms' base form does this for every field; this page's form lives in the API part.
        problem = text_problem("Name", field.data, limits.USER_NAME)
        if problem:
            raise ValidationError(problem)


class RevokeForm(FlaskForm):  # type: ignore[misc]  # FlaskForm is untyped
    submit = SubmitField("Revoke", widget=GovSubmitInput())


def _colleagues() -> list[User]:
    return list(
        db.session.scalars(
            select(User)
            .where(User.organisation_id == current_user.organisation_id, User.active.is_(True))
            .order_by(User.name)
        )
    )


@bp.route("")
@requires("manage_tokens")
def index() -> str:
    rows = tokens.for_organisation(db.session, current_user.organisation_id)
    audit.record(db.session, current_user, "view", "api_token", None, detail="token list")
    return render_template("admin/tokens.html", tokens=rows, revoke_form=RevokeForm())


@bp.route("/new", methods=["GET", "POST"])
@requires("manage_tokens")
def new() -> str | tuple[str, int]:
    form = TokenForm()
    users = {u.id: u for u in _colleagues()}
    form.user_id.choices = [(u.id, f"{u.name} ({u.email}, {u.role_label})") for u in users.values()]
    if form.validate_on_submit():
        try:
            issued = tokens.create(
                db.session, users[form.user_id.data], form.name.data, current_user, form.days.data
            )
        except OperationError as error:
            form.name.errors = [str(error)]
        else:
            # Rendered, not redirected: the token must never sit in a URL, the session or a log.
            return render_template("admin/tokens_created.html", issued=issued)
    return render_template("admin/tokens_new.html", form=form), 400 if form.errors else 200


@bp.route("/<int:token_id>/revoke", methods=["POST"])
@requires("manage_tokens")
def revoke(token_id: int) -> Response:
    token = db.session.get(ApiToken, token_id)
    if token is None or token.user.organisation_id != current_user.organisation_id:
        abort(404)
    if RevokeForm().validate_on_submit():
        try:
            tokens.revoke(db.session, current_user, token)
        except OperationError as error:
            flash(str(error), "error")
        else:
            flash(f"Token {token.prefix}… revoked.", "success")
    return redirect(url_for("api_tokens.index"))

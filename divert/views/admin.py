"""Administration: users and reference data."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from ..auth import requires
from ..extensions import db
from ..forms.admin import UserForm
from ..models import EthnicityCode, OffenceCategory, OutcomeCode, Programme, User
from ..pathways.errors import OperationError
from ..pathways.users import create_user

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.route("/users")
@requires("admin")
def users() -> str:
    rows = db.session.scalars(
        select(User).where(User.organisation_id == current_user.organisation_id).order_by(User.name)
    ).all()
    return render_template("admin/users.html", users=rows)


@bp.route("/users/new", methods=["GET", "POST"])
@requires("admin")
def new_user() -> str | Response | tuple[str, int]:
    form = UserForm()
    if form.validate_on_submit():
        try:
            user = create_user(
                db.session,
                email=form.email.data,
                name=form.name.data,
                role=form.role.data,
                password=form.password.data,
                organisation=current_user.organisation,
            )
        except OperationError as error:
            form.email.errors = [str(error)]
        else:
            flash(f"User {user.email} created.", "success")
            return redirect(url_for("admin.users"))
    return render_template("admin/new_user.html", form=form), 400 if form.errors else 200


@bp.route("/reference")
@requires("admin")
def reference() -> str:
    programmes = db.session.scalars(select(Programme).order_by(Programme.name)).all()
    ethnicities = db.session.scalars(
        select(EthnicityCode).order_by(EthnicityCode.scheme.desc(), EthnicityCode.sort_order)
    ).all()
    outcomes = db.session.scalars(select(OutcomeCode).order_by(OutcomeCode.code)).all()
    offences = db.session.scalars(select(OffenceCategory).order_by(OffenceCategory.sort_order)).all()
    tables = [
        ("Programmes", ["Code", "Name", "Versions"], [(p.code, p.name, len(p.versions)) for p in programmes]),
        (
            "Ethnicity codes",
            ["Scheme", "Code", "Label", "Group"],
            [(e.scheme.replace("_", "-"), e.code, e.label, e.ethnic_group) for e in ethnicities],
        ),
        ("Home Office outcome codes", ["Code", "Outcome"], [(o.code, o.label) for o in outcomes]),
        (
            "Offence categories",
            ["Slug", "Label", "In use"],
            [(o.slug, o.label, "Yes" if o.active else "No") for o in offences],
        ),
    ]
    return render_template("admin/reference.html", tables=tables)

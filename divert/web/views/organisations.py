"""Organisations and programme assignments: the system administrator's pages.

A system administrator is an administrator of the installation's operator (``manage_organisations``
in ``auth.policy``). They create organisations, give each one its first users, and say which
force records under which programme and which organisation receives each route, from when.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import func, select
from werkzeug.wrappers import Response

from divert.app.extensions import db
from divert.auth import requires
from divert.models import Organisation, Programme, ProgrammeOperator, User
from divert.pathways.errors import OperationError
from divert.pathways.organisations import create_organisation
from divert.pathways.programmes import assign_operator
from divert.pathways.users import create_user
from divert.web.forms.admin import AssignmentForm, OrganisationForm, UserForm

bp = Blueprint("organisations", __name__, url_prefix="/admin/organisations")


def _organisation(organisation_id: int) -> Organisation:
    organisation = db.session.get(Organisation, organisation_id)
    if organisation is None:
        abort(404)
    return organisation


def _assignment_form(**kwargs: object) -> AssignmentForm:
    form = AssignmentForm(**kwargs)
    form.programme.choices = [
        (p.code, p.name) for p in db.session.scalars(select(Programme).order_by(Programme.name))
    ]
    return form


@bp.route("")
@requires("manage_organisations")
def index() -> str:
    grouped = select(User.organisation_id, func.count()).group_by(User.organisation_id)
    counts = {organisation_id: count for organisation_id, count in db.session.execute(grouped)}
    rows = db.session.scalars(select(Organisation).order_by(Organisation.name)).all()
    return render_template("organisations/index.html", organisations=rows, counts=counts)


@bp.route("/new", methods=["GET", "POST"])
@requires("manage_organisations")
def new() -> str | Response | tuple[str, int]:
    form = OrganisationForm()
    if form.validate_on_submit():
        try:
            organisation = create_organisation(
                db.session, code=form.code.data, name=form.name.data, kind=form.kind.data, actor=current_user
            )
        except OperationError as error:
            form.code.errors = [str(error)]
        else:
            flash(f"{organisation.name} created. Now give it an administrator.", "success")
            return redirect(url_for("organisations.show", organisation_id=organisation.id))
    return render_template("organisations/new.html", form=form), 400 if form.errors else 200


@bp.route("/<int:organisation_id>")
@requires("manage_organisations")
def show(organisation_id: int) -> str:
    organisation = _organisation(organisation_id)
    return _show(organisation, _assignment_form())


def _show(organisation: Organisation, form: AssignmentForm, status: int = 200) -> str:
    users = db.session.scalars(
        select(User).where(User.organisation_id == organisation.id).order_by(User.name)
    ).all()
    assignments = db.session.execute(
        select(ProgrammeOperator, Programme)
        .join(Programme, Programme.id == ProgrammeOperator.programme_id)
        .where(ProgrammeOperator.organisation_id == organisation.id)
        .order_by(Programme.name)
    ).all()
    return render_template(
        "organisations/show.html",
        organisation=organisation,
        users=users,
        assignments=assignments,
        form=form,
    )


@bp.route("/<int:organisation_id>/assignments", methods=["POST"])
@requires("manage_organisations")
def assign(organisation_id: int) -> str | Response | tuple[str, int]:
    organisation = _organisation(organisation_id)
    form = _assignment_form()
    if form.validate_on_submit():
        programme = db.session.scalar(select(Programme).where(Programme.code == form.programme.data))
        assert programme is not None  # the select's choices are the stored programmes
        try:
            assign_operator(
                db.session,
                programme,
                organisation.id,
                form.role.data,
                (form.route.data or "").strip() or None,
                actor=current_user,
                effective_from=form.effective_from.data,
                effective_to=form.effective_to.data,
            )
        except OperationError as error:
            form.route.errors = [str(error)]
        else:
            flash(f"{organisation.name}'s part in {programme.name} is saved.", "success")
            return redirect(url_for("organisations.show", organisation_id=organisation.id))
    return _show(organisation, form), 400


@bp.route("/<int:organisation_id>/users/new", methods=["GET", "POST"])
@requires("manage_organisations")
def new_user(organisation_id: int) -> str | Response | tuple[str, int]:
    organisation = _organisation(organisation_id)
    form = UserForm()
    if form.validate_on_submit():
        try:
            user = create_user(
                db.session,
                email=form.email.data,
                name=form.name.data,
                role=form.role.data,
                password=form.password.data,
                organisation=organisation,
                actor=current_user,
            )
        except OperationError as error:
            form.email.errors = [str(error)]
        else:
            flash(f"User {user.email} created in {organisation.name}.", "success")
            return redirect(url_for("organisations.show", organisation_id=organisation.id))
    page = render_template("admin/new_user.html", form=form, organisation=organisation)
    return page, 400 if form.errors else 200

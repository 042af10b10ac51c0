"""Administration: users and reference data."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload
from werkzeug.wrappers import Response

from divert.app.extensions import db
from divert.auth import can, requires
from divert.auth.session import end_sessions, keep_this_session
from divert.models import (
    EthnicityCode,
    OffenceCategory,
    Organisation,
    OutcomeCode,
    Programme,
    ProgrammeOperator,
    ProgrammeVersion,
    User,
    audit,
)
from divert.models.programme import compiled
from divert.pathways.errors import OperationError
from divert.pathways.programmes import roles_for
from divert.pathways.users import change_role, create_user, issue_reset, set_active
from divert.web.forms.admin import RoleForm, UserForm
from divert.web.shown import audit_shown

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.route("/users")
@requires("manage_users")
def users() -> str:
    rows = db.session.scalars(
        select(User).where(User.organisation_id == current_user.organisation_id).order_by(User.name)
    ).all()
    audit_shown("users list", "user", (u.id for u in rows))
    return render_template(
        "admin/users.html",
        users=rows,
        organisation=current_user.organisation,
        new_user_url=url_for("admin.new_user"),
    )


def _managed_user(user_id: int) -> User:
    user = db.session.get(User, user_id)
    # Another organisation's user is not there to be found, as on every page by id.
    if user is None or not can(current_user, "manage_users", user):
        abort(404)
    return user


@bp.route("/users/<int:user_id>")
@requires("manage_users")
def user(user_id: int) -> str:
    managed = _managed_user(user_id)
    form = RoleForm(role=managed.role)
    _offer_roles(form.role, managed.organisation)
    return render_template("admin/user.html", user=managed, role_form=form)


def _offer_roles(field: Any, organisation: Organisation) -> None:
    # The built-in roles and those the programme definitions declare for the organisation's kind.
    field.choices = list(roles_for(db.session, organisation.kind).items())


@bp.route("/users/<int:user_id>/role", methods=["POST"])
@requires("manage_users")
def user_role(user_id: int) -> str | Response | tuple[str, int]:
    managed = _managed_user(user_id)
    form = RoleForm()
    _offer_roles(form.role, managed.organisation)
    if form.validate_on_submit():
        try:
            change_role(db.session, managed, form.role.data, current_user)
        except OperationError as error:
            form.role.errors = [str(error)]
        else:
            flash(f"{managed.name} is now a {managed.role_label}.", "success")
            return redirect(url_for("admin.user", user_id=managed.id))
    return render_template("admin/user.html", user=managed, role_form=form), 400


@bp.route("/users/<int:user_id>/active", methods=["POST"])
@requires("manage_users")
def user_active(user_id: int) -> Response:
    managed = _managed_user(user_id)
    enable = request.form.get("active") == "yes"
    try:
        set_active(db.session, managed, enable, current_user)
    except OperationError as error:
        flash(str(error), "error")
    else:
        flash(
            f"{managed.name} can sign in again."
            if enable
            else f"{managed.name} has been disabled and signed out everywhere.",
            "success",
        )
    return redirect(url_for("admin.user", user_id=managed.id))


@bp.route("/users/<int:user_id>/reset", methods=["POST"])
@requires("manage_users")
def user_reset(user_id: int) -> str:
    managed = _managed_user(user_id)
    token = issue_reset(db.session, managed, current_user)
    link = url_for("accounts.reset_password", token=token, _external=True)
    return render_template("admin/reset_link.html", user=managed, link=link)


@bp.route("/users/<int:user_id>/end-sessions", methods=["POST"])
@requires("manage_users")
def end_user_sessions(user_id: int) -> Response:
    user = _managed_user(user_id)
    end_sessions(user)
    if user.id == current_user.id:
        keep_this_session(user)  # the administrator's own other sessions end, not this one
    audit.record(db.session, current_user, "end_sessions", "user", user.id)
    flash(f"{user.name} has been signed out everywhere.", "success")
    return redirect(url_for("admin.users"))


@bp.route("/users/new", methods=["GET", "POST"])
@requires("manage_users")
def new_user() -> str | Response | tuple[str, int]:
    form = UserForm()
    _offer_roles(form.role, current_user.organisation)
    if form.validate_on_submit():
        try:
            user = create_user(
                db.session,
                email=form.email.data,
                name=form.name.data,
                role=form.role.data,
                password=form.password.data,
                organisation=current_user.organisation,
                actor=current_user,
            )
        except OperationError as error:
            form.email.errors = [str(error)]
        else:
            flash(f"User {user.email} created.", "success")
            return redirect(url_for("admin.users"))
    return render_template("admin/new_user.html", form=form), 400 if form.errors else 200


@bp.route("/reference")
@requires("manage_programmes")
def reference() -> str:
    programmes = db.session.scalars(select(Programme).order_by(Programme.name)).all()
    # Counted in one grouped query, not by loading each programme's versions (a query per programme).
    versions = {
        programme_id: count
        for programme_id, count in db.session.execute(
            select(ProgrammeVersion.programme_id, func.count()).group_by(ProgrammeVersion.programme_id)
        )
    }
    ethnicities = db.session.scalars(
        select(EthnicityCode).order_by(EthnicityCode.scheme.desc(), EthnicityCode.sort_order)
    ).all()
    outcomes = db.session.scalars(select(OutcomeCode).order_by(OutcomeCode.code)).all()
    offences = db.session.scalars(select(OffenceCategory).order_by(OffenceCategory.sort_order)).all()
    tables = [
        (
            "Programmes",
            ["Code", "Name", "Versions"],
            [(p.code, p.name, versions.get(p.id, 0)) for p in programmes],
        ),
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


@bp.route("/programmes")
@requires("manage_programmes")
def programmes() -> str:
    # Every programme's versions are listed: loaded in one query, not one per programme.
    rows = db.session.scalars(
        select(Programme).options(selectinload(Programme.versions)).order_by(Programme.name)
    ).all()
    operators = db.session.execute(
        select(
            ProgrammeOperator.programme_id, Organisation.name, ProgrammeOperator.role, ProgrammeOperator.route
        )
        .join(Organisation, Organisation.id == ProgrammeOperator.organisation_id)
        .order_by(Organisation.name)
    ).all()
    by_programme: dict[int, list[tuple[str, str, str | None]]] = {}
    for programme_id, name, role, route in operators:
        by_programme.setdefault(programme_id, []).append((name, role, route))
    return render_template("admin/programmes.html", programmes=rows, operators=by_programme)


@bp.route("/programmes/versions/<int:version_id>")
@requires("manage_programmes")
def programme_version(version_id: int) -> str:
    version = db.session.get(ProgrammeVersion, version_id)
    if version is None:
        abort(404)
    definition = compiled(version)
    return render_template("admin/programme_version.html", version=version, definition=definition)

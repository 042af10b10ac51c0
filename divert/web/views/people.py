"""Finding a person, seeing their record and correcting it."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload
from werkzeug.wrappers import Response

from divert.app.extensions import db
from divert.auth import CASEWORKING, requires
from divert.auth.refusal import not_found
from divert.auth.visibility import visible_people, visible_referrals
from divert.models import ChangeRecord, Encounter, EthnicityCode, Person, Referral, User, audit
from divert.pathways.errors import StaleEdit
from divert.pathways.people import EDITABLE, search_people, update_person
from divert.rules import limits
from divert.rules.limits import text_problem
from divert.web.forms.person import PersonForm
from divert.web.shown import audit_shown

bp = Blueprint("people", __name__, url_prefix="/people")

# Ethnicity is sensitive data: shown only to roles that record it or check fairness of decisions.
SEES_ETHNICITY = frozenset({"officer", "supervisor", "admin"})


def _person_or_404(person_id: int) -> Person:
    person = db.session.scalar(visible_people(current_user).where(Person.id == person_id))
    if person is None:
        not_found(db.session, Person, person_id, "person")
    return person


@bp.route("")
@requires(CASEWORKING)
def search() -> str | tuple[str, int]:
    query = (request.args.get("q") or "").strip()
    people: list[Person] = []
    # A name or PNC ID is never longer than a name column; a longer pattern (or a NUL) is refused
    # before it reaches the database, which cannot match it (SQLite: "LIKE pattern too complex").
    error = text_problem("Name or PNC ID", query, limits.NAME)
    if error:
        return render_template("people/search.html", query="", people=[], error=error), 400
    if query:
        people = search_people(db.session, current_user, query)
        audit_shown("search results", "person", (p.id for p in people), action="search")
    return render_template("people/search.html", query=query, people=people, error=None)


@bp.route("/<int:person_id>")
@requires(CASEWORKING)
def show(person_id: int) -> str:
    person = _person_or_404(person_id)
    encounters = db.session.scalars(
        select(Encounter).where(Encounter.person_id == person.id).order_by(Encounter.occurred_at.desc())
    ).all()
    referrals = db.session.scalars(
        visible_referrals(current_user)
        # Each case shows its programme and state name: loaded with the cases, not one query per case.
        .options(joinedload(Referral.programme), joinedload(Referral.programme_version))
        .where(Referral.person_id == person.id)
        .order_by(Referral.opened_at.desc())
    ).all()
    history = db.session.scalars(
        select(ChangeRecord)
        .where(ChangeRecord.object_type == "person", ChangeRecord.object_id == person.id)
        .order_by(ChangeRecord.id.desc())
        .limit(100)
    ).all()
    audit.record(db.session, "view", "person", person.id)
    sees_ethnicity = current_user.role in SEES_ETHNICITY
    if not sees_ethnicity:
        history = [h for h in history if "ethnicity" not in h.field]
    return render_template(
        "people/show.html",
        person=person,
        encounters=encounters,
        referrals=referrals,
        history=history,
        sees_ethnicity=sees_ethnicity,
        ethnicity_labels=_ethnicity_labels(),
    )


@bp.route("/<int:person_id>/edit", methods=["GET", "POST"])
@requires("officer", "supervisor", "admin")
def edit(person_id: int) -> str | Response | tuple[str, int]:
    person = _person_or_404(person_id)
    form = PersonForm(obj=person)
    _ethnicity_choices(form)
    if request.method == "GET":
        form.version_id.data = str(person.version_id)
        audit.record(db.session, "view", "person", person.id, detail="edit form")
    if form.validate_on_submit():
        changes = {field: getattr(form, field).data or None for field in EDITABLE}
        changes["given_name"] = form.given_name.data
        changes["family_name"] = form.family_name.data
        changes["gender"] = form.gender.data
        changes["self_defined_ethnicity"] = form.self_defined_ethnicity.data
        try:
            changed = update_person(db.session, person, changes, form.version_id.version())
        except StaleEdit as error:
            db.session.rollback()
            person = _person_or_404(person_id)
            form = PersonForm(obj=person)
            _ethnicity_choices(form)
            form.version_id.data = str(person.version_id)
            message = f"{error} {_latest_change(person)}"
            return render_template("people/edit.html", form=form, person=person, stale=message), 409
        flash("Changes saved." if changed else "No changes to save.", "success")
        return redirect(url_for("people.show", person_id=person.id))
    status = 400 if form.errors else 200
    return render_template("people/edit.html", form=form, person=person, stale=None), status


def _latest_change(person: Person) -> str:
    """Which fields the other person changed, so the user sees what is different now."""
    latest = db.session.scalars(
        select(ChangeRecord)
        .where(ChangeRecord.object_type == "person", ChangeRecord.object_id == person.id)
        .order_by(ChangeRecord.id.desc())
        .limit(20)
    ).all()
    if not latest:
        return ""
    batch = [c for c in latest if c.at == latest[0].at]
    who = db.session.get(User, batch[0].user_id) if batch[0].user_id else None
    fields = ", ".join(sorted({c.field.replace("_", " ") for c in batch}))
    by = f" by {who.name}" if who else ""
    return f"They changed: {fields}{by}."


def _ethnicity_labels() -> dict[str, str]:
    return {c.code: f"{c.label} ({c.ethnic_group})" for c in db.session.scalars(select(EthnicityCode))}


def _ethnicity_choices(form: PersonForm) -> None:
    codes = db.session.scalars(select(EthnicityCode).order_by(EthnicityCode.sort_order)).all()
    form.self_defined_ethnicity.choices = [
        (c.code, f"{c.code} – {c.label}") for c in codes if c.scheme == "self_defined"
    ]
    form.officer_defined_ethnicity.choices = [("", "Not recorded")] + [
        (c.code, f"{c.code} – {c.label}") for c in codes if c.scheme == "officer_defined"
    ]

"""Finding a person, seeing their record and correcting it."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.wrappers import Response

from divert.app.extensions import db
from divert.auth import can, holds, requires
from divert.auth.refusal import not_found
from divert.auth.visibility import (
    colleagues,
    held_people,
    holds_person,
    visible_encounters,
    visible_people,
    visible_referrals,
)
from divert.models import ChangeRecord, Encounter, EthnicityCode, Person, Referral, User, audit
from divert.pathways import sharing
from divert.pathways.errors import OperationError, StaleEdit
from divert.pathways.people import EDITABLE, search_people, update_person
from divert.rules import limits
from divert.rules.codes import phrase
from divert.rules.limits import text_problem
from divert.web.forms.person import PersonForm
from divert.web.shown import audit_shown

bp = Blueprint("people", __name__, url_prefix="/people")

# Ethnicity is sensitive data: shown only to roles that record it or check fairness of decisions.


def _person_or_404(person_id: int, *, holder: bool = False) -> Person:
    """The person, if ``current_user`` may see them (``holder``: only if their organisation holds
    the record); else 404, as for a person who does not exist."""
    people = held_people(current_user) if holder else visible_people(current_user)
    person = db.session.scalar(people.where(Person.id == person_id))
    if person is None:
        not_found(db.session, Person, person_id, "person")
    return person


@bp.route("")
@requires("view_people")
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
@requires("view_people")
def show(person_id: int) -> str:
    person = _person_or_404(person_id)
    # Only what this organisation recorded or is party to; another force's record is its own.
    encounters = db.session.scalars(
        visible_encounters(current_user)
        .where(Encounter.person_id == person.id)
        .order_by(Encounter.occurred_at.desc())
    ).all()
    referrals = db.session.scalars(
        visible_referrals(current_user)
        # Each case shows its programme and state name: loaded with the cases, not one query per case.
        .options(joinedload(Referral.programme), joinedload(Referral.programme_version))
        .where(Referral.person_id == person.id)
        .order_by(Referral.opened_at.desc())
    ).all()
    changes = select(ChangeRecord).where(
        ChangeRecord.object_type == "person", ChangeRecord.object_id == person.id
    )
    if not holds_person(current_user, person):
        changes = changes.where(ChangeRecord.user_id.in_(colleagues(current_user)))
    history = db.session.scalars(changes.order_by(ChangeRecord.id.desc()).limit(100)).all()
    audit.record(db.session, current_user, "view", "person", person.id)
    sees_ethnicity = holds(current_user, "see_ethnicity")
    if not sees_ethnicity:
        history = [h for h in history if "ethnicity" not in h.field]
    return render_template(
        "people/show.html",
        person=person,
        # Only the holding organisation changes the record, records against it or merges it.
        held=holds_person(current_user, person),
        encounters=encounters,
        referrals=referrals,
        history=history,
        sees_ethnicity=sees_ethnicity,
        ethnicity_labels=_ethnicity_labels(),
        # Issue 17: where the holder shared the record with other forces, under which agreements.
        # Shown to those who may share it (the holder's supervisors and administrators).
        shares=sharing.shares_of(db.session, person) if can(current_user, "share_person", person) else [],
        share_agreements=sharing.force_agreements(db.session, person)
        if can(current_user, "share_person", person)
        else [],
    )


@bp.route("/<int:person_id>/edit", methods=["GET", "POST"])
@requires("edit_person")
def edit(person_id: int) -> str | Response | tuple[str, int]:
    person = _person_or_404(person_id, holder=True)
    form = PersonForm(obj=person)
    _ethnicity_choices(form)
    if request.method == "GET":
        form.version_id.data = str(person.version_id)
        audit.record(db.session, current_user, "view", "person", person.id, detail="edit form")
    if form.validate_on_submit():
        changes = {field: getattr(form, field).data or None for field in EDITABLE}
        changes["given_name"] = form.given_name.data
        changes["family_name"] = form.family_name.data
        changes["gender"] = form.gender.data
        changes["self_defined_ethnicity"] = form.self_defined_ethnicity.data
        try:
            changed = update_person(db.session, current_user, person, changes, form.version_id.version())
        except (StaleEdit, StaleDataError) as error:
            # StaleDataError: another edit committed between the version check and this flush.
            db.session.rollback()
            person = _person_or_404(person_id, holder=True)
            form = PersonForm(obj=person)
            _ethnicity_choices(form)
            form.version_id.data = str(person.version_id)
            stale = error if isinstance(error, StaleEdit) else StaleEdit("person's record")
            message = f"{stale} {_latest_change(person)}"
            return render_template("people/edit.html", form=form, person=person, stale=message), 409
        except OperationError as error:
            form.pnc_id.errors = [str(error)]
            return render_template("people/edit.html", form=form, person=person, stale=None), 400
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
    fields = ", ".join(sorted({phrase(c.field) for c in batch}))
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

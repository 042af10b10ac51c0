"""Confirming that two records are one person (a supervisor's decision), and undoing it."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from divert.app.extensions import db
from divert.app.ids import parse_id
from divert.auth import requires
from divert.auth.refusal import not_found
from divert.auth.visibility import held_people
from divert.models import Person, PersonMerge
from divert.pathways.errors import OperationError
from divert.pathways.matching import possible_matches
from divert.pathways.merge import merge_people, undo_merge
from divert.web.forms.merge import MergeForm, UndoMergeForm
from divert.web.shown import audit_shown

bp = Blueprint("merges", __name__)


def _person(person_id: int) -> Person:
    # Merges are between records the supervisor's organisation holds, and nobody else's.
    person = db.session.scalar(held_people(current_user).where(Person.id == person_id))
    if person is None:
        not_found(db.session, Person, person_id, "person")
    return person


@bp.route("/people/<int:person_id>/matches", methods=["GET", "POST"])
@requires("merge_people")
def matches(person_id: int) -> str | Response | tuple[str, int]:
    person = _person(person_id)
    candidates = possible_matches(db.session, person)
    form = MergeForm()
    if form.validate_on_submit():
        allowed = {m.person.id: m.person for m in candidates}
        duplicate = allowed.get(parse_id(form.duplicate_id.data) or 0)
        if duplicate is None:
            form.duplicate_id.errors = ["Select one of the possible matches listed"]
        else:
            try:
                merge_people(db.session, current_user, person, duplicate, form.reason.data)
            except OperationError as error:
                form.reason.errors = [str(error)]
            else:
                flash(f"{duplicate.full_name}’s record was merged into this one.", "success")
                return redirect(url_for("people.show", person_id=person.id))
    merges = db.session.scalars(
        select(PersonMerge).where(PersonMerge.survivor_id == person.id).order_by(PersonMerge.id.desc())
    ).all()
    status = 400 if form.errors else 200
    # The possible matches are other people's names, dates of birth and PNC IDs: each is shown.
    audit_shown(
        f"possible matches of person {person.id}", "person", [person.id, *(m.person.id for m in candidates)]
    )
    return (
        render_template(
            "people/matches.html",
            person=person,
            candidates=candidates,
            form=form,
            merges=merges,
            undo_form=UndoMergeForm(formdata=None),
        ),
        status,
    )


@bp.route("/merges/<int:merge_id>/undo", methods=["POST"])
@requires("merge_people")
def undo(merge_id: int) -> Response | tuple[str, int]:
    merge = db.session.get(PersonMerge, merge_id)
    if merge is None:
        abort(404)
    survivor = _person(merge.survivor_id)
    form = UndoMergeForm()
    if form.validate_on_submit():
        try:
            undo_merge(db.session, current_user, merge, form.reason.data)
        except OperationError as error:
            flash(str(error), "error")
        else:
            flash("The merge was undone; the records are separate again.", "success")
        return redirect(url_for("merges.matches", person_id=survivor.id))
    flash("Enter a reason for undoing this merge", "error")
    return redirect(url_for("merges.matches", person_id=survivor.id))

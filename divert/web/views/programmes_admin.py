"""Programme versions and reference codes, kept by administrators in the browser.

A version is uploaded as a draft, compared with the version in force, then published from a
date; the operations live in ``pathways/programmes.py`` and ``pathways/reference.py``.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import or_, select
from werkzeug.wrappers import Response

from divert.app.extensions import db
from divert.auth import requires
from divert.models import ChangeRecord, EthnicityCode, OffenceCategory, OutcomeCode, ProgrammeVersion, User
from divert.models.programme import compiled
from divert.pathways import programmes, reference
from divert.pathways.errors import OperationError
from divert.rules import DefinitionError
from divert.rules.diff import compare_definitions
from divert.web.forms.programmes import DiscardForm, LabelForm, OffenceForm, PublishForm, UploadVersionForm

bp = Blueprint("programmes_admin", __name__, url_prefix="/admin")

MAX_DEFINITION_BYTES = 1024 * 1024  # the shipped definitions are a few kilobytes
HISTORY_SHOWN = 50
# ``models/guards.py`` names history rows after the model's class.
REFERENCE_TYPES = {
    "offencecategory": "Offence category",
    "ethnicitycode": "Ethnicity code",
    "outcomecode": "Outcome code",
}


@bp.route("/programmes/upload", methods=["GET", "POST"])
@requires("manage_programmes")
def upload() -> str | Response | tuple[str, int]:
    form = UploadVersionForm()
    problems: list[tuple[str, str]] = []
    if form.validate_on_submit():
        text, problems = _uploaded_text(form)
        if text is not None:
            try:
                version = programmes.upload_draft(db.session, text, current_user)
            except DefinitionError as error:
                problems = list(error.problems)
            else:
                flash(f"Version {version.version} of {version.programme.name} saved as a draft.", "success")
                return redirect(url_for("programmes_admin.draft", version_id=version.id))
    page = render_template("admin/programmes/upload.html", form=form, problems=problems, page_errors=problems)
    # An error status rolls the request back: nothing of a rejected upload is stored.
    return (page, 400) if problems or form.errors else page


def _uploaded_text(form: UploadVersionForm) -> tuple[str | None, list[tuple[str, str]]]:
    upload = request.files.get(form.file.name)
    if upload is not None and upload.filename:
        data = upload.read(MAX_DEFINITION_BYTES + 1)
        if len(data) > MAX_DEFINITION_BYTES:
            return None, [("", "The selected file must be smaller than 1 MB")]
        try:
            return data.decode("utf-8"), []
        except UnicodeDecodeError:
            return None, [("", "The selected file must be a YAML text file in UTF-8")]
    if form.text.data and form.text.data.strip():
        return form.text.data, []
    return None, [("", "Select a definition file or paste the definition")]


def _version(version_id: int) -> ProgrammeVersion:
    version = db.session.get(ProgrammeVersion, version_id)
    if version is None:
        abort(404)
    return version


@bp.route("/programmes/drafts/<int:version_id>")
@requires("manage_programmes")
def draft(version_id: int) -> str | Response:
    version = _version(version_id)
    if not version.is_draft:
        return redirect(url_for("admin.programme_version", version_id=version.id))
    return _draft_page(version, PublishForm(), 200)[0]


def _draft_page(version: ProgrammeVersion, form: PublishForm, status: int) -> tuple[str, int]:
    in_force = programmes.published_in_force(db.session, version.programme)
    changes = compare_definitions(compiled(in_force), compiled(version)) if in_force else ()
    uploaded_by = db.session.get(User, version.uploaded_by_id) if version.uploaded_by_id else None
    page = render_template(
        "admin/programmes/draft.html",
        version=version,
        definition=compiled(version),
        in_force=in_force,
        changes=changes,
        uploaded_by=uploaded_by,
        form=form,
    )
    return page, status


@bp.route("/programmes/drafts/<int:version_id>/publish", methods=["POST"])
@requires("manage_programmes")
def publish(version_id: int) -> Response | tuple[str, int]:
    version = _version(version_id)
    if not version.is_draft:
        flash(
            f"Version {version.version} is published and cannot be changed: "
            "upload a new version to supersede it",
            "error",
        )
        return redirect(url_for("admin.programme_version", version_id=version.id))
    form = PublishForm()
    if form.validate_on_submit():
        assert form.effective_from.data is not None  # InputRequired
        try:
            programmes.publish(db.session, version, form.effective_from.data, current_user)
        except OperationError as error:
            form.effective_from.errors = [str(error)]
        else:
            flash(
                f"Version {version.version} of {version.programme.name} is published: "
                f"in force from {version.effective_from:%-d %B %Y}.",
                "success",
            )
            return redirect(url_for("admin.programme_version", version_id=version.id))
    return _draft_page(version, form, 400)


@bp.route("/programmes/drafts/<int:version_id>/discard", methods=["POST"])
@requires("manage_programmes")
def discard(version_id: int) -> Response:
    version = _version(version_id)
    if not DiscardForm().validate_on_submit():
        abort(400)
    name, number = version.programme.name, version.version
    try:
        programmes.discard(db.session, version, current_user)
    except OperationError as error:
        flash(str(error), "error")
        return redirect(url_for("admin.programme_version", version_id=version_id))
    flash(f"The draft of version {number} of {name} has been discarded.", "success")
    return redirect(url_for("admin.programmes"))


# ---- reference codes --------------------------------------------------------------------------


@bp.route("/reference/codes")
@requires("manage_programmes")
def codes() -> str:
    return render_template(
        "admin/programmes/codes.html",
        offences=db.session.scalars(select(OffenceCategory).order_by(OffenceCategory.sort_order)).all(),
        ethnicities=db.session.scalars(
            select(EthnicityCode).order_by(EthnicityCode.scheme.desc(), EthnicityCode.sort_order)
        ).all(),
        outcomes=db.session.scalars(select(OutcomeCode).order_by(OutcomeCode.code)).all(),
        history=_history(),
        types=REFERENCE_TYPES,
    )


def _history(object_type: str | None = None, key: str | int | None = None) -> list[tuple[ChangeRecord, str]]:
    query = (
        select(ChangeRecord, User.name)
        .outerjoin(User, User.id == ChangeRecord.user_id)
        .where(ChangeRecord.object_type.in_(REFERENCE_TYPES))
        # Rows written while the reference data was first loaded name nobody and change nothing.
        .where(or_(ChangeRecord.user_id.is_not(None), ChangeRecord.old_value.is_not(None)))
        .order_by(ChangeRecord.at.desc(), ChangeRecord.id.desc())
        .limit(HISTORY_SHOWN)
    )
    if object_type is not None:
        query = query.where(ChangeRecord.object_type == object_type)
        if isinstance(key, int):
            query = query.where(ChangeRecord.object_id == key)
        else:
            query = query.where(ChangeRecord.object_key == key)
    return [(row, name or "The system") for row, name in db.session.execute(query)]


def _edit_page(
    title: str, form: LabelForm, object_type: str, key: str | int, **extra: Any
) -> tuple[str, int]:
    page = render_template(
        "admin/programmes/code.html",
        title=title,
        form=form,
        history=_history(object_type, key),
        types=REFERENCE_TYPES,
        **extra,
    )
    return page, 400 if form.errors else 200


@bp.route("/reference/offences/<slug>", methods=["GET", "POST"])
@requires("manage_programmes")
def offence(slug: str) -> Response | tuple[str, int]:
    category = db.session.get(OffenceCategory, slug) or abort(404)
    form = LabelForm(obj=category)
    if form.validate_on_submit():
        try:
            reference.relabel_offence(db.session, category, form.label.data or "", current_user)
            reference.set_offence_active(db.session, category, form.active.data, current_user)
        except OperationError as error:
            form.label.errors = [str(error)]
        else:
            flash(f"Offence category {category.slug} saved.", "success")
            return redirect(url_for("programmes_admin.offence", slug=slug))
    return _edit_page(f"Offence category {slug}", form, "offencecategory", slug, active_field=True)


@bp.route("/reference/offences/new", methods=["GET", "POST"])
@requires("manage_programmes")
def new_offence() -> Response | tuple[str, int]:
    form = OffenceForm()
    if form.validate_on_submit():
        try:
            category = reference.add_offence(
                db.session, form.slug.data or "", form.label.data or "", current_user
            )
        except OperationError as error:
            form.slug.errors = [str(error)]
        else:
            flash(f"Offence category {category.slug} added.", "success")
            return redirect(url_for("programmes_admin.codes"))
    page = render_template("admin/programmes/new_offence.html", form=form)
    return page, 400 if form.errors else 200


@bp.route("/reference/ethnicity/<code>", methods=["GET", "POST"])
@requires("manage_programmes")
def ethnicity(code: str) -> Response | tuple[str, int]:
    row = db.session.get(EthnicityCode, code) or abort(404)
    form = LabelForm(obj=row)
    if form.validate_on_submit():
        try:
            reference.relabel_ethnicity(db.session, row, form.label.data or "", current_user)
        except OperationError as error:
            form.label.errors = [str(error)]
        else:
            flash(f"Ethnicity code {row.code} saved.", "success")
            return redirect(url_for("programmes_admin.ethnicity", code=code))
    return _edit_page(f"Ethnicity code {code}", form, "ethnicitycode", code)


@bp.route("/reference/outcomes/<int:code>", methods=["GET", "POST"])
@requires("manage_programmes")
def outcome(code: int) -> Response | tuple[str, int]:
    row = db.session.get(OutcomeCode, code) or abort(404)
    form = LabelForm(obj=row)
    if form.validate_on_submit():
        try:
            reference.relabel_outcome(db.session, row, form.label.data or "", current_user)
        except OperationError as error:
            form.label.errors = [str(error)]
        else:
            flash(f"Outcome code {row.code} saved.", "success")
            return redirect(url_for("programmes_admin.outcome", code=code))
    return _edit_page(f"Outcome code {code}", form, "outcomecode", code)

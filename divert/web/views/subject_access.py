"""The subject access export as a page: choose a person, say why, download JSON or PDF.

The same export the API gives (``queries.subject_access``); the reason is required and goes
into the audit entry of the export, so the trail says why each one was made.
"""

from __future__ import annotations

import json

from flask import Blueprint, render_template, request
from flask_login import current_user
from werkzeug.wrappers import Response

from divert.app.clock import today
from divert.app.extensions import db
from divert.auth import requires
from divert.auth.visibility import visible_people
from divert.models import Person, audit
from divert.queries.subject_access import SECTIONS, subject_access
from divert.web.forms.subject_access import SubjectAccessForm

bp = Blueprint("subject_access", __name__, url_prefix="/subject-access")


@bp.route("", methods=["GET", "POST"])
@requires("export_person")
def export() -> str | Response | tuple[str, int]:
    form = SubjectAccessForm(data={"person": request.args.get("person", ""), "format": "pdf"})
    if request.method == "POST":
        form = SubjectAccessForm()
    if form.validate_on_submit():
        person = db.session.scalar(visible_people(current_user).where(Person.id == int(form.person.data)))
        if person is None:
            # The same words whether the record is another organisation's or no one's.
            form.person.errors = ["No person with this record number that your organisation can see"]
        else:
            return _download(person, form.format.data, form.reason.data.strip())
    return render_template("subject_access/form.html", form=form), 400 if form.errors else 200


def _download(person: Person, kind: str, reason: str) -> Response:
    data = subject_access(db.session, current_user, person)
    audit.record(
        db.session,
        current_user,
        "export",
        "person",
        person.id,
        detail=f"subject access export ({kind}): {reason}",
    )
    name = f"subject-access-{person.id}-{today().isoformat()}"
    if kind == "json":
        body = json.dumps({"reason": reason, **data}, indent=2, ensure_ascii=False)
        response = Response(body, mimetype="application/json")
    else:
        from divert.monitoring.pdf import render_pdf  # WeasyPrint is slow to import: only when asked

        html = render_template(
            "subject_access/pdf.html",
            data=data,
            sections=SECTIONS[1:],
            reason=reason,
            organisation=current_user.organisation.name,
            made_by=current_user.name,
            made_on=today(),
        )
        response = Response(render_pdf(html), mimetype="application/pdf")
        name += ".pdf"
    if kind == "json":
        name += ".json"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response

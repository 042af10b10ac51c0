"""The audit trail, searched: by person, user, organisation, action and date, and as CSV."""

from __future__ import annotations

import io
from typing import Any

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from divert.app import jobs
from divert.app.clock import today
from divert.app.db import reads_only
from divert.app.extensions import db
from divert.auth import holds, requires
from divert.background.exports import filters_of, queue_audit_export
from divert.models import Job, Organisation, User, audit
from divert.queries.audit import AuditFilters, actions, count, search, write_csv
from divert.rules.codes import label
from divert.web.forms.audit import AuditSearchForm

bp = Blueprint("audit", __name__, url_prefix="/admin/audit")


def _form() -> AuditSearchForm:
    form = AuditSearchForm(request.args)
    # System administrators look across organisations; others at their own organisation's users.
    users = select(User).order_by(User.name)
    if not holds(current_user, "manage_organisations"):
        users = users.where(User.organisation_id == current_user.organisation_id)
    form.user.choices = [("", "Anyone")] + [
        (str(u.id), f"{u.name} ({u.email})") for u in db.session.scalars(users)
    ]
    form.organisation.choices = [("", "Any organisation")] + [
        (str(o.id), o.name) for o in db.session.scalars(select(Organisation).order_by(Organisation.name))
    ]
    form.action.choices = [("", "Any action")] + [(a, label(a)) for a in actions(db.session)]
    return form


def _filters(form: AuditSearchForm) -> AuditFilters:
    def number(value: str | None) -> int | None:
        return int(value) if value and value.strip().isdigit() else None

    return AuditFilters(
        person_id=number(form.person.data),
        user_id=number(form.user.data),
        organisation_id=number(form.organisation.data),
        action=form.action.data or None,
        from_day=form.from_day.data,
        to_day=form.to_day.data,
    )


def _query_string(**changes: Any) -> dict[str, Any]:
    args = request.args.to_dict(flat=False)
    args.update({k: [str(v)] for k, v in changes.items()})
    return args


@bp.route("")
@requires("search_audit")
def search_page() -> str | tuple[str, int]:
    form = _form()
    searched = bool(request.args)
    if searched and not form.validate():
        return render_template("audit/search.html", form=form, result=None), 400
    page = request.args.get("page", "1")
    result = search(db.session, current_user, _filters(form), int(page) if page.isdigit() else 1)
    return render_template("audit/search.html", form=form, result=result, query_string=_query_string)


@bp.route("/export.csv", methods=["GET", "POST"])
@requires("search_audit")
def export() -> Response | str | tuple[str, int]:
    form = _form()
    if not form.validate():
        return render_template("audit/search.html", form=form, result=None), 400
    filters = _filters(form)
    expected = count(db.session, current_user, filters)
    if expected > current_app.config["AUDIT_EXPORT_INLINE_ROWS"]:
        # Too many to write within a request: the worker makes the file. Starting that is a
        # change, so it takes a POST (with the form's CSRF token), never a followed link.
        if request.method != "POST":
            return render_template("audit/export_start.html", expected=expected, query=request.args)
        job = queue_audit_export(db.session, current_user, filters, expected)
        return redirect(url_for("audit.export_job", job_id=job.id))
    out = io.StringIO()
    written = write_csv(db.session, current_user, filters, out)
    audit.record(
        db.session,
        current_user,
        "export",
        "audit_log",
        None,
        detail=f"{written} entries; {filters.describe()}",
    )
    response = Response(out.getvalue(), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="audit-{today().isoformat()}.csv"'
    return response


def _own_export(job_id: int) -> Job:
    found = db.session.get(Job, job_id)
    # An export holds what its asker's scope let them search: it is theirs alone, and anyone
    # else's is not there at all as far as this user can tell.
    if found is None or found.kind != "export" or found.started_by_id != current_user.id:
        abort(404)
    return found


@bp.route("/exports/<int:job_id>")
@reads_only
@requires("search_audit")
def export_job(job_id: int) -> str:
    found = _own_export(job_id)
    live = {} if found.finished else jobs.progress(found.id)
    return render_template("audit/export_job.html", job=found, live=live)


@bp.route("/exports/<int:job_id>/file")
@requires("search_audit")
def export_file(job_id: int) -> Response:
    found = _own_export(job_id)
    if found.status != "done" or found.output is None:
        abort(404)
    described = filters_of(found.params["filters"]).describe() if found.params else "no filters"
    audit.record(
        db.session,
        current_user,
        "export",
        "audit_log",
        None,
        detail=f"{found.done} entries; {described}; made in the background (job {found.id})",
    )
    response = Response(found.output, mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{found.name}"'
    return response

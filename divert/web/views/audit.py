"""The audit trail, searched: by person, user, organisation, action and date, and as CSV."""

from __future__ import annotations

import csv
import io
from typing import Any

from flask import Blueprint, render_template, request
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from divert.app.clock import today
from divert.app.extensions import db
from divert.auth import holds, requires
from divert.models import Organisation, User, audit
from divert.queries.audit import AuditFilters, actions, export_rows, search
from divert.rules.codes import label
from divert.web.filters import uk_datetime
from divert.web.forms.audit import AuditSearchForm

bp = Blueprint("audit", __name__, url_prefix="/admin/audit")

CSV_COLUMNS = ("When", "User", "Email", "Organisation", "Action", "Record", "Record id", "Detail", "From")


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


@bp.route("/export.csv")
@requires("search_audit")
def export() -> Response | tuple[str, int]:
    form = _form()
    if not form.validate():
        return render_template("audit/search.html", form=form, result=None), 400
    filters = _filters(form)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    count = 0
    for row in export_rows(db.session, current_user, filters):
        entry = row.entry
        writer.writerow(
            _safe(value)
            for value in (
                uk_datetime(entry.at),
                row.user_name or "divert (no user)",
                row.user_email or "",
                row.organisation_name or "",
                entry.action,
                entry.object_type,
                entry.object_id or "",
                entry.detail,
                entry.ip_address or "command line",
            )
        )
        count += 1
    audit.record(
        db.session, current_user, "export", "audit_log", None, detail=f"{count} entries; {filters.describe()}"
    )
    response = Response(out.getvalue(), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="audit-{today().isoformat()}.csv"'
    return response


def _safe(value: str) -> str:
    # A spreadsheet runs a cell starting with one of these as a formula; typed text must not.
    return f"'{value}" if value[:1] in {"=", "+", "-", "@", "\t", "\r"} else value

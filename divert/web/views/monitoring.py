"""Monitoring pages: disproportionality figures for analysts, supervisors and administrators.

Aggregates only: nothing here names, links to or counts a single person, and each organisation
sees only the figures in its reach (monitoring/query.py ``Reach``). Analysts always get the
published figures (small numbers suppressed); supervisors and administrators see the unsuppressed
figures unless they ask for "as published". The exports are exactly the tables the page shows, built
from the same ``MonitoringPage``, and every view and export is audited.
"""

from __future__ import annotations

import io

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from werkzeug.wrappers import Response

from divert.app.extensions import db
from divert.auth import holds, requires
from divert.models import PopulationBaseline, User, audit
from divert.monitoring import adjusted, attendance
from divert.monitoring.export import write_csv
from divert.monitoring.page import POINT_LABELS, MonitoringPage, build_page, page_charts
from divert.monitoring.points import DIMENSIONS, POINTS
from divert.monitoring.query import Reach, reach_of
from divert.monitoring.release import NotStandardPeriod
from divert.monitoring.report import UnknownReference
from divert.monitoring.suppression import DEFAULT_THRESHOLD
from divert.monitoring.xlsx import page_sheets, write_xlsx
from divert.pathways.population import MAX_UPLOAD_BYTES, BaselineRefused, upload_baseline
from divert.web.forms.monitoring import MonitoringFilters

bp = Blueprint("monitoring", __name__, url_prefix="/monitoring")

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _threshold() -> int:
    return int(current_app.config.get("MONITORING_SUPPRESSION_THRESHOLD", DEFAULT_THRESHOLD))


def _filters_and_page(*, tables_only: bool = False) -> tuple[MonitoringFilters, Reach, MonitoringPage | None]:
    # Whose figures: the programmes the user's organisation runs or receives, and within them its
    # own encounters (monitoring/query.py Reach). The filters offer only those programmes. Read
    # where the figures are read, so its programme ids are the ones the figures' rows hold.
    reach = reach_of(db.reports_session, current_user.organisation)
    form = MonitoringFilters(request.args, reach.programmes)
    if not form.validate():
        return form, reach, None
    filters = form.filters(published_only=not holds(current_user, "view_unpublished_figures"))
    try:
        page = build_page(
            db.reports_session, filters, reach, _threshold(), tables_only=tables_only, store=db.session
        )
    except UnknownReference as unknown:
        form.refuse_reference(unknown.groups)
        return form, reach, None
    except NotStandardPeriod as refused:
        # Published figures only for a whole month, quarter or year (release.standard_period).
        form.date_from.errors = [str(refused)]
        return form, reach, None
    form.offer_references(page.groups, page.whole.reference if page.whole else None)
    return form, reach, page


@bp.route("")
@requires("view_monitoring")
def index() -> tuple[str, int]:
    form, reach, page = _filters_and_page()
    if page is not None:
        audit.record(db.session, current_user, "view", "monitoring_report", detail=page.filters.describe())
    return render_template(
        "monitoring/index.html",
        page=page,
        reach=reach,
        form=form,
        charts=page_charts(page) if page else {},
        attendance=attendance.for_page(db.reports_session, page.filters, reach, _threshold()) if page else [],
        all_points=POINTS,
        point_labels=POINT_LABELS,
        dimensions=DIMENSIONS,
        analyst=not holds(current_user, "view_unpublished_figures"),
    ), 200 if page else 400


def _export_page(*, tables_only: bool = False) -> MonitoringPage | Response:
    form, _, page = _filters_and_page(tables_only=tables_only)
    if page is None:
        flash("Fix the filters before downloading: " + "; ".join(form.messages.values()))
        query = request.query_string.decode()
        return redirect(url_for("monitoring.index") + (f"?{query}" if query else ""))
    return page


def _download(body: bytes, mimetype: str, extension: str, page: MonitoringPage) -> Response:
    f = page.filters
    suffix = "-published" if f.published else ""
    name = f"divert-monitoring-{f.programme or 'all'}-{f.dimension}-{f.period}{suffix}"
    audit.record(
        db.session, current_user, "export", "monitoring_report", detail=f"{extension}; {f.describe()}"
    )
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}.{extension}"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/export.csv")
@requires("view_monitoring")
def export_csv() -> Response:
    # The CSV holds the report's tables only, so only they are built (not the reason tables).
    page = _export_page(tables_only=True)
    if isinstance(page, Response):
        return page
    out = io.StringIO()
    write_csv(page.report_rows, out, page.reach, (page.filters.range_label, page.adjusted))
    return _download(out.getvalue().encode("utf-8"), "text/csv", "csv", page)


@bp.route("/export.xlsx")
@requires("view_monitoring")
def export_xlsx() -> Response:
    page = _export_page()
    if isinstance(page, Response):
        return page
    return _download(write_xlsx(page_sheets(page)), XLSX, "xlsx", page)


@bp.route("/report.pdf")
@requires("view_monitoring")
def export_pdf() -> Response:
    from divert.monitoring.pdf import render_pdf

    page = _export_page()
    if isinstance(page, Response):
        return page
    html = render_template(
        "monitoring/report_pdf.html",
        page=page,
        charts=page_charts(page),
        all_points=POINTS,
        point_labels=POINT_LABELS,
        dimensions=DIMENSIONS,
        programme_names=dict(page.reach.programmes),
    )
    return _download(render_pdf(html), "application/pdf", "pdf", page)


@bp.route("/method")
@requires("view_monitoring")
def method() -> str:
    return render_template(
        "monitoring/method.html",
        threshold=_threshold(),
        adjusted_rule=adjusted.RULE,
        points=POINTS,
        point_labels=POINT_LABELS,
        dimensions=DIMENSIONS,
    )


class BaselineForm(FlaskForm):  # type: ignore[misc]  # FlaskForm is untyped (see pyproject's mypy section)
    """CSRF only: the fields are checked by ``upload_baseline``, so every problem is shown at once."""


@bp.route("/population", methods=["GET", "POST"])
@requires("manage_population")
def population() -> str | Response | tuple[str, int]:
    form = BaselineForm()
    problems: list[tuple[str, str]] = []  # (field id, message), every one shown at once
    values = {
        "name": request.form.get("name", "").strip(),
        "source_note": request.form.get("source_note", ""),
    }
    if form.validate_on_submit():
        upload = request.files.get("file")
        data = upload.read(MAX_UPLOAD_BYTES + 1) if upload is not None and upload.filename else None
        try:
            baseline = upload_baseline(db.session, data, by=current_user, **values)
        except BaselineRefused as refused:
            problems = refused.problems
        else:
            flash(f"Population baseline ‘{baseline.name}’ uploaded and now in use.", "success")
            return redirect(url_for("monitoring.population"))
    elif request.method == "POST":
        problems = [("file", "The form expired; upload the file again")]
    baselines = db.session.execute(
        select(PopulationBaseline, User.name)
        .join(User, User.id == PopulationBaseline.uploaded_by_id)
        .order_by(PopulationBaseline.uploaded_at.desc(), PopulationBaseline.id.desc())
    ).all()
    return render_template(
        "monitoring/population.html", upload=form, problems=problems, values=values, baselines=baselines
    ), 400 if problems else 200

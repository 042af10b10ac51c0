"""Monitoring pages: disproportionality figures for analysts, supervisors and administrators.

Aggregates only: nothing here names, links to or counts a single person. Analysts always get the
published figures (small numbers suppressed); supervisors and administrators see the unsuppressed
figures unless they ask for "as published". The exports are exactly the tables the page shows, built
from the same ``MonitoringPage``, and every view and export is audited.
"""

from __future__ import annotations

import io
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from divert.app.extensions import db
from divert.auth import holds, requires
from divert.models import PopulationBaseline, Programme, User, audit
from divert.monitoring.breakdowns import KINDS, ReasonCount, ReasonRow, count_all_reasons, reason_rows
from divert.monitoring.charts import Bar, LinePoint, bar_chart, line_chart
from divert.monitoring.export import write_csv
from divert.monitoring.points import ALL_GROUPS, BY_NAME, DIMENSIONS, PERIODS, POINTS
from divert.monitoring.population import (
    FIELDS,
    WHOLE_AREA,
    BaselineError,
    PopulationRow,
    parse_baseline,
    population_by,
)
from divert.monitoring.query import GroupCounts, Scope
from divert.monitoring.report import COLUMNS, Options, Report, ReportRow, assemble, build_report
from divert.monitoring.stats import ShareComparison, compare_shares
from divert.monitoring.suppression import DEFAULT_THRESHOLD
from divert.monitoring.xlsx import Sheet, write_xlsx
from divert.pathways.population import active_baseline, baseline_rows, store_baseline

bp = Blueprint("monitoring", __name__, url_prefix="/monitoring")

POINT_LABELS = {
    "encountered": "Encountered",
    "eligible": "Eligible",
    "offered": "Offered diversion",
    "accepted": "Accepted",
    "engaged": "Engaged",
    "completed": "Completed",
    "escalated": "Escalated",
    "formal_outcome": "Formal outcome (charge or caution)",
}
KIND_LABELS = {
    "not_offered": "Reasons for not offering diversion",
    "drop_out": "Reasons for leaving without completing",
    "override": "Rule decisions overridden",
}
PERIOD_LABELS = {"month": "Month", "quarter": "Quarter", "year": "Year"}
MAX_UPLOAD_BYTES = 5 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Filters:
    programme: str | None = None
    period: str = "quarter"
    dimension: str = "ethnicity_group"
    date_from: date | None = None
    date_to: date | None = None
    reference: str | None = None
    point: str = "offered"
    published: bool = True

    def args(self) -> dict[str, str]:
        """The query string that asks for these filters again (for the export links)."""
        values = {
            "programme": self.programme or "",
            "period": self.period,
            "dimension": self.dimension,
            "from": self.date_from.isoformat() if self.date_from else "",
            "to": self.date_to.isoformat() if self.date_to else "",
            "reference": self.reference or "",
            "point": self.point,
        }
        if self.published:
            values["published"] = "yes"
        return {k: v for k, v in values.items() if v}

    @property
    def range_label(self) -> str:
        start, end = self.date_from, self.date_to
        if start and end:
            return f"{start.isoformat()} to {end.isoformat()}"
        if start:
            return f"From {start.isoformat()}"
        if end:
            return f"To {end.isoformat()}"
        return "All dates"

    def describe(self) -> str:
        return (
            f"programme={self.programme or 'all'}; dimension={self.dimension}; period={self.period}; "
            f"dates={self.range_label}; reference={self.reference or 'default'}; point={self.point}; "
            f"published={'yes' if self.published else 'no'}"
        )


def read_filters(args: Mapping[str, str], programmes: Sequence[str]) -> tuple[Filters, dict[str, str]]:
    """The filters from the query string, and an error message per field that is wrong."""
    errors: dict[str, str] = {}
    programme = args.get("programme", "").strip() or None
    if programme is not None and programme not in programmes:
        errors["programme"] = "Select a programme from the list"
    period = args.get("period", "quarter")
    if period not in PERIODS:
        errors["period"] = "Select month, quarter or year"
    dimension = args.get("dimension", "ethnicity_group")
    if dimension not in DIMENSIONS:
        errors["dimension"] = "Select what to break the figures down by"
    dates: dict[str, date | None] = {}
    for name, noun in (("from", "start date"), ("to", "end date")):
        raw = args.get(name, "").strip()
        try:
            dates[name] = date.fromisoformat(raw) if raw else None
        except ValueError:
            dates[name] = None
            errors[name] = f"The {noun} must be a real date, like 2026-01-31"
    if dates["from"] and dates["to"] and dates["from"] > dates["to"]:
        errors["to"] = "The end date must be the same as or after the start date"
    point = args.get("point", "offered")
    if point not in BY_NAME or BY_NAME[point].base is None:
        errors["point"] = "Select a decision point"
    reference = args.get("reference", "").strip() or None
    dim = DIMENSIONS.get(dimension)
    if (
        reference is not None
        and dim is not None
        and (reference in dim.not_comparable or reference == ALL_GROUPS)
    ):
        errors["reference"] = f"'{reference}' cannot be the reference group: it is not compared"
    # Analysts see published figures only, whatever the query string says.
    published = not holds(current_user, "view_unpublished_figures") or args.get("published") == "yes"
    filters = Filters(
        programme if "programme" not in errors else None,
        period if "period" not in errors else "quarter",
        dimension if "dimension" not in errors else "ethnicity_group",
        dates["from"],
        dates["to"],
        reference if "reference" not in errors else None,
        point if "point" not in errors else "offered",
        published,
    )
    return filters, errors


@dataclass(frozen=True, slots=True)
class ReasonTable:
    kind: str
    label: str
    reasons: list[str]
    groups: list[str]
    cells: dict[tuple[str, str], ReasonRow]
    rows: list[ReasonRow]


@dataclass
class MonitoringPage:
    filters: Filters
    threshold: int
    groups: list[str]
    periods: list[str]
    whole: Report | None  # the whole date range as one table
    trends: list[ReportRow]  # per period, for the chosen point
    reasons: list[ReasonTable]
    baseline: PopulationBaseline | None
    population: list[ShareComparison] | None
    population_note: str
    notes: list[str] = field(default_factory=list)

    def rows(self, point: str) -> list[ReportRow]:
        return [r for r in self.whole.rows if r.point == point] if self.whole else []

    @property
    def funnel(self) -> list[ReportRow]:
        return [r for r in self.whole.rows if r.group == ALL_GROUPS] if self.whole else []

    @property
    def report_rows(self) -> list[ReportRow]:
        """Every report row the page shows: the group tables (whole range), then the trends."""
        return [*(self.whole.rows if self.whole else []), *self.trends]

    def trend(self, group: str, period: str) -> ReportRow | None:
        return next((r for r in self.trends if r.group == group and r.period == period), None)

    def population_hidden(self, row: ShareComparison) -> bool:
        """A group's encounter count is suppressed, so its share would give it away."""
        if not self.filters.published or self.whole is None:
            return False
        return any(
            r.group == row.group and r.point == "encountered" and r.count is None for r in self.whole.rows
        )


def build_page(session: Session, filters: Filters, threshold: int) -> MonitoringPage:
    """Everything the page (and so every export) shows, from one count query and one reason query."""
    scope = Scope(filters.dimension, filters.period, filters.programme, filters.date_from, filters.date_to)
    options = Options(filters.reference, filters.published, threshold)
    # Counted once, unsuppressed; the published tables are assembled from the same counts, so the
    # page's figures are exactly build_report's for the same scope and options.
    raw = build_report(session, scope, Options(filters.reference, False, threshold))
    groups = list(dict.fromkeys(r.group for r in raw.rows if r.group != ALL_GROUPS))
    periods = sorted({r.period for r in raw.rows})
    counts = _counts(raw.rows)
    per_period = assemble(scope, counts, groups, options) if filters.published else raw
    whole_counts = _fold(counts, filters.range_label)
    whole = assemble(scope, whole_counts, groups, options) if groups else None
    found = count_all_reasons(session, scope, whole_range=filters.range_label)
    reasons = [_reasons(scope, kind, found[kind], groups, filters, threshold) for kind in KINDS]
    baseline = active_baseline(session)
    population, note = _population(session, baseline, filters.dimension, whole_counts, groups)
    return MonitoringPage(
        filters,
        threshold,
        groups,
        periods,
        whole,
        [r for r in per_period.rows if r.point == filters.point],
        reasons,
        baseline,
        population,
        note,
        whole.notes if whole else raw.notes,
    )


def _counts(rows: Sequence[ReportRow]) -> list[GroupCounts]:
    found: dict[tuple[str, str], dict[str, int]] = defaultdict(dict)
    for row in rows:
        if row.group != ALL_GROUPS and row.count is not None:
            found[row.period, row.group][row.point] = row.count
    return [GroupCounts(p, g, c) for (p, g), c in found.items()]


def _fold(counts: Sequence[GroupCounts], label: str) -> list[GroupCounts]:
    """Every period added up into one (counts of disjoint cohorts add up)."""
    totals: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for c in counts:
        for point, n in c.counts.items():
            totals[c.group][point] += n
    return [GroupCounts(label, g, dict(c)) for g, c in totals.items()]


def _reasons(
    scope: Scope, kind: str, found: list[ReasonCount], groups: list[str], filters: Filters, threshold: int
) -> ReasonTable:
    folded: dict[tuple[str, str], int] = defaultdict(int)
    for c in found:
        folded[c.group, c.reason] += c.count
    counts = [ReasonCount(filters.range_label, g, r, n) for (g, r), n in sorted(folded.items())]
    rows = reason_rows(scope, kind, counts, groups, published=filters.published, threshold=threshold)
    reasons = list(dict.fromkeys(r.reason for r in rows))
    table_groups = list(dict.fromkeys(r.group for r in rows))
    cells = {(r.group, r.reason): r for r in rows}
    return ReasonTable(kind, KIND_LABELS[kind], reasons, table_groups, cells, rows)


def _population(
    session: Session,
    baseline: PopulationBaseline | None,
    dimension: str,
    counts: Sequence[GroupCounts],
    groups: Sequence[str],
) -> tuple[list[ShareComparison] | None, str]:
    if baseline is None:
        return None, "No population baseline has been uploaded, so there is no population comparison."
    if dimension not in FIELDS:
        return None, (
            "A population baseline is broken down by ethnic group, gender, age band and area only; "
            f"choose one of those to compare with '{baseline.name}'."
        )
    rows = baseline_rows(session, baseline)
    if dimension == "area":
        # Whole-area rows would stand for every district at once; districts are compared with districts.
        rows = [r for r in rows if r.area != WHOLE_AREA]
    population = population_by(rows, dimension)
    encounters = {c.group: c.counts.get("encountered", 0) for c in counts}
    compared = [g for g in groups if g not in DIMENSIONS[dimension].not_comparable]
    return compare_shares(encounters, population, compared), ""


def _threshold() -> int:
    return int(current_app.config.get("MONITORING_SUPPRESSION_THRESHOLD", DEFAULT_THRESHOLD))


def _programmes() -> list[tuple[str, str]]:
    return [(p.code, p.name) for p in db.session.scalars(select(Programme).order_by(Programme.name))]


def _charts(page: MonitoringPage) -> dict[str, Markup]:
    if page.whole is None:
        return {}
    point = page.filters.point
    charts = {
        "funnel": bar_chart(
            "chart-funnel",
            "Encounters reaching each decision point",
            [Bar(POINT_LABELS[r.point], r.count) for r in page.funnel],
            axis="Number of encounters",
            percent=False,
        ),
        "groups": bar_chart(
            "chart-groups",
            f"{POINT_LABELS[point]}: rate by group",
            [Bar(r.group, r.rate) for r in page.rows(point) if r.group != ALL_GROUPS],
            axis=f"Rate ({POINT_LABELS[point].lower()} over {BY_NAME[point].base})",
            percent=True,
        ),
        "trends": line_chart(
            "chart-trends",
            f"{POINT_LABELS[point]}: rate by group over time",
            [LinePoint(r.group, r.period, r.rate) for r in page.trends if r.group != ALL_GROUPS],
            axis="Rate",
        ),
    }
    if page.population:
        charts["population"] = bar_chart(
            "chart-population",
            "Share of encounters minus share of population",
            [
                Bar(r.group, None if page.population_hidden(r) else r.difference_pp)
                for r in page.population
                if r.population_share is not None or r.encounter_share is not None
            ],
            axis="Difference in percentage points",
            percent=False,
        )
    return charts


def _page_for_request() -> tuple[MonitoringPage | None, Filters, dict[str, str]]:
    programmes = _programmes()
    filters, errors = read_filters(request.args, [code for code, _ in programmes])
    if errors:
        return None, filters, errors
    return build_page(db.reports_session, filters, _threshold()), filters, errors


@bp.route("")
@requires("view_monitoring")
def index() -> tuple[str, int]:
    page, filters, errors = _page_for_request()
    if page is not None:
        audit.record(db.session, current_user, "view", "monitoring_report", detail=filters.describe())
    return render_template(
        "monitoring/index.html",
        page=page,
        filters=filters,
        errors=errors,
        charts=_charts(page) if page else {},
        programmes=_programmes(),
        dimensions=DIMENSIONS,
        periods=PERIOD_LABELS,
        points=[p for p in POINTS if p.base is not None],
        all_points=POINTS,
        point_labels=POINT_LABELS,
        analyst=not holds(current_user, "view_unpublished_figures"),
    ), 400 if errors else 200


def _export_page() -> MonitoringPage | Response:
    page, _, errors = _page_for_request()
    if page is None:
        flash("Fix the filters before downloading: " + "; ".join(errors.values()))
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
    page = _export_page()
    if isinstance(page, Response):
        return page
    out = io.StringIO()
    write_csv(page.report_rows, out)
    return _download(out.getvalue().encode("utf-8"), "text/csv", "csv", page)


@bp.route("/export.xlsx")
@requires("view_monitoring")
def export_xlsx() -> Response:
    page = _export_page()
    if isinstance(page, Response):
        return page
    mimetype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return _download(write_xlsx(sheets(page)), mimetype, "xlsx", page)


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
        charts=_charts(page),
        all_points=POINTS,
        point_labels=POINT_LABELS,
        dimensions=DIMENSIONS,
        programme_names=dict(_programmes()),
    )
    return _download(render_pdf(html), "application/pdf", "pdf", page)


def sheets(page: MonitoringPage) -> list[Sheet]:
    """The page's tables as spreadsheet sheets, in the page's order."""
    report_headers = [*COLUMNS, "note"]

    def report(rows: Sequence[ReportRow]) -> list[list[Any]]:
        return [[*(getattr(r, c) for c in COLUMNS), r.note] for r in rows]

    result = [
        Sheet("Groups", report_headers, report(page.whole.rows if page.whole else [])),
        Sheet("Trends", report_headers, report(page.trends)),
    ]
    for table in page.reasons:
        result.append(
            Sheet(
                table.label[:31],
                ["programme", "period", "dimension", "kind", "group", "reason", "count", "suppressed"],
                [
                    [r.programme, r.period, r.dimension, r.kind, r.group, r.reason, r.count, r.suppressed]
                    for r in table.rows
                ],
            )
        )
    if page.population is not None:
        result.append(
            Sheet(
                "Population",
                ["group", "encounters", "encounter_share", "population", "population_share", "difference_pp"],
                [_population_row(page, r) for r in page.population],
            )
        )
    about = [
        ["Filters", page.filters.describe()],
        ["Population baseline", page.baseline.name if page.baseline else "None"],
        *(["Note", note] for note in page.notes),
    ]
    if page.population_note:
        about.append(["Note", page.population_note])
    result.append(Sheet("About", ["item", "value"], about))
    return result


def _population_row(page: MonitoringPage, r: ShareComparison) -> list[Any]:
    if page.population_hidden(r):
        return [r.group, None, None, r.population, r.population_share, None]
    return [r.group, r.encounters, r.encounter_share, r.population, r.population_share, r.difference_pp]


@bp.route("/method")
@requires("view_monitoring")
def method() -> str:
    return render_template(
        "monitoring/method.html",
        threshold=_threshold(),
        points=POINTS,
        point_labels=POINT_LABELS,
        dimensions=DIMENSIONS,
    )


class BaselineForm(FlaskForm):  # type: ignore[misc]  # FlaskForm is untyped (see pyproject's mypy section)
    """CSRF only: the fields are read and checked in the view, so every problem is shown at once."""


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
        problems, rows = _upload(values)
        if not problems:
            baseline = store_baseline(
                db.session, rows, name=values["name"], source_note=values["source_note"], by=current_user
            )
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


def _upload(values: Mapping[str, str]) -> tuple[list[tuple[str, str]], list[PopulationRow]]:
    """Every problem with the name and the file (each file problem names its line), or the rows."""
    problems: list[tuple[str, str]] = []
    if not values["name"]:
        problems.append(("name", "Enter a name for the baseline"))
    elif len(values["name"]) > 200:
        problems.append(("name", "The name must be 200 characters or fewer"))
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return [*problems, ("file", "Select a CSV file")], []
    data = upload.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        return [*problems, ("file", "The selected file must be smaller than 5 MB")], []
    try:
        rows = parse_baseline(data.decode("utf-8"))
    except UnicodeDecodeError:
        return [*problems, ("file", "The selected file must be a CSV file saved as UTF-8")], []
    except BaselineError as error:
        return [*problems, *(("file", problem) for problem in error.problems)], []
    return problems, rows

"""The monitoring page's model: every table the page shows, and so every export, for one set of filters.

Built from one count query and one reason query; the published tables are assembled from the same
counts as the unsuppressed ones, so the page's figures are exactly ``build_report``'s.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from markupsafe import Markup
from sqlalchemy.orm import Session

from divert.models import PopulationBaseline
from divert.monitoring.adjusted import Adjusted, for_report
from divert.monitoring.breakdowns import KINDS, ReasonCount, ReasonRow, count_all_reasons, reason_rows
from divert.monitoring.charts import Bar, LinePoint, bar_chart, line_chart
from divert.monitoring.points import ALL_GROUPS, BY_NAME, DIMENSIONS
from divert.monitoring.population import FIELDS, WHOLE_AREA, active_baseline, baseline_rows, population_by
from divert.monitoring.query import GroupCounts, Reach, Scope
from divert.monitoring.release import WHOLE, Release, linked_release, standard_period
from divert.monitoring.report import Options, Report, ReportRow, assemble, build_report
from divert.monitoring.stats import ShareComparison, compare_shares

POINT_LABELS = {
    "encountered": "Encountered",
    "eligible": "Eligible",
    "offered": "Offered diversion",
    "accepted": "Accepted",
    "engaged": "Engaged",
    "completed": "Completed",
    "escalated": "Escalated",
    "formal_outcome": "Formal outcome (charge or caution)",
    "decision_route": "Routed to a decision maker (Youth Justice Unit)",
    "diverted_again": "Diverted again by the decision maker",
    "decision_formal": "Formal outcome by the decision maker",
}
KIND_LABELS = {
    "not_offered": "Reasons for not offering diversion",
    "declined": "Reasons for declining diversion",
    "drop_out": "Reasons for leaving without completing",
    "override": "Rule decisions overridden",
}
PERIOD_LABELS = {"month": "Month", "quarter": "Quarter", "year": "Year"}


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
        return "All dates"  # as export.range_label (export.py imports this module)

    def describe(self) -> str:
        return (
            f"programme={self.programme or 'all'}; dimension={self.dimension}; period={self.period}; "
            f"dates={self.range_label}; reference={self.reference or 'default'}; point={self.point}; "
            f"published={'yes' if self.published else 'no'}"
        )


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
    reach: Reach  # whose figures these are: said on the page and in every export
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
    # (point, group) → the odds ratio adjusted for case mix beside the RRI (adjusted.py)
    adjusted: dict[tuple[str, str], Adjusted] = field(default_factory=dict)

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
        """A group's encounter count is suppressed, so its share would give it away; or a group
        left out of the shares is, and then every share would give away the total they are of."""
        if not self.filters.published or self.whole is None:
            return False
        left_out = DIMENSIONS[self.filters.dimension].not_comparable
        return any(
            (r.group == row.group or r.group in left_out) and r.point == "encountered" and r.count is None
            for r in self.whole.rows
        )


def build_page(
    session: Session,
    filters: Filters,
    reach: Reach,
    threshold: int,
    store: Session | None = None,
    *,
    tables_only: bool = False,
) -> MonitoringPage:
    """Everything the page (and so every export) shows: published, read from the scope's release
    (kept between requests, monitoring/cache.py, written through ``store``); otherwise from one
    count query and one reason query.

    ``tables_only``: just the report's tables and their adjusted odds ratios, which is all the CSV
    holds; no reason tables or population comparison (half the page's time at national scale).
    """
    scope = Scope(
        filters.dimension, filters.period, filters.programme, filters.date_from, filters.date_to, reach
    )
    # Published figures are read from the linked release of everything this scope can download
    # (release.py), so a cell is hidden in every table that shows it.
    release = None
    if filters.published:
        # One release per scope, of every month, quarter and year of its data; a published date
        # range must be one of those periods (standard_period refuses any other), so that two
        # ranges can never be subtracted to give an unprotected table.
        release = linked_release(
            session,
            reach,
            threshold=threshold,
            whole_label=filters.range_label,
            store=store,
            whole_key=standard_period(filters.date_from, filters.date_to),
        )
    options = Options(filters.reference, filters.published, threshold, release=release)
    # Counted once, unsuppressed; the published tables are assembled from the same counts, so the
    # page's figures are exactly build_report's for the same scope and options. The release
    # holds every count of the scope already, by month, quarter and year.
    counted = release.group_counts(filters.programme, filters.dimension, filters.period) if release else None
    raw = build_report(session, scope, Options(filters.reference, False, threshold), counted)
    groups = list(dict.fromkeys(r.group for r in raw.rows if r.group != ALL_GROUPS))
    periods = sorted({r.period for r in raw.rows})
    counts = _counts(raw.rows)
    per_period = assemble(scope, counts, groups, options) if filters.published else raw
    whole_counts = _fold(counts, filters.range_label)
    whole = assemble(scope, whole_counts, groups, options) if groups else None
    reasons: list[ReasonTable] = []
    baseline, population, note = None, None, ""
    if not tables_only:
        found = (
            release.reason_counts(filters.programme, filters.dimension)
            if release is not None
            else count_all_reasons(session, scope, whole_range=filters.range_label)
        )
        reasons = [
            _reasons(scope, kind, found.get(kind, []), groups, filters, threshold, release) for kind in KINDS
        ]
        baseline = active_baseline(session)
        population, note = _population(session, baseline, filters.dimension, whole_counts, groups)
    page = MonitoringPage(
        filters,
        reach,
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
    if release is not None and release.whole_key != WHOLE:
        page.reasons = []
        page.notes.append(
            "Reasons are published over all dates only (each reason is counted once, over the whole "
            "release): leave the dates empty to see them."
        )
    page.adjusted = for_report(session, scope, whole, groups, filters.published, store or session)
    return page


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
    scope: Scope,
    kind: str,
    found: list[ReasonCount],
    groups: list[str],
    filters: Filters,
    threshold: int,
    release: Release | None,
) -> ReasonTable:
    folded: dict[tuple[str, str], int] = defaultdict(int)
    for c in found:
        folded[c.group, c.reason] += c.count
    counts = [ReasonCount(filters.range_label, g, r, n) for (g, r), n in sorted(folded.items())]

    def in_release(group: str, reason: str) -> bool:
        assert release is not None
        return release.is_reason_hidden(scope.programme, scope.dimension, group, kind, reason)

    rows = reason_rows(
        scope,
        kind,
        counts,
        groups,
        published=filters.published,
        threshold=threshold,
        hidden_in_release=in_release if release is not None else None,
    )
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


def _rate_hidden(row: ReportRow) -> bool:
    """The rate is missing because its count or base is suppressed (not because nobody reached the base)."""
    return row.count is None or (row.base_point is not None and row.base_count is None)


def page_charts(page: MonitoringPage) -> dict[str, Markup]:
    if page.whole is None:
        return {}
    point = page.filters.point
    charts = {
        "funnel": bar_chart(
            "chart-funnel",
            "Encounters reaching each decision point",
            [Bar(POINT_LABELS[r.point], r.count, r.count is None) for r in page.funnel],
            axis="Number of encounters",
            percent=False,
        ),
        "groups": bar_chart(
            "chart-groups",
            f"{POINT_LABELS[point]}: rate by group",
            [Bar(r.group, r.rate, _rate_hidden(r)) for r in page.rows(point) if r.group != ALL_GROUPS],
            axis=f"Rate ({POINT_LABELS[point].lower()} over {BY_NAME[point].base})",
            percent=True,
        ),
        "trends": line_chart(
            "chart-trends",
            f"{POINT_LABELS[point]}: rate by group over time",
            [
                LinePoint(r.group, r.period, r.rate, _rate_hidden(r))
                for r in page.trends
                if r.group != ALL_GROUPS
            ],
            axis="Rate",
        ),
    }
    if page.population:
        charts["population"] = bar_chart(
            "chart-population",
            "Share of encounters minus share of population",
            [
                Bar(
                    r.group, None if page.population_hidden(r) else r.difference_pp, page.population_hidden(r)
                )
                for r in page.population
                if r.population_share is not None or r.encounter_share is not None
            ],
            axis="Difference in percentage points",
            percent=False,
        )
    return charts

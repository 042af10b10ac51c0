"""The monitoring report: one row per programme × period × dimension × group × point.

Built from the database's counts (query.py), the statistics (stats.py) and, for anything published,
suppression (suppression.py). Every group is in the report, including "not stated" and "not known",
with its counts; those groups are left out of the comparisons only (RRI, four-fifths), with a note.
The "All" row is the total over every group, so the rows add up and nobody is silently dropped.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

from sqlalchemy import select
from sqlalchemy.orm import Session

from divert.models import EthnicityCode
from divert.monitoring.points import ALL_GROUPS, DIMENSIONS, POINTS, Dimension, ordered_groups
from divert.monitoring.query import GroupCounts, Scope, count_points
from divert.monitoring.release import Release, linked_release, standard_period
from divert.monitoring.stats import RelativeRate, four_fifths, rate, relative_rate
from divert.monitoring.suppression import DEFAULT_THRESHOLD, Margin, suppress

COLUMNS = (
    "programme",
    "period",
    "dimension",
    "group",
    "point",
    "base_point",
    "count",
    "base_count",
    "rate",
    "reference_group",
    "rri",
    "ci_low",
    "ci_high",
    "significant",
    "four_fifths_flag",
    "suppressed",
)
ALL_PROGRAMMES = "all"


@dataclass(frozen=True, slots=True)
class ReportRow:
    programme: str
    period: str
    dimension: str
    group: str
    point: str
    base_point: str | None
    count: int | None
    base_count: int | None
    rate: float | None
    reference_group: str | None
    rri: float | None
    ci_low: float | None
    ci_high: float | None
    significant: bool | None
    four_fifths_flag: bool | None
    suppressed: bool
    # Why a figure is missing (not computable, not compared, suppressed); for pages, not the CSV.
    note: str = ""


@dataclass(frozen=True, slots=True)
class Report:
    scope: Scope
    reference: str | None
    rows: list[ReportRow]
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Options:
    reference: str | None = None
    published: bool = False
    threshold: int = DEFAULT_THRESHOLD
    confidence: float = 0.95
    # The linked release the published cells are read from (release.py); None for one table alone.
    release: Release | None = None


def build_report(
    session: Session,
    scope: Scope,
    options: Options = Options(),
    counts: Sequence[GroupCounts] | None = None,
) -> Report:
    """``counts``: this scope's counts already fetched (from the release, which holds them)."""
    if options.published and options.release is None:
        # Published figures are always the linked release's: a table suppressed on its own would
        # hide other cells than the release does, and the two together could be undone.
        # The scope's one release; the dates must be one standard period of it.
        whole_key = standard_period(scope.date_from, scope.date_to)
        release = linked_release(session, scope.reach, threshold=options.threshold, whole_key=whole_key)
        options = replace(options, release=release)
        if counts is None:
            counts = release.group_counts(scope.programme, scope.dimension, scope.period)
    if counts is None:
        counts = count_points(session, scope)
    order = _group_order(session, DIMENSIONS[scope.dimension], {c.group for c in counts})
    return assemble(scope, counts, order, options)


def assemble(
    scope: Scope,
    counts: Sequence[GroupCounts],
    groups: Sequence[str],
    options: Options = Options(),
) -> Report:
    """The report rows from counts already fetched (pure, so it is tested without a database)."""
    dimension = DIMENSIONS[scope.dimension]
    reference = _reference(dimension, counts, options.reference, groups)
    by_period: dict[str, dict[str, Mapping[str, int]]] = defaultdict(dict)
    for c in counts:
        by_period[c.period][c.group] = c.counts
    programme = scope.programme or ALL_PROGRAMMES
    rows: list[ReportRow] = []
    for period in sorted(by_period):
        table = _table(by_period[period], groups)
        hidden = _hidden(scope, period, table, groups, options) if options.published else frozenset()
        rows += _period_rows(programme, period, dimension, reference, table, groups, hidden, options)
    return Report(scope, reference, rows, _notes(dimension, reference, options))


Cell = tuple[str, str]  # (group, point)


def _table(found: Mapping[str, Mapping[str, int]], groups: Sequence[str]) -> dict[Cell, int]:
    """Every group × point, zeros included, plus the All row: the same shape in every period."""
    table: dict[Cell, int] = {}
    for point in POINTS:
        for group in groups:
            table[group, point.name] = found.get(group, {}).get(point.name, 0)
        table[ALL_GROUPS, point.name] = sum(table[g, point.name] for g in groups)
    return table


def _hidden(
    scope: Scope, period: str, table: Mapping[Cell, int], groups: Sequence[str], options: Options
) -> frozenset[Cell]:
    release = options.release
    if release is not None:
        # Hidden where the linked release hides it, so the same cell is hidden in every table.
        # A small count is hidden whatever the release says, in case the data changed between
        # the release's counting and this table's.
        return frozenset(
            c
            for c in table
            if release.is_hidden(scope.programme, period, scope.dimension, c[0], c[1])
            or 0 < table[c] < options.threshold
        )
    margins = [Margin((ALL_GROUPS, p.name), tuple((g, p.name) for g in groups)) for p in POINTS]
    return suppress(table, margins, options.threshold)


def _period_rows(
    programme: str,
    period: str,
    dimension: Dimension,
    reference: str | None,
    table: Mapping[Cell, int],
    groups: Sequence[str],
    hidden: frozenset[Cell],
    options: Options,
) -> list[ReportRow]:
    compared = [g for g in groups if g not in dimension.not_comparable]
    rows = []
    for point in POINTS:
        base = point.base
        rates: dict[str, float | None] = {}
        for group in [*groups, ALL_GROUPS]:
            shown = base is not None and (group, point.name) not in hidden and (group, base) not in hidden
            rates[group] = rate(table[group, point.name], table[group, base]) if shown and base else None
        # The highest rate is taken over shown rates only, so no flag depends on a hidden value.
        flags = four_fifths(rates, compared) if point.kind == "favourable" else {}
        for group in [*groups, ALL_GROUPS]:
            count_hidden = (group, point.name) in hidden
            base_hidden = base is not None and (group, base) in hidden
            relative, note = _relative(table, hidden, point.name, base, group, reference, dimension, options)
            if count_hidden or base_hidden:
                note = "Suppressed to protect small numbers"
            rows.append(
                ReportRow(
                    programme=programme,
                    period=period,
                    dimension=dimension.name,
                    group=group,
                    point=point.name,
                    base_point=base,
                    count=None if count_hidden else table[group, point.name],
                    base_count=None if base is None or base_hidden else table[group, base],
                    rate=rates[group],
                    reference_group=reference if base is not None else None,
                    rri=relative.rri,
                    ci_low=relative.ci_low,
                    ci_high=relative.ci_high,
                    significant=relative.significant,
                    four_fifths_flag=flags.get(group),
                    suppressed=count_hidden or base_hidden or note.startswith("Suppressed"),
                    note=note,
                )
            )
    return rows


_NONE = RelativeRate(None, None, None, None)


def _relative(
    table: Mapping[Cell, int],
    hidden: frozenset[Cell],
    point: str,
    base: str | None,
    group: str,
    reference: str | None,
    dimension: Dimension,
    options: Options,
) -> tuple[RelativeRate, str]:
    if base is None:
        return _NONE, ""
    if group == ALL_GROUPS:
        return _NONE, "The total over every group is not compared."
    if group in dimension.not_comparable:
        return _NONE, f"'{group}' is shown in counts and left out of comparisons."
    if reference is None:
        return _NONE, "No reference group has any encounters."
    cells = [(group, point), (group, base), (reference, point), (reference, base)]
    if any(c in hidden for c in cells):
        return _NONE, "Suppressed: built on a count below the threshold"
    if group == reference:
        if table[reference, base] == 0:
            # Nobody in the reference group reached the base: there is no rate to compare with.
            return _NONE, "Not computable: nobody in the reference group reached the base"
        return RelativeRate(1.0, None, None, None), "Reference group."
    result = relative_rate(
        table[group, point],
        table[group, base],
        table[reference, point],
        table[reference, base],
        options.confidence,
    )
    return result, result.note


class UnknownReference(ValueError):
    """The reference group asked for is not a group of the breakdown (``black`` for ``Black``)."""

    def __init__(self, chosen: str, groups: Sequence[str]) -> None:
        super().__init__(f"'{chosen}' is not a group in these figures; choose one of: {', '.join(groups)}.")
        self.groups = list(groups)


def _reference(
    dimension: Dimension, counts: Sequence[GroupCounts], chosen: str | None, groups: Sequence[str]
) -> str | None:
    if chosen is not None:
        if chosen in dimension.not_comparable or chosen == ALL_GROUPS:
            raise ValueError(f"'{chosen}' cannot be the reference group: it is not compared.")
        if chosen not in groups:
            raise UnknownReference(chosen, [g for g in groups if g not in dimension.not_comparable])
        return chosen
    if dimension.default_reference is not None:
        return dimension.default_reference
    # No conventional reference (gender, age, area): the largest group, over the whole report, so
    # that every period is compared with the same group.
    sizes: dict[str, int] = defaultdict(int)
    for c in counts:
        if c.group not in dimension.not_comparable:
            sizes[c.group] += c.counts["encountered"]
    return max(sorted(sizes), key=lambda g: sizes[g]) if sizes else None


def _group_order(session: Session, dimension: Dimension, found: set[str]) -> list[str]:
    if dimension.name != "ethnicity_code":
        return ordered_groups(dimension, found)
    codes = session.scalars(
        select(EthnicityCode.code)
        .where(EthnicityCode.scheme == "self_defined")
        .order_by(EthnicityCode.sort_order)
    ).all()
    # Every code is listed, met or not, so a group with nobody in it shows as 0 rather than vanishing.
    return [*codes, *sorted(found - set(codes))]


def _notes(dimension: Dimension, reference: str | None, options: Options) -> list[str]:
    notes = [
        f"Relative Rate Index against '{reference}'; 95% interval on the log scale"
        if options.confidence == 0.95
        else f"Relative Rate Index against '{reference}'; {options.confidence:.0%} interval on the log scale",
        "Groups shown in counts but not compared: " + ", ".join(sorted(dimension.not_comparable)) + ".",
        "A journey counts in the period of the encounter that started it (a cohort).",
    ]
    if options.published:
        notes.append(
            f"Counts from 1 to {options.threshold - 1} are suppressed, with anything built on them, and "
            "further cells so that no suppressed value can be worked out, or narrowed to an interval "
            f"narrower than {options.threshold}, from everything published for this scope and date "
            "range (every programme, period and breakdown, and their totals)."
        )
    return notes

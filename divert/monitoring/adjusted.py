"""Disparity adjusted for case mix: an odds ratio from a logistic regression, beside each RRI.

A Relative Rate Index compares raw rates, so a group met more often for serious offences, or with
more previous encounters, can show a gap that the eligibility rules explain rather than anyone's
discretion. For each decision point this fits, over the encounters that reached its base,

    logit P(reached the point) = intercept + group + offence category + age band
                                 + previous encounters (0, 1, 2 or more) + postcode area

(leaving out the covariate the report is broken down by, so "by age band" adjusts for the rest) and
reports exp(group coefficient), the odds of the group against the reference group's with case mix
held equal, with its 95% Wald interval exp(b ± 1.96·se). It is fitted as a binomial GLM over
grouped counts (one row per group × covariate cell, successes and failures as a two-column
response), read by one aggregate query over the kept journey rows, which gives exactly the
estimates of a logistic regression over the individual encounters.

Not computed (and said so) when the numbers are too small to fit: a group, or the reference group,
with fewer than ``MIN_BASE`` encounters at the base, or fewer than ``MIN_EACH`` who reached the point
or ``MIN_EACH`` who did not; or a fit that does not converge, cannot tell the group apart from its
case mix, or has a group coefficient with a standard error above ``MAX_SE`` (separation). A covariate
level in which everyone, or no one, reached the point says nothing about the group once the level is
adjusted for (its coefficient runs to infinity and those encounters are fitted exactly), so its cells
are left out before fitting, as the limit of the full fit. In published figures it is suppressed
wherever the RRI is.

statsmodels (and the pandas it brings) is imported inside ``fit`` only: a page that shows no
comparison, and the CSV command, do not pay for it.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from operator import attrgetter
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from divert.models import Encounter
from divert.monitoring import cache, query
from divert.monitoring.points import (
    AGE_BAND_FLOORS,
    ALL_GROUPS,
    BY_NAME,
    DIMENSIONS,
    NOT_KNOWN,
    POINTS,
    UNDER_10,
    Dimension,
)
from divert.monitoring.query import JOURNEY_POINTS, Scope
from divert.monitoring.report import Report, ReportRow
from divert.monitoring.stats import z_value

MIN_BASE = 20  # encounters at the base point, in the group and in the reference group
MIN_EACH = 5  # who reached the point, and who did not, in the group and in the reference group
MAX_SE = 5.0  # a log-odds standard error above this means the data cannot pin the ratio down
# For the method page, which states the rule with the numbers the code uses.
RULE = {"min_base": MIN_BASE, "min_each": MIN_EACH, "max_se": MAX_SE}
NO_OFFENCE = "No offence recorded"
# Area is adjusted for as the postcode area ("OX" for OX4): a force has a handful, the country about
# 120. Districts are too many and too small (thousands of coefficients, most fitted to a few
# encounters); the area still carries where someone was met.
COVARIATES = ("offence", "age", "prior", "area")
COVARIATE_WORDS = {"offence": "offence", "age": "age", "prior": "history", "area": "area"}
PRIOR_LEVELS = ("0", "1", "2 or more")

# What reaching each point means, as the predicate of a sentence about a group of people.
PREDICATES = {
    "eligible": "were found eligible",
    "offered": "were offered diversion",
    "accepted": "accepted diversion",
    "engaged": "engaged with the programme",
    "completed": "completed the programme",
    "escalated": "were escalated",
    "formal_outcome": "were given a formal outcome",
}


@dataclass(frozen=True, slots=True)
class Cell:
    """Encounters of one group with one case mix, and how many reached each point."""

    group: str
    offence: str
    age: str
    prior: str
    area: str
    counts: Mapping[str, int]


@dataclass(frozen=True, slots=True)
class Adjusted:
    point: str
    group: str
    odds_ratio: float | None
    ci_low: float | None
    ci_high: float | None
    crude_odds_ratio: float | None  # the same encounters, no case mix: the gap before adjusting
    explained: float | None  # share of the crude log-odds gap that case mix accounts for
    reading: str  # the plain-English sentence; "" when not computed
    note: str = ""  # why it is missing, when it is
    suppressed: bool = False

    @property
    def significant(self) -> bool | None:
        if self.ci_low is None or self.ci_high is None:
            return None
        return self.ci_low > 1 or self.ci_high < 1


def count_cells(session: Session, scope: Scope) -> list[Cell]:
    """Every group × offence × age × history × area cell of the report's encounters, in one query.

    The same journey rows, reach and date range as the report's counts (query.py); previous
    encounters are the person's encounters before this one, on any programme, numbered by a window
    over the encounters table.
    """
    query.tune(session)
    e = Encounter.__table__
    earlier = func.row_number().over(partition_by=e.c.person_id, order_by=(e.c.occurred_at, e.c.id)) - 1
    history = select(
        e.c.id.label("encounter_id"), e.c.offence_category.label("offence"), earlier.label("prior")
    ).subquery("history")
    j, where = query._journey_table(session, scope)
    # The group and the age are on the journey rows (journeys.person_columns): no people read.
    stmt = select().select_from(j).where(*where).join(history, history.c.encounter_id == j.c.encounter_id)
    stmt, group = query.grouped_by(scope, stmt, j)
    if scope.date_from is not None:
        stmt = stmt.where(j.c.encounter_day >= query._day_number(scope.date_from))
    if scope.date_to is not None:
        stmt = stmt.where(j.c.encounter_day <= query._day_number(scope.date_to))
    # Banded in the database, so it returns one row per cell (tens of thousands at national scale)
    # rather than one per age and district (about a million, each then folded in Python). The
    # row-level values are worked out once, in a subquery kept apart by OFFSET 0 (otherwise the
    # database repeats the area's substrings in every branch of its CASE).
    # Whole years at the encounter, the age floor for an anonymised person (journeys.age_years):
    # negative for a date of birth after the encounter, so "Not known" as in the report.
    age = j.c.age
    # The postcode area: the district's one or two leading letters ("OX4" → "OX", "E1" → "E").
    area = case(
        (j.c.area.is_(None), NOT_KNOWN),
        (func.substr(j.c.area, 2, 1).between("A", "Z"), func.substr(j.c.area, 1, 2)),
        else_=func.substr(j.c.area, 1, 1),
    )
    rows = (
        stmt.add_columns(
            group.label("grp"),
            history.c.offence.label("offence"),
            age.label("years"),
            case((history.c.prior >= 2, 2), else_=history.c.prior).label("prior"),
            area.label("area"),
            *(j.c[n].label(n) for n in JOURNEY_POINTS),
        )
        .offset(0)
        .subquery("cells")
    )
    band = case(
        (rows.c.years.is_(None), NOT_KNOWN),
        (rows.c.years < 0, NOT_KNOWN),
        *((rows.c.years >= floor, name) for floor, name in AGE_BAND_FLOORS),
        else_=UNDER_10,
    )
    stmt = select(
        rows.c.grp,
        rows.c.offence,
        band.label("age"),
        rows.c.prior,
        rows.c.area,
        func.count().label("encountered"),
        *(func.sum(rows.c[n]).label(n) for n in JOURNEY_POINTS),
    ).group_by(rows.c.grp, rows.c.offence, band, rows.c.prior, rows.c.area)
    names = ("encountered", *JOURNEY_POINTS)
    cells: dict[tuple[str, str, str, str, str], dict[str, int]] = defaultdict(lambda: dict.fromkeys(names, 0))
    for row in session.execute(stmt):
        key = (
            query.label_group(scope.dimension, row.grp),
            row.offence or NO_OFFENCE,
            str(row.age),
            PRIOR_LEVELS[int(row.prior)],
            str(row.area),
        )
        counts = cells[key]
        for name in names:
            counts[name] += int(getattr(row, name) or 0)
    return [Cell(*key, counts) for key, counts in sorted(cells.items())]


def covariates_for(dimension: str) -> tuple[str, ...]:
    """The case mix adjusted for: all four, less the one the figures are broken down by."""
    own = {"age_band": "age", "area": "area"}.get(dimension)
    return tuple(c for c in COVARIATES if c != own)


def adjust(
    cells: Sequence[Cell],
    dimension: Dimension,
    reference: str | None,
    groups: Sequence[str],
    confidence: float = 0.95,
) -> dict[tuple[str, str], Adjusted]:
    """(point, group) → the adjusted odds ratio of every compared group, at every point with a base."""
    from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

    compared = [g for g in groups if g not in dimension.not_comparable and g != ALL_GROUPS]
    result: dict[tuple[str, str], Adjusted] = {}
    # One BLAS thread: these matrices are small, and OpenBLAS's threads fighting the web server's
    # for the cores made the fits 50 times slower on a busy two-core machine (docs/benchmarks.md).
    with threadpool_limits(limits=1, user_api="blas"):
        for point in POINTS:
            if point.base is None:
                continue
            found = fit_point(cells, point.name, dimension, reference, compared, confidence)
            result.update({(point.name, a.group): a for a in found})
    return result


def _missing(point: str, group: str, note: str) -> Adjusted:
    return Adjusted(point, group, None, None, None, None, None, "", note)


@dataclass(slots=True)
class _Row:
    group: str
    levels: tuple[str, ...]
    successes: int
    failures: int


def fit_point(
    cells: Sequence[Cell],
    point: str,
    dimension: Dimension,
    reference: str | None,
    compared: Sequence[str],
    confidence: float = 0.95,
) -> list[Adjusted]:
    base = BY_NAME[point].base
    assert base is not None
    others = [g for g in compared if g != reference]
    if reference is None or reference not in compared:
        return [
            _missing(point, g, "Not computed: there is no reference group to compare with") for g in others
        ]
    covariates = covariates_for(dimension.name)
    levels = attrgetter(*covariates)  # three or four names, so always a tuple
    wanted = set(compared)
    rows = [
        _Row(c.group, levels(c), c.counts[point], c.counts[base] - c.counts[point])
        for c in cells
        if c.group in wanted and c.counts[base] > 0
    ]
    small = {g for g in compared if _too_small(rows, g)}
    if reference in small:
        note = (
            f"Not computed: fewer than {MIN_BASE} in the reference group, or fewer than {MIN_EACH} either way"
        )
        return [_missing(point, g, note) for g in others]
    results = {g: _missing(point, g, _small_note()) for g in others if g in small}
    fitted = [g for g in others if g not in small]
    if not fitted:
        return [results[g] for g in others]
    rows = _without_separated_levels([r for r in rows if r.group not in small], len(covariates))
    still = [g for g in fitted if _too_small(rows, g)]
    if reference in still or not rows:
        note = "Not computed: once case mix is taken into account too few encounters are left to compare"
        return [results.get(g) or _missing(point, g, note) for g in others]
    for g in still:
        results[g] = _missing(point, g, _small_note())
    fitted = [g for g in fitted if g not in still]
    rows = [r for r in rows if r.group in {reference, *fitted}]
    estimates = fit(rows, reference, fitted, len(covariates))
    z = z_value(confidence)
    words = _covariate_words(covariates)
    for g in fitted:
        crude = _crude_odds_ratio(rows, g, reference)
        estimate = estimates.get(g) if estimates else None
        if estimate is None or crude is None:
            results[g] = _missing(
                point,
                g,
                "Not computed: the model could not be fitted (it did not converge or separate the group)",
            )
            continue
        b, se = estimate
        low, high = math.exp(b - z * se), math.exp(b + z * se)
        explained = _explained(math.log(crude), b)
        text = reading(dimension, g, reference, point, crude, math.exp(b), explained, (low, high), words)
        results[g] = Adjusted(point, g, math.exp(b), low, high, crude, explained, text)
    return [results[g] for g in others]


def _small_note() -> str:
    return (
        f"Not computed: fewer than {MIN_BASE} encounters at the base, or fewer than {MIN_EACH} "
        "who reached the point or who did not"
    )


def _too_small(rows: Sequence[_Row], group: str) -> bool:
    successes = sum(r.successes for r in rows if r.group == group)
    failures = sum(r.failures for r in rows if r.group == group)
    return successes + failures < MIN_BASE or successes < MIN_EACH or failures < MIN_EACH


def _without_separated_levels(rows: list[_Row], width: int) -> list[_Row]:
    """Leave out the cells of any covariate level in which everyone, or no one, reached the point.

    Repeated until none is left, since leaving some out can make another level one-sided.
    """
    while True:
        one_sided: set[tuple[int, str]] = set()
        for index in range(width):
            totals: dict[str, list[int]] = defaultdict(lambda: [0, 0])
            for r in rows:
                totals[r.levels[index]][0] += r.successes
                totals[r.levels[index]][1] += r.failures
            one_sided |= {(index, level) for level, (s, f) in totals.items() if s == 0 or f == 0}
        if not one_sided:
            return rows
        rows = [r for r in rows if not any((i, level) in one_sided for i, level in enumerate(r.levels))]


def design(rows: Sequence[_Row], reference: str, groups: Sequence[str], width: int) -> tuple[Any, Any]:
    """The design matrix (intercept, group dummies, covariate dummies) and the two-column response.

    Each covariate's most common level is its baseline, so the intercept is a typical encounter.
    """
    import numpy as np

    levels_of: list[list[str]] = []
    for index in range(width):
        sizes: dict[str, int] = defaultdict(int)
        for r in rows:
            sizes[r.levels[index]] += r.successes + r.failures
        levels_of.append(sorted(sizes, key=lambda level: (-sizes[level], level))[1:])
    column: dict[tuple[object, str], int] = {("group", g): 1 + i for i, g in enumerate(groups)}
    start = 1 + len(groups)
    for index, levels in enumerate(levels_of):
        for level in levels:
            column[index, level] = start
            start += 1
    exog = np.zeros((len(rows), start))
    exog[:, 0] = 1.0
    for n, r in enumerate(rows):
        at = column.get(("group", r.group))
        if at is not None:
            exog[n, at] = 1.0
        for index, level in enumerate(r.levels):
            at = column.get((index, level))
            if at is not None:
                exog[n, at] = 1.0
    endog = np.array([[r.successes, r.failures] for r in rows], dtype=float)
    return exog, endog


def fit(
    rows: Sequence[_Row], reference: str, groups: Sequence[str], width: int
) -> dict[str, tuple[float, float]] | None:
    """group → (log odds ratio, standard error) from the binomial GLM; None when it cannot be fitted."""
    import warnings

    import numpy as np

    # Lazily, and only the GLM: statsmodels.api would load its formulas and every model too.
    from statsmodels.genmod.families import Binomial  # type: ignore[import-untyped]
    from statsmodels.genmod.generalized_linear_model import GLM  # type: ignore[import-untyped]

    exog, endog = design(rows, reference, groups, width)
    exog = _independent_columns(exog, len(groups))
    if exog is None:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            result = GLM(endog, exog, family=Binomial()).fit(wls_method="qr")
        except (ValueError, np.linalg.LinAlgError):
            return None
    if not getattr(result, "converged", True):
        return None
    params, bse = np.asarray(result.params), np.asarray(result.bse)
    found: dict[str, tuple[float, float]] = {}
    for index, group in enumerate(groups, start=1):
        b, se = float(params[index]), float(bse[index])
        if math.isfinite(b) and math.isfinite(se) and 0 < se <= MAX_SE:
            found[group] = (b, se)
    return found


def _independent_columns(exog: Any, groups: int) -> Any:
    """Drop covariate columns that repeat what earlier columns say (an area met only with one
    offence, say), so the fit is identified; None when a group column is not identified, because
    that group cannot be told apart from its case mix (met only for an offence nobody else is).

    One QR decomposition with the columns in the order intercept, covariates, groups: a column
    whose diagonal entry of R is (near) zero is a combination of the columns before it.
    """
    import numpy as np

    order = [0, *range(1 + groups, exog.shape[1]), *range(1, 1 + groups)]
    r = np.linalg.qr(exog[:, order], mode="r")
    diagonal = np.abs(np.diag(r))
    tolerance = diagonal.max() * max(exog.shape) * np.finfo(float).eps * 1e3
    dependent = {order[i] for i in np.flatnonzero(diagonal <= tolerance)}
    if not dependent:
        return exog
    if dependent & set(range(1, 1 + groups)):
        return None
    return exog[:, [i for i in range(exog.shape[1]) if i not in dependent]]


def _crude_odds_ratio(rows: Sequence[_Row], group: str, reference: str) -> float | None:
    def odds(g: str) -> float | None:
        s = sum(r.successes for r in rows if r.group == g)
        f = sum(r.failures for r in rows if r.group == g)
        return s / f if s and f else None

    mine, theirs = odds(group), odds(reference)
    return mine / theirs if mine is not None and theirs is not None else None


def _explained(crude_log: float, adjusted_log: float) -> float | None:
    """The share of the crude gap (on the log-odds scale) that adjusting takes away."""
    if abs(crude_log) < NO_GAP:
        return None
    return 1 - adjusted_log / crude_log


NO_GAP = 0.05  # a crude log odds ratio this close to 0 (odds within about 5%) is no gap to explain


def _covariate_words(covariates: Sequence[str]) -> str:
    words = [COVARIATE_WORDS[c] for c in covariates]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def who(dimension: Dimension, group: str) -> str:
    """A group of people, as the subject of a sentence."""
    if dimension.name in ("ethnicity_group", "officer_ethnicity"):
        special = {"Mixed": "People of mixed ethnicity", "Other": "People of another ethnic group"}
        return special.get(group, f"{group} people")
    if dimension.name == "ethnicity_code":
        return f"People of ethnicity {group}"
    if dimension.name == "gender":
        from divert.rules.codes import label

        return f"People recorded as {label(group).lower()}"
    if dimension.name == "age_band":
        return f"People aged {group}"
    return f"People in {group}"


def _share_words(explained: float, plural: bool) -> str:
    verb, widen = ("explain", "widen") if plural else ("explains", "widens")
    if explained < -0.1:
        return f"{widen} the gap rather than {'explain' if plural else 'explaining'} it"
    if explained > 1:
        return f"more than {verb} the gap: with case mix taken into account the difference is the other way"
    for upper, words in (
        (0.1, "little"),
        (0.375, "about a quarter"),
        (0.625, "about half"),
        (0.9, "about three quarters"),
    ):
        if explained < upper:
            return f"{verb} {words} of the gap"
    return f"{verb} almost all of the gap"


def reading(
    dimension: Dimension,
    group: str,
    reference: str,
    point: str,
    crude: float,
    adjusted: float,
    explained: float | None,
    interval: tuple[float, float],
    covariates: str,
) -> str:
    """ "Black people were offered diversion less often than White people; offence, age, history and
    area explain about half of the gap." — from the crude and adjusted log odds."""
    subject, other = who(dimension, group), who(dimension, reference)
    other = other[0].lower() + other[1:] if other.startswith("People") else other
    predicate = PREDICATES[point]
    if explained is None:
        sentence = (
            f"{subject} {predicate} about as often as {other} before taking case mix into account; "
            f"with {covariates} taken into account the odds ratio is {adjusted:.2f}"
        )
    else:
        direction = "less often" if crude < 1 else "more often"
        share = _share_words(explained, " " in covariates)
        sentence = f"{subject} {predicate} {direction} than {other}; {covariates} {share}"
    low, high = interval
    if low <= 1 <= high:
        sentence += " (the adjusted difference could be chance: its 95% interval includes 1)"
    return sentence + "."


def for_report(
    session: Session,
    scope: Scope,
    whole: Report | None,
    groups: Sequence[str],
    published: bool,
    store: Session | None = None,
) -> dict[tuple[str, str], Adjusted]:
    """The adjusted odds ratios beside the whole-range table's RRIs, suppressed where the RRI is.

    With ``store``, the fits are kept between requests at the data version they were made from
    (monitoring/cache.py): they move only when the data does, and take seconds at a force's size.
    """
    if whole is None or whole.reference is None:
        return {}
    dimension = DIMENSIONS[scope.dimension]
    if not [g for g in groups if g not in dimension.not_comparable and g != whole.reference]:
        return {}
    reference = whole.reference

    def fitted() -> dict[tuple[str, str], Adjusted]:
        return adjust(count_cells(session, scope), dimension, reference, groups)

    if store is None:
        found = fitted()
    else:
        parts: list[Any] = [cache.reach_parts(scope.reach), scope.programme, scope.dimension]
        parts += [scope.date_from, scope.date_to, reference, list(groups)]
        found = cache.remember(session, store, "adjusted", parts, fitted, _encode, _decode)
    if not published:
        return found
    rows = {(r.point, r.group): r for r in whole.rows}
    return {key: _published(a, rows.get(key)) for key, a in found.items()}


def _encode(found: Mapping[tuple[str, str], Adjusted]) -> list[dict[str, Any]]:
    return [asdict(a) for a in found.values()]


def _decode(body: list[dict[str, Any]]) -> dict[tuple[str, str], Adjusted]:
    return {(d["point"], d["group"]): Adjusted(**d) for d in body}


def _published(adjusted: Adjusted, row: ReportRow | None) -> Adjusted:
    if row is not None and not row.note.startswith("Suppressed"):
        return adjusted
    return Adjusted(
        adjusted.point,
        adjusted.group,
        None,
        None,
        None,
        None,
        None,
        "",
        "Suppressed to protect small numbers",
        suppressed=True,
    )


CSV_COLUMNS = (
    "adjusted_odds_ratio",
    "adjusted_ci_low",
    "adjusted_ci_high",
    "adjusted_significant",
    "adjusted_suppressed",
    "adjusted_reading",
    "adjusted_note",
)


def csv_cells(adjusted: Adjusted | None) -> list[object]:
    """The values of ``CSV_COLUMNS`` for one row (all empty where nothing was adjusted)."""
    if adjusted is None:
        return [None] * len(CSV_COLUMNS)
    return [
        adjusted.odds_ratio,
        adjusted.ci_low,
        adjusted.ci_high,
        adjusted.significant,
        adjusted.suppressed,
        adjusted.reading or None,
        adjusted.note or None,
    ]

"""Everything one analyst can obtain for one scope, protected as one linked set.

An analyst in an organisation can download, for one date range, every programme in its reach and
all programmes together, by month, quarter and year and over the whole range, for every breakdown.
Those tables are linked: a total is the sum of its groups, a quarter of its months, a year of its
quarters, an ethnic group of its 18+1 codes; a point's count is at most its base point's; one
programme's count is at most all programmes', which is at most their sum. Suppressing each table
on its own leaves hidden cells that subtraction across tables recovers, so every count of the set
is one cell here, with every relation between them, and suppression.protect hides what it must
across all of them at once. Each table then shows a cell only if the set shows it.

The release is the scope's reach and date range; the page, every download and monitoring-export
read their hidden cells from it, so the same cell is hidden everywhere it appears.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from divert.models import EthnicityCode, Programme
from divert.monitoring.points import ALL_GROUPS, DIMENSIONS, POINTS
from divert.monitoring.query import Reach, Scope, count_points
from divert.monitoring.suppression import DEFAULT_THRESHOLD, Linked, Margin, protect

ALL_PROGRAMMES = "all"
WHOLE = "whole"  # the whole date range as one period
SHARED = "*"  # the dimension of a total that every breakdown shares (the same people)

Key = tuple[str, str, str, str, str]  # programme, period, dimension, group, point


@dataclass(frozen=True, slots=True)
class Release:
    threshold: int
    values: dict[Key, int]
    hidden: frozenset[Key]
    # A period label the page uses for the whole range ("All dates", "From 2026-01-01", ...).
    whole_label: str = WHOLE

    def key(self, programme: str | None, period: str, dimension: str, group: str, point: str) -> Key:
        prog = programme or ALL_PROGRAMMES
        per = WHOLE if period == self.whole_label else period
        if group == ALL_GROUPS and (prog, per, SHARED, ALL_GROUPS, point) in self.values:
            return (prog, per, SHARED, ALL_GROUPS, point)
        return (prog, per, dimension, group, point)

    def is_hidden(self, programme: str | None, period: str, dimension: str, group: str, point: str) -> bool:
        return self.key(programme, period, dimension, group, point) in self.hidden


def _periods(ym: int) -> tuple[str, str, str, str]:
    year, month = divmod(ym, 100)
    return f"{year:04d}-{month:02d}", f"{year:04d}-Q{(month - 1) // 3 + 1}", f"{year:04d}", WHOLE


def programmes_of(session: Session, reach: Reach | None) -> list[str]:
    if reach is not None:
        return sorted(code for code, _ in reach.programmes)
    return list(session.scalars(select(Programme.code).order_by(Programme.code)))


def linked_release(
    session: Session,
    reach: Reach | None,
    date_from: date | None = None,
    date_to: date | None = None,
    threshold: int = DEFAULT_THRESHOLD,
    whole_label: str = WHOLE,
) -> Release:
    """Count every table of the release (one query per programme and breakdown) and protect them."""
    codes = programmes_of(session, reach)
    values: dict[Key, int] = defaultdict(int)
    for programme in [None, *codes]:
        prog = programme or ALL_PROGRAMMES
        for dimension in DIMENSIONS:
            scope = Scope(dimension, "month", programme, date_from, date_to, reach)
            for found in count_points(session, scope):
                ym = int(found.period[:4]) * 100 + int(found.period[5:7])
                for period in _periods(ym):
                    for point, n in found.counts.items():
                        values[prog, period, dimension, found.group, point] += n
    groups: dict[str, str] = {
        code: group
        for code, group in session.execute(
            select(EthnicityCode.code, EthnicityCode.ethnic_group).where(
                EthnicityCode.scheme == "self_defined"
            )
        ).all()
    }
    cells = _with_totals(dict(values))
    linked = _relations(cells, codes, groups)
    return Release(threshold, cells, protect(cells, linked, threshold), whole_label)


def _parent(period: str) -> str | None:
    """The period one level up: a month's quarter, a quarter's year, a year's whole range."""
    if period == WHOLE:
        return None
    if "-Q" in period:
        return period[:4]
    if "-" in period:
        return f"{period[:4]}-Q{(int(period[5:7]) - 1) // 3 + 1}"
    return WHOLE


def _with_totals(values: dict[Key, int]) -> dict[Key, int]:
    """Add each breakdown's total; one shared cell where every breakdown counts the same people."""
    totals: dict[tuple[str, str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for (prog, period, dimension, _, point), n in values.items():
        totals[prog, period, point][dimension] += n
    cells = dict(values)
    for (prog, period, point), by_dimension in totals.items():
        if len(set(by_dimension.values())) == 1 and len(by_dimension) == len(DIMENSIONS):
            cells[prog, period, SHARED, ALL_GROUPS, point] = next(iter(by_dimension.values()))
        else:
            for dimension, n in by_dimension.items():
                cells[prog, period, dimension, ALL_GROUPS, point] = n
    return cells


def _relations(cells: dict[Key, int], codes: Sequence[str], ethnic_group: dict[str, str]) -> Linked[Key]:
    def total(prog: str, period: str, dimension: str, point: str) -> Key:
        shared = (prog, period, SHARED, ALL_GROUPS, point)
        return shared if shared in cells else (prog, period, dimension, ALL_GROUPS, point)

    sums: list[Margin[Key]] = []
    members: dict[tuple[Key, str], list[Key]] = defaultdict(list)
    code_groups: dict[Key, list[Key]] = defaultdict(list)
    for key in cells:
        prog, period, dimension, group, point = key
        if group == ALL_GROUPS:
            continue
        members[total(prog, period, dimension, point), dimension].append(key)
        if dimension == "ethnicity_code" and group in ethnic_group:
            code_groups[prog, period, "ethnicity_group", ethnic_group[group], point].append(key)
    sums += [Margin(t, tuple(m)) for (t, _), m in members.items()]
    sums += [Margin(t, tuple(m)) for t, m in code_groups.items() if t in cells]
    # A quarter is the sum of its months, a year of its quarters, the whole range of its years;
    # a total per breakdown, so that a shared month and an unshared quarter still add up.
    by_period: dict[tuple[Key, str], set[Key]] = defaultdict(set)
    for key in cells:
        prog, period, dimension, group, point = key
        parent = _parent(period)
        if parent is None:
            continue
        if group != ALL_GROUPS:
            by_period[(prog, parent, dimension, group, point), dimension].add(key)
            continue
        for d in DIMENSIONS if dimension == SHARED else (dimension,):
            target = total(prog, parent, d, point)
            if total(prog, period, d, point) == key:
                by_period[target, d].add(key)
    unique = {(t, tuple(sorted(m))) for (t, _), m in by_period.items() if t in cells}
    sums += [Margin(t, m) for t, m in sorted(unique)]
    at_most: list[tuple[Key, Key]] = []
    for key in cells:
        prog, period, dimension, group, point = key
        base = next(p.base for p in POINTS if p.name == point)
        if base is not None and (prog, period, dimension, group, base) in cells:
            at_most.append((key, (prog, period, dimension, group, base)))
    # Programmes against all programmes: only where the relation holds in the data (an encounter
    # decided under a programme outside the reach can make "all" larger than the sum).
    at_most_sum: list[Margin[Key]] = []
    for key in cells:
        prog, period, dimension, group, point = key
        if prog != ALL_PROGRAMMES:
            continue
        parts = [(c, *key[1:]) for c in codes if (c, *key[1:]) in cells]
        at_most += [(p, key) for p in parts if cells[p] <= cells[key]]
        if parts and cells[key] <= sum(cells[p] for p in parts):
            at_most_sum.append(Margin(key, tuple(parts)))
    return Linked(sums, [(a, b) for a, b in at_most if cells[a] <= cells[b]], at_most_sum)
